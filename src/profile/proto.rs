//! pprof protobuf (gzip-compressed or plain) → [`Profile`].
//!
//! This is the only place that knows about string-table indices and numeric
//! ids. Every index and id is checked here, so later stages can index the
//! model's vectors without fear.

use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use prost::Message;

use super::samples::{LabelSets, Parts};
use super::{Function, Label, LabelValue, Line, Location, Mapping, Profile, Samples, ValueType};
use crate::tree::FastMap;

#[allow(clippy::all, missing_docs)]
pub(super) mod pb {
    include!(concat!(env!("OUT_DIR"), "/perftools.profiles.rs"));
}

/// The most bytes a (decompressed) profile may have before torch refuses it.
pub const DEFAULT_MAX_SIZE: u64 = 2 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why bytes could not become a profile. Messages are phrased to follow the
/// input's name: `mem.out: gzip data is truncated`.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("gzip data is corrupt or truncated ({0})")]
    Gzip(std::io::Error),
    #[error("decompressed profile is larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error(
        "more than {samples} samples, which would take more memory than torch's budget of \
         {budget} MB (8 times the {size}-byte profile, plus 512 MB)"
    )]
    OverBudget {
        samples: usize,
        budget: u64,
        size: usize,
    },
    #[error("this is {0}, not a pprof profile")]
    NotAProfile(&'static str),
    #[error("line {line}: {message}")]
    Text { line: usize, message: String },
    #[error("not a pprof protobuf profile ({0})")]
    Protobuf(String),
    #[error("holds two concatenated profiles; pass them as separate arguments to merge them")]
    Concatenated,
    #[error("invalid profile: {0}")]
    Invalid(String),
}

/// Decodes a profile from raw bytes: gzip is detected by its magic bytes.
pub fn decode(bytes: &[u8], max_size: u64) -> Result<Profile, DecodeError> {
    decode_with(bytes, max_size, &super::DumpOptions::default())
}

/// [`decode`], reading a goroutine dump with `dump`'s options.
pub fn decode_with(
    bytes: &[u8],
    max_size: u64,
    dump: &super::DumpOptions,
) -> Result<Profile, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let data = decompress(bytes, max_size)?;
    if data.is_empty() {
        return Err(DecodeError::Invalid(
            "the decompressed profile is empty".into(),
        ));
    }
    let profile = if let Some(kind) = super::legacy::sniff(&data) {
        super::legacy::parse(&data, kind)?
    } else if super::dump::sniff(&data) {
        super::dump::parse(&data, dump)?
    } else {
        if let Some(kind) = sniff_text(&data) {
            return Err(kind);
        }
        // Samples are the bulk of a profile: everything else is decoded
        // first, then each sample goes straight from the wire into the
        // model, with no intermediate copy.
        let layout = split_samples(&data, samples_within_budget(data.len()))?;
        let raw = pb::Profile::decode(&*layout.header)
            .map_err(|e| DecodeError::Protobuf(e.to_string()))?;
        Resolver::new(&raw)?.resolve(&data, &layout.samples)?
    };
    check_limits(&profile)?;
    Ok(profile)
}

/// What a sample costs at least, stack aside: where its stack ends and
/// its label set (12 bytes), its place on the wire while it is read (16),
/// a value (8), and its place in the sort that folds it (32).
const SAMPLE_COST: u64 = 68;

/// How many samples a profile of `size` bytes may hold. A sample can be 4
/// bytes on the wire and costs about a hundred once decoded, so 200
/// million of them, 800 MB gunzipped from under 1 MB, would need 20 GB.
/// The budget is 8 times the profile's size plus 512 MB: real profiles,
/// whose samples carry stacks, stay well inside it. Counted while the
/// samples are found, so that the refusal comes before the memory is spent.
fn samples_within_budget(size: usize) -> usize {
    let budget = (size as u64).saturating_mul(8).saturating_add(512 << 20);
    usize::try_from(budget / SAMPLE_COST).unwrap_or(usize::MAX)
}

fn over_budget(size: usize) -> DecodeError {
    let budget = (size as u64).saturating_mul(8).saturating_add(512 << 20);
    DecodeError::OverBudget {
        samples: samples_within_budget(size),
        budget: budget >> 20,
        size,
    }
}

