//! Calls: resolving the callee (a knowledge-base API, a project function, a method on a
//! tracked variable) and emitting the lifecycle events the call stands for.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Arguments, Expr, ExprCall};
use ruff_text_size::{Ranged, TextRange};

use super::exprs::{Dest, Val};
use super::imports::{attr_chain, dotted, join_path};
use super::ir::{HandedFn, RefKind};
use super::lower::{Lowerer, NameKind, NameRes, ScopeKind};
use super::registrations;
use super::types::{instance_of, is_class_instance, is_project_type};
use crate::kb::{Api, Concept, Passes, RuntimeArg};
use crate::model::{
    Cell, CellId, CellKind, Flavor, FnId, FnKind, HandleFate, Place, RunKind, RuntimeRef, VarId,
    VarKind,
};

/// Packages whose object types the decorators look at (`app = flask.Flask(..)`).
const FRAMEWORK_ROOTS: &[&str] = &["flask"];

/// What the receiver of a method call is.
#[derive(Debug, Clone)]
pub(super) enum Recv {
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
pub(super) struct Callee<'e> {
    /// Dotted path (a knowledge-base or project path).
    pub(super) path: Option<String>,
    /// `self.method()` (or `cls.method()`): the method of the instance's own class, which may
    /// be a subclass's.
    pub(super) dispatch: bool,
    /// The method name, for attribute calls.
    pub(super) method: Option<&'e str>,
    /// The receiver.
    pub(super) recv: Recv,
    /// Runtime the receiver refers to.
    pub(super) recv_runtime: Option<RuntimeRef>,
    /// For a receiver reached through attributes of a value an expression gives
    /// (`make().chat.completions`), the place of that value.
    pub(super) base_place: Option<crate::model::Place>,
    /// A local nested function being called.
    pub(super) local_fn: Option<u32>,
    /// The method's path through the known project type of its receiver (`pkg.Store().get`).
    pub(super) typed: Option<String>,
    /// A parameter of an enclosing function being called: (function, position).
    pub(super) param: Option<(u32, u32)>,
    /// The cell of an instance attribute holding an event loop, when that is the receiver.
    pub(super) recv_cell: Option<crate::model::Place>,
    /// The flow place of the receiver.
    pub(super) recv_place: Option<Place>,
    /// Whether a project callee takes the receiver as its first parameter (`Some(true)`: a
    /// method; `None`: not known at this point, arguments are not bound).
    pub(super) bound: Option<bool>,
    /// The receiver is a local socket put in non-blocking mode: its calls do not block.
    pub(super) nonblocking: bool,
    /// The upper-case constants named by the call that made the receiver, a local name of
    /// this body or an enclosing one (`SOCK_DGRAM`).
    pub(super) recv_flags: Vec<Name>,
    /// For the constructor of a project class deriving from a library type: the type of the
    /// instance it makes (`pkg.ApiClient()`), which the library constructor's events carry.
    pub(super) made_as: Option<String>,
    /// For a module name bound to `functools.partial(f, a, ..)`: how many positional
    /// arguments the partial puts before the call's own.
    pub(super) partial_args: u8,
    /// The value called when the callee is an expression the flow follows rather than a name
    /// (`get_factory()()`, `self.factory()` where the attribute holds a value).
    pub(super) value_place: Option<Place>,
}

