//! The `looplint` binary.

fn main() {
    // Arguments as the OS gives them: a path need not be UTF-8.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    std::process::exit(looplint::cli::run(args));
}
