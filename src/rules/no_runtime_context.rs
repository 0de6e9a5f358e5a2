//! `no-runtime-context`: an API that needs a running runtime, called where none runs, or where
//! the one that runs is of another executor (resources that need a reactor the executor lacks:
//! `reactor_needs`). Doc: rules/no-runtime-context.md.

use crate::analysis::{Ctx, CtxEntry, Facts, Need, short};
use crate::kb::Kb;
use crate::kb::NeedLevel;

use super::explain::path_is_certain;
use crate::diagnostic::{Finding, Severity};
use crate::model::{Drivers, EventKind, Executor, Flavor, FnId, Language, Program, Span};

/// Why a runtime-needing call fails in a given state of the thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// No runtime runs or is entered on the thread.
    NoRuntime,
    /// The thread is a worker the program started: no loop and not the main thread.
    Worker,
    /// A loop is installed (`set_event_loop`) but not running.
    NotRunning,
    /// The code runs on an executor other than the one the API needs.
    Executor(Executor),
    /// The runtime lacks the driver the API registers with (built without `enable_time`).
    Disabled(Drivers),
    /// A plain Tokio runtime runs the code, with no `LocalSet` and not a `LocalRuntime`.
    NoLocalSet,
    /// The runtime is of the other scheduler flavor (`tokio::time::pause` on a multi-thread
    /// runtime).
    Flavor,
}

