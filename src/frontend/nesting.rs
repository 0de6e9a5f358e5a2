//! How deep the syntax tree of a file can be, read from its tokens before it is parsed.
//!
//! Parsers, lowering and the drop of a syntax tree recurse once per level of the tree. The
//! levels come from brackets, but also from prefix operators (`- - x`, `&&&x`, `not not x`,
//! closures and lambdas), from binary and postfix chains (`1+1+...`, `a.b.b...`, `f()()`,
//! `a???`: left-nested trees), generic arguments and qualified paths (`Vec<Vec<..>>`,
//! `<<T as A>::B as C>::D`), `else if` chains, indentation (Python blocks) and f-strings nested
//! in f-strings. A small lexer that knows comments and string literals (so `(/*)*/` and `"}"` do
//! not count) adds them up; a Rust file whose estimate exceeds [`LIMIT`] is not parsed and gets
//! an `analysis-limit` note instead. Python files of up to 64 KiB are parsed first (ruff's
//! parser grows its own stack) and measured on their tree; the estimate tells how deep a larger
//! Python text or one that does not parse is.
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

/// The depth estimate of `text`, reading the arguments of the standard library's expression
/// macros (`vec!`, `assert!`, `format!`...) as expressions.
pub fn estimate(text: &str, language: Language) -> u32 {
    estimate_with(text, language, true)
}

/// The depth estimate of `text`; `std_macros` says whether `vec!`, `assert!`, `format!`... are
/// the standard library's (a program that defines macros of those names makes them tokens
/// that may become anything).
pub fn estimate_with(text: &str, language: Language, std_macros: bool) -> u32 {
    let mut s = Scan::default();
    match language {
        Language::Rust => rust(text, &mut s, std_macros, &mut Docs::default()),
        Language::Python => python(text.as_bytes(), &mut s),
    }
    s.max
}

/// The depth estimate of Rust `text` (as [`estimate_with`]), and the offsets of the doc comments
/// that may be read as plain comments: the byte after `//` or `/*` of each, which turns
/// `///`, `//!`, `/**` and `/*!` into a plain comment once it is a space.
///
/// A doc comment is an attribute (`#[doc = ".."]`) to the parser: tokens, an escaped string,
/// its unescaped value and a node, none of which the model reads. Those listed leave the
/// parse otherwise as it was: outer ones followed by a word, an attribute or a macro variable
/// (an item, a field, a variant, a statement), inner ones ahead of the file's first token.
/// One that documents nothing (before a closing bracket, or the end of the file) or stands
/// where the parser would reject it is kept, so the file fails to parse as before.
pub fn estimate_rust_docs(text: &str, std_macros: bool) -> (u32, Vec<usize>) {
    let mut s = Scan::default();
    let mut docs = Docs {
        wanted: true,
        ..Docs::default()
    };
    rust(text, &mut s, std_macros, &mut docs);
    (s.max, docs.plain)
}

/// Doc comments met by the Rust scan (see [`estimate_rust_docs`]).
#[derive(Default)]
struct Docs {
    /// Whether they are collected at all.
    wanted: bool,
    /// Whether a token other than a comment has been read.
    started: bool,
    /// Outer doc comments waiting for the token they document.
    pending: Vec<usize>,
    /// Doc comments that may be read as plain ones.
    plain: Vec<usize>,
}

impl Docs {
    /// A token other than a comment starts at `b[i]`: pending outer doc comments become plain
    /// when it opens what they may document.
    fn token(&mut self, b: &[u8], i: usize) {
        self.started = true;
        if self.pending.is_empty() {
            return;
        }
        let c = b[i];
        if c == b'#' || c == b'$' || c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 {
            self.plain.append(&mut self.pending);
        } else {
            self.pending.clear();
        }
    }

    /// A doc comment starts at `at`.
    fn comment(&mut self, at: usize, style: rustc_lexer::DocStyle) {
        if !self.wanted {
            return;
        }
        match style {
            rustc_lexer::DocStyle::Outer => self.pending.push(at + 2),
            rustc_lexer::DocStyle::Inner if !self.started => self.plain.push(at + 2),
            rustc_lexer::DocStyle::Inner => {}
        }
    }
}

