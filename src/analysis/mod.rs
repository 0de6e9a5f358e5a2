//! Facts computed once per program: the call graph, which functions run repeatedly, the runtime
//! instances, and the execution contexts each function runs in. Rules query these facts.
//!
//! The central fact is [`Facts::contexts`]: for every function, the set of [`Ctx`] it may run
//! in (on runtime instance R, on a blocking thread of R, on a thread with no runtime, unknown),
//! each with the edge it was reached through, so rules can explain the chain.

mod callgraph;
mod contexts;
mod expected;
pub mod flow;
mod instances;
pub mod once_fills;
pub mod paths;
#[cfg(test)]
mod tests;

pub use callgraph::CallSite;
pub use contexts::{entered_known, resolve as resolve_runtime};
pub use expected::ExpectRegion;
pub use instances::{InstId, Instance, InstanceKind, Layer, short};

use std::collections::{HashMap, HashSet};

use crate::kb::{Concept, Kb, NeedLevel};
use crate::model::{
    Drivers, EventKind, Executor, Flavor, FnId, Language, Program, RunKind, RuntimeRef, Span, VarId,
};

/// Where a piece of code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ctx {
    /// On a worker of runtime instance `InstId` (async code, or sync code called from it).
    Runtime(InstId),
    /// On a thread that may block but belongs to a runtime (`spawn_blocking`, `block_in_place`).
    Blocking(InstId),
    /// On a thread where a runtime is entered or a loop installed, but not running
    /// (`let _g = rt.enter()`, `asyncio.set_event_loop(loop)`).
    Entered(InstId),
    /// On a thread with no runtime (`fn main` before any runtime, a framework's test or handler).
    NoRuntime,
    /// On a thread the program starts, which is not the process's main thread and has no
    /// runtime and no loop installed (`std::thread::spawn`, `threading.Thread`, a Python
    /// `asyncio.to_thread` / `run_in_executor` worker).
    Worker,
    /// Called from code the analysis cannot see.
    Unknown,
}

impl Ctx {
    /// The runtime instance of a `Runtime` or `Blocking` context.
    pub fn instance(self) -> Option<InstId> {
        match self {
            Ctx::Runtime(i) | Ctx::Blocking(i) | Ctx::Entered(i) => Some(i),
            _ => None,
        }
    }

    /// Whether no runtime runs or is entered on the thread (`NoRuntime` or `Worker`).
    pub fn is_runtime_free(self) -> bool {
        matches!(self, Ctx::NoRuntime | Ctx::Worker)
    }
}

/// What an API that needs a runtime needs: which executor, and how present it must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    /// The executor the API works under (`Unknown`: any).
    pub executor: Executor,
    /// Whether the runtime must be running, merely current, or the thread may be the main one.
    pub level: NeedLevel,
    /// Whether the need applies only when the returned future is polled.
    pub polled: bool,
    /// The runtime driver it registers with (none: no particular driver).
    pub driver: Drivers,
    /// The only scheduler flavor it works on (`Unknown`: any).
    pub flavor: Flavor,
}

/// One context a function runs in, and how the analysis got there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxEntry {
    /// The context.
    pub ctx: Ctx,
    /// The function and span (a call or a runtime API) this context came through; `None` for
    /// roots.
    pub via: Option<(FnId, Span)>,
    /// Whether the path came through code a test runs to watch it fail (a call inside a
    /// `#[should_panic]` body or a `pytest.raises` block): such paths are kept apart from the
    /// others, and listed after them, so that a finding shows an unasserted path when one fails.
    pub asserted: bool,
    /// Whether the path came through a call that may not run the function there (a call
    /// through a trait object or a type parameter, a lazy static's first dereference): such a
    /// context is kept only when every known context of the function is the same one.
    pub may: bool,
    /// What the path assumes (build conditions, literal arguments): see [`paths`].
    pub path: paths::PathId,
}

