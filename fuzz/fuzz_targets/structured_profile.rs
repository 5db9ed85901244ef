//! Profiles built from the fuzzer's bytes as structures, not as wire
//! bytes: random functions (names with any characters), locations of up
//! to eight inlined lines, samples of up to 64 frames and values that are
//! often at their extremes, and labels. Every stage that reads a profile
//! runs on them: filters, folding for each sample type (and means), the
//! SVG, top tables, a comparison with itself negated, and a round trip
//! through the encoder. None may panic.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use torch::fold::{self, FoldOptions, Measure, SampleSelection};
use torch::profile::{Function, Label, LabelValue, Line, Location, Profile, Sample, ValueType};
use torch::render::{self, RenderOptions};

fn value(u: &mut Unstructured) -> Result<i64> {
    Ok(match u.int_in_range(0..=7)? {
        0 => i64::MAX,
        1 => i64::MIN,
        2 => -1,
        3 => 0,
        _ => u.arbitrary()?,
    })
}

fn name(u: &mut Unstructured) -> Result<String> {
    let length = u.int_in_range(0..=40)?;
    let mut name = String::new();
    for _ in 0..length {
        name.push(u.arbitrary::<char>()?);
    }
    Ok(name)
}

fn profile(u: &mut Unstructured) -> Result<Profile> {
    let types = u.int_in_range(1..=4)?;
    let mut profile = Profile {
        sample_types: (0..types)
            .map(|i| ValueType {
                name: ["samples", "cpu", "alloc_space", "delay"][i].into(),
                unit: ["count", "nanoseconds", "bytes", "nanoseconds"][i].into(),
            })
            .collect(),
        ..Profile::default()
    };
    for _ in 0..u.int_in_range(1..=20)? {
        profile.functions.push(Function {
            name: name(u)?,
            system_name: String::new(),
            filename: name(u)?,
            start_line: u.arbitrary()?,
        });
    }
    for _ in 0..u.int_in_range(1..=30)? {
        let mut lines = Vec::new();
        for _ in 0..u.int_in_range(0..=8)? {
            let function = u.choose_index(profile.functions.len())?;
            lines.push(Line {
                function: u.arbitrary::<bool>()?.then_some(function),
                line: u.arbitrary()?,
            });
        }
        profile.locations.push(Location {
            address: u.arbitrary()?,
            mapping: None,
            lines,
        });
    }
    for _ in 0..u.int_in_range(1..=64)? {
        let depth = u.int_in_range(0..=64)?;
        let mut locations = Vec::with_capacity(depth);
        for _ in 0..depth {
            locations.push(u.choose_index(profile.locations.len())? as u32);
        }
        let values = (0..types).map(|_| value(u)).collect::<Result<_>>()?;
        let labels = match u.arbitrary::<bool>()? {
            true => vec![Label {
                key: name(u)?.into(),
                value: match u.arbitrary::<bool>()? {
                    true => LabelValue::Str(name(u)?.into()),
                    false => LabelValue::Num {
                        value: value(u)?,
                        unit: None,
                    },
                },
            }],
            false => Vec::new(),
        };
        profile.samples.push(Sample {
            locations,
            values,
            labels,
        });
    }
    Ok(profile)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(mut profile) = profile(&mut u) else {
        return;
    };
    let _ = torch::profile::remove_uninteresting(&mut profile);
    let filters = torch::filter::Filters {
        tag_root: vec!["a".into()],
        ..Default::default()
    };
    let mut labelled = profile.clone();
    torch::filter::apply(&mut labelled, &filters);
    for index in 0..profile.sample_types.len() {
        for mean in [false, true] {
            let options = FoldOptions {
                selection: SampleSelection::Named(index.to_string()),
                mean,
                ..FoldOptions::default()
            };
            let Ok(measure) = fold::measure(&profile, &options) else {
                continue;
            };
            if let Ok(tree) = fold::tree(&profile, &options) {
                let placed = Measure::new(measure.index, measure.sample_type.clone(), mean);
                let _ = render::render(&tree, &placed, &RenderOptions::default(), None, Vec::new());
                let _ = fold::write_folded(&tree, &placed, std::io::sink());
            }
            let _ = torch::top::top(&profile, &options, false);
            let _ = fold::fold(&labelled, &options);
        }
    }
    let encoded = torch::profile::encode_gzip(&profile);
    let _ = torch::profile::decode(&encoded, 64 << 20);
});
