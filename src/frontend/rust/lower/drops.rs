//! Implicit calls: where a value of a (maybe) package type dies (`Drop::drop` at scope end,
//! overwrite, `drop(x)`, a discarded temporary), `.await` on a value (`IntoFuture`), and
//! `..Default::default()` in a struct literal. Linking keeps the ones whose type turns out to
//! implement the trait.

use proc_macro2::Span as PSpan;
use syn::Expr;

use super::typing::owned_pkg;
use super::{Binding, Lowerer, Origin, Slot, Val, strip};
use crate::frontend::rust::ir::{FKind, Target, TyExpr, TypeRef};
use crate::frontend::rust::resolve::Res;
use crate::frontend::rust::spans;
use crate::frontend::rust::types::path_segs;
use crate::kb::Concept;
use crate::model::{EventKind, Span};

/// Conversion methods whose target type picks a trait impl: (method, trait, trait method).
const CONVERSIONS: &[(&str, &str, &str)] = &[
    ("parse", "FromStr", "from_str"),
    ("into", "From", "from"),
    ("try_into", "TryFrom", "try_from"),
];

/// The conversion call a `let` initialiser ends in, seen through `?`, `unwrap` and `expect`.
pub(super) fn conversion_in(e: &Expr) -> Option<&syn::ExprMethodCall> {
    match strip(e) {
        Expr::Try(t) => conversion_in(&t.expr),
        Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "unwrap" | "expect") => {
            conversion_in(&m.receiver)
        }
        Expr::MethodCall(m) if CONVERSIONS.iter().any(|(n, _, _)| m.method == n) => Some(m),
        _ => None,
    }
}

/// The function call a `let` initialiser's value comes from, seen through `?`, `unwrap`,
/// `expect`, `ok`, `unwrap_or_default` and a `match` whose `Ok(v)`/`Some(v)` arm gives `v`.
pub(super) fn result_call_in(e: &Expr) -> Option<&syn::ExprCall> {
    match strip(e) {
        Expr::Try(t) => result_call_in(&t.expr),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "unwrap" | "expect" | "ok" | "unwrap_or_default"
            ) =>
        {
            result_call_in(&m.receiver)
        }
        Expr::Match(m) => {
            let passes = m.arms.iter().any(|arm| {
                let syn::Pat::TupleStruct(ts) = &arm.pat else {
                    return false;
                };
                let wraps = ts
                    .path
                    .get_ident()
                    .is_some_and(|id| id == "Ok" || id == "Some");
                let bound = match ts.elems.first() {
                    Some(syn::Pat::Ident(pi)) if ts.elems.len() == 1 => &pi.ident,
                    _ => return false,
                };
                wraps && matches!(strip(&arm.body), Expr::Path(p) if p.path.is_ident(bound))
            });
            if passes {
                result_call_in(&m.expr)
            } else {
                None
            }
        }
        Expr::Call(c) => Some(c),
        _ => None,
    }
}

impl Lowerer<'_, '_> {
    /// Binds a name; a local owning a value of a (maybe) package type gets a drop slot, dropped
    /// at the end of the current scope unless moved away.
    pub(super) fn bind_owned(&mut self, name: String, ty: TypeRef, origin: Origin) {
        let slot = owned_pkg(&ty).then(|| self.new_slot(ty.clone()));
        let Some(sc) = self.stack.last_mut().and_then(|st| st.scopes.last_mut()) else {
            return;
        };
        if let Some(s) = slot {
            sc.drops.push(s);
        }
        sc.bindings.push(Binding {
            name,
            ty,
            origin,
            slot,
            param: false,
            place: self.pat_place,
            nonblocking: false,
            read: self.pat_read,
            init: None,
            mentions: 0,
        });
    }

    fn new_slot(&mut self, ty: TypeRef) -> u32 {
        let at = self.owner_at.take();
        self.slots.push(Slot {
            ty,
            at,
            moved: false,
            moves: Vec::new(),
        });
        self.slots.len() as u32 - 1
    }

