//! The language-neutral lifecycle model.
//!
//! Frontends lower source files into a [`Program`]: functions (including closures, async blocks
//! and futures handed to runtime APIs, each as its own [`Function`] body), the events inside them
//! (calls, runtime entries, spawns, resource creations, uses, closes, drops) and the long-lived
//! storage (statics, module globals, caches) that outlives a single call. The analysis and the rules
//! only ever see this model: it holds no parser types, so adding a language means adding a frontend.

use std::fmt;

mod cond;
mod flow;

pub use cond::{ArgKey, ArgVal, Cond, CondId, Conds, Lit, Param, ParamTest, eval_test};
pub use flow::{Built, Cell, CellId, CellKind, Fact, FactKind, FlowFacts, Place};

/// Index of a source file in [`Program::files`].
pub type FileId = u32;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// File the range belongs to.
    pub file: FileId,
    /// Start byte offset (inclusive).
    pub start: u32,
    /// End byte offset (exclusive).
    pub end: u32,
}

impl Span {
    /// Builds a span from a file and a byte range.
    pub fn new(file: FileId, start: u32, end: u32) -> Self {
        Span {
            file,
            start,
            end: end.max(start),
        }
    }

    /// Whether `inner` lies within this span and is not the same range.
    pub fn strictly_contains(&self, inner: &Span) -> bool {
        self.file == inner.file
            && self.start <= inner.start
            && inner.end <= self.end
            && (self.start, self.end) != (inner.start, inner.end)
    }
}

/// Source language of a file or function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// Rust, lowered from `syn`.
    Rust,
    /// Python, lowered from `ruff_python_parser`.
    Python,
}

impl Language {
    /// Lower-case name used in output (`"rust"`, `"python"`).
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
        }
    }
}

/// Index of a function body in [`Program::functions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnId(pub u32);

/// Index of a variable in [`Program::vars`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

/// Index of a long-lived storage slot in [`Program::globals`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlobalId(pub u32);

/// A whole analysed unit: one Cargo package (with all its targets) or one Python project.
#[derive(Debug, Default)]
pub struct Program {
    /// Files the program was lowered from; [`Span::file`] indexes this list.
    pub files: Vec<FileInfo>,
    /// Every function body, including nested bodies (closures, async blocks, future arguments).
    pub functions: Vec<Function>,
    /// Local variables that the analysis tracks (runtimes, handles, resources, join handles).
    pub vars: Vec<Var>,
    /// Long-lived storage: statics, lazies, module globals, caches, class attributes.
    pub globals: Vec<Global>,
    /// How values move between places (see [`FlowFacts`]).
    pub flow: FlowFacts,
    /// Functions handed to a helper of the program that calls its parameter: they run where the
    /// helper calls it, after the helper's own setup (an entered runtime, a loop it runs).
    pub param_runs: Vec<ParamRun>,
    /// Conditions that functions and events exist or run under (see [`Conds`]).
    pub conds: Conds,
    /// The arguments of calls that pass a literal or a parameter of the caller, by the span of
    /// the call event: each argument's position or keyword, and what it passes. A call whose
    /// arguments cannot all be placed (`*args`, `**kw`) has no entry.
    pub call_args: rustc_hash::FxHashMap<Span, Vec<(ArgKey, ArgVal)>>,
    /// Where tests make a client that serves each request it sends to the program's app on
    /// an event loop of its own, made for that request and closed after it (a Starlette
    /// `TestClient` not entered as a context manager): the request handlers run there too.
    pub request_loops: Vec<Span>,
    /// Calls that may not run each of their callees where they are made, by (caller, event
    /// index): a call through a trait object or a generic parameter reaches one of the
    /// package's impls, which depends on the value; a lazy static's read runs its initialiser
    /// only the first time. Calls not listed run their callees.
    pub reach: rustc_hash::FxHashMap<(FnId, u32), Reach>,
    /// Where the events of a body sit among its branches, for the Rust bodies with two
    /// runtime-needing events or more (see [`Regions`]); a body not listed tells nothing.
    pub regions: rustc_hash::FxHashMap<FnId, Regions>,
}

/// The branches of one body: each event's branch (a side of an `if`, a `match` arm, a loop's
/// body, the right side of `&&`, a macro's arguments; 0 is the body itself) and each branch's
/// enclosing one. The events of one branch run in source order whenever it runs.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    /// The branch of each event, by event index; empty when every event is in the body itself.
    pub of_event: Vec<u32>,
    /// The enclosing branch of branch `r`, at `r - 1`.
    pub parent: Vec<u32>,
}

