//! No output links to a place that does not exist: every URL looplint emits (SARIF, JSON, JUnit,
//! GitHub annotations, cargo messages, rule docs) is a schema, a reference a rule's doc cites, or
//! under the rule-docs URL the project configured. looplint's own docs are not published, so
//! without `rule-docs-url` no link to them is emitted, and SARIF carries the whole doc instead.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(bin: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Every `http://` or `https://` URL in `text`, up to the first character that cannot be in one
/// (quote, space, bracket, backslash escape).
fn urls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let tail = &rest[at..];
        if tail.starts_with("http://") || tail.starts_with("https://") {
            let end = tail
                .find(|c: char| c.is_whitespace() || "\"'<>()[]`\\\\".contains(c))
                .unwrap_or(tail.len());
            out.push(tail[..end].trim_end_matches(['.', ',']).to_string());
            rest = &tail[end..];
        } else {
            rest = &tail[4..];
        }
    }
    out
}

/// URLs that rule docs cite (library documentation), which are published.
fn cited() -> Vec<String> {
    looplint::rules::RULES
        .iter()
        .flat_map(|r| urls(r.doc))
        .collect()
}

/// A Cargo package with a Rust bug and a Python file with a warning.
fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "Cargo.toml",
        "[package]\nname = \"nb\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        d,
        "src/main.rs",
        "fn fetch() -> u32 {\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    rt.block_on(async { 1 })\n}\n\n#[tokio::main]\nasync fn main() {\n    println!(\"{}\", fetch());\n}\n",
    );
    write(
        d,
        "tool/x.py",
        "import time\n\n\nasync def pause():\n    time.sleep(1)\n",
    );
    tmp
}

/// The text of every output looplint and `cargo looplint` produce for `dir`.
fn outputs(dir: &Path) -> Vec<(String, String)> {
    let looplint = env!("CARGO_BIN_EXE_looplint");
    let mut all = Vec::new();
    for format in [
        "full",
        "concise",
        "json",
        "json-lines",
        "sarif",
        "github",
        "junit",
    ] {
        let out = run(looplint, dir, &["check", "--output-format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        all.push((
            format.to_string(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
    }
    for id in ["nested-block-on", "blocking-call-in-async"] {
        let out = run(looplint, dir, &["rule", id, "--format", "json"]);
        all.push((
            format!("rule {id}"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
    }
    let out = run(
        env!("CARGO_BIN_EXE_cargo-looplint"),
        dir,
        &["looplint", "--message-format=json"],
    );
    all.push((
        "cargo json".into(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ));
    all
}

fn sarif_rules(dir: &Path) -> Vec<Value> {
    let out = run(
        env!("CARGO_BIN_EXE_looplint"),
        dir,
        &["check", "--output-format", "sarif"],
    );
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn no_link_points_to_an_unpublished_place() {
    let tmp = project();
    let cited = cited();
    let schema = looplint::report::sarif::SCHEMA_URI;
    for (what, text) in outputs(tmp.path()) {
        for url in urls(&text) {
            assert!(
                url == schema || cited.contains(&url),
                "{what} links {url}, which is neither a schema nor a cited reference"
            );
        }
    }
    // SARIF carries each rule's whole doc instead of a link.
    for (rule, descriptor) in looplint::rules::RULES.iter().zip(sarif_rules(tmp.path())) {
        assert_eq!(descriptor["id"], rule.id);
        assert_eq!(descriptor["help"]["text"], rule.doc);
        assert_eq!(descriptor["help"]["markdown"], rule.doc);
        assert!(descriptor.get("helpUri").is_none(), "{descriptor}");
    }
}

#[test]
fn configured_rule_docs_url_is_linked() {
    let tmp = project();
    write(
        tmp.path(),
        ".looplint.toml",
        "rule-docs-url = \"https://lint.example.org/rules/{code}-{rule}\"\n",
    );
    let cited = cited();
    let schema = looplint::report::sarif::SCHEMA_URI;
    for (what, text) in outputs(tmp.path()) {
        for url in urls(&text) {
            assert!(
                url == schema
                    || cited.contains(&url)
                    || url.starts_with("https://lint.example.org/rules/"),
                "{what} links {url}"
            );
        }
    }
    let rules = sarif_rules(tmp.path());
    assert_eq!(
        rules[2]["helpUri"],
        "https://lint.example.org/rules/LL002-nested-block-on"
    );
    // A template without a place for the rule is refused.
    write(
        tmp.path(),
        ".looplint.toml",
        "rule-docs-url = \"https://lint.example.org/rules/\"\n",
    );
    let out = run(env!("CARGO_BIN_EXE_looplint"), tmp.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".looplint.toml:1:17: `rule-docs-url`"));
}
