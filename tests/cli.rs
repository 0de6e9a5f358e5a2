//! End-to-end tests of the `looplint` and `cargo-looplint` binaries: exit codes, output formats,
//! the JSON schema, broken inputs and deterministic output.
//!
//! Until more rules land, `syntax-error` is the finding these tests provoke on purpose; when a
//! rule has a stable one-file trigger, add it to `good_and_bad_files` and to the exit-code tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// A scratch directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("looplint-cli-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn looplint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_looplint"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(out)))
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/looplint.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Validates `instance` against `schema` and panics with every violation.
fn assert_valid(schema: &Value, instance: &Value) {
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "output does not match the schema:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

/// Good Rust and Python files, and two Rust files that do not parse.
fn good_and_bad_files(dir: &TempDir) {
    dir.write(
        "src/good.rs",
        "async fn fetch() -> u32 {\n    1\n}\n\nfn main() {\n    let _ = fetch();\n}\n",
    );
    dir.write(
        "py/good.py",
        "import asyncio\n\nasync def main():\n    await asyncio.sleep(1)\n",
    );
    dir.write("src/broken.rs", "fn main( {\n    let x = ;\n}\n");
    dir.write("src/more/broken.rs", "struct S {\n");
}

#[test]
fn clean_input_exits_zero() {
    let dir = TempDir::new("clean");
    dir.write("a.rs", "fn main() {}\n");
    dir.write("b.py", "print('hi')\n");
    let out = looplint(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "No problems found.\n");
}

#[test]
fn findings_exit_one_and_other_files_are_still_checked() {
    let dir = TempDir::new("findings");
    good_and_bad_files(&dir);
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_valid(&schema(), &v);
    let diagnostics = v["diagnostics"].as_array().unwrap();
    let paths: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["src/broken.rs", "src/more/broken.rs"]);
    for d in diagnostics {
        assert_eq!(d["rule"], "syntax-error");
        assert_eq!(d["code"], "LL000");
        assert_eq!(d["language"], "rust");
    }
    assert_eq!(v["summary"]["files_checked"], 4);
    assert_eq!(v["summary"]["files_with_findings"], 2);
    assert_eq!(v["summary"]["errors"], 2);
}

