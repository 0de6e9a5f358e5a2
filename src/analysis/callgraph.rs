//! Call sites of every function and which functions run more than once per process.

use crate::model::{Entry, EventKind, FnId, Program, Reach, RunKind, Span};

/// One place a function is called or run from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallSite {
    /// The calling function.
    pub caller: FnId,
    /// Index of the event in the caller's body.
    pub event: usize,
    /// Span of the call.
    pub span: Span,
    /// Loops around the call in the caller.
    pub loop_depth: u16,
    /// Whether this is a nested body's run site rather than a call.
    pub nested: Option<RunKind>,
}

/// Call sites of each function, indexed by `FnId`.
pub fn callers(program: &Program) -> Vec<Vec<CallSite>> {
    let mut out = vec![Vec::new(); program.functions.len()];
    for (fid, f) in program.fns() {
        for (i, ev) in f.events.iter().enumerate() {
            let site = |nested| CallSite {
                caller: fid,
                event: i,
                span: ev.span,
                loop_depth: ev.loop_depth,
                nested,
            };
            match &ev.kind {
                EventKind::Call { callees, .. } => {
                    for c in callees {
                        if let Some(v) = out.get_mut(c.0 as usize) {
                            v.push(site(None));
                        }
                    }
                }
                EventKind::Run { body, how, .. } => {
                    if let Some(v) = out.get_mut(body.0 as usize) {
                        v.push(site(Some(*how)));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Whether each function may run more than once in one process: a framework runs it again and
/// again, it is public API with unknown callers, it has several call sites or one inside a loop,
/// or a caller does. A lazy static's initialiser runs once, however often its static is read.
pub fn repeated(program: &Program, callers: &[Vec<CallSite>]) -> Vec<bool> {
    let n = program.functions.len();
    let mut rep = vec![false; n];
    let mut work = Vec::new();
    for (fid, f) in program.fns() {
        let all = &callers[fid.0 as usize];
        let once: Vec<CallSite>;
        let sites = if program.reach.is_empty() {
            all
        } else {
            once = all
                .iter()
                .filter(|s| s.nested.is_some() || program.reach(s.caller, s.event) != Reach::Once)
                .copied()
                .collect();
            &once
        };
        let own = match &f.entry {
            Some(Entry::Repeated { .. }) => !f.is_test,
            Some(Entry::Main) | Some(Entry::Runtime { .. }) | Some(Entry::ServerAsync { .. }) => {
                false
            }
            None => f.callers_unknown || sites.len() > 1 || sites.iter().any(|s| s.loop_depth > 0),
        };
        if own {
            rep[fid.0 as usize] = true;
            work.push(fid);
        }
    }
    // Everything a repeated function calls or runs is repeated too, but what it runs once.
    while let Some(fid) = work.pop() {
        for (i, ev) in program.func(fid).events.iter().enumerate() {
            let targets: &[FnId] = match &ev.kind {
                EventKind::Call { .. } if program.reach(fid, i) == Reach::Once => &[],
                EventKind::Call { callees, .. } => callees,
                EventKind::Run { body, .. } => std::slice::from_ref(body),
                _ => &[],
            };
            for &t in targets {
                let callee = program.func(t);
                let is_root = matches!(
                    callee.entry,
                    Some(Entry::Runtime { .. }) | Some(Entry::Main)
                );
                if !is_root && !rep[t.0 as usize] {
                    rep[t.0 as usize] = true;
                    work.push(t);
                }
            }
        }
    }
    rep
}
