//! The scenario generator: programs generated from crossed dimensions (bug class, where the code
//! sits, how it is reached, how a value travels, how runtimes multiply), each with a correct
//! near-twin. The expected finding of each program comes from its description; the checked-in
//! lists under `tests/scenarios/` name the known gaps and the known noise, and the test fails
//! when either list is out of date. Run with `-- --nocapture` to see pass counts per dimension;
//! set `LOOPLINT_BLESS_GAPS=1` to rewrite the gap list from the current analysis.

mod support;

use std::path::{Path, PathBuf};

use support::harness::{Program, bless_gaps, read_list, reconcile, run_all};

fn list_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
}

fn check_language(title: &str, programs: Vec<Program>) {
    let started = std::time::Instant::now();
    let outcomes = run_all(&programs);
    let gaps_path = list_path("known_gaps.txt");
    bless_gaps(&gaps_path, &programs, &outcomes);
    let gaps = read_list(&gaps_path);
    let noise = read_list(&list_path("known_noise.txt"));
    let failures = reconcile(
        title,
        &programs,
        &outcomes,
        &gaps,
        &noise,
        "tests/scenarios/known_gaps.txt",
        "tests/scenarios/known_noise.txt",
    );
    eprintln!(
        "{title}: {} programs in {:.1}s",
        programs.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{title}: {} problem(s):\n{}\n",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn rust_scenarios() {
    let programs = support::rust_gen::generate();
    assert!(programs.len() >= 400, "{} Rust programs", programs.len());
    check_language("rust scenarios", programs);
}

#[test]
fn python_scenarios() {
    let programs = support::python_gen::generate();
    assert!(programs.len() >= 400, "{} Python programs", programs.len());
    check_language("python scenarios", programs);
}

#[test]
fn tags_are_stripped_and_located() {
    let (text, sites) =
        support::harness::strip_tags("a.rs", "fn f() {\n    g(); @@\n    h(); @?\n}\n");
    assert_eq!(text, "fn f() {\n    g();\n    h();\n}\n");
    assert_eq!(
        sites,
        vec![
            ("a.rs".to_string(), 2, true),
            ("a.rs".to_string(), 3, false)
        ]
    );
}
