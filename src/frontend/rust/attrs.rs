//! Attributes that change how a function is entered (`#[tokio::main]`, `#[tokio::test]`,
//! `#[test]`) and `#[cfg(test)]` / `#[path]` handling.

use proc_macro2::{TokenStream, TokenTree};
use syn::{Attribute, Meta};

use crate::model::{Entry, Executor, Flavor};

/// What the attributes of a function say about it.
#[derive(Debug, Default)]
pub struct FnAttrs {
    /// Entry kind.
    pub entry: Option<Entry>,
    /// Whether the function is a test.
    pub is_test: bool,
    /// For a `#[should_panic]` test: the substring its panic message must contain (empty for
    /// any panic).
    pub expects_panic: Option<String>,
}

fn path_segments(attr: &Attribute) -> Vec<String> {
    attr.path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect()
}

/// Finds the string value of `key = "..."` in attribute arguments.
fn arg_value(tokens: &TokenStream, key: &str) -> Option<String> {
    let mut iter = tokens.clone().into_iter();
    while let Some(tt) = iter.next() {
        if let TokenTree::Ident(id) = &tt
            && id == key
        {
            if let Some(TokenTree::Punct(p)) = iter.next()
                && p.as_char() == '='
                && let Some(TokenTree::Literal(lit)) = iter.next()
            {
                return Some(lit.to_string().trim_matches('"').to_string());
            }
            return None;
        }
    }
    None
}

/// The attributes `cfg_attr(p, a, b, ..)` applies when `p` holds (`a`, `b`, ..), nested ones
/// included; empty when the arguments cannot be read.
pub fn cfg_attr_inner(attr: &Attribute) -> Vec<Attribute> {
    let mut out = Vec::new();
    cfg_attr_into(attr, &mut out, 0);
    out
}

fn cfg_attr_into(attr: &Attribute, out: &mut Vec<Attribute>, depth: u32) {
    if depth > 8 || !attr.path().is_ident("cfg_attr") {
        return;
    }
    let Ok(list) =
        attr.parse_args_with(syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated)
    else {
        return;
    };
    for meta in list.into_iter().skip(1) {
        let inner = Attribute {
            pound_token: attr.pound_token,
            style: attr.style,
            bracket_token: attr.bracket_token,
            meta,
        };
        if inner.path().is_ident("cfg_attr") {
            cfg_attr_into(&inner, out, depth + 1);
        } else {
            out.push(inner);
        }
    }
}

/// Two entry attributes of one function, each under its own `cfg_attr` condition: the same
/// entry when they agree, else one whose executor and flavor are unknown where they differ.
fn merge_entries(a: Entry, b: Entry) -> Entry {
    match (a, b) {
        (
            Entry::Runtime {
                flavor: fa,
                executor: ea,
                test: ta,
                per_call,
                what,
            },
            Entry::Runtime {
                flavor: fb,
                executor: eb,
                test: tb,
                ..
            },
        ) => Entry::Runtime {
            flavor: if fa == fb { fa } else { Flavor::Unknown },
            executor: if ea == eb { ea } else { Executor::Unknown },
            test: ta || tb,
            per_call,
            what,
        },
        (a @ Entry::Runtime { .. }, _) | (_, a) => a,
    }
}

