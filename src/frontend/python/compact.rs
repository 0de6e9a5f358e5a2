//! Dropping the functions that can never matter: a function with no lifecycle event and no
//! call (directly or through other calls) to one that has one is a dead end for every rule,
//! whatever its entry. Library code is mostly such functions, so dropping them keeps programs small.

use crate::model::{EventKind, FnId, FnKind, Program};

/// Removes dead-end functions and the calls to them, renumbering the rest.
pub fn compact(program: &mut Program) {
    let n = program.functions.len();
    let mut live = vec![false; n];
    let mut callers: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut work: Vec<u32> = Vec::new();
    let mark = |i: u32, live: &mut Vec<bool>, work: &mut Vec<u32>| {
        if let Some(slot) = live.get_mut(i as usize)
            && !*slot
        {
            *slot = true;
            work.push(i);
        }
    };
    for (i, f) in program.functions.iter().enumerate() {
        let mut seed = false;
        for ev in &f.events {
            match &ev.kind {
                EventKind::Call { callees, .. } => {
                    for c in callees {
                        if let Some(list) = callers.get_mut(c.0 as usize) {
                            list.push(i as u32);
                        }
                    }
                }
                _ => seed = true,
            }
        }
        if seed {
            mark(i as u32, &mut live, &mut work);
        }
    }
    for g in &program.globals {
        if let Some(init) = g.init {
            mark(init.0, &mut live, &mut work);
        }
    }
    // A function handed to a helper is called by the helper (through the body that calls it)
    // on behalf of the caller that hands it over.
    for r in &program.param_runs {
        for by in [r.run.0, r.site.0] {
            if let Some(list) = callers.get_mut(r.body.0 as usize) {
                list.push(by.0);
            }
        }
    }
    // A function the flow takes a made value through (a getter, a factory's caller, a
    // function that uses a resource it is handed) matters even without events of its own:
    // the linker kept only the facts that carry one (`carriers`).
    for fact in &program.flow.facts {
        mark(fact.func.0, &mut live, &mut work);
    }
    // Where instances of a class with lazily filled attributes are built tells how long
    // what those attributes hold lives.
    for b in &program.flow.built {
        if let Some(f) = b.func {
            mark(f.0, &mut live, &mut work);
        }
    }
    while let Some(i) = work.pop() {
        for &c in &callers[i as usize] {
            mark(c, &mut live, &mut work);
        }
        let f = &program.functions[i as usize];
        if let Some(p) = f.parent {
            mark(p.0, &mut live, &mut work);
        }
        for ev in &f.events {
            if let EventKind::Run { body, .. } = &ev.kind {
                mark(body.0, &mut live, &mut work);
            }
        }
        // What a spawned or blocked-on body runs is kept, even with no events of its own:
        // whether that work ends (or diverges) matters to the rules.
        if matches!(f.kind, FnKind::Future | FnKind::Closure) && f.parent.is_some() {
            for ev in &f.events {
                if let EventKind::Call { callees, .. } = &ev.kind {
                    for c in callees {
                        mark(c.0, &mut live, &mut work);
                    }
                }
            }
        }
    }
    drop(callers);
    if live.iter().all(|&l| l) {
        return;
    }
    let mut new_id = vec![u32::MAX; n];
    let mut next = 0u32;
    for (i, &l) in live.iter().enumerate() {
        if l {
            new_id[i] = next;
            next += 1;
        }
    }
    let remap = |id: FnId| FnId(new_id[id.0 as usize]);
    let old = std::mem::take(&mut program.functions);
    program.functions.reserve_exact(next as usize);
    // New index of each kept event, by old function, for the flow facts.
    let mut event_index: Vec<Vec<Option<u32>>> = vec![Vec::new(); n];
    for (i, mut f) in old.into_iter().enumerate() {
        if !live[i] {
            continue;
        }
        f.parent = f.parent.map(remap);
        let mut kept = 0u32;
        let index = &mut event_index[i];
        f.events.retain_mut(|ev| {
            let keep = match &mut ev.kind {
                EventKind::Call { callees, .. } => {
                    callees.retain(|c| live[c.0 as usize]);
                    callees.iter_mut().for_each(|c| *c = remap(*c));
                    !callees.is_empty()
                }
                EventKind::Run { body, .. } => {
                    *body = remap(*body);
                    true
                }
                _ => true,
            };
            index.push(keep.then_some(kept));
            kept += u32::from(keep);
            keep
        });
        // Copied out at their exact size: the allocator would keep a block shrunk in place at
        // its old size.
        if f.events.len() < f.events.capacity() {
            let mut exact = Vec::with_capacity(f.events.len());
            exact.append(&mut f.events);
            f.events = exact;
        }
        program.functions.push(f);
    }
    for g in &mut program.globals {
        g.init = g.init.map(remap);
    }
    for v in &mut program.vars {
        v.owner = remap(v.owner);
    }
    let runs = std::mem::take(&mut program.param_runs);
    program.param_runs = runs
        .into_iter()
        .filter_map(|r| {
            let kept = |f: FnId| live[f.0 as usize].then(|| remap(f));
            let run = event_index[r.run.0.0 as usize]
                .get(r.run.1)
                .copied()
                .flatten()?;
            let before = event_index[r.site.0.0 as usize]
                .iter()
                .take(r.site.1)
                .flatten()
                .count();
            Some(crate::model::ParamRun {
                run: (kept(r.run.0)?, run as usize),
                body: kept(r.body)?,
                helper: kept(r.helper)?,
                site: (kept(r.site.0)?, before),
            })
        })
        .collect();
    // How surely calls run their callees, by the kept calls' new places.
    let reach = std::mem::take(&mut program.reach);
    program.reach = reach
        .into_iter()
        .filter_map(|((f, e), r)| {
            let i = f.0 as usize;
            let e = event_index.get(i)?.get(e as usize).copied().flatten()?;
            live[i].then(|| ((remap(f), e), r))
        })
        .collect();
    compact_flow(&mut program.flow, &live, &new_id, &event_index);
}

