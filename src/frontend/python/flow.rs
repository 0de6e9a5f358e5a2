//! Flow facts of Python bodies: where the value of an expression goes. Places are file-local
//! here (temporaries of this file's functions, one per local name; parameters; instance
//! attributes as cells named by class and attribute; module globals as cells named by module
//! and name, so that a name imported elsewhere is the same cell); the project linker makes
//! them program-wide.
//!
//! Calls of project functions and attributes created in methods become events only when the
//! linker resolves them: facts about them name the pending reference (its index in the
//! function's pending list, marked with [`PENDING`]) and the linker puts the event in its place.

use ruff_python_ast::Expr;
use ruff_python_ast::name::Name;
use ruff_text_size::{Ranged, TextRange};

use super::lower::{Lowerer, NameRes, ScopeKind};
use crate::model::{Cell, CellId, CellKind, EventKind, FactKind, FnId, Place};

/// What a call passes: how many positional arguments, and the names of its keyword arguments.
pub(super) type Passed = (usize, Box<[Name]>);

/// What the arguments `args` pass, when no argument is unpacked (`*xs`, `**kw`).
pub(super) fn passed_shape(args: &ruff_python_ast::Arguments) -> Option<Passed> {
    if args.args.iter().any(|a| matches!(a, Expr::Starred(_)))
        || args.keywords.iter().any(|k| k.arg.is_none())
    {
        return None;
    }
    let keywords = args
        .keywords
        .iter()
        .filter_map(|k| k.arg.as_ref().map(|a| Name::new(a.id.as_str())))
        .collect();
    Some((args.args.len(), keywords))
}

/// Marks the event index of a fact that names a pending reference of its function instead.
pub const PENDING: u32 = 1 << 31;

