//! The rule registry: one entry per rule, with its id, stable code, severity, languages and doc.
//!
//! Each rule lives in its own file and exposes `check(&Program, &Facts, &mut Vec<Finding>)`.
//! Rules read facts from [`crate::analysis`] and never read another rule's output.

use crate::analysis::Facts;
use crate::diagnostic::{Finding, Severity};
use crate::model::{Language, Program};

/// Signature of a rule's check function.
pub type CheckFn = fn(&Program, &Facts, &mut Vec<Finding>);

/// A registered rule.
pub struct Rule {
    /// Kebab-case id, also the doc's file stem (`rules/<id>.md`).
    pub id: &'static str,
    /// Stable short code (`LL001`).
    pub code: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Languages the rule applies to.
    pub languages: &'static [Language],
    /// One-line summary.
    pub summary: &'static str,
    /// The rule's documentation (Markdown).
    pub doc: &'static str,
    /// The check, or `None` for rules reported outside the analysis (syntax errors).
    pub check: Option<CheckFn>,
}

const BOTH: &[Language] = &[Language::Rust, Language::Python];

/// Every rule, in code order.
pub static RULES: &[Rule] = &[Rule {
    id: "syntax-error",
    code: "LL000",
    severity: Severity::Error,
    languages: BOTH,
    summary: "a file could not be parsed or read, so it was not analysed",
    doc: include_str!("../../rules/syntax-error.md"),
    check: None,
}];

/// Looks a rule up by id or code.
pub fn find(name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id == name || r.code.eq_ignore_ascii_case(name))
}

/// Runs every rule in `enabled` over a program.
pub fn run(program: &Program, facts: &Facts, enabled: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        if let Some(check) = rule.check {
            if enabled(rule.id) {
                let start = out.len();
                check(program, facts, &mut out);
                for f in &mut out[start..] {
                    debug_assert_eq!(f.rule, rule.id, "rule reported under another id");
                    f.severity = rule.severity.min(f.severity);
                }
            }
        }
    }
    out
}
