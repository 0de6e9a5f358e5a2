//! Definitions: functions, methods and classes, their decorators, and the entry points and
//! storage (caches, fixtures, class attributes) they imply.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, StmtClassDef, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};

use super::conftest::HookScope;
use super::decorators::{self, Decorator, Shape};
use super::imports::{attr_chain, dotted, join_path};
use super::ir::{AttrDef, ClassIr, Def, FixtureDef, MarkKind};
use super::lower::{Lowerer, NameRes, Scope, ScopeKind};
use super::prescan;
use crate::model::{
    Entry, Event, EventKind, FnId, FnKind, Global, HandleFate, Place, Span, StorageKind, VarId,
};

impl<'a> Lowerer<'a> {
    // ----------------------------------------------------------------- definitions

    fn decorator_infos(&mut self, decos: &[ruff_python_ast::Decorator]) -> Vec<Decorator> {
        let mut out = Vec::with_capacity(decos.len());
        for d in decos {
            let (target, call) = match &d.expression {
                Expr::Call(c) => (&*c.func, Some(c)),
                other => (other, None),
            };
            let mut info = Decorator::default();
            if let Some((base, attrs)) = attr_chain(target) {
                info.last = attrs.last().copied().unwrap_or(base).to_string();
                match self.resolve_name(base) {
                    NameRes::Path(p) => {
                        info.path = Some(join_path(&p, &attrs));
                        let receiver_is_module = !attrs.is_empty()
                            && (self.imports.get(base).is_some() && !self.is_object_import(base));
                        info.receiver_is_object = !attrs.is_empty() && !receiver_is_module;
                        if attrs.len() == 1 {
                            info.receiver_type = self.type_of_name(base);
                        }
                    }
                    _ => {
                        info.receiver_is_object = !attrs.is_empty();
                        info.receiver_type = self.type_of_name(base);
                    }
                }
            }
            if let Some(c) = call {
                for kw in &c.arguments.keywords {
                    if let (Some(arg), Expr::StringLiteral(s)) = (&kw.arg, &kw.value) {
                        info.kwargs
                            .push((arg.id.to_string(), s.value.to_str().to_string()));
                    }
                }
                // Arguments of decorator calls are evaluated here.
                for a in c.arguments.args.iter() {
                    self.expr(a, super::exprs::Dest::Keep);
                }
            }
            out.push(info);
        }
        out
    }

    /// Whether an imported name is an object (`from app import app`) rather than a module.
    fn is_object_import(&self, name: &str) -> bool {
        match self.imports.get(name) {
            Some(path) => {
                !self.cx.modules.contains(path) && path.contains('.') && {
                    // `from flask import Blueprint` style names are objects; `import a.b` binds `a`.
                    let last = path.rsplit('.').next().unwrap_or("");
                    last == name || path.ends_with(&format!(".{name}"))
                }
            }
            None => false,
        }
    }

