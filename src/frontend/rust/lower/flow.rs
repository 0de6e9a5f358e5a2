//! Flow facts: where the value of an expression goes. Places are file-local here (temporaries,
//! variables, parameters and returns of this file's bodies, cells named by type and field or by
//! static name); `link` makes them program-wide.

use syn::Expr;

use super::{Lowerer, Val, strip};
use crate::frontend::rust::ir::{Target, TypeRef};
use crate::model::{Cell, CellId, CellKind, Fact, FactKind, FnId, Place, Span};

/// Methods whose result is (a view of) the receiver's value: lock guards, references, lazy
/// accessors, iterators over a container, a thread's join handle joined.
const PROJECTIONS: &[&str] = &[
    "as_deref",
    "as_deref_mut",
    "as_mut",
    "as_ref",
    "borrow",
    "borrow_mut",
    "deref",
    "deref_mut",
    "get",
    "get_mut",
    "get_or_init",
    "get_or_insert",
    "get_or_insert_with",
    "get_or_try_init",
    "into_inner",
    "iter",
    "iter_mut",
    "join",
    "lock",
    "read",
    "replace",
    "take",
    "try_lock",
    "write",
];

/// Methods that put their argument (or the value their closure returns) into the receiver.
const STORES: &[&str] = &[
    "get_or_init",
    "get_or_insert",
    "get_or_insert_with",
    "get_or_try_init",
    "insert",
    "push",
    "push_back",
    "push_front",
    "replace",
    "set",
];

/// Methods that only look at a value: not a use of a runtime-bound resource.
const INSPECTIONS: &[&str] = &[
    "abort",
    "id",
    "is_closed",
    "is_empty",
    "is_finished",
    "is_none",
    "is_some",
    "len",
];

/// Whether a method call's result is the receiver's value.
pub(super) fn projects(name: &str) -> bool {
    PROJECTIONS.binary_search(&name).is_ok()
}

/// Whether a method call stores its argument into the receiver.
pub(super) fn stores(name: &str) -> bool {
    STORES.binary_search(&name).is_ok()
}

/// Whether a method call moves a value out of the receiver (`slot.take()`, `map.remove(k)`,
/// `list.pop()`): the caller owns it, and a result thrown away drops it.
pub(super) fn moves_out(name: &str) -> bool {
    matches!(
        name,
        "take"
            | "replace"
            | "into_inner"
            | "remove"
            | "pop"
            | "pop_back"
            | "pop_front"
            | "swap_remove"
    )
}

/// Whether a method call on a collection only puts an element in or counts them (`push`,
/// `insert`, `len`): neither waits for nor hands on what the collection holds.
pub(super) fn fills_or_counts(name: &str) -> bool {
    matches!(
        name,
        "push" | "push_back" | "push_front" | "insert" | "len" | "is_empty"
    )
}

/// Whether a method call only looks at its receiver (`is_some`, `len`).
pub(super) fn inspects(name: &str) -> bool {
    INSPECTIONS.binary_search(&name).is_ok()
}

/// Whether a method call fills an empty receiver once, with what its argument makes, and gives
/// the receiver's value from then on (`get_or_init`, `get_or_insert_with`).
pub(super) fn lazily(name: &str) -> bool {
    matches!(
        name,
        "get_or_init" | "get_or_try_init" | "get_or_insert_with" | "get_or_insert"
    )
}

/// Whether a method call is a use of the receiver's value.
pub(super) fn uses(name: &str) -> bool {
    INSPECTIONS.binary_search(&name).is_err() && !projects(name)
}

impl Lowerer<'_, '_> {
    /// A fresh temporary of the current body.
    pub(super) fn temp(&mut self) -> Option<Place> {
        let f = self.cur_fn()?;
        self.ir.temps.push(f);
        Some(Place::Temp(self.ir.temps.len() as u32 - 1))
    }

    /// Records a fact in the current body.
    pub(super) fn fact(&mut self, span: Span, kind: FactKind) {
        if let Some(f) = self.cur_fn() {
            self.ir.flow.push(Fact {
                func: FnId(f),
                span,
                kind,
            });
        }
    }

    /// `to` receives the value of `from`, when there is one.
    pub(super) fn flow_to(&mut self, span: Span, to: Place, from: Option<Place>) {
        if let Some(from) = from
            && from != to
        {
            self.fact(span, FactKind::Assign { to, from });
        }
    }

    /// The value made by event `at` becomes the value of `out`.
    pub(super) fn made(&mut self, at: Option<(u32, u32)>, span: Span, out: &mut Val) {
        let Some((f, ev)) = at else { return };
        if self.cur_fn() != Some(f) {
            return;
        }
        let Some(to) = self.temp() else { return };
        self.fact(span, FactKind::New { event: ev, to });
        out.place = Some(to);
    }

