//! Generated Rust programs: every executor bug class crossed with where the code sits (also
//! behind a trait object, a generic bound, a closure kept in a field or handed to a helper, a
//! builder chain, a `Drop` impl, an `Arc<Mutex<..>>` guard, a `OnceLock` accessor) and the
//! context that reaches it (also `select!`/`join!` arms, `#[cfg(test)]` modules, runtimes kept in
//! statics, threads started from async code), and the value-flow class (a runtime-bound resource
//! shared by two runtimes) crossed with how the value travels, how the runtimes multiply and the
//! resource family. Each bug program has a correct near-twin that must stay silent.

use super::harness::Program;

/// How a correct twin differs from its bug program.
#[derive(Clone, Copy)]
enum Twin {
    /// Same context, the call handed to `spawn_blocking` (sync payloads reached from async code).
    SpawnBlocking,
    /// The paired context of `contexts` (a runtime that is there, or of the right flavor).
    Context,
    /// The same place with another body.
    Body(&'static str),
}

/// The code that holds the bug: the body of a function `job() -> usize`.
struct Payload {
    /// Dimension value.
    name: &'static str,
    /// The rule the bug program must trigger.
    rule: &'static str,
    /// Whether `job` is an `async fn`.
    is_async: bool,
    /// The body; the breaking line is tagged.
    body: &'static str,
    /// Items defined next to `job`.
    support: &'static str,
    /// `(bug context, twin context)`.
    contexts: &'static [(&'static str, &'static str)],
    /// How the twin is made.
    twin: Twin,
}

const ASYNC4: &[(&str, &str)] = &[
    ("tokio_main", "tokio_main"),
    ("tokio_test", "tokio_test"),
    ("block_on_main", "block_on_main"),
    ("spawned_task", "spawned_task"),
    ("macro_tokio_tests", "macro_tokio_tests"),
];
const SYNC3: &[(&str, &str)] = &[
    ("sync_main", "tokio_main"),
    ("plain_test", "tokio_test"),
    ("std_thread", "thread_block_on"),
    ("futures_executor", "block_on_main"),
];
const CURRENT3: &[(&str, &str)] = &[
    ("tokio_test", "tokio_test_multi"),
    ("tokio_main_current", "tokio_main"),
    ("block_on_current", "block_on_multi"),
    ("macro_flavor_tests", "macro_flavor_tests_multi"),
];
const MULTI3: &[(&str, &str)] = &[
    ("tokio_test_multi", "tokio_test"),
    ("tokio_main", "tokio_main_current"),
    ("block_on_multi", "block_on_current"),
    ("macro_flavor_tests", "tokio_test"),
];
/// Async code driven by an executor with no Tokio reactor, and the twin on a Tokio runtime.
const FOREIGN2: &[(&str, &str)] = &[
    ("futures_executor", "block_on_main"),
    ("smol_executor", "block_on_main"),
];
const ENDS3: &[(&str, &str)] = &[
    ("tokio_main", "tokio_main"),
    ("block_on_main", "block_on_main"),
    ("spawned_task", "spawned_task"),
];

const UPLOAD: &str = "async fn upload() {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}
";

/// Runtimes kept in a map keyed by name, owned by a struct field.
const SHARDS: &str = "pub struct Shards {
    by_name: std::sync::Mutex<std::collections::HashMap<String, tokio::runtime::Runtime>>,
}

impl Shards {
    pub fn new() -> Shards {
        Shards {
            by_name: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    pub fn open(&self, name: &str) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        self.by_name.lock().unwrap().insert(name.to_string(), rt);
    }
}
";

const PAYLOADS: &[Payload] = &[
    Payload {
        name: "handle_block_on",
        rule: "nested-block-on",
        is_async: false,
        body: "    let handle = tokio::runtime::Handle::current();
    let n = handle.block_on(async { 7 }); @@
    n",
        support: "",
        contexts: ASYNC4,
        twin: Twin::SpawnBlocking,
    },
    Payload {
        name: "reqwest_blocking",
        rule: "nested-block-on",
        is_async: false,
        body: "    let body = reqwest::blocking::get(\"http://127.0.0.1:9/health\") @@
        .and_then(|r| r.text())
        .unwrap_or_default();
    body.len() + 1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::SpawnBlocking,
    },
    Payload {
        name: "runtime_new_dropped",
        rule: "runtime-dropped-in-async",
        is_async: false,
        body: "    let rt = tokio::runtime::Runtime::new().unwrap(); @@
    rt.metrics().num_workers()",
        support: "",
        contexts: ASYNC4,
        twin: Twin::SpawnBlocking,
    },
    Payload {
        name: "builder_dropped",
        rule: "runtime-dropped-in-async",
        is_async: false,
        body: "    let rt = tokio::runtime::Builder::new_current_thread() @@
        .enable_all()
        .build()
        .unwrap();
    rt.metrics().num_workers() + 1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::SpawnBlocking,
    },
    Payload {
        name: "runtime_removed_from_keyed_map",
        rule: "runtime-dropped-in-async",
        is_async: false,
        body: "    let shards: &'static Shards = Box::leak(Box::new(Shards::new()));
    shards.open(\"eu\");
    let n = shards.by_name.lock().unwrap().len();
    shards.by_name.lock().unwrap().remove(\"eu\"); @@
    n",
        support: SHARDS,
        contexts: ASYNC4,
        twin: Twin::Body(
            "    let shards: &'static Shards = Box::leak(Box::new(Shards::new()));
    shards.open(\"eu\");
    let n = shards.by_name.lock().unwrap().len();
    if let Some(rt) = shards.by_name.lock().unwrap().remove(\"eu\") {
        rt.shutdown_background();
    }
    n",
        ),
    },
    Payload {
        name: "thread_sleep",
        rule: "blocking-call-in-async",
        is_async: false,
        body: "    std::thread::sleep(std::time::Duration::from_millis(5)); @@
    1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::SpawnBlocking,
    },
    Payload {
        name: "fs_read",
        rule: "blocking-call-in-async",
        is_async: false,
        body: "    let text = std::fs::read_to_string(\"Cargo.toml\").unwrap_or_default(); @@
    text.len() + 1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::SpawnBlocking,
    },
    Payload {
        name: "std_channel_drained",
        rule: "blocking-call-in-async",
        is_async: false,
        body: "    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(2usize).ok());
    let mut n = 0;
    for m in rx { @@
        n += m;
    }
    n",
        support: "",
        contexts: ASYNC4,
        twin: Twin::SpawnBlocking,
    },
    Payload {
        name: "thread_sleep_in_async_fn",
        rule: "blocking-call-in-async",
        is_async: true,
        body: "    tokio::task::yield_now().await;
    std::thread::sleep(std::time::Duration::from_millis(5)); @@
    1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::Body(
            "    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    1",
        ),
    },
    Payload {
        name: "handle_current",
        rule: "no-runtime-context",
        is_async: false,
        body: "    let handle = tokio::runtime::Handle::current(); @@
    drop(handle);
    1",
        support: "",
        contexts: SYNC3,
        twin: Twin::Context,
    },
    Payload {
        name: "interval",
        rule: "no-runtime-context",
        is_async: false,
        body: "    let ticks = tokio::time::interval(std::time::Duration::from_millis(5)); @@
    ticks.period().as_millis() as usize + 1",
        support: "",
        contexts: SYNC3,
        twin: Twin::Context,
    },
    Payload {
        name: "reqwest_send",
        rule: "no-runtime-context",
        is_async: true,
        body: "    let client = reqwest::Client::new();
    let sent = client.get(\"http://127.0.0.1:9/health\").send().await; @@
    sent.map(|r| r.status().as_u16() as usize).unwrap_or(1)",
        support: "",
        contexts: FOREIGN2,
        twin: Twin::Context,
    },
    Payload {
        name: "tcp_connect",
        rule: "no-runtime-context",
        is_async: true,
        body: "    let stream = tokio::net::TcpStream::connect(\"127.0.0.1:9\").await; @@
    stream.map(|_| 2).unwrap_or(1)",
        support: "",
        contexts: FOREIGN2,
        twin: Twin::Context,
    },
    Payload {
        name: "block_in_place",
        rule: "block-in-place-current-thread",
        is_async: false,
        body: "    let n = tokio::task::block_in_place(|| 7); @@
    n",
        support: "",
        contexts: CURRENT3,
        twin: Twin::Context,
    },
    Payload {
        name: "time_pause",
        rule: "no-runtime-context",
        is_async: false,
        body: "    tokio::time::pause(); @@
    7",
        support: "",
        contexts: MULTI3,
        twin: Twin::Context,
    },
    Payload {
        name: "spawn_not_awaited",
        rule: "runtime-dropped-with-live-tasks",
        is_async: true,
        body: "    tokio::spawn(upload()); @@
    1",
        support: UPLOAD,
        contexts: ENDS3,
        twin: Twin::Body(
            "    let task = tokio::spawn(upload());
    task.await.unwrap();
    1",
        ),
    },
];

const PLACEMENTS: &[&str] = &[
    "inline",
    "helper",
    "module",
    "method",
    "trait_impl",
    "macro",
    "lib_target",
    "workspace_member",
    "module_without_manifest",
    "dyn_trait",
    "generic_bound",
    "closure_field",
    "closure_param",
    "hook_registry",
    "hook_list",
    "builder_chain",
    "drop_impl",
    "deserialize_impl",
    "installed_logger",
    "arc_mutex",
    "static_worker",
    "dyn_several_impls",
    "generic_field_several_impls",
    "lazy_initialiser",
    "lazy_initialiser_fn_path",
    "alias_receiver",
    "generic_alias_receiver",
    "iterator_for_loop",
    "into_iterator_for_loop",
];

/// The placements crossed with the extra contexts of `extra_contexts`.
const EXTRA_CONTEXT_PLACEMENTS: &[&str] = &["inline", "helper", "method", "dyn_trait"];

/// Further contexts of each payload class, crossed with `EXTRA_CONTEXT_PLACEMENTS`: the arms of
/// `select!`/`join!`, tests in a `#[cfg(test)]` module, runtimes kept in statics, threads started
/// from async code, runtimes built but not entered, closures that a library's thread pool runs.
fn extra_contexts(payload: &Payload) -> &'static [(&'static str, &'static str)] {
    if payload.name == "time_pause" {
        // A flavor need: the other flavor's runtime is the bug, not a missing runtime.
        return &[
            ("cfg_test_tokio_test_multi", "cfg_test_tokio_test"),
            ("select_arm", "select_arm_current"),
        ];
    }
    if payload.contexts == FOREIGN2 {
        return &[
            (
                "futures_executor_in_helper",
                "futures_executor_under_enter_guard",
            ),
            ("futures_executor_helper_fn", "tokio_runtime_helper_fn"),
        ];
    }
    match payload.rule {
        "no-runtime-context" => &[
            ("thread_from_async", "spawn_blocking_body"),
            ("cfg_test_plain_test", "cfg_test_tokio_test"),
            ("runtime_not_entered", "enter_guard"),
            ("pool_worker_after_enter", "pool_worker_entered"),
        ],
        "block-in-place-current-thread" => &[
            ("cfg_test_tokio_test", "cfg_test_tokio_test_multi"),
            ("select_arm_current", "select_arm"),
            ("axum_handler_current", "axum_handler"),
            ("actix_handler", "axum_handler"),
        ],
        // A test's own runtime is left out, as for `tokio_test` above.
        "runtime-dropped-with-live-tasks" => {
            &[("select_arm", "select_arm"), ("join_arm", "join_arm")]
        }
        _ => &[
            ("select_arm", "select_arm"),
            ("join_arm", "join_arm"),
            ("axum_handler", "axum_handler"),
            ("cfg_test_tokio_test", "cfg_test_tokio_test"),
            ("static_runtime", "static_runtime"),
            ("lazy_static_runtime", "lazy_static_runtime"),
        ],
    }
}

const CARGO_DEPS: &str = "tokio = { version = \"1\", features = [\"full\"] }
futures = \"0.3\"
reqwest = { version = \"0.12\", features = [\"blocking\"] }
sqlx = { version = \"0.8\", features = [\"runtime-tokio\", \"postgres\"] }
async-trait = \"0.1\"
lazy_static = \"1\"
flume = \"0.11\"
serde = { version = \"1\", features = [\"derive\"] }
serde_json = \"1\"
log = \"0.4\"
";

fn cargo_toml(name: &str, extra: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{CARGO_DEPS}{extra}"
    )
}

/// Where `job` sits: the files besides the context file, the items put before the context, the
/// statements before the call and the call expression (awaited when `job` is async).
struct Placed {
    files: Vec<(String, String)>,
    items: String,
    setup: String,
    call: String,
    main_path: String,
    /// Whether `setup` declares a value the call needs moved into a closure.
    moves: bool,
}

fn place(placement: &str, is_async: bool, body: &str, support: &str) -> Placed {
    let pub_support = support.replace("async fn", "pub async fn");
    let kw = if is_async { "async fn" } else { "fn" };
    let aw = if is_async { ".await" } else { "" };
    let mut placed = Placed {
        files: vec![("Cargo.toml".into(), cargo_toml("scen", ""))],
        items: String::new(),
        setup: String::new(),
        call: format!("job(){aw}"),
        main_path: "src/main.rs".into(),
        moves: false,
    };
    match placement {
        "inline" => {
            placed.items = support.to_string();
            placed.call = format!("{{\n{body}\n    }}");
        }
        "helper" => {
            placed.items = format!("{support}{kw} job() -> usize {{\n{body}\n}}\n");
        }
        "module" => {
            placed.items = "mod jobs;\n".into();
            placed.files.push((
                "src/jobs.rs".into(),
                format!("//! Jobs.\n\n{pub_support}pub {kw} job() -> usize {{\n{body}\n}}\n"),
            ));
            placed.call = format!("jobs::job(){aw}");
        }
        // A subset of a crate: module files and their root, but no Cargo.toml.
        "module_without_manifest" => {
            placed.files = vec![(
                "src/jobs.rs".into(),
                format!("//! Jobs.\n\n{pub_support}pub {kw} job() -> usize {{\n{body}\n}}\n"),
            )];
            placed.items = "mod jobs;\n".into();
            placed.call = format!("jobs::job(){aw}");
        }
        "method" => {
            placed.items = format!(
                "{support}pub struct Worker {{
    id: usize,
}}

impl Worker {{
    pub fn new(id: usize) -> Self {{
        Worker {{ id }}
    }}

    pub {kw} job(&self) -> usize {{
        let base = self.id;
        base + {{
{body}
        }}
    }}
}}
"
            );
            placed.setup = "    let worker = Worker::new(3);\n".into();
            placed.call = format!("worker.job(){aw}");
            placed.moves = true;
        }
        "trait_impl" => {
            placed.items = format!(
                "{support}pub trait Job {{
    {kw} job(&self) -> usize;
}}

pub struct Nightly;

impl Job for Nightly {{
    {kw} job(&self) -> usize {{
{body}
    }}
}}
"
            );
            placed.setup = "    let nightly = Nightly;\n".into();
            placed.call = format!("nightly.job(){aw}");
            placed.moves = true;
        }
        "macro" => {
            placed.items = format!(
                "{support}macro_rules! define_job {{
    ($name:ident) => {{
        {kw} $name() -> usize {{
{body}
        }}
    }};
}}

define_job!(job);
"
            );
        }
        "lib_target" => {
            placed.files.push((
                "src/lib.rs".into(),
                format!(
                    "//! The job library.\n\n{pub_support}pub {kw} job() -> usize {{\n{body}\n}}\n"
                ),
            ));
            placed.items = "use scen::job;\n".into();
        }
        "workspace_member" => {
            placed.files = vec![
                (
                    "Cargo.toml".into(),
                    "[workspace]\nmembers = [\"jobcore\", \"app\"]\nresolver = \"2\"\n".into(),
                ),
                ("jobcore/Cargo.toml".into(), cargo_toml("jobcore", "")),
                (
                    "jobcore/src/lib.rs".into(),
                    format!(
                        "//! Shared jobs.\n\n{pub_support}pub {kw} job() -> usize {{\n{body}\n}}\n"
                    ),
                ),
                (
                    "app/Cargo.toml".into(),
                    cargo_toml("app", "jobcore = { path = \"../jobcore\" }\n"),
                ),
            ];
            placed.items = "use jobcore::job;\n".into();
            placed.main_path = "app/src/main.rs".into();
        }
        // A trait object picked at run time; async methods through `#[async_trait]`.
        "dyn_trait" => {
            let attr = if is_async {
                "#[async_trait::async_trait]\n"
            } else {
                ""
            };
            placed.items = format!(
                "{support}{attr}pub trait Job: Send + Sync {{
    {kw} job(&self) -> usize;
}}

pub struct Nightly;

{attr}impl Job for Nightly {{
    {kw} job(&self) -> usize {{
{body}
    }}
}}

pub fn pick() -> Box<dyn Job> {{
    Box::new(Nightly)
}}
"
            );
            placed.setup = "    let picked = pick();\n".into();
            placed.call = format!("picked.job(){aw}");
            placed.moves = true;
        }
        // A generic function whose receiver is bound by a trait.
        "generic_bound" => {
            placed.items = format!(
                "{support}pub trait Job {{
    {kw} job(&self) -> usize;
}}

