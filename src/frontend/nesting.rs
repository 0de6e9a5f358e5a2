//! How deep the syntax tree of a file can be, read from its tokens before it is parsed.
//!
//! Parsers, lowering and the drop of a syntax tree recurse once per level of the tree. The
//! levels come from brackets, but also from prefix operators (`- - x`, `&&&x`, `not not x`,
//! closures and lambdas), from binary and method chains (`1+1+...`, `a.b.b...`: left-nested
//! trees), generic arguments (`Vec<Vec<..>>`), indentation (Python blocks) and f-strings nested in
//! f-strings. A small lexer that knows comments and string literals (so `(/*)*/` and `"}"` do
//! not count) adds them up; a file whose estimate exceeds [`LIMIT`] is not parsed and gets an
//! `analysis-limit` note instead.

use crate::model::Language;

/// Deepest estimate that is parsed and analysed. Real code stays far below (a few hundred at
/// most); the stack of [`super::stack`] is sized for this depth.
pub const LIMIT: u32 = 10_000;

/// The depth estimate of `text`.
pub fn estimate(text: &str, language: Language) -> u32 {
    let mut s = Scan::default();
    match language {
        Language::Rust => rust(text.as_bytes(), &mut s),
        Language::Python => python(text.as_bytes(), &mut s),
    }
    s.max
}

/// What opened a level.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `(`, `[` or `{`.
    Bracket,
    /// `<` of generic arguments (Rust).
    Angle,
    /// `{` of an f-string replacement field (Python).
    Field,
}

/// One open level: what opened it, and the chain and prefix operators of its current expression.
#[derive(Clone, Copy)]
struct Level {
    open: Open,
    chain: u32,
    prefix: u32,
}

/// The running estimate.
struct Scan {
    levels: Vec<Level>,
    /// Sum of `chain + prefix + 1` over `levels`, plus the outermost expression's own counts.
    sum: u64,
    /// Chain and prefix of the outermost expression.
    top: Level,
    /// Indentation levels (Python).
    indent: Vec<usize>,
    max: u32,
    /// Whether the next token starts an operand (so `-`, `&`, `*`, `|` are prefixes).
    expect_operand: bool,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            levels: Vec::new(),
            sum: 0,
            top: Level {
                open: Open::Bracket,
                chain: 0,
                prefix: 0,
            },
            indent: Vec::new(),
            max: 0,
            expect_operand: true,
        }
    }
}

impl Scan {
    fn cur(&mut self) -> &mut Level {
        self.levels.last_mut().unwrap_or(&mut self.top)
    }

    fn note(&mut self) {
        let depth = self.sum + self.indent.len() as u64;
        self.max = self.max.max(depth.min(u32::MAX as u64) as u32);
    }

    fn push(&mut self, open: Open) {
        self.levels.push(Level {
            open,
            chain: 0,
            prefix: 0,
        });
        self.sum += 1;
        self.expect_operand = true;
        self.note();
    }

    fn pop(&mut self) -> Option<Open> {
        let l = self.levels.pop()?;
        self.sum -= 1 + l.chain as u64 + l.prefix as u64;
        self.expect_operand = false;
        Some(l.open)
    }

    /// Closes generic-argument levels left open by a `<` that was a comparison.
    fn pop_angles(&mut self) {
        while self.levels.last().is_some_and(|l| l.open == Open::Angle) {
            self.pop();
        }
    }

    /// Closes the innermost level opened by `open` (and any stray angle levels above it).
    fn close(&mut self, open: Open) {
        self.pop_angles();
        if self.levels.last().is_some_and(|l| l.open == open) {
            self.pop();
        }
        self.expect_operand = false;
    }

    fn chain(&mut self) {
        self.cur().chain += 1;
        self.sum += 1;
        self.expect_operand = true;
        self.note();
    }

    fn prefix(&mut self, n: u32) {
        self.cur().prefix += n;
        self.sum += n as u64;
        self.expect_operand = true;
        self.note();
    }

    /// A new expression starts at this level (`,`, `;`, `=>`, a new line).
    fn restart(&mut self) {
        let l = self.cur();
        let n = l.chain as u64 + l.prefix as u64;
        l.chain = 0;
        l.prefix = 0;
        self.sum -= n;
        self.expect_operand = true;
    }

