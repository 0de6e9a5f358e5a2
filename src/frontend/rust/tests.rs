//! Tests of the Rust frontend: small sources lowered from memory or from temporary packages,
//! with assertions on the events produced.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::frontend::Lowered;
use crate::kb::Kb;
use crate::model::{
    Entry, EventKind, Flavor, FnKind, Function, HandleFate, Program, ResourceRef, RunKind,
    RuntimeRef, StorageKind, VarKind,
};
use crate::source::{SourceDb, SourceFile};

/// Lowers one in-memory file (outside any package).
pub fn lower_text(text: &str) -> Lowered {
    let mut db = SourceDb::default();
    db.add(SourceFile {
        path: PathBuf::from("/nonexistent/looplint-test/input.rs"),
        display: "input.rs".to_string(),
        language: crate::model::Language::Rust,
        overlay: Some(Arc::from(text)),
    });
    let mut out = super::lower(&db, &[0], &Kb::builtin());
    assert_eq!(out.len(), 1);
    out.remove(0)
}

/// A temporary package directory, removed on drop.
pub struct TempPkg {
    /// Root directory.
    pub dir: PathBuf,
}

impl TempPkg {
    /// Creates a directory with `files` (relative path, contents).
    pub fn new(files: &[(&str, &str)]) -> TempPkg {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "looplint-rustfe-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        for (rel, text) in files {
            let p = dir.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("create temp dir");
            }
            std::fs::write(&p, text).expect("write temp file");
        }
        TempPkg { dir }
    }

    /// Lowers every `.rs` file of the package.
    pub fn lower(&self) -> (SourceDb, Vec<Lowered>) {
        let mut db = SourceDb::default();
        let mut paths = Vec::new();
        collect(&self.dir, &mut paths);
        paths.sort();
        for p in paths {
            let display = p
                .strip_prefix(&self.dir)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            db.add(SourceFile {
                path: p,
                display,
                language: crate::model::Language::Rust,
                overlay: None,
            });
        }
        let files: Vec<usize> = (0..db.files.len()).collect();
        let out = super::lower(&db, &files, &Kb::builtin());
        (db, out)
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

impl Drop for TempPkg {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn func<'p>(p: &'p Program, name: &str) -> &'p Function {
    p.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

fn runs(f: &Function) -> Vec<(RunKind, RuntimeRef, HandleFate)> {
    f.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Run {
                how,
                runtime,
                handle,
                ..
            } => Some((*how, *runtime, *handle)),
            _ => None,
        })
        .collect()
}

#[test]
fn block_on_in_async_fn_is_a_run_in_that_fn() {
    let l = lower_text(
        "use tokio::runtime::Handle;\n\
         async fn fetch() -> u32 { 1 }\n\
         async fn refresh() { let r = Handle::current().block_on(fetch()); }\n",
    );
    let p = &l.program;
    let f = func(p, "refresh");
    let r = runs(f);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, RunKind::BlockOn);
    assert_eq!(r[0].1, RuntimeRef::Current);
    // The synthetic future calls `fetch`.
    let body = f
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Run { body, .. } => Some(*body),
            _ => None,
        })
        .unwrap();
    let fut = p.func(body);
    assert_eq!(fut.kind, FnKind::Future);
    let fetch = p.fns().find(|(_, f)| f.name == "fetch").unwrap().0;
    assert!(fut.events.iter().any(
        |e| matches!(&e.kind, EventKind::Call { callees, .. } if callees.as_slice() == [fetch])
    ));
    assert!(
        f.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::NeedsRuntime { .. }))
    );
}