pub struct Nightly;

impl Job for Nightly {{
    {kw} job(&self) -> usize {{
{body}
    }}
}}

pub {kw} run_job<J: Job>(job: &J) -> usize {{
    job.job(){aw}
}}
"
            );
            placed.call = format!("run_job(&Nightly){aw}");
        }
        // A closure built into a struct field and called later through the field.
        "closure_field" => {
            placed.items = if is_async {
                format!(
                    "{support}type Tick = std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>;

pub struct Hooks {{
    on_tick: Box<dyn Fn() -> Tick + Send + Sync>,
}}

impl Hooks {{
    pub fn new() -> Self {{
        Hooks {{
            on_tick: Box::new(|| {{
                Box::pin(async {{
{body}
                }})
            }}),
        }}
    }}

    pub async fn tick(&self) -> usize {{
        (self.on_tick)().await
    }}
}}
"
                )
            } else {
                format!(
                    "{support}pub struct Hooks {{
    on_tick: Box<dyn Fn() -> usize + Send + Sync>,
}}

impl Hooks {{
    pub fn new() -> Self {{
        Hooks {{
            on_tick: Box::new(|| {{
{body}
            }}),
        }}
    }}

    pub fn tick(&self) -> usize {{
        (self.on_tick)()
    }}
}}
"
                )
            };
            placed.setup = "    let hooks = Hooks::new();\n".into();
            placed.call = format!("hooks.tick(){aw}");
            placed.moves = true;
        }
        // A closure registered by name in a registry of hooks, and fired by name.
        "hook_registry" => {
            placed.items = format!(
                "{support}type Hook = Box<dyn Fn() -> usize + Send + Sync>;

pub struct Registry {{
    hooks: std::collections::HashMap<String, Hook>,
}}

impl Registry {{
    pub fn new() -> Self {{
        Registry {{
            hooks: std::collections::HashMap::new(),
        }}
    }}

    pub fn register(&mut self, name: &str, hook: Hook) {{
        self.hooks.insert(name.to_string(), hook);
    }}

    pub fn fire(&self, name: &str) -> usize {{
        (self.hooks[name])()
    }}
}}

pub fn registry() -> Registry {{
    let mut registry = Registry::new();
    registry.register(
        \"job\",
        Box::new(|| {{
{body}
        }}),
    );
    registry
}}
"
            );
            placed.setup = "    let hooks = registry();\n".into();
            placed.call = "hooks.fire(\"job\")".into();
            placed.moves = true;
        }
        // A closure pushed into a list of listeners where the context runs, and run by a
        // loop over the list.
        "hook_list" => {
            placed.items = format!(
                "{support}#[derive(Default)]
pub struct Listeners {{
    hooks: Vec<std::sync::Arc<dyn Fn() -> usize + Send + Sync>>,
}}

impl Listeners {{
    pub fn listen(&mut self, hook: std::sync::Arc<dyn Fn() -> usize + Send + Sync>) {{
        self.hooks.push(hook);
    }}

    pub fn notify(&self) -> usize {{
        let mut total = 0;
        for hook in &self.hooks {{
            total += hook();
        }}
        total
    }}
}}
"
            );
            placed.setup = format!(
                "    let mut listeners = Listeners::default();
    listeners.listen(std::sync::Arc::new(|| {{
{body}
    }}));
"
            );
            placed.call = "listeners.notify()".into();
            placed.moves = true;
        }
        // A closure handed to a helper that calls it.
        "closure_param" => {
            placed.items = if is_async {
                format!(
                    "{support}pub async fn with_retry<F, Fut>(f: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{{
    f().await
}}
"
                )
            } else {
                format!(
                    "{support}pub fn with_retry<F: Fn() -> usize>(f: F) -> usize {{
    f()
}}
"
                )
            };
            placed.call = if is_async {
                format!("with_retry(|| async {{\n{body}\n    }}).await")
            } else {
                format!("with_retry(|| {{\n{body}\n    }})")
            };
        }
        // A value built by a builder chain, its method called at the end of the chain.
        "builder_chain" => {
            placed.items = format!(
                "{support}pub struct Worker {{
    id: usize,
}}

pub struct WorkerBuilder {{
    id: usize,
}}

impl WorkerBuilder {{
    pub fn id(mut self, id: usize) -> Self {{
        self.id = id;
        self
    }}

    pub fn build(self) -> Worker {{
        Worker {{ id: self.id }}
    }}
}}

impl Worker {{
    pub fn builder() -> WorkerBuilder {{
        WorkerBuilder {{ id: 0 }}
    }}

    pub {kw} job(&self) -> usize {{
        let base = self.id;
        base + {{
{body}
        }}
    }}
}}
"
            );
            placed.call = format!("Worker::builder().id(3).build().job(){aw}");
        }
        // The code runs in the `Drop` of a guard that dies at the end of a block (sync only).
        "drop_impl" => {
            assert!(!is_async, "drop is sync");
            placed.items = format!(
                "{support}pub struct Flush {{
    pending: usize,
}}

impl Drop for Flush {{
    fn drop(&mut self) {{
        let n = {{
{body}
        }};
        self.pending += n;
        println!(\"{{}}\", self.pending);
    }}
}}
"
            );
            placed.call = "{\n        let _flush = Flush { pending: 1 };\n        1\n    }".into();
        }
        // A hand-written `Deserialize` that serde's generic code calls, through the derived
        // impl of the type `serde_json::from_str` returns.
        "deserialize_impl" => {
            assert!(!is_async, "deserialize is sync");
            placed.items = format!(
                "{support}pub struct Token {{
    n: usize,
}}

impl<'de> serde::Deserialize<'de> for Token {{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{
        let _ = d;
        let n = {{
{body}
        }};
        Ok(Token {{ n }})
    }}
}}

#[derive(serde::Deserialize)]
pub struct Request {{
    token: Token,
}}
"
            );
            placed.call =
                "serde_json::from_str::<Request>(\"{}\").map(|r| r.token.n).unwrap_or(1)".into();
        }
        // A `log::Log` impl the program installs: the logging macros call it in place.
        "installed_logger" => {
            assert!(!is_async, "a logger is sync");
            placed.items = format!(
                "{support}pub struct Sink;

impl log::Log for Sink {{
    fn enabled(&self, _: &log::Metadata) -> bool {{
        true
    }}

    fn log(&self, _record: &log::Record) {{
        let n = {{
{body}
        }};
        println!(\"{{n}}\");
    }}

    fn flush(&self) {{}}
}}

static SINK: Sink = Sink;
"
            );
            placed.call =
                "{\n        let _ = log::set_logger(&SINK);\n        log::info!(\"job\");\n        1\n    }".into();
        }
        // A value behind `Arc<Mutex<..>>`, its method called through the guard.
        "arc_mutex" => {
            placed.items = format!(
                "{support}pub struct Worker {{
    id: usize,
}}

impl Worker {{
    pub fn new(id: usize) -> Self {{
        Worker {{ id }}
    }}

    pub {kw} job(&self) -> usize {{
        let base = self.id;
        base + {{
{body}
        }}
    }}
}}
"
            );
            if is_async {
                placed.setup =
                    "    let worker = std::sync::Arc::new(tokio::sync::Mutex::new(Worker::new(3)));\n"
                        .into();
                placed.call = "worker.lock().await.job().await".into();
            } else {
                placed.setup =
                    "    let worker = std::sync::Arc::new(std::sync::Mutex::new(Worker::new(3)));\n"
                        .into();
                placed.call = "worker.lock().unwrap().job()".into();
            }
            placed.moves = true;
        }
        // A trait object of a trait with several impls, picked at run time: the call may
        // reach each impl, and reaches the one holding the code only where every way in runs.
        "dyn_several_impls" => {
            let attr = if is_async {
                "#[async_trait::async_trait]\n"
            } else {
                ""
            };
            placed.items = format!(
                "{support}{attr}pub trait Job: Send + Sync {{
    {kw} job(&self) -> usize;
}}

pub struct Idle;

{attr}impl Job for Idle {{
    {kw} job(&self) -> usize {{
        0
    }}
}}

pub struct Nightly;

{attr}impl Job for Nightly {{
    {kw} job(&self) -> usize {{
{body}
    }}
}}

pub fn pick(idle: bool) -> Box<dyn Job> {{
    if idle {{
        Box::new(Idle)
    }} else {{
        Box::new(Nightly)
    }}
}}
"
            );
            placed.setup = "    let picked = pick(std::env::args().count() > 3);\n".into();
            placed.call = format!("picked.job(){aw}");
            placed.moves = true;
        }
        // A field of a type parameter bound by a trait with several impls, set by a
        // constructor: the call through the field may reach each impl.
        "generic_field_several_impls" => {
            placed.items = format!(
                "{support}pub trait Job {{
    {kw} job(&self) -> usize;
}}

pub struct Idle;

impl Job for Idle {{
    {kw} job(&self) -> usize {{
        0
    }}
}}

pub struct Nightly;

impl Job for Nightly {{
    {kw} job(&self) -> usize {{
{body}
    }}
}}

pub struct Runner<J: Job> {{
    job: J,
    runs: usize,
}}

impl<J: Job> Runner<J> {{
    pub fn new(job: J) -> Self {{
        Runner {{ job, runs: 1 }}
    }}

    pub {kw} run(&self) -> usize {{
        self.runs + self.job.job(){aw}
    }}
}}
"
            );
            placed.setup = "    let runner = Runner::new(Nightly);\n".into();
            placed.call = format!("runner.run(){aw}");
            placed.moves = true;
        }
        // A lazy static whose initialiser holds the code: it runs at the first read (sync).
        "lazy_initialiser" => {
            assert!(!is_async, "an initialiser is sync");
            placed.items = format!(
                "{support}static JOB: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {{
{body}
}});
"
            );
            placed.call = "{
        let n: usize = *JOB;
        n
    }"
            .into();
        }
        // A lazy static whose initialiser is a function named by path: it runs at the first
        // dereference, where the read is.
        "lazy_initialiser_fn_path" => {
            assert!(!is_async, "an initialiser is sync");
            placed.items = format!(
                "{support}fn make_job() -> usize {{
{body}
}}

static JOB: once_cell::sync::Lazy<usize> = once_cell::sync::Lazy::new(make_job);
"
            );
            placed.call = "{
        let n: usize = *JOB;
        n
    }"
            .into();
        }
        // A process-wide value in a `OnceLock`, reached through its accessor.
        "static_worker" => {
            placed.items = format!(
                "{support}pub struct Worker {{
    id: usize,
}}

impl Worker {{
    pub {kw} job(&self) -> usize {{
        let base = self.id;
        base + {{
{body}
        }}
    }}
}}

static WORKER: std::sync::OnceLock<Worker> = std::sync::OnceLock::new();

pub fn worker() -> &'static Worker {{
    WORKER.get_or_init(|| Worker {{ id: 3 }})
}}
"
            );
            placed.call = format!("worker().job(){aw}");
        }
        // A value behind a type alias of `Arc<Mutex<..>>` (generic or not), its method called
        // through the guard; another type has a method of the same name, so only the alias
        // tells which one runs.
        "alias_receiver" | "generic_alias_receiver" => {
            let (lock, guard) = if is_async {
                ("tokio::sync::Mutex", ".await")
            } else {
                ("std::sync::Mutex", ".unwrap()")
            };
            let (alias, named) = if placement == "alias_receiver" {
                (
                    format!("pub type SharedWorker = std::sync::Arc<{lock}<Worker>>;"),
                    "SharedWorker",
                )
            } else {
                (
                    format!("pub type Shared<T> = std::sync::Arc<{lock}<T>>;"),
                    "Shared<Worker>",
                )
            };
            placed.items = format!(
                "{support}pub struct Worker {{
    id: usize,
}}

impl Worker {{
    pub fn new(id: usize) -> Self {{
        Worker {{ id }}
    }}

    pub {kw} job(&self) -> usize {{
        let base = self.id;
        base + {{
{body}
        }}
    }}
}}

pub struct Idle;

impl Idle {{
    pub {kw} job(&self) -> usize {{
        0
    }}
}}

{alias}

pub {kw} run_shared(worker: {named}) -> usize {{
    let n = worker.lock(){guard}.job(){aw};
    n
}}
"
            );
            placed.setup = format!(
                "    let worker: {named} = std::sync::Arc::new({lock}::new(Worker::new(3)));\n"
            );
            placed.call = format!("run_shared(worker){aw}");
            placed.moves = true;
        }
        // A package iterator walked by a `for` loop, which calls its `next` (directly, or
        // through the iterator that the package's `IntoIterator` impl gives).
        "iterator_for_loop" | "into_iterator_for_loop" => {
            assert!(!is_async, "an iterator is sync");
            let (extra, iterated) = if placement == "iterator_for_loop" {
                ("", "Batches::new(1)")
            } else {
                (
                    "pub struct Plan;

impl IntoIterator for Plan {
    type Item = usize;
    type IntoIter = Batches;

    fn into_iter(self) -> Batches {
        Batches::new(1)
    }
}
",
                    "Plan",
                )
            };
            placed.items = format!(
                "{support}pub struct Batches {{
    left: usize,
}}

impl Batches {{
    pub fn new(left: usize) -> Self {{
        Batches {{ left }}
    }}
}}

impl Iterator for Batches {{
    type Item = usize;

    fn next(&mut self) -> Option<usize> {{
        if self.left == 0 {{
            return None;
        }}
        self.left -= 1;
        let n = {{
{body}
        }};
        Some(n)
    }}
}}
{extra}"
            );
            placed.call = format!(
                "{{\n        let mut total = 0;\n        for n in {iterated} {{\n            total += n;\n        }}\n        total\n    }}"
            );
        }
        other => panic!("unknown placement {other}"),
    }
    placed
}

