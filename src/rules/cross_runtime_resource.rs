//! `cross-runtime-resource`: a runtime-bound resource used under a runtime other than the one it
//! is bound to. Doc: rules/cross-runtime-resource.md.

use std::collections::{HashMap, HashSet};

use crate::analysis::flow::{Flow, ObjId, ObjKind};
use crate::analysis::{CtxEntry, Facts, InstId, InstanceKind};

use super::{reactor_needs, run_results};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{
    CellId, CellKind, EventKind, FactKind, FnId, FnKind, Language, Place, Program, Reach,
    ResourceRef, RunKind, Span, StorageKind,
};

/// A place the resource is bound to a runtime: a use, or a creation that binds right away.
#[derive(Clone, Copy)]
struct Binding {
    inst: InstId,
    func: FnId,
    span: Span,
    is_use: bool,
}

/// Reports uses of a resource under a second runtime instance, or under a runtime that is made
/// anew on every call while the resource outlives it.
pub fn check(program: &Program, facts: &Facts, kb: &Kb, out: &mut Vec<Finding>) {
    let mut order: Vec<ResourceRef> = Vec::new();
    let mut bindings: HashMap<ResourceRef, Vec<Binding>> = HashMap::new();
    let mut created: HashMap<ResourceRef, (Span, FnId, u16)> = HashMap::new();
    let registers = registrations(program, facts);
    for (fid, f) in program.fns() {
        for ev in &f.events {
            let (res, is_use) = match &ev.kind {
                EventKind::Use { resource } => (*resource, true),
                EventKind::Create {
                    resource: Some(r), ..
                } => {
                    created.entry(*r).or_insert((ev.span, fid, ev.loop_depth));
                    match &ev.kind {
                        EventKind::Create {
                            binds_now: true, ..
                        } => (*r, false),
                        _ => continue,
                    }
                }
                _ => continue,
            };
            if let ResourceRef::Global(g) = res
                && program.global(g).storage == StorageKind::ThreadLocal
            {
                continue;
            }
            let list = bindings.entry(res).or_insert_with(|| {
                order.push(res);
                Vec::new()
            });
            // An executor without a reactor, or without the resource's, is no runtime it binds
            // to: a use that does I/O fails there (`no-runtime-context`).
            let reg = registers.get(&res).copied().flatten();
            for (inst, _) in facts.known_instances(fid) {
                if !reactor_needs::binds_under(facts, inst, reg) {
                    continue;
                }
                list.push(Binding {
                    inst,
                    func: fid,
                    span: ev.span,
                    is_use,
                });
            }
        }
    }
    // Where the resources reported here are made: the flow does not report them again.
    let mut told: Vec<Span> = Vec::new();
    let resets = resets(program, facts);
    for res in order {
        let mut list = bindings.remove(&res).unwrap_or_default();
        // Reset under a runtime, the resource is tied to none when the next one starts.
        if let Some(&(span, ..)) = created.get(&res) {
            list.retain(|b| {
                !resets
                    .iter()
                    .any(|&(o, i)| i == b.inst && facts.flow.object(o).span == span)
            });
        }
        if let ResourceRef::Local(v) = res {
            // A local lives for one call of its owner: runtimes the owner itself runs under
            // differ between calls, not within one, so only runtimes entered below it count;
            // an owner that runs under one runtime only runs there in every call, and a
            // runtime entered below it (a thread's own) meets that one.
            let owner = program.var(v).owner;
            let mut inherited: Vec<InstId> = facts.known_instances(owner).map(|(i, _)| i).collect();
            inherited.sort_unstable();
            inherited.dedup();
            let rust = program.func(owner).language == Language::Rust;
            if inherited.len() > 1 || !rust {
                list.retain(|b| !inherited.contains(&b.inst));
            }
        }
        // The first runtime to bind the resource owns it; later ones are the problem. A
        // creation that binds comes before every use, wherever the files put them.
        // Between uses, the runtime entered first in the source binds first.
        list.sort_by_key(|b| {
            let site = facts.instance(b.inst).site;
            (
                b.is_use,
                site.file,
                site.start,
                b.span.file,
                b.span.start,
                b.inst,
            )
        });
        let mut reported: Vec<FnId> = Vec::new();
        for (k, b) in list.iter().enumerate() {
            if !b.is_use || reported.contains(&b.func) {
                continue;
            }
            let inst = facts.instance(b.inst);
            let meets = |o: &&Binding| o.inst != b.inst && inst.can_meet(facts.instance(o.inst));
            let other = match made_under(&list) {
                // Made under one runtime, the resource belongs to it, whichever use comes first.
                Some(made) => (made.inst != b.inst && meets(&made)).then_some(made),
                None => list[..k].iter().find(meets),
            };
            // Asked only without another runtime: outliving the instance costs a scan.
            let again = other.is_none()
                && inst.repeated
                && outlives_instance(program, facts, res, b, &created);
            if other.is_none() && !again {
                continue;
            }
            reported.push(b.func);
            if let Some(c) = created.get(&res) {
                told.push(c.0);
            }
            if let ResourceRef::Local(v) = res {
                let flow = &facts.flow;
                told.extend(
                    flow.values(Place::Var(v))
                        .iter()
                        .map(|(o, _)| flow.object(*o).span),
                );
            }
            out.push(finding(program, facts, res, b, other.copied(), &created));
        }
    }
    followed(program, facts, kb, &told, out);
    flowed(program, facts, kb, out);
}

/// The one creation among `list` that binds the resource where it is made, when it is made
/// under one runtime only (made by code that runs under several, which of them made it is not
/// known).
fn made_under(list: &[Binding]) -> Option<&Binding> {
    let mut made = list.iter().filter(|x| !x.is_use);
    let first = made.next()?;
    made.all(|x| x.inst == first.inst).then_some(first)
}

/// What each named resource (a local, a static) registers with, from the creation that makes
/// it, or from a static's type; `None` when unknown or when creations disagree.
fn registrations(
    program: &Program,
    facts: &Facts,
) -> HashMap<ResourceRef, Option<reactor_needs::Registers>> {
    let mut out: HashMap<ResourceRef, Option<reactor_needs::Registers>> = HashMap::new();
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            if let EventKind::Create {
                resource: Some(r), ..
            } = &ev.kind
            {
                let reg = reactor_needs::of_event(program, facts, fid, i);
                out.entry(*r)
                    .and_modify(|x| {
                        if *x != reg {
                            *x = None
                        }
                    })
                    .or_insert(reg);
            }
        }
    }
    for (g, global) in program.globals.iter().enumerate() {
        let r = ResourceRef::Global(crate::model::GlobalId(g as u32));
        if global.init.is_none() || !out.contains_key(&r) {
            let reactor = facts.reactor(&global.api);
            out.entry(r)
                .or_insert((reactor != crate::model::Executor::Unknown).then_some(
                    reactor_needs::Registers {
                        reactor,
                        when_made: false,
                    },
                ));
        }
    }
    out
}

