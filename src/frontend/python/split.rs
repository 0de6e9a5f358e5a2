//! Independent programs inside one project directory: a folder of example scripts, a monorepo
//! with `services/a/app.py` and `services/b/app.py`. Files join one program when they sit in
//! one directory, when a `conftest.py` applies to them, or when one imports the other, with
//! imports resolved as Python would for a script (its own directory first, then the directories
//! above it up to the root, then their `src/`) and, failing that, by a unique path suffix.
//! A module name shared by two such programs never merges them.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::source::SourceDb;

/// One group of files and the module names imports reach them by, beyond their own.
pub struct Part {
    /// The files (indices into the source database).
    pub files: Vec<usize>,
    /// Extra module names of files, by source index.
    pub aliases: HashMap<usize, Vec<String>>,
}

/// Splits the files under `root` into independent programs.
pub fn split(db: &SourceDb, root: &Path, files: &[usize]) -> Vec<Part> {
    let n = files.len();
    // Paths are normalised (as their components spell them), so that every path built from
    // them by joining plain names is too, and two paths are equal when their bytes are: the
    // lookups hash bytes, not components.
    let owned: Vec<PathBuf> = files
        .iter()
        .map(|&i| db.file(i).path.components().collect())
        .collect();
    let paths: Vec<&Path> = owned.iter().map(PathBuf::as_path).collect();
    let by_path: HashMap<&OsStr, usize> = paths
        .iter()
        .enumerate()
        .map(|(k, p)| (p.as_os_str(), k))
        .collect();
    let mut dirs: HashSet<&OsStr> = HashSet::default();
    for p in &paths {
        let mut d = p.parent();
        while let Some(x) = d {
            if !x.starts_with(root) || !dirs.insert(x.as_os_str()) {
                break;
            }
            d = x.parent();
        }
    }
    let names = Names::new(&paths);
    let tree = Tree {
        files: &by_path,
        dirs: &dirs,
        names: &names,
    };
    let mut uf = UnionFind::new(n);
    // One directory, one program; a package with its parent package.
    let mut first_in_dir: HashMap<&OsStr, usize> = HashMap::default();
    for (k, p) in paths.iter().enumerate() {
        if let Some(d) = p.parent().map(Path::as_os_str) {
            match first_in_dir.get(d) {
                Some(&j) => uf.union(j, k),
                None => {
                    first_in_dir.insert(d, k);
                }
            }
        }
    }
    for (k, p) in paths.iter().enumerate() {
        if p.file_name().is_some_and(|f| f == "__init__.py")
            && let Some(parent) = p.parent().and_then(Path::parent)
            && let Some(&j) = by_path.get(parent.join("__init__.py").as_os_str())
        {
            uf.union(j, k);
        }
    }
    // A conftest applies to every test below it.
    for (k, p) in paths.iter().enumerate() {
        if p.file_name().is_some_and(|f| f == "conftest.py")
            && let Some(d) = p.parent()
        {
            for (j, q) in paths.iter().enumerate() {
                if q.starts_with(d) {
                    uf.union(j, k);
                }
            }
        }
    }
    // Imports.
    let mut aliases: HashMap<usize, Vec<String>> = HashMap::default();
    let mut suffixes: HashMap<String, Option<usize>> = HashMap::default();
    for (k, p) in paths.iter().enumerate() {
        if let Ok(rel) = p.strip_prefix(root) {
            let segs: Vec<String> = rel
                .with_extension("")
                .components()
                .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
                .collect();
            let segs: Vec<&str> = match segs.last().map(String::as_str) {
                Some("__init__") => segs[..segs.len() - 1].iter().map(String::as_str).collect(),
                _ => segs.iter().map(String::as_str).collect(),
            };
            for start in 0..segs.len() {
                let key = segs[start..].join(".");
                suffixes
                    .entry(key)
                    .and_modify(|slot| *slot = None)
                    .or_insert(Some(k));
            }
        }
    }
    // Files are read and their imports scanned and resolved in parallel; the links are then
    // joined in file order.
    let links: Vec<Vec<(usize, Option<String>)>> = (0..n)
        .into_par_iter()
        .map(|k| {
            let (Ok(imports), Some(dir)) =
                (db.with_text(files[k], scan_imports), paths[k].parent())
            else {
                return Vec::new();
            };
            // The directories a plain import is looked up from: the file's own, then those
            // above it up to the root.
            let mut ancestors = Vec::new();
            let mut d = Some(dir);
            while let Some(x) = d {
                ancestors.push(x);
                if x == root || !x.starts_with(root) {
                    break;
                }
                d = x.parent();
            }
            let mut links = Vec::new();
            for imp in imports {
                let found = resolve(&imp, dir, &ancestors, &tree);
                if found.is_empty() && imp.level == 0 && imp.module.contains('.') {
                    if let Some(Some(j)) = suffixes.get(&imp.module) {
                        links.push((*j, Some(imp.module)));
                    }
                    continue;
                }
                links.extend(found);
            }
            links
        })
        .collect();
    for (k, links) in links.into_iter().enumerate() {
        for (j, alias) in links {
            uf.union(j, k);
            if let Some(a) = alias {
                aliases.entry(files[j]).or_default().push(a);
            }
        }
    }
    let mut parts: Vec<Part> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::default();
    for (k, &f) in files.iter().enumerate() {
        let r = uf.find(k);
        let at = *index.entry(r).or_insert_with(|| {
            parts.push(Part {
                files: Vec::new(),
                aliases: HashMap::default(),
            });
            parts.len() - 1
        });
        parts[at].files.push(f);
        if let Some(a) = aliases.remove(&f) {
            parts[at].aliases.insert(f, a);
        }
    }
    parts
}