/// The context code that reaches `call`: `main` or a test.
fn context(ctx: &str, setup: &str, call: &str) -> String {
    match ctx {
        "tokio_main" | "tokio_main_current" => {
            let attr = if ctx == "tokio_main" {
                "#[tokio::main]"
            } else {
                "#[tokio::main(flavor = \"current_thread\")]"
            };
            format!(
                "{attr}\nasync fn main() {{\n{setup}    let n = {call};\n    println!(\"{{n}}\");\n}}\n"
            )
        }
        "tokio_test" | "tokio_test_multi" => {
            let attr = if ctx == "tokio_test" {
                "#[tokio::test]"
            } else {
                "#[tokio::test(flavor = \"multi_thread\", worker_threads = 2)]"
            };
            format!(
                "fn main() {{}}\n\n{attr}\nasync fn job_runs() {{\n{setup}    let n = {call};\n    assert!(n > 0);\n}}\n"
            )
        }
        "block_on_main" | "block_on_current" | "block_on_multi" => {
            let build = match ctx {
                "block_on_main" => "tokio::runtime::Runtime::new().unwrap()",
                "block_on_current" => {
                    "tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()"
                }
                _ => "tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()",
            };
            format!(
                "fn main() {{\n    let rt = {build};\n    let n = rt.block_on(async {{\n{setup}        {call}\n    }});\n    println!(\"{{n}}\");\n}}\n"
            )
        }
        "spawned_task" => format!(
            "#[tokio::main]\nasync fn main() {{\n    let task = tokio::spawn(async move {{\n{setup}        {call}\n    }});\n    println!(\"{{}}\", task.await.unwrap());\n}}\n"
        ),
        "sync_main" => {
            format!("fn main() {{\n{setup}    let n = {call};\n    println!(\"{{n}}\");\n}}\n")
        }
        "plain_test" => format!(
            "fn main() {{}}\n\n#[test]\nfn job_runs() {{\n{setup}    let n = {call};\n    assert!(n > 0);\n}}\n"
        ),
        "std_thread" => format!(
            "fn main() {{\n    let worker = std::thread::spawn(move || {{\n{setup}        {call}\n    }});\n    println!(\"{{}}\", worker.join().unwrap());\n}}\n"
        ),
        "thread_block_on" => format!(
            "fn main() {{\n    let worker = std::thread::spawn(move || {{\n        let rt = tokio::runtime::Runtime::new().unwrap();\n        rt.block_on(async {{\n{setup}            {call}\n        }})\n    }});\n    println!(\"{{}}\", worker.join().unwrap());\n}}\n"
        ),
        // A test-support macro stamps the test body out once per name (and flavor).
        "macro_tokio_tests" | "macro_flavor_tests" | "macro_flavor_tests_multi" => {
            let (attr, invocation) = match ctx {
                "macro_tokio_tests" => (
                    "#[tokio::test]",
                    "job_tests!(job_runs_once, job_runs_twice);",
                ),
                "macro_flavor_tests" => (
                    "#[tokio::test(flavor = $flavor)]",
                    "job_tests!(on_current_thread: \"current_thread\", on_multi_thread: \"multi_thread\");",
                ),
                _ => (
                    "#[tokio::test(flavor = $flavor)]",
                    "job_tests!(on_multi_thread: \"multi_thread\", on_multi_thread_again: \"multi_thread\");",
                ),
            };
            let params = if ctx == "macro_tokio_tests" {
                "$($name:ident),*"
            } else {
                "$($name:ident: $flavor:literal),*"
            };
            format!(
                "fn main() {{}}\n\nmacro_rules! job_tests {{\n    ({params}) => {{\n        $(\n            {attr}\n            async fn $name() {{\n{setup}                let n = {call};\n                assert!(n > 0);\n            }}\n        )*\n    }};\n}}\n\n{invocation}\n"
            )
        }
        "select_arm" | "select_arm_current" => {
            let attr = if ctx == "select_arm" {
                "#[tokio::main]"
            } else {
                "#[tokio::main(flavor = \"current_thread\")]"
            };
            format!(
                "{attr}\nasync fn main() {{\n    let n = tokio::select! {{\n        n = async {{\n{setup}            {call}\n        }} => n,\n        _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => 0,\n    }};\n    println!(\"{{n}}\");\n}}\n"
            )
        }
        "join_arm" => format!(
            "#[tokio::main]\nasync fn main() {{\n    let (n, _) = tokio::join!(\n        async {{\n{setup}            {call}\n        }},\n        tokio::time::sleep(std::time::Duration::from_millis(5)),\n    );\n    println!(\"{{n}}\");\n}}\n"
        ),
        "cfg_test_tokio_test" | "cfg_test_tokio_test_multi" | "cfg_test_plain_test" => {
            let (attr, kw) = match ctx {
                "cfg_test_tokio_test" => ("#[tokio::test]", "async fn"),
                "cfg_test_tokio_test_multi" => (
                    "#[tokio::test(flavor = \"multi_thread\", worker_threads = 2)]",
                    "async fn",
                ),
                _ => ("#[test]", "fn"),
            };
            format!(
                "fn main() {{}}\n\n#[cfg(test)]\nmod tests {{\n    use super::*;\n\n    {attr}\n    {kw} job_runs() {{\n{setup}        let n = {call};\n        assert!(n > 0);\n    }}\n}}\n"
            )
        }
        "static_runtime" => format!(
            "static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();\n\nfn runtime() -> &'static tokio::runtime::Runtime {{\n    RUNTIME.get_or_init(|| tokio::runtime::Runtime::new().unwrap())\n}}\n\nfn main() {{\n    let n = runtime().block_on(async {{\n{setup}        {call}\n    }});\n    println!(\"{{n}}\");\n}}\n"
        ),
        "lazy_static_runtime" => format!(
            "lazy_static::lazy_static! {{\n    static ref RUNTIME: tokio::runtime::Runtime = tokio::runtime::Runtime::new().unwrap();\n}}\n\nfn main() {{\n    let n = RUNTIME.block_on(async {{\n{setup}        {call}\n    }});\n    println!(\"{{n}}\");\n}}\n"
        ),
        // A thread started from async code has no runtime context; its result comes back
        // through a oneshot channel.
        "thread_from_async" => format!(
            "#[tokio::main]\nasync fn main() {{\n    let (tx, rx) = tokio::sync::oneshot::channel();\n    std::thread::spawn(move || {{\n{setup}        let n = {call};\n        let _ = tx.send(n);\n    }});\n    println!(\"{{}}\", rx.await.unwrap());\n}}\n"
        ),
        "spawn_blocking_body" => format!(
            "#[tokio::main]\nasync fn main() {{\n    let n = tokio::task::spawn_blocking(move || {{\n{setup}        {call}\n    }})\n    .await\n    .unwrap();\n    println!(\"{{n}}\");\n}}\n"
        ),
        "runtime_not_entered" => format!(
            "fn main() {{\n    let rt = tokio::runtime::Runtime::new().unwrap();\n{setup}    let n = {call};\n    rt.block_on(async {{ println!(\"{{n}}\") }});\n}}\n"
        ),
        "enter_guard" => format!(
            "fn main() {{\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    let _guard = rt.enter();\n{setup}    let n = {call};\n    rt.block_on(async {{ println!(\"{{n}}\") }});\n}}\n"
        ),
        // A library's thread pool runs the closure: the thread that entered the runtime is not
        // the worker that calls `job`, unless the worker enters it itself.
        "pool_worker_after_enter" => format!(
            "fn main() {{\n    use rayon::prelude::*;\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    let _guard = rt.enter();\n    let n: usize = vec![1usize]\n        .par_iter()\n        .map(|_| {{\n{setup}            {call}\n        }})\n        .sum();\n    rt.block_on(async {{ println!(\"{{n}}\") }});\n}}\n"
        ),
        "pool_worker_entered" => format!(
            "fn main() {{\n    use rayon::prelude::*;\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    let handle = rt.handle().clone();\n    let n: usize = vec![1usize]\n        .par_iter()\n        .map(|_| {{\n            let _guard = handle.enter();\n{setup}            {call}\n        }})\n        .sum();\n    rt.block_on(async {{ println!(\"{{n}}\") }});\n}}\n"
        ),
        "futures_executor" => format!(
            "fn main() {{\n    let n = futures::executor::block_on(async {{\n{setup}        {call}\n    }});\n    println!(\"{{n}}\");\n}}\n"
        ),
        "smol_executor" => format!(
            "fn main() {{\n    let n = smol::block_on(async {{\n{setup}        {call}\n    }});\n    println!(\"{{n}}\");\n}}\n"
        ),
        // A sync helper of the program drives the future; the twin enters a runtime around it,
        // so the thread keeps Tokio's context under the other executor.
        "futures_executor_in_helper" | "futures_executor_under_enter_guard" => {
            let guard = if ctx == "futures_executor_in_helper" {
                ""
            } else {
                "    let rt = tokio::runtime::Runtime::new().unwrap();\n    let _guard = rt.enter();\n"
            };
            format!(
                "fn wait<F: std::future::Future>(fut: F) -> F::Output {{\n    futures::executor::block_on(fut)\n}}\n\nfn main() {{\n{guard}    let n = wait(async {{\n{setup}        {call}\n    }});\n    println!(\"{{n}}\");\n}}\n"
            )
        }
        // The future of an async function handed to a sync helper that drives it: on the
        // `futures` executor, or (the twin) on a Tokio runtime the helper builds.
        "futures_executor_helper_fn" | "tokio_runtime_helper_fn" => {
            let drive = if ctx == "futures_executor_helper_fn" {
                "futures::executor::block_on(fut)"
            } else {
                "tokio::runtime::Runtime::new().unwrap().block_on(fut)"
            };
            format!(
                "async fn driven_job() -> String {{\n{setup}    let n = {call};\n    n.to_string()\n}}\n\nfn drive<F: std::future::Future>(fut: F) -> F::Output {{\n    {drive}\n}}\n\nfn main() {{\n    let n = drive(driven_job());\n    println!(\"{{n}}\");\n}}\n"
            )
        }
        // A request handler of a web framework: it runs where the framework serves it (the
        // runtime that drives `axum::serve`; an actix-web worker's current-thread runtime).
        "axum_handler" | "axum_handler_current" => {
            let attr = if ctx == "axum_handler" {
                "#[tokio::main]"
            } else {
                "#[tokio::main(flavor = \"current_thread\")]"
            };
            format!(
                "async fn serve_job() -> String {{\n{setup}    let n = {call};\n    n.to_string()\n}}\n\nfn routes() -> axum::Router {{\n    axum::Router::new().route(\"/job\", axum::routing::get(serve_job))\n}}\n\n{attr}\nasync fn main() {{\n    let listener = tokio::net::TcpListener::bind(\"127.0.0.1:0\").await.unwrap();\n    axum::serve(listener, routes()).await.unwrap();\n}}\n"
            )
        }
        "actix_handler" => format!(
            "async fn serve_job() -> String {{\n{setup}    let n = {call};\n    n.to_string()\n}}\n\n#[actix_web::main]\nasync fn main() -> std::io::Result<()> {{\n    actix_web::HttpServer::new(|| {{\n        actix_web::App::new().route(\"/job\", actix_web::web::get().to(serve_job))\n    }})\n    .bind((\"127.0.0.1\", 8080))?\n    .run()\n    .await\n}}\n"
        ),
        other => panic!("unknown context {other}"),
    }
}