#[test]
fn builder_chain_runtime_new_has_flavor_and_var_and_scope_end() {
    let src = "use tokio::runtime::Builder;\n\
               fn work() {\n\
               let rt = Builder::new_current_thread()\n\
                   .enable_all()\n\
                   .build()\n\
                   .unwrap();\n\
               rt.block_on(async { 1 });\n\
               }\n";
    let l = lower_text(src);
    let p = &l.program;
    let f = func(p, "work");
    let (var, flavor, start) = f
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RuntimeNew { var, flavor, .. } => Some((*var, *flavor, e.span.start)),
            _ => None,
        })
        .expect("runtime-new");
    assert_eq!(flavor, Flavor::CurrentThread);
    let var = var.expect("bound");
    assert_eq!(p.var(var).kind, VarKind::Runtime);
    assert_eq!(p.var(var).name, "rt");
    // The span starts at the chain's start (line 3).
    assert_eq!(&src[start as usize..start as usize + 7], "Builder");
    assert_eq!(
        runs(f)[0],
        (RunKind::BlockOn, RuntimeRef::Var(var), HandleFate::Kept)
    );
    let end = f.events.last().unwrap();
    assert!(matches!(&end.kind, EventKind::ScopeEnd { vars } if vars == &vec![var]));
    assert_eq!(&src[end.span.start as usize..end.span.end as usize], "}");
}

#[test]
fn returned_runtime_escapes_and_dropped_runtime_closes() {
    let l = lower_text(
        "fn make() -> tokio::runtime::Runtime { let rt = tokio::runtime::Runtime::new().unwrap(); rt }\n\
         fn stop() { let rt = tokio::runtime::Runtime::new().unwrap(); drop(rt); }\n\
         fn keep() { let rt = tokio::runtime::Runtime::new().unwrap(); std::thread::spawn(move || rt.block_on(async {})); }\n",
    );
    let p = &l.program;
    let make = func(p, "make");
    assert!(
        make.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Escape { .. }))
    );
    assert!(
        !make
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ScopeEnd { .. }))
    );
    let stop = func(p, "stop");
    assert!(
        stop.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::RuntimeClose { .. }))
    );
    assert!(
        !stop
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ScopeEnd { .. }))
    );
    let keep = func(p, "keep");
    assert!(
        keep.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Escape { .. }))
    );
    assert!(runs(keep).iter().any(|r| r.0 == RunKind::Thread));
}

#[test]
fn handle_fates() {
    let l = lower_text(
        "async fn job() {}\n\
         async fn a() { tokio::spawn(job()); }\n\
         async fn b() { let _ = tokio::spawn(job()); }\n\
         async fn c() { let h = tokio::spawn(job()); h.await.unwrap(); }\n\
         async fn d() { tokio::spawn(job()).await.unwrap(); }\n\
         async fn e() { let mut set = tokio::task::JoinSet::new(); set.spawn(job()); }\n\
         async fn f() -> tokio::task::JoinHandle<()> { tokio::spawn(async {}) }\n",
    );
    let p = &l.program;
    let fate = |n: &str| runs(func(p, n))[0].2;
    assert_eq!(fate("a"), HandleFate::Discarded);
    assert_eq!(fate("b"), HandleFate::Discarded);
    let HandleFate::Bound(v) = fate("c") else {
        panic!("not bound")
    };
    assert_eq!(p.var(v).kind, VarKind::Task);
    assert_eq!(p.var(v).reads, 1);
    assert_eq!(fate("d"), HandleFate::Kept);
    assert_eq!(fate("e"), HandleFate::Kept);
    assert_eq!(fate("f"), HandleFate::Kept);
    assert_eq!(runs(func(p, "a"))[0].1, RuntimeRef::Current);
}

#[test]
fn handles_and_enter() {
    let l = lower_text(
        "use tokio::runtime::Runtime;\n\
         fn f() { let rt = Runtime::new().unwrap(); let h = rt.handle().clone(); let _g = h.enter(); h.spawn(async {}); }\n",
    );
    let p = &l.program;
    let f = func(p, "f");
    let (rt, h) = f
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::HandleOf {
                runtime: RuntimeRef::Var(rt),
                var: Some(h),
            } => Some((*rt, *h)),
            _ => None,
        })
        .expect("handle-of");
    assert_eq!(p.var(rt).name, "rt");
    assert_eq!(p.var(h).kind, VarKind::Handle);
    assert!(f.events.iter().any(
        |e| matches!(e.kind, EventKind::RuntimeEnter { runtime: RuntimeRef::Var(v), .. } if v == h)
    ));
    assert_eq!(runs(f)[0].0, RunKind::Spawn);
    assert_eq!(runs(f)[0].1, RuntimeRef::Var(h));
}