/// How long a resource object lives, as far as the flow shows.
enum Home {
    /// Kept in a module global, a cached factory's result or another static: for the process.
    Process,
    /// For one call of a function, kept in its locals (or in an object it builds); the loop
    /// depth at which the object enters that function.
    Call(FnId, u16),
}

/// Where a resource object lives: the function that makes it, or, when it returns the object
/// or keeps it in an attribute, the caller that made the call (the object's calling context).
/// `None` when the flow cannot tell (the caller passes it on further up, or is unknown).
fn home(
    program: &Program,
    facts: &Facts,
    o: ObjId,
    statics: &[ObjId],
    fields: &[ObjId],
) -> Option<Home> {
    let flow = &facts.flow;
    // Made lazily for a value that keeps it (a `OnceLock` field): it lives as that value does,
    // made once, under whatever runtime first asks for it.
    let mut o = o;
    for depth in 0.. {
        if statics.contains(&o) || made_for_static(program, flow, o) {
            return Some(Home::Process);
        }
        match flow.lazy_owners(o).as_slice() {
            [] => break,
            [owner] if depth < 8 => o = *owner,
            _ => return None,
        }
    }
    let obj = flow.object(o);
    let returned = |f: FnId| flow.values(Place::Ret(f)).iter().any(|(x, _)| *x == o);
    // A Rust object handed to a local of a body enclosing the one that makes it (a channel
    // that a thread's closure sends on) lives for that body's call.
    // The maker is the helper's caller when a helper made it and returned it.
    let maker = match obj.ctx {
        Some((caller, _)) if returned(obj.func) => caller,
        _ => obj.func,
    };
    if program.func(obj.func).language == Language::Rust
        && !returned(maker)
        && !fields.contains(&o)
        && let Some(held) = flow.holders(program, o)
    {
        let (mut child, mut up, mut found) = (maker, program.func(maker).parent, None);
        while let Some(p) = up {
            if held.contains(&p) {
                found = Some((p, child));
            }
            child = p;
            up = program.func(p).parent;
        }
        if let Some((p, child)) = found {
            let depth = program
                .func(p)
                .events
                .iter()
                .find(|e| matches!(e.kind, EventKind::Run { body, .. } if body == child))
                .map_or(0, |e| e.loop_depth);
            return Some(Home::Call(p, depth));
        }
    }
    if !returned(obj.func) && !fields.contains(&o) {
        let depth = program
            .func(obj.func)
            .events
            .get(obj.event as usize)?
            .loop_depth;
        return Some(Home::Call(obj.func, depth));
    }
    // A Python object that a method other than the constructor keeps in an attribute of its own
    // instance (a lazy accessor, a cached property) lives as long as that instance: made on
    // the first read, it is the one every later read gets. The instance lives where the
    // program builds the class's instances, when it builds them in one place.
    if program.func(obj.func).language == Language::Python && fields.contains(&o) {
        let keeper =
            std::iter::once(obj.func).chain(obj.ctx.filter(|_| returned(obj.func)).map(|c| c.0));
        if let Some(owner) = keeper
            .filter_map(|f| kept_by_own_method(program, flow, f, o))
            .next()
        {
            let sites: Vec<_> = program
                .flow
                .built
                .iter()
                .filter(|b| b.owner == owner)
                .collect();
            if let [site] = sites.as_slice()
                && let Some(f) = site.func
            {
                if program.func(f).kind == FnKind::Module && !facts.repeated[f.0 as usize] {
                    return Some(Home::Process);
                }
                return Some(Home::Call(f, site.loop_depth));
            }
        }
    }
    // A Python object that its maker hands to another function that keeps it in an attribute
    // (`Api(client=httpx.AsyncClient())`, a constructor of another class) is made once per
    // call of the maker, and once per process by a module that runs once. Not so for a
    // constructor building it for its own instance (`self.client = ..`, directly or through a
    // constructor it calls), whose instance its caller builds.
    if program.func(obj.func).language == Language::Python
        && fields.contains(&o)
        && !returned(obj.func)
        && !program.func(obj.func).name.ends_with(".__init__")
        && !stores(program, flow, obj.func, o)
    {
        let f = program.func(obj.func);
        if runs_once(program, facts, obj.func) {
            return Some(Home::Process);
        }
        let depth = f.events.get(obj.event as usize)?.loop_depth;
        return Some(Home::Call(obj.func, depth));
    }
    // A Rust object kept in a field by a body that only a static's initialiser runs
    // (`CELL.get_or_init(|| Store::connect(url))`): made once, it lives for the process.
    if program.func(obj.func).language == Language::Rust
        && fields.contains(&o)
        && !returned(obj.func)
        && (obj.ctx.is_some() || !program.func(obj.func).callers_unknown)
        && run_by_static_init(program, facts, obj.func)
    {
        return Some(Home::Process);
    }
    // A Rust object kept in a field by a body with no calling context of its own (an entry, a
    // body called once) is counted as that body's: only runtimes entered below it meet it,
    // which may miss a use elsewhere but never adds one.
    if obj.ctx.is_none() && !returned(obj.func) && program.func(obj.func).language == Language::Rust
    {
        let depth = program
            .func(obj.func)
            .events
            .get(obj.event as usize)?
            .loop_depth;
        return Some(Home::Call(obj.func, depth));
    }
    let (mut caller, mut event) = obj.ctx?;
    // Kept by the constructor that makes it in an attribute of its own instance, which a
    // module builds at import (and runs no more than once): it lives for the process.
    if fields.contains(&o)
        && program.func(obj.func).name.ends_with(".__init__")
        && runs_once(program, facts, caller)
    {
        return Some(Home::Process);
    }
    for _ in 0..8 {
        // A body that `asyncio.run` or `run_until_complete` drives hands what it returns to the
        // code that runs the loop.
        // So does a Python function that returns it (`def connect(): return
        // asyncio.run(open_session())`) to its one caller.
        for _ in 0..8 {
            if !returned(caller) {
                break;
            }
            let run = program.func(caller).parent.and_then(|parent| {
                let run = program.func(parent).events.iter().position(|e| {
                    matches!(e.kind, EventKind::Run { body, how: RunKind::BlockOn, .. } if body == caller)
                })?;
                Some((parent, run as u32))
            });
            (caller, event) = match run {
                Some(run) => run,
                None if program.func(caller).language == Language::Python => {
                    match facts.callers[caller.0 as usize].as_slice() {
                        [site] if site.nested.is_none() => (site.caller, site.event as u32),
                        _ => return None,
                    }
                }
                None => return None,
            };
        }
        // Kept in an attribute of an instance that a constructor builds for its own instance
        // (`self.inner = Inner()`): it lives as long as the outer instance, which the
        // constructor's one caller builds.
        if !fields.contains(&o) || !program.func(caller).name.ends_with(".__init__") {
            break;
        }
        let [site] = facts.callers[caller.0 as usize].as_slice() else {
            return None;
        };
        (caller, event) = (site.caller, site.event as u32);
        // An instance a module builds at import (and runs no more than once) lives for the
        // process.
        if runs_once(program, facts, caller) {
            return Some(Home::Process);
        }
    }
    let depth = program.func(caller).events.get(event as usize)?.loop_depth;
    Some(Home::Call(caller, depth))
}

