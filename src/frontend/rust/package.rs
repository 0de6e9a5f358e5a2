//! Cargo package discovery: groups files by their nearest `Cargo.toml` with a `[package]`,
//! finds each package's target roots, and merges packages that depend on each other by path
//! into one program. Files outside every manifest are grouped as the package their layout
//! suggests (see [`manifestless`]).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::source::SourceDb;

/// Kind of a build target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// The library (`src/lib.rs`).
    Lib,
    /// A binary (`src/main.rs`, `src/bin/*`).
    Bin,
    /// An integration test (`tests/*.rs`).
    Test,
    /// An example.
    Example,
    /// A benchmark.
    Bench,
    /// The build script.
    Build,
    /// A file outside any target, lowered as a crate of its own.
    Standalone,
}

/// A target of a program: its kind, root file and package.
#[derive(Clone, Debug)]
pub struct TargetPlan {
    /// Kind.
    pub kind: TargetKind,
    /// Program-local index of the root file.
    pub root: u32,
    /// Package index in the program, if any.
    pub package: Option<u32>,
}

/// A package of a program.
#[derive(Clone, Debug)]
pub struct PackagePlan {
    /// Package directory (normalised, absolute).
    pub dir: PathBuf,
    /// Crate name of the library (`my-pkg` becomes `my_pkg`).
    pub lib_name: String,
    /// The folder whose files are the crate's modules by path (`src/`).
    pub src: PathBuf,
    /// Crate names the package's code may use for packages of this program (itself
    /// included), with the package index.
    pub crates: Vec<(String, u32)>,
}

/// One program to lower: files, packages and target roots.
#[derive(Clone, Debug, Default)]
pub struct ProgramPlan {
    /// Source-database indices; a file's program-local id is its position here.
    pub files: Vec<usize>,
    /// Normalised absolute paths, parallel to `files`.
    pub paths: Vec<PathBuf>,
    /// Package of each file.
    pub file_pkg: Vec<Option<u32>>,
    /// Packages.
    pub packages: Vec<PackagePlan>,
    /// Targets whose root file is among `files`.
    pub targets: Vec<TargetPlan>,
    /// Manifests that could not be used, each told on the first file under it (program-local
    /// id, message).
    pub manifest_problems: Vec<(u32, String)>,
}

#[derive(Debug, Default)]
struct Manifest {
    dir: PathBuf,
    src: PathBuf,
    lib_name: String,
    lib_path: PathBuf,
    /// Targets the manifest lists by path (`[[bin]]`, `[[test]]`, `[[example]]`, `[[bench]]`,
    /// the first listing of a path winning in that order): looked up once per file.
    listed: HashMap<PathBuf, TargetKind>,
    build: Option<PathBuf>,
    path_deps: Vec<(Option<String>, PathBuf)>,
}

/// Makes a path absolute and removes `.` and `..` components, without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Why a `Cargo.toml` could not be used: it cannot be read, or is not TOML.
fn manifest_problem(dir: &Path) -> Option<String> {
    let file = dir.join("Cargo.toml");
    let problem = match crate::readfile::read_string(&file, crate::readfile::CONFIG_LIMIT) {
        Err(e) => e.to_string(),
        Ok(text) => match text.parse::<toml::Table>() {
            Ok(_) => return None,
            Err(e) => e.message().trim().replace('\n', "; "),
        },
    };
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| file.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(file);
    Some(format!(
        "{}: invalid manifest ({problem}); the files under it are checked without their package",
        crate::discover::display_path(&shown)
    ))
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = crate::readfile::read_string(&dir.join("Cargo.toml"), crate::readfile::CONFIG_LIMIT)
        .ok()?;
    let table: toml::Table = text.parse().ok()?;
    let package = table.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let mut m = Manifest {
        dir: dir.to_path_buf(),
        src: dir.join("src"),
        lib_name: name.replace('-', "_"),
        lib_path: dir.join("src/lib.rs"),
        ..Manifest::default()
    };
    let rel = |s: &str| normalize(&dir.join(s));
    if let Some(lib) = table.get("lib").and_then(|l| l.as_table()) {
        if let Some(n) = lib.get("name").and_then(|v| v.as_str()) {
            m.lib_name = n.replace('-', "_");
        }
        if let Some(p) = lib.get("path").and_then(|v| v.as_str()) {
            m.lib_path = rel(p);
        }
    }
    for (key, kind) in [
        ("bin", TargetKind::Bin),
        ("test", TargetKind::Test),
        ("example", TargetKind::Example),
        ("bench", TargetKind::Bench),
    ] {
        if let Some(arr) = table.get(key).and_then(|v| v.as_array()) {
            for t in arr {
                if let Some(p) = t.get("path").and_then(|v| v.as_str()) {
                    m.listed.entry(rel(p)).or_insert(kind);
                }
            }
        }
    }
    m.build = match package.get("build") {
        Some(toml::Value::String(s)) => Some(rel(s)),
        Some(toml::Value::Boolean(false)) => None,
        _ => Some(dir.join("build.rs")),
    };
    let mut dep_tables: Vec<&toml::Table> = Vec::new();
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = table.get(key).and_then(|v| v.as_table()) {
            dep_tables.push(t);
        }
    }
    if let Some(targets) = table.get("target").and_then(|v| v.as_table()) {
        for t in targets.values().filter_map(|v| v.as_table()) {
            for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(d) = t.get(key).and_then(|v| v.as_table()) {
                    dep_tables.push(d);
                }
            }
        }
    }
    for deps in dep_tables {
        for (key, spec) in deps {
            let Some(spec) = spec.as_table() else {
                continue;
            };
            let Some(path) = spec.get("path").and_then(|v| v.as_str()) else {
                continue;
            };
            // A renamed dependency is used in code by its key; otherwise by its lib name.
            let code_name = spec.get("package").map(|_| key.replace('-', "_"));
            m.path_deps.push((code_name, rel(path)));
        }
    }
    Some(m)
}

