//! The knowledge base: which library APIs enter, build, close or need a runtime, which spawn,
//! which block, and which types are bound to a runtime.
//!
//! The data lives in `rules/knowledge/*.toml` (one file per ecosystem), embedded at build time.
//! Frontends resolve names against it; no code under `src/` hard-codes a library path.

use rustc_hash::FxHashMap as HashMap;

use serde::Deserialize;

use crate::model::{Drivers, Executor, Flavor, Language};

/// What an API does to the runtime lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Concept {
    /// Builds a runtime or event loop (`Runtime::new`, `asyncio.new_event_loop`).
    RuntimeNew,
    /// A builder step towards a runtime (`Builder::new_current_thread`); `build()` completes it.
    RuntimeBuilder,
    /// Blocks the calling thread until a future completes on a runtime.
    BlockOn,
    /// Enters a runtime and blocks, with no body the model can see (`reqwest::blocking`).
    BlockingEntry,
    /// Spawns a task on a runtime.
    Spawn,
    /// Runs a closure on the runtime's blocking pool.
    SpawnBlocking,
    /// Runs a closure on the current worker, allowed to block.
    BlockInPlace,
    /// Runs a closure on a new OS thread.
    Thread,
    /// Runs the future it is handed when the returned future is polled, on the task that
    /// polls it, inside a context the API sets up (`LocalSet::run_until`): see `layer`.
    RunFuture,
    /// Returns a handle to a runtime (`rt.handle()`, `Handle::current()`).
    Handle,
    /// Enters a runtime context for the rest of the scope (`rt.enter()`, `set_event_loop`).
    RuntimeEnter,
    /// Shuts a runtime down or closes a loop.
    RuntimeClose,
    /// Needs a runtime running in the current thread, or panics/raises.
    NeedsRuntime,
    /// Constructs a resource bound to the runtime it is first used on (or created on).
    RuntimeBound,
    /// A type or constructor that is explicitly runtime-agnostic (documentation; never flagged).
    RuntimeAgnostic,
    /// Returns a value that draws on the value it is given (argument `arg`, or `keyword`): the
    /// value, and what calling it makes, use what that argument holds
    /// (`async_sessionmaker(engine)`: its sessions take connections from the engine's pool).
    Derived,
    /// Blocks the calling thread (I/O, sleep, subprocess).
    Blocking,
    /// Does no blocking work although a `blocking` prefix entry covers it (a constructor or
    /// builder step such as `std::fs::OpenOptions::new`): the call that does the I/O is flagged.
    NonBlocking,
    /// Patches the event loop to allow nesting (`nest_asyncio.apply`).
    LoopPatching,
    /// Deprecated loop API.
    Deprecated,
    /// Closes a runtime-bound resource (`aclose`, `close`).
    ResourceClose,
    /// Waits for the tasks or futures it is given (`asyncio.gather`, `join_all`).
    WaitJoin,
    /// Drains a queue or channel until every producer is done (`asyncio.Queue.join`).
    WaitDrain,
    /// Waits for a shutdown signal or forever (`asyncio.Event.wait`, `anyio.sleep_forever`).
    WaitSignal,
    /// A context manager asserting that its block raises (`pytest.raises`, `assertRaises`).
    ExpectsFailure,
    /// Registers the function it is given as a request handler of a server framework
    /// (`framework`): the handler runs as a task of whatever serves that framework's routes
    /// (axum's `get(handler)`, actix-web's `web::get().to(handler)`).
    Handler,
    /// Serves the handlers registered with its framework (`framework`): they run on the runtime
    /// that runs this call (`axum::serve`), or, when the entry names a `flavor`, on worker
    /// runtimes of that flavor the server builds for itself (actix-web's `HttpServer`).
    Serve,
    /// A library class whose constructor calls methods that a subclass may define
    /// (`socketserver.BaseRequestHandler` calls `setup`, `handle` and `finish`): calling a
    /// project class derived from it calls the project's methods named in `methods`.
    CallsMethods,
    /// A test client of an ASGI app (Starlette's `TestClient`): not entered as a context
    /// manager, it serves each request on an event loop of its own, made for the request
    /// and closed after it; entered (`with TestClient(app) as c:`), one loop serves the block.
    TestClient,
    /// Reads a resource's own state without touching its runtime (`session.closed`,
    /// `client.is_closed`, `pool.is_closing()`): the test that a lazy accessor makes before it
    /// refills a closed resource, not a use of it.
    StateCheck,
    /// A builtin that calls special methods (`methods`, in order) of the object it is given as
    /// argument `arg` (`len(x)` calls `x.__len__()`, `list(x)` calls `x.__iter__()` and then
    /// `__next__`): on an instance of a project class, calls of the class's methods.
    CallsSpecial,
    /// A context manager that hands back the object it is given (argument `arg`) and closes
    /// it when the block ends (`contextlib.closing(loop) as l`: `l` is `loop`, closed at exit).
    ClosesAtExit,
    /// Calls the callable it is given (argument `arg`, or `keyword`) on the calling thread, in
    /// the caller's context, before it returns (`sorted(xs, key=f)`, `functools.reduce(f, xs)`,
    /// `contextvars.Context.run(f)`): the callable runs inline, where the call is made. With
    /// `consumed`, the call returns a lazy iterator (`map`, `filter`) that calls it only as it
    /// is consumed, which counts only where the code consumes it right there.
    CallsInPlace,
}

