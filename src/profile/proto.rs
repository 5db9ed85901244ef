//! pprof protobuf (gzip-compressed or plain) → [`Profile`].
//!
//! This is the only place that knows about string-table indices and numeric
//! ids. Every index and id is checked here, so later stages can index the
//! model's vectors without fear.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use prost::Message;

use super::{Function, Label, LabelValue, Line, Location, Mapping, Profile, Sample, ValueType};

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
    } else {
        if let Some(kind) = sniff_text(&data) {
            return Err(kind);
        }
        check_single_profile(&data)?;
        let mut raw =
            pb::Profile::decode(&*data).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
        drop(data);
        // Samples are the bulk of a profile: they are consumed while the
        // model is built, so both copies never exist in full at once.
        let samples = std::mem::take(&mut raw.sample);
        Resolver::new(&raw)?.resolve(samples)?
    };
    check_limits(&profile)?;
    Ok(profile)
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

/// Decompresses every gzip member (Go's reader accepts concatenated members).
fn gunzip(bytes: &[u8], max_size: u64) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let mut reader = MultiGzDecoder::new(bytes).take(max_size + 1);
    reader.read_to_end(&mut out).map_err(DecodeError::Gzip)?;
    if out.len() as u64 > max_size {
        return Err(DecodeError::TooLarge { limit: max_size });
    }
    Ok(out)
}

/// Recognises text that is clearly not a protobuf (nor a legacy text
/// profile), to say what it is instead of a confusing wire-format error.
fn sniff_text(data: &[u8]) -> Option<DecodeError> {
    let head = &data[..data.len().min(512)];
    let text = std::str::from_utf8(head).ok().or_else(|| {
        // A multi-byte character may be cut at 512 bytes.
        let valid = std::str::from_utf8(head).err()?.valid_up_to();
        (valid + 4 >= head.len()).then(|| std::str::from_utf8(&head[..valid]).ok())?
    })?;
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return None;
    }
    let start = text.trim_start();
    // Legacy text profiles were taken before; this is text that is not one.
    if start.starts_with("goroutine ") && start.contains(" [") {
        return Some(DecodeError::NotAProfile(
            "a goroutine dump (debug=2); ask for debug=1 or the protobuf profile",
        ));
    }
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

/// Protobuf merges concatenated messages silently; pprof refuses them by
/// spotting a second `time_nanos` field. Walk the top-level fields to do
/// the same (and to reject malformed framing early).
fn check_single_profile(data: &[u8]) -> Result<(), DecodeError> {
    const TIME_NANOS: u64 = 9;
    let mut pos = 0;
    let mut time_seen = false;
    while pos < data.len() {
        let key = read_varint(data, &mut pos)?;
        let (field, wire_type) = (key >> 3, key & 7);
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
                pos = skip(data, pos, len)?;
            }
            5 => pos = skip(data, pos, 4)?,
            _ => {
                return Err(DecodeError::Protobuf(format!(
                    "invalid wire type {wire_type}"
                )))
            }
        }
    }
    Ok(())
}

fn read_varint(data: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
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
    strings: Vec<String>,
    location_ids: HashMap<u64, usize>,
    function_ids: HashMap<u64, usize>,
    mapping_ids: HashMap<u64, usize>,
}

impl<'a> Resolver<'a> {
    fn new(raw: &'a pb::Profile) -> Result<Self, DecodeError> {
        let strings: Vec<String> = raw
            .string_table
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
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

    fn resolve(self, samples: Vec<pb::Sample>) -> Result<Profile, DecodeError> {
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
            samples: self.samples(samples, sample_types.len())?,
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
        })
    }

    fn string(&self, index: i64, what: &str) -> Result<&str, DecodeError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.strings.get(i))
            .map(String::as_str)
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

    fn samples(
        &self,
        samples: Vec<pb::Sample>,
        value_count: usize,
    ) -> Result<Vec<Sample>, DecodeError> {
        samples
            .into_iter()
            .enumerate()
            .map(|(n, s)| {
                if s.value.len() != value_count {
                    return Err(invalid(format!(
                        "sample {n} has {} values but the profile has {value_count} sample types",
                        s.value.len()
                    )));
                }
                let locations = s
                    .location_id
                    .iter()
                    .map(|id| lookup(&self.location_ids, *id, "sample", "location"))
                    .collect::<Result<_, _>>()?;
                let labels = s
                    .label
                    .iter()
                    .map(|l| self.label(l))
                    .collect::<Result<_, _>>()?;
                Ok(Sample {
                    locations,
                    values: s.value,
                    labels,
                })
            })
            .collect()
    }

    fn label(&self, l: &pb::Label) -> Result<Label, DecodeError> {
        let key = self.string(l.key, "label key")?.to_owned();
        let value = if l.str != 0 {
            LabelValue::Str(self.string(l.str, "label value")?.to_owned())
        } else {
            LabelValue::Num {
                value: l.num,
                unit: non_empty(self.string(l.num_unit, "label unit")?),
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

/// Maps ids to positions; ids must be non-zero and unique.
fn index_ids(
    ids: impl Iterator<Item = u64>,
    what: &str,
) -> Result<HashMap<u64, usize>, DecodeError> {
    let mut map = HashMap::new();
    for (position, id) in ids.enumerate() {
        if id == 0 {
            return Err(invalid(format!("{what} {position} has id 0")));
        }
        if map.insert(id, position).is_some() {
            return Err(invalid(format!("two {what}s share id {id}")));
        }
    }
    Ok(map)
}

fn lookup(ids: &HashMap<u64, usize>, id: u64, from: &str, to: &str) -> Result<usize, DecodeError> {
    ids.get(&id).copied().ok_or_else(|| {
        invalid(format!(
            "a {from} refers to {to} id {id}, which does not exist"
        ))
    })
}

fn invalid(reason: impl Into<String>) -> DecodeError {
    DecodeError::Invalid(reason.into())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}
