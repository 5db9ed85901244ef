//! The library's error type. Each variant names the input or output it is
//! about; the underlying cause is its `source`, so `main` can print the
//! whole chain on one line.

use std::io;
use std::path::PathBuf;

use crate::fold::FoldError;
use crate::profile::{DecodeError, MergeError};
use crate::render::RenderError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{input}")]
    Decode {
        input: String,
        #[source]
        source: DecodeError,
    },
    #[error("{input}: the profile has no samples")]
    NoSamples { input: String },
    #[error(
        "{input}: --min-wait needs a goroutine dump (debug=2, SIGQUIT or panic output), \
         which says how long each goroutine has waited"
    )]
    MinWaitWithoutDump { input: String },
    #[error(
        "--bench-output was given {count} time(s); give it twice, the base's output first, \
         then the new side's (or not at all, to use each side's bench.txt)"
    )]
    BenchOutputs { count: usize },
    #[error("--list {pattern:?} is no regular expression: {reason}")]
    ListPattern { pattern: String, reason: String },
    #[error("{input}: no function matches --list {pattern:?}")]
    ListNoMatch { input: String, pattern: String },
    #[error("{input}")]
    Fold {
        input: String,
        #[source]
        source: FoldError,
    },
    #[error("{}: is an executable, not a profile; give the profile after it: torch {} PROFILE", .path.display(), .path.display())]
    BinaryWithoutProfile { path: PathBuf },
    #[error(
        "{}: looks like an executable, not a profile; name the binary first \
         (torch {} {})",
        .path.display(), .path.display(), .profile
    )]
    BinaryNotFirst { path: PathBuf, profile: String },
    #[error("{input}: cannot draw the flame graph")]
    Render {
        input: String,
        #[source]
        source: RenderError,
    },
    #[error("{input}")]
    Merge {
        input: String,
        #[source]
        source: MergeError,
    },
    #[error("{input}")]
    Symbolize {
        input: String,
        #[source]
        source: crate::symbolize::binary::BinaryError,
    },
    #[error("{input}: the profile's drop_frames/keep_frames")]
    FrameRegex {
        input: String,
        #[source]
        source: crate::profile::FrameRegexError,
    },
    #[error(
        "{input}: no runtime.MemStats block; --memstats reads heap profiles fetched with ?debug=1"
    )]
    NoMemStats { input: String },
    #[error("{input}")]
    Diff {
        input: String,
        #[source]
        source: crate::diff::DiffError,
    },
    #[error("--every writes several files next to -f PATH; it cannot print to standard output")]
    HuntNeedsFile,
    #[error("{url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{url}: not a usable URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{input}: larger than the {limit}-byte limit (--max-size)")]
    TooLarge { input: String, limit: u64 },
    #[error("none of the {count} sources could be read")]
    AllSourcesFailed { count: usize },
    #[error("{}: cannot write", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write to standard output")]
    Stdout(#[source] io::Error),
    #[error("{}: {reason}", .path.display())]
    Output { path: PathBuf, reason: String },
}

impl Error {
    /// True when the only problem is a reader that went away (`torch -r | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Stdout(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}
