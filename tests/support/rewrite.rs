//! Meaning-preserving rewrites of a program, done on text with care: rename functions and
//! locals, import under an alias, extract a function's body into a helper, move a function into
//! another module file, wrap a function in a method of a new type, make a value in a helper or
//! keep it in a field of a holder type, pass a module-level value to a function as a parameter.
//!
//! A program is a [`Tree`] of files whose lines remember where they came from, so a finding of
//! the original program can be mapped to the line it moved to. Each rewrite applies only where
//! it is safe to do so on text (single-line signatures, no attributes or decorators, no trait
//! impls, names that no library path uses) and returns `None` elsewhere.

use std::collections::{BTreeSet, HashMap};

/// One line and its origin `(path, 1-based line)`; inserted lines have none.
#[derive(Clone, Debug)]
pub struct Line {
    pub text: String,
    pub origin: Option<(String, u32)>,
}

/// The files of a program, by relative path.
#[derive(Clone, Debug)]
pub struct Tree {
    pub files: Vec<(String, Vec<Line>)>,
}

impl Tree {
    /// A tree from file texts; every line is its own origin.
    pub fn new(files: &[(String, String)]) -> Tree {
        let files = files
            .iter()
            .map(|(path, text)| {
                let lines = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| Line {
                        text: l.to_string(),
                        origin: Some((path.clone(), i as u32 + 1)),
                    })
                    .collect();
                (path.clone(), lines)
            })
            .collect();
        Tree { files }
    }

    /// The file texts.
    pub fn texts(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|(p, lines)| {
                let mut s: String = lines.iter().map(|l| format!("{}\n", l.text)).collect();
                if s.is_empty() {
                    s.push('\n');
                }
                (p.clone(), s)
            })
            .collect()
    }

    /// Where each original line is now.
    pub fn moves(&self) -> HashMap<(String, u32), (String, u32)> {
        let mut out = HashMap::new();
        for (path, lines) in &self.files {
            for (i, l) in lines.iter().enumerate() {
                if let Some(o) = &l.origin {
                    out.insert(o.clone(), (path.clone(), i as u32 + 1));
                }
            }
        }
        out
    }

    fn file_mut(&mut self, path: &str) -> &mut Vec<Line> {
        &mut self
            .files
            .iter_mut()
            .find(|(p, _)| p == path)
            .expect("file of the tree")
            .1
    }

    fn all_text(&self) -> String {
        self.texts().into_iter().map(|(_, t)| t).collect()
    }
}

