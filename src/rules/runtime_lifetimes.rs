//! Runtime lifetimes across calls, from the value flow: which runtime objects a call of each
//! function makes, ends and uses (directly or through the calls it makes in place), so that a
//! body that ends a runtime and later reaches a use of a handle to it (kept in a static, a
//! field, passed along or returned by a getter) is seen, in whichever functions the end and the
//! use happen.

use std::collections::HashMap;

use crate::analysis::Facts;
use crate::analysis::flow::{ObjId, ObjKind, Role};
use crate::model::{
    CondId, EventKind, FactKind, FnId, Language, Place, Program, RunKind, RuntimeRef, Span,
};

/// What a call of a function does to runtime objects, its callees included.
#[derive(Default, Clone)]
struct Summary {
    /// Objects made during the call.
    made: Vec<ObjId>,
    /// Objects that end during the call, with the span where they end.
    ended: Vec<(ObjId, Span)>,
    /// Objects used during the call, with the span of the use.
    used: Vec<(ObjId, Span)>,
}

/// What an event does: the runtime objects it ends, and those it uses.
#[derive(Default)]
struct Direct {
    ends: Vec<(usize, ObjId)>,
    uses: Vec<(usize, ObjId)>,
}

/// A use of a runtime object after the body that reaches it ended that object.
pub struct LateUse {
    /// The function whose body orders the end before the use.
    pub func: FnId,
    /// The event that uses the object (directly, or a call that reaches a use).
    pub event: usize,
    /// Where the object ends.
    pub ended: Span,
    /// Where the use happens, when it is inside a callee.
    pub inner: Option<Span>,
}

fn is_runtime(facts: &Facts, o: ObjId) -> bool {
    facts.flow.object(o).kind == ObjKind::Runtime
}

/// The distinct runtime objects among `vals`.
fn one_runtime(facts: &Facts, vals: &[(ObjId, Role)]) -> Vec<ObjId> {
    let mut out: Vec<ObjId> = Vec::new();
    for &(o, _) in vals {
        if is_runtime(facts, o) && !out.contains(&o) {
            out.push(o);
        }
    }
    out
}

