//! Expansion of the package's own `macro_rules!` macros, by substitution and best effort, so that
//! the items, tests and statements a macro stamps out are lowered like written code (a macro
//! that writes one test per runtime flavor yields one test per flavor).
//!
//! Matching follows `macro_rules!`: rules are tried in order, repetitions are greedy, and
//! fragments (`expr`, `ty`, `pat` ...) are delimited by parsing them. An invocation whose
//! expansion fails to match or parse is left alone. Tokens of a macro defined in another file
//! take the invocation's span, since their own spans belong to that file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Item, Stmt};

/// Macro definitions of a program by name: the token text of their rules, parsed into rules
/// at most once per thread (token trees cannot cross threads).
pub struct MacroDefs {
    /// Tells the programs apart in the per-thread cache of parsed rules.
    id: u64,
    texts: HashMap<String, Arc<str>>,
}

/// The rules of the macros of one program, parsed on this thread (`None`: they did not parse).
type ParsedDefs = (u64, HashMap<String, Option<Rc<Macro>>>);

thread_local! {
    static PARSED: RefCell<ParsedDefs> = RefCell::new((0, HashMap::new()));
}

impl MacroDefs {
    /// The definitions `texts` (name and rules text), first definition of a name first.
    pub fn new(texts: impl IntoIterator<Item = (String, Arc<str>)>) -> MacroDefs {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let mut map = HashMap::new();
        for (name, text) in texts {
            map.entry(name).or_insert(text);
        }
        MacroDefs {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            texts: map,
        }
    }

    /// Whether the program defines a macro whose name `pred` accepts.
    pub fn defines_any(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.texts.keys().any(|name| pred(name))
    }

    /// Whether the program defines no macro.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The macro `name` as used from a file other than its own (its tokens take the span of
    /// the invocation), parsed on the first use on this thread.
    pub fn foreign(&self, name: &str) -> Option<Rc<Macro>> {
        let text = self.texts.get(name)?;
        PARSED.with(|cell| {
            let mut cache = cell.borrow_mut();
            if cache.0 != self.id {
                *cache = (self.id, HashMap::new());
            }
            if let Some(m) = cache.1.get(name) {
                return m.clone();
            }
            let m = text
                .parse::<TokenStream>()
                .ok()
                .map(|tokens| Rc::new(Macro::new(tokens, true)));
            cache.1.insert(name.to_string(), m.clone());
            m
        })
    }
}

/// Most expansions done in one file.
const BUDGET: u32 = 256;
/// Most tokens an invocation may hand to a macro.
const MAX_INPUT: usize = 50_000;
/// Most matching steps per invocation.
const MAX_STEPS: u32 = 200_000;

/// The `macro_rules!` definitions of a parsed file (module level, inline modules included).
pub fn file_defs(file: &syn::File) -> Vec<(String, TokenStream)> {
    let mut out = Vec::new();
    collect_defs(&file.items, &mut out, 0);
    out
}

