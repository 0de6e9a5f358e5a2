//! deprecated-loop-api (LL105): `get_event_loop()` with no running loop and `loop=` arguments
//! removed in Python 3.10; see `rules/deprecated-loop-api.md`.

use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{Entry, EventKind, FnId, Program, RunKind};

/// Marker of the frontend's message for `get_event_loop()` outside a coroutine.
const NO_RUNNING_LOOP: &str = "when no event loop is running";

/// Reports deprecated loop APIs recorded as hygiene events. A `get_event_loop()` call in sync
/// code is reported only where the model shows that no loop can be running (module-level code,
/// entry points, and sync functions reached only from those).
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    let may_loop = may_run_under_loop(program);
    for (id, func) in program.fns() {
        // After `asyncio.set_event_loop(loop)` the loop is current: `get_event_loop()` returns it
        // without creating one, and without a deprecation warning.
        let mut installed = false;
        for ev in &func.events {
            // Any installed loop counts, even one the model cannot identify (a loop returned by
            // a helper, or `None`, which it cannot tell apart): unknown stays silent.
            if let EventKind::RuntimeEnter { .. } = &ev.kind {
                installed = true;
                continue;
            }
            let EventKind::Hygiene {
                rule: "deprecated-loop-api",
                message,
            } = &ev.kind
            else {
                continue;
            };
            let loop_less = message.contains(NO_RUNNING_LOOP);
            // A test that asserts the call fails (`loop=` raises `TypeError` since 3.10)
            // watches the very error this rule warns of.
            if loop_less && (may_loop[id.0 as usize] || installed)
                || facts.in_own_expect_region(id, ev.span)
            {
                continue;
            }
            let help = if loop_less {
                "inside a coroutine use `asyncio.get_running_loop()`; at the top level use `asyncio.run(main())` or create the loop with `asyncio.new_event_loop()`"
            } else {
                "drop the `loop` argument: these APIs use the running loop"
            };
            out.push(
                Finding::new(
                    "deprecated-loop-api",
                    Severity::Warning,
                    ev.span,
                    message.clone(),
                )
                .help(help),
            );
        }
    }
}

/// Whether each function may run while an event loop is running on its thread: coroutines,
/// functions with unknown callers, loop entries, and everything they call synchronously.
fn may_run_under_loop(program: &Program) -> Vec<bool> {
    let n = program.functions.len();
    let mut may = vec![false; n];
    let mut work: Vec<FnId> = Vec::new();
    for (id, f) in program.fns() {
        let entry_loop = matches!(
            f.entry,
            Some(Entry::Runtime { .. }) | Some(Entry::ServerAsync { .. })
        );
        if f.is_async || f.callers_unknown || entry_loop {
            may[id.0 as usize] = true;
            work.push(id);
        }
    }
    while let Some(id) = work.pop() {
        for ev in &program.func(id).events {
            let targets: &[FnId] = match &ev.kind {
                EventKind::Call { callees, .. } => callees,
                EventKind::Run {
                    body,
                    how: RunKind::Inline | RunKind::Future,
                    ..
                } => std::slice::from_ref(body),
                _ => &[],
            };
            for &t in targets {
                if let Some(slot) = may.get_mut(t.0 as usize)
                    && !*slot
                {
                    *slot = true;
                    work.push(t);
                }
            }
        }
    }
    may
}
