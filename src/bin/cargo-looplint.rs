//! `cargo looplint`: checks Cargo packages; see [`looplint::cargo`] for the options.

fn main() {
    std::process::exit(looplint::cargo::run(std::env::args_os().skip(1).collect()));
}
