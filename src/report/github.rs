//! GitHub Actions workflow commands: one `::error` or `::warning` annotation per finding, then a
//! summary line.
//!
//! `::error file=src/a.rs,line=3,endLine=3,col=5,endColumn=17,title=looplint (nested-block-on)::message`
//! Columns are left out when a span covers several lines (GitHub ignores them there and shows the
//! wrong range otherwise). End columns are exclusive, as ruff writes them.

use std::io::{self, Write};

use crate::diagnostic::Severity;
use crate::report::Report;

/// Escapes the message part of a workflow command (`%`, CR, LF), and shows every other control
/// character instead of passing it to the log.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in super::escape::text(text).chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value of a workflow command (also `:` and `,`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes the annotations and the summary line.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let (start, end) = report.sources.positions(f.primary);
        let code = crate::rules::find(f.rule).map_or("", |r| r.code);
        let title = if code.is_empty() {
            format!("looplint ({})", f.rule)
        } else {
            format!("looplint {code} ({})", f.rule)
        };
        let mut props = vec![
            format!("file={}", escape_property(report.path(f.primary))),
            format!("line={}", start.line),
            format!("endLine={}", end.line.max(start.line)),
        ];
        if end.line <= start.line {
            props.push(format!("col={}", start.column));
            props.push(format!("endColumn={}", end.column.max(start.column)));
        }
        props.push(format!("title={}", escape_property(&title)));
        let mut message = f.message.clone();
        for l in &f.labels {
            let (ls, _) = report.sources.positions(l.span);
            message.push_str(&format!(
                "\n{}:{}:{}: {}",
                report.path(l.span),
                ls.line,
                ls.column,
                l.message
            ));
        }
        for n in &f.notes {
            message.push_str(&format!("\nnote: {n}"));
        }
        if let Some(h) = &f.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&message)
        )?;
    }
    writeln!(out, "{}", report.summary().line())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_data("\x1b]0;x\x07"), "\u{241b}]0;x\u{2407}");
    }
}
