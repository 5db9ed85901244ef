//! The `torch` command: parse arguments, run the library, report errors.

use std::process::ExitCode;

// Most of torch's allocations are the stacks of a profile's samples, made and
// freed by the hundred thousand; mimalloc handles those far faster than the
// platform allocators (see `configure_allocator`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ctrl-C (or SIGTERM, SIGHUP) ends torch at once, but not silently and
/// not leaving anything half-written: a progress line on a terminal is
/// cleared, "interrupted" said, a temporary file being written removed
/// (the output it was to replace stays as it was), and the exit code is
/// the shell's for SIGINT.
fn on_interrupt_say_so() {
    let _ = ctrlc::set_handler(|| {
        use std::io::{IsTerminal, Write};
        let mut stderr = std::io::stderr().lock();
        if stderr.is_terminal() {
            let _ = write!(stderr, "{}", torch::progress::clear_line());
        }
        let _ = writeln!(stderr, "torch: interrupted");
        torch::output::remove_unfinished();
        std::process::exit(130);
    });
}

/// Keeps freed pages for 50 ms (mimalloc's default is 10) before
/// returning them to the system, so that the next allocations take them
/// again instead of faulting in fresh pages, which the kernel must clear
/// first. Returned at once, they cost three times the page faults on a
/// large heap profile (`--output-dir` draws four graphs one after another
/// from the same memory); kept, peak memory grows by under a tenth.
fn configure_allocator() {
    // `mi_option_purge_delay` in mimalloc.h (the same in its v2 and v3).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a process-wide option; mimalloc allows it at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 50) };
    no_transparent_huge_pages();
}

/// Turns transparent huge pages off for this process. mimalloc asks for
/// them (`MADV_HUGEPAGE`) on the memory it takes from the system, and
/// where the kernel honours that, each first touch of a 2 MB region
/// clears all of it, and with the usual `defrag=madvise` may first
/// compact memory to find it, while the caller waits. torch touches
/// most of its memory once, in large sweeps: on the 16x scale profile
/// this took 4-15 s of system time for an SVG, against about 1 s with
/// ordinary pages, and made run times swing several-fold.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a
    // flag of this process; a kernel without it returns an error, which
    // changes nothing.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn no_transparent_huge_pages() {}

fn main() -> ExitCode {
    configure_allocator();
    on_interrupt_say_so();
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
            let message = torch::error_chain(&e);
            eprintln!("torch: error: {}", torch::progress::printable(&message));
            ExitCode::from(2)
        }
    }
}