/// Whether function `f` makes what it keeps for the whole process: a module body that runs no
/// more than once, or a pytest fixture wider than one test, whose value every test of its
/// scope is handed.
fn runs_once(program: &Program, facts: &Facts, f: FnId) -> bool {
    let func = program.func(f);
    (func.kind == FnKind::Module && !facts.repeated[f.0 as usize])
        || (func.language == Language::Python
            && program
                .globals
                .iter()
                .any(|g| g.storage == StorageKind::Fixture && g.init == Some(f)))
}

/// Whether the program builds the instances of class `owner` in one place, outside loops, in
/// a function that runs once per process (a module body, a fixture wider than one test).
fn one_per_process(program: &Program, facts: &Facts, owner: &str) -> bool {
    let mut sites = program.flow.built.iter().filter(|b| b.owner == owner);
    match (sites.next(), sites.next()) {
        (Some(site), None) => {
            site.loop_depth == 0 && site.func.is_some_and(|f| runs_once(program, facts, f))
        }
        _ => false,
    }
}

/// Whether function `f` runs once per process at most: its one caller, or a caller of that
/// one up the chain of single callers, is a static's initialiser, run by its first reader.
fn run_by_static_init(program: &Program, facts: &Facts, f: FnId) -> bool {
    let mut f = f;
    for _ in 0..8 {
        let [site] = facts.callers[f.0 as usize].as_slice() else {
            return false;
        };
        if site.nested.is_none() && program.reach(site.caller, site.event) == Reach::Once {
            return true;
        }
        f = site.caller;
    }
    false
}

/// Whether object `o` is made by a static's initialiser for the value it keeps, in place or
/// in a field of that value (`CELL.get_or_init(|| Api { http: Client::new() })`): made once,
/// it lives for the process.
fn made_for_static(program: &Program, flow: &Flow, o: ObjId) -> bool {
    let obj = flow.object(o);
    let f = program.func(obj.func);
    let Some(EventKind::Create {
        resource: Some(ResourceRef::Global(g)),
        ..
    }) = f.events.get(obj.event as usize).map(|e| &e.kind)
    else {
        return false;
    };
    f.language == Language::Rust
        && program
            .globals
            .get(g.0 as usize)
            .is_some_and(|g| g.storage == StorageKind::Static)
}

/// The class (its cells' owner) of the instance attribute that method `f`, not a
/// constructor, fills once with object `o` (a lazy accessor, a cached property), when `f` is a
/// method of that class.
fn kept_by_own_method<'p>(program: &'p Program, flow: &Flow, f: FnId, o: ObjId) -> Option<&'p str> {
    let name = &program.func(f).name;
    if name.ends_with(".__init__") {
        return None;
    }
    program.flow.facts.iter().find_map(|fact| {
        // A store that replaces nothing: the attribute filled once per instance.
        let FactKind::Store {
            cell,
            from,
            overwrite: false,
        } = fact.kind
        else {
            return None;
        };
        let cell = program.flow.cell(cell);
        let class = cell.owner.rsplit('.').next().unwrap_or(&cell.owner);
        (fact.func == f
            && cell.kind == CellKind::Field
            && !cell.name.ends_with("[]")
            && name.strip_prefix(class).is_some_and(|m| m.starts_with('.'))
            && flow.values(from).iter().any(|(x, _)| *x == o))
        .then_some(cell.owner.as_str())
    })
}

/// Whether function `f` itself stores object `o` in a field or a static.
fn stores(program: &Program, flow: &Flow, f: FnId, o: ObjId) -> bool {
    program.flow.facts.iter().any(|fact| {
        fact.func == f
            && matches!(fact.kind, FactKind::Store { from, .. }
                if flow.values(from).iter().any(|(x, _)| *x == o))
    })
}

