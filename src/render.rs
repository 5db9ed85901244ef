//! Call trees → interactive SVG, through inferno.
//!
//! Only what can be seen reaches inferno: subtrees narrower than the
//! minimum width are handed over as one line each (see
//! [`CallTree::visible_lines`]), so drawing costs what is drawn, not what
//! the profile holds. Owns everything about how the graph looks: palette choice (the Go
//! palette is torch's own, see [`crate::palette`]), titles, the subtitle
//! with the sample type and total, the notes saying where the profile came
//! from; [`crate::decorate`] then puts units in the tooltips, short labels
//! and the legend into inferno's SVG.

use std::io::{self, Write};

use inferno::flamegraph::color::{BackgroundColor, BasicPalette, Palette, PaletteMap};
use inferno::flamegraph::{self, Direction};

use crate::decorate::{self, attribute, Decorations};
use crate::diff::Diff;
use crate::filter::Unfiltered;
use crate::fold::Measure;
use crate::palette::{GoPalette, Program};
use crate::profile::ValueType;
use crate::tree::{CallTree, Weight};
use crate::units;

/// Palettes torch accepts for `--colors`: its own `go`, then inferno's.
pub const PALETTES: &[&str] = &[
    "go", "hot", "mem", "io", "wakeup", "java", "js", "perl", "python", "rust", "red", "green",
    "blue", "aqua", "yellow", "purple", "orange",
];

/// How the flame graph should look. `Default` matches the CLI defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// A palette name from [`PALETTES`]; `None` picks one from the unit
    /// (`mem` for memory profiles, `go` otherwise).
    pub colors: Option<String>,
    /// `None`: "Flame Graph", or "Icicle Graph" when inverted.
    pub title: Option<String>,
    /// Image width in pixels.
    pub width: usize,
    /// Colour by a weighted hash of the name (similar names, similar colours)
    /// instead of a plain hash of it.
    pub hash: bool,
    /// Draw the leaf at the bottom, root at the top.
    pub inverted: bool,
    /// Merge stacks from the leaf instead of the root.
    pub reverse: bool,
    /// Frames narrower than this many pixels are left out.
    pub min_width: f64,
    /// Said after the total in the subtitle (`delta over 10 s`).
    pub note: Option<String>,
    /// Label frames without their import paths (`--short`).
    pub short: bool,
    /// Where the profile came from, for the notes and the footer.
    pub source: Option<String>,
    /// When it was collected, as people read it.
    pub collected: Option<String>,
    /// The totals before the command line's filters, when it has some.
    pub unfiltered: Option<Unfiltered>,
    /// For a differential graph: where the base came from, and when.
    pub base_source: Option<String>,
    pub base_collected: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            colors: None,
            title: None,
            width: 1200,
            hash: false,
            inverted: false,
            reverse: false,
            min_width: 0.1,
            note: None,
            short: false,
            source: None,
            collected: None,
            unfiltered: None,
            base_source: None,
            base_collected: None,
        }
    }
}

/// Why a flame graph could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("unknown palette {0:?}; choose one of: {list}", list = PALETTES.join(", "))]
    UnknownPalette(String),
    #[error("nothing to draw: no {0} value is above zero")]
    Empty(String),
    #[error("inferno failed")]
    Inferno(#[source] io::Error),
    #[error(
        "the graph's frames would be more than {limit} MB of text (stacks this deep and \
         this wide cannot be drawn; --raw streams them)"
    )]
    TooMuchText { limit: usize },
}

/// The most text handed to inferno for one graph: it holds every line,
/// and its layout takes several times as much again.
const TEXT_LIMIT: usize = 256 << 20;

/// Counts the text of the lines a graph will draw, against [`TEXT_LIMIT`].
#[derive(Default)]
struct TextBudget {
    used: usize,
}

impl TextBudget {
    /// Takes `bytes` from the budget; false once it is spent (and from
    /// then on: lines past the limit are not kept).
    fn take(&mut self, bytes: usize) -> bool {
        self.used = self.used.saturating_add(bytes);
        self.used <= TEXT_LIMIT
    }

    fn check(&self) -> Result<(), RenderError> {
        match self.used <= TEXT_LIMIT {
            true => Ok(()),
            false => Err(RenderError::TooMuchText {
                limit: TEXT_LIMIT >> 20,
            }),
        }
    }
}

