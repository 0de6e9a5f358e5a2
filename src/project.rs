//! What a run adds around [`crate::check`]: the project's configuration (rule selection, excludes,
//! knowledge extensions), then per-file ignores, suppression comments and the baseline, and the
//! exit code.

use std::path::{Path, PathBuf};

use crate::baseline::{self, Baseline, Filtered};
use crate::check::{CheckOptions, CheckResult, check_until};
use crate::config::{Config, RuleSelection, parse_selectors};
use crate::diagnostic::{Finding, Severity};
use crate::kb::Kb;
use crate::source::SourceDb;
use crate::suppress;

/// Exit code: nothing at or above the failure level was reported.
pub const EXIT_OK: i32 = 0;
/// Exit code: findings at or above the failure level were reported.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage, configuration, I/O or internal error.
pub const EXIT_ERROR: i32 = 2;

/// Rule options given on the command line (ids, codes, code prefixes or `ALL`).
#[derive(Debug, Default, Clone)]
pub struct RuleArgs {
    /// `--select`.
    pub select: Vec<String>,
    /// `--extend-select`.
    pub extend_select: Vec<String>,
    /// `--ignore`.
    pub ignore: Vec<String>,
}

/// The configuration of a run, resolved.
#[derive(Debug)]
pub struct Setup {
    /// The configuration file's settings (defaults under `--isolated`).
    pub config: Config,
    /// Enabled rules.
    pub selection: RuleSelection,
    /// Built-in knowledge plus the project's declarations.
    pub kb: Kb,
    /// Whether warning-level rules also report test, example and bench code (`--all-targets`
    /// or `all-targets = true`).
    pub all_targets: bool,
    /// Whether failures that tests provoke and assert are reported (`--show-expected`).
    pub show_expected: bool,
}

/// Loads the configuration (`--config FILE`, or the nearest one to `start`, or none with
/// `--isolated`) and resolves the rule selection.
pub fn setup(
    start: &Path,
    config_file: Option<&Path>,
    isolated: bool,
    rules: &RuleArgs,
) -> Result<Setup, String> {
    let config = if isolated {
        Config::default()
    } else if let Some(file) = config_file {
        Config::load(file).map_err(|e| e.to_string())?
    } else {
        Config::discover(start).map_err(|e| e.to_string())?
    };
    let select = if rules.select.is_empty() {
        None
    } else {
        Some(parse_selectors(&rules.select).map_err(|e| format!("{e} in --select"))?)
    };
    let extend =
        parse_selectors(&rules.extend_select).map_err(|e| format!("{e} in --extend-select"))?;
    let ignore = parse_selectors(&rules.ignore).map_err(|e| format!("{e} in --ignore"))?;
    let selection = config.selection(select.as_deref(), &extend, &ignore);
    let kb = config.kb();
    Ok(Setup {
        all_targets: config.all_targets,
        show_expected: false,
        config,
        selection,
        kb,
    })
}

impl Setup {
    /// Drops files excluded by the configuration, except those named on the command line.
    pub fn exclude(&self, db: SourceDb, explicit: &[PathBuf]) -> SourceDb {
        if self.config.exclude.is_none() {
            return db;
        }
        let mut out = SourceDb::default();
        for f in db.files {
            if explicit.iter().any(|p| p == &f.path) || !self.config.is_excluded(&f.path) {
                out.add(f);
            }
        }
        out
    }

    /// Runs the check and applies per-file ignores and suppression comments.
    pub fn check(&self, db: &SourceDb) -> CheckResult {
        self.check_until(db, &|| false)
    }

    /// As [`Setup::check`], skipping the analysis of the programs left once `cancelled` returns
    /// true (see [`crate::check::check_until`]).
    pub fn check_until(&self, db: &SourceDb, cancelled: &(dyn Fn() -> bool + Sync)) -> CheckResult {
        let enabled = |id: &str| self.selection.is_enabled(id);
        let opts = CheckOptions {
            kb: &self.kb,
            enabled: &enabled,
        };
        let mut result = check_until(db, &opts, cancelled);
        let findings = std::mem::take(&mut result.findings);
        result.findings = self.filter(db, findings);
        result
    }

    /// Applies per-file ignores, the test-code scope of warnings and suppression comments to
    /// findings of `db`.
    pub fn filter(&self, db: &SourceDb, mut findings: Vec<Finding>) -> Vec<Finding> {
        findings.retain(|f| {
            db.files
                .get(f.primary.file as usize)
                .is_none_or(|file| !self.config.is_ignored_for(f.rule, &file.path))
        });
        if !self.show_expected {
            findings.retain(|f| !f.expected);
        }
        if !self.all_targets {
            findings.retain(|f| {
                f.severity != Severity::Warning
                    || !(f.in_test
                        || db
                            .files
                            .get(f.primary.file as usize)
                            .is_some_and(|file| is_test_path(&file.display)))
            });
        }
        let enabled = |id: &str| self.selection.is_enabled(id);
        let mut out = suppress::apply(db, findings, &enabled);
        // Unused-suppression findings obey per-file ignores too.
        out.retain(|f| {
            f.rule != suppress::UNUSED
                || db
                    .files
                    .get(f.primary.file as usize)
                    .is_none_or(|file| !self.config.is_ignored_for(f.rule, &file.path))
        });
        out
    }

