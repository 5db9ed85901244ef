//! The build information the Go linker embeds in every binary since Go
//! 1.18 (what `go version -m` prints): the main package's path, the main
//! module and the modules it depends on. The Go palette uses it to tell the
//! user's own code from third-party code.
//!
//! The blob starts with a 16-byte header (`\xff Go buildinf:`, pointer
//! size, flags) aligned to 16 bytes; with the "inline strings" flag, the Go
//! version and the module information follow as varint-prefixed strings.
//! Older layouts (pointers to strings) are not read: such binaries simply
//! have no module information.

use std::path::Path;

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
const FLAG_INLINE_STRINGS: u8 = 0x2;

/// What a binary says about how it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.27.3`.
    pub go_version: String,
    /// The main package's import path (`example.com/m/cmd/server`,
    /// `example.com/m.test` for a test binary).
    pub main_package: String,
    /// The main module's path, when built in module mode.
    pub main_module: Option<String>,
    /// Paths of the modules the binary was built with.
    pub dependencies: Vec<String>,
}

impl BuildInfo {
    /// The module the user's own code is in: the main module, else the
    /// main package's path (less a test binary's `.test`).
    pub fn own_module(&self) -> Option<&str> {
        match &self.main_module {
            Some(module) if !module.is_empty() => Some(module),
            _ => {
                let package = self.main_package.trim_end_matches(".test");
                (!package.is_empty() && package != "command-line-arguments").then_some(package)
            }
        }
    }
}

/// Reads the build information of the binary at `path`; `None` when it
/// cannot be read or holds none.
pub fn read(path: &Path) -> Option<BuildInfo> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: read-only mapping; a file changed underneath gives wrong
    // bytes, which the parser below bounds-checks.
    let bytes = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    parse(&bytes)
}

/// Finds and parses the build information in a binary's bytes.
pub fn parse(binary: &[u8]) -> Option<BuildInfo> {
    // The linker aligns the blob to 16 bytes, so only those offsets need
    // looking at.
    (0..binary.len())
        .step_by(16)
        .filter(|&at| binary[at..].starts_with(MAGIC))
        .find_map(|at| parse_blob(&binary[at..]))
}

fn parse_blob(blob: &[u8]) -> Option<BuildInfo> {
    let flags = *blob.get(MAGIC.len() + 1)?;
    if flags & FLAG_INLINE_STRINGS == 0 {
        return None;
    }
    let mut rest = blob.get(HEADER_LEN..)?;
    let go_version = read_string(&mut rest)?;
    let module_info = read_string(&mut rest)?;
    let mut info = BuildInfo {
        go_version: String::from_utf8_lossy(go_version).into_owned(),
        ..BuildInfo::default()
    };
    // The module text is wrapped in 16-byte sentinels; lines are
    // tab-separated `path`, `mod`, `dep`, `=>` (replacement) and `build`.
    let text = String::from_utf8_lossy(module_info);
    for line in text.lines() {
        let mut fields = line.split('\t');
        let (Some(kind), Some(value)) = (fields.next(), fields.next()) else {
            continue;
        };
        let kind = kind
            .rsplit(|c: char| !c.is_ascii_alphabetic() && c != '=')
            .next();
        match kind {
            Some("path") => info.main_package = value.to_owned(),
            Some("mod") => info.main_module = Some(value.to_owned()),
            Some("dep") => info.dependencies.push(value.to_owned()),
            _ => {}
        }
    }
    Some(info)
}

/// A uvarint length, then that many bytes.
fn read_string<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut length: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, tail) = rest.split_first()?;
        *rest = tail;
        length |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            let length = usize::try_from(length).ok()?;
            if length > rest.len() {
                return None;
            }
            let (string, tail) = rest.split_at(length);
            *rest = tail;
            return Some(string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut bytes = vec![0u8; 16]; // keeps the magic 16-byte aligned
        bytes.extend_from_slice(MAGIC);
        bytes.push(8);
        bytes.push(FLAG_INLINE_STRINGS);
        bytes.resize(16 + HEADER_LEN, 0);
        for string in [version, modinfo] {
            let mut length = string.len();
            while length >= 0x80 {
                bytes.push((length as u8) | 0x80);
                length >>= 7;
            }
            bytes.push(length as u8);
            bytes.extend_from_slice(string.as_bytes());
        }
        bytes
    }

    #[test]
    fn reads_module_lines() {
        let modinfo = "0w\u{af}\x0c\u{92}t\x08\x02A\u{e1}\u{c1}\x07\u{e6}\u{d6}\x18\u{e6}path\texample.com/m/cmd/s\n\
                       mod\texample.com/m\t(devel)\t\n\
                       dep\tgithub.com/x/y\tv1.2.3\th1:abc=\n\
                       build\tCGO_ENABLED=0\n";
        let info = parse(&blob("go1.27.3", modinfo)).unwrap();
        assert_eq!(info.go_version, "go1.27.3");
        assert_eq!(info.main_package, "example.com/m/cmd/s");
        assert_eq!(info.own_module(), Some("example.com/m"));
        assert_eq!(info.dependencies, vec!["github.com/x/y"]);
    }

    #[test]
    fn a_truncated_blob_is_ignored() {
        let mut bytes = blob("go1.27.3", "path\tx\n");
        bytes.truncate(bytes.len() - 3);
        assert_eq!(parse(&bytes), None);
        assert_eq!(parse(b"no build info here"), None);
    }

    #[test]
    fn test_binaries_without_modules_use_the_package() {
        let info = BuildInfo {
            main_package: "example.com/m.test".into(),
            ..BuildInfo::default()
        };
        assert_eq!(info.own_module(), Some("example.com/m"));
    }
}
