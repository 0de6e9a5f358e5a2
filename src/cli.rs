//! The command line: `looplint check`, `looplint rule`, `looplint rules`, and the hidden
//! `looplint debug lower`.
//!
//! Exit codes, as ruff's: 0 when nothing at or above `--fail-on` was reported (default: nothing at
//! all), 1 when such diagnostics were reported (0 with `--exit-zero`), 2 on a usage, configuration
//! or I/O error (an input that cannot be read, an output file that cannot be written), whatever
//! `--exit-zero` says. An I/O error on one input does not stop the others from being checked.
//! `cargo looplint` passes a default `--fail-on error`, so warnings pass as with `cargo clippy`.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::discover::discover;
use crate::frontend;
use crate::kb::Kb;
use crate::model::Language;
use crate::project;
use crate::report::{self, Format, Report, Style, escape};
use crate::rules::{self, RULES, Rule};
use crate::source::{SourceDb, SourceFile, language_of};

/// Exit code: nothing was reported.
pub const EXIT_OK: i32 = 0;
/// Exit code: diagnostics were reported.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_ERROR: i32 = 2;

/// looplint finds runtime-lifecycle bugs in async Rust and async Python.
#[derive(Debug, Parser)]
#[command(name = "looplint", version, about, propagate_version = true)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files and directories for runtime-lifecycle bugs.
    Check(Box<CheckArgs>),
    /// Print the documentation of a rule.
    Rule(RuleArgs),
    /// List every rule.
    Rules(RulesArgs),
    /// Run the language server (LSP over stdio) for editors.
    Server,
    /// Developer tools.
    #[command(hide = true, subcommand)]
    Debug(DebugCommand),
}

/// Subcommands of the hidden `looplint debug`.
#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Print the lifecycle model lowered from a file or directory.
    Lower {
        /// The file or directory to lower.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

/// Arguments of `looplint check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format (ruff's names; `--format` is the same option).
    #[arg(
        long = "output-format",
        visible_alias = "format",
        value_enum,
        value_name = "FORMAT",
        default_value_t = Format::Human
    )]
    pub format: Format,
    /// Only report these rules (ids or codes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,
    /// Do not report these rules (ids or codes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the number of findings per rule instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Exit with 0 even when diagnostics are reported (errors still exit with 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Never use colours.
    #[arg(long)]
    pub no_color: bool,
    /// Also report warnings in test, example and bench code (errors are always reported).
    #[arg(long)]
    pub all_targets: bool,
    /// Also report failures that tests provoke on purpose and assert (`#[should_panic]`,
    /// `pytest.raises`), at note level.
    #[arg(long)]
    pub show_expected: bool,
    /// Also report these rules, on top of the selection (ids, codes, code prefixes or `ALL`).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub extend_select: Vec<String>,
    /// Use this configuration file instead of the nearest one.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,
    /// Exit with 1 only for findings at or above this severity (default: any finding).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Report only findings that are not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in a baseline file and exit (default file: the configured
    /// `baseline`, else `looplint-baseline.json`).
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    #[allow(clippy::option_option)]
    pub write_baseline: Option<Option<PathBuf>>,
    /// The path of the file read from standard input (`looplint check -`): it picks the language
    /// and the configuration, and names the file in the report.
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Print the files that would be checked, one per line, and exit.
    #[arg(long, conflicts_with = "show_settings")]
    pub show_files: bool,
    /// Print the settings in effect (configuration file, rules, options) and exit.
    #[arg(long)]
    pub show_settings: bool,
    /// The `--fail-on` level when neither the command line nor the configuration sets one
    /// (`cargo looplint` passes `error`, as `cargo clippy` lets warnings pass).
    #[arg(long, value_enum, value_name = "SEVERITY", hide = true)]
    pub default_fail_on: Option<FailOn>,
    /// Skip files larger than SIZE, with a note (bytes, or with a unit: `2MB`, `512KiB`; `0`
    /// checks every file; default: the configured `max-file-size`, else 1MB).
    #[arg(long, value_name = "SIZE", value_parser = crate::readfile::parse_size)]
    pub max_file_size: Option<u64>,
    /// Also check files marked generated (`@generated`, `Code generated ... DO NOT EDIT`).
    #[arg(long)]
    pub include_generated: bool,
}