fn executor_programs(out: &mut Vec<Program>) {
    for payload in PAYLOADS {
        let crossed = PLACEMENTS
            .iter()
            .flat_map(|p| payload.contexts.iter().map(move |c| (*p, *c)))
            .chain(
                EXTRA_CONTEXT_PLACEMENTS
                    .iter()
                    .flat_map(|p| extra_contexts(payload).iter().map(move |c| (*p, *c))),
            );
        for (placement, (bug_ctx, twin_ctx)) in crossed {
            // A `Drop`, `Deserialize`, `Log` or `Iterator` impl, and a lazy initialiser, are
            // sync.
            if matches!(
                placement,
                "drop_impl"
                    | "deserialize_impl"
                    | "installed_logger"
                    | "lazy_initialiser"
                    | "lazy_initialiser_fn_path"
                    | "iterator_for_loop"
                    | "into_iterator_for_loop"
                    | "hook_registry"
                    | "hook_list"
            ) && payload.is_async
            {
                continue;
            }
            {
                for twin in [false, true] {
                    let body = match (twin, payload.twin) {
                        (true, Twin::Body(b)) => b,
                        _ => payload.body,
                    };
                    let ctx = if twin { twin_ctx } else { bug_ctx };
                    let placed = place(placement, payload.is_async, body, payload.support);
                    let (setup, call) = if twin && matches!(payload.twin, Twin::SpawnBlocking) {
                        let mv = if placed.moves || placement == "inline" {
                            "move "
                        } else {
                            ""
                        };
                        (
                            placed.setup.clone(),
                            format!(
                                "tokio::task::spawn_blocking({mv}|| {}).await.unwrap()",
                                placed.call
                            ),
                        )
                    } else {
                        (placed.setup.clone(), placed.call.clone())
                    };
                    let main = format!(
                        "//! Generated program.\n\n{}\n{}",
                        placed.items,
                        context(ctx, &setup, &call)
                    );
                    let mut files = placed.files;
                    files.push((placed.main_path, main));
                    let dims = vec![
                        ("class", payload.rule.to_string()),
                        ("api", payload.name.to_string()),
                        ("placement", placement.to_string()),
                        ("context", bug_ctx.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some(payload.rule);
                    out.push(Program::new("rust", dims, rule, files));
                }
            }
        }
    }
}

/// A resource family: its type, how it is made, and one use (`{x}` is a `&T`). A
/// runtime-agnostic family makes every program correct, whatever the runtimes.
struct Family {
    name: &'static str,
    ty: &'static str,
    create: &'static str,
    use_expr: &'static str,
    agnostic: bool,
    /// Whether its I/O needs a Tokio reactor on the task that uses it: under another executor
    /// the use panics (`no-runtime-context`) rather than meeting a second runtime.
    tokio_io: bool,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "reqwest_client",
        ty: "reqwest::Client",
        create: "reqwest::Client::new()",
        use_expr: "{x}.get(\"http://127.0.0.1:9/items\").send().await.map(|r| r.status().as_u16() as usize).unwrap_or(0)",
        agnostic: false,
        tokio_io: true,
    },
    Family {
        name: "sqlx_pool",
        ty: "sqlx::PgPool",
        create: "sqlx::postgres::PgPoolOptions::new().connect_lazy(\"postgres://localhost/app\").unwrap()",
        use_expr: "sqlx::query(\"SELECT 1\").execute({x}).await.map(|r| r.rows_affected() as usize).unwrap_or(0)",
        agnostic: false,
        tokio_io: false,
    },
    // The pool is handed to a query whose builder type only linking can tell (a method of the
    // library's builder that the package might have had): a library call uses its arguments.
    Family {
        name: "sqlx_pool_argument",
        ty: "sqlx::PgPool",
        create: "sqlx::postgres::PgPoolOptions::new().connect_lazy(\"postgres://localhost/app\").unwrap()",
        use_expr: "sqlx::query_scalar::<_, i64>(\"SELECT 1\").persistent(false).fetch_one({x}).await.map(|n| n as usize).unwrap_or(0)",
        agnostic: false,
        tokio_io: false,
    },
    Family {
        name: "tokio_sync_mutex",
        ty: "tokio::sync::Mutex<usize>",
        create: "tokio::sync::Mutex::new(0)",
        use_expr: "{ let mut hits = {x}.lock().await; *hits += 1; *hits }",
        agnostic: true,
        tokio_io: false,
    },
];

/// How the resource reaches the code that uses it.
struct Travel {
    name: &'static str,
    /// Items (with `{T}`, `{CREATE}`, `{USE:expr}` holes filled in by `fill`).
    items: &'static str,
    /// Extra module file `src/clients.rs`, if any.
    module: &'static str,
    /// Statement that makes the owner in the caller; empty for statics.
    owner: &'static str,
    /// The future that does one use, given the owner.
    call: &'static str,
    /// Parameter list of a function that receives the owner (`per_call`).
    param: &'static str,
    /// Argument passing the owner to that function.
    arg: &'static str,
    /// Whether the owner is a process-wide static (shared by tests).
    is_static: bool,
}

const TRAVELS: &[Travel] = &[
    Travel {
        name: "local_capture",
        items: "",
        module: "",
        owner: "let client = {CREATE};",
        call: "async { {USE:&client} }",
        param: "client: &{T}",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "parameter",
        items: "async fn fetch(client: &{T}) -> usize {\n    {USE:client}\n}\n",
        module: "",
        owner: "let client = {CREATE};",
        call: "fetch(&client)",
        param: "client: &{T}",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "helper_return",
        items: "fn make_client() -> {T} {\n    {CREATE}\n}\n\nasync fn fetch(client: &{T}) -> usize {\n    {USE:client}\n}\n",
        module: "",
        owner: "let client = make_client();",
        call: "fetch(&client)",
        param: "client: &{T}",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "struct_field",
        items: "struct Api {\n    client: {T},\n}\n\nimpl Api {\n    fn new() -> Self {\n        Api { client: {CREATE} }\n    }\n\n    async fn fetch(&self) -> usize {\n        {USE:&self.client}\n    }\n}\n",
        module: "",
        owner: "let api = Api::new();",
        call: "api.fetch()",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "field_of_field",
        items: "struct Inner {\n    client: {T},\n}\n\nstruct App {\n    inner: Inner,\n}\n\nimpl App {\n    fn new() -> Self {\n        App { inner: Inner { client: {CREATE} } }\n    }\n\n    async fn fetch(&self) -> usize {\n        {USE:&self.inner.client}\n    }\n}\n",
        module: "",
        owner: "let app = App::new();",
        call: "app.fetch()",
        param: "app: &App",
        arg: "&app",
        is_static: false,
    },
    Travel {
        name: "arc_clone",
        items: "async fn fetch(client: std::sync::Arc<{T}>) -> usize {\n    {USE:&*client}\n}\n",
        module: "",
        owner: "let client = std::sync::Arc::new({CREATE});",
        call: "fetch(std::sync::Arc::clone(&client))",
        param: "client: &std::sync::Arc<{T}>",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "static_lazy",
        items: "static CLIENT: std::sync::LazyLock<{T}> = std::sync::LazyLock::new(|| {CREATE});\n\nasync fn fetch() -> usize {\n    {USE:&CLIENT}\n}\n",
        module: "",
        owner: "",
        call: "fetch()",
        param: "",
        arg: "",
        is_static: true,
    },
    Travel {
        name: "getter",
        items: "fn client() -> &'static {T} {\n    static CLIENT: std::sync::OnceLock<{T}> = std::sync::OnceLock::new();\n    CLIENT.get_or_init(|| {CREATE})\n}\n\nasync fn fetch() -> usize {\n    let client = client();\n    {USE:client}\n}\n",
        module: "",
        owner: "",
        call: "fetch()",
        param: "",
        arg: "",
        is_static: true,
    },
    Travel {
        name: "getter_let_bound",
        items: "fn client() -> &'static {T} {\n    static CLIENT: std::sync::OnceLock<{T}> = std::sync::OnceLock::new();\n    let shared = CLIENT.get_or_init(|| {CREATE});\n    shared\n}\n\nasync fn fetch() -> usize {\n    let client = client();\n    {USE:client}\n}\n",
        module: "",
        owner: "",
        call: "fetch()",
        param: "",
        arg: "",
        is_static: true,
    },
    Travel {
        name: "getter_in_module",
        items: "mod clients;\n\nasync fn fetch() -> usize {\n    let client = clients::client();\n    {USE:client}\n}\n",
        module: "//! Process-wide clients.\n\npub fn client() -> &'static {T} {\n    static CLIENT: std::sync::OnceLock<{T}> = std::sync::OnceLock::new();\n    CLIENT.get_or_init(|| {CREATE})\n}\n",
        owner: "",
        call: "fetch()",
        param: "",
        arg: "",
        is_static: true,
    },
    Travel {
        name: "block_on_result",
        items: "async fn connect() -> {T} {\n    {CREATE}\n}\n\nasync fn fetch(client: &{T}) -> usize {\n    {USE:client}\n}\n",
        module: "",
        owner: "let client = {OWNER_RT}.block_on(connect());",
        call: "fetch(&client)",
        param: "client: &{T}",
        arg: "&client",
        is_static: false,
    },
    // A value of the package with a bound field, built by the body a runtime blocks on and
    // handed back by `block_on`.
    Travel {
        name: "block_on_result_struct",
        items: "struct Api {\n    client: {T},\n}\n\nimpl Api {\n    fn new() -> Self {\n        Api { client: {CREATE} }\n    }\n\n    async fn fetch(&self) -> usize {\n        {USE:&self.client}\n    }\n}\n",
        module: "",
        owner: "let api = {OWNER_RT}.block_on(async { Api::new() });",
        call: "api.fetch()",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "arc_field",
        items: "struct Api {\n    client: std::sync::Arc<{T}>,\n}\n\nimpl Api {\n    fn new() -> Self {\n        Api { client: std::sync::Arc::new({CREATE}) }\n    }\n\n    async fn fetch(&self) -> usize {\n        {USE:&self.client}\n    }\n}\n",
        module: "",
        owner: "let api = Api::new();",
        call: "api.fetch()",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "builder_chain",
        items: "struct Api {\n    client: {T},\n    retries: usize,\n}\n\n#[derive(Default)]\nstruct ApiBuilder {\n    retries: usize,\n}\n\nimpl ApiBuilder {\n    fn retries(mut self, n: usize) -> Self {\n        self.retries = n;\n        self\n    }\n\n    fn build(self) -> Api {\n        Api { client: {CREATE}, retries: self.retries }\n    }\n}\n\nimpl Api {\n    fn builder() -> ApiBuilder {\n        ApiBuilder::default()\n    }\n\n    async fn fetch(&self) -> usize {\n        self.retries + {USE:&self.client}\n    }\n}\n",
        module: "",
        owner: "let api = Api::builder().retries(3).build();",
        call: "api.fetch()",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "trait_accessor",
        items: "trait Backend {\n    fn client(&self) -> &{T};\n}\n\nstruct Api {\n    client: {T},\n}\n\nimpl Backend for Api {\n    fn client(&self) -> &{T} {\n        &self.client\n    }\n}\n\nasync fn fetch<B: Backend>(backend: &B) -> usize {\n    {USE:backend.client()}\n}\n",
        module: "",
        owner: "let api = Api { client: {CREATE} };",
        call: "fetch(&api)",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "once_lock_field",
        items: "struct Api {\n    client: std::sync::OnceLock<{T}>,\n}\n\nimpl Api {\n    fn client(&self) -> &{T} {\n        self.client.get_or_init(|| {CREATE})\n    }\n\n    async fn fetch(&self) -> usize {\n        {USE:self.client()}\n    }\n}\n",
        module: "",
        owner: "let api = Api { client: std::sync::OnceLock::new() };",
        call: "api.fetch()",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "mutex_field",
        items: "struct Api {\n    client: std::sync::Mutex<Option<{T}>>,\n}\n\nimpl Api {\n    fn new() -> Self {\n        Api { client: std::sync::Mutex::new(Some({CREATE})) }\n    }\n\n    async fn fetch(&self) -> usize {\n        let client = self.client.lock().unwrap().take().expect(\"client\");\n        let n = {USE:&client};\n        *self.client.lock().unwrap() = Some(client);\n        n\n    }\n}\n",
        module: "",
        owner: "let api = Api::new();",
        call: "api.fetch()",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "async_mutex_parameter",
        items: "async fn fetch(client: &std::sync::Arc<tokio::sync::Mutex<{T}>>) -> usize {\n    let guard = client.lock().await;\n    {USE:&*guard}\n}\n",
        module: "",
        owner: "let client = std::sync::Arc::new(tokio::sync::Mutex::new({CREATE}));",
        call: "fetch(&client)",
        param: "client: &std::sync::Arc<tokio::sync::Mutex<{T}>>",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "async_mutex_alias_from_module",
        items: "mod clients;\n\nuse clients::Shared;\n\nasync fn fetch(client: &Shared) -> usize {\n    let guard = client.lock().await;\n    {USE:&*guard}\n}\n",
        module: "//! Shared clients.\n\npub type Shared = std::sync::Arc<tokio::sync::Mutex<{T}>>;\n",
        owner: "let client: Shared = std::sync::Arc::new(tokio::sync::Mutex::new({CREATE}));",
        call: "fetch(&client)",
        param: "client: &Shared",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "async_rwlock_field",
        items: "struct Api {\n    client: std::sync::Arc<tokio::sync::RwLock<{T}>>,\n}\n\nimpl Api {\n    fn new() -> Self {\n        Api { client: std::sync::Arc::new(tokio::sync::RwLock::new({CREATE})) }\n    }\n\n    async fn fetch(&self) -> usize {\n        {USE:&*self.client.read().await}\n    }\n}\n",
        module: "",
        owner: "let api = Api::new();",
        call: "api.fetch()",
        param: "api: &Api",
        arg: "&api",
        is_static: false,
    },
    Travel {
        name: "channel",
        items: "async fn fetch(client: &{T}) -> usize {\n    {USE:client}\n}\n",
        module: "",
        owner: "let (tx, rx) = std::sync::mpsc::channel();\n    tx.send({CREATE}).unwrap();\n    let client = rx.recv().unwrap();",
        call: "fetch(&client)",
        param: "client: &{T}",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "channel_crate",
        items: "async fn fetch(client: &{T}) -> usize {\n    {USE:client}\n}\n",
        module: "",
        owner: "let (tx, rx) = flume::bounded(1);\n    tx.send({CREATE}).unwrap();\n    let client = rx.recv().unwrap();",
        call: "fetch(&client)",
        param: "client: &{T}",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "thread_join",
        items: "async fn fetch(client: &{T}) -> usize {\n    {USE:client}\n}\n",
        module: "",
        owner: "let client = std::thread::spawn(move || {CREATE}).join().unwrap();",
        call: "fetch(&client)",
        param: "client: &{T}",
        arg: "&client",
        is_static: false,
    },
    Travel {
        name: "static_struct_field",
        items: "struct Api {\n    client: {T},\n}\n\nstatic API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();\n\nfn api() -> &'static Api {\n    API.get_or_init(|| Api { client: {CREATE} })\n}\n\nimpl Api {\n    async fn fetch(&self) -> usize {\n        {USE:&self.client}\n    }\n}\n",
        module: "",
        owner: "",
        call: "api().fetch()",
        param: "",
        arg: "",
        is_static: true,
    },
    Travel {
        name: "lazy_static_struct_field",
        items: "struct Api {\n    client: {T},\n}\n\nstatic API: std::sync::LazyLock<Api> = std::sync::LazyLock::new(|| Api { client: {CREATE} });\n\nimpl Api {\n    async fn fetch(&self) -> usize {\n        {USE:&self.client}\n    }\n}\n",
        module: "",
        owner: "",
        call: "API.fetch()",
        param: "",
        arg: "",
        is_static: true,
    },
    Travel {
        name: "lazy_static",
        items: "lazy_static::lazy_static! {\n    static ref CLIENT: {T} = {CREATE};\n}\n\nasync fn fetch() -> usize {\n    {USE:&*CLIENT}\n}\n",
        module: "",
        owner: "",
        call: "fetch()",
        param: "",
        arg: "",
        is_static: true,
    },
];

const MULTIPLICITIES: &[&str] = &[
    "two_in_sequence",
    "per_loop_iteration",
    "helper_per_loop_iteration",
    "per_call",
    "per_thread",
    "per_item_rayon",
    "two_tokio_tests",
    "tokio_then_futures_executor",
];

/// Fills the holes of a travel template for one family. A use line is tagged: it is where the
/// resource meets the second runtime.
fn fill(template: &str, fam: &Family, tag: bool) -> String {
    let mut s = template
        .replace("{T}", fam.ty)
        .replace("{CREATE}", fam.create);
    while let Some(at) = s.find("{USE:") {
        let end = at + s[at..].find('}').expect("closing brace");
        let x = &s[at + 5..end];
        let use_expr = fam.use_expr.replace("{x}", x);
        s = format!("{}{use_expr}{}", &s[..at], &s[end + 1..]);
        if tag {
            let line_end = s[at..].find('\n').map_or(s.len(), |i| at + i);
            s.insert_str(line_end, " @?");
        }
    }
    s
}

fn shared_programs(out: &mut Vec<Program>) {
    for fam in FAMILIES {
        for travel in TRAVELS {
            for mult in MULTIPLICITIES {
                if *mult == "two_tokio_tests" && !travel.is_static {
                    continue;
                }
                // The futures executor has no reactor: a family that may work there is left
                // out, unless it works under any executor.
                let foreign = *mult == "tokio_then_futures_executor";
                if foreign && !fam.tokio_io && !fam.agnostic {
                    continue;
                }
                if travel.name.starts_with("block_on_result")
                    && !matches!(
                        *mult,
                        "two_in_sequence" | "per_loop_iteration" | "tokio_then_futures_executor"
                    )
                {
                    continue;
                }
                for twin in [false, true] {
                    let owner_rt = if twin {
                        "rt"
                    } else {
                        "tokio::runtime::Runtime::new().unwrap()"
                    };
                    let owner = fill(travel.owner, fam, false).replace("{OWNER_RT}", owner_rt);
                    let call = fill(travel.call, fam, false);
                    let param = fill(travel.param, fam, false);
                    let owner = if owner.is_empty() {
                        String::new()
                    } else {
                        format!("    {owner}\n")
                    };
                    let body = shared_main(mult, twin, &owner, &call, &param, travel.arg);
                    let main = format!(
                        "//! Generated program.\n\n{}\n{body}",
                        fill(travel.items, fam, true)
                    );
                    let extra = if *mult == "per_item_rayon" {
                        "rayon = \"1\"\n"
                    } else {
                        ""
                    };
                    let mut files = vec![
                        ("Cargo.toml".to_string(), cargo_toml("scen", extra)),
                        ("src/main.rs".to_string(), main),
                    ];
                    if !travel.module.is_empty() {
                        files.push(("src/clients.rs".to_string(), fill(travel.module, fam, true)));
                    }
                    let class = if foreign {
                        "no-runtime-context"
                    } else {
                        "cross-runtime-resource"
                    };
                    let dims = vec![
                        ("class", class.to_string()),
                        ("family", fam.name.to_string()),
                        ("travel", travel.name.to_string()),
                        ("multiplicity", mult.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin && !fam.agnostic).then_some(class);
                    out.push(Program::new("rust", dims, rule, files));
                }
            }
        }
    }
}

/// The code that runs the uses: under two runtimes (bug) or under one (twin).
fn shared_main(mult: &str, twin: bool, owner: &str, call: &str, param: &str, arg: &str) -> String {
    const RT: &str = "tokio::runtime::Runtime::new().unwrap()";
    const HELPER_RT: &str = "fn make_runtime() -> tokio::runtime::Runtime {\n    tokio::runtime::Runtime::new().unwrap()\n}\n\n";
    const STATIC_RT: &str = "static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> =\n    std::sync::LazyLock::new(|| tokio::runtime::Runtime::new().unwrap());\n\n";
    match (mult, twin) {
        ("two_in_sequence", false) => format!(
            "fn main() {{\n{owner}    let first = {RT};\n    let a = first.block_on({call}); @?\n    drop(first);\n    let second = {RT};\n    let b = second.block_on({call}); @@\n    println!(\"{{a}} {{b}}\");\n}}\n"
        ),
        ("two_in_sequence", true) => format!(
            "fn main() {{\n    let rt = {RT};\n{owner}    let a = rt.block_on({call});\n    let b = rt.block_on({call});\n    println!(\"{{a}} {{b}}\");\n}}\n"
        ),
        ("per_loop_iteration", false) => format!(
            "fn main() {{\n{owner}    for day in 0..3 {{\n        let rt = {RT};\n        let n = rt.block_on({call}); @@\n        println!(\"{{day}}: {{n}}\");\n    }}\n}}\n"
        ),
        ("per_loop_iteration", true) => format!(
            "fn main() {{\n    let rt = {RT};\n{owner}    for day in 0..3 {{\n        let n = rt.block_on({call});\n        println!(\"{{day}}: {{n}}\");\n    }}\n}}\n"
        ),
        ("helper_per_loop_iteration", false) => format!(
            "{HELPER_RT}fn main() {{\n{owner}    for day in 0..3 {{\n        let rt = make_runtime();\n        let n = rt.block_on({call}); @@\n        println!(\"{{day}}: {{n}}\");\n    }}\n}}\n"
        ),
        ("helper_per_loop_iteration", true) => format!(
            "{HELPER_RT}fn main() {{\n    let rt = make_runtime();\n{owner}    for day in 0..3 {{\n        let n = rt.block_on({call});\n        println!(\"{{day}}: {{n}}\");\n    }}\n}}\n"
        ),
        ("per_call", false) => format!(
            "pub fn fetch_blocking({param}) -> usize {{\n    let rt = {RT};\n    rt.block_on({call}) @@\n}}\n\nfn main() {{\n{owner}    let a = fetch_blocking({arg});\n    let b = fetch_blocking({arg});\n    println!(\"{{a}} {{b}}\");\n}}\n"
        ),
        ("per_call", true) => format!(
            "{STATIC_RT}pub fn fetch_blocking({param}) -> usize {{\n    RUNTIME.block_on({call})\n}}\n\nfn main() {{\n{owner}    let a = fetch_blocking({arg});\n    let b = fetch_blocking({arg});\n    println!(\"{{a}} {{b}}\");\n}}\n"
        ),
        ("per_thread", false) => format!(
            "fn main() {{\n{owner}    std::thread::scope(|s| {{\n        for _ in 0..2 {{\n            s.spawn(|| {{\n                let rt = {RT};\n                rt.block_on({call}) @@\n            }});\n        }}\n    }});\n}}\n"
        ),
        ("per_thread", true) => format!(
            "{STATIC_RT}fn main() {{\n{owner}    std::thread::scope(|s| {{\n        for _ in 0..2 {{\n            s.spawn(|| RUNTIME.block_on({call}));\n        }}\n    }});\n}}\n"
        ),
        // A parallel iterator runs its closure once per item, on rayon's workers.
        ("per_item_rayon", false) => format!(
            "use rayon::prelude::*;\n\nfn main() {{\n{owner}    (0..2).into_par_iter().for_each(|_| {{\n        let rt = {RT};\n        let n = rt.block_on({call}); @@\n        println!(\"{{n}}\");\n    }});\n}}\n"
        ),
        ("per_item_rayon", true) => format!(
            "use rayon::prelude::*;\n\n{STATIC_RT}fn main() {{\n{owner}    (0..2).into_par_iter().for_each(|_| {{\n        let n = RUNTIME.block_on({call});\n        println!(\"{{n}}\");\n    }});\n}}\n"
        ),
        ("two_tokio_tests", false) => format!(
            "fn main() {{}}\n\n#[tokio::test]\nasync fn first_fetch() {{\n    let n = {call}.await; @?\n    assert!(n < 1000);\n}}\n\n#[tokio::test]\nasync fn second_fetch() {{\n    let n = {call}.await; @@\n    assert!(n < 1000);\n}}\n"
        ),
        ("two_tokio_tests", true) => format!(
            "{STATIC_RT}fn main() {{}}\n\n#[test]\nfn first_fetch() {{\n    let n = RUNTIME.block_on({call});\n    assert!(n < 1000);\n}}\n\n#[test]\nfn second_fetch() {{\n    let n = RUNTIME.block_on({call});\n    assert!(n < 1000);\n}}\n"
        ),
        // The second use runs on the `futures` executor: no Tokio reactor there, unless the
        // runtime is entered around it.
        ("tokio_then_futures_executor", false) => format!(
            "fn main() {{\n    let rt = {RT};\n{owner}    let a = rt.block_on({call});\n    let b = futures::executor::block_on({call}); @@\n    println!(\"{{a}} {{b}}\");\n}}\n"
        ),
        ("tokio_then_futures_executor", true) => format!(
            "fn main() {{\n    let rt = {RT};\n{owner}    let a = rt.block_on({call});\n    let _guard = rt.enter();\n    let b = futures::executor::block_on({call});\n    println!(\"{{a}} {{b}}\");\n}}\n"
        ),
        other => panic!("unknown multiplicity {other:?}"),
    }
}

/// How a runtime handle reaches the code that uses it after (or, in the twin, before) the
/// runtime closes: `(name, items, obtain in main, use expression in main)`. The use inside an
/// item is tagged `@@`; a use in `main` is tagged by the caller.
const HANDLE_TRAVELS: &[(&str, &str, &str, &str)] = &[
    (
        "local",
        "",
        "let handle = rt.handle().clone();",
        "{USE:handle}",
    ),
    (
        "helper_return",
        "fn handle_of(rt: &tokio::runtime::Runtime) -> tokio::runtime::Handle {\n    rt.handle().clone()\n}\n",
        "let handle = handle_of(&rt);",
        "{USE:handle}",
    ),
    (
        "parameter",
        "fn report(handle: &tokio::runtime::Handle) -> usize {\n    {USE:handle} @@\n}\n",
        "let handle = rt.handle().clone();",
        "report(&handle)",
    ),
    (
        "struct_field",
        "struct Reporter {\n    handle: tokio::runtime::Handle,\n}\n\nimpl Reporter {\n    fn report(&self) -> usize {\n        {USE:self.handle} @@\n    }\n}\n",
        "let reporter = Reporter { handle: rt.handle().clone() };",
        "reporter.report()",
    ),
    (
        "static_once_lock",
        "static HANDLE: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();\n\nfn report() -> usize {\n    {USE:HANDLE.get().expect(\"handle set\")} @@\n}\n",
        "HANDLE.set(rt.handle().clone()).expect(\"set once\");",
        "report()",
    ),
    (
        "getter",
        "static HANDLE: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();\n\nfn handle() -> &'static tokio::runtime::Handle {\n    HANDLE.get().expect(\"handle set\")\n}\n",
        "HANDLE.set(rt.handle().clone()).expect(\"set once\");",
        "{USE:handle()}",
    ),
];

const CLOSES: &[(&str, &str)] = &[
    ("drop", "drop(rt);"),
    ("shutdown_background", "rt.shutdown_background();"),
    (
        "shutdown_timeout",
        "rt.shutdown_timeout(std::time::Duration::from_secs(1));",
    ),
];

const HANDLE_USES: &[(&str, &str)] = &[
    ("block_on", "{h}.block_on(async { 1 })"),
    ("spawn", "{ {h}.spawn(async { 1 }); 1 }"),
];

/// Where the runtime that a handle outlives is built: `(name, expression in main, items of
/// the main file, module file)`. Built by a helper, its library type is known only once the
/// program is linked.
const RUNTIME_SOURCES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "inline",
        "tokio::runtime::Runtime::new().unwrap()",
        "",
        None,
    ),
    (
        "helper_below",
        "build_runtime()",
        "\nfn build_runtime() -> tokio::runtime::Runtime {\n    tokio::runtime::Runtime::new().unwrap()\n}\n",
        None,
    ),
    (
        "module_factory",
        "factory::build_runtime()",
        "",
        Some(
            "//! Runtime factory.\n\npub fn build_runtime() -> tokio::runtime::Runtime {\n    tokio::runtime::Builder::new_multi_thread()\n        .enable_all()\n        .build()\n        .expect(\"runtime\")\n}\n",
        ),
    ),
];

