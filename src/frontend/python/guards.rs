//! Code guarded by a parameter's value, and the literal arguments of calls.
//!
//! `if new_thread:`, `if mode is None:`, `if flavor == Flavor.THREAD:` and
//! `for _ in range(retries):` guard their bodies by a test of a parameter; the events inside
//! carry that test as their condition ([`crate::model::Cond::Param`]). Calls record their
//! literal arguments, so the analysis can enter a helper with `retries=0` and skip the loop.

use ruff_python_ast::name::Name;
use ruff_python_ast::{Arguments, CmpOp, Expr, Parameters, Stmt, UnaryOp};

use crate::model::{Cond, CondId, Lit, Param, ParamTest, Span};

use super::ir::CallArgs;

use super::lower::Lowerer;

/// A literal value written in the source: numbers, booleans, `None`, strings and enum members
/// (`Flavor.THREAD`, by the member's name).
pub fn literal(e: &Expr) -> Option<Lit> {
    Some(match e {
        Expr::BooleanLiteral(b) => Lit::Bool(b.value),
        Expr::NoneLiteral(_) => Lit::None,
        Expr::NumberLiteral(n) => match &n.value {
            ruff_python_ast::Number::Int(i) => Lit::Int(i.as_i64()?),
            _ => return None,
        },
        Expr::StringLiteral(s) => Lit::Str(s.value.to_str().into()),
        Expr::UnaryOp(u) if u.op == UnaryOp::USub => match literal(&u.operand)? {
            Lit::Int(i) => Lit::Int(i.checked_neg()?),
            _ => return None,
        },
        Expr::Attribute(a)
            if matches!(&*a.value, Expr::Name(_))
                && a.attr
                    .as_str()
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_') =>
        {
            Lit::Variant(a.attr.as_str().into())
        }
        _ => return None,
    })
}

/// The parameters of a function definition, for binding call arguments: positional ones in
/// order (`self` included), then keyword-only ones.
pub fn params(p: &Parameters) -> Vec<Param> {
    let positional = p.posonlyargs.iter().chain(p.args.iter()).map(|a| (a, true));
    let keyword = p.kwonlyargs.iter().map(|a| (a, false));
    positional
        .chain(keyword)
        .map(|(a, positional)| Param {
            name: a.parameter.name.id.to_string(),
            default: a.default.as_deref().and_then(literal),
            positional,
        })
        .collect()
}

/// Records how a call passes its arguments, when every one of them can be placed: literals,
/// parameters of the caller with a literal default (`own`, less those the caller rebinds), and
/// anything else. A call that passes no literal is recorded too: the parameters it leaves out
/// take their defaults.
/// `receiver` is set for `self.m(..)`/`cls.m(..)`: the receiver is position 0.
/// `positions_known` is unset when the callee may be a method called through something else
/// than `self` (then positional arguments are not placed).
/// Returns `None` (and records nothing) for a call with a starred argument or `**kwargs`,
/// else whether the call passes one of the caller's parameters on.
pub fn push_call_args(
    out: &mut CallArgs,
    span: Span,
    args: &Arguments,
    receiver: bool,
    positions_known: bool,
    own: &[Param],
    rebound: &[Name],
) -> Option<bool> {
    if args.args.iter().any(|a| matches!(a, Expr::Starred(_)))
        || args.keywords.iter().any(|k| k.arg.is_none())
    {
        return None;
    }
    let mut passes_param = false;
    let mut value = |out: &mut CallArgs, e: &Expr| {
        // A string is looked up by its text, without building a literal.
        if let Expr::StringLiteral(s) = e {
            return out.str_val(s.value.to_str());
        }
        if let Some(l) = literal(e) {
            return out.lit_val(l);
        }
        // Only parameters with a literal default (options, flags) are followed when passed on.
        if let Expr::Name(n) = e
            && !rebound.contains(&n.id)
            && let Some(i) = own
                .iter()
                .position(|p| p.name == n.id.as_str() && p.default.is_some())
        {
            passes_param = true;
            return CallArgs::param_val(i as u32);
        }
        CallArgs::OTHER
    };
    out.begin(span);
    let shift = u32::from(receiver);
    for (i, a) in args.args.iter().enumerate() {
        let key = if positions_known {
            CallArgs::pos_key(i as u32 + shift)
        } else {
            CallArgs::UNPLACED
        };
        let val = value(out, a);
        out.add(key, val);
    }
    for k in &args.keywords {
        let name = k.arg.as_ref()?;
        let key = out.name_key(name.as_str());
        let val = value(out, &k.value);
        out.add(key, val);
    }
    Some(passes_param)
}

