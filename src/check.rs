//! The pipeline of one run: sources in, sorted findings out.
//!
//! discover files -> lower each language (in parallel per file) -> analyse each program ->
//! run the rules -> map spans to source files -> sort.

use crate::analysis;
use crate::diagnostic::{Finding, Severity};
use crate::frontend::{self, Lowered};
use crate::kb::Kb;
use crate::model::{Language, Span};
use crate::rules;
use crate::source::SourceDb;

/// What to check and how.
pub struct CheckOptions<'a> {
    /// The knowledge base (built-in plus project extensions).
    pub kb: &'a Kb,
    /// Whether a rule id is enabled.
    pub enabled: &'a (dyn Fn(&str) -> bool + Sync),
}

/// Findings of a run; spans refer to indices of the source database.
#[derive(Debug, Default)]
pub struct CheckResult {
    /// Findings sorted by (path, line, column, rule).
    pub findings: Vec<Finding>,
    /// Files that could not be read at all.
    pub unreadable: Vec<(usize, String)>,
    /// Whether the run was cancelled before it analysed every program (the findings are then
    /// incomplete).
    pub cancelled: bool,
    /// How many files a cancelled run left unlowered.
    pub unlowered: usize,
}

/// Checks every file of `db`.
pub fn check(db: &SourceDb, opts: &CheckOptions<'_>) -> CheckResult {
    check_until(db, opts, &|| false)
}

/// Checks every file of `db` until `cancelled` says the result is no longer wanted: each file
/// asks it before it is lowered and each program before its analysis, and is skipped once it
/// returns true (the language server's stale runs stop there).
pub fn check_until(
    db: &SourceDb,
    opts: &CheckOptions<'_>,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> CheckResult {
    // Workers with a stack that covers ordinary files, so that only deep ones need their own
    // (the pool may already exist when the caller built it).
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(frontend::stack::WORKER_STACK)
        .build_global();
    let mut rust = Vec::new();
    let mut python = Vec::new();
    for (i, f) in db.files.iter().enumerate() {
        match f.language {
            Language::Rust => rust.push(i),
            Language::Python => python.push(i),
        }
    }
    crate::alloc::tune_for(rust.len(), python.len());
    // Each program is analysed as soon as it is lowered; only its findings are kept.
    let analyse = |lowered: Lowered| -> CheckResult {
        if cancelled() {
            return CheckResult {
                cancelled: true,
                ..CheckResult::default()
            };
        }
        analyse_program(lowered, opts)
    };
    let cancel = frontend::Cancel::new(cancelled);
    let (rust_results, py_results) = rayon::join(
        || frontend::rust::lower_each(db, &rust, opts.kb, &cancel, &analyse),
        || frontend::python::lower_each(db, &python, opts.kb, &cancel, &analyse),
    );
    let mut result = CheckResult {
        unlowered: cancel.skipped(),
        cancelled: cancel.skipped() > 0 || cancel.stop(),
        ..CheckResult::default()
    };
    for part in rust_results.into_iter().chain(py_results) {
        result.findings.extend(part.findings);
        result.unreadable.extend(part.unreadable);
        result.cancelled |= part.cancelled;
    }
    // Programs finish in an order that depends on timing: files go in source-database order.
    result.unreadable.sort();
    result.findings.sort_by(|a, b| {
        let pa = &db.files[a.primary.file as usize].display;
        let pb = &db.files[b.primary.file as usize].display;
        (pa, a.primary.start, a.rule, &a.message).cmp(&(pb, b.primary.start, b.rule, &b.message))
    });
    result.findings.dedup();
    result
}

/// Problems, analysis and rules of one lowered program.
fn analyse_program(lowered: Lowered, opts: &CheckOptions<'_>) -> CheckResult {
    let Lowered {
        mut program,
        problems,
    } = lowered;
    let mut result = CheckResult::default();
    for p in problems {
        if p.unreadable {
            result.unreadable.push((p.source, p.message.clone()));
        }
        let (rule, severity) = if p.limit {
            ("analysis-limit", Severity::Note)
        } else {
            ("syntax-error", Severity::Error)
        };
        if (opts.enabled)(rule) {
            let span = Span::new(p.source as u32, p.start, p.end);
            result
                .findings
                .push(Finding::new(rule, severity, span, p.message));
        }
    }
    let functions = program.functions.len();
    let what = || format!("{functions} functions");
    let t = crate::timing::phase("analyse", what);
    analysis::flow::resolve_calls(&mut program);
    analysis::once_fills::mark(&mut program);
    crate::alloc::phase("calls resolved");
    let facts = analysis::analyze(&program, opts.kb);
    crate::alloc::phase("analysed");
    drop(t);
    let t = crate::timing::phase("rules", what);
    let findings = rules::run(&program, &facts, opts.kb, opts.enabled);
    crate::alloc::phase("rules run");
    drop(t);
    for mut f in findings {
        f.in_test =
            f.severity == Severity::Warning && (f.in_test || in_test_fn(&program, f.primary));
        remap(&mut f.primary, &program);
        for l in &mut f.labels {
            remap(&mut l.span, &program);
        }
        result.findings.push(f);
    }
    drop(facts);
    let python = program
        .files
        .first()
        .is_some_and(|f| f.language == Language::Python);
    drop(program);
    // The program's pages go back to the OS at once (see `alloc::release`); a Rust run keeps
    // freed pages for the next package's syntax trees instead.
    if python {
        crate::alloc::release();
    }
    crate::alloc::phase("program dropped");
    result
}

/// Whether `span` lies in an event of test code (a `#[test]` function, a `#[cfg(test)]` module,
/// a pytest test), or of a body nested in one.
fn in_test_fn(program: &crate::model::Program, span: Span) -> bool {
    let mut cur = program.body_at(span);
    let mut steps = 0;
    while let Some(id) = cur {
        let f = program.func(id);
        if f.is_test {
            return true;
        }
        steps += 1;
        if steps > 64 {
            break;
        }
        cur = f.parent;
    }
    false
}

fn remap(span: &mut Span, program: &crate::model::Program) {
    span.file = program.files[span.file as usize].source as u32;
}
