//! A readable dump of a lowered program, for tests and for debugging the frontend.

use std::fmt::Write;

use crate::model::{EventKind, Program, ResourceRef, RuntimeRef};
use crate::source::{LineIndex, SourceDb};

/// A file's display name and, when readable, its line index and text.
type FileLines = (String, Option<(LineIndex, std::sync::Arc<str>)>);

/// Renders `program` one function per block, events with their 1-based line.
pub fn dump(db: &SourceDb, program: &Program) -> String {
    let indexes: Vec<FileLines> = program
        .files
        .iter()
        .map(|f| {
            let text = db.read(f.source).ok();
            let name = db.file(f.source).display.clone();
            (name, text.map(|t| (LineIndex::new(&t), t)))
        })
        .collect();
    let line = |file: u32, off: u32| -> u32 {
        indexes
            .get(file as usize)
            .and_then(|(_, x)| x.as_ref())
            .map_or(0, |(idx, _)| idx.line_of(off) as u32 + 1)
    };
    let gname = |g: crate::model::GlobalId| {
        program
            .globals
            .get(g.0 as usize)
            .map_or("?".to_string(), |g| g.name.clone())
    };
    let vname = |v: crate::model::VarId| {
        program
            .vars
            .get(v.0 as usize)
            .map_or("?".to_string(), |v| v.name.clone())
    };
    let res = |r: &ResourceRef| match r {
        ResourceRef::Global(g) => format!("global {}", gname(*g)),
        ResourceRef::Local(v) => format!("local {}", vname(*v)),
    };
    let rt = |r: &RuntimeRef| match r {
        RuntimeRef::Var(v) => format!("var {}", vname(*v)),
        other => format!("{other:?}"),
    };
    let mut out = String::new();
    for (id, f) in program.fns() {
        let file = indexes
            .get(f.span.file as usize)
            .map_or("?", |x| x.0.as_str());
        let _ = write!(
            out,
            "fn#{} {} [{}:{}]",
            id.0,
            f.name,
            file,
            line(f.span.file, f.span.start)
        );
        if f.is_async {
            out.push_str(" async");
        }
        if let Some(e) = &f.entry {
            let _ = write!(out, " entry={e:?}");
        }
        if f.callers_unknown {
            out.push_str(" callers-unknown");
        }
        if let Some(p) = f.parent {
            let _ = write!(out, " parent=fn#{}", p.0);
        }
        out.push('\n');
        for ev in &f.events {
            let l = line(ev.span.file, ev.span.start);
            let text = match &ev.kind {
                EventKind::Call { callees, .. } => format!(
                    "call {}",
                    callees
                        .iter()
                        .map(|c| program.func(*c).name.clone())
                        .collect::<Vec<_>>()
                        .join("|")
                ),
                EventKind::Run {
                    body,
                    how,
                    runtime,
                    handle,
                    api,
                } => {
                    format!(
                        "run {how:?} fn#{} on {} handle={handle:?} ({api})",
                        body.0,
                        rt(runtime)
                    )
                }
                EventKind::Create { resource, api, .. } => format!(
                    "create {} ({api})",
                    resource.as_ref().map_or("untracked".to_string(), res)
                ),
                EventKind::Use { resource } => format!("use {}", res(resource)),
                EventKind::Close { resource } => format!("close {}", res(resource)),
                EventKind::RuntimeNew { var, api, .. } => {
                    format!("runtime-new {} ({api})", var.map_or("-".into(), vname))
                }
                EventKind::RuntimeEnter { runtime, .. } => format!("runtime-enter {}", rt(runtime)),
                EventKind::RuntimeClose { runtime, api } => {
                    format!("runtime-close {} ({api})", rt(runtime))
                }
                EventKind::HandleOf { runtime, var } => {
                    format!(
                        "handle-of {} -> {}",
                        rt(runtime),
                        var.map_or("-".into(), vname)
                    )
                }
                EventKind::Escape { var } => format!("escape {}", vname(*var)),
                EventKind::Lend { var } => format!("lend {}", vname(*var)),
                EventKind::ScopeEnd { vars } => format!(
                    "scope-end {}",
                    vars.iter()
                        .map(|v| format!(
                            "{}(reads {})",
                            vname(*v),
                            program.vars.get(v.0 as usize).map_or(0, |x| x.reads)
                        ))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                other => format!("{other:?}"),
            };
            let _ = writeln!(out, "  L{l} d{} {text}", ev.loop_depth);
        }
    }
    out
}