    pub(super) fn function_def(&mut self, f: &StmtFunctionDef) {
        let name = f.name.id.as_str();
        let decos = self.decorator_infos(&f.decorator_list);
        // A library API that runs the callable it is handed elsewhere, used as a bare
        // decorator (`@atexit.register`), is a call of it with the function once defined.
        let in_class = self.scope().kind == ScopeKind::ClassBody;
        let handed_to: Vec<&Expr> = f
            .decorator_list
            .iter()
            .zip(&decos)
            .filter(|(d, info)| {
                !in_class
                    && !matches!(d.expression, Expr::Call(_))
                    && info.path.as_deref().is_some_and(|p| {
                        !self.is_project_path(p)
                            && self
                                .cx
                                .apis(p)
                                .iter()
                                .any(|a| a.concept == crate::kb::Concept::Thread)
                    })
            })
            .map(|(d, _)| &d.expression)
            .collect();
        let classified: Vec<Decorator> = if handed_to.is_empty() {
            decos.clone()
        } else {
            f.decorator_list
                .iter()
                .zip(&decos)
                .filter(|(d, _)| !handed_to.iter().any(|h| std::ptr::eq(*h, &d.expression)))
                .map(|(_, info)| info.clone())
                .collect()
        };
        let mut shape = decorators::classify(&classified, f.is_async);
        let project_decos: Vec<(Box<str>, bool)> = f
            .decorator_list
            .iter()
            .zip(&decos)
            .filter_map(|(d, info)| {
                let path = info.path.as_deref().filter(|p| self.is_project_path(p))?;
                Some((path.into(), matches!(d.expression, Expr::Call(_))))
            })
            .collect();
        // Decorators of the project are summarised by the linker, which falls back to unknown
        // callers when it cannot follow one.
        if shape.unknown
            && !project_decos.is_empty()
            && decos.iter().all(|d| {
                d.path.as_deref().is_some_and(|p| self.is_project_path(p))
                    || !decorators::classify(std::slice::from_ref(d), f.is_async).unknown
            })
        {
            shape.unknown = false;
        }
        let parent_scope_kind = self.scope().kind;
        let class = self.class_context();
        let display = match &class {
            Some((path, _)) => dotted(path.rsplit('.').next().unwrap_or(path), name),
            None => name.to_string(),
        };
        let defaults = self.default_values(f, &display);
        let parent = self.scope().fn_id;
        let nested = parent_scope_kind == ScopeKind::Function;
        let id = self.new_fn(
            display,
            f.name.range,
            FnKind::Named,
            f.is_async,
            if nested { Some(parent) } else { None },
        );
        // Register the name.
        match parent_scope_kind {
            ScopeKind::Module if self.scopes.len() == 1 => {
                self.ir.defs.insert(Name::new(name), Def::Fn(id));
                if name == "__getattr__" {
                    self.note_module_getattr(f, id);
                }
            }
            // A property's setter and deleter share the getter's name: the name stays the
            // getter's.
            ScopeKind::ClassBody
                if decos
                    .iter()
                    .any(|d| matches!(d.last.as_str(), "setter" | "deleter")) => {}
            ScopeKind::ClassBody => {
                if let Some(ci) = self.scope().class_idx {
                    self.ir.classes[ci as usize]
                        .methods
                        .insert(Name::new(name), id);
                }
            }
            _ => {
                self.scope_mut().defs.insert(Name::new(name), id);
            }
        }
        self.ir.functions[id as usize].defaults = defaults;
        let entry = self.entry_for(name, f.is_async, &shape, class.as_ref());
        let public = !name.starts_with('_') || (name.starts_with("__") && name.ends_with("__"));
        {
            let func = &mut self.ir.functions[id as usize].func;
            func.is_test = self.test_module || entry_is_test(&entry);
            func.callers_unknown = entry.is_none() && !nested && (public || shape.unknown);
            if nested && shape.unknown {
                func.callers_unknown = true;
            }
            func.entry = entry;
        }
        let returns = f.returns.as_deref().and_then(|r| self.annotation_type(r));
        let irf = &mut self.ir.functions[id as usize];
        irf.public_only = !nested && public && !shape.unknown && irf.func.callers_unknown;
        irf.returns = returns
            .filter(|t| super::types::is_project_type(t))
            .map(String::into_boxed_str);
        irf.decorators = project_decos.into();
        irf.property = class.is_some() && decos.iter().any(decorators::is_property);
        // Scope for the body.
        let mut scope = Scope::new(ScopeKind::Function, id, f.is_async);
        scope.fixture = shape.fixture.is_some();
        let matters = |n: &str| {
            let module_level = match &self.module_res {
                // Every module-level or imported name is in the table.
                Some(table) => table.contains_key(n),
                None => self.module_names.contains_key(n) || self.imports.contains(n),
            };
            module_level || self.cx.builtins.contains(n) || self.module_vars.contains_key(n)
        };
        prescan::function_locals(&mut scope, f, &matters);
        if let Some((cpath, _)) = &class {
            let self_name = f
                .parameters
                .posonlyargs
                .iter()
                .chain(f.parameters.args.iter())
                .next()
                .map(|p| p.parameter.name.id.to_string());
            let is_static = decos.iter().any(|d| d.last == "staticmethod");
            if let (Some(s), false) = (self_name, is_static) {
                scope.class = Some((cpath.clone(), s));
                scope.class_level = decos.iter().any(|d| d.last == "classmethod");
                if !scope.class_level {
                    // A cached property keeps its value in the instance's attribute of its
                    // name; a cached method's results are kept per instance too.
                    if decos
                        .iter()
                        .any(|d| d.path.as_deref() == Some("functools.cached_property"))
                    {
                        scope.instance_cached = Some(name.to_string());
                    } else if shape.cached {
                        scope.instance_cached = Some(format!("{name}()"));
                    }
                }
            }
        }
        for p in f.parameters.iter_non_variadic_params() {
            if let Some(ann) = &p.parameter.annotation
                && let Some(t) = self.annotation_type(ann)
            {
                scope.types.insert(p.parameter.name.id.clone(), t);
            }
        }
        scope.param_info = super::guards::params(&f.parameters);
        scope.rebound = super::guards::rebound(&f.body, &scope.param_info);
        // Keyword-only parameters follow the positional ones (no positional argument reaches
        // them unless a `*args` sits between, which then keeps them out).
        let kwonly = if f.parameters.vararg.is_none() {
            &f.parameters.kwonlyargs[..]
        } else {
            &[]
        };
        scope.params = f
            .parameters
            .posonlyargs
            .iter()
            .chain(f.parameters.args.iter())
            .chain(kwonly.iter())
            .map(|p| p.parameter.name.id.clone())
            .collect();
        // Keyword arguments bind by name, except to positional-only parameters.
        let n_posonly = f.parameters.posonlyargs.len();
        self.ir.functions[id as usize].param_names = scope
            .params
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if i < n_posonly {
                    Name::default()
                } else {
                    n.clone()
                }
            })
            .collect();
        let fixture_user =
            self.test_module && (name.starts_with("test") || shape.fixture.is_some());
        if fixture_user {
            for p in f.parameters.iter_non_variadic_params() {
                let n = p.parameter.name.id.as_str();
                if n != "self" && n != "cls" && n != "request" {
                    scope.fixture_params.insert(Name::new(n));
                }
            }
        }
        // Cached factories and wide fixtures: their result is a global.
        let per_instance = scope.instance_cached.is_some();
        if (shape.cached && !per_instance) || shape.fixture == Some(true) {
            let storage = if shape.cached {
                StorageKind::Cached
            } else {
                StorageKind::Fixture
            };
            let g = self.new_global_for(name, f.name.range, storage, id);
            scope.result_global = Some(g);
            if shape.fixture == Some(true) {
                self.ir.fixtures.push(FixtureDef {
                    name: name.to_string(),
                    global: g,
                    bound: true,
                });
            }
        }
        self.scopes.push(scope);
        self.body(&f.body);
        self.end_scope();
        let irf = &mut self.ir.functions[id as usize];
        irf.func.diverges = prescan::diverges(&f.body);
        irf.func.events.shrink_to_fit();
        irf.pending.shrink_to_fit();
        let scope = self.scopes.pop().expect("pushed above");
        if let Some(g) = scope.result_global
            && self.ir.globals[g as usize].api.is_empty()
        {
            // Nothing runtime-bound was made: no use of it is reported.
            for fx in self.ir.fixtures.iter_mut().filter(|fx| fx.global == g) {
                fx.bound = false;
            }
        }
        self.apply_decorators(&f.decorator_list);
        for deco in handed_to {
            let call = ruff_python_ast::ExprCall {
                node_index: ruff_python_ast::AtomicNodeIndex::NONE,
                range_start: deco.range().start(),
                func: Box::new(deco.clone()),
                arguments: ruff_python_ast::Arguments {
                    range: f.name.range,
                    node_index: ruff_python_ast::AtomicNodeIndex::NONE,
                    args: vec![Expr::Name(ruff_python_ast::ExprName {
                        node_index: ruff_python_ast::AtomicNodeIndex::NONE,
                        range: f.name.range,
                        id: f.name.id.clone(),
                        ctx: ruff_python_ast::ExprContext::Load,
                    })]
                    .into_boxed_slice(),
                    keywords: Default::default(),
                },
            };
            self.call(&call, super::exprs::Dest::Discard);
        }
    }

    /// Evaluates, where the `def` runs, the default values of the parameters of `f` that are
    /// calls: one value made then, which every call that leaves the parameter out shares.
    /// Only for a `def` that runs once (a module's function, a method of a module's class):
    /// the values go to static cells named after the function (`worker(ev=)`), with the
    /// positions of their parameters (the positions keyword arguments bind to).
    fn default_values(
        &mut self,
        f: &StmtFunctionDef,
        display: &str,
    ) -> thin_vec::ThinVec<(u32, crate::model::Cell)> {
        let mut out = thin_vec::ThinVec::new();
        let once = match self.scope().kind {
            ScopeKind::Module => self.scopes.len() == 1,
            ScopeKind::ClassBody => self.scopes.len() == 2,
            ScopeKind::Function | ScopeKind::Synthetic => false,
        };
        let p = &f.parameters;
        let kwonly = if p.vararg.is_none() {
            &p.kwonlyargs[..]
        } else {
            &[]
        };
        let params = p
            .posonlyargs
            .iter()
            .chain(p.args.iter())
            .chain(kwonly.iter());
        for (k, param) in params.enumerate() {
            let Some(value @ Expr::Call(_)) = param.default.as_deref() else {
                continue;
            };
            let made = self.expr(value, super::exprs::Dest::Keep).place;
            let Some(made) = made.filter(|_| once) else {
                continue;
            };
            let module = self.mf.name.clone();
            let name = format!("{display}({}=)", param.parameter.name.id);
            let cell = self.static_cell(&module, &name);
            self.flow_assign(value.range(), Some(cell), Some(made));
            if let Place::Cell(c) = cell {
                out.push((k as u32, self.ir.cells[c.0 as usize].clone()));
            }
        }
        out
    }

    fn new_global_for(
        &mut self,
        name: &str,
        range: TextRange,
        storage: StorageKind,
        init: u32,
    ) -> u32 {
        let id = self.ir.globals.len() as u32;
        let span = self.span(range);
        self.ir.globals.push(Global {
            name: name.to_string(),
            span,
            storage,
            api: String::new(),
            init: Some(FnId(init)),
        });
        id
    }

    /// Counts a read of a tracked variable; `consumes` when the read may wait for or keep the
    /// value (awaited, passed on, returned, stored), not when it only inspects it.
    pub fn read_var(&mut self, v: VarId, consumes: bool) {
        if let Some(var) = self.ir.vars.get_mut(v.0 as usize) {
            var.reads += 1;
            var.consumed |= consumes;
        }
    }

    /// Emits the scope end of the current body for the variables it owns. A task handle bound
    /// to a name that is never mentioned again is thrown away as surely as a bare call.
    pub(super) fn end_scope(&mut self) {
        let fid = self.scope().fn_id as usize;
        for ev in &mut self.ir.functions[fid].func.events {
            if let EventKind::Run {
                handle: HandleFate::Bound(v),
                ..
            } = &mut ev.kind
                && self.ir.vars.get(v.0 as usize).is_some_and(|x| x.reads == 0)
            {
                ev.kind =
                    match std::mem::replace(&mut ev.kind, EventKind::ScopeEnd { vars: Vec::new() })
                    {
                        EventKind::Run {
                            body,
                            how,
                            runtime,
                            api,
                            ..
                        } => EventKind::Run {
                            body,
                            how,
                            runtime,
                            handle: HandleFate::Discarded,
                            api,
                        },
                        other => other,
                    };
            }
        }
        let owned = std::mem::take(&mut self.scope_mut().owned);
        if !owned.is_empty() {
            let fid = self.scope().fn_id as usize;
            let end = self.ir.functions[fid].func.span;
            let span = Span::new(0, end.end, end.end);
            let depth = 0;
            self.ir.functions[fid].func.events.push(Event {
                span,
                loop_depth: depth,
                kind: EventKind::ScopeEnd { vars: owned },
                when: crate::model::CondId::TRUE,
            });
        }
    }

    /// The enclosing class of a method being defined: (class path, class index).
    fn class_context(&self) -> Option<(String, u32)> {
        let s = self.scope();
        if s.kind == ScopeKind::ClassBody {
            let ci = s.class_idx?;
            return Some((self.ir.classes[ci as usize].path.clone(), ci));
        }
        None
    }

    fn entry_for(
        &self,
        name: &str,
        is_async: bool,
        shape: &Shape,
        class: Option<&(String, u32)>,
    ) -> Option<Entry> {
        if shape.entry.is_some() {
            return shape.entry.clone();
        }
        if let Some(wide) = shape.fixture {
            let mut shape = shape.clone();
            if shape.loop_scope.is_none() {
                shape.loop_scope = self.cx.pytest.fixture_loop_scope.clone();
            }
            let executor = match shape.fixture_plugin {
                Some(executor) => executor,
                None => self
                    .cx
                    .pytest
                    .default_executor
                    .unwrap_or(crate::model::Executor::Unknown),
            };
            return Some(fixture_entry(is_async, wide, &shape, executor));
        }
        if let Some((_, ci)) = class {
            let bases = &self.ir.classes[*ci as usize].bases;
            let unit = bases.iter().any(|b| b.as_ref() == "unittest.TestCase");
            let iso = bases
                .iter()
                .any(|b| b.as_ref() == "unittest.IsolatedAsyncioTestCase");
            if name.starts_with("test") && (unit || iso) {
                return Some(if is_async {
                    Entry::Runtime {
                        flavor: crate::model::Flavor::CurrentThread,
                        executor: crate::model::Executor::Asyncio,
                        test: true,
                        per_call: false,
                        what: "IsolatedAsyncioTestCase per-test event loop".to_string(),
                    }
                } else {
                    Entry::Repeated {
                        what: "unittest test".to_string(),
                    }
                });
            }
        }
        // Only module-level functions and methods of test classes are collected by pytest;
        // a nested `async def test()` is a helper the test itself runs.
        let top_level = self.scopes.len() == 1 || class.is_some();
        let test_fn = self.test_module
            && top_level
            && name.starts_with("test")
            && class
                .is_none_or(|(p, _)| p.rsplit('.').next().is_some_and(|c| c.starts_with("Test")));
        if test_fn {
            let mut shape = shape.clone();
            let mut module_scope = self.module_loop_scope.clone();
            // Which plugin runs an async test: its own mark, the module's `pytestmark`, a
            // conftest hook that adds the asyncio mark, or the project's mode setting.
            let mut executor = shape
                .test_executor
                .or(self.module_executor)
                .or(self.cx.pytest.default_executor);
            // The module's own `event_loop` fixture gives its async tests their loop.
            if self.own_event_loop && is_async {
                return None;
            }
            match self.cx.hook_scopes.get(&self.mf.source) {
                // A conftest hook changes the markers of async tests in a way that cannot be
                // followed (or an `event_loop` fixture gives their loop): the test runs on
                // some loop, but which one is not known.
                Some(HookScope::Unknown) if is_async => return None,
                Some(HookScope::Known { scope, first }) => {
                    let scope = scope
                        .clone()
                        .or_else(|| self.cx.pytest.test_loop_scope.clone());
                    // The hook's marker is the test's own: it wins over the module's
                    // `pytestmark`, and over the decorator when put first.
                    if *first || shape.loop_scope.is_none() {
                        shape.loop_scope = scope.clone();
                    }
                    module_scope = scope;
                    executor = Some(crate::model::Executor::Asyncio);
                }
                _ => {}
            }
            return Some(decorators::test_entry(
                is_async,
                &shape,
                module_scope.as_deref(),
                executor.unwrap_or(crate::model::Executor::Unknown),
            ));
        }
        None
    }

    pub(super) fn class_def(&mut self, c: &StmtClassDef) {
        let name = c.name.id.as_str();
        let _ = self.decorator_infos(&c.decorator_list);
        let path = match self.class_context() {
            Some((outer, _)) => dotted(&outer, name),
            None => self.module_path(name),
        };
        let mut bases = Vec::new();
        if let Some(args) = &c.arguments {
            for b in args.args.iter() {
                if let Some(p) = self.qualify(b) {
                    bases.push(p.into_boxed_str());
                }
            }
        }
        let ci = self.ir.classes.len() as u32;
        self.ir.classes.push(ClassIr {
            path: path.clone(),
            methods: HashMap::default(),
            bases,
            attrs: HashMap::default(),
            attr_types: HashMap::default(),
            assigned: Box::default(),
            lazy: false,
        });
        let top = self.at_module_level() && self.scopes.len() == 1;
        if top {
            self.ir.defs.insert(Name::new(name), Def::Class(ci));
        }
        let attrs = prescan::class_attrs(self, c);
        self.ir.classes[ci as usize].assigned = attrs.iter().cloned().collect();
        self.class_attrs.insert(path.clone(), attrs);
        let fid = self.scope().fn_id;
        let mut scope = Scope::new(ScopeKind::ClassBody, fid, false);
        scope.class_idx = Some(ci);
        scope.loop_depth = self.scope().loop_depth;
        self.scopes.push(scope);
        self.body(&c.body);
        self.dataclass_init(c, ci, &path);
        self.scopes.pop();
        self.class_creation_calls(c);
    }

    /// Records a class attribute holding a runtime-bound resource, returns its global.
    pub fn class_attr_global(&mut self, attr: &str, range: TextRange, api: &str) -> Option<u32> {
        let ci = self.scope().class_idx?;
        let cpath = self.ir.classes[ci as usize].path.clone();
        let short = cpath.rsplit('.').next().unwrap_or(&cpath).to_string();
        let g = self.new_global(dotted(&short, attr), range, StorageKind::ClassAttr, api);
        self.ir.classes[ci as usize]
            .attrs
            .insert(Name::new(attr), AttrDef::ClassGlobal(g));
        Some(g)
    }

    /// Records an instance attribute set in a method of `class`.
    pub fn record_attr(&mut self, class: &str, attr: &str, def: AttrDef) {
        if let Some(c) = self.ir.classes.iter_mut().rev().find(|c| c.path == class) {
            c.attrs.entry(Name::new(attr)).or_insert(def);
        }
    }

    /// Marks a function named by `path` (or a local function) as used as a value.
    pub fn mark(&mut self, path: String, kind: MarkKind) {
        self.ir.marks.push((path.into_boxed_str(), kind));
    }
}

