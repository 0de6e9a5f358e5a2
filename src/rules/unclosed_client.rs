//! unclosed-client (LL103): an async client made in a function and never closed; see
//! `rules/unclosed-client.md`.

use std::collections::{HashMap, HashSet};

use crate::analysis::Facts;
use crate::analysis::flow::{ObjId, ObjKind};
use crate::diagnostic::{Finding, Severity};
use crate::kb::{Concept, Kb};
use crate::model::{EventKind, FactKind, FnId, Language, Place, Program, ResourceRef, Span, VarId};

/// The close method of a client constructor, if the knowledge base has one (`aclose`).
pub fn closer_of(kb: &Kb, language: Language, api: &str) -> Option<String> {
    let ty = kb
        .find(language, api, Concept::RuntimeBound)
        .and_then(|a| a.returns.clone())
        .unwrap_or_else(|| api.to_string());
    let sep = crate::kb::separator(language);
    kb.apis().iter().find_map(|a| {
        let rest = a.path.strip_prefix(ty.as_str())?.strip_prefix(sep)?;
        (a.language == language && a.concept == Concept::ResourceClose && !rest.contains(sep))
            .then(|| rest.to_string())
    })
}

/// Reports clients created in a local variable (or a temporary) that no path closes, uses as
/// a context manager, returns, stores or hands to other code, except in a statement a test
/// expects to fail; and clients that a project factory makes and hands back to a caller that
/// does none of these either.
pub fn check(program: &Program, facts: &Facts, kb: &Kb, out: &mut Vec<Finding>) {
    let mut closed_vars: HashSet<VarId> = HashSet::new();
    for (_, func) in program.fns() {
        for ev in &func.events {
            if let EventKind::Close {
                resource: ResourceRef::Local(v),
            } = &ev.kind
            {
                closed_vars.insert(*v);
            }
        }
    }
    factory_made(program, facts, kb, &closed_vars, out);
    let mut released: HashSet<VarId> = HashSet::new();
    let mut used: HashSet<VarId> = HashSet::new();
    let mut lent: HashMap<VarId, Vec<Span>> = HashMap::new();
    for (id, func) in program.fns() {
        for ev in &func.events {
            if let EventKind::Use {
                resource: ResourceRef::Local(v),
            }
            | EventKind::Lend { var: v } = &ev.kind
            {
                used.insert(*v);
            }
            match &ev.kind {
                // Lent from another body (a closure), or to a callee the flow may not follow.
                EventKind::Lend { var }
                    if program
                        .vars
                        .get(var.0 as usize)
                        .is_some_and(|x| x.owner == id) =>
                {
                    lent.entry(*var).or_default().push(ev.span);
                }
                EventKind::Lend { var } => {
                    released.insert(*var);
                }
                EventKind::Close {
                    resource: ResourceRef::Local(v),
                } => {
                    released.insert(*v);
                }
                EventKind::Escape { var } => {
                    released.insert(*var);
                }
                // A use from another body (a closure) may close it there.
                EventKind::Use {
                    resource: ResourceRef::Local(v),
                } if program
                    .vars
                    .get(v.0 as usize)
                    .is_some_and(|x| x.owner != id) =>
                {
                    released.insert(*v);
                }
                _ => {}
            }
        }
    }
    let mut held = Held::default();
    for (fid, func) in program.fns() {
        if func.language != Language::Python {
            continue;
        }
        for (i, ev) in func.events.iter().enumerate() {
            let EventKind::Create {
                resource: Some(ResourceRef::Local(v)),
                api,
                made_as,
                ..
            } = &ev.kind
            else {
                continue;
            };
            // A client made inside `with pytest.raises(..)` is expected to fail to construct.
            if released.contains(v)
                || lent
                    .get(v)
                    .is_some_and(|spans| !only_lent(program, facts, &mut held, fid, i, spans))
                || facts.in_own_expect_region(fid, ev.span)
                || !facts.reached(program, fid, ev)
            {
                continue;
            }
            let Some(closer) = closer_of(kb, func.language, api) else {
                continue;
            };
            // A client or pool that connects on first use and is never used opened nothing.
            if !used.contains(v)
                && kb
                    .find(func.language, api, Concept::RuntimeBound)
                    .is_some_and(|a| a.lazy)
            {
                continue;
            }
            out.push(
                Finding::new(
                    "unclosed-client",
                    Severity::Warning,
                    ev.span,
                    format!(
                        "{} is created here and never closed",
                        super::explain::made_name(api, made_as.as_deref().map(String::as_str))
                    ),
                )
                .primary_label("client created here")
                .note("an unclosed client leaks its connections and warns `Unclosed client session` or `ResourceWarning` when collected")
                .help(format!(
                    "use `async with {}(...) as client:`, or call `{closer}()` when done",
                    made_as.as_deref().map_or(&**api, String::as_str)
                )),
            );
        }
    }
}