/// Deepest stack torch accepts: far beyond Go's own limits (64 frames for
/// CPU, 128 for memory unless raised), low enough to refuse nonsense.
pub const MAX_STACK_DEPTH: usize = 1 << 20;

/// Most samples and locations torch accepts in one profile.
pub const MAX_ENTRIES: usize = 1 << 26;

/// Refuses absurd profiles with a clear message instead of grinding on.
fn check_limits(profile: &Profile) -> Result<(), DecodeError> {
    let too_many = |what: &str, count: usize, limit: usize| {
        DecodeError::Invalid(format!(
            "{count} {what}, more than torch's limit of {limit}"
        ))
    };
    if profile.samples.len() > MAX_ENTRIES {
        return Err(too_many("samples", profile.samples.len(), MAX_ENTRIES));
    }
    if profile.locations.len() > MAX_ENTRIES {
        return Err(too_many("locations", profile.locations.len(), MAX_ENTRIES));
    }
    if let Some(deep) = profile
        .samples
        .iter()
        .find(|s| s.locations.len() > MAX_STACK_DEPTH)
    {
        return Err(too_many(
            "frames in one stack",
            deep.locations.len(),
            MAX_STACK_DEPTH,
        ));
    }
    Ok(())
}

/// The profile bytes, gunzipped if they start with gzip's magic.
pub(super) fn decompress(bytes: &[u8], max_size: u64) -> Result<Cow<'_, [u8]>, DecodeError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        Ok(Cow::Owned(gunzip(bytes, max_size)?))
    } else {
        Ok(Cow::Borrowed(bytes))
    }
}

/// What `size` bytes of gzip will probably gunzip to: the size gzip's
/// `trailer` records (of the last member, modulo 2³²), believed only as
/// far as deflate can expand (about 1032:1) and `max_size` allows.
fn gunzipped_size_hint(trailer: Option<[u8; 4]>, size: u64, max_size: u64) -> usize {
    let Some(trailer) = trailer else {
        return 0;
    };
    let recorded = u64::from(u32::from_le_bytes(trailer));
    let possible = size.saturating_mul(1032);
    let hint = recorded.min(possible).min(max_size.saturating_add(1));
    usize::try_from(hint).unwrap_or(0)
}

/// Decompresses every gzip member (Go's reader accepts concatenated members).
fn gunzip(bytes: &[u8], max_size: u64) -> Result<Vec<u8>, DecodeError> {
    let trailer = bytes.last_chunk::<4>().copied();
    gunzip_from(bytes, trailer, bytes.len() as u64, max_size)
}

/// [`gunzip`] from a stream of `size` bytes whose last four are `trailer`
/// (for the size hint): a profile file is decompressed as it is read,
/// never held whole.
pub fn gunzip_from(
    compressed: impl Read,
    trailer: Option<[u8; 4]>,
    size: u64,
    max_size: u64,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    // Room for the whole output up front: grown by doubling, a large
    // profile would be copied into fresh memory again and again.
    let _ = out.try_reserve(gunzipped_size_hint(trailer, size, max_size));
    let mut reader = MultiGzDecoder::new(compressed).take(max_size + 1);
    reader.read_to_end(&mut out).map_err(DecodeError::Gzip)?;
    if out.len() as u64 > max_size {
        return Err(DecodeError::TooLarge { limit: max_size });
    }
    Ok(out)
}

/// Whether `bytes` start as gzip data does.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Recognises text that is clearly not a protobuf (nor a legacy text
/// profile), to say what it is instead of a confusing wire-format error.
fn sniff_text(data: &[u8]) -> Option<DecodeError> {
    let head = &data[..data.len().min(512)];
    // An execution trace (`/debug/pprof/trace`, `go test -trace`) starts
    // with `go 1.NN trace` and then binary data.
    if head.starts_with(b"go 1.")
        && head
            .get(..16)
            .is_some_and(|h| h.windows(6).any(|w| w == b" trace"))
    {
        return Some(DecodeError::NotAProfile(
            "a Go execution trace, which is not a profile; `go tool trace` reads it",
        ));
    }
    let text = std::str::from_utf8(head).ok().or_else(|| {
        // A multi-byte character may be cut at 512 bytes.
        let valid = std::str::from_utf8(head).err()?.valid_up_to();
        (valid + 4 >= head.len()).then(|| std::str::from_utf8(&head[..valid]).ok())?
    })?;
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return None;
    }
    let start = text.trim_start();
    let lower = start.get(..start.len().min(64))?.to_ascii_lowercase();
    let what = if lower.starts_with('{') || lower.starts_with('[') {
        "JSON"
    } else if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        "an HTML page"
    } else if lower.starts_with('<') {
        "XML or HTML"
    } else {
        "plain text"
    };
    Some(DecodeError::NotAProfile(what))
}

