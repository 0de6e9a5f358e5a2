//! Propagation of execution contexts from entry points along calls and runtime APIs.

use std::collections::{HashMap, VecDeque};

use crate::model::{
    CondId, Entry, EventKind, FnId, Language, ParamRun, Program, Reach, RunKind, RuntimeRef,
};

use super::instances::{InstId, layered, server_instance};
use super::paths::{self, PathId};
use super::{Ctx, CtxEntry, Facts};

/// At most this many contexts are kept per function; more add nothing a rule needs.
const MAX_CONTEXTS: usize = 24;

/// At most this many path assumptions are kept per context of a function; past them, the
/// context is kept with no assumption.
const MAX_VARIANTS: usize = 4;

/// Fills [`Facts::contexts`].
pub fn propagate(program: &Program, facts: &mut Facts) {
    facts.contexts = vec![Vec::new(); program.functions.len()];
    let mut handed: Handed = HashMap::new();
    for r in &program.param_runs {
        handed.entry(r.run).or_default().push(*r);
    }
    let mut work = VecDeque::new();
    for (fid, f) in program.fns() {
        // Request handlers also run on the loop a test client makes for each request.
        if let (Some(Entry::ServerAsync { requests: true, .. }), Some(i)) =
            (&f.entry, facts.request_loop)
        {
            let path = root_path(program, facts, f);
            add(
                facts,
                &mut work,
                fid,
                CtxEntry {
                    ctx: Ctx::Runtime(i),
                    via: None,
                    asserted: false,
                    may: false,
                    path,
                },
            );
        }
        let root = match &f.entry {
            Some(Entry::Runtime { .. }) => facts
                .event_instance
                .get(&(fid, usize::MAX))
                .map(|&i| Ctx::Runtime(i)),
            Some(Entry::ServerAsync { .. }) => {
                Some(Ctx::Runtime(server_instance(program, facts, fid)))
            }
            Some(Entry::Main) | Some(Entry::Repeated { .. }) => Some(Ctx::NoRuntime),
            // A method a library calls from its runtime's tasks runs there too.
            None if f.callers_unknown && (f.is_async || f.task_call) => {
                Some(Ctx::Runtime(InstId::UNKNOWN))
            }
            None if f.callers_unknown => Some(Ctx::Unknown),
            None => None,
        };
        if let Some(ctx) = root {
            let path = root_path(program, facts, f);
            add(
                facts,
                &mut work,
                fid,
                CtxEntry {
                    ctx,
                    via: None,
                    asserted: false,
                    may: false,
                    path,
                },
            );
        }
    }
    drain(program, facts, &handed, &mut work);
    // Request handlers run on the runtimes that serve their framework. Serving code reached
    // only through handlers (a server started by a handler) is rare: two rounds suffice.
    for _ in 0..2 {
        for (body, entry) in served(program, facts) {
            add(facts, &mut work, body, entry);
        }
        drain(program, facts, &handed, &mut work);
    }
    // Async bodies nothing known reaches still run on some executor when polled.
    for (fid, f) in program.fns() {
        if f.is_async && facts.contexts[fid.0 as usize].is_empty() {
            let path = root_path(program, facts, f);
            add(
                facts,
                &mut work,
                fid,
                CtxEntry {
                    ctx: Ctx::Runtime(InstId::UNKNOWN),
                    via: None,
                    asserted: false,
                    may: false,
                    path,
                },
            );
        }
    }
    drain(program, facts, &handed, &mut work);
    let mut contexts = std::mem::take(&mut facts.contexts);
    for list in &mut contexts {
        keep_agreed(facts, list);
        list.sort_by_key(|c| c.asserted);
    }
    facts.contexts = contexts;
}

