//! The Python frontend: `ruff_python_parser` parsing and lowering of Python projects into the
//! lifecycle model.
//!
//! Files are grouped into projects ([`project`]); each file is parsed and lowered on its own in
//! parallel and its syntax tree dropped right away: `prescan` collects names, [`mod@lower`] walks
//! statements (with [`scope`] for name resolution and `defs` for functions and classes), `exprs`
//! follows where values go, `calls` resolves callees and `effects` emits what knowledge-base
//! APIs do; [`decorators`] and `registrations` recognise framework shapes. The small per-file
//! results ([`ir`]) are linked per project (`link`) and dead ends are dropped (`compact`).
mod cached_calls;
mod calls;
mod carriers;
mod class_creation;
mod compact;
pub mod conftest;
mod dataclass;
pub mod decorators;
mod defs;
mod depth;
pub mod dump;
mod effects;
mod exprs;
mod facts;
mod flow;
mod fn_tables;
mod guards;
pub mod imports;
pub mod ir;
mod link;
mod loop_keys;
pub mod lower;
mod module_getattr;
mod prescan;
pub mod project;
mod registrations;
mod returned_calls;
pub mod scope;
mod split;
mod subclasses;
#[cfg(test)]
mod tests;
mod types;

use rustc_hash::FxHashSet;

use rayon::prelude::*;

use crate::frontend::{Cancel, Lowered, Problem};
use crate::kb::{Concept, Kb};
use crate::model::Language;
use crate::source::SourceDb;
use imports::ModuleSet;
use ir::FileIr;
use lower::{Ctx, Lowerer};
use project::{ModuleFile, Project};

/// Lowers the Python files `files` (indices into `db`) into one program per project root.
pub fn lower(db: &SourceDb, files: &[usize], kb: &Kb) -> Vec<Lowered> {
    lower_each(db, files, kb, &Cancel::default(), &|l| l)
}

