//! pprof's "top" table: for one sample type, every function's flat value
//! (samples where it is the innermost frame) and cum value (samples where it
//! appears at all, counted once per sample), sorted, and written as text.
//!
//! Owns the node model of `go tool pprof -top`: which frames become the same
//! node (by function name, or by `function file:line` with `-lines`; inlined
//! frames are nodes of their own unless `-noinlines`), the flat and cum sums
//! (with `-mean`, divided by the event counts), the order (flat or cum, then
//! name), pprof's trimming of nodes below a fraction of the total, and the
//! `(inline)` marks. The sample type comes from [`crate::fold`]'s rules.
//!
//! The sums come from a call tree whose frames are the table's nodes (with
//! an inline bit), walked once per pass: a node's cum is added where it
//! first appears on a path, which is pprof's "once per sample", for every
//! sample below at once.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::fold::{select_sample_type, FoldError, FoldOptions, LocationFrames};
use crate::profile::{LabelValue, Line, Location, Profile, SampleRef, ValueType};
use crate::tree::{FastMap, FrameId};
use crate::units;

/// pprof's default `-nodefraction`: nodes whose cum is below this share of
/// the total are dropped from the table.
pub const DEFAULT_NODE_FRACTION: f64 = 0.005;

/// pprof's default `-edgefraction`: call edges below this share of the total
/// do not count when marking a function `(inline)`.
pub const DEFAULT_EDGE_FRACTION: f64 = 0.001;

/// How to build the table beyond what [`FoldOptions`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct TopOptions {
    /// Sort by cum instead of flat (pprof's `-cum`).
    pub by_cum: bool,
    /// Drop nodes whose |cum| is below this share of the summed flat values
    /// (pprof's `-nodefraction`; 0 keeps every node).
    pub node_fraction: f64,
    /// Ignore call edges below this share when marking inlined functions
    /// (pprof's `-edgefraction`).
    pub edge_fraction: f64,
    /// Keep only the first this many rows, as pprof's `-nodecount` does:
    /// the marks are then worked out among those rows only (a caller left
    /// out no longer makes its callee `(inline)`). 0 keeps all.
    pub node_count: usize,
    /// pprof's total per sample type, when the profile given has been
    /// filtered since: pprof's percentages are of the unfiltered total.
    pub totals: Option<Vec<i64>>,
    /// The filters applied, `focus=Marshal`, for pprof's `Active filters:`.
    pub active_filters: Vec<String>,
}

impl Default for TopOptions {
    fn default() -> Self {
        TopOptions {
            by_cum: false,
            node_fraction: DEFAULT_NODE_FRACTION,
            edge_fraction: DEFAULT_EDGE_FRACTION,
            node_count: 0,
            totals: None,
            active_filters: Vec::new(),
        }
    }
}

/// Whether a function was reached through inlining, as pprof marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Inlined {
    /// Only called for real (or never called: a root).
    #[default]
    No,
    /// Only ever inlined into its callers: `(inline)`.
    Always,
    /// Inlined into some callers, called by others: `(partial-inline)`.
    Partly,
}

impl Inlined {
    /// The mark pprof prints after the name; empty for [`Inlined::No`].
    pub fn label(self) -> &'static str {
        match self {
            Inlined::No => "",
            Inlined::Always => "(inline)",
            Inlined::Partly => "(partial-inline)",
        }
    }
}

/// One line of the table: a function (or source line, with `-lines`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopRow {
    /// Value of the samples whose innermost frame is this node.
    pub flat: i64,
    /// Value of the samples this node appears in, once per sample.
    pub cum: i64,
    /// The name exactly as pprof prints it (not cleaned for folded text).
    pub name: String,
    pub inlined: Inlined,
}

/// The whole table for one sample type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    pub sample_type: ValueType,
    /// Values are means per event (`-mean`): the type's value divided by the
    /// first sample type.
    pub mean: bool,
    /// pprof's total: the sum of the values' sizes over all samples (with a
    /// stack or not); with `mean`, that sum over the summed event counts.
    pub total: i64,
    /// Sorted by flat (or cum), then name.
    pub rows: Vec<TopRow>,
    /// How many rows there were before [`TopOptions::node_count`] kept the
    /// first ones: pprof's `Showing top N nodes out of M`.
    pub all_nodes: usize,
    /// Nodes left out because their cum was below the node fraction.
    pub dropped_nodes: usize,
    /// The filters applied (pprof's `Active filters:`).
    pub active_filters: Vec<String>,
    /// The limit pprof names in `Dropped N nodes (cum <= X)`: the total
    /// times the node fraction.
    pub dropped_cutoff: i64,
}

