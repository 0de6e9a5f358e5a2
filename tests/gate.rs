//! CI-gate behaviour of `looplint check`, run as a user runs it: configuration discovery and
//! errors, suppressions, baselines, SARIF (validated against the official schema), GitHub
//! annotations, JUnit, and exit codes.
//!
//! The findings used here are `unused-suppression` warnings (a suppression comment on a clean
//! line), which need no frontend, and syntax errors where a test needs an error-level finding.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn looplint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_looplint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("looplint runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A project whose `app.py` has one stray suppression (one `unused-suppression` warning).
fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "app.py",
        "import asyncio\n\n\ndef main():\n    return 1  # looplint: ignore[nested-block-on]\n",
    );
    tmp
}

fn concise(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", "--format", "concise"];
    args.extend_from_slice(extra);
    let o = looplint(dir, &args);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn unused_suppression_is_a_warning_and_sets_exit_code() {
    let tmp = project();
    let (code, out, _) = concise(tmp.path(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("app.py:5:17: warning[unused-suppression]"),
        "{out}"
    );
    // --fail-on error: warnings do not fail; --exit-zero: nothing fails.
    assert_eq!(concise(tmp.path(), &["--fail-on", "error"]).0, 0);
    assert_eq!(concise(tmp.path(), &["--exit-zero"]).0, 0);
    // A usage error is 2 even with --exit-zero.
    assert_eq!(
        concise(tmp.path(), &["--exit-zero", "--select", "nope"]).0,
        2
    );
}

#[test]
fn configuration_is_discovered_and_validated() {
    let tmp = project();
    write(
        tmp.path(),
        "pyproject.toml",
        "[project]\nname = \"app\"\n\n[tool.looplint]\nfail-on = \"error\"\n",
    );
    assert_eq!(concise(tmp.path(), &[]).0, 0);
    // The same from a subdirectory, checking the parent's file.
    std::fs::create_dir_all(tmp.path().join("sub")).unwrap();
    assert_eq!(concise(&tmp.path().join("sub"), &["../app.py"]).0, 0);
    // --isolated ignores it; --config picks another file.
    assert_eq!(concise(tmp.path(), &["--isolated"]).0, 1);
    write(tmp.path(), "ci/strict.toml", "fail-on = \"warning\"\n");
    assert_eq!(concise(tmp.path(), &["--config", "ci/strict.toml"]).0, 1);

    // Unknown keys and rules are errors naming the file and line.
    write(
        tmp.path(),
        ".looplint.toml",
        "select = [\"ALL\"]\nignore = [\"LL000\", \"nested-blok-on\"]\n",
    );
    let (code, _, err) = concise(tmp.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(".looplint.toml:2:20: unknown rule `nested-blok-on`"),
        "{err}"
    );
    write(tmp.path(), ".looplint.toml", "\n[per-file-ignore]\n");
    let (code, _, err) = concise(tmp.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains(".looplint.toml:2:"), "{err}");
    assert!(err.contains("per-file-ignore"), "{err}");
}

#[test]
fn ignore_per_file_ignores_and_exclude() {
    let tmp = project();
    write(tmp.path(), "looplint.toml", "ignore = [\"LL106\"]\n");
    assert_eq!(concise(tmp.path(), &[]).0, 0);
    write(
        tmp.path(),
        "looplint.toml",
        "[per-file-ignores]\n\"app.py\" = [\"unused-suppression\"]\n",
    );
    assert_eq!(concise(tmp.path(), &[]).0, 0);
    write(
        tmp.path(),
        "looplint.toml",
        "extend-exclude = [\"app.py\"]\n",
    );
    assert_eq!(concise(tmp.path(), &[]).0, 0);
    // A file named on the command line is checked even when excluded.
    assert_eq!(concise(tmp.path(), &["app.py"]).0, 1);
}

#[test]
fn suppressions_with_reasons_and_file_ignores() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.rs",
        "// looplint: file-ignore[unused-suppression] -- generated code\nfn main() {} // looplint: ignore[LL002]\n",
    );
    assert_eq!(concise(tmp.path(), &[]).0, 0);
    write(
        tmp.path(),
        "b.py",
        "x = 1  # looplint: ignore[no-such-rule]\ny = 2  # noqa: E501\n",
    );
    let (code, out, _) = concise(tmp.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "b.py:1:27: warning[unused-suppression] unknown rule `no-such-rule` in suppression"
        ),
        "{out}"
    );
    assert_eq!(out.matches("unused-suppression").count(), 1, "{out}");
}

