//! The human format: codespan-reporting diagnostics with source snippets, then a summary line.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, termcolor};

use crate::diagnostic::{Finding, Severity};
use crate::model::Span;
use crate::report::escape::{self, EscapedSource};
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
    ids: &mut HashMap<u32, (usize, EscapedSource)>,
) -> Diagnostic<usize> {
    let severity = match finding.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Note => CsSeverity::Note,
    };
    // Source lines and file names are shown escaped; ranges move with the escapes.
    let mut place = |span: Span| -> (usize, std::ops::Range<usize>) {
        let (id, escaped) = ids.entry(span.file).or_insert_with(|| {
            let escaped = EscapedSource::new(report.sources.text(span.file as usize));
            let name = escape::line(report.path(span)).into_owned();
            (files.add(name, Arc::from(escaped.text.as_str())), escaped)
        });
        let range = report.sources.range(span);
        (*id, escaped.map(range.start)..escaped.map(range.end))
    };
    let (file, range) = place(finding.primary);
    let mut labels =
        vec![Label::primary(file, range).with_message(escape::text(&finding.primary_label))];
    for l in &finding.labels {
        let (file, range) = place(l.span);
        labels.push(Label::secondary(file, range).with_message(escape::text(&l.message)));
    }
    let mut notes: Vec<String> = finding
        .notes
        .iter()
        .map(|n| escape::text(n).into_owned())
        .collect();
    if let Some(help) = &finding.help {
        notes.push(format!("help: {}", escape::text(help)));
    }
    Diagnostic::new(severity)
        .with_code(finding.rule)
        .with_message(escape::text(&finding.message))
        .with_labels(labels)
        .with_notes(notes)
}

fn to_io(e: codespan_reporting::files::Error) -> io::Error {
    match e {
        codespan_reporting::files::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}