/// The upper-case constants (`SOCK_DGRAM`, `socket.AI_NUMERICHOST`) an expression made of
/// names, attributes and operators names, added to `out`.
pub fn constants_named(e: &Expr, out: &mut Vec<Name>, depth: u32) {
    if depth > 8 || out.len() > 16 {
        return;
    }
    let is_constant = |s: &str| {
        s.len() > 2
            && s.bytes().any(|b| b.is_ascii_uppercase())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    match e {
        Expr::Name(n) if is_constant(n.id.as_str()) => out.push(n.id.clone()),
        Expr::Attribute(a) if is_constant(a.attr.id.as_str()) => out.push(a.attr.id.clone()),
        Expr::BinOp(b) => {
            constants_named(&b.left, out, depth + 1);
            constants_named(&b.right, out, depth + 1);
        }
        Expr::UnaryOp(u) => constants_named(&u.operand, out, depth + 1),
        _ => {}
    }
}

/// Whether a statement always leaves the block it is in.
pub fn leaves_block(s: &Stmt) -> bool {
    matches!(
        s,
        Stmt::Return(_) | Stmt::Raise(_) | Stmt::Continue(_) | Stmt::Break(_)
    )
}

/// The parameters among `params` that `body` assigns to, deleted, or binds as a loop or `with`
/// target (nested functions and classes aside).
pub fn rebound(body: &[Stmt], params: &[Param]) -> Vec<Name> {
    let mut out = Vec::new();
    if !params.is_empty() {
        rebound_in(body, params, &mut out, 0);
    }
    out
}

fn rebound_in(body: &[Stmt], params: &[Param], out: &mut Vec<Name>, depth: u32) {
    if depth > 32 {
        return;
    }
    let target = |e: &Expr, out: &mut Vec<Name>| {
        let mut names = Vec::new();
        targets(e, &mut names, 0);
        for n in names {
            if params.iter().any(|p| p.name == n.as_str()) && !out.contains(&n) {
                out.push(n);
            }
        }
    };
    for s in body {
        match s {
            Stmt::Assign(a) => a.targets.iter().for_each(|t| target(t, out)),
            Stmt::AugAssign(a) => target(&a.target, out),
            Stmt::AnnAssign(a) => target(&a.target, out),
            Stmt::Delete(d) => d.targets.iter().for_each(|t| target(t, out)),
            Stmt::For(f) => {
                target(&f.target, out);
                rebound_in(&f.body, params, out, depth + 1);
                rebound_in(&f.orelse, params, out, depth + 1);
            }
            Stmt::While(w) => {
                rebound_in(&w.body, params, out, depth + 1);
                rebound_in(&w.orelse, params, out, depth + 1);
            }
            Stmt::If(i) => {
                rebound_in(&i.body, params, out, depth + 1);
                for c in &i.elif_else_clauses {
                    rebound_in(&c.body, params, out, depth + 1);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        target(v, out);
                    }
                }
                rebound_in(&w.body, params, out, depth + 1);
            }
            Stmt::Try(t) => {
                rebound_in(&t.body, params, out, depth + 1);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    rebound_in(&h.body, params, out, depth + 1);
                }
                rebound_in(&t.orelse, params, out, depth + 1);
                rebound_in(&t.finalbody, params, out, depth + 1);
            }
            Stmt::Match(m) => {
                for c in &m.cases {
                    rebound_in(&c.body, params, out, depth + 1);
                }
            }
            Stmt::Global(_) | Stmt::Nonlocal(_) => {}
            _ => {}
        }
    }
}