/// Names of the output formats, which `--output` refuses as a file name without a directory.
const FORMAT_NAMES: &[&str] = &[
    "full",
    "human",
    "concise",
    "json",
    "json-lines",
    "jsonl",
    "sarif",
    "github",
    "junit",
];

/// An error when `-o/--output` is given a format name (`--output json`): the report would go to a
/// file named `json` while the user asked for JSON on standard output.
pub fn output_is_a_format_name(output: &Path) -> Option<String> {
    let name = output.to_str()?;
    FORMAT_NAMES.contains(&name).then(|| {
        format!(
            "`--output {name}` would write the report to a file named `{name}`: \
             for the {name} format use `--output-format {name}`; \
             for a file of that name write `--output ./{name}`"
        )
    })
}

/// Severity threshold of `--fail-on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on error-level findings only.
    Error,
    /// Fail on any finding.
    Warning,
}

/// Output format of `looplint rule` and `looplint rules`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// Plain text (Markdown for a rule's doc).
    #[default]
    Text,
    /// JSON.
    Json,
}

/// Arguments of `looplint rule`.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Rule id (`nested-block-on`) or code (`LL002`).
    #[arg(value_name = "NAME|CODE")]
    pub name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

/// Arguments of `looplint rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

/// Runs the command line with `args` (without the program name) and returns the exit code. An
/// internal error (a panic) exits with 2, as usage and I/O errors do.
pub fn run(args: Vec<OsString>) -> i32 {
    guard_closed_stdout();
    match std::panic::catch_unwind(move || run_args(args)) {
        Ok(code) => code,
        Err(_) => {
            error("internal error; please report it with the input that caused it");
            EXIT_ERROR
        }
    }
}

fn run_args(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(std::iter::once(OsString::from("looplint")).chain(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Check(args) => run_check(&args, None),
        Command::Rule(args) => run_rule(&args),
        Command::Rules(args) => run_rules(&args),
        Command::Server => crate::server::run(),
        Command::Debug(DebugCommand::Lower { path }) => run_debug_lower(&path),
    }
}

/// Prints an error message on standard error, its control characters shown, not obeyed (it may
/// quote paths and file contents).
fn error(message: impl std::fmt::Display) {
    eprintln!("error: {}", escape::text(&message.to_string()));
}

/// Prints a warning on standard error, escaped as [`error`] does.
fn warning(message: impl std::fmt::Display) {
    eprintln!("warning: {}", escape::text(&message.to_string()));
}

/// Resolves rule names (ids or codes) to rule ids; the error names the first unknown one.
pub fn resolve_rules(names: &[String], option: &str) -> Result<Vec<&'static str>, String> {
    let mut ids = Vec::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        match rules::find(name) {
            Some(rule) => ids.push(rule.id),
            None => {
                return Err(format!(
                    "{} in {option} (`looplint rules` lists them)",
                    rules::unknown_rule(name)
                ));
            }
        }
    }
    Ok(ids)
}

/// The set of enabled rule ids for `--select` and `--ignore`.
pub fn enabled_rules(
    select: &[String],
    ignore: &[String],
) -> Result<HashSet<&'static str>, String> {
    let selected = resolve_rules(select, "--select")?;
    let ignored = resolve_rules(ignore, "--ignore")?;
    let mut enabled: HashSet<&'static str> = if selected.is_empty() {
        RULES.iter().map(|r| r.id).collect()
    } else {
        selected.into_iter().collect()
    };
    for id in ignored {
        enabled.remove(id);
    }
    Ok(enabled)
}

