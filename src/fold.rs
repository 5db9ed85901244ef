//! Profiles → call trees, and folded stacks (`root;child;leaf value`) as an
//! output format.
//!
//! Owns the choice of sample type (pprof's rules), the naming of frames
//! (made once per distinct frame and interned), and the one pass over the
//! samples that adds each sample's values to its stack's node in a
//! [`CallTree`]: every sample type at once, no string per sample. Folded
//! text is written from the tree, sorted, at the edge.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::profile::{Line, Location, Profile, ValueType};
use crate::tree::{CallTree, FastMap, FrameId, NodeId, TreeError, ROOT};

/// Which sample type to fold, as the user asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SampleSelection {
    /// The profile's `default_sample_type`, else its last sample type.
    #[default]
    Default,
    /// By name (`alloc_space`) or, when it parses as one, by position (`0`).
    Named(String),
}

/// How to reduce the sample values of the chosen type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FoldOptions {
    pub selection: SampleSelection,
    /// Show the mean value per event: the chosen value divided by the first
    /// sample type (pprof's `-mean`; `-mean_delay` is `delay` with this).
    pub mean: bool,
    /// Name frames `function file:line`, one frame per source line (pprof's
    /// `-lines`), instead of by function.
    pub lines: bool,
    /// Leave inlined frames out, keeping the function each address
    /// physically belongs to (pprof's `-noinlines`).
    pub no_inlines: bool,
    /// Name inlined frames `name (inline)`, so a flame graph can show them
    /// apart. Off for folded text, which keeps pprof's names.
    pub mark_inlined: bool,
    /// Stacks leaf first (a flame graph's `--reverse`).
    pub reverse: bool,
}

/// Which values of a tree to show: one sample type, or its mean per event,
/// and in which columns of the tree they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// The sample type's position in the profile.
    pub index: usize,
    pub sample_type: ValueType,
    /// Divided by the first sample type's values (a count of events).
    pub mean: bool,
    /// The tree columns of the values and of the event counts.
    value_column: usize,
    events_column: usize,
}

impl Measure {
    /// `sample_type`, the type at `index` of a profile, read from a tree of
    /// every sample type (see [`tree`]).
    pub fn new(index: usize, sample_type: ValueType, mean: bool) -> Measure {
        Measure {
            index,
            sample_type,
            mean,
            value_column: index,
            events_column: 0,
        }
    }

    /// The value shown for a node with these `values` (one per column).
    pub fn of(&self, values: &[i64]) -> i64 {
        reduce(
            values[self.value_column],
            values[self.events_column],
            self.mean,
        )
    }

    /// The value shown for `node` of `tree`.
    pub fn at(&self, tree: &CallTree, node: NodeId) -> i64 {
        self.of(tree.values(node))
    }

    /// The total pprof reports: the sum of the values' sizes over all
    /// samples, including those without a stack; for a mean, that sum over
    /// the total events.
    pub fn total(&self, tree: &CallTree) -> i64 {
        reduce(
            tree.abs_sum(self.value_column),
            tree.sum(self.events_column),
            self.mean,
        )
    }

    /// The sample types this measure reads: its own, and the event counts
    /// (the first type) for a mean.
    pub fn sample_types(&self) -> Vec<usize> {
        match self.mean {
            true => vec![self.index, 0],
            false => vec![self.index],
        }
    }

    /// This measure read from a tree that holds its sample types (see
    /// [`Measure::sample_types`]) in the columns from `first` on.
    pub fn placed(&self, first: usize) -> Measure {
        Measure {
            value_column: first,
            events_column: first + usize::from(self.mean),
            ..self.clone()
        }
    }

    /// Which sample type goes into which column, for [`fold_into`], when
    /// placed from column `first` on.
    pub fn columns(&self, first: usize) -> Vec<(usize, usize)> {
        self.sample_types()
            .into_iter()
            .enumerate()
            .map(|(offset, sample_type)| (sample_type, first + offset))
            .collect()
    }
}

/// Folded stacks of one sample type, sorted by stack, zero values left out:
/// a tree written out as text, for tests and library users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    pub sample_type: ValueType,
    pub mean: bool,
    pub stacks: Vec<(String, i64)>,
    /// The total pprof reports for this sample type (see [`Measure::total`]).
    pub total: i64,
}

impl Folded {
    /// The lines of `tree` for `measure`.
    pub fn from_tree(tree: &CallTree, measure: &Measure) -> Folded {
        let mut stacks = Vec::new();
        tree.for_each_sorted(
            |node| measure.at(tree, node) != 0,
            |stack, node| {
                stacks.push((stack.to_owned(), measure.at(tree, node)));
                Ok(())
            },
        )
        .expect("collecting lines cannot fail");
        Folded {
            sample_type: measure.sample_type.clone(),
            mean: measure.mean,
            stacks,
            total: measure.total(tree),
        }
    }
}

/// Shown for samples recorded without any stack (goroutine profiles have
/// them), so the flame graph's total still matches pprof's. One word, so
/// that `torch -r | sort -k2 -n` sorts its line by the count too.
pub const NO_STACK_FRAME: &str = "[no-stack]";

