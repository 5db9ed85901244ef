//! The `torch` command: parse arguments, run the library, report errors.

use std::process::ExitCode;

fn main() -> ExitCode {
    let config = torch::cli::Args::parse_from_env().into_config();
    match torch::run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("torch: error: {}", torch::error_chain(&e));
            ExitCode::from(2)
        }
    }
}
