//! `fsq completions SHELL` and `fsq man`: shell completion scripts and the manual page, both
//! generated from the same clap definition as `--help`, so the three never disagree.
//!
//! The manual is one page, `fsq(1)`: the commander's options, then one subsection per command
//! (its synopsis, description and options), the commander's keys (from its key map), then exit
//! status, files and environment.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;

use super::Cli;

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut command = Cli::command();
    // Generated whole first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "fsq", &mut script);
    out.write_all(&script)
}

/// Writes the manual page (roff) to `out`.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let mut command = Cli::command();
    command.build();
    let page = Man::new(command.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    out.write_all(b".SH COMMANDS\n")?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("fsq {}", sub.get_name());
        let sub = sub.clone().bin_name(&name).display_name(&name);
        let mut section = Vec::new();
        let sub_page = Man::new(sub.clone());
        sub_page.render_synopsis_section(&mut section)?;
        sub_page.render_description_section(&mut section)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            sub_page.render_options_section(&mut section)?;
        }
        out.write_all(format!(".SS \"{name}\"\n").as_bytes())?;
        for line in String::from_utf8_lossy(&section).lines() {
            // The subcommand's sections become paragraphs inside its subsection.
            match line.strip_prefix(".SH ") {
                Some(heading) => writeln!(out, ".TP\n\\fI{}\\fR", heading.trim_matches('"'))?,
                None => writeln!(out, "{line}")?,
            }
        }
    }
    // The commander's keys, from the same key map that help shows.
    out.write_all(
        b".SH KEYS\nThe commander's default keys; [tui.keys] in a config changes them.\n.nf\n",
    )?;
    for line in crate::tui::default_key_lines() {
        writeln!(out, "{}", roff_text(&line))?;
    }
    out.write_all(b".fi\n")?;
    out.write_all(TRAILER.as_bytes())
}

/// `text` safe inside a roff paragraph: backslashes and hyphens escaped, no line starting with a
/// control character.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The sections clap knows nothing about.
const TRAILER: &str = r#".SH "EXIT STATUS"
0 on success, 1 on an operational error (the message names the item or the problem), 2 on a
usage error. \fBfsq check\fR exits 1 when it found a problem.
.SH FILES
.TP
\fIQUEUE/_meta/config.toml\fR
The queue's settings: [worker] and [tui]. \fBfsq init\fR writes it with every key commented.
.TP
\fI$XDG_CONFIG_HOME/fsq/config.toml\fR
The operator's own [tui] settings (theme, keys, panes); a queue's [tui] section wins over it.
.TP
\fI$XDG_CONFIG_HOME/fsq/themes/NAME.toml\fR
The operator's themes, used by name like the built-in ones.
.SH ENVIRONMENT
.TP
\fBXDG_CONFIG_HOME\fR
Where the user configuration lives (default \fI~/.config\fR).
.TP
\fBNO_COLOR\fR
When set, the commander draws without colours.
.SH "SEE ALSO"
The queue format: docs/FORMAT.md in the source distribution.
"#;
