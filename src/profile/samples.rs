//! The samples of a profile, stored flat: every stack end to end in one
//! list, every value in another, and each distinct set of labels once.
//!
//! A deep heap profile has millions of samples. Held as a record with
//! three lists of its own, each sample cost three allocations and 72 bytes
//! of bookkeeping besides its stack; here it costs its locations, its
//! values and 12 bytes. Readers get a [`SampleRef`] of slices; writers
//! push owned [`Sample`]s, and change samples through [`Samples::edit`],
//! which hands each one over as a `Sample` and stores it back.

use std::sync::Arc;

use super::{Label, Sample};
use crate::tree::FastMap;

/// Every sample of a profile, in order.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Values per sample: the longest a sample brought. Shorter ones are
    /// padded with zeros, which is what a missing value counts as.
    width: usize,
    /// Where each sample's stack ends in `stacks`.
    stack_ends: Vec<usize>,
    /// The stacks, sample after sample: indices into
    /// [`Profile::locations`](super::Profile::locations), leaf first.
    stacks: Vec<u32>,
    /// `width` values per sample, sample after sample.
    values: Vec<i64>,
    /// Each sample's label set: 0 for none, else a position in
    /// `label_sets` plus one.
    label_set: Vec<u32>,
    label_sets: LabelSets,
}

/// One sample, borrowed from [`Samples`].
#[derive(Debug, Clone, Copy)]
pub struct SampleRef<'a> {
    /// Indices into [`Profile::locations`](super::Profile::locations), leaf first.
    pub locations: &'a [u32],
    /// One value per sample type.
    pub values: &'a [i64],
    pub labels: &'a [Label],
}

impl SampleRef<'_> {
    /// The sample as an owned record.
    pub fn to_owned(&self) -> Sample {
        Sample {
            locations: self.locations.to_vec(),
            values: self.values.to_vec(),
            labels: self.labels.to_vec(),
        }
    }
}

/// Distinct label sets, each stored once: a heap profile's samples all
/// carry a `bytes` label of one of a few hundred sizes.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelSets {
    sets: Vec<Arc<[Label]>>,
    ids: FastMap<Arc<[Label]>, u32>,
}

impl LabelSets {
    /// The id of `labels` (0 for none), given a new one the first time.
    pub(crate) fn intern(&mut self, labels: &[Label]) -> u32 {
        if labels.is_empty() {
            return 0;
        }
        if let Some(&id) = self.ids.get(labels) {
            return id;
        }
        let set: Arc<[Label]> = Arc::from(labels);
        self.sets.push(Arc::clone(&set));
        // Sets are interned per sample, so there are never more than
        // samples, which decoders keep far below 2³².
        let id = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        self.ids.insert(set, id);
        id
    }

    /// The sets, the one with id `n` at `n - 1`.
    pub(crate) fn into_sets(self) -> Vec<Arc<[Label]>> {
        self.sets
    }

    fn get(&self, id: u32) -> &[Label] {
        match id {
            0 => &[],
            id => self.sets.get(id as usize - 1).map_or(&[], |set| &set[..]),
        }
    }
}

impl Samples {
    /// No samples, each to hold `width` values.
    pub fn with_width(width: usize) -> Samples {
        Samples {
            width,
            ..Samples::default()
        }
    }

    pub fn len(&self) -> usize {
        self.stack_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stack_ends.is_empty()
    }

    /// How many locations all the stacks hold together.
    pub fn total_locations(&self) -> usize {
        self.stacks.len()
    }

