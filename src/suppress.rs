//! Suppression comments, with one grammar for Rust and Python.
//!
//! - `looplint: ignore[rule-a, rule-b]` at the end of a line silences those rules on that line.
//! - The same comment on a line of its own silences them on the next statement (all its lines,
//!   when brackets keep it open); above a `fn`/`def`/`class`/`impl`/`mod`/`trait` header (after
//!   attributes or decorators) it silences them in the whole item.
//! - `looplint: file-ignore[rule]` anywhere silences the rule in the whole file.
//! - An optional reason follows ` -- `. Rules are named by id or code.
//! - Python also honours `# noqa` (every rule), `# noqa: LL002` and `# noqa: rule-id` on the
//!   primary line, and the codes of other linters that report the same thing (`ASYNC2xx` for
//!   `blocking-call-in-async`, `RUF006` for `dangling-task`); an unknown rule is reported.
//!
//! A directive must start its comment (`// looplint: ...`, `# looplint: ...`); doc comments are
//! never directives. Suppressions that silence nothing are reported as `unused-suppression`.

use rayon::prelude::*;

use crate::diagnostic::{Finding, Severity};
use crate::model::{Language, Span};
use crate::rules;
use crate::source::{LineIndex, SourceDb};

/// Rule id of unused suppressions.
pub const UNUSED: &str = "unused-suppression";

/// What part of a file a directive covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// 0-based lines, inclusive.
    Lines(usize, usize),
    /// The whole file.
    File,
}

/// One rule named in a directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The rule id, or `None` when the name is not a rule.
    pub rule: Option<&'static str>,
    /// The name as written.
    pub written: String,
    /// Byte range of the name in the file.
    pub start: u32,
    /// End of the byte range.
    pub end: u32,
    /// A code of another tool that covers the rule (`# noqa: ASYNC230`): it silences the
    /// rule's findings but is never reported as unused, since it is that tool's as well.
    pub foreign: bool,
}

/// A parsed suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Byte range of the directive text (from `looplint:` or `noqa` to its end).
    pub start: u32,
    /// End of the byte range.
    pub end: u32,
    /// Lines covered.
    pub scope: Scope,
    /// Rules named; empty for a bare `# noqa`, which covers every rule.
    pub rules: Vec<Named>,
    /// Whether this is a `noqa` comment.
    pub noqa: bool,
    /// The reason after ` -- `, if any.
    pub reason: Option<String>,
    /// A problem with the directive's syntax, reported instead of applying it.
    pub malformed: Option<String>,
}

/// Byte class of a source text position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Code,
    Comment,
    Str,
}

/// A comment found by the scanner: its byte range, including the opening `//`, `/*` or `#`.
#[derive(Clone, Copy, Debug)]
struct Comment {
    start: usize,
    end: usize,
    doc: bool,
}

/// Facts about each line, for scope computation.
struct Lines {
    index: LineIndex,
    /// Per line: byte offset of the first non-blank byte, if any, and its class.
    first: Vec<Option<(usize, Class)>>,
    /// Per line: bracket depth at the line's start.
    depth: Vec<i32>,
    /// Per line: bracket depth at the line's end.
    depth_end: Vec<i32>,
    /// Number of lines.
    count: usize,
}

/// Classifies the bytes of `text` from the tokens of the language's own lexer (see
/// [`crate::frontend::comments`]).
fn classify(text: &str, scanned: &[(usize, usize, crate::frontend::comments::Kind)]) -> Vec<Class> {
    use crate::frontend::comments::Kind;
    let mut class = vec![Class::Code; text.len()];
    for &(start, end, kind) in scanned {
        match kind {
            Kind::Comment { .. } => class[start..end].fill(Class::Comment),
            Kind::Str => class[start..end].fill(Class::Str),
        }
    }
    class
}

