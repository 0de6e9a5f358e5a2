//! The concise format: one line per finding, `path:line:col: severity[rule] message`, then the summary.

use std::io::{self, Write};

use crate::report::{Report, escape};

/// Writes one line per finding, then the summary line.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in report.findings {
        let (start, _) = report.sources.positions(f.primary);
        writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            escape::line(report.path(f.primary)),
            start.line,
            start.column,
            f.severity.name(),
            f.rule,
            escape::line(&f.message)
        )?;
    }
    writeln!(out, "{}", report.summary().line())
}
