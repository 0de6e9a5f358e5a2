//! `runtime-dropped-in-async`: a runtime built and dropped, or an event loop closed, inside async
//! code. Doc: rules/runtime-dropped-in-async.md.

use crate::analysis::{Ctx, Facts, short};
use crate::diagnostic::{Finding, Severity};
use crate::model::{EventKind, Language, Program, RuntimeRef, VarId};

use super::explain::{chain_labels, path_is_certain};

/// Reports runtimes whose drop happens on a runtime worker thread.
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for (fid, f) in program.fns() {
        // An async context reached through calls whose placement is certain.
        let Some(entry) = facts
            .ctx(fid)
            .iter()
            .find(|c| matches!(c.ctx, Ctx::Runtime(_)) && path_is_certain(program, facts, fid, c))
        else {
            continue;
        };
        for ev in &f.events {
            match &ev.kind {
                // A Python loop that is not running can be made and closed anywhere.
                EventKind::RuntimeNew { var, api, .. } if f.language == Language::Rust => {
                    // A runtime that escapes is dropped elsewhere; one that is blocked on here
                    // panics at that `block_on` first, which `nested-block-on` reports.
                    if var.is_some_and(|v| escapes(program, v) || blocked_on(f, v)) {
                        continue;
                    }
                    let mut finding = Finding::new(
                        "runtime-dropped-in-async",
                        Severity::Error,
                        ev.span,
                        format!(
                            "runtime built by `{}` is dropped inside async code",
                            short(api)
                        ),
                    )
                    .primary_label("runtime built here, on a thread that drives async tasks");
                    if let Some(end) = var.and_then(|v| drop_site(program, fid, v)) {
                        finding = finding.label(end, "the runtime is dropped here");
                    }
                    finding = chain_labels(program, facts, fid, entry, finding)
                        .note("tokio panics: \"Cannot drop a runtime in a context where blocking is not allowed. This happens when a runtime is dropped from within an asynchronous context.\"")
                        .help("use the runtime you are already on (`tokio::spawn`, `Handle::current()`), or build and drop the extra runtime outside async code or inside `spawn_blocking`");
                    out.push(finding);
                }
                EventKind::RuntimeClose {
                    runtime: RuntimeRef::Current,
                    api,
                } if f.language == Language::Python => {
                    let finding = Finding::new(
                        "runtime-dropped-in-async",
                        Severity::Error,
                        ev.span,
                        format!(
                            "`{}` closes the event loop this coroutine is running on",
                            short(api)
                        ),
                    )
                    .primary_label("closes the running loop")
                    .note("asyncio raises: \"RuntimeError: Cannot close a running event loop\"")
                    .help("let `asyncio.run` close the loop when the main coroutine returns");
                    out.push(chain_labels(program, facts, fid, entry, finding));
                }
                _ => {}
            }
        }
    }
}

/// Whether a runtime variable is moved somewhere that outlives the function.
fn escapes(program: &Program, v: VarId) -> bool {
    program.functions.iter().any(|f| {
        f.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Escape { var } if var == v))
    })
}

/// Whether the body blocks on the runtime in `v`.
fn blocked_on(f: &crate::model::Function, v: VarId) -> bool {
    f.events.iter().any(|e| {
        matches!(e.kind, EventKind::Run { how: crate::model::RunKind::BlockOn, runtime: RuntimeRef::Var(r), .. } if r == v)
    })
}

fn drop_site(program: &Program, f: crate::model::FnId, v: VarId) -> Option<crate::model::Span> {
    program.func(f).events.iter().find_map(|e| match &e.kind {
        EventKind::ScopeEnd { vars } if vars.contains(&v) => Some(e.span),
        EventKind::RuntimeClose {
            runtime: RuntimeRef::Var(r),
            ..
        } if *r == v => Some(e.span),
        _ => None,
    })
}
