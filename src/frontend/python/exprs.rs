//! Expressions: where values go (awaited, bound, stored, discarded), name and attribute
//! references to tracked variables and globals, assignments and `with` blocks.

use ruff_python_ast::name::Name;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{CmpOp, Expr, ExprAttribute, ExprName, StmtWith};
use ruff_text_size::{Ranged, TextRange};

use super::imports::{attr_chain, dotted, join_path};
use super::ir::{AttrDef, Def, RefKind};
use super::lower::{Lowerer, MAX_DEPTH, NameKind, NameRes, Scope, ScopeKind};
use super::types::{instance_of, is_project_type};
use crate::model::{
    CellKind, EventKind, FactKind, FnKind, Place, ResourceRef, RuntimeRef, VarId, VarKind,
};

/// Where the value of an expression goes.
#[derive(Debug, Clone, Copy)]
pub enum Dest<'e> {
    /// Thrown away (an expression statement).
    Discard,
    /// Only read (an operand, a condition, a receiver).
    Read,
    /// Kept: passed as an argument, stored in a container, raised.
    Keep,
    /// Returned or yielded.
    Return,
    /// Awaited.
    Await,
    /// Bound to a plain name.
    Bind(&'e str, TextRange),
    /// Assigned to `self.<attr>`.
    SelfAttr(&'e str),
    /// The context manager of a `with` item, bound to a name or not.
    With(Option<&'e str>),
}

impl Dest<'_> {
    /// Whether the value goes somewhere the flow follows it (a binding, an argument, a
    /// return, an attribute), rather than being only looked at or thrown away.
    pub fn travels(self) -> bool {
        !matches!(self, Dest::Discard | Dest::Read)
    }

    /// Whether the value leaves the current body or is kept alive by something else.
    pub fn escapes(self) -> bool {
        matches!(self, Dest::Keep | Dest::Return | Dest::SelfAttr(_))
    }
}

/// What lowering an expression learned about its value.
#[derive(Debug, Default, Clone)]
pub struct Val {
    /// Dotted type of the value, when known.
    pub ty: Option<String>,
    /// Whether the destination binding was taken care of (a tracked variable was made).
    pub consumed: bool,
    /// Resource created by the expression (for `with` blocks).
    pub created: Option<ResourceRef>,
    /// Runtime the value refers to (an event loop handle).
    pub runtime: Option<RuntimeRef>,
    /// The place holding the value, for flow facts.
    pub place: Option<crate::model::Place>,
    /// For an attribute of a value the flow follows (`make().chat`), the place of that value.
    pub base: Option<crate::model::Place>,
}

/// Lowers the direct child expressions of an expression, with one destination.
struct Children<'l, 'a, 'd> {
    lowerer: &'l mut Lowerer<'a>,
    dest: Dest<'d>,
}

impl<'e> Visitor<'e> for Children<'_, '_, '_> {
    fn visit_expr(&mut self, expr: &'e Expr) {
        let v = self.lowerer.expr(expr, self.dest);
        // Kept in a value the flow does not follow (a tuple, a list, the result of `a or b`):
        // the value goes where the flow loses it.
        if matches!(self.dest, Dest::Keep) {
            self.lowerer.flow_escape(expr.range(), v.place);
        }
    }
}

impl<'a> Lowerer<'a> {
    /// Lowers an expression whose value goes to `dest`.
    pub fn expr(&mut self, e: &Expr, dest: Dest<'_>) -> Val {
        if self.depth > MAX_DEPTH {
            return Val::default();
        }
        self.depth += 1;
        let v = self.expr_inner(e, dest);
        self.depth -= 1;
        v
    }

