//! The call tree: every distinct stack of a profile as a path from the root
//! of a prefix tree whose nodes are interned frames, with one value per
//! sample type at each node (the values of the samples whose stack ends
//! there).
//!
//! Owns the frame table (each distinct frame name gets a small id the first
//! time it is seen), the tree and its walks: every stack in the byte order
//! of its folded text (`--raw`, `--base --raw`), and the stacks a flame
//! graph can show, with subtrees too narrow to be drawn folded into one
//! line each. Text is made only by these walks, one path buffer at a time.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io;
use std::sync::Arc;

/// A frame's position in [`Frames`].
pub type FrameId = u32;

/// A node's position in a [`CallTree`]; [`ROOT`] is the root.
pub type NodeId = u32;

/// The root: no frame, the parent of every stack's first frame.
pub const ROOT: NodeId = 0;

/// Marks "no node" in the child and sibling links.
const NO_NODE: NodeId = NodeId::MAX;

fn child_key(parent: NodeId, frame: FrameId) -> u64 {
    (u64::from(parent) << 32) | u64::from(frame)
}

/// Maps keyed by ids and names. foldhash: among the fastest hashers for
/// small keys, with a per-process seed, so inputs cannot be crafted to
/// collide as they can with an unseeded multiply-rotate hash.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Why a tree could not grow.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("more than {} distinct frames or stack prefixes", NodeId::MAX - 1)]
    TooLarge,
    #[error(
        "a stack of {frames} frames would be {megabytes} MB of text, more than the {limit} MB \
         torch draws or prints for one stack"
    )]
    StackTooLong {
        frames: usize,
        megabytes: u64,
        limit: u64,
    },
}

/// Every distinct frame name, each stored once.
#[derive(Debug, Clone, Default)]
pub struct Frames {
    names: Vec<Arc<str>>,
    ids: FastMap<Arc<str>, FrameId>,
}

impl Frames {
    /// The id of `name`, given a new one the first time it is seen.
    pub fn intern(&mut self, name: &str) -> Result<FrameId, TreeError> {
        if let Some(&id) = self.ids.get(name) {
            return Ok(id);
        }
        let id = FrameId::try_from(self.names.len())
            .ok()
            .filter(|&id| id < FrameId::MAX)
            .ok_or(TreeError::TooLarge)?;
        let name: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        Ok(id)
    }

    pub fn name(&self, id: FrameId) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    frame: FrameId,
    first_child: NodeId,
    next_sibling: NodeId,
    /// Where its values are, if samples end here; [`NO_SLOT`] if not.
    /// Kept in the node, which the walk that adds values has just read: a
    /// map beside the tree cost a cache miss or two per stack.
    slot: u32,
}

/// A node with more children than this finds them through a hash map; a
/// narrower one scans its list of children, which is faster for the
/// handful most nodes have.
const WIDE: usize = 12;

/// Marks "no values yet".
const NO_SLOT: u32 = u32::MAX;

/// Where a node's values are (see [`CallTree::slot`]).
#[derive(Debug, Clone, Copy)]
pub struct Slot(u32);

/// Stacks as a prefix tree of frame ids, `columns` values per node.
///
/// A child's id is always larger than its parent's, so a pass over the ids
/// from last to first visits every node after all of its descendants.
#[derive(Debug, Clone)]
pub struct CallTree {
    pub frames: Frames,
    nodes: Vec<Node>,
    columns: usize,
    /// `columns` values per slot, slot after slot: only nodes where a
    /// sample ends have values (134,000 of 3.5 million in a deep heap
    /// profile), so they live apart from the nodes.
    slots: Vec<i64>,
    /// The node of each slot.
    slot_nodes: Vec<NodeId>,
    /// What a node without a slot has: zeros.
    zeros: Vec<i64>,
    /// (parent, frame) → child, for the children of wide nodes.
    children: FastMap<u64, NodeId>,
    /// One bit per node: its children are in `children`.
    wide: Vec<u64>,
    /// Per column: the sum of every added value's size, and the plain sum.
    abs_sums: Vec<i64>,
    sums: Vec<i64>,
    /// The largest of a number each sample brings (a goroutine dump's
    /// minutes waited), per node where samples end; empty when none do.
    maxima: FastMap<NodeId, i64>,
}