/// The path segment that stands for a class's bases in a reference: `pkg.C.<SUPER>.m` is the
/// method `m` as the bases of `pkg.C` define it (`super().m()`).
pub(super) const SUPER: &str = "__super__";

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
        // What the call passes; a call whose arguments the caller lowered already (the
        // coroutine a loop runs) has them told in `flow_passed`.
        let passed = match args {
            Some(a) => super::flow::passed_shape(a),
            None => self.flow_passed.take(),
        };
        self.note_nonblocking(func, args);
        self.note_made_with(args, dest);
        self.note_table_method(func, args);
        if let Some(table) = self.table_callee(func) {
            return self.table_call(&table, func, args, range, dest);
        }
        let returned = self.returned_chain_of(func);
        let mut callee = self.callee(func);
        // The knowledge-base entries of the callee's path, looked up once for the whole call.
        let path_apis: Vec<&Api> = match &callee.path {
            Some(p) => self.cx.apis(p),
            _ => Vec::new(),
        };
        self.note_readiness(func, &path_apis, args);
        if let Some(args) = args
            && args.args.len() >= 2
            && self.asserts_failure(&callee, &path_apis)
        {
            self.call_asserting_failure(args, range);
            return Val::default();
        }
        self.note_call_args(func, args, range, &callee, !path_apis.is_empty());
        let before = self.ir.functions[self.scope().fn_id as usize]
            .func
            .events
            .len();
        if let Some(f) = callee.local_fn {
            self.lower_args(args, None);
            let callee_async = self.ir.functions[f as usize].func.is_async;
            if self.hoist_depth == Some(self.scopes.len()) && callee_async {
                self.hoisted.push(super::lower::Hoisted::Local(range, f));
                return Val::default();
            }
            // Calling a coroutine function from sync code only builds the coroutine: its body
            // runs wherever the coroutine is awaited, not here.
            let builds_only = callee_async && !self.in_async();
            if builds_only && let Dest::Bind(name, _) = dest {
                self.scope_mut()
                    .coros
                    .insert(Name::new(name), super::lower::Hoisted::Local(range, f));
            }
            if !builds_only {
                self.emit(
                    range,
                    crate::model::EventKind::Call {
                        callees: smallvec::smallvec![FnId(f)],
                        result: None,
                    },
                );
                let at = self.ir.functions[self.scope().fn_id as usize]
                    .func
                    .events
                    .len() as u32;
                let mut fns = std::mem::take(&mut self.arg_fns);
                if args.is_none() {
                    fns = std::mem::take(&mut self.flow_arg_fns);
                }
                self.note_arg_fns(Some(at - 1), fns, 0);
            }
            return Val::default();
        }
        if let Some((owner, index)) = callee.param {
            self.lower_args(args, None);
            self.emit_pending(range, super::ir::Pending::ParamCall { owner, index });
            let mut val = Val::default();
            self.product(func, callee.value_place, range, dest, &mut val);
            return val;
        }
        // The knowledge base wins over the project's own definitions (checking asyncio's
        // own sources, `asyncio.create_task` is still the API).
        let mut apis = path_apis;
        // A project class deriving from a library type makes what the library constructor
        // makes; its own `__init__` runs too.
        let subclass = match &callee.path {
            Some(p) if apis.is_empty() => self.subclass(p),
            _ => None,
        };
        if let Some(class) = subclass {
            apis = self.subclass_ctors(class);
            callee.made_as = Some(instance_of(&class.class));
        }
        // A test client that is not the context manager of a `with` serves each request on a
        // loop of its own.
        if apis
            .iter()
            .any(|a| a.concept == crate::kb::Concept::TestClient)
        {
            let name = match dest {
                Dest::Bind(name, _) => Some(Some(Name::new(name))),
                Dest::Return | Dest::Discard | Dest::Read => Some(None),
                Dest::With(_) | Dest::Keep | Dest::Await | Dest::SelfAttr(_) => None,
            };
            if let Some(name) = name {
                let span = self.span(range);
                self.ir.request_loops.push((span, name));
            }
        }
        let project = apis.is_empty()
            && callee
                .path
                .as_deref()
                .is_some_and(|p| self.is_project_path(p));
        if apis.is_empty()
            && !project
            // A method of a class instance is that class's, whatever its name.
            && !callee
                .typed
                .as_deref()
                .and_then(super::scope::split_last)
                .is_some_and(|(recv, _)| is_class_instance(recv))
            // `self.attr.method()` names the method as surely as `var.method()` does.
            && matches!(callee.recv, Recv::Other | Recv::Var(_) | Recv::SelfAttr(_))
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
        // A builtin iterating its argument consumes a lazy iterator made there.
        if let Some(api) = apis.iter().find(|a| {
            a.concept == Concept::CallsSpecial && a.methods.iter().any(|m| m == "__iter__")
        }) && let Some(a) = args.and_then(|a| a.args.get(api.arg as usize))
        {
            self.note_consumed(a);
        }
        // APIs that take a body (one that calls a callable in place only when given one, and
        // a lazy iterator only where it is consumed).
        if let Some(api) = apis.iter().copied().find(|a| {
            body_kind(a.concept).is_some()
                && (a.concept != Concept::CallsInPlace
                    || (args.and_then(|x| Self::body_arg(a, x)).is_some()
                        && (!a.consumed || self.consumed_calls.contains(&range))))
        }) {
            let dest = if awaited { Dest::Await } else { dest };
            let val = self.run_api(api, &callee, args, range, dest);
            // The loop named by a `loop=` attribute (`loop=self.loop`), or the loop argument of a
            // function that runs the body on it (`run_coroutine_threadsafe(coro, loop)`).
            let loop_cell = match loop_arg(api, args) {
                Some(Expr::Name(n)) => self.name_place(n.id.as_str()),
                Some(e) => self.loop_attr_cell(e),
                None => args
                    .and_then(loop_keyword)
                    .and_then(|e| self.loop_attr_cell(e)),
            };
            if let Some(place) = callee.recv_cell.or(loop_cell).or(callee.recv_place) {
                self.subject_from_cell(before, range, place);
            }
            return val;
        }
        // A method of a project class instance (`Probe().run(client)`) is the project's too.
        let typed_method = apis.is_empty()
            && callee
                .typed
                .as_deref()
                .filter(|t| !t.starts_with('^'))
                .and_then(super::scope::split_last)
                .is_some_and(|(recv, _)| {
                    // Not a library subclass, whose other methods are the library's.
                    is_class_instance(recv)
                        && recv
                            .strip_suffix("()")
                            .is_some_and(|c| self.subclass(c).is_none())
                });
        self.args_to_project = project || subclass.is_some() || typed_method;
        // A connection a client borrows and leaves the caller's is only read by the call,
        // unless the client itself leaves the body at once.
        self.lent_keywords = apis
            .iter()
            .filter(|a| a.concept == Concept::RuntimeBound && a.borrowed_stays && !dest.escapes())
            .filter(|a| super::effects::borrows_connection(a, args))
            .flat_map(|a| a.borrows.iter().cloned())
            .collect();
        // `tasks.append(t)` on a local list or set: the list holds what it is given; on a
        // module global or an attribute of the instance (`self.clients.append(c)`), the
        // container's elements do.
        let into = match func {
            Expr::Attribute(a)
                if apis.is_empty()
                    && !project
                    && matches!(
                        a.attr.id.as_str(),
                        "append" | "add" | "appendleft" | "setdefault"
                    )
                    && !(a.attr.id.as_str() == "setdefault"
                        && args
                            .and_then(|x| x.args.first())
                            .is_some_and(|k| self.keyed_by_loop(k))) =>
            {
                match (&*a.value, callee.recv_place) {
                    (Expr::Name(base), Some(place @ Place::Temp(_))) => {
                        self.scope_mut().containers.insert(base.id.clone());
                        Some(place)
                    }
                    (base @ (Expr::Name(_) | Expr::Attribute(_)), recv) => {
                        // A name bound to a local or handed in; an attribute of the instance
                        // read into a temporary keeps its elements in its own cell.
                        if matches!(recv, Some(Place::Temp(_) | Place::Param(..)))
                            && matches!(base, Expr::Name(_))
                        {
                            None
                        } else {
                            self.element_place(base, true)
                                .filter(|p| matches!(p, Place::Cell(_)))
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        // `d.setdefault(k, v)`, `d.get(k)`, `d.pop(k)` of a container whose elements the flow
        // follows give one of its elements.
        let element_result = match func {
            Expr::Attribute(a) if apis.is_empty() && !project => match a.attr.id.as_str() {
                "setdefault" => into,
                // Only a container the flow knows as one: a parameter or a local may be any
                // value (`session.get(url)`).
                "get" | "pop" => self
                    .element_place(&a.value, false)
                    .filter(|p| matches!(p, Place::Cell(_))),
                _ => None,
            },
            _ => None,
        };
        self.args_into = into;
        self.inspecting = !project
            && matches!(func, Expr::Name(n) if INSPECTING_BUILTINS.contains(&n.id.as_str())
                && matches!(self.resolve_name(n.id.as_str()), NameRes::Builtin));
        // A builtin calling special methods of an argument (`len(x)`, `list(x)`).
        let special = apis
            .iter()
            .find(|a| a.concept == Concept::CallsSpecial)
            .map(|a| (a.arg as usize, a.methods.clone()));
        self.special_arg = special.as_ref().map(|&(arg, _)| arg);
        let mut arg_places = self.lower_args(args, None);
        self.inspecting = false;
        if let (Some((arg, methods)), Some(ty)) = (special, self.special_arg_ty.take()) {
            let place = arg_places.get(arg).copied().flatten();
            for m in &methods {
                self.dunder_call(range, &ty, m, place);
            }
        }
        let mut arg_types = std::mem::take(&mut self.arg_types);
        let mut kwargs = std::mem::take(&mut self.kw_places);
        let mut arg_fns = std::mem::take(&mut self.arg_fns);
        if args.is_none()
            && let Some(hoisted) = self.flow_args.take()
        {
            arg_places = hoisted;
            arg_fns = std::mem::take(&mut self.flow_arg_fns);
            arg_types = std::mem::take(&mut self.flow_arg_types);
            kwargs = std::mem::take(&mut self.flow_kwargs);
        }
        // The value's type matters only where the value is looked at again.
        let typed = !project && matches!(dest, Dest::Bind(..) | Dest::With(_) | Dest::Read);
        let mut val = Val {
            ty: if typed { callee.path.clone() } else { None },
            ..Val::default()
        };
        let keeps_value = !matches!(dest, Dest::Discard | Dest::Keep);
        if project && keeps_value {
            val.ty = callee.path.as_deref().map(instance_of);
        } else if project && matches!(dest, Dest::Keep) {
            // An instance built in place as an argument types the callee's parameter.
            val.ty = callee
                .path
                .as_deref()
                .map(instance_of)
                .filter(|t| is_class_instance(t));
        }
        if let Some(r) = apis.iter().find_map(|a| a.returns.clone()) {
            val.ty = Some(r);
        }
        // A value that draws on an argument (a session factory given the engine) holds it.
        if let Some(api) = apis.iter().find(|a| a.concept == Concept::Derived) {
            let from = api
                .keyword
                .as_deref()
                .and_then(|k| kwargs.iter().find(|(n, _)| n.as_str() == k))
                .map(|&(_, p)| p)
                .or_else(|| arg_places.get(api.arg as usize).copied().flatten());
            if from.is_some() {
                let to = self.temp();
                self.flow_assign(range, Some(to), from);
                val.place = Some(to);
            }
        }
        let mut handled_recv = false;
        for api in &apis {
            handled_recv |= self.simple_api(api, &callee, args, range, dest, &mut val);
        }
        self.lent_vars.clear();
        if !project && !apis.iter().any(|a| a.concept == Concept::RuntimeClose) {
            self.close_by_method_name(&callee, range);
        }
        // A close method that a library subclass overrides still closes the resource.
        if apis.is_empty()
            && callee
                .typed
                .as_deref()
                .is_some_and(|t| self.overrides_close(t))
        {
            handled_recv = self.receiver_close(&callee, range);
        }
        if apis.is_empty() {
            self.reset_by_method_name(&callee, range);
        }
        if !project {
            self.close_resource_by_method_name(&callee, range);
        }
        // A state check (`pool.is_closing()`) reads a flag of the receiver, not its loop; a
        // method the knowledge base names for the receiver's type (`queue.put_nowait(x)`,
        // `event.set()`) touches no loop whatever its arguments.
        let state_check = (args.is_some_and(|a| a.args.is_empty() && a.keywords.is_empty())
            && callee.method.is_some_and(|m| self.cx.is_state_check(m)))
            || apis.iter().any(|a| a.concept == Concept::StateCheck);
        // A close by name of a module global (`await _session.close()`), whose value is not of
        // a project class: the close of what the global holds (for a global filled again when
        // closed, a reset).
        let closes_static = matches!(callee.recv_place, Some(Place::Cell(_)))
            && callee
                .method
                .is_some_and(|m| self.cx.index.resource_closes.contains(m))
            && !callee
                .typed
                .as_deref()
                .and_then(super::scope::split_last)
                .is_some_and(|(recv, _)| is_class_instance(recv));
        if !handled_recv && !state_check {
            self.receiver_effect(&callee, range);
            if into.is_none() {
                // The close does I/O with the value: a use too.
                if let (Some(place), true) = (callee.recv_place, closes_static) {
                    self.fact(range, crate::model::FactKind::Close { place });
                }
                let method = callee
                    .method
                    .and_then(|m| self.cx.kb.state_method(crate::model::Language::Python, m));
                self.flow_use(range, callee.recv_place, method);
            }
        }
        // An awaited call through a value's attributes (`await client.chat.completions.create()`)
        // does its I/O with that value.
        if awaited || matches!(dest, Dest::Await | Dest::With(_)) {
            let base = callee.base_place.or_else(|| self.name_chain_base(func));
            if base != callee.recv_place && !state_check {
                self.flow_use(range, base, None);
            }
        }
        if let Some(place) = callee.recv_cell.or(callee.recv_place) {
            self.subject_from_cell(before, range, place);
        }
        if let Some(class) = subclass {
            self.pending_ref(range, &class.class, RefKind::Call);
            self.note_arg_types(&arg_types, 1);
            let args = std::iter::once(None).chain(arg_places).collect();
            self.pending_call(range, args, &kwargs);
        } else if project {
            let path = callee.path.clone().unwrap_or_default();
            self.pending_ref(range, &path, RefKind::Call);
            self.note_built_coro(dest, range, &path, RefKind::Call);
            if callee.dispatch
                && let Some(p) = self.last_pending()
            {
                let f = self.scope().fn_id;
                self.ir.self_calls.push((f, p & !super::flow::PENDING));
            }
            // `f(..)`: a function, or a class whose `__init__` gets a new instance.
            let bound = callee.bound.or(callee.method.is_none().then_some(false));
            let class =
                super::scope::last_segment(&path).starts_with(|c: char| c.is_ascii_uppercase());
            let shift = match bound {
                _ if class => Some(1),
                Some(true) => Some(1),
                Some(false) => Some(callee.partial_args),
                None => None,
            };
            if let Some(shift) = shift {
                self.note_arg_types(&arg_types, shift);
                self.note_arg_fns(None, arg_fns, shift);
            }
            // A method a library subclass overrides gets the arguments too.
            let overriding = match (&callee.recv, &callee.typed) {
                (Recv::Project(_), Some(t)) => Some((t.clone(), arg_places.clone())),
                _ => None,
            };
            let args = match bound {
                _ if class => std::iter::once(None).chain(arg_places).collect(),
                Some(true) => std::iter::once(callee.recv_place)
                    .chain(arg_places)
                    .collect(),
                Some(false) => std::iter::repeat_n(None, callee.partial_args.into())
                    .chain(arg_places)
                    .collect(),
                None => Vec::new(),
            };
            val.place = Some(self.pending_call(range, args, &kwargs));
            // What a partial binds is not seen here: its callee's defaults are left alone.
            let partial = match func {
                Expr::Name(n) => self.module_partials.contains_key(n.id.as_str()),
                _ => false,
            };
            if let Some(shift) = shift.filter(|_| callee.partial_args == 0 && !partial) {
                self.note_passed(range, shift, passed.clone());
            }
            if let Some((t, arg_places)) = overriding {
                self.pending_ref(range, &t, RefKind::Method);
                let args = std::iter::once(callee.recv_place)
                    .chain(arg_places)
                    .collect();
                val.place = Some(self.pending_call(range, args, &kwargs));
            }
        } else if apis.is_empty()
            && let Some(t) = &callee.typed
        {
            self.pending_ref(range, t, RefKind::Method);
            self.note_built_coro(dest, range, t, RefKind::Method);
            if keeps_value {
                val.ty = Some(instance_of(t));
            }
            // A method of a parameter typed by its callers: the arguments and the result
            // flow once the linker names the class, but the callee's parameters are not typed
            // from this call.
            if !t.starts_with('^') {
                self.note_arg_types(&arg_types, 1);
                self.note_arg_fns(None, arg_fns, 1);
            }
            let args = std::iter::once(callee.recv_place)
                .chain(arg_places)
                .collect();
            val.place = Some(self.pending_call(range, args, &kwargs));
            self.note_passed(range, 1, passed);
        }
        if let Some(chain) = returned {
            self.returned_ref(chain, range);
        }
        if apis.is_empty() && subclass.is_none() {
            self.product(func, callee.value_place, range, dest, &mut val);
        }
        if let Some(elements) = element_result
            && !matches!(dest, Dest::Discard)
        {
            val.place = match elements {
                cell @ Place::Cell(_) => self.load(range, cell),
                local => Some(local),
            };
        }
        val
    }

    /// `factory()` where `factory` is a value the flow follows rather than a function (a
    /// local, a parameter, a module global that is no `def`, or `value_place`: an attribute
    /// holding a value, a call's result): what the call makes draws on what the value holds
    /// (the sessions of a session factory use its engine).
    fn product(
        &mut self,
        func: &Expr,
        value_place: Option<Place>,
        range: TextRange,
        dest: Dest<'_>,
        val: &mut Val,
    ) {
        if matches!(dest, Dest::Discard) {
            return;
        }
        let from = match func {
            Expr::Name(n) => self.named_value(n.id.as_str()),
            _ => value_place,
        };
        let Some(from) = from else { return };
        let to = match val.place {
            Some(to) => to,
            None => {
                let to = self.temp();
                val.place = Some(to);
                to
            }
        };
        self.flow_assign(range, Some(to), Some(from));
    }

    /// The place of a name called as a value: a local, a parameter, a module global that is no
    /// `def` (nor a partial, which calls what it wraps).
    fn named_value(&mut self, name: &str) -> Option<Place> {
        if self.module_partials.contains_key(name) {
            return None;
        }
        match self.resolve_name(name) {
            NameRes::Path(p)
                if self.is_project_path(&p)
                    && (self.imports.contains(name)
                        || self.module_names.get(name) == Some(&NameKind::Object)) =>
            {
                self.name_place(name)
            }
            NameRes::Local | NameRes::Plain | NameRes::Builtin if self.param_of(name).is_some() => {
                self.name_place(name)
            }
            NameRes::Local => self.name_place(name),
            _ => None,
        }
    }

    /// Resolves the callee expression, lowering receivers that are calls themselves.
    fn callee<'e>(&mut self, func: &'e Expr) -> Callee<'e> {
        let mut out = Callee {
            path: None,
            dispatch: false,
            method: None,
            recv: Recv::None,
            recv_runtime: None,
            base_place: None,
            local_fn: None,
            typed: None,
            param: None,
            recv_cell: None,
            recv_place: None,
            bound: None,
            nonblocking: false,
            recv_flags: Vec::new(),
            made_as: None,
            partial_args: 0,
            value_place: None,
        };
        if let Expr::Attribute(a) = func
            && let Expr::Name(n) = &*a.value
        {
            out.nonblocking = self.is_nonblocking(n.id.as_str());
            if let Some(flags) = self
                .scopes
                .iter()
                .rev()
                .find_map(|s| s.made_with.get(n.id.as_str()))
            {
                out.recv_flags = flags.clone();
            }
        }
        match func {
            // `cls(...)` in a class method builds an instance of the class.
            Expr::Name(n)
                if n.id.as_str() == "cls"
                    && let Some(class) = self.method_self("cls") =>
            {
                out.path = Some(class);
            }
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                NameRes::Local | NameRes::Plain | NameRes::Builtin
                    if let Some(param) = self.param_of(n.id.as_str()) =>
                {
                    out.param = Some(param);
                }
                NameRes::Path(p) => match self.partial_of(n.id.as_str(), &p) {
                    Some((target, k)) => {
                        out.path = Some(target);
                        out.partial_args = k;
                    }
                    None => out.path = Some(p.to_string()),
                },
                NameRes::Builtin if self.cx.builtins.contains(n.id.as_str()) => {
                    out.path = Some(dotted("builtins", n.id.as_str()));
                }
                NameRes::LocalFn(f) => out.local_fn = Some(f),
                NameRes::Var(v) => self.read_var(v, true),
                // An instance of a project class called: its `__call__`.
                NameRes::Local | NameRes::Plain | NameRes::Builtin
                    if let Some(ty) = self.receiver_type(n.id.as_str()) =>
                {
                    out.typed = Some(dotted(&ty, "__call__"));
                    out.recv_place = self.name_place(n.id.as_str());
                }
                _ => {}
            },
            Expr::Attribute(a) => {
                let method = a.attr.id.as_str();
                out.method = Some(method);
                if let Some((base, attrs)) = attr_chain(&a.value) {
                    self.chain_callee(base, &attrs, method, &mut out);
                    if let ([attr], Some(class)) = (&attrs[..], self.method_self(base)) {
                        // `self.attr.method()`: the attribute, or what its property returns.
                        let ty = instance_of(&class);
                        let called = self.self_attr_ref(base, attr).is_none();
                        if called {
                            self.pending_ref(a.value.range(), &dotted(&ty, attr), RefKind::Attr);
                        }
                        out.recv_place =
                            Some(self.typed_attr_place(a.value.range(), base, &ty, attr, called));
                    } else if let Some((attr, through)) = attrs.split_last()
                        && (!through.is_empty() || !self.is_self(base))
                        && let Some(ty) = self.receiver_type(base)
                    {
                        // A field of a typed value, or of a field (`self.inner.client`).
                        out.recv_place = self.chain_place(a.value.range(), &ty, through, attr);
                    }
                } else if let Some(class) = self.super_class(&a.value) {
                    // `super().method()`: the method as the class's bases define it.
                    out.path = Some(dotted(&dotted(&class, SUPER), method));
                    out.bound = Some(true);
                } else {
                    let recv = self.expr(&a.value, Dest::Read);
                    out.recv = Recv::Other;
                    out.recv_place = recv.place;
                    out.base_place = recv.base;
                    out.recv_runtime = recv.runtime;
                    match recv.ty {
                        Some(ty) if is_project_type(&ty) => {
                            out.path = self.inherited_method(&ty, method);
                            out.typed = Some(dotted(&ty, method));
                        }
                        Some(ty) => out.path = Some(dotted(&ty, method)),
                        None => {}
                    }
                }
            }
            other => {
                let v = self.expr(other, Dest::Read);
                out.value_place = v.place;
                // An instance of a project class built and called at once: its `__call__`.
                if let Some(ty) = v.ty.filter(|t| is_class_instance(t)) {
                    out.typed = Some(dotted(&ty, "__call__"));
                    out.recv_place = v.place;
                }
            }
        }
        // `self.attr()` where a method of the class stored a value in the attribute.
        if let Expr::Attribute(a) = func
            && let Expr::Name(base) = &*a.value
            && let Some(class) = self.method_self(base.id.as_str())
        {
            let cell = Cell {
                kind: CellKind::Field,
                owner: class,
                name: a.attr.id.to_string(),
            };
            if let Some(&id) = self.flow_cells.get(&cell) {
                out.value_place = self.load(a.range, Place::Cell(CellId(id)));
            }
        }
        out
    }

    /// An implicit call of a special method on a value of a project type (`with x:` calls
    /// `x.__enter__()`, `x()` calls `x.__call__()`): a call edge when the class defines it.
    pub(super) fn dunder_call(
        &mut self,
        range: TextRange,
        ty: &str,
        method: &str,
        recv: Option<Place>,
    ) -> Place {
        self.pending_ref(range, &dotted(ty, method), RefKind::Method);
        self.pending_call(range, vec![recv], &[])
    }

    /// Iterating `iter` (a `for`, a comprehension, `yield from`), whose lowered value is
    /// `val`: on an instance of a project class, a call of its iterator methods.
    pub(super) fn iterate(&mut self, iter: &Expr, val: &Val, is_async: bool) {
        let (start, next) = if is_async {
            ("__aiter__", "__anext__")
        } else {
            ("__iter__", "__next__")
        };
        self.special_calls(iter, val, &[start, next]);
    }

    /// Calls of special methods (`methods`, in order) that syntax or a builtin makes on the
    /// value of `e` (lowered as `val`) when it is an instance of a project class.
    pub(super) fn special_calls<S: AsRef<str>>(&mut self, e: &Expr, val: &Val, methods: &[S]) {
        let place = val.place.or_else(|| match e {
            Expr::Name(n) => self.name_place(n.id.as_str()),
            _ => None,
        });
        if let Some(ty) = val.ty.as_deref().filter(|t| is_project_type(t)) {
            let ty = ty.to_string();
            for m in methods {
                self.dunder_call(e.range(), &ty, m.as_ref(), place);
            }
            return;
        }
        // A parameter of unknown type: typed by its callers' arguments at link time.
        if let Expr::Name(n) = e
            && let Some(Place::Param(f, k)) = place
            && !self.is_self(n.id.as_str())
            && self.receiver_type(n.id.as_str()).is_none()
        {
            for m in methods {
                let path = param_method(f.0, k, m.as_ref());
                self.pending_ref(e.range(), &path, RefKind::Method);
                self.pending_call(e.range(), vec![place], &[]);
            }
        }
    }

    /// The cell of `self.attr` when the attribute holds an event loop the class makes.
    fn loop_attr_cell(&mut self, e: &Expr) -> Option<crate::model::Place> {
        let (base, attrs) = attr_chain(e)?;
        let [attr] = &attrs[..] else {
            return None;
        };
        let class = self.method_self(base)?;
        self.loop_attrs
            .contains_key(&(class.clone(), attr.to_string()))
            .then(|| self.attr_cell(&class, attr))
    }

    fn chain_callee(&mut self, base: &str, attrs: &[&str], method: &str, out: &mut Callee<'_>) {
        // A name bound to what an accessor returns: the attribute it returns.
        if attrs.is_empty()
            && let Some(path) = self.scope().attr_alias.get(base)
        {
            out.recv = Recv::SelfAttr(path.clone());
            return;
        }
        if attrs.is_empty() {
            out.recv_place = self.name_place(base);
            // A parameter of unknown type: typed by its callers' arguments at link time.
            if let Some(Place::Param(f, k)) = out.recv_place
                && !self.is_self(base)
                && self.receiver_type(base).is_none()
            {
                out.typed = Some(param_method(f.0, k, method));
            }
        }
        // `self.method()` and `self.attr.method()`.
        if let Some(class) = self.method_self(base) {
            match attrs {
                [] => {
                    out.path = Some(dotted(&class, method));
                    out.bound = Some(true);
                    out.dispatch = true;
                }
                [attr] if self.self_attr_ref(base, attr).is_some() => {
                    out.recv = Recv::SelfAttr(dotted(&class, attr));
                }
                // A property that returns a resource attribute: the attribute.
                [attr]
                    if let Some((path, true)) =
                        self.attr_getters.get(&(class.clone(), attr.to_string())) =>
                {
                    out.recv = Recv::SelfAttr(path.clone());
                }
                _ => out.recv = Recv::Other,
            }
            if !attrs.is_empty() {
                out.typed = Some(dotted(&join_path(&instance_of(&class), attrs), method));
            }
            // An attribute holding an event loop the class makes: the loop's methods.
            if let [attr] = attrs
                && let Some(ty) = self.loop_attrs.get(&(class.clone(), attr.to_string()))
            {
                out.path = Some(dotted(&ty.clone(), method));
                out.recv_cell = Some(self.attr_cell(&class, attr));
            }
            return;
        }
        if let Some(ty) = self.receiver_type(base) {
            out.typed = Some(dotted(&join_path(&ty, attrs), method));
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
                out.path = self.typed_method(base, method);
            }
            NameRes::GlobalAlias(g) if attrs.is_empty() => out.recv = Recv::Global(g),
            NameRes::Fixture if attrs.is_empty() => {
                out.recv = Recv::Fixture(base.to_string());
                // An annotated fixture parameter (`tmp_path: Path`) has that type's methods.
                if let Some(ty) = self.type_ref(base).filter(|t| !is_project_type(t)) {
                    out.path = Some(dotted(ty, method));
                }
            }
            NameRes::Builtin if !attrs.is_empty() => {
                out.recv = Recv::Other;
                out.path = self.library_attr_method(base, attrs, method);
            }
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
                    .map(|ty| {
                        self.inherited_method(ty, method)
                            .unwrap_or_else(|| dotted(ty, method))
                    })
                    .filter(|p| self.cx.may_be_api(p));
                let full = typed.unwrap_or_else(|| dotted(&recv_path, method));
                // A module global holding what a project function returns is of unknown type,
                // like a local bound to it: a library method is matched by its name.
                if project
                    && attrs.is_empty()
                    && self.cx.methods.contains(method)
                    && self.factory_result(base)
                {
                    out.recv = Recv::Other;
                    return;
                }
                if project {
                    // A module global holding an instance of a library subclass: a method the
                    // class overrides is called too.
                    if attrs.is_empty()
                        && matches!(self.ir.defs.get(base), Some(super::ir::Def::Global(_)))
                    {
                        out.typed = self
                            .module_types
                            .get(base)
                            .and_then(|ty| self.overriding_method(ty, method));
                    }
                    // A method of an object the module builds, or a function of a module.
                    out.bound = match self.ir.defs.get(base) {
                        Some(super::ir::Def::Instance(_)) if attrs.is_empty() => Some(true),
                        _ if self.cx.modules.contains(&recv_path) => Some(false),
                        _ => None,
                    };
                    if let [attr] = attrs {
                        out.recv_place = self.module_attr_place(&p, attr);
                    }
                    out.recv = Recv::Project(recv_path);
                } else {
                    out.recv = Recv::Other;
                }
                out.path = Some(full);
            }
            NameRes::Local | NameRes::Plain | NameRes::Builtin if attrs.is_empty() => {
                out.recv = Recv::Other;
                out.path = self.typed_method(base, method);
            }
            NameRes::Local | NameRes::Plain => {
                out.recv = Recv::Other;
                out.path = self.library_attr_method(base, attrs, method);
            }
            _ => out.recv = Recv::Other,
        }
    }

    /// The method path of `base.a.b.method()` when `base` has a library type and the knowledge
    /// base types each attribute on the way (`path.parent.read_text()`: a path's method).
    fn library_attr_method(&self, base: &str, attrs: &[&str], method: &str) -> Option<String> {
        let mut ty = self.type_of_name(base).filter(|t| !is_project_type(t))?;
        for attr in attrs {
            ty = self
                .cx
                .apis(&dotted(&ty, attr))
                .iter()
                .find_map(|a| a.returns.clone())?;
        }
        Some(dotted(&ty, method))
    }

    /// Whether the module-level name `base` of this module is bound to the result of a call
    /// of a project function (not a class: a function of this module, or an imported name
    /// that is not capitalised).
    fn factory_result(&self, base: &str) -> bool {
        if self.imports.get(base).is_some() {
            return false;
        }
        let Some(super::ir::Def::Instance(p)) = self.ir.defs.get(base) else {
            return false;
        };
        let (module, last) = p.rsplit_once('.').unwrap_or(("", p));
        if module == self.mf.name {
            matches!(self.ir.defs.get(last), Some(super::ir::Def::Fn(_)))
        } else {
            last.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        }
    }

    /// The method path of `base.method()` for the type of the name `base`: a library type's
    /// method, also one that a project class inherits from its library base.
    fn typed_method(&self, base: &str, method: &str) -> Option<String> {
        let ty = self.type_of_name(base)?;
        if is_project_type(&ty) {
            self.inherited_method(&ty, method)
        } else {
            Some(dotted(&ty, method))
        }
    }

    /// The class path when `base` is the `self`/`cls` of the method being lowered.
    /// The class of the method whose `super()` (or `super(Class, self)`) `e` is.
    fn super_class(&self, e: &Expr) -> Option<String> {
        let Expr::Call(c) = e else {
            return None;
        };
        let Expr::Name(n) = &*c.func else {
            return None;
        };
        if n.id.as_str() != "super"
            || !matches!(c.arguments.args.len(), 0 | 2)
            || !c.arguments.keywords.is_empty()
        {
            return None;
        }
        let (class, self_name) = self.method_scope()?;
        if let [Expr::Name(cls), Expr::Name(me)] = &c.arguments.args[..]
            && (me.id.as_str() != self_name || !class.ends_with(&format!(".{}", cls.id)))
        {
            return None;
        }
        Some(class.to_string())
    }

    /// The local or parameter at the root of a method's receiver chain (`client` of
    /// `client.chat.completions.create`); a module global's attributes are the global's own
    /// uses, and `self`'s are its class's.
    fn name_chain_base(&mut self, func: &Expr) -> Option<crate::model::Place> {
        let Expr::Attribute(a) = func else {
            return None;
        };
        let (base, attrs) = attr_chain(&a.value)?;
        if attrs.is_empty() || self.is_self(base) {
            return None;
        }
        self.name_place(base)
            .filter(|p| !matches!(p, crate::model::Place::Cell(_)))
    }

    /// The class and the `self` parameter's name of the method being lowered, if any (a
    /// nested function sees its enclosing method's).
    pub(super) fn method_scope(&self) -> Option<(&str, &str)> {
        let scope = self
            .scopes
            .iter()
            .rev()
            .find(|s| s.kind == ScopeKind::Function)?;
        let (class, self_name) = scope.class.as_ref()?;
        Some((class, self_name))
    }

    /// The class of the method being lowered when `base` is its `self`.
    pub(super) fn method_self(&self, base: &str) -> Option<String> {
        self.self_class(base).map(str::to_string)
    }

    /// The class of the method being lowered when `base` is its `self`, borrowed.
    pub(super) fn self_class(&self, base: &str) -> Option<&str> {
        let (class, self_name) = self.method_scope()?;
        (self_name == base).then_some(class)
    }

    /// Whether `base` is the `self` of the method being lowered.
    pub(super) fn is_self(&self, base: &str) -> bool {
        self.self_class(base).is_some()
    }

    /// Lowers call arguments, skipping the one at `skip` (a body already lowered).
    /// Lowers call arguments, skipping the one at `skip` (a body already lowered); returns the
    /// flow places of the positional ones, up to the first starred one.
    pub(super) fn lower_args(
        &mut self,
        args: Option<&Arguments>,
        skip: Option<BodyArg>,
    ) -> Vec<Option<Place>> {
        let mut places = Vec::new();
        self.arg_types.clear();
        self.kw_places.clear();
        self.lent_vars.clear();
        let to_project = std::mem::take(&mut self.args_to_project);
        let special = self.special_arg.take();
        let mut special_ty = None;
        self.special_arg_ty = None;
        let into = self.args_into.take();
        let lent_keywords = std::mem::take(&mut self.lent_keywords);
        let mut lent = Vec::new();
        self.arg_fns.clear();
        let Some(args) = args else {
            return places;
        };
        let mut starred = false;
        let mut types = Vec::new();
        let mut fns = Vec::new();
        for (i, a) in args.args.iter().enumerate() {
            if skip == Some(BodyArg::Pos(i)) {
                continue;
            }
            starred |= matches!(a, Expr::Starred(_));
            let handed = if starred || places.len() >= 64 {
                None
            } else {
                self.handed_fn(a)
            };
            let v = if to_project {
                self.handed_on(a)
            } else if special == Some(i) {
                // Only looked at by the builtin: its type tells which methods it calls.
                self.expr(a, Dest::Read)
            } else {
                self.expr(a, Dest::Keep)
            };
            if let Some(Place::Cell(cell)) = into {
                // Kept in a container the flow follows by its cell, and handed on as before.
                self.store_element(a.range(), cell, v.place);
                self.flow_escape(a.range(), v.place);
            } else if let Some(c) = into {
                self.flow_assign(a.range(), Some(c), v.place);
            } else if !to_project && !self.inspecting {
                self.flow_escape(a.range(), v.place);
            }
            // A method or an attribute of a followed value handed on
            // (`stack.push_async_callback(client.aclose)`) may close it there.
            if v.base != v.place && !self.inspecting {
                self.flow_escape(a.range(), v.base);
            }
            if !starred {
                if special == Some(i) {
                    special_ty = v.ty.clone().filter(|t| is_project_type(t));
                }
                if let Some(t) = v.ty.filter(|t| is_class_instance(t))
                    && places.len() < 64
                {
                    types.push((places.len() as u8, self.intern(&t)));
                }
                if let Some(h) = handed.filter(|h| self.is_handed(*h)) {
                    fns.push((places.len() as u32, h));
                }
                places.push(v.place);
            }
        }
        let mut kw_places = Vec::new();
        let mut kw_fns = Vec::new();
        for (i, kw) in args.keywords.iter().enumerate() {
            if skip == Some(BodyArg::Kw(i)) {
                continue;
            }
            let lends = kw
                .arg
                .as_ref()
                .is_some_and(|a| lent_keywords.iter().any(|k| k == a.as_str()));
            let handed = match &kw.arg {
                Some(name) => self.handed_fn(&kw.value).map(|h| (name.id.as_str(), h)),
                None => None,
            };
            let place = if to_project {
                self.handed_on(&kw.value).place
            } else if lends {
                if let Expr::Name(n) = &kw.value
                    && let NameRes::Var(v) = self.resolve_name(n.id.as_str())
                    && self.ir.vars[v.0 as usize].kind == VarKind::Resource
                {
                    lent.push(v);
                }
                self.expr(&kw.value, Dest::Read).place
            } else {
                let place = self.arg_value(&kw.value);
                if !to_project && !self.inspecting {
                    self.flow_escape(kw.value.range(), place);
                }
                place
            };
            if let (Some(name), Some(place)) = (&kw.arg, place) {
                kw_places.push((name.id.clone(), place));
            }
            if let Some((name, h)) = handed.filter(|(_, h)| self.is_handed(*h)) {
                kw_fns.push((super::ir::KEYWORD | self.intern(name), h));
            }
        }
        self.kw_places = kw_places;
        self.lent_vars = lent;
        // Set last: the keywords' own calls lower arguments too.
        self.arg_types = types;
        self.special_arg_ty = special_ty;
        fns.extend(kw_fns);
        self.arg_fns = fns;
        places
    }

    /// Lowers an argument of a call of a project function: a module global named there is
    /// handed on, and used (or not) where the callee uses its parameter.
    fn handed_on(&mut self, a: &Expr) -> Val {
        if let Expr::Name(n) = a {
            match self.resolve_name(n.id.as_str()) {
                NameRes::GlobalAlias(_) => {}
                NameRes::Path(p) if self.is_project_path(&p) => {
                    self.pending_ref(n.range, &p, RefKind::HandedOn);
                }
                NameRes::Fixture => {
                    self.pending_fixture(n.range, n.id.as_str(), RefKind::HandedOn);
                }
                // A client handed on by name is lent: the flow follows it into the callee.
                NameRes::Var(v) if self.ir.vars[v.0 as usize].kind == VarKind::Resource => {
                    let fid = self.scope().fn_id as usize;
                    let at = self.ir.functions[fid].func.events.len();
                    let val = self.expr(a, Dest::Keep);
                    if let Some(ev) = self.ir.functions[fid].func.events.get_mut(at)
                        && matches!(ev.kind, crate::model::EventKind::Escape { var } if var == v)
                    {
                        ev.kind = crate::model::EventKind::Lend { var: v };
                    }
                    return val;
                }
                _ => return self.expr(a, Dest::Keep),
            }
            return Val {
                ty: self.type_of_name(n.id.as_str()),
                place: self.name_place(n.id.as_str()),
                ..Val::default()
            };
        }
        self.expr(a, Dest::Keep)
    }

    /// Lowers one argument (a function named here is used as a value: the linker sees the
    /// reference); returns its flow place.
    fn arg_value(&mut self, a: &Expr) -> Option<Place> {
        self.expr(a, Dest::Keep).place
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
        if api.keyword_only {
            return None;
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
        let mut target_call = false;
        // What a block-on hands back is what its body returns: the type of the awaited call.
        let mut body_ty: Option<String> = None;
        match body {
            Some((_, Expr::Call(c))) if is_async && self.hoists_arguments(c) => {
                // The coroutine's arguments are evaluated by the calling code, before the loop
                // runs it; coroutines built among them still run on the loop.
                // Names passed along are handed to the coroutine and used where it runs.
                // Functions passed to it run where it calls them; coroutines built earlier
                // and passed by name run on the loop too.
                let mut fns = Vec::new();
                let mut built = Vec::new();
                for (i, a) in c.arguments.args.iter().enumerate() {
                    if matches!(a, Expr::Starred(_)) || i >= 64 {
                        break;
                    }
                    if let Some(h) = self.handed_fn(a).filter(|h| self.is_handed(*h)) {
                        fns.push((i as u32, h));
                    }
                }
                for k in c.arguments.keywords.iter() {
                    if let Some(name) = &k.arg
                        && let Some(h) = self.handed_fn(&k.value).filter(|h| self.is_handed(*h))
                    {
                        fns.push((super::ir::KEYWORD | self.intern(name.id.as_str()), h));
                    }
                }
                for a in c
                    .arguments
                    .args
                    .iter()
                    .chain(c.arguments.keywords.iter().map(|k| &k.value))
                {
                    if let Expr::Name(n) = a
                        && let Some(h) = self.built_coro(n.id.as_str())
                    {
                        built.push(h);
                    }
                }
                let saved = (self.hoist_depth, std::mem::take(&mut self.hoisted));
                self.hoist_depth = Some(self.scopes.len());
                let values = || {
                    c.arguments
                        .args
                        .iter()
                        .chain(c.arguments.keywords.iter().map(|k| &k.value))
                };
                // What a call among the positional arguments gives (an instance a
                // constructor makes) is handed to the coroutine like a name's value.
                let mut made = vec![None; c.arguments.args.len()];
                for (i, a) in values().enumerate() {
                    if let Expr::Call(call) = a {
                        let v = self.expr(a, Dest::Keep);
                        if let Some(slot) = made.get_mut(i) {
                            let ty = v.ty.or_else(|| self.built_instance(call));
                            *slot = Some((v.place, ty.filter(|t| is_class_instance(t))));
                        }
                    }
                }
                let mut hoisted = std::mem::replace(&mut self.hoisted, saved.1);
                hoisted.extend(built);
                self.hoist_depth = saved.0;
                self.scopes.push(scope);
                let mut places = Vec::new();
                for (i, a) in c.arguments.args.iter().enumerate() {
                    match a {
                        Expr::Starred(_) => break,
                        Expr::Name(n) => {
                            self.note_name_type(places.len(), n.id.as_str());
                            places.push(self.name_place(n.id.as_str()));
                        }
                        Expr::Call(_) => {
                            let (place, ty) = made[i].take().unwrap_or_default();
                            if let Some(t) = ty
                                && places.len() < 64
                            {
                                let id = self.intern(&t);
                                self.flow_arg_types.push((places.len() as u8, id));
                            }
                            places.push(place);
                        }
                        _ => places.push(self.passed_place(a)),
                    }
                }
                self.flow_kwargs = c
                    .arguments
                    .keywords
                    .iter()
                    .filter_map(|k| {
                        Some((k.arg.as_ref()?.id.clone(), self.passed_place(&k.value)?))
                    })
                    .collect();
                self.flow_args = Some(places);
                self.flow_arg_fns = fns;
                self.flow_passed = super::flow::passed_shape(&c.arguments);
                let v = self.call_with(&c.func, None, c.range(), Dest::Await);
                self.flow_passed = None;
                body_ty = v.ty.clone();
                self.flow_args = None;
                self.flow_arg_fns.clear();
                self.flow_arg_types.clear();
                self.flow_kwargs.clear();
                self.body_returns(c.range(), v.place);
                self.emit_hoisted(hoisted);
                let to_project = self
                    .qualify(&c.func)
                    .is_some_and(|p| self.is_project_path(&p));
                for a in values().filter(|a| !matches!(a, Expr::Call(_))) {
                    if to_project {
                        self.handed_on(a);
                    } else {
                        self.arg_value(a);
                    }
                }
                self.scopes.pop();
            }
            _ if let Some(call) = body.and_then(|(_, e)| self.api_target_call(e, args)) => {
                // `Thread(target=trio.run, args=(main,))`: the thread makes the call.
                self.scopes.push(scope);
                let v = self.call(&call, Dest::Await);
                self.body_returns(call.range(), v.place);
                self.scopes.pop();
                target_call = true;
            }
            _ => {
                // `Thread(target=f, args=(a, b))`: the callable gets the tuple's values.
                let passed = args.and_then(|a| {
                    let kw = a
                        .keywords
                        .iter()
                        .find(|k| k.arg.as_ref().is_some_and(|n| n.id.as_str() == "args"))?;
                    let Expr::Tuple(t) = &kw.value else {
                        return None;
                    };
                    let mut places = Vec::new();
                    for e in &t.elts {
                        match e {
                            Expr::Starred(_) => break,
                            Expr::Name(n) => {
                                self.note_name_type(places.len(), n.id.as_str());
                                places.push(self.name_place(n.id.as_str()));
                            }
                            _ => places.push(self.passed_place(e)),
                        }
                    }
                    Some(places)
                });
                let passed = match (passed, args) {
                    (None, Some(a)) => self.passed_by_api(api, a, body),
                    (passed, _) => passed,
                };
                self.scopes.push(scope);
                if let Some((_, e)) = body {
                    self.flow_args = passed;
                    let place = match e {
                        // `anyio.run(fn, *args)`: what the function's coroutine returns.
                        Expr::Name(_) | Expr::Attribute(_) if how == RunKind::BlockOn => {
                            let v = self.call_with(e, None, e.range(), Dest::Await);
                            body_ty = v.ty;
                            v.place
                        }
                        Expr::Call(c)
                            if how == RunKind::BlockOn
                                && self
                                    .qualify(&c.func)
                                    .is_none_or(|p| p != "functools.partial") =>
                        {
                            let v = self.call(c, Dest::Await);
                            body_ty = v.ty;
                            v.place
                        }
                        _ => self.invoke(e),
                    };
                    self.flow_args = None;
                    self.flow_arg_types.clear();
                    self.flow_arg_types.clear();
                    self.body_returns(e.range(), place);
                }
                self.scopes.pop();
            }
        }
        match args {
            // The call's arguments were lowered with it.
            Some(a) if target_call => {
                let mut rest = a.clone();
                rest.keywords
                    .retain(|k| k.arg.as_ref().is_none_or(|n| n.id.as_str() != "args"));
                self.lower_args(Some(&rest), body.map(|(b, _)| b));
            }
            _ => {
                self.lower_args(args, body.map(|(b, _)| b));
            }
        }
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
        if how == RunKind::BlockOn && val.ty.is_none() {
            val.ty = body_ty.filter(|t| super::types::is_project_type(t));
        }
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
        // A body the library runs once per item sits in a loop of the library's own.
        let per_item = u16::from(api.per_item);
        self.scope_mut().loop_depth += per_item;
        self.emit(
            range,
            crate::model::EventKind::Run {
                body: FnId(id),
                how,
                runtime,
                handle,
                api: api.path.as_str().into(),
            },
        );
        self.scope_mut().loop_depth -= per_item;
        if how == RunKind::BlockOn {
            val.place = self.run_result(range);
        }
        // A task handed on at once (`tasks.append(asyncio.create_task(..))`) is followed.
        if how == RunKind::Spawn && matches!(dest, Dest::Keep) {
            val.place = self.made(range);
        }
        val
    }

    /// What an API that runs a callable passes it from the positional arguments after the
    /// callable (the knowledge base's `passes`): those arguments (`submit(f, a)`), or the
    /// elements of each iterable (`map(f, items)`), one place per parameter.
    fn passed_by_api(
        &mut self,
        api: &Api,
        args: &Arguments,
        body: Option<(BodyArg, &Expr)>,
    ) -> Option<Vec<Option<Place>>> {
        let passes = api.passes?;
        let Some((BodyArg::Pos(i), _)) = body else {
            return None;
        };
        let mut places = Vec::new();
        for e in args.args.iter().skip(i + 1) {
            if matches!(e, Expr::Starred(_)) || places.len() >= 64 {
                break;
            }
            let place = match (passes, e) {
                (Passes::Rest, Expr::Name(n)) => {
                    self.note_name_type(places.len(), n.id.as_str());
                    self.name_place(n.id.as_str())
                }
                (Passes::Rest, _) => self.passed_place(e),
                (Passes::Items, _) => self.items_place(e),
            };
            places.push(place);
        }
        places.iter().any(Option::is_some).then_some(places)
    }

    /// A place holding the elements of the iterable `e`: the followed values a list, tuple or
    /// set display names, or the elements of a container the flow follows.
    fn items_place(&mut self, e: &Expr) -> Option<Place> {
        let elts = match e {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            Expr::Set(s) => &s.elts,
            _ => return self.iterated_elements(e),
        };
        let mut found = Vec::new();
        for elt in elts {
            if matches!(elt, Expr::Starred(_)) {
                return None;
            }
            if let Some(p) = self.passed_place(elt)
                && !found.contains(&p)
            {
                found.push(p);
            }
        }
        match found.as_slice() {
            [] => None,
            [one] => Some(*one),
            _ => {
                let to = self.temp();
                for p in found {
                    self.flow_assign(e.range(), Some(to), Some(p));
                }
                Some(to)
            }
        }
    }

    /// `Thread(target=api, args=(a, b))` where `api` is a library API that runs a body
    /// (`trio.run`, `asyncio.run`): the call `api(a, b)` the thread makes.
    fn api_target_call(&self, target: &Expr, args: Option<&Arguments>) -> Option<ExprCall> {
        if !matches!(target, Expr::Name(_) | Expr::Attribute(_)) {
            return None;
        }
        let path = self.qualify(target)?;
        if self.is_project_path(&path)
            || !self
                .cx
                .apis(&path)
                .iter()
                .any(|a| body_kind(a.concept).is_some())
        {
            return None;
        }
        let kw = args?
            .keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|n| n.id.as_str() == "args"))?;
        let Expr::Tuple(t) = &kw.value else {
            return None;
        };
        if t.elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
            return None;
        }
        Some(ExprCall {
            node_index: ruff_python_ast::AtomicNodeIndex::NONE,
            range_start: target.range().start(),
            func: Box::new(target.clone()),
            arguments: Arguments {
                range: kw.value.range(),
                node_index: ruff_python_ast::AtomicNodeIndex::NONE,
                args: t.elts.to_vec().into_boxed_slice(),
                keywords: Default::default(),
            },
        })
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

    /// `s.setblocking(False)` / `s.settimeout(0)` on a local name: later calls on it return at
    /// once (raising `BlockingIOError`) instead of blocking.
    fn note_nonblocking(&mut self, func: &Expr, args: Option<&Arguments>) {
        let (Expr::Attribute(a), Some(args)) = (func, args) else {
            return;
        };
        let Expr::Name(n) = &*a.value else { return };
        let off = match (a.attr.id.as_str(), args.args.first()) {
            ("setblocking", Some(Expr::BooleanLiteral(b))) => !b.value,
            ("setblocking" | "settimeout", Some(Expr::NumberLiteral(x))) => {
                matches!(&x.value, ruff_python_ast::Number::Int(i) if i.as_u8() == Some(0))
                    || matches!(&x.value, ruff_python_ast::Number::Float(f) if *f == 0.0)
            }
            _ => false,
        };
        if off && !self.at_module_level() {
            self.scope_mut().nonblocking.insert(n.id.clone());
        }
    }

    /// `await wait_readable(sock)`: a socket whose readiness the code waits for is one it
    /// drives in non-blocking mode (the knowledge base's `readies`, by path or by name, since
    /// such waits are also passed around as values).
    fn note_readiness(&mut self, func: &Expr, path_apis: &[&Api], args: Option<&Arguments>) {
        let Some(args) = args else { return };
        let name = match func {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) => a.attr.id.as_str(),
            _ => return,
        };
        let methods = match self.cx.methods.contains(name) {
            true => self.cx.method_apis(name),
            false => Vec::new(),
        };
        for n in path_apis.iter().chain(&methods).filter_map(|a| a.readies) {
            if let Some(Expr::Name(sock)) = args.args.get(n as usize)
                && !self.at_module_level()
            {
                self.scope_mut().nonblocking.insert(sock.id.clone());
            }
        }
    }

    /// `name = f(.., SOCK_DGRAM)`, `with f(.., SOCK_DGRAM) as name`: remembers the upper-case
    /// constants the call names for the calls later made on `name` (a rebinding forgets them).
    fn note_made_with(&mut self, args: Option<&Arguments>, dest: Dest<'_>) {
        let name = match dest {
            Dest::Bind(n, _) | Dest::With(Some(n)) => n,
            _ => return,
        };
        if self.at_module_level() {
            return;
        }
        let mut flags = Vec::new();
        if let Some(args) = args {
            for e in args
                .args
                .iter()
                .chain(args.keywords.iter().map(|k| &k.value))
            {
                super::guards::constants_named(e, &mut flags, 0);
            }
        }
        let scope = self.scope_mut();
        if flags.is_empty() {
            scope.made_with.remove(name);
        } else {
            scope.made_with.insert(Name::new(name), flags);
        }
    }

    /// Whether a local name holds a socket put in non-blocking mode in this body or an
    /// enclosing one.
    fn is_nonblocking(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.nonblocking.contains(name))
    }

    /// Whether the callee asserts that a callable it is given fails (`pytest.raises(E, f)`,
    /// `self.assertRaises(E, f, *args)`).
    fn asserts_failure(&self, callee: &Callee, path_apis: &[&Api]) -> bool {
        let expects = |apis: &[&Api]| apis.iter().any(|a| a.concept == Concept::ExpectsFailure);
        expects(path_apis)
            || callee
                .method
                .is_some_and(|m| expects(&self.cx.method_apis(m)))
    }

    /// `assertRaises(E, f, *args)`: the callable is called here, with the rest of the
    /// arguments, and the test expects the call to fail with `E`.
    fn call_asserting_failure(&mut self, args: &Arguments, range: TextRange) {
        let one = |e: &Expr| match e {
            Expr::Name(n) => Some(n.id.to_string()),
            Expr::Attribute(a) => Some(a.attr.id.to_string()),
            _ => None,
        };
        let what = match &args.args[0] {
            Expr::Tuple(t) => t.elts.iter().filter_map(one).collect(),
            other => one(other).into_iter().collect(),
        };
        self.emit(
            range,
            crate::model::EventKind::ExpectsFailure {
                what,
                how: crate::model::Asserted::Fails,
            },
        );
        self.expr(&args.args[0], Dest::Read);
        // The callable is called with the remaining arguments: a loop's `run_until_complete`
        // runs the coroutine it is given there.
        let mut rest = args.clone();
        rest.args = args.args[2..].to_vec().into_boxed_slice();
        let f = &args.args[1];
        self.call_with(f, Some(&rest), f.range(), Dest::Discard);
    }

    /// Whether the arguments of the coroutine call `c` handed to a loop are lowered in the
    /// calling code: the callee is a coroutine function of the project, not a library API that
    /// takes a body itself.
    fn hoists_arguments(&self, c: &ExprCall) -> bool {
        if c.arguments.args.is_empty() && c.arguments.keywords.is_empty() {
            return false;
        }
        if let Expr::Attribute(a) = &*c.func
            && self.cx.methods.contains(a.attr.id.as_str())
        {
            return false;
        }
        match self.qualify(&c.func) {
            Some(p) => self.cx.apis(&p).is_empty() && p != "functools.partial",
            None => true,
        }
    }

    /// Lowers a body expression as it is run: a coroutine expression, or a callable invoked.
    /// Returns the place of what it returns, when known.
    fn invoke(&mut self, e: &Expr) -> Option<Place> {
        match e {
            Expr::Call(c) => {
                let partial = self
                    .qualify(&c.func)
                    .is_some_and(|p| p == "functools.partial");
                match (partial, c.arguments.args.first()) {
                    (true, Some(first)) => {
                        // The partial's bound arguments come first, then those the caller
                        // passes (`Thread(target=partial(f, a), args=(b,))`).
                        let mut places = Vec::new();
                        let before = self.flow_arg_types.len();
                        for a in c.arguments.args.iter().skip(1) {
                            match a {
                                Expr::Starred(_) => break,
                                Expr::Name(n) => {
                                    self.note_name_type(places.len(), n.id.as_str());
                                    places.push(self.name_place(n.id.as_str()));
                                }
                                _ => places.push(self.passed_place(a)),
                            }
                        }
                        let bound = places.len();
                        for t in self.flow_arg_types.iter_mut().take(before) {
                            t.0 = t.0.saturating_add(bound as u8);
                        }
                        let outer = self.flow_args.take();
                        if !places.is_empty() || outer.is_some() {
                            places.extend(outer.into_iter().flatten());
                            self.flow_args = Some(places);
                        }
                        self.invoke(first);
                        self.flow_args = None;
                        for a in c.arguments.args.iter().skip(1) {
                            let v = self.expr(a, Dest::Keep);
                            self.flow_escape(a.range(), v.place);
                        }
                        None
                    }
                    _ => self.call(c, Dest::Await).place,
                }
            }
            Expr::Name(n) if self.in_async() && self.built_coro(n.id.as_str()).is_some() => {
                // A coroutine the calling code built earlier (`c = job(); asyncio.run(c)`).
                let h = self.built_coro(n.id.as_str());
                self.emit_hoisted(h.into_iter().collect());
                None
            }
            Expr::Name(_) | Expr::Attribute(_) => {
                self.call_with(e, None, e.range(), Dest::Await);
                None
            }
            Expr::Lambda(l) => {
                if let Some(p) = &l.parameters {
                    let scope = self.scope_mut();
                    for p in p.iter() {
                        scope.locals.insert(p.name().id.clone());
                    }
                }
                self.expr(&l.body, Dest::Await);
                None
            }
            other => {
                self.expr(other, Dest::Await);
                None
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
            // An explicit `loop=` names the loop instead (`ensure_future(coro, loop=loop)`).
            RuntimeArg::Current => match args.and_then(loop_keyword) {
                None => RuntimeRef::Current,
                Some(Expr::Name(n)) => match self.resolve_name(n.id.as_str()) {
                    NameRes::Var(v) => RuntimeRef::Var(v),
                    _ => RuntimeRef::Unknown,
                },
                Some(_) => RuntimeRef::Unknown,
            },
            // No Python API takes its loop as a first argument this way.
            RuntimeArg::Argument => RuntimeRef::Unknown,
            RuntimeArg::Receiver => {
                if let Some(r) = callee.recv_runtime {
                    return r;
                }
                if callee.method.is_some()
                    && is_method_api(api)
                    && !matches!(callee.recv, Recv::Project(_))
                {
                    return RuntimeRef::Unknown;
                }
                // A plain function taking the loop as an argument (`run_coroutine_threadsafe`).
                match loop_arg(api, args) {
                    Some(Expr::Name(n)) => match self.resolve_name(n.id.as_str()) {
                        NameRes::Var(v) => RuntimeRef::Var(v),
                        _ => RuntimeRef::Unknown,
                    },
                    _ => RuntimeRef::Unknown,
                }
            }
        }
    }
}

