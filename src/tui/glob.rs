//! Shell-style patterns for `+` / `-` selection: `*` any run, `?` one character, `[abc]`,
//! `[a-z]` and `[!a-z]` (or `[^a-z]`) one character of a set, everything else literal (an
//! unclosed `[` too). Small enough that a crate is not worth it.

/// Whether `name` matches `pattern` as a whole.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    // Where the last `*` was, and the name position it matched up to: the backtrack point.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some('?') => {
                p += 1;
                n += 1;
            }
            Some('[') if class_end(&pattern, p).is_some() => {
                let end = class_end(&pattern, p).unwrap_or(p);
                if in_class(&pattern[p + 1..end], name[n]) {
                    p = end + 1;
                    n += 1;
                } else if let Some((sp, sn)) = star {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                } else {
                    return false;
                }
            }
            Some(c) if *c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Where the class opened at `open` closes: the first `]` after the first member (so `[]]`
/// holds `]`), or `None` when it never does (then `[` is literal).
fn class_end(pattern: &[char], open: usize) -> Option<usize> {
    let mut at = open + 1;
    if matches!(pattern.get(at), Some('!' | '^')) {
        at += 1;
    }
    at += 1;
    (at..pattern.len()).find(|&i| pattern[i] == ']')
}

/// Whether `c` is in the class body (what is between the brackets).
fn in_class(body: &[char], c: char) -> bool {
    let (negated, body) = match body.first() {
        Some('!' | '^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut found = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            found |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            found |= body[i] == c;
            i += 1;
        }
    }
    found != negated
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*", "anything"));
        assert!(matches("*.mp4", "a.b.mp4"));
        assert!(!matches("*.mp4", "a.mp4.part"));
        assert!(matches("a?c*", "abcdef"));
        assert!(matches("*x*y", "axxbyy"));
        assert!(!matches("a", "ab"));
        assert!(matches("", ""));
    }

    #[test]
    fn select_patterns_with_brackets_match_a_set() {
        assert!(matches("IMG_000[1-3].JPG", "IMG_0002.JPG"));
        assert!(!matches("IMG_000[1-3].JPG", "IMG_0004.JPG"));
        assert!(matches("*.[jJ][pP][gG]", "holiday.JpG"));
        assert!(matches("[!a]*", "b.txt") && !matches("[!a]*", "a.txt"));
        assert!(matches("[^a]*", "b.txt"));
        assert!(matches("[]]x", "]x"));
        assert!(matches("a[", "a["), "an unclosed bracket is literal");
        assert!(matches("*[0-9]*", "report 2024.pdf"));
        assert!(!matches("*[0-9]*", "report.pdf"));
    }
}