#[test]
fn resource_created_in_nested_body_binds_outer_var() {
    let l = lower_text(
        "fn f() {\n\
         let rt1 = tokio::runtime::Runtime::new().unwrap();\n\
         let rt2 = tokio::runtime::Runtime::new().unwrap();\n\
         let client = rt1.block_on(async { reqwest::Client::new() });\n\
         rt2.block_on(async { client.get(\"x\").send().await });\n\
         }\n",
    );
    let p = &l.program;
    let (create_fn, var) = p
        .fns()
        .find_map(|(id, f)| {
            f.events.iter().find_map(|e| match &e.kind {
                EventKind::Create {
                    resource: Some(ResourceRef::Local(v)),
                    ..
                } => Some((id, *v)),
                _ => None,
            })
        })
        .expect("create");
    assert_eq!(p.func(create_fn).kind, FnKind::Future);
    assert_eq!(p.var(var).name, "client");
    assert_eq!(p.var(var).kind, VarKind::Resource);
    let uses: Vec<_> = p
        .fns()
        .filter(|(_, f)| {
            f.events.iter().any(|e| {
                matches!(e.kind, EventKind::Use { resource: ResourceRef::Local(v) } if v == var)
            })
        })
        .map(|(id, _)| id)
        .collect();
    assert_eq!(uses.len(), 1);
    assert_ne!(uses[0], create_fn);
}

#[test]
fn blocking_calls_by_receiver_type() {
    let l = lower_text(
        "use std::process::Command;\n\
         async fn f() { let o = Command::new(\"ls\").arg(\"-l\").output(); std::thread::sleep(d); let c = reqwest::blocking::Client::new(); }\n",
    );
    let f = func(&l.program, "f");
    let blocking: Vec<&str> = f
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Blocking { api } => Some(api.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        blocking,
        vec!["std::process::Command::output", "std::thread::sleep"]
    );
    assert!(
        f.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::BlockingEntry { .. }))
    );
}

#[test]
fn entries_from_attributes() {
    let l = lower_text(
        "#[tokio::main(flavor = \"current_thread\")] async fn main() {}\n\
         #[tokio::test] async fn t1() {}\n\
         #[test] fn t2() {}\n\
         #[cfg(test)] mod tests { fn helper() {} }\n",
    );
    let p = &l.program;
    assert!(matches!(
        func(p, "main").entry,
        Some(Entry::Runtime {
            flavor: Flavor::CurrentThread,
            test: false,
            ..
        })
    ));
    assert!(matches!(
        func(p, "t1").entry,
        Some(Entry::Runtime {
            flavor: Flavor::CurrentThread,
            test: true,
            ..
        })
    ));
    assert!(func(p, "t1").is_test);
    assert!(matches!(func(p, "t2").entry, Some(Entry::Repeated { .. })));
    assert!(func(p, "helper").is_test);
    let l = lower_text("fn main() {}\n");
    assert_eq!(func(&l.program, "main").entry, Some(Entry::Main));
}

