//! The AST walk of one file: scopes, statements, functions and classes. Expressions are in
//! [`super::exprs`], calls in [`super::calls`].

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, Stmt, StmtClassDef, StmtFunctionDef, StmtIf};
use ruff_text_size::{Ranged, TextRange};

use super::decorators::{self, Decorator, Shape};
use super::imports::{ModuleSet, attr_chain, dotted, in_project, join_path};
use super::ir::{
    AttrDef, ClassIr, Def, FileIr, FixtureDef, IrFn, MarkKind, Pending, PendingAt, RefKind,
};
use super::prescan;
use super::project::ModuleFile;
use crate::kb::{Api, Kb};
use crate::model::{
    Entry, Event, EventKind, FnId, FnKind, Function, Global, HandleFate, Language, Span,
    StorageKind, Var, VarId, VarKind,
};

/// Maximum nesting of statements and expressions that is lowered; deeper code is skipped.
pub const MAX_DEPTH: u32 = 150;

/// What a scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// Module-level code (or the `__main__` block).
    Module,
    /// A function body.
    Function,
    /// A class body: names bound here are class attributes.
    ClassBody,
    /// A synthetic body (the argument of `asyncio.run`, a thread target): it sees the
    /// enclosing scope's names.
    Synthetic,
}

/// A name scope and the function events go to.
#[derive(Debug)]
pub struct Scope {
    /// Kind.
    pub kind: ScopeKind,
    /// Local function index events go to.
    pub fn_id: u32,
    /// Whether code here runs as a coroutine.
    pub is_async: bool,
    /// Names bound in the function (locals).
    pub locals: HashSet<Name>,
    /// Names declared `global`.
    pub globals_decl: HashSet<Name>,
    /// Names declared `nonlocal`.
    pub nonlocals: HashSet<Name>,
    /// Function-level imports.
    pub imports: Option<Box<super::imports::Imports>>,
    /// Nested function definitions by name.
    pub defs: HashMap<Name, u32>,
    /// Tracked variables by name (latest binding).
    pub vars: HashMap<Name, VarId>,
    /// Known types of local names (dotted paths).
    pub types: HashMap<Name, String>,
    /// Local names that alias a global (a cached factory's or fixture's value).
    pub global_alias: HashMap<Name, u32>,
    /// Enclosing class path for methods, and the name of `self`/`cls`.
    pub class: Option<(String, String)>,
    /// For class bodies: the class index.
    pub class_idx: Option<u32>,
    /// Parameters that name pytest fixtures.
    pub fixture_params: HashSet<Name>,
    /// Global that this function's result is (cached factory, wide fixture).
    pub result_global: Option<u32>,
    /// Current loop depth.
    pub loop_depth: u16,
    /// Tracked variables owned by this body, for its scope end.
    pub owned: Vec<VarId>,
}

impl Scope {
    /// An empty scope.
    pub fn new(kind: ScopeKind, fn_id: u32, is_async: bool) -> Scope {
        Scope {
            kind,
            fn_id,
            is_async,
            locals: HashSet::default(),
            globals_decl: HashSet::default(),
            nonlocals: HashSet::default(),
            imports: None,
            defs: HashMap::default(),
            vars: HashMap::default(),
            types: HashMap::default(),
            global_alias: HashMap::default(),
            class: None,
            class_idx: None,
            fixture_params: HashSet::default(),
            result_global: None,
            loop_depth: 0,
            owned: Vec::new(),
        }
    }
}

/// What a module-level name is, from the prescan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A function or class defined in the module.
    Def,
    /// A name bound to something that may hold a runtime-bound resource or object.
    Object,
    /// Any other binding (constants, plain data).
    Other,
}

