fn main() -> std::process::ExitCode {
    fsq::cli::main()
}