impl Regions {
    /// Whether event `i` runs before event `j` on every path of the body that reaches `j`:
    /// it comes first, in `j`'s branch or in one around it.
    pub fn dominates(&self, i: usize, j: usize) -> bool {
        if i >= j {
            return false;
        }
        if self.of_event.is_empty() {
            return true;
        }
        let (Some(&ri), Some(&rj)) = (self.of_event.get(i), self.of_event.get(j)) else {
            return false;
        };
        let mut r = rj;
        for _ in 0..=self.parent.len() {
            if r == ri {
                return true;
            }
            if r == 0 {
                return false;
            }
            r = self.parent[r as usize - 1];
        }
        false
    }
}

/// How surely a call runs its callees (see [`Program::reach`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The call runs its callee (or, with several, one per build condition).
    Sure,
    /// The call runs one or some of its callees, depending on a value the model does not
    /// follow (the dynamic type behind `dyn Trait` or a type parameter).
    May,
    /// The call runs its callee once per process, at whichever of its sites comes first (the
    /// initialiser of a lazy static, run by its first dereference).
    Once,
}

impl Program {
    /// How surely event `event` of `f`, a call, runs its callees.
    pub fn reach(&self, f: FnId, event: usize) -> Reach {
        if self.reach.is_empty() {
            return Reach::Sure;
        }
        self.reach
            .get(&(f, event as u32))
            .copied()
            .unwrap_or(Reach::Sure)
    }
}

/// A function handed to a helper of the program that calls it: a closure run inline by the
/// caller's `Run` event (Rust), or a function, lambda or `functools.partial` passed as an
/// argument of the caller's call of the helper (Python). It runs where the helper calls it, in
/// the state the helper reaches there, per context of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamRun {
    /// The caller and the index of the event that hands the function over: the inline `Run`
    /// of the closure, or the call of the helper.
    pub run: (FnId, usize),
    /// The function handed over.
    pub body: FnId,
    /// The helper it is handed to.
    pub helper: FnId,
    /// Where the helper calls it: the helper's body, or a body the helper runs (the future of
    /// a `run_until_complete`, a thread's target), and how many of that body's events come
    /// before the call.
    pub site: (FnId, usize),
}

impl Program {
    /// The function with the given id.
    pub fn func(&self, id: FnId) -> &Function {
        &self.functions[id.0 as usize]
    }
    /// The variable with the given id.
    pub fn var(&self, id: VarId) -> &Var {
        &self.vars[id.0 as usize]
    }
    /// The global with the given id.
    pub fn global(&self, id: GlobalId) -> &Global {
        &self.globals[id.0 as usize]
    }
    /// The innermost body with an event whose span covers `span`: the body a finding at `span`
    /// is in (nested bodies come after the bodies that hold them).
    pub fn body_at(&self, span: Span) -> Option<FnId> {
        self.fns()
            .filter(|(_, f)| {
                f.events.iter().any(|e| {
                    e.span.file == span.file && e.span.start <= span.start && span.end <= e.span.end
                })
            })
            .map(|(id, _)| id)
            .last()
    }

    /// Iterates over `(FnId, &Function)` pairs.
    pub fn fns(&self) -> impl Iterator<Item = (FnId, &Function)> {
        self.functions
            .iter()
            .enumerate()
            .map(|(i, f)| (FnId(i as u32), f))
    }
}

/// A file that belongs to a program.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Index of the file in the checker's source table (not the program's).
    pub source: usize,
    /// Language of the file.
    pub language: Language,
    /// Build target or group the file belongs to. Code in different groups never runs in one
    /// process (a binary and an integration-test binary, say), so runtimes of different groups never
    /// meet.
    pub group: u32,
}

/// What kind of body a function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FnKind {
    /// A named function or method declared with `fn`/`def`.
    Named,
    /// A closure or lambda.
    Closure,
    /// An async block, or the future expression handed to a runtime API (`block_on(fetch())`).
    Future,
    /// Module-level code of a Python module (runs at import) or a script.
    Module,
}

