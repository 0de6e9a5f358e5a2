//! Calls: resolving the callee (a knowledge-base API, a project function, a method on a
//! tracked variable) and emitting the lifecycle events the call stands for.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Arguments, Expr, ExprCall};
use ruff_text_size::{Ranged, TextRange};

use super::exprs::{Dest, Val};
use super::imports::{attr_chain, dotted, join_path};
use super::ir::{AttrCreate, AttrDef, Def, Pending, RefKind};
use super::lower::{Lowerer, NameRes, ScopeKind};
use super::registrations;
use crate::kb::{Api, Concept, RuntimeArg};
use crate::model::{
    Flavor, FnId, FnKind, GlobalId, HandleFate, Language, ResourceRef, RunKind, RuntimeRef,
    StorageKind, VarId, VarKind, WaitKind,
};

/// Packages whose object types the decorators look at (`app = flask.Flask(..)`).
const FRAMEWORK_ROOTS: &[&str] = &["flask"];

/// What the receiver of a method call is.
#[derive(Debug, Clone)]
enum Recv {
    /// No receiver (a plain function call).
    None,
    /// A tracked variable.
    Var(VarId),
    /// A local alias of a global.
    Global(u32),
    /// `self.<attr>` holding a resource: the dotted path `Class.attr`.
    SelfAttr(String),
    /// A pytest fixture parameter.
    Fixture(String),
    /// A module-level project name (dotted path of the receiver).
    Project(String),
    /// Something else.
    Other,
}

/// The resolved callee of a call.
#[derive(Debug)]
struct Callee<'e> {
    /// Dotted path (a knowledge-base or project path).
    path: Option<String>,
    /// The method name, for attribute calls.
    method: Option<&'e str>,
    /// The receiver.
    recv: Recv,
    /// Runtime the receiver refers to.
    recv_runtime: Option<RuntimeRef>,
    /// A local nested function being called.
    local_fn: Option<u32>,
}

impl<'a> Lowerer<'a> {
    /// Lowers a call expression.
    pub fn call(&mut self, c: &ExprCall, dest: Dest<'_>) -> Val {
        self.call_with(&c.func, Some(&c.arguments), c.range(), dest)
    }

    /// Lowers a call of `func` with `args` (none when a callable is invoked by an API).
    pub fn call_with(
        &mut self,
        func: &Expr,
        args: Option<&Arguments>,
        range: TextRange,
        dest: Dest<'_>,
    ) -> Val {
        let awaited = std::mem::take(&mut self.awaited);
        let callee = self.callee(func);
        if let Some(f) = callee.local_fn {
            self.lower_args(args, None);
            // Calling a coroutine function from sync code only builds the coroutine: its body
            // runs wherever the coroutine is awaited, not here.
            let builds_only = self.ir.functions[f as usize].func.is_async && !self.in_async();
            if !builds_only {
                self.emit(
                    range,
                    crate::model::EventKind::Call {
                        callees: vec![FnId(f)],
                        result: None,
                    },
                );
            }
            return Val::default();
        }
        // The knowledge base wins over the project's own definitions (checking asyncio's
        // own sources, `asyncio.create_task` is still the API).
        let mut apis: Vec<&Api> = match &callee.path {
            Some(p) => self.cx.apis(p),
            _ => Vec::new(),
        };
        let project = apis.is_empty()
            && callee
                .path
                .as_deref()
                .is_some_and(|p| self.is_project_path(p));
        if apis.is_empty()
            && !project
            && matches!(callee.recv, Recv::Other | Recv::Var(_))
            && let Some(m) = callee.method.filter(|m| self.cx.methods.contains(*m))
        {
            apis = self.cx.method_apis(m);
        }
        if let (Some(p), Some(args)) = (&callee.path, args)
            && !project
        {
            registrations::check(self, p, callee.method, args);
            self.deprecated_keywords(p, args, range);
        }
        // APIs that take a body.
        if let Some(api) = apis
            .iter()
            .copied()
            .find(|a| body_kind(a.concept).is_some())
        {
            let dest = if awaited { Dest::Await } else { dest };
            return self.run_api(api, &callee, args, range, dest);
        }
        self.lower_args(args, None);
        // The value's type matters only where the value is looked at again.
        let typed = !project && matches!(dest, Dest::Bind(..) | Dest::With(_) | Dest::Read);
        let mut val = Val {
            ty: if typed { callee.path.clone() } else { None },
            ..Val::default()
        };
        if let Some(r) = apis.iter().find_map(|a| a.returns.clone()) {
            val.ty = Some(r);
        }
        let mut handled_recv = false;
        for api in &apis {
            handled_recv |= self.simple_api(api, &callee, args, range, dest, &mut val);
        }
        if !handled_recv {
            self.receiver_effect(&callee, range);
        }
        if project {
            let path = callee.path.clone().unwrap_or_default();
            self.pending_ref(range, &path, RefKind::Call);
        }
        val
    }

