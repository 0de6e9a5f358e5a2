//! Value flow: which runtimes, handles, resources and tasks each place of the program may hold.
//!
//! Every creating event (`RuntimeNew`, `Create`, a spawning `Run`) is an abstract object,
//! one per calling context of the function that contains it (the call site that entered that
//! function, and the caller's own context when the caller is a factory handing the object on),
//! so a helper `fn rt() -> Runtime` called twice gives two runtimes, and so does a factory of
//! it. Values
//! move along the frontends' flow facts: assignments, arguments to parameters, returns to call
//! results, the value a `block_on` body returns, fields (one cell per owning type and field
//! name) and statics. Calls are resolved by the frontends and fields are not told apart per
//! object, so the flow is a fixed graph; the solution is a reachability of the creation sites
//! along its edges, computed by one worklist pass. A handle taken from a runtime refers to that
//! runtime without owning it ([`Role::Handle`]).
//!
//! Objects that come from outside the program (parameters of functions with unknown callers,
//! library values) are simply absent: rules that ask the flow stay silent about them.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;

use crate::model::{EventKind, FactKind, FnId, Place, Program, Reach, RunKind, RuntimeRef, Span};

use super::CallSite;

/// Index of an abstract object in [`Flow::objects`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjId(pub u32);

/// What an abstract object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjKind {
    /// A runtime or event loop.
    Runtime,
    /// A runtime-bound resource.
    Resource,
    /// A spawned task's handle.
    Task,
    /// A value of a package type that keeps lazily made values ([`EventKind::Instance`]).
    Instance,
}

/// How a place holds an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The place owns the object (dropping it drops the object, unless it is shared).
    Own,
    /// The place holds a handle to a runtime object.
    Handle,
}

/// One abstract object: a creation site in one calling context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Obj {
    /// What it is.
    pub kind: ObjKind,
    /// The function containing the creating event.
    pub func: FnId,
    /// Index of the creating event.
    pub event: u32,
    /// The call site that entered `func`, when the function has several.
    pub ctx: Option<(FnId, u32)>,
    /// Span of the creating event.
    pub span: Span,
}

/// A value a place may hold.
pub type Value = (ObjId, Role);

/// The solved value flow of a program.
#[derive(Debug, Default)]
pub struct Flow {
    /// Abstract objects.
    pub objects: Vec<Obj>,
    /// Solved values per node.
    pts: Vec<Vec<Value>>,
    /// Nodes of each place, one per calling context.
    nodes: HashMap<Place, Vec<u32>>,
    /// Places acted on by events, by (function, event index).
    subjects: HashMap<(FnId, u32), Vec<Place>>,
    /// Runtime objects each function may run on as a worker (by `FnId`).
    runs_on: Vec<Vec<ObjId>>,
    /// Whether each object, owned, leaves the function that made it.
    leaving: Vec<bool>,
    /// Per object, whether a field or static owns it, and the functions that return it owned.
    kept: Vec<(bool, Vec<FnId>)>,
    /// Lazily made values: (the place of the owning value, the place of the made value).
    lazy: Vec<(Place, Place)>,
}

type Ctx = u32;
const NO_CTX: Ctx = 0;

struct Builder<'p> {
    program: &'p Program,
    /// Interned contexts: a call site, and the context of its caller when the caller is split
    /// too; index 0 is "no context". The site is what an object made there names.
    sites: Vec<Option<(FnId, u32)>>,
    site_ids: HashMap<(FnId, u32, Ctx), Ctx>,
    /// Contexts of each function (`[NO_CTX]` for functions without objects of their own).
    ctxs: Vec<Vec<Ctx>>,
    nodes: HashMap<(Place, Ctx), u32>,
    by_place: HashMap<Place, Vec<u32>>,
    edges: Vec<Vec<(u32, bool)>>,
    seeds: Vec<(u32, Value)>,
    objects: Vec<Obj>,
    obj_ids: HashMap<(FnId, u32, Ctx), ObjId>,
}

