//! Python projects: which files form one program, and the module name of each file.
//!
//! A project is the nearest ancestor directory holding `pyproject.toml`, `setup.py` or
//! `setup.cfg`; files with no such ancestor belong to the directory they were found under (the
//! input directory). Module names come from the path relative to the project root, and also
//! from the chain of `__init__.py` packages above the file (so `src/` layouts resolve).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};

use crate::source::SourceDb;

/// Files that marks a project root.
const ROOT_MARKERS: &[&str] = &["pyproject.toml", "setup.py", "setup.cfg"];

/// One file of a project.
#[derive(Debug, Clone)]
pub struct ModuleFile {
    /// Index in the source database.
    pub source: usize,
    /// Canonical dotted module name (`pkg.client`, `pkg` for `pkg/__init__.py`).
    pub name: String,
    /// Other names the module can be imported under (root-relative path when it differs).
    pub aliases: Vec<String>,
    /// Whether the file is a package's `__init__.py`.
    pub is_package: bool,
    /// File stem (`test_api`, `conftest`, `views`).
    pub stem: String,
}

/// A group of files analysed as one program.
#[derive(Debug, Clone)]
pub struct Project {
    /// Root directory.
    pub root: PathBuf,
    /// Files, in source-database order.
    pub files: Vec<ModuleFile>,
}

/// pytest-asyncio settings of a project (`asyncio_default_*_loop_scope`).
#[derive(Debug, Clone, Default)]
pub struct PytestConfig {
    /// Default loop scope of async tests.
    pub test_loop_scope: Option<String>,
    /// Executor of async tests and fixtures with no mark: asyncio under pytest-asyncio's
    /// `asyncio_mode = auto`, trio under pytest-trio's `trio_mode = true`.
    pub default_executor: Option<crate::model::Executor>,
    /// Default loop scope of async fixtures.
    pub fixture_loop_scope: Option<String>,
}

/// Reads the pytest-asyncio loop-scope settings from the project's configuration files, with
/// a plain line scan (`key = value` under any section).
pub fn pytest_config(root: &Path) -> PytestConfig {
    let mut cfg = PytestConfig::default();
    for name in ["pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini"] {
        let Ok(text) =
            crate::readfile::read_string(&root.join(name), crate::readfile::CONFIG_LIMIT)
        else {
            continue;
        };
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            match key.trim() {
                "asyncio_default_test_loop_scope" => cfg.test_loop_scope = Some(value),
                "asyncio_default_fixture_loop_scope" => cfg.fixture_loop_scope = Some(value),
                "asyncio_mode" if value == "auto" => {
                    cfg.default_executor = Some(crate::model::Executor::Asyncio)
                }
                "trio_mode" if value.eq_ignore_ascii_case("true") => {
                    cfg.default_executor = Some(crate::model::Executor::Trio)
                }
                _ => {}
            }
        }
    }
    cfg
}

/// Groups `files` (indices into `db`) into projects, in a deterministic order.
pub fn group(db: &SourceDb, files: &[usize]) -> Vec<Project> {
    let known: HashSet<&Path> = db.files.iter().map(|f| f.path.as_path()).collect();
    let exists = |p: &Path| known.contains(p) || p.is_file();
    let mut marker_cache: HashMap<PathBuf, bool> = HashMap::default();
    let mut by_root: HashMap<PathBuf, Vec<usize>> = HashMap::default();
    let mut order: Vec<PathBuf> = Vec::new();
    // Files shown by absolute path do not tell which input they were found under: they share
    // the deepest directory that holds all of them.
    let unanchored: Vec<&Path> = files
        .iter()
        .map(|&i| db.file(i))
        .filter(|f| Path::new(&f.display).is_absolute())
        .map(|f| f.path.as_path())
        .collect();
    let common = common_dir(&unanchored);
    for &i in files {
        let f = db.file(i);
        let root = marked_root(&f.path, &mut marker_cache, &exists).unwrap_or_else(|| {
            match (&common, Path::new(&f.display).is_absolute()) {
                (Some(dir), true) => dir.clone(),
                _ => input_root(&f.path, &f.display),
            }
        });
        let entry = by_root.entry(root.clone()).or_default();
        if entry.is_empty() {
            order.push(root);
        }
        entry.push(i);
    }
    let mut init_cache: HashMap<PathBuf, bool> = HashMap::default();
    let mut out = Vec::with_capacity(order.len());
    for root in order {
        let members = by_root.remove(&root).unwrap_or_default();
        let marked = marker_cache.get(&root).copied().unwrap_or(false);
        // A marked project is one program unless two of its modules share a name; a folder
        // with no marker may hold several programs side by side.
        let files: Vec<ModuleFile> = members
            .iter()
            .map(|&i| module_file(db, i, &root, &mut init_cache, &exists))
            .collect();
        let mut names = HashSet::default();
        let shared_name = files.iter().any(|f| !names.insert(f.name.as_str()));
        if members.len() < 2 || (marked && !shared_name) {
            out.push(Project { root, files });
            continue;
        }
        let parts = super::split::split(db, &root, &members);
        let several = parts.len() > 1;
        // A part under the same root names its files as above: they are not named twice.
        let mut named: HashMap<usize, ModuleFile> = members.iter().copied().zip(files).collect();
        for part in parts {
            let proot = if marked || !several {
                root.clone()
            } else {
                let dirs: Vec<&Path> = part
                    .files
                    .iter()
                    .map(|&i| db.file(i).path.as_path())
                    .collect();
                common_dir(&dirs).unwrap_or_else(|| root.clone())
            };
            let files = part
                .files
                .iter()
                .map(|&i| {
                    let mut mf = match named.remove(&i).filter(|_| proot == root) {
                        Some(mf) => mf,
                        None => module_file(db, i, &proot, &mut init_cache, &exists),
                    };
                    for a in part.aliases.get(&i).into_iter().flatten() {
                        if *a != mf.name && !mf.aliases.contains(a) {
                            mf.aliases.push(a.clone());
                        }
                    }
                    mf
                })
                .collect();
            out.push(Project { root: proot, files });
        }
    }
    out
}

