//! Folded stacks → interactive SVG, through inferno.
//!
//! Owns everything about how the graph looks: palette choice (the Go
//! palette is torch's own, see [`crate::palette`]), titles, the subtitle
//! with the sample type and total, the notes saying where the profile came
//! from; [`crate::decorate`] then puts units in the tooltips, short labels
//! and the legend into inferno's SVG.

use std::io::{self, Write};

use inferno::flamegraph::color::{BackgroundColor, BasicPalette, Palette, PaletteMap};
use inferno::flamegraph::{self, Direction};

use crate::decorate::{self, attribute, Decorations};
use crate::fold::Folded;
use crate::palette::{GoPalette, Program};
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
}

/// Renders `folded` as an SVG into `out`. `palette_map`, when given, fixes
/// colours across runs (`--cp`) and learns the colours of new frames.
pub fn render(
    folded: &Folded,
    options: &RenderOptions,
    palette_map: Option<&mut PaletteMap>,
    out: impl Write,
) -> Result<(), RenderError> {
    render_program(folded, options, &Program::default(), palette_map, out)
}

/// [`render`], knowing which module is the user's (for the Go palette).
pub fn render_program(
    folded: &Folded,
    options: &RenderOptions,
    program: &Program,
    palette_map: Option<&mut PaletteMap>,
    out: impl Write,
) -> Result<(), RenderError> {
    let lines: Vec<String> = folded
        .stacks
        .iter()
        .filter(|&&(_, value)| value > 0)
        .map(|(stack, value)| format!("{stack} {value}"))
        .collect();
    if lines.is_empty() {
        return Err(RenderError::Empty(folded.sample_type.name.clone()));
    }
    let mut inferno_options = flamegraph::Options::default();
    inferno_options.title = title(options);
    inferno_options.subtitle = Some(match &options.note {
        Some(note) => format!("{}, {note}", subtitle(folded)),
        None => subtitle(folded),
    });
    inferno_options.notes = notes(options, &folded.sample_type);
    // Plain, so decorate can find the value in each tooltip and say it
    // in human units (a mean says so there).
    inferno_options.count_name = count_name_of(&folded.sample_type);
    inferno_options.image_width = Some(options.width);
    inferno_options.min_width = options.min_width;
    // Colours come from the names, never from a random generator, so the
    // same profile always gives the same bytes.
    inferno_options.hash = options.hash;
    inferno_options.deterministic = !options.hash;
    inferno_options.reverse_stack_order = options.reverse;
    if options.inverted {
        inferno_options.direction = Direction::Inverted;
    }
    let mut own_map = PaletteMap::default();
    let mut legend = Vec::new();
    let palette_name = palette_name(folded, options);
    if palette_name == "go" {
        // Every frame gets its Go colour up front; inferno only looks them up.
        let map = match palette_map {
            Some(map) => map,
            None => &mut own_map,
        };
        let go = GoPalette::builtin();
        let stacks = folded.stacks.iter().map(|(stack, _)| stack.as_str());
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
        lines.iter().map(String::as_str),
        &mut svg,
    )
    .map_err(RenderError::Inferno)?;
    let svg = String::from_utf8(svg).expect("inferno writes UTF-8");
    let decorations = Decorations {
        unit: Some(decorate::Unit {
            unit: folded.sample_type.unit.clone(),
            noun: count_name_of(&folded.sample_type),
            mean: folded.mean,
        }),
        short: options.short,
        width: options.width,
        legend,
        footer: footer(options),
    };
    let mut out = out;
    out.write_all(decorate::decorate(&svg, &decorations).as_bytes())
        .map_err(RenderError::Inferno)
}

