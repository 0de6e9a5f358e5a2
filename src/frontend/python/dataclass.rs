//! The `__init__` that `@dataclasses.dataclass` or an attrs class decorator (`attrs.define`,
//! `attr.s`, ..) writes for a class: each field is a parameter stored into the instance
//! attribute of that name, and a field's default factory (`default_factory=`, attrs'
//! `factory=` or `default=attrs.Factory(f)`) is called there when no argument is given.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, Stmt, StmtClassDef};
use ruff_text_size::Ranged;

use super::exprs::Dest;
use super::lower::{Lowerer, Scope, ScopeKind};
use crate::model::{FnId, FnKind, Place};

/// One field of a dataclass: its name, the name of its `__init__` parameter, whether
/// `__init__` takes it (and only by keyword), whether it may hold an object (its annotation is
/// no plain builtin value type), and its default factory.
struct Field<'e> {
    name: Name,
    param: Name,
    init: bool,
    kw_only: bool,
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

/// Which library writes the `__init__`, and how it finds the fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Maker {
    /// `dataclasses.dataclass`: annotated names.
    Dataclass,
    /// attrs with annotated fields (`attrs.define`, `attr.s(auto_attribs=True)`).
    AttrsAnnotated,
    /// attrs with fields made by `attr.ib()` / `attrs.field()` only (`attr.s`).
    AttrsCalls,
    /// `attrs.define` and its kin: annotated names, unless a field is made by
    /// `attrs.field()` without an annotation (then only such calls).
    AttrsAuto,
}

/// The decorator paths that write an `__init__`.
fn maker(path: &str, auto_attribs: Option<bool>) -> Option<Maker> {
    Some(match path {
        "dataclasses.dataclass" => Maker::Dataclass,
        "attr.s" | "attr.attrs" | "attr.attributes" => match auto_attribs {
            Some(true) => Maker::AttrsAnnotated,
            _ => Maker::AttrsCalls,
        },
        "attr.dataclass" => Maker::AttrsAnnotated,
        "attr.define" | "attr.mutable" | "attr.frozen" | "attrs.define" | "attrs.mutable"
        | "attrs.frozen" => match auto_attribs {
            Some(true) => Maker::AttrsAnnotated,
            Some(false) => Maker::AttrsCalls,
            None => Maker::AttrsAuto,
        },
        _ => return None,
    })
}

/// Whether a path names an attrs field maker (`attr.ib`, `attrs.field`).
fn is_attrs_field(path: &str) -> bool {
    matches!(
        path,
        "attr.ib" | "attr.attrib" | "attr.attr" | "attr.field" | "attrs.field"
    )
}

impl Lowerer<'_> {
    /// Writes the `__init__` of class `ci` (at `path`) when a `dataclass` decorator makes one:
    /// the class defines none and no base of the project may add fields before its own (their
    /// positions would be unknown).
    pub(super) fn dataclass_init(&mut self, c: &StmtClassDef, ci: u32, path: &str) {
        let made = c.decorator_list.iter().find_map(|d| {
            let (target, kwargs) = match &d.expression {
                Expr::Call(call) => (&*call.func, Some(&call.arguments.keywords)),
                other => (other, None),
            };
            let auto = kwargs
                .into_iter()
                .flatten()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "auto_attribs"))
                .map(|k| !matches!(&k.value, Expr::BooleanLiteral(b) if !b.value));
            maker(&self.qualify(target)?, auto)
        });
        let class = &self.ir.classes[ci as usize];
        let Some(made) = made else { return };
        if class.methods.contains_key("__init__")
            || class.bases.iter().any(|b| self.is_project_path(b))
        {
            return;
        }
        let mut fields = self.dataclass_fields(c, made);
        // Keyword-only fields come after the others.
        fields.sort_by_key(|f| f.kw_only);
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
            .chain(fields.iter().filter(|f| f.init).map(|f| f.param.clone()))
            .collect();
        let irf = &mut self.ir.functions[id as usize];
        irf.param_names = scope.params.iter().cloned().collect();
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

    /// The fields of a dataclass body, in order: annotated names that are not class
    /// variables, or for attrs the names its field makers define.
    fn dataclass_fields<'e>(&self, c: &'e StmtClassDef, made: Maker) -> Vec<Field<'e>> {
        let field_call = |v: Option<&'e Expr>| match v {
            Some(Expr::Call(call)) => self.qualify(&call.func).and_then(|p| {
                let attrs = is_attrs_field(&p);
                (attrs || p == "dataclasses.field").then_some((call, attrs))
            }),
            _ => None,
        };
        let made = match made {
            Maker::AttrsAuto => {
                let bare = c
                    .body
                    .iter()
                    .any(|s| matches!(s, Stmt::Assign(a) if field_call(Some(&*a.value)).is_some()));
                if bare {
                    Maker::AttrsCalls
                } else {
                    Maker::AttrsAnnotated
                }
            }
            other => other,
        };
        let attrs = made != Maker::Dataclass;
        let mut out = Vec::new();
        for s in &c.body {
            let (target, annotation, value) = match s {
                Stmt::AnnAssign(a) => (&*a.target, Some(&*a.annotation), a.value.as_deref()),
                Stmt::Assign(a) if made == Maker::AttrsCalls => match a.targets.as_slice() {
                    [t] => (t, None, Some(&*a.value)),
                    _ => continue,
                },
                _ => continue,
            };
            let Expr::Name(n) = target else { continue };
            let call = field_call(value);
            if made == Maker::AttrsCalls && call.is_none() {
                continue;
            }
            let ann_path = annotation
                .map(|ann| match ann {
                    Expr::Subscript(s) => &*s.value,
                    other => other,
                })
                .and_then(|ann| self.qualify(ann))
                .unwrap_or_default();
            if matches!(
                ann_path.as_str(),
                "typing.ClassVar" | "dataclasses.KW_ONLY" | "dataclasses.InitVar"
            ) {
                continue;
            }
            // attrs takes a private attribute's parameter without its leading underscores.
            let param = if attrs {
                Name::new(n.id.trim_start_matches('_'))
            } else {
                n.id.clone()
            };
            let mut field = Field {
                name: n.id.clone(),
                param,
                init: true,
                kw_only: false,
                holds: !PLAIN.contains(&ann_path.as_str()),
                factory: None,
            };
            if let Some((call, _)) = call {
                for kw in &call.arguments.keywords {
                    let yes = !matches!(&kw.value, Expr::BooleanLiteral(b) if !b.value);
                    match kw.arg.as_ref().map(|a| a.as_str()) {
                        Some("init") => field.init = yes,
                        Some("kw_only") => field.kw_only = yes,
                        Some("default_factory") if !attrs => field.factory = Some(&kw.value),
                        Some("factory") if attrs => field.factory = Some(&kw.value),
                        Some("default") if attrs => {
                            if let Expr::Call(f) = &kw.value
                                && self.qualify(&f.func).is_some_and(|p| {
                                    matches!(p.as_str(), "attr.Factory" | "attrs.Factory")
                                })
                                && let Some(first) = f.arguments.args.first()
                            {
                                field.factory = Some(first);
                            }
                        }
                        Some("alias") if attrs => {
                            if let Expr::StringLiteral(lit) = &kw.value {
                                field.param = Name::new(lit.value.to_str());
                            }
                        }
                        _ => {}
                    }
                }
            }
            out.push(field);
        }
        out
    }
}
