//! The implicit calls of formatting macros: `println!("{}", x)` calls `Display::fmt` of `x`'s
//! type, `{:?}` calls `Debug::fmt`, and a name captured by the format string (`{x}`) is an
//! argument too. Only package types matter: their hand-written impls run where the macro runs.

use proc_macro2::{TokenStream, TokenTree};
use syn::Expr;

use super::Lowerer;
use super::typing;
use crate::frontend::rust::ir::{FKind, Target, TypeRef};
use crate::frontend::rust::resolve::Res;
use crate::frontend::rust::types::path_segs;

/// Which argument a placeholder of a format string formats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ArgRef {
    /// The next positional argument (`{}`).
    Next,
    /// A positional argument by index (`{0}`).
    Index(usize),
    /// A named argument or a name captured from the scope (`{x}`).
    Name(String),
}

/// The placeholders of format string `fmt`, in order, each with whether it formats with
/// `Debug` (`{:?}`, `{x:#?}`) rather than `Display`; placeholders of other traits (`{:x}`,
/// `{:e}`) are left out. A `.*` precision takes the next positional argument first, so it is
/// told as a placeholder of no trait.
pub(super) fn placeholders(fmt: &str) -> Vec<(ArgRef, Option<bool>)> {
    let mut out = Vec::new();
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => i += 2,
            b'{' => {
                let Some(len) = fmt[i + 1..].find('}') else {
                    break;
                };
                let inner = &fmt[i + 1..i + 1 + len];
                i += len + 2;
                let (arg, spec) = inner.split_once(':').unwrap_or((inner, ""));
                let arg = arg.trim();
                if spec.contains(".*") {
                    out.push((ArgRef::Next, None));
                }
                let r = if arg.is_empty() {
                    ArgRef::Next
                } else if let Ok(n) = arg.parse() {
                    ArgRef::Index(n)
                } else {
                    ArgRef::Name(arg.to_string())
                };
                let ty = spec.trim_start_matches(|c: char| !c.is_ascii_alphabetic() && c != '?');
                let debug = match ty {
                    "" => Some(false),
                    t if t.starts_with('?') || t.starts_with("x?") || t.starts_with("X?") => {
                        Some(true)
                    }
                    _ => None,
                };
                out.push((r, debug));
            }
            _ => i += 1,
        }
    }
    out
}

/// The package type whose impl a value of type `ty` formats with: the type itself, or what an
/// `Arc` or `Rc` shares.
fn formatted(ty: &TypeRef) -> Option<TypeRef> {
    match ty {
        TypeRef::Shared(inner) => formatted(inner),
        t if typing::owned_pkg(t) => Some(t.clone()),
        _ => None,
    }
}

impl Lowerer<'_, '_> {
    /// The trait method a formatting macro calls on what it formats (`Display::fmt`), when
    /// the knowledge base names `mac` one.
    pub(super) fn formats_args(&self, mac: &syn::Macro) -> Option<(String, String)> {
        let segs = path_segs(&mac.path);
        // The standard library's macros are in scope everywhere without an import.
        let full = match (self.resolve(&segs), segs.as_slice()) {
            (Res::Ext(full), _) => full,
            (Res::Unknown, [name]) => format!("std::{name}"),
            _ => return None,
        };
        self.cx
            .kb
            .kb()
            .impl_calls(crate::model::Language::Rust, &full)
            .into_iter()
            .find(|c| c.of == crate::kb::ImplOf::FormatArgs)
            .map(|c| (c.trait_.clone(), c.method.clone()))
    }

