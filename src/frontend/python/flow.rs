//! Flow facts of Python bodies: where the value of an expression goes. Places are file-local
//! here (temporaries and variables of this file's functions, instance attributes as cells named
//! by class and attribute); the project linker makes them program-wide.

use ruff_text_size::TextRange;

use super::lower::Lowerer;
use crate::model::{Cell, CellId, CellKind, EventKind, Fact, FactKind, FnId, Place};

impl Lowerer<'_> {
    /// A fresh temporary of the current function.
    pub(super) fn temp(&mut self) -> Place {
        let f = self.scope().fn_id;
        self.ir.temps.push(f);
        Place::Temp(self.ir.temps.len() as u32 - 1)
    }

    /// Records a fact in the current function.
    pub(super) fn fact(&mut self, range: TextRange, kind: FactKind) {
        let span = self.span(range);
        let func = FnId(self.scope().fn_id);
        self.ir.flow.push(Fact { func, span, kind });
    }

    /// Index of the last event of the current function.
    fn last_event(&self) -> Option<u32> {
        let f = &self.ir.functions[self.scope().fn_id as usize].func;
        (f.events.len() as u32).checked_sub(1)
    }

    /// The value made by the event just emitted goes to a fresh temporary, which is returned.
    pub(super) fn made(&mut self, range: TextRange) -> Option<Place> {
        let event = self.last_event()?;
        let to = self.temp();
        self.fact(range, FactKind::New { event, to });
        Some(to)
    }

    /// The cell of attribute `attr` of the instances of class `class` (a dotted path, which
    /// tells apart classes of the same name in different modules).
    pub(super) fn attr_cell(&mut self, class: &str, attr: &str) -> Place {
        let cell = Cell {
            kind: CellKind::Field,
            owner: class.to_string(),
            name: attr.to_string(),
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

    /// `self.attr = value`: the attribute of the class's instances holds the value, dropping
    /// the one it held.
    pub(super) fn store_attr(&mut self, range: TextRange, cell: Place, from: Option<Place>) {
        if let (Place::Cell(cell), Some(from)) = (cell, from) {
            self.fact(
                range,
                FactKind::Store {
                    cell,
                    from,
                    overwrite: true,
                },
            );
        }
    }

    /// Runtime events emitted from index `from` on at `range` (a spawn, a block-on, a close)
    /// act on the value read from `cell`.
    pub(super) fn subject_from_cell(&mut self, from: usize, range: TextRange, cell: Place) {
        let Place::Cell(id) = cell else { return };
        let span = self.span(range);
        let f = &self.ir.functions[self.scope().fn_id as usize].func;
        let events: Vec<u32> = (from..f.events.len())
            .filter(|&i| {
                let ev = &f.events[i];
                ev.span == span
                    && matches!(
                        ev.kind,
                        EventKind::Run { .. } | EventKind::RuntimeClose { .. }
                    )
            })
            .map(|i| i as u32)
            .collect();
        if events.is_empty() {
            return;
        }
        let to = self.temp();
        self.fact(range, FactKind::Load { to, cell: id });
        for event in events {
            self.fact(range, FactKind::Subject { event, place: to });
        }
    }
}
