//! A profile against a base (`--base OLD NEW`): per stack, the value before
//! and after, the way `go tool pprof -base` subtracts them. Both profiles
//! are folded into one call tree with columns for each side, one after the
//! other, so neither has to stay in memory once folded; stacks found in
//! only one of the two have 0 on the other side, so what vanished is still
//! there to show.

use std::io::{self, Write};

use crate::fold::{self, format_i64, FoldError, FoldOptions, Measure};
use crate::profile::{Profile, ValueType};
use crate::tree::{CallTree, NodeId};

/// The stacks of a base and a newer profile, side by side.
#[derive(Debug, Clone)]
pub struct Diff {
    pub sample_type: ValueType,
    /// Both profiles' stacks; [`Diff::change`] reads a node.
    pub tree: CallTree,
    before: Measure,
    after: Measure,
    /// What every base value is multiplied by (`--normalize`).
    scale: Option<f64>,
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
    #[error(transparent)]
    Fold(#[from] FoldError),
}

/// A comparison being built: add the new profile and the base (in either
/// order), then [`Comparison::finish`].
#[derive(Debug, Clone)]
pub struct Comparison {
    tree: CallTree,
    before: Measure,
    after: Measure,
    options: FoldOptions,
}

impl Comparison {
    /// Compares `measure` (chosen in the new profile) with `options`.
    pub fn new(measure: &Measure, options: &FoldOptions) -> Comparison {
        let width = measure.sample_types().len();
        Comparison {
            tree: CallTree::new(2 * width),
            before: measure.placed(0),
            after: measure.placed(width),
            options: options.clone(),
        }
    }

    /// Folds the base profile in.
    pub fn add_base(&mut self, profile: &Profile) -> Result<(), DiffError> {
        self.check(profile)?;
        let columns = self.before.columns(0);
        fold::fold_into(&mut self.tree, profile, &self.options, &columns)?;
        Ok(())
    }

    /// Folds the new profile in.
    pub fn add_new(&mut self, profile: &Profile) -> Result<(), DiffError> {
        self.check(profile)?;
        let columns = self.after.columns(self.before.sample_types().len());
        fold::fold_into(&mut self.tree, profile, &self.options, &columns)?;
        Ok(())
    }

    fn check(&self, profile: &Profile) -> Result<(), DiffError> {
        let wanted = &self.after.sample_type;
        match profile.sample_types.get(self.after.index) {
            Some(found) if found == wanted => Ok(()),
            found => Err(DiffError::SampleTypes {
                base: found.map_or_else(|| "missing".to_owned(), |t| t.name.clone()),
                new: wanted.name.clone(),
            }),
        }
    }

    /// The comparison. With `normalize`, every base value is scaled by new
    /// total / base total.
    pub fn finish(mut self, normalize: bool) -> Diff {
        self.tree.finish();
        let (base_total, new_total) = (self.before.total(&self.tree), self.after.total(&self.tree));
        let scale = match (normalize, base_total) {
            (true, total) if total != 0 => Some(new_total as f64 / total as f64),
            _ => None,
        };
        Diff {
            sample_type: self.after.sample_type.clone(),
            total_before: scaled(base_total, scale),
            total_after: new_total,
            tree: self.tree,
            before: self.before,
            after: self.after,
            scale,
            normalized: normalize,
        }
    }
}

/// A base value scaled as `--normalize` asks.
fn scaled(value: i64, scale: Option<f64>) -> i64 {
    match scale {
        Some(scale) => (value as f64 * scale).round() as i64,
        None => value,
    }
}

impl Diff {
    /// A comparison given as folded stacks, `(stack, before, after)`.
    pub fn from_folded(
        sample_type: ValueType,
        stacks: &[(&str, i64, i64)],
    ) -> Result<Diff, DiffError> {
        let measure = Measure::new(0, sample_type, false);
        let mut comparison = Comparison::new(&measure, &FoldOptions::default());
        for &(stack, before, after) in stacks {
            let node = comparison.tree.stack_node(stack).map_err(FoldError::from)?;
            comparison.tree.add_to(node, 0, before);
            comparison.tree.add_to(node, 1, after);
        }
        Ok(comparison.finish(false))
    }

    /// The value before and after at `node`.
    pub fn change(&self, node: NodeId) -> (i64, i64) {
        let values = self.tree.values(node);
        (
            scaled(self.before.of(values), self.scale),
            self.after.of(values),
        )
    }

    /// True when no stack changed.
    pub fn unchanged(&self) -> bool {
        self.tree.nodes().all(|node| {
            let (before, after) = self.change(node);
            before == after
        })
    }

