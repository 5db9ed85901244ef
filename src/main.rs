//! The `torch` command: parse arguments, run the library, report errors.

use std::error::Error as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = torch::cli::Args::parse_from_env().into_config();
    match torch::run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut cause = e.source();
            while let Some(source) = cause {
                message.push_str(": ");
                message.push_str(&source.to_string());
                cause = source.source();
            }
            eprintln!("torch: error: {message}");
            ExitCode::from(2)
        }
    }
}
