//! Python resources that leave the event loop they were made under: the coroutine that a loop
//! runs hands them back (`self.client = asyncio.run(self._open())`), or keeps them in an
//! attribute of the instance whose method the loop runs (`asyncio.run(self._connect())` storing
//! `self.session`), an instance the calling code made before the loop started. Whoever keeps
//! them afterwards, and however long, they stay bound to that loop.

use crate::analysis::flow::ObjId;
use crate::analysis::{Facts, InstId, InstanceKind};
use crate::model::{CellKind, EventKind, FactKind, FnId, Language, Place, Program, RunKind};

/// The loop an object leaves: the one runtime instance that runs the code making object `o`,
/// a loop the program makes itself (a fresh `asyncio.run` loop, a `new_event_loop()`), when
/// the body that loop runs hands the object out of it, by returning it or by keeping it in an
/// attribute of the instance whose method that body calls.
pub fn left_loop(program: &Program, facts: &Facts, o: ObjId) -> Option<InstId> {
    let flow = &facts.flow;
    let obj = flow.object(o);
    if program.func(obj.func).language != Language::Python {
        return None;
    }
    let r = one_instance(facts, obj.func)?;
    if !matches!(
        facts.instance(r).kind,
        InstanceKind::Fresh(..) | InstanceKind::Built(..)
    ) {
        return None;
    }
    for (_, f) in program.fns() {
        for ev in &f.events {
            let EventKind::Run {
                body,
                how: RunKind::BlockOn,
                ..
            } = ev.kind
            else {
                continue;
            };
            if one_instance(facts, body) != Some(r) {
                continue;
            }
            if flow.values(Place::Ret(body)).iter().any(|(x, _)| *x == o)
                || kept_by_receiver(program, facts, body, o, r)
            {
                return Some(r);
            }
        }
    }
    None
}

/// The one runtime instance that code of `f` runs under, if it runs under exactly one.
fn one_instance(facts: &Facts, f: FnId) -> Option<InstId> {
    let mut all = facts.known_instances(f).map(|(i, _)| i);
    let first = all.next()?;
    all.all(|i| i == first).then_some(first)
}

/// Whether code running under instance `r` stores object `o` in an attribute of the class of a
/// method that `body` (the coroutine a loop runs) calls: the instance it is called on exists
/// before the loop starts, as the calling code builds the coroutine.
fn kept_by_receiver(program: &Program, facts: &Facts, body: FnId, o: ObjId, r: InstId) -> bool {
    let flow = &facts.flow;
    let classes: Vec<&str> = program
        .func(body)
        .events
        .iter()
        .filter_map(|ev| match &ev.kind {
            EventKind::Call { callees, .. } => Some(callees.iter()),
            _ => None,
        })
        .flatten()
        .filter_map(|&m| {
            program
                .func(m)
                .name
                .rsplit_once('.')
                .map(|(class, _)| class)
        })
        .collect();
    if classes.is_empty() {
        return false;
    }
    program.flow.facts.iter().any(|fact| {
        let FactKind::Store { cell, from, .. } = fact.kind else {
            return false;
        };
        let cell = program.flow.cell(cell);
        let class = cell.owner.rsplit('.').next().unwrap_or(&cell.owner);
        cell.kind == CellKind::Field
            && !cell.name.ends_with("[]")
            && classes.contains(&class)
            && one_instance(facts, fact.func) == Some(r)
            && flow.values(from).iter().any(|(x, _)| *x == o)
    })
}
