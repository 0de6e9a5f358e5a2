//! Calls: package calls left symbolic, and calls the knowledge base knows, whose nested
//! bodies become `Run` events and whose concepts add their events; macro bodies.

use std::sync::Arc;

use syn::Expr;
use syn::punctuated::Punctuated;
use syn::token::Comma;

use super::flow::{fills_or_counts, inspects, lazily, moves_out, projects, stores, uses};
use super::typing::{self, ctor_fallback, ret_of};
use super::{CLOSED, Lowerer, Origin, PendKind, Val, asserts, last_seg, parent_path, strip};
use crate::frontend::rust::ir::{Anchor, FKind, ItemIr, Target, TypeRef};
use crate::frontend::rust::macros::{self, MacroBody};
use crate::frontend::rust::resolve::Res;
use crate::frontend::rust::spans;
use crate::frontend::rust::types::{self, path_segs};
use crate::kb::{Api, Concept, Match, RuntimeArg};
use crate::model::{
    Drivers, EventKind, FactKind, Flavor, FnKind, HandleFate, Place, ResourceRef, RunKind,
    RuntimeRef, Span, VarId, VarKind,
};

/// Method names too common to resolve by name alone.
const COMMON_METHODS: &[&str] = &[
    "abort",
    "accept",
    "add",
    "all",
    "and",
    "and_then",
    "any",
    "append",
    "apply",
    "as_bytes",
    "as_mut",
    "as_ref",
    "as_str",
    "await",
    "begin",
    "bind",
    "borrow",
    "borrow_mut",
    "build",
    "bytes",
    "call",
    "cancel",
    "capacity",
    "chain",
    "chars",
    "clear",
    "clone",
    "cloned",
    "close",
    "cmp",
    "collect",
    "commit",
    "config",
    "connect",
    "contains",
    "contains_key",
    "copied",
    "count",
    "data",
    "dedup",
    "default",
    "delete",
    "deref",
    "deref_mut",
    "dispatch",
    "drain",
    "drop",
    "emit",
    "entry",
    "enumerate",
    "eq",
    "err",
    "error",
    "exec",
    "execute",
    "expect",
    "extend",
    "fetch",
    "filter",
    "filter_map",
    "find",
    "finish",
    "first",
    "flat_map",
    "flatten",
    "flush",
    "fmt",
    "fold",
    "for_each",
    "from",
    "get",
    "get_mut",
    "get_or_init",
    "handle",
    "hash",
    "id",
    "init",
    "insert",
    "into",
    "into_inner",
    "into_iter",
    "is_empty",
    "is_err",
    "is_none",
    "is_ok",
    "is_some",
    "iter",
    "iter_mut",
    "join",
    "key",
    "keys",
    "kind",
    "last",
    "len",
    "lines",
    "listen",
    "load",
    "lock",
    "map",
    "map_err",
    "max",
    "min",
    "name",
    "new",
    "next",
    "notify",
    "ok",
    "ok_or",
    "ok_or_else",
    "open",
    "or",
    "or_else",
    "parse",
    "partial_cmp",
    "peek",
    "poll",
    "poll_close",
    "poll_flush",
    "poll_next",
    "poll_read",
    "poll_ready",
    "poll_shutdown",
    "poll_write",
    "pop",
    "position",
    "prepare",
    "process",
    "publish",
    "push",
    "push_str",
    "query",
    "read",
    "read_exact",
    "read_line",
    "read_to_end",
    "read_to_string",
    "ready",
    "recv",
    "remove",
    "replace",
    "request",
    "reset",
    "retain",
    "rev",
    "rollback",
    "run",
    "save",
    "seek",
    "send",
    "serve",
    "set",
    "setup",
    "shutdown",
    "size",
    "skip",
    "sort",
    "sort_by",
    "spawn",
    "split",
    "start",
    "state",
    "status",
    "step",
    "step_by",
    "stop",
    "store",
    "submit",
    "subscribe",
    "sum",
    "take",
    "teardown",
    "tick",
    "to_owned",
    "to_string",
    "to_vec",
    "trim",
    "truncate",
    "try_from",
    "try_into",
    "try_recv",
    "unwrap",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "update",
    "value",
    "values",
    "wait",
    "with",
    "write",
    "write_all",
    "write_fmt",
    "write_vectored",
    "zip",
];

/// Whether a method name is too common to resolve by name alone.
pub(crate) fn is_common_method(name: &str) -> bool {
    COMMON_METHODS.binary_search(&name).is_ok()
}

