//! Findings: what a rule reports, before any rendering.

use crate::model::Span;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Information about the run itself (a file too deep to analyse), or a failure the code
    /// provokes on purpose inside a test that asserts it (shown only with `--show-expected`);
    /// never fails a run.
    Note,
    /// Worth a look; the code may be fine.
    Warning,
    /// The model shows the bug.
    Error,
}

impl Severity {
    /// Lower-case name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A secondary location that explains a finding (where a resource was created, where a runtime
/// was entered, a call on the way to a blocking entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What happens there, as a short clause.
    pub message: String,
}

/// One reported problem. Spans refer to files by [`Span::file`]; inside a rule that is the
/// program's file id, after [`crate::check`] it is the index into the source database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Rule id (`nested-block-on`).
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// One lower-case clause, no final period.
    pub message: String,
    /// Where it breaks.
    pub primary: Span,
    /// Label on the primary span (may be empty).
    pub primary_label: String,
    /// Secondary labels, in the order of the story they tell.
    pub labels: Vec<Label>,
    /// Extra notes.
    pub notes: Vec<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Whether the finding is test, example or bench code's: its primary span lies there (set
    /// by the check), or a rule found the code at fault only through test code (a sync helper
    /// whose only async callers are tests).
    pub in_test: bool,
    /// Whether a test provokes this failure on purpose and asserts it (`#[should_panic]`,
    /// `pytest.raises`): such findings have severity `Note` and are hidden unless asked for.
    pub expected: bool,
    /// The one thing the finding is about, by where it starts (a resource's creation, a
    /// runtime's end): findings of one rule about the same thing are told as one, the first
    /// with the others' places as labels ([`merge_groups`]).
    pub group: Option<Span>,
    /// The primary places of the findings told as part of this one ([`merge_groups`]), each
    /// also a label.
    pub merged: Vec<Span>,
}

impl Finding {
    /// A finding with no labels, notes or help yet.
    pub fn new(
        rule: &'static str,
        severity: Severity,
        primary: Span,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            severity,
            message: message.into(),
            primary,
            primary_label: String::new(),
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
            in_test: false,
            expected: false,
            group: None,
            merged: Vec::new(),
        }
    }

    /// Sets what the finding is about ([`Finding::group`]).
    pub fn group(mut self, span: Span) -> Self {
        self.group = Some(span);
        self
    }

    /// Adds a secondary label.
    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the label of the primary span.
    pub fn primary_label(mut self, message: impl Into<String>) -> Self {
        self.primary_label = message.into();
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Tells the findings of one rule about the same thing as one: those with the same
/// [`Finding::group`], and grouped ones whose primary places nest (one use reached as a resource
/// kept in a static and as the object the static holds). The first keeps its story and gains a
/// label at each later one's primary place, which is dropped. A finding a test provokes on
/// purpose is told only with others provoked the same way.
pub fn merge_groups(findings: &mut Vec<Finding>) {
    let nest = |a: Span, b: Span| {
        a.file == b.file
            && (a.start <= b.start && b.end <= a.end || b.start <= a.start && a.end <= b.end)
    };
    let mut keep = vec![true; findings.len()];
    for i in 0..findings.len() {
        let Some(g) = findings[i].group else {
            continue;
        };
        let (rule, expected, span) = (findings[i].rule, findings[i].expected, findings[i].primary);
        let Some(j) = (0..i).find(|&j| {
            let f = &findings[j];
            keep[j]
                && f.rule == rule
                && f.expected == expected
                && f.group.is_some_and(|h| h == g || nest(f.primary, span))
        }) else {
            continue;
        };
        keep[i] = false;
        let label = findings[i].primary_label.clone();
        let target = &mut findings[j];
        if nest(span, target.primary) {
            continue;
        }
        target.merged.push(span);
        if target.labels.iter().any(|l| l.span == span) {
            continue;
        }
        let message = if label.starts_with("also") {
            label
        } else if label.is_empty() {
            "also here".to_string()
        } else {
            format!("also {label}")
        };
        target.labels.push(Label { span, message });
    }
    let mut k = keep.into_iter();
    findings.retain(|_| k.next().unwrap_or(true));
}

/// Tells the findings of one rule at the very same place as one: code a macro stamps out
/// several times (one function per invocation) reaches the same span once per copy. The first
/// keeps its story and gains the labels of the others that it does not have yet.
pub fn merge_same_place(findings: &mut Vec<Finding>) {
    let mut keep = vec![true; findings.len()];
    for i in 0..findings.len() {
        let (rule, expected, span) = (findings[i].rule, findings[i].expected, findings[i].primary);
        let Some(j) = (0..i).find(|&j| {
            let f = &findings[j];
            keep[j] && f.rule == rule && f.expected == expected && f.primary == span
        }) else {
            continue;
        };
        keep[i] = false;
        let labels = std::mem::take(&mut findings[i].labels);
        let target = &mut findings[j];
        for label in labels {
            if !target.labels.iter().any(|l| l.span == label.span) {
                target.labels.push(label);
            }
        }
    }
    let mut k = keep.into_iter();
    findings.retain(|_| k.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn use_of(group: u32, start: u32, end: u32) -> Finding {
        Finding::new(
            "cross-runtime-resource",
            Severity::Error,
            Span::new(0, start, end),
            "m",
        )
        .primary_label("used under B")
        .group(Span::new(0, group, group + 4))
    }

    #[test]
    fn uses_of_one_thing_are_told_once_with_labels() {
        let mut fs = vec![use_of(0, 10, 14), use_of(50, 60, 64), use_of(0, 20, 24)];
        merge_groups(&mut fs);
        assert_eq!(fs.len(), 2);
        assert_eq!(fs[0].primary, Span::new(0, 10, 14));
        assert_eq!(fs[0].labels.len(), 1);
        assert_eq!(fs[0].labels[0].span, Span::new(0, 20, 24));
        assert_eq!(fs[0].labels[0].message, "also used under B");
        assert_eq!(fs[1].primary, Span::new(0, 60, 64));
    }

    #[test]
    fn nested_primaries_are_one_finding_and_other_rules_or_expected_ones_stay_apart() {
        let mut fs = vec![use_of(0, 10, 20), use_of(50, 12, 16)];
        merge_groups(&mut fs);
        assert_eq!(fs.len(), 1);
        assert!(
            fs[0].labels.is_empty(),
            "the same place is not labelled twice"
        );
        let mut expected = use_of(0, 30, 34);
        expected.expected = true;
        let mut other_rule = use_of(0, 40, 44);
        other_rule.rule = "use-after-runtime-close";
        let mut ungrouped = use_of(0, 50, 54);
        ungrouped.group = None;
        let mut fs = vec![use_of(0, 10, 14), expected, other_rule, ungrouped];
        merge_groups(&mut fs);
        assert_eq!(fs.len(), 4);
    }
}
