//! Hostile inputs: no file, name or argument takes a run down.
//!
//! Every recursive construct of both grammars, 100,000 deep or long, sits beside a good file
//! whose finding must still be reported; special files (FIFOs, devices) stand where sources,
//! configuration, manifests and baselines are read; arguments are not UTF-8; control
//! characters hide in sources, paths and suppression comments. Each run is bounded in time: a
//! hang fails the test instead of stalling the suite.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A scratch directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "looplint-torture-{name}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[cfg(unix)]
    fn fifo(&self, rel: &str) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let status = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(status.success());
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `bin` with `args` in `dir`, killed after `limit`: a hang is a failure, not a stall.
fn run_bounded(bin: &str, dir: &Path, args: &[&std::ffi::OsStr], limit: Duration) -> Output {
    run_bounded_env(bin, dir, args, &[], limit)
}

/// [`run_bounded`] with environment variables set.
fn run_bounded_env(
    bin: &str,
    dir: &Path,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &std::ffi::OsStr)],
    limit: Duration,
) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Drain the pipes on threads so a large report cannot block the child.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut v).ok();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{bin} {args:?} still ran after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn looplint(dir: &Path, args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    run_bounded(
        env!("CARGO_BIN_EXE_looplint"),
        dir,
        &args,
        Duration::from_secs(120),
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts the run ended on its own terms: exit 0, 1 or 2, no panic, no internal error.
fn assert_survived(out: &Output) {
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "crashed with {:?}\n{}",
        out.status,
        stderr(out)
    );
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
}

/// The rule ids reported per file, from a JSON report.
fn findings(out: &Output) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(out), stderr(out)));
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const N: usize = 100_000;

/// A Rust file with one known finding.
const GOOD_RS: &str = "#[tokio::main]\nasync fn main() {\n    let text = std::fs::read_to_string(\"x\").unwrap();\n    println!(\"{text}\");\n}\n";
/// A Python file with one known finding.
const GOOD_PY: &str = "import time\n\n\nasync def tick():\n    time.sleep(1)\n";