/// Which runtime a `block-on` or `spawn` API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeArg {
    /// The runtime of the receiver (`rt.block_on`).
    #[default]
    Receiver,
    /// The runtime the calling code runs on (`tokio::spawn`).
    Current,
    /// A fresh runtime made for this call (`asyncio.run`).
    Fresh,
    /// The runtime passed as the first argument (`local_set.block_on(&rt, fut)`).
    Argument,
}

/// How an entry's `path` is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Match {
    /// The whole path.
    #[default]
    Exact,
    /// Any path that starts with `path` followed by a separator.
    Prefix,
}

/// Scheduler flavor as written in the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlavorName {
    /// Current-thread.
    CurrentThread,
    /// Multi-thread.
    MultiThread,
}

/// A runtime driver as written in the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverName {
    /// The timer.
    Time,
    /// The I/O reactor (sockets, signals, child processes).
    Io,
}

impl DriverName {
    /// The driver in model terms.
    pub fn model(self) -> Drivers {
        match self {
            DriverName::Time => Drivers::TIME,
            DriverName::Io => Drivers::IO,
        }
    }
}

/// What an API that runs a callable passes it from the call's positional arguments after
/// the callable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Passes {
    /// The arguments themselves, in order.
    Rest,
    /// One element of each argument, an iterable, per call.
    Items,
}

/// Executor as written in the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutorName {
    /// A tokio runtime.
    Tokio,
    /// A tokio `LocalSet`.
    TokioLocal,
    /// The `futures` crate's executors and other reactor-less ones.
    Futures,
    /// async-std.
    AsyncStd,
    /// smol and async-executor.
    Smol,
    /// An asyncio event loop.
    Asyncio,
    /// trio.
    Trio,
    /// anyio (on asyncio or trio).
    Anyio,
}

impl ExecutorName {
    /// The executor in model terms.
    pub fn model(self) -> Executor {
        match self {
            ExecutorName::Tokio => Executor::Tokio,
            ExecutorName::TokioLocal => Executor::TokioLocal,
            ExecutorName::Futures => Executor::Futures,
            ExecutorName::AsyncStd => Executor::AsyncStd,
            ExecutorName::Smol => Executor::Smol,
            ExecutorName::Asyncio => Executor::Asyncio,
            ExecutorName::Trio => Executor::Trio,
            ExecutorName::Anyio => Executor::Anyio,
        }
    }
}

/// What a `needs-runtime` API needs of the calling thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeedLevel {
    /// A loop running on this thread right now (`asyncio.create_task`, `get_running_loop`).
    Running,
    /// A runtime context: running, or entered (`rt.enter()`, `set_event_loop`) without running
    /// (tokio's `spawn`, timers and sockets).
    Current,
    /// A current loop, or the process's main thread, where one is made on demand
    /// (`asyncio.get_event_loop()` outside a coroutine, before Python 3.14).
    CurrentOrMain,
}

