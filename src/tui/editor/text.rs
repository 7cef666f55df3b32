//! What the editor accepts as text, and how it keeps the file's line endings and final newline
//! so that an unchanged text saves byte for byte.

/// How lines end in the file, kept on save.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
}

/// Splits file bytes into lines for the textarea, or says why they are not editable text.
pub fn decode(bytes: &[u8]) -> Result<(Vec<String>, LineEnding, bool), String> {
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(format!("a NUL byte at offset {at}"));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|err| format!("invalid UTF-8 at byte {}", err.valid_up_to()))?;
    let crlf = text.contains("\r\n") && text.matches('\n').count() == text.matches("\r\n").count();
    let line_ending = if crlf {
        LineEnding::CrLf
    } else {
        LineEnding::Lf
    };
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            if crlf {
                line.strip_suffix('\r').unwrap_or(line)
            } else {
                line
            }
        })
        .map(str::to_string)
        .collect();
    for (number, line) in lines.iter().enumerate() {
        if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
            return Err(format!(
                "a control character U+{:04X} on line {}",
                c as u32,
                number + 1
            ));
        }
    }
    let trailing_newline = lines.len() > 1 && lines.last().is_some_and(String::is_empty);
    if trailing_newline {
        lines.pop();
    }
    Ok((lines, line_ending, trailing_newline))
}
