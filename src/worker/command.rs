//! Command templates: an argv list whose placeholders are replaced inside each argument, byte for
//! byte. No shell ever sees a file name, so a name can only ever become (part of) one argument.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// What the placeholders of one item stand for.
pub struct Vars<'a> {
    /// `{input}`: absolute path of the claimed file.
    pub input: &'a Path,
    /// `{name}`: display name, without sort key and id.
    pub name: &'a OsStr,
    /// `{out}`: the output folder.
    pub out: &'a Path,
    /// `{queue}`: the queue folder.
    pub queue: &'a Path,
    /// `{reason}`: why the item failed (hooks only).
    pub reason: Option<&'a str>,
    /// Placeholders of queue events (`{host}`, `{worker}`, `{count}`), by name.
    pub extra: &'a [(&'static str, &'a str)],
}

impl Vars<'_> {
    fn lookup(&self, key: &str) -> Option<&[u8]> {
        let name = self.name.as_bytes();
        if let Some((_, value)) = self.extra.iter().find(|(k, _)| *k == key) {
            return Some(value.as_bytes());
        }
        Some(match key {
            "input" => self.input.as_os_str().as_bytes(),
            "name" => name,
            "stem" => split_ext(name).0,
            "ext" => split_ext(name).1,
            "out" => self.out.as_os_str().as_bytes(),
            "queue" => self.queue.as_os_str().as_bytes(),
            "reason" => self.reason.unwrap_or_default().as_bytes(),
            _ => return None,
        })
    }
}

/// `movie.tar.gz` -> (`movie.tar`, `gz`); a leading dot is not an extension.
fn split_ext(name: &[u8]) -> (&[u8], &[u8]) {
    match name.iter().rposition(|b| *b == b'.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot + 1..]),
        _ => (name, b""),
    }
}

/// Whether any argument of `template` mentions `{key}`.
pub fn uses(template: &[String], key: &str) -> bool {
    let needle = format!("{{{key}}}");
    template.iter().any(|arg| arg.contains(&needle))
}

/// The argv for one item. Unknown `{words}` and lone braces stay as they are.
pub fn expand(template: &[String], vars: &Vars<'_>) -> Vec<OsString> {
    template.iter().map(|arg| expand_one(arg, vars)).collect()
}

fn expand_one(arg: &str, vars: &Vars<'_>) -> OsString {
    let mut out = Vec::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| Some((close, vars.lookup(&after[..close])?)));
        match value {
            Some((close, value)) => {
                out.extend_from_slice(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push(b'{');
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    OsString::from_vec(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(name: &'a OsStr) -> Vars<'a> {
        Vars {
            input: Path::new("/q/process/w/V!a b.mp4"),
            name,
            out: Path::new("/q/_out"),
            queue: Path::new("/q"),
            reason: Some("exit code 1"),
            extra: &[],
        }
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn placeholders_are_replaced_inside_arguments() {
        let template: Vec<String> = ["ffmpeg", "-i", "{input}", "{out}/{stem}.mp3", "{ext}:{x}{"]
            .map(String::from)
            .to_vec();
        let argv = strings(expand(&template, &vars(OsStr::new("a b.mp4"))));
        assert_eq!(
            argv,
            [
                "ffmpeg",
                "-i",
                "/q/process/w/V!a b.mp4",
                "/q/_out/a b.mp3",
                "mp4:{x}{"
            ]
        );
        let argv = strings(expand(
            &["{name}|{stem}|{ext}|{queue}|{reason}".to_string()],
            &vars(OsStr::new(".hidden")),
        ));
        assert_eq!(argv, [".hidden|.hidden||/q|exit code 1"]);
    }

    #[test]
    fn hostile_names_stay_one_argument() {
        let name = OsStr::from_bytes(b"$(touch X);`id`|&\n-rf \xff");
        let argv = expand(&["{name}".to_string()], &vars(name));
        assert_eq!(argv, [name.to_os_string()]);
        assert!(uses(&["x{out}y".to_string()], "out"));
        assert!(!uses(&["{input}".to_string()], "out"));
    }
}