/// One API in the knowledge base.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Fully qualified path (`tokio::runtime::Runtime::block_on`, `asyncio.run`). Methods are
    /// written as `Type::method` (Rust) or `module.Type.method` (Python).
    pub path: String,
    /// What it does.
    pub concept: Concept,
    /// How `path` is matched.
    #[serde(default, rename = "match")]
    pub matching: Match,
    /// Runtime flavor: for runtime builders, the flavor they build; for `needs-runtime` APIs,
    /// the only flavor they work on (`tokio::time::pause` needs a current-thread runtime).
    #[serde(default)]
    pub flavor: Option<FlavorName>,
    /// For methods wrapping a future: the wrapped future is polled inside the receiver
    /// runtime's context, whichever executor blocks on it (tokio-util's `rt.wrap(fut)`).
    #[serde(default)]
    pub polls_in_receiver: bool,
    /// For runtime builder methods: the drivers they turn on (`enable_all`, `enable_time`).
    #[serde(default)]
    pub enables: Vec<DriverName>,
    /// For `needs-runtime` APIs: the runtime driver they register with, which a runtime built
    /// without it lacks (`tokio::time::sleep` needs the timer).
    #[serde(default)]
    pub driver: Option<DriverName>,
    /// Which runtime a block-on/spawn uses.
    #[serde(default)]
    pub runtime: RuntimeArg,
    /// For methods: also match the method name when the receiver's type is unknown. Only for
    /// names that are distinctive (`block_on`, `run_until_complete`).
    #[serde(default)]
    pub any_receiver: bool,
    /// For runtime-bound constructors: bound at construction rather than on first use.
    #[serde(default)]
    pub binds_now: bool,
    /// For runtime-bound constructors: the object opens nothing until it is first used (a pool
    /// or client that connects on its first command), so one made and never used holds
    /// nothing to close.
    #[serde(default)]
    pub lazy: bool,
    /// For runtime-bound constructors of clients: keywords that hand the client a connection
    /// (a pool, an HTTP client) the caller made and closes. A client made with one of them
    /// given (and not `None`) holds nothing of its own that needs closing.
    #[serde(default)]
    pub borrows: Vec<String>,
    /// For clients that borrow: keyword arguments that must also be given, with these literal
    /// values, for `borrows` to apply (`connector_owner=False`).
    #[serde(default)]
    pub borrows_when: Vec<String>,
    /// For clients that borrow: the connection they borrow stays the caller's to close, since
    /// closing the client does not close it (aiohttp's `connector_owner=False`). Without it,
    /// the connection counts as handed over to the client.
    #[serde(default)]
    pub borrowed_stays: bool,
    /// For closers of runtime-bound resources: the resource stays usable, tied to no runtime
    /// until its next use (`AsyncEngine.dispose` closes the pooled connections; the next use
    /// opens new ones on the loop that runs it).
    #[serde(default)]
    pub resets: bool,
    /// For `handler` and `serve` APIs: the server framework they belong to; a handler runs
    /// where the serving calls of its framework run it.
    #[serde(default)]
    pub framework: Option<String>,
    /// For runtime-bound constructors: keyword arguments (`name=value`, the value a dotted path
    /// or a literal) that make the value bound to no runtime (`poolclass=sqlalchemy.pool.NullPool`:
    /// an engine that keeps no connection between uses).
    #[serde(default)]
    pub unbound_when: Vec<String>,
    /// For closers of clients whose borrowed connection stays the caller's: the closer's
    /// parameters, in order, that make it release that connection too when given a value other
    /// than `False` or `None` by keyword or by position (redis's
    /// `aclose(close_connection_pool=True)`).
    #[serde(default)]
    pub closes_borrowed: Vec<String>,
    /// For blocking calls: the async counterpart that a fix uses instead (`asyncio.sleep`).
    #[serde(default)]
    pub instead: Option<String>,
    /// For runtime closers: the runtime winds down in the background, without blocking or
    /// dropping it on the calling thread (`Runtime::shutdown_background`).
    #[serde(default)]
    pub background: bool,
    /// For runtime closers that take a timeout: with a literal zero duration they wait for
    /// nothing, like a background shutdown (`rt.shutdown_timeout(Duration::ZERO)`).
    #[serde(default)]
    pub background_when_zero: bool,
    /// For types: the type's name when a constructor returns a type of another name
    /// (`Builder::build` returns `Runtime`).
    #[serde(default)]
    pub returns: Option<String>,
    /// For APIs that take a body (a coroutine, a future or a callable): the position of the
    /// argument that holds it (`Thread(group, target)` is 1, `asyncio.run(main())` is 0).
    #[serde(default)]
    pub arg: u32,
    /// For APIs that take a body: the keyword that may pass it instead (`target`).
    #[serde(default)]
    pub keyword: Option<String>,
    /// For APIs that take a body: only `keyword` passes it, no position does (`key=` of
    /// `sorted(xs, key=f)`).
    #[serde(default)]
    pub keyword_only: bool,
    /// For `calls-methods` classes: the methods their constructor calls on the new instance, in
    /// order; a name ending in `*` stands for every method whose name starts with what comes
    /// before it (`do_*`: `do_GET`, `do_POST`). For `calls-special` builtins: the special
    /// methods called on argument `arg`.
    #[serde(default)]
    pub methods: Vec<String>,
    /// For spawn APIs: the spawner itself keeps and joins the task (`TaskGroup.create_task`,
    /// a trio nursery's `start_soon`), so the task's handle is never lost.
    #[serde(default)]
    pub joins: bool,
    /// For `thread` APIs: the library runs the callable later on the process's main thread
    /// rather than on a thread of its own, once the program's own code has finished
    /// (`atexit.register`: at interpreter exit, after the main module, and any loop it ran,
    /// returned). No loop runs there, but it is the main thread.
    #[serde(default)]
    pub main_thread: bool,
    /// For spawn APIs: the body is a callback the loop calls once (`loop.call_soon`,
    /// `Future.add_done_callback`), not a task of its own; findings name it so.
    #[serde(default)]
    pub callback: bool,
    /// For APIs that run a body: the library runs it once per item of an iterable it is given
    /// (`Executor.map(f, items)`, a parallel iterator's `for_each`), so the run sits in a loop
    /// and what the body makes (a loop, a runtime) is made anew for each item.
    #[serde(default)]
    pub per_item: bool,
    /// For `calls-in-place` APIs: the call returns a lazy iterator that calls the callable as
    /// it is consumed (`map`, `filter`): the call counts only as the iterable of a `for` or of a
    /// builtin that consumes it (`list(map(f, xs))`).
    #[serde(default)]
    pub consumed: bool,
    /// For Python APIs that run a callable: what the library hands it from the call's own
    /// positional arguments after the callable (`rest`: those arguments, as
    /// `executor.submit(f, a, b)` calls `f(a, b)`; `items`: one element of each iterable, as
    /// `executor.map(f, xs)` calls `f(x)` per element). Absent: the flow does not bind them.
    #[serde(default)]
    pub passes: Option<Passes>,
    /// For runtime builders and fresh block-ons: the executor that runs the code. For APIs that
    /// need a runtime or spawn on the current one: the executor they need. Defaults to the
    /// file's `executor`.
    #[serde(default)]
    pub executor: Option<ExecutorName>,
    /// For runtime-bound resources: the executor whose reactor or timer the resource registers
    /// with, when it is made (`binds_now`: `TcpStream::connect`) or else each time it is used
    /// (a reqwest client's connector opens Tokio sockets on the task that sends). Async code
    /// doing that on another executor panics: "there is no reactor running, must be called
    /// from the context of a Tokio 1.x runtime". Absent when the resource works under several
    /// executors, or when what it does once made runs on a task of its own (a tonic channel's
    /// buffer worker, the connection task of a `tokio_postgres::Client`).
    #[serde(default)]
    pub reactor: Option<ExecutorName>,
    /// For APIs that run a body or enter a context: the executor they set up on top of the
    /// runtime the code runs on (`tokio-local`: a tokio `LocalSet`, where `spawn_local` works).
    /// The body runs under it (`run_until`, `LocalSet::block_on`, `LocalSet::spawn_local`), or
    /// the code after the call does (`LocalSet::enter`).
    #[serde(default)]
    pub layer: Option<ExecutorName>,
    /// For `needs-runtime` APIs: what they need of the thread. Defaults to the file's `needs`,
    /// then to `current`.
    #[serde(default)]
    pub needs: Option<NeedLevel>,
    /// For `needs-runtime` APIs: the position of an argument that, when given, names the loop
    /// explicitly so that no running loop is needed (`asyncio.all_tasks(loop)`).
    #[serde(default)]
    pub unless_arg: Option<u32>,
    /// For `needs-runtime` APIs: a keyword that, when given, names the loop explicitly
    /// (`loop=`).
    #[serde(default)]
    pub unless_keyword: Option<String>,
    /// For `blocking` APIs: the position of a host argument (also passed as `host=`) that,
    /// given as an IP address literal, needs no name lookup (`getaddrinfo("127.0.0.1", 80)`).
    #[serde(default)]
    pub unless_ip_literal: Option<u32>,
    /// For `blocking` APIs whose only wait is the name lookup of an address argument (binding
    /// a socket): that argument's position. The call blocks only when the argument is a host
    /// name: a string that is not an IP address (`"localhost:8080"`); an address value or an
    /// IP literal (`"127.0.0.1:0"`, `SocketAddr::new(..)`, `(ip, 0)`) needs no lookup.
    #[serde(default)]
    pub resolves_arg: Option<u32>,
    /// For `blocking` APIs: a flag that makes the call return without waiting when the call's
    /// arguments name it (directly or through a module constant made from it), or the
    /// arguments of the call that made its receiver in the same body do
    /// (`getaddrinfo(.., flags=AI_NUMERICHOST)`; `connect` on a `SOCK_DGRAM` socket).
    #[serde(default)]
    pub unless_flag: Option<String>,
    /// For calls that configure a handle or a builder of handles (`non-blocking` entries): a
    /// word that, named in the call's arguments, puts the receiver in non-blocking mode
    /// (`O_NONBLOCK` in `OpenOptions::custom_flags`, `true` in `set_nonblocking`). Calls on
    /// that value, and the handles such a builder opens, then return without waiting.
    #[serde(default)]
    pub nonblocking_when: Option<String>,
    /// For readiness waits (`trio.lowlevel.wait_readable(sock)`): the position of the socket
    /// argument. Code that waits for a socket to be ready drives it in non-blocking mode, so
    /// the calls later made on that socket in the body return without waiting.
    #[serde(default)]
    pub readies: Option<u32>,
    /// For `needs-runtime` APIs: the need applies when the returned future is polled, not at
    /// the call (`tokio::fs::read`), so building it in sync code is harmless.
    #[serde(default)]
    pub polled: bool,
    /// For block-on and blocking-entry APIs: what happens when the call is reached from code
    /// a loop or runtime is already running, as the finding's note says it (the exception and
    /// its message).
    #[serde(default)]
    pub nested: String,
    /// Why the entry is here.
    #[serde(default)]
    pub note: String,
    /// Language, filled from the file.
    #[serde(skip, default = "default_lang")]
    pub language: Language,
}

