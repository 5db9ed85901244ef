//! What to read and reading it: profile files, and the optional binary that
//! may come first on the command line (`torch storage.test mem.out`).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Bytes of one profile as read, with where they came from.
#[derive(Debug, Clone)]
pub struct RawProfile {
    pub bytes: Vec<u8>,
    pub origin: Origin,
    /// The executable the profile was taken from, when the user named one.
    pub binary: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
}

impl Origin {
    /// How the input is named in messages.
    pub fn name(&self) -> String {
        match self {
            Origin::File(path) => path.display().to_string(),
        }
    }
}

/// Splits positionals into an optional leading binary and the profiles, the
/// way `go tool pprof BIN PROF` and go-torch take them: the first of several
/// arguments is the binary when it is an ELF executable.
pub fn split_binary(inputs: &[PathBuf]) -> Result<(Option<PathBuf>, Vec<PathBuf>), Error> {
    match inputs {
        [first, rest @ ..] if !rest.is_empty() && is_elf(first)? => {
            Ok((Some(first.clone()), rest.to_vec()))
        }
        [only] if is_elf(only)? => Err(Error::BinaryWithoutProfile { path: only.clone() }),
        _ => Ok((None, inputs.to_vec())),
    }
}

fn is_elf(path: &Path) -> Result<bool, Error> {
    const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
    let read_error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut magic = [0u8; 4];
    let mut file = fs::File::open(path).map_err(read_error)?;
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(&magic == ELF_MAGIC),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(read_error(e)),
    }
}

/// Reads a profile file whole.
pub fn read_file(path: &Path, binary: Option<&Path>) -> Result<RawProfile, Error> {
    let bytes = fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(RawProfile {
        bytes,
        origin: Origin::File(path.to_path_buf()),
        binary: binary.map(Path::to_path_buf),
    })
}
