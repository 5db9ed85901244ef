//! One executable opened for symbolization (ELF, Mach-O or PE; see
//! [`formats`](super::formats) for what differs): the ids it carries, its
//! loadable segments (to turn runtime addresses into file addresses, PIE or
//! not), and what can name an address in it, best first: Go's pclntab
//! (present even in stripped Go binaries; it expands inlined calls and hides
//! compiler wrappers exactly as the Go runtime does when it writes a
//! profile), DWARF (with inlined frames: cgo and other non-Go code), the
//! symbol table.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use std::rc::Rc;

use addr2line::Context;
use gimli::EndianRcSlice;
use gimli::{RunTimeEndian, SectionId};
use object::{Object, ObjectSegment, ObjectSymbolTable, SegmentFlags};

use super::formats::{self, Format, Identity};

/// DWARF bytes owned by the context, so the file can be dropped once read.
type Reader = EndianRcSlice<RunTimeEndian>;

use crate::profile::Mapping;

/// Why a binary cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    #[error("{}: cannot read", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not an executable torch can read: ELF, Mach-O or PE ({reason})", .path.display())]
    NotExecutable { path: PathBuf, reason: String },
    #[error(
        "{}: its build id {found} does not match the profile's {expected}; \
         give the binary the profile came from, or --force to use this one anyway",
        .path.display()
    )]
    BuildIdMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
}

/// A frame named by the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub function: String,
    pub file: String,
    pub line: i64,
}

/// A loadable segment: where file bytes land in memory.
#[derive(Debug, Clone, Copy)]
struct Segment {
    file_offset: u64,
    file_size: u64,
    address: u64,
    executable: bool,
}

pub struct Binary {
    pub path: PathBuf,
    pub format: Format,
    /// The ids it carries (GNU build id, Mach-O UUID, Go build id).
    pub identity: Identity,
    segments: Vec<Segment>,
    has_dwarf: bool,
    /// Loaded on first use: Go binaries are named from pclntab.
    dwarf: std::cell::OnceCell<Option<Context<Reader>>>,
    /// The file, kept mapped for pclntab, which is read in place.
    file: Rc<memmap2::Mmap>,
    /// The bytes of this binary in `file` (one slice of a universal file).
    range: Range<usize>,
    /// Function symbols sorted by address: (address, size, name).
    symbols: Vec<(u64, u64, String)>,
    pub architecture: object::Architecture,
    /// Loaded at an address of the system's choosing (PIE, ASLR).
    position_independent: bool,
    /// PE: the address the image expects to be loaded at.
    image_base: Option<u64>,
}

use object::ObjectSymbol;

impl std::fmt::Debug for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binary")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("identity", &self.identity)
            .field("has_dwarf", &self.has_dwarf)
            .finish()
    }
}

impl Binary {
    /// Opens and indexes `path`; of a universal file, its first Go slice
    /// (see [`open_all`](Self::open_all) to choose).
    pub fn open(path: &Path) -> Result<Binary, BinaryError> {
        let mut all = Self::open_all(path)?;
        // Only a universal file needs its Go slice found.
        let go = match all.len() {
            1 => 0,
            _ => all.iter().position(Binary::is_go).unwrap_or(0),
        };
        Ok(all.swap_remove(go))
    }

    /// Opens `path`: one binary, or one per slice of a universal file.
    pub fn open_all(path: &Path) -> Result<Vec<Binary>, BinaryError> {
        let not_executable = |reason: String| BinaryError::NotExecutable {
            path: path.to_path_buf(),
            reason,
        };
        let read_error = |source| BinaryError::Read {
            path: path.to_path_buf(),
            source,
        };
        // Only a regular file: a FIFO named by a profile's mapping would
        // block the open until some writer came, and a device never ends.
        let metadata = fs::metadata(path).map_err(read_error)?;
        if !metadata.is_file() {
            return Err(not_executable("not a regular file".into()));
        }
        let file = fs::File::open(path).map_err(read_error)?;
        // SAFETY: the map is only ever read. A binary rewritten underneath
        // torch while it runs could give wrong names, as it would for any
        // reader; every offset read from it is bounds-checked.
        let data = Rc::new(unsafe { memmap2::Mmap::map(&file) }.map_err(read_error)?);
        let ranges = match formats::sniff(&data) {
            Some(Format::MachOUniversal) => {
                formats::universal_slices(&data).map_err(not_executable)?
            }
            Some(_) => std::iter::once(0..data.len()).collect(),
            None => return Err(not_executable("no ELF, Mach-O or PE magic".into())),
        };
        ranges
            .into_iter()
            .map(|range| Self::index(path, data.clone(), range).map_err(not_executable))
            .collect()
    }