/// A profile's top-level fields: every field but the samples, copied as
/// they are (a small message prost decodes), and where each sample is.
struct Layout {
    header: Vec<u8>,
    samples: Vec<Range<usize>>,
}

/// Walks the top-level fields. Protobuf merges concatenated messages
/// silently; pprof refuses them by spotting a second `time_nanos` field, and
/// so does this walk (which also rejects malformed framing early).
fn split_samples(data: &[u8], max_samples: usize) -> Result<Layout, DecodeError> {
    const SAMPLE: u64 = 2;
    // Counted first, so that the budget is checked, and the list made at
    // its size, before any memory is spent on it.
    let mut count = 0usize;
    walk_fields(data, |field, _, _| count += usize::from(field == SAMPLE))?;
    if count > max_samples {
        return Err(over_budget(data.len()));
    }
    let mut layout = Layout {
        header: Vec::new(),
        samples: Vec::with_capacity(count),
    };
    walk_fields(data, |field, whole, body| match (field, body) {
        (SAMPLE, Some(body)) => layout.samples.push(body),
        _ => layout.header.extend_from_slice(&data[whole]),
    })?;
    Ok(layout)
}

/// Calls `visit(field, whole field, body of a length-delimited field)`
/// for each top-level field, refusing concatenated profiles and malformed
/// framing.
fn walk_fields(
    data: &[u8],
    mut visit: impl FnMut(u64, Range<usize>, Option<Range<usize>>),
) -> Result<(), DecodeError> {
    const TIME_NANOS: u64 = 9;
    let mut pos = 0;
    let mut time_seen = false;
    while pos < data.len() {
        let start = pos;
        let key = read_varint(data, &mut pos)?;
        let (field, wire_type) = (key >> 3, key & 7);
        let mut body = None;
        match wire_type {
            0 => {
                let value = read_varint(data, &mut pos)?;
                if field == TIME_NANOS && value != 0 {
                    if time_seen {
                        return Err(DecodeError::Concatenated);
                    }
                    time_seen = true;
                }
            }
            1 => pos = skip(data, pos, 8)?,
            2 => {
                let len = read_varint(data, &mut pos)?;
                let start_of_body = pos;
                pos = skip(data, pos, len)?;
                body = Some(start_of_body..pos);
            }
            5 => pos = skip(data, pos, 4)?,
            _ => {
                return Err(DecodeError::Protobuf(format!(
                    "invalid wire type {wire_type}"
                )))
            }
        }
        visit(field, start..pos, body);
    }
    Ok(())
}

#[inline]
fn read_varint(data: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    // Most varints in a profile (ids, small values) take one to three bytes.
    if let Some(&first) = data.get(*pos) {
        if first < 0x80 {
            *pos += 1;
            return Ok(u64::from(first));
        }
        if let Some(&second) = data.get(*pos + 1) {
            if second < 0x80 {
                *pos += 2;
                return Ok(u64::from(first & 0x7f) | u64::from(second) << 7);
            }
            // Location ids of a large profile pass 16,383.
            if let Some(&third) = data.get(*pos + 2) {
                if third < 0x80 {
                    *pos += 3;
                    let low = u64::from(first & 0x7f) | u64::from(second & 0x7f) << 7;
                    return Ok(low | u64::from(third) << 14);
                }
            }
        }
    }
    read_long_varint(data, pos)
}

fn read_long_varint(data: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data
            .get(*pos)
            .ok_or_else(|| DecodeError::Protobuf("truncated varint".into()))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::Protobuf("varint longer than 10 bytes".into()))
}

