//! Big stacks for the recursive work on syntax trees.
//!
//! Parsers, lowering and the drop of a syntax tree recurse once per level of nesting, and a
//! syntax tree can be as deep as its file is long (`1+1+...`, `not not ...`, `a.b.b...`). Each
//! file is therefore parsed, lowered and dropped on a stack of its own, sized by the file's
//! length: the memory is reserved, and only the pages the recursion really reaches are used.

/// Stack of every file, whatever its size.
const BASE: usize = 64 << 20;
/// Extra stack per byte of source: one level of nesting takes at least one byte of source,
/// and no parser level of either grammar needs more than this, even in debug builds.
const PER_BYTE: usize = 8 << 10;
/// Largest stack reserved for one file. Files nested deeper than the stack allows are not
/// parsed (see [`super::nesting`]).
pub const MAX: usize = 1 << 30;

/// Runs `f` on a fresh stack sized for a source of `len` bytes.
pub fn with_stack_for<R>(len: usize, f: impl FnOnce() -> R) -> R {
    let size = BASE.saturating_add(len.saturating_mul(PER_BYTE)).min(MAX);
    stacker::grow(size, f)
}
