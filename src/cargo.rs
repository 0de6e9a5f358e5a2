//! `cargo looplint`: checks the packages of a Cargo workspace, found with `cargo metadata`.
//!
//! `cargo looplint [check] [--manifest-path P] [-p NAME]... [--workspace] [--exclude NAME]...
//! [--message-format human|short|json] [looplint check options]`. Cargo runs the binary as
//! `cargo-looplint looplint ARGS...`; the repeated `looplint` is dropped. The check runs from the
//! workspace root, so paths are shown relative to it, as cargo shows them.
//!
//! With `--message-format json` the output is what `cargo check --message-format json` prints: one
//! `compiler-message` object per finding, wrapping a rustc-shaped diagnostic, then
//! `build-finished`. rust-analyzer's `check.overrideCommand = ["cargo", "looplint",
//! "--message-format=json"]` therefore shows looplint's findings in any editor.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package, Target};
use serde_json::{Value, json};

use crate::project::EXIT_ERROR;

/// Help text of `cargo looplint`.
pub const USAGE: &str = "\
Check Cargo packages for runtime-lifecycle bugs

Usage: cargo looplint [check] [OPTIONS]

Package selection:
  -p, --package <NAME>        Check only this package (repeatable)
      --workspace             Check every workspace member
      --exclude <NAME>        Leave this package out (with --workspace; repeatable)
      --manifest-path <PATH>  Path to Cargo.toml

Output:
      --message-format <FMT>  human (default), short, or json (cargo's JSON messages,
                              for rust-analyzer's check.overrideCommand)
  -h, --help                  Print help

Exit status:
  -D, --deny warnings         Fail on warnings too (as `cargo clippy -- -D warnings`);
                              without it, as with clippy, only error-level findings fail

Every other option is passed on to `looplint check` (see `looplint check --help`):
--select, --ignore, --extend-select, --config, --isolated, --fail-on, --baseline,
--write-baseline, -o/--output, --statistics, --exit-zero, --no-color, --output-format.

Without -p or --workspace, the package in the current directory is checked, or the
workspace's default members at a virtual workspace root.
";

/// Options of `looplint check` that take a separate value.
const VALUE_OPTIONS: &[&str] = &[
    "--format",
    "--output-format",
    "--select",
    "--ignore",
    "--extend-select",
    "--config",
    "--fail-on",
    "--baseline",
    "-o",
    "--output",
];

/// The message format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MessageFormat {
    Human,
    Short,
    Json,
}

#[derive(Debug, Default)]
struct Options {
    manifest: Option<PathBuf>,
    packages: Vec<String>,
    workspace: bool,
    exclude: Vec<String>,
    format: Option<MessageFormat>,
    forwarded: Vec<OsString>,
    output: Option<PathBuf>,
}

fn parse(args: Vec<OsString>) -> Result<Option<Options>, String> {
    let mut o = Options::default();
    let mut it = args.into_iter().peekable();
    while let Some(raw) = it.next() {
        // Option names are text; a value given apart may be any path the OS allows.
        let Some(arg) = raw.to_str().map(str::to_string) else {
            return Err(format!(
                "unexpected argument `{}`: `cargo looplint` checks whole packages; \
                 use `looplint check PATH` for single paths",
                raw.to_string_lossy()
            ));
        };
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(OsString::from(v))),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<OsString, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("`{what}` needs a value"))
        };
        let text = |v: OsString, what: &str| -> Result<String, String> {
            v.into_string()
                .map_err(|v| format!("`{what}`: `{}` is not valid UTF-8", v.to_string_lossy()))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--manifest-path" => o.manifest = Some(PathBuf::from(value(&name)?)),
            "-p" | "--package" => o.packages.push(text(value(&name)?, &name)?),
            "--workspace" | "--all" => o.workspace = true,
            "--exclude" => o.exclude.push(text(value(&name)?, &name)?),
            "--message-format" => {
                let v = text(value(&name)?, &name)?;
                // Cargo's variants (`json-diagnostic-short`, ...) select JSON too.
                o.format = Some(match v.split(',').next().unwrap_or("") {
                    "human" => MessageFormat::Human,
                    "short" => MessageFormat::Short,
                    f if f.starts_with("json") => MessageFormat::Json,
                    _ => return Err(format!("unknown message format `{v}`")),
                });
            }
            "-o" | "--output" => {
                let v = PathBuf::from(value(&name)?);
                if let Some(message) = crate::cli::output_is_a_format_name(&v) {
                    return Err(message);
                }
                o.output = Some(v);
            }
            // As `cargo clippy -- -D warnings`: warnings fail the command.
            "-D" | "--deny" => deny(&text(value(&name)?, &name)?, &mut o)?,
            n if n.starts_with("-D") => deny(&n[2..], &mut o)?,
            "--" => {}
            n if n.starts_with("-p") && n.len() > 2 => o.packages.push(n[2..].to_string()),
            n if VALUE_OPTIONS.contains(&n) => {
                let v = value(n)?;
                o.forwarded.push(n.into());
                o.forwarded.push(v);
            }
            n if n.starts_with('-') => o.forwarded.push(raw),
            _ => {
                return Err(format!(
                    "unexpected argument `{arg}`: `cargo looplint` checks whole packages; \
                     use `looplint check PATH` for single paths"
                ));
            }
        }
    }
    Ok(Some(o))
}

