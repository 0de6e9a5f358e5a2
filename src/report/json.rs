//! The JSON formats: one document (schema version 1) or one diagnostic object per line.
//!
//! The document is described by `schema/looplint.schema.json` and in the README.

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Finding;
use crate::model::Span;
use crate::report::fingerprint::fingerprints;
use crate::report::{Position, Report, Summary};
use crate::rules;

/// Version of the JSON document format.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole JSON document.
#[derive(Debug, Serialize)]
pub struct Document {
    /// Format version ([`SCHEMA_VERSION`]).
    pub version: u32,
    /// The tool that wrote the document.
    pub tool: Tool,
    /// Diagnostics, sorted by path, position and rule.
    pub diagnostics: Vec<JsonDiagnostic>,
    /// Counts of the run.
    pub summary: Summary,
}

/// Name and version of the tool.
#[derive(Debug, Serialize)]
pub struct Tool {
    /// Always `looplint`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

/// A source range.
#[derive(Debug, Serialize)]
pub struct JsonRange {
    /// Start position (inclusive).
    pub start: Position,
    /// End position (exclusive).
    pub end: Position,
}

/// A secondary label.
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    /// Display path of the label's file.
    pub path: String,
    /// Where.
    pub range: JsonRange,
    /// What happens there.
    pub message: String,
}

/// One diagnostic.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    /// Rule id (`nested-block-on`).
    pub rule: &'static str,
    /// Stable rule code (`LL002`).
    pub code: &'static str,
    /// `rust` or `python`.
    pub language: &'static str,
    /// `error`, `warning`, or `note` for expected failures.
    pub severity: &'static str,
    /// One lowercase clause.
    pub message: String,
    /// Display path of the primary span's file.
    pub path: String,
    /// The primary span.
    pub range: JsonRange,
    /// Secondary labels.
    pub labels: Vec<JsonLabel>,
    /// Notes.
    pub notes: Vec<String>,
    /// How to fix it, if known.
    pub help: Option<String>,
    /// Identifier that survives line shifts (see [`crate::report::fingerprint`]).
    pub fingerprint: String,
    /// Whether a test provokes and asserts this failure (shown with `--show-expected`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expected: bool,
}

/// Converts the findings of `report` into JSON diagnostics.
pub fn diagnostics(report: &Report<'_>) -> Vec<JsonDiagnostic> {
    let prints = fingerprints(report.db, &report.sources, report.findings);
    report
        .findings
        .iter()
        .zip(prints)
        .map(|(f, fingerprint)| diagnostic(report, f, fingerprint))
        .collect()
}

fn diagnostic(report: &Report<'_>, f: &Finding, fingerprint: String) -> JsonDiagnostic {
    let code = rules::find(f.rule).map_or("", |r| r.code);
    let language = report
        .db
        .files
        .get(f.primary.file as usize)
        .map_or("rust", |s| s.language.name());
    JsonDiagnostic {
        rule: f.rule,
        code,
        language,
        severity: f.severity.name(),
        message: f.message.clone(),
        path: report.path(f.primary).to_string(),
        range: range(report, f.primary),
        labels: f
            .labels
            .iter()
            .map(|l| JsonLabel {
                path: report.path(l.span).to_string(),
                range: range(report, l.span),
                message: l.message.clone(),
            })
            .collect(),
        notes: f.notes.clone(),
        help: f.help.clone(),
        fingerprint,
        expected: f.expected,
    }
}

fn range(report: &Report<'_>, span: Span) -> JsonRange {
    let (start, end) = report.sources.positions(span);
    JsonRange { start, end }
}

/// The whole document for `report`.
pub fn document(report: &Report<'_>) -> Document {
    Document {
        version: SCHEMA_VERSION,
        tool: Tool {
            name: "looplint",
            version: env!("CARGO_PKG_VERSION"),
        },
        diagnostics: diagnostics(report),
        summary: report.summary(),
    }
}

/// Writes the JSON document, pretty-printed, followed by a newline.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    writeln!(out)
}

/// Writes one compact JSON diagnostic per line.
pub fn write_lines(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for d in diagnostics(report) {
        serde_json::to_writer(&mut *out, &d)?;
        writeln!(out)?;
    }
    Ok(())
}
