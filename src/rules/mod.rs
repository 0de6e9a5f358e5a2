//! The rule registry: one entry per rule, with its id, stable code, severity, languages and doc.
//!
//! Each rule lives in its own file and exposes `check(&Program, &Facts, &mut Vec<Finding>)`.
//! Rules read facts from [`crate::analysis`] and never read another rule's output.

mod block_in_place_current_thread;
mod blocking_call_in_async;
mod cross_runtime_resource;
mod dangling_task;
mod deprecated_loop_api;
mod explain;
mod loop_patching;
mod nested_block_on;
mod no_runtime_context;
mod reactor_needs;
mod run_results;
mod runtime_dropped_in_async;
mod runtime_dropped_with_live_tasks;
mod runtime_lifetimes;
mod unclosed_client;
mod undriven_local_sets;
mod use_after_runtime_close;

use crate::analysis::ExpectRegion;
use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{Asserted, Language, Program};

/// Signature of a rule's check function: the program, its facts, and the run's knowledge base
/// (built-in plus project-declared), which rules word their help from.
pub type CheckFn = fn(&Program, &Facts, &Kb, &mut Vec<Finding>);

/// A registered rule.
pub struct Rule {
    /// Kebab-case id, also the doc's file stem (`rules/<id>.md`).
    pub id: &'static str,
    /// Stable short code (`LL001`).
    pub code: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Languages the rule applies to.
    pub languages: &'static [Language],
    /// One-line summary.
    pub summary: &'static str,
    /// The rule's documentation (Markdown).
    pub doc: &'static str,
    /// The check, or `None` for rules reported outside the analysis (syntax errors).
    pub check: Option<CheckFn>,
}

const BOTH: &[Language] = &[Language::Rust, Language::Python];
const RUST: &[Language] = &[Language::Rust];
const PYTHON: &[Language] = &[Language::Python];

/// Every rule, in code order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "syntax-error",
        code: "LL000",
        severity: Severity::Error,
        languages: BOTH,
        summary: "a file could not be parsed or read, so it was not analysed",
        doc: include_str!("../../rules/syntax-error.md"),
        check: None,
    },
    Rule {
        id: "cross-runtime-resource",
        code: "LL001",
        severity: Severity::Error,
        languages: BOTH,
        summary: "a runtime-bound client, pool, socket or primitive is used under a runtime other than the one it is bound to",
        doc: include_str!("../../rules/cross-runtime-resource.md"),
        check: Some(cross_runtime_resource::check),
    },
    Rule {
        id: "nested-block-on",
        code: "LL002",
        severity: Severity::Error,
        languages: BOTH,
        summary: "a blocking runtime entry (`block_on`, `asyncio.run`) is reached from async code",
        doc: include_str!("../../rules/nested-block-on.md"),
        check: Some(nested_block_on::check),
    },
    Rule {
        id: "runtime-dropped-with-live-tasks",
        code: "LL003",
        severity: Severity::Error,
        languages: BOTH,
        summary: "spawned tasks are still running, unawaited, when their runtime or loop ends",
        doc: include_str!("../../rules/runtime-dropped-with-live-tasks.md"),
        check: Some(runtime_dropped_with_live_tasks::check),
    },
    Rule {
        id: "runtime-dropped-in-async",
        code: "LL004",
        severity: Severity::Error,
        languages: BOTH,
        summary: "a runtime is dropped, or the running loop closed, inside async code",
        doc: include_str!("../../rules/runtime-dropped-in-async.md"),
        check: Some(runtime_dropped_in_async::check),
    },
    Rule {
        id: "use-after-runtime-close",
        code: "LL005",
        severity: Severity::Error,
        languages: BOTH,
        summary: "a runtime, handle or loop is used after it was dropped, shut down or closed",
        doc: include_str!("../../rules/use-after-runtime-close.md"),
        check: Some(use_after_runtime_close::check),
    },
    Rule {
        id: "no-runtime-context",
        code: "LL006",
        severity: Severity::Error,
        languages: BOTH,
        summary: "an API that needs a running runtime is called where none runs",
        doc: include_str!("../../rules/no-runtime-context.md"),
        check: Some(no_runtime_context::check),
    },
    Rule {
        id: "block-in-place-current-thread",
        code: "LL007",
        severity: Severity::Error,
        languages: RUST,
        summary: "`block_in_place` is called on a current-thread runtime or inside a `LocalSet`",
        doc: include_str!("../../rules/block-in-place-current-thread.md"),
        check: Some(block_in_place_current_thread::check),
    },
    Rule {
        id: "blocking-call-in-async",
        code: "LL101",
        severity: Severity::Warning,
        languages: BOTH,
        summary: "a blocking call (sleep, file or network I/O, subprocess) runs inside async code",
        doc: include_str!("../../rules/blocking-call-in-async.md"),
        check: Some(blocking_call_in_async::check),
    },
    Rule {
        id: "dangling-task",
        code: "LL102",
        severity: Severity::Warning,
        languages: PYTHON,
        summary: "a task is spawned and its handle thrown away, so it may be garbage-collected",
        doc: include_str!("../../rules/dangling-task.md"),
        check: Some(dangling_task::check),
    },
    Rule {
        id: "unclosed-client",
        code: "LL103",
        severity: Severity::Warning,
        languages: PYTHON,
        summary: "an async client is created and never closed on any path",
        doc: include_str!("../../rules/unclosed-client.md"),
        check: Some(unclosed_client::check),
    },
    Rule {
        id: "loop-patching",
        code: "LL104",
        severity: Severity::Warning,
        languages: PYTHON,
        summary: "the event loop is patched to allow nesting (`nest_asyncio.apply()`)",
        doc: include_str!("../../rules/loop-patching.md"),
        check: Some(loop_patching::check),
    },
    Rule {
        id: "deprecated-loop-api",
        code: "LL105",
        severity: Severity::Warning,
        languages: PYTHON,
        summary: "a deprecated or removed event-loop API (`get_event_loop()` with no running loop, `loop=`)",
        doc: include_str!("../../rules/deprecated-loop-api.md"),
        check: Some(deprecated_loop_api::check),
    },
    Rule {
        id: "analysis-limit",
        code: "LL200",
        severity: Severity::Note,
        languages: BOTH,
        summary: "a file is nested too deeply to analyse, so it was skipped",
        doc: include_str!("../../rules/analysis-limit.md"),
        check: None,
    },
    Rule {
        id: "unused-suppression",
        code: "LL106",
        severity: Severity::Warning,
        languages: BOTH,
        summary: "a suppression comment silences nothing",
        doc: include_str!("../../rules/unused-suppression.md"),
        check: None,
    },
];