/// Builtins that only look at their arguments: handing a container to them hands none of its
/// values on.
const INSPECTING_BUILTINS: &[&str] = &["bool", "id", "isinstance", "len", "print", "repr", "str"];

/// Whether an API is a method of a type (`asyncio.AbstractEventLoop.run_until_complete`) rather
/// than a function of a module (`asyncio.run_coroutine_threadsafe`).
/// The type path of a method of the parameter `k` of function `f` (`^f:k.method`), typed by
/// the callers' arguments at link time; built without the formatting machinery.
fn param_method(f: u32, k: u32, method: &str) -> String {
    let mut s = String::with_capacity(method.len() + 24);
    s.push('^');
    push_u32(&mut s, f);
    s.push(':');
    push_u32(&mut s, k);
    s.push('.');
    s.push_str(method);
    s
}

/// Appends the decimal digits of `n`.
fn push_u32(s: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        s.push(char::from(d));
    }
}

fn is_method_api(api: &Api) -> bool {
    api.path
        .rsplit('.')
        .nth(1)
        .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The loop a plain function taking one as an argument runs its body on: the `loop` keyword,
/// or the argument right after the body (`run_coroutine_threadsafe(coro, loop)`).
fn loop_arg<'a>(api: &Api, args: Option<&'a Arguments>) -> Option<&'a Expr> {
    if api.runtime != RuntimeArg::Receiver || is_method_api(api) {
        return None;
    }
    let args = args?;
    loop_keyword(args).or_else(|| args.args.get(api.arg as usize + 1))
}