    fn index(path: &Path, data: Rc<memmap2::Mmap>, range: Range<usize>) -> Result<Binary, String> {
        let bytes = &data[range.clone()];
        let format = formats::sniff(bytes).ok_or("no magic in a universal file's slice")?;
        let file = object::File::parse(bytes).map_err(|e| e.to_string())?;
        let segments = file
            .segments()
            .filter_map(|s| {
                let (file_offset, file_size) = s.file_range();
                (file_size > 0).then_some(Segment {
                    file_offset,
                    file_size,
                    address: s.address(),
                    executable: is_executable(s.flags()),
                })
            })
            .collect();
        Ok(Binary {
            architecture: file.architecture(),
            position_independent: formats::position_independent(&file),
            image_base: formats::image_base(&file),
            identity: Identity::of(&file),
            has_dwarf: formats::has_dwarf(&file),
            symbols: function_symbols(&file),
            path: path.to_path_buf(),
            format,
            segments,
            dwarf: std::cell::OnceCell::new(),
            file: data,
            range,
        })
    }

    /// This binary's bytes.
    fn bytes(&self) -> &[u8] {
        &self.file[self.range.clone()]
    }

    /// Whether it is a Go binary: it has a pclntab.
    pub fn is_go(&self) -> bool {
        self.pclntab().is_some()
    }

    /// How many of `addresses` (file addresses) its pclntab names.
    pub fn count_named(&self, addresses: &[u64]) -> usize {
        self.pclntab().map_or(0, |table| {
            addresses
                .iter()
                .filter(|&&a| table.lookup(a).is_some())
                .count()
        })
    }