/// How a name resolves in the current scope.
#[derive(Debug, Clone)]
pub enum NameRes {
    /// A tracked variable.
    Var(VarId),
    /// A local alias of a global.
    GlobalAlias(u32),
    /// A pytest fixture parameter.
    Fixture,
    /// A nested function of an enclosing body.
    LocalFn(u32),
    /// A plain local variable.
    Local,
    /// A dotted path (imported name, module-level def, builtin).
    Path(String),
    /// A module-level name that holds nothing of interest.
    Plain,
    /// A name bound nowhere in the module: a builtin (`open`, `input`).
    Builtin,
}

/// Context shared by the files of one project.
pub struct Ctx<'a> {
    /// The knowledge base.
    pub kb: &'a Kb,
    /// Module names of the project.
    pub modules: &'a ModuleSet,
    /// First segments of the project's module names (a quick filter for [`Self::modules`]).
    pub module_roots: HashSet<String>,
    /// Keyword argument names that some knowledge-base entry marks as removed (`loop`).
    pub deprecated_keywords: HashSet<String>,
    /// First segments of the knowledge base's Python paths (`asyncio`, `httpx`): a path with
    /// another root has no entry, so the lookup is skipped.
    pub roots: HashSet<String>,
    /// Method names the knowledge base matches on any receiver.
    pub methods: HashSet<String>,
    /// Builtin names the knowledge base has entries for (`open`, `input`).
    pub builtins: HashSet<String>,
    /// The project's pytest-asyncio settings.
    pub pytest: super::project::PytestConfig,
    /// The Python knowledge base, indexed.
    pub index: &'a ApiIndex<'a>,
}

impl<'a> Ctx<'a> {
    /// Whether the knowledge base may have an entry for `path`.
    pub fn may_be_api(&self, path: &str) -> bool {
        let root = path.split('.').next().unwrap_or(path);
        self.roots.contains(root)
    }

    /// The knowledge-base entries for `path` (exact entries from the index, prefix entries
    /// from the knowledge base itself).
    pub fn apis(&self, path: &str) -> Vec<&'a Api> {
        if !self.may_be_api(path) {
            return Vec::new();
        }
        if self.index.has_prefix_entries {
            return self.kb.lookup(Language::Python, path);
        }
        self.index.exact.get(path).cloned().unwrap_or_default()
    }

    /// The entries matched by a method name on any receiver.
    pub fn method_apis(&self, method: &str) -> Vec<&'a Api> {
        self.index.methods.get(method).cloned().unwrap_or_default()
    }
}

/// The Python part of the knowledge base, indexed by `&str` for allocation-free lookups.
#[derive(Debug, Default)]
pub struct ApiIndex<'a> {
    /// Exact entries by path.
    pub exact: HashMap<&'a str, Vec<&'a Api>>,
    /// `any_receiver` entries by method name.
    pub methods: HashMap<&'a str, Vec<&'a Api>>,
    /// Whether some Python entry matches by prefix (then lookups go to the knowledge base).
    pub has_prefix_entries: bool,
}

impl<'a> ApiIndex<'a> {
    /// Indexes the Python entries of `kb`.
    pub fn new(kb: &'a Kb) -> Self {
        let mut index = ApiIndex::default();
        for api in kb.apis().iter().filter(|a| a.language == Language::Python) {
            match api.matching {
                crate::kb::Match::Exact => {
                    index.exact.entry(api.path.as_str()).or_default().push(api)
                }
                crate::kb::Match::Prefix => index.has_prefix_entries = true,
            }
            if api.any_receiver {
                let m = crate::kb::last_segment(Language::Python, &api.path);
                index.methods.entry(m).or_default().push(api);
            }
        }
        index
    }
}

