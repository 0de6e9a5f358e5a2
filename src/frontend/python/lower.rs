//! The AST walk of one file: the lowerer, event emission, name resolution and statements.
//! Definitions are in `defs`, expressions in `exprs`, calls in `calls`.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, Stmt, StmtIf};
use ruff_text_size::{Ranged, TextRange};

use super::decorators::{self};
use super::imports::{attr_chain, dotted, in_project, join_path};
use super::ir::{FileIr, IrFn, Pending, PendingAt, RefKind};
use super::prescan;
use super::project::ModuleFile;
use super::types::is_project_type;
use crate::model::{
    CondId, Entry, Event, EventKind, FnId, FnKind, Function, Global, Language, Span, StorageKind,
    Var, VarId, VarKind,
};

/// Maximum nesting of statements and expressions that is lowered; deeper code is skipped.
pub const MAX_DEPTH: u32 = 150;

pub use super::scope::{ApiIndex, Ctx, ModuleRes, NameKind, NameRes, Scope, ScopeKind};

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
    /// What each imported or module-level name resolves to at module level, made once the
    /// prescan has found them all (imports do not change after it; a module name that the
    /// lowering finds bound to a project object is updated in both).
    pub module_res: Option<HashMap<Name, ModuleRes>>,
    /// The flow place of each module-level path a name read here resolved to (see
    /// `flow::name_place`; `None` for paths outside the project).
    pub path_places: HashMap<std::rc::Rc<str>, Option<crate::model::Place>>,
    /// Module-level types of names (`app = Flask(..)`).
    pub module_types: HashMap<Name, String>,
    /// Module-level constants made of other upper-case constants
    /// (`_NUMERIC_ONLY = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV`), with those.
    pub module_constants: HashMap<Name, Vec<Name>>,
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
    /// Executor named by a module-level `pytestmark` (`pytest.mark.anyio`).
    pub module_executor: Option<crate::model::Executor>,
    /// Attributes of the project's classes that may hold resources, by class path.
    pub class_attrs: HashMap<String, HashSet<Name>>,
    /// Set while lowering the operand of `await`, until the next call takes it.
    pub awaited: bool,
    /// Interned pending paths.
    pub path_ids: HashMap<Box<str>, u32>,
    /// Number of enclosing `try:` bodies whose handlers catch `RuntimeError`.
    pub guarded: u32,
    /// Depth of `try` bodies with an `except BlockingIOError` handler: the code there uses
    /// non-blocking I/O, whose calls return at once.
    pub nonblocking_io: u32,
    /// Handle variables bound to the running loop inside a coroutine.
    pub current_handles: HashSet<VarId>,
    /// Whether the module is a Streamlit script: its module-level code reruns on every
    /// interaction, so its module-level values live for one run only.
    pub streamlit: bool,
    /// Memo of [`Self::is_project_path`].
    pub project_paths: std::cell::RefCell<HashMap<Box<str>, bool>>,
    /// Set (to the scope depth) while the arguments of a coroutine handed to a loop are lowered
    /// in the calling code: calls met there are recorded in [`Self::hoisted`] too.
    pub hoist_depth: Option<usize>,
    /// Calls met while hoisting, to re-emit in the coroutine's body for coroutine callees.
    pub hoisted: Vec<Hoisted>,
    /// Instance attributes set to an event loop the class makes, by (class path, attribute):
    /// the loop's type.
    pub loop_attrs: HashMap<(String, String), String>,
    /// Accessor methods that return a resource instance attribute of their class (`if
    /// self._s is None: self._s = ..; return self._s`), by (class path, method name): the
    /// attribute's dotted path, and whether the accessor is a property getter. A caller's use
    /// of the result is a use of the attribute.
    pub attr_getters: HashMap<(String, String), (String, bool)>,
    /// Index of each flow cell in [`FileIr::cells`].
    pub flow_cells: HashMap<crate::model::Cell, u32>,
    /// Places of the arguments of a coroutine call whose arguments were lowered in the calling
    /// code (`asyncio.run(fetch(client))`), for the call's flow fact.
    pub flow_args: Option<Vec<Option<crate::model::Place>>>,
    /// What the call whose arguments are in `flow_args` passes (see [`super::flow::Passed`]).
    pub flow_passed: Option<super::flow::Passed>,
    /// Types of the arguments in `flow_args` that are instances of project classes, by
    /// position (type paths interned in [`FileIr::paths`]).
    pub flow_arg_types: Vec<(u8, u32)>,
    /// The same, for the arguments the last `lower_args` lowered.
    pub arg_types: Vec<(u8, u32)>,
    /// Places of the keyword arguments the last `lower_args` lowered, by name.
    pub kw_places: Vec<(Name, crate::model::Place)>,
    /// Set for the next `lower_args`: keywords whose argument a client constructor borrows
    /// and leaves the caller's (`connector=` with `connector_owner=False`): only read there.
    pub lent_keywords: Vec<String>,
    /// The tracked resources the last `lower_args` lent that way.
    pub lent_vars: Vec<crate::model::VarId>,
    /// Resources lent to a client in a local variable, by that variable: they go where the
    /// client goes when it leaves the body.
    pub lent: HashMap<crate::model::VarId, Vec<crate::model::VarId>>,
    /// Places of the keyword arguments of a coroutine call lowered in the calling code, with
    /// `flow_args`.
    pub flow_kwargs: Vec<(Name, crate::model::Place)>,
    /// Functions among the arguments in `flow_args`, by position or keyword (see `arg_fns`).
    pub flow_arg_fns: Vec<(u32, super::ir::HandedFn)>,
    /// Set for the next `lower_args`: the call is of a project function, which the flow
    /// follows, so a module global passed by name is handed on rather than used.
    pub args_to_project: bool,
    /// Set for the next `lower_args`: the arguments go into this container's place
    /// (`tasks.append(t)`), rather than to library code.
    pub args_into: Option<crate::model::Place>,
    /// Set while lowering the arguments of a builtin that only looks at them (`len(tasks)`).
    pub inspecting: bool,
    /// The position of the argument whose special methods the builtin being lowered calls.
    pub special_arg: Option<usize>,
    /// The project type of that argument, once lowered.
    pub special_arg_ty: Option<String>,
    /// Functions among the arguments the last `lower_args` lowered: by position, or by
    /// keyword (`ir::KEYWORD` set on the interned keyword).
    pub arg_fns: Vec<(u32, super::ir::HandedFn)>,
    /// Module-level names bound once to `functools.partial(f, a, ..)`: the path of `f` and
    /// how many positional arguments the partial binds (a call of the name calls `f`, its
    /// arguments after those).
    pub module_partials: HashMap<Name, (Box<str>, u8)>,
    /// Module-level names bound to a container literal (`{}`, `[]`, `set()`): their elements
    /// are a module global of their own (`REG["c"] = client`).
    pub module_containers: HashSet<Name>,
    /// Where names of tables of functions are read in ways the frontend follows (see
    /// `fn_tables`), until the read is lowered.
    pub table_reads: Vec<TextRange>,
    /// Calls whose result the code consumes right where it makes it (the iterable of a `for`,
    /// of a comprehension, or of a builtin that iterates its argument): a lazy iterator such a
    /// call returns (`map(f, xs)`) calls its callable there.
    pub consumed_calls: Vec<TextRange>,
    /// The lambdas lowered so far, by their range: the function each made.
    pub lambda_ids: Vec<(TextRange, u32)>,
    /// The tables of functions that attributes of the instances of this file's classes are
    /// (`self.on_done = partial(f, 1)`, `self.hooks.append(f)`), by the path of the table.
    pub attr_fn_tables: std::collections::HashSet<String>,
    /// Attributes of `self` that the enclosing `if` finds unset (`if self._x is None:`), so
    /// that storing one there fills it once per instance.
    pub lazy_attrs: Vec<Name>,
    /// Attributes of `self` that a method other than `__init__` empties or replaces outside
    /// such a fill (`self._x = None`, `del self._x`), or fills again when a test finds them
    /// unset or in another state (`if self._x is None or self._x.closed:`): no fill of an
    /// attribute of that name in the file is once per instance.
    pub renewed_attrs: Vec<Name>,
    /// Names whose state the enclosing `if` tests check (`if s is None or s.closed:`).
    pub state_guards: Vec<Name>,
    /// Module globals that a function fills again under a test of their state (`if s is None
    /// or s.closed: s = ..`): a run that closes one leaves it to be filled anew, so the close
    /// also resets it.
    pub state_checked: Vec<Name>,
    /// Whether the module defines pytest-asyncio's `event_loop` fixture anew: its async tests
    /// run on the loop that fixture gives, which is not followed.
    pub own_event_loop: bool,
}