/// Whether stdout should get colours: a terminal, `NO_COLOR` unset or empty, no `--no-color`.
fn use_color(args: &CheckArgs) -> bool {
    !args.no_color
        && args.output.is_none()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && io::stdout().is_terminal()
}

/// Reads the file given on standard input (`looplint check -` or `--stdin-filename` without
/// paths), or `None` when the inputs are paths.
fn stdin_input(args: &CheckArgs) -> Result<Option<SourceFile>, String> {
    let dash = args.paths.iter().any(|p| p.as_os_str() == "-");
    let implicit = args.paths.is_empty() && args.stdin_filename.is_some();
    if !(dash || implicit) {
        return Ok(None);
    }
    if args.paths.len() > 1 {
        return Err("`-` (standard input) cannot be combined with other paths".into());
    }
    let Some(name) = &args.stdin_filename else {
        return Err(
            "reading standard input needs `--stdin-filename PATH` (its extension, `.rs` or `.py`, \
             picks the language)"
                .into(),
        );
    };
    let Some(language) = language_of(name) else {
        return Err(format!(
            "--stdin-filename {}: not a Rust or Python file name (`.rs` or `.py`)",
            name.display()
        ));
    };
    // Standard input may be endless (`< /dev/zero`): it is read up to a cap.
    const STDIN_LIMIT: u64 = 64 << 20;
    let mut bytes = Vec::new();
    io::Read::read_to_end(
        &mut io::Read::take(io::stdin().lock(), STDIN_LIMIT + 1),
        &mut bytes,
    )
    .map_err(|e| format!("cannot read standard input: {e}"))?;
    if bytes.len() as u64 > STDIN_LIMIT {
        return Err(format!(
            "standard input is larger than {}",
            crate::readfile::human_size(STDIN_LIMIT)
        ));
    }
    let text = crate::source::decode(bytes, language)
        .map_err(|e| format!("{} (standard input): {e}", name.display()))?;
    Ok(Some(SourceFile {
        path: name.clone(),
        display: crate::discover::display_path(name),
        language,
        overlay: Some(text),
    }))
}

/// The `--show-settings` text.
fn settings_text(setup: &project::Setup, args: &CheckArgs) -> String {
    let config = &setup.config;
    let mut out = String::new();
    let file = config.file.as_ref().map_or_else(
        || "none (defaults)".to_string(),
        |f| f.display().to_string(),
    );
    out.push_str(&format!("configuration file: {file}\n"));
    let enabled: Vec<&str> = RULES
        .iter()
        .filter(|r| setup.selection.is_enabled(r.id))
        .map(|r| r.id)
        .collect();
    out.push_str(&format!("enabled rules ({}):\n", enabled.len()));
    for r in RULES.iter().filter(|r| setup.selection.is_enabled(r.id)) {
        out.push_str(&format!("  {} {}\n", r.code, r.id));
    }
    let fail_on = match fail_on(args, setup) {
        Some(crate::diagnostic::Severity::Error) => "error",
        _ => "warning",
    };
    out.push_str(&format!("fail-on: {fail_on}\n"));
    out.push_str(&format!("all-targets: {}\n", setup.all_targets));
    out.push_str(&format!("show-expected: {}\n", setup.show_expected));
    let baseline = setup
        .baseline_file(args.baseline.as_deref())
        .map_or_else(|| "none".to_string(), |b| b.display().to_string());
    out.push_str(&format!("baseline: {baseline}\n"));
    let docs = report::links::Links::new(config.rule_docs_url.as_deref())
        .rule_doc_by_id("nested-block-on")
        .map_or_else(
            || "none (no links are emitted)".to_string(),
            |u| u.replace("nested-block-on", "{rule}"),
        );
    out.push_str(&format!("rule docs: {docs}\n"));
    out.push_str(&format!(
        "per-file-ignores: {}\n",
        config.per_file_ignores.len()
    ));
    for p in &config.per_file_ignores {
        out.push_str(&format!("  {} = [{}]\n", p.pattern, p.rules.join(", ")));
    }
    out.push_str(&format!(
        "knowledge declared by the project: {}\n",
        config.knowledge.len()
    ));
    out.push_str(&format!(
        "output format: {}\n",
        args.format
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string())
    ));
    out
}