impl Lowerer<'_> {
    /// A fresh temporary of the current function.
    pub(super) fn temp(&mut self) -> Place {
        let f = self.scope().fn_id;
        self.ir.temps.push(f);
        Place::Temp(self.ir.temps.len() as u32 - 1)
    }

    /// Records a fact in the current function.
    pub(super) fn fact(&mut self, range: TextRange, kind: FactKind) {
        let span = self.span(range);
        let func = self.scope().fn_id;
        self.ir.flow.push(func, span, kind);
    }

    /// Index of the last event of the current function.
    fn last_event(&self) -> Option<u32> {
        let f = &self.ir.functions[self.scope().fn_id as usize].func;
        (f.events.len() as u32).checked_sub(1)
    }

    /// The value made by the event just emitted goes to a fresh temporary, which is returned.
    pub(super) fn made(&mut self, range: TextRange) -> Option<Place> {
        let event = self.last_event()?;
        let to = self.temp();
        self.fact(range, FactKind::New { event, to });
        Some(to)
    }

    /// The value made by what the last pending reference of the current function resolves to
    /// (a created attribute) goes to a fresh temporary, which is returned.
    pub(super) fn made_pending(&mut self, range: TextRange) -> Option<Place> {
        let event = self.last_pending()?;
        let to = self.temp();
        self.fact(range, FactKind::New { event, to });
        Some(to)
    }

    /// The last pending reference of the current function, as a fact's event index.
    pub(super) fn last_pending(&self) -> Option<u32> {
        let n = self.ir.functions[self.scope().fn_id as usize].pending.len() as u32;
        n.checked_sub(1).map(|i| i | PENDING)
    }

    /// The call the last pending reference stands for (if the linker resolves it to a project
    /// function) receives `args` (receiver first for methods) and the keyword arguments
    /// `kwargs`, which the linker binds by the callee's parameter names; its result goes to a
    /// fresh temporary, which is returned.
    pub(super) fn pending_call(
        &mut self,
        range: TextRange,
        args: Vec<Option<Place>>,
        kwargs: &[(Name, Place)],
    ) -> Place {
        let result = self.temp();
        // Arguments the flow does not follow are not bound.
        let args = match args.iter().rposition(Option::is_some) {
            Some(last) => {
                let mut args = args;
                args.truncate(last + 1);
                args
            }
            None => Vec::new(),
        };
        if let Some(event) = self.last_pending() {
            self.fact(
                range,
                FactKind::Call {
                    event,
                    args,
                    result: Some(result),
                },
            );
            self.ir.flow.keywords_of_last(kwargs);
        }
        result
    }

    /// The last call recorded passes `shift` leading arguments the call does not show (the
    /// receiver, or the instance a class call builds) and then what `passed` tells
    /// ([`passed_shape`]): noted for the linker, which gives a parameter the call leaves out
    /// its default.
    pub(super) fn note_passed(&mut self, range: TextRange, shift: u8, passed: Option<Passed>) {
        let Some((positional, keywords)) = passed else {
            return;
        };
        let span = self.span(range);
        let func = self.scope().fn_id;
        self.ir.flow.note_passed(
            func,
            (span.start, span.end),
            usize::from(shift) + positional,
            keywords,
        );
    }

    /// `to = from`, when both are known.
    pub(super) fn flow_assign(&mut self, range: TextRange, to: Option<Place>, from: Option<Place>) {
        if let (Some(to), Some(from)) = (to, from)
            && to != from
        {
            self.fact(range, FactKind::Assign { to, from });
        }
    }

    /// The value in `place` is used (a method called or an attribute read on it); `method`
    /// names the method called when it is a state check of some type (see
    /// [`crate::kb::Kb::state_method`]). A method's own receiver (`self.m()`) is not
    /// followed: the objects the flow makes are library values, whose methods are not the
    /// project's.
    pub(super) fn flow_use(&mut self, range: TextRange, place: Option<Place>, method: Option<u16>) {
        match place {
            Some(Place::Param(f, 0))
                if self.scope_class().is_some() && f.0 == self.scope().fn_id => {}
            Some(place) => self.fact(range, FactKind::Use { place, method }),
            None => {}
        }
    }

    /// The value in `place` is handed to code the program does not see (a library call).
    pub(super) fn flow_escape(&mut self, range: TextRange, place: Option<Place>) {
        if let Some(place) = place {
            self.fact(range, FactKind::Escape { place });
        }
    }

    /// A mention of a local list or set that holds followed values (`tasks.append(t)` before):
    /// iterated, indexed, unpacked, passed on or kept, it hands its values on, unless only an
    /// inspecting builtin looks at it (`len(tasks)`).
    pub(super) fn container_read(&mut self, n: &ruff_python_ast::ExprName) {
        if self.inspecting {
            return;
        }
        let name = n.id.as_str();
        let held = self
            .scopes
            .iter()
            .rev()
            .take_while(|s| s.kind != ScopeKind::Module)
            .any(|s| s.containers.contains(name));
        if held {
            let place = self.name_place(name);
            self.flow_escape(n.range, place);
            let elements = Name::new(format!("{name}[]"));
            let element = self
                .scopes
                .iter()
                .rev()
                .take_while(|s| s.kind != ScopeKind::Module)
                .find_map(|s| s.flow_names.get(&elements).copied());
            self.flow_escape(n.range, element);
        }
    }

    /// The value in `place` is entered as a context manager, which closes it at the end of
    /// the block.
    pub(super) fn flow_close(&mut self, range: TextRange, place: Option<Place>) {
        if let Some(place) = place {
            self.fact(range, FactKind::Close { place });
        }
    }

    /// The place of the elements of the container `base` (a name or `self.attr`): for a
    /// module global or an attribute, a cell of its own named `name[]`; for a local, a
    /// temporary of the body. `create`: whether a local's temporary or an attribute's cell is
    /// made when missing (a store) or only looked up (a load).
    pub(super) fn element_place(&mut self, base: &Expr, create: bool) -> Option<Place> {
        match base {
            Expr::Name(n) => {
                let name = n.id.as_str();
                match self.name_place(name) {
                    Some(Place::Cell(c)) => {
                        let cell = self.ir.cells[c.0 as usize].clone();
                        Some(self.cell(Cell {
                            name: format!("{}[]", cell.name),
                            ..cell
                        }))
                    }
                    Some(place @ Place::Temp(_)) => {
                        let key = Name::new(format!("{name}[]"));
                        if let Some(&p) = self.scope().flow_names.get(&key) {
                            return Some(p);
                        }
                        // A local list or set the body appends to holds its elements itself.
                        if !create
                            && self
                                .scopes
                                .iter()
                                .rev()
                                .take_while(|s| s.kind != ScopeKind::Module)
                                .any(|s| s.containers.contains(name))
                        {
                            return Some(place);
                        }
                        if !create || self.scope().kind != ScopeKind::Function {
                            return None;
                        }
                        let t = self.temp();
                        self.scope_mut().flow_names.insert(key, t);
                        Some(t)
                    }
                    // A list or set handed in: a local one holds its elements itself.
                    Some(place @ Place::Param(..)) if !create => Some(place),
                    Some(_) => None,
                    None => {
                        if !self.module_containers.contains(name)
                            || !matches!(self.resolve_name(name), NameRes::Plain)
                        {
                            return None;
                        }
                        let module = self.mf.name.clone();
                        Some(self.static_cell(&module, &format!("{name}[]")))
                    }
                }
            }
            Expr::Attribute(a) => {
                let Expr::Name(b) = &*a.value else {
                    return None;
                };
                let class = self.method_self(b.id.as_str())?;
                let name = format!("{}[]", a.attr.id);
                if create {
                    return Some(self.attr_cell(&class, &name));
                }
                // A load sees the elements a method of the class stored before it.
                let cell = Cell {
                    kind: CellKind::Field,
                    owner: class,
                    name,
                };
                self.flow_cells
                    .get(&cell)
                    .map(|&id| Place::Cell(CellId(id)))
            }
            _ => None,
        }
    }

    /// The place holding the elements that iterating `iter` gives (`for x in clients`,
    /// `for x in self.clients.values()`), when the flow follows that container's elements.
    pub(super) fn iterated_elements(&mut self, iter: &Expr) -> Option<Place> {
        let base = match iter {
            Expr::Call(c)
                if c.arguments.is_empty()
                    && let Expr::Attribute(a) = &*c.func
                    && a.attr.id.as_str() == "values" =>
            {
                &*a.value
            }
            Expr::Name(_) | Expr::Attribute(_) => iter,
            _ => return None,
        };
        match self.element_place(base, false)? {
            cell @ Place::Cell(_) => self.load(iter.range(), cell),
            place => Some(place),
        }
    }

    /// A fresh temporary holding what `cell` holds.
    pub(super) fn load(&mut self, range: TextRange, cell: Place) -> Option<Place> {
        let Place::Cell(id) = cell else { return None };
        let to = self.temp();
        self.fact(range, FactKind::Load { to, cell: id });
        Some(to)
    }

    /// The place a name read here refers to: a local of an enclosing body (one temporary per
    /// name and body), a parameter, or a module global (its own or an imported one). `None`
    /// for names the flow does not follow (builtins, locals never bound to a followed value).
    pub(super) fn name_place(&mut self, name: &str) -> Option<Place> {
        let innermost = self.scopes.len().saturating_sub(1);
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            match scope.kind {
                ScopeKind::Module => break,
                ScopeKind::ClassBody if i != innermost => continue,
                _ => {}
            }
            if let Some(&p) = scope.flow_names.get(name) {
                return Some(p);
            }
            if scope.globals_decl.contains(name) {
                let module = self.mf.name.clone();
                return Some(self.static_cell(&module, name));
            }
            if let Some(k) = scope.params.iter().position(|p| p.as_str() == name) {
                return Some(Place::Param(FnId(scope.fn_id), k as u32));
            }
            // A local that shadows a module name but holds nothing followed.
            if scope.locals.contains(name) || scope.vars.contains_key(name) {
                return None;
            }
        }
        match self.resolve_name(name) {
            NameRes::Path(p) => {
                if let Some(&place) = self.path_places.get(&*p) {
                    return place;
                }
                let place = match self.is_project_path(&p) {
                    true => super::scope::split_last(&p).map(|(m, last)| self.static_cell(m, last)),
                    false => None,
                };
                // Remembered once the prescan is over (whether the file is a Streamlit
                // script, which decides the kind of its cells, is known then).
                if self.module_res.is_some() {
                    self.path_places.insert(p, place);
                }
                place
            }
            NameRes::Var(_) if self.module_vars.contains_key(name) => {
                let module = self.mf.name.clone();
                Some(self.static_cell(&module, name))
            }
            _ => None,
        }
    }

    /// The place a name bound here goes to: a module global at module level or when declared
    /// `global`, a parameter rebound, or the body's temporary for the name.
    pub(super) fn bind_place(&mut self, name: &str) -> Option<Place> {
        let scope = self.scope();
        match scope.kind {
            ScopeKind::ClassBody => return None,
            ScopeKind::Module => {
                let module = self.mf.name.clone();
                return Some(self.static_cell(&module, name));
            }
            _ => {}
        }
        if scope.globals_decl.contains(name) {
            let module = self.mf.name.clone();
            return Some(self.static_cell(&module, name));
        }
        if scope.nonlocals.contains(name) {
            return self.name_place(name);
        }
        if let Some(&p) = scope.flow_names.get(name) {
            return Some(p);
        }
        if let Some(k) = scope.params.iter().position(|p| p.as_str() == name) {
            return Some(Place::Param(FnId(scope.fn_id), k as u32));
        }
        let t = self.temp();
        self.scope_mut().flow_names.insert(Name::new(name), t);
        Some(t)
    }

    /// The cell of attribute `attr` of `path` when `path` is a module of the project: its
    /// module global of that name (`inbox.jobs` after `from app import inbox`).
    pub(super) fn module_attr_place(&mut self, path: &str, attr: &str) -> Option<Place> {
        self.cx
            .modules
            .contains(path)
            .then(|| self.static_cell(path, attr))
    }

    /// The cell of module global `name` of module `module`. A Streamlit script's own
    /// module-level values are made anew on every rerun: they live for one run of the script
    /// body, like the attributes of an object it builds, not for the process.
    pub(super) fn static_cell(&mut self, module: &str, name: &str) -> Place {
        let per_run = self.streamlit && module == self.mf.name;
        self.cell(Cell {
            kind: if per_run {
                CellKind::Field
            } else {
                CellKind::Static
            },
            owner: module.to_string(),
            name: name.to_string(),
        })
    }

    /// The cell of attribute `attr` of the instances of class `class` (a dotted path, which
    /// tells apart classes of the same name in different modules).
    /// In a class method, the attributes of its class (`cls.x`) are the class's: a static
    /// cell named by the class path.
    pub(super) fn attr_cell(&mut self, class: &str, attr: &str) -> Place {
        let class_level = self
            .scopes
            .iter()
            .rev()
            .find(|s| s.kind == ScopeKind::Function)
            .is_some_and(|s| s.class_level && s.class.as_ref().is_some_and(|(c, _)| c == class));
        if class_level {
            return self.cell(Cell {
                kind: CellKind::Static,
                owner: class.to_string(),
                name: attr.to_string(),
            });
        }
        self.cell(Cell {
            kind: CellKind::Field,
            owner: class.to_string(),
            name: attr.to_string(),
        })
    }

    fn cell(&mut self, cell: Cell) -> Place {
        if let Some(&id) = self.flow_cells.get(&cell) {
            return Place::Cell(CellId(id));
        }
        let id = self.ir.cells.len() as u32;
        self.flow_cells.insert(cell.clone(), id);
        self.ir.cells.push(cell);
        Place::Cell(CellId(id))
    }

    /// `container[key] = value`: the container's elements hold the value too, beside the
    /// others.
    pub(super) fn store_element(&mut self, range: TextRange, cell: CellId, from: Option<Place>) {
        if let Some(from) = from {
            // A method filling its instance's container (a per-key cache) fills it lazily.
            self.note_lazy(cell);
            self.fact(
                range,
                FactKind::Store {
                    cell,
                    from,
                    overwrite: false,
                },
            );
        }
    }

    /// `self.attr = value`: the attribute of the class's instances holds the value, dropping
    /// the one it held.
    pub(super) fn store_attr(&mut self, range: TextRange, cell: Place, from: Option<Place>) {
        if let (Place::Cell(cell), Some(from)) = (cell, from) {
            self.fact(
                range,
                FactKind::Store {
                    cell,
                    from,
                    overwrite: true,
                },
            );
        }
    }

    /// `self.attr = value` where the attribute was found unset (`if self.attr is None:`), or
    /// the value of a cached property: the attribute of the class's instances is filled once,
    /// replacing nothing. A method other than `__init__` doing so makes the class lazy.
    pub(super) fn store_lazy(&mut self, range: TextRange, cell: Place, from: Option<Place>) {
        if let (Place::Cell(cell), Some(from)) = (cell, from) {
            self.note_lazy(cell);
            self.fact(
                range,
                FactKind::Store {
                    cell,
                    from,
                    overwrite: false,
                },
            );
        }
    }

    /// A method other than `__init__` that fills an attribute of its own class's instances
    /// makes the class lazy ([`super::ir::ClassIr::lazy`]).
    fn note_lazy(&mut self, cell: CellId) {
        let scope = self.scope();
        let Some((class, _)) = &scope.class else {
            return;
        };
        let c = &self.ir.cells[cell.0 as usize];
        if c.kind != CellKind::Field
            || c.owner != *class
            || self.ir.functions[scope.fn_id as usize]
                .func
                .name
                .ends_with(".__init__")
        {
            return;
        }
        let class = class.clone();
        if let Some(c) = self.ir.classes.iter_mut().rev().find(|c| c.path == class) {
            c.lazy = true;
        }
    }

    /// Runtime events emitted from index `from` on at `range` (a spawn, a block-on, a close)
    /// act on the value in `place` (read first when it is a cell).
    pub(super) fn subject_from_cell(&mut self, from: usize, range: TextRange, place: Place) {
        let span = self.span(range);
        let f = &self.ir.functions[self.scope().fn_id as usize].func;
        let events: Vec<u32> = (from..f.events.len())
            .filter(|&i| {
                let ev = &f.events[i];
                ev.span == span
                    && matches!(
                        ev.kind,
                        EventKind::Run { .. }
                            | EventKind::RuntimeClose { .. }
                            | EventKind::BlockingEntry { .. }
                    )
            })
            .map(|i| i as u32)
            .collect();
        if events.is_empty() {
            return;
        }
        let to = match place {
            Place::Cell(id) => {
                let to = self.temp();
                self.fact(range, FactKind::Load { to, cell: id });
                to
            }
            other => other,
        };
        for event in events {
            self.fact(range, FactKind::Subject { event, place: to });
        }
    }
}