    /// A read of an owned local bound in stack frame `at`: unless it only borrows the value,
    /// the value moves away (into a call, a return, a `move` closure ...).
    pub(super) fn use_slot(&mut self, at: usize, slot: u32, borrowing: bool) {
        let top = self.stack.len();
        let into_move_body = self.stack[at + 1..top].iter().any(|st| st.is_move);
        if !borrowing || into_move_body {
            self.slots[slot as usize].moved = true;
        }
    }

    /// A method call on an owned local: recorded, so that linking can tell whether the method
    /// consumed it.
    pub(super) fn slot_method(&mut self, slot: u32, at: Option<(u32, u32)>) {
        match at {
            Some(ev) => self.slots[slot as usize].moves.push(ev),
            None => self.slots[slot as usize].moved = true,
        }
    }

    /// Marks an owned local as moved away.
    pub(super) fn slot_moved(&mut self, slot: u32) {
        self.slots[slot as usize].moved = true;
    }

    fn emit_drop(&mut self, span: Span, ty: TypeRef, moves: Vec<(u32, u32)>) {
        self.emit(
            span,
            FKind::Drop {
                ty,
                moves,
                bound: None,
            },
        );
    }

    /// Drops the owned locals of a scope that ends at `close`, last bound first.
    pub(super) fn drop_slots(&mut self, slots: &[u32], close: PSpan) {
        if slots.iter().all(|&s| self.slots[s as usize].moved) {
            return;
        }
        let span = self.sp(close);
        let span = Span::new(span.file, span.end.saturating_sub(1), span.end);
        for &s in slots.iter().rev() {
            let slot = &self.slots[s as usize];
            if slot.moved {
                continue;
            }
            let (ty, moves, bound) = (slot.ty.clone(), slot.moves.clone(), slot.at);
            self.emit(span, FKind::Drop { ty, moves, bound });
        }
    }

    /// A value computed by an expression statement or `let _ = ..` and thrown away: a
    /// temporary dropped at the end of the statement.
    pub(super) fn drop_temporary(&mut self, e: &Expr, v: &Val, end: PSpan) {
        if v.local.is_some() || !owned_pkg(&v.ty) {
            return;
        }
        let mut inner = strip(e);
        if let Expr::Await(a) = inner {
            inner = strip(&a.base);
        }
        if !matches!(
            inner,
            Expr::Call(_) | Expr::MethodCall(_) | Expr::Struct(_) | Expr::Try(_)
        ) {
            return;
        }
        let span = self.sp2(spans::first(e), end);
        self.emit_drop(span, v.ty.clone(), Vec::new());
    }

    /// `x = new` drops the old value of `x` (unless it was moved away); `s.f = new` drops the
    /// old value of the field.
    pub(super) fn drop_overwritten(&mut self, left: &Expr, old: &Val, span: Span) {
        if let Some(s) = old.local {
            let slot = &mut self.slots[s as usize];
            let was_live = !slot.moved;
            let (ty, moves) = (slot.ty.clone(), std::mem::take(&mut slot.moves));
            slot.moved = false;
            if was_live {
                self.emit_drop(span, ty, moves);
            }
            return;
        }
        if matches!(strip(left), Expr::Field(_)) && owned_pkg(&old.ty) {
            self.emit_drop(span, old.ty.clone(), Vec::new());
        }
        // `*guard = fresh`, `*slot = fresh`: the value behind a lock guard or a `&mut`
        // reference dies here.
        if let Expr::Unary(u) = strip(left)
            && matches!(u.op, syn::UnOp::Deref(_))
            && let TypeRef::Shared(inner) = &old.ty
            && matches!(**inner, TypeRef::Pkg(_))
        {
            self.emit_drop(span, (**inner).clone(), Vec::new());
        }
    }

