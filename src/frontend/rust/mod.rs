//! The Rust frontend: `syn` parsing and lowering of Cargo packages into the lifecycle model.
//!
//! [`package`] groups files into programs and finds target roots; each file is then read,
//! parsed and lowered on its own, in parallel ([`lower`](lower::lower_file)), into a file-level
//! form with symbolic references ([`ir`]); [`link`] resolves those references across the files
//! of a program.

pub mod attrs;
pub mod bare_dyn;
pub mod cfg;
pub mod expand;
pub mod ir;
pub mod kbview;
pub mod link;
pub mod lower;
pub mod macros;
pub mod package;
pub mod resolve;
pub mod spans;
pub mod types;

#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::frontend::{Cancel, Lowered, Problem};
use crate::kb::Kb;
use crate::source::SourceDb;

use ir::FileIr;
use kbview::KbView;
use lower::FileCtx;

/// The text with the front matter of a cargo script (a `---` fenced block after an optional
/// shebang line) replaced by spaces, so offsets stay those of the file; `None` without one.
fn blank_frontmatter(text: &str) -> Option<String> {
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n');
    let mut line = lines.next()?;
    if line.starts_with("#!") && !line.starts_with("#![") {
        offset += line.len();
        line = lines.next()?;
    }
    while line.trim().is_empty() {
        offset += line.len();
        line = lines.next()?;
    }
    let dashes = line.bytes().take_while(|&b| b == b'-').count();
    if dashes < 3 {
        return None;
    }
    let start = offset;
    offset += line.len();
    for line in lines {
        offset += line.len();
        let d = line.bytes().take_while(|&b| b == b'-').count();
        if d == dashes && line[d..].trim().is_empty() {
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..start]);
            out.extend(text[start..offset].chars().map(|c| match c {
                '\n' | '\r' => c,
                _ => ' ',
            }));
            // Multi-byte characters became one space each: pad to keep later offsets.
            let lost = offset - start - text[start..offset].chars().count();
            out.extend(std::iter::repeat_n(' ', lost));
            out.push_str(&text[offset..]);
            return Some(out);
        }
    }
    None
}

/// Parses and lowers one file (its frontmatter blanked) from the result of reading it,
/// expanding the invocations of the program's macros `defs`.
fn lower_one(
    read: Result<std::sync::Arc<str>, crate::source::ReadError>,
    source: usize,
    file: u32,
    crates: &[(String, u32)],
    kb: &KbView<'_>,
    defs: &expand::MacroDefs,
    hints: Option<&ir::TypeHints>,
) -> (Option<FileIr>, Option<Problem>) {
    let text = match read {
        Ok(t) => t,
        Err(e) => return (None, Problem::from_read(source, &e)),
    };
    // A package macro named like `vec!` takes tokens that may become types.
    let std_macros = !defs.defines_any(super::nesting::shadows_std_macro);
    let (depth, docs) = super::nesting::estimate_rust_docs(&text, std_macros);
    if depth > super::nesting::LIMIT {
        return (None, Some(Problem::too_deep(source, depth)));
    }
    let text = plain_docs(text, &docs);
    super::stack::with_stack_for(depth, || {
        parse_and_lower(source, file, crates, kb, text, defs, hints)
    })
}

/// The text with the doc comments at `docs` made plain comments (see
/// [`estimate_rust_docs`](super::nesting::estimate_rust_docs)): the parser then skips them
/// instead of building an attribute for each. Offsets, lines and every other byte stay.
fn plain_docs(text: std::sync::Arc<str>, docs: &[usize]) -> std::sync::Arc<str> {
    if docs.is_empty() {
        return text;
    }
    let mut bytes = text.as_bytes().to_vec();
    for &at in docs {
        // The third byte of `///`, `//!`, `/**` or `/*!`: ASCII, so the text stays UTF-8.
        if let Some(b @ (b'/' | b'!' | b'*')) = bytes.get_mut(at) {
            *b = b' ';
        }
    }
    match String::from_utf8(bytes) {
        Ok(plain) => std::sync::Arc::from(plain),
        Err(_) => text,
    }
}