/// The failure level: `--fail-on`, else the configuration's, else the caller's default.
fn fail_on(args: &CheckArgs, setup: &project::Setup) -> Option<crate::diagnostic::Severity> {
    let level = |f: FailOn| match f {
        FailOn::Error => crate::diagnostic::Severity::Error,
        FailOn::Warning => crate::diagnostic::Severity::Warning,
    };
    args.fail_on
        .map(level)
        .or(setup.config.fail_on)
        .or(args.default_fail_on.map(level))
}

/// Writes a report in a shape its caller chooses, in place of `--output-format` (cargo's JSON
/// messages for `cargo looplint`).
pub type ReportWriter<'w> = &'w dyn Fn(&Report<'_>, &mut dyn Write) -> io::Result<()>;

/// `looplint check` with parsed arguments, its report written by `writer` when given; returns
/// the exit code.
pub fn check(args: &CheckArgs, writer: Option<ReportWriter<'_>>) -> i32 {
    guard_closed_stdout();
    let run = std::panic::AssertUnwindSafe(|| run_check(args, writer));
    match std::panic::catch_unwind(run) {
        Ok(code) => code,
        Err(_) => {
            error("internal error; please report it with the input that caused it");
            EXIT_ERROR
        }
    }
}

fn run_check(args: &CheckArgs, writer: Option<ReportWriter<'_>>) -> i32 {
    if let Some(message) = args.output.as_deref().and_then(output_is_a_format_name) {
        error(message);
        return EXIT_ERROR;
    }
    let stdin = match stdin_input(args) {
        Ok(s) => s,
        Err(message) => {
            error(message);
            return EXIT_ERROR;
        }
    };
    let paths = match &stdin {
        Some(file) => vec![file.path.clone()],
        None if args.paths.is_empty() => vec![PathBuf::from(".")],
        None => args.paths.clone(),
    };
    // Paths under different configuration files are checked each with its own.
    let (paths, more) = match split_by_config(args, stdin.is_some(), paths) {
        Ok(split) => split,
        Err(message) => {
            error(message);
            return EXIT_ERROR;
        }
    };
    let rule_args = project::RuleArgs {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
    };
    let mut setup =
        match project::setup(&paths[0], args.config.as_deref(), args.isolated, &rule_args) {
            Ok(s) => s,
            Err(message) => {
                error(message);
                return EXIT_ERROR;
            }
        };
    setup.all_targets |= args.all_targets;
    setup.show_expected |= args.show_expected;
    if args.show_settings {
        if more.is_empty() {
            return print(&settings_text(&setup, args));
        }
        // Each group of paths is shown with the settings its files are checked with.
        let mut text = format!(
            "paths: {}\n{}",
            paths_line(&paths),
            settings_text(&setup, args)
        );
        let mut failed = false;
        for group in &more {
            match project::setup(&group[0], None, false, &rule_args) {
                Ok(mut s) => {
                    s.all_targets |= args.all_targets;
                    s.show_expected |= args.show_expected;
                    text.push_str(&format!(
                        "\npaths: {}\n{}",
                        paths_line(group),
                        settings_text(&s, args)
                    ));
                }
                Err(message) => {
                    error(message);
                    failed = true;
                }
            }
        }
        return match print(&text) {
            EXIT_OK if failed => EXIT_ERROR,
            code => code,
        };
    }
    let mut discovery = match stdin {
        Some(file) => {
            let mut db = SourceDb::default();
            db.add(file);
            crate::discover::Discovery {
                db,
                errors: Vec::new(),
                skipped: Vec::new(),
                passed_over: Vec::new(),
            }
        }
        None => {
            let _t = crate::timing::phase("discover", || format!("{} paths", paths.len()));
            discover(&paths)
        }
    };
    discovery.db = setup.exclude(std::mem::take(&mut discovery.db), &paths);
    let mut failed = false;
    for e in &discovery.errors {
        error(e);
        failed = true;
    }
    for path in &discovery.skipped {
        warning(format!("{path}: not a Rust or Python file, skipped"));
    }
    for (path, why) in &discovery.passed_over {
        warning(format!("{path}: {why}, skipped"));
    }
    if discovery.db.files.is_empty() && discovery.errors.is_empty() {
        warning("no Rust or Python files found");
    }
    let mut limits = setup.read_limits();
    limits.max_file_size = args.max_file_size.unwrap_or(limits.max_file_size);
    limits.include_generated |= args.include_generated;
    discovery.db.limits = limits;
    if args.show_files {
        let mut text = String::new();
        for f in &discovery.db.files {
            text.push_str(&escape::line(&f.display));
            text.push('\n');
        }
        // Each group's files as its own configuration excludes them.
        for group in &more {
            let Ok(setup) = project::setup(&group[0], None, false, &rule_args).map_err(error)
            else {
                failed = true;
                continue;
            };
            let mut found = discover(group);
            for e in &found.errors {
                error(e);
                failed = true;
            }
            found.db = setup.exclude(std::mem::take(&mut found.db), group);
            for f in &found.db.files {
                text.push_str(&escape::line(&f.display));
                text.push('\n');
            }
        }
        return match print(&text) {
            EXIT_OK if failed => EXIT_ERROR,
            code => code,
        };
    }

    let mut merged = std::mem::take(&mut discovery.db);
    let first_len = merged.files.len();
    let db = &merged;
    let mut result = setup.check(db);
    if let Some(file) = &args.write_baseline {
        // Each group's findings, as its own configuration reports them, go to the baseline
        // named on the command line, or else to the one its configuration names, which is the
        // one a check of the group reads.
        let target = |configured: Option<PathBuf>| {
            file.clone()
                .or(configured)
                .unwrap_or_else(|| PathBuf::from("looplint-baseline.json"))
        };
        let mut targets: Vec<(PathBuf, Vec<crate::diagnostic::Finding>)> = vec![(
            target(setup.baseline_file(None)),
            std::mem::take(&mut result.findings),
        )];
        for group in &more {
            let mut part = crate::check::CheckResult::default();
            let (code, configured) =
                check_group(args, &rule_args, group, &mut merged, &mut part, false);
            failed |= code == EXIT_ERROR;
            let file = target(configured);
            match targets.iter_mut().find(|(f, _)| *f == file) {
                Some((_, findings)) => findings.extend(part.findings),
                None => targets.push((file, part.findings)),
            }
        }
        if !more.is_empty() {
            merged.limits.max_file_size = 0;
        }
        for (file, findings) in &targets {
            match project::write_baseline(&merged, findings, file) {
                Ok(n) => eprintln!(
                    "wrote {n} findings to the baseline {}",
                    escape::line(&file.display().to_string())
                ),
                Err(message) => {
                    error(message);
                    failed = true;
                }
            }
        }
        return if failed { EXIT_ERROR } else { EXIT_OK };
    }
    if let Some(file) = setup.baseline_file(args.baseline.as_deref()) {
        match project::apply_baseline(db, std::mem::take(&mut result.findings), &file) {
            Ok(filtered) => {
                result.findings = filtered.new;
                if !filtered.stale.is_empty() {
                    let missing: u32 = filtered.stale.iter().map(|s| s.missing).sum();
                    eprintln!(
                        "note: {missing} baselined findings are gone; `--write-baseline` refreshes {}",
                        escape::line(&file.display().to_string())
                    );
                    for s in &filtered.stale {
                        eprintln!(
                            "  {} [{}] {}",
                            escape::line(&s.path),
                            escape::line(&s.rule),
                            escape::line(&s.message)
                        );
                    }
                }
            }
            Err(message) => {
                error(message);
                return EXIT_ERROR;
            }
        }
    }
    let mut group_codes = Vec::new();
    for group in &more {
        group_codes.push(check_group(args, &rule_args, group, &mut merged, &mut result, true).0);
    }
    if !more.is_empty() {
        sort_findings(&merged, &mut result.findings);
        // Files are re-read for the report under the limits each group checked them with.
        merged.limits.max_file_size = 0;
    }
    let db = &merged;
    let links = report::links::Links::new(setup.config.rule_docs_url.as_deref());
    let report = Report::new(db, &result.findings).with_links(links);
    let style = Style {
        color: use_color(args),
    };

    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| {
                let mut out = io::BufWriter::new(file);
                write_report(args, writer, &report, style, &mut out)?;
                out.flush()
            })
            .map_err(|e| format!("{}: {}", path.display(), readfile_io(&e))),
        None if !stdout_is_open() => Err("standard output is closed".to_string()),
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            // A reader that went away (a broken pipe) got part of the report at most: the run
            // cannot pass as clean.
            write_report(args, writer, &report, style, &mut out)
                .and_then(|()| out.flush())
                .map_err(|e| readfile_io(&e))
        }
    };
    if let Err(e) = written {
        error(format!("cannot write the report: {e}"));
        failed = true;
    }
    for (index, message) in &result.unreadable {
        error(format!("{}: {message}", db.file(*index).display));
        failed = true;
    }

    // The first group's findings are those before the others were appended.
    let first: Vec<_> = result
        .findings
        .iter()
        .filter(|f| (f.primary.file as usize) < first_len)
        .cloned()
        .collect();
    let code = project::exit_code(&first, fail_on(args, &setup), args.exit_zero, failed);
    group_codes.into_iter().fold(code, exit_max)
}

