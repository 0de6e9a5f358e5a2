//! A module's `__getattr__` (PEP 562): an attribute read of a module that does not bind the
//! name (`clients.jobs`, `from app.clients import jobs`) calls the module's `__getattr__`, so
//! the name holds what it returns (a client or a queue it makes once and keeps in a module
//! global: a lazy accessor of the module). The lowering notes such a function, when it hands
//! back module globals only, and the names it tells apart; the linker gives each such name of
//! the module (a static cell that the project reads) the function's return.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{CmpOp, Expr, Stmt, StmtFunctionDef};

use super::lower::Lowerer;

/// A module-level `def __getattr__(name)`.
#[derive(Clone, Debug)]
pub struct ModuleGetattr {
    /// The function (local index).
    pub func: u32,
    /// The names it compares its parameter with (`if name == "jobs":`); empty when it
    /// compares it with none.
    pub names: Box<[Box<str>]>,
    /// The names the module binds itself, which a read finds without calling it.
    pub bound: Box<[Box<str>]>,
}

impl ModuleGetattr {
    /// Whether a read of the module's attribute `name` gets what the function returns: the
    /// module does not bind the name, and the function tells no other name apart from it
    /// (compared with several names, what it returns for each is not told apart).
    pub fn answers(&self, name: &str) -> bool {
        !self.bound.iter().any(|b| &**b == name)
            && !name.contains(['(', '['])
            && match &*self.names {
                [] => true,
                [only] => &**only == name,
                _ => false,
            }
    }
}

/// Collects the string literals a name is compared with.
struct Compared<'n> {
    param: &'n str,
    names: Vec<Box<str>>,
}

impl Compared<'_> {
    fn literals(&mut self, e: &Expr) {
        match e {
            Expr::StringLiteral(s) => self.names.push(s.value.to_str().into()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.literals(e)),
            Expr::List(t) => t.elts.iter().for_each(|e| self.literals(e)),
            Expr::Set(t) => t.elts.iter().for_each(|e| self.literals(e)),
            _ => {}
        }
    }
}

impl<'e> Visitor<'e> for Compared<'_> {
    fn visit_expr(&mut self, expr: &'e Expr) {
        if let Expr::Compare(c) = expr {
            let is_param = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == self.param);
            let tests = c.ops.iter().all(|op| {
                matches!(
                    op,
                    CmpOp::Eq | CmpOp::NotEq | CmpOp::In | CmpOp::NotIn | CmpOp::Is | CmpOp::IsNot
                )
            });
            if tests && is_param(&c.left) {
                for other in c.comparators.iter() {
                    self.literals(other);
                }
            } else if tests && c.comparators.iter().any(is_param) {
                self.literals(&c.left);
            }
        }
        visitor::walk_expr(self, expr);
    }
}

/// What a function returns, as names, and which names it binds or declares `global`.
#[derive(Default)]
struct Returns {
    /// The names returned; `None` once something other than a name is returned.
    names: Option<Vec<String>>,
    globals: Vec<String>,
    assigned: Vec<String>,
}

impl<'e> Visitor<'e> for Returns {
    fn visit_stmt(&mut self, stmt: &'e Stmt) {
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return,
            Stmt::Return(r) => match (r.value.as_deref(), &mut self.names) {
                (Some(Expr::Name(n)), Some(names)) => names.push(n.id.to_string()),
                _ => self.names = None,
            },
            Stmt::Global(g) => self
                .globals
                .extend(g.names.iter().map(|n| n.id.to_string())),
            Stmt::Assign(a) => {
                for t in &a.targets {
                    if let Expr::Name(n) = t {
                        self.assigned.push(n.id.to_string());
                    }
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }
}

impl Lowerer<'_> {
    /// Notes the module-level `def __getattr__` `f`, lowered as function `id`.
    /// Only a function that hands back module globals (objects it keeps, made once) is
    /// noted: what it would make afresh at each read is no one object of the module.
    pub(super) fn note_module_getattr(&mut self, f: &StmtFunctionDef, id: u32) {
        let Some(param) = f.parameters.iter_non_variadic_params().next() else {
            return;
        };
        let mut returns = Returns {
            names: Some(Vec::new()),
            ..Returns::default()
        };
        returns.visit_body(&f.body);
        let keeps = returns.names.is_some_and(|names| {
            !names.is_empty()
                && names.iter().all(|n| {
                    self.module_names.contains_key(n.as_str())
                        && (returns.globals.contains(n) || !returns.assigned.contains(n))
                })
        });
        if !keeps {
            return;
        }
        let mut compared = Compared {
            param: param.parameter.name.id.as_str(),
            names: Vec::new(),
        };
        compared.visit_body(&f.body);
        let mut names = compared.names;
        names.sort_unstable();
        names.dedup();
        let bound = self
            .module_names
            .keys()
            .map(|n| n.as_str())
            .chain(self.imports.iter().map(|(n, _)| n))
            .map(Box::from)
            .collect();
        self.ir.module_getattr = Some(ModuleGetattr {
            func: id,
            names: names.into(),
            bound,
        });
    }
}