/// Whether a macro of this name, defined by a program, would shadow a standard library macro
/// whose arguments [`estimate`] reads as expressions.
pub fn shadows_std_macro(name: &str) -> bool {
    EXPR_MACROS.contains(&name)
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
    /// Rust: whether the current expression of this level may be a type, where `a<` opens
    /// generic arguments. Only tokens that make an expression clear it (see [`Ctx`]), so a
    /// type is never read as a comparison.
    ty: bool,
    /// What `ty` is at the start of each expression of this level.
    base_ty: bool,
    /// Rust: the item keyword the current statement of this level started with.
    item: Item,
    /// Rust: whether the current statement declares something whose `:` is followed by a type
    /// (`let`, `const`, `static`, `where`, an item); elsewhere in an expression, a `:` ends a
    /// struct literal's field name.
    decl: bool,
}

/// The item a Rust statement declares, as far as the scan needs it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    None,
    /// `fn`: its `{` is a block of statements.
    Fn,
    /// `struct`, `enum`, `union`, `trait`, `impl`, `mod`, `extern`: its `{` holds fields,
    /// variants or items, where types stand.
    Types,
    /// `type`: its `=` is followed by a type.
    Alias,
}

/// What a token tells about the context of the current expression (Rust).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A token only expressions hold: `=`, `==`, `=>`, a binary `-`, `*`, `/`, `.`, `return`,
    /// `if`, `match`, `let`...
    Expr,
    /// A token after which a type may follow: `:`, `->`, `as`, `dyn`, `impl`, `where`, item
    /// keywords, attributes.
    Type,
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
                ty: true,
                base_ty: true,
                item: Item::None,
                decl: false,
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
        // Generic arguments and closure heads hold types; other brackets keep the context of
        // the expression they open in.
        let ty =
            matches!(open, Open::Angle | Open::Pipe) || self.levels.last().unwrap_or(&self.top).ty;
        self.push_with(open, ty);
    }

    /// Opens a level whose expressions start in context `ty`.
    fn push_with(&mut self, open: Open, ty: bool) {
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
            ty,
            base_ty: ty,
            item: Item::None,
            decl: false,
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
        l.ty = l.base_ty;
        l.item = Item::None;
        l.decl = false;
        self.sum -= n;
        self.expect_operand = true;
    }

    /// What a token tells of the current expression. Generic arguments stay a type.
    fn ctx(&mut self, ctx: Ctx) {
        let l = self.cur();
        if l.open != Open::Angle && !(l.item == Item::Alias && ctx == Ctx::Expr) {
            l.ty = ctx == Ctx::Type;
        }
    }

    /// Whether the current expression may be a type.
    fn ty(&self) -> bool {
        self.levels.last().unwrap_or(&self.top).ty
    }

    /// Records the item keyword a statement starts with (the first one wins: `fn f() -> impl
    /// T {` is a function).
    fn item(&mut self, item: Item) {
        let l = self.cur();
        if l.item == Item::None {
            l.item = item;
        }
        l.decl = true;
    }

    /// The current statement declares something whose `:` is followed by a type.
    fn decl(&mut self) {
        self.cur().decl = true;
    }

    /// A single `:`: a type follows where one may stand at this level or the statement
    /// declares one; in an expression it ends a struct literal's field name.
    fn colon(&mut self) {
        let l = self.levels.last().unwrap_or(&self.top);
        let ctx = if l.base_ty || l.decl {
            Ctx::Type
        } else {
            Ctx::Expr
        };
        self.ctx(ctx);
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

/// Macros of the standard library whose arguments are expressions (a format string and values,
/// elements): the lowering parses them as expressions, so `a < b` in them compares.
const EXPR_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "eprint",
    "eprintln",
    "format",
    "format_args",
    "panic",
    "print",
    "println",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
];

/// The token of Rust's own lexer at `at` (a frontmatter only at the start of the file).
pub(crate) fn rust_token(text: &str, at: usize) -> rustc_lexer::Token {
    let frontmatter = if at == 0 {
        rustc_lexer::FrontmatterAllowed::Yes
    } else {
        rustc_lexer::FrontmatterAllowed::No
    };
    rustc_lexer::Cursor::new(&text[at..], frontmatter).advance_token()
}