/// Renders `measure` of `tree` as an SVG into `out`. `palette_map`, when
/// given, fixes colours across runs (`--cp`) and learns the colours of new
/// frames. The tree must have been folded leaf first when
/// [`RenderOptions::reverse`] asks for it.
pub fn render(
    tree: &CallTree,
    measure: &Measure,
    options: &RenderOptions,
    palette_map: Option<&mut PaletteMap>,
    out: impl Write,
) -> Result<(), RenderError> {
    render_program(
        tree,
        measure,
        options,
        &Program::default(),
        palette_map,
        out,
    )
}

/// The lines inferno is given: `stack value`, and where the stack ends.
fn drawn_lines(
    tree: &CallTree,
    measure: &Measure,
    min_width: f64,
) -> Result<Vec<(String, usize)>, RenderError> {
    let mut lines = Vec::new();
    let mut budget = TextBudget::default();
    tree.visible_lines(
        |node| measure.at(tree, node).max(0) as u64,
        min_width,
        |stack, width, _| {
            if budget.take(stack.len()) {
                lines.push((format!("{stack} {width}"), stack.len()));
            }
        },
    );
    budget.check()?;
    Ok(lines)
}

/// [`render`], knowing which module is the user's (for the Go palette).
pub fn render_program(
    tree: &CallTree,
    measure: &Measure,
    options: &RenderOptions,
    program: &Program,
    palette_map: Option<&mut PaletteMap>,
    out: impl Write,
) -> Result<(), RenderError> {
    let sample_type = &measure.sample_type;
    let lines = drawn_lines(tree, measure, options.min_width)?;
    if lines.is_empty() {
        return Err(RenderError::Empty(sample_type.name.clone()));
    }
    let mut inferno_options = flamegraph::Options::default();
    inferno_options.title = title(options);
    let mut sub = subtitle(tree, measure);
    if let Some(unfiltered) = &options.unfiltered {
        sub = filtered_subtitle(tree, measure, unfiltered);
    }
    inferno_options.subtitle = Some(match &options.note {
        Some(note) => format!("{sub}, {note}"),
        None => sub,
    });
    inferno_options.notes = notes(options, sample_type);
    // Plain, so decorate can find the value in each tooltip and say it
    // in human units (a mean says so there).
    inferno_options.count_name = count_name_of(sample_type);
    inferno_options.image_width = Some(options.width);
    inferno_options.min_width = options.min_width;
    // Colours come from the names, never from a random generator, so the
    // same profile always gives the same bytes.
    inferno_options.hash = options.hash;
    inferno_options.deterministic = !options.hash;
    // The tree is already leaf first when reversed.
    inferno_options.reverse_stack_order = false;
    if options.inverted {
        inferno_options.direction = Direction::Inverted;
    }
    let mut own_map = PaletteMap::default();
    let mut legend = Vec::new();
    let palette_name = palette_name(sample_type, options);
    if palette_name == "go" {
        // Every frame gets its Go colour up front; inferno only looks them up.
        let map = match palette_map {
            Some(map) => map,
            None => &mut own_map,
        };
        let go = GoPalette::builtin();
        let stacks = lines.iter().map(|(line, end)| &line[..*end]);
        legend = go
            .fill(stacks, program, map)
            .into_iter()
            .map(|class| (class.label.clone(), class.swatch()))
            .collect();
        inferno_options.colors = Palette::Basic(BasicPalette::Hot);
        inferno_options.bgcolors = Some(BackgroundColor::Grey);
        inferno_options.palette_map = Some(map);
    } else {
        inferno_options.colors = palette_name
            .parse()
            .map_err(|_| RenderError::UnknownPalette(palette_name.to_owned()))?;
        inferno_options.palette_map = palette_map;
    }
    let mut svg = Vec::new();
    flamegraph::from_lines(
        &mut inferno_options,
        lines.iter().map(|(line, _)| line.as_str()),
        &mut svg,
    )
    .map_err(RenderError::Inferno)?;
    let svg = String::from_utf8(svg).expect("inferno writes UTF-8");
    let decorations = Decorations {
        unit: Some(decorate::Unit {
            unit: sample_type.unit.clone(),
            noun: count_name_of(sample_type),
            mean: measure.mean,
        }),
        short: options.short,
        width: options.width,
        legend,
        footer: footer(options),
    };
    let label = root_label(&sample_type.name, &amount(tree, measure), measure.mean);
    let mut decorated = decorate::decorate(&svg, &decorations);
    if tree.has_maxima() {
        decorated = with_longest_waits(&decorated, tree, measure, options);
    }
    let mut out = out;
    out.write_all(label_root(&decorated, &label).as_bytes())
        .map_err(RenderError::Inferno)
}

