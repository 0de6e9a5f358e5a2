//! The calls a class statement makes implicitly when it runs: the metaclass's `__new__` and
//! `__init__`, the `__set_name__` of each descriptor instance its body assigns, and the
//! `__init_subclass__` that the class's bases define.

use ruff_python_ast::{Expr, Stmt, StmtClassDef};
use ruff_text_size::Ranged;

use super::imports::dotted;
use super::ir::RefKind;
use super::lower::Lowerer;
use super::scope::last_segment;
use super::types::instance_of;

impl Lowerer<'_> {
    /// Records the implicit calls of the class statement `c`, made where
    /// the statement runs, after its body: each becomes a call edge when the project defines
    /// the method.
    pub(super) fn class_creation_calls(&mut self, c: &StmtClassDef) {
        let range = c.name.range();
        let meta = c.arguments.as_ref().and_then(|a| {
            a.keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|n| n.id.as_str() == "metaclass"))
                .and_then(|k| self.qualify(&k.value))
                .filter(|p| self.is_project_path(p))
        });
        if let Some(meta) = &meta {
            self.implicit_call(range, &instance_of(meta), "__new__");
        }
        // `type.__new__` calls `__set_name__` on each attribute value that defines it.
        for s in &c.body {
            let (target, value) = match s {
                Stmt::Assign(a) if a.targets.len() == 1 => (&a.targets[0], &*a.value),
                Stmt::AnnAssign(a) => match a.value.as_deref() {
                    Some(v) => (&*a.target, v),
                    None => continue,
                },
                _ => continue,
            };
            let (Expr::Name(_), Expr::Call(call)) = (target, value) else {
                continue;
            };
            let Some(class) = self
                .qualify(&call.func)
                .filter(|p| self.is_project_path(p))
                .filter(|p| last_segment(p).starts_with(|c: char| c.is_ascii_uppercase()))
            else {
                continue;
            };
            self.implicit_call(value.range(), &instance_of(&class), "__set_name__");
        }
        // Then the `__init_subclass__` the bases define or inherit (not the class's own): the
        // class itself may be local to a function, so each project base is asked.
        let bases: Vec<String> = c.arguments.as_ref().map_or_else(Vec::new, |a| {
            a.args
                .iter()
                .filter_map(|b| self.qualify(b))
                .filter(|p| self.is_project_path(p))
                .collect()
        });
        for base in bases {
            self.implicit_call(range, &base, "__init_subclass__");
        }
        if let Some(meta) = &meta {
            self.implicit_call(range, &instance_of(meta), "__init__");
        }
    }

    /// A call of `owner.method` that Python makes without syntax for it.
    fn implicit_call(&mut self, range: ruff_text_size::TextRange, owner: &str, method: &str) {
        self.pending_ref(range, &dotted(owner, method), RefKind::Method);
        self.pending_call(range, Vec::new(), &[]);
    }
}