/// Rust inputs, each 100,000 deep or long in one recursive construct.
fn rust_shapes() -> Vec<(&'static str, String)> {
    let r = |s: &str| s.repeat(N);
    vec![
        (
            "parens",
            format!("fn f() {{ let x = {}1{}; }}", r("("), r(")")),
        ),
        (
            "arrays",
            format!("fn f() {{ let x = {}1{}; }}", r("["), r("]")),
        ),
        ("blocks", format!("fn f() {}1{}", r("{ "), r("}"))),
        (
            "tuples",
            format!("fn f() {{ let x = {}1{}; }}", r("(1, "), r(")")),
        ),
        ("generics", format!("type T = {}u8{};", r("Vec<"), r(">"))),
        (
            "repeated_imports",
            format!(
                "mod indtore;\n{}mod store;\nuse store::Store;\nasync fn reindex(store: &Store) {{ store.index.wait(); }}\n",
                r("use store;\n")
            ),
        ),
        (
            "generics_shift",
            format!("type T = {}u8{};", r("A<"), &r(">>")[..N]),
        ),
        ("closures", format!("fn f() {{ let c = {}1; }}", r("|| "))),
        (
            "move_closures",
            format!("fn f() {{ let c = {}1; }}", r("move |x| ")),
        ),
        ("references", format!("fn f() {{ let x = {}1; }}", r("&"))),
        ("ref_types", format!("type T = {}u8;", r("&"))),
        ("pointer_types", format!("type T = {}u8;", r("*const "))),
        ("derefs", format!("fn f() {{ let x = {}y; }}", r("*"))),
        ("negations", format!("fn f() {{ let x = {}1; }}", r("-"))),
        ("nots", format!("fn f() {{ let x = {}true; }}", r("!"))),
        ("sums", format!("fn f() {{ let x = 1{}; }}", r("+1"))),
        ("ands", format!("fn f() {{ let x = a{}; }}", r(" && a"))),
        ("fields", format!("fn f() {{ let x = a{}; }}", r(".b"))),
        ("methods", format!("fn f() {{ let x = a{}; }}", r(".b()"))),
        ("calls", format!("fn f() {{ let x = a{}; }}", r("()"))),
        ("indexes", format!("fn f() {{ let x = a{}; }}", r("[0]"))),
        ("tries", format!("fn f() {{ let x = a{}; }}", r("?"))),
        (
            "awaits",
            format!("async fn f() {{ let x = a{}; }}", r(".await")),
        ),
        ("casts", format!("fn f() {{ let x = 1{}; }}", r(" as u8"))),
        ("returns", format!("fn f() {{ {}1; }}", r("return "))),
        ("ifs", format!("fn f() {{ {}1{} }}", r("if a { "), r("}"))),
        ("loops", format!("fn f() {{ {}{} }}", r("loop { "), r("}"))),
        ("modules", format!("{}{}", r("mod m { "), r("}"))),
        ("functions", format!("{}{}", r("fn f() { "), r("}"))),
        ("paths", format!("fn f() {{ let x = a{}; }}", r("::b"))),
        (
            "qualified",
            format!("type T = {}u8{};", r("<"), r(" as A>::B")),
        ),
        (
            "patterns",
            format!("fn f() {{ let {}x{} = 1; }}", r("Some("), r(")")),
        ),
        (
            "macro_args",
            format!("fn f() {{ m!{}{}; }}", r("("), r(")")),
        ),
        ("attrs", format!("{}fn f() {{}}", r("#[a]\n"))),
        (
            "comment_brackets",
            format!("fn f() {{ let x = {}1{}; }}", r("(/*)*/"), r(")")),
        ),
        (
            "string_brackets",
            format!("fn f() {{ {} }}", r("{ \"}\"; ")),
        ),
        (
            "nested_comments",
            format!("fn f() {{}} {}{}", r("/* "), r("*/ ")),
        ),
        ("unclosed", format!("fn f() {{ {}", r("("))),
        // Generic arguments in the places of a function body where a type stands: a `let`
        // type, a cast, a turbofish, a closure parameter, closed or left open.
        (
            "let_generics",
            format!("fn f() {{ let x: {}V{} = y; }}", r("HashMap<K, "), r(">")),
        ),
        (
            "cast_generics",
            format!("fn f() {{ let x = y as {}V; }}", r("HashMap<K, ")),
        ),
        (
            "turbofish_generics",
            format!("fn f() {{ vec![g::<{}V{}>()]; }}", r("Map<K, "), r(">")),
        ),
        (
            "closure_generics",
            format!("fn f() {{ g(|a: {}V| 1); }}", r("Map<K, ")),
        ),
        // Assignments around a run of ranges, shallow enough to be lowered: the lowering
        // asks for the first and last token of every level, which must not print the level.
        (
            "assignments_around_ranges",
            format!(
                "async fn f() -> std::io::Result<()> {{ let l = a = {}s{}{}g(1)?; loop {{ match l.accept() {{}} }} }}",
                "s = ".repeat(50),
                "..=".repeat(2_000),
                "s = ".repeat(50)
            ),
        ),
        (
            "variant_generics",
            format!("enum E {{ A({}V{}) }}", r("Map<K, "), r(">")),
        ),
    ]
}