fn default_lang() -> Language {
    Language::Rust
}

impl Api {
    /// The executor of this entry in model terms.
    pub fn model_executor(&self) -> Executor {
        self.executor.map_or(Executor::Unknown, ExecutorName::model)
    }

    /// The drivers this builder method turns on.
    pub fn model_enables(&self) -> Drivers {
        self.enables
            .iter()
            .fold(Drivers::NONE, |d, e| d.union(e.model()))
    }

    /// The runtime flavor of this entry in model terms.
    pub fn model_flavor(&self) -> Flavor {
        match self.flavor {
            Some(FlavorName::CurrentThread) => Flavor::CurrentThread,
            Some(FlavorName::MultiThread) => Flavor::MultiThread,
            None => Flavor::Unknown,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbFile {
    language: String,
    #[serde(default)]
    #[allow(dead_code)]
    ecosystem: String,
    /// Default executor of the file's entries.
    #[serde(default)]
    executor: Option<ExecutorName>,
    /// Default need of the file's `needs-runtime` entries.
    #[serde(default)]
    needs: Option<NeedLevel>,
    #[serde(default)]
    api: Vec<Api>,
    #[serde(default)]
    channel: Vec<Channel>,
    #[serde(default)]
    impl_call: Vec<ImplCall>,
    #[serde(default)]
    task_call: Vec<TaskCall>,
    #[serde(default)]
    derive: Vec<Derive>,
}

/// Library generic code that calls a trait method of a type the program chooses: the impl
/// the program writes for that type runs inside the library call (`serde_json::from_str`
/// calls `Deserialize::deserialize` of the type it returns; `log::info!` calls `Log::log` of
/// the logger the program installs).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplCall {
    /// Full paths of the functions (or macros) that make the call.
    pub paths: Vec<String>,
    /// The trait (last segment of its path).
    #[serde(rename = "trait")]
    pub trait_: String,
    /// The trait method called.
    pub method: String,
    /// Whose impl runs.
    pub of: ImplOf,
    /// For `installed`: the functions that install a value implementing the trait
    /// (`log::set_logger`); without a call of one, no impl is called.
    #[serde(default)]
    pub installers: Vec<String>,
    /// The file's language (set on loading).
    #[serde(skip, default = "default_lang")]
    pub language: Language,
}

/// Library traits whose methods the library calls from the tasks of a runtime it drives (a
/// server calls `tower::Service::call` of the program's service for each request): the
/// program's impls of those methods run in async context.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCall {
    /// Full paths of the traits.
    pub traits: Vec<String>,
    /// The methods called there.
    pub methods: Vec<String>,
    /// The file's language (set on loading).
    #[serde(skip, default = "default_lang")]
    pub language: Language,
}

/// Whose impl of the trait an [`ImplCall`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImplOf {
    /// The type the call returns, named by a turbofish or the annotation of the `let` that
    /// binds the result (through `?`, `unwrap`, `expect` or a `match` on `Ok`).
    Result,
    /// Every impl in the program, once the program installs a value of the trait
    /// (a logger: a process has one, installed once).
    Installed,
    /// The arguments a formatting macro formats (`println!("{}", x)`, `{x}` captured by the
    /// format string): `Display::fmt` of each one a `{}` formats, `Debug::fmt` of each one a
    /// `{:?}` formats. The entry's trait and method name the first.
    FormatArgs,
}