impl Builder<'_> {
    fn node(&mut self, place: Place, ctx: Ctx) -> u32 {
        if let Some(&n) = self.nodes.get(&(place, ctx)) {
            return n;
        }
        let n = self.edges.len() as u32;
        self.edges.push(Vec::new());
        self.nodes.insert((place, ctx), n);
        self.by_place.entry(place).or_default().push(n);
        n
    }

    /// The function whose calling context qualifies a place, if any.
    fn owner(&self, place: Place) -> Option<FnId> {
        match place {
            Place::Var(v) => Some(self.program.var(v).owner),
            Place::Temp(t) => self.program.flow.temp_owner.get(t as usize).copied(),
            Place::Param(f, _) | Place::Ret(f) => Some(f),
            Place::Cell(_) => None,
        }
    }

    /// The nodes of `place` as seen from function `f` in context `ctx`.
    fn nodes_in(&mut self, place: Place, f: FnId, ctx: Ctx) -> Vec<u32> {
        match self.owner(place) {
            None => vec![self.node(place, NO_CTX)],
            Some(o) if o == f => vec![self.node(place, ctx)],
            // A place of an enclosing body, captured by a nested one: every context of it.
            Some(o) => {
                let cs = self.ctxs[o.0 as usize].clone();
                cs.into_iter().map(|c| self.node(place, c)).collect()
            }
        }
    }

    fn edge(&mut self, from: &[u32], to: &[u32], handle: bool) {
        for &a in from {
            for &b in to {
                if a != b {
                    self.edges[a as usize].push((b, handle));
                }
            }
        }
    }
}

/// The kind of object an event makes, if it makes one.
fn made_kind(kind: &EventKind) -> Option<ObjKind> {
    match kind {
        EventKind::RuntimeNew { .. } => Some(ObjKind::Runtime),
        EventKind::Create { .. } => Some(ObjKind::Resource),
        EventKind::Instance { .. } => Some(ObjKind::Instance),
        EventKind::Run {
            how: RunKind::Spawn,
            ..
        } => Some(ObjKind::Task),
        _ => None,
    }
}

