//! Resources that register with a runtime's reactor (a reqwest client's connector opens Tokio
//! sockets; `tokio::net::TcpStream::connect` registers the socket it makes) reached by async
//! code that another executor drives: `futures::executor::block_on`, smol, async-std. The I/O
//! then panics for want of the reactor, whichever runtime made the resource. Reported by
//! `no-runtime-context`; `cross-runtime-resource` leaves such uses out.

use crate::analysis::flow::{ObjId, ObjKind};
use crate::analysis::{Ctx, CtxEntry, Facts};
use crate::diagnostic::{Finding, Severity};
use crate::model::{EventKind, Executor, FactKind, FnId, Language, Program, Span};

use super::explain::{path_is_certain, probes};

/// What a resource registers with, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registers {
    /// The executor whose reactor it needs.
    pub reactor: Executor,
    /// Whether it registers once, when made (`binds_now`), rather than at each use.
    pub when_made: bool,
}

/// What the resource made by event `event` of `f` registers with, per the knowledge base.
pub fn of_event(program: &Program, facts: &Facts, f: FnId, event: usize) -> Option<Registers> {
    match &program.func(f).events.get(event)?.kind {
        EventKind::Create { api, binds_now, .. } => {
            let reactor = facts.reactor(api);
            (reactor != Executor::Unknown).then_some(Registers {
                reactor,
                when_made: *binds_now,
            })
        }
        _ => None,
    }
}

/// What object `o` registers with.
pub fn of_object(program: &Program, facts: &Facts, o: ObjId) -> Option<Registers> {
    let obj = facts.flow.object(o);
    of_event(program, facts, obj.func, obj.event as usize)
}

/// Whether a resource registering as `reg` can be bound to runtime instance `inst` (as
/// `known_instances` gives it): the instance's executor has a reactor, and the resource's own
/// reactor when the knowledge base names one. Elsewhere its I/O has no reactor to register with.
pub fn binds_under(facts: &Facts, inst: crate::analysis::InstId, reg: Option<Registers>) -> bool {
    let executor = facts.instance(inst).executor;
    executor.has_reactor() && reg.is_none_or(|r| executor.provides(r.reactor) != Some(false))
}

/// One place async code makes a resource or uses it, with what it needs there.
struct Site {
    func: FnId,
    span: Span,
    /// The creation the finding points to.
    made: Span,
    reactor: Executor,
    /// Whether the site makes the resource (else it uses it).
    making: bool,
    /// The event, for creations (whose build conditions a path may rule out).
    event: Option<usize>,
    /// The constructor or type the resource is made by.
    api: String,
}

/// Reports resources made or used, where they register with a reactor, by async code that
/// another executor drives on a path the model is sure of. `panics` are the calls already
/// reported in each body: the code after one of them never runs.
pub fn check(program: &Program, facts: &Facts, panics: &[(FnId, Span)], out: &mut Vec<Finding>) {
    let mut sites: Vec<Site> = Vec::new();
    for (fid, f) in program.fns() {
        if f.language != Language::Rust || !f.is_async {
            continue;
        }
        for (i, ev) in f.events.iter().enumerate() {
            if let Some(reg) = of_event(program, facts, fid, i)
                && reg.when_made
            {
                sites.push(Site {
                    func: fid,
                    span: ev.span,
                    made: ev.span,
                    reactor: reg.reactor,
                    making: true,
                    event: Some(i),
                    api: api_of(program, fid, i),
                });
            }
        }
    }
    for fact in &program.flow.facts {
        let FactKind::Use { place, .. } = fact.kind else {
            continue;
        };
        let f = program.func(fact.func);
        if f.language != Language::Rust || !f.is_async {
            continue;
        }
        // Every object the place may hold registers at its use with the same reactor.
        let objs: Vec<ObjId> = facts
            .flow
            .values(place)
            .into_iter()
            .map(|(o, _)| o)
            .filter(|o| facts.flow.object(*o).kind == ObjKind::Resource)
            .collect();
        let regs: Vec<Option<Registers>> =
            objs.iter().map(|o| of_object(program, facts, *o)).collect();
        let Some(Some(first)) = regs.first().copied() else {
            continue;
        };
        if first.when_made || regs.iter().any(|r| *r != Some(first)) {
            continue;
        }
        let obj = facts.flow.object(objs[0]);
        sites.push(Site {
            func: fact.func,
            span: fact.span,
            made: obj.span,
            reactor: first.reactor,
            making: false,
            event: None,
            api: api_of(program, obj.func, obj.event as usize),
        });
    }
    let mut reported: Vec<Span> = out
        .iter()
        .filter(|f| f.rule == "no-runtime-context")
        .map(|f| f.primary)
        .collect();
    for site in sites {
        let f = program.func(site.func);
        let after_panic = panics.iter().any(|(g, span)| {
            *g == site.func && span.file == site.span.file && span.start <= site.span.start
        });
        if after_panic || reported.contains(&site.span) || probes(f) {
            continue;
        }
        let all = facts.ctx(site.func);
        let ev = site.event.map(|i| &f.events[i]);
        let reached: Vec<&CtxEntry> = all
            .iter()
            .filter(|c| ev.is_none_or(|ev| facts.reaches(program, c, ev)))
            .collect();
        // A path the model is sure of runs the body on an executor without the reactor.
        let lacking = |c: &&&CtxEntry| {
            matches!(c.ctx, Ctx::Runtime(_))
                && facts.provides(c.ctx, site.reactor) == Some(false)
                && path_is_certain(program, facts, site.func, c)
        };
        let Some(entry) = reached.iter().find(lacking) else {
            continue;
        };
        reported.push(site.span);
        out.push(finding(program, facts, &site, entry));
    }
}

