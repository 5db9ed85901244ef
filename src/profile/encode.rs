//! [`Profile`] → gzip-compressed pprof protobuf, the format `go tool pprof`,
//! Pyroscope and Parca read. Used to save merged profiles.

use std::collections::HashMap;
use std::io::Write;

use flate2::write::GzEncoder;
use prost::Message;

use super::proto::pb;
use super::{LabelValue, Profile, ValueType};

/// Encodes `profile` as a gzip-compressed protobuf.
pub fn encode_gzip(profile: &Profile) -> Vec<u8> {
    let message = to_message(profile);
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&message.encode_to_vec())
        .and_then(|()| encoder.finish())
        .expect("writing to memory cannot fail")
}

/// Builds the string table as strings are met; index 0 is "".
struct Strings {
    table: Vec<Vec<u8>>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Self {
        let mut strings = Strings {
            table: Vec::new(),
            index: HashMap::new(),
        };
        strings.get("");
        strings
    }

    fn get(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.as_bytes().to_vec());
        self.index.insert(s.to_owned(), i);
        i
    }

    fn value_type(&mut self, t: &ValueType) -> pb::ValueType {
        pb::ValueType {
            r#type: self.get(&t.name),
            unit: self.get(&t.unit),
        }
    }
}

/// Ids in the wire format are positions + 1 (0 means "none").
fn id(position: usize) -> u64 {
    position as u64 + 1
}

fn to_message(p: &Profile) -> pb::Profile {
    let mut s = Strings::new();
    let sample_type = p.sample_types.iter().map(|t| s.value_type(t)).collect();
    let sample = p
        .samples
        .iter()
        .map(|sample| pb::Sample {
            location_id: sample.locations.iter().map(|&l| id(l as usize)).collect(),
            value: sample.values.to_vec(),
            label: sample
                .labels
                .iter()
                .map(|label| {
                    let key = s.get(&label.key);
                    match &label.value {
                        LabelValue::Str(v) => pb::Label {
                            key,
                            str: s.get(v),
                            ..Default::default()
                        },
                        LabelValue::Num { value, unit } => pb::Label {
                            key,
                            num: *value,
                            num_unit: unit.as_deref().map_or(0, |u| s.get(u)),
                            ..Default::default()
                        },
                    }
                })
                .collect(),
            breakdown: Vec::new(),
        })
        .collect();
    let mapping = p
        .mappings
        .iter()
        .enumerate()
        .map(|(i, m)| pb::Mapping {
            id: id(i),
            memory_start: m.memory_start,
            memory_limit: m.memory_limit,
            file_offset: m.file_offset,
            filename: s.get(&m.filename),
            build_id: s.get(&m.build_id),
            has_functions: m.has_functions,
            has_filenames: m.has_filenames,
            has_line_numbers: m.has_line_numbers,
            has_inline_frames: m.has_inline_frames,
        })
        .collect();
    let location = p
        .locations
        .iter()
        .enumerate()
        .map(|(i, l)| pb::Location {
            id: id(i),
            mapping_id: l.mapping.map_or(0, id),
            address: l.address,
            line: l
                .lines
                .iter()
                .map(|line| pb::Line {
                    function_id: line.function.map_or(0, id),
                    line: line.line,
                    column: 0,
                })
                .collect(),
            is_folded: false,
        })
        .collect();
    let function = p
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| pb::Function {
            id: id(i),
            name: s.get(&f.name),
            system_name: s.get(&f.system_name),
            filename: s.get(&f.filename),
            start_line: f.start_line,
        })
        .collect();
    let optional = |s: &mut Strings, v: &Option<String>| v.as_deref().map_or(0, |v| s.get(v));
    pb::Profile {
        sample_type,
        sample,
        mapping,
        location,
        function,
        drop_frames: optional(&mut s, &p.drop_frames),
        keep_frames: optional(&mut s, &p.keep_frames),
        time_nanos: p.time_nanos,
        duration_nanos: p.duration_nanos,
        period_type: p.period_type.as_ref().map(|t| s.value_type(t)),
        period: p.period,
        comment: p.comments.iter().map(|c| s.get(c)).collect(),
        default_sample_type: optional(&mut s, &p.default_sample_type),
        tick_unit: 0,
        label_set: Vec::new(),
        string_table: s.table,
    }
}
