//! Best-effort parsing of common macro bodies (`tokio::select!`, `join!`, `assert*!`,
//! formatting macros, `vec!`, `lazy_static!`, `thread_local!`) so the code inside is seen.
//! A body that does not parse is skipped.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Pat, Token, Type};

/// One `select!` branch.
pub struct SelectArm {
    /// Pattern the future's output is bound to (absent for `else`).
    pub pat: Option<Pat>,
    /// The future (absent for `else`).
    pub fut: Option<Expr>,
    /// `, if cond` precondition.
    pub cond: Option<Expr>,
    /// Handler.
    pub body: Option<Expr>,
}

/// A static declared by `lazy_static!` or `thread_local!`.
pub struct MacroStatic {
    /// Name.
    pub name: Ident,
    /// Declared type.
    pub ty: Type,
    /// Initialiser.
    pub init: Expr,
}

/// What a macro body parsed into.
pub enum MacroBody {
    /// Comma-separated expressions.
    Exprs(Vec<Expr>),
    /// `select!` branches.
    Select(Vec<SelectArm>),
    /// `lazy_static!` statics.
    LazyStatics(Vec<MacroStatic>),
    /// `thread_local!` statics.
    ThreadLocals(Vec<MacroStatic>),
    /// Not a macro the frontend looks into, or the body did not parse.
    Opaque,
}

fn parse_exprs(tokens: TokenStream) -> Option<Vec<Expr>> {
    if not_exprs(&tokens) {
        return None;
    }
    Punctuated::<Expr, Token![,]>::parse_terminated
        .parse2(tokens)
        .ok()
        .map(|p| p.into_iter().collect())
}

/// The scrutinee of `matches!(expr, pattern)` and its assertion forms: the tokens before the
/// first top-level comma, as one expression (the pattern after it is no expression).
fn parse_scrutinee(tokens: TokenStream) -> Option<Vec<Expr>> {
    let head: TokenStream = tokens
        .into_iter()
        .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
        .collect();
    syn::parse2::<Expr>(head).ok().map(|e| vec![e])
}

/// Whether `tokens` certainly do not parse as comma-separated expressions, told from their top
/// level without parsing: logging macros' fields (`target: "t"`, `?value`, `key = %value`) are
/// no expressions. A `%` or `?` never starts an expression, pattern or type, so none comes
/// first or right after a `,` or `=`; and no expression starts with a word and a single `:`.
fn not_exprs(tokens: &TokenStream) -> bool {
    let mut prev: Option<TokenTree> = None;
    for (i, t) in tokens.clone().into_iter().enumerate() {
        match (&t, &prev) {
            (TokenTree::Punct(p), None) if matches!(p.as_char(), '%' | '?') => return true,
            (TokenTree::Punct(p), Some(TokenTree::Punct(q)))
                if matches!(p.as_char(), '%' | '?') && matches!(q.as_char(), ',' | '=') =>
            {
                return true;
            }
            (TokenTree::Punct(p), Some(TokenTree::Ident(_)))
                if i == 1 && p.as_char() == ':' && p.spacing() == Spacing::Alone =>
            {
                return true;
            }
            _ => {}
        }
        prev = Some(t);
    }
    false
}

fn parse_vec_repeat(tokens: TokenStream) -> Option<Vec<Expr>> {
    (|input: ParseStream| {
        let a: Expr = input.parse()?;
        input.parse::<Token![;]>()?;
        let b: Expr = input.parse()?;
        Ok(vec![a, b])
    })
    .parse2(tokens)
    .ok()
}

fn parse_statics(tokens: TokenStream, lazy: bool) -> Option<Vec<MacroStatic>> {
    (|input: ParseStream| {
        let mut out = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            input.parse::<Token![static]>()?;
            if lazy {
                input.parse::<Token![ref]>()?;
            }
            let name: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty: Type = input.parse()?;
            input.parse::<Token![=]>()?;
            if !lazy && input.peek(Token![const]) && input.peek2(syn::token::Brace) {
                input.parse::<Token![const]>()?;
            }
            let init: Expr = input.parse()?;
            out.push(MacroStatic { name, ty, init });
            if input.is_empty() {
                break;
            }
            input.parse::<Token![;]>()?;
        }
        Ok(out)
    })
    .parse2(tokens)
    .ok()
}