/// The lowering of one file.
pub struct Lowerer<'a> {
    /// Shared context.
    pub cx: &'a Ctx<'a>,
    /// The file being lowered.
    pub mf: &'a ModuleFile,
    /// Output.
    pub ir: FileIr,
    /// Module-level imports.
    pub imports: super::imports::Imports,
    /// Module-level names and what they are.
    pub module_names: HashMap<Name, NameKind>,
    /// Module-level types of names (`app = Flask(..)`).
    pub module_types: HashMap<Name, String>,
    /// Module-level tracked variables (event loops).
    pub module_vars: HashMap<Name, VarId>,
    /// Scope stack.
    pub scopes: Vec<Scope>,
    /// Current nesting depth.
    pub depth: u32,
    /// Whether the module is a test module.
    pub test_module: bool,
    /// Loop scope from a module-level `pytestmark`.
    pub module_loop_scope: Option<String>,
    /// Attributes of the project's classes that may hold resources, by class path.
    pub class_attrs: HashMap<String, HashSet<Name>>,
    /// Set while lowering the operand of `await`, until the next call takes it.
    pub awaited: bool,
    /// Interned pending paths.
    pub path_ids: HashMap<Box<str>, u32>,
    /// Handle variables bound to the running loop inside a coroutine.
    pub current_handles: HashSet<VarId>,
    /// Whether the module is a Streamlit script: its module-level code reruns on every
    /// interaction, so its module-level values live for one run only.
    pub streamlit: bool,
    /// Memo of [`Self::is_project_path`].
    pub project_paths: std::cell::RefCell<HashMap<Box<str>, bool>>,
}

impl<'a> Lowerer<'a> {
    /// A lowerer for `mf`.
    pub fn new(cx: &'a Ctx<'a>, mf: &'a ModuleFile) -> Self {
        Lowerer {
            cx,
            mf,
            ir: FileIr {
                source: mf.source,
                module: mf.name.clone(),
                ..FileIr::default()
            },
            imports: Default::default(),
            module_names: HashMap::default(),
            module_types: HashMap::default(),
            module_vars: HashMap::default(),
            scopes: Vec::new(),
            depth: 0,
            test_module: decorators::is_test_module(&mf.stem),
            module_loop_scope: cx.pytest.test_loop_scope.clone(),
            class_attrs: HashMap::default(),
            awaited: false,
            path_ids: HashMap::default(),
            current_handles: HashSet::default(),
            streamlit: false,
            project_paths: Default::default(),
        }
    }

    /// Lowers a module body.
    pub fn lower_module(mut self, suite: &[Stmt]) -> FileIr {
        prescan::module(&mut self, suite);
        let streamlit = prescan::is_streamlit_script(&self, suite);
        self.streamlit = streamlit;
        let entry = if streamlit {
            Entry::Repeated {
                what: "Streamlit script rerun".to_string(),
            }
        } else {
            Entry::Main
        };
        let name = format!("<module {}>", self.mf.name);
        let id = self.new_fn(name, TextRange::default(), FnKind::Module, false, None);
        self.ir.functions[id as usize].func.entry = Some(entry);
        self.scopes.push(Scope::new(ScopeKind::Module, id, false));
        self.body(suite);
        self.scopes.pop();
        self.ir
    }

    // ----------------------------------------------------------------- emission

    /// A span in this file (file id 0 until linking).
    pub fn span(&self, r: TextRange) -> Span {
        Span::new(0, r.start().to_u32(), r.end().to_u32())
    }

    /// The innermost scope.
    pub fn scope(&self) -> &Scope {
        self.scopes.last().expect("a scope is always open")
    }

    /// The innermost scope, mutably.
    pub fn scope_mut(&mut self) -> &mut Scope {
        self.scopes.last_mut().expect("a scope is always open")
    }

    /// Whether the current code runs as a coroutine.
    pub fn in_async(&self) -> bool {
        self.scopes
            .iter()
            .rev()
            .find(|s| s.kind != ScopeKind::ClassBody)
            .is_some_and(|s| s.is_async)
    }

    /// Whether the current code is module-level code.
    pub fn at_module_level(&self) -> bool {
        matches!(self.scopes.last().map(|s| s.kind), Some(ScopeKind::Module))
    }

