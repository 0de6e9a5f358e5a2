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
//!
//! A file's syntax tree and lowering temporaries are bumped off an arena of the thread
//! ([`Scratch`]) whose first pages stay resident for the next file, rather than allocated in a
//! heap whose pages go back after the purge delay and are faulted in again by the next file.

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
// While a thread's scratch arena is open, its blocks come from the arena instead, and blocks
// of the arena's region are never handed to mimalloc (see `arena`).
unsafe impl std::alloc::GlobalAlloc for Mi {
    #[inline]
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        #[cfg(all(unix, not(feature = "heap-stats")))]
        if let Some(p) = arena::alloc(l) {
            return p;
        }
        if Self::plain(l.align(), l.size()) {
            unsafe { libmimalloc_sys::mi_malloc(l.size()).cast() }
        } else {
            unsafe { libmimalloc_sys::mi_malloc_aligned(l.size(), l.align()).cast() }
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        #[cfg(all(unix, not(feature = "heap-stats")))]
        if let Some(p) = arena::alloc(l) {
            // SAFETY: the arena gave `l.size()` bytes at `p`; they may hold an earlier file's.
            unsafe { std::ptr::write_bytes(p, 0, l.size()) };
            return p;
        }
        if Self::plain(l.align(), l.size()) {
            unsafe { libmimalloc_sys::mi_zalloc(l.size()).cast() }
        } else {
            unsafe { libmimalloc_sys::mi_zalloc_aligned(l.size(), l.align()).cast() }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, _l: std::alloc::Layout) {
        #[cfg(all(unix, not(feature = "heap-stats")))]
        if arena::holds(p) {
            arena::free(p, _l.size());
            return;
        }
        unsafe { libmimalloc_sys::mi_free(p.cast()) }
    }
    #[inline]
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, new: usize) -> *mut u8 {
        #[cfg(all(unix, not(feature = "heap-stats")))]
        if arena::holds(p) {
            if let Some(q) = arena::grow_in_place(p, l.size(), new) {
                return q;
            }
            // SAFETY: `new` is non-zero and, rounded up to the alignment, fits `isize` (the
            // caller's contract); the old block stays valid for `l.size()` bytes.
            let q = unsafe {
                self.alloc(std::alloc::Layout::from_size_align_unchecked(
                    new,
                    l.align(),
                ))
            };
            if !q.is_null() {
                // SAFETY: both blocks are valid for the bytes copied and do not overlap.
                unsafe { std::ptr::copy_nonoverlapping(p, q, l.size().min(new)) };
                arena::free(p, l.size());
            }
            return q;
        }
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
    // What `f` copies out of an open scratch arena goes to the part's heap.
    #[cfg(all(unix, not(feature = "heap-stats")))]
    let _paused = arena::Pause::new();
    if heap.is_null() {
        return f();
    }
    // SAFETY: `heap` is a live heap of this thread.
    let _restore = Restore(unsafe { libmimalloc_sys::mi_heap_set_default(heap) });
    f()
}

/// Memory of this thread for the temporaries of one piece of work (the syntax tree of a file
/// and what lowering it allocates on the side), freed whole when the `Scratch` is dropped:
/// what was allocated in it is not freed block by block, and a tree that is given up with
/// [`Scratch::discard`] is not walked to be dropped.
///
/// Its blocks are bumped off the thread's scratch arena when that is free (see `arena`: a
/// region of the thread's own whose first pages stay resident from one piece of work to the
/// next, so they are not faulted in again for each file), and come from a mimalloc heap of
/// its own otherwise, or beyond the arena's room.
///
/// Only what [`Scratch::run`] allocates lives in it; nothing allocated there may be used once
/// the `Scratch` is dropped (copy results out into another heap first, as [`in_part`] does).
/// When unwinding, or with the `heap-stats` feature (whose counts would miss what is freed
/// whole), nothing is freed whole: the blocks left are moved to the thread's main heap, or the
/// arena is given up.
pub struct Scratch {
    heap: *mut libmimalloc_sys::mi_heap_t,
    /// Whether this thread's scratch arena serves it.
    #[cfg_attr(not(all(unix, not(feature = "heap-stats"))), allow(dead_code))]
    arena: bool,
}

impl Scratch {
    /// A new, empty scratch memory (none when it cannot be made: then work runs in the default
    /// heap and what it gives up is dropped).
    pub fn new() -> Scratch {
        if cfg!(feature = "heap-stats") {
            return Scratch {
                heap: std::ptr::null_mut(),
                arena: false,
            };
        }
        // SAFETY: making a heap has no preconditions; it belongs to this thread (`Scratch` is
        // neither `Send` nor `Sync`). It takes what the arena cannot (blocks beyond its slot,
        // and what a block of another heap is moved to when it grows).
        let heap = unsafe { libmimalloc_sys::mi_heap_new() };
        #[cfg(all(unix, not(feature = "heap-stats")))]
        let arena = !heap.is_null() && arena::claim();
        #[cfg(not(all(unix, not(feature = "heap-stats"))))]
        let arena = false;
        Scratch { heap, arena }
    }