    fn pclntab(&self) -> Option<super::pclntab::Pclntab<'_>> {
        super::pclntab::Pclntab::from_executable(self.bytes()).ok()
    }

    /// Where a position-independent binary was loaded, for addresses that
    /// come without a memory map (text profiles): the slide that puts the
    /// stacks' roots on `runtime.goexit` (every goroutine's outermost
    /// return address) and nearly every address in named code. `None` for
    /// a binary loaded where it was linked, or when no slide fits.
    pub fn guess_slide(&self, addresses: &[u64], roots: &[u64]) -> Option<u64> {
        const PAGE: u64 = 4096;
        if !self.position_independent || addresses.is_empty() {
            return None;
        }
        let pclntab = self.pclntab()?;
        let named =
            |slide: u64, address: u64| pclntab.lookup(address.wrapping_sub(slide)).is_some();
        let sample: Vec<u64> = addresses
            .iter()
            .copied()
            .step_by(addresses.len().div_ceil(256))
            .collect();
        let fits = |slide: u64| {
            sample.iter().filter(|&&a| named(slide, a)).count() * 10 >= sample.len() * 9
        };
        if fits(0) {
            return None;
        }
        let goexit = pclntab
            .functions()
            .find(|f| f.name == "runtime.goexit")?
            .entry;
        let mut candidates: Vec<u64> = roots
            .iter()
            .filter_map(|&root| {
                // A root is goexit's entry plus the PC quantum, minus one.
                (0..8)
                    .map(|k| root.wrapping_sub(goexit).wrapping_sub(k))
                    .find(|s| s % PAGE == 0)
            })
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .find(|&slide| slide != 0 && fits(slide))
    }

    /// Refuses a binary whose id differs from the mapping's: compared
    /// with an id of the same kind (GNU build id, Mach-O UUID or Go build
    /// id), never refused for lacking one.
    pub fn check_build_id(&self, expected: &str) -> Result<(), BinaryError> {
        self.identity
            .check(expected)
            .map_err(|found| BinaryError::BuildIdMismatch {
                path: self.path.clone(),
                expected: expected.to_owned(),
                found,
            })
    }

    /// Whether the instruction just before file address `address` is a
    /// call, as it is before every return address a stack holds; `None`
    /// where torch cannot tell (another architecture, or not in code).
    pub fn follows_a_call(&self, address: u64) -> Option<bool> {
        let segment = self
            .segments
            .iter()
            .find(|s| s.executable && s.address < address && address <= s.address + s.file_size)?;
        let end = usize::try_from(segment.file_offset + (address - segment.address)).ok()?;
        let before = self.bytes().get(end.checked_sub(8)?..end)?;
        match self.architecture {
            object::Architecture::X86_64 | object::Architecture::I386 => {
                Some(x86_call_ends(before))
            }
            object::Architecture::Aarch64 => {
                let word = u32::from_le_bytes(before[4..].try_into().ok()?);
                // BL imm26, or BLR Xn.
                Some(word & 0xfc00_0000 == 0x9400_0000 || word & 0xffff_fc1f == 0xd63f_0000)
            }
            _ => None,
        }
    }

    /// The file (link-time) address of runtime `address` in `mapping`, as
    /// each platform's runtime records mappings. ELF and Mach-O (Linux maps
    /// segments by file offset; macOS records the text region with offset
    /// 0, which is `__TEXT` from the start of the file):
    /// `base = start − offset + p_offset − p_vaddr` for the segment that maps
    /// the mapping's file offset. PE (Windows records the module from its
    /// base with offset 0): `address − start + image base`. Without a
    /// mapping, addresses are taken as link-time addresses (non-PIE Go
    /// binaries, legacy text profiles).
    pub fn file_address(&self, mapping: Option<&Mapping>, address: u64) -> u64 {
        let Some(mapping) = mapping.filter(|m| m.memory_start != 0) else {
            return address;
        };
        if let Some(image_base) = self.image_base {
            return address
                .wrapping_sub(mapping.memory_start)
                .wrapping_add(mapping.file_offset)
                .wrapping_add(image_base);
        }
        let offset = mapping.file_offset;
        let segment = self
            .segments
            .iter()
            .filter(|s| s.file_offset <= offset && offset < s.file_offset + s.file_size.max(1))
            .max_by_key(|s| s.executable)
            .or_else(|| self.segments.iter().find(|s| s.executable));
        match segment {
            Some(s) => {
                let base = mapping
                    .memory_start
                    .wrapping_sub(offset)
                    .wrapping_add(s.file_offset)
                    .wrapping_sub(s.address);
                address.wrapping_sub(base)
            }
            None => address,
        }
    }

    /// Frames at each file address, innermost (inlined) first; empty where
    /// nothing in the binary knows the address. With `inlined` false, only
    /// the function the code physically belongs to (`--noinlines`; for Go
    /// code that may be a compiler wrapper the runtime would hide).
    pub fn frames_many(&self, addresses: &[u64], inlined: bool) -> Vec<Vec<Frame>> {
        let pclntab = self.pclntab();
        addresses
            .iter()
            .map(|&address| {
                let go_frames = pclntab.as_ref().map(|t| match inlined {
                    true => t.lookup_inline(address),
                    false => t.lookup(address).into_iter().collect(),
                });
                match go_frames {
                    Some(frames) if !frames.is_empty() => frames
                        .into_iter()
                        .map(|f| Frame {
                            function: f.function.into_owned(),
                            file: f.file.map(|f| f.into_owned()).unwrap_or_default(),
                            line: f.line.map_or(0, i64::from),
                        })
                        .collect(),
                    _ => self.frames(address),
                }
            })
            .collect()
    }

    /// Frames at file address `address` from DWARF or the symbol table.
    pub fn frames(&self, address: u64) -> Vec<Frame> {
        if self.has_dwarf {
            let frames = self.dwarf_frames(address);
            if !frames.is_empty() {
                return frames;
            }
        }
        self.symbol(address)
            .map(|name| {
                vec![Frame {
                    function: name.to_owned(),
                    file: String::new(),
                    line: 0,
                }]
            })
            .unwrap_or_default()
    }

    /// The ELF symbol whose range holds `address`.
    fn symbol(&self, address: u64) -> Option<&str> {
        let after = self
            .symbols
            .partition_point(|&(start, _, _)| start <= address);
        let (start, size, name) = self.symbols.get(after.checked_sub(1)?)?;
        (address < start + (*size).max(1)).then_some(name.as_str())
    }

    fn dwarf_frames(&self, address: u64) -> Vec<Frame> {
        let mut out = Vec::new();
        let context = self.dwarf.get_or_init(|| {
            let file = object::File::parse(self.bytes()).ok()?;
            load_dwarf(&file)
        });
        let Some(context) = context else {
            return out;
        };
        let Ok(mut frames) = context.find_frames(address).skip_all_loads() else {
            return out;
        };
        while let Ok(Some(frame)) = frames.next() {
            let Some(function) = frame.function.as_ref().and_then(|f| f.raw_name().ok()) else {
                continue;
            };
            let location = frame.location.as_ref();
            out.push(Frame {
                function: function.into_owned(),
                file: location.and_then(|l| l.file).unwrap_or_default().to_owned(),
                line: location.and_then(|l| l.line).map_or(0, i64::from),
            });
        }
        out
    }
}

