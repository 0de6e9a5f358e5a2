//! Project configuration: discovery (as ruff does it), parsing with line-accurate errors, rule
//! selection, per-file ignores, excludes and knowledge-base extensions.
//!
//! looplint reads the nearest of, walking up from the checked path: `.looplint.toml`,
//! `looplint.toml` (keys at the top level), `pyproject.toml` (`[tool.looplint]`) and `Cargo.toml`
//! (`[workspace.metadata.looplint]` or `[package.metadata.looplint]`). A `pyproject.toml` or
//! `Cargo.toml` without a looplint table does not count and the walk goes on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Severity;
use crate::kb::{Api, Concept, Kb, RuntimeArg};
use crate::model::Language;
use crate::rules::{self, RULES};

/// File names looked for in each directory, in order of preference.
pub const CONFIG_FILES: &[&str] = &[
    ".looplint.toml",
    "looplint.toml",
    "pyproject.toml",
    "Cargo.toml",
];

/// An error in a configuration file, with the line it is on when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line and column of the offending text, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong, as one lower-case clause.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.file.display(), self.message)
            }
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Which rule codes or ids a selector names.
fn expand_selector(selector: &str) -> Option<Vec<&'static str>> {
    if selector.eq_ignore_ascii_case("ALL") {
        return Some(RULES.iter().map(|r| r.id).collect());
    }
    if let Some(rule) = rules::find(selector) {
        return Some(vec![rule.id]);
    }
    // A code prefix such as `LL1` selects every rule whose code starts with it (ruff's style).
    let upper = selector.to_ascii_uppercase();
    if upper.len() >= 2 && upper.starts_with("LL") {
        let ids: Vec<&'static str> = RULES
            .iter()
            .filter(|r| r.code.starts_with(upper.as_str()))
            .map(|r| r.id)
            .collect();
        if !ids.is_empty() {
            return Some(ids);
        }
    }
    None
}

/// Parses a list of rule selectors given on the command line (ids, codes, code prefixes, `ALL`).
pub fn parse_selectors(list: &[String]) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for item in list {
        for s in item.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match expand_selector(s) {
                Some(ids) => out.extend(ids),
                None => return Err(rules::unknown_rule(s)),
            }
        }
    }
    Ok(out)
}

/// The rules a run reports, resolved from defaults, the configuration and the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSelection {
    enabled: Vec<&'static str>,
}

impl RuleSelection {
    /// Every rule enabled.
    pub fn all() -> Self {
        RuleSelection {
            enabled: RULES.iter().map(|r| r.id).collect(),
        }
    }

    /// Resolves the selection: `select` replaces the default set (all rules), `extend-select`
    /// adds to it, `ignore` removes from it. Each argument is a list of rule ids.
    pub fn resolve(
        select: Option<&[&'static str]>,
        extend_select: &[&'static str],
        ignore: &[&'static str],
    ) -> Self {
        let mut enabled: Vec<&'static str> = match select {
            Some(s) => s.to_vec(),
            None => RULES.iter().map(|r| r.id).collect(),
        };
        enabled.extend_from_slice(extend_select);
        enabled.retain(|id| !ignore.contains(id));
        enabled.sort_unstable();
        enabled.dedup();
        RuleSelection { enabled }
    }

    /// Whether rule `id` is enabled.
    pub fn is_enabled(&self, id: &str) -> bool {
        self.enabled.contains(&id)
    }

    /// The enabled rule ids, sorted.
    pub fn ids(&self) -> &[&'static str] {
        &self.enabled
    }
}

/// Project-declared APIs, by concept.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawKnowledge {
    #[serde(default)]
    runtime_bound: Vec<Spanned<String>>,
    #[serde(default)]
    blocking: Vec<Spanned<String>>,
    #[serde(default)]
    block_on: Vec<Spanned<String>>,
    #[serde(default)]
    spawn: Vec<Spanned<String>>,
    #[serde(default)]
    needs_runtime: Vec<Spanned<String>>,
    /// Close methods of runtime-bound types (`myapp.http.ApiClient.shutdown`).
    #[serde(default)]
    resource_close: Vec<Spanned<String>>,
    /// Blocking APIs and the async counterpart a fix uses instead; each key blocks.
    #[serde(default)]
    async_counterparts: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// The looplint table as written in a file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    select: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    extend_select: Vec<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    per_file_ignores: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    #[serde(default)]
    exclude: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    extend_exclude: Vec<Spanned<String>>,
    #[serde(default)]
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    all_targets: Option<bool>,
    #[serde(default)]
    baseline: Option<Spanned<String>>,
    #[serde(default)]
    rule_docs_url: Option<Spanned<String>>,
    #[serde(default)]
    max_file_size: Option<Spanned<RawSize>>,
    #[serde(default)]
    include_generated: Option<bool>,
    #[serde(default)]
    knowledge: RawKnowledge,
}

/// A size as written: a number of bytes, or text with a unit (`"2MB"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawSize {
    Bytes(u64),
    Text(String),
}

