//! Types at link time: declared return types of package functions, fields of types declared in
//! other files, and what they make of method calls and implicit calls (`Drop::drop`,
//! `Default::default`, `IntoFuture::into_future`).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use super::{LItem, Linker, locate};
use crate::frontend::rust::ir::{Anchor, FKind, FnIr, Target, TyExpr, TypeRef};
use crate::frontend::rust::lower::is_common_method;
use crate::model::FnId;

/// Deepest nesting of type computations (calls of calls, fields of fields).
const MAX_DEPTH: u32 = 12;

/// Most impls a call through a trait object may reach; a trait implemented more widely says
/// nothing about the value at hand.
const MAX_IMPLS: usize = 8;

/// Methods of std traits that borrow their receiver: calling one does not move the value.
const BORROWING: &[&str] = &[
    "as_mut",
    "as_ref",
    "borrow",
    "borrow_mut",
    "clone",
    "cmp",
    "deref",
    "deref_mut",
    "eq",
    "fmt",
    "hash",
    "ne",
    "partial_cmp",
    "to_owned",
    "to_string",
];

/// Struct literals' field values by (target, type key, field): (file, value type).
pub(super) type Literals<'p> = HashMap<(u32, String, String), Vec<(u32, &'p TypeRef)>>;

/// A type with its package types resolved to their canonical keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RTy {
    Unknown,
    Ext(Arc<str>),
    /// A package type: (target, canonical path).
    Pkg(u32, String),
    Wrapped(Box<RTy>),
    Shared(Box<RTy>),
    Lock(Box<RTy>),
}

impl RTy {
    pub(super) fn peel(&self) -> &RTy {
        let mut t = self;
        while let RTy::Shared(inner) = t {
            t = inner;
        }
        t
    }
}

