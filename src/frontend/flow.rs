//! Linking of flow facts: file-local ids of functions, variables, temporaries, cells and events
//! become program-wide. Shared by the frontends.

use rustc_hash::FxHashMap as HashMap;

use crate::model::{Cell, CellId, Fact, FactKind, FlowFacts, FnId, Place, VarId};

/// Interns cells across the files of one program.
#[derive(Default)]
pub struct FlowLinker {
    cells: HashMap<Cell, CellId>,
}

impl FlowLinker {
    /// Adds the facts of one file. `fn_base` and `var_base` shift its function and variable ids;
    /// `event_index[f][e]` is the program index of event `e` of local function `f`, or `None`
    /// when linking dropped the event (facts about it are dropped too).
    #[allow(clippy::too_many_arguments)]
    pub fn add_file(
        &mut self,
        out: &mut FlowFacts,
        cells: &[Cell],
        temps: &[u32],
        facts: &[Fact],
        fn_base: u32,
        var_base: u32,
        event_index: &[Vec<Option<u32>>],
    ) {
        let (cell_ids, temp_base) = self.register(out, cells, temps, fn_base);
        let place = |p: Place| match p {
            Place::Var(v) => Place::Var(VarId(v.0 + var_base)),
            Place::Temp(t) => Place::Temp(t + temp_base),
            Place::Param(f, i) => Place::Param(FnId(f.0 + fn_base), i),
            Place::Ret(f) => Place::Ret(FnId(f.0 + fn_base)),
            Place::Cell(c) => Place::Cell(cell_ids[c.0 as usize]),
        };
        for fact in facts {
            let local = fact.func.0 as usize;
            let event = |e: u32| {
                event_index
                    .get(local)
                    .and_then(|v| v.get(e as usize))
                    .copied()
                    .flatten()
            };
            let kind = match &fact.kind {
                FactKind::New { event: e, to } => match event(*e) {
                    Some(e) => FactKind::New {
                        event: e,
                        to: place(*to),
                    },
                    None => continue,
                },
                FactKind::Assign { to, from } => FactKind::Assign {
                    to: place(*to),
                    from: place(*from),
                },
                FactKind::HandleOf { to, from } => FactKind::HandleOf {
                    to: place(*to),
                    from: place(*from),
                },
                FactKind::Call {
                    event: e,
                    args,
                    result,
                } => match event(*e) {
                    Some(e) => FactKind::Call {
                        event: e,
                        args: args.iter().map(|a| a.map(place)).collect(),
                        result: result.map(place),
                    },
                    None => continue,
                },
                FactKind::Load { to, cell } => FactKind::Load {
                    to: place(*to),
                    cell: cell_ids[cell.0 as usize],
                },
                FactKind::Store {
                    cell,
                    from,
                    overwrite,
                } => FactKind::Store {
                    cell: cell_ids[cell.0 as usize],
                    from: place(*from),
                    overwrite: *overwrite,
                },
                FactKind::Subject { event: e, place: p } => match event(*e) {
                    Some(e) => FactKind::Subject {
                        event: e,
                        place: place(*p),
                    },
                    None => continue,
                },
                FactKind::Use { place: p, method } => FactKind::Use {
                    place: place(*p),
                    method: *method,
                },
                FactKind::Drop { place: p } => FactKind::Drop { place: place(*p) },
                FactKind::Reset { place: p } => FactKind::Reset { place: place(*p) },
                FactKind::TakeOut { place: p } => FactKind::TakeOut { place: place(*p) },
                FactKind::Close { place: p } => FactKind::Close { place: place(*p) },
                FactKind::Escape { place: p } => FactKind::Escape { place: place(*p) },
                FactKind::Release { cell, bound } => FactKind::Release {
                    cell: cell_ids[cell.0 as usize],
                    bound: *bound,
                },
                FactKind::Lazy { owner, from } => FactKind::Lazy {
                    owner: place(*owner),
                    from: place(*from),
                },
                FactKind::Body { body, to } => FactKind::Body {
                    body: FnId(body.0 + fn_base),
                    to: place(*to),
                },
                FactKind::CallVia { event: e, callee } => match event(*e) {
                    Some(e) => FactKind::CallVia {
                        event: e,
                        callee: place(*callee),
                    },
                    None => continue,
                },
            };
            out.facts.push(Fact {
                func: FnId(fact.func.0 + fn_base),
                span: fact.span,
                kind,
            });
        }
    }

    /// Interns the cells of one file and adds its temporaries (owned by its functions, shifted
    /// by `fn_base`); returns the program id of each of its cells and its first temporary.
    /// The program-wide id of `cell`, registered in `out` when no file named it yet.
    pub fn intern(&mut self, out: &mut FlowFacts, cell: &Cell) -> CellId {
        *self.cells.entry(cell.clone()).or_insert_with(|| {
            out.cells.push(cell.clone());
            CellId(out.cells.len() as u32 - 1)
        })
    }

    pub fn register(
        &mut self,
        out: &mut FlowFacts,
        cells: &[Cell],
        temps: &[u32],
        fn_base: u32,
    ) -> (Vec<CellId>, u32) {
        let cell_ids: Vec<CellId> = cells
            .iter()
            .map(|c| {
                *self.cells.entry(c.clone()).or_insert_with(|| {
                    out.cells.push(c.clone());
                    CellId(out.cells.len() as u32 - 1)
                })
            })
            .collect();
        let temp_base = out.temp_owner.len() as u32;
        out.temp_owner
            .extend(temps.iter().map(|&f| FnId(f + fn_base)));
        (cell_ids, temp_base)
    }
}