/// Renumbers the flow facts after compaction; facts about dropped functions or events go.
fn compact_flow(
    flow: &mut crate::model::FlowFacts,
    live: &[bool],
    new_id: &[u32],
    event_index: &[Vec<Option<u32>>],
) {
    use crate::model::{FactKind, Place};
    let func = |f: FnId| live[f.0 as usize].then(|| FnId(new_id[f.0 as usize]));
    let place = |p: Place| -> Option<Place> {
        Some(match p {
            Place::Param(f, i) => Place::Param(func(f)?, i),
            Place::Ret(f) => Place::Ret(func(f)?),
            other => other,
        })
    };
    for owner in &mut flow.temp_owner {
        *owner = func(*owner).unwrap_or(FnId(0));
    }
    for b in &mut flow.built {
        b.func = b.func.and_then(func);
    }
    let facts = std::mem::take(&mut flow.facts);
    for mut fact in facts {
        let old = fact.func;
        let Some(f) = func(old) else { continue };
        fact.func = f;
        let event = |e: u32| {
            event_index[old.0 as usize]
                .get(e as usize)
                .copied()
                .flatten()
        };
        let kind = match fact.kind {
            FactKind::New { event: e, to } => match (event(e), place(to)) {
                (Some(event), Some(to)) => FactKind::New { event, to },
                _ => continue,
            },
            FactKind::Assign { to, from } => match (place(to), place(from)) {
                (Some(to), Some(from)) => FactKind::Assign { to, from },
                _ => continue,
            },
            FactKind::HandleOf { to, from } => match (place(to), place(from)) {
                (Some(to), Some(from)) => FactKind::HandleOf { to, from },
                _ => continue,
            },
            FactKind::Call {
                event: e,
                args,
                result,
            } => {
                let Some(e) = event(e) else { continue };
                FactKind::Call {
                    event: e,
                    args: args.into_iter().map(|a| a.and_then(place)).collect(),
                    result: result.and_then(place),
                }
            }
            FactKind::Load { to, cell } => match place(to) {
                Some(to) => FactKind::Load { to, cell },
                None => continue,
            },
            FactKind::Store {
                cell,
                from,
                overwrite,
            } => match place(from) {
                Some(from) => FactKind::Store {
                    cell,
                    from,
                    overwrite,
                },
                None => continue,
            },
            FactKind::Subject { event: e, place: p } => match (event(e), place(p)) {
                (Some(event), Some(place)) => FactKind::Subject { event, place },
                _ => continue,
            },
            FactKind::Use { place: p, method } => match place(p) {
                Some(place) => FactKind::Use { place, method },
                None => continue,
            },
            FactKind::Drop { place: p } => match place(p) {
                Some(place) => FactKind::Drop { place },
                None => continue,
            },
            FactKind::Reset { place: p } => match place(p) {
                Some(place) => FactKind::Reset { place },
                None => continue,
            },
            FactKind::TakeOut { place: p } => match place(p) {
                Some(place) => FactKind::TakeOut { place },
                None => continue,
            },
            FactKind::Close { place: p } => match place(p) {
                Some(place) => FactKind::Close { place },
                None => continue,
            },
            FactKind::Escape { place: p } => match place(p) {
                Some(place) => FactKind::Escape { place },
                None => continue,
            },
            FactKind::Release { cell, bound } => FactKind::Release { cell, bound },
            FactKind::Body { body, to } => match (func(body), place(to)) {
                (Some(body), Some(to)) => FactKind::Body { body, to },
                _ => continue,
            },
            FactKind::Lazy { owner, from } => match (place(owner), place(from)) {
                (Some(owner), Some(from)) => FactKind::Lazy { owner, from },
                _ => continue,
            },
            FactKind::CallVia { event: e, callee } => match (event(e), place(callee)) {
                (Some(event), Some(callee)) => FactKind::CallVia { event, callee },
                _ => continue,
            },
        };
        fact.kind = kind;
        flow.facts.push(fact);
    }
}