fn is_fat_arrow(tokens: &[TokenTree], i: usize) -> bool {
    matches!(&tokens[i], TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Joint)
        && matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '>')
}

fn is_single_eq(tokens: &[TokenTree], i: usize) -> bool {
    let TokenTree::Punct(p) = &tokens[i] else {
        return false;
    };
    if p.as_char() != '=' || is_fat_arrow(tokens, i) {
        return false;
    }
    if p.spacing() == Spacing::Joint {
        return false;
    }
    !matches!(i.checked_sub(1).and_then(|j| tokens.get(j)), Some(TokenTree::Punct(q)) if q.spacing() == Spacing::Joint)
}

fn stream(tokens: &[TokenTree]) -> TokenStream {
    tokens.iter().cloned().collect()
}

fn parse_select(tokens: TokenStream) -> Option<Vec<SelectArm>> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    // `biased;`
    if matches!(tokens.first(), Some(TokenTree::Ident(id)) if id == "biased")
        && matches!(tokens.get(1), Some(TokenTree::Punct(p)) if p.as_char() == ';')
    {
        i = 2;
    }
    let mut arms = Vec::new();
    let mut guard = 0;
    while i < tokens.len() {
        guard += 1;
        if guard > 10_000 {
            return None;
        }
        let is_else = matches!(&tokens[i], TokenTree::Ident(id) if id == "else")
            && i + 1 < tokens.len()
            && is_fat_arrow(&tokens, i + 1);
        let (pat, fut, cond);
        if is_else {
            pat = None;
            fut = None;
            cond = None;
            i += 3;
        } else {
            let start = i;
            while i < tokens.len() && !is_single_eq(&tokens, i) {
                i += 1;
            }
            if i >= tokens.len() {
                return None;
            }
            pat = Pat::parse_single.parse2(stream(&tokens[start..i])).ok();
            i += 1;
            let fstart = i;
            while i < tokens.len() && !is_fat_arrow(&tokens, i) {
                i += 1;
            }
            if i >= tokens.len() {
                return None;
            }
            let mut fend = i;
            let mut c = None;
            for j in fstart..i {
                if matches!(&tokens[j], TokenTree::Punct(p) if p.as_char() == ',')
                    && matches!(tokens.get(j + 1), Some(TokenTree::Ident(id)) if id == "if")
                {
                    fend = j;
                    c = syn::parse2::<Expr>(stream(&tokens[j + 2..i])).ok();
                    break;
                }
            }
            fut = syn::parse2::<Expr>(stream(&tokens[fstart..fend])).ok();
            cond = c;
            i += 2;
        }
        // Handler: a braced block (optionally followed by a comma) or tokens up to a comma.
        let body;
        if let Some(TokenTree::Group(g)) = tokens.get(i)
            && g.delimiter() == proc_macro2::Delimiter::Brace
        {
            body = syn::parse2::<Expr>(stream(&tokens[i..i + 1])).ok();
            i += 1;
            if matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ',') {
                i += 1;
            }
        } else {
            let hstart = i;
            while i < tokens.len()
                && !matches!(&tokens[i], TokenTree::Punct(p) if p.as_char() == ',')
            {
                i += 1;
            }
            body = syn::parse2::<Expr>(stream(&tokens[hstart..i])).ok();
            i += 1;
        }
        arms.push(SelectArm {
            pat,
            fut,
            cond,
            body,
        });
    }
    Some(arms)
}