/// Lowers like [`lower`], handing each program to `each` as soon as it is linked (while the
/// next project lowers), so that only the results of `each`, not every program, stay alive.
/// Once `cancel` says stop, files left are not lowered and no program is handed on.
pub fn lower_each<R: Send>(
    db: &SourceDb,
    files: &[usize],
    kb: &Kb,
    cancel: &Cancel<'_>,
    each: &(dyn Fn(Lowered) -> R + Sync),
) -> Vec<R> {
    if files.is_empty() {
        return Vec::new();
    }
    let projects = {
        let _t = crate::timing::phase("group", || format!("{} files", files.len()));
        project::group(db, files)
    };
    let deprecated_keywords: FxHashSet<String> = kb
        .apis()
        .iter()
        .filter(|a| a.language == Language::Python && a.concept == Concept::Deprecated)
        .filter_map(|a| a.path.split_once(':').map(|(_, k)| k.to_string()))
        .collect();
    let python = || kb.apis().iter().filter(|a| a.language == Language::Python);
    let roots: FxHashSet<String> = python()
        .map(|a| a.path.split(['.', ':']).next().unwrap_or("").to_string())
        .collect();
    let methods: FxHashSet<String> = python()
        .filter(|a| a.any_receiver)
        .map(|a| a.path.rsplit('.').next().unwrap_or("").to_string())
        .collect();
    let builtins: FxHashSet<String> = python()
        .filter_map(|a| a.path.strip_prefix("builtins."))
        .map(|rest| rest.split('.').next().unwrap_or(rest).to_string())
        .collect();
    let index = lower::ApiIndex::new(kb);
    let lower_one = |proj: &Project| -> Option<Ready> {
        if cancel.skip(proj.files.len()) {
            return None;
        }
        let modules = module_set(proj);
        let module_roots = modules
            .iter()
            .map(|m| m.split('.').next().unwrap_or(m).to_string())
            .collect();
        let mut cx = Ctx {
            kb,
            modules: &modules,
            module_roots,
            deprecated_keywords: deprecated_keywords.clone(),
            roots: roots.clone(),
            methods: methods.clone(),
            builtins: builtins.clone(),
            pytest: project::pytest_config(&proj.root),
            hook_scopes: conftest::hook_scopes(db, proj),
            index: &index,
            subclasses: Default::default(),
        };
        let what = || proj.root.display().to_string();
        let t = crate::timing::phase("lower", what);
        let (lowered, mut irs, problems) = lower_project(db, proj, &cx, cancel);
        drop(t);
        let _t = crate::timing::phase("relower", what);
        relower_subclass_users(db, &lowered, &mut irs, &mut cx);
        crate::alloc::phase("python lowered");
        Some((lowered, irs, problems))
    };
    let link_one = |ready: Ready| -> Option<R> {
        if cancel.stop() {
            return None;
        }
        let (p, irs, problems) = ready;
        Some(each(link_project(&p, irs, problems, kb)))
    };
    // Biggest projects first, by bytes of source (what lowering and linking cost grows with),
    // files in parallel, so that only one or two projects' per-file results are alive at a
    // time. A project's link and analysis run on one thread; meanwhile the other threads lower
    // the next project when both fit in memory together (see `OVERLAP_BYTES`), and then take
    // small projects from the other end of the queue, lowering, linking and analysing each,
    // until that link is done: the links of large projects, which nothing else overlaps, are
    // no longer left to one thread.
    let mut order: Vec<(u64, &Project)> = projects
        .par_iter()
        .map(|p| (source_bytes(db, p), p))
        .collect();
    order.sort_by_key(|&(bytes, p)| std::cmp::Reverse((bytes, p.files.len())));
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(order));
    let pop_front_if = |fits: &dyn Fn(u64) -> bool| {
        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
        q.front()
            .is_some_and(|&(b, _)| fits(b))
            .then(|| q.pop_front())
            .flatten()
    };
    let pop_back_if = |fits: &dyn Fn(u64) -> bool| {
        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
        q.back()
            .is_some_and(|&(b, _)| fits(b))
            .then(|| q.pop_back())
            .flatten()
    };
    let mut out = Vec::with_capacity(projects.len());
    let mut ready: Option<(u64, Option<Ready>)> = None;
    loop {
        let (bytes, current) = match ready.take() {
            Some(r) => r,
            None => match pop_front_if(&|_| true) {
                Some((bytes, proj)) => (bytes, lower_one(proj)),
                None => break,
            },
        };
        let done = std::sync::atomic::AtomicBool::new(false);
        let (linked, (next, side)) = rayon::join(
            || {
                let linked = current.and_then(link_one);
                done.store(true, std::sync::atomic::Ordering::Release);
                linked
            },
            || {
                let next = pop_front_if(&|b| bytes + b <= OVERLAP_BYTES)
                    .map(|(b, proj)| (b, lower_one(proj)));
                let alive = bytes + next.as_ref().map_or(0, |&(b, _)| b);
                let small = |b: u64| alive + b <= OVERLAP_BYTES || b <= bytes / SIDE_SHARE;
                let mut side = Vec::new();
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    let Some((_, proj)) = pop_back_if(&small) else {
                        break;
                    };
                    side.extend(lower_one(proj).and_then(link_one));
                }
                (next, side)
            },
        );
        out.extend(linked);
        out.extend(side);
        ready = next;
    }
    out
}

/// What a project's lowering hands to its link: the files that lowered, their results, and the
/// problems of the others.
type Ready = (Project, Vec<FileIr>, Vec<Problem>);

/// While a project links, a project of at most this fraction of its bytes is lowered, linked
/// and analysed beside it whatever their sizes (see `OVERLAP_BYTES`): its memory is small next
/// to the linking project's. On the Python corpus, the projects of 4 MB and less fill the
/// link and analysis of CPython's standard library, which ran on one thread alone before
/// (the two workers' CPU time went from 2886 and 2061 samples to 2621 and 2568; peak memory
/// 153 MiB either way); a quarter instead of an eighth cost 4 MiB more.
const SIDE_SHARE: u64 = 8;

