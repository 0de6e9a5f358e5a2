//! `runtime-dropped-in-async`: a runtime built and dropped, or an event loop closed, inside async
//! code. Doc: rules/runtime-dropped-in-async.md.

use crate::analysis::flow::{ObjKind, Role};
use crate::analysis::{Ctx, Facts, short};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{EventKind, FactKind, Language, Place, Program, RuntimeRef, VarId};

use super::explain::{chain_labels, path_is_certain};

/// Reports runtimes whose drop happens on a runtime worker thread.
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    let emptied = emptied(program);
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            let EventKind::RuntimeNew { var, api, .. } = &ev.kind else {
                continue;
            };
            if f.language != Language::Rust {
                continue;
            }
            // A runtime that escapes is dropped elsewhere; one that is blocked on here
            // panics at that `block_on` first, which `nested-block-on` reports.
            if var.is_some_and(|v| escapes(program, v) || blocked_on(f, v)) {
                continue;
            }
            // The bodies that drop the runtime: where its last owning local lives. A runtime
            // kept in a field or a static is dropped by its owner.
            let mut droppers: Vec<crate::model::FnId> = Vec::new();
            let mut stored = false;
            for o in facts.flow.made_at(fid, i) {
                match facts.flow.holders(program, o) {
                    Some(h) => droppers.extend(h),
                    None => stored = true,
                }
            }
            // Kept in a field or static that code empties, it may be gone before the owner.
            let taken_out = || {
                facts.flow.made_at(fid, i).any(|o| {
                    emptied
                        .iter()
                        .any(|&p| facts.flow.values(p).iter().any(|&(x, _)| x == o))
                })
            };
            if stored || (!emptied.is_empty() && taken_out()) {
                continue;
            }
            if facts.flow.made_at(fid, i).next().is_none() {
                droppers.push(fid);
            }
            droppers.sort();
            droppers.dedup();
            for d in droppers {
                if d != fid && shut_down_in_background(program, d) {
                    continue;
                }
                let Some(entry) = certain_async(program, facts, d) else {
                    continue;
                };
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
                if d != fid {
                    finding = finding.label(
                        program.func(d).span,
                        format!(
                            "the runtime is dropped when `{}` returns",
                            program.func(d).name
                        ),
                    );
                } else if let Some(end) = var.and_then(|v| drop_site(program, fid, v)) {
                    finding = finding.label(end, "the runtime is dropped here");
                }
                finding = chain_labels(program, facts, d, entry, finding)
                    .note("tokio panics: \"Cannot drop a runtime in a context where blocking is not allowed. This happens when a runtime is dropped from within an asynchronous context.\"")
                    .help("use the runtime you are already on (`tokio::spawn`, `Handle::current()`), or build and drop the extra runtime outside async code or inside `spawn_blocking`");
                out.push(finding);
                break;
            }
        }
    }
    for (fid, f) in program.fns() {
        // An async context reached through calls whose placement is certain.
        let Some(entry) = certain_async(program, facts, fid) else {
            continue;
        };
        for ev in &f.events {
            if !facts.reaches(program, entry, ev) {
                continue;
            }
            match &ev.kind {
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
    field_overwrites(program, facts, &emptied, out);
    taken_out_closes(program, facts, out);
}

/// A runtime kept in a field or a static, moved out of it and shut down with a wait or dropped
/// (`if let Some(rt) = self.rt.take() { rt.shutdown_timeout(..) }`) by code that runs in async
/// context: the wait blocks a worker thread, and tokio panics.
fn taken_out_closes(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for (fid, f) in program.fns() {
        if f.language != Language::Rust {
            continue;
        }
        for (i, ev) in f.events.iter().enumerate() {
            let EventKind::RuntimeClose { api, .. } = &ev.kind else {
                continue;
            };
            if api.ends_with("shutdown_background") {
                continue;
            }
            let held: Vec<_> = facts
                .flow
                .subject(fid, i)
                .into_iter()
                .filter(|&(o, _)| facts.flow.object(o).kind == ObjKind::Runtime)
                .collect();
            // Every runtime the receiver may hold is owned there and kept in a field or a
            // static: whichever one it is, it ends here.
            let Some(&(rt, _)) = held.first() else {
                continue;
            };
            if held
                .iter()
                .any(|&(o, role)| role != Role::Own || facts.flow.holders(program, o).is_some())
            {
                continue;
            }
            let Some(entry) = certain_async(program, facts, fid) else {
                continue;
            };
            if !facts.reaches(program, entry, ev)
                || out.iter().any(|x| {
                    x.rule == "runtime-dropped-in-async"
                        && x.primary.file == ev.span.file
                        && x.primary.start < ev.span.end
                        && ev.span.start < x.primary.end
                })
            {
                continue;
            }
            let finding = Finding::new(
                "runtime-dropped-in-async",
                Severity::Error,
                ev.span,
                format!("`{}` ends a runtime inside async code", short(api)),
            )
            .primary_label("the runtime is shut down here, on a thread that drives async tasks")
            .label(
                facts.flow.object(rt).span,
                "the runtime, kept in a field, is built here",
            );
            let finding = chain_labels(program, facts, fid, entry, finding)
                .note("tokio panics: \"Cannot drop a runtime in a context where blocking is not allowed. This happens when a runtime is dropped from within an asynchronous context.\"")
                .help("call `shutdown_background()` on the runtime taken out, or stop it from sync code or inside `spawn_blocking`");
            out.push(finding);
        }
    }
}

/// An async context of `f` reached through calls whose placement is certain.
fn certain_async<'f>(
    program: &Program,
    facts: &'f Facts,
    f: crate::model::FnId,
) -> Option<&'f crate::analysis::CtxEntry> {
    facts
        .ctx(f)
        .iter()
        .find(|c| matches!(c.ctx, Ctx::Runtime(_)) && path_is_certain(program, facts, f, c))
}

