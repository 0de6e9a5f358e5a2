//! A seeded mutation fuzzer over the fixtures, for both languages, on the stable toolchain.
//!
//! `cargo run --release --example fuzz -- --seconds N [--lang rust|python|both] [--seed S]
//! [--out DIR]` mutates the fixture files (bytes flipped, inserted, deleted, chunks duplicated
//! and repeated, tokens of the grammar inserted, fixtures spliced) and runs each input through
//! the whole pipeline and every renderer. A supervisor runs the inputs in a worker process, so
//! that an abort or a stack overflow is caught too: a worker that dies leaves its input as
//! `crash-*`, one that stops making progress for `--hang-seconds` (default 10) as `hang-*`, and
//! the slowest input is kept as `slowest.*`. The run ends with a summary line per language.
//!
//! `cargo test` runs a short bounded campaign in process (see the test at the end).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use looplint::check::{CheckOptions, check};
use looplint::kb::Kb;
use looplint::model::Language;
use looplint::report::{self, Format, Report, Style};
use looplint::source::{SourceDb, SourceFile};

/// splitmix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const RUST_TOKENS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    "|| ",
    "&",
    "*",
    "-",
    "!",
    ".await",
    "?",
    "::",
    ";",
    "\"",
    "'",
    "r#\"",
    "/*",
    "*/",
    "//",
    "\n",
    "async ",
    "move ",
    "fn f() {",
    "impl ",
    "dyn ",
    "#[tokio::main]\n",
    "#[tokio::test]\n",
    ".block_on(",
    "tokio::spawn(",
    "Runtime::new()",
    "tokio::runtime::Builder::new_current_thread()",
    "std::thread::sleep(d)",
    "macro_rules! m { () => {} }",
    "m!()",
    "'a",
    "unsafe ",
    "loop {",
    "match x {",
    "=> ",
    "let ",
    "mut ",
    "\u{202e}",
    "\x1b",
    "// looplint: ignore[nested-block-on]\n",
    "\r",
    "\t",
    "é",
    "\u{feff}",
    "<<",
    "|<",
    "&<",
    "::<",
    "#[",
    "..",
    "..=",
    " as ",
    "@",
    " = ",
    "if a {} else ",
    "{1}+",
    "<T as A>::",
    "|x: ",
    "for<'a> ",
];

const PYTHON_TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "\n",
    "    ",
    "\t",
    "lambda: ",
    "not ",
    "await ",
    "async ",
    "def f():\n",
    "class C:\n",
    "f\"{",
    "\"",
    "'",
    "\"\"\"",
    "#",
    "\\\n",
    "asyncio.run(",
    "asyncio.get_event_loop()",
    "loop.run_until_complete(",
    "time.sleep(1)",
    "import asyncio\n",
    "@pytest.fixture\n",
    "@app.route('/')\n",
    "with ",
    "yield ",
    "return ",
    "if x:\n",
    "else:\n",
    "  # looplint: ignore[blocking-call-in-async]\n",
    "  # noqa\n",
    "\u{202e}",
    "\x1b",
    "é",
    "\r",
    "await asyncio.gather(",
    "create_task(",
    ".close()",
    ":=",
    "*",
    "**",
    "lambda a, b: ",
    "f\"{x:{",
    "[x for x in ",
    "(a := ",
    "@d\n",
    "()",
    "[0]",
    " if a else ",
    "yield from ",
    "not lambda: ",
];

/// The fixture files of a language, as seeds.
fn seeds(language: Language) -> Vec<Vec<u8>> {
    let (dir, ext) = match language {
        Language::Rust => ("fixtures/rust", "rs"),
        Language::Python => ("fixtures/python", "py"),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files = Vec::new();
    collect(&root, ext, &mut files);
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() < 64 << 10)
        .collect()
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// One mutated input: one to eight mutations of a seed.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], tokens: &[&str]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let len = data.len();
        let at = rng.below(len + 1);
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                data.drain(at.min(end)..end);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(256)).min(len);
                let chunk = data[start..end].to_vec();
                data.splice(at..at, chunk);
            }
            4 => {
                // Deepen: one token repeated many times.
                let token = tokens[rng.below(tokens.len())];
                let most = if rng.below(8) == 0 { 5_000 } else { 64 };
                let times = 1 + rng.below(most);
                let chunk = token.repeat(times).into_bytes();
                data.splice(at..at, chunk);
            }
            5 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(32)).min(len);
                let chunk = data[start..end].to_vec();
                let mut rep = Vec::new();
                for _ in 0..1 + rng.below(200) {
                    rep.extend_from_slice(&chunk);
                }
                data.splice(at..at, rep);
            }
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                let start = rng.below(other.len());
                let end = (start + rng.below(2_048)).min(other.len());
                data.splice(at..at, other[start..end].iter().copied());
            }
            7 if len > 0 => data.truncate(at),
            _ => {
                let token = tokens[rng.below(tokens.len())];
                data.splice(at..at, token.bytes());
            }
        }
    }
    data
}