#[test]
fn baseline_reports_only_new_findings() {
    let tmp = project();
    let o = looplint(tmp.path(), &["check", "--write-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(tmp.path().join("looplint-baseline.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["entries"][0]["path"], "app.py");
    assert_eq!(v["entries"][0]["rule"], "unused-suppression");
    assert_eq!(v["entries"][0]["count"], 1);
    assert!(!text.contains("\"line\""));

    let base = ["--baseline", "looplint-baseline.json"];
    assert_eq!(concise(tmp.path(), &base).0, 0);

    // Lines added above the finding do not bring it back.
    write(
        tmp.path(),
        "app.py",
        "import asyncio\nimport os\n\n\n# a comment\n\ndef main():\n    return 1  # looplint: ignore[nested-block-on]\n",
    );
    let (code, out, err) = concise(tmp.path(), &base);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("gone"), "{err}");

    // A new finding is reported; the baselined one is not.
    write(
        tmp.path(),
        "app.py",
        "import asyncio\nimport os\n\n\n# a comment\n\ndef main():\n    return 1  # looplint: ignore[nested-block-on]\n\n\ndef other():\n    return 2  # looplint: ignore[dangling-task]\n",
    );
    let (code, out, _) = concise(tmp.path(), &base);
    assert_eq!(code, 1);
    assert_eq!(out.matches("unused-suppression").count(), 1, "{out}");
    assert!(out.contains("app.py:12:"), "{out}");

    // The baselined finding fixed: its entry is stale and listed.
    write(tmp.path(), "app.py", "def main():\n    return 1\n");
    let (code, _, err) = concise(tmp.path(), &base);
    assert_eq!(code, 0);
    assert!(err.contains("1 baselined findings are gone"), "{err}");
    assert!(err.contains("app.py [unused-suppression]"), "{err}");

    // The same baseline works from another directory, and from the configuration.
    write(
        tmp.path(),
        "app.py",
        "def main():\n    return 1  # looplint: ignore[nested-block-on]\n",
    );
    std::fs::create_dir_all(tmp.path().join("sub")).unwrap();
    let (code, _, _) = concise(
        &tmp.path().join("sub"),
        &["..", "--baseline", "../looplint-baseline.json"],
    );
    assert_eq!(code, 0);
    write(
        tmp.path(),
        "looplint.toml",
        "baseline = \"looplint-baseline.json\"\n",
    );
    assert_eq!(concise(tmp.path(), &[]).0, 0);

    // A broken baseline is an error.
    write(tmp.path(), "looplint-baseline.json", "{\"version\": 7}");
    let (code, _, err) = concise(tmp.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("version 7"), "{err}");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let tmp = project();
    write(
        tmp.path(),
        "src/lib.rs",
        "pub fn f() {} // looplint: ignore[LL001, LL002]\n",
    );
    let o = looplint(tmp.path(), &["check", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does reject what the schema forbids.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&broken));
    // The log also reads back into the typed SARIF model it was written from.
    let typed: serde_sarif::sarif::Sarif = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(typed.runs[0].results.as_ref().map(Vec::len), Some(3));

    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| {
        r["id"] == "unused-suppression"
            && r["defaultConfiguration"]["level"] == "warning"
            && r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## What it does")
    }));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert_eq!(r["level"], "warning");
        assert!(r["partialFingerprints"]["looplintFingerprint/v1"].is_string());
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    }
    let lib = results
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/lib.rs")
        .unwrap();
    let region = &lib["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 1);
    assert_eq!(region["startColumn"], 35);
    assert_eq!(region["endColumn"], 40);
}