/// The stronger of two exit codes: an error over findings over a clean run.
fn exit_max(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        EXIT_OK => 0,
        EXIT_FINDINGS => 1,
        _ => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// The paths of a group, as shown.
fn paths_line(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths
        .iter()
        .map(|p| escape::line(&crate::discover::display_path(p)).into_owned())
        .collect();
    shown.join(" ")
}

/// Splits the paths by the configuration file nearest to each: the first group, and the
/// others. One group when a configuration is forced (`--config`, `--isolated`) and for
/// standard input.
fn split_by_config(
    args: &CheckArgs,
    stdin: bool,
    paths: Vec<PathBuf>,
) -> Result<(Vec<PathBuf>, Vec<Vec<PathBuf>>), String> {
    let single = stdin || paths.len() < 2 || args.config.is_some() || args.isolated;
    if single {
        return Ok((paths, Vec::new()));
    }
    let mut groups: Vec<(Option<PathBuf>, Vec<PathBuf>)> = Vec::new();
    for path in paths {
        let config = crate::config::find_config_file(&path).map_err(|e| e.to_string())?;
        match groups.iter_mut().find(|(c, _)| *c == config) {
            Some((_, group)) => group.push(path),
            None => groups.push((config, vec![path])),
        }
    }
    let mut groups = groups.into_iter().map(|(_, g)| g);
    let first = groups.next().unwrap_or_default();
    Ok((first, groups.collect()))
}

/// Checks one more group of paths with its own configuration; appends its files to `db` and
/// its findings (its baseline applied when `apply_baseline`) to `result`. Returns the group's
/// exit code and the baseline file its configuration names.
fn check_group(
    args: &CheckArgs,
    rule_args: &project::RuleArgs,
    paths: &[PathBuf],
    db: &mut SourceDb,
    result: &mut crate::check::CheckResult,
    apply_baseline: bool,
) -> (i32, Option<PathBuf>) {
    let mut setup = match project::setup(&paths[0], None, false, rule_args) {
        Ok(s) => s,
        Err(message) => {
            error(message);
            return (EXIT_ERROR, None);
        }
    };
    setup.all_targets |= args.all_targets;
    setup.show_expected |= args.show_expected;
    let mut discovery = discover(paths);
    discovery.db = setup.exclude(std::mem::take(&mut discovery.db), paths);
    let mut failed = false;
    for e in &discovery.errors {
        error(e);
        failed = true;
    }
    for path in &discovery.skipped {
        warning(format!("{path}: not a Rust or Python file, skipped"));
    }
    for (path, why) in &discovery.passed_over {
        warning(format!("{path}: {why}, skipped"));
    }
    let mut limits = setup.read_limits();
    limits.max_file_size = args.max_file_size.unwrap_or(limits.max_file_size);
    limits.include_generated |= args.include_generated;
    discovery.db.limits = limits;
    let group_db = &discovery.db;
    let mut part = setup.check(group_db);
    if let Some(file) = setup
        .baseline_file(args.baseline.as_deref())
        .filter(|_| apply_baseline)
    {
        match project::apply_baseline(group_db, std::mem::take(&mut part.findings), &file) {
            Ok(filtered) => part.findings = filtered.new,
            Err(message) => {
                error(message);
                return (EXIT_ERROR, None);
            }
        }
    }
    let code = project::exit_code(
        &part.findings,
        fail_on(args, &setup),
        args.exit_zero,
        failed,
    );
    let offset = db.files.len() as u32;
    for f in std::mem::take(&mut discovery.db).files {
        db.add(f);
    }
    for mut f in part.findings {
        f.primary.file += offset;
        for l in &mut f.labels {
            l.span.file += offset;
        }
        result.findings.push(f);
    }
    for (index, message) in part.unreadable {
        result.unreadable.push((index + offset as usize, message));
    }
    (code, setup.baseline_file(None))
}

/// Sorts findings as a check does: by path, offset, rule and message.
fn sort_findings(db: &SourceDb, findings: &mut [crate::diagnostic::Finding]) {
    findings.sort_by(|a, b| {
        let pa = &db.files[a.primary.file as usize].display;
        let pb = &db.files[b.primary.file as usize].display;
        (pa, a.primary.start, a.rule, &a.message).cmp(&(pb, b.primary.start, b.rule, &b.message))
    });
}

/// An I/O error as one clause.
fn readfile_io(e: &io::Error) -> String {
    crate::readfile::io_clause(e)
}

/// Whether standard output was closed when the run started.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes whether standard output was closed when the process started. The standard library
/// puts `/dev/null`, opened for reading and writing, in place of a closed standard descriptor
/// before `main`, so every write would succeed and the report vanish with a clean exit code; a
/// shell redirection to `/dev/null` opens it for writing only.
fn guard_closed_stdout() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: F_GETFL reads the descriptor's flags and changes nothing.
        let flags = unsafe { libc::fcntl(1, libc::F_GETFL) };
        let closed = if flags == -1 {
            true
        } else if flags & libc::O_ACCMODE == libc::O_RDWR {
            let null = std::fs::metadata("/dev/null").map(|m| m.rdev()).ok();
            // SAFETY: fstat fills the zeroed struct for a valid descriptor.
            let mut stat: libc::stat = unsafe { std::mem::zeroed() };
            let ok = unsafe { libc::fstat(1, &mut stat) } == 0;
            ok && (stat.st_mode & libc::S_IFMT) == libc::S_IFCHR && Some(stat.st_rdev) == null
        } else {
            false
        };
        STDOUT_CLOSED.store(closed, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether standard output was open when the run started (see [`guard_closed_stdout`]).
fn stdout_is_open() -> bool {
    !STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

fn write_report(
    args: &CheckArgs,
    writer: Option<ReportWriter<'_>>,
    report: &Report<'_>,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    if let Some(write) = writer {
        write(report, out)
    } else if args.statistics {
        report::statistics::write(args.format, report, out)
    } else {
        report::write(args.format, report, style, out)
    }
}

/// `looplint debug lower PATH`: lowers the files under PATH and prints each program.
fn run_debug_lower(path: &Path) -> i32 {
    let discovery = discover(&[path]);
    let mut code = EXIT_OK;
    for e in &discovery.errors {
        error(e);
        code = EXIT_ERROR;
    }
    let db = &discovery.db;
    let kb = Kb::builtin();
    let (mut rust, mut python) = (Vec::new(), Vec::new());
    for (i, f) in db.files.iter().enumerate() {
        match f.language {
            Language::Rust => rust.push(i),
            Language::Python => python.push(i),
        }
    }
    let mut lowered = frontend::rust::lower(db, &rust, &kb);
    lowered.extend(frontend::python::lower(db, &python, &kb));
    let mut text = String::new();
    for l in &lowered {
        for p in &l.problems {
            eprintln!(
                "{}: {}",
                escape::line(&db.file(p.source).display),
                escape::text(&p.message)
            );
        }
        text.push_str(&frontend::dump::dump(&l.program, db));
        text.push('\n');
    }
    match print(&text) {
        EXIT_OK => code,
        other => other,
    }
}

fn languages(rule: &Rule) -> Vec<&'static str> {
    rule.languages.iter().map(|l| l.name()).collect()
}

fn rule_json(rule: &Rule, with_doc: bool) -> serde_json::Value {
    let mut value = serde_json::json!({
        "id": rule.id,
        "code": rule.code,
        "severity": rule.severity.name(),
        "languages": languages(rule),
        "summary": rule.summary,
    });
    if with_doc {
        value["doc"] = serde_json::Value::from(rule.doc);
    }
    value
}

fn print(text: &str) -> i32 {
    if !stdout_is_open() {
        error("cannot write to standard output: it is closed");
        return EXIT_ERROR;
    }
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // Documentation read through `head` is fine cut short.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            error(format!(
                "cannot write to standard output: {}",
                readfile_io(&e)
            ));
            EXIT_ERROR
        }
        _ => EXIT_OK,
    }
}

