//! Baselines: a record of the findings a project already has, so that only new ones are reported.
//!
//! A baseline file is JSON, versioned, and lists `(rule, path, fingerprint)` with a count and no
//! line numbers. Paths are relative to the baseline file's directory, so the same baseline works
//! whatever directory looplint runs from. Fingerprints do not depend on line numbers either (see
//! [`crate::report::fingerprint`]), so editing lines above a baselined finding does not bring it back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Finding;

/// Version of the baseline file format.
pub const VERSION: u32 = 1;

/// What identifies a finding in a baseline.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Rule id.
    pub rule: String,
    /// Path relative to the baseline's directory, with `/` separators.
    pub path: String,
    /// Line-independent fingerprint.
    pub fingerprint: String,
}

/// One recorded finding (or several identical ones).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Rule id.
    pub rule: String,
    /// Path relative to the baseline's directory.
    pub path: String,
    /// Fingerprint of the finding.
    pub fingerprint: String,
    /// How many findings share this key.
    pub count: u32,
    /// The message when it was recorded, for people reading the file; not used for matching.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// A baseline file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// The tool that wrote it.
    pub tool: String,
    /// Recorded findings, sorted by path, rule and fingerprint.
    pub entries: Vec<Entry>,
}

/// A baseline entry that matched fewer findings than it records: the code was fixed or changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stale {
    /// Rule id.
    pub rule: String,
    /// Path relative to the baseline's directory.
    pub path: String,
    /// Fingerprint.
    pub fingerprint: String,
    /// How many recorded findings are gone.
    pub missing: u32,
    /// The recorded message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The outcome of filtering findings through a baseline.
#[derive(Debug, Default)]
pub struct Filtered {
    /// Findings not in the baseline: the ones to report.
    pub new: Vec<Finding>,
    /// How many findings the baseline absorbed.
    pub baselined: usize,
    /// Entries that no longer match everything they record.
    pub stale: Vec<Stale>,
}

/// An error reading a baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

impl std::error::Error for BaselineError {}

impl Baseline {
    /// Records `findings`, whose keys are `keys` (same order).
    pub fn record(findings: &[Finding], keys: &[Key]) -> Baseline {
        let mut map: BTreeMap<&Key, (u32, &str)> = BTreeMap::new();
        for (f, k) in findings.iter().zip(keys) {
            let e = map.entry(k).or_insert((0, f.message.as_str()));
            e.0 += 1;
        }
        let mut entries: Vec<Entry> = map
            .into_iter()
            .map(|(k, (count, message))| Entry {
                rule: k.rule.clone(),
                path: k.path.clone(),
                fingerprint: k.fingerprint.clone(),
                count,
                message: message.to_string(),
            })
            .collect();
        entries.sort_by(|a, b| {
            (&a.path, &a.rule, &a.fingerprint).cmp(&(&b.path, &b.rule, &b.fingerprint))
        });
        Baseline {
            version: VERSION,
            tool: "looplint".to_string(),
            entries,
        }
    }

    /// Parses a baseline file's text.
    pub fn parse(file: &Path, text: &str) -> Result<Baseline, BaselineError> {
        let err = |message: String| BaselineError {
            file: file.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(format!("not a baseline file: {e}")))?;
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(err(format!(
                    "baseline version {v} is not supported (this looplint reads version {VERSION})"
                )));
            }
            None => return Err(err("not a baseline file: no `version`".into())),
        }
        serde_json::from_value(value).map_err(|e| err(format!("not a baseline file: {e}")))
    }

    /// Reads a baseline file.
    pub fn load(file: &Path) -> Result<Baseline, BaselineError> {
        let text =
            crate::readfile::read_string(file, crate::readfile::BASELINE_LIMIT).map_err(|e| {
                BaselineError {
                    file: file.to_path_buf(),
                    message: format!("cannot read baseline: {e}"),
                }
            })?;
        Baseline::parse(file, &text)
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Writes the baseline to `file`, creating parent directories.
    pub fn save(&self, file: &Path) -> std::io::Result<()> {
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        // Opening a FIFO for writing would wait for a reader: only regular files are replaced.
        if let Ok(meta) = std::fs::metadata(file)
            && !meta.is_file()
        {
            return Err(std::io::Error::other("not a regular file"));
        }
        std::fs::write(file, self.to_json())
    }

    /// Number of findings recorded.
    pub fn total(&self) -> u64 {
        self.entries.iter().map(|e| u64::from(e.count)).sum()
    }

    /// Drops the findings the baseline records (up to each entry's count, in order) and lists the
    /// entries that matched fewer findings than they record.
    pub fn filter(&self, findings: Vec<Finding>, keys: &[Key]) -> Filtered {
        let mut left: BTreeMap<Key, u32> = BTreeMap::new();
        for e in &self.entries {
            *left
                .entry(Key {
                    rule: e.rule.clone(),
                    path: e.path.clone(),
                    fingerprint: e.fingerprint.clone(),
                })
                .or_insert(0) += e.count;
        }
        let mut out = Filtered::default();
        for (f, k) in findings.into_iter().zip(keys) {
            match left.get_mut(k) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    out.baselined += 1;
                }
                _ => out.new.push(f),
            }
        }
        for e in &self.entries {
            let k = Key {
                rule: e.rule.clone(),
                path: e.path.clone(),
                fingerprint: e.fingerprint.clone(),
            };
            if let Some(n) = left.get_mut(&k)
                && *n > 0
            {
                let missing = (*n).min(e.count);
                *n -= missing;
                out.stale.push(Stale {
                    rule: e.rule.clone(),
                    path: e.path.clone(),
                    fingerprint: e.fingerprint.clone(),
                    missing,
                    message: e.message.clone(),
                });
            }
        }
        out
    }
}

