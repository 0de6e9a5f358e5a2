//! pytest hooks in a project's `conftest.py` files that change the event-loop scope of the
//! collected tests.
//!
//! pytest-asyncio reads the loop scope of a test from its closest `asyncio` marker. A
//! `pytest_collection_modifyitems` hook can add that marker to every collected test
//! (`item.add_marker(pytest.mark.asyncio(loop_scope="session"))`), which overrides the module's
//! `pytestmark` and, with `append=False`, the test's own decorator. This module reads such hooks
//! and tells, for each test module, which scope they impose. A hook that adds markers the scan
//! cannot follow (a marker from elsewhere, added only to some tests) makes the scope unknown, and
//! so does a conftest that defines the `event_loop` fixture anew (older pytest-asyncio versions
//! run the tests below it on the loop that fixture gives).

use std::path::{Path, PathBuf};

use ruff_python_ast::{Expr, Stmt};
use rustc_hash::FxHashMap as HashMap;

use super::project::Project;
use crate::source::SourceDb;

/// What the conftest hooks above a test module do to the loop scope of its async tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookScope {
    /// Every async test gets an `asyncio` marker with this loop scope (`None`: the marker names
    /// none, so the configured default applies).
    Known {
        /// The marker's `loop_scope`.
        scope: Option<String>,
        /// Whether the marker is put before the test's own markers (`append=False`), so it
        /// wins over the test's decorator too.
        first: bool,
    },
    /// A hook adds markers that may change the loop scope in a way the scan cannot follow, or
    /// the conftest defines the `event_loop` fixture anew, whose loop the tests run on.
    Unknown,
}

/// The hook scope of each test module of `proj` (by source index) that some conftest hook
/// reaches; modules no hook reaches are absent.
pub fn hook_scopes(db: &SourceDb, proj: &Project) -> HashMap<usize, HookScope> {
    let mut hooks: Vec<(PathBuf, HookScope)> = Vec::new();
    for mf in proj.files.iter().filter(|f| f.stem == "conftest") {
        let path = &db.file(mf.source).path;
        let Some(dir) = path.parent() else { continue };
        let Ok(text) = db.read(mf.source) else {
            continue;
        };
        let Ok(parsed) = ruff_python_parser::parse_module(&text) else {
            continue;
        };
        if overrides_event_loop(parsed.suite()) {
            // The loop the tests below run on is the fixture's, whatever their markers say.
            hooks.push((dir.to_path_buf(), HookScope::Unknown));
        } else if let Some(scope) = module_hook(parsed.suite()) {
            hooks.push((dir.to_path_buf(), scope));
        }
    }
    let mut out = HashMap::default();
    if hooks.is_empty() {
        return out;
    }
    for mf in &proj.files {
        let path = &db.file(mf.source).path;
        if let Some(scope) = combine(path, &hooks) {
            out.insert(mf.source, scope);
        }
    }
    out
}

/// The scope the hooks of conftest directories above `path` impose together.
fn combine(path: &Path, hooks: &[(PathBuf, HookScope)]) -> Option<HookScope> {
    let mut found: Option<HookScope> = None;
    for (_, scope) in hooks.iter().filter(|(dir, _)| path.starts_with(dir)) {
        found = Some(match found {
            None => scope.clone(),
            Some(prev) if prev == *scope => prev,
            Some(_) => HookScope::Unknown,
        });
    }
    found
}

/// Whether a module defines pytest-asyncio's `event_loop` fixture anew (older versions run
/// every async test and fixture of its scope on the loop it gives).
pub fn overrides_event_loop(suite: &[Stmt]) -> bool {
    suite
        .iter()
        .any(|s| matches!(s, Stmt::FunctionDef(f) if f.name.id.as_str() == "event_loop"))
}