/// Solves the flow of a program.
pub fn solve(program: &Program, callers: &[Vec<CallSite>]) -> Flow {
    let n = program.functions.len();
    let event = |f: FnId, e: u32| program.func(f).events.get(e as usize);
    // Functions that make objects get one context per call site.
    let mut creator = vec![false; n];
    for fact in &program.flow.facts {
        if let FactKind::New { event: e, .. } = fact.kind
            && event(fact.func, e).is_some_and(|ev| made_kind(&ev.kind).is_some())
        {
            creator[fact.func.0 as usize] = true;
        }
    }
    // Factories that hand on what a creating callee returns (`fn rt() -> Runtime { build() }`)
    // are split per call site too, and their callees' objects per context of the factory, so
    // two calls of a factory of a factory still give two objects.
    let split = factories(program, creator);
    let mut b = Builder {
        program,
        sites: vec![None],
        site_ids: HashMap::default(),
        ctxs: vec![vec![NO_CTX]; n],
        nodes: HashMap::default(),
        by_place: HashMap::default(),
        edges: Vec::new(),
        seeds: Vec::new(),
        objects: Vec::new(),
        obj_ids: HashMap::default(),
    };
    split_contexts(program, callers, &split, &mut b);
    // The callee's context for a call from `site` in the caller's context `caller`: the one
    // for that pair, or, when the callee's contexts were cut back to its call sites, one of
    // that site.
    let callee_ctx = |b: &Builder, callee: FnId, site: (FnId, u32), caller: Ctx| -> Ctx {
        if !split[callee.0 as usize] {
            return NO_CTX;
        }
        let own = &b.ctxs[callee.0 as usize];
        b.site_ids
            .get(&(site.0, site.1, caller))
            .copied()
            .filter(|c| own.contains(c))
            .or_else(|| {
                own.iter()
                    .copied()
                    .find(|&c| b.sites[c as usize] == Some(site))
            })
            .unwrap_or(NO_CTX)
    };
    let mut subjects: HashMap<(FnId, u32), Vec<Place>> = HashMap::default();
    let mut lazy: Vec<(Place, Place)> = Vec::new();
    for fact in &program.flow.facts {
        if let FactKind::Lazy { owner, from } = fact.kind {
            lazy.push((owner, from));
        }
        let f = fact.func;
        if program.functions.get(f.0 as usize).is_none() {
            continue;
        }
        for ctx in b.ctxs[f.0 as usize].clone() {
            match &fact.kind {
                FactKind::New { event: e, to } => {
                    let Some(ev) = event(f, *e) else { continue };
                    let Some(kind) = made_kind(&ev.kind) else {
                        continue;
                    };
                    let key = (f, *e, ctx);
                    let id = match b.obj_ids.get(&key) {
                        Some(&id) => id,
                        None => {
                            let id = ObjId(b.objects.len() as u32);
                            b.objects.push(Obj {
                                kind,
                                func: f,
                                event: *e,
                                ctx: b.sites[ctx as usize],
                                span: ev.span,
                            });
                            b.obj_ids.insert(key, id);
                            id
                        }
                    };
                    for t in b.nodes_in(*to, f, ctx) {
                        b.seeds.push((t, (id, Role::Own)));
                    }
                }
                FactKind::Assign { to, from } | FactKind::HandleOf { to, from } => {
                    let handle = matches!(fact.kind, FactKind::HandleOf { .. });
                    let a = b.nodes_in(*from, f, ctx);
                    let t = b.nodes_in(*to, f, ctx);
                    b.edge(&a, &t, handle);
                }
                FactKind::Load { to, cell } => {
                    let a = b.nodes_in(Place::Cell(*cell), f, ctx);
                    let t = b.nodes_in(*to, f, ctx);
                    b.edge(&a, &t, false);
                }
                FactKind::Store { cell, from, .. } => {
                    let a = b.nodes_in(*from, f, ctx);
                    let t = b.nodes_in(Place::Cell(*cell), f, ctx);
                    b.edge(&a, &t, false);
                }
                FactKind::Call {
                    event: e,
                    args,
                    result,
                } => {
                    let callees: crate::model::Callees = match event(f, *e).map(|ev| &ev.kind) {
                        Some(EventKind::Call { callees, .. }) => callees.clone(),
                        Some(EventKind::Run { body, .. }) => smallvec::smallvec![*body],
                        _ => continue,
                    };
                    for c in callees {
                        let cc = callee_ctx(&b, c, (f, *e), ctx);
                        for (i, a) in args.iter().enumerate() {
                            let Some(a) = a else { continue };
                            let from = b.nodes_in(*a, f, ctx);
                            let to = b.node(Place::Param(c, i as u32), cc);
                            b.edge(&from, &[to], false);
                        }
                        if let Some(r) = result {
                            let from = b.node(Place::Ret(c), cc);
                            let to = b.nodes_in(*r, f, ctx);
                            b.edge(&[from], &to, false);
                        }
                    }
                }
                FactKind::Subject { event: e, place } => {
                    let list = subjects.entry((f, *e)).or_default();
                    if !list.contains(place) {
                        list.push(*place);
                    }
                }
                FactKind::Use { .. }
                | FactKind::Drop { .. }
                | FactKind::Reset { .. }
                | FactKind::TakeOut { .. }
                | FactKind::Close { .. }
                | FactKind::Escape { .. }
                | FactKind::Release { .. }
                | FactKind::Body { .. }
                | FactKind::Lazy { .. }
                | FactKind::CallVia { .. } => {}
            }
        }
    }
    // Reachability of the creation sites; a handle edge turns an owned runtime into a handle.
    let mut pts: Vec<Vec<Value>> = vec![Vec::new(); b.edges.len()];
    let mut work: VecDeque<(u32, Value)> = VecDeque::new();
    for &(node, v) in &b.seeds {
        if add(&mut pts[node as usize], v) {
            work.push_back((node, v));
        }
    }
    while let Some((node, (o, role))) = work.pop_front() {
        for &(next, handle) in &b.edges[node as usize] {
            let v = if handle {
                if b.objects[o.0 as usize].kind != ObjKind::Runtime {
                    continue;
                }
                (o, Role::Handle)
            } else {
                (o, role)
            };
            if add(&mut pts[next as usize], v) {
                work.push_back((next, v));
            }
        }
    }
    let mut leaving = vec![false; b.objects.len()];
    let mut kept: Vec<(bool, Vec<FnId>)> = vec![(false, Vec::new()); b.objects.len()];
    for (&(place, _), &node) in &b.nodes {
        for &(o, role) in &pts[node as usize] {
            if role != Role::Own {
                continue;
            }
            let k = &mut kept[o.0 as usize];
            match place {
                Place::Cell(_) => k.0 = true,
                Place::Ret(f) if !k.1.contains(&f) => k.1.push(f),
                _ => {}
            }
            let out = match place {
                Place::Cell(_) => true,
                Place::Ret(f) => f == b.objects[o.0 as usize].func,
                _ => false,
            };
            if out {
                leaving[o.0 as usize] = true;
            }
        }
    }
    let mut flow = Flow {
        objects: b.objects,
        pts,
        nodes: b.by_place,
        subjects,
        runs_on: Vec::new(),
        leaving,
        kept,
        lazy,
    };
    flow.runs_on = runs_on(program, &flow);
    flow
}

