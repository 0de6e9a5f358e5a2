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
/// Stack per level of the depth estimate; no parser or lowering level of either grammar needs
/// more, even in debug builds.
const PER_LEVEL: usize = 16 << 10;
/// Reserve of a fresh stack on top of what the estimate asks for.
const SPARE: usize = 64 << 20;

/// Stack of the worker threads that lower files: most files then need no stack of their own.
pub const WORKER_STACK: usize = 16 << 20;

/// Runs `f` with enough stack for a file whose depth estimate is `depth`.
pub fn with_stack_for<R>(depth: u32, f: impl FnOnce() -> R) -> R {
    let needed = BASE.saturating_add((depth as usize).saturating_mul(PER_LEVEL));
    stacker::maybe_grow(needed, needed.saturating_add(SPARE), f)
}