/// Resources followed by the flow from where they are made (a factory, a cached or lazy
/// getter, a property, a field, a parameter, an `Arc`) to the methods called on them or the
/// library calls handed them: a use under a second runtime or event loop that can meet the
/// first in one process, or under one made anew each time while the resource outlives it.
/// A Rust resource that the checks on named locals and statics already reported (`told`, by
/// where it is made) is not reported again; a Rust use counts under a runtime only when the
/// code running under it brings the object in (see [`carried`]).
fn followed(program: &Program, facts: &Facts, kb: &Kb, told: &[Span], out: &mut Vec<Finding>) {
    let flow = &facts.flow;
    let introduced = introductions(program, flow);
    let injected = injected(program, flow);
    let given_objects: HashSet<ObjId> = injected.iter().map(|&(_, o)| o).collect();
    let mut uses: Vec<(ObjId, Binding)> = Vec::new();
    for fact in &program.flow.facts {
        let FactKind::Use { place, method } = fact.kind else {
            continue;
        };
        let rust = program.func(fact.func).language == Language::Rust;
        for (o, _) in flow.values(place) {
            if flow.object(o).kind != ObjKind::Resource
                || (rust && told.contains(&flow.object(o).span))
                || checks_state(program, kb, flow, o, method)
            {
                continue;
            }
            let reg = reactor_needs::of_object(program, facts, o);
            let given = given_objects.contains(&o);
            for (inst, entry) in facts.known_instances(fact.func) {
                // What pytest hands a test counts under the runtimes that test enters only,
                // whatever fields or shared functions it reaches later.
                let brought = if given {
                    let chain = facts.chain(fact.func, entry, 64);
                    let root = chain.last().map_or(fact.func, |c| c.0);
                    injected.contains(&(root, o))
                } else if rust {
                    carried(program, facts, &introduced, fact.func, entry, o)
                } else {
                    passed(program, facts, &introduced, fact.func, entry, o)
                };
                if !brought || !reactor_needs::binds_under(facts, inst, reg) {
                    continue;
                }
                uses.push((
                    o,
                    Binding {
                        inst,
                        func: fact.func,
                        span: fact.span,
                        is_use: true,
                    },
                ));
            }
        }
    }
    if uses.is_empty() {
        return;
    }
    // A Python resource that binds to the loop it is made under (an aiohttp session, an
    // asyncpg pool) is bound there, whether or not it is used there: made by a coroutine that
    // `asyncio.run` drives in a constructor, it is bound to a loop closed right after.
    let used: HashSet<ObjId> = uses.iter().map(|(o, _)| *o).collect();
    for (i, obj) in flow.objects.iter().enumerate() {
        let o = ObjId(i as u32);
        let f = program.func(obj.func);
        if obj.kind != ObjKind::Resource
            || f.language != Language::Python
            || !used.contains(&o)
            || !matches!(
                f.events.get(obj.event as usize).map(|e| &e.kind),
                Some(EventKind::Create {
                    binds_now: true,
                    ..
                })
            )
        {
            continue;
        }
        for (inst, _) in facts.known_instances(obj.func) {
            uses.push((
                o,
                Binding {
                    inst,
                    func: obj.func,
                    span: obj.span,
                    is_use: false,
                },
            ));
        }
    }
    let (mut statics, mut fields, mut merged) = (Vec::new(), Vec::new(), Vec::new());
    for (i, cell) in program.flow.cells.iter().enumerate() {
        let values = flow.values(Place::Cell(CellId(i as u32)));
        // What a function of a library makes for callers outside the package stands beside
        // what it makes for the package's own calls of it: no second instance of the package.
        let outside = |o: ObjId| {
            let obj = flow.object(o);
            obj.ctx.is_none()
                && program.func(obj.func).callers_unknown
                && values.iter().any(|&(x, _)| {
                    let other = flow.object(x);
                    x != o
                        && other.func == obj.func
                        && other.event == obj.event
                        && other.ctx.is_some()
                })
        };
        let instances = values.iter().filter(|&&(o, _)| !outside(o)).count();
        let list = match cell.kind {
            CellKind::Static => &mut statics,
            // The elements of a container attribute (a per-key cache) of the one instance a
            // module or a wide fixture builds live for the process, side by side.
            CellKind::Field
                if cell.name.ends_with("[]") && one_per_process(program, facts, &cell.owner) =>
            {
                &mut statics
            }
            // One cell stands for the attribute of every instance of the class: objects made
            // for different instances meet there, and which one a use sees is unknown.
            CellKind::Field if instances > 1 => &mut merged,
            CellKind::Field => &mut fields,
        };
        list.extend(values.into_iter().map(|(o, _)| o));
    }
    // Reset under a runtime, the resource is tied to none when the next one starts.
    let resets = resets(program, facts);
    uses.retain(|(o, b)| !resets.contains(&(*o, b.inst)));
    // The creation that binds an object comes before its uses, whichever file holds them.
    // Between uses, the runtime entered first in the source binds first.
    uses.sort_by_key(|(o, b)| {
        let site = facts.instance(b.inst).site;
        (
            *o,
            b.is_use,
            site.file,
            site.start,
            b.span.file,
            b.span.start,
            b.inst,
        )
    });
    let mut reported: Vec<(ObjId, FnId)> = Vec::new();
    for group in uses.chunk_by(|a, b| a.0 == b.0) {
        let o = group[0].0;
        if merged.contains(&o) {
            continue;
        }
        // Bound to a loop that hands it out, it stays bound to that loop, however long the
        // code it goes to keeps it: used under another loop, it fails.
        if let Some(r) = run_results::left_loop(program, facts, o)
            && let Some(made) = group.iter().map(|(_, b)| b).find(|b| b.inst == r)
        {
            let bound = facts.instance(r);
            for (_, b) in group {
                let inst = facts.instance(b.inst);
                if !b.is_use
                    || b.inst == r
                    || inst.kind == InstanceKind::Unknown
                    || !inst.can_meet(bound)
                    || reported.contains(&(o, b.func))
                {
                    continue;
                }
                reported.push((o, b.func));
                if !out
                    .iter()
                    .any(|f| f.rule == "cross-runtime-resource" && f.primary == b.span)
                {
                    out.push(followed_finding(program, facts, o, b, Some(*made)));
                }
            }
        }
        let Some(home) = home(program, facts, o, &statics, &fields) else {
            continue;
        };
        let mut list: Vec<Binding> = group.iter().map(|(_, b)| *b).collect();
        let rust_peers = program.func(list[0].func).language == Language::Rust;
        if let Home::Call(h, _) = home {
            // Each call of the home function makes its own object: runtimes it runs under
            // differ between calls, not within one. The object meets only the runtimes entered
            // by the code that call runs; a function shared with other callers also runs
            // under theirs, with their objects.
            // A Rust home function that runs under one runtime only runs there in every
            // call: that runtime meets the ones entered below it.
            let mut inherited: Vec<InstId> = facts.known_instances(h).map(|(i, _)| i).collect();
            inherited.sort_unstable();
            inherited.dedup();
            let one_home = rust_peers && inherited.len() == 1;
            let below = reached_from(program, h);
            list.retain(|b| {
                let entered_in = match facts.instance(b.inst).kind {
                    InstanceKind::Built(f, _) | InstanceKind::Fresh(f, _) => Some(f),
                    _ => None,
                };
                if inherited.contains(&b.inst) {
                    return one_home;
                }
                entered_in.is_some_and(|f| below[f.0 as usize])
            });
            // The home function runs under its runtime before it enters any below it: that
            // one binds first, wherever the files put the others.
            if one_home {
                list.sort_by_key(|b| (b.is_use, !inherited.contains(&b.inst)));
            }
        }
        for (k, b) in list.iter().enumerate() {
            if !b.is_use || reported.contains(&(o, b.func)) {
                continue;
            }
            let inst = facts.instance(b.inst);
            let meets = |x: &&Binding| x.inst != b.inst && inst.can_meet(facts.instance(x.inst));
            // Runtimes of entry attributes (tests) run in no fixed order: a Rust use under one
            // is shared with a use under another wherever that one sits.
            let peer = |x: &&Binding| {
                rust_peers
                    && matches!(inst.kind, InstanceKind::Attribute(_))
                    && matches!(facts.instance(x.inst).kind, InstanceKind::Attribute(_))
                    && meets(x)
            };
            let other = match made_under(&list) {
                // Made under one runtime, the resource belongs to it, whichever use comes first.
                Some(made) => (made.inst != b.inst && meets(&made)).then_some(made),
                None => list[..k]
                    .iter()
                    .find(meets)
                    .or_else(|| list[k + 1..].iter().find(peer)),
            };
            let again = other.is_none()
                && inst.repeated
                && match home {
                    Home::Process => !remade_each_run(program, facts, o, b.inst),
                    Home::Call(h, depth) => match inst.kind {
                        // A loop made in a loop of the home function, after the object.
                        InstanceKind::Built(f, e) | InstanceKind::Fresh(f, e) if f == h => {
                            program.func(f).events[e].loop_depth > depth
                        }
                        // A loop made by a function that runs several times within one run
                        // of the home function: called by it in a loop, or more than once.
                        InstanceKind::Built(f, _) | InstanceKind::Fresh(f, _) => {
                            runs_again(program, h, depth, f, 8)
                        }
                        _ => false,
                    },
                };
            if other.is_none() && !again {
                continue;
            }
            reported.push((o, b.func));
            if out
                .iter()
                .any(|f| f.rule == "cross-runtime-resource" && f.primary == b.span)
            {
                continue;
            }
            out.push(followed_finding(program, facts, o, b, other.copied()));
        }
    }
}