    /// Resolves the callee expression, lowering receivers that are calls themselves.
    fn callee<'e>(&mut self, func: &'e Expr) -> Callee<'e> {
        let mut out = Callee {
            path: None,
            method: None,
            recv: Recv::None,
            recv_runtime: None,
            local_fn: None,
        };
        match func {
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                NameRes::Path(p) => out.path = Some(p),
                NameRes::Builtin if self.cx.builtins.contains(n.id.as_str()) => {
                    out.path = Some(format!("builtins.{}", n.id));
                }
                NameRes::LocalFn(f) => out.local_fn = Some(f),
                NameRes::Var(v) => self.read_var(v, true),
                _ => {}
            },
            Expr::Attribute(a) => {
                let method = a.attr.id.as_str();
                out.method = Some(method);
                if let Some((base, attrs)) = attr_chain(&a.value) {
                    self.chain_callee(base, &attrs, method, &mut out);
                } else {
                    let recv = self.expr(&a.value, Dest::Read);
                    out.recv = Recv::Other;
                    out.recv_runtime = recv.runtime;
                    if let Some(ty) = recv.ty {
                        out.path = Some(dotted(&ty, method));
                    }
                }
            }
            other => {
                self.expr(other, Dest::Read);
            }
        }
        out
    }

    fn chain_callee(&mut self, base: &str, attrs: &[&str], method: &str, out: &mut Callee<'_>) {
        // `self.method()` and `self.attr.method()`.
        if let Some(class) = self.method_self(base) {
            match attrs {
                [] => out.path = Some(dotted(&class, method)),
                [attr] if self.self_attr_ref(base, attr).is_some() => {
                    out.recv = Recv::SelfAttr(dotted(&class, attr));
                }
                _ => out.recv = Recv::Other,
            }
            return;
        }
        match self.resolve_name(base) {
            NameRes::Var(v) if attrs.is_empty() => {
                self.read_var(v, false);
                out.recv = Recv::Var(v);
                let kind = self.ir.vars[v.0 as usize].kind;
                if self.current_handles.contains(&v) {
                    // A handle on the running loop, taken in a coroutine: it is that loop.
                    out.recv_runtime = Some(RuntimeRef::Current);
                } else if matches!(kind, VarKind::Runtime | VarKind::Handle) {
                    out.recv_runtime = Some(RuntimeRef::Var(v));
                }
                if let Some(ty) = self.type_of_name(base) {
                    out.path = Some(dotted(&ty, method));
                }
            }
            NameRes::GlobalAlias(g) if attrs.is_empty() => out.recv = Recv::Global(g),
            NameRes::Fixture if attrs.is_empty() => out.recv = Recv::Fixture(base.to_string()),
            NameRes::Builtin if !attrs.is_empty() => out.recv = Recv::Other,
            NameRes::Path(p) => {
                // Most dotted calls (`logging.getLogger`, `os.path.join`) name neither the
                // project nor the knowledge base: skip building their paths.
                let project = self.is_project_path(&p);
                let root = p.split('.').next().unwrap_or(&p);
                if !project && !self.cx.roots.contains(root) && !FRAMEWORK_ROOTS.contains(&root) {
                    out.recv = Recv::Other;
                    return;
                }
                let recv_path = join_path(&p, attrs);
                // A module-level object of this module with a known type (`stop = asyncio.Event()`)
                // gets its type's method path, for the knowledge base.
                let typed = attrs
                    .is_empty()
                    .then(|| self.module_types.get(base))
                    .flatten()
                    .filter(|_| self.imports.get(base).is_none())
                    .map(|ty| dotted(ty, method))
                    .filter(|p| self.cx.may_be_api(p));
                let full = typed.unwrap_or_else(|| dotted(&recv_path, method));
                if project {
                    out.recv = Recv::Project(recv_path);
                } else {
                    out.recv = Recv::Other;
                }
                out.path = Some(full);
            }
            NameRes::Local | NameRes::Plain | NameRes::Builtin if attrs.is_empty() => {
                out.recv = Recv::Other;
                if let Some(ty) = self.type_of_name(base) {
                    out.path = Some(dotted(&ty, method));
                }
            }
            _ => out.recv = Recv::Other,
        }
    }

    /// The class path when `base` is the `self`/`cls` of the method being lowered.
    fn method_self(&self, base: &str) -> Option<String> {
        let scope = self
            .scopes
            .iter()
            .rev()
            .find(|s| s.kind == ScopeKind::Function)?;
        let (class, self_name) = scope.class.as_ref()?;
        (self_name == base).then(|| class.clone())
    }

    /// Lowers call arguments, skipping the one at `skip` (a body already lowered).
    fn lower_args(&mut self, args: Option<&Arguments>, skip: Option<BodyArg>) {
        let Some(args) = args else {
            return;
        };
        for (i, a) in args.args.iter().enumerate() {
            if skip == Some(BodyArg::Pos(i)) {
                continue;
            }
            self.arg_value(a);
        }
        for (i, kw) in args.keywords.iter().enumerate() {
            if skip == Some(BodyArg::Kw(i)) {
                continue;
            }
            self.arg_value(&kw.value);
        }
    }

    /// Lowers one argument (a function named here is used as a value: the linker sees the
    /// reference).
    fn arg_value(&mut self, a: &Expr) {
        self.expr(a, Dest::Keep);
    }

    /// Finds the body argument of an API call.
    fn body_arg<'e>(api: &Api, args: &'e Arguments) -> Option<(BodyArg, &'e Expr)> {
        if let Some(kw) = &api.keyword {
            for (i, k) in args.keywords.iter().enumerate() {
                if k.arg.as_ref().is_some_and(|a| a.id.as_str() == kw) {
                    return Some((BodyArg::Kw(i), &k.value));
                }
            }
        }
        let i = api.arg as usize;
        args.args.get(i).map(|e| (BodyArg::Pos(i), e))
    }

    /// Lowers an API that runs a body (block-on, spawn, thread...).
    fn run_api(
        &mut self,
        api: &Api,
        callee: &Callee,
        args: Option<&Arguments>,
        range: TextRange,
        dest: Dest<'_>,
    ) -> Val {
        let how = body_kind(api.concept).unwrap_or(RunKind::Inline);
        let body = args.and_then(|a| Self::body_arg(api, a));
        let is_async = matches!(how, RunKind::BlockOn | RunKind::Spawn);
        let parent = self.scope().fn_id;
        let short = api.path.rsplit('.').next().unwrap_or(&api.path);
        let (name, kind) = if is_async {
            (format!("<{short} future>"), FnKind::Future)
        } else {
            (format!("<{short} target>"), FnKind::Closure)
        };
        let body_range = body.map_or(range, |(_, e)| e.range());
        let id = self.new_fn(name, body_range, kind, is_async, Some(parent));
        let mut scope = super::lower::Scope::new(ScopeKind::Synthetic, id, is_async);
        scope.class = None;
        self.scopes.push(scope);
        if let Some((_, e)) = body {
            self.invoke(e);
        }
        self.scopes.pop();
        self.lower_args(args, body.map(|(b, _)| b));
        let runtime = match how {
            RunKind::BlockOn | RunKind::Spawn | RunKind::SpawnBlocking => {
                self.runtime_of(api, callee, args)
            }
            _ => RuntimeRef::Unknown,
        };
        if how == RunKind::Spawn && runtime == RuntimeRef::Current && !self.in_async() {
            self.emit(
                range,
                crate::model::EventKind::NeedsRuntime {
                    api: api.path.clone(),
                },
            );
        }
        let mut val = Val {
            ty: api.returns.clone(),
            ..Val::default()
        };
        let handle = if how == RunKind::Spawn && !api.joins {
            match dest {
                Dest::Discard => HandleFate::Discarded,
                Dest::Bind("_", _) => HandleFate::Discarded,
                // Stored in a module global or an enclosing function's variable.
                Dest::Bind(name, _)
                    if self.at_module_level()
                        || self.scope().globals_decl.contains(name)
                        || self.scope().nonlocals.contains(name) =>
                {
                    HandleFate::Kept
                }
                Dest::Bind(name, r) => {
                    // Rebinding a name that holds a task (on another branch) shares its reads.
                    let existing = self
                        .scope()
                        .vars
                        .get(name)
                        .copied()
                        .filter(|v| self.ir.vars[v.0 as usize].kind == VarKind::Task);
                    let v = match existing {
                        Some(v) => v,
                        None => {
                            let v = self.new_var(name, r, VarKind::Task);
                            self.bind_var(name, v, api.returns.as_deref());
                            v
                        }
                    };
                    val.consumed = true;
                    HandleFate::Bound(v)
                }
                _ => HandleFate::Kept,
            }
        } else {
            HandleFate::Kept
        };
        self.emit(
            range,
            crate::model::EventKind::Run {
                body: FnId(id),
                how,
                runtime,
                handle,
                api: api.path.clone(),
            },
        );
        val
    }

    /// Binds a tracked variable to a name in the current scope.
    pub fn bind_var(&mut self, name: &str, v: VarId, ty: Option<&str>) {
        let at_module = self.at_module_level();
        if at_module {
            self.module_vars.insert(Name::new(name), v);
            if let Some(t) = ty {
                self.module_types.insert(Name::new(name), t.to_string());
            }
        } else {
            let scope = self.scope_mut();
            scope.vars.insert(Name::new(name), v);
            if let Some(t) = ty {
                scope.types.insert(Name::new(name), t.to_string());
            }
            scope.owned.push(v);
        }
    }

    /// Lowers a body expression as it is run: a coroutine expression, or a callable invoked.
    fn invoke(&mut self, e: &Expr) {
        match e {
            Expr::Call(c) => {
                let partial = self
                    .qualify(&c.func)
                    .is_some_and(|p| p == "functools.partial");
                match (partial, c.arguments.args.first()) {
                    (true, Some(first)) => {
                        self.invoke(first);
                        for a in c.arguments.args.iter().skip(1) {
                            self.expr(a, Dest::Keep);
                        }
                    }
                    _ => {
                        self.call(c, Dest::Await);
                    }
                }
            }
            Expr::Name(_) | Expr::Attribute(_) => {
                self.call_with(e, None, e.range(), Dest::Await);
            }
            Expr::Lambda(l) => {
                if let Some(p) = &l.parameters {
                    let scope = self.scope_mut();
                    for p in p.iter() {
                        scope.locals.insert(p.name().id.clone());
                    }
                }
                self.expr(&l.body, Dest::Await);
            }
            other => {
                self.expr(other, Dest::Await);
            }
        }
    }

    /// Which runtime an API call uses.
    fn runtime_of(&mut self, api: &Api, callee: &Callee, args: Option<&Arguments>) -> RuntimeRef {
        match api.runtime {
            RuntimeArg::Fresh => RuntimeRef::Fresh(match api.model_flavor() {
                Flavor::Unknown => Flavor::CurrentThread,
                f => f,
            }),
            RuntimeArg::Current => RuntimeRef::Current,
            RuntimeArg::Receiver => {
                if let Some(r) = callee.recv_runtime {
                    return r;
                }
                if callee.method.is_some() && !matches!(callee.recv, Recv::Project(_)) {
                    return RuntimeRef::Unknown;
                }
                // A plain function taking the loop as an argument (`run_coroutine_threadsafe`).
                let Some(args) = args else {
                    return RuntimeRef::Unknown;
                };
                let loop_arg = args
                    .keywords
                    .iter()
                    .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == "loop"))
                    .map(|k| &k.value)
                    .or_else(|| args.args.get(api.arg as usize + 1));
                match loop_arg {
                    Some(Expr::Name(n)) => match self.resolve_name(n.id.as_str()) {
                        NameRes::Var(v) => RuntimeRef::Var(v),
                        _ => RuntimeRef::Unknown,
                    },
                    _ => RuntimeRef::Unknown,
                }
            }
        }
    }

    /// Emits the events of an API without a body. Returns whether it took care of the
    /// receiver (a close or use of a tracked resource).
    fn simple_api(
        &mut self,
        api: &Api,
        callee: &Callee,
        args: Option<&Arguments>,
        range: TextRange,
        dest: Dest<'_>,
        val: &mut Val,
    ) -> bool {
        use crate::model::EventKind as K;
        match api.concept {
            Concept::BlockingEntry => self.emit(
                range,
                K::BlockingEntry {
                    api: api.path.clone(),
                },
            ),
            Concept::Blocking => self.emit(
                range,
                K::Blocking {
                    api: api.path.clone(),
                },
            ),
            Concept::NeedsRuntime => self.emit(
                range,
                K::NeedsRuntime {
                    api: api.path.clone(),
                },
            ),
            Concept::LoopPatching => self.emit(
                range,
                K::Hygiene {
                    rule: "loop-patching",
                    message: format!("`{}` patches the event loop to allow nesting", api.path),
                },
            ),
            Concept::Deprecated if !self.in_async() => {
                self.emit(
                    range,
                    K::Hygiene {
                        rule: "deprecated-loop-api",
                        message: format!(
                            "`{}` is deprecated when no event loop is running",
                            api.path
                        ),
                    },
                );
            }
            Concept::RuntimeNew | Concept::Handle => {
                let runtime_new = api.concept == Concept::RuntimeNew;
                let var = match dest {
                    Dest::Bind(name, r) if name != "_" => {
                        let kind = if runtime_new {
                            VarKind::Runtime
                        } else {
                            VarKind::Handle
                        };
                        let v = self.new_var(name, r, kind);
                        let ty = api.returns.clone().unwrap_or_else(|| api.path.clone());
                        self.bind_var(name, v, Some(&ty));
                        val.consumed = true;
                        Some(v)
                    }
                    // A loop stored in an attribute or a container, returned or passed on lives
                    // beyond this body: track it so that its escape is seen.
                    Dest::SelfAttr(_) | Dest::Keep | Dest::Return if runtime_new => {
                        Some(self.new_var("<loop>", range, VarKind::Runtime))
                    }
                    _ => None,
                };
                val.ty = api.returns.clone();
                if runtime_new {
                    let flavor = match api.model_flavor() {
                        Flavor::Unknown => Flavor::CurrentThread,
                        f => f,
                    };
                    self.emit(
                        range,
                        K::RuntimeNew {
                            var,
                            flavor,
                            api: api.path.clone(),
                        },
                    );
                    if let (Some(v), true) = (var, dest.escapes()) {
                        self.emit(range, K::Escape { var: v });
                    }
                    val.runtime = var.map(RuntimeRef::Var);
                } else {
                    if let (Some(v), true) = (var, self.in_async()) {
                        self.current_handles.insert(v);
                    }
                    self.emit(
                        range,
                        K::HandleOf {
                            runtime: RuntimeRef::Current,
                            var,
                        },
                    );
                    val.runtime = Some(var.map_or(RuntimeRef::Current, RuntimeRef::Var));
                }
            }
            Concept::RuntimeEnter => {
                let runtime = args
                    .and_then(|a| a.args.first())
                    .and_then(|e| match e {
                        Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                            NameRes::Var(v) => Some(RuntimeRef::Var(v)),
                            _ => None,
                        },
                        _ => None,
                    })
                    .unwrap_or(RuntimeRef::Unknown);
                self.emit(range, K::RuntimeEnter { runtime });
            }
            Concept::RuntimeClose => {
                let runtime = callee.recv_runtime.unwrap_or(RuntimeRef::Unknown);
                self.emit(
                    range,
                    K::RuntimeClose {
                        runtime,
                        api: api.path.clone(),
                    },
                );
                return true;
            }
            Concept::RuntimeBound => self.create(api, range, dest, val),
            Concept::WaitJoin | Concept::WaitDrain | Concept::WaitSignal => {
                let kind = match api.concept {
                    Concept::WaitJoin => WaitKind::Join,
                    Concept::WaitDrain => WaitKind::Drain,
                    _ => WaitKind::Signal,
                };
                self.emit(
                    range,
                    K::Wait {
                        kind,
                        what: api.path.clone(),
                    },
                );
            }
            Concept::ResourceClose => {
                return self.receiver_close(callee, range);
            }
            _ => {}
        }
        false
    }

    /// Emits the creation of a runtime-bound resource, stored according to `dest`.
    fn create(&mut self, api: &Api, range: TextRange, dest: Dest<'_>, val: &mut Val) {
        use crate::model::EventKind as K;
        let ty = api.returns.clone().unwrap_or_else(|| api.path.clone());
        val.ty = Some(ty.clone());
        let make = |this: &mut Self, resource: Option<ResourceRef>| {
            this.emit(
                range,
                K::Create {
                    resource,
                    api: api.path.clone(),
                    binds_now: api.binds_now,
                },
            );
        };
        let result_global = self.scope().result_global;
        match dest {
            Dest::Bind(name, r) if name != "_" => {
                let kind = self.scope().kind;
                let declared_global = self.scope().globals_decl.contains(name);
                // A Streamlit script's module-level values are made anew on every rerun: they
                // are locals of the script body, not long-lived globals.
                let module_global = kind == ScopeKind::Module && !self.streamlit;
                if module_global || declared_global {
                    let g = match self.ir.defs.get(name) {
                        Some(Def::Global(g)) => *g,
                        _ => {
                            let g = self.new_global(
                                name.to_string(),
                                r,
                                StorageKind::ModuleGlobal,
                                &api.path,
                            );
                            self.ir.defs.insert(Name::new(name), Def::Global(g));
                            g
                        }
                    };
                    make(self, Some(ResourceRef::Global(GlobalId(g))));
                    val.consumed = kind != ScopeKind::Module;
                    if kind == ScopeKind::Module {
                        self.module_types.insert(Name::new(name), ty);
                        val.consumed = true;
                    }
                } else if kind == ScopeKind::ClassBody {
                    let g = self.class_attr_global(name, r, &api.path);
                    make(self, g.map(|g| ResourceRef::Global(GlobalId(g))));
                    val.consumed = true;
                } else if let Some(g) = result_global {
                    self.set_global_api(g, &api.path);
                    make(self, Some(ResourceRef::Global(GlobalId(g))));
                    self.scope_mut().global_alias.insert(Name::new(name), g);
                    val.consumed = true;
                } else {
                    // The same name bound on another branch shares one variable, so a close or
                    // hand-over after the branches counts for both.
                    let existing = self.scope().vars.get(name).copied().filter(|v| {
                        let var = &self.ir.vars[v.0 as usize];
                        var.kind == VarKind::Resource && var.owner.0 == self.scope().fn_id
                    });
                    let v = match existing {
                        Some(v) => v,
                        None => {
                            let v = self.new_var(name, r, VarKind::Resource);
                            self.bind_var(name, v, Some(&ty));
                            v
                        }
                    };
                    make(self, Some(ResourceRef::Local(v)));
                    val.consumed = true;
                }
            }
            Dest::SelfAttr(attr) => {
                if let Some(class) = self.scope_class() {
                    let fid = self.scope().fn_id;
                    let span = self.span(range);
                    self.record_attr(
                        &class,
                        attr,
                        AttrDef::Created {
                            api: api.path.clone().into_boxed_str(),
                            span,
                            init: fid,
                        },
                    );
                    let what = Pending::AttrCreate(Box::new(AttrCreate {
                        class: class.into_boxed_str(),
                        attr: attr.into(),
                        api: api.path.clone().into_boxed_str(),
                        binds_now: api.binds_now,
                    }));
                    self.emit_pending(range, what);
                } else {
                    make(self, None);
                }
            }
            Dest::Return | Dest::With(_) if result_global.is_some() => {
                let g = result_global.unwrap_or_default();
                self.set_global_api(g, &api.path);
                make(self, Some(ResourceRef::Global(GlobalId(g))));
                if let Dest::With(Some(name)) = dest {
                    self.scope_mut().global_alias.insert(Name::new(name), g);
                    val.consumed = true;
                }
                if matches!(dest, Dest::With(_)) {
                    val.created = Some(ResourceRef::Global(GlobalId(g)));
                }
            }
            _ => {
                let (name, r) = match dest {
                    Dest::With(Some(n)) => (n, range),
                    _ => ("<temporary>", range),
                };
                let v = self.new_var(name, r, VarKind::Resource);
                make(self, Some(ResourceRef::Local(v)));
                if let Dest::With(Some(n)) = dest {
                    self.bind_var(n, v, Some(&ty));
                    val.consumed = true;
                } else if self.scope().kind == ScopeKind::Function {
                    self.scope_mut().owned.push(v);
                }
                if matches!(dest, Dest::With(_)) {
                    val.created = Some(ResourceRef::Local(v));
                }
                if dest.escapes() || matches!(dest, Dest::Await) {
                    self.emit(range, K::Escape { var: v });
                }
            }
        }
    }

    fn set_global_api(&mut self, g: u32, api: &str) {
        if let Some(global) = self.ir.globals.get_mut(g as usize)
            && global.api.is_empty()
        {
            global.api = api.to_string();
        }
    }

    /// `x.close()`-like calls on a tracked receiver.
    fn receiver_close(&mut self, callee: &Callee, range: TextRange) -> bool {
        use crate::model::EventKind as K;
        match &callee.recv {
            Recv::Var(v) if self.ir.vars[v.0 as usize].kind == VarKind::Resource => {
                self.read_var(*v, true);
                self.emit(
                    range,
                    K::Close {
                        resource: ResourceRef::Local(*v),
                    },
                );
                true
            }
            Recv::Global(g) => {
                self.emit(
                    range,
                    K::Close {
                        resource: ResourceRef::Global(GlobalId(*g)),
                    },
                );
                true
            }
            Recv::SelfAttr(p) | Recv::Project(p) => {
                self.pending_ref(range, p, RefKind::Close);
                true
            }
            Recv::Fixture(n) => {
                self.pending_fixture(range, n, RefKind::Close);
                true
            }
            _ => false,
        }
    }

    /// A method call on a tracked receiver that no API entry described: a use.
    fn receiver_effect(&mut self, callee: &Callee, range: TextRange) {
        use crate::model::EventKind as K;
        match &callee.recv {
            Recv::Var(v) => {
                let v = *v;
                let var = &self.ir.vars[v.0 as usize];
                match var.kind {
                    VarKind::Resource => {
                        self.read_var(v, true);
                        self.emit(
                            range,
                            K::Use {
                                resource: ResourceRef::Local(v),
                            },
                        );
                    }
                    _ => {
                        // Inspecting a task (`done()`) neither waits for it nor keeps it.
                        let inspect = callee.path.as_deref().is_some_and(|p| {
                            self.cx
                                .apis(p)
                                .iter()
                                .any(|a| a.concept == Concept::RuntimeAgnostic)
                        });
                        self.read_var(v, !inspect);
                    }
                }
            }
            Recv::Global(g) => {
                self.emit(
                    range,
                    K::Use {
                        resource: ResourceRef::Global(GlobalId(*g)),
                    },
                );
            }
            Recv::SelfAttr(p) => {
                self.pending_ref(range, p, RefKind::Value);
            }
            Recv::Fixture(n) => {
                self.pending_fixture(range, n, RefKind::Value);
            }
            Recv::Project(p)
                if !callee
                    .path
                    .as_deref()
                    .is_some_and(|c| self.is_project_path(c)) =>
            {
                self.pending_ref(range, p, RefKind::Value);
            }
            Recv::Project(_) | Recv::None | Recv::Other => {}
        }
    }

    /// `loop=` and other keyword arguments the knowledge base marks as removed.
    fn deprecated_keywords(&mut self, path: &str, args: &Arguments, range: TextRange) {
        for kw in args.keywords.iter() {
            let Some(arg) = &kw.arg else { continue };
            if !self.deprecated_kw_names().contains(arg.id.as_str()) {
                continue;
            }
            let key = format!("{path}:{}", arg.id);
            if let Some(api) = self.cx.kb.find(Language::Python, &key, Concept::Deprecated) {
                let message = format!(
                    "the `{}` argument of `{}` was removed in Python 3.10",
                    arg.id, path
                );
                let _ = api;
                self.emit(
                    range,
                    crate::model::EventKind::Hygiene {
                        rule: "deprecated-loop-api",
                        message,
                    },
                );
            }
        }
    }
}

/// Which argument holds an API's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyArg {
    /// A positional argument.
    Pos(usize),
    /// A keyword argument.
    Kw(usize),
}

/// How an API with a body runs it.
fn body_kind(concept: Concept) -> Option<RunKind> {
    match concept {
        Concept::BlockOn => Some(RunKind::BlockOn),
        Concept::Spawn => Some(RunKind::Spawn),
        Concept::SpawnBlocking => Some(RunKind::SpawnBlocking),
        Concept::Thread => Some(RunKind::Thread),
        Concept::BlockInPlace => Some(RunKind::BlockInPlace),
        _ => None,
    }
}

impl<'a> Lowerer<'a> {
    /// Keyword names that some knowledge-base entry marks as removed (`loop`).
    fn deprecated_kw_names(&self) -> &rustc_hash::FxHashSet<String> {
        &self.cx.deprecated_keywords
    }
}