impl Top {
    /// The summed flat values of the first `limit` rows (all of them for
    /// `None` or `Some(0)`): pprof's "Showing nodes accounting for X".
    pub fn shown_total(&self, limit: Option<usize>) -> i64 {
        self.shown(limit)
            .iter()
            .fold(0i64, |sum, row| sum.wrapping_add(row.flat))
    }

    /// The rows a `limit` shows; `None` and `Some(0)` show all of them, as
    /// pprof's `-nodecount=0` does.
    pub fn shown(&self, limit: Option<usize>) -> &[TopRow] {
        match limit {
            Some(n) if n > 0 && n < self.rows.len() => &self.rows[..n],
            _ => &self.rows,
        }
    }
}

/// The table `go tool pprof -top` prints with its default options: nodes
/// whose cum is under 0.5 % of the total are dropped (and counted in
/// [`Top::dropped_nodes`]). `by_cum` sorts as `-cum` does.
pub fn top(profile: &Profile, options: &FoldOptions, by_cum: bool) -> Result<Top, FoldError> {
    let top_options = TopOptions {
        by_cum,
        ..TopOptions::default()
    };
    top_with(profile, options, &top_options)
}

/// [`top`] with pprof's `-nodefraction`, `-edgefraction` and `-nodecount`
/// chosen.
pub fn top_with(
    profile: &Profile,
    options: &FoldOptions,
    top_options: &TopOptions,
) -> Result<Top, FoldError> {
    let index = select_sample_type(profile, &options.selection)?;
    if options.mean && index == 0 {
        return Err(FoldError::MeanWithoutCount);
    }
    let tables = Tables::new(profile, options);
    Ok(tables.table(profile, index, top_options))
}

/// What the top tables of one profile are computed from, for any of its
/// sample types: the table's nodes, and each location's frames as nodes.
pub struct Tables {
    nodes: Nodes,
    /// Per location, root side first: `node × 2`, plus 1 when the frame was
    /// inlined into its caller (every line of a location but the last).
    frames: LocationFrames,
    mean: bool,
}

impl Tables {
    /// The nodes of `profile`'s tables, as `options` groups frames.
    pub fn new(profile: &Profile, options: &FoldOptions) -> Tables {
        let nodes = Nodes::new(profile, options);
        let lists: Vec<Vec<FrameId>> = nodes
            .per_location
            .iter()
            .map(|ids| {
                // Outermost (physical) function first, inlined callees after.
                let last = ids.len().saturating_sub(1);
                ids.iter()
                    .enumerate()
                    .rev()
                    .map(|(depth, &node)| node as FrameId * 2 + FrameId::from(depth != last))
                    .collect()
            })
            .collect();
        Tables {
            frames: LocationFrames::from_lists(lists.iter().map(Vec::as_slice)),
            nodes,
            mean: options.mean,
        }
    }

    /// The table of the sample type at `index`.
    pub fn table(&self, profile: &Profile, index: usize, top_options: &TopOptions) -> Top {
        let mut tables = self.tables(profile, &[index], top_options);
        tables.pop().expect("one table per sample type")
    }

    /// The tables of the sample types at `indices`, from two passes over
    /// the samples whatever their number: one for every type's sums, one
    /// for every type's call edges.
    pub fn tables(
        &self,
        profile: &Profile,
        indices: &[usize],
        top_options: &TopOptions,
    ) -> Vec<Top> {
        let pass = Pass::new(self, profile, indices);
        let weights = pass.weights();
        // Every table names its rows alike: made once.
        let names: Vec<String> = self
            .nodes
            .keys
            .iter()
            .map(NodeKey::printable_name)
            .collect();
        let planned: Vec<Planned> = indices
            .iter()
            .zip(weights)
            .map(|(&index, weights)| self.plan(index, weights, &names, top_options))
            .collect();
        // Dropping nodes loses the flat values of samples whose innermost
        // frame was dropped, and leaves every kept node's sums as they
        // were; only the edges change, now skipping over dropped callers.
        let kept: Vec<&[bool]> = planned.iter().map(|plan| &plan.kept[..]).collect();
        let edges = pass.edges(&kept);
        planned
            .into_iter()
            .zip(edges)
            .map(|(plan, edges)| self.finish_table(profile, plan, &edges, &names, top_options))
            .collect()
    }