/// Whether an API with need `need`, called in a body that is `is_async`, fails in thread state
/// `state`.
fn fails(facts: &Facts, state: Ctx, need: Need, is_async: bool) -> Option<Failure> {
    if need.polled && !is_async {
        return None;
    }
    match state {
        Ctx::NoRuntime if need.level != NeedLevel::CurrentOrMain => Some(Failure::NoRuntime),
        Ctx::Worker => Some(Failure::Worker),
        Ctx::Entered(_) if need.level == NeedLevel::Running => Some(Failure::NotRunning),
        Ctx::Runtime(i) | Ctx::Blocking(i) | Ctx::Entered(i)
            if need.executor == Executor::TokioLocal
                && facts.instance(i).executor == Executor::Tokio
                && facts.instance(i).ambient.is_none() =>
        {
            Some(Failure::NoLocalSet)
        }
        Ctx::Runtime(i) | Ctx::Blocking(i) | Ctx::Entered(i)
            if need.flavor == Flavor::CurrentThread
                && facts.instance(i).flavor == Flavor::MultiThread
                && facts.executor(state) == Executor::Tokio =>
        {
            Some(Failure::Flavor)
        }
        Ctx::Runtime(_) | Ctx::Blocking(_) | Ctx::Entered(_) => {
            let running = facts.executor(state);
            let disabled = state
                .instance()
                .map_or(Drivers::NONE, |i| facts.instance(i).disabled);
            match facts.provides(state, need.executor) {
                Some(false) => Some(Failure::Executor(running)),
                _ if need.driver.meets(disabled) => Some(Failure::Disabled(need.driver)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The failing runtime-needing events of `f` reached in context `entry`, with the failure.
fn failing_events(
    program: &Program,
    facts: &Facts,
    f: FnId,
    entry: &CtxEntry,
) -> Vec<(usize, Failure)> {
    let func = program.func(f);
    let mut state = entry.ctx;
    let mut out = Vec::new();
    for (i, ev) in func.events.iter().enumerate() {
        if !facts.reaches(program, entry, ev) {
            continue;
        }
        if let EventKind::RuntimeEnter { runtime, .. } = &ev.kind {
            if facts.layers.contains_key(&(f, i)) {
                state = crate::analysis::entered_known(facts, f, i, *runtime, state);
            } else if state.is_runtime_free() {
                state = Ctx::Entered(crate::analysis::resolve_runtime(
                    facts, f, i, *runtime, state,
                ));
            }
            continue;
        }
        let Some(need) = facts.needs.get(&(f, i)) else {
            continue;
        };
        if let Some(failure) = fails(facts, state, *need, func.is_async) {
            out.push((i, failure));
        }
    }
    out
}

/// Reports runtime-requiring calls in code that provably runs with no runtime, with a loop that
/// is not running, on a worker thread, or on another executor.
pub fn check(program: &Program, facts: &Facts, _kb: &Kb, out: &mut Vec<Finding>) {
    let mut panics: Vec<(FnId, Span)> = Vec::new();
    for (fid, f) in program.fns() {
        if super::explain::probes(f) {
            continue;
        }
        let mut reported: Vec<Span> = Vec::new();
        let local_sets = std::cell::OnceCell::new();
        let certain: Vec<&CtxEntry> = facts
            .ctx(fid)
            .iter()
            .filter(|c| path_is_certain(program, facts, fid, c))
            .collect();
        // Python code often probes for a loop (`try: get_running_loop() except RuntimeError`)
        // or gets one from a fixture: there, the call must fail on every known path.
        let python = f.language == Language::Python;
        if python && (f.callers_unknown || certain.len() != facts.ctx(fid).len()) {
            continue;
        }
        let per_entry: Vec<(&CtxEntry, Vec<(usize, Failure)>)> = certain
            .iter()
            .map(|c| (*c, failing_events(program, facts, fid, c)))
            .collect();
        let regions = program.regions.get(&fid);
        for (entry, failing) in &per_entry {
            // The calls of this path that fail at once: what comes after one of them on every
            // path through the body never runs.
            let mut failed: Vec<usize> =
                super::reactor_needs::failing_creations(program, facts, fid, entry);
            // A call whose receiver or argument fails first is never made
            // (`asyncio.get_running_loop().create_task(..)`, `Handle::current().spawn(..)`).
            let raised_inside = |span: &Span| {
                failing.iter().any(|&(j, _)| {
                    span.strictly_contains(&f.events[j].span)
                        && facts.needs.get(&(fid, j)).is_some_and(|n| !n.polled)
                })
            };
            for &(i, failure) in failing {
                let ev = &f.events[i];
                if let Some(regions) = regions
                    && failed.iter().any(|&p| regions.dominates(p, i))
                {
                    continue;
                }
                if raised_inside(&ev.span) {
                    continue;
                }
                let panics_here = facts.needs.get(&(fid, i)).is_some_and(|n| !n.polled);
                if reported.contains(&ev.span) {
                    if panics_here {
                        failed.push(i);
                    }
                    continue;
                }
                // A future can reach a `LocalSet` in ways the model does not follow (built
                // here, awaited there): a plain runtime is taken to lack one only where every
                // path the analysis knows runs without one, in a build target whose sets run
                // only code the model sees.
                if failure == Failure::NoLocalSet
                    && !(certain.len() == facts.ctx(fid).len()
                        && per_entry.iter().all(|(c, other)| {
                            !facts.reaches(program, c, ev) || other.iter().any(|(j, _)| *j == i)
                        })
                        && !local_sets
                            .get_or_init(|| opaque_sets(program, facts))
                            .contains(&group(program, fid)))
                {
                    continue;
                }
                if python
                    && !per_entry
                        .iter()
                        .all(|(_, other)| other.iter().any(|(j, _)| *j == i))
                {
                    continue;
                }
                reported.push(ev.span);
                panics.push((fid, ev.span));
                if panics_here {
                    failed.push(i);
                }
                out.push(finding(program, facts, fid, entry, i, failure));
            }
        }
    }
    super::reactor_needs::check(program, facts, &panics, out);
}

/// The build targets (file groups) holding a `LocalSet` (or another layered executor) that
/// runs a body doing nothing the model sees: a future built elsewhere (`run_until(fut)`,
/// `async move { fut.await }`), whose code may call `spawn_local` in the set although the
/// analysis places it where it was built.
fn opaque_sets(program: &Program, facts: &Facts) -> Vec<u32> {
    let mut out = Vec::new();
    for (&(f, i), _) in facts.layers.iter() {
        let EventKind::Run { body, .. } = &program.func(f).events[i].kind else {
            continue;
        };
        if !does_something(program, *body, 0) {
            let g = group(program, f);
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

/// Whether a body, or a body it runs in place, has an event the model follows.
fn does_something(program: &Program, f: FnId, depth: u32) -> bool {
    depth < 8
        && program.func(f).events.iter().any(|ev| match &ev.kind {
            EventKind::Run {
                how: crate::model::RunKind::Future | crate::model::RunKind::Inline,
                body,
                ..
            } => does_something(program, *body, depth + 1),
            EventKind::Run { .. }
            | EventKind::Call { .. }
            | EventKind::NeedsRuntime { .. }
            | EventKind::Create { .. }
            | EventKind::Blocking { .. }
            | EventKind::BlockingEntry { .. }
            | EventKind::RuntimeNew { .. } => true,
            _ => false,
        })
}

/// The build target (file group) of a function.
fn group(program: &Program, f: FnId) -> u32 {
    let file = program.func(f).span.file as usize;
    program.files.get(file).map_or(u32::MAX, |fi| fi.group)
}

fn finding(
    program: &Program,
    facts: &Facts,
    fid: FnId,
    entry: &CtxEntry,
    event: usize,
    failure: Failure,
) -> Finding {
    let f = program.func(fid);
    let ev = &f.events[event];
    let api = match &ev.kind {
        EventKind::NeedsRuntime { api } => short(api),
        EventKind::Run { api, .. } => short(api),
        _ => String::new(),
    };
    let need = facts.needs[&(fid, event)];
    let (message, label, note, help) = match (f.language, failure) {
        (_, Failure::Disabled(Drivers::TIME)) => (
            format!("`{api}` needs the Tokio timer, but this runtime is built without it"),
            "the runtime running this code has no timer driver".to_string(),
            "tokio panics: \"A Tokio 1.x context was found, but timers are disabled. Call `enable_time` on the runtime builder to enable timers.\"",
            "call `.enable_all()` (or `.enable_time()`) on the runtime builder",
        ),
        (_, Failure::Disabled(_)) => (
            format!("`{api}` needs the Tokio I/O driver, but this runtime is built without it"),
            "the runtime running this code has no I/O driver".to_string(),
            "tokio panics: \"A Tokio 1.x context was found, but IO is disabled. Call `enable_io` on the runtime builder to enable IO.\"",
            "call `.enable_all()` (or `.enable_io()`) on the runtime builder",
        ),
        (Language::Rust, Failure::Executor(running)) => (
            format!(
                "`{api}` needs {}, but this code runs on {}",
                need.executor.describe(),
                running.describe()
            ),
            "no Tokio runtime drives this code".to_string(),
            "tokio panics: \"there is no reactor running, must be called from the context of a Tokio 1.x runtime\"",
            "drive the future with a Tokio runtime (`Runtime::block_on`, `Handle::block_on`) instead of another executor, or use the executor's own timers and sockets",
        ),
        (_, Failure::Flavor) => (
            format!(
                "`{api}` needs a current-thread Tokio runtime, but this code runs on a multi-thread one"
            ),
            "a multi-thread runtime runs this code".to_string(),
            "tokio panics: \"`time::pause()` requires the `current_thread` Tokio runtime. This is the default Runtime used by `#[tokio::test]`.\"",
            "run the test on a current-thread runtime (`#[tokio::test]` or `#[tokio::test(start_paused = true)]`), or build the runtime with `Builder::new_current_thread()`",
        ),
        (Language::Rust, Failure::NoLocalSet) => (
            format!(
                "`{api}` needs a Tokio `LocalSet`, but this code runs on a plain Tokio runtime"
            ),
            "no `LocalSet` or `LocalRuntime` runs this code".to_string(),
            "tokio panics: \"`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`\"",
            "run the code inside `LocalSet::run_until` (or `LocalSet::block_on`, or on a `LocalRuntime`), or spawn a `Send` future with `tokio::spawn`",
        ),
        (Language::Rust, _) if need.executor == Executor::TokioLocal => (
            format!("`{api}` needs a Tokio `LocalSet`, but none is running here"),
            "no runtime or `LocalSet` is running on this thread".to_string(),
            "tokio panics: \"`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`\"",
            "run the code inside `LocalSet::run_until` (or on a `LocalRuntime`), or spawn a `Send` future with `tokio::spawn`",
        ),
        (Language::Rust, _) => (
            format!("`{api}` needs a Tokio runtime, but none is running here"),
            "no runtime is running on this thread".to_string(),
            "tokio panics: \"there is no reactor running, must be called from the context of a Tokio 1.x runtime\"",
            "call it from async code running on the runtime, pass a `Handle` and use `handle.spawn`, or enter the runtime first (`let _guard = rt.enter();`)",
        ),
        (Language::Python, Failure::Worker) if need.level == NeedLevel::CurrentOrMain => (
            format!("`{api}` has no event loop to return in this worker thread"),
            "this runs in a worker thread, which has no event loop".to_string(),
            "asyncio raises: \"RuntimeError: There is no current event loop in thread '...'\"",
            "pass the loop to the worker and use `asyncio.run_coroutine_threadsafe(coro, loop)`, or run the coroutine with `asyncio.run` in the worker",
        ),
        (Language::Python, Failure::NotRunning) => (
            format!(
                "`{api}` needs a running event loop, but the installed loop is not running yet"
            ),
            "the loop is set but not running here".to_string(),
            "asyncio raises: \"RuntimeError: no running event loop\"; `set_event_loop` only installs a loop, it runs inside `run_until_complete` / `run_forever`",
            "schedule it on the loop itself (`loop.create_task(...)`), or start it from a coroutine run by `run_until_complete`",
        ),
        (Language::Python, Failure::Executor(running)) => (
            format!(
                "`{api}` needs {}, but this code runs on {}",
                need.executor.describe(),
                running.describe()
            ),
            "another event loop drives this code".to_string(),
            "asyncio raises: \"RuntimeError: no running event loop\"",
            "use the running library's own API, or anyio, which works under both",
        ),
        (Language::Python, _) => (
            format!("`{api}` needs a running event loop, but none is running here"),
            if failure == Failure::Worker {
                "this runs in a worker thread, which has no event loop".to_string()
            } else {
                "no event loop is running on this thread".to_string()
            },
            "asyncio raises: \"RuntimeError: no running event loop\"",
            "call it from a coroutine (for example start the task lazily on first use), or pass the loop in explicitly",
        ),
    };
    let mut finding =
        Finding::new("no-runtime-context", Severity::Error, ev.span, message).primary_label(label);
    let how = match failure {
        Failure::Executor(_) => "on",
        Failure::Flavor => "on a multi-thread runtime",
        _ => "with no runtime",
    };
    for (caller, span) in facts.chain(fid, entry, 6) {
        // Above the block-on that starts the other executor, the callers run elsewhere.
        let on = facts.ctx(caller).iter().any(|c| c.ctx == entry.ctx);
        let text = match failure {
            Failure::Executor(running) if on => format!(
                "called here, from `{}`, {how} {}",
                program.func(caller).name,
                running.describe()
            ),
            Failure::Executor(_) => format!("called here, from `{}`", program.func(caller).name),
            Failure::NoLocalSet => format!(
                "called here, from `{}`, outside any `LocalSet`",
                program.func(caller).name
            ),
            _ => format!("called here, from `{}`, {how}", program.func(caller).name),
        };
        finding = finding.label(span, text);
    }
    if let (Failure::Executor(_) | Failure::NoLocalSet | Failure::Flavor, Some(inst)) =
        (failure, entry.ctx.instance())
    {
        let inst = facts.instance(inst);
        finding = finding.label(inst.site, format!("this runs on {}", inst.what));
    }
    if let (Failure::Disabled(_), Some(inst)) = (failure, entry.ctx.instance()) {
        let inst = facts.instance(inst);
        finding = finding.label(
            inst.site,
            format!("{} is built here without that driver", inst.what),
        );
    }
    finding.note(note).help(help)
}