/// What the SVG's notes record: source, sample type, collection time.
fn notes(options: &RenderOptions, sample_type: &crate::profile::ValueType) -> String {
    let mut parts = Vec::new();
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

/// The bottom-right line: source and collection time.
fn footer(options: &RenderOptions) -> Option<String> {
    let parts: Vec<&str> = [options.source.as_deref(), options.collected.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The palette asked for, or the one that suits the profile's unit.
fn palette_name<'a>(folded: &Folded, options: &'a RenderOptions) -> &'a str {
    options
        .colors
        .as_deref()
        .unwrap_or_else(|| default_palette(folded))
}

fn default_palette(folded: &Folded) -> &'static str {
    let t = &folded.sample_type;
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
pub fn subtitle(folded: &Folded) -> String {
    let t = &folded.sample_type;
    let human = |value| units::human(value, &t.unit);
    let shrank: i64 = folded.stacks.iter().map(|&(_, v)| v.min(0)).sum();
    if folded.mean {
        format!(
            "mean {} — {} per event overall",
            t.name,
            human(folded.total)
        )
    } else if shrank < 0 {
        let grew: i64 = folded.stacks.iter().map(|&(_, v)| v.max(0)).sum();
        format!(
            "{} — {} grew, {} shrank (growth drawn)",
            t.name,
            human(grew),
            human(-shrank)
        )
    } else {
        format!("{} — {} total", t.name, human(folded.total))
    }
}

/// What the numbers in tooltips are: the unit, or for counts, what is
/// counted. (A mean says so in the tooltip, see [`decorate::Unit`].)
fn count_name_of(t: &crate::profile::ValueType) -> String {
    match t.unit.as_str() {
        "count" | "" => match t.name.as_str() {
            "alloc_objects" | "inuse_objects" | "objects" => "objects".to_owned(),
            "goroutine" | "goroutines" => "goroutines".to_owned(),
            "threadcreate" => "threads".to_owned(),
            "contentions" => "contentions".to_owned(),
            "samples" => "samples".to_owned(),
            "" => "count".to_owned(),
            other => other.to_owned(),
        },
        unit => unit.to_owned(),
    }
}

/// Renders a differential flame graph: frame widths from the new profile,
/// colour from the change (red grew, blue shrank, stronger for larger
/// changes), tooltips with `before → after (±change)` in units. Stacks
/// that vanished are drawn at their old width so a shrink stays visible.
pub fn render_diff(
    diff: &crate::diff::Diff,
    options: &RenderOptions,
    out: impl Write,
) -> Result<(), RenderError> {
    // inferno reads `stack first second`: width from second, colour from
    // second − first. A vanished stack gets width `before` and change
    // `-before` (first = 2 × before).
    let lines: Vec<(String, i64, i64)> = diff
        .stacks
        .iter()
        .filter(|&&(_, before, after)| before > 0 || after > 0)
        .map(|(stack, before, after)| {
            let (before, after) = ((*before).max(0), (*after).max(0));
            let stack = match options.reverse {
                true => stack.rsplit(';').collect::<Vec<_>>().join(";"),
                false => stack.clone(),
            };
            (stack, before, after)
        })
        .collect();
    // Each entry: the line inferno reads, and the real before/after.
    let mut entries: Vec<(String, i64, i64)> = lines
        .into_iter()
        .map(|(stack, before, after)| {
            let line = match after {
                0 => format!("{stack} {} {before}", 2 * before),
                _ => format!("{stack} {before} {after}"),
            };
            (line, before, after)
        })
        .collect();
    if entries.is_empty() {
        return Err(RenderError::Empty(diff.sample_type.name.clone()));
    }
    // Sorted here exactly as inferno would sort them, so the layout below
    // matches inferno's.
    entries.sort_unstable();
    let text: Vec<&str> = entries.iter().map(|(line, _, _)| line.as_str()).collect();
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
    let rewritten = rewrite_titles(&svg, options.inverted, |depth, start, name| {
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
    let mut out = out;
    out.write_all(decorate::decorate(&rewritten, &decorations).as_bytes())
        .map_err(RenderError::Inferno)
}

/// `1.5 MB → 2 MB (+512 kB, +33.3%)`
fn change_text(before: i64, after: i64, unit: &str) -> String {
    let delta = after - before;
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

fn diff_subtitle(diff: &crate::diff::Diff, note: Option<&str>) -> String {
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
fn frame_changes(
    entries: &[(String, i64, i64)],
) -> std::collections::HashMap<(usize, u64), (i64, i64)> {
    let mut frames = std::collections::HashMap::new();
    let mut open: Vec<(String, u64)> = Vec::new();
    let mut time = 0u64;
    let (mut all_before, mut all_after) = (0, 0);
    for (line, before, after) in entries {
        let (before, after) = (*before, *after);
        let width = if after == 0 { before } else { after };
        // The line is `stack first second`.
        let stack = line.rsplitn(3, ' ').nth(2).unwrap_or("");
        let names: Vec<&str> = stack.split(';').collect();
        let shared = open
            .iter()
            .zip(&names)
            .take_while(|((open_name, _), name)| open_name == *name)
            .count();
        open.truncate(shared);
        for name in &names[shared..] {
            open.push(((*name).to_owned(), time));
        }
        for (depth, (_, start)) in open.iter().enumerate() {
            let entry: &mut (i64, i64) = frames.entry((depth + 1, *start)).or_default();
            entry.0 += before;
            entry.1 += after;
        }
        all_before += before;
        all_after += after;
        time += width as u64;
    }
    frames.insert((0, 0), (all_before, all_after));
    frames
}

/// Replaces each frame's tooltip with `make(depth, first sample, name)`,
/// where inferno's frame sits at `fg:x` and its depth follows from `y`.
fn rewrite_titles(
    svg: &str,
    inverted: bool,
    make: impl Fn(usize, u64, &str) -> Option<String>,
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
            (Some(depth), Some(start)) => make(depth, start, if depth == 0 { "all" } else { name }),
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
    use crate::profile::ValueType;

    fn folded(stacks: Vec<(&str, i64)>, total: i64) -> Folded {
        Folded {
            sample_type: ValueType {
                name: "inuse_space".into(),
                unit: "bytes".into(),
            },
            mean: false,
            stacks: stacks.into_iter().map(|(s, v)| (s.to_owned(), v)).collect(),
            total,
        }
    }

    #[test]
    fn subtitle_states_the_total() {
        let f = folded(vec![("a", 1024), ("b", 512)], 1536);
        assert_eq!(subtitle(&f), "inuse_space — 1.5 kB total");
        assert_eq!(count_name_of(&f.sample_type), "bytes");
    }

    #[test]
    fn negative_deltas_are_reported_not_drawn() {
        let f = folded(vec![("a", 2048), ("b", -1024)], 3072);
        assert_eq!(
            subtitle(&f),
            "inuse_space — 2 kB grew, 1 kB shrank (growth drawn)"
        );
        let mut svg = Vec::new();
        render(&f, &RenderOptions::default(), None, &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("total_samples=\"2048\""));
    }

    #[test]
    fn nothing_positive_is_an_error() {
        let f = folded(vec![("b", -1024)], 1024);
        let result = render(&f, &RenderOptions::default(), None, Vec::new());
        assert!(matches!(result, Err(RenderError::Empty(_))));
    }
}
