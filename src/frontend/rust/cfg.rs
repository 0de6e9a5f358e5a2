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

/// What the condition of an `if` says about the build: the condition its then-branch runs
/// under and, when the whole condition is made of `cfg!(..)` tests, the one its else-branch
/// runs under. `cfg!(feature = "x") && ready` gives the then-branch `feature = "x"` and the
/// else-branch nothing.
pub fn of_if_condition(cond: &syn::Expr, conds: &mut Conds) -> (CondId, CondId) {
    if let Some(c) = exact(cond, conds, 0) {
        let not_c = conds.not(c);
        return (c, not_c);
    }
    (then_part(cond, conds, 0), CondId::TRUE)
}

/// The condition an expression made only of `cfg!(..)`, `!`, `&&`, `||` and parentheses
/// stands for.
fn exact(e: &syn::Expr, conds: &mut Conds, depth: u32) -> Option<CondId> {
    if depth > 16 {
        return None;
    }
    match e {
        syn::Expr::Macro(m) if m.mac.path.is_ident("cfg") => {
            predicate(&m.mac.parse_body::<Meta>().ok()?, conds, 0)
        }
        syn::Expr::Paren(p) => exact(&p.expr, conds, depth + 1),
        syn::Expr::Group(g) => exact(&g.expr, conds, depth + 1),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            let c = exact(&u.expr, conds, depth + 1)?;
            Some(conds.not(c))
        }
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) => {
            let l = exact(&b.left, conds, depth + 1)?;
            let r = exact(&b.right, conds, depth + 1)?;
            Some(match b.op {
                syn::BinOp::And(_) => conds.and(l, r),
                _ => conds.intern(Cond::Any(vec![l, r])),
            })
        }
        _ => None,
    }
}

/// The build condition that holds when `e` is true: the `cfg!` tests among its `&&` operands.
fn then_part(e: &syn::Expr, conds: &mut Conds, depth: u32) -> CondId {
    if depth > 16 {
        return CondId::TRUE;
    }
    if let Some(c) = exact(e, conds, depth) {
        return c;
    }
    match e {
        syn::Expr::Paren(p) => then_part(&p.expr, conds, depth + 1),
        syn::Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            let l = then_part(&b.left, conds, depth + 1);
            let r = then_part(&b.right, conds, depth + 1);
            conds.and(l, r)
        }
        _ => CondId::TRUE,
    }
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

    fn if_parts(src: &str) -> (Conds, CondId, CondId) {
        let mut conds = Conds::default();
        let e: syn::Expr = syn::parse_str(src).unwrap();
        let (t, f) = of_if_condition(&e, &mut conds);
        (conds, t, f)
    }

    #[test]
    fn cfg_macro_in_if_conditions() {
        let (mut c, then, els) = if_parts("cfg!(feature = \"sync\")");
        let sync = option(&mut c, "feature", Some("sync"));
        let not_sync = c.not(sync);
        assert!(!c.satisfiable(&[then, not_sync], &[]));
        assert!(!c.satisfiable(&[els, sync], &[]));
        let (mut c, then, els) =
            if_parts("!cfg!(windows) && (cfg!(test) || cfg!(debug_assertions))");
        let windows = option(&mut c, "target_family", Some("windows"));
        assert!(!c.satisfiable(&[then, windows], &[]));
        assert!(c.satisfiable(&[els, windows], &[]));
        // A runtime test next to it: only the then-branch knows something.
        let (mut c, then, els) = if_parts("cfg!(unix) && ready()");
        let windows = option(&mut c, "target_family", Some("windows"));
        assert!(!c.satisfiable(&[then, windows], &[]));
        assert_eq!(els, CondId::TRUE);
        let (_, then, els) = if_parts("cfg!(unix) || ready()");
        assert_eq!((then, els), (CondId::TRUE, CondId::TRUE));
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
