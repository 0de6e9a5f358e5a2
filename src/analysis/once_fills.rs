//! Methods that fill an attribute of their own instance once (a lazy accessor, a cached
//! property) on the one instance of their class that the program builds, at import: every
//! call of such a method gets the object its first call made, whichever call comes first.

use crate::model::{CellKind, Entry, EventKind, FactKind, FnId, FnKind, Program, Reach};

/// Marks each call whose callees all fill an attribute once ([`FactKind::Store`] replacing
/// nothing, in a method of the attribute's class other than its constructor) for a class
/// whose instances, with those of its subclasses, the program builds in one place only, a
/// module body that runs once ([`crate::model::FlowFacts::built`]): such a call runs its
/// callee's fill once for the process ([`Reach::Once`]), so what it makes is one object for
/// every call site. Instances built anywhere else, or in several places, each have their own.
pub fn mark(program: &mut Program) {
    let built = &program.flow.built;
    if built.is_empty() {
        return;
    }
    let once_instance = |owner: &str| {
        let mut sites = built.iter().filter(|b| b.owner == owner);
        match (sites.next(), sites.next()) {
            (Some(b), None) => b.func.is_some_and(|m| {
                let m = program.func(m);
                b.loop_depth == 0
                    && m.kind == FnKind::Module
                    && !matches!(m.entry, Some(Entry::Repeated { .. }))
            }),
            _ => false,
        }
    };
    let mut fills: Vec<FnId> = Vec::new();
    for fact in &program.flow.facts {
        let FactKind::Store {
            cell,
            overwrite: false,
            ..
        } = fact.kind
        else {
            continue;
        };
        let cell = program.flow.cell(cell);
        let f = program.func(fact.func);
        let own_method = f.name.rsplit_once('.').is_some_and(|(class, method)| {
            method != "__init__"
                && (cell.owner == class || cell.owner.ends_with(&format!(".{class}")))
        });
        if cell.kind == CellKind::Field
            && !cell.name.ends_with("[]")
            && own_method
            && !fills.contains(&fact.func)
            && once_instance(&cell.owner)
        {
            fills.push(fact.func);
        }
    }
    if fills.is_empty() {
        return;
    }
    let mut once = Vec::new();
    for (fid, f) in program.fns() {
        for (ei, ev) in f.events.iter().enumerate() {
            if let EventKind::Call { callees, .. } = &ev.kind
                && !callees.is_empty()
                && callees.iter().all(|c| fills.contains(c))
            {
                once.push((fid, ei as u32));
            }
        }
    }
    for site in once {
        program.reach.insert(site, Reach::Once);
    }
}