/// How a function is entered from outside the analysed code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The process entry (`fn main`, `if __name__ == "__main__":`): runs once, with no runtime.
    Main,
    /// A function whose body runs on a fresh runtime built for it (`#[tokio::main]`,
    /// `#[tokio::test]`, `#[actix_rt::main]`). `repeated` is set for test functions: every test
    /// gets its own runtime.
    Runtime {
        /// Flavor of the runtime the attribute builds.
        flavor: Flavor,
        /// Executor the attribute runs the body on.
        executor: Executor,
        /// Whether this is a test entry (one runtime per test).
        test: bool,
        /// Whether a framework calls the function again and again, each call on a runtime of
        /// its own (a Flask async view: a new event loop per request).
        per_call: bool,
        /// Human description used in labels, e.g. "`#[tokio::test]` runtime".
        what: String,
    },
    /// Sync code that a framework runs again and again, each time with no running runtime:
    /// `#[test]` functions, Flask routes, a Streamlit script body, pytest tests, thread targets.
    Repeated {
        /// Human description used in labels, e.g. "Flask route handler".
        what: String,
    },
    /// Async code that a long-lived server runs under its one loop (FastAPI/aiohttp handlers).
    ServerAsync {
        /// Human description used in labels.
        what: String,
        /// Whether it handles requests (a route, an endpoint, a middleware), rather than the
        /// server's start or stop (a lifespan hook) or a test loop: a test client that serves
        /// each request on a loop of its own runs it there ([`Program::request_loops`]).
        requests: bool,
        /// Set when the loop is one a test plugin keeps for the tests and fixtures of a scope
        /// wider than one test (pytest-asyncio's `loop_scope="session"`), rather than a server's:
        /// the loop of that scope.
        test_loop: Option<LoopScope>,
    },
}

/// The scope of an event loop that a test plugin keeps for several tests and fixtures
/// (pytest-asyncio's `loop_scope`): every test and fixture of one scope shares its loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopScope {
    /// The tests of one class.
    Class,
    /// The tests of one module.
    Module,
    /// The tests of one package.
    Package,
    /// Every test of the run.
    Session,
}

impl LoopScope {
    /// The scope a pytest scope name gives (`"module"`); `None` for `"function"` or unknown.
    pub fn parse(name: &str) -> Option<LoopScope> {
        match name {
            "class" => Some(LoopScope::Class),
            "module" => Some(LoopScope::Module),
            "package" => Some(LoopScope::Package),
            "session" => Some(LoopScope::Session),
            _ => None,
        }
    }
}

/// A set of runtime drivers (tokio's timer and I/O drivers), as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Drivers(pub u8);

impl Drivers {
    /// No driver.
    pub const NONE: Drivers = Drivers(0);
    /// The timer driver (`enable_time`).
    pub const TIME: Drivers = Drivers(1);
    /// The I/O driver (`enable_io`).
    pub const IO: Drivers = Drivers(2);
    /// Every driver.
    pub const ALL: Drivers = Drivers(3);

    /// Both sets together.
    pub fn union(self, other: Drivers) -> Drivers {
        Drivers(self.0 | other.0)
    }

    /// The drivers of `self` not in `other`.
    pub fn without(self, other: Drivers) -> Drivers {
        Drivers(self.0 & !other.0)
    }

    /// Whether the sets share a driver.
    pub fn meets(self, other: Drivers) -> bool {
        self.0 & other.0 != 0
    }
}

/// Scheduler flavor of a runtime instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Tokio's current-thread scheduler (also asyncio's loop, which is single-threaded).
    CurrentThread,
    /// Tokio's multi-thread scheduler.
    MultiThread,
    /// Not known.
    Unknown,
}

/// Which executor drives async code: the library whose scheduler polls the futures.
///
/// Executor-specific APIs (a tokio timer, `asyncio.create_task`) fail under any other executor;
/// code whose executor is `Unknown` is never reported for such a mismatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Executor {
    /// A tokio runtime (either flavor; also actix and ntex, which run on tokio).
    Tokio,
    /// A tokio runtime driving a `LocalSet`, where `spawn_local` works.
    TokioLocal,
    /// The `futures` crate's executors (`futures::executor::block_on`, `LocalPool`) and other
    /// reactor-less single-call executors (`pollster`).
    Futures,
    /// async-std's runtime.
    AsyncStd,
    /// smol / async-executor / futures-lite.
    Smol,
    /// An asyncio event loop.
    Asyncio,
    /// trio's run loop.
    Trio,
    /// anyio's run (on asyncio or trio).
    Anyio,
    /// Not known.
    Unknown,
}

