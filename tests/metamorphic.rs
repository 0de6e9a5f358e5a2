//! Metamorphic tests over the fixtures: rewrites that keep a program's meaning (rename functions
//! and locals, import under an alias, extract a body into a helper, move a function into another
//! module file, wrap a function in a method of a new type) must keep every finding of the
//! original at the line it moved to, and add none. Known gaps and known noise are listed under
//! `tests/metamorphic/`; the test fails when either list is out of date.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use looplint::kb::Kb;
use support::harness::{
    Outcome, Program, TempDir, bless_gaps, read_list, reconcile, run_files_with_uses,
};
use support::rewrite::{REWRITES, Tree, apply, reserved_names};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The files of one fixture input, relative to the input (a file keeps its name).
fn fixture_files(input: &Path) -> Vec<(String, String)> {
    if input.is_file() {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        return vec![(name, std::fs::read_to_string(input).unwrap_or_default())];
    }
    let mut out = Vec::new();
    let mut stack = vec![input.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(input)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

type Key = (String, u32, String);

fn run(files: &[(String, String)], kb: &Kb) -> BTreeSet<Key> {
    let dir = TempDir::new("metamorphic");
    run_files_with_uses(&dir.0, files, kb)
        .into_iter()
        .map(|(p, l, r, _)| (p, l, r))
        .collect()
}

fn show(keys: &BTreeSet<Key>) -> String {
    keys.iter()
        .map(|(p, l, r)| format!("{p}:{l} {r}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn rewrites_keep_findings() {
    let started = std::time::Instant::now();
    let kb = Kb::builtin();
    let reserved = reserved_names();
    let mut programs = Vec::new();
    let mut outcomes = Vec::new();
    for (lang, python) in [("rust", false), ("python", true)] {
        let lang_dir = root().join("fixtures").join(lang);
        let mut rules: Vec<PathBuf> = std::fs::read_dir(&lang_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        rules.sort();
        for rule_dir in rules {
            let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
            if matches!(rule.as_str(), "syntax-error" | "unused-suppression") {
                continue;
            }
            let mut inputs: Vec<PathBuf> = std::fs::read_dir(&rule_dir)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect();
            inputs.sort();
            for input in inputs {
                let name = input.file_name().unwrap().to_string_lossy().into_owned();
                let files = fixture_files(&input);
                let original = run(&files, &kb);
                let hot: BTreeSet<(String, u32)> =
                    original.iter().map(|(p, l, _)| (p.clone(), *l)).collect();
                let tree = Tree::new(&files);
                for rewrite in REWRITES {
                    let Some(new) = apply(rewrite, &tree, python, &hot, &reserved) else {
                        continue;
                    };
                    let moves = new.moves();
                    let expected: BTreeSet<Key> = original
                        .iter()
                        .map(|(p, l, r)| {
                            let (np, nl) = moves
                                .get(&(p.clone(), *l))
                                .cloned()
                                .unwrap_or((p.clone(), *l));
                            (np, nl, r.clone())
                        })
                        .collect();
                    let got = run(&new.texts(), &kb);
                    let missing: BTreeSet<Key> = expected.difference(&got).cloned().collect();
                    let extra: BTreeSet<Key> = got.difference(&expected).cloned().collect();
                    let known_rules: BTreeSet<&str> =
                        original.iter().map(|k| k.2.as_str()).collect();
                    let outcome = if missing.is_empty() && extra.is_empty() {
                        Outcome::Pass
                    } else if extra.iter().any(|k| !known_rules.contains(k.2.as_str())) {
                        Outcome::Noise(format!("gained {}", show(&extra)))
                    } else {
                        Outcome::Gap(format!(
                            "lost {}{}",
                            show(&missing),
                            if extra.is_empty() {
                                String::new()
                            } else {
                                format!("; found instead {}", show(&extra))
                            }
                        ))
                    };
                    if std::env::var_os("LOOPLINT_DUMP").is_some_and(|w| {
                        format!("{lang}/{rewrite}/{rule}/{name}")
                            .contains(w.to_string_lossy().as_ref())
                    }) {
                        let keep = std::env::temp_dir()
                            .join("looplint-dump")
                            .join(format!("{lang}__{rewrite}__{rule}__{name}"));
                        let _ = std::fs::remove_dir_all(&keep);
                        for (rel, text) in new.texts() {
                            let p = keep.join(rel);
                            let _ = std::fs::create_dir_all(p.parent().unwrap());
                            let _ = std::fs::write(p, text);
                        }
                    }
                    let kind = if original.is_empty() { "clean" } else { "bug" };
                    let dims = vec![
                        ("rewrite", rewrite.to_string()),
                        ("rule", rule.clone()),
                        ("fixture", name.clone()),
                    ];
                    let mut program = Program::new(lang, dims, None, Vec::new());
                    program.dims.pop();
                    program.dims.push(("original", kind.to_string()));
                    program.rule = original
                        .iter()
                        .next()
                        .map(|k| looplint::rules::find(&k.2).expect("registered rule").id);
                    programs.push(program);
                    outcomes.push(outcome);
                }
            }
        }
    }
    let gaps_path = root().join("tests/metamorphic/known_gaps.txt");
    let noise_path = root().join("tests/metamorphic/known_noise.txt");
    let mut failures = Vec::new();
    for lang in ["rust", "python"] {
        let (p, o): (Vec<Program>, Vec<Outcome>) = programs
            .iter()
            .cloned()
            .zip(outcomes.iter().cloned())
            .filter(|(p, _)| p.id.starts_with(&format!("{lang}/")))
            .unzip();
        bless_gaps(&gaps_path, &p, &o);
        failures.extend(reconcile(
            &format!("{lang} metamorphic"),
            &p,
            &o,
            &read_list(&gaps_path),
            &read_list(&noise_path),
            "tests/metamorphic/known_gaps.txt",
            "tests/metamorphic/known_noise.txt",
        ));
    }
    eprintln!(
        "metamorphic: {} rewritten fixtures in {:.1}s",
        programs.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}\n",
        failures.len(),
        failures.join("\n")
    );
}