/// Added to a frame's name, when drawing, if the function was inlined
/// into its caller (pprof's `-traces` mark).
pub const INLINE_MARK: &str = " (inline)";

/// A frame about which the profile says nothing (pprof's name for it too).
pub const UNKNOWN_FRAME: &str = "<unknown>";

/// Why a fold could not be done.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FoldError {
    #[error("unknown sample type {asked:?}; this profile has: {available}")]
    UnknownSampleType { asked: String, available: String },
    #[error("--mean needs a count as the first sample type, and the profile has only one type")]
    MeanWithoutCount,
    #[error(transparent)]
    Tree(#[from] TreeError),
}

/// Picks the sample type index `selection` names in `profile`.
pub fn select_sample_type(
    profile: &Profile,
    selection: &SampleSelection,
) -> Result<usize, FoldError> {
    match selection {
        SampleSelection::Default => Ok(profile.default_sample_type_index()),
        SampleSelection::Named(asked) => profile
            .sample_type_index(asked)
            .or_else(|| {
                asked
                    .parse()
                    .ok()
                    .filter(|&i| i < profile.sample_types.len())
            })
            .ok_or_else(|| FoldError::UnknownSampleType {
                asked: asked.clone(),
                available: profile.sample_type_names(),
            }),
    }
}

/// What `options` asks to show of `profile`.
pub fn measure(profile: &Profile, options: &FoldOptions) -> Result<Measure, FoldError> {
    let index = select_sample_type(profile, &options.selection)?;
    if options.mean && index == 0 {
        return Err(FoldError::MeanWithoutCount);
    }
    Ok(Measure::new(
        index,
        profile.sample_types[index].clone(),
        options.mean,
    ))
}

/// The call tree of `profile` with every sample type, one column each (the
/// sample type choice of `options` is not used here).
pub fn tree(profile: &Profile, options: &FoldOptions) -> Result<CallTree, FoldError> {
    let count = profile.sample_types.len();
    let mut tree = CallTree::new(count);
    let columns: Vec<(usize, usize)> = (0..count).map(|i| (i, i)).collect();
    fold_into(&mut tree, profile, options, &columns)?;
    tree.finish();
    Ok(tree)
}

/// The call tree of `profile` with only what `measure` reads, and the
/// measure placed in it.
pub fn tree_for(
    profile: &Profile,
    options: &FoldOptions,
    measure: &Measure,
) -> Result<(CallTree, Measure), FoldError> {
    let columns = measure.columns(0);
    let mut tree = CallTree::new(columns.len());
    fold_into(&mut tree, profile, options, &columns)?;
    tree.finish();
    Ok((tree, measure.placed(0)))
}

/// Adds `profile`'s samples to `tree`: each sample's values of the sample
/// types in `columns` (sample type, tree column) go to its stack's node.
///
/// The samples are visited sorted by stack, root first, so each one only
/// walks the frames it does not share with the one before: the nodes of
/// the shared part are already known, and a node just made has no
/// children to look for.
pub fn fold_into(
    tree: &mut CallTree,
    profile: &Profile,
    options: &FoldOptions,
    columns: &[(usize, usize)],
) -> Result<(), FoldError> {
    // pprof prunes the profile's drop_frames before any report.
    let pruned = crate::profile::pruned(profile);
    let profile: &Profile = pruned.as_ref();
    let frames = LocationFrames::new(profile, options, tree)?;
    let no_stack = tree.frames.intern(NO_STACK_FRAME)?;
    let walk = Walk {
        profile,
        frames: &frames,
        reverse: options.reverse,
        no_stack,
    };
    walk.add(tree, columns)?;
    Ok(())
}

/// How many samples ahead the tree walk asks for a sample's stack and
/// values.
const PREFETCH_DISTANCE: usize = 16;

/// The sorted walk over a profile's samples that builds a call tree: each
/// location's frames, where a sample without a stack goes, and which way
/// round.
struct Walk<'a> {
    profile: &'a Profile,
    frames: &'a LocationFrames,
    reverse: bool,
    no_stack: FrameId,
}

