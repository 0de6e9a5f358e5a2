//! A readable dump of a lowered [`Program`]: functions with their events and line numbers.
//! It backs `looplint debug lower <file>`.

use std::fmt::Write;

use crate::model::{Drivers, EventKind, Program, ResourceRef, RuntimeRef, Span};
use crate::source::{LineIndex, SourceDb};

struct Lines<'a> {
    db: &'a SourceDb,
    program: &'a Program,
    cache: Vec<Option<(LineIndex, String)>>,
}

impl Lines<'_> {
    fn at(&mut self, span: Span) -> String {
        let Some(info) = self.program.files.get(span.file as usize) else {
            return "?".to_string();
        };
        let slot = span.file as usize;
        if self.cache.len() <= slot {
            self.cache.resize_with(slot + 1, || None);
        }
        if self.cache[slot].is_none() {
            let text = self
                .db
                .read(info.source)
                .map(|t| t.to_string())
                .unwrap_or_default();
            self.cache[slot] = Some((LineIndex::new(&text), text));
        }
        match &self.cache[slot] {
            Some((idx, text)) => {
                let lc = idx.line_col(text, span.start);
                format!("{}:{}", lc.line, lc.column)
            }
            None => "?".to_string(),
        }
    }
}

fn var(program: &Program, id: crate::model::VarId) -> String {
    match program.vars.get(id.0 as usize) {
        Some(v) => format!("{}#{}", v.name, id.0),
        None => format!("#{}", id.0),
    }
}

fn runtime(program: &Program, r: &RuntimeRef) -> String {
    match r {
        RuntimeRef::Var(v) => var(program, *v),
        other => format!("{other:?}"),
    }
}

fn resource(program: &Program, r: &ResourceRef) -> String {
    match r {
        ResourceRef::Local(v) => var(program, *v),
        ResourceRef::Global(g) => match program.globals.get(g.0 as usize) {
            Some(gl) => format!("global {}#{}", gl.name, g.0),
            None => format!("global #{}", g.0),
        },
    }
}

fn event(program: &Program, kind: &EventKind) -> String {
    let name = |id: crate::model::FnId| {
        program
            .functions
            .get(id.0 as usize)
            .map(|f| format!("{}#{}", f.name, id.0))
            .unwrap_or_else(|| format!("#{}", id.0))
    };
    match kind {
        EventKind::Call { callees, result } => {
            let c: Vec<String> = callees.iter().map(|c| name(*c)).collect();
            let r = result
                .map(|v| format!(" -> {}", var(program, v)))
                .unwrap_or_default();
            format!("call {}{r}", c.join(" | "))
        }
        EventKind::Run {
            body,
            how,
            runtime: rt,
            handle,
            api,
        } => {
            let h = match handle {
                crate::model::HandleFate::Bound(v) => format!("Bound({})", var(program, *v)),
                other => format!("{other:?}"),
            };
            format!(
                "run {how:?} {} on {} handle={h} api={api}",
                name(*body),
                runtime(program, rt)
            )
        }
        EventKind::RuntimeNew {
            var: v,
            flavor,
            disabled,
            api,
        } => format!(
            "runtime-new {flavor} {api}{}{}",
            if *disabled == Drivers::NONE {
                String::new()
            } else {
                format!(" without drivers {}", disabled.0)
            },
            v.map(|v| format!(" -> {}", var(program, v)))
                .unwrap_or_default()
        ),
        EventKind::HandleOf {
            runtime: rt,
            var: v,
        } => format!(
            "handle-of {}{}",
            runtime(program, rt),
            v.map(|v| format!(" -> {}", var(program, v)))
                .unwrap_or_default()
        ),
        EventKind::RuntimeEnter { runtime: rt, .. } => format!("enter {}", runtime(program, rt)),
        EventKind::RuntimeClose { runtime: rt, api } => {
            format!("close-runtime {} {api}", runtime(program, rt))
        }
        EventKind::Create {
            resource: r,
            api,
            binds_now,
            made_as,
        } => format!(
            "create {api}{}{}{}",
            made_as
                .as_ref()
                .map(|c| format!(" as {c}"))
                .unwrap_or_default(),
            r.map(|r| format!(" -> {}", resource(program, &r)))
                .unwrap_or_default(),
            if *binds_now { " (binds now)" } else { "" }
        ),
        EventKind::Use { resource: r } => format!("use {}", resource(program, r)),
        EventKind::Close { resource: r } => format!("close {}", resource(program, r)),
        EventKind::Escape { var: v } => format!("escape {}", var(program, *v)),
        EventKind::Lend { var: v } => format!("lend {}", var(program, *v)),
        EventKind::ScopeEnd { vars } => {
            let v: Vec<String> = vars.iter().map(|v| var(program, *v)).collect();
            format!("scope-end {}", v.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// Renders `program` as text: files, globals, variables, then each function with its events.
pub fn dump(program: &Program, db: &SourceDb) -> String {
    let mut lines = Lines {
        db,
        program,
        cache: Vec::new(),
    };
    let mut out = String::new();
    for (i, f) in program.files.iter().enumerate() {
        let _ = writeln!(
            out,
            "file {i} group {}: {}",
            f.group,
            db.file(f.source).display
        );
    }
    for (i, g) in program.globals.iter().enumerate() {
        let at = lines.at(g.span);
        let init = g
            .init
            .map(|f| format!(" init=#{}", f.0))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "global #{i} {} {:?} {} @{at}{init}",
            g.name, g.storage, g.api
        );
    }
    for (i, v) in program.vars.iter().enumerate() {
        let at = lines.at(v.span);
        let _ = writeln!(
            out,
            "var #{i} {} {:?} owner=#{} reads={} @{at}",
            v.name, v.kind, v.owner.0, v.reads
        );
    }
    for (i, f) in program.functions.iter().enumerate() {
        let at = lines.at(f.span);
        let mut flags = Vec::new();
        if f.is_async {
            flags.push("async".to_string());
        }
        if f.callers_unknown {
            flags.push("callers-unknown".to_string());
        }
        if f.is_test {
            flags.push("test".to_string());
        }
        if let Some(p) = f.parent {
            flags.push(format!("parent=#{}", p.0));
        }
        if let Some(e) = &f.entry {
            flags.push(format!("entry={e:?}"));
        }
        let _ = writeln!(
            out,
            "fn #{i} {} {:?} @{at} [{}]",
            f.name,
            f.kind,
            flags.join(" ")
        );
        for e in &f.events {
            let at = lines.at(e.span);
            let _ = writeln!(
                out,
                "    {at} loop={} {}",
                e.loop_depth,
                event(program, &e.kind)
            );
        }
    }
    for r in &program.param_runs {
        let _ = writeln!(
            out,
            "handed #{} to #{} by #{} event {}, called in #{} after {} events",
            r.body.0, r.helper.0, r.run.0.0, r.run.1, r.site.0.0, r.site.1
        );
    }
    for (i, c) in program.flow.cells.iter().enumerate() {
        let _ = writeln!(out, "cell #{i} {:?} {}.{}", c.kind, c.owner, c.name);
    }
    for fact in &program.flow.facts {
        let at = lines.at(fact.span);
        let _ = writeln!(out, "flow #{} {at} {:?}", fact.func.0, fact.kind);
    }
    out
}
