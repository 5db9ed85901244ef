//! What differs between the executable formats Go writes: ELF (Linux and
//! the BSDs), Mach-O (macOS; thin, or universal with one slice per
//! architecture) and PE (Windows). Everything else reads them alike through
//! `object`: this module owns the magic numbers, the slices of a universal
//! file, the identities a binary carries, where it expects to be loaded, and
//! DWARF sections compressed the way Go's linker compresses them.

use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;

use object::{Object, ObjectSection};

/// The executable formats torch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Elf,
    MachO,
    /// A universal ("fat") Mach-O file: several Mach-O files in one.
    MachOUniversal,
    Pe,
}

const FAT_MAGIC: u32 = 0xcafe_babe;
const FAT_MAGIC_64: u32 = 0xcafe_babf;

/// The format `bytes` (at least the first four of a file) start with.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    let magic: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    if magic == *b"\x7fELF" {
        return Some(Format::Elf);
    }
    if magic.starts_with(b"MZ") {
        return Some(Format::Pe);
    }
    match u32::from_be_bytes(magic) {
        0xfeed_facf | 0xcffa_edfe | 0xfeed_face | 0xcefa_edfe => Some(Format::MachO),
        FAT_MAGIC | FAT_MAGIC_64 => Some(Format::MachOUniversal),
        _ => None,
    }
}

/// The byte ranges of the Mach-O files inside a universal file.
pub fn universal_slices(data: &[u8]) -> Result<Vec<Range<usize>>, String> {
    let word = |at: usize| -> Result<u64, String> {
        let bytes = data.get(at..at + 4).ok_or("truncated universal header")?;
        Ok(u64::from(u32::from_be_bytes(bytes.try_into().unwrap())))
    };
    let wide = word(0)? == u64::from(FAT_MAGIC_64);
    let count = word(4)?;
    // cputype, cpusubtype, offset, size, align (and reserved) per slice.
    let entry = if wide { 32 } else { 20 };
    if count == 0 || count > 64 {
        return Err(format!("{count} architectures in a universal header"));
    }
    (0..count as usize)
        .map(|i| {
            let at = 8 + i * entry;
            let (offset, size) = match wide {
                true => (
                    word(at + 8)? << 32 | word(at + 12)?,
                    word(at + 16)? << 32 | word(at + 20)?,
                ),
                false => (word(at + 8)?, word(at + 12)?),
            };
            let start = usize::try_from(offset).map_err(|e| e.to_string())?;
            let end = start
                .checked_add(usize::try_from(size).map_err(|e| e.to_string())?)
                .filter(|&end| end <= data.len() && start < end)
                .ok_or_else(|| format!("slice {i} lies outside the file"))?;
            Ok(start..end)
        })
        .collect()
}

/// The identities a binary carries, any of which a profile's mapping may
/// name as its build id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// ELF: the GNU build id note, lower-case hex.
    pub gnu: Option<String>,
    /// Mach-O: LC_UUID, lower-case hex without dashes.
    pub uuid: Option<String>,
    /// Go's own build id (`go:buildid`), in every format.
    pub go: Option<String>,
}

impl Identity {
    pub fn of(file: &object::File<'_>) -> Identity {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        Identity {
            gnu: file.build_id().ok().flatten().map(hex),
            uuid: file.mach_uuid().ok().flatten().map(|id| hex(&id)),
            go: go_build_id(file),
        }
    }

    /// The id of the same kind as `expected` that this binary has, when it
    /// has one: `Ok` when they agree or cannot be compared (no id of that
    /// kind, or a mapping "build id" that is no id at all, as Windows
    /// profiles write the executable's path and time there), else the
    /// binary's own id.
    pub fn check(&self, expected: &str) -> Result<(), String> {
        let expected = expected.trim();
        let found = if is_hex_id(expected) {
            let normal = expected.replace('-', "").to_ascii_lowercase();
            let same = |id: &String| *id == normal;
            match (&self.gnu, &self.uuid) {
                (Some(id), _) | (None, Some(id)) if !same(id) => Some(id),
                _ => None,
            }
        } else if is_go_build_id(expected) {
            self.go.as_ref().filter(|id| *id != expected)
        } else {
            None
        };
        match found {
            Some(id) => Err(id.clone()),
            None => Ok(()),
        }
    }
}