impl Walk<'_> {
    /// Refuses a stack whose folded text would be absurd (a thousand
    /// frames of a thousand inlined lines of a 10 kB name: 10 GB from a
    /// profile of 130 bytes). Exact sums are only made for samples whose
    /// depth times the longest location could exceed the limit, which no
    /// real profile's do.
    fn check_stack_text(&self, tree: &CallTree) -> Result<(), TreeError> {
        const LIMIT: u64 = 64 << 20;
        let text_of: Vec<u64> = (0..self.frames.spans.len())
            .map(|location| {
                let frames = self.frames.of(location);
                let names = frames.iter().map(|&f| tree.frames.name(f).len() as u64 + 1);
                names.fold(0u64, u64::saturating_add)
            })
            .collect();
        let longest = text_of.iter().copied().max().unwrap_or(0);
        for sample in &self.profile.samples {
            let depth = sample.locations.len() as u64;
            if depth.saturating_mul(longest) <= LIMIT {
                continue;
            }
            let text = sample
                .locations
                .iter()
                .map(|&l| text_of[l as usize])
                .fold(0u64, u64::saturating_add);
            if text > LIMIT {
                let frames = sample
                    .locations
                    .iter()
                    .map(|&l| self.frames.of(l as usize).len());
                return Err(TreeError::StackTooLong {
                    frames: frames.sum(),
                    megabytes: text >> 20,
                    limit: LIMIT >> 20,
                });
            }
        }
        Ok(())
    }

    /// About how many frames the samples' stacks hold, which bounds the
    /// nodes a tree of them needs: their locations times the mean number
    /// of frames per location.
    fn frames_estimate(&self) -> usize {
        let samples = &self.profile.samples;
        let locations = samples.total_locations();
        let per_location = self.frames.ids.len() as f64 / self.frames.spans.len().max(1) as f64;
        (locations as f64 * per_location.max(1.0)) as usize + samples.len() + 1
    }

    /// Adds the samples to `tree`, the values of the sample types in
    /// `columns` (sample type, tree column).
    ///
    /// The samples are visited sorted by stack, root first, so each one
    /// only walks the frames it does not share with the one before: the
    /// nodes of the shared part are already known, and a node just made
    /// has no children to look for.
    fn add(&self, tree: &mut CallTree, columns: &[(usize, usize)]) -> Result<(), TreeError> {
        let profile = self.profile;
        self.check_stack_text(tree)?;
        tree.reserve(self.frames_estimate());
        tree.reserve_endings(profile.samples.len());
        let stacks = Stacks {
            profile,
            reverse: self.reverse,
            alike: &self.frames.alike,
        };
        // The node reached after each location of the previous sample.
        let mut path: Vec<NodeId> = Vec::new();
        let mut previous: &[u32] = &[];
        let order = stacks.sorted();
        let order = &order[..];
        // A goroutine dump's samples say how long they waited; the tree
        // keeps the longest per stack, for the graph's tooltips.
        let samples = &profile.samples;
        let waited = samples.get(0).is_some_and(|s| wait_of(s.labels).is_some());
        let reader = stacks.reader();
        for (position, &(_, locations, index)) in order.iter().enumerate() {
            // Samples are visited out of memory order: ask for the next
            // ones early, or each waits on two cache misses.
            if let Some(&(_, stack, ahead)) = order.get(position + PREFETCH_DISTANCE) {
                samples.prefetch_values(ahead);
                reader.prefetch(stack, 0);
            }
            let node = if locations.is_empty() {
                tree.child(ROOT, self.no_stack)?
            } else {
                let shared = stacks.shared(previous, locations);
                path.truncate(shared);
                let mut builder = PathBuilder {
                    tree: &mut *tree,
                    node: path.last().copied().unwrap_or(ROOT),
                    fresh: false,
                };
                if self.reverse {
                    for &location in &locations[shared..] {
                        for &frame in self.frames.of(location as usize).iter().rev() {
                            builder.step(frame)?;
                        }
                        path.push(builder.node);
                    }
                } else {
                    for &location in locations[..locations.len() - shared].iter().rev() {
                        for &frame in self.frames.of(location as usize) {
                            builder.step(frame)?;
                        }
                        path.push(builder.node);
                    }
                }
                builder.node
            };
            previous = locations;
            if let Some(minutes) = waited.then(|| wait_of(samples.labels_of(index))).flatten() {
                tree.raise(node, minutes);
            }
            let slot = tree.slot(node);
            let values = samples.values_of(index);
            for &(sample_type, column) in columns {
                let value = values.get(sample_type).copied().unwrap_or(0);
                tree.add_at(slot, column, value);
            }
        }
        Ok(())
    }
}

/// Walks down a tree one frame at a time.
struct PathBuilder<'t> {
    tree: &'t mut CallTree,
    node: NodeId,
    /// `node` was just made, so it has no children to look for.
    fresh: bool,
}

impl PathBuilder<'_> {
    #[inline]
    fn step(&mut self, frame: FrameId) -> Result<(), TreeError> {
        self.node = match self.fresh {
            true => self.tree.add_child(self.node, frame)?,
            false => {
                let (child, made) = self.tree.find_or_add(self.node, frame)?;
                self.fresh = made;
                child
            }
        };
        Ok(())
    }
}

/// The samples' stacks in the order a tree is built: root first, or leaf
/// first for a reversed graph; locations with the same frames count as one.
struct Stacks<'a> {
    profile: &'a Profile,
    reverse: bool,
    alike: &'a [u32],
}

impl Stacks<'_> {
    /// The samples' stacks and positions, sorted by stack so that
    /// neighbours share most of their frames.
    fn sorted(&self) -> Vec<Entry<'_>> {
        let samples = &self.profile.samples;
        multikey_sort(
            0..samples.len(),
            |sample| samples.stack(sample),
            &self.reader(),
        )
    }

    /// How the sort reads the stacks.
    fn reader(&self) -> KeyReader<'_> {
        KeyReader::new(self.reverse, self.alike)
    }

    /// How many locations, in tree order, two stacks begin with alike.
    fn shared(&self, a: &[u32], b: &[u32]) -> usize {
        let alike =
            |(&x, &y): (&u32, &u32)| x == y || self.alike[x as usize] == self.alike[y as usize];
        match self.reverse {
            true => a.iter().zip(b).take_while(|&pair| alike(pair)).count(),
            false => a
                .iter()
                .rev()
                .zip(b.iter().rev())
                .take_while(|&pair| alike(pair))
                .count(),
        }
    }
}

