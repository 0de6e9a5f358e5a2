//! Linking the lowered files of one project into a [`Program`]: ids are shifted into one
//! numbering and symbolic references (imports across modules, methods, class attributes,
//! fixtures, cached factories) are resolved into calls, uses and closes.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::flow::PENDING;
use super::ir::{AttrDef, Def, FileIr, HandedFn, MarkKind, Pending, PendingAt, RefKind};
use super::project::Project;
use super::subclasses::{LibClass, Subclasses, is_constructor};
use crate::kb::{Concept, Kb};
use crate::model::{
    CondId, Entry, Event, EventKind, FileInfo, FnId, Global, GlobalId, Language, Program,
    ResourceRef, RuntimeRef, StorageKind, VarId,
};

/// The link loop gives emptied pages back after this many files.
const RELEASE_EVERY: usize = 64;

/// `self.m()` is dispatched over project subclasses of the calling method's class only while at
/// most this many classes (that class among them) have been met ([`Linker::dispatch`]).
const DISPATCH_CAP: usize = 64;

/// Maximum alias hops followed when resolving a path.
const MAX_HOPS: u32 = 10;

#[derive(Debug, Clone, Copy)]
enum Target {
    Module(usize),
    Fn(FnId),
    Class(usize, u32),
    Instance(usize, u32),
    Global(GlobalId),
}

struct Linker<'a> {
    files: &'a [FileIr],
    modules: HashMap<&'a str, usize>,
    fn_off: Vec<u32>,
    glob_off: Vec<u32>,
    /// Globals made for instance attributes of classes built at module level.
    inst_globals: HashMap<(usize, u32, String), GlobalId>,
    /// Resolved base classes of each class, by file and class index.
    bases: Vec<Vec<Vec<(usize, u32)>>>,
    /// Return type paths of functions, by program function id.
    ret_types: Vec<Option<Box<str>>>,
    /// Whether each function (by program id) is a property getter.
    props: Vec<bool>,
    /// Classes by short name; `None` when several classes share the name.
    class_names: HashMap<&'a str, Option<(usize, u32)>>,
    /// Decorated functions whose calls go through project decorators' wrappers: each wrapper,
    /// outermost first, and whether it calls what it wraps in place (rather than in a body it
    /// hands to a loop or a thread).
    redirect: HashMap<FnId, Vec<(FnId, bool)>>,
    /// The wrapper of each decorator (or factory stage) whose parameter is the decorated
    /// function, and the functions decorated through it.
    wrapped: HashMap<FnId, (FnId, Vec<FnId>)>,
    /// How many functions each decorator factory of the project decorates.
    applied: HashMap<FnId, u32>,
    /// The nested function each function returns, for the functions that return one.
    returns_fns: HashMap<FnId, FnId>,
    /// The functions each table of functions holds (module-level containers, by the
    /// container's canonical dotted path): what a call through the table may call.
    tables: HashMap<Box<str>, Vec<FnId>>,
    /// The functions stored by name into each table (a store of a function defined elsewhere,
    /// or a registering decorator's application): each such store is a use as a value.
    table_stores: Vec<(Box<str>, FnId)>,
    /// Tables read as values in ways the frontend does not follow, and tables called through.
    table_uses: std::sync::Mutex<TableUses>,
    /// Decorated functions that the project calls or hands over (through their wrappers).
    reached: std::sync::Mutex<HashSet<FnId>>,
    /// The class of the instances that every typed call site passes to a parameter
    /// (`None` when call sites disagree).
    param_types: HashMap<(FnId, u32), Option<(usize, u32)>>,
    /// Parameters of tests that pytest fills from a wide-scope fixture making something
    /// runtime-bound: (test, position, fixture function), by the test's file.
    fixture_params: HashMap<usize, Vec<(FnId, u32, FnId)>>,
    /// Once the tables above that paths resolve through are final (see [`Linker::freeze`]):
    /// the resolutions of the paths met while resolving others (re-exports, base classes,
    /// attribute and return types), by hop count.
    memo: Option<Memo>,
    /// What building an instance of each class (by file and class index) involves, once
    /// asked: the lazy classes among it and its project bases, and the constructor hooks.
    built: std::sync::Mutex<HashMap<(usize, u32), BuiltBy>>,
    /// The files of `conftest` modules whose fixtures other files see, in file order.
    conftests: Vec<usize>,
}

/// The tables of functions read as values the frontend does not follow, and the tables
/// called through (by canonical path).
type TableUses = (HashSet<Box<str>>, HashSet<Box<str>>);

/// What building an instance of a class involves (see [`Linker::built_by`]).
#[derive(Clone, Default)]
struct BuiltBy {
    /// The lazy classes among the class and its project bases ([`Linker::note_built`]).
    lazy: Vec<(usize, u32)>,
    /// The class's `__init__`, when it is a project function.
    init: Option<FnId>,
    /// The project methods a library base's constructor calls ([`Linker::constructor_hooks`]).
    hooks: Vec<FnId>,
}

/// Resolutions of paths by hop count (index `hops - 1`), each level behind a lock of its own.
type Memo = Vec<std::sync::Mutex<HashMap<Box<str>, Option<(Target, usize)>>>>;