impl Lowerer<'_> {
    /// `return value`: the function's result holds the value. A cached factory (or a fixture
    /// wider than one test) hands the same value to every caller: it is kept in a cell named
    /// after the function, which outlives the call.
    pub(super) fn flow_return(&mut self, range: TextRange, place: Option<Place>) {
        let Some(from) = place else { return };
        let scope = self.scope();
        if scope.kind != ScopeKind::Function {
            return;
        }
        let (f, cached) = (scope.fn_id, scope.result_global.is_some());
        let own = scope
            .class
            .as_ref()
            .zip(scope.instance_cached.as_ref())
            .map(|((c, _), attr)| (c.clone(), attr.clone()));
        self.fact(
            range,
            FactKind::Assign {
                to: Place::Ret(FnId(f)),
                from,
            },
        );
        // A cached property (or method) keeps what it returns in an attribute of the
        // instance, which later reads get.
        if let Some((class, attr)) = own {
            let cell = self.attr_cell(&class, &attr);
            self.store_lazy(range, cell, Some(from));
        }
        if cached {
            let name = format!("{}()", self.ir.functions[f as usize].func.name);
            let cell = self.cell(Cell {
                kind: CellKind::Static,
                owner: self.mf.name.clone(),
                name,
            });
            self.flow_assign(range, Some(cell), Some(from));
        }
    }
}