/// A derive macro that implements a trait by calling the same trait method of every field's
/// type (`#[derive(Deserialize)]`, `#[derive(Default)]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    /// The derive's name as written in `#[derive(..)]` (last segment).
    pub name: String,
    /// The trait it implements (last segment).
    #[serde(rename = "trait")]
    pub trait_: String,
    /// The trait method it writes, which calls each field type's.
    pub method: String,
    /// Whether the derive applies to enums too (their variants' fields).
    #[serde(default)]
    pub enums: bool,
    /// The file's language (set on loading).
    #[serde(skip, default = "default_lang")]
    pub language: Language,
}

/// A family of channels: the functions that make a sender and receiver pair, the methods that
/// send a value on the sender, and those that hand a value out of the receiver.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// Full paths of the functions that return `(sender, receiver)`.
    pub makers: Vec<String>,
    /// Sender methods that take the value to send as their one argument.
    pub sends: Vec<String>,
    /// Receiver methods whose result is (or wraps) a value sent.
    pub receives: Vec<String>,
    /// The type of the receiving half that the makers return, when the family names it: the
    /// receiver a `let (tx, rx) = maker()` binds is of this type, so its methods are looked up.
    #[serde(default)]
    pub receiver: Option<String>,
    /// The file's language (set on loading).
    #[serde(skip, default = "default_lang")]
    pub language: Language,
}