/// The events of `f` that make, on the path `entry`, a resource registering when made with a
/// reactor the executor there lacks (`TcpStream::connect` under the `futures` executor): each
/// panics at once, so what they dominate never runs.
pub fn failing_creations(
    program: &Program,
    facts: &Facts,
    f: FnId,
    entry: &CtxEntry,
) -> Vec<usize> {
    let func = program.func(f);
    if func.language != Language::Rust || !func.is_async || !matches!(entry.ctx, Ctx::Runtime(_)) {
        return Vec::new();
    }
    (0..func.events.len())
        .filter(|&i| {
            of_event(program, facts, f, i).is_some_and(|reg| {
                reg.when_made
                    && facts.provides(entry.ctx, reg.reactor) == Some(false)
                    && facts.reaches(program, entry, &func.events[i])
            })
        })
        .collect()
}

/// The constructor or type event `event` of `f` makes a resource with, for messages.
fn api_of(program: &Program, f: FnId, event: usize) -> String {
    match program.func(f).events.get(event).map(|e| &e.kind) {
        Some(EventKind::Create { api, .. }) => api.to_string(),
        _ => "resource".to_string(),
    }
}

fn finding(program: &Program, facts: &Facts, site: &Site, entry: &CtxEntry) -> Finding {
    let running = facts.executor(entry.ctx);
    let what = &site.api;
    let message = if site.making {
        format!(
            "`{what}` needs {}'s reactor, but this code runs on {}",
            site.reactor.describe(),
            running.describe()
        )
    } else {
        format!(
            "this resource (made by `{what}`) needs {}'s reactor for its I/O, but this code runs on {}",
            site.reactor.describe(),
            running.describe()
        )
    };
    let mut finding = Finding::new("no-runtime-context", Severity::Error, site.span, message)
        .primary_label(format!("no {} drives this code", short_name(site.reactor)));
    if !site.making {
        finding = finding.label(site.made, "created here");
    }
    for (caller, span) in facts.chain(site.func, entry, 6) {
        // Above the block-on that starts the other executor, the callers run elsewhere.
        let on = facts.ctx(caller).iter().any(|c| c.ctx == entry.ctx);
        let text = if on {
            format!(
                "called here, from `{}`, on {}",
                program.func(caller).name,
                running.describe()
            )
        } else {
            format!("called here, from `{}`", program.func(caller).name)
        };
        finding = finding.label(span, text);
    }
    if let Some(inst) = entry.ctx.instance() {
        let inst = facts.instance(inst);
        finding = finding.label(inst.site, format!("this runs on {}", inst.what));
    }
    finding
        .note("tokio panics: \"there is no reactor running, must be called from the context of a Tokio 1.x runtime\"")
        .help("drive the future with a Tokio runtime (`Runtime::block_on`, `Handle::block_on`) instead of another executor, or use a client built on that executor's own sockets")
}

/// How a label names the runtime an executor stands for.
fn short_name(e: Executor) -> &'static str {
    match e {
        Executor::Tokio | Executor::TokioLocal => "Tokio runtime",
        _ => "runtime of that kind",
    }
}
