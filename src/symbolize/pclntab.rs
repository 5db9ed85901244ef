//! Reading Go's own line table, `.gopclntab`, so that addresses can be named
//! with nothing but the binary: no DWARF (`-ldflags=-w`), no ELF symbol table
//! (`-ldflags=-s`), no Go toolchain at run time.
//!
//! This module owns the table's layout and nothing else: finding the section
//! in an ELF file ([`Pclntab::from_executable`]), the header, the function table,
//! the pc-value tables (file, line, inline index) and the inline tree. It
//! does not know about profiles; [`Frame`]s are plain values.
//!
//! # The layout, as Go 1.16 to 1.27 write it
//!
//! The section starts with a header: a 4-byte magic that also tells the byte
//! order and version, two zero bytes, the instruction quantum (1 on x86, 4 on
//! arm64), the pointer size, then pointer-sized words: the number of
//! functions, the number of files, (Go 1.18+) an unused word that once held
//! the text start, and the offsets, from the start of the header, of five
//! tables:
//!
//! - `funcnametab`: NUL-terminated function names;
//! - `cutab`: per compilation unit, one `u32` per file index, the offset of
//!   the file name in `filetab` (`u32::MAX` where the linker dropped a file);
//! - `filetab`: NUL-terminated file names;
//! - `pctab`: the pc-value tables, deduplicated; offset 0 means "no table";
//! - the function table: `nfunc` pairs (entry, record offset) and one final
//!   end address, sorted by entry, then the function records (`_func`).
//!
//! Entries in the function table are, since Go 1.18, `u32` offsets from the
//! start of the Go text (the `runtime.text` symbol), which the table does not
//! store; before that they were absolute, pointer-sized addresses.
//!
//! A pc-value table is a run of (value delta, pc delta) pairs of unsigned
//! LEB128 varints, the value delta zig-zag encoded, the pc delta counted in
//! quanta. It starts at the function entry with value -1; a value delta of 0
//! after the first pair ends it. The value for a pc is the one in force in the
//! first pair whose pc lies beyond it.
//!
//! The file and line tables name the innermost source position: inside code
//! the compiler inlined, they name the inlined callee's file and line while
//! the function table still names the outer function. That is what
//! `go tool addr2line` and `go tool pprof` print, and what [`Pclntab::lookup`]
//! returns. [`Pclntab::lookup_inline`] goes further, the way
//! `runtime.CallersFrames` does: the function's `PCDATA_InlTreeIndex` table
//! gives, for a pc, an index into its inline tree (`FUNCDATA_InlTree`, held in
//! the `go:func.*` area that Go 1.27 places at the end of `.gopclntab`); each
//! tree entry names the inlined function and the offset of an instruction at
//! its call site, whose own file, line and inline index give the next frame
//! out.
//!
//! Older layouts (Go 1.2–1.15, magic `0xfffffffb`) are rejected. Inline trees
//! are read only in the Go 1.20+ layout (magic `0xfffffff1`): Go 1.18/1.19
//! used a different tree entry.
//!
//! Every read is bounds-checked and every loop bounded by the bytes it
//! consumes: a damaged table gives errors or `None`, never a panic.

use std::borrow::Cow;

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};

/// Go 1.2 to 1.15.
const MAGIC_GO12: u32 = 0xffff_fffb;
/// Go 1.16 and 1.17.
const MAGIC_GO116: u32 = 0xffff_fffa;
/// Go 1.18 and 1.19.
const MAGIC_GO118: u32 = 0xffff_fff0;
/// Go 1.20 and later (Go 1.27 still writes it).
const MAGIC_GO120: u32 = 0xffff_fff1;

/// `PCDATA_InlTreeIndex`: the pc-value table of inline tree indices.
const PCDATA_INL_TREE_INDEX: u32 = 2;
/// `FUNCDATA_InlTree`: the function's inline tree in `go:func.*`.
const FUNCDATA_INL_TREE: u32 = 3;
/// Size of one inline tree entry (`runtime.inlinedCall`) since Go 1.20:
/// funcID u8, 3 bytes padding, nameOff i32, parentPc i32, startLine i32.
const INLINED_CALL_SIZE: usize = 16;
/// More inline levels than any real binary has; a chain longer than this in
/// damaged data is cut rather than followed.
const MAX_INLINE_DEPTH: usize = 1024;

/// Functions the runtime never hides a wrapper above (`elideWrapperCalling`).
const PANIC_FUNCTIONS: [&[u8]; 3] = [
    b"runtime.gopanic",
    b"runtime.sigpanic",
    b"runtime.panicwrap",
];

/// Why a table cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PclntabError {
    #[error("the pclntab is {0} bytes long, too short for its header")]
    TooShort(usize),
    #[error("not a Go pclntab (magic {0:#010x})")]
    BadMagic(u32),
    #[error(
        "the pclntab of Go 1.2 to 1.15 (magic {0:#010x}) is not supported; \
         binaries from Go 1.16 or later are"
    )]
    Unsupported(u32),
    #[error("damaged pclntab header: {0}")]
    BadHeader(&'static str),
    #[error(
        "this pclntab (Go 1.18 or later) stores function addresses relative to \
         the start of the Go text, which the table does not record: pass it"
    )]
    NoTextStart,
    #[error("no Go pclntab in this binary (no .gopclntab section, no runtime.pclntab symbol)")]
    NotFound,
    #[error("cannot read the binary")]
    Object(#[from] object::Error),
}

/// The table layout, from the header's magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// Go 1.16 and 1.17: absolute, pointer-sized entry addresses.
    Go116,
    /// Go 1.18 and 1.19: entries relative to the text start.
    Go118,
    /// Go 1.20 and later.
    Go120,
}

/// Where [`Pclntab::text_start`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStartFrom {
    /// Not needed: Go 1.16/1.17 tables hold absolute addresses.
    Absolute,
    /// The caller's hint.
    Hint,
    /// The header's (otherwise unused) word, Go 1.18/1.19.
    Header,
    /// The ELF symbol `runtime.text`.
    Symbol,
    /// `runtime.firstmoduledata`, found by its pointer to the table (the
    /// way for binaries built with `-ldflags=-s`).
    ModuleData,
    /// The address of the `.text` section (right when the Go linker linked
    /// the binary itself, as without cgo).
    TextSection,
}

