//! Escaping for text meant for a terminal or a log (the human, concise and GitHub formats, and
//! messages on standard error): source lines, file names and names taken from comments can hold
//! escape sequences, title changes, bells, C1 controls or bidirectional overrides, which must be
//! shown, never obeyed. As rustc does, C0 controls become their Unicode control pictures (`␛`
//! for ESC); C1 controls, bidirectional controls and line separators become `\u{..}`. JSON and
//! SARIF keep the exact text.

use std::borrow::Cow;

/// How a character is shown, or `None` when it is shown as is. `keep_breaks` keeps `\n` and
/// `\t` (multi-line text); a carriage return is kept only before a line feed.
fn replacement(c: char, next: Option<char>, keep_breaks: bool) -> Option<String> {
    let code = c as u32;
    match c {
        '\n' | '\t' if keep_breaks => None,
        '\r' if keep_breaks && next == Some('\n') => None,
        '\u{7f}' => Some('\u{2421}'.to_string()),
        _ if code < 0x20 => char::from_u32(0x2400 + code).map(String::from),
        '\u{80}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => Some(format!("\\u{{{code:x}}}")),
        _ => None,
    }
}

fn needs_escape(text: &str, keep_breaks: bool) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // Plain ASCII past the controls is the common case.
        if (' '..='~').contains(&c) {
            continue;
        }
        if replacement(c, chars.peek().copied(), keep_breaks).is_some() {
            return true;
        }
    }
    false
}

fn escape_with(text: &str, keep_breaks: bool) -> Cow<'_, str> {
    if !needs_escape(text, keep_breaks) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match replacement(c, chars.peek().copied(), keep_breaks) {
            Some(r) => out.push_str(&r),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes multi-line text (messages, notes, source): line feeds and tabs stay.
pub fn text(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

/// Escapes text that must stay on one line (file names, one-line records): line feeds and tabs
/// are escaped too.
pub fn line(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// Source text with its controls escaped, and the map from byte offsets of the original text
/// to offsets of the escaped one (escapes are longer than the characters they show).
pub struct EscapedSource {
    /// The escaped text.
    pub text: String,
    /// For each escaped character: its offset in the original text and the bytes added by it
    /// and every escape before it.
    shifts: Vec<(usize, usize)>,
}

impl EscapedSource {
    /// Escapes `source` (line breaks, a lone carriage return among them, and tabs stay).
    pub fn new(source: &str) -> Self {
        if !needs_escape(source, true) {
            return EscapedSource {
                text: source.to_string(),
                shifts: Vec::new(),
            };
        }
        let mut text = String::with_capacity(source.len() + 16);
        let mut shifts = Vec::new();
        let mut added = 0;
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            // Every carriage return ends a line of source, as the line index counts them.
            if c == '\r' {
                text.push(c);
                continue;
            }
            match replacement(c, chars.peek().map(|&(_, n)| n), true) {
                Some(r) => {
                    added += r.len() - c.len_utf8();
                    text.push_str(&r);
                    shifts.push((at, added));
                }
                None => text.push(c),
            }
        }
        EscapedSource { text, shifts }
    }

    /// The offset in the escaped text of `offset` in the original (a character's start maps to
    /// the start of what shows it).
    pub fn map(&self, offset: usize) -> usize {
        // Escapes strictly before `offset` shift it.
        let before = self.shifts.partition_point(|&(at, _)| at < offset);
        match before {
            0 => offset,
            n => offset + self.shifts[n - 1].1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert_eq!(text("plain\tline\r\n"), "plain\tline\r\n");
        assert!(matches!(text("plain"), Cow::Borrowed(_)));
        assert_eq!(text("\x1b[31mred\x07"), "\u{241b}[31mred\u{2407}");
        assert_eq!(text("a\rb"), "a\u{240d}b");
        assert_eq!(
            text("\u{9b}2J \u{202e}x\u{2066}"),
            "\\u{9b}2J \\u{202e}x\\u{2066}"
        );
        assert_eq!(line("a\nb\tc"), "a\u{240a}b\u{2409}c");
        assert_eq!(text("\x7f"), "\u{2421}");
    }

    #[test]
    fn offsets_follow_the_escapes() {
        let src = "ab\x1bcd\u{202e}ef";
        let e = EscapedSource::new(src);
        assert_eq!(e.text, "ab\u{241b}cd\\u{202e}ef");
        assert_eq!(&e.text[e.map(0)..e.map(2)], "ab");
        assert_eq!(&e.text[e.map(2)..e.map(3)], "\u{241b}");
        assert_eq!(&e.text[e.map(3)..e.map(5)], "cd");
        let rlo = 5;
        assert_eq!(&e.text[e.map(rlo)..e.map(rlo + 3)], "\\u{202e}");
        assert_eq!(&e.text[e.map(rlo + 3)..], "ef");
    }
}
