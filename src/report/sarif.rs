//! SARIF 2.1.0 output, for code-scanning services (GitHub code scanning and others).
//!
//! One run whose driver lists every rule (with its whole doc as help, in text and Markdown, and its
//! default level; `helpUri` only when the rule docs are published somewhere, see
//! [`crate::report::links`]). Each
//! result has the rule id and index, the level, the message, the primary region, the secondary
//! labels as related locations, and the looplint fingerprint as a partial fingerprint. Columns
//! count Unicode code points (`columnKind: unicodeCodePoints`), end columns are exclusive, and
//! relative paths are relative to `%SRCROOT%` (the working directory of the run).
//!
//! The log is built from `serde-sarif`'s types, generated from the SARIF 2.1.0 schema, so a
//! misspelt or misplaced property does not compile.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultColumnKind,
    ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use crate::diagnostic::Severity;
use crate::model::Span;
use crate::report::Report;
use crate::report::fingerprint::fingerprints;
use crate::report::links::{Links, information_uri};
use crate::rules::{RULES, Rule};

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of looplint's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "looplintFingerprint/v1";

/// The base id relative artifact URIs are resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

/// A typed enum as the JSON value the schema's open-ended fields hold.
fn value(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `nested-block-on` -> `NestedBlockOn`.
fn camel(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The body of a doc's `## What it does` section, or the summary.
pub fn what_it_does(rule: &Rule) -> String {
    let mut lines = rule
        .doc
        .lines()
        .skip_while(|l| l.trim() != "## What it does");
    if lines.next().is_none() {
        return rule.summary.to_string();
    }
    let body: Vec<&str> = lines
        .take_while(|l| !l.starts_with("## "))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if body.is_empty() {
        rule.summary.to_string()
    } else {
        body.join(" ")
    }
}

fn rule_descriptor(rule: &Rule, links: &Links) -> ReportingDescriptor {
    let languages: Vec<&str> = rule.languages.iter().map(|l| l.name()).collect();
    let group = match rule.severity {
        Severity::Error => "lifecycle",
        Severity::Warning => "hygiene",
        Severity::Note => "analysis",
    };
    let properties = PropertyBag::builder()
        .tags(vec![group.to_string()])
        .additional_properties(BTreeMap::from([
            ("code".to_string(), json!(rule.code)),
            ("languages".to_string(), json!(languages)),
        ]))
        .build();
    let descriptor = ReportingDescriptor::builder()
        .id(rule.id)
        .name(camel(rule.id))
        .short_description(
            MultiformatMessageString::builder()
                .text(rule.summary)
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(what_it_does(rule))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(rule.doc)
                .markdown(rule.doc)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(value(level(rule.severity)))
                .build(),
        )
        .properties(properties);
    match links.rule_doc(rule) {
        Some(uri) => descriptor.help_uri(uri).build(),
        None => descriptor.build(),
    }
}

/// Percent-encodes a path for a URI (keeping `/` and the unreserved characters).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The artifact location of a display path: relative to `%SRCROOT%`, or an absolute `file:` URI.
fn artifact(path: &str) -> ArtifactLocation {
    let p = path.replace('\\', "/");
    if p.starts_with('/') {
        ArtifactLocation::builder()
            .uri(format!("file://{}", encode_path(&p)))
            .build()
    } else {
        let p = p.strip_prefix("./").unwrap_or(&p);
        ArtifactLocation::builder()
            .uri(encode_path(p))
            .uri_base_id(SRCROOT)
            .build()
    }
}

fn physical(report: &Report<'_>, span: Span) -> PhysicalLocation {
    let (start, end) = report.sources.positions(span);
    let end_column = if end.line > start.line {
        end.column
    } else {
        end.column.max(start.column)
    };
    PhysicalLocation::builder()
        .artifact_location(artifact(report.path(span)))
        .region(
            Region::builder()
                .start_line(start.line)
                .start_column(start.column)
                .end_line(end.line.max(start.line))
                .end_column(end_column)
                .build(),
        )
        .build()
}

/// Builds the SARIF log of a report.
pub fn log(report: &Report<'_>) -> Sarif {
    let prints = fingerprints(report.db, &report.sources, report.findings);
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .zip(prints)
        .map(|(f, print)| {
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            let related: Vec<Location> = f
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    Location::builder()
                        .id(i as i64)
                        .physical_location(physical(report, l.span))
                        .message(Message::from(l.message.as_str()))
                        .build()
                })
                .collect();
            let mut result = SarifResult::builder()
                .rule_id(f.rule)
                .level(level(f.severity))
                .message(Message::from(&message))
                .locations(vec![
                    Location::builder()
                        .physical_location(physical(report, f.primary))
                        .build(),
                ])
                .partial_fingerprints(BTreeMap::from([(FINGERPRINT_KEY.to_string(), print)]))
                .build();
            result.rule_index = RULES.iter().position(|r| r.id == f.rule).map(|i| i as i64);
            result.related_locations = (!related.is_empty()).then_some(related);
            result
        })
        .collect();
    let mut driver = ToolComponent::builder()
        .name("looplint")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(
            RULES
                .iter()
                .map(|r| rule_descriptor(r, &report.links))
                .collect::<Vec<_>>(),
        )
        .build();
    driver.information_uri = information_uri().map(str::to_string);
    let mut run = Run::builder()
        .tool(Tool::from(driver))
        .results(results)
        .column_kind(value(ResultColumnKind::UnicodeCodePoints))
        .build();
    if let Some(dir) = std::env::current_dir()
        .ok()
        .and_then(|d| d.to_str().map(|s| s.replace('\\', "/")))
        .filter(|d| d.starts_with('/'))
    {
        let mut base = format!("file://{}", encode_path(&dir));
        if !base.ends_with('/') {
            base.push('/');
        }
        run.original_uri_base_ids = Some(BTreeMap::from([(
            SRCROOT.to_string(),
            ArtifactLocation::builder().uri(base).build(),
        )]));
    }
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// Writes the SARIF log of `report`.
pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let text = serde_json::to_string_pretty(&log(report)).map_err(io::Error::other)?;
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(camel("nested-block-on"), "NestedBlockOn");
        assert_eq!(encode_path("src/a b%.rs"), "src/a%20b%25.rs");
        assert_eq!(artifact("./src/x.rs").uri.as_deref(), Some("src/x.rs"));
        assert_eq!(
            artifact("/tmp/é.rs").uri.as_deref(),
            Some("file:///tmp/%C3%A9.rs")
        );
        let rule = crate::rules::find("syntax-error").unwrap();
        assert!(what_it_does(rule).starts_with("Reports a file"));
    }
}