/// Runs one input through the pipeline and every renderer; panics are the harness's to catch.
fn run_one(data: &[u8], language: Language, kb: &Kb) {
    let name = match language {
        Language::Rust => "fuzz.rs",
        Language::Python => "fuzz.py",
    };
    let mut db = SourceDb::default();
    // Decoding as a file read would: not UTF-8, NUL bytes or a coding line all take their path.
    let text = match looplint::source::decode(data.to_vec(), language) {
        Ok(text) => text,
        Err(_) => std::sync::Arc::from(String::from_utf8_lossy(data).as_ref()),
    };
    db.add(SourceFile {
        path: PathBuf::from(name),
        display: name.to_string(),
        language,
        overlay: Some(text),
    });
    let enabled = |_: &str| true;
    let opts = CheckOptions {
        kb,
        enabled: &enabled,
    };
    let result = check(&db, &opts);
    let report = Report::new(&db, &result.findings);
    for format in [
        Format::Human,
        Format::Concise,
        Format::Json,
        Format::Sarif,
        Format::Github,
    ] {
        let mut out = Vec::new();
        report::write(format, &report, Style { color: false }, &mut out).expect("renders");
    }
}

fn language_of(name: &str) -> Option<Language> {
    match name {
        "rust" => Some(Language::Rust),
        "python" => Some(Language::Python),
        _ => None,
    }
}

fn ext(language: Language) -> &'static str {
    match language {
        Language::Rust => "rs",
        Language::Python => "py",
    }
}

/// The worker: runs inputs from `seed` on, printing `ok <index> <micros>` after each (the
/// supervisor's heartbeat) and writing each input to `current` first. An input slower than
/// `slowest` (microseconds, the campaign's record so far) is kept in `slowest.<ext>` beside
/// `current` before the next one is written.
fn worker(language: Language, seed: u64, deadline: Instant, current: &Path, mut slowest: u128) {
    let kb = Kb::builtin();
    let seeds = seeds(language);
    let tokens = match language {
        Language::Rust => RUST_TOKENS,
        Language::Python => PYTHON_TOKENS,
    };
    let mut rng = Rng(seed);
    let stdout = std::io::stdout();
    let mut index: u64 = 0;
    while Instant::now() < deadline {
        let data = mutate(&mut rng, &seeds, tokens);
        std::fs::write(current, &data).expect("the current input is written");
        let started = Instant::now();
        run_one(&data, language, &kb);
        let micros = started.elapsed().as_micros();
        if micros > slowest {
            slowest = micros;
            let kept = current.with_file_name(format!("slowest.{}", ext(language)));
            let _ = std::fs::write(kept, &data);
        }
        let mut out = stdout.lock();
        if writeln!(out, "ok {index} {micros}")
            .and_then(|()| out.flush())
            .is_err()
        {
            return;
        }
        index += 1;
    }
}

#[derive(Default)]
struct Tally {
    inputs: u64,
    crashes: u64,
    hangs: u64,
    slowest: Duration,
}