    /// `drop(x)` of an owned local or a temporary.
    pub(super) fn drop_explicit(&mut self, arg: &Expr, span: Span) {
        let live = match strip(arg) {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup_ident(id))
                .and_then(|(_, b)| b.slot)
                .map(|s| !self.slots[s as usize].moved),
            _ => None,
        };
        let v = self.lower_arg(arg, None);
        self.drop_owned_runtime(&v, span);
        // `drop(holder.rt)`: what the field holds dies here.
        if let (Expr::Field(_), Some(crate::model::Place::Cell(cell))) = (strip(arg), v.place) {
            self.fact(span, crate::model::FactKind::Release { cell, bound: None });
        }
        if let Some((place, at)) = v.moved_from {
            self.fact(at, crate::model::FactKind::Drop { place });
        }
        match (v.local, live) {
            (Some(s), Some(true)) => {
                let slot = &self.slots[s as usize];
                let (ty, moves) = (slot.ty.clone(), slot.moves.clone());
                self.emit_drop(span, ty, moves);
            }
            (None, None) if owned_pkg(&v.ty) => self.emit_drop(span, v.ty, Vec::new()),
            _ => {}
        }
    }

    /// The end of a statement drops the runtimes built in it and never bound, whose handle it
    /// took (`let h = Runtime::new().unwrap().handle().clone();`): each ends here.
    pub(super) fn end_temp_runtimes(&mut self, span: Span) {
        let Some(state) = self.stack.last_mut() else {
            return;
        };
        for place in std::mem::take(&mut state.temp_runtimes) {
            let at = self.emit_model(
                span,
                EventKind::RuntimeClose {
                    runtime: crate::model::RuntimeRef::Unknown,
                    api: "std::mem::drop".to_string(),
                },
            );
            self.subject(at, span, &Some(place));
        }
    }

    /// `drop(self.rt.take())`, or `drop(rt)` of a runtime bound from where it was kept: a
    /// value whose type is an owned runtime (not a shared pointer to one), read from a place,
    /// is the one runtime that place held, and it ends here.
    fn drop_owned_runtime(&mut self, v: &Val, span: Span) {
        let ty = match &v.ty {
            TypeRef::Wrapped(inner) => &**inner,
            t => t,
        };
        let TypeRef::Ext(path) = ty else { return };
        if self.cx.kb.type_kind(path) != Some(crate::model::VarKind::Runtime) {
            return;
        }
        let place = v.moved_from.map(|(p, _)| p).or(v.place);
        if place.is_none() {
            return;
        }
        let at = self.emit_model(
            span,
            EventKind::RuntimeClose {
                runtime: crate::model::RuntimeRef::Unknown,
                api: "std::mem::drop".to_string(),
            },
        );
        self.subject(at, span, &place);
    }

    /// `.await` on a value of a package type that implements `IntoFuture` calls its
    /// `into_future`.
    pub(super) fn await_into_future(&mut self, a: &syn::ExprAwait, v: &Val) {
        if !owned_pkg(&v.ty) {
            return;
        }
        let span = self.sp(a.await_token.span);
        self.emit(
            span,
            FKind::Ref {
                target: Target::Implicit {
                    ty: v.ty.clone(),
                    trait_: "IntoFuture".into(),
                    name: "into_future".into(),
                },
                as_value: false,
                result: None,
            },
        );
    }

    /// `for x in items` on a value of a package type calls `IntoIterator::into_iter` of that
    /// type (an impl the package writes) before the loop, and `Iterator::next` of what that
    /// gives (the type itself when it is an iterator) at each turn, inside the loop.
    pub(super) fn for_loop_calls(&mut self, span: Span, ty: &TypeRef, turn: bool) {
        let ty = ty.peel();
        if !owned_pkg(ty) {
            return;
        }
        let target = if turn {
            let iter = TypeRef::Deferred(std::sync::Arc::new(TyExpr::Ret {
                target: Target::Method {
                    ty: ty.clone(),
                    name: "into_iter".into(),
                },
                fallback: ty.clone(),
            }));
            Target::Implicit {
                ty: iter,
                trait_: "Iterator".into(),
                name: "next".into(),
            }
        } else {
            Target::Implicit {
                ty: ty.clone(),
                trait_: "IntoIterator".into(),
                name: "into_iter".into(),
            }
        };
        self.emit(
            span,
            FKind::Ref {
                target,
                as_value: false,
                result: None,
            },
        );
    }

    /// `for x in rx` over a library value whose iteration the knowledge base marks blocking
    /// (its `into_iter`: a std, crossbeam or flume receiver, also by reference) blocks at each
    /// turn, inside the loop, unless the value is in non-blocking mode.
    /// A value whose type only the linked program knows is typed by the hint at `hint_at`.
    pub(super) fn for_loop_blocks(&mut self, span: Span, hint_at: u32, items: &Val) {
        if items.nonblocking {
            return;
        }
        let ty = if matches!(items.ty.peel(), TypeRef::Deferred(_))
            && self.cx.kb.typed_method("into_iter")
        {
            self.hinted(hint_at, items.ty.clone(), Some("into_iter"))
        } else {
            items.ty.clone()
        };
        let Some(t) = ty.ext() else { return };
        let path = format!("{t}::into_iter");
        if self
            .cx
            .kb
            .apis(&path)
            .iter()
            .any(|a| a.concept == Concept::Blocking)
        {
            self.emit_model(span, EventKind::Blocking { api: path });
        }
    }

    /// `Foo { a, ..Default::default() }` calls `Foo::default()`.
    pub(super) fn lower_struct_rest(&mut self, rest: &Expr, ty: &TypeRef) {
        if self.is_default_call(rest) {
            let span = self.sp2(spans::first(rest), spans::last(rest));
            self.emit_default_call(span, ty.clone());
            return;
        }
        self.lower_expr(rest);
    }

    /// Whether `e` is `Default::default()` (any spelling of the trait path).
    pub(super) fn is_default_call(&self, e: &Expr) -> bool {
        let Expr::Call(c) = strip(e) else {
            return false;
        };
        let Expr::Path(p) = strip(&c.func) else {
            return false;
        };
        if !c.args.is_empty() || p.qself.is_some() {
            return false;
        }
        let segs = path_segs(&p.path);
        if segs.len() < 2 || segs[segs.len() - 2] != "Default" || segs[segs.len() - 1] != "default"
        {
            return false;
        }
        matches!(self.resolve(&segs), Res::Ext(_))
    }

    /// `s.parse::<T>()`, and `let x: T = s.parse()?` (or `.into()`, `.try_into()`, unwrapped
    /// or not): std's generic code calls the conversion trait's impl for the target type
    /// (`FromStr::from_str`, `From::from`, `TryFrom::try_from`).
    pub(super) fn conversion_call(&mut self, m: &syn::ExprMethodCall, target: Option<TypeRef>) {
        let name = m.method.to_string();
        let Some(&(_, trait_, fname)) = CONVERSIONS.iter().find(|(n, _, _)| *n == name) else {
            return;
        };
        let turbofish = m.turbofish.as_ref().and_then(|t| match t.args.first() {
            Some(syn::GenericArgument::Type(ty)) if t.args.len() == 1 => Some(ty),
            _ => None,
        });
        let ty = match (turbofish, target) {
            (Some(ty), _) => self.resolve_type(ty),
            (None, Some(TypeRef::Wrapped(inner))) => (*inner).clone(),
            (None, Some(ty)) => ty,
            (None, None) => return,
        };
        if !owned_pkg(&ty) {
            return;
        }
        let span = self.sp_ident(&m.method, name.len());
        self.emit(
            span,
            FKind::Ref {
                target: Target::Implicit {
                    ty,
                    trait_: trait_.into(),
                    name: fname.into(),
                },
                as_value: false,
                result: None,
            },
        );
    }

    /// A call of the `Default` impl of `ty`, if it is a package type.
    pub(super) fn emit_default_call(&mut self, span: Span, ty: TypeRef) {
        if !owned_pkg(&ty) {
            return;
        }
        self.emit(
            span,
            FKind::Ref {
                target: Target::Implicit {
                    ty,
                    trait_: "Default".into(),
                    name: "default".into(),
                },
                as_value: false,
                result: None,
            },
        );
    }
}
