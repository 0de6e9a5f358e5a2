//! How deep the syntax tree of a file can be, read from its tokens before it is parsed.
//!
//! Parsers, lowering and the drop of a syntax tree recurse once per level of the tree. The
//! levels come from brackets, but also from prefix operators (`- - x`, `&&&x`, `not not x`,
//! closures and lambdas), from binary and postfix chains (`1+1+...`, `a.b.b...`, `f()()`,
//! `a???`: left-nested trees), generic arguments and qualified paths (`Vec<Vec<..>>`,
//! `<<T as A>::B as C>::D`), `else if` chains, indentation (Python blocks) and f-strings nested
//! in f-strings. A small lexer that knows comments and string literals (so `(/*)*/` and `"}"` do
//! not count) adds them up; a file whose estimate exceeds [`LIMIT`] is not parsed and gets an
//! `analysis-limit` note instead.
//!
//! The estimate errs on the high side. A new expression starts only where one surely does (a
//! `,` or `;` directly inside the level, a `}` that nothing continues, a Python line end), so a
//! prefix operator's count is never dropped while its operand is still being read; closure and
//! lambda heads are levels of their own, so their `,` do not end the expression around them.
//! Beyond that structure, any run of tokens that cannot end an operand (`<<<`, `&<|`, `#[`,
//! `..`, `not lambda:`) counts one level per token above the depth where it starts: a run of
//! openers the structure misreads is still counted in full.

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
    /// `<` of generic arguments or of a qualified path (Rust).
    Angle,
    /// `|` of a closure's parameters (Rust), closed by the next `|` directly inside it.
    Pipe,
    /// `lambda` of a lambda's parameters (Python), closed by the next `:` directly inside it.
    Lambda,
    /// `{` of an f-string replacement field (Python).
    Field,
}

impl Open {
    /// Levels that no bracket closes: a closing bracket, a `;` or a line end ends them too.
    fn soft(self) -> bool {
        matches!(self, Open::Angle | Open::Pipe | Open::Lambda)
    }
}

/// One open level: what opened it, and the chain and prefix operators of its current expression.
#[derive(Clone, Copy)]
struct Level {
    open: Open,
    /// The innermost opener other than an angle, at or below this level.
    under_angles: Open,
    chain: u32,
    prefix: u32,
}

/// The running estimate.
struct Scan {
    levels: Vec<Level>,
    /// Sum of `chain + prefix + 1` over `levels`, plus the outermost expression's own counts.
    sum: u64,
    /// How many of `levels` are not soft.
    hard: usize,
    /// Chain and prefix of the outermost expression.
    top: Level,
    /// Indentation levels (Python).
    indent: Vec<usize>,
    max: u32,
    /// Whether the next token starts an operand (so `-`, `&`, `*`, `|` are prefixes).
    expect_operand: bool,
    /// Tokens since the last one that can end an operand (an operand or a closing bracket).
    run: u64,
    /// `sum` where the current run started.
    run_base: u64,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            levels: Vec::new(),
            sum: 0,
            hard: 0,
            top: Level {
                open: Open::Bracket,
                under_angles: Open::Bracket,
                chain: 0,
                prefix: 0,
            },
            indent: Vec::new(),
            max: 0,
            expect_operand: true,
            run: 0,
            run_base: 0,
        }
    }
}

impl Scan {
    fn cur(&mut self) -> &mut Level {
        self.levels.last_mut().unwrap_or(&mut self.top)
    }

    fn note(&mut self) {
        let depth = self.sum.max(self.run_base + self.run) + self.indent.len() as u64;
        self.max = self.max.max(depth.min(u32::MAX as u64) as u32);
    }

    /// `n` more tokens that cannot end an operand.
    fn step(&mut self, n: u64) {
        if self.run == 0 {
            self.run_base = self.sum;
        }
        self.run += n;
        self.note();
    }

    fn push(&mut self, open: Open) {
        let under_angles = match (open, self.levels.last()) {
            (Open::Angle, Some(l)) => l.under_angles,
            (Open::Angle, None) => Open::Bracket,
            _ => open,
        };
        self.hard += usize::from(!open.soft());
        self.levels.push(Level {
            open,
            under_angles,
            chain: 0,
            prefix: 0,
        });
        self.sum += 1;
        self.expect_operand = true;
        self.step(1);
    }

    fn pop(&mut self) -> Option<Open> {
        let l = self.levels.pop()?;
        self.hard -= usize::from(!l.open.soft());
        self.sum -= 1 + l.chain as u64 + l.prefix as u64;
        self.expect_operand = false;
        self.run = 0;
        Some(l.open)
    }