impl Lowerer<'_> {
    /// The place of `base.attr` where `base` is a value of the project type `ty` (`called`: just
    /// after the pending attribute reference is recorded): what the property getter returns if `attr` is
    /// one (the linker makes the call), and what the attribute of the class's instances holds.
    pub(super) fn typed_attr_place(
        &mut self,
        range: TextRange,
        base: &str,
        ty: &str,
        attr: &str,
        called: bool,
    ) -> Place {
        let to = if called {
            let recv = self.name_place(base);
            self.pending_call(range, vec![recv], &[])
        } else {
            self.temp()
        };
        if let Some(class) = ty.strip_suffix("()")
            && let Place::Cell(cell) = self.attr_cell(class, attr)
        {
            self.fact(range, FactKind::Load { to, cell });
        }
        to
    }

    /// The value a block-on run returns (what its body returns) goes to a fresh temporary,
    /// which is returned. The run is the last event of the current function.
    pub(super) fn run_result(&mut self, range: TextRange) -> Option<Place> {
        let event = self.last_event()?;
        let result = self.temp();
        self.fact(
            range,
            FactKind::Call {
                event,
                args: Vec::new(),
                result: Some(result),
            },
        );
        Some(result)
    }

    /// The body being lowered returns the value in `place`.
    pub(super) fn body_returns(&mut self, range: TextRange, place: Option<Place>) {
        let f = FnId(self.scope().fn_id);
        self.flow_assign(range, Some(Place::Ret(f)), place);
    }
}