/// `path` relative to `base`, with `/` separators; both are made absolute first. A path outside
/// `base` is climbed to with `..` components.
pub fn relative_path(path: &Path, base: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    let clean = |p: &Path| -> Vec<String> {
        let mut parts: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    parts.pop();
                }
                other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
            }
        }
        parts
    };
    let a = clean(&abs);
    let b = clean(&base);
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out: Vec<&str> = vec![".."; b.len() - common];
    out.extend(a[common..].iter().map(String::as_str));
    out.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::model::Span;

    fn finding(rule: &'static str) -> Finding {
        Finding::new(rule, Severity::Error, Span::new(0, 0, 1), "m")
    }

    fn key(rule: &str, path: &str, fp: &str) -> Key {
        Key {
            rule: rule.into(),
            path: path.into(),
            fingerprint: fp.into(),
        }
    }

    #[test]
    fn record_filter_and_stale() {
        let fs = vec![finding("a"), finding("a"), finding("b")];
        let keys = vec![
            key("a", "x.rs", "1"),
            key("a", "x.rs", "1"),
            key("b", "y.rs", "2"),
        ];
        let b = Baseline::record(&fs, &keys);
        assert_eq!(b.entries.len(), 2);
        assert_eq!(b.entries[0].count, 2);
        assert_eq!(b.total(), 3);
        let text = b.to_json();
        assert!(!text.contains("line"));
        let b2 = Baseline::parse(Path::new("b.json"), &text).unwrap();
        assert_eq!(b, b2);

        // The same findings: nothing new, nothing stale.
        let r = b2.filter(fs.clone(), &keys);
        assert!(r.new.is_empty() && r.stale.is_empty());
        assert_eq!(r.baselined, 3);

        // One `a` fixed, `b` fixed, a new `c`: `c` is reported, two entries are stale.
        let fs2 = vec![finding("a"), finding("c")];
        let keys2 = vec![key("a", "x.rs", "1"), key("c", "x.rs", "3")];
        let r = b2.filter(fs2, &keys2);
        assert_eq!(r.new.len(), 1);
        assert_eq!(r.new[0].rule, "c");
        assert_eq!(r.stale.len(), 2);
        assert_eq!(r.stale[0].missing, 1);

        // A third `a` beyond the recorded count is new.
        let fs3 = vec![finding("a"), finding("a"), finding("a")];
        let keys3 = vec![key("a", "x.rs", "1"); 3];
        assert_eq!(b2.filter(fs3, &keys3).new.len(), 1);
    }

    #[test]
    fn rejects_other_versions_and_garbage() {
        let p = Path::new("b.json");
        assert!(Baseline::parse(p, "{").is_err());
        assert!(Baseline::parse(p, "[]").is_err());
        let e = Baseline::parse(p, r#"{"version":2,"tool":"looplint","entries":[]}"#).unwrap_err();
        assert!(e.message.contains("version 2"));
        assert!(Baseline::parse(p, r#"{"version":1,"tool":"looplint","entries":[{}]}"#).is_err());
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(Path::new("/a/b/c.rs"), Path::new("/a")),
            "b/c.rs"
        );
        assert_eq!(
            relative_path(Path::new("/a/./b/c.rs"), Path::new("/a/d")),
            "../b/c.rs"
        );
    }
}
