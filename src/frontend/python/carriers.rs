//! The flow facts that may carry a made value: a resource, a runtime or a task.
//!
//! One context-insensitive reachability over the linked facts, from the places that receive a
//! made value, along assignments, loads and stores of cells, arguments to parameters and
//! returns to call results. A fact that mentions no reached place carries nothing a rule can
//! see (the solve would find nothing there): it is dropped before the program is built, and
//! the functions that keep a fact are the flow's carriers (`compact` keeps them).

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use super::facts::{Code, FileFacts, Packed, PackedFact};
use crate::model::{CellId, EventKind, Fact, FnId, Function, Place, Program, RunKind};

/// The facts of `files` (linked, in program order, each with its file id) that mention a place
/// a made value may reach, in the same order; none when nothing is made. Each file's facts are
/// freed as soon as they are taken.
pub fn keep(program: &Program, files: Vec<(u32, FileFacts)>) -> Vec<Fact> {
    let Some(reach) = Reach::new(program, &files) else {
        return Vec::new();
    };
    // Whether each fact (of all files, in order) carries one, asked once per fact and for
    // the files in parallel.
    let carries: Vec<Vec<bool>> = files
        .par_iter()
        .map(|(_, ff)| ff.facts.iter().map(|f| reach.carries(ff, f)).collect())
        .collect();
    let kept = carries.iter().flatten().filter(|&&c| c).count();
    crate::alloc::phase("carriers solved");
    let mut out = Vec::with_capacity(kept);
    for ((file, ff), carries) in files.into_iter().zip(carries) {
        out.extend(
            ff.facts
                .iter()
                .zip(carries)
                .filter(|&(_, c)| c)
                .filter_map(|(f, _)| ff.unpack(f, file)),
        );
    }
    crate::alloc::phase("carriers kept");
    out
}

/// The places a made value reaches, as node ids.
struct Reach {
    nodes: Nodes,
    reached: Vec<bool>,
}

impl Reach {
    /// Solves the reachability over the facts of `files`; `None` when no fact receives a made
    /// value.
    fn new(program: &Program, files: &[(u32, FileFacts)]) -> Option<Reach> {
        let mut nodes = Nodes::new(program, files);
        let mut seeds: Vec<u32> = Vec::new();
        // Edges by source node, without a list of all edges: one pass counts each node's
        // edges, a second one fills them in.
        let mut start: Vec<u32> = Vec::new();
        edges(program, files, &mut nodes, &mut seeds, &mut |a, _| {
            if start.len() <= a as usize + 1 {
                start.resize(a as usize + 2, 0);
            }
            start[a as usize + 1] += 1;
        });
        if seeds.is_empty() {
            return None;
        }
        let n = nodes.len();
        start.resize(n + 1, 0);
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next: Vec<u32> = start[..n].to_vec();
        let mut targets = vec![0u32; start[n] as usize];
        seeds.clear();
        edges(program, files, &mut nodes, &mut seeds, &mut |a, b| {
            targets[next[a as usize] as usize] = b;
            next[a as usize] += 1;
        });
        drop(next);
        let mut reached = vec![false; n];
        while let Some(x) = seeds.pop() {
            if std::mem::replace(&mut reached[x as usize], true) {
                continue;
            }
            let out = &targets[start[x as usize] as usize..start[x as usize + 1] as usize];
            seeds.extend(out.iter().copied().filter(|&m| !reached[m as usize]));
        }
        Some(Reach { nodes, reached })
    }

    /// Whether `fact` (of `ff`) mentions a reached place.
    fn carries(&self, ff: &FileFacts, fact: &PackedFact) -> bool {
        ff.places(fact)
            .any(|p| self.nodes.get(p).is_some_and(|i| self.reached[i as usize]))
    }
}

/// Dense node ids of places: temporaries, returns, cells and variables by index, the
/// parameters that facts mention by function and position, anything else through a map.
struct Nodes {
    temps: u32,
    rets: u32,
    cells: u32,
    vars: u32,
    /// Per function, the id of its parameter 0 (the `vars` above plus the parameters of the
    /// functions before it), and one more entry for the end.
    params: Vec<u32>,
    other: HashMap<Place, u32>,
}