/// Supervises workers for one language until `deadline`.
fn supervise(
    language: Language,
    seed: u64,
    deadline: Instant,
    hang: Duration,
    out: &Path,
) -> Tally {
    use std::io::BufRead;
    let mut tally = Tally::default();
    let current = out.join(format!("current-{}.{}", ext(language), ext(language)));
    let mut seed = seed;
    let lang = match language {
        Language::Rust => "rust",
        Language::Python => "python",
    };
    while Instant::now() < deadline {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs()
            .max(1);
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args(["--worker", "--lang", lang, "--seed", &seed.to_string()])
            .args(["--seconds", &left.to_string()])
            .args(["--slowest-micros", &tally.slowest.as_micros().to_string()])
            .arg("--current")
            .arg(&current)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the worker starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<(u64, u128)>();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let mut parts = line.split(' ').skip(1);
                let index = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
                let micros = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
                if tx.send((index, micros)).is_err() {
                    break;
                }
            }
        });
        let mut done_here = 0;
        let outcome = loop {
            match rx.recv_timeout(hang) {
                Ok((_, micros)) => {
                    done_here += 1;
                    tally.inputs += 1;
                    let took = Duration::from_micros(micros as u64);
                    // The worker keeps the slowest input itself: `current` already holds the
                    // next one by now.
                    tally.slowest = tally.slowest.max(took);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    break child.wait().ok();
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let stderr = child
            .stderr
            .take()
            .map(|mut e| {
                let mut s = String::new();
                let _ = std::io::Read::read_to_string(&mut e, &mut s);
                s
            })
            .unwrap_or_default();
        match outcome {
            Some(status) if status.success() => break,
            Some(status) => {
                tally.crashes += 1;
                let name = out.join(format!("crash-{seed}-{done_here}.{}", ext(language)));
                let _ = std::fs::copy(&current, &name);
                eprintln!("crash ({status}): {} {}", name.display(), stderr.trim());
            }
            None => {
                tally.hangs += 1;
                let name = out.join(format!("hang-{seed}-{done_here}.{}", ext(language)));
                let _ = std::fs::copy(&current, &name);
                eprintln!("hang: {}", name.display());
            }
        }
        // Go on from another seed: the one that failed would fail again.
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    }
    let _ = std::fs::remove_file(&current);
    tally
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = value("--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let seed: u64 = value("--seed").and_then(|v| v.parse().ok()).unwrap_or(1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    if args.iter().any(|a| a == "--worker") {
        let language = value("--lang")
            .and_then(|l| language_of(&l))
            .expect("--lang");
        let current = PathBuf::from(value("--current").expect("--current"));
        let slowest = value("--slowest-micros")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        worker(language, seed, deadline, &current, slowest);
        return;
    }
    let hang = Duration::from_secs(
        value("--hang-seconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(10),
    );
    let out = PathBuf::from(value("--out").unwrap_or_else(|| "target/fuzz".into()));
    std::fs::create_dir_all(&out).expect("the output directory is made");
    let languages: Vec<Language> = match value("--lang").as_deref() {
        None | Some("both") => vec![Language::Rust, Language::Python],
        Some(l) => vec![language_of(l).expect("--lang rust|python|both")],
    };
    let share = Duration::from_secs(seconds / languages.len() as u64);
    let mut failed = false;
    for language in languages {
        let started = Instant::now();
        let tally = supervise(language, seed, started + share, hang, &out);
        failed |= tally.crashes + tally.hangs > 0;
        println!(
            "{}: {} inputs in {} s, {} crashes, {} hangs, slowest input {:.1} ms (kept in {})",
            language.name(),
            tally.inputs,
            started.elapsed().as_secs(),
            tally.crashes,
            tally.hangs,
            tally.slowest.as_secs_f64() * 1000.0,
            out.display()
        );
    }
    std::process::exit(i32::from(failed));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short campaign in process: a panic fails the test, a stack overflow aborts it.
    #[test]
    fn short_campaign_finds_nothing() {
        let kb = Kb::builtin();
        for (language, tokens) in [
            (Language::Rust, RUST_TOKENS),
            (Language::Python, PYTHON_TOKENS),
        ] {
            let seeds = seeds(language);
            assert!(!seeds.is_empty());
            let mut rng = Rng(7);
            let started = Instant::now();
            let mut runs = 0;
            while runs < 150 && started.elapsed() < Duration::from_secs(6) {
                let data = mutate(&mut rng, &seeds, tokens);
                let caught = std::panic::catch_unwind(|| run_one(&data, language, &kb));
                assert!(
                    caught.is_ok(),
                    "input {runs} panicked:\n{}",
                    String::from_utf8_lossy(&data)
                );
                runs += 1;
            }
            assert!(runs >= 20, "{runs} inputs only");
        }
    }
}
