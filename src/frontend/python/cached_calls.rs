//! Calls of cached factories that take no arguments (`functools.cache`, `lru_cache`,
//! `st.cache_resource` on a module-level function without parameters): the body runs once per
//! process, at whichever call comes first, and every later call gets back what that run made.

use crate::model::{EventKind, FnId, FnKind, Program, Reach, StorageKind};

/// Marks each call whose callees are all such factories as running them once
/// ([`Reach::Once`]), so that what they make is one object for the whole process rather than
/// one per call site. `takes_args` tells whether a function has parameters: a factory cached
/// per argument value makes one object per value, which the model does not tell apart.
pub(super) fn mark(program: &mut Program, takes_args: impl Fn(FnId) -> bool) {
    let module_level = |f: FnId| {
        program
            .func(f)
            .parent
            .is_none_or(|p| program.func(p).kind == FnKind::Module)
    };
    let once: Vec<FnId> = program
        .globals
        .iter()
        .filter(|g| g.storage == StorageKind::Cached)
        .filter_map(|g| g.init)
        .filter(|&f| !takes_args(f) && module_level(f))
        .collect();
    if once.is_empty() {
        return;
    }
    for (fi, f) in program.functions.iter().enumerate() {
        for (ei, ev) in f.events.iter().enumerate() {
            if let EventKind::Call { callees, .. } = &ev.kind
                && !callees.is_empty()
                && callees.iter().all(|c| once.contains(c))
            {
                program
                    .reach
                    .insert((FnId(fi as u32), ei as u32), Reach::Once);
            }
        }
    }
}