/// The value of a call's `loop=` keyword.
fn loop_keyword(args: &Arguments) -> Option<&Expr> {
    args.keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == "loop"))
        .map(|k| &k.value)
}

/// Which argument holds an API's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyArg {
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
        Concept::CallsInPlace => Some(RunKind::Inline),
        _ => None,
    }
}

impl Lowerer<'_> {
    /// `e`, when a call, is consumed where it is made (see [`Lowerer::consumed_calls`]).
    pub(super) fn note_consumed(&mut self, e: &Expr) {
        if let Expr::Call(c) = e {
            self.consumed_calls.push(c.range());
        }
    }

    /// The project function an argument passes, if it passes one: a function's name, a
    /// nested function, a lambda (made when the argument is lowered: its index is the next
    /// one), a bound method, or any of these through `functools.partial`.
    pub(super) fn handed_fn(&mut self, a: &Expr) -> Option<HandedFn> {
        match a {
            Expr::Lambda(_) => Some(HandedFn::Local(self.ir.functions.len() as u32)),
            Expr::Name(n) if let Some((owner, index)) = self.param_of(n.id.as_str()) => {
                Some(HandedFn::Param(owner, index))
            }
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                NameRes::LocalFn(f) => Some(HandedFn::Local(f)),
                NameRes::Path(p)
                    if let Some((target, _)) = self.partial_of(n.id.as_str(), &p)
                        && self.is_project_path(&target) =>
                {
                    Some(HandedFn::Path(self.intern(&target)))
                }
                NameRes::Path(p) if self.is_project_path(&p) => {
                    Some(HandedFn::Path(self.intern(&p)))
                }
                _ => None,
            },
            // A bound method: of `self`, of a name holding an instance of a project class, or
            // of an instance built right there (`Store().refresh`).
            Expr::Attribute(at) => {
                let owner = match &*at.value {
                    Expr::Name(base) => self.method_self(base.id.as_str()).or_else(|| {
                        self.type_of_name(base.id.as_str())
                            .filter(|t| is_class_instance(t))
                    }),
                    Expr::Call(c) => self.built_instance(c),
                    _ => None,
                }?;
                Some(HandedFn::Path(
                    self.intern(&dotted(&owner, at.attr.id.as_str())),
                ))
            }
            Expr::Call(c)
                if c.arguments.keywords.is_empty()
                    && self
                        .qualify(&c.func)
                        .is_some_and(|p| p == "functools.partial") =>
            {
                self.handed_fn(c.arguments.args.first()?)
            }
            _ => None,
        }
    }

    /// What a call of the module name `name` (resolved to `path`) calls when the module binds
    /// it to `functools.partial(f, ..)`: the path of `f`, and the positional arguments the
    /// partial binds.
    fn partial_of(&self, name: &str, path: &str) -> Option<(String, u8)> {
        let (target, k) = self.module_partials.get(name)?;
        (path == self.module_path(name)).then(|| (target.to_string(), *k))
    }

    /// Sync code binding what a project function or method returns may hold a coroutine it
    /// only built: the call is kept with the name, to run where the name is handed to a loop.
    fn note_built_coro(&mut self, dest: Dest<'_>, range: TextRange, path: &str, kind: RefKind) {
        if let Dest::Bind(name, _) = dest
            && !self.in_async()
        {
            let what = super::ir::Pending::Ref {
                path: self.intern(path),
                kind,
            };
            self.scope_mut()
                .coros
                .insert(Name::new(name), super::lower::Hoisted::Ref(range, what));
        }
    }

    /// The call that built the coroutine a name of sync code holds (`c = job()`), looked up
    /// from the innermost scope out; `None` when the name is bound to anything else.
    fn built_coro(&self, name: &str) -> Option<super::lower::Hoisted> {
        for scope in self.scopes.iter().rev() {
            if let Some(h) = scope.coros.get(name) {
                return Some(h.clone());
            }
            if scope.flow_names.contains_key(name) || scope.locals.contains(name) {
                return None;
            }
        }
        None
    }

    /// Whether a handed function is there once its argument is lowered (a lambda's body is).
    fn is_handed(&self, h: HandedFn) -> bool {
        match h {
            HandedFn::Local(f) => self
                .ir
                .functions
                .get(f as usize)
                .is_some_and(|f| f.func.kind == FnKind::Closure || f.func.kind == FnKind::Named),
            HandedFn::Path(_) | HandedFn::Param(..) => true,
        }
    }

    /// Records the functions among the arguments of the call just made: the last pending
    /// reference, or (`event`) the call event of a nested function (`shift`: positions taken
    /// before the call's own arguments, such as a receiver).
    fn note_arg_fns(&mut self, event: Option<u32>, fns: Vec<(u32, HandedFn)>, shift: u8) {
        let call = match event {
            Some(e) => e,
            None => match self.last_pending() {
                Some(p) => p,
                None => return,
            },
        };
        let fid = self.scope().fn_id as usize;
        for (pos, h) in fns {
            // A keyword names its parameter whatever comes before.
            let pos = match pos & super::ir::KEYWORD {
                0 => pos + u32::from(shift),
                _ => pos,
            };
            self.ir.functions[fid].handed.push((call, pos, h));
        }
    }

    /// Records, for the call just made pending, the arguments that are instances of project
    /// classes (`shift`: positions taken before the call's own arguments, such as a receiver).
    fn note_arg_types(&mut self, types: &[(u8, u32)], shift: u8) {
        let Some(pi) = self.last_pending() else {
            return;
        };
        let pi = pi & !super::flow::PENDING;
        let fid = self.scope().fn_id as usize;
        for &(pos, path) in types {
            if let Some(pos) = pos.checked_add(shift) {
                self.ir.functions[fid].arg_types.push((pi, pos, path));
            }
        }
    }

    /// The instance type of what a call of a project callable gives (`Store()`).
    fn built_instance(&self, c: &ruff_python_ast::ExprCall) -> Option<String> {
        self.qualify(&c.func)
            .filter(|p| self.is_project_path(p))
            .map(|p| instance_of(&p))
    }

    /// Notes the type of the name passed at `pos` to a body run by an API, when it is an
    /// instance of a project class.
    fn note_name_type(&mut self, pos: usize, name: &str) {
        if pos >= 64 {
            return;
        }
        if let Some(t) = self
            .type_ref(name)
            .filter(|t| is_class_instance(t))
            .map(str::to_string)
        {
            let id = self.intern(&t);
            self.flow_arg_types.push((pos as u8, id));
        }
    }

    /// Records the literal arguments of a call that may be of a project function, for the
    /// analysis to enter the callee with them.
    fn note_call_args(
        &mut self,
        func: &Expr,
        args: Option<&Arguments>,
        range: TextRange,
        callee: &Callee<'_>,
        api: bool,
    ) {
        let Some(args) = args else { return };
        // A partial's own arguments follow the ones it binds, whose values are not known.
        if callee.partial_args > 0 {
            return;
        }
        if callee.local_fn.is_none() && api {
            return;
        }
        // Only a call that may reach a function of the project binds its parameters: one of a
        // nested function, of a parameter, of a method of a typed receiver, or of a project
        // path (a library function or a method of a value of unknown type calls none).
        if callee.local_fn.is_none()
            && callee.param.is_none()
            && callee.typed.is_none()
            && !callee
                .path
                .as_deref()
                .is_some_and(|p| self.is_project_path(p))
        {
            return;
        }
        let (receiver, known) = match (callee.bound, func) {
            (Some(b), _) => (b, true),
            (None, Expr::Name(_)) => (false, true),
            _ => (false, false),
        };
        let span = self.span(range);
        let scope = self.scopes.last().expect("a scope is always open");
        let passes_param = super::guards::push_call_args(
            &mut self.ir.call_args,
            span,
            args,
            receiver,
            known,
            &scope.param_info,
            &scope.rebound,
        );
        // A function that passes its parameters on needs them bound by its own callers.
        let fid = scope.fn_id as usize;
        if passes_param == Some(true) && self.ir.functions[fid].func.params.is_empty() {
            self.ir.functions[fid].func.params = scope.param_info.clone();
        }
    }
}