/// What the flow says of the places that may hold a client, computed on first need.
#[derive(Default)]
struct Held {
    /// The places that may own each resource object.
    owning: Option<rustc_hash::FxHashMap<ObjId, Vec<Place>>>,
    /// Places let go of: closed, entered as a context manager, handed to code the program
    /// does not see, or used by a body nested in their owner.
    let_go: HashSet<Place>,
}

impl Held {
    /// The places owning each object, and the places let go of.
    fn get(
        &mut self,
        program: &Program,
        facts: &Facts,
    ) -> (&rustc_hash::FxHashMap<ObjId, Vec<Place>>, &HashSet<Place>) {
        if self.owning.is_none() {
            self.let_go = let_go(program);
            self.owning = Some(facts.flow.owning_places(ObjKind::Resource));
        }
        (self.owning.get_or_insert_default(), &self.let_go)
    }
}

/// The places whose value is let go of: closed, entered as a context manager, handed to code
/// the program does not see, or used by a body nested in their owner (which may close it).
fn let_go(program: &Program) -> HashSet<Place> {
    let mut out = HashSet::new();
    for fact in &program.flow.facts {
        match fact.kind {
            FactKind::Close { place } | FactKind::Escape { place } => {
                out.insert(place);
            }
            FactKind::Use { place, .. } if place_owner(program, place) != Some(fact.func) => {
                out.insert(place);
            }
            _ => {}
        }
    }
    out
}

/// Whether the client made by event `event` of `f`, handed by name to the program's own
/// functions at `spans`, stays with them: every such call names a callee that the flow
/// carries it into, and no place it reaches keeps it (a field, a static, a return), closes
/// it, or hands it to code the program does not see. Helpers that only use it borrow it.
fn only_lent(
    program: &Program,
    facts: &Facts,
    held: &mut Held,
    f: FnId,
    event: usize,
    spans: &[Span],
) -> bool {
    let (owning, let_go) = held.get(program, facts);
    let objects: Vec<ObjId> = facts.flow.made_at(f, event).collect();
    if objects.is_empty() {
        return false;
    }
    let mut places: Vec<Place> = Vec::new();
    for o in &objects {
        let Some(list) = owning.get(o) else {
            return false;
        };
        places.extend(list.iter().copied());
    }
    if places
        .iter()
        .any(|p| matches!(p, Place::Cell(_) | Place::Ret(_) | Place::Var(_)) || let_go.contains(p))
    {
        return false;
    }
    // Each lending call (the innermost call around the name) reaches a callee's parameter
    // that holds the client.
    let events = &program.func(f).events;
    spans.iter().all(|s| {
        events
            .iter()
            .filter(|ev| {
                matches!(ev.kind, EventKind::Call { .. })
                    && ev.span.file == s.file
                    && ev.span.start <= s.start
                    && s.end <= ev.span.end
            })
            .min_by_key(|ev| ev.span.end - ev.span.start)
            .is_some_and(|ev| match &ev.kind {
                EventKind::Call { callees, .. } => callees.iter().any(|c| {
                    places
                        .iter()
                        .any(|p| matches!(p, Place::Param(g, _) if g == c))
                }),
                _ => false,
            })
    })
}