/// The comments among the scanned ranges, in order.
fn comments_of(scanned: &[(usize, usize, crate::frontend::comments::Kind)]) -> Vec<Comment> {
    use crate::frontend::comments::Kind;
    scanned
        .iter()
        .filter_map(|&(start, end, kind)| match kind {
            Kind::Comment { doc } => Some(Comment { start, end, doc }),
            Kind::Str => None,
        })
        .collect()
}

impl Lines {
    fn new(text: &str, class: &[Class]) -> Lines {
        let index = LineIndex::new(text);
        let b = text.as_bytes();
        let count = index.line_count();
        let mut first = Vec::with_capacity(count);
        let mut depth = Vec::with_capacity(count);
        let mut depth_end = Vec::with_capacity(count);
        let mut d: i32 = 0;
        for line in 0..count {
            let std::ops::Range { start, end } = index.line_range(line, b.len());
            depth.push(d);
            let mut f = None;
            for j in start..end {
                let c = b[j];
                if f.is_none() && !c.is_ascii_whitespace() {
                    f = Some((j, class[j]));
                }
                if class[j] == Class::Code {
                    match c {
                        b'(' | b'[' | b'{' => d += 1,
                        b')' | b']' | b'}' => d -= 1,
                        _ => {}
                    }
                }
            }
            depth_end.push(d);
            first.push(f);
        }
        Lines {
            index,
            first,
            depth,
            depth_end,
            count,
        }
    }

    fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        text.get(self.index.line_range(line, text.len()))
            .unwrap_or("")
    }

    /// The trimmed code text of a line, if the line starts with code.
    fn code_line<'t>(&self, text: &'t str, line: usize) -> Option<&'t str> {
        match self.first.get(line).copied().flatten() {
            Some((_, Class::Code)) => Some(self.line_text(text, line).trim()),
            _ => None,
        }
    }
}

/// What follows the visibility and qualifiers of a trimmed line (`pub(crate) async unsafe`,
/// `extern "C"`; Python's `async`): where an item's keyword would stand.
pub(crate) fn after_qualifiers(line: &str, language: Language) -> &str {
    let mut rest = line;
    match language {
        Language::Rust => {
            if let Some(r) = rest.strip_prefix("pub") {
                let r = r.trim_start();
                rest = if r.starts_with('(') {
                    r.find(')').map_or(r, |e| r[e + 1..].trim_start())
                } else {
                    r
                };
            }
            loop {
                let before = rest;
                for kw in ["default ", "const ", "async ", "unsafe ", "extern "] {
                    if let Some(r) = rest.strip_prefix(kw) {
                        rest = r.trim_start();
                    }
                }
                if let Some(r) = rest.strip_prefix('"') {
                    rest = r.find('"').map_or(r, |e| r[e + 1..].trim_start());
                }
                if rest == before {
                    break;
                }
            }
            rest
        }
        Language::Python => rest.strip_prefix("async ").map_or(rest, str::trim_start),
    }
}

/// Whether a trimmed line starts an item whose whole body a directive above it covers.
fn is_item_header(line: &str, language: Language) -> bool {
    let rest = after_qualifiers(line, language);
    match language {
        Language::Rust => ["fn ", "impl ", "impl<", "mod ", "trait "]
            .iter()
            .any(|k| rest.starts_with(k)),
        Language::Python => rest.starts_with("def ") || rest.starts_with("class "),
    }
}

/// Whether a trimmed line is an attribute or decorator that sits between a directive and its item.
fn is_prefix_line(line: &str, language: Language) -> bool {
    match language {
        Language::Rust => line.starts_with("#[") || line.starts_with("#!["),
        Language::Python => line.starts_with('@'),
    }
}

