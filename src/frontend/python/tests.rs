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
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
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
    assert!(
        d.contains("L6 d0 create global api (httpx.AsyncClient)"),
        "{d}"
    );
    assert!(d.contains("L9 d0 use global api"), "{d}");
    assert!(
        d.contains("entry=Repeated { what: \"Flask route handler\" }"),
        "{d}"
    );
    assert!(d.contains("run BlockOn"), "{d}");
    assert!(d.contains("call lookup"), "{d}");
}

/// The rules whose Python fixtures this module checks (the lead's harness checks them all).
const HYGIENE_RULES: &[&str] = &[
    "dangling-task",
    "unclosed-client",
    "loop-patching",
    "deprecated-loop-api",
];

/// Expected markers `#~ rule` of a file: (line, rule), skipping `todo` ones.
fn markers(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(pos) = line.find("#~ ") else {
            continue;
        };
        let rest = line[pos + 3..].trim();
        if rest.starts_with("todo ") {
            continue;
        }
        for r in rest.split(',') {
            out.push((i as u32 + 1, r.trim().to_string()));
        }
    }
    out
}

/// Runs the whole pipeline over one fixture (a file or a folder) and compares the findings of
/// the hygiene rules with the markers.
fn check_fixture(path: &std::path::Path) -> Vec<String> {
    let mut db = SourceDb::default();
    let mut files = Vec::new();
    if path.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("fixture dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "py") {
                    files.push(p);
                }
            }
        }
    } else {
        files.push(path.to_path_buf());
    }
    files.sort();
    for p in &files {
        let display = if path.is_dir() {
            p.strip_prefix(path).unwrap_or(p).display().to_string()
        } else {
            p.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        };
        db.add(SourceFile {
            path: p.clone(),
            display,
            language: Language::Python,
            overlay: None,
        });
    }
    let kb = Kb::builtin();
    let all = std::env::var("LOOPLINT_ALL_RULES").is_ok();
    let checked = |r: &str| all || HYGIENE_RULES.contains(&r);
    let enabled = |r: &str| checked(r);
    let result = crate::check::check(
        &db,
        &crate::check::CheckOptions {
            kb: &kb,
            enabled: &enabled,
        },
    );
    // Suppression comments in a fixture apply, as in a real run.
    let findings = crate::suppress::apply(&db, result.findings, &|r: &str| checked(r));
    let mut got: Vec<(String, u32, String)> = Vec::new();
    for f in &findings {
        let file = &db.files[f.primary.file as usize];
        let text = std::fs::read_to_string(&file.path).unwrap_or_default();
        let line = crate::source::LineIndex::new(&text).line_of(f.primary.start) as u32 + 1;
        got.push((file.display.clone(), line, f.rule.to_string()));
    }
    let mut want: Vec<(String, u32, String)> = Vec::new();
    for i in 0..db.files.len() {
        let text = std::fs::read_to_string(&db.files[i].path).unwrap_or_default();
        for (line, rule) in markers(&text) {
            if checked(&rule) {
                want.push((db.files[i].display.clone(), line, rule));
            }
        }
    }
    got.sort();
    want.sort();
    let mut errors = Vec::new();
    for w in &want {
        if !got.contains(w) {
            errors.push(format!(
                "{}: missing {} at {}:{}",
                path.display(),
                w.2,
                w.0,
                w.1
            ));
        }
    }
    for g in &got {
        if !want.contains(g) {
            errors.push(format!(
                "{}: noisy {} at {}:{}",
                path.display(),
                g.2,
                g.0,
                g.1
            ));
        }
    }
    errors
}

