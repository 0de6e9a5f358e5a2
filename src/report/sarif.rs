//! SARIF 2.1.0 output, for code-scanning services (GitHub code scanning and others).
//!
//! One run whose driver lists every rule (with its whole doc as help, in text and Markdown, and its
//! default level; `helpUri` only when the rule docs are published somewhere, see
//! [`crate::report::links`]). Each
//! result has the rule id and index, the level, the message, the primary region, the secondary
//! labels as related locations, and the looplint fingerprint as a partial fingerprint. Columns
//! count Unicode code points (`columnKind: unicodeCodePoints`), end columns are exclusive, and
//! relative paths are relative to `%SRCROOT%` (the working directory of the run).

use std::io::{self, Write};

use serde_json::{Value, json};

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

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
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

fn rule_descriptor(rule: &Rule, links: &Links) -> Value {
    let languages: Vec<&str> = rule.languages.iter().map(|l| l.name()).collect();
    let group = match rule.severity {
        Severity::Error => "lifecycle",
        Severity::Warning => "hygiene",
        Severity::Note => "analysis",
    };
    let mut descriptor = json!({
        "id": rule.id,
        "name": camel(rule.id),
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": what_it_does(rule) },
        "help": { "text": rule.doc, "markdown": rule.doc },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": { "code": rule.code, "tags": [group], "languages": languages },
    });
    if let Some(uri) = links.rule_doc(rule) {
        descriptor["helpUri"] = Value::from(uri);
    }
    descriptor
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
fn artifact(path: &str) -> Value {
    let p = path.replace('\\', "/");
    if p.starts_with('/') {
        json!({ "uri": format!("file://{}", encode_path(&p)) })
    } else {
        let p = p.strip_prefix("./").unwrap_or(&p);
        json!({ "uri": encode_path(p), "uriBaseId": SRCROOT })
    }
}

fn physical(report: &Report<'_>, span: Span) -> Value {
    let (start, end) = report.sources.positions(span);
    json!({
        "artifactLocation": artifact(report.path(span)),
        "region": {
            "startLine": start.line,
            "startColumn": start.column,
            "endLine": end.line.max(start.line),
            "endColumn": if end.line > start.line { end.column } else { end.column.max(start.column) },
        }
    })
}

/// Builds the SARIF log of a report.
pub fn log(report: &Report<'_>) -> Value {
    let prints = fingerprints(report.db, &report.sources, report.findings);
    let results: Vec<Value> = report
        .findings
        .iter()
        .zip(prints)
        .map(|(f, print)| {
            let index = RULES.iter().position(|r| r.id == f.rule);
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": message },
                "locations": [{ "physicalLocation": physical(report, f.primary) }],
                "partialFingerprints": { FINGERPRINT_KEY: print },
            });
            if let Some(i) = index {
                result["ruleIndex"] = json!(i);
            }
            if !f.labels.is_empty() {
                let related: Vec<Value> = f
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        json!({
                            "id": i,
                            "physicalLocation": physical(report, l.span),
                            "message": { "text": l.message },
                        })
                    })
                    .collect();
                result["relatedLocations"] = Value::from(related);
            }
            result
        })
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "looplint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": RULES
                    .iter()
                    .map(|r| rule_descriptor(r, &report.links))
                    .collect::<Vec<_>>(),
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    });
    if let Some(uri) = information_uri() {
        run["tool"]["driver"]["informationUri"] = Value::from(uri);
    }
    if let Some(uri) = std::env::current_dir()
        .ok()
        .and_then(|d| d.to_str().map(|s| s.replace('\\', "/")))
        .filter(|d| d.starts_with('/'))
    {
        let mut base = format!("file://{}", encode_path(&uri));
        if !base.ends_with('/') {
            base.push('/');
        }
        run["originalUriBaseIds"] = json!({ SRCROOT: { "uri": base } });
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    })
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
        assert_eq!(artifact("./src/x.rs")["uri"], "src/x.rs");
        assert_eq!(artifact("/tmp/é.rs")["uri"], "file:///tmp/%C3%A9.rs");
        let rule = crate::rules::find("syntax-error").unwrap();
        assert!(what_it_does(rule).starts_with("Reports a file"));
    }
}
