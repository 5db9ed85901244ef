//! The `torch` command: parse arguments, run the library, report errors.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(extra) = torch::cli::extra_command(&args) {
        let written = extra.and_then(|extra| {
            match torch::cli::write_extra(extra, &mut std::io::stdout().lock()) {
                // A closed pipe (`torch man | head`) is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
                _ => Ok(()),
            }
        });
        return match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("torch: error: {message}");
                ExitCode::from(2)
            }
        };
    }
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
