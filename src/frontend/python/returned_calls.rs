//! Calls of what a call returns: `every(30)(job)(..)` calls the wrapper that the stage of the
//! factory `every` returns, and `run_sync(job)(..)` the wrapper of the decorator `run_sync`,
//! as a call of a function decorated with them would. The frontend records the call (the
//! project function called first and how many calls deep the callee is) and the function
//! applied (`job`, which the wrapper calls); the linker follows the returned functions.

use ruff_python_ast::Expr;
use ruff_text_size::TextRange;

use super::ir::{HandedFn, Pending};
use super::lower::{Lowerer, NameRes};

/// The project function a chain of calls starts from, and how many calls deep its returned
/// function is: `every` and 2 for `every(30)(job)`.
struct Chain<'e> {
    path: String,
    depth: u8,
    /// The first argument of the call one level above the first one (`job`), if any.
    applied: Option<&'e Expr>,
}

impl Lowerer<'_> {
    fn returned_chain<'e>(&self, func: &'e Expr) -> Option<Chain<'e>> {
        let mut depth = 0u8;
        let mut e = func;
        let mut calls: Vec<&'e ruff_python_ast::ExprCall> = Vec::new();
        while let Expr::Call(c) = e {
            depth += 1;
            if depth > 2 {
                return None;
            }
            calls.push(c);
            e = &c.func;
        }
        if depth == 0 {
            return None;
        }
        let Expr::Name(n) = e else {
            return None;
        };
        let path = match self.resolve_name(n.id.as_str()) {
            NameRes::Path(p) if self.is_project_path(&p) => p.to_string(),
            _ => return None,
        };
        // `f(a)(job)`: job is the first argument of the outer call (the factory's stage's);
        // `f(job)`: of the one call.
        let applied = calls
            .first()
            .and_then(|c| c.arguments.args.first())
            .filter(|_| calls.len() == 2 || calls.len() == 1);
        Some(Chain {
            path,
            depth,
            applied,
        })
    }

    /// Notes a call of `func` when `func` is a call of a project function (or a call of what
    /// one returns): the function applied, before `func` is lowered. Returns what
    /// [`Self::returned_ref`] records once the call itself is lowered.
    pub(super) fn returned_chain_of(&mut self, func: &Expr) -> Option<(String, u8)> {
        let chain = self.returned_chain(func)?;
        let applied = match chain.applied {
            Some(Expr::Lambda(_)) | None => None,
            Some(a) => self.handed_fn(a).and_then(|h| match h {
                HandedFn::Path(p) => Some(p),
                _ => None,
            }),
        };
        if let Some(fn_path) = applied
            && let Some(fn_path) = self.ir.paths.get(fn_path as usize).map(Box::<str>::from)
        {
            self.ir
                .applied_inline
                .push((chain.path.clone().into(), chain.depth == 2, fn_path));
        }
        Some((chain.path, chain.depth))
    }

    /// Records the call of what the chain noted by [`Self::returned_chain_of`] returns: a
    /// reference the linker resolves to that function, when it knows it.
    pub(super) fn returned_ref(&mut self, (path, depth): (String, u8), range: TextRange) {
        let path = self.intern(&path);
        self.emit_pending(
            range,
            Pending::Returned {
                path,
                depth,
                decorates: false,
            },
        );
    }
}