fn collect_defs(items: &[Item], out: &mut Vec<(String, TokenStream)>, depth: u32) {
    if depth > 16 {
        return;
    }
    for item in items {
        match item {
            Item::Macro(m) if m.mac.path.is_ident("macro_rules") => {
                if let Some(name) = &m.ident {
                    out.push((name.to_string(), m.mac.tokens.clone()));
                }
            }
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_defs(inner, out, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// The `macro_rules!` definitions found in `text` without parsing it: name and rules text.
/// Braces inside string and character literals and comments are skipped.
pub fn text_defs(text: &str) -> Vec<(String, Arc<str>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("macro_rules!") {
        let start = from + at + "macro_rules!".len();
        from = start;
        let rest = &text[start..];
        let name_start = rest.len() - rest.trim_start().len();
        let name: String = rest[name_start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        let after = &rest[name_start + name.len()..];
        let open_at = after.len() - after.trim_start().len();
        let Some(open) = after[open_at..].chars().next() else {
            continue;
        };
        if !matches!(open, '{' | '(' | '[') {
            continue;
        }
        let body_start = start + name_start + name.len() + open_at + 1;
        if let Some(len) = balanced_len(&text.as_bytes()[body_start..]) {
            out.push((name, Arc::from(&text[body_start..body_start + len])));
            from = body_start + len;
        }
    }
    out
}

/// Length of the text up to the bracket closing an already open one.
fn balanced_len(b: &[u8]) -> Option<usize> {
    let mut depth = 1u32;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'\'' if i + 2 < b.len() && b[i + 1] == b'\\' => {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'\'' if i + 2 < b.len() && b[i + 2] == b'\'' => i += 2,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Names invoked as `name!` in `text` that might be macros of the package: every identifier
/// followed by `!` and a delimiter, except well-known library macros.
pub fn invoked_names(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    for i in memchr::memchr_iter(b'!', bytes) {
        let mut j = i;
        while j > 0 && (bytes[j - 1].is_ascii_alphanumeric() || bytes[j - 1] == b'_') {
            j -= 1;
        }
        if j == i || bytes[j].is_ascii_digit() || (j > 0 && bytes[j - 1] == b'$') {
            continue;
        }
        let next = bytes[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
        if matches!(next, Some(b'(' | b'[' | b'{')) {
            let name = &text[j..i];
            if !is_library_macro(name) && !out.iter().any(|n| n == name) && out.len() < 64 {
                out.push(name.to_string());
            }
        }
    }
    out
}

fn is_library_macro(name: &str) -> bool {
    matches!(
        name,
        "println"
            | "print"
            | "eprintln"
            | "eprint"
            | "format"
            | "format_args"
            | "write"
            | "writeln"
            | "vec"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
            | "panic"
            | "unreachable"
            | "todo"
            | "unimplemented"
            | "matches"
            | "dbg"
            | "macro_rules"
            | "cfg"
            | "include_str"
            | "concat"
            | "stringify"
            | "env"
            | "select"
            | "join"
            | "try_join"
            | "pin"
            | "info"
            | "warn"
            | "error"
            | "debug"
            | "trace"
            | "lazy_static"
            | "thread_local"
    )
}

// ----------------------------------------------------------------- rules and matching

enum PElem {
    Tok(TokenTree),
    Group(Delimiter, Vec<PElem>),
    Var(String, String),
    Rep(Vec<PElem>, Option<TokenTree>, char),
}

struct Rule {
    pattern: Vec<PElem>,
    body: Vec<BElem>,
}

/// A rule body read once, so that each invocation walks it without collecting the tokens of
/// its groups again or looking up which variables a repetition uses.
enum BElem {
    /// A token copied as written (not a group).
    Tok(TokenTree),
    /// `$crate`, with the span of `crate`.
    Crate(Span),
    /// `$name`: the name, and the two tokens as written (kept when the name is not bound).
    Var(String, TokenTree, Ident),
    /// A delimited group: its delimiter, span and contents.
    Group(Delimiter, Span, Vec<BElem>),
    /// `$( .. ) sep op`: the contents, the separator, every `$name` of the contents in order
    /// (the first bound to a sequence gives the count), and the distinct names used down to
    /// the transcriber's depth limit (each one bound to a sequence takes its iteration).
    Rep(Vec<BElem>, Option<TokenTree>, Vec<String>, Vec<String>),
    /// A `$( .. )` without a repetition operator after it: transcription fails here.
    Fail,
}

/// Deepest group nesting a rule body is transcribed to.
const MAX_BODY_DEPTH: u32 = 32;

/// Reads the rule body `tokens`, at group depth `depth`.
fn compile_body(tokens: &[TokenTree], depth: u32) -> Vec<BElem> {
    let mut out = Vec::new();
    if depth > MAX_BODY_DEPTH {
        // Never walked: transcription stops at this depth.
        return out;
    }
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if is_punct(t, '$') {
            match tokens.get(i + 1) {
                Some(TokenTree::Ident(n)) if n == "crate" => {
                    out.push(BElem::Crate(n.span()));
                    i += 2;
                    continue;
                }
                Some(TokenTree::Ident(n)) => {
                    out.push(BElem::Var(n.to_string(), t.clone(), n.clone()));
                    i += 2;
                    continue;
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    let Some((sep, _, used)) = rep_tail(&tokens[i + 2..]) else {
                        out.push(BElem::Fail);
                        return out;
                    };
                    let mut order = Vec::new();
                    dollar_names(&inner, &mut order, 0, u32::MAX);
                    let mut vars = Vec::new();
                    dollar_names(&inner, &mut vars, 0, MAX_BODY_DEPTH);
                    out.push(BElem::Rep(
                        compile_body(&inner, depth + 1),
                        sep,
                        order,
                        vars,
                    ));
                    i += 2 + used;
                    continue;
                }
                _ => {}
            }
        }
        match t {
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                out.push(BElem::Group(
                    g.delimiter(),
                    g.span(),
                    compile_body(&inner, depth + 1),
                ));
            }
            other => out.push(BElem::Tok(other.clone())),
        }
        i += 1;
    }
    out
}

/// Every distinct name written `$name` in `body`, in order, with the groups down to `limit`
/// levels below `depth`.
fn dollar_names(body: &[TokenTree], out: &mut Vec<String>, depth: u32, limit: u32) {
    if depth > limit {
        return;
    }
    for (i, t) in body.iter().enumerate() {
        if is_punct(t, '$')
            && let Some(TokenTree::Ident(n)) = body.get(i + 1)
        {
            let n = n.to_string();
            if !out.contains(&n) {
                out.push(n);
            }
        }
        if let TokenTree::Group(g) = t {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            dollar_names(&inner, out, depth + 1, limit);
        }
    }
}

/// A parsed macro: its rules, and the span its own tokens take when expanded (for a macro
/// defined in another file).
pub struct Macro {
    rules: Vec<Rule>,
    respan: bool,
}

fn is_punct(t: &TokenTree, c: char) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == c)
}

fn parse_pattern(tokens: &[TokenTree], depth: u32) -> Option<Vec<PElem>> {
    if depth > 32 {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if is_punct(t, '$') {
            match tokens.get(i + 1) {
                Some(TokenTree::Ident(name)) => {
                    if is_punct(tokens.get(i + 2)?, ':')
                        && let Some(TokenTree::Ident(frag)) = tokens.get(i + 3)
                    {
                        out.push(PElem::Var(name.to_string(), frag.to_string()));
                        i += 4;
                        continue;
                    }
                    // `$crate` or a stray `$name`: matched literally.
                    out.push(PElem::Tok(t.clone()));
                    i += 1;
                    continue;
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    let sub = parse_pattern(&inner, depth + 1)?;
                    let (sep, op, used) = rep_tail(&tokens[i + 2..])?;
                    out.push(PElem::Rep(sub, sep, op));
                    i += 2 + used;
                    continue;
                }
                _ => {}
            }
        }
        match t {
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                out.push(PElem::Group(
                    g.delimiter(),
                    parse_pattern(&inner, depth + 1)?,
                ));
            }
            other => out.push(PElem::Tok(other.clone())),
        }
        i += 1;
    }
    Some(out)
}

/// The separator and operator after a `$( .. )`: (separator, `*`/`+`/`?`, tokens used).
fn rep_tail(rest: &[TokenTree]) -> Option<(Option<TokenTree>, char, usize)> {
    let op_of = |t: &TokenTree| match t {
        TokenTree::Punct(p) if matches!(p.as_char(), '*' | '+' | '?') => Some(p.as_char()),
        _ => None,
    };
    let first = rest.first()?;
    if let Some(op) = op_of(first) {
        return Some((None, op, 1));
    }
    let op = op_of(rest.get(1)?)?;
    Some((Some(first.clone()), op, 2))
}

fn parse_rules(tokens: TokenStream) -> Vec<Rule> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut rules = Vec::new();
    let mut i = 0;
    while i + 3 < tokens.len() {
        let (TokenTree::Group(pat), TokenTree::Group(body)) = (&tokens[i], &tokens[i + 3]) else {
            break;
        };
        if !is_punct(&tokens[i + 1], '=') || !is_punct(&tokens[i + 2], '>') {
            break;
        }
        let pat_tokens: Vec<TokenTree> = pat.stream().into_iter().collect();
        if let Some(pattern) = parse_pattern(&pat_tokens, 0) {
            rules.push(Rule {
                pattern,
                body: compile_body(&body.stream().into_iter().collect::<Vec<_>>(), 0),
            });
        }
        i += 4;
        if tokens.get(i).is_some_and(|t| is_punct(t, ';')) {
            i += 1;
        }
        if i >= tokens.len() {
            break;
        }
    }
    rules
}

impl Macro {
    /// A macro from the tokens of its `macro_rules!` body; `foreign` when it is defined in
    /// another file.
    pub fn new(tokens: TokenStream, foreign: bool) -> Macro {
        Macro {
            rules: parse_rules(tokens),
            respan: foreign,
        }
    }
}

#[derive(Clone)]
enum Frag {
    Leaf(Vec<TokenTree>, bool),
    /// An `item` fragment: its tokens, and the item they parsed into when it was matched (an
    /// expansion into items takes it as it is, instead of parsing its tokens again).
    Item(Rc<(Vec<TokenTree>, Item)>),
    /// The bindings of each iteration of a repetition, shared by every variable in it.
    Seq(Rc<Vec<Binds>>),
}

type Binds = rustc_hash::FxHashMap<String, Frag>;

struct Matcher {
    steps: u32,
}

fn tok_eq(a: &TokenTree, b: &TokenTree) -> bool {
    match (a, b) {
        (TokenTree::Ident(x), TokenTree::Ident(y)) => x == y,
        (TokenTree::Punct(x), TokenTree::Punct(y)) => x.as_char() == y.as_char(),
        (TokenTree::Literal(x), TokenTree::Literal(y)) => x.to_string() == y.to_string(),
        _ => false,
    }
}

/// The length of a fragment of `kind` at the start of `rest`, with the item it parsed into
/// for an `item` fragment.
fn parsed_len(rest: &[TokenTree], kind: &str) -> Option<(usize, Option<Item>)> {
    if let Some(n) = one_token_len(rest, kind) {
        return Some((n, None));
    }
    // No fragment reaches past a `;` (items and statements may end with one).
    let rest = match rest.iter().position(|t| is_punct(t, ';')) {
        Some(i) => &rest[..=i],
        None => rest,
    };
    // Nor does an item that is whole at the first brace group of its level (a body, fields,
    // a module's items) go on after it: a repetition of items is not parsed once per item
    // over all the items after it.
    if kind == "item"
        && let Some(brace) = rest
            .iter()
            .position(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace))
        && let Some((0, item)) = unparsed(&rest[..=brace], kind)
    {
        return Some((brace + 1, item));
    }
    // Nor does a fragment that is whole before a `,` of its level go on through it (a `,`
    // continues no expression, type, pattern, path or item that is complete): when the tokens
    // before the first `,` parse whole, they are the fragment, and the tokens after it (a
    // repetition's other elements) are not parsed once per element.
    if let Some(comma) = rest.iter().position(|t| is_punct(t, ','))
        && comma > 0
        && let Some((0, item)) = unparsed(&rest[..comma], kind)
    {
        return Some((comma, item));
    }
    let (remaining, item) = unparsed(rest, kind)?;
    Some((rest.len().checked_sub(remaining)?, item))
}

/// How many tokens of `rest` are left once a fragment of `kind` is parsed from its start, with
/// the item parsed for an `item` fragment.
fn unparsed(rest: &[TokenTree], kind: &str) -> Option<(usize, Option<Item>)> {
    let ts: TokenStream = rest.iter().cloned().collect();
    let parse = |input: ParseStream| -> syn::Result<(usize, Option<Item>)> {
        let mut item = None;
        match kind {
            "expr" => {
                input.parse::<Expr>()?;
            }
            "ty" => {
                input.parse::<syn::Type>()?;
            }
            "pat" => {
                syn::Pat::parse_multi_with_leading_vert(input)?;
            }
            "pat_param" => {
                syn::Pat::parse_single(input)?;
            }
            "path" => {
                input.parse::<syn::Path>()?;
            }
            "stmt" => {
                input.parse::<Stmt>()?;
            }
            "item" => {
                item = Some(input.parse::<Item>()?);
            }
            "vis" => {
                input.parse::<syn::Visibility>()?;
            }
            "meta" => {
                input.parse::<syn::Meta>()?;
            }
            _ => return Err(input.error("unsupported fragment")),
        }
        // Counted in place: collecting the rest into a stream would copy it.
        let n = input.step(|cursor| {
            let (mut rest, mut n) = (*cursor, 0);
            while let Some((_, next)) = rest.token_tree() {
                rest = next;
                n += 1;
            }
            Ok((n, rest))
        })?;
        Ok((n, item))
    };
    parse.parse2(ts).ok()
}

/// Whether `t` is a word that no keyword (strict, reserved or contextual) or `_` spells: as a
/// fragment of its own it is a whole expression, type, path or pattern.
fn plain_word(t: &TokenTree) -> bool {
    let TokenTree::Ident(id) = t else {
        return false;
    };
    let word = id.to_string();
    !matches!(
        word.as_str(),
        "_" | "as"
            | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "Self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
            | "union"
            | "default"
            | "auto"
            | "raw"
            | "safe"
            | "macro_rules"
    ) && !word.starts_with("r#")
}

/// The length of a fragment of `kind` that is one plain word or literal followed by
/// nothing, a `,` or a `;` (which end every such fragment), without parsing it.
fn one_token_len(rest: &[TokenTree], kind: &str) -> Option<usize> {
    let first = rest.first()?;
    let word = plain_word(first);
    let ok = match kind {
        "expr" => word || matches!(first, TokenTree::Literal(_)),
        "ty" | "path" | "pat" | "pat_param" => word,
        _ => false,
    };
    let ends = match rest.get(1) {
        None => true,
        Some(t) => is_punct(t, ',') || is_punct(t, ';'),
    };
    (ok && ends).then_some(1)
}

/// The length of a fragment of `kind` at the start of `rest`, with the item it parsed into
/// for an `item` fragment.
fn frag_len(kind: &str, rest: &[TokenTree]) -> Option<(usize, Option<Item>)> {
    let n = match kind {
        "tt" => (!rest.is_empty()).then_some(1),
        "ident" => matches!(rest.first(), Some(TokenTree::Ident(_))).then_some(1),
        "lifetime" => (rest.first().is_some_and(|t| is_punct(t, '\''))
            && matches!(rest.get(1), Some(TokenTree::Ident(_))))
        .then_some(2),
        "literal" => match rest.first()? {
            TokenTree::Literal(_) => Some(1),
            t if is_punct(t, '-') && matches!(rest.get(1), Some(TokenTree::Literal(_))) => Some(2),
            TokenTree::Ident(id) if id == "true" || id == "false" => Some(1),
            _ => None,
        },
        "block" => {
            matches!(rest.first(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace)
                .then_some(1)
        }
        "vis" if rest.is_empty() => Some(0),
        _ if rest.is_empty() => None,
        other => return parsed_len(rest, other).filter(|&(n, _)| n > 0 || other == "vis"),
    };
    n.map(|n| (n, None))
}

fn var_names(elems: &[PElem], out: &mut Vec<String>) {
    for e in elems {
        match e {
            PElem::Var(n, _) => out.push(n.clone()),
            PElem::Group(_, sub) | PElem::Rep(sub, _, _) => var_names(sub, out),
            PElem::Tok(_) => {}
        }
    }
}

impl Matcher {
    /// Matches `elems` against `input` from `pos`; the new position.
    fn elems(
        &mut self,
        elems: &[PElem],
        input: &[TokenTree],
        mut pos: usize,
        binds: &mut Binds,
    ) -> Option<usize> {
        for e in elems {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return None;
            }
            match e {
                PElem::Tok(t) => {
                    if !tok_eq(t, input.get(pos)?) {
                        return None;
                    }
                    pos += 1;
                }
                PElem::Group(d, sub) => {
                    let TokenTree::Group(g) = input.get(pos)? else {
                        return None;
                    };
                    if g.delimiter() != *d {
                        return None;
                    }
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    if self.elems(sub, &inner, 0, binds)? != inner.len() {
                        return None;
                    }
                    pos += 1;
                }
                PElem::Var(name, kind) => {
                    let (n, item) = frag_len(kind, &input[pos..])?;
                    let tokens = input[pos..pos + n].to_vec();
                    let frag = match item {
                        Some(item) => Frag::Item(Rc::new((tokens, item))),
                        None => Frag::Leaf(tokens, kind == "expr"),
                    };
                    binds.insert(name.clone(), frag);
                    pos += n;
                }
                PElem::Rep(sub, sep, op) => {
                    let mut seq = Vec::new();
                    loop {
                        let mut p = pos;
                        if !seq.is_empty()
                            && let Some(s) = sep
                        {
                            match input.get(p) {
                                Some(t) if tok_eq(s, t) => p += 1,
                                _ => break,
                            }
                        }
                        let mut b = Binds::default();
                        match self.elems(sub, input, p, &mut b) {
                            Some(np) if np > pos => {
                                seq.push(b);
                                pos = np;
                            }
                            _ => break,
                        }
                        if *op == '?' {
                            break;
                        }
                    }
                    if *op == '+' && seq.is_empty() {
                        return None;
                    }
                    let mut names = Vec::new();
                    var_names(sub, &mut names);
                    let seq = Rc::new(seq);
                    for n in names {
                        binds.insert(n, Frag::Seq(Rc::clone(&seq)));
                    }
                }
            }
        }
        Some(pos)
    }
}

// ----------------------------------------------------------------- transcription

/// An `item` fragment placed at the top level of an expansion into items, before the token
/// at this index.
type Placed = (usize, Rc<(Vec<TokenTree>, Item)>);

struct Transcriber {
    respan: Option<Span>,
    steps: u32,
    /// Where the `item` fragments of the top level go, when the expansion is into items (they
    /// are then left out of the tokens).
    placed: Option<Vec<Placed>>,
}

impl Transcriber {
    fn lookup<'b>(stack: &[&'b Binds], name: &str) -> Option<&'b Frag> {
        stack.iter().rev().find_map(|b| b.get(name))
    }

    fn own(&self, mut t: TokenTree) -> TokenTree {
        if let Some(s) = self.respan {
            t.set_span(s);
        }
        t
    }

    fn run(
        &mut self,
        body: &[BElem],
        stack: &mut Vec<&Binds>,
        out: &mut Vec<TokenTree>,
        depth: u32,
        top: bool,
    ) -> Option<()> {
        if depth > MAX_BODY_DEPTH {
            return None;
        }
        for e in body {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return None;
            }
            match e {
                BElem::Crate(span) => {
                    let span = self.respan.unwrap_or(*span);
                    out.push(TokenTree::Ident(Ident::new("crate", span)));
                }
                BElem::Var(name, dollar, n) => match Self::lookup(stack, name) {
                    Some(Frag::Leaf(toks, wrap)) => {
                        if *wrap {
                            let g = Group::new(Delimiter::None, toks.iter().cloned().collect());
                            out.push(TokenTree::Group(g));
                        } else {
                            out.extend(toks.iter().cloned());
                        }
                    }
                    Some(Frag::Item(item)) => match &mut self.placed {
                        Some(placed) if top => placed.push((out.len(), Rc::clone(item))),
                        _ => out.extend(item.0.iter().cloned()),
                    },
                    Some(Frag::Seq(_)) => return None,
                    None => {
                        out.push(self.own(dollar.clone()));
                        out.push(self.own(TokenTree::Ident(n.clone())));
                    }
                },
                BElem::Rep(inner, sep, order, vars) => {
                    let count = order.iter().find_map(|n| match Self::lookup(stack, n) {
                        Some(Frag::Seq(items)) => Some(items.len()),
                        _ => None,
                    })?;
                    for k in 0..count {
                        if k > 0
                            && let Some(s) = sep
                        {
                            out.push(self.own(s.clone()));
                        }
                        let items: Vec<&Binds> = inner_items(stack, vars, k);
                        let base = stack.len();
                        stack.extend(items);
                        let r = self.run(inner, stack, out, depth + 1, top);
                        stack.truncate(base);
                        r?;
                    }
                }
                BElem::Group(delimiter, span, inner) => {
                    let mut sub = Vec::new();
                    self.run(inner, stack, &mut sub, depth + 1, false)?;
                    let mut ng = Group::new(*delimiter, sub.into_iter().collect());
                    ng.set_span(self.respan.unwrap_or(*span));
                    out.push(TokenTree::Group(ng));
                }
                BElem::Tok(t) => out.push(self.own(t.clone())),
                BElem::Fail => return None,
            }
        }
        Some(())
    }
}

