//! loop-patching (LL104): `nest_asyncio.apply()` and friends; see `rules/loop-patching.md`.

use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{EventKind, Program};

/// Reports the loop-patching calls the frontends recorded as hygiene events.
pub fn check(program: &Program, _facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    for (_, func) in program.fns() {
        for ev in &func.events {
            if let EventKind::Hygiene {
                rule: "loop-patching",
                message,
            } = &ev.kind
            {
                out.push(
                    Finding::new("loop-patching", Severity::Warning, ev.span, message.clone())
                        .primary_label("the event loop is patched here")
                        .note("patching lets `run_until_complete` nest inside a running loop, which hides nested-loop bugs and does not work with uvloop")
                        .help("await the coroutine instead of starting a loop inside a running one, or run the blocking part in a worker thread"),
                );
            }
        }
    }
}