/// Links the files of a project (in the project's file order) into one program.
pub fn link(project: &Project, mut files: Vec<FileIr>, kb: &Kb) -> Program {
    #[cfg(feature = "heap-stats")]
    report_sizes(&files);
    #[cfg(feature = "heap-stats")]
    if std::env::var_os("LOOPLINT_HEAP_PARTS").is_some() {
        measure(files);
    }
    let call_args: Vec<super::ir::CallArgs> = files
        .iter_mut()
        .map(|f| std::mem::take(&mut f.call_args))
        .collect();
    let mut bodies: Vec<Vec<super::ir::IrFn>> = files
        .iter_mut()
        .map(|f| std::mem::take(&mut f.functions))
        .collect();
    // Flow facts leave the files too, so that each file's are freed as soon as they are linked.
    let flows: Vec<FileFlow> = files
        .iter_mut()
        .map(|f| FileFlow {
            cells: std::mem::take(&mut f.cells),
            temps: std::mem::take(&mut f.temps),
            facts: std::mem::take(&mut f.flow),
        })
        .collect();
    // So do the interned paths: the link needs a file's only while it links that file, and
    // frees them (with their resolutions) once it is linked.
    let texts: Vec<super::ir::Paths> = files
        .iter_mut()
        .map(|f| std::mem::take(&mut f.paths))
        .collect();
    let mut program = Program::default();
    let fn_counts: Vec<u32> = bodies.iter().map(|b| b.len() as u32).collect();
    let mut var_off = Vec::with_capacity(files.len());
    let mut nv = 0u32;
    for f in &files {
        var_off.push(nv);
        nv += f.vars.len() as u32;
    }
    let mut linker = Linker::new(
        project,
        &files,
        &fn_counts,
        bodies
            .iter()
            .flat_map(|fns| fns.iter().map(|f| f.returns.clone()))
            .collect(),
        bodies
            .iter()
            .flat_map(|fns| fns.iter().map(|f| f.property))
            .collect(),
    );
    for (k, f) in files.iter().enumerate() {
        program.files.push(FileInfo {
            source: f.source,
            language: Language::Python,
            group: 0,
        });
        for (span, _) in &f.request_loops {
            program
                .request_loops
                .push(crate::model::Span::new(k as u32, span.start, span.end));
        }
        for g in &f.globals {
            let mut g = g.clone();
            g.span.file = k as u32;
            g.init = g.init.map(|i| FnId(i.0 + linker.fn_off[k]));
            program.globals.push(g);
        }
        for v in &f.vars {
            let mut v = v.clone();
            v.span.file = k as u32;
            v.owner = FnId(v.owner.0 + linker.fn_off[k]);
            program.vars.push(v);
        }
    }
    linker.instance_globals(&mut program);
    linker.freeze();
    let mut resolved = Resolved::new(&linker, texts);
    // The function table grows as the files' functions are freed, rather than being taken
    // whole while all of them are still alive.
    let asyncs: Vec<bool> = bodies
        .iter()
        .flat_map(|fns| fns.iter().map(|f| f.func.is_async))
        .collect();
    let public_only: Vec<bool> = bodies
        .iter()
        .flat_map(|fns| fns.iter().map(|f| f.public_only))
        .collect();
    let param_names: Vec<thin_vec::ThinVec<ruff_python_ast::name::Name>> = bodies
        .iter_mut()
        .flat_map(|fns| fns.iter_mut().map(|f| std::mem::take(&mut f.param_names)))
        .collect();
    // The static cells holding the default values of parameters, by function.
    let defaults: Vec<thin_vec::ThinVec<(u32, crate::model::Cell)>> = bodies
        .iter_mut()
        .flat_map(|fns| fns.iter_mut().map(|f| std::mem::take(&mut f.defaults)))
        .collect();
    // Whether each function tests a parameter: only calls of such functions keep their
    // arguments, which are copied out as each file is linked (see `keep_call_args`).
    let tests_params: Vec<bool> = bodies
        .iter()
        .flat_map(|fns| fns.iter().map(|f| !f.func.params.is_empty()))
        .collect();
    let mut value_refs: Vec<FnId> = Vec::new();
    // Calls of partials made in other modules: how many bound arguments come first (by
    // function and event), and where they are (their literal arguments are not known).
    let mut shifted: HashMap<(u32, u32), u8> = HashMap::default();
    let mut unbound: HashSet<crate::model::Span> = HashSet::default();
    let mut built: Vec<crate::model::Built> = Vec::new();
    linker.decorators(&bodies, &mut value_refs);
    linker.fn_tables(&bodies);
    // Functions returned by the function that holds them: (returner, returned).
    let returned: Vec<(FnId, FnId)> = bodies
        .iter()
        .enumerate()
        .flat_map(|(k, fns)| {
            let fo = linker.fn_off[k];
            fns.iter().enumerate().filter_map(move |(l, f)| {
                let r = f.returns_fn?;
                fns.get(r as usize)?
                    .returned
                    .then_some((FnId(fo + l as u32), FnId(fo + r)))
            })
        })
        .collect();
    linker.param_types(&bodies, &resolved, &param_names);
    let mut flow = crate::frontend::flow::FlowLinker::default();
    let mut linked_facts = Vec::with_capacity(files.len());
    let mut getattr_bound: HashMap<usize, Vec<Box<str>>> = HashMap::default();
    let mut handing = Handing::default();
    // Calls of partials need a lookup only when some module binds one.
    let has_partials = files
        .iter()
        .any(|f| f.defs.values().any(|d| matches!(d, Def::Partial(..))));
    let subclasses = if files.iter().any(|f| !f.self_calls.is_empty()) {
        linker.subclasses()
    } else {
        HashMap::default()
    };
    crate::alloc::phase("link setup");
    // The events of each function are gathered here, then copied out.
    let mut scratch: Vec<Event> = Vec::new();
    for (k, ((fns, ir), args)) in bodies.into_iter().zip(flows).zip(call_args).enumerate() {
        // The files' functions are freed as they are linked, mostly in pages of the workers
        // that lowered them: now and then those give the emptied pages back.
        if k % RELEASE_EVERY == RELEASE_EVERY - 1 {
            crate::alloc::release();
        }
        if k % 256 == 255 {
            crate::alloc::phase("link loop part");
        }
        let self_calls: HashSet<(u32, u32)> = files[k].self_calls.iter().copied().collect();
        let (fo, vo, go) = (linker.fn_off[k], var_off[k], linker.glob_off[k]);
        // Program index of each event of each function, for the flow facts.
        let mut event_index: Vec<Vec<Option<u32>>> = Vec::with_capacity(fns.len());
        let mut n_olds: Vec<u32> = Vec::with_capacity(fns.len());
        let paths = resolved.file(k);
        // The shift of each called path (see `partial_shift`), once per path.
        let mut shifts: Vec<Option<Option<u8>>> = if has_partials {
            vec![None; paths.text.len()]
        } else {
            Vec::new()
        };
        for (local, irf) in (0u32..).zip(fns) {
            let handed = irf.handed;
            let mut func = irf.func;
            func.span.file = k as u32;
            func.parent = func.parent.map(|p| FnId(p.0 + fo));
            let mut pending = irf.pending.iter().peekable();
            let old_events = std::mem::take(&mut func.events);
            let mut events = std::mem::take(&mut scratch);
            events.reserve(old_events.len() + irf.pending.len());
            let n_old = old_events.len();
            let mut old_iter = old_events.into_iter();
            let mut index = Vec::with_capacity(n_old);
            // The event each pending reference resolved to, for facts that name it.
            let mut resolved = Vec::with_capacity(irf.pending.len());
            let mut n_pending = 0u32;
            for i in 0..=n_old {
                while let Some(p) = pending.next_if(|p| p.at as usize == i) {
                    let before = events.len();
                    n_pending += 1;
                    if let Pending::ParamCall { owner, index } = p.what {
                        let site = (FnId(fo + local), before);
                        handing
                            .sites
                            .entry((FnId(fo + owner), index))
                            .or_default()
                            .push(site);
                    }
                    linker.resolve(
                        k,
                        p,
                        paths,
                        (&asyncs, func.is_async, FnId(fo + local)),
                        kb,
                        &mut events,
                        &mut value_refs,
                        &mut built,
                    );
                    if self_calls.contains(&(local, n_pending - 1))
                        && let Some(ev) = linker.dispatch(
                            (k, paths.text),
                            p,
                            &subclasses,
                            (&asyncs, func.is_async),
                            &mut events,
                            before,
                        )
                    {
                        events.push(ev);
                    }
                    // A call through a table runs one of the functions it holds.
                    if matches!(p.what, Pending::Table { .. }) {
                        for (i, ev) in events.iter().enumerate().skip(before) {
                            if matches!(&ev.kind, EventKind::Call { callees, .. } if callees.len() > 1)
                            {
                                program
                                    .reach
                                    .insert((FnId(fo + local), i as u32), crate::model::Reach::May);
                            }
                        }
                    }
                    if p.when != CondId::TRUE {
                        let when = program.conds.import(&files[k].conds, p.when);
                        events[before..].iter_mut().for_each(|e| e.when = when);
                    }
                    let at = flow_event(&events, before);
                    // A call of a partial made in another module: its own arguments come
                    // after the ones the partial binds.
                    if let (
                        Some(at),
                        Pending::Ref {
                            path,
                            kind: RefKind::Call,
                        },
                    ) = (at, &p.what)
                        && has_partials
                        && let Some(n) = shifts.get_mut(*path as usize).and_then(|slot| {
                            *slot.get_or_insert_with(|| {
                                linker.partial_shift(&paths.text[*path as usize], 0)
                            })
                        })
                    {
                        let span = events[at as usize].span;
                        shifted.insert((fo + local, at), n);
                        unbound.insert(span);
                    }
                    resolved.push(at);
                }
                if let Some(mut ev) = old_iter.next() {
                    index.push(Some(events.len() as u32));
                    ev.span.file = k as u32;
                    ev.when = program.conds.import(&files[k].conds, ev.when);
                    shift(&mut ev.kind, fo, vo, go);
                    events.push(ev);
                }
            }
            // Pendings recorded past the end (none expected) are resolved last.
            for p in pending {
                let before = events.len();
                linker.resolve(
                    k,
                    p,
                    paths,
                    (&asyncs, func.is_async, FnId(fo + local)),
                    kb,
                    &mut events,
                    &mut value_refs,
                    &mut built,
                );
                resolved.push(flow_event(&events, before));
            }
            // Copied out at their exact size: the allocator would keep a block shrunk in place
            // at its old size.
            func.events = Vec::with_capacity(events.len());
            func.events.append(&mut events);
            scratch = events;
            program.functions.push(func);
            for (call, pos, what) in handed {
                let at = match call & PENDING {
                    0 => index.get(call as usize).copied().flatten(),
                    _ => resolved.get((call & !PENDING) as usize).copied().flatten(),
                };
                let body = match what {
                    HandedFn::Param(..) => None,
                    HandedFn::Local(l) => Some(FnId(fo + l)),
                    HandedFn::Path(pi) => match paths.get(pi) {
                        Some((Target::Fn(f), 0)) => Some(f),
                        _ => None,
                    },
                };
                // A function passed by keyword goes to the parameter of that name.
                let pos = match (pos & super::ir::KEYWORD, at) {
                    (0, _) => Some(pos),
                    (_, Some(at)) => paths
                        .text
                        .get((pos & !super::ir::KEYWORD) as usize)
                        .and_then(|name| {
                            keyword_position(&program, &param_names, fo + local, at, name)
                        }),
                    _ => None,
                };
                if let (HandedFn::Param(owner, index), Some(at), Some(pos)) = (what, at, pos) {
                    handing.forwards.push((
                        (FnId(fo + owner), index),
                        (FnId(fo + local), at as usize),
                        pos,
                    ));
                }
                if let (Some(at), Some(body), Some(pos)) =
                    (at, body, pos.and_then(|p| u8::try_from(p).ok()))
                {
                    if linker.redirect.contains_key(&body) {
                        linker.reached().insert(body);
                    }
                    for body in linker.called_through(body) {
                        handing
                            .calls
                            .push((FnId(fo + local), at as usize, pos, body));
                    }
                }
            }
            n_olds.push(index.len() as u32);
            index.extend(resolved);
            event_index.push(index);
        }
        resolved.free(k);
        keep_call_args(&mut program, k, fo, args, &tests_params, &unbound);
        let FileFlow {
            cells,
            temps,
            mut facts,
        } = ir;
        // The names a module with its own `__getattr__` mentions itself are bound there.
        if files[k].module_getattr.is_some() {
            let module = &files[k].module;
            let own: Vec<Box<str>> = cells
                .iter()
                .filter(|c| c.kind == crate::model::CellKind::Static && &c.owner == module)
                .map(|c| c.name.as_str().into())
                .collect();
            getattr_bound.insert(k, own);
        }
        if !facts.is_empty() {
            let cells = linker.cell_owners(cells);
            let (cell_ids, temp_base) = flow.register(&mut program.flow, &cells, &temps, fo);
            // Facts naming a pending reference name the event it resolved to, listed after
            // the function's own events.
            let event = |f: u32, e: u32| {
                let e = if e & PENDING != 0 {
                    n_olds.get(f as usize).copied().unwrap_or(0) + (e & !PENDING)
                } else {
                    e
                };
                event_index
                    .get(f as usize)
                    .and_then(|v| v.get(e as usize))
                    .copied()
                    .flatten()
            };
            facts.link(fo, vo, temp_base, &cell_ids, event);
            facts.bind_keywords(
                |f, e, name| keyword_position(&program, &param_names, f, e, name),
                |f, e| shifted.get(&(f, e)).copied().unwrap_or(0),
                !shifted.is_empty(),
            );
            facts.fill_defaults(fo, |f, e, positional, keywords| {
                if shifted.contains_key(&(f, e)) {
                    return Vec::new();
                }
                let omitted = left_out(
                    &program.functions,
                    &param_names,
                    &defaults,
                    (f, e),
                    positional,
                    keywords,
                );
                omitted
                    .into_iter()
                    .map(|(k, cell)| {
                        let id = flow.intern(&mut program.flow, cell);
                        (k, crate::model::Place::Cell(id))
                    })
                    .collect()
            });
        }
        // What a wide fixture yields is the value of each test parameter that names it.
        for &(test, pos, fixture) in linker.fixture_params.get(&k).map_or(&[][..], |v| v) {
            let span = program.functions[test.0 as usize].span;
            facts.push(
                test.0,
                span,
                crate::model::FactKind::Assign {
                    to: crate::model::Place::Param(test, pos),
                    from: crate::model::Place::Ret(fixture),
                },
            );
        }
        linked_facts.push((k as u32, facts));
    }
    module_getattr_reads(
        &files,
        &linker.fn_off,
        &getattr_bound,
        &program,
        &mut linked_facts,
    );
    linker.class_attr_reads(&program, &mut linked_facts);
    crate::alloc::phase("link loop files");
    // A public function that the project calls is taken to be called by the project: its known
    // callers stand for its contexts (an application's functions are not called from outside).
    let mut called = vec![false; program.functions.len()];
    let mut calls: HashMap<FnId, u32> = HashMap::default();
    for f in &program.functions {
        for ev in &f.events {
            if let EventKind::Call { callees, .. } = &ev.kind {
                for c in callees {
                    if let Some(slot) = called.get_mut(c.0 as usize) {
                        *slot = true;
                    }
                    if linker.applied.contains_key(c) {
                        *calls.entry(*c).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    handing.follow_forwards(&program);
    let (runs, mut explained) = handing.runs(&program);
    let handed: HashSet<FnId> = runs.iter().map(|r| r.body).collect();
    for (i, public_only) in public_only.into_iter().enumerate() {
        if public_only && (called[i] || handed.contains(&FnId(i as u32))) {
            program.functions[i].callers_unknown = false;
        }
        // A test coroutine the project also calls as a helper: calling it only builds the
        // coroutine (pytest's per-test loop applies when pytest runs it), so its body runs
        // where its callers await it.
        let f = &mut program.functions[i];
        if called[i] && matches!(f.entry, Some(Entry::Runtime { test: true, .. })) {
            f.entry = None;
        }
    }
    let refs: HashSet<FnId> = value_refs.iter().copied().collect();
    for (f, n) in linker.table_explained() {
        *explained.entry(f).or_default() += n;
    }
    // A function used as a value only where it is handed to helpers that call it, or stored
    // in tables that are only called through, has the callers the analysis sees there.
    for f in value_refs {
        match explained.get_mut(&f) {
            Some(n) if *n > 0 => *n -= 1,
            _ => program.functions[f.0 as usize].callers_unknown = true,
        }
    }
    for f in linker.table_leaked_fns() {
        program.functions[f.0 as usize].callers_unknown = true;
    }
    // A lambda kept in a table that the project only calls through is called there alone.
    for f in linker.table_closures_called() {
        let func = &mut program.functions[f.0 as usize];
        if func.kind == crate::model::FnKind::Closure && func.entry.is_none() {
            func.callers_unknown = false;
        }
    }
    let stages: HashSet<FnId> = returned.iter().map(|&(_, w)| w).collect();
    // The stage of a decorator factory that the project only applies (`@every(30)`), and
    // that hands back no function of its own (it registers or schedules what it is given),
    // is called where each application calls it, and nowhere else.
    let applied_only = |returner: FnId, w: FnId| {
        !returned.iter().any(|&(r, _)| r == w)
            && !refs.contains(&returner)
            && linker
                .applied
                .get(&returner)
                .is_some_and(|n| calls.get(&returner) == Some(n))
    };
    for &(returner, w) in &returned {
        if applied_only(returner, w) {
            continue;
        }
        if stages.contains(&returner)
            || !linker.wrapper_callers_known(&program, returner, w, &called, &refs)
        {
            program.functions[w.0 as usize].callers_unknown = true;
        }
    }
    for r in &runs {
        let f = &mut program.functions[r.body.0 as usize];
        if f.kind == crate::model::FnKind::Closure && f.entry.is_none() {
            f.callers_unknown = false;
        }
    }
    program.param_runs = runs;
    super::cached_calls::mark(&mut program, |f| {
        param_names.get(f.0 as usize).is_some_and(|p| !p.is_empty())
    });
    crate::alloc::phase("link loop");
    linker.apply_marks(&mut program);
    drop(linker);
    drop(files);
    crate::alloc::release();
    crate::alloc::phase("link files dropped");

    // Only the facts that a made value may reach are kept (see `carriers`), once the files'
    // other results are freed; the other facts are freed file by file.
    program.flow.facts = super::carriers::keep(&program, linked_facts);
    program.flow.built = built;
    crate::alloc::release();
    program
}

/// Prints how much the main parts of the files' results take (the `heap-stats` feature).
#[cfg(feature = "heap-stats")]
fn report_sizes(files: &[FileIr]) {
    use std::mem::size_of;
    if std::env::var_os("LOOPLINT_HEAP_STATS").is_none() {
        return;
    }
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    let (mut fns, mut fn_cap, mut evs, mut pend, mut names, mut paths, mut facts) =
        (0, 0, 0, 0, 0, 0, 0);
    let (mut vars, mut globals, mut classes, mut params, mut apis) = (0, 0, 0, 0, 0);
    let mut kinds = [0usize; 20];
    for f in files {
        fns += f.functions.len();
        fn_cap += f.functions.capacity();
        for irf in &f.functions {
            evs += irf.func.events.capacity();
            pend += irf.pending.capacity();
            names += irf.func.name.capacity();
            params += irf.param_names.len();
            for e in &irf.func.events {
                let k = match &e.kind {
                    EventKind::Call { .. } => 0,
                    EventKind::Run { api, .. } => {
                        apis += api.len();
                        1
                    }
                    EventKind::BlockingEntry { api } => {
                        apis += api.capacity();
                        2
                    }
                    EventKind::RuntimeNew { api, .. } => {
                        apis += api.capacity();
                        3
                    }
                    EventKind::Create { api, .. } => {
                        apis += api.len();
                        4
                    }
                    EventKind::Use { .. } => 5,
                    EventKind::Close { .. } => 6,
                    EventKind::NeedsRuntime { api } => {
                        apis += api.capacity();
                        7
                    }
                    EventKind::Blocking { api } => {
                        apis += api.capacity();
                        8
                    }
                    EventKind::ScopeEnd { .. } => 9,
                    EventKind::Wait { .. } => 10,
                    EventKind::Escape { .. } => 11,
                    EventKind::Hygiene { .. } => 12,
                    _ => 13,
                };
                kinds[k] += 1;
            }
        }
        paths += f.paths.iter().map(|p| p.len() + 4).sum::<usize>();
        facts += f.flow.facts.capacity();
        vars += f.vars.len();
        globals += f.globals.len();
        classes += f.classes.len();
    }
    eprintln!(
        "sizes: {} files; {fns} fns ({:.2} MiB IrFn of {} B), events {evs} ({:.2} MiB of {} B), \
         pending {pend} ({:.2} MiB), fn names {:.2} MiB, params {params}, paths {:.2} MiB, \
         packed facts {facts} ({:.2} MiB), vars {vars}, globals {globals}, classes {classes}, \
         event apis {:.2} MiB; events by kind {kinds:?}",
        files.len(),
        mib(fn_cap * size_of::<super::ir::IrFn>()),
        size_of::<super::ir::IrFn>(),
        mib(evs * size_of::<Event>()),
        size_of::<Event>(),
        mib(pend * size_of::<PendingAt>()),
        mib(names),
        mib(paths),
        mib(facts * size_of::<super::facts::PackedFact>()),
        mib(apis),
    );
}

/// The position of the parameter named `name` in every callee of event `e` of `f` (a call of
/// project functions), when they agree.
fn keyword_position(
    program: &Program,
    names: &[thin_vec::ThinVec<ruff_python_ast::name::Name>],
    f: u32,
    e: u32,
    name: &str,
) -> Option<u32> {
    let ev = program.functions.get(f as usize)?.events.get(e as usize)?;
    let EventKind::Call { callees, .. } = &ev.kind else {
        return None;
    };
    let mut found = None;
    for c in callees {
        let p = names.get(c.0 as usize)?.iter().position(|n| n == name)? as u32;
        if found.is_some_and(|x| x != p) {
            return None;
        }
        found = Some(p);
    }
    found
}

/// A read of a module's name that the module does not bind calls the module's `__getattr__`
/// (PEP 562): each such name the project reads (a static cell of the module) holds what the
/// function returns. `bound` lists, per file, the names of its own module it mentions.
fn module_getattr_reads(
    files: &[FileIr],
    fn_off: &[u32],
    bound: &HashMap<usize, Vec<Box<str>>>,
    program: &Program,
    linked: &mut [(u32, super::facts::FileFacts)],
) {
    for (k, file) in files.iter().enumerate() {
        let Some(getattr) = &file.module_getattr else {
            continue;
        };
        let own = bound.get(&k).map_or(&[][..], |v| &v[..]);
        let func = FnId(fn_off[k] + getattr.func);
        let span = program.func(func).span;
        let Some((_, facts)) = linked.iter_mut().find(|(f, _)| *f as usize == k) else {
            continue;
        };
        for (i, cell) in program.flow.cells.iter().enumerate() {
            if cell.kind == crate::model::CellKind::Static
                && cell.owner == file.module
                && getattr.answers(&cell.name)
                && !own.iter().any(|n| **n == *cell.name)
            {
                facts.push(
                    func.0,
                    span,
                    crate::model::FactKind::Assign {
                        to: crate::model::Place::Cell(crate::model::CellId(i as u32)),
                        from: crate::model::Place::Ret(func),
                    },
                );
            }
        }
    }
}

/// The parameters with a default value the flow follows that call event `e` of function
/// `f` leaves out, passing `positional` arguments by position and `keywords` by name, with
/// the cells holding their defaults; nothing unless every callee has the same ones.
fn left_out<'d>(
    functions: &[crate::model::Function],
    names: &[thin_vec::ThinVec<ruff_python_ast::name::Name>],
    defaults: &'d [thin_vec::ThinVec<(u32, crate::model::Cell)>],
    (f, e): (u32, u32),
    positional: u16,
    keywords: &[ruff_python_ast::name::Name],
) -> Vec<(u32, &'d crate::model::Cell)> {
    let Some(EventKind::Call { callees, .. }) = functions
        .get(f as usize)
        .and_then(|func| func.events.get(e as usize))
        .map(|ev| &ev.kind)
    else {
        return Vec::new();
    };
    let mut out: Option<Vec<(u32, &crate::model::Cell)>> = None;
    for c in callees {
        let params = names.get(c.0 as usize).map_or(&[][..], |n| &n[..]);
        let mine: Vec<(u32, &crate::model::Cell)> = defaults
            .get(c.0 as usize)
            .map_or(&[][..], |d| &d[..])
            .iter()
            .filter(|(k, _)| {
                *k >= u32::from(positional)
                    && params
                        .get(*k as usize)
                        .is_some_and(|n| n.is_empty() || !keywords.contains(n))
            })
            .map(|(k, cell)| (*k, cell))
            .collect();
        match &out {
            Some(other) if *other != mine => return Vec::new(),
            _ => out = Some(mine),
        }
    }
    out.unwrap_or_default()
}

/// Functions handed to project functions, and where those call their parameters.
#[derive(Default)]
struct Handing {
    /// Where each parameter (function, position) is called: the body holding the call (the
    /// function or a body nested in it) and how many of its events come before.
    sites: HashMap<(FnId, u32), Vec<(FnId, usize)>>,
    /// Calls that hand a function over: the caller, the call event, the argument's position
    /// and the function.
    calls: Vec<(FnId, usize, u8, FnId)>,
    /// Parameters passed on to a project function: the parameter (function, position), the
    /// call (the body holding it, its event) and the position it is passed at.
    forwards: Vec<(Param, Site, u32)>,
}

/// A parameter: the function and its position.
type Param = (FnId, u32);
/// A place in a body: the body and how many of its events come before.
type Site = (FnId, usize);

/// At most this many places where a helper calls one parameter are followed.
const MAX_SITES: usize = 4;

impl Handing {
    /// A parameter passed on to a project function that calls it in place (in its own body,
    /// not in a thread, loop or executor body it starts, and with no runtime entered before)
    /// is called where that function is called: the call is a site of the parameter. A
    /// coroutine function passed on runs there only when the call is awaited in async code.
    fn follow_forwards(&mut self, program: &Program) {
        let forwards = std::mem::take(&mut self.forwards);
        let callee = |(body, at): (FnId, usize)| match program.functions[body.0 as usize]
            .events
            .get(at)
            .map(|e| &e.kind)
        {
            Some(EventKind::Call { callees, .. }) if callees.len() == 1 => Some(callees[0]),
            _ => None,
        };
        let forwards: Vec<_> = forwards
            .into_iter()
            .filter_map(|(param, site, pos)| Some((param, site, (callee(site)?, pos))))
            .collect();
        // Each round follows one more hop; chains longer than a few hops are not followed.
        let in_place = |sites: &[(FnId, usize)], g: FnId| {
            !sites.is_empty()
                && sites.iter().all(|&(body, at)| {
                    body == g
                        && !program.functions[g.0 as usize].events
                            [..at.min(program.functions[g.0 as usize].events.len())]
                            .iter()
                            .any(|e| matches!(e.kind, EventKind::RuntimeEnter { .. }))
                })
        };
        let is_async = |f: FnId| program.functions[f.0 as usize].is_async;
        for _ in 0..4 {
            let mut changed = false;
            for &(param, site, target) in &forwards {
                if param == target
                    || (is_async(target.0) && !is_async(site.0))
                    || !self
                        .sites
                        .get(&target)
                        .is_some_and(|s| in_place(s, target.0))
                {
                    continue;
                }
                let sites = self.sites.entry(param).or_default();
                if sites.len() < MAX_SITES && !sites.contains(&site) {
                    sites.push(site);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The handed functions that their callee calls: a call of one known function, which
    /// calls the parameter receiving it.
    /// Also counts, per handed function, the arguments that hand it to such a helper.
    fn runs(self, program: &Program) -> (Vec<crate::model::ParamRun>, HashMap<FnId, u32>) {
        let mut out = Vec::new();
        let mut explained: HashMap<FnId, u32> = HashMap::default();
        for (caller, at, pos, body) in self.calls {
            let Some(EventKind::Call { callees, .. }) = program.functions[caller.0 as usize]
                .events
                .get(at)
                .map(|e| &e.kind)
            else {
                continue;
            };
            let [helper] = callees[..] else {
                continue;
            };
            let Some(sites) = self.sites.get(&(helper, u32::from(pos))) else {
                continue;
            };
            *explained.entry(body).or_default() += 1;
            for &site in sites.iter().take(MAX_SITES) {
                out.push(crate::model::ParamRun {
                    run: (caller, at),
                    body,
                    helper,
                    site,
                });
            }
        }
        (out, explained)
    }
}

/// Keeps the arguments of the calls of file `k` (its functions start at `fo` and are linked)
/// whose callees test a parameter: the analysis enters those with the literals passed. The
/// file's other call arguments are freed at once, while later files are still being linked.
fn keep_call_args(
    program: &mut Program,
    k: usize,
    fo: u32,
    call_args: super::ir::CallArgs,
    tests_params: &[bool],
    unbound: &HashSet<crate::model::Span>,
) {
    let mut wanted = HashSet::default();
    for f in &program.functions[fo as usize..] {
        for ev in &f.events {
            if let EventKind::Call { callees, .. } = &ev.kind
                && callees.iter().any(|c| tests_params[c.0 as usize])
            {
                wanted.insert(ev.span);
            }
        }
    }
    if wanted.is_empty() {
        return;
    }
    for (i, span) in call_args.spans().enumerate() {
        let span = crate::model::Span {
            file: k as u32,
            ..span
        };
        if wanted.contains(&span) && !unbound.contains(&span) {
            program.call_args.insert(span, call_args.args(i));
        }
    }
}

/// Shifts the ids inside an event by the file's offsets.
fn shift(kind: &mut EventKind, fo: u32, vo: u32, go: u32) {
    let sv = |v: &mut VarId| v.0 += vo;
    let sr = |r: &mut ResourceRef| match r {
        ResourceRef::Global(g) => g.0 += go,
        ResourceRef::Local(v) => v.0 += vo,
    };
    let srt = |r: &mut RuntimeRef| {
        if let RuntimeRef::Var(v) = r {
            v.0 += vo;
        }
    };
    match kind {
        EventKind::Call { callees, result } => {
            callees.iter_mut().for_each(|c| c.0 += fo);
            if let Some(v) = result {
                sv(v);
            }
        }
        EventKind::Run {
            body,
            runtime,
            handle,
            ..
        } => {
            body.0 += fo;
            srt(runtime);
            if let crate::model::HandleFate::Bound(v) = handle {
                sv(v);
            }
        }
        EventKind::RuntimeNew { var, .. } | EventKind::HandleOf { var, .. } => {
            if let Some(v) = var {
                sv(v);
            }
            if let EventKind::HandleOf { runtime, .. } = kind {
                srt(runtime);
            }
        }
        EventKind::RuntimeEnter { runtime, .. } | EventKind::RuntimeClose { runtime, .. } => {
            srt(runtime)
        }
        EventKind::Create { resource, .. } => {
            if let Some(r) = resource {
                sr(r);
            }
        }
        EventKind::Use { resource } | EventKind::Close { resource } => sr(resource),
        EventKind::Escape { var } | EventKind::Lend { var } => sv(var),
        EventKind::ScopeEnd { vars } => vars.iter_mut().for_each(sv),
        EventKind::BlockingEntry { .. }
        | EventKind::Serve { .. }
        | EventKind::NeedsRuntime { .. }
        | EventKind::RuntimeProbe { .. }
        | EventKind::Blocking { .. }
        | EventKind::Hygiene { .. }
        | EventKind::Instance { .. }
        | EventKind::ExpectsFailure { .. }
        | EventKind::Wait { .. } => {}
    }
}

/// Finds the project's classes that derive, directly or through other project classes, from a
/// library type whose constructor the knowledge base knows (see [`super::subclasses`]).
pub fn library_subclasses(project: &Project, files: &[FileIr], kb: &Kb) -> Subclasses {
    let mut out = Subclasses::default();
    // The bases, as written, that name a library constructor: without one, no class derives
    // from a library type, and the project's bases need not be resolved.
    let mut looked: HashMap<&str, bool> = HashMap::default();
    for b in files.iter().flat_map(|f| &f.classes).flat_map(|c| &c.bases) {
        looked.entry(&**b).or_insert_with(|| {
            kb.lookup(Language::Python, b)
                .iter()
                .any(|a| is_constructor(a))
        });
    }
    if !looked.values().any(|&c| c) {
        return out;
    }
    let fn_counts: Vec<u32> = files.iter().map(|f| f.functions.len() as u32).collect();
    let linker = Linker::new(
        project,
        files,
        &fn_counts,
        files
            .iter()
            .flat_map(|f| f.functions.iter().map(|f| f.returns.clone()))
            .collect(),
        files
            .iter()
            .flat_map(|f| f.functions.iter().map(|f| f.property))
            .collect(),
    );
    let mut linker = linker;
    linker.freeze();
    let constructor = |path: &str| looked.get(path).copied().unwrap_or(false);
    let mut index: HashMap<(usize, u32), u32> = HashMap::default();
    for (fi, f) in files.iter().enumerate() {
        for (ci, c) in f.classes.iter().enumerate() {
            let ci = ci as u32;
            // The class and its project bases, up to the library type.
            let mut base = None;
            let mut seen = vec![(fi, ci)];
            let mut work = vec![(fi, ci)];
            while let Some((bf, bc)) = work.pop() {
                let class = &files[bf].classes[bc as usize];
                for b in &class.bases {
                    if constructor(b) {
                        base.get_or_insert_with(|| b.to_string());
                    }
                }
                for &next in &linker.bases[bf][bc as usize] {
                    if !seen.contains(&next) && seen.len() < MAX_HOPS as usize {
                        seen.push(next);
                        work.push(next);
                    }
                }
            }
            let Some(base) = base else { continue };
            // Their methods (most classes derive from no library type: only these are named).
            let methods = seen
                .iter()
                .flat_map(|&(bf, bc)| files[bf].classes[bc as usize].methods.keys().cloned())
                .collect();
            let i = out.add(LibClass {
                class: c.path.clone(),
                base,
                methods,
            });
            index.insert((fi, ci), i);
            let short = c.path.rsplit('.').next().unwrap_or(&c.path);
            if let Some(Some(_)) = linker.class_names.get(short) {
                out.alias(&format!("?{short}"), i);
            }
        }
    }
    if index.is_empty() {
        return out;
    }
    // A class named by a dotted path through other modules (`pkg.clients.ApiClient`): the
    // head of each path before its calls, every distinct head resolved once (files share
    // most of them), as the class and how many of its segments name it.
    let mut ids: HashMap<&str, u32> = HashMap::default();
    let mut heads: Vec<&str> = Vec::new();
    let file_heads: Vec<Vec<u32>> = files
        .iter()
        .map(|f| {
            f.paths
                .iter()
                .map(|p| {
                    let head = before_call_chain(p);
                    let head = head.strip_suffix("()").unwrap_or(head);
                    *ids.entry(head).or_insert_with(|| {
                        heads.push(head);
                        heads.len() as u32 - 1
                    })
                })
                .collect()
        })
        .collect();
    drop(ids);
    let head_classes: Vec<Option<(u32, usize)>> = heads
        .par_iter()
        .map(|head| match linker.resolve_prefix(head, 0) {
            Some((Target::Class(cf, cc), rest)) => {
                let &i = index.get(&(cf, cc))?;
                Some((i, head.split('.').count().saturating_sub(rest)))
            }
            _ => None,
        })
        .collect();
    // Other paths that name the classes: imports, re-exports and aliases (the files looked
    // at in parallel, the names added in file order).
    let named: Vec<Vec<(String, u32)>> = files
        .par_iter()
        .zip(&file_heads)
        .map(|(f, ids)| {
            let mut named = Vec::new();
            for (name, def) in &f.defs {
                let Def::Alias(p) = def else {
                    continue;
                };
                if let Some(Target::Class(cf, cc)) = linker.resolve_full(p, 0)
                    && let Some(&i) = index.get(&(cf, cc))
                {
                    named.push((p.to_string(), i));
                    named.push((format!("{}.{name}", f.module), i));
                }
            }
            for &id in ids {
                if let Some((i, n)) = head_classes[id as usize] {
                    let prefix: Vec<&str> = heads[id as usize].split('.').take(n).collect();
                    named.push((prefix.join("."), i));
                }
            }
            named
        })
        .collect();
    for (path, i) in named.into_iter().flatten() {
        out.alias(&path, i);
    }
    out
}

/// The part of a path before its first `().` (`pkg.Client` of `pkg.Client().get`), all of it
/// when it has none: `path.split("().").next()`.
fn before_call_chain(path: &str) -> &str {
    let bytes = path.as_bytes();
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'(', &bytes[from..]) {
        let at = from + at;
        if bytes[at..].starts_with(b"().") {
            return &path[..at];
        }
        from = at + 1;
    }
    path
}

impl<'a> Linker<'a> {
    /// A linker over `files`, whose functions number `fn_counts` per file; `ret_types` and
    /// `props` are by program function id.
    fn new(
        project: &'a Project,
        files: &'a [FileIr],
        fn_counts: &[u32],
        ret_types: Vec<Option<Box<str>>>,
        props: Vec<bool>,
    ) -> Self {
        let mut fn_off = Vec::with_capacity(files.len());
        let mut glob_off = Vec::with_capacity(files.len());
        let (mut nf, mut ng) = (0u32, 0u32);
        for (f, &count) in files.iter().zip(fn_counts) {
            fn_off.push(nf);
            glob_off.push(ng);
            nf += count;
            ng += f.globals.len() as u32;
        }
        let mut modules = HashMap::default();
        for (i, mf) in project.files.iter().enumerate() {
            if i < files.len() {
                modules.entry(mf.name.as_str()).or_insert(i);
            }
        }
        for (i, mf) in project.files.iter().enumerate() {
            if i < files.len() {
                for a in &mf.aliases {
                    modules.entry(a.as_str()).or_insert(i);
                }
            }
        }
        let mut linker = Linker {
            files,
            modules,
            fn_off,
            glob_off,
            inst_globals: HashMap::default(),
            bases: Vec::new(),
            ret_types,
            props,
            class_names: HashMap::default(),
            redirect: HashMap::default(),
            wrapped: HashMap::default(),
            applied: HashMap::default(),
            returns_fns: HashMap::default(),
            tables: HashMap::default(),
            table_stores: Vec::new(),
            table_uses: Default::default(),
            reached: std::sync::Mutex::default(),
            param_types: HashMap::default(),
            fixture_params: HashMap::default(),
            memo: None,
            built: Default::default(),
            conftests: files
                .iter()
                .enumerate()
                .filter(|(_, f)| f.module.ends_with("conftest") && !f.fixtures.is_empty())
                .map(|(k, _)| k)
                .collect(),
        };
        for (fi, f) in files.iter().enumerate() {
            for (ci, c) in f.classes.iter().enumerate() {
                let short = c.path.rsplit('.').next().unwrap_or(&c.path);
                linker
                    .class_names
                    .entry(short)
                    .and_modify(|slot| *slot = None)
                    .or_insert(Some((fi, ci as u32)));
            }
        }
        // Bases are resolved on the spot while the table is empty (file by file in parallel).
        // Nothing that resolution reads changes until they are all resolved, so a path met
        // again (a base many classes share, a module re-exporting it) is resolved once; what
        // is known is forgotten afterwards, as the tables fill.
        linker.freeze();
        let bases = files
            .par_iter()
            .map(|f| {
                f.classes
                    .iter()
                    .map(|c| {
                        c.bases
                            .iter()
                            .filter_map(|b| match linker.resolve_full(b, 1) {
                                Some(Target::Class(bf, bc)) => Some((bf, bc)),
                                _ => None,
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        linker.memo = None;
        linker.bases = bases;
        linker
    }

    /// Makes a global for each resource attribute of a class that is built at module level.
    fn instance_globals(&mut self, program: &mut Program) {
        let mut classes = Vec::new();
        for f in self.files {
            for def in f.defs.values() {
                if let Def::Instance(p) = def
                    && let Some(Target::Class(fi, ci)) = self.resolve_full(p, 0)
                {
                    classes.push((fi, ci));
                }
            }
        }
        classes.sort_unstable();
        classes.dedup();
        for (fi, ci) in classes {
            let class = &self.files[fi].classes[ci as usize];
            let mut attrs: Vec<(&ruff_python_ast::name::Name, &AttrDef)> =
                class.attrs.iter().collect();
            attrs.sort_by(|a, b| a.0.cmp(b.0));
            for (name, def) in attrs {
                if let AttrDef::Created { api, span, init } = def {
                    let id = GlobalId(program.globals.len() as u32);
                    let short = class.path.rsplit('.').next().unwrap_or(&class.path);
                    let mut span = *span;
                    span.file = fi as u32;
                    program.globals.push(Global {
                        name: format!("{short}.{name}"),
                        span,
                        storage: StorageKind::ClassAttr,
                        api: api.to_string(),
                        init: Some(FnId(init + self.fn_off[fi])),
                    });
                    self.inst_globals.insert((fi, ci, name.to_string()), id);
                }
            }
        }
    }

    /// Resolves a whole path; `None` unless every segment resolves.
    fn resolve_full(&self, path: &str, hops: u32) -> Option<Target> {
        match self.resolve_prefix(path, hops)? {
            (t, 0) => Some(t),
            _ => None,
        }
    }

    /// The tables that paths resolve through are final (bases, instance globals): paths met
    /// while resolving others are resolved once per hop count from now on.
    fn freeze(&mut self) {
        self.memo = Some((0..MAX_HOPS).map(|_| Default::default()).collect());
    }

    /// Resolves the longest prefix of `path`; returns the target and the number of unresolved
    /// trailing segments.
    fn resolve_prefix(&self, path: &str, hops: u32) -> Option<(Target, usize)> {
        if hops > MAX_HOPS {
            return None;
        }
        let level = hops
            .checked_sub(1)
            .and_then(|l| self.memo.as_ref()?.get(l as usize));
        let Some(level) = level else {
            return self.resolve_fresh(path, hops);
        };
        let lock = || {
            level
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(&known) = lock().get(path) {
            return known;
        }
        let found = self.resolve_fresh(path, hops);
        lock().insert(path.into(), found);
        found
    }

    /// [`Linker::resolve_prefix`] without looking at what is known already.
    fn resolve_fresh(&self, path: &str, hops: u32) -> Option<(Target, usize)> {
        let (target, rest) = if let Some(p) = path.strip_prefix('?') {
            // `?Store()`: the one project class named `Store`.
            let (first, rest) = p.split_once('.').unwrap_or((p, ""));
            let (name, call) = split_call(first);
            let (fi, ci) = (*self.class_names.get(name)?)?;
            let t = if call {
                Target::Instance(fi, ci)
            } else {
                Target::Class(fi, ci)
            };
            (t, rest)
        } else {
            // Longest module prefix.
            let mut end = path.len();
            let module = loop {
                if let Some(&m) = self.modules.get(&path[..end]) {
                    break m;
                }
                end = super::scope::last_dot(&path[..end])?;
            };
            let rest = if end < path.len() {
                &path[end + 1..]
            } else {
                ""
            };
            (Target::Module(module), rest)
        };
        self.walk(target, rest, hops)
    }

    /// Follows the segments of `rest` from `target`; returns where it stops and the number of
    /// segments left.
    fn walk(&self, mut target: Target, rest: &str, hops: u32) -> Option<(Target, usize)> {
        if rest.is_empty() {
            return Some((target, 0));
        }
        let n = super::scope::segments(rest).count();
        let mut bases_of = None;
        for (i, seg) in super::scope::segments(rest).enumerate() {
            let (name, call) = split_call(seg);
            // `C.__super__.m`: `m` looked up in the bases of `C` only.
            if name == super::calls::SUPER
                && !call
                && let Target::Class(fi, ci) | Target::Instance(fi, ci) = target
            {
                bases_of = Some((fi, ci));
                continue;
            }
            let mut next = match bases_of.take() {
                // A member the project's bases lack is the library base's: the class's own
                // member of that name (the caller itself, for `super().m()` in `m`) is not it.
                Some((fi, ci)) => Some(self.base_member(fi, ci, name, hops)?),
                None => self.step(target, name, hops),
            };
            if call {
                next = next.and_then(|t| self.call_result(t, hops));
            }
            match next {
                Some(t) => target = t,
                None => return Some((target, n - i)),
            }
        }
        Some((target, 0))
    }

    /// Summarises the project's decorators: each decorated function whose decorator returns
    /// a nested wrapper is called through that wrapper. Functions behind decorators that cannot
    /// be followed get unknown callers.
    fn decorators(&mut self, bodies: &[Vec<super::ir::IrFn>], unknown: &mut Vec<FnId>) {
        let global = |k: usize, l: u32| FnId(self.fn_off[k] + l);
        let locate = |f: FnId| -> Option<(usize, u32)> {
            let k = self.fn_off.partition_point(|&o| o <= f.0).checked_sub(1)?;
            Some((k, f.0 - self.fn_off[k]))
        };
        let returns_fn = |f: FnId| -> Option<FnId> {
            let (k, l) = locate(f)?;
            let r = bodies.get(k)?.get(l as usize)?.returns_fn?;
            Some(global(k, r))
        };
        let calls_param_in_place = |w: FnId, owner: FnId| -> bool {
            let Some((k, l)) = locate(w) else {
                return false;
            };
            bodies[k][l as usize].pending.iter().any(|p| {
                matches!(p.what, Pending::ParamCall { owner: o, index: 0 } if global(k, o) == owner)
            })
        };
        let mut redirect = HashMap::default();
        let mut wrapped: HashMap<FnId, (FnId, Vec<FnId>)> = HashMap::default();
        let mut applied: HashMap<FnId, u32> = HashMap::default();
        for (k, fns) in bodies.iter().enumerate() {
            for (l, irf) in fns.iter().enumerate() {
                let f = global(k, l as u32);
                if irf.decorators.is_empty() {
                    continue;
                }
                for (path, factory) in irf.decorators.iter() {
                    if *factory && let Some(Target::Fn(d)) = self.resolve_full(path, 0) {
                        *applied.entry(d).or_insert(0) += 1;
                    }
                }
                // Each decorator, innermost first, wraps what the one below it made.
                let layers: Option<Vec<(FnId, FnId)>> = irf
                    .decorators
                    .iter()
                    .rev()
                    .map(|(path, factory)| match self.resolve_full(path, 0) {
                        Some(Target::Fn(d)) if *factory => {
                            returns_fn(d).and_then(|stage| Some((stage, returns_fn(stage)?)))
                        }
                        Some(Target::Fn(d)) => returns_fn(d).map(|w| (d, w)),
                        _ => None,
                    })
                    .collect();
                let Some(layers) = layers.filter(|l| l.len() <= 4) else {
                    unknown.push(f);
                    continue;
                };
                let mut inner = f;
                let mut chain = Vec::with_capacity(layers.len());
                for (owner, wrapper) in layers {
                    chain.push((wrapper, calls_param_in_place(wrapper, owner)));
                    let slot = &mut wrapped.entry(owner).or_insert((wrapper, Vec::new())).1;
                    if !slot.contains(&inner) {
                        slot.push(inner);
                    }
                    inner = wrapper;
                }
                chain.reverse();
                redirect.insert(f, chain);
            }
        }
        // Decorators applied by a call (`every(30)(job)`): the wrapper may call the function,
        // where its own body runs it; calls of the function by name are not redirected.
        for file in self.files {
            for (path, factory, applied_fn) in &file.applied_inline {
                let Some(Target::Fn(f)) = self.resolve_full(applied_fn, 0) else {
                    continue;
                };
                let layer = match self.resolve_full(path, 0) {
                    Some(Target::Fn(d)) if *factory => {
                        returns_fn(d).and_then(|stage| Some((stage, returns_fn(stage)?)))
                    }
                    Some(Target::Fn(d)) => returns_fn(d).map(|w| (d, w)),
                    _ => None,
                };
                if let Some((owner, wrapper)) = layer {
                    let slot = &mut wrapped.entry(owner).or_insert((wrapper, Vec::new())).1;
                    if !slot.contains(&f) {
                        slot.push(f);
                    }
                }
            }
        }
        let mut returns_fns = HashMap::default();
        for (k, fns) in bodies.iter().enumerate() {
            for (l, irf) in fns.iter().enumerate() {
                if let Some(r) = irf.returns_fn {
                    returns_fns.insert(global(k, l as u32), global(k, r));
                }
            }
        }
        self.returns_fns = returns_fns;
        self.redirect = redirect;
        self.wrapped = wrapped;
        self.applied = applied;
    }

    /// The canonical path of a table named `path` where it is used: an imported name is the
    /// module global it is imported from.
    fn table_name(&self, path: &str) -> String {
        let mut path = path.to_string();
        for _ in 0..MAX_HOPS {
            let Some((module, name)) = path.rsplit_once('.') else {
                break;
            };
            let Some(&k) = self.modules.get(module) else {
                break;
            };
            match self.files[k].defs.get(name) {
                Some(Def::Alias(p)) => path = p.to_string(),
                _ => break,
            }
        }
        path
    }

    /// Fills the tables of functions: what each module-level container is given by name, and
    /// the functions a registering decorator (one that stores its parameter in a table) is
    /// applied to, when it is their innermost project decorator.
    fn fn_tables(&mut self, bodies: &[Vec<super::ir::IrFn>]) {
        use super::ir::StoredFn;
        if self.files.iter().all(|f| f.fn_tables.is_empty()) {
            return;
        }
        let mut tables: HashMap<Box<str>, Vec<FnId>> = HashMap::default();
        // Parameters stored in tables: (function, position) -> tables.
        let mut params: HashMap<(FnId, u32), Vec<Box<str>>> = HashMap::default();
        let mut stores: Vec<(Box<str>, FnId)> = Vec::new();
        let mut leaks: HashSet<Box<str>> = HashSet::default();
        let add = |tables: &mut HashMap<Box<str>, Vec<FnId>>, t: &str, f: FnId| {
            let slot = tables.entry(t.into()).or_default();
            if !slot.contains(&f) {
                slot.push(f);
            }
        };
        for (k, file) in self.files.iter().enumerate() {
            let fo = self.fn_off[k];
            for t in &file.table_leaks {
                leaks.insert(self.table_name(t).into());
            }
            for (table, stored) in &file.fn_tables {
                let table = self.table_name(table);
                match stored {
                    StoredFn::Path(p) => {
                        if let Some(Target::Fn(f)) = self.resolve_full(p, 0) {
                            add(&mut tables, &table, f);
                            stores.push((table.as_str().into(), f));
                        }
                    }
                    StoredFn::Local(l) => add(&mut tables, &table, FnId(fo + l)),
                    StoredFn::Param(owner, index) => params
                        .entry((FnId(fo + owner), *index))
                        .or_default()
                        .push(table.into()),
                }
            }
        }
        if !params.is_empty() {
            for (k, fns) in bodies.iter().enumerate() {
                let fo = self.fn_off[k];
                for (l, irf) in fns.iter().enumerate() {
                    let Some((path, factory)) = irf.decorators.last() else {
                        continue;
                    };
                    let Some(Target::Fn(d)) = self.resolve_full(path, 0) else {
                        continue;
                    };
                    let stage = if *factory {
                        let Some((dk, dl)) = self.locate(d) else {
                            continue;
                        };
                        match bodies[dk][dl as usize].returns_fn {
                            Some(r) => FnId(self.fn_off[dk] + r),
                            None => continue,
                        }
                    } else {
                        d
                    };
                    for t in params
                        .get(&(stage, 0))
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                    {
                        add(&mut tables, t, FnId(fo + l as u32));
                        stores.push((t.clone(), FnId(fo + l as u32)));
                    }
                }
            }
        }
        self.tables = tables;
        self.table_stores = stores;
        self.table_uses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0 = leaks;
    }

    /// How many of each function's uses as a value are stores into tables that the project
    /// only calls through (never reads as a value it does not follow): the calls through them
    /// are its callers.
    fn table_explained(&self) -> HashMap<FnId, u32> {
        let mut out: HashMap<FnId, u32> = HashMap::default();
        let uses = self
            .table_uses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (leaked, called) = &*uses;
        for (t, f) in &self.table_stores {
            if called.contains(t) && !leaked.contains(t) {
                *out.entry(*f).or_default() += 1;
            }
        }
        out
    }

    /// The functions held by tables that the project calls through and reads in no other
    /// way.
    fn table_closures_called(&self) -> Vec<FnId> {
        let uses = self
            .table_uses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (leaked, called) = &*uses;
        self.tables
            .iter()
            .filter(|(t, _)| called.contains(&**t) && !leaked.contains(&**t))
            .flat_map(|(_, fns)| fns.iter().copied())
            .collect()
    }

    /// The functions held by tables read as values the frontend does not follow: they may be
    /// called from anywhere.
    fn table_leaked_fns(&self) -> Vec<FnId> {
        let uses = self
            .table_uses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        uses.0
            .iter()
            .filter_map(|t| self.tables.get(t))
            .flatten()
            .copied()
            .collect()
    }

    /// Notes a use of a table: read as a value (`leak`) or called through.
    fn note_table_use(&self, path: &str, leak: bool) {
        if self.tables.is_empty() {
            return;
        }
        let name = self.table_name(path);
        if !self.tables.contains_key(name.as_str()) {
            return;
        }
        let mut uses = self
            .table_uses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if leak {
            uses.0.insert(name.into());
        } else {
            uses.1.insert(name.into());
        }
    }

    /// The file and local index of a program function.
    fn locate(&self, f: FnId) -> Option<(usize, u32)> {
        let k = self.fn_off.partition_point(|&o| o <= f.0).checked_sub(1)?;
        Some((k, f.0 - self.fn_off[k]))
    }

    /// Whether the wrapper `w` that `decorator` returns is called only where the functions it
    /// decorates are called: the decorator is used only to decorate (never called or passed
    /// as a value; a decorator factory's stage does not qualify), and each function it
    /// decorates has known callers, all of them calling or handing it over through its
    /// wrappers.
    fn wrapper_callers_known(
        &self,
        program: &Program,
        decorator: FnId,
        w: FnId,
        called: &[bool],
        refs: &HashSet<FnId>,
    ) -> bool {
        let Some((wrapper, fns)) = self.wrapped.get(&decorator) else {
            return false;
        };
        let plain = |f: FnId| !called[f.0 as usize] && !refs.contains(&f);
        let reached = self.reached();
        *wrapper == w
            && plain(decorator)
            && !program.functions[w.0 as usize].callers_unknown
            && !fns.is_empty()
            && fns.iter().all(|&f| {
                let func = &program.functions[f.0 as usize];
                reached.contains(&f) && !func.callers_unknown && func.entry.is_none()
            })
    }

    /// What a call of `f` runs in place: the wrappers of its project decorators, outermost
    /// first, as long as each runs the next in place, and `f` itself if they all do.
    fn called_through(&self, f: FnId) -> Vec<FnId> {
        let Some(chain) = self.redirect.get(&f) else {
            return vec![f];
        };
        let mut out = Vec::with_capacity(chain.len() + 1);
        for &(wrapper, in_place) in chain {
            out.push(wrapper);
            if !in_place {
                return out;
            }
        }
        out.push(f);
        out
    }

    /// Cells of attributes reached through a chain are named by the type path of their owner
    /// (`pkg.App().inner`): the owning class's path when the path resolves to an instance.
    /// An attribute read on an instance (`self.inbox`) finds the class's attribute when the
    /// instance has none of its own: what a class method (`cls.inbox = ..` in `setUpClass`)
    /// keeps in the class, shared by every instance, flows into the instances' attribute of
    /// that name, unless some code sets the instances' own attribute of that name (which then
    /// hides the class's). The facts go with the file that defines the class.
    fn class_attr_reads(&self, program: &Program, linked: &mut [(u32, super::facts::FileFacts)]) {
        use crate::model::{CellId, CellKind, FactKind, Place};
        let written: HashSet<CellId> = linked
            .iter()
            .flat_map(|(_, facts)| facts.written_cells())
            .collect();
        let fields: HashMap<(&str, &str), CellId> = program
            .flow
            .cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == CellKind::Field)
            .map(|(i, c)| ((c.owner.as_str(), c.name.as_str()), CellId(i as u32)))
            .collect();
        for (i, cell) in program.flow.cells.iter().enumerate() {
            if cell.kind != CellKind::Static {
                continue;
            }
            let Some(&field) = fields
                .get(&(cell.owner.as_str(), cell.name.as_str()))
                .filter(|f| !written.contains(f))
            else {
                continue;
            };
            let Some(Target::Class(fi, _)) = self.resolve_full(&cell.owner, 0) else {
                continue;
            };
            let Some((_, facts)) = linked.iter_mut().find(|(f, _)| *f as usize == fi) else {
                continue;
            };
            let module = FnId(self.fn_off[fi]);
            let span = program.func(module).span;
            facts.push(
                module.0,
                span,
                FactKind::Assign {
                    to: Place::Cell(field),
                    from: Place::Cell(CellId(i as u32)),
                },
            );
        }
    }

    fn cell_owners(&self, mut cells: Vec<crate::model::Cell>) -> Vec<crate::model::Cell> {
        for c in &mut cells {
            if c.kind != crate::model::CellKind::Field || !c.owner.contains('(') {
                continue;
            }
            if let Some(Target::Instance(fi, ci)) = self.resolve_full(&c.owner, 0) {
                c.owner = self.files[fi].classes[ci as usize].path.to_string();
            }
        }
        for c in &mut cells {
            if c.kind != crate::model::CellKind::Field {
                continue;
            }
            if let Some(Target::Class(fi, ci)) = self.resolve_full(&c.owner, 0)
                && let Some((bfi, bci)) = self.attr_owner(fi, ci, &c.name)
                && (bfi, bci) != (fi, ci)
            {
                c.owner = self.files[bfi].classes[bci as usize].path.to_string();
            }
        }
        cells
    }

    /// The class whose instances' attribute `attr` a read on an instance of class `ci` of file
    /// `fi` sees: the class itself when it assigns the attribute or defines a member of that
    /// name, else the first of its project bases (in order, depth first) that assigns it.
    fn attr_owner(&self, fi: usize, ci: u32, attr: &str) -> Option<(usize, u32)> {
        let mut stack = vec![(fi, ci, 0u32)];
        let mut seen = 0;
        while let Some((fi, ci, depth)) = stack.pop() {
            seen += 1;
            if seen > 32 || depth > MAX_HOPS {
                return None;
            }
            let class = &self.files[fi].classes[ci as usize];
            if class.assigned.iter().any(|a| a.as_str() == attr) || class.methods.contains_key(attr)
            {
                return Some((fi, ci));
            }
            for base in class.bases.iter().rev() {
                if let Some(Target::Class(bfi, bci)) = self.resolve_full(base, 0) {
                    stack.push((bfi, bci, depth + 1));
                }
            }
        }
        None
    }

    /// Types parameters from the arguments their call sites pass: a parameter that receives
    /// instances of one project class at every call site that passes a typed value. A test's
    /// or fixture's parameter that names a wide fixture returning an instance of a project
    /// class, and that no call site types, is typed by that fixture.
    fn param_types(
        &mut self,
        bodies: &[Vec<super::ir::IrFn>],
        resolved: &Resolved,
        param_names: &[thin_vec::ThinVec<ruff_python_ast::name::Name>],
    ) {
        let mut out: HashMap<(FnId, u32), Option<(usize, u32)>> = HashMap::default();
        for (k, fns) in bodies.iter().enumerate() {
            let paths = resolved.file(k);
            for irf in fns {
                for &(pi, pos, ty) in &irf.arg_types {
                    let Some(Pending::Ref { path, .. }) =
                        irf.pending.get(pi as usize).map(|p| &p.what)
                    else {
                        continue;
                    };
                    let callee = match paths.get(*path) {
                        Some((Target::Fn(f), 0)) if !self.redirect.contains_key(&f) => f,
                        Some((Target::Class(fi, ci), 0)) => {
                            match self.member(fi, ci, "__init__", 0) {
                                Some(Target::Fn(f)) => f,
                                _ => continue,
                            }
                        }
                        _ => continue,
                    };
                    let class = match paths.get(ty) {
                        Some((Target::Instance(fi, ci), 0)) => Some((fi, ci)),
                        _ => None,
                    };
                    out.entry((callee, u32::from(pos)))
                        .and_modify(|c| {
                            if *c != class {
                                *c = None;
                            }
                        })
                        .or_insert(class);
                }
            }
        }
        // pytest hands a test (or a fixture) what the wide fixture named by its parameter
        // returns: an instance of a project class types the parameter.
        for (k, fns) in bodies.iter().enumerate() {
            for (l, irf) in fns.iter().enumerate() {
                if !irf.func.is_test || irf.func.entry.is_none() {
                    continue;
                }
                let f = FnId(self.fn_off[k] + l as u32);
                let names = param_names.get(f.0 as usize).map_or(&[][..], |n| &n[..]);
                for (pos, name) in names.iter().enumerate() {
                    let key = (f, pos as u32);
                    if name.is_empty() || out.contains_key(&key) {
                        continue;
                    }
                    let Some(fixture) = self.fixture_fn(k, name.as_str()) else {
                        continue;
                    };
                    if self.fixture(k, name.as_str()).is_some() {
                        self.fixture_params
                            .entry(k)
                            .or_default()
                            .push((f, pos as u32, fixture));
                    }
                    if let Some(Target::Instance(fi, ci)) = self.call_result(Target::Fn(fixture), 0)
                    {
                        out.insert(key, Some((fi, ci)));
                    }
                }
            }
        }
        self.param_types = out;
    }

    /// Resolves `^f:k.rest`: `rest` from parameter `k` of local function `f` of `file`, typed
    /// by its callers.
    fn resolve_param_path(&self, file: usize, path: &str) -> Option<(Target, usize)> {
        let p = path.strip_prefix('^')?;
        let (head, rest) = p.split_once('.').unwrap_or((p, ""));
        let (f, k) = head.split_once(':')?;
        let f = FnId(self.fn_off[file] + f.parse::<u32>().ok()?);
        let (fi, ci) = (*self.param_types.get(&(f, k.parse().ok()?))?)?;
        self.walk(Target::Instance(fi, ci), rest, 0)
    }

    /// The positional arguments bound before a call's own when `path` names a module name
    /// bound to `functools.partial(f, ..)` (directly or through imports): those the partial
    /// binds, and the new instance when `f` is a class.
    fn partial_shift(&self, path: &str, hops: u32) -> Option<u8> {
        if hops > MAX_HOPS {
            return None;
        }
        let (module, last) = super::scope::split_last(path)?;
        let Some(Target::Module(m)) = self.resolve_full(module, hops + 1) else {
            return None;
        };
        match self.files[m].defs.get(last)? {
            Def::Partial(p, k) => match self.resolve_full(p, hops + 1)? {
                Target::Class(..) => k.checked_add(1),
                _ => Some(*k),
            },
            Def::Alias(p) => self.partial_shift(p, hops + 1),
            _ => None,
        }
    }

    /// What building an instance of class `ci` of file `fi` involves, worked out once per
    /// class.
    fn built_by(&self, fi: usize, ci: u32, kb: &Kb) -> BuiltBy {
        let lock = || {
            self.built
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(by) = lock().get(&(fi, ci)) {
            return by.clone();
        }
        let by = BuiltBy {
            lazy: self.lazy_classes(fi, ci),
            init: match self.member(fi, ci, "__init__", 0) {
                Some(Target::Fn(f)) => Some(f),
                _ => None,
            },
            hooks: self.constructor_hooks(fi, ci, kb),
        };
        lock().insert((fi, ci), by.clone());
        by
    }

    /// The classes under which a function building an instance of class `ci` of file `fi` is
    /// recorded: every lazy class among it and its project bases
    /// ([`super::ir::ClassIr::lazy`]), in the order they are found.
    fn lazy_classes(&self, fi: usize, ci: u32) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let mut work = vec![(fi, ci)];
        let mut seen: Vec<(usize, u32)> = Vec::new();
        while let Some((fi, ci)) = work.pop() {
            if seen.contains(&(fi, ci)) || seen.len() > MAX_HOPS as usize {
                continue;
            }
            seen.push((fi, ci));
            let class = &self.files[fi].classes[ci as usize];
            if class.lazy {
                out.push((fi, ci));
            }
            for b in &class.bases {
                if let Some(Target::Class(bf, bc)) = self.resolve_full(b, 1) {
                    work.push((bf, bc));
                }
            }
        }
        out
    }

    /// The decorated functions reached so far (see [`Linker::reached`]).
    fn reached(&self) -> std::sync::MutexGuard<'_, HashSet<FnId>> {
        self.reached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `f` is a property getter.
    fn is_property(&self, f: FnId) -> bool {
        self.props.get(f.0 as usize).copied().unwrap_or(false)
    }

    /// What calling a target gives: an instance of a class, what a function returns.
    fn call_result(&self, target: Target, hops: u32) -> Option<Target> {
        match target {
            Target::Class(fi, ci) => Some(Target::Instance(fi, ci)),
            Target::Fn(f) => {
                let ty = self.ret_types.get(f.0 as usize)?.as_deref()?;
                self.resolve_full(ty, hops + 1)
            }
            _ => None,
        }
    }

    fn step(&self, target: Target, seg: &str, hops: u32) -> Option<Target> {
        match target {
            Target::Module(m) => {
                let f = &self.files[m];
                match f.defs.get(seg)? {
                    Def::Fn(l) => Some(Target::Fn(FnId(l + self.fn_off[m]))),
                    Def::Class(ci) => Some(Target::Class(m, *ci)),
                    Def::Global(g) => Some(Target::Global(GlobalId(g + self.glob_off[m]))),
                    Def::Instance(p) => match self.resolve_full(p, hops + 1)? {
                        Target::Class(fi, ci) => Some(Target::Instance(fi, ci)),
                        _ => None,
                    },
                    Def::Alias(p) | Def::Partial(p, _) => self.resolve_full(p, hops + 1),
                }
                .or_else(|| {
                    let sub = format!("{}.{}", f.module, seg);
                    self.modules.get(sub.as_str()).map(|&s| Target::Module(s))
                })
            }
            Target::Class(fi, ci) | Target::Instance(fi, ci) => self.member(fi, ci, seg, hops),
            // An attribute of what a property returns.
            Target::Fn(f) if self.is_property(f) => {
                let value = self.call_result(target, hops + 1)?;
                self.step(value, seg, hops + 1)
            }
            Target::Fn(_) | Target::Global(_) => None,
        }
    }

    /// A method or resource attribute of a class, looked up through its bases.
    fn member(&self, fi: usize, ci: u32, seg: &str, hops: u32) -> Option<Target> {
        if hops > MAX_HOPS {
            return None;
        }
        let class = &self.files[fi].classes[ci as usize];
        if let Some(&m) = class.methods.get(seg) {
            return Some(Target::Fn(FnId(m + self.fn_off[fi])));
        }
        match class.attrs.get(seg) {
            Some(AttrDef::ClassGlobal(g)) => {
                return Some(Target::Global(GlobalId(g + self.glob_off[fi])));
            }
            Some(AttrDef::Alias(p)) => {
                if let Some(t @ Target::Global(_)) = self.resolve_full(p, hops + 1) {
                    return Some(t);
                }
            }
            Some(AttrDef::Created { .. }) => {
                return self
                    .inst_globals
                    .get(&(fi, ci, seg.to_string()))
                    .map(|&g| Target::Global(g));
            }
            None => {}
        }
        if let Some(ty) = class.attr_types.get(seg)
            && let Some(t) = self.resolve_full(ty, hops + 1)
        {
            return Some(t);
        }
        self.base_member(fi, ci, seg, hops)
    }

    /// The project methods that the constructor of a library base of class `ci` of file `fi`
    /// calls on a new instance (`calls-methods` in the knowledge base: a request handler's
    /// `setup`, `handle`, `do_GET`...), in the order the knowledge base lists them.
    fn constructor_hooks(&self, fi: usize, ci: u32, kb: &Kb) -> Vec<FnId> {
        // The class and its project bases, and the library bases among theirs.
        let mut classes = vec![(fi, ci)];
        let mut library: Vec<&str> = Vec::new();
        let mut k = 0;
        while k < classes.len() && classes.len() <= MAX_HOPS as usize {
            let (fi, ci) = classes[k];
            k += 1;
            for base in self.files[fi].classes[ci as usize].bases.iter() {
                match self.resolve_full(base, 0) {
                    Some(Target::Class(bfi, bci)) => {
                        if !classes.contains(&(bfi, bci)) {
                            classes.push((bfi, bci));
                        }
                    }
                    Some(_) => {}
                    None => library.push(base),
                }
            }
        }
        let mut out = Vec::new();
        for base in library {
            let Some(api) = kb.find(Language::Python, base, Concept::CallsMethods) else {
                continue;
            };
            for name in &api.methods {
                let found: Vec<FnId> = match name.strip_suffix('*') {
                    Some(prefix) => {
                        let mut names: Vec<&str> = classes
                            .iter()
                            .flat_map(|&(fi, ci)| {
                                self.files[fi].classes[ci as usize].methods.keys()
                            })
                            .map(|n| n.as_str())
                            .filter(|n| n.starts_with(prefix))
                            .collect();
                        names.sort_unstable();
                        names.dedup();
                        names
                            .into_iter()
                            .filter_map(|n| match self.member(fi, ci, n, 0) {
                                Some(Target::Fn(f)) => Some(f),
                                _ => None,
                            })
                            .collect()
                    }
                    None => match self.member(fi, ci, name, 0) {
                        Some(Target::Fn(f)) => vec![f],
                        _ => Vec::new(),
                    },
                };
                for f in found {
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
            }
        }
        out
    }

    /// A member of a class's bases, first found in their order.
    fn base_member(&self, fi: usize, ci: u32, seg: &str, hops: u32) -> Option<Target> {
        if hops > MAX_HOPS {
            return None;
        }
        let class = &self.files[fi].classes[ci as usize];
        // While the base table is being built, bases are resolved on the spot.
        if self.bases.is_empty() {
            for b in &class.bases {
                if let Some(Target::Class(bf, bc)) = self.resolve_full(b, hops + 1)
                    && let Some(t) = self.member(bf, bc, seg, hops + 1)
                {
                    return Some(t);
                }
            }
            return None;
        }
        let bases = self
            .bases
            .get(fi)
            .and_then(|c| c.get(ci as usize))
            .map(Vec::as_slice)
            .unwrap_or_default();
        for &(bf, bc) in bases {
            if let Some(t) = self.member(bf, bc, seg, hops + 1) {
                return Some(t);
            }
        }
        None
    }

    /// What a call of `f` runs in place: the wrappers of its project decorators, each as long
    /// as the one before calls the next in place rather than in a body of its own, then `f`
    /// itself when the last one does.
    fn runs_in_place(&self, f: FnId) -> Vec<FnId> {
        let mut out = Vec::new();
        let mut in_place = true;
        for &(wrapper, calls) in self.redirect.get(&f).map(Vec::as_slice).unwrap_or_default() {
            if !in_place {
                break;
            }
            out.push(wrapper);
            in_place = calls;
        }
        if in_place {
            out.push(f);
        }
        out
    }

    /// Direct project subclasses of each project class.
    fn subclasses(&self) -> HashMap<(usize, u32), Vec<(usize, u32)>> {
        let mut out: HashMap<(usize, u32), Vec<(usize, u32)>> = HashMap::default();
        for (fi, classes) in self.bases.iter().enumerate() {
            for (ci, bases) in classes.iter().enumerate() {
                for &b in bases {
                    out.entry(b).or_default().push((fi, ci as u32));
                }
            }
        }
        out
    }

    /// The implementations that `self.m()` in a method of class `C` reaches besides the one `C`
    /// finds: for each project class deriving from `C`, the one that class finds first (its
    /// own, or a mixin's listed before `C`), even when `C` and its bases define none (an
    /// abstract hook). They join the callees of the call event resolved at `events[before..]`;
    /// with none there, a new call event is returned.
    fn dispatch(
        &self,
        (file, paths): (usize, &super::ir::Paths),
        at: &PendingAt,
        subclasses: &HashMap<(usize, u32), Vec<(usize, u32)>>,
        (asyncs, caller_async): (&[bool], bool),
        events: &mut [Event],
        before: usize,
    ) -> Option<Event> {
        let Pending::Ref { path: id, .. } = &at.what else {
            return None;
        };
        let path = paths.get(*id as usize)?;
        let (class, method) = path.rsplit_once('.')?;
        let Some(Target::Class(fi, ci)) = self.resolve_full(class, 0) else {
            return None;
        };
        let callee_async = |f: FnId| asyncs.get(f.0 as usize).copied().unwrap_or(false);
        let mut found = crate::model::Callees::new();
        let mut seen = vec![(fi, ci)];
        let mut stack = vec![(fi, ci)];
        'walk: while let Some(c) = stack.pop() {
            for &s in subclasses.get(&c).map(Vec::as_slice).unwrap_or_default() {
                // Past the cap no subclass is taken any more: the walk is over (a base of
                // thousands of test classes would otherwise be compared with each of them).
                if seen.len() > DISPATCH_CAP {
                    break 'walk;
                }
                if seen.contains(&s) {
                    continue;
                }
                seen.push(s);
                stack.push(s);
                let Some(Target::Fn(f)) = self.member(s.0, s.1, method, 0) else {
                    continue;
                };
                for g in self.runs_in_place(f) {
                    if !found.contains(&g) && (caller_async || !callee_async(g)) {
                        found.push(g);
                    }
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        if let Some(EventKind::Call { callees, .. }) = events[before..]
            .iter_mut()
            .rev()
            .map(|e| &mut e.kind)
            .find(|k| matches!(k, EventKind::Call { .. }))
        {
            for f in found {
                if !callees.contains(&f) {
                    callees.push(f);
                }
            }
            return None;
        }
        if events.len() > before {
            // The reference resolved to something other than a call of a project function.
            return None;
        }
        let span = at.span(file as u32);
        Some(Event {
            span,
            loop_depth: at.loop_depth,
            kind: EventKind::Call {
                callees: found,
                result: None,
            },
            when: crate::model::CondId::TRUE,
        })
    }

    /// Replaces one placeholder event with what its reference resolves to.
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &self,
        file: usize,
        at: &PendingAt,
        resolved: FilePaths<'_>,
        (asyncs, caller_async, current): (&[bool], bool, FnId),
        kb: &Kb,
        out: &mut Vec<Event>,
        value_refs: &mut Vec<FnId>,
        built: &mut Vec<crate::model::Built>,
    ) {
        let span = at.span(file as u32);
        let push = |out: &mut Vec<Event>, kind: EventKind| {
            out.push(Event {
                span,
                loop_depth: at.loop_depth,
                kind,
                when: crate::model::CondId::TRUE,
            })
        };
        // Calling a coroutine function from sync code only builds the coroutine: its body runs
        // wherever the coroutine is awaited, so no call edge is made.
        let callee_async = |f: FnId| asyncs.get(f.0 as usize).copied().unwrap_or(false);
        let builds_only = |f: FnId| {
            (!caller_async && callee_async(f))
                || at.only_async.is_some_and(|a| a != callee_async(f))
        };
        // One call whose possible targets are the functions of `fns` that it runs (none when
        // each of them is only built).
        let call_any = |out: &mut Vec<Event>, fns: &[FnId]| {
            let callees: crate::model::Callees =
                fns.iter().copied().filter(|&f| !builds_only(f)).collect();
            if !callees.is_empty() {
                push(
                    out,
                    EventKind::Call {
                        callees,
                        result: None,
                    },
                );
            }
        };
        let text = |i: u32| resolved.text.get(i as usize).unwrap_or("");
        match &at.what {
            Pending::Ref { path: id, kind } => {
                let path = text(*id);
                let result = None;
                if *kind == RefKind::Value {
                    self.note_table_use(path, true);
                }
                let resolved = if path.starts_with('^') {
                    self.resolve_param_path(file, path)
                } else {
                    resolved.get(*id)
                };
                let Some((target, rest)) = resolved else {
                    return;
                };
                let last = || path.rsplit('.').next().unwrap_or("");
                let closes = || {
                    rest > 0
                        && kb
                            .lookup_method_name(Language::Python, last())
                            .iter()
                            .any(|a| a.concept == Concept::ResourceClose)
                };
                match (target, rest, kind) {
                    (Target::Fn(f), 0, RefKind::Call | RefKind::Method)
                        if self.redirect.contains_key(&f) =>
                    {
                        self.reached().insert(f);
                        for g in self.runs_in_place(f) {
                            if !builds_only(g) {
                                push(
                                    out,
                                    EventKind::Call {
                                        callees: smallvec::smallvec![g],
                                        result,
                                    },
                                );
                            }
                        }
                    }
                    (Target::Fn(f), 0, RefKind::Call) => {
                        if builds_only(f) {
                            return;
                        }
                        // What the call returns is used where the flow takes it.
                        push(
                            out,
                            EventKind::Call {
                                callees: smallvec::smallvec![f],
                                result,
                            },
                        );
                    }
                    (Target::Fn(f), 0, RefKind::Method) if !builds_only(f) => push(
                        out,
                        EventKind::Call {
                            callees: smallvec::smallvec![f],
                            result,
                        },
                    ),
                    (_, _, RefKind::Method) => {}
                    // Reading a property calls its getter.
                    (Target::Fn(f), 0, RefKind::Attr) if self.is_property(f) && !builds_only(f) => {
                        push(
                            out,
                            EventKind::Call {
                                callees: smallvec::smallvec![f],
                                result,
                            },
                        )
                    }
                    (Target::Fn(f), 0, RefKind::Attr) if self.is_property(f) => {}
                    (Target::Fn(f), 0, _) => value_refs.push(f),
                    (Target::Class(fi, ci), 0, RefKind::Call) => {
                        let by = self.built_by(fi, ci, kb);
                        for &(lfi, lci) in &by.lazy {
                            built.push(crate::model::Built {
                                owner: self.files[lfi].classes[lci as usize].path.clone(),
                                func: Some(current),
                                loop_depth: at.loop_depth,
                            });
                        }
                        if let Some(f) = by.init
                            && !builds_only(f)
                        {
                            push(
                                out,
                                EventKind::Call {
                                    callees: smallvec::smallvec![f],
                                    result: None,
                                },
                            );
                        }
                        // A library base's constructor calls the methods the class defines.
                        for &f in &by.hooks {
                            if !builds_only(f) {
                                push(
                                    out,
                                    EventKind::Call {
                                        callees: smallvec::smallvec![f],
                                        result: None,
                                    },
                                );
                            }
                        }
                    }
                    (Target::Class(fi, ci) | Target::Instance(fi, ci), 1, RefKind::Call) => {
                        if let Some(Target::Fn(f)) = self.member(fi, ci, last(), 0)
                            && !builds_only(f)
                        {
                            push(
                                out,
                                EventKind::Call {
                                    callees: smallvec::smallvec![f],
                                    result: None,
                                },
                            );
                        }
                    }
                    (Target::Global(_), 0, RefKind::HandedOn) => {}
                    // A state check (`session.closed`, `event.set()`) reads or sets a flag, not
                    // the resource's loop: by the global's type when it has one, else by name.
                    (Target::Global(g), 1, k)
                        if *k != RefKind::Close && self.checks_state(g, last(), kb) => {}
                    (Target::Global(g), _, k) => {
                        let resource = ResourceRef::Global(g);
                        if *k == RefKind::Close || closes() {
                            push(out, EventKind::Close { resource });
                        } else {
                            push(out, EventKind::Use { resource });
                        }
                    }
                    _ => {}
                }
            }
            Pending::AttrCreate(i) => {
                let ac = &self.files[file].attr_creates[*i as usize];
                let resource = match self.resolve_full(&ac.class, 0) {
                    Some(Target::Class(fi, ci)) => self
                        .inst_globals
                        .get(&(fi, ci, ac.attr.to_string()))
                        .map(|&g| ResourceRef::Global(g)),
                    _ => None,
                };
                push(
                    out,
                    EventKind::Create {
                        resource,
                        api: ac.api.clone(),
                        binds_now: ac.binds_now,
                        made_as: ac.made_as.as_deref().map(|m| Box::new(m.to_string())),
                    },
                );
            }
            Pending::ParamCall { owner, index } => {
                let owner = FnId(owner + self.fn_off[file]);
                // The wrapper runs the decorated function in a body of its own (a loop, a
                // thread): the function runs there, whoever calls it. In place, the call is
                // made at each call site instead.
                if let (0, Some((wrapper, fns))) = (*index, self.wrapped.get(&owner))
                    && *wrapper != current
                {
                    call_any(out, fns);
                }
            }
            Pending::Returned {
                path,
                depth,
                decorates,
            } => {
                let Some(Target::Fn(mut f)) = self.resolve_full(text(*path), 0) else {
                    return;
                };
                for _ in 0..*depth {
                    match self.returns_fns.get(&f) {
                        Some(&r) => f = r,
                        None => return,
                    }
                }
                if !(*decorates && self.returns_fns.contains_key(&f)) {
                    call_any(out, &[f]);
                }
            }
            Pending::Table { path } => {
                self.note_table_use(text(*path), false);
                if let Some(fns) = self.tables.get(self.table_name(text(*path)).as_str()) {
                    // A decorated function is called through its wrappers, as by name.
                    for &f in fns.iter().filter(|f| self.redirect.contains_key(f)) {
                        self.reached().insert(f);
                    }
                    match fns.as_slice() {
                        [f] => {
                            for g in self.runs_in_place(*f) {
                                call_any(out, &[g]);
                            }
                        }
                        _ => {
                            let mut all: Vec<FnId> = Vec::new();
                            for &f in fns {
                                for g in self.runs_in_place(f) {
                                    if !all.contains(&g) {
                                        all.push(g);
                                    }
                                }
                            }
                            call_any(out, &all);
                        }
                    }
                }
            }
            // A fixture handed to a project function is used (or not) where the callee uses it.
            Pending::Fixture {
                kind: RefKind::HandedOn,
                ..
            } => {}
            Pending::Fixture { name, kind } => {
                if let Some(g) = self.fixture(file, text(*name)) {
                    let resource = ResourceRef::Global(g);
                    push(
                        out,
                        if *kind == RefKind::Close {
                            EventKind::Close { resource }
                        } else {
                            EventKind::Use { resource }
                        },
                    );
                }
            }
        }
    }

    /// Whether calling or reading `member` of the resource kept in global `g` is a state check
    /// of its type (`set` of an `asyncio.Event`), or, when the global's type is not known yet
    /// (an attribute a dataclass field's factory fills), of some type.
    fn checks_state(&self, g: GlobalId, member: &str, kb: &Kb) -> bool {
        let api = self
            .glob_off
            .partition_point(|&off| off <= g.0)
            .checked_sub(1)
            .and_then(|fi| {
                self.files[fi]
                    .globals
                    .get((g.0 - self.glob_off[fi]) as usize)
            })
            .map(|global| global.api.as_str())
            .filter(|api| !api.is_empty());
        match api {
            Some(api) => kb
                .lookup(Language::Python, &format!("{api}.{member}"))
                .iter()
                .any(|a| a.concept == Concept::StateCheck),
            None => {
                kb.state_method(Language::Python, member).is_some()
                    || kb
                        .lookup_method_name(Language::Python, member)
                        .iter()
                        .any(|a| a.concept == Concept::StateCheck)
            }
        }
    }

    /// The function of the wide-scope fixture named `name` visible from `file` (see
    /// [`Linker::fixture_def`]).
    fn fixture_fn(&self, file: usize, name: &str) -> Option<FnId> {
        let (k, fx) = self.fixture_def(file, name)?;
        let init = self.files[k].globals.get(fx.global as usize)?.init?;
        Some(FnId(init.0 + self.fn_off[k]))
    }

    /// The global of the wide-scope fixture named `name` visible from `file`, when it makes
    /// something runtime-bound itself.
    fn fixture(&self, file: usize, name: &str) -> Option<GlobalId> {
        let (k, fx) = self.fixture_def(file, name).filter(|(_, fx)| fx.bound)?;
        Some(GlobalId(fx.global + self.glob_off[k]))
    }

    /// The wide-scope fixture named `name` visible from `file`, with the file defining it: its
    /// own, else a conftest's.
    fn fixture_def(&self, file: usize, name: &str) -> Option<(usize, &super::ir::FixtureDef)> {
        let own = self.files[file].fixtures.iter().find(|f| f.name == name);
        if let Some(f) = own {
            return Some((file, f));
        }
        for &k in &self.conftests {
            let f = &self.files[k];
            if let Some(fx) = f.fixtures.iter().find(|fx| fx.name == name) {
                return Some((k, fx));
            }
        }
        None
    }

    /// Applies the entry and value-reference marks of every file.
    fn apply_marks(&self, program: &mut Program) {
        for f in self.files {
            for (path, kind) in &f.marks {
                let Some(Target::Fn(fid)) = self.resolve_full(path, 0) else {
                    continue;
                };
                let func = &mut program.functions[fid.0 as usize];
                match kind {
                    MarkKind::ValueRef => {
                        if func.entry.is_none() {
                            func.callers_unknown = true;
                        }
                    }
                    MarkKind::Entry(e) => set_entry(func, e.clone()),
                    MarkKind::Handler(what) => {
                        let e = if func.is_async {
                            Entry::ServerAsync {
                                what: format!("{what} on the server loop"),
                                requests: true,
                                test_loop: None,
                            }
                        } else {
                            Entry::Repeated { what: what.clone() }
                        };
                        set_entry(func, e);
                    }
                }
            }
        }
    }
}

/// What every path of every file ([`FileIr::paths`]) resolves to, as
/// [`Linker::resolve_prefix`] gives it; each distinct path is resolved once, and the distinct
/// paths in parallel (the linker's tables no longer change once instance globals are made).
/// Paths typed by their callers (`^f:k.rest`) are left unresolved.
struct Resolved {
    /// The distinct path of each path, by file and path index.
    ids: Vec<Vec<u32>>,
    /// The resolution of each distinct path.
    targets: Vec<Option<(Target, usize)>>,
    /// The paths of each file ([`FileIr::paths`], taken out of the files).
    texts: Vec<super::ir::Paths>,
}

impl Resolved {
    fn new(linker: &Linker<'_>, texts: Vec<super::ir::Paths>) -> Self {
        let mut distinct: HashMap<&str, u32> = HashMap::default();
        let mut order: Vec<&str> = Vec::new();
        let ids = texts
            .iter()
            .map(|paths| {
                paths
                    .iter()
                    .map(|p| {
                        *distinct.entry(p).or_insert_with(|| {
                            order.push(p);
                            order.len() as u32 - 1
                        })
                    })
                    .collect()
            })
            .collect();
        drop(distinct);
        let targets = order
            .par_iter()
            .map(|p| match p.starts_with('^') {
                true => None,
                false => linker.resolve_prefix(p, 0),
            })
            .collect();
        Resolved {
            ids,
            targets,
            texts,
        }
    }

    /// The paths of file `k` and their resolutions.
    fn file(&self, k: usize) -> FilePaths<'_> {
        static EMPTY: super::ir::Paths = super::ir::Paths::new();
        FilePaths {
            ids: self.ids.get(k).map(Vec::as_slice).unwrap_or_default(),
            targets: &self.targets,
            text: self.texts.get(k).unwrap_or(&EMPTY),
        }
    }

    /// Frees the paths of file `k` and their resolutions, once the file is linked.
    fn free(&mut self, k: usize) {
        if let Some(ids) = self.ids.get_mut(k) {
            *ids = Vec::new();
        }
        if let Some(text) = self.texts.get_mut(k) {
            *text = super::ir::Paths::new();
        }
    }
}

/// The paths of one file and their resolutions (see [`Resolved`]).
#[derive(Clone, Copy)]
struct FilePaths<'r> {
    ids: &'r [u32],
    targets: &'r [Option<(Target, usize)>],
    text: &'r super::ir::Paths,
}

impl FilePaths<'_> {
    /// What path `i` of the file resolves to: the target and the number of trailing segments
    /// left unresolved.
    fn get(&self, i: u32) -> Option<(Target, usize)> {
        let &id = self.ids.get(i as usize)?;
        self.targets[id as usize]
    }
}

/// Splits a path segment `name()` into its name and whether it is called.
fn split_call(seg: &str) -> (&str, bool) {
    match seg.strip_suffix("()") {
        Some(name) => (name, true),
        None => (seg, false),
    }
}

fn set_entry(func: &mut crate::model::Function, e: Entry) {
    if func.entry.is_none() {
        func.entry = Some(e);
        func.callers_unknown = false;
    }
}

/// The flow facts of one file, taken out of it for linking.
struct FileFlow {
    cells: Vec<crate::model::Cell>,
    temps: Vec<u32>,
    facts: super::facts::FileFacts,
}

/// The event a pending reference resolved to, among the events from `before` on: the last call
/// (a decorated function's own call comes after its wrapper's) or creation.
fn flow_event(events: &[Event], before: usize) -> Option<u32> {
    (before..events.len())
        .rev()
        .find(|&i| {
            matches!(
                events[i].kind,
                EventKind::Call { .. } | EventKind::Create { .. }
            )
        })
        .map(|i| i as u32)
}

/// Frees the parts of the files one kind at a time and prints what each held, then exits.
#[cfg(feature = "heap-stats")]
fn measure(mut files: Vec<FileIr>) -> ! {
    let mut last = crate::alloc::live();
    let mut step = |name: &str| {
        let now = crate::alloc::live();
        eprintln!(
            "part {name:<22} {:8.2} MiB",
            (last - now) as f64 / 1048576.0
        );
        last = now;
    };
    use std::mem::take;
    for f in &mut files {
        for i in &mut f.functions {
            drop(take(&mut i.pending));
        }
    }
    step("pending");
    for f in &mut files {
        for i in &mut f.functions {
            drop(take(&mut i.func.events));
        }
    }
    step("events");
    for f in &mut files {
        for i in &mut f.functions {
            drop(take(&mut i.func.name));
        }
    }
    step("fn names");
    for f in &mut files {
        for i in &mut f.functions {
            drop(take(&mut i.func.params));
            drop(i.func.entry.take());
        }
    }
    step("fn params+entry");
    for f in &mut files {
        for i in &mut f.functions {
            drop(take(&mut i.param_names));
        }
    }
    step("param_names");
    for f in &mut files {
        for i in &mut f.functions {
            drop(take(&mut i.decorators));
            drop(take(&mut i.arg_types));
            drop(take(&mut i.handed));
            drop(i.returns.take());
        }
    }
    step("decor/args/handed/ret");
    for f in &mut files {
        drop(take(&mut f.functions));
    }
    step("IrFn arrays");
    for f in &mut files {
        for c in &mut f.classes {
            drop(take(&mut c.methods));
        }
    }
    step("class methods");
    for f in &mut files {
        for c in &mut f.classes {
            drop(take(&mut c.attrs));
            drop(take(&mut c.attr_types));
        }
    }
    step("class attrs+types");
    for f in &mut files {
        for c in &mut f.classes {
            drop(take(&mut c.assigned));
            drop(take(&mut c.bases));
            drop(take(&mut c.path));
        }
    }
    step("class assigned/bases/path");
    for f in &mut files {
        drop(take(&mut f.classes));
    }
    step("class arrays");
    for f in &mut files {
        drop(take(&mut f.defs));
    }
    step("defs");
    for f in &mut files {
        drop(take(&mut f.paths));
    }
    step("paths");
    for f in &mut files {
        drop(take(&mut f.flow.facts));
    }
    step("packed facts");
    for f in &mut files {
        drop(take(&mut f.flow));
    }
    step("flow args/kw/params");
    for f in &mut files {
        drop(take(&mut f.cells));
        drop(take(&mut f.temps));
    }
    step("cells+temps");
    for f in &mut files {
        drop(take(&mut f.call_args));
    }
    step("call_args");
    for f in &mut files {
        drop(take(&mut f.conds));
    }
    step("conds");
    for f in &mut files {
        drop(take(&mut f.marks));
        drop(take(&mut f.fixtures));
        drop(take(&mut f.attr_creates));
        drop(take(&mut f.self_calls));
    }
    step("marks/fixtures/attrc/self");
    for f in &mut files {
        drop(take(&mut f.vars));
        drop(take(&mut f.globals));
        drop(take(&mut f.module));
    }
    step("vars/globals/module");
    drop(files);
    step("rest");
    std::process::exit(0)
}
