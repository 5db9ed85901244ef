//! Where results go: a file written atomically, or standard output.
//!
//! A file is first written to a temporary file in the same directory and then
//! renamed over the target, so a failed or interrupted run never leaves a
//! truncated file and never replaces a good one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Where the result of a run is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    File(PathBuf),
    Stdout,
}

/// Writes `contents` to `destination`.
pub fn write(destination: &Destination, contents: &[u8]) -> Result<(), Error> {
    match destination {
        Destination::Stdout => write_stdout(contents),
        Destination::File(path) => write_atomically(path, |file| file.write_all(contents)),
    }
}

/// Streams to standard output as `fill` writes (buffer it: standard
/// output is line-buffered).
pub fn stream_stdout(fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    fill(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(Error::Stdout)
}

/// Writes everything to standard output at once.
pub fn write_stdout(contents: &[u8]) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(contents)
        .and_then(|()| stdout.flush())
        .map_err(Error::Stdout)
}

/// Whether `path` exists and is something other than a regular file or a
/// directory (a device such as `/dev/null`, a FIFO, what `/dev/stdout`
/// points to), or is anything under `/dev` or `/proc` (`/dev/stdout`
/// redirected to a file is a link to a regular file). Those are written
/// to as they are, never replaced. (A link elsewhere to a regular file is
/// replaced, not written through: a link planted in a shared directory
/// must not make torch overwrite what it points to.)
pub fn is_special(path: &Path) -> bool {
    let system = cfg!(unix) && (path.starts_with("/dev") || path.starts_with("/proc"));
    let exists = fs::metadata(path);
    exists.is_ok_and(|m| system || (!m.is_file() && !m.is_dir()))
}

/// Creates `path` through a temporary sibling file and a rename; a device
/// or FIFO is written to directly instead (a rename would replace it).
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> Result<(), Error> {
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if is_special(path) {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(fail)?;
        return fill(&mut file).and_then(|()| file.flush()).map_err(fail);
    }

    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".torch-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(fail)?;
    let _unfinished = Unfinished::register(temp.path());
    fill(temp.as_file_mut())
        .and_then(|()| temp.as_file_mut().sync_all())
        .map_err(fail)?;
    keep_permissions_of_existing(path, temp.as_file()).map_err(fail)?;
    temp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Temporary files being written, so that an interrupted run (Ctrl-C,
/// SIGTERM) can remove them on its way out: a signal ends the process
/// without running destructors.
static UNFINISHED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A temporary file listed in [`UNFINISHED`] while it lives.
struct Unfinished(PathBuf);

impl Unfinished {
    fn register(path: &Path) -> Unfinished {
        let mut list = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
        list.push(path.to_path_buf());
        Unfinished(path.to_path_buf())
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        let mut list = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|path| *path != self.0);
    }
}

/// Removes the temporary files of writes still under way: for a process
/// about to end on a signal.
pub fn remove_unfinished() {
    // A signal may come while the list is held; then there is nothing
    // safe to do but leave the files.
    if let Ok(list) = UNFINISHED.try_lock() {
        for path in list.iter() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A temp file is created `0600`; a new output should be readable like any
/// file the user creates, and a replaced one keeps its mode.
fn keep_permissions_of_existing(path: &Path, temp: &fs::File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match fs::metadata(path) {
            Ok(existing) => existing.permissions().mode(),
            Err(_) => 0o644,
        };
        temp.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, temp);
    Ok(())
}

/// Fails early, before any slow work, when `path` cannot be an output
/// file: it is a directory, names one (a trailing slash), or cannot be
/// created (see [`check_directory`]).
pub fn check_file(path: &Path) -> Result<(), Error> {
    if is_special(path) {
        return Ok(());
    }
    let refuse = |reason: &str| {
        Err(Error::Output {
            path: path.to_path_buf(),
            reason: reason.to_owned(),
        })
    };
    if path.is_dir() {
        return refuse(
            "is a directory; name a file in it (-f DIR/torch.svg), \
             or use --output-dir for one graph per sample type",
        );
    }
    let text = path.as_os_str().to_string_lossy();
    if text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
        return refuse("names a directory (it ends with a slash), but -f takes a file name");
    }
    check_directory(path)
}

/// Fails early, before any slow work (a 30-second profile, say), when
/// `path` cannot be created: its directory is missing or not writable.
pub fn check_directory(path: &Path) -> Result<(), Error> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if !directory.is_dir() {
        let missing = io::Error::new(io::ErrorKind::NotFound, "the directory does not exist");
        return Err(fail(missing));
    }
    // The same kind of file the real write uses, removed at once.
    tempfile::Builder::new()
        .prefix(".torch-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map(drop)
        .map_err(fail)
}

/// Whether `a` and `b` name the same existing file (not just the same
/// name: hard links and different spellings count).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(a_meta), Ok(b_meta)) = (fs::metadata(a), fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a_meta.dev() == b_meta.dev() && a_meta.ino() == b_meta.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a_meta, b_meta);
        matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
    }
}

/// `--output-dir`: creates the directory (and its parents) when missing,
/// and checks it can be written to, before any slow work.
pub fn make_directory(directory: &Path) -> Result<(), Error> {
    if directory.exists() && !directory.is_dir() {
        return Err(Error::Output {
            path: directory.to_path_buf(),
            reason: "is a file, not a directory; --output-dir needs a directory \
                     (made if missing)"
                .to_owned(),
        });
    }
    fs::create_dir_all(directory).map_err(|source| Error::Write {
        path: directory.to_path_buf(),
        source,
    })?;
    check_directory(&directory.join("index.html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().join(".torch-x.tmp");
        fs::write(&temp, "half").unwrap();
        let unfinished = Unfinished::register(&temp);
        remove_unfinished();
        assert!(!temp.exists(), "removed on the way out");
        drop(unfinished);
        assert!(
            UNFINISHED.lock().unwrap().iter().all(|p| *p != temp),
            "unlisted once done"
        );
    }
}
