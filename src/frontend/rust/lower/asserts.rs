//! Tests that assert an error: `assert!(x.is_err())`, `x.unwrap_err()`, `assert_err!(x)`,
//! `assert!(matches!(x, Err(..)))`. The asserted expression is code whose failure the test
//! watches (the `Err` it returns); when it joins a task (`h.await`, `h.join()`), the test
//! watches the task's body fail, since a panic there comes out of the join as an error.

use syn::parse::Parser;
use syn::{Expr, Pat};

use super::{Lowerer, Origin, strip};
use crate::frontend::rust::spans;
use crate::model::{Asserted, EventKind, Span, VarId};

/// Macros whose first argument must be an `Err` (tokio-test's `assert_err!`,
/// `assert_ready_err!`).
const ERR_MACROS: &[&str] = &["assert_err", "assert_ready_err"];

/// Macros whose first argument is a condition that must hold.
const COND_MACROS: &[&str] = &["assert", "debug_assert"];

/// Methods that panic unless their receiver is an `Err`.
const ERR_UNWRAPS: &[&str] = &["unwrap_err", "expect_err"];

/// The expression that the macro `name`, given `args`, asserts to be an `Err`.
pub(super) fn macro_asserts_err<'e>(name: &str, args: &'e [Expr]) -> Option<&'e Expr> {
    let first = args.first()?;
    if ERR_MACROS.contains(&name) {
        return Some(first);
    }
    if !COND_MACROS.contains(&name) {
        return None;
    }
    match strip(first) {
        Expr::MethodCall(m) if m.method == "is_err" && m.args.is_empty() => Some(&m.receiver),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => match strip(&u.expr) {
            Expr::MethodCall(m) if m.method == "is_ok" && m.args.is_empty() => Some(&m.receiver),
            _ => None,
        },
        _ => None,
    }
}

/// The expression of a `matches!(x, Err(..))` condition, parsed from its tokens.
pub(super) fn matches_err(cond: &Expr) -> Option<Expr> {
    let Expr::Macro(m) = strip(cond) else {
        return None;
    };
    if m.mac.path.segments.last()?.ident != "matches" {
        return None;
    }
    let parse = |input: syn::parse::ParseStream<'_>| {
        let e: Expr = input.parse()?;
        input.parse::<syn::Token![,]>()?;
        let p = Pat::parse_multi_with_leading_vert(input)?;
        let _: proc_macro2::TokenStream = input.parse()?;
        Ok((e, p))
    };
    let (e, p) = parse.parse2(m.mac.tokens.clone()).ok()?;
    let path = match &p {
        Pat::TupleStruct(t) => &t.path,
        Pat::Path(x) => &x.path,
        _ => return None,
    };
    (path.segments.last()?.ident == "Err").then_some(e)
}

/// Whether a method of this name panics unless its receiver is an `Err`.
pub(super) fn unwraps_err(method: &syn::Ident) -> bool {
    ERR_UNWRAPS.iter().any(|m| method == m)
}

impl Lowerer<'_, '_> {
    /// Records the expression a `let` binds the local `id` to.
    pub(super) fn note_init(&mut self, id: &syn::Ident, at: Span) {
        if let Some(b) = self
            .stack
            .last_mut()
            .and_then(|st| st.scopes.last_mut())
            .and_then(|sc| sc.bindings.iter_mut().rev().find(|b| id == b.name.as_str()))
        {
            b.init = Some(at);
        }
    }

    /// Notes that the code asserts `e` to be an `Err`: the join of a task bound to a local
    /// asserts that the task fails; a local asserts the expression its `let` bound it to;
    /// any other expression asserts itself.
    pub(super) fn asserted_err(&mut self, e: &Expr) {
        let e = strip(e);
        let joined = match e {
            Expr::Await(a) => Some(&*a.base),
            Expr::MethodCall(m) if m.method == "join" && m.args.is_empty() => Some(&*m.receiver),
            _ => None,
        };
        let span = self.sp2(spans::first(e), spans::last(e));
        if let Some(Expr::Path(p)) = joined.map(strip)
            && let Some(id) = p.path.get_ident()
            && let Some((_, b)) = self.lookup_ident(id)
            && let Origin::Var(v) = b.origin
        {
            let how = Asserted::Task(VarId(v));
            self.emit_model(
                span,
                EventKind::ExpectsFailure {
                    what: Vec::new(),
                    how,
                },
            );
            return;
        }
        let span = match e {
            Expr::Path(p) => {
                let Some(init) = p
                    .path
                    .get_ident()
                    .and_then(|id| self.lookup_ident(id))
                    .and_then(|(_, b)| b.init)
                else {
                    return;
                };
                init
            }
            _ => span,
        };
        let how = Asserted::ErrResult;
        self.emit_model(
            span,
            EventKind::ExpectsFailure {
                what: Vec::new(),
                how,
            },
        );
    }
}