    /// The rows of one table in order, and which nodes its edges join.
    fn plan(
        &self,
        index: usize,
        mut weights: Vec<Weights>,
        names: &[String],
        top_options: &TopOptions,
    ) -> Planned {
        let nodes = &self.nodes;
        let count = nodes.keys.len();
        // The cut-offs are fractions of the summed flat values, before any mean.
        let flat_sum = weights.iter().fold(0i64, |sum, w| sum.wrapping_add(w.flat));
        let node_cutoff = fraction_of(flat_sum, top_options.node_fraction);
        let kept: Vec<bool> = weights
            .iter()
            .map(|w| w.present() && (node_cutoff <= 0 || w.cum.wrapping_abs() >= node_cutoff))
            .collect();
        let present_count = weights.iter().filter(|w| w.present()).count();
        let dropped_nodes = present_count - kept.iter().filter(|&&k| k).count();
        for (weights, &kept) in weights.iter_mut().zip(&kept) {
            if !kept {
                *weights = Weights::default();
            }
        }

        let mut order: Vec<usize> = (0..count).filter(|&n| kept[n]).collect();
        let by_cum = top_options.by_cum;
        order.sort_unstable_by(|&a, &b| {
            let (wa, wb) = (&weights[a], &weights[b]);
            let (first_a, second_a) = match by_cum {
                false => (wa.flat, wa.cum),
                true => (wa.cum, wa.flat),
            };
            let (first_b, second_b) = match by_cum {
                false => (wb.flat, wb.cum),
                true => (wb.cum, wb.flat),
            };
            first_b
                .wrapping_abs()
                .cmp(&first_a.wrapping_abs())
                .then_with(|| names[a].cmp(&names[b]))
                // pprof stops at the name: nodes that print the same name are
                // left in map order. Break those ties deterministically.
                .then_with(|| second_b.wrapping_abs().cmp(&second_a.wrapping_abs()))
                .then_with(|| nodes.keys[a].go_value().cmp(&nodes.keys[b].go_value()))
        });

        let all_nodes = order.len();
        let rows_kept = top_options.node_count;
        let kept = if rows_kept > 0 && rows_kept < all_nodes {
            // Only the first rows, whose sums stay the same; the edges (and
            // so the marks) now join the kept rows only.
            order.truncate(rows_kept);
            let mut rows = vec![false; count];
            for &n in &order {
                rows[n] = true;
            }
            rows
        } else {
            kept
        };
        Planned {
            index,
            edge_cutoff: fraction_of(flat_sum, top_options.edge_fraction),
            weights,
            order,
            kept,
            all_nodes,
            dropped_nodes,
        }
    }

    /// The table of a plan, its rows marked from its edges.
    fn finish_table(
        &self,
        profile: &Profile,
        plan: Planned,
        edges: &Edges,
        names: &[String],
        top_options: &TopOptions,
    ) -> Top {
        let Planned {
            index,
            edge_cutoff,
            weights,
            order,
            all_nodes,
            dropped_nodes,
            ..
        } = plan;
        let inlined = inline_marks(edges, edge_cutoff, names.len());
        let rows = order
            .into_iter()
            .map(|n| TopRow {
                flat: weights[n].flat_value(),
                cum: weights[n].cum_value(),
                name: names[n].clone(),
                inlined: inlined[n],
            })
            .collect();
        let total = match &top_options.totals {
            Some(totals) => totals[index],
            None => total(profile, index, self.mean),
        };
        Top {
            sample_type: profile.sample_types[index].clone(),
            mean: self.mean,
            active_filters: top_options.active_filters.clone(),
            total,
            rows,
            all_nodes,
            dropped_nodes,
            dropped_cutoff: fraction_of(total, top_options.node_fraction),
        }
    }
}

/// One table worked out up to its inline marks.
struct Planned {
    index: usize,
    edge_cutoff: i64,
    weights: Vec<Weights>,
    /// The rows, as node positions.
    order: Vec<usize>,
    /// The nodes the table's call edges join.
    kept: Vec<bool>,
    all_nodes: usize,
    dropped_nodes: usize,
}

/// `|value × fraction|`, truncated as Go converts a float to an integer.
fn fraction_of(value: i64, fraction: f64) -> i64 {
    (((value as f64) * fraction) as i64).wrapping_abs()
}

/// pprof's total: the sum of |value| over all samples (over those of the
/// diff base only, when some samples are marked `pprof::base`), divided by
/// the summed event counts for a mean.
pub fn total(profile: &Profile, index: usize, mean: bool) -> i64 {
    let (mut total, mut events, mut base_total, mut base_events) = (0i64, 0i64, 0i64, 0i64);
    for sample in &profile.samples {
        let value = sample.values[index].wrapping_abs();
        let count = if mean { sample.values[0] } else { 0 };
        total = total.wrapping_add(value);
        events = events.wrapping_add(count);
        let base = sample.labels.iter().any(|l| {
            &*l.key == "pprof::base" && matches!(&l.value, LabelValue::Str(v) if &**v == "true")
        });
        if base {
            base_total = base_total.wrapping_add(value);
            base_events = base_events.wrapping_add(count);
        }
    }
    if base_total > 0 {
        (total, events) = (base_total, base_events);
    }
    match events {
        0 => total,
        events => total.wrapping_div(events),
    }
}

