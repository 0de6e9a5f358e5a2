//! Runs generated programs through looplint in-process and compares the findings with what each
//! program's description expects.
//!
//! A program is a set of files written under a fresh temporary directory. Its text tags the lines
//! where the expected finding may start: a line ending in `@@` (the place the bug breaks) or `@?`
//! (another place a report is right, such as the runtime entry that brings a shared value in). A
//! bug program needs a finding of its rule on a tagged line and none elsewhere. Tags are stripped
//! before the file is written. A program with no expected rule must stay silent.
//!
//! Outcomes are compared against two checked-in lists: known gaps (bug programs whose finding is
//! missing or lands elsewhere) and known noise (programs with a finding of another rule, each with
//! a reason). The comparison is two-sided: an unlisted failure fails, and so does a listed id
//! that now passes, so the lists only shrink as the analysis grows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use looplint::check::{CheckOptions, check};
use looplint::discover::discover;
use looplint::kb::Kb;
use looplint::report::Sources;

/// One generated program.
#[derive(Clone, Debug)]
pub struct Program {
    /// Stable id: the language, then the value of every dimension, joined by `/`.
    pub id: String,
    /// The dimensions this program was generated from, `(dimension, value)`.
    pub dims: Vec<(&'static str, String)>,
    /// The rule that must fire, or `None` for a correct twin that must stay silent.
    pub rule: Option<&'static str>,
    /// `(relative path, text with tags)`.
    pub files: Vec<(String, String)>,
    /// Other rules a program may also trigger anywhere, because its code really has that
    /// second effect (a dropped task is also still pending when its loop ends).
    pub also: Vec<&'static str>,
}

impl Program {
    /// A program from its dimensions; the id is derived from them.
    pub fn new(
        lang: &str,
        dims: Vec<(&'static str, String)>,
        rule: Option<&'static str>,
        files: Vec<(String, String)>,
    ) -> Program {
        let mut id = lang.to_string();
        for (_, v) in &dims {
            id.push('/');
            id.push_str(v);
        }
        Program {
            id,
            dims,
            rule,
            files,
            also: Vec::new(),
        }
    }

    /// Allows other rules anywhere in a program, bug or correct twin, whose generated code
    /// really has that second defect besides the one its dimensions describe (a client shared
    /// by two loops that nothing closes is also an unclosed client).
    pub fn tolerating(mut self, rules: &[&'static str]) -> Program {
        self.also.extend_from_slice(rules);
        self
    }

    /// Allows a second rule in a bug program.
    pub fn also(mut self, rules: &[&'static str]) -> Program {
        if self.rule.is_some() {
            self.also.extend_from_slice(rules);
        }
        self
    }
}

/// How one program fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// As described.
    Pass,
    /// A bug program whose expected finding is missing or lands on an untagged line.
    Gap(String),
    /// A finding the description does not allow (any finding in a correct twin, or a finding of
    /// another rule in a bug program).
    Noise(String),
}

/// A tagged line: `(relative path, 1-based line, required)`.
type Site = (String, u32, bool);

/// Strips the tags of one file, returning the clean text and the tagged lines.
pub fn strip_tags(path: &str, text: &str) -> (String, Vec<Site>) {
    let mut out = String::with_capacity(text.len());
    let mut sites = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_end();
        let (code, tag) = if let Some(code) = trimmed.strip_suffix("@@") {
            (code.trim_end(), Some(true))
        } else if let Some(code) = trimmed.strip_suffix("@?") {
            (code.trim_end(), Some(false))
        } else {
            (line, None)
        };
        if let Some(required) = tag {
            sites.push((path.to_string(), n as u32 + 1, required));
        }
        out.push_str(code);
        out.push('\n');
    }
    (out, sites)
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory under the system's temporary directory; removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `looplint-<label>-<pid>-<n>`.
    pub fn new(label: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "looplint-{label}-{}-{nanos}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A finding as the harness sees it: `(relative path, line, rule, message)`.
pub type Found = (String, u32, String, String);

/// Writes `files` under `dir` and runs a check on `dir`; returns findings with paths relative
/// to `dir`.
pub fn run_files(dir: &Path, files: &[(String, String)], kb: &Kb) -> Vec<Found> {
    write_files(dir, files);
    run_dir(dir, kb)
}

fn write_files(dir: &Path, files: &[(String, String)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, text).expect("write program file");
    }
}

/// Runs a check on `dir` as a real run would (suppressions applied).
pub fn run_dir(dir: &Path, kb: &Kb) -> Vec<Found> {
    run_dir_also(dir, kb, false)
}

/// Writes `files` under `dir` and checks them, each finding giving its primary place and the
/// primary places of the findings told as part of it (`Finding::merged`): which of those a
/// finding picks as its primary place may change when code moves, the set may not.
pub fn run_files_with_uses(dir: &Path, files: &[(String, String)], kb: &Kb) -> Vec<Found> {
    write_files(dir, files);
    run_dir_also(dir, kb, true)
}

fn run_dir_also(dir: &Path, kb: &Kb, also: bool) -> Vec<Found> {
    let discovery = discover(&[dir]);
    let db = &discovery.db;
    let enabled = |_: &str| true;
    let opts = CheckOptions {
        kb,
        enabled: &enabled,
    };
    let findings = looplint::suppress::apply(db, check(db, &opts).findings, &enabled);
    let sources = Sources::load(db, &findings);
    let mut out = Vec::new();
    for f in &findings {
        let uses = f.merged.iter().copied().filter(|_| also);
        for span in std::iter::once(f.primary).chain(uses) {
            let (start, _) = sources.positions(span);
            let path = &db.files[span.file as usize].path;
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, start.line, f.rule.to_string(), f.message.clone()));
        }
    }
    out
}

/// Runs one program and judges it against its description.
pub fn run_program(program: &Program, kb: &Kb) -> Outcome {
    let dir = TempDir::new("scenario");
    let mut files = Vec::new();
    let mut sites = Vec::new();
    for (path, text) in &program.files {
        let (clean, s) = strip_tags(path, text);
        files.push((path.clone(), clean));
        sites.extend(s);
    }
    let found = run_files(&dir.0, &files, kb);
    // `LOOPLINT_DUMP=<id part>` keeps a copy of matching programs under the temp directory.
    if let Some(want) = std::env::var_os("LOOPLINT_DUMP")
        && program.id.contains(want.to_string_lossy().as_ref())
    {
        let keep = std::env::temp_dir()
            .join("looplint-dump")
            .join(program.id.replace('/', "__"));
        let _ = std::fs::remove_dir_all(&keep);
        for (rel, text) in &files {
            let path = keep.join(rel);
            let _ = std::fs::create_dir_all(path.parent().expect("parent"));
            let _ = std::fs::write(&path, text);
        }
    }
    let found: Vec<Found> = found
        .into_iter()
        .filter(|f| !program.also.iter().any(|r| *r == f.2))
        .collect();
    judge(program.rule, &sites, &found)
}

/// Compares findings with the expected rule and tagged sites.
pub fn judge(rule: Option<&str>, sites: &[Site], found: &[Found]) -> Outcome {
    let Some(rule) = rule else {
        return match found.first() {
            None => Outcome::Pass,
            Some(f) => Outcome::Noise(show(f)),
        };
    };
    assert!(
        sites.iter().any(|s| s.2),
        "a bug program needs a tagged line (generator error)"
    );
    if let Some(f) = found.iter().find(|f| f.2 != rule) {
        return Outcome::Noise(show(f));
    }
    let at = |f: &Found, s: &Site| f.0 == s.0 && f.1 == s.1;
    if !found.iter().any(|f| sites.iter().any(|s| at(f, s))) {
        let tagged: Vec<String> = sites.iter().map(|s| format!("{}:{}", s.0, s.1)).collect();
        let elsewhere: Vec<String> = found.iter().map(show).collect();
        return Outcome::Gap(if elsewhere.is_empty() {
            format!("missing {rule} at {}", tagged.join(" or "))
        } else {
            format!(
                "missing {rule} at {}; found {}",
                tagged.join(" or "),
                elsewhere.join("; ")
            )
        });
    }
    if let Some(f) = found.iter().find(|f| !sites.iter().any(|s| at(f, s))) {
        return Outcome::Gap(format!("{rule} also at an untagged line: {}", show(f)));
    }
    Outcome::Pass
}

fn show(f: &Found) -> String {
    format!("{}:{}: {} ({})", f.0, f.1, f.2, f.3)
}

/// Reads a list of ids: one per line, `#` starts a comment (a reason), blank lines ignored.
pub fn read_list(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let (id, reason) = match line.split_once('#') {
            Some((id, reason)) => (id.trim(), reason.trim()),
            None => (line.trim(), ""),
        };
        if !id.is_empty() {
            out.insert(id.to_string(), reason.to_string());
        }
    }
    out
}