/// Loads the DWARF sections symbolization needs, decompressed. Location
/// lists and call frame information are large in Go binaries and not
/// needed to name code, so they are not read.
/// Whether the 8 bytes before an address end with an x86 call: `E8 rel32`,
/// or `FF /2` (a call through a register or memory) in any of its lengths.
fn x86_call_ends(before: &[u8]) -> bool {
    let n = before.len();
    if n >= 5 && before[n - 5] == 0xe8 {
        return true;
    }
    (2..=7.min(n)).any(|length| {
        let at = n - length;
        before[at] == 0xff && before.get(at + 1).is_some_and(|modrm| modrm & 0x38 == 0x10)
    })
}

fn load_dwarf(file: &object::File) -> Option<Context<Reader>> {
    let endian = if file.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    };
    let load = |id: SectionId| -> Result<Reader, gimli::Error> {
        let skip = matches!(
            id,
            SectionId::DebugLoc
                | SectionId::DebugLocLists
                | SectionId::DebugFrame
                | SectionId::EhFrame
        );
        let data: Rc<[u8]> = match formats::dwarf_section(file, id.name()) {
            Some(data) if !skip => Rc::from(&*data),
            _ => Rc::from(&[][..]),
        };
        Ok(EndianRcSlice::new(data, endian))
    };
    let dwarf = gimli::Dwarf::load(load).ok()?;
    Context::from_dwarf(dwarf).ok()
}

/// Function symbols, sorted by address, for binaries without DWARF. Mach-O
/// and COFF symbols have no size: each then reaches to the next one; Mach-O
/// names carry the C prefix `_`.
fn function_symbols(file: &object::File) -> Vec<(u64, u64, String)> {
    let prefix = match file.format() {
        object::BinaryFormat::MachO => "_",
        _ => "",
    };
    let mut symbols: Vec<(u64, u64, String)> = file
        .symbol_table()
        .into_iter()
        .flat_map(|table| table.symbols())
        .filter(|s| s.kind() == object::SymbolKind::Text && s.address() != 0)
        .filter_map(|s| {
            let name = s.name().ok()?;
            let name = name.strip_prefix(prefix).unwrap_or(name);
            Some((s.address(), s.size(), name.to_owned()))
        })
        .collect();
    symbols.sort_unstable_by_key(|&(address, _, _)| address);
    let starts: Vec<u64> = symbols.iter().map(|&(address, _, _)| address).collect();
    for (i, symbol) in symbols.iter_mut().enumerate() {
        if symbol.1 == 0 {
            let next = starts[i + 1..].iter().find(|&&a| a > symbol.0);
            symbol.1 = next.map_or(0, |&next| next - symbol.0);
        }
    }
    symbols
}

/// Whether a segment holds code: ELF `PF_X`, Mach-O `VM_PROT_EXECUTE`,
/// PE `IMAGE_SCN_MEM_EXECUTE`.
fn is_executable(flags: SegmentFlags) -> bool {
    match flags {
        SegmentFlags::Elf { p_flags, .. } => p_flags.0 & object::elf::PF_X.0 != 0,
        SegmentFlags::MachO { initprot, .. } => initprot.0 & object::macho::VM_PROT_EXECUTE.0 != 0,
        SegmentFlags::Coff { characteristics } => {
            characteristics.0 & object::pe::IMAGE_SCN_MEM_EXECUTE.0 != 0
        }
        _ => false,
    }
}
