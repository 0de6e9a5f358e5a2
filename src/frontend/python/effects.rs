//! The events of knowledge-base APIs that run no body: blocking calls, loops and handles,
//! resource creation and closing, waits, hygiene findings, and uses of tracked receivers.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Arguments, Expr};
use ruff_text_size::TextRange;

use super::calls::{Callee, Recv};
use super::exprs::{Dest, Val};
use super::imports::dotted;
use super::ir::{AttrCreate, AttrDef, Def, Pending, RefKind};
use super::lower::{Lowerer, NameRes, ScopeKind};
use crate::kb::{Api, Concept};
use crate::model::{
    Flavor, GlobalId, Language, ResourceRef, RuntimeRef, StorageKind, VarKind, WaitKind,
};

impl<'a> Lowerer<'a> {
    /// Emits the events of an API without a body. Returns whether it took care of the
    /// receiver (a close or use of a tracked resource).
    pub(super) fn simple_api(
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
            // A call on a socket in non-blocking mode returns at once, as do calls in a `try`
            // that handles `BlockingIOError`.
            Concept::Blocking
                if callee.nonblocking
                    || self.nonblocking_io > 0
                    || self.returns_at_once(api, callee, args) => {}
            Concept::Blocking => self.emit(
                range,
                K::Blocking {
                    api: api.path.clone(),
                },
            ),
            // An explicit loop argument (`asyncio.all_tasks(loop)`) needs no running loop.
            Concept::NeedsRuntime if names_loop(api, args) => {}
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
                    message: format!("`{}` patches the event loop to allow nesting", api.path)
                        .into(),
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
                        )
                        .into(),
                    },
                );
            }
            Concept::RuntimeNew | Concept::Handle => {
                let runtime_new = api.concept == Concept::RuntimeNew;
                // A runtime a `with` statement makes (`with asyncio.Runner() as runner:`) is
                // bound to its name and closed where the block ends.
                let bound = match dest {
                    Dest::Bind(name, r) => Some((name, r)),
                    Dest::With(Some(name)) if runtime_new => Some((name, range)),
                    _ => None,
                };
                let var = match (bound, dest) {
                    (Some((name, r)), _) if name != "_" => {
                        let kind = if runtime_new {
                            VarKind::Runtime
                        } else {
                            VarKind::Handle
                        };
                        let v = self.new_var(name, r, kind);
                        let ty = callee
                            .made_as
                            .clone()
                            .or_else(|| api.returns.clone())
                            .unwrap_or_else(|| api.path.clone());
                        self.bind_var(name, v, Some(&ty));
                        val.consumed = true;
                        Some(v)
                    }
                    // A loop stored in an attribute or a container, returned or passed on lives
                    // beyond this body: track it so that its escape is seen.
                    (_, Dest::SelfAttr(_) | Dest::Keep | Dest::Return) if runtime_new => {
                        Some(self.new_var("<loop>", range, VarKind::Runtime))
                    }
                    _ => None,
                };
                val.ty = callee.made_as.clone().or_else(|| api.returns.clone());
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
                            disabled: crate::model::Drivers::NONE,
                            api: api.path.clone(),
                        },
                    );
                    val.place = self.made(range);
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
                    // Outside a coroutine, the loop installed on the thread, if any.
                    if !self.in_async() {
                        let cell = self.installed_loop_cell();
                        val.place = self.load(range, cell);
                    }
                }
            }
            Concept::RuntimeEnter => {
                // The loop installed as the thread's current one, for later `get_event_loop()`.
                let installed = args
                    .and_then(|a| a.args.first())
                    .and_then(|e| self.passed_place(e));
                if installed.is_some() {
                    let cell = self.installed_loop_cell();
                    self.flow_assign(range, Some(cell), installed);
                }
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
                self.emit(
                    range,
                    K::RuntimeEnter {
                        runtime,
                        api: api.path.clone(),
                    },
                );
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
            // Built so that it keeps nothing between uses (`poolclass=NullPool`): bound to no
            // runtime.
            Concept::RuntimeBound if self.made_unbound(api, args) => {}
            Concept::RuntimeBound => {
                let made = self.create(api, callee.made_as.as_deref(), range, dest, val);
                if let Some(var) = made
                    && !self.lent_vars.is_empty()
                {
                    let lent = std::mem::take(&mut self.lent_vars);
                    self.lent.insert(var, lent);
                }
                // A client on a connection the caller made and closes (`Redis(connection_pool=
                // pool)`) is released at once: closing it would close nothing of its own.
                if borrows_connection(api, args)
                    && let Some(var) = made
                {
                    self.emit(range, K::Escape { var });
                }
            }
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
                if api.resets
                    && let Some(place) = callee.recv_place
                {
                    self.fact(range, crate::model::FactKind::Reset { place });
                }
                // Told to close what the client borrowed, the close releases it too.
                if let Recv::Var(v) = &callee.recv
                    && closes_borrowed(api, args)
                {
                    for lent in self.lent.get(v).cloned().unwrap_or_default() {
                        self.emit(
                            range,
                            K::Close {
                                resource: ResourceRef::Local(lent),
                            },
                        );
                    }
                }
                return self.receiver_close(callee, range);
            }
            _ => {}
        }
        false
    }

    /// Emits the creation of a runtime-bound resource, stored according to `dest`; `made_as`
    /// is the type of the value when a project class derived from the API's type is called.
    /// Returns the local variable that holds it, if one does.
    fn create(
        &mut self,
        api: &Api,
        made_as: Option<&str>,
        range: TextRange,
        dest: Dest<'_>,
        val: &mut Val,
    ) -> Option<crate::model::VarId> {
        use crate::model::EventKind as K;
        let ty = made_as
            .map(str::to_string)
            .or_else(|| api.returns.clone())
            .unwrap_or_else(|| api.path.clone());
        val.ty = Some(ty.clone());
        let make = |this: &mut Self, resource: Option<ResourceRef>| {
            this.emit(
                range,
                K::Create {
                    resource,
                    api: api.path.as_str().into(),
                    binds_now: api.binds_now,
                    made_as: made_as.map(|t| class_name(t).into()),
                },
            );
            this.made(range)
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
                    val.place = make(self, Some(ResourceRef::Global(GlobalId(g))));
                    val.consumed = kind != ScopeKind::Module;
                    if kind == ScopeKind::Module {
                        self.module_types.insert(Name::new(name), ty);
                        val.consumed = true;
                    }
                } else if kind == ScopeKind::ClassBody {
                    let g = self.class_attr_global(name, r, &api.path);
                    val.place = make(self, g.map(|g| ResourceRef::Global(GlobalId(g))));
                    val.consumed = true;
                } else if let Some(g) = result_global {
                    self.set_global_api(g, &api.path);
                    val.place = make(self, Some(ResourceRef::Global(GlobalId(g))));
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
                    val.place = make(self, Some(ResourceRef::Local(v)));
                    val.consumed = true;
                    return Some(v);
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
                    self.ir.attr_creates.push(AttrCreate {
                        class: class.into_boxed_str(),
                        attr: attr.into(),
                        api: api.path.clone().into_boxed_str(),
                        binds_now: api.binds_now,
                        made_as: made_as.map(|t| class_name(t).into_boxed_str()),
                    });
                    let what = Pending::AttrCreate(self.ir.attr_creates.len() as u32 - 1);
                    self.emit_pending(range, what);
                    val.place = self.made_pending(range);
                } else {
                    val.place = make(self, None);
                }
            }
            Dest::Return | Dest::With(_) if result_global.is_some() => {
                let g = result_global.unwrap_or_default();
                self.set_global_api(g, &api.path);
                val.place = make(self, Some(ResourceRef::Global(GlobalId(g))));
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
                val.place = make(self, Some(ResourceRef::Local(v)));
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
                return Some(v);
            }
        }
        None
    }

    fn set_global_api(&mut self, g: u32, api: &str) {
        if let Some(global) = self.ir.globals.get_mut(g as usize)
            && global.api.is_empty()
        {
            global.api = api.to_string();
        }
    }

    /// `x.close()`-like calls on a tracked receiver.
    pub(super) fn receiver_close(&mut self, callee: &Callee, range: TextRange) -> bool {
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

    /// `x.dispose()` on a value of unknown type (a module global of another module), where the
    /// knowledge base names a reset of that method name: whatever resource the flow finds in
    /// `x` is reset.
    pub(super) fn reset_by_method_name(&mut self, callee: &Callee, range: TextRange) {
        if let (Some(m), Some(place)) = (callee.method, callee.recv_place)
            && self.cx.methods.contains(m)
            && self.cx.method_apis(m).iter().any(|a| a.resets)
        {
            self.fact(range, crate::model::FactKind::Reset { place });
        }
    }

    /// `x.aclose()` on a value of unknown type that the flow follows, where the knowledge base
    /// names a resource close of that method name: whatever resource the flow finds in `x` is
    /// closed.
    pub(super) fn close_resource_by_method_name(&mut self, callee: &Callee, range: TextRange) {
        if let (Some(m), Some(place)) = (callee.method, callee.recv_place)
            && self.cx.index.resource_closes.contains(m)
        {
            self.fact(range, crate::model::FactKind::Close { place });
        }
    }

    /// A method call on a tracked receiver that no API entry described: a use.
    pub(super) fn receiver_effect(&mut self, callee: &Callee, range: TextRange) {
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
            // A method the knowledge base names a state check of some type (`set` of
            // `asyncio.Event`) goes with the path: the linker, which knows the attribute's
            // type, tells whether the call touches the loop.
            Recv::SelfAttr(p) => match callee.method {
                Some(m)
                    if self
                        .cx
                        .kb
                        .state_method(crate::model::Language::Python, m)
                        .is_some() =>
                {
                    self.pending_ref(range, &dotted(p, m), RefKind::Value);
                }
                _ => self.pending_ref(range, p, RefKind::Value),
            },
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
    pub(super) fn deprecated_keywords(&mut self, path: &str, args: &Arguments, range: TextRange) {
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
                        message: message.into(),
                    },
                );
            }
        }
    }
}

