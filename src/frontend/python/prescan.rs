//! Cheap statement-only scans that run before a body is lowered: module-level names and
//! imports, the locals of a function, the resource-holding attributes of a class.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, Stmt, StmtClassDef, StmtFunctionDef};

use super::imports::attr_chain;
use super::ir::Def;
use super::lower::{Lowerer, NameKind, Scope};

/// Maximum statement nesting the scans follow.
const MAX_SCAN_DEPTH: u32 = 64;

/// Collects module-level imports and names.
pub fn module(l: &mut Lowerer<'_>, suite: &[Stmt]) {
    l.own_event_loop = super::conftest::overrides_event_loop(suite);
    module_block(l, suite, 0);
    module_partials(l, suite);
}

/// Module-level names bound once, at the top of the module, to `functools.partial(f, ..)` of
/// a function or constructor `f` that the module can name: a call of the name is a call of
/// `f`. A library constructor counts only without positional arguments and without the
/// keywords that make it borrow what it is given.
fn module_partials(l: &mut Lowerer<'_>, suite: &[Stmt]) {
    let mut bound: HashMap<&str, u32> = HashMap::default();
    for s in suite {
        if let Stmt::Assign(a) = s {
            for t in &a.targets {
                if let Expr::Name(n) = t {
                    *bound.entry(n.id.as_str()).or_default() += 1;
                }
            }
        }
    }
    for s in suite {
        let Stmt::Assign(a) = s else { continue };
        let [Expr::Name(n)] = a.targets.as_slice() else {
            continue;
        };
        if bound.get(n.id.as_str()) != Some(&1)
            || l.module_names.get(n.id.as_str()) != Some(&NameKind::Object)
        {
            continue;
        }
        let Some((path, positional)) = partial_target(l, &a.value) else {
            continue;
        };
        l.module_partials
            .insert(n.id.clone(), (path.into_boxed_str(), positional));
    }
}

/// The callable a `functools.partial(f, ..)` call wraps, and how many positional arguments
/// it binds.
fn partial_target(l: &Lowerer<'_>, value: &Expr) -> Option<(String, u8)> {
    let Expr::Call(c) = value else { return None };
    if !is_partial(l, &c.func) {
        return None;
    }
    let (first, rest) = c.arguments.args.split_first()?;
    if rest.iter().any(|a| matches!(a, Expr::Starred(_)))
        || c.arguments.keywords.iter().any(|k| k.arg.is_none())
    {
        return None;
    }
    let path = l.qualify(first)?;
    let positional = u8::try_from(rest.len()).ok()?;
    if !l.is_project_path(&path) {
        let apis = l.cx.apis(&path);
        let borrows = c.arguments.keywords.iter().any(|k| {
            k.arg.as_ref().is_some_and(|a| {
                apis.iter()
                    .any(|api| api.borrows.iter().any(|b| b == a.as_str()))
            })
        });
        if apis.is_empty() || positional > 0 || borrows {
            return None;
        }
    }
    Some((path, positional))
}

/// Whether a value is a new container: a dict, list or set display, or a call of `dict`,
/// `list`, `set` or `collections.defaultdict`/`OrderedDict`.
fn is_container(l: &Lowerer<'_>, value: &Expr) -> bool {
    match value {
        Expr::Dict(_) | Expr::List(_) | Expr::Set(_) => true,
        Expr::Call(c) => l.qualify(&c.func).is_some_and(|p| {
            matches!(
                p.as_str(),
                "builtins.dict"
                    | "builtins.list"
                    | "builtins.set"
                    | "collections.defaultdict"
                    | "collections.OrderedDict"
            )
        }),
        _ => false,
    }
}

/// Whether `func` names `functools.partial`.
fn is_partial(l: &Lowerer<'_>, func: &Expr) -> bool {
    l.qualify(func).is_some_and(|p| p == "functools.partial")
}

