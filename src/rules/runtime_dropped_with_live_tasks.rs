//! `runtime-dropped-with-live-tasks`: spawned work still running when its runtime ends, nobody
//! waiting for it. Doc: rules/runtime-dropped-with-live-tasks.md.

use std::collections::HashMap;

use crate::analysis::Facts;
use crate::analysis::flow::{ObjKind, Role};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{
    Entry, Event, EventKind, FnId, FnKind, HandleFate, Language, Place, Program, RunKind,
    RuntimeRef, VarId, WaitKind,
};

/// Reports detached tasks in the body whose return ends the runtime (or in a helper only such
/// bodies call), and tasks spawned on a local runtime that is dropped or shut down right after.
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    let roots = roots(program, facts);
    let collected = Collected::new(program, facts);
    for (fid, f) in program.fns() {
        let Some(root) = owning_root(program, facts, &roots, fid) else {
            continue;
        };
        let r = program.func(root);
        if r.diverges
            || f.diverges
            || waits_for_everything(program, root)
            || waits_for_everything(program, fid)
        {
            continue;
        }
        for (i, ev) in f.events.iter().enumerate() {
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
            let lost = detached(program, *handle) || collected.lost(program, facts, fid, i);
            if lost && finite_visible_work(program, *body) && facts.reached(program, fid, ev) {
                let mut finding = report(program, facts, (fid, i), root, None);
                if !detached(program, *handle) {
                    finding.primary_label = if f.language == Language::Rust {
                        "the join handle is returned to callers that drop it unread"
                    } else {
                        "the task is kept in a local collection that nothing awaits, gathers, cancels or hands on"
                    }
                    .into();
                }
                out.push(finding);
            }
        }
    }
    local_runtimes(program, facts, out);
    callee_spawns(program, facts, out);
    closed_loops(program, facts, out);
    super::undriven_local_sets::check(program, facts, out);
}

/// An event of interest to [`closed_loops`]: (function, event index).
type At = (FnId, usize);

/// What a function does to one runtime object, in order: the closes it reaches while tasks
/// created before it are still pending, whether it runs the loop (which lets those tasks
/// progress), and the tasks it leaves pending.
#[derive(Clone, Default)]
struct LoopSummary {
    closes: Vec<At>,
    clears: bool,
    pending: Vec<At>,
}

