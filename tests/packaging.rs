//! Installing looplint as Python users do: `pip install .` (maturin, `bindings = "bin"`) into a
//! fresh virtual environment puts `looplint` on PATH, and the pre-commit hook of
//! `.pre-commit-hooks.yaml` fails a commit of a buggy file (`pre-commit try-repo`).
//!
//! Both download build tools from the Python package index and build looplint in release mode,
//! which takes minutes: they are ignored by default and skip, with a message, when the index
//! cannot be reached. `.ci/run` runs them: `cargo test --test packaging -- --ignored --nocapture`.
//! They build into this crate's target directory, so the release build is shared.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// Held by each test while it builds: maturin moves the binaries it stages out of the shared
/// target directory, so two builds at once take each other's files.
static BUILD: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this test binary was built in (`.../target`).
fn target_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_looplint"));
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the command starts");
    println!(
        "$ {cmd:?}\n-> {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fresh virtual environment in `dir`, or `None` (with a message) when Python cannot make one
/// or the package index cannot be reached.
fn venv(dir: &Path) -> Option<PathBuf> {
    let env = dir.join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&env)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("skipped: `python3 -m venv` is not available");
        return None;
    }
    let bin = env.join("bin");
    let reachable = Command::new(bin.join("pip"))
        .args(["download", "--no-deps", "--quiet", "--dest"])
        .arg(dir.join("probe"))
        .arg("maturin>=1.5,<2")
        .env("PIP_DEFAULT_TIMEOUT", "15")
        .status()
        .is_ok_and(|s| s.success());
    if !reachable {
        eprintln!("skipped: the Python package index cannot be reached");
        return None;
    }
    Some(bin)
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const BUGGY_PY: &str = "import asyncio\n\n\nasync def main():\n    asyncio.run(asyncio.sleep(0))\n";

#[test]
#[ignore = "downloads maturin and builds looplint in release mode (minutes); run with --ignored"]
fn pip_install_puts_looplint_on_path() {
    let _build = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let Some(bin) = venv(tmp.path()) else { return };
    let out = run(Command::new(bin.join("pip"))
        .args(["install", "--quiet"])
        .arg(repo())
        .env("CARGO_TARGET_DIR", target_dir()));
    assert!(out.status.success(), "pip install . failed");
    let project = tmp.path().join("project");
    write(&project, "app.py", BUGGY_PY);
    // The installed binary, found on PATH as a user's shell finds it.
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let which = run(Command::new("sh")
        .args(["-c", "command -v looplint"])
        .env("PATH", &path));
    assert!(String::from_utf8_lossy(&which.stdout).starts_with(bin.to_str().unwrap()));
    let out = run(Command::new("looplint")
        .args(["check", "--output-format", "concise"])
        .current_dir(&project)
        .env("PATH", &path));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("app.py:5:5: error[nested-block-on]"));
}

#[test]
#[ignore = "installs pre-commit and builds looplint in release mode (minutes); run with --ignored"]
fn pre_commit_hook_fails_a_buggy_commit() {
    let _build = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let Some(bin) = venv(tmp.path()) else { return };
    let out = run(Command::new(bin.join("pip")).args(["install", "--quiet", "pre-commit"]));
    assert!(out.status.success(), "pip install pre-commit failed");
    let scratch = tmp.path().join("scratch");
    write(&scratch, "app.py", BUGGY_PY);
    write(&scratch, "ok.py", "x = 1\n");
    let git = |args: &[&str]| {
        let out = run(Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&scratch));
        assert!(out.status.success());
    };
    git(&["init", "--quiet"]);
    git(&["add", "."]);
    let pre_commit = |files: &[&str]| {
        run(Command::new(bin.join("pre-commit"))
            .arg("try-repo")
            .arg(repo())
            .arg("looplint")
            .args(files)
            .current_dir(&scratch)
            .env("PRE_COMMIT_HOME", tmp.path().join("cache"))
            .env("CARGO_TARGET_DIR", target_dir())
            .env("NO_COLOR", "1"))
    };
    let out = pre_commit(&["--all-files"]);
    assert_eq!(out.status.code(), Some(1), "the hook fails on the bug");
    assert!(String::from_utf8_lossy(&out.stdout).contains("app.py:5:5: error[nested-block-on]"));
    // Fixed, the hook passes.
    write(
        &scratch,
        "app.py",
        "import asyncio\n\n\nasync def main():\n    await asyncio.sleep(0)\n",
    );
    git(&["add", "."]);
    let out = pre_commit(&["--all-files"]);
    assert_eq!(out.status.code(), Some(0), "the hook passes on clean code");
}