impl Nodes {
    fn new(program: &Program, files: &[(u32, FileFacts)]) -> Nodes {
        let temps = program.flow.temp_owner.len() as u32;
        let rets = temps + program.functions.len() as u32;
        let cells = rets + program.flow.cells.len() as u32;
        let vars = cells + program.vars.len() as u32;
        // A parameter that no fact mentions holds nothing any fact moves or mentions: it
        // needs no node, and an argument passed to it no edge.
        let mut count = vec![0u32; program.functions.len()];
        for (_, ff) in files {
            for &(f, i) in &ff.params {
                if let Some(n) = count.get_mut(f as usize) {
                    *n = (*n).max(i.saturating_add(1));
                }
            }
        }
        let mut params = Vec::with_capacity(count.len() + 1);
        let mut next = vars;
        params.push(next);
        for n in count {
            next = next.saturating_add(n);
            params.push(next);
        }
        Nodes {
            temps,
            rets,
            cells,
            vars: next,
            params,
            other: HashMap::default(),
        }
    }

    /// Number of node ids handed out so far (and of the dense ones).
    fn len(&self) -> usize {
        self.vars as usize + self.other.len()
    }

    /// The dense id of `p`, if it has one.
    fn dense(&self, p: Place) -> Option<u32> {
        let (base, i, end) = match p {
            Place::Temp(t) => (0, t, self.temps),
            Place::Ret(f) => (self.temps, f.0, self.rets),
            Place::Cell(c) => (self.rets, c.0, self.cells),
            Place::Var(v) => (self.cells, v.0, self.params[0]),
            Place::Param(f, i) => {
                let base = *self.params.get(f.0 as usize)?;
                (base, i, *self.params.get(f.0 as usize + 1)?)
            }
        };
        let id = base.checked_add(i)?;
        (id < end).then_some(id)
    }

    /// Whether `p` is a parameter that no fact mentions (see [`Nodes::new`]).
    fn unmentioned(&self, p: Place) -> bool {
        matches!(p, Place::Param(f, i) if (f.0 as usize) < self.params.len() - 1
            && self.dense(Place::Param(f, i)).is_none())
    }

    /// The id of `p`, made on first sight.
    fn id(&mut self, p: Place) -> u32 {
        if let Some(id) = self.dense(p) {
            return id;
        }
        let next = self.vars + self.other.len() as u32;
        *self.other.entry(p).or_insert(next)
    }

    /// The id of `p`, if it has one.
    fn get(&self, p: Place) -> Option<u32> {
        self.dense(p).or_else(|| self.other.get(&p).copied())
    }
}

/// Calls `edge(from, to)` for each edge of the flow graph over the facts of `files`, in one
/// order, and adds the places receiving a made value to `seeds`.
fn edges(
    program: &Program,
    files: &[(u32, FileFacts)],
    nodes: &mut Nodes,
    seeds: &mut Vec<u32>,
    edge: &mut impl FnMut(u32, u32),
) {
    let event = |f: FnId, e: u32| {
        program
            .functions
            .get(f.0 as usize)
            .and_then(|func: &Function| func.events.get(e as usize))
    };
    for (_, ff) in files {
        let place = |c: Code| ff.place(c);
        for fact in &ff.facts {
            let func = FnId(fact.func);
            match fact.kind {
                Packed::New { event: e, to } => {
                    let makes = event(func, e).is_some_and(|ev| {
                        matches!(
                            ev.kind,
                            EventKind::Create { .. }
                                | EventKind::RuntimeNew { .. }
                                | EventKind::Run {
                                    how: RunKind::Spawn,
                                    ..
                                }
                        )
                    });
                    if makes && let Some(to) = place(to) {
                        seeds.push(nodes.id(to));
                    }
                }
                Packed::Assign { to, from } | Packed::HandleOf { to, from } => {
                    if let (Some(to), Some(from)) = (place(to), place(from)) {
                        edge(nodes.id(from), nodes.id(to));
                    }
                }
                Packed::Load { to, cell } => {
                    if let Some(to) = place(to) {
                        edge(nodes.id(Place::Cell(CellId(cell))), nodes.id(to));
                    }
                }
                Packed::Store { cell, from, .. } => {
                    if let Some(from) = place(from) {
                        edge(nodes.id(from), nodes.id(Place::Cell(CellId(cell))));
                    }
                }
                Packed::Call {
                    event: e,
                    start,
                    len,
                } => {
                    let result = ff.call_result(start);
                    let callees: &[FnId] = match event(func, e).map(|ev| &ev.kind) {
                        Some(EventKind::Call { callees, .. }) => callees,
                        Some(EventKind::Run { body, .. }) => std::slice::from_ref(body),
                        _ => &[],
                    };
                    let args = ff.call_args(start, len);
                    for &c in callees {
                        for (i, &a) in args.iter().enumerate() {
                            let param = Place::Param(c, i as u32);
                            if let Some(a) = place(a)
                                && !nodes.unmentioned(param)
                            {
                                edge(nodes.id(a), nodes.id(param));
                            }
                        }
                        if let Some(r) = place(result) {
                            edge(nodes.id(Place::Ret(c)), nodes.id(r));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