/// One import statement: `from ..a.b import c, d` is level 2, module `a.b`, names `c`, `d`.
#[derive(Debug, PartialEq, Eq)]
struct Import {
    level: u32,
    module: String,
    names: Vec<String>,
}

/// The files and directories of the tree being split, for resolving imports.
struct Tree<'a> {
    /// Normalised file paths, with their positions.
    files: &'a HashMap<&'a OsStr, usize>,
    /// Directories holding files, up to the root.
    dirs: &'a HashSet<&'a OsStr>,
    names: &'a Names<'a>,
}

/// Every name a path of the tree holds: its directories' and files' names, and the names of
/// its `.py` files without the extension. A module name that is none of these reaches no file,
/// whatever directory it is looked up from.
struct Names<'a>(HashSet<&'a str>);

impl<'a> Names<'a> {
    fn new(paths: &[&'a Path]) -> Self {
        let mut set = HashSet::default();
        for p in paths {
            for c in p.components() {
                if let Some(name) = c.as_os_str().to_str() {
                    set.insert(name);
                    if let Some(stem) = name.strip_suffix(".py") {
                        set.insert(stem);
                    }
                }
            }
        }
        Names(set)
    }

    /// Whether joining `name` to a directory of the tree (and adding `.py`) may give one of
    /// its paths. A name with a dot is not looked at (`with_extension` would cut it there).
    fn may_exist(&self, name: &str) -> bool {
        name.contains('.') || self.0.contains(name)
    }
}

/// The files an import reaches, each with the module name it reaches it by when that name is
/// not the file's path from the root.
fn resolve(
    imp: &Import,
    dir: &Path,
    ancestors: &[&Path],
    tree: &Tree<'_>,
) -> Vec<(usize, Option<String>)> {
    let (files, dirs) = (tree.files, tree.dirs);
    let mut out = Vec::new();
    let parts: Vec<&str> = imp.module.split('.').filter(|s| !s.is_empty()).collect();
    // A first name that no path holds is found under no base.
    if parts
        .first()
        .is_some_and(|first| !tree.names.may_exist(first))
    {
        return out;
    }
    // Each base is a directory, with `src/` below it or not.
    let bases: Vec<(std::borrow::Cow<'_, Path>, bool)> = if imp.level > 0 {
        let mut d = dir.to_path_buf();
        for _ in 1..imp.level {
            if !d.pop() {
                return out;
            }
        }
        vec![(d.into(), false)]
    } else {
        ancestors
            .iter()
            .flat_map(|&x| [(x.into(), false), (x.into(), true)])
            .collect()
    };
    let mut head = PathBuf::new();
    for (dir, src) in bases {
        let base = || match src {
            true => dir.join("src"),
            false => dir.to_path_buf(),
        };
        let Some(first) = parts.first() else {
            // `from . import a, b`: sibling modules.
            let base = base();
            for name in imp.names.iter().filter(|n| tree.names.may_exist(n)) {
                push_module(&base.join(name), files, None, &mut out);
            }
            if !out.is_empty() {
                break;
            }
            continue;
        };
        head.clear();
        head.push(&dir);
        if src {
            head.push("src");
        }
        head.push(first);
        if !dirs.contains(head.as_os_str()) && {
            head.set_extension("py");
            !files.contains_key(head.as_os_str())
        } {
            continue;
        }
        let base = base();
        let mut at = base.clone();
        let mut dotted = String::new();
        // Below a name that no path holds, no file is found.
        let mut open = true;
        for part in &parts {
            if !tree.names.may_exist(part) {
                open = false;
                break;
            }
            at.push(part);
            if !dotted.is_empty() {
                dotted.push('.');
            }
            dotted.push_str(part);
            let alias = (imp.level == 0).then(|| dotted.clone());
            push_module(&at, files, alias, &mut out);
        }
        for name in imp.names.iter().filter(|n| open && tree.names.may_exist(n)) {
            let alias = (imp.level == 0).then(|| format!("{dotted}.{name}"));
            push_module(&at.join(name), files, alias, &mut out);
        }
        break;
    }
    out
}

/// Adds the module file at `path` (`path.py` or `path/__init__.py`), if it is one of ours.
fn push_module(
    path: &Path,
    files: &HashMap<&OsStr, usize>,
    alias: Option<String>,
    out: &mut Vec<(usize, Option<String>)>,
) {
    let mut candidate = path.join("__init__.py");
    let init = files.get(candidate.as_os_str()).copied();
    candidate.pop();
    candidate.set_extension("py");
    if let Some(&j) = files.get(candidate.as_os_str()) {
        out.push((j, alias.clone()));
    }
    if let Some(j) = init {
        out.push((j, alias));
    }
}

/// The lines of a text from a position on, as [`str::lines`] splits them.
struct LineCursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for LineCursor<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = &self.text[self.pos..];
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(at) => {
                self.pos += at + 1;
                let line = &rest[..at];
                Some(line.strip_suffix('\r').unwrap_or(line))
            }
            None => {
                self.pos = self.text.len();
                Some(rest)
            }
        }
    }
}

