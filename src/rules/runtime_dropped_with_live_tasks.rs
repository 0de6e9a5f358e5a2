//! `runtime-dropped-with-live-tasks`: spawned work still running when its runtime ends, nobody
//! waiting for it. Doc: rules/runtime-dropped-with-live-tasks.md.

use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::model::{
    Entry, EventKind, FnId, FnKind, HandleFate, Language, Program, RunKind, RuntimeRef, WaitKind,
};

/// Reports detached tasks in the body whose return ends the runtime.
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for root in roots(program, facts) {
        let r = program.func(root);
        if r.diverges || waits_for_everything(program, root) {
            continue;
        }
        for ev in &r.events {
            let EventKind::Run {
                how: RunKind::Spawn,
                runtime: RuntimeRef::Current,
                handle,
                body,
                ..
            } = &ev.kind
            else {
                continue;
            };
            let detached = match handle {
                HandleFate::Discarded => true,
                HandleFate::Bound(v) => !program.var(*v).consumed,
                HandleFate::Kept => false,
            };
            if !detached || !finite_visible_work(program, *body) {
                continue;
            }
            let (msg, note, help) = match r.language {
                Language::Rust => (
                    format!(
                        "task spawned here may still be running when the runtime shuts down at the end of `{}`",
                        r.name
                    ),
                    "tasks still running when the runtime is dropped are cancelled at their next `.await`; their work is silently lost",
                    "keep the `JoinHandle` and `.await` it before returning (or use a `JoinSet`)",
                ),
                Language::Python => (
                    format!(
                        "task created here may still be pending when the loop running `{}` ends",
                        r.name
                    ),
                    "asyncio cancels it: \"Task was destroyed but it is pending!\"",
                    "keep the task and `await` it (or use `asyncio.TaskGroup`) before the coroutine returns",
                ),
            };
            out.push(
                Finding::new(
                    "runtime-dropped-with-live-tasks",
                    Severity::Error,
                    ev.span,
                    msg,
                )
                .primary_label("the handle is dropped; nothing waits for this task")
                .label(
                    r.span,
                    format!("the runtime ends when `{}` returns", r.name),
                )
                .note(note)
                .help(help),
            );
        }
    }
}

/// Bodies whose return ends their runtime: non-test runtime entries, bodies driven by a
/// block-on, and async functions such a body calls (`asyncio.run(main())`).
fn roots(program: &Program, facts: &Facts) -> Vec<FnId> {
    let mut out = Vec::new();
    for (fid, f) in program.fns() {
        if f.is_test {
            continue;
        }
        let blocked_on = facts.callers[fid.0 as usize]
            .iter()
            .any(|s| s.nested == Some(RunKind::BlockOn) && !program.func(s.caller).is_test);
        if matches!(f.entry, Some(Entry::Runtime { test: false, .. })) || blocked_on {
            out.push(fid);
            if f.kind == FnKind::Future {
                for ev in &f.events {
                    if let EventKind::Call { callees, .. } = &ev.kind {
                        out.extend(
                            callees
                                .iter()
                                .copied()
                                .filter(|c| program.func(*c).is_async),
                        );
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn waits_for_everything(program: &Program, f: FnId) -> bool {
    program.func(f).events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Wait {
                kind: WaitKind::Drain | WaitKind::Signal,
                ..
            }
        )
    })
}

/// Whether the spawned body does work the program can see and that ends on its own.
fn finite_visible_work(program: &Program, body: FnId) -> bool {
    let b = program.func(body);
    if b.diverges {
        return false;
    }
    if b.kind == FnKind::Named {
        return true;
    }
    let mut any = false;
    for ev in &b.events {
        if let EventKind::Call { callees, .. } = &ev.kind {
            if callees.iter().any(|c| program.func(*c).diverges) {
                return false;
            }
            any |= !callees.is_empty();
        }
    }
    any
}
