//! Propagation of execution contexts from entry points along calls and runtime APIs.

use std::collections::VecDeque;

use crate::model::{Entry, EventKind, FnId, Program, RunKind, RuntimeRef};

use super::instances::{InstId, server_instance};
use super::{Ctx, CtxEntry, Facts};

/// At most this many contexts are kept per function; more add nothing a rule needs.
const MAX_CONTEXTS: usize = 24;

/// Fills [`Facts::contexts`].
pub fn propagate(program: &Program, facts: &mut Facts) {
    facts.contexts = vec![Vec::new(); program.functions.len()];
    let mut work = VecDeque::new();
    for (fid, f) in program.fns() {
        let root = match &f.entry {
            Some(Entry::Runtime { .. }) => facts
                .event_instance
                .get(&(fid, usize::MAX))
                .map(|&i| Ctx::Runtime(i)),
            Some(Entry::ServerAsync { .. }) => {
                Some(Ctx::Runtime(server_instance(program, facts, fid)))
            }
            Some(Entry::Main) | Some(Entry::Repeated { .. }) => Some(Ctx::NoRuntime),
            None if f.callers_unknown && f.is_async => Some(Ctx::Runtime(InstId::UNKNOWN)),
            None if f.callers_unknown => Some(Ctx::Unknown),
            None => None,
        };
        if let Some(ctx) = root {
            add(facts, &mut work, fid, CtxEntry { ctx, via: None });
        }
    }
    drain(program, facts, &mut work);
    // Async bodies nothing known reaches still run on some executor when polled.
    for (fid, f) in program.fns() {
        if f.is_async && facts.contexts[fid.0 as usize].is_empty() {
            add(
                facts,
                &mut work,
                fid,
                CtxEntry {
                    ctx: Ctx::Runtime(InstId::UNKNOWN),
                    via: None,
                },
            );
        }
    }
    drain(program, facts, &mut work);
}

fn add(facts: &mut Facts, work: &mut VecDeque<(FnId, CtxEntry)>, f: FnId, entry: CtxEntry) {
    let list = &mut facts.contexts[f.0 as usize];
    if list.len() >= MAX_CONTEXTS || list.iter().any(|c| c.ctx == entry.ctx) {
        return;
    }
    list.push(entry);
    work.push_back((f, entry));
}

fn drain(program: &Program, facts: &mut Facts, work: &mut VecDeque<(FnId, CtxEntry)>) {
    while let Some((fid, entry)) = work.pop_front() {
        let mut cur = entry.ctx;
        for (i, ev) in program.func(fid).events.iter().enumerate() {
            let via = Some((fid, ev.span));
            match &ev.kind {
                EventKind::Call { callees, .. } => {
                    for &c in callees {
                        if matches!(
                            program.func(c).entry,
                            Some(Entry::Runtime { .. }) | Some(Entry::Main)
                        ) {
                            continue;
                        }
                        add(facts, work, c, CtxEntry { ctx: cur, via });
                    }
                }
                EventKind::Run {
                    body, how, runtime, ..
                } => {
                    if let Some(ctx) = run_context(facts, fid, i, *how, *runtime, cur) {
                        add(facts, work, *body, CtxEntry { ctx, via });
                    }
                }
                EventKind::RuntimeEnter { runtime } => {
                    let inst = resolve(facts, fid, i, *runtime, cur);
                    if !matches!(cur, Ctx::Runtime(_)) {
                        cur = Ctx::Blocking(inst);
                    }
                }
                _ => {}
            }
        }
    }
}

/// The instance a runtime reference designates when reached in context `cur`.
pub fn resolve(facts: &Facts, f: FnId, event: usize, runtime: RuntimeRef, cur: Ctx) -> InstId {
    match runtime {
        RuntimeRef::Var(v) => facts
            .var_instance
            .get(&v)
            .copied()
            .unwrap_or(InstId::UNKNOWN),
        RuntimeRef::Current => cur.instance().unwrap_or(InstId::UNKNOWN),
        RuntimeRef::Fresh(_) => facts
            .event_instance
            .get(&(f, event))
            .copied()
            .unwrap_or(InstId::UNKNOWN),
        RuntimeRef::Unknown => InstId::UNKNOWN,
    }
}

fn run_context(
    facts: &Facts,
    f: FnId,
    event: usize,
    how: RunKind,
    runtime: RuntimeRef,
    cur: Ctx,
) -> Option<Ctx> {
    let inst = || resolve(facts, f, event, runtime, cur);
    Some(match how {
        RunKind::BlockOn => Ctx::Runtime(inst()),
        RunKind::Spawn => match (runtime, cur) {
            (RuntimeRef::Current, Ctx::NoRuntime) => return None,
            (RuntimeRef::Current, Ctx::Unknown) => Ctx::Runtime(InstId::UNKNOWN),
            _ => Ctx::Runtime(inst()),
        },
        RunKind::SpawnBlocking | RunKind::BlockInPlace => Ctx::Blocking(inst()),
        RunKind::Thread => Ctx::NoRuntime,
        RunKind::Future => match cur {
            Ctx::Runtime(i) => Ctx::Runtime(i),
            _ => Ctx::Runtime(InstId::UNKNOWN),
        },
        RunKind::Inline => cur,
    })
}