/// Most contexts one function is split into; past it, its contexts are its call sites alone.
const MAX_CONTEXTS: usize = 16;

/// The functions split per calling context: those that make objects (`creator`), and
/// factories, which hand on from their return what a split callee returns.
fn factories(program: &Program, creator: Vec<bool>) -> Vec<bool> {
    let mut split = creator;
    let mut returns = vec![false; split.len()];
    for fact in &program.flow.facts {
        let to = match fact.kind {
            FactKind::Assign { to, .. } | FactKind::HandleOf { to, .. } => Some(to),
            FactKind::Call { result, .. } => result,
            _ => None,
        };
        if to == Some(Place::Ret(fact.func))
            && let Some(r) = returns.get_mut(fact.func.0 as usize)
        {
            *r = true;
        }
    }
    loop {
        let mut changed = false;
        for fact in &program.flow.facts {
            let FactKind::Call {
                event: e,
                result: Some(_),
                ..
            } = fact.kind
            else {
                continue;
            };
            let g = fact.func.0 as usize;
            if split.get(g) != Some(&false) || !returns[g] {
                continue;
            }
            let calls_split = match program
                .func(fact.func)
                .events
                .get(e as usize)
                .map(|ev| &ev.kind)
            {
                Some(EventKind::Call { callees, .. }) => {
                    callees.iter().any(|c| split[c.0 as usize])
                }
                _ => false,
            };
            if calls_split {
                split[g] = true;
                changed = true;
            }
        }
        if !changed {
            return split;
        }
    }
}