    /// Appends an event to the current function.
    pub fn emit(&mut self, range: TextRange, kind: EventKind) {
        let span = self.span(range);
        let scope = self.scope();
        let (fid, depth) = (scope.fn_id, scope.loop_depth);
        self.ir.functions[fid as usize].func.events.push(Event {
            span,
            loop_depth: depth,
            kind,
        });
    }

    /// Records a reference that the linker turns into events at this point of the body.
    pub fn emit_pending(&mut self, range: TextRange, what: Pending) {
        let span = self.span(range);
        let scope = self.scope();
        let (fid, loop_depth) = (scope.fn_id as usize, scope.loop_depth);
        let at = self.ir.functions[fid].func.events.len() as u32;
        self.ir.functions[fid].pending.push(PendingAt {
            at,
            span,
            loop_depth,
            what,
        });
    }

    /// Interns a path or name of a pending reference.
    pub fn intern(&mut self, path: &str) -> u32 {
        if let Some(&i) = self.path_ids.get(path) {
            return i;
        }
        let i = self.ir.paths.len() as u32;
        self.ir.paths.push(path.into());
        self.path_ids.insert(path.into(), i);
        i
    }

    /// Records a pending reference to a dotted path.
    pub fn pending_ref(&mut self, range: TextRange, path: &str, kind: RefKind) {
        let path = self.intern(path);
        self.emit_pending(range, Pending::Ref { path, kind });
    }

    /// Records a pending use of a pytest fixture.
    pub fn pending_fixture(&mut self, range: TextRange, name: &str, kind: RefKind) {
        let name = self.intern(name);
        self.emit_pending(range, Pending::Fixture { name, kind });
    }

    /// Creates a function body and returns its local index.
    pub fn new_fn(
        &mut self,
        name: String,
        range: TextRange,
        kind: FnKind,
        is_async: bool,
        parent: Option<u32>,
    ) -> u32 {
        let id = self.ir.functions.len() as u32;
        let span = self.span(range);
        self.ir.functions.push(IrFn {
            func: Function {
                name,
                language: Language::Python,
                span,
                kind,
                is_async,
                parent: parent.map(FnId),
                entry: None,
                callers_unknown: false,
                is_test: self.test_module,
                diverges: false,
                events: Vec::new(),
            },
            pending: Vec::new(),
            returns_global: None,
            public_only: false,
        });
        id
    }

    /// Creates a tracked variable owned by the current function.
    pub fn new_var(&mut self, name: &str, range: TextRange, kind: VarKind) -> VarId {
        let id = VarId(self.ir.vars.len() as u32);
        let span = self.span(range);
        let owner = FnId(self.scope().fn_id);
        self.ir.vars.push(Var {
            name: name.to_string(),
            owner,
            span,
            kind,
            reads: 0,
            consumed: false,
        });
        id
    }

    /// Creates a global and returns its local index.
    pub fn new_global(
        &mut self,
        name: String,
        range: TextRange,
        storage: StorageKind,
        api: &str,
    ) -> u32 {
        let id = self.ir.globals.len() as u32;
        let span = self.span(range);
        let init = Some(FnId(self.scope().fn_id));
        self.ir.globals.push(Global {
            name,
            span,
            storage,
            api: api.to_string(),
            init,
        });
        id
    }

    /// Dotted path of a module-level name of this module.
    pub fn module_path(&self, name: &str) -> String {
        if self.mf.name.is_empty() {
            name.to_string()
        } else {
            dotted(&self.mf.name, name)
        }
    }

    /// Whether `path` belongs to the project.
    pub fn is_project_path(&self, path: &str) -> bool {
        let root = path.split('.').next().unwrap_or(path);
        if !self.cx.module_roots.contains(root) {
            return false;
        }
        if let Some(&known) = self.project_paths.borrow().get(path) {
            return known;
        }
        let known = in_project(path, self.cx.modules);
        self.project_paths.borrow_mut().insert(path.into(), known);
        known
    }