/// Lowers the files of a project in parallel; returns the project of the files that lowered,
/// their results, and the problems of the others.
fn lower_project(
    db: &SourceDb,
    proj: &Project,
    cx: &Ctx<'_>,
    cancel: &Cancel<'_>,
) -> (Project, Vec<FileIr>, Vec<Problem>) {
    let results: Vec<Option<Result<FileIr, Problem>>> = proj
        .files
        .par_iter()
        .map(|mf| (!cancel.skip(1)).then(|| lower_file(db, mf, cx)))
        .collect();
    let mut irs = Vec::with_capacity(results.len());
    let mut files = Vec::with_capacity(results.len());
    let mut problems = Vec::new();
    for (mf, r) in proj.files.iter().zip(results) {
        let Some(r) = r else { continue };
        match r {
            Ok(ir) => {
                irs.push(ir);
                files.push(mf.clone());
            }
            Err(p) => problems.push(p),
        }
    }
    let lowered = Project {
        root: proj.root.clone(),
        files,
    };
    (lowered, irs, problems)
}

/// Lowers again, knowing the project's library subclasses, the files that define or name one
/// (see [`subclasses`]); other files are kept as they are.
fn relower_subclass_users(db: &SourceDb, proj: &Project, irs: &mut [FileIr], cx: &mut Ctx<'_>) {
    let found = link::library_subclasses(proj, irs, cx.kb);
    if found.is_empty() {
        return;
    }
    let affected = found.affected(irs);
    cx.subclasses = found;
    let cx = &*cx;
    let again: Vec<(usize, Result<FileIr, Problem>)> = affected
        .into_par_iter()
        .map(|k| (k, lower_file(db, &proj.files[k], cx)))
        .collect();
    for (k, r) in again {
        // The file lowered once already; should it fail now, the first lowering stands.
        if let Ok(ir) = r {
            irs[k] = ir;
        }
    }
}

/// Links and compacts one project's program.
fn link_project(proj: &Project, irs: Vec<FileIr>, problems: Vec<Problem>, kb: &Kb) -> Lowered {
    let _t = crate::timing::phase("link", || proj.root.display().to_string());
    let program = crate::alloc::purging_at_once(|| {
        // What lowering freed on the workers goes back before the link allocates.
        crate::alloc::release();
        let mut program = link::link(proj, irs, kb);
        crate::alloc::phase("python linked");
        compact::compact(&mut program);
        crate::alloc::phase("python compacted");
        program
    });

    Lowered { program, problems }
}

/// Bytes of source of two projects above which the link and analysis of the first do not
/// overlap the lowering of the second: both programs' memory would be alive at once (the
/// lowered files of a project take about three times its source). On the Python corpus the
/// links of CPython's standard library (32 MB) and SQLAlchemy (21 MB) overlap only projects
/// of an eighth of their size or less (`SIDE_SHARE`), and the lowering of the next large
/// project waits for them.
const OVERLAP_BYTES: u64 = 24 << 20;

/// Bytes of a project's source files, as the file system or the editor's buffers give them
/// (0 for a file that cannot be looked at; only the order of projects, and which of them
/// overlap, depend on it).
fn source_bytes(db: &SourceDb, p: &Project) -> u64 {
    p.files
        .iter()
        .map(|mf| {
            let file = db.file(mf.source);
            match &file.overlay {
                Some(text) => text.len() as u64,
                None => std::fs::metadata(&file.path).map_or(0, |m| m.len()),
            }
        })
        .sum()
}

fn module_set(p: &Project) -> ModuleSet {
    let mut set = ModuleSet::default();
    for f in &p.files {
        if !f.name.is_empty() {
            set.insert(f.name.clone());
        }
        for a in &f.aliases {
            set.insert(a.clone());
        }
    }
    set
}

/// Bytes of text above which a file's depth is estimated from its tokens before it is parsed, and
/// a text nested past the limit is not parsed at all: ruff's error recovery takes time
/// quadratic in the length of some broken texts (f-string fields left open inside one another,
/// a second for 60 KB), which the estimate keeps from growing with the file. Smaller files are
/// parsed first and measured on their tree (see [`parse_and_lower`]), which costs a third of
/// the estimate or less; they hold about three fifths of the bytes of real projects.
const ESTIMATE_FIRST: usize = 64 << 10;