fn run_rule(args: &RuleArgs) -> i32 {
    let Some(rule) = rules::find(args.name.trim()) else {
        error(format!(
            "{} (`looplint rules` lists them)",
            rules::unknown_rule(args.name.trim())
        ));
        return EXIT_ERROR;
    };
    match args.format {
        DocFormat::Text => {
            let mut text = rule.doc.to_string();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            print(&text)
        }
        DocFormat::Json => print(&format!("{:#}\n", rule_json(rule, true))),
    }
}

/// The `looplint rules` table.
pub fn rules_table() -> String {
    let rows: Vec<[String; 5]> = RULES
        .iter()
        .map(|r| {
            [
                r.code.to_string(),
                r.id.to_string(),
                r.severity.name().to_string(),
                languages(r).join(","),
                r.summary.to_string(),
            ]
        })
        .collect();
    let header = ["CODE", "RULE", "SEVERITY", "LANGUAGES", "SUMMARY"].map(String::from);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter().zip(row) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(&row[4]);
        out.push('\n');
    }
    out
}

fn run_rules(args: &RulesArgs) -> i32 {
    match args.format {
        DocFormat::Text => print(&rules_table()),
        DocFormat::Json => {
            let all: Vec<_> = RULES.iter().map(|r| rule_json(r, false)).collect();
            print(&format!("{:#}\n", serde_json::Value::from(all)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn unknown_rules_are_rejected() {
        assert!(enabled_rules(&["nope".into()], &[]).is_err());
        assert!(enabled_rules(&[], &["nope".into()]).is_err());
        let only = enabled_rules(&["LL000".into()], &[]).unwrap();
        assert_eq!(only.into_iter().collect::<Vec<_>>(), vec!["syntax-error"]);
        let rest = enabled_rules(&[], &["syntax-error".into()]).unwrap();
        assert!(!rest.contains("syntax-error"));
        assert_eq!(rest.len(), RULES.len() - 1);
    }
}