/// Scans Rust. Punctuation is read byte by byte (it is ASCII, and operators are glued from
/// it); comments, literals, lifetimes and words are tokens of Rust's own lexer, so raw
/// strings, nested block comments, byte and C strings and `'a'` against `'a` are read as
/// rustc reads them.
fn rust(text: &str, s: &mut Scan, std_macros: bool, docs: &mut Docs) {
    use rustc_lexer::TokenKind;
    let b = text.as_bytes();
    let n = b.len();
    let mut i = rustc_lexer::strip_shebang(text).unwrap_or(0);
    // The word just read, and after `name!`, whether the macro's arguments are expressions.
    let mut word_before: &str = "";
    let mut bang: Option<bool> = None;
    while i < n {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
            continue;
        }
        if docs.wanted && !(c == b'/' && matches!(b.get(i + 1), Some(b'/' | b'*'))) {
            docs.token(b, i);
        }
        let word = std::mem::take(&mut word_before);
        let macro_args = bang.take();
        match c {
            b'(' | b'[' => {
                i += 1;
                match macro_args {
                    Some(expr) => s.push_with(Open::Bracket, !expr),
                    None => s.open_bracket(),
                }
            }
            b'{' => {
                i += 1;
                s.pop_angles();
                // A function's body and a block hold statements, a struct literal holds
                // expressions; the body of a struct, an enum (and of its variants), a trait,
                // an impl or a module holds types; a macro's arguments are tokens that may
                // become types, unless the macro takes expressions.
                let l = s.levels.last().unwrap_or(&s.top);
                let ty = match macro_args {
                    Some(expr) => !expr,
                    None => l.item == Item::Types || (l.item == Item::None && l.ty),
                };
                s.push_with(Open::Bracket, ty);
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
                if !continues_block(text, i) {
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
                let turbofish = prev == Some(&b':');
                let after_operand = !s.expect_operand && prev.is_none_or(|&p| p != b':');
                if b.get(i + 1) == Some(&b'=') {
                    i += 2;
                    s.chain();
                    s.ctx(Ctx::Expr);
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
                    // Where an operand, a type or a pattern starts, `<` opens a qualified
                    // path; after `::` and after a path segment where a type may stand, it
                    // opens generic arguments; in an expression it compares.
                    if s.expect_operand || turbofish || (after_path && s.ty()) {
                        s.push(Open::Angle);
                    } else {
                        s.chain();
                        s.ctx(Ctx::Expr);
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
                        s.ctx(Ctx::Expr);
                    } else {
                        s.ctx(Ctx::Type);
                    }
                    s.expect_operand = true;
                } else if b.get(i) == Some(&b'=') {
                    i += 1;
                    s.chain();
                    s.ctx(Ctx::Expr);
                } else if s.levels.last().is_some_and(|l| l.open == Open::Angle) {
                    s.pop();
                } else {
                    s.chain();
                    s.ctx(Ctx::Expr);
                }
            }
            b'|' => {
                if s.inside(Open::Pipe) {
                    // The end of a closure's parameters: its body follows.
                    i += 1;
                    s.pop_angles();
                    s.pop();
                    s.ctx(Ctx::Expr);
                    s.expect_operand = true;
                } else if s.expect_operand {
                    // A closure: `||`, or a head `|a, b|` whose patterns are read as a level.
                    if b.get(i + 1) == Some(&b'|') {
                        i += 2;
                        s.prefix(1);
                        s.ctx(Ctx::Expr);
                        s.step(1);
                    } else {
                        i += 1;
                        s.prefix(1);
                        s.push(Open::Pipe);
                    }
                } else {
                    i += if b.get(i + 1) == Some(&b'|') { 2 } else { 1 };
                    s.chain();
                    s.ctx(Ctx::Expr);
                }
            }
            b'-' | b'!' | b'*' | b'&' => {
                let double = c == b'&' && b.get(i + 1) == Some(&b'&');
                i += if double { 2 } else { 1 };
                if b.get(i) == Some(&b'=') && !s.expect_operand {
                    // `-=`, `!=`, `*=`, `&=`: assignments nest to the right, like comparisons.
                    i += 1;
                    s.chain();
                    s.ctx(Ctx::Expr);
                } else if s.expect_operand {
                    s.prefix(if double { 2 } else { 1 });
                } else {
                    s.chain();
                    if c == b'!' {
                        // `name!`: the bracket that follows holds the macro's arguments.
                        bang = Some(std_macros && EXPR_MACROS.contains(&word));
                    } else if b.get(i) != Some(&b'>') {
                        // A binary operator (`->` is a return type, read at its `>`).
                        s.ctx(Ctx::Expr);
                    }
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
                    s.ctx(Ctx::Expr);
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
                s.ctx(Ctx::Type);
                s.expect_operand = true;
            }
            b'+' => {
                // A sum, or the bounds of a type (`A + B<C>`).
                i += 1;
                let assign = b.get(i) == Some(&b'=');
                i += usize::from(assign);
                s.chain();
                if assign {
                    s.ctx(Ctx::Expr);
                }
            }
            b'/' if !matches!(b.get(i + 1), Some(b'/' | b'*')) => {
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                }
                s.chain();
                s.ctx(Ctx::Expr);
            }
            b'%' | b'^' => {
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                }
                s.chain();
                s.ctx(Ctx::Expr);
            }
            b'=' => {
                // `a = b = c` nests to the right: a link of the chain, never a new expression.
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    s.chain();
                    s.ctx(Ctx::Expr);
                } else if b.get(i) != Some(&b'>') {
                    s.chain();
                    s.ctx(Ctx::Expr);
                }
            }
            b':' => {
                if b.get(i + 1) == Some(&b':') {
                    i += 2;
                } else {
                    i += 1;
                    s.colon();
                }
                s.expect_operand = true;
            }
            _ => {
                if let Some(end) = ascii_word_end(b, i) {
                    // A plain ASCII word: the identifier or keyword Rust's lexer would read.
                    let w = &text[i..end];
                    i = end;
                    word_before = w;
                    rust_word(w, s);
                    continue;
                }
                let tok = rust_token(text, i);
                let len = (tok.len as usize).max(1);
                let at = i;
                i = (i + len).min(n);
                match tok.kind {
                    TokenKind::Ident | TokenKind::RawIdent => {
                        let w = &text[at..i];
                        word_before = w;
                        rust_word(w, s);
                    }
                    TokenKind::LineComment {
                        doc_style: Some(style),
                    }
                    | TokenKind::BlockComment {
                        doc_style: Some(style),
                        terminated: true,
                    } => {
                        docs.comment(at, style);
                        word_before = word;
                        bang = macro_args;
                    }
                    TokenKind::LineComment { .. }
                    | TokenKind::BlockComment { .. }
                    | TokenKind::Whitespace
                    | TokenKind::Frontmatter { .. } => {
                        // Nothing between a macro's `!` and its bracket changes it.
                        word_before = word;
                        bang = macro_args;
                    }
                    TokenKind::Literal { .. } => {
                        // Outside generic arguments, only expressions hold literals.
                        s.operand();
                        s.ctx(Ctx::Expr);
                    }
                    TokenKind::Lifetime { .. }
                    | TokenKind::RawLifetime
                    | TokenKind::ForcedKeywordIdent
                    | TokenKind::InvalidIdent
                    | TokenKind::UnknownPrefix
                    | TokenKind::UnknownPrefixLifetime
                    | TokenKind::GuardedStrPrefix => s.operand(),
                    _ => {}
                }
            }
        }
    }
}

