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
        assert_eq!(count_name(&f), "bytes");
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