/// Whether a macro body has a `(`, `|`, `{` or `.await` outside string literals.
fn has_code_outside_strings(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    if body[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'|' | b'{' => return true,
            b'.' if body[i + 1..].starts_with(b"await") => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

impl<'a> Lowerer<'a, '_> {
    // ----------------------------------------------------------------- calls

    pub(super) fn recv_ref(&self, origin: &Origin) -> RuntimeRef {
        match origin {
            Origin::Var(v) => RuntimeRef::Var(VarId(*v)),
            Origin::Handle(r) => *r,
            Origin::Unbound(f) => RuntimeRef::Fresh(*f),
            _ => RuntimeRef::Unknown,
        }
    }

    /// The runtime a plain argument names (`&rt`, `rt`, `handle`): that of the local it reads.
    fn arg_runtime(&self, arg: &Expr) -> RuntimeRef {
        let mut e = strip(arg);
        while let Expr::Reference(r) = e {
            e = strip(&r.expr);
        }
        match e {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup_ident(id))
                .map_or(RuntimeRef::Unknown, |(_, b)| self.recv_ref(&b.origin)),
            _ => RuntimeRef::Unknown,
        }
    }

    /// For a future wrapped by a method that polls it inside its receiver's runtime context
    /// (`rt2.wrap(fut)`), that runtime: the context the future's code runs in.
    fn wrapping_context(&self, arg: &Expr) -> Option<RuntimeRef> {
        let Expr::MethodCall(m) = strip(arg) else {
            return None;
        };
        let method = m.method.to_string();
        if !self.cx.kb.polls_in_receiver(&method) {
            return None;
        }
        let origin = match strip(&m.receiver) {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup_ident(id))
                .map(|(_, b)| b.origin.clone()),
            _ => None,
        };
        Some(origin.map_or(RuntimeRef::Unknown, |o| self.recv_ref(&o)))
    }

    /// Lowers a plain argument: its events, and a move of a runtime variable.
    pub(super) fn lower_arg(&mut self, arg: &Expr, hint: Option<TypeRef>) -> Val {
        let sending = self.sending.take();
        let v = self.lower_arg_inner(arg, hint);
        if let Some(ch) = sending {
            let span = self.sp2(spans::first(arg), spans::last(arg));
            self.flow_to(span, ch, v.place);
        }
        v
    }

    fn lower_arg_inner(&mut self, arg: &Expr, hint: Option<TypeRef>) -> Val {
        self.note_param_caught(arg);
        // A package function handed over by name runs wherever the callee runs it: like a
        // closure passed to that API.
        if let Expr::Path(p) = strip(arg)
            && p.qself.is_none()
            && self.lookup_path_binding(p).is_none()
            && matches!(self.resolve(&path_segs(&p.path)), Res::Fn(_) | Res::Pkg(_))
        {
            let (id, v) = self.lower_synthetic(arg, FnKind::Closure);
            let span = self.sp2(
                crate::frontend::rust::spans::first(arg),
                crate::frontend::rust::spans::last(arg),
            );
            let api = self.arg_api.clone();
            let at = self.emit_run_api(span, id, RunKind::Inline, api);
            self.handed(at);
            return v;
        }
        if let Expr::Closure(c) = strip(arg) {
            let (id, _) = self.lower_closure(c, hint, false);
            let span = self.sp(c.or1_token.span);
            let api = self.arg_api.clone();
            let at = self.emit_run_api(span, id, RunKind::Inline, api);
            self.handed(at);
            return Val::default();
        }
        // A future handed to a package function runs where that function runs the future it
        // is given (a helper that drives it on an executor): an async block, or the call of a
        // function of the package (linking keeps it when that function is async).
        let future_arg = matches!(
            strip(arg),
            Expr::Async(_) | Expr::Call(_) | Expr::MethodCall(_)
        );
        if future_arg
            && self.arg_target.is_some()
            && let Some(f) = self.cur_fn()
        {
            let before = self.ir.fns[f as usize].events.len();
            let v = self.lower_expr(arg);
            let events = &self.ir.fns[f as usize].events;
            let handed = match &v.origin {
                Origin::Body(body) => events[before..].iter().position(|e| {
                    matches!(&e.kind, FKind::Model(EventKind::Run { body: b, .. }) if b.0 == *body)
                }),
                _ => events[before..]
                    .iter()
                    .rposition(|e| matches!(e.kind, FKind::Ref { as_value: false, .. })),
            };
            if let Some(k) = handed {
                self.handed(Some((f, (before + k) as u32)));
            }
            self.escape_if_runtime(arg);
            return v;
        }
        let v = self.lower_expr(arg);
        self.escape_if_runtime(arg);
        v
    }

    /// A parameter handed on to an API that catches its failure (`catch_unwind(f)`) makes the
    /// function a helper that runs what it is given under that API.
    fn note_param_caught(&mut self, arg: &Expr) {
        let Expr::Path(p) = strip(arg) else { return };
        let Some(id) = p.path.get_ident() else { return };
        let Some((at, b)) = self.lookup_ident(id) else {
            return;
        };
        if !b.param || at + 1 != self.stack.len() {
            return;
        }
        let catches = self
            .cx
            .kb
            .method_apis(&self.arg_api)
            .iter()
            .any(|a| a.concept == Concept::ExpectsFailure);
        if catches {
            let f = self.stack[at].id;
            self.ir.fns[f as usize].param_caught_by = Some(self.arg_api.clone());
        }
    }

    /// Whether an expression names a function of the package (not a local).
    pub(super) fn names_package_fn(&self, e: &Expr) -> bool {
        matches!(strip(e), Expr::Path(p) if p.qself.is_none()
            && self.lookup_path_binding(p).is_none()
            && matches!(self.resolve(&path_segs(&p.path)), Res::Fn(_) | Res::Pkg(_)))
    }

    /// Whether an argument is a closure or names a function of the package.
    fn names_function(&self, arg: &Expr) -> bool {
        match strip(arg) {
            Expr::Closure(_) => true,
            Expr::Path(p) => {
                p.qself.is_none()
                    && self.lookup_path_binding(p).is_none()
                    && matches!(self.resolve(&path_segs(&p.path)), Res::Fn(_) | Res::Pkg(_))
            }
            _ => false,
        }
    }

    /// Records a closure or function handed to the package function whose arguments are
    /// being lowered: it runs where that function calls its parameter.
    fn handed(&mut self, at: Option<(u32, u32)>) {
        if let (Some((f, ev)), Some(t)) = (at, self.arg_target.clone()) {
            self.ir.handed.push((f, ev, t));
        }
    }

    /// Lowers a function call; closures among its arguments are named after the callee.
    pub(super) fn lower_call(&mut self, c: &syn::ExprCall) -> Val {
        let name = match strip(&c.func) {
            Expr::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            _ => String::new(),
        };
        // `Box::new(|x| ..)`, `Arc::new(move || ..)`: a closure kept as a value, which runs
        // where it is later called (a hook put in a registry), not here.
        if let Some(kept) = self.wrapped_closure(c) {
            return self.closure_value(kept);
        }
        // `AssertUnwindSafe(|| ..)` only wraps the closure for the API it is handed to.
        if name == "AssertUnwindSafe" {
            let saved = self.arg_target.take();
            let out = self.lower_call_inner(c);
            self.arg_target = saved;
            return out;
        }
        let saved = std::mem::replace(&mut self.arg_api, name);
        let saved_target = self.arg_target.take();
        let out = self.lower_call_inner(c);
        self.arg_api = saved;
        self.arg_target = saved_target;
        out
    }

    fn lower_call_inner(&mut self, c: &syn::ExprCall) -> Val {
        let Expr::Path(p) = strip(&c.func) else {
            let callee = self.lower_expr(&c.func).place;
            let mut places = Vec::new();
            for a in &c.args {
                places.push(self.lower_arg(a, None).place);
            }
            // A call through a place (`(self.on_tick)()`): the analysis finds what it calls.
            let Some(callee) = callee else {
                return Val::default();
            };
            let span = self.sp2(spans::first(&c.func), c.paren_token.span.close());
            return self.call_via(span, callee, places);
        };
        if p.qself.is_some() {
            for a in &c.args {
                self.lower_arg(a, None);
            }
            return Val::default();
        }
        let start = match p.path.segments.first() {
            Some(s) => s.ident.span(),
            None => return Val::default(),
        };
        let span = self.sp2(start, c.paren_token.span.close());
        if let Some((at, origin)) = self.lookup_path_binding(p) {
            // Calling a local closure or function value.
            if let Origin::Var(v) = origin {
                self.read_var(at, v, span);
            }
            self.note_param_call(p, at);
            let mut places = Vec::new();
            for a in &c.args {
                places.push(self.lower_arg(a, None).place);
            }
            // A local that may hold a closure kept as a value (an element of a hook registry,
            // `for h in &self.hooks { h(x) }`): the analysis finds what it calls. Not a value
            // its callers hand in, which mixes them all (bare closures a helper calls are
            // its `ParamRun`s).
            return match self.binding_place(p) {
                Some(callee)
                    if at + 1 == self.stack.len() && !matches!(callee, Place::Param(..)) =>
                {
                    self.call_via(span, callee, places)
                }
                _ => Val::default(),
            };
        }
        let segs = path_segs(&p.path);
        match self.resolve(&segs) {
            Res::Ext(full) => {
                if full == "std::mem::drop" && c.args.len() == 1 {
                    return self.lower_drop(&c.args[0], span);
                }
                self.library_trait_call(&full, p, span);
                // A wrapper's constructor (`tokio::sync::Mutex::new(x)`) holds its argument,
                // whatever the knowledge base says of the wrapper's own type.
                if c.args.len() == 1 && wraps_value(&full) {
                    return self.lower_ext_call(&full, &c.args);
                }
                let apis = self.cx.kb.apis(&full);
                if !apis.is_empty() {
                    return self.lower_api_call(apis, full, None, &c.args, span, false);
                }
                self.lower_ext_call(&full, &c.args)
            }
            Res::Fn(id) => {
                // A function of this file already lowered has its declared type at hand, so
                // that library methods called on its result are known now (`handle().spawn(..)`).
                let ty = match self.ir.fns.get(id as usize).map(|f| &f.ret) {
                    Some(t @ TypeRef::Ext(_)) => t.clone(),
                    Some(TypeRef::Shared(t)) if matches!(**t, TypeRef::Ext(_)) => {
                        TypeRef::Shared(t.clone())
                    }
                    _ => ret_of(Target::Fn(id), TypeRef::Unknown),
                };
                self.lower_pkg_call(Target::Fn(id), &c.args, span, ty)
            }
            Res::Pkg(sp) => {
                let ty = ret_of(Target::Path(sp.clone()), ctor_fallback(&sp));
                self.lower_pkg_call(Target::Path(sp), &c.args, span, ty)
            }
            Res::Static(_) | Res::Unknown => {
                // `Some(x)`, `Ok(x)`, tuple structs: the value passes through.
                let mut out = Val::default();
                for a in &c.args {
                    let v = self.lower_arg(a, None);
                    if c.args.len() == 1 && segs.len() == 1 {
                        out.pend = v.pend;
                        out.place = v.place;
                        if segs[0] == "Some" || segs[0] == "Ok" {
                            out.ty = match v.ty {
                                TypeRef::Unknown => TypeRef::Unknown,
                                t => TypeRef::Wrapped(Arc::new(t)),
                            };
                        }
                    }
                }
                out
            }
        }
    }

    pub(super) fn lower_drop(&mut self, arg: &Expr, span: Span) -> Val {
        if let Expr::Path(p) = strip(arg)
            && let Some((_, Origin::Var(v))) = self.lookup_path_binding(p)
            && self.var_kind(v) == VarKind::Runtime
        {
            self.ir.vars[v as usize].reads += 1;
            self.var_flags[v as usize] |= CLOSED;
            self.emit_model(
                span,
                EventKind::RuntimeClose {
                    runtime: RuntimeRef::Var(VarId(v)),
                    api: "std::mem::drop".to_string(),
                },
            );
            return Val::default();
        }
        self.drop_explicit(arg, span);
        Val::default()
    }

    /// A call of a local binding: a parameter called by the function it belongs to makes the
    /// function a helper that runs what it is given.
    fn note_param_call(&mut self, p: &syn::ExprPath, at: usize) {
        let Some(id) = p.path.get_ident() else { return };
        let Some((_, b)) = self.lookup_ident(id) else {
            return;
        };
        if b.param && at + 1 == self.stack.len() {
            let f = self.stack[at].id;
            let func = &mut self.ir.fns[f as usize];
            func.calls_param = true;
            func.param_call_at.get_or_insert(func.events.len() as u32);
        }
    }

    pub(super) fn lower_pkg_call(
        &mut self,
        target: Target,
        args: &Punctuated<Expr, Comma>,
        span: Span,
        ty: TypeRef,
    ) -> Val {
        let saved = self.arg_target.replace(target.clone());
        let mut places = Vec::new();
        for a in args {
            places.push(self.lower_arg(a, None).place);
        }
        self.arg_target = saved;
        let mut out = Val {
            ty,
            ..Val::default()
        };
        let at = self.emit(
            span,
            FKind::Ref {
                target,
                as_value: false,
                result: None,
            },
        );
        self.pend(at, PendKind::Call, &mut out);
        self.call_fact(at, span, places, &mut out);
        out
    }

    /// Arguments go to the callee's parameters and its return to the call's value.
    fn call_fact(
        &mut self,
        at: Option<(u32, u32)>,
        span: Span,
        args: Vec<Option<Place>>,
        out: &mut Val,
    ) {
        let Some((f, event)) = at else { return };
        if self.cur_fn() != Some(f) {
            return;
        }
        let result = self.temp();
        self.fact(
            span,
            FactKind::Call {
                event,
                args,
                result,
            },
        );
        out.place = result;
    }

    /// A call through a place that may hold a closure kept as a value (`(self.on_tick)()`,
    /// `(self.hooks[k])(x)`, `h(x)` for a local bound to a registry's element): an empty call
    /// whose callees the analysis finds from what the place holds.
    fn call_via(&mut self, span: Span, callee: Place, places: Vec<Option<Place>>) -> Val {
        let at = self.emit_model(
            span,
            EventKind::Call {
                callees: crate::model::Callees::new(),
                result: None,
            },
        );
        let mut out = Val::default();
        self.pend(at, PendKind::Call, &mut out);
        self.call_fact(at, span, places, &mut out);
        if let Some((f, event)) = at
            && self.cur_fn() == Some(f)
        {
            self.fact(span, FactKind::CallVia { event, callee });
        }
        out
    }

    /// The body run by event `at` hands what it returns to whoever joins the handle in `out`
    /// (a new place when the run makes no task object).
    fn joined_fact(&mut self, at: Option<(u32, u32)>, span: Span, out: &mut Val) {
        let Some((f, event)) = at else { return };
        if self.cur_fn() != Some(f) {
            return;
        }
        let result = out.place.or_else(|| self.temp());
        self.fact(
            span,
            FactKind::Call {
                event,
                args: Vec::new(),
                result,
            },
        );
        out.place = result;
    }

    /// A call of an external function the knowledge base does not know.
    pub(super) fn lower_ext_call(&mut self, full: &str, args: &Punctuated<Expr, Comma>) -> Val {
        let hint = self.closure_param_hint(full);
        let mut out = Val::default();
        let mut arg_vals = Vec::new();
        for a in args {
            arg_vals.push(self.lower_arg(a, hint.clone()));
        }
        let parent = parent_path(full);
        let last = last_seg(full);
        // Wrappers (`Arc::new(x)`, `Mutex::new(x)`, `Some(x)`) keep the value's events, and
        // hold the value: a value derived from a runtime-bound one is bound too.
        if arg_vals.len() == 1 && last == "clone" {
            out.place = arg_vals[0].place;
        }
        if arg_vals.len() == 1 && (last == "new" || last == "from") {
            let v = arg_vals.pop().unwrap_or_default();
            out.pend = v.pend;
            out.place = v.place;
            if let Some(p) = parent.filter(|p| types::is_transparent(p)) {
                out.ty = if types::is_shared(p) {
                    typing::shared(v.ty)
                } else {
                    v.ty
                };
                out.origin = v.origin;
                return out;
            }
            if parent.is_some_and(types::is_lock) && !matches!(v.ty, TypeRef::Unknown) {
                out.ty = TypeRef::Lock(Arc::new(v.ty));
                out.origin = v.origin;
                return out;
            }
        }
        if let Some(parent) = parent
            && super::is_type_name(last_seg(parent))
            && types::returns_self(last)
        {
            out.ty = TypeRef::Ext(Arc::from(parent));
        }
        out
    }

    /// `std::thread::scope(|s| ..)`: the closure's parameter is a `std::thread::Scope` when
    /// the knowledge base knows that type.
    pub(super) fn closure_param_hint(&self, full: &str) -> Option<TypeRef> {
        let parent = parent_path(full)?;
        let last = last_seg(full);
        let mut chars = last.chars();
        let first = chars.next()?;
        if !first.is_ascii_lowercase() {
            return None;
        }
        let ty = format!("{parent}::{}{}", first.to_ascii_uppercase(), chars.as_str());
        let probe = format!("{ty}::spawn");
        if self.cx.kb.apis(&probe).is_empty() {
            return None;
        }
        Some(TypeRef::Ext(Arc::from(ty.as_str())))
    }

    /// Lowers a method call; closures among its arguments are named after the method.
    pub(super) fn lower_method_call(&mut self, m: &syn::ExprMethodCall) -> Val {
        if asserts::unwraps_err(&m.method) && m.args.len() <= 1 {
            self.asserted_err(&m.receiver);
        }
        let recv = self.lower_receiver(m);
        let saved = std::mem::replace(&mut self.arg_api, m.method.to_string());
        let saved_target = self.arg_target.take();
        // A channel's halves: what is sent goes into the channel's place, what is received
        // comes out of it.
        let name = m.method.to_string();
        let channel = recv
            .place
            .and_then(|p| self.channel_places.iter().find(|(q, _)| *q == p).copied());
        if let Some((place, family)) = channel
            && m.args.len() == 1
            && self.cx.kb.channel_sends(Some(family), &name)
        {
            self.sending = Some(place);
        }
        let recv_nonblocking = recv.nonblocking;
        let mut out = self.lower_method_call_inner(m, recv);
        self.sending = None;
        // A call that puts its receiver in non-blocking mode puts the local it configures
        // there too (`opts.read(true).custom_flags(O_NONBLOCK);`, `sock.set_nonblocking(true)`);
        // what a non-blocking handle or builder gives is non-blocking as well.
        if out.nonblocking
            && !recv_nonblocking
            && let Some(root) = chain_root(&m.receiver)
        {
            self.mark_nonblocking(root);
        }
        out.nonblocking |= recv_nonblocking;
        // `s.parse::<T>()` calls `T::from_str`.
        if m.turbofish.is_some() {
            self.conversion_call(m, None);
        }
        if let Some((place, family)) = channel
            && self.cx.kb.channel_receives(Some(family), &name)
        {
            out.place = Some(place);
        }
        self.arg_api = saved;
        self.arg_target = saved_target;
        out
    }

    fn lower_receiver(&mut self, m: &syn::ExprMethodCall) -> Val {
        // Looking at a handle is not waiting for it (aborting it ends the task on purpose).
        let bare = matches!(strip(&m.receiver), Expr::Path(_));
        self.inspect_only = bare
            && (m.method == "is_finished"
                || m.method == "id"
                || (self.holds_tasks(&m.receiver) && fills_or_counts(&m.method.to_string())));
        self.borrowing = bare;
        let recv = self.lower_expr(&m.receiver);
        self.inspect_only = false;
        self.borrowing = false;
        recv
    }

    fn lower_method_call_inner(&mut self, m: &syn::ExprMethodCall, mut recv: Val) -> Val {
        let name = m.method.to_string();
        let span = self.sp_ident(&m.method, name.len());
        if matches!(recv.ty.peel(), TypeRef::Deferred(_)) && self.cx.kb.typed_method(&name) {
            recv.ty = self.hinted(span.start, std::mem::take(&mut recv.ty), Some(&name));
        }
        // A value moved out of a container and only looked at (`map.remove(k).is_some()`)
        // is a temporary that dies with the statement.
        if inspects(&name)
            && let Some((place, at)) = recv.moved_from
        {
            self.fact(at, FactKind::Drop { place });
        }
        // A runtime-bound library value is no container: on it, `get`, `set` or `take` are
        // commands sent over it (a redis connection's `conn.get(key)`), not accessors. A
        // static holding one is a cell, whose `get` and `set` are the cell's. Only a
        // container's names read differently, so only they ask the knowledge base.
        let cell_method =
            matches!(recv.origin, Origin::Static(_)) && (projects(&name) || stores(&name));
        let container_name = projects(&name) || stores(&name) || moves_out(&name);
        let bound = container_name
            && !cell_method
            && recv
                .ty
                .ext()
                .is_some_and(|t| self.cx.kb.runtime_bound(t).is_some());
        let uses_here = if bound { !inspects(&name) } else { uses(&name) };
        let projects_here = !bound && projects(&name);
        // Storing into a static cell (`CLIENT.set(client)`) is no use of what it holds.
        let stores_cell = name == "set" && matches!(recv.origin, Origin::Static(_));
        // Configuring a builder in a chain is no use of what it builds.
        if let Some(p) = recv.place
            && uses_here
            && !stores_cell
            && !recv.chain
            && !self.channel_places.iter().any(|(q, _)| *q == p)
            && !types::passes_through(&name)
        {
            self.fact(
                span,
                FactKind::Use {
                    place: p,
                    method: None,
                },
            );
        }
        if types::passes_through(&name) {
            for a in &m.args {
                self.lower_arg(a, None);
            }
            if let Some(s) = recv.local
                && name != "clone"
                && name != "to_owned"
            {
                self.slot_moved(s);
            }
            let mut out = recv;
            out.local = None;
            if types::unwraps(&name) {
                out.ty = out.ty.unwrapped();
            }
            return out;
        }
        if stores_cell {
            self.no_use_of_static(recv.read);
        }
        let mut apis = Vec::new();
        let mut path = name.clone();
        // A static cell's lazy initialiser is the cell's method, whatever type the static
        // holds (`CLIENT.get_or_init(..)` on a `OnceLock<PgPool>` is no pool method).
        let cell_init = matches!(recv.origin, Origin::Static(_))
            && matches!(name.as_str(), "get_or_init" | "get_or_try_init");
        if let Some(t) = recv.ty.ext()
            && !cell_init
        {
            path = format!("{t}::{name}");
            apis = self.cx.kb.apis(&path);
        }
        let mut by_name = false;
        if apis.is_empty() && !cell_init && !matches!(recv.ty.peel(), TypeRef::Pkg(_)) {
            apis = self.cx.kb.method_apis(&name);
            if !apis.is_empty() {
                path = name.clone();
                by_name = true;
            }
        }
        if !apis.is_empty() {
            if let Some(s) = recv.local {
                self.slot_moved(s);
            }
            let ty = recv.ty.peel().clone();
            let owners: Vec<String> = apis
                .iter()
                .filter_map(|a| parent_path(&a.path))
                .map(|p| last_seg(p).to_string())
                .collect();
            let recv_place = recv.place.filter(|_| projects_here);
            let mut out = self.lower_api_call(apis, path, Some(recv), &m.args, span, true);
            if by_name && matches!(ty, TypeRef::Deferred(_)) {
                self.guard_api_events(ty, name, owners, span);
            }
            // A library accessor (`handle.join()`) gives the receiver's value.
            if out.place.is_none() {
                out.place = recv_place;
            }
            return out;
        }
        // A lock's guard gives its value: `m.lock().unwrap().method()` is the value's method.
        if let TypeRef::Lock(inner) = recv.ty.peel()
            && types::is_guard_method(&name)
        {
            for a in &m.args {
                self.lower_arg(a, None);
            }
            return Val {
                ty: typing::shared((**inner).clone()),
                place: recv.place,
                read: recv.read,
                ..Val::default()
            };
        }
        // The package method called, if the receiver may be of a package type.
        let target = match recv.ty.peel() {
            t @ (TypeRef::Pkg(_) | TypeRef::Deferred(_)) => Some(Target::Method {
                ty: t.clone(),
                name: name.clone(),
            }),
            TypeRef::Unknown if !is_common_method(&name) => Some(Target::Method {
                ty: TypeRef::Unknown,
                name: name.clone(),
            }),
            _ => None,
        };
        self.arg_target = target.clone();
        // Static `get_or_init(|| ..)`: a resource made in the closure lives in the static.
        let static_init = match (&recv.origin, name.as_str()) {
            (Origin::Static(t), "get_or_init" | "get_or_try_init") => Some(t.clone()),
            _ => None,
        };
        let by_library = !matches!(recv.ty.peel(), TypeRef::Pkg(_) | TypeRef::Deferred(_))
            && uses_here
            && !stores(&name);
        // On a receiver whose type only linking can tell, the uses stand if it is a library's.
        let maybe_library =
            matches!(recv.ty.peel(), TypeRef::Deferred(_)) && uses_here && !stores(&name);
        let mut arg_uses = Vec::new();
        let mut kept = Vec::new();
        let mut places = vec![recv.place];
        for a in &m.args {
            match (&static_init, strip(a)) {
                (Some(t), Expr::Closure(c)) => {
                    let (id, tail) = self.lower_closure(c, None, false);
                    let run_span = self.sp(c.or1_token.span);
                    let api = self.arg_api.clone();
                    if let Some(at) = self.emit_run_api(run_span, id, RunKind::Inline, api) {
                        self.ir.once_runs.push(at);
                    }
                    for p in tail.pend.iter().filter(|p| p.kind == PendKind::Create) {
                        self.ir.bound_creates.push(((**t).clone(), p.f, p.ev));
                    }
                    places.push(Some(Place::Ret(crate::model::FnId(id))));
                }
                (None, Expr::Closure(c)) if recv.place.is_some() && stores(&name) => {
                    // `slot.get_or_insert_with(|| ..)`: what the closure returns is stored.
                    let (id, _) = self.lower_closure(c, None, false);
                    let run_span = self.sp(c.or1_token.span);
                    let api = self.arg_api.clone();
                    self.emit_run_api(run_span, id, RunKind::Inline, api);
                    places.push(Some(Place::Ret(crate::model::FnId(id))));
                }
                _ => {
                    let v = self.lower_arg(a, None);
                    if fills_or_counts(&name) {
                        kept.extend(v.pend.iter().copied());
                    }
                    // A value handed to a library method that neither keeps nor inspects it
                    // (`query.execute(&pool)`) is used by it.
                    if let Some(p) = v.place
                        && (by_library || maybe_library)
                    {
                        let at = self.sp2(spans::first(a), spans::last(a));
                        let before = self.ir.flow.len();
                        self.fact(
                            at,
                            FactKind::Use {
                                place: p,
                                method: None,
                            },
                        );
                        if maybe_library && self.ir.flow.len() > before {
                            arg_uses.push(before as u32);
                        }
                    }
                    places.push(v.place);
                }
            }
        }
        let mut out = Val::default();
        if !kept.is_empty() && !cell_method {
            self.keep_tasks_in(&m.receiver, &kept);
        }
        if let Some(p) = recv.place
            && !bound
        {
            self.store_into(p, &name, &places[1..], span, &mut out);
        }
        // `self.client.get_or_init(|| ..)`: made once for the value that owns the field.
        if let (Some(Place::Cell(_)), Some(owner)) = (recv.place, recv.owner)
            && lazily(&name)
        {
            for &from in places[1..].iter().flatten() {
                self.fact(span, FactKind::Lazy { owner, from });
            }
        }
        if projects_here {
            out.read = recv.read;
        }
        if let Some(target) = target {
            let at = self.emit(
                span,
                FKind::Ref {
                    target: target.clone(),
                    as_value: false,
                    result: None,
                },
            );
            self.pend(at, PendKind::Call, &mut out);
            if let Some((f, ev)) = at {
                self.ir
                    .lib_arg_uses
                    .extend(arg_uses.iter().map(|&i| (i, f, ev)));
            }
            // Only an accessor's result (`projected`) asks what the receiver's type is.
            let projected = out.place;
            let deferred = projected.is_some()
                && match &target {
                    Target::Method { ty, .. } => {
                        matches!(ty, TypeRef::Deferred(_)) || self.may_name_alias(ty)
                    }
                    _ => false,
                };
            out.ty = ret_of(target, TypeRef::Unknown);
            self.call_fact(at, span, places, &mut out);
            // A receiver whose type the linker decides may be a library value: its accessor
            // gives the receiver's value, a package method what the method returns.
            if deferred {
                out.place = self.merge(span, &[projected, out.place]);
            }
            if let Some(s) = recv.local {
                self.slot_method(s, at);
            }
        } else if let Some(s) = recv.local {
            self.slot_moved(s);
        }
        // `slot.take()`, `slot.replace(v)` on an `Option<T>`: what is moved out is an
        // `Option<T>` too.
        if matches!(name.as_str(), "take" | "replace")
            && matches!(recv.ty.peel(), TypeRef::Wrapped(_))
            && matches!(out.ty, TypeRef::Unknown)
        {
            out.ty = recv.ty.peel().clone();
        }
        if let TypeRef::Ext(t) = recv.ty.peel() {
            // Fluent APIs: an unknown method of an external type returns that type.
            out.ty = TypeRef::Ext(t.clone());
            if recv.chain {
                out.pend = recv.pend.clone();
                out.chain = !types::finishes_chain(&name);
                out.origin = recv.origin.clone().forget_drivers();
                out.place = out.place.or(recv.place);
            }
        }
        if recv.chain && out.pend.is_empty() && recv.ty.ext().is_none() {
            out.pend.extend(recv.pend.iter().copied());
            out.chain = !types::finishes_chain(&name);
            out.place = out.place.or(recv.place);
            if let Origin::Builder(..) = recv.origin {
                out.origin = recv.origin.clone().forget_drivers();
            }
        }
        out
    }

    /// Lowers a call that the knowledge base knows: nested bodies become `Run` events, and
    /// each matching entry adds its event.
    pub(super) fn lower_api_call(
        &mut self,
        apis: Vec<&'a Api>,
        path: String,
        recv: Option<Val>,
        args: &Punctuated<Expr, Comma>,
        span: Span,
        is_method: bool,
    ) -> Val {
        let body_api = apis.iter().copied().find(|a| {
            matches!(
                a.concept,
                Concept::BlockOn
                    | Concept::Spawn
                    | Concept::SpawnBlocking
                    | Concept::BlockInPlace
                    | Concept::Thread
                    | Concept::RunFuture
                    | Concept::Handler
            )
        });
        let body_idx = body_api.map(|a| {
            args.iter()
                .position(|a| matches!(strip(a), Expr::Closure(_) | Expr::Async(_)))
                .unwrap_or(a.arg as usize)
        });
        // A handler is a function or a closure; anything else handed to a registration API
        // (a service value, a nested router) is an ordinary argument.
        let body_idx = match (body_api, body_idx) {
            (Some(a), Some(i)) if a.concept == Concept::Handler => args
                .iter()
                .nth(i)
                .filter(|e| self.names_function(e))
                .map(|_| i),
            (_, i) => i,
        };
        let mut body = None;
        let mut body_val = Val::default();
        let hint = if is_method {
            None
        } else {
            self.closure_param_hint(&path)
        };
        for (i, arg) in args.iter().enumerate() {
            if Some(i) == body_idx
                && let Some(api) = body_api
            {
                let synth = match api.concept {
                    Concept::BlockOn | Concept::Spawn | Concept::RunFuture | Concept::Handler => {
                        FnKind::Future
                    }
                    _ => FnKind::Closure,
                };
                let (id, v) = self.lower_body_arg(arg, synth);
                body = Some(id);
                body_val = v;
            } else {
                self.lower_arg(arg, hint.clone());
            }
        }
        let recv_origin = recv.as_ref().map(|r| r.origin.clone()).unwrap_or_default();
        let recv_place = recv.as_ref().and_then(|r| r.place);
        if body.is_none()
            && body_api.is_some()
            && args.is_empty()
            && let Origin::Body(b) = recv_origin
        {
            body = Some(b);
        }
        let recv_nonblocking = recv.as_ref().is_some_and(|r| r.nonblocking);
        let rref = self.recv_ref(&recv_origin);
        let recv_bound = recv.as_ref().is_some_and(|r| {
            r.pend.iter().any(|p| p.kind == PendKind::Create)
                || r.ty
                    .ext()
                    .is_some_and(|t| self.cx.kb.runtime_bound(t).is_some())
                || matches!(r.origin, Origin::Var(v) if self.var_kind(v) == VarKind::Resource)
        });
        let mut out = Val::default();
        self.api_events_from = self
            .cur_fn()
            .map(|f| (f, self.ir.fns[f as usize].events.len() as u32));
        let mut done: Vec<Concept> = Vec::new();
        let parent = parent_path(&path).map(str::to_string);
        for api in apis {
            if done.contains(&api.concept) {
                continue;
            }
            done.push(api.concept);
            let api_name = if api.matching == Match::Prefix {
                path.clone()
            } else {
                api.path.clone()
            };
            let own_type = || parent_path(&api.path).map(|p| TypeRef::Ext(Arc::from(p)));
            match api.concept {
                Concept::RuntimeNew => {
                    let (flavor, start, disabled) = match &recv_origin {
                        Origin::Builder(f, s, enabled) => (
                            if *f == Flavor::Unknown {
                                api.model_flavor()
                            } else {
                                *f
                            },
                            Some(*s),
                            enabled.map_or(Drivers::NONE, |e| Drivers::ALL.without(e)),
                        ),
                        _ => (api.model_flavor(), None, Drivers::NONE),
                    };
                    let sp = start.map(|s| self.join(s, span)).unwrap_or(span);
                    let at = self.emit_model(
                        sp,
                        EventKind::RuntimeNew {
                            var: None,
                            flavor,
                            disabled,
                            api: api_name,
                        },
                    );
                    self.pend(at, PendKind::RuntimeNew, &mut out);
                    self.made(at, sp, &mut out);
                    out.origin = Origin::Unbound(flavor);
                    out.ty = match &api.returns {
                        Some(r) => TypeRef::Ext(Arc::from(r.as_str())),
                        None => own_type().unwrap_or_default(),
                    };
                }
                Concept::RuntimeBuilder => {
                    // A chain starts at a constructor naming the flavor; the methods after it
                    // turn drivers on. A chain whose start is not seen has unknown drivers.
                    out.origin = match &recv_origin {
                        _ if api.flavor.is_some() => {
                            Origin::Builder(api.model_flavor(), span, Some(Drivers::NONE))
                        }
                        Origin::Builder(f, s, enabled) => {
                            Origin::Builder(*f, *s, enabled.map(|e| e.union(api.model_enables())))
                        }
                        _ => Origin::Builder(Flavor::Unknown, span, None),
                    };
                    out.ty = own_type().unwrap_or_default();
                    out.chain = true;
                }
                Concept::BlockOn
                | Concept::Spawn
                | Concept::SpawnBlocking
                | Concept::BlockInPlace
                | Concept::Thread
                | Concept::RunFuture
                | Concept::Handler => {
                    let Some(b) = body else { continue };
                    if Some(api.concept) != body_api.map(|a| a.concept) {
                        continue;
                    }
                    let how = match api.concept {
                        Concept::BlockOn => RunKind::BlockOn,
                        Concept::Spawn => RunKind::Spawn,
                        Concept::SpawnBlocking => RunKind::SpawnBlocking,
                        Concept::BlockInPlace => RunKind::BlockInPlace,
                        Concept::RunFuture => RunKind::Future,
                        Concept::Handler => RunKind::Handler,
                        _ => RunKind::Thread,
                    };
                    let runtime = match (how, api.runtime) {
                        (RunKind::Thread | RunKind::Handler, _) => RuntimeRef::Unknown,
                        (_, RuntimeArg::Current) => RuntimeRef::Current,
                        (_, RuntimeArg::Fresh) => RuntimeRef::Fresh(api.model_flavor()),
                        (_, RuntimeArg::Receiver) => rref,
                        (_, RuntimeArg::Argument) => args
                            .first()
                            .map_or(RuntimeRef::Unknown, |a| self.arg_runtime(a)),
                    };
                    let runtime = match body_idx.and_then(|i| args.iter().nth(i)) {
                        Some(arg) if how == RunKind::BlockOn => {
                            self.wrapping_context(arg).unwrap_or(runtime)
                        }
                        _ => runtime,
                    };
                    let at = self.emit_model(
                        span,
                        EventKind::Run {
                            body: crate::model::FnId(b),
                            how,
                            runtime,
                            handle: HandleFate::Kept,
                            api: api_name.into(),
                        },
                    );
                    // A body the library runs once per item sits in a loop of the library's.
                    if api.per_item
                        && let Some((f, ev)) = at
                    {
                        let e = &mut self.ir.fns[f as usize].events[ev as usize];
                        e.loop_depth = e.loop_depth.saturating_add(1);
                    }
                    self.subject(at, span, &recv_place);
                    // A spawn method of a container (`JoinSet::spawn`) keeps the handle.
                    let container = is_method && api.runtime != RuntimeArg::Receiver;
                    if how == RunKind::Spawn && !container {
                        self.pend(at, PendKind::Spawn, &mut out);
                        self.made(at, span, &mut out);
                        let body = body_idx.and_then(|i| args.iter().nth(i));
                        if let Some(tx) =
                            body.and_then(|b| super::completion::last_send(b, self.cx.kb))
                        {
                            self.note_completion(tx, at, false);
                        } else if let Some(s) = body.and_then(super::completion::last_signal) {
                            self.note_completion(s, at, true);
                        }
                    }
                    // What the body returns is what joining its handle gives back
                    // (`h.join()`, `h.await`): the handle's place holds it, as a future's
                    // place holds its output.
                    if matches!(
                        how,
                        RunKind::Spawn | RunKind::SpawnBlocking | RunKind::Thread
                    ) && !container
                    {
                        self.joined_fact(at, span, &mut out);
                    }
                    // An adapter that runs its closure elsewhere still types its result
                    // (`par_iter().map(..)` stays a parallel iterator, `get(h)` a method router).
                    if matches!(how, RunKind::Thread | RunKind::Handler)
                        && let Some(r) = &api.returns
                    {
                        out.ty = TypeRef::Ext(Arc::from(r.as_str()));
                    }
                    if how == RunKind::BlockOn {
                        // What the body returns is what `block_on` hands back.
                        self.call_fact(at, span, Vec::new(), &mut out);
                        // A resource made by the future belongs to whoever binds the output.
                        out.pend.extend(
                            body_val
                                .pend
                                .iter()
                                .filter(|p| p.kind == PendKind::Create)
                                .copied(),
                        );
                        out.ty = body_val.ty.clone();
                    }
                }
                Concept::Serve => {
                    self.emit_model(span, EventKind::Serve { api: api_name });
                    if let Some(r) = &api.returns {
                        out.ty = TypeRef::Ext(Arc::from(r.as_str()));
                    }
                }
                Concept::BlockingEntry => {
                    self.emit_model(span, EventKind::BlockingEntry { api: path.clone() });
                    if let Some(r) = &api.returns {
                        out.ty = TypeRef::Ext(Arc::from(r.as_str()));
                    }
                }
                Concept::Handle => {
                    let r = if api.runtime == RuntimeArg::Current {
                        RuntimeRef::Current
                    } else {
                        rref
                    };
                    let at = self.emit_model(
                        span,
                        EventKind::HandleOf {
                            runtime: r,
                            var: None,
                        },
                    );
                    self.pend(at, PendKind::HandleOf, &mut out);
                    // A runtime built in place and never bound dies with the statement.
                    if let (Origin::Unbound(_), Some(p)) = (&recv_origin, recv_place)
                        && let Some(state) = self.stack.last_mut()
                    {
                        state.temp_runtimes.push(p);
                    }
                    if r != RuntimeRef::Current {
                        self.subject(at, span, &recv_place);
                        if let (Some(from), Some(to)) = (recv_place, self.temp()) {
                            self.fact(span, FactKind::HandleOf { to, from });
                            out.place = Some(to);
                        }
                    }
                    out.origin = Origin::Handle(r);
                    out.ty = match &api.returns {
                        Some(t) => TypeRef::Ext(Arc::from(t.as_str())),
                        None if !is_method => own_type().unwrap_or_default(),
                        None => TypeRef::Unknown,
                    };
                }
                Concept::RuntimeEnter => {
                    let r = if api.runtime == RuntimeArg::Current {
                        RuntimeRef::Current
                    } else {
                        rref
                    };
                    let at = self.emit_model(
                        span,
                        EventKind::RuntimeEnter {
                            runtime: r,
                            api: api_name,
                        },
                    );
                    if r != RuntimeRef::Current {
                        self.subject(at, span, &recv_place);
                    }
                }
                Concept::RuntimeClose => {
                    let zero = api.background_when_zero
                        && args.first().is_some_and(super::is_zero_duration);
                    if let Origin::Var(v) = recv_origin {
                        self.var_flags[v as usize] |= CLOSED;
                        if api.background || zero {
                            // Handed to a background shutdown: not dropped here.
                            self.emit_model(span, EventKind::Escape { var: VarId(v) });
                        }
                    }
                    // A zero timeout waits for nothing: a background shutdown.
                    let api_name = match api_name.rsplit_once("::") {
                        Some((ty, _)) if zero => format!("{ty}::shutdown_background"),
                        _ => api_name,
                    };
                    let at = self.emit_model(
                        span,
                        EventKind::RuntimeClose {
                            runtime: rref,
                            api: api_name,
                        },
                    );
                    self.subject(at, span, &recv_place);
                }
                Concept::NeedsRuntime => {
                    self.emit_model(span, EventKind::NeedsRuntime { api: api_name });
                }
                Concept::Blocking => {
                    // Binding to an address value or an IP literal looks nothing up; a handle
                    // in non-blocking mode, or one a non-blocking builder opens, returns at
                    // once (`WouldBlock`) instead of waiting.
                    let no_lookup = api
                        .resolves_arg
                        .and_then(|n| args.iter().nth(n as usize))
                        .is_some_and(|a| !may_be_host_name(a));
                    if !no_lookup && !recv_nonblocking {
                        self.emit_model(span, EventKind::Blocking { api: path.clone() });
                    }
                    if let Some(r) = &api.returns {
                        out.ty = TypeRef::Ext(Arc::from(r.as_str()));
                    }
                }
                Concept::RuntimeBound => {
                    // A method of a bound value is a use of it, unless it makes a value that
                    // binds as it is made (a pool builder's `connect`).
                    if recv_bound && !api.binds_now {
                        continue;
                    }
                    let at = self.emit_model(
                        span,
                        EventKind::Create {
                            resource: None,
                            api: path.as_str().into(),
                            binds_now: api.binds_now,
                            made_as: None,
                        },
                    );
                    self.pend(at, PendKind::Create, &mut out);
                    self.made(at, span, &mut out);
                    let last = last_seg(&path);
                    out.chain =
                        last == "builder" || parent.as_deref().is_some_and(types::is_builder_type);
                    if let Some(p) = &parent
                        && super::is_type_name(last_seg(p))
                        && (types::returns_self(last) || out.chain)
                    {
                        out.ty = TypeRef::Ext(Arc::from(p.as_str()));
                    }
                }
                Concept::ResourceClose => {
                    if let Origin::Var(v) = recv_origin
                        && self.var_kind(v) == VarKind::Resource
                    {
                        self.emit_model(
                            span,
                            EventKind::Close {
                                resource: ResourceRef::Local(VarId(v)),
                            },
                        );
                    }
                }
                // A call that only hands out a handle still types its result
                // (`std::io::stdin()` is a `Stdin`, whose `read_line` blocks).
                Concept::NonBlocking => {
                    if let Some(r) = &api.returns {
                        out.ty = TypeRef::Ext(Arc::from(r.as_str()));
                    }
                    if let Some(word) = &api.nonblocking_when
                        && args.iter().any(|a| names_word(a, word, 0))
                    {
                        out.nonblocking = true;
                    }
                }
                _ => {}
            }
        }
        // A builder chain keeps its pending events through the call.
        if let Some(r) = &recv
            && r.chain
            && out.pend.is_empty()
            && !done.contains(&Concept::RuntimeNew)
        {
            out.pend.extend(r.pend.iter().copied());
            out.chain = !types::finishes_chain(last_seg(&path));
            if out.place.is_none() {
                out.place = r.place;
            }
            if matches!(out.origin, Origin::None) {
                out.origin = r.origin.clone();
            }
            if matches!(out.ty, TypeRef::Unknown) {
                out.ty = r.ty.clone();
            }
        }
        out
    }

    /// Records the events the last knowledge-base call added as standing only if the receiver
    /// type `ty` turns out to be no package type, and adds the call of the package method
    /// `name` that stands otherwise.
    fn guard_api_events(&mut self, ty: TypeRef, name: String, owners: Vec<String>, span: Span) {
        let Some((func, from)) = self.api_events_from.take() else {
            return;
        };
        if self.cur_fn() != Some(func) {
            return;
        }
        let to = self.ir.fns[func as usize].events.len() as u32;
        let target = Target::Method {
            ty: ty.clone(),
            name,
        };
        let pkg_call = self
            .emit(
                span,
                FKind::Ref {
                    target,
                    as_value: false,
                    result: None,
                },
            )
            .map(|(_, ev)| ev);
        self.ir.guarded.push(crate::frontend::rust::ir::Guard {
            func,
            events: (from, to),
            ty,
            pkg_call,
            owners,
        });
    }

    // ----------------------------------------------------------------- library trait calls

    /// A call of library generic code that calls a trait method of a type the program chooses
    /// (knowledge base `[[impl_call]]`): with a turbofish naming the type it returns
    /// (`serde_json::from_str::<Config>(..)`), that type's impl runs here; a call that installs
    /// a value of a trait (`log::set_logger`) makes the impls of the trait callable by the
    /// library.
    fn library_trait_call(&mut self, full: &str, p: &syn::ExprPath, span: Span) {
        let kb = self.cx.kb.kb();
        if let Some(t) = kb.installs(crate::model::Language::Rust, full)
            && !self.ir.installs.iter().any(|x| x == t)
        {
            self.ir.installs.push(t.to_string());
        }
        let turbofish = p.path.segments.last().and_then(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            }),
            _ => None,
        });
        if let Some(ty) = turbofish {
            let ty = self.resolve_type(ty);
            self.result_trait_call(full, ty, span);
        }
    }

    /// The impl calls of library call `full` on the type `ty` it returns.
    pub(super) fn result_trait_call(&mut self, full: &str, ty: TypeRef, span: Span) {
        let ty = match ty {
            TypeRef::Wrapped(inner) => (*inner).clone(),
            ty => ty,
        };
        if !typing::owned_pkg(&ty) {
            return;
        }
        let calls: Vec<(String, String)> = self
            .cx
            .kb
            .kb()
            .impl_calls(crate::model::Language::Rust, full)
            .into_iter()
            .filter(|c| c.of == crate::kb::ImplOf::Result)
            .map(|c| (c.trait_.clone(), c.method.clone()))
            .collect();
        for (trait_, name) in calls {
            self.emit(
                span,
                FKind::Ref {
                    target: Target::Implicit {
                        ty: ty.clone(),
                        trait_,
                        name,
                    },
                    as_value: false,
                    result: None,
                },
            );
        }
    }

    /// A library macro that calls a trait method of the value the program installed
    /// (`log::info!` calls the installed logger's `Log::log`).
    fn library_trait_call_of_macro(&mut self, mac: &syn::Macro) {
        let Some(first) = mac.path.segments.first() else {
            return;
        };
        let Res::Ext(full) = self.resolve(&path_segs(&mac.path)) else {
            return;
        };
        let calls: Vec<(String, String)> = self
            .cx
            .kb
            .kb()
            .impl_calls(crate::model::Language::Rust, &full)
            .into_iter()
            .filter(|c| c.of == crate::kb::ImplOf::Installed)
            .map(|c| (c.trait_.clone(), c.method.clone()))
            .collect();
        if calls.is_empty() {
            return;
        }
        let close = match &mac.delimiter {
            syn::MacroDelimiter::Paren(d) => d.span.close(),
            syn::MacroDelimiter::Brace(d) => d.span.close(),
            syn::MacroDelimiter::Bracket(d) => d.span.close(),
        };
        let span = self.sp2(first.ident.span(), close);
        for (trait_, name) in calls {
            self.emit(
                span,
                FKind::Ref {
                    target: Target::Installed { trait_, name },
                    as_value: false,
                    result: None,
                },
            );
        }
    }

    // ----------------------------------------------------------------- macros

    /// Whether a macro body may hold anything the model records: a call, a closure or a
    /// block. Bodies without one are not parsed (most formatting macros).
    pub(super) fn macro_worth_parsing(&self, mac: &syn::Macro) -> bool {
        let span = match &mac.delimiter {
            syn::MacroDelimiter::Paren(p) => p.span.join(),
            syn::MacroDelimiter::Brace(b) => b.span.join(),
            syn::MacroDelimiter::Bracket(b) => b.span.join(),
        };
        let sp = self.sp(span);
        let bom = self.cx.bom;
        let (a, b) = (
            (sp.start.saturating_sub(bom) as usize + 1).min(self.cx.text.len()),
            (sp.end.saturating_sub(bom) as usize).saturating_sub(1),
        );
        match self.cx.text.get(a..b.max(a)) {
            Some(body) => has_code_outside_strings(body.as_bytes()),
            None => true,
        }
    }

    /// Lowers a macro's arguments as a branch of the body: a macro may run them conditionally
    /// (`select!`, `debug_assert!`), or not at all.
    pub(super) fn lower_macro(&mut self, mac: &syn::Macro) -> Val {
        self.enter_branch();
        let v = self.lower_macro_args(mac);
        self.leave_branch();
        v
    }

    fn lower_macro_args(&mut self, mac: &syn::Macro) -> Val {
        self.library_trait_call_of_macro(mac);
        let formats = self.formats_args(mac);
        if !self.macro_worth_parsing(mac) {
            if let Some(call) = formats {
                self.format_calls(mac, call, None);
            }
            return Val::default();
        }
        match macros::parse(mac) {
            MacroBody::Exprs(es) => {
                let name = mac.path.segments.last().map(|s| s.ident.to_string());
                if let Some(name) = name {
                    if let Some(e) = asserts::macro_asserts_err(&name, &es) {
                        self.asserted_err(e);
                    } else if name == "assert"
                        && let Some(e) = es.first().and_then(asserts::matches_err)
                    {
                        self.asserted_err(&e);
                    }
                }
                let tys: Vec<TypeRef> = es.iter().map(|e| self.lower_expr(e).ty).collect();
                if let Some(call) = formats {
                    self.format_calls(mac, call, Some((&es, &tys)));
                }
            }
            MacroBody::Select(arms) => {
                for arm in &arms {
                    if let Some(f) = &arm.fut {
                        self.lower_expr(f);
                    }
                    if let Some(c) = &arm.cond {
                        self.lower_expr(c);
                    }
                    self.push_scope();
                    if let Some(p) = &arm.pat {
                        self.bind_pat(p, TypeRef::Unknown, 0);
                    }
                    if let Some(b) = &arm.body {
                        self.lower_expr(b);
                    }
                    self.pop_scope(None);
                }
            }
            MacroBody::Opaque if self.tracks_vars_in_sight() => {
                self.mention_vars(mac.tokens.clone())
            }
            MacroBody::Opaque => {}
            MacroBody::LazyStatics(_) | MacroBody::ThreadLocals(_) => {}
        }
        Val::default()
    }

    /// Whether a tracked variable is in sight (bound in a scope that names resolve in): only
    /// then may a macro's tokens name one.
    fn tracks_vars_in_sight(&self) -> bool {
        for st in self.stack.iter().rev() {
            let var = |b: &super::Binding| matches!(b.origin, Origin::Var(_));
            if st.scopes.iter().any(|sc| sc.bindings.iter().any(var)) {
                return true;
            }
            if st.boundary {
                break;
            }
        }
        false
    }

    /// The tracked variables named in the tokens of a macro whose expansion is unknown: each is
    /// read, and may be waited for or kept, there.
    fn mention_vars(&mut self, tokens: proc_macro2::TokenStream) {
        for tt in tokens {
            match tt {
                proc_macro2::TokenTree::Ident(id) => {
                    if let Some((_, b)) = self.lookup_ident(&id)
                        && let Origin::Var(v) = b.origin
                    {
                        self.ir.vars[v as usize].reads += 1;
                        self.ir.vars[v as usize].consumed = true;
                    }
                }
                proc_macro2::TokenTree::Group(g) => self.mention_vars(g.stream()),
                _ => {}
            }
        }
    }
}