/// Facts about one program.
#[derive(Debug, Default)]
pub struct Facts {
    /// Call sites of each function (indexed by `FnId`); nested bodies have their run site.
    pub callers: Vec<Vec<CallSite>>,
    /// Whether each function may run more than once per process.
    pub repeated: Vec<bool>,
    /// Runtime instances; index 0 is the unknown runtime.
    pub instances: Vec<Instance>,
    /// Contexts each function runs in.
    pub contexts: Vec<Vec<CtxEntry>>,
    /// Runtime instance behind runtime and handle variables.
    pub var_instance: HashMap<VarId, InstId>,
    /// Instance created by each runtime-creating event, by (function, event index).
    pub event_instance: HashMap<(FnId, usize), InstId>,
    /// What each runtime-needing event needs (`NeedsRuntime`, and spawns on the current
    /// runtime), by (function, event index).
    pub needs: HashMap<(FnId, usize), Need>,
    /// What each block-on or blocking entry does when reached from running async code, per the
    /// knowledge base (`nested`), by (function, event index); absent when it does not say.
    pub nested: HashMap<(FnId, usize), String>,
    /// Spawn events whose body is a callback the loop calls (`loop.call_soon`), not a task,
    /// per the knowledge base (`callback`), by (function, event index).
    pub callbacks: HashSet<(FnId, usize)>,
    /// Thread runs whose body the library calls later on the main thread, with no loop
    /// running (an `atexit` hook), per the knowledge base (`main_thread`), by (function, event
    /// index).
    pub at_exit: HashSet<(FnId, usize)>,
    /// The loops a test client makes per request ([`InstanceKind::Requests`]), when the
    /// program has such a client: the app's request handlers run there too.
    pub request_loop: Option<InstId>,
    /// Where runtimes, handles, resources and tasks flow.
    pub flow: flow::Flow,
    /// Regions whose failure a test asserts (`#[should_panic]`, `pytest.raises`).
    pub expect_regions: Vec<ExpectRegion>,
    /// For each function reached only from one such region, its index.
    pub expected_via: Vec<Option<usize>>,
    /// Lookup of the regions holding a span.
    pub expect_index: expected::RegionIndex,
    /// Path assumptions of the context entries.
    pub paths: paths::Paths,
    /// The variants of parking block-on instances run on a thread that keeps a Tokio
    /// context, by (instance, that thread's runtime): see [`instances::on_thread`].
    pub on_thread: HashMap<(InstId, InstId), InstId>,
    /// The executor that each run or enter event sets up on top of the runtime (a tokio
    /// `LocalSet`), per the knowledge base (`layer`), by (function, event index).
    pub layers: HashMap<(FnId, usize), Executor>,
    /// The layered instances made so far, by (runtime below, executor, driven): see
    /// [`instances::layered`].
    pub layers_made: HashMap<(InstId, Executor, bool), InstId>,
    /// The executor whose reactor each Rust runtime-bound resource registers with, per the
    /// knowledge base (`reactor`), by the constructor or type the model names it by; absent
    /// when unknown.
    pub reactors: HashMap<String, Executor>,
    /// The server framework of each serve event (`EventKind::Serve`), per the knowledge base,
    /// by (function, event index). A server that runs its handlers on worker runtimes of its
    /// own has an instance for them in `event_instance`.
    pub servers: HashMap<(FnId, usize), String>,
    /// The server framework of each handler registration (`RunKind::Handler`), by (function,
    /// event index).
    pub handlers: HashMap<(FnId, usize), String>,
}

/// Computes the facts of a program. The knowledge base tells which executor each runtime API
/// builds and which executor each runtime-needing API needs.
pub fn analyze(program: &Program, kb: &Kb) -> Facts {
    let callers = callgraph::callers(program);
    let repeated = callgraph::repeated(program, &callers);
    let flow = flow::solve(program, &callers);
    let mut facts = Facts {
        callers,
        repeated,
        flow,
        ..Facts::default()
    };
    instances::collect(program, kb, &mut facts);
    facts.needs = needs(program, kb);
    facts.nested = nested(program, kb);
    // Spawns that schedule a callback rather than a task; thread runs whose body the
    // library calls later on the main thread.
    facts.callbacks = flagged_runs(program, kb, RunKind::Spawn, Concept::Spawn, |a| a.callback);
    facts.at_exit = flagged_runs(program, kb, RunKind::Thread, Concept::Thread, |a| {
        a.main_thread
    });
    facts.layers = layers(program, kb);
    facts.reactors = reactors(program, kb);
    (facts.servers, facts.handlers) = frameworks(program, kb);
    expected::collect(program, kb, &mut facts);
    contexts::propagate(program, &mut facts);
    facts
}

/// What every block-on and blocking entry does when it nests, read from the knowledge base.
fn nested(program: &Program, kb: &Kb) -> HashMap<(FnId, usize), String> {
    let mut out = HashMap::new();
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            let api = match &ev.kind {
                EventKind::Run {
                    how: RunKind::BlockOn,
                    api,
                    ..
                } => kb.find(f.language, api, Concept::BlockOn),
                EventKind::BlockingEntry { api } => {
                    kb.find(f.language, api, Concept::BlockingEntry)
                }
                _ => continue,
            };
            if let Some(a) = api.filter(|a| !a.nested.is_empty()) {
                out.insert((fid, i), a.nested.clone());
            }
        }
    }
    out
}

/// The run events of kind `how` whose API the knowledge base lists under `concept` with
/// `flag` set.
fn flagged_runs(
    program: &Program,
    kb: &Kb,
    how: RunKind,
    concept: Concept,
    flag: fn(&crate::kb::Api) -> bool,
) -> HashSet<(FnId, usize)> {
    let mut out = HashSet::new();
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            if let EventKind::Run { how: h, api, .. } = &ev.kind
                && *h == how
                && kb.find(f.language, api, concept).is_some_and(flag)
            {
                out.insert((fid, i));
            }
        }
    }
    out
}

