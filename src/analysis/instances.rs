//! Runtime instances: every place a runtime or event loop comes into being.

use crate::kb::{Concept, Kb};
use crate::model::{
    Drivers, Entry, EventKind, Executor, Flavor, FnId, Language, LoopScope, Program, RunKind,
    RuntimeRef, Span,
};

use super::{Ctx, Facts};

/// Index of a runtime instance in [`Facts::instances`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstId(pub u32);

impl InstId {
    /// The runtime the analysis cannot identify.
    pub const UNKNOWN: InstId = InstId(0);
}

/// Where an instance comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceKind {
    /// Not identified.
    Unknown,
    /// Built by an entry attribute or decorator on a function (`#[tokio::main]`, pytest-asyncio).
    Attribute(FnId),
    /// Built explicitly (`Runtime::new()`, `asyncio.new_event_loop()`), at an event.
    Built(FnId, usize),
    /// Made and torn down by one call (`asyncio.run`, `futures::executor::block_on`).
    Fresh(FnId, usize),
    /// The one loop of a long-running server, shared by its handlers.
    Server(u32),
    /// The loop a test plugin keeps for the tests and fixtures of one scope wider than a test
    /// (pytest-asyncio's session- or module-scoped loop), by group.
    TestLoop(u32, LoopScope),
    /// The loops that a test client makes, one for each request it sends to the program's
    /// app (a Starlette `TestClient` not entered): see [`crate::model::Program::request_loops`].
    Requests,
}

/// One runtime instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Origin.
    pub kind: InstanceKind,
    /// Where it is built or entered.
    pub site: Span,
    /// Scheduler flavor.
    pub flavor: Flavor,
    /// The executor that runs the instance's code.
    pub executor: Executor,
    /// Whether the site runs more than once per process, making a fresh runtime each time.
    pub repeated: bool,
    /// Build target or group the site belongs to (runtimes of different groups never meet).
    pub group: Option<u32>,
    /// Whether the site is test code (tests and the program's own entry never share a process).
    pub test: bool,
    /// Description for labels.
    pub what: String,
    /// For an executor that parks the thread it is called on (the `futures` executor, smol's
    /// `block_on`), reached on a thread that holds a Tokio runtime's context: that runtime
    /// (`InstId::UNKNOWN` when the thread may hold one the analysis cannot name). Tokio's
    /// context is per thread and stays set while the other executor runs, so Tokio's timers,
    /// sockets, spawns and `Handle::current` inside the future find that runtime.
    pub ambient: Option<InstId>,
    /// Drivers the runtime surely lacks (built without `enable_time`/`enable_io`).
    pub disabled: Drivers,
    /// For an executor set up on top of a runtime (a tokio `LocalSet`): that runtime, and
    /// whether the set runs the code or is only entered.
    pub layer: Option<Layer>,
}

/// An executor set up on top of a runtime instance by a library API (`LocalSet::run_until`,
/// `LocalSet::block_on`, `LocalSet::spawn_local`, `LocalSet::enter`): code under it runs on
/// that runtime's threads, with the layer's executor current as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layer {
    /// The runtime under the layer (`InstId::UNKNOWN` when the analysis cannot name it).
    pub base: InstId,
    /// Whether the layer runs the code (the set polls it: `run_until`, its tasks), rather than
    /// only being entered (`LocalSet::enter`, which makes `spawn_local` queue on the set).
    pub driven: bool,
}

impl Instance {
    /// Whether two known instances can be alive in the same process.
    pub fn can_meet(&self, other: &Instance) -> bool {
        self.group.is_some() && self.group == other.group && self.test == other.test
    }
}

/// Whether `f` is test code: marked so itself, or a Rust body nested in a test function (a
/// closure or async block of a `#[tokio::test]`, whose runtime is test code).
fn test_code(program: &Program, f: FnId) -> bool {
    let func = program.func(f);
    if func.is_test || func.language != Language::Rust {
        return func.is_test;
    }
    let mut at = func.parent;
    while let Some(p) = at {
        let pf = program.func(p);
        if pf.is_test || matches!(pf.entry, Some(Entry::Runtime { test: true, .. })) {
            return true;
        }
        at = pf.parent;
    }
    false
}

