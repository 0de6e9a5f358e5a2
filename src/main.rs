//! The `looplint` binary.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(looplint::cli::run(args));
}