/// `t` with each `{USE:h}` replaced by the handle use `use_expr` of handle `h`.
fn fill_uses(t: &str, use_expr: &str) -> String {
    let mut s = t.to_string();
    while let Some(at) = s.find("{USE:") {
        let end = at + s[at..].find('}').expect("closing brace");
        let h = s[at + 5..end].to_string();
        s = format!(
            "{}{}{}",
            &s[..at],
            use_expr.replace("{h}", &h),
            &s[end + 1..]
        );
    }
    s
}

fn closed_handle_programs(out: &mut Vec<Program>) {
    for (travel, items, obtain, use_main) in HANDLE_TRAVELS {
        for (close_name, close) in CLOSES {
            for (use_name, use_expr) in HANDLE_USES {
                for &(source, build, source_items, module) in RUNTIME_SOURCES {
                    for twin in [false, true] {
                        let items = fill_uses(items, use_expr);
                        let call = fill_uses(use_main, use_expr);
                        let (tag, caller_tag) = if use_main.contains("{USE:") {
                            (" @@", "")
                        } else {
                            (" @?", "")
                        };
                        let use_line = format!("    let n = {call};{tag}{caller_tag}\n");
                        let close_line = format!("    {close}\n");
                        let (first, second) = if twin {
                            (use_line, close_line)
                        } else {
                            (close_line, use_line)
                        };
                        let modline = if module.is_some() {
                            "mod factory;\n\n"
                        } else {
                            ""
                        };
                        let main = format!(
                            "//! Generated program.\n\n{modline}{items}\nfn main() {{\n    let rt = {build};\n    {obtain}\n    let warmup = rt.block_on(async {{ 2 }});\n{first}{second}    println!(\"{{warmup}} {{n}}\");\n}}\n{source_items}"
                        );
                        let mut files = main_crate(main);
                        if let Some(m) = module {
                            files.push(("src/factory.rs".to_string(), m.to_string()));
                        }
                        let dims = vec![
                            ("class", "use-after-runtime-close".to_string()),
                            ("handle_travel", travel.to_string()),
                            ("close", close_name.to_string()),
                            ("use", use_name.to_string()),
                            ("runtime_source", source.to_string()),
                            ("twin", if twin { "correct" } else { "bug" }.to_string()),
                        ];
                        let rule = (!twin).then_some("use-after-runtime-close");
                        out.push(Program::new("rust", dims, rule, files));
                    }
                }
            }
        }
    }
}

/// Runtimes built in place and never bound, whose handle a `let` keeps: the runtime dies at
/// the end of that statement. `(name, expression)`.
const TEMPORARY_RUNTIMES: &[(&str, &str)] = &[
    ("runtime_new", "tokio::runtime::Runtime::new().unwrap()"),
    (
        "multi_thread_builder",
        "tokio::runtime::Builder::new_multi_thread()\n        .enable_all()\n        .build()\n        .expect(\"runtime\")",
    ),
    (
        "current_thread_builder",
        "tokio::runtime::Builder::new_current_thread()\n        .enable_all()\n        .build()\n        .expect(\"runtime\")",
    ),
];

/// How the handle of a temporary runtime travels to its use: `(name, items, use in main)`;
/// `{USE:h}` is the use of the handle `h`.
const TEMPORARY_HANDLE_TRAVELS: &[(&str, &str, &str)] = &[
    ("local", "", "{USE:handle}"),
    (
        "parameter",
        "fn report(handle: &tokio::runtime::Handle) -> usize {\n    {USE:handle} @@\n}\n",
        "report(&handle)",
    ),
    (
        "struct_literal",
        "struct Reporter {\n    handle: tokio::runtime::Handle,\n}\n\nimpl Reporter {\n    fn report(&self) -> usize {\n        {USE:self.handle} @@\n    }\n}\n",
        "Reporter { handle }.report()",
    ),
    (
        "constructor",
        "struct Reporter {\n    handle: tokio::runtime::Handle,\n}\n\nimpl Reporter {\n    fn new(handle: tokio::runtime::Handle) -> Self {\n        Reporter { handle }\n    }\n\n    fn report(&self) -> usize {\n        {USE:self.handle} @@\n    }\n}\n",
        "Reporter::new(handle).report()",
    ),
    (
        "boxed_trait_object",
        "trait Job {\n    fn report(&self) -> usize;\n}\n\nstruct Reporter {\n    handle: tokio::runtime::Handle,\n}\n\nimpl Job for Reporter {\n    fn report(&self) -> usize {\n        {USE:self.handle} @@\n    }\n}\n",
        "{ let job: Box<dyn Job> = Box::new(Reporter { handle }); job.report() }",
    ),
];

/// A handle taken from a runtime that is built in place and never bound, used after the
/// statement that dropped the runtime; twins bind the runtime and keep it alive.
fn temporary_runtime_programs(out: &mut Vec<Program>) {
    for (source, build) in TEMPORARY_RUNTIMES {
        for (travel, items, use_main) in TEMPORARY_HANDLE_TRAVELS {
            for (use_name, use_expr) in HANDLE_USES {
                for twin in [false, true] {
                    let items = fill_uses(items, use_expr);
                    let call = fill_uses(use_main, use_expr);
                    let tag = if use_main.contains("{USE:") {
                        " @@"
                    } else {
                        ""
                    };
                    let obtain = if twin {
                        format!("let rt = {build};\n    let handle = rt.handle().clone();")
                    } else {
                        format!("let handle = {build}.handle().clone();")
                    };
                    let main = format!(
                        "//! Generated program.\n\n{items}\nfn main() {{\n    {obtain}\n    let n = {call};{tag}\n    println!(\"{{n}}\");\n}}\n"
                    );
                    let dims = vec![
                        ("class", "use-after-runtime-close".to_string()),
                        ("temporary_runtime", source.to_string()),
                        ("handle_travel", travel.to_string()),
                        ("use", use_name.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some("use-after-runtime-close");
                    out.push(Program::new("rust", dims, rule, main_crate(main)));
                }
            }
        }
    }
}

/// How a struct gets the handle of `main`'s runtime: `(name, items, expression)`; `{METHODS}`
/// is the impl body with the spawning method.
const HANDLE_HOLDERS: &[(&str, &str, &str)] = &[
    (
        "constructor",
        "struct Uploader {\n    handle: tokio::runtime::Handle,\n}\n\nimpl Uploader {\n    fn new(handle: tokio::runtime::Handle) -> Self {\n        Uploader { handle }\n    }\n\n{METHODS}}\n",
        "Uploader::new(rt.handle().clone())",
    ),
    (
        "struct_literal",
        "struct Uploader {\n    handle: tokio::runtime::Handle,\n}\n\nimpl Uploader {\n{METHODS}}\n",
        "Uploader { handle: rt.handle().clone() }",
    ),
    (
        "boxed_trait_object",
        "trait Upload {\n    fn upload(&self, n: u32) -> Option<tokio::task::JoinHandle<u32>>;\n}\n\nstruct Uploader {\n    handle: tokio::runtime::Handle,\n}\n\nimpl Upload for Uploader {\n{METHODS}}\n",
        "{ let up: Box<dyn Upload> = Box::new(Uploader { handle: rt.handle().clone() }); up }",
    ),
];

/// Where the method spawns through the handle field: `(name, bug method, twin method, bug
/// items, twin items)`; the bug detaches the task, the twin hands its join handle back.
const FIELD_SPAWN_SITES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "method",
        "    fn upload(&self, n: u32) -> Option<tokio::task::JoinHandle<u32>> {\n        self.handle.spawn(send(n)); @@\n        None\n    }\n",
        "    fn upload(&self, n: u32) -> Option<tokio::task::JoinHandle<u32>> {\n        Some(self.handle.spawn(send(n)))\n    }\n",
        "",
        "",
    ),
    (
        "helper",
        "    fn upload(&self, n: u32) -> Option<tokio::task::JoinHandle<u32>> {\n        spawn_and_forget(&self.handle, n);\n        None\n    }\n",
        "    fn upload(&self, n: u32) -> Option<tokio::task::JoinHandle<u32>> {\n        Some(spawn_send(&self.handle, n))\n    }\n",
        "fn spawn_and_forget(handle: &tokio::runtime::Handle, n: u32) {\n    handle.spawn(send(n)); @@\n}\n",
        "fn spawn_send(handle: &tokio::runtime::Handle, n: u32) -> tokio::task::JoinHandle<u32> {\n    handle.spawn(send(n))\n}\n",
    ),
];