fn new_line(text: impl Into<String>) -> Line {
    Line {
        text: text.into(),
        origin: None,
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces whole-word occurrences of `from`; `keep` vetoes one occurrence given the text before
/// and after it.
fn replace_word(text: &str, from: &str, to: &str, keep: &dyn Fn(&str, &str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before_all = String::new();
    while let Some(at) = rest.find(from) {
        let before = &rest[..at];
        let after = &rest[at + from.len()..];
        let prev = before
            .chars()
            .next_back()
            .or_else(|| before_all.chars().next_back());
        let next = after.chars().next();
        let boundary = !prev.is_some_and(is_word) && !next.is_some_and(is_word);
        out.push_str(before);
        before_all.push_str(before);
        if boundary && !keep(&before_all, after) {
            out.push_str(to);
        } else {
            out.push_str(from);
        }
        before_all.push_str(from);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Renames a word in every line of every file.
fn rename_everywhere(tree: &mut Tree, from: &str, to: &str, keep: &dyn Fn(&str, &str) -> bool) {
    for (_, lines) in &mut tree.files {
        for l in lines.iter_mut() {
            if l.text.contains(from) {
                l.text = replace_word(&l.text, from, to, keep);
            }
        }
    }
}

fn indent_of(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// Names no rewrite may touch: every segment of a knowledge-base path, and common trait, std
/// and framework names.
pub fn reserved_names() -> BTreeSet<String> {
    let mut out: BTreeSet<String> = [
        "main",
        "new",
        "drop",
        "poll",
        "fmt",
        "from",
        "into",
        "deref",
        "next",
        "call",
        "clone",
        "default",
        "eq",
        "hash",
        "run",
        "get",
        "set",
        "send",
        "close",
        "build",
        "handle",
        "spawn",
        "start",
        "stop",
        "init",
        "setup",
        "self",
        "Self",
        "super",
        "crate",
        "test",
        "app",
        "request",
        "response",
        "result",
        "value",
        "len",
        "iter",
        "map",
        "join",
        "wait",
        "lock",
        "read",
        "write",
        "open",
        "connect",
        "query",
        "execute",
        "fetch",
        "client",
        "session",
        "loop",
        "task",
        "future",
        "sleep",
        "time",
        "sync",
        "future",
        "error",
        "Error",
        "Ok",
        "Err",
        "Some",
        "None",
        "cls",
        "print",
        "format",
        "println",
        "assert",
        "json",
        "text",
        "status",
        "body",
        "data",
        "name",
        "path",
        "url",
        "timeout",
        "args",
        "kwargs",
        // pytest-asyncio finds the fixture that gives tests their loop by this name.
        "event_loop",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/knowledge");
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            for line in text.lines() {
                if let Some(rest) = line.trim().strip_prefix("path = \"") {
                    let path = rest.trim_end_matches('"');
                    for seg in path.split(['.', ':']) {
                        if !seg.is_empty() {
                            out.insert(seg.to_string());
                        }
                    }
                }
            }
        }
    }
    out
}

/// A function found on text.
#[derive(Clone, Debug)]
struct FnSite {
    file: String,
    /// Index of the signature line.
    line: usize,
    /// Index one past the last line of the body.
    end: usize,
    name: String,
    is_async: bool,
    /// Parameter text between the parentheses.
    params: String,
    /// Receiver: `self` methods (Rust `&self`/`self`, Python first parameter).
    is_method: bool,
    /// Attribute, decorator, trait impl or trait definition around it.
    decorated: bool,
    indent: usize,
    /// Rust: an associated function of an inherent impl (called as `Self::name`).
    in_impl: bool,
}

impl FnSite {
    fn contains(&self, hot: &BTreeSet<(String, u32)>) -> bool {
        hot.iter()
            .any(|(f, l)| *f == self.file && (*l as usize) > self.line && (*l as usize) <= self.end)
    }
}

/// Finds Rust functions with a one-line signature ending in `{`.
fn rust_fns(tree: &Tree) -> Vec<FnSite> {
    let mut out = Vec::new();
    for (path, lines) in &tree.files {
        if !path.ends_with(".rs") {
            continue;
        }
        for (i, l) in lines.iter().enumerate() {
            let t = l.text.trim_start();
            let mut s = t;
            for prefix in ["pub(crate) ", "pub(super) ", "pub "] {
                if let Some(r) = s.strip_prefix(prefix) {
                    s = r;
                }
            }
            let is_async = s.starts_with("async ");
            if let Some(r) = s.strip_prefix("async ") {
                s = r;
            }
            let Some(r) = s.strip_prefix("fn ") else {
                continue;
            };
            if !t.trim_end().ends_with('{') {
                continue;
            }
            let name: String = r.chars().take_while(|c| is_word(*c)).collect();
            let after = &r[name.len()..];
            if name.is_empty() || !after.starts_with('(') || after.contains("where") {
                continue;
            }
            let Some(close) = matching_paren(after) else {
                continue;
            };
            let params = after[1..close].to_string();
            let Some(end) = rust_block_end(lines, i) else {
                continue;
            };
            let indent = indent_of(&l.text);
            let mut decorated = false;
            let mut j = i;
            while j > 0 {
                j -= 1;
                let p = lines[j].text.trim_start();
                if p.starts_with("///") || p.starts_with("//") {
                    continue;
                }
                decorated = p.starts_with("#[");
                break;
            }
            // The enclosing item: a trait impl or trait definition rules the rewrites out.
            let mut in_impl = false;
            if indent > 0 {
                let mut k = i;
                while k > 0 {
                    k -= 1;
                    let p = &lines[k].text;
                    if !p.trim().is_empty() && indent_of(p) < indent {
                        let p = p.trim_start();
                        if p.starts_with("trait ")
                            || p.starts_with("pub trait ")
                            || (p.starts_with("impl") && p.contains(" for "))
                        {
                            decorated = true;
                        }
                        in_impl = p.starts_with("impl");
                        break;
                    }
                }
            }
            let first = params.split(',').next().unwrap_or("").trim();
            let is_method = matches!(first, "&self" | "&mut self" | "self" | "mut self");
            out.push(FnSite {
                file: path.clone(),
                line: i,
                end,
                name,
                is_async,
                params,
                is_method,
                decorated,
                indent,
                in_impl,
            });
        }
    }
    out
}

fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// One past the line holding the `}` that closes the block opened at the end of line `start`.
fn rust_block_end(lines: &[Line], start: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, l) in lines.iter().enumerate().skip(start) {
        let chars: Vec<char> = l.text.chars().collect();
        let mut k = 0;
        let mut in_str = false;
        while k < chars.len() {
            let c = chars[k];
            if in_str {
                if c == '\\' {
                    k += 1;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '/' && chars.get(k + 1) == Some(&'/') {
                break;
            } else if c == '"' {
                in_str = true;
            } else if c == '\'' {
                // A char literal ('x', '\n', '{'); lifetimes have no closing quote nearby.
                if chars.get(k + 1) == Some(&'\\') && chars.get(k + 3) == Some(&'\'') {
                    k += 3;
                } else if chars.get(k + 2) == Some(&'\'') {
                    k += 2;
                }
            } else if c == '{' {
                depth += 1;
            } else if c == '}' {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            k += 1;
        }
        if in_str {
            // Multi-line strings: give up rather than guess.
            return None;
        }
    }
    None
}

/// Finds Python functions with a one-line signature.
fn python_fns(tree: &Tree) -> Vec<FnSite> {
    let mut out = Vec::new();
    for (path, lines) in &tree.files {
        if !path.ends_with(".py") {
            continue;
        }
        for (i, l) in lines.iter().enumerate() {
            let t = l.text.trim_start();
            let is_async = t.starts_with("async def ");
            let Some(r) = t
                .strip_prefix("async def ")
                .or_else(|| t.strip_prefix("def "))
            else {
                continue;
            };
            if !t.trim_end().ends_with(':') {
                continue;
            }
            let name: String = r.chars().take_while(|c| is_word(*c)).collect();
            let after = &r[name.len()..];
            let Some(close) = matching_paren(after) else {
                continue;
            };
            let params = after[1..close].to_string();
            let indent = indent_of(&l.text);
            let mut end = i + 1;
            let mut k = i + 1;
            while k < lines.len() {
                let s = &lines[k].text;
                if s.trim().is_empty() {
                    k += 1;
                    continue;
                }
                if indent_of(s) <= indent {
                    break;
                }
                k += 1;
                end = k;
            }
            let prev = (0..i)
                .rev()
                .map(|j| lines[j].text.trim())
                .find(|s| !s.is_empty())
                .unwrap_or("");
            let decorated = prev.starts_with('@');
            let first = params.split(',').next().unwrap_or("").trim();
            let first = first.split(':').next().unwrap_or("").trim();
            let is_method = indent > 0 && matches!(first, "self" | "cls");
            out.push(FnSite {
                file: path.clone(),
                line: i,
                end,
                name,
                is_async,
                params,
                is_method,
                decorated,
                indent,
                in_impl: false,
            });
        }
    }
    out
}

/// Picks the candidate holding a hot line (a finding of the original), else the first one.
fn pick(cands: Vec<FnSite>, hot: &BTreeSet<(String, u32)>) -> Option<FnSite> {
    let hot_one = cands.iter().find(|f| f.contains(hot)).cloned();
    hot_one.or_else(|| cands.into_iter().next())
}

fn file_stems(tree: &Tree) -> BTreeSet<String> {
    tree.files
        .iter()
        .flat_map(|(p, _)| {
            p.split('/')
                .map(|s| s.split('.').next().unwrap_or("").to_string())
        })
        .collect()
}

/// The rewrites, by name.
pub const REWRITES: &[&str] = &[
    "rename_functions",
    "rename_locals",
    "alias_import",
    "extract_body",
    "move_to_module",
    "wrap_in_method",
    "value_from_helper",
    "value_in_field",
    "value_as_parameter",
];

/// Paths of the knowledge base that make runtime-bound values or runtimes.
pub fn creator_paths() -> Vec<String> {
    let mut out = Vec::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/knowledge");
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for entry in text.split("[[api]]") {
            let concept = entry
                .lines()
                .find_map(|l| l.trim().strip_prefix("concept = \""))
                .map(|c| c.trim_end_matches('"'));
            if !matches!(concept, Some("runtime-bound" | "runtime-new")) {
                continue;
            }
            if let Some(path) = entry
                .lines()
                .find_map(|l| l.trim().strip_prefix("path = \""))
            {
                out.push(path.trim_end_matches('"').to_string());
            }
        }
    }
    out
}

/// A local made by a creator call on one line: `(file, line index, name, right-hand side)`.
struct Creation {
    file: String,
    line: usize,
    name: String,
    rhs: String,
    /// Rust: the type the helper returns.
    ty: String,
}

/// Whether `callee` (`httpx.AsyncClient`, `Runtime::new`) names a creator path by a suffix of at
/// least two segments.
fn is_creator(callee: &str, creators: &[String]) -> bool {
    let sep = if callee.contains("::") { "::" } else { "." };
    let segs: Vec<&str> = callee.split(sep).collect();
    if segs.len() < 2 {
        return false;
    }
    creators.iter().any(|p| {
        let ps: Vec<&str> = p.split(sep).collect();
        ps.len() >= segs.len() && ps[ps.len() - segs.len()..] == segs[..]
    })
}

/// Whether an argument list uses nothing local: literals, keyword names, paths and modules.
fn args_are_constant(args: &str, python: bool) -> bool {
    let mut chars = args.chars().peekable();
    let mut in_str = false;
    let mut word = String::new();
    let mut prev_sep = ' ';
    let mut ok = true;
    let flush = |word: &mut String, next: Option<char>, prev: char, ok: &mut bool| {
        if word.is_empty() {
            return;
        }
        let w = std::mem::take(word);
        let first = w.chars().next().unwrap_or('0');
        let literal = first.is_ascii_digit()
            || matches!(w.as_str(), "True" | "False" | "None" | "true" | "false");
        let kwarg = python && next == Some('=');
        let path_part = prev == '.'
            || prev == ':'
            || next == Some('.')
            || next == Some(':')
            || first.is_uppercase();
        if !(literal || kwarg || path_part) {
            *ok = false;
        }
    };
    while let Some(c) = chars.next() {
        if in_str {
            if c == '\\' {
                chars.next();
            } else if c == '"' || c == '\'' {
                in_str = false;
            }
            continue;
        }
        if c == '"' || (python && c == '\'') {
            in_str = true;
            continue;
        }
        if is_word(c) {
            word.push(c);
        } else {
            flush(&mut word, Some(c), prev_sep, &mut ok);
            prev_sep = c;
        }
    }
    flush(&mut word, None, prev_sep, &mut ok);
    ok
}

fn creations(tree: &Tree, python: bool, creators: &[String]) -> Vec<Creation> {
    let mut out = Vec::new();
    for (path, lines) in &tree.files {
        if !(python && path.ends_with(".py") || !python && path.ends_with(".rs")) {
            continue;
        }
        for (i, l) in lines.iter().enumerate() {
            let t = l.text.trim();
            // Rust locals live in functions; Python values may also be module globals.
            if !python && indent_of(&l.text) == 0 {
                continue;
            }
            let (name, rhs) = if python {
                let n: String = t.chars().take_while(|c| is_word(*c)).collect();
                let Some(rhs) = t[n.len()..].strip_prefix(" = ") else {
                    continue;
                };
                (n, rhs.to_string())
            } else {
                let Some(r) = t.strip_prefix("let ") else {
                    continue;
                };
                let r = r.strip_prefix("mut ").unwrap_or(r);
                let n: String = r.chars().take_while(|c| is_word(*c)).collect();
                let Some(rhs) = r[n.len()..].strip_prefix(" = ") else {
                    continue;
                };
                let Some(rhs) = rhs.strip_suffix(';') else {
                    continue;
                };
                (n, rhs.to_string())
            };
            if name.is_empty() || rhs.contains("//") || rhs.contains('#') {
                continue;
            }
            let Some(open) = rhs.find('(') else {
                continue;
            };
            let callee = rhs[..open].trim();
            if !callee.chars().all(|c| is_word(c) || c == '.' || c == ':')
                || !is_creator(callee, creators)
            {
                continue;
            }
            let Some(close) = matching_paren(&rhs[open..]) else {
                continue;
            };
            let args = &rhs[open + 1..open + close];
            let tail = &rhs[open + close + 1..];
            if !args_are_constant(args, python) {
                continue;
            }
            let ty = if python {
                String::new()
            } else {
                // `Type::ctor(..)` with an optional unwrap: the helper returns `Type`.
                let tail_ok = tail.is_empty()
                    || tail == ".unwrap()"
                    || (tail.starts_with(".expect(\"")
                        && tail.ends_with("\")")
                        && !tail[9..tail.len() - 2].contains('"'));
                let Some((ty, _)) = callee.rsplit_once("::") else {
                    continue;
                };
                let last = ty.rsplit("::").next().unwrap_or("");
                if !tail_ok || !last.chars().next().is_some_and(|c| c.is_uppercase()) {
                    continue;
                }
                ty.to_string()
            };
            if !python && tail.contains('?') {
                continue;
            }
            if python && !tail.is_empty() {
                continue;
            }
            out.push(Creation {
                file: path.clone(),
                line: i,
                name,
                rhs,
                ty,
            });
        }
    }
    out
}

/// The function around a line (Python: the nearest `def` above at a lower indent).
fn enclosing(fns: &[FnSite], file: &str, line: usize) -> Option<FnSite> {
    fns.iter()
        .filter(|f| f.file == file && f.line < line && line < f.end)
        .max_by_key(|f| f.line)
        .cloned()
}

fn pick_creation(
    tree: &Tree,
    python: bool,
    hot: &BTreeSet<(String, u32)>,
    top_level_only: bool,
) -> Option<(Creation, FnSite)> {
    let creators = creator_paths();
    let fns = if python {
        python_fns(tree)
    } else {
        rust_fns(tree)
    };
    let mut cands: Vec<(Creation, FnSite)> = creations(tree, python, &creators)
        .into_iter()
        .filter_map(|c| {
            let module_level = python
                && tree
                    .files
                    .iter()
                    .find(|(p, _)| *p == c.file)
                    .is_some_and(|(_, lines)| indent_of(&lines[c.line].text) == 0);
            if module_level {
                let len = tree.files.iter().find(|(p, _)| *p == c.file)?.1.len();
                let whole = FnSite {
                    file: c.file.clone(),
                    line: 0,
                    end: len,
                    name: String::new(),
                    is_async: false,
                    params: String::new(),
                    is_method: false,
                    decorated: false,
                    indent: 0,
                    in_impl: false,
                };
                return Some((c, whole));
            }
            let f = enclosing(&fns, &c.file, c.line)?;
            (!top_level_only || f.indent == 0).then_some((c, f))
        })
        .collect();
    let hot_at = cands.iter().position(|(_, f)| f.contains(hot));
    match hot_at {
        Some(i) => Some(cands.swap_remove(i)),
        None => cands.into_iter().next(),
    }
}

/// Index after the last top-level import of a Python module.
fn after_imports(lines: &[Line]) -> usize {
    lines
        .iter()
        .rposition(|l| {
            indent_of(&l.text) == 0
                && (l.text.starts_with("import ") || l.text.starts_with("from "))
        })
        .map_or(0, |i| i + 1)
}

/// The value a local is made from comes back from a new helper.
fn value_from_helper(tree: &Tree, python: bool, hot: &BTreeSet<(String, u32)>) -> Option<Tree> {
    let (c, _) = pick_creation(tree, python, hot, !python)?;
    let mut out = tree.clone();
    let lines = out.file_mut(&c.file);
    let helper = format!("make_{}_mm", c.name.trim_start_matches('_'));
    lines[c.line].text = lines[c.line]
        .text
        .replacen(&c.rhs, &format!("{helper}()"), 1);
    if python {
        let at = after_imports(lines);
        lines.splice(
            at..at,
            [
                new_line(""),
                new_line(""),
                new_line(format!("def {helper}():")),
                new_line(format!("    return {}", c.rhs)),
                new_line(""),
            ],
        );
    } else {
        lines.push(new_line(""));
        lines.push(new_line(format!("fn {helper}() -> {} {{", c.ty)));
        lines.push(new_line(format!("    {}", c.rhs)));
        lines.push(new_line("}"));
    }
    Some(out)
}

/// A local is kept in a field of a new holder type instead.
fn value_in_field(tree: &Tree, python: bool, hot: &BTreeSet<(String, u32)>) -> Option<Tree> {
    let (c, f) = pick_creation(tree, python, hot, !python)?;
    if f.name.is_empty() {
        // A module global: other modules may import it by name.
        return None;
    }
    let mut out = tree.clone();
    let lines = out.file_mut(&c.file);
    let body: String = lines[c.line + 1..f.end]
        .iter()
        .map(|l| format!("{}\n", l.text))
        .collect();
    let whole: String = lines[f.line.min(c.line)..f.end]
        .iter()
        .map(|l| format!("{}\n", l.text))
        .collect();
    // Shorthand fields, rebinding and `global` would change meaning under a text rewrite.
    let n = &c.name;
    if whole.contains(&format!("global {n}")) || whole.contains(&format!("nonlocal {n}")) {
        return None;
    }
    if body.contains(&format!("{{ {n}"))
        || body.contains(&format!("{n} }}"))
        || body.contains(&format!(", {n},"))
        || body.contains(&format!("global {n}"))
        || body.contains(&format!("let {n}"))
        || body.contains(&format!("let mut {n}"))
        || body.contains(&format!("{n} = "))
        || body.contains(&format!("nonlocal {n}"))
    {
        return None;
    }
    let holder = format!("{}_holder_mm", n.trim_start_matches('_'));
    let access = format!("{holder}.value");
    if python {
        lines[c.line].text = lines[c.line].text.replacen(
            &format!("{n} = {}", c.rhs),
            &format!("{holder} = HolderMm({})", c.rhs),
            1,
        );
    } else {
        let t = lines[c.line].text.clone();
        let t = t.replacen(
            &format!("let mut {n} = "),
            &format!("let mut {holder} = "),
            1,
        );
        let t = t.replacen(&format!("let {n} = "), &format!("let mut {holder} = "), 1);
        lines[c.line].text = t.replacen(
            &format!("= {};", c.rhs),
            &format!("= HolderMm {{ value: {} }};", c.rhs),
            1,
        );
    }
    // A keyword argument's name (`loop=loop`) is not the local.
    for l in &mut lines[c.line + 1..f.end] {
        l.text = replace_word(&l.text, n, &access, &|b, a| {
            b.ends_with('.')
                || b.ends_with("::")
                || (python && a.starts_with('=') && !a.starts_with("=="))
        });
    }
    if python {
        let at = after_imports(lines);
        lines.splice(
            at..at,
            [
                new_line(""),
                new_line(""),
                new_line("class HolderMm:"),
                new_line("    def __init__(self, value):"),
                new_line("        self.value = value"),
                new_line(""),
            ],
        );
    } else {
        lines.push(new_line(""));
        lines.push(new_line("struct HolderMm<T> {"));
        lines.push(new_line("    value: T,"));
        lines.push(new_line("}"));
    }
    Some(out)
}

/// Applies one rewrite; `None` where it does not apply.
pub fn apply(
    rewrite: &str,
    tree: &Tree,
    python: bool,
    hot: &BTreeSet<(String, u32)>,
    reserved: &BTreeSet<String>,
) -> Option<Tree> {
    match rewrite {
        "rename_functions" => rename_functions(tree, python, reserved),
        "rename_locals" => rename_locals(tree, python, reserved),
        "alias_import" => alias_import(tree, python),
        "extract_body" => extract_body(tree, python, hot),
        "move_to_module" => move_to_module(tree, python, hot),
        "wrap_in_method" => wrap_in_method(tree, python, hot, reserved),
        "value_from_helper" => value_from_helper(tree, python, hot),
        "value_in_field" => value_in_field(tree, python, hot),
        "value_as_parameter" => value_as_parameter(tree, python, hot),
        other => panic!("unknown rewrite {other}"),
    }
}

fn rename_functions(tree: &Tree, python: bool, reserved: &BTreeSet<String>) -> Option<Tree> {
    let fns = if python {
        python_fns(tree)
    } else {
        rust_fns(tree)
    };
    let stems = file_stems(tree);
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut vetoed: BTreeSet<String> = BTreeSet::new();
    for f in &fns {
        // Trait methods must keep the trait's names; dunders and reserved names stay.
        // Framework hooks are found by name (`pytest_collection_modifyitems`).
        let bad = (!python && f.decorated && f.indent > 0)
            || f.name.starts_with("__")
            || f.name.starts_with("pytest_")
            || reserved.contains(&f.name)
            || stems.contains(&f.name)
            || f.name.len() < 3;
        if bad {
            vetoed.insert(f.name.clone());
        } else {
            names.insert(f.name.clone());
        }
    }
    let names: Vec<String> = names.difference(&vetoed).cloned().collect();
    if names.is_empty() {
        return None;
    }
    let mut out = tree.clone();
    for name in &names {
        // `test_x` stays a test: the suffix keeps the prefix.
        let to = format!("{name}_mm");
        rename_everywhere(&mut out, name, &to, &|_, _| false);
    }
    Some(out)
}

fn rename_locals(tree: &Tree, python: bool, reserved: &BTreeSet<String>) -> Option<Tree> {
    let text = tree.all_text();
    let stems = file_stems(tree);
    let mut names = BTreeSet::new();
    for (path, lines) in &tree.files {
        let ok_file = if python {
            path.ends_with(".py")
        } else {
            path.ends_with(".rs")
        };
        if !ok_file {
            continue;
        }
        for l in lines {
            let t = l.text.trim_start();
            let name: String = if python {
                if indent_of(&l.text) == 0 {
                    continue;
                }
                let n: String = t.chars().take_while(|c| is_word(*c)).collect();
                if !t[n.len()..].starts_with(" = ") {
                    continue;
                }
                n
            } else {
                let Some(r) = t.strip_prefix("let ") else {
                    continue;
                };
                let r = r.strip_prefix("mut ").unwrap_or(r);
                let n: String = r.chars().take_while(|c| is_word(*c)).collect();
                let after = &r[n.len()..];
                if !(after.starts_with(" =") || after.starts_with(':')) {
                    continue;
                }
                n
            };
            if name.len() >= 3
                && !reserved.contains(&name)
                && !stems.contains(&name)
                && !name.starts_with('_')
                && name.chars().next().is_some_and(|c| c.is_lowercase())
            {
                names.insert(name);
            }
        }
    }
    // A name also used as a field, method, keyword argument or shorthand field stays.
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| {
            !text.contains(&format!(".{n}"))
                && !text.contains(&format!("{n}="))
                && !text.contains(&format!("{{ {n} }}"))
                && !text.contains(&format!("{{ {n},"))
                && !text.contains(&format!(", {n} }}"))
                && !text.contains(&format!(" {n}: "))
                && !text.contains(&format!("def {n}"))
                && !text.contains(&format!("fn {n}"))
                && !text.contains(&format!("import {n}"))
                && !text.contains(&format!("{n}::"))
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut out = tree.clone();
    for name in &names {
        let to = format!("{name}_mm");
        rename_everywhere(&mut out, name, &to, &|before, _| before.ends_with('.'));
    }
    Some(out)
}

fn alias_import(tree: &Tree, python: bool) -> Option<Tree> {
    let mut out = tree.clone();
    let mut changed = false;
    for (_, lines) in &mut out.files {
        let mut renames: Vec<(String, String, bool)> = Vec::new();
        for l in lines.iter_mut() {
            let t = l.text.clone();
            if indent_of(&t) > 0 {
                continue;
            }
            if python {
                // `import a.b` -> `import a.b as a_b_mm`; later `a.b.` uses follow.
                if let Some(m) = t.strip_prefix("import ")
                    && !m.contains(',')
                    && !m.contains(" as ")
                {
                    let m = m.trim().to_string();
                    let alias = format!("{}_mm", m.replace('.', "_"));
                    l.text = format!("import {m} as {alias}");
                    renames.push((format!("{m}."), format!("{alias}."), true));
                } else if let Some(r) = t.strip_prefix("from ")
                    && let Some((module, names)) = r.split_once(" import ")
                    && !names.contains('(')
                    && !names.contains(" as ")
                    && !names.contains('*')
                {
                    let mut parts = Vec::new();
                    for n in names.split(',') {
                        let n = n.trim().to_string();
                        let alias = format!("{n}_mm");
                        parts.push(format!("{n} as {alias}"));
                        renames.push((n, alias, false));
                    }
                    l.text = format!("from {module} import {}", parts.join(", "));
                } else {
                    continue;
                }
            } else {
                // `use a::b::C;` -> `use a::b::C as CMm;`
                let Some(r) = t.strip_prefix("use ") else {
                    continue;
                };
                let r = r.trim_end();
                let Some(path) = r.strip_suffix(';') else {
                    continue;
                };
                if path.contains('{') || path.contains(" as ") || path.ends_with('*') {
                    continue;
                }
                let Some(last) = path.rsplit("::").next() else {
                    continue;
                };
                if !last.chars().next().is_some_and(|c| c.is_uppercase()) {
                    continue;
                }
                let alias = format!("{last}Mm");
                l.text = format!("use {path} as {alias};");
                renames.push((last.to_string(), alias, false));
            }
            changed = true;
        }
        for (from, to, prefix) in renames {
            for l in lines.iter_mut() {
                let t = l.text.trim_start();
                if t.starts_with("import ") || t.starts_with("from ") || t.starts_with("use ") {
                    continue;
                }
                if prefix {
                    // Module prefix: whole-word start, any continuation.
                    let head = from.trim_end_matches('.');
                    l.text = replace_word(&l.text, head, to.trim_end_matches('.'), &|b, a| {
                        !a.starts_with('.') || b.ends_with('.')
                    });
                } else {
                    l.text = replace_word(&l.text, &from, &to, &|b, _| {
                        b.ends_with('.') || b.ends_with("::")
                    });
                }
            }
        }
    }
    changed.then_some(out)
}

/// Parameter names forwarded to an extracted body.
fn forward_args(params: &str, python: bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    let mut parts = Vec::new();
    for c in params.chars() {
        match c {
            '(' | '[' | '<' | '{' => depth += 1,
            ')' | ']' | '>' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    for (i, p) in parts.iter().enumerate() {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if python {
            if i == 0 && (p == "self" || p == "cls" || p.starts_with("self:")) {
                continue;
            }
            if p == "*" || p == "/" {
                return None;
            }
            let name = p.split([':', '=']).next().unwrap_or("").trim();
            if let Some(n) = name.strip_prefix("**") {
                out.push(format!("**{n}"));
            } else if let Some(n) = name.strip_prefix('*') {
                out.push(format!("*{n}"));
            } else {
                out.push(format!("{name}={name}"));
            }
        } else {
            if matches!(p, "&self" | "&mut self" | "self" | "mut self") {
                continue;
            }
            let (pat, _) = p.split_once(':')?;
            let pat = pat.trim().strip_prefix("mut ").unwrap_or(pat.trim());
            if !pat.chars().all(is_word) {
                return None;
            }
            out.push(pat.to_string());
        }
    }
    Some(out)
}

fn extract_body(tree: &Tree, python: bool, hot: &BTreeSet<(String, u32)>) -> Option<Tree> {
    let fns = if python {
        python_fns(tree)
    } else {
        rust_fns(tree)
    };
    let cands: Vec<FnSite> = fns
        .into_iter()
        .filter(|f| !f.decorated && f.name != "main" && !f.name.starts_with("__"))
        .filter(|f| forward_args(&f.params, python).is_some())
        .filter(|f| !python || f.indent == 0 || f.is_method)
        .collect();
    let f = pick(cands, hot)?;
    let args = forward_args(&f.params, python)?;
    let mut out = tree.clone();
    let lines = out.file_mut(&f.file);
    if python
        && lines[f.line..f.end].iter().any(|l| {
            let t = l.text.trim_start();
            t.starts_with("yield") || t.contains(" yield ") || t.starts_with("nonlocal")
        })
    {
        return None;
    }
    let inner = format!("{}_body_mm", f.name);
    let sig = lines[f.line].text.clone();
    lines[f.line].text = replace_word(&sig, &f.name, &inner, &|_, _| false);
    let pad = " ".repeat(f.indent);
    let recv = if f.is_method {
        "self."
    } else if f.in_impl {
        "Self::"
    } else {
        ""
    };
    let mut wrapper = Vec::new();
    if python {
        let call = format!("{recv}{inner}({})", args.join(", "));
        let aw = if f.is_async { "await " } else { "" };
        wrapper.push(new_line(""));
        wrapper.push(new_line(sig));
        wrapper.push(new_line(format!("{pad}    return {aw}{call}")));
    } else {
        let call = format!("{recv}{inner}({})", args.join(", "));
        let aw = if f.is_async { ".await" } else { "" };
        wrapper.push(new_line(""));
        wrapper.push(new_line(sig));
        wrapper.push(new_line(format!("{pad}    {call}{aw}")));
        wrapper.push(new_line(format!("{pad}}}")));
    }
    let at = f.end;
    lines.splice(at..at, wrapper);
    Some(out)
}

/// Top-level names a Python module defines.
fn python_top_names(lines: &[Line]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in lines {
        if indent_of(&l.text) > 0 {
            continue;
        }
        let t = l.text.as_str();
        let rest = t
            .strip_prefix("async def ")
            .or_else(|| t.strip_prefix("def "))
            .or_else(|| t.strip_prefix("class "));
        let name: String = match rest {
            Some(r) => r.chars().take_while(|c| is_word(*c)).collect(),
            None => {
                let n: String = t.chars().take_while(|c| is_word(*c)).collect();
                // `name = ..` and the annotated `name: T = ..`.
                let after = t[n.len()..].trim_start();
                if !n.is_empty() && (after.starts_with('=') || after.starts_with(':')) {
                    n
                } else {
                    continue;
                }
            }
        };
        out.insert(name);
    }
    out
}

fn move_to_module(tree: &Tree, python: bool, hot: &BTreeSet<(String, u32)>) -> Option<Tree> {
    if python {
        move_python(tree, hot)
    } else {
        move_rust(tree, hot)
    }
}

fn move_python(tree: &Tree, hot: &BTreeSet<(String, u32)>) -> Option<Tree> {
    let fns = python_fns(tree);
    let mut cands = Vec::new();
    for f in fns {
        if f.decorated || f.indent > 0 || f.name.starts_with("test") || f.name == "main" {
            continue;
        }
        let lines = &tree.files.iter().find(|(p, _)| *p == f.file)?.1;
        let top = python_top_names(lines);
        let body: String = lines[f.line + 1..f.end]
            .iter()
            .map(|l| format!("{}\n", l.text))
            .collect();
        // Only functions that need nothing else of their module move (no import cycles).
        let needs_other = top
            .iter()
            .any(|n| *n != f.name && replace_word(&body, n, "\u{1}", &|_, _| false) != body);
        let recursive = replace_word(&body, &f.name, "\u{1}", &|_, _| false) != body;
        if !needs_other && !recursive {
            cands.push(f);
        }
    }
    let f = pick(cands, hot)?;
    let mut out = tree.clone();
    let (dir, stem) = match f.file.rsplit_once('/') {
        Some((d, name)) => (format!("{d}/"), name.trim_end_matches(".py").to_string()),
        None => (String::new(), f.file.trim_end_matches(".py").to_string()),
    };
    let package = dir.trim_end_matches('/').replace('/', ".");
    // Named to sort before the module it leaves: findings must not depend on file order.
    let new_mod = format!("_mm_{stem}");
    let new_path = format!("{dir}{new_mod}.py");
    let lines = out.file_mut(&f.file);
    let moved: Vec<Line> = lines.drain(f.line..f.end).collect();
    let imports: Vec<Line> = lines
        .iter()
        .filter(|l| {
            indent_of(&l.text) == 0
                && (l.text.starts_with("import ") || l.text.starts_with("from "))
        })
        .map(|l| new_line(l.text.clone()))
        .collect();
    let last_import = lines
        .iter()
        .rposition(|l| {
            indent_of(&l.text) == 0
                && (l.text.starts_with("import ") || l.text.starts_with("from "))
        })
        .map_or(0, |i| i + 1);
    // A package-relative import inside a package, a plain one next to a script.
    let import = if dir.is_empty()
        || !tree
            .files
            .iter()
            .any(|(p, _)| *p == format!("{dir}__init__.py"))
    {
        format!("from {new_mod} import {}", f.name)
    } else {
        format!("from {package}.{new_mod} import {}", f.name)
    };
    lines.insert(last_import, new_line(import));
    let mut module = vec![new_line("\"\"\"Moved code.\"\"\"")];
    module.extend(imports);
    module.push(new_line(""));
    module.push(new_line(""));
    module.extend(moved);
    out.files.push((new_path, module));
    Some(out)
}

fn move_rust(tree: &Tree, hot: &BTreeSet<(String, u32)>) -> Option<Tree> {
    let fns = rust_fns(tree);
    let cands: Vec<FnSite> = fns
        .into_iter()
        .filter(|f| !f.decorated && f.indent == 0 && f.name != "main" && !f.is_method)
        .filter(|f| {
            // Crate roots and modules of a Cargo package, or a standalone file.
            !f.file.starts_with("tests/") && !f.file.contains("/tests/")
        })
        .collect();
    let f = pick(cands, hot)?;
    let mut out = tree.clone();
    let standalone = !tree.files.iter().any(|(p, _)| p.ends_with("Cargo.toml"));
    let (dir, stem) = match f.file.rsplit_once('/') {
        Some((d, name)) => (format!("{d}/"), name.trim_end_matches(".rs").to_string()),
        None => (String::new(), f.file.trim_end_matches(".rs").to_string()),
    };
    // A file another file declares as a module is none of a standalone tree's roots.
    let declared = tree.files.iter().any(|(p, lines)| {
        *p != f.file
            && lines
                .iter()
                .any(|l| l.text.trim_start().trim_start_matches("pub ") == format!("mod {stem};"))
    });
    let is_root = (standalone && !declared) || matches!(stem.as_str(), "main" | "lib" | "mod");
    let new_path = if is_root {
        format!("{dir}moved_mm.rs")
    } else {
        format!("{dir}{stem}/moved_mm.rs")
    };
    let lines = out.file_mut(&f.file);
    let first = lines.first().map_or("", |l| l.text.as_str());
    if first.starts_with("#!") || first.starts_with("---") {
        return None;
    }
    // Doc comments travel with their function.
    let mut start = f.line;
    while start > 0 && lines[start - 1].text.trim_start().starts_with("///") {
        start -= 1;
    }
    let mut moved: Vec<Line> = lines.drain(start..f.end).collect();
    let sig_at = f.line - start;
    // Free functions become visible to their old module.
    let sig = moved[sig_at].text.clone();
    if !sig.trim_start().starts_with("pub") {
        moved[sig_at].text = format!("pub {}", sig.trim_start());
    }
    let uses: Vec<Line> = lines
        .iter()
        .filter(|l| l.text.starts_with("use "))
        .map(|l| new_line(l.text.clone()))
        .collect();
    let first_item = lines
        .iter()
        .position(|l| {
            let t = l.text.trim_start();
            !(t.is_empty() || t.starts_with("//!") || t.starts_with("#!["))
        })
        .unwrap_or(lines.len());
    lines.splice(
        first_item..first_item,
        [
            new_line("mod moved_mm;"),
            new_line(format!("use moved_mm::{};", f.name)),
        ],
    );
    let mut module = vec![new_line("//! Moved code."), new_line("")];
    module.push(new_line("#[allow(unused_imports)]"));
    module.push(new_line("use super::*;"));
    module.extend(uses);
    module.push(new_line(""));
    module.extend(moved);
    out.files.push((new_path, module));
    Some(out)
}

fn wrap_in_method(
    tree: &Tree,
    python: bool,
    hot: &BTreeSet<(String, u32)>,
    reserved: &BTreeSet<String>,
) -> Option<Tree> {
    let fns = if python {
        python_fns(tree)
    } else {
        rust_fns(tree)
    };
    let all = tree.all_text();
    let cands: Vec<FnSite> = fns
        .into_iter()
        .filter(|f| {
            !f.decorated
                && f.indent == 0
                && f.name != "main"
                && !f.name.starts_with("test")
                && !f.name.starts_with("pytest_")
                && !reserved.contains(&f.name)
                && !all.contains(&format!("import {}", f.name))
                && !all.contains(&format!("::{}", f.name))
                && !all.contains(&format!(", {}", f.name))
                && !all.contains(&format!(".{}", f.name))
                // Handed over as a value (`LazyLock::new(make_x)`): no method form.
                && !all.contains(&format!("({})", f.name))
                && !all.contains(&format!("({},", f.name))
        })
        .filter(|f| {
            // Referenced only in its own file.
            tree.files.iter().all(|(p, lines)| {
                *p == f.file
                    || !lines
                        .iter()
                        .any(|l| replace_word(&l.text, &f.name, "\u{1}", &|_, _| false) != l.text)
            })
        })
        .collect();
    let f = pick(cands, hot)?;
    let ty = format!("{}Mm", camel(&f.name));
    let mut out = tree.clone();
    let lines = out.file_mut(&f.file);
    let receiver = if python {
        format!("{ty}().")
    } else {
        format!("{ty}.")
    };
    // Rewrite references outside the definition line.
    for (i, l) in lines.iter_mut().enumerate() {
        if i == f.line {
            continue;
        }
        l.text = replace_word(
            &l.text,
            &f.name,
            &format!("{receiver}{}", f.name),
            &|b, _| b.ends_with('.') || b.ends_with("def ") || b.ends_with("fn "),
        );
    }
    if python {
        let sig = lines[f.line].text.clone();
        let params = if f.params.trim().is_empty() {
            "self".to_string()
        } else {
            format!("self, {}", f.params)
        };
        lines[f.line].text = sig.replacen(&format!("({})", f.params), &format!("({params})"), 1);
        for l in &mut lines[f.line..f.end] {
            if !l.text.trim().is_empty() {
                l.text = format!("    {}", l.text);
            }
        }
        lines.insert(f.line, new_line(format!("class {ty}:")));
    } else {
        let sig = lines[f.line].text.clone();
        let params = if f.params.trim().is_empty() {
            "&self".to_string()
        } else {
            format!("&self, {}", f.params)
        };
        lines[f.line].text = sig.replacen(&format!("({})", f.params), &format!("({params})"), 1);
        lines.insert(f.end, new_line("}"));
        lines.splice(
            f.line..f.line,
            [
                new_line(format!("struct {ty};")),
                new_line(format!("impl {ty} {{")),
            ],
        );
    }
    Some(out)
}

fn camel(name: &str) -> String {
    name.split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A function that reads a module-level resource gets it as a parameter from its callers instead
/// (Python).
fn value_as_parameter(tree: &Tree, python: bool, hot: &BTreeSet<(String, u32)>) -> Option<Tree> {
    if !python {
        return None;
    }
    let creators = creator_paths();
    let globals: Vec<Creation> = creations(tree, true, &creators)
        .into_iter()
        .filter(|c| {
            tree.files
                .iter()
                .find(|(p, _)| *p == c.file)
                .is_some_and(|(_, lines)| indent_of(&lines[c.line].text) == 0)
        })
        .collect();
    let fns = python_fns(tree);
    let mut cands = Vec::new();
    for g in &globals {
        let lines = &tree.files.iter().find(|(p, _)| *p == g.file)?.1;
        let file_text: String = lines.iter().map(|l| format!("{}\n", l.text)).collect();
        for f in fns
            .iter()
            .filter(|f| f.file == g.file && f.indent == 0 && !f.decorated)
        {
            let body: String = lines[f.line + 1..f.end]
                .iter()
                .map(|l| format!("{}\n", l.text))
                .collect();
            let uses = replace_word(&body, &g.name, "\u{1}", &|b, _| b.ends_with('.')) != body;
            let params = &f.params;
            let name = &f.name;
            // Every other mention of the function must be a direct call in this file.
            let mentions = file_text.matches(name.as_str()).count();
            let calls = file_text.matches(&format!("{name}(")).count();
            let elsewhere = tree
                .files
                .iter()
                .any(|(p, ls)| *p != f.file && ls.iter().any(|l| l.text.contains(name.as_str())));
            if uses
                && !body.contains(&format!("global {}", g.name))
                && !params
                    .split(',')
                    .any(|p| p.trim().split([':', '=']).next() == Some(g.name.as_str()))
                && !name.starts_with("test")
                && name != "main"
                && mentions == calls
                && calls >= 2
                && !elsewhere
            {
                cands.push((g.name.clone(), f.clone()));
            }
        }
    }
    let at = cands.iter().position(|(_, f)| f.contains(hot)).unwrap_or(0);
    let (gname, f) = cands.into_iter().nth(at)?;
    let mut out = tree.clone();
    let lines = out.file_mut(&f.file);
    // The definition and every call take the value first.
    for l in lines.iter_mut() {
        let call = format!("{}(", f.name);
        let mut text = String::new();
        let mut rest = l.text.as_str();
        while let Some(k) = rest.find(&call) {
            let before = &rest[..k];
            let boundary = !before
                .chars()
                .next_back()
                .is_some_and(|c| is_word(c) || c == '.');
            text.push_str(before);
            text.push_str(&call);
            rest = &rest[k + call.len()..];
            if boundary {
                let empty = rest.trim_start().starts_with(')');
                text.push_str(&gname);
                if !empty {
                    text.push_str(", ");
                }
            }
        }
        text.push_str(rest);
        l.text = text;
    }
    Some(out)
}