/// The embedded knowledge files, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("tokio.toml", include_str!("../rules/knowledge/tokio.toml")),
    ("std.toml", include_str!("../rules/knowledge/std.toml")),
    (
        "thread-pools.toml",
        include_str!("../rules/knowledge/thread-pools.toml"),
    ),
    (
        "trait-calls.toml",
        include_str!("../rules/knowledge/trait-calls.toml"),
    ),
    (
        "web-frameworks.toml",
        include_str!("../rules/knowledge/web-frameworks.toml"),
    ),
    (
        "futures.toml",
        include_str!("../rules/knowledge/futures.toml"),
    ),
    (
        "http-clients.toml",
        include_str!("../rules/knowledge/http-clients.toml"),
    ),
    (
        "databases.toml",
        include_str!("../rules/knowledge/databases.toml"),
    ),
    (
        "other-runtimes.toml",
        include_str!("../rules/knowledge/other-runtimes.toml"),
    ),
    (
        "asyncio.toml",
        include_str!("../rules/knowledge/asyncio.toml"),
    ),
    (
        "python-libs.toml",
        include_str!("../rules/knowledge/python-libs.toml"),
    ),
    (
        "python-blocking.toml",
        include_str!("../rules/knowledge/python-blocking.toml"),
    ),
    (
        "python-callbacks.toml",
        include_str!("../rules/knowledge/python-callbacks.toml"),
    ),
];

/// The loaded knowledge base, indexed for lookups by path and by method name.
#[derive(Debug, Default, Clone)]
pub struct Kb {
    exact: HashMap<(Language, String), Vec<usize>>,
    prefix: Vec<usize>,
    by_method: HashMap<(Language, String), Vec<usize>>,
    /// The method names that some type's entry marks as a state check, numbered.
    state_methods: HashMap<(Language, String), u16>,
    /// The names of `state_methods`, by number.
    state_method_names: Vec<String>,
    apis: Vec<Api>,
    channels: Vec<Channel>,
    impl_calls: Vec<ImplCall>,
    task_calls: Vec<TaskCall>,
    derives: Vec<Derive>,
}