/// Runs every program (on a few threads) and returns the outcomes in program order.
pub fn run_all(programs: &[Program]) -> Vec<Outcome> {
    let kb = Kb::builtin();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; programs.len()];
    let results = std::sync::Mutex::new(&mut outcomes);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= programs.len() {
                        break;
                    }
                    let outcome = run_program(&programs[i], &kb);
                    results.lock().expect("results lock")[i] = Some(outcome);
                }
            });
        }
    });
    outcomes
        .into_iter()
        .map(|o| o.expect("every program ran"))
        .collect()
}

/// Checks outcomes against the known-gap and known-noise lists and prints per-dimension pass
/// counts. Returns the failure report (empty when everything is as listed).
pub fn reconcile(
    title: &str,
    programs: &[Program],
    outcomes: &[Outcome],
    gaps: &BTreeMap<String, String>,
    noise: &BTreeMap<String, String>,
    gaps_file: &str,
    noise_file: &str,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut stale_gaps = Vec::new();
    let mut stale_noise = Vec::new();
    let mut new_gaps = Vec::new();
    let ids: BTreeSet<&str> = programs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        programs.len(),
        "{title}: program ids must be unique"
    );
    let prefix = programs
        .first()
        .map(|p| p.id.split('/').next().unwrap_or("").to_string())
        .unwrap_or_default();
    for (program, outcome) in programs.iter().zip(outcomes) {
        let id = &program.id;
        match outcome {
            Outcome::Pass => {
                if gaps.contains_key(id) {
                    stale_gaps.push(id.clone());
                }
                if noise.contains_key(id) {
                    stale_noise.push(id.clone());
                }
            }
            Outcome::Gap(why) => {
                if !gaps.contains_key(id) {
                    new_gaps.push(id.clone());
                    failures.push(format!("{id}: {why}"));
                }
                if noise.contains_key(id) {
                    stale_noise.push(id.clone());
                }
            }
            Outcome::Noise(why) => {
                if !noise.contains_key(id) {
                    failures.push(format!("{id}: noisy: {why}"));
                }
                if gaps.contains_key(id) {
                    stale_gaps.push(id.clone());
                }
            }
        }
    }
    for id in gaps
        .keys()
        .filter(|id| id.starts_with(&format!("{prefix}/")))
    {
        match programs.iter().find(|p| &p.id == id) {
            None => failures.push(format!("{gaps_file}: `{id}` is not a generated program")),
            Some(p) if p.rule.is_none() => failures.push(format!(
                "{gaps_file}: `{id}` is a correct twin; noise is never a gap (see {noise_file})"
            )),
            Some(_) => {}
        }
    }
    for id in noise
        .keys()
        .filter(|id| id.starts_with(&format!("{prefix}/")))
    {
        if !ids.contains(id.as_str()) {
            failures.push(format!("{noise_file}: `{id}` is not a generated program"));
        }
    }
    if !stale_gaps.is_empty() {
        failures.push(format!(
            "these programs now pass; remove them from {gaps_file}:\n{}",
            stale_gaps.join("\n")
        ));
    }
    if !stale_noise.is_empty() {
        failures.push(format!(
            "these programs are no longer noisy; remove them from {noise_file}:\n{}",
            stale_noise.join("\n")
        ));
    }
    if !new_gaps.is_empty() {
        failures.push(format!(
            "new gaps (fix them, or list them in {gaps_file} if the analysis cannot see them yet):\n{}",
            new_gaps.join("\n")
        ));
    }
    print_counts(title, programs, outcomes);
    failures
}

