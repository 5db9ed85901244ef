//! A profile against a base (`--base OLD NEW`): per stack, the value before
//! and after, the way `go tool pprof -base` subtracts them. The two call
//! trees are merged into one with two columns (before, after), stacks
//! matched by their frames; stacks found in only one of the two are kept
//! with 0 on the other side, so what vanished is still there to show.

use std::io::{self, Write};

use crate::fold::{format_i64, Measure};
use crate::profile::ValueType;
use crate::tree::{CallTree, NodeId, TreeError};

/// The column of the base's values in [`Diff::tree`].
pub const BEFORE: usize = 0;
/// The column of the new profile's values in [`Diff::tree`].
pub const AFTER: usize = 1;

/// The stacks of a base and a newer profile, side by side.
#[derive(Debug, Clone)]
pub struct Diff {
    pub sample_type: ValueType,
    /// Both profiles' stacks: [`BEFORE`] and [`AFTER`] values per node.
    pub tree: CallTree,
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
    Tree(#[from] TreeError),
}

/// One side of a comparison: a folded tree and what to show of it.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub tree: &'a CallTree,
    pub measure: &'a Measure,
}

/// Pairs `base` with `new`, both measured with the same sample type. With
/// `normalize`, every base value is scaled by new total / base total first.
pub fn diff(base: Side, new: Side, normalize: bool) -> Result<Diff, DiffError> {
    if base.measure.sample_type != new.measure.sample_type {
        return Err(DiffError::SampleTypes {
            base: base.measure.sample_type.name.clone(),
            new: new.measure.sample_type.name.clone(),
        });
    }
    let (base_total, new_total) = (base.measure.total(base.tree), new.measure.total(new.tree));
    let scale = match (normalize, base_total) {
        (true, total) if total != 0 => Some(new_total as f64 / total as f64),
        _ => None,
    };
    let scaled = |value: i64| match scale {
        Some(scale) => (value as f64 * scale).round() as i64,
        None => value,
    };
    let mut tree = CallTree::new(2);
    tree.merge_column(base.tree, BEFORE, |node| {
        scaled(base.measure.at(base.tree, node))
    })?;
    tree.merge_column(new.tree, AFTER, |node| new.measure.at(new.tree, node))?;
    tree.finish();
    Ok(Diff {
        sample_type: new.measure.sample_type.clone(),
        tree,
        total_before: scaled(base_total),
        total_after: new_total,
        normalized: normalize,
    })
}

impl Diff {
    /// The value before and after at `node`.
    pub fn change(&self, node: NodeId) -> (i64, i64) {
        let values = self.tree.values(node);
        (values[BEFORE], values[AFTER])
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
    use crate::tree::ROOT;

    fn side(stacks: &[(&str, i64)]) -> (CallTree, Measure) {
        let mut tree = CallTree::new(1);
        for (stack, value) in stacks {
            let mut node = ROOT;
            for frame in stack.split(';') {
                let frame = tree.frames.intern(frame).unwrap();
                node = tree.child(node, frame).unwrap();
            }
            tree.add(node, &[*value]);
        }
        let measure = Measure {
            index: 0,
            sample_type: ValueType {
                name: "inuse_space".into(),
                unit: "bytes".into(),
            },
            mean: false,
        };
        (tree, measure)
    }

    fn compare(base: &(CallTree, Measure), new: &(CallTree, Measure), normalize: bool) -> Diff {
        fn side((tree, measure): &(CallTree, Measure)) -> Side<'_> {
            Side { tree, measure }
        }
        diff(side(base), side(new), normalize).unwrap()
    }

    #[test]
    fn stacks_from_either_side_are_kept() {
        let base = side(&[("a;b", 10), ("a;gone", 5)]);
        let new = side(&[("a;b", 30), ("a;new", 7)]);
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
        let base = side(&[("a", 10), ("b", 10)]);
        let new = side(&[("a", 30), ("b", 10)]);
        let d = compare(&base, &new, true);
        assert_eq!(
            d.stacks(),
            vec![("a".to_owned(), 20, 30), ("b".to_owned(), 20, 10)]
        );
        assert_eq!(d.total_before, 40);
    }
}