/// What makes two frames the same node, as pprof's node info does after
/// aggregating to function (or line) granularity. Functions without a name
/// stay apart by binary and start line, and print as `[binary]` or
/// `<unknown>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NodeKey {
    name: String,
    file: String,
    line: i64,
    objfile: String,
    start_line: i64,
}

impl NodeKey {
    fn new(profile: &Profile, location: &Location, line: &Line, with_lines: bool) -> NodeKey {
        let objfile = location
            .mapping
            .map(|m| profile.mappings[m].filename.clone())
            .unwrap_or_default();
        let Some(function) = line.function.map(|f| &profile.functions[f]) else {
            return NodeKey {
                name: String::new(),
                file: String::new(),
                line: 0,
                objfile,
                start_line: 0,
            };
        };
        let unnamed = function.name.is_empty();
        NodeKey {
            name: function.name.clone(),
            file: match (with_lines, function.filename.as_str()) {
                (true, file) if !file.is_empty() => clean_path(file),
                _ => String::new(),
            },
            line: if with_lines { line.line } else { 0 },
            objfile: if unnamed { objfile } else { String::new() },
            start_line: if unnamed { function.start_line } else { 0 },
        }
    }

    /// `name file:line`, `name file` or `name`; without a name, the
    /// binary's base name in brackets, else `<unknown>`.
    fn printable_name(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.name.is_empty() {
            parts.push(self.name.clone());
        }
        if self.line != 0 {
            parts.push(format!("{}:{}", self.file, self.line));
        } else if !self.file.is_empty() {
            parts.push(self.file.clone());
        } else if self.name.is_empty() {
            parts.push(match self.objfile.as_str() {
                "" => crate::fold::UNKNOWN_FRAME.to_owned(),
                objfile => format!("[{}]", base_name(objfile)),
            });
        }
        parts.join(" ")
    }

    /// The key as Go's `%v` prints pprof's node info, its last tie-break.
    fn go_value(&self) -> String {
        format!(
            "{{{}  0 {} {} {} 0 {}}}",
            self.name, self.file, self.start_line, self.line, self.objfile
        )
    }
}

/// The last element of a slash-separated path, as Go's `filepath.Base`.
fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        _ if trimmed.is_empty() => "/",
        Some(slash) => &trimmed[slash + 1..],
        None => trimmed,
    }
}

/// A path reduced lexically as Go's `filepath.Clean` does: no repeated
/// or trailing slashes, no `.` elements, `..` resolved where it can be.
fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Every distinct node, and the nodes of each location's lines (innermost
/// first, as the location lists them).
struct Nodes {
    keys: Vec<NodeKey>,
    per_location: Vec<Vec<usize>>,
}