#[test]
fn python_fixtures_match_the_hygiene_rule_markers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python");
    let Ok(rules) = std::fs::read_dir(&root) else {
        return;
    };
    let mut errors = Vec::new();
    let mut count = 0;
    for rule_dir in rules.flatten() {
        for entry in std::fs::read_dir(rule_dir.path())
            .expect("rule dir")
            .flatten()
        {
            count += 1;
            errors.extend(check_fixture(&entry.path()));
        }
    }
    assert!(
        errors.is_empty(),
        "{} of {count} fixtures:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// Checks every Python file under `$LOOPLINT_BENCH` and prints counts per rule (a measuring
/// aid run by hand in release mode; not a timed test).
#[test]
#[ignore]
fn bench_directory() {
    let Ok(dir) = std::env::var("LOOPLINT_BENCH") else {
        return;
    };
    let start = std::time::Instant::now();
    let mut db = SourceDb::default();
    let mut stack = vec![PathBuf::from(&dir)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let hidden = p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "py") {
                db.add(SourceFile {
                    display: p.strip_prefix(&dir).unwrap_or(&p).display().to_string(),
                    path: p,
                    language: Language::Python,
                    overlay: None,
                });
            }
        }
    }
    if std::env::var("LOOPLINT_PARSE_ONLY").is_ok() {
        use rayon::prelude::*;
        let n: usize = (0..db.files.len())
            .into_par_iter()
            .map(|i| {
                let text = db.read(i).unwrap_or_else(|_| std::sync::Arc::from(""));
                ruff_python_parser::parse_module(&text).map_or(0, |p| p.suite().len())
            })
            .sum();
        println!(
            "files {} parsed {n} statements in {:?}",
            db.files.len(),
            start.elapsed()
        );
        return;
    }
    let kb = Kb::builtin();
    if std::env::var("LOOPLINT_STATS").is_ok() {
        let idx: Vec<usize> = (0..db.files.len()).collect();
        let lowered = super::lower(&db, &idx, &kb);
        let (mut f, mut fe, mut e, mut v, mut g, mut pend) = (0, 0, 0, 0, 0, 0usize);
        let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
        for l in &lowered {
            f += l.program.functions.len();
            v += l.program.vars.len();
            g += l.program.globals.len();
            for func in &l.program.functions {
                e += func.events.len();
                if func.events.is_empty() {
                    fe += 1;
                }
                for ev in &func.events {
                    let k = format!("{:?}", ev.kind);
                    let k = k.split([' ', '{', '(']).next().unwrap_or("").to_string();
                    *kinds.entry(k).or_default() += 1;
                }
            }
            pend += l.problems.len();
        }
        println!(
            "programs {} functions {f} (no events {fe}) events {e} vars {v} globals {g} problems {pend} in {:?}",
            lowered.len(),
            start.elapsed()
        );
        println!("{kinds:?}");
        return;
    }
    let all = |_: &str| true;
    let result = crate::check::check(
        &db,
        &crate::check::CheckOptions {
            kb: &kb,
            enabled: &all,
        },
    );
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &result.findings {
        *counts.entry(f.rule).or_default() += 1;
    }
    if std::env::var("LOOPLINT_JSON").is_ok() {
        let mut items = Vec::new();
        for f in &result.findings {
            let file = &db.files[f.primary.file as usize];
            let text = std::fs::read_to_string(&file.path).unwrap_or_default();
            let line = crate::source::LineIndex::new(&text).line_of(f.primary.start) + 1;
            let labels: Vec<String> = f
                .labels
                .iter()
                .map(|l| {
                    let lf = &db.files[l.span.file as usize];
                    let t = std::fs::read_to_string(&lf.path).unwrap_or_default();
                    let ll = crate::source::LineIndex::new(&t).line_of(l.span.start) + 1;
                    format!("{}:{}: {}", lf.display, ll, l.message)
                })
                .collect();
            items.push(serde_json::json!({
                "rule": f.rule, "path": file.display, "severity": f.severity.name(),
                "message": f.message, "range": {"start": {"line": line}}, "labels": labels
            }));
        }
        println!("JSON {}", serde_json::json!({ "diagnostics": items }));
        return;
    }
    println!("files {} elapsed {:?}", db.files.len(), start.elapsed());
    for (rule, n) in counts {
        println!("{rule}: {n}");
    }
    if let Ok(show) = std::env::var("LOOPLINT_SHOW") {
        for f in result.findings.iter().filter(|f| f.rule == show) {
            let file = &db.files[f.primary.file as usize];
            let text = std::fs::read_to_string(&file.path).unwrap_or_default();
            let line = crate::source::LineIndex::new(&text).line_of(f.primary.start) + 1;
            println!("{}:{}: {}", file.display, line, f.message);
        }
    }
}

