//! Go's legacy text profiles (`?debug=1`) → [`Profile`].
//!
//! # Formats and values
//!
//! The values follow `go tool pprof` (google/pprof's legacy parser), so that
//! totals and per-sample values agree with what pprof shows for the same file:
//!
//! - **heap**: `heap profile: A: B [C: D] @ heap/N`, rows
//!   `inuse_n: inuse_b [alloc_n: alloc_b] @ 0x… 0x…`. The header tag sets the
//!   sampling rate: `heap/N` means N/2 (Go writes twice `MemProfileRate`),
//!   `heap_v2/N` and `heapz_v2/N` mean N, `heapprofile` means 1. Each pair is
//!   unsampled on its own: `scale = 1 / (1 - exp(-(bytes/count) / rate))`, count
//!   and bytes multiplied by it in float64 and truncated to integers; a rate
//!   ≤ 1 leaves them alone, and a pair with zero bytes becomes `0, 0`. The
//!   sample types are `alloc_objects, alloc_space, inuse_objects, inuse_space`,
//!   or just `objects, space` when the header's alloc numbers equal the in-use
//!   ones (compared as text, as pprof does). Every sample carries pprof's
//!   numeric `bytes` label (bytes per object). The period type is
//!   `space/bytes` and the period the sampling rate; `drop_frames` and
//!   `keep_frames` are pprof's allocator expressions, so folding removes the
//!   allocator's own frames as pprof does. `growthz` and `fragmentationz`
//!   headers (rate 1, two sample types) are read too.
//! - **goroutine, threadcreate** (any `NAME profile: total N`): rows
//!   `count @ 0x…`; one sample type `NAME/count`, period 1. A row without
//!   addresses (Go can write one for an empty stack) is a sample with no
//!   stack; pprof refuses such a file.
//! - **mutex, block** (`--- mutex:`, `--- contention:`): attribute lines
//!   `cycles/second=HZ`, `sampling period=P` (default 1), `ms since reset=`,
//!   then rows `cycles count @ 0x…`. Sample types `contentions/count,
//!   delay/nanoseconds`: `contentions = count × P` and, when HZ > 0,
//!   `delay = trunc(cycles × P / (HZ / 1e9))` in float64.
//!
//! Arithmetic that would overflow (pprof would wrap, or convert an infinite
//! float to an arbitrary integer) is an error naming the line. Every address
//! in a row is a return address: its location's address is the address − 1
//! (wrapping, so Go's `0x0` padding becomes `0xffffffffffffffff`, which the
//! fold shows as `<unknown>`), one location per distinct address, in order of
//! first appearance. As in pprof, all locations but address 0 belong to one
//! made-up mapping covering the whole address space; it says
//! `has_functions: false`, because some locations stay unnamed (below).
//! Memory-map sections (`--- Memory map: ---`, `MAPPED_LIBRARIES:`), which Go
//! never writes, end the samples and are not read.
//!
//! # Names from the `#` comment lines
//!
//! pprof ignores comments; torch names the locations from the lines Go's
//! `printStackRecord` writes under each row:
//! `#\t0xPC\tfunction+0xOFF\tfile:line` (columns padded with more tabs). It
//! prints one line per frame of `runtime.CallersFrames(row)`, so
//!
//! - the first frame of an address has `PC = address − 1`;
//! - an address whose code inlines other functions has several frames. Go
//!   ≥ 1.12 writes stacks with one address per logical frame (the outer frames
//!   of an inline chain get "virtual" addresses of their own), so each address
//!   has exactly one line; older runtimes printed the whole inline chain under
//!   the one physical address, all lines with the same PC, innermost first;
//! - recursion repeats the same address in the row and the same lines below;
//! - leading `runtime.*` / `internal/runtime/*` frames are not printed (except
//!   in block and mutex profiles, and when nothing else would be left),
//!   `runtime.goexit` is never printed, and an address outside any Go function
//!   has no frame at all. A row with no frames at all prints `#\t0x0`.
//!
//! The matching (see [`name_groups`]): consecutive comment lines with the same
//! PC form a *line run*, consecutive equal addresses an *address run*. Each
//! line run goes to the first address run at or after the previous match
//! whose address − 1 is its PC (earliest match keeps every later run
//! matchable; hidden frames simply leave address runs without lines). Within
//! a match of `k` equal addresses and `L` lines, the lines of one address are
//! the last `g` lines, `g` being the smallest period of the line run with
//! `(k−1)·g ≤ L ≤ k·g` (only the first occurrence can have lost leading
//! frames): recursion without inlining gives `g = 1`, a recursive inline chain
//! gives its length. A line run whose PC is no address − 1 of the row (the
//! "virtual PC" outer frames `CallersFrames` inserts for a physical address)
//! extends the lines of the address matched just before; one whose address
//! was already passed is out of order and ignored. Lines without a
//! function name align like the others but name nothing. A location keeps the
//! longest list of named lines any row gives it; the function name loses its
//! `+0xOFF`, and the lines are innermost first, as in protobuf.
//!
//! # Addresses without comment lines
//!
//! They stay **unnamed** locations (no lines, address kept), so a symbolizer
//! can name them later and the fold shows their address. Nothing in the file
//! proves their names: a leading hidden frame is *some* runtime function, and
//! a non-leading one is `runtime.goexit` or an address outside Go code (cgo
//! tracebacks), which the text cannot tell apart.
//!
//! # `# runtime.MemStats`
//!
//! Heap text profiles end with the runtime's memory statistics; [`memstats`]
//! reads them into [`MemStats`] and [`memstats_summary`] words them for people.

use std::collections::HashMap;

use super::ValueType;
use super::{DecodeError, Function, Label, LabelValue, Line, Location, Mapping, Profile, Sample};
use crate::units;

/// Which text format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Heap,
    /// `goroutine profile: total N`, `threadcreate profile: total N`, …
    Count,
    /// `--- mutex:`, `--- contention:`
    Contention,
}

/// pprof's expression for allocator frames (drop_frames of legacy heap
/// profiles): C/C++ allocators, tcmalloc, and the Go runtime.
const ALLOC_DROP_FRAMES: &str = concat!(
    "calloc|cfree|malloc|free|memalign|do_memalign|(__)?posix_memalign|pvalloc|valloc|realloc|",
    "tcmalloc::.*|tc_calloc|tc_cfree|tc_malloc|tc_free|tc_memalign|tc_posix_memalign|",
    "tc_pvalloc|tc_valloc|tc_realloc|tc_new|tc_delete|tc_newarray|tc_deletearray|",
    "tc_new_nothrow|tc_newarray_nothrow|",
    "malloc_zone_malloc|malloc_zone_calloc|malloc_zone_valloc|malloc_zone_realloc|",
    "malloc_zone_memalign|malloc_zone_free|",
    "runtime\\..*|",
    "BaseArena::.*|(::)?do_malloc_no_errno|(::)?do_malloc_pages|(::)?do_malloc|",
    "DoSampledAllocation|MallocedMemBlock::MallocedMemBlock|_M_allocate|",
    "__builtin_(vec_)?delete|__builtin_(vec_)?new|__gnu_cxx::new_allocator::allocate|",
    "__libc_malloc|__malloc_alloc_template::allocate|allocate|cpp_alloc|",
    "operator new(\\[\\])?|simple_alloc::allocate",
);

/// Runtime frames in the middle of an allocation stack that pprof keeps.
const ALLOC_KEEP_FRAMES: &str = "runtime\\.panic|runtime\\.reflectcall|runtime\\.call[0-9]*";

/// pprof's drop_frames for legacy contention profiles (C++ lock internals).
const LOCK_DROP_FRAMES: &str = concat!(
    "RecordLockProfileData|(base::)?RecordLockProfileData.*|",
    "(base::)?SubmitMutexProfileData.*|(base::)?SubmitSpinLockProfileData.*|",
    "(base::Mutex::)?AwaitCommon.*|(base::Mutex::)?Unlock.*|(base::Mutex::)?UnlockSlow.*|",
    "(base::Mutex::)?ReaderUnlock.*|(base::MutexLock::)?~MutexLock.*|",
    "(Mutex::)?AwaitCommon.*|(Mutex::)?Unlock.*|(Mutex::)?UnlockSlow.*|",
    "(Mutex::)?ReaderUnlock.*|(MutexLock::)?~MutexLock.*|",
    "(SpinLock::)?Unlock.*|(SpinLock::)?SlowUnlock.*|(SpinLockHolder::)?~SpinLockHolder.*",
);