/// Python inputs, each 100,000 deep or long in one recursive construct (nested definitions,
/// whose indentation grows with their depth, are 2,000 deep: 2 MB already).
fn python_shapes() -> Vec<(&'static str, String)> {
    let r = |s: &str| s.repeat(N);
    let mut fstring = String::from("1");
    for k in 0..N {
        let q = if k % 2 == 0 { '"' } else { '\'' };
        fstring = format!("f{q}{{{fstring}}}{q}");
        if fstring.len() > 600_000 {
            break;
        }
    }
    let mut defs = String::new();
    let mut classes = String::new();
    let mut ifs = String::new();
    for k in 0..2_000 {
        let pad = " ".repeat(k);
        defs.push_str(&format!("{pad}def f():\n"));
        classes.push_str(&format!("{pad}class C:\n"));
        ifs.push_str(&format!("{pad}if a:\n"));
    }
    defs.push_str(&format!("{}pass\n", " ".repeat(2_000)));
    classes.push_str(&format!("{}pass\n", " ".repeat(2_000)));
    ifs.push_str(&format!("{}pass\n", " ".repeat(2_000)));
    vec![
        ("lists", format!("x = {}1{}\n", r("["), r("]"))),
        ("tuples", format!("x = {}1{}\n", r("("), r(")"))),
        ("dicts", format!("x = {}1{}\n", r("{1: "), r("}"))),
        ("sets", format!("x = {}1{}\n", r("{"), r("}"))),
        ("lambdas", format!("x = {}1\n", r("lambda: "))),
        ("nots", format!("x = {}1\n", r("not "))),
        (
            "awaits",
            format!("async def f():\n    x = {}y\n", r("await ")),
        ),
        ("negations", format!("x = {}1\n", r("-"))),
        ("inverts", format!("x = {}1\n", r("~"))),
        ("sums", format!("x = 1{}\n", r("+1"))),
        ("powers", format!("x = 1{}\n", r("**1"))),
        ("comparisons", format!("x = 1{}\n", r("<1"))),
        ("ands", format!("x = a{}\n", r(" and a"))),
        ("ternaries", format!("x = 1{}\n", r(" if a else 1"))),
        ("attributes", format!("x = a{}\n", r(".b"))),
        ("calls", format!("x = a{}\n", r("()"))),
        ("subscripts", format!("x = a{}\n", r("[0]"))),
        ("fstrings", format!("x = {fstring}\n")),
        ("defs", defs),
        ("classes", classes),
        ("ifs", ifs),
        ("decorators", format!("{}def f():\n    pass\n", r("@d\n"))),
        ("comment_brackets", format!("x = (\n{}1)\n", r("# (\n"))),
        ("string_brackets", format!("x = [{}]\n", r("'[', "))),
        ("imports", format!("import a{}\n", r(".b"))),
        ("unclosed", format!("x = {}\n", r("("))),
    ]
}

#[test]
fn deep_and_long_constructs_leave_the_other_files_checked() {
    let dir = TempDir::new("deep");
    dir.write("good.rs", GOOD_RS);
    dir.write("good.py", GOOD_PY);
    for (name, text) in rust_shapes() {
        dir.write(&format!("deep_{name}.rs"), text);
    }
    for (name, text) in python_shapes() {
        dir.write(&format!("deep_{name}.py"), text);
    }
    let out = looplint(
        dir.path(),
        &["check", "--format", "json", "--max-file-size", "0"],
    );
    assert_survived(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out);
    for good in ["good.rs", "good.py"] {
        assert!(
            found
                .iter()
                .any(|(p, r)| p == good && r == "blocking-call-in-async"),
            "{good} lost its finding: {found:?}"
        );
    }
}

/// Long flat lists of comparisons (`[x < y, x < y, ...]`, `vec![a < b, ...]`, a call's
/// arguments) are not deep: their files are analysed, with no `analysis-limit` note.
#[test]
fn flat_lists_of_comparisons_are_analysed() {
    let dir = TempDir::new("flat");
    let n = 10_000;
    let list = |item: &str| vec![item; n].join(", ");
    dir.write(
        "flat.py",
        format!(
            "{GOOD_PY}
x, y = 1, 2
flags = [{}]
checks = f({})
",
            list("x < y"),
            list("x < y")
        ),
    );
    let body = |open: &str, close: &str| format!("{open}{}{close}", list("a < b"));
    dir.write(
        "flat.rs",
        format!(
            "fn checks(a: u8, b: u8) -> usize {{
    let v = {};
    let w = {};
    g({});
    v.len() + w.len()
}}
{GOOD_RS}",
            body("vec![", "]"),
            body("[", "]"),
            list("a.x < b.y"),
        ),
    );
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_survived(&out);
    let found = findings(&out);
    for file in ["flat.rs", "flat.py"] {
        assert!(
            found
                .iter()
                .any(|(p, r)| p == file && r == "blocking-call-in-async"),
            "{file} was not analysed: {found:?}"
        );
    }
    assert!(
        !found.iter().any(|(_, r)| r == "analysis-limit"),
        "{found:?}"
    );
}