    fn operand(&mut self) {
        self.expect_operand = false;
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Skips a quoted literal starting at the quote `at`; returns the index after it.
fn skip_quoted(b: &[u8], at: usize, quote: u8) -> usize {
    let mut i = at + 1;
    while i < b.len() {
        match memchr::memchr2(b'\\', quote, &b[i..]) {
            Some(k) if b[i + k] == quote => return i + k + 1,
            Some(k) => i += k + 2,
            None => break,
        }
    }
    b.len()
}

fn rust(b: &[u8], s: &mut Scan) {
    let mut i = 0;
    let n = b.len();
    while i < n {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(n, |k| i + k);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0u32;
                while i < n {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i = skip_quoted(b, i, b'"');
                s.operand();
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i = skip_quoted(b, i, b'\'');
                } else {
                    let mut j = i + 1;
                    if j < n {
                        j += utf8_len(b[j]);
                    }
                    if b.get(j) == Some(&b'\'') {
                        i = j + 1;
                    } else {
                        i += 1;
                        while i < n && is_ident(b[i]) {
                            i += 1;
                        }
                    }
                }
                s.operand();
            }
            b'(' | b'[' => {
                i += 1;
                s.push(Open::Bracket);
            }
            b'{' => {
                i += 1;
                s.pop_angles();
                s.push(Open::Bracket);
            }
            b')' | b']' => {
                i += 1;
                s.close(Open::Bracket);
            }
            b'}' => {
                // A block ends: what follows it starts a new statement or item.
                i += 1;
                s.close(Open::Bracket);
                s.restart();
                s.expect_operand = false;
            }
            b';' | b',' => {
                i += 1;
                if c == b';' {
                    s.pop_angles();
                }
                s.restart();
            }
            b'<' => {
                if matches!(b.get(i + 1), Some(b'=' | b'<' | b'-')) {
                    i += 2;
                    s.chain();
                } else {
                    i += 1;
                    // After a path segment, `<` opens generic arguments; elsewhere it compares.
                    let prev = b[..i - 1].iter().rev().find(|c| !c.is_ascii_whitespace());
                    if prev.is_some_and(|&p| is_ident(p) || p == b':') {
                        s.push(Open::Angle);
                    } else {
                        s.chain();
                    }
                }
            }
            b'>' => {
                let prev = if i > 0 { b[i - 1] } else { 0 };
                i += 1;
                if prev == b'-' || prev == b'=' {
                    // `->` and `=>`.
                    if prev == b'=' {
                        s.restart();
                    }
                    s.expect_operand = true;
                } else if b.get(i) == Some(&b'=') {
                    i += 1;
                    s.chain();
                } else if s.levels.last().is_some_and(|l| l.open == Open::Angle) {
                    s.pop();
                } else {
                    s.chain();
                }
            }
            b'|' => {
                if s.expect_operand {
                    // A closure head: `|a, b|` or `||`.
                    if b.get(i + 1) == Some(&b'|') {
                        i += 2;
                    } else {
                        i += 1;
                        while i < n && b[i] != b'|' {
                            i += 1;
                        }
                        i += 1;
                    }
                    s.prefix(1);
                } else {
                    i += if b.get(i + 1) == Some(&b'|') { 2 } else { 1 };
                    s.chain();
                }
            }
            b'-' | b'!' | b'*' | b'&' => {
                let double = c == b'&' && b.get(i + 1) == Some(&b'&');
                i += if double { 2 } else { 1 };
                if b.get(i) == Some(&b'=') && !s.expect_operand {
                    i += 1;
                    s.restart();
                } else if s.expect_operand {
                    s.prefix(if double { 2 } else { 1 });
                } else {
                    s.chain();
                }
            }
            b'.' => {
                if b.get(i + 1) == Some(&b'.') {
                    i += 2;
                    s.expect_operand = true;
                } else {
                    i += 1;
                    s.chain();
                }
            }
            b'+' | b'/' | b'%' | b'^' => {
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    s.restart();
                } else {
                    s.chain();
                }
            }
            b'=' => {
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    s.chain();
                } else if b.get(i) != Some(&b'>') {
                    s.restart();
                }
            }
            b':' => {
                i += 1;
                s.expect_operand = true;
            }
            c if is_ident(c) => {
                let start = i;
                while i < n && is_ident(b[i]) {
                    i += 1;
                }
                let word = &b[start..i];
                // Raw and byte strings: r"..", r#".."#, b"..", br"..", c"..".
                if matches!(word, b"r" | b"br" | b"cr" | b"b" | b"c")
                    && matches!(b.get(i), Some(b'"') | Some(b'#'))
                {
                    if word.ends_with(b"r") {
                        let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
                        if b.get(i + hashes) == Some(&b'"') {
                            let close: Vec<u8> = std::iter::once(b'"')
                                .chain(std::iter::repeat_n(b'#', hashes))
                                .collect();
                            i += hashes + 1;
                            i = memchr::memmem::find(&b[i..], &close)
                                .map_or(n, |at| i + at + close.len());
                            s.operand();
                            continue;
                        }
                    } else if b.get(i) == Some(&b'"') {
                        i = skip_quoted(b, i, b'"');
                        s.operand();
                        continue;
                    }
                }
                match word {
                    b"move" | b"return" | b"box" | b"break" | b"mut" | b"dyn" | b"impl" => {
                        s.prefix(1)
                    }
                    b"as" | b"else" => s.chain(),
                    b"in" | b"let" | b"if" | b"match" | b"while" => s.expect_operand = true,
                    _ => s.operand(),
                }
            }
            _ => i += 1,
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

/// Python string prefixes: which letters precede a quote, and whether they make an f-string.
fn string_prefix(word: &[u8]) -> Option<bool> {
    if word.len() > 2 {
        return None;
    }
    let mut f = false;
    for &c in word {
        match c.to_ascii_lowercase() {
            b'f' | b't' => f = true,
            b'r' | b'b' | b'u' => {}
            _ => return None,
        }
    }
    Some(f)
}

/// An f-string being scanned: its quote, whether it is triple-quoted, and the level of
/// replacement fields open when it started.
struct FStr {
    quote: u8,
    triple: bool,
    fields_at: usize,
}

fn python(b: &[u8], s: &mut Scan) {
    let n = b.len();
    let mut i = 0;
    let mut fstrings: Vec<FStr> = Vec::new();
    let mut line_start = true;
    while i < n {
        // Inside an f-string's literal part: scan to a replacement field or the closing quote.
        if let Some(fs) = fstrings.last()
            && s.levels.len() == fs.fields_at
        {
            let (quote, triple) = (fs.quote, fs.triple);
            let c = b[i];
            if c == b'\\' {
                i += 2;
            } else if c == quote && (!triple || b[i..].starts_with(&[quote, quote, quote])) {
                i += if triple { 3 } else { 1 };
                fstrings.pop();
                s.pop();
            } else if c == b'{' && b.get(i + 1) == Some(&b'{') {
                i += 2;
            } else if c == b'{' {
                i += 1;
                s.push(Open::Field);
            } else {
                i += 1;
            }
            continue;
        }
        let c = b[i];
        if line_start && s.levels.is_empty() {
            // Indentation of a logical line.
            let width = b[i..]
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
            let rest = b.get(i + width).copied();
            if !matches!(rest, Some(b'\n') | Some(b'\r') | Some(b'#') | None) {
                while s.indent.last().is_some_and(|&w| w > width) {
                    s.indent.pop();
                }
                if width > 0 && s.indent.last().is_none_or(|&w| w < width) {
                    s.indent.push(width);
                }
                s.note();
            }
            i += width;
            line_start = false;
            continue;
        }
        match c {
            b'\n' => {
                i += 1;
                if s.levels.is_empty() {
                    s.restart();
                    line_start = true;
                }
            }
            b'\\' => i += 2,
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            b'#' => i = memchr::memchr(b'\n', &b[i..]).map_or(n, |at| i + at),
            b'"' | b'\'' => {
                i = skip_string(b, i, c);
                s.operand();
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                s.push(Open::Bracket);
            }
            b')' | b']' => {
                i += 1;
                s.close(Open::Bracket);
            }
            b'}' => {
                i += 1;
                if s.levels.last().is_some_and(|l| l.open == Open::Field) {
                    s.pop();
                } else {
                    s.close(Open::Bracket);
                }
            }
            b':' => {
                i += 1;
                s.expect_operand = true;
            }
            b',' | b';' | b'=' => {
                i += 1;
                if c == b'=' && b.get(i) == Some(&b'=') {
                    i += 1;
                    s.chain();
                } else {
                    s.restart();
                }
            }
            b'-' | b'+' | b'~' | b'*' => {
                i += 1;
                if c == b'*' && b.get(i) == Some(&b'*') {
                    i += 1;
                }
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    s.restart();
                } else if s.expect_operand {
                    s.prefix(1);
                } else {
                    s.chain();
                }
            }
            b'.' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' | b'<' | b'>' | b'!' => {
                i += 1;
                while i < n && matches!(b[i], b'/' | b'<' | b'>' | b'=') {
                    i += 1;
                }
                s.chain();
            }
            c if IDENT[c as usize] => {
                let start = i;
                while i < n && IDENT[b[i] as usize] {
                    i += 1;
                }
                let word = &b[start..i];
                if let (Some(&q @ (b'"' | b'\'')), Some(is_f)) = (b.get(i), string_prefix(word)) {
                    if is_f {
                        let triple = b[i..].starts_with(&[q, q, q]);
                        i += if triple { 3 } else { 1 };
                        s.push(Open::Bracket);
                        fstrings.push(FStr {
                            quote: q,
                            triple,
                            fields_at: s.levels.len(),
                        });
                    } else {
                        i = skip_string(b, i, q);
                        s.operand();
                    }
                    continue;
                }
                match word {
                    b"not" | b"await" | b"lambda" | b"yield" | b"return" => s.prefix(1),
                    b"and" | b"or" | b"if" | b"else" | b"in" | b"is" => s.chain(),
                    _ => s.operand(),
                }
            }
            _ => i += 1,
        }
    }
}