/// Parses and lowers the text of one file (with enough stack for its depth).
fn parse_and_lower(
    source: usize,
    file: u32,
    crates: &[(String, u32)],
    kb: &KbView<'_>,
    text: std::sync::Arc<str>,
    defs: &expand::MacroDefs,
    hints: Option<&ir::TypeHints>,
) -> (Option<FileIr>, Option<Problem>) {
    let text = match blank_frontmatter(&text) {
        Some(blanked) => std::sync::Arc::from(blanked),
        None => text,
    };
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom as usize..];
    // Older editions' bare `Fn(..)` trait objects are valid Rust that syn does not parse.
    let parsed = syn::parse_file(&text).or_else(|e| {
        bare_dyn::with_dyn(body)
            .and_then(|ts| syn::parse2::<syn::File>(ts).ok())
            .ok_or(e)
    });
    let result = match parsed {
        Ok(mut ast) => {
            if !defs.is_empty() {
                expand_macros(&mut ast, body, defs);
            }
            let cx = FileCtx {
                kb,
                file,
                crates,
                bom,
                text: body,
                lines: FileCtx::lines(body),
                hints,
            };
            (Some(lower::lower_file(&cx, &ast)), None)
        }
        Err(e) => {
            let r = e.span().byte_range();
            let start = (r.start as u32 + bom).min(text.len() as u32);
            let end = (r.end as u32 + bom).clamp(start, text.len() as u32);
            let message = match e.to_string() {
                m if m == "cannot parse string into token stream" => {
                    lex_error(&text, start as usize)
                }
                m => m,
            };
            (
                Some(FileIr::default()),
                Some(Problem {
                    source,
                    start,
                    end,
                    message,
                    unreadable: false,
                    limit: false,
                }),
            )
        }
    };
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

/// What stops the tokenizer at `at` (syn only says "cannot parse string into token stream").
fn lex_error(text: &str, at: usize) -> String {
    let rest = text.get(at..).unwrap_or("");
    let what = match rest.chars().next() {
        None => "the file ends inside an unclosed `(`, `[` or `{`".to_string(),
        Some('"') => "a string literal is not closed".to_string(),
        Some('\'') => "a character literal is not closed".to_string(),
        Some('r' | 'b' | 'c')
            if rest[1..].starts_with(['"', '#', '\'']) || rest.starts_with("br") =>
        {
            "a raw, byte or C string literal is not closed".to_string()
        }
        Some('/') if rest.starts_with("/*") => "a block comment is not closed".to_string(),
        Some(c @ ('(' | '[' | '{')) => format!("`{c}` is never closed"),
        Some(c @ (')' | ']' | '}')) => {
            format!("`{c}` closes nothing open, or does not match the bracket opened before it")
        }
        Some(c) if c.is_whitespace() => {
            "the file ends inside an unclosed `(`, `[` or `{`".to_string()
        }
        Some(c) => format!(
            "`{}` (U+{:04X}) is not a Rust token",
            crate::report::escape::line(&c.to_string()),
            c as u32
        ),
    };
    format!("cannot split the file into tokens: {what}")
}

/// What lowering a file gave: its file-level form, and a problem met on the way.
type Lowering = (Option<FileIr>, Option<Problem>);

/// What reading a file gave.
type Read = Result<std::sync::Arc<str>, crate::source::ReadError>;

/// Names and rules text of the `macro_rules!` macros a file defines.
type TextDefs = Vec<(String, std::sync::Arc<str>)>;

/// Reads the files `files` once, and finds the `macro_rules!` macros defined in their text.
fn read_program(db: &SourceDb, files: &[usize]) -> (Vec<Read>, expand::MacroDefs) {
    let read: Vec<(Read, TextDefs)> = files
        .par_iter()
        .map(|&source| {
            let text = db.read(source);
            let defs = match &text {
                Ok(text) if text.contains("macro_rules!") => expand::text_defs(text),
                _ => Vec::new(),
            };
            (text, defs)
        })
        .collect();
    let mut texts = Vec::with_capacity(read.len());
    let mut found = Vec::new();
    for (text, defs) in read {
        texts.push(text);
        found.extend(defs);
    }
    (texts, expand::MacroDefs::new(found))
}

/// Expands the package macros `defs` a file invokes; its own definitions keep their spans.
fn expand_macros(ast: &mut syn::File, text: &str, defs: &expand::MacroDefs) {
    let own = if text.contains("macro_rules!") {
        expand::file_defs(ast)
    } else {
        Vec::new()
    };
    let mut table = std::collections::HashMap::new();
    for name in &expand::invoked_names(text) {
        if let Some((_, tokens)) = own.iter().find(|(n, _)| n == name) {
            let m = expand::Macro::new(tokens.clone(), false);
            table.insert(name.clone(), std::rc::Rc::new(m));
        } else if let Some(m) = defs.foreign(name) {
            table.insert(name.clone(), m);
        }
    }
    if !table.is_empty() {
        expand::expand_file(ast, &table);
    }
}