#[test]
fn static_lazy_client_is_a_global_used_from_tests_through_the_crate_name() {
    let pkg = TempPkg::new(&[
        (
            "Cargo.toml",
            "[package]\nname = \"my-pkg\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/lib.rs", "pub mod client;\n"),
        (
            "src/client.rs",
            "use once_cell::sync::Lazy;\n\
             pub static HTTP: Lazy<reqwest::Client> = Lazy::new(|| reqwest::Client::builder().build().unwrap());\n\
             pub async fn get() { HTTP.get(\"x\"); }\n",
        ),
        (
            "tests/api.rs",
            "mod common;\n\
             #[tokio::test] async fn one() { my_pkg::client::HTTP.get(\"a\"); common::helper(); }\n\
             #[tokio::test] async fn two() { use my_pkg::client::get; get().await; }\n",
        ),
        ("tests/common/mod.rs", "pub fn helper() {}\n"),
    ]);
    let (_db, out) = pkg.lower();
    assert_eq!(out.len(), 1);
    let p = &out[0].program;
    assert_eq!(p.globals.len(), 1);
    let g = &p.globals[0];
    assert_eq!(g.name, "HTTP");
    assert_eq!(g.storage, StorageKind::Static);
    assert_eq!(g.api, "reqwest::Client");
    let init = p.func(g.init.expect("init"));
    assert!(init.events.iter().any(|e| matches!(
        e.kind,
        EventKind::Create {
            resource: Some(ResourceRef::Global(_)),
            ..
        }
    )));
    let uses_global = |f: &Function| {
        f.events.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Use {
                    resource: ResourceRef::Global(_)
                }
            )
        })
    };
    assert!(uses_global(func(p, "one")));
    assert!(uses_global(func(p, "get")));
    assert!(func(p, "get").callers_unknown);
    let helper = p.fns().find(|(_, f)| f.name == "helper").unwrap().0;
    let get = p.fns().find(|(_, f)| f.name == "get").unwrap().0;
    let calls = |n: &str, id| {
        func(p, n)
            .events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Call { callees, .. } if callees.contains(&id)))
    };
    assert!(calls("one", helper));
    assert!(calls("two", get));
    // The test binary and the library are different groups.
    let file_of = |n: &str| p.files[func(p, n).span.file as usize].group;
    assert_ne!(file_of("one"), file_of("get"));
    assert!(func(p, "one").is_test);
}

#[test]
fn methods_resolve_by_receiver_type_and_modules() {
    let pkg = TempPkg::new(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (
            "src/main.rs",
            "mod store;\nuse store::Store;\n\
             fn main() { let s = Store::new(); s.load(); helpers::go(); }\n\
             mod helpers { pub fn go() { super::store::Store::new(); } }\n",
        ),
        (
            "src/store.rs",
            "pub struct Store { h: tokio::runtime::Handle }\n\
             impl Store {\n\
                 pub fn new() -> Self { Store { h: tokio::runtime::Handle::current() } }\n\
                 pub fn load(&self) { self.h.block_on(async {}); self.h.spawn(async {}); }\n\
             }\n",
        ),
    ]);
    let (_db, out) = pkg.lower();
    let p = &out[0].program;
    let main = func(p, "main");
    assert_eq!(main.entry, Some(Entry::Main));
    let load = p.fns().find(|(_, f)| f.name == "Store::load").unwrap().0;
    let new = p.fns().find(|(_, f)| f.name == "Store::new").unwrap().0;
    let go = p.fns().find(|(_, f)| f.name == "go").unwrap().0;
    let callees: Vec<_> = main
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Call { callees, .. } => Some(callees[0]),
            _ => None,
        })
        .collect();
    assert_eq!(callees, vec![new, load, go]);
    assert!(func(p, "go").events.iter().any(
        |e| matches!(&e.kind, EventKind::Call { callees, .. } if callees.as_slice() == [new])
    ));
    let r = runs(func(p, "Store::load"));
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].0, RunKind::BlockOn);
    assert_eq!(r[1].0, RunKind::Spawn);
    assert_eq!(r[1].1, RuntimeRef::Unknown);
}