    /// Runs `f` with this scratch memory as the thread's default.
    ///
    /// # Safety
    ///
    /// Nothing that `f` allocates may be used after this `Scratch` is dropped: what `f`
    /// returns must own no block allocated while it ran (other than in a heap of its own, as
    /// [`in_part`] switches to), or be given to [`Scratch::discard`], and `f` must not store
    /// such a block anywhere that outlives the `Scratch` (a cache, a thread-local buffer, a
    /// lazily made static).
    pub unsafe fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.heap.is_null() {
            return f();
        }
        // SAFETY: the heap is alive and this thread's.
        let _restore = Restore(unsafe { libmimalloc_sys::mi_heap_set_default(self.heap) });
        #[cfg(all(unix, not(feature = "heap-stats")))]
        let _open = self.arena.then(arena::Open::new);
        f()
    }

    /// Gives up `value`, whose blocks were allocated in this scratch memory: it is freed with
    /// it, without being dropped (dropped at once when there is none).
    pub fn discard<T>(&self, value: T) {
        if self.heap.is_null() {
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
        #[cfg(all(unix, not(feature = "heap-stats")))]
        if self.arena {
            // A panic's message may live in the arena: it is then given up, not reused.
            arena::release(std::thread::panicking());
        }
        if self.heap.is_null() {
            return;
        }
        if std::thread::panicking() {
            // SAFETY: the heap is alive, this thread's and no longer the default; its blocks
            // (a panic's message among them) move to the thread's main heap.
            unsafe { libmimalloc_sys::mi_heap_delete(self.heap) };
        } else {
            // SAFETY: as above; by the contract of `run`, no block of it is used again.
            unsafe { libmimalloc_sys::mi_heap_destroy(self.heap) };
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

/// The scratch arenas: one region of address space reserved at first use and cut into slots,
/// one per thread that opens a [`Scratch`]. While a scratch runs, the thread's blocks are
/// bumped off its slot; freeing one gives nothing back (but the block last handed out, which
/// is taken back, and grows in place), and the scratch's end takes the whole slot back at once.
///
/// Freed pages of a mimalloc heap go back to the OS after the purge delay (see [`tune_for`]),
/// so each file's syntax tree was faulted in afresh: on the Python corpus most of the run's
/// page faults were the first touches of pages that the previous file's tree had given back.
/// The first [`KEEP`] bytes of a slot stay resident instead, for the next file of that thread;
/// what a larger file used beyond them is given back when its scratch ends.
#[cfg(all(unix, not(feature = "heap-stats")))]
mod arena {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// Address space of one thread's slot: a scratch that needs more takes the rest of its
    /// blocks from its mimalloc heap. (Valgrind allows a reservation of this size.)
    const SLOT: usize = 256 << 20;
    /// Slots in the region; threads beyond them use a mimalloc heap per scratch.
    const SLOTS: usize = 64;
    /// Bytes at the start of a slot that stay resident when a scratch ends: the syntax tree
    /// and lowering temporaries of most files fit. On the Python corpus (two threads), 2, 3,
    /// 4 and 8 MiB took 204k, 177k, 163k and 150k page faults against 260k with mimalloc
    /// heaps, and 148, 149, 151 and 161 MiB of peak memory against 150 MiB; with none kept,
    /// 640k (blocks bumped off an arena are not reused within a file as a heap's are).
    const KEEP: usize = 3 << 20;
    /// Granularity of the bound of what a scratch has touched (the fast path's limit).
    const STEP: usize = 256 << 10;
    /// Granularity of making a slot's address space readable and writable.
    const COMMIT: usize = 32 << 20;

    /// Start of the region (0 before it is reserved).
    static LO: AtomicUsize = AtomicUsize::new(0);
    /// Length of the region (0 before it is reserved, or when it could not be).
    static SPAN: AtomicUsize = AtomicUsize::new(0);
    /// Slots handed out so far.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static RESERVE: std::sync::Once = std::sync::Once::new();

    /// This thread's slot.
    struct State {
        /// Next free byte while a scratch runs; 0 when blocks come from mimalloc.
        cur: Cell<usize>,
        /// Where `cur` resumes when a paused or ended run opens again.
        saved: Cell<usize>,
        /// Bound of what the current scratch has touched: bumping beyond it takes the slow path.
        lim: Cell<usize>,
        /// Start of the slot (0 when none is claimed).
        base: Cell<usize>,
        /// End of the readable and writable part of the slot.
        committed: Cell<usize>,
        /// Whether a scratch holds the slot.
        busy: Cell<bool>,
    }

    thread_local! {
        static STATE: State = const {
            State {
                cur: Cell::new(0),
                saved: Cell::new(0),
                lim: Cell::new(0),
                base: Cell::new(0),
                committed: Cell::new(0),
                busy: Cell::new(false),
            }
        };
    }

    /// A block for `l` from the open arena of this thread, if one is open and has room.
    #[inline]
    pub fn alloc(l: std::alloc::Layout) -> Option<*mut u8> {
        STATE.with(|s| {
            let cur = s.cur.get();
            if cur == 0 {
                return None;
            }
            let start = (cur + l.align() - 1) & !(l.align() - 1);
            let end = start + l.size();
            if end <= s.lim.get() {
                s.cur.set(end);
                return Some(start as *mut u8);
            }
            extend(s, start, end)
        })
    }

    /// Makes `start..end` of the open slot usable and hands out `start`; `None` when it does
    /// not fit the slot or cannot be made writable.
    #[cold]
    fn extend(s: &State, start: usize, end: usize) -> Option<*mut u8> {
        if end > s.base.get() + SLOT {
            return None;
        }
        let lim = end.next_multiple_of(STEP);
        if lim > s.committed.get() {
            let to = lim.next_multiple_of(COMMIT).min(s.base.get() + SLOT);
            let from = s.committed.get();
            // SAFETY: `from..to` lies in this thread's slot of the reserved region, which no
            // one else maps or uses.
            let ok = unsafe {
                libc::mprotect(
                    from as *mut libc::c_void,
                    to - from,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            } == 0;
            if !ok {
                return None;
            }
            s.committed.set(to);
        }
        s.lim.set(lim);
        s.cur.set(end);
        Some(start as *mut u8)
    }

    /// Whether `p` lies in the region of the arenas (of any thread).
    #[inline]
    pub fn holds(p: *mut u8) -> bool {
        (p as usize).wrapping_sub(LO.load(Relaxed)) < SPAN.load(Relaxed)
    }

    /// Frees the block of `size` bytes at `p` (in the region): only the block last handed out
    /// by this thread's open arena is taken back.
    #[inline]
    pub fn free(p: *mut u8, size: usize) {
        STATE.with(|s| {
            if s.cur.get() != 0 && p as usize + size == s.cur.get() {
                s.cur.set(p as usize);
            }
        });
    }

    /// `p` (in the region) resized from `old` to `new` bytes where it stands: a smaller size,
    /// or the block last handed out by this thread's open arena.
    #[inline]
    pub fn grow_in_place(p: *mut u8, old: usize, new: usize) -> Option<*mut u8> {
        if new <= old {
            return Some(p);
        }
        STATE.with(|s| {
            let at = p as usize;
            if s.cur.get() == 0 || at + old != s.cur.get() {
                return None;
            }
            if at + new <= s.lim.get() {
                s.cur.set(at + new);
                return Some(p);
            }
            extend(s, at, at + new)
        })
    }

    /// Claims this thread's arena for a new scratch: false when it is taken (a scratch opened
    /// inside another) or none can be had.
    pub fn claim() -> bool {
        STATE.with(|s| {
            if s.busy.get() {
                return false;
            }
            if s.base.get() == 0 {
                let Some(base) = new_slot() else {
                    return false;
                };
                s.base.set(base);
                s.committed.set(base);
                s.lim.set(base);
                // The slot goes back when the thread ends.
                EXIT.with(|_| {});
            }
            s.busy.set(true);
            s.saved.set(s.base.get());
            true
        })
    }

    /// Ends the scratch that holds this thread's arena: its blocks are given up at once, and
    /// what it touched beyond [`KEEP`] goes back to the OS. A scratch ended by a panic gives
    /// up the slot instead (a panic's message may be one of its blocks).
    pub fn release(panicking: bool) {
        STATE.with(|s| {
            s.busy.set(false);
            s.cur.set(0);
            if panicking {
                s.base.set(0);
                s.committed.set(0);
                s.lim.set(0);
                return;
            }
            let keep = s.base.get() + KEEP;
            if s.lim.get() > keep {
                // SAFETY: the range lies in this thread's slot and holds no block in use: the
                // scratch that used it has ended. Its pages read as zero from now on.
                unsafe {
                    libc::madvise(
                        keep as *mut libc::c_void,
                        s.lim.get() - keep,
                        libc::MADV_DONTNEED,
                    )
                };
                s.lim.set(keep);
            }
        });
    }

    /// Opens the claimed arena of this thread for a scratch's run, until dropped.
    pub struct Open;

    impl Open {
        pub fn new() -> Open {
            STATE.with(|s| s.cur.set(s.saved.get()));
            Open
        }
    }

    impl Drop for Open {
        fn drop(&mut self) {
            STATE.with(|s| {
                s.saved.set(s.cur.get());
                s.cur.set(0);
            });
        }
    }

    /// Sends this thread's blocks to mimalloc until dropped, if a scratch run has the arena
    /// open.
    pub struct Pause(usize);

    impl Pause {
        pub fn new() -> Pause {
            Pause(STATE.with(|s| s.cur.replace(0)))
        }
    }

    impl Drop for Pause {
        fn drop(&mut self) {
            STATE.with(|s| s.cur.set(self.0));
        }
    }

    /// Slots of threads that have ended, emptied for another thread.
    static FREE: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

    /// Gives this thread's slot back when the thread ends (a language server's or a test's
    /// threads come and go).
    struct Exit;

    impl Drop for Exit {
        fn drop(&mut self) {
            STATE.with(|s| {
                let base = s.base.get();
                if base == 0 || s.busy.get() {
                    return;
                }
                s.base.set(0);
                // SAFETY: the slot is this thread's, no scratch holds it, and mapping it
                // afresh with no access gives its pages and its commitment back.
                let p = unsafe {
                    libc::mmap(
                        base as *mut libc::c_void,
                        SLOT,
                        libc::PROT_NONE,
                        libc::MAP_PRIVATE
                            | libc::MAP_ANONYMOUS
                            | libc::MAP_NORESERVE
                            | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if p != libc::MAP_FAILED {
                    FREE.lock().unwrap_or_else(|e| e.into_inner()).push(base);
                }
            });
        }
    }

    thread_local! {
        static EXIT: Exit = const { Exit };
    }

    /// The start of a fresh slot, reserving the region at first use.
    fn new_slot() -> Option<usize> {
        if let Some(base) = FREE.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Some(base);
        }
        RESERVE.call_once(|| {
            // SAFETY: a fresh private mapping that reserves address space only: no page is
            // readable, writable or committed until a slot makes it so.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    SLOT * SLOTS,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                LO.store(p as usize, Relaxed);
                SPAN.store(SLOT * SLOTS, Relaxed);
            }
        });
        if SPAN.load(Relaxed) == 0 {
            return None;
        }
        let k = NEXT.fetch_add(1, Relaxed);
        (k < SLOTS).then(|| LO.load(Relaxed) + k * SLOT)
    }
}

#[cfg(all(test, unix, not(feature = "heap-stats")))]
mod tests {
    use super::*;

    /// The address of a fresh block of `n` bytes.
    fn block(n: usize) -> usize {
        let v: Vec<u8> = Vec::with_capacity(n);
        let at = v.as_ptr() as usize;
        std::mem::forget(v);
        at
    }

    #[test]
    fn scratch_blocks_come_from_the_arena_and_are_reused() {
        std::thread::spawn(|| {
            let first = {
                let scratch = Scratch::new();
                // SAFETY: the block is forgotten, never used after the scratch ends.
                let (a, b) = unsafe { scratch.run(|| (block(64), block(64))) };
                assert!(arena::holds(a as *mut u8) && arena::holds(b as *mut u8));
                assert!(b >= a + 64);
                // Copies out of it go to mimalloc.
                let out = in_part(Part::File, || block(64));
                assert!(!arena::holds(out as *mut u8));
                // A scratch inside another takes a heap of its own.
                let inner = Scratch::new();
                // SAFETY: as above.
                let c = unsafe { inner.run(|| block(64)) };
                assert!(!arena::holds(c as *mut u8));
                a
            };
            let scratch = Scratch::new();
            // SAFETY: as above.
            let again = unsafe { scratch.run(|| block(64)) };
            assert_eq!(again, first);
            // Outside a run, blocks come from mimalloc.
            assert!(!arena::holds(block(64) as *mut u8));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_last_block_grows_in_place() {
        std::thread::spawn(|| {
            let scratch = Scratch::new();
            // SAFETY: the vector is given up to the scratch, never used after it ends.
            unsafe {
                scratch.run(|| {
                    let mut v: Vec<u64> = Vec::with_capacity(4);
                    let at = v.as_ptr();
                    v.extend(0..4096);
                    assert_eq!(v.as_ptr(), at);
                    assert_eq!(v.iter().sum::<u64>(), 4095 * 4096 / 2);
                    scratch.discard(v);
                })
            };
        })
        .join()
        .unwrap();
    }
}
