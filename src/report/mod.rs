//! Rendering findings: human (codespan-reporting), concise, JSON, JSON lines, SARIF, GitHub
//! annotations, JUnit XML, and per-rule statistics.
//!
//! Findings stay structured until they reach this module. Source text is not kept during the
//! analysis: [`Sources`] re-reads the files that findings point into, once, for rendering.

pub mod concise;
pub mod escape;
pub mod fingerprint;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod links;
pub mod sarif;
pub mod statistics;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::ops::Range;
use std::sync::Arc;

use crate::diagnostic::{Finding, Severity};
use crate::model::Span;
use crate::source::{LineIndex, SourceDb};

/// Output format of `looplint check`, named as ruff names its formats (`human` and `jsonl` are
/// accepted for `full` and `json-lines`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rich diagnostics with source snippets (codespan-reporting).
    #[value(name = "full", alias = "human")]
    Human,
    /// One line per diagnostic: `path:line:col: severity[rule] message`.
    Concise,
    /// One JSON document (schema version 1, see `schema/looplint.schema.json`).
    Json,
    /// One JSON diagnostic object per line, no envelope.
    #[value(name = "json-lines", alias = "jsonl")]
    Jsonl,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions workflow-command annotations.
    Github,
    /// JUnit XML.
    Junit,
}

/// Everything a renderer needs: the findings, the files, and their re-read text.
pub struct Report<'a> {
    /// The files of the run.
    pub db: &'a SourceDb,
    /// Findings, already sorted; spans index `db`.
    pub findings: &'a [Finding],
    /// Text and line index of every file a finding points into.
    pub sources: Sources,
    /// Where rule docs are published (links are left out when nowhere).
    pub links: links::Links,
}

impl<'a> Report<'a> {
    /// Prepares a report, re-reading the files the findings point into.
    pub fn new(db: &'a SourceDb, findings: &'a [Finding]) -> Self {
        Report {
            db,
            findings,
            sources: Sources::load(db, findings),
            links: links::Links::new(None),
        }
    }

    /// The same report, linking rule docs as `links` says.
    pub fn with_links(mut self, links: links::Links) -> Self {
        self.links = links;
        self
    }

    /// Display path of a span's file.
    pub fn path(&self, span: Span) -> &str {
        self.db
            .files
            .get(span.file as usize)
            .map_or("<unknown>", |f| f.display.as_str())
    }

    /// Counts of the run.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            files_checked: self.db.files.len(),
            ..Summary::default()
        };
        let mut files = std::collections::HashSet::new();
        for f in self.findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note if f.expected => {
                    s.expected += 1;
                    continue;
                }
                Severity::Note => {
                    s.notes += 1;
                    continue;
                }
            }
            files.insert(f.primary.file);
        }
        s.files_with_findings = files.len();
        s
    }

    /// Number of findings per rule id, in rule-id order.
    pub fn counts_by_rule(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for f in self.findings {
            *counts.entry(f.rule).or_insert(0) += 1;
        }
        counts
    }
}

/// Counts shown at the end of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Error-level findings.
    pub errors: usize,
    /// Warning-level findings.
    pub warnings: usize,
    /// Note-level diagnostics (analysis limits); they never fail a run.
    pub notes: usize,
    /// Failures that tests provoke and assert, shown with `--show-expected`; they never fail a
    /// run.
    #[serde(skip)]
    pub expected: usize,
    /// Files looked at.
    pub files_checked: usize,
    /// Files with at least one finding (by primary span).
    pub files_with_findings: usize,
}

impl Summary {
    /// The one-line summary: `Found 3 errors and 1 warning in 2 of 5 checked files.` or
    /// `No problems found.`
    pub fn line(&self) -> String {
        let mut notes = match self.notes {
            0 => String::new(),
            n => format!(" ({} about the analysis)", plural(n, "note")),
        };
        if self.expected > 0 {
            notes.push_str(&format!(
                " ({} that tests assert)",
                plural(self.expected, "expected failure")
            ));
        }
        if self.errors == 0 && self.warnings == 0 {
            return format!("No problems found.{notes}");
        }
        let mut parts = Vec::new();
        if self.errors > 0 {
            parts.push(plural(self.errors, "error"));
        }
        if self.warnings > 0 {
            parts.push(plural(self.warnings, "warning"));
        }
        // Which files are counted is said outright: those with findings, of those checked.
        let files = if self.files_checked >= self.files_with_findings {
            format!(
                "{} of {}",
                self.files_with_findings,
                plural(self.files_checked, "checked file")
            )
        } else {
            plural(self.files_with_findings, "file")
        };
        format!("Found {} in {files}.{notes}", parts.join(" and "))
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A 1-based line and column (Unicode scalar values) plus the byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in Unicode scalar values.
    pub column: u32,
    /// 0-based byte offset.
    pub offset: u32,
}

/// The text of one file as re-read for rendering.
pub struct Loaded {
    /// The text; empty when the file cannot be read any more.
    pub text: Arc<str>,
    /// Line starts of `text`.
    pub index: LineIndex,
}

/// Text of the files findings point into, read once.
#[derive(Default)]
pub struct Sources {
    files: HashMap<usize, Loaded>,
}

impl Sources {
    /// Reads every file a primary span or label of `findings` points into.
    pub fn load(db: &SourceDb, findings: &[Finding]) -> Self {
        let mut files = HashMap::new();
        let spans = findings
            .iter()
            .flat_map(|f| std::iter::once(f.primary).chain(f.labels.iter().map(|l| l.span)));
        for span in spans {
            let id = span.file as usize;
            if id >= db.files.len() || files.contains_key(&id) {
                continue;
            }
            let text = db.read(id).unwrap_or_else(|_| Arc::from(""));
            let index = LineIndex::new(&text);
            files.insert(id, Loaded { text, index });
        }
        Sources { files }
    }

