//! `cargo looplint` as cargo and rust-analyzer run it: package selection with `cargo metadata`,
//! `--message-format json` parsed with `cargo_metadata`'s own message types, and help.
//!
//! Until the Rust rules report on these sources, the finding is an `unused-suppression` warning.

use std::path::Path;
use std::process::{Command, Output};

use cargo_metadata::Message;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn cargo_looplint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-looplint"))
        .arg("looplint")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("cargo-looplint runs")
}

/// A workspace with members `app` (one stray suppression in src/ and one in tests/) and `util`
/// (one stray suppression).
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "Cargo.toml",
        "[workspace]\nmembers = [\"app\", \"util\"]\nresolver = \"2\"\n",
    );
    write(
        d,
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        d,
        "app/src/main.rs",
        "fn main() {\n    println!(\"hi\"); // looplint: ignore[nested-block-on]\n}\n",
    );
    write(
        d,
        "app/tests/it.rs",
        "#[test]\nfn t() {} // looplint: ignore[dangling-task]\n",
    );
    write(
        d,
        "util/Cargo.toml",
        "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        d,
        "util/src/lib.rs",
        "pub fn f() {} // looplint: ignore[LL001]\n",
    );
    write(d, "stray/lone.rs", "fn g() {} // looplint: ignore[LL001]\n");
    tmp
}

fn messages(out: &Output) -> Vec<Message> {
    Message::parse_stream(&out.stdout[..])
        .map(|m| m.expect("each line is a cargo message"))
        .collect()
}