/// Where the word at `b[at]` ends when it is an identifier that Rust's lexer reads exactly as
/// its run of ASCII letters, digits and `_`: it starts with a letter or `_` and what follows
/// the run is ASCII and no quote or `#` (which would make the run the prefix of a literal, a raw
/// identifier or a reserved prefix). `None` leaves the word to the lexer.
fn ascii_word_end(b: &[u8], at: usize) -> Option<usize> {
    let c = *b.get(at)?;
    if !(c.is_ascii_alphabetic() || c == b'_') {
        return None;
    }
    let end = at
        + 1
        + b[at + 1..]
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
            .unwrap_or(b.len() - at - 1);
    match b.get(end) {
        Some(&c) if c >= 0x80 || matches!(c, b'"' | b'\'' | b'#') => None,
        _ => Some(end),
    }
}

/// A keyword or an identifier of Rust.
fn rust_word(word: &str, s: &mut Scan) {
    match word {
        "move" | "return" | "box" | "break" | "yield" => {
            s.prefix(1);
            s.ctx(Ctx::Expr);
        }
        "mut" | "async" | "unsafe" | "ref" => s.prefix(1),
        "dyn" | "const" | "static" | "for" => {
            s.prefix(1);
            if word != "dyn" && word != "for" {
                s.decl();
            }
            s.ctx(Ctx::Type);
        }
        "impl" => {
            s.prefix(1);
            s.item(Item::Types);
            s.ctx(Ctx::Type);
        }
        "as" => {
            s.chain();
            s.ctx(Ctx::Type);
        }
        "else" => {
            s.chain();
            s.ctx(Ctx::Expr);
        }
        "in" | "let" | "if" | "match" | "while" | "loop" => {
            s.expect_operand = true;
            s.step(1);
            if word == "let" {
                s.decl();
            }
            s.ctx(Ctx::Expr);
        }
        "where" => {
            s.expect_operand = true;
            s.step(1);
            s.decl();
            s.ctx(Ctx::Type);
        }
        "fn" | "struct" | "enum" | "union" | "trait" | "mod" | "extern" | "type" => {
            s.item(match word {
                "fn" => Item::Fn,
                "type" => Item::Alias,
                _ => Item::Types,
            });
            s.ctx(Ctx::Type);
            s.operand();
        }
        _ => s.operand(),
    }
}