/// A goroutine dump's graph: each tooltip also says the longest any of
/// its goroutines has waited (`5 goroutines, 45.45%; waited up to 12 min`),
/// where that is a minute or more (the dump says no less).
fn with_longest_waits(
    svg: &str,
    tree: &CallTree,
    measure: &Measure,
    options: &RenderOptions,
) -> String {
    #[derive(Clone, Copy, Default)]
    struct Waited {
        width: u64,
        longest: i64,
    }
    impl Weight for Waited {
        fn from_width(_: u64) -> Option<Self> {
            None
        }
        fn width(&self) -> u64 {
            self.width
        }
        fn combine(&mut self, other: &Self) {
            self.width = self.width.saturating_add(other.width);
            self.longest = self.longest.max(other.longest);
        }
    }
    let weight = |node| Waited {
        width: measure.at(tree, node).max(0) as u64,
        longest: tree.largest_at(node).unwrap_or(0),
    };
    let mut lines: Vec<(String, Waited)> = Vec::new();
    tree.visible_lines(weight, options.min_width, |stack, waited, _| {
        lines.push((stack.to_owned(), *waited));
    });
    let drawn = lines
        .iter()
        .map(|(stack, w)| (stack.as_str(), w.width, w.longest));
    let frames = per_frame(drawn, |longest: &mut i64, value| {
        *longest = (*longest).max(value)
    });
    rewrite_titles(svg, options.inverted, |depth, start, _, title| {
        let minutes = *frames.get(&(depth, start))?;
        let close = title.rfind(')').filter(|_| minutes >= 1)?;
        let wait = match minutes {
            m if m < 120 => format!("{m} min"),
            m => format!("{} h {} min", m / 60, m % 60),
        };
        Some(format!(
            "{}; waited up to {wait}{}",
            &title[..close],
            &title[close..]
        ))
    })
}

/// What the bottom frame says: the sample type and the total
/// (`all — alloc_space 8.87 GB`).
fn root_label(sample_type: &str, amount: &str, mean: bool) -> String {
    let amount = amount.strip_suffix(" total").unwrap_or(amount);
    match mean {
        true => format!("all — mean {sample_type} {amount}"),
        false => format!("all — {sample_type} {amount}"),
    }
}

/// Names the root frame `label`, in its text and in its tooltip (whose
/// name part inferno's script puts back into the text on zoom).
fn label_root(svg: &str, label: &str) -> String {
    const ROOT: &str = "<g><title>all (";
    let Some(at) = svg.find(ROOT) else {
        return svg.to_owned();
    };
    let label = decorate::escape(label);
    let rest = &svg[at + ROOT.len()..];
    let mut out = String::with_capacity(svg.len() + 2 * label.len());
    out.push_str(&svg[..at]);
    out.push_str("<g><title>");
    out.push_str(&label);
    out.push_str(" (");
    let end = rest.find("</g>").unwrap_or(rest.len());
    let group = &rest[..end];
    match group.rfind(">all</text>") {
        Some(text) => {
            out.push_str(&group[..text]);
            out.push('>');
            out.push_str(&label);
            out.push_str("</text>");
            out.push_str(&group[text + ">all</text>".len()..]);
        }
        None => out.push_str(group),
    }
    out.push_str(&rest[end..]);
    out
}

/// What the SVG's notes record: source, sample type, collection time.
fn notes(options: &RenderOptions, sample_type: &ValueType) -> String {
    let mut parts = Vec::new();
    if let Some(base) = &options.base_source {
        parts.push(format!("base: {base}"));
    }
    if let Some(collected) = &options.base_collected {
        parts.push(format!("base {collected}"));
    }
    if let Some(source) = &options.source {
        parts.push(format!("source: {source}"));
    }
    parts.push(format!(
        "sample type: {} ({})",
        sample_type.name, sample_type.unit
    ));
    if let Some(collected) = &options.collected {
        parts.push(collected.clone());
    }
    parts.push(format!("drawn by torch {}", env!("CARGO_PKG_VERSION")));
    // An XML comment cannot hold `--`.
    parts.join("; ").replace("--", "- -")
}

