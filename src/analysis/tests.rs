//! Tests of the analysis and the rules over hand-built programs.

use crate::analysis::{Ctx, analyze};
use crate::model::*;
use crate::rules;

/// A tiny builder for programs; every event gets a distinct span so findings can be located.
#[derive(Default)]
struct B {
    p: Program,
    next: u32,
}

impl B {
    fn new(groups: u32) -> B {
        let mut b = B::default();
        for g in 0..groups {
            b.p.files.push(FileInfo {
                source: g as usize,
                language: Language::Rust,
                group: g,
            });
        }
        b
    }
    fn span(&mut self, file: u32) -> Span {
        self.next += 10;
        Span::new(file, self.next, self.next + 5)
    }
    fn func(&mut self, name: &str, is_async: bool, entry: Option<Entry>, file: u32) -> FnId {
        let span = self.span(file);
        self.p.functions.push(Function {
            name: name.into(),
            language: Language::Rust,
            span,
            kind: FnKind::Named,
            is_async,
            parent: None,
            entry,
            callers_unknown: false,
            lib_trait: false,
            task_call: false,
            is_test: false,
            diverges: false,
            events: Vec::new(),
            when: CondId::TRUE,
            params: Vec::new(),
        });
        FnId(self.p.functions.len() as u32 - 1)
    }
    fn nested(&mut self, parent: FnId, kind: FnKind, is_async: bool) -> FnId {
        let file = self.p.func(parent).span.file;
        let id = self.func("<nested>", is_async, None, file);
        self.p.functions[id.0 as usize].kind = kind;
        self.p.functions[id.0 as usize].parent = Some(parent);
        id
    }
    fn ev(&mut self, f: FnId, kind: EventKind) -> Span {
        let file = self.p.func(f).span.file;
        let span = self.span(file);
        self.p.functions[f.0 as usize].events.push(Event {
            span,
            loop_depth: 0,
            kind,
            when: CondId::TRUE,
        });
        span
    }
    fn var(&mut self, owner: FnId, name: &str, kind: VarKind) -> VarId {
        let span = self.span(0);
        self.p.vars.push(Var {
            name: name.into(),
            owner,
            span,
            kind,
            reads: 1,
            consumed: true,
            fresh: false,
        });
        VarId(self.p.vars.len() as u32 - 1)
    }
    fn run(&mut self, f: FnId, body: FnId, how: RunKind, runtime: RuntimeRef) -> Span {
        self.ev(
            f,
            EventKind::Run {
                body,
                how,
                runtime,
                handle: HandleFate::Kept,
                api: "api".into(),
            },
        )
    }
    fn findings(&self) -> Vec<(&'static str, Span)> {
        let kb = crate::kb::Kb::builtin();
        let facts = analyze(&self.p, &kb);
        rules::run(&self.p, &facts, &kb, &|_| true)
            .into_iter()
            .map(|f| (f.rule, f.primary))
            .collect()
    }
}

fn tokio_main() -> Option<Entry> {
    Some(Entry::Runtime {
        flavor: Flavor::MultiThread,
        executor: crate::model::Executor::Tokio,
        test: false,
        per_call: false,
        what: "the `#[tokio::main]` runtime".into(),
    })
}

fn tokio_test(flavor: Flavor) -> Option<Entry> {
    Some(Entry::Runtime {
        flavor,
        executor: crate::model::Executor::Tokio,
        test: true,
        per_call: false,
        what: "the `#[tokio::test]` runtime".into(),
    })
}

/// `#[tokio::main] async fn main() { helper() }` and `fn helper() { rt.block_on(..) }`.
fn nested_program(through_spawn_blocking: bool) -> (B, Span) {
    let mut b = B::new(1);
    let main = b.func("main", true, tokio_main(), 0);
    let helper = b.func("helper", false, None, 0);
    let rt = b.var(helper, "rt", VarKind::Runtime);
    b.ev(
        helper,
        EventKind::RuntimeNew {
            var: Some(rt),
            flavor: Flavor::MultiThread,
            disabled: crate::model::Drivers::NONE,
            api: "Runtime::new".into(),
        },
    );
    let fut = b.nested(helper, FnKind::Future, true);
    let block = b.run(helper, fut, RunKind::BlockOn, RuntimeRef::Var(rt));
    if through_spawn_blocking {
        let closure = b.nested(main, FnKind::Closure, false);
        b.ev(
            closure,
            EventKind::Call {
                callees: smallvec::smallvec![helper],
                result: None,
            },
        );
        b.run(main, closure, RunKind::SpawnBlocking, RuntimeRef::Current);
    } else {
        b.ev(
            main,
            EventKind::Call {
                callees: smallvec::smallvec![helper],
                result: None,
            },
        );
    }
    (b, block)
}

#[test]
fn block_on_in_sync_helper_called_from_async_is_nested() {
    let (b, block) = nested_program(false);
    let found = b.findings();
    assert!(found.contains(&("nested-block-on", block)), "{found:?}");
}

#[test]
fn block_on_inside_spawn_blocking_is_fine() {
    let (b, _) = nested_program(true);
    let found = b.findings();
    assert!(!found.iter().any(|f| f.0 == "nested-block-on"), "{found:?}");
    let facts = analyze(&b.p, &crate::kb::Kb::builtin());
    assert!(
        facts
            .ctx(FnId(1))
            .iter()
            .all(|c| matches!(c.ctx, Ctx::Blocking(_)))
    );
}