/// `-D warnings`: warnings fail the command (`--fail-on warning`).
fn deny(level: &str, o: &mut Options) -> Result<(), String> {
    if level != "warnings" {
        return Err(format!(
            "`-D {level}`: only `-D warnings` is understood (select rules with `--select`)"
        ));
    }
    o.forwarded.extend(["--fail-on".into(), "warning".into()]);
    Ok(())
}

/// Runs `cargo looplint` with the arguments after the program name; returns the exit code.
pub fn run(mut args: Vec<OsString>) -> i32 {
    if args.first().and_then(|a| a.to_str()) == Some("looplint") {
        args.remove(0);
    }
    if args.first().and_then(|a| a.to_str()) == Some("check") {
        args.remove(0);
    }
    let opts = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return EXIT_ERROR;
        }
    };
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(m) = &opts.manifest {
        cmd.manifest_path(cwd.join(m));
    }
    let metadata = match cmd.exec() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: cargo metadata failed: {}", one_line(&e.to_string()));
            return EXIT_ERROR;
        }
    };
    let packages = match select(&metadata, &opts, &cwd) {
        Ok(p) => p,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let root = metadata.workspace_root.as_std_path().to_path_buf();
    let dirs = source_dirs(&packages, &root);
    if dirs.is_empty() {
        eprintln!("warning: the selected packages have no targets to check");
    }
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("error: {}: {e}", root.display());
        return EXIT_ERROR;
    }
    let output = opts.output.as_ref().map(|o| cwd.join(o));
    let mut check: Vec<OsString> = vec!["check".into()];
    check.extend(dirs.iter().map(|d| d.as_os_str().to_os_string()));
    check.extend(opts.forwarded.iter().cloned());
    // As `cargo clippy`: warnings are shown but fail the command only with `-D warnings`,
    // `--fail-on warning` or `fail-on = "warning"` in the configuration.
    check.extend(["--default-fail-on".into(), "error".into()]);
    match opts.format.unwrap_or(MessageFormat::Human) {
        MessageFormat::Human | MessageFormat::Short => {
            if opts.format == Some(MessageFormat::Short) {
                check.extend(["--format".into(), "concise".into()]);
            }
            if let Some(out) = output {
                check.push("--output".into());
                check.push(out.into_os_string());
            }
            crate::cli::run(check)
        }
        MessageFormat::Json => run_json(check, &packages, &root, output.as_deref()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The packages to check.
fn select<'m>(
    metadata: &'m Metadata,
    opts: &Options,
    cwd: &Path,
) -> Result<Vec<&'m Package>, String> {
    let members: Vec<&Package> = metadata.workspace_packages();
    let mut chosen: Vec<&Package> = if !opts.packages.is_empty() {
        let mut v = Vec::new();
        for name in &opts.packages {
            match members.iter().find(|p| p.name.as_str() == name.as_str()) {
                Some(p) => v.push(*p),
                None => return Err(format!("package `{name}` is not a member of the workspace")),
            }
        }
        v
    } else if opts.workspace {
        members.clone()
    } else {
        // Cargo's default: the package whose directory holds the current directory, else the
        // workspace's default members.
        let here = members
            .iter()
            .filter(|p| {
                p.manifest_path
                    .parent()
                    .is_some_and(|d| cwd.starts_with(d.as_std_path()))
            })
            .max_by_key(|p| p.manifest_path.as_str().len());
        match (&opts.manifest, here) {
            (None, Some(p)) => vec![*p],
            _ => {
                let manifest = opts.manifest.as_ref().map(|m| cwd.join(m));
                let by_manifest = manifest.as_ref().and_then(|m| {
                    members
                        .iter()
                        .find(|p| same_file(p.manifest_path.as_std_path(), m))
                });
                match by_manifest {
                    Some(p) => vec![*p],
                    None => {
                        let defaults: Vec<&Package> = metadata.workspace_default_packages();
                        if defaults.is_empty() {
                            members.clone()
                        } else {
                            defaults
                        }
                    }
                }
            }
        }
    };
    if !opts.exclude.is_empty() {
        for name in &opts.exclude {
            if !members.iter().any(|p| p.name.as_str() == name.as_str()) {
                return Err(format!(
                    "excluded package `{name}` is not a member of the workspace"
                ));
            }
        }
        chosen.retain(|p| !opts.exclude.iter().any(|e| e.as_str() == p.name.as_str()));
    }
    Ok(chosen)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The directory holding a target's sources (`src/` for `src/lib.rs` and `src/bin/x.rs`).
fn target_dir(t: &Target) -> Option<PathBuf> {
    let src = t.src_path.as_std_path();
    let dir = src.parent()?;
    // `src/bin/x.rs` and `src/main.rs` both live under the package's `src/`.
    if dir.file_name().is_some_and(|n| n == "bin")
        && dir
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "src")
    {
        return dir.parent().map(Path::to_path_buf);
    }
    Some(dir.to_path_buf())
}

