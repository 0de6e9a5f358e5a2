//! The command line: `looplint check`, `looplint rule`, `looplint rules`.

/// Runs the command line with `args` (without the program name) and returns the exit code.
pub fn run(args: Vec<String>) -> i32 {
    let _ = args;
    2
}
