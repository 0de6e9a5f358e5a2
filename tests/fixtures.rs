//! The fixture harness: runs looplint on every fixture and compares its findings with the
//! expectations written inline in the fixture files.
//!
//! Layout: `fixtures/<lang>/<rule-id>/{bug,clean}_<slug>.{rs,py}` is one input, and so is a folder
//! `fixtures/<lang>/<rule-id>/<slug>/` (a multi-file case, such as a Cargo package). A marker at
//! the end of a line, `//~ rule-a, rule-b` in Rust or `#~ rule-a` in Python, expects one
//! diagnostic of each listed rule whose primary span starts on that line; `todo rule` in the list
//! marks a known miss, which is neither required nor counted as noise. Every diagnostic without a
//! marker is "noisy", every marker without a diagnostic is "missing" (ast-grep's vocabulary); the
//! test collects all of them and fails at the end with the full list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use looplint::check::{CheckOptions, check};
use looplint::discover::discover;
use looplint::kb::Kb;
use looplint::model::Language;
use looplint::report::Sources;
use looplint::rules;

/// Where a diagnostic is expected or found: display path, 1-based line, rule id.
type Key = (String, u32, String);

/// Expectations of one input, read from its markers.
#[derive(Default)]
struct Expected {
    /// Required diagnostics, with multiplicity.
    required: BTreeMap<Key, usize>,
    /// Known misses.
    todo: BTreeMap<Key, usize>,
    /// Number of markers seen (required and todo).
    markers: usize,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Shows a path relative to the crate root.
fn rel(path: &str) -> String {
    let root = root();
    let root = root.to_string_lossy().replace('\\', "/");
    path.strip_prefix(&format!("{root}/"))
        .unwrap_or(path)
        .to_string()
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    entries.sort();
    entries
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parses the marker of one line, if any: `(rule, todo)` pairs, or an error message.
fn parse_marker(line: &str, language: Language) -> Option<Result<Vec<(String, bool)>, String>> {
    let marker = match language {
        Language::Rust => "//~",
        Language::Python => "#~",
    };
    let at = line.rfind(marker)?;
    let mut items = Vec::new();
    for item in line[at + marker.len()..].split(',') {
        let item = item.trim();
        let (rule, todo) = match item.strip_prefix("todo ") {
            Some(rest) => (rest.trim(), true),
            None => (item, false),
        };
        if rule.is_empty() {
            return Some(Err(format!("empty rule in marker `{}`", line.trim())));
        }
        if rules::find(rule).map(|r| r.id) != Some(rule) {
            return Some(Err(format!("marker names unknown rule `{rule}`")));
        }
        items.push((rule.to_string(), todo));
    }
    Some(Ok(items))
}

/// Runs one fixture input and appends its failures.
fn check_fixture(input: &Path, kb: &Kb, failures: &mut Vec<String>) {
    let discovery = discover(&[input]);
    for e in &discovery.errors {
        failures.push(format!("{}: cannot read: {}", rel(&e.path), e.message));
    }
    let db = &discovery.db;
    if db.files.is_empty() {
        failures.push(format!(
            "{}: no Rust or Python files",
            rel(&input.to_string_lossy())
        ));
        return;
    }

    let mut expected = Expected::default();
    for (index, file) in db.files.iter().enumerate() {
        let Ok(text) = db.read(index) else { continue };
        for (n, line) in text.lines().enumerate() {
            match parse_marker(line, file.language) {
                None => {}
                Some(Err(message)) => {
                    failures.push(format!("{}:{}: {message}", rel(&file.display), n + 1));
                }
                Some(Ok(items)) => {
                    for (rule, todo) in items {
                        expected.markers += 1;
                        let key = (file.display.clone(), n as u32 + 1, rule);
                        let map = if todo {
                            &mut expected.todo
                        } else {
                            &mut expected.required
                        };
                        *map.entry(key).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    let is_bug = file_name(input).starts_with("bug_");
    if is_bug && expected.markers == 0 {
        failures.push(format!(
            "{}: a bug_ fixture needs at least one marker",
            rel(&input.to_string_lossy())
        ));
    }

    let enabled = |_: &str| true;
    let opts = CheckOptions {
        kb,
        enabled: &enabled,
    };
    // Suppression comments apply as in a real run, so fixtures can test them too; failures a
    // test provokes and asserts are hidden, as they are without `--show-expected`.
    let mut findings = check(db, &opts).findings;
    findings.retain(|f| !f.expected);
    let findings = looplint::suppress::apply(db, findings, &enabled);
    let sources = Sources::load(db, &findings);
    let mut found: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for f in &findings {
        let (start, _) = sources.positions(f.primary);
        let path = db.files[f.primary.file as usize].display.clone();
        found
            .entry((path, start.line, f.rule.to_string()))
            .or_default()
            .push(f.message.clone());
    }

    for (key, &want) in &expected.required {
        let got = found.get(key).map_or(0, Vec::len);
        for _ in got..want {
            failures.push(format!("{}:{}: missing {}", rel(&key.0), key.1, key.2));
        }
    }
    for (key, messages) in &found {
        let allowed = expected.required.get(key).copied().unwrap_or(0)
            + expected.todo.get(key).copied().unwrap_or(0);
        for message in messages.iter().skip(allowed) {
            failures.push(format!(
                "{}:{}: noisy {} ({message})",
                rel(&key.0),
                key.1,
                key.2
            ));
        }
    }
}

#[test]
fn fixtures_match_their_markers() {
    let kb = Kb::builtin();
    let mut failures = Vec::new();
    let mut inputs = 0;
    for (lang, language, ext) in [
        ("rust", Language::Rust, "rs"),
        ("python", Language::Python, "py"),
    ] {
        let lang_dir = root().join("fixtures").join(lang);
        for rule_dir in sorted_entries(&lang_dir) {
            let name = file_name(&rule_dir);
            let shown = format!("fixtures/{lang}/{name}");
            if !rule_dir.is_dir() {
                failures.push(format!("{shown}: expected a rule directory"));
                continue;
            }
            match rules::find(&name) {
                Some(rule) if rule.id == name => {
                    if !rule.languages.contains(&language) {
                        failures.push(format!("{shown}: rule `{name}` does not apply to {lang}"));
                    }
                }
                _ => failures.push(format!("{shown}: `{name}` is not a registered rule id")),
            }
            for input in sorted_entries(&rule_dir) {
                let file = file_name(&input);
                if input.is_file() {
                    let well_named = (file.starts_with("bug_") || file.starts_with("clean_"))
                        && input.extension().is_some_and(|e| e == ext);
                    if !well_named {
                        failures.push(format!(
                            "{shown}/{file}: fixture files are named bug_*.{ext} or clean_*.{ext}"
                        ));
                        continue;
                    }
                }
                inputs += 1;
                check_fixture(&input, &kb, &mut failures);
            }
        }
    }
    eprintln!("{inputs} fixture inputs checked");
    assert!(
        failures.is_empty(),
        "{} fixture failure(s):\n{}\n",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn markers_parse() {
    let parsed = parse_marker("block_on(f()); //~ syntax-error", Language::Rust);
    assert_eq!(parsed, Some(Ok(vec![("syntax-error".to_string(), false)])));
    let parsed = parse_marker(
        "x = 1  #~ todo syntax-error, syntax-error",
        Language::Python,
    );
    assert_eq!(
        parsed,
        Some(Ok(vec![
            ("syntax-error".to_string(), true),
            ("syntax-error".to_string(), false)
        ]))
    );
    assert!(matches!(
        parse_marker("f(); //~ no-such-rule", Language::Rust),
        Some(Err(_))
    ));
    assert_eq!(parse_marker("f(); // plain", Language::Rust), None);
    assert_eq!(parse_marker("f()  # ~ spaced", Language::Python), None);
}