/// One frame at an address: a function, and the source position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The name as Go prints it: `main.(*Stack[go.shape.int]).Push`,
    /// `main.closures.func1`, `main.(*counter).add-fm`.
    pub function: Cow<'a, str>,
    /// The source file, `None` where the table names none.
    pub file: Option<Cow<'a, str>>,
    /// The line, `None` where the table has none.
    pub line: Option<u32>,
    /// Entry address of the real (not inlined) function around the address;
    /// the same for every frame one address expands to.
    pub entry: u64,
    /// Line of the function's `func` keyword, 0 when unknown.
    pub start_line: u32,
    /// Whether the compiler inlined this function into its caller.
    pub inlined: bool,
}

/// A function in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function<'a> {
    pub name: Cow<'a, str>,
    /// First address of the function.
    pub entry: u64,
    /// One past its last address: the next function's entry (padding
    /// between functions belongs to the function before it).
    pub end: u64,
}

/// A parsed `.gopclntab`, borrowing the section's bytes.
#[derive(Clone)]
pub struct Pclntab<'a> {
    data: &'a [u8],
    version: Version,
    big_endian: bool,
    quantum: u32,
    ptr_size: usize,
    nfunc: usize,
    text_start: u64,
    text_start_from: TextStartFrom,
    funcnametab: &'a [u8],
    cutab: &'a [u8],
    filetab: &'a [u8],
    pctab: &'a [u8],
    /// Offset in `data` of the function table (pairs, then records).
    functab_offset: usize,
    /// From the function table to the end of the data.
    functab: &'a [u8],
    /// Offset in `data` of `funcnametab`.
    funcnametab_offset: usize,
    /// The `go:func.*` area that inline tree offsets count from.
    gofunc: Option<&'a [u8]>,
    /// The funcID of compiler-generated wrappers in this binary.
    wrapper_id: Option<u8>,
}

impl std::fmt::Debug for Pclntab<'_> {
    // The tables themselves are megabytes: show what was learnt about them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pclntab")
            .field("version", &self.version)
            .field("bytes", &self.data.len())
            .field("big_endian", &self.big_endian)
            .field("quantum", &self.quantum)
            .field("ptr_size", &self.ptr_size)
            .field("functions", &self.nfunc)
            .field("text_start", &format_args!("{:#x}", self.text_start))
            .field("text_start_from", &self.text_start_from)
            .field("inline_trees", &self.gofunc.is_some())
            .finish_non_exhaustive()
    }
}

/// A function record (`_func`) located in the table.
#[derive(Clone, Copy)]
struct FuncRecord<'a> {
    record: &'a [u8],
    entry: u64,
}

impl<'a> Pclntab<'a> {
    /// Parses the raw bytes of the `.gopclntab` section.
    ///
    /// `text_start_hint` is the address of `runtime.text` (for a Go-linked
    /// binary, the start of `.text`). Go 1.18+ tables need it: they store
    /// function addresses relative to it. Go 1.16/1.17 tables ignore it.
    pub fn parse(data: &'a [u8], text_start_hint: Option<u64>) -> Result<Self, PclntabError> {
        let mut table = Self::parse_unanchored(data)?;
        if table.version >= Version::Go118 {
            match text_start_hint {
                Some(start) => table.set_text_start(start, TextStartFrom::Hint),
                None => {
                    let stored = table.header_word(2).unwrap_or(0);
                    if stored == 0 {
                        return Err(PclntabError::NoTextStart);
                    }
                    table.set_text_start(stored, TextStartFrom::Header);
                }
            }
        }
        Ok(table)
    }

    /// Finds and parses the table of a Go ELF binary (the whole file's
    /// bytes), with the text start it needs.
    ///
    /// The table is the section `.gopclntab` (`.data.rel.ro.gopclntab` in
    /// old PIE binaries), else the range between the symbols
    /// `runtime.pclntab` and `runtime.epclntab`, else the first place in a
    /// loadable segment where a table header parses. Go keeps the section
    /// headers, `.gopclntab` among them, even with `-ldflags='-s -w'`.
    ///
    /// The text start is the symbol `runtime.text` (what `go tool addr2line`
    /// uses), else `runtime.firstmoduledata`'s `text` field (the module data
    /// is found by its first word, a pointer to the table, and checked
    /// against the table), else the address of `.text`.
    pub fn from_executable(file_data: &'a [u8]) -> Result<Self, PclntabError> {
        let file = object::File::parse(file_data)?;
        let symbols = WantedSymbols::collect(&file);
        let (data, address) = find_table(&file, &symbols)?;
        let mut table = Self::parse_unanchored(data)?;
        if table.version >= Version::Go118 {
            let (start, from) = if let Some(start) = symbols.text {
                (start, TextStartFrom::Symbol)
            } else if let Some(start) = table.text_from_moduledata(&file, address) {
                (start, TextStartFrom::ModuleData)
            } else if let Some(text) = file.section_by_name(".text") {
                (text.address(), TextStartFrom::TextSection)
            } else {
                return Err(PclntabError::NoTextStart);
            };
            table.set_text_start(start, from);
        }
        if table.gofunc.is_none() && table.version == Version::Go120 {
            if let Some(gofunc) = symbols.gofunc.and_then(|a| data_at(&file, a)) {
                table = table.with_funcdata(gofunc);
            }
        }
        Ok(table)
    }

    /// Gives the table the `go:func.*` area its inline trees live in, for
    /// binaries whose linker put it outside `.gopclntab` (Go 1.27's does
    /// not; [`parse`](Self::parse) finds it there itself). `gofunc` starts
    /// at the `go:func.*` symbol. Ignored unless it checks out against the
    /// table.
    pub fn with_funcdata(mut self, gofunc: &'a [u8]) -> Self {
        if self.version == Version::Go120 && self.inline_trees_fit(gofunc) {
            self.gofunc = Some(gofunc);
        }
        self
    }

    /// The layout version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The address function offsets count from (0 for Go 1.16/1.17 tables).
    pub fn text_start(&self) -> u64 {
        self.text_start
    }

    /// Where [`text_start`](Self::text_start) came from.
    pub fn text_start_from(&self) -> TextStartFrom {
        self.text_start_from
    }

    /// Whether [`lookup_inline`](Self::lookup_inline) can expand inlined
    /// calls (the inline trees were found).
    pub fn has_inline_trees(&self) -> bool {
        self.gofunc.is_some()
    }

    /// Number of functions in the table.
    pub fn len(&self) -> usize {
        self.nfunc
    }

