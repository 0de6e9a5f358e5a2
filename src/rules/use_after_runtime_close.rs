//! `use-after-runtime-close`: a runtime, handle or event loop used after the runtime was dropped,
//! shut down or closed. Doc: rules/use-after-runtime-close.md.

use std::collections::HashMap;

use crate::analysis::flow::{ObjId, ObjKind, Role};
use crate::analysis::{Facts, InstId};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{
    CellId, CellKind, CondId, EventKind, FnId, FnKind, Language, Place, Program, RuntimeRef, Span,
    VarId, VarKind,
};

/// Reports uses of runtimes and handles whose runtime is already gone.
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    let dead_returns = dead_handle_returns(program, facts);
    for (fid, f) in program.fns() {
        // Where each runtime was shut down, and the condition that code exists under.
        let mut closed: HashMap<InstId, (Span, CondId)> = HashMap::new();
        let mut dead_vars: HashMap<VarId, (Span, FnId)> = HashMap::new();
        for ev in &f.events {
            match &ev.kind {
                EventKind::RuntimeClose {
                    runtime: RuntimeRef::Var(v),
                    ..
                } => {
                    if let Some(&i) = facts.var_instance.get(v) {
                        closed.insert(i, (ev.span, ev.when));
                    }
                }
                EventKind::ScopeEnd { vars } => {
                    for v in vars {
                        if program.var(*v).kind == VarKind::Runtime
                            && let Some(&i) = facts.var_instance.get(v)
                        {
                            closed.insert(i, (ev.span, ev.when));
                        }
                    }
                }
                EventKind::Call {
                    callees,
                    result: Some(r),
                } => {
                    if let Some((&g, &end)) =
                        callees.iter().find_map(|c| dead_returns.get_key_value(c))
                        && program.var(*r).kind == VarKind::Handle
                    {
                        dead_vars.insert(*r, (end, g));
                    }
                }
                _ => {}
            }
            let Some(v) = runtime_use(&ev.kind) else {
                continue;
            };
            if !facts.reached(program, fid, ev) {
                continue;
            }
            if let Some(&(end, g)) = dead_vars.get(&v) {
                out.push(
                    base(program, facts, fid, ev.span, v)
                        .group(end)
                        .label(end, format!("the runtime behind it is dropped here, when `{}` returns", program.func(g).name))
                        .help("return or store the `Runtime` itself (or keep it alive alongside the handle) instead of only its `Handle`"),
                );
            } else if let Some(&(close, _)) = facts
                .var_instance
                .get(&v)
                .and_then(|i| closed.get(i))
                .filter(|(_, when)| Facts::together(program, *when, ev.when))
            {
                out.push(
                    base(program, facts, fid, ev.span, v)
                        .group(close)
                        .label(close, "the runtime is shut down here")
                        .help("keep the runtime alive until its last use, or create a new one"),
                );
            }
        }
    }
    shared_loops(program, facts, out);
    late_uses(program, facts, out);
    thread_uses(program, facts, out);
}

/// Runtimes used on a thread that the body starting it ends before waiting for the thread.
fn thread_uses(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for u in super::runtime_lifetimes::thread_uses(program, facts) {
        let f = program.func(u.func);
        let start = &f.events[u.start];
        if !facts.reached(program, u.func, start)
            || out
                .iter()
                .any(|x| x.rule == "use-after-runtime-close" && x.primary == u.used)
        {
            continue;
        }
        out.push(
            Finding::new(
                "use-after-runtime-close",
                Severity::Error,
                u.used,
                "a runtime handle is used on a thread that may outlive its runtime".to_string(),
            )
            .primary_label("the thread may run this after the runtime is gone")
            .label(start.span, "the thread is started here, and nothing waits for it")
            .label(u.ended, "the runtime ends here, before the thread is joined")
            .group(u.ended)
            .note("tokio panics: \"A Tokio 1.x context was found, but it is being shutdown.\"")
            .help("join the thread before the runtime is dropped or shut down, or keep the runtime alive as long as the thread"),
        );
    }
}

