//! A tiny local type inference: type annotations to [`TypeRef`]s, the types mentioned by a
//! declared type, and which associated functions are taken to return their own type.

use std::sync::Arc;

use syn::visit::Visit;
use syn::{GenericArgument, PathArguments, Type};

use super::ir::TypeRef;
use super::resolve::Res;

/// Smart pointers that method calls see through.
const TRANSPARENT: &[&str] = &[
    "std::sync::Arc",
    "std::rc::Rc",
    "std::boxed::Box",
    "alloc::sync::Arc",
    "alloc::rc::Rc",
    "alloc::boxed::Box",
];

/// Locks whose guards give access to the value they hold.
const LOCKS: &[&str] = &[
    "std::sync::Mutex",
    "std::sync::RwLock",
    "tokio::sync::Mutex",
    "tokio::sync::RwLock",
    "parking_lot::Mutex",
    "parking_lot::RwLock",
    "futures::lock::Mutex",
    "async_std::sync::Mutex",
    "async_std::sync::RwLock",
];

/// Whether `path` is a lock whose guards give access to its value ([`TypeRef::Lock`]).
pub fn is_lock(path: &str) -> bool {
    LOCKS.contains(&path)
}

/// Whether a method of a lock gives a guard of its value (the guard may come wrapped in a
/// `LockResult` or `Option`, or from a future).
pub fn is_guard_method(name: &str) -> bool {
    matches!(
        name,
        "lock"
            | "read"
            | "write"
            | "try_lock"
            | "try_read"
            | "try_write"
            | "lock_owned"
            | "read_owned"
            | "write_owned"
            | "try_lock_owned"
    )
}

/// Primitive and prelude types that never matter to the model.
const PRIMITIVES: &[&str] = &[
    "str", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
    "i128", "isize", "f32", "f64", "String",
];

/// Lazy and once cells whose accessors (`get`, `get_or_init`, deref) give the value inside.
const CELLS: &[&str] = &["Lazy", "LazyCell", "LazyLock", "OnceCell", "OnceLock"];

/// Whether a type name is one of the lazy or once cells.
pub fn is_cell(name: &str) -> bool {
    CELLS.contains(&name)
}

/// Whether `ty` is a cell whose value its initialiser makes at the first dereference
/// (`Lazy<T>`, `LazyLock<T>`, `LazyCell<T>`), wherever that happens.
pub fn is_lazy_cell(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|last| {
        last.ident.to_string().starts_with("Lazy")
    }))
}

/// The type of the value a static holds: `T` for a `OnceLock<T>`, `LazyLock<T>` and the like,
/// the type itself otherwise.
pub fn cell_content(ty: &Type) -> &Type {
    if let Type::Path(p) = ty
        && let Some(last) = p.path.segments.last()
        && CELLS.iter().any(|c| last.ident == c)
        && let Some(inner) = first_type_arg(&last.arguments)
    {
        return inner;
    }
    ty
}

/// Whether `path` is a smart pointer that method calls see through.
pub fn is_transparent(path: &str) -> bool {
    TRANSPARENT.contains(&path)
}