/// Reads the runtime-entry and test attributes of a function. `imported` gives the full path of
/// a one-word attribute brought in by a `use` (`use tokio::test;` makes `#[test]` tokio's).
/// An attribute that `cfg_attr` applies counts: the function is that entry in the builds where
/// the condition holds (the function's own condition says nothing of the other builds), and
/// two entries under different conditions leave what differs between them unknown.
pub fn fn_attrs(attrs: &[Attribute], imported: impl Fn(&str) -> Option<Vec<String>>) -> FnAttrs {
    let mut out = FnAttrs::default();
    let mut plain_test = false;
    let expanded: Vec<Attribute>;
    let attrs = if attrs.iter().any(|a| a.path().is_ident("cfg_attr")) {
        expanded = attrs
            .iter()
            .flat_map(|a| {
                if a.path().is_ident("cfg_attr") {
                    cfg_attr_inner(a)
                } else {
                    vec![a.clone()]
                }
            })
            .collect();
        &expanded[..]
    } else {
        attrs
    };
    for attr in attrs {
        if attr.path().is_ident("should_panic") {
            let expected = match &attr.meta {
                Meta::List(l) => arg_value(&l.tokens, "expected"),
                _ => None,
            };
            out.expects_panic = Some(expected.unwrap_or_default());
        }
        // Doc comments and other one-word attributes other than `test` say nothing here,
        // unless a `use` names what they are.
        let mut segs = path_segments(attr);
        if let [one] = segs.as_slice() {
            match imported(one) {
                Some(full) => segs = full,
                None if one == "test" => {}
                None => continue,
            }
        }
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let args = match &attr.meta {
            Meta::List(l) => Some(&l.tokens),
            _ => None,
        };
        let flavor_arg = args.and_then(|t| arg_value(t, "flavor"));
        // actix and ntex run the body inside a `LocalSet` on a current-thread tokio runtime,
        // and tokio's `flavor = "local"` builds a `LocalRuntime`: `spawn_local` works there.
        let executor = match segs.first() {
            Some(&"async_std") => Executor::AsyncStd,
            Some(&"actix_rt" | &"actix_web" | &"ntex") => Executor::TokioLocal,
            _ if flavor_arg.as_deref() == Some("local") => Executor::TokioLocal,
            _ => Executor::Tokio,
        };
        let runtime = |default: Flavor, test: bool, what: &str| {
            let flavor = match flavor_arg.as_deref() {
                Some("current_thread") => Flavor::CurrentThread,
                Some("multi_thread") => Flavor::MultiThread,
                Some("local") => Flavor::CurrentThread,
                _ => default,
            };
            Some(Entry::Runtime {
                flavor,
                executor,
                test,
                per_call: false,
                what: format!("`#[{what}]` runtime"),
            })
        };
        let (entry, test) = match segs.as_slice() {
            ["tokio", "main"] => (runtime(Flavor::MultiThread, false, "tokio::main"), false),
            ["tokio", "test"] => (runtime(Flavor::CurrentThread, true, "tokio::test"), true),
            ["sqlx", "test"] => (runtime(Flavor::CurrentThread, true, "sqlx::test"), true),
            ["actix_rt", "main"] | ["actix_web", "main"] | ["ntex", "main"] => (
                runtime(Flavor::CurrentThread, false, &segs.join("::")),
                false,
            ),
            ["actix_rt", "test"] | ["actix_web", "test"] => {
                (runtime(Flavor::CurrentThread, true, &segs.join("::")), true)
            }
            ["async_std", "main"] => (runtime(Flavor::Unknown, false, "async_std::main"), false),
            ["async_std", "test"] => (runtime(Flavor::Unknown, true, "async_std::test"), true),
            ["test"] => {
                plain_test = true;
                (None, true)
            }
            _ => (None, false),
        };
        out.is_test |= test;
        if let Some(e) = entry {
            out.entry = Some(match out.entry.take() {
                Some(prev) => merge_entries(prev, e),
                None => e,
            });
        }
    }
    // A runtime attribute wins over a `#[test]` written next to it.
    if out.entry.is_none() && plain_test {
        out.entry = Some(Entry::Repeated {
            what: "test".to_string(),
        });
    }
    out
}

fn tokens_mention_test(tokens: &TokenStream, depth: u32) -> bool {
    if depth > 16 {
        return false;
    }
    tokens.clone().into_iter().any(|tt| match tt {
        TokenTree::Ident(id) => id == "test",
        TokenTree::Group(g) => tokens_mention_test(&g.stream(), depth + 1),
        _ => false,
    })
}

/// Whether the attributes contain `#[cfg(test)]` (or a `cfg` that mentions `test` and not
/// `not(test)`).
pub fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        if !a.path().is_ident("cfg") {
            return false;
        }
        match &a.meta {
            Meta::List(l) => {
                tokens_mention_test(&l.tokens, 0) && !l.tokens.to_string().contains("not")
            }
            _ => false,
        }
    })
}