/// pprof's drop_frames for every other legacy profile (CPU profiler frames).
const CPU_DROP_FRAMES: &str =
    "ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|__pthread_sighandler|__restore";

/// Lines that end the samples: a memory map follows.
const MEMORY_MAP_SENTINELS: [&[u8]; 2] = [b"--- Memory map: ---", b"MAPPED_LIBRARIES:"];

/// Recognises a legacy text profile by its first line (blank and `#` lines
/// before it are skipped). Binary data is never taken for text.
pub(super) fn sniff(data: &[u8]) -> Option<Kind> {
    for (_, line) in lines(data) {
        let text = std::str::from_utf8(line).ok()?;
        if text.chars().any(|c| c.is_control() && c != '\t') {
            return None;
        }
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let count_like = text
            .split_once(' ')
            .is_some_and(|(name, rest)| !name.is_empty() && rest.starts_with("profile: total"));
        return if count_like {
            Some(Kind::Count)
        } else if text.starts_with("heap profile:") {
            Some(Kind::Heap)
        } else if ["--- mutex:", "--- contention:", "--- contentionz "]
            .iter()
            .any(|p| text.starts_with(p))
        {
            Some(Kind::Contention)
        } else {
            None
        };
    }
    None
}

/// Parses a text profile of the given kind (as found by [`sniff`]).
pub(super) fn parse(data: &[u8], kind: Kind) -> Result<Profile, DecodeError> {
    let mut lines = lines(data).peekable();
    // Leading blank and comment lines, as pprof's count parser allows.
    while let Some((_, line)) = lines.peek() {
        if !is_space_or_comment(line) {
            break;
        }
        lines.next();
    }
    let Some((number, header)) = lines.next() else {
        return Err(DecodeError::Invalid("no header line".into()));
    };
    let header = std::str::from_utf8(header)
        .map_err(|_| text_error(number, "the header is not valid UTF-8"))?
        .trim();
    let builder = match kind {
        Kind::Heap => parse_heap(header, number, &mut lines)?,
        Kind::Count => parse_count(header, number, &mut lines)?,
        Kind::Contention => parse_contention(&mut lines)?,
    };
    builder.finish()
}

type Lines<'a> = std::iter::Peekable<LineIter<'a>>;

// ---------------------------------------------------------------------------
// heap

struct HeapHeader {
    rate: i64,
    /// Whether rows are unsampled (`heap`, `heap_v2`, `heapz_v2`).
    scaled: bool,
    has_alloc: bool,
}

fn parse_heap(header: &str, number: usize, lines: &mut Lines) -> Result<Builder, DecodeError> {
    let header = heap_header(header).map_err(|what| text_error(number, what))?;
    let space = |name: &str| value_type(name, "bytes");
    let count = |name: &str| value_type(name, "count");
    let sample_types = if header.has_alloc {
        // Alloc before in-use, so that pprof's default (the last) is inuse_space.
        vec![
            count("alloc_objects"),
            space("alloc_space"),
            count("inuse_objects"),
            space("inuse_space"),
        ]
    } else {
        vec![count("objects"), space("space")]
    };
    let mut builder = Builder::new(Profile {
        sample_types,
        period_type: Some(space("space")),
        period: header.rate,
        drop_frames: Some(ALLOC_DROP_FRAMES.into()),
        keep_frames: Some(ALLOC_KEEP_FRAMES.into()),
        ..Profile::default()
    });
    for (number, line) in lines {
        let trimmed = line.trim_ascii();
        if builder.comment(trimmed) {
            continue;
        }
        if is_memory_map_sentinel(trimmed) {
            break;
        }
        let row = heap_row(trimmed).map_err(|what| text_error(number, what))?;
        let mut values = Vec::with_capacity(4);
        let mut block_size = 0;
        let mut pairs = vec![("inuse", row.inuse)];
        if header.has_alloc {
            pairs.insert(0, ("allocation", row.alloc));
        }
        for (label, (objects, bytes)) in pairs {
            if objects == 0 && bytes != 0 {
                return Err(text_error(
                    number,
                    format!("{label} count is 0 but {label} bytes is {bytes}"),
                ));
            }
            let (objects, bytes) = if objects != 0 && header.scaled {
                block_size = bytes.wrapping_div(objects);
                unsample_heap(objects, bytes, header.rate).ok_or_else(|| {
                    text_error(number, "the unsampled values do not fit in 64 bits")
                })?
            } else {
                if objects != 0 {
                    block_size = bytes.wrapping_div(objects);
                }
                (objects, bytes)
            };
            values.extend([objects, bytes]);
        }
        let label = Label {
            key: "bytes".into(),
            value: LabelValue::Num {
                value: block_size,
                unit: None,
            },
        };
        builder.add_sample(values, &row.addresses, vec![label]);
    }
    Ok(builder)
}

/// Reads `heap profile: A: B [C: D] @ TAG/N` (and the growthz and
/// fragmentationz forms).
fn heap_header(text: &str) -> Result<HeapHeader, String> {
    let bad = || "malformed heap profile header; expected `heap profile: A: B [C: D] @ heap/N`";
    let mut c = Cursor::new(text.as_bytes());
    c.expect(b"heap profile:").then_some(()).ok_or_else(bad)?;
    let mut numbers = [""; 4];
    for (i, n) in numbers.iter_mut().enumerate() {
        c.spaces();
        if i == 2 {
            c.expect(b"[").then_some(()).ok_or_else(bad)?;
            c.spaces();
        }
        *n = c.digits().ok_or_else(bad)?;
        c.spaces();
        if i % 2 == 0 {
            c.expect(b":").then_some(()).ok_or_else(bad)?;
        }
    }
    c.expect(b"]").then_some(()).ok_or_else(bad)?;
    c.spaces();
    c.expect(b"@").then_some(()).ok_or_else(bad)?;
    c.spaces();
    let rest = c.rest();
    if rest.starts_with(b"growth") || rest.starts_with(b"fragmentation") {
        return Ok(HeapHeader {
            rate: 1,
            scaled: false,
            has_alloc: false,
        });
    }
    let tag_len = rest
        .iter()
        .position(|&b| !(b == b'_' || b.is_ascii_lowercase() || b.is_ascii_digit()))
        .unwrap_or(rest.len());
    let tag = String::from_utf8_lossy(&rest[..tag_len]).into_owned();
    let mut c = Cursor::new(&rest[tag_len..]);
    c.expect(b"/");
    let period = match c.digits() {
        None => 0,
        Some(digits) => digits
            .parse::<i64>()
            .map_err(|_| format!("heap sampling rate {digits} does not fit in 64 bits"))?,
    };
    let has_alloc = (numbers[2] != numbers[0] && numbers[2] != "0")
        || (numbers[3] != numbers[1] && numbers[3] != "0");
    let (rate, scaled) = match tag.as_str() {
        "heap" => (period / 2, true),
        "heap_v2" | "heapz_v2" => (period, true),
        "heapprofile" => (1, false),
        _ => return Err(format!("unknown heap profile kind `{tag}`")),
    };
    Ok(HeapHeader {
        rate,
        scaled,
        has_alloc,
    })
}

struct HeapRow {
    inuse: (i64, i64),
    alloc: (i64, i64),
    addresses: Vec<u64>,
}

/// Reads `inuse_n: inuse_b [alloc_n: alloc_b] @ 0x… 0x…`.
fn heap_row(line: &[u8]) -> Result<HeapRow, String> {
    let bad = || {
        format!(
            "expected `N: BYTES [N: BYTES] @ 0x…`, found `{}`",
            excerpt(line)
        )
    };
    let mut c = Cursor::new(line);
    let number = |c: &mut Cursor, signed: bool| -> Result<i64, String> {
        c.spaces();
        let text = if signed {
            c.signed_digits()
        } else {
            c.digits()
        }
        .ok_or_else(bad)?;
        text.parse::<i64>()
            .map_err(|_| format!("{text} does not fit in 64 bits"))
    };
    let inuse_n = number(&mut c, true)?;
    c.expect(b":").then_some(()).ok_or_else(bad)?;
    let inuse_b = number(&mut c, true)?;
    c.spaces();
    c.expect(b"[").then_some(()).ok_or_else(bad)?;
    let alloc_n = number(&mut c, false)?;
    c.expect(b":").then_some(()).ok_or_else(bad)?;
    let alloc_b = number(&mut c, false)?;
    c.spaces();
    c.expect(b"]").then_some(()).ok_or_else(bad)?;
    c.spaces();
    if !c.expect(b"@") {
        return Err(format!(
            "missing `@` before the addresses in `{}`",
            excerpt(line)
        ));
    }
    Ok(HeapRow {
        inuse: (inuse_n, inuse_b),
        alloc: (alloc_n, alloc_b),
        addresses: addresses(c.rest())?,
    })
}