impl Executor {
    /// Whether code running on this executor can use an API that needs executor `need`;
    /// `None` when either side is unknown.
    pub fn provides(self, need: Executor) -> Option<bool> {
        use Executor::*;
        match (self, need) {
            (Unknown, _) | (_, Unknown) => None,
            (a, b) if a == b => Some(true),
            (TokioLocal, Tokio) => Some(true),
            // A set fed a future built elsewhere may run code the analysis places on the plain
            // runtime: `no-runtime-context` decides that case with the paths it knows.
            (Tokio, TokioLocal) => None,
            (Asyncio | Trio, Anyio) => Some(true),
            // anyio runs on a backend the model does not know.
            (Anyio, Asyncio | Trio) => None,
            _ => Some(false),
        }
    }

    /// Whether the executor drives a reactor of its own that resources register with (sockets,
    /// timers): all but the `futures` crate's and the other single-call executors, which only
    /// poll futures. A resource never binds to an executor without one.
    pub fn has_reactor(self) -> bool {
        self != Executor::Futures
    }

    /// How messages name the executor.
    pub fn describe(self) -> &'static str {
        match self {
            Executor::Tokio => "a Tokio runtime",
            Executor::TokioLocal => "a Tokio `LocalSet`",
            Executor::Futures => "the `futures` executor",
            Executor::AsyncStd => "the async-std runtime",
            Executor::Smol => "the smol executor",
            Executor::Asyncio => "an asyncio event loop",
            Executor::Trio => "trio's run loop",
            Executor::Anyio => "an anyio run",
            Executor::Unknown => "an unknown executor",
        }
    }
}

/// A function body and the events in it, in source order.
#[derive(Debug, Clone)]
pub struct Function {
    /// Display name: `PriceBook::refresh`, `main`, `<async block>`, `<closure>`.
    pub name: String,
    /// Language of the body.
    pub language: Language,
    /// Span of the header (name) or, for nested bodies, of the whole closure/block head.
    pub span: Span,
    /// What kind of body this is.
    pub kind: FnKind,
    /// Whether the body runs as a future/coroutine (async fn, async block, coroutine function).
    pub is_async: bool,
    /// Enclosing function, for nested bodies.
    pub parent: Option<FnId>,
    /// How the function is entered from outside, if it is an entry point.
    pub entry: Option<Entry>,
    /// Whether code outside the analysed program may call it (public library API, trait method,
    /// function used as a value). Such a function may run in contexts the analysis cannot see.
    pub callers_unknown: bool,
    /// Whether it is a method of the package's impl of a library trait (`Iterator::next`,
    /// `Log::log`, `Deserialize::deserialize`): its unknown callers are library code that the
    /// package's own calls hand its values to, so they run where the package's calls do.
    pub lib_trait: bool,
    /// Whether library code calls it from the tasks of a runtime it drives (a server calling
    /// `tower::Service::call` of the program's service for each request): it runs in async
    /// context, on a runtime the analysis does not name.
    pub task_call: bool,
    /// Whether the function is test code (`#[test]`, `#[tokio::test]`, `#[cfg(test)]`, pytest).
    pub is_test: bool,
    /// Whether the body never finishes on its own: it ends in (or is) an infinite loop with no
    /// `break`/`return` out of it (`loop { .. }`, `while True:`). Background tasks like this are
    /// meant to be cancelled when their runtime ends.
    pub diverges: bool,
    /// Events of the body, in source order. Nested bodies have their own events.
    pub events: Vec<Event>,
    /// Condition the body exists under: the build configuration of its item and the items
    /// around it (`#[cfg(..)]`), and that of the statement holding a nested body.
    pub when: CondId,
    /// Parameters, when some event's condition tests one (empty otherwise).
    pub params: Vec<Param>,
}

/// One lifecycle-relevant thing that happens in a body.
#[derive(Debug, Clone)]
pub struct Event {
    /// Primary span of the event.
    pub span: Span,
    /// Number of loops enclosing the event inside its function.
    pub loop_depth: u16,
    /// What happens.
    pub kind: EventKind,
    /// Condition the event happens under inside its body: the `#[cfg(..)]` of its statement,
    /// a test of a parameter around it.
    pub when: CondId,
}

