//! Cheap spans of syntax nodes: the first and last token of an expression without building
//! its token stream (which `Spanned::span` does, at a cost linear in the expression's size).

use proc_macro2::Span as PSpan;
use syn::spanned::Spanned;
use syn::{Expr, MacroDelimiter, Member};

fn macro_close(d: &MacroDelimiter) -> PSpan {
    match d {
        MacroDelimiter::Paren(p) => p.span.close(),
        MacroDelimiter::Brace(b) => b.span.close(),
        MacroDelimiter::Bracket(b) => b.span.close(),
    }
}

/// The span of the first token of `e`.
pub fn first(e: &Expr) -> PSpan {
    let mut cur = e;
    loop {
        cur = match cur {
            Expr::MethodCall(m) => &m.receiver,
            Expr::Assign(a) => &a.left,
            Expr::Group(g) => &g.expr,
            Expr::Range(r) => match &r.start {
                Some(s) => s,
                None => return limits(&r.limits),
            },
            Expr::Unary(u) => return unary(&u.op),
            Expr::Let(l) => return l.let_token.span,
            Expr::Return(r) => return r.return_token.span,
            Expr::Break(b) => return b.break_token.span,
            Expr::Continue(c) => return c.continue_token.span,
            Expr::Yield(y) => return y.yield_token.span,
            Expr::If(i) => return i.if_token.span,
            Expr::Match(m) => return m.match_token.span,
            Expr::Unsafe(u) => return u.unsafe_token.span,
            Expr::Const(c) => return c.const_token.span,
            Expr::TryBlock(t) => return t.try_token.span,
            Expr::Repeat(r) => return r.bracket_token.span.open(),
            Expr::Loop(l) if l.label.is_none() => return l.loop_token.span,
            Expr::While(w) if w.label.is_none() => return w.while_token.span,
            Expr::ForLoop(f) if f.label.is_none() => return f.for_token.span,
            Expr::Infer(i) => return i.underscore_token.span,
            Expr::Call(c) => &c.func,
            Expr::Field(f) => &f.base,
            Expr::Await(a) => &a.base,
            Expr::Try(t) => &t.expr,
            Expr::Index(i) => &i.expr,
            Expr::Binary(b) => &b.left,
            Expr::Cast(c) => &c.expr,
            Expr::Path(p) => {
                return match (&p.qself, p.path.segments.first()) {
                    (None, Some(s)) if p.path.leading_colon.is_none() => s.ident.span(),
                    _ => p.span(),
                };
            }
            Expr::Lit(l) => return l.lit.span(),
            Expr::Macro(m) => {
                return m
                    .mac
                    .path
                    .segments
                    .first()
                    .map(|s| s.ident.span())
                    .unwrap_or_else(|| m.mac.bang_token.span);
            }
            Expr::Paren(p) => return p.paren_token.span.open(),
            Expr::Reference(r) => return r.and_token.span,
            Expr::Block(b) if b.label.is_none() => return b.block.brace_token.span.open(),
            Expr::Async(a) => return a.async_token.span,
            Expr::Closure(c) => {
                return c.capture.map(|m| m.span).unwrap_or(c.or1_token.span);
            }
            Expr::Tuple(t) => return t.paren_token.span.open(),
            Expr::Array(a) => return a.bracket_token.span.open(),
            Expr::Struct(s) => {
                return s
                    .path
                    .segments
                    .first()
                    .map(|s| s.ident.span())
                    .unwrap_or_else(|| s.brace_token.span.open());
            }
            _ => return cur.span(),
        };
    }
}