/// The scope imposed by the `pytest_collection_modifyitems` hook of a conftest module, if it
/// adds any marker that may be an `asyncio` one.
fn module_hook(suite: &[Stmt]) -> Option<HookScope> {
    const HOOK: &str = "pytest_collection_modifyitems";
    // A hook imported from elsewhere is not followed.
    let imported = suite.iter().any(|s| match s {
        Stmt::ImportFrom(i) => i
            .names
            .iter()
            .any(|a| a.asname.as_ref().unwrap_or(&a.name).as_str() == HOOK),
        Stmt::Assign(a) => a
            .targets
            .iter()
            .any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == HOOK)),
        _ => false,
    });
    let hook = suite.iter().find_map(|s| match s {
        Stmt::FunctionDef(f) if f.name.id.as_str() == HOOK => Some(f),
        _ => None,
    });
    let Some(hook) = hook else {
        return imported.then_some(HookScope::Unknown);
    };
    let mut scan = Scan {
        module: suite,
        ..Scan::default()
    };
    scan.block(&hook.body, false);
    // Items handed to a function the scan does not follow may get any marker there.
    if scan.opaque {
        return Some(HookScope::Unknown);
    }
    scan.result
}

/// The walk of one hook body.
#[derive(Default)]
struct Scan<'a> {
    /// Local names bound once in the hook, and their value (`None` once bound twice).
    locals: HashMap<&'a str, Option<&'a Expr>>,
    /// What the asyncio markers seen so far impose.
    result: Option<HookScope>,
    /// Names that hold the collected items or one of them (`items`, loop targets).
    item_names: Vec<&'a str>,
    /// Whether items are handed to a function the scan does not follow.
    opaque: bool,
    /// The conftest module, whose functions the hook may hand the items to.
    module: &'a [Stmt],
    /// Helpers entered so far (a bound on recursion).
    helpers: u32,
}

impl<'a> Scan<'a> {
    fn block(&mut self, body: &'a [Stmt], restricted: bool) {
        for s in body {
            self.stmt(s, restricted);
        }
    }