/// Runs of tokens that open a level without a bracket (`<`, `<<`, `|<`, `&<`, `::<`), in each
/// place that takes a type, a pattern or an expression, 6,783 and 100,000 long; a few other
/// prefix runs of both grammars; and constructs deep enough to need a stack of their own but
/// under the limit, which are analysed. Each beside a good file whose finding must stay.
#[test]
fn runs_of_openers_leave_the_other_files_checked() {
    let dir = TempDir::new("runs");
    dir.write("good.rs", GOOD_RS);
    dir.write("good.py", GOOD_PY);
    let places = [
        ("closure", "fn f() { x.map(|RUN| 1); }"),
        ("closure_open", "fn f() { x.map(|RUN"),
        ("type", "type T = RUN u8;"),
        ("generic", "type T = Vec<RUN u8>;"),
        ("pattern", "fn f() { let RUN x = 1; }"),
        ("arm", "fn f() { match x { RUN A => 1 } }"),
        ("expr", "fn f() { let x = RUN 1; }"),
        ("turbofish", "fn f() { f::RUN u8(); }"),
        ("param", "fn f(a: RUN) {}"),
    ];
    let runs = [
        ("lt", "<"),
        ("shl", "<<"),
        ("pipe_lt", "|<"),
        ("amp_lt", "&<"),
        ("colons_lt", "::<"),
    ];
    let mut limited = Vec::new();
    for n in [6_783, N] {
        for (place, text) in places {
            for (run, token) in runs {
                let name = format!("run_{place}_{run}_{n}.rs");
                dir.write(&name, text.replace("RUN", &token.repeat(n)));
                limited.push(name);
            }
        }
        for (name, text) in [
            ("attrs", format!("fn f() {{ {} }}", "#[".repeat(n))),
            ("lifetimes", format!("type T = {}u8;", "&'a ".repeat(n))),
            ("dyn", format!("type T = {}A;", "dyn ".repeat(n))),
            ("impl", format!("type T = {}A;", "impl ".repeat(n))),
            ("tries", format!("fn f() {{ let x = a{}; }}", "?".repeat(n))),
            ("bangs", format!("fn f() {{ let x = {}a; }}", "!".repeat(n))),
            (
                "ranges",
                format!("fn f() {{ let x = {}1; }}", ".. ".repeat(n)),
            ),
            ("assigns", format!("fn f() {{ {}1; }}", "a = ".repeat(n))),
            (
                "else_ifs",
                format!("fn f() {{ {}{{}} }}", "if a {} else ".repeat(n)),
            ),
            (
                "block_sums",
                format!("fn f() {{ let x = {{1}}{}; }}", "+{1}".repeat(n)),
            ),
        ] {
            let name = format!("run_{name}_{n}.rs");
            dir.write(&name, text);
            limited.push(name);
        }
        for (name, text) in [
            (
                "lambda_args",
                format!("x = {}1\n", "lambda a, b: ".repeat(n)),
            ),
            (
                "not_lambda",
                format!("x = {}1\n", "not lambda a, b: ".repeat(n)),
            ),
            ("stars", format!("f({}a)\n", "*".repeat(n))),
            ("double_stars", format!("f({}a)\n", "**".repeat(n))),
            (
                "walrus",
                format!("x = {}1{}\n", "(a := ".repeat(n), ")".repeat(n)),
            ),
            ("spec_fields", format!("x = {}\n", "f\"{x:{".repeat(n))),
            (
                "comprehensions",
                format!("x = {}y{}\n", "[x for x in ".repeat(n), "]".repeat(n)),
            ),
        ] {
            let name = format!("run_{name}_{n}.py");
            dir.write(&name, text);
            limited.push(name);
        }
    }
    // Deep enough for a stack of their own, under the limit: parsed and analysed.
    let k = 3_000;
    for (name, text) in [
        (
            "qualified",
            format!("type T = {}u8{};", "<".repeat(k), " as A>::B".repeat(k)),
        ),
        (
            "qualified_pattern",
            format!(
                "fn f(x: u8) {{ match x {{ {}A{} => {{}} }} }}",
                "<".repeat(k),
                " as B>::C".repeat(k)
            ),
        ),
        (
            "closure_param",
            format!(
                "fn f() {{ x.map(|{}x{}| 1); }}",
                "<".repeat(k),
                ">".repeat(k)
            ),
        ),
        (
            "paren_types",
            format!("type T = {}u8{};", "(".repeat(k), ")".repeat(k)),
        ),
        (
            "labels",
            format!("fn f() {{ {}{} }}", "'a: loop { ".repeat(k), "}".repeat(k)),
        ),
    ] {
        dir.write(&format!("under_{name}.rs"), text);
    }
    let out = looplint(
        dir.path(),
        &["check", "--format", "json", "--max-file-size", "0"],
    );
    assert_survived(&out);
    let found = findings(&out);
    for good in ["good.rs", "good.py"] {
        assert!(
            found
                .iter()
                .any(|(p, r)| p == good && r == "blocking-call-in-async"),
            "{good} lost its finding: {found:?}"
        );
    }
    for name in limited.iter().filter(|n| n.contains("100000")) {
        assert!(
            found.contains(&(name.clone(), "analysis-limit".to_string())),
            "{name} is not an analysis-limit note: {found:?}"
        );
    }
    assert!(
        !found
            .iter()
            .any(|(p, r)| p.starts_with("under_") && r == "analysis-limit"),
        "{found:?}"
    );
}

