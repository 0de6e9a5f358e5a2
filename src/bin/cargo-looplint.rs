//! `cargo looplint`: checks the current Cargo package or workspace with `looplint check`.
//!
//! Cargo runs `cargo-looplint looplint ARGS...`; the repeated `looplint` is dropped. The root is
//! the directory of `--manifest-path`, or of the nearest `Cargo.toml` at or above the current
//! directory, widened to an enclosing workspace root when there is one. The check runs from that
//! root, so paths are shown relative to it, as cargo shows them. Other arguments are passed on to
//! `looplint check`.

use std::path::{Path, PathBuf};

const USAGE: &str = "\
Check the current Cargo package or workspace for runtime-lifecycle bugs

Usage: cargo looplint [check] [--manifest-path PATH] [OPTIONS]

Options:
      --manifest-path <PATH>  Path to Cargo.toml of the package or workspace to check
  -h, --help                  Print help

Every other option is passed on to `looplint check` (see `looplint check --help`):
--format, --select, --ignore, -o/--output, --statistics, --exit-zero, --no-color.
";

/// Options of `looplint check` that take a value (`--format json` or `--format=json`).
const VALUE_OPTIONS: &[&str] = &["--format", "--select", "--ignore"];

fn main() {
    std::process::exit(run(std::env::args().skip(1).collect()));
}

fn run(mut args: Vec<String>) -> i32 {
    if args.first().map(String::as_str) == Some("looplint") {
        args.remove(0);
    }
    if args.first().map(String::as_str) == Some("check") {
        args.remove(0);
    }
    let mut manifest: Option<PathBuf> = None;
    let mut output: Option<PathBuf> = None;
    let mut forwarded = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, i32> {
            match inline.clone().or_else(|| it.next()) {
                Some(v) => Ok(v),
                None => {
                    eprintln!("error: `{what}` needs a value");
                    Err(2)
                }
            }
        };
        match name.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return 0;
            }
            "--manifest-path" => match value("--manifest-path") {
                Ok(v) => manifest = Some(PathBuf::from(v)),
                Err(code) => return code,
            },
            "-o" | "--output" => match value("--output") {
                Ok(v) => output = Some(PathBuf::from(v)),
                Err(code) => return code,
            },
            n if VALUE_OPTIONS.contains(&n) => match value(n) {
                Ok(v) => {
                    forwarded.push(n.to_string());
                    forwarded.push(v);
                }
                Err(code) => return code,
            },
            n if n.starts_with("-o") && n.len() > 2 => output = Some(PathBuf::from(&n[2..])),
            n if n.starts_with('-') => forwarded.push(arg),
            _ => {
                eprintln!(
                    "error: unexpected argument `{arg}`: `cargo looplint` checks the whole package; \
                     use `looplint check PATH` for single paths"
                );
                return 2;
            }
        }
    }

    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return 2;
        }
    };
    let root = match find_root(&cwd, manifest.as_deref()) {
        Ok(root) => root,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("error: {}: {e}", root.display());
        return 2;
    }
    let mut check = vec!["check".to_string(), ".".to_string()];
    if let Some(out) = output {
        check.push("--output".to_string());
        check.push(cwd.join(out).to_string_lossy().into_owned());
    }
    check.extend(forwarded);
    looplint::cli::run(check)
}

/// The directory to check: the manifest's, or the nearest package above `cwd`, widened to the
/// enclosing workspace root.
fn find_root(cwd: &Path, manifest: Option<&Path>) -> Result<PathBuf, String> {
    let package = match manifest {
        Some(m) => {
            let m = cwd.join(m);
            if !m.is_file() {
                return Err(format!("manifest path `{}` does not exist", m.display()));
            }
            m.parent().map(Path::to_path_buf).unwrap_or_default()
        }
        None => cwd
            .ancestors()
            .find(|d| d.join("Cargo.toml").is_file())
            .map(Path::to_path_buf)
            .ok_or_else(|| {
                format!(
                    "could not find `Cargo.toml` in `{}` or any parent directory",
                    cwd.display()
                )
            })?,
    };
    if is_workspace(&package.join("Cargo.toml")) {
        return Ok(package);
    }
    let workspace = package
        .ancestors()
        .skip(1)
        .find(|d| is_workspace(&d.join("Cargo.toml")));
    Ok(workspace.map_or(package.clone(), Path::to_path_buf))
}

/// Whether the manifest at `path` declares a `[workspace]`.
fn is_workspace(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("workspace"))
}