impl CallTree {
    /// An empty tree (only the root) with `columns` values per node.
    pub fn new(columns: usize) -> CallTree {
        CallTree {
            frames: Frames::default(),
            nodes: vec![Node {
                frame: FrameId::MAX,
                first_child: NO_NODE,
                next_sibling: NO_NODE,
                slot: NO_SLOT,
            }],
            columns,
            slots: Vec::new(),
            slot_nodes: Vec::new(),
            zeros: vec![0; columns],
            children: FastMap::default(),
            wide: vec![0],
            abs_sums: vec![0; columns],
            sums: vec![0; columns],
            maxima: FastMap::default(),
        }
    }

    /// Keeps `value` if it is the largest seen at `node` (where a sample
    /// ends): the longest a goroutine there has waited.
    pub fn raise(&mut self, node: NodeId, value: i64) {
        let largest = self.maxima.entry(node).or_insert(value);
        *largest = (*largest).max(value);
    }

    /// The largest value [`raise`](Self::raise)d at `node`, if any was.
    pub fn largest_at(&self, node: NodeId) -> Option<i64> {
        self.maxima.get(&node).copied()
    }

    /// Whether any node holds a largest value.
    pub fn has_maxima(&self) -> bool {
        !self.maxima.is_empty()
    }

    /// The child of `parent` for `frame`, made if it is new.
    #[inline]
    pub fn child(&mut self, parent: NodeId, frame: FrameId) -> Result<NodeId, TreeError> {
        self.find_or_add(parent, frame).map(|(child, _)| child)
    }

    /// The child of `parent` for `frame`, and whether it was just made.
    #[inline]
    pub fn find_or_add(
        &mut self,
        parent: NodeId,
        frame: FrameId,
    ) -> Result<(NodeId, bool), TreeError> {
        if self.is_wide(parent) {
            let key = child_key(parent, frame);
            if let Some(&child) = self.children.get(&key) {
                return Ok((child, false));
            }
        } else {
            let mut count = 0;
            let mut next = self.nodes[parent as usize].first_child;
            while next != NO_NODE {
                let node = &self.nodes[next as usize];
                if node.frame == frame {
                    return Ok((next, false));
                }
                next = node.next_sibling;
                count += 1;
            }
            if count >= WIDE {
                self.widen(parent);
            }
        }
        self.add_child(parent, frame).map(|child| (child, true))
    }

    /// Makes a child of `parent` for `frame`, which the caller knows is new
    /// (a node made during the same walk has no children yet).
    #[inline]
    pub fn add_child(&mut self, parent: NodeId, frame: FrameId) -> Result<NodeId, TreeError> {
        let child = NodeId::try_from(self.nodes.len())
            .ok()
            .filter(|&id| id < NO_NODE)
            .ok_or(TreeError::TooLarge)?;
        let first_child = self.nodes[parent as usize].first_child;
        self.nodes.push(Node {
            frame,
            first_child: NO_NODE,
            next_sibling: first_child,
            slot: NO_SLOT,
        });
        self.nodes[parent as usize].first_child = child;
        if child as usize / 64 >= self.wide.len() {
            self.wide.push(0);
        }
        if self.is_wide(parent) {
            self.children.insert(child_key(parent, frame), child);
        }
        Ok(child)
    }

    fn is_wide(&self, node: NodeId) -> bool {
        self.wide[node as usize / 64] & (1 << (node % 64)) != 0
    }

    /// From now on, `node`'s children are found through the hash map.
    fn widen(&mut self, node: NodeId) {
        self.wide[node as usize / 64] |= 1 << (node % 64);
        let mut next = self.nodes[node as usize].first_child;
        while next != NO_NODE {
            let child = self.nodes[next as usize];
            self.children.insert(child_key(node, child.frame), next);
            next = child.next_sibling;
        }
    }

    /// The slot of `node`, made if it had none.
    pub fn slot(&mut self, node: NodeId) -> Slot {
        let slot = &mut self.nodes[node as usize].slot;
        if *slot == NO_SLOT {
            // Fewer slots than nodes, so fewer than NO_SLOT.
            *slot = self.slot_nodes.len() as u32;
            self.slot_nodes.push(node);
            self.slots.extend(std::iter::repeat_n(0, self.columns));
        }
        Slot(*slot)
    }