#[derive(Deserialize)]
struct PyProject {
    #[serde(default)]
    tool: Option<PyTool>,
}

#[derive(Deserialize)]
struct PyTool {
    #[serde(default)]
    looplint: Option<RawConfig>,
}

#[derive(Deserialize)]
struct CargoManifest {
    #[serde(default)]
    workspace: Option<CargoSection>,
    #[serde(default)]
    package: Option<CargoSection>,
}

#[derive(Deserialize)]
struct CargoSection {
    #[serde(default)]
    metadata: Option<CargoMetadata>,
}

#[derive(Deserialize)]
struct CargoMetadata {
    #[serde(default)]
    looplint: Option<RawConfig>,
}

/// Which form of configuration file a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    Plain,
    PyProject,
    Cargo,
}

fn kind_of(path: &Path) -> FileKind {
    match path.file_name().and_then(|n| n.to_str()) {
        Some("pyproject.toml") => FileKind::PyProject,
        Some("Cargo.toml") => FileKind::Cargo,
        _ => FileKind::Plain,
    }
}

/// A loaded configuration. The default value is the configuration of `--isolated`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (`None` for the defaults).
    pub file: Option<PathBuf>,
    /// The directory relative paths and globs are taken from.
    pub root: PathBuf,
    /// `select`, as rule ids.
    pub select: Option<Vec<&'static str>>,
    /// `extend-select`, as rule ids.
    pub extend_select: Vec<&'static str>,
    /// `ignore`, as rule ids.
    pub ignore: Vec<&'static str>,
    /// `per-file-ignores`: a glob and the rules it silences.
    pub per_file_ignores: Vec<PerFileIgnore>,
    /// `exclude` (replaces the defaults) and `extend-exclude`, merged.
    pub exclude: Option<Excludes>,
    /// `fail-on`.
    pub fail_on: Option<Severity>,
    /// `all-targets`: warning-level rules also look at test, example and bench code.
    pub all_targets: bool,
    /// `baseline`, resolved against [`Config::root`].
    pub baseline: Option<PathBuf>,
    /// `rule-docs-url`: where rule docs are published, a URL template with `{rule}` (the id) or
    /// `{code}`; links to rule docs are left out when neither it nor the build names one.
    pub rule_docs_url: Option<String>,
    /// Project-declared APIs, added to the knowledge base.
    pub knowledge: Vec<Api>,
    /// `max-file-size`: files above it are skipped (0: no limit).
    pub max_file_size: Option<u64>,
    /// `include-generated`: files marked generated are checked too.
    pub include_generated: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: None,
            root: PathBuf::from("."),
            select: None,
            extend_select: Vec::new(),
            ignore: Vec::new(),
            per_file_ignores: Vec::new(),
            exclude: None,
            fail_on: None,
            all_targets: false,
            baseline: None,
            rule_docs_url: None,
            knowledge: Vec::new(),
            max_file_size: None,
            include_generated: false,
        }
    }
}

/// One `per-file-ignores` entry.
#[derive(Debug, Clone)]
pub struct PerFileIgnore {
    /// The glob as written.
    pub pattern: String,
    matcher: PathGlob,
    /// Rule ids it silences.
    pub rules: Vec<&'static str>,
}

