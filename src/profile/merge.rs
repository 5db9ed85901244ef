//! Merging profiles of the same kind (several instances of one service) into
//! one, the way pprof merges: identical functions, mappings and locations are
//! shared, and samples with the same stack and labels are added together
//! (so a base with negated values cancels what did not change).

use std::collections::HashMap;

use super::location_index;
use super::{Function, Label, Line, Location, Mapping, Profile};

/// Why profiles cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("its sample types ({found}) differ from the first profile's ({first}); cannot merge")]
    SampleTypes { first: String, found: String },
}

/// Merges `profiles` into one. On failure, says which one (by position) did
/// not fit. A single profile is returned as it is.
pub fn merge(mut profiles: Vec<Profile>) -> Result<Profile, (usize, MergeError)> {
    assert!(!profiles.is_empty(), "merge needs at least one profile");
    if profiles.len() == 1 {
        return Ok(profiles.pop().expect("one profile"));
    }
    for (position, profile) in profiles.iter().enumerate().skip(1) {
        if profile.sample_types != profiles[0].sample_types {
            let error = MergeError::SampleTypes {
                first: profiles[0].sample_type_names(),
                found: profile.sample_type_names(),
            };
            return Err((position, error));
        }
    }
    let mut merger = Merger::default();
    let mut merged = Profile {
        sample_types: profiles[0].sample_types.clone(),
        default_sample_type: profiles[0].default_sample_type.clone(),
        period_type: profiles[0].period_type.clone(),
        drop_frames: profiles[0].drop_frames.clone(),
        keep_frames: profiles[0].keep_frames.clone(),
        ..Profile::default()
    };
    for profile in &profiles {
        merger.add(&mut merged, profile);
    }
    merged.time_nanos = profiles
        .iter()
        .map(|p| p.time_nanos)
        .filter(|&t| t != 0)
        .min()
        .unwrap_or(0);
    merged.duration_nanos = profiles.iter().map(|p| p.duration_nanos).sum();
    merged.period = profiles.iter().map(|p| p.period).max().unwrap_or(0);
    Ok(merged)
}

/// A location's identity: mapping, address and (function, line) per line.
type LocationKey = (Option<usize>, u64, Vec<(Option<usize>, i64)>);

/// Keys of what has been added, to share identical entries.
#[derive(Default)]
struct Merger {
    functions: HashMap<(String, String, String, i64), usize>,
    mappings: HashMap<(u64, u64, u64, String, String), usize>,
    locations: HashMap<LocationKey, usize>,
    samples: HashMap<(Vec<u32>, Vec<Label>), usize>,
}

impl Merger {
    fn add(&mut self, merged: &mut Profile, profile: &Profile) {
        let functions: Vec<usize> = profile
            .functions
            .iter()
            .map(|f| self.function(merged, f))
            .collect();
        let mappings: Vec<usize> = profile
            .mappings
            .iter()
            .map(|m| self.mapping(merged, m))
            .collect();
        let locations: Vec<usize> = profile
            .locations
            .iter()
            .map(|l| self.location(merged, l, &functions, &mappings))
            .collect();
        for sample in &profile.samples {
            let mut sample = sample.to_owned();
            for location in &mut sample.locations {
                *location = location_index(locations[*location as usize]);
            }
            let key = (sample.locations.clone(), sample.labels.clone());
            match self.samples.get(&key) {
                Some(&at) => {
                    let values = merged.samples.values_mut(at);
                    for (sum, value) in values.iter_mut().zip(&sample.values) {
                        *sum = sum.saturating_add(*value);
                    }
                }
                None => {
                    self.samples.insert(key, merged.samples.len());
                    merged.samples.push(sample);
                }
            }
        }
        for comment in &profile.comments {
            if !merged.comments.contains(comment) {
                merged.comments.push(comment.clone());
            }
        }
    }

    fn function(&mut self, merged: &mut Profile, f: &Function) -> usize {
        let key = (
            f.name.clone(),
            f.system_name.clone(),
            f.filename.clone(),
            f.start_line,
        );
        *self.functions.entry(key).or_insert_with(|| {
            merged.functions.push(f.clone());
            merged.functions.len() - 1
        })
    }

    fn mapping(&mut self, merged: &mut Profile, m: &Mapping) -> usize {
        let key = (
            m.memory_start,
            m.memory_limit,
            m.file_offset,
            m.filename.clone(),
            m.build_id.clone(),
        );
        *self.mappings.entry(key).or_insert_with(|| {
            merged.mappings.push(m.clone());
            merged.mappings.len() - 1
        })
    }

    fn location(
        &mut self,
        merged: &mut Profile,
        l: &Location,
        functions: &[usize],
        mappings: &[usize],
    ) -> usize {
        let lines: Vec<Line> = l
            .lines
            .iter()
            .map(|line| Line {
                function: line.function.map(|f| functions[f]),
                line: line.line,
            })
            .collect();
        let mapping = l.mapping.map(|m| mappings[m]);
        let key = (
            mapping,
            l.address,
            lines
                .iter()
                .map(|line| (line.function, line.line))
                .collect(),
        );
        *self.locations.entry(key).or_insert_with(|| {
            merged.locations.push(Location {
                address: l.address,
                mapping,
                lines,
            });
            merged.locations.len() - 1
        })
    }
}