fn module_block(l: &mut Lowerer<'_>, stmts: &[Stmt], depth: u32) {
    if depth > MAX_SCAN_DEPTH {
        return;
    }
    for s in stmts {
        match s {
            Stmt::Import(i) => {
                l.imports.add_import(i);
                for a in &i.names {
                    if let Some(asname) = &a.asname {
                        let path = a.name.id.to_string();
                        if l.is_project_path(&path) {
                            l.ir.defs
                                .insert(asname.id.clone(), Def::Alias(path.into_boxed_str()));
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let (module, is_package) = (l.mf.name.clone(), l.mf.is_package);
                for (local, path) in l.imports.add_from(i, &module, is_package) {
                    if l.is_project_path(&path) {
                        l.ir.defs
                            .insert(Name::new(&local), Def::Alias(path.into_boxed_str()));
                    }
                }
            }
            Stmt::FunctionDef(f) => {
                l.module_names.insert(f.name.id.clone(), NameKind::Def);
                scan_globals(l, &f.body, depth + 1);
            }
            Stmt::ClassDef(c) => {
                l.module_names.insert(c.name.id.clone(), NameKind::Def);
                for m in &c.body {
                    if let Stmt::FunctionDef(f) = m {
                        scan_globals(l, &f.body, depth + 1);
                    }
                }
            }
            Stmt::Assign(a) => {
                let kind = value_kind(l, &a.value);
                for t in &a.targets {
                    bind_names(l, t, kind);
                }
                if let [Expr::Name(n)] = a.targets.as_slice() {
                    constant_parts(l, n.id.clone(), &a.value);
                    if is_container(l, &a.value) {
                        l.module_containers.insert(n.id.clone());
                    }
                }
                if let [Expr::Name(n)] = a.targets.as_slice()
                    && n.id.as_str() == "pytestmark"
                {
                    pytestmark(l, &a.value);
                }
            }
            Stmt::AnnAssign(a) => {
                let kind = a
                    .value
                    .as_deref()
                    .map_or(NameKind::Other, |v| value_kind(l, v));
                bind_names(l, &a.target, kind);
                if let (Expr::Name(n), Some(v)) = (&*a.target, a.value.as_deref())
                    && is_container(l, v)
                {
                    l.module_containers.insert(n.id.clone());
                }
            }
            Stmt::AugAssign(a) => {
                bind_names(l, &a.target, NameKind::Other);
                if let Expr::Name(n) = &*a.target {
                    constant_parts(l, n.id.clone(), &a.value);
                }
            }
            Stmt::If(i) => {
                module_block(l, &i.body, depth + 1);
                for c in &i.elif_else_clauses {
                    module_block(l, &c.body, depth + 1);
                }
            }
            Stmt::Try(t) => {
                module_block(l, &t.body, depth + 1);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    module_block(l, &h.body, depth + 1);
                }
                module_block(l, &t.orelse, depth + 1);
                module_block(l, &t.finalbody, depth + 1);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        bind_names(l, v, NameKind::Object);
                    }
                }
                module_block(l, &w.body, depth + 1);
            }
            Stmt::For(f) => {
                bind_names(l, &f.target, NameKind::Other);
                module_block(l, &f.body, depth + 1);
                module_block(l, &f.orelse, depth + 1);
            }
            Stmt::While(w) => module_block(l, &w.body, depth + 1),
            _ => {}
        }
    }
}

/// `NAME = socket.AI_NUMERICHOST | ..` (and `NAME |= ..`) at module level: the upper-case
/// constants the module constant is made of.
fn constant_parts(l: &mut Lowerer<'_>, name: Name, value: &Expr) {
    let mut parts = Vec::new();
    super::guards::constants_named(value, &mut parts, 0);
    if !parts.is_empty() {
        l.module_constants.entry(name).or_default().extend(parts);
    }
}

