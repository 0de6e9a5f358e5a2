//! `--statistics`: the number of findings per rule instead of the findings themselves.

use std::io::{self, Write};

use serde::Serialize;

use crate::report::{Format, Report};
use crate::rules;

/// Findings of one rule.
#[derive(Debug, Serialize)]
pub struct RuleCount {
    /// Rule id.
    pub rule: &'static str,
    /// Rule code.
    pub code: &'static str,
    /// Severity of the rule.
    pub severity: &'static str,
    /// Number of findings.
    pub count: usize,
}

/// Counts per rule, most frequent first, then by code.
pub fn counts(report: &Report<'_>) -> Vec<RuleCount> {
    let mut out: Vec<RuleCount> = report
        .counts_by_rule()
        .into_iter()
        .map(|(rule, count)| {
            let registered = rules::find(rule);
            RuleCount {
                rule,
                code: registered.map_or("", |r| r.code),
                severity: registered.map_or("error", |r| r.severity.name()),
                count,
            }
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
    out
}

/// Writes the per-rule counts: a table for the text formats, JSON for the JSON formats.
pub fn write(format: Format, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let counts = counts(report);
    match format {
        Format::Human | Format::Concise | Format::Github | Format::Sarif | Format::Junit => {
            let width = counts.iter().map(|c| c.rule.len()).max().unwrap_or(0);
            for c in &counts {
                writeln!(
                    out,
                    "{:>6}  {:<6} {:<width$}  {}",
                    c.count, c.code, c.rule, c.severity
                )?;
            }
            writeln!(out, "{}", report.summary().line())
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &counts)?;
            writeln!(out)
        }
        Format::Jsonl => {
            for c in &counts {
                serde_json::to_writer(&mut *out, c)?;
                writeln!(out)?;
            }
            Ok(())
        }
    }
}