/// pprof's unsampling of one (count, bytes) pair at `rate`; `None` when the
/// result does not fit in an i64.
fn unsample_heap(count: i64, bytes: i64, rate: i64) -> Option<(i64, i64)> {
    if count == 0 || bytes == 0 {
        return Some((0, 0));
    }
    if rate <= 1 {
        return Some((count, bytes));
    }
    let average = bytes as f64 / count as f64;
    let scale = 1.0 / (1.0 - (-average / rate as f64).exp());
    Some((
        float_to_i64(count as f64 * scale)?,
        float_to_i64(bytes as f64 * scale)?,
    ))
}

/// Go's float64 → int64 conversion (truncation) where it is defined.
fn float_to_i64(value: f64) -> Option<i64> {
    // 2^63 is exactly representable; i64::MIN is -2^63.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (-LIMIT..LIMIT).contains(&value).then_some(value as i64)
}

// ---------------------------------------------------------------------------
// goroutine, threadcreate

/// `NAME profile: total N` → NAME.
fn count_header(text: &str) -> Option<&str> {
    let (name, rest) = text.split_once(' ')?;
    let total = rest.strip_prefix("profile: total ")?;
    let ok = !name.is_empty()
        && !name.contains(char::is_whitespace)
        && !total.is_empty()
        && total.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(name)
}

fn parse_count(header: &str, number: usize, lines: &mut Lines) -> Result<Builder, DecodeError> {
    let name = count_header(header)
        .ok_or_else(|| text_error(number, "malformed header; expected `NAME profile: total N`"))?;
    let count_type = value_type(name, "count");
    let mut builder = Builder::new(Profile {
        sample_types: vec![count_type.clone()],
        period_type: Some(count_type),
        period: 1,
        drop_frames: Some(CPU_DROP_FRAMES.into()),
        ..Profile::default()
    });
    for (number, line) in lines {
        let trimmed = line.trim_ascii();
        if builder.comment(trimmed) {
            continue;
        }
        if trimmed.starts_with(b"---") {
            break;
        }
        let (count, addresses) = count_row(trimmed).map_err(|what| text_error(number, what))?;
        builder.add_sample(vec![count], &addresses, Vec::new());
    }
    Ok(builder)
}

/// Reads `count @ 0x… 0x…`.
fn count_row(line: &[u8]) -> Result<(i64, Vec<u64>), String> {
    let mut c = Cursor::new(line);
    let digits = c
        .digits()
        .ok_or_else(|| format!("expected `COUNT @ 0x…`, found `{}`", excerpt(line)))?;
    // pprof reads the count with Go's base prefixes: a leading 0 means octal.
    let count = if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<i64>()
    }
    .map_err(|_| format!("count {digits} is not a valid 64-bit number"))?;
    c.spaces();
    if !c.expect(b"@") {
        return Err(format!(
            "missing `@` after the count in `{}`",
            excerpt(line)
        ));
    }
    Ok((count, addresses(c.rest())?))
}

// ---------------------------------------------------------------------------
// mutex, block

fn parse_contention(lines: &mut Lines) -> Result<Builder, DecodeError> {
    let count = value_type("contentions", "count");
    let mut profile = Profile {
        sample_types: vec![count.clone(), value_type("delay", "nanoseconds")],
        period_type: Some(count),
        period: 1,
        drop_frames: Some(LOCK_DROP_FRAMES.into()),
        ..Profile::default()
    };
    let mut cpu_hz = 0i64;
    // Attribute lines, up to the first line that is not `key = value`.
    while let Some(&(number, line)) = lines.peek() {
        let trimmed = line.trim_ascii();
        if is_space_or_comment(trimmed) {
            lines.next();
            continue;
        }
        let Some(eq) = trimmed.iter().position(|&b| b == b'=') else {
            break;
        };
        if trimmed.starts_with(b"---") {
            break;
        }
        lines.next();
        let key = String::from_utf8_lossy(trimmed[..eq].trim_ascii()).into_owned();
        let value = String::from_utf8_lossy(trimmed[eq + 1..].trim_ascii()).into_owned();
        let parsed = || {
            parse_go_int(&value).ok_or_else(|| {
                text_error(number, format!("{key}: `{value}` is not a 64-bit integer"))
            })
        };
        match key.as_str() {
            "cycles/second" => cpu_hz = parsed()?,
            "sampling period" => profile.period = parsed()?,
            "ms since reset" => {
                profile.duration_nanos = parsed()?.checked_mul(1_000_000).ok_or_else(|| {
                    text_error(
                        number,
                        "ms since reset: the duration does not fit in 64 bits",
                    )
                })?
            }
            "discarded samples" => {}
            "format" | "resolution" => {
                return Err(text_error(
                    number,
                    format!(
                        "`{key}` belongs to C++ contentionz profiles, which torch does not read"
                    ),
                ))
            }
            _ => return Err(text_error(number, format!("unknown attribute `{key}`"))),
        }
    }
    let period = profile.period;
    let mut builder = Builder::new(profile);
    for (number, line) in lines {
        let trimmed = line.trim_ascii();
        if builder.comment(trimmed) {
            continue;
        }
        if trimmed.starts_with(b"---") {
            break;
        }
        let row =
            contention_row(trimmed, period, cpu_hz).map_err(|what| text_error(number, what))?;
        builder.add_sample(row.0, &row.1, Vec::new());
    }
    Ok(builder)
}

