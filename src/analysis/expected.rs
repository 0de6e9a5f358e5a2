//! Code that a test runs in order to watch it fail: the body of a `#[should_panic]` test, the
//! block of `with pytest.raises(E):`, an expression whose `Err` the test asserts, the body of a
//! task whose join handle the test asserts to fail, and every function reached only from such
//! code.

use crate::kb::{Concept, Kb, last_segment};
use crate::model::{Asserted, EventKind, FnId, HandleFate, Program, RunKind, Span};

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
    /// How the test observes the failure.
    pub how: Asserted,
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

/// A call site's caller, the first region holding the site in the caller itself, and the first
/// region holding it at all.
type SiteRegions = (FnId, Option<usize>, Option<usize>);

/// Whether body `f` is test code or nested in test code.
fn in_test(program: &Program, mut f: FnId) -> bool {
    for _ in 0..64 {
        let func = program.func(f);
        if func.is_test {
            return true;
        }
        match func.parent {
            Some(p) => f = p,
            None => return false,
        }
    }
    false
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
                // An asserted `Err` or failing task is read only in test code.
                EventKind::ExpectsFailure { what, how }
                    if *how == Asserted::Fails || in_test(program, fid) =>
                {
                    facts.expect_regions.push(ExpectRegion {
                        func: fid,
                        span: ev.span,
                        what: what.clone(),
                        how: *how,
                    });
                    // The body of the task whose handle the test asserts to fail runs in
                    // that region.
                    if let Asserted::Task(var) = how {
                        let region = facts.expect_regions.len() - 1;
                        for run in &f.events {
                            if let EventKind::Run {
                                body,
                                how: RunKind::Spawn | RunKind::SpawnBlocking | RunKind::Thread,
                                handle: HandleFate::Bound(v),
                                ..
                            } = &run.kind
                                && v == var
                            {
                                facts.expected_via[body.0 as usize] = Some(region);
                            }
                        }
                    }
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
                        how: Asserted::Fails,
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
    facts.expect_index = RegionIndex::new(&facts.expect_regions);
    // A function is reached only from region R when every call or run site of it lies in R,
    // or in a function itself reached only from R. Iterate to a fixed point. Which region a
    // site's span lies in does not change between rounds: it is found once, by file.
    let mut by_file: std::collections::HashMap<u32, Vec<usize>> = Default::default();
    for (i, r) in facts.expect_regions.iter().enumerate() {
        by_file.entry(r.span.file).or_default().push(i);
    }
    let regions = &facts.expect_regions;
    let index = &facts.expect_index;
    // Per function with callers: each site's caller, the first region holding the site in the
    // caller itself, and the first region holding it at all (closures written inside one).
    // Most sites lie in no region, which the index tells without looking at the regions.
    let sites: Vec<Vec<SiteRegions>> = facts
        .callers
        .iter()
        .map(|sites| {
            sites
                .iter()
                .map(|s| {
                    if !index.holds(s.span) {
                        return (s.caller, None, None);
                    }
                    let inside = by_file.get(&s.span.file).map_or(&[][..], Vec::as_slice);
                    let own = inside.iter().copied().find(|&i| {
                        regions[i].func == s.caller && contains(regions[i].span, s.span)
                    });
                    let any = inside
                        .iter()
                        .copied()
                        .find(|&i| contains(regions[i].span, s.span));
                    (s.caller, own, any)
                })
                .collect()
        })
        .collect();
    let region_at = |via: &[Option<usize>],
                     (caller, own, any): (FnId, Option<usize>, Option<usize>)| {
        own.or(via[caller.0 as usize]).or(any)
    };
    loop {
        let mut changed = false;
        for (fid, f) in program.fns() {
            if facts.expected_via[fid.0 as usize].is_some() || f.entry.is_some() {
                continue;
            }
            let Some(site_list) = sites.get(fid.0 as usize).filter(|l| !l.is_empty()) else {
                continue;
            };
            // Several tests may watch one helper fail (one `#[should_panic]` test per flavor):
            // it is expected when every site lies in some region.
            let via = &facts.expected_via;
            let first = region_at(via, site_list[0]);
            if first.is_some() && site_list.iter().all(|&s| region_at(via, s).is_some()) {
                facts.expected_via[fid.0 as usize] = first;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// The spans of the expect regions sorted by file and start, each with the furthest end of
/// the regions of its file up to it: whether some region holds a span is one binary search.
#[derive(Debug, Default)]
pub struct RegionIndex {
    /// (file, start, furthest end so far in the file).
    spans: Vec<(u32, u32, u32)>,
}

impl RegionIndex {
    fn new(regions: &[ExpectRegion]) -> Self {
        let mut spans: Vec<(u32, u32, u32)> = regions
            .iter()
            .map(|r| (r.span.file, r.span.start, r.span.end))
            .collect();
        spans.sort_unstable();
        for i in 1..spans.len() {
            if spans[i].0 == spans[i - 1].0 {
                spans[i].2 = spans[i].2.max(spans[i - 1].2);
            }
        }
        RegionIndex { spans }
    }

    /// Whether a region holds `span`: one of its file starting at or before it reaches its end.
    fn holds(&self, span: Span) -> bool {
        let at = self
            .spans
            .partition_point(|&(file, start, _)| (file, start) <= (span.file, span.start));
        at > 0 && {
            let (file, _, end) = self.spans[at - 1];
            file == span.file && span.end <= end
        }
    }
}

impl Facts {
    /// Whether `span` lies in a region whose failure a test asserts.
    pub fn in_expect_region(&self, span: Span) -> bool {
        if self.expect_regions.is_empty() {
            return false;
        }
        if self.expect_index.spans.len() == self.expect_regions.len() {
            return self.expect_index.holds(span);
        }
        self.expect_regions.iter().any(|r| contains(r.span, span))
    }

    /// Whether code at `span` of body `f` is itself a statement a test expects to fail: the
    /// span lies in a region of `f` (not in a nested function written there, which runs
    /// whenever it is called).
    pub fn in_own_expect_region(&self, f: FnId, span: Span) -> bool {
        self.in_expect_region(span)
            && self
                .expect_regions
                .iter()
                .any(|r| r.func == f && contains(r.span, span))
    }

    /// The regions asserting the failure of code at `span` in function `f`: those that hold
    /// the span, then the one `f` is reached only from.
    pub fn expected_regions(&self, f: FnId, span: Span) -> impl Iterator<Item = &ExpectRegion> {
        let via = self
            .expected_via
            .get(f.0 as usize)
            .copied()
            .flatten()
            .map(|i| &self.expect_regions[i]);
        self.expect_regions
            .iter()
            .filter(move |r| contains(r.span, span))
            .chain(via)
    }
}