/// The bottom-right line: source and collection time; for a differential
/// graph, the base's first (`base · collected … → new · collected …`).
fn footer(options: &RenderOptions) -> Option<String> {
    let side = |source: Option<&str>, collected: Option<&str>| {
        let parts: Vec<&str> = [source, collected].into_iter().flatten().collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    };
    let new = side(options.source.as_deref(), options.collected.as_deref());
    let base = side(
        options.base_source.as_deref(),
        options.base_collected.as_deref(),
    );
    match (base, new) {
        (Some(base), Some(new)) => Some(format!("{base} → {new}")),
        (base, new) => new.or(base),
    }
}

/// The palette asked for, or the one that suits the profile's unit.
fn palette_name<'a>(sample_type: &ValueType, options: &'a RenderOptions) -> &'a str {
    options
        .colors
        .as_deref()
        .unwrap_or_else(|| default_palette(sample_type))
}

fn default_palette(t: &ValueType) -> &'static str {
    let memory = units::is_memory(&t.unit) || t.name.ends_with("_objects");
    if memory {
        "mem"
    } else {
        "go"
    }
}

fn title(options: &RenderOptions) -> String {
    match (&options.title, options.inverted) {
        (Some(title), _) => title.clone(),
        (None, true) => "Icicle Graph".to_owned(),
        (None, false) => "Flame Graph".to_owned(),
    }
}

/// `alloc_space — 2.37 GB total`; for a mean, the overall mean; for a
/// profile with negative values (a delta of in-use memory), what grew and
/// what shrank, since only growth can be drawn.
pub fn subtitle(tree: &CallTree, measure: &Measure) -> String {
    let name = &measure.sample_type.name;
    let says = amount(tree, measure);
    if measure.mean {
        format!("mean {name} — {says}")
    } else if says.contains(" grew, ") {
        format!("{name} — {says} (growth drawn)")
    } else {
        format!("{name} — {says}")
    }
}

/// What a graph holds, as its subtitle and the `--output-dir` index and
/// summary all say it: `18.58 MB total`; for a delta profile, which has
/// negative values, `3.82 MB grew, 2 MB shrank`; for a mean, `1.2 ms per
/// event overall`.
pub fn amount(tree: &CallTree, measure: &Measure) -> String {
    let human = |value| units::human(value, &measure.sample_type.unit);
    let (mut grew, mut shrank) = (0i64, 0i64);
    for values in tree.ending_values() {
        let value = measure.of(values);
        grew = grew.saturating_add(value.max(0));
        shrank = shrank.saturating_add(value.min(0));
    }
    if measure.mean {
        format!("{} per event overall", human(measure.total(tree)))
    } else if shrank < 0 {
        format!(
            "{} grew, {} shrank",
            human(grew),
            human(shrank.saturating_neg())
        )
    } else {
        format!("{} total", human(measure.total(tree)))
    }
}

/// The subtitle of a filtered graph: what is left, of what total, and
/// the filters: `cpu — 400 ms of 3.08 s total (13 %), focus=Hash`.
pub fn filtered_subtitle(tree: &CallTree, measure: &Measure, unfiltered: &Unfiltered) -> String {
    let t = &measure.sample_type;
    let human = |value| units::human(value, &t.unit);
    let shown = measure.total(tree);
    let events = unfiltered.events;
    let sum = unfiltered.abs_sums.get(measure.index).copied().unwrap_or(0);
    let whole = match (measure.mean, events) {
        (true, events) if events != 0 => sum.checked_div(events).unwrap_or(i64::MAX),
        _ => sum,
    };
    let mean = if measure.mean { "mean " } else { "" };
    let share = match whole {
        0 => String::new(),
        whole => {
            let percent = 100.0 * shown as f64 / whole as f64;
            match percent.abs() < 10.0 {
                true => format!(" ({percent:.1} %)"),
                false => format!(" ({percent:.0} %)"),
            }
        }
    };
    let filters = &unfiltered.filters;
    match measure.mean {
        true => format!(
            "{mean}{} — {} per event, {} unfiltered, {filters}",
            t.name,
            human(shown),
            human(whole)
        ),
        false => format!(
            "{} — {} of {} total{share}, {filters}",
            t.name,
            human(shown),
            human(whole)
        ),
    }
}