impl<'a> Lowerer<'a> {
    /// Keyword names that some knowledge-base entry marks as removed (`loop`).
    fn deprecated_kw_names(&self) -> &rustc_hash::FxHashSet<String> {
        &self.cx.deprecated_keywords
    }
}

/// The class name of an instance type (`pkg.clients.ApiClient()` is `ApiClient`).
fn class_name(ty: &str) -> String {
    let path = ty.strip_suffix("()").unwrap_or(ty);
    path.rsplit('.').next().unwrap_or(path).to_string()
}

/// Whether a call passes the loop explicitly, through the argument or keyword the knowledge base
/// names (`unless_arg`, `unless_keyword`).
impl Lowerer<'_> {
    /// Whether a blocking API returns without waiting at this call: an IP address literal
    /// where a host name would need a lookup, or a flag the knowledge base names in the
    /// call's arguments (through a module constant made from it too) or in those of the call
    /// that made the receiver.
    fn returns_at_once(&self, api: &Api, callee: &Callee, args: Option<&Arguments>) -> bool {
        if let (Some(n), Some(args)) = (api.unless_ip_literal, args) {
            let host = args.args.get(n as usize).or_else(|| {
                args.keywords
                    .iter()
                    .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == "host"))
                    .map(|k| &k.value)
            });
            if let Some(Expr::StringLiteral(s)) = host
                && s.value.to_str().parse::<std::net::IpAddr>().is_ok()
            {
                return true;
            }
        }
        let Some(flag) = api.unless_flag.as_deref() else {
            return false;
        };
        if callee.recv_flags.iter().any(|f| f.as_str() == flag) {
            return true;
        }
        let Some(args) = args else { return false };
        let mut named = Vec::new();
        for e in args
            .args
            .iter()
            .chain(args.keywords.iter().map(|k| &k.value))
        {
            super::guards::constants_named(e, &mut named, 0);
        }
        named.iter().any(|n| {
            n.as_str() == flag
                || self
                    .module_constants
                    .get(n)
                    .is_some_and(|parts| parts.iter().any(|p| p.as_str() == flag))
        })
    }
}

