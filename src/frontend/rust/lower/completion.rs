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

/// The sender a spawned body sends on as its last statement, if any.
pub(super) fn last_send(body: &Expr, kb: &KbView<'_>) -> Option<String> {
    let block = match strip(body) {
        Expr::Async(a) => &a.block,
        Expr::Closure(c) => match strip(&c.body) {
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
            Expr::MethodCall(m) if kb.channel_sends(None, &m.method.to_string()) => {
                return path_name(&m.receiver);
            }
            _ => return None,
        }
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
    pub(super) fn note_completion(&mut self, tx: String, at: Option<(u32, u32)>) {
        if let Some((f, ev)) = at {
            self.completions.push((tx, f, ev));
        }
    }

    /// An `.await` on the receiver paired with a sender a task of this body completes on:
    /// the task is joined.
    pub(super) fn await_completion(&mut self, base: &Expr) {
        let Some(rx) = awaited_receiver(base, self.cx.kb) else {
            return;
        };
        let Some(f) = self.cur_fn() else { return };
        let senders: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, r)| *r == rx)
            .map(|(t, _)| t.clone())
            .collect();
        for (tx, cf, ev) in &self.completions {
            if *cf != f || !senders.contains(tx) {
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