/// Whether every store of object `o` in a static is made by code running under runtime
/// instance `inst` that does not read that static back (`global client; client = Client()` in a
/// coroutine of each run): each run of `inst` stores a client of its own before using it, so
/// the one a run uses is not the one an earlier run stored. A store that reads the static too
/// (an accessor that makes the client only when none is kept yet) keeps the first run's.
fn remade_each_run(program: &Program, facts: &Facts, o: ObjId, inst: InstId) -> bool {
    let flow = &facts.flow;
    let reads = |f: FnId, c: CellId| {
        program.flow.facts.iter().any(|x| {
            x.func == f
                && match x.kind {
                    FactKind::Assign { from, .. } => from == Place::Cell(c),
                    FactKind::Load { cell, .. } => cell == c,
                    FactKind::Use { place, .. } => place == Place::Cell(c),
                    _ => false,
                }
        })
    };
    let mut stores = program.flow.facts.iter().filter_map(|x| match x.kind {
        FactKind::Assign {
            to: Place::Cell(c),
            from,
        } if program.flow.cell(c).kind == CellKind::Static
            && flow.values(from).iter().any(|(v, _)| *v == o) =>
        {
            Some((x.func, c))
        }
        _ => None,
    });
    // A cached factory's result is kept by the cache, which runs the factory once.
    let cached = |f: FnId| {
        program
            .globals
            .iter()
            .any(|g| g.storage == StorageKind::Cached && g.init == Some(f))
    };
    let mut any = false;
    let all = stores.all(|(f, c)| {
        any = true;
        f == flow.object(o).func
            && !cached(f)
            && !reads(f, c)
            && facts.known_instances(f).any(|(i, _)| i == inst)
    });
    any && all
}

/// The resource objects that code running under a runtime instance resets (`engine.dispose()`),
/// with that instance.
fn resets(program: &Program, facts: &Facts) -> HashSet<(ObjId, InstId)> {
    let flow = &facts.flow;
    let mut out = HashSet::new();
    for fact in &program.flow.facts {
        let FactKind::Reset { place } = fact.kind else {
            continue;
        };
        for (o, _) in flow.values(place) {
            for (inst, _) in facts.known_instances(fact.func) {
                out.insert((o, inst));
            }
        }
    }
    out
}

/// Whether `method`, called on object `o`, only reads its state (`put` of an `asyncio.Queue`
/// reached through an accessor): the knowledge base says so for the type that made it.
fn checks_state(program: &Program, kb: &Kb, flow: &Flow, o: ObjId, method: Option<u16>) -> bool {
    let Some(method) = method else {
        return false;
    };
    let obj = flow.object(o);
    let f = program.func(obj.func);
    match f.events.get(obj.event as usize).map(|e| &e.kind) {
        Some(EventKind::Create { api, .. }) => kb.checks_state(f.language, api, method),
        _ => false,
    }
}

/// The objects that functions receive in their own parameters from outside the program's
/// calls (what a pytest fixture hands the tests that name it), by receiving function.
fn injected(program: &Program, flow: &Flow) -> HashSet<(FnId, ObjId)> {
    let mut out = HashSet::new();
    for fact in &program.flow.facts {
        if let FactKind::Assign {
            to: Place::Param(g, _),
            from,
        } = fact.kind
            && g == fact.func
        {
            out.extend(flow.values(from).into_iter().map(|(o, _)| (g, o)));
        }
    }
    out
}

/// The objects each function brings in itself: makes, reads from a field or a static, or gets
/// back from a call (not the ones its callers hand it).
fn introductions(program: &Program, flow: &Flow) -> HashSet<(FnId, ObjId)> {
    let mut out = HashSet::new();
    let owner = |p: Place| match p {
        Place::Var(v) => Some(program.var(v).owner),
        Place::Temp(t) => program.flow.temp_owner.get(t as usize).copied(),
        _ => None,
    };
    for fact in &program.flow.facts {
        // A nested body that puts a value into a local of an enclosing one (a thread's closure
        // sending on a channel its parent made) brings it into that body.
        if let FactKind::Assign { to, from } = fact.kind
            && let Some(g) = owner(to)
            && g != fact.func
        {
            for (o, _) in flow.values(from) {
                out.insert((g, o));
            }
        }
        let place = match fact.kind {
            FactKind::New { to, .. } => to,
            FactKind::Load { cell, .. }
            | FactKind::Assign {
                from: Place::Cell(cell),
                ..
            }
            | FactKind::Use {
                place: Place::Cell(cell),
                ..
            } => Place::Cell(cell),
            FactKind::Call {
                result: Some(r), ..
            } => r,
            _ => continue,
        };
        for (o, _) in flow.values(place) {
            out.insert((fact.func, o));
        }
    }
    out
}

