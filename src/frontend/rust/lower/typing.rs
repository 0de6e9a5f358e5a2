//! Types of values during lowering: struct fields, pattern bindings, and the types of package
//! calls that only linking can tell ([`TypeRef::Deferred`]).

use std::sync::Arc;

use super::{Lowerer, is_type_name};
use crate::frontend::rust::ir::{Anchor, SymPath, Target, TyExpr, TypeRef};
use crate::frontend::rust::resolve::Res;
use crate::frontend::rust::types::path_segs;

/// A borrowed or shared view of a value of type `ty`.
pub(super) fn shared(ty: TypeRef) -> TypeRef {
    match ty {
        TypeRef::Unknown => TypeRef::Unknown,
        t @ TypeRef::Shared(_) => t,
        t => TypeRef::Shared(Arc::new(t)),
    }
}

/// What a call of `target` returns, once linked.
pub(super) fn ret_of(target: Target, fallback: TypeRef) -> TypeRef {
    TypeRef::Deferred(Arc::new(TyExpr::Ret { target, fallback }))
}

/// Whether a value of this type is owned and may be of a package type (dropping it may run a
/// `Drop` impl of the package).
pub(super) fn owned_pkg(ty: &TypeRef) -> bool {
    matches!(ty, TypeRef::Pkg(_) | TypeRef::Deferred(_))
}

/// The type a constructor-like path returns when it is no function of the package: a tuple
/// struct or enum variant (`Foo(..)`, `Kind::A(..)`), or an associated function that by its
/// name returns its own type (`Foo::new`, `Foo::default`).
pub(super) fn ctor_fallback(sp: &SymPath) -> TypeRef {
    let segs = &sp.segs;
    let ty_of = |n: usize| {
        let mut tp = sp.clone();
        tp.segs.truncate(n);
        TypeRef::Pkg(Arc::new(tp))
    };
    match segs.as_slice() {
        [.., t, v] if is_type_name(t) && is_type_name(v) => ty_of(segs.len() - 1),
        [.., v] if is_type_name(v) => ty_of(segs.len()),
        [.., t, f] if is_type_name(t) && crate::frontend::rust::types::returns_self(f) => {
            ty_of(segs.len() - 1)
        }
        _ => TypeRef::Unknown,
    }
}

impl Lowerer<'_, '_> {
    /// The type of a value whose type only linking may tell (`at`: the span start of the
    /// binding's or the method's name): the library type the linker found for it when the file
    /// is lowered again, else `ty`, and the value is noted for the linker to look at.
    pub(super) fn hinted(&mut self, at: u32, ty: TypeRef, method: Option<&str>) -> TypeRef {
        if !matches!(ty.peel(), TypeRef::Deferred(_)) {
            return ty;
        }
        match self.cx.hints {
            Some(hints) => match hints.get(&at) {
                Some(path) => {
                    let ext = TypeRef::Ext(path.clone());
                    if matches!(ty, TypeRef::Shared(_)) {
                        shared(ext)
                    } else {
                        ext
                    }
                }
                None => ty,
            },
            None => {
                self.ir
                    .deferred
                    .push((at, ty.clone(), method.map(str::to_string)));
                ty
            }
        }
    }

    /// The type of field `name` of a value of type `base` (references seen through). Fields of
    /// a struct of this file are known now; others once linked.
    pub(super) fn field_of(&self, base: &TypeRef, name: &str) -> TypeRef {
        match base.peel() {
            TypeRef::Pkg(sp) => {
                if let Anchor::Module { scope, up: 0 } = sp.anchor
                    && let [type_name] = sp.segs.as_slice()
                    && let Some(fields) = self.struct_fields.get(&(scope, type_name.clone()))
                {
                    return fields
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, t)| t.clone())
                        .unwrap_or_default();
                }
                TypeRef::Deferred(Arc::new(TyExpr::Field(
                    TypeRef::Pkg(sp.clone()),
                    name.to_string(),
                )))
            }
            d @ TypeRef::Deferred(_) => {
                TypeRef::Deferred(Arc::new(TyExpr::Field(d.clone(), name.to_string())))
            }
            _ => TypeRef::Unknown,
        }
    }

    /// The type bound by sub-pattern `field` (a name or a tuple index) of a struct, tuple
    /// struct or enum variant pattern `path`, matched against a value of type `scrutinee`.
    /// `Some(x)` and `Ok(x)` bind the wrapped value.
    pub(super) fn pat_field_type(
        &self,
        path: &syn::Path,
        field: &str,
        scrutinee: &TypeRef,
    ) -> TypeRef {
        if let Some(id) = path.get_ident() {
            if id == "Some" || id == "Ok" {
                return match scrutinee.peel() {
                    t @ (TypeRef::Wrapped(_) | TypeRef::Deferred(_)) if field == "0" => {
                        t.unwrapped()
                    }
                    _ => TypeRef::Unknown,
                };
            }
            if id == "Err" || id == "None" {
                return TypeRef::Unknown;
            }
        }
        let Res::Pkg(sp) = self.resolve(&path_segs(path)) else {
            return TypeRef::Unknown;
        };
        let n = sp.segs.len();
        if n >= 2 && is_type_name(&sp.segs[n - 2]) && is_type_name(&sp.segs[n - 1]) {
            let mut base = sp.clone();
            let variant = base.segs.pop().unwrap_or_default();
            return self.field_of(
                &TypeRef::Pkg(Arc::new(base)),
                &format!("{variant}::{field}"),
            );
        }
        self.field_of(&TypeRef::Pkg(Arc::new(sp)), field)
    }
}