/// What the numbers in tooltips are: the unit, or for counts, what is
/// counted. (A mean says so in the tooltip, see [`decorate::Unit`].)
fn count_name_of(t: &ValueType) -> String {
    match t.unit.as_str() {
        "count" | "" => match t.name.as_str() {
            "alloc_objects" | "inuse_objects" | "objects" => "objects".to_owned(),
            "goroutine" | "goroutines" => "goroutines".to_owned(),
            "goroutineleak" => "leaked goroutines".to_owned(),
            "threadcreate" => "threads".to_owned(),
            "contentions" => "contentions".to_owned(),
            "samples" => "samples".to_owned(),
            "" => "count".to_owned(),
            other => other.to_owned(),
        },
        unit => unit.to_owned(),
    }
}

/// A differential graph's line: the values before and after (each
/// clamped at zero), how wide it is drawn (after, or before for a stack
/// that vanished), and the largest change of one line in it.
#[derive(Debug, Clone, Copy, Default)]
struct Change {
    before: i64,
    after: i64,
    width: u64,
    delta: u64,
}

impl Change {
    fn of(diff: &Diff, node: crate::tree::NodeId) -> Change {
        let (before, after) = diff.change(node);
        let (before, after) = (before.max(0), after.max(0));
        let (width, delta) = match after {
            0 => (before as u64, before as u64),
            _ => (after as u64, after.abs_diff(before)),
        };
        Change {
            before,
            after,
            width,
            delta,
        }
    }
}

impl Weight for Change {
    fn from_width(_: u64) -> Option<Self> {
        None
    }

    fn width(&self) -> u64 {
        self.width
    }

    fn combine(&mut self, other: &Self) {
        self.before = self.before.saturating_add(other.before);
        self.after = self.after.saturating_add(other.after);
        self.width = self.width.saturating_add(other.width);
        self.delta = self.delta.max(other.delta);
    }
}

/// The line inferno reads for a differential `change`: `stack first
/// second`, width from second, colour from second − first. A vanished
/// stack gets width `before` and change `-before` (first = 2 × before). A
/// folded subtree, never drawn, keeps its width and its largest change
/// (inferno scales every colour by the largest change of any line).
fn diff_line(stack: &str, change: &Change, folded: bool) -> String {
    let (first, second) = match (folded, change.after) {
        (true, _) => (change.width.saturating_add(change.delta), change.width),
        (false, 0) => (2 * change.before as u64, change.before as u64),
        (false, after) => (change.before as u64, after as u64),
    };
    format!("{stack} {first} {second}")
}