// A large program holds hundreds of thousands of events: the largest kinds keep their strings
// without spare capacity (`Box<str>`) and their rare parts behind one pointer, so that an event
// takes 64 bytes.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Event>() <= 64);

/// Which runtime an API call refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeRef {
    /// The runtime bound to a tracked variable (`rt.block_on`, `loop.run_until_complete`).
    Var(VarId),
    /// The runtime the calling code currently runs on (`tokio::spawn`, `Handle::current()`,
    /// `asyncio.create_task`).
    Current,
    /// A fresh runtime the API builds and tears down itself (`asyncio.run`, `futures::executor::block_on`).
    Fresh(Flavor),
    /// A runtime the model cannot identify (a field, a parameter).
    Unknown,
}

/// How a nested body handed to an API is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// The caller blocks until the body completes on the runtime (`block_on`, `asyncio.run`,
    /// `run_until_complete`).
    BlockOn,
    /// The body is spawned as a task on the runtime (`tokio::spawn`, `rt.spawn`, `create_task`).
    Spawn,
    /// The body runs on the runtime's blocking pool (`spawn_blocking`, `asyncio.to_thread`,
    /// `run_in_executor`).
    SpawnBlocking,
    /// The body runs on the current worker, which is allowed to block (`block_in_place`).
    BlockInPlace,
    /// The body runs on a new OS thread, with no runtime (`std::thread::spawn`, `threading.Thread`).
    Thread,
    /// A future/coroutine built here and awaited or driven by whoever polls it (an async block in
    /// a `join!`, a coroutine object passed along). It runs under the runtime of the code that
    /// polls it, which the model takes to be the enclosing code's.
    Future,
    /// A closure called synchronously in the enclosing context (iterator adaptors, callbacks).
    Inline,
    /// A request handler registered with a server framework (`get(handler)`): it runs as a
    /// task of the servers of that framework (`EventKind::Serve`), not where it is registered.
    Handler,
}

/// What becomes of a task's join handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleFate {
    /// The handle is thrown away (`tokio::spawn(..);`, `let _ = ..`, bare `create_task(..)`).
    Discarded,
    /// The handle is bound to a variable; [`Var::reads`] tells whether it is ever looked at.
    Bound(VarId),
    /// The handle is awaited, returned, stored, passed on or otherwise kept.
    Kept,
}

/// Where a runtime-bound resource lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceRef {
    /// Long-lived storage (static, lazy, module global, cached function, class attribute).
    Global(GlobalId),
    /// A local variable.
    Local(VarId),
}

/// The possible targets of a call: one in most calls, a few when the target is ambiguous, held
/// inline up to four (a call event of a large program is one among hundreds of thousands, and a
/// list of its own on the heap for each would cost a block and a pointer chase apiece).
pub type Callees = smallvec::SmallVec<[FnId; 4]>;

