//! The global allocator and its tuning.
//!
//! Parsing and lowering allocate many small, short-lived nodes; mimalloc (as ruff uses) makes
//! that cheaper than the system allocator. How freed pages go back to the OS is a trade of
//! speed against peak memory, and the right choice depends on the input: Rust syntax trees are
//! large and similar from file to file, so reusing pages is much faster; Python trees are small,
//! and giving pages back within a few milliseconds keeps peak memory close to what is live.
//! The delays were chosen on the benchmark corpus (`bench/corpus.sh`).

/// The allocator of every binary that links looplint.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` (not exported by the bindings): milliseconds before freed pages are
/// returned to the OS; 0 returns them at once.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tunes the allocator for a run over `rust` Rust files and `python` Python files.
pub fn tune_for(rust: usize, python: usize) {
    let delay = if rust > 0 {
        50
    } else if python > 0 {
        10
    } else {
        return;
    };
    // SAFETY: setting an allocator option has no memory-safety preconditions.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, delay) };
}