/// The bindings of iteration `k` of every sequence variable among `names`.
fn inner_items<'b>(stack: &[&'b Binds], names: &[String], k: usize) -> Vec<&'b Binds> {
    let mut out = Vec::new();
    for n in names {
        if let Some(Frag::Seq(items)) = Transcriber::lookup(stack, n)
            && let Some(b) = items.get(k)
        {
            out.push(b);
        }
    }
    out
}

impl Macro {
    /// Expands an invocation whose tokens are `input` (`at` is the invocation's span); `items`
    /// when the expansion is into items.
    fn expand(&self, input: TokenStream, at: Span, items: bool) -> Option<Expansion> {
        let input: Vec<TokenTree> = input.into_iter().collect();
        if input.len() > MAX_INPUT {
            return None;
        }
        for rule in &self.rules {
            let mut m = Matcher { steps: 0 };
            let mut binds = Binds::default();
            if m.elems(&rule.pattern, &input, 0, &mut binds) != Some(input.len()) {
                continue;
            }
            let mut t = Transcriber {
                respan: self.respan.then_some(at),
                steps: 0,
                placed: items.then(Vec::new),
            };
            let mut tokens = Vec::new();
            t.run(&rule.body, &mut vec![&binds], &mut tokens, 0, true)?;
            drop(binds);
            return Some(Expansion {
                tokens,
                placed: t.placed.unwrap_or_default(),
            });
        }
        None
    }
}

