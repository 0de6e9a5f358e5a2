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
        }
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
