//! Generated Python programs: every executor bug class crossed with where the code sits (also
//! inherited, through `super()`, a `functools.partial`, a lambda, a property, a context manager,
//! a dataclass field, a lazy singleton, a staticmethod, a helper calling its parameter) and the
//! context that reaches it (also unittest cases, fixtures that yield, `gather` arms, async
//! generators, loop callbacks, executor and thread workers), and the value-flow class (an async
//! client shared by two event loops) crossed with how the value travels, how the loops multiply
//! and the client family. Each bug program has a correct near-twin that must stay silent.

use super::harness::Program;

/// Indents every non-empty line of `text` by `n` spaces.
fn ind(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const IMPORTS: &str = "import asyncio
import functools
import threading
import time

import httpx
import requests
";

/// How a correct twin differs from its bug program.
#[derive(Clone, Copy)]
enum Twin {
    /// Same context, the sync call handed to `asyncio.to_thread`.
    ToThread,
    /// The paired context.
    Context,
    /// Another body at the same place.
    Body(&'static str),
}

/// The code that holds the bug: the body of `job()`, unindented, ending in `return <expr>`.
struct Payload {
    name: &'static str,
    rule: &'static str,
    is_async: bool,
    /// `job` is a coroutine function wrapped by a project decorator that runs it with
    /// `asyncio.run`, so calling it is a blocking loop entry.
    run_sync: bool,
    body: &'static str,
    /// Items defined next to `job` (unindented).
    support: &'static str,
    contexts: &'static [(&'static str, &'static str)],
    twin: Twin,
}

const ASYNC4: &[(&str, &str)] = &[
    ("asyncio_main", "asyncio_main"),
    ("pytest_asyncio", "pytest_asyncio"),
    ("fastapi_handler", "fastapi_handler"),
    ("awaited_task", "awaited_task"),
];
/// Async code whose loop ends when it returns (`asyncio.run`).
const LOOP_ENDS: &[(&str, &str)] = &[("asyncio_main", "asyncio_main")];
const SYNC4: &[(&str, &str)] = &[
    ("main_guard", "asyncio_main"),
    ("plain_test", "pytest_asyncio"),
    ("thread_target", "awaited_task"),
    ("flask_route", "fastapi_handler"),
    ("trio_run", "asyncio_main"),
];

const FETCH: &str = "async def fetch():\n    await asyncio.sleep(0)\n    return 1\n";
const AUDIT: &str = "async def audit():\n    await asyncio.sleep(0.1)\n";

const PAYLOADS: &[Payload] = &[
    Payload {
        name: "asyncio_run",
        rule: "nested-block-on",
        is_async: false,
        run_sync: false,
        body: "n = asyncio.run(fetch())  @@\nreturn n",
        support: FETCH,
        contexts: ASYNC4,
        twin: Twin::ToThread,
    },
    Payload {
        name: "run_until_complete",
        rule: "nested-block-on",
        is_async: false,
        run_sync: false,
        body: "loop = asyncio.new_event_loop()\nn = loop.run_until_complete(fetch())  @@\nloop.close()\nreturn n",
        support: FETCH,
        contexts: ASYNC4,
        twin: Twin::ToThread,
    },
    Payload {
        name: "time_sleep",
        rule: "blocking-call-in-async",
        is_async: false,
        run_sync: false,
        body: "time.sleep(0.01)  @@\nreturn 1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::ToThread,
    },
    Payload {
        name: "requests_get",
        rule: "blocking-call-in-async",
        is_async: false,
        run_sync: false,
        body: "resp = requests.get(\"http://127.0.0.1:9/health\")  @@\nreturn resp.status_code",
        support: "",
        contexts: ASYNC4,
        twin: Twin::ToThread,
    },
    Payload {
        name: "time_sleep_in_coroutine",
        rule: "blocking-call-in-async",
        is_async: true,
        run_sync: false,
        body: "await asyncio.sleep(0)\ntime.sleep(0.01)  @@\nreturn 1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::Body("await asyncio.sleep(0)\nawait asyncio.sleep(0.01)\nreturn 1"),
    },
    Payload {
        name: "get_running_loop",
        rule: "no-runtime-context",
        is_async: false,
        run_sync: false,
        body: "loop = asyncio.get_running_loop()  @@\nreturn 1 if loop.is_running() else 2",
        support: "",
        contexts: SYNC4,
        twin: Twin::Context,
    },
    Payload {
        name: "current_task",
        rule: "no-runtime-context",
        is_async: false,
        run_sync: false,
        body: "task = asyncio.current_task()  @@\nreturn 2 if task is None else 1",
        support: "",
        contexts: SYNC4,
        twin: Twin::Context,
    },
    Payload {
        name: "create_task_dropped",
        rule: "dangling-task",
        is_async: true,
        run_sync: false,
        body: "asyncio.create_task(audit())  @@\nawait asyncio.sleep(0)\nreturn 1",
        support: AUDIT,
        contexts: ASYNC4,
        twin: Twin::Body("task = asyncio.create_task(audit())\nawait task\nreturn 1"),
    },
    Payload {
        name: "httpx_never_closed",
        rule: "unclosed-client",
        is_async: true,
        run_sync: false,
        body: "client = httpx.AsyncClient(timeout=2.0)  @@\nresp = await client.get(\"http://127.0.0.1:9/health\")\nreturn resp.status_code",
        support: "",
        contexts: ASYNC4,
        twin: Twin::Body(
            "async with httpx.AsyncClient(timeout=2.0) as client:\n    resp = await client.get(\"http://127.0.0.1:9/health\")\nreturn resp.status_code",
        ),
    },
    Payload {
        name: "tasks_collected_never_gathered",
        rule: "runtime-dropped-with-live-tasks",
        is_async: true,
        run_sync: false,
        body: "jobs = []\nfor n in range(3):\n    jobs.append(asyncio.create_task(audit()))  @@\nreturn len(jobs)",
        support: AUDIT,
        contexts: LOOP_ENDS,
        twin: Twin::Body(
            "jobs = []\nfor n in range(3):\n    jobs.append(asyncio.create_task(audit()))\nawait asyncio.gather(*jobs)\nreturn len(jobs)",
        ),
    },
    Payload {
        name: "httpx_from_factory_never_closed",
        rule: "unclosed-client",
        is_async: true,
        run_sync: false,
        body: "client = rates_client(\"http://127.0.0.1:9\")  @@\nresp = await client.get(\"/health\")\nreturn resp.status_code",
        support: RATES_CLIENT,
        contexts: ASYNC4,
        twin: Twin::Body(
            "client = rates_client(\"http://127.0.0.1:9\")\ntry:\n    resp = await client.get(\"/health\")\nfinally:\n    await client.aclose()\nreturn resp.status_code",
        ),
    },
    Payload {
        name: "close_running_loop",
        rule: "runtime-dropped-in-async",
        is_async: true,
        run_sync: false,
        body: "await asyncio.sleep(0)\nloop = asyncio.get_running_loop()\nloop.close()  @@\nreturn 1",
        support: "",
        contexts: ASYNC4,
        twin: Twin::Body(
            "await asyncio.sleep(0)\nloop = asyncio.get_running_loop()\nloop.call_soon(print, \"done\")\nreturn 1",
        ),
    },
    Payload {
        name: "run_sync_decorator",
        rule: "nested-block-on",
        is_async: false,
        run_sync: true,
        body: "await asyncio.sleep(0)\nreturn 1",
        support: RUN_SYNC,
        contexts: ASYNC4,
        twin: Twin::ToThread,
    },
];

/// A project factory that hands back a client its caller owns.
const RATES_CLIENT: &str = "def rates_client(base):
    return httpx.AsyncClient(base_url=base, timeout=2.0)
";

const RUN_SYNC: &str = "def run_sync(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))  @@
    return wrapper
";

const PLACEMENTS: &[&str] = &[
    "inline",
    "helper",
    "module",
    "module_alias",
    "method",
    "subclass_override",
    "classmethod_factory",
    "project_decorator",
    "other_package",
    "namespace_package",
    "src_layout",
    "inherited_method",
    "mixin_hook",
    "undeclared_hook",
    "super_call",
    "partial",
    "lambda_var",
    "property",
    "context_manager",
    "async_context_manager",
    "dataclass_field",
    "lazy_singleton",
    "staticmethod",
    "callback_param",
    "handed_to_method",
    "handed_through_partial",
    "decorator_wrapper_body",
    "forwarded_keyword_callback",
    "descriptor_set_name",
    "init_subclass",
    "metaclass_new",
    "local_partial",
    "local_lambda_other_module",
    "local_table_method",
    "module_lambda_list",
    "key_function",
    "map_consumed",
    "context_run",
];

/// The placements crossed with the extra contexts of `extra_contexts`.
const EXTRA_CONTEXT_PLACEMENTS: &[&str] = &["inline", "helper", "method", "module"];

/// Further contexts of each payload class, crossed with `EXTRA_CONTEXT_PLACEMENTS`:
/// `IsolatedAsyncioTestCase` and `TestCase` methods, fixtures that yield, `gather` arms, async
/// generators, loop callbacks (`call_soon`, `add_done_callback`), executor and thread workers.
fn extra_contexts(payload: &Payload) -> &'static [(&'static str, &'static str)] {
    // Payloads about the end of the loop are crossed with the loops that end only.
    if payload.contexts == LOOP_ENDS {
        &[]
    } else if payload.rule == "no-runtime-context" {
        &[
            ("run_in_executor", "call_soon_callback"),
            ("unittest_testcase", "isolated_testcase"),
            ("thread_from_coroutine", "done_callback"),
            ("sync_fixture", "async_fixture"),
            ("executor_keyword", "call_soon_keyword"),
            ("exit_hook", "call_soon_callback"),
            ("threading_server_handler", "done_callback"),
        ]
    } else {
        &[
            ("isolated_testcase", "isolated_testcase"),
            ("async_fixture", "async_fixture"),
            ("gather_arm", "gather_arm"),
            ("async_generator", "async_generator"),
            ("call_soon_callback", "call_soon_callback"),
            ("done_callback", "done_callback"),
            ("call_soon_keyword", "call_soon_keyword"),
            ("built_coroutine", "built_coroutine"),
            ("coroutine_function_handed", "coroutine_function_handed"),
        ]
    }
}

/// Contexts whose code is a plain callback of the loop: no `await` there.
fn is_callback(ctx: &str) -> bool {
    matches!(
        ctx,
        "call_soon_callback" | "done_callback" | "call_soon_keyword"
    )
}

/// Where `job` sits.
struct Placed {
    /// Files besides the context module.
    files: Vec<(String, String)>,
    /// Lines put before the context code in the context module.
    items: String,
    /// Statements before the call (unindented).
    setup: String,
    /// The call expression (awaited when `job` is async).
    call: String,
    /// The callable, for `asyncio.to_thread`.
    callee: String,
    /// The context module's path.
    main_path: String,
    /// A `with` header the computing statement sits under, or empty.
    block: String,
}

fn def(p: &Payload, name: &str, params: &str, body: &str, depth: usize) -> String {
    let kw = if p.is_async || p.run_sync {
        "async def"
    } else {
        "def"
    };
    let decorator = if p.run_sync {
        format!("{}\n", ind("@run_sync", depth))
    } else {
        String::new()
    };
    format!(
        "{decorator}{}\n{}",
        ind(&format!("{kw} {name}({params}):"), depth),
        ind(body, depth + 4)
    )
}

fn place(placement: &str, p: &Payload, body: &str) -> Placed {
    let aw = if p.is_async { "await " } else { "" };
    let support = if p.support.is_empty() {
        String::new()
    } else {
        format!("{}\n\n", p.support)
    };
    let mut placed = Placed {
        files: vec![("app/__init__.py".into(), String::new())],
        items: String::new(),
        setup: String::new(),
        call: format!("{aw}job()"),
        callee: "job".into(),
        main_path: "app/main.py".into(),
        block: String::new(),
    };
    let job_def = def(p, "job", "", body, 0);
    let module = format!("\"\"\"Jobs.\"\"\"\n{IMPORTS}\n\n{support}{job_def}\n");
    match placement {
        // The call is replaced by the body itself; see `stmts`.
        "inline" => placed.items = support,
        "helper" => placed.items = format!("{support}{job_def}\n"),
        "module" => {
            placed.files.push(("app/jobs.py".into(), module));
            placed.items = "from app.jobs import job\n".into();
        }
        "module_alias" => {
            placed.files.push(("app/jobs.py".into(), module));
            placed.items = "import app.jobs as jobs_mod\n".into();
            placed.call = format!("{aw}jobs_mod.job()");
            placed.callee = "jobs_mod.job".into();
        }
        "method" => {
            placed.items = format!(
                "{support}class Worker:\n    def __init__(self, ident):\n        self.ident = ident\n\n{}\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "worker = Worker(3)".into();
            placed.call = format!("{aw}worker.job()");
            placed.callee = "worker.job".into();
        }
        "subclass_override" => {
            placed.items = format!(
                "{support}class BaseJob:\n    def job(self):\n        raise NotImplementedError\n\n\nclass Nightly(BaseJob):\n{}\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "nightly = Nightly()".into();
            placed.call = format!("{aw}nightly.job()");
            placed.callee = "nightly.job".into();
        }
        "classmethod_factory" => {
            placed.items = format!(
                "{support}class Jobs:\n    @classmethod\n    def create(cls):\n        return cls()\n\n{}\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "jobs = Jobs.create()".into();
            placed.call = format!("{aw}jobs.job()");
            placed.callee = "jobs.job".into();
        }
        "project_decorator" => {
            let wrapper = if p.is_async {
                "    @functools.wraps(fn)\n    async def wrapper(*args, **kwargs):\n        return await fn(*args, **kwargs)\n"
            } else {
                "    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n        return fn(*args, **kwargs)\n"
            };
            placed.items = format!(
                "{support}def traced(fn):\n{wrapper}\n    return wrapper\n\n\n@traced\n{job_def}\n"
            );
        }
        "other_package" => {
            placed
                .files
                .push(("jobkit/__init__.py".into(), String::new()));
            placed.files.push(("jobkit/tasks.py".into(), module));
            placed.items = "from jobkit.tasks import job\n".into();
        }
        // PEP 420: a package directory without `__init__.py`.
        "namespace_package" => {
            placed.files.push(("jobkit/tasks.py".into(), module));
            placed.items = "from jobkit.tasks import job\n".into();
        }
        // Both packages under `src/`, as installed with a src layout.
        "src_layout" => {
            placed.files = vec![
                ("src/app/__init__.py".into(), String::new()),
                ("src/jobkit/__init__.py".into(), String::new()),
                ("src/jobkit/tasks.py".into(), module),
                (
                    "pyproject.toml".into(),
                    "[project]\nname = \"app\"\nversion = \"0.1.0\"\n\n[tool.setuptools.packages.find]\nwhere = [\"src\"]\n".into(),
                ),
            ];
            placed.items = "from jobkit.tasks import job\n".into();
            placed.main_path = "src/app/main.py".into();
        }
        // A method defined by a base class, called on an instance of the derived class.
        "inherited_method" => {
            placed.items = format!(
                "{support}class BaseWorker:\n    def __init__(self, ident):\n        self.ident = ident\n\n{}\n\n\nclass Worker(BaseWorker):\n    pass\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "worker = Worker(3)".into();
            placed.call = format!("{aw}worker.job()");
            placed.callee = "worker.job".into();
        }
        // A hook the base class calls on `self` and declares abstract (or not at all), which a
        // mixin listed before the base provides.
        "mixin_hook" | "undeclared_hook" => {
            let run = if p.is_async {
                "    async def run(self):\n        return await self.job()\n"
            } else {
                "    def run(self):\n        return self.job()\n"
            };
            let declared = if placement == "mixin_hook" {
                "\n    def job(self):\n        raise NotImplementedError\n"
            } else {
                ""
            };
            placed.items = format!(
                "{support}class BaseJob:\n{run}{declared}\n\nclass NightlyMixin:\n{}\n\n\nclass Nightly(NightlyMixin, BaseJob):\n    pass\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "nightly = Nightly()".into();
            placed.call = format!("{aw}nightly.run()");
            placed.callee = "nightly.run".into();
        }
        // An override that delegates to the base class through `super()`.
        "super_call" => {
            let over = if p.is_async {
                "    async def job(self):\n        return await super().job()\n"
            } else {
                "    def job(self):\n        return super().job()\n"
            };
            placed.items = format!(
                "{support}class BaseWorker:\n{}\n\n\nclass Worker(BaseWorker):\n{over}",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "worker = Worker()".into();
            placed.call = format!("{aw}worker.job()");
            placed.callee = "worker.job".into();
        }
        // A `functools.partial` of the function, bound at module level.
        "partial" => {
            placed.items = format!(
                "{support}{}\n\n\nrun = functools.partial(job, 3)\n",
                def(p, "job", "scale", body, 0)
            );
            placed.call = format!("{aw}run()");
            placed.callee = "run".into();
        }
        // A lambda that calls the function, kept in a variable.
        "lambda_var" => {
            placed.items = format!("{support}{job_def}\n\nrun = lambda: job()  # noqa: E731\n");
            placed.call = format!("{aw}run()");
            placed.callee = "run".into();
        }
        // A property whose getter holds the code (sync only).
        "property" => {
            assert!(!p.is_async && !p.run_sync, "a property getter is sync");
            placed.items = format!(
                "{support}class Worker:\n    @property\n{}\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "worker = Worker()".into();
            placed.call = "worker.job".into();
            placed.callee = "lambda: worker.job".into();
        }
        // A method of the object a `with` statement hands out.
        "context_manager" | "async_context_manager" => {
            let cm = if placement == "context_manager" {
                "    def __enter__(self):\n        return self\n\n    def __exit__(self, *exc):\n        return False\n"
            } else {
                "    async def __aenter__(self):\n        return self\n\n    async def __aexit__(self, *exc):\n        return False\n"
            };
            placed.items = format!(
                "{support}class Session:\n{cm}\n{}\n",
                def(p, "job", "self", body, 4)
            );
            placed.block = if placement == "context_manager" {
                "with Session() as session:".into()
            } else {
                "async with Session() as session:".into()
            };
            placed.call = format!("{aw}session.job()");
            placed.callee = "session.job".into();
        }
        // Code that Python calls when a class statement runs: the `__set_name__` of a
        // descriptor the class body assigns, the `__init_subclass__` of a base, or the
        // metaclass's `__new__` (sync only). The class statement runs in a helper.
        "descriptor_set_name" => {
            assert!(!p.is_async && !p.run_sync, "a descriptor hook is sync");
            placed.items = format!(
                "{support}class Field:\n    def __init__(self, default):\n        self.default = default\n\n{}\n\n\ndef make_model():\n    class Model:\n        size = Field(3)\n\n    return Model\n",
                def(p, "__set_name__", "self, owner, name", body, 4)
            );
            placed.call = "make_model()".into();
            placed.callee = "make_model".into();
        }
        "init_subclass" => {
            assert!(!p.is_async && !p.run_sync, "a subclass hook is sync");
            placed.items = format!(
                "{support}class Plugin:\n{}\n\n\ndef make_plugin():\n    class Thumbnails(Plugin):\n        kind = \"thumbnails\"\n\n    return Thumbnails\n",
                def(p, "__init_subclass__", "cls, **kwargs", body, 4)
            );
            placed.call = "make_plugin()".into();
            placed.callee = "make_plugin".into();
        }
        "metaclass_new" => {
            placed.items = format!(
                "{support}{job_def}\n\nclass ModelMeta(type):\n    def __new__(mcs, name, bases, namespace):\n        cls = super().__new__(mcs, name, bases, namespace)\n        cls.ready = job()\n        return cls\n\n\ndef make_model():\n    class Model(metaclass=ModelMeta):\n        table = \"items\"\n\n    return Model\n"
            );
            placed.call = "make_model()".into();
            placed.callee = "make_model".into();
        }
        // An object kept in a dataclass field made by a default factory.
        "dataclass_field" => {
            placed.items = format!(
                "import dataclasses\n\n\n{support}class Worker:\n{}\n\n\n@dataclasses.dataclass\nclass Service:\n    name: str\n    worker: Worker = dataclasses.field(default_factory=Worker)\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "service = Service(\"nightly\")".into();
            placed.call = format!("{aw}service.worker.job()");
            placed.callee = "service.worker.job".into();
        }
        // A module-level singleton made on first use.
        "lazy_singleton" => {
            placed.items = format!(
                "{support}class Worker:\n{}\n\n\n_worker = None\n\n\ndef get_worker():\n    global _worker\n    if _worker is None:\n        _worker = Worker()\n    return _worker\n",
                def(p, "job", "self", body, 4)
            );
            placed.call = format!("{aw}get_worker().job()");
            placed.callee = "get_worker().job".into();
        }
        "staticmethod" => {
            placed.items = format!(
                "{support}class Jobs:\n    @staticmethod\n{}\n",
                def(p, "job", "", body, 4)
            );
            placed.call = format!("{aw}Jobs.job()");
            placed.callee = "Jobs.job".into();
        }
        // The function handed to a helper that calls it.
        "callback_param" => {
            let helper = if p.is_async {
                "async def with_retry(fn):\n    return await fn()\n"
            } else {
                "def with_retry(fn):\n    return fn()\n"
            };
            placed.items = format!("{support}{job_def}\n\n\n{helper}");
            placed.call = format!("{aw}with_retry(job)");
            placed.callee = "functools.partial(with_retry, job)".into();
        }
        // `job` is handed to a helper of the project that calls it.
        "handed_to_helper" | "handed_through_partial" => {
            let helper = if p.is_async {
                "async def invoke(fn):\n    return await fn()\n"
            } else {
                "def invoke(fn):\n    return fn()\n"
            };
            placed.items = format!("{support}{job_def}\n\n{helper}\n");
            let arg = if placement == "handed_through_partial" {
                "functools.partial(job)"
            } else {
                "job"
            };
            placed.call = format!("{aw}invoke({arg})");
        }
        "handed_to_method" => {
            let (kw, call) = if p.is_async {
                ("async def", "await fn()")
            } else {
                ("def", "fn()")
            };
            placed.items = format!(
                "{support}{job_def}\n\nclass Runner:\n    def __init__(self, name):\n        self.name = name\n\n    {kw} run(self, fn):\n        return {call}\n\n"
            );
            placed.setup = "runner = Runner(\"jobs\")".into();
            placed.call = format!("{aw}runner.run(job)");
        }
        // `job` is handed by keyword to a helper that passes it on to another helper, which
        // calls it.
        "forwarded_keyword_callback" => {
            let helpers = if p.is_async {
                "async def call_it(fn):\n    return await fn()\n\n\nasync def invoke(*, fn):\n    return await call_it(fn)\n"
            } else {
                "def call_it(fn):\n    return fn()\n\n\ndef invoke(*, fn):\n    return call_it(fn)\n"
            };
            placed.items = format!("{support}{job_def}\n\n{helpers}\n");
            placed.call = format!("{aw}invoke(fn=job)");
            placed.callee = "functools.partial(invoke, fn=job)".into();
        }
        // The code sits in the wrapper that a project decorator puts around `job`.
        "decorator_wrapper_body" => {
            let (kw, call) = if p.is_async {
                ("async def", "await fn(*args, **kwargs)")
            } else {
                ("def", "fn(*args, **kwargs)")
            };
            placed.items = format!(
                "{support}def guarded(fn):\n    @functools.wraps(fn)\n    {kw} wrapper(*args, **kwargs):\n{}\n{}\n\n    return wrapper\n\n\n@guarded\n{kw} job():\n    return 0\n",
                ind(call, 8),
                ind(body, 8)
            );
        }
        // Function values kept in a local of the calling code, then called: a partial, a
        // lambda calling a function of another module, a table of bound methods.
        "local_partial" => {
            placed.items = format!("{support}{}\n", def(p, "job", "scale", body, 0));
            placed.setup = "run = functools.partial(job, 3)".into();
            placed.call = format!("{aw}run()");
            placed.callee = "run".into();
        }
        "local_lambda_other_module" => {
            placed.files.push(("app/jobs.py".into(), module));
            placed.items = "from app.jobs import job\n".into();
            placed.setup = "run = lambda: job()  # noqa: E731".into();
            placed.call = format!("{aw}run()");
            placed.callee = "run".into();
        }
        "local_table_method" => {
            placed.items = format!(
                "{support}class Worker:\n    def __init__(self, ident):\n        self.ident = ident\n\n{}\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup =
                "worker = Worker(3)\nhandlers = {\"job\": worker.job, \"noop\": lambda: 0}".into();
            placed.call = format!("{aw}handlers[\"job\"]()");
            placed.callee = "handlers[\"job\"]".into();
        }
        // A module list of lambdas, called through the list.
        "module_lambda_list" => {
            placed.items = format!("{support}{job_def}\n\nHOOKS = [lambda: job()]\n");
            placed.call = format!("{aw}HOOKS[0]()");
            placed.callee = "HOOKS[0]".into();
        }
        // Library functions that call the function they are given in place (sync only): a
        // sort key, a `map` that `list` consumes, `Context.run`.
        "key_function" => {
            assert!(!p.is_async && !p.run_sync, "a key function is sync");
            placed.items = format!("{support}{}\n", def(p, "job", "item", body, 0));
            placed.call = "sorted([3], key=job)[0]".into();
            placed.callee = "functools.partial(sorted, [3], key=job)".into();
        }
        "map_consumed" => {
            assert!(!p.is_async && !p.run_sync, "a mapped function is sync");
            placed.files.push((
                "app/jobs.py".into(),
                format!(
                    "\"\"\"Jobs.\"\"\"\n{IMPORTS}\n\n{support}{}\n",
                    def(p, "job", "item", body, 0)
                ),
            ));
            placed.items = "from app.jobs import job\n".into();
            placed.call = "list(map(job, [3]))[0]".into();
            placed.callee = "functools.partial(map, job, [3])".into();
        }
        "context_run" => {
            assert!(!p.is_async && !p.run_sync, "a context runs sync code");
            placed.items = format!(
                "import contextvars\n\n\n{support}class Worker:\n    def __init__(self, ident):\n        self.ident = ident\n\n{}\n",
                def(p, "job", "self", body, 4)
            );
            placed.setup = "worker = Worker(3)\nctx = contextvars.copy_context()".into();
            placed.call = "ctx.run(worker.job)".into();
            placed.callee = "worker.job".into();
        }
        other => panic!("unknown placement {other}"),
    }
    placed
}

/// The statements that compute `n` at the call place (unindented).
fn stmts(placement: &str, placed: &Placed, body: &str, to_thread: bool, callback: bool) -> String {
    let setup = if placed.setup.is_empty() {
        String::new()
    } else {
        format!("{}\n", placed.setup)
    };
    // A loop callback cannot await: it hands the sync call to the default executor.
    let off_loop = |f: &str| {
        if callback {
            format!("n = asyncio.get_running_loop().run_in_executor(None, {f})")
        } else {
            format!("n = await asyncio.to_thread({f})")
        }
    };
    if placement == "inline" {
        if to_thread {
            return format!("def work():\n{}\n\n{}", ind(body, 4), off_loop("work"));
        }
        let (head, last) = body.rsplit_once('\n').unwrap_or(("", body));
        let expr = last
            .trim()
            .strip_prefix("return ")
            .expect("body ends in return");
        return format!("{head}\nn = {expr}");
    }
    let compute = if to_thread {
        off_loop(&placed.callee)
    } else {
        format!("n = {}", placed.call)
    };
    if placed.block.is_empty() {
        format!("{setup}{compute}")
    } else {
        format!("{setup}{}\n{}", placed.block, ind(&compute, 4))
    }
}

/// The context code around the statements (which compute `n`).
fn context(ctx: &str, stmts: &str) -> (String, String) {
    let body = ind(stmts, 4);
    let main_guard = "\n\nif __name__ == \"__main__\":\n    asyncio.run(main())\n";
    match ctx {
        "asyncio_main" => (
            String::new(),
            format!("async def main():\n{body}\n    print(n)\n{main_guard}"),
        ),
        "pytest_asyncio" => (
            "import pytest\n".into(),
            format!("@pytest.mark.asyncio\nasync def test_job():\n{body}\n    assert n\n"),
        ),
        "fastapi_handler" => (
            "from fastapi import FastAPI\n".into(),
            format!(
                "app = FastAPI()\n\n\n@app.get(\"/job\")\nasync def job_view():\n{body}\n    return {{\"n\": n}}\n"
            ),
        ),
        "awaited_task" => (
            String::new(),
            format!(
                "async def worker():\n{body}\n    return n\n\n\nasync def main():\n    task = asyncio.create_task(worker())\n    print(await task)\n{main_guard}"
            ),
        ),
        "main_guard" => (
            String::new(),
            format!(
                "def main():\n{body}\n    print(n)\n\n\nif __name__ == \"__main__\":\n    main()\n"
            ),
        ),
        "plain_test" => (
            String::new(),
            format!("def test_job():\n{body}\n    assert n\n"),
        ),
        "thread_target" => (
            String::new(),
            format!(
                "def worker():\n{body}\n    print(n)\n\n\nif __name__ == \"__main__\":\n    thread = threading.Thread(target=worker)\n    thread.start()\n    thread.join()\n"
            ),
        ),
        "flask_route" => (
            "from flask import Flask\n".into(),
            format!(
                "app = Flask(__name__)\n\n\n@app.get(\"/job\")\ndef job_view():\n{body}\n    return {{\"n\": n}}\n"
            ),
        ),
        // Async code under trio: no asyncio loop runs.
        "trio_run" => (
            "import trio\n".into(),
            format!(
                "async def main():\n{body}\n    print(n)\n\n\nif __name__ == \"__main__\":\n    trio.run(main)\n"
            ),
        ),
        "isolated_testcase" | "unittest_testcase" => {
            let (base, kw) = if ctx == "isolated_testcase" {
                ("unittest.IsolatedAsyncioTestCase", "async def")
            } else {
                ("unittest.TestCase", "def")
            };
            (
                "import unittest\n".into(),
                format!(
                    "class JobTest({base}):\n    {kw} test_job(self):\n{}\n        self.assertTrue(n)\n",
                    ind(stmts, 8)
                ),
            )
        }
        "async_fixture" => (
            "import pytest\nimport pytest_asyncio\n".into(),
            format!(
                "@pytest_asyncio.fixture\nasync def prepared():\n{body}\n    yield n\n\n\n@pytest.mark.asyncio\nasync def test_job(prepared):\n    assert prepared\n"
            ),
        ),
        "sync_fixture" => (
            "import pytest\n".into(),
            format!(
                "@pytest.fixture\ndef prepared():\n{body}\n    yield n\n\n\ndef test_job(prepared):\n    assert prepared\n"
            ),
        ),
        "gather_arm" => (
            String::new(),
            format!(
                "async def worker():\n{body}\n    return n\n\n\nasync def main():\n    n, _ = await asyncio.gather(worker(), asyncio.sleep(0))\n    print(n)\n{main_guard}"
            ),
        ),
        "async_generator" => (
            String::new(),
            format!(
                "async def produce():\n    for _ in range(2):\n{}\n        yield n\n\n\nasync def main():\n    async for n in produce():\n        print(n)\n{main_guard}",
                ind(stmts, 8)
            ),
        ),
        "call_soon_callback" => (
            String::new(),
            format!(
                "def on_tick():\n{body}\n    print(n)\n\n\nasync def main():\n    loop = asyncio.get_running_loop()\n    loop.call_soon(on_tick)\n    await asyncio.sleep(0.1)\n{main_guard}"
            ),
        ),
        "done_callback" => (
            String::new(),
            format!(
                "def on_done(_task):\n{body}\n    print(n)\n\n\nasync def main():\n    task = asyncio.create_task(asyncio.sleep(0))\n    task.add_done_callback(on_done)\n    await task\n    await asyncio.sleep(0.1)\n{main_guard}"
            ),
        ),
        // Callables handed over by keyword run where they are handed, as positional ones.
        "call_soon_keyword" => (
            String::new(),
            format!(
                "def on_tick():\n{body}\n    print(n)\n\n\nasync def main():\n    loop = asyncio.get_running_loop()\n    loop.call_soon(callback=on_tick)\n    await asyncio.sleep(0.1)\n{main_guard}"
            ),
        ),
        "executor_keyword" => (
            String::new(),
            format!(
                "def work():\n{body}\n    return n\n\n\nasync def main():\n    loop = asyncio.get_running_loop()\n    print(await loop.run_in_executor(None, func=work))\n{main_guard}"
            ),
        ),
        // A coroutine built before the loop that runs it, handed to a coroutine that awaits it.
        "built_coroutine" => (
            String::new(),
            format!(
                "async def worker():\n{body}\n    return n\n\n\nasync def bounded(coro):\n    return await asyncio.wait_for(coro, 10)\n\n\ndef main():\n    pending = worker()\n    print(asyncio.run(bounded(pending)))\n\n\nif __name__ == \"__main__\":\n    main()\n"
            ),
        ),
        // A coroutine function handed to a coroutine that calls and awaits it.
        "coroutine_function_handed" => (
            String::new(),
            format!(
                "async def worker():\n{body}\n    return n\n\n\nasync def retry(make):\n    return await make()\n\n\ndef main():\n    print(asyncio.run(retry(worker)))\n\n\nif __name__ == \"__main__\":\n    main()\n"
            ),
        ),
        "run_in_executor" => (
            String::new(),
            format!(
                "def work():\n{body}\n    return n\n\n\nasync def main():\n    loop = asyncio.get_running_loop()\n    print(await loop.run_in_executor(None, work))\n{main_guard}"
            ),
        ),
        // A thread started from a coroutine has no running loop; the coroutine waits for it
        // off the loop.
        "thread_from_coroutine" => (
            String::new(),
            format!(
                "def work():\n{body}\n    print(n)\n\n\nasync def main():\n    thread = threading.Thread(target=work)\n    thread.start()\n    await asyncio.to_thread(thread.join)\n{main_guard}"
            ),
        ),
        // The interpreter calls an exit hook once the main module (and its `asyncio.run`)
        // has returned: no loop runs there.
        "exit_hook" => (
            "import atexit\n".into(),
            format!(
                "def flush():\n{body}\n    print(n)\n\n\natexit.register(flush)\n\n\nasync def main():\n    await asyncio.sleep(0)\n{main_guard}"
            ),
        ),
        // A threading server builds the handler, which calls `handle`, on a new thread per
        // request.
        "threading_server_handler" => (
            "import socketserver\n".into(),
            format!(
                "class Handler(socketserver.BaseRequestHandler):\n    def handle(self):\n{}\n        print(n)\n\n\nif __name__ == \"__main__\":\n    with socketserver.ThreadingTCPServer((\"127.0.0.1\", 0), Handler) as server:\n        server.serve_forever()\n",
                ind(stmts, 8)
            ),
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
            // A decorator needs a definition to decorate.
            if payload.run_sync && placement == "inline" {
                continue;
            }
            // The decorator that runs `job` with `asyncio.run` has a wrapper of its own.
            if placement == "decorator_wrapper_body" && payload.run_sync {
                continue;
            }
            // A property getter is sync; `async with` needs async code on both sides.
            if matches!(
                placement,
                "property"
                    | "descriptor_set_name"
                    | "init_subclass"
                    | "metaclass_new"
                    | "key_function"
                    | "map_consumed"
                    | "context_run"
            ) && (payload.is_async || payload.run_sync)
            {
                continue;
            }
            if placement == "async_context_manager"
                && !ASYNC4.iter().any(|c| c.0 == bug_ctx && c.1 == twin_ctx)
            {
                continue;
            }
            // A loop callback is sync: it cannot await a coroutine.
            if payload.is_async && (is_callback(bug_ctx) || is_callback(twin_ctx)) {
                continue;
            }
            {
                for twin in [false, true] {
                    let body = match (twin, payload.twin) {
                        (true, Twin::Body(b)) => b,
                        _ => payload.body,
                    };
                    let ctx = if twin { twin_ctx } else { bug_ctx };
                    let to_thread = twin && matches!(payload.twin, Twin::ToThread);
                    let placed = place(placement, payload, body);
                    let (ctx_imports, code) = context(
                        ctx,
                        &stmts(placement, &placed, body, to_thread, is_callback(ctx)),
                    );
                    let main = format!(
                        "\"\"\"Generated program.\"\"\"\n{IMPORTS}{ctx_imports}\n{}\n\n{code}",
                        placed.items
                    );
                    let mut files = placed.files;
                    // pytest collects test functions from `test_*.py` files only.
                    let main_path = if ctx.starts_with("pytest")
                        || ctx.ends_with("_fixture")
                        || ctx.ends_with("testcase")
                        || ctx == "plain_test"
                    {
                        "tests/test_jobs.py".to_string()
                    } else {
                        placed.main_path
                    };
                    files.push((main_path, main));
                    let dims = vec![
                        ("class", payload.rule.to_string()),
                        ("api", payload.name.to_string()),
                        ("placement", placement.to_string()),
                        ("context", bug_ctx.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some(payload.rule);
                    // A dropped task is also still pending when a short-lived loop ends.
                    let also: &[&str] = if payload.rule == "dangling-task" {
                        &["runtime-dropped-with-live-tasks"]
                    } else {
                        &[]
                    };
                    out.push(Program::new("python", dims, rule, files).also(also));
                }
            }
        }
    }
}

/// An async client family: how it is made and one use (`{x}` is the client expression).
struct Family {
    name: &'static str,
    import: &'static str,
    create: &'static str,
    use_expr: &'static str,
    /// A module of the project the family needs (`app/http.py`), or empty.
    support: &'static str,
}

/// The project's own client classes, derived from `httpx.AsyncClient` through a base class.
const CLIENT_CLASSES: &str = "\"\"\"The service's HTTP clients.\"\"\"\nimport httpx\n\n\nclass ServiceClient(httpx.AsyncClient):\n    pass\n\n\nclass ApiClient(ServiceClient):\n    def __init__(self, **kwargs):\n        super().__init__(**kwargs)\n\n    async def count(self, path):\n        return len((await self.get(path)).text)\n";

impl Family {
    /// The family's support module, as a program file, if it has one.
    fn support_file(&self) -> Option<(String, String)> {
        (!self.support.is_empty()).then(|| ("app/http.py".to_string(), self.support.to_string()))
    }
}

const FAMILIES: &[Family] = &[
    Family {
        name: "httpx_client",
        import: "",
        create: "httpx.AsyncClient(base_url=\"http://127.0.0.1:9\")",
        use_expr: "(await {x}.get(\"/items\")).status_code",
        support: "",
    },
    Family {
        name: "aiohttp_session",
        import: "import aiohttp\n",
        create: "aiohttp.ClientSession()",
        use_expr: "(await {x}.get(\"http://127.0.0.1:9/items\")).status",
        support: "",
    },
    Family {
        name: "redis_client",
        import: "import redis.asyncio as aioredis\n",
        create: "aioredis.Redis()",
        use_expr: "len(await {x}.keys(\"job:*\"))",
        support: "",
    },
    // A session factory over a pooled engine: its sessions take the engine's connections.
    Family {
        name: "sqlalchemy_session_factory",
        import: "from sqlalchemy import text\nfrom sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n",
        create: "async_sessionmaker(create_async_engine(\"sqlite+aiosqlite:///app.db\"))",
        use_expr: "(await {x}().execute(text(\"select 1\"))).scalar()",
        support: "",
    },
    // A project class derived (through a project base) from a library client type.
    Family {
        name: "project_subclass_of_httpx_client",
        import: "from app.http import ApiClient\n",
        create: "ApiClient(base_url=\"http://127.0.0.1:9\")",
        use_expr: "(await {x}.get(\"/items\")).status_code",
        support: CLIENT_CLASSES,
    },
];

/// How the client reaches the coroutine that uses it.
struct Travel {
    name: &'static str,
    /// Module items; `{CREATE}` and `{USE:x}` are filled in, use lines are tagged.
    items: &'static str,
    /// Module `app/clients.py`, if any.
    module: &'static str,
    /// Statement making the owner in the caller (`{OWNER_RUN}` runs a coroutine to completion).
    owner: &'static str,
    /// The coroutine expression doing one use.
    call: &'static str,
    /// Name of the owner variable passed around, or empty.
    arg: &'static str,
    /// Whether the client lives in the module (shared by tests of one process).
    is_global: bool,
}

const TRAVELS: &[Travel] = &[
    Travel {
        name: "module_global",
        items: "client = {CREATE}\n\n\nasync def fetch():\n    return {USE:client}\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "parameter",
        items: "async def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "client = {CREATE}",
        call: "fetch(client)",
        arg: "client",
        is_global: false,
    },
    Travel {
        name: "factory_return",
        items: "def make_client():\n    return {CREATE}\n\n\nasync def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "client = make_client()",
        call: "fetch(client)",
        arg: "client",
        is_global: false,
    },
    Travel {
        name: "instance_attribute",
        items: "class Api:\n    def __init__(self):\n        self.client = {CREATE}\n\n    async def fetch(self):\n        return {USE:self.client}\n",
        module: "",
        owner: "api = Api()",
        call: "api.fetch()",
        arg: "api",
        is_global: false,
    },
    Travel {
        name: "attribute_chain",
        items: "class Inner:\n    def __init__(self):\n        self.client = {CREATE}\n\n\nclass App:\n    def __init__(self):\n        self.inner = Inner()\n\n    async def fetch(self):\n        return {USE:self.inner.client}\n",
        module: "",
        owner: "root = App()",
        call: "root.fetch()",
        arg: "root",
        is_global: false,
    },
    Travel {
        name: "getter_method_of_parameter",
        items: "class Store:\n    def __init__(self):\n        self._client = {CREATE}\n\n    def client(self):\n        return self._client\n\n\nasync def fetch(store):\n    c = store.client()\n    return {USE:c}\n",
        module: "",
        owner: "store = Store()",
        call: "fetch(store)",
        arg: "store",
        is_global: false,
    },
    Travel {
        name: "getter_method_of_module_instance",
        items: "class Store:\n    def __init__(self):\n        self._client = {CREATE}\n\n    def client(self):\n        return self._client\n\n\nSTORE = Store()\n\n\nasync def fetch():\n    c = STORE.client()\n    return {USE:c}\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "module_list_appended",
        items: "CLIENTS = []\n\n\ndef setup():\n    CLIENTS.append({CREATE})\n\n\nsetup()\n\n\nasync def fetch():\n    for c in CLIENTS:\n        return {USE:c}\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "attribute_dict_values",
        items: "class Registry:\n    def __init__(self):\n        self.clients = {}\n\n    def add(self, name):\n        self.clients[name] = {CREATE}\n\n    async def fetch(self):\n        for c in self.clients.values():\n            return {USE:c}\n",
        module: "",
        owner: "registry = Registry()\nregistry.add(\"items\")",
        call: "registry.fetch()",
        arg: "registry",
        is_global: false,
    },
    Travel {
        name: "local_list_element",
        items: "async def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "clients = []\nclients.append({CREATE})",
        call: "fetch(clients[0])",
        arg: "clients",
        is_global: false,
    },
    Travel {
        name: "property_getter",
        items: "class Api:\n    def __init__(self):\n        self._client = {CREATE}\n\n    @property\n    def client(self):\n        return self._client\n\n    async def fetch(self):\n        return {USE:self.client}\n",
        module: "",
        owner: "api = Api()",
        call: "api.fetch()",
        arg: "api",
        is_global: false,
    },
    Travel {
        name: "class_attribute",
        items: "class Api:\n    client = {CREATE}\n\n    async def fetch(self):\n        return {USE:Api.client}\n",
        module: "",
        owner: "",
        call: "Api().fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "lru_cache_getter",
        items: "@functools.lru_cache(maxsize=None)\ndef get_client():\n    return {CREATE}\n\n\nasync def fetch():\n    client = get_client()\n    return {USE:client}\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "lazy_getter",
        items: "_client = None\n\n\ndef get_client():\n    global _client\n    if _client is None:\n        _client = {CREATE}\n    return _client\n\n\nasync def fetch():\n    client = get_client()\n    return {USE:client}\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "getter_in_module",
        items: "from app.clients import get_client\n\n\nasync def fetch():\n    client = get_client()\n    return {USE:client}\n",
        module: "\"\"\"Process-wide clients.\"\"\"\nimport httpx\n{FAMILY_IMPORT}\n_client = None\n\n\ndef get_client():\n    global _client\n    if _client is None:\n        _client = {CREATE}\n    return _client\n",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "keyword_argument",
        items: "async def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "client = {CREATE}",
        call: "fetch(client=client)",
        arg: "client",
        is_global: false,
    },
    Travel {
        name: "keywords_through_helper",
        items: "async def fetch(client, path=\"/\"):\n    return {USE:client}\n\n\nasync def relay(tag, client):\n    return await fetch(path=tag, client=client)\n",
        module: "",
        owner: "client = {CREATE}",
        call: "relay(\"x\", client=client)",
        arg: "client",
        is_global: false,
    },
    Travel {
        name: "module_global_from_helper_passed_on",
        items: "def make_client():\n    return {CREATE}\n\n\nclient = make_client()\n\n\nasync def fetch(c):\n    return {USE:c}\n",
        module: "",
        owner: "",
        call: "fetch(client)",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "asyncio_run_result",
        items: "async def connect():\n    return {CREATE}\n\n\nasync def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "client = {OWNER_RUN}(connect())",
        call: "fetch(client)",
        arg: "client",
        is_global: false,
    },
    // Handed back by a sync helper that runs the making coroutine under a loop of its own
    // (the twin awaits the coroutine on the loop that uses the client).
    Travel {
        name: "asyncio_run_result_via_helper",
        items: "async def connect():\n    return {CREATE}\n\n\ndef open_client():\n    return asyncio.run(connect())\n\n\nasync def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "client = {OWNER_HELPER}()",
        call: "fetch(client)",
        arg: "client",
        is_global: false,
    },
    Travel {
        name: "dataclass_field",
        items: "import dataclasses\n\n\n@dataclasses.dataclass\nclass Api:\n    client: object\n    retries: int = 3\n\n    async def fetch(self):\n        return {USE:self.client}\n",
        module: "",
        owner: "api = Api(client={CREATE})",
        call: "api.fetch()",
        arg: "api",
        is_global: false,
    },
    Travel {
        name: "inherited_attribute",
        items: "class BaseApi:\n    def __init__(self):\n        self.client = {CREATE}\n\n\nclass Api(BaseApi):\n    def __init__(self):\n        super().__init__()\n        self.retries = 3\n\n    async def fetch(self):\n        return {USE:self.client}\n",
        module: "",
        owner: "api = Api()",
        call: "api.fetch()",
        arg: "api",
        is_global: false,
    },
    Travel {
        name: "partial_factory",
        items: "def build_client(retries):\n    return {CREATE}\n\n\nmake_client = functools.partial(build_client, 3)\n\n\nasync def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "client = make_client()",
        call: "fetch(client)",
        arg: "client",
        is_global: false,
    },
    Travel {
        name: "lambda_factory",
        items: "make_client = lambda: {CREATE}  # noqa: E731\n\n\nasync def fetch(client):\n    return {USE:client}\n",
        module: "",
        owner: "client = make_client()",
        call: "fetch(client)",
        arg: "client",
        is_global: false,
    },
    Travel {
        name: "classmethod_singleton",
        items: "class Clients:\n    _client = None\n\n    @classmethod\n    def get(cls):\n        if cls._client is None:\n            cls._client = {CREATE}\n        return cls._client\n\n\nasync def fetch():\n    return {USE:Clients.get()}\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "cached_property",
        items: "class Api:\n    @functools.cached_property\n    def client(self):\n        return {CREATE}\n\n    async def fetch(self):\n        return {USE:self.client}\n",
        module: "",
        owner: "api = Api()",
        call: "api.fetch()",
        arg: "api",
        is_global: false,
    },
    // Filled on first use by a method of the one instance the module builds, and read by
    // two methods: every read gets what the first one made.
    Travel {
        name: "lazy_accessor_of_module_instance",
        items: "class Api:\n    def __init__(self):\n        self._client = None\n\n    def client(self):\n        if self._client is None:\n            self._client = {CREATE}\n        return self._client\n\n    async def head(self):\n        return {USE:self.client()}\n\n    async def body(self):\n        return {USE:self.client()}\n\n\nAPI = Api()\n\n\nasync def fetch():\n    return (await API.head(), await API.body())\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "cached_property_of_module_instance",
        items: "class Api:\n    @functools.cached_property\n    def client(self):\n        return {CREATE}\n\n    async def head(self):\n        return {USE:self.client}\n\n    async def body(self):\n        return {USE:self.client}\n\n\nAPI = Api()\n\n\nasync def fetch():\n    return (await API.head(), await API.body())\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
    Travel {
        name: "dict_registry",
        items: "_clients = {}\n\n\ndef get_client(name):\n    if name not in _clients:\n        _clients[name] = {CREATE}\n    return _clients[name]\n\n\nasync def fetch():\n    return {USE:get_client(\"items\")}\n",
        module: "",
        owner: "",
        call: "fetch()",
        arg: "",
        is_global: true,
    },
];

const MULTIPLICITIES: &[&str] = &[
    "two_in_sequence",
    "per_loop_iteration",
    "per_call",
    "per_thread",
    "per_item_executor_map",
    "per_item_thread_pool",
    "per_job_executor_submit",
    "two_pytest_tests",
    "flask_request_asyncio_run",
    "flask_async_view",
];

fn fill(template: &str, fam: &Family, tag: bool) -> String {
    let mut s = template
        .replace("{CREATE}", fam.create)
        .replace("{FAMILY_IMPORT}", fam.import);
    while let Some(at) = s.find("{USE:") {
        let end = at + s[at..].find('}').expect("closing brace");
        let x = s[at + 5..end].to_string();
        let use_expr = fam.use_expr.replace("{x}", &x);
        s = format!("{}{use_expr}{}", &s[..at], &s[end + 1..]);
        if tag {
            let line_end = s[at..].find('\n').map_or(s.len(), |i| at + i);
            s.insert_str(line_end, "  @?");
        }
    }
    s
}

/// The code that runs the uses: under two loops (bug) or one (twin). `owner` is unindented.
fn shared_main(mult: &str, twin: bool, owner: &str, call: &str, arg: &str) -> String {
    let owner4 = if owner.is_empty() {
        String::new()
    } else {
        format!("{}\n", ind(owner, 4))
    };
    let owner8 = if owner.is_empty() {
        String::new()
    } else {
        format!("{}\n", ind(owner, 8))
    };
    let guard = "\n\nif __name__ == \"__main__\":\n    main()\n";
    match (mult, twin) {
        ("two_in_sequence", false) => format!(
            "def main():\n{owner4}    a = asyncio.run({call})  @?\n    b = asyncio.run({call})  @@\n    print(a, b)\n{guard}"
        ),
        ("two_in_sequence", true) => format!(
            "def main():\n    async def both():\n{owner8}        a = await {call}\n        b = await {call}\n        return a, b\n\n    print(asyncio.run(both()))\n{guard}"
        ),
        ("per_loop_iteration", false) => format!(
            "def main():\n{owner4}    for day in range(3):\n        n = asyncio.run({call})  @@\n        print(day, n)\n{guard}"
        ),
        ("per_loop_iteration", true) => format!(
            "def main():\n    async def all_days():\n{owner8}        for day in range(3):\n            print(day, await {call})\n\n    asyncio.run(all_days())\n{guard}"
        ),
        ("per_call", false) => format!(
            "def fetch_sync({arg}):\n    return asyncio.run({call})  @@\n\n\ndef main():\n{owner4}    print(fetch_sync({arg}), fetch_sync({arg}))\n{guard}"
        ),
        ("per_call", true) => format!(
            "_loop = asyncio.new_event_loop()\n\n\ndef fetch_sync({arg}):\n    return _loop.run_until_complete({call})\n\n\ndef main():\n{owner4}    print(fetch_sync({arg}), fetch_sync({arg}))\n{guard}"
        ),
        ("per_thread", false) => {
            let args = if arg.is_empty() {
                String::new()
            } else {
                format!(", args=({arg},)")
            };
            format!(
                "def worker({arg}):\n    print(asyncio.run({call}))  @@\n\n\ndef main():\n{owner4}    threads = [threading.Thread(target=worker{args}) for _ in range(2)]\n    for t in threads:\n        t.start()\n    for t in threads:\n        t.join()\n{guard}"
            )
        }
        ("per_thread", true) => format!(
            "def main():\n    async def together():\n{owner8}        return await asyncio.gather({call}, {call})\n\n    print(asyncio.run(together()))\n{guard}"
        ),
        // A pool that calls the worker once per item: one loop per item (bug); the twin
        // hands the pool one job.
        ("per_item_executor_map" | "per_item_thread_pool", _) => {
            let (params, target) = if arg.is_empty() {
                ("_shard".to_string(), "worker".to_string())
            } else {
                (
                    format!("{arg}, _shard"),
                    format!("functools.partial(worker, {arg})"),
                )
            };
            let (pool, run) = match (mult, twin) {
                ("per_item_executor_map", false) => (
                    "ThreadPoolExecutor(max_workers=2)",
                    format!("list(pool.map({target}, range(2)))"),
                ),
                ("per_item_executor_map", true) => (
                    "ThreadPoolExecutor(max_workers=2)",
                    format!("pool.submit({target}, 0).result()"),
                ),
                (_, false) => ("ThreadPool(2)", format!("pool.map({target}, range(2))")),
                (_, true) => ("ThreadPool(2)", format!("pool.apply({target}, (0,))")),
            };
            let tag = if twin { "" } else { "  @@" };
            format!(
                "def worker({params}):\n    print(asyncio.run({call})){tag}\n\n\ndef main():\n{owner4}    with {pool} as pool:\n        {run}\n{guard}"
            )
        }
        // One job per shard submitted with the owner as an argument: one loop per job (bug);
        // the twin submits one job.
        ("per_job_executor_submit", _) => {
            let (params, owner_arg) = if arg.is_empty() {
                ("_shard".to_string(), String::new())
            } else {
                (format!("{arg}, _shard"), format!("{arg}, "))
            };
            let (submit, tag) = if twin {
                (format!("pool.submit(worker, {owner_arg}0).result()"), "")
            } else {
                (
                    format!(
                        "for shard in range(2):\n            pool.submit(worker, {owner_arg}shard)"
                    ),
                    "  @@",
                )
            };
            format!(
                "def worker({params}):\n    print(asyncio.run({call})){tag}\n\n\ndef main():\n{owner4}    with ThreadPoolExecutor(max_workers=2) as pool:\n        {submit}\n{guard}"
            )
        }
        ("two_pytest_tests", false) => format!(
            "@pytest.mark.asyncio\nasync def test_first():\n    assert await {call} >= 0  @?\n\n\n@pytest.mark.asyncio\nasync def test_second():\n    assert await {call} >= 0  @@\n"
        ),
        ("two_pytest_tests", true) => format!(
            "@pytest.mark.asyncio(loop_scope=\"session\")\nasync def test_first():\n    assert await {call} >= 0\n\n\n@pytest.mark.asyncio(loop_scope=\"session\")\nasync def test_second():\n    assert await {call} >= 0\n"
        ),
        // Each request runs on a fresh loop: a client made at import is shared by all of them.
        ("flask_request_asyncio_run", false) => format!(
            "{owner}\n\napp = Flask(__name__)\n\n\n@app.get(\"/items\")\ndef items_view():\n    return {{\"n\": asyncio.run({call})}}  @@\n"
        ),
        ("flask_request_asyncio_run", true) => format!(
            "app = Flask(__name__)\n\n\nasync def handle():\n{owner4}    return await {call}\n\n\n@app.get(\"/items\")\ndef items_view():\n    return {{\"n\": asyncio.run(handle())}}\n"
        ),
        ("flask_async_view", false) => format!(
            "{owner}\n\napp = Flask(__name__)\n\n\n@app.get(\"/items\")\nasync def items_view():\n    return {{\"n\": await {call}}}  @@\n"
        ),
        ("flask_async_view", true) => format!(
            "app = Flask(__name__)\n\n\n@app.get(\"/items\")\nasync def items_view():\n{owner4}    return {{\"n\": await {call}}}\n"
        ),
        other => panic!("unknown multiplicity {other:?}"),
    }
}

fn shared_programs(out: &mut Vec<Program>) {
    for fam in FAMILIES {
        for travel in TRAVELS {
            for mult in MULTIPLICITIES {
                if *mult == "two_pytest_tests" && !travel.is_global {
                    continue;
                }
                // A session factory kept in an attribute is a value-flow gap that `per_thread`
                // already lists; the per-item runs cross the other families with it.
                if (mult.starts_with("per_item") || *mult == "per_job_executor_submit")
                    && fam.name == "sqlalchemy_session_factory"
                    && [
                        "attribute_chain",
                        "class_attribute",
                        "dataclass_field",
                        "inherited_attribute",
                    ]
                    .contains(&travel.name)
                {
                    continue;
                }
                // Per-request programs build the owner per request in the twin.
                if mult.starts_with("flask") && (travel.is_global || travel.owner.is_empty()) {
                    continue;
                }
                if travel.name.starts_with("asyncio_run_result")
                    && !matches!(*mult, "two_in_sequence" | "per_loop_iteration")
                {
                    continue;
                }
                for twin in [false, true] {
                    let run = if twin { "await " } else { "asyncio.run" };
                    let owner = fill(travel.owner, fam, false)
                        .replace("{OWNER_RUN}", run)
                        .replace(
                            "{OWNER_HELPER}",
                            if twin { "await connect" } else { "open_client" },
                        );
                    let call = fill(travel.call, fam, false);
                    let code = shared_main(mult, twin, &owner, &call, travel.arg);
                    let pytest = if *mult == "two_pytest_tests" {
                        "import pytest\n"
                    } else if mult.starts_with("flask") {
                        "from flask import Flask\n"
                    } else if matches!(*mult, "per_item_executor_map" | "per_job_executor_submit") {
                        "from concurrent.futures import ThreadPoolExecutor\n"
                    } else if *mult == "per_item_thread_pool" {
                        "from multiprocessing.pool import ThreadPool\n"
                    } else {
                        ""
                    };
                    let main = format!(
                        "\"\"\"Generated program.\"\"\"\n{IMPORTS}{}{pytest}\n\n{}\n\n{code}",
                        fam.import,
                        fill(travel.items, fam, true)
                    );
                    let main_path = if *mult == "two_pytest_tests" {
                        "tests/test_fetch.py"
                    } else {
                        "app/main.py"
                    };
                    let mut files = vec![
                        ("app/__init__.py".to_string(), String::new()),
                        (main_path.to_string(), main),
                    ];
                    if !travel.module.is_empty() {
                        files.push(("app/clients.py".to_string(), fill(travel.module, fam, true)));
                    }
                    files.extend(fam.support_file());
                    let dims = vec![
                        ("class", "cross-runtime-resource".to_string()),
                        ("family", fam.name.to_string()),
                        ("travel", travel.name.to_string()),
                        ("multiplicity", mult.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some("cross-runtime-resource");
                    // A client the caller makes or gets (in place, from a factory, from a
                    // loop's result) and only lends to `fetch` is never closed.
                    let leaks = travel.owner.starts_with("client = ");
                    let also: &[&str] = if leaks { &["unclosed-client"] } else { &[] };
                    out.push(Program::new("python", dims, rule, files).tolerating(also));
                }
            }
        }
    }
}

/// A client provided by a wide-scoped pytest fixture to tests that each run on their own loop
/// (bug), or by a function-scoped async fixture on the test's loop (twin).
fn fixture_programs(out: &mut Vec<Program>) {
    for fam in FAMILIES {
        for scope in ["session", "module"] {
            for location in ["conftest", "test_module"] {
                for access in ["direct", "helper_in_app"] {
                    for twin in [false, true] {
                        let fixture = if twin {
                            format!(
                                "@pytest_asyncio.fixture\nasync def api():\n    client = {}\n    yield client\n    await client.aclose()\n",
                                fam.create
                            )
                        } else {
                            format!(
                                "@pytest.fixture(scope=\"{scope}\")\ndef api():\n    return {}\n",
                                fam.create
                            )
                        };
                        let fixture = fixture.replace(
                            "await client.aclose()",
                            if fam.name == "aiohttp_session" {
                                "await client.close()"
                            } else {
                                "await client.aclose()"
                            },
                        );
                        let use_line = fam.use_expr.replace("{x}", "api");
                        let (helper_items, test_use) = if access == "direct" {
                            (String::new(), use_line.clone())
                        } else {
                            (
                                format!(
                                    "\"\"\"Item queries.\"\"\"\n{}\n\nasync def count_items(api):\n    return {}  @?\n",
                                    fam.import, use_line
                                ),
                                "await count_items(api)".to_string(),
                            )
                        };

                        let imports = format!(
                            "import httpx\nimport pytest\nimport pytest_asyncio\n{}",
                            fam.import
                        );
                        let app_import = if access == "direct" {
                            ""
                        } else {
                            "from app.items import count_items\n"
                        };
                        let tests = format!(
                            "\"\"\"Item API tests; each test runs on its own event loop.\"\"\"\n{imports}{app_import}\n\n{}@pytest.mark.asyncio\nasync def test_first(api):\n    n = {test_use}  @?\n    assert n >= 0\n\n\n@pytest.mark.asyncio\nasync def test_second(api):\n    n = {test_use}  @@\n    assert n >= 0\n",
                            if location == "test_module" {
                                format!("{fixture}\n\n")
                            } else {
                                String::new()
                            }
                        );
                        let mut files = vec![
                            ("app/__init__.py".to_string(), String::new()),
                            ("tests/test_items.py".to_string(), tests),
                        ];
                        if location == "conftest" {
                            files.push((
                                "tests/conftest.py".to_string(),
                                format!("\"\"\"Shared fixtures.\"\"\"\n{imports}\n\n{fixture}"),
                            ));
                        }
                        if !helper_items.is_empty() {
                            files.push(("app/items.py".to_string(), helper_items));
                        }
                        files.extend(fam.support_file());
                        let dims = vec![
                            ("class", "cross-runtime-resource".to_string()),
                            ("family", fam.name.to_string()),
                            ("fixture_scope", scope.to_string()),
                            ("fixture_location", location.to_string()),
                            ("fixture_access", access.to_string()),
                            ("twin", if twin { "correct" } else { "bug" }.to_string()),
                        ];
                        let rule = (!twin).then_some("cross-runtime-resource");
                        out.push(Program::new("python", dims, rule, files));
                    }
                }
            }
        }
    }
}

/// How an event loop reaches the code that runs it after (bug) or before (twin) it is closed:
/// `(name, items, obtain in main, use in main)`; `{RUN:x}` runs a step on loop `x`.
const LOOP_TRAVELS: &[(&str, &str, &str, &str)] = &[
    (
        "local",
        "",
        "loop = asyncio.new_event_loop()",
        "n = {RUN:loop}  @@",
    ),
    (
        "factory_return",
        "def make_loop():\n    return asyncio.new_event_loop()\n",
        "loop = make_loop()",
        "n = {RUN:loop}  @@",
    ),
    (
        "parameter",
        "def finish(loop):\n    return {RUN:loop}  @@\n",
        "loop = asyncio.new_event_loop()",
        "n = finish(loop)  @?",
    ),
    (
        "instance_attribute",
        "class Runner:\n    def __init__(self):\n        self.loop = asyncio.new_event_loop()\n\n    def finish(self):\n        return {RUN:self.loop}  @@\n",
        "runner = Runner()\n    loop = runner.loop",
        "n = runner.finish()  @?",
    ),
    (
        "module_global",
        "_loop = asyncio.new_event_loop()\n\n\ndef finish():\n    return {RUN:_loop}  @@\n",
        "loop = _loop",
        "n = finish()  @?",
    ),
    (
        "project_subclass",
        "class ToolLoop(asyncio.SelectorEventLoop):\n    def __init__(self):\n        super().__init__()\n        self.steps = 0\n",
        "loop = ToolLoop()",
        "n = {RUN:loop}  @@",
    ),
    (
        "installed_then_fetched",
        "",
        "loop = asyncio.new_event_loop()\n    asyncio.set_event_loop(loop)",
        "n = {RUN:asyncio.get_event_loop()}  @@",
    ),
];

fn closed_loop_programs(out: &mut Vec<Program>) {
    for (travel, items, obtain, use_main) in LOOP_TRAVELS {
        for (use_name, run) in [
            ("run_until_complete", "{x}.run_until_complete(step())"),
            (
                "create_task",
                "{x}.run_until_complete({x}.create_task(step()))",
            ),
            ("run_forever", "{x}.stop() or {x}.run_forever()"),
        ] {
            for twin in [false, true] {
                let fill_run = |t: &str| -> String {
                    let mut s = t.to_string();
                    while let Some(at) = s.find("{RUN:") {
                        let end = at + s[at..].find('}').expect("closing brace");
                        let x = s[at + 5..end].to_string();
                        s = format!("{}{}{}", &s[..at], run.replace("{x}", &x), &s[end + 1..]);
                    }
                    s
                };
                let items = fill_run(items);
                let use_line = format!("    {}\n", fill_run(use_main));
                let close_line = "    loop.close()\n".to_string();
                let (first, second) = if twin {
                    (use_line, close_line)
                } else {
                    (close_line, use_line)
                };
                let finish = "    print(n)\n";
                let main = format!(
                    "\"\"\"Generated program.\"\"\"\nimport asyncio\n\n\nasync def step():\n    await asyncio.sleep(0)\n    return 1\n\n\n{items}\n\ndef main():\n    {obtain}\n    warmup = loop.run_until_complete(step())\n{first}{second}    print(warmup)\n{finish}\n\nif __name__ == \"__main__\":\n    main()\n"
                );
                let files = vec![("tool.py".to_string(), main)];
                let dims = vec![
                    ("class", "use-after-runtime-close".to_string()),
                    ("loop_travel", travel.to_string()),
                    ("use", use_name.to_string()),
                    ("twin", if twin { "correct" } else { "bug" }.to_string()),
                ];
                let rule = (!twin).then_some("use-after-runtime-close");
                out.push(Program::new("python", dims, rule, files));
            }
        }
    }
}

/// Runtimes that a `with` statement makes and stops where its block ends (an `asyncio.Runner`,
/// an anyio blocking portal), used after the block; the twin uses them inside it.
fn scoped_runtime_programs(out: &mut Vec<Program>) {
    const MAKERS: &[(&str, &str, &str, &str)] = &[
        (
            "asyncio_runner",
            "import asyncio\n",
            "asyncio.Runner() as rt",
            "rt.run(step(i))",
        ),
        (
            "anyio_portal",
            "import asyncio\nfrom anyio.from_thread import start_blocking_portal\n",
            "start_blocking_portal() as rt",
            "rt.call(step, i)",
        ),
    ];
    const USES: &[(&str, &str)] = &[
        ("after_block", "n = {RUN}"),
        (
            "loop_after_block",
            "n = 0\nfor i in range(3):\n    n += {RUN}",
        ),
        ("comprehension", "n = sum([{RUN} for i in range(3)])"),
    ];
    for (maker, imports, with_item, run) in MAKERS {
        for (use_name, use_code) in USES {
            for twin in [false, true] {
                let code = use_code.replace("{RUN}", run);
                let (inside, after) = if twin {
                    (format!("{}\n", ind(&code, 8)), String::new())
                } else {
                    let mut lines: Vec<String> = code.lines().map(|l| ind(l, 4)).collect();
                    if let Some(last) = lines.last_mut() {
                        last.push_str("  @@");
                    }
                    (String::new(), format!("{}\n", lines.join("\n")))
                };
                let main = format!(
                    "\"\"\"Generated program.\"\"\"\n{imports}\n\nasync def step(i=0):\n    await asyncio.sleep(0)\n    return i + 1\n\n\ndef main():\n    i = 0\n    with {with_item}:\n        warmup = {run}\n{inside}{after}    print(warmup, n)\n\n\nif __name__ == \"__main__\":\n    main()\n",
                    run = run.replace("(i)", "(0)").replace(", i)", ", 0)"),
                );
                let files = vec![("tool.py".to_string(), main)];
                let dims = vec![
                    ("class", "use-after-runtime-close".to_string()),
                    ("scoped_runtime", maker.to_string()),
                    ("use", use_name.to_string()),
                    ("twin", if twin { "correct" } else { "bug" }.to_string()),
                ];
                let rule = (!twin).then_some("use-after-runtime-close");
                out.push(Program::new("python", dims, rule, files));
            }
        }
    }
}

/// Two independent projects in one tree with the same module names: a bug in one stays in it,
/// and a helper that blocks is never taken for the other project's helper of the same name.
fn monorepo_programs(out: &mut Vec<Program>) {
    const BLOCKING: &str = "\"\"\"Loading.\"\"\"\nimport asyncio\n\n\nasync def fetch():\n    await asyncio.sleep(0)\n    return 1\n\n\ndef load():\n    return asyncio.run(fetch())  @@\n";
    const PLAIN: &str = "\"\"\"Loading.\"\"\"\n\n\ndef load():\n    return 1\n";
    const ASYNC_APP: &str = "\"\"\"Service.\"\"\"\nimport asyncio\n\nfrom helpers import load\n\n\nasync def main():\n    print(load())\n\n\nif __name__ == \"__main__\":\n    asyncio.run(main())\n";
    const SYNC_APP: &str = "\"\"\"Service.\"\"\"\nfrom helpers import load\n\n\ndef main():\n    print(load())\n\n\nif __name__ == \"__main__\":\n    main()\n";
    for root in ["services", "examples"] {
        for buggy in ["alpha", "beta"] {
            for manifest in ["pyproject", "none"] {
                for twin in [false, true] {
                    let other = if buggy == "alpha" { "beta" } else { "alpha" };
                    // The blocking helper lives in `buggy`; its app is async in the bug program
                    // and sync in the twin. The other project's async app calls a plain helper.
                    let mut files = vec![
                        (format!("{root}/{buggy}/helpers.py"), BLOCKING.to_string()),
                        (
                            format!("{root}/{buggy}/app.py"),
                            if twin { SYNC_APP } else { ASYNC_APP }.to_string(),
                        ),
                        (format!("{root}/{other}/helpers.py"), PLAIN.to_string()),
                        (format!("{root}/{other}/app.py"), ASYNC_APP.to_string()),
                    ];
                    if manifest == "pyproject" {
                        for name in [buggy, other] {
                            files.push((
                                format!("{root}/{name}/pyproject.toml"),
                                format!("[project]\nname = \"{name}\"\nversion = \"0.1.0\"\n"),
                            ));
                        }
                    }
                    let dims = vec![
                        ("class", "nested-block-on".to_string()),
                        ("monorepo_root", root.to_string()),
                        ("buggy_project", buggy.to_string()),
                        ("manifest", manifest.to_string()),
                        ("twin", if twin { "correct" } else { "bug" }.to_string()),
                    ];
                    let rule = (!twin).then_some("nested-block-on");
                    out.push(Program::new("python", dims, rule, files));
                }
            }
        }
    }
}

/// Callbacks the loop runs, registered in ways real code does, each with a twin whose callback
/// may block or needs no loop: `(name, bug callback body, twin callback body, registering code)`.
/// `{CB}` is the callback's name.
const CALLBACKS: &[(&str, &str, &str, &str)] = &[
    (
        "call_soon_before_run_forever",
        "time.sleep(0.01)  @@\nloop.stop()",
        "loop.run_in_executor(None, time.sleep, 0.01)\nloop.stop()",
        "def main():\n    global loop\n    loop = asyncio.new_event_loop()\n    loop.call_soon({CB})\n    loop.run_forever()\n    loop.close()\n",
    ),
    (
        "call_later_in_coroutine",
        "time.sleep(0.01)  @@",
        "asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.01)",
        "async def amain():\n    asyncio.get_running_loop().call_later(0.01, {CB})\n    await asyncio.sleep(0.1)\n\n\ndef main():\n    asyncio.run(amain())\n",
    ),
    (
        "threadsafe_from_worker",
        "time.sleep(0.01)  @@",
        "print(asyncio.get_running_loop().time())",
        "def poke(loop):\n    loop.call_soon_threadsafe({CB})\n\n\nasync def amain():\n    loop = asyncio.get_running_loop()\n    await asyncio.to_thread(poke, loop)\n    await asyncio.sleep(0.1)\n\n\ndef main():\n    asyncio.run(amain())\n",
    ),
    (
        "task_done_callback_nested_run",
        "print(asyncio.run(asyncio.sleep(0)))  @@",
        "print(asyncio.get_running_loop().time())",
        "async def amain():\n    task = asyncio.create_task(asyncio.sleep(0))\n    task.add_done_callback(lambda _t: {CB}())\n    await task\n    await asyncio.sleep(0)\n\n\ndef main():\n    asyncio.run(amain())\n",
    ),
];

/// Loop callbacks: a blocking call or a nested loop entry in a callback the loop runs (bug),
/// or a callback that hands the work off or only needs the running loop (twin). A callback of
/// an executor's future, run off the loop, may block (twin only).
fn callback_programs(out: &mut Vec<Program>) {
    for (name, bug, twin_body, register) in CALLBACKS {
        for twin in [false, true] {
            let body = if twin { twin_body } else { bug };
            let rule = if body.contains("asyncio.run(") {
                "nested-block-on"
            } else {
                "blocking-call-in-async"
            };
            let code = format!(
                "\"\"\"Generated program.\"\"\"\nimport asyncio\nimport time\n\n\ndef on_event():\n{}\n\n\n{}\n\nif __name__ == \"__main__\":\n    main()\n",
                ind(body, 4),
                register.replace("{CB}", "on_event")
            );
            let dims = vec![
                ("class", rule.to_string()),
                ("callback", name.to_string()),
                ("twin", if twin { "correct" } else { "bug" }.to_string()),
            ];
            let rule = (!twin).then_some(rule);
            out.push(Program::new(
                "python",
                dims,
                rule,
                vec![("app.py".to_string(), code)],
            ));
        }
    }
    let code = "\"\"\"Generated program.\"\"\"\nimport concurrent.futures\nimport time\n\n\ndef on_done(_fut):\n    time.sleep(0.01)\n\n\ndef main():\n    with concurrent.futures.ThreadPoolExecutor() as pool:\n        fut = pool.submit(time.sleep, 0.01)\n        fut.add_done_callback(on_done)\n\n\nif __name__ == \"__main__\":\n    main()\n";
    let dims = vec![
        ("class", "blocking-call-in-async".to_string()),
        ("callback", "executor_future_done_callback".to_string()),
        ("twin", "correct".to_string()),
    ];
    out.push(Program::new(
        "python",
        dims,
        None,
        vec![("app.py".to_string(), code.to_string())],
    ));
}

/// How a maker hands the client it makes to the project's code: `(name, helper items, call)`.
/// The helper items define `outer` (the function the maker calls) around `probe` (the function
/// that does the helper's effect); `{CALL}` is the maker's call expression.
const LENDS: &[(&str, &str, &str)] = &[
    ("positional", "", "await probe(client, URL)"),
    ("keyword", "", "await probe(url=URL, client=client)"),
    (
        "helper_chain",
        "async def outer(client, url):\n    return await probe(client, url)\n",
        "await outer(client, URL)",
    ),
    ("other_module", "", "await probe(client, URL)"),
    ("own_method", "", "await self._probe(client, URL)"),
];

/// What the helper the client is lent to does with it: `(name, module items, body, cleanup)`.
/// Only `uses` leaves the client open; every other effect closes it, or keeps it where the
/// program's cleanup closes it. `{CLOSE}` is the family's close method.
const LEND_EFFECTS: &[(&str, &str, &str, &str)] = &[
    (
        "uses",
        "",
        "resp = await client.get(url)\nreturn resp.status_code",
        "pass",
    ),
    (
        "closes",
        "",
        "try:\n    resp = await client.get(url)\nfinally:\n    await client.{CLOSE}()\nreturn resp.status_code",
        "pass",
    ),
    (
        "async_with",
        "",
        "async with client:\n    resp = await client.get(url)\nreturn resp.status_code",
        "pass",
    ),
    (
        "kept_in_list",
        "OPEN = []\n",
        "OPEN.append(client)\nresp = await client.get(url)\nreturn resp.status_code",
        "for c in OPEN:\n    await c.{CLOSE}()",
    ),
    (
        "kept_on_object",
        "STATE = types.SimpleNamespace(client=None)\n",
        "STATE.client = client\nresp = await client.get(url)\nreturn resp.status_code",
        "await STATE.client.{CLOSE}()",
    ),
    (
        "exit_stack",
        "STACK = contextlib.AsyncExitStack()\n",
        "STACK.push_async_callback(client.{CLOSE})\nresp = await client.get(url)\nreturn resp.status_code",
        "await STACK.aclose()",
    ),
    (
        "returned",
        "",
        "resp = await client.get(url)\nreturn client",
        "pass",
    ),
];

/// A client made by a function and lent to project helpers: a helper that only uses it leaves
/// it open (`unclosed-client` at the making line); the twins' helpers close it, enter it, keep
/// it where the program closes it later, hand it to an exit stack or return it to the maker,
/// which closes it.
fn lent_client_programs(out: &mut Vec<Program>) {
    const FAMS: &[(&str, &str, &str)] = &[
        ("httpx", "httpx.AsyncClient(timeout=2.0)", "aclose"),
        ("aiohttp", "aiohttp.ClientSession()", "close"),
    ];
    for (lend, outer, call) in LENDS {
        for (effect, items, body, cleanup) in LEND_EFFECTS {
            for (fam, make, close) in FAMS {
                let returned = *effect == "returned";
                let body = body.replace("{CLOSE}", close);
                let cleanup = cleanup.replace("{CLOSE}", close);
                let own = *lend == "own_method";
                let call_lines = if returned {
                    format!("kept = {call}\nawait kept.{close}()\nreturn 1")
                } else {
                    format!("status = {call}\nreturn status")
                };
                let maker = if own {
                    format!(
                        "class Sweeper:\n    async def _probe(self, client, url):\n        return await probe(client, url)\n\n    async def sweep(self):\n        client = {make}  @@\n{}\n",
                        ind(&call_lines, 8)
                    )
                } else {
                    format!(
                        "async def sweep():\n    client = {make}  @@\n{}\n",
                        ind(&call_lines, 4)
                    )
                };
                let helpers = format!(
                    "{items}\n\nasync def probe(client, url):\n{}\n\n\n{outer}\n\nasync def cleanup():\n{}\n",
                    ind(&body, 4),
                    ind(&cleanup, 4)
                );
                let head = "import contextlib\nimport types\n\nimport aiohttp\nimport httpx\n";
                let run = if own { "Sweeper().sweep()" } else { "sweep()" };
                let main = format!(
                    "async def main():\n    print(await {run})\n    await cleanup()\n\n\nif __name__ == \"__main__\":\n    asyncio.run(main())\n"
                );
                let files = if *lend == "other_module" {
                    vec![
                        (
                            "app/probes.py".to_string(),
                            format!("\"\"\"Generated helpers.\"\"\"\n{head}\n{helpers}"),
                        ),
                        ("app/__init__.py".to_string(), String::new()),
                        (
                            "app/main.py".to_string(),
                            format!(
                                "\"\"\"Generated program.\"\"\"\nimport asyncio\n\nimport aiohttp\nimport httpx\n\nfrom app.probes import cleanup, probe\n\nURL = \"http://127.0.0.1:9/health\"\n\n\n{maker}\n\n{main}"
                            ),
                        ),
                    ]
                } else {
                    vec![(
                        "app.py".to_string(),
                        format!(
                            "\"\"\"Generated program.\"\"\"\nimport asyncio\n{head}\nURL = \"http://127.0.0.1:9/health\"\n{helpers}\n\n{maker}\n\n{main}"
                        ),
                    )]
                };
                let dims = vec![
                    ("class", "unclosed-client".to_string()),
                    ("lend", lend.to_string()),
                    ("helper_effect", effect.to_string()),
                    ("family", fam.to_string()),
                ];
                let rule = (*effect == "uses").then_some("unclosed-client");
                out.push(Program::new("python", dims, rule, files));
            }
        }
    }
}

/// A client a run fills lazily into long-lived storage (a module global behind an accessor
/// function, or an attribute of a module-level instance behind an accessor method) and renews
/// for the next run: each run closes and forgets it (`renewal = reset_none`), or closes it and
/// the fill checks its state (`if c is None or c.closed:`, `renewal = closed_guard`). The bug
/// variants leave it to the next run's loop: only the last run releases it, or the fill checks
/// `is None` alone while each run closes the client without forgetting it.
fn refill_programs(out: &mut Vec<Program>) {
    // (family, import, create, use of `{x}`, close method, state check, or empty)
    const FAMS: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "httpx_client",
            "import httpx\n",
            "httpx.AsyncClient(base_url=\"http://127.0.0.1:9\")",
            "(await {x}.get(\"/items\")).status_code",
            "aclose",
            "is_closed",
        ),
        (
            "aiohttp_session",
            "import aiohttp\n",
            "aiohttp.ClientSession()",
            "len(await (await {x}.get(\"http://127.0.0.1:9/items\")).read())",
            "close",
            "closed",
        ),
        (
            "redis_client",
            "import redis.asyncio as aioredis\n",
            "aioredis.Redis()",
            "len(await {x}.keys(\"job:*\"))",
            "aclose",
            "",
        ),
    ];
    for &(fam, import, create, use_expr, close, check) in FAMS {
        for holder in ["module_accessor", "instance_accessor"] {
            for renewal in ["reset_none", "closed_guard"] {
                if renewal == "closed_guard" && check.is_empty() {
                    continue;
                }
                for variant in ["correct", "released_at_shutdown", "guard_none_only"] {
                    if variant == "guard_none_only" && renewal == "reset_none" {
                        continue;
                    }
                    let bug = variant != "correct";
                    let (r, decl) = match holder {
                        "module_accessor" => ("_res", "    global _res\n"),
                        _ => ("self._res", ""),
                    };
                    let guard = if renewal == "closed_guard" && variant != "guard_none_only" {
                        format!("{r} is None or {r}.{check}")
                    } else {
                        format!("{r} is None")
                    };
                    let pad = if holder == "module_accessor" { 8 } else { 12 };
                    let reset = if renewal == "reset_none" {
                        format!("{}{r} = None\n", " ".repeat(pad))
                    } else {
                        String::new()
                    };
                    let use_line = use_expr.replace("{x}", "res");
                    let (items, get, release) = match holder {
                        "module_accessor" => (
                            format!(
                                "_res = None\n\n\ndef resource():\n{decl}    if {guard}:\n        _res = {create}\n    return _res\n\n\nasync def release():\n{decl}    if _res is not None:\n        await _res.{close}()  @?\n{reset}"
                            ),
                            "resource()",
                            "release()",
                        ),
                        _ => (
                            format!(
                                "class Store:\n    def __init__(self):\n        self._res = None\n\n    def resource(self):\n        if {guard}:\n            self._res = {create}\n        return self._res\n\n    async def release(self):\n        if self._res is not None:\n            await self._res.{close}()  @?\n{reset}\n\nstore = Store()\n"
                            ),
                            "store.resource()",
                            "store.release()",
                        ),
                    };
                    let run = if variant == "released_at_shutdown" {
                        "async def run():\n    return await work()\n".to_string()
                    } else {
                        format!(
                            "async def run():\n    try:\n        return await work()\n    finally:\n        await {release}\n"
                        )
                    };
                    let shutdown = if variant == "released_at_shutdown" {
                        format!("    asyncio.run({release})\n")
                    } else {
                        String::new()
                    };
                    let main = format!(
                        "\"\"\"Generated program.\"\"\"\nimport asyncio\n\n{import}\n\n{items}\n\nasync def work():\n    res = {get}\n    return {use_line}  @@\n\n\n{run}\n\ndef main():\n    print(asyncio.run(run()))\n    print(asyncio.run(run()))\n{shutdown}\n\nif __name__ == \"__main__\":\n    main()\n"
                    );
                    let files = vec![("app.py".to_string(), main)];
                    let dims = vec![
                        ("class", "cross-runtime-resource".to_string()),
                        ("family", fam.to_string()),
                        ("refill_holder", holder.to_string()),
                        ("renewal", renewal.to_string()),
                        ("twin", if bug { variant } else { "correct" }.to_string()),
                    ];
                    let rule = bug.then_some("cross-runtime-resource");
                    out.push(
                        Program::new("python", dims, rule, files).tolerating(&["unclosed-client"]),
                    );
                }
            }
        }
    }
}

/// How a client leaves the loop that opened it, for `handed_back_programs`.
const HAND_BACKS: &[&str] = &[
    // `connect()` keeps what the loop hands back: `self.client = run(self._open())`.
    "setter_method_result",
    // The constructor does.
    "constructor_result",
    // The caller keeps what a module coroutine hands back on the instance.
    "function_result_on_attribute",
    // A sync helper runs the module coroutine and returns its result to `connect()`.
    "sync_helper_result",
    // The coroutine the loop runs is a method that keeps the client on its instance.
    "kept_by_run_method",
];

/// A client opened (and bound: made and used) under one loop that hands it back to sync code,
/// kept on an instance, and used later under another loop: a fresh `asyncio.run` loop (bug),
/// or, as the twins, opened and used inside one run, or on one long-lived loop.
/// `opener` is the loop the client is opened on: `asyncio_run`, or a module's private loop.
fn handed_back_program(fam: &Family, hand: &str, opener: &str, uses: &str, twin: bool) -> Program {
    let private = opener == "private_loop";
    let run_open = |e: &str| {
        if private {
            format!("_loop.run_until_complete({e})")
        } else {
            format!("asyncio.run({e})")
        }
    };
    let run_use = |e: &str| {
        if private && twin {
            format!("_loop.run_until_complete({e})")
        } else {
            format!("asyncio.run({e})")
        }
    };
    // The twin of a client opened under `asyncio.run` opens and uses it in one run.
    let one_run = twin && !private;
    let warm = fam.use_expr.replace("{x}", "client");
    let mut items = String::new();
    if private {
        items.push_str("_loop = asyncio.new_event_loop()\n\n\n");
    }
    let module_opener = matches!(hand, "function_result_on_attribute" | "sync_helper_result");
    if module_opener {
        items.push_str(&format!(
            "async def open_client():\n    client = {}\n    print({warm})\n    return client\n\n\n",
            fam.create
        ));
    }
    if hand == "sync_helper_result" && !one_run {
        items.push_str(&format!(
            "def open_client_sync():\n    return {}\n\n\n",
            run_open("open_client()")
        ));
    }
    let mut class =
        String::from("class Api:\n    def __init__(self):\n        self.client = None\n");
    if hand == "constructor_result" && !one_run {
        class.push_str(&format!(
            "        self.client = {}\n",
            run_open("self._open()")
        ));
    }
    if !module_opener && hand != "kept_by_run_method" {
        class.push_str(&format!(
            "\n    async def _open(self):\n        client = {}\n        print({warm})\n        return client\n",
            fam.create
        ));
    }
    if hand == "kept_by_run_method" {
        class.push_str(&format!(
            "\n    async def _connect(self):\n        self.client = {}\n        print({})\n",
            fam.create,
            fam.use_expr.replace("{x}", "self.client")
        ));
    }
    let tag = if twin { "" } else { "  @@" };
    class.push_str(&format!(
        "\n    async def fetch(self):\n        return {}{tag}\n",
        fam.use_expr.replace("{x}", "self.client")
    ));
    let again = if uses == "per_call_runs" {
        "    print(api.get())\n"
    } else {
        ""
    };
    let main = if one_run {
        let open = match hand {
            "kept_by_run_method" => "        await self._connect()\n".to_string(),
            "function_result_on_attribute" | "sync_helper_result" => {
                "        self.client = await open_client()\n".to_string()
            }
            _ => "        self.client = await self._open()\n".to_string(),
        };
        let fetches = if uses == "per_call_runs" {
            "        return await self.fetch(), await self.fetch()\n"
        } else {
            "        return await self.fetch()\n"
        };
        class.push_str(&format!("\n    async def session(self):\n{open}{fetches}"));
        "def main():\n    api = Api()\n    print(asyncio.run(api.session()))\n".to_string()
    } else {
        let connect = match hand {
            "setter_method_result" => {
                format!("        self.client = {}\n", run_open("self._open()"))
            }
            "sync_helper_result" => "        self.client = open_client_sync()\n".to_string(),
            "kept_by_run_method" => format!("        {}\n", run_open("self._connect()")),
            _ => String::new(),
        };
        if !connect.is_empty() {
            class.push_str(&format!("\n    def connect(self):\n{connect}"));
        }
        class.push_str(&format!(
            "\n    def get(self):\n        return {}\n",
            run_use("self.fetch()")
        ));
        let setup = match hand {
            "function_result_on_attribute" => {
                format!("    api.client = {}\n", run_open("open_client()"))
            }
            "constructor_result" => String::new(),
            _ => "    api.connect()\n".to_string(),
        };
        format!("def main():\n    api = Api()\n{setup}    print(api.get())\n{again}")
    };
    let text = format!(
        "\"\"\"Generated program.\"\"\"\n{IMPORTS}{}\n\n{items}{class}\n\n{main}\n\nif __name__ == \"__main__\":\n    main()\n",
        fam.import
    );
    let twin_name = match (twin, private) {
        (false, _) => "bug",
        (true, false) => "one_run",
        (true, true) => "long_lived_loop",
    };
    let dims = vec![
        ("class", "cross-runtime-resource".to_string()),
        ("family", fam.name.to_string()),
        ("hand_back", hand.to_string()),
        ("opener", opener.to_string()),
        ("uses", uses.to_string()),
        ("twin", twin_name.to_string()),
    ];
    let mut files = vec![
        ("app/__init__.py".to_string(), String::new()),
        ("app/main.py".to_string(), text),
    ];
    files.extend(fam.support_file());
    Program::new(
        "python",
        dims,
        (!twin).then_some("cross-runtime-resource"),
        files,
    )
}

/// Clients handed back by the loop that opened them and kept on an instance
/// (`handed_back_program`): every family, way of handing back, opener and number of uses.
fn handed_back_programs(out: &mut Vec<Program>) {
    for fam in FAMILIES {
        for hand in HAND_BACKS {
            for opener in ["asyncio_run", "private_loop"] {
                for uses in ["later_run", "per_call_runs"] {
                    for twin in [false, true] {
                        out.push(handed_back_program(fam, hand, opener, uses, twin));
                    }
                }
            }
        }
    }
}

/// How a per-key cache of loop-bound primitives is kept: `(name, items, getter call)`. `{MAKE}`
/// is the primitive's constructor, `{KEY}` the key expression; the module's one instance
/// (`HOLDER`) or a fixture's holds the instance caches, `{H}` names it in the getter call.
const KEY_CACHES: &[(&str, &str, &str)] = &[
    (
        "module_dict_subscript",
        "_cache = {}\n\n\ndef slot(key):\n    k = {KEY}\n    if k not in _cache:\n        _cache[k] = {MAKE}\n    return _cache[k]\n",
        "slot(\"k\")",
    ),
    (
        "module_dict_setdefault",
        "_cache = {}\n\n\ndef slot(key):\n    return _cache.setdefault({KEY}, {MAKE})\n",
        "slot(\"k\")",
    ),
    (
        "module_dict_get_or_setdefault",
        "_cache = {}\n\n\ndef slot(key):\n    k = {KEY}\n    return _cache.get(k) or _cache.setdefault(k, {MAKE})\n",
        "slot(\"k\")",
    ),
    (
        "instance_dict_subscript",
        "class Holder:\n    def __init__(self):\n        self._cache = {}\n\n    def slot(self, key):\n        k = {KEY}\n        if k not in self._cache:\n            self._cache[k] = {MAKE}\n        return self._cache[k]\n",
        "{H}.slot(\"k\")",
    ),
    (
        "instance_dict_setdefault",
        "class Holder:\n    def __init__(self):\n        self._cache = {}\n\n    def slot(self, key):\n        return self._cache.setdefault({KEY}, {MAKE})\n",
        "{H}.slot(\"k\")",
    ),
];

/// Loop-bound primitives: `(name, constructor, use statements)`; `{x}` is the primitive.
const PRIMITIVES: &[(&str, &str, &str)] = &[
    (
        "lock",
        "asyncio.Lock()",
        "async with {x}:\n    await asyncio.sleep(0)",
    ),
    (
        "semaphore",
        "asyncio.Semaphore(2)",
        "async with {x}:\n    await asyncio.sleep(0)",
    ),
    ("queue", "asyncio.Queue()", "await {x}.get()"),
    ("event", "asyncio.Event()", "await {x}.wait()"),
];

/// A per-key cache of loop-bound primitives shared by two loops: two `asyncio.run` calls, or
/// two tests on pytest-asyncio's per-test loops (bug); the twins key the cache by the running
/// loop, run both uses in one loop, share the session loop, or build a holder per test.
fn key_cache_programs(out: &mut Vec<Program>) {
    for (cache, items, getter) in KEY_CACHES {
        let instance = cache.starts_with("instance");
        for (prim, make, use_stmt) in PRIMITIVES {
            for sharing in ["two_runs", "per_test_loops"] {
                let twins: &[&str] = match (sharing, instance) {
                    ("two_runs", _) => &["keyed_per_loop", "one_run"],
                    (_, false) => &["keyed_per_loop", "session_loop_scope"],
                    (_, true) => &["keyed_per_loop", "session_loop_scope", "function_fixture"],
                };
                // How a fixture hands its holder to the tests: returned, yielded by a
                // generator, or yielded by an async generator that pytest-asyncio drives.
                let styles: &[&str] = if instance && sharing == "per_test_loops" {
                    &["return", "yield", "async_yield"]
                } else {
                    &["none"]
                };
                for (style, twin) in styles.iter().flat_map(|s| {
                    std::iter::once("bug")
                        .chain(twins.iter().copied())
                        .map(move |t| (*s, t))
                }) {
                    let key = if twin == "keyed_per_loop" {
                        "(asyncio.get_running_loop(), key)"
                    } else {
                        "key"
                    };
                    let mut text = format!(
                        "\"\"\"Generated program.\"\"\"\nimport asyncio\n\nimport pytest\n\n\n{}",
                        items.replace("{KEY}", key).replace("{MAKE}", make)
                    );
                    let holder = if sharing == "two_runs" {
                        "HOLDER"
                    } else {
                        "holder"
                    };
                    let x = getter.replace("{H}", holder);
                    let use_at = |tag: &str| {
                        let lines: Vec<String> = use_stmt
                            .replace("{x}", &x)
                            .lines()
                            .enumerate()
                            .map(|(i, l)| {
                                if i == 0 {
                                    format!("{l}{tag}")
                                } else {
                                    l.to_string()
                                }
                            })
                            .collect();
                        ind(&lines.join("\n"), 4)
                    };
                    if sharing == "two_runs" {
                        if instance {
                            text.push_str("\n\nHOLDER = Holder()\n");
                        }
                        let tag = if twin == "bug" { "  @@" } else { "" };
                        text.push_str(&format!("\n\nasync def work():\n{}\n", use_at(tag)));
                        if twin == "one_run" {
                            text.push_str("\n\nasync def both():\n    await work()\n    await work()\n\n\ndef main():\n    asyncio.run(both())\n");
                        } else {
                            text.push_str("\n\ndef main():\n    asyncio.run(work())\n    asyncio.run(work())\n");
                        }
                        text.push_str("\n\nif __name__ == \"__main__\":\n    main()\n");
                    } else {
                        let param = if instance { "holder" } else { "" };
                        if instance {
                            let plugin = if style == "async_yield" {
                                "pytest_asyncio"
                            } else {
                                "pytest"
                            };
                            let scope = if twin == "function_fixture" {
                                format!("@{plugin}.fixture")
                            } else {
                                format!("@{plugin}.fixture(scope=\"session\")")
                            };
                            let def = match style {
                                "yield" => "def holder():\n    holder = Holder()\n    yield holder",
                                "async_yield" => {
                                    "async def holder():\n    holder = Holder()\n    yield holder"
                                }
                                _ => "def holder():\n    return Holder()",
                            };
                            if style == "async_yield" {
                                text = text.replacen(
                                    "import pytest\n",
                                    "import pytest\nimport pytest_asyncio\n",
                                    1,
                                );
                            }
                            text.push_str(&format!("\n\n{scope}\n{def}\n"));
                        }
                        let tag = if twin == "bug" { "  @@" } else { "" };
                        text.push_str(&two_async_tests(twin, param, &use_at(""), &use_at(tag)));
                    }
                    let path = if sharing == "two_runs" {
                        "app/main.py"
                    } else {
                        "tests/test_cache.py"
                    };
                    let dims = vec![
                        ("class", "cross-runtime-resource".to_string()),
                        ("cache", cache.to_string()),
                        ("primitive", prim.to_string()),
                        ("sharing", sharing.to_string()),
                        ("fixture", style.to_string()),
                        ("twin", twin.to_string()),
                    ];
                    let files = vec![
                        ("app/__init__.py".to_string(), String::new()),
                        (path.to_string(), text),
                    ];
                    let rule = (twin == "bug").then_some("cross-runtime-resource");
                    out.push(Program::new("python", dims, rule, files));
                }
            }
        }
    }
}

/// Where a function with a loop-bound default sits: `(name, definition, how main names it,
/// import line)`; `{SIG}` is the parameter list after `self`, `{BODY}` the body.
const DEFAULT_OWNERS: &[(&str, &str, &str, &str)] = &[
    (
        "module_function",
        "async def work({SIG}):\n{BODY}\n",
        "work",
        "",
    ),
    (
        "method_of_module_instance",
        "class Worker:\n    async def work(self, {SIG}):\n{BODY8}\n\n\nWORKER = Worker()\n",
        "WORKER.work",
        "",
    ),
    (
        "function_in_other_module",
        "",
        "work",
        "from app.prims import work\n",
    ),
];

/// How the calls pass arguments: `(name, call arguments)`; the bug programs leave the
/// primitive out.
const DEFAULT_CALLS: &[(&str, &str)] = &[
    ("omitted", ""),
    ("other_by_keyword", "tag=1"),
    ("other_by_position", "1"),
];

/// A loop-bound primitive made in a parameter's default, made once at import and shared by
/// every call that leaves the parameter out: two `asyncio.run` calls, or two tests on
/// pytest-asyncio's per-test loops, that leave it out share it (bug). The twins pass a
/// primitive made under the running loop (by position or by keyword), make both calls in one
/// loop, or define the function inside the coroutine (its default is made by each run).
fn default_arg_programs(out: &mut Vec<Program>) {
    for (owner, def, callee, import) in DEFAULT_OWNERS {
        for (prim, make, use_stmt) in PRIMITIVES {
            for (calls, call_args) in DEFAULT_CALLS {
                for sharing in ["two_runs", "per_test_loops"] {
                    let mut twins = vec!["bug", "passed_by_position", "passed_by_keyword"];
                    twins.push(if sharing == "two_runs" {
                        "one_run"
                    } else {
                        "session_loop_scope"
                    });
                    if *owner == "module_function" && sharing == "two_runs" {
                        twins.push("defined_per_run");
                    }
                    for twin in twins {
                        let args = match twin {
                            "passed_by_position" => format!("1, {make}"),
                            "passed_by_keyword" => format!("prim={make}"),
                            _ => call_args.to_string(),
                        };
                        let tag = if twin == "bug" { "  @@" } else { "" };
                        let body = |n: usize| {
                            let lines: Vec<String> = use_stmt
                                .replace("{x}", "prim")
                                .lines()
                                .enumerate()
                                .map(|(i, l)| {
                                    if i == 0 {
                                        format!("{l}{tag}")
                                    } else {
                                        l.to_string()
                                    }
                                })
                                .collect();
                            ind(&format!("{}\nreturn tag", lines.join("\n")), n)
                        };
                        let sig = format!("tag=0, prim={make}");
                        let definition = if *owner == "function_in_other_module" {
                            "async def work({SIG}):\n{BODY}\n"
                        } else {
                            def
                        }
                        .replace("{SIG}", &sig)
                        .replace("{BODY8}", &body(8))
                        .replace("{BODY}", &body(4));
                        let mut files = vec![("app/__init__.py".to_string(), String::new())];
                        let mut text = format!(
                            "\"\"\"Generated program.\"\"\"\nimport asyncio\n\nimport pytest\n{import}\n\n"
                        );
                        if *owner == "function_in_other_module" {
                            files.push((
                                "app/prims.py".to_string(),
                                format!("\"\"\"Generated helpers.\"\"\"\nimport asyncio\n\n\n{definition}"),
                            ));
                        } else if twin != "defined_per_run" {
                            text.push_str(&definition);
                        }
                        let call = format!("await {callee}({args})");
                        let path = if sharing == "two_runs" {
                            match twin {
                                "one_run" => text.push_str(&format!(
                                    "\n\nasync def both():\n    {call}\n    {call}\n\n\ndef main():\n    asyncio.run(both())\n"
                                )),
                                "defined_per_run" => text.push_str(&format!(
                                    "\n\nasync def run_once():\n{}\n    return {call}\n\n\ndef main():\n    asyncio.run(run_once())\n    asyncio.run(run_once())\n",
                                    ind(&definition, 4)
                                )),
                                _ => text.push_str(&format!(
                                    "\n\nasync def run_once():\n    return {call}\n\n\ndef main():\n    asyncio.run(run_once())\n    asyncio.run(run_once())\n"
                                )),
                            }
                            text.push_str("\n\nif __name__ == \"__main__\":\n    main()\n");
                            "app/main.py"
                        } else {
                            let body = format!("    {call}");
                            text.push_str(&two_async_tests(twin, "", &body, &body));
                            "tests/test_defaults.py"
                        };
                        let dims = vec![
                            ("class", "cross-runtime-resource".to_string()),
                            ("default_owner", owner.to_string()),
                            ("primitive", prim.to_string()),
                            ("calls", calls.to_string()),
                            ("sharing", sharing.to_string()),
                            ("twin", twin.to_string()),
                        ];
                        files.push((path.to_string(), text));
                        let rule = (twin == "bug").then_some("cross-runtime-resource");
                        out.push(Program::new("python", dims, rule, files));
                    }
                }
            }
        }
    }
}

/// How a module's `__getattr__` keeps what it hands out: `(name, module text)`; `{MAKE}` is
/// the constructor.
const GETATTR_KEEPS: &[(&str, &str)] = &[
    (
        "made_in_place",
        "_shared = None\n\n\ndef __getattr__(name):\n    global _shared\n    if name == \"shared\":\n        if _shared is None:\n            _shared = {MAKE}\n        return _shared\n    raise AttributeError(name)\n",
    ),
    (
        "made_by_helper",
        "_shared = None\n\n\ndef _build():\n    global _shared\n    _shared = {MAKE}\n\n\ndef __getattr__(name):\n    if name != \"shared\":\n        raise AttributeError(name)\n    if _shared is None:\n        _build()\n    return _shared\n",
    ),
];

/// How the using module reaches the name: `(name, import line, what names the object)`.
const GETATTR_ACCESSES: &[(&str, &str, &str)] = &[
    ("module_attribute", "from app import lazy", "lazy.shared"),
    ("imported_name", "from app.lazy import shared", "shared"),
];

/// A loop-bound primitive that a module's `__getattr__` (PEP 562) makes once and keeps in a
/// module global, reached as the module's attribute or imported by name, and shared by two
/// loops: two `asyncio.run` calls or two tests on per-test loops (bug). The twins run both
/// uses in one loop, or make a fresh primitive at each read of the module attribute.
fn module_getattr_programs(out: &mut Vec<Program>) {
    for (keeps, module) in GETATTR_KEEPS {
        for (access, import, x) in GETATTR_ACCESSES {
            for (prim, make, use_stmt) in PRIMITIVES {
                for sharing in ["two_runs", "per_test_loops"] {
                    let mut twins = vec!["bug"];
                    twins.push(if sharing == "two_runs" {
                        "one_run"
                    } else {
                        "session_loop_scope"
                    });
                    if *access == "module_attribute" {
                        twins.push("fresh_per_read");
                    }
                    for twin in twins {
                        let lazy = if twin == "fresh_per_read" {
                            "def __getattr__(name):\n    if name == \"shared\":\n        return {MAKE}\n    raise AttributeError(name)\n"
                        } else {
                            module
                        };
                        let tag = if twin == "bug" { "  @@" } else { "" };
                        let lines: Vec<String> = use_stmt
                            .replace("{x}", x)
                            .lines()
                            .enumerate()
                            .map(|(i, l)| {
                                if i == 0 {
                                    format!("{l}{tag}")
                                } else {
                                    l.to_string()
                                }
                            })
                            .collect();
                        let work = format!("async def work():\n{}\n", ind(&lines.join("\n"), 4));
                        let mut text = format!(
                            "\"\"\"Generated program.\"\"\"\nimport asyncio\n\nimport pytest\n\n{import}\n\n\n{work}"
                        );
                        let path = if sharing == "two_runs" {
                            if twin == "one_run" {
                                text.push_str("\n\nasync def both():\n    await work()\n    await work()\n\n\ndef main():\n    asyncio.run(both())\n");
                            } else {
                                text.push_str("\n\ndef main():\n    asyncio.run(work())\n    asyncio.run(work())\n");
                            }
                            text.push_str("\n\nif __name__ == \"__main__\":\n    main()\n");
                            "app/main.py"
                        } else {
                            let body = "    await work()";
                            text.push_str(&two_async_tests(twin, "", body, body));
                            "tests/test_lazy.py"
                        };
                        let dims = vec![
                            ("class", "cross-runtime-resource".to_string()),
                            ("module_getattr", keeps.to_string()),
                            ("access", access.to_string()),
                            ("primitive", prim.to_string()),
                            ("sharing", sharing.to_string()),
                            ("twin", twin.to_string()),
                        ];
                        let files = vec![
                            ("app/__init__.py".to_string(), String::new()),
                            (
                                "app/lazy.py".to_string(),
                                format!(
                                    "\"\"\"Generated lazy module.\"\"\"\nimport asyncio\n\n{}",
                                    lazy.replace("{MAKE}", make)
                                ),
                            ),
                            (path.to_string(), text),
                        ];
                        let rule = (twin == "bug").then_some("cross-runtime-resource");
                        out.push(Program::new("python", dims, rule, files));
                    }
                }
            }
        }
    }
}

/// What a handler held in a table of functions does: `(name, rule, handler body, whether the
/// dispatcher runs in async code for the bug)`. The twin runs the dispatcher in the other
/// context, where the handler's code is right.
const TABLE_PAYLOADS: &[(&str, &str, &str, bool)] = &[
    (
        "nested_asyncio_run",
        "nested-block-on",
        "return asyncio.run(fetch(msg))  @@",
        true,
    ),
    (
        "blocking_sleep",
        "blocking-call-in-async",
        "time.sleep(0.01)  @@\nreturn msg",
        true,
    ),
    (
        "get_running_loop_without_loop",
        "no-runtime-context",
        "loop = asyncio.get_running_loop()  @@\nreturn loop.time()",
        false,
    ),
];

/// How functions get into a table: `(name, whether it is a list)`.
const TABLE_STORAGES: &[(&str, bool)] = &[
    ("dict_literal", false),
    ("subscript_store", false),
    ("list_append", true),
    ("registering_decorator", false),
    ("dict_of_lists", false),
];

/// How the dispatcher calls through the table.
const TABLE_ACCESSES: &[&str] = &["subscript_call", "loop_over_values", "get_then_call"];

/// The module holding the table and its handlers: its text, with `{BODY}` for the handler's
/// body (indented).
fn table_module(storage: &str, body: &str) -> String {
    let handler =
        |deco: &str, name: &str, body: &str| format!("{deco}def {name}(msg):\n{}\n", ind(body, 4));
    let (a, b) = match storage {
        "registering_decorator" | "dict_of_lists" => (
            handler("@register(\"a\")\n", "on_a", body),
            handler("@register(\"b\")\n", "on_b", "return msg"),
        ),
        _ => (handler("", "on_a", body), handler("", "on_b", "return msg")),
    };
    let table = match storage {
        "dict_literal" => format!("{a}\n\n{b}\n\nHANDLERS = {{\"a\": on_a, \"b\": on_b}}\n"),
        "subscript_store" => {
            format!(
                "HANDLERS = {{}}\n\n\n{a}\n\n{b}\n\nHANDLERS[\"a\"] = on_a\nHANDLERS[\"b\"] = on_b\n"
            )
        }
        "list_append" => {
            format!(
                "HANDLERS = []\n\n\n{a}\n\n{b}\n\nHANDLERS.append(on_a)\nHANDLERS.append(on_b)\n"
            )
        }
        "dict_of_lists" => format!(
            "HANDLERS = {{}}\n\n\ndef register(kind):\n    def deco(fn):\n        HANDLERS.setdefault(kind, []).append(fn)\n        return fn\n    return deco\n\n\n{a}\n\n{b}"
        ),
        _ => format!(
            "HANDLERS = {{}}\n\n\ndef register(kind):\n    def deco(fn):\n        HANDLERS[kind] = fn\n        return fn\n    return deco\n\n\n{a}\n\n{b}"
        ),
    };
    format!("async def fetch(msg):\n    await asyncio.sleep(0)\n    return msg\n\n\n{table}")
}

/// Tables of functions: handlers stored in a module-level dict or list (a literal, stores by
/// key, appends, a registering decorator) and called through it (by key, in a loop over the
/// values, through `.get`), in the module that fills the table or in another one that imports
/// it. A call through the table may call each handler: a handler's bug shows where the
/// dispatcher runs. Each twin runs the dispatcher where the handler's code is right.
fn table_programs(out: &mut Vec<Program>) {
    for &(payload, rule, body, async_bug) in TABLE_PAYLOADS {
        for &(storage, is_list) in TABLE_STORAGES {
            for &access in TABLE_ACCESSES {
                let of_lists = storage == "dict_of_lists";
                if (is_list || of_lists) && access == "get_then_call" {
                    continue;
                }
                for module in ["same_module", "other_module"] {
                    for twin in [false, true] {
                        let dispatch_async = async_bug != twin;
                        let call = match (access, is_list) {
                            // The handlers registered for one kind.
                            ("subscript_call", _) if of_lists => {
                                "for handler in HANDLERS[kind]:\n    handler(msg)".to_string()
                            }
                            (_, _) if of_lists => {
                                "for handler in HANDLERS.get(kind, []):\n    handler(msg)"
                                    .to_string()
                            }
                            ("subscript_call", false) => "return HANDLERS[kind](msg)".to_string(),
                            ("subscript_call", true) => "return HANDLERS[0](msg)".to_string(),
                            ("loop_over_values", false) => {
                                "for handler in HANDLERS.values():\n    handler(msg)".to_string()
                            }
                            ("loop_over_values", true) => {
                                "for handler in HANDLERS:\n    handler(msg)".to_string()
                            }
                            _ => "handler = HANDLERS.get(kind)\nif handler is None:\n    return None\nreturn handler(msg)".to_string(),
                        };
                        let dispatch = format!(
                            "{}def dispatch(kind, msg):\n{}\n",
                            if dispatch_async { "async " } else { "" },
                            ind(&call, 4)
                        );
                        let main = if dispatch_async {
                            "async def amain():\n    await dispatch(\"a\", 1)\n\n\ndef main():\n    asyncio.run(amain())\n"
                        } else {
                            "def main():\n    dispatch(\"a\", 1)\n"
                        };
                        let tail = "\n\nif __name__ == \"__main__\":\n    main()\n";
                        let head = "\"\"\"Generated program.\"\"\"\nimport asyncio\nimport time\n";
                        let table = table_module(storage, body);
                        let files = if module == "same_module" {
                            vec![
                                ("app/__init__.py".to_string(), String::new()),
                                (
                                    "app/main.py".to_string(),
                                    format!("{head}\n\n{table}\n\n{dispatch}\n\n{main}{tail}"),
                                ),
                            ]
                        } else {
                            vec![
                                ("app/__init__.py".to_string(), String::new()),
                                ("app/handlers.py".to_string(), format!("{head}\n\n{table}")),
                                (
                                    "app/main.py".to_string(),
                                    format!(
                                        "{head}\nfrom app.handlers import HANDLERS\n\n\n{dispatch}\n\n{main}{tail}"
                                    ),
                                ),
                            ]
                        };
                        let files = if twin {
                            files
                                .into_iter()
                                .map(|(p, t)| (p, t.replace("  @@", "")))
                                .collect()
                        } else {
                            files
                        };
                        let dims = vec![
                            ("class", rule.to_string()),
                            ("table_payload", payload.to_string()),
                            ("table_storage", storage.to_string()),
                            ("table_access", access.to_string()),
                            ("table_module", module.to_string()),
                            ("twin", if twin { "correct" } else { "bug" }.to_string()),
                        ];
                        out.push(Program::new("python", dims, (!twin).then_some(rule), files));
                    }
                }
            }
        }
    }
}

/// A project decorator whose wrapper runs the coroutine function it wraps: on the caller's
/// thread with `asyncio.run` (`in_place`), or on a thread of its own with its own loop.
fn wrapper_items(factory: bool, in_place: bool) -> String {
    let run = if in_place {
        "return asyncio.run(fn(*args))  @@".to_string()
    } else {
        "def runner():\n    asyncio.run(fn(*args))\n\nthreading.Thread(target=runner, daemon=True).start()".to_string()
    };
    let wrapper = format!(
        "def deco(fn):\n    @functools.wraps(fn)\n    def inner(*args):\n{}\n\n    return inner\n",
        ind(&run, 8)
    );
    if factory {
        format!(
            "def every(seconds):\n{}\n    return deco\n",
            ind(&wrapper, 4)
        )
    } else {
        wrapper.replace("def deco(fn):", "def run_sync(fn):")
    }
}

/// Decorators applied by `@` or by a call (`every(30)(job)()`, `run_sync(job)()`), plain or
/// made by a factory, defined in the calling module or imported: a call of the decorated
/// function (or of the call's result) runs the wrapper, whose `asyncio.run` fails under a
/// running loop. Twins: the wrapper hands the coroutine to a thread with its own loop, or the
/// caller runs with no loop.
fn returned_call_programs(out: &mut Vec<Program>) {
    for factory in [true, false] {
        for application in ["at_def", "inline_call"] {
            for module in ["same_module", "other_module"] {
                for (in_place, from_async) in
                    [(true, true), (false, true), (true, false), (false, false)]
                {
                    let bug = in_place && from_async;
                    let deco = if factory { "every(30)" } else { "run_sync" };
                    let job = "async def job():\n    await asyncio.sleep(0)\n    return 1\n";
                    let (job, call) = if application == "at_def" {
                        (format!("@{deco}\n{job}"), "job()".to_string())
                    } else {
                        (job.to_string(), format!("{deco}(job)()"))
                    };
                    let caller = if from_async {
                        format!(
                            "async def amain():\n    {call}\n\n\ndef main():\n    asyncio.run(amain())\n"
                        )
                    } else {
                        format!("def main():\n    {call}\n")
                    };
                    let head = "\"\"\"Generated program.\"\"\"\nimport asyncio\nimport functools\nimport threading\n";
                    let items = wrapper_items(factory, in_place);
                    let items = if bug {
                        items
                    } else {
                        items.replace("  @@", "")
                    };
                    let name = if factory { "every" } else { "run_sync" };
                    let tail = "\n\nif __name__ == \"__main__\":\n    main()\n";
                    let mut files = vec![("app/__init__.py".to_string(), String::new())];
                    if module == "same_module" {
                        files.push((
                            "app/main.py".to_string(),
                            format!("{head}\n\n{items}\n\n{job}\n\n{caller}{tail}"),
                        ));
                    } else {
                        files.push(("app/deco.py".to_string(), format!("{head}\n\n{items}")));
                        files.push((
                            "app/main.py".to_string(),
                            format!(
                                "{head}\nfrom app.deco import {name}\n\n\n{job}\n\n{caller}{tail}"
                            ),
                        ));
                    }
                    let dims = vec![
                        ("class", "nested-block-on".to_string()),
                        (
                            "decorator",
                            if factory { "factory" } else { "plain" }.to_string(),
                        ),
                        ("application", application.to_string()),
                        ("decorator_module", module.to_string()),
                        (
                            "wrapper",
                            format!(
                                "{}_{}",
                                if in_place {
                                    "runs_in_place"
                                } else {
                                    "runs_on_thread"
                                },
                                if from_async {
                                    "from_async"
                                } else {
                                    "from_sync"
                                }
                            ),
                        ),
                        ("twin", if bug { "bug" } else { "correct" }.to_string()),
                    ];
                    out.push(Program::new(
                        "python",
                        dims,
                        bug.then_some("nested-block-on"),
                        files,
                    ));
                }
            }
        }
    }
}

/// Special methods of project classes that syntax or a builtin calls implicitly (an element
/// read, `len`, `in`, iteration by `for`, a comprehension, `list`/`sorted`, `yield from` over
/// a parameter, a call of the instance, `with`), each running a loop of its own with
/// `asyncio.run`: reached from a coroutine it nests; the twin reaches it from sync code.
fn special_method_programs(out: &mut Vec<Program>) {
    let run = "asyncio.run(fetch())";
    let protocols: &[(&str, &str, &str, &str)] = &[
        // (name, method and its parameters, what it returns, the use of `obj`)
        (
            "getitem",
            "__getitem__(self, key)",
            "RUN",
            "return obj['k']",
        ),
        ("len", "__len__(self)", "len(RUN)", "return len(obj)"),
        (
            "contains",
            "__contains__(self, key)",
            "key in RUN",
            "return 'k' in obj",
        ),
        (
            "for_loop",
            "__iter__(self)",
            "iter(RUN)",
            "for x in obj:\n    print(x)",
        ),
        (
            "comprehension",
            "__iter__(self)",
            "iter(RUN)",
            "return [x for x in obj]",
        ),
        (
            "set_comprehension",
            "__iter__(self)",
            "iter(RUN)",
            "return {x for x in obj}",
        ),
        (
            "list_builtin",
            "__iter__(self)",
            "iter(RUN)",
            "return list(obj)",
        ),
        (
            "sorted_builtin",
            "__iter__(self)",
            "iter(RUN)",
            "return sorted(obj)",
        ),
        (
            "yield_from_param",
            "__iter__(self)",
            "iter(RUN)",
            "return list(chain(obj))",
        ),
        ("call", "__call__(self)", "RUN", "return obj()"),
        ("with", "__enter__(self)", "RUN", "with obj:\n    pass"),
    ];
    for &(name, method, ret, use_) in protocols {
        for built in ["local", "in_place"] {
            for from_async in [true, false] {
                let class = format!(
                    "class Thing:\n    def {method}:\n        return {}  @@\n{}",
                    ret.replace("RUN", run),
                    if name == "with" {
                        "\n    def __exit__(self, *exc):\n        return False\n"
                    } else {
                        ""
                    }
                );
                let use_ = if built == "local" {
                    format!("obj = Thing()\n{use_}")
                } else {
                    use_.replace("obj", "Thing()")
                };
                let class = if from_async {
                    class
                } else {
                    class.replace("  @@", "")
                };
                let kw = if from_async { "async def" } else { "def" };
                let driver = if from_async {
                    "asyncio.run(use())"
                } else {
                    "use()"
                };
                let text = format!(
                    "\"\"\"Generated program.\"\"\"\nimport asyncio\n\n\nasync def fetch():\n    await asyncio.sleep(0)\n    return [1]\n\n\n{class}\n\ndef chain(items):\n    yield from items\n\n\n{kw} use():\n{}\n\n\nif __name__ == \"__main__\":\n    {driver}\n",
                    ind(&use_, 4)
                );
                let dims = vec![
                    ("class", "nested-block-on".to_string()),
                    ("special_call", name.to_string()),
                    ("instance", built.to_string()),
                    (
                        "twin",
                        if from_async { "bug" } else { "correct" }.to_string(),
                    ),
                ];
                out.push(Program::new(
                    "python",
                    dims,
                    from_async.then_some("nested-block-on"),
                    vec![
                        ("app/__init__.py".to_string(), String::new()),
                        ("app/main.py".to_string(), text),
                    ],
                ));
            }
        }
    }
}

/// Flask request hooks, on the app or on a blueprint: a sync hook runs where a sync view
/// does, with no event loop, so `asyncio.create_task` there fails; the twin runs the
/// coroutine to the end with `asyncio.run`.
fn request_hook_programs(out: &mut Vec<Program>) {
    let hooks: &[(&str, &str, &str)] = &[
        ("before_request", "app", "()"),
        ("after_request", "app", "(response)"),
        ("teardown_request", "app", "(exc)"),
        ("teardown_appcontext", "app", "(exc)"),
        ("errorhandler(404)", "app", "(error)"),
        ("before_app_request", "bp", "()"),
        ("teardown_app_request", "bp", "(exc)"),
        ("app_errorhandler(500)", "bp", "(error)"),
        ("before_request", "bp", "()"),
    ];
    for &(hook, owner, params) in hooks {
        for bug in [true, false] {
            let call = if bug {
                "loop = asyncio.get_running_loop()  @@\n    return loop.time()"
            } else {
                "asyncio.run(audit())"
            };
            let text = format!(
                "\"\"\"Generated program.\"\"\"\nimport asyncio\n\nfrom flask import Blueprint, Flask\n\napp = Flask(__name__)\nbp = Blueprint(\"bp\", __name__)\n\n\nasync def audit():\n    await asyncio.sleep(0)\n\n\n@{owner}.{hook}\ndef hook{params}:\n    {call}\n\n\napp.register_blueprint(bp)\n"
            );
            let dims = vec![
                ("class", "no-runtime-context".to_string()),
                (
                    "request_hook",
                    hook.split('(').next().unwrap_or(hook).to_string(),
                ),
                ("hook_owner", owner.to_string()),
                ("twin", if bug { "bug" } else { "correct" }.to_string()),
            ];
            out.push(Program::new(
                "python",
                dims,
                bug.then_some("no-runtime-context"),
                vec![
                    ("app/__init__.py".to_string(), String::new()),
                    ("app/main.py".to_string(), text),
                ],
            ));
        }
    }
}

/// Every generated Python program.
pub fn generate() -> Vec<Program> {
    let mut out = Vec::new();
    monorepo_programs(&mut out);
    executor_programs(&mut out);
    shared_programs(&mut out);
    fixture_programs(&mut out);
    closed_loop_programs(&mut out);
    scoped_runtime_programs(&mut out);
    callback_programs(&mut out);
    lent_client_programs(&mut out);
    refill_programs(&mut out);
    handed_back_programs(&mut out);
    key_cache_programs(&mut out);
    default_arg_programs(&mut out);
    module_getattr_programs(&mut out);
    table_programs(&mut out);
    returned_call_programs(&mut out);
    special_method_programs(&mut out);
    request_hook_programs(&mut out);
    out
}

/// Two pytest-asyncio tests taking `param`, with these bodies: on one loop per test, or on the
/// session's loop for the `session_loop_scope` twin.
fn two_async_tests(twin: &str, param: &str, first: &str, second: &str) -> String {
    let mark = if twin == "session_loop_scope" {
        "@pytest.mark.asyncio(loop_scope=\"session\")"
    } else {
        "@pytest.mark.asyncio"
    };
    format!(
        "\n\n{mark}\nasync def test_first({param}):\n{first}\n\n\n{mark}\nasync def test_second({param}):\n{second}\n"
    )
}
