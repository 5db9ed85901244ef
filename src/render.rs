//! Folded stacks → interactive SVG, through inferno.
//!
//! Owns everything about how the graph looks: palette choice, titles, the
//! unit name on every frame, and the subtitle with the sample type and total.

use std::io::{self, Write};

use inferno::flamegraph::color::{Palette, PaletteMap};
use inferno::flamegraph::{self, Direction};

use crate::fold::Folded;
use crate::units;

/// Palettes torch accepts for `--colors` (all of inferno's).
pub const PALETTES: &[&str] = &[
    "hot", "mem", "io", "wakeup", "java", "js", "perl", "python", "rust", "red", "green", "blue",
    "aqua", "yellow", "purple", "orange",
];

/// How the flame graph should look. `Default` matches the CLI defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// A palette name from [`PALETTES`]; `None` picks one from the unit
    /// (`mem` for memory profiles, `hot` otherwise).
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
        }
    }
}

/// Why a flame graph could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("unknown palette {0:?}; choose one of: {list}", list = PALETTES.join(", "))]
    UnknownPalette(String),
    #[error("nothing to draw: every {0} value is zero")]
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
    inferno_options.colors = palette(folded, options)?;
    inferno_options.title = title(options);
    inferno_options.subtitle = Some(match &options.note {
        Some(note) => format!("{}, {note}", subtitle(folded)),
        None => subtitle(folded),
    });
    inferno_options.count_name = count_name(folded);
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
    inferno_options.palette_map = palette_map;
    flamegraph::from_lines(&mut inferno_options, lines.iter().map(String::as_str), out)
        .map_err(RenderError::Inferno)
}

/// The palette asked for, or the one that suits the profile's unit.
fn palette(folded: &Folded, options: &RenderOptions) -> Result<Palette, RenderError> {
    let name = options
        .colors
        .as_deref()
        .unwrap_or_else(|| default_palette(folded));
    name.parse()
        .map_err(|_| RenderError::UnknownPalette(name.to_owned()))
}

fn default_palette(folded: &Folded) -> &'static str {
    let t = &folded.sample_type;
    let memory = units::is_memory(&t.unit) || t.name.ends_with("_objects");
    if memory {
        "mem"
    } else {
        "hot"
    }
}

fn title(options: &RenderOptions) -> String {
    match (&options.title, options.inverted) {
        (Some(title), _) => title.clone(),
        (None, true) => "Icicle Graph".to_owned(),
        (None, false) => "Flame Graph".to_owned(),
    }
}

/// `alloc_space — 2.37 GB total`, or for a mean, the overall mean.
pub fn subtitle(folded: &Folded) -> String {
    let t = &folded.sample_type;
    let amount = units::human(folded.total, &t.unit);
    if folded.mean {
        format!("mean {} — {amount} per event overall", t.name)
    } else {
        format!("{} — {amount} total", t.name)
    }
}

/// What the numbers in tooltips are: the unit, or for counts, what is counted.
pub fn count_name(folded: &Folded) -> String {
    let t = &folded.sample_type;
    let base = match t.unit.as_str() {
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
    };
    if folded.mean {
        format!("{base} (mean)")
    } else {
        base
    }
}