#[test]
fn statics_in_getters_macros_and_thread_locals() {
    let l = lower_text(
        "use std::sync::OnceLock;\n\
         fn client() -> &'static reqwest::Client {\n\
             static C: OnceLock<reqwest::Client> = OnceLock::new();\n\
             C.get_or_init(|| reqwest::Client::new())\n\
         }\n\
         lazy_static::lazy_static! { static ref POOL: reqwest::Client = reqwest::Client::new(); }\n\
         thread_local! { static TL: reqwest::Client = reqwest::Client::new(); }\n\
         static PLAIN: OnceLock<tokio::sync::Mutex<u8>> = OnceLock::new();\n\
         async fn g() { tokio::select! { _ = POOL.get(\"x\").send() => {}, else => {} } }\n",
    );
    let p = &l.program;
    let mut names: Vec<(&str, StorageKind)> = p
        .globals
        .iter()
        .map(|g| (g.name.as_str(), g.storage))
        .collect();
    names.sort_by_key(|n| n.0);
    assert_eq!(
        names,
        vec![
            ("C", StorageKind::Static),
            ("POOL", StorageKind::Static),
            ("TL", StorageKind::ThreadLocal)
        ]
    );
    let c = p.globals.iter().position(|g| g.name == "C").unwrap() as u32;
    // An accessor that hands the static back does not use it: its callers' uses do.
    let client = func(p, "client");
    assert!(!client.events.iter().any(|e| matches!(
        e.kind,
        EventKind::Use {
            resource: ResourceRef::Global(_)
        }
    )));
    // The `get_or_init` closure's client lives in the static.
    assert!(p.functions.iter().any(|f| f.events.iter().any(|e| matches!(
        e.kind,
        EventKind::Create {
            resource: Some(ResourceRef::Global(g)),
            ..
        } if g.0 == c && f.kind == FnKind::Closure
    ))));
    assert!(func(p, "g").events.iter().any(|e| matches!(
        e.kind,
        EventKind::Use {
            resource: ResourceRef::Global(_)
        }
    )));
}

#[test]
fn function_values_are_calls() {
    let l = lower_text(
        "fn base() -> String { String::new() }\n\
         fn main() { let b = std::env::args().nth(1).unwrap_or_else(base); std::thread::spawn(worker); }\n\
         fn worker() {}\n",
    );
    let p = &l.program;
    let base = p.fns().find(|(_, f)| f.name == "base").unwrap().0;
    // A function passed by name runs like a closure passed to that API, named after it.
    let inline = func(p, "main")
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Run {
                how: RunKind::Inline,
                body,
                api,
                ..
            } => Some((*body, api.clone())),
            _ => None,
        })
        .expect("an inline run");
    assert_eq!(&*inline.1, "unwrap_or_else");
    assert!(p.func(inline.0).events.iter().any(
        |e| matches!(&e.kind, EventKind::Call { callees, .. } if callees.as_slice() == [base])
    ));
    let r = runs(func(p, "main"));
    assert!(r.iter().any(|(how, _, _)| *how == RunKind::Thread));
    let worker = p.fns().find(|(_, f)| f.name == "worker").unwrap().0;
    assert!(!p.func(worker).callers_unknown);
}

#[test]
fn loop_depth_and_scoped_threads() {
    let l = lower_text(
        "fn f(v: Vec<u8>) { std::thread::scope(|s| { for x in &v { s.spawn(move || x); } }); }\n",
    );
    let p = &l.program;
    let (ev, _) = p
        .functions
        .iter()
        .flat_map(|f| f.events.iter().map(move |e| (e, f)))
        .find(|(e, _)| {
            matches!(
                e.kind,
                EventKind::Run {
                    how: RunKind::Thread,
                    ..
                }
            )
        })
        .expect("scoped thread");
    assert_eq!(ev.loop_depth, 1);
}

