//! JUnit XML output, for CI systems that show test reports: one test suite per file with
//! findings, one failing test case per finding; a single passing case when nothing was found.
//!
//! The document is built and written by `quick-junit` (nextest's JUnit writer), which escapes
//! markup and drops the characters XML 1.0 cannot hold (control characters, ANSI escapes).

use std::collections::BTreeMap;
use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use crate::report::Report;

/// The JUnit document of a report.
pub fn document(report: &Report<'_>) -> JunitReport {
    let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        by_file.entry(report.path(f.primary)).or_default().push(i);
    }
    let mut doc = JunitReport::new("looplint");
    if by_file.is_empty() {
        let mut suite = TestSuite::new("looplint");
        let mut case = TestCase::new("no problems found", TestCaseStatus::success());
        case.set_classname("looplint");
        suite.add_test_case(case);
        doc.add_test_suite(suite);
    }
    for (path, idx) in &by_file {
        let mut suite = TestSuite::new(*path);
        for &i in idx {
            let f = &report.findings[i];
            let (start, _) = report.sources.positions(f.primary);
            let mut body = format!("{}:{}:{}: {}", path, start.line, start.column, f.message);
            if let Some(h) = &f.help {
                body.push_str(&format!("\nhelp: {h}"));
            }
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(f.message.as_str())
                .set_type(f.rule)
                .set_description(body);
            let name = format!("{}:{}:{} {}", path, start.line, start.column, f.rule);
            let mut case = TestCase::new(name, status);
            case.set_classname(*path);
            case.extra.insert("file".into(), (*path).into());
            case.extra
                .insert("line".into(), start.line.to_string().into());
            suite.add_test_case(case);
        }
        doc.add_test_suite(suite);
    }
    doc
}

/// Writes the JUnit document (it ends with a line break).
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    document(report).serialize(out).map_err(io::Error::other)
}
