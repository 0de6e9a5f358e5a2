//! Facts computed once per program: the call graph, which functions run repeatedly, the runtime
//! instances, and the execution contexts each function runs in. Rules query these facts.
//!
//! The central fact is [`Facts::contexts`]: for every function, the set of [`Ctx`] it may run
//! in (on runtime instance R, on a blocking thread of R, on a thread with no runtime, unknown),
//! each with the edge it was reached through, so rules can explain the chain.

mod callgraph;
mod contexts;
mod instances;
#[cfg(test)]
mod tests;

pub use callgraph::CallSite;
pub use instances::{InstId, Instance, InstanceKind, short};

use std::collections::HashMap;

use crate::model::{FnId, Program, Span, VarId};

/// Where a piece of code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ctx {
    /// On a worker of runtime instance `InstId` (async code, or sync code called from it).
    Runtime(InstId),
    /// On a thread that may block but belongs to a runtime (`spawn_blocking`, `block_in_place`).
    Blocking(InstId),
    /// On a thread with no runtime (`fn main` before any runtime, a new `std::thread`).
    NoRuntime,
    /// Called from code the analysis cannot see.
    Unknown,
}

impl Ctx {
    /// The runtime instance of a `Runtime` or `Blocking` context.
    pub fn instance(self) -> Option<InstId> {
        match self {
            Ctx::Runtime(i) | Ctx::Blocking(i) => Some(i),
            _ => None,
        }
    }
}

/// One context a function runs in, and how the analysis got there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxEntry {
    /// The context.
    pub ctx: Ctx,
    /// The function and span (a call or a runtime API) this context came through; `None` for
    /// roots.
    pub via: Option<(FnId, Span)>,
}

/// Facts about one program.
#[derive(Debug, Default)]
pub struct Facts {
    /// Call sites of each function (indexed by `FnId`); nested bodies have their run site.
    pub callers: Vec<Vec<CallSite>>,
    /// Whether each function may run more than once per process.
    pub repeated: Vec<bool>,
    /// Runtime instances; index 0 is the unknown runtime.
    pub instances: Vec<Instance>,
    /// Contexts each function runs in.
    pub contexts: Vec<Vec<CtxEntry>>,
    /// Runtime instance behind runtime and handle variables.
    pub var_instance: HashMap<VarId, InstId>,
    /// Instance created by each runtime-creating event, by (function, event index).
    pub event_instance: HashMap<(FnId, usize), InstId>,
}

/// Computes the facts of a program.
pub fn analyze(program: &Program) -> Facts {
    let callers = callgraph::callers(program);
    let repeated = callgraph::repeated(program, &callers);
    let mut facts = Facts {
        callers,
        repeated,
        ..Facts::default()
    };
    instances::collect(program, &mut facts);
    contexts::propagate(program, &mut facts);
    facts
}

impl Facts {
    /// The instance with the given id.
    pub fn instance(&self, id: InstId) -> &Instance {
        &self.instances[id.0 as usize]
    }

    /// Contexts of a function.
    pub fn ctx(&self, f: FnId) -> &[CtxEntry] {
        &self.contexts[f.0 as usize]
    }

    /// The first context entry of `f` that is on a runtime worker (async context).
    pub fn on_runtime(&self, f: FnId) -> Option<&CtxEntry> {
        self.ctx(f)
            .iter()
            .find(|c| matches!(c.ctx, Ctx::Runtime(_)))
    }

    /// Known runtime instances `f` runs on as a worker (not the unknown one).
    pub fn known_instances(&self, f: FnId) -> impl Iterator<Item = (InstId, &CtxEntry)> + '_ {
        self.ctx(f).iter().filter_map(|c| match c.ctx {
            Ctx::Runtime(i) if i != InstId::UNKNOWN => Some((i, c)),
            _ => None,
        })
    }

    /// The chain of calls that led to context `entry` of `f`, innermost first, up to `limit`
    /// steps: each step is the calling function and the span of the call.
    pub fn chain(&self, f: FnId, entry: &CtxEntry, limit: usize) -> Vec<(FnId, Span)> {
        let mut out = Vec::new();
        let mut cur = entry.via;
        let mut seen = vec![f];
        while let Some((caller, span)) = cur {
            if out.len() >= limit || seen.contains(&caller) {
                break;
            }
            out.push((caller, span));
            seen.push(caller);
            cur = self
                .ctx(caller)
                .iter()
                .find(|c| c.ctx == entry.ctx || same_kind(c.ctx, entry.ctx))
                .and_then(|c| c.via);
        }
        out
    }
}

fn same_kind(a: Ctx, b: Ctx) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}