    /// Which files the run reads, as configured (`max-file-size`, `include-generated`).
    pub fn read_limits(&self) -> crate::source::ReadLimits {
        crate::source::ReadLimits {
            max_file_size: self
                .config
                .max_file_size
                .unwrap_or(crate::source::DEFAULT_MAX_FILE_SIZE),
            include_generated: self.config.include_generated,
        }
    }

    /// The baseline file named by `--baseline` or the configuration, if any.
    pub fn baseline_file(&self, cli: Option<&Path>) -> Option<PathBuf> {
        cli.map(Path::to_path_buf)
            .or_else(|| self.config.baseline.clone())
    }
}

/// Whether a file is test, example or bench code by its path, as cargo and pytest lay them
/// out: under a `tests/`, `examples/` or `benches/` directory, or a pytest module
/// (`test_*.py`, `*_test.py`, `conftest.py`); documentation snippets (`docs/`) and test data
/// (`fixtures/`) are examples and tests too.
pub fn is_test_path(display: &str) -> bool {
    let path = Path::new(display);
    let in_dir = path
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .any(|c| {
            matches!(
                c.as_os_str().to_str(),
                Some("tests" | "examples" | "benches" | "docs" | "fixtures")
            )
        });
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let pytest = name.ends_with(".py")
        && (name.starts_with("test_") || name.ends_with("_test.py") || name == "conftest.py");
    in_dir || pytest
}

/// Baseline keys of `findings`: rule, path relative to `base_dir`, fingerprint computed with
/// that path.
pub fn baseline_keys(db: &SourceDb, findings: &[Finding], base_dir: &Path) -> Vec<baseline::Key> {
    let mut rel = db.clone();
    for f in &mut rel.files {
        f.display = baseline::relative_path(&f.path, base_dir);
    }
    let sources = crate::report::Sources::load(&rel, findings);
    let prints = crate::report::fingerprint::fingerprints(&rel, &sources, findings);
    findings
        .iter()
        .zip(prints)
        .map(|(f, fingerprint)| baseline::Key {
            rule: f.rule.to_string(),
            path: rel
                .files
                .get(f.primary.file as usize)
                .map_or_else(String::new, |s| s.display.clone()),
            fingerprint,
        })
        .collect()
}

/// The directory a baseline file's paths are relative to.
pub fn baseline_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes a baseline of `findings` to `file`; returns the number of findings recorded.
pub fn write_baseline(db: &SourceDb, findings: &[Finding], file: &Path) -> Result<u64, String> {
    let keys = baseline_keys(db, findings, &baseline_dir(file));
    let b = Baseline::record(findings, &keys);
    b.save(file)
        .map_err(|e| format!("{}: cannot write baseline: {e}", file.display()))?;
    Ok(b.total())
}

/// Filters `findings` through the baseline in `file`.
pub fn apply_baseline(
    db: &SourceDb,
    findings: Vec<Finding>,
    file: &Path,
) -> Result<Filtered, String> {
    let b = Baseline::load(file).map_err(|e| e.to_string())?;
    let keys = baseline_keys(db, &findings, &baseline_dir(file));
    Ok(b.filter(findings, &keys))
}

/// The exit code of a check, as ruff computes it: 2 on any error, else 1 when a finding is at or
/// above `fail_on` (any finding when `None`) unless `exit_zero`, else 0.
pub fn exit_code(
    findings: &[Finding],
    fail_on: Option<Severity>,
    exit_zero: bool,
    failed: bool,
) -> i32 {
    if failed {
        return EXIT_ERROR;
    }
    // Notes tell about the run, not the code: they never fail it.
    let threshold = fail_on.unwrap_or(Severity::Warning).max(Severity::Warning);
    if !exit_zero && findings.iter().any(|f| f.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;

    #[test]
    fn exit_codes() {
        let w = vec![Finding::new(
            "unused-suppression",
            Severity::Warning,
            Span::default(),
            "m",
        )];
        assert_eq!(exit_code(&[], None, false, false), EXIT_OK);
        assert_eq!(exit_code(&w, None, false, false), EXIT_FINDINGS);
        assert_eq!(exit_code(&w, Some(Severity::Error), false, false), EXIT_OK);
        assert_eq!(exit_code(&w, None, true, false), EXIT_OK);
        assert_eq!(exit_code(&w, None, true, true), EXIT_ERROR);
    }
}
