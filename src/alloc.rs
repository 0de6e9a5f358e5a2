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
//!
//! A whole Python project is linked at once, so every file's lowered result is alive when the
//! link starts, and the link frees those results part by part while it builds the program.
//! Resident memory then depends less on what is live than on what shares a page: a page stays
//! resident while one block in it lives. Each part of a lowered file is therefore copied into a
//! heap of its own ([`Part`], [`in_part`]) when its lowering ends, and the Python pipeline gives
//! emptied pages back at the points where it frees much ([`release`]): a worker's pages are
//! otherwise only reclaimed when that worker allocates again.

/// The allocator of every binary that links looplint.
#[cfg(not(feature = "heap-stats"))]
#[global_allocator]
static GLOBAL: Mi = Mi;

/// mimalloc, asked for plain blocks where they are aligned enough: a block of at least `n`
/// bytes is aligned to `n` up to 16 (mimalloc's natural alignment), so a layout no more
/// aligned than that and than its size takes `mi_malloc`'s path, which skips the alignment
/// checks of `mi_malloc_aligned` (what `mimalloc::MiMalloc` calls for every layout; a sixth
/// of the instructions of each allocation of a Rust run).
pub struct Mi;

impl Mi {
    /// Whether a plain block of `size` bytes has alignment `align`.
    #[inline]
    fn plain(align: usize, size: usize) -> bool {
        align <= 16 && align <= size
    }
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` takes blocks of
// either path); a plain block is requested only where mimalloc aligns it as the layout asks.
unsafe impl std::alloc::GlobalAlloc for Mi {
    #[inline]
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        if Self::plain(l.align(), l.size()) {
            unsafe { libmimalloc_sys::mi_malloc(l.size()).cast() }
        } else {
            unsafe { libmimalloc_sys::mi_malloc_aligned(l.size(), l.align()).cast() }
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        if Self::plain(l.align(), l.size()) {
            unsafe { libmimalloc_sys::mi_zalloc(l.size()).cast() }
        } else {
            unsafe { libmimalloc_sys::mi_zalloc_aligned(l.size(), l.align()).cast() }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, _l: std::alloc::Layout) {
        unsafe { libmimalloc_sys::mi_free(p.cast()) }
    }
    #[inline]
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, new: usize) -> *mut u8 {
        if Self::plain(l.align(), new) {
            unsafe { libmimalloc_sys::mi_realloc(p.cast(), new).cast() }
        } else {
            unsafe { libmimalloc_sys::mi_realloc_aligned(p.cast(), new, l.align()).cast() }
        }
    }
}

/// With the `heap-stats` feature, the allocator counts live bytes (see [`phase`]).
#[cfg(feature = "heap-stats")]
#[global_allocator]
static GLOBAL: stats::Counting = stats::Counting;

/// Reports, when the `heap-stats` feature is on and `LOOPLINT_HEAP_STATS` is set, the bytes
/// live now and the most live since the previous report, under the name of the phase that
/// ends here (to standard error). Without the feature it does nothing.
#[inline]
pub fn phase(_name: &str) {
    #[cfg(feature = "heap-stats")]
    stats::phase(_name);
}

/// Bytes live now (the `heap-stats` feature; 0 without it).
pub fn live() -> isize {
    #[cfg(feature = "heap-stats")]
    return stats::live();
    #[cfg(not(feature = "heap-stats"))]
    0
}

#[cfg(feature = "heap-stats")]
mod stats {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

    static LIVE: AtomicIsize = AtomicIsize::new(0);
    static PEAK: AtomicIsize = AtomicIsize::new(0);

    /// mimalloc with a count of live bytes and of their peak.
    pub struct Counting;

    fn grow(n: usize) {
        let now = LIVE.fetch_add(n as isize, Relaxed) + n as isize;
        PEAK.fetch_max(now, Relaxed);
    }

    fn shrink(n: usize) {
        LIVE.fetch_sub(n as isize, Relaxed);
    }

    // SAFETY: every call is forwarded to mimalloc unchanged; the counters only observe.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            grow(l.size());
            unsafe { super::Mi.alloc(l) }
        }
        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            grow(l.size());
            unsafe { super::Mi.alloc_zeroed(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            shrink(l.size());
            unsafe { super::Mi.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            if new >= l.size() {
                grow(new - l.size());
            } else {
                shrink(l.size() - new);
            }
            unsafe { super::Mi.realloc(p, l, new) }
        }
    }

    /// Bytes live now.
    pub fn live() -> isize {
        LIVE.load(Relaxed)
    }

    pub fn phase(name: &str) {
        if std::env::var_os("LOOPLINT_HEAP_STATS").is_none() {
            return;
        }
        let mib = |b: isize| b as f64 / (1024.0 * 1024.0);
        let live = LIVE.load(Relaxed);
        let peak = PEAK.swap(live, Relaxed);
        let (mut z, mut peak_rss) = (0usize, 0usize);
        // SAFETY: every pointer is to a live local the call writes once.
        unsafe {
            libmimalloc_sys::mi_process_info(
                &mut z,
                &mut z,
                &mut z,
                &mut z,
                &mut peak_rss,
                &mut z,
                &mut z,
                &mut z,
            )
        };
        // Resident pages now, from Linux's `statm` (0 elsewhere).
        let rss = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<isize>().ok())
            .map_or(0, |pages| pages * 4096);
        eprintln!(
            "heap {name:<20} live {:7.2}  peak since last {:7.2}  rss {:7.2}  peak rss {:7.2} MiB",
            mib(live),
            mib(peak),
            mib(rss),
            mib(peak_rss as isize),
        );
    }
}

/// The parts of a file's lowered result that a link frees at different times (the functions
/// one by one as they are linked, the rest of the file after the link loop, the call arguments
/// once the kept ones are copied, the flow facts after the carriers are solved). Each part is
/// moved, once lowered, into a heap of its own (one per part and thread), so that a page never
/// mixes parts, nor a part with the garbage of lowering: pages empty as each part is freed and
/// go back to the OS, instead of being pinned by a longer-lived neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The lowered functions.
    Functions = 0,
    /// The flow facts.
    Facts = 1,
    /// The arguments of calls.
    CallArgs = 2,
    /// Everything else (classes, definitions).
    File = 3,
    /// What the link frees as it links each function while the program keeps the rest: the
    /// list of functions, their pending references and lists of events (not the events'
    /// contents), the link's other inputs of each function, and each file's interned paths.
    Linked = 4,
}

const PARTS: usize = 5;

thread_local! {
    /// This thread's heap for each [`Part`], made on first use.
    static HEAPS: [std::cell::Cell<*mut libmimalloc_sys::mi_heap_t>; PARTS] =
        const { [const { std::cell::Cell::new(std::ptr::null_mut()) }; PARTS] };
}

/// Runs `f` (which should only copy a part of a result) with the heap of `part` as this
/// thread's default, so that what it allocates lives in pages of that part only.
pub fn in_part<R>(part: Part, f: impl FnOnce() -> R) -> R {
    let heap = HEAPS.with(|h| {
        let slot = &h[part as usize];
        if slot.get().is_null() {
            // SAFETY: making a heap has no preconditions; it belongs to this thread, which
            // deletes it (moving what it still holds to the thread's main heap) on exit.
            slot.set(unsafe { libmimalloc_sys::mi_heap_new() });
        }
        slot.get()
    });
    if heap.is_null() {
        return f();
    }
    // SAFETY: `heap` is a live heap of this thread.
    let _restore = Restore(unsafe { libmimalloc_sys::mi_heap_set_default(heap) });
    f()
}

/// A heap of this thread for the temporaries of one piece of work (the syntax tree of a file
/// and what lowering it allocates on the side), freed whole when the `Scratch` is dropped:
/// what was allocated in it is not freed block by block, and a tree that is given up with
/// [`Scratch::discard`] is not walked to be dropped.
///
/// Only what [`Scratch::run`] allocates lives in it; nothing allocated there may be used once
/// the `Scratch` is dropped (copy results out into another heap first, as [`in_part`] does).
/// When unwinding, or with the `heap-stats` feature (whose counts would miss what is freed
/// whole), nothing is freed whole: the blocks left are moved to the thread's main heap.
pub struct Scratch(*mut libmimalloc_sys::mi_heap_t);

impl Scratch {
    /// A new, empty heap (none when it cannot be made: then work runs in the default heap
    /// and what it gives up is dropped).
    pub fn new() -> Scratch {
        if cfg!(feature = "heap-stats") {
            return Scratch(std::ptr::null_mut());
        }
        // SAFETY: making a heap has no preconditions; it belongs to this thread (`Scratch` is
        // neither `Send` nor `Sync`).
        Scratch(unsafe { libmimalloc_sys::mi_heap_new() })
    }

    /// Runs `f` with this heap as the thread's default.
    ///
    /// # Safety
    ///
    /// Nothing that `f` allocates may be used after this `Scratch` is dropped: what `f`
    /// returns must own no block allocated while it ran (other than in a heap of its own, as
    /// [`in_part`] switches to), or be given to [`Scratch::discard`], and `f` must not store
    /// such a block anywhere that outlives the `Scratch` (a cache, a thread-local buffer, a
    /// lazily made static).
    pub unsafe fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.0.is_null() {
            return f();
        }
        // SAFETY: the heap is alive and this thread's.
        let _restore = Restore(unsafe { libmimalloc_sys::mi_heap_set_default(self.0) });
        f()
    }

    /// Gives up `value`, whose blocks were allocated in this heap: it is freed with the heap,
    /// without being dropped (dropped at once when there is no heap).
    pub fn discard<T>(&self, value: T) {
        if self.0.is_null() {
            drop(value);
        } else {
            std::mem::forget(value);
        }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.0.is_null() {
            return;
        }
        if std::thread::panicking() {
            // SAFETY: the heap is alive, this thread's and no longer the default; its blocks
            // (a panic's message among them) move to the thread's main heap.
            unsafe { libmimalloc_sys::mi_heap_delete(self.0) };
        } else {
            // SAFETY: as above; by the contract of `run`, no block of it is used again.
            unsafe { libmimalloc_sys::mi_heap_destroy(self.0) };
        }
    }
}

/// Puts a previous default heap back, also when unwinding.
struct Restore(*mut libmimalloc_sys::mi_heap_t);

impl Drop for Restore {
    fn drop(&mut self) {
        // SAFETY: the heap was this thread's default before and is still alive.
        unsafe { libmimalloc_sys::mi_heap_set_default(self.0) };
    }
}

/// Gives the pages that the heaps of this thread no longer use back to the OS now, and has
/// every worker of the pool do the same when it next looks for work (without waiting for
/// it). A block freed by another thread than the one that allocated it is only taken back by
/// its owner, and emptied pages are only returned when their owner next allocates: after a
/// link has freed the results that the workers lowered, idle workers would keep them resident.
pub fn release() {
    fn collect() {
        // SAFETY: collecting a heap of the calling thread has no preconditions.
        unsafe { libmimalloc_sys::mi_collect(true) };
        HEAPS.with(|h| {
            for slot in h {
                if !slot.get().is_null() {
                    // SAFETY: as above; the heap is this thread's.
                    unsafe { libmimalloc_sys::mi_heap_collect(slot.get(), true) };
                }
            }
        });
    }
    rayon::spawn_broadcast(|_| collect());
    collect();
}

/// `mi_option_purge_delay` (not exported by the bindings): milliseconds before freed pages are
/// returned to the OS; 0 returns them at once.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Whether the run is tuned for Python alone (see [`tune_for`] and [`purging_at_once`]).
static PYTHON_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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
    PYTHON_ONLY.store(rust == 0, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: setting an allocator option has no memory-safety preconditions.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, delay) };
}

/// Runs `f` (a Python project's link, which frees the lowered files while it builds the
/// program) with freed pages given back to the OS at once rather than after the purge delay,
/// in a run over Python alone: the link allocates little that would reuse them, and the
/// workers that own most of them may not allocate again soon, so after a delay they would stay
/// resident until the next [`release`]. Calls may overlap (small projects link beside a large
/// one): the delay is put back when the last one ends.
pub fn purging_at_once<R>(f: impl FnOnce() -> R) -> R {
    if !PYTHON_ONLY.load(std::sync::atomic::Ordering::Relaxed) {
        return f();
    }
    /// How many calls run now, and the delay from before the first of them.
    static ACTIVE: std::sync::Mutex<(usize, std::ffi::c_long)> = std::sync::Mutex::new((0, 0));
    {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        if active.0 == 0 {
            // SAFETY: reading and setting an allocator option has no memory-safety
            // preconditions.
            active.1 = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
            // SAFETY: as above.
            unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
        }
        active.0 += 1;
    }
    /// Puts the delay back when the last call running ends, also when `f` unwinds.
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
            active.0 -= 1;
            if active.0 == 0 {
                // SAFETY: as above.
                unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, active.1) };
            }
        }
    }
    let _restore = Restore;
    f()
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