/// Creates the instances of a program and maps runtime/handle variables to them.
pub fn collect(program: &Program, kb: &Kb, facts: &mut Facts) {
    let executor_of = |language: Language, api: &str, concept: Concept| {
        kb.find(language, api, concept)
            .map_or(Executor::Unknown, |a| a.model_executor())
    };
    facts.instances.push(Instance {
        kind: InstanceKind::Unknown,
        site: Span::default(),
        flavor: Flavor::Unknown,
        executor: Executor::Unknown,
        repeated: false,
        group: None,
        test: false,
        what: "an unknown runtime".into(),
        ambient: None,
        disabled: Drivers::NONE,
        layer: None,
    });
    if let Some(&site) = program.request_loops.first() {
        let group = program.files.get(site.file as usize).map(|fi| fi.group);
        let id = push(
            facts,
            Instance {
                kind: InstanceKind::Requests,
                site,
                flavor: Flavor::CurrentThread,
                executor: Executor::Asyncio,
                repeated: true,
                group,
                test: true,
                what: "the event loop that a `TestClient` not entered makes for each request"
                    .into(),
                ambient: None,
                disabled: Drivers::NONE,
                layer: None,
            },
        );
        facts.request_loop = Some(id);
    }
    for (fid, f) in program.fns() {
        let group = program.files.get(f.span.file as usize).map(|fi| fi.group);
        let in_test = test_code(program, fid);
        if let Some(Entry::Runtime {
            flavor,
            executor,
            test,
            per_call,
            what,
        }) = &f.entry
        {
            let id = push(
                facts,
                Instance {
                    kind: InstanceKind::Attribute(fid),
                    site: f.span,
                    flavor: *flavor,
                    executor: *executor,
                    repeated: *per_call,
                    group,
                    test: *test || f.is_test,
                    what: format!("{what} of `{}`", f.name),
                    ambient: None,
                    disabled: Drivers::NONE,
                    layer: None,
                },
            );
            facts.event_instance.insert((fid, usize::MAX), id);
        }
        for (i, ev) in f.events.iter().enumerate() {
            let repeated = facts.repeated[fid.0 as usize] || ev.loop_depth > 0;
            match &ev.kind {
                EventKind::RuntimeNew {
                    var,
                    flavor,
                    disabled,
                    api,
                } => {
                    let id = push(
                        facts,
                        Instance {
                            kind: InstanceKind::Built(fid, i),
                            site: ev.span,
                            flavor: *flavor,
                            executor: executor_of(f.language, api, Concept::RuntimeNew),
                            repeated,
                            group,
                            test: in_test,
                            what: format!("the {} built by `{}`", noun(f.language), short(api)),
                            ambient: None,
                            disabled: *disabled,
                            layer: None,
                        },
                    );
                    facts.event_instance.insert((fid, i), id);
                    if let Some(v) = var {
                        facts.var_instance.insert(*v, id);
                    }
                }
                EventKind::Run {
                    how: RunKind::BlockOn,
                    runtime: RuntimeRef::Fresh(flavor),
                    api,
                    ..
                } => {
                    let id = push(
                        facts,
                        Instance {
                            kind: InstanceKind::Fresh(fid, i),
                            site: ev.span,
                            flavor: *flavor,
                            executor: executor_of(f.language, api, Concept::BlockOn),
                            repeated,
                            group,
                            test: in_test,
                            what: format!("the fresh {} of `{}`", noun(f.language), short(api)),
                            ambient: None,
                            disabled: Drivers::NONE,
                            layer: None,
                        },
                    );
                    facts.event_instance.insert((fid, i), id);
                }
                // A server that runs its handlers on worker runtimes of its own (actix-web's).
                EventKind::Serve { api } => {
                    let Some(a) = kb
                        .find(f.language, api, Concept::Serve)
                        .filter(|a| a.flavor.is_some())
                    else {
                        continue;
                    };
                    let id = push(
                        facts,
                        Instance {
                            kind: InstanceKind::Built(fid, i),
                            site: ev.span,
                            flavor: a.model_flavor(),
                            executor: a.model_executor(),
                            repeated: false,
                            group,
                            test: in_test,
                            what: format!("a worker runtime of `{}`", short(api)),
                            ambient: None,
                            disabled: Drivers::NONE,
                            layer: None,
                        },
                    );
                    facts.event_instance.insert((fid, i), id);
                }
                EventKind::HandleOf {
                    runtime: RuntimeRef::Var(rt),
                    var: Some(h),
                } => {
                    if let Some(&id) = facts.var_instance.get(rt) {
                        facts.var_instance.insert(*h, id);
                    }
                }
                _ => {}
            }
        }
    }
}