/// Drops the contexts a function got only through uncertain calls ([`CtxEntry::may`]) unless
/// every known context of the function is alike (the same kind of thread, executor, flavor
/// and drivers): code that a trait object's call may reach, or a lazy static's initialiser,
/// runs there only if every way in agrees. Contexts of code called from outside (`Unknown`,
/// or async code on an unknown runtime) neither confirm nor contradict.
fn keep_agreed(facts: &Facts, list: &mut Vec<CtxEntry>) {
    if !list.iter().any(|c| c.may) {
        return;
    }
    // The same context both surely and through an uncertain call: the sure one stands.
    let sure: Vec<(Ctx, bool)> = list
        .iter()
        .filter(|c| !c.may)
        .map(|c| (c.ctx, c.asserted))
        .collect();
    list.retain(|c| !c.may || !sure.contains(&(c.ctx, c.asserted)));
    let key = |ctx: Ctx| {
        let inst = ctx.instance().map(|i| {
            let inst = facts.instance(i);
            (
                inst.executor,
                inst.flavor,
                inst.disabled,
                inst.layer.map(|l| l.driven),
                inst.ambient.is_some(),
                inst.group,
            )
        });
        (std::mem::discriminant(&ctx), inst)
    };
    let mut known = list
        .iter()
        .map(|c| c.ctx)
        .filter(|c| !matches!(c, Ctx::Unknown | Ctx::Runtime(InstId::UNKNOWN)))
        .map(key);
    let agreed = match known.next() {
        Some(first) => known.all(|k| k == first),
        None => true,
    };
    if !agreed {
        list.retain(|c| !c.may);
    }
}

/// The contexts request handlers run in, per the knowledge base: every runtime context of
/// the code that serves their framework (`axum::serve` awaited in `main`), or the worker
/// runtimes a server builds for itself (actix-web's `HttpServer`). A handler of a framework
/// that nothing serves gets none here, and one registered by code nothing reaches neither.
///
/// A server serves the handlers whose registering code shares a caller with it (`main` builds
/// the router with a helper and serves it): a handler registered by another program's `main`
/// in the same folder is not its.
fn served(program: &Program, facts: &Facts) -> Vec<(FnId, CtxEntry)> {
    let mut serving: Vec<(&str, CtxEntry, std::collections::HashSet<FnId>)> = Vec::new();
    for (&(fid, i), framework) in &facts.servers {
        let via = Some((fid, program.func(fid).events[i].span));
        let ctxs: Vec<(Ctx, bool)> = match facts.event_instance.get(&(fid, i)) {
            Some(&workers) => vec![(Ctx::Runtime(workers), false)],
            None => facts.contexts[fid.0 as usize]
                .iter()
                .filter(|c| matches!(c.ctx, Ctx::Runtime(_)))
                .map(|c| (c.ctx, c.asserted))
                .collect(),
        };
        let callers = ancestors(facts, fid);
        for (ctx, asserted) in ctxs {
            let entry = CtxEntry {
                ctx,
                via,
                asserted,
                may: false,
                path: PathId::NONE,
            };
            serving.push((framework.as_str(), entry, callers.clone()));
        }
    }
    serving.sort_by_key(|(fw, e, _)| (*fw, e.via.map(|(f, s)| (f, s.file, s.start)), e.asserted));
    let mut out = Vec::new();
    let mut handlers: Vec<_> = facts.handlers.iter().collect();
    handlers.sort_by_key(|(k, _)| **k);
    for (&(fid, i), framework) in handlers {
        if facts.contexts[fid.0 as usize].is_empty() {
            continue;
        }
        let EventKind::Run { body, .. } = &program.func(fid).events[i].kind else {
            continue;
        };
        let callers = ancestors(facts, fid);
        for (fw, entry, serve_callers) in &serving {
            if fw == framework && !callers.is_disjoint(serve_callers) {
                out.push((*body, *entry));
            }
        }
    }
    out
}