/// Lowers the Rust files `files` (indices into `db`) into one program per Cargo package (files
/// outside any package form a program each).
pub fn lower(db: &SourceDb, files: &[usize], kb: &Kb) -> Vec<Lowered> {
    lower_each(db, files, kb, &Cancel::default(), &|l| l)
}

/// Lowers like [`lower`], handing each program to `each` as soon as it is linked, so that only
/// the results of `each`, not every program, stay alive. Once `cancel` says stop, files left
/// are not lowered and no program is handed on.
pub fn lower_each<R: Send>(
    db: &SourceDb,
    files: &[usize],
    kb: &Kb,
    cancel: &Cancel<'_>,
    each: &(dyn Fn(Lowered) -> R + Sync),
) -> Vec<R> {
    let view = KbView::new(kb);
    let plans = {
        let _t = crate::timing::phase("group", || format!("{} files", files.len()));
        package::plan(db, files)
    };
    // Programs are lowered and linked one by one (files in parallel inside each), so that the
    // file-level forms of only a few programs are alive at a time.
    let lower_plan = |plan: &package::ProgramPlan| {
        if cancel.skip(plan.files.len()) {
            return None;
        }
        let crates_of = |f: u32| {
            plan.file_pkg[f as usize]
                .map(|pkg| plan.packages[pkg as usize].crates.as_slice())
                .unwrap_or(&[])
        };
        let what = || {
            let root = plan.packages.first().map(|p| p.dir.display());
            format!(
                "{} files {}",
                plan.files.len(),
                root.map_or(String::new(), |r| r.to_string())
            )
        };
        // Each file is read once: for the program's macros first, then to be lowered.
        let t = crate::timing::phase("lower", what);
        let (texts, defs) = read_program(db, &plan.files);
        let results: Vec<Lowering> = texts
            .into_par_iter()
            .enumerate()
            .map(|(f, text)| {
                if cancel.skip(1) {
                    return (None, None);
                }
                let (source, f) = (plan.files[f], f as u32);
                lower_one(text, source, f, crates_of(f), &view, &defs, None)
            })
            .collect();
        if cancel.stop() {
            return None;
        }
        drop(t);
        let t = crate::timing::phase("relower", what);
        let (mut irs, mut file_problems): (Vec<Option<FileIr>>, Vec<Option<Problem>>) =
            results.into_iter().unzip();
        // Files with values whose library type only linking tells are lowered again
        // knowing it, as if it had been known at once.
        let hints = link::type_hints(plan, &irs, &view);
        let again: Vec<(usize, Lowering)> = hints
            .files
            .par_iter()
            .enumerate()
            .filter_map(|(f, h)| {
                let h = h.as_ref()?;
                let source = plan.files[f];
                let text = db.read(source);
                let f32_ = f as u32;
                Some((
                    f,
                    lower_one(text, source, f32_, crates_of(f32_), &view, &defs, Some(h)),
                ))
            })
            .collect();
        // The linker that found no file to lower again links the program as it is.
        let hints = if again.is_empty() {
            Some(hints)
        } else {
            drop(hints);
            for (f, (ir, problem)) in again {
                irs[f] = ir;
                file_problems[f] = problem;
            }
            None
        };
        drop(t);
        let mut problems: Vec<Problem> = plan
            .manifest_problems
            .iter()
            .map(|(f, message)| Problem {
                source: plan.files[*f as usize],
                start: 0,
                end: 0,
                message: message.clone(),
                unreadable: false,
                limit: true,
            })
            .collect();
        problems.extend(file_problems.into_iter().flatten());
        let t = crate::timing::phase("link", what);
        let program = match hints {
            Some(hints) => hints.link(plan, &irs, &view),
            None => link::link(plan, &irs, &view),
        };
        drop(irs);
        drop(t);
        Some(each(Lowered { program, problems }))
    };
    largest_first(&plans, |p| p.files.len(), lower_plan)
}

/// Runs `f` over `items` on every worker of the pool, each taking the largest item not yet
/// taken (by `size`), and gives the results in the order of `items`. A program's link and
/// analysis run on one thread; taken largest first, the last of them, which nothing overlaps,
/// is a small one (in the order of the paths the largest program of a tree may come last and
/// leave the other workers idle while it links).
fn largest_first<T: Sync, R: Send>(
    items: &[T],
    size: impl Fn(&T) -> usize,
    f: impl Fn(&T) -> Option<R> + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(size(&items[i])));
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, items.len().max(1));
    let mut done: Vec<(usize, R)> = (0..workers)
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                if let Some(r) = f(&items[i]) {
                    mine.push((i, r));
                }
            }
            mine
        })
        .collect();
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}