/// The last line of the statement or item starting at `line`.
fn scope_end(text: &str, lines: &Lines, class: &[Class], line: usize, language: Language) -> usize {
    let header = lines.code_line(text, line).unwrap_or("");
    let last = lines.count.saturating_sub(1);
    let item = is_item_header(header, language);
    match language {
        Language::Rust => {
            if item {
                // Brace matching from the header: the item ends where its first `{` closes, or at
                // a `;` met before any `{` (a declaration without a body).
                let b = text.as_bytes();
                let mut j = lines.index.line_start(line) as usize;
                let mut depth = 0i32;
                let mut paren = 0i32;
                let mut opened = false;
                while j < b.len() {
                    if class[j] == Class::Code {
                        match b[j] {
                            b'(' | b'[' => paren += 1,
                            b')' | b']' => paren -= 1,
                            b'{' => {
                                depth += 1;
                                opened = true;
                            }
                            b'}' => {
                                depth -= 1;
                                if opened && depth <= 0 {
                                    return lines.index.line_of(j as u32);
                                }
                            }
                            b';' if !opened && paren <= 0 => {
                                return lines.index.line_of(j as u32);
                            }
                            _ => {}
                        }
                    }
                    j += 1;
                }
                last
            } else {
                statement_end(lines, line)
            }
        }
        Language::Python => {
            if item {
                let indent = indent_of(lines.line_text(text, line));
                let base = lines.depth.get(line).copied().unwrap_or(0);
                let mut end = statement_end(lines, line);
                for l in end + 1..lines.count {
                    match lines.first[l] {
                        Some((_, Class::Code)) if lines.depth[l] <= base => {
                            if indent_of(lines.line_text(text, l)) <= indent {
                                break;
                            }
                            end = l;
                        }
                        Some((_, Class::Str)) | Some((_, Class::Code)) => end = l,
                        _ => {}
                    }
                }
                end
            } else {
                statement_end(lines, line)
            }
        }
    }
}

/// The last line of a simple statement: it goes on while brackets opened on it stay open.
fn statement_end(lines: &Lines, line: usize) -> usize {
    let base = lines.depth.get(line).copied().unwrap_or(0);
    let mut l = line;
    while l + 1 < lines.count && lines.depth_end[l] > base {
        l += 1;
    }
    l
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Parses the directives of one file.
pub fn parse(text: &str, language: Language) -> Vec<Directive> {
    parse_scanned(text, language, || {
        crate::frontend::comments::scan(text, language)
    })
}

/// Parses the directives of one file whose comments and string literals `scan` gives (see
/// [`crate::frontend::comments::scan`]); it is not called when the text holds no marker.
pub fn parse_scanned(
    text: &str,
    language: Language,
    scan: impl FnOnce() -> Vec<(usize, usize, crate::frontend::comments::Kind)>,
) -> Vec<Directive> {
    if !(text.contains("looplint:") || (language == Language::Python && has_noqa(text))) {
        return Vec::new();
    }
    let scanned = scan();
    // The line index, and the classes of bytes with the facts about lines, are built when a
    // directive needs them (most comments that mention `noqa` or `looplint:` are none).
    let mut index: Option<LineIndex> = None;
    let mut built: Option<(Vec<Class>, Lines)> = None;
    let mut out = Vec::new();
    for c in comments_of(&scanned) {
        if c.doc {
            continue;
        }
        let body_start = match language {
            Language::Rust => c.start + 2,
            Language::Python => c.start + 1,
        };
        let body_end = if text[c.start..c.end].starts_with("/*") && c.end >= c.start + 4 {
            c.end - 2
        } else {
            c.end
        };
        let body = text.get(body_start..body_end.max(body_start)).unwrap_or("");
        // Python comments may chain directives: `# noqa: E501  # looplint: ignore[x]`.
        let mut segments: Vec<(usize, &str)> = Vec::new();
        match language {
            Language::Rust => segments.push((body_start, body)),
            Language::Python => {
                let mut off = body_start;
                for seg in body.split('#') {
                    segments.push((off, seg));
                    off += seg.len() + 1;
                }
            }
        }
        let mut line_of = |c: &Comment| {
            let index = index.get_or_insert_with(|| LineIndex::new(text));
            let line = index.line_of(c.start as u32);
            let trailing = text[index.line_start(line) as usize..c.start]
                .chars()
                .any(|ch| !ch.is_whitespace());
            (line, trailing)
        };
        for (off, seg) in segments {
            let lead = seg.len() - seg.trim_start().len();
            let at = off + lead;
            let s = seg.trim_start();
            if let Some(rest) = s.strip_prefix("looplint:") {
                let (line, trailing) = line_of(&c);
                let mut d = parse_looplint(rest, at, at + "looplint:".len());
                d.end = (at + s.trim_end().len()) as u32;
                d.scope = match d.scope {
                    Scope::File => Scope::File,
                    Scope::Lines(..) if trailing => Scope::Lines(line, line),
                    Scope::Lines(..) => {
                        let (class, lines) = built.get_or_insert_with(|| {
                            let class = classify(text, &scanned);
                            let lines = Lines::new(text, &class);
                            (class, lines)
                        });
                        standalone_scope(text, lines, class, line, language)
                    }
                };
                out.push(d);
            } else if language == Language::Python
                && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("noqa"))
                && let Some(d) = parse_noqa(&s[4..], at, at + 4, line_of(&c).0)
            {
                out.push(d);
            }
        }
    }
    out
}