/// Reads the sort keys of stacks: several locations at a time, in tree
/// order, each as its `alike` id plus one (0 past the end) in a field of
/// `bits` bits, first location in the highest field. Fewer keys to read
/// means fewer cache misses: 4 locations per key when a profile has fewer
/// than 65,535 locations, as most have.
struct KeyReader<'a> {
    /// The stack is read first to last (a reversed graph), not last to
    /// first (root first: pprof stores the leaf first).
    forward: bool,
    /// The id a location is sorted by.
    alike: &'a [u32],
    /// Bits per location in a key.
    bits: u32,
    /// Locations per key.
    per_key: usize,
}

/// A stack being sorted: its key at the depth its range is sorted on, the
/// stack, and the sample it belongs to.
type Entry<'s> = (u64, &'s [u32], usize);

impl KeyReader<'_> {
    fn new(forward: bool, alike: &[u32]) -> KeyReader<'_> {
        // Ids plus one, and 0 for "ended".
        let largest = alike
            .iter()
            .copied()
            .max()
            .map_or(1, |id| u64::from(id) + 1);
        let bits = (u64::BITS - largest.leading_zeros()).max(1);
        KeyReader {
            forward,
            alike,
            bits,
            per_key: (u64::BITS / bits) as usize,
        }
    }

    /// Locations `per_key × depth` onward of `stack` in tree order, as one
    /// number that orders as they do. A stack that ends within them has 0
    /// in the lowest field ([`ends`](Self::ends)).
    #[inline]
    fn key(&self, stack: &[u32], depth: usize) -> u64 {
        let first = self.per_key * depth;
        let mut key = 0u64;
        for position in first..first + self.per_key {
            let id = match position < stack.len() {
                false => 0,
                true => {
                    let location = match self.forward {
                        true => stack[position],
                        false => stack[stack.len() - 1 - position],
                    };
                    u64::from(self.alike[location as usize]) + 1
                }
            };
            key = (key << self.bits) | id;
        }
        key
    }

    /// Whether a stack with this key ends within it.
    #[inline]
    fn ends(&self, key: u64) -> bool {
        key & ((1 << self.bits) - 1) == 0
    }

    /// Brings in the cache line of the stack's locations at `depth`.
    #[inline]
    fn prefetch(&self, stack: &[u32], depth: usize) {
        let position = match self.forward {
            true => self.per_key * depth,
            false => stack.len().wrapping_sub(1 + self.per_key * depth),
        };
        if let Some(location) = stack.get(position) {
            crate::profile::prefetch(location);
        }
    }
}

/// `items` with their stacks (`stack_of`), sorted by stack as `reader`
/// reads them: multikey quicksort. Stacks share long prefixes, which a
/// comparison sort reads again in every comparison; here each partition
/// looks at one key (a few locations).
///
/// With enough items and two cores, once partitioning has left no range
/// larger than a quarter of the whole, the ranges are dealt to two
/// threads: they are disjoint and sorted on their own, so nothing is
/// merged afterwards.
fn multikey_sort<'s>(
    items: impl ExactSizeIterator<Item = usize>,
    stack_of: impl Fn(usize) -> &'s [u32],
    reader: &KeyReader<'_>,
) -> Vec<Entry<'s>> {
    const WORTH_A_THREAD: usize = 50_000;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let small = match items.len() >= WORTH_A_THREAD && cores >= 2 {
        true => items.len() / 4,
        false => 0,
    };
    multikey_sort_split(items, stack_of, reader, small)
}

/// [`multikey_sort`], dealing ranges of at most `small` items to two
/// threads (0: all on this one).
fn multikey_sort_split<'s>(
    items: impl Iterator<Item = usize>,
    stack_of: impl Fn(usize) -> &'s [u32],
    reader: &KeyReader<'_>,
    small: usize,
) -> Vec<Entry<'s>> {
    // Each item's key at the depth its range is sorted on is read once and
    // kept beside it, with its stack: reading the key means a cache miss
    // (the stack is somewhere in hundreds of megabytes), and a range is
    // partitioned several times at the same depth.
    let mut keyed: Vec<Entry<'s>> = items
        .map(|item| {
            let stack = stack_of(item);
            (reader.key(stack, 0), stack, item)
        })
        .collect();
    let whole = Range {
        start: 0,
        end: keyed.len(),
        depth: 0,
    };
    let mut left = partition_ranges(&mut keyed, vec![whole], reader, small);
    if !left.is_empty() {
        left.sort_unstable_by_key(|range| range.start);
        let (mine, theirs) = deal(&mut keyed, &left);
        std::thread::scope(|scope| {
            scope.spawn(|| sort_parts(theirs, reader));
            sort_parts(mine, reader);
        });
    }
    keyed
}