/// Runtimes ended by a body (directly, through a call, or with the value that owns them) and
/// used later in that body through a handle that travelled: a static, a field, a parameter, a
/// getter's result.
fn late_uses(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    for u in super::runtime_lifetimes::late_uses(program, facts) {
        let f = program.func(u.func);
        let ev = &f.events[u.event];
        if !facts.reached(program, u.func, ev) {
            continue;
        }
        // Reported where the handle is used; the call that reaches it after the end is a label.
        let primary = u.inner.unwrap_or(ev.span);
        if out
            .iter()
            .any(|x| x.rule == "use-after-runtime-close" && x.primary == primary)
        {
            continue;
        }
        let mut finding = Finding::new(
            "use-after-runtime-close",
            Severity::Error,
            primary,
            match f.language {
                Language::Rust => "a runtime handle is used after its runtime was shut down",
                Language::Python => "an event loop is used after it was closed",
            }
            .to_string(),
        )
        .primary_label("the runtime is already gone here")
        .label(u.ended, "the runtime ends here")
        .group(u.ended);
        if u.inner.is_some() {
            let what = match &ev.kind {
                EventKind::Call { callees, .. } => callees.first().map(|&c| {
                    format!(
                        "`{}` is called here, after the runtime ended",
                        program.func(c).name
                    )
                }),
                _ => None,
            };
            finding = finding.label(
                ev.span,
                what.unwrap_or_else(|| "reached from here, after the runtime ended".to_string()),
            );
        }
        out.push(
            finding
                .note(match f.language {
                    Language::Rust => {
                        "tokio panics: \"A Tokio 1.x context was found, but it is being shutdown.\""
                    }
                    Language::Python => "asyncio raises: \"RuntimeError: Event loop is closed\"",
                })
                .help("keep the runtime alive (or its owner) until the last use of its handles"),
        );
    }
}

/// Whether an event drives a runtime the frontend could not name (the flow may know it).
fn runtime_use_unknown(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Run {
            runtime: RuntimeRef::Unknown,
            ..
        } | EventKind::RuntimeEnter {
            runtime: RuntimeRef::Unknown,
            ..
        } | EventKind::HandleOf {
            runtime: RuntimeRef::Unknown,
            ..
        }
    )
}

/// The one runtime object the receiver of event `i` of `f` holds, when the flow finds exactly
/// one and the code making it runs once per process.
fn one_loop(facts: &Facts, f: FnId, i: usize) -> Option<ObjId> {
    let held = facts.flow.subject(f, i);
    let (o, _) = *held.first()?;
    if held.iter().any(|(x, _)| *x != o) {
        return None;
    }
    let obj = facts.flow.object(o);
    (obj.kind == ObjKind::Runtime && !facts.repeated[obj.func.0 as usize]).then_some(o)
}

/// The runtime variable an event drives, if any.
fn runtime_use(kind: &EventKind) -> Option<VarId> {
    match kind {
        EventKind::Run {
            runtime: RuntimeRef::Var(v),
            ..
        }
        | EventKind::RuntimeEnter {
            runtime: RuntimeRef::Var(v),
            ..
        }
        | EventKind::HandleOf {
            runtime: RuntimeRef::Var(v),
            ..
        } => Some(*v),
        _ => None,
    }
}

fn base(program: &Program, facts: &Facts, f: FnId, span: Span, v: VarId) -> Finding {
    let name = &program.var(v).name;
    let executor = facts
        .var_instance
        .get(&v)
        .map(|&i| facts.instance(i).executor);
    let (msg, note) = match program.func(f).language {
        // An anyio runtime kept in a variable is a blocking portal's event loop.
        Language::Python if executor == Some(crate::model::Executor::Anyio) => (
            format!("blocking portal `{name}` is used after it stopped"),
            "anyio raises: \"RuntimeError: This portal is not running\"",
        ),
        Language::Rust => (
            format!("`{name}` is used after its runtime was shut down"),
            "tokio panics: \"A Tokio 1.x context was found, but it is being shutdown.\"",
        ),
        Language::Python => (
            format!("event loop `{name}` is used after it was closed"),
            "asyncio raises: \"RuntimeError: Event loop is closed\"",
        ),
    };
    Finding::new("use-after-runtime-close", Severity::Error, span, msg)
        .primary_label("the runtime is already gone here")
        .note(note)
}