fn skip(data: &[u8], pos: usize, len: u64) -> Result<usize, DecodeError> {
    usize::try_from(len)
        .ok()
        .and_then(|len| pos.checked_add(len))
        .filter(|&end| end <= data.len())
        .ok_or_else(|| DecodeError::Protobuf("field runs past the end of the data".into()))
}

/// Turns the wire structs into the model, checking every reference.
struct Resolver<'a> {
    raw: &'a pb::Profile,
    /// Shared, so that labels (one per sample in a heap profile) refer to
    /// their key rather than copy it.
    strings: Vec<Arc<str>>,
    location_ids: IdMap,
    function_ids: IdMap,
    mapping_ids: IdMap,
}

impl<'a> Resolver<'a> {
    fn new(raw: &'a pb::Profile) -> Result<Self, DecodeError> {
        let strings: Vec<Arc<str>> = raw
            .string_table
            .iter()
            .map(|s| Arc::from(String::from_utf8_lossy(s)))
            .collect();
        match strings.first() {
            Some(first) if first.is_empty() => {}
            Some(_) => return Err(invalid("string_table[0] is not empty")),
            None => return Err(invalid("the string table is empty")),
        }
        Ok(Resolver {
            raw,
            strings,
            location_ids: index_ids(raw.location.iter().map(|l| l.id), "location")?,
            function_ids: index_ids(raw.function.iter().map(|f| f.id), "function")?,
            mapping_ids: index_ids(raw.mapping.iter().map(|m| m.id), "mapping")?,
        })
    }

    fn resolve(self, data: &[u8], samples: &[Range<usize>]) -> Result<Profile, DecodeError> {
        let raw = self.raw;
        if raw.sample_type.is_empty() {
            return Err(invalid("no sample types"));
        }
        let sample_types = raw
            .sample_type
            .iter()
            .map(|t| self.value_type(t, "sample_type"))
            .collect::<Result<Vec<_>, _>>()?;
        let default_name = self.string(raw.default_sample_type, "default_sample_type")?;
        Ok(Profile {
            samples: self.samples(data, samples, sample_types.len())?,
            sample_types,
            default_sample_type: non_empty(default_name),
            locations: self.locations()?,
            functions: self.functions()?,
            mappings: self.mappings()?,
            drop_frames: non_empty(self.string(raw.drop_frames, "drop_frames")?),
            keep_frames: non_empty(self.string(raw.keep_frames, "keep_frames")?),
            time_nanos: raw.time_nanos,
            duration_nanos: raw.duration_nanos,
            period_type: raw
                .period_type
                .as_ref()
                .map(|t| self.value_type(t, "period_type"))
                .transpose()?,
            period: raw.period,
            comments: raw
                .comment
                .iter()
                .map(|&i| self.string(i, "comment").map(str::to_owned))
                .collect::<Result<_, _>>()?,
            runtime_hidden: Vec::new(),
            printed_names: false,
            every_address: false,
        })
    }

    fn string(&self, index: i64, what: &str) -> Result<&str, DecodeError> {
        self.shared_string(index, what).map(|s| &**s)
    }