/// Parses the body of `mac` if it is one of the macros the frontend looks into.
pub fn parse(mac: &syn::Macro) -> MacroBody {
    let Some(last) = mac.path.segments.last() else {
        return MacroBody::Opaque;
    };
    let name = last.ident.to_string();
    let tokens = mac.tokens.clone();
    let parsed = match name.as_str() {
        "select" | "select_biased" => parse_select(tokens).map(MacroBody::Select),
        "lazy_static" => parse_statics(tokens, true).map(MacroBody::LazyStatics),
        "thread_local" => parse_statics(tokens, false).map(MacroBody::ThreadLocals),
        "matches" | "assert_matches" | "debug_assert_matches" => {
            parse_scrutinee(tokens).map(MacroBody::Exprs)
        }
        "vec" => parse_exprs(tokens.clone())
            .or_else(|| parse_vec_repeat(tokens))
            .map(MacroBody::Exprs),
        "join" | "try_join" | "assert" | "assert_eq" | "assert_ne" | "debug_assert"
        | "debug_assert_eq" | "debug_assert_ne" | "println" | "print" | "eprintln" | "eprint"
        | "format" | "format_args" | "write" | "writeln" | "panic" | "dbg" | "unreachable"
        | "todo" | "unimplemented" | "pin" | "info" | "warn" | "error" | "debug" | "trace"
        | "anyhow" | "bail" | "ensure" | "matches_ok" | "assert_err" | "assert_ready_err" => {
            parse_exprs(tokens).map(MacroBody::Exprs)
        }
        _ => None,
    };
    parsed.unwrap_or(MacroBody::Opaque)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(src: &str) -> syn::Macro {
        syn::parse_str(src).unwrap()
    }

    #[test]
    fn matches_scrutinee_is_parsed_without_its_pattern() {
        let m = mac("matches!(connect(addr, f(a, b)).await, Ok(Some(_)) | Err(_) if ready)");
        let MacroBody::Exprs(exprs) = parse(&m) else {
            panic!("not parsed");
        };
        assert_eq!(exprs.len(), 1);
        assert!(matches!(exprs[0], Expr::Await(_)));
    }

    #[test]
    fn select_branches_split() {
        let m = mac(
            "tokio::select! { biased; Some(v) = rx.recv(), if open => { handle(v) }, _ = sleep(d) => stop(), else => break }",
        );
        let MacroBody::Select(arms) = parse(&m) else {
            panic!("not parsed");
        };
        assert_eq!(arms.len(), 3);
        assert!(arms[0].cond.is_some());
        assert!(arms[1].fut.is_some());
        assert!(arms[2].fut.is_none());
    }

    #[test]
    fn fields_of_logging_macros_are_no_expressions() {
        // Told without parsing: every body `not_exprs` rejects fails to parse, and the ones it
        // lets through are parsed as before.
        let rejected = [
            "target: \"t\", \"msg\"",
            "parent: &span, x = 1",
            "?value",
            "%value, \"msg\"",
            "key = %value, other = ?x",
            "\"msg {}\", a, ?b",
            "a, %b",
            "a : : b",
        ];
        let kept = [
            "|a, b| a % b",
            "a %= b, x?",
            "f::<A, B>(x)?, y",
            "a == b, a = b",
            "'a: loop {}",
            "a::b, ::c",
            "S { a: 1 }",
            "|x: u8| x",
            "Some(x?) ",
            "a..=b",
            "\"msg {}\", a",
            "key = value, \"msg\"",
            "{ x = ?y }",
        ];
        let exprs = |src: &str| parse_exprs(src.parse().unwrap());
        for src in rejected {
            assert!(not_exprs(&src.parse().unwrap()), "{src}");
            let all = Punctuated::<Expr, Token![,]>::parse_terminated.parse_str(src);
            assert!(all.is_err(), "{src}");
        }
        for src in kept {
            assert!(!not_exprs(&src.parse().unwrap()), "{src}");
        }
        assert!(exprs("a %= b, x?").is_some());
    }

    #[test]
    fn lazy_static_and_thread_local() {
        let m = mac("lazy_static! { static ref A: u8 = 1; pub static ref B: Vec<u8> = vec![]; }");
        assert!(matches!(parse(&m), MacroBody::LazyStatics(v) if v.len() == 2));
        let m = mac("thread_local! { static C: u8 = const { 1 } }");
        assert!(matches!(parse(&m), MacroBody::ThreadLocals(v) if v.len() == 1));
    }
}