    fn slot_index(&self, node: NodeId) -> Option<usize> {
        let slot = self.nodes.get(node as usize)?.slot;
        (slot != NO_SLOT).then_some(slot as usize)
    }

    /// Adds `value` to one column of a slot.
    #[inline]
    pub fn add_at(&mut self, slot: Slot, column: usize, value: i64) {
        let cell = &mut self.slots[slot.0 as usize * self.columns + column];
        *cell = cell.saturating_add(value);
        self.abs_sums[column] = self.abs_sums[column].saturating_add(value.saturating_abs());
        self.sums[column] = self.sums[column].saturating_add(value);
    }

    /// Adds one sample's values (one per column) to `node`.
    #[inline]
    pub fn add(&mut self, node: NodeId, values: &[i64]) {
        for (column, &value) in values.iter().enumerate().take(self.columns) {
            self.add_to(node, column, value);
        }
    }

    /// Adds `value` to one column of `node`.
    #[inline]
    pub fn add_to(&mut self, node: NodeId, column: usize, value: i64) {
        let slot = self.slot(node);
        self.add_at(slot, column, value);
    }

    /// The node of a folded stack (`root;…;leaf`), made as needed.
    pub fn stack_node(&mut self, stack: &str) -> Result<NodeId, TreeError> {
        let mut node = ROOT;
        for frame in stack.split(';') {
            let frame = self.frames.intern(frame)?;
            node = self.child(node, frame)?;
        }
        Ok(node)
    }

    /// A tree of folded stacks (`root;…;leaf`, one value each), one column.
    pub fn from_folded(stacks: &[(&str, i64)]) -> Result<CallTree, TreeError> {
        let mut tree = CallTree::new(1);
        for (stack, value) in stacks {
            let node = tree.stack_node(stack)?;
            tree.add(node, &[*value]);
        }
        tree.finish();
        Ok(tree)
    }

    /// Makes room for `nodes` more nodes up front: a large tree grown by
    /// doubling copies itself again and again into fresh memory, which
    /// costs more than building it. Room never used is never touched, so
    /// it costs address space only. Too much to reserve is not an error;
    /// the tree then grows as it goes.
    pub fn reserve(&mut self, nodes: usize) {
        let nodes = nodes.min(NO_NODE as usize);
        let _ = self.nodes.try_reserve(nodes);
        let _ = self.wide.try_reserve(nodes / 64 + 1);
    }

    /// Makes room for `endings` more nodes where samples end, so that the
    /// list of them is not copied again and again as it grows: a deep
    /// profile has millions.
    pub fn reserve_endings(&mut self, endings: usize) {
        let _ = self.slot_nodes.try_reserve(endings);
    }

    /// Gives back the room kept for growing the values. (The nodes keep
    /// theirs: shrinking them would copy them, and room never used is
    /// never touched.)
    pub fn finish(&mut self) {
        self.slots.shrink_to_fit();
    }

    /// The values of the samples whose stack ends at `node`.
    pub fn values(&self, node: NodeId) -> &[i64] {
        match self.slot_index(node) {
            None => &self.zeros,
            Some(slot) => {
                let start = slot * self.columns;
                &self.slots[start..start + self.columns]
            }
        }
    }