fn fixture_entry(
    is_async: bool,
    wide: bool,
    shape: &Shape,
    executor: crate::model::Executor,
) -> Entry {
    let loop_scope = shape.loop_scope.as_deref();
    match (is_async, wide) {
        (false, false) => Entry::Repeated {
            what: "pytest fixture".to_string(),
        },
        (false, true) => Entry::Main,
        (true, _) => {
            // pytest-asyncio runs an async fixture on the loop of its own scope unless told
            // otherwise (`loop_scope=`, `asyncio_default_fixture_loop_scope`).
            let scope = loop_scope
                .or(shape.fixture_scope.as_deref())
                .unwrap_or(if wide { "session" } else { "function" });
            if scope == "function" {
                Entry::Runtime {
                    flavor: crate::model::Flavor::CurrentThread,
                    executor,
                    test: true,
                    per_call: false,
                    what: "pytest-asyncio per-test event loop".to_string(),
                }
            } else {
                Entry::ServerAsync {
                    what: format!("pytest-asyncio {scope}-scoped event loop"),
                    requests: false,
                    test_loop: crate::model::LoopScope::parse(scope),
                }
            }
        }
    }
}

fn entry_is_test(entry: &Option<Entry>) -> bool {
    match entry {
        Some(Entry::Runtime { test, .. }) => *test,
        Some(Entry::Repeated { what }) => {
            what.starts_with("pytest") || what.starts_with("unittest")
        }
        Some(Entry::ServerAsync { what, .. }) => what.starts_with("pytest"),
        _ => false,
    }
}