/// What an invocation expanded into: tokens, and, for an expansion into items, the `item`
/// fragments of its top level, placed among the tokens and already parsed.
struct Expansion {
    tokens: Vec<TokenTree>,
    placed: Vec<Placed>,
}

impl Expansion {
    /// The expansion as tokens (every fragment in place).
    fn stream(self) -> TokenStream {
        if self.placed.is_empty() {
            return self.tokens.into_iter().collect();
        }
        let mut out = Vec::with_capacity(self.tokens.len());
        let mut from = 0;
        for (at, item) in &self.placed {
            out.extend_from_slice(&self.tokens[from..*at]);
            out.extend(item.0.iter().cloned());
            from = *at;
        }
        out.extend_from_slice(&self.tokens[from..]);
        out.into_iter().collect()
    }

    /// The items of an expansion into items. The `item` fragments are taken as they were
    /// parsed, the tokens around them parsed as items and the outer attributes of the fragment
    /// after them, which gives what parsing all the tokens at once gives; when the tokens
    /// around do not split that way, all of them are parsed at once.
    fn items(self) -> Option<Vec<Item>> {
        if self.placed.is_empty() {
            return items_ending_in_invocation(&self.tokens).or_else(|| {
                syn::parse2::<syn::File>(self.stream())
                    .ok()
                    .map(|f| f.items)
            });
        }
        let Some(pieces) = self.pieces() else {
            return syn::parse2::<syn::File>(self.stream())
                .ok()
                .map(|f| f.items);
        };
        let mut out = Vec::new();
        let mut pieces = pieces.into_iter();
        for (_, fragment) in self.placed {
            let (items, attrs) = pieces.next()?;
            out.extend(items);
            let mut item = Rc::try_unwrap(fragment).map_or_else(|rc| rc.1.clone(), |(_, i)| i);
            if !attrs.is_empty() {
                let own = attrs_mut(&mut item)?;
                let after = std::mem::replace(own, attrs);
                own.extend(after);
            }
            out.push(item);
        }
        out.extend(pieces.next()?.0);
        Some(out)
    }

