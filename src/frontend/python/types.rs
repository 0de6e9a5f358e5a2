//! Types of values made by the project's own classes, written as type paths that the linker
//! resolves: `pkg.store.Store()` is an instance of `Store`, `pkg.make()` what `make` returns,
//! `pkg.Service.store` the attribute `store` of a `Service`, `?Store()` an instance of the one
//! project class named `Store`. Library types stay plain dotted paths, for the knowledge base.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, Operator};

use super::imports::attr_chain;
use super::lower::{Lowerer, ScopeKind};

/// Type constructors that wrap the type of interest (`Optional[Store]`, `Final[Store]`).
const WRAPPERS: &[&str] = &[
    "Optional",
    "ClassVar",
    "Final",
    "Annotated",
    "Required",
    "ReadOnly",
];

/// Whether a type path names a project value (an instance, a call result or an attribute of
/// a project class), as opposed to a library type.
pub fn is_project_type(ty: &str) -> bool {
    ty.starts_with('?') || ty.ends_with("()") || ty.contains("().")
}

/// Whether a type path surely names an instance of a class (`pkg.Store()`, `?Store()`): the
/// called name is a class name. What a function returns (`pkg.make()`) may be anything.
pub fn is_class_instance(ty: &str) -> bool {
    let Some(called) = ty.strip_suffix("()") else {
        return false;
    };
    let last = super::scope::last_segment(called);
    last.starts_with(|c: char| c.is_ascii_uppercase() || c == '?')
}

/// The type path of an instance of the class (or of the result of the call) at `path`.
pub fn instance_of(path: &str) -> String {
    let mut s = String::with_capacity(path.len() + 2);
    s.push_str(path);
    s.push_str("()");
    s
}

impl<'a> Lowerer<'a> {
    /// The type path an annotation denotes, when it names a class.
    pub fn annotation_type(&self, ann: &Expr) -> Option<String> {
        self.annotation_type_at(ann, 0)
    }

    fn annotation_type_at(&self, ann: &Expr, depth: u32) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match ann {
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                if text.len() > 200 {
                    return None;
                }
                let parsed = ruff_python_parser::parse_expression(text.trim()).ok()?;
                self.annotation_type_at(parsed.expr(), depth + 1)
            }
            Expr::Subscript(sub) => {
                let (base, attrs) = attr_chain(&sub.value)?;
                let head = attrs.last().copied().unwrap_or(base);
                let inner: &Expr = match &*sub.slice {
                    Expr::Tuple(t) => t.elts.first()?,
                    other => other,
                };
                if WRAPPERS.contains(&head) {
                    return self.annotation_type_at(inner, depth + 1);
                }
                if head == "Union" {
                    let Expr::Tuple(t) = &*sub.slice else {
                        return self.annotation_type_at(inner, depth + 1);
                    };
                    let mut some = t.elts.iter().filter(|e| !is_none(e));
                    let one = some.next()?;
                    return match some.next() {
                        None => self.annotation_type_at(one, depth + 1),
                        Some(_) => None,
                    };
                }
                None
            }
            Expr::BinOp(b) if b.op == Operator::BitOr => {
                match (is_none(&b.left), is_none(&b.right)) {
                    (true, false) => self.annotation_type_at(&b.right, depth + 1),
                    (false, true) => self.annotation_type_at(&b.left, depth + 1),
                    _ => None,
                }
            }
            Expr::Name(_) | Expr::Attribute(_) => {
                let (base, attrs) = attr_chain(ann)?;
                if base == "Self" && attrs.is_empty() {
                    return self.enclosing_class().map(|c| instance_of(&c));
                }
                let path = self.qualify(ann)?;
                if self.is_project_path(&path) {
                    return Some(instance_of(&path));
                }
                if let Some(name) = path.strip_prefix("builtins.")
                    && attrs.is_empty()
                    && name.starts_with(|c: char| c.is_ascii_uppercase())
                {
                    // A name the module does not bind (a forward reference, an import made
                    // only for type checkers elsewhere): the project class of that name.
                    let mut s = String::with_capacity(name.len() + 3);
                    s.push('?');
                    s.push_str(name);
                    s.push_str("()");
                    return Some(s);
                }
                Some(path)
            }
            _ => None,
        }
    }

    /// The class being defined or whose method is being lowered.
    pub fn enclosing_class(&self) -> Option<String> {
        for s in self.scopes.iter().rev() {
            if s.kind == ScopeKind::ClassBody
                && let Some(ci) = s.class_idx
            {
                return Some(self.ir.classes[ci as usize].path.clone());
            }
            if s.kind == ScopeKind::Function {
                return s.class.as_ref().map(|(c, _)| c.clone());
            }
        }
        None
    }

    /// Records the type of an attribute of `class` (first binding wins).
    pub fn record_attr_type(&mut self, class: &str, attr: &str, ty: &str) {
        if !is_project_type(ty) {
            return;
        }
        if let Some(c) = self.ir.classes.iter_mut().rev().find(|c| c.path == class) {
            c.attr_types
                .entry(Name::new(attr))
                .or_insert_with(|| ty.into());
        }
    }

    /// Records what the current function returns, when it is a project value.
    pub fn note_return_type(&mut self, ty: Option<&str>) {
        let Some(ty) = ty.filter(|t| is_project_type(t)) else {
            return;
        };
        let Some(scope) = self.scopes.last() else {
            return;
        };
        if scope.kind != ScopeKind::Function {
            return;
        }
        let f = &mut self.ir.functions[scope.fn_id as usize];
        if f.returns.is_none() {
            f.returns = Some(ty.into());
        }
    }
}

fn is_none(e: &Expr) -> bool {
    matches!(e, Expr::NoneLiteral(_))
        || matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "None")
}