/// Whether the file's bytes contain `looplint:` (or `noqa` in Python): known from the read
/// the frontend already made, else read without decoding.
fn may_have_directives(db: &SourceDb, file: usize, language: Language) -> bool {
    if let Some(known) = db.has_marker(file) {
        return known;
    }
    let f = &db.files[file];
    let bytes: std::borrow::Cow<'_, [u8]> = match &f.overlay {
        Some(text) => std::borrow::Cow::Borrowed(text.as_bytes()),
        None => match std::fs::read(&f.path) {
            Ok(b) => std::borrow::Cow::Owned(b),
            Err(_) => return false,
        },
    };
    crate::source::has_marker(&bytes, language)
}

fn has_noqa(text: &str) -> bool {
    text.contains("noqa") || text.contains("NOQA") || text.contains("NoQA")
}

/// The lines a standalone directive on `line` covers: the next statement or item, skipping
/// comment lines and attributes/decorators. A blank line right below covers nothing.
fn standalone_scope(
    text: &str,
    lines: &Lines,
    class: &[Class],
    line: usize,
    language: Language,
) -> Scope {
    let mut l = line + 1;
    while l < lines.count {
        match lines.first[l] {
            Some((_, Class::Comment)) => l += 1,
            Some((_, Class::Code)) => {
                let t = lines.code_line(text, l).unwrap_or("");
                if is_prefix_line(t, language) {
                    // An attribute or decorator may span lines.
                    l = statement_end(lines, l) + 1;
                    continue;
                }
                return Scope::Lines(line, scope_end(text, lines, class, l, language));
            }
            Some((_, Class::Str)) => {
                return Scope::Lines(line, statement_end(lines, l));
            }
            None => break,
        }
    }
    Scope::Lines(line, line)
}

/// Parses the text after `looplint:`. `at` is the offset of `looplint:`, `rest_at` of `rest`.
fn parse_looplint(rest: &str, at: usize, rest_at: usize) -> Directive {
    let mut d = Directive {
        start: at as u32,
        end: (rest_at + rest.len()) as u32,
        scope: Scope::Lines(0, 0),
        rules: Vec::new(),
        noqa: false,
        reason: None,
        malformed: None,
    };
    let lead = rest.len() - rest.trim_start().len();
    let r = &rest[lead..];
    let (file, after) = if let Some(a) = r.strip_prefix("file-ignore") {
        (true, a)
    } else if let Some(a) = r.strip_prefix("ignore") {
        (false, a)
    } else {
        d.malformed = Some(
            "malformed suppression, expected `looplint: ignore[rule, ...]` or `looplint: file-ignore[rule, ...]`"
                .into(),
        );
        return d;
    };
    if file {
        d.scope = Scope::File;
    }
    let open_at = rest_at + lead + (r.len() - after.len());
    let Some(inner) = after.strip_prefix('[') else {
        d.malformed = Some("malformed suppression, expected a list of rules in brackets".into());
        return d;
    };
    let Some(close) = inner.find(']') else {
        d.malformed = Some("malformed suppression, missing `]`".into());
        return d;
    };
    let mut off = open_at + 1;
    for name in inner[..close].split(',') {
        let lead = name.len() - name.trim_start().len();
        let t = name.trim();
        if !t.is_empty() {
            let start = off + lead;
            d.rules.push(Named {
                rule: rules::find(t).map(|r| r.id),
                written: t.to_string(),
                start: start as u32,
                end: (start + t.len()) as u32,
                foreign: false,
            });
        }
        off += name.len() + 1;
    }
    if d.rules.is_empty() {
        d.malformed = Some("malformed suppression, no rule named".into());
    }
    let tail = &inner[close + 1..];
    if let Some(reason) = tail.trim_start().strip_prefix("--") {
        let reason = reason.trim();
        if !reason.is_empty() {
            d.reason = Some(reason.to_string());
        }
    }
    d
}

