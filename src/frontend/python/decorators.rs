//! Framework shapes recognised from decorators: route handlers, test marks, fixtures, caches,
//! task queues. This is the frontend's handling of syntax-level constructs, so the decorator
//! names live here rather than in the knowledge base.

use crate::model::{Entry, Flavor};

/// One decorator, as the lowerer sees it.
#[derive(Debug, Clone, Default)]
pub struct Decorator {
    /// Qualified dotted path of the decorator expression (without the call), if it has one.
    pub path: Option<String>,
    /// Qualified type of the receiver object (`flask.Flask` for `@app.route` when
    /// `app = Flask(..)`), if known.
    pub receiver_type: Option<String>,
    /// Whether the receiver is a plain object (a variable), not a module.
    pub receiver_is_object: bool,
    /// Last segment of the decorator path (`route`, `fixture`, `cache`).
    pub last: String,
    /// Keyword arguments with string values, when called (`scope="session"`).
    pub kwargs: Vec<(String, String)>,
}

/// The shape of a decorated function.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// Entry point, if the decorators make one.
    pub entry: Option<Entry>,
    /// Result cached across calls (`functools.cache`, `st.cache_resource`).
    pub cached: bool,
    /// A pytest fixture; `Some(true)` when its scope is wider than one test.
    pub fixture: Option<bool>,
    /// The executor of the plugin whose fixture decorator it is (`pytest_asyncio.fixture`);
    /// `None` for plain `pytest.fixture`, which the project's mode setting decides.
    pub fixture_plugin: Option<crate::model::Executor>,
    /// Loop scope of the fixture or test, when given (`loop_scope="session"`).
    pub loop_scope: Option<String>,
    /// The scope of a fixture (`scope="module"`; `"function"` when not given), which is its
    /// loop scope when neither the fixture nor the project's settings name one.
    pub fixture_scope: Option<String>,
    /// The executor an async test mark names (`pytest.mark.asyncio`, `anyio`, `trio`).
    pub test_executor: Option<crate::model::Executor>,
    /// A decorator the frontend does not know: the function may be called from anywhere.
    pub unknown: bool,
}

const ROUTE_METHODS: &[&str] = &[
    "route",
    "get",
    "post",
    "put",
    "delete",
    "patch",
    "head",
    "options",
    "api_route",
    "websocket",
    "websocket_route",
];

/// Request hooks of Flask and Quart apps and blueprints: the framework calls them around each
/// request (or on an error), where it calls the views.
const REQUEST_HOOKS: &[&str] = &[
    "before_request",
    "after_request",
    "teardown_request",
    "teardown_appcontext",
    "errorhandler",
    "before_app_request",
    "after_app_request",
    "teardown_app_request",
    "app_errorhandler",
];

const NEUTRAL: &[&str] = &[
    "staticmethod",
    "classmethod",
    "property",
    "abstractmethod",
    "override",
    "overload",
    "wraps",
    "contextmanager",
    "asynccontextmanager",
    "setter",
    "getter",
    "deleter",
    "cached_property",
    "total_ordering",
    "final",
    "dataclass",
    "no_type_check",
    "deprecated",
    "parametrize",
    "skip",
    "skipif",
    "xfail",
    "usefixtures",
    "filterwarnings",
    "timeout",
];

/// Whether a decorator makes a property (`@property`, `@functools.cached_property`), by what
/// it names rather than how it is spelt.
pub fn is_property(d: &Decorator) -> bool {
    let name = match d.path.as_deref() {
        Some(p) => p.rsplit('.').next().unwrap_or(p),
        None => d.last.as_str(),
    };
    matches!(name, "property" | "cached_property")
}

/// Classifies a function by its decorators.
pub fn classify(decorators: &[Decorator], is_async: bool) -> Shape {
    let mut shape = Shape::default();
    for d in decorators {
        let path = d.path.as_deref().unwrap_or("");
        let last = d.last.as_str();
        if is_cache(path) {
            shape.cached = true;
        } else if matches!(path, "pytest.fixture" | "pytest_asyncio.fixture") {
            let scope = kwarg(d, "scope").unwrap_or("function");
            shape.fixture = Some(scope != "function");
            shape.fixture_scope = Some(scope.to_string());
            if path == "pytest_asyncio.fixture" {
                shape.fixture_plugin = Some(crate::model::Executor::Asyncio);
            }
            shape.loop_scope = kwarg(d, "loop_scope").map(str::to_string);
        } else if let Some(mark) = path.strip_prefix("pytest.mark.") {
            if let Some(executor) = mark_executor(mark) {
                shape.test_executor = Some(executor);
                if let Some(s) = kwarg(d, "loop_scope").or_else(|| kwarg(d, "scope")) {
                    shape.loop_scope = Some(s.to_string());
                }
            }
        } else if d.receiver_is_object && ROUTE_METHODS.contains(&last) {
            shape.entry = Some(route_entry(d, is_async));
        } else if d.receiver_is_object && REQUEST_HOOKS.contains(&last) {
            // Runs where the views run: a sync hook on the worker serving the request.
            shape.entry = Some(match route_entry(d, is_async) {
                Entry::Repeated { .. } => Entry::Repeated {
                    what: format!("`@{last}` request hook"),
                },
                async_entry => async_entry,
            });
        } else if d.receiver_is_object
            && matches!(last, "on_event" | "middleware" | "exception_handler")
        {
            if is_async {
                shape.entry = Some(Entry::ServerAsync {
                    what: format!("`@{}` hook on the server loop", last),
                    requests: last != "on_event",
                    test_loop: None,
                });
            }
        } else if (d.receiver_is_object && last == "task") || path.ends_with("shared_task") {
            if !is_async {
                shape.entry = Some(Entry::Repeated {
                    what: "Celery task".to_string(),
                });
            }
        } else if !NEUTRAL.contains(&last) {
            shape.unknown = true;
        }
    }
    shape
}