#[test]
fn large_and_generated_files_are_skipped_with_a_note() {
    let dir = TempDir::new("large");
    dir.write("good.py", GOOD_PY);
    let mut big = String::from(GOOD_PY);
    while big.len() < 1_100_000 {
        big.push_str("x = 1\n");
    }
    dir.write("big.py", &big);
    dir.write("gen.py", format!("# @generated by a tool\n{GOOD_PY}"));
    dir.write(
        "gen.rs",
        format!("// Code generated by protoc. DO NOT EDIT.\n{GOOD_RS}"),
    );
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_survived(&out);
    let found = findings(&out);
    assert!(
        found.contains(&("big.py".into(), "analysis-limit".into())),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(p, r)| p == "big.py" && r != "analysis-limit")
    );
    assert!(
        !found.iter().any(|(p, _)| p.starts_with("gen.")),
        "{found:?}"
    );
    assert!(found.contains(&("good.py".into(), "blocking-call-in-async".into())));
    let concise = looplint(dir.path(), &["check", "--format", "concise"]);
    assert!(
        stdout(&concise).contains("max-file-size"),
        "{}",
        stdout(&concise)
    );
    let all = looplint(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--max-file-size",
            "2MB",
            "--include-generated",
        ],
    );
    let found = findings(&all);
    for file in ["big.py", "gen.py", "gen.rs"] {
        assert!(
            found.contains(&(file.into(), "blocking-call-in-async".into())),
            "{file}: {found:?}"
        );
    }
    dir.write(
        ".looplint.toml",
        "max-file-size = \"2MB\"\ninclude-generated = true\n",
    );
    let configured = looplint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&configured), found);
    // Past 4 GiB (a sparse file, no disk used) nothing reads it, whatever the limit says.
    let huge = std::fs::File::create(dir.path().join("huge.py")).unwrap();
    huge.set_len(5 << 30).unwrap();
    drop(huge);
    let out = looplint(
        dir.path(),
        &["check", "--format", "json", "--max-file-size", "0"],
    );
    assert_survived(&out);
    assert!(findings(&out).contains(&("huge.py".into(), "analysis-limit".into())));
    std::fs::remove_file(dir.path().join("huge.py")).unwrap();
    dir.write(".looplint.toml", "max-file-size = \"lots\"\n");
    let bad = looplint(dir.path(), &["check"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("max-file-size"), "{}", stderr(&bad));
}