/// Whether a client constructor is given a connection the caller owns, by a keyword the
/// knowledge base lists (`connection_pool=`, `http_client=`), with the literal keywords it
/// requires besides (`connector_owner=False`).
pub(super) fn borrows_connection(api: &Api, args: Option<&Arguments>) -> bool {
    let Some(args) = args else { return false };
    let given = |name: &str| {
        args.keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
    };
    !api.borrows.is_empty()
        && api.borrows_when.iter().all(|cond| {
            cond.split_once('=').is_some_and(|(name, value)| {
                given(name.trim()).is_some_and(|k| literal(&k.value) == Some(value.trim()))
            })
        })
        && api
            .borrows
            .iter()
            .any(|b| given(b).is_some_and(|k| !matches!(k.value, Expr::NoneLiteral(_))))
}

impl Lowerer<'_> {
    /// Whether a runtime-bound constructor is given a keyword argument that the knowledge
    /// base lists as making its value bound to no runtime (`poolclass=NullPool`): the value
    /// a dotted path naming it, or a literal.
    fn made_unbound(&self, api: &Api, args: Option<&Arguments>) -> bool {
        let Some(args) = args else { return false };
        !api.unbound_when.is_empty()
            && args.keywords.iter().any(|k| {
                let Some(name) = k.arg.as_ref() else {
                    return false;
                };
                let value = self
                    .qualify(&k.value)
                    .or_else(|| literal(&k.value).map(str::to_string));
                api.unbound_when.iter().any(|cond| {
                    cond.split_once('=').is_some_and(|(n, v)| {
                        n.trim() == name.as_str() && value.as_deref() == Some(v.trim())
                    })
                })
            })
    }
}