/// A glob matched as ruff does: against the path relative to the configuration's directory, and,
/// for a pattern without `/`, against the file name too.
#[derive(Debug, Clone)]
struct PathGlob {
    full: GlobMatcher,
    name: Option<GlobMatcher>,
}

impl PathGlob {
    fn new(pattern: &str) -> Result<Self, globset::Error> {
        let trimmed = pattern.trim_start_matches("./");
        let full = glob(trimmed)?.compile_matcher();
        let name = if trimmed.contains('/') {
            None
        } else {
            Some(glob(trimmed)?.compile_matcher())
        };
        Ok(PathGlob { full, name })
    }

    fn matches(&self, relative: &Path) -> bool {
        if self.full.is_match(relative) {
            return true;
        }
        match (&self.name, relative.file_name()) {
            (Some(m), Some(name)) => m.is_match(name),
            _ => false,
        }
    }
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// Exclusion globs: a path is excluded when it, or any of its ancestors below the root, matches.
#[derive(Debug, Clone)]
pub struct Excludes {
    /// The patterns as written.
    pub patterns: Vec<String>,
    set: GlobSet,
    names: GlobSet,
}

impl Excludes {
    fn new(patterns: &[(String, (usize, usize))]) -> Result<Self, (String, (usize, usize))> {
        let mut set = GlobSetBuilder::new();
        let mut names = GlobSetBuilder::new();
        for (p, pos) in patterns {
            let trimmed = p.trim_start_matches("./").trim_end_matches('/');
            let g = glob(trimmed).map_err(|e| (format!("invalid glob `{p}`: {e}"), *pos))?;
            if trimmed.contains('/') {
                set.add(g);
            } else {
                names.add(g);
            }
        }
        let set = set.build().map_err(|e| (e.to_string(), (0, 0)))?;
        let names = names.build().map_err(|e| (e.to_string(), (0, 0)))?;
        Ok(Excludes {
            patterns: patterns.iter().map(|(p, _)| p.clone()).collect(),
            set,
            names,
        })
    }

    /// Whether `relative` (a path relative to the configuration's directory) is excluded.
    pub fn is_excluded(&self, relative: &Path) -> bool {
        let mut current = Some(relative);
        while let Some(p) = current {
            if p.as_os_str().is_empty() {
                break;
            }
            if self.set.is_match(p) {
                return true;
            }
            if p.file_name().is_some_and(|name| self.names.is_match(name)) {
                return true;
            }
            current = p.parent();
        }
        false
    }
}

/// Converts a byte offset of `text` to a 1-based line and column.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let at = crate::source::LineIndex::new(text).line_col(text, offset as u32);
    (at.line as usize, at.column as usize)
}

/// A knowledge-base entry for a project-declared API. It is built through the entry's own
/// deserializer, so fields the knowledge base gains later take their defaults here too.
fn declared_api(
    api_path: &str,
    concept: Concept,
    runtime: RuntimeArg,
    language: Language,
    file: &Path,
) -> Result<Api, String> {
    let concept_name = match concept {
        Concept::RuntimeBound => "runtime-bound",
        Concept::Blocking => "blocking",
        Concept::BlockOn => "block-on",
        Concept::Spawn => "spawn",
        Concept::ResourceClose => "resource-close",
        _ => "needs-runtime",
    };
    let runtime_name = match runtime {
        RuntimeArg::Fresh => "fresh",
        RuntimeArg::Current => "current",
        RuntimeArg::Receiver => "receiver",
        RuntimeArg::Argument => "argument",
    };
    let mut table = toml::Table::new();
    table.insert("path".into(), api_path.into());
    table.insert("concept".into(), concept_name.into());
    table.insert("runtime".into(), runtime_name.into());
    table.insert(
        "note".into(),
        format!("declared in {}", file.display()).into(),
    );
    let mut api: Api = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    api.language = language;
    Ok(api)
}

impl Config {
    /// Finds and loads the configuration that applies to `start` (a file or directory), walking up
    /// through its ancestors. Returns the defaults when there is none.
    pub fn discover(start: &Path) -> Result<Config, ConfigError> {
        match find_config_file(start)? {
            Some(path) => Config::load(&path),
            None => Ok(Config::default()),
        }
    }