    /// The tokens before each placed fragment and after the last, each parsed into items and
    /// the outer attributes that end it (none after the last fragment); `None` when a piece
    /// does not parse so, or its attributes go to an item that cannot take them.
    fn pieces(&self) -> Option<Vec<(Vec<Item>, Vec<syn::Attribute>)>> {
        let mut out = Vec::with_capacity(self.placed.len() + 1);
        let mut from = 0;
        for (at, fragment) in &self.placed {
            let (items, attrs) = items_then_attrs(&self.tokens[from..*at], from == 0)?;
            if !attrs.is_empty() && matches!(fragment.1, Item::Verbatim(_)) {
                return None;
            }
            out.push((items, attrs));
            from = *at;
        }
        let (items, attrs) = items_then_attrs(&self.tokens[from..], from == 0)?;
        if !attrs.is_empty() {
            return None;
        }
        out.push((items, attrs));
        Some(out)
    }
}

/// The items of an expansion that ends in a macro invocation of its own (`path!{..}`,
/// `path!(..);`, `path![..];`, without attributes), as parsing all its tokens gives them: the
/// invocation is built from its tokens rather than parsed, so that its arguments are not read
/// again by each macro that hands them on (`inner!{ $($rest)* }`), and only the tokens before
/// it are parsed. `None` when the expansion does not end so, or the tokens before the
/// invocation are not whole items on their own (they then need the invocation's tokens).
fn items_ending_in_invocation(tokens: &[TokenTree]) -> Option<Vec<Item>> {
    let (start, mac) = trailing_invocation(tokens)?;
    let mut items = if start == 0 {
        Vec::new()
    } else {
        let head: TokenStream = tokens[..start].iter().cloned().collect();
        syn::parse2::<syn::File>(head).ok()?.items
    };
    items.push(Item::Macro(mac));
    Some(items)
}