/// The contexts of each split function: per call site, one per context of the calling
/// function when that is split too (at most [`MAX_CONTEXTS`]), plus "no context" when code
/// outside the program may call it.
fn split_contexts(program: &Program, callers: &[Vec<CallSite>], split: &[bool], b: &mut Builder) {
    let intern = |b: &mut Builder, site: (FnId, u32), parent: Ctx| -> Ctx {
        let key = (site.0, site.1, parent);
        if let Some(&id) = b.site_ids.get(&key) {
            return id;
        }
        b.sites.push(Some(site));
        let id = b.sites.len() as Ctx - 1;
        b.site_ids.insert(key, id);
        id
    };
    let mut capped = vec![false; split.len()];
    for round in 0..8 {
        let mut changed = false;
        for (fid, f) in program.fns() {
            let i = fid.0 as usize;
            // A lazy static's initialiser makes its objects once, whichever read runs it.
            let sites: Vec<&CallSite> = callers[i]
                .iter()
                .filter(|s| s.nested.is_some() || program.reach(s.caller, s.event) != Reach::Once)
                .collect();
            if !split[i] || sites.is_empty() || capped[i] {
                continue;
            }
            let mut cs = Vec::new();
            if f.callers_unknown || f.entry.is_some() {
                cs.push(NO_CTX);
            }
            for s in &sites {
                let site = (s.caller, s.event as u32);
                let parents = if split[s.caller.0 as usize] {
                    b.ctxs[s.caller.0 as usize].clone()
                } else {
                    vec![NO_CTX]
                };
                for p in parents {
                    let id = intern(b, site, p);
                    if !cs.contains(&id) {
                        cs.push(id);
                    }
                }
            }
            // Too many, or still growing after several rounds (recursion): call sites alone.
            if cs.len() > MAX_CONTEXTS || (round == 7 && cs != b.ctxs[i]) {
                capped[i] = true;
                cs.retain(|&c| c == NO_CTX);
                for s in &sites {
                    let id = intern(b, (s.caller, s.event as u32), NO_CTX);
                    if !cs.contains(&id) {
                        cs.push(id);
                    }
                }
            }
            if cs != b.ctxs[i] {
                b.ctxs[i] = cs;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Resolves calls through places (`(self.on_tick)()`, `(self.hooks[k])(x)`, `h(x)` for a
/// local bound to a registry's element: [`FactKind::CallVia`]): a call whose
/// place may hold one closure kept as a value ([`FactKind::Body`]), and no other, calls that
/// closure. The closures travel, context-insensitively, along assignments, fields, statics,
/// arguments and returns; a container's elements are its value. A place that may hold
/// several closures, or none that the program
/// makes, leaves its call without callee: unknown code stays silent.
pub fn resolve_calls(program: &mut Program) {
    let vias: Vec<(FnId, u32, Place)> = program
        .flow
        .facts
        .iter()
        .filter_map(|f| match f.kind {
            FactKind::CallVia { event, callee } => Some((f.func, event, callee)),
            _ => None,
        })
        .collect();
    if vias.is_empty() {
        return;
    }
    // A resolved call may pass a closure on to another: a few rounds reach the fixed point.
    for _ in 0..4 {
        let reach = closure_values(program);
        let mut changed = false;
        for &(f, e, place) in &vias {
            let Some(&[body]) = reach.get(&place).map(Vec::as_slice) else {
                continue;
            };
            let Some(ev) = program.functions[f.0 as usize].events.get_mut(e as usize) else {
                continue;
            };
            if let EventKind::Call { callees, .. } = &mut ev.kind
                && callees.is_empty()
            {
                callees.push(body);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// The closures each place may hold, context-insensitively.
fn closure_values(program: &Program) -> HashMap<Place, Vec<FnId>> {
    let mut edges: HashMap<Place, Vec<Place>> = HashMap::default();
    let mut work: Vec<(Place, FnId)> = Vec::new();
    let event = |f: FnId, e: u32| program.func(f).events.get(e as usize);
    for fact in &program.flow.facts {
        match &fact.kind {
            FactKind::Body { body, to } => work.push((*to, *body)),
            FactKind::Assign { to, from } => edges.entry(*from).or_default().push(*to),
            FactKind::Store { cell, from, .. } => {
                edges.entry(*from).or_default().push(Place::Cell(*cell))
            }
            FactKind::Load { to, cell } => edges.entry(Place::Cell(*cell)).or_default().push(*to),
            FactKind::Call {
                event: e,
                args,
                result,
            } => {
                let callees: &[FnId] = match event(fact.func, *e).map(|ev| &ev.kind) {
                    Some(EventKind::Call { callees, .. }) => callees,
                    Some(EventKind::Run { body, .. }) => std::slice::from_ref(body),
                    _ => continue,
                };
                for &c in callees {
                    for (i, a) in args.iter().enumerate() {
                        if let Some(a) = a {
                            edges.entry(*a).or_default().push(Place::Param(c, i as u32));
                        }
                    }
                    if let Some(r) = result {
                        edges.entry(Place::Ret(c)).or_default().push(*r);
                    }
                }
            }
            _ => {}
        }
    }
    let mut reach: HashMap<Place, Vec<FnId>> = HashMap::default();
    while let Some((place, body)) = work.pop() {
        let held = reach.entry(place).or_default();
        if held.contains(&body) {
            continue;
        }
        held.push(body);
        for &next in edges.get(&place).map(Vec::as_slice).unwrap_or(&[]) {
            work.push((next, body));
        }
    }
    reach
}

fn add(set: &mut Vec<Value>, v: Value) -> bool {
    match set.binary_search(&v) {
        Ok(_) => false,
        Err(i) => {
            set.insert(i, v);
            true
        }
    }
}

/// Runtime objects each function runs on: bodies handed to a runtime object's `block_on` or
/// `spawn`, and whatever they call or poll in place.
fn runs_on(program: &Program, flow: &Flow) -> Vec<Vec<ObjId>> {
    let mut out: Vec<Vec<ObjId>> = vec![Vec::new(); program.functions.len()];
    let mut work = Vec::new();
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            let EventKind::Run {
                body,
                how: RunKind::BlockOn | RunKind::Spawn,
                runtime: RuntimeRef::Var(_) | RuntimeRef::Unknown,
                ..
            } = &ev.kind
            else {
                continue;
            };
            for (o, _) in flow.subject(fid, i) {
                if flow.objects[o.0 as usize].kind == ObjKind::Runtime {
                    let list = &mut out[body.0 as usize];
                    if !list.contains(&o) {
                        list.push(o);
                        work.push((*body, o));
                    }
                }
            }
        }
    }
    while let Some((fid, o)) = work.pop() {
        for ev in &program.func(fid).events {
            let next: &[FnId] = match &ev.kind {
                EventKind::Call { callees, .. } => callees,
                EventKind::Run {
                    body,
                    how: RunKind::Future | RunKind::Inline,
                    ..
                }
                | EventKind::Run {
                    body,
                    runtime: RuntimeRef::Current,
                    how: RunKind::Spawn,
                    ..
                } => std::slice::from_ref(body),
                _ => &[],
            };
            for &c in next {
                let list = &mut out[c.0 as usize];
                if !list.contains(&o) {
                    list.push(o);
                    work.push((c, o));
                }
            }
        }
    }
    out
}

impl Flow {
    /// The object with the given id.
    pub fn object(&self, id: ObjId) -> &Obj {
        &self.objects[id.0 as usize]
    }

    /// The values a place may hold, in any calling context.
    pub fn values(&self, place: Place) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for &n in self.nodes.get(&place).map(Vec::as_slice).unwrap_or(&[]) {
            for &v in &self.pts[n as usize] {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The values held by the receivers of event `event` of `f`.
    pub fn subject(&self, f: FnId, event: usize) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for &p in self
            .subjects
            .get(&(f, event as u32))
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            for v in self.values(p) {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The one runtime instance the receiver of event `event` of `f` holds (a runtime or a
    /// handle to it), given the instance each runtime-building event makes; unknown when the
    /// flow finds none, or several.
    pub fn runtime_of(
        &self,
        f: FnId,
        event: usize,
        instances: &std::collections::HashMap<(FnId, usize), super::InstId>,
    ) -> super::InstId {
        let mut found = None;
        for (o, _) in self.subject(f, event) {
            let obj = self.object(o);
            if obj.kind != ObjKind::Runtime {
                continue;
            }
            match instances.get(&(obj.func, obj.event as usize)) {
                Some(&i) if found.is_none_or(|x| x == i) => found = Some(i),
                _ => return super::InstId::UNKNOWN,
            }
        }
        found.unwrap_or(super::InstId::UNKNOWN)
    }

    /// Runtime objects `f` may run on as a worker, as far as the flow knows.
    pub fn runs_on(&self, f: FnId) -> &[ObjId] {
        self.runs_on.get(f.0 as usize).map_or(&[], Vec::as_slice)
    }

    /// The objects made by event `event` of `f`, one per calling context.
    pub fn made_at(&self, f: FnId, event: usize) -> impl Iterator<Item = ObjId> + '_ {
        self.objects
            .iter()
            .enumerate()
            .filter(move |(_, o)| o.func == f && o.event as usize == event)
            .map(|(i, _)| ObjId(i as u32))
    }

    /// The functions whose locals own an object last, where it is dropped when they return;
    /// `None` when a field or a static owns it (its owner's lifetime decides).
    pub fn holders(&self, program: &Program, id: ObjId) -> Option<Vec<FnId>> {
        let mut held: Vec<FnId> = Vec::new();
        let mut returned: Vec<FnId> = Vec::new();
        for (place, nodes) in &self.nodes {
            let owns = nodes
                .iter()
                .any(|&n| self.pts[n as usize].contains(&(id, Role::Own)));
            if !owns {
                continue;
            }
            match *place {
                Place::Cell(_) => return None,
                Place::Ret(f) => returned.push(f),
                Place::Var(v) => held.push(program.var(v).owner),
                Place::Temp(t) => {
                    if let Some(&f) = program.flow.temp_owner.get(t as usize) {
                        held.push(f);
                    }
                }
                // A parameter may be a borrow: the caller still owns the value.
                Place::Param(..) => {}
            }
        }
        held.sort();
        held.dedup();
        held.retain(|f| !returned.contains(f));
        Some(held)
    }

    /// The places that may own each object of kind `kind`, in any calling context.
    pub fn owning_places(&self, kind: ObjKind) -> HashMap<ObjId, Vec<Place>> {
        let mut out: HashMap<ObjId, Vec<Place>> = HashMap::default();
        for (place, nodes) in &self.nodes {
            for &n in nodes {
                for &(o, role) in &self.pts[n as usize] {
                    if role != Role::Own || self.object(o).kind != kind {
                        continue;
                    }
                    let list = out.entry(o).or_default();
                    if !list.contains(place) {
                        list.push(*place);
                    }
                }
            }
        }
        out
    }

    /// Whether an object, owned, outlives a call of `f`: `f` returns it, or a field or a
    /// static keeps it.
    pub fn outlives(&self, id: ObjId, f: FnId) -> bool {
        self.kept
            .get(id.0 as usize)
            .is_some_and(|(cell, rets)| *cell || rets.contains(&f))
    }

    /// The values that own object `id` because it was made lazily for them
    /// ([`FactKind::Lazy`]): it is made once per such value and lives as long as it. Empty
    /// when the object is not made lazily, or when the flow does not know the owning values.
    pub fn lazy_owners(&self, id: ObjId) -> Vec<ObjId> {
        let mut out: Vec<ObjId> = Vec::new();
        for &(owner, from) in &self.lazy {
            if !self.values(from).iter().any(|(o, _)| *o == id) {
                continue;
            }
            for (o, _) in self.values(owner) {
                if self.object(o).kind == ObjKind::Instance && !out.contains(&o) {
                    out.push(o);
                }
            }
        }
        out
    }

    /// Whether an object, owned, leaves the function that made it: returned, or stored in a
    /// field or a static.
    pub fn leaves(&self, id: ObjId) -> bool {
        self.leaving.get(id.0 as usize).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::model::*;

    fn func(p: &mut Program, name: &str) -> FnId {
        p.functions.push(Function {
            name: name.into(),
            language: Language::Rust,
            span: Span::default(),
            kind: FnKind::Named,
            is_async: false,
            parent: None,
            entry: None,
            callers_unknown: false,
            lib_trait: false,
            task_call: false,
            is_test: false,
            diverges: false,
            events: Vec::new(),
            when: CondId::TRUE,
            params: Vec::new(),
        });
        FnId(p.functions.len() as u32 - 1)
    }

    fn ev(p: &mut Program, f: FnId, kind: EventKind) -> u32 {
        let events = &mut p.functions[f.0 as usize].events;
        events.push(Event {
            span: Span::new(0, events.len() as u32, events.len() as u32 + 1),
            loop_depth: 0,
            kind,
            when: CondId::TRUE,
        });
        events.len() as u32 - 1
    }

    fn fact(p: &mut Program, f: FnId, kind: FactKind) {
        p.flow.facts.push(Fact {
            func: f,
            span: Span::default(),
            kind,
        });
    }

    fn temp(p: &mut Program, f: FnId) -> Place {
        p.flow.temp_owner.push(f);
        Place::Temp(p.flow.temp_owner.len() as u32 - 1)
    }

    /// `fn rt() -> Runtime` called from two places: two runtimes; a handle taken from one and
    /// kept in a static refers to it without owning it.
    #[test]
    fn a_helper_called_twice_makes_two_runtimes() {
        let mut p = Program::default();
        let main = func(&mut p, "main");
        let rt = func(&mut p, "rt");
        let new = ev(
            &mut p,
            rt,
            EventKind::RuntimeNew {
                var: None,
                flavor: Flavor::CurrentThread,
                disabled: crate::model::Drivers::NONE,
                api: "tokio::runtime::Runtime::new".into(),
            },
        );
        let t = temp(&mut p, rt);
        fact(&mut p, rt, FactKind::New { event: new, to: t });
        fact(
            &mut p,
            rt,
            FactKind::Assign {
                to: Place::Ret(rt),
                from: t,
            },
        );
        p.flow.cells.push(Cell {
            kind: CellKind::Static,
            owner: String::new(),
            name: "HANDLE".into(),
        });
        let mut results = Vec::new();
        for _ in 0..2 {
            let call = ev(
                &mut p,
                main,
                EventKind::Call {
                    callees: smallvec::smallvec![rt],
                    result: None,
                },
            );
            let r = temp(&mut p, main);
            fact(
                &mut p,
                main,
                FactKind::Call {
                    event: call,
                    args: Vec::new(),
                    result: Some(r),
                },
            );
            results.push(r);
        }
        let h = temp(&mut p, main);
        fact(
            &mut p,
            main,
            FactKind::HandleOf {
                to: h,
                from: results[0],
            },
        );
        fact(
            &mut p,
            main,
            FactKind::Store {
                cell: CellId(0),
                from: h,
                overwrite: false,
            },
        );
        let facts = analyze(&p, &crate::kb::Kb::builtin());
        let flow = &facts.flow;
        assert_eq!(flow.objects.len(), 2);
        let a = flow.values(results[0]);
        let b = flow.values(results[1]);
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 1);
        assert_ne!(a[0].0, b[0].0);
        assert_eq!(
            flow.values(Place::Cell(CellId(0))),
            vec![(a[0].0, Role::Handle)]
        );
        // Both leave `rt` through its return; `main` owns them last.
        assert!(flow.leaves(a[0].0));
        assert_eq!(flow.holders(&p, a[0].0), Some(vec![main]));
    }

    /// A resource made by a body that `block_on` runs on a helper's runtime comes back as the
    /// call's value, is kept in a field and read by a body run on the helper's other runtime.
    #[test]
    fn block_on_hands_back_what_the_body_returns() {
        let mut p = Program::default();
        let helper = func(&mut p, "one_shot");
        let new = ev(
            &mut p,
            helper,
            EventKind::RuntimeNew {
                var: None,
                flavor: Flavor::CurrentThread,
                disabled: crate::model::Drivers::NONE,
                api: "tokio::runtime::Runtime::new".into(),
            },
        );
        let t = temp(&mut p, helper);
        fact(&mut p, helper, FactKind::New { event: new, to: t });
        fact(
            &mut p,
            helper,
            FactKind::Assign {
                to: Place::Ret(helper),
                from: t,
            },
        );
        p.flow.cells.push(Cell {
            kind: CellKind::Field,
            owner: "Client".into(),
            name: "conn".into(),
        });
        let mut bodies = Vec::new();
        for name in ["open", "send"] {
            let f = func(&mut p, name);
            let body = func(&mut p, "<future>");
            p.functions[body.0 as usize].kind = FnKind::Future;
            p.functions[body.0 as usize].parent = Some(f);
            let call = ev(
                &mut p,
                f,
                EventKind::Call {
                    callees: smallvec::smallvec![helper],
                    result: None,
                },
            );
            let rt = temp(&mut p, f);
            fact(
                &mut p,
                f,
                FactKind::Call {
                    event: call,
                    args: Vec::new(),
                    result: Some(rt),
                },
            );
            let run = ev(
                &mut p,
                f,
                EventKind::Run {
                    body,
                    how: RunKind::BlockOn,
                    runtime: RuntimeRef::Unknown,
                    handle: HandleFate::Kept,
                    api: "tokio::runtime::Runtime::block_on".into(),
                },
            );
            fact(
                &mut p,
                f,
                FactKind::Subject {
                    event: run,
                    place: rt,
                },
            );
            let out = temp(&mut p, f);
            fact(
                &mut p,
                f,
                FactKind::Call {
                    event: run,
                    args: Vec::new(),
                    result: Some(out),
                },
            );
            bodies.push((f, body, out));
        }
        // `open`'s body connects; the stream comes back and is stored in the field.
        let (open, open_body, stream) = bodies[0];
        let create = ev(
            &mut p,
            open_body,
            EventKind::Create {
                resource: None,
                api: "tokio::net::TcpStream::connect".into(),
                binds_now: true,
                made_as: None,
            },
        );
        let s = temp(&mut p, open_body);
        fact(
            &mut p,
            open_body,
            FactKind::New {
                event: create,
                to: s,
            },
        );
        fact(
            &mut p,
            open_body,
            FactKind::Assign {
                to: Place::Ret(open_body),
                from: s,
            },
        );
        fact(
            &mut p,
            open,
            FactKind::Store {
                cell: CellId(0),
                from: stream,
                overwrite: false,
            },
        );
        let facts = analyze(&p, &crate::kb::Kb::builtin());
        let flow = &facts.flow;
        let conn = flow.values(Place::Cell(CellId(0)));
        assert_eq!(conn.len(), 1);
        assert_eq!(flow.object(conn[0].0).kind, ObjKind::Resource);
        // The two bodies run on the two runtimes the helper makes for their callers.
        let (a, b) = (flow.runs_on(open_body), flow.runs_on(bodies[1].1));
        assert_eq!((a.len(), b.len()), (1, 1));
        assert_ne!(a[0], b[0]);
        // Kept in a field, the stream is owned by its struct, not by a body's locals.
        assert_eq!(flow.holders(&p, conn[0].0), None);
    }
}