/// Whether the token after a `}` ending at `at` goes on with the expression the block ends: an
/// operator, a postfix, `else` or `as`. A new item or statement (a word, an attribute, a
/// literal, a label) does not. Comments are skipped.
fn continues_block(text: &str, mut at: usize) -> bool {
    use rustc_lexer::TokenKind;
    while at < text.len() {
        let tok = rust_token(text, at);
        let end = at + tok.len as usize;
        match tok.kind {
            TokenKind::Whitespace
            | TokenKind::LineComment { .. }
            | TokenKind::BlockComment { .. } => at = end,
            TokenKind::Ident => return matches!(&text[at..end], "else" | "as"),
            TokenKind::RawIdent
            | TokenKind::Literal { .. }
            | TokenKind::Lifetime { .. }
            | TokenKind::CloseBrace
            | TokenKind::CloseParen
            | TokenKind::CloseBracket
            | TokenKind::Semi
            | TokenKind::Comma
            | TokenKind::Pound => return false,
            _ => return true,
        }
    }
    false
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
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                // Blanks change nothing: a run of them is passed at once.
                i += 1;
                while i < n && matches!(b[i], b' ' | b'\t' | b'\r' | b'\x0c') {
                    i += 1;
                }
            }
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
                i = ident_end(b, i + 1);
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

