//! Where a run spends its time: with `LOOPLINT_PHASE_TIMES` set, the walk that finds the files
//! and each phase of each program (grouping, lowering, linking, analysis, rules) prints, to standard error, the thread it ran
//! on, when it started and ended (milliseconds since the first phase of the run) and what it
//! worked on. Without the variable a phase costs one relaxed load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

/// 0: not looked at yet, 1: off, 2: on.
static ON: AtomicU8 = AtomicU8::new(0);

/// When the first phase of the run started.
static START: OnceLock<Instant> = OnceLock::new();

fn on() -> bool {
    match ON.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var_os("LOOPLINT_PHASE_TIMES").is_some();
            ON.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        v => v == 2,
    }
}

/// A phase being timed; it prints its line when dropped.
pub struct Phase {
    started: Option<(Instant, &'static str, String)>,
}

/// Starts timing phase `name` of `what` (a project root, a file count); `what` is only built
/// when timing is on.
pub fn phase(name: &'static str, what: impl FnOnce() -> String) -> Phase {
    if !on() {
        return Phase { started: None };
    }
    let now = Instant::now();
    START.get_or_init(|| now);
    Phase {
        started: Some((now, name, what())),
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        let Some((began, name, what)) = self.started.take() else {
            return;
        };
        let start = *START.get_or_init(|| began);
        let ms = |t: Instant| t.duration_since(start).as_secs_f64() * 1000.0;
        let thread = rayon::current_thread_index().map_or(-1, |i| i as i64);
        eprintln!(
            "phase {name:<8} thread {thread:>2} {:9.1} .. {:9.1} ms ({:8.1} ms) {what}",
            ms(began),
            ms(Instant::now()),
            began.elapsed().as_secs_f64() * 1000.0,
        );
    }
}