impl Lowerer<'_> {
    /// Applying a decorator is a call where the definition runs (at import for a module's or
    /// a class body's functions, under the enclosing body's loop for a nested one): a decorator
    /// of this file called with the function, or a factory called with its arguments and the
    /// stage it returns called with the function. Only decorators that hand back no wrapper of
    /// their own are followed (a registering decorator returns what it is given); a wrapper's
    /// decorator stays summarised by the linker.
    fn apply_decorators(&mut self, decorators: &[ruff_python_ast::Decorator]) {
        for d in decorators.iter().rev() {
            let (name, call) = match &d.expression {
                Expr::Name(n) => (n.id.as_str(), None),
                Expr::Call(c) => match &*c.func {
                    Expr::Name(n) => (n.id.as_str(), Some(c)),
                    _ => continue,
                },
                _ => continue,
            };
            let Some(deco) = self.file_fn(name) else {
                // A decorator of another module (`from schedule import every`): the linker
                // follows what its factory returns.
                if let NameRes::Path(p) = self.resolve_name(name)
                    && self.is_project_path(&p)
                {
                    let p = p.to_string();
                    if let Some(c) = call {
                        self.call(c, super::exprs::Dest::Discard);
                    }
                    let path = self.intern(&p);
                    self.emit_pending(
                        d.expression.range(),
                        super::ir::Pending::Returned {
                            path,
                            depth: u8::from(call.is_some()),
                            decorates: true,
                        },
                    );
                }
                continue;
            };
            let stage = match call {
                None => deco,
                Some(c) => {
                    let Some(stage) = self.ir.functions[deco as usize].returns_fn else {
                        continue;
                    };
                    self.call(c, super::exprs::Dest::Discard);
                    stage
                }
            };
            if self.ir.functions[stage as usize].returns_fn.is_some() {
                continue;
            }
            self.emit(
                d.expression.range(),
                crate::model::EventKind::Call {
                    callees: smallvec::smallvec![FnId(stage)],
                    result: None,
                },
            );
        }
    }

    /// The function of this file a name denotes here: a nested def of an enclosing body, or a
    /// def of the module.
    fn file_fn(&self, name: &str) -> Option<u32> {
        match self.resolve_name(name) {
            NameRes::LocalFn(f) => Some(f),
            NameRes::Path(p) if *p == *self.module_path(name) => match self.ir.defs.get(name) {
                Some(Def::Fn(id)) => Some(*id),
                _ => None,
            },
            _ => None,
        }
    }
}
