//! `nested-block-on`: a blocking runtime entry reached from async code. Doc: rules/nested-block-on.md.

use crate::analysis::{Ctx, Facts, short};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{Entry, EventKind, Executor, Flavor, FnId, Language, Program, RunKind};

use super::explain::{chain_labels, path_is_certain};

/// Reports block-on calls, blocking clients and runtime-entry functions reached from async code.
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
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
        if super::explain::probes(f) {
            continue;
        }
        // An async context reached through calls whose placement is certain.
        let entries: Vec<_> = facts
            .ctx(fid)
            .iter()
            .filter(|c| matches!(c.ctx, Ctx::Runtime(_)) && path_is_certain(program, facts, fid, c))
            .collect();
        if entries.is_empty() {
            continue;
        }
        // A client that blocks on a runtime of its own (`reqwest::blocking`) panics at its
        // first blocking call in the body: the calls after it (sending, then reading the body)
        // are the same bug, reported once.
        let mut entry_reported = false;
        for (i, ev) in f.events.iter().enumerate() {
            if entry_reported && matches!(ev.kind, EventKind::BlockingEntry { .. }) {
                continue;
            }
            // The first such context whose path reaches the event.
            let Some(entry) = entries
                .iter()
                .copied()
                .find(|c| facts.reaches(program, c, ev))
            else {
                continue;
            };
            // Tokio refuses to nest only where its own runtime is entered on the thread: under
            // an executor that parks a thread holding no Tokio context (`fn main` driving
            // `futures::executor::block_on`), a Tokio entry just blocks that executor's one
            // future, which is fine.
            let foreign = f.language == Language::Rust
                && entry.ctx.instance().is_some_and(|i| {
                    let o = facts.instance(i);
                    matches!(o.executor, Executor::Futures | Executor::Smol)
                        && o.ambient
                            .is_none_or(|a| a == crate::analysis::InstId::UNKNOWN)
                });
            let mut parked = None;
            let what = match &ev.kind {
                EventKind::Run {
                    how: RunKind::BlockOn,
                    ..
                }
                | EventKind::BlockingEntry { .. }
                | EventKind::Call { .. }
                    if foreign && parking_block_on(facts, fid, i, entry.ctx).is_none() =>
                {
                    continue;
                }
                EventKind::Run {
                    how: RunKind::BlockOn,
                    api,
                    ..
                } => {
                    match parking_block_on(facts, fid, i, entry.ctx) {
                        Some(Parking::Blocks) => continue,
                        other => parked = other,
                    }
                    format!("`{}`", short(api))
                }
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
            if let Some(parking) = parked {
                finding = finding.note(match parking {
                    Parking::Panics => "the futures executor panics: \"cannot execute `LocalPool` executor from within another executor\"",
                    _ => "this executor does not panic, it parks the thread; on a current-thread runtime that is the only thread, so no task, timer or I/O the future waits for can run again (a deadlock)",
                });
            } else if f.language == Language::Rust {
                finding = finding.note(match ev.kind {
                    EventKind::BlockingEntry { .. } => "tokio panics: \"Cannot block the current thread from within a runtime\" (or, for a client that runs its own runtime, \"Cannot start a runtime from within a runtime\")",
                    _ => "tokio panics: \"Cannot start a runtime from within a runtime\"",
                });
            } else if let Some(patch) = patch {
                finding = finding
                    .label(patch, "the loop patch that lets this nesting run")
                    .note("the project patches asyncio to allow nesting (`nest_asyncio.apply()`), so this no longer raises; it still stalls every other task of the outer loop until the inner call returns, the patch does not reach uvloop or loops made by other libraries, and nest_asyncio is archived");
            } else if let Some(nested) = facts.nested.get(&(fid, i)) {
                finding = finding.note(nested.clone());
            } else {
                finding = finding.note("it raises `RuntimeError`: an event loop cannot start on a thread that is running one");
            }
            entry_reported |= matches!(ev.kind, EventKind::BlockingEntry { .. });
            out.push(finding);
        }
    }
}

/// What a block-on of an executor that parks the thread (`futures::executor::block_on`,
/// `futures_lite::future::block_on`, `pollster`) does inside async code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parking {
    /// Nested in the futures executor itself: its enter guard panics.
    Panics,
    /// On a current-thread Tokio runtime: every task, timer and I/O event the future may wait
    /// for needs the one thread it blocks.
    Deadlocks,
    /// Anywhere else: the thread blocks until the future completes, with no panic.
    Blocks,
}

/// How a block-on event behaves in context `outer`, when its executor parks the thread; `None`
/// for block-ons that refuse to nest (Tokio's, asyncio's) or whose executor is unknown.
pub fn parking_block_on(facts: &Facts, f: FnId, event: usize, outer: Ctx) -> Option<Parking> {
    let inner = facts.instance(*facts.event_instance.get(&(f, event))?);
    if !matches!(inner.executor, Executor::Futures | Executor::Smol) {
        return None;
    }
    let outer = outer.instance().map(|i| facts.instance(i));
    Some(match outer {
        Some(o) if o.executor == Executor::Futures && inner.executor == Executor::Futures => {
            Parking::Panics
        }
        Some(o)
            if matches!(o.executor, Executor::Tokio | Executor::TokioLocal)
                && o.flavor == Flavor::CurrentThread =>
        {
            Parking::Deadlocks
        }
        _ => Parking::Blocks,
    })
}