/// Reads, parses and lowers one file; the syntax tree is dropped before returning, and the text
/// is not kept.
pub fn lower_file(db: &SourceDb, mf: &ModuleFile, cx: &Ctx<'_>) -> Result<FileIr, Problem> {
    let lowered = db.with_read(mf.source, |text| {
        if text.len() > ESTIMATE_FIRST {
            let depth = crate::frontend::nesting::estimate(text, Language::Python);
            if depth > crate::frontend::nesting::LIMIT {
                return Err(Problem::too_deep(mf.source, depth));
            }
        }
        parse_and_lower(db, text, mf, cx)
    });
    match lowered {
        Ok(lowered) => lowered,
        Err(e) => match Problem::from_read(mf.source, &e) {
            Some(p) => Err(p),
            // A generated file is skipped: its module is known but holds nothing.
            None => Ok(FileIr::default()),
        },
    }
}

/// Parses and lowers the text of one file; a file with a suppression marker leaves its
/// directives in `db`, read from the tokens of this parse.
///
/// Ruff's parser grows its own stack, so any text parses; the lowering recurses once per level
/// of the tree, on a stack sized for the depth measured on the tree ([`depth`]), and a file
/// nested deeper than [`crate::frontend::nesting::LIMIT`] is not lowered. A text that does not
/// parse is measured by the depth estimate of its tokens instead: past the limit it is an
/// `analysis-limit` note, as a tree that deep would be, not a syntax error.
///
/// The syntax tree and what lowering allocates on the side live in a heap of their own, freed
/// whole once the file is lowered (the tree is not walked to be dropped): the result is copied
/// out of it by [`FileIr::rehome`], and the directives and a syntax error's problem are made
/// outside it.
fn parse_and_lower(
    db: &SourceDb,
    text: &str,
    mf: &ModuleFile,
    cx: &Ctx<'_>,
) -> Result<FileIr, Problem> {
    let scratch = crate::alloc::Scratch::new();
    // SAFETY: the parse result is given up to the scratch heap below, whatever it is.
    let parsed = unsafe { scratch.run(|| ruff_python_parser::parse_module(text)) };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // A text that does not parse is measured by its tokens: one nested past the limit
            // is a note about the run rather than a syntax error.
            let estimate = crate::frontend::nesting::estimate(text, Language::Python);
            let problem = if estimate > crate::frontend::nesting::LIMIT {
                Problem::too_deep(mf.source, estimate)
            } else {
                Problem {
                    source: mf.source,
                    start: e.location.start().to_u32(),
                    end: e.location.end().to_u32(),
                    message: format!("syntax error: {}", e.error),
                    unreadable: false,
                    limit: false,
                }
            };
            scratch.discard(e);
            return Err(problem);
        }
    };
    let depth = depth::of_module(parsed.suite());
    if depth > crate::frontend::nesting::LIMIT {
        scratch.discard(parsed);
        // The walk stops past the limit: the note tells the depth the tokens show.
        let estimate = crate::frontend::nesting::estimate(text, Language::Python);
        return Err(Problem::too_deep(mf.source, estimate.max(depth)));
    }
    if db.has_marker(mf.source) == Some(true) {
        let directives = crate::suppress::parse_scanned(text, Language::Python, || {
            crate::frontend::comments::python_tokens(parsed.tokens())
        });
        db.set_directives(mf.source, directives);
    }
    // Two stack levels per level of the tree: the depth estimate of the text, for which the
    // stack per level is measured, counts a call or an index twice (the chain and the bracket).
    let ir = crate::frontend::stack::with_stack_for(depth.saturating_mul(2), || {
        // SAFETY: lowering keeps nothing beyond the file, and its result is copied into the
        // heaps of its parts when it ends (`FileIr::rehome`).
        unsafe { scratch.run(|| Lowerer::new(cx, mf).lower_module(parsed.suite())) }
    });
    scratch.discard(parsed);
    Ok(ir)
}
