//! Unit tests of the Python frontend: small projects lowered from in-memory sources.

use std::path::PathBuf;
use std::sync::Arc;

use super::dump::dump;
use crate::kb::Kb;
use crate::model::{Language, Program};
use crate::source::{SourceDb, SourceFile};

/// Lowers in-memory files (relative paths under a fake project root) into one program and
/// returns the dump.
pub fn lower_sources(files: &[(&str, &str)]) -> (Program, String) {
    let mut db = SourceDb::default();
    let root = PathBuf::from("/nonexistent-looplint-test/proj");
    for (path, text) in files {
        db.add(SourceFile {
            path: root.join(path),
            display: path.to_string(),
            language: Language::Python,
            overlay: Some(Arc::from(*text)),
        });
    }
    let idx: Vec<usize> = (0..db.files.len()).collect();
    let kb = Kb::builtin();
    let mut lowered = super::lower(&db, &idx, &kb);
    assert_eq!(lowered.len(), 1, "one project");
    let l = lowered.pop().expect("one");
    assert!(l.problems.is_empty(), "problems: {:?}", l.problems);
    let text = dump(&db, &l.program);
    (l.program, text)
}

/// Dumps the Python files under `$LOOPLINT_DUMP` (a debugging aid, run by hand).
#[test]
#[ignore]
fn dump_directory() {
    let Ok(dir) = std::env::var("LOOPLINT_DUMP") else {
        return;
    };
    let mut db = SourceDb::default();
    let mut stack = vec![PathBuf::from(&dir)];
    while let Some(d) = stack.pop() {
        if d.is_file() {
            db.add(SourceFile {
                display: d.display().to_string(),
                path: d,
                language: Language::Python,
                overlay: None,
            });
            continue;
        }
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "py") {
                db.add(SourceFile {
                    display: p.strip_prefix(&dir).unwrap_or(&p).display().to_string(),
                    path: p,
                    language: Language::Python,
                    overlay: None,
                });
            }
        }
    }
    let idx: Vec<usize> = (0..db.files.len()).collect();
    for l in super::lower(&db, &idx, &Kb::builtin()) {
        println!("{}", dump(&db, &l.program));
        for p in l.problems {
            println!("problem: {p:?}");
        }
    }
}

#[test]
fn flask_route_runs_a_fresh_loop_over_a_module_client() {
    let (_, d) = lower_sources(&[(
        "svc.py",
        r#"import asyncio
import httpx
from flask import Flask

app = Flask(__name__)
api = httpx.AsyncClient()

async def lookup(key):
    r = await api.get(f"/k/{key}")
    return r.json()

@app.route("/k/<key>")
def view(key):
    return asyncio.run(lookup(key))
"#,
    )]);
    println!("{d}");
    assert!(d.contains("L6 d0 create global api (httpx.AsyncClient)"), "{d}");
    assert!(d.contains("L9 d0 use global api"), "{d}");
    assert!(d.contains("entry=Repeated { what: \"Flask route handler\" }"), "{d}");
    assert!(d.contains("run BlockOn"), "{d}");
    assert!(d.contains("call lookup"), "{d}");
}