    fn expr_inner(&mut self, e: &Expr, dest: Dest<'_>) -> Val {
        match e {
            Expr::Call(c) => self.call(c, dest),
            Expr::Await(a) => {
                // `x = await factory()` binds what the awaited call makes.
                let inner = match dest {
                    Dest::Bind(..) | Dest::SelfAttr(_) | Dest::Return => dest,
                    _ => Dest::Await,
                };
                self.awaited = true;
                let v = self.expr(&a.value, inner);
                self.awaited = false;
                v
            }
            Expr::Name(n) => match self.scope().attr_alias.get(n.id.as_str()) {
                Some(path) => {
                    let path = path.clone();
                    self.pending_ref(n.range, &path, RefKind::Value);
                    Val::default()
                }
                None => {
                    let mut v = self.name_load(n, dest);
                    if v.place.is_none() && dest.travels() {
                        v.place = self.name_place(n.id.as_str());
                    }
                    self.container_read(n);
                    v
                }
            },
            // An identity test (`self._s is None`) only looks at the reference.
            Expr::Compare(c)
                if c.ops
                    .iter()
                    .all(|op| matches!(op, CmpOp::Is | CmpOp::IsNot))
                    && c.comparators
                        .iter()
                        .chain(std::iter::once(&*c.left))
                        .any(|e| e.is_none_literal_expr())
                    && c.comparators
                        .iter()
                        .chain(std::iter::once(&*c.left))
                        .all(|e| {
                            e.is_none_literal_expr()
                                || matches!(e, Expr::Name(_))
                                || attr_chain(e).is_some()
                        }) =>
            {
                // The test reads a module global, without using what it holds: a function
                // that stores a value there after `if client is None:` keeps the first one.
                for e in c.comparators.iter().chain(std::iter::once(&*c.left)) {
                    if let Expr::Name(n) = e
                        && let Some(from @ Place::Cell(cell)) = self.name_place(n.id.as_str())
                        && self.ir.cells[cell.0 as usize].kind == CellKind::Static
                    {
                        let to = self.temp();
                        self.fact(n.range, FactKind::Assign { to, from });
                    }
                }
                Val::default()
            }
            Expr::Attribute(a) => self.attr_load(a, dest),
            Expr::Lambda(l) => {
                let parent = self.scope().fn_id;
                let id = self.new_fn(
                    "<lambda>".into(),
                    l.range,
                    FnKind::Closure,
                    false,
                    Some(parent),
                );
                self.ir.functions[id as usize].func.callers_unknown = true;
                self.lambda_ids.push((l.range, id));
                let mut scope = Scope::new(ScopeKind::Function, id, false);
                if let Some(p) = &l.parameters {
                    for p in p.iter() {
                        scope.locals.insert(p.name().id.clone());
                    }
                }
                self.scopes.push(scope);
                let val = self.expr(&l.body, Dest::Return);
                self.note_return_type(val.ty.as_deref());
                self.flow_return(l.body.range(), val.place);
                self.scopes.pop();
                Val::default()
            }
            Expr::Named(n) => {
                self.assign(&n.target, &n.value, None);
                Val::default()
            }
            Expr::ListComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::Generator(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::DictComp(c) => match &c.key {
                Some(k) => self.comprehension(&c.generators, &[k, &c.value]),
                None => self.comprehension(&c.generators, &[&c.value]),
            },
            Expr::List(_) | Expr::Tuple(_) | Expr::Set(_) | Expr::Dict(_) | Expr::Starred(_) => {
                self.children(e, Dest::Keep);
                Val::default()
            }
            Expr::Yield(y) => {
                if let Some(v) = &y.value {
                    // Handed to whatever drives the generator: for a fixture, the test.
                    let val = self.expr(v, Dest::Return);
                    if self.scope().fixture {
                        self.note_return_type(val.ty.as_deref());
                        self.flow_return(v.range(), val.place);
                    } else {
                        self.flow_escape(v.range(), val.place);
                    }
                }
                Val::default()
            }
            Expr::YieldFrom(y) => {
                let v = self.expr(&y.value, Dest::Await);
                self.iterate(&y.value, &v, false);
                Val::default()
            }
            Expr::If(i) => {
                self.expr(&i.test, Dest::Read);
                let d = if matches!(dest, Dest::Read | Dest::Discard) {
                    Dest::Read
                } else {
                    Dest::Keep
                };
                for e in [&i.body, &i.orelse] {
                    let v = self.expr(e, d);
                    if matches!(d, Dest::Keep) {
                        self.flow_escape(e.range(), v.place);
                    }
                }
                Val::default()
            }
            Expr::BoolOp(_) if matches!(dest, Dest::Read | Dest::Discard) => {
                self.children(e, Dest::Read);
                Val::default()
            }
            // `a or b` is one of its operands: it holds what they hold (and hands them on, for
            // the rules that do not follow it).
            Expr::BoolOp(b) => {
                let mut result = None;
                for value in &b.values {
                    let v = self.expr(value, Dest::Keep);
                    self.flow_escape(value.range(), v.place);
                    if v.place.is_some() {
                        let to = match result {
                            Some(to) => to,
                            None => *result.insert(self.temp()),
                        };
                        self.flow_assign(value.range(), Some(to), v.place);
                    }
                }
                Val {
                    place: result,
                    ..Val::default()
                }
            }
            // An element of a container whose elements the flow follows.
            Expr::Subscript(s) if !matches!(dest, Dest::Discard) => {
                let v = self.expr(&s.value, Dest::Read);
                self.expr(&s.slice, Dest::Read);
                // An element of an instance of a project class: its `__getitem__`.
                self.special_calls(&s.value, &v, &["__getitem__"]);
                let place = match self.element_place(&s.value, false) {
                    Some(cell @ Place::Cell(_)) => self.load(s.range, cell),
                    other => other,
                };
                Val {
                    place,
                    ..Val::default()
                }
            }
            // `k in x` asks an instance of a project class through its `__contains__`.
            Expr::Compare(c)
                if c.ops
                    .iter()
                    .any(|op| matches!(op, CmpOp::In | CmpOp::NotIn)) =>
            {
                self.expr(&c.left, Dest::Read);
                for (op, right) in c.ops.iter().zip(&c.comparators) {
                    let v = self.expr(right, Dest::Read);
                    if matches!(op, CmpOp::In | CmpOp::NotIn) {
                        self.special_calls(right, &v, &["__contains__"]);
                    }
                }
                Val::default()
            }
            Expr::BinOp(b) => {
                let left = self.expr(&b.left, Dest::Read);
                self.expr(&b.right, Dest::Read);
                // `path / "name"` keeps the path's type.
                Val {
                    ty: left.ty.filter(|_| b.op == ruff_python_ast::Operator::Div),
                    ..Val::default()
                }
            }
            _ => {
                self.children(e, Dest::Read);
                Val::default()
            }
        }
    }

    /// Lowers the direct children of `e` with one destination.
    fn children(&mut self, e: &Expr, dest: Dest<'_>) {
        let mut c = Children {
            lowerer: self,
            dest,
        };
        visitor::walk_expr(&mut c, e);
    }

    fn comprehension(
        &mut self,
        generators: &[ruff_python_ast::Comprehension],
        elts: &[&Expr],
    ) -> Val {
        for (i, g) in generators.iter().enumerate() {
            if i > 0 {
                self.scope_mut().loop_depth += 1;
            }
            self.note_consumed(&g.iter);
            let iter = self.expr(&g.iter, Dest::Read);
            self.iterate(&g.iter, &iter, g.is_async);
            if i > 0 {
                self.scope_mut().loop_depth -= 1;
            }
        }
        self.scope_mut().loop_depth += 1;
        for g in generators {
            self.unbind_target(&g.target);
            for cond in &g.ifs {
                self.expr(cond, Dest::Read);
            }
        }
        for e in elts {
            self.expr(e, Dest::Keep);
        }
        self.scope_mut().loop_depth -= 1;
        Val::default()
    }

    /// Emits what reading a tracked variable means for its kind.
    pub fn var_read(&mut self, v: VarId, range: TextRange, dest: Dest<'_>) {
        let kind = self.ir.vars[v.0 as usize].kind;
        let consumes = matches!(
            dest,
            Dest::Keep | Dest::Return | Dest::Await | Dest::SelfAttr(_) | Dest::With(_)
        );
        self.read_var(v, consumes);
        match kind {
            VarKind::Resource => {
                if dest.escapes() {
                    self.emit(range, EventKind::Escape { var: v });
                    // What the client borrowed goes with it.
                    for lent in self.lent.get(&v).cloned().unwrap_or_default() {
                        self.emit(range, EventKind::Escape { var: lent });
                    }
                } else {
                    self.emit(
                        range,
                        EventKind::Use {
                            resource: ResourceRef::Local(v),
                        },
                    );
                }
            }
            VarKind::Runtime | VarKind::Handle if dest.escapes() => {
                self.emit(range, EventKind::Escape { var: v });
            }
            _ => {}
        }
    }

    fn name_load(&mut self, n: &ExprName, dest: Dest<'_>) -> Val {
        let name = n.id.as_str();
        let sanctioned = (!self.table_reads.is_empty()
            || self.module_containers.contains(name)
            || !self.scope().table_locals.is_empty())
            && self.note_table_read(name, n.range);
        match self.resolve_name(name) {
            NameRes::Var(v) => {
                if let Dest::Bind(alias, _) = dest {
                    // `c = client`: the new name refers to the same tracked variable.
                    self.read_var(v, true);
                    self.scope_mut().vars.insert(Name::new(alias), v);
                    return Val {
                        consumed: true,
                        ..Val::default()
                    };
                }
                self.var_read(v, n.range, dest);
                let runtime = matches!(
                    self.ir.vars[v.0 as usize].kind,
                    VarKind::Runtime | VarKind::Handle
                )
                .then_some(RuntimeRef::Var(v));
                Val {
                    ty: self.type_of_name(name),
                    runtime,
                    ..Val::default()
                }
            }
            NameRes::GlobalAlias(g) => {
                // Returning the value hands it to the caller, who uses it (or not).
                if !matches!(dest, Dest::Return) {
                    self.emit(
                        n.range,
                        EventKind::Use {
                            resource: ResourceRef::Global(crate::model::GlobalId(g)),
                        },
                    );
                }
                Val::default()
            }
            NameRes::Fixture => {
                self.pending_fixture(n.range, name, RefKind::Value);
                Val {
                    ty: self.type_of_name(name),
                    ..Val::default()
                }
            }
            NameRes::LocalFn(f) => {
                if matches!(dest, Dest::Return) && self.scope().kind == ScopeKind::Function {
                    let fid = self.scope().fn_id as usize;
                    self.ir.functions[fid].returns_fn = Some(f);
                    // Who calls a returned function is the linker's to say (a decorator's
                    // wrapper is called where the decorated functions are).
                    self.ir.functions[f as usize].returned = true;
                } else {
                    self.ir.functions[f as usize].func.callers_unknown = true;
                }
                Val::default()
            }
            NameRes::Path(p) => {
                // Returning a module global hands it to the caller, who uses it (or not).
                let returns_global = matches!(dest, Dest::Return)
                    && *p == *self.module_path(name)
                    && matches!(self.ir.defs.get(name), Some(Def::Global(_)));
                if self.is_project_path(&p) && !returns_global && !sanctioned {
                    self.pending_ref(n.range, &p, RefKind::Value);
                }
                Val {
                    ty: self.type_of_name(name),
                    ..Val::default()
                }
            }
            NameRes::Local | NameRes::Plain | NameRes::Builtin => Val {
                ty: self
                    .type_of_name(name)
                    .or_else(|| self.method_self(name).map(|c| instance_of(&c))),
                ..Val::default()
            },
        }
    }

    fn attr_load(&mut self, a: &ExprAttribute, dest: Dest<'_>) -> Val {
        if let Some((base, attrs)) = attr_chain(&a.value) {
            let attr = a.attr.id.as_str();
            if attrs.is_empty() && self.self_attr_ref(base, attr).is_some() {
                let class = self.scope_class().unwrap_or_default();
                let path = dotted(&class, attr);
                let cell = self.attr_cell(&class, attr);
                let place = self.load(a.range, cell);
                // An accessor returning the attribute: its callers use it, not the accessor.
                if matches!(dest, Dest::Return) && self.scope().kind == ScopeKind::Function {
                    let fid = self.scope().fn_id as usize;
                    let name = self.ir.functions[fid].func.name.clone();
                    let property = self.ir.functions[fid].property;
                    let method = name.rsplit('.').next().unwrap_or(&name).to_string();
                    self.attr_getters
                        .insert((class.clone(), method), (path, property));
                    return Val {
                        place,
                        ..Val::default()
                    };
                }
                self.pending_ref(a.range, &path, RefKind::Value);
                return Val {
                    ty: Some(dotted(&instance_of(&class), attr)),
                    place,
                    ..Val::default()
                };
            }
            // An attribute of a value of a known project type: a property read calls the getter.
            if let Some(ty) = self.receiver_type(base) {
                let full = dotted(&join_path(&ty, &attrs), attr);
                self.pending_ref(a.range, &full, RefKind::Attr);
                let place = match (attrs.is_empty(), dest.travels()) {
                    (true, true) => Some(self.typed_attr_place(a.range, base, &ty, attr, true)),
                    // A field of a field (`self.inner.client`): the owning class's cell.
                    (false, true) => self.chain_place(a.range, &ty, &attrs, attr),
                    _ => None,
                };
                // A method of a followed value kept or handed on (`client.aclose`) keeps a
                // hold on the value.
                let base = match attrs.is_empty() && dest.escapes() {
                    true => self.name_place(base),
                    false => None,
                };
                // A library attribute the knowledge base types (`path.parent` is a path).
                let full = self
                    .cx
                    .apis(&full)
                    .iter()
                    .find_map(|a| a.returns.clone())
                    .unwrap_or(full);
                return Val {
                    ty: Some(full),
                    place,
                    base,
                    ..Val::default()
                };
            }
            match self.resolve_name(base) {
                NameRes::Path(p) if self.is_project_path(&p) => {
                    let mut full = join_path(&p, &attrs);
                    full.push('.');
                    full.push_str(attr);
                    self.pending_ref(a.range, &full, RefKind::Attr);
                    // A module's global read through the module (`inbox.jobs`): the cell that
                    // `from app.inbox import jobs` reads too.
                    let place = match attrs.is_empty() {
                        true => self.module_attr_place(&p, attr),
                        false => None,
                    };
                    return Val {
                        place,
                        ..Val::default()
                    };
                }
                // A method or an attribute of a followed local kept or handed on
                // (`client.aclose`) keeps a hold on it.
                NameRes::Local | NameRes::Builtin if dest.escapes() => {
                    return Val {
                        base: self.name_place(base),
                        ..Val::default()
                    };
                }
                NameRes::Path(_) | NameRes::Plain | NameRes::Local | NameRes::Builtin => {
                    return Val::default();
                }
                _ => {}
            }
        }
        let inner = self.expr(
            &a.value,
            if dest.escapes() {
                Dest::Keep
            } else {
                Dest::Read
            },
        );
        // A library attribute the knowledge base types (`Path(p).parent` is a path).
        let ty = inner.ty.filter(|t| !is_project_type(t)).and_then(|t| {
            self.cx
                .apis(&dotted(&t, a.attr.id.as_str()))
                .iter()
                .find_map(|a| a.returns.clone())
        });
        Val {
            ty,
            base: inner.place.or(inner.base),
            ..Val::default()
        }
    }

    /// The attribute an accessor call of the class (`self._session()`) returns.
    fn accessor_result(&self, value: &Expr) -> Option<String> {
        let (a, property) = match value {
            Expr::Call(c) => match &*c.func {
                Expr::Attribute(a) => (a, false),
                _ => return None,
            },
            Expr::Attribute(a) => (a, true),
            _ => return None,
        };
        let Expr::Name(base) = &*a.value else {
            return None;
        };
        let class = self.method_self(base.id.as_str())?;
        self.attr_getters
            .get(&(class, a.attr.id.to_string()))
            .filter(|(_, p)| *p == property)
            .map(|(path, _)| path.clone())
    }

    /// The type path of a name used as a receiver, when it is a value of a project type:
    /// `self` in a method, or a name whose type is known.
    pub fn receiver_type(&self, base: &str) -> Option<String> {
        if let Some(class) = self.self_class(base) {
            return Some(instance_of(class));
        }
        // Only a project type makes a receiver type: a name without one needs no resolving.
        let ty = self.type_ref(base).filter(|t| is_project_type(t))?;
        match self.resolve_name(base) {
            NameRes::Path(_) | NameRes::LocalFn(_) | NameRes::GlobalAlias(_) => None,
            _ => Some(ty.to_string()),
        }
    }

    /// The class path of the method being lowered.
    pub fn scope_class(&self) -> Option<String> {
        self.method_scope().map(|(class, _)| class.to_string())
    }

    /// If `base.attr` is `self.<resource attribute>`, the attribute name.
    pub fn self_attr_ref(&self, base: &str, attr: &str) -> Option<()> {
        let (class, self_name) = self.method_scope()?;
        if self_name != base {
            return None;
        }
        self.class_attrs.get(class)?.contains(attr).then_some(())
    }

    /// Lowers `target = value` (and walrus, annotated assignment).
    pub fn assign(&mut self, target: &Expr, value: &Expr, annotation: Option<&Expr>) {
        match target {
            Expr::Name(n) => {
                let name = n.id.as_str();
                self.scope_mut().attr_alias.remove(name);
                self.scope_mut().coros.remove(name);
                self.scope_mut().table_locals.remove(name);
                self.scope_mut().local_tables.remove(name);
                self.note_table_literal(name, value);
                // A lambda is made when its expression is lowered: its index is the next one.
                let lambda = matches!(value, Expr::Lambda(_)).then_some(self.ir.functions.len());
                let val = match value {
                    // The partial stands for its function wherever the name is used: only its
                    // other arguments are evaluated here.
                    Expr::Call(c) if self.aliased_partial(name).is_some() => {
                        for a in c.arguments.args.iter().skip(1) {
                            let v = self.expr(a, Dest::Keep);
                            self.flow_escape(a.range(), v.place);
                        }
                        for k in &c.arguments.keywords {
                            let v = self.expr(&k.value, Dest::Keep);
                            self.flow_escape(k.value.range(), v.place);
                        }
                        Val::default()
                    }
                    _ => {
                        self.sanction_element(value);
                        self.expr(value, Dest::Bind(name, n.range))
                    }
                };
                // `global s; s = None` in a function empties the module global: what a later
                // run stores there is tied to no loop yet.
                if value.is_none_literal_expr()
                    && !self.at_module_level()
                    && self.scope().globals_decl.contains(name)
                    && let Some(place) = self.bind_place(name)
                {
                    self.fact(n.range, FactKind::Reset { place });
                }
                // Filled again under a test of its state: a close empties it for the next run.
                if !self.at_module_level()
                    && self.scope().globals_decl.contains(name)
                    && self.state_guards.iter().any(|g| g.as_str() == name)
                    && !self.state_checked.iter().any(|g| g.as_str() == name)
                {
                    self.state_checked.push(Name::new(name));
                }
                if val.place.is_some() || !self.at_module_level() {
                    let to = self.bind_place(name);
                    self.flow_assign(n.range, to, val.place);
                }
                if val.consumed {
                    return;
                }
                self.unbind(name);
                self.note_table_local(name, value);
                self.note_local_callables(name, value);
                self.note_literal_lambdas(name, value);
                self.note_loop_key(name, value);
                if let Some(path) = self.accessor_result(value) {
                    self.scope_mut().attr_alias.insert(Name::new(name), path);
                }
                let ty = annotation.and_then(|a| self.annotation_type(a)).or(val.ty);
                if let Some(ty) = &ty
                    && self.scope().kind == ScopeKind::ClassBody
                    && let Some(class) = self.enclosing_class()
                {
                    self.record_attr_type(&class, name, ty);
                }
                if let Some(ty) = ty {
                    if self.at_module_level() {
                        self.module_types.insert(Name::new(name), ty);
                    } else {
                        self.scope_mut().types.insert(Name::new(name), ty);
                    }
                }
                if self.at_module_level() && self.scopes.len() <= 2 {
                    self.module_binding(name, value, lambda);
                }
            }
            Expr::Attribute(a) => {
                let self_attr = attr_chain(&a.value)
                    .filter(|(_, attrs)| attrs.is_empty())
                    .and_then(|(base, _)| self.method_self(base));
                match self_attr {
                    Some(class) => {
                        let attr = a.attr.id.as_str();
                        let val = self.expr(value, Dest::SelfAttr(attr));
                        let lazy = self.lazy_attrs.iter().any(|n| n.as_str() == attr);
                        if !lazy || val.place.is_none() {
                            self.note_renewed(target);
                        }
                        if val.place.is_some() {
                            let cell = self.attr_cell(&class, attr);
                            if lazy {
                                self.store_lazy(a.range, cell, val.place);
                            } else {
                                self.store_attr(a.range, cell, val.place);
                            }
                            // A loop of a project class deriving from a loop type has the
                            // library loop's methods.
                            let loop_ty = match &val.ty {
                                Some(ty) if super::types::is_project_type(ty) => {
                                    self.library_type(ty)
                                }
                                ty => ty.clone(),
                            };
                            if let (Some(RuntimeRef::Var(_)), Some(ty)) = (val.runtime, loop_ty) {
                                self.loop_attrs
                                    .entry((class.clone(), attr.to_string()))
                                    .or_insert(ty);
                            }
                        }
                        let ty = annotation.and_then(|a| self.annotation_type(a)).or(val.ty);
                        if let Some(ty) = ty {
                            self.record_attr_type(&class, attr, &ty);
                        }
                        if let Some(p) = self.qualify(value).filter(|p| self.is_project_path(p)) {
                            self.record_attr(&class, attr, AttrDef::Alias(p.into_boxed_str()));
                        }
                        self.note_attr_callables(a, value);
                    }
                    None => {
                        // Kept by another object (`app.state.pool = ..`): the flow does not
                        // follow it there, so it is handed on.
                        let val = self.expr(value, Dest::Keep);
                        self.flow_escape(a.range, val.place);
                        // An instance of a project class (`api.client = ..`) keeps it in the
                        // attribute cell its methods read.
                        let class = attr_chain(&a.value)
                            .filter(|(_, attrs)| attrs.is_empty())
                            .and_then(|(base, _)| self.receiver_type(base))
                            .and_then(|ty| ty.strip_suffix("()").map(str::to_string));
                        if let (Some(class), Some(_)) = (class, val.place) {
                            let cell = self.attr_cell(&class, a.attr.id.as_str());
                            self.store_attr(a.range, cell, val.place);
                        }
                        self.expr(&a.value, Dest::Read);
                    }
                }
            }
            // `container[key] = value`: the container's elements hold the value.
            Expr::Subscript(s) => {
                self.note_table_store(&s.value, value);
                let val = self.expr(value, Dest::Keep);
                self.unbind_target(target);
                if val.place.is_some() && self.keyed_by_loop(&s.slice) {
                    // One element per loop: what the flow follows leaves it here.
                    self.flow_escape(s.range, val.place);
                } else if val.place.is_some() {
                    match self.element_place(&s.value, true) {
                        Some(Place::Cell(cell)) => self.store_element(s.range, cell, val.place),
                        Some(to) => {
                            if let Expr::Name(n) = &*s.value {
                                self.scope_mut().containers.insert(n.id.clone());
                            }
                            self.flow_assign(s.range, Some(to), val.place);
                        }
                        // A container the flow does not follow.
                        None => self.flow_escape(s.range, val.place),
                    }
                }
            }
            _ => {
                let val = self.expr(value, Dest::Keep);
                self.flow_escape(value.range(), val.place);
                self.unbind_target(target);
            }
        }
    }

    /// Records what a module-level name is bound to (an object of a project class, an alias,
    /// a lambda (`lambda`: its function index), a partial of a project function that binds no
    /// positional argument).
    fn module_binding(&mut self, name: &str, value: &Expr, lambda: Option<usize>) {
        if matches!(self.ir.defs.get(name), Some(Def::Global(_))) {
            return;
        }
        if let Some(f) = lambda
            && self.module_names.get(name) == Some(&NameKind::Object)
        {
            // Called by its name, like a function defined there: from outside when the name
            // is public, unless the project calls it.
            self.ir.defs.insert(Name::new(name), Def::Fn(f as u32));
            let public = !name.starts_with('_');
            let irf = &mut self.ir.functions[f];
            irf.func.callers_unknown = public;
            irf.public_only = public;
            return;
        }
        if let Some((path, k)) = self.aliased_partial(name) {
            let def = match k {
                0 => Def::Alias(path),
                k => Def::Partial(path, k),
            };
            self.ir.defs.insert(Name::new(name), def);
            return;
        }
        let target = match value {
            Expr::Call(c) => Some((&*c.func, true)),
            Expr::Name(_) | Expr::Attribute(_) => Some((value, false)),
            _ => None,
        };
        let Some((expr, is_call)) = target else {
            return;
        };
        // A method of an instance built in place (`Loops()._make()`): what it returns.
        let built_method = || match expr {
            Expr::Attribute(a) if is_call => match &*a.value {
                Expr::Call(c) if c.arguments.is_empty() => self
                    .qualify(&c.func)
                    .filter(|p| self.is_project_path(p))
                    .map(|p| format!("{p}().{}", a.attr.id)),
                _ => None,
            },
            _ => None,
        };
        let Some(path) = self
            .qualify(expr)
            .filter(|p| self.is_project_path(p))
            .or_else(built_method)
        else {
            return;
        };
        // A library subclass's instance is what the library constructor makes.
        if is_call && self.subclass(&path).is_some() {
            return;
        }
        let def = if is_call {
            Def::Instance(path.into_boxed_str())
        } else {
            Def::Alias(path.into_boxed_str())
        };
        self.ir.defs.insert(Name::new(name), def);
        self.module_names
            .entry(Name::new(name))
            .and_modify(|k| *k = NameKind::Object)
            .or_insert(NameKind::Object);
        // The name now resolves to the module's object (unless an import binds it).
        if !self.imports.contains(name) {
            let path: std::rc::Rc<str> = self.module_path(name).into();
            if let Some(table) = &mut self.module_res {
                table.insert(Name::new(name), super::lower::ModuleRes::Path(path));
            }
        }
    }

    /// The project function a module-level name stands for when the module binds it to
    /// `functools.partial(f, ..)`, and the positional arguments the partial binds (a call of
    /// the name binds its own arguments after them).
    fn aliased_partial(&self, name: &str) -> Option<(Box<str>, u8)> {
        if !self.at_module_level() || self.scopes.len() > 2 {
            return None;
        }
        match self.module_partials.get(name) {
            Some((path, k)) if self.is_project_path(path) => Some((path.clone(), *k)),
            _ => None,
        }
    }

    /// Lowers a `with` / `async with` statement.
    pub fn with_stmt(&mut self, w: &StmtWith) {
        let mut closes: Vec<(TextRange, ResourceRef)> = Vec::new();
        // Runtimes the statement makes, closed when the block ends.
        let mut runtime_closes: Vec<(TextRange, VarId, String)> = Vec::new();
        let mut expects: Vec<Vec<String>> = Vec::new();
        // Objects a `closing(..)` item closes at the end, by the name that holds them.
        let mut closed_by_name: Vec<(TextRange, Expr)> = Vec::new();
        // Context managers of project classes: their `__exit__`/`__aexit__`, called after the body.
        let mut exits: Vec<(TextRange, String, Option<Place>)> = Vec::new();
        let (enter, exit) = if w.is_async {
            ("__aenter__", "__aexit__")
        } else {
            ("__enter__", "__exit__")
        };
        for item in &w.items {
            let var = match item.optional_vars.as_deref() {
                Some(Expr::Name(n)) => Some(n.id.as_str()),
                _ => None,
            };
            let mut ctx = &item.context_expr;
            // `closing(x)`: the block enters `x` itself, and closes it at the end.
            let closing = self.closes_at_exit(ctx);
            if let Some(inner) = closing {
                ctx = inner;
            }
            // What the block closes by name at its end: the object, or the name it binds.
            if closing.is_some() {
                let name = match (ctx, item.optional_vars.as_deref()) {
                    (e, _) if attr_chain(e).is_some() => Some(e.clone()),
                    (_, Some(e @ Expr::Name(_))) => Some(e.clone()),
                    _ => None,
                };
                if let Some(e) = name {
                    closed_by_name.push((item.range(), e));
                }
            }
            match ctx {
                Expr::Call(c) => {
                    let val = self.call(c, Dest::With(var));
                    // Entering what project code hands back and binding nothing (a lock a
                    // getter keeps: `async with get_lock(k):`) is all that is done with it: a
                    // use. A value bound by `as` is used where that name is.
                    if var.is_none()
                        && val.created.is_none()
                        && val.ty.as_deref().is_some_and(is_project_type)
                    {
                        self.flow_use(ctx.range(), val.place, None);
                    }
                    self.flow_close(item.range(), val.place);
                    if let Some(ty) = val.ty.as_deref().filter(|t| is_project_type(t)) {
                        self.dunder_call(ctx.range(), ty, enter, val.place);
                        exits.push((item.range(), ty.to_string(), val.place));
                    }
                    if let Some(name) = var {
                        let to = self.bind_place(name);
                        self.flow_assign(item.range(), to, val.place);
                    }
                    if let Some(what) = self.expects_failure(c, val.ty.as_deref()) {
                        expects.push(what);
                    }
                    if let Some(r) = val.created {
                        closes.push((item.range(), r));
                    }
                    if let (Some(RuntimeRef::Var(v)), Some(ty)) = (val.runtime, val.ty.as_deref())
                        && self.ir.vars[v.0 as usize].kind == VarKind::Runtime
                        && closing.is_none()
                    {
                        runtime_closes.push((item.range(), v, format!("{ty}.__exit__")));
                    }
                    if let Some(name) = var
                        && !val.consumed
                    {
                        self.unbind(name);
                        if let Some(ty) = val.ty {
                            self.scope_mut().types.insert(Name::new(name), ty);
                        }
                    }
                }
                Expr::Name(n) => {
                    self.ir.entered.push(n.id.clone());
                    if let NameRes::Var(v) = self.resolve_name(n.id.as_str())
                        && self.ir.vars[v.0 as usize].kind == VarKind::Resource
                    {
                        closes.push((item.range(), ResourceRef::Local(v)));
                    }
                    let val = self.expr(ctx, Dest::Read);
                    // Entering the context manager calls a method of the value.
                    let place = val.place.or_else(|| self.name_place(n.id.as_str()));
                    self.flow_use(ctx.range(), place, None);
                    self.flow_close(item.range(), place);
                    if let Some(ty) = self.receiver_type(n.id.as_str()) {
                        self.dunder_call(ctx.range(), &ty, enter, place);
                        exits.push((item.range(), ty, place));
                    }
                    if let Some(name) = var {
                        self.unbind(name);
                    }
                }
                _ => {
                    let val = self.expr(ctx, Dest::Read);
                    self.flow_use(ctx.range(), val.place, None);
                    self.flow_close(item.range(), val.place);
                    if let Some(name) = var {
                        self.unbind(name);
                    }
                }
            }
            if let Some(t) = item.optional_vars.as_deref()
                && var.is_none()
            {
                self.unbind_target(t);
            }
        }
        // `with pytest.raises(E):` asserts that the block fails with E.
        for what in expects {
            self.emit(
                w.range(),
                EventKind::ExpectsFailure {
                    what,
                    how: crate::model::Asserted::Fails,
                },
            );
        }
        self.body(&w.body);
        for (range, ty, place) in exits.into_iter().rev() {
            self.dunder_call(range, &ty, exit, place);
        }
        // `closing(x)` calls `x.close()` as the block ends.
        for (range, name) in closed_by_name.into_iter().rev() {
            let call = ruff_python_ast::ExprCall {
                node_index: ruff_python_ast::AtomicNodeIndex::NONE,
                range_start: range.start(),
                func: Box::new(Expr::Attribute(ExprAttribute {
                    node_index: ruff_python_ast::AtomicNodeIndex::NONE,
                    range,
                    value: Box::new(name),
                    attr: ruff_python_ast::Identifier::new("close", range),
                    ctx: ruff_python_ast::ExprContext::Load,
                })),
                arguments: ruff_python_ast::Arguments {
                    range,
                    node_index: ruff_python_ast::AtomicNodeIndex::NONE,
                    args: Box::default(),
                    keywords: Default::default(),
                },
            };
            self.call(&call, Dest::Discard);
        }
        for (range, resource) in closes.into_iter().rev() {
            let end = TextRange::new(range.start(), range.end());
            self.emit(end, EventKind::Close { resource });
        }
        for (range, v, api) in runtime_closes.into_iter().rev() {
            self.emit(
                range,
                EventKind::RuntimeClose {
                    runtime: RuntimeRef::Var(v),
                    api,
                },
            );
        }
    }

    /// The object a `with` item hands back and closes at the end of the block, when the item
    /// is the call of such a context manager (`contextlib.closing(x)`: `x`).
    fn closes_at_exit<'e>(&self, ctx: &'e Expr) -> Option<&'e Expr> {
        let Expr::Call(c) = ctx else {
            return None;
        };
        let path = self.qualify(&c.func)?;
        let api = self
            .cx
            .apis(&path)
            .into_iter()
            .find(|a| a.concept == crate::kb::Concept::ClosesAtExit)?;
        if !c.arguments.keywords.is_empty() {
            return None;
        }
        c.arguments.args.get(api.arg as usize)
    }

    /// For a context manager asserting a failure (`pytest.raises(E)`, `self.assertRaises(E)`),
    /// the exception names it accepts.
    fn expects_failure(
        &self,
        c: &ruff_python_ast::ExprCall,
        ty: Option<&str>,
    ) -> Option<Vec<String>> {
        use crate::kb::Concept;
        let by_path = ty.is_some_and(|t| {
            self.cx
                .apis(t)
                .iter()
                .any(|a| a.concept == Concept::ExpectsFailure)
        });
        let by_method = match &*c.func {
            Expr::Attribute(a) => self
                .cx
                .method_apis(a.attr.id.as_str())
                .iter()
                .any(|a| a.concept == Concept::ExpectsFailure),
            _ => false,
        };
        if !by_path && !by_method {
            return None;
        }
        let names = |e: &Expr| -> Vec<String> {
            let one = |e: &Expr| match e {
                Expr::Name(n) => Some(n.id.to_string()),
                Expr::Attribute(a) => Some(a.attr.id.to_string()),
                _ => None,
            };
            match e {
                Expr::Tuple(t) => t.elts.iter().filter_map(one).collect(),
                other => one(other).into_iter().collect(),
            }
        };
        Some(c.arguments.args.first().map(names).unwrap_or_default())
    }
}