/// A static client used by `n` `#[tokio::test]` functions of one test binary.
fn static_client_tests(n: usize) -> (B, Vec<Span>) {
    let mut b = B::new(1);
    let g = Global {
        name: "CLIENT".into(),
        span: Span::new(0, 1, 2),
        storage: StorageKind::Static,
        api: "reqwest::Client".into(),
        init: None,
    };
    b.p.globals.push(g);
    let mut uses = Vec::new();
    for i in 0..n {
        let t = b.func(&format!("t{i}"), true, tokio_test(Flavor::CurrentThread), 0);
        b.p.functions[t.0 as usize].is_test = true;
        uses.push(b.ev(
            t,
            EventKind::Use {
                resource: ResourceRef::Global(GlobalId(0)),
            },
        ));
    }
    (b, uses)
}

#[test]
fn static_client_shared_by_two_test_runtimes_is_cross_runtime() {
    let (b, uses) = static_client_tests(3);
    let found = b.findings();
    // The first runtime to use the client owns it; the later ones are told as one finding, at
    // the first of them (the others are its labels).
    let crr: Vec<_> = found
        .iter()
        .filter(|(rule, _)| *rule == "cross-runtime-resource")
        .collect();
    assert_eq!(crr, vec![&("cross-runtime-resource", uses[1])], "{found:?}");
}

#[test]
fn static_client_in_one_test_is_fine() {
    let (b, _) = static_client_tests(1);
    assert!(b.findings().is_empty());
}

#[test]
fn runtimes_in_different_targets_never_meet() {
    let mut b = B::new(2);
    b.p.globals.push(Global {
        name: "CLIENT".into(),
        span: Span::new(0, 1, 2),
        storage: StorageKind::Static,
        api: "reqwest::Client".into(),
        init: None,
    });
    for file in 0..2 {
        let m = b.func("main", true, tokio_main(), file);
        b.ev(
            m,
            EventKind::Use {
                resource: ResourceRef::Global(GlobalId(0)),
            },
        );
    }
    assert!(b.findings().is_empty());
}

#[test]
fn public_per_call_runtime_with_static_client_is_cross_runtime() {
    let mut b = B::new(1);
    b.p.globals.push(Global {
        name: "CLIENT".into(),
        span: Span::new(0, 1, 2),
        storage: StorageKind::Static,
        api: "reqwest::Client".into(),
        init: None,
    });
    let f = b.func("check_link", false, None, 0);
    b.p.functions[f.0 as usize].callers_unknown = true;
    let rt = b.var(f, "rt", VarKind::Runtime);
    b.ev(
        f,
        EventKind::RuntimeNew {
            var: Some(rt),
            flavor: Flavor::CurrentThread,
            disabled: crate::model::Drivers::NONE,
            api: "Builder::build".into(),
        },
    );
    let body = b.nested(f, FnKind::Future, true);
    let u = b.ev(
        body,
        EventKind::Use {
            resource: ResourceRef::Global(GlobalId(0)),
        },
    );
    b.run(f, body, RunKind::BlockOn, RuntimeRef::Var(rt));
    assert_eq!(b.findings(), vec![("cross-runtime-resource", u)]);
}

#[test]
fn block_in_place_depends_on_flavor() {
    for (flavor, expect) in [(Flavor::CurrentThread, true), (Flavor::MultiThread, false)] {
        let mut b = B::new(1);
        let t = b.func("t", true, tokio_test(flavor), 0);
        let c = b.nested(t, FnKind::Closure, false);
        let span = b.run(t, c, RunKind::BlockInPlace, RuntimeRef::Current);
        let found = b.findings();
        assert_eq!(
            found.contains(&("block-in-place-current-thread", span)),
            expect,
            "{flavor:?}"
        );
    }
}

#[test]
fn spawn_from_plain_main_has_no_runtime_unless_entered() {
    for entered in [false, true] {
        let mut b = B::new(1);
        let main = b.func("main", false, Some(Entry::Main), 0);
        let rt = b.var(main, "rt", VarKind::Runtime);
        b.ev(
            main,
            EventKind::RuntimeNew {
                var: Some(rt),
                flavor: Flavor::MultiThread,
                disabled: crate::model::Drivers::NONE,
                api: "Runtime::new".into(),
            },
        );
        if entered {
            b.ev(
                main,
                EventKind::RuntimeEnter {
                    runtime: RuntimeRef::Var(rt),
                    api: String::new(),
                },
            );
        }
        let helper = b.func("start", false, None, 0);
        b.ev(
            main,
            EventKind::Call {
                callees: smallvec::smallvec![helper],
                result: None,
            },
        );
        let span = b.ev(
            helper,
            EventKind::NeedsRuntime {
                api: "tokio::spawn".into(),
            },
        );
        let found = b.findings();
        assert_eq!(
            found.contains(&("no-runtime-context", span)),
            !entered,
            "{found:?}"
        );
    }
}

#[test]
fn detached_task_in_main_is_lost_unless_awaited_or_forever() {
    for (fate_kept, diverges, expect) in [
        (false, false, true),
        (true, false, false),
        (false, true, false),
    ] {
        let mut b = B::new(1);
        let main = b.func("main", true, tokio_main(), 0);
        let worker = b.func("worker", true, None, 0);
        b.p.functions[worker.0 as usize].diverges = diverges;
        let fut = b.nested(main, FnKind::Future, true);
        b.ev(
            fut,
            EventKind::Call {
                callees: smallvec::smallvec![worker],
                result: None,
            },
        );
        let handle = if fate_kept {
            HandleFate::Kept
        } else {
            HandleFate::Discarded
        };
        let span = b.ev(
            main,
            EventKind::Run {
                body: fut,
                how: RunKind::Spawn,
                runtime: RuntimeRef::Current,
                handle,
                api: "tokio::spawn".into(),
            },
        );
        let found = b.findings();
        assert_eq!(
            found.contains(&("runtime-dropped-with-live-tasks", span)),
            expect,
            "{found:?}"
        );
    }
}