impl Linker<'_> {
    fn fn_ir(&self, id: u32) -> Option<(u32, &FnIr)> {
        let (f, local) = locate(&self.fn_base, id);
        self.ir(f)
            .and_then(|ir| ir.fns.get(local as usize))
            .map(|func| (f, func))
    }

    fn fns_of(items: Vec<LItem>) -> Vec<u32> {
        let mut out = Vec::new();
        for it in items {
            if let LItem::Fn(id) = it
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    }

    /// The type `ty`, written in file `f`, with deferred parts computed.
    pub(super) fn eval(&self, f: u32, ty: &TypeRef, depth: u32) -> RTy {
        if depth > MAX_DEPTH {
            return RTy::Unknown;
        }
        match ty {
            TypeRef::Unknown => RTy::Unknown,
            TypeRef::Ext(p) => RTy::Ext(p.clone()),
            TypeRef::Pkg(sp) => self
                .resolve_sym(f, sp, 0)
                .into_iter()
                .find_map(|it| match it {
                    // A type alias stands for the type it names, read in its own file.
                    LItem::Type(t, k) => {
                        let key = (t, k);
                        match self.alias_types.get(&key) {
                            Some((af, aty)) => Some(self.eval(*af, aty, depth + 1)),
                            None => Some(RTy::Pkg(key.0, key.1)),
                        }
                    }
                    _ => None,
                })
                .unwrap_or_else(|| {
                    // A path through a package module (`proto::client::Client`, also when
                    // imported by `use`) to an item the model does not see (one a macro fills,
                    // such as `include_proto!`) names a type, not an unknown one: its methods
                    // are its own, not package methods of that name. Lowering gives a generic
                    // parameter or an associated type no package anchor.
                    if sp.segs.len() > 1 && !matches!(sp.anchor, Anchor::Glob { .. }) {
                        RTy::Ext(sp.segs.join("::").into())
                    } else {
                        RTy::Unknown
                    }
                }),
            TypeRef::Wrapped(inner) => match self.eval(f, inner, depth + 1) {
                RTy::Unknown => RTy::Unknown,
                t => RTy::Wrapped(Box::new(t)),
            },
            TypeRef::Shared(inner) => match self.eval(f, inner, depth + 1) {
                RTy::Unknown => RTy::Unknown,
                t => RTy::Shared(Box::new(t)),
            },
            TypeRef::Lock(inner) => match self.eval(f, inner, depth + 1) {
                RTy::Unknown => RTy::Unknown,
                t => RTy::Lock(Box::new(t)),
            },
            TypeRef::Deferred(e) => match &**e {
                TyExpr::Ret { target, fallback } => {
                    // A guard of a lock whose type only the linked program knows.
                    if let Target::Method { ty, name } = target
                        && crate::frontend::rust::types::is_guard_method(name)
                        && let RTy::Lock(inner) = self.eval(f, ty, depth + 1).peel()
                    {
                        return RTy::Shared(inner.clone());
                    }
                    let fns = Self::fns_of(self.resolve_target_at(f, target, depth + 1));
                    if fns.is_empty() {
                        return self.eval(f, fallback, depth + 1);
                    }
                    let mut out: Option<RTy> = None;
                    for id in fns {
                        let t = self.ret_type(id, depth + 1);
                        match &out {
                            None => out = Some(t),
                            Some(o) if *o == t => {}
                            Some(_) => return RTy::Unknown,
                        }
                    }
                    out.unwrap_or(RTy::Unknown)
                }
                TyExpr::Field(base, name) => match self.eval(f, base, depth + 1).peel() {
                    RTy::Pkg(t, k) => self.field_type(*t, k, name, depth + 1),
                    _ => RTy::Unknown,
                },
                TyExpr::Unwrap(inner) => match self.eval(f, inner, depth + 1) {
                    RTy::Wrapped(t) => *t,
                    t => t,
                },
            },
        }
    }

    /// The declared return type of function `id`.
    fn ret_type(&self, id: u32, depth: u32) -> RTy {
        if let Some(t) = self.rets.borrow().get(&id) {
            return t.clone();
        }
        // Recursion through the function's own return type ends here as unknown.
        self.rets.borrow_mut().insert(id, RTy::Unknown);
        let t = match self.fn_ir(id) {
            Some((f, func)) => self.eval(f, &func.ret, depth),
            None => RTy::Unknown,
        };
        self.rets.borrow_mut().insert(id, t.clone());
        t
    }

    fn field_type(&self, t: u32, key: &str, name: &str, depth: u32) -> RTy {
        let Some(&(f, idx)) = self.type_decls.get(&(t, key.to_string())) else {
            return RTy::Unknown;
        };
        let Some(decl) = self.ir(f).and_then(|ir| ir.types.get(idx as usize)) else {
            return RTy::Unknown;
        };
        if decl.generic.iter().any(|g| g == name) {
            return self.literal_type(t, key, name, depth);
        }
        match decl.fields.iter().find(|(n, _)| n == name) {
            Some((_, ty)) => self.eval(f, ty, depth),
            None => RTy::Unknown,
        }
    }

    /// The type of a field of a type parameter: the one type every struct literal of the
    /// package puts there, else unknown.
    fn literal_type(&self, t: u32, key: &str, name: &str, depth: u32) -> RTy {
        if self.literals.borrow().is_none() {
            let mut index: Literals<'_> = HashMap::default();
            for f in 0..self.irs.len() as u32 {
                let Some(ir) = self.ir(f) else { continue };
                for (sty, field, vty) in &ir.literals {
                    if let RTy::Pkg(lt, lk) = self.eval(f, sty, MAX_DEPTH) {
                        index
                            .entry((lt, lk, field.clone()))
                            .or_default()
                            .push((f, vty));
                    }
                }
            }
            *self.literals.borrow_mut() = Some(index);
        }
        let vals: Vec<(u32, &TypeRef)> = self
            .literals
            .borrow()
            .as_ref()
            .and_then(|ix| ix.get(&(t, key.to_string(), name.to_string())).cloned())
            .unwrap_or_default();
        let mut out: Option<RTy> = None;
        for (f, vty) in vals {
            let ty = self.eval(f, vty, depth + 1);
            match &out {
                _ if ty == RTy::Unknown => return RTy::Unknown,
                None => out = Some(ty),
                Some(o) if *o == ty => {}
                Some(_) => return RTy::Unknown,
            }
        }
        out.unwrap_or(RTy::Unknown)
    }

    fn methods_of(&self, t: u32, key: &str, name: &str) -> Option<&Vec<u32>> {
        self.methods.get(&(t, key.to_string(), name.to_string()))
    }

    /// A method called on a receiver of type `ty`: the package type's method, or, for a
    /// receiver of unknown type, the one method of the package with that name (if the name is
    /// not too common).
    pub(super) fn resolve_method(
        &self,
        f: u32,
        ty: &TypeRef,
        name: &str,
        depth: u32,
    ) -> Vec<LItem> {
        let by_name = || match self.by_name.get(name) {
            Some(ids) if ids.len() == 1 && !is_common_method(name) => vec![LItem::Fn(ids[0])],
            _ => Vec::new(),
        };
        if matches!(ty, TypeRef::Unknown) {
            return by_name();
        }
        match self.eval(f, ty, depth + 1).peel() {
            RTy::Pkg(t, k) => match self.methods_of(*t, k, name) {
                Some(ids) => ids.iter().map(|&id| LItem::Fn(id)).collect(),
                None => self.sole_trait_impl(*t, k, name),
            },
            RTy::Unknown => by_name(),
            _ => Vec::new(),
        }
    }

    /// A method called on a trait object (`&dyn Store`, `Arc<dyn Store>`) or on a value of a
    /// type parameter bound by a trait the package declares: the method of each impl of the
    /// package. With several impls, the callee depends on the value, which the model does not
    /// follow: the call may reach each of them ([`Linker::dispatches`]).
    fn sole_trait_impl(&self, t: u32, key: &str, name: &str) -> Vec<LItem> {
        if self.type_decls.contains_key(&(t, key.to_string())) {
            return Vec::new();
        }
        let trait_ = key.rsplit("::").next().unwrap_or(key);
        match self
            .trait_methods
            .get(&(t, trait_.to_string(), name.to_string()))
        {
            Some(ids) if ids.len() <= MAX_IMPLS => ids.iter().map(|&id| LItem::Fn(id)).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether a call of `target` (written in file `f`) goes through a trait object or a type
    /// parameter to several impls: which of them runs depends on the value.
    pub(super) fn dispatches(&self, f: u32, target: &Target) -> bool {
        let Target::Method { ty, name } = target else {
            return false;
        };
        if matches!(ty, TypeRef::Unknown) {
            return false;
        }
        match self.eval(f, ty, 1).peel() {
            RTy::Pkg(t, k) => {
                self.methods_of(*t, k, name).is_none()
                    && self.sole_trait_impl(*t, k, name).len() > 1
            }
            _ => false,
        }
    }

    /// The method `name` of an impl of `trait_` for the type `ty`. An `.await` on the output
    /// of an async function is no `into_future` of that output.
    pub(super) fn resolve_implicit(
        &self,
        f: u32,
        ty: &TypeRef,
        trait_: &str,
        name: &str,
        depth: u32,
    ) -> Vec<LItem> {
        if name == "into_future" && self.is_async_call(f, ty, depth) {
            return Vec::new();
        }
        match self.eval(f, ty, depth + 1).peel() {
            RTy::Pkg(t, k) => self
                .methods_of(*t, k, name)
                .into_iter()
                .flatten()
                .filter(|&&id| self.is_impl_of(id, trait_))
                .map(|&id| LItem::Fn(id))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn is_impl_of(&self, id: u32, trait_: &str) -> bool {
        self.fn_ir(id)
            .is_some_and(|(_, func)| func.trait_name.as_deref() == Some(trait_))
    }

    fn is_async_call(&self, f: u32, ty: &TypeRef, depth: u32) -> bool {
        let TypeRef::Deferred(e) = ty else {
            return false;
        };
        let TyExpr::Ret { target, .. } = &**e else {
            return false;
        };
        Self::fns_of(self.resolve_target_at(f, target, depth + 1))
            .into_iter()
            .any(|id| self.fn_ir(id).is_some_and(|(_, func)| func.is_async))
    }

    /// The `Drop::drop` impls that run when a value of type `ty` (written in file `f`) dies:
    /// the type's own and those of its fields, recursively. None when a method call in `moves`
    /// may have consumed the value first.
    pub(super) fn drop_callees(&self, f: u32, ty: &TypeRef, moves: &[(u32, u32)]) -> Vec<FnId> {
        let RTy::Pkg(t, k) = self.eval(f, ty, 0) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen = HashSet::default();
        self.collect_drops(t, &k, 0, &mut out, &mut seen);
        if out.is_empty() || moves.iter().any(|&(mf, ev)| self.consumes(f, mf, ev)) {
            return Vec::new();
        }
        out
    }

    /// The package types whose values die when a value of type `ty` (written in file `f`)
    /// dies: its own and those of its fields, recursively, by last path segment, each with the
    /// fields whose value need not die with it: shared ones (`Arc<T>`, `&T`: what they point
    /// to lives on) and optional ones (`Option<T>`, which code may have emptied with `take`
    /// before). None when a method call in `moves` may have consumed the value first.
    pub(super) fn dropped_types(
        &self,
        f: u32,
        ty: &TypeRef,
        moves: &[(u32, u32)],
    ) -> Vec<(String, Vec<String>)> {
        let RTy::Pkg(t, k) = self.eval(f, ty, 0) else {
            return Vec::new();
        };
        if moves.iter().any(|&(mf, ev)| self.consumes(f, mf, ev)) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut work = vec![(t, k, 0u32)];
        let mut seen = HashSet::default();
        while let Some((t, key, depth)) = work.pop() {
            if depth > 4 || !seen.insert((t, key.clone())) {
                continue;
            }
            let short = key.rsplit("::").next().unwrap_or(&key).to_string();
            let Some(&(df, idx)) = self.type_decls.get(&(t, key.clone())) else {
                out.push((short, Vec::new()));
                continue;
            };
            let Some(decl) = self.ir(df).and_then(|ir| ir.types.get(idx as usize)) else {
                out.push((short, Vec::new()));
                continue;
            };
            let mut shared = Vec::new();
            for (name, fty) in &decl.fields {
                match self.eval(df, fty, 1) {
                    RTy::Pkg(t2, k2) if !name.contains("::") => work.push((t2, k2, depth + 1)),
                    RTy::Shared(_) | RTy::Wrapped(_) => shared.push(name.clone()),
                    _ => {}
                }
            }
            out.push((short, shared));
        }
        out
    }

    fn collect_drops(
        &self,
        t: u32,
        key: &str,
        depth: u32,
        out: &mut Vec<FnId>,
        seen: &mut HashSet<(u32, String)>,
    ) {
        if depth > 4 || !seen.insert((t, key.to_string())) {
            return;
        }
        for &id in self.methods_of(t, key, "drop").into_iter().flatten() {
            if self.is_impl_of(id, "Drop") && !out.contains(&FnId(id)) {
                out.push(FnId(id));
            }
        }
        let Some(&(f, idx)) = self.type_decls.get(&(t, key.to_string())) else {
            return;
        };
        let Some(decl) = self.ir(f).and_then(|ir| ir.types.get(idx as usize)) else {
            return;
        };
        // Enum variant fields (`Variant::field`) are dropped only for the variant held.
        for (name, fty) in &decl.fields {
            if name.contains("::") {
                continue;
            }
            if let RTy::Pkg(t2, k2) = self.eval(f, fty, 1) {
                self.collect_drops(t2, &k2, depth + 1, out, seen);
            }
        }
    }

    /// Whether the method call at event `ev` of local function `mf` of file `f` may consume its
    /// receiver (a method taking `self` by value, or an unknown method not known to borrow).
    fn consumes(&self, f: u32, mf: u32, ev: u32) -> bool {
        let Some(FKind::Ref { target, .. }) = self
            .ir(f)
            .and_then(|ir| ir.fns.get(mf as usize))
            .and_then(|func| func.events.get(ev as usize))
            .map(|e| &e.kind)
        else {
            return true;
        };
        let name = match target {
            Target::Method { name, .. } => name.as_str(),
            _ => return true,
        };
        let fns = Self::fns_of(self.resolve_target(f, target));
        if fns.is_empty() {
            return !BORROWING.contains(&name);
        }
        fns.iter()
            .any(|&id| self.fn_ir(id).is_none_or(|(_, func)| func.self_by_value))
    }

    /// The one function `target` (written in file `f`) designates, when it calls one of its
    /// parameters: its id and how many of its IR events come before that call.
    pub(super) fn param_helper(&self, f: u32, target: &Target) -> Option<(u32, u32)> {
        match Self::fns_of(self.resolve_target(f, target))[..] {
            [id] => self
                .fn_ir(id)
                .and_then(|(_, func)| func.param_call_at)
                .map(|at| (id, at)),
            _ => None,
        }
    }

    /// The API catching the failure of what the one function `target` designates is given
    /// (`fn test_panic(f: F) { catch_unwind(f) }`).
    pub(super) fn param_caught_by(&self, f: u32, target: &Target) -> Option<&str> {
        match Self::fns_of(self.resolve_target(f, target))[..] {
            [id] => self
                .fn_ir(id)
                .and_then(|(_, func)| func.param_caught_by.as_deref()),
            _ => None,
        }
    }

    /// Whether every function `target` (written in file `f`) designates calls one of its
    /// parameters.
    pub(super) fn calls_its_param(&self, f: u32, target: &Target) -> bool {
        let fns = Self::fns_of(self.resolve_target(f, target));
        !fns.is_empty()
            && fns
                .iter()
                .all(|&id| self.fn_ir(id).is_some_and(|(_, func)| func.calls_param))
    }
}
