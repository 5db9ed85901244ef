//! One executable opened for symbolization: its GNU build id, its loadable
//! segments (to turn runtime addresses into file addresses, PIE or not), and
//! what can name an address in it, best first: Go's `.gopclntab` (present
//! even in stripped Go binaries; it expands inlined calls and hides
//! compiler wrappers exactly as the Go runtime does when it writes a
//! profile), DWARF (with inlined frames: cgo and other non-Go code), the
//! ELF symbol table.

use std::fs;
use std::path::{Path, PathBuf};

use std::rc::Rc;

use addr2line::Context;
use gimli::EndianRcSlice;
use gimli::{RunTimeEndian, SectionId};
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbolTable, SegmentFlags};

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
    #[error("{}: not an ELF executable ({reason})", .path.display())]
    NotElf { path: PathBuf, reason: String },
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
    /// Lower-case hex of the GNU build id note, if the binary has one.
    pub build_id: Option<String>,
    segments: Vec<Segment>,
    has_dwarf: bool,
    /// Loaded on first use: Go binaries are named from `.gopclntab`.
    dwarf: std::cell::OnceCell<Option<Context<Reader>>>,
    /// The file, kept mapped for `.gopclntab`, which is read in place.
    file: memmap2::Mmap,
    /// ELF symbols sorted by address: (address, size, name).
    symbols: Vec<(u64, u64, String)>,
    architecture: object::Architecture,
    /// Position-independent (ELF `ET_DYN`): loaded at an address of the
    /// kernel's choosing.
    position_independent: bool,
}

use object::ObjectSymbol;

impl std::fmt::Debug for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binary")
            .field("path", &self.path)
            .field("build_id", &self.build_id)
            .field("has_dwarf", &self.has_dwarf)
            .finish()
    }
}

impl Binary {
    /// Opens and indexes `path`.
    pub fn open(path: &Path) -> Result<Binary, BinaryError> {
        let not_elf = |reason: String| BinaryError::NotElf {
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
            return Err(not_elf("not a regular file".into()));
        }
        let file = fs::File::open(path).map_err(read_error)?;
        // SAFETY: the map is only ever read. A binary rewritten underneath
        // torch while it runs could give wrong names, as it would for any
        // reader; every offset read from it is bounds-checked.
        let data = unsafe { memmap2::Mmap::map(&file) }.map_err(read_error)?;
        if !data.starts_with(b"\x7fELF") {
            return Err(not_elf("no ELF magic".into()));
        }
        let file = object::File::parse(&*data).map_err(|e| not_elf(e.to_string()))?;
        let build_id = file
            .build_id()
            .ok()
            .flatten()
            .map(|id| id.iter().map(|b| format!("{b:02x}")).collect());
        let segments = file
            .segments()
            .filter_map(|s| {
                let (file_offset, file_size) = s.file_range();
                let executable = match s.flags() {
                    SegmentFlags::Elf { p_flags, .. } => p_flags.0 & 1 != 0,
                    _ => false,
                };
                (file_size > 0).then_some(Segment {
                    file_offset,
                    file_size,
                    address: s.address(),
                    executable,
                })
            })
            .collect();
        let has_dwarf = file
            .section_by_name(".debug_info")
            .or_else(|| file.section_by_name(".zdebug_info"))
            .is_some_and(|s| s.size() > 0);
        let symbols = function_symbols(&file);
        let architecture = file.architecture();
        let position_independent = file.kind() == object::ObjectKind::Dynamic;
        Ok(Binary {
            architecture,
            position_independent,
            path: path.to_path_buf(),
            build_id,
            segments,
            has_dwarf,
            dwarf: std::cell::OnceCell::new(),
            symbols,
            file: data,
        })
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
        let pclntab = super::pclntab::Pclntab::from_elf(&self.file).ok()?;
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

    /// Refuses a binary whose build id differs from the mapping's (when both
    /// have one).
    pub fn check_build_id(&self, expected: &str) -> Result<(), BinaryError> {
        match &self.build_id {
            Some(found) if !expected.is_empty() && !found.eq_ignore_ascii_case(expected) => {
                Err(BinaryError::BuildIdMismatch {
                    path: self.path.clone(),
                    expected: expected.to_owned(),
                    found: found.clone(),
                })
            }
            _ => Ok(()),
        }
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
        let before = self.file.get(end.checked_sub(8)?..end)?;
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

    /// The file (link-time) address of runtime `address` in `mapping`:
    /// `base = start − offset + p_offset − p_vaddr` for the segment that maps
    /// the mapping's file offset. Without a mapping, addresses are taken as
    /// link-time addresses (non-PIE Go binaries, legacy text profiles).
    pub fn file_address(&self, mapping: Option<&Mapping>, address: u64) -> u64 {
        let Some(mapping) = mapping.filter(|m| m.memory_start != 0) else {
            return address;
        };
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
        let pclntab = super::pclntab::Pclntab::from_elf(&self.file).ok();
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
            let file = object::File::parse(&*self.file).ok()?;
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
        let data: Rc<[u8]> = match file.section_by_name(id.name()) {
            Some(section) if !skip => match section.uncompressed_data() {
                Ok(data) => Rc::from(&*data),
                Err(_) => Rc::from(&[][..]),
            },
            _ => Rc::from(&[][..]),
        };
        Ok(EndianRcSlice::new(data, endian))
    };
    let dwarf = gimli::Dwarf::load(load).ok()?;
    Context::from_dwarf(dwarf).ok()
}

/// Function symbols, sorted by address, for binaries without DWARF.
fn function_symbols(file: &object::File) -> Vec<(u64, u64, String)> {
    let mut symbols: Vec<(u64, u64, String)> = file
        .symbol_table()
        .into_iter()
        .flat_map(|table| table.symbols())
        .filter(|s| s.kind() == object::SymbolKind::Text && s.address() != 0)
        .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_owned())))
        .collect();
    symbols.sort_unstable_by_key(|&(address, _, _)| address);
    symbols
}