/// Codes of other linters that report what a looplint rule reports, by code prefix: a
/// `# noqa` written for them covers the rule too.
const FOREIGN_CODES: &[(&str, &str)] = &[
    // flake8-async / ruff ASYNC2xx: blocking HTTP, subprocess, file, path and sleep calls.
    ("ASYNC2", "blocking-call-in-async"),
    // ruff RUF006: a task created without keeping a reference to it.
    ("RUF006", "dangling-task"),
];

/// The looplint rule another tool's code covers.
fn foreign_rule(code: &str) -> Option<&'static str> {
    FOREIGN_CODES
        .iter()
        .find(|(prefix, _)| code.starts_with(prefix))
        .map(|&(_, rule)| rule)
}

/// Parses `noqa` or `noqa: CODE, ...`. Codes that are not looplint's belong to other tools and
/// are dropped; a `noqa` naming only other tools' codes is not a looplint directive.
fn parse_noqa(rest: &str, at: usize, rest_at: usize, line: usize) -> Option<Directive> {
    let mut d = Directive {
        start: at as u32,
        end: rest_at as u32,
        scope: Scope::Lines(line, line),
        rules: Vec::new(),
        noqa: true,
        reason: None,
        malformed: None,
    };
    let Some(list) = rest.strip_prefix(':') else {
        // A bare `noqa` (or `noqa` followed by text) covers every rule.
        return rest
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace())
            .then_some(d);
    };
    let mut off = rest_at + 1;
    let mut any_code = false;
    for word in list.split([',', ' ', '\t']) {
        if !word.is_empty() {
            let is_code = word.len() >= 2
                && word.starts_with(|c: char| c.is_ascii_uppercase())
                && word.chars().any(|c| c.is_ascii_digit())
                && word.chars().all(|c| c.is_ascii_alphanumeric());
            // A rule id (`# noqa: dangling-task`): a known one anywhere in the list, an
            // unknown one (a typo) where the list starts.
            let is_id = word.contains('-')
                && word.starts_with(|c: char| c.is_ascii_lowercase())
                && word.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && (!any_code || rules::find(word).is_some());
            if !is_code && !is_id {
                if any_code {
                    break;
                }
                off += word.len() + 1;
                continue;
            }
            any_code = true;
            let named = |rule: Option<&'static str>, foreign: bool| Named {
                rule,
                written: word.to_string(),
                start: off as u32,
                end: (off + word.len()) as u32,
                foreign,
            };
            if is_id || word.starts_with("LL") {
                d.rules.push(named(rules::find(word).map(|r| r.id), false));
            } else if let Some(rule) = foreign_rule(word) {
                d.rules.push(named(Some(rule), true));
            }
            d.end = (off + word.len()) as u32;
        }
        off += word.len() + 1;
    }
    (!d.rules.is_empty()).then_some(d)
}

impl Directive {
    fn covers_line(&self, line: usize) -> bool {
        match self.scope {
            Scope::File => true,
            Scope::Lines(a, b) => a <= line && line <= b,
        }
    }
}