/// Whether the code that runs `f` in context `entry` brings object `o` in: a function on the
/// chain of calls from the runtime's entry down to `f`, a body enclosing one of them, or a
/// caller of the function that enters the runtime (values handed in from outside it). A
/// function shared by several callers holds their objects too, but runs under each caller's
/// runtime with that caller's objects only.
fn carried(
    program: &Program,
    facts: &Facts,
    introduced: &HashSet<(FnId, ObjId)>,
    f: FnId,
    entry: &CtxEntry,
    o: ObjId,
) -> bool {
    let chain = facts.chain(f, entry, 64);
    let root = chain.last().map_or(f, |c| c.0);
    let mut seen: Vec<FnId> = Vec::new();
    let mut work: Vec<FnId> = std::iter::once(f)
        .chain(chain.iter().map(|c| c.0))
        .collect();
    let mut callers_of = vec![root];
    while let Some(g) = work.pop() {
        if seen.contains(&g) || seen.len() > 256 {
            continue;
        }
        seen.push(g);
        if introduced.contains(&(g, o)) {
            return true;
        }
        if let Some(p) = program.func(g).parent {
            work.push(p);
            if callers_of.contains(&g) {
                callers_of.push(p);
            }
        }
        if callers_of.contains(&g) {
            for site in &facts.callers[g.0 as usize] {
                callers_of.push(site.caller);
                work.push(site.caller);
            }
        }
    }
    false
}

/// Whether the calls on the path that runs `f` in context `entry` pass object `o` down to
/// it: going up the path, a function that brings `o` in itself ends the walk, and a call
/// whose arguments do not hold `o` shows that this path does not carry it (a parameter holds
/// the values of every caller, but each call hands only its own). Unknown steps (a nested
/// body, a call not found among the flow facts) count as carrying it.
fn passed(
    program: &Program,
    facts: &Facts,
    introduced: &HashSet<(FnId, ObjId)>,
    f: FnId,
    entry: &CtxEntry,
    o: ObjId,
) -> bool {
    passed_from(program, facts, introduced, f, entry, o, &mut Vec::new())
}

/// [`passed`] for one step up the path, over every context of the caller on the same runtime.
fn passed_from(
    program: &Program,
    facts: &Facts,
    introduced: &HashSet<(FnId, ObjId)>,
    callee: FnId,
    entry: &CtxEntry,
    o: ObjId,
    seen: &mut Vec<FnId>,
) -> bool {
    let Some((caller, span)) = entry.via else {
        return true;
    };
    if introduced.contains(&(callee, o))
        || program.func(callee).parent.is_some()
        || seen.contains(&caller)
        || seen.len() > 64
    {
        return true;
    }
    let flow = &facts.flow;
    let events = &program.func(caller).events;
    let mut sites = program
        .flow
        .facts
        .iter()
        .filter_map(|fact| match &fact.kind {
            FactKind::Call { event, args, .. }
                if fact.func == caller
                    && events.get(*event as usize).is_some_and(|ev| {
                        ev.span == span
                            && matches!(&ev.kind, EventKind::Call { callees, .. }
                            if callees.contains(&callee))
                    }) =>
            {
                Some(args)
            }
            _ => None,
        });
    let holds = |args: &Vec<Option<Place>>| {
        args.iter()
            .flatten()
            .any(|&p| flow.values(p).iter().any(|(x, _)| *x == o))
    };
    let Some(first) = sites.next() else {
        return true;
    };
    if !holds(first) && !sites.any(holds) {
        return false;
    }
    seen.push(caller);
    let ups: Vec<&CtxEntry> = facts
        .ctx(caller)
        .iter()
        .filter(|c| c.ctx == entry.ctx)
        .collect();
    let out = ups.is_empty()
        || ups
            .iter()
            .any(|e| passed_from(program, facts, introduced, caller, e, o, seen));
    seen.pop();
    out
}

/// The functions that `h` calls or runs, directly or not, and `h` itself.
fn reached_from(program: &Program, h: FnId) -> Vec<bool> {
    let mut seen = vec![false; program.functions.len()];
    let mut work = vec![h];
    seen[h.0 as usize] = true;
    while let Some(f) = work.pop() {
        for ev in &program.func(f).events {
            let next: &[FnId] = match &ev.kind {
                EventKind::Call { callees, .. } => callees,
                EventKind::Run { body, .. } => std::slice::from_ref(body),
                _ => &[],
            };
            for &c in next {
                if !std::mem::replace(&mut seen[c.0 as usize], true) {
                    work.push(c);
                }
            }
        }
    }
    seen
}

/// How findings name what object `o`'s creating event made (`httpx.AsyncClient`).
fn made_name(program: &Program, facts: &Facts, o: ObjId) -> String {
    let obj = facts.flow.object(o);
    match program
        .func(obj.func)
        .events
        .get(obj.event as usize)
        .map(|e| &e.kind)
    {
        Some(EventKind::Create { api, made_as, .. }) => {
            super::explain::made_name(api, made_as.as_deref().map(String::as_str))
        }
        _ => "resource".to_string(),
    }
}

fn followed_finding(
    program: &Program,
    facts: &Facts,
    o: ObjId,
    b: &Binding,
    other: Option<Binding>,
) -> Finding {
    let obj = facts.flow.object(o);
    let api = made_name(program, facts, o);
    let inst = facts.instance(b.inst);
    let lang = program.func(b.func).language;
    let message = first_ran_message(lang, &format!("this {api}"), &inst.what);
    let mut f = Finding::new("cross-runtime-resource", Severity::Error, b.span, message)
        .primary_label(format!("used under {}", inst.what))
        .group(obj.span)
        .label(
            obj.span,
            match obj.ctx {
                Some((caller, _)) => format!(
                    "created here, for the call from `{}`",
                    program.func(caller).name
                ),
                None => "created here".to_string(),
            },
        );
    match other {
        Some(x) => {
            let xi = facts.instance(x.inst);
            f = f.label(inst.site, format!("{} is entered here", inst.what));
            let how = if x.is_use {
                "also used"
            } else {
                "bound when made"
            };
            f = f.label(x.span, format!("{how} under {}", xi.what));
            f = f.label(xi.site, format!("{} is entered here", xi.what));
        }
        None => {
            f = f.label(
                inst.site,
                format!("{} is made anew each time this code runs", inst.what),
            );
        }
    }
    with_failure_and_fix(f, lang)
}

