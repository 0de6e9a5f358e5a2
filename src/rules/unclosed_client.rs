//! unclosed-client (LL103): an async client made in a function and never closed; see
//! `rules/unclosed-client.md`.

use std::collections::HashSet;

use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::kb::{Concept, Kb};
use crate::model::{EventKind, Language, Program, ResourceRef, VarId};

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
/// expects to fail.
pub fn check(program: &Program, facts: &Facts, kb: &Kb, out: &mut Vec<Finding>) {
    let mut released: HashSet<VarId> = HashSet::new();
    let mut used: HashSet<VarId> = HashSet::new();
    for (id, func) in program.fns() {
        for ev in &func.events {
            if let EventKind::Use {
                resource: ResourceRef::Local(v),
            } = &ev.kind
            {
                used.insert(*v);
            }
            match &ev.kind {
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
    for (fid, func) in program.fns() {
        if func.language != Language::Python {
            continue;
        }
        for ev in &func.events {
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
                        super::explain::made_name(api, made_as.as_deref())
                    ),
                )
                .primary_label("client created here")
                .note("an unclosed client leaks its connections and warns `Unclosed client session` or `ResourceWarning` when collected")
                .help(format!(
                    "use `async with {}(...) as client:`, or call `{closer}()` when done",
                    made_as.as_deref().unwrap_or(api)
                )),
            );
        }
    }
}