    /// Sample `index`, if there is one.
    #[inline]
    pub fn get(&self, index: usize) -> Option<SampleRef<'_>> {
        (index < self.len()).then(|| self.at(index))
    }

    /// Sample `index`; panics past the end, as indexing a list does.
    #[inline]
    pub fn at(&self, index: usize) -> SampleRef<'_> {
        SampleRef {
            locations: self.stack(index),
            values: self.values_of(index),
            labels: self.labels_of(index),
        }
    }

    /// Sample `index`'s stack, leaf first.
    #[inline]
    pub fn stack(&self, index: usize) -> &[u32] {
        &self.stacks[self.stack_start(index)..self.stack_ends[index]]
    }

    #[inline]
    fn stack_start(&self, index: usize) -> usize {
        match index {
            0 => 0,
            _ => self.stack_ends[index - 1],
        }
    }

    /// Sample `index`'s values, one per sample type.
    #[inline]
    pub fn values_of(&self, index: usize) -> &[i64] {
        &self.values[index * self.width..(index + 1) * self.width]
    }

    /// Sample `index`'s labels.
    #[inline]
    pub fn labels_of(&self, index: usize) -> &[Label] {
        self.label_sets.get(self.label_set[index])
    }

    /// Asks the processor to fetch sample `index`'s values into the
    /// cache, without waiting for them. Walks that visit samples out of
    /// memory order (sorted by stack) ask a few samples ahead; otherwise
    /// each sample costs a cache miss in turn.
    #[inline]
    pub fn prefetch_values(&self, index: usize) {
        if let Some(value) = self.values.get(index * self.width) {
            prefetch(value);
        }
    }

    /// Sample `index`'s values, to change in place.
    pub fn values_mut(&mut self, index: usize) -> &mut [i64] {
        let width = self.width;
        &mut self.values[index * width..(index + 1) * width]
    }

    /// Every sample's values, to change in place.
    pub fn for_each_values_mut(&mut self, mut change: impl FnMut(&mut [i64])) {
        if self.width == 0 {
            return;
        }
        self.values
            .chunks_exact_mut(self.width)
            .for_each(&mut change);
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            samples: self,
            next: 0,
        }
    }

    /// Adds a sample.
    pub fn push(&mut self, sample: Sample) {
        self.push_parts(&sample.locations, &sample.values, &sample.labels);
    }

    /// Adds a sample given as its parts.
    pub fn push_parts(&mut self, locations: &[u32], values: &[i64], labels: &[Label]) {
        let set = self.label_sets.intern(labels);
        self.push_with_set(locations, values, set);
    }

    /// [`push_parts`](Self::push_parts) with the labels' set id known.
    fn push_with_set(&mut self, locations: &[u32], values: &[i64], set: u32) {
        if values.len() > self.width {
            self.widen(values.len());
        }
        self.stacks.extend_from_slice(locations);
        self.stack_ends.push(self.stacks.len());
        self.values.extend_from_slice(values);
        let padding = self.width - values.len();
        self.values.extend(std::iter::repeat_n(0, padding));
        self.label_set.push(set);
    }

    /// The set id of `labels`: `set`, if that is what they are (an edit
    /// that left them alone), else looked up.
    fn set_of(&mut self, labels: &[Label], set: u32) -> u32 {
        match labels == self.label_sets.get(set) {
            true => set,
            false => self.label_sets.intern(labels),
        }
    }

    /// Makes room for `samples` more samples of `locations` locations in all.
    pub fn reserve(&mut self, samples: usize, locations: usize) {
        self.stack_ends.reserve_exact(samples);
        self.label_set.reserve_exact(samples);
        self.values
            .reserve_exact(samples.saturating_mul(self.width));
        self.stacks.reserve_exact(locations);
    }

    /// Pads every sample's values with zeros to `width`.
    fn widen(&mut self, width: usize) {
        let old = self.width;
        let mut values = Vec::with_capacity(self.len() * width);
        if old == 0 {
            values.resize(self.len() * width, 0);
        } else {
            for chunk in self.values.chunks_exact(old) {
                values.extend_from_slice(chunk);
                values.extend(std::iter::repeat_n(0, width - old));
            }
        }
        self.values = values;
        self.width = width;
    }

    /// Keeps the samples `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(SampleRef<'_>) -> bool) {
        self.edit(|sample| keep(sample.as_ref()));
    }

    /// Hands each sample to `change` as an owned record to change, and
    /// keeps it (as changed) if `change` says so. The record is reused
    /// from one sample to the next, and the samples are rewritten in
    /// place, so this allocates nothing per sample; only a sample that
    /// grows past what has been read, or brings more values, moves the
    /// samples after it to a list of their own.
    pub fn edit(&mut self, mut change: impl FnMut(&mut Sample) -> bool) {
        let width = self.width;
        let mut sample = Sample::default();
        // Samples kept so far and their stacks' length: the front of each
        // list is rewritten, never past what has been read.
        let (mut kept, mut written) = (0, 0);
        let mut read_start = 0;
        for index in 0..self.len() {
            let read_end = self.stack_ends[index];
            let set = self.label_set[index];
            sample.locations.clear();
            sample
                .locations
                .extend_from_slice(&self.stacks[read_start..read_end]);
            sample.values.clear();
            sample.values.extend_from_slice(self.values_of(index));
            sample.labels.clear();
            sample.labels.extend_from_slice(self.label_sets.get(set));
            if !change(&mut sample) {
                read_start = read_end;
                continue;
            }
            let length = sample.locations.len();
            if written + length > read_end || sample.values.len() != width {
                let rest = self.tail(index + 1, read_end);
                self.truncate(kept, written);
                let set = self.set_of(&sample.labels, set);
                self.push_with_set(&sample.locations, &sample.values, set);
                for mut sample in rest.into_owned() {
                    if change(&mut sample) {
                        self.push_parts(&sample.locations, &sample.values, &sample.labels);
                    }
                }
                return;
            }
            self.stacks[written..written + length].copy_from_slice(&sample.locations);
            written += length;
            self.stack_ends[kept] = written;
            self.values[kept * width..(kept + 1) * width].copy_from_slice(&sample.values);
            self.label_set[kept] = self.set_of(&sample.labels, set);
            kept += 1;
            read_start = read_end;
        }
        self.truncate(kept, written);
    }

    /// A copy of the samples from `first` on, whose stacks start at
    /// `stack_start`.
    fn tail(&self, first: usize, stack_start: usize) -> Samples {
        Samples {
            width: self.width,
            stack_ends: self.stack_ends[first..]
                .iter()
                .map(|end| end - stack_start)
                .collect(),
            stacks: self.stacks[stack_start..].to_vec(),
            values: self.values[first * self.width..].to_vec(),
            label_set: self.label_set[first..].to_vec(),
            label_sets: self.label_sets.clone(),
        }
    }

    /// Keeps the first `samples` samples, whose stacks are `locations` long.
    fn truncate(&mut self, samples: usize, locations: usize) {
        self.stack_ends.truncate(samples);
        self.stacks.truncate(locations);
        self.values.truncate(samples * self.width);
        self.label_set.truncate(samples);
    }

    /// The samples as owned records, one at a time.
    fn into_owned(self) -> impl Iterator<Item = Sample> {
        (0..self.len()).map(move |index| self.at(index).to_owned())
    }
}