/// Applies suppressions to `findings` (spans index `db`): drops silenced findings and adds an
/// `unused-suppression` warning for each directive, or each rule in one, that silenced nothing
/// (when that rule is `enabled`; a suppression of a rule not run now may be needed by another
/// configuration). The result is sorted as [`crate::check`] sorts.
pub fn apply(
    db: &SourceDb,
    findings: Vec<Finding>,
    enabled: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Finding> {
    let mut by_file: Vec<Vec<Finding>> = vec![Vec::new(); db.files.len()];
    let mut stray = Vec::new();
    for f in findings {
        match by_file.get_mut(f.primary.file as usize) {
            Some(v) => v.push(f),
            None => stray.push(f),
        }
    }
    let report_unused = enabled(UNUSED);
    let per_file: Vec<Vec<Finding>> = by_file
        .into_par_iter()
        .enumerate()
        .map(|(i, fs)| apply_file(db, i, fs, report_unused, enabled))
        .collect();
    let mut out: Vec<Finding> = per_file.into_iter().flatten().collect();
    out.extend(stray);
    out.sort_by(|a, b| {
        let pa = db
            .files
            .get(a.primary.file as usize)
            .map(|f| f.display.as_str());
        let pb = db
            .files
            .get(b.primary.file as usize)
            .map(|f| f.display.as_str());
        (pa, a.primary.start, a.rule, &a.message).cmp(&(pb, b.primary.start, b.rule, &b.message))
    });
    out
}

fn apply_file(
    db: &SourceDb,
    file: usize,
    findings: Vec<Finding>,
    report_unused: bool,
    enabled: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Finding> {
    let language = db.files[file].language;
    if findings.is_empty() && !report_unused {
        return findings;
    }
    let (directives, text) = match db.directives(file) {
        // Read by the frontend while it had the file parsed.
        Some([]) => return findings,
        Some(known) => {
            let Ok(text) = db.read(file) else {
                return findings;
            };
            (std::borrow::Cow::Borrowed(known), text)
        }
        None => {
            // Most files have no finding: skip them unless their raw bytes hold a marker,
            // before paying for UTF-8 validation.
            if findings.is_empty() && !may_have_directives(db, file, language) {
                return findings;
            }
            let Ok(text) = db.read(file) else {
                return findings;
            };
            let directives = parse(&text, language);
            if directives.is_empty() {
                return findings;
            }
            (std::borrow::Cow::Owned(directives), text)
        }
    };
    let index = LineIndex::new(&text);
    // used[d][r]: whether rule r of directive d silenced something; bare noqa uses slot 0.
    let mut used: Vec<Vec<bool>> = directives
        .iter()
        .map(|d| vec![false; d.rules.len().max(1)])
        .collect();
    let mut kept = Vec::with_capacity(findings.len());
    for f in findings {
        let line = index.line_of(f.primary.start);
        let mut silenced = false;
        for (d, u) in directives.iter().zip(used.iter_mut()) {
            if d.malformed.is_some() || !d.covers_line(line) {
                continue;
            }
            if d.noqa && d.rules.is_empty() {
                u[0] = true;
                silenced = true;
                continue;
            }
            for (k, n) in d.rules.iter().enumerate() {
                if n.rule == Some(f.rule) {
                    u[k] = true;
                    silenced = true;
                }
            }
        }
        if !silenced {
            kept.push(f);
        }
    }
    if !report_unused {
        return kept;
    }
    let mut unused = Vec::new();
    for (d, u) in directives.iter().zip(&used) {
        let file_id = file as u32;
        if let Some(m) = &d.malformed {
            unused.push(
                Finding::new(
                    UNUSED,
                    Severity::Warning,
                    Span::new(file_id, d.start, d.end),
                    m.clone(),
                )
                .help("write `looplint: ignore[rule-id]`, or remove the comment"),
            );
            continue;
        }
        if d.noqa && d.rules.is_empty() {
            // A bare `noqa` may be meant for other tools; never report it.
            continue;
        }
        let relevant: Vec<usize> = (0..d.rules.len())
            .filter(|&k| {
                !u[k]
                    && !d.rules[k].foreign
                    && d.rules[k].rule.is_none_or(|r| enabled(r) && r != UNUSED)
            })
            .collect();
        if relevant.is_empty() {
            continue;
        }
        let all_unused = relevant.len() == d.rules.iter().filter(|n| !n.foreign).count();
        for &k in &relevant {
            let n = &d.rules[k];
            let (span, message) = match n.rule {
                None => (
                    Span::new(file_id, n.start, n.end),
                    format!("unknown rule `{}` in suppression", n.written),
                ),
                Some(r) if all_unused && d.rules.len() == 1 => (
                    Span::new(file_id, d.start, d.end),
                    format!("unused suppression of `{r}`"),
                ),
                Some(r) => (
                    Span::new(file_id, n.start, n.end),
                    format!("unused suppression of `{r}`"),
                ),
            };
            unused.push(
                Finding::new(UNUSED, Severity::Warning, span, message)
                    .primary_label("nothing to silence here")
                    .help("remove the suppression, or the rule from it"),
            );
        }
    }
    // `file-ignore[unused-suppression]` and `ignore[unused-suppression]` silence these too.
    unused.retain(|f| {
        let line = index.line_of(f.primary.start);
        !directives.iter().any(|d| {
            d.malformed.is_none()
                && d.covers_line(line)
                && d.rules.iter().any(|n| n.rule == Some(UNUSED))
        })
    });
    kept.extend(unused);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(text: &str, language: Language) -> Vec<(Scope, Vec<&'static str>)> {
        parse(text, language)
            .into_iter()
            .map(|d| (d.scope, d.rules.iter().filter_map(|n| n.rule).collect()))
            .collect()
    }

    #[test]
    fn trailing_and_standalone_rust() {
        let text = "fn a() {\n    x.block_on(f()); // looplint: ignore[syntax-error] -- legacy\n    // looplint: ignore[LL000]\n    let y = foo(\n        1,\n    );\n    z();\n}\n";
        let s = scopes(text, Language::Rust);
        assert_eq!(s[0], (Scope::Lines(1, 1), vec!["syntax-error"]));
        assert_eq!(s[1], (Scope::Lines(2, 5), vec!["syntax-error"]));
        let d = parse(text, Language::Rust);
        assert_eq!(d[0].reason.as_deref(), Some("legacy"));
    }

    #[test]
    fn above_fn_covers_whole_item() {
        let text = "// looplint: ignore[syntax-error]\n#[tokio::main]\npub async fn main() {\n    let s = \"}\";\n    if x { y() }\n}\nfn other() {}\n";
        assert_eq!(scopes(text, Language::Rust)[0].0, Scope::Lines(0, 5));
        let text = "# looplint: ignore[syntax-error]\n@app.route('/')\ndef view(\n    a,\n):\n    x = '''\nnot code\n'''\n    return 1\n\ndef other():\n    pass\n";
        assert_eq!(scopes(text, Language::Python)[0].0, Scope::Lines(0, 8));
    }

    #[test]
    fn file_ignore_noqa_and_doc_comments() {
        let text = "/// looplint: ignore[syntax-error]\n//! looplint: ignore[syntax-error]\nlet s = \"// looplint: ignore[syntax-error]\";\n// looplint: file-ignore[LL000]\n";
        let s = scopes(text, Language::Rust);
        assert_eq!(s, vec![(Scope::File, vec!["syntax-error"])]);
        let text = "x = 1  # noqa: E501, LL000\ny = 2  # noqa\nz = 3  # noqa: E501\n";
        let d = parse(text, Language::Python);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].rules.len(), 1);
        assert_eq!(d[0].scope, Scope::Lines(0, 0));
        assert!(d[1].rules.is_empty());
        assert_eq!(d[1].scope, Scope::Lines(1, 1));
    }

    #[test]
    fn noqa_names_rules_and_other_linters_codes() {
        let text = "a = 1  # noqa: ASYNC230\nb = 2  # noqa: RUF006, E501\nc = 3  # noqa: dangling-task\nd = 4  # noqa: dangling-tsk\ne = 5  # noqa: E501 line-too-long\nf = 6  # noqa: F401\n";
        let d = parse(text, Language::Python);
        let rules: Vec<Vec<(Option<&str>, bool)>> = d
            .iter()
            .map(|d| d.rules.iter().map(|n| (n.rule, n.foreign)).collect())
            .collect();
        assert_eq!(
            rules,
            vec![
                vec![(Some("blocking-call-in-async"), true)],
                vec![(Some("dangling-task"), true)],
                vec![(Some("dangling-task"), false)],
                vec![(None, false)],
            ]
        );
        assert_eq!(d[3].rules[0].written, "dangling-tsk");
    }

    #[test]
    fn malformed_and_unknown() {
        let d = parse(
            "x = 1  # looplint: ignore nested-block-on\n",
            Language::Python,
        );
        assert!(d[0].malformed.is_some());
        let d = parse("x = 1  # looplint: ignore[frob]\n", Language::Python);
        assert_eq!(d[0].rules[0].rule, None);
        assert_eq!(d[0].rules[0].written, "frob");
    }

    #[test]
    fn scanner_survives_odd_input() {
        for text in [
            "'",
            "\"",
            "r#\"",
            "/*",
            "b'",
            "'\\",
            "fn",
            "x = '''",
            "# looplint:",
            "// looplint: ignore[",
            "é'",
            "'é",
            "// looplint: ignore[a,,b] --",
            "#[\n",
            "r\"é",
        ] {
            let _ = parse(text, Language::Rust);
            let _ = parse(text, Language::Python);
        }
    }

    fn db_with(files: &[(&str, &str)]) -> SourceDb {
        let mut db = SourceDb::default();
        for (name, text) in files {
            db.add(crate::source::SourceFile {
                path: std::path::PathBuf::from(name),
                display: name.to_string(),
                language: crate::source::language_of(std::path::Path::new(name)).unwrap(),
                overlay: Some(std::sync::Arc::from(*text)),
            });
        }
        db
    }

    fn finding_at(db: &SourceDb, file: usize, line: usize) -> Finding {
        let text = db.read(file).unwrap();
        let idx = LineIndex::new(&text);
        let start = idx.line_start(line);
        Finding::new(
            "syntax-error",
            Severity::Error,
            Span::new(file as u32, start, start + 1),
            "x",
        )
    }

    #[test]
    fn apply_silences_and_reports_unused() {
        let db = db_with(&[
            (
                "a.py",
                "x = 1  # looplint: ignore[syntax-error]\ny = 2  # looplint: ignore[LL000, frob]\nz = 3  # noqa: LL000\nw = 4  # noqa\n",
            ),
            (
                "b.rs",
                "// looplint: file-ignore[syntax-error] -- generated\nfn a() {}\n",
            ),
            ("c.rs", "fn a() {}\n"),
        ]);
        let findings = vec![
            finding_at(&db, 0, 0),
            finding_at(&db, 0, 2),
            finding_at(&db, 0, 3),
            finding_at(&db, 1, 1),
            finding_at(&db, 2, 0),
        ];
        let out = apply(&db, findings, &|_| true);
        let got: Vec<(usize, &str, String)> = out
            .iter()
            .map(|f| (f.primary.file as usize, f.rule, f.message.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    0,
                    UNUSED,
                    "unused suppression of `syntax-error`".to_string()
                ),
                (0, UNUSED, "unknown rule `frob` in suppression".to_string()),
                (2, "syntax-error", "x".to_string()),
            ]
        );
        // The unused one on line 2 points at the rule name inside the brackets.
        let text = db.read(0).unwrap();
        let f = &out[0];
        assert_eq!(
            &text[f.primary.start as usize..f.primary.end as usize],
            "LL000"
        );
        // With the rule disabled, suppressions of it are not reported.
        let out = apply(&db, vec![], &|r| r != "syntax-error");
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("frob"));
    }
}
