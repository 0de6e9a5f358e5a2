//! The parse-only floor for the Rust corpus benchmark: reads and parses every `.rs` file under
//! the given directories with `syn` alone, in parallel, the way the Rust frontend does, and
//! prints the file count and wall time. `bench/corpus.sh` compares `looplint check` against it.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

fn main() {
    let roots: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if roots.is_empty() {
        eprintln!("usage: cargo bench --bench parse_floor -- DIR...");
        std::process::exit(2);
    }
    let start = Instant::now();
    let mut files = Vec::new();
    for root in &roots {
        for entry in ignore::WalkBuilder::new(root).build().flatten() {
            if entry.path().extension().is_some_and(|e| e == "rs") {
                files.push(entry.into_path());
            }
        }
    }
    let parsed: usize = files
        .par_iter()
        .map(|p| {
            let ok = std::fs::read_to_string(p)
                .ok()
                .map(|text| syn::parse_file(&text).is_ok());
            proc_macro2::extra::invalidate_current_thread_spans();
            usize::from(ok == Some(true))
        })
        .sum();
    println!(
        "parse-only: {} files, {} parsed, {:.2} s",
        files.len(),
        parsed,
        start.elapsed().as_secs_f64()
    );
}