/// The identifiers of a path's segments.
pub fn path_segs(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

pub fn first_type_arg(args: &PathArguments) -> Option<&Type> {
    match args {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// Whether `path` is a shared pointer (`Arc`, `Rc`): dropping one does not drop its value.
pub fn is_shared(path: &str) -> bool {
    is_transparent(path) && !path.ends_with("Box")
}

/// `Option<T>`, `Result<T, E>` and aliases named so (`io::Result<T>`, `anyhow::Result<T>`).
fn is_wrapper_name(name: &syn::Ident) -> bool {
    name == "Option" || name == "Result"
}

/// Converts a type to a [`TypeRef`]: references and shared pointers become
/// [`TypeRef::Shared`], `Box` is seen through, `Option`/`Result` become [`TypeRef::Wrapped`].
pub fn type_ref(ty: &Type, resolve: &mut dyn FnMut(&[String]) -> Res, depth: u32) -> TypeRef {
    if depth > 16 {
        return TypeRef::Unknown;
    }
    let shared = |t: TypeRef| match t {
        TypeRef::Unknown => TypeRef::Unknown,
        t => TypeRef::Shared(Arc::new(t)),
    };
    match ty {
        Type::Reference(r) => shared(type_ref(&r.elem, resolve, depth + 1)),
        Type::Paren(p) => type_ref(&p.elem, resolve, depth + 1),
        Type::Group(g) => type_ref(&g.elem, resolve, depth + 1),
        Type::Path(p) if p.qself.is_none() => {
            if let Some(id) = p.path.get_ident()
                && PRIMITIVES.iter().any(|prim| id == prim)
            {
                return TypeRef::Unknown;
            }
            let last = p.path.segments.last();
            if let Some(last) = last
                && is_wrapper_name(&last.ident)
                && let Some(inner) = first_type_arg(&last.arguments)
            {
                return match type_ref(inner, resolve, depth + 1) {
                    TypeRef::Unknown => TypeRef::Unknown,
                    t => TypeRef::Wrapped(Arc::new(t)),
                };
            }
            let segs = path_segs(&p.path);
            match resolve(&segs) {
                Res::Ext(full) => {
                    if is_transparent(&full)
                        && let Some(last) = last
                        && let Some(inner) = first_type_arg(&last.arguments)
                    {
                        let t = type_ref(inner, resolve, depth + 1);
                        return if is_shared(&full) { shared(t) } else { t };
                    }
                    if is_lock(&full)
                        && let Some(last) = last
                        && let Some(inner) = first_type_arg(&last.arguments)
                    {
                        return match type_ref(inner, resolve, depth + 1) {
                            TypeRef::Unknown => TypeRef::Ext(Arc::from(full.as_str())),
                            t => TypeRef::Lock(Arc::new(t)),
                        };
                    }
                    TypeRef::Ext(Arc::from(full.as_str()))
                }
                Res::Pkg(sp) => TypeRef::Pkg(Arc::new(sp)),
                _ => TypeRef::Unknown,
            }
        }
        // `dyn Store + Send`, `impl Store`: the package trait named first, whose impls the link
        // looks up.
        Type::TraitObject(t) => trait_bound_ref(&t.bounds, resolve),
        Type::ImplTrait(t) => trait_bound_ref(&t.bounds, resolve),
        _ => TypeRef::Unknown,
    }
}

/// The package trait among `bounds`, if one is: the type a trait object or `impl Trait` value
/// is known by.
fn trait_bound_ref(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
    resolve: &mut dyn FnMut(&[String]) -> Res,
) -> TypeRef {
    for b in bounds {
        if let syn::TypeParamBound::Trait(tb) = b
            && let Res::Pkg(sp) = resolve(&path_segs(&tb.path))
        {
            return TypeRef::Pkg(Arc::new(sp));
        }
    }
    TypeRef::Unknown
}

struct Mentions<'a> {
    out: &'a mut Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for Mentions<'_> {
    fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
        if self.out.len() < 64 {
            self.out.push(path_segs(&tp.path));
        }
        syn::visit::visit_type_path(self, tp);
    }
}

/// Every type path mentioned by `ty`, generic arguments included.
pub fn mentions(ty: &Type) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    Mentions { out: &mut out }.visit_type(ty);
    out
}

/// Whether an associated function `Type::name(..)` is taken to return `Type`.
pub fn returns_self(name: &str) -> bool {
    matches!(
        name,
        "new" | "default" | "current" | "connect" | "bind" | "open" | "create" | "try_new"
    ) || name.starts_with("new_")
        || name.starts_with("from")
        || name.starts_with("with_")
        || name.starts_with("connect_")
}

/// Whether a method ends a builder chain (the value after it is the built thing).
pub fn finishes_chain(name: &str) -> bool {
    matches!(
        name,
        "build" | "connect" | "connect_lazy" | "finish" | "open" | "create" | "spawn"
    ) || name.starts_with("build_")
        || name.starts_with("connect_")
}

/// Methods that hand back their receiver's value unchanged for the purposes of the model.
pub fn passes_through(name: &str) -> bool {
    matches!(
        name,
        "unwrap"
            | "expect"
            | "unwrap_or_default"
            | "unwrap_or_else"
            | "unwrap_unchecked"
            | "clone"
            | "to_owned"
            | "into"
            | "context"
            | "with_context"
            | "map_err"
            | "ok"
    )
}

/// Methods among [`passes_through`] that take the `T` out of an `Option<T>`/`Result<T, _>`.
pub fn unwraps(name: &str) -> bool {
    matches!(
        name,
        "unwrap" | "expect" | "unwrap_or_default" | "unwrap_or_else" | "unwrap_unchecked"
    )
}

/// Whether a type name looks like a builder (its methods return the builder).
pub fn is_builder_type(path: &str) -> bool {
    let last = path.rsplit("::").next().unwrap_or(path);
    last.ends_with("Builder") || last.ends_with("Options")
}
