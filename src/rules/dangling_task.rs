//! dangling-task (LL102): a task whose handle is thrown away; see `rules/dangling-task.md`.

use crate::analysis::Facts;
use crate::analysis::flow::ObjKind;
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{EventKind, HandleFate, Language, Program, RunKind, RuntimeRef};

/// Reports spawns whose task handle is discarded (`asyncio.create_task(..)` as a statement).
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    for (fid, func) in program.fns() {
        if func.language != Language::Python {
            continue;
        }
        for (i, ev) in func.events.iter().enumerate() {
            let EventKind::Run {
                how: RunKind::Spawn,
                handle,
                runtime,
                api,
                ..
            } = &ev.kind
            else {
                continue;
            };
            // A spawn on a receiver the model cannot identify may be a task group's, which
            // keeps its tasks; one the flow finds holding only event loops is a loop's. A
            // spawn inside `with pytest.raises(..)` is what the test expects to fail (on a
            // closed loop, with a bad argument): no task is made.
            if *handle != HandleFate::Discarded
                || (*runtime == RuntimeRef::Unknown && !on_loop_only(facts, fid, i))
                || facts.in_own_expect_region(fid, ev.span)
                || !facts.reached(program, fid, ev)
            {
                continue;
            }
            let message = format!(
                "the task made by `{api}` is not stored, so it may be garbage-collected before it finishes"
            );
            out.push(
                Finding::new("dangling-task", Severity::Warning, ev.span, message)
                .primary_label("task handle discarded here")
                .note("the event loop keeps only a weak reference to running tasks")
                .help("keep a reference (for example in a set of background tasks, discarded on completion) or use an `asyncio.TaskGroup`"),
            );
        }
    }
}

/// Whether the flow finds that the receiver of event `i` of `f` holds event loops, and
/// nothing else it knows of.
fn on_loop_only(facts: &Facts, f: crate::model::FnId, i: usize) -> bool {
    let held = facts.flow.subject(f, i);
    !held.is_empty()
        && held
            .iter()
            .all(|(o, _)| facts.flow.object(*o).kind == ObjKind::Runtime)
}