/// Tasks created on an asyncio loop the flow identifies (an instance attribute, a value passed
/// along) that are still pending when that loop is closed: no run of the loop comes between the
/// creation and the close, in the body or in the calls a body makes in order.
fn closed_loops(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    use crate::analysis::flow::ObjKind;
    let flow = &facts.flow;
    let mut closed = Vec::new();
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            if matches!(ev.kind, EventKind::RuntimeClose { .. }) {
                for (o, _) in flow.subject(fid, i) {
                    if flow.object(o).kind == ObjKind::Runtime && !closed.contains(&o) {
                        closed.push(o);
                    }
                }
            }
        }
    }
    // A loop that another thread runs (`Thread(target=loop.run_forever)`) runs the tasks
    // submitted to it while the code that submits them goes on: whether one is still pending
    // when the loop is closed is a matter of timing the program does not show.
    let threaded = on_other_threads(program);
    closed.retain(|&o| {
        !program.fns().any(|(fid, f)| {
            threaded[fid.0 as usize]
                && f.events.iter().enumerate().any(|(i, ev)| {
                    matches!(
                        ev.kind,
                        EventKind::Run {
                            how: RunKind::BlockOn,
                            ..
                        } | EventKind::BlockingEntry { .. }
                    ) && flow.subject(fid, i).iter().any(|(x, _)| *x == o)
                })
        })
    });
    if closed.is_empty() {
        return;
    }
    // Only the functions that reach, through calls, an event acting on the loop have anything
    // to summarize: every other summary is empty. Found once per loop, walking the calls
    // backwards from the functions with such an event.
    let mut acting: Vec<Vec<FnId>> = vec![Vec::new(); closed.len()];
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            match &ev.kind {
                EventKind::Run {
                    how: RunKind::Spawn | RunKind::BlockOn,
                    ..
                }
                | EventKind::BlockingEntry { .. }
                | EventKind::RuntimeClose { .. } => {
                    for (o, _) in flow.subject(fid, i) {
                        if let Some(k) = closed.iter().position(|&c| c == o)
                            && acting[k].last() != Some(&fid)
                        {
                            acting[k].push(fid);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut bugs: Vec<(At, At)> = Vec::new();
    let mut reaches = vec![false; program.functions.len()];
    for (o, starts) in closed.into_iter().zip(acting) {
        reaches.fill(false);
        let mut work = starts;
        while let Some(f) = work.pop() {
            if !std::mem::replace(&mut reaches[f.0 as usize], true) {
                // Summaries descend through calls only, not into nested bodies' run sites.
                work.extend(
                    facts.callers[f.0 as usize]
                        .iter()
                        .filter(|s| s.nested.is_none())
                        .map(|s| s.caller),
                );
            }
        }
        let holds = |f: FnId, i: usize| flow.subject(f, i).iter().any(|(x, _)| *x == o);
        let mut memo: HashMap<FnId, LoopSummary> = HashMap::new();
        for (fid, _) in program.fns() {
            if reaches[fid.0 as usize] {
                summarize(program, fid, &reaches, &holds, &mut memo, &mut bugs);
            }
        }
    }
    bugs.sort();
    bugs.dedup();
    for (spawn, close) in bugs {
        let f = program.func(spawn.0);
        let (Some(_), Some(c)) = (
            f.events.get(spawn.1),
            program.func(close.0).events.get(close.1),
        ) else {
            continue;
        };
        out.push(report(program, facts, spawn, spawn.0, Some(c.span)));
    }
}

/// The functions that run on a thread the program starts (`std::thread::spawn`,
/// `threading.Thread`): the threads' bodies and what they call or run in place.
fn on_other_threads(program: &Program) -> Vec<bool> {
    let mut seen = vec![false; program.functions.len()];
    let mut work: Vec<FnId> = Vec::new();
    for (_, f) in program.fns() {
        for ev in &f.events {
            if let EventKind::Run {
                how: RunKind::Thread,
                body,
                ..
            } = ev.kind
                && !std::mem::replace(&mut seen[body.0 as usize], true)
            {
                work.push(body);
            }
        }
    }
    while let Some(f) = work.pop() {
        for ev in &program.func(f).events {
            let next: &[FnId] = match &ev.kind {
                EventKind::Call { callees, .. } => callees,
                EventKind::Run {
                    how: RunKind::Inline | RunKind::Future,
                    body,
                    ..
                } => std::slice::from_ref(body),
                _ => &[],
            };
            for &c in next {
                if !std::mem::replace(&mut seen[c.0 as usize], true) {
                    work.push(c);
                }
            }
        }
    }
    seen
}

/// Whether the task made at `at` never ends on its own (its body, or a function the body calls,
/// loops forever: a heartbeat): running the loop does not finish it, so it is still pending
/// when the loop is closed unless something cancels it.
fn endless(program: &Program, at: At) -> bool {
    let Some(EventKind::Run { body, .. }) = program.func(at.0).events.get(at.1).map(|e| &e.kind)
    else {
        return false;
    };
    let b = program.func(*body);
    b.diverges
        || b.events.iter().any(|e| {
            matches!(&e.kind, EventKind::Call { callees, .. }
                if !callees.is_empty() && callees.iter().all(|c| program.func(*c).diverges))
        })
}

/// What `fid` does to the loop; `reaches` tells the functions whose summary may not be empty.
fn summarize(
    program: &Program,
    fid: FnId,
    reaches: &[bool],
    holds: &dyn Fn(FnId, usize) -> bool,
    memo: &mut HashMap<FnId, LoopSummary>,
    bugs: &mut Vec<(At, At)>,
) -> LoopSummary {
    if let Some(s) = memo.get(&fid) {
        return s.clone();
    }
    // A call cycle does nothing to the loop.
    memo.insert(fid, LoopSummary::default());
    let mut sum = LoopSummary::default();
    let mut pending: Vec<At> = Vec::new();
    for (i, ev) in program.func(fid).events.iter().enumerate() {
        match &ev.kind {
            EventKind::Run {
                how: RunKind::Spawn,
                handle,
                ..
            } if holds(fid, i) => {
                // Python only: a Rust runtime shut down with tasks is `local_runtimes`' and
                // `use-after-runtime-close`'s to judge.
                let python = program.func(fid).language == Language::Python;
                let awaited = matches!(handle, HandleFate::Bound(v) if program.var(*v).consumed);
                if !python {
                    continue;
                }
                if !awaited {
                    pending.push((fid, i));
                }
            }
            // Running the loop (`run_until_complete`, or `run_forever` until it is stopped)
            // lets its tasks and callbacks progress.
            EventKind::Run {
                how: RunKind::BlockOn,
                ..
            }
            | EventKind::BlockingEntry { .. }
                if holds(fid, i) =>
            {
                sum.clears = true;
                pending.retain(|&at| endless(program, at));
            }
            EventKind::RuntimeClose { .. } if holds(fid, i) => {
                if !sum.clears {
                    sum.closes.push((fid, i));
                }
                bugs.extend(pending.iter().map(|&s| (s, (fid, i))));
            }
            EventKind::Call { callees, .. } => {
                let subs: Vec<LoopSummary> = callees
                    .iter()
                    .map(|&c| {
                        if reaches[c.0 as usize] {
                            summarize(program, c, reaches, holds, memo, bugs)
                        } else {
                            LoopSummary::default()
                        }
                    })
                    .collect();
                let mut clears = !subs.is_empty();
                for sub in &subs {
                    if !sum.clears {
                        sum.closes.extend(sub.closes.iter().copied());
                    }
                    for &c in &sub.closes {
                        bugs.extend(pending.iter().map(|&s| (s, c)));
                    }
                    clears &= sub.clears;
                }
                if clears {
                    sum.clears = true;
                    pending.retain(|&at| endless(program, at));
                }
                for sub in subs {
                    pending.extend(sub.pending);
                }
                pending.sort();
                pending.dedup();
            }
            _ => {}
        }
    }
    sum.pending = pending;
    memo.insert(fid, sum.clone());
    sum
}

/// Whether the runtime in `v` is the body's own: built there, or, by the value flow, one
/// runtime made for this body (by a helper it calls) whose last owner is the body.
fn owned_here(program: &Program, facts: &Facts, fid: FnId, before: &[Event], v: VarId) -> bool {
    if before
        .iter()
        .any(|e| matches!(e.kind, EventKind::RuntimeNew { var: Some(r), .. } if r == v))
    {
        return true;
    }
    let vals = facts.flow.values(Place::Var(v));
    !vals.is_empty()
        && vals.iter().all(|&(o, role)| {
            role == Role::Own
                && facts.flow.object(o).kind == ObjKind::Runtime
                && facts
                    .flow
                    .holders(program, o)
                    .is_some_and(|h| h.as_slice() == [fid])
        })
}

/// The runtime a Rust event acts on: a named local, or the one runtime object the flow finds
/// in its receiver (`self.rt.spawn(..)`, `holder.rt.shutdown_timeout(..)`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rt {
    Var(VarId),
    Obj(crate::analysis::flow::ObjId),
}

/// The runtime object in the receiver of event `i` of `f`, when the flow finds exactly one.
fn sole_runtime(facts: &Facts, f: FnId, i: usize) -> Option<crate::analysis::flow::ObjId> {
    match facts.flow.subject(f, i).as_slice() {
        [(o, Role::Own)] if facts.flow.object(*o).kind == ObjKind::Runtime => Some(*o),
        _ => None,
    }
}

/// Whether event `i` of `f` acts on runtime `rt` (`runtime` is the event's own reference).
fn acts_on(facts: &Facts, f: FnId, i: usize, runtime: &RuntimeRef, rt: Rt) -> bool {
    match (rt, runtime) {
        (Rt::Var(v), RuntimeRef::Var(r)) => *r == v,
        (Rt::Obj(o), RuntimeRef::Unknown) => sole_runtime(facts, f, i) == Some(o),
        _ => false,
    }
}

/// Tasks spawned on a runtime the body owns (built there, or handed back by a helper; or kept
/// in a field of a value the body builds, found by the flow) and dropped or shut down there
/// without anything waiting for them.
fn local_runtimes(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for (fid, f) in program.fns() {
        if f.is_test || f.diverges || waits_for_everything(program, fid) {
            continue;
        }
        for (i, (sf, si)) in spawns_in_place(program, fid) {
            let ev = &program.func(sf).events[si];
            let EventKind::Run {
                how: RunKind::Spawn,
                runtime,
                handle,
                body,
                ..
            } = &ev.kind
            else {
                continue;
            };
            let (rt, built_here) = match runtime {
                RuntimeRef::Var(v) => (
                    Rt::Var(*v),
                    owned_here(program, facts, fid, &f.events[..i], *v),
                ),
                // A runtime made in this very body and kept in a field of a value it owns.
                RuntimeRef::Unknown if f.language == Language::Rust && sf == fid => {
                    let Some(o) = sole_runtime(facts, fid, i) else {
                        continue;
                    };
                    let obj = facts.flow.object(o);
                    (Rt::Obj(o), obj.func == fid && (obj.event as usize) < i)
                }
                _ => continue,
            };
            // A spawn on a runtime that is already closed fails at once instead
            // (`use-after-runtime-close`).
            let closed_before = f.events[..i].iter().enumerate().any(|(j, e)| {
                matches!(&e.kind, EventKind::RuntimeClose { runtime, .. } if acts_on(facts, fid, j, runtime, rt))
            });
            if !built_here
                || !facts.reached(program, sf, ev)
                || closed_before
                || !detached(program, *handle)
                || !finite_visible_work(program, *body)
            {
                continue;
            }
            // A handle kept in a binding (a local of its own, or a collection) that nothing
            // reads again is waited by nobody: a `block_on` of other work lets the task run
            // only as long as that work does, and the runtime's end then cancels it.
            let kept_unread =
                f.language == Language::Rust && matches!(handle, HandleFate::Bound(_));
            // The first end of the runtime that exists in a build where the spawn does.
            let spawn_when = f.events[i].when;
            let end = f.events[i + 1..]
                .iter()
                .enumerate()
                .filter(|(_, e)| Facts::together(program, spawn_when, e.when))
                .find_map(|(j, e)| match &e.kind {
                    EventKind::Run {
                        how: RunKind::BlockOn,
                        runtime,
                        ..
                    } if !kept_unread && acts_on(facts, fid, i + 1 + j, runtime, rt) => {
                        Some(None)
                    }
                    EventKind::RuntimeClose { runtime, .. }
                        if acts_on(facts, fid, i + 1 + j, runtime, rt) =>
                    {
                        Some(Some(e.span))
                    }
                    EventKind::ScopeEnd { vars } if matches!(rt, Rt::Var(v) if vars.contains(&v)) => {
                        Some(Some(e.span))
                    }
                    _ => None,
                });
            if let Some(Some(end)) = end {
                out.push(report(program, facts, (sf, si), fid, Some(end)));
            }
        }
    }
}

/// The spawns that run as part of body `fid`, each with the index of the event of `fid` where
/// it happens: its own, at their place, and those of the closures it calls in place
/// (`(1..n).for_each(|i| tasks.push(rt.spawn(..)))`, two levels deep), at the event that runs
/// the closure.
fn spawns_in_place(program: &Program, fid: FnId) -> Vec<(usize, At)> {
    let mut out = Vec::new();
    for (i, ev) in program.func(fid).events.iter().enumerate() {
        match &ev.kind {
            EventKind::Run {
                how: RunKind::Spawn,
                ..
            } => out.push((i, (fid, i))),
            EventKind::Run {
                how: RunKind::Inline,
                body,
                ..
            } if program.func(fid).language == Language::Rust => {
                let mut bodies = vec![(*body, 0u8)];
                while let Some((b, depth)) = bodies.pop() {
                    if program.func(b).kind != FnKind::Closure {
                        continue;
                    }
                    for (j, e) in program.func(b).events.iter().enumerate() {
                        match &e.kind {
                            EventKind::Run {
                                how: RunKind::Spawn,
                                ..
                            } => out.push((i, (b, j))),
                            EventKind::Run {
                                how: RunKind::Inline,
                                body: inner,
                                ..
                            } if depth < 1 => bodies.push((*inner, depth + 1)),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The detached Rust tasks a call of `f` leaves on runtime objects, through the calls it makes
/// in order (depth-limited): a spawn through a receiver the flow finds one runtime behind (a
/// handle or a runtime kept in a field, `self.handle.spawn(..)`), whose join handle nothing
/// keeps, with work that ends on its own. A `block_on` of that runtime later in the same body
/// drives its tasks and clears them.
fn detached_spawns(
    program: &Program,
    facts: &Facts,
    f: FnId,
    depth: u32,
    memo: &mut HashMap<FnId, Vec<(At, crate::analysis::flow::ObjId)>>,
) -> Vec<(At, crate::analysis::flow::ObjId)> {
    if let Some(s) = memo.get(&f) {
        return s.clone();
    }
    memo.insert(f, Vec::new());
    let func = program.func(f);
    let mut out: Vec<(At, crate::analysis::flow::ObjId)> = Vec::new();
    if func.language != Language::Rust || func.diverges || waits_for_everything(program, f) {
        return out;
    }
    for (i, ev) in func.events.iter().enumerate() {
        match &ev.kind {
            EventKind::Run {
                how: RunKind::Spawn,
                runtime: RuntimeRef::Unknown | RuntimeRef::Var(_),
                handle,
                body,
                ..
            } => {
                let rts = one_runtime_any_role(facts, f, i);
                if let Some(o) = rts
                    && detached(program, *handle)
                    && finite_visible_work(program, *body)
                {
                    out.push(((f, i), o));
                }
            }
            EventKind::Run {
                how: RunKind::BlockOn,
                ..
            } => {
                if let Some(o) = one_runtime_any_role(facts, f, i) {
                    out.retain(|&(_, x)| x != o);
                }
            }
            EventKind::Call { callees, .. } if depth < 4 => {
                for &c in callees.iter() {
                    if c != f {
                        out.extend(detached_spawns(program, facts, c, depth + 1, memo));
                    }
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|&((g, i), o)| (g, i, o.0));
    out.dedup();
    memo.insert(f, out.clone());
    out
}

/// The one runtime object behind the receiver of event `i` of `f`, owned or through a handle.
fn one_runtime_any_role(facts: &Facts, f: FnId, i: usize) -> Option<crate::analysis::flow::ObjId> {
    let mut found = None;
    for (o, _) in facts.flow.subject(f, i) {
        if facts.flow.object(o).kind != ObjKind::Runtime {
            continue;
        }
        match found {
            None => found = Some(o),
            Some(x) if x == o => {}
            Some(_) => return None,
        }
    }
    found
}

/// Tasks spawned by a function that the owner of a runtime calls, through a handle or a
/// runtime kept in a field (`self.handle.spawn(..)`), detached, while the owner drops or shuts
/// down that runtime afterwards (its local's scope ends, `drop`, a shutdown) without driving it.
fn callee_spawns(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    let mut memo = HashMap::new();
    for (fid, f) in program.fns() {
        if f.language != Language::Rust
            || f.is_test
            || f.diverges
            || waits_for_everything(program, fid)
        {
            continue;
        }
        // Runtime objects this body makes.
        let made: Vec<crate::analysis::flow::ObjId> = facts
            .flow
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind == ObjKind::Runtime && o.func == fid)
            .map(|(k, _)| crate::analysis::flow::ObjId(k as u32))
            .collect();
        if made.is_empty() {
            continue;
        }
        let mut pending: Vec<(At, crate::analysis::flow::ObjId, crate::model::CondId)> = Vec::new();
        // An object this function owns and no one else holds: its end here ends it.
        let owned_here = |o: crate::analysis::flow::ObjId, role: Role| {
            role == Role::Own
                && facts
                    .flow
                    .holders(program, o)
                    .is_some_and(|h| h.as_slice() == [fid])
        };
        // Runtime objects this body has already ended: a later spawn on one fails at once
        // instead (`use-after-runtime-close`).
        let mut gone: Vec<crate::analysis::flow::ObjId> = Vec::new();
        for (i, ev) in f.events.iter().enumerate() {
            match &ev.kind {
                // A spawn in this very body through a handle to a runtime it made
                // (`let h = rt.handle().clone(); .. h.spawn(..)`).
                EventKind::Run {
                    how: RunKind::Spawn,
                    handle,
                    body,
                    ..
                } => {
                    if let Some(o) = one_runtime_any_role(facts, fid, i)
                        && made.contains(&o)
                        && !gone.contains(&o)
                        && facts.reached(program, fid, ev)
                        && detached(program, *handle)
                        && finite_visible_work(program, *body)
                    {
                        pending.push(((fid, i), o, ev.when));
                    }
                }
                EventKind::Call { callees, .. } => {
                    if !facts.reached(program, fid, ev) {
                        continue;
                    }
                    for &c in callees.iter() {
                        if c == fid {
                            continue;
                        }
                        for (at, o) in detached_spawns(program, facts, c, 1, &mut memo) {
                            if made.contains(&o) && !gone.contains(&o) && at.0 != fid {
                                pending.push((at, o, ev.when));
                            }
                        }
                    }
                }
                EventKind::Run {
                    how: RunKind::BlockOn,
                    ..
                } => {
                    if let Some(o) = one_runtime_any_role(facts, fid, i) {
                        pending.retain(|&(_, x, _)| x != o);
                    }
                }
                EventKind::Wait { .. } => pending.clear(),
                EventKind::RuntimeClose { .. } | EventKind::ScopeEnd { .. } => {
                    let ended: Vec<crate::analysis::flow::ObjId> = match &ev.kind {
                        EventKind::RuntimeClose {
                            runtime: RuntimeRef::Var(v),
                            ..
                        } => facts
                            .flow
                            .values(Place::Var(*v))
                            .into_iter()
                            .filter(|&(o, role)| {
                                facts.flow.object(o).kind == ObjKind::Runtime && owned_here(o, role)
                            })
                            .map(|(o, _)| o)
                            .collect(),
                        EventKind::RuntimeClose { .. } => {
                            one_runtime_any_role(facts, fid, i).into_iter().collect()
                        }
                        EventKind::ScopeEnd { vars } => vars
                            .iter()
                            .flat_map(|v| facts.flow.values(Place::Var(*v)))
                            .filter(|&(o, role)| owned_here(o, role))
                            .map(|(o, _)| o)
                            .collect(),
                        _ => Vec::new(),
                    };
                    gone.extend(ended.iter().copied());
                    let mut k = 0;
                    while k < pending.len() {
                        let (at, o, when) = pending[k];
                        if ended.contains(&o) && Facts::together(program, when, ev.when) {
                            pending.remove(k);
                            if !out.iter().any(|x| {
                                x.rule == "runtime-dropped-with-live-tasks"
                                    && x.primary == program.func(at.0).events[at.1].span
                            }) {
                                out.push(report(program, facts, at, fid, Some(ev.span)));
                            }
                        } else {
                            k += 1;
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Python tasks kept only in the locals of the body that creates them (a list it appends them
/// to) and never read back from there: nothing awaits, gathers, cancels, returns, stores or
/// hands them on, so they are as detached as a task thrown away.
struct Collected {
    /// The places that may own each task.
    places: rustc_hash::FxHashMap<crate::analysis::flow::ObjId, Vec<Place>>,
    /// Places whose value is read: used, handed to library code, closed, acted on, passed to
    /// a call.
    read: std::collections::HashSet<Place>,
    /// Temporaries thrown away unread (the result of a call statement, `let _ = f()`).
    dropped: std::collections::HashSet<Place>,
    /// Places whose value moves on to another place.
    onward: std::collections::HashSet<Place>,
}

impl Collected {
    fn new(program: &Program, facts: &Facts) -> Self {
        let places = facts.flow.owning_places(ObjKind::Task);
        let mut read = std::collections::HashSet::new();
        let mut dropped = std::collections::HashSet::new();
        let mut onward = std::collections::HashSet::new();
        if !places.is_empty() {
            for fact in &program.flow.facts {
                match &fact.kind {
                    crate::model::FactKind::Drop {
                        place: place @ Place::Temp(_),
                    } if program.func(fact.func).language == Language::Rust => {
                        dropped.insert(*place);
                    }
                    crate::model::FactKind::Assign { from, .. } => {
                        onward.insert(*from);
                    }
                    crate::model::FactKind::Use { place, .. }
                    | crate::model::FactKind::Escape { place }
                    | crate::model::FactKind::Close { place }
                    | crate::model::FactKind::Subject { place, .. }
                    | crate::model::FactKind::Drop { place }
                    | crate::model::FactKind::Reset { place } => {
                        read.insert(*place);
                    }
                    crate::model::FactKind::Call { args, .. } => {
                        read.extend(args.iter().flatten().copied());
                    }
                    _ => {}
                }
            }
        }
        Collected {
            places,
            read,
            dropped,
            onward,
        }
    }

    /// Whether the Python task made by event `i` of `f` is kept only in `f`'s locals, which
    /// nothing reads.
    fn lost(&self, program: &Program, facts: &Facts, f: FnId, i: usize) -> bool {
        if program.func(f).language == Language::Rust {
            return self.returned_unread(program, facts, f, i);
        }
        let mut any = false;
        for o in facts.flow.made_at(f, i) {
            // Kept somewhere besides the call's own value: put into a local container.
            let Some(places) = self.places.get(&o).filter(|p| p.len() >= 2) else {
                return false;
            };
            for p in places {
                let Place::Temp(t) = *p else { return false };
                if program.flow.temp_owner.get(t as usize) != Some(&f) || self.read.contains(p) {
                    return false;
                }
            }
            any = true;
        }
        any
    }
}

impl Collected {
    /// Whether the Rust task made by event `i` of `f` is handed back to a caller that throws
    /// its join handle away (a call statement, `let _ = ..`, a binding never read), in some
    /// calling context: places it passes through only on its way are no keepers.
    fn returned_unread(&self, program: &Program, facts: &Facts, f: FnId, i: usize) -> bool {
        facts.flow.made_at(f, i).any(|o| {
            let Some(places) = self.places.get(&o) else {
                return false;
            };
            let mut thrown = false;
            for p in places {
                match *p {
                    Place::Ret(_) => {}
                    Place::Temp(_) if self.dropped.contains(p) => thrown = true,
                    Place::Var(v) if !program.var(v).consumed && !self.read.contains(p) => {
                        thrown = true
                    }
                    Place::Temp(_) | Place::Var(_)
                        if self.onward.contains(p) && !self.read.contains(p) => {}
                    _ => return false,
                }
            }
            thrown
        })
    }
}

fn detached(program: &Program, handle: HandleFate) -> bool {
    match handle {
        HandleFate::Discarded => true,
        HandleFate::Bound(v) => !program.var(v).consumed,
        HandleFate::Kept => false,
    }
}

/// The finding for the work spawned at event `spawn`, left running when the runtime that
/// `root`'s return ends (or the one closed at `end`) goes away. A callback the loop was to
/// call (`loop.call_soon`) is named as one: it has no task to cancel, it is dropped.
fn report(
    program: &Program,
    facts: &Facts,
    spawn: At,
    root: FnId,
    end: Option<crate::model::Span>,
) -> Finding {
    let span = program.func(spawn.0).events[spawn.1].span;
    let callback = facts.callbacks.contains(&spawn);
    let r = program.func(root);
    let (msg, note, help) = match (r.language, callback) {
        (Language::Rust, _) => (
            match end {
                Some(_) => "task spawned here may still be running when its runtime is shut down"
                    .to_string(),
                None => format!(
                    "task spawned here may still be running when the runtime shuts down at the end of `{}`",
                    r.name
                ),
            },
            "tasks still running when the runtime is dropped are cancelled at their next `.await`; their work is silently lost",
            "keep the `JoinHandle` and `.await` it before returning (or use a `JoinSet`)",
        ),
        (Language::Python, false) => (
            match end {
                Some(_) => "task created here may still be pending when its event loop is closed"
                    .to_string(),
                None => format!(
                    "task created here may still be pending when the loop running `{}` ends",
                    r.name
                ),
            },
            "asyncio cancels it: \"Task was destroyed but it is pending!\"",
            "keep the task and `await` it (or use `asyncio.TaskGroup`) before the coroutine returns",
        ),
        (Language::Python, true) => (
            match end {
                Some(_) => "callback scheduled here may not have run when its event loop is closed"
                    .to_string(),
                None => format!(
                    "callback scheduled here may not have run when the loop running `{}` ends",
                    r.name
                ),
            },
            "closing the loop clears its queue of ready and timed callbacks: the callback never runs, and nothing says so",
            "run the loop until the callback has run (`run_until_complete` on a future it completes, or `run_forever` stopped from the callback) before closing it, or call the function directly",
        ),
    };
    let primary = match (r.language, end, callback) {
        (Language::Python, Some(_), true) => "nothing runs the loop before it is closed",
        (Language::Python, Some(_), false) => {
            "nothing runs the loop or waits for this task before the loop is closed"
        }
        (_, _, true) => "nothing waits for this callback",
        _ => "the handle is dropped; nothing waits for this task",
    };
    let finding = Finding::new(
        "runtime-dropped-with-live-tasks",
        Severity::Error,
        span,
        msg,
    )
    .primary_label(primary);
    let finding = match end {
        Some(end) if callback => {
            finding.label(end, "the loop is closed here, dropping the callback")
        }
        Some(end) => finding.label(end, "the runtime is shut down here, cancelling the task"),
        None => finding.label(
            r.span,
            format!("the runtime ends when `{}` returns", r.name),
        ),
    };
    finding.note(note).help(help)
}

/// The root whose return ends the runtime `f`'s spawns run on: `f` itself, or the only kind of
/// caller a helper has.
fn owning_root(program: &Program, facts: &Facts, roots: &[(FnId, FnId)], f: FnId) -> Option<FnId> {
    owning_root_in(program, facts, roots, f, 8)
}

/// [`owning_root`], through at most `depth` levels of helpers.
fn owning_root_in(
    program: &Program,
    facts: &Facts,
    roots: &[(FnId, FnId)],
    f: FnId,
    depth: u8,
) -> Option<FnId> {
    if let Ok(i) = roots.binary_search_by_key(&f, |r| r.0) {
        return Some(roots[i].1);
    }
    if depth == 0 {
        return None;
    }
    let func = program.func(f);
    // An async block or closure its parent runs in place (an arm of `select!` or `join!`, a
    // closure called inline) ends within the parent's run.
    if matches!(func.kind, FnKind::Future | FnKind::Closure)
        && let Some(parent) = func.parent
        && runs_in_place(program, parent, f)
    {
        return owning_root_in(program, facts, roots, parent, depth - 1);
    }
    // Public API of a Rust library has callers from outside too, but a helper whose every
    // known call comes from one root still runs to completion inside it.
    if !super::explain::called_like_fn(program, facts, f) || func.is_test || func.entry.is_some() {
        return None;
    }
    let sites = &facts.callers[f.0 as usize];
    let first = sites.first()?.caller;
    let one_caller = sites
        .iter()
        .all(|s| s.nested.is_none() && s.caller == first);
    if !one_caller || (func.callers_unknown && func.language == Language::Python) {
        return None;
    }
    // Python helpers count one level below a root; a caller that only forwards to the
    // helper (`return await helper(..)`) adds no level.
    let forwards = |g: FnId| {
        let events = &program.func(g).events;
        events.len() == 1
            && matches!(&events[0].kind, EventKind::Call { callees, .. } if callees.as_slice() == [f])
    };
    let depth = if func.language != Language::Python || forwards(first) {
        depth - 1
    } else {
        0
    };
    owning_root_in(program, facts, roots, first, depth)
}

/// Whether `parent` runs `body` in place: a future it polls itself or a closure it calls.
fn runs_in_place(program: &Program, parent: FnId, body: FnId) -> bool {
    program.func(parent).events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::Run { how: RunKind::Future | RunKind::Inline, body: b, .. } if b == body
        )
    })
}

/// Bodies whose return ends their runtime: non-test runtime entries, bodies driven by a
/// block-on, and async functions such a body calls (`asyncio.run(main())`); each with the body
/// whose return ends the runtime. A task spawned by such a body and awaited there before it
/// returns (`let t = tokio::spawn(..); t.await`) ends within it: the runtime ends when that
/// body returns, so the task's body counts as one of its roots.
fn roots(program: &Program, facts: &Facts) -> Vec<(FnId, FnId)> {
    let mut out: Vec<(FnId, FnId)> = Vec::new();
    for (fid, f) in program.fns() {
        if f.is_test {
            continue;
        }
        let blocked_on = facts.callers[fid.0 as usize]
            .iter()
            .any(|s| s.nested == Some(RunKind::BlockOn) && !program.func(s.caller).is_test);
        if matches!(f.entry, Some(Entry::Runtime { test: false, .. })) || blocked_on {
            out.push((fid, fid));
            if f.kind == FnKind::Future {
                for ev in &f.events {
                    if let EventKind::Call { callees, .. } = &ev.kind {
                        out.extend(
                            callees
                                .iter()
                                .copied()
                                .filter(|c| program.func(*c).is_async)
                                .map(|c| (c, c)),
                        );
                    }
                }
            }
        }
    }
    let mut next = 0;
    while next < out.len() {
        let (r, end) = out[next];
        next += 1;
        if program.func(r).language != Language::Rust {
            continue;
        }
        for ev in &program.func(r).events {
            if let EventKind::Run {
                how: RunKind::Spawn,
                runtime: RuntimeRef::Current,
                handle: HandleFate::Bound(v),
                body,
                ..
            } = &ev.kind
                && program.var(*v).consumed
                && program.var(*v).owner == r
                && !out.iter().any(|x| x.0 == *body)
            {
                out.push((*body, end));
            }
        }
    }
    out.sort();
    out.dedup_by_key(|r| r.0);
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
    // The task's code as far as the program shows it: the body and two levels of callees.
    let mut seen = vec![body];
    let mut frontier = vec![body];
    for _ in 0..2 {
        let mut next = Vec::new();
        for f in frontier {
            for ev in &program.func(f).events {
                if let EventKind::Call { callees, .. } = &ev.kind {
                    for c in callees {
                        if !seen.contains(c) {
                            seen.push(*c);
                            next.push(*c);
                        }
                    }
                }
            }
        }
        frontier = next;
    }
    if b.kind != FnKind::Named && seen.len() == 1 {
        return false;
    }
    let events = || seen.iter().flat_map(|f| program.func(*f).events.iter());
    // A consumer of a channel the root feeds loses the work still queued; anything else must
    // be one-shot work: a loop or an event loop is a background service, meant to be
    // cancelled when the program ends.
    if events().any(|e| {
        matches!(
            e.kind,
            EventKind::Wait {
                kind: WaitKind::Drain,
                ..
            }
        )
    }) {
        return true;
    }
    !seen.iter().any(|f| program.func(*f).diverges)
        && !events().any(|e| matches!(e.kind, EventKind::Wait { .. }))
}