/// Names assigned under a `global` declaration become module names that may hold objects.
fn scan_globals(l: &mut Lowerer<'_>, body: &[Stmt], depth: u32) {
    let mut declared = HashSet::default();
    collect_global_decls(body, &mut declared, depth);
    for name in declared {
        let entry = l
            .module_names
            .entry(Name::new(&name))
            .or_insert(NameKind::Object);
        if *entry == NameKind::Other {
            *entry = NameKind::Object;
        }
    }
}

fn collect_global_decls(body: &[Stmt], out: &mut HashSet<String>, depth: u32) {
    if depth > MAX_SCAN_DEPTH {
        return;
    }
    for s in body {
        match s {
            Stmt::Global(g) => out.extend(g.names.iter().map(|n| n.id.to_string())),
            _ => for_each_block(s, |b| collect_global_decls(b, out, depth + 1)),
        }
    }
}

fn value_kind(l: &Lowerer<'_>, value: &Expr) -> NameKind {
    // A callable kept in a name: a call of the name calls what it wraps.
    match value {
        Expr::Lambda(_) => return NameKind::Object,
        Expr::Call(c) if is_partial(l, &c.func) => return NameKind::Object,
        _ => {}
    }
    let target = match value {
        Expr::Call(c) => &*c.func,
        Expr::Name(_) | Expr::Attribute(_) => value,
        _ => return NameKind::Other,
    };
    let Some(path) = l.qualify(target) else {
        return NameKind::Other;
    };
    if l.is_project_path(&path)
        || !l
            .cx
            .kb
            .lookup(crate::model::Language::Python, &path)
            .is_empty()
    {
        NameKind::Object
    } else {
        NameKind::Other
    }
}

fn bind_names(l: &mut Lowerer<'_>, target: &Expr, kind: NameKind) {
    match target {
        Expr::Name(n) => {
            let e = l.module_names.entry(n.id.clone()).or_insert(kind);
            if *e == NameKind::Other && kind == NameKind::Object {
                *e = kind;
            }
        }
        Expr::Tuple(t) => t
            .elts
            .iter()
            .for_each(|e| bind_names(l, e, NameKind::Other)),
        Expr::List(t) => t
            .elts
            .iter()
            .for_each(|e| bind_names(l, e, NameKind::Other)),
        _ => {}
    }
}

fn pytestmark(l: &mut Lowerer<'_>, value: &Expr) {
    let calls: Vec<&Expr> = match value {
        Expr::List(list) => list.elts.iter().collect(),
        Expr::Tuple(t) => t.elts.iter().collect(),
        other => vec![other],
    };
    for c in calls {
        let mark = match c {
            Expr::Call(call) => &*call.func,
            other => other,
        };
        if let Expr::Attribute(a) = mark
            && let Some(executor) = super::decorators::mark_executor(a.attr.id.as_str())
        {
            l.module_executor = Some(executor);
        }
        if let Expr::Call(call) = c {
            for kw in &call.arguments.keywords {
                let is_scope = kw
                    .arg
                    .as_ref()
                    .is_some_and(|a| matches!(a.id.as_str(), "loop_scope" | "scope"));
                if let (true, Expr::StringLiteral(s)) = (is_scope, &kw.value) {
                    l.module_loop_scope = Some(s.value.to_str().to_string());
                }
            }
        }
    }
}

/// Calls `f` on every nested statement block of `s` that belongs to the same scope.
fn for_each_block(s: &Stmt, mut f: impl FnMut(&[Stmt])) {
    match s {
        Stmt::If(i) => {
            f(&i.body);
            for c in &i.elif_else_clauses {
                f(&c.body);
            }
        }
        Stmt::For(x) => {
            f(&x.body);
            f(&x.orelse);
        }
        Stmt::While(x) => {
            f(&x.body);
            f(&x.orelse);
        }
        Stmt::With(x) => f(&x.body),
        Stmt::Try(t) => {
            f(&t.body);
            for h in &t.handlers {
                let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                f(&h.body);
            }
            f(&t.orelse);
            f(&t.finalbody);
        }
        Stmt::Match(m) => {
            for c in &m.cases {
                f(&c.body);
            }
        }
        _ => {}
    }
}