/// Whether an address argument may be a host name that needs a lookup: a string literal that
/// is no socket or IP address, or a `format!` whose text before the first placeholder is no
/// IP address (`format!("[::1]:{port}")` is one). Other values (a `SocketAddr`, a tuple of an
/// `IpAddr` and a port, a variable) are taken for resolved addresses.
/// The local a method chain starts from (`opts` in `opts.read(true).custom_flags(..)`).
fn chain_root(mut e: &Expr) -> Option<&syn::Ident> {
    for _ in 0..64 {
        match strip(e) {
            Expr::MethodCall(m) => e = &m.receiver,
            Expr::Try(t) => e = &t.expr,
            Expr::Reference(r) => e = &r.expr,
            Expr::Path(p) => return p.path.get_ident(),
            _ => return None,
        }
    }
    None
}

/// Whether an argument names `word`: a path segment (`libc::O_NONBLOCK`, also inside
/// `O_NONBLOCK | O_CLOEXEC` or `OFlag::O_NONBLOCK.bits()`) or a boolean literal (`true`).
fn names_word(e: &Expr, word: &str, depth: u32) -> bool {
    if depth > 16 {
        return false;
    }
    let d = depth + 1;
    match strip(e) {
        Expr::Lit(l) => {
            matches!(&l.lit, syn::Lit::Bool(b) if (if b.value { "true" } else { "false" }) == word)
        }
        Expr::Path(p) => p.path.segments.iter().any(|s| s.ident == word),
        Expr::Binary(b) => names_word(&b.left, word, d) || names_word(&b.right, word, d),
        Expr::Unary(u) => names_word(&u.expr, word, d),
        Expr::Cast(c) => names_word(&c.expr, word, d),
        Expr::Reference(r) => names_word(&r.expr, word, d),
        Expr::Field(f) => names_word(&f.base, word, d),
        Expr::Call(c) => {
            names_word(&c.func, word, d) || c.args.iter().any(|a| names_word(a, word, d))
        }
        Expr::MethodCall(m) => {
            names_word(&m.receiver, word, d) || m.args.iter().any(|a| names_word(a, word, d))
        }
        _ => false,
    }
}

