//! The human format: codespan-reporting diagnostics with source snippets, then a summary line.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, termcolor};

use crate::diagnostic::{Finding, Severity};
use crate::model::Span;
use crate::report::{Report, Style};

/// Renders every finding, then the summary line.
pub fn write(report: &Report<'_>, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut files = SimpleFiles::new();
    let mut ids = HashMap::new();
    let config = Config::default();
    for finding in report.findings {
        let diagnostic = to_diagnostic(report, finding, &mut files, &mut ids);
        let result = if style.color {
            let mut ansi = termcolor::Ansi::new(&mut *out);
            term::emit_to_write_style(&mut ansi, &config, &files, &diagnostic)
        } else {
            term::emit_to_io_write(&mut *out, &config, &files, &diagnostic)
        };
        result.map_err(to_io)?;
    }
    let line = report.summary().line();
    if style.color {
        writeln!(out, "\x1b[1m{line}\x1b[0m")
    } else {
        writeln!(out, "{line}")
    }
}

fn to_diagnostic(
    report: &Report<'_>,
    finding: &Finding,
    files: &mut SimpleFiles<String, Arc<str>>,
    ids: &mut HashMap<u32, usize>,
) -> Diagnostic<usize> {
    let severity = match finding.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Note => CsSeverity::Note,
    };
    let mut file_id = |span: Span| -> usize {
        *ids.entry(span.file).or_insert_with(|| {
            let text = report
                .sources
                .get(span.file as usize)
                .map_or_else(|| Arc::from(""), |l| l.text.clone());
            files.add(report.path(span).to_string(), text)
        })
    };
    let mut labels = vec![
        Label::primary(
            file_id(finding.primary),
            report.sources.range(finding.primary),
        )
        .with_message(&finding.primary_label),
    ];
    for l in &finding.labels {
        labels.push(
            Label::secondary(file_id(l.span), report.sources.range(l.span))
                .with_message(&l.message),
        );
    }
    let mut notes = finding.notes.clone();
    if let Some(help) = &finding.help {
        notes.push(format!("help: {help}"));
    }
    Diagnostic::new(severity)
        .with_code(finding.rule)
        .with_message(&finding.message)
        .with_labels(labels)
        .with_notes(notes)
}

fn to_io(e: codespan_reporting::files::Error) -> io::Error {
    match e {
        codespan_reporting::files::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}