fn targets(e: &Expr, out: &mut Vec<Name>, depth: u32) {
    if depth > 16 {
        return;
    }
    match e {
        Expr::Name(n) => out.push(n.id.clone()),
        Expr::Tuple(t) => t.elts.iter().for_each(|x| targets(x, out, depth + 1)),
        Expr::List(l) => l.elts.iter().for_each(|x| targets(x, out, depth + 1)),
        Expr::Starred(s) => targets(&s.value, out, depth + 1),
        _ => {}
    }
}

impl Lowerer<'_> {
    /// The condition a test of the current function's parameter expresses (`TRUE` when the
    /// test is of anything else).
    pub fn param_test(&mut self, test: &Expr) -> CondId {
        let (name, t, negate) = match test {
            Expr::Name(n) => (n.id.as_str(), ParamTest::Truthy, false),
            Expr::UnaryOp(u) if u.op == UnaryOp::Not => {
                let inner = self.param_test(&u.operand);
                return if inner == CondId::TRUE {
                    CondId::TRUE
                } else {
                    self.ir.conds.not(inner)
                };
            }
            Expr::Compare(c) if c.ops.len() == 1 && c.comparators.len() == 1 => {
                let Expr::Name(n) = &*c.left else {
                    return CondId::TRUE;
                };
                let Some(lit) = literal(&c.comparators[0]) else {
                    return CondId::TRUE;
                };
                let negate = match c.ops[0] {
                    CmpOp::Eq | CmpOp::Is => false,
                    CmpOp::NotEq | CmpOp::IsNot => true,
                    _ => return CondId::TRUE,
                };
                (n.id.as_str(), ParamTest::Is(lit), negate)
            }
            _ => return CondId::TRUE,
        };
        let c = self.param_cond(name, t);
        if negate && c != CondId::TRUE {
            self.ir.conds.not(c)
        } else {
            c
        }
    }

    /// The condition that `for _ in <iter>` runs its body at least once, when the iterable is
    /// `range(p)` or `range(0, p)` of a parameter `p`.
    pub fn loop_test(&mut self, iter: &Expr) -> CondId {
        let Expr::Call(c) = iter else {
            return CondId::TRUE;
        };
        if !matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "range")
            || !c.arguments.keywords.is_empty()
        {
            return CondId::TRUE;
        }
        let bound = match &*c.arguments.args {
            [Expr::Name(n)] => n,
            [start, Expr::Name(n)] if literal(start) == Some(Lit::Int(0)) => n,
            _ => return CondId::TRUE,
        };
        self.param_cond(bound.id.as_str(), ParamTest::Positive)
    }

    /// A test of the current function's parameter `name`, which the body must not rebind.
    fn param_cond(&mut self, name: &str, test: ParamTest) -> CondId {
        let scope = self.scope();
        let Some(index) = scope.param_info.iter().position(|p| p.name == name) else {
            return CondId::TRUE;
        };
        if scope.rebound.iter().any(|n| n.as_str() == name) {
            return CondId::TRUE;
        }
        let fid = scope.fn_id as usize;
        if self.ir.functions[fid].func.params.is_empty() {
            self.ir.functions[fid].func.params = self.scope().param_info.clone();
        }
        self.ir.conds.intern(Cond::Param {
            index: index as u32,
            test,
        })
    }

    /// Lowers `body` with `cond` added to the current condition.
    pub fn under<R>(&mut self, cond: CondId, body: impl FnOnce(&mut Self) -> R) -> R {
        let saved = self.scope().when;
        let when = self.ir.conds.and(saved, cond);
        self.scope_mut().when = when;
        let r = body(self);
        self.scope_mut().when = saved;
        r
    }
}