/// An error in a knowledge file.
#[derive(Debug)]
pub struct KbError {
    /// File name.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for KbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl Kb {
    /// The built-in knowledge base. Panics only if the embedded data is malformed, which the
    /// test suite rules out.
    pub fn builtin() -> Kb {
        let mut kb = Kb::default();
        for (name, text) in BUILTIN {
            kb.add_file(name, text)
                .expect("embedded knowledge base parses");
        }
        kb
    }

    /// Adds the entries of one TOML knowledge file.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), KbError> {
        let file: KbFile = toml::from_str(text).map_err(|e| KbError {
            file: name.to_string(),
            message: e.to_string(),
        })?;
        let language = match file.language.as_str() {
            "rust" => Language::Rust,
            "python" => Language::Python,
            other => {
                return Err(KbError {
                    file: name.to_string(),
                    message: format!("unknown language `{other}`"),
                });
            }
        };
        for mut channel in file.channel {
            channel.language = language;
            self.channels.push(channel);
        }
        for mut call in file.impl_call {
            call.language = language;
            self.impl_calls.push(call);
        }
        for mut call in file.task_call {
            call.language = language;
            self.task_calls.push(call);
        }
        for mut derive in file.derive {
            derive.language = language;
            self.derives.push(derive);
        }
        for mut api in file.api {
            api.language = language;
            api.executor = api.executor.or(file.executor);
            api.needs = api.needs.or(file.needs);
            self.add(api);
        }
        Ok(())
    }

    /// Adds one entry (used for project-declared APIs too).
    pub fn add(&mut self, api: Api) {
        let idx = self.apis.len();
        match api.matching {
            Match::Exact => self
                .exact
                .entry((api.language, api.path.clone()))
                .or_default()
                .push(idx),
            Match::Prefix => self.prefix.push(idx),
        }
        if api.any_receiver {
            let method = last_segment(api.language, &api.path).to_string();
            self.by_method
                .entry((api.language, method))
                .or_default()
                .push(idx);
        }
        if api.concept == Concept::StateCheck
            && self.state_method_names.len() < usize::from(u16::MAX)
        {
            let method = last_segment(api.language, &api.path).to_string();
            let next = self.state_method_names.len() as u16;
            if let std::collections::hash_map::Entry::Vacant(e) =
                self.state_methods.entry((api.language, method.clone()))
            {
                e.insert(next);
                self.state_method_names.push(method);
            }
        }
        self.apis.push(api);
    }

    /// The number of a method name that some type's entry marks as a state check (`put` of
    /// `asyncio.Queue`): a call of it is no use of a value of that type.
    pub fn state_method(&self, language: Language, method: &str) -> Option<u16> {
        self.state_methods
            .get(&(language, method.to_string()))
            .copied()
    }

    /// Whether the method numbered `method` (see [`Kb::state_method`]) is a state check of
    /// the type whose constructor is `ctor`.
    pub fn checks_state(&self, language: Language, ctor: &str, method: u16) -> bool {
        let Some(name) = self.state_method_names.get(usize::from(method)) else {
            return false;
        };
        let path = format!("{ctor}{}{name}", separator(language));
        self.lookup(language, &path)
            .iter()
            .any(|a| a.concept == Concept::StateCheck)
    }

    /// All entries.
    pub fn apis(&self) -> &[Api] {
        &self.apis
    }

    /// All channel families.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// The trait methods that library generic code at `path` calls (see [`ImplCall`]).
    pub fn impl_calls(&self, language: Language, path: &str) -> Vec<&ImplCall> {
        self.impl_calls
            .iter()
            .filter(|c| c.language == language && c.paths.iter().any(|p| p == path))
            .collect()
    }

    /// Every library trait call of a language.
    pub fn impl_call_entries(&self, language: Language) -> impl Iterator<Item = &ImplCall> {
        self.impl_calls
            .iter()
            .filter(move |c| c.language == language)
    }

    /// The trait whose values the function at `path` installs (`log::set_logger`: `Log`).
    pub fn installs(&self, language: Language, path: &str) -> Option<&str> {
        self.impl_calls
            .iter()
            .find(|c| c.language == language && c.installers.iter().any(|p| p == path))
            .map(|c| c.trait_.as_str())
    }

    /// Whether library code calls `method` of impls of the trait at full path `trait_path` from
    /// the tasks of a runtime (see [`TaskCall`]).
    pub fn task_call(&self, language: Language, trait_path: &str, method: &str) -> bool {
        self.task_calls.iter().any(|c| {
            c.language == language
                && c.traits.iter().any(|t| t == trait_path)
                && c.methods.iter().any(|m| m == method)
        })
    }

    /// The derive macros that call their trait method on every field.
    pub fn derives(&self, language: Language) -> impl Iterator<Item = &Derive> {
        self.derives.iter().filter(move |d| d.language == language)
    }

    /// Entries whose path is exactly `path`, or a prefix of it.
    pub fn lookup(&self, language: Language, path: &str) -> Vec<&Api> {
        let mut out: Vec<&Api> = self
            .exact
            .get(&(language, path.to_string()))
            .map(|v| v.iter().map(|&i| &self.apis[i]).collect())
            .unwrap_or_default();
        let sep = separator(language);
        for &i in &self.prefix {
            let api = &self.apis[i];
            if api.language == language
                && path.len() > api.path.len()
                && path.starts_with(api.path.as_str())
                && (path[api.path.len()..].starts_with(sep) || api.path.ends_with(sep))
            {
                out.push(api);
            }
        }
        // Among the entries that say whether the call blocks, the most specific path decides
        // (`reqwest::blocking` blocks, its `RequestBuilder` does not, but its `send` does); at
        // one length, a non-blocking entry wins.
        let blocking_family = |a: &Api| {
            matches!(
                a.concept,
                Concept::Blocking | Concept::BlockingEntry | Concept::NonBlocking
            )
        };
        if out.iter().any(|a| a.concept == Concept::NonBlocking) {
            let longest = out
                .iter()
                .filter(|a| blocking_family(a))
                .map(|a| a.path.len())
                .max()
                .unwrap_or(0);
            let non_blocking_there = out
                .iter()
                .any(|a| a.concept == Concept::NonBlocking && a.path.len() == longest);
            out.retain(|a| {
                !blocking_family(a)
                    || (a.path.len() == longest
                        && (a.concept == Concept::NonBlocking || !non_blocking_there))
            });
        }
        out
    }

    /// The first entry for `path` with the given concept.
    pub fn find(&self, language: Language, path: &str, concept: Concept) -> Option<&Api> {
        self.lookup(language, path)
            .into_iter()
            .find(|a| a.concept == concept)
    }

    /// Entries for a method called on a receiver of unknown type, matched by name alone
    /// (only entries marked `any_receiver`).
    pub fn lookup_method_name(&self, language: Language, method: &str) -> Vec<&Api> {
        self.by_method
            .get(&(language, method.to_string()))
            .map(|v| v.iter().map(|&i| &self.apis[i]).collect())
            .unwrap_or_default()
    }
}