/// The runtime objects each event of each function ends or uses by itself.
fn direct(program: &Program, facts: &Facts) -> Vec<Direct> {
    let flow = &facts.flow;
    let mut out: Vec<Direct> = (0..program.functions.len())
        .map(|_| Direct::default())
        .collect();
    for (fid, f) in program.fns() {
        let d = &mut out[fid.0 as usize];
        for (i, ev) in f.events.iter().enumerate() {
            match &ev.kind {
                EventKind::RuntimeClose { runtime, api } => {
                    let mut vals = flow.subject(fid, i);
                    if let RuntimeRef::Var(v) = runtime {
                        vals.extend(flow.values(Place::Var(*v)));
                    }
                    // An asyncio loop is closed by `close()` whoever owns it, when the
                    // receiver surely is that one loop.
                    // A Rust shutdown takes the runtime by value: it ends the one runtime its
                    // receiver holds, wherever that was kept (a field moved out of). Only a
                    // drop may let go of one of several shared owners; the lowering tells a
                    // drop of a value typed as an owned runtime, read from where it was kept,
                    // by its unknown reference, and that one consumes the runtime too.
                    let consumes = f.language == Language::Python
                        || api != "std::mem::drop"
                        || *runtime == RuntimeRef::Unknown;
                    if consumes && let [o] = one_runtime(facts, &vals)[..] {
                        d.ends.push((i, o));
                        continue;
                    }
                    for (o, role) in vals {
                        // Owned here, and not kept anywhere that outlives the body.
                        if role == Role::Own && is_runtime(facts, o) && !flow.outlives(o, fid) {
                            d.ends.push((i, o));
                        }
                    }
                }
                EventKind::ScopeEnd { vars } => {
                    for v in vars {
                        for (o, role) in flow.values(Place::Var(*v)) {
                            if role == Role::Own
                                && is_runtime(facts, o)
                                && flow
                                    .holders(program, o)
                                    .is_some_and(|h| h.len() == 1 && h[0] == fid)
                            {
                                d.ends.push((i, o));
                            }
                        }
                    }
                }
                // Entering (or installing) a runtime that has ended fails nothing by itself:
                // what then needs its drivers does.
                EventKind::Run {
                    how: RunKind::BlockOn | RunKind::Spawn,
                    ..
                }
                | EventKind::HandleOf { .. } => {
                    let vals = flow.subject(fid, i);
                    // A receiver that may be one of several loops is not surely a closed one.
                    if f.language == Language::Python {
                        if let [o] = one_runtime(facts, &vals)[..] {
                            d.uses.push((i, o));
                        }
                        continue;
                    }
                    for (o, _) in vals {
                        if is_runtime(facts, o) {
                            d.uses.push((i, o));
                        }
                    }
                }
                // A loop driven with no body the model sees (`loop.run_forever()`) is used as
                // surely as one handed a coroutine.
                EventKind::BlockingEntry { .. } if f.language == Language::Python => {
                    if let [o] = one_runtime(facts, &flow.subject(fid, i))[..] {
                        d.uses.push((i, o));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The functions a body runs in place, by event.
fn in_place(kind: &EventKind) -> &[FnId] {
    match kind {
        EventKind::Call { callees, .. } => callees,
        EventKind::Run {
            body,
            how: RunKind::BlockOn | RunKind::Inline | RunKind::Future,
            ..
        } => std::slice::from_ref(body),
        _ => &[],
    }
}

/// Summaries of every function, to a fixed point over the calls.
fn summaries(
    program: &Program,
    facts: &Facts,
    direct: &[Direct],
) -> (Vec<Summary>, Vec<(FnId, Span, ObjId)>) {
    let n = program.functions.len();
    let mut sums: Vec<Summary> = vec![Summary::default(); n];
    for (i, o) in facts.flow.objects.iter().enumerate() {
        if o.kind == ObjKind::Runtime {
            let s = &mut sums[o.func.0 as usize];
            if !s.made.contains(&ObjId(i as u32)) {
                s.made.push(ObjId(i as u32));
            }
        }
    }
    for (fid, f) in program.fns() {
        let s = &mut sums[fid.0 as usize];
        for &(i, o) in &direct[fid.0 as usize].ends {
            s.ended.push((o, f.events[i].span));
        }
        for &(i, o) in &direct[fid.0 as usize].uses {
            s.used.push((o, f.events[i].span));
        }
    }
    // Fields released where a value of their owning type dies, when this body (or what it
    // calls) made the one runtime the field may hold.
    let mut releases: Vec<(FnId, Span, Vec<ObjId>)> = Vec::new();
    for fact in &program.flow.facts {
        if let FactKind::Release { cell, .. } = fact.kind {
            let held: Vec<ObjId> = facts
                .flow
                .values(Place::Cell(cell))
                .into_iter()
                .filter(|&(o, role)| role == Role::Own && is_runtime(facts, o))
                .map(|(o, _)| o)
                .collect();
            if held.len() == 1 {
                releases.push((fact.func, fact.span, held));
            }
        }
    }
    let mut own: Vec<(FnId, Span, ObjId)> = Vec::new();
    let mut changed = true;
    let mut rounds = 0;
    while changed && rounds < 64 {
        changed = false;
        rounds += 1;
        for (fid, f) in program.fns() {
            let mut add = Summary::default();
            for (i, ev) in f.events.iter().enumerate() {
                for &c in in_place(&ev.kind) {
                    if c == fid {
                        continue;
                    }
                    let cs = &sums[c.0 as usize];
                    add.made.extend(cs.made.iter().copied());
                    add.used.extend(cs.used.iter().copied());
                    for &(o, span) in &cs.ended {
                        // An object the callee makes for another call site of this body is
                        // not this one.
                        let other_site = cs.made.contains(&o)
                            && facts
                                .flow
                                .object(o)
                                .ctx
                                .is_some_and(|(cf, ce)| cf == fid && ce as usize != i);
                        if !other_site {
                            add.ended.push((o, span));
                        }
                    }
                }
            }
            let s = &mut sums[fid.0 as usize];
            for o in add.made {
                if !s.made.contains(&o) {
                    s.made.push(o);
                    changed = true;
                }
            }
            for (o, span) in add.used {
                if !s.used.iter().any(|(x, _)| *x == o) {
                    s.used.push((o, span));
                    changed = true;
                }
            }
            for (o, span) in add.ended {
                if !s.ended.iter().any(|(x, _)| *x == o) {
                    s.ended.push((o, span));
                    changed = true;
                }
            }
        }
        for (f, span, held) in &releases {
            let s = &mut sums[f.0 as usize];
            for &o in held {
                if s.made.contains(&o) && !s.ended.iter().any(|(x, _)| *x == o) {
                    s.ended.push((o, *span));
                    own.push((*f, *span, o));
                    changed = true;
                }
            }
        }
    }
    (sums, own)
}

/// What each event and each call does to runtime objects, and where bodies release a field
/// holding a runtime they made: (per event, per function, releases).
type Lifetimes = (Vec<Direct>, Vec<Summary>, Vec<(FnId, Span, ObjId)>);

/// The [`Lifetimes`] of a program; `None` when it makes no runtime.
fn lifetimes(program: &Program, facts: &Facts) -> Option<Lifetimes> {
    if !facts
        .flow
        .objects
        .iter()
        .any(|o| o.kind == ObjKind::Runtime)
    {
        return None;
    }
    let direct = direct(program, facts);
    let (sums, own) = summaries(program, facts, &direct);
    Some((direct, sums, own))
}

/// Uses of runtime objects that the same body ended earlier, by itself or through a call: the
/// use is the event itself or a call that reaches it (and does not make the object afresh).
pub fn late_uses(program: &Program, facts: &Facts) -> Vec<LateUse> {
    let Some((direct, sums, own)) = lifetimes(program, facts) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Fields a body releases itself, at the end of a scope of its own.
    let mut released: HashMap<FnId, Vec<(Span, ObjId)>> = HashMap::new();
    for &(f, span, o) in &own {
        released.entry(f).or_default().push((span, o));
    }
    for (fid, f) in program.fns() {
        let d = &direct[fid.0 as usize];
        // Objects ended so far, where, and the build condition of the ending code: a use
        // under a condition that excludes it is not after it.
        let mut dead: Vec<(ObjId, Span, CondId)> = Vec::new();
        let own_releases = released.get(&fid).map(Vec::as_slice).unwrap_or(&[]);
        for (i, ev) in f.events.iter().enumerate() {
            for &(span, o) in own_releases {
                if span.file == ev.span.file
                    && span.end <= ev.span.start
                    && !dead.iter().any(|(x, _, _)| *x == o)
                {
                    dead.push((o, span, CondId::TRUE));
                }
            }
            // Uses first: an event that ends what it uses is not a late use.
            if !dead.is_empty() {
                let live = |x: &(ObjId, Span, CondId), o: ObjId| {
                    x.0 == o && Facts::together(program, x.2, ev.when)
                };
                let mut hit = None;
                for &(_, o) in d.uses.iter().filter(|(e, _)| *e == i) {
                    if let Some(&(_, end, _)) = dead.iter().find(|x| live(x, o)) {
                        hit = Some((end, None));
                    }
                }
                if hit.is_none() {
                    for &c in in_place(&ev.kind) {
                        let cs = &sums[c.0 as usize];
                        for &(o, at) in &cs.used {
                            if cs.made.contains(&o) {
                                continue;
                            }
                            if let Some(&(_, end, _)) = dead.iter().find(|x| live(x, o)) {
                                hit = Some((end, Some(at)));
                            }
                        }
                    }
                }
                if let Some((ended, inner)) = hit {
                    out.push(LateUse {
                        func: fid,
                        event: i,
                        ended,
                        inner,
                    });
                    continue;
                }
            }
            for &(e, o) in &d.ends {
                if e == i && !dead.iter().any(|(x, _, _)| *x == o) {
                    dead.push((o, ev.span, ev.when));
                }
            }
            for &c in in_place(&ev.kind) {
                let cs = &sums[c.0 as usize];
                for &(o, span) in &cs.ended {
                    let other_site = cs.made.contains(&o)
                        && facts
                            .flow
                            .object(o)
                            .ctx
                            .is_some_and(|(cf, ce)| cf == fid && ce as usize != i);
                    if !other_site && !dead.iter().any(|(x, _, _)| *x == o) {
                        dead.push((o, span, ev.when));
                    }
                }
            }
        }
    }
    out
}

/// A use of a runtime object on a thread that a body starts, when that body ends the runtime
/// before anything it does could wait for the thread.
pub struct ThreadUse {
    /// The body that starts the thread and ends the runtime.
    pub func: FnId,
    /// The event that starts the thread.
    pub start: usize,
    /// Where the thread uses the runtime (in its body or in what that calls).
    pub used: Span,
    /// Where the runtime ends.
    pub ended: Span,
}

/// Whether an event of the starting body may wait for a thread it started: a blocking call
/// (a join, a receive), a wait, a body it runs in place or blocks on (which may join or receive
/// where the model does not see it), or a call of the program's own code.
fn may_wait(kind: &EventKind) -> bool {
    match kind {
        EventKind::Blocking { .. }
        | EventKind::BlockingEntry { .. }
        | EventKind::Wait { .. }
        | EventKind::Call { .. } => true,
        EventKind::Run { how, .. } => !matches!(
            how,
            RunKind::Thread | RunKind::Spawn | RunKind::Future | RunKind::Handler
        ),
        _ => false,
    }
}

/// Runtimes a thread's body enters (`let _g = handle.enter()`) and then needs in that body
/// (`tokio::spawn`, a timer): the object and the span of the need.
fn entered_needs(program: &Program, facts: &Facts, body: FnId) -> Vec<(ObjId, Span)> {
    let mut entered: Vec<ObjId> = Vec::new();
    let mut out = Vec::new();
    for (i, ev) in program.func(body).events.iter().enumerate() {
        match &ev.kind {
            EventKind::RuntimeEnter { .. } => {
                for (o, _) in facts.flow.subject(body, i) {
                    if is_runtime(facts, o) && !entered.contains(&o) {
                        entered.push(o);
                    }
                }
            }
            EventKind::NeedsRuntime { .. } => {
                out.extend(entered.iter().map(|&o| (o, ev.span)));
            }
            _ => {}
        }
    }
    out
}

/// Runtimes used on a thread that the body starting it ends (a drop, a shutdown, the scope
/// end of the owning local) with nothing between the start and the end that may wait for the
/// thread: the thread may still run, and its use find the runtime gone. The thread is taken
/// to start at the same loop depth as the end (threads started in a loop are usually
/// collected and joined in ways the model does not follow), and an end of `fn main`'s scope
/// ends the process with its threads.
pub fn thread_uses(program: &Program, facts: &Facts) -> Vec<ThreadUse> {
    // Only Rust bodies are looked at: a program without one needs no lifetimes.
    if !program
        .functions
        .iter()
        .any(|f| f.language == Language::Rust)
    {
        return Vec::new();
    }
    let Some((direct, sums, own)) = lifetimes(program, facts) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (fid, f) in program.fns() {
        if f.language != Language::Rust {
            continue;
        }
        let main = matches!(f.entry, Some(crate::model::Entry::Main));
        // Where the body ends each runtime: the index of the ending event (or, for a field
        // released with the value owning it, of the first event after the release), the span,
        // the object, and whether the end is an event at that index.
        let mut ends: Vec<(usize, Span, ObjId, bool)> = Vec::new();
        for &(e, o) in &direct[fid.0 as usize].ends {
            let ev = &f.events[e];
            if !(main && matches!(ev.kind, EventKind::ScopeEnd { .. })) {
                ends.push((e, ev.span, o, true));
            }
        }
        if !main {
            for &(rf, span, o) in &own {
                if rf == fid {
                    let at = f
                        .events
                        .iter()
                        .position(|x| x.span.file == span.file && x.span.start >= span.end)
                        .unwrap_or(f.events.len());
                    ends.push((at, span, o, false));
                }
            }
        }
        if ends.is_empty() {
            continue;
        }
        for (i, ev) in f.events.iter().enumerate() {
            let EventKind::Run {
                body,
                how: RunKind::Thread,
                ..
            } = &ev.kind
            else {
                continue;
            };
            let ts = &sums[body.0 as usize];
            let mut used: Vec<(ObjId, Span)> = ts
                .used
                .iter()
                .filter(|(o, _)| !ts.made.contains(o))
                .copied()
                .collect();
            used.extend(entered_needs(program, facts, *body));
            if used.is_empty() {
                continue;
            }
            // The events that run before each later point with nothing that may wait.
            let quiet = |to: usize| {
                f.events[i + 1..to.min(f.events.len())]
                    .iter()
                    .all(|x| !may_wait(&x.kind) && x.loop_depth == ev.loop_depth)
            };
            let mut hits: Vec<(usize, Span, Span)> = Vec::new();
            for &(at, span, o, is_event) in &ends {
                if at <= i && (is_event || span.start < ev.span.end) {
                    continue;
                }
                // A release carries no loop depth: only a thread started outside loops.
                let depth = if is_event { f.events[at].loop_depth } else { 0 };
                if depth != ev.loop_depth {
                    continue;
                }
                let when = if is_event { f.events[at].when } else { ev.when };
                let Some(&(_, use_at)) = used.iter().find(|(u, _)| *u == o) else {
                    continue;
                };
                if Facts::together(program, ev.when, when) && quiet(at) {
                    hits.push((at, span, use_at));
                }
            }
            if let Some(&(_, ended, used)) = hits.iter().min_by_key(|h| (h.0, h.1.start)) {
                out.push(ThreadUse {
                    func: fid,
                    start: i,
                    used,
                    ended,
                });
            }
        }
    }
    out
}