/// Looks a rule up by id or code.
pub fn find(name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id == name || r.code.eq_ignore_ascii_case(name))
}

/// The rule id or code closest to a misspelt `name`, if one is close enough to be a typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    RULES
        .iter()
        .flat_map(|r| [r.id, r.code])
        .map(|candidate| {
            let score = strsim::jaro_winkler(&lower, &candidate.to_ascii_lowercase());
            (score, candidate)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// `unknown rule `name``, with the closest rule when one is near (`did you mean ...?`).
pub fn unknown_rule(name: &str) -> String {
    match suggest(name) {
        Some(near) => format!("unknown rule `{name}` (did you mean `{near}`?)"),
        None => format!("unknown rule `{name}`"),
    }
}

/// Runs every rule in `enabled` over a program, with the run's knowledge base.
pub fn run(
    program: &Program,
    facts: &Facts,
    kb: &Kb,
    enabled: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        if let Some(check) = rule.check
            && enabled(rule.id)
        {
            let start = out.len();
            check(program, facts, kb, &mut out);
            for f in &mut out[start..] {
                debug_assert_eq!(f.rule, rule.id, "rule reported under another id");
                f.severity = rule.severity.min(f.severity);
            }
        }
    }
    if !facts.expect_regions.is_empty() {
        for f in &mut out {
            if is_expected(program, facts, f) {
                f.expected = true;
                f.severity = Severity::Note;
            }
        }
    }
    crate::diagnostic::merge_groups(&mut out);
    crate::diagnostic::merge_same_place(&mut out);
    out
}

/// Whether a test provokes finding `f` on purpose and asserts that very failure: the finding
/// is an error that panics (Rust) or raises `RuntimeError` (Python), at code inside a region
/// that asserts a failure or reached only from one (or reached through a call made in one, as
/// the finding's chain shows), and the assertion accepts it.
fn is_expected(program: &Program, facts: &Facts, f: &Finding) -> bool {
    if f.severity != Severity::Error {
        return false;
    }
    let Some(fid) = program.body_at(f.primary) else {
        return false;
    };
    let language = program.func(fid).language;
    let text =
        |needle: &str| f.message.contains(needle) || f.notes.iter().any(|n| n.contains(needle));
    // The messages the finding quotes; `should_panic(expected = ..)` matches a substring of the
    // real message, of which the finding may quote only the start.
    let quoted: Vec<&str> = f
        .notes
        .iter()
        .flat_map(|n| n.split('"').skip(1).step_by(2))
        .filter(|q| q.len() >= 12)
        .collect();
    let accepts = |w: &String| text(w) || quoted.iter().any(|q| w.contains(q));
    let accepted = |region: &ExpectRegion| match language {
        // A panic fails a test that asserts an `Err` result; any other failure there is the
        // error the test asserts.
        Language::Rust => match region.how {
            Asserted::ErrResult => !text("panics"),
            Asserted::Fails | Asserted::Task(_) => {
                text("panics") && region.what.iter().all(accepts)
            }
        },
        Language::Python => {
            text("RuntimeError")
                && (region.what.is_empty()
                    || region.what.iter().any(|w| {
                        matches!(w.as_str(), "RuntimeError" | "Exception" | "BaseException")
                    }))
        }
    };
    // The failure is provoked where the finding's chain passes through asserted code: the
    // primary span itself, or a call it tells of (a test calling library code that fails).
    // Several regions may hold it (an `Err` asserted of what `catch_unwind` returns): one that
    // accepts the failure is enough.
    facts.expected_regions(fid, f.primary).any(accepted)
        || f.labels.iter().any(|l| {
            program
                .body_at(l.span)
                .is_some_and(|b| facts.expected_regions(b, l.span).any(accepted))
        })
}
