//! File discovery: walks the paths given on the command line and collects Rust and Python files.
//!
//! Directories are walked with the `ignore` crate, so `.gitignore`, `.ignore` and hidden files are
//! respected (also outside git repositories); `target/`, `__pycache__/`, `.venv/`, `venv/` and
//! `node_modules/` are always skipped. A file named explicitly is checked even if it is ignored.
//! Every file gets a display path as found under its input: a relative input gives relative
//! paths, without a `./` prefix and with `/` separators.

use std::path::{Component, Path};

use ignore::WalkBuilder;

use crate::source::{SourceDb, SourceFile, language_of};

/// Directory names that are never walked into (besides hidden directories).
pub const SKIPPED_DIRS: &[&str] = &["target", "__pycache__", ".venv", "venv", "node_modules"];

/// A path that could not be walked or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverError {
    /// The path, as shown to users.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The outcome of discovery: the files to check, and the problems met on the way.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The files, sorted by display path, without duplicates.
    pub db: SourceDb,
    /// Inputs or directory entries that could not be read.
    pub errors: Vec<DiscoverError>,
    /// Files named explicitly that are neither Rust nor Python (display paths).
    pub skipped: Vec<String>,
    /// Rust or Python files met in a walk and not checked, with the reason (a symbolic link, a
    /// FIFO...).
    pub passed_over: Vec<(String, String)>,
}

/// Walks `inputs` (files or directories) and collects every Rust and Python file under them.
pub fn discover<P: AsRef<Path>>(inputs: &[P]) -> Discovery {
    let mut out = Discovery::default();
    let mut files = Vec::new();
    // Whether the walks may read git's global ignore rules, decided at the first walk.
    let mut global_rules: Option<bool> = None;
    for input in inputs {
        let input = input.as_ref();
        match std::fs::metadata(input) {
            Err(e) => out.errors.push(DiscoverError {
                path: display_path(input),
                message: io_message(&e),
            }),
            Ok(meta) if meta.is_dir() => {
                let global = *global_rules.get_or_insert_with(|| match unsafe_global_rules() {
                    Some(e) => {
                        out.errors.push(e);
                        false
                    }
                    None => true,
                });
                walk(input, global, &mut files, &mut out)
            }
            Ok(meta) if !meta.is_file() => out.errors.push(DiscoverError {
                path: display_path(input),
                message: crate::readfile::ReadFileError::NotRegular(crate::readfile::kind_of(
                    meta.file_type(),
                ))
                .to_string(),
            }),
            Ok(_) => {
                let display = display_path(input);
                match language_of(input) {
                    Some(language) => files.push(SourceFile {
                        path: input.to_path_buf(),
                        display,
                        language,
                        overlay: None,
                    }),
                    None => out.skipped.push(display),
                }
            }
        }
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    files.dedup_by(|a, b| a.display == b.display);
    for f in files {
        out.db.add(f);
    }
    out
}

/// Ignore files the walk reads in each directory.
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore", ".git/info/exclude"];

/// Why an existing configuration-like file cannot be read safely (not a regular file, or over the
/// configuration size cap), if so; `None` also when it does not exist.
fn unreadable_config(path: &Path) -> Option<crate::readfile::ReadFileError> {
    use crate::readfile::{CONFIG_LIMIT, ReadFileError, kind_of};
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        Some(ReadFileError::NotRegular(kind_of(meta.file_type())))
    } else if meta.len() > CONFIG_LIMIT {
        Some(ReadFileError::TooLarge {
            size: meta.len(),
            limit: CONFIG_LIMIT,
        })
    } else {
        None
    }
}

/// Why a directory's ignore files cannot be read safely (a FIFO or a device would stall the
/// walk, a huge file would fill memory), if so.
fn unsafe_ignore_file(dir: &Path) -> Option<DiscoverError> {
    for name in IGNORE_FILES {
        let path = dir.join(name);
        let Some(problem) = unreadable_config(&path) else {
            continue;
        };
        return Some(DiscoverError {
            path: display_path(&path),
            message: format!("{problem}; the directory is not checked"),
        });
    }
    None
}