/// The executor each run or enter event sets up on top of its runtime, read from the
/// knowledge base.
fn layers(program: &Program, kb: &Kb) -> HashMap<(FnId, usize), Executor> {
    let mut out = HashMap::new();
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            let (api, concepts): (&str, &[Concept]) = match &ev.kind {
                EventKind::Run { api, .. } if !api.is_empty() => {
                    (api, &[Concept::RunFuture, Concept::BlockOn, Concept::Spawn])
                }
                EventKind::RuntimeEnter { api, .. } if !api.is_empty() => {
                    (api, &[Concept::RuntimeEnter])
                }
                _ => continue,
            };
            if let Some(layer) = concepts
                .iter()
                .filter_map(|c| kb.find(f.language, api, *c))
                .find_map(|a| a.layer)
            {
                out.insert((fid, i), layer.model());
            }
        }
    }
    out
}

/// The framework of every serve event and handler registration, read from the knowledge base.
type ByEvent = HashMap<(FnId, usize), String>;

fn frameworks(program: &Program, kb: &Kb) -> (ByEvent, ByEvent) {
    let (mut servers, mut handlers) = (HashMap::new(), HashMap::new());
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            let (api, concept, out) = match &ev.kind {
                EventKind::Serve { api } => (api.as_str(), Concept::Serve, &mut servers),
                EventKind::Run {
                    how: RunKind::Handler,
                    api,
                    ..
                } => (&**api, Concept::Handler, &mut handlers),
                _ => continue,
            };
            if let Some(fw) = kb
                .find(f.language, api, concept)
                .and_then(|a| a.framework.clone())
            {
                out.insert((fid, i), fw);
            }
        }
    }
    (servers, handlers)
}

/// The reactor each Rust resource of the program registers with, read from the knowledge base
/// by the constructor of each creation and the type of each static.
fn reactors(program: &Program, kb: &Kb) -> HashMap<String, Executor> {
    let mut out = HashMap::new();
    let creates = program.fns().flat_map(|(_, f)| {
        f.events.iter().filter_map(move |ev| match &ev.kind {
            EventKind::Create { api, .. } if f.language == Language::Rust => Some(&**api),
            _ => None,
        })
    });
    let statics = program.globals.iter().map(|g| g.api.as_str());
    for api in creates.chain(statics) {
        if out.contains_key(api) {
            continue;
        }
        if let Some(r) = kb
            .find(Language::Rust, api, Concept::RuntimeBound)
            .and_then(|a| a.reactor)
        {
            out.insert(api.to_string(), r.model());
        }
    }
    out
}

/// The needs of every runtime-needing event, read from the knowledge base.
fn needs(program: &Program, kb: &Kb) -> HashMap<(FnId, usize), Need> {
    let mut out = HashMap::new();
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            let api = match &ev.kind {
                EventKind::NeedsRuntime { api } => kb.find(f.language, api, Concept::NeedsRuntime),
                EventKind::Run {
                    how: RunKind::Spawn,
                    runtime: RuntimeRef::Current,
                    api,
                    ..
                } => kb.find(f.language, api, Concept::Spawn),
                _ => continue,
            };
            let default_level = match f.language {
                Language::Rust => NeedLevel::Current,
                Language::Python => NeedLevel::Running,
            };
            out.insert(
                (fid, i),
                Need {
                    executor: api.map_or(Executor::Unknown, |a| a.model_executor()),
                    level: api.and_then(|a| a.needs).unwrap_or(default_level),
                    polled: api.is_some_and(|a| a.polled),
                    driver: api
                        .and_then(|a| a.driver)
                        .map_or(Drivers::NONE, |d| d.model()),
                    flavor: api.map_or(Flavor::Unknown, |a| a.model_flavor()),
                },
            );
        }
    }
    out
}

impl Facts {
    /// The instance with the given id.
    pub fn instance(&self, id: InstId) -> &Instance {
        &self.instances[id.0 as usize]
    }

    /// Contexts of a function.
    pub fn ctx(&self, f: FnId) -> &[CtxEntry] {
        &self.contexts[f.0 as usize]
    }

    /// Whether the path of context `entry` reaches event `ev` of its function: the build
    /// conditions and literal arguments it assumes do not rule the event out.
    pub fn reaches(&self, program: &Program, entry: &CtxEntry, ev: &crate::model::Event) -> bool {
        self.paths.allows(&program.conds, entry.path, ev.when)
    }

