//! `no-runtime-context`: an API that needs a running runtime, called where none runs. Doc:
//! rules/no-runtime-context.md.

use crate::analysis::{Ctx, Facts, short};

use super::explain::path_is_certain;
use crate::diagnostic::{Finding, Severity};
use crate::model::{EventKind, Language, Program, RunKind, RuntimeRef, Span};

/// Reports runtime-requiring calls in code that provably runs with no runtime.
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for (fid, f) in program.fns() {
        // One call path that surely has no runtime is enough: `fn main`, a `#[test]`, a
        // framework handler or a fresh thread, through calls whose placement is certain.
        let Some(entry) = facts
            .ctx(fid)
            .iter()
            .find(|c| c.ctx == Ctx::NoRuntime && path_is_certain(program, facts, fid, c))
        else {
            continue;
        };
        // Python code often probes for a loop (`try: get_running_loop() except RuntimeError`)
        // or gets one from a fixture: there, every known path must lack a loop.
        if f.language == Language::Python
            && (f.callers_unknown || facts.ctx(fid).iter().any(|c| c.ctx != Ctx::NoRuntime))
        {
            continue;
        }
        let mut seen: Vec<Span> = Vec::new();
        for ev in &f.events {
            let api = match &ev.kind {
                EventKind::RuntimeEnter { .. } => break,
                EventKind::NeedsRuntime { api } => api,
                EventKind::Run {
                    how: RunKind::Spawn,
                    runtime: RuntimeRef::Current,
                    api,
                    ..
                } => api,
                _ => continue,
            };
            if seen.contains(&ev.span) {
                continue;
            }
            seen.push(ev.span);
            let (message, note, help) = match f.language {
                Language::Rust => (
                    format!(
                        "`{}` needs a Tokio runtime, but none is running here",
                        short(api)
                    ),
                    "tokio panics: \"there is no reactor running, must be called from the context of a Tokio 1.x runtime\"",
                    "call it from async code running on the runtime, pass a `Handle` and use `handle.spawn`, or enter the runtime first (`let _guard = rt.enter();`)",
                ),
                Language::Python => (
                    format!(
                        "`{}` needs a running event loop, but none is running here",
                        short(api)
                    ),
                    "asyncio raises: \"RuntimeError: no running event loop\"",
                    "call it from a coroutine (for example start the task lazily on first use), or pass the loop in explicitly",
                ),
            };
            let mut finding = Finding::new("no-runtime-context", Severity::Error, ev.span, message)
                .primary_label("no runtime is running on this thread");
            {
                for (caller, span) in facts.chain(fid, entry, 6) {
                    finding = finding.label(
                        span,
                        format!(
                            "called here, from `{}`, with no runtime",
                            program.func(caller).name
                        ),
                    );
                }
            }
            out.push(finding.note(note).help(help));
        }
    }
}