/// Path separator of a language (`::` or `.`).
pub fn separator(language: Language) -> &'static str {
    match language {
        Language::Rust => "::",
        Language::Python => ".",
    }
}

/// Last segment of a path.
pub fn last_segment(language: Language, path: &str) -> &str {
    let sep = separator(language);
    path.rsplit(sep).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_has_no_duplicates() {
        let kb = Kb::builtin();
        assert!(kb.apis().len() > 50);
        let mut seen = std::collections::HashSet::new();
        for a in kb.apis() {
            assert!(
                seen.insert((a.language, a.path.clone(), a.concept)),
                "duplicate entry {} {:?}",
                a.path,
                a.concept
            );
        }
    }

    #[test]
    fn prefix_entries_match_children_only() {
        let kb = Kb::builtin();
        assert!(
            kb.find(
                Language::Rust,
                "reqwest::blocking::get",
                Concept::BlockingEntry
            )
            .is_some()
        );
        assert!(
            kb.find(Language::Rust, "reqwest::blockingx", Concept::BlockingEntry)
                .is_none()
        );
    }

    #[test]
    fn the_most_specific_entry_says_whether_a_call_blocks() {
        let kb = Kb::builtin();
        let blocks = |path: &str| {
            kb.find(Language::Rust, path, Concept::BlockingEntry)
                .is_some()
        };
        // Building a request does no I/O; sending it and reading the body do.
        assert!(!blocks("reqwest::blocking::Client::get"));
        assert!(!blocks("reqwest::blocking::RequestBuilder::header"));
        assert!(blocks("reqwest::blocking::RequestBuilder::send"));
        assert!(!blocks("reqwest::blocking::Response::status"));
        assert!(blocks("reqwest::blocking::Response::text"));
        assert!(blocks("reqwest::blocking::Client::new"));
        assert!(blocks("reqwest::blocking::get"));
    }
}