    /// One place for the value of several branches.
    pub(super) fn merge(&mut self, span: Span, places: &[Option<Place>]) -> Option<Place> {
        let known: Vec<Place> = places.iter().flatten().copied().collect();
        match known.as_slice() {
            [] => None,
            [one] => Some(*one),
            _ => {
                let to = self.temp()?;
                for p in known {
                    self.flow_to(span, to, Some(p));
                }
                Some(to)
            }
        }
    }

    /// The cell of a named storage.
    pub(super) fn cell(&mut self, kind: CellKind, owner: &str, name: &str) -> Place {
        let cell = Cell {
            kind,
            owner: owner.to_string(),
            name: name.to_string(),
        };
        let id = match self.ir.cells.iter().position(|c| *c == cell) {
            Some(i) => i,
            None => {
                self.ir.cells.push(cell);
                self.ir.cells.len() - 1
            }
        };
        Place::Cell(CellId(id as u32))
    }

    /// The cell of field `name` of a value of type `ty`, when the type is the package's.
    pub(super) fn field_cell(&mut self, ty: &TypeRef, name: &str) -> Option<Place> {
        let mut ty = ty;
        for _ in 0..8 {
            match ty {
                TypeRef::Shared(t) | TypeRef::Wrapped(t) | TypeRef::Lock(t) => ty = t,
                _ => break,
            }
        }
        let TypeRef::Pkg(sp) = ty else { return None };
        let owner = sp.segs.last()?.clone();
        Some(self.cell(CellKind::Field, &owner, name))
    }

    /// `left = right`: a field written directly drops the value it held; anything else
    /// receives the value.
    pub(super) fn assign_fact(
        &mut self,
        left: &Expr,
        to: Option<Place>,
        from: Option<Place>,
        span: Span,
    ) {
        let field = matches!(strip(left), Expr::Field(_));
        match (to, from) {
            (Some(Place::Cell(cell)), from) if from.is_some() || field => {
                // The old value is dropped even when the new one is not tracked.
                let Some(from) = from.or_else(|| self.temp()) else {
                    return;
                };
                self.fact(
                    span,
                    FactKind::Store {
                        cell,
                        from,
                        overwrite: field,
                    },
                );
            }
            (Some(to), from) => self.flow_to(span, to, from),
            _ => {}
        }
    }

    /// A struct literal of type `ty` initialises its fields.
    pub(super) fn init_fields(&mut self, ty: &TypeRef, fields: Vec<(String, Place, Span)>) {
        for (name, from, span) in fields {
            if let Some(Place::Cell(cell)) = self.field_cell(ty, &name) {
                self.fact(
                    span,
                    FactKind::Store {
                        cell,
                        from,
                        overwrite: false,
                    },
                );
            }
        }
    }

    /// The cell of a static named by `target`.
    pub(super) fn static_cell(&mut self, target: &Target) -> Option<Place> {
        let name = match target {
            Target::Static(i) => self.ir.statics.get(*i as usize)?.name.clone(),
            Target::Path(sp) => sp.segs.last()?.clone(),
            _ => return None,
        };
        Some(self.cell(CellKind::Static, "", &name))
    }

    /// Event `at` acts on the value in `place`.
    pub(super) fn subject(&mut self, at: Option<(u32, u32)>, span: Span, place: &Option<Place>) {
        if let (Some((f, event)), Some(place)) = (at, *place)
            && self.cur_fn() == Some(f)
        {
            self.fact(span, FactKind::Subject { event, place });
        }
    }

    /// `x.set(v)`, `v.push(x)`, `slot.replace(v)`: the receiver in `recv` holds the arguments.
    /// Accessors and guards (`get`, `lock`, `take`) give the receiver's value.
    pub(super) fn store_into(
        &mut self,
        recv: Place,
        name: &str,
        args: &[Option<Place>],
        span: Span,
        out: &mut Val,
    ) {
        if stores(name) {
            for &from in args.iter().flatten() {
                match recv {
                    Place::Cell(cell) => self.fact(
                        span,
                        FactKind::Store {
                            cell,
                            from,
                            overwrite: false,
                        },
                    ),
                    _ => self.flow_to(span, recv, Some(from)),
                }
            }
        }
        // An element moved out of a container (`map.remove(k)`, `list.pop()`) is one of the
        // values the container holds.
        if projects(name) || moves_out(name) {
            out.place = Some(recv);
        }
        if moves_out(name) {
            out.moved_from = Some((recv, span));
            if matches!(recv, Place::Cell(_)) {
                self.fact(span, FactKind::TakeOut { place: recv });
            }
        }
    }
}