#[test]
fn syntax_errors_and_deep_nesting_are_problems() {
    let l = lower_text("fn f( {\n");
    assert_eq!(l.problems.len(), 1);
    assert!(!l.problems[0].unreadable);
    let deep = format!(
        "fn f() {{ let x = {}1{}; }}",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    let l = lower_text(&deep);
    assert_eq!(l.problems.len(), 1);
    assert!(l.problems[0].limit);
}

/// Doc comments are read as plain comments where that leaves the parse as it was: the
/// events of the documented code stay, and one that documents nothing is still an error.
#[test]
fn doc_comments_read_as_plain_comments_keep_events_and_errors() {
    let docs = |text: &str| crate::frontend::nesting::estimate_rust_docs(text, true).1;
    let text = "//! Crate.\n/// A.\n#[test]\n/** B */ fn f() { let s = \"///\"; }\n";
    assert_eq!(docs(text), vec![2, 13, 28]);
    assert_eq!(docs("fn f() {}\n//! Late.\n"), Vec::<usize>::new());
    assert_eq!(docs("fn f() { g(); /// Nothing.\n}"), Vec::<usize>::new());
    assert_eq!(docs("struct S;\n/// Nothing.\n"), Vec::<usize>::new());
    assert_eq!(docs("enum E { /// A.\n A, /**/ B }"), vec![11]);
    assert_eq!(docs("m! { /// A.\n $x }"), vec![7]);
    for text in [
        "fn f() { g(); /// Nothing.\n}",
        "struct S;\n/// Nothing.\n",
        "fn f() {}\n//! Late.\n",
    ] {
        assert_eq!(lower_text(text).problems.len(), 1, "{text}");
    }
    let l = lower_text(
        "/// Runs.\n#[tokio::main]\n/// More.\nasync fn main() {\n    /// A local.\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    rt.block_on(async {});\n}\n",
    );
    assert!(l.problems.is_empty());
    let main = func(&l.program, "main");
    assert!(matches!(main.entry, Some(Entry::Runtime { .. })));
    assert!(runs(main).iter().any(|(k, _, _)| *k == RunKind::BlockOn));
}

#[test]
fn diverging_bodies_waits_and_consumed_handles() {
    let l = lower_text(
        "async fn worker() { loop { tick().await; } }\n\
         async fn finite() { loop { if x { break; } } }\n\
         async fn drain(mut rx: R) { while let Some(x) = rx.recv().await {} }\n\
         async fn sig() { tokio::signal::ctrl_c().await.unwrap(); }\n\
         async fn peek() { let h = tokio::spawn(worker()); h.is_finished(); }\n\
         async fn wait() { let h = tokio::spawn(worker()); h.await.unwrap(); }\n",
    );
    let p = &l.program;
    assert!(func(p, "worker").diverges);
    assert!(!func(p, "finite").diverges);
    let has_wait = |n: &str, k: crate::model::WaitKind| {
        func(p, n)
            .events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Wait { kind, .. } if *kind == k))
    };
    assert!(has_wait("drain", crate::model::WaitKind::Drain));
    assert!(has_wait("sig", crate::model::WaitKind::Signal));
    let task = |n: &str| match runs(func(p, n))[0].2 {
        HandleFate::Bound(v) => p.var(v).consumed,
        other => panic!("{other:?}"),
    };
    assert!(!task("peek"));
    assert!(task("wait"));
}

/// Calls of `f` that reach a function named `callee`.
fn calls(p: &Program, f: &Function, callee: &str) -> bool {
    f.events.iter().any(|e| {
        matches!(&e.kind, EventKind::Call { callees, .. }
            if callees.iter().any(|&c| p.func(c).name == callee))
    })
}

#[test]
fn files_without_a_manifest_are_linked_as_one_crate() {
    // The crate root and a module, no Cargo.toml.
    let pkg = TempPkg::new(&[
        ("src/main.rs", "mod jobs;\nfn main() { jobs::job(); }\n"),
        ("src/jobs.rs", "pub fn job() {}\n"),
    ]);
    let (_db, out) = pkg.lower();
    assert_eq!(out.len(), 1);
    let p = &out[0].program;
    assert!(calls(p, func(p, "main"), "job"));
    assert_eq!(func(p, "main").entry, Some(Entry::Main));
    // Modules without their root: mounted by their paths in one crate.
    let pkg = TempPkg::new(&[
        ("src/sched.rs", "pub fn run() { crate::jobs::job(); }\n"),
        ("src/jobs.rs", "pub fn job() {}\n"),
    ]);
    let (_db, out) = pkg.lower();
    assert_eq!(out.len(), 1);
    let p = &out[0].program;
    assert!(calls(p, func(p, "run"), "job"));
}
