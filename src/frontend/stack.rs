//! Enough stack for the recursive work on syntax trees.
//!
//! Parsers, lowering and the drop of a syntax tree recurse once per level of the tree, and a
//! syntax tree can be as deep as its file is long (`1+1+...`, `not not ...`, `a.b.b...`). Each
//! file is parsed, lowered and dropped on the current thread when the stack left there covers
//! the file's depth estimate (see [`super::nesting`]), and on a fresh stack sized for it
//! otherwise: the memory is reserved, and only the pages the recursion really reaches are used.

/// Stack every file may need whatever its depth (frames of the parser's and the lowering's
/// entry points).
const BASE: usize = 512 << 10;
/// Stack per level of the depth estimate, with a margin of about a third: a level of either
/// grammar (a qualified path in a type or a pattern is the largest) takes up to 48 KiB in debug
/// builds, whose frames are several times larger, and a third of that in release builds. The
/// memory is only reserved: pages the recursion does not reach cost nothing.
const PER_LEVEL: usize = if cfg!(debug_assertions) {
    64 << 10
} else {
    32 << 10
};
/// Reserve of a fresh stack on top of what the estimate asks for.
const SPARE: usize = 64 << 20;

/// Stack of the worker threads that lower files: most files then need no stack of their own.
pub const WORKER_STACK: usize = 16 << 20;

/// Runs `f` with enough stack for a file whose depth estimate is `depth`.
pub fn with_stack_for<R>(depth: u32, f: impl FnOnce() -> R) -> R {
    let needed = BASE.saturating_add((depth as usize).saturating_mul(PER_LEVEL));
    stacker::maybe_grow(needed, needed.saturating_add(SPARE), f)
}
