//! `nested-block-on`: a blocking runtime entry reached from async code. Doc: rules/nested-block-on.md.

use crate::analysis::{Ctx, Facts, short};
use crate::diagnostic::{Finding, Severity};
use crate::model::{Entry, EventKind, Language, Program, RunKind};

use super::explain::{chain_labels, path_is_certain};

/// Reports block-on calls, blocking clients and runtime-entry functions reached from async code.
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    let patched = program.fns().any(|(_, f)| {
        f.events.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Hygiene {
                    rule: "loop-patching",
                    ..
                }
            )
        })
    });
    for (fid, f) in program.fns() {
        if patched && f.language == Language::Python {
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
                finding =
                    finding.note("tokio panics: \"Cannot start a runtime from within a runtime\"");
            } else {
                finding = finding.note("asyncio raises: \"RuntimeError: asyncio.run() cannot be called from a running event loop\"");
            }
            out.push(finding);
        }
    }
}