    /// `(stack, before, after)` for every stack with a value on either
    /// side, sorted by stack.
    pub fn stacks(&self) -> Vec<(String, i64, i64)> {
        let mut stacks = Vec::new();
        self.for_each_stack(|stack, before, after| {
            stacks.push((stack.to_owned(), before, after));
            Ok(())
        })
        .expect("collecting stacks cannot fail");
        stacks
    }

    fn for_each_stack(
        &self,
        mut emit: impl FnMut(&str, i64, i64) -> io::Result<()>,
    ) -> io::Result<()> {
        self.tree.for_each_sorted(
            |node| self.change(node) != (0, 0),
            |stack, node| {
                let (before, after) = self.change(node);
                emit(stack, before, after)
            },
        )
    }
}

/// Writes `stack before after` lines, FlameGraph's differential format.
pub fn write_diff(diff: &Diff, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut number = [0u8; 20];
    diff.for_each_stack(|stack, before, after| {
        out.write_all(stack.as_bytes())?;
        out.write_all(b" ")?;
        out.write_all(format_i64(&mut number, before))?;
        out.write_all(b" ")?;
        out.write_all(format_i64(&mut number, after))?;
        out.write_all(b"\n")
    })?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Function, Line, Location, Sample};

    /// A profile of `stacks` (folded text, one `inuse_space` value each).
    fn profile(stacks: &[(&str, i64)]) -> Profile {
        let mut profile = Profile {
            sample_types: vec![ValueType {
                name: "inuse_space".into(),
                unit: "bytes".into(),
            }],
            ..Profile::default()
        };
        for (stack, value) in stacks {
            let mut locations = Vec::new();
            for name in stack.split(';') {
                profile.functions.push(Function {
                    name: name.into(),
                    ..Function::default()
                });
                profile.locations.push(Location {
                    address: 1,
                    mapping: None,
                    lines: vec![Line {
                        function: Some(profile.functions.len() - 1),
                        line: 1,
                    }],
                });
                locations.insert(0, profile.locations.len() as u32 - 1);
            }
            profile.samples.push(Sample {
                locations,
                values: vec![*value],
                labels: Vec::new(),
            });
        }
        profile
    }

    fn compare(base: &Profile, new: &Profile, normalize: bool) -> Diff {
        let options = FoldOptions::default();
        let measure = fold::measure(new, &options).unwrap();
        let mut comparison = Comparison::new(&measure, &options);
        comparison.add_new(new).unwrap();
        comparison.add_base(base).unwrap();
        comparison.finish(normalize)
    }

    #[test]
    fn stacks_from_either_side_are_kept() {
        let base = profile(&[("a;b", 10), ("a;gone", 5)]);
        let new = profile(&[("a;b", 30), ("a;new", 7)]);
        let d = compare(&base, &new, false);
        let want = vec![
            ("a;b".to_owned(), 10, 30),
            ("a;gone".to_owned(), 5, 0),
            ("a;new".to_owned(), 0, 7),
        ];
        assert_eq!(d.stacks(), want);
        assert_eq!((d.total_before, d.total_after), (15, 37));
        assert!(!d.unchanged());
        assert!(compare(&base, &base, false).unchanged());
        let mut text = Vec::new();
        write_diff(&d, &mut text).unwrap();
        assert_eq!(text, b"a;b 10 30\na;gone 5 0\na;new 0 7\n");
    }

    #[test]
    fn normalize_scales_the_base_to_the_new_total() {
        let base = profile(&[("a", 10), ("b", 10)]);
        let new = profile(&[("a", 30), ("b", 10)]);
        let d = compare(&base, &new, true);
        assert_eq!(
            d.stacks(),
            vec![("a".to_owned(), 20, 30), ("b".to_owned(), 20, 10)]
        );
        assert_eq!(d.total_before, 40);
    }

    #[test]
    fn a_diff_can_be_given_as_folded_stacks() {
        let sample_type = ValueType {
            name: "inuse_space".into(),
            unit: "bytes".into(),
        };
        let d = Diff::from_folded(sample_type, &[("a;b", 1, 2), ("a", 0, 5)]).unwrap();
        assert_eq!(
            d.stacks(),
            vec![("a".to_owned(), 0, 5), ("a;b".to_owned(), 1, 2)]
        );
        assert_eq!((d.total_before, d.total_after), (1, 7));
    }

    #[test]
    fn a_base_of_another_sample_type_is_refused() {
        let new = profile(&[("a", 1)]);
        let mut base = profile(&[("a", 1)]);
        base.sample_types[0].name = "alloc_space".into();
        let options = FoldOptions::default();
        let measure = fold::measure(&new, &options).unwrap();
        let mut comparison = Comparison::new(&measure, &options);
        assert!(matches!(
            comparison.add_base(&base),
            Err(DiffError::SampleTypes { .. })
        ));
    }
}