    fn shared_string(&self, index: i64, what: &str) -> Result<&Arc<str>, DecodeError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.strings.get(i))
            .ok_or_else(|| {
                invalid(format!(
                    "{what} refers to string {index}, but the string table has {} entries",
                    self.strings.len()
                ))
            })
    }

    fn value_type(&self, t: &pb::ValueType, what: &str) -> Result<ValueType, DecodeError> {
        Ok(ValueType {
            name: self.string(t.r#type, what)?.to_owned(),
            unit: self.string(t.unit, what)?.to_owned(),
        })
    }

    /// Every sample, straight from the wire into flat lists
    /// ([`Samples`]). A first pass counts each sample's locations, so that
    /// every list is made once, at its size; a large profile's samples are
    /// then read on two threads, each filling its half of the lists in place.
    fn samples(
        &self,
        data: &[u8],
        ranges: &[Range<usize>],
        width: usize,
    ) -> Result<Samples, DecodeError> {
        const WORTH_A_THREAD: usize = 50_000;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parallel = ranges.len() >= WORTH_A_THREAD && cores >= 2;
        let middle = if parallel {
            ranges.len() / 2
        } else {
            ranges.len()
        };
        let (first_ranges, second_ranges) = ranges.split_at(middle);

        let mut stack_ends = vec![0usize; ranges.len()];
        let (first_counts, second_counts) = stack_ends.split_at_mut(middle);
        // Counted and checked before anything is made at its size: a sample
        // type count of a million times a million samples must be refused,
        // not allocated.
        let (first, second) = on_halves(
            parallel,
            || count_locations(data, first_ranges, 0, width, first_counts),
            || count_locations(data, second_ranges, middle, width, second_counts),
        );
        first?;
        second?;
        let mut total = 0usize;
        for end in &mut stack_ends {
            total += *end;
            *end = total;
        }

        let mut stacks = vec![0u32; total];
        let mut values = vec![0i64; ranges.len().saturating_mul(width)];
        let mut label_set = vec![0u32; ranges.len()];
        let split = middle.checked_sub(1).map_or(0, |last| stack_ends[last]);
        let (first_stacks, second_stacks) = stacks.split_at_mut(split);
        let (first_values, second_values) = values.split_at_mut(middle * width);
        let (first_sets, second_sets) = label_set.split_at_mut(middle);
        let first = SampleSlots {
            first: 0,
            base: 0,
            stack_ends: &stack_ends[..middle],
            stacks: first_stacks,
            values: first_values,
            label_set: first_sets,
        };
        let second = SampleSlots {
            first: middle,
            base: split,
            stack_ends: &stack_ends[middle..],
            stacks: second_stacks,
            values: second_values,
            label_set: second_sets,
        };
        let (first, second) = on_halves(
            parallel,
            || self.fill(data, first_ranges, first, width),
            || self.fill(data, second_ranges, second, width),
        );
        let mut label_sets = first?;
        let later_sets = second?;
        // The second half numbered its label sets from 1 too.
        let offset = u32::try_from(label_sets.len()).unwrap_or(u32::MAX);
        for id in label_set[middle..].iter_mut().filter(|id| **id != 0) {
            *id = id.saturating_add(offset);
        }
        label_sets.extend(later_sets);
        Ok(Samples::from_parts(Parts {
            width,
            stack_ends,
            stacks,
            values,
            label_set,
            label_sets,
        }))
    }

    /// Reads the samples at `ranges` into `slots`; returns the label sets
    /// their ids stand for.
    fn fill(
        &self,
        data: &[u8],
        ranges: &[Range<usize>],
        slots: SampleSlots<'_>,
        width: usize,
    ) -> Result<Vec<Arc<[Label]>>, DecodeError> {
        let mut sets = LabelSets::default();
        // A label message seen before names the same set: Go gives every
        // heap sample one `bytes` label, of a few hundred sizes.
        let mut known: FastMap<&[u8], u32> = FastMap::default();
        let mut messages: Vec<&[u8]> = Vec::new();
        let mut labels: Vec<Label> = Vec::new();
        let mut at = 0usize;
        for (n, range) in ranges.iter().enumerate() {
            let number = slots.first + n;
            let end = slots.stack_ends[n] - slots.base;
            let stack = slots
                .stacks
                .get_mut(at..end)
                .ok_or_else(|| malformed_locations(number))?;
            let values = &mut slots.values[n * width..(n + 1) * width];
            messages.clear();
            self.sample(&data[range.clone()], number, stack, values, &mut messages)?;
            at = end;
            slots.label_set[n] = match messages[..] {
                [] => 0,
                [one] => match known.get(one) {
                    Some(&id) => id,
                    None => {
                        let id = sets.intern(&[self.label(one)?]);
                        known.insert(one, id);
                        id
                    }
                },
                _ => {
                    labels.clear();
                    for message in &messages {
                        labels.push(self.label(message)?);
                    }
                    sets.intern(&labels)
                }
            };
        }
        Ok(sets.into_sets())
    }

    /// One `Sample` message, read from the wire: location ids (packed or
    /// not) become location positions in `stack`, which the counting pass
    /// made exactly as long; the values go to `values`, one per sample
    /// type; the label messages are gathered in `labels`.
    fn sample<'d>(
        &self,
        bytes: &'d [u8],
        number: usize,
        stack: &mut [u32],
        values: &mut [i64],
        labels: &mut Vec<&'d [u8]>,
    ) -> Result<(), DecodeError> {
        const LOCATION_ID: u64 = 1;
        const VALUE: u64 = 2;
        const LABEL: u64 = 3;
        let mut locations = 0;
        let mut value_count = 0;
        let mut pos = 0;
        let mut push_value = |value: i64, count: &mut usize| {
            if let Some(slot) = values.get_mut(*count) {
                *slot = value;
            }
            *count += 1;
        };
        while pos < bytes.len() {
            let key = read_varint(bytes, &mut pos)?;
            let (field, wire_type) = (key >> 3, key & 7);
            match (field, wire_type) {
                (LOCATION_ID, 2) => {
                    let packed = length_delimited(bytes, &mut pos)?;
                    let room = stack
                        .get_mut(locations..)
                        .ok_or_else(|| malformed_locations(number))?;
                    locations += self
                        .packed_locations(packed, room)
                        .ok_or_else(|| malformed_locations(number))??;
                }
                (LOCATION_ID, 0) => {
                    let id = read_varint(bytes, &mut pos)?;
                    let slot = stack
                        .get_mut(locations)
                        .ok_or_else(|| malformed_locations(number))?;
                    *slot = self.location(id)?;
                    locations += 1;
                }
                (VALUE, 2) => {
                    let packed = length_delimited(bytes, &mut pos)?;
                    let mut at = 0;
                    while at < packed.len() {
                        // int64 travels as the varint of its two's complement.
                        push_value(read_varint(packed, &mut at)? as i64, &mut value_count);
                    }
                }
                (VALUE, 0) => push_value(read_varint(bytes, &mut pos)? as i64, &mut value_count),
                (LABEL, 2) => labels.push(length_delimited(bytes, &mut pos)?),
                (_, wire_type) => pos = skip_field(bytes, pos, wire_type)?,
            }
        }
        if value_count != values.len() {
            return Err(wrong_value_count(number, value_count, values.len()));
        }
        if locations != stack.len() {
            return Err(malformed_locations(number));
        }
        Ok(())
    }

    /// A sample's packed location ids, as location positions, written to
    /// the front of `out`; how many. `None` if they do not fit. The hot
    /// loop of decoding: tens of millions of ids in a deep heap profile.
    fn packed_locations(
        &self,
        packed: &[u8],
        out: &mut [u32],
    ) -> Option<Result<usize, DecodeError>> {
        let mut at = 0;
        let mut count = 0;
        while at < packed.len() {
            let id = match read_varint(packed, &mut at) {
                Ok(id) => id,
                Err(e) => return Some(Err(e)),
            };
            let position = match &self.location_ids {
                IdMap::Dense(table) => {
                    match usize::try_from(id).ok().and_then(|id| table.get(id)) {
                        Some(&position) if position != u32::MAX => position,
                        _ => return Some(Err(missing_id(id, "sample", "location"))),
                    }
                }
                IdMap::Sparse(_) => match self.location(id) {
                    Ok(position) => position,
                    Err(e) => return Some(Err(e)),
                },
            };
            *out.get_mut(count)? = position;
            count += 1;
        }
        Some(Ok(count))
    }

    fn location(&self, id: u64) -> Result<u32, DecodeError> {
        lookup(&self.location_ids, id, "sample", "location").map(super::location_index)
    }

    fn label(&self, message: &[u8]) -> Result<Label, DecodeError> {
        let l = pb::Label::decode(message).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
        let key = self.shared_string(l.key, "label key")?.clone();
        let value = if l.str != 0 {
            LabelValue::Str(self.shared_string(l.str, "label value")?.clone())
        } else {
            let unit = self.shared_string(l.num_unit, "label unit")?;
            LabelValue::Num {
                value: l.num,
                unit: (!unit.is_empty()).then(|| unit.clone()),
            }
        };
        Ok(Label { key, value })
    }

    fn locations(&self) -> Result<Vec<Location>, DecodeError> {
        self.raw
            .location
            .iter()
            .map(|l| {
                let mapping = match l.mapping_id {
                    0 => None,
                    id => Some(lookup(&self.mapping_ids, id, "location", "mapping")?),
                };
                let lines = l
                    .line
                    .iter()
                    .map(|line| {
                        let function = match line.function_id {
                            0 => None,
                            id => Some(lookup(&self.function_ids, id, "line", "function")?),
                        };
                        Ok(Line {
                            function,
                            line: line.line,
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?;
                Ok(Location {
                    address: l.address,
                    mapping,
                    lines,
                })
            })
            .collect()
    }

    fn functions(&self) -> Result<Vec<Function>, DecodeError> {
        self.raw
            .function
            .iter()
            .map(|f| {
                Ok(Function {
                    name: self.string(f.name, "function name")?.to_owned(),
                    system_name: self
                        .string(f.system_name, "function system_name")?
                        .to_owned(),
                    filename: self.string(f.filename, "function filename")?.to_owned(),
                    start_line: f.start_line,
                })
            })
            .collect()
    }

    fn mappings(&self) -> Result<Vec<Mapping>, DecodeError> {
        self.raw
            .mapping
            .iter()
            .map(|m| {
                Ok(Mapping {
                    memory_start: m.memory_start,
                    memory_limit: m.memory_limit,
                    file_offset: m.file_offset,
                    filename: self.string(m.filename, "mapping filename")?.to_owned(),
                    build_id: self.string(m.build_id, "mapping build_id")?.to_owned(),
                    has_functions: m.has_functions,
                    has_filenames: m.has_filenames,
                    has_line_numbers: m.has_line_numbers,
                    has_inline_frames: m.has_inline_frames,
                })
            })
            .collect()
    }
}

/// Ids → positions. Go numbers ids 1, 2, 3…, so a table indexed by id is
/// the usual case; ids spread wide (another writer, or a hostile one) go
/// into a hash map instead.
enum IdMap {
    Dense(Vec<u32>),
    Sparse(FastMap<u64, usize>),
}

impl IdMap {
    fn get(&self, id: u64) -> Option<usize> {
        match self {
            IdMap::Dense(table) => match table.get(usize::try_from(id).ok()?) {
                Some(&u32::MAX) | None => None,
                Some(&position) => Some(position as usize),
            },
            IdMap::Sparse(map) => map.get(&id).copied(),
        }
    }
}

/// Maps ids to positions; ids must be non-zero and unique.
fn index_ids(ids: impl Iterator<Item = u64> + Clone, what: &str) -> Result<IdMap, DecodeError> {
    let count = ids.clone().count();
    let largest = ids.clone().max().unwrap_or(0);
    let dense = largest <= 2 * count as u64 + 1024 && count < u32::MAX as usize;
    let mut map = match dense {
        true => IdMap::Dense(vec![u32::MAX; largest as usize + 1]),
        false => IdMap::Sparse(FastMap::default()),
    };
    for (position, id) in ids.enumerate() {
        if id == 0 {
            return Err(invalid(format!("{what} {position} has id 0")));
        }
        let taken = match &mut map {
            IdMap::Dense(table) => {
                let slot = &mut table[id as usize];
                let taken = *slot != u32::MAX;
                *slot = position as u32;
                taken
            }
            IdMap::Sparse(map) => map.insert(id, position).is_some(),
        };
        if taken {
            return Err(invalid(format!("two {what}s share id {id}")));
        }
    }
    Ok(map)
}

fn lookup(ids: &IdMap, id: u64, from: &str, to: &str) -> Result<usize, DecodeError> {
    ids.get(id).ok_or_else(|| missing_id(id, from, to))
}

#[cold]
fn missing_id(id: u64, from: &str, to: &str) -> DecodeError {
    invalid(format!(
        "a {from} refers to {to} id {id}, which does not exist"
    ))
}

/// The body of a length-delimited field whose length is at `pos`.
fn length_delimited<'a>(bytes: &'a [u8], pos: &mut usize) -> Result<&'a [u8], DecodeError> {
    let len = read_varint(bytes, pos)?;
    let start = *pos;
    *pos = skip(bytes, start, len)?;
    Ok(&bytes[start..*pos])
}

/// How many varints a packed field holds: one per byte without the
/// continuation bit.
fn varint_count(packed: &[u8]) -> usize {
    packed.iter().filter(|&&byte| byte & 0x80 == 0).count()
}

/// Skips a field's value of `wire_type` starting at `pos`.
fn skip_field(bytes: &[u8], mut pos: usize, wire_type: u64) -> Result<usize, DecodeError> {
    match wire_type {
        0 => {
            read_varint(bytes, &mut pos)?;
            Ok(pos)
        }
        1 => skip(bytes, pos, 8),
        2 => {
            let len = read_varint(bytes, &mut pos)?;
            skip(bytes, pos, len)
        }
        5 => skip(bytes, pos, 4),
        _ => Err(DecodeError::Protobuf(format!(
            "invalid wire type {wire_type}"
        ))),
    }
}

fn invalid(reason: impl Into<String>) -> DecodeError {
    DecodeError::Invalid(reason.into())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[cold]
fn malformed_locations(number: usize) -> DecodeError {
    invalid(format!("sample {number} has malformed location ids"))
}

/// Where one run of samples goes in the flat lists: sample `first` on,
/// whose stacks start at `base` in the whole list of stacks.
struct SampleSlots<'a> {
    first: usize,
    base: usize,
    /// Where each of these samples' stacks ends in the whole list.
    stack_ends: &'a [usize],
    stacks: &'a mut [u32],
    values: &'a mut [i64],
    label_set: &'a mut [u32],
}

/// Runs `first` and `second`, on two threads when `parallel`.
fn on_halves<A: Send, B: Send>(
    parallel: bool,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        return (first(), second());
    }
    std::thread::scope(|scope| {
        let later = scope.spawn(second);
        let first = first();
        (first, later.join().expect("a sample reader panicked"))
    })
}

