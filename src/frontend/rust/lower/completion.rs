//! Tasks joined through a completion channel: the task's last act is to send on a sender
//! (`done_tx.send(())`), and the body that spawned it awaits the paired receiver
//! (`done_rx.await`, `done_rx.recv().await`). The spawn's handle is then as good as kept: the
//! spawner waits for the task to finish.

use syn::{Expr, Pat, Stmt};

use super::{Lowerer, strip};
use crate::frontend::rust::ir::FKind;
use crate::frontend::rust::kbview::{ChannelFamily, KbView};
use crate::model::{EventKind, HandleFate};

/// Methods that only unwrap or ignore the result of a send.
const AFTER_SEND: &[&str] = &[
    "unwrap",
    "expect",
    "ok",
    "is_ok",
    "is_err",
    "unwrap_or_default",
];

/// The method call a spawned body makes as its last statement, once an `.await` and methods
/// that only unwrap or ignore its result are looked through (`tx.send(()).await.unwrap()`).
/// Closures count as bodies only when `closures` is set.
fn last_call(body: &Expr, closures: bool) -> Option<&syn::ExprMethodCall> {
    let block = match strip(body) {
        Expr::Async(a) => &a.block,
        Expr::Closure(c) if closures => match strip(&c.body) {
            Expr::Block(b) => &b.block,
            Expr::Async(a) => &a.block,
            _ => return None,
        },
        _ => return None,
    };
    let mut e = match block.stmts.last()? {
        Stmt::Expr(e, _) => e,
        Stmt::Local(l) if matches!(l.pat, Pat::Wild(_)) => &l.init.as_ref()?.expr,
        _ => return None,
    };
    loop {
        match strip(e) {
            Expr::MethodCall(m) if AFTER_SEND.contains(&m.method.to_string().as_str()) => {
                e = &m.receiver;
            }
            Expr::Await(a) => e = &a.base,
            Expr::MethodCall(m) => return Some(m),
            _ => return None,
        }
    }
}

/// The sender a spawned body sends on as its last statement, if any.
pub(super) fn last_send(body: &Expr, kb: &KbView<'_>) -> Option<String> {
    let m = last_call(body, true)?;
    kb.channel_sends(None, &m.method.to_string())
        .then(|| path_name(&m.receiver))
        .flatten()
}

/// The local a spawned body calls a method of as its last statement (`done.release(1)`,
/// `latch.count_down()`, `tx.send(())`): a value it shares with its spawner, through which it
/// may tell that it finished.
pub(super) fn last_signal(body: &Expr) -> Option<String> {
    path_name(&last_call(body, false)?.receiver)
}

/// The local whose method an `.await` waits on (`sem.acquire(n).await`).
fn awaited_method_of(base: &Expr) -> Option<String> {
    match strip(base) {
        Expr::MethodCall(m) => path_name(&m.receiver),
        _ => None,
    }
}

/// The local that `init` clones (`sem.clone()`, `Arc::clone(&sem)`): both name one value.
pub(super) fn cloned_from(init: &Expr) -> Option<String> {
    match strip(init) {
        Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => path_name(&m.receiver),
        Expr::Call(c) if c.args.len() == 1 => {
            let Expr::Path(p) = strip(&c.func) else {
                return None;
            };
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if !matches!(segs.as_slice(), [.., t, f] if (t == "Arc" || t == "Rc") && f == "clone") {
                return None;
            }
            match strip(&c.args[0]) {
                Expr::Reference(r) => path_name(&r.expr),
                e => path_name(e),
            }
        }
        _ => None,
    }
}

/// The receiver an `.await` waits on: `rx.await`, `(&mut rx).await`, `rx.recv().await`.
pub(super) fn awaited_receiver(base: &Expr, kb: &KbView<'_>) -> Option<String> {
    match strip(base) {
        Expr::Reference(r) => path_name(&r.expr),
        Expr::MethodCall(m)
            if m.args.is_empty() && kb.channel_receives(None, &m.method.to_string()) =>
        {
            path_name(&m.receiver)
        }
        e => path_name(e),
    }
}

/// The two names a `let (tx, rx) = mpsc::channel(..)` binds, with the channel's family: the
/// call is one of a maker the knowledge base lists.
pub(super) fn channel_pair(
    pat: &Pat,
    init: &Expr,
    kb: &KbView<'_>,
) -> Option<(String, String, ChannelFamily)> {
    let Pat::Tuple(t) = pat else { return None };
    let Expr::Call(c) = strip(init) else {
        return None;
    };
    let Expr::Path(p) = strip(&c.func) else {
        return None;
    };
    let written = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    let family = kb.channel_maker(&written)?;
    let names: Vec<String> = t
        .elems
        .iter()
        .filter_map(|p| match p {
            Pat::Ident(i) => Some(i.ident.to_string()),
            _ => None,
        })
        .collect();
    match names.as_slice() {
        [tx, rx] if t.elems.len() == 2 => Some((tx.clone(), rx.clone(), family)),
        _ => None,
    }
}

fn path_name(e: &Expr) -> Option<String> {
    match strip(e) {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

impl Lowerer<'_, '_> {
    /// Records that the spawn at `at` ends by sending on the sender named `tx`.
    /// `signal`: the last act is any method call on `tx`, not a send on a channel.
    pub(super) fn note_completion(&mut self, tx: String, at: Option<(u32, u32)>, signal: bool) {
        if let Some((f, ev)) = at {
            self.completions.push((tx, f, ev, signal));
        }
    }

    /// An `.await` on the receiver paired with a sender a task of this body completes on:
    /// the task is joined.
    ///
    /// So is a task whose last act calls a method of a value it shares with the spawner
    /// (`s.release(1)` on a clone `s` of `sem`), when the spawner then awaits a method of that
    /// value (`sem.acquire(n).await`): a semaphore, a latch or a barrier the task signals.
    pub(super) fn await_completion(&mut self, base: &Expr) {
        let Some(f) = self.cur_fn() else { return };
        let mut senders: Vec<String> = Vec::new();
        if let Some(rx) = awaited_receiver(base, self.cx.kb) {
            senders.extend(
                self.channels
                    .iter()
                    .filter(|(_, r)| *r == rx)
                    .map(|(t, _)| t.clone()),
            );
        }
        let shared = awaited_method_of(base);
        if senders.is_empty() && shared.is_none() {
            return;
        }
        let same_value = |name: &str| {
            shared.as_deref().is_some_and(|s| {
                s == name
                    || self
                        .clones
                        .iter()
                        .any(|(a, b)| (a == name && b == s) || (a == s && b == name))
            })
        };
        for (tx, cf, ev, signal) in &self.completions {
            if *cf != f || !(senders.contains(tx) || (*signal && same_value(tx))) {
                continue;
            }
            if let Some(e) = self.ir.fns[f as usize].events.get_mut(*ev as usize)
                && let FKind::Model(EventKind::Run { handle, .. }) = &mut e.kind
            {
                *handle = HandleFate::Kept;
            }
        }
    }
}