impl Lowerer<'_> {
    /// `x.close()` on a value of unknown type that the flow follows, where the knowledge base
    /// names a runtime close of that method name: a close of whatever runtime the flow finds
    /// in `x` (nothing, when it holds none).
    pub(super) fn close_by_method_name(&mut self, callee: &super::calls::Callee, range: TextRange) {
        let runtime = match callee.recv_runtime {
            None => crate::model::RuntimeRef::Unknown,
            Some(r @ crate::model::RuntimeRef::Var(_)) => r,
            Some(_) => return,
        };
        if callee.recv_place.is_none() || callee.path.is_some() {
            return;
        }
        // A method of an instance of a project class is that class's.
        if callee
            .typed
            .as_deref()
            .and_then(super::scope::split_last)
            .is_some_and(|(recv, _)| super::types::is_class_instance(recv))
        {
            return;
        }
        let Some(api) = callee
            .method
            .and_then(|m| self.cx.index.runtime_closes.get(m).copied())
        else {
            return;
        };
        self.emit(
            range,
            EventKind::RuntimeClose {
                runtime,
                api: api.path.clone(),
            },
        );
    }

    /// The cell standing for the event loop installed as the thread's current one
    /// (`set_event_loop(loop)`), which a later `get_event_loop()` outside a coroutine returns.
    pub(super) fn installed_loop_cell(&mut self) -> Place {
        self.cell(Cell {
            kind: CellKind::Static,
            owner: String::new(),
            name: "<installed event loop>".to_string(),
        })
    }
}

