//! Feedback on standard error while a profile is being collected: a bar
//! with the seconds left when stderr is a terminal, one line when it is not,
//! nothing with `-q`. Also where warnings are printed.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How much to say while working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    Quiet,
    Line,
    Bar,
}

impl Feedback {
    /// A bar on a terminal, a line otherwise, nothing when `quiet`.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Feedback::Quiet
        } else if std::io::stderr().is_terminal() {
            Feedback::Bar
        } else {
            Feedback::Line
        }
    }
}

/// A running progress display; stops and clears itself when dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing that `what` takes `seconds` seconds.
    pub fn start(feedback: Feedback, what: &str, seconds: u64) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = match feedback {
            Feedback::Quiet => None,
            Feedback::Line => {
                eprintln!("torch: {what}: waiting {seconds} s for the profile");
                None
            }
            Feedback::Bar => {
                let stop = Arc::clone(&stop);
                let what = what.to_owned();
                Some(thread::spawn(move || draw_until(&stop, &what, seconds)))
            }
        };
        Progress { stop, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
            // Clear the bar's line so what follows starts clean.
            eprint!("{}", clear_line());
        }
    }
}

/// Width of the bar's line, to blank it where escapes do not work.
const LINE_WIDTH: usize = 79;

/// What returns to the start of a terminal line and blanks it: `\r` and
/// the erase-line escape, or, in a Windows console that cannot be switched
/// to escape sequences (before Windows 10), `\r`, spaces and `\r`.
pub fn clear_line() -> &'static str {
    static CLEAR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CLEAR.get_or_init(|| match console::escapes_work() {
        true => "\r\x1b[2K".to_owned(),
        false => format!("\r{}\r", " ".repeat(LINE_WIDTH)),
    })
}

#[cfg(windows)]
mod console {
    use windows_sys::Win32::System::Console::{
        GetConsoleMode, GetStdHandle, SetConsoleMode, ENABLE_VIRTUAL_TERMINAL_PROCESSING,
        STD_ERROR_HANDLE,
    };

    /// Turns on escape sequences for stderr's console (Windows 10 and
    /// later support them, off by default in the classic console).
    pub fn escapes_work() -> bool {
        static WORK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *WORK.get_or_init(switch_on)
    }

    fn switch_on() -> bool {
        // SAFETY: plain Win32 calls on the process's own stderr handle;
        // `mode` is a valid place for GetConsoleMode to write.
        unsafe {
            let handle = GetStdHandle(STD_ERROR_HANDLE);
            let mut mode = 0;
            if GetConsoleMode(handle, &mut mode) == 0 {
                return false;
            }
            mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0
                || SetConsoleMode(handle, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0
        }
    }
}

#[cfg(not(windows))]
mod console {
    /// Terminals elsewhere understand escape sequences.
    pub fn escapes_work() -> bool {
        true
    }
}

fn draw_until(stop: &AtomicBool, what: &str, seconds: u64) {
    const WIDTH: u64 = 30;
    let start = Instant::now();
    let total = Duration::from_secs(seconds.max(1));
    while !stop.load(Ordering::Relaxed) {
        let elapsed = start.elapsed();
        let done = (elapsed.as_millis() * WIDTH as u128 / total.as_millis()).min(WIDTH as u128);
        let bar = format!(
            "{}{}",
            "#".repeat(done as usize),
            "-".repeat((WIDTH as u128 - done) as usize)
        );
        let status = match total.checked_sub(elapsed) {
            Some(left) => format!("{} s left", left.as_secs() + 1),
            None => "waiting for the server".to_owned(),
        };
        let mut stderr = std::io::stderr().lock();
        let line = format!("{what} [{bar}] {status}");
        // Spaces blank only LINE_WIDTH columns: the line must fit.
        let width = match console::escapes_work() {
            true => line.len(),
            false => LINE_WIDTH,
        };
        let _ = write!(stderr, "{}{line:.width$}", clear_line());
        let _ = stderr.flush();
        drop(stderr);
        thread::sleep(Duration::from_millis(200));
    }
}

/// `text` safe to print to a terminal: control characters (a newline
/// forging a second `torch: error:` line, escape sequences that retitle
/// or clear the window) are shown escaped, as `\n` or `\u{1b}`.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c.is_control() {
            true => shown.extend(c.escape_default()),
            false => shown.push(c),
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// Says on standard error what a run wrote (`wrote torch.svg (cpu, 2.75 s
/// total)`), unless `quiet`; standard output stays for the results.
pub fn wrote(quiet: bool, what: &str) {
    if !quiet {
        eprintln!("torch: wrote {}", printable(what));
    }
}

/// Says on standard error what a run is doing that the user should know
/// (what was paired with what).
pub fn note(message: &str) {
    eprintln!("torch: {}", printable(message));
}

/// Prints a warning: something went wrong that did not stop the run.
pub fn warn(message: &str) {
    eprintln!("torch: warning: {}", printable(message));
}