/// Renders a differential flame graph: frame widths from the new profile,
/// colour from the change (red grew, blue shrank, stronger for larger
/// changes), tooltips with `before → after (±change)` in units. Stacks
/// that vanished are drawn at their old width so a shrink stays visible.
/// The trees must have been folded leaf first when
/// [`RenderOptions::reverse`] asks for it.
pub fn render_diff(
    diff: &Diff,
    options: &RenderOptions,
    out: impl Write,
) -> Result<(), RenderError> {
    // Each entry: the line inferno reads, the real before/after, the width.
    let mut entries: Vec<Entry> = Vec::new();
    let mut budget = TextBudget::default();
    diff.tree.visible_lines(
        |node| Change::of(diff, node),
        options.min_width,
        |stack, change, folded| {
            if budget.take(stack.len()) {
                entries.push(Entry {
                    line: diff_line(stack, change, folded),
                    before: change.before,
                    after: change.after,
                    width: change.width,
                })
            }
        },
    );
    budget.check()?;
    if entries.is_empty() {
        return Err(RenderError::Empty(diff.sample_type.name.clone()));
    }
    // Sorted here exactly as inferno would sort them, so the layout below
    // matches inferno's.
    entries.sort_unstable_by(|a, b| a.line.cmp(&b.line));
    let text: Vec<&str> = entries.iter().map(|entry| entry.line.as_str()).collect();
    let mut inferno_options = flamegraph::Options::default();
    inferno_options.title = match &options.title {
        Some(title) => title.clone(),
        None => "Differential Flame Graph".to_owned(),
    };
    inferno_options.subtitle = Some(diff_subtitle(diff, options.note.as_deref()));
    inferno_options.notes = notes(options, &diff.sample_type);
    inferno_options.count_name = count_name_of(&diff.sample_type);
    inferno_options.image_width = Some(options.width);
    inferno_options.min_width = options.min_width;
    inferno_options.no_sort = true;
    if options.inverted {
        inferno_options.direction = Direction::Inverted;
    }
    let mut svg = Vec::new();
    flamegraph::from_lines(&mut inferno_options, text.iter().copied(), &mut svg)
        .map_err(RenderError::Inferno)?;
    let svg = String::from_utf8(svg).expect("inferno writes UTF-8");
    let frames = frame_changes(&entries);
    let unit = diff.sample_type.unit.as_str();
    let rewritten = rewrite_titles(&svg, options.inverted, |depth, start, name, _| {
        let (before, after) = *frames.get(&(depth, start))?;
        Some(format!("{name} ({})", change_text(before, after, unit)))
    });
    let decorations = Decorations {
        unit: None,
        short: options.short,
        width: options.width,
        legend: Vec::new(),
        footer: footer(options),
    };
    let (before, after) = frames.get(&(0, 0)).copied().unwrap_or_default();
    let label = format!(
        "all — {} {} → {}",
        diff.sample_type.name,
        units::human(before, unit),
        units::human(after, unit)
    );
    let mut out = out;
    out.write_all(label_root(&decorate::decorate(&rewritten, &decorations), &label).as_bytes())
        .map_err(RenderError::Inferno)
}

/// One line of a differential graph, as given to inferno.
struct Entry {
    line: String,
    before: i64,
    after: i64,
    width: u64,
}

/// `1.5 MB → 2 MB (+512 kB, +33.3%)`
fn change_text(before: i64, after: i64, unit: &str) -> String {
    let delta = after.saturating_sub(before);
    let sign = if delta > 0 { "+" } else { "" };
    let percent = match before {
        0 => "new".to_owned(),
        _ => format!("{sign}{:.1}%", 100.0 * delta as f64 / before as f64),
    };
    let percent = if after == 0 {
        "gone".to_owned()
    } else {
        percent
    };
    format!(
        "{} → {}, {sign}{}, {percent}",
        units::human(before, unit),
        units::human(after, unit),
        units::human(delta, unit)
    )
}

fn diff_subtitle(diff: &Diff, note: Option<&str>) -> String {
    let t = &diff.sample_type;
    let mut text = if diff.unchanged() {
        format!(
            "{} — nothing changed ({})",
            t.name,
            units::human(diff.total_after, &t.unit)
        )
    } else {
        format!(
            "{} — {} total; red grew, blue shrank",
            t.name,
            change_text(diff.total_before, diff.total_after, &t.unit)
        )
    };
    if diff.normalized {
        text.push_str("; base normalized");
    }
    if let Some(note) = note {
        text.push_str(", ");
        text.push_str(note);
    }
    text
}

/// Before/after sums of every frame, keyed by (depth, first sample), laid
/// out as inferno lays out the sorted lines. The `all` frame is depth 0.
fn frame_changes(entries: &[Entry]) -> std::collections::HashMap<(usize, u64), (i64, i64)> {
    let lines = entries.iter().map(|entry| {
        // The line is `stack first second`.
        let stack = entry.line.rsplitn(3, ' ').nth(2).unwrap_or("");
        (stack, entry.width, (entry.before, entry.after))
    });
    per_frame(lines, |sums: &mut (i64, i64), (before, after)| {
        sums.0 = sums.0.saturating_add(before);
        sums.1 = sums.1.saturating_add(after);
    })
}

/// Gathers a value of every drawn line into every frame the line passes
/// through, keyed by (depth, first sample) as inferno lays the lines out
/// side by side (`all` is depth 0): `lines` are (stack, width, value).
fn per_frame<'a, T: Copy + Default>(
    lines: impl Iterator<Item = (&'a str, u64, T)>,
    gather: impl Fn(&mut T, T),
) -> std::collections::HashMap<(usize, u64), T> {
    let mut frames = std::collections::HashMap::new();
    let mut open: Vec<(&str, u64)> = Vec::new();
    let mut time = 0u64;
    let mut all = T::default();
    for (stack, width, value) in lines {
        let names: Vec<&str> = stack.split(';').collect();
        let shared = open
            .iter()
            .zip(&names)
            .take_while(|((open_name, _), name)| open_name == *name)
            .count();
        open.truncate(shared);
        for name in &names[shared..] {
            open.push((name, time));
        }
        for (depth, (_, start)) in open.iter().enumerate() {
            gather(frames.entry((depth + 1, *start)).or_default(), value);
        }
        gather(&mut all, value);
        time = time.saturating_add(width);
    }
    frames.insert((0, 0), all);
    frames
}