/// How `main` ends the runtime after the upload: `(name, line)`.
const OWNER_RUNTIME_ENDS: &[(&str, &str)] = &[
    ("scope_end", ""),
    ("drop", "    drop(rt);\n"),
    (
        "shutdown_timeout",
        "    rt.shutdown_timeout(std::time::Duration::from_millis(100));\n",
    ),
];

/// A task spawned through a handle kept in a struct field, by a method that `main` calls, and
/// detached, while `main` ends the runtime that it built; twins hand the join handle back and
/// `main` blocks on it first.
fn field_handle_spawn_programs(out: &mut Vec<Program>) {
    for (holder, items, make) in HANDLE_HOLDERS {
        for (site, bug_method, twin_method, bug_items, twin_items) in FIELD_SPAWN_SITES {
            for (end_name, end) in OWNER_RUNTIME_ENDS {
                for twin in [false, true] {
                    let (method, site_items, use_line) = if twin {
                        (
                            twin_method,
                            twin_items,
                            "    let n = up.upload(1).map(|task| rt.block_on(task).unwrap());\n",
                        )
                    } else {
                        (
                            bug_method,
                            bug_items,
                            "    let n = up.upload(1).map(|_| 0);\n",
                        )
                    };
                    let items = items.replace("{METHODS}", method);
                    let main = format!(
                        "//! Generated program.\n\nasync fn send(n: u32) -> u32 {{\n    tokio::time::sleep(std::time::Duration::from_millis(5)).await;\n    n\n}}\n\n{site_items}\n{items}\nfn main() {{\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    let up = {make};\n{use_line}{end}    println!(\"{{n:?}}\");\n}}\n"
                    );
                    let dims = vec![
                        ("class", "runtime-dropped-with-live-tasks".to_string()),
                        ("handle_holder", holder.to_string()),
                        ("spawn_site", site.to_string()),
                        ("runtime_end", end_name.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some("runtime-dropped-with-live-tasks");
                    out.push(Program::new("rust", dims, rule, main_crate(main)));
                }
            }
        }
    }
}

/// How the body that built the runtime reaches it through a handle of its own: `(name, the
/// binding line, the receiver of the spawn)`.
const LOCAL_HANDLES: &[(&str, &str, &str)] = &[
    ("clone", "    let handle = rt.handle().clone();\n", "handle"),
    ("borrow", "    let handle = rt.handle();\n", "handle"),
    ("inline", "", "rt.handle()"),
];

/// A task spawned through a handle to the runtime the body built, after its last `block_on`,
/// and detached, while the body ends the runtime; twins block on the task first.
fn local_handle_spawn_programs(out: &mut Vec<Program>) {
    for (how, bind, recv) in LOCAL_HANDLES {
        for (end_name, end) in OWNER_RUNTIME_ENDS {
            for twin in [false, true] {
                let spawn = if twin {
                    format!(
                        "    let task = {recv}.spawn(send(n));\n    rt.block_on(task).unwrap();\n"
                    )
                } else {
                    format!("    {recv}.spawn(send(n)); @@\n")
                };
                let main = format!(
                    "//! Generated program.\n\nasync fn send(n: u32) -> u32 {{\n    tokio::time::sleep(std::time::Duration::from_millis(5)).await;\n    n\n}}\n\nfn main() {{\n    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();\n{bind}    let n = rt.block_on(send(1));\n{spawn}{end}    println!(\"{{n}}\");\n}}\n"
                );
                let dims = vec![
                    ("class", "runtime-dropped-with-live-tasks".to_string()),
                    ("local_handle", how.to_string()),
                    ("runtime_end", end_name.to_string()),
                    ("twin", if twin { "correct" } else { "bug" }.to_string()),
                ];
                let rule = (!twin).then_some("runtime-dropped-with-live-tasks");
                out.push(Program::new("rust", dims, rule, main_crate(main)));
            }
        }
    }
}

/// How a helper hands back the join handle of the task it starts: `(name, helper body)`.
const HANDLE_RETURNS: &[(&str, &str)] = &[
    ("tail", "    tokio::spawn(send(n)) @@\n"),
    (
        "binding",
        "    let task = tokio::spawn(send(n)); @@\n    task\n",
    ),
    (
        "return",
        "    if n > 100 {\n        println!(\"large batch\");\n    }\n    return tokio::spawn(send(n)); @@\n",
    ),
];

/// What the caller does with the returned handle: `(name, statements, whether the task is
/// lost)`.
const RETURNED_HANDLE_FATES: &[(&str, &str, bool)] = &[
    ("statement", "    start(1);\n", true),
    ("let_underscore", "    let _ = start(1);\n", true),
    ("unread_binding", "    let _pending = start(1);\n", true),
    (
        "awaited",
        "    let task = start(1);\n    task.await.unwrap();\n",
        false,
    ),
    ("awaited_inline", "    start(1).await.unwrap();\n", false),
    (
        "join_all",
        "    let tasks = vec![start(1), start(2)];\n    futures::future::join_all(tasks).await;\n",
        false,
    ),
    (
        "aborted",
        "    let task = start(1);\n    task.abort();\n",
        false,
    ),
];

/// A helper starts a task and returns its join handle; the caller, in the body whose return
/// ends the runtime, throws the handle away or waits for it.
fn returned_handle_programs(out: &mut Vec<Program>) {
    for (ret, helper) in HANDLE_RETURNS {
        for (fate, stmts, lost) in RETURNED_HANDLE_FATES {
            for nested in [false, true] {
                let helper = if *lost {
                    helper.to_string()
                } else {
                    helper.replace(" @@", "")
                };
                let body = format!("{stmts}    println!(\"done\");\n");
                let main = if nested {
                    format!(
                        "async fn run() {{\n{body}}}\n\n#[tokio::main]\nasync fn main() {{\n    run().await;\n}}\n"
                    )
                } else {
                    format!("#[tokio::main]\nasync fn main() {{\n{body}}}\n")
                };
                let src = format!(
                    "//! Generated program.\n\nasync fn send(n: u32) -> u32 {{\n    tokio::time::sleep(std::time::Duration::from_millis(5)).await;\n    n\n}}\n\nfn start(n: u32) -> tokio::task::JoinHandle<u32> {{\n{helper}}}\n\n{main}"
                );
                let dims = vec![
                    ("class", "runtime-dropped-with-live-tasks".to_string()),
                    ("handle_return", ret.to_string()),
                    ("caller_fate", fate.to_string()),
                    (
                        "caller",
                        if nested { "async_helper" } else { "main" }.to_string(),
                    ),
                    ("twin", if *lost { "bug" } else { "correct" }.to_string()),
                ];
                let rule = lost.then_some("runtime-dropped-with-live-tasks");
                out.push(Program::new("rust", dims, rule, main_crate(src)));
            }
        }
    }
}

/// Where a sync `stop` method runs: `(name, main, whether it runs in async context)`.
const STOP_CALLERS: &[(&str, &str, bool)] = &[
    (
        "tokio_main",
        "#[tokio::main]\nasync fn main() {\n    let mut engine = Engine::new();\n    tokio::task::yield_now().await;\n    engine.stop();\n}\n",
        true,
    ),
    (
        "async_helper",
        "async fn shutdown(engine: &mut Engine) {\n    tokio::task::yield_now().await;\n    engine.stop();\n}\n\n#[tokio::main]\nasync fn main() {\n    let mut engine = Engine::new();\n    shutdown(&mut engine).await;\n}\n",
        true,
    ),
    (
        "sync_main_after_block_on",
        "fn main() {\n    let mut engine = Engine::new();\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    rt.block_on(async {\n        tokio::task::yield_now().await;\n    });\n    engine.stop();\n}\n",
        false,
    ),
    (
        "spawn_blocking",
        "#[tokio::main]\nasync fn main() {\n    let mut engine = Engine::new();\n    tokio::task::spawn_blocking(move || engine.stop()).await.unwrap();\n}\n",
        false,
    ),
];

/// A sync method takes the runtime out of an `Option` field and ends it (a shutdown that
/// waits, or a drop), called from async code; twins shut it down in the background, or call
/// the method from sync code or the blocking pool.
fn sync_stop_programs(out: &mut Vec<Program>) {
    for (stop_name, _, _, stop) in OWNER_STOPS {
        for (caller, main, in_async) in STOP_CALLERS {
            let bug = *in_async && !stop.contains("shutdown_background");
            let mut body = String::new();
            for line in stop.lines() {
                body.push_str(line);
                if line.contains("shutdown_") || line.contains("drop(") {
                    body.push_str(if bug { " @@" } else { "" });
                }
                body.push('\n');
            }
            let items = format!(
                "struct Engine {{\n    rt: Option<tokio::runtime::Runtime>,\n}}\n\nimpl Engine {{\n    fn new() -> Self {{\n        Engine {{ rt: Some(tokio::runtime::Runtime::new().unwrap()) }}\n    }}\n\n    fn stop(&mut self) {{\n{body}    }}\n}}\n"
            );
            let program = format!("//! Generated program.\n\n{items}\n{main}");
            let dims = vec![
                ("class", "runtime-dropped-in-async".to_string()),
                ("sync_stop", stop_name.to_string()),
                ("stop_caller", caller.to_string()),
                ("twin", if bug { "bug" } else { "correct" }.to_string()),
            ];
            let rule = bug.then_some("runtime-dropped-in-async");
            out.push(Program::new("rust", dims, rule, main_crate(program)));
        }
    }
}

/// How a thread is started with a closure `{BODY}`: `(name, expression)`.
const THREAD_STARTS: &[(&str, &str)] = &[
    ("std_spawn", "std::thread::spawn(move || {\n{BODY}    })"),
    (
        "builder_spawn",
        "std::thread::Builder::new()\n        .name(\"worker\".into())\n        .spawn(move || {\n{BODY}    })\n        .unwrap()",
    ),
];

/// What the thread does with the runtime's handle `handle`: `(name, body lines, items)`.
const THREAD_HANDLE_USES: &[(&str, &str, &str)] = &[
    (
        "block_on",
        "        handle.block_on(async { @@\n            tokio::time::sleep(std::time::Duration::from_millis(5)).await;\n        });\n",
        "",
    ),
    (
        "spawn",
        "        handle.spawn(async { @@\n            tokio::time::sleep(std::time::Duration::from_millis(5)).await;\n        });\n",
        "",
    ),
    (
        "enter_then_spawn",
        "        let _entered = handle.enter();\n        tokio::spawn(async {}); @@\n",
        "",
    ),
    (
        "helper_param",
        "        flush(&handle);\n",
        "fn flush(handle: &tokio::runtime::Handle) {\n    handle.block_on(async {}); @@\n}\n\n",
    ),
];

/// How the starting function ends its runtime before it joins the thread: `(name, line)`;
/// `scope_end` returns the thread's join handle, so the runtime dies at the closing brace.
const THREAD_RUNTIME_ENDS: &[(&str, &str)] = &[
    ("drop", "    drop(rt);\n"),
    (
        "shutdown_timeout",
        "    rt.shutdown_timeout(std::time::Duration::from_millis(100));\n",
    ),
    ("shutdown_background", "    rt.shutdown_background();\n"),
    ("scope_end", ""),
];

/// A runtime's handle moved into a thread that uses it, while the function that starts the
/// thread ends the runtime before joining it; twins join first, only hold the handle, or take
/// the runtime from a static.
fn thread_handle_programs(out: &mut Vec<Program>) {
    for (start_name, start) in THREAD_STARTS {
        for (use_name, use_body, use_items) in THREAD_HANDLE_USES {
            for (end_name, end) in THREAD_RUNTIME_ENDS {
                for twin in ["bug", "join_first", "holds_only", "static_runtime"] {
                    let body = if twin == "holds_only" {
                        "        let kept = handle;\n        drop(kept);\n".to_string()
                    } else if twin == "bug" {
                        use_body.to_string()
                    } else {
                        use_body.replace(" @@", "")
                    };
                    let items = if twin == "bug" {
                        use_items.to_string()
                    } else {
                        use_items.replace(" @@", "")
                    };
                    let spawn = start.replace("{BODY}", &body);
                    let (build, end) = if twin == "static_runtime" {
                        (
                            "RUNTIME.get_or_init(|| tokio::runtime::Runtime::new().unwrap())",
                            "",
                        )
                    } else {
                        ("tokio::runtime::Runtime::new().unwrap()", *end)
                    };
                    let statics = if twin == "static_runtime" {
                        "static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> =\n    std::sync::OnceLock::new();\n\n"
                    } else {
                        ""
                    };
                    let head = format!(
                        "    let rt = {build};\n    let handle = rt.handle().clone();\n    let worker = {spawn};\n"
                    );
                    let func = if *end_name == "scope_end" {
                        let tail = if twin == "join_first" {
                            "    worker.join().unwrap();\n    std::thread::spawn(|| {})\n"
                        } else {
                            "    worker\n"
                        };
                        format!(
                            "fn start() -> std::thread::JoinHandle<()> {{\n{head}{tail}}}\n\nfn main() {{\n    start().join().unwrap();\n}}\n"
                        )
                    } else {
                        let order = if twin == "join_first" {
                            format!("    worker.join().unwrap();\n{end}")
                        } else {
                            format!("{end}    worker.join().unwrap();\n")
                        };
                        format!("fn run() {{\n{head}{order}}}\n\nfn main() {{\n    run();\n}}\n")
                    };
                    let main = format!("//! Generated program.\n\n{statics}{items}{func}");
                    let dims = vec![
                        ("class", "use-after-runtime-close".to_string()),
                        ("thread_start", start_name.to_string()),
                        ("thread_use", use_name.to_string()),
                        ("runtime_end", end_name.to_string()),
                        ("twin", twin.to_string()),
                    ];
                    let rule = (twin == "bug").then_some("use-after-runtime-close");
                    out.push(Program::new("rust", dims, rule, main_crate(main)));
                }
            }
        }
    }
}

/// How a clone of a bound client reaches a thread that builds a runtime of its own:
/// `(name, items, start expression)`; `{BODY}` is the thread runtime's async body using `c`.
const CLIENT_THREAD_TRAVELS: &[(&str, &str, &str)] = &[
    (
        "helper_param",
        "fn start(c: reqwest::Client) -> std::thread::JoinHandle<()> {\n    std::thread::spawn(move || {\n        let rt = {RT};\n        rt.block_on(async move {\n{BODY}        });\n    })\n}\n\n",
        "start(client.clone())",
    ),
    (
        "closure_capture",
        "",
        "{\n        let c = client.clone();\n        std::thread::spawn(move || {\n            let rt = {RT};\n            rt.block_on(async move {\n{BODY}            });\n        })\n    }",
    ),
];

/// A bound client cloned into a thread with a runtime of its own while the original is used
/// on the main runtime; twins build the thread's own client, or block on the main runtime's
/// handle instead of a runtime of the thread's.
fn client_thread_programs(out: &mut Vec<Program>) {
    const RUNTIMES: &[(&str, &str)] = &[
        ("runtime_new", "tokio::runtime::Runtime::new().unwrap()"),
        (
            "current_thread",
            "tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()",
        ),
    ];
    for (travel, items, start) in CLIENT_THREAD_TRAVELS {
        for (rt_name, rt) in RUNTIMES {
            for ctx in ["tokio_main", "tokio_test"] {
                for twin in ["bug", "own_client", "main_handle"] {
                    let body = match twin {
                        "own_client" => {
                            "            let c = reqwest::Client::new();\n            let _ = c.get(\"http://127.0.0.1:9/a\").send().await;\n"
                        }
                        _ => {
                            "            let _ = c.get(\"http://127.0.0.1:9/a\").send().await; @@\n"
                        }
                    };
                    let body = if twin == "bug" {
                        body.to_string()
                    } else {
                        body.replace(" @@", "")
                    };
                    let (items, start) =
                        if twin == "main_handle" {
                            (
                            items.replace("let rt = {RT};", "let rt = main_rt;").replace(
                                "fn start(c: reqwest::Client)",
                                "fn start(c: reqwest::Client, main_rt: tokio::runtime::Handle)",
                            ),
                            start
                                .replace("let rt = {RT};", "let rt = main_rt;")
                                .replace("start(client.clone())", "start(client.clone(), main_rt)"),
                        )
                        } else {
                            (items.to_string(), start.to_string())
                        };
                    let items = items.replace("{RT}", rt).replace("{BODY}", &body);
                    let start = start.replace("{RT}", rt).replace("{BODY}", &body);
                    let setup = if twin == "main_handle" {
                        "    let main_rt = tokio::runtime::Handle::current();\n"
                    } else {
                        ""
                    };
                    let mark = if twin == "bug" { " @?" } else { "" };
                    let (attr, head) = if ctx == "tokio_main" {
                        ("#[tokio::main]", "async fn main() {")
                    } else {
                        ("#[tokio::test]", "async fn polls_in_background() {")
                    };
                    let pre = if ctx == "tokio_main" {
                        ""
                    } else {
                        "fn main() {}\n\n"
                    };
                    let main = format!(
                        "//! Generated program.\n\n{items}{pre}{attr}\n{head}\n    let client = reqwest::Client::new();\n{setup}    let worker = {start};\n    let _ = client.get(\"http://127.0.0.1:9/b\").send().await;{mark}\n    tokio::task::spawn_blocking(move || worker.join().unwrap()).await.unwrap();\n}}\n"
                    );
                    let dims = vec![
                        ("class", "cross-runtime-resource".to_string()),
                        ("client_thread_travel", travel.to_string()),
                        ("thread_runtime", rt_name.to_string()),
                        ("context", ctx.to_string()),
                        ("twin", twin.to_string()),
                    ];
                    let rule = (twin == "bug").then_some("cross-runtime-resource");
                    out.push(Program::new("rust", dims, rule, main_crate(main)));
                }
            }
        }
    }
}

/// A runtime built as a call argument straight into a local container a helper returns:
/// `(name, container type, new, store line)`.
const RUNTIME_CONTAINERS: &[(&str, &str, &str, &str)] = &[
    (
        "vec_push",
        "Vec<tokio::runtime::Runtime>",
        "Vec::new()",
        "lanes.push({RT});",
    ),
    (
        "deque_push_back",
        "std::collections::VecDeque<tokio::runtime::Runtime>",
        "std::collections::VecDeque::new()",
        "lanes.push_back({RT});",
    ),
    (
        "map_insert",
        "std::collections::HashMap<usize, tokio::runtime::Runtime>",
        "std::collections::HashMap::new()",
        "lanes.insert(i, {RT});",
    ),
];

/// The container dimension: the runtimes flow with the container to whoever owns it last; a
/// bug program drops it at the end of async `main`, the twins keep it in a static or own it
/// in a sync `main`.
fn runtime_container_programs(out: &mut Vec<Program>) {
    let rt = "tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()";
    for (name, ty, new, store) in RUNTIME_CONTAINERS {
        for twin in ["bug", "kept_by_static", "sync_main"] {
            let mark = if twin == "bug" { " @@" } else { "" };
            let store = store.replace("{RT}", rt);
            let helper = format!(
                "fn build_lanes(n: usize) -> {ty} {{\n    let mut lanes = {new};\n    for i in 0..n {{\n        let _ = i;\n        {store}{mark}\n    }}\n    lanes\n}}\n\n"
            );
            let main = match twin {
                "bug" => "#[tokio::main]\nasync fn main() {\n    let lanes = build_lanes(2);\n    println!(\"{}\", lanes.len());\n}\n".to_string(),
                "kept_by_static" => format!(
                    "static LANES: std::sync::OnceLock<{ty}> = std::sync::OnceLock::new();\n\n#[tokio::main]\nasync fn main() {{\n    let lanes = build_lanes(2);\n    let _ = LANES.set(lanes);\n}}\n"
                ),
                _ => "fn main() {\n    let lanes = build_lanes(2);\n    println!(\"{}\", lanes.len());\n}\n".to_string(),
            };
            let text = format!("//! Generated program.\n\n{helper}{main}");
            let dims = vec![
                ("class", "runtime-dropped-in-async".to_string()),
                ("runtime_container", name.to_string()),
                ("twin", twin.to_string()),
            ];
            let rule = (twin == "bug").then_some("runtime-dropped-in-async");
            out.push(Program::new("rust", dims, rule, main_crate(text)));
        }
    }
}

/// A runtime owned by a struct field, dropped by an async method: `(name, bug stop, twin stop)`.
const FIELD_DROPS: &[(&str, &str, &str)] = &[
    (
        "assign_none",
        "        self.rt = None; @@",
        "        if let Some(rt) = self.rt.take() {\n            rt.shutdown_background();\n        }",
    ),
    (
        "take_discarded",
        "        self.rt.take(); @@",
        "        if let Some(rt) = self.rt.take() {\n            rt.shutdown_background();\n        }",
    ),
    (
        "drop_take",
        "        drop(self.rt.take()); @@",
        "        let rt = self.rt.take();\n        std::thread::spawn(move || drop(rt));",
    ),
];

fn field_runtime_programs(out: &mut Vec<Program>) {
    for (name, bug_stop, twin_stop) in FIELD_DROPS {
        for ctx in ["built_in_sync_main", "tokio_main", "tokio_test"] {
            for twin in [false, true] {
                let stop = if twin { twin_stop } else { bug_stop };
                let items = format!(
                    "struct Engine {{\n    rt: Option<tokio::runtime::Runtime>,\n}}\n\nimpl Engine {{\n    fn new() -> Self {{\n        Engine {{ rt: Some(tokio::runtime::Runtime::new().unwrap()) }} @?\n    }}\n\n    async fn stop(&mut self) -> usize {{\n        tokio::task::yield_now().await;\n{stop}\n        1\n    }}\n}}\n"
                );
                let code = if ctx == "built_in_sync_main" {
                    "fn main() {\n    let mut engine = Engine::new();\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    let n = rt.block_on(engine.stop());\n    println!(\"{n}\");\n}\n".to_string()
                } else {
                    context(
                        ctx,
                        "    let mut engine = Engine::new();\n",
                        "engine.stop().await",
                    )
                };
                let main = format!("//! Generated program.\n\n{items}\n{code}");
                let files = main_crate(main);
                let dims = vec![
                    ("class", "runtime-dropped-in-async".to_string()),
                    ("field_drop", name.to_string()),
                    ("context", ctx.to_string()),
                    ("twin", if twin { "correct" } else { "bug" }.to_string()),
                ];
                let rule = (!twin).then_some("runtime-dropped-in-async");
                out.push(Program::new("rust", dims, rule, files));
            }
        }
    }
}

/// A binary crate of one file, `main` as `src/main.rs`.
fn main_crate(main: String) -> Vec<(String, String)> {
    vec![
        ("Cargo.toml".to_string(), cargo_toml("scen", "")),
        ("src/main.rs".to_string(), main),
    ]
}

/// How an owner's `stop` method ends the runtime it keeps in a field:
/// `(name, field type, field init, stop body)`.
const OWNER_STOPS: &[(&str, &str, &str, &str)] = &[
    (
        "take_shutdown_timeout",
        "Option<tokio::runtime::Runtime>",
        "Some(rt)",
        "        if let Some(rt) = self.rt.take() {\n            rt.shutdown_timeout(std::time::Duration::from_secs(1));\n        }",
    ),
    (
        "take_shutdown_background",
        "Option<tokio::runtime::Runtime>",
        "Some(rt)",
        "        if let Some(rt) = self.rt.take() {\n            rt.shutdown_background();\n        }",
    ),
    (
        "take_dropped",
        "Option<tokio::runtime::Runtime>",
        "Some(rt)",
        "        drop(self.rt.take());",
    ),
    (
        "take_bound_dropped",
        "Option<tokio::runtime::Runtime>",
        "Some(rt)",
        "        if let Some(rt) = self.rt.take() {\n            drop(rt);\n        }",
    ),
];

/// Where the calls on the owner sit: in `main`, or in a helper handed the owner.
const OWNER_CALLERS: &[&str] = &["main", "helper"];

/// A runtime kept in a field and a handle to it in another: `stop` ends the runtime, and a
/// later method call on the same owner uses the handle (the twin uses it before `stop`).
fn stopped_owner_programs(out: &mut Vec<Program>) {
    for (stop_name, field_ty, init, stop) in OWNER_STOPS {
        for (use_name, use_expr) in HANDLE_USES {
            for caller in OWNER_CALLERS {
                for twin in [false, true] {
                    let used = use_expr.replace("{h}", "self.handle");
                    let items = format!(
                        "struct Pool {{\n    rt: {field_ty},\n    handle: tokio::runtime::Handle,\n}}\n\nimpl Pool {{\n    fn start() -> Pool {{\n        let rt = tokio::runtime::Runtime::new().unwrap();\n        let handle = rt.handle().clone();\n        Pool {{ rt: {init}, handle }}\n    }}\n\n    fn run(&self) -> usize {{\n        {used} @@\n    }}\n\n    fn stop(&mut self) {{\n{stop}\n    }}\n}}\n"
                    );
                    let (first, second) = if twin {
                        ("pool.run()", "pool.stop()")
                    } else {
                        ("pool.stop()", "pool.run()")
                    };
                    let tag = if twin { "" } else { " @?" };
                    let calls = format!(
                        "    let warm = pool.run();\n    let _ = {first};{tag}\n    let _ = {second};{tag}\n    println!(\"{{warm}}\");\n"
                    );
                    let code = if *caller == "main" {
                        format!("fn main() {{\n    let mut pool = Pool::start();\n{calls}}}\n")
                    } else {
                        format!(
                            "fn drive(pool: &mut Pool) {{\n{calls}}}\n\nfn main() {{\n    let mut pool = Pool::start();\n    drive(&mut pool);\n}}\n"
                        )
                    };
                    let main = format!("//! Generated program.\n\n{items}\n{code}");
                    let files = main_crate(main);
                    let dims = vec![
                        ("class", "use-after-runtime-close".to_string()),
                        ("owner_stop", stop_name.to_string()),
                        ("use", use_name.to_string()),
                        ("caller", caller.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some("use-after-runtime-close");
                    out.push(Program::new("rust", dims, rule, files));
                }
            }
        }
    }
}

/// Where async code replaces a value that owns a runtime through a reference to it:
/// `(name, holder type, how main makes the holder, how the code reaches the value)`.
const GUARD_HOLDERS: &[(&str, &str, &str, &str)] = &[
    (
        "tokio_rwlock_write",
        "std::sync::Arc<tokio::sync::RwLock<Engine>>",
        "std::sync::Arc::new(tokio::sync::RwLock::new(Engine::new()))",
        "let mut slot = holder.write().await;",
    ),
    (
        "tokio_mutex",
        "std::sync::Arc<tokio::sync::Mutex<Engine>>",
        "std::sync::Arc::new(tokio::sync::Mutex::new(Engine::new()))",
        "let mut slot = holder.lock().await;",
    ),
    (
        "std_mutex",
        "std::sync::Arc<std::sync::Mutex<Engine>>",
        "std::sync::Arc::new(std::sync::Mutex::new(Engine::new()))",
        "let mut slot = holder.lock().unwrap();",
    ),
];

/// A value owning a runtime, replaced through a lock guard in async code: the old value and
/// its runtime die there (the twin moves the old value out and drops it on the blocking pool).
/// The holder itself lives in sync `main`, which drops it after the runtime.
fn guard_overwrite_programs(out: &mut Vec<Program>) {
    for (name, holder_ty, make, reach) in GUARD_HOLDERS {
        for reached in ["block_on", "async_helper"] {
            for twin in [false, true] {
                let replace = if twin {
                    "    let old = std::mem::replace(&mut *slot, fresh);\n    drop(slot);\n    tokio::task::spawn_blocking(move || drop(old)).await.unwrap();\n"
                } else {
                    "    *slot = fresh; @@\n"
                };
                let items = format!(
                    "struct Engine {{\n    rt: tokio::runtime::Runtime,\n}}\n\nimpl Engine {{\n    fn new() -> Self {{\n        Engine {{ rt: tokio::runtime::Runtime::new().unwrap() }}\n    }}\n\n    fn ready(&self) -> usize {{\n        self.rt.metrics().num_workers()\n    }}\n}}\n\nasync fn reload(holder: &{holder_ty}, fresh: Engine) -> usize {{\n    {reach}\n{replace}    1\n}}\n"
                );
                let run = if reached == "block_on" {
                    "reload(&holder, fresh)"
                } else {
                    "async { tokio::task::yield_now().await; reload(&holder, fresh).await }"
                };
                let code = format!(
                    "fn main() {{\n    let holder = {make};\n    let fresh = Engine::new();\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    let n = rt.block_on({run});\n    drop(rt);\n    println!(\"{{n}}\");\n}}\n"
                );
                let main = format!("//! Generated program.\n\n{items}\n{code}");
                let files = main_crate(main);
                let dims = vec![
                    ("class", "runtime-dropped-in-async".to_string()),
                    ("guard_holder", name.to_string()),
                    ("reached", reached.to_string()),
                    ("twin", if twin { "correct" } else { "bug" }.to_string()),
                ];
                let rule = (!twin).then_some("runtime-dropped-in-async");
                out.push(Program::new("rust", dims, rule, files));
            }
        }
    }
}

/// Two independent packages in one tree with the same module names: a blocking helper of one
/// is never taken for the other package's helper of the same name.
fn monorepo_programs(out: &mut Vec<Program>) {
    const BLOCKING: &str = "//! Loading.\n\npub fn load() -> usize {\n    let body = reqwest::blocking::get(\"http://127.0.0.1:9/health\") @@\n        .and_then(|r| r.text())\n        .unwrap_or_default();\n    body.len() + 1\n}\n";
    const PLAIN: &str = "//! Loading.\n\npub fn load() -> usize {\n    1\n}\n";
    const ASYNC_MAIN: &str =
        "mod jobs;\n\n#[tokio::main]\nasync fn main() {\n    println!(\"{}\", jobs::load());\n}\n";
    const SYNC_MAIN: &str = "mod jobs;\n\nfn main() {\n    println!(\"{}\", jobs::load());\n}\n";
    for root in ["services", "examples"] {
        for buggy in ["alpha", "beta"] {
            for twin in [false, true] {
                let other = if buggy == "alpha" { "beta" } else { "alpha" };
                let files = vec![
                    (format!("{root}/{buggy}/Cargo.toml"), cargo_toml(buggy, "")),
                    (format!("{root}/{buggy}/src/jobs.rs"), BLOCKING.to_string()),
                    (
                        format!("{root}/{buggy}/src/main.rs"),
                        if twin { SYNC_MAIN } else { ASYNC_MAIN }.to_string(),
                    ),
                    (format!("{root}/{other}/Cargo.toml"), cargo_toml(other, "")),
                    (format!("{root}/{other}/src/jobs.rs"), PLAIN.to_string()),
                    (
                        format!("{root}/{other}/src/main.rs"),
                        ASYNC_MAIN.to_string(),
                    ),
                ];
                let dims = vec![
                    ("class", "nested-block-on".to_string()),
                    ("monorepo_root", root.to_string()),
                    ("buggy_project", buggy.to_string()),
                    ("twin", if twin { "correct" } else { "bug" }.to_string()),
                ];
                let rule = (!twin).then_some("nested-block-on");
                out.push(Program::new("rust", dims, rule, files));
            }
        }
    }
}

/// How code comes to run inside a tokio `LocalSet`: `(name, uses a multi-thread runtime,
/// program)`; `BODY` is the async code the set runs.
const LOCAL_SET_ENTRIES: &[(&str, bool, &str)] = &[
    (
        "run_until_awaited",
        true,
        "#[tokio::main]\nasync fn main() {\n    let local = tokio::task::LocalSet::new();\n    local\n        .run_until(async {\nBODY        })\n        .await;\n}\n",
    ),
    (
        "block_on_run_until",
        false,
        "fn main() {\n    let rt = tokio::runtime::Builder::new_current_thread()\n        .enable_all()\n        .build()\n        .unwrap();\n    let local = tokio::task::LocalSet::new();\n    rt.block_on(local.run_until(async {\nBODY    }));\n}\n",
    ),
    (
        "local_block_on",
        true,
        "fn main() {\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    let local = tokio::task::LocalSet::new();\n    local.block_on(&rt, async {\nBODY    });\n}\n",
    ),
    (
        "awaited_set",
        true,
        "#[tokio::main]\nasync fn main() {\n    let local = tokio::task::LocalSet::new();\n    local.spawn_local(async {\nBODY    });\n    local.await;\n}\n",
    ),
    (
        "entered_set",
        true,
        "#[tokio::main]\nasync fn main() {\n    let local = tokio::task::LocalSet::new();\n    {\n        let _entered = local.enter();\nBODY    }\n    local.await;\n}\n",
    ),
];

/// Where the call sits relative to the code the set runs: `(name, items, body)`; `CALL` is
/// the call (tagged in bug programs).
const LOCAL_SET_SITES: &[(&str, &str, &str)] = &[
    ("direct", "", "CALL"),
    (
        "async_helper",
        "async fn work() -> usize {\n    tokio::task::yield_now().await;\nCALL    1\n}\n\n",
        "        work().await;\n",
    ),
    (
        "sync_helper",
        "fn work() -> usize {\nCALL    1\n}\n\n",
        "        work();\n",
    ),
    (
        "local_task",
        "async fn work() -> usize {\nCALL    1\n}\n\n",
        "        tokio::task::spawn_local(async { work().await }).await.unwrap();\n",
    ),
];

/// The `LocalSet` dimension: `spawn_local` and `block_in_place` crossed with how the set is
/// entered and where the call sits. `spawn_local` works in the set and panics in a task moved
/// off it with `tokio::spawn`; `block_in_place` panics in the set (whatever the flavor) and
/// works in a task `tokio::spawn` moves to a multi-thread runtime's workers.
fn local_set_programs(out: &mut Vec<Program>) {
    const SPAWN_LOCAL: &str = "        let n = tokio::task::spawn_local(async { 7 }).await.unwrap(); @@\n        drop(n);\n";
    const BLOCK_IN_PLACE: &str =
        "        let n = tokio::task::block_in_place(|| 7); @@\n        drop(n);\n";
    for (entry, multi, program) in LOCAL_SET_ENTRIES {
        for (site, items, body) in LOCAL_SET_SITES {
            for (class, call) in [
                ("no-runtime-context", SPAWN_LOCAL),
                ("block-in-place-current-thread", BLOCK_IN_PLACE),
            ] {
                let spawn_local = class == "no-runtime-context";
                // `spawn_local` is synchronous; in a sync helper it has no future to await.
                if spawn_local && *site == "sync_helper" {
                    continue;
                }
                // Entering a set does not run it: `block_in_place` is not forbidden there, and
                // a current-thread runtime forbids it anyway.
                if !spawn_local && (*entry == "entered_set" || !multi) {
                    continue;
                }
                // A `spawn_local` task moved off the set cannot be queued: `awaited_set` holds
                // `block_in_place` in a task of the set instead.
                if !spawn_local && *site == "local_task" {
                    continue;
                }
                for twin in [false, true] {
                    let call = if twin {
                        call.replace(" @@", "")
                    } else {
                        call.to_string()
                    };
                    let items = items.replace("CALL", &call.replace("        ", "    "));
                    let inner = if items.is_empty() {
                        call.clone()
                    } else if !twin && *site == "local_task" {
                        // Moved off the set, the task that would run `work` cannot be queued
                        // either: that is a right place for the report too.
                        body.replace(";\n", "; @?\n")
                    } else {
                        body.to_string()
                    };
                    // The task moved off the set breaks `spawn_local` and fixes `block_in_place`.
                    let moved = spawn_local != twin;
                    let inner = if moved {
                        format!(
                            "        tokio::spawn(async move {{\n{}        }})\n        .await\n        .unwrap();\n",
                            inner.replace("\n        ", "\n            ").replacen(
                                "        ",
                                "            ",
                                1
                            )
                        )
                    } else {
                        inner
                    };
                    let main = format!(
                        "//! Generated program.\n\n{items}{}",
                        program.replace("BODY", &inner)
                    );
                    let files = main_crate(main);
                    let dims = vec![
                        ("class", class.to_string()),
                        ("local_set", entry.to_string()),
                        ("local_set_site", site.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some(class);
                    out.push(Program::new("rust", dims, rule, files));
                }
            }
        }
    }
}

/// How a `LocalSet` given tasks is driven (the correct twins), crossed with where its tasks
/// are queued; the bug program drops the set without driving it.
const LOCAL_SET_DRIVES: &[(&str, &str)] = &[
    ("awaited", "    set.await;\n"),
    (
        "run_until",
        "    set.run_until(tokio::task::yield_now()).await;\n",
    ),
    (
        "block_on_in_thread",
        "    std::thread::spawn(move || {\n        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();\n        rt.block_on(set);\n    });\n",
    ),
];

/// The undriven `LocalSet` dimension: tasks queued with `spawn_local` on a set that is dropped
/// without `run_until`, `block_on` or `.await` never run.
fn undriven_local_set_programs(out: &mut Vec<Program>) {
    const QUEUES: &[(&str, &str)] = &[
        ("once", "    set.spawn_local(job(1)); @@\n"),
        (
            "in_loop",
            "    for n in 0..3 {\n        set.spawn_local(job(n)); @@\n    }\n",
        ),
        (
            "twice",
            "    set.spawn_local(job(1)); @@\n    set.spawn_local(job(2));\n",
        ),
    ];
    for (drive, driving) in LOCAL_SET_DRIVES {
        for (queue, queuing) in QUEUES {
            for twin in [false, true] {
                // The bug program is the same whatever drive its twin uses.
                if !twin && *drive != LOCAL_SET_DRIVES[0].0 {
                    continue;
                }
                let tail = if twin { driving } else { "" };
                let main = format!(
                    "//! Generated program.\n\nasync fn job(n: u32) {{\n    println!(\"{{n}}\");\n}}\n\nasync fn run() {{\n    let set = tokio::task::LocalSet::new();\n{queuing}{tail}    println!(\"queued\");\n}}\n\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {{\n    run().await;\n}}\n"
                );
                let files = main_crate(main);
                let dims = vec![
                    ("class", "runtime-dropped-with-live-tasks".to_string()),
                    ("local_set_drive", drive.to_string()),
                    ("local_set_queue", queue.to_string()),
                    ("twin", if twin { "correct" } else { "bug" }.to_string()),
                ];
                let rule = (!twin).then_some("runtime-dropped-with-live-tasks");
                out.push(Program::new("rust", dims, rule, files));
            }
        }
    }
}

/// Where join handles are kept: `(name, declaration, the statement that keeps the handle of
/// `SPAWN`, the statements that wait for every kept handle, those that abort them)`. `SPAWN`
/// spawns `send(n)`; a closure that pushes the handles captures the collection.
const TASK_STORAGES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "vec",
        "    let mut tasks = Vec::new();\n",
        "    for n in 1..3 {\n        tasks.push(SPAWN); @@\n    }\n",
        "for t in tasks {\n            t.await.unwrap();\n        }\n",
        "for t in &tasks {\n        t.abort();\n    }\n",
    ),
    (
        "vec_deque",
        "    let mut tasks = std::collections::VecDeque::new();\n",
        "    let n = 1;\n    tasks.push_back(SPAWN); @@\n",
        "futures::future::join_all(tasks).await;\n",
        "tasks.iter().for_each(|t| t.abort());\n",
    ),
    (
        "hash_map",
        "    let mut tasks = std::collections::HashMap::new();\n",
        "    for n in 1..3 {\n        tasks.insert(n, SPAWN); @@\n    }\n",
        "for (_, t) in tasks {\n            t.await.unwrap();\n        }\n",
        "for t in tasks.values() {\n        t.abort();\n    }\n",
    ),
    (
        "option",
        "",
        "    let n = 1;\n    let tasks = Some(SPAWN); @@\n",
        "if let Some(t) = tasks {\n            t.await.unwrap();\n        }\n",
        "if let Some(t) = &tasks {\n        t.abort();\n    }\n",
    ),
    (
        "tuple",
        "",
        "    let n = 1;\n    let tasks = (SPAWN, n); @@\n",
        "tasks.0.await.unwrap();\n",
        "tasks.0.abort();\n",
    ),
    (
        "closure_capture",
        "    let mut tasks = Vec::new();\n",
        "    (1..3).for_each(|n| tasks.push(SPAWN)); @@\n",
        "for t in tasks {\n            t.await.unwrap();\n        }\n",
        "for t in &tasks {\n        t.abort();\n    }\n",
    ),
];

/// How the runtime the tasks run on ends: `(name, the spawn, the statements that end it)`.
/// `#[tokio::main]` ends it when `main` returns; the others own a runtime and run other work on
/// it with `block_on` first, which lets the tasks run only as long as that work does.
const TASK_RUNTIME_ENDS: &[(&str, &str, &str)] = &[
    ("drop", "rt.spawn(send(n))", "    drop(rt);\n"),
    ("scope_end", "rt.spawn(send(n))", ""),
    (
        "shutdown",
        "rt.spawn(send(n))",
        "    rt.shutdown_background();\n",
    ),
    ("tokio_main", "tokio::spawn(send(n))", ""),
];

/// Where the spawning code sits: in `main`'s own body, in a function of another module, in a
/// method.
const TASK_PLACEMENTS: &[&str] = &["same_fn", "helper_module", "method"];

/// Join handles kept in a collection, an `Option`, a tuple, or a collection that a closure
/// fills, while the runtime ends with no wait for them: a `block_on` of other work is no wait.
/// Twins wait for them through what keeps them, or abort them.
fn stored_task_programs(out: &mut Vec<Program>) {
    for (storage, decl, keep, wait, abort) in TASK_STORAGES {
        for (end_name, spawn, end) in TASK_RUNTIME_ENDS {
            let tokio_main = *end_name == "tokio_main";
            for placement in TASK_PLACEMENTS {
                for fate in ["bug", "awaited", "aborted"] {
                    let twin = fate != "bug";
                    let mut keep = keep.replace("SPAWN", spawn);
                    if twin {
                        keep = keep.replace(" @@", "");
                    }
                    let after = match (fate, tokio_main) {
                        ("awaited", true) => {
                            format!("    {}", wait.replace("\n        ", "\n    "))
                        }
                        ("awaited", false) => {
                            format!("    rt.block_on(async move {{\n        {wait}    }});\n")
                        }
                        ("aborted", _) => format!("    {abort}"),
                        _ => String::new(),
                    };
                    let body = if tokio_main {
                        format!("{decl}{keep}    send(0).await;\n{after}    println!(\"done\");\n")
                    } else {
                        format!(
                            "    let rt = tokio::runtime::Runtime::new().unwrap();\n{decl}{keep}    rt.block_on(send(0));\n{after}{end}    println!(\"done\");\n"
                        )
                    };
                    let (asy, aw) = if tokio_main {
                        ("async ", ".await")
                    } else {
                        ("", "")
                    };
                    let entry = if tokio_main {
                        "#[tokio::main]\nasync fn main()"
                    } else {
                        "fn main()"
                    };
                    let send = "async fn send(n: u32) -> u32 {\n    tokio::time::sleep(std::time::Duration::from_millis(5)).await;\n    n\n}\n";
                    let files = match *placement {
                        "same_fn" => main_crate(format!(
                            "//! Generated program.\n\n{send}\n{entry} {{\n{body}}}\n"
                        )),
                        "helper_module" => vec![
                            ("Cargo.toml".to_string(), cargo_toml("scen", "")),
                            (
                                "src/main.rs".to_string(),
                                format!(
                                    "//! Generated program.\n\nmod jobs;\n\n{entry} {{\n    jobs::run(){aw};\n}}\n"
                                ),
                            ),
                            (
                                "src/jobs.rs".to_string(),
                                format!(
                                    "//! The jobs.\n\n{send}\npub {asy}fn run() {{\n{body}}}\n"
                                ),
                            ),
                        ],
                        _ => {
                            let body = body.replace("\n    ", "\n        ");
                            main_crate(format!(
                                "//! Generated program.\n\n{send}\nstruct Batch;\n\nimpl Batch {{\n    {asy}fn run(&self) {{\n    {body}    }}\n}}\n\n{entry} {{\n    Batch.run(){aw};\n}}\n"
                            ))
                        }
                    };
                    let dims = vec![
                        ("class", "runtime-dropped-with-live-tasks".to_string()),
                        ("task_storage", storage.to_string()),
                        ("task_placement", placement.to_string()),
                        ("runtime_end", end_name.to_string()),
                        (
                            "twin",
                            if twin {
                                format!("correct_{fate}")
                            } else {
                                "bug".to_string()
                            },
                        ),
                    ];
                    let rule = (!twin).then_some("runtime-dropped-with-live-tasks");
                    out.push(Program::new("rust", dims, rule, files));
                }
            }
        }
    }
}

/// Every generated Rust program.
pub fn generate() -> Vec<Program> {
    let mut out = Vec::new();
    monorepo_programs(&mut out);
    executor_programs(&mut out);
    shared_programs(&mut out);
    closed_handle_programs(&mut out);
    temporary_runtime_programs(&mut out);
    field_handle_spawn_programs(&mut out);
    local_handle_spawn_programs(&mut out);
    returned_handle_programs(&mut out);
    sync_stop_programs(&mut out);
    thread_handle_programs(&mut out);
    client_thread_programs(&mut out);
    runtime_container_programs(&mut out);
    field_runtime_programs(&mut out);
    stopped_owner_programs(&mut out);
    guard_overwrite_programs(&mut out);
    local_set_programs(&mut out);
    undriven_local_set_programs(&mut out);
    stored_task_programs(&mut out);
    out
}
