//! How deep a parsed Python file is, measured on its syntax tree.
//!
//! Ruff's parser grows its own stack as it recurses, so any text parses; the lowering and the
//! walks it makes recurse once per level of the tree, and run on a stack sized for the depth
//! measured here ([`crate::frontend::stack::with_stack_for`]). A file deeper than
//! [`crate::frontend::nesting::LIMIT`] is not lowered and gets an `analysis-limit` note.
//!
//! A level is a statement, an expression, a pattern or an f-string replacement field inside
//! another. The operands of a boolean operation (`a and b and ...`) and of a comparison chain
//! (`a < b < ...`) are one flat node in the tree but count one level each, as they would
//! nested: the count only errs on the high side. The walk itself grows its stack as it goes
//! deeper, and stops descending past the limit.
//!
//! Most expressions are not walked at all: below an expression, each level holds fewer bytes
//! of text than the one above it (a boolean operation or a comparison at least three more
//! per operand it counts), so an expression of `n` bytes is at most `2n` levels deep. Where
//! that bound stays under [`SHALLOW`], the bound is taken for the depth; the result is exact
//! only above it, which is all the limit and the stack need.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, InterpolatedStringElement, Pattern, Stmt};
use ruff_text_size::Ranged;

use crate::frontend::nesting::LIMIT;

/// Levels walked on the current stack before the walk checks the stack left, as ruff's parser
/// does: real code stays below it.
const UNCHECKED: u32 = 32;
/// Stack the walk wants left before it descends one more level, and the size of each stack it
/// adds when less is left.
const RED_ZONE: usize = 64 << 10;
const STACK_SIZE: usize = 1 << 20;
/// Depth under which an expression's bound is taken without walking it: far below the limit,
/// and a stack for twice as many levels still fits the worker's own
/// ([`crate::frontend::stack::WORKER_STACK`]).
pub const SHALLOW: u32 = 100;

/// The depth of the syntax tree of a module, or a bound of it no higher than [`SHALLOW`] (at
/// most a little above [`LIMIT`]: the walk does not go deeper once it passes it).
pub fn of_module(suite: &[Stmt]) -> u32 {
    let mut d = Depth { at: 0, max: 0 };
    d.visit_body(suite);
    d.max
}

struct Depth {
    /// Levels open above the node being walked.
    at: u32,
    /// The deepest level reached.
    max: u32,
}

impl Depth {
    /// Walks a node `extra + 1` levels below the current one.
    #[inline]
    fn enter(&mut self, extra: usize, walk: impl FnOnce(&mut Self)) {
        let saved = self.at;
        self.at = self
            .at
            .saturating_add(1)
            .saturating_add(u32::try_from(extra).unwrap_or(u32::MAX));
        self.max = self.max.max(self.at);
        if self.at <= UNCHECKED {
            walk(self);
        } else if self.at <= LIMIT {
            stacker::maybe_grow(RED_ZONE, STACK_SIZE, || walk(self));
        }
        self.at = saved;
    }
}

impl<'a> Visitor<'a> for Depth {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.enter(0, |d| visitor::walk_stmt(d, stmt));
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        let bound = self
            .at
            .saturating_add(expr.range().len().to_u32().saturating_mul(2))
            .saturating_add(2);
        if bound <= SHALLOW {
            self.max = self.max.max(bound);
            return;
        }
        let extra = match expr {
            Expr::BoolOp(b) => b.values.len(),
            Expr::Compare(c) => c.comparators.len(),
            _ => 0,
        };
        self.enter(extra, |d| visitor::walk_expr(d, expr));
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        self.enter(0, |d| visitor::walk_pattern(d, pattern));
    }

    fn visit_interpolated_string_element(&mut self, element: &'a InterpolatedStringElement) {
        self.enter(0, |d| {
            visitor::walk_interpolated_string_element(d, element);
        });
    }
}

#[cfg(test)]
mod tests {
    fn depth(text: &str) -> u32 {
        let parsed = ruff_python_parser::parse_module(text).expect("parses");
        super::of_module(parsed.suite())
    }

    /// `open` and `close` around `inner`, `n` times.
    fn nest(n: usize, open: &str, inner: &str, close: &str) -> String {
        format!("{}{inner}{}", open.repeat(n), close.repeat(n))
    }

    #[test]
    fn nesting_of_every_kind_counts() {
        let n = 300;
        let at_least = |text: String, levels: usize| {
            let d = depth(&text);
            assert!(d as usize >= levels, "{d} < {levels}: {text}");
        };
        at_least(format!("x = {}\n", nest(n, "f(", "1", ")")), n);
        at_least(format!("x = a{}\n", ".b".repeat(n)), n);
        at_least(format!("x = {}\n", nest(n, "[", "1", "]")), n);
        at_least(format!("x = {}1\n", "lambda: ".repeat(n)), n);
        at_least(format!("x = {}1\n", "not ".repeat(n)), n);
        at_least(format!("x = 1{}\n", "+1".repeat(n)), n);
        at_least(format!("x = a{}\n", " and a".repeat(n)), n);
        at_least(format!("x = a{}\n", " < a".repeat(n)), n);
        let mut fstring = String::from("1");
        for k in 0..n {
            let q = if k % 2 == 0 { '"' } else { '\'' };
            fstring = format!("f{q}{{{fstring}}}{q}");
        }
        at_least(format!("x = {fstring}\n"), n);
        let mut ifs = String::new();
        for k in 0..n {
            ifs.push_str(&format!("{}if a:\n", " ".repeat(k)));
        }
        ifs.push_str(&format!("{}pass\n", " ".repeat(n)));
        at_least(ifs, n);
    }

    #[test]
    fn short_expressions_are_bounded_by_their_length() {
        assert!(depth("x = 1\n") <= super::SHALLOW);
        assert!(depth("x = f(f(f(1)))\n") <= super::SHALLOW);
        // The bound holds wherever the walk stops: deep within a long expression, the short
        // ones are still counted.
        let long = format!("x = {}\n", nest(60, "[", "f(f(f(f(1))))", "]"));
        assert!(depth(&long) >= 66, "{}", depth(&long));
    }

    #[test]
    fn flat_code_stays_shallow() {
        let list = vec!["x < y"; 10_000].join(", ");
        assert!(depth(&format!("flags = [{list}]\nf({list})\n")) <= super::SHALLOW);
        assert!(depth(&"x = 1\n".repeat(10_000)) <= super::SHALLOW);
    }

    #[test]
    fn the_walk_survives_any_depth() {
        let n = 200_000;
        let text = format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n));
        let d = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let parsed = ruff_python_parser::parse_module(&text).expect("parses");
                let d = super::of_module(parsed.suite());
                // The tree is left undropped: its drop recurses once per level.
                std::mem::forget(parsed);
                d
            })
            .expect("spawns")
            .join()
            .expect("no overflow");
        assert!(d > super::LIMIT);
    }
}