/// [`is_ident`] as a table, for the Python scan's inner loop.
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        c += 1;
    }
    t
};

/// Skips a (possibly triple-quoted) Python string literal whose quote is at `at`.
fn skip_string(b: &[u8], at: usize, quote: u8) -> usize {
    if b[at..].starts_with(&[quote, quote, quote]) {
        let mut i = at + 3;
        while i < b.len() {
            // Only escapes and quotes matter inside the literal.
            match memchr::memchr2(b'\\', quote, &b[i..]) {
                None => return b.len(),
                Some(at) => i += at,
            }
            if b[i] == b'\\' {
                i += 2;
            } else if b[i..].starts_with(&[quote, quote, quote]) {
                return i + 3;
            } else {
                i += 1;
            }
        }
        b.len()
    } else {
        let mut i = at + 1;
        while i < b.len() {
            match memchr::memchr3(b'\\', b'\n', quote, &b[i..]) {
                None => return b.len(),
                Some(at) => i += at,
            }
            match b[i] {
                b'\\' => i += 2,
                b'\n' => return i,
                _ => return i + 1,
            }
        }
        b.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(t: &str) -> u32 {
        estimate(t, Language::Rust)
    }
    fn py(t: &str) -> u32 {
        estimate(t, Language::Python)
    }

    #[test]
    fn brackets_in_comments_and_strings_do_not_count() {
        let hidden = format!(
            "fn f() {{ let x = {}; }}",
            "(/*)*/".repeat(50) + &")".repeat(50)
        );
        assert!(rs(&hidden) < 60, "{}", rs(&hidden));
        let strings = format!(
            "fn f() {{ let s = \"{}\"; let c = '{{'; }}",
            "{".repeat(500)
        );
        assert!(rs(&strings) < 10, "{}", rs(&strings));
        let raw = format!("fn f() {{ let s = r#\"{}\"#; }}", "(".repeat(500));
        assert!(rs(&raw) < 10);
        assert!(
            py(&format!(
                "x = '{}'  # {}\n",
                "[".repeat(300),
                "(".repeat(300)
            )) < 10
        );
    }

    #[test]
    fn every_recursive_shape_counts() {
        let n = 20_000;
        let shapes = [
            format!("fn f() {{ let x = {}1{}; }}", "(".repeat(n), ")".repeat(n)),
            format!("fn f() {{ let x = {}1; }}", "-".repeat(n)),
            format!("fn f() {{ let x = {}1; }}", "&".repeat(n)),
            format!("fn f() {{ let x = {}1; }}", "|| ".repeat(n)),
            format!("fn f() {{ let x = a{}; }}", ".b".repeat(n)),
            format!("fn f() {{ let x = 1{}; }}", "+1".repeat(n)),
            format!("type T = {}u8{};", "Vec<".repeat(n), ">".repeat(n)),
        ];
        for s in &shapes {
            assert!(rs(s) > LIMIT, "{}: {}", &s[..40], rs(s));
        }
        let py_shapes = [
            format!("x = {}1\n", "not ".repeat(n)),
            format!("x = 1{}\n", "+1".repeat(n)),
            format!("x = {}{}\n", "[".repeat(n), "]".repeat(n)),
            format!("x = {}1\n", "lambda: ".repeat(n)),
        ];
        for s in &py_shapes {
            assert!(py(s) > LIMIT, "{}: {}", &s[..30], py(s));
        }
        let mut f = String::from("1");
        for k in 0..n {
            let q = if k % 2 == 0 { '"' } else { '\'' };
            f = format!("f{q}{{{f}}}{q}");
        }
        assert!(py(&format!("x = {f}\n")) > LIMIT);
        let mut nested = String::new();
        for k in 0..n {
            nested.push_str(&" ".repeat(k));
            nested.push_str("def f():\n");
        }
        assert!(py(&nested) > LIMIT);
    }

    #[test]
    fn ordinary_code_is_shallow() {
        let rust = "use std::collections::HashMap;\nfn f(a: u32, b: u32) -> bool {\n    let m: HashMap<String, Vec<u8>> = HashMap::new();\n    if a < b && b > 3 { return m.is_empty(); }\n    let c = |x: u32| x + 1;\n    c(a) >= 2 && 'x' != '\\n'\n}\nfn g<'a>(s: &'a str) -> &'a str { s }\n";
        assert!(rs(rust) < 20, "{}", rs(rust));
        let python = "import asyncio\n\nasync def main(a, b):\n    if a < b and not b:\n        x = f\"{a!r:>10} {{b}} {b['k']}\"\n        return await asyncio.sleep(-1)\n    return [i for i in range(3) if i > 1]\n";
        assert!(py(python) < 20, "{}", py(python));
    }
}
