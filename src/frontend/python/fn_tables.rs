//! Tables of functions: module-level dicts, lists and sets that hold the project's functions
//! (`HANDLERS = {"a": on_a}`, `HANDLERS["b"] = on_b`, `HOOKS.append(f)`, a registering
//! decorator whose body stores the function it is given), and calls through them
//! (`HANDLERS[kind](msg)`, `HANDLERS.get(kind)(msg)`, `for h in HOOKS: h()`, a local bound to
//! an element). A table of lists (`T.setdefault(k, []).append(f)`, `for h in T.get(k, [])`)
//! is folded into one table of its functions. The frontend records what is stored where and
//! which calls go through which table; the linker makes each call one of every function the
//! table holds.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Arguments, Expr};
use ruff_text_size::TextRange;

use super::exprs::{Dest, Val};
use super::ir::{HandedFn, Pending, StoredFn};
use super::lower::{Lowerer, NameRes, ScopeKind};

/// Methods that put their argument (at the given position) into the container.
const STORING: &[(&str, usize)] = &[
    ("append", 0),
    ("add", 0),
    ("appendleft", 0),
    ("insert", 1),
    ("setdefault", 1),
];

impl Lowerer<'_> {
    /// The dotted path of a module-level container named by `e` (a container of this module,
    /// or a name imported from another), when `e` names one rather than a local.
    pub(super) fn table_path(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Attribute(a) => self.attr_table(a),
            Expr::Name(n) if let Some(t) = self.scope().local_tables.get(n.id.as_str()) => {
                Some(t.to_string())
            }
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                NameRes::Plain if self.module_containers.contains(n.id.as_str()) => {
                    Some(self.module_path(n.id.as_str()))
                }
                NameRes::Path(p) if self.is_project_path(&p) => Some(p.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The table that the attribute `self.attr` of a method's instance is, named after the
    /// class and the attribute.
    fn attr_table(&self, a: &ruff_python_ast::ExprAttribute) -> Option<String> {
        let Expr::Name(base) = &*a.value else {
            return None;
        };
        let class = self.self_class(base.id.as_str())?;
        Some(format!("{class}.<attr {}>", a.attr.id))
    }

    /// The table `e` reads functions from: a table of a module, of a local, or an attribute of
    /// the instance that the file stores functions into.
    fn read_table_path(&self, e: &Expr) -> Option<String> {
        let t = self.table_path(e)?;
        (!matches!(e, Expr::Attribute(_)) || self.attr_fn_tables.contains(&t)).then_some(t)
    }

    /// The container an element access reads (`T[key]`, `T.get(key, [])`,
    /// `T.setdefault(key, [])`): a table of lists holds its functions in its elements, which
    /// the model folds into the table itself.
    fn container_of(e: &Expr) -> Option<&Expr> {
        match e {
            Expr::Subscript(s) if matches!(&*s.value, Expr::Name(_)) => Some(&s.value),
            Expr::Call(c)
                if let Expr::Attribute(a) = &*c.func
                    && matches!(a.attr.id.as_str(), "get" | "setdefault")
                    && matches!(&*a.value, Expr::Name(_))
                    && c.arguments.keywords.is_empty()
                    && matches!(c.arguments.args.len(), 1 | 2) =>
            {
                Some(&a.value)
            }
            _ => None,
        }
    }

    /// The function a value stored in a table is, when it is one the linker can name. A
    /// lambda is named only when `lambda_ok` (it is the next function the lowering makes).
    fn stored_fn(&mut self, value: &Expr, lambda_ok: bool) -> Option<StoredFn> {
        if matches!(value, Expr::Lambda(_)) && !lambda_ok {
            return None;
        }
        Some(match self.handed_fn(value)? {
            HandedFn::Path(p) => StoredFn::Path(self.ir.paths.get(p as usize)?.into()),
            HandedFn::Local(l) => StoredFn::Local(l),
            HandedFn::Param(owner, index) => StoredFn::Param(owner, index),
        })
    }

    /// The name of a table read at `e` is read in a way this module follows (a store, a call
    /// through it, a loop over it, an element bound to a local): no leak of its functions.
    fn sanction(&mut self, e: &Expr) {
        if let Expr::Name(n) = e {
            self.table_reads.push(n.range);
        }
    }

    /// A read of the name `name` at `range`: unless sanctioned, a read of a table of this
    /// module, or of a local holding one of its elements, lets its functions go anywhere.
    /// Returns whether the read is sanctioned.
    pub(super) fn note_table_read(&mut self, name: &str, range: TextRange) -> bool {
        if let Some(i) = self.table_reads.iter().position(|r| *r == range) {
            self.table_reads.swap_remove(i);
            return true;
        }
        let scope = self.scope();
        let leaked = match scope
            .table_locals
            .get(name)
            .or(scope.local_tables.get(name))
        {
            Some(t) => Some(t.to_string()),
            None => matches!(self.resolve_name(name), NameRes::Plain)
                .then(|| self.module_containers.contains(name))
                .filter(|&c| c)
                .map(|_| self.module_path(name)),
        };
        // A table of a function's locals or of an instance's attribute holds values a name
        // there was bound to (a method read may be a property's value): read as a value, it
        // hands on what the frontend follows no further, whose known callers stay the calls
        // through the table.
        if let Some(t) = leaked.filter(|t| !t.contains(".<locals ") && !t.contains(".<attr ")) {
            self.ir.table_leaks.push(t.into_boxed_str());
        }
        false
    }

    fn store_fn(&mut self, table: String, value: StoredFn) {
        if table.contains(".<attr ") {
            self.attr_fn_tables.insert(table.clone());
        }
        self.ir.fn_tables.push((table.into_boxed_str(), value));
    }

    /// `NAME = {k: f, ..}`, `[f, ..]`, `(f, ..)` or `{f, ..}` at module level: the table holds
    /// each function among the values.
    pub(super) fn note_table_literal(&mut self, name: &str, value: &Expr) {
        if !self.at_module_level() {
            return;
        }
        let values: Vec<&Expr> = match value {
            Expr::Dict(d) => d.items.iter().map(|i| &i.value).collect(),
            Expr::List(l) => l.elts.iter().collect(),
            Expr::Tuple(t) => t.elts.iter().collect(),
            Expr::Set(s) => s.elts.iter().collect(),
            _ => return,
        };
        let table = self.module_path(name);
        for v in values {
            if let Some(f) = self.stored_fn(v, false) {
                self.store_fn(table.clone(), f);
            }
        }
    }

    /// The function a value already lowered is, when it is one the linker can name: a lambda
    /// (found by its range), or what [`Self::handed_fn`] names.
    fn lowered_fn(&mut self, value: &Expr) -> Option<StoredFn> {
        if let Expr::Lambda(l) = value {
            let (_, id) = self.lambda_ids.iter().rev().find(|(r, _)| *r == l.range)?;
            return Some(StoredFn::Local(*id));
        }
        self.stored_fn(value, false)
    }

    /// The values of a literal container (`{k: f}`, `[f, g]`, `(f, g)`, `{f, g}`).
    fn literal_values(value: &Expr) -> Option<Vec<&Expr>> {
        Some(match value {
            Expr::Dict(d) => d.items.iter().map(|i| &i.value).collect(),
            Expr::List(l) => l.elts.iter().collect(),
            Expr::Tuple(t) => t.elts.iter().collect(),
            Expr::Set(s) => s.elts.iter().collect(),
            _ => return None,
        })
    }

    /// `NAME = [lambda: .., ..]` at module level, once the value is lowered: the table holds
    /// each lambda among the values too.
    pub(super) fn note_literal_lambdas(&mut self, name: &str, value: &Expr) {
        if !self.at_module_level() || !self.module_containers.contains(name) {
            return;
        }
        let Some(values) = Self::literal_values(value) else {
            return;
        };
        let table = self.module_path(name);
        for v in values.into_iter().filter(|v| matches!(v, Expr::Lambda(_))) {
            if let Some(f) = self.lowered_fn(v) {
                self.store_fn(table.clone(), f);
            }
        }
    }

    /// A name of a function's body bound, once the value is lowered, to a function value (a
    /// function or a bound method named there, a lambda, a `functools.partial` of one, a
    /// parameter) or to a literal container of them (`hooks = [f, lambda: g(1)]`): a table of
    /// its own holds them, so that a call of the name, or through the container
    /// (`hooks[0]()`, `for h in hooks: h()`), calls them. A name bound to anything else holds
    /// nothing the model follows, and its calls stay unknown.
    pub(super) fn note_local_callables(&mut self, name: &str, value: &Expr) {
        if self.at_module_level() || self.scope().kind == ScopeKind::ClassBody {
            return;
        }
        let (values, container) = match Self::literal_values(value) {
            Some(v) => (v, true),
            None => (vec![value], false),
        };
        let fns: Vec<StoredFn> = values
            .into_iter()
            .filter_map(|v| self.lowered_fn(v))
            .collect();
        if fns.is_empty() {
            return;
        }
        let table = format!("{}.<locals {}>.{name}", self.mf.name, self.scope().fn_id);
        for f in fns {
            self.store_fn(table.clone(), f);
        }
        let scope = self.scope_mut();
        if container {
            scope
                .local_tables
                .insert(Name::new(name), table.into_boxed_str());
        } else {
            scope
                .table_locals
                .insert(Name::new(name), table.into_boxed_str());
        }
    }

    /// `self.attr = value` in a method, once the value is lowered: a lambda, a
    /// `functools.partial`, a parameter, or a literal container of function values, stored
    /// into the attribute's table (a function or bound method named by its path is an alias of
    /// the attribute, which calls of it already follow).
    pub(super) fn note_attr_callables(
        &mut self,
        target: &ruff_python_ast::ExprAttribute,
        value: &Expr,
    ) {
        let Some(table) = self.attr_table(target) else {
            return;
        };
        let values = Self::literal_values(value).unwrap_or_else(|| vec![value]);
        let aliased = self
            .qualify(value)
            .is_some_and(|p| self.is_project_path(&p));
        if aliased {
            return;
        }
        for v in values {
            if let Some(f) = self.lowered_fn(v) {
                self.store_fn(table.clone(), f);
            }
        }
    }

    /// `TABLE[key] = f`: called before the value is lowered (a lambda is the next function).
    pub(super) fn note_table_store(&mut self, container: &Expr, value: &Expr) {
        if let Some(table) = self.table_path(container)
            && let Some(f) = self.stored_fn(value, true)
        {
            self.sanction(container);
            self.store_fn(table, f);
        }
    }

    /// `TABLE.append(f)`, `.add(f)`, `.insert(i, f)`, `.setdefault(k, f)`, `.update({k: f})`:
    /// called before the arguments are lowered.
    pub(super) fn note_table_method(&mut self, func: &Expr, args: Option<&Arguments>) {
        let (Expr::Attribute(a), Some(args)) = (func, args) else {
            return;
        };
        let method = a.attr.id.as_str();
        if method == "update" {
            let Some(table) = self.table_path(&a.value) else {
                return;
            };
            self.sanction(&a.value);
            for arg in args.args.iter() {
                if let Expr::Dict(d) = arg {
                    for item in &d.items {
                        if let Some(f) = self.stored_fn(&item.value, false) {
                            self.store_fn(table.clone(), f);
                        }
                    }
                }
            }
            for kw in args.keywords.iter() {
                if let Some(f) = self.stored_fn(&kw.value, false) {
                    self.store_fn(table.clone(), f);
                }
            }
            return;
        }
        let Some(&(_, pos)) = STORING.iter().find(|(m, _)| *m == method) else {
            return;
        };
        let Some(value) = args.args.get(pos) else {
            return;
        };
        // `T.setdefault(key, []).append(f)`, `T[key].append(f)`: into a list the table holds.
        let base = match method {
            "setdefault" => &*a.value,
            _ => Self::container_of(&a.value).unwrap_or(&a.value),
        };
        if let Some(table) = self.table_path(base)
            && let Some(f) = self.stored_fn(value, pos == 0)
        {
            self.sanction(base);
            self.store_fn(table, f);
        }
    }

    /// The table an element of which `value` reads: `TABLE[key]`, `TABLE.get(key)` (with no
    /// default, or `None`).
    pub(super) fn table_element(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Subscript(s) => self.read_table_path(&s.value),
            Expr::Call(c)
                if let Expr::Attribute(a) = &*c.func
                    && a.attr.id.as_str() == "get"
                    && c.arguments.keywords.is_empty()
                    && matches!(c.arguments.args.len(), 1 | 2)
                    && c.arguments
                        .args
                        .get(1)
                        .is_none_or(|d| d.is_none_literal_expr()) =>
            {
                self.read_table_path(&a.value)
            }
            _ => None,
        }
    }

    /// The table whose elements a `for` loop over `iter` binds to its target (or to the second
    /// name of a `(key, value)` target over `.items()`), with that target name. Called before
    /// `iter` is lowered, to sanction the read; [`Self::bind_table_loop`] binds the target.
    pub(super) fn table_loop(&mut self, target: &Expr, iter: &Expr) -> Option<(Name, String)> {
        let (base, pair) = match iter {
            Expr::Call(c)
                if c.arguments.is_empty()
                    && let Expr::Attribute(a) = &*c.func =>
            {
                match a.attr.id.as_str() {
                    "values" => (&*a.value, false),
                    "items" => (&*a.value, true),
                    _ => return None,
                }
            }
            Expr::Name(_) | Expr::Attribute(_) => (iter, false),
            // A list of functions the table keeps under a key: `for h in T.get(key, [])`.
            Expr::Subscript(_) | Expr::Call(_) => (Self::container_of(iter)?, false),
            _ => return None,
        };
        let name = match (target, pair) {
            (Expr::Name(n), false) => &n.id,
            (Expr::Tuple(t), true) => match t.elts.as_slice() {
                [_, Expr::Name(n)] => &n.id,
                _ => return None,
            },
            _ => return None,
        };
        let table = self.read_table_path(base)?;
        self.sanction(base);
        Some((name.clone(), table))
    }

    /// Binds the target of a loop over a table (see [`Self::table_loop`]).
    pub(super) fn bind_table_loop(&mut self, bound: Option<(Name, String)>) {
        if let Some((name, table)) = bound {
            self.scope_mut()
                .table_locals
                .insert(name, table.into_boxed_str());
        }
    }

    /// Sanctions the read of a table whose element `value` binds to a local (called before
    /// `value` is lowered).
    pub(super) fn sanction_element(&mut self, value: &Expr) {
        if self.table_element(value).is_some() {
            match value {
                Expr::Subscript(s) => self.sanction(&s.value),
                Expr::Call(c) => {
                    if let Expr::Attribute(a) = &*c.func {
                        self.sanction(&a.value);
                    }
                }
                _ => {}
            }
        }
    }

    /// A local name bound here to an element of a table.
    pub(super) fn note_table_local(&mut self, name: &str, value: &Expr) {
        if let Some(table) = self.table_element(value) {
            self.scope_mut()
                .table_locals
                .insert(Name::new(name), table.into_boxed_str());
        }
    }

    /// The table a call's callee takes its function from, if it does.
    pub(super) fn table_callee(&self, func: &Expr) -> Option<String> {
        match func {
            Expr::Name(n) => self
                .scope()
                .table_locals
                .get(n.id.as_str())
                .map(|t| t.to_string()),
            // `self.on_done()`, when the file stores functions into that attribute.
            Expr::Attribute(a) => self
                .attr_table(a)
                .filter(|t| self.attr_fn_tables.contains(t)),
            _ => self.table_element(func),
        }
    }

    /// Lowers a call through a table: the key, the arguments, and a reference the linker
    /// resolves to every function the table holds.
    pub(super) fn table_call(
        &mut self,
        table: &str,
        func: &Expr,
        args: Option<&Arguments>,
        range: TextRange,
        dest: Dest<'_>,
    ) -> Val {
        match func {
            Expr::Subscript(s) => {
                self.expr(&s.slice, Dest::Read);
            }
            Expr::Call(c) => {
                for a in c.arguments.args.iter() {
                    self.expr(a, Dest::Read);
                }
            }
            _ => {}
        }
        let places = self.lower_args(args, None);
        let kwargs = std::mem::take(&mut self.kw_places);
        self.arg_fns.clear();
        self.arg_types.clear();
        let path = self.intern(table);
        self.emit_pending(range, Pending::Table { path });
        let place = self.pending_call(range, places, &kwargs);
        Val {
            place: (!matches!(dest, Dest::Discard)).then_some(place),
            ..Val::default()
        }
    }
}