impl Nodes {
    fn new(profile: &Profile, options: &FoldOptions) -> Nodes {
        let mut ids: HashMap<NodeKey, usize> = HashMap::new();
        let mut keys = Vec::new();
        // A location without lines still makes one (unnamed) node.
        let no_line = [Line::default()];
        let per_location = profile
            .locations
            .iter()
            .map(|location| {
                let lines = match (location.lines.len(), options.no_inlines) {
                    (0, _) => &no_line[..],
                    (n, true) => &location.lines[n - 1..],
                    (_, false) => &location.lines[..],
                };
                lines
                    .iter()
                    .map(|line| {
                        let key = NodeKey::new(profile, location, line, options.lines);
                        *ids.entry(key).or_insert_with_key(|key| {
                            keys.push(key.clone());
                            keys.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        Nodes { keys, per_location }
    }
}

/// One node's sums: values and, for a mean, event counts.
#[derive(Debug, Clone, Copy, Default)]
struct Weights {
    flat: i64,
    flat_events: i64,
    cum: i64,
    cum_events: i64,
}

impl Weights {
    /// pprof keeps a node in its graph unless both sums are zero.
    fn present(&self) -> bool {
        self.flat != 0 || self.cum != 0
    }

    fn flat_value(&self) -> i64 {
        divide(self.flat, self.flat_events)
    }

    fn cum_value(&self) -> i64 {
        divide(self.cum, self.cum_events)
    }
}

fn divide(value: i64, events: i64) -> i64 {
    match events {
        0 => value,
        events => value.wrapping_div(events),
    }
}

/// A caller → callee edge: its weight, and whether every time it was
/// counted the callee was an inlined frame.
#[derive(Debug, Clone, Copy)]
struct Edge {
    weight: i64,
    inline: bool,
    /// The last sample that counted it (plus one), to count it once per
    /// sample.
    counted_in: usize,
}

/// The edges of one table, keyed by (caller, callee).
type Edges = FastMap<(usize, usize), Edge>;

/// No table node: no counted frame yet.
const NO_KEY: usize = usize::MAX;

/// The passes over the samples for several sample types at once, as
/// pprof builds its graph: each sample adds its value to every node on its
/// stack once, and to every call edge between counted nodes once.
struct Pass<'a> {
    tables: &'a Tables,
    profile: &'a Profile,
    /// The sample types walked.
    indices: &'a [usize],
    /// The values a pass adds up: each type's, then for a mean the event
    /// counts (sample type 0).
    carried: Vec<usize>,
}

impl<'a> Pass<'a> {
    fn new(tables: &'a Tables, profile: &'a Profile, indices: &'a [usize]) -> Pass<'a> {
        let mut carried = indices.to_vec();
        if tables.mean {
            carried.push(0);
        }
        Pass {
            tables,
            profile,
            indices,
            carried,
        }
    }

    /// Whether `sample` counts for the sample type at `index`: pprof skips
    /// samples with neither a value nor (for a mean) an event count.
    fn counts(&self, sample: SampleRef<'_>, index: usize) -> bool {
        let value = |index: usize| sample.values.get(index).copied().unwrap_or(0);
        value(index) != 0 || (self.tables.mean && value(0) != 0)
    }

    /// `sample`'s frames, root first: (table node, inlined into its caller).
    fn frames<'s>(&'s self, sample: SampleRef<'s>) -> impl Iterator<Item = (usize, bool)> + 's {
        sample.locations.iter().rev().flat_map(|&location| {
            self.tables
                .frames
                .of(location as usize)
                .iter()
                .map(|&frame| (frame as usize / 2, frame % 2 == 1))
        })
    }

    /// Every node's flat and cum sums, per sample type: cum adds each
    /// sample's value once to every node on its stack, flat to its
    /// innermost frame.
    ///
    /// A sample that does not count for a type adds nothing to it, as its
    /// value (and event count) there is zero; so all types share one pass.
    fn weights(&self) -> Vec<Vec<Weights>> {
        let width = self.carried.len();
        let count = self.tables.nodes.keys.len();
        let mut flat = vec![0i64; count * width];
        let mut cum = vec![0i64; count * width];
        // Per node: the last sample (plus one) that added to its cum.
        let mut counted_in = vec![0usize; count];
        let mut values = vec![0i64; width];
        for (position, sample) in self.profile.samples.iter().enumerate() {
            for (value, &index) in values.iter_mut().zip(&self.carried) {
                *value = sample.values.get(index).copied().unwrap_or(0);
            }
            if values.iter().all(|&value| value == 0) {
                continue;
            }
            let mut leaf = NO_KEY;
            for (key, _) in self.frames(sample) {
                leaf = key;
                if counted_in[key] != position + 1 {
                    counted_in[key] = position + 1;
                    add_all(&mut cum[key * width..][..width], &values);
                }
            }
            if leaf != NO_KEY {
                add_all(&mut flat[leaf * width..][..width], &values);
            }
        }
        let events = self.tables.mean.then_some(width - 1);
        (0..self.indices.len())
            .map(|t| {
                (0..count)
                    .map(|key| {
                        let at = key * width;
                        let of = |sums: &[i64], column: Option<usize>| {
                            column.map_or(0, |column| sums[at + column])
                        };
                        Weights {
                            flat: flat[at + t],
                            flat_events: of(&flat, events),
                            cum: cum[at + t],
                            cum_events: of(&cum, events),
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Per sample type, the call edges between the nodes `kept[type]`
    /// marks, nodes outside it skipped over as if absent: each counting
    /// sample adds its value once to every edge on its stack.
    fn edges(&self, kept: &[&[bool]]) -> Vec<Edges> {
        let types = self.indices.len();
        let count = self.tables.nodes.keys.len();
        // Most nodes are kept by no type and need no look at all.
        let kept_by_any: Vec<bool> = (0..count)
            .map(|key| kept.iter().any(|kept| kept[key]))
            .collect();
        let mut edges = vec![Edges::default(); types];
        let mut callers = vec![NO_KEY; types];
        let mut counting = vec![false; types];
        for (position, sample) in self.profile.samples.iter().enumerate() {
            for (counts, &index) in counting.iter_mut().zip(self.indices) {
                *counts = self.counts(sample, index);
            }
            if !counting.contains(&true) {
                continue;
            }
            callers.fill(NO_KEY);
            for (key, inline) in self.frames(sample) {
                if !kept_by_any[key] {
                    continue;
                }
                for t in 0..types {
                    if !counting[t] || !kept[t][key] {
                        continue;
                    }
                    let caller = std::mem::replace(&mut callers[t], key);
                    if caller == NO_KEY || caller == key {
                        continue;
                    }
                    let edge = edges[t].entry((caller, key)).or_insert(Edge {
                        weight: 0,
                        inline: true,
                        counted_in: 0,
                    });
                    if edge.counted_in != position + 1 {
                        edge.counted_in = position + 1;
                        edge.inline &= inline;
                        let value = sample.values[self.indices[t]];
                        edge.weight = edge.weight.saturating_add(value);
                    }
                }
            }
        }
        edges
    }
}

/// Adds `values` to `sums`, one for one.
fn add_all(sums: &mut [i64], values: &[i64]) {
    for (sum, &value) in sums.iter_mut().zip(values) {
        *sum = sum.saturating_add(value);
    }
}

/// A node is `(inline)` when all its incoming edges of at least the cut-off
/// weight are inline, `(partial-inline)` when only some are.
fn inline_marks(edges: &Edges, cutoff: i64, count: usize) -> Vec<Inlined> {
    let mut seen = vec![(false, false); count];
    for (&(_, callee), edge) in edges {
        if edge.weight.wrapping_abs() < cutoff {
            continue;
        }
        let (inline, called) = &mut seen[callee];
        match edge.inline {
            true => *inline = true,
            false => *called = true,
        }
    }
    seen.into_iter()
        .map(|seen| match seen {
            (true, false) => Inlined::Always,
            (true, true) => Inlined::Partly,
            (false, _) => Inlined::No,
        })
        .collect()
}

/// Writes the table as `go tool pprof -top` lays it out, values in human
/// units: the sample type, `Showing nodes accounting for X, P% of T total`,
/// the dropped-nodes line when nodes were dropped, `Showing top N nodes
/// out of M` when rows were cut, the column header, then one row per node:
/// `flat flat% sum% cum cum% name [(inline)]`.
///
/// `limit` shows only the first rows (`None` and `Some(0)` show all, as
/// pprof's `-nodecount=0`). The numbers are then pprof's for `-nodecount`,
/// but the marks stay those of the whole table; build the table with
/// [`TopOptions::node_count`] for pprof's marks too.
pub fn write_top(top: &Top, limit: Option<usize>, mut out: impl Write) -> io::Result<()> {
    let unit = top.sample_type.unit.as_str();
    let amount = |value: i64| units::human(value, unit);
    let rows = top.shown(limit);
    let shown = top.shown_total(limit);
    let mean = if top.mean { "mean_" } else { "" };
    let sample_type = crate::progress::printable(&top.sample_type.name);
    writeln!(out, "Type: {mean}{sample_type}")?;
    if !top.active_filters.is_empty() {
        writeln!(out, "Active filters:")?;
        for filter in &top.active_filters {
            writeln!(out, "   {}", crate::progress::printable(filter))?;
        }
    }
    writeln!(
        out,
        "Showing nodes accounting for {}, {} of {} total",
        amount(shown),
        percentage(shown, top.total).trim_start(),
        amount(top.total)
    )?;
    if top.total != 0 {
        if top.dropped_nodes > 0 {
            let plural = if top.dropped_nodes == 1 { "" } else { "s" };
            writeln!(
                out,
                "Dropped {} node{plural} (cum <= {})",
                top.dropped_nodes,
                amount(top.dropped_cutoff)
            )?;
        }
        if rows.len() < top.all_nodes {
            writeln!(
                out,
                "Showing top {} nodes out of {}",
                rows.len(),
                top.all_nodes
            )?;
        }
    }
    writeln!(
        out,
        "{:>10} {:>5}% {:>5}% {:>10} {:>5}%",
        "flat", "flat", "sum", "cum", "cum"
    )?;
    let mut sum = 0i64;
    for row in rows {
        sum = sum.wrapping_add(row.flat);
        let name: String = row
            .name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mark = match row.inlined {
            Inlined::No => String::new(),
            mark => format!(" {}", mark.label()),
        };
        writeln!(
            out,
            "{:>10} {} {} {:>10} {}  {name}{mark}",
            amount(row.flat),
            percentage(row.flat, top.total),
            percentage(sum, top.total),
            amount(row.cum),
            percentage(row.cum, top.total),
        )?;
    }
    out.flush()
}

/// `value` as a share of `total`, six characters wide like pprof's: two
/// decimals from 1 %, two significant digits below, `100%` when it rounds
/// to it.
pub(crate) fn percentage(value: i64, total: i64) -> String {
    let ratio = match total {
        0 => 0.0,
        total => (value as f64 / total as f64).abs() * 100.0,
    };
    let text = if (99.95..=100.05).contains(&ratio) {
        "100".to_owned()
    } else if ratio >= 1.0 {
        format!("{ratio:.2}")
    } else {
        two_significant_digits(ratio)
    };
    format!("{text:>5}%")
}

/// `0.0937` → `0.094`, `0.5` → `0.5`, `0` → `0`.
fn two_significant_digits(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_owned();
    }
    let decimals = (1.0 - value.log10().floor()).clamp(0.0, 20.0) as usize;
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_owned(),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::SampleSelection;
    use crate::profile::{Function, Mapping, Sample};

    fn function(name: &str, file: &str) -> Function {
        Function {
            name: name.into(),
            filename: file.into(),
            ..Function::default()
        }
    }

    fn line(function: usize, line: i64) -> Line {
        Line {
            function: Some(function),
            line,
        }
    }

    fn location(lines: Vec<Line>) -> Location {
        Location {
            address: 0x1000,
            mapping: None,
            lines,
        }
    }

    fn sample(locations: Vec<u32>, values: Vec<i64>) -> Sample {
        Sample {
            locations,
            values,
            labels: Vec::new(),
        }
    }

    /// main → rec → rec (recursion) → leaf, where `helper` is inlined into
    /// `main` at one call site; plus a stackless sample and one through an
    /// unnamed location.
    fn profile() -> Profile {
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
            functions: vec![
                function("main", "/src/./main.go"),
                function("rec", "/src/main.go"),
                function("leaf", "/src/leaf.go"),
                function("helper", "/src/main.go"),
            ],
            locations: vec![
                location(vec![line(0, 10)]),
                location(vec![line(1, 20)]),
                location(vec![line(2, 30)]),
                location(vec![line(3, 40), line(0, 11)]),
                location(Vec::new()),
            ],
            mappings: vec![Mapping {
                filename: "/tmp/bin/app".into(),
                ..Mapping::default()
            }],
            samples: vec![
                sample(vec![2, 1, 1, 0], vec![2, 100]),
                sample(vec![1, 0], vec![1, 30]),
                sample(vec![3], vec![4, 40]),
                sample(vec![4, 3], vec![1, 8]),
                sample(vec![], vec![1, -12]),
            ]
            .into(),
            ..Profile::default()
        }
    }

    fn everything(by_cum: bool) -> TopOptions {
        TopOptions {
            by_cum,
            node_fraction: 0.0,
            edge_fraction: 0.0,
            node_count: 0,
            ..TopOptions::default()
        }
    }

    fn rows(top: &Top) -> Vec<(i64, i64, &str, Inlined)> {
        top.rows
            .iter()
            .map(|r| (r.flat, r.cum, r.name.as_str(), r.inlined))
            .collect()
    }

    #[test]
    fn flat_and_cum_count_recursion_once() {
        let top = top_with(&profile(), &FoldOptions::default(), &everything(false)).unwrap();
        assert_eq!(top.total, 190);
        assert_eq!(
            rows(&top),
            vec![
                (100, 100, "leaf", Inlined::No),
                (40, 48, "helper", Inlined::Always),
                (30, 130, "rec", Inlined::No),
                (8, 8, "<unknown>", Inlined::No),
                (0, 178, "main", Inlined::No),
            ]
        );
        assert_eq!(top.shown_total(None), 178);
        assert_eq!(top.shown_total(Some(2)), 140);
    }

    #[test]
    fn cum_order_then_name() {
        let top = top_with(&profile(), &FoldOptions::default(), &everything(true)).unwrap();
        let names: Vec<&str> = top.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["main", "rec", "leaf", "helper", "<unknown>"]);
    }

    #[test]
    fn ties_sort_by_name() {
        let mut profile = profile();
        profile.samples = vec![sample(vec![1], vec![1, 5]), sample(vec![2], vec![1, 5])].into();
        let top = top_with(&profile, &FoldOptions::default(), &everything(false)).unwrap();
        let names: Vec<&str> = top.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["leaf", "rec"]);
    }

    #[test]
    fn unnamed_frames_name_their_binary() {
        let mut profile = profile();
        profile.locations[4].mapping = Some(0);
        let top = top_with(&profile, &FoldOptions::default(), &everything(false)).unwrap();
        assert!(top.rows.iter().any(|r| r.name == "[app]"));
    }

    #[test]
    fn lines_and_noinlines() {
        let lines = FoldOptions {
            lines: true,
            ..FoldOptions::default()
        };
        let top = top_with(&profile(), &lines, &everything(false)).unwrap();
        let names: Vec<&str> = top.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "leaf /src/leaf.go:30",
                "helper /src/main.go:40",
                "rec /src/main.go:20",
                "<unknown>",
                "main /src/main.go:10",
                "main /src/main.go:11",
            ]
        );
        let no_inlines = FoldOptions {
            no_inlines: true,
            ..FoldOptions::default()
        };
        let top = top_with(&profile(), &no_inlines, &everything(false)).unwrap();
        let main = top.rows.iter().find(|r| r.name == "main").unwrap();
        assert_eq!((main.flat, main.cum), (40, 178));
        assert!(top.rows.iter().all(|r| r.name != "helper"));
    }

    #[test]
    fn mean_divides_by_events() {
        let options = FoldOptions {
            mean: true,
            ..FoldOptions::default()
        };
        let top = top_with(&profile(), &options, &everything(false)).unwrap();
        assert_eq!(top.total, 190 / 9);
        let leaf = &top.rows[0];
        assert_eq!((leaf.name.as_str(), leaf.flat, leaf.cum), ("leaf", 50, 50));
        let main = top.rows.iter().find(|r| r.name == "main").unwrap();
        assert_eq!((main.flat, main.cum), (0, 178 / 8));
        let count = FoldOptions {
            mean: true,
            selection: SampleSelection::Named("contentions".into()),
            ..FoldOptions::default()
        };
        assert_eq!(
            top_with(&profile(), &count, &everything(false)),
            Err(FoldError::MeanWithoutCount)
        );
    }

    #[test]
    fn small_nodes_are_dropped_with_their_flat() {
        let options = TopOptions {
            node_fraction: 0.1,
            ..everything(false)
        };
        let top = top_with(&profile(), &FoldOptions::default(), &options).unwrap();
        // Cut-off 17.8 of the flat sum 178: only `<unknown>` (8) goes.
        assert_eq!(top.dropped_nodes, 1);
        assert_eq!(top.dropped_cutoff, 19);
        assert_eq!(top.rows.len(), 4);
        assert_eq!(top.shown_total(None), 170);
    }

    #[test]
    fn node_count_keeps_marks_among_kept_rows() {
        let options = TopOptions {
            node_count: 2,
            ..everything(false)
        };
        let top = top_with(&profile(), &FoldOptions::default(), &options).unwrap();
        // `helper`'s only caller, `main`, is not kept: no edge, no mark.
        assert_eq!(
            rows(&top),
            vec![
                (100, 100, "leaf", Inlined::No),
                (40, 48, "helper", Inlined::No)
            ]
        );
        assert_eq!(top.all_nodes, 5);
    }

    #[test]
    fn inline_marks_go_by_caller() {
        let helper = |extra: Vec<u32>| {
            let mut profile = profile();
            profile.locations.push(location(vec![line(3, 41)]));
            profile.samples.push(sample(extra, vec![1, 10]));
            let top = top_with(&profile, &FoldOptions::default(), &everything(false)).unwrap();
            top.rows.into_iter().find(|r| r.name == "helper").unwrap()
        };
        // Inlined into `main`, called for real by `rec`.
        assert_eq!(helper(vec![5, 1, 0]).inlined, Inlined::Partly);
        // Inlined into `main` and called for real by `main`: one edge,
        // which pprof marks inline only if every call through it was.
        assert_eq!(helper(vec![5, 0]).inlined, Inlined::No);
    }

    #[test]
    fn table_layout() {
        let top = top_with(&profile(), &FoldOptions::default(), &everything(false)).unwrap();
        let mut text = Vec::new();
        write_top(&top, Some(2), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let want = "\
Type: delay
Showing nodes accounting for 140 ns, 73.68% of 190 ns total
Showing top 2 nodes out of 5
      flat  flat%   sum%        cum   cum%
    100 ns 52.63% 52.63%     100 ns 52.63%  leaf
     40 ns 21.05% 73.68%      48 ns 25.26%  helper (inline)
";
        assert_eq!(text, want);
    }

    #[test]
    fn percentages_like_pprof() {
        assert_eq!(percentage(1, 1), "  100%");
        assert_eq!(percentage(1, 3), "33.33%");
        assert_eq!(percentage(94, 100_000), "0.094%");
        assert_eq!(percentage(5, 1000), "  0.5%");
        assert_eq!(percentage(0, 10), "    0%");
        assert_eq!(percentage(3, 0), "    0%");
    }

    #[test]
    fn paths_clean_like_go() {
        assert_eq!(clean_path("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(clean_path("../x/.."), "..");
        assert_eq!(clean_path("/../a"), "/a");
        assert_eq!(clean_path("a/.."), ".");
        assert_eq!(base_name("/tmp/x/workload"), "workload");
        assert_eq!(base_name("/"), "/");
    }
}