/// Whether a client's close is told, by a parameter the knowledge base lists (by keyword, or
/// by position in the listed order), to close the connection the client borrowed as well
/// (`aclose(close_connection_pool=True)`, `aclose(True)`).
fn closes_borrowed(api: &Api, args: Option<&Arguments>) -> bool {
    let told = |e: &Expr| !matches!(literal(e), Some("False" | "None"));
    args.is_some_and(|args| {
        args.args.iter().take(api.closes_borrowed.len()).any(told)
            || args.keywords.iter().any(|k| {
                k.arg
                    .as_ref()
                    .is_some_and(|a| api.closes_borrowed.iter().any(|c| c == a.as_str()))
                    && told(&k.value)
            })
    })
}

/// The source form of a constant argument (`False`, `None`, `3`), as the knowledge base
/// writes it.
fn literal(e: &Expr) -> Option<&'static str> {
    match e {
        Expr::BooleanLiteral(b) if b.value => Some("True"),
        Expr::BooleanLiteral(_) => Some("False"),
        Expr::NoneLiteral(_) => Some("None"),
        _ => None,
    }
}

fn names_loop(api: &Api, args: Option<&Arguments>) -> bool {
    let Some(args) = args else { return false };
    let positional = api.unless_arg.is_some_and(|n| {
        args.args.len() > n as usize && !matches!(args.args[n as usize], Expr::NoneLiteral(_))
    });
    let keyword = api.unless_keyword.as_deref().is_some_and(|k| {
        args.keywords.iter().any(|kw| {
            kw.arg.as_ref().is_some_and(|a| a.id.as_str() == k)
                && !matches!(kw.value, Expr::NoneLiteral(_))
        })
    });
    positional || keyword
}