/// The package of a file that no manifest covers (a subset of a crate, a generated tree): the
/// folder above its nearest `src` folder, with Cargo's default layout, or else its own folder
/// read as the `src` folder of a crate rooted at its `main.rs` or `lib.rs`.
fn manifestless(file: &Path) -> Manifest {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let src_dir = dir
        .ancestors()
        .find(|d| d.file_name().is_some_and(|n| n == "src"));
    let (dir, src) = match src_dir.and_then(|s| Some((s.parent()?, s))) {
        Some((pkg, src)) => (pkg.to_path_buf(), src.to_path_buf()),
        None => (dir.to_path_buf(), dir.to_path_buf()),
    };
    let name: String = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("crate")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Manifest {
        lib_name: name,
        lib_path: src.join("lib.rs"),
        listed: HashMap::from([(src.join("main.rs"), TargetKind::Bin)]),
        dir,
        src,
        ..Manifest::default()
    }
}

/// Where a file outside every manifest counts as sitting for its package: a folder `d` beside
/// a file `d.rs` holds that file's outline modules (`mod x;` in `d.rs` is `d/x.rs`), so its
/// files go with `d.rs`, folder by folder up to the first that is no such module folder.
fn module_home(file: &Path, loose: &std::collections::HashSet<PathBuf>) -> PathBuf {
    let Some(name) = file.file_name() else {
        return file.to_path_buf();
    };
    let mut dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    for _ in 0..64 {
        let (Some(up), Some(stem)) = (dir.parent(), dir.file_name()) else {
            break;
        };
        if stem == "src" {
            break;
        }
        let mut beside = stem.to_os_string();
        beside.push(".rs");
        if !loose.contains(&up.join(beside)) {
            break;
        }
        dir = up.to_path_buf();
    }
    dir.join(name)
}