/// Reads `cycles count @ 0x…` into `[contentions, delay]` and addresses.
fn contention_row(line: &[u8], period: i64, cpu_hz: i64) -> Result<(Vec<i64>, Vec<u64>), String> {
    let bad = || format!("expected `CYCLES COUNT @ 0x…`, found `{}`", excerpt(line));
    let mut c = Cursor::new(line);
    let cycles = c.digits().ok_or_else(bad)?;
    if c.spaces() == 0 {
        return Err(bad());
    }
    let count = c.digits().ok_or_else(bad)?;
    c.spaces();
    if !c.expect(b"@") {
        return Err(format!(
            "missing `@` after the counts in `{}`",
            excerpt(line)
        ));
    }
    let too_big = |n: &str| format!("{n} does not fit in 64 bits");
    let mut delay = cycles.parse::<i64>().map_err(|_| too_big(cycles))?;
    let mut contentions = count.parse::<i64>().map_err(|_| too_big(count))?;
    if period > 0 {
        if cpu_hz > 0 {
            let cpu_ghz = cpu_hz as f64 / 1e9;
            delay = float_to_i64(delay as f64 * period as f64 / cpu_ghz)
                .ok_or_else(|| "the delay in nanoseconds does not fit in 64 bits".to_owned())?;
        }
        contentions = contentions
            .checked_mul(period)
            .ok_or_else(|| "count × sampling period does not fit in 64 bits".to_owned())?;
    }
    Ok((vec![contentions, delay], addresses(c.rest())?))
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, `0x`/`0o`/`0b`/leading-`0`
/// prefixes and `_` digit separators.
fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Underscores only between digits, or right after a prefix.
    let bytes = digits.as_bytes();
    let misplaced = bytes.windows(2).any(|w| w == b"__")
        || bytes.last() == Some(&b'_')
        || (!prefixed && bytes.first() == Some(&b'_'));
    if digits.is_empty() || misplaced {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(&clean, radix).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

// ---------------------------------------------------------------------------
// rows, locations and names

/// The space-separated `0x…` addresses after `@`.
fn addresses(text: &[u8]) -> Result<Vec<u64>, String> {
    text.split(|b| b.is_ascii_whitespace())
        .filter(|token| !token.is_empty())
        .map(|token| {
            let digits = token
                .strip_prefix(b"0x")
                .filter(|d| !d.is_empty() && d.iter().all(u8::is_ascii_hexdigit))
                .ok_or_else(|| format!("`{}` is not a hexadecimal address", excerpt(token)))?;
            let digits = std::str::from_utf8(digits).expect("checked ASCII");
            u64::from_str_radix(digits, 16)
                .map_err(|_| format!("address `{}` does not fit in 64 bits", excerpt(token)))
        })
        .collect()
}

/// One `#\t0xPC\tfunction+0xOFF\tfile:line` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    pc: u64,
    /// Function, file and line; `None` for a `#\t0xPC` line.
    name: Option<(String, String, i64)>,
}

/// Reads a frame comment (the part after `#`), or `None` if it is another
/// kind of comment. Names are bytes to Go: invalid UTF-8 is kept lossily.
fn frame_line(rest: &[u8]) -> Option<Frame> {
    if rest.first() != Some(&b'\t') {
        return None;
    }
    let mut fields = rest.split(|&b| b == b'\t').filter(|f| !f.is_empty());
    let pc = fields.next()?.strip_prefix(b"0x")?;
    if pc.is_empty() || !pc.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let pc = u64::from_str_radix(std::str::from_utf8(pc).ok()?, 16).ok()?;
    let Some(function) = fields.next() else {
        return Some(Frame { pc, name: None });
    };
    let function = String::from_utf8_lossy(function);
    let function = match function.rfind("+0x") {
        Some(plus)
            if plus > 0
                && function.len() > plus + 3
                && function[plus + 3..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            &function[..plus]
        }
        _ => &function[..],
    };
    let location: Vec<&[u8]> = fields.collect();
    let location = String::from_utf8_lossy(&location.join(&b'\t')).into_owned();
    let (file, line) = match location.rsplit_once(':') {
        Some((file, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => {
            (file.to_owned(), line.parse().unwrap_or(0))
        }
        _ => (location, 0),
    };
    Some(Frame {
        pc,
        name: Some((function.to_owned(), file, line)),
    })
}

/// Matches a row's frame comments to its addresses. Returns, per matched
/// address (raw, as in the row), the indices of the frames that describe it,
/// innermost first. The rules are in the module documentation.
fn name_groups(addresses: &[u64], frames: &[Frame]) -> Vec<(u64, Vec<usize>)> {
    // Runs of equal consecutive addresses: (address, repeat count).
    let mut runs: Vec<(u64, usize)> = Vec::new();
    for &address in addresses {
        match runs.last_mut() {
            Some((last, n)) if *last == address => *n += 1,
            _ => runs.push((address, 1)),
        }
    }
    let mut runs_by_pc: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, &(address, _)) in runs.iter().enumerate() {
        runs_by_pc
            .entry(address.wrapping_sub(1))
            .or_default()
            .push(i);
    }
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    let mut next_run = 0;
    let mut start = 0;
    while start < frames.len() {
        let pc = frames[start].pc;
        let end = start + frames[start..].iter().take_while(|f| f.pc == pc).count();
        let target = runs_by_pc.get(&pc).and_then(|candidates| {
            let at = candidates.partition_point(|&run| run < next_run);
            candidates.get(at).copied()
        });
        match target {
            Some(run) => {
                let (address, repeats) = runs[run];
                let size = group_size(&frames[start..end], repeats);
                groups.push((address, (end - size..end).collect()));
                next_run = run + 1;
            }
            // Outer frames at a virtual PC of the address matched last. A PC
            // of an address already passed is out of order: ignored.
            None if !runs_by_pc.contains_key(&pc) => {
                if let Some((_, group)) = groups.last_mut() {
                    group.extend(start..end);
                }
            }
            None => {}
        }
        start = end;
    }
    groups
}

/// How many of a run of `L` identical-PC frames describe one of `repeats`
/// equal addresses: the smallest period `g` of the run with
/// `(repeats−1)·g ≤ L ≤ repeats·g`, else `⌈L/repeats⌉`.
fn group_size(run: &[Frame], repeats: usize) -> usize {
    let len = run.len();
    if repeats <= 1 {
        return len;
    }
    let fits = |g: usize| {
        g.checked_mul(repeats - 1).is_some_and(|low| low <= len)
            && g.checked_mul(repeats).is_some_and(|high| high >= len)
    };
    // Periods of the run are len − (its borders); walk borders longest first
    // so the periods come smallest first (Knuth–Morris–Pratt failure table).
    let mut border = vec![0usize; len];
    for i in 1..len {
        let mut b = border[i - 1];
        while b > 0 && run[i] != run[b] {
            b = border[b - 1];
        }
        if run[i] == run[b] {
            b += 1;
        }
        border[i] = b;
    }
    let mut b = border[len - 1];
    loop {
        let period = len - b;
        if fits(period) {
            return period;
        }
        if b == 0 {
            break;
        }
        b = border[b - 1];
    }
    len.div_ceil(repeats)
}

/// Accumulates samples, locations and names.
struct Builder {
    profile: Profile,
    location_ids: HashMap<u64, usize>,
    function_ids: HashMap<(String, String), usize>,
    /// The row whose comment lines are being read.
    row: Option<(Vec<u64>, Vec<Frame>)>,
    /// Per sample so far: whether Go printed `#` lines under its row.
    commented: Vec<bool>,
}

impl Builder {
    fn new(profile: Profile) -> Self {
        Builder {
            profile,
            location_ids: HashMap::new(),
            function_ids: HashMap::new(),
            row: None,
            commented: Vec::new(),
        }
    }

    /// Takes a blank or comment line (keeping frame comments for the current
    /// row); false for anything else.
    fn comment(&mut self, trimmed: &[u8]) -> bool {
        match trimmed.split_first() {
            None => true,
            Some((b'#', rest)) => {
                if let (Some((_, frames)), Some(frame)) = (&mut self.row, frame_line(rest)) {
                    frames.push(frame);
                }
                true
            }
            Some(_) => false,
        }
    }

    fn add_sample(&mut self, values: Vec<i64>, addresses: &[u64], labels: Vec<Label>) {
        self.name_row();
        let mut locations = Vec::with_capacity(addresses.len());
        for &address in addresses {
            let address = address.wrapping_sub(1);
            let next = self.profile.locations.len();
            let index = *self.location_ids.entry(address).or_insert(next);
            if index == next {
                self.profile.locations.push(Location {
                    address,
                    mapping: None,
                    lines: Vec::new(),
                });
            }
            locations.push(super::location_index(index));
        }
        self.profile.samples.push(Sample {
            locations,
            values,
            labels,
        });
        self.row = Some((addresses.to_vec(), Vec::new()));
    }

    /// Names the current row's locations from its frame comments.
    fn name_row(&mut self) {
        let Some((addresses, frames)) = self.row.take() else {
            return;
        };
        self.commented.push(!frames.is_empty());
        for (address, group) in name_groups(&addresses, &frames) {
            let named: Vec<&(String, String, i64)> = group
                .iter()
                .filter_map(|&i| frames[i].name.as_ref())
                .collect();
            let index = self.location_ids[&address.wrapping_sub(1)];
            if named.len() <= self.profile.locations[index].lines.len() {
                continue;
            }
            let lines = named
                .into_iter()
                .map(|(function, file, line)| Line {
                    function: Some(self.function(function, file)),
                    line: *line,
                })
                .collect();
            self.profile.locations[index].lines = lines;
        }
    }

    /// Finds the frames Go hid in rows it otherwise named (see
    /// [`Profile::runtime_hidden`]): the unnamed addresses before a row's
    /// first named one, and an unnamed last one. Rows without any `#`
    /// line tell nothing.
    fn mark_hidden_frames(&mut self) {
        let profile = &mut self.profile;
        let unnamed = |index: u32| {
            profile.locations[index as usize]
                .lines
                .iter()
                .all(|line| line.function.is_none())
        };
        // Another row may have named a runtime frame (one whose frames are
        // all the runtime's prints them all).
        let runtime = |index: u32| {
            let lines = &profile.locations[index as usize].lines;
            lines.iter().all(|line| {
                line.function
                    .is_some_and(|f| super::is_runtime_function(&profile.functions[f].name))
            })
        };
        let mut hidden = vec![false; profile.locations.len()];
        for (sample, _) in profile
            .samples
            .iter()
            .zip(&self.commented)
            .filter(|(_, &commented)| commented)
        {
            let stack = &sample.locations;
            let leading = stack
                .iter()
                .take_while(|&&l| unnamed(l) || runtime(l))
                .count();
            if leading == stack.len() {
                continue;
            }
            for &location in stack[..leading].iter().filter(|&&l| unnamed(l)) {
                hidden[location as usize] = true;
            }
            // The root is `runtime.goexit`, before any padding.
            let root = stack
                .iter()
                .rposition(|&l| !profile.locations[l as usize].is_padding());
            if let Some(&root) = root.map(|p| &stack[p]).filter(|&&l| unnamed(l)) {
                hidden[root as usize] = true;
            }
        }
        profile.runtime_hidden = (0..hidden.len() as u32)
            .filter(|&i| hidden[i as usize])
            .collect();
    }

    fn function(&mut self, name: &str, file: &str) -> usize {
        let key = (name.to_owned(), file.to_owned());
        let next = self.profile.functions.len();
        let index = *self.function_ids.entry(key).or_insert(next);
        if index == next {
            self.profile.functions.push(Function {
                name: name.to_owned(),
                system_name: name.to_owned(),
                filename: file.to_owned(),
                start_line: 0,
            });
        }
        index
    }

    fn finish(mut self) -> Result<Profile, DecodeError> {
        self.name_row();
        self.mark_hidden_frames();
        let mut profile = self.profile;
        profile.printed_names = true;
        profile.every_address = true;
        // pprof's stand-in mapping for legacy profiles without a memory map.
        if profile.locations.iter().any(|l| l.address != 0) {
            profile.mappings.push(Mapping {
                memory_start: 0,
                memory_limit: u64::MAX,
                ..Mapping::default()
            });
            for location in &mut profile.locations {
                if location.address != 0 {
                    location.mapping = Some(0);
                }
            }
        }
        Ok(profile)
    }
}

// ---------------------------------------------------------------------------
// runtime.MemStats

/// The `# runtime.MemStats` block of a heap text profile (Go's
/// `runtime.MemStats`, as `writeHeapInternal` prints it). Fields the file
/// does not have are 0 (or empty, or `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemStats {
    pub alloc: u64,
    pub total_alloc: u64,
    pub sys: u64,
    pub lookups: u64,
    pub mallocs: u64,
    pub frees: u64,
    pub heap_alloc: u64,
    pub heap_sys: u64,
    pub heap_idle: u64,
    pub heap_inuse: u64,
    pub heap_released: u64,
    pub heap_objects: u64,
    pub stack_inuse: u64,
    pub stack_sys: u64,
    pub mspan_inuse: u64,
    pub mspan_sys: u64,
    pub mcache_inuse: u64,
    pub mcache_sys: u64,
    pub buck_hash_sys: u64,
    pub gc_sys: u64,
    pub other_sys: u64,
    pub next_gc: u64,
    /// Unix time of the last GC in nanoseconds.
    pub last_gc: u64,
    /// Circular buffer of recent GC pause times (ns); the most recent is at
    /// `(num_gc + 255) % 256`.
    pub pause_ns: Vec<u64>,
    /// Circular buffer of recent GC pause end times (Unix ns).
    pub pause_end: Vec<u64>,
    pub num_gc: u64,
    pub num_forced_gc: u64,
    pub gc_cpu_fraction: f64,
    pub debug_gc: bool,
    /// Peak resident set size, where the platform reports it.
    pub max_rss: Option<u64>,
}

/// Reads the `# runtime.MemStats` block of a heap text profile (gzipped or
/// not). `Ok(None)` when the input is not a heap text profile or has no such
/// block; a malformed value of a known field is an error naming its line.
pub fn memstats(bytes: &[u8], max_size: u64) -> Result<Option<MemStats>, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let data = super::proto::decompress(bytes, max_size)?;
    if sniff(&data) != Some(Kind::Heap) {
        return Ok(None);
    }
    parse_memstats(&data)
}