#[test]
fn deeply_nested_input_is_lowered_without_overflow() {
    let n = 3000;
    let lists = format!("x = {}{}\n", "[".repeat(n), "]".repeat(n));
    let calls = format!("x = {}{}\n", "f(".repeat(n), ")".repeat(n));
    let mut ifs = String::new();
    for i in 0..40 {
        ifs.push_str(&" ".repeat(i));
        ifs.push_str("if x:\n");
    }
    ifs.push_str(&" ".repeat(40));
    ifs.push_str("import asyncio; asyncio.run(main())\n");
    let (_, d) = lower_sources(&[("lists.py", &lists), ("calls.py", &calls), ("ifs.py", &ifs)]);
    assert!(d.contains("<module ifs>"), "{d}");
}

#[test]
fn syntax_errors_and_unreadable_files_become_problems() {
    let mut db = SourceDb::default();
    db.add(SourceFile {
        path: PathBuf::from("/nonexistent-looplint-test/p/bad.py"),
        display: "bad.py".into(),
        language: Language::Python,
        overlay: Some(Arc::from("def f(:\n    pass\n")),
    });
    db.add(SourceFile {
        path: PathBuf::from("/nonexistent-looplint-test/p/missing.py"),
        display: "missing.py".into(),
        language: Language::Python,
        overlay: None,
    });
    let lowered = super::lower(&db, &[0, 1], &Kb::builtin());
    let problems: Vec<_> = lowered.iter().flat_map(|l| l.problems.iter()).collect();
    assert_eq!(problems.len(), 2);
    assert!(
        problems
            .iter()
            .any(|p| !p.unreadable && p.source == 0 && p.start > 0)
    );
    assert!(problems.iter().any(|p| p.unreadable && p.source == 1));
}

#[test]
fn instance_attributes_of_module_level_objects_are_globals() {
    let (_, d) = lower_sources(&[
        ("pkg/__init__.py", ""),
        (
            "pkg/http.py",
            "import httpx\nshared = httpx.AsyncClient()\n",
        ),
        (
            "pkg/service.py",
            r#"import asyncio
from .http import shared

class Service:
    def __init__(self):
        self.lock = asyncio.Lock()
        self.http = shared

    async def fetch(self, url):
        async with self.lock:
            return await self.http.get(url)

    async def run(self, url):
        return await self.fetch(url)

svc = Service()
"#,
        ),
        (
            "main.py",
            "import asyncio\nfrom pkg.service import svc\n\ndef job(u):\n    return asyncio.run(svc.run(u))\n",
        ),
    ]);
    println!("{d}");
    assert!(
        d.contains("create global Service.lock (asyncio.Lock)"),
        "{d}"
    );
    assert!(d.contains("use global Service.lock"), "{d}");
    assert!(d.contains("use global shared"), "{d}");
    assert!(d.contains("call Service.fetch"), "{d}");
    assert!(d.contains("call Service.run"), "{d}");
}