/// A function and the functions it is called or run from, transitively (at most a few
/// thousand).
fn ancestors(facts: &Facts, f: FnId) -> std::collections::HashSet<FnId> {
    let mut seen = std::collections::HashSet::from([f]);
    let mut work = vec![f];
    while let Some(g) = work.pop() {
        for site in &facts.callers[g.0 as usize] {
            if seen.len() < 4096 && seen.insert(site.caller) {
                work.push(site.caller);
            }
        }
    }
    seen
}

/// The assumption a root starts with: the build condition of its body.
fn root_path(program: &Program, facts: &mut Facts, f: &crate::model::Function) -> PathId {
    if f.when == CondId::TRUE {
        return PathId::NONE;
    }
    let start = crate::model::Event {
        span: f.span,
        loop_depth: 0,
        kind: EventKind::ScopeEnd { vars: Vec::new() },
        when: CondId::TRUE,
    };
    facts
        .paths
        .step(program, PathId::NONE, &start, f, Vec::new())
        .unwrap_or(PathId::NONE)
}

fn add(facts: &mut Facts, work: &mut VecDeque<(FnId, CtxEntry)>, f: FnId, mut entry: CtxEntry) {
    let list = &mut facts.contexts[f.0 as usize];
    // A context that surely holds covers the same one reached through an uncertain call.
    let same =
        |c: &&CtxEntry| c.ctx == entry.ctx && c.asserted == entry.asserted && (entry.may || !c.may);
    let variants = list.iter().filter(same).count();
    if variants == 0 && list.len() >= MAX_CONTEXTS {
        return;
    }
    // A context known with no assumption covers every assumption.
    if list
        .iter()
        .filter(same)
        .any(|c| c.path == entry.path || c.path == PathId::NONE)
    {
        return;
    }
    if variants >= MAX_VARIANTS {
        entry.path = PathId::NONE;
    }
    list.push(entry);
    work.push_back((f, entry));
}

/// Functions handed to a helper that calls them, by the event that hands them over.
type Handed = HashMap<(FnId, usize), Vec<ParamRun>>;

fn drain(
    program: &Program,
    facts: &mut Facts,
    handed: &Handed,
    work: &mut VecDeque<(FnId, CtxEntry)>,
) {
    while let Some((fid, entry)) = work.pop_front() {
        let mut cur = entry.ctx;
        for (i, ev) in program.func(fid).events.iter().enumerate() {
            if !facts.paths.allows(&program.conds, entry.path, ev.when) {
                continue;
            }
            let via = Some((fid, ev.span));
            let asserted = entry.asserted || facts.in_expect_region(ev.span);
            match &ev.kind {
                EventKind::Call { callees, .. } => {
                    let may = entry.may || program.reach(fid, i) != Reach::Sure;
                    for &c in callees {
                        let callee = program.func(c);
                        let outer = &facts.paths.get(entry.path).args;
                        let args = paths::bind(program, ev, callee, outer);
                        let Some(path) = facts.paths.step(program, entry.path, ev, callee, args)
                        else {
                            continue;
                        };
                        if matches!(
                            callee.entry,
                            Some(Entry::Runtime { .. }) | Some(Entry::Main)
                        ) {
                            continue;
                        }
                        if callee.is_async && !program.func(fid).is_async {
                            // Sync code calling an async function only builds a future; it runs
                            // where it is driven: a block-on later in the same body.
                            if let Some(ctx) = driver(program, facts, fid, i + 1, cur) {
                                let entry = CtxEntry {
                                    ctx,
                                    via,
                                    asserted,
                                    may,
                                    path,
                                };
                                add(facts, work, c, entry);
                            }
                            continue;
                        }
                        add(
                            facts,
                            work,
                            c,
                            CtxEntry {
                                ctx: cur,
                                via,
                                asserted,
                                may,
                                path,
                            },
                        );
                    }
                    // Functions handed to the helper run where it calls them.
                    for r in handed.get(&(fid, i)).map(Vec::as_slice).unwrap_or(&[]) {
                        let body = program.func(r.body);
                        if matches!(body.entry, Some(Entry::Runtime { .. }) | Some(Entry::Main)) {
                            continue;
                        }
                        let Some(path) =
                            facts.paths.step(program, entry.path, ev, body, Vec::new())
                        else {
                            continue;
                        };
                        if let Some(ctx) = handed_context(program, facts, r, cur) {
                            let entry = CtxEntry {
                                ctx,
                                via,
                                asserted,
                                may,
                                path,
                            };
                            add(facts, work, r.body, entry);
                        }
                    }
                }
                EventKind::Run {
                    body, how, runtime, ..
                } => {
                    let Some(path) =
                        facts
                            .paths
                            .step(program, entry.path, ev, program.func(*body), Vec::new())
                    else {
                        continue;
                    };
                    let runs = handed.get(&(fid, i)).map(Vec::as_slice).unwrap_or(&[]);
                    let ctxs: Vec<Ctx> = match runs {
                        [_, ..] if matches!(how, RunKind::Inline | RunKind::Future) => runs
                            .iter()
                            .filter(|r| r.body == *body)
                            .filter_map(|r| handed_context(program, facts, r, cur))
                            .collect(),
                        _ => run_context(program, facts, fid, i, *how, *runtime, cur)
                            .into_iter()
                            .collect(),
                    };
                    for ctx in ctxs {
                        let entry = CtxEntry {
                            ctx,
                            via,
                            asserted,
                            may: entry.may,
                            path,
                        };
                        add(facts, work, *body, entry);
                    }
                }
                EventKind::RuntimeEnter { runtime, .. } => {
                    cur = entered(facts, fid, i, *runtime, cur);
                }
                _ => {}
            }
        }
    }
}