    /// Whether some context of `f` reaches event `ev` of it (or `f` has no known context).
    pub fn reached(&self, program: &Program, f: FnId, ev: &crate::model::Event) -> bool {
        ev.when == crate::model::CondId::TRUE
            || self.ctx(f).is_empty()
            || self.ctx(f).iter().any(|c| self.reaches(program, c, ev))
    }

    /// Whether code under condition `a` and code under condition `b` of one body can both
    /// exist in one build (and with one set of parameter values).
    pub fn together(program: &Program, a: crate::model::CondId, b: crate::model::CondId) -> bool {
        a == crate::model::CondId::TRUE
            || b == crate::model::CondId::TRUE
            || program.conds.satisfiable(&[a, b], &[])
    }

    /// The executor whose reactor a Rust resource made by `api` (a constructor, or a static's
    /// type) registers with: `Unknown` when the knowledge base does not say.
    pub fn reactor(&self, api: &str) -> Executor {
        self.reactors.get(api).copied().unwrap_or(Executor::Unknown)
    }

    /// The executor of a context: the executor of its runtime instance, if known.
    pub fn executor(&self, ctx: Ctx) -> Executor {
        ctx.instance()
            .map_or(Executor::Unknown, |i| self.instance(i).executor)
    }

    /// The first context entry of `f` that is on a runtime worker (async context).
    pub fn on_runtime(&self, f: FnId) -> Option<&CtxEntry> {
        self.ctx(f)
            .iter()
            .find(|c| matches!(c.ctx, Ctx::Runtime(_)))
    }

    /// Known runtime instances `f` runs on as a worker (not the unknown one). Under an
    /// executor that parks a thread holding a Tokio context, that is the Tokio runtime: its
    /// reactor, timers and blocking rules are the ones the code meets.
    ///
    /// A context reached through an uncertain call ([`CtxEntry::may`]) names its runtime only
    /// when every runtime context of `f` is that one: two tests dispatching through one trait
    /// object may each reach a different impl.
    pub fn known_instances(&self, f: FnId) -> impl Iterator<Item = (InstId, &CtxEntry)> + '_ {
        let list = self.ctx(f);
        let mut runtimes = list.iter().filter_map(|c| match c.ctx {
            Ctx::Runtime(i) if i != InstId::UNKNOWN => Some(i),
            _ => None,
        });
        let first = runtimes.next();
        let one = runtimes.all(|i| Some(i) == first);
        list.iter().filter_map(move |c| match c.ctx {
            Ctx::Runtime(_) if c.may && !one => None,
            Ctx::Runtime(i) => {
                Some((self.runtime_below(i), c)).filter(|(i, _)| *i != InstId::UNKNOWN)
            }
            _ => None,
        })
    }

    /// The runtime whose threads, reactor and timers code on instance `i` meets: the Tokio
    /// runtime under a `LocalSet` layer, or under an executor that parks a thread holding its
    /// context; `i` itself otherwise.
    pub fn runtime_below(&self, i: InstId) -> InstId {
        let i = self.instance(i).layer.map_or(i, |l| l.base);
        self.instance(i).ambient.unwrap_or(i)
    }

    /// Whether an API that needs executor `need` finds it on a thread in context `ctx`: the
    /// executor running there provides it, or, under an executor that parks a thread holding
    /// a Tokio context, that Tokio runtime does; `None` when unknown.
    pub fn provides(&self, ctx: Ctx, need: Executor) -> Option<bool> {
        let inst = self.instance(ctx.instance()?);
        match (inst.executor.provides(need), inst.ambient) {
            (Some(false), Some(InstId::UNKNOWN)) => None,
            (Some(false), Some(a)) => self.instance(a).executor.provides(need),
            (own, _) => own,
        }
    }

    /// The chain of calls that led to context `entry` of `f`, innermost first, up to `limit`
    /// steps: each step is the calling function and the span of the call.
    pub fn chain(&self, f: FnId, entry: &CtxEntry, limit: usize) -> Vec<(FnId, Span)> {
        let mut out = Vec::new();
        let mut cur = entry.via;
        let mut asserted = entry.asserted;
        let mut seen = vec![f];
        while let Some((caller, span)) = cur {
            if out.len() >= limit || seen.contains(&caller) {
                break;
            }
            out.push((caller, span));
            seen.push(caller);
            // An asserted path goes on through the caller's asserted path, if it has one (the
            // asserted call may be further up).
            let list = self.ctx(caller);
            let like = |c: &&CtxEntry| c.ctx == entry.ctx || same_kind(c.ctx, entry.ctx);
            let next = list
                .iter()
                .filter(like)
                .find(|c| c.asserted == asserted)
                .or_else(|| list.iter().find(like));
            asserted = next.is_some_and(|c| c.asserted);
            cur = next.and_then(|c| c.via);
        }
        out
    }
}

fn same_kind(a: Ctx, b: Ctx) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}