/// Resources that travel (through returns, fields, statics, `block_on` results) from the
/// runtime they were bound to at creation into code that only runs on other runtimes: both
/// runtimes are objects of the flow (a helper that builds a runtime per call gives one per
/// call site), and none the use runs on is one the resource is bound to.
fn flowed(program: &Program, facts: &Facts, kb: &Kb, out: &mut Vec<Finding>) {
    let flow = &facts.flow;
    let mut reported: Vec<(FnId, ObjId)> = Vec::new();
    let mut introduced: Option<HashSet<(FnId, ObjId)>> = None;
    for fact in &program.flow.facts {
        let FactKind::Use { place, method } = fact.kind else {
            continue;
        };
        let used_on = flow.runs_on(fact.func);
        // Code on runtimes the flow has no object for (an entry attribute's) is compared by
        // runtime instance below.
        let by_instance = used_on.is_empty();
        if by_instance
            && (program.func(fact.func).language != Language::Rust
                || facts.known_instances(fact.func).next().is_none())
        {
            continue;
        }
        for (o, _) in flow.values(place) {
            let obj = flow.object(o);
            if obj.kind != ObjKind::Resource
                || reported.contains(&(fact.func, o))
                || checks_state(program, kb, flow, o, method)
            {
                continue;
            }
            let binds_now = matches!(
                program
                    .func(obj.func)
                    .events
                    .get(obj.event as usize)
                    .map(|e| &e.kind),
                Some(EventKind::Create {
                    binds_now: true,
                    ..
                })
            );
            let bound_to = flow.runs_on(obj.func);
            if !binds_now || bound_to.is_empty() {
                continue;
            }
            if by_instance {
                // A runtime that a field or a static keeps still drives what it bound: used
                // from another runtime, the resource works while its own runtime lives.
                if bound_to.iter().any(|&r| flow.holders(program, r).is_none()) {
                    continue;
                }
                let introduced = introduced.get_or_insert_with(|| introductions(program, flow));
                if let Some(f) = by_instances(program, facts, introduced, fact.func, fact.span, o) {
                    reported.push((fact.func, o));
                    if !out
                        .iter()
                        .any(|x| x.rule == "cross-runtime-resource" && x.primary == fact.span)
                    {
                        out.push(f);
                    }
                }
                continue;
            }
            if used_on.iter().any(|r| bound_to.contains(r)) {
                continue;
            }
            // Once per object and function, counting the finding already made at this use.
            reported.push((fact.func, o));
            if out
                .iter()
                .any(|f| f.rule == "cross-runtime-resource" && f.primary == fact.span)
            {
                continue;
            }
            let name = match place {
                Place::Cell(c) => {
                    let c = program.flow.cell(c);
                    if c.owner.is_empty() {
                        c.name.clone()
                    } else {
                        format!("{}.{}", c.owner, c.name)
                    }
                }
                Place::Var(v) => program.var(v).name.clone(),
                _ => String::new(),
            };
            // A value reached through a parameter or a temporary has no name of its own.
            let name = if name.is_empty() {
                "this resource".to_string()
            } else {
                format!("`{name}`")
            };
            let lang = program.func(fact.func).language;
            let (bound, used) = (flow.object(bound_to[0]), flow.object(used_on[0]));
            let message = match lang {
                Language::Rust => format!(
                    "{name} is bound to the runtime it was created on but is used here under another runtime"
                ),
                Language::Python => format!(
                    "{name} is bound to the event loop it was created on but is used here under another event loop"
                ),
            };
            let mut f = Finding::new(
                "cross-runtime-resource",
                Severity::Error,
                fact.span,
                message,
            )
            .primary_label("used under another runtime")
            .group(obj.span)
            .label(
                obj.span,
                "created here, bound to the runtime running this code",
            );
            f = f.label(
                bound.span,
                match bound.ctx {
                    Some((caller, _)) => format!(
                        "that runtime is built here, for the call from `{}`",
                        program.func(caller).name
                    ),
                    None => "that runtime is built here".to_string(),
                },
            );
            f = f.label(
                used.span,
                match used.ctx {
                    Some((caller, _)) => format!(
                        "the runtime of this use is built here, for the call from `{}`",
                        program.func(caller).name
                    ),
                    None => "the runtime of this use is built here".to_string(),
                },
            );
            out.push(match lang {
                Language::Rust => f
                    .note("an I/O resource is registered with the driver of the runtime it was created on; once that runtime is gone it fails with \"A Tokio 1.x context was found, but it is being shutdown\"")
                    .help("create the resource inside the runtime that uses it, or keep one runtime alive for the life of the resource"),
                Language::Python => f
                    .note("asyncio raises \"RuntimeError: Event loop is closed\" or \"... is bound to a different event loop\"")
                    .help("create the resource inside the coroutine that `asyncio.run` drives, or keep one long-lived loop"),
            });
        }
    }
}

/// A resource bound when made under runtime objects of the flow, used by `f` under runtime
/// instances the flow has no object for (an entry attribute's runtime) and that the code
/// making it never runs on: reported under the first such instance whose code brings the
/// resource in.
fn by_instances(
    program: &Program,
    facts: &Facts,
    introduced: &HashSet<(FnId, ObjId)>,
    f: FnId,
    span: Span,
    o: ObjId,
) -> Option<Finding> {
    let obj = facts.flow.object(o);
    let bound: Vec<InstId> = facts.known_instances(obj.func).map(|(i, _)| i).collect();
    if bound.is_empty() {
        return None;
    }
    let (inst, _) = facts
        .known_instances(f)
        .filter(|(i, _)| !bound.contains(i))
        .find(|(_, e)| carried(program, facts, introduced, f, e, o))?;
    if facts.known_instances(f).any(|(i, _)| bound.contains(&i)) {
        return None;
    }
    let used = facts.instance(inst);
    let made = facts.instance(bound[0]);
    let api = made_name(program, facts, o);
    let message = format!(
        "this {api} is bound to the runtime it was created on but is used here under {}",
        used.what
    );
    let f = Finding::new("cross-runtime-resource", Severity::Error, span, message)
        .primary_label(format!("used under {}", used.what))
        .group(obj.span)
        .label(
            obj.span,
            "created here, bound to the runtime running this code",
        )
        .label(made.site, format!("{} is entered here", made.what))
        .label(used.site, format!("{} is entered here", used.what))
        .note("an I/O resource is registered with the driver of the runtime it was created on; once that runtime is gone it fails with \"A Tokio 1.x context was found, but it is being shutdown\"")
        .help("create the resource inside the runtime that uses it, or keep one runtime alive for the life of the resource");
    Some(f)
}