/// The function a place belongs to; `None` for fields and statics.
fn place_owner(program: &Program, place: Place) -> Option<FnId> {
    match place {
        Place::Var(v) => Some(program.var(v).owner),
        Place::Temp(t) => program.flow.temp_owner.get(t as usize).copied(),
        Place::Param(f, _) | Place::Ret(f) => Some(f),
        Place::Cell(_) => None,
    }
}

/// Clients made by a project factory that returns them (`session = await make_session()`):
/// the flow gives one object per call of the factory, and the call is reported when that
/// object ends up only in the caller's locals, none of which is closed, entered as a context
/// manager, handed to code the program does not see, or used by a nested body; nor returned,
/// stored or passed on, which the object's places would show. A client the caller lends to
/// the program's own functions is followed into them, with the same questions.
fn factory_made(
    program: &Program,
    facts: &Facts,
    kb: &Kb,
    closed_vars: &HashSet<VarId>,
    out: &mut Vec<Finding>,
) {
    let owning = facts.flow.owning_places(ObjKind::Resource);
    if owning.is_empty() {
        return;
    }
    let mut let_go: HashSet<Place> = HashSet::new();
    let mut used: HashSet<Place> = HashSet::new();
    for fact in &program.flow.facts {
        match fact.kind {
            FactKind::Close { place } | FactKind::Escape { place } => {
                let_go.insert(place);
            }
            FactKind::Use { place, .. } => {
                used.insert(place);
                // A nested body that uses it may close it there.
                if place_owner(program, place) != Some(fact.func) {
                    let_go.insert(place);
                }
            }
            _ => {}
        }
    }
    let mut objects: Vec<_> = owning.iter().collect();
    objects.sort_by_key(|(o, _)| **o);
    for (&o, places) in objects {
        let obj = facts.flow.object(o);
        let Some((caller, site)) = obj.ctx else {
            continue;
        };
        let maker = program.func(obj.func);
        if maker.language != Language::Python {
            continue;
        }
        let Some(EventKind::Create {
            api,
            made_as,
            resource,
            ..
        }) = maker.events.get(obj.event as usize).map(|e| &e.kind)
        else {
            continue;
        };
        // A factory that closes what it made (a context manager's body) hands back no open
        // client.
        if let Some(ResourceRef::Local(v)) = resource
            && closed_vars.contains(v)
        {
            continue;
        }
        let Some(closer) = closer_of(kb, Language::Python, api) else {
            continue;
        };
        let mut in_caller = false;
        let mut kept = false;
        for &p in places {
            kept |= let_go.contains(&p);
            match (place_owner(program, p), p) {
                (Some(f), Place::Temp(_) | Place::Var(_) | Place::Ret(_)) if f == obj.func => {}
                (Some(f), Place::Temp(_) | Place::Var(_)) if f == caller => in_caller = true,
                // Lent to the program's own functions: what they do with it shows among the
                // places (a field, a static, a return, a close, a library call).
                (Some(_), Place::Param(..) | Place::Temp(_)) => {}
                _ => kept = true,
            }
        }
        if kept || !in_caller {
            continue;
        }
        // A client that connects on first use and is never used opened nothing.
        if !places.iter().any(|p| used.contains(p))
            && kb
                .find(Language::Python, api, Concept::RuntimeBound)
                .is_some_and(|a| a.lazy)
        {
            continue;
        }
        let Some(call) = program.func(caller).events.get(site as usize) else {
            continue;
        };
        if !matches!(call.kind, EventKind::Call { .. })
            || facts.in_own_expect_region(caller, call.span)
            || !facts.reached(program, caller, call)
        {
            continue;
        }
        let name = super::explain::made_name(api, made_as.as_deref().map(String::as_str));
        out.push(
            Finding::new(
                "unclosed-client",
                Severity::Warning,
                call.span,
                format!(
                    "{name} made by `{}` is handed back here and never closed",
                    maker.name
                ),
            )
            .primary_label("client returned by this call")
            .label(obj.span, "the client is created here")
            .note("an unclosed client leaks its connections and warns `Unclosed client session` or `ResourceWarning` when collected")
            .help(format!(
                "use `async with {}(...) as client:`, or call `{closer}()` when done",
                maker.name
            )),
        );
    }
}