/// The kinds of event.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// A call to functions of the program itself (a resolved call edge). Several callees when
    /// the target is ambiguous (a method name on an unknown receiver is not resolved at all).
    Call {
        /// Possible targets.
        callees: Callees,
        /// Variable the call's result is bound to, if any.
        result: Option<VarId>,
    },
    /// A nested body handed to an API that runs it in a given way.
    Run {
        /// The nested body.
        body: FnId,
        /// How the API runs it.
        how: RunKind,
        /// Which runtime runs it (ignored for `Thread`, `Future`, `Inline`).
        runtime: RuntimeRef,
        /// What becomes of the join handle (for `Spawn`; `Kept` otherwise).
        handle: HandleFate,
        /// The API, as the knowledge base names it (`tokio::runtime::Runtime::block_on`).
        api: Box<str>,
    },
    /// A server of a framework starts serving here: the handlers registered with that
    /// framework (`RunKind::Handler`) run on the runtime this code runs on, or on worker
    /// runtimes of the server's own, per the knowledge base.
    Serve {
        /// The API, as the knowledge base names it.
        api: String,
    },
    /// A call that enters a runtime and blocks without a body the model can see:
    /// `reqwest::blocking`, a call of a `#[tokio::main]` function, `loop.run_forever()`.
    BlockingEntry {
        /// The API.
        api: String,
    },
    /// A runtime or event loop is built (`Runtime::new()`, `Builder::..build()`,
    /// `asyncio.new_event_loop()`).
    RuntimeNew {
        /// Variable it is bound to, if any.
        var: Option<VarId>,
        /// Scheduler flavor.
        flavor: Flavor,
        /// Drivers surely left off (a builder chain, seen whole, that never enables them).
        disabled: Drivers,
        /// The API.
        api: String,
    },
    /// A runtime context is entered for the rest of the body (`let _g = rt.enter()`,
    /// `asyncio.set_event_loop(loop)`).
    RuntimeEnter {
        /// Which runtime.
        runtime: RuntimeRef,
        /// The API, as the knowledge base names it (empty when none names it).
        api: String,
    },
    /// A handle to a runtime is taken and bound (`let h = rt.handle().clone()`,
    /// `Handle::current()`).
    HandleOf {
        /// The runtime the handle refers to.
        runtime: RuntimeRef,
        /// Variable the handle is bound to, if any.
        var: Option<VarId>,
    },
    /// A runtime is shut down or closed explicitly (`drop(rt)`, `rt.shutdown_timeout(..)`,
    /// `loop.close()`).
    RuntimeClose {
        /// Which runtime.
        runtime: RuntimeRef,
        /// The API.
        api: String,
    },
    /// A runtime-bound resource is constructed.
    Create {
        /// Where it is stored.
        resource: Option<ResourceRef>,
        /// The constructor, as the knowledge base names it.
        api: Box<str>,
        /// Whether the constructor binds the resource to the running runtime right away
        /// (`TcpStream::connect`, `asyncio.Lock()` before 3.10) rather than on first use.
        binds_now: bool,
        /// The project class whose call made it, when that class derives from the
        /// constructor's type (`ApiClient` for `httpx.AsyncClient`): messages name it. Behind
        /// one thin pointer, as most creations have none.
        made_as: Option<Box<String>>,
    },
    /// A value of a package type that keeps lazily made values of its own is built (a struct
    /// literal with a `OnceLock`, `OnceCell` or `LazyLock` field): the flow follows it so that
    /// what such a field gets made lives as long as the value.
    Instance {
        /// The type, as written.
        ty: String,
    },
    /// A runtime-bound resource is used.
    Use {
        /// The resource.
        resource: ResourceRef,
    },
    /// A resource or runtime variable is closed/released explicitly (`client.aclose()`,
    /// `async with` exit).
    Close {
        /// The resource.
        resource: ResourceRef,
    },
    /// An API that needs a running runtime in the current thread (`tokio::spawn`,
    /// `Handle::current()`, `tokio::time::sleep`, `asyncio.get_running_loop()`).
    NeedsRuntime {
        /// The API.
        api: String,
    },
    /// The body asks whether a runtime is running and handles the answer
    /// (`try: asyncio.get_running_loop() except RuntimeError:`): what it does next depends on
    /// that answer, which the model does not follow, so its runtime entries and needs are
    /// path-dependent.
    RuntimeProbe {
        /// The API that probes.
        api: String,
    },
    /// A blocking call (`std::thread::sleep`, `time.sleep`, `requests.get`).
    Blocking {
        /// The API.
        api: String,
    },
    /// A runtime variable leaves the body (returned, stored in a field, moved into something
    /// that keeps it alive).
    Escape {
        /// The variable.
        var: VarId,
    },
    /// A tracked resource handed by name to a call of a function of the program, which the
    /// value flow follows into the callee: a use here, and an escape only if the callee (or
    /// code it hands the value to) keeps, returns, closes or lets go of it.
    Lend {
        /// The variable.
        var: VarId,
    },
    /// The end of the scope that owns tracked variables: they are dropped here unless moved out.
    ScopeEnd {
        /// Variables dropped at this point.
        vars: Vec<VarId>,
    },
    /// The body waits for spawned work to finish through something other than the task's own
    /// handle: draining a channel in a loop (`while let Some(x) = rx.recv().await`), joining a
    /// set or a group (`JoinSet::join_next`, `join_all`, `asyncio.gather`, `TaskGroup` exit,
    /// `queue.join()`), or waiting for a shutdown signal (`ctrl_c().await`).
    Wait {
        /// How the wait relates to tasks whose handles were dropped.
        kind: WaitKind,
        /// What is waited on, for messages.
        what: String,
    },
    /// The code in the event's span is asserted to fail: the body of a `#[should_panic]` test, the
    /// block of `with pytest.raises(E):` or `with self.assertRaises(E):`. A failure the rules
    /// find there is expected by the test.
    ExpectsFailure {
        /// What the assertion accepts: exception class names (Python), or the substring the
        /// panic message must contain (`#[should_panic(expected = "..")]`); empty for any
        /// failure.
        what: Vec<String>,
        /// How the test observes the failure.
        how: Asserted,
    },
    /// A hygiene finding detected during lowering that needs no flow facts (for example
    /// `nest_asyncio.apply()`, a `loop=` argument). `rule` is the rule id.
    Hygiene {
        /// Rule id, e.g. `loop-patching`.
        rule: &'static str,
        /// Message of the finding.
        message: Box<str>,
    },
}