    /// The implicit calls of formatting macro `mac` (which calls `call` on each value it
    /// formats with `Display`), given its arguments and their lowered types when they were
    /// lowered; otherwise only names (captured, or passed bare) are typed, from their bindings.
    pub(super) fn format_calls(
        &mut self,
        mac: &syn::Macro,
        call: (String, String),
        lowered: Option<(&[Expr], &[TypeRef])>,
    ) {
        let (display, method) = call;
        let parsed;
        let (args, tys): (&[Expr], Vec<TypeRef>) = match lowered {
            Some((es, tys)) => (es, tys.to_vec()),
            None => {
                // Unparsed bodies hold no calls: names, fields, references and literals. Only a
                // name bound to a package value can call a package impl.
                if !self.names_pkg_value(mac.tokens.clone()) {
                    return;
                }
                parsed = syn::parse::Parser::parse2(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                    mac.tokens.clone(),
                )
                .map(|p| p.into_iter().collect::<Vec<_>>())
                .unwrap_or_default();
                let tys = parsed.iter().map(|e| self.name_type(e)).collect();
                (&parsed, tys)
            }
        };
        let Some(at) = args
            .iter()
            .take(2)
            .position(|e| matches!(e, Expr::Lit(l) if matches!(l.lit, syn::Lit::Str(_))))
        else {
            return;
        };
        let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(fmt),
            ..
        }) = &args[at]
        else {
            return;
        };
        let mut positional: Vec<Option<TypeRef>> = Vec::new();
        let mut named: Vec<(String, Option<TypeRef>)> = Vec::new();
        for (e, ty) in args.iter().zip(&tys).skip(at + 1) {
            match e {
                Expr::Assign(a) => {
                    if let Expr::Path(p) = &*a.left
                        && let Some(id) = p.path.get_ident()
                    {
                        named.push((id.to_string(), formatted(ty)));
                    }
                }
                _ => positional.push(formatted(ty)),
            }
        }
        let mut next = 0;
        let mut calls: Vec<(TypeRef, bool)> = Vec::new();
        for (arg, debug) in placeholders(&fmt.value()) {
            let ty = match arg {
                ArgRef::Next => {
                    next += 1;
                    positional.get(next - 1).cloned().flatten()
                }
                ArgRef::Index(n) => positional.get(n).cloned().flatten(),
                ArgRef::Name(n) => match named.iter().find(|(m, _)| *m == n) {
                    Some((_, ty)) => ty.clone(),
                    None => self.binding_type(&n).as_ref().and_then(formatted),
                },
            };
            if let (Some(ty), Some(debug)) = (ty, debug) {
                calls.push((ty, debug));
            }
        }
        let span = self.sp(fmt.span());
        for (ty, debug) in calls {
            let trait_ = if debug { "Debug" } else { display.as_str() };
            self.emit(
                span,
                FKind::Ref {
                    target: Target::Implicit {
                        ty,
                        trait_: trait_.to_string(),
                        name: method.clone(),
                    },
                    as_value: false,
                    result: None,
                },
            );
        }
    }

    /// Whether `tokens` (a macro body) name a local bound to a package value, bare or captured
    /// by a format string.
    fn names_pkg_value(&self, tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            TokenTree::Ident(id) => self
                .binding_type(&id.to_string())
                .is_some_and(|t| formatted(&t).is_some()),
            TokenTree::Literal(l) => {
                let s = l.to_string();
                s.starts_with('"')
                    && placeholders(&s).iter().any(|(r, _)| {
                        matches!(r, ArgRef::Name(n)
                            if self.binding_type(n).is_some_and(|t| formatted(&t).is_some()))
                    })
            }
            TokenTree::Group(g) => self.names_pkg_value(g.stream()),
            TokenTree::Punct(_) => false,
        })
    }

    /// The type of a local named `name`, when one is in sight.
    fn binding_type(&self, name: &str) -> Option<TypeRef> {
        let id = syn::parse_str::<syn::Ident>(name).ok()?;
        self.lookup_ident(&id).map(|(_, b)| b.ty.clone())
    }

    /// The type of an argument of an unparsed formatting macro: a name or a reference to one.
    fn name_type(&self, e: &Expr) -> TypeRef {
        match e {
            Expr::Reference(r) => self.name_type(&r.expr),
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup_ident(id))
                .map_or(TypeRef::Unknown, |(_, b)| b.ty.clone()),
            _ => TypeRef::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_map_to_arguments_and_traits() {
        let p = placeholders("{} {{x}} {1:?} {name:>8} {:x} {:.*} {v:#?}");
        assert_eq!(
            p,
            vec![
                (ArgRef::Next, Some(false)),
                (ArgRef::Index(1), Some(true)),
                (ArgRef::Name("name".into()), Some(false)),
                (ArgRef::Next, None),
                (ArgRef::Next, None),
                (ArgRef::Next, Some(false)),
                (ArgRef::Name("v".into()), Some(true)),
            ]
        );
    }
}
