//! Keys that name the event loop: a container whose elements are stored under such a key
//! (`locks[(asyncio.get_running_loop(), name)] = asyncio.Lock()`) keeps one element per loop,
//! so what one loop stores is never what another reads back, and the flow does not take the
//! elements as shared.

use ruff_python_ast::name::Name;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ExprCall};

use super::lower::Lowerer;
use super::scope::NameRes;
use crate::kb::Concept;
use crate::model::VarKind;

/// Looks for a loop named in a key.
struct LoopFinder<'l, 'a> {
    lowerer: &'l Lowerer<'a>,
    found: bool,
}

impl<'e> Visitor<'e> for LoopFinder<'_, '_> {
    fn visit_expr(&mut self, expr: &'e Expr) {
        if self.found {
            return;
        }
        match expr {
            Expr::Name(n) => {
                if self.lowerer.scope().loop_keys.contains(&n.id) {
                    self.found = true;
                } else if let NameRes::Var(v) = self.lowerer.resolve_name(n.id.as_str())
                    && matches!(
                        self.lowerer.ir.vars[v.0 as usize].kind,
                        VarKind::Runtime | VarKind::Handle
                    )
                {
                    self.found = true;
                }
            }
            Expr::Call(ExprCall { func, .. })
                if self.lowerer.qualify(func).is_some_and(|p| {
                    self.lowerer
                        .cx
                        .apis(&p)
                        .iter()
                        .any(|a| a.concept == Concept::Handle)
                }) =>
            {
                self.found = true;
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

impl Lowerer<'_> {
    /// Whether `key` names an event loop: a local bound to a loop or a handle to one, or a call
    /// that gets the current loop (`asyncio.get_running_loop()`), anywhere in the expression
    /// (`(loop, name)`, `id(loop)`), or a local bound to such a key.
    pub(super) fn keyed_by_loop(&self, key: &Expr) -> bool {
        let mut finder = LoopFinder {
            lowerer: self,
            found: false,
        };
        finder.visit_expr(key);
        finder.found
    }

    /// Notes that local `name` is bound to `value`: a key naming the loop, or not.
    pub(super) fn note_loop_key(&mut self, name: &str, value: &Expr) {
        if self.keyed_by_loop(value) {
            self.scope_mut().loop_keys.insert(Name::new(name));
        } else {
            self.scope_mut().loop_keys.remove(name);
        }
    }
}