/// The value of `#[path = "..."]`.
pub fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Whether a visibility is plain `pub`.
pub fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// Whether `#[derive(..)]` (or `#[cfg_attr(.., derive(..))]`) lists the trait `name`.
pub fn derives(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().any(|a| {
        if !a.path().is_ident("derive") && !a.path().is_ident("cfg_attr") {
            return false;
        }
        match &a.meta {
            Meta::List(l) => mentions_ident(&l.tokens, name, 0),
            _ => false,
        }
    })
}

fn mentions_ident(tokens: &TokenStream, name: &str, depth: u32) -> bool {
    depth < 8
        && tokens.clone().into_iter().any(|t| match t {
            TokenTree::Ident(id) => id == name,
            TokenTree::Group(g) => mentions_ident(&g.stream(), name, depth + 1),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs_of(src: &str) -> Vec<Attribute> {
        let f: syn::ItemFn = syn::parse_str(&format!("{src} fn f() {{}}")).unwrap();
        f.attrs
    }

    #[test]
    fn tokio_test_defaults_to_current_thread() {
        let a = fn_attrs(&attrs_of("#[tokio::test]"), |_| None);
        assert!(a.is_test);
        assert!(matches!(
            a.entry,
            Some(Entry::Runtime {
                flavor: Flavor::CurrentThread,
                test: true,
                ..
            })
        ));
        let a = fn_attrs(
            &attrs_of("#[tokio::test(flavor = \"multi_thread\", worker_threads = 2)]"),
            |_| None,
        );
        assert!(matches!(
            a.entry,
            Some(Entry::Runtime {
                flavor: Flavor::MultiThread,
                ..
            })
        ));
    }

    #[test]
    fn tokio_main_flavors_and_plain_test() {
        let a = fn_attrs(
            &attrs_of("#[tokio::main(flavor = \"current_thread\")]"),
            |_| None,
        );
        assert!(matches!(
            a.entry,
            Some(Entry::Runtime {
                flavor: Flavor::CurrentThread,
                test: false,
                ..
            })
        ));
        let a = fn_attrs(&attrs_of("#[test]"), |_| None);
        assert!(matches!(a.entry, Some(Entry::Repeated { .. })));
        // `use tokio::test;` makes the one-word attribute tokio's.
        let imported = |name: &str| (name == "test").then(|| vec!["tokio".into(), "test".into()]);
        let a = fn_attrs(&attrs_of("#[test]"), imported);
        assert!(matches!(a.entry, Some(Entry::Runtime { test: true, .. })));
        assert!(is_cfg_test(&attrs_of("#[cfg(test)]")));
        assert!(!is_cfg_test(&attrs_of("#[cfg(not(test))]")));
    }

    #[test]
    fn entries_applied_by_cfg_attr() {
        let a = fn_attrs(&attrs_of("#[cfg_attr(test, tokio::test)]"), |_| None);
        assert!(a.is_test);
        assert!(matches!(
            a.entry,
            Some(Entry::Runtime {
                executor: Executor::Tokio,
                ..
            })
        ));
        let a = fn_attrs(
            &attrs_of("#[cfg_attr(feature = \"rt\", tokio::main, allow(dead_code))]"),
            |_| None,
        );
        assert!(matches!(
            a.entry,
            Some(Entry::Runtime {
                flavor: Flavor::MultiThread,
                ..
            })
        ));
        // One executor under a feature, another without it: which one runs is unknown.
        let a = fn_attrs(
            &attrs_of(
                "#[cfg_attr(feature = \"tokio\", tokio::test)] #[cfg_attr(not(feature = \"tokio\"), async_std::test)]",
            ),
            |_| None,
        );
        assert!(a.is_test);
        assert!(matches!(
            a.entry,
            Some(Entry::Runtime {
                executor: Executor::Unknown,
                flavor: Flavor::Unknown,
                ..
            })
        ));
    }
}