    /// The text of a file (empty if it was not loaded or could not be read).
    pub fn text(&self, file: usize) -> &str {
        self.files.get(&file).map_or("", |l| &l.text)
    }

    /// The loaded file, if any.
    pub fn get(&self, file: usize) -> Option<&Loaded> {
        self.files.get(&file)
    }

    /// The text of 0-based `line` of a loaded file (lines as [`LineIndex`] counts them), without
    /// its line break; empty past the end.
    pub fn line(&self, file: usize, line: usize) -> &str {
        match self.files.get(&file) {
            Some(l) if line < l.index.line_count() => {
                l.text[l.index.line_range(line, l.text.len())].trim_end_matches(['\n', '\r'])
            }
            _ => "",
        }
    }

    /// The byte range of `span`, clamped to the text and to character boundaries.
    pub fn range(&self, span: Span) -> Range<usize> {
        let text = self.text(span.file as usize);
        let start = floor_boundary(text, span.start as usize);
        let end = floor_boundary(text, span.end as usize).max(start);
        start..end
    }

    /// Start and end positions of `span` (clamped like [`Sources::range`]).
    pub fn positions(&self, span: Span) -> (Position, Position) {
        let range = self.range(span);
        (
            self.position(span.file as usize, range.start),
            self.position(span.file as usize, range.end),
        )
    }

    fn position(&self, file: usize, offset: usize) -> Position {
        match self.files.get(&file) {
            Some(l) => {
                let lc = l.index.line_col(&l.text, offset as u32);
                Position {
                    line: lc.line,
                    column: lc.column,
                    offset: offset as u32,
                }
            }
            None => Position {
                line: 1,
                column: 1,
                offset: 0,
            },
        }
    }

    /// The text covered by `span` (clamped).
    pub fn snippet(&self, span: Span) -> &str {
        let range = self.range(span);
        &self.text(span.file as usize)[range]
    }
}

fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Options that change how a report looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Whether to use ANSI colours (human format only).
    pub color: bool,
}

/// Writes the findings of `report` in `format` to `out`.
pub fn write(
    format: Format,
    report: &Report<'_>,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, style, out),
        Format::Concise => concise::write(report, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Github => github::write(report, out),
        Format::Junit => junit::write(report, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let mut s = Summary::default();
        assert_eq!(s.line(), "No problems found.");
        s.errors = 3;
        s.warnings = 1;
        s.files_with_findings = 2;
        s.files_checked = 5;
        assert_eq!(
            s.line(),
            "Found 3 errors and 1 warning in 2 of 5 checked files."
        );
        s.errors = 0;
        s.files_with_findings = 1;
        s.files_checked = 1;
        assert_eq!(s.line(), "Found 1 warning in 1 of 1 checked file.");
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::model::Language;
    use crate::source::SourceFile;

    fn db() -> SourceDb {
        let mut db = SourceDb::default();
        for (name, text) in [
            (
                "src/lib.rs",
                "use x;\n\nasync fn go() {\n    helper();\n}\n",
            ),
            (
                "src/helper.rs",
                "pub fn helper() {\n    rt.block_on(f());\n}\n",
            ),
        ] {
            db.add(SourceFile {
                path: name.into(),
                display: name.into(),
                language: Language::Rust,
                overlay: Some(Arc::from(text)),
            });
        }
        db
    }

    fn findings() -> Vec<Finding> {
        vec![
            Finding::new(
                "syntax-error",
                Severity::Error,
                Span::new(0, 28, 36),
                "blocks",
            )
            .primary_label("called here")
            .label(Span::new(1, 22, 40), "blocks here")
            .note("a note")
            .help("use spawn_blocking"),
            Finding::new(
                "syntax-error",
                Severity::Warning,
                Span::new(1, 900, 999),
                "odd span",
            ),
        ]
    }

    fn render(format: Format) -> String {
        let db = db();
        let findings = findings();
        let report = Report::new(&db, &findings);
        let mut out = Vec::new();
        write(format, &report, Style::default(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn human_shows_labels_notes_and_help() {
        let text = render(Format::Human);
        assert!(text.contains("error[syntax-error]: blocks"));
        assert!(text.contains("src/lib.rs:4:5"));
        assert!(text.contains("called here"));
        assert!(text.contains("src/helper.rs:2:5"));
        assert!(text.contains("= help: use spawn_blocking"));
        assert!(text.ends_with("Found 1 error and 1 warning in 2 of 2 checked files.\n"));
    }

    #[test]
    fn concise_is_one_line_each() {
        assert_eq!(
            render(Format::Concise),
            "src/lib.rs:4:5: error[syntax-error] blocks\n\
             src/helper.rs:4:1: warning[syntax-error] odd span\n\
             Found 1 error and 1 warning in 2 of 2 checked files.\n"
        );
    }

    #[test]
    fn json_has_positions_and_fingerprints() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
        let d = &v["diagnostics"][0];
        assert_eq!(d["range"]["start"]["line"], 4);
        assert_eq!(d["range"]["start"]["column"], 5);
        assert_eq!(d["range"]["start"]["offset"], 28);
        assert_eq!(d["labels"][0]["path"], "src/helper.rs");
        assert_eq!(d["help"], "use spawn_blocking");
        assert_eq!(d["fingerprint"].as_str().unwrap().len(), 16);
        assert_eq!(v["diagnostics"][1]["help"], serde_json::Value::Null);
        assert_eq!(render(Format::Jsonl).lines().count(), 2);
    }
}
