//! `cargo looplint`: checks the packages of a Cargo workspace, found with `cargo metadata`.
//!
//! `cargo looplint [check] [--manifest-path P] [-p NAME]... [--workspace] [--exclude NAME]...
//! [--message-format human|short|json] [looplint check options]`. Cargo runs the binary as
//! `cargo-looplint looplint ARGS...`; the repeated `looplint` is dropped. The check runs from the
//! workspace root, so paths are shown relative to it, as cargo shows them.
//!
//! The command line is clap's: package selection is `clap-cargo`'s (the flags of cargo's own
//! commands), and every `looplint check` option is accepted as is.
//!
//! With `--message-format json` the output is what `cargo check --message-format json` prints: one
//! `compiler-message` object per finding, wrapping a rustc-shaped diagnostic built from
//! `cargo_metadata`'s types, then `build-finished`, written straight to the output.
//! rust-analyzer's `check.overrideCommand = ["cargo", "looplint", "--message-format=json"]`
//! therefore shows looplint's findings in any editor.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cargo_metadata::diagnostic::{
    Diagnostic, DiagnosticBuilder, DiagnosticCodeBuilder, DiagnosticLevel, DiagnosticSpan,
    DiagnosticSpanBuilder, DiagnosticSpanLineBuilder,
};
use cargo_metadata::{BuildFinishedBuilder, Message, Metadata, Package, PackageId, Target};
use clap::Parser;

use crate::cli::{CheckArgs, FailOn};
use crate::diagnostic::{Finding, Severity};
use crate::model::Span;
use crate::project::EXIT_ERROR;
use crate::report::{Format, Report};

/// What `cargo looplint` adds to the help of `looplint check`.
const AFTER_HELP: &str = "\
Without -p or --workspace, the package in the current directory is checked, or the
workspace's default members at a virtual workspace root.

As with `cargo clippy`, warnings are shown but fail the command only with `-D warnings`
(or `--fail-on warning`, or `fail-on = \"warning\"` in the configuration).";

/// The command line of `cargo looplint`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo looplint",
    bin_name = "cargo looplint",
    override_usage = "cargo looplint [check] [OPTIONS]",
    about = "Check Cargo packages for runtime-lifecycle bugs",
    mut_arg("paths", |a| a.hide(true)),
    after_help = AFTER_HELP,
    version
)]
struct CargoArgs {
    #[command(flatten, next_help_heading = "Package Selection")]
    workspace: clap_cargo::Workspace,
    #[command(flatten, next_help_heading = "Manifest Options")]
    manifest: clap_cargo::Manifest,
    /// human (default), short, or json (cargo's JSON messages, for rust-analyzer's
    /// check.overrideCommand); cargo's `json-*` variants select JSON too.
    #[arg(long, value_name = "FMT", help_heading = "Output")]
    message_format: Option<String>,
    /// `-D warnings`: fail on warnings too (as `cargo clippy -- -D warnings`).
    #[arg(
        short = 'D',
        long = "deny",
        value_name = "warnings",
        help_heading = "Exit Status"
    )]
    deny: Vec<String>,
    #[command(flatten, next_help_heading = "Check Options (as `looplint check`)")]
    check: CheckArgs,
}

/// The message format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MessageFormat {
    Human,
    Short,
    Json,
}

/// Parses the arguments (after `looplint` and `check`); `Err` holds clap's error or ours.
fn parse(args: Vec<OsString>) -> Result<(CargoArgs, MessageFormat), clap::Error> {
    // As after `cargo clippy --`: what follows `--` is read like the rest.
    let args = args.into_iter().filter(|a| a != "--");
    let mut parsed =
        CargoArgs::try_parse_from(std::iter::once(OsString::from("cargo-looplint")).chain(args))?;
    let usage = |message: String| {
        clap::Error::raw(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{message}\n"),
        )
    };
    if let Some(path) = parsed.check.paths.first() {
        return Err(usage(format!(
            "unexpected argument `{}`: `cargo looplint` checks whole packages; \
             use `looplint check PATH` for single paths",
            path.to_string_lossy()
        )));
    }
    for level in &parsed.deny {
        if level != "warnings" {
            return Err(usage(format!(
                "`-D {level}`: only `-D warnings` is understood (select rules with `--select`)"
            )));
        }
        parsed.check.fail_on = Some(FailOn::Warning);
    }
    let format = match parsed.message_format.as_deref() {
        None => MessageFormat::Human,
        Some(v) => match v.split(',').next().unwrap_or("") {
            "human" => MessageFormat::Human,
            "short" => MessageFormat::Short,
            f if f.starts_with("json") => MessageFormat::Json,
            _ => return Err(usage(format!("unknown message format `{v}`"))),
        },
    };
    Ok((parsed, format))
}

