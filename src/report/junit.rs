//! JUnit XML output, for CI systems that show test reports: one test suite per file with
//! findings, one failing test case per finding; a single passing case when nothing was found.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::report::Report;

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push('\t'),
            // Other control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Writes the JUnit document.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        by_file.entry(report.path(f.primary)).or_default().push(i);
    }
    let total = report.findings.len();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="looplint" tests="{}" failures="{total}" errors="0">"#,
        total.max(1)
    )?;
    if by_file.is_empty() {
        writeln!(
            out,
            r#"  <testsuite name="looplint" tests="1" failures="0" errors="0" skipped="0">"#
        )?;
        writeln!(
            out,
            r#"    <testcase name="no problems found" classname="looplint"/>"#
        )?;
        writeln!(out, "  </testsuite>")?;
    }
    for (path, idx) in &by_file {
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{n}" failures="{n}" errors="0" skipped="0">"#,
            escape(path),
            n = idx.len()
        )?;
        for &i in idx {
            let f = &report.findings[i];
            let (start, _) = report.sources.positions(f.primary);
            let name = format!("{}:{}:{} {}", path, start.line, start.column, f.rule);
            writeln!(
                out,
                r#"    <testcase name="{}" classname="{}" file="{}" line="{}">"#,
                escape(&name),
                escape(path),
                escape(path),
                start.line
            )?;
            let mut body = format!("{}:{}:{}: {}", path, start.line, start.column, f.message);
            if let Some(h) = &f.help {
                body.push_str(&format!("\nhelp: {h}"));
            }
            writeln!(
                out,
                r#"      <failure message="{}" type="{}">{}</failure>"#,
                escape(&f.message),
                f.rule,
                escape(&body)
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}"
        );
    }
}