/// The end of the run of identifier bytes ([`IDENT`]) from `i` on, looked at eight bytes at a
/// time: a byte of 0x80 and above, or below it a letter, a digit or `_`.
#[inline]
fn ident_end(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // For bytes below 0x80: the high bit of each set when the byte is at least `lo` (no sum
    // carries into the next byte).
    let at_least = |v: u64, lo: u8| v + ONES * (0x80 - lo as u64);
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let v = w & !HIGH;
        // Upper-case letters made lower-case; no other byte lands among them.
        let letter = v | (ONES * 0x20);
        let letters = at_least(letter, b'a') & !at_least(letter, b'z' + 1);
        let digits = at_least(v, b'0') & !at_least(v, b'9' + 1);
        let under = !((v ^ (ONES * b'_' as u64)) + ONES * 0x7f);
        let other = !(w | letters | digits | under) & HIGH;
        if other != 0 {
            return i + (other.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && IDENT[b[i] as usize] {
        i += 1;
    }
    i
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

    /// Comparisons side by side in a list, a call, a tuple, a macro taking expressions or the
    /// arms of a match are flat: `a < b` there compares, it opens no generic arguments.
    #[test]
    fn flat_comparisons_stay_shallow() {
        let n = 20_000;
        let flat = [
            format!("fn f() -> Vec<bool> {{ vec![{}] }}", "a < b, ".repeat(n)),
            format!("fn f() {{ let v = [{}]; }}", "a < b, ".repeat(n)),
            format!("fn f() {{ g({}); }}", "a < b, ".repeat(n)),
            format!("fn f() {{ let t = ({}); }}", "x.y < b, ".repeat(n)),
            format!("fn f() {{ assert!({}); }}", "a < b, ".repeat(n)),
            format!("fn f() {{ match x {{ {} }} }}", "0 => a < b, ".repeat(n)),
            format!("fn f() {{ g({}); }}", "|x| x < y, ".repeat(n)),
            format!(
                "fn f() {{ {} }}",
                "if a < b {} else if c < d {}\n".repeat(n)
            ),
            format!(
                "impl X {{ fn f(&self) {{ h({}); }} }}",
                "a <= b, c < d, ".repeat(n)
            ),
            format!("fn f() {{ let v = [{}]; }}", "a as u8 + 1 < b, ".repeat(n)),
            format!("fn f() {{ let s = S {{ {} }}; }}", "a: x < y, ".repeat(n)),
            format!("const S: T = T {{ {} }};", "a: x < y, ".repeat(n)),
        ];
        for text in &flat {
            assert!(rs(text) < 100, "{}: {}", &text[..50], rs(text));
        }
    }

    /// Types stay types wherever they stand, closed or not: their generic arguments nest.
    #[test]
    fn nested_generics_count_in_every_place_a_type_stands() {
        let n = 20_000;
        let deep = "HashMap<K, ".repeat(n);
        let closed = format!("{deep}V{}", ">".repeat(n));
        let places = [
            "fn f() { let x: TY = 1; }",
            "fn f() { let x = y as TY; }",
            "fn f() { g::<TY>(); }",
            "fn f() { let v = vec![Vec::<TY>::new()]; }",
            "fn f() { let v = [<TY>::new()]; }",
            "enum E { A(TY) }",
            "enum E { B { x: TY } }",
            "enum E { A, B { x: u8, y: TY } }",
            "struct S(TY);",
            "impl X { fn f() -> TY { 1 } }",
            "fn f() { g(|a: TY| 1); }",
            "fn f(a: TY) {}",
            "fn f() where T: Fn(TY) {}",
            "type T = TY;",
            "trait T { type A = TY; }",
            "fn f() -> impl Iterator<Item = TY> {}",
            "fn f() { struct S { a: TY } }",
            "fn f() { let (a, b): (TY, u8) = g(); }",
            "fn f() { const C: TY = 1; static S: TY = 1; }",
            "fn f() { fn g<T>() where T: Into<TY> {} }",
            "fn f() { 'a: loop {} let x: TY = 1; }",
            "fn f() { let x = 1; let y: TY = g(); }",
            "#[attr(TY)] fn f() {}",
            "m! { TY }",
            "fn f() { m!(TY); }",
        ];
        for place in places {
            for ty in [&closed, &deep] {
                let text = place.replace("TY", ty);
                assert!(rs(&text) > LIMIT, "{place}: {}", rs(&text));
            }
        }
        // A program's own `vec!` takes tokens that may become types.
        let shadowed = format!("fn f() {{ vec![{deep}]; }}");
        assert!(estimate_with(&shadowed, Language::Rust, false) > LIMIT);
    }

    /// Wherever the scan reads a plain ASCII word itself, Rust's lexer reads the same
    /// identifier; prefixes of literals and raw identifiers, and words running into other
    /// characters, are left to the lexer.
    #[test]
    fn ascii_words_are_the_lexers_identifiers() {
        let text = "fn f_1() { r#try; br\"x\"; b'a'; c\"x\"; cr#\"x\"#; k#x; foo#; \
                    r\"x\" f\"x\" éa aé a'b _ __x9 x.y::<T>() 'a: loop {} 'l' 1u8 x+y }";
        let b = text.as_bytes();
        let mut words = 0;
        for at in 0..b.len() {
            if let Some(end) = ascii_word_end(b, at) {
                let tok = rust_token(text, at);
                assert_eq!(tok.kind, rustc_lexer::TokenKind::Ident, "{}", &text[at..]);
                assert_eq!(tok.len as usize, end - at, "{}", &text[at..]);
                words += 1;
            }
        }
        assert!(words > 20);
        for prefixed in [
            "r#try", "br\"x\"", "b'a'", "c\"x\"", "k#x", "foo#", "aé", "a'b",
        ] {
            assert_eq!(ascii_word_end(prefixed.as_bytes(), 0), None, "{prefixed}");
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