/// The context a function handed to a helper runs in when the helper is entered in state
/// `cur`: the state the helper reaches where it calls it, through the bodies it runs on the
/// way (the future of a `run_until_complete`, a thread's target). `None` when the call is in
/// a body the helper does not run itself (a nested function it returns), or only builds a
/// coroutine that nothing there drives.
fn handed_context(program: &Program, facts: &mut Facts, r: &ParamRun, cur: Ctx) -> Option<Ctx> {
    // The bodies from the helper down to the one that calls the parameter.
    let mut chain = vec![r.site.0];
    while *chain.last()? != r.helper {
        if chain.len() > 8 {
            return None;
        }
        chain.push(program.func(*chain.last()?).parent?);
    }
    let mut state = cur;
    for pair in chain.windows(2).rev() {
        let (inner, outer) = (pair[0], pair[1]);
        let (i, how, runtime) =
            program
                .func(outer)
                .events
                .iter()
                .enumerate()
                .find_map(|(i, ev)| match &ev.kind {
                    EventKind::Run {
                        body, how, runtime, ..
                    } if *body == inner => Some((i, *how, *runtime)),
                    _ => None,
                })?;
        state = state_after(program, facts, outer, i, state);
        state = run_context(program, facts, outer, i, how, runtime, state)?;
    }
    let (site, at) = r.site;
    let state = state_after(program, facts, site, at, state);
    if program.func(r.body).is_async && !program.func(site).is_async {
        // Calling a coroutine function from sync code only builds the coroutine.
        return driver(program, facts, site, at, state);
    }
    Some(state)
}

/// The state of the thread after the first `after` events of `helper`, entered in state `cur`:
/// a runtime the helper enters before calling the closure it was handed.
fn state_after(program: &Program, facts: &mut Facts, helper: FnId, after: usize, cur: Ctx) -> Ctx {
    let mut state = cur;
    for (i, ev) in program.func(helper).events.iter().enumerate().take(after) {
        if let EventKind::RuntimeEnter { runtime, .. } = &ev.kind {
            state = entered(facts, helper, i, *runtime, state);
        }
    }
    state
}

