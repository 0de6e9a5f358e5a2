//! Code that a test runs in order to watch it fail: the body of a `#[should_panic]` test, the
//! block of `with pytest.raises(E):`, and every function reached only from such code.

use crate::kb::{Concept, Kb, last_segment};
use crate::model::{EventKind, FnId, Program, RunKind, Span};

use super::Facts;

/// One region whose failure a test asserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectRegion {
    /// The function the region is in.
    pub func: FnId,
    /// The asserted code.
    pub span: Span,
    /// What the assertion accepts (see [`EventKind::ExpectsFailure`]).
    pub what: Vec<String>,
}

/// Whether an API that runs a closure catches its failure (`std::panic::catch_unwind`).
fn catches_failure(kb: &Kb, language: crate::model::Language, api: &str) -> bool {
    let is = |a: &&crate::kb::Api| a.concept == Concept::ExpectsFailure;
    kb.lookup(language, api).iter().any(is)
        || kb
            .lookup_method_name(language, last_segment(language, api))
            .iter()
            .any(is)
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.file == inner.file && outer.start <= inner.start && inner.end <= outer.end
}

/// Fills [`Facts::expect_regions`] and [`Facts::expected_via`] (a function reached from several
/// regions refers to the first one). Besides the frontends'
/// `ExpectsFailure` events, a closure that test code hands to an API catching its failure
/// (`catch_unwind`, per the knowledge base) is such a region: the test asserts the outcome.
pub fn collect(program: &Program, kb: &Kb, facts: &mut Facts) {
    facts.expected_via = vec![None; program.functions.len()];
    for (fid, f) in program.fns() {
        for ev in &f.events {
            match &ev.kind {
                EventKind::ExpectsFailure { what } => {
                    facts.expect_regions.push(ExpectRegion {
                        func: fid,
                        span: ev.span,
                        what: what.clone(),
                    });
                }
                EventKind::Run {
                    body,
                    how: RunKind::Inline,
                    api,
                    ..
                } if f.is_test && catches_failure(kb, f.language, api) => {
                    facts.expect_regions.push(ExpectRegion {
                        func: fid,
                        span: ev.span,
                        what: Vec::new(),
                    });
                    facts.expected_via[body.0 as usize] = Some(facts.expect_regions.len() - 1);
                }
                _ => {}
            }
        }
    }
    if facts.expect_regions.is_empty() {
        return;
    }
    // A function is reached only from region R when every call or run site of it lies in R,
    // or in a function itself reached only from R. Iterate to a fixed point.
    let region_at = |facts: &Facts, caller: FnId, span: Span| {
        facts
            .expect_regions
            .iter()
            .position(|r| contains(r.span, span) && r.func == caller)
            .or(facts.expected_via[caller.0 as usize])
            .or_else(|| {
                // Closures and nested bodies written inside the region.
                facts
                    .expect_regions
                    .iter()
                    .position(|r| contains(r.span, span))
            })
    };
    loop {
        let mut changed = false;
        for (fid, f) in program.fns() {
            if facts.expected_via[fid.0 as usize].is_some() || f.entry.is_some() {
                continue;
            }
            let sites = &facts.callers[fid.0 as usize];
            if sites.is_empty() {
                continue;
            }
            // Several tests may watch one helper fail (one `#[should_panic]` test per flavor):
            // it is expected when every site lies in some region.
            let first = region_at(facts, sites[0].caller, sites[0].span);
            if first.is_some()
                && sites
                    .iter()
                    .all(|s| region_at(facts, s.caller, s.span).is_some())
            {
                facts.expected_via[fid.0 as usize] = first;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

impl Facts {
    /// The region asserting the failure of code at `span` in function `f`, if any: the span lies
    /// in a region, or `f` is reached only from one.
    pub fn expected_region(&self, f: FnId, span: Span) -> Option<&ExpectRegion> {
        self.expect_regions
            .iter()
            .find(|r| contains(r.span, span))
            .or_else(|| {
                self.expected_via
                    .get(f.0 as usize)
                    .copied()
                    .flatten()
                    .map(|i| &self.expect_regions[i])
            })
    }
}