    // ----------------------------------------------------------------- names

    /// Resolves a name in the current scope.
    pub fn resolve_name(&self, name: &str) -> NameRes {
        let innermost = self.scopes.len().saturating_sub(1);
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            if scope.kind == ScopeKind::ClassBody && i != innermost {
                continue;
            }
            if scope.kind == ScopeKind::Module {
                break;
            }
            if let Some(&v) = scope.vars.get(name) {
                return NameRes::Var(v);
            }
            if let Some(&g) = scope.global_alias.get(name) {
                return NameRes::GlobalAlias(g);
            }
            if scope.fixture_params.contains(name) {
                return NameRes::Fixture;
            }
            if let Some(p) = scope.imports.as_ref().and_then(|i| i.get(name)) {
                return NameRes::Path(p.to_string());
            }
            if let Some(&f) = scope.defs.get(name) {
                return NameRes::LocalFn(f);
            }
            if scope.globals_decl.contains(name) {
                break;
            }
            if scope.locals.contains(name) {
                return NameRes::Local;
            }
        }
        if let Some(&v) = self.module_vars.get(name) {
            return NameRes::Var(v);
        }
        if let Some(p) = self.imports.get(name) {
            return NameRes::Path(p.to_string());
        }
        match self.module_names.get(name) {
            Some(NameKind::Def) | Some(NameKind::Object) => NameRes::Path(self.module_path(name)),
            Some(NameKind::Other) => NameRes::Plain,
            None => NameRes::Builtin,
        }
    }

    /// The known type of a name in the current scope.
    pub fn type_of_name(&self, name: &str) -> Option<String> {
        for scope in self.scopes.iter().rev() {
            if let Some(t) = scope.types.get(name) {
                return Some(t.clone());
            }
            if scope.kind == ScopeKind::Function && scope.locals.contains(name) {
                return None;
            }
        }
        self.module_types.get(name).cloned()
    }

    /// Qualifies a `Name`/`Attribute` chain into a dotted path, if its base is a path.
    pub fn qualify(&self, expr: &Expr) -> Option<String> {
        let (base, attrs) = attr_chain(expr)?;
        match self.resolve_name(base) {
            NameRes::Path(p) => Some(join_path(&p, &attrs)),
            NameRes::Builtin => Some(join_path(&format!("builtins.{base}"), &attrs)),
            _ => None,
        }
    }

    // ----------------------------------------------------------------- statements

    /// Lowers a block of statements.
    pub fn body(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.stmt_inner(s);
        self.depth -= 1;
    }

    fn stmt_inner(&mut self, s: &Stmt) {
        use super::exprs::Dest;
        match s {
            Stmt::FunctionDef(f) => self.function_def(f),
            Stmt::ClassDef(c) => self.class_def(c),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.expr(v, Dest::Return);
                }
            }
            Stmt::Assign(a) => {
                if let [target] = a.targets.as_slice() {
                    self.assign(target, &a.value, None);
                } else {
                    self.expr(&a.value, Dest::Keep);
                    for t in &a.targets {
                        self.unbind_target(t);
                    }
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.assign(&a.target, v, Some(&a.annotation));
                } else if let Expr::Name(n) = &*a.target
                    && let Some(t) = self.qualify(&a.annotation)
                {
                    self.scope_mut().types.insert(n.id.clone(), t);
                }
            }
            Stmt::AugAssign(a) => {
                self.expr(&a.value, Dest::Keep);
                self.expr(&a.target, Dest::Read);
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.expr(t, Dest::Read);
                }
            }
            Stmt::For(f) => {
                self.expr(&f.iter, Dest::Read);
                self.unbind_target(&f.target);
                self.scope_mut().loop_depth += 1;
                self.body(&f.body);
                self.scope_mut().loop_depth -= 1;
                self.body(&f.orelse);
            }
            Stmt::While(w) => {
                self.scope_mut().loop_depth += 1;
                self.expr(&w.test, Dest::Read);
                self.body(&w.body);
                self.scope_mut().loop_depth -= 1;
                self.body(&w.orelse);
            }
            Stmt::If(i) => self.if_stmt(i),
            Stmt::With(w) => self.with_stmt(w),
            Stmt::Match(m) => {
                self.expr(&m.subject, Dest::Read);
                for case in &m.cases {
                    if let Some(g) = &case.guard {
                        self.expr(g, Dest::Read);
                    }
                    self.body(&case.body);
                }
            }
            Stmt::Raise(r) => {
                if let Some(e) = &r.exc {
                    self.expr(e, Dest::Keep);
                }
            }
            Stmt::Try(t) => {
                self.body(&t.body);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    self.body(&h.body);
                }
                self.body(&t.orelse);
                self.body(&t.finalbody);
            }
            Stmt::Assert(a) => {
                self.expr(&a.test, Dest::Read);
            }
            Stmt::Import(i) if !self.at_module_level() => {
                let scope = self.scope_mut();
                scope
                    .imports
                    .get_or_insert_with(Default::default)
                    .add_import(i);
            }
            Stmt::ImportFrom(i) if !self.at_module_level() => {
                let (module, is_package) = (self.mf.name.clone(), self.mf.is_package);
                let scope = self.scope_mut();
                scope
                    .imports
                    .get_or_insert_with(Default::default)
                    .add_from(i, &module, is_package);
            }
            Stmt::Global(g) => {
                let scope = self.scope_mut();
                for n in &g.names {
                    scope.globals_decl.insert(n.id.clone());
                }
            }
            Stmt::Nonlocal(n) => {
                let scope = self.scope_mut();
                for n in &n.names {
                    scope.nonlocals.insert(n.id.clone());
                }
            }
            Stmt::Expr(e) => {
                self.expr(&e.value, Dest::Discard);
            }
            _ => {}
        }
    }

    fn if_stmt(&mut self, i: &StmtIf) {
        if self.at_module_level() && is_main_guard(&i.test) {
            let parent = self.scope().fn_id;
            let name = format!("<module {}>.__main__", self.mf.name);
            let id = self.new_fn(name, i.test.range(), FnKind::Module, false, Some(parent));
            self.ir.functions[id as usize].func.entry = Some(Entry::Main);
            self.scopes.push(Scope::new(ScopeKind::Module, id, false));
            self.body(&i.body);
            self.scopes.pop();
            for clause in &i.elif_else_clauses {
                self.body(&clause.body);
            }
            return;
        }
        self.expr(&i.test, super::exprs::Dest::Read);
        self.body(&i.body);
        for clause in &i.elif_else_clauses {
            if let Some(t) = &clause.test {
                self.expr(t, super::exprs::Dest::Read);
            }
            self.body(&clause.body);
        }
    }

    /// Forgets tracking of names bound by a target (loop variables, tuple targets).
    pub fn unbind_target(&mut self, target: &Expr) {
        match target {
            Expr::Name(n) => self.unbind(n.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.unbind_target(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.unbind_target(e)),
            Expr::Starred(s) => self.unbind_target(&s.value),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                self.expr(target, super::exprs::Dest::Read);
            }
            _ => {}
        }
    }

    /// Forgets tracking of one name.
    pub fn unbind(&mut self, name: &str) {
        let at_module = self.at_module_level();
        if at_module {
            self.module_vars.remove(name);
            self.module_types.remove(name);
        }
        // A task handle or resource rebound on another path (`c = Client()` / `c = other`) is
        // still what later reads of the name may see: keep counting them (flow-insensitively).
        let keeps = self.scope().vars.get(name).is_some_and(|v| {
            matches!(
                self.ir.vars[v.0 as usize].kind,
                VarKind::Task | VarKind::Resource
            )
        });
        let scope = self.scope_mut();
        if !keeps {
            scope.vars.remove(name);
        }
        scope.types.remove(name);
        scope.global_alias.remove(name);
    }

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

    fn function_def(&mut self, f: &StmtFunctionDef) {
        let name = f.name.id.as_str();
        let decos = self.decorator_infos(&f.decorator_list);
        let shape = decorators::classify(&decos, f.is_async);
        let parent_scope_kind = self.scope().kind;
        let class = self.class_context();
        let display = match &class {
            Some((path, _)) => dotted(path.rsplit('.').next().unwrap_or(path), name),
            None => name.to_string(),
        };
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
            }
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
        let irf = &mut self.ir.functions[id as usize];
        irf.public_only = !nested && public && !shape.unknown && irf.func.callers_unknown;
        // Scope for the body.
        let mut scope = Scope::new(ScopeKind::Function, id, f.is_async);
        let matters = |n: &str| {
            self.module_names.contains_key(n)
                || self.imports.contains(n)
                || self.cx.builtins.contains(n)
                || self.module_vars.contains_key(n)
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
            }
        }
        for p in f.parameters.iter_non_variadic_params() {
            if let Some(ann) = &p.parameter.annotation
                && let Some(t) = self.qualify(ann)
            {
                scope.types.insert(p.parameter.name.id.clone(), t);
            }
        }
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
        if shape.cached || shape.fixture == Some(true) {
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
        if let Some(g) = scope.result_global {
            let created = self.ir.globals[g as usize].api.is_empty();
            if created {
                // Nothing runtime-bound was made: drop the marker so no use is reported.
                self.ir.fixtures.retain(|fx| fx.global != g);
            } else {
                self.ir.functions[id as usize].returns_global = Some(g);
            }
        }
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
    fn end_scope(&mut self) {
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
            return Some(fixture_entry(is_async, wide, &shape));
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
                        test: true,
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
            return Some(decorators::test_entry(
                is_async,
                shape,
                self.module_loop_scope.as_deref(),
            ));
        }
        None
    }

    fn class_def(&mut self, c: &StmtClassDef) {
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
        });
        let top = self.at_module_level() && self.scopes.len() == 1;
        if top {
            self.ir.defs.insert(Name::new(name), Def::Class(ci));
        }
        let attrs = prescan::class_attrs(self, c);
        self.class_attrs.insert(path.clone(), attrs);
        let fid = self.scope().fn_id;
        let mut scope = Scope::new(ScopeKind::ClassBody, fid, false);
        scope.class_idx = Some(ci);
        scope.loop_depth = self.scope().loop_depth;
        self.scopes.push(scope);
        self.body(&c.body);
        self.scopes.pop();
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

fn fixture_entry(is_async: bool, wide: bool, shape: &Shape) -> Entry {
    let loop_scope = shape.loop_scope.as_deref();
    match (is_async, wide) {
        (false, false) => Entry::Repeated {
            what: "pytest fixture".to_string(),
        },
        (false, true) => Entry::Main,
        (true, _) => {
            let scope = loop_scope.unwrap_or(if wide { "session" } else { "function" });
            if scope == "function" {
                Entry::Runtime {
                    flavor: crate::model::Flavor::CurrentThread,
                    test: true,
                    what: "pytest-asyncio per-test event loop".to_string(),
                }
            } else {
                Entry::ServerAsync {
                    what: format!("pytest-asyncio {scope}-scoped event loop"),
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
        Some(Entry::ServerAsync { what }) => what.starts_with("pytest"),
        _ => false,
    }
}

/// Whether an `if` test is `__name__ == "__main__"`.
pub fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else {
        return false;
    };
    let [right] = &*c.comparators else {
        return false;
    };
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    (is_name(&c.left) && is_main(right)) || (is_main(&c.left) && is_name(right))
}