#[test]
fn exit_zero_turns_findings_into_success() {
    let dir = TempDir::new("exit-zero");
    good_and_bad_files(&dir);
    let out = looplint(dir.path(), &["check", "--exit-zero"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("error[syntax-error]"));
}

#[test]
fn select_and_ignore() {
    let dir = TempDir::new("select");
    good_and_bad_files(&dir);
    let ignored = looplint(dir.path(), &["check", "--ignore", "syntax-error"]);
    assert_eq!(ignored.status.code(), Some(0), "{}", stderr(&ignored));
    let by_code = looplint(dir.path(), &["check", "--select", "LL000,nested-block-on"]);
    assert_eq!(by_code.status.code(), Some(1));
    let other = looplint(dir.path(), &["check", "--select", "nested-block-on"]);
    assert_eq!(other.status.code(), Some(0));
    let unknown = looplint(dir.path(), &["check", "--select", "no-such-rule"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no-such-rule"));
    let unknown = looplint(dir.path(), &["check", "--ignore", "LL999"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_two() {
    let dir = TempDir::new("usage");
    assert_eq!(looplint(dir.path(), &["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        looplint(dir.path(), &["check", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        looplint(dir.path(), &["rule", "no-such-rule"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(looplint(dir.path(), &["--help"]).status.code(), Some(0));
}

#[test]
fn missing_path_exits_two_but_reports_the_rest() {
    let dir = TempDir::new("missing");
    good_and_bad_files(&dir);
    let out = looplint(
        dir.path(),
        &["check", "no/such/dir", "src", "--format", "concise"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/dir"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("src/broken.rs:1:"),
        "{}",
        stdout(&out)
    );
}

#[cfg(unix)]
#[test]
fn unreadable_file_exits_two_after_reporting() {
    let dir = TempDir::new("unreadable");
    good_and_bad_files(&dir);
    // A socket cannot be read as a file, even by root.
    let socket = dir.path().join("src/socket.rs");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let out = looplint(
        dir.path(),
        &[
            "check",
            "src/socket.rs",
            "src/broken.rs",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("src/socket.rs: not a regular file (a socket)"),
        "{}",
        stderr(&out)
    );
    let v = json(&out);
    assert_valid(&schema(), &v);
    // Only regular files are read: the socket is an error of its own, never opened.
    let paths = diagnostic_paths(&v);
    assert_eq!(paths, ["src/broken.rs"]);
}

#[test]
fn non_utf8_and_binary_files_are_diagnosed() {
    let dir = TempDir::new("encoding");
    dir.write("latin1.rs", b"// caf\xe9\nfn main() {}\n");
    dir.write("binary.rs", b"\x7fELF\x00\x00\x01\x02");
    dir.write("ok.rs", "fn main() {}\n");
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    // Content that is not text is a finding, not an I/O error.
    let code = out.status.code();
    assert_eq!(code, Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let v = json(&out);
    assert_valid(&schema(), &v);
    let paths = diagnostic_paths(&v);
    assert_eq!(paths, ["binary.rs", "latin1.rs"]);
    // The human format renders diagnostics in files it cannot show.
    let human = looplint(dir.path(), &["check"]);
    assert_eq!(human.status.code(), code);
    assert!(stdout(&human).contains("binary.rs"), "{}", stdout(&human));
}

#[test]
fn deeply_nested_input_does_not_crash() {
    let dir = TempDir::new("deep");
    let depth = 100_000;
    let open = "(".repeat(depth);
    let close = ")".repeat(depth);
    dir.write(
        "deep.rs",
        format!("fn main() {{\n    let x = {open}1{close};\n}}\n"),
    );
    dir.write("deep.py", format!("x = {open}1{close}\n"));
    dir.write("unclosed.rs", format!("fn main() {{ {open}\n"));
    dir.write("unclosed.py", format!("x = {open}\n"));
    let out = looplint(dir.path(), &["check", "--format", "concise"]);
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "crashed: {code:?}\n{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn output_order_does_not_depend_on_thread_count() {
    let dir = TempDir::new("order");
    for i in 0..24 {
        dir.write(&format!("m{}/f{i}.rs", i % 5), "fn main( {\n");
        dir.write(&format!("p{}/g{i}.rs", i % 3), "fn f( {}\n");
        dir.write(&format!("p{}/ok{i}.py", i % 2), "x = 1\n");
        dir.write(&format!("m{}/ok{i}.rs", i % 4), "fn ok() {}\n");
    }
    let run = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_looplint"))
            .args(["check", "--format", "json"])
            .current_dir(dir.path())
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        stdout(&out)
    };
    let one = run("1");
    assert_eq!(one, run("4"));
    let v: Value = serde_json::from_str(&one).unwrap();
    let paths = diagnostic_paths(&v);
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(paths.len(), 48);
}

#[test]
fn paths_are_relative_to_the_input() {
    let dir = TempDir::new("relative");
    good_and_bad_files(&dir);
    for (args, want) in [
        (vec!["check", "--format", "concise"], "src/broken.rs:"),
        (
            vec!["check", "./src", "--format", "concise"],
            "src/broken.rs:",
        ),
        (
            vec!["check", "src/broken.rs", "--format", "concise"],
            "src/broken.rs:",
        ),
    ] {
        let out = looplint(dir.path(), &args);
        let text = stdout(&out);
        assert!(
            text.lines().any(|l| l.starts_with(want)),
            "{args:?}:\n{text}"
        );
        assert!(!text.contains("./"), "{args:?}:\n{text}");
    }
    let inside = looplint(
        &dir.path().join("py"),
        &["check", "../src/more", "--format", "concise"],
    );
    assert!(
        stdout(&inside).starts_with("../src/more/broken.rs:1:"),
        "{}",
        stdout(&inside)
    );
}

#[test]
fn ignored_and_skipped_directories() {
    let dir = TempDir::new("ignored");
    dir.write("src/ok.rs", "fn main() {}\n");
    dir.write("target/debug/broken.rs", "fn main( {\n");
    dir.write(".hidden/broken.rs", "fn main( {\n");
    dir.write(".venv/lib/broken.py", "def f(:\n");
    dir.write("node_modules/x/broken.py", "def f(:\n");
    dir.write("gen/broken.rs", "fn main( {\n");
    dir.write(".gitignore", "gen/\n");
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(json(&out)["summary"]["files_checked"], 1);
    // Named explicitly, an ignored file is checked.
    let explicit = looplint(dir.path(), &["check", "gen/broken.rs"]);
    assert_eq!(explicit.status.code(), Some(1));
}

#[test]
fn json_lines_and_statistics() {
    let dir = TempDir::new("jsonl");
    good_and_bad_files(&dir);
    let out = looplint(dir.path(), &["check", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let mut schema = schema();
    let defs = schema["$defs"].take();
    let diagnostic_schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/$defs/diagnostic",
        "$defs": defs,
    });
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2);
    for line in text.lines() {
        assert_valid(&diagnostic_schema, &serde_json::from_str(line).unwrap());
    }

    let stats = looplint(dir.path(), &["check", "--statistics"]);
    assert_eq!(stats.status.code(), Some(1));
    let text = stdout(&stats);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .eq(["2", "LL000", "syntax-error", "error"]),
        "{text}"
    );
    let stats = looplint(dir.path(), &["check", "--statistics", "--format", "json"]);
    assert_eq!(
        json(&stats),
        serde_json::json!([{"rule": "syntax-error", "code": "LL000", "severity": "error", "count": 2}])
    );
}

#[test]
fn output_file_and_colour() {
    let dir = TempDir::new("output");
    good_and_bad_files(&dir);
    let out = looplint(dir.path(), &["check", "-o", "report.txt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let report = std::fs::read_to_string(dir.path().join("report.txt")).unwrap();
    assert!(report.contains("error[syntax-error]"), "{report}");
    assert!(
        report.ends_with("Found 2 errors in 2 of 4 checked files.\n"),
        "{report}"
    );
    assert!(!report.contains('\x1b'));
    // Not a terminal: no colour on stdout either.
    let piped = looplint(dir.path(), &["check"]);
    assert!(!stdout(&piped).contains('\x1b'));
    let bad = looplint(dir.path(), &["check", "-o", "no/such/dir/report.txt"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn empty_report_matches_the_schema() {
    let dir = TempDir::new("empty");
    dir.write("a.py", "x = 1\n");
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_valid(&schema(), &v);
    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "looplint");
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn schema_is_a_valid_json_schema() {
    jsonschema::meta::validate(&schema()).expect("schema is valid against its metaschema");
}

#[test]
fn fingerprints_survive_line_shifts() {
    let dir = TempDir::new("fingerprint");
    dir.write("a.rs", "fn main() {\n    let x = ;\n}\n");
    let first = json(&looplint(dir.path(), &["check", "--format", "json"]));
    dir.write("a.rs", "// a comment\n\nfn main() {\n    let x = ;\n}\n");
    let second = json(&looplint(dir.path(), &["check", "--format", "json"]));
    let first = &first["diagnostics"][0];
    let second = &second["diagnostics"][0];
    assert_ne!(
        first["range"]["start"]["line"],
        second["range"]["start"]["line"]
    );
    assert_eq!(first["fingerprint"], second["fingerprint"]);
}

#[test]
fn rule_and_rules_commands() {
    let dir = TempDir::new("rules");
    let out = looplint(dir.path(), &["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("LL000") && text.contains("syntax-error"),
        "{text}"
    );
    let doc = looplint(dir.path(), &["rule", "LL000"]);
    assert_eq!(doc.status.code(), Some(0));
    assert!(stdout(&doc).starts_with("# syntax-error"));
    let doc = looplint(dir.path(), &["rule", "syntax-error", "--format", "json"]);
    let v = json(&doc);
    assert_eq!(v["code"], "LL000");
    assert!(v["doc"].as_str().unwrap().contains("## What it does"));
    let all = json(&looplint(dir.path(), &["rules", "--format", "json"]));
    assert_eq!(all.as_array().unwrap().len(), looplint::rules::RULES.len());
}

#[test]
fn cargo_subcommand_checks_the_package_root() {
    let dir = TempDir::new("cargo");
    dir.write(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    dir.write("src/lib.rs", "pub fn f( {\n");
    dir.write("src/nested/mod.rs", "pub fn g() {}\n");
    let run = |cwd: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cargo-looplint"))
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap()
    };
    let out = run(
        &dir.path().join("src/nested"),
        &["looplint", "--format", "concise"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("src/lib.rs:1:"),
        "{}",
        stdout(&out)
    );
    let manifest = dir.path().join("Cargo.toml");
    let elsewhere = std::env::temp_dir();
    let out = run(
        &elsewhere,
        &[
            "looplint",
            "check",
            "--manifest-path",
            manifest.to_str().unwrap(),
            "--format=json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["diagnostics"][0]["path"], "src/lib.rs");
    let help = run(dir.path(), &["looplint", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--manifest-path"));
}

#[test]
fn debug_lower_prints_the_model() {
    let dir = TempDir::new("debug");
    dir.write(
        "m.rs",
        "#[tokio::main]\nasync fn main() {\n    tokio::spawn(async { 1 });\n}\n",
    );
    let out = looplint(dir.path(), &["debug", "lower", "m.rs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("main"), "{}", stdout(&out));
    let help = stdout(&looplint(dir.path(), &["--help"]));
    assert!(!help.contains("debug"), "{help}");
}

#[test]
fn python_syntax_and_encoding_errors_are_reported() {
    let dir = TempDir::new("python");
    dir.write(
        "app/good.py",
        "import asyncio\n\nasync def main():\n    await asyncio.sleep(1)\n",
    );
    dir.write("app/broken.py", "def f(:\n    pass\n");
    dir.write("app/latin1.py", b"# caf\xe9\nx = 1\n");
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    // A syntax error and non-UTF-8 content are findings, not I/O errors.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_valid(&schema(), &v);
    let found: Vec<(&str, &str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap(),
                d["rule"].as_str().unwrap(),
                d["language"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("app/broken.py", "syntax-error", "python"),
            ("app/latin1.py", "syntax-error", "python")
        ]
    );
    assert_eq!(v["diagnostics"][0]["range"]["start"]["line"], 1);
}

/// The `path` of every diagnostic in a JSON report, in order.
fn diagnostic_paths(v: &serde_json::Value) -> Vec<&str> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect()
}

/// Warnings in test, example and bench code are reported only with `--all-targets` (or
/// `all-targets = true`); errors there are always reported.
#[test]
fn warnings_in_test_code_need_all_targets() {
    let dir = TempDir::new("all-targets");
    let blocking = "import asyncio\nimport time\n\nasync def poll():\n    time.sleep(1)\n";
    let nested = "import asyncio\n\nasync def go():\n    return 1\n\nasync def outer():\n    return asyncio.run(go())\n";
    dir.write("app/poller.py", blocking);
    dir.write("tests/test_poller.py", blocking);
    dir.write("app/test_helpers_test.py", blocking);
    dir.write("tests/test_nested.py", nested);
    dir.write(
        "crate/src/lib.rs",
        "pub async fn pause() {\n    std::thread::sleep(std::time::Duration::from_millis(5));\n}\n\n#[cfg(test)]\nmod tests {\n    #[tokio::test]\n    async fn waits() {\n        std::thread::sleep(std::time::Duration::from_millis(5));\n    }\n}\n",
    );
    let rules = |out: &Output| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = json(out)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["rule"].as_str().unwrap().to_string(),
                    d["path"].as_str().unwrap().replace('\\', "/"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let default = rules(&looplint(dir.path(), &["check", "--format", "json"]));
    assert_eq!(
        default,
        vec![
            ("blocking-call-in-async".into(), "app/poller.py".into()),
            ("blocking-call-in-async".into(), "crate/src/lib.rs".into()),
            ("nested-block-on".into(), "tests/test_nested.py".into()),
        ]
    );
    let all = rules(&looplint(
        dir.path(),
        &["check", "--format", "json", "--all-targets"],
    ));
    assert_eq!(all.len(), 6, "{all:?}");
    dir.write("looplint.toml", "all-targets = true\n");
    let configured = rules(&looplint(dir.path(), &["check", "--format", "json"]));
    assert_eq!(configured, all);
}

/// A sync helper that only tests call from async code, and documentation snippets, are test and
/// example code's: their warnings need `--all-targets`; an async caller in the program itself
/// brings the helper's back.
#[test]
fn helpers_only_tests_reach_and_doc_snippets_need_all_targets() {
    let dir = TempDir::new("test-callers");
    dir.write("app/__init__.py", "");
    dir.write(
        "app/store.py",
        "def save(path):\n    with open(path, \"w\") as f:\n        f.write(\"x\")\n",
    );
    dir.write(
        "tests/test_store.py",
        "import pytest\n\nfrom app.store import save\n\n\n@pytest.mark.asyncio\nasync def test_save(tmp_path):\n    save(tmp_path / \"x\")\n",
    );
    dir.write(
        "docs/snippets/poll.py",
        "import time\n\n\nasync def poll():\n    time.sleep(1)\n",
    );
    let paths = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = json(&looplint(dir.path(), args))["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["rule"] == "blocking-call-in-async")
            .map(|d| d["path"].as_str().unwrap().replace('\\', "/"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(paths(&["check", "--format", "json"]), Vec::<String>::new());
    assert_eq!(
        paths(&["check", "--format", "json", "--all-targets"]),
        vec![
            "app/store.py".to_string(),
            "docs/snippets/poll.py".to_string()
        ]
    );
    dir.write(
        "app/api.py",
        "from app.store import save\n\n\nasync def handler(path):\n    save(path)\n",
    );
    assert_eq!(
        paths(&["check", "--format", "json"]),
        vec!["app/store.py".to_string()]
    );
}

#[test]
fn expected_failures_show_only_on_request_as_notes() {
    let dir = TempDir::new("expected");
    dir.write(
        "t.rs",
        "fn start() {\n    tokio::spawn(async {});\n}\n\n#[test]\n#[should_panic]\nfn start_needs_a_runtime() {\n    start();\n}\n",
    );
    let out = looplint(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = looplint(
        dir.path(),
        &["check", "--show-expected", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc = json(&out);
    assert_valid(&schema(), &doc);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["severity"], "note");
    assert_eq!(d["expected"], true);
    let out = looplint(
        dir.path(),
        &["check", "--show-expected", "--format", "sarif"],
    );
    let sarif = json(&out);
    assert_eq!(sarif["runs"][0]["results"][0]["level"], "note");
}

/// A Python file with one warning-level finding (`blocking-call-in-async`).
const BLOCKING_PY: &str = "import time\n\n\nasync def pause():\n    time.sleep(1)\n";

#[test]
fn ruff_output_format_names() {
    let dir = TempDir::new("output-format");
    dir.write("a.py", BLOCKING_PY);
    for (args, marker) in [
        (
            &["check", "--output-format", "full"][..],
            "warning[blocking-call-in-async]",
        ),
        (
            &["check", "--output-format", "concise"],
            "a.py:5:5: warning",
        ),
        (&["check", "--output-format", "json"], "\"diagnostics\""),
        (&["check", "--output-format=json-lines"], "\"rule\":"),
        (&["check", "--output-format", "sarif"], "\"runs\""),
        (&["check", "--output-format", "github"], "::warning "),
        (&["check", "--output-format", "junit"], "<testsuites"),
        // The former names still work.
        (&["check", "--format", "human"], "warning[blocking-call"),
        (&["check", "--format", "jsonl"], "\"rule\":"),
    ] {
        let out = looplint(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains(marker), "{args:?}:\n{}", stdout(&out));
    }
}

#[test]
fn output_refuses_a_format_name() {
    let dir = TempDir::new("output-name");
    dir.write("a.py", BLOCKING_PY);
    let out = looplint(dir.path(), &["check", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--output-format json"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("json").exists());
    // A file of that name is still reachable with a path.
    let out = looplint(dir.path(), &["check", "--output", "./json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(dir.path().join("json").exists());
}

#[test]
fn standard_input_with_a_file_name() {
    use std::io::Write as _;
    let dir = TempDir::new("stdin");
    dir.write(".looplint.toml", "ignore = [\"LL102\"]\n");
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_looplint"))
            .args(args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A run refused before it reads standard input closes the pipe: a broken pipe here is
        // that refusal, which the exit code below checks.
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().unwrap()
    };
    // The file need not exist: its name picks the language and names it in the report.
    let out = run(
        &[
            "check",
            "-",
            "--stdin-filename",
            "pkg/mod.py",
            "--output-format",
            "concise",
        ],
        BLOCKING_PY,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("pkg/mod.py:5:5: warning[blocking-call-in-async]"));
    // `--stdin-filename` alone reads standard input too, as ruff does.
    let out = run(
        &["check", "--stdin-filename", "pkg/mod.py"],
        "async def ok():\n    pass\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The configuration around the named file applies.
    let out = run(
        &[
            "check",
            "-",
            "--stdin-filename",
            "pkg/mod.py",
            "--show-settings",
        ],
        "",
    );
    assert!(stdout(&out).contains(".looplint.toml"), "{}", stdout(&out));
    let out = run(&["check", "-"], BLOCKING_PY);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--stdin-filename"));
    let out = run(&["check", "-", "--stdin-filename", "notes.txt"], "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn show_files_and_show_settings() {
    let dir = TempDir::new("show");
    dir.write("src/a.rs", "fn main() {}\n");
    dir.write("b.py", "x = 1\n");
    dir.write("notes.txt", "");
    dir.write(
        "looplint.toml",
        "ignore = [\"LL101\"]\nfail-on = \"error\"\n",
    );
    let out = looplint(dir.path(), &["check", "--show-files"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "b.py\nsrc/a.rs\n");
    let out = looplint(dir.path(), &["check", "--show-settings"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("looplint.toml"), "{text}");
    assert!(text.contains("LL002 nested-block-on"), "{text}");
    assert!(!text.contains("blocking-call-in-async"), "{text}");
    assert!(text.contains("fail-on: error"), "{text}");
}

#[test]
fn unknown_rules_suggest_the_closest() {
    let dir = TempDir::new("suggest");
    dir.write("a.py", "x = 1\n");
    let out = looplint(dir.path(), &["check", "--select", "nested-blok-on"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `nested-block-on`?"),
        "{}",
        stderr(&out)
    );
    let out = looplint(dir.path(), &["rule", "dangling-tsk"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `dangling-task`?"));
    dir.write("looplint.toml", "ignore = [\"unclosed-clent\"]\n");
    let out = looplint(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "looplint.toml:1:11: unknown rule `unclosed-clent` (did you mean `unclosed-client`?)"
        ),
        "{}",
        stderr(&out)
    );
    // Nothing close: no guess.
    let out = looplint(dir.path(), &["rule", "zzzz"]);
    assert!(!stderr(&out).contains("did you mean"));
}

#[test]
fn nested_loop_notes_quote_the_api_that_nests() {
    let dir = TempDir::new("nested-notes");
    dir.write(
        "app.py",
        "import asyncio\n\n\ndef fetch_sync(loop):\n    return loop.run_until_complete(asyncio.sleep(0))\n\n\ndef serve_sync(loop):\n    loop.run_forever()\n\n\ndef run_sync():\n    asyncio.run(asyncio.sleep(0))\n\n\nasync def handler():\n    loop = asyncio.get_running_loop()\n    fetch_sync(loop)\n    serve_sync(loop)\n    run_sync()\n\n\nasyncio.run(handler())\n",
    );
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    let notes: Vec<String> = json(&out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "nested-block-on")
        .map(|d| d["notes"].to_string())
        .collect();
    assert_eq!(notes.len(), 3, "{}", stdout(&out));
    let already = notes
        .iter()
        .filter(|n| n.contains("This event loop is already running"))
        .count();
    let run = notes
        .iter()
        .filter(|n| n.contains("asyncio.run() cannot be called"))
        .count();
    assert_eq!((already, run), (2, 1), "{notes:?}");
}

/// One finding as a format reports it: file, rule and 1-based line.
type Place = (String, String, u64);

/// The findings of each output format, read back from its text.
fn places_in(format: &str, out: &str) -> Vec<Place> {
    let mut found = Vec::new();
    let json_place = |d: &Value| {
        (
            d["path"].as_str().unwrap().to_string(),
            d["rule"].as_str().unwrap().to_string(),
            d["range"]["start"]["line"].as_u64().unwrap(),
        )
    };
    // `text` from `key="` (XML) or `key=` (workflow commands) to its end.
    let field = |line: &str, key: &str, end: char| -> String {
        let at = line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len();
        line[at..].split(end).next().unwrap().to_string()
    };
    match format {
        "json" => {
            let v: Value = serde_json::from_str(out).unwrap();
            found.extend(v["diagnostics"].as_array().unwrap().iter().map(json_place));
        }
        "json-lines" => {
            for line in out.lines() {
                found.push(json_place(&serde_json::from_str(line).unwrap()));
            }
        }
        "sarif" => {
            let v: Value = serde_json::from_str(out).unwrap();
            for r in v["runs"][0]["results"].as_array().unwrap() {
                let at = &r["locations"][0]["physicalLocation"];
                found.push((
                    at["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                    r["ruleId"].as_str().unwrap().to_string(),
                    at["region"]["startLine"].as_u64().unwrap(),
                ));
            }
        }
        "concise" => {
            for line in out.lines().filter(|l| l.contains(": warning[")) {
                let mut parts = line.splitn(4, ':');
                let (path, n) = (parts.next().unwrap(), parts.next().unwrap());
                let rule = field(line, "warning[", ']');
                found.push((path.to_string(), rule, n.parse().unwrap()));
            }
        }
        "full" => {
            let mut rule = None;
            for line in out.lines() {
                if let Some(r) = line.strip_prefix("warning[") {
                    rule = Some(r.split(']').next().unwrap().to_string());
                } else if let Some(at) = line.trim_start().strip_prefix("┌─ ") {
                    let mut parts = at.split(':');
                    let (path, n) = (parts.next().unwrap(), parts.next().unwrap());
                    found.push((path.to_string(), rule.take().unwrap(), n.parse().unwrap()));
                }
            }
        }
        "github" => {
            for line in out.lines().filter(|l| l.starts_with("::")) {
                let title = field(line, "title=", ':');
                let rule = title.rsplit('(').next().unwrap().trim_end_matches(')');
                found.push((
                    field(line, "file=", ','),
                    rule.to_string(),
                    field(line, "line=", ',').parse().unwrap(),
                ));
            }
        }
        "junit" => {
            for line in out.lines().filter(|l| l.contains("<testcase ")) {
                let rule = field(line, "name=\"", '"');
                found.push((
                    field(line, "file=\"", '"'),
                    rule.rsplit(' ').next().unwrap().to_string(),
                    field(line, "line=\"", '"').parse().unwrap(),
                ));
            }
        }
        other => panic!("no reader for {other}"),
    }
    found.sort();
    found
}

/// Every format counts lines alike, whatever ends them (LF, CRLF, a lone CR): one line index
/// for the reports, the suppression comments and the source shown.
#[test]
fn every_format_counts_lines_alike_whatever_ends_them() {
    let py = [
        "import time",
        "",
        "",
        "async def tick():",
        "    # looplint: ignore[blocking-call-in-async]",
        "    time.sleep(",
        "        1)",
        "    x = 1  # looplint: ignore[dangling-task]",
        "    time.sleep(2)",
        "",
    ];
    let rs = [
        "#[tokio::main]",
        "async fn main() {",
        "    // looplint: ignore[blocking-call-in-async]",
        "    let a = std::fs::read_to_string(",
        "        \"x\").unwrap();",
        "    let b = 1; // looplint: ignore[dangling-task]",
        "    let text = std::fs::read_to_string(\"y\").unwrap();",
        "    println!(\"{text} {a} {b}\");",
        "}",
        "",
    ];
    // A lone CR ends no `//` comment in Rust: Rust files use LF and CRLF only.
    for (name, eol, with_rust) in [
        ("lf", "\n", true),
        ("crlf", "\r\n", true),
        ("cr", "\r", false),
    ] {
        let dir = TempDir::new(&format!("eol-{name}"));
        dir.write("app.py", py.join(eol));
        let mut expected = vec![
            (
                "app.py".to_string(),
                "blocking-call-in-async".to_string(),
                9,
            ),
            ("app.py".to_string(), "unused-suppression".to_string(), 8),
        ];
        if with_rust {
            dir.write("app.rs", rs.join(eol));
            expected.push((
                "app.rs".to_string(),
                "blocking-call-in-async".to_string(),
                7,
            ));
            expected.push(("app.rs".to_string(), "unused-suppression".to_string(), 6));
        }
        expected.sort();
        for format in [
            "full",
            "concise",
            "json",
            "json-lines",
            "sarif",
            "github",
            "junit",
        ] {
            let out = looplint(dir.path(), &["check", "--output-format", format]);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{name} {format}: {}",
                stderr(&out)
            );
            let text = stdout(&out);
            assert_eq!(
                places_in(format, &text),
                expected,
                "{name} {format}:\n{text}"
            );
        }
        // The human format shows the source line it names.
        let out = looplint(dir.path(), &["check", "--output-format", "full"]);
        assert!(
            stdout(&out).contains("9 │     time.sleep(2)"),
            "{name}:\n{}",
            stdout(&out)
        );
    }
}

#[test]
fn messages_name_the_spawned_work() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "fixtures/python/runtime-dropped-with-live-tasks/bug_reminder_scheduled_on_loop_never_run.py",
    );
    let out = looplint(
        fixture.parent().unwrap(),
        &[
            "check",
            "--all-targets",
            "--format",
            "json",
            fixture.to_str().unwrap(),
        ],
    );
    let v = json(&out);
    let messages: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("callback scheduled here"),
        "{messages:?}"
    );
}