fn may_be_host_name(e: &Expr) -> bool {
    let ip = |s: &str| {
        s.parse::<std::net::SocketAddr>().is_ok() || s.parse::<std::net::IpAddr>().is_ok()
    };
    match strip(e) {
        Expr::Reference(r) => may_be_host_name(&r.expr),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => !ip(&s.value()),
        Expr::Macro(m) if m.mac.path.is_ident("format") => {
            let Ok(args) = m
                .mac
                .parse_body_with(Punctuated::<Expr, Comma>::parse_terminated)
            else {
                return true;
            };
            let Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })) = args.first()
            else {
                return true;
            };
            let text = s.value();
            let head = text.split('{').next().unwrap_or("");
            let host = head.strip_suffix(':').unwrap_or(head);
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            !ip(host)
        }
        _ => false,
    }
}

/// Whether `full` constructs a wrapper that holds its one argument: `new` or `from` of a shared
/// pointer, a box or a lock.
fn wraps_value(full: &str) -> bool {
    matches!(last_seg(full), "new" | "from")
        && parent_path(full).is_some_and(|p| types::is_transparent(p) || types::is_lock(p))
}

impl Lowerer<'_, '_> {
    /// Whether package type `ty` may be an alias that another file declares
    /// (`use super::Session;` for `type Session = Arc<Mutex<TcpStream>>;`): only the link tells
    /// whether its methods are the package's or a library type's. A struct or enum this scope
    /// declares is none; aliases declared in this file are expanded before.
    fn may_name_alias(&self, ty: &TypeRef) -> bool {
        let TypeRef::Pkg(sp) = ty else { return false };
        let Anchor::Module { scope, up: 0 } = sp.anchor else {
            return true;
        };
        let [name] = sp.segs.as_slice() else {
            return true;
        };
        !self
            .maps
            .get(scope as usize)
            .is_some_and(|m| matches!(m.items.get(name), Some(ItemIr::Type(i)) if *i != u32::MAX))
    }
}