impl Lowerer<'_> {
    /// The place of an argument that the calling code evaluates for a body it hands on (the
    /// arguments of a coroutine given to a loop, the `args` of a thread), without lowering it
    /// again: a name, an attribute (chain) of a value of a known project type, or an element
    /// of a container the flow follows.
    pub(super) fn passed_place(&mut self, e: &ruff_python_ast::Expr) -> Option<Place> {
        use ruff_python_ast::Expr;
        match e {
            Expr::Name(n) => self.name_place(n.id.as_str()),
            Expr::Attribute(a) => {
                let (base, attrs) = super::imports::attr_chain(&a.value)?;
                let ty = self.receiver_type(base)?;
                let attr = a.attr.id.as_str();
                if attrs.is_empty() {
                    Some(self.typed_attr_place(a.range, base, &ty, attr, false))
                } else {
                    self.chain_place(a.range, &ty, &attrs, attr)
                }
            }
            // An element of a container the flow follows (`clients[0]`).
            Expr::Subscript(s) => match self.element_place(&s.value, false)? {
                cell @ Place::Cell(_) => self.load(s.range, cell),
                place => Some(place),
            },
            _ => None,
        }
    }

    /// A fresh temporary holding attribute `attr` of the value reached from a value of project
    /// type `ty` through `attrs` (`self.inner.client`: `ty` is the class's instance, `attrs` is
    /// `[inner]`). The cell is named by the type path of its owner, which the linker resolves
    /// to the owning class (`pkg.App().inner` is an instance of `pkg.Inner`).
    pub(super) fn chain_place(
        &mut self,
        range: TextRange,
        ty: &str,
        attrs: &[&str],
        attr: &str,
    ) -> Option<Place> {
        let owner = match attrs {
            [] if super::types::is_class_instance(ty) && !ty.starts_with('?') => {
                ty.strip_suffix("()").unwrap_or(ty).to_string()
            }
            _ => super::imports::join_path(ty, attrs),
        };
        let cell = self.attr_cell(&owner, attr);
        self.load(range, cell)
    }
}