/// [`memstats`] on uncompressed text.
pub fn parse_memstats(text: &[u8]) -> Result<Option<MemStats>, DecodeError> {
    let mut stats: Option<MemStats> = None;
    for (number, line) in lines(text) {
        let line = line.trim_ascii();
        let Some(rest) = line.strip_prefix(b"#") else {
            continue;
        };
        let rest = rest.trim_ascii();
        if rest == b"runtime.MemStats" {
            stats = Some(MemStats::default());
            continue;
        }
        let Some(stats) = stats.as_mut() else {
            continue;
        };
        let Some(eq) = rest.iter().position(|&b| b == b'=') else {
            continue;
        };
        let key = String::from_utf8_lossy(rest[..eq].trim_ascii()).into_owned();
        let value = String::from_utf8_lossy(rest[eq + 1..].trim_ascii()).into_owned();
        set_memstat(stats, &key, &value)
            .map_err(|what| text_error(number, format!("{key}: {what}")))?;
    }
    Ok(stats)
}

fn set_memstat(stats: &mut MemStats, key: &str, value: &str) -> Result<(), String> {
    let number = |text: &str| {
        text.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{text}` is not an unsigned 64-bit number"))
    };
    // `inuse / sys` pairs.
    let pair = || -> Result<(u64, u64), String> {
        let (a, b) = value
            .split_once('/')
            .ok_or_else(|| format!("expected `INUSE / SYS`, found `{value}`"))?;
        Ok((number(a)?, number(b)?))
    };
    let list = || -> Result<Vec<u64>, String> {
        let inner = value
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .ok_or_else(|| "expected a `[…]` list".to_owned())?;
        inner.split_ascii_whitespace().map(number).collect()
    };
    let s = stats;
    match key {
        "Alloc" => s.alloc = number(value)?,
        "TotalAlloc" => s.total_alloc = number(value)?,
        "Sys" => s.sys = number(value)?,
        "Lookups" => s.lookups = number(value)?,
        "Mallocs" => s.mallocs = number(value)?,
        "Frees" => s.frees = number(value)?,
        "HeapAlloc" => s.heap_alloc = number(value)?,
        "HeapSys" => s.heap_sys = number(value)?,
        "HeapIdle" => s.heap_idle = number(value)?,
        "HeapInuse" => s.heap_inuse = number(value)?,
        "HeapReleased" => s.heap_released = number(value)?,
        "HeapObjects" => s.heap_objects = number(value)?,
        "Stack" => (s.stack_inuse, s.stack_sys) = pair()?,
        "MSpan" => (s.mspan_inuse, s.mspan_sys) = pair()?,
        "MCache" => (s.mcache_inuse, s.mcache_sys) = pair()?,
        "BuckHashSys" => s.buck_hash_sys = number(value)?,
        "GCSys" => s.gc_sys = number(value)?,
        "OtherSys" => s.other_sys = number(value)?,
        "NextGC" => s.next_gc = number(value)?,
        "LastGC" => s.last_gc = number(value)?,
        "PauseNs" => s.pause_ns = list()?,
        "PauseEnd" => s.pause_end = list()?,
        "NumGC" => s.num_gc = number(value)?,
        "NumForcedGC" => s.num_forced_gc = number(value)?,
        "GCCPUFraction" => {
            s.gc_cpu_fraction = value
                .parse()
                .map_err(|_| format!("`{value}` is not a number"))?
        }
        "DebugGC" => {
            s.debug_gc = match value {
                "true" => true,
                "false" => false,
                _ => return Err(format!("`{value}` is not true or false")),
            }
        }
        "MaxRSS" => s.max_rss = Some(number(value)?),
        _ => {}
    }
    Ok(())
}

/// A few lines for people: heap sizes, live objects, GC count and the GC
/// pause percentiles (nearest rank over the non-zero `PauseNs` entries, which
/// hold the last 256 pauses at most).
pub fn memstats_summary(stats: &MemStats) -> String {
    let bytes = |v: u64| units::human(i64::try_from(v).unwrap_or(i64::MAX), "bytes");
    let ns = |v: u64| units::human(i64::try_from(v).unwrap_or(i64::MAX), "nanoseconds");
    let mut pauses: Vec<u64> = stats.pause_ns.iter().copied().filter(|&p| p != 0).collect();
    pauses.sort_unstable();
    let pause_line = if pauses.is_empty() {
        "none recorded".to_owned()
    } else {
        let rank = |percent: usize| pauses[(pauses.len() * percent).div_ceil(100).max(1) - 1];
        format!(
            "p50 {}, p99 {}, max {} (last {} pauses)",
            ns(rank(50)),
            ns(rank(99)),
            ns(pauses[pauses.len() - 1]),
            pauses.len()
        )
    };
    let rows = [
        ("HeapAlloc", bytes(stats.heap_alloc)),
        ("HeapInuse", bytes(stats.heap_inuse)),
        ("HeapIdle", bytes(stats.heap_idle)),
        ("HeapReleased", bytes(stats.heap_released)),
        ("Sys", bytes(stats.sys)),
        (
            "HeapObjects",
            units::thousands(i64::try_from(stats.heap_objects).unwrap_or(i64::MAX)),
        ),
        (
            "NumGC",
            units::thousands(i64::try_from(stats.num_gc).unwrap_or(i64::MAX)),
        ),
        ("GC pauses", pause_line),
    ];
    rows.iter()
        .map(|(name, value)| format!("{name:<13}{value}\n"))
        .collect()
}

// ---------------------------------------------------------------------------
// small helpers

/// Lines with their 1-based numbers, without `\n` or a trailing `\r`.
struct LineIter<'a> {
    data: &'a [u8],
    number: usize,
}

fn lines(data: &[u8]) -> LineIter<'_> {
    LineIter { data, number: 0 }
}

impl<'a> Iterator for LineIter<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        self.number += 1;
        let (line, rest) = match self.data.iter().position(|&b| b == b'\n') {
            Some(end) => (&self.data[..end], &self.data[end + 1..]),
            None => (self.data, &self.data[self.data.len()..]),
        };
        self.data = rest;
        Some((self.number, line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

fn is_space_or_comment(line: &[u8]) -> bool {
    let trimmed = line.trim_ascii();
    trimmed.is_empty() || trimmed[0] == b'#'
}

fn is_memory_map_sentinel(line: &[u8]) -> bool {
    MEMORY_MAP_SENTINELS
        .iter()
        .any(|s| line.windows(s.len()).any(|w| w == *s))
}

fn value_type(name: &str, unit: &str) -> ValueType {
    ValueType {
        name: name.into(),
        unit: unit.into(),
    }
}

fn text_error(line: usize, message: impl Into<String>) -> DecodeError {
    DecodeError::Text {
        line,
        message: message.into(),
    }
}

/// The start of a line for an error message.
fn excerpt(text: &[u8]) -> String {
    const MAX: usize = 60;
    let cut = &text[..text.len().min(MAX)];
    let mut s: String = String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.len() > MAX {
        s.push('…');
    }
    s
}

/// A position in one line.
struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a [u8]) -> Self {
        Cursor { text, pos: 0 }
    }

    /// Skips spaces and tabs; returns how many.
    fn spaces(&mut self) -> usize {
        let n = self.text[self.pos..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        self.pos += n;
        n
    }

    fn expect(&mut self, token: &[u8]) -> bool {
        let found = self.text[self.pos..].starts_with(token);
        if found {
            self.pos += token.len();
        }
        found
    }

    fn digits(&mut self) -> Option<&'a str> {
        let n = self.text[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let digits = &self.text[self.pos..self.pos + n];
        self.pos += n;
        (n > 0).then(|| std::str::from_utf8(digits).expect("ASCII digits"))
    }

    fn signed_digits(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.expect(b"-");
        self.digits()?;
        Some(std::str::from_utf8(&self.text[start..self.pos]).expect("ASCII"))
    }

    fn rest(&self) -> &'a [u8] {
        &self.text[self.pos..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<Profile, DecodeError> {
        decode_bytes(text.as_bytes())
    }

    fn decode_bytes(data: &[u8]) -> Result<Profile, DecodeError> {
        super::super::decode(data, super::super::DEFAULT_MAX_SIZE)
    }

    fn error_of(text: &str) -> String {
        decode(text).unwrap_err().to_string()
    }

    /// Each location's names, outermost last, joined with `+`; `-` if unnamed.
    fn names(p: &Profile) -> HashMap<u64, String> {
        p.locations
            .iter()
            .map(|l| {
                let names: Vec<&str> = l
                    .lines
                    .iter()
                    .map(|line| p.functions[line.function.unwrap()].name.as_str())
                    .collect();
                let text = if names.is_empty() {
                    "-".to_owned()
                } else {
                    names.join("+")
                };
                (l.address + 1, text)
            })
            .collect()
    }

    fn types(p: &Profile) -> Vec<String> {
        p.sample_types
            .iter()
            .map(|t| format!("{}/{}", t.name, t.unit))
            .collect()
    }

    #[test]
    fn heap_header_sets_rate_and_types() {
        let p = decode(
            "heap profile: 1: 524288 [3: 1572864] @ heap/1048576\n1: 524288 [3: 1572864] @ 0x10\n",
        )
        .unwrap();
        assert_eq!(p.period, 524288);
        assert_eq!(
            types(&p),
            [
                "alloc_objects/count",
                "alloc_space/bytes",
                "inuse_objects/count",
                "inuse_space/bytes"
            ]
        );
        assert_eq!(p.period_type.as_ref().unwrap().name, "space");
        // The example from FORMATS.md: 524288 in-use bytes at rate 524288.
        assert_eq!(p.samples.at(0).values[3], 829411);
        assert_eq!(p.samples.at(0).values[2], 1);
        assert_eq!(&*p.samples.at(0).labels[0].key, "bytes");
        assert_eq!(
            p.samples.at(0).labels[0].value,
            LabelValue::Num {
                value: 524288,
                unit: None
            }
        );
        assert_eq!(p.drop_frames.as_deref(), Some(ALLOC_DROP_FRAMES));
        assert_eq!(p.keep_frames.as_deref(), Some(ALLOC_KEEP_FRAMES));
        assert_eq!(p.locations[0].address, 0xf);
        assert_eq!(p.mappings.len(), 1);
        assert_eq!(p.locations[0].mapping, Some(0));

        for (tag, rate) in [
            ("heap_v2/1000", 1000),
            ("heapz_v2/1000", 1000),
            ("heapprofile", 1),
        ] {
            let p = decode(&format!("heap profile: 1: 2 [3: 4] @ {tag}\n")).unwrap();
            assert_eq!(p.period, rate, "{tag}");
        }
        // Alloc equal to in-use (or zero): the two-type form.
        for header in [
            "heap profile: 1: 2 [1: 2] @ heap/2",
            "heap profile: 1: 2 [0: 0] @ heap/2",
        ] {
            let p = decode(&format!("{header}\n1: 2 [1: 2] @ 0x1\n")).unwrap();
            assert_eq!(types(&p), ["objects/count", "space/bytes"]);
            assert_eq!(p.samples.at(0).values, [1, 2]);
        }
        let growth = decode("heap profile: 1: 2 [3: 4] @ growthz\n5: 0 [0: 0] @ 0x1\n").unwrap();
        assert_eq!(
            (growth.period, growth.samples.at(0).values.to_vec()),
            (1, vec![5, 0])
        );
        assert!(error_of("heap profile: 1: 2 [3: 4] @ heapx/2\n")
            .contains("line 1: unknown heap profile kind `heapx`"));
        assert!(
            error_of("heap profile: oops\n").starts_with("line 1: malformed heap profile header")
        );
    }

    #[test]
    fn heap_unsampling_follows_pprof() {
        // rate = 4096 (heap/8192); zero bytes make the pair 0, 0.
        let p = decode(
            "heap profile: 1: 1 [2: 2] @ heap/8192\n\
             2: 64 [10: 320] @ 0x1\n\
             3: 0 [0: 0] @ 0x1\n\
             -1: -32 [1: 32] @ 0x1\n",
        )
        .unwrap();
        let scale = 1.0 / (1.0 - (-32.0f64 / 4096.0).exp());
        let want = |n: i64, b: i64| ((n as f64 * scale) as i64, (b as f64 * scale) as i64);
        let (an, ab) = want(10, 320);
        let (n, b) = want(2, 64);
        assert_eq!(p.samples.at(0).values, [an, ab, n, b]);
        assert_eq!(p.samples.at(1).values, [0, 0, 0, 0]);
        let (n, b) = want(-1, -32);
        assert_eq!(&p.samples.at(2).values[2..], [n, b]);
        assert!(
            error_of("heap profile: 1: 1 [2: 2] @ heap/8192\n0: 5 [0: 0] @ 0x1\n")
                .contains("line 2: inuse count is 0 but inuse bytes is 5")
        );
    }

    #[test]
    fn contention_converts_cycles_and_period() {
        let p = decode(
            "--- mutex:\ncycles/second=2000000000\nsampling period=5\n\
             1000 3 @ 0x11 0x21\n# comment\n\n7 1 @ 0x11\n",
        )
        .unwrap();
        assert_eq!(types(&p), ["contentions/count", "delay/nanoseconds"]);
        assert_eq!(p.period, 5);
        assert_eq!(p.samples.at(0).values, [15, 2500]);
        assert_eq!(p.samples.at(1).values, [5, 17]);
        assert_eq!(p.samples.at(1).locations, [0]);
        // Block profiles have no sampling period: 1; no rate: cycles stay.
        let p = decode("--- contention:\n10 2 @ 0x1\n").unwrap();
        assert_eq!(p.samples.at(0).values, [2, 10]);
        let p = decode("--- contention:\ncycles/second=0x3b9aca00\nms since reset=7\n10 2 @\n")
            .unwrap();
        assert_eq!(
            (p.samples.at(0).values.to_vec(), p.duration_nanos),
            (vec![2, 10], 7_000_000)
        );
        assert!(p.samples.at(0).locations.is_empty());
        assert!(error_of("--- mutex:\nbogus=1\n").contains("line 2: unknown attribute `bogus`"));
        assert!(error_of("--- mutex:\ncycles/second=12ab\n").contains("line 2: cycles/second"));
        assert!(
            error_of("--- mutex:\n12 @ 0x1\n").contains("line 2: expected `CYCLES COUNT @ 0x…`")
        );
    }

    #[test]
    fn count_profiles() {
        let p = decode("# leading comment\n\ngoroutine profile: total 4\n3 @ 0x2 0x3\n# labels: {\"a\":\"b\"}\n1 @\n").unwrap();
        assert_eq!(types(&p), ["goroutine/count"]);
        assert_eq!(p.period, 1);
        assert_eq!(p.samples.len(), 2);
        assert_eq!(p.samples.at(1).locations.len(), 0);
        assert_eq!(p.drop_frames.as_deref(), Some(CPU_DROP_FRAMES));
        // Go pads threadcreate stacks with 0x0: one location at 0xffff…ffff.
        let p = decode("threadcreate profile: total 5\n5 @ 0x0 0x0 0x0\n#\t0x0\n\n").unwrap();
        assert_eq!(p.locations.len(), 1);
        assert_eq!(p.locations[0].address, u64::MAX);
        assert!(p.locations[0].lines.is_empty());
        assert_eq!(p.samples.at(0).locations, [0, 0, 0]);
        // pprof's base-0 count: a leading zero means octal.
        let p = decode("goroutine profile: total 8\n010 @ 0x1\n").unwrap();
        assert_eq!(p.samples.at(0).values, [8]);
        // Address 1 → location 0, which has no mapping (as in pprof).
        assert_eq!(p.locations[0].mapping, None);
        assert!(p.mappings.is_empty());
        assert!(error_of("goroutine profile: total 8\n09 @ 0x1\n").contains("line 2: count 09"));
    }

    #[test]
    fn comments_name_locations_innermost_first() {
        // Go ≥ 1.12: one comment line per address; leading runtime frames
        // and runtime.goexit are not printed; columns padded with tabs.
        let p = decode(
            "goroutine profile: total 1\n\
             1 @ 0x100 0x201 0x301 0x302 0x401 0x501\n\
             #\t0x200\tmain.inner+0x10\t\tmain.go:5\n\
             #\t0x300\tsync.(*Mutex).Lock+0x3\tsync/mutex.go:46\n\
             #\t0x301\tmain.outer+0xab\t\t/My Dir/x:y.go:7\n\
             #\t0x400\tmain.main+0x1\t\tmain.go:9\n\n",
        )
        .unwrap();
        let n = names(&p);
        assert_eq!(n[&0x100], "-"); // hidden leading runtime frame
        assert_eq!(n[&0x201], "main.inner");
        assert_eq!(n[&0x301], "sync.(*Mutex).Lock");
        assert_eq!(n[&0x302], "main.outer");
        assert_eq!(n[&0x501], "-"); // runtime.goexit
        let outer = &p.locations[3];
        assert_eq!(outer.lines[0].line, 7);
        assert_eq!(
            p.functions[outer.lines[0].function.unwrap()].filename,
            "/My Dir/x:y.go"
        );
    }

    #[test]
    fn recursion_and_inlining() {
        // Recursion: the address and its line repeat.
        let p = decode(
            "goroutine profile: total 1\n\
             1 @ 0x11 0x21 0x21 0x21 0x31\n\
             #\t0x10\tmain.leaf+0x1\tm.go:1\n\
             #\t0x20\tmain.rec+0x1\tm.go:2\n\
             #\t0x20\tmain.rec+0x1\tm.go:2\n\
             #\t0x20\tmain.rec+0x1\tm.go:2\n\
             #\t0x30\tmain.main+0x1\tm.go:3\n",
        )
        .unwrap();
        let n = names(&p);
        assert_eq!(
            (n[&0x11].as_str(), n[&0x21].as_str(), n[&0x31].as_str()),
            ("main.leaf", "main.rec", "main.main")
        );

        // Older runtimes: the whole inline chain under one physical address,
        // all with that PC; here twice (recursion of an inlined pair), the
        // first occurrence partly hidden.
        let p = decode(
            "goroutine profile: total 1\n\
             1 @ 0x21 0x21 0x31\n\
             #\t0x20\tmain.f+0x1\tm.go:2\n\
             #\t0x20\tmain.g+0x1\tm.go:5\n\
             #\t0x20\tmain.f+0x1\tm.go:2\n\
             #\t0x30\tmain.main+0x1\tm.go:3\n",
        )
        .unwrap();
        assert_eq!(names(&p)[&0x21], "main.g+main.f");

        // One physical address, inline chain of three.
        let p = decode(
            "goroutine profile: total 1\n\
             1 @ 0x21 0x31\n\
             #\t0x20\tmain.a+0x1\tm.go:1\n\
             #\t0x20\tmain.b+0x1\tm.go:2\n\
             #\t0x20\tmain.c+0x1\tm.go:3\n\
             #\t0x30\tmain.main+0x1\tm.go:4\n",
        )
        .unwrap();
        assert_eq!(names(&p)[&0x21], "main.a+main.b+main.c");

        // Frames CallersFrames inserts at a virtual PC extend the address.
        let p = decode(
            "goroutine profile: total 1\n\
             1 @ 0x21 0x31\n\
             #\t0x20\tmain.inl+0x1\tm.go:1\n\
             #\t0x1c\tmain.f+0x1\tm.go:2\n\
             #\t0x30\tmain.main+0x1\tm.go:4\n",
        )
        .unwrap();
        assert_eq!(names(&p)[&0x21], "main.inl+main.f");
        assert_eq!(names(&p)[&0x31], "main.main");

        // Lines out of the row's order name nothing they do not belong to.
        let p = decode(
            "goroutine profile: total 1
             1 @ 0x21 0x31
             #	0x30	main.main+0x1	m.go:4
             #	0x20	main.f+0x1	m.go:2
",
        )
        .unwrap();
        assert_eq!(names(&p)[&0x21], "-");
        assert_eq!(names(&p)[&0x31], "main.main");
    }

    #[test]
    fn a_location_keeps_its_longest_naming() {
        let p = decode(
            "goroutine profile: total 2\n\
             1 @ 0x21 0x31\n\
             #\t0x20\tmain.f+0x1\tm.go:2\n\
             #\t0x30\tmain.main+0x1\tm.go:4\n\
             1 @ 0x21 0x41\n\
             #\t0x20\tmain.g+0x1\tm.go:5\n\
             #\t0x20\tmain.f+0x1\tm.go:2\n\
             #\t0x40\tmain.h+0x1\tm.go:6\n",
        )
        .unwrap();
        assert_eq!(names(&p)[&0x21], "main.g+main.f");
        assert_eq!(p.functions.iter().filter(|f| f.name == "main.f").count(), 1);
    }

    #[test]
    fn group_size_picks_the_smallest_fitting_period() {
        let f = |name: &str| Frame {
            pc: 1,
            name: Some((name.into(), String::new(), 0)),
        };
        let run: Vec<Frame> = ["c", "a", "b", "c"].iter().map(|n| f(n)).collect();
        assert_eq!(group_size(&run, 2), 3);
        let same: Vec<Frame> = (0..5).map(|_| f("x")).collect();
        assert_eq!(group_size(&same, 5), 1);
        assert_eq!(group_size(&same, 6), 1);
        assert_eq!(group_size(&same, 1), 5);
        let odd: Vec<Frame> = ["a", "b", "c"].iter().map(|n| f(n)).collect();
        assert_eq!(group_size(&odd, 5), 1);
    }

    #[test]
    fn hostile_rows() {
        // A million addresses, and a million identical comment lines.
        let mut text = String::from("goroutine profile: total 1\n1 @");
        for i in 0..1_000_000u64 {
            text.push_str(&format!(" 0x{:x}", i % 1000 + 1));
        }
        text.push('\n');
        let p = decode(&text).unwrap();
        assert_eq!(p.samples.at(0).locations.len(), 1_000_000);
        assert_eq!(p.locations.len(), 1000);
        let mut text = String::from("goroutine profile: total 1\n1 @");
        text.push_str(&" 0x21".repeat(1_000_000));
        text.push('\n');
        text.push_str(&"#\t0x20\tmain.rec+0x1\tm.go:2\n".repeat(1_000_000));
        let p = decode(&text).unwrap();
        assert_eq!(names(&p)[&0x21], "main.rec");

        for (text, want) in [
            ("goroutine profile: total 1\n99999999999999999999 @ 0x1\n", "line 2: count 99999999999999999999 is not"),
            ("goroutine profile: total 1\n1 @ 0x10000000000000000\n", "line 2: address `0x10000000000000000` does not fit"),
            ("goroutine profile: total 1\n1 0x1 0x2\n", "line 2: missing `@`"),
            ("goroutine profile: total 1\n1 @ 0x1 0x\n", "line 2: `0x` is not a hexadecimal address"),
            ("goroutine profile: total 1\n1 @ 0x1 12\n", "line 2: `12` is not"),
            ("goroutine profile: total\n", "line 1: malformed header"),
            ("heap profile: 1: 2 [3: 4] @ heap/8\n1: 2 [3\n", "line 2: expected `N: BYTES [N: BYTES] @ 0x…`"),
            ("heap profile: 1: 2 [3: 4] @ heap/8\n1: 2 [3: 4]\n", "line 2: missing `@`"),
            ("heap profile: 1: 2 [3: 4] @ heap/8\n--- other\n", "line 2: expected"),
            ("heap profile: 1: 2 [3: 4] @ heap/99999999999999999999\n", "line 1: heap sampling rate"),
            (
                "heap profile: 1: 2 [3: 4] @ heap/9223372036854775806\n1: 1 [1: 1] @ 0x1\n",
                "line 2: the unsampled values do not fit in 64 bits",
            ),
            (
                "heap profile: 1: 2 [3: 4] @ heap_v2/2\n9223372036854775807: 9223372036854775807 [1: 1] @ 0x1\n",
                "line 2: the unsampled values do not fit",
            ),
            (
                "--- mutex:\ncycles/second=1\nsampling period=1000\n9223372036854775807 1 @ 0x1\n",
                "line 4: the delay in nanoseconds does not fit",
            ),
            (
                "--- mutex:\nsampling period=9223372036854775807\n1 2 @ 0x1\n",
                "line 3: count × sampling period does not fit",
            ),
            ("--- mutex:\nms since reset=9223372036854775807\n", "line 2: ms since reset"),
        ] {
            let got = error_of(text);
            assert!(got.contains(want), "{text:?}: {got}");
        }
        // Non-UTF-8: in a row it is an error, in a name it is kept lossily.
        let err = decode_bytes(b"goroutine profile: total 1\n1 @ 0x1\xff\n").unwrap_err();
        assert!(err.to_string().starts_with("line 2: "), "{err}");
        let p = decode_bytes(
            b"goroutine profile: total 1\n1 @ 0x21\n#\t0x20\tmain.\xff+0x1\tm\xfe.go:3\n",
        )
        .unwrap();
        assert_eq!(p.functions[0].name, "main.\u{fffd}");
        assert_eq!(p.functions[0].filename, "m\u{fffd}.go");
        // A truncated file: the last row loses addresses, the comment stays a comment.
        let p = decode("goroutine profile: total 1\n1 @ 0x21 0x3\n#\t0x2").unwrap();
        assert_eq!(p.samples.at(0).locations.len(), 2);
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff(b"heap profile: 1: 2 [3: 4] @ heap/8\n"),
            Some(Kind::Heap)
        );
        assert_eq!(
            sniff(b"\n# x\nthreadcreate profile: total 3\n"),
            Some(Kind::Count)
        );
        assert_eq!(sniff(b"heap profile: total 3\n"), Some(Kind::Count));
        assert_eq!(sniff(b"--- contention:\n"), Some(Kind::Contention));
        assert_eq!(sniff(b"hello\n"), None);
        assert_eq!(sniff(b"\x0a\x04heap profile:"), None);
        // A goroutine dump is not a legacy profile: the dump reader has it.
        let dump = decode("goroutine 1 [running]:\nmain.main()\n").unwrap();
        assert_eq!(dump.sample_types[0].name, "goroutine");
        assert!(decode("just words\n")
            .unwrap_err()
            .to_string()
            .contains("plain text"));
    }

    #[test]
    fn go_integers() {
        for (text, want) in [
            ("10", Some(10)),
            ("-10", Some(-10)),
            ("0x1f", Some(31)),
            ("010", Some(8)),
            ("0o17", Some(15)),
            ("0b101", Some(5)),
            ("1_000", Some(1000)),
            ("0x_1f", Some(31)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("08", None),
            ("", None),
            ("+", None),
            ("0x", None),
            ("--1", None),
        ] {
            assert_eq!(parse_go_int(text), want, "{text:?}");
        }
    }

    #[test]
    fn memstats_and_summary() {
        let text = "heap profile: 1: 2 [3: 4] @ heap/8\n\n# runtime.MemStats\n# Alloc = 100\n\
                    # HeapAlloc = 2097152\n# HeapInuse = 3145728\n# HeapIdle = 1048576\n\
                    # HeapReleased = 524288\n# Sys = 10485760\n# HeapObjects = 12345\n\
                    # Stack = 5 / 6\n# PauseNs = [3000 1000 2000 0 0]\n# NumGC = 3\n\
                    # GCCPUFraction = 0.25\n# DebugGC = false\n# MaxRSS = 77\n# Unknown = x\n";
        let stats = memstats(text.as_bytes(), u64::MAX).unwrap().unwrap();
        assert_eq!(stats.alloc, 100);
        assert_eq!((stats.stack_inuse, stats.stack_sys), (5, 6));
        assert_eq!(stats.pause_ns, [3000, 1000, 2000, 0, 0]);
        assert_eq!(
            (stats.num_gc, stats.gc_cpu_fraction, stats.max_rss),
            (3, 0.25, Some(77))
        );
        let summary = memstats_summary(&stats);
        assert_eq!(
            summary,
            "HeapAlloc    2 MB\nHeapInuse    3 MB\nHeapIdle     1 MB\nHeapReleased 512 kB\n\
             Sys          10 MB\nHeapObjects  12,345\nNumGC        3\n\
             GC pauses    p50 2 µs, p99 3 µs, max 3 µs (last 3 pauses)\n"
        );
        let none = MemStats::default();
        assert!(memstats_summary(&none).contains("GC pauses    none recorded"));
        assert_eq!(
            memstats(b"goroutine profile: total 1\n", u64::MAX).unwrap(),
            None
        );
        assert_eq!(
            memstats(b"heap profile: 1: 2 [3: 4] @ heap/8\n", u64::MAX).unwrap(),
            None
        );
        let err = memstats(
            b"heap profile: 1: 2 [3: 4] @ heap/8\n# runtime.MemStats\n# NumGC = x\n",
            u64::MAX,
        );
        assert!(err.unwrap_err().to_string().contains("line 3: NumGC"));
    }
}