/// The span of the last token of `e`.
pub fn last(e: &Expr) -> PSpan {
    let mut cur = e;
    loop {
        cur = match cur {
            Expr::Assign(a) => &a.right,
            Expr::Group(g) => &g.expr,
            Expr::Let(l) => &l.expr,
            Expr::Range(r) => match &r.end {
                Some(end) => end,
                None => return limits(&r.limits),
            },
            Expr::Return(r) => match &r.expr {
                Some(x) => x,
                None => return r.return_token.span,
            },
            Expr::Break(b) => match (&b.expr, &b.label) {
                (Some(x), _) => x,
                (None, Some(l)) => return l.ident.span(),
                (None, None) => return b.break_token.span,
            },
            Expr::Yield(y) => match &y.expr {
                Some(x) => x,
                None => return y.yield_token.span,
            },
            Expr::Continue(c) => {
                return c
                    .label
                    .as_ref()
                    .map_or(c.continue_token.span, |l| l.ident.span());
            }
            Expr::If(i) => match &i.else_branch {
                Some((_, els)) => els,
                None => return i.then_branch.brace_token.span.close(),
            },
            Expr::Match(m) => return m.brace_token.span.close(),
            Expr::Unsafe(u) => return u.block.brace_token.span.close(),
            Expr::Const(c) => return c.block.brace_token.span.close(),
            Expr::TryBlock(t) => return t.block.brace_token.span.close(),
            Expr::Loop(l) => return l.body.brace_token.span.close(),
            Expr::While(w) => return w.body.brace_token.span.close(),
            Expr::ForLoop(f) => return f.body.brace_token.span.close(),
            Expr::Repeat(r) => return r.bracket_token.span.close(),
            Expr::Infer(i) => return i.underscore_token.span,
            Expr::MethodCall(m) => return m.paren_token.span.close(),
            Expr::Call(c) => return c.paren_token.span.close(),
            Expr::Path(p) => {
                return p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.span())
                    .unwrap_or_else(|| p.span());
            }
            Expr::Lit(l) => return l.lit.span(),
            Expr::Macro(m) => return macro_close(&m.mac.delimiter),
            Expr::Await(a) => return a.await_token.span,
            Expr::Try(t) => return t.question_token.span,
            Expr::Field(f) => {
                return match &f.member {
                    Member::Named(i) => i.span(),
                    Member::Unnamed(i) => i.span,
                };
            }
            Expr::Paren(p) => return p.paren_token.span.close(),
            Expr::Reference(r) => &r.expr,
            Expr::Unary(u) => &u.expr,
            Expr::Binary(b) => &b.right,
            Expr::Block(b) => return b.block.brace_token.span.close(),
            Expr::Async(a) => return a.block.brace_token.span.close(),
            Expr::Closure(c) => &c.body,
            Expr::Struct(s) => return s.brace_token.span.close(),
            Expr::Tuple(t) => return t.paren_token.span.close(),
            Expr::Array(a) => return a.bracket_token.span.close(),
            Expr::Index(i) => return i.bracket_token.span.close(),
            _ => return cur.span(),
        };
    }
}

/// The span of a range's `..` or `..=`.
fn limits(l: &syn::RangeLimits) -> PSpan {
    match l {
        syn::RangeLimits::HalfOpen(t) => t.spans[0],
        syn::RangeLimits::Closed(t) => t.spans[0],
    }
}

/// The span of a unary operator.
fn unary(op: &syn::UnOp) -> PSpan {
    match op {
        syn::UnOp::Deref(t) => t.span,
        syn::UnOp::Not(t) => t.span,
        syn::UnOp::Neg(t) => t.span,
        _ => op.span(),
    }
}

#[cfg(test)]
mod tests {
    use super::{first, last};

    fn ends(src: &str) -> ((usize, usize), (usize, usize)) {
        let e: syn::Expr = syn::parse_str(src).unwrap();
        let (a, b) = (first(&e).start(), last(&e).end());
        ((a.line, a.column), (b.line, b.column))
    }

    #[test]
    fn first_and_last_tokens_without_printing() {
        assert_eq!(ends("a = b = c"), ((1, 0), (1, 9)));
        assert_eq!(ends("x = if y { 1 } else { 2 }"), ((1, 0), (1, 25)));
        assert_eq!(ends("return f(x)"), ((1, 0), (1, 11)));
        assert_eq!(ends("!ready"), ((1, 0), (1, 6)));
        assert_eq!(ends("0..n"), ((1, 0), (1, 4)));
        assert_eq!(ends("..=n"), ((1, 0), (1, 4)));
        assert_eq!(ends("break 'outer"), ((1, 0), (1, 12)));
        assert_eq!(ends("match v { _ => () }"), ((1, 0), (1, 19)));
    }

    #[test]
    fn a_long_assignment_chain_is_walked_not_printed() {
        let chain = format!("{}x", "x = ".repeat(200));
        let e: syn::Expr = syn::parse_str(&chain).unwrap();
        assert_eq!(last(&e).end().column, chain.len());
        assert_eq!(first(&e).start().column, 0);
    }
}