fn route_entry(d: &Decorator, is_async: bool) -> Entry {
    let flask = d
        .receiver_type
        .as_deref()
        .is_some_and(|t| t.starts_with("flask."));
    match (is_async, flask) {
        (false, _) => Entry::Repeated {
            what: if flask || d.last == "route" {
                "Flask route handler".to_string()
            } else {
                "sync route handler (run per request in a worker thread)".to_string()
            },
        },
        (true, true) => Entry::Runtime {
            flavor: Flavor::CurrentThread,
            executor: crate::model::Executor::Asyncio,
            test: true,
            per_call: true,
            what: "Flask async view (a new event loop per request)".to_string(),
        },
        (true, false) => Entry::ServerAsync {
            what: "async route handler on the server loop".to_string(),
            requests: true,
            test_loop: None,
        },
    }
}

fn is_cache(path: &str) -> bool {
    matches!(
        path,
        "functools.cache"
            | "functools.lru_cache"
            | "streamlit.cache_resource"
            | "streamlit.cache_data"
            | "streamlit.cache"
            | "streamlit.experimental_singleton"
            | "streamlit.experimental_memo"
            | "async_lru.alru_cache"
            | "cachetools.cached"
    )
}

fn kwarg<'a>(d: &'a Decorator, name: &str) -> Option<&'a str> {
    d.kwargs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether a file is a pytest test module or conftest.
pub fn is_test_module(stem: &str) -> bool {
    stem.starts_with("test_") || stem.ends_with("_test") || stem == "conftest"
}

/// The executor a pytest plugin's mark names: `asyncio` (pytest-asyncio), `anyio`, `trio`
/// (pytest-trio).
pub fn mark_executor(mark: &str) -> Option<crate::model::Executor> {
    match mark {
        "asyncio" => Some(crate::model::Executor::Asyncio),
        "anyio" => Some(crate::model::Executor::Anyio),
        "trio" => Some(crate::model::Executor::Trio),
        _ => None,
    }
}

/// The entry of a test function (`test_*` in a test module), given its shape. `executor` is
/// the executor of the plugin that runs the async test (unknown when no mark or setting names
/// one: a project's own conftest hooks may run it under anything).
pub fn test_entry(
    is_async: bool,
    shape: &Shape,
    module_loop_scope: Option<&str>,
    executor: crate::model::Executor,
) -> Entry {
    if !is_async {
        return Entry::Repeated {
            what: "pytest test".to_string(),
        };
    }
    let scope = shape.loop_scope.as_deref().or(module_loop_scope);
    match scope {
        Some(s) if s != "function" => Entry::ServerAsync {
            what: format!("pytest-asyncio {s}-scoped event loop"),
            requests: false,
            test_loop: crate::model::LoopScope::parse(s),
        },
        _ => Entry::Runtime {
            flavor: Flavor::CurrentThread,
            executor,
            test: true,
            per_call: false,
            what: match executor {
                crate::model::Executor::Asyncio => "pytest-asyncio per-test event loop",
                crate::model::Executor::Trio => "pytest-trio per-test run loop",
                crate::model::Executor::Anyio => "anyio per-test event loop",
                _ => "per-test event loop",
            }
            .to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deco(path: &str, object: bool) -> Decorator {
        Decorator {
            path: Some(path.to_string()),
            receiver_type: None,
            receiver_is_object: object,
            last: path.rsplit('.').next().unwrap_or(path).to_string(),
            kwargs: Vec::new(),
        }
    }

    #[test]
    fn routes_by_sync_and_async() {
        let s = classify(&[deco("app.route", true)], false);
        assert!(matches!(s.entry, Some(Entry::Repeated { .. })));
        let s = classify(&[deco("router.get", true)], true);
        assert!(matches!(s.entry, Some(Entry::ServerAsync { .. })));
    }

    #[test]
    fn fixtures_and_caches() {
        let mut d = deco("pytest.fixture", false);
        d.kwargs.push(("scope".into(), "session".into()));
        assert_eq!(classify(&[d], false).fixture, Some(true));
        assert!(classify(&[deco("streamlit.cache_resource", false)], false).cached);
        assert!(classify(&[deco("click.command", false)], false).unknown);
    }
}