/// The server instance of a group, created on first request.
pub fn server_instance(program: &Program, facts: &mut Facts, f: FnId) -> InstId {
    let func = program.func(f);
    let group = program
        .files
        .get(func.span.file as usize)
        .map(|fi| fi.group)
        .unwrap_or(0);
    // Tests and fixtures of a scope share its loop, which is test code's.
    let test_loop = match &func.entry {
        Some(Entry::ServerAsync {
            test_loop: Some(scope),
            ..
        }) => Some(*scope),
        _ => None,
    };
    let kind = match test_loop {
        Some(scope) => InstanceKind::TestLoop(group, scope),
        None => InstanceKind::Server(group),
    };
    if let Some(i) = facts.instances.iter().position(|inst| inst.kind == kind) {
        return InstId(i as u32);
    }
    if let (Some(_), Some(Entry::ServerAsync { what, .. })) = (test_loop, &func.entry) {
        return push(
            facts,
            Instance {
                kind,
                site: func.span,
                flavor: Flavor::CurrentThread,
                executor: Executor::Asyncio,
                // One loop per module (or class, package) of tests: which of them code runs
                // under is not told apart.
                repeated: false,
                group: Some(group),
                test: true,
                what: format!("the {what}"),
                ambient: None,
                disabled: Drivers::NONE,
                layer: None,
            },
        );
    }
    push(
        facts,
        Instance {
            kind,
            site: func.span,
            flavor: Flavor::CurrentThread,
            executor: match func.language {
                Language::Python => Executor::Asyncio,
                Language::Rust => Executor::Unknown,
            },
            repeated: false,
            group: Some(group),
            test: false,
            what: "the server's event loop".into(),
            ambient: None,
            disabled: Drivers::NONE,
            layer: None,
        },
    )
}

/// The instance that runs a future handed to block-on instance `inner` on a thread in
/// context `outer`. An executor that parks the calling thread (the `futures` executor, smol's)
/// leaves the thread's Tokio context in place: reached where a Tokio runtime (or a runtime the
/// analysis cannot name) is running, entered or lends its blocking pool, it runs the future
/// with that runtime's context still set, a variant of `inner` made once per outer runtime.
/// Any other case is `inner` itself.
pub fn on_thread(facts: &mut Facts, inner: InstId, outer: Ctx) -> InstId {
    let inst = facts.instance(inner);
    if !matches!(inst.executor, Executor::Futures | Executor::Smol) || inst.ambient.is_some() {
        return inner;
    }
    let ambient = match outer {
        Ctx::Runtime(o) | Ctx::Blocking(o) | Ctx::Entered(o) => match facts.instance(o).executor {
            Executor::Tokio | Executor::TokioLocal | Executor::Unknown => o,
            _ => return inner,
        },
        Ctx::Unknown => InstId::UNKNOWN,
        Ctx::NoRuntime | Ctx::Worker => return inner,
    };
    if let Some(&twin) = facts.on_thread.get(&(inner, ambient)) {
        return twin;
    }
    let mut twin = facts.instance(inner).clone();
    twin.what = match ambient {
        InstId::UNKNOWN => format!("{}, on a thread that may hold a Tokio context", twin.what),
        a => format!("{}, on a thread of {}", twin.what, facts.instance(a).what),
    };
    twin.ambient = Some(ambient);
    let id = push(facts, twin);
    facts.on_thread.insert((inner, ambient), id);
    id
}

/// The instance that runs code under executor `executor` set up on top of instance `base`
/// (a tokio `LocalSet`: `Executor::TokioLocal`), made once per base and mode. A layer over a
/// layer is one over the runtime below both, driven when either is.
pub fn layered(facts: &mut Facts, base: InstId, executor: Executor, driven: bool) -> InstId {
    let (base, driven) = match facts.instance(base).layer {
        Some(l) => (l.base, driven || l.driven),
        None => (base, driven),
    };
    if let Some(&id) = facts.layers_made.get(&(base, executor, driven)) {
        return id;
    }
    let mut inst = facts.instance(base).clone();
    inst.what = match (base, driven) {
        (InstId::UNKNOWN, true) => "a `LocalSet` on a runtime the analysis cannot name".into(),
        (InstId::UNKNOWN, false) => "an entered `LocalSet`".into(),
        (_, true) => format!("a `LocalSet` on {}", inst.what),
        (_, false) => format!("{}, with a `LocalSet` entered", inst.what),
    };
    inst.executor = executor;
    inst.layer = Some(Layer { base, driven });
    let id = push(facts, inst);
    facts.layers_made.insert((base, executor, driven), id);
    id
}

/// What a runtime is called in a language.
fn noun(language: crate::model::Language) -> &'static str {
    match language {
        crate::model::Language::Rust => "runtime",
        crate::model::Language::Python => "event loop",
    }
}

fn push(facts: &mut Facts, inst: Instance) -> InstId {
    facts.instances.push(inst);
    InstId(facts.instances.len() as u32 - 1)
}

/// The last two segments of an API path, for messages.
pub fn short(api: &str) -> String {
    let parts: Vec<&str> = api.split([':', '.']).filter(|s| !s.is_empty()).collect();
    let n = parts.len();
    if n >= 2 {
        let sep = if api.contains("::") { "::" } else { "." };
        format!("{}{sep}{}", parts[n - 2], parts[n - 1])
    } else {
        api.to_string()
    }
}
