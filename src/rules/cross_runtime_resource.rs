//! `cross-runtime-resource`: a runtime-bound resource used under a runtime other than the one it
//! is bound to. Doc: rules/cross-runtime-resource.md.

use std::collections::HashMap;

use crate::analysis::{Facts, InstId, InstanceKind};
use crate::diagnostic::{Finding, Severity};
use crate::model::{EventKind, FnId, Language, Program, ResourceRef, Span, StorageKind};

/// A place the resource is bound to a runtime: a use, or a creation that binds right away.
#[derive(Clone, Copy)]
struct Binding {
    inst: InstId,
    func: FnId,
    span: Span,
    is_use: bool,
}

/// Reports uses of a resource under a second runtime instance, or under a runtime that is made
/// anew on every call while the resource outlives it.
pub fn check(program: &Program, facts: &Facts, out: &mut Vec<Finding>) {
    let mut order: Vec<ResourceRef> = Vec::new();
    let mut bindings: HashMap<ResourceRef, Vec<Binding>> = HashMap::new();
    let mut created: HashMap<ResourceRef, (Span, FnId, u16)> = HashMap::new();
    for (fid, f) in program.fns() {
        for ev in &f.events {
            let (res, is_use) = match &ev.kind {
                EventKind::Use { resource } => (*resource, true),
                EventKind::Create {
                    resource: Some(r), ..
                } => {
                    created.entry(*r).or_insert((ev.span, fid, ev.loop_depth));
                    match &ev.kind {
                        EventKind::Create {
                            binds_now: true, ..
                        } => (*r, false),
                        _ => continue,
                    }
                }
                _ => continue,
            };
            if let ResourceRef::Global(g) = res
                && program.global(g).storage == StorageKind::ThreadLocal
            {
                continue;
            }
            let list = bindings.entry(res).or_insert_with(|| {
                order.push(res);
                Vec::new()
            });
            for (inst, _) in facts.known_instances(fid) {
                list.push(Binding {
                    inst,
                    func: fid,
                    span: ev.span,
                    is_use,
                });
            }
        }
    }
    for res in order {
        let mut list = bindings.remove(&res).unwrap_or_default();
        if let ResourceRef::Local(v) = res {
            // A local lives for one call of its owner: runtimes the owner itself runs under
            // differ between calls, not within one, so only runtimes entered below it count.
            let owner = program.var(v).owner;
            let inherited: Vec<InstId> = facts.known_instances(owner).map(|(i, _)| i).collect();
            list.retain(|b| !inherited.contains(&b.inst));
        }
        // The first runtime to bind the resource owns it; later ones are the problem.
        list.sort_by_key(|b| (b.span.file, b.span.start, b.inst));
        let mut reported: Vec<FnId> = Vec::new();
        for (k, b) in list.iter().enumerate() {
            if !b.is_use || reported.contains(&b.func) {
                continue;
            }
            let inst = facts.instance(b.inst);
            let other = list[..k]
                .iter()
                .find(|o| o.inst != b.inst && inst.can_meet(facts.instance(o.inst)));
            let again = inst.repeated && outlives_instance(program, facts, res, b, &created);
            if other.is_none() && !again {
                continue;
            }
            reported.push(b.func);
            out.push(finding(program, facts, res, b, other.copied(), &created));
        }
    }
}

/// Whether the resource survives from one run of a repeated instance to the next.
fn outlives_instance(
    program: &Program,
    facts: &Facts,
    res: ResourceRef,
    b: &Binding,
    created: &HashMap<ResourceRef, (Span, FnId, u16)>,
) -> bool {
    match res {
        ResourceRef::Global(_) => true,
        ResourceRef::Local(v) => {
            // A local outlives a runtime only when the runtime is made in a loop of the
            // variable's own function and the variable is made before that loop.
            let owner = program.var(v).owner;
            let Some(&(_, _, create_depth)) = created.get(&res) else {
                return false;
            };
            match facts.instance(b.inst).kind {
                InstanceKind::Built(f, e) | InstanceKind::Fresh(f, e) => {
                    f == owner && program.func(f).events[e].loop_depth > create_depth
                }
                _ => false,
            }
        }
    }
}

fn finding(
    program: &Program,
    facts: &Facts,
    res: ResourceRef,
    b: &Binding,
    other: Option<Binding>,
    created: &HashMap<ResourceRef, (Span, FnId, u16)>,
) -> Finding {
    let lang = program.func(b.func).language;
    let (name, origin) = match res {
        ResourceRef::Global(g) => {
            let g = program.global(g);
            (
                g.name.clone(),
                Some((
                    g.span,
                    format!(
                        "`{}` is created once and shared by every runtime that uses it",
                        g.name
                    ),
                )),
            )
        }
        ResourceRef::Local(v) => {
            let var = program.var(v);
            let span = created.get(&res).map(|c| c.0).unwrap_or(var.span);
            (
                var.name.clone(),
                Some((span, format!("`{}` is created here", var.name))),
            )
        }
    };
    let inst = facts.instance(b.inst);
    let message = match lang {
        Language::Rust => format!(
            "`{name}` is bound to the runtime it first ran on but is used here under {}",
            inst.what
        ),
        Language::Python => format!(
            "`{name}` is bound to the event loop it first ran on but is used here under {}",
            inst.what
        ),
    };
    let mut f = Finding::new("cross-runtime-resource", Severity::Error, b.span, message)
        .primary_label(format!("used under {}", inst.what));
    if let Some((span, msg)) = origin {
        f = f.label(span, msg);
    }
    match other {
        Some(o) => {
            let oi = facts.instance(o.inst);
            f = f.label(inst.site, format!("{} is entered here", inst.what));
            f = f.label(o.span, format!("also used under {}", oi.what));
            f = f.label(oi.site, format!("{} is entered here", oi.what));
        }
        None => {
            f = f.label(
                inst.site,
                format!("{} is made anew each time this code runs", inst.what),
            );
        }
    }
    match lang {
        Language::Rust => f
            .note("a pooled connection spawned on one runtime dies with it: \"dispatch task is gone: runtime dropped the dispatch task\"")
            .help("create the resource inside the runtime that uses it, or run everything on one long-lived runtime"),
        Language::Python => f
            .note("asyncio raises \"RuntimeError: Event loop is closed\" or \"... is bound to a different event loop\"")
            .help("create the client or primitive inside the coroutine that `asyncio.run` drives, or keep one long-lived loop"),
    }
}
