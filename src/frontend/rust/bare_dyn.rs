//! Bare trait objects of the `Fn` family (`Box<Fn(u8) + Send>`, `type Cb = Fn(&T);`), which the
//! 2015 and 2018 editions accept and `syn` does not parse: the tokens are given a `dyn`, spanned
//! like the trait's name, so positions in the file are unchanged.

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};

/// The tokens of `text` with `dyn` before each bare `Fn(..)`/`FnMut(..)`/`FnOnce(..)` in a type
/// position, or `None` when the text does not lex or holds no such trait object.
pub fn with_dyn(text: &str) -> Option<TokenStream> {
    let tokens: TokenStream = text.parse().ok()?;
    let (out, changed) = rewrite(tokens);
    changed.then_some(out)
}

/// Whether the tokens before a `Fn(..)` put it in a type position where a trait object needs
/// `dyn`: after `=` (a type alias), `<` or `,` (a generic argument), `&`, `&mut`, `*const`,
/// `*mut`, or `->`. In bound positions (after `:`, `+`, `impl`, `dyn`) it stays as it is.
fn type_position(prev: &[TokenTree]) -> bool {
    let punct =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    let ident = |t: Option<&TokenTree>, s: &str| matches!(t, Some(TokenTree::Ident(i)) if i == s);
    let last = prev.last();
    let before = prev.len().checked_sub(2).and_then(|i| prev.get(i));
    punct(last, '=')
        && !punct(before, '=')
        && !punct(before, '!')
        && !punct(before, '<')
        && !punct(before, '>')
        || punct(last, '<')
        || punct(last, ',')
        || punct(last, '&')
        || punct(last, '>') && punct(before, '-')
        || (ident(last, "mut") || ident(last, "const"))
            && (punct(before, '&') || punct(before, '*'))
}

fn rewrite(tokens: TokenStream) -> (TokenStream, bool) {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut changed = false;
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Group(g) => {
                let (inner, c) = rewrite(g.stream());
                changed |= c;
                let mut ng = Group::new(g.delimiter(), inner);
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            TokenTree::Ident(ref i)
                if (i == "Fn" || i == "FnMut" || i == "FnOnce")
                    && matches!(iter.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                    && type_position(&out) =>
            {
                out.push(TokenTree::Ident(Ident::new("dyn", i.span())));
                out.push(tt);
                changed = true;
            }
            other => out.push(other),
        }
    }
    (out.into_iter().collect(), changed)
}

#[cfg(test)]
mod tests {
    use super::with_dyn;

    fn parses(src: &str) -> bool {
        with_dyn(src).is_some_and(|ts| syn::parse2::<syn::File>(ts).is_ok())
    }

    #[test]
    fn bare_fn_trait_objects_get_dyn() {
        assert!(syn::parse_file("type A = Fn(&u8) + Send + Sync;").is_err());
        assert!(parses("type A = Fn(&u8) + Send + Sync;"));
        assert!(parses(
            "fn f(x: &Fn(u8) -> u8, y: Box<FnMut()>) -> Box<FnOnce() + Send> { loop {} }"
        ));
        assert!(parses("struct S { a: *const Fn(), b: &mut FnMut() }"));
    }

    #[test]
    fn bounds_and_code_are_left_alone() {
        assert!(with_dyn("fn f<F: Fn(u8)>(f: F) where F: FnMut() + Send {}").is_none());
        assert!(with_dyn("fn f(g: impl Fn()) { let x = 1; }").is_none());
        assert!(with_dyn("fn f(").is_none());
    }
}