/// The import statements of a module, from its text (no parse): `import a.b as c`, `from x
/// import (y, z)`, at any indentation.
fn scan_imports(text: &str) -> Vec<Import> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    // Both forms hold `import`: only the lines that do are looked at.
    let finder = memchr::memmem::Finder::new(b"import");
    let mut lines = LineCursor { text, pos: 0 };
    while let Some(hit) = finder.find(&bytes[lines.pos..]) {
        let from = lines.pos;
        lines.pos =
            memchr::memrchr(b'\n', &bytes[from..from + hit]).map_or(from, |at| from + at + 1);
        let Some(line) = lines.next() else { break };
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("import ") {
            for item in strip_comment(rest).split(',') {
                let module = item.split_whitespace().next().unwrap_or("");
                if is_dotted(module) {
                    out.push(Import {
                        level: 0,
                        module: module.to_string(),
                        names: Vec::new(),
                    });
                }
            }
        } else if let Some(rest) = t.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                continue;
            };
            let module = module.trim();
            let level = module.chars().take_while(|&c| c == '.').count() as u32;
            let module = &module[level as usize..];
            if !module.is_empty() && !is_dotted(module) {
                continue;
            }
            let mut names = strip_comment(names).to_string();
            if names.contains('(') && !names.contains(')') {
                for more in lines.by_ref().take(200) {
                    names.push(' ');
                    names.push_str(strip_comment(more));
                    if more.contains(')') {
                        break;
                    }
                }
            }
            let names = names
                .trim_end_matches('\\')
                .replace(['(', ')'], " ")
                .split(',')
                .filter_map(|n| n.split_whitespace().next())
                .filter(|n| is_dotted(n) && *n != "*")
                .map(str::to_string)
                .collect();
            out.push(Import {
                level,
                module: module.to_string(),
                names,
            });
        }
    }
    out
}

fn strip_comment(s: &str) -> &str {
    s.split('#').next().unwrap_or(s)
}

fn is_dotted(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// A union-find over `0..n`.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_join_files_whatever_way_their_paths_are_spelled() {
        use crate::model::Language;
        use crate::source::SourceFile;
        let mut db = SourceDb::default();
        let mut add = |path: &str, text: &str| {
            db.add(SourceFile {
                path: PathBuf::from(path),
                display: path.to_string(),
                language: Language::Python,
                overlay: Some(text.into()),
            })
        };
        let files = vec![
            add(
                "/r/./app/main.py",
                "from lib.util import helper\nimport os\n",
            ),
            add("/r/src/lib/util.py", "x = 1\n"),
            add("/r/tools/run.py", "from . import other\n"),
            add("/r/tools//other.py", ""),
            add(
                "/r/solo/alone.py",
                "import missing.name\nfrom os.path import join\n",
            ),
        ];
        let parts = split(&db, Path::new("/r/"), &files);
        let got: Vec<&[usize]> = parts.iter().map(|p| p.files.as_slice()).collect();
        assert_eq!(got, vec![&[0, 1][..], &[2, 3][..], &[4][..]]);
        assert_eq!(
            parts[0].aliases.get(&1),
            Some(&vec!["lib.util".to_string()])
        );
    }

    #[test]
    fn imports_are_scanned_from_text() {
        let text = "import os, a.b as c\nfrom .x import y\nfrom ..pkg.mod import (\n    f,\n    g,  # note\n)\n    from z import *\n";
        let got = scan_imports(text);
        let modules: Vec<(u32, &str, usize)> = got
            .iter()
            .map(|i| (i.level, i.module.as_str(), i.names.len()))
            .collect();
        assert_eq!(
            modules,
            vec![
                (0, "os", 0),
                (0, "a.b", 0),
                (1, "x", 1),
                (2, "pkg.mod", 2),
                (0, "z", 0)
            ]
        );
    }

    #[test]
    fn import_lines_are_found_among_others() {
        let text = "x = 'important'\r\nfrom a import (b,\r\n  import_c)  # import d\r\nfrom e import f\n\t import g\r";
        let got = scan_imports(text);
        let modules: Vec<(&str, Vec<&str>)> = got
            .iter()
            .map(|i| {
                (
                    i.module.as_str(),
                    i.names.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            modules,
            vec![
                ("a", vec!["b", "import_c"]),
                ("e", vec!["f"]),
                ("g", vec![])
            ]
        );
    }
}
