//! A profile against a base (`--base OLD NEW`): per stack, the value before
//! and after, the way `go tool pprof -base` subtracts them. Stacks found in
//! only one of the two are kept with 0 on the other side, so what vanished
//! is still there to show.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::fold::Folded;
use crate::profile::ValueType;

/// Folded stacks of a base and a newer profile, side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub sample_type: ValueType,
    /// `(stack, before, after)`, sorted by stack; stacks zero on both
    /// sides are left out.
    pub stacks: Vec<(String, i64, i64)>,
    pub total_before: i64,
    pub total_after: i64,
    /// The base was scaled to the new profile's total (`--normalize`).
    pub normalized: bool,
}

/// Why a base cannot be compared with the profile.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiffError {
    #[error("the base's sample type is {base}, the profile's is {new}; they cannot be compared")]
    SampleTypes { base: String, new: String },
}

/// Pairs `base` with `new`, both folded for the same sample type. With
/// `normalize`, every base value is scaled by new total / base total first.
pub fn diff(base: &Folded, new: &Folded, normalize: bool) -> Result<Diff, DiffError> {
    if base.sample_type != new.sample_type {
        return Err(DiffError::SampleTypes {
            base: base.sample_type.name.clone(),
            new: new.sample_type.name.clone(),
        });
    }
    let scale = match (normalize, base.total) {
        (true, total) if total != 0 => new.total as f64 / total as f64,
        _ => 1.0,
    };
    let mut pairs: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (stack, value) in &base.stacks {
        pairs.entry(stack).or_default().0 = (*value as f64 * scale).round() as i64;
    }
    for (stack, value) in &new.stacks {
        pairs.entry(stack).or_default().1 = *value;
    }
    let stacks = pairs
        .into_iter()
        .filter(|&(_, (before, after))| before != 0 || after != 0)
        .map(|(stack, (before, after))| (stack.to_owned(), before, after))
        .collect();
    Ok(Diff {
        sample_type: new.sample_type.clone(),
        stacks,
        total_before: (base.total as f64 * scale).round() as i64,
        total_after: new.total,
        normalized: normalize,
    })
}

impl Diff {
    /// True when no stack changed.
    pub fn unchanged(&self) -> bool {
        self.stacks
            .iter()
            .all(|&(_, before, after)| before == after)
    }
}

/// Writes `stack before after` lines, FlameGraph's differential format.
pub fn write_diff(diff: &Diff, mut out: impl Write) -> io::Result<()> {
    for (stack, before, after) in &diff.stacks {
        writeln!(out, "{stack} {before} {after}")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(stacks: &[(&str, i64)]) -> Folded {
        Folded {
            sample_type: ValueType {
                name: "inuse_space".into(),
                unit: "bytes".into(),
            },
            mean: false,
            stacks: stacks.iter().map(|&(s, v)| (s.to_owned(), v)).collect(),
            total: stacks.iter().map(|&(_, v)| v.abs()).sum(),
        }
    }

    #[test]
    fn stacks_from_either_side_are_kept() {
        let base = folded(&[("a;b", 10), ("a;gone", 5)]);
        let new = folded(&[("a;b", 30), ("a;new", 7)]);
        let d = diff(&base, &new, false).unwrap();
        let want = vec![
            ("a;b".to_owned(), 10, 30),
            ("a;gone".to_owned(), 5, 0),
            ("a;new".to_owned(), 0, 7),
        ];
        assert_eq!(d.stacks, want);
        assert_eq!((d.total_before, d.total_after), (15, 37));
        assert!(!d.unchanged());
        assert!(diff(&base, &base, false).unwrap().unchanged());
    }

    #[test]
    fn normalize_scales_the_base_to_the_new_total() {
        let base = folded(&[("a", 10), ("b", 10)]);
        let new = folded(&[("a", 30), ("b", 10)]);
        let d = diff(&base, &new, true).unwrap();
        assert_eq!(
            d.stacks,
            vec![("a".to_owned(), 20, 30), ("b".to_owned(), 20, 10)]
        );
        assert_eq!(d.total_before, 40);
    }
}
