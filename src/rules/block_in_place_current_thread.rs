//! `block-in-place-current-thread`: `block_in_place` on a current-thread runtime, or inside a
//! running `LocalSet`. Doc: rules/block-in-place-current-thread.md.

use crate::analysis::{Ctx, CtxEntry, Facts};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{EventKind, Flavor, FnId, Program, RunKind};

use super::explain::chain_labels;

/// Why `block_in_place` panics in a context.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    /// The runtime below is current-thread: there is no other worker to hand the tasks to.
    CurrentThread,
    /// A `LocalSet` is running the code: it forbids blocking while it polls its tasks.
    LocalSet,
}

/// The first context of `f` where `block_in_place` panics, with the reason.
fn panicking(facts: &Facts, f: FnId) -> Option<(&CtxEntry, Why)> {
    let local = facts.ctx(f).iter().find(|c| match c.ctx {
        Ctx::Runtime(i) => facts.instance(i).layer.is_some_and(|l| l.driven),
        _ => false,
    });
    if let Some(c) = local {
        return Some((c, Why::LocalSet));
    }
    facts
        .known_instances(f)
        .find(|(i, _)| facts.instance(*i).flavor == Flavor::CurrentThread)
        .map(|(_, c)| (c, Why::CurrentThread))
}

/// Whether the nearest runtime entry on the path to `f` is `Handle::block_on`, which lets
/// `block_in_place` run its closure in place whatever the flavor (tokio enters the runtime
/// with blocking allowed and no scheduler of its own on that thread).
fn under_handle_block_on(program: &Program, facts: &Facts, f: FnId, entry: &CtxEntry) -> bool {
    for (caller, span) in facts.chain(f, entry, 32) {
        let run = program
            .func(caller)
            .events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Run { how, api, .. } if e.span == span => Some((*how, api)),
                _ => None,
            });
        match run {
            Some((RunKind::BlockOn, api)) => return api.ends_with("Handle::block_on"),
            Some((RunKind::Inline, _)) | None => {}
            Some(_) => return false,
        }
    }
    false
}

/// Reports `block_in_place` reached on a runtime whose flavor is current-thread, or inside a
/// `LocalSet` that runs the code (`run_until`, `LocalSet::block_on`, its `spawn_local` tasks).
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    for (fid, f) in program.fns() {
        let Some((entry, why)) = panicking(facts, fid) else {
            continue;
        };
        if why == Why::CurrentThread && under_handle_block_on(program, facts, fid, entry) {
            continue;
        }
        for ev in &f.events {
            if !facts.reaches(program, entry, ev) {
                continue;
            }
            if !matches!(
                ev.kind,
                EventKind::Run {
                    how: RunKind::BlockInPlace,
                    ..
                }
            ) {
                continue;
            }
            let (message, label, help) = match why {
                Why::CurrentThread => (
                    "`block_in_place` runs on a current-thread runtime",
                    "panics on a current-thread runtime",
                    "use `tokio::task::spawn_blocking(..).await`, or run this code on a multi-thread runtime (`#[tokio::test(flavor = \"multi_thread\")]`)",
                ),
                Why::LocalSet => (
                    "`block_in_place` runs inside a `LocalSet`",
                    "panics inside a `LocalSet`, whatever the runtime's flavor",
                    "use `tokio::task::spawn_blocking(..).await`, or move the blocking work out of the `LocalSet` (a `tokio::spawn`ed task on a multi-thread runtime)",
                ),
            };
            let finding = Finding::new(
                "block-in-place-current-thread",
                Severity::Error,
                ev.span,
                message,
            )
            .primary_label(label);
            let finding = chain_labels(program, facts, fid, entry, finding)
                .note("tokio panics: \"can call blocking only when running on the multi-threaded runtime\"")
                .help(help);
            out.push(finding);
        }
    }
}