/// Counts each sample's location ids into `counts`, so that the lists
/// can be made at their size before anything is read into them, and
/// checks that each sample has `width` values (one per sample type). The
/// first sample is number `first`.
fn count_locations(
    data: &[u8],
    ranges: &[Range<usize>],
    first: usize,
    width: usize,
    counts: &mut [usize],
) -> Result<(), DecodeError> {
    const LOCATION_ID: u64 = 1;
    const VALUE: u64 = 2;
    for (n, (range, count)) in ranges.iter().zip(counts).enumerate() {
        let bytes = &data[range.clone()];
        let mut values = 0;
        let mut pos = 0;
        while pos < bytes.len() {
            let key = read_varint(bytes, &mut pos)?;
            let (field, wire_type) = (key >> 3, key & 7);
            match (field, wire_type) {
                (LOCATION_ID, 2) => *count += varint_count(length_delimited(bytes, &mut pos)?),
                (LOCATION_ID, 0) => {
                    read_varint(bytes, &mut pos)?;
                    *count += 1;
                }
                (VALUE, 2) => values += varint_count(length_delimited(bytes, &mut pos)?),
                (VALUE, 0) => {
                    read_varint(bytes, &mut pos)?;
                    values += 1;
                }
                (_, wire_type) => pos = skip_field(bytes, pos, wire_type)?,
            }
        }
        if values != width {
            return Err(wrong_value_count(first + n, values, width));
        }
    }
    Ok(())
}

#[cold]
fn wrong_value_count(number: usize, values: usize, width: usize) -> DecodeError {
    invalid(format!(
        "sample {number} has {values} values but the profile has {width} sample types"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_sample_types_times_many_samples_are_refused_before_allocating() {
        // A million sample types and a million samples without values:
        // 4 MB on the wire, 8 TB if every sample's values were made first.
        const COUNT: usize = 1_000_000;
        let mut bytes = Vec::with_capacity(4 * COUNT + 2);
        for _ in 0..COUNT {
            bytes.extend_from_slice(&[0x0a, 0x00]); // sample_type {}
        }
        for _ in 0..COUNT {
            bytes.extend_from_slice(&[0x12, 0x00]); // sample {}
        }
        bytes.extend_from_slice(&[0x32, 0x00]); // string_table: ""
        let error = decode(&bytes, DEFAULT_MAX_SIZE).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid profile: sample 0 has 0 values but the profile has 1000000 sample types"
        );
    }
}