/// Whether `f` hands a runtime to a background shutdown (which does not block).
fn shut_down_in_background(program: &Program, f: crate::model::FnId) -> bool {
    program.func(f).events.iter().any(|e| {
        matches!(&e.kind, EventKind::RuntimeClose { api, .. } if api.ends_with("shutdown_background"))
    })
}

/// A field that owns a runtime, overwritten in async code, or whose runtime is taken out and
/// thrown away there: the old runtime is dropped on a worker thread.
/// Places some code moves a value out of (`map.remove(k)`, `slot.take()`): whether one still
/// holds a runtime when its owner dies is not known.
fn emptied(program: &Program) -> Vec<Place> {
    program
        .flow
        .facts
        .iter()
        .filter_map(|f| match f.kind {
            FactKind::TakeOut { place } | FactKind::Drop { place } => Some(place),
            _ => None,
        })
        .collect()
}

fn field_overwrites(program: &Program, facts: &Facts, emptied: &[Place], out: &mut Vec<Finding>) {
    for fact in &program.flow.facts {
        let mut bound_at = None;
        let (place, how) = match fact.kind {
            FactKind::Store {
                cell,
                overwrite: true,
                ..
            } => (Place::Cell(cell), FieldEnd::Overwrite),
            FactKind::Drop { place } => (place, FieldEnd::TakenOut),
            FactKind::Release { cell, bound } => {
                bound_at = bound;
                (Place::Cell(cell), FieldEnd::OwnerDies)
            }
            _ => continue,
        };
        let Place::Cell(cell) = place else { continue };
        let fid = fact.func;
        if program.func(fid).language != Language::Rust {
            continue;
        }
        // A hand-written `Drop` that runs first may take the runtime out of its field and shut
        // it down in the background: unknown, so silent.
        if matches!(how, FieldEnd::OwnerDies)
            && (runs_drop_impl(program, fid, fact.span) || emptied.contains(&place))
        {
            continue;
        }
        let Some(entry) = certain_async(program, facts, fid) else {
            continue;
        };
        let held = facts.flow.values(place);
        let Some(&(rt, _)) = held
            .iter()
            .find(|(o, role)| *role == Role::Own && facts.flow.object(*o).kind == ObjKind::Runtime)
        else {
            continue;
        };
        // One that this body also blocks on panics at that `block_on` first, which
        // `nested-block-on` reports.
        if matches!(how, FieldEnd::OwnerDies) && blocks_on_object(program, facts, fid, rt) {
            continue;
        }
        let c = program.flow.cell(cell);
        let (message, label) = match how {
            FieldEnd::Overwrite => (
                format!(
                    "overwriting `{}.{}` drops the runtime it holds inside async code",
                    c.owner, c.name
                ),
                "the old runtime is dropped here, on a thread that drives async tasks",
            ),
            FieldEnd::TakenOut => (
                format!(
                    "the runtime taken out of `{}.{}` is dropped inside async code",
                    c.owner, c.name
                ),
                "the old runtime is dropped here, on a thread that drives async tasks",
            ),
            FieldEnd::OwnerDies => (
                format!(
                    "a `{}` dies inside async code and drops the runtime in its field `{}`",
                    c.owner, c.name
                ),
                "the value, and the runtime it owns, is dropped here, on a thread that drives async tasks",
            ),
        };
        // A local that owns the value dies at its scope end: the finding sits where the local
        // is bound, in the async code, with the end of its scope as a label.
        let finding = match bound_at {
            Some(at) => Finding::new("runtime-dropped-in-async", Severity::Error, at, message)
                .primary_label("this value owns a runtime and dies inside async code")
                .label(fact.span, label),
            None => Finding::new(
                "runtime-dropped-in-async",
                Severity::Error,
                fact.span,
                message,
            )
            .primary_label(label),
        }
        .label(
            facts.flow.object(rt).span,
            "the runtime stored in the field is built here",
        );
        let help = match how {
            FieldEnd::OwnerDies => {
                "let the value die outside async code (move it into `spawn_blocking`), or give its type a `Drop` that takes the runtime out and calls `shutdown_background()` on it"
            }
            FieldEnd::TakenOut => {
                "bind the runtime taken out and call `shutdown_background()` on it, or drop it inside `spawn_blocking`"
            }
            FieldEnd::Overwrite => {
                "take the old runtime out first (`Option::take`/`replace`) and call `shutdown_background()` on it, or drop it inside `spawn_blocking`"
            }
        };
        let finding = chain_labels(program, facts, fid, entry, finding)
            .note("tokio panics: \"Cannot drop a runtime in a context where blocking is not allowed. This happens when a runtime is dropped from within an asynchronous context.\"")
            .help(help);
        out.push(finding);
    }
}
/// Whether body `f` blocks on runtime object `rt`.
fn blocks_on_object(
    program: &Program,
    facts: &Facts,
    f: crate::model::FnId,
    rt: crate::analysis::flow::ObjId,
) -> bool {
    program.func(f).events.iter().enumerate().any(|(i, e)| {
        matches!(
            e.kind,
            EventKind::Run {
                how: crate::model::RunKind::BlockOn,
                ..
            }
        ) && facts.flow.subject(f, i).iter().any(|(o, _)| *o == rt)
    })
}

/// Whether a value dying at `span` in `f` runs a hand-written `Drop::drop` of the package.
fn runs_drop_impl(program: &Program, f: crate::model::FnId, span: crate::model::Span) -> bool {
    program.func(f).events.iter().any(|e| {
        e.span == span
            && matches!(&e.kind, EventKind::Call { callees, .. }
            if callees.iter().any(|&c| {
                let name = &program.func(c).name;
                name == "drop" || name.ends_with("::drop")
            }))
    })
}

/// How a field that owns a runtime lets it go.
#[derive(Clone, Copy)]
enum FieldEnd {
    /// A new value is stored over it.
    Overwrite,
    /// The runtime is moved out (`take`, `replace`, a container's `remove` or `pop`) and
    /// thrown away.
    TakenOut,
    /// The value that owns the field dies (scope end, `drop`, an overwrite of its own).
    OwnerDies,
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
