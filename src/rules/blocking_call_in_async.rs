//! `blocking-call-in-async`: a blocking call inside async code. Doc: rules/blocking-call-in-async.md.

use crate::analysis::{Ctx, CtxEntry, Facts, short};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::model::{EventKind, FnId, FnKind, Language, Program, RunKind};

use super::explain::{called_like_fn, placement_is_certain};

/// The async counterpart the knowledge base names for a blocking API, if any: the most
/// specific entry's, and among entries of one path the last added (a project's declaration
/// over the built-in one).
fn instead<'k>(kb: &'k Kb, language: Language, api: &str) -> Option<&'k str> {
    kb.lookup(language, api)
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| Some((a.path.len(), i, a.instead.as_deref()?)))
        .max()
        .map(|(_, _, instead)| instead)
}

/// Reports blocking calls made directly in async bodies (and closures they run inline).
pub fn check(program: &Program, facts: &Facts, kb: &Kb, out: &mut Vec<Finding>) {
    for (fid, f) in program.fns() {
        let ctx = facts.ctx(fid);
        // A sync helper counts when async code is its only caller. Public API of a library
        // has callers from outside too (an unknown context that enters through a function
        // with unknown callers); it counts when another target of the package (a binary, a
        // test, a workspace member) calls it from async code and no known caller runs it
        // elsewhere.
        let group = |g: FnId| {
            program
                .files
                .get(program.func(g).span.file as usize)
                .map(|x| x.group)
        };
        let root = |c: &CtxEntry| {
            let chain = facts.chain(fid, c, 32);
            chain.last().map_or(fid, |s| s.0)
        };
        let public = |c: &CtxEntry| c.ctx == Ctx::Unknown && program.func(root(c)).callers_unknown;
        // A method of a library trait's impl is called by the library code that the
        // package's calls hand its values to (a `for` loop's `Iterator::next`, the logging
        // macros' `Log::log`): that unknown way in runs where those calls do, and neither
        // confirms nor contradicts the package's own calls.
        let lent = |c: &CtxEntry| c.ctx == Ctx::Unknown && program.func(root(c)).lib_trait;
        let ctx: Vec<&CtxEntry> = ctx.iter().filter(|c| !lent(c)).collect();
        let known: Vec<&CtxEntry> = ctx.iter().copied().filter(|c| !public(c)).collect();
        let from_outside = known.len() == ctx.len()
            || known.iter().any(|c| {
                facts
                    .chain(fid, c, 32)
                    .iter()
                    .any(|s| group(s.0) != group(fid))
            });
        let only_async_callers = called_like_fn(program, facts, fid)
            && from_outside
            && !known.is_empty()
            && known.iter().all(|c| matches!(c.ctx, Ctx::Runtime(_)));
        let in_async = (f.is_async
            || only_async_callers
            || (f.kind == FnKind::Closure && f.parent.is_some_and(|p| program.func(p).is_async)))
            && facts.on_runtime(fid).is_some()
            && placement_is_certain(program, facts, fid);
        if !in_async {
            continue;
        }
        let runtimes: Vec<_> = ctx
            .iter()
            .filter(|c| matches!(c.ctx, Ctx::Runtime(_)))
            .map(|c| c.ctx)
            .collect();
        // A sync helper that only runtimes of test code reach (library API that only the
        // tests call from async code) is the tests' concern.
        let only_from_tests = !f.is_async
            && f.kind != FnKind::Closure
            && !runtimes.is_empty()
            && runtimes.iter().all(|c| {
                matches!(c, Ctx::Runtime(i) if facts.instances.get(i.0 as usize).is_some_and(|x| x.test))
            });
        for (i, ev) in f.events.iter().enumerate() {
            if !facts.reached(program, fid, ev) {
                continue;
            }
            let mut parks = false;
            let api: &str = match &ev.kind {
                EventKind::Blocking { api } => api,
                // A block-on whose executor parks the thread, where that does not panic or
                // deadlock, still blocks the worker until the future is done.
                EventKind::Run {
                    how: RunKind::BlockOn,
                    api,
                    ..
                } if !runtimes.is_empty()
                    && runtimes.iter().all(|&o| {
                        super::nested_block_on::parking_block_on(facts, fid, i, o)
                            == Some(super::nested_block_on::Parking::Blocks)
                    }) =>
                {
                    parks = true;
                    api
                }
                _ => continue,
            };
            let help = match (f.language, instead(kb, f.language, api)) {
                (Language::Rust, _) if parks => {
                    "`.await` the future instead; sync code reached from async code can wrap the call in `tokio::task::block_in_place` on a multi-thread runtime, or run it with `tokio::task::spawn_blocking`".to_string()
                }
                (Language::Rust, Some(async_api)) => {
                    format!("use {async_api}, or move the call into `tokio::task::spawn_blocking`")
                }
                (Language::Rust, None) => {
                    "move the call into `tokio::task::spawn_blocking`, or wrap it in `tokio::task::block_in_place` on a multi-thread runtime".to_string()
                }
                (Language::Python, Some(async_api)) => {
                    format!("use {async_api}, or run the call with `await asyncio.to_thread(..)`")
                }
                (Language::Python, None) => {
                    "run the call with `await asyncio.to_thread(..)` (or `loop.run_in_executor`)".to_string()
                }
            };
            let mut finding = Finding::new(
                "blocking-call-in-async",
                Severity::Warning,
                ev.span,
                format!("blocking call `{}` inside async code", short(api)),
            )
            .primary_label("blocks the thread that drives other tasks");
            // A sync helper: the calls that lead there from async code.
            if !f.is_async
                && f.kind != FnKind::Closure
                && let Some(entry) = ctx.iter().find(|c| matches!(c.ctx, Ctx::Runtime(_)))
            {
                finding = super::explain::chain_labels(program, facts, fid, entry, finding);
            }
            finding.in_test = only_from_tests;
            if parks {
                finding = finding.note(format!(
                    "`{}` does not panic here: it parks this thread until the future completes, and no other task runs on it meanwhile. On a Tokio runtime the thread keeps the runtime's context (it is per thread), so Tokio timers, sockets and spawns inside the future still work, driven by the other workers; a future that waits for work queued on this worker, or for workers that all block the same way, never completes",
                    short(api)
                ));
            }
            out.push(finding.help(help));
        }
    }
}