/// A GNU build id or a UUID: hex digits (dashes allowed), 16 or more.
fn is_hex_id(id: &str) -> bool {
    let digits = id.bytes().filter(|&b| b != b'-').count();
    digits >= 16 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Go's build id: `actionID/contentID` (two or four parts), URL-safe
/// base64.
fn is_go_build_id(id: &str) -> bool {
    let parts = id.split('/').count();
    matches!(parts, 2 | 4)
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_'))
}

/// Go's build id: in ELF the `.note.go.buildid` note, elsewhere the string
/// the linker puts at the start of the text.
fn go_build_id(file: &object::File<'_>) -> Option<String> {
    if let Some(note) = file.section_by_name(".note.go.buildid") {
        let data = note.data().ok()?;
        // namesz, descsz, type, "Go\0\0", then the id.
        let size = u32::from_le_bytes(data.get(4..8)?.try_into().ok()?) as usize;
        let id = data.get(16..16 + size)?;
        return Some(String::from_utf8_lossy(id).into_owned());
    }
    const START: &[u8] = b"\xff Go build ID: \"";
    let text = file.section_by_name(".text")?.data().ok()?;
    let head = &text[..text.len().min(4096)];
    let at = head.windows(START.len()).position(|w| w == START)? + START.len();
    let end = head[at..].iter().position(|&b| b == b'"')?;
    Some(String::from_utf8_lossy(&head[at..at + end]).into_owned())
}

/// Whether the binary is loaded wherever the system chooses: an ELF
/// `ET_DYN`, a Mach-O with `MH_PIE` (every Go binary on macOS), a PE with
/// a dynamic base (Go's default on Windows).
pub fn position_independent(file: &object::File<'_>) -> bool {
    use object::read::macho::MachHeader;
    use object::read::pe::{ImageNtHeaders, ImageOptionalHeader};
    let pie = object::macho::MH_PIE.0;
    let dynamic_base = object::pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE.0;
    match file {
        object::File::MachO64(f) => f.macho_header().flags(f.endian()).0 & pie != 0,
        object::File::MachO32(f) => f.macho_header().flags(f.endian()).0 & pie != 0,
        object::File::Pe64(f) => {
            f.nt_headers().optional_header().dll_characteristics().0 & dynamic_base != 0
        }
        object::File::Pe32(f) => {
            f.nt_headers().optional_header().dll_characteristics().0 & dynamic_base != 0
        }
        _ => file.kind() == object::ObjectKind::Dynamic,
    }
}

/// Where a PE binary expects to be loaded (its image base): Windows
/// profiles map the module from that address with offset 0.
pub fn image_base(file: &object::File<'_>) -> Option<u64> {
    matches!(file, object::File::Pe32(_) | object::File::Pe64(_))
        .then(|| file.relative_address_base())
}

/// A DWARF section's bytes, decompressed. ELF's compressed sections and
/// Mach-O's `__zdebug_*` are handled by `object`; Go's PE files name them
/// `.zdebug_*`, holding `ZLIB`, the size (8 bytes, big-endian) and a zlib
/// stream.
pub fn dwarf_section<'a>(file: &object::File<'a>, name: &str) -> Option<Cow<'a, [u8]>> {
    if let Some(section) = file.section_by_name(name) {
        return section.uncompressed_data().ok();
    }
    let zname = format!(".z{}", name.strip_prefix('.')?);
    let data = file.section_by_name(&zname)?.data().ok()?;
    let size = u64::from_be_bytes(data.strip_prefix(b"ZLIB")?.get(..8)?.try_into().ok()?);
    let mut out = Vec::with_capacity(usize::try_from(size).ok()?.min(1 << 30));
    flate2::read::ZlibDecoder::new(&data[12..])
        .take(size)
        .read_to_end(&mut out)
        .ok()?;
    Some(Cow::Owned(out))
}

/// Whether the file has DWARF to name code from.
pub fn has_dwarf(file: &object::File<'_>) -> bool {
    [".debug_info", ".zdebug_info"]
        .iter()
        .any(|name| file.section_by_name(name).is_some_and(|s| s.size() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_magic() {
        assert_eq!(sniff(b"\x7fELF\x02"), Some(Format::Elf));
        assert_eq!(sniff(b"MZ\x90\x00"), Some(Format::Pe));
        assert_eq!(sniff(&[0xcf, 0xfa, 0xed, 0xfe]), Some(Format::MachO));
        assert_eq!(
            sniff(&[0xca, 0xfe, 0xba, 0xbe]),
            Some(Format::MachOUniversal)
        );
        assert_eq!(sniff(b"\x1f\x8b\x08\x00"), None);
        assert_eq!(sniff(b"MZ"), None);
    }

    #[test]
    fn universal_headers_are_bounds_checked() {
        let mut fat = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1];
        // cputype, subtype, offset 32, size 8, align.
        for word in [0x0100_000c_u32, 0, 32, 8, 2] {
            fat.extend_from_slice(&word.to_be_bytes());
        }
        fat.resize(40, 7);
        assert_eq!(
            universal_slices(&fat),
            Ok(std::iter::once(32..40).collect())
        );
        fat.truncate(39);
        assert!(universal_slices(&fat).is_err());
        assert!(universal_slices(&[0xca, 0xfe, 0xba, 0xbe, 0xff, 0, 0, 0]).is_err());
    }

    #[test]
    fn ids_are_compared_by_kind() {
        let elf = Identity {
            gnu: Some("ab12".repeat(10)),
            go: Some("a/b".into()),
            ..Identity::default()
        };
        assert_eq!(elf.check(&"AB12".repeat(10)), Ok(()));
        assert!(elf.check(&"cd34".repeat(10)).is_err());
        assert!(elf.check("x/y").is_err());
        assert_eq!(elf.check("a/b"), Ok(()));
        assert_eq!(elf.check(""), Ok(()));
        // Windows writes the path and modification time: no id at all.
        let windows = r"C:\work\bench.test.exe2026-12-01 10:00:00.1 +0000 UTC";
        assert_eq!(elf.check(windows), Ok(()));
        let macho = Identity {
            uuid: Some("0123456789abcdef0123456789abcdef".into()),
            ..Identity::default()
        };
        assert_eq!(macho.check("01234567-89AB-CDEF-0123-456789ABCDEF"), Ok(()));
        assert!(macho.check(&"f".repeat(32)).is_err());
        // A kind the binary does not have is no reason to refuse it.
        assert_eq!(Identity::default().check(&"f".repeat(40)), Ok(()));
    }
}