/// Whether the resource survives from one run of a repeated instance to the next.
fn outlives_instance(
    program: &Program,
    facts: &Facts,
    res: ResourceRef,
    b: &Binding,
    created: &HashMap<ResourceRef, (Span, FnId, u16)>,
) -> bool {
    match res {
        // A global that each run of the runtime fills with a resource of its own before
        // using it does not carry one run's resource into the next.
        ResourceRef::Global(_) => {
            let Some(&(span, ..)) = created.get(&res) else {
                return true;
            };
            let flow = &facts.flow;
            let mut made = (0..flow.objects.len() as u32)
                .map(ObjId)
                .filter(|&o| flow.object(o).span == span)
                .peekable();
            made.peek().is_none() || !made.all(|o| remade_each_run(program, facts, o, b.inst))
        }
        ResourceRef::Local(v) => {
            // A local outlives a runtime only when the runtime is made in a loop of the
            // variable's own function and the variable is made before that loop.
            let owner = program.var(v).owner;
            let Some(&(_, _, create_depth)) = created.get(&res) else {
                return false;
            };
            match facts.instance(b.inst).kind {
                InstanceKind::Built(f, e) | InstanceKind::Fresh(f, e) if f == owner => {
                    program.func(f).events[e].loop_depth > create_depth
                }
                InstanceKind::Built(f, _) | InstanceKind::Fresh(f, _) => {
                    made_in_loop(program, owner, create_depth, f)
                }
                _ => false,
            }
        }
    }
}

/// Whether every call or run of `owner` that leads to `f` sits in a loop deeper than `depth`
/// (and one does): a runtime that a helper `f` builds is then made anew on each iteration of a
/// loop that `owner` enters after its object was made at `depth`.
fn made_in_loop(program: &Program, owner: FnId, depth: u16, f: FnId) -> bool {
    let steps = leads_to(program, owner, f);
    !steps.is_empty() && steps.iter().all(|(d, _)| *d > depth)
}

/// Whether `f` runs more than once within one run of `owner`, after an object `owner` made at
/// loop depth `depth`: every call leading to it sits in a deeper loop, or several calls lead to
/// it, or the one call that does leads to a body that runs it in a loop or more than once.
fn runs_again(program: &Program, owner: FnId, depth: u16, f: FnId, budget: u32) -> bool {
    if owner == f || budget == 0 {
        return false;
    }
    let steps = leads_to(program, owner, f);
    match steps.as_slice() {
        [] => false,
        _ if steps.iter().all(|(d, _)| *d > depth) => true,
        [(_, next)] => next
            .iter()
            .any(|&c| runs_again(program, c, 0, f, budget - 1)),
        _ => true,
    }
}

/// The calls and runs of `owner` that lead to `f`: their loop depth and the callees that do.
fn leads_to(program: &Program, owner: FnId, f: FnId) -> Vec<(u16, Vec<FnId>)> {
    let mut out = Vec::new();
    for ev in &program.func(owner).events {
        let next: &[FnId] = match &ev.kind {
            EventKind::Call { callees, .. } => callees,
            EventKind::Run { body, .. } => std::slice::from_ref(body),
            _ => continue,
        };
        let to: Vec<FnId> = next
            .iter()
            .copied()
            .filter(|&c| reached_from(program, c)[f.0 as usize])
            .collect();
        if !to.is_empty() {
            out.push((ev.loop_depth, to));
        }
    }
    out
}

fn finding(
    program: &Program,
    facts: &Facts,
    res: ResourceRef,
    b: &Binding,
    other: Option<Binding>,
    created: &HashMap<ResourceRef, (Span, FnId, u16)>,
) -> Finding {
    let lang = program.func(b.func).language;
    let (name, origin) = match res {
        ResourceRef::Global(g) => {
            let g = program.global(g);
            (
                g.name.clone(),
                Some((
                    g.span,
                    format!(
                        "`{}` is created once and shared by every runtime that uses it",
                        g.name
                    ),
                )),
            )
        }
        ResourceRef::Local(v) => {
            let var = program.var(v);
            let span = created.get(&res).map(|c| c.0).unwrap_or(var.span);
            (
                var.name.clone(),
                Some((span, format!("`{}` is created here", var.name))),
            )
        }
    };
    let inst = facts.instance(b.inst);
    let message = first_ran_message(lang, &format!("`{name}`"), &inst.what);
    let mut f = Finding::new("cross-runtime-resource", Severity::Error, b.span, message)
        .primary_label(format!("used under {}", inst.what));
    if let Some((span, msg)) = origin {
        f = f.label(span, msg).group(span);
    }
    match other {
        Some(o) => {
            let oi = facts.instance(o.inst);
            f = f.label(inst.site, format!("{} is entered here", inst.what));
            f = f.label(o.span, format!("also used under {}", oi.what));
            f = f.label(oi.site, format!("{} is entered here", oi.what));
        }
        None => {
            f = f.label(
                inst.site,
                format!("{} is made anew each time this code runs", inst.what),
            );
        }
    }
    with_failure_and_fix(f, lang)
}

/// The message for `what` (a named or described resource) bound to the runtime or loop it first
/// ran on and used under `under`.
/// The failure a resource used under another runtime gives, and the fix, per language.
fn with_failure_and_fix(f: Finding, lang: Language) -> Finding {
    match lang {
        Language::Rust => f
            .note("a pooled connection spawned on one runtime dies with it: \"dispatch task is gone: runtime dropped the dispatch task\"")
            .help("create the resource inside the runtime that uses it, or run everything on one long-lived runtime"),
        Language::Python => f
            .note("asyncio raises \"RuntimeError: Event loop is closed\" or \"... is bound to a different event loop\"")
            .help("create the client or primitive inside the coroutine that `asyncio.run` drives, or keep one long-lived loop"),
    }
}

fn first_ran_message(lang: Language, what: &str, under: &str) -> String {
    let runtime = match lang {
        Language::Rust => "runtime",
        Language::Python => "event loop",
    };
    format!("{what} is bound to the {runtime} it first ran on but is used here under {under}")
}