/// The nearest ancestor of `path` that holds a project marker.
fn marked_root(
    path: &Path,
    cache: &mut HashMap<PathBuf, bool>,
    exists: &dyn Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let mut dir = path.parent();
    let mut depth = 0;
    while let Some(d) = dir {
        if depth > 64 {
            break;
        }
        let has = *cache
            .entry(d.to_path_buf())
            .or_insert_with(|| ROOT_MARKERS.iter().any(|m| exists(&d.join(m))));
        if has {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
        depth += 1;
    }
    None
}

/// The deepest directory that contains every path.
fn common_dir(paths: &[&Path]) -> Option<PathBuf> {
    let first = paths.first()?.parent()?;
    let mut common: PathBuf = first.to_path_buf();
    for p in &paths[1..] {
        while !p.starts_with(&common) {
            if !common.pop() {
                return None;
            }
        }
    }
    Some(common)
}

/// The input directory a file was found under: its path with the display suffix removed.
fn input_root(path: &Path, display: &str) -> PathBuf {
    let shown = Path::new(display);
    if shown.is_relative() {
        let mut p = path.to_path_buf();
        let n = shown.components().count();
        let mut ok = true;
        for _ in 0..n {
            if !p.pop() {
                ok = false;
                break;
            }
        }
        if ok {
            return p;
        }
    }
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn module_file(
    db: &SourceDb,
    source: usize,
    root: &Path,
    init_cache: &mut HashMap<PathBuf, bool>,
    exists: &dyn Fn(&Path) -> bool,
) -> ModuleFile {
    let path = &db.file(source).path;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let is_package = stem == "__init__";
    // Package chain: parent directories holding `__init__.py`.
    let mut parts: Vec<String> = Vec::new();
    if !is_package {
        parts.push(stem.clone());
    }
    let mut dir = path.parent();
    let mut depth = 0;
    while let Some(d) = dir {
        if depth > 64 {
            break;
        }
        let has_init = *init_cache
            .entry(d.to_path_buf())
            .or_insert_with(|| exists(&d.join("__init__.py")));
        let is_pkg_dir = has_init || (is_package && depth == 0);
        if !is_pkg_dir {
            break;
        }
        match d.file_name().and_then(|n| n.to_str()) {
            Some(n) => parts.push(n.to_string()),
            None => break,
        }
        dir = d.parent();
        depth += 1;
    }
    parts.reverse();
    let canonical = parts.join(".");
    // Root-relative name.
    let mut aliases = Vec::new();
    if let Ok(rel) = path.strip_prefix(root) {
        let mut segs: Vec<String> = rel
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect();
        if let Some(last) = segs.pop() {
            let last_stem = last.strip_suffix(".py").unwrap_or(&last).to_string();
            if last_stem != "__init__" {
                segs.push(last_stem);
            }
        }
        if segs.first().map(String::as_str) == Some("src") && segs.len() > 1 {
            aliases.push(segs[1..].join("."));
        }
        let rel_name = segs.join(".");
        if !rel_name.is_empty() {
            aliases.push(rel_name);
        }
    }
    let mut seen = HashSet::default();
    seen.insert(canonical.clone());
    aliases.retain(|a| seen.insert(a.clone()));
    let name = if canonical.is_empty() {
        aliases.first().cloned().unwrap_or_default()
    } else {
        canonical
    };
    ModuleFile {
        source,
        name,
        aliases,
        is_package,
        stem,
    }
}

/// The absolute module a relative import (`from ..x import y`, `level` dots) refers to.
pub fn resolve_relative(
    current: &str,
    is_package: bool,
    level: u32,
    module: Option<&str>,
) -> String {
    let mut parts: Vec<&str> = if current.is_empty() {
        Vec::new()
    } else {
        current.split('.').collect()
    };
    if !is_package {
        parts.pop();
    }
    for _ in 1..level {
        parts.pop();
    }
    let mut base = parts.join(".");
    if let Some(m) = module.filter(|m| !m.is_empty()) {
        if !base.is_empty() {
            base.push('.');
        }
        base.push_str(m);
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports_climb_packages() {
        assert_eq!(
            resolve_relative("pkg.sub.mod", false, 1, Some("client")),
            "pkg.sub.client"
        );
        assert_eq!(
            resolve_relative("pkg.sub.mod", false, 2, Some("client")),
            "pkg.client"
        );
        assert_eq!(resolve_relative("pkg.sub", true, 1, Some("x")), "pkg.sub.x");
        assert_eq!(resolve_relative("pkg.sub.mod", false, 1, None), "pkg.sub");
    }

    #[test]
    fn common_dir_of_nested_files() {
        let a = Path::new("/x/fix/report.py");
        let b = Path::new("/x/fix/services/billing.py");
        assert_eq!(common_dir(&[a, b]), Some(PathBuf::from("/x/fix")));
        assert_eq!(common_dir(&[b]), Some(PathBuf::from("/x/fix/services")));
    }

    #[test]
    fn input_root_strips_the_display_path() {
        assert_eq!(
            input_root(Path::new("/a/b/c/x.py"), "c/x.py"),
            PathBuf::from("/a/b")
        );
        assert_eq!(input_root(Path::new("x.py"), "x.py"), PathBuf::from(""));
    }
}