/// Functions that return a handle to a runtime they own and drop: the span where it drops.
fn dead_handle_returns(program: &Program, facts: &Facts) -> HashMap<FnId, Span> {
    let mut out = HashMap::new();
    for (fid, f) in program.fns() {
        // A handle leaves through a returned variable, or as the tail expression (taken
        // without a binding; callers then bind a `Handle`).
        let mut handles: Vec<(Option<VarId>, InstId)> = Vec::new();
        let mut escaped = Vec::new();
        let mut end = None;
        for ev in &f.events {
            match &ev.kind {
                EventKind::HandleOf {
                    runtime: RuntimeRef::Var(rt),
                    var,
                } => {
                    if let Some(&i) = facts.var_instance.get(rt) {
                        handles.push((*var, i));
                    }
                }
                EventKind::Escape { var } => escaped.push(*var),
                EventKind::ScopeEnd { vars } => {
                    for v in vars {
                        if program.var(*v).kind == VarKind::Runtime
                            && program.var(*v).owner == fid
                            && let Some(&i) = facts.var_instance.get(v)
                        {
                            end = Some((i, ev.span));
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some((dropped, span)) = end
            && handles
                .iter()
                .any(|(h, i)| *i == dropped && h.is_none_or(|h| escaped.contains(&h)))
        {
            out.insert(fid, span);
        }
    }
    out
}

/// A loop kept in a module-level variable, closed by one function and used by another that runs
/// again afterwards.
fn shared_loops(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    let mut closes: HashMap<VarId, (FnId, Span)> = HashMap::new();
    for (fid, f) in program.fns() {
        for ev in &f.events {
            if let EventKind::RuntimeClose {
                runtime: RuntimeRef::Var(v),
                ..
            } = &ev.kind
            {
                let owner = program.func(program.var(*v).owner);
                if owner.kind == FnKind::Module
                    && program.var(*v).owner != fid
                    && facts.repeated[fid.0 as usize]
                    && !facts.ctx(fid).is_empty()
                {
                    closes.entry(*v).or_insert((fid, ev.span));
                }
            }
        }
    }
    // The same through the flow: one loop, made by code that runs once (a helper called
    // from the module body), closed by one function and used by another, both repeated.
    let mut flow_closes: HashMap<ObjId, Span> = HashMap::new();
    // Loops a module global holds (the loop installed on a thread is no module's), and no
    // attribute: one per process.
    let mut in_global = std::collections::HashSet::new();
    let mut in_field = std::collections::HashSet::new();
    for (i, cell) in program.flow.cells.iter().enumerate() {
        let values = facts.flow.values(Place::Cell(CellId(i as u32)));
        match cell.kind {
            CellKind::Static if !cell.owner.is_empty() => in_global.extend(values),
            CellKind::Static => {}
            CellKind::Field => in_field.extend(values),
        }
    }
    // A loop also kept in an attribute may be one of an instance's, made again for each
    // instance, unless the code that makes it runs once.
    let made_once = |o: ObjId| {
        let obj = facts.flow.object(o);
        let depth = |f: FnId, e: u32| {
            program
                .func(f)
                .events
                .get(e as usize)
                .map(|ev| ev.loop_depth)
        };
        let once = |f: FnId| !facts.repeated[f.0 as usize];
        depth(obj.func, obj.event) == Some(0)
            && match obj.ctx {
                Some((c, e)) => once(c) && depth(c, e) == Some(0),
                None => once(obj.func),
            }
    };
    let one_loop = |f: FnId, i: usize| {
        one_loop(facts, f, i).filter(|&o| {
            in_global.contains(&(o, Role::Own))
                && (!in_field.contains(&(o, Role::Own)) || made_once(o))
        })
    };
    for (fid, f) in program.fns() {
        if !facts.repeated[fid.0 as usize] || facts.ctx(fid).is_empty() {
            continue;
        }
        for (i, ev) in f.events.iter().enumerate() {
            if let EventKind::RuntimeClose {
                runtime: RuntimeRef::Unknown,
                ..
            } = &ev.kind
                && let Some(o) = one_loop(fid, i)
                && facts.flow.object(o).func != fid
            {
                flow_closes.entry(o).or_insert(ev.span);
            }
        }
    }
    if closes.is_empty() && flow_closes.is_empty() {
        return;
    }
    for (fid, f) in program.fns() {
        if !facts.repeated[fid.0 as usize] {
            continue;
        }
        for (i, ev) in f.events.iter().enumerate() {
            if runtime_use_unknown(&ev.kind)
                && let Some(o) = one_loop(fid, i)
                && let Some(&close) = flow_closes.get(&o)
            {
                out.push(
                    Finding::new(
                        "use-after-runtime-close",
                        Severity::Error,
                        ev.span,
                        "an event loop is used after it was closed".to_string(),
                    )
                    .primary_label("the loop is already closed here")
                    .note("asyncio raises: \"RuntimeError: Event loop is closed\"")
                    .group(close)
                        .label(close, "the loop is closed here, and this code runs again afterwards")
                    .help("create a new loop per call (`asyncio.run`), or close the shared loop only once at exit"),
                );
                continue;
            }
            let Some(v) = runtime_use(&ev.kind) else {
                continue;
            };
            if !facts.reached(program, fid, ev) {
                continue;
            }
            if let Some(&(_, close)) = closes.get(&v) {
                out.push(
                    base(program, facts, fid, ev.span, v)
                        .group(close)
                        .label(close, "the loop is closed here, and this code runs again afterwards")
                        .help("create a new loop per call (`asyncio.run`), or close the shared loop only once at exit"),
                );
            }
        }
    }
}