/// Source trees of the packages' targets, relative to `root` when under it, without nesting.
fn source_dirs(packages: &[&Package], root: &Path) -> Vec<PathBuf> {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for p in packages {
        for t in &p.targets {
            if let Some(d) = target_dir(t) {
                dirs.insert(d);
            }
        }
    }
    let all: Vec<PathBuf> = dirs.into_iter().collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for d in &all {
        if all.iter().any(|o| o != d && d.starts_with(o)) {
            continue;
        }
        let rel = d
            .strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or(d.clone());
        out.push(if rel.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            rel
        });
    }
    out
}

fn temp_report_path() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "cargo-looplint-{}-{nanos}.json",
        std::process::id()
    ))
}

/// Runs the check with JSON output and prints cargo messages.
fn run_json(
    mut check: Vec<OsString>,
    packages: &[&Package],
    root: &Path,
    output: Option<&Path>,
) -> i32 {
    let tmp = temp_report_path();
    check.extend(["--format".into(), "json".into(), "--output".into()]);
    check.push(tmp.clone().into_os_string());
    let code = crate::cli::run(check);
    let text = std::fs::read_to_string(&tmp);
    let _ = std::fs::remove_file(&tmp);
    let doc: Value = match text.ok().and_then(|t| serde_json::from_str(&t).ok()) {
        Some(v) => v,
        None => return if code == 0 { EXIT_ERROR } else { code },
    };
    let mut lines = Vec::new();
    let mut errors = 0;
    for d in doc["diagnostics"].as_array().into_iter().flatten() {
        if d["severity"] == "error" {
            errors += 1;
        }
        lines.push(compiler_message(d, packages, root).to_string());
    }
    lines.push(json!({ "reason": "build-finished", "success": errors == 0 }).to_string());
    let mut text = lines.join("\n");
    text.push('\n');
    let written = match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
                _ => Ok(()),
            }
        }
    };
    if let Err(e) = written {
        eprintln!("error: cannot write the report: {e}");
        return EXIT_ERROR;
    }
    code
}

/// The package and target a file belongs to: the target whose source tree holds it most closely.
fn owner<'p>(path: &Path, packages: &[&'p Package]) -> Option<(&'p Package, &'p Target)> {
    let mut best: Option<(&Package, &Target, usize)> = None;
    for p in packages {
        for t in &p.targets {
            let Some(dir) = target_dir(t) else { continue };
            if path.starts_with(&dir) {
                let depth = dir.components().count();
                if best.is_none_or(|b| depth > b.2) {
                    best = Some((p, t, depth));
                }
            }
        }
    }
    best.map(|(p, t, _)| (p, t)).or_else(|| {
        packages
            .first()
            .and_then(|p| p.targets.first().map(|t| (*p, t)))
    })
}