/// The macro invocation that ends `tokens`, built as syn parses it in item position, and where
/// it starts: a path of plain words (no leading `::`), `!`, a group, and the `;` a group other
/// than braces needs, with nothing after. Anything else (attributes, an identifier after the
/// `!`, a keyword in the path, a missing or extra `;`) gives `None`.
fn trailing_invocation(tokens: &[TokenTree]) -> Option<(usize, syn::ItemMacro)> {
    let (body, semi) = match tokens.last()? {
        TokenTree::Punct(p) if p.as_char() == ';' => (&tokens[..tokens.len() - 1], Some(p)),
        _ => (tokens, None),
    };
    let n = body.len();
    if n < 3 {
        return None;
    }
    let TokenTree::Group(g) = &body[n - 1] else {
        return None;
    };
    let span = g.delim_span();
    let delimiter = match (g.delimiter(), semi) {
        (Delimiter::Brace, None) => syn::MacroDelimiter::Brace(syn::token::Brace(span)),
        (Delimiter::Parenthesis, Some(_)) => syn::MacroDelimiter::Paren(syn::token::Paren(span)),
        (Delimiter::Bracket, Some(_)) => syn::MacroDelimiter::Bracket(syn::token::Bracket(span)),
        _ => return None,
    };
    let TokenTree::Punct(bang) = &body[n - 2] else {
        return None;
    };
    if bang.as_char() != '!' {
        return None;
    }
    // The path, read backwards: word (`::` word)*.
    let mut start = n - 2;
    let mut words = Vec::new();
    let mut seps = Vec::new();
    loop {
        let Some(TokenTree::Ident(id)) = body[..start].last() else {
            return None;
        };
        if !plain_word(&body[start - 1])
            && !matches!(id.to_string().as_str(), "crate" | "self" | "super" | "Self")
        {
            return None;
        }
        words.push(id.clone());
        start -= 1;
        match (start >= 2).then(|| (&body[start - 2], &body[start - 1])) {
            Some((TokenTree::Punct(a), TokenTree::Punct(b)))
                if a.as_char() == ':'
                    && b.as_char() == ':'
                    && a.spacing() == proc_macro2::Spacing::Joint =>
            {
                seps.push(syn::Token![::]([a.span(), b.span()]));
                start -= 2;
            }
            _ => break,
        }
    }
    // A `:` right before the path would make it part of something else.
    if start > 0 && is_punct(&body[start - 1], ':') {
        return None;
    }
    let mut path = syn::Path {
        leading_colon: None,
        segments: syn::punctuated::Punctuated::new(),
    };
    let mut seps = seps.into_iter().rev();
    for (i, id) in words.into_iter().rev().enumerate() {
        if i > 0 {
            path.segments.push_punct(seps.next()?);
        }
        path.segments.push_value(syn::PathSegment::from(id));
    }
    let mac = syn::ItemMacro {
        attrs: Vec::new(),
        ident: None,
        mac: syn::Macro {
            path,
            bang_token: syn::Token![!](bang.span()),
            delimiter,
            tokens: g.stream(),
        },
        semi_token: semi.map(|p| syn::Token![;](p.span())),
    };
    Some((start, mac))
}

/// `tokens` parsed as items followed by outer attributes (`#[..]`); the first piece of an
/// expansion (`first`) may start with inner attributes, which are dropped as a file's are.
fn items_then_attrs(tokens: &[TokenTree], first: bool) -> Option<(Vec<Item>, Vec<syn::Attribute>)> {
    let mut cut = tokens.len();
    while cut >= 2
        && is_punct(&tokens[cut - 2], '#')
        && matches!(&tokens[cut - 1], TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket)
    {
        cut -= 2;
    }
    let items = if cut == 0 && !first {
        Vec::new()
    } else {
        let parse = |input: ParseStream| -> syn::Result<Vec<Item>> {
            if first {
                input.call(syn::Attribute::parse_inner)?;
            }
            let mut items = Vec::new();
            while !input.is_empty() {
                items.push(input.parse()?);
            }
            Ok(items)
        };
        parse.parse2(tokens[..cut].iter().cloned().collect()).ok()?
    };
    let attrs = if cut == tokens.len() {
        Vec::new()
    } else {
        syn::Attribute::parse_outer
            .parse2(tokens[cut..].iter().cloned().collect())
            .ok()?
    };
    Some((items, attrs))
}