    fn stmt(&mut self, s: &'a Stmt, restricted: bool) {
        match s {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    if let Expr::Name(n) = t {
                        let name = n.id.as_str();
                        let value = (!self.locals.contains_key(name)).then_some(&*a.value);
                        self.locals.insert(name, value);
                    }
                }
                self.expr(&a.value, restricted);
            }
            Stmt::Expr(e) => self.expr(&e.value, restricted),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.expr(v, restricted);
                }
            }
            Stmt::If(i) => {
                let restricted = restricted || !is_async_check(&i.test);
                self.block(&i.body, restricted);
                for c in &i.elif_else_clauses {
                    self.block(&c.body, true);
                }
            }
            Stmt::For(f) => {
                if let Expr::Name(n) = &*f.target {
                    self.item_names.push(n.id.as_str());
                }
                let restricted = restricted || !self.all_items(&f.iter);
                self.block(&f.body, restricted);
                self.block(&f.orelse, true);
            }
            Stmt::While(w) => {
                self.block(&w.body, true);
                self.block(&w.orelse, true);
            }
            Stmt::With(w) => self.block(&w.body, restricted),
            Stmt::Try(t) => {
                self.block(&t.body, restricted);
                self.block(&t.orelse, true);
                self.block(&t.finalbody, restricted);
            }
            _ => {}
        }
    }

    /// Looks for `x.add_marker(marker, ...)` calls in an expression statement.
    fn expr(&mut self, e: &'a Expr, restricted: bool) {
        let Expr::Call(call) = e else { return };
        let passes_items = call.arguments.args.iter().any(|a| self.is_items(a))
            || call
                .arguments
                .keywords
                .iter()
                .any(|k| self.is_items(&k.value));
        if passes_items
            && let Expr::Name(n) = &*call.func
            && self.helper(n.id.as_str(), call, restricted)
        {
            return;
        }
        let Expr::Attribute(attr) = &*call.func else {
            let known = matches!(&*call.func, Expr::Name(n) if matches!(
                n.id.as_str(),
                "len" | "list" | "sorted" | "print" | "isinstance" | "getattr" | "hasattr"
                    | "is_async_test" | "iscoroutinefunction"
            ));
            self.opaque |= passes_items && !known;
            return;
        };
        if attr.attr.id.as_str() != "add_marker" {
            // A method of the items themselves (`items.sort`, `item.get_closest_marker`) is
            // pytest's; a helper handed the items may mark them.
            self.opaque |= passes_items && !self.is_items(&attr.value);
            return;
        }
        if attr.attr.id.as_str() != "add_marker" {
            return;
        }
        let Some(marker) = call.arguments.args.first() else {
            return;
        };
        let first = call.arguments.keywords.iter().any(|k| {
            k.arg.as_ref().is_some_and(|a| a.id.as_str() == "append")
                && matches!(&k.value, Expr::BooleanLiteral(b) if !b.value)
        });
        let scope = match self.marker(marker) {
            Marker::Other => return,
            Marker::Asyncio(scope) if !restricted => HookScope::Known { scope, first },
            Marker::Asyncio(_) | Marker::Unknown => HookScope::Unknown,
        };
        self.result = Some(match self.result.take() {
            None => scope,
            Some(prev) if prev == scope => prev,
            Some(_) => HookScope::Unknown,
        });
    }

    /// Follows a call that hands the items to a function of the conftest module itself:
    /// its parameters that receive them are items too. Returns whether it was followed.
    fn helper(
        &mut self,
        name: &str,
        call: &'a ruff_python_ast::ExprCall,
        restricted: bool,
    ) -> bool {
        let module = self.module;
        let Some(def) = module.iter().find_map(|s| match s {
            Stmt::FunctionDef(f) if f.name.id.as_str() == name => Some(f),
            _ => None,
        }) else {
            return false;
        };
        if self.helpers >= 8 {
            return false;
        }
        self.helpers += 1;
        let params: Vec<&str> = def
            .parameters
            .posonlyargs
            .iter()
            .chain(&def.parameters.args)
            .map(|p| p.parameter.name.as_str())
            .collect();
        for (i, a) in call.arguments.args.iter().enumerate() {
            if self.is_items(a)
                && let Some(p) = params.get(i)
            {
                self.item_names.push(p);
            }
        }
        for k in &call.arguments.keywords {
            if self.is_items(&k.value)
                && let Some(arg) = &k.arg
            {
                self.item_names.push(arg.as_str());
            }
        }
        self.block(&def.body, restricted);
        true
    }

    /// Whether an expression is the collected items or one of them.
    fn is_items(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if n.id.as_str() == "items" || self.item_names.contains(&n.id.as_str()))
    }

    /// What a marker expression is.
    fn marker(&self, e: &'a Expr) -> Marker {
        let e = match e {
            Expr::Name(n) => match self.locals.get(n.id.as_str()) {
                Some(Some(v)) => *v,
                _ => return Marker::Unknown,
            },
            other => other,
        };
        match e {
            Expr::StringLiteral(s) if s.value.to_str() == "asyncio" => Marker::Asyncio(None),
            Expr::StringLiteral(_) => Marker::Other,
            Expr::Attribute(_) => match mark_name(e) {
                Some("asyncio") => Marker::Asyncio(None),
                Some(_) => Marker::Other,
                None => Marker::Unknown,
            },
            Expr::Call(c) => match mark_name(&c.func) {
                Some("asyncio") => {
                    let kw = c.arguments.keywords.iter().find(|k| {
                        k.arg
                            .as_ref()
                            .is_some_and(|a| matches!(a.id.as_str(), "loop_scope" | "scope"))
                    });
                    match kw.map(|k| &k.value) {
                        None => Marker::Asyncio(None),
                        Some(Expr::StringLiteral(s)) => {
                            Marker::Asyncio(Some(s.value.to_str().to_string()))
                        }
                        Some(_) => Marker::Unknown,
                    }
                }
                Some(_) => Marker::Other,
                None => Marker::Unknown,
            },
            _ => Marker::Unknown,
        }
    }

    /// Whether a loop over `iter` visits every collected async test: the hook's `items`, or a
    /// generator over it filtered only by async-test checks.
    fn all_items(&self, iter: &'a Expr) -> bool {
        let iter = match iter {
            e if self.is_items(e) => return true,
            Expr::Name(n) => match self.locals.get(n.id.as_str()) {
                Some(Some(v)) => *v,
                _ => return false,
            },
            other => other,
        };
        let generators = match iter {
            Expr::Generator(g) => &g.generators,
            Expr::ListComp(l) => &l.generators,
            _ => return false,
        };
        generators.len() == 1
            && self.is_items(&generators[0].iter)
            && generators[0].ifs.iter().all(is_async_check)
    }
}

/// What a marker added by a hook is.
enum Marker {
    /// `pytest.mark.asyncio`, with the loop scope it names.
    Asyncio(Option<String>),
    /// Another pytest marker (`skip`, `xfail`, `timeout`...).
    Other,
    /// Not known.
    Unknown,
}