/// Why git's global ignore rules cannot be read safely, if so. The walk finds them through git's
/// configuration files (`$GIT_CONFIG_GLOBAL`, `~/.gitconfig`, `$XDG_CONFIG_HOME/git/config`,
/// `$GIT_CONFIG_SYSTEM` or `/etc/gitconfig`), whose `core.excludesFile` names the rules (by
/// default `$XDG_CONFIG_HOME/git/ignore`); each must be a regular file of a sane size, or absent.
fn unsafe_global_rules() -> Option<DiscoverError> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    #[allow(deprecated)]
    let home = std::env::home_dir();
    let xdg = env("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let configs = [
        env("GIT_CONFIG_GLOBAL").map(std::path::PathBuf::from),
        home.as_ref().map(|h| h.join(".gitconfig")),
        xdg.as_ref().map(|x| x.join("git/config")),
        Some(
            env("GIT_CONFIG_SYSTEM")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| "/etc/gitconfig".into()),
        ),
    ];
    let unsafe_file = |path: &Path| {
        let problem = unreadable_config(path)?;
        Some(DiscoverError {
            path: display_path(path),
            message: format!("{problem}; git's global ignore rules are not applied"),
        })
    };
    configs
        .iter()
        .flatten()
        .find_map(|p| unsafe_file(p))
        .or_else(|| {
            let rules = ignore::gitignore::gitconfig_excludes_path()?;
            unsafe_file(&rules)
        })
}

fn walk(root: &Path, global_rules: bool, files: &mut Vec<SourceFile>, out: &mut Discovery) {
    // The walk reads the ignore files of the root, of its ancestors and of every directory
    // below: each is looked at before it is read.
    let abs = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let above = abs.ancestors().skip(1);
    if let Some(e) =
        unsafe_ignore_file(root).or_else(|| above.into_iter().find_map(unsafe_ignore_file))
    {
        out.errors.push(e);
        return;
    }
    let refused = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let refused_in_walk = refused.clone();
    let walker = WalkBuilder::new(root)
        .require_git(false)
        .git_global(global_rules)
        .hidden(true)
        .follow_links(false)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir {
                return true;
            }
            if entry
                .file_name()
                .to_str()
                .is_some_and(|name| SKIPPED_DIRS.contains(&name))
            {
                return false;
            }
            match unsafe_ignore_file(entry.path()) {
                Some(e) => {
                    refused_in_walk
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(e);
                    false
                }
                None => true,
            }
        })
        .build();
    for entry in walker {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                let Some(file_type) = entry.file_type() else {
                    continue;
                };
                if file_type.is_dir() || language_of(path).is_none() {
                    continue;
                }
                if !file_type.is_file() {
                    // Links are not followed in a walk (they may leave the tree or loop), and
                    // special files are never read; either is said, not passed over silently.
                    let why = if file_type.is_symlink() {
                        "symbolic link, not followed (name it to check it)".to_string()
                    } else {
                        format!(
                            "not a regular file ({})",
                            crate::readfile::kind_of(file_type)
                        )
                    };
                    out.passed_over.push((display_path(path), why));
                    continue;
                }
                if let Some(language) = language_of(path) {
                    files.push(SourceFile {
                        path: path.to_path_buf(),
                        display: display_path(path),
                        language,
                        overlay: None,
                    });
                }
            }
            Err(err) => out.errors.push(walk_error(root, &err)),
        }
    }
    out.errors.extend(std::mem::take(
        &mut *refused.lock().unwrap_or_else(|e| e.into_inner()),
    ));
}

fn walk_error(root: &Path, err: &ignore::Error) -> DiscoverError {
    let mut path = None;
    let mut cur = err;
    loop {
        match cur {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| p.clone());
                cur = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                cur = err;
            }
            _ => break,
        }
    }
    let message = match cur {
        ignore::Error::Io(e) => io_message(e),
        ignore::Error::Loop { child, .. } => {
            path.get_or_insert_with(|| child.clone());
            "symbolic link loop".to_string()
        }
        other => other.to_string(),
    };
    DiscoverError {
        path: display_path(path.as_deref().unwrap_or(root)),
        message,
    }
}

/// Describes an I/O error as one lowercase clause.
fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// The display form of a path: `.` components dropped, `/` separators, relative stays relative.
pub fn display_path(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    let mut prefix = String::new();
    for c in path.components() {
        match c {
            Component::Prefix(p) => prefix = p.as_os_str().to_string_lossy().replace('\\', "/"),
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::ParentDir => parts.push("..".to_string()),
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("{prefix}/{joined}"),
        (false, true) if prefix.is_empty() => ".".to_string(),
        (false, _) => format!("{prefix}{joined}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_are_normalised() {
        assert_eq!(display_path(Path::new("./src/main.rs")), "src/main.rs");
        assert_eq!(display_path(Path::new("fixtures/")), "fixtures");
        assert_eq!(display_path(Path::new("././a//b.rs")), "a/b.rs");
        assert_eq!(display_path(Path::new("../x/y.py")), "../x/y.py");
        assert_eq!(display_path(Path::new("/tmp/a.rs")), "/tmp/a.rs");
        assert_eq!(display_path(Path::new(".")), ".");
    }
}
