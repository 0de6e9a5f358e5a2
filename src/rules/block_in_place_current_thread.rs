//! `block-in-place-current-thread`: `block_in_place` on a current-thread runtime. Doc:
//! rules/block-in-place-current-thread.md.

use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::model::{EventKind, Flavor, Program, RunKind};

use super::explain::chain_labels;

/// Reports `block_in_place` reached on a runtime whose flavor is current-thread.
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for (fid, f) in program.fns() {
        let Some((_, entry)) = facts
            .known_instances(fid)
            .find(|(i, _)| facts.instance(*i).flavor == Flavor::CurrentThread)
        else {
            continue;
        };
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
            let finding = Finding::new(
                "block-in-place-current-thread",
                Severity::Error,
                ev.span,
                "`block_in_place` runs on a current-thread runtime",
            )
            .primary_label("panics on a current-thread runtime");
            let finding = chain_labels(program, facts, fid, entry, finding)
                .note("tokio panics: \"can call blocking only when running on the multi-threaded runtime\"")
                .help("use `tokio::task::spawn_blocking(..).await`, or run this code on a multi-thread runtime (`#[tokio::test(flavor = \"multi_thread\")]`)");
            out.push(finding);
        }
    }
}