    pub fn is_empty(&self) -> bool {
        self.nfunc == 0
    }

    /// The functions, in address order. Damaged entries are left out.
    pub fn functions(&self) -> impl Iterator<Item = Function<'a>> + '_ {
        (0..self.nfunc).filter_map(move |i| {
            let entry = self.functab_pc(i)?;
            let end = self.functab_pc(i + 1)?;
            let record = self.record(i)?;
            let name = self.function_name(record.record)?;
            Some(Function {
                name: lossy(name),
                entry,
                end,
            })
        })
    }

    /// The function containing `pc`, with the file and line the table gives
    /// for it: exactly what `go tool addr2line` prints. Inside inlined code
    /// that is the outer function's name with the inlined callee's file and
    /// line. `None` when no function contains `pc`.
    pub fn lookup(&self, pc: u64) -> Option<Frame<'a>> {
        let func = self.record(self.find(pc)?)?;
        self.outer_frame(func, pc)
    }

    fn outer_frame(&self, func: FuncRecord<'a>, pc: u64) -> Option<Frame<'a>> {
        Some(Frame {
            function: lossy(self.function_name(func.record)?),
            file: self.file_at(func, pc).map(lossy),
            line: self.line_at(func, pc),
            entry: func.entry,
            start_line: self.start_line(func.record),
            inlined: false,
        })
    }

    /// Every frame at `pc`, innermost first, expanding inlined calls as
    /// `runtime.CallersFrames` does: the innermost frame has the file and
    /// line of `pc`, each caller the file and line of its call site, and the
    /// last one is the real function. As in the runtime, a compiler wrapper
    /// (say `(*T).M` around an inlined `T.M`) that a call was inlined into
    /// is left out, unless the call is to `runtime.gopanic`, `sigpanic` or
    /// `panicwrap`; so the last frame can be an inlined one. Without inline
    /// trees (see [`has_inline_trees`](Self::has_inline_trees)) this is the
    /// one frame [`lookup`](Self::lookup) gives. Empty when no function
    /// contains `pc`.
    pub fn lookup_inline(&self, pc: u64) -> Vec<Frame<'a>> {
        let Some(func) = self.find(pc).and_then(|i| self.record(i)) else {
            return Vec::new();
        };
        let Some(outer) = self.outer_frame(func, pc) else {
            return Vec::new();
        };
        let Some(tree) = self.inline_tree(func.record) else {
            return vec![outer];
        };
        let Some(index_table) = self.pcdata_offset(func.record, PCDATA_INL_TREE_INDEX) else {
            return vec![outer];
        };

        let mut frames: Vec<Frame<'a>> = Vec::new();
        let mut at = pc;
        let mut index = self.pcvalue(index_table, func.entry, at).unwrap_or(-1);
        // The callee of the frame being considered, for the wrapper rule.
        let mut callee: Option<&'a [u8]> = None;
        for _ in 0..MAX_INLINE_DEPTH {
            let (name, start_line, func_id, inlined) = if index < 0 {
                let record = func.record;
                (
                    self.function_name(record),
                    self.start_line(record),
                    self.func_id(record),
                    false,
                )
            } else {
                match inlined_call(tree, index as usize, self) {
                    Some(call) => (
                        cstring(self.funcnametab, call.name_off as usize),
                        call.start_line,
                        Some(call.func_id),
                        true,
                    ),
                    None => break,
                }
            };
            let Some(name) = name else { break };
            let is_wrapper = func_id.is_some() && func_id == self.wrapper_id;
            let hidden =
                is_wrapper && callee.is_some_and(|callee| !PANIC_FUNCTIONS.contains(&callee));
            if !hidden {
                frames.push(Frame {
                    function: lossy(name),
                    file: self.file_at(func, at).map(lossy),
                    line: self.line_at(func, at),
                    entry: func.entry,
                    start_line,
                    inlined,
                });
                callee = Some(name);
            }
            if index < 0 {
                break;
            }
            let Some(call) = inlined_call(tree, index as usize, self) else {
                break;
            };
            let Some(parent) = u64::try_from(call.parent_pc)
                .ok()
                .and_then(|offset| func.entry.checked_add(offset))
            else {
                break;
            };
            at = parent;
            index = self.pcvalue(index_table, func.entry, at).unwrap_or(-1);
        }
        if frames.is_empty() {
            vec![outer]
        } else {
            frames
        }
    }

    // ---- header -------------------------------------------------------

    /// Parses everything but the text start (left 0).
    fn parse_unanchored(data: &'a [u8]) -> Result<Self, PclntabError> {
        if data.len() < 8 {
            return Err(PclntabError::TooShort(data.len()));
        }
        let le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let be = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        let (magic, big_endian) = match (le, be) {
            (MAGIC_GO116 | MAGIC_GO118 | MAGIC_GO120 | MAGIC_GO12, _) => (le, false),
            (_, MAGIC_GO116 | MAGIC_GO118 | MAGIC_GO120 | MAGIC_GO12) => (be, true),
            _ => return Err(PclntabError::BadMagic(le)),
        };
        let version = match magic {
            MAGIC_GO116 => Version::Go116,
            MAGIC_GO118 => Version::Go118,
            MAGIC_GO120 => Version::Go120,
            _ => return Err(PclntabError::Unsupported(magic)),
        };
        if data[4] != 0 || data[5] != 0 {
            return Err(PclntabError::BadHeader(
                "the padding after the magic is not zero",
            ));
        }
        let quantum = u32::from(data[6]);
        if !matches!(quantum, 1 | 2 | 4) {
            return Err(PclntabError::BadHeader(
                "the instruction size is not 1, 2 or 4",
            ));
        }
        let ptr_size = usize::from(data[7]);
        if !matches!(ptr_size, 4 | 8) {
            return Err(PclntabError::BadHeader("the pointer size is not 4 or 8"));
        }
        // Words after the 8 fixed bytes: nfunc, nfiles, [textStart,]
        // funcname, cu, file, pc, func table offsets.
        let first_offset_word = if version >= Version::Go118 { 3 } else { 2 };
        let words = first_offset_word + 5;
        if data.len() < 8 + words * ptr_size {
            return Err(PclntabError::TooShort(data.len()));
        }

        let mut table = Pclntab {
            data,
            version,
            big_endian,
            quantum,
            ptr_size,
            nfunc: 0,
            text_start: 0,
            text_start_from: TextStartFrom::Absolute,
            funcnametab: &[],
            cutab: &[],
            filetab: &[],
            pctab: &[],
            functab_offset: 0,
            functab: &[],
            funcnametab_offset: 0,
            gofunc: None,
            wrapper_id: None,
        };
        let word = |i: usize| -> Result<usize, PclntabError> {
            let value = table
                .header_word(i)
                .ok_or(PclntabError::TooShort(data.len()))?;
            usize::try_from(value)
                .map_err(|_| PclntabError::BadHeader("a count or offset is too large"))
        };
        let nfunc = word(0)?;
        let mut offsets = [0usize; 5];
        for (k, offset) in offsets.iter_mut().enumerate() {
            *offset = word(first_offset_word + k)?;
            if *offset > data.len() {
                return Err(PclntabError::BadHeader(
                    "a table offset points past the end",
                ));
            }
        }
        // Each table runs to the next one when they come in the order the
        // linker writes them, else to the end.
        let table_at = |k: usize| -> &'a [u8] {
            let start = offsets[k];
            let end = offsets
                .get(k + 1)
                .copied()
                .filter(|&next| next >= start)
                .unwrap_or(data.len());
            &data[start..end]
        };
        table.funcnametab = table_at(0);
        table.funcnametab_offset = offsets[0];
        table.cutab = table_at(1);
        table.filetab = table_at(2);
        table.pctab = table_at(3);
        table.functab_offset = offsets[4];
        table.functab = &data[offsets[4]..];
        let pairs_size = nfunc
            .checked_mul(2)
            .and_then(|n| n.checked_add(1))
            .and_then(|n| n.checked_mul(table.functab_field_size()))
            .ok_or(PclntabError::BadHeader("the function count is too large"))?;
        if pairs_size > table.functab.len() {
            return Err(PclntabError::BadHeader(
                "the function table runs past the end",
            ));
        }
        table.nfunc = nfunc;
        if version == Version::Go120 {
            table.scan_records();
        }
        Ok(table)
    }

    fn set_text_start(&mut self, start: u64, from: TextStartFrom) {
        self.text_start = start;
        self.text_start_from = from;
    }

    /// Pointer-sized header word `i` (after the 8 fixed bytes).
    fn header_word(&self, i: usize) -> Option<u64> {
        self.uint(self.data, 8 + i * self.ptr_size, self.ptr_size)
    }

    /// One pass over the function records (Go 1.20+): where they end, which
    /// tells where `go:func.*` starts, and the funcID wrappers carry.
    fn scan_records(&mut self) {
        let mut end = 0usize;
        let mut max_id = 0u8;
        for i in 0..self.nfunc {
            let Some(offset) = self.functab_field(2 * i + 1) else {
                continue;
            };
            let Ok(offset) = usize::try_from(offset) else {
                continue;
            };
            let Some(record) = self.functab.get(offset..) else {
                continue;
            };
            let fixed = self.record_size();
            if record.len() < fixed {
                continue;
            }
            let npcdata = self.field(record, 7).unwrap_or(0) as usize;
            let nfuncdata = usize::from(record[fixed - 1]);
            let size = fixed
                .saturating_add(npcdata.saturating_mul(4))
                .saturating_add(nfuncdata * 4);
            if size <= record.len() {
                end = end.max(offset + size);
            }
            if let Some(id) = self.func_id(record) {
                max_id = max_id.max(id);
            }
        }
        // Every Go binary has compiler wrappers (ABI wrappers at least), and
        // FuncIDWrapper is the last funcID Go defines: the largest one in use
        // is the wrappers'.
        self.wrapper_id = (max_id > 0).then_some(max_id);

        // The linker lays out the function table (its size rounded to the
        // pointer size), then `go:func.*`, aligned to its most aligned
        // member. Try the plausible alignments; keep the first under which
        // every inline tree reads back sensibly.
        let Some(base) =
            align_up(end, self.ptr_size).and_then(|e| e.checked_add(self.functab_offset))
        else {
            return;
        };
        for align in [1, 8, 16, 32] {
            let Some(start) = align_up(base, align) else {
                continue;
            };
            let Some(area) = self.data.get(start..) else {
                continue;
            };
            if area.is_empty() {
                continue;
            }
            if self.inline_trees_fit(area) {
                self.gofunc = Some(area);
                break;
            }
        }
    }

    /// Whether every function's inline tree, read from `gofunc`, has sane
    /// first entries: zero padding, a name at the start of a function name.
    /// False when no function has an inline tree (nothing to expand then).
    fn inline_trees_fit(&self, gofunc: &[u8]) -> bool {
        let mut seen = 0usize;
        for i in 0..self.nfunc {
            let Some(func) = self.record(i) else { continue };
            let Some(offset) = self.funcdata_offset(func.record, FUNCDATA_INL_TREE) else {
                continue;
            };
            let Some(entry) = gofunc.get(offset..offset.saturating_add(INLINED_CALL_SIZE)) else {
                return false;
            };
            if entry[1..4] != [0, 0, 0] {
                return false;
            }
            let name_off = self.u32_at(entry, 4).unwrap_or(u32::MAX) as usize;
            let at_name_start = name_off == 0 || self.funcnametab.get(name_off - 1) == Some(&0);
            if name_off >= self.funcnametab.len() || !at_name_start {
                return false;
            }
            seen += 1;
        }
        seen > 0
    }

    // ---- function table ---------------------------------------------------

    fn functab_field_size(&self) -> usize {
        if self.version >= Version::Go118 {
            4
        } else {
            self.ptr_size
        }
    }

    fn functab_field(&self, k: usize) -> Option<u64> {
        let size = self.functab_field_size();
        self.uint(self.functab, k.checked_mul(size)?, size)
    }

    /// The address of function table entry `i` (entry `nfunc` is the end).
    fn functab_pc(&self, i: usize) -> Option<u64> {
        let value = self.functab_field(2 * i)?;
        if self.version >= Version::Go118 {
            self.text_start.checked_add(value)
        } else {
            Some(value)
        }
    }

    /// Index of the function containing `pc`.
    fn find(&self, pc: u64) -> Option<usize> {
        if self.nfunc == 0 {
            return None;
        }
        let first = self.functab_pc(0)?;
        let end = self.functab_pc(self.nfunc)?;
        if pc < first || pc >= end {
            return None;
        }
        // The last entry at or below pc.
        let (mut low, mut high) = (0usize, self.nfunc);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if self.functab_pc(mid)? <= pc {
                low = mid;
            } else {
                high = mid;
            }
        }
        Some(low)
    }

    fn record(&self, i: usize) -> Option<FuncRecord<'a>> {
        let offset = usize::try_from(self.functab_field(2 * i + 1)?).ok()?;
        let record = self.functab.get(offset..)?;
        if record.len() < self.record_size() {
            return None;
        }
        let entry = if self.version >= Version::Go118 {
            self.text_start
                .checked_add(u64::from(self.u32_at(record, 0)?))?
        } else {
            self.uint(record, 0, self.ptr_size)?
        };
        Some(FuncRecord { record, entry })
    }

    // ---- function records (`_func`) -------------------------------------

    /// Bytes before the entry-relative fields: the entry itself.
    fn entry_size(&self) -> usize {
        if self.version >= Version::Go118 {
            4
        } else {
            self.ptr_size
        }
    }

    /// Size of the fixed part of a record, `nfuncdata` being its last byte.
    fn record_size(&self) -> usize {
        match self.version {
            // nameOff args deferreturn pcsp pcfile pcln npcdata cuOffset
            // startLine, funcID flag pad nfuncdata
            Version::Go120 => self.entry_size() + 9 * 4 + 4,
            // the same without startLine
            Version::Go118 => self.entry_size() + 8 * 4 + 4,
            // funcID, 2 bytes padding, nfuncdata
            Version::Go116 => self.entry_size() + 8 * 4 + 4,
        }
    }

    /// The `n`th `u32` field after the entry, counting `nameOff` as 1:
    /// 5 pcfile, 6 pcln, 7 npcdata, 8 cuOffset, 9 startLine (Go 1.20+).
    fn field(&self, record: &[u8], n: usize) -> Option<u32> {
        self.u32_at(record, self.entry_size() + (n - 1) * 4)
    }

    fn function_name(&self, record: &[u8]) -> Option<&'a [u8]> {
        cstring(self.funcnametab, self.field(record, 1)? as usize)
    }

    fn start_line(&self, record: &[u8]) -> u32 {
        if self.version == Version::Go120 {
            self.field(record, 9).unwrap_or(0)
        } else {
            0
        }
    }

    fn func_id(&self, record: &[u8]) -> Option<u8> {
        let at = match self.version {
            Version::Go120 => self.entry_size() + 9 * 4,
            Version::Go118 | Version::Go116 => self.entry_size() + 8 * 4,
        };
        record.get(at).copied()
    }

    /// Offset in `pctab` of pcdata table `k`, when the function has one.
    fn pcdata_offset(&self, record: &[u8], k: u32) -> Option<u32> {
        let npcdata = self.field(record, 7)?;
        if k >= npcdata {
            return None;
        }
        let offset = self.u32_at(record, self.record_size() + k as usize * 4)?;
        (offset != 0).then_some(offset)
    }

    /// Offset in `go:func.*` of funcdata `k` (Go 1.18+), when present.
    fn funcdata_offset(&self, record: &[u8], k: u32) -> Option<usize> {
        if self.version < Version::Go118 {
            return None;
        }
        let nfuncdata = u32::from(*record.get(self.record_size() - 1)?);
        if k >= nfuncdata {
            return None;
        }
        let npcdata = self.field(record, 7)? as usize;
        let at = self
            .record_size()
            .checked_add(npcdata.checked_mul(4)?)?
            .checked_add(k as usize * 4)?;
        let offset = self.u32_at(record, at)?;
        (offset != u32::MAX).then_some(offset as usize)
    }

    fn inline_tree(&self, record: &[u8]) -> Option<&'a [u8]> {
        let gofunc = self.gofunc?;
        gofunc.get(self.funcdata_offset(record, FUNCDATA_INL_TREE)?..)
    }

    // ---- pc-value tables ---------------------------------------------------

    /// The value table `offset` gives `target` in a function entered at
    /// `entry`; `None` where the table is missing, damaged or ends first.
    fn pcvalue(&self, offset: u32, entry: u64, target: u64) -> Option<i32> {
        if offset == 0 {
            return None;
        }
        let mut rest = self.pctab.get(offset as usize..)?;
        let mut pc = entry;
        let mut value: i32 = -1;
        // Each pass consumes at least two bytes: the loop ends with the table.
        loop {
            let (delta, n) = uvarint(rest)?;
            rest = &rest[n..];
            if delta == 0 && pc != entry {
                return None;
            }
            let delta = ((delta >> 1) as i32) ^ -((delta & 1) as i32);
            value = value.wrapping_add(delta);
            let (step, n) = uvarint(rest)?;
            rest = &rest[n..];
            pc = pc.checked_add(u64::from(step) * u64::from(self.quantum))?;
            if target < pc {
                return Some(value);
            }
        }
    }

    fn line_at(&self, func: FuncRecord<'a>, pc: u64) -> Option<u32> {
        let table = self.field(func.record, 6)?;
        let line = self.pcvalue(table, func.entry, pc)?;
        u32::try_from(line).ok()
    }

    fn file_at(&self, func: FuncRecord<'a>, pc: u64) -> Option<&'a [u8]> {
        let table = self.field(func.record, 5)?;
        let index = u32::try_from(self.pcvalue(table, func.entry, pc)?).ok()?;
        let cu = self.field(func.record, 8)?;
        let slot = cu.checked_add(index)? as usize;
        let name_offset = self.u32_at(self.cutab, slot.checked_mul(4)?)?;
        if name_offset == u32::MAX {
            return None;
        }
        cstring(self.filetab, name_offset as usize)
    }

    // ---- module data (for binaries without a symbol table) ---------------

    /// `runtime.firstmoduledata.text`, found by scanning the loadable
    /// segments for a word equal to the table's address and checking the
    /// fields around it against the table: the `funcnametab` and `ftab`
    /// slices must point into it, with the right length, and `minpc` must be
    /// the text start plus the first function's offset.
    fn text_from_moduledata(&self, file: &object::File<'a>, address: u64) -> Option<u64> {
        let word = self.ptr_size;
        // Fields, in words: 0 pcHeader, 1 funcnametab (3 words), 4 cutab,
        // 7 filetab, 10 pctab, 13 pclntable, 16 ftab (ptr, len, cap),
        // 19 findfunctab, 20 minpc, 21 maxpc, 22 text.
        let span = 23 * word;
        let want_names = address.checked_add(self.funcnametab_offset as u64)?;
        let want_ftab = address.checked_add(self.functab_offset as u64)?;
        let first_offset = self.functab_field(0)?;
        let needle = address;
        // `.go.module` holds it in Go 1.27; older linkers put it in
        // `.noptrdata`. Scanning every writable segment covers both.
        let mut regions: Vec<&'a [u8]> = Vec::new();
        if let Some(section) = file.section_by_name(".go.module") {
            if let Ok(data) = section.data() {
                regions.push(data);
            }
        }
        for segment in file.segments() {
            let writable = match segment.flags() {
                object::SegmentFlags::Elf { p_flags, .. } => p_flags.0 & object::elf::PF_W.0 != 0,
                _ => true,
            };
            if let (true, Ok(data)) = (writable, segment.data()) {
                regions.push(data);
            }
        }
        for region in regions {
            let mut at = 0usize;
            while at + span <= region.len() {
                let w = |i: usize| self.uint(region, at + i * word, word);
                if w(0) == Some(needle)
                    && w(1) == Some(want_names)
                    && w(16) == Some(want_ftab)
                    && w(17) == Some(self.nfunc as u64 + 1)
                {
                    if let (Some(minpc), Some(text)) = (w(20), w(22)) {
                        if text.checked_add(first_offset) == Some(minpc) {
                            return Some(text);
                        }
                    }
                }
                at += word;
            }
        }
        None
    }

    // ---- byte access -----------------------------------------------------

    fn u32_at(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn uint(&self, bytes: &[u8], at: usize, size: usize) -> Option<u64> {
        match size {
            4 => self.u32_at(bytes, at).map(u64::from),
            8 => {
                let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
                Some(if self.big_endian {
                    u64::from_be_bytes(b)
                } else {
                    u64::from_le_bytes(b)
                })
            }
            _ => None,
        }
    }
}

/// One inline tree entry (`runtime.inlinedCall`, Go 1.20+).
struct InlinedCall {
    func_id: u8,
    name_off: u32,
    parent_pc: i32,
    start_line: u32,
}

fn inlined_call(tree: &[u8], index: usize, table: &Pclntab<'_>) -> Option<InlinedCall> {
    let at = index.checked_mul(INLINED_CALL_SIZE)?;
    let entry = tree.get(at..at.checked_add(INLINED_CALL_SIZE)?)?;
    Some(InlinedCall {
        func_id: entry[0],
        name_off: table.u32_at(entry, 4)?,
        parent_pc: table.u32_at(entry, 8)? as i32,
        start_line: table.u32_at(entry, 12)?,
    })
}

/// An unsigned LEB128 varint of at most 32 bits, and its length.
fn uvarint(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for (i, &byte) in bytes.iter().take(5).enumerate() {
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The NUL-terminated string at `offset`.
fn cstring(table: &[u8], offset: usize) -> Option<&[u8]> {
    let rest = table.get(offset..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..len])
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn align_up(value: usize, align: usize) -> Option<usize> {
    Some(value.checked_add(align - 1)? / align * align)
}

/// The ELF symbols [`Pclntab::from_executable`] may use.
#[derive(Default)]
struct WantedSymbols {
    text: Option<u64>,
    pclntab: Option<u64>,
    epclntab: Option<u64>,
    gofunc: Option<u64>,
}

impl WantedSymbols {
    fn collect(file: &object::File<'_>) -> Self {
        let mut wanted = WantedSymbols::default();
        for symbol in file.symbols() {
            // Mach-O symbol names may carry the C prefix `_`.
            let name = symbol
                .name_bytes()
                .map(|n| n.strip_prefix(b"_").unwrap_or(n));
            let slot = match name {
                Ok(b"runtime.text") => &mut wanted.text,
                Ok(b"runtime.pclntab") => &mut wanted.pclntab,
                Ok(b"runtime.epclntab") => &mut wanted.epclntab,
                Ok(b"go:func.*") => &mut wanted.gofunc,
                _ => continue,
            };
            slot.get_or_insert(symbol.address());
        }
        wanted
    }
}

/// The table's bytes and address.
fn find_table<'a>(
    file: &object::File<'a>,
    symbols: &WantedSymbols,
) -> Result<(&'a [u8], u64), PclntabError> {
    // ELF, old ELF PIE, Mach-O (`object` finds `__gopclntab` for
    // `.gopclntab` too, but says so explicitly here).
    for name in [".gopclntab", ".data.rel.ro.gopclntab", "__gopclntab"] {
        if let Some(section) = file.section_by_name(name) {
            return Ok((section.data()?, section.address()));
        }
    }
    if let Some(start) = symbols.pclntab {
        if let Some(data) = data_at(file, start) {
            let len = symbols
                .epclntab
                .and_then(|end| end.checked_sub(start))
                .and_then(|len| usize::try_from(len).ok())
                .filter(|&len| len <= data.len())
                .unwrap_or(data.len());
            return Ok((&data[..len], start));
        }
    }
    // No section headers and no symbols: look for a header that parses.
    for segment in file.segments() {
        let Ok(data) = segment.data() else { continue };
        let mut from = 0usize;
        while let Some(found) = find_magic(&data[from..]) {
            let at = from + found;
            if Pclntab::parse_unanchored(&data[at..]).is_ok() {
                return Ok((&data[at..], segment.address() + at as u64));
            }
            from = at + 1;
        }
    }
    Err(PclntabError::NotFound)
}

/// Offset of the next plausible header start: a known magic in either byte
/// order, two zero bytes, a quantum and a pointer size.
fn find_magic(data: &[u8]) -> Option<usize> {
    data.windows(8).position(|w| {
        let le = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let be = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        let known = |m: u32| matches!(m, MAGIC_GO116 | MAGIC_GO118 | MAGIC_GO120);
        (known(le) || known(be))
            && w[4] == 0
            && w[5] == 0
            && matches!(w[6], 1 | 2 | 4)
            && matches!(w[7], 4 | 8)
    })
}

/// The file bytes from `address` to the end of the segment that maps it.
fn data_at<'a>(file: &object::File<'a>, address: u64) -> Option<&'a [u8]> {
    file.segments().find_map(|segment| {
        let start = segment.address();
        let data = segment.data().ok()?;
        let offset = address.checked_sub(start)?;
        data.get(usize::try_from(offset).ok()?..)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarint_reads_leb128_and_bounds_its_length() {
        assert_eq!(uvarint(&[0x02]), Some((2, 1)));
        assert_eq!(uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(
            uvarint(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Some((u32::MAX, 5))
        );
        assert_eq!(uvarint(&[0x80, 0x80]), None);
        assert_eq!(uvarint(&[0x80; 6]), None);
        assert_eq!(uvarint(&[]), None);
    }

    /// Writes integers in one byte order and pointer size.
    struct Writer {
        bytes: Vec<u8>,
        big_endian: bool,
        ptr_size: usize,
    }

    impl Writer {
        fn u32(&mut self, v: u32) {
            let b = if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            self.bytes.extend_from_slice(&b);
        }
        fn word(&mut self, v: u64) {
            if self.ptr_size == 4 {
                self.u32(v as u32);
            } else {
                let b = if self.big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                self.bytes.extend_from_slice(&b);
            }
        }
        fn set_word(&mut self, at: usize, v: u64) {
            let mut w = Writer {
                bytes: Vec::new(),
                ..*self
            };
            w.word(v);
            self.bytes[at..at + self.ptr_size].copy_from_slice(&w.bytes);
        }
        fn align(&mut self, to: usize) {
            while !self.bytes.len().is_multiple_of(to) {
                self.bytes.push(0);
            }
        }
    }

    /// A hand-made table in the given layout: two functions at text
    /// offsets 0 and 16 (absolute 0x1000 and 0x1010 for Go 1.16), 16 bytes
    /// each, in file a.go, line 10 for their first 4 bytes and 12 after.
    fn synthetic(version: Version, big_endian: bool, ptr_size: usize) -> Vec<u8> {
        let mut w = Writer {
            bytes: Vec::new(),
            big_endian,
            ptr_size,
        };
        w.u32(match version {
            Version::Go116 => MAGIC_GO116,
            Version::Go118 => MAGIC_GO118,
            Version::Go120 => MAGIC_GO120,
        });
        w.bytes.extend_from_slice(&[0, 0, 1, ptr_size as u8]);
        let words_at = w.bytes.len();
        let nwords = if version >= Version::Go118 { 8 } else { 7 };
        for _ in 0..nwords {
            w.word(0);
        }
        let first_offset_word = nwords - 5;
        w.set_word(words_at, 2);
        w.set_word(words_at + ptr_size, 1);
        let names = w.bytes.len();
        w.bytes.extend_from_slice(b"main.a\0main.b\0");
        let cu = w.bytes.len();
        w.u32(0);
        let files = w.bytes.len();
        w.bytes.extend_from_slice(b"a.go\0");
        let pc = w.bytes.len();
        w.bytes.push(0); // offset 0 means "no table"
        let file_table = (w.bytes.len() - pc) as u32;
        w.bytes.extend_from_slice(&[0x02, 16, 0]); // 0 (from -1) for 16 bytes
        let line_table = (w.bytes.len() - pc) as u32;
        w.bytes.extend_from_slice(&[22, 4, 4, 12, 0]); // 10 for 4, 12 for 12
        w.align(ptr_size);
        let functab = w.bytes.len();
        for (k, offset) in [names, cu, files, pc, functab].into_iter().enumerate() {
            w.set_word(words_at + (first_offset_word + k) * ptr_size, offset as u64);
        }

        let relative = version >= Version::Go118;
        let field = if relative { 4 } else { ptr_size };
        let entry_size = field;
        let record = entry_size + 8 * 4 + if version == Version::Go120 { 8 } else { 4 };
        let rec0 = align_up(5 * field, ptr_size).unwrap();
        let rec1 = rec0 + align_up(record, ptr_size).unwrap();
        let base = if relative { 0 } else { 0x1000 };
        let put = |w: &mut Writer, v: u64| {
            if field == 4 {
                w.u32(v as u32)
            } else {
                w.word(v)
            }
        };
        for v in [base, rec0 as u64, base + 16, rec1 as u64, base + 32] {
            put(&mut w, v);
        }
        for (at, entry, name) in [(rec0, base, 0u32), (rec1, base + 16, 7)] {
            w.bytes.resize(functab + at, 0);
            put(&mut w, entry);
            for v in [name, 0, 0, 0, file_table, line_table, 0, 0] {
                w.u32(v);
            }
            if version == Version::Go120 {
                w.u32(5); // startLine
            }
            w.bytes.extend_from_slice(&[0, 0, 0, 0]); // funcID .. nfuncdata
        }
        w.bytes
    }

    #[test]
    fn every_layout_byte_order_and_pointer_size() {
        for version in [Version::Go116, Version::Go118, Version::Go120] {
            for big_endian in [false, true] {
                for ptr_size in [4, 8] {
                    let what = format!("{version:?} big_endian={big_endian} ptr={ptr_size}");
                    let data = synthetic(version, big_endian, ptr_size);
                    let table = Pclntab::parse(&data, Some(0x1000)).expect(&what);
                    assert_eq!(table.version(), version, "{what}");
                    assert_eq!(table.len(), 2, "{what}");
                    let a = table.lookup(0x1000).expect(&what);
                    assert_eq!(a.function, "main.a", "{what}");
                    assert_eq!(a.file.as_deref(), Some("a.go"), "{what}");
                    assert_eq!(a.line, Some(10), "{what}");
                    let start = if version == Version::Go120 { 5 } else { 0 };
                    assert_eq!(a.start_line, start, "{what}");
                    assert_eq!(table.lookup(0x1003).unwrap().line, Some(10), "{what}");
                    assert_eq!(table.lookup(0x1004).unwrap().line, Some(12), "{what}");
                    let b = table.lookup(0x101f).expect(&what);
                    assert_eq!(b.function, "main.b", "{what}");
                    assert_eq!((b.entry, b.line), (0x1010, Some(12)), "{what}");
                    assert!(table.lookup(0xfff).is_none(), "{what}");
                    assert!(table.lookup(0x1020).is_none(), "{what}");
                    assert_eq!(
                        table.lookup_inline(0x1010),
                        vec![table.lookup(0x1010).unwrap()]
                    );
                    let functions: Vec<_> = table
                        .functions()
                        .map(|f| (f.name.into_owned(), f.entry, f.end))
                        .collect();
                    assert_eq!(
                        functions,
                        [
                            ("main.a".to_owned(), 0x1000, 0x1010),
                            ("main.b".to_owned(), 0x1010, 0x1020)
                        ],
                        "{what}"
                    );
                }
            }
        }
    }

    #[test]
    fn header_errors() {
        let data = synthetic(Version::Go120, false, 8);
        assert!(matches!(
            Pclntab::parse(&data[..4], None),
            Err(PclntabError::TooShort(4))
        ));
        assert!(matches!(
            Pclntab::parse(&data[..20], Some(0)),
            Err(PclntabError::TooShort(20))
        ));
        assert!(matches!(
            Pclntab::parse(&data, None),
            Err(PclntabError::NoTextStart)
        ));
        let mut old = data.clone();
        old[0] = 0xfb;
        assert!(matches!(
            Pclntab::parse(&old, Some(0)),
            Err(PclntabError::Unsupported(MAGIC_GO12))
        ));
        let mut bad = data.clone();
        bad[0] = 0x12;
        assert!(matches!(
            Pclntab::parse(&bad, Some(0)),
            Err(PclntabError::BadMagic(_))
        ));
        let mut ptr = data.clone();
        ptr[7] = 6;
        assert!(matches!(
            Pclntab::parse(&ptr, Some(0)),
            Err(PclntabError::BadHeader(_))
        ));
        let mut huge = data.clone();
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            Pclntab::parse(&huge, Some(0)),
            Err(PclntabError::BadHeader(_))
        ));
        let mut past = data.clone();
        past[8..16].copy_from_slice(&1000u64.to_le_bytes());
        assert!(matches!(
            Pclntab::parse(&past, Some(0)),
            Err(PclntabError::BadHeader(_))
        ));
        // Go 1.16 ignores the hint and needs none.
        let go116 = synthetic(Version::Go116, false, 8);
        let table = Pclntab::parse(&go116, None).unwrap();
        assert_eq!(table.text_start_from(), TextStartFrom::Absolute);
        assert!(matches!(
            Pclntab::from_executable(&go116),
            Err(PclntabError::Object(_))
        ));
    }

    /// The Go test binary among the fixtures: Go 1.27, 5.7 MB.
    fn bench_binary() -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bin/bench.test");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Addresses spread over the whole table, and just outside it.
    fn sample_pcs(table: &Pclntab<'_>, count: usize) -> Vec<u64> {
        let functions: Vec<_> = table.functions().collect();
        let step = (functions.len() / count).max(1);
        let mut pcs: Vec<u64> = functions
            .iter()
            .step_by(step)
            .flat_map(|f| [f.entry, f.entry + (f.end - f.entry) / 2, f.end - 1])
            .collect();
        pcs.extend([0, 1, table.text_start().wrapping_sub(1), u64::MAX]);
        pcs
    }

    fn exercise(table: &Pclntab<'_>, pcs: &[u64]) -> usize {
        let mut seen = table.functions().count();
        for &pc in pcs {
            seen += table.lookup(pc).map_or(0, |f| f.function.len());
            seen += table.lookup_inline(pc).len();
        }
        seen
    }

    #[test]
    fn reads_the_fixture_binary() {
        let file = bench_binary();
        let table = Pclntab::from_executable(&file).unwrap();
        assert_eq!(table.version(), Version::Go120);
        assert_eq!(table.text_start_from(), TextStartFrom::Symbol);
        assert!(table.has_inline_trees());
        assert!(table.len() > 3000, "{}", table.len());
        let main = table.functions().find(|f| f.name == "main.main").unwrap();
        let frame = table.lookup(main.entry).unwrap();
        assert_eq!(frame.function, "main.main");
        assert_eq!(frame.entry, main.entry);
        assert!(frame.line.is_some() && frame.file.is_some(), "{frame:?}");
        let debug = format!("{table:?}");
        assert!(debug.len() < 300 && debug.contains("Go120"), "{debug}");
    }

    /// A real table, damaged every way we can think of: truncated at many
    /// lengths, single bytes flipped all over, header fields overwritten.
    /// Parsing may fail and lookups may give `None` or nonsense; nothing may
    /// panic or hang.
    #[test]
    fn damaged_tables_never_panic() {
        let file = bench_binary();
        let good = Pclntab::from_executable(&file).unwrap();
        let text = good.text_start();
        let data = good.data.to_vec();
        let pcs = sample_pcs(&good, 60);
        assert!(exercise(&good, &pcs) > 0);

        // Truncations: every length up to the header's end, then spread out.
        let mut cuts: Vec<usize> = (0..=128).collect();
        cuts.extend((0..data.len()).step_by(data.len() / 150));
        for cut in cuts {
            if let Ok(table) = Pclntab::parse(&data[..cut], Some(text)) {
                exercise(&table, &pcs);
            }
        }

        // Flips, denser where the structure is: header, then the function
        // table and records, then anywhere.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let functab = good.functab_offset;
        let mut mutated = data.clone();
        for round in 0..600 {
            let at = match round % 3 {
                0 => (next() % 128) as usize,
                1 => functab + (next() as usize % (data.len() - functab)),
                _ => next() as usize % data.len(),
            };
            let flip = (next() % 255 + 1) as u8;
            mutated[at] ^= flip;
            if let Ok(table) = Pclntab::parse(&mutated, Some(text)) {
                exercise(&table, &pcs);
            }
            mutated[at] ^= flip;
        }

        // Header words set to extremes.
        for word in 0..8 {
            for value in [
                0u64,
                1,
                7,
                u32::MAX as u64,
                u64::MAX,
                data.len() as u64,
                data.len() as u64 - 1,
            ] {
                let mut damaged = data.clone();
                let at = 8 + word * 8;
                damaged[at..at + 8].copy_from_slice(&value.to_le_bytes());
                if let Ok(table) = Pclntab::parse(&damaged, Some(text)) {
                    exercise(&table, &pcs);
                }
            }
        }

        // Random garbage after a valid header start, and a whole ELF cut short.
        for len in [8usize, 64, 1000] {
            let mut garbage: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            garbage[..8].copy_from_slice(&data[..8]);
            if let Ok(table) = Pclntab::parse(&garbage, Some(text)) {
                exercise(&table, &pcs);
            }
        }
        for cut in (0..file.len()).step_by(file.len() / 40) {
            if let Ok(table) = Pclntab::from_executable(&file[..cut]) {
                exercise(&table, &pcs);
            }
        }
    }
}