/// How a test observes the failure it asserts (see [`EventKind::ExpectsFailure`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asserted {
    /// The code panics or raises (`#[should_panic]`, `pytest.raises`, `catch_unwind`).
    Fails,
    /// The expression's `Result` is an `Err` (`assert!(x.is_err())`, `x.unwrap_err()`): the
    /// failure is an error the call returns, not a panic, which would fail the test.
    ErrResult,
    /// The task or thread whose join handle is bound to this variable fails: awaiting or
    /// joining the handle gives an error (`assert!(h.await.is_err())`), so a panic in its body
    /// is what the test expects.
    Task(VarId),
}

/// How a [`EventKind::Wait`] waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitKind {
    /// Drains a channel or queue until every producer is gone (`while let Some(x) = rx.recv().await`,
    /// `queue.join()`): detached producers finish before it ends.
    Drain,
    /// Waits for a shutdown signal or forever (`ctrl_c().await`, `pending().await`,
    /// `Event.wait()`): the runtime lives as long as the process is meant to.
    Signal,
    /// Joins explicit tasks or futures (`join_all(handles)`, `asyncio.gather(a, b)`,
    /// `JoinSet::join_next`): covers only what it is given.
    Join,
    /// Serves input from outside the body (`listener.accept().await`, a loop reading a stream
    /// until it ends): the body lasts as long as whoever feeds it, like a server; it waits
    /// for no task of its own.
    Serve,
}

/// What kind of thing a tracked variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// A runtime or event loop.
    Runtime,
    /// A handle to a runtime.
    Handle,
    /// A runtime-bound resource.
    Resource,
    /// A task join handle.
    Task,
    /// Anything else the frontend chose to track.
    Other,
}

/// A tracked local variable.
#[derive(Debug, Clone)]
pub struct Var {
    /// Source name.
    pub name: String,
    /// Function that owns the binding.
    pub owner: FnId,
    /// Span of the binding.
    pub span: Span,
    /// What it holds.
    pub kind: VarKind,
    /// Number of times the variable is read after its binding (in any body).
    pub reads: u32,
    /// Whether the value is awaited, joined, passed on, returned or stored somewhere that may
    /// wait for it. For join handles: someone may wait for the task. Reads that only inspect
    /// it (`handle.is_finished()`, `task.done()`) do not count.
    pub consumed: bool,
    /// Whether the binding holds a value made right there by a call (`LocalSet::new()`), not
    /// one that another place already held (a field, a reference, a parameter).
    pub fresh: bool,
}

/// How long-lived storage is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageKind {
    /// `static`, `Lazy`, `LazyLock`, `OnceLock`, `OnceCell`, `lazy_static!`.
    Static,
    /// `thread_local!`: one value per thread.
    ThreadLocal,
    /// A module-level global (Python).
    ModuleGlobal,
    /// A class attribute or an attribute of an object created at module level.
    ClassAttr,
    /// A cached function result (`functools.cache`, `@st.cache_resource`).
    Cached,
    /// A pytest fixture with a scope wider than one test.
    Fixture,
}

/// A long-lived storage slot holding a runtime-bound resource.
#[derive(Debug, Clone)]
pub struct Global {
    /// Source name (`CLIENT`, `http`).
    pub name: String,
    /// Span of the declaration.
    pub span: Span,
    /// How it is kept.
    pub storage: StorageKind,
    /// The runtime-bound type or constructor it holds (`reqwest::Client`).
    pub api: String,
    /// Body that initialises it, if it is a lowered function (a `Lazy::new` closure, the module
    /// body for a Python global).
    pub init: Option<FnId>,
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::CurrentThread => "current-thread",
            Flavor::MultiThread => "multi-thread",
            Flavor::Unknown => "unknown-flavor",
        })
    }
}