    /// Every node where a sample ends, in the order their values were
    /// first added.
    pub fn ending_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.slot_nodes.iter().copied()
    }

    /// The values of every node where a sample ends, in the order of
    /// [`ending_nodes`](Self::ending_nodes).
    pub fn ending_values(&self) -> impl Iterator<Item = &[i64]> {
        self.slots.chunks_exact(self.columns.max(1))
    }

    /// Whether a sample ends at `node`.
    pub fn ends_here(&self, node: NodeId) -> bool {
        self.slot_index(node).is_some()
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// How many nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// The sum of the sizes of every value added to `column`.
    pub fn abs_sum(&self, column: usize) -> i64 {
        self.abs_sums[column]
    }

    /// The plain sum of every value added to `column`.
    pub fn sum(&self, column: usize) -> i64 {
        self.sums[column]
    }

    pub fn frame(&self, node: NodeId) -> FrameId {
        self.nodes[node as usize].frame
    }

    pub fn name(&self, node: NodeId) -> &str {
        self.frames.name(self.frame(node))
    }

    /// Adds every node's value in `values` (one per node) into its
    /// parent's, children first, so that each ends up holding its whole
    /// subtree's: a child's id is larger than its parent's, so one pass
    /// from the last node down does it, with no parent links.
    pub fn sum_up<T: Copy>(&self, values: &mut [T], add: impl Fn(&mut T, T)) {
        for node in (0..self.nodes.len()).rev() {
            let mut child = self.nodes[node].first_child;
            while child != NO_NODE {
                let below = values[child as usize];
                add(&mut values[node], below);
                child = self.nodes[child as usize].next_sibling;
            }
        }
    }

    /// The children of `node`, in no particular order.
    pub fn children(&self, node: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let mut next = self.nodes[node as usize].first_child;
        std::iter::from_fn(move || {
            let child = (next != NO_NODE).then_some(next)?;
            next = self.nodes[child as usize].next_sibling;
            Some(child)
        })
    }

    /// Every node but the root, children after their parents.
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = NodeId> {
        1..self.nodes.len() as NodeId
    }

    /// Calls `emit(stack, node)` for every node `has_line` accepts, with
    /// its stack as folded text (`root;…;leaf`), in the byte order of that
    /// text: the order of sorted folded lines.
    pub fn for_each_sorted(
        &self,
        has_line: impl Fn(NodeId) -> bool,
        mut emit: impl FnMut(&str, NodeId) -> io::Result<()>,
    ) -> io::Result<()> {
        let lines: Vec<bool> = (0..self.nodes.len() as NodeId)
            .map(|node| node != ROOT && has_line(node))
            .collect();
        // below[n]: some node under n (not n itself) has a line. Children
        // come after their parents, so one pass from the last node does.
        let mut below = vec![false; self.nodes.len()];
        for node in (0..self.nodes.len()).rev() {
            below[node] = self
                .children(node as NodeId)
                .any(|child| lines[child as usize] || below[child as usize]);
        }
        let items_of = |node: NodeId| {
            let mut items: Vec<Item> = Vec::new();
            for child in self.children(node) {
                if lines[child as usize] {
                    items.push(Item::own(child));
                }
                if below[child as usize] {
                    items.push(Item::block(child));
                }
            }
            items.sort_unstable_by(|a, b| self.compare_items(a, b));
            items
        };
        self.walk_items(items_of(ROOT), items_of, |path, item, _| {
            emit(path, item.node)
        })
    }

    /// Walks items depth first: an own item is emitted with its path and
    /// its parent, a block item opens the sorted items below its node.
    fn walk_items(
        &self,
        top: Vec<Item>,
        items_of: impl Fn(NodeId) -> Vec<Item>,
        mut emit: impl FnMut(&str, &Item, NodeId) -> io::Result<()>,
    ) -> io::Result<()> {
        struct Level {
            parent: NodeId,
            items: Vec<Item>,
            next: usize,
            path_len: usize,
        }
        let mut path = String::new();
        let mut levels = vec![Level {
            parent: ROOT,
            items: top,
            next: 0,
            path_len: 0,
        }];
        while let Some(level) = levels.last_mut() {
            let Some(item) = level.items.get(level.next).copied() else {
                levels.pop();
                continue;
            };
            level.next += 1;
            let parent = level.parent;
            path.truncate(level.path_len);
            if levels.len() > 1 {
                path.push(';');
            }
            path.push_str(self.name(item.node));
            match item.kind {
                ItemKind::Block => {
                    let items = items_of(item.node);
                    levels.push(Level {
                        parent: item.node,
                        items,
                        next: 0,
                        path_len: path.len(),
                    });
                }
                ItemKind::Own | ItemKind::Folded => emit(&path, &item, parent)?,
            }
        }
        Ok(())
    }

    /// Sibling items in the order of their folded text: a node's own line
    /// (`…;name`) sorts as its name; the lines below it (`…;name;…`) as
    /// its name followed by `;`.
    fn compare_items(&self, a: &Item, b: &Item) -> Ordering {
        let key = |item: &Item| {
            let tail: &[u8] = match item.kind {
                ItemKind::Block => b";",
                ItemKind::Own | ItemKind::Folded => b"",
            };
            self.name(item.node).as_bytes().iter().chain(tail)
        };
        key(a).cmp(key(b))
    }

    /// The lines a flame graph of `min_width` percent can draw, as inferno
    /// lays them out: `weight(node)` is the line of the samples ending at
    /// a node (its width drawn, and whatever else the caller needs summed).
    /// A subtree narrower than `min_width` percent of the total is not
    /// drawn by inferno, so it is handed over as one line named after its
    /// top node, with the combined weight of everything in it; narrow
    /// siblings next to each other are combined while they stay narrow.
    /// Frames that are drawn keep their width and place.
    pub fn visible_lines<W: Weight>(
        &self,
        weight: impl Fn(NodeId) -> W,
        min_width: f64,
        mut emit: impl FnMut(&str, &W, bool),
    ) {
        // Only widths are kept for every node; the other sums are made for
        // the few lines handed over.
        let mut widths: Vec<u64> = vec![0; self.nodes.len()];
        for node in self.ending_nodes() {
            widths[node as usize] = weight(node).width();
        }
        self.sum_up(&mut widths, |sum, child| *sum = sum.saturating_add(child));
        let own_width = |node: NodeId| match self.ends_here(node) {
            true => weight(node).width(),
            false => 0,
        };
        let total = widths[ROOT as usize];
        // inferno's own test, to the same floating-point result.
        let min_time = min_width / (100.0 / total as f64);
        let drawn = |node: NodeId| widths[node as usize] as f64 >= min_time;
        let items_of = |node: NodeId| {
            let mut items: Vec<Item> = Vec::new();
            for child in self.children(node) {
                let all = widths[child as usize];
                if all == 0 {
                    continue;
                }
                if !drawn(child) {
                    items.push(Item::folded(child));
                    continue;
                }
                let own = own_width(child);
                if own > 0 {
                    items.push(Item::own(child));
                }
                if all > own {
                    items.push(Item::block(child));
                }
            }
            items.sort_unstable_by(|a, b| self.compare_items(a, b));
            items
        };
        // A run of folded siblings waiting to be emitted as one line.
        let mut run: Option<(String, W)> = None;
        let flush = |run: &mut Option<(String, W)>, emit: &mut dyn FnMut(&str, &W, bool)| {
            if let Some((path, weight)) = run.take() {
                emit(&path, &weight, true);
            }
        };
        let mut last_parent = NO_NODE;
        let _ = self.walk_items(items_of(ROOT), items_of, |path, item, parent| {
            match item.kind {
                ItemKind::Folded => {
                    let whole = W::from_width(widths[item.node as usize])
                        .unwrap_or_else(|| self.subtree_weight(item.node, &weight));
                    let joins = match &run {
                        Some((_, so_far)) if parent == last_parent => {
                            let mut joined = *so_far;
                            joined.combine(&whole);
                            ((joined.width() as f64) < min_time).then_some(joined)
                        }
                        _ => None,
                    };
                    match joins {
                        Some(joined) => run.as_mut().expect("joined a run").1 = joined,
                        None => {
                            flush(&mut run, &mut emit);
                            run = Some((path.to_owned(), whole));
                        }
                    }
                    last_parent = parent;
                }
                _ => {
                    flush(&mut run, &mut emit);
                    emit(path, &weight(item.node), false);
                    last_parent = NO_NODE;
                }
            }
            Ok(())
        });
        flush(&mut run, &mut emit);
    }

    /// The weights of `node` and everything below it, combined.
    fn subtree_weight<W: Weight>(&self, node: NodeId, weight: &impl Fn(NodeId) -> W) -> W {
        let mut sum = W::default();
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            if self.ends_here(node) {
                sum.combine(&weight(node));
            }
            pending.extend(self.children(node));
        }
        sum
    }
}