/// Fills the locals and `global` declarations of a function's scope. Only locals that
/// `matters` (names that also exist at module level or as a known builtin) are recorded: any
/// other name is local or builtin alike for the lowering.
pub fn function_locals(scope: &mut Scope, f: &StmtFunctionDef, matters: &dyn Fn(&str) -> bool) {
    for p in f.parameters.iter() {
        if matters(p.name().id.as_str()) {
            scope.locals.insert(p.name().id.clone());
        }
    }
    // Only the locals that shadow a name that matters are kept: the others are never added.
    locals_of_block(scope, &f.body, 0, matters);
    for g in &scope.globals_decl {
        scope.locals.remove(g);
    }
}

/// Adds a local name bound in the body, when it shadows a name that matters.
fn add_local(scope: &mut Scope, name: &Name, matters: &dyn Fn(&str) -> bool) {
    if matters(name.as_str()) {
        scope.locals.insert(name.clone());
    }
}

fn locals_of_block(scope: &mut Scope, body: &[Stmt], depth: u32, matters: &dyn Fn(&str) -> bool) {
    if depth > MAX_SCAN_DEPTH {
        return;
    }
    for s in body {
        match s {
            Stmt::FunctionDef(f) => add_local(scope, &f.name.id, matters),
            Stmt::ClassDef(c) => add_local(scope, &c.name.id, matters),
            Stmt::Assign(a) => a
                .targets
                .iter()
                .for_each(|t| target_locals(scope, t, matters)),
            Stmt::AnnAssign(a) => target_locals(scope, &a.target, matters),
            Stmt::AugAssign(a) => target_locals(scope, &a.target, matters),
            Stmt::For(x) => target_locals(scope, &x.target, matters),
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        target_locals(scope, v, matters);
                    }
                }
            }
            Stmt::Try(t) => {
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(n) = &h.name {
                        add_local(scope, &n.id, matters);
                    }
                }
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let n = a.asname.as_ref().unwrap_or(&a.name).id.as_str();
                    let n = n.split('.').next().unwrap_or(n);
                    if matters(n) {
                        scope.locals.insert(Name::new(n));
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    add_local(scope, &a.asname.as_ref().unwrap_or(&a.name).id, matters);
                }
            }
            Stmt::Global(g) => scope
                .globals_decl
                .extend(g.names.iter().map(|n| n.id.clone())),
            _ => {}
        }
        for_each_block(s, |b| locals_of_block(scope, b, depth + 1, matters));
    }
}

fn target_locals(scope: &mut Scope, t: &Expr, matters: &dyn Fn(&str) -> bool) {
    match t {
        Expr::Name(n) => add_local(scope, &n.id, matters),
        Expr::Tuple(x) => x.elts.iter().for_each(|e| target_locals(scope, e, matters)),
        Expr::List(x) => x.elts.iter().for_each(|e| target_locals(scope, e, matters)),
        Expr::Starred(s) => target_locals(scope, &s.value, matters),
        _ => {}
    }
}

/// Attributes of a class that may hold a resource: assigned from a call or a name in a
/// method (`self.client = httpx.AsyncClient()`), or in the class body.
pub fn class_attrs(l: &Lowerer<'_>, c: &StmtClassDef) -> HashSet<Name> {
    let mut out = HashSet::default();
    for s in &c.body {
        match s {
            Stmt::Assign(a) => {
                for t in &a.targets {
                    if let Expr::Name(n) = t {
                        out.insert(n.id.clone());
                    }
                }
            }
            Stmt::AnnAssign(a) => {
                if let Expr::Name(n) = &*a.target {
                    out.insert(n.id.clone());
                }
            }
            Stmt::FunctionDef(f) => {
                let self_name = f
                    .parameters
                    .posonlyargs
                    .iter()
                    .chain(f.parameters.args.iter())
                    .next()
                    .map(|p| p.parameter.name.id.as_str());
                if let Some(sn) = self_name {
                    self_attrs(&f.body, sn, &mut out, 0);
                }
            }
            _ => {}
        }
    }
    let _ = l;
    out
}