/// A range of the keyed items that agrees before key `depth`, whose keys
/// are those at `depth`.
#[derive(Debug, Clone, Copy)]
struct Range {
    start: usize,
    end: usize,
    depth: usize,
}

/// Keyed items, and the depth they are keyed at.
type Part<'k, 's> = (&'k mut [Entry<'s>], usize);

/// Sorts each part on its own.
fn sort_parts(parts: Vec<Part<'_, '_>>, reader: &KeyReader<'_>) {
    for (part, depth) in parts {
        let whole = Range {
            start: 0,
            end: part.len(),
            depth,
        };
        partition_ranges(part, vec![whole], reader, 0);
    }
}

/// Cuts the `ranges` (disjoint, in order) out of `keyed` and deals them,
/// largest first, to two lists of about equal size.
fn deal<'k, 's>(
    keyed: &'k mut [Entry<'s>],
    ranges: &[Range],
) -> (Vec<Part<'k, 's>>, Vec<Part<'k, 's>>) {
    let mut parts = Vec::with_capacity(ranges.len());
    let (mut rest, mut offset) = (keyed, 0);
    for range in ranges {
        let (_, tail) = rest.split_at_mut(range.start - offset);
        let (part, tail) = tail.split_at_mut(range.end - range.start);
        parts.push((part, range.depth));
        (rest, offset) = (tail, range.end);
    }
    parts.sort_unstable_by_key(|(part, _)| std::cmp::Reverse(part.len()));
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    let (mut my_load, mut their_load) = (0, 0);
    for part in parts {
        let (list, load) = match my_load <= their_load {
            true => (&mut mine, &mut my_load),
            false => (&mut theirs, &mut their_load),
        };
        *load += part.0.len();
        list.push(part);
    }
    (mine, theirs)
}

/// Partitions the `work` ranges of `keyed` until each is sorted, except
/// that ranges of at most `small` items are set aside, unsorted, and
/// returned. A list, not recursion: stacks may be a million deep.
fn partition_ranges(
    keyed: &mut [Entry<'_>],
    mut work: Vec<Range>,
    reader: &KeyReader<'_>,
    small: usize,
) -> Vec<Range> {
    const SMALL: usize = 12;
    let mut set_aside = Vec::new();
    while let Some(range) = work.pop() {
        let Range { start, end, depth } = range;
        let part = &mut keyed[start..end];
        if part.len() < 2 {
            continue;
        }
        if part.len() <= small {
            set_aside.push(range);
            continue;
        }
        let mut depth = depth;
        // Depths every item agrees at are skipped in one scan each.
        while part.iter().all(|entry| entry.0 == part[0].0) {
            if reader.ends(part[0].0) {
                // Every stack ended here: all alike.
                break;
            }
            depth += 1;
            refill(part, depth, reader);
        }
        if part.iter().all(|entry| entry.0 == part[0].0) {
            continue;
        }
        if part.len() <= SMALL {
            part.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| match reader.ends(a.0) {
                    true => std::cmp::Ordering::Equal,
                    false => compare_from(a.1, b.1, depth + 1, reader),
                })
            });
            continue;
        }
        let (first, middle, last) = (part[0].0, part[part.len() / 2].0, part[part.len() - 1].0);
        let pivot = median(first, middle, last);
        // Three ways: below the pivot, equal to it, above it.
        let (mut below, mut i, mut above) = (0, 0, part.len());
        while i < above {
            match part[i].0.cmp(&pivot) {
                std::cmp::Ordering::Less => {
                    part.swap(below, i);
                    below += 1;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    above -= 1;
                    part.swap(i, above);
                }
                std::cmp::Ordering::Equal => i += 1,
            }
        }
        let range = |from: usize, to: usize, depth: usize| Range {
            start: start + from,
            end: start + to,
            depth,
        };
        work.push(range(0, below, depth));
        work.push(range(above, part.len(), depth));
        // Stacks that ended here are all alike.
        if !reader.ends(pivot) {
            refill(&mut part[below..above], depth + 1, reader);
            work.push(range(below, above, depth + 1));
        }
    }
    set_aside
}