/// Runs `cargo looplint` with the arguments after the program name; returns the exit code.
pub fn run(mut args: Vec<OsString>) -> i32 {
    if args.first().and_then(|a| a.to_str()) == Some("looplint") {
        args.remove(0);
    }
    if args.first().and_then(|a| a.to_str()) == Some("check") {
        args.remove(0);
    }
    let (mut opts, format) = match parse(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { 0 };
        }
    };
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return EXIT_ERROR;
        }
    };
    if let Some(message) = opts
        .check
        .output
        .as_deref()
        .and_then(crate::cli::output_is_a_format_name)
    {
        eprintln!("error: {message}");
        return EXIT_ERROR;
    }
    let mut cmd = cargo_metadata::MetadataCommand::new();
    cmd.no_deps();
    if let Some(m) = &opts.manifest.manifest_path {
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
    let check = &mut opts.check;
    check.output = check.output.as_ref().map(|o| cwd.join(o));
    check.paths = dirs;
    // As `cargo clippy`: warnings are shown but fail the command only with `-D warnings`,
    // `--fail-on warning` or `fail-on = "warning"` in the configuration.
    check.default_fail_on = Some(FailOn::Error);
    match format {
        MessageFormat::Human => crate::cli::check(check, None),
        MessageFormat::Short => {
            check.format = Format::Concise;
            crate::cli::check(check, None)
        }
        MessageFormat::Json => {
            let write = |report: &Report<'_>, out: &mut dyn Write| {
                write_messages(report, &packages, &root, out)
            };
            crate::cli::check(check, Some(&write))
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The packages to check.
fn select<'m>(
    metadata: &'m Metadata,
    opts: &CargoArgs,
    cwd: &Path,
) -> Result<Vec<&'m Package>, String> {
    let members: Vec<&Package> = metadata.workspace_packages();
    let selection = &opts.workspace;
    let mut chosen: Vec<&Package> = if !selection.package.is_empty() {
        let mut v = Vec::new();
        for name in &selection.package {
            match members.iter().find(|p| p.name.as_str() == name.as_str()) {
                Some(p) => v.push(*p),
                None => return Err(format!("package `{name}` is not a member of the workspace")),
            }
        }
        v
    } else if selection.workspace || selection.all {
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
        match (&opts.manifest.manifest_path, here) {
            (None, Some(p)) => vec![*p],
            _ => {
                let manifest = opts.manifest.manifest_path.as_ref().map(|m| cwd.join(m));
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
    if !selection.exclude.is_empty() {
        for name in &selection.exclude {
            if !members.iter().any(|p| p.name.as_str() == name.as_str()) {
                return Err(format!(
                    "excluded package `{name}` is not a member of the workspace"
                ));
            }
        }
        chosen.retain(|p| {
            !selection
                .exclude
                .iter()
                .any(|e| e.as_str() == p.name.as_str())
        });
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

/// Writes one `compiler-message` line per finding, then `build-finished`.
fn write_messages(
    report: &Report<'_>,
    packages: &[&Package],
    root: &Path,
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in report.findings {
        let path = report.path(f.primary);
        let Some((package, target)) = owner(&root.join(path), packages) else {
            continue;
        };
        let line = CompilerMessageLine {
            reason: "compiler-message",
            package_id: &package.id,
            manifest_path: package.manifest_path.as_std_path(),
            target,
            message: diagnostic(report, f),
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    let success = !report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Error);
    let finished = BuildFinishedBuilder::default()
        .success(success)
        .build()
        .map_err(io::Error::other)?;
    serde_json::to_writer(&mut *out, &Message::BuildFinished(finished))?;
    out.write_all(b"\n")
}

/// Cargo's `compiler-message`, with the manifest path cargo writes beside the package id
/// (`cargo_metadata::CompilerMessage` reads it without keeping it).
#[derive(serde::Serialize)]
struct CompilerMessageLine<'a> {
    reason: &'static str,
    package_id: &'a PackageId,
    manifest_path: &'a Path,
    target: &'a Target,
    message: Diagnostic,
}

/// A rustc-shaped span of `span`, with the source lines it covers.
fn span(report: &Report<'_>, span: Span, primary: bool, label: Option<&str>) -> DiagnosticSpan {
    let (start, end) = report.sources.positions(span);
    let end_line = end.line.max(start.line);
    let text = (start.line..=end_line)
        .map(|n| report.sources.line(span.file as usize, n as usize - 1))
        .enumerate()
        .filter_map(|(i, l)| {
            let first = i == 0;
            let last = start.line + i as u32 == end_line;
            DiagnosticSpanLineBuilder::default()
                .text(l)
                .highlight_start(if first { start.column as usize } else { 1 })
                .highlight_end(if last {
                    end.column as usize
                } else {
                    l.chars().count() + 1
                })
                .build()
                .ok()
        })
        .collect::<Vec<_>>();
    DiagnosticSpanBuilder::default()
        .file_name(report.path(span))
        .byte_start(start.offset)
        .byte_end(end.offset)
        .line_start(start.line as usize)
        .line_end(end_line as usize)
        .column_start(start.column as usize)
        .column_end(end.column as usize)
        .is_primary(primary)
        .text(text)
        .label(label.map(str::to_string))
        .suggested_replacement(None)
        .suggestion_applicability(None)
        .expansion(None)
        .build()
        .expect("every field of the span is set")
}

fn child(level: DiagnosticLevel, message: &str) -> Diagnostic {
    DiagnosticBuilder::default()
        .message(message)
        .code(None)
        .level(level)
        .spans(Vec::new())
        .children(Vec::new())
        .rendered(None)
        .build()
        .expect("every field of the diagnostic is set")
}

/// The rustc-shaped diagnostic of a finding.
fn diagnostic(report: &Report<'_>, f: &Finding) -> Diagnostic {
    let (level, level_name) = if f.severity == Severity::Error {
        (DiagnosticLevel::Error, "error")
    } else {
        (DiagnosticLevel::Warning, "warning")
    };
    let primary_label = Some(f.primary_label.as_str()).filter(|s| !s.is_empty());
    let mut spans = vec![span(report, f.primary, true, primary_label)];
    for l in &f.labels {
        spans.push(span(report, l.span, false, Some(&l.message)));
    }
    let mut children: Vec<Diagnostic> = f
        .notes
        .iter()
        .map(|n| child(DiagnosticLevel::Note, n))
        .collect();
    if let Some(h) = &f.help {
        children.push(child(DiagnosticLevel::Help, h));
    }
    let path = report.path(f.primary);
    let (start, _) = report.sources.positions(f.primary);
    let mut rendered = format!(
        "{level_name}[{}]: {}\n  --> {path}:{}:{}\n",
        f.rule, f.message, start.line, start.column
    );
    for l in &f.labels {
        let (at, _) = report.sources.positions(l.span);
        rendered.push_str(&format!(
            "  ::: {}:{}:{}: {}\n",
            report.path(l.span),
            at.line,
            at.column,
            l.message
        ));
    }
    for c in &children {
        let name = if c.level == DiagnosticLevel::Help {
            "help"
        } else {
            "note"
        };
        rendered.push_str(&format!("   = {name}: {}\n", c.message));
    }
    let code = DiagnosticCodeBuilder::default()
        .code(f.rule)
        .explanation(None)
        .build()
        .expect("every field of the code is set");
    DiagnosticBuilder::default()
        .message(f.message.as_str())
        .code(Some(code))
        .level(level)
        .spans(spans)
        .children(children)
        .rendered(Some(rendered))
        .build()
        .expect("every field of the diagnostic is set")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<(CargoArgs, MessageFormat), clap::Error> {
        parse(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn parses_options() {
        let (o, format) = parsed(&[
            "-p",
            "a",
            "-pb",
            "--exclude=c",
            "--message-format=json",
            "--select",
            "LL1",
            "--exit-zero",
        ])
        .unwrap();
        assert_eq!(o.workspace.package, vec!["a", "b"]);
        assert_eq!(o.workspace.exclude, vec!["c"]);
        assert_eq!(format, MessageFormat::Json);
        assert_eq!(o.check.select, vec!["LL1"]);
        assert!(o.check.exit_zero);
        assert!(parsed(&["--help"]).is_err_and(|e| !e.use_stderr()));
        assert!(parsed(&["src"]).is_err());
        assert!(parsed(&["--message-format", "xml"]).is_err());
        let (o, _) = parsed(&["--", "-D", "warnings"]).unwrap();
        assert_eq!(o.check.fail_on, Some(FailOn::Warning));
        assert!(parsed(&["-Dwarnings"]).is_ok());
        assert!(parsed(&["-Dclippy::all"]).is_err());
        let (o, _) = parsed(&["--all"]).unwrap();
        assert!(o.workspace.all);
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let odd = OsString::from_vec(vec![b'o', 0xff]);
            let (o, _) = parse(vec!["--manifest-path".into(), odd.clone()]).unwrap();
            assert_eq!(
                o.manifest.manifest_path.map(PathBuf::into_os_string),
                Some(odd.clone())
            );
            assert!(parse(vec![odd]).is_err());
        }
    }
}