/// The marker name of `pytest.mark.<name>` (or `mark.<name>`).
fn mark_name(e: &Expr) -> Option<&str> {
    let Expr::Attribute(a) = e else { return None };
    match &*a.value {
        Expr::Attribute(m) if m.attr.id.as_str() == "mark" => {
            matches!(&*m.value, Expr::Name(p) if p.id.as_str() == "pytest")
                .then_some(a.attr.id.as_str())
        }
        Expr::Name(m) if m.id.as_str() == "mark" => Some(a.attr.id.as_str()),
        _ => None,
    }
}

/// Whether a condition only tells async tests from others (`is_async_test(item)`,
/// `inspect.iscoroutinefunction(item.function)`): every async test passes it.
fn is_async_check(e: &Expr) -> bool {
    let Expr::Call(c) = e else { return false };
    let name = match &*c.func {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.id.as_str(),
        _ => return false,
    };
    matches!(name, "is_async_test" | "iscoroutinefunction")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_of(src: &str) -> Option<HookScope> {
        let parsed = ruff_python_parser::parse_module(src).expect("parses");
        module_hook(parsed.suite())
    }

    #[test]
    fn session_marker_for_every_async_test() {
        let src = "import pytest\nfrom pytest_asyncio import is_async_test\n\ndef pytest_collection_modifyitems(items):\n    tests = (i for i in items if is_async_test(i))\n    m = pytest.mark.asyncio(loop_scope=\"session\")\n    for t in tests:\n        t.add_marker(m, append=False)\n    for item in items:\n        if 'x' in item.keywords:\n            item.add_marker(pytest.mark.skip(reason='no'))\n";
        assert_eq!(
            scope_of(src),
            Some(HookScope::Known {
                scope: Some("session".into()),
                first: true
            })
        );
    }

    #[test]
    fn conditional_or_opaque_markers_are_unknown() {
        let cond = "import pytest\ndef pytest_collection_modifyitems(items):\n    for item in items:\n        if 'db' in item.keywords:\n            item.add_marker(pytest.mark.asyncio(loop_scope='module'))\n";
        assert_eq!(scope_of(cond), Some(HookScope::Unknown));
        let opaque = "import pytest\ndef pytest_collection_modifyitems(items):\n    for item in items:\n        item.add_marker(make_marker())\n";
        assert_eq!(scope_of(opaque), Some(HookScope::Unknown));
        let plain = "import pytest\ndef pytest_collection_modifyitems(items):\n    for item in items:\n        item.add_marker('asyncio')\n";
        assert_eq!(
            scope_of(plain),
            Some(HookScope::Known {
                scope: None,
                first: false
            })
        );
    }

    #[test]
    fn delegated_or_imported_hooks_are_unknown() {
        let delegated = "from helpers import mark_all\ndef pytest_collection_modifyitems(config, items):\n    mark_all(items)\n";
        assert_eq!(scope_of(delegated), Some(HookScope::Unknown));
        let local = "import pytest\ndef _mark(tests):\n    for t in tests:\n        t.add_marker(pytest.mark.asyncio(loop_scope='session'))\ndef pytest_collection_modifyitems(items):\n    return _mark(items)\n";
        assert_eq!(
            scope_of(local),
            Some(HookScope::Known {
                scope: Some("session".into()),
                first: false
            })
        );
        let per_item = "def pytest_collection_modifyitems(items):\n    for item in items:\n        apply_loop_mark(item)\n";
        assert_eq!(scope_of(per_item), Some(HookScope::Unknown));
        let imported = "from tests.hooks import pytest_collection_modifyitems\n";
        assert_eq!(scope_of(imported), Some(HookScope::Unknown));
        let own_methods = "import pytest\ndef pytest_collection_modifyitems(items):\n    items.sort(key=lambda i: i.name)\n    for item in items:\n        if item.get_closest_marker('slow'):\n            item.add_marker(pytest.mark.skip)\n";
        assert_eq!(scope_of(own_methods), None);
    }

    #[test]
    fn other_markers_change_nothing() {
        let src = "import pytest\ndef pytest_collection_modifyitems(items):\n    for item in items:\n        if item.name.endswith('slow'):\n            item.add_marker(pytest.mark.slow)\n";
        assert_eq!(scope_of(src), None);
    }
}