    /// Closes the levels left open above the innermost bracket: generic-argument levels opened
    /// by a `<` that was a comparison, heads that never closed.
    fn pop_soft(&mut self) {
        while self.levels.last().is_some_and(|l| l.open.soft()) {
            self.pop();
        }
    }

    /// Closes generic-argument levels left open by a `<` that was a comparison.
    fn pop_angles(&mut self) {
        while self.levels.last().is_some_and(|l| l.open == Open::Angle) {
            self.pop();
        }
    }

    /// Whether the innermost level other than generic arguments is `open`.
    fn inside(&self, open: Open) -> bool {
        self.levels.last().is_some_and(|l| l.under_angles == open)
    }

    /// Closes the innermost level opened by `open` (and any soft levels above it).
    fn close(&mut self, open: Open) {
        self.pop_soft();
        if self.levels.last().is_some_and(|l| l.open == open) {
            self.pop();
        }
        self.expect_operand = false;
        self.run = 0;
    }

    fn chain(&mut self) {
        self.cur().chain += 1;
        self.sum += 1;
        self.expect_operand = true;
        self.step(1);
    }

    fn prefix(&mut self, n: u32) {
        self.cur().prefix += n;
        self.sum += n as u64;
        self.expect_operand = true;
        self.step(n as u64);
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
        self.run = 0;
    }

    /// A bracket opens: after an operand it is a call or an index, one more link of a chain.
    fn open_bracket(&mut self) {
        if !self.expect_operand {
            self.chain();
        }
        self.push(Open::Bracket);
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
                s.open_bracket();
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
                // A block ends. What follows starts a new statement or item, unless it goes on
                // with the expression the block ends (`{1} + {1}`, `} else if .. {`, `}.f()`).
                i += 1;
                s.close(Open::Bracket);
                if !continues_block(b, i) {
                    s.restart();
                }
                s.expect_operand = false;
            }
            b';' => {
                i += 1;
                s.pop_soft();
                s.restart();
            }
            b',' => {
                i += 1;
                s.restart();
            }
            b'<' => {
                let prev = b[..i].iter().rev().find(|c| !c.is_ascii_whitespace());
                let after_path = prev.is_some_and(|&p| is_ident(p) || p == b':');
                let after_operand = !s.expect_operand && prev.is_none_or(|&p| p != b':');
                if b.get(i + 1) == Some(&b'=') {
                    i += 2;
                    s.chain();
                } else if b.get(i + 1) == Some(&b'<') && after_operand {
                    // A shift (`a << b`, `a <<= b`), or generic arguments opening with a
                    // qualified path (`Vec<<T as A>::B>`): one level, and the run of `<`
                    // counts each.
                    i += 2;
                    if b.get(i) == Some(&b'=') {
                        i += 1;
                    }
                    s.chain();
                    s.step(1);
                } else {
                    i += 1;
                    // After a path segment, `<` opens generic arguments, and where an operand,
                    // a type or a pattern starts it opens a qualified path; elsewhere it
                    // compares.
                    if s.expect_operand || after_path {
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
                if s.inside(Open::Pipe) {
                    // The end of a closure's parameters: its body follows.
                    i += 1;
                    s.pop_angles();
                    s.pop();
                    s.expect_operand = true;
                } else if s.expect_operand {
                    // A closure: `||`, or a head `|a, b|` whose patterns are read as a level.
                    if b.get(i + 1) == Some(&b'|') {
                        i += 2;
                        s.prefix(1);
                        s.step(1);
                    } else {
                        i += 1;
                        s.prefix(1);
                        s.push(Open::Pipe);
                    }
                } else {
                    i += if b.get(i + 1) == Some(&b'|') { 2 } else { 1 };
                    s.chain();
                }
            }
            b'-' | b'!' | b'*' | b'&' => {
                let double = c == b'&' && b.get(i + 1) == Some(&b'&');
                i += if double { 2 } else { 1 };
                if b.get(i) == Some(&b'=') && !s.expect_operand {
                    // `-=`, `!=`, `*=`, `&=`: assignments nest to the right, like comparisons.
                    i += 1;
                    s.chain();
                } else if s.expect_operand {
                    s.prefix(if double { 2 } else { 1 });
                } else {
                    s.chain();
                    if double {
                        s.step(1);
                    }
                }
            }
            b'.' => {
                if b.get(i + 1) == Some(&b'.') {
                    // `..`, `..=`, `...`: a range, open at either end.
                    i += 2;
                    if matches!(b.get(i), Some(b'=' | b'.')) {
                        i += 1;
                    }
                    if s.expect_operand {
                        s.prefix(1);
                    } else {
                        s.chain();
                    }
                } else {
                    i += 1;
                    s.chain();
                }
            }
            b'?' | b'@' => {
                // `a?`: a postfix link; `a @ pat`: a binding whose pattern nests.
                i += 1;
                s.chain();
                if c == b'?' {
                    s.expect_operand = false;
                }
            }
            b'#' => {
                // An attribute: `#[..]`, `#![..]`.
                i += 1;
                s.step(1);
                s.expect_operand = true;
            }
            b'+' | b'/' | b'%' | b'^' => {
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                }
                s.chain();
            }
            b'=' => {
                // `a = b = c` nests to the right: a link of the chain, never a new expression.
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    s.chain();
                } else if b.get(i) != Some(&b'>') {
                    s.chain();
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
                    b"move" | b"return" | b"box" | b"break" | b"mut" | b"dyn" | b"impl"
                    | b"async" | b"unsafe" | b"yield" | b"const" | b"ref" | b"static" | b"for" => {
                        s.prefix(1)
                    }
                    b"as" | b"else" => s.chain(),
                    b"in" | b"let" | b"if" | b"match" | b"while" | b"where" => {
                        s.expect_operand = true;
                        s.step(1);
                    }
                    _ => s.operand(),
                }
            }
            _ => i += 1,
        }
    }
}