/// Sets each item's key to its key at `depth`.
fn refill(part: &mut [Entry<'_>], depth: usize, reader: &KeyReader<'_>) {
    // The stacks are far apart in memory: ask for some ahead of time.
    const AHEAD: usize = 8;
    for i in 0..part.len() {
        if let Some(ahead) = part.get(i + AHEAD) {
            reader.prefetch(ahead.1, depth);
        }
        let entry = &mut part[i];
        entry.0 = reader.key(entry.1, depth);
    }
}

/// Two stacks compared from key `depth` on.
fn compare_from(
    a: &[u32],
    b: &[u32],
    mut depth: usize,
    reader: &KeyReader<'_>,
) -> std::cmp::Ordering {
    loop {
        let (x, y) = (reader.key(a, depth), reader.key(b, depth));
        if x != y || reader.ends(x) {
            return x.cmp(&y);
        }
        depth += 1;
    }
}

fn median(a: u64, b: u64, c: u64) -> u64 {
    a.max(b).min(a.min(b).max(c))
}

/// pprof's total of `measure` in `profile` (see [`Measure::total`]),
/// without folding.
pub fn total(profile: &Profile, measure: &Measure) -> i64 {
    let (mut total, mut events) = (0i64, 0i64);
    for sample in &profile.samples {
        let value = |index: usize| sample.values.get(index).copied().unwrap_or(0);
        total = total.saturating_add(value(measure.index).saturating_abs());
        events = events.saturating_add(value(0));
    }
    reduce(total, events, measure.mean)
}

/// Folds `profile`'s samples into sorted stacks of the chosen sample type.
pub fn fold(profile: &Profile, options: &FoldOptions) -> Result<Folded, FoldError> {
    let measure = measure(profile, options)?;
    let tree = tree(profile, options)?;
    Ok(Folded::from_tree(&tree, &measure))
}

/// Writes `stack value` lines, sorted by stack, one per stack whose value
/// is not zero.
pub fn write_folded(tree: &CallTree, measure: &Measure, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut number = [0u8; 20];
    tree.for_each_sorted(
        |node| measure.at(tree, node) != 0,
        |stack, node| {
            out.write_all(stack.as_bytes())?;
            out.write_all(b" ")?;
            out.write_all(format_i64(&mut number, measure.at(tree, node)))?;
            out.write_all(b"\n")
        },
    )?;
    out.flush()
}

/// `value` in decimal, without an allocation.
pub(crate) fn format_i64(buffer: &mut [u8; 20], value: i64) -> &[u8] {
    let mut at = buffer.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    &buffer[at..]
}

/// A value, or a mean per event truncated like pprof's integer division.
/// The minutes a goroutine dump's sample waited, if it is one.
fn wait_of(labels: &[crate::profile::Label]) -> Option<i64> {
    labels.iter().find_map(|label| match &label.value {
        crate::profile::LabelValue::Num { value, .. }
            if &*label.key == crate::profile::dump::WAIT_LABEL =>
        {
            Some(*value)
        }
        _ => None,
    })
}

fn reduce(value: i64, events: i64, mean: bool) -> i64 {
    match (mean, events) {
        (false, _) => value,
        (true, 0) => 0,
        (true, events) => value.checked_div(events).unwrap_or(i64::MAX),
    }
}

/// Each location's frames, root-side first (`outer`, then what was inlined
/// into it), as interned frame ids.
pub(crate) struct LocationFrames {
    ids: Vec<FrameId>,
    /// Per location: where its frames start in `ids`, and how many.
    spans: Vec<(usize, usize)>,
    /// Per location: the first location with the same frames. Stacks are
    /// sorted by these, so that stacks that differ only in their
    /// addresses (a function called from several lines of another) sit
    /// side by side and the tree walk never comes back to a node.
    alike: Vec<u32>,
}

impl LocationFrames {
    /// Frames given per location (root-side first), by the caller's own
    /// numbering.
    pub(crate) fn from_lists<'a>(lists: impl Iterator<Item = &'a [FrameId]>) -> LocationFrames {
        let mut ids = Vec::new();
        let mut spans = Vec::new();
        for list in lists {
            spans.push((ids.len(), list.len()));
            ids.extend_from_slice(list);
        }
        LocationFrames::from_spans(ids, spans)
    }

    fn from_spans(ids: Vec<FrameId>, spans: Vec<(usize, usize)>) -> LocationFrames {
        let mut first_with: FastMap<&[FrameId], u32> = FastMap::default();
        let alike: Vec<u32> = spans
            .iter()
            .enumerate()
            .map(|(location, &(start, len))| {
                let frames = &ids[start..start + len];
                let location = u32::try_from(location).unwrap_or(u32::MAX);
                *first_with.entry(frames).or_insert(location)
            })
            .collect();
        drop(first_with);
        LocationFrames { ids, spans, alike }
    }

    fn new(
        profile: &Profile,
        options: &FoldOptions,
        tree: &mut CallTree,
    ) -> Result<LocationFrames, TreeError> {
        // Sorting keeps a location's id plus one in 32 bits.
        if profile.locations.len() >= u32::MAX as usize {
            return Err(TreeError::TooLarge);
        }
        let mut namer = Namer {
            profile,
            options,
            named: FastMap::default(),
        };
        let mut ids = Vec::new();
        let mut spans = Vec::with_capacity(profile.locations.len());
        for location in &profile.locations {
            let start = ids.len();
            namer.location_frames(location, tree, &mut ids)?;
            spans.push((start, ids.len() - start));
        }
        Ok(LocationFrames::from_spans(ids, spans))
    }

    pub(crate) fn of(&self, location: usize) -> &[FrameId] {
        let (start, len) = self.spans[location];
        &self.ids[start..start + len]
    }
}

/// Makes each distinct frame's display name once.
struct Namer<'a> {
    profile: &'a Profile,
    options: &'a FoldOptions,
    /// (function, line when named by line, marked inlined) → frame.
    named: FastMap<(usize, i64, bool), FrameId>,
}