impl Sample {
    /// The sample as [`Samples`] hands it out.
    pub fn as_ref(&self) -> SampleRef<'_> {
        SampleRef {
            locations: &self.locations,
            values: &self.values,
            labels: &self.labels,
        }
    }
}

/// Asks the processor to bring `value`'s cache line in.
#[inline]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let address: *const i8 = (value as *const T).cast();
        // SAFETY: prefetching has no effect on memory and cannot fault.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// The samples of [`Samples::iter`].
pub struct Iter<'a> {
    samples: &'a Samples,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = SampleRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<SampleRef<'a>> {
        let sample = self.samples.get(self.next)?;
        self.next += 1;
        Some(sample)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.samples.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Samples {
    type Item = SampleRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<Sample> for Samples {
    fn from_iter<I: IntoIterator<Item = Sample>>(samples: I) -> Samples {
        let mut all = Samples::default();
        for sample in samples {
            all.push(sample);
        }
        all
    }
}

impl From<Vec<Sample>> for Samples {
    fn from(samples: Vec<Sample>) -> Samples {
        samples.into_iter().collect()
    }
}

/// The pieces a decoder fills in place, on several threads at once: see
/// [`Samples::from_parts`].
pub(crate) struct Parts {
    pub width: usize,
    pub stack_ends: Vec<usize>,
    pub stacks: Vec<u32>,
    pub values: Vec<i64>,
    pub label_set: Vec<u32>,
    /// The label sets the ids in `label_set` stand for (id − 1).
    pub label_sets: Vec<Arc<[Label]>>,
}

impl Samples {
    /// Samples from pieces a decoder filled. Ids in `label_set` must stand
    /// for `label_sets` (0 for none), `stack_ends` must rise to at most
    /// the stacks' length, and `values` hold `width` per sample; pieces
    /// that do not are cut to what fits.
    pub(crate) fn from_parts(parts: Parts) -> Samples {
        let Parts {
            width,
            mut stack_ends,
            stacks,
            mut values,
            mut label_set,
            label_sets,
        } = parts;
        let mut count = stack_ends.len().min(label_set.len());
        if let Some(fits) = values.len().checked_div(width) {
            count = count.min(fits);
        }
        stack_ends.truncate(count);
        label_set.truncate(count);
        values.truncate(count * width);
        let mut ids = FastMap::default();
        for (position, set) in label_sets.iter().enumerate() {
            let id = u32::try_from(position + 1).unwrap_or(u32::MAX);
            ids.entry(Arc::clone(set)).or_insert(id);
        }
        let sets = label_sets.len();
        for id in &mut label_set {
            if *id as usize > sets {
                *id = 0;
            }
        }
        let mut end_so_far = 0;
        for end in &mut stack_ends {
            *end = (*end).clamp(end_so_far, stacks.len());
            end_so_far = *end;
        }
        Samples {
            width,
            stack_ends,
            stacks,
            values,
            label_set,
            label_sets: LabelSets {
                sets: label_sets,
                ids,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::LabelValue;

    fn label(key: &str, value: i64) -> Label {
        Label {
            key: key.into(),
            value: LabelValue::Num { value, unit: None },
        }
    }

    fn sample(locations: &[u32], values: &[i64], labels: &[Label]) -> Sample {
        Sample {
            locations: locations.to_vec(),
            values: values.to_vec(),
            labels: labels.to_vec(),
        }
    }

    #[test]
    fn samples_read_back_as_pushed_and_share_label_sets() {
        let bytes = [label("bytes", 8)];
        let all: Samples = vec![
            sample(&[3, 2, 1], &[1, 8], &bytes),
            sample(&[], &[2, 16], &[]),
            sample(&[1], &[3, 24], &bytes),
        ]
        .into();
        assert_eq!(all.len(), 3);
        assert_eq!(all.at(0).locations, [3, 2, 1]);
        assert_eq!(all.at(1).locations, [] as [u32; 0]);
        assert_eq!(all.at(2).values, [3, 24]);
        assert_eq!(all.at(2).labels, bytes);
        assert_eq!(all.label_sets.sets.len(), 1, "one set for two samples");
        let stacks: Vec<usize> = all.iter().map(|s| s.locations.len()).collect();
        assert_eq!(stacks, [3, 0, 1]);
        assert!(all.get(3).is_none());
    }

    #[test]
    fn shorter_values_are_padded_and_longer_ones_widen_all() {
        let mut all = Samples::with_width(2);
        all.push(sample(&[1], &[5], &[]));
        assert_eq!(all.at(0).values, [5, 0]);
        all.push(sample(&[2], &[1, 2, 3], &[]));
        assert_eq!(all.at(0).values, [5, 0, 0]);
        assert_eq!(all.at(1).values, [1, 2, 3]);
    }

    #[test]
    fn edits_change_drop_and_grow_samples() {
        let mut all: Samples = vec![
            sample(&[1, 2], &[1], &[]),
            sample(&[3], &[2], &[label("a", 1)]),
            sample(&[4, 5, 6], &[3], &[]),
        ]
        .into();
        all.edit(|s| {
            if s.values[0] == 2 {
                return false;
            }
            s.locations.push(9);
            s.values[0] *= 10;
            s.labels.push(label("b", 2));
            true
        });
        assert_eq!(all.len(), 2);
        assert_eq!(all.at(0).locations, [1, 2, 9]);
        assert_eq!(all.at(1).locations, [4, 5, 6, 9]);
        assert_eq!(all.at(1).values, [30]);
        assert_eq!(all.at(1).labels, [label("b", 2)]);
        all.retain(|s| s.locations.len() > 3);
        assert_eq!(all.len(), 1);
        assert_eq!(all.at(0).values, [30]);
        all.for_each_values_mut(|v| v[0] = -v[0]);
        assert_eq!(all.at(0).values, [-30]);
    }

    #[test]
    fn edits_shrink_in_place_until_one_grows() {
        let mut all: Samples = (0..6u32)
            .map(|i| sample(&[i, i + 10, i + 20], &[i64::from(i)], &[]))
            .collect();
        all.edit(|s| match s.values[0] {
            1 => false,
            4 => {
                s.locations.extend([7, 7, 7, 7]);
                true
            }
            _ => {
                s.locations.truncate(1);
                true
            }
        });
        let stacks: Vec<Vec<u32>> = all.iter().map(|s| s.locations.to_vec()).collect();
        assert_eq!(
            stacks,
            [
                vec![0],
                vec![2],
                vec![3],
                vec![4, 14, 24, 7, 7, 7, 7],
                vec![5]
            ]
        );
        let values: Vec<i64> = all.iter().map(|s| s.values[0]).collect();
        assert_eq!(values, [0, 2, 3, 4, 5]);
    }

    #[test]
    fn parts_that_do_not_fit_are_cut_not_trusted() {
        let all = Samples::from_parts(Parts {
            width: 1,
            stack_ends: vec![2, 1, 9],
            stacks: vec![7, 8, 9],
            values: vec![1, 2],
            label_set: vec![0, 5, 0],
            label_sets: Vec::new(),
        });
        assert_eq!(all.len(), 2);
        assert_eq!(all.at(0).locations, [7, 8]);
        assert_eq!(all.at(1).locations, [] as [u32; 0]);
        assert_eq!(all.at(1).labels, [] as [Label; 0]);
    }
}
