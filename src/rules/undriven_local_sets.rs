//! Tasks queued on a Tokio `LocalSet` (`local.spawn_local(..)`) that nothing ever drives: the
//! set runs its tasks only while it is polled (`run_until`, `LocalSet::block_on`, awaiting the
//! set, `rt.block_on(local)`), so a set made in a body, given tasks and dropped at the end of
//! that body without any of them never runs them. Reported by `runtime-dropped-with-live-tasks`.

use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::model::{EventKind, Executor, FnId, Program, RunKind, RuntimeRef, Span, VarKind};

/// Reports the first task queued on each set that its owner makes, gives tasks and drops with
/// no other use of it at all (every read of the set is one of those queueing calls).
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    // The queueing calls of each set variable: spawns that the knowledge base layers on a set.
    let mut queued: Vec<Vec<(FnId, Span)>> = vec![Vec::new(); program.vars.len()];
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            if let EventKind::Run {
                how: RunKind::Spawn,
                runtime: RuntimeRef::Var(v),
                ..
            } = &ev.kind
                && facts.layers.get(&(fid, i)) == Some(&Executor::TokioLocal)
                && facts.reached(program, fid, ev)
            {
                queued[v.0 as usize].push((fid, ev.span));
            }
        }
    }
    for (v, spawns) in queued.iter().enumerate() {
        let var = &program.vars[v];
        let Some(&(_, first)) = spawns.first() else {
            continue;
        };
        let owner = program.func(var.owner);
        // Made here by a call, read only by the calls that queue on it: never driven, never
        // moved, returned or kept, so it is dropped with its tasks when its scope ends.
        if !var.fresh
            || var.kind != VarKind::Handle
            || var.reads as usize != spawns.len()
            || owner.diverges
        {
            continue;
        }
        out.push(
            Finding::new(
                "runtime-dropped-with-live-tasks",
                Severity::Error,
                first,
                format!(
                    "this task is queued on `{}`, a `LocalSet` that nothing drives: it never runs, and is dropped with the set",
                    var.name
                ),
            )
            .primary_label("queued on the set, which never runs it")
            .label(
                var.span,
                format!(
                    "the set is made here and dropped at the end of `{}` without `run_until`, `block_on` or `.await`",
                    owner.name
                ),
            )
            .note("a `LocalSet` polls its tasks only while it is driven; dropping it drops the tasks it holds, unpolled")
            .help("drive the set: `local.run_until(fut).await`, `local.await`, or `rt.block_on(local)`; or spawn the task with `tokio::task::spawn_local` inside a set that runs"),
        );
    }
}