impl Namer<'_> {
    /// Pushes `location`'s frames. Named lines become frames; a line
    /// without a name shows as `<unknown>`, as pprof shows it. A location
    /// with no name at all shows its address, unless that is 0 or Go's
    /// all-ones padding, which mean nothing either.
    fn location_frames(
        &mut self,
        location: &Location,
        tree: &mut CallTree,
        ids: &mut Vec<FrameId>,
    ) -> Result<(), TreeError> {
        let lines = shown_lines(location, self.options.no_inlines);
        let named = |line: &Line| {
            line.function
                .filter(|&f| !self.profile.functions[f].name.is_empty())
        };
        if lines.iter().all(|line| named(line).is_none()) {
            let frame = unnamed_location_frame(location.address);
            let id = tree.frames.intern(&frame)?;
            ids.extend(std::iter::repeat_n(id, lines.len().max(1)));
            return Ok(());
        }
        for (i, line) in lines.iter().rev().enumerate() {
            // Every line but the outermost was inlined into the one before.
            let inlined = i > 0 && self.options.mark_inlined;
            let id = match named(line) {
                Some(function) => self.function_frame(function, line.line, inlined, tree)?,
                None if inlined => tree
                    .frames
                    .intern(&format!("{UNKNOWN_FRAME}{INLINE_MARK}"))?,
                None => tree.frames.intern(UNKNOWN_FRAME)?,
            };
            ids.push(id);
        }
        Ok(())
    }

    fn function_frame(
        &mut self,
        function: usize,
        line: i64,
        inlined: bool,
        tree: &mut CallTree,
    ) -> Result<FrameId, TreeError> {
        let line = if self.options.lines { line } else { 0 };
        if let Some(&id) = self.named.get(&(function, line, inlined)) {
            return Ok(id);
        }
        let function_info = &self.profile.functions[function];
        let mut name = match self.options.lines {
            true => clean_frame_name(&line_frame_name(function_info, line)).into_owned(),
            false => clean_frame_name(&function_info.name).into_owned(),
        };
        if inlined {
            name.push_str(INLINE_MARK);
        }
        let id = tree.frames.intern(&name)?;
        self.named.insert((function, line, inlined), id);
        Ok(id)
    }
}

/// The lines of `location` a report shows, innermost first: all of them,
/// or with `no_inlines` only the last, the function the code physically
/// belongs to.
pub(crate) fn shown_lines(location: &Location, no_inlines: bool) -> &[Line] {
    match no_inlines {
        true => &location.lines[location.lines.len().saturating_sub(1)..],
        false => &location.lines[..],
    }
}

/// The frame of a location nothing names: its address, unless that is 0
/// or Go's all-ones padding, which mean nothing either.
pub(crate) fn unnamed_location_frame(address: u64) -> Cow<'static, str> {
    match address {
        0 | u64::MAX => Cow::Borrowed(UNKNOWN_FRAME),
        address => Cow::Owned(format!("0x{address:x}")),
    }
}

/// `function file:line` as pprof names a frame with `-lines`: the line when
/// known, else the file, else the function alone.
pub(crate) fn line_frame_name(function: &crate::profile::Function, line: i64) -> String {
    match (function.filename.as_str(), line) {
        ("", _) => function.name.clone(),
        (file, 0) => format!("{} {file}", function.name),
        (file, line) => format!("{} {file}:{line}", function.name),
    }
}

