//! `nested-block-on`: a blocking runtime entry reached from async code. Doc: rules/nested-block-on.md.

use crate::analysis::{Ctx, Facts, short};
use crate::diagnostic::{Finding, Severity};
use crate::model::{Entry, EventKind, Language, Program, RunKind};

use super::explain::{chain_labels, path_is_certain};

/// Reports block-on calls, blocking clients and runtime-entry functions reached from async code.
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    // A loop patch (`nest_asyncio.apply()`) makes the nesting stop raising, but not stop
    // blocking the outer loop: the entry is still reported, with the patch named.
    let patch = program.fns().find_map(|(_, f)| {
        f.events.iter().find_map(|e| match e.kind {
            EventKind::Hygiene {
                rule: "loop-patching",
                ..
            } => Some(e.span),
            _ => None,
        })
    });
    for (fid, f) in program.fns() {
        // A body that asks whether a loop runs picks its path at run time.
        if probes(f) {
            continue;
        }
        // An async context reached through calls whose placement is certain.
        let Some(entry) = facts
            .ctx(fid)
            .iter()
            .find(|c| matches!(c.ctx, Ctx::Runtime(_)) && path_is_certain(program, facts, fid, c))
        else {
            continue;
        };
        for ev in &f.events {
            let what = match &ev.kind {
                EventKind::Run {
                    how: RunKind::BlockOn,
                    api,
                    ..
                } => format!("`{}`", short(api)),
                EventKind::BlockingEntry { api } => format!("`{}`", short(api)),
                EventKind::Call { callees, .. } => {
                    match callees
                        .iter()
                        .find(|c| matches!(program.func(**c).entry, Some(Entry::Runtime { .. })))
                    {
                        Some(c) => {
                            format!("`{}`, which starts its own runtime,", program.func(*c).name)
                        }
                        None => continue,
                    }
                }
                _ => continue,
            };
            let (message, help) = match f.language {
                Language::Rust => (
                    format!("{what} blocks on a runtime from inside async code"),
                    "`.await` the future instead; sync code reached from async code can use `tokio::task::spawn_blocking`, or `block_in_place` on a multi-thread runtime",
                ),
                Language::Python => (
                    format!("{what} starts an event loop from inside a running one"),
                    "`await` the coroutine instead; sync code called from a coroutine can run it with `asyncio.run_coroutine_threadsafe` from another thread or be made async",
                ),
            };
            let mut finding = Finding::new("nested-block-on", Severity::Error, ev.span, message)
                .primary_label("blocks the thread that is driving async tasks");
            finding = chain_labels(program, facts, fid, entry, finding);
            finding = finding.help(help);
            if f.language == Language::Rust {
                finding = finding.note(match ev.kind {
                    EventKind::BlockingEntry { .. } => "tokio panics: \"Cannot block the current thread from within a runtime\" (or, for a client that runs its own runtime, \"Cannot start a runtime from within a runtime\")",
                    _ => "tokio panics: \"Cannot start a runtime from within a runtime\"",
                });
            } else if let Some(patch) = patch {
                finding = finding
                    .label(patch, "the loop patch that lets this nesting run")
                    .note("the project patches asyncio to allow nesting (`nest_asyncio.apply()`), so this no longer raises; it still stalls every other task of the outer loop until the inner call returns, the patch does not reach uvloop or loops made by other libraries, and nest_asyncio is archived");
            } else {
                finding = finding.note("asyncio raises: \"RuntimeError: asyncio.run() cannot be called from a running event loop\"");
            }
            out.push(finding);
        }
    }
}

/// Whether a body asks whether a runtime is running before it acts (`RuntimeProbe`).
pub fn probes(f: &crate::model::Function) -> bool {
    f.events
        .iter()
        .any(|e| matches!(e.kind, EventKind::RuntimeProbe { .. }))
}
