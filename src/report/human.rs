//! The human format: codespan-reporting diagnostics with source snippets, then a summary line.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::Error as FilesError;
use codespan_reporting::term::{self, Config, termcolor};

use crate::diagnostic::{Finding, Severity};
use crate::model::Span;
use crate::report::escape::{self, EscapedSource};
use crate::report::{Report, Style};
use crate::source::LineIndex;

/// The files of a report as codespan-reporting reads them: escaped names and sources, whose
/// lines are counted by [`LineIndex`] (LF, CRLF and a lone CR each end one) as in every other
/// format, not by codespan-reporting's own count of line feeds.
#[derive(Default)]
struct Files {
    files: Vec<(String, Arc<str>, LineIndex)>,
}

impl Files {
    fn add(&mut self, name: String, source: Arc<str>) -> usize {
        let index = LineIndex::new(&source);
        self.files.push((name, source, index));
        self.files.len() - 1
    }

    fn get(&self, id: usize) -> Result<&(String, Arc<str>, LineIndex), FilesError> {
        self.files.get(id).ok_or(FilesError::FileMissing)
    }
}

impl<'a> codespan_reporting::files::Files<'a> for Files {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, FilesError> {
        Ok(&self.get(id)?.0)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        Ok(&self.get(id)?.1)
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self.get(id)?.2.line_of(byte_index as u32))
    }

    fn line_range(
        &'a self,
        id: usize,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        let (_, source, index) = self.get(id)?;
        let count = index.line_count();
        if line_index >= count {
            return Err(FilesError::LineTooLarge {
                given: line_index,
                max: count - 1,
            });
        }
        Ok(index.line_range(line_index, source.len()))
    }
}

/// Renders every finding, then the summary line.
pub fn write(report: &Report<'_>, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut files = Files::default();
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
    files: &mut Files,
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