/// A rustc-shaped span of a looplint JSON range.
fn span(root: &Path, path: &str, range: &Value, primary: bool, label: Option<&str>) -> Value {
    let line_start = range["start"]["line"].as_u64().unwrap_or(1);
    let line_end = range["end"]["line"].as_u64().unwrap_or(line_start);
    let column_start = range["start"]["column"].as_u64().unwrap_or(1);
    let column_end = range["end"]["column"].as_u64().unwrap_or(column_start);
    let text = crate::readfile::read_string(&root.join(path), u64::MAX)
        .ok()
        .map(|t| {
            t.lines()
                .skip(line_start.saturating_sub(1) as usize)
                .take((line_end - line_start.min(line_end) + 1) as usize)
                .enumerate()
                .map(|(i, l)| {
                    let first = i == 0;
                    let last = line_start + i as u64 == line_end;
                    json!({
                        "text": l,
                        "highlight_start": if first { column_start } else { 1 },
                        "highlight_end": if last { column_end } else { l.chars().count() as u64 + 1 },
                    })
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    json!({
        "file_name": path,
        "byte_start": range["start"]["offset"],
        "byte_end": range["end"]["offset"],
        "line_start": line_start,
        "line_end": line_end,
        "column_start": column_start,
        "column_end": column_end,
        "is_primary": primary,
        "text": text,
        "label": label,
        "suggested_replacement": null,
        "suggestion_applicability": null,
        "expansion": null,
    })
}

fn child(level: &str, message: &str) -> Value {
    json!({
        "message": message,
        "code": null,
        "level": level,
        "spans": [],
        "children": [],
        "rendered": null,
    })
}

/// One `compiler-message` line for a looplint JSON diagnostic.
fn compiler_message(d: &Value, packages: &[&Package], root: &Path) -> Value {
    let path = d["path"].as_str().unwrap_or("");
    let rule = d["rule"].as_str().unwrap_or("");
    let message = d["message"].as_str().unwrap_or("");
    let level = if d["severity"] == "error" {
        "error"
    } else {
        "warning"
    };
    let primary_label = d["primary_label"].as_str().filter(|s| !s.is_empty());
    let mut spans = vec![span(root, path, &d["range"], true, primary_label)];
    for l in d["labels"].as_array().into_iter().flatten() {
        spans.push(span(
            root,
            l["path"].as_str().unwrap_or(path),
            &l["range"],
            false,
            l["message"].as_str(),
        ));
    }
    let mut children: Vec<Value> = d["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str())
        .map(|n| child("note", n))
        .collect();
    if let Some(h) = d["help"].as_str() {
        children.push(child("help", h));
    }
    let line = d["range"]["start"]["line"].as_u64().unwrap_or(1);
    let col = d["range"]["start"]["column"].as_u64().unwrap_or(1);
    let mut rendered = format!("{level}[{rule}]: {message}\n  --> {path}:{line}:{col}\n");
    for l in d["labels"].as_array().into_iter().flatten() {
        rendered.push_str(&format!(
            "  ::: {}:{}:{}: {}\n",
            l["path"].as_str().unwrap_or(path),
            l["range"]["start"]["line"],
            l["range"]["start"]["column"],
            l["message"].as_str().unwrap_or("")
        ));
    }
    for c in &children {
        rendered.push_str(&format!(
            "   = {}: {}\n",
            c["level"].as_str().unwrap_or("note"),
            c["message"].as_str().unwrap_or("")
        ));
    }
    let diagnostic = json!({
        "$message_type": "diagnostic",
        "message": message,
        "code": { "code": rule, "explanation": null },
        "level": level,
        "spans": spans,
        "children": children,
        "rendered": rendered,
    });
    let abs = root.join(path);
    match owner(&abs, packages) {
        Some((p, t)) => json!({
            "reason": "compiler-message",
            "package_id": p.id,
            "manifest_path": p.manifest_path,
            "target": t,
            "message": diagnostic,
        }),
        None => json!({
            "reason": "compiler-message",
            "package_id": "",
            "manifest_path": "",
            "target": null,
            "message": diagnostic,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        let o = parse(
            [
                "-p",
                "a",
                "-pb",
                "--exclude=c",
                "--message-format=json",
                "--select",
                "LL1",
                "--exit-zero",
            ]
            .map(OsString::from)
            .to_vec(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.packages, vec!["a", "b"]);
        assert_eq!(o.exclude, vec!["c"]);
        assert_eq!(o.format, Some(MessageFormat::Json));
        assert_eq!(o.forwarded, vec!["--select", "LL1", "--exit-zero"]);
        assert!(parse(vec!["--help".into()]).unwrap().is_none());
        assert!(parse(vec!["src".into()]).is_err());
        assert!(parse(vec!["--message-format".into(), "xml".into()]).is_err());
        let o = parse(["--", "-D", "warnings"].map(OsString::from).to_vec())
            .unwrap()
            .unwrap();
        assert_eq!(o.forwarded, vec!["--fail-on", "warning"]);
        assert!(parse(vec!["-Dwarnings".into()]).is_ok());
        assert!(parse(vec!["-Dclippy::all".into()]).is_err());
        assert!(parse(vec!["-o".into(), "json".into()]).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let odd = OsString::from_vec(vec![b'o', 0xff]);
            let o = parse(vec!["--manifest-path".into(), odd.clone()])
                .unwrap()
                .unwrap();
            assert_eq!(o.manifest.map(PathBuf::into_os_string), Some(odd.clone()));
            assert!(parse(vec![odd]).is_err());
        }
    }
}
