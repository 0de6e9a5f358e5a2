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
    for _ in 0..64 {
        cur = match cur {
            Expr::MethodCall(m) => &m.receiver,
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
    e.span()
}

/// The span of the last token of `e`.
pub fn last(e: &Expr) -> PSpan {
    let mut cur = e;
    for _ in 0..64 {
        cur = match cur {
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
    e.span()
}