/// A line's weight in a flame graph: its width, plus whatever the caller
/// sums with it (a differential graph's before and after).
pub trait Weight: Copy + Default {
    /// How wide the line is drawn, in the profile's unit.
    fn width(&self) -> u64;
    /// Adds `other` to this weight.
    fn combine(&mut self, other: &Self);
    /// The weight of a subtree this wide, when the width says it all.
    fn from_width(width: u64) -> Option<Self>;
}

impl Weight for u64 {
    fn from_width(width: u64) -> Option<Self> {
        Some(width)
    }

    fn width(&self) -> u64 {
        *self
    }

    fn combine(&mut self, other: &Self) {
        *self = self.saturating_add(*other);
    }
}

/// One entry of a walk: a node's own line, the lines below it, or (in
/// [`CallTree::visible_lines`]) its whole subtree as one line.
#[derive(Debug, Clone, Copy)]
struct Item {
    node: NodeId,
    kind: ItemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Own,
    Block,
    Folded,
}

impl Item {
    fn own(node: NodeId) -> Item {
        Item {
            node,
            kind: ItemKind::Own,
        }
    }

    fn block(node: NodeId) -> Item {
        Item {
            node,
            kind: ItemKind::Block,
        }
    }

    fn folded(node: NodeId) -> Item {
        Item {
            node,
            kind: ItemKind::Folded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(stacks: &[(&str, i64)]) -> CallTree {
        CallTree::from_folded(stacks).unwrap()
    }

    fn sorted(tree: &CallTree) -> Vec<String> {
        let mut lines = Vec::new();
        tree.for_each_sorted(
            |node| tree.values(node)[0] != 0,
            |stack, node| {
                lines.push(format!("{stack} {}", tree.values(node)[0]));
                Ok(())
            },
        )
        .unwrap();
        lines
    }

    #[test]
    fn walks_in_the_byte_order_of_folded_text() {
        // `.` and ` ` sort before `;`: a name that extends a sibling's name
        // puts its lines between that sibling's own line and its callees.
        let stacks = [
            ("main;f;g", 1),
            ("main;f", 2),
            ("main;f.func1;h", 3),
            ("main;f (inline);k", 4),
            ("main;e", 5),
            ("main", 6),
            ("[no-stack]", 7),
            ("main;f;a", 8),
            ("main;zero", 0),
        ];
        let mut want: Vec<String> = stacks
            .iter()
            .filter(|(_, v)| *v != 0)
            .map(|(s, v)| format!("{s} {v}"))
            .collect();
        want.sort_by(|a, b| {
            let stack = |line: &str| line.rsplit_once(' ').unwrap().0.to_owned();
            stack(a).cmp(&stack(b))
        });
        assert_eq!(sorted(&tree(&stacks)), want);
    }

    #[test]
    fn equal_stacks_share_a_node() {
        let tree = tree(&[("a;b", 1), ("a;b", 2), ("a;c", 3)]);
        assert_eq!(tree.len(), 4);
        assert_eq!(tree.frames.len(), 3);
        assert_eq!(sorted(&tree), ["a;b 3", "a;c 3"]);
        assert_eq!((tree.abs_sum(0), tree.sum(0)), (6, 6));
    }

    fn visible(tree: &CallTree, min_width: f64) -> Vec<String> {
        let mut lines = Vec::new();
        tree.visible_lines(
            |node| tree.values(node)[0].max(0) as u64,
            min_width,
            |path, width, folded| {
                let mark = if folded { " (folded)" } else { "" };
                lines.push(format!("{path} {width}{mark}"));
            },
        );
        lines
    }

    #[test]
    fn narrow_subtrees_become_one_line_each() {
        let tree = tree(&[
            ("main;big;x", 500),
            ("main;big", 400),
            ("main;a;deep;er", 1),
            ("main;a;deep", 1),
            ("main;b", 1),
            ("main;c;d", 2),
            ("main;zzz", 95),
            ("main;neg", -5),
        ]);
        // 1 % of 1000 = 10: `a` and `b` are narrow and next to each other
        // (3 together), `c` is narrow but comes after `big`, `zzz` is drawn.
        assert_eq!(
            visible(&tree, 1.0),
            [
                "main;a 3 (folded)",
                "main;big 400",
                "main;big;x 500",
                "main;c 2 (folded)",
                "main;zzz 95"
            ]
        );
        // Narrow runs stop before they would become wide enough to draw.
        let lines = visible(&tree, 0.3);
        assert_eq!(lines[..2], ["main;a 2 (folded)", "main;b 1 (folded)"]);
    }
}