#[test]
fn json_messages_parse_as_cargo_messages() {
    let ws = workspace();
    // As `cargo clippy`: warnings are reported, and fail the command only with `-D warnings`.
    let out = cargo_looplint(ws.path(), &["--workspace", "--message-format=json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msgs = messages(&out);
    let mut files = Vec::new();
    let mut finished = None;
    for m in &msgs {
        match m {
            Message::CompilerMessage(cm) => {
                let d = &cm.message;
                assert_eq!(d.code.as_ref().unwrap().code, "unused-suppression");
                assert_eq!(
                    d.level,
                    cargo_metadata::diagnostic::DiagnosticLevel::Warning
                );
                let s = &d.spans[0];
                assert!(s.is_primary);
                assert!(s.column_start >= 1 && s.line_start >= 1);
                assert!(!s.text.is_empty(), "the span carries its source line");
                assert!(
                    d.children
                        .iter()
                        .any(|c| c.level == cargo_metadata::diagnostic::DiagnosticLevel::Help)
                );
                assert!(
                    d.rendered
                        .as_ref()
                        .unwrap()
                        .contains("warning[unused-suppression]")
                );
                // The owning target is named, as cargo names it.
                files.push((s.file_name.clone(), cm.target.name.clone()));
            }
            Message::BuildFinished(b) => finished = Some(b.success),
            other => panic!("unexpected message {other:?}"),
        }
    }
    files.sort();
    assert_eq!(
        files,
        vec![
            ("app/src/main.rs".to_string(), "app".to_string()),
            ("app/tests/it.rs".to_string(), "it".to_string()),
            ("util/src/lib.rs".to_string(), "util".to_string()),
        ]
    );
    // Only warnings: the build is a success for cargo.
    assert_eq!(finished, Some(true));
    // The span of the primary finding points at the suppression in main.rs (line 2).
    let main = msgs
        .iter()
        .find_map(|m| match m {
            Message::CompilerMessage(cm)
                if cm.target.name == "app"
                    && cm.message.spans[0].file_name.ends_with("main.rs") =>
            {
                Some(cm)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(main.message.spans[0].line_start, 2);
    assert_eq!(main.message.spans[0].column_start, 24);
}

#[test]
fn package_selection() {
    let ws = workspace();
    let count = |out: &Output| {
        messages(out)
            .iter()
            .filter(|m| matches!(m, Message::CompilerMessage(_)))
            .count()
    };
    let json = "--message-format=json";
    assert_eq!(count(&cargo_looplint(ws.path(), &["-p", "util", json])), 1);
    assert_eq!(
        count(&cargo_looplint(
            ws.path(),
            &["--workspace", "--exclude", "app", json]
        )),
        1
    );
    // From inside a member, that member only.
    assert_eq!(
        count(&cargo_looplint(&ws.path().join("app/src"), &[json])),
        2
    );
    // --manifest-path from elsewhere.
    let out = cargo_looplint(
        ws.path().join("stray").as_path(),
        &["--manifest-path", "../util/Cargo.toml", json],
    );
    assert_eq!(count(&out), 1);
    // An unknown package is a usage error.
    assert_eq!(
        cargo_looplint(ws.path(), &["-p", "nope"]).status.code(),
        Some(2)
    );
}

#[test]
fn human_and_short_formats_and_help() {
    let ws = workspace();
    let out = cargo_looplint(
        ws.path(),
        &["check", "-p", "util", "--message-format", "short"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("util/src/lib.rs:1:18: warning[unused-suppression]"),
        "{text}"
    );
    let out = cargo_looplint(ws.path(), &["-p", "util", "--exit-zero", "-D", "warnings"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning[unused-suppression]"));
    let out = cargo_looplint(ws.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--message-format"));
    // `cargo help looplint` finds the subcommand on PATH and prints the same help.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cargo-looplint"))
        .parent()
        .unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["help", "looplint"])
        .env("PATH", path)
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("cargo looplint [check]"));
}

#[test]
fn a_real_finding_keeps_its_labels_notes_and_help() {
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
    let out = cargo_looplint(d, &["--message-format=json"]);
    assert_eq!(out.status.code(), Some(1));
    let msgs = messages(&out);
    let cm = msgs
        .iter()
        .find_map(|m| match m {
            Message::CompilerMessage(cm) => Some(cm),
            _ => None,
        })
        .unwrap();
    let diag = &cm.message;
    assert_eq!(diag.code.as_ref().unwrap().code, "nested-block-on");
    assert_eq!(
        diag.level,
        cargo_metadata::diagnostic::DiagnosticLevel::Error
    );
    assert_eq!(diag.spans.len(), 3);
    let primary = &diag.spans[0];
    assert!(primary.is_primary);
    assert_eq!(
        (primary.line_start, primary.column_start, primary.column_end),
        (3, 8, 16)
    );
    assert_eq!(primary.byte_end - primary.byte_start, 8);
    // The primary span carries the finding's own label, as rustc's do.
    assert!(
        primary.label.as_deref().is_some_and(|l| !l.is_empty()),
        "{primary:?}"
    );
    // Each message names its manifest beside the package id, as cargo writes it.
    let first: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert!(
        first["manifest_path"]
            .as_str()
            .unwrap()
            .ends_with("Cargo.toml"),
        "{first}"
    );
    let call = &diag.spans[1];
    assert!(!call.is_primary);
    assert_eq!(call.line_start, 8);
    assert!(call.label.as_ref().unwrap().contains("fetch"));
    assert!(
        diag.children
            .iter()
            .any(|c| c.level == cargo_metadata::diagnostic::DiagnosticLevel::Note)
    );
    assert!(matches!(msgs.last(), Some(Message::BuildFinished(b)) if !b.success));
}

#[test]
fn warnings_fail_only_when_denied_as_with_clippy() {
    let ws = workspace();
    let code = |args: &[&str]| cargo_looplint(ws.path(), args).status.code();
    assert_eq!(code(&["-p", "util"]), Some(0));
    assert_eq!(code(&["-p", "util", "--", "-D", "warnings"]), Some(1));
    assert_eq!(code(&["-p", "util", "-Dwarnings"]), Some(1));
    assert_eq!(code(&["-p", "util", "--fail-on", "warning"]), Some(1));
    assert_eq!(code(&["-p", "util", "-D", "clippy::all"]), Some(2));
    // The configuration's `fail-on` is the project's choice, and wins over the default.
    write(ws.path(), "util/.looplint.toml", "fail-on = \"warning\"\n");
    assert_eq!(code(&["-p", "util"]), Some(1));
    // `--output json` is refused rather than writing a file named `json`.
    let out = cargo_looplint(ws.path(), &["-p", "util", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output-format json"));
    assert!(!ws.path().join("json").exists());
}