    /// Loads an explicit configuration file (`--config FILE`). A `pyproject.toml` or `Cargo.toml`
    /// without a looplint table gives the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            crate::readfile::read_string(path, crate::readfile::CONFIG_LIMIT).map_err(|e| {
                ConfigError {
                    file: path.to_path_buf(),
                    position: None,
                    message: format!("cannot read configuration: {e}"),
                }
            })?;
        let root = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        Config::parse(path, &root, &text, kind_of(path))
            .map(|c| c.unwrap_or_else(|| Config::default_at(path, &root)))
    }

    fn default_at(path: &Path, root: &Path) -> Config {
        Config {
            file: Some(path.to_path_buf()),
            root: root.to_path_buf(),
            ..Config::default()
        }
    }

    /// Parses configuration text. `Ok(None)` when a `pyproject.toml`/`Cargo.toml` has no looplint
    /// table.
    fn parse(
        path: &Path,
        root: &Path,
        text: &str,
        kind: FileKind,
    ) -> Result<Option<Config>, ConfigError> {
        let err_at = |offset: Option<usize>, message: String| ConfigError {
            file: path.to_path_buf(),
            position: offset.map(|o| line_col(text, o)),
            message,
        };
        let de_err = |e: toml::de::Error| {
            let message = e.message().trim().replace('\n', "; ");
            err_at(e.span().map(|s| s.start), message)
        };
        let raw = match kind {
            FileKind::Plain => Some(toml::from_str::<RawConfig>(text).map_err(de_err)?),
            FileKind::PyProject => toml::from_str::<PyProject>(text)
                .map_err(de_err)?
                .tool
                .and_then(|t| t.looplint),
            FileKind::Cargo => {
                let m = toml::from_str::<CargoManifest>(text).map_err(de_err)?;
                let ws = m
                    .workspace
                    .and_then(|w| w.metadata)
                    .and_then(|m| m.looplint);
                let pkg = m.package.and_then(|p| p.metadata).and_then(|m| m.looplint);
                ws.or(pkg)
            }
        };
        let Some(raw) = raw else {
            return Ok(None);
        };
        let default_language = match kind {
            FileKind::PyProject => Some(Language::Python),
            FileKind::Cargo => Some(Language::Rust),
            FileKind::Plain => None,
        };
        let rules_of = |list: &[Spanned<String>]| -> Result<Vec<&'static str>, ConfigError> {
            let mut out = Vec::new();
            for s in list {
                match expand_selector(s.get_ref().trim()) {
                    Some(ids) => out.extend(ids),
                    None => {
                        return Err(err_at(
                            Some(s.span().start),
                            rules::unknown_rule(s.get_ref()),
                        ));
                    }
                }
            }
            Ok(out)
        };
        let mut config = Config::default_at(path, root);
        config.select = raw.select.as_deref().map(rules_of).transpose()?;
        config.extend_select = rules_of(&raw.extend_select)?;
        config.ignore = rules_of(&raw.ignore)?;
        for (pattern, list) in &raw.per_file_ignores {
            let matcher = PathGlob::new(pattern.get_ref()).map_err(|e| {
                err_at(
                    Some(pattern.span().start),
                    format!("invalid glob `{}`: {}", pattern.get_ref(), e.kind()),
                )
            })?;
            config.per_file_ignores.push(PerFileIgnore {
                pattern: pattern.get_ref().clone(),
                matcher,
                rules: rules_of(list)?,
            });
        }
        if raw.exclude.is_some() || !raw.extend_exclude.is_empty() {
            let patterns: Vec<(String, (usize, usize))> = raw
                .exclude
                .iter()
                .flatten()
                .chain(raw.extend_exclude.iter())
                .map(|s| (s.get_ref().clone(), line_col(text, s.span().start)))
                .collect();
            let excludes = Excludes::new(&patterns).map_err(|(message, pos)| ConfigError {
                file: path.to_path_buf(),
                position: Some(pos).filter(|p| p.0 > 0),
                message,
            })?;
            config.exclude = Some(excludes);
        }
        if let Some(f) = &raw.fail_on {
            config.fail_on = Some(match f.get_ref().as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                other => {
                    return Err(err_at(
                        Some(f.span().start),
                        format!("`fail-on` must be \"error\" or \"warning\", not \"{other}\""),
                    ));
                }
            });
        }
        config.all_targets = raw.all_targets.unwrap_or(false);
        config.baseline = raw.baseline.as_ref().map(|b| root.join(b.get_ref()));
        if let Some(url) = &raw.rule_docs_url {
            let text = url.get_ref();
            let web = text.starts_with("https://") || text.starts_with("http://");
            if !web || !(text.contains("{rule}") || text.contains("{code}")) {
                return Err(err_at(
                    Some(url.span().start),
                    "`rule-docs-url` must be an http(s) URL with `{rule}` or `{code}` in it".into(),
                ));
            }
            config.rule_docs_url = Some(text.clone());
        }
        if let Some(size) = &raw.max_file_size {
            let bytes = match size.get_ref() {
                RawSize::Bytes(n) => Ok(*n),
                RawSize::Text(t) => crate::readfile::parse_size(t),
            };
            config.max_file_size =
                Some(bytes.map_err(|m| {
                    err_at(Some(size.span().start), format!("`max-file-size`: {m}"))
                })?);
        }
        config.include_generated = raw.include_generated.unwrap_or(false);
        let k = &raw.knowledge;
        let counterpart_keys: Vec<Spanned<String>> = k.async_counterparts.keys().cloned().collect();
        let groups: [(&[Spanned<String>], Concept, RuntimeArg); 7] = [
            (
                &k.runtime_bound,
                Concept::RuntimeBound,
                RuntimeArg::Receiver,
            ),
            (&k.blocking, Concept::Blocking, RuntimeArg::Receiver),
            (&k.block_on, Concept::BlockOn, RuntimeArg::Fresh),
            (&k.spawn, Concept::Spawn, RuntimeArg::Current),
            (
                &k.needs_runtime,
                Concept::NeedsRuntime,
                RuntimeArg::Receiver,
            ),
            (
                &k.resource_close,
                Concept::ResourceClose,
                RuntimeArg::Receiver,
            ),
            (&counterpart_keys, Concept::Blocking, RuntimeArg::Receiver),
        ];
        for (list, concept, runtime) in groups {
            for s in list {
                let api_path = s.get_ref().trim();
                let language = if api_path.contains("::") {
                    Language::Rust
                } else if api_path.contains('.') {
                    Language::Python
                } else if let Some(l) = default_language {
                    l
                } else {
                    return Err(err_at(
                        Some(s.span().start),
                        format!(
                            "cannot tell the language of `{api_path}`; write its full path \
                             (`crate::module::item` or `package.module.item`)"
                        ),
                    ));
                };
                if api_path.is_empty() || api_path.contains(char::is_whitespace) {
                    return Err(err_at(
                        Some(s.span().start),
                        format!("invalid path `{api_path}`"),
                    ));
                }
                let mut api = declared_api(api_path, concept, runtime, language, path)
                    .map_err(|m| err_at(Some(s.span().start), m))?;
                // A counterpart makes its key a blocking API, or names the fix of one declared
                // blocking already.
                if concept == Concept::Blocking
                    && let Some(instead) = k.async_counterparts.get(s)
                {
                    let instead = format!("`{}`", instead.get_ref().trim());
                    if let Some(known) = config.knowledge.iter_mut().find(|a| {
                        a.concept == Concept::Blocking
                            && a.path == api.path
                            && a.language == api.language
                    }) {
                        known.instead = Some(instead);
                        continue;
                    }
                    api.instead = Some(instead);
                }
                config.knowledge.push(api);
            }
        }
        Ok(Some(config))
    }

    /// Adds the project-declared APIs to a knowledge base.
    pub fn extend_kb(&self, kb: &mut Kb) {
        for api in &self.knowledge {
            kb.add(api.clone());
        }
    }

    /// The built-in knowledge base plus the project's declarations.
    pub fn kb(&self) -> Kb {
        let mut kb = Kb::builtin();
        self.extend_kb(&mut kb);
        kb
    }

    /// Resolves the rule selection, with command-line lists (rule ids) overriding the file's:
    /// a command-line `select` replaces the file's `select`; `extend-select` and `ignore` add up.
    pub fn selection(
        &self,
        cli_select: Option<&[&'static str]>,
        cli_extend_select: &[&'static str],
        cli_ignore: &[&'static str],
    ) -> RuleSelection {
        let select = cli_select.or(self.select.as_deref());
        let mut extend: Vec<&'static str> = if cli_select.is_some() {
            Vec::new()
        } else {
            self.extend_select.clone()
        };
        extend.extend_from_slice(cli_extend_select);
        let mut ignore = self.ignore.clone();
        ignore.extend_from_slice(cli_ignore);
        RuleSelection::resolve(select, &extend, &ignore)
    }

    /// `path` relative to the configuration's directory (both made absolute first), if it is
    /// under it.
    fn relative(&self, path: &Path) -> Option<PathBuf> {
        let abs = std::path::absolute(path).ok()?;
        let root = std::path::absolute(&self.root).ok()?;
        let rel = abs.strip_prefix(&root).ok()?;
        Some(normalize(rel))
    }

    /// Whether `rule` is silenced for `path` by `per-file-ignores`.
    pub fn is_ignored_for(&self, rule: &str, path: &Path) -> bool {
        if self.per_file_ignores.is_empty() {
            return false;
        }
        let rel = self.relative(path);
        let target = rel.as_deref().unwrap_or(path);
        self.per_file_ignores
            .iter()
            .any(|p| p.rules.contains(&rule) && p.matcher.matches(target))
    }

    /// Whether `path` is excluded by `exclude`/`extend-exclude`.
    pub fn is_excluded(&self, path: &Path) -> bool {
        let Some(ex) = &self.exclude else {
            return false;
        };
        let rel = self.relative(path);
        ex.is_excluded(rel.as_deref().unwrap_or(path))
    }
}

/// Drops `.` components so globs see `a/b.rs` rather than `./a/b.rs`.
fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// Finds the nearest configuration file for `start`, walking up its ancestors.
pub fn find_config_file(start: &Path) -> Result<Option<PathBuf>, ConfigError> {
    let abs = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let mut dir = if abs.is_dir() {
        Some(abs.as_path())
    } else {
        abs.parent()
    };
    while let Some(d) = dir {
        for name in CONFIG_FILES {
            let candidate = d.join(name);
            if !candidate.is_file() {
                continue;
            }
            match kind_of(&candidate) {
                FileKind::Plain => return Ok(Some(candidate)),
                kind => {
                    let Ok(text) =
                        crate::readfile::read_string(&candidate, crate::readfile::CONFIG_LIMIT)
                    else {
                        continue;
                    };
                    if !text.contains("looplint") {
                        continue;
                    }
                    if Config::parse(&candidate, d, &text, kind)?.is_some() {
                        return Ok(Some(candidate));
                    }
                }
            }
        }
        dir = d.parent();
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn discovers_nearest_file_upwards() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "looplint.toml", "ignore = [\"LL000\"]\n");
        write(
            tmp.path(),
            "sub/pyproject.toml",
            "[project]\nname = \"x\"\n",
        );
        let src = write(tmp.path(), "sub/pkg/a.py", "x = 1\n");
        let c = Config::discover(&src).unwrap();
        assert_eq!(c.file.unwrap(), tmp.path().join("looplint.toml"));
        assert_eq!(c.ignore, vec!["syntax-error"]);
    }

    #[test]
    fn pyproject_table_and_cargo_metadata_count() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "py/pyproject.toml",
            "[tool.looplint]\nfail-on = \"error\"\n[tool.looplint.knowledge]\nblock-on = [\"myapp.aio.run_async\"]\n",
        );
        let c = Config::discover(&tmp.path().join("py")).unwrap();
        assert_eq!(c.fail_on, Some(Severity::Error));
        assert_eq!(c.knowledge.len(), 1);
        assert_eq!(c.knowledge[0].language, Language::Python);
        assert_eq!(c.knowledge[0].concept, Concept::BlockOn);

        write(
            tmp.path(),
            "rs/Cargo.toml",
            "[package]\nname = \"x\"\n[package.metadata.looplint]\n[package.metadata.looplint.knowledge]\nruntime-bound = [\"x::http::ApiClient\"]\nblocking = [\"slow_io\"]\n",
        );
        let c = Config::discover(&tmp.path().join("rs/src/lib.rs")).unwrap();
        assert_eq!(c.knowledge.len(), 2);
        assert!(c.knowledge.iter().all(|a| a.language == Language::Rust));
        let kb = c.kb();
        assert!(
            kb.find(Language::Rust, "x::http::ApiClient", Concept::RuntimeBound)
                .is_some()
        );
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(
            tmp.path(),
            ".looplint.toml",
            "select = [\"ALL\"]\n\nfrobnicate = true\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(3), "{e}");
        assert!(e.message.contains("frobnicate"), "{e}");
        assert!(e.to_string().contains(".looplint.toml:3:"), "{e}");
    }

    #[test]
    fn unknown_rule_names_file_and_line() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(
            tmp.path(),
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.looplint]\nignore = [\n  \"syntax-error\",\n  \"no-such-rule\",\n]\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.position, Some((7, 3)), "{e}");
        assert!(e.message.contains("no-such-rule"));
        // Unknown keys inside the knowledge table are errors too.
        let p = write(
            tmp.path(),
            "looplint.toml",
            "[knowledge]\nblockers = [\"a.b\"]\n",
        );
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(2), "{e}");
    }

    #[test]
    fn selection_and_per_file_ignores() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(
            tmp.path(),
            "looplint.toml",
            "select = [\"LL0\"]\n[per-file-ignores]\n\"tests/*.py\" = [\"syntax-error\"]\n\"conftest.py\" = [\"LL000\"]\n",
        );
        let c = Config::load(&p).unwrap();
        let sel = c.selection(None, &[], &[]);
        assert!(sel.is_enabled("syntax-error"));
        let sel = c.selection(None, &[], &["syntax-error"]);
        assert!(!sel.is_enabled("syntax-error"));
        assert!(c.is_ignored_for("syntax-error", &tmp.path().join("tests/test_a.py")));
        assert!(!c.is_ignored_for("syntax-error", &tmp.path().join("tests/sub/test_a.py")));
        assert!(c.is_ignored_for("syntax-error", &tmp.path().join("a/b/conftest.py")));
        assert!(!c.is_ignored_for("syntax-error", &tmp.path().join("src/a.py")));
    }

    #[test]
    fn excludes_match_directories_and_names() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(
            tmp.path(),
            "looplint.toml",
            "extend-exclude = [\"vendor\", \"gen/*.rs\"]\nbaseline = \"lb.json\"\n",
        );
        let c = Config::load(&p).unwrap();
        assert!(c.is_excluded(&tmp.path().join("vendor/x/y.rs")));
        assert!(c.is_excluded(&tmp.path().join("a/vendor/y.rs")));
        assert!(c.is_excluded(&tmp.path().join("gen/y.rs")));
        assert!(!c.is_excluded(&tmp.path().join("src/gen.rs")));
        assert_eq!(c.baseline, Some(tmp.path().join("lb.json")));
    }

    #[test]
    fn bad_values_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "looplint.toml", "fail-on = \"never\"\n");
        assert_eq!(Config::load(&p).unwrap_err().position, Some((1, 11)));
        let p = write(
            tmp.path(),
            "looplint.toml",
            "[knowledge]\nspawn = [\"bare\"]\n",
        );
        assert_eq!(Config::load(&p).unwrap_err().position.map(|p| p.0), Some(2));
        let p = write(tmp.path(), "looplint.toml", "select = \"ALL\"\n");
        assert!(Config::load(&p).is_err());
        let p = write(tmp.path(), "looplint.toml", "select = [\n");
        assert!(Config::load(&p).unwrap_err().position.is_some());
    }

    #[test]
    fn cli_selectors() {
        assert_eq!(
            parse_selectors(&["LL000,".into()]).unwrap(),
            vec!["syntax-error"]
        );
        assert!(parse_selectors(&["LL999".into()]).is_err());
        assert!(parse_selectors(&["ALL".into()]).unwrap().len() == RULES.len());
    }
}