/// A call met in the arguments of a coroutine handed to a loop.
#[derive(Debug, Clone)]
pub enum Hoisted {
    /// A pending reference.
    Ref(TextRange, Pending),
    /// A nested coroutine function of the module.
    Local(TextRange, u32),
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
            module_res: None,
            path_places: HashMap::default(),
            module_types: HashMap::default(),
            module_constants: HashMap::default(),
            module_vars: HashMap::default(),
            scopes: Vec::new(),
            depth: 0,
            test_module: decorators::is_test_module(&mf.stem),
            module_loop_scope: cx.pytest.test_loop_scope.clone(),
            module_executor: None,
            class_attrs: HashMap::default(),
            awaited: false,
            path_ids: HashMap::default(),
            guarded: 0,
            nonblocking_io: 0,
            current_handles: HashSet::default(),
            streamlit: false,
            project_paths: Default::default(),
            hoist_depth: None,
            hoisted: Vec::new(),
            loop_attrs: HashMap::default(),
            attr_getters: HashMap::default(),
            flow_cells: HashMap::default(),
            flow_args: None,
            flow_passed: None,
            flow_arg_types: Vec::new(),
            arg_types: Vec::new(),
            kw_places: Vec::new(),
            lent_keywords: Vec::new(),
            lent_vars: Vec::new(),
            lent: HashMap::default(),
            flow_kwargs: Vec::new(),
            flow_arg_fns: Vec::new(),
            args_to_project: false,
            args_into: None,
            inspecting: false,
            special_arg: None,
            special_arg_ty: None,
            arg_fns: Vec::new(),
            module_partials: HashMap::default(),
            module_containers: HashSet::default(),
            table_reads: Vec::new(),
            consumed_calls: Vec::new(),
            lambda_ids: Vec::new(),
            attr_fn_tables: Default::default(),
            lazy_attrs: Vec::new(),
            renewed_attrs: Vec::new(),
            state_guards: Vec::new(),
            state_checked: Vec::new(),
            own_event_loop: false,
        }
    }

    /// Lowers a module body.
    pub fn lower_module(mut self, suite: &[Stmt]) -> FileIr {
        prescan::module(&mut self, suite);
        let streamlit = prescan::is_streamlit_script(&self, suite);
        self.streamlit = streamlit;
        self.module_res = Some(self.module_table());
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
        // Every file's result stays alive until its project is linked: `rehome` copies its
        // lists at their exact sizes, without the spare room that growing left in them.
        let mut ir = self.ir;
        // A test client entered by name somewhere in the file keeps one loop there.
        let entered = std::mem::take(&mut ir.entered);
        ir.request_loops
            .retain(|(_, name)| name.as_ref().is_none_or(|n| !entered.contains(n)));
        ir.flow.renew(&ir.cells, &self.renewed_attrs);
        ir.flow
            .reset_closed(&ir.cells, &self.mf.name, &self.state_checked);
        ir.flow.finish();
        // Only a call that becomes a call event, here or when a pending reference is resolved,
        // can have its arguments looked up.
        let called: rustc_hash::FxHashSet<(u32, u32)> = ir
            .functions
            .iter()
            .flat_map(|f| {
                let events = f.func.events.iter().filter_map(|e| {
                    matches!(e.kind, crate::model::EventKind::Call { .. })
                        .then_some((e.span.start, e.span.end))
                });
                events.chain(f.pending.iter().map(|p| (p.start, p.end)))
            })
            .collect();
        ir.call_args
            .retain(|start, end| called.contains(&(start, end)));
        ir.call_args.seal();
        ir.rehome()
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
        // Inside `try:` with a handler for the error a missing loop raises, needing a loop
        // is asking whether one runs.
        let kind = match kind {
            EventKind::NeedsRuntime { api } if self.guarded > 0 => EventKind::RuntimeProbe { api },
            other => other,
        };
        let span = self.span(range);
        let scope = self.scope();
        let (fid, depth, when) = (scope.fn_id, scope.loop_depth, scope.when);
        self.ir.functions[fid as usize].func.events.push(Event {
            span,
            loop_depth: depth,
            kind,
            when,
        });
    }

    /// Records a reference that the linker turns into events at this point of the body.
    pub fn emit_pending(&mut self, range: TextRange, what: Pending) {
        let span = self.span(range);
        let scope = self.scope();
        let (fid, loop_depth, when) = (scope.fn_id as usize, scope.loop_depth, scope.when);
        let at = self.ir.functions[fid].func.events.len() as u32;
        let hoisted = self.hoist_depth == Some(self.scopes.len());
        let only_async = match &what {
            Pending::Ref {
                kind: RefKind::Call | RefKind::Method,
                ..
            } if hoisted => {
                self.hoisted.push(Hoisted::Ref(range, what.clone()));
                Some(false)
            }
            _ => None,
        };
        self.ir.functions[fid].pending.push(PendingAt {
            at,
            start: span.start,
            end: span.end,
            loop_depth,
            only_async,
            what,
            when,
        });
    }

    /// Re-emits the coroutine calls met while hoisting, in the current (coroutine) body.
    pub fn emit_hoisted(&mut self, hoisted: Vec<Hoisted>) {
        for h in hoisted {
            match h {
                Hoisted::Ref(range, what) => {
                    self.emit_pending(range, what);
                    let fid = self.scope().fn_id as usize;
                    if let Some(p) = self.ir.functions[fid].pending.last_mut() {
                        p.only_async = Some(true);
                    }
                }
                Hoisted::Local(range, f) => self.emit(
                    range,
                    EventKind::Call {
                        callees: smallvec::smallvec![FnId(f)],
                        result: None,
                    },
                ),
            }
        }
    }

    /// Interns a path or name of a pending reference.
    pub fn intern(&mut self, path: &str) -> u32 {
        if let Some(&i) = self.path_ids.get(path) {
            return i;
        }
        let i = self.ir.paths.len() as u32;
        self.ir.paths.push(path);
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
                lib_trait: false,
                task_call: false,
                is_test: self.test_module,
                diverges: false,
                events: Vec::new(),
                when: crate::model::CondId::TRUE,
                params: Vec::new(),
            },
            pending: thin_vec::ThinVec::new(),
            returns: None,
            property: false,
            returns_fn: None,
            returned: false,
            decorators: thin_vec::ThinVec::new(),
            public_only: false,
            arg_types: thin_vec::ThinVec::new(),
            param_names: thin_vec::ThinVec::new(),
            handed: thin_vec::ThinVec::new(),
            defaults: thin_vec::ThinVec::new(),
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
            fresh: false,
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
        if path.starts_with('?') {
            return true;
        }
        if !self
            .cx
            .module_roots
            .contains(super::scope::first_segment(path))
        {
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

    /// The module-level resolution of every imported or module-level name (an import wins
    /// over a binding of the same name, as in [`Self::resolve_name`]).
    fn module_table(&self) -> HashMap<Name, ModuleRes> {
        let mut table = HashMap::default();
        table.reserve(self.module_names.len() + self.imports.len());
        for (name, kind) in &self.module_names {
            let res = match kind {
                NameKind::Def | NameKind::Object => {
                    ModuleRes::Path(self.module_path(name.as_str()).into())
                }
                NameKind::Other => ModuleRes::Plain,
            };
            table.insert(name.clone(), res);
        }
        for (name, path) in self.imports.iter() {
            table.insert(Name::new(name), ModuleRes::Path(path.into()));
        }
        table
    }

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
                return NameRes::Path(p.into());
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
        if let Some(table) = &self.module_res {
            return match table.get(name) {
                Some(ModuleRes::Path(p)) => NameRes::Path(p.clone()),
                Some(ModuleRes::Plain) => NameRes::Plain,
                None => NameRes::Builtin,
            };
        }
        if let Some(p) = self.imports.get(name) {
            return NameRes::Path(p.into());
        }
        match self.module_names.get(name) {
            Some(NameKind::Def) | Some(NameKind::Object) => {
                NameRes::Path(self.module_path(name).into())
            }
            Some(NameKind::Other) => NameRes::Plain,
            None => NameRes::Builtin,
        }
    }

    /// The enclosing function and position of the parameter `name`, when the name is one of
    /// its parameters and no inner scope binds it.
    pub fn param_of(&self, name: &str) -> Option<(u32, u32)> {
        for scope in self.scopes.iter().rev() {
            match scope.kind {
                ScopeKind::Module => return None,
                ScopeKind::ClassBody => continue,
                _ => {}
            }
            if let Some(i) = scope.params.iter().position(|p| p.as_str() == name) {
                return Some((scope.fn_id, i as u32));
            }
            if scope.vars.contains_key(name) || scope.defs.contains_key(name) {
                return None;
            }
        }
        None
    }

    /// The known type of a name in the current scope.
    pub fn type_of_name(&self, name: &str) -> Option<String> {
        self.type_ref(name).map(str::to_string)
    }

    /// The known type of a name in the current scope, borrowed.
    pub fn type_ref(&self, name: &str) -> Option<&str> {
        for scope in self.scopes.iter().rev() {
            if let Some(t) = scope.types.get(name) {
                return Some(t);
            }
            if scope.kind == ScopeKind::Function && scope.locals.contains(name) {
                return None;
            }
        }
        self.module_types.get(name).map(String::as_str)
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

    /// Lowers a block of statements. After `if <test of a parameter>:` whose body always
    /// leaves the block (`return`, `raise`, `continue`, `break`), the rest of the block runs only
    /// when the test failed.
    pub fn body(&mut self, stmts: &[Stmt]) {
        let saved = self.scope().when;
        for s in stmts {
            self.stmt(s);
            if let Stmt::If(i) = s
                && i.elif_else_clauses.is_empty()
                && i.body.last().is_some_and(super::guards::leaves_block)
            {
                let test = self.param_test(&i.test);
                if test != CondId::TRUE {
                    let failed = self.ir.conds.not(test);
                    let when = self.ir.conds.and(self.scope().when, failed);
                    self.scope_mut().when = when;
                }
            }
        }
        self.scope_mut().when = saved;
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
                    let val = self.expr(v, Dest::Return);
                    self.note_return_type(val.ty.as_deref());
                    self.flow_return(r.range, val.place);
                }
            }
            Stmt::Assign(a) => {
                if let [target] = a.targets.as_slice() {
                    self.assign(target, &a.value, None);
                } else {
                    let val = self.expr(&a.value, Dest::Keep);
                    self.flow_escape(a.value.range(), val.place);
                    for t in &a.targets {
                        self.unbind_target(t);
                    }
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.assign(&a.target, v, Some(&a.annotation));
                } else if let Expr::Name(n) = &*a.target
                    && let Some(t) = self.annotation_type(&a.annotation)
                {
                    if self.scope().kind == ScopeKind::ClassBody
                        && let Some(class) = self.enclosing_class()
                    {
                        self.record_attr_type(&class, n.id.as_str(), &t);
                    }
                    self.scope_mut().types.insert(n.id.clone(), t);
                }
            }
            Stmt::AugAssign(a) => {
                self.expr(&a.value, Dest::Keep);
                self.expr(&a.target, Dest::Read);
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.note_renewed(t);
                    let val = self.expr(t, Dest::Read);
                    // Deleting a name of a project class instance finalises it (its `__del__`).
                    if let Expr::Name(n) = t
                        && let Some(ty) = val.ty.as_deref().filter(|t| is_project_type(t))
                    {
                        let place = val.place.or_else(|| self.name_place(n.id.as_str()));
                        self.dunder_call(t.range(), ty, "__del__", place);
                    }
                }
            }
            Stmt::For(f) => {
                let table = self.table_loop(&f.target, &f.iter);
                self.note_consumed(&f.iter);
                let iter = self.expr(&f.iter, Dest::Read);
                self.iterate(&f.iter, &iter, f.is_async);
                self.unbind_target(&f.target);
                self.bind_table_loop(table);
                // The loop variable holds the elements of a container the flow follows.
                if let Expr::Name(n) = &*f.target
                    && !f.is_async
                    && let Some(elements) = self.iterated_elements(&f.iter)
                {
                    let to = self.bind_place(n.id.as_str());
                    self.flow_assign(n.range, to, Some(elements));
                }
                self.scope_mut().loop_depth += 1;
                let runs = self.loop_test(&f.iter);
                self.under(runs, |l| l.body(&f.body));
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
                let guards = t.handlers.iter().any(|h| {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    h.type_.as_deref().is_none_or(catches_runtime_error)
                });
                let nonblocking = t.handlers.iter().any(|h| {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    h.type_.as_deref().is_some_and(catches_blocking_io)
                });
                self.guarded += u32::from(guards);
                self.nonblocking_io += u32::from(nonblocking);
                self.body(&t.body);
                self.guarded -= u32::from(guards);
                self.nonblocking_io -= u32::from(nonblocking);
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
        let test = self.param_test(&i.test);
        let outer = self.lazy_attrs.len();
        let guards = self.state_guards.len();
        self.unset_attrs(&i.test);
        self.note_state_checks(&i.test);
        self.under(test, |l| l.body(&i.body));
        self.lazy_attrs.truncate(outer);
        self.state_guards.truncate(guards);
        // Each later clause runs only when the tests before it failed.
        let mut failed = self.ir.conds.not(test);
        for clause in &i.elif_else_clauses {
            if let Some(t) = &clause.test {
                self.under(failed, |l| l.expr(t, super::exprs::Dest::Read));
            }
            let own = clause
                .test
                .as_ref()
                .map_or(CondId::TRUE, |t| self.param_test(t));
            let when = self.ir.conds.and(failed, own);
            self.under(when, |l| l.body(&clause.body));
            let not_own = self.ir.conds.not(own);
            failed = self.ir.conds.and(failed, not_own);
        }
    }

    /// The attributes of `self` that a test finds unset: `self.x is None`, `not self.x`, and
    /// either of them in an `or`. Beside another test (`self.x is None or self.x.closed`),
    /// the attribute may be filled again: it is renewed. Returns whether `test` only tests
    /// attributes unset.
    fn unset_attrs(&mut self, test: &Expr) -> bool {
        match test {
            Expr::BoolOp(b) if b.op == ruff_python_ast::BoolOp::Or => {
                let from = self.lazy_attrs.len();
                // Every disjunct is looked at, whatever the ones before it are.
                let mut only = true;
                for v in &b.values {
                    only &= self.unset_attrs(v);
                }
                if !only {
                    let found = self.lazy_attrs[from..].to_vec();
                    self.renewed_attrs.extend(found);
                }
                only
            }
            Expr::UnaryOp(u) if u.op == ruff_python_ast::UnaryOp::Not => {
                self.self_attr_unset(&u.operand)
            }
            Expr::Compare(c)
                if matches!(c.ops.as_ref(), [ruff_python_ast::CmpOp::Is])
                    && matches!(c.comparators.as_ref(), [Expr::NoneLiteral(_)]) =>
            {
                self.self_attr_unset(&c.left)
            }
            _ => false,
        }
    }

    /// Notes the names whose state a test checks (`s.closed`, `not s.is_closed`,
    /// `s.is_closing()`), in any part of it ([`Lowerer::state_guards`]).
    fn note_state_checks(&mut self, test: &Expr) {
        match test {
            Expr::BoolOp(b) => {
                for v in &b.values {
                    self.note_state_checks(v);
                }
            }
            Expr::UnaryOp(u) => self.note_state_checks(&u.operand),
            Expr::Call(c) if c.arguments.is_empty() => self.note_state_checks(&c.func),
            Expr::Attribute(a) => {
                if let Expr::Name(n) = &*a.value
                    && self.cx.is_state_check(a.attr.id.as_str())
                {
                    self.state_guards.push(n.id.clone());
                }
            }
            _ => {}
        }
    }

    fn self_attr_unset(&mut self, e: &Expr) -> bool {
        if let Expr::Attribute(a) = e
            && let Expr::Name(base) = &*a.value
            && self.is_self(base.id.as_str())
        {
            self.lazy_attrs.push(a.attr.id.clone());
            return true;
        }
        false
    }

    /// Notes an attribute of `self` that a method other than `__init__` assigns or deletes
    /// outside a fill of it found unset ([`Lowerer::renewed_attrs`]).
    pub(super) fn note_renewed(&mut self, target: &Expr) {
        let Expr::Attribute(a) = target else { return };
        let Expr::Name(base) = &*a.value else { return };
        if !self.is_self(base.id.as_str())
            || self.ir.functions[self.scope().fn_id as usize]
                .func
                .name
                .ends_with(".__init__")
        {
            return;
        }
        let attr = &a.attr.id;
        if !self.renewed_attrs.contains(attr) {
            self.renewed_attrs.push(attr.clone());
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
        scope.table_locals.remove(name);
        scope.local_tables.remove(name);
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

/// Whether an `except` clause's type catches the `RuntimeError` that a missing event loop
/// raises (`RuntimeError`, `Exception`, `BaseException`, or a tuple holding one).
/// Whether an `except` clause catches `BlockingIOError` (the error of a non-blocking call that
/// would have blocked).
fn catches_blocking_io(ty: &Expr) -> bool {
    match ty {
        Expr::Tuple(t) => t.elts.iter().any(catches_blocking_io),
        Expr::Name(n) => n.id.as_str() == "BlockingIOError",
        Expr::Attribute(a) => a.attr.id.as_str() == "BlockingIOError",
        _ => false,
    }
}

fn catches_runtime_error(ty: &Expr) -> bool {
    match ty {
        Expr::Tuple(t) => t.elts.iter().any(catches_runtime_error),
        Expr::Name(n) => matches!(
            n.id.as_str(),
            "RuntimeError" | "Exception" | "BaseException"
        ),
        Expr::Attribute(a) => matches!(
            a.attr.id.as_str(),
            "RuntimeError" | "Exception" | "BaseException"
        ),
        _ => false,
    }
}