/// Replaces each frame's tooltip with `make(depth, first sample, name,
/// tooltip)`, where inferno's frame sits at `fg:x` and its depth follows
/// from `y`.
fn rewrite_titles(
    svg: &str,
    inverted: bool,
    make: impl Fn(usize, u64, &str, &str) -> Option<String>,
) -> String {
    const FRAME_HEIGHT: f64 = 16.0;
    let all_y = svg
        .split("<g><title>")
        .skip(1)
        .find(|chunk| chunk.starts_with("all ("))
        .and_then(|chunk| attribute(chunk, "y"))
        .and_then(|y| y.parse::<f64>().ok());
    let Some(all_y) = all_y else {
        return svg.to_owned();
    };
    let mut out = String::with_capacity(svg.len() + svg.len() / 4);
    let mut pieces = svg.split("<g><title>");
    out.push_str(pieces.next().unwrap_or_default());
    for chunk in pieces {
        out.push_str("<g><title>");
        let end = chunk.find("</title>").unwrap_or(0);
        let title = &chunk[..end];
        let name = title.rfind(" (").map_or(title, |at| &title[..at]);
        let depth = attribute(chunk, "y")
            .and_then(|y| y.parse::<f64>().ok())
            .map(|y| if inverted { y - all_y } else { all_y - y })
            .map(|d| (d / FRAME_HEIGHT).round() as usize);
        let start = attribute(chunk, "fg:x").and_then(|x| x.parse::<u64>().ok());
        let replaced = match (depth, start) {
            (Some(depth), Some(start)) => {
                make(depth, start, if depth == 0 { "all" } else { name }, title)
            }
            _ => None,
        };
        match replaced {
            Some(text) => {
                // The name is inferno's, already escaped; what torch adds
                // holds no markup characters.
                out.push_str(&text);
                out.push_str(&chunk[end..]);
            }
            None => out.push_str(chunk),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(stacks: Vec<(&str, i64)>) -> (CallTree, Measure) {
        let tree = CallTree::from_folded(&stacks).unwrap();
        let sample_type = ValueType {
            name: "inuse_space".into(),
            unit: "bytes".into(),
        };
        let measure = Measure::new(0, sample_type, false);
        (tree, measure)
    }

    #[test]
    fn subtitle_states_the_total() {
        let (t, m) = tree(vec![("a", 1024), ("b", 512)]);
        assert_eq!(subtitle(&t, &m), "inuse_space — 1.5 kB total");
        assert_eq!(count_name_of(&m.sample_type), "bytes");
    }

    #[test]
    fn negative_deltas_are_reported_not_drawn() {
        let (t, m) = tree(vec![("a", 2048), ("b", -1024)]);
        assert_eq!(
            subtitle(&t, &m),
            "inuse_space — 2 kB grew, 1 kB shrank (growth drawn)"
        );
        let mut svg = Vec::new();
        render(&t, &m, &RenderOptions::default(), None, &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("total_samples=\"2048\""));
    }

    #[test]
    fn nothing_positive_is_an_error() {
        let (t, m) = tree(vec![("b", -1024)]);
        let result = render(&t, &m, &RenderOptions::default(), None, Vec::new());
        assert!(matches!(result, Err(RenderError::Empty(_))));
    }

    #[test]
    fn folded_diff_lines_keep_width_and_largest_change() {
        let change = Change {
            before: 10,
            after: 4,
            width: 7,
            delta: 3,
        };
        assert_eq!(diff_line("a;b", &change, true), "a;b 10 7");
        assert_eq!(diff_line("a;b", &change, false), "a;b 10 4");
        let vanished = Change { after: 0, ..change };
        assert_eq!(diff_line("a", &vanished, false), "a 20 10");
    }
}