#[test]
fn loops_tasks_threads_and_caches() {
    let (_, d) = lower_sources(&[(
        "tool.py",
        r#"import asyncio, functools, threading
import aiohttp

@functools.cache
def session():
    return aiohttp.ClientSession()

async def ping():
    await session().get("/")

async def main():
    asyncio.create_task(ping())
    kept = asyncio.create_task(ping())
    unused = asyncio.create_task(ping())
    await kept

def _worker():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main())
    loop.close()

def start():
    threading.Thread(target=_worker).start()
"#,
    )]);
    println!("{d}");
    assert!(
        d.contains("create global session (aiohttp.ClientSession)"),
        "{d}"
    );
    // The call hands the cached value back: its use is where the flow takes it, not the call.
    assert!(d.contains("call session"), "{d}");
    assert!(!d.contains("use global session"), "{d}");
    assert_eq!(d.matches("handle=Discarded").count(), 2, "{d}");
    assert!(d.contains("handle=Bound"), "{d}");
    assert!(
        d.contains("runtime-new loop (asyncio.new_event_loop)"),
        "{d}"
    );
    assert!(d.contains("runtime-enter var loop"), "{d}");
    assert!(d.contains("run BlockOn"), "{d}");
    assert!(d.contains("on var loop"), "{d}");
    assert!(d.contains("runtime-close var loop"), "{d}");
    assert!(d.contains("run Thread"), "{d}");
    assert!(d.contains("call _worker"), "{d}");
}

#[test]
fn pytest_fixtures_and_loop_scopes() {
    let (_, d) = lower_sources(&[
        (
            "tests/conftest.py",
            "import pytest, httpx\n\n@pytest.fixture(scope=\"session\")\ndef api():\n    return httpx.AsyncClient()\n",
        ),
        (
            "tests/test_a.py",
            "import pytest\npytestmark = pytest.mark.asyncio(loop_scope=\"session\")\n\nasync def test_one(api):\n    await api.get('/')\n\ndef test_sync():\n    pass\n",
        ),
    ]);
    println!("{d}");
    assert!(d.contains("create global api (httpx.AsyncClient)"), "{d}");
    assert!(
        d.contains("pytest-asyncio session-scoped event loop"),
        "{d}"
    );
    assert!(d.contains("use global api"), "{d}");
}

#[test]
fn library_subclasses_make_what_their_base_makes() {
    let (_, d) = lower_sources(&[
        ("pkg/__init__.py", "from .clients import Api\n"),
        (
            "pkg/base.py",
            "from httpx import AsyncClient as HttpClient\n\nclass Base(HttpClient):\n    pass\n",
        ),
        (
            "pkg/clients.py",
            "import asyncio\nimport time\nimport thirdparty\nfrom pkg.base import Base\n\nclass Api(Base):\n    async def get(self, path):\n        time.sleep(1)\n\nclass Loop(asyncio.SelectorEventLoop):\n    def close(self):\n        time.sleep(1)\n\nclass Other(thirdparty.Client):\n    pass\n",
        ),
        (
            "main.py",
            "import asyncio\nimport pkg\nfrom pkg.clients import Loop, Other\n\nclient = pkg.Api()\nother = Other()\n\nasync def fetch():\n    await client.get('/')\n    await client.aclose()\n    await other.aclose()\n\ndef run():\n    loop = Loop()\n    loop.run_until_complete(fetch())\n    loop.close()\n",
        ),
    ]);
    println!("{d}");
    // Through a re-export, an aliased import and a project base: the client's constructor.
    assert!(
        d.contains("create global client (httpx.AsyncClient)"),
        "{d}"
    );
    assert!(!d.contains("create global other"), "{d}");
    // A method the class overrides is the project's, and a use of the client; inherited
    // methods are the library's.
    assert!(d.contains("use global client\n  L9 d0 call Api.get"), "{d}");
    assert!(d.contains("close global client"), "{d}");
    assert_eq!(d.matches("close global").count(), 1, "{d}");
    // The loop class's constructor makes a loop, which runs a body; its own `close` is no
    // close of the loop.
    assert!(
        d.contains("runtime-new loop (asyncio.SelectorEventLoop)"),
        "{d}"
    );
    assert!(d.contains("run BlockOn"), "{d}");
    assert!(d.contains("call Loop.close"), "{d}");
    assert!(!d.contains("runtime-close"), "{d}");
}
