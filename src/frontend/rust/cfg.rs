//! `#[cfg(..)]` predicates read into build conditions.
//!
//! Every option is kept as written (`feature = "sync"`, `test`, `target_os = "linux"`), with
//! `unix` and `windows` read as the `target_family` values they abbreviate, so that the
//! analysis can see that `cfg(unix)` and `cfg(target_family = "windows")` never hold together.
//! `cfg_attr(p, cfg(q))` holds where `p` does not, or `q` does.

use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

use crate::model::{Cond, CondId, Conds};

/// The conjunction of the `#[cfg(..)]` attributes in `attrs` (`TRUE` when there are none or
/// none can be read).
pub fn of_attrs(attrs: &[Attribute], conds: &mut Conds) -> CondId {
    let mut out = CondId::TRUE;
    for a in attrs {
        let c = if a.path().is_ident("cfg") {
            a.parse_args::<Meta>()
                .ok()
                .and_then(|m| predicate(&m, conds, 0))
        } else if a.path().is_ident("cfg_attr") {
            cfg_attr(a, conds)
        } else {
            None
        };
        if let Some(c) = c {
            out = conds.and(out, c);
        }
    }
    out
}

/// `cfg_attr(p, a, b, ..)`: a condition only when one of the attributes is a `cfg(q)`.
fn cfg_attr(a: &Attribute, conds: &mut Conds) -> Option<CondId> {
    let list = a
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?;
    let mut it = list.iter();
    let pred = predicate(it.next()?, conds, 0)?;
    let mut inner = CondId::TRUE;
    for m in it {
        if let Meta::List(l) = m
            && l.path.is_ident("cfg")
        {
            let q = predicate(&l.parse_args::<Meta>().ok()?, conds, 0)?;
            inner = conds.and(inner, q);
        }
    }
    if inner == CondId::TRUE {
        return None;
    }
    let not_pred = conds.not(pred);
    Some(conds.intern(Cond::Any(vec![not_pred, inner])))
}

fn predicate(m: &Meta, conds: &mut Conds, depth: u32) -> Option<CondId> {
    if depth > 16 {
        return None;
    }
    match m {
        Meta::Path(p) => {
            let key = p.get_ident()?.to_string();
            Some(match key.as_str() {
                "unix" | "windows" => option(conds, "target_family", Some(&key)),
                _ => option(conds, &key, None),
            })
        }
        Meta::NameValue(nv) => {
            let key = nv.path.get_ident()?.to_string();
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            else {
                return None;
            };
            Some(option(conds, &key, Some(&s.value())))
        }
        Meta::List(l) => {
            let op = l.path.get_ident()?.to_string();
            let args = l
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .ok()?;
            let mut parts = Vec::new();
            for a in &args {
                parts.push(predicate(a, conds, depth + 1)?);
            }
            match op.as_str() {
                "not" if parts.len() == 1 => Some(conds.not(parts[0])),
                "all" => Some(match parts.len() {
                    0 => CondId::TRUE,
                    1 => parts[0],
                    _ => conds.intern(Cond::All(parts)),
                }),
                // `any()` never holds; such items are dropped by the compiler, and kept here.
                "any" if !parts.is_empty() => Some(match parts.len() {
                    1 => parts[0],
                    _ => conds.intern(Cond::Any(parts)),
                }),
                _ => None,
            }
        }
    }
}

fn option(conds: &mut Conds, key: &str, value: Option<&str>) -> CondId {
    conds.intern(Cond::Cfg {
        key: key.into(),
        value: value.map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs_of(src: &str) -> Vec<Attribute> {
        let f: syn::ItemFn = syn::parse_str(&format!("{src} fn f() {{}}")).unwrap();
        f.attrs
    }

    fn holds_together(a: &str, b: &str) -> bool {
        let mut conds = Conds::default();
        let x = of_attrs(&attrs_of(a), &mut conds);
        let y = of_attrs(&attrs_of(b), &mut conds);
        conds.satisfiable(&[x, y], &[])
    }

    #[test]
    fn contradictions_between_predicates() {
        assert!(!holds_together(
            "#[cfg(feature = \"sync\")]",
            "#[cfg(not(feature = \"sync\"))]"
        ));
        assert!(!holds_together(
            "#[cfg(all(test, feature = \"a\"))]",
            "#[cfg(not(any(feature = \"a\", feature = \"b\")))]"
        ));
        assert!(!holds_together("#[cfg(unix)]", "#[cfg(windows)]"));
        assert!(!holds_together(
            "#[cfg(target_os = \"linux\")]",
            "#[cfg(target_os = \"windows\")]"
        ));
        assert!(holds_together(
            "#[cfg(feature = \"sync\")]",
            "#[cfg(feature = \"tokio\")]"
        ));
        assert!(holds_together(
            "#[cfg(unix)]",
            "#[cfg(target_os = \"linux\")]"
        ));
        assert!(holds_together("#[inline]", "#[cfg(test)]"));
    }

    #[test]
    fn cfg_attr_with_a_cfg_inside() {
        assert!(!holds_together(
            "#[cfg_attr(test, cfg(feature = \"x\"))] #[cfg(test)]",
            "#[cfg(not(feature = \"x\"))]"
        ));
        assert!(holds_together(
            "#[cfg_attr(test, cfg(feature = \"x\"))]",
            "#[cfg(not(feature = \"x\"))]"
        ));
    }
}