fn target_kind(m: &Manifest, file: &Path) -> Option<TargetKind> {
    if file == m.lib_path {
        return Some(TargetKind::Lib);
    }
    if m.build.as_deref() == Some(file) {
        return Some(TargetKind::Build);
    }
    if let Some(&kind) = m.listed.get(file) {
        return Some(kind);
    }
    let rel = file.strip_prefix(&m.dir).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    let auto = |dir: &str| -> bool {
        match parts.as_slice() {
            [d, f] => *d == dir && f.ends_with(".rs"),
            [d, _, f] => *d == dir && *f == "main.rs",
            _ => false,
        }
    };
    match parts.as_slice() {
        ["src", "main.rs"] => return Some(TargetKind::Bin),
        ["src", "bin", f] if f.ends_with(".rs") => return Some(TargetKind::Bin),
        ["src", "bin", _, "main.rs"] => return Some(TargetKind::Bin),
        _ => {}
    }
    if auto("tests") {
        return Some(TargetKind::Test);
    }
    if auto("examples") {
        return Some(TargetKind::Example);
    }
    if auto("benches") {
        return Some(TargetKind::Bench);
    }
    None
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Groups the Rust files `files` of `db` into programs.
pub fn plan(db: &SourceDb, files: &[usize]) -> Vec<ProgramPlan> {
    let mut dir_pkg: HashMap<PathBuf, Option<usize>> = HashMap::new();
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut file_info: Vec<(usize, PathBuf, Option<usize>)> = Vec::with_capacity(files.len());
    // Manifests that could not be used: directory, message, the first file met under it.
    let mut broken: Vec<(PathBuf, String, usize)> = Vec::new();
    for &i in files {
        let path = normalize(&db.file(i).path);
        let mut visited = Vec::new();
        let mut found = None;
        let mut dir = path.parent();
        while let Some(d) = dir {
            if let Some(&cached) = dir_pkg.get(d) {
                found = cached;
                break;
            }
            visited.push(d.to_path_buf());
            if d.join("Cargo.toml").is_file() {
                if let Some(m) = read_manifest(d) {
                    manifests.push(m);
                    found = Some(manifests.len() - 1);
                    break;
                }
                if !broken.iter().any(|(dir, _, _)| dir == d)
                    && let Some(problem) = manifest_problem(d)
                {
                    broken.push((d.to_path_buf(), problem, i));
                }
            }
            dir = d.parent();
        }
        for v in visited {
            dir_pkg.insert(v, found);
        }
        file_info.push((i, path, found));
    }
    // Files outside every manifest: one package per folder their layout suggests.
    let mut manifestless_at: HashMap<PathBuf, usize> = HashMap::new();
    let loose: std::collections::HashSet<PathBuf> = file_info
        .iter()
        .filter(|(_, _, found)| found.is_none())
        .map(|(_, path, _)| path.clone())
        .collect();
    for (_, path, found) in &mut file_info {
        if found.is_none() {
            let m = manifestless(&module_home(path, &loose));
            let idx = *manifestless_at.entry(m.dir.clone()).or_insert_with(|| {
                manifests.push(m);
                manifests.len() - 1
            });
            *found = Some(idx);
        }
    }

    // Merge packages connected by path dependencies.
    let by_dir: HashMap<PathBuf, usize> = manifests
        .iter()
        .enumerate()
        .map(|(i, m)| (m.dir.clone(), i))
        .collect();
    let mut parent: Vec<usize> = (0..manifests.len()).collect();
    let mut dep_names: Vec<Vec<(String, usize)>> = vec![Vec::new(); manifests.len()];
    for (i, m) in manifests.iter().enumerate() {
        dep_names[i].push((m.lib_name.clone(), i));
        for (code_name, dir) in &m.path_deps {
            if let Some(&j) = by_dir.get(dir) {
                let name = code_name
                    .clone()
                    .unwrap_or_else(|| manifests[j].lib_name.clone());
                dep_names[i].push((name, j));
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }

    let mut programs: Vec<ProgramPlan> = Vec::new();
    let mut root_prog: HashMap<usize, usize> = HashMap::new();
    let mut pkg_local: HashMap<usize, (usize, u32)> = HashMap::new();
    for (db_idx, path, pkg) in file_info {
        let prog = match pkg {
            Some(p) => {
                let root = find(&mut parent, p);
                *root_prog.entry(root).or_insert_with(|| {
                    programs.push(ProgramPlan::default());
                    programs.len() - 1
                })
            }
            None => {
                programs.push(ProgramPlan::default());
                programs.len() - 1
            }
        };
        let local_pkg = pkg.map(|p| {
            let (_, idx) = *pkg_local.entry(p).or_insert_with(|| {
                let plan = &mut programs[prog];
                plan.packages.push(PackagePlan {
                    dir: manifests[p].dir.clone(),
                    src: manifests[p].src.clone(),
                    lib_name: manifests[p].lib_name.clone(),
                    crates: Vec::new(),
                });
                (prog, plan.packages.len() as u32 - 1)
            });
            idx
        });
        let plan = &mut programs[prog];
        let local = plan.files.len() as u32;
        let kind = match pkg {
            Some(p) => target_kind(&manifests[p], &path),
            None => Some(TargetKind::Standalone),
        };
        if let Some(kind) = kind {
            plan.targets.push(TargetPlan {
                kind,
                root: local,
                package: local_pkg,
            });
        }
        plan.files.push(db_idx);
        plan.paths.push(path);
        plan.file_pkg.push(local_pkg);
    }
    // Crate names visible to each package, restricted to packages of the same program.
    for (&global, &(prog, local)) in &pkg_local {
        let mut crates: Vec<(String, u32)> = dep_names[global]
            .iter()
            .filter_map(|(name, j)| {
                pkg_local
                    .get(j)
                    .filter(|(p, _)| *p == prog)
                    .map(|(_, l)| (name.clone(), *l))
            })
            .collect();
        crates.sort();
        crates.dedup();
        programs[prog].packages[local as usize].crates = crates;
    }
    // The library is listed first so that files reachable from several roots mount there.
    for p in &mut programs {
        p.targets
            .sort_by_key(|t| (t.kind != TargetKind::Lib, t.root));
    }
    for (_, message, db_idx) in broken {
        let at = programs.iter_mut().find_map(|plan| {
            let k = plan.files.iter().position(|&f| f == db_idx)?;
            Some((plan, k as u32))
        });
        if let Some((plan, k)) = at {
            plan.manifest_problems.push((k, message));
        }
    }
    programs
}
