//! The `__init__` that `@dataclasses.dataclass` writes for a class: each field is a parameter
//! stored into the instance attribute of that name, and a field's `default_factory` is called
//! there when no argument is given.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, Stmt, StmtClassDef};
use ruff_text_size::Ranged;

use super::exprs::Dest;
use super::lower::{Lowerer, Scope, ScopeKind};
use crate::model::{FnId, FnKind, Place};

/// One field of a dataclass: its name, whether `__init__` takes it, whether it may hold an
/// object (its annotation is no plain builtin value type), and its default factory.
struct Field<'e> {
    name: Name,
    init: bool,
    holds: bool,
    factory: Option<&'e Expr>,
}

/// Builtin value types: a field annotated with one holds no object the flow follows.
const PLAIN: &[&str] = &[
    "builtins.int",
    "builtins.str",
    "builtins.float",
    "builtins.bool",
    "builtins.bytes",
];

impl Lowerer<'_> {
    /// Writes the `__init__` of class `ci` (at `path`) when a `dataclass` decorator makes one:
    /// the class defines none and no base of the project may add fields before its own (their
    /// positions would be unknown).
    pub(super) fn dataclass_init(&mut self, c: &StmtClassDef, ci: u32, path: &str) {
        let decorated = c.decorator_list.iter().any(|d| {
            let target = match &d.expression {
                Expr::Call(call) => &*call.func,
                other => other,
            };
            self.qualify(target)
                .is_some_and(|p| p == "dataclasses.dataclass")
        });
        let class = &self.ir.classes[ci as usize];
        if !decorated
            || class.methods.contains_key("__init__")
            || class.bases.iter().any(|b| self.is_project_path(b))
        {
            return;
        }
        let fields = self.dataclass_fields(c);
        if fields.iter().all(|f| !f.init && f.factory.is_none()) {
            return;
        }
        let display = format!("{}.__init__", c.name.id);
        let id = self.new_fn(display, c.name.range, FnKind::Named, false, None);
        self.ir.classes[ci as usize]
            .methods
            .insert(Name::new("__init__"), id);
        let mut scope = Scope::new(ScopeKind::Function, id, false);
        scope.class = Some((path.to_string(), "self".to_string()));
        scope.params = std::iter::once(Name::new("self"))
            .chain(fields.iter().filter(|f| f.init).map(|f| f.name.clone()))
            .collect();
        let irf = &mut self.ir.functions[id as usize];
        irf.param_names = scope.params.clone().into_boxed_slice();
        irf.func.callers_unknown = true;
        irf.public_only = true;
        self.scopes.push(scope);
        let mut k = 1;
        for f in &fields {
            if f.init {
                if f.holds {
                    let cell = self.attr_cell(path, f.name.as_str());
                    self.store_attr(c.name.range, cell, Some(Place::Param(FnId(id), k)));
                }
                k += 1;
            }
            if let Some(factory) = f.factory {
                let val = self.call_with(
                    factory,
                    None,
                    factory.range(),
                    Dest::SelfAttr(f.name.as_str()),
                );
                let cell = self.attr_cell(path, f.name.as_str());
                self.store_attr(factory.range(), cell, val.place);
            }
        }
        self.end_scope();
        self.scopes.pop();
    }

    /// The fields of a dataclass body, in order: annotated names that are not class variables.
    fn dataclass_fields<'e>(&self, c: &'e StmtClassDef) -> Vec<Field<'e>> {
        let mut out = Vec::new();
        for s in &c.body {
            let Stmt::AnnAssign(a) = s else { continue };
            let Expr::Name(n) = &*a.target else { continue };
            let ann = match &*a.annotation {
                Expr::Subscript(s) => &*s.value,
                other => other,
            };
            let ann_path = self.qualify(ann).unwrap_or_default();
            if matches!(
                ann_path.as_str(),
                "typing.ClassVar" | "dataclasses.KW_ONLY" | "dataclasses.InitVar"
            ) {
                continue;
            }
            let mut field = Field {
                name: n.id.clone(),
                init: true,
                holds: !PLAIN.contains(&ann_path.as_str()),
                factory: None,
            };
            if let Some(Expr::Call(call)) = a.value.as_deref()
                && self
                    .qualify(&call.func)
                    .is_some_and(|p| p == "dataclasses.field")
            {
                for kw in &call.arguments.keywords {
                    match kw.arg.as_ref().map(|a| a.as_str()) {
                        Some("init") => {
                            field.init = !matches!(&kw.value, Expr::BooleanLiteral(b) if !b.value);
                        }
                        Some("default_factory") => field.factory = Some(&kw.value),
                        _ => {}
                    }
                }
            }
            out.push(field);
        }
        out
    }
}