/// The state of the thread after runtime-enter event `event` of `f`, reached in state `cur`.
/// A runtime's enter guard matters only where none runs; an executor layered on the runtime
/// (`LocalSet::enter`) is current from there on, over whatever runs.
fn entered(facts: &mut Facts, f: FnId, event: usize, runtime: RuntimeRef, cur: Ctx) -> Ctx {
    match (facts.layers.get(&(f, event)).copied(), cur) {
        (Some(_), Ctx::Blocking(_)) => cur,
        (Some(layer), Ctx::Runtime(i)) => Ctx::Runtime(layered(facts, i, layer, false)),
        (Some(layer), Ctx::Entered(i)) => Ctx::Entered(layered(facts, i, layer, false)),
        (Some(layer), _) => Ctx::Entered(layered(facts, InstId::UNKNOWN, layer, false)),
        (None, Ctx::Runtime(_) | Ctx::Blocking(_)) => cur,
        (None, _) => Ctx::Entered(resolve(facts, f, event, runtime, cur)),
    }
}

/// [`entered`] for rules, which cannot make instances: a layer the propagation did not make
/// leaves the thread's state unknown.
pub fn entered_known(facts: &Facts, f: FnId, event: usize, runtime: RuntimeRef, cur: Ctx) -> Ctx {
    let find = |i: InstId, layer| {
        let (base, driven) = match facts.instance(i).layer {
            Some(l) => (l.base, l.driven),
            None => (i, false),
        };
        facts.layers_made.get(&(base, layer, driven)).copied()
    };
    match (facts.layers.get(&(f, event)).copied(), cur) {
        (Some(_), Ctx::Blocking(_)) => cur,
        (Some(layer), Ctx::Runtime(i)) => find(i, layer).map_or(Ctx::Unknown, Ctx::Runtime),
        (Some(layer), Ctx::Entered(i)) => find(i, layer).map_or(Ctx::Unknown, Ctx::Entered),
        (Some(layer), _) => find(InstId::UNKNOWN, layer).map_or(Ctx::Unknown, Ctx::Entered),
        (None, Ctx::Runtime(_) | Ctx::Blocking(_)) => cur,
        (None, _) => Ctx::Entered(resolve(facts, f, event, runtime, cur)),
    }
}

/// The instance below a layer (a `LocalSet`'s runtime), or `i` itself.
fn unlayered(facts: &Facts, i: InstId) -> InstId {
    facts.instance(i).layer.map_or(i, |l| l.base)
}

/// The instance a runtime reference designates when reached in context `cur`.
pub fn resolve(facts: &Facts, f: FnId, event: usize, runtime: RuntimeRef, cur: Ctx) -> InstId {
    match runtime {
        // A variable bound to a runtime that a helper builds: the one the flow finds there.
        RuntimeRef::Var(v) => facts
            .var_instance
            .get(&v)
            .copied()
            .unwrap_or_else(|| facts.flow.runtime_of(f, event, &facts.event_instance)),
        RuntimeRef::Current => cur.instance().unwrap_or(InstId::UNKNOWN),
        RuntimeRef::Fresh(_) => facts
            .event_instance
            .get(&(f, event))
            .copied()
            .unwrap_or(InstId::UNKNOWN),
        RuntimeRef::Unknown => facts.flow.runtime_of(f, event, &facts.event_instance),
    }
}

/// The context a future built in sync body `f` before its event `from` runs in: that of the
/// first block-on from there in `f`, or in the bodies that call `f` inline (an iterator adaptor's
/// closure building one future per item). `None` when nothing there drives it: the future is
/// returned, stored or dropped, and runs wherever its eventual owner polls it.
fn driver(program: &Program, facts: &mut Facts, f: FnId, from: usize, cur: Ctx) -> Option<Ctx> {
    let (mut body, mut from) = (f, from);
    for _ in 0..16 {
        let events = &program.func(body).events;
        for (i, ev) in events.iter().enumerate().skip(from) {
            if let EventKind::Run {
                how: RunKind::BlockOn,
                runtime,
                ..
            } = &ev.kind
            {
                return run_context(program, facts, body, i, RunKind::BlockOn, *runtime, cur);
            }
        }
        let site = facts.callers[body.0 as usize].first()?;
        if site.nested != Some(RunKind::Inline) || program.func(site.caller).is_async {
            return None;
        }
        (body, from) = (site.caller, site.event + 1);
    }
    None
}

