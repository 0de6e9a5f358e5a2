//! Shared wording for rules: labels that tell how code came to run where it runs.

use crate::analysis::{Ctx, CtxEntry, Facts};
use crate::diagnostic::Finding;
use crate::model::{EventKind, FnId, FnKind, Program, RunKind};

/// How a message names what a constructor made: the API (`httpx.AsyncClient`), or the project
/// class derived from its type that was called (`ApiClient` (derived from `httpx.AsyncClient`)).
pub fn made_name(api: &str, made_as: Option<&str>) -> String {
    match made_as {
        Some(class) => format!("`{class}` (derived from `{api}`)"),
        None => format!("`{api}`"),
    }
}

/// Rust methods that call a closure right away on the calling thread.
const INLINE_METHODS: &[&str] = &[
    "map",
    "and_then",
    "or_else",
    "unwrap_or_else",
    "map_err",
    "map_or",
    "map_or_else",
    "then",
    "for_each",
    "filter",
    "filter_map",
    "flat_map",
    "fold",
    "any",
    "all",
    "find",
    "find_map",
    "position",
    "take_while",
    "skip_while",
    "inspect",
    "retain",
    "sort_by",
    "sort_by_key",
    "max_by_key",
    "min_by_key",
    "get_or_insert_with",
    "or_insert_with",
    "get_or_init",
    "with",
    "scope",
    "catch_unwind",
    "try_for_each",
    "zip",
    "partition",
    "Inline",
];

/// Whether `f` is called like a named function: it is one, or it is a closure kept as a value
/// whose every known caller calls it (`(self.on_tick)()`) rather than runs it in place.
pub fn called_like_fn(program: &Program, facts: &Facts, f: FnId) -> bool {
    let sites = &facts.callers[f.0 as usize];
    match program.func(f).kind {
        FnKind::Named => true,
        FnKind::Closure => !sites.is_empty() && sites.iter().all(|s| s.nested.is_none()),
        _ => false,
    }
}

/// Whether `f` runs where the analysis says: false when it is a closure handed to an unknown
/// API (which might run it on another thread), or nested in one.
pub fn placement_is_certain(program: &Program, facts: &Facts, mut f: FnId) -> bool {
    for _ in 0..64 {
        let func = program.func(f);
        if func.kind == FnKind::Named || func.kind == FnKind::Module {
            return true;
        }
        let Some(site) = facts.callers[f.0 as usize].first() else {
            return true;
        };
        // A Python body runs inline only under an API that the knowledge base says calls it
        // in place (`calls-in-place`: `sorted(xs, key=f)`).
        let caller = program.func(site.caller);
        if site.nested == Some(RunKind::Inline)
            && caller.language != crate::model::Language::Python
            && let EventKind::Run { api, .. } = &caller.events[site.event].kind
        {
            let last = api.rsplit([':', '.']).next().unwrap_or(api);
            if !INLINE_METHODS.contains(&last) {
                return false;
            }
        }
        f = site.caller;
    }
    false
}

/// Adds labels for the chain of calls that brought `f` into context `entry`, ending at the async
/// function (or runtime entry) that runs it.
pub fn chain_labels(
    program: &Program,
    facts: &Facts,
    f: FnId,
    entry: &CtxEntry,
    mut finding: Finding,
) -> Finding {
    let chain = facts.chain(f, entry, 6);
    let mut callee = f;
    for (caller, span) in chain {
        let c = program.func(caller);
        let callee_name = display_name(program, callee);
        let msg = match (c.is_async, entry.ctx) {
            (true, Ctx::Runtime(_)) => format!("{callee_name} is called here, from async code"),
            _ => format!("{callee_name} is called here"),
        };
        finding = finding.label(span, msg);
        callee = caller;
        if c.is_async && c.kind == FnKind::Named {
            break;
        }
    }
    if let Some(inst) = entry.ctx.instance() {
        let inst = facts.instance(inst);
        if inst.site != Default::default() && inst.site.file as usize != usize::MAX {
            finding = finding.label(inst.site, format!("this runs on {}", inst.what));
        }
    }
    finding
}

/// How to name a function in a label: `` `name` `` or "this closure".
pub fn display_name(program: &Program, f: FnId) -> String {
    let func = program.func(f);
    match func.kind {
        FnKind::Named => format!("`{}`", func.name),
        FnKind::Closure => "this closure".into(),
        FnKind::Future => "this future".into(),
        FnKind::Module => "module code".into(),
    }
}

/// Whether `f` and every caller on the chain that brought it into context `entry` run where
/// the analysis says (see [`placement_is_certain`]).
pub fn path_is_certain(program: &Program, facts: &Facts, f: FnId, entry: &CtxEntry) -> bool {
    placement_is_certain(program, facts, f)
        && facts
            .chain(f, entry, 16)
            .iter()
            .all(|(caller, _)| placement_is_certain(program, facts, *caller))
}

/// Whether a body asks whether a runtime is running before it acts (`RuntimeProbe`).
pub fn probes(f: &crate::model::Function) -> bool {
    f.events
        .iter()
        .any(|e| matches!(e.kind, crate::model::EventKind::RuntimeProbe { .. }))
}