#[cfg(unix)]
#[test]
fn special_files_are_errors_for_their_path_only() {
    let dir = TempDir::new("special");
    dir.write("good.py", GOOD_PY);
    dir.fifo("named.py");
    // A FIFO named on the command line: an error for it, the other file still checked.
    let out = looplint(
        dir.path(),
        &["check", "--format", "json", "named.py", "good.py"],
    );
    assert_survived(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("named.py: not a regular file (a FIFO)"),
        "{}",
        stderr(&out)
    );
    assert!(findings(&out).contains(&("good.py".into(), "blocking-call-in-async".into())));
    // Met in a walk, it is passed over with a warning.
    let walked = looplint(dir.path(), &["check", "--format", "json", "."]);
    assert_survived(&walked);
    assert_eq!(walked.status.code(), Some(1), "{}", stderr(&walked));
    assert!(stderr(&walked).contains("named.py: not a regular file"));
    std::fs::remove_file(dir.path().join("named.py")).unwrap();

    // FIFOs and /dev/zero where configuration and manifests are read.
    for name in [
        "pytest.ini",
        "setup.cfg",
        "tox.ini",
        "pyproject.toml",
        "Cargo.toml",
        "looplint.toml",
    ] {
        dir.fifo(name);
    }
    dir.write(
        "src/lib.rs",
        GOOD_RS.replace("#[tokio::main]\n", "#[tokio::main]\npub "),
    );
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_survived(&out);
    assert!(findings(&out).contains(&("good.py".into(), "blocking-call-in-async".into())));
    for name in [
        "pytest.ini",
        "setup.cfg",
        "tox.ini",
        "pyproject.toml",
        "Cargo.toml",
        "looplint.toml",
    ] {
        std::fs::remove_file(dir.path().join(name)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(name)).unwrap();
    }
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_survived(&out);
    assert!(findings(&out).contains(&("good.py".into(), "blocking-call-in-async".into())));

    // Ignore files that the walk reads: the directory holding one is an error, the rest goes on.
    dir.write("sub/inner.py", GOOD_PY);
    dir.fifo("sub/.gitignore");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("sub2/.ignore"))
        .or_else(|_| {
            std::fs::create_dir_all(dir.path().join("sub2"))?;
            std::os::unix::fs::symlink("/dev/zero", dir.path().join("sub2/.ignore"))
        })
        .unwrap();
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    assert_survived(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("sub/.gitignore: not a regular file (a FIFO)"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("sub2/.ignore: not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(findings(&out).contains(&("good.py".into(), "blocking-call-in-async".into())));
    std::fs::remove_dir_all(dir.path().join("sub")).unwrap();
    std::fs::remove_dir_all(dir.path().join("sub2")).unwrap();

    // A baseline or a configuration named explicitly: a clear error, at once.
    dir.fifo("base.json");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.json")).unwrap();
    for (flag, file, what) in [
        ("--baseline", "base.json", "a FIFO"),
        ("--baseline", "zero.json", "a character device"),
        ("--config", "zero.json", "a character device"),
    ] {
        let out = looplint(dir.path(), &["check", flag, file, "good.py"]);
        assert_survived(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {file}");
        assert!(
            stderr(&out).contains(&format!("not a regular file ({what})")),
            "{flag} {file}: {}",
            stderr(&out)
        );
    }
    let out = looplint(
        dir.path(),
        &["check", "--write-baseline", "base.json", "good.py"],
    );
    assert_survived(&out);
    assert_eq!(out.status.code(), Some(2));
}

/// Git's global ignore rules are found through the user's git configuration: a FIFO or a
/// device there (a configuration file, or the file its `core.excludesFile` names) is said, the
/// rules are left out, and the walk goes on.
#[cfg(unix)]
#[test]
fn special_files_in_git_global_configuration_do_not_stall_the_walk() {
    use std::ffi::OsStr;
    let dir = TempDir::new("gitglobal");
    dir.write("project/good.py", GOOD_PY);
    let project = dir.path().join("project");
    let home = dir.path().join("home");
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&xdg).unwrap();
    let fifo = dir.fifo("fifo");
    let empty = dir.write("empty", "");
    let names_fifo = dir.write(
        "names_fifo",
        format!("[core]\n\texcludesFile = {}\n", fifo.display()),
    );
    let check = |env: &[(&str, &OsStr)], culprit: &Path| {
        let mut all: Vec<(&str, &OsStr)> = vec![
            ("HOME", home.as_os_str()),
            ("XDG_CONFIG_HOME", xdg.as_os_str()),
            ("GIT_CONFIG_SYSTEM", empty.as_os_str()),
        ];
        all.extend_from_slice(env);
        let out = run_bounded_env(
            env!("CARGO_BIN_EXE_looplint"),
            &project,
            &[
                OsStr::new("check"),
                OsStr::new("--format"),
                OsStr::new("json"),
            ],
            &all,
            Duration::from_secs(60),
        );
        assert_survived(&out);
        assert!(
            stderr(&out).contains(&format!(
                "{}: not a regular file (a FIFO); git's global ignore rules are not applied",
                culprit.display()
            )),
            "{}",
            stderr(&out)
        );
        assert!(findings(&out).contains(&("good.py".into(), "blocking-call-in-async".into())));
    };
    // `core.excludesFile` names a FIFO.
    check(&[("GIT_CONFIG_GLOBAL", names_fifo.as_os_str())], &fifo);
    // The configuration files themselves.
    check(&[("GIT_CONFIG_GLOBAL", fifo.as_os_str())], &fifo);
    check(&[("GIT_CONFIG_SYSTEM", fifo.as_os_str())], &fifo);
    std::os::unix::fs::symlink(&fifo, home.join(".gitconfig")).unwrap();
    check(&[], &home.join(".gitconfig"));
    std::fs::remove_file(home.join(".gitconfig")).unwrap();
    std::fs::create_dir_all(xdg.join("git")).unwrap();
    std::os::unix::fs::symlink(&fifo, xdg.join("git/config")).unwrap();
    check(&[], &xdg.join("git/config"));
    std::fs::remove_file(xdg.join("git/config")).unwrap();
    // The default rules file, when no configuration names one.
    std::os::unix::fs::symlink(&fifo, xdg.join("git/ignore")).unwrap();
    check(&[], &xdg.join("git/ignore"));
}

#[cfg(unix)]
#[test]
fn arguments_need_not_be_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("args");
    let odd = OsStr::from_bytes(b"caf\xe9.py");
    std::fs::write(dir.path().join(odd), GOOD_PY).unwrap();
    let out = run_bounded(
        env!("CARGO_BIN_EXE_looplint"),
        dir.path(),
        &[
            OsStr::new("check"),
            OsStr::new("--format"),
            OsStr::new("concise"),
            odd,
        ],
        Duration::from_secs(60),
    );
    assert_survived(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("blocking-call-in-async"));
    let missing = OsStr::from_bytes(b"\xff\xfe");
    let out = run_bounded(
        env!("CARGO_BIN_EXE_looplint"),
        dir.path(),
        &[OsStr::new("check"), missing],
        Duration::from_secs(60),
    );
    assert_survived(&out);
    assert_eq!(out.status.code(), Some(2));
    let out = run_bounded(
        env!("CARGO_BIN_EXE_cargo-looplint"),
        dir.path(),
        &[OsStr::new("looplint"), missing],
        Duration::from_secs(60),
    );
    assert_survived(&out);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Characters that a terminal or a log would obey.
const HOSTILE: [char; 6] = ['\x1b', '\x07', '\u{9b}', '\u{202e}', '\u{2066}', '\r'];

#[cfg(unix)]
#[test]
fn control_characters_are_shown_not_obeyed() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("controls");
    let source = "import time\n# looplint: ignore[\x1b]0;owned\x07]\n\n\nasync def tick():\n    \"\u{202e}\x1b[2J\u{9b}31m\"; time.sleep(1)  # \x1b]8;;x\x07\r\n";
    dir.write("ctl.py", source);
    let name = OsStr::from_bytes(b"t\x1b[31mitle\x07.py");
    std::fs::write(dir.path().join(name), source).unwrap();
    for format in ["human", "concise", "github"] {
        let out = looplint(dir.path(), &["check", "--format", format]);
        assert_survived(&out);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("blocking-call-in-async"), "{format}: {text}");
        for c in HOSTILE {
            let raw = if c == '\r' {
                "\r".to_string()
            } else {
                c.to_string()
            };
            if c == '\r' {
                // Line breaks of CRLF sources may stay; a lone carriage return may not.
                assert!(!text.replace("\r\n", "").contains(&raw), "{format}: CR");
            } else {
                assert!(!text.contains(&raw), "{format} let {c:?} through:\n{text}");
            }
        }
        assert!(text.contains('\u{241b}'), "{format}: {text}");
    }
    // JSON keeps the exact text.
    let out = looplint(dir.path(), &["check", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    assert!(paths.contains(&"t\x1b[31mitle\x07.py"), "{paths:?}");
    let messages = v.to_string();
    assert!(
        messages.contains("\\u001b"),
        "the exact rule name is kept: {messages}"
    );
}

#[test]
fn each_path_uses_its_own_configuration() {
    let dir = TempDir::new("configs");
    dir.write("quiet/x.py", GOOD_PY);
    dir.write(
        "quiet/.looplint.toml",
        "ignore = [\"blocking-call-in-async\"]\n",
    );
    dir.write("loud/y.py", GOOD_PY);
    let ab = looplint(dir.path(), &["check", "--format", "json", "quiet", "loud"]);
    let ba = looplint(dir.path(), &["check", "--format", "json", "loud", "quiet"]);
    assert_survived(&ab);
    assert_eq!(ab.status.code(), Some(1), "{}", stderr(&ab));
    assert_eq!(ab.status.code(), ba.status.code());
    assert_eq!(findings(&ab), findings(&ba));
    assert_eq!(
        findings(&ab),
        vec![(
            "loud/y.py".to_string(),
            "blocking-call-in-async".to_string()
        )]
    );
    // A baseline written over both records what the check reports, whatever the order, and
    // the check through it is then clean.
    let write = looplint(
        dir.path(),
        &["check", "--write-baseline", "base.json", "quiet", "loud"],
    );
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    let text = std::fs::read_to_string(dir.path().join("base.json")).unwrap();
    assert!(text.contains("loud/y.py"), "{text}");
    assert!(!text.contains("quiet/x.py"), "{text}");
    let through = looplint(
        dir.path(),
        &["check", "--baseline", "base.json", "loud", "quiet"],
    );
    assert_eq!(through.status.code(), Some(0), "{}", stdout(&through));
    // The settings shown are each path's own.
    let settings = stdout(&looplint(
        dir.path(),
        &["check", "--show-settings", "quiet", "loud"],
    ));
    let (quiet, loud) = settings.split_once("\npaths: loud\n").expect(&settings);
    assert!(quiet.starts_with("paths: quiet\n"), "{settings}");
    assert!(quiet.contains("quiet/.looplint.toml"), "{settings}");
    assert!(!quiet.contains(" blocking-call-in-async"), "{settings}");
    assert!(loud.contains("configuration file: none"), "{settings}");
    assert!(loud.contains(" blocking-call-in-async"), "{settings}");
    let files = |args: &[&str]| {
        let mut lines: Vec<String> = stdout(&looplint(dir.path(), args))
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(
        files(&["check", "--show-files", "quiet", "loud"]),
        files(&["check", "--show-files", "loud", "quiet"])
    );
}

#[test]
fn broken_manifests_links_and_tokens_are_told() {
    let dir = TempDir::new("told");
    dir.write("pkg/Cargo.toml", "[package\nname = \"x\"\n");
    dir.write("pkg/src/main.rs", GOOD_RS);
    dir.write(
        "lex/unclosed_string.rs",
        "fn main() {\n    let s = \"abc;\n}\n",
    );
    dir.write("lex/stray_brace.rs", "fn main() {}\n}\n");
    dir.write("lex/odd_char.rs", "fn main() { let x = 1 \u{a7} 2; }\n");
    let out = looplint(dir.path(), &["check", "--format", "concise", "pkg", "lex"]);
    assert_survived(&out);
    let text = stdout(&out);
    assert!(
        text.contains("pkg/Cargo.toml: invalid manifest"),
        "a malformed manifest is told: {text}"
    );
    assert!(
        text.contains("blocking-call-in-async"),
        "its files are still checked: {text}"
    );
    assert!(
        !text.contains("cannot parse string into token stream"),
        "{text}"
    );
    assert!(text.contains("a string literal is not closed"), "{text}");
    assert!(text.contains("`}` closes nothing open"), "{text}");
    assert!(text.contains("(U+00A7) is not a Rust token"), "{text}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            dir.path().join("pkg/src/main.rs"),
            dir.path().join("pkg/link.rs"),
        )
        .unwrap();
        let out = looplint(dir.path(), &["check", "pkg"]);
        assert!(
            stderr(&out).contains("pkg/link.rs: symbolic link, not followed"),
            "{}",
            stderr(&out)
        );
    }
}

#[cfg(unix)]
#[test]
fn a_report_that_cannot_be_written_fails_the_run() {
    let dir = TempDir::new("closed");
    dir.write("good.py", GOOD_PY);
    // Standard output closed (`>&-`): the run says so and exits 2, never 0 or 1.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "\"{}\" check good.py >&-",
            env!("CARGO_BIN_EXE_looplint")
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("standard output is closed"),
        "{}",
        stderr(&out)
    );
}