/// Makes a function name safe as one frame of a folded line: `;` separates
/// frames (Go generic shapes contain `; `), control characters would break
/// lines, and a trailing ` <digits>` would be read as the sample count.
pub fn clean_frame_name(name: &str) -> Cow<'_, str> {
    let needs_work =
        name.contains(|c: char| c == ';' || c.is_control()) || ends_with_space_digits(name);
    if !needs_work {
        return Cow::Borrowed(name);
    }
    let mut cleaned: String = name
        .chars()
        .map(|c| match c {
            ';' => ':',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if ends_with_space_digits(&cleaned) {
        let space = cleaned.rfind(' ').expect("checked above");
        cleaned.replace_range(space..=space, "_");
    }
    Cow::Owned(cleaned)
}

fn ends_with_space_digits(name: &str) -> bool {
    let bytes = name.as_bytes();
    let digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    digits > 0 && bytes.len() > digits && bytes[bytes.len() - digits - 1] == b' '
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Function, Sample};

    /// `main.main` calling an inlined `main.helper`, plus a sample with no
    /// stack and one with an unnamed location.
    fn profile() -> Profile {
        let named = |name: &str| Function {
            name: name.into(),
            ..Function::default()
        };
        let line = |function| Line {
            function: Some(function),
            line: 1,
        };
        let sample = |locations: Vec<u32>, values: Vec<i64>| Sample {
            locations,
            values,
            labels: Vec::new(),
        };
        Profile {
            sample_types: vec![
                ValueType {
                    name: "contentions".into(),
                    unit: "count".into(),
                },
                ValueType {
                    name: "delay".into(),
                    unit: "nanoseconds".into(),
                },
            ],
            functions: vec![named("main.main"), named("main.helper")],
            locations: vec![
                Location {
                    address: 0x1000,
                    mapping: None,
                    lines: vec![line(1), line(0)],
                },
                Location {
                    address: 0x2000,
                    mapping: None,
                    lines: Vec::new(),
                },
            ],
            samples: vec![
                sample(vec![0], vec![2, 100]),
                sample(vec![], vec![1, 7]),
                sample(vec![1, 0], vec![1, 50]),
                sample(vec![0], vec![2, 60]),
            ]
            .into(),
            ..Profile::default()
        }
    }

    fn fold_one(profile: &Profile, mean: bool) -> Folded {
        let options = FoldOptions {
            selection: SampleSelection::Default,
            mean,
            lines: false,
            no_inlines: false,
            mark_inlined: false,
            reverse: false,
        };
        fold(profile, &options).unwrap()
    }

    #[test]
    fn drawing_marks_inlined_frames() {
        let options = FoldOptions {
            mark_inlined: true,
            ..FoldOptions::default()
        };
        let folded = fold(&profile(), &options).unwrap();
        assert_eq!(folded.stacks[1].0, "main.main;main.helper (inline)");
        assert_eq!(folded.stacks[2].0, "main.main;main.helper (inline);0x2000");
    }

    #[test]
    fn inlined_frames_empty_stacks_and_addresses() {
        let folded = fold_one(&profile(), false);
        let want = vec![
            ("[no-stack]".to_owned(), 7),
            ("main.main;main.helper".to_owned(), 160),
            ("main.main;main.helper;0x2000".to_owned(), 50),
        ];
        assert_eq!(folded.stacks, want);
        assert_eq!(folded.total, 217);
    }

    #[test]
    fn no_inlines_keeps_the_physical_function() {
        let options = FoldOptions {
            no_inlines: true,
            ..FoldOptions::default()
        };
        let folded = fold(&profile(), &options).unwrap();
        assert_eq!(folded.stacks[1], ("main.main".to_owned(), 160));
    }

    #[test]
    fn mean_divides_merged_sums() {
        let folded = fold_one(&profile(), true);
        assert_eq!(folded.stacks[1], ("main.main;main.helper".to_owned(), 40));
        assert_eq!(folded.total, 217 / 6);
    }

    #[test]
    fn names_lose_separators_and_trailing_counts() {
        assert_eq!(
            clean_frame_name("slices.SortFunc[go.shape.struct { a string; b []int }]"),
            "slices.SortFunc[go.shape.struct { a string: b []int }]"
        );
        assert_eq!(clean_frame_name("weird 123"), "weird_123");
        assert_eq!(clean_frame_name("line\nbreak 7"), "line break_7");
        assert_eq!(clean_frame_name("main.main"), "main.main");
        assert_eq!(clean_frame_name("123"), "123");
    }

    /// Sequences with long shared prefixes, prefixes of each other,
    /// repeats and empty ones: a small generator, seeded for repeats.
    fn sequences() -> Vec<Vec<u32>> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        let mut sequences: Vec<Vec<u32>> = Vec::new();
        for _ in 0..3000 {
            let shared = next(40) as usize;
            let mut sequence: Vec<u32> = (0..shared as u32).map(|i| i % 3).collect();
            for _ in 0..next(7) {
                sequence.push(next(6) as u32);
            }
            sequences.push(sequence);
        }
        sequences.push(Vec::new());
        sequences.push(vec![0; 101]);
        sequences.push(vec![0; 100]);
        sequences
    }

    /// `multikey_sort_split` of `sequences`, read forward or backward,
    /// with locations 4 and 5 sorted as 1, against a plain sort; with
    /// small ids (21 locations per key) and large ones (2 per key).
    fn check_multikey_sort(sequences: &[Vec<u32>], forward: bool, small: usize) {
        for scale in [1, 1 << 22] {
            let alike = [0, 1, 2, 3, 1, 1].map(|id| id * scale);
            check_multikey_sort_with(sequences, &alike, forward, small);
        }
    }

    fn check_multikey_sort_with(
        sequences: &[Vec<u32>],
        alike: &[u32],
        forward: bool,
        small: usize,
    ) {
        let in_tree_order = |sequence: &Vec<u32>| -> Vec<u32> {
            let ids = sequence.iter().map(|&l| alike[l as usize]);
            match forward {
                true => ids.collect(),
                false => ids.rev().collect(),
            }
        };
        let reader = KeyReader::new(forward, alike);
        assert_eq!(reader.per_key, if alike[3] < 4 { 21 } else { 2 });
        let order = multikey_sort_split(0..sequences.len(), |i| &sequences[i], &reader, small);
        let sorted: Vec<Vec<u32>> = order
            .iter()
            .map(|&(_, _, i)| in_tree_order(&sequences[i]))
            .collect();
        let mut expected: Vec<Vec<u32>> = sequences.iter().map(in_tree_order).collect();
        expected.sort();
        assert_eq!(sorted, expected, "forward {forward}, small {small}");
    }

    #[test]
    fn multikey_sort_orders_as_comparing_whole_sequences() {
        let sequences = sequences();
        for forward in [true, false] {
            check_multikey_sort(&sequences, forward, 0);
        }
    }

    #[test]
    fn multikey_sort_on_two_threads_orders_the_same() {
        let sequences = sequences();
        for small in [1, 40, sequences.len() / 4] {
            check_multikey_sort(&sequences, false, small);
        }
    }
}
