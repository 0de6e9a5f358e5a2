//! The Python frontend: `ruff_python_parser` parsing and lowering of Python projects into the
//! lifecycle model.
//!
//! Files are grouped into projects ([`project`]), each file is parsed and lowered on its own in
//! parallel ([`lower`], [`exprs`], [`calls`]), its syntax tree dropped right away, and the small
//! per-file results ([`ir`]) are linked per project into one program ([`link`]).

mod calls;
pub mod decorators;
pub mod dump;
mod exprs;
pub mod imports;
pub mod ir;
mod link;
pub mod lower;
mod prescan;
pub mod project;
mod registrations;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use rayon::prelude::*;

use crate::frontend::{Lowered, Problem};
use crate::kb::{Concept, Kb};
use crate::model::Language;
use crate::source::SourceDb;
use imports::ModuleSet;
use ir::FileIr;
use lower::{Ctx, Lowerer};
use project::{ModuleFile, Project};

/// Lowers the Python files `files` (indices into `db`) into one program per project root.
pub fn lower(db: &SourceDb, files: &[usize], kb: &Kb) -> Vec<Lowered> {
    let projects = project::group(db, files);
    let deprecated_keywords: HashSet<String> = kb
        .apis()
        .iter()
        .filter(|a| a.language == Language::Python && a.concept == Concept::Deprecated)
        .filter_map(|a| a.path.split_once(':').map(|(_, k)| k.to_string()))
        .collect();
    let module_sets: Vec<ModuleSet> = projects.iter().map(module_set).collect();
    let ctxs: Vec<Ctx<'_>> = module_sets
        .iter()
        .map(|modules| Ctx {
            kb,
            modules,
            deprecated_keywords: deprecated_keywords.clone(),
        })
        .collect();
    let work: Vec<(usize, usize)> = projects
        .iter()
        .enumerate()
        .flat_map(|(p, proj)| (0..proj.files.len()).map(move |f| (p, f)))
        .collect();
    let results: Vec<Result<FileIr, Problem>> = work
        .par_iter()
        .map(|&(p, f)| lower_file(db, &projects[p].files[f], &ctxs[p]))
        .collect();
    let mut per_project: Vec<(Vec<FileIr>, Vec<Problem>)> =
        projects.iter().map(|_| (Vec::new(), Vec::new())).collect();
    let mut kept: Vec<Vec<ModuleFile>> = projects.iter().map(|_| Vec::new()).collect();
    for (&(p, f), r) in work.iter().zip(results) {
        match r {
            Ok(ir) => {
                per_project[p].0.push(ir);
                kept[p].push(projects[p].files[f].clone());
            }
            Err(problem) => per_project[p].1.push(problem),
        }
    }
    per_project
        .into_par_iter()
        .zip(kept.into_par_iter())
        .zip(projects.par_iter())
        .map(|(((irs, problems), files), proj)| {
            let linked = Project {
                root: proj.root.clone(),
                files,
            };
            Lowered {
                program: link::link(&linked, irs, kb),
                problems,
            }
        })
        .collect()
}

fn module_set(p: &Project) -> ModuleSet {
    let mut set = ModuleSet::new();
    for f in &p.files {
        if !f.name.is_empty() {
            set.insert(f.name.clone());
        }
        for a in &f.aliases {
            set.insert(a.clone());
        }
    }
    set
}

/// Reads, parses and lowers one file; the syntax tree is dropped before returning.
pub fn lower_file(db: &SourceDb, mf: &ModuleFile, cx: &Ctx<'_>) -> Result<FileIr, Problem> {
    let text = db.read(mf.source).map_err(|e| Problem {
        source: mf.source,
        start: 0,
        end: 0,
        message: e.to_string(),
        unreadable: true,
    })?;
    let parsed = ruff_python_parser::parse_module(&text).map_err(|e| Problem {
        source: mf.source,
        start: e.location.start().to_u32(),
        end: e.location.end().to_u32(),
        message: format!("syntax error: {}", e.error),
        unreadable: false,
    })?;
    let ir = Lowerer::new(cx, mf).lower_module(parsed.suite());
    drop(parsed);
    Ok(ir)
}