fn run_context(
    program: &Program,
    facts: &mut Facts,
    f: FnId,
    event: usize,
    how: RunKind,
    runtime: RuntimeRef,
    cur: Ctx,
) -> Option<Ctx> {
    let inst = |facts: &Facts| resolve(facts, f, event, runtime, cur);
    // Only the tasks of a layered executor run under it (`spawn_local` inside a `LocalSet`);
    // `tokio::spawn` and the blocking pool run on the runtime below, and a task queued on a
    // set that is only entered runs once the set is driven.
    let local = facts
        .needs
        .get(&(f, event))
        .is_some_and(|n| n.executor == crate::model::Executor::TokioLocal);
    let ctx = match how {
        RunKind::BlockOn => {
            let inner = unlayered(facts, inst(facts));
            let inner = super::instances::on_thread(facts, inner, cur);
            // The future runs on the calling thread, where a set entered or running stays
            // current.
            match cur
                .instance()
                .and_then(|c| facts.instance(c).layer.map(|l| (c, l)))
            {
                Some((c, l)) => {
                    let exec = facts.instance(c).executor;
                    Ctx::Runtime(layered(facts, inner, exec, l.driven))
                }
                None => Ctx::Runtime(inner),
            }
        }
        RunKind::Spawn => match (runtime, cur) {
            (RuntimeRef::Current, Ctx::NoRuntime | Ctx::Worker) => return None,
            (RuntimeRef::Current, Ctx::Unknown) => Ctx::Runtime(InstId::UNKNOWN),
            _ => {
                let i = inst(facts);
                match facts.instance(i).layer {
                    Some(l) if local => {
                        let exec = facts.instance(i).executor;
                        Ctx::Runtime(layered(facts, l.base, exec, true))
                    }
                    Some(l) => Ctx::Runtime(l.base),
                    None => Ctx::Runtime(i),
                }
            }
        },
        // A Python worker thread has no loop of its own: only Rust's blocking pool keeps the
        // runtime's context.
        RunKind::SpawnBlocking if program.func(f).language == Language::Python => Ctx::Worker,
        RunKind::SpawnBlocking | RunKind::BlockInPlace => {
            Ctx::Blocking(unlayered(facts, inst(facts)))
        }
        // A hook the library calls at exit runs on the main thread once the program's code,
        // and any loop it ran, has returned.
        RunKind::Thread if facts.at_exit.contains(&(f, event)) => Ctx::NoRuntime,
        RunKind::Thread => Ctx::Worker,
        RunKind::Future => match cur {
            Ctx::Runtime(i) => Ctx::Runtime(i),
            _ => Ctx::Runtime(InstId::UNKNOWN),
        },
        RunKind::Inline => cur,
        // A handler runs where its framework's servers run it: see `served`.
        RunKind::Handler => return None,
    };
    // An API that sets up an executor over the runtime runs the body under it. A task queued
    // on a set (`local.spawn_local`) from a runtime's thread runs on that runtime: the set is
    // `!Send`, so it is driven on the thread that holds it.
    Some(match (ctx, facts.layers.get(&(f, event)).copied()) {
        (Ctx::Runtime(InstId::UNKNOWN), Some(layer)) if how == RunKind::Spawn => {
            let base = match cur {
                Ctx::Runtime(c) => unlayered(facts, c),
                _ => InstId::UNKNOWN,
            };
            Ctx::Runtime(layered(facts, base, layer, true))
        }
        (Ctx::Runtime(i), Some(layer)) => Ctx::Runtime(layered(facts, i, layer, true)),
        (ctx, _) => ctx,
    })
}