/// The attributes of `item` (`None` for tokens syn does not parse into an item).
fn attrs_mut(item: &mut Item) -> Option<&mut Vec<syn::Attribute>> {
    Some(match item {
        Item::Const(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::ExternCrate(i) => &mut i.attrs,
        Item::Fn(i) => &mut i.attrs,
        Item::ForeignMod(i) => &mut i.attrs,
        Item::Impl(i) => &mut i.attrs,
        Item::Macro(i) => &mut i.attrs,
        Item::Mod(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Struct(i) => &mut i.attrs,
        Item::Trait(i) => &mut i.attrs,
        Item::TraitAlias(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Union(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}

// ----------------------------------------------------------------- rewriting the file

/// Expands the invocations of `macros` in `file`; whether anything was expanded.
pub fn expand_file(file: &mut syn::File, macros: &HashMap<String, Rc<Macro>>) -> bool {
    let mut x = Expander {
        macros,
        budget: BUDGET,
        done: 0,
    };
    x.items(&mut file.items);
    x.visit_file_mut(file);
    x.done > 0
}

struct Expander<'m> {
    macros: &'m HashMap<String, Rc<Macro>>,
    budget: u32,
    done: u32,
}

impl Expander<'_> {
    /// Expands `mac` if it invokes one of the macros (`items`: into items).
    fn expand(&mut self, mac: &syn::Macro, items: bool) -> Option<Expansion> {
        if self.budget == 0 {
            return None;
        }
        let seg = match mac.path.segments.len() {
            1 => mac.path.segments.first()?,
            2 if mac.path.segments[0].ident == "crate" => mac.path.segments.last()?,
            _ => return None,
        };
        let m = self.macros.get(&seg.ident.to_string())?;
        self.budget -= 1;
        let out = m.expand(mac.tokens.clone(), seg.ident.span(), items)?;
        self.done += 1;
        Some(out)
    }

    fn items(&mut self, items: &mut Vec<Item>) {
        let mut i = 0;
        while i < items.len() {
            let expanded = match &items[i] {
                Item::Macro(m) if m.ident.is_none() => {
                    self.expand(&m.mac, true).and_then(Expansion::items)
                }
                _ => None,
            };
            match expanded {
                Some(new) => {
                    let n = new.len();
                    items.splice(i..i + 1, new);
                    if n == 0 {
                        continue;
                    }
                }
                None => i += 1,
            }
        }
    }

    fn stmts(&mut self, stmts: &mut Vec<Stmt>) {
        let mut i = 0;
        while i < stmts.len() {
            let expanded = match &stmts[i] {
                Stmt::Macro(m) => self
                    .expand(&m.mac, false)
                    .and_then(|x| syn::Block::parse_within.parse2(x.stream()).ok()),
                Stmt::Item(Item::Macro(m)) if m.ident.is_none() => self
                    .expand(&m.mac, false)
                    .and_then(|x| syn::Block::parse_within.parse2(x.stream()).ok()),
                _ => None,
            };
            match expanded {
                Some(new) => {
                    let n = new.len();
                    stmts.splice(i..i + 1, new);
                    if n == 0 {
                        continue;
                    }
                }
                None => i += 1,
            }
        }
    }
}

impl VisitMut for Expander<'_> {
    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        if let Some((_, items)) = &mut m.content {
            self.items(items);
        }
        visit_mut::visit_item_mod_mut(self, m);
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.stmts(&mut b.stmts);
        visit_mut::visit_block_mut(self, b);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Macro(m) = e
            && let Some(ts) = self.expand(&m.mac, false).map(Expansion::stream)
        {
            let parsed = syn::parse2::<Expr>(ts.clone()).ok().or_else(|| {
                let block = Group::new(Delimiter::Brace, ts);
                syn::parse2::<Expr>(TokenTree::Group(block).into()).ok()
            });
            if let Some(new) = parsed {
                *e = new;
            }
        }
        visit_mut::visit_expr_mut(self, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `src` with its own macros expanded.
    fn expanded(src: &str) -> syn::File {
        let mut file: syn::File = syn::parse_str(src).unwrap();
        let macros: HashMap<String, Rc<Macro>> = file_defs(&file)
            .into_iter()
            .map(|(n, t)| (n, Rc::new(Macro::new(t, false))))
            .collect();
        expand_file(&mut file, &macros);
        file
    }

    fn expand_src(src: &str) -> String {
        let file = expanded(src);
        let mut names = Vec::new();
        collect_fn_names(&file.items, "", &mut names);
        names.join(" ")
    }

    fn collect_fn_names(items: &[Item], prefix: &str, out: &mut Vec<String>) {
        for item in items {
            match item {
                Item::Fn(f) => out.push(format!("{prefix}{}", f.sig.ident)),
                Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        collect_fn_names(inner, &format!("{prefix}{}::", m.ident), out);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn stamps_one_module_per_flavor() {
        let src = r#"
            macro_rules! per_flavor {
                ($($t:tt)*) => {
                    mod current { $($t)* fn rt() {} }
                    mod threaded { $($t)* fn rt() {} }
                };
            }
            per_flavor! { fn spawns() { rt(); } }
        "#;
        assert_eq!(
            expand_src(src),
            "current::spawns current::rt threaded::spawns threaded::rt"
        );
    }

    #[test]
    fn repetitions_and_fragments() {
        let src = r#"
            macro_rules! tests {
                ($($name:ident => $e:expr),* $(,)?) => { $( fn $name() { let _ = $e; } )* };
            }
            tests! { a => 1 + 2, b => call(3), }
        "#;
        assert_eq!(expand_src(src), "a b");
    }

    #[test]
    fn fragments_with_commas_of_their_own() {
        // A closure's parameters, a turbofish and a type's arguments hold commas of the
        // fragment's level: the fragment ends at the comma after them, not at the first.
        let src = r#"
            macro_rules! each {
                ($($name:ident: $t:ty = $e:expr),* $(,)?) => { $( fn $name() { let _: $t = $e; } )* };
            }
            each! {
                a: Box<dyn Fn(u8, u8) -> u8> = Box::new(|x, y| x + y),
                b: HashMap<u8, u16> = make::<u8, u16>(),
                c: u8 = 1,
            }
        "#;
        assert_eq!(expand_src(src), "a b c");
        let file = expanded(src);
        let text = quote::quote!(#file).to_string();
        assert!(text.contains("Box :: new (| x , y | x + y)"), "{text}");
        assert!(text.contains("make :: < u8 , u16 > ()"), "{text}");
    }

    #[test]
    fn repetition_of_items() {
        // Items end at their body, fields or `;`; an item whose first brace group is not its
        // end (a constant's value, a `use` list) is parsed to its `;`.
        let src = r#"
            macro_rules! gated {
                ($($item:item)*) => { $( #[cfg(feature = "rt")] $item )* };
            }
            gated! {
                use std::{fmt, io};
                const C: S = S { a: 1 };
                fn a() { let _ = S { a: 2 }; }
                struct S { a: u8 }
                mod m { fn b() {} }
                impl S { fn c(&self) {} }
                fn d() {}
            }
        "#;
        assert_eq!(expand_src(src), "a m::b d");
        let file = expanded(src);
        assert_eq!(file.items.len(), 8, "{}", quote::quote!(#file));
    }

    #[test]
    fn item_fragments_taken_as_parsed_give_what_parsing_gives() {
        // Each expansion into items, once with its `item` fragments taken as they were parsed
        // when matched and once with all its tokens parsed again, gives the same items.
        let src = r#"
            macro_rules! gated {
                ($($item:item)*) => { $( #[cfg(feature = "rt")] #[doc = "x"] $item )* };
            }
            macro_rules! around {
                ($a:item $b:item) => {
                    #![allow(dead_code)]
                    fn before() {}
                    $a
                    struct Between;
                    #[inline] #[cold] $b
                    mod inner { $a }
                    fn after() {}
                };
            }
            macro_rules! twice {
                ($i:item) => { $i mod again { $i } $i };
            }
            gated! { #[test] fn a() {} use x::{y, z}; impl S { fn c(&self) {} } }
            around! { #[allow(unused)] fn one() { one(); } const TWO: u8 = 2; }
            twice! { fn t() {} }
        "#;
        let file: syn::File = syn::parse_str(src).unwrap();
        let macros: HashMap<String, Rc<Macro>> = file_defs(&file)
            .into_iter()
            .map(|(n, t)| (n, Rc::new(Macro::new(t, false))))
            .collect();
        let mut seen = 0;
        for item in &file.items {
            let Item::Macro(m) = item else { continue };
            let Some(mac) = m
                .mac
                .path
                .get_ident()
                .and_then(|n| macros.get(&n.to_string()))
            else {
                continue;
            };
            let at = Span::call_site();
            let placed = mac.expand(m.mac.tokens.clone(), at, true).unwrap();
            assert!(!placed.placed.is_empty());
            let whole = mac.expand(m.mac.tokens.clone(), at, false).unwrap();
            assert!(whole.placed.is_empty());
            let whole = syn::parse2::<syn::File>(whole.stream()).unwrap().items;
            let text = |items: &[Item]| quote::quote!(#(#items)*).to_string();
            assert_eq!(text(&placed.items().unwrap()), text(&whole));
            seen += 1;
        }
        assert_eq!(seen, 3);
    }

    #[test]
    fn trailing_invocations_built_give_what_parsing_gives() {
        // Each expansion ending in an invocation gives, with the invocation built from its
        // tokens, the items that parsing all the tokens gives; the others are left to the parser.
        let built = [
            "inner! { a b c }",
            "inner!(a, b);",
            "inner![a];",
            "crate::inner! { x }",
            "a::b::inner!(x);",
            "self::inner! {}",
            "fn f() {} struct S; inner! { fn g() {} }",
            "#![allow(x)] use a::b; impl S { fn c(&self) {} } m::inner!(1, 2);",
        ];
        for src in built {
            let tokens: Vec<TokenTree> = src.parse::<TokenStream>().unwrap().into_iter().collect();
            let fast = items_ending_in_invocation(&tokens).expect(src);
            let whole = syn::parse_str::<syn::File>(src).unwrap().items;
            let text = |items: &[Item]| quote::quote!(#(#items)*).to_string();
            assert_eq!(text(&fast), text(&whole), "{src}");
            let Some(Item::Macro(m)) = fast.last() else {
                panic!("{src}")
            };
            let Some(Item::Macro(w)) = whole.last() else {
                panic!("{src}")
            };
            assert_eq!(m.semi_token.is_some(), w.semi_token.is_some(), "{src}");
            assert_eq!(
                m.mac.path.segments.len(),
                w.mac.path.segments.len(),
                "{src}"
            );
        }
        let left = [
            "inner!(a)",
            "inner! { a };",
            "#[cfg(x)] inner! { a }",
            "pub inner! { a }",
            "::inner! { a }",
            "macro_rules! inner { () => {} }",
            "static X: u8 = inner![a];",
            "r#inner! { a }",
            "fn f() {} + inner! {}",
        ];
        for src in left {
            let tokens: Vec<TokenTree> = src.parse::<TokenStream>().unwrap().into_iter().collect();
            assert!(items_ending_in_invocation(&tokens).is_none(), "{src}");
        }
    }

    #[test]
    fn definitions_found_in_text() {
        let text =
            "macro_rules! a { ($x:expr) => { \"}\" }; }\nfn f() {}\nmacro_rules! b(() => {});";
        let defs = text_defs(text);
        let names: Vec<&str> = defs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert!(defs[0].1.contains("$x:expr"));
    }

    #[test]
    fn invoked_names_skip_library_macros() {
        let names = invoked_names("fn f() { println!(\"x\"); my_tests! { } vec![1]; }");
        assert_eq!(names, vec!["my_tests".to_string()]);
    }
}