#[test]
fn github_annotations_are_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a,b.py",
        "x = 1  # looplint: ignore[50%:done]\n",
    );
    let o = looplint(tmp.path(), &["check", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "::warning file=a%2Cb.py,line=1,endLine=1,col=27,endColumn=35,title=looplint LL106 (unused-suppression)::unknown rule `50%25:done` in suppression%0Ahelp: remove the suppression, or the rule from it"
    );
    assert_eq!(
        out.lines().last().unwrap(),
        "Found 1 warning in 1 of 1 checked file."
    );
}

#[test]
fn junit_and_output_file() {
    let tmp = project();
    let o = looplint(
        tmp.path(),
        &["check", "--format", "junit", "-o", "report.xml"],
    );
    assert_eq!(o.status.code(), Some(1));
    let xml = std::fs::read_to_string(tmp.path().join("report.xml")).unwrap();
    assert!(xml.starts_with("<?xml"));
    // Attributes are in quick-junit's order (name, tests, skipped, errors, failures).
    assert!(
        xml.contains(r#"<testsuite name="app.py" tests="1" skipped="0" errors="0" failures="1""#),
        "{xml}"
    );
    assert!(xml.contains(r#"type="unused-suppression""#), "{xml}");
    let doc = quick_junit::Report::deserialize_from_str(&xml).expect("well-formed JUnit");
    assert_eq!((doc.tests, doc.failures), (1, 1));
}

#[test]
fn junit_escapes_markup_and_drops_control_characters() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a&b.py",
        "x = 1  # looplint: ignore[<b>\"&'\u{1b}[31m]\n",
    );
    let o = looplint(tmp.path(), &["check", "--output-format", "junit"]);
    assert_eq!(o.status.code(), Some(1));
    let xml = stdout(&o);
    assert!(xml.contains(r#"<testsuite name="a&amp;b.py""#), "{xml}");
    assert!(xml.contains("&lt;b&gt;&quot;&amp;&apos;"), "{xml}");
    assert!(!xml.contains('\u{1b}'), "{xml}");
    let doc = quick_junit::Report::deserialize_from_str(&xml).expect("well-formed JUnit");
    let case = &doc.test_suites[0].test_cases[0];
    assert_eq!(case.classname.as_deref(), Some("a&b.py"));
    assert_eq!(case.extra.get("line").map(|l| l.as_str()), Some("1"));
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess { ty, message, .. } => {
            assert_eq!(ty.as_deref(), Some("unused-suppression"));
            assert!(
                message.as_deref().unwrap().contains("<b>\"&'"),
                "{message:?}"
            );
        }
        other => panic!("not a failure: {other:?}"),
    }
}

#[test]
fn junit_without_findings_has_one_passing_case() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "ok.py", "x = 1\n");
    let o = looplint(tmp.path(), &["check", "--output-format", "junit"]);
    assert_eq!(o.status.code(), Some(0));
    let doc = quick_junit::Report::deserialize_from_str(&stdout(&o)).expect("well-formed JUnit");
    assert_eq!((doc.tests, doc.failures), (1, 0));
    assert_eq!(
        doc.test_suites[0].test_cases[0].name.as_str(),
        "no problems found"
    );
}

/// A small Cargo package whose `fetch` blocks on a runtime and is called from `#[tokio::main]`.
fn rust_package(main_rs: &str, metadata: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "Cargo.toml",
        &format!("[package]\nname = \"nb\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{metadata}"),
    );
    write(tmp.path(), "src/main.rs", main_rs);
    tmp
}

const NESTED: &str = "fn fetch() -> u32 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { 1 })
}