/// Prints pass counts per dimension value, bug programs and correct twins apart.
pub fn print_counts(title: &str, programs: &[Program], outcomes: &[Outcome]) {
    // (dimension, value) -> [bug pass, bug total, twin pass, twin total]
    let mut counts: BTreeMap<(&str, &str), [usize; 4]> = BTreeMap::new();
    let mut total = [0usize; 4];
    for (p, o) in programs.iter().zip(outcomes) {
        let pass = *o == Outcome::Pass;
        let base = if p.rule.is_some() { 0 } else { 2 };
        for (dim, value) in &p.dims {
            let c = counts.entry((dim, value.as_str())).or_default();
            c[base] += usize::from(pass);
            c[base + 1] += 1;
        }
        total[base] += usize::from(pass);
        total[base + 1] += 1;
    }
    let mut out = format!(
        "\n{title}: {} programs; bug programs found {}/{}, correct twins silent {}/{}\n",
        programs.len(),
        total[0],
        total[1],
        total[2],
        total[3]
    );
    let mut last = "";
    for ((dim, value), c) in &counts {
        if *dim != last {
            out.push_str(&format!("  {dim}:\n"));
            last = dim;
        }
        out.push_str(&format!(
            "    {value:<28} bug {:>3}/{:<3}  twin {:>3}/{:<3}\n",
            c[0], c[1], c[2], c[3]
        ));
    }
    eprintln!("{out}");
}

/// Writes the current gaps (bug programs only) to `path` when `LOOPLINT_BLESS_GAPS` is set, so
/// a new dimension can start from the analysis as it is. Noise is never written.
pub fn bless_gaps(path: &Path, programs: &[Program], outcomes: &[Outcome]) {
    static BLESS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if std::env::var_os("LOOPLINT_BLESS_GAPS").is_none() {
        return;
    }
    let _one_writer = BLESS.lock().expect("bless lock");
    let prefix = programs
        .first()
        .map(|p| format!("{}/", p.id.split('/').next().unwrap_or("")))
        .unwrap_or_default();
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines: Vec<String> = existing
        .lines()
        .filter(|l| !l.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    for (p, o) in programs.iter().zip(outcomes) {
        if matches!(o, Outcome::Gap(_)) {
            lines.push(p.id.clone());
        }
    }
    std::fs::write(path, lines.join("\n") + "\n").expect("write gaps");
}