/// Whether the token after a `}` ending at `at` goes on with the expression the block ends: an
/// operator, a postfix, `else` or `as`. A new item or statement (a word, an attribute, a
/// literal, a label) does not. A comment is skipped.
fn continues_block(b: &[u8], mut at: usize) -> bool {
    loop {
        while b.get(at).is_some_and(|c| c.is_ascii_whitespace()) {
            at += 1;
        }
        match (b.get(at), b.get(at + 1)) {
            (Some(b'/'), Some(b'/')) => {
                at = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |k| at + k);
            }
            (Some(b'/'), Some(b'*')) => match memchr::memmem::find(&b[at..], b"*/") {
                Some(k) => at += k + 2,
                None => return false,
            },
            _ => break,
        }
    }
    match b.get(at) {
        None => false,
        Some(&c) if is_ident(c) => {
            let end = b[at..]
                .iter()
                .position(|&c| !is_ident(c))
                .map_or(b.len(), |k| at + k);
            matches!(&b[at..end], b"else" | b"as")
        }
        Some(b'}' | b')' | b']' | b';' | b',' | b'#' | b'\'' | b'"') => false,
        Some(_) => true,
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
                // A lambda head left open ends with its line.
                if s.hard == 0 {
                    s.pop_soft();
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
            b'(' | b'[' => {
                i += 1;
                s.open_bracket();
            }
            b'{' => {
                i += 1;
                s.push(Open::Bracket);
            }
            b')' | b']' => {
                i += 1;
                s.close(Open::Bracket);
            }
            b'}' => {
                i += 1;
                s.pop_soft();
                if s.levels.last().is_some_and(|l| l.open == Open::Field) {
                    s.pop();
                } else {
                    s.close(Open::Bracket);
                }
            }
            b':' => {
                i += 1;
                if s.levels.last().is_some_and(|l| l.open == Open::Lambda) {
                    // The end of a lambda's parameters: its body follows.
                    s.pop();
                }
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
                    b"lambda" => {
                        s.prefix(1);
                        s.push(Open::Lambda);
                    }
                    b"not" | b"await" | b"yield" | b"return" | b"from" => s.prefix(1),
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

    /// Runs of tokens that open a level without a bracket, in every place that takes a
    /// type, a pattern or an expression.
    #[test]
    fn runs_of_openers_count_wherever_they_stand() {
        let n = 20_000;
        let runs = [
            "<", "<<", "|<", "&<", "::<", "-<", "*<", "!<", "<&", "<(", "<|", "#[", "..", "..=",
            "?", "&'a ", "dyn ", "impl ", "as ", "if ", "match ", "else if ", "= ", "+= ", "@ ",
            "|| ", "|", "&&", "for<'a> ",
        ];
        let places = [
            "fn f() { x.map(|RUN| 1); }",
            "fn f() { x.map(|RUN",
            "type T = RUN u8;",
            "type T = Vec<RUN u8>;",
            "fn f() { let RUN x = 1; }",
            "fn f() { match x { RUN A => 1 } }",
            "fn f() { let x = RUN 1; }",
            "fn f() { f::RUN u8(); }",
            "fn f(a: RUN) {}",
            "impl RUN X {}",
        ];
        for run in runs {
            for place in places {
                let text = place.replace("RUN", &run.repeat(n));
                assert!(rs(&text) > LIMIT, "{place} with {run:?}: {}", rs(&text));
            }
        }
        let chains = [
            format!("fn f() {{ let x = a{}; }}", "?".repeat(n)),
            format!("fn f() {{ let x = a{}; }}", "()".repeat(n)),
            format!("fn f() {{ let x = a{}; }}", "[0]".repeat(n)),
            format!("fn f() {{ {}a = 1; }}", "a = ".repeat(n)),
            format!("fn f() {{ {}{{}} }}", "if a {} else ".repeat(n)),
            format!("fn f() {{ let x = {{1}}{}; }}", "+{1}".repeat(n)),
            format!("fn f() {{ let c = {}1; }}", "|a, b| ".repeat(n)),
            format!(
                "fn f() {{ let c = |{}a{}| 1; }}",
                "(".repeat(n),
                ")".repeat(n)
            ),
            format!("fn f() {{ let c = {}1; }}", "- |S {a}: S| ".repeat(n)),
        ];
        for text in &chains {
            assert!(rs(text) > LIMIT, "{}: {}", &text[..40], rs(text));
        }
        let py_shapes = [
            format!("x = {}1\n", "lambda a, b: ".repeat(n)),
            format!("x = {}1\n", "not lambda a, b: ".repeat(n)),
            format!("x = {}1{}\n", "lambda a=".repeat(n), ": 1".repeat(n)),
            format!("f({}a)\n", "*".repeat(n)),
            format!("f({}a)\n", "**".repeat(n)),
            format!("x = a{}\n", "()".repeat(n)),
            format!("x = a{}\n", "[0]".repeat(n)),
            format!("x = {}\n", "f\"{x:{".repeat(n)),
            format!("x = {}1\n", "await ".repeat(n)),
            format!("x = a{}\n", " if b else a".repeat(n)),
        ];
        for text in &py_shapes {
            assert!(py(text) > LIMIT, "{}: {}", &text[..30], py(text));
        }
    }

    /// Long flat code (many items, statements, arms, alternatives, table entries) stays far
    /// below the limit: only what really nests adds up.
    #[test]
    fn long_flat_code_stays_shallow() {
        let n = 20_000;
        let flat = [
            "fn a() {}\n#[inline]\nfn b(x: u8) -> u8 { x }\n".repeat(n),
            format!(
                "fn f() {{ {} }}",
                "x = y << 2; if a < b { c(); } d.e()?;\n".repeat(n)
            ),
            format!("const T: &[u64] = &[{}];", "1 << 3, x << y, ".repeat(n)),
            format!(
                "fn f() {{ match x {{ {} }} }}",
                "0 => {} \"a\" => {}, (a, b) => {}\n".repeat(n)
            ),
            format!(
                "fn f() {{ match c {{ {}'z' => 1, _ => 0 }} }}",
                "'a'..='b' | ".repeat(2_000)
            ),
            format!(
                "fn f() {{ {} }}",
                "let c = |a: u8, b| a + b; v.iter().map(|x| x * 2);\n".repeat(n)
            ),
            "impl<T: Clone> X for Y<T> where T: Send {}\n".repeat(n),
        ];
        for text in &flat {
            assert!(rs(text) < 5_000, "{}: {}", &text[..40], rs(text));
        }
        let py_flat = [
            "x = lambda a, b: a\ny = f(a)(b)[0]\n".repeat(n),
            "@d\ndef f(*a, **k):\n    return {**k}\n".repeat(n),
            "x = [f(*a) for a in b if not a]\n".repeat(n),
        ];
        for text in &py_flat {
            assert!(py(text) < 100, "{}: {}", &text[..30], py(text));
        }
    }

    #[test]
    fn ordinary_code_is_shallow() {
        let rust = "use std::collections::HashMap;\nfn f(a: u32, b: u32) -> bool {\n    let m: HashMap<String, Vec<u8>> = HashMap::new();\n    if a < b && b > 3 { return m.is_empty(); }\n    let c = |x: u32| x + 1;\n    c(a) >= 2 && 'x' != '\\n'\n}\nfn g<'a>(s: &'a str) -> &'a str { s }\n";
        assert!(rs(rust) < 20, "{}", rs(rust));
        let python = "import asyncio\n\nasync def main(a, b):\n    if a < b and not b:\n        x = f\"{a!r:>10} {{b}} {b['k']}\"\n        return await asyncio.sleep(-1)\n    return [i for i in range(3) if i > 1]\n";
        assert!(py(python) < 20, "{}", py(python));
    }
}