fn self_attrs(body: &[Stmt], self_name: &str, out: &mut HashSet<Name>, depth: u32) {
    if depth > MAX_SCAN_DEPTH {
        return;
    }
    for s in body {
        let (targets, value): (Vec<&Expr>, Option<&Expr>) = match s {
            Stmt::Assign(a) => (a.targets.iter().collect(), Some(&*a.value)),
            Stmt::AnnAssign(a) => (vec![&*a.target], a.value.as_deref()),
            _ => (Vec::new(), None),
        };
        if let Some(v) = value
            && matches!(
                v,
                Expr::Call(_) | Expr::Name(_) | Expr::Attribute(_) | Expr::Await(_)
            )
        {
            for t in targets {
                if let Some((base, attrs)) = attr_chain(t)
                    && base == self_name
                    && attrs.len() == 1
                {
                    out.insert(Name::new(attrs[0]));
                }
            }
        }
        for_each_block(s, |b| self_attrs(b, self_name, out, depth + 1));
    }
}

/// Whether the module is a Streamlit script: it imports streamlit and calls it at module level.
pub fn is_streamlit_script(l: &Lowerer<'_>, suite: &[Stmt]) -> bool {
    if l.mf.is_package {
        return false;
    }
    let imports_st = l
        .imports
        .iter()
        .any(|(_, p)| p == "streamlit" || p.starts_with("streamlit."));
    if !imports_st {
        return false;
    }
    suite.iter().any(|s| {
        let value = match s {
            Stmt::Expr(e) => &*e.value,
            Stmt::Assign(a) => &*a.value,
            _ => return false,
        };
        let Expr::Call(c) = value else {
            return false;
        };
        l.qualify(&c.func)
            .is_some_and(|p| p.starts_with("streamlit."))
    })
}

/// Whether a body never finishes on its own: it ends in an infinite loop (`while True:`) that
/// has no `break` out of it and no `return` inside (possibly wrapped in `try` or `with`).
pub fn diverges(body: &[Stmt]) -> bool {
    let Some(last) = body.iter().rev().find(|s| !matches!(s, Stmt::Pass(_))) else {
        return false;
    };
    match last {
        Stmt::While(w) => {
            let forever = match &*w.test {
                Expr::BooleanLiteral(b) => b.value,
                Expr::NumberLiteral(n) => matches!(
                    &n.value,
                    ruff_python_ast::Number::Int(i) if i.as_u8() == Some(1)
                ),
                _ => false,
            };
            forever && !escapes(&w.body, true, 0)
        }
        Stmt::Try(t) => diverges(&t.body),
        Stmt::With(w) => diverges(&w.body),
        _ => false,
    }
}

/// Whether a loop body can leave the loop: a `break` of this loop (`own` while not inside a
/// nested loop) or a `return` anywhere.
fn escapes(body: &[Stmt], own: bool, depth: u32) -> bool {
    if depth > MAX_SCAN_DEPTH {
        return true;
    }
    body.iter().any(|s| match s {
        Stmt::Break(_) => own,
        Stmt::Return(_) => true,
        Stmt::For(f) => escapes(&f.body, false, depth + 1) || escapes(&f.orelse, own, depth + 1),
        Stmt::While(w) => escapes(&w.body, false, depth + 1) || escapes(&w.orelse, own, depth + 1),
        Stmt::FunctionDef(_) | Stmt::ClassDef(_) => false,
        other => {
            let mut found = false;
            for_each_block(other, |b| found |= escapes(b, own, depth + 1));
            found
        }
    })
}
