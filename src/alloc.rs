//! The global allocator and its tuning.
//!
//! Parsing and lowering allocate many small, short-lived nodes; mimalloc (as ruff uses) makes
//! that cheaper than the system allocator. How freed pages go back to the OS is a trade of
//! speed against peak memory, and the right choice depends on the input: Rust syntax trees are
//! large and similar from file to file, so reusing pages is much faster (pages freed by one
//! file are kept for a second, long enough for the next files to reuse them: on the Rust
//! corpus a 50 ms delay took 55,000 to 96,000 page faults and 1 s of system time, a 1 s delay
//! 700 faults and 0.4 s, for 16 MiB more peak memory); Python trees are small,
//! and giving pages back within a few milliseconds keeps peak memory close to what is live.
//! For the same reason a Python-only run takes no transparent huge pages: a huge page is
//! zeroed and counted whole as soon as one byte of it is touched, and Python trees come and go
//! too fast to fill them.
//! The delays were chosen on the benchmark corpus (`bench/corpus.sh`); `MIMALLOC_PURGE_DELAY`
//! in the environment overrides them.

/// The allocator of every binary that links looplint.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` (not exported by the bindings): milliseconds before freed pages are
/// returned to the OS; 0 returns them at once.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tunes the allocator for a run over `rust` Rust files and `python` Python files.
pub fn tune_for(rust: usize, python: usize) {
    let delay = if rust > 0 {
        1000
    } else if python > 0 {
        no_huge_pages();
        10
    } else {
        return;
    };
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: setting an allocator option has no memory-safety preconditions.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, delay) };
}

/// Stops the process from taking transparent huge pages from now on (Linux; elsewhere a no-op).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        /// `PR_SET_THP_DISABLE` of `<linux/prctl.h>`.
        const PR_SET_THP_DISABLE: i32 = 41;
        unsafe extern "C" {
            fn prctl(option: i32, ...) -> i32;
        }
        let (on, zero): (std::ffi::c_ulong, std::ffi::c_ulong) = (1, 0);
        // SAFETY: PR_SET_THP_DISABLE reads its four integer arguments (1, then zeros) and only
        // sets a flag of the process; a failure (an old kernel) leaves huge pages allowed.
        unsafe {
            prctl(PR_SET_THP_DISABLE, on, zero, zero, zero);
        }
    }
}