#[tokio::main]
async fn main() {
    println!(\"{}\", fetch());
}
";

#[test]
fn suppressions_silence_real_findings() {
    let pkg = rust_package(NESTED, "");
    let (code, out, _) = concise(pkg.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("src/main.rs:3:8: error[nested-block-on]"),
        "{out}"
    );

    // Above the fn header: the whole function.
    let silenced = format!("// looplint: ignore[nested-block-on] -- startup only\n{NESTED}");
    let pkg = rust_package(&silenced, "");
    let (code, out, _) = concise(pkg.path(), &[]);
    assert_eq!((code, out.as_str()), (0, "No problems found.\n"));

    // Trailing, by code, on the primary line.
    let trailing = NESTED.replace(
        "rt.block_on(async { 1 })",
        "rt.block_on(async { 1 }) // looplint: ignore[LL002]",
    );
    assert_eq!(concise(rust_package(&trailing, "").path(), &[]).0, 0);

    // On the wrong line it silences nothing and is reported.
    let wrong = NESTED.replace(
        "let rt = tokio::runtime::Runtime::new().unwrap();",
        "let rt = tokio::runtime::Runtime::new().unwrap(); // looplint: ignore[nested-block-on]",
    );
    let (code, out, _) = concise(rust_package(&wrong, "").path(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("error[nested-block-on]"), "{out}");
    assert!(
        out.contains("src/main.rs:2:58: warning[unused-suppression]"),
        "{out}"
    );
}

#[test]
fn declared_knowledge_is_treated_like_built_in_knowledge() {
    let main_rs = "fn fetch() -> u32 {
    myrt::run(async { 1 })
}

#[tokio::main]
async fn main() {
    println!(\"{}\", fetch());
    myutil::slow_io();
}
";
    let pkg = rust_package(main_rs, "");
    assert_eq!(concise(pkg.path(), &[]).1, "No problems found.\n");
    let pkg = rust_package(
        main_rs,
        "\n[package.metadata.looplint.knowledge]\nblock-on = [\"myrt::run\"]\nblocking = [\"myutil::slow_io\"]\n",
    );
    let (code, out, _) = concise(pkg.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("src/main.rs:2:5: error[nested-block-on] `myrt::run` blocks on a runtime from inside async code"),
        "{out}"
    );
    assert!(
        out.contains("src/main.rs:8:5: warning[blocking-call-in-async]"),
        "{out}"
    );
}

/// The help text of each finding of `rule` in a JSON report of `dir`.
fn helps(dir: &Path, rule: &str) -> Vec<String> {
    let o = looplint(dir, &["check", "--format", "json", "--exit-zero"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    report["diagnostics"]
        .as_array()
        .expect("a JSON report lists its diagnostics")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["help"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn rules_word_their_help_from_the_projects_knowledge_too() {
    let app = "import vendorlib


async def refresh(key):
    client = vendorlib.Client()
    await client.get(key)
    vendorlib.sync_cache(key)
";
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "app.py", app);
    write(
        tmp.path(),
        "looplint.toml",
        "[knowledge]\nruntime-bound = [\"vendorlib.Client\"]\nresource-close = [\"vendorlib.Client.shutdown\"]\n\
         async-counterparts = { \"vendorlib.sync_cache\" = \"vendorlib.sync_cache_async\" }\n",
    );
    let unclosed = helps(tmp.path(), "unclosed-client");
    assert_eq!(unclosed.len(), 1, "{unclosed:?}");
    assert!(unclosed[0].contains("call `shutdown()`"), "{unclosed:?}");
    let blocking = helps(tmp.path(), "blocking-call-in-async");
    assert_eq!(blocking.len(), 1, "{blocking:?}");
    assert!(
        blocking[0].contains("use `vendorlib.sync_cache_async`"),
        "{blocking:?}"
    );
    // The declared close method closes the client.
    write(
        tmp.path(),
        "app.py",
        &app.replace(
            "    vendorlib.sync_cache(key)\n",
            "    await client.shutdown()\n",
        ),
    );
    assert_eq!(helps(tmp.path(), "unclosed-client"), Vec::<String>::new());
    assert_eq!(
        helps(tmp.path(), "blocking-call-in-async"),
        Vec::<String>::new()
    );
}

#[test]
fn sarif_related_locations_for_secondary_labels() {
    let pkg = rust_package(NESTED, "");
    let o = looplint(pkg.path(), &["check", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&log));
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "nested-block-on");
    assert_eq!(result["level"], "error");
    let related = result["relatedLocations"].as_array().unwrap();
    assert!(!related.is_empty());
    assert_eq!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/main.rs"
    );
    assert!(
        related[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("fetch")
    );
}
