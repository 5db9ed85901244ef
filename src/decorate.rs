//! Finishing touches on inferno's SVG, which inferno has no options for:
//! tooltips in human units (`1.5 MB`, `320 ms`), short labels under
//! `--short` (full names stay in tooltips and search), inlined frames
//! outlined, and a bottom row with the palette's legend and where the
//! profile came from.
//!
//! inferno writes every frame as `<g><title>…</title><rect …/><text …>…
//! </text></g>`; this module rewrites those pieces and adds its own
//! elements just before the closing `</svg>`, growing the image to fit.

use std::fmt::Write as _;

use inferno::flamegraph::color::Color;

use crate::fold::INLINE_MARK;
use crate::units;

/// inferno's layout constants (its defaults, which torch does not change).
const FONT_SIZE: f64 = 12.0;
const FONT_WIDTH: f64 = 0.59;
/// Height of the row torch adds under the graph.
const ROW_HEIGHT: usize = 24;

/// What to change in a rendered SVG.
#[derive(Debug, Clone, Default)]
pub struct Decorations {
    /// Rewrite tooltips as `name (human value, pct%)` in this unit;
    /// `None` leaves them alone (differential graphs write their own).
    pub unit: Option<Unit>,
    /// Label frames with names less their import paths.
    pub short: bool,
    /// Image width in pixels, to fit labels as inferno does.
    pub width: usize,
    /// Legend entries: a label and its colour.
    pub legend: Vec<(String, Color)>,
    /// Said at the bottom right: where the profile came from, and when.
    pub footer: Option<String>,
}

/// How to say a frame's value.
#[derive(Debug, Clone, Default)]
pub struct Unit {
    /// The sample type's unit (`bytes`, `nanoseconds`, `count`).
    pub unit: String,
    /// For counts, what is counted (`objects`, `goroutines`).
    pub noun: String,
    /// The values are means per event.
    pub mean: bool,
}

impl Unit {
    fn say(&self, value: i64) -> String {
        let mut text = units::human(value, &self.unit);
        if !units::is_memory(&self.unit) && !units::is_time(&self.unit) {
            text.push(' ');
            text.push_str(units::noun_for(value, &self.noun));
        }
        if self.mean {
            text.push_str(" mean");
        }
        text
    }
}

/// Applies `decorations` to inferno's `svg`.
pub fn decorate(svg: &str, decorations: &Decorations) -> String {
    let total: f64 = attribute(svg, "total_samples")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0);
    let mut out = String::with_capacity(svg.len() + svg.len() / 8);
    let mut pieces = svg.split("<g><title>");
    out.push_str(pieces.next().unwrap_or_default());
    let mut any_inlined = false;
    for chunk in pieces {
        let frame = Frame::parse(chunk);
        any_inlined |= frame.name.ends_with(INLINE_MARK);
        frame.write(&mut out, decorations, total);
    }
    finish(&mut out, decorations, any_inlined);
    xml_safe(out)
}

/// `svg` without the characters XML forbids (control characters other
/// than tab and line breaks, U+FFFE, U+FFFF), which a profile's names may
/// hold: each becomes U+FFFD, and the document stays well-formed.
fn xml_safe(svg: String) -> String {
    let forbidden = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    match svg.contains(forbidden) {
        false => svg,
        true => svg.replace(forbidden, "\u{fffd}"),
    }
}

/// One frame as inferno wrote it (`chunk` follows `<g><title>`).
struct Frame<'a> {
    /// The tooltip as inferno (or the differential renderer) wrote it.
    title: &'a str,
    /// The escaped name, from the tooltip.
    name: &'a str,
    /// The percentage inferno computed, as it printed it.
    percent: Option<&'a str>,
    /// Everything from `</title>`: the rect, the label, and what follows.
    rest: &'a str,
    /// `fg:w`: the frame's value.
    value: Option<i64>,
}

impl<'a> Frame<'a> {
    fn parse(chunk: &'a str) -> Frame<'a> {
        let end = chunk.find("</title>").unwrap_or(0);
        let title = &chunk[..end];
        // `name (1,234 unit, 5.67%)`: the value part starts at the last
        // ` (` followed by a digit before the last `, `.
        let split = title.rfind(", ").and_then(|comma| {
            let open = title[..comma]
                .match_indices(" (")
                .map(|(at, _)| at)
                .filter(|&at| title[at + 2..].starts_with(|c: char| c.is_ascii_digit()))
                .last()?;
            Some((open, comma))
        });
        let (name, percent) = match split {
            Some((open, comma)) => (
                &title[..open],
                title[comma + 2..]
                    .strip_suffix("%)")
                    .filter(|p| !p.contains(' ')),
            ),
            None => (title, None),
        };
        let value = attribute(chunk, "fg:w").and_then(|w| w.parse().ok());
        Frame {
            title,
            name,
            percent,
            rest: &chunk[end..],
            value,
        }
    }

    fn write(&self, out: &mut String, decorations: &Decorations, total: f64) {
        let inlined = self.name.ends_with(INLINE_MARK);
        let short = decorations
            .short
            .then(|| short_label(self.name))
            .filter(|label| label != self.name);
        out.push_str("<g");
        if inlined {
            out.push_str(" class=\"inline\"");
        }
        if let Some(label) = &short {
            let _ = write!(out, " data-label=\"{label}\"");
        }
        out.push_str("><title>");
        match (&decorations.unit, self.value, self.percent) {
            (Some(unit), Some(value), Some(percent)) => {
                let _ = write!(out, "{} ({}, {percent}%)", self.name, unit.say(value));
            }
            // Left as it was: differential tooltips, or a frame inferno
            // did not write as expected.
            _ => out.push_str(self.title),
        }
        // Every label is cut here, as inferno's script cuts it after a
        // zoom: keeping the end, where the function's own name is.
        let label = short.as_deref().unwrap_or(self.name);
        match self.value {
            Some(value) if total > 0.0 => {
                let fitted = fit(label, value as f64 / total, decorations.width);
                out.push_str(&replace_label(self.rest, &fitted));
            }
            _ => out.push_str(self.rest),
        }
    }
}

/// `--short`'s label: the name less its import path, still escaped.
fn short_label(escaped: &str) -> String {
    let name = unescape(escaped);
    escape(&crate::goname::short_name(&name))
}

/// The label cut to the frame's width as inferno measures it (what fits,
/// in average-width characters, less two for `..`), keeping its end as
/// inferno's script does after a zoom: `..ocgcSmallScanNoHeader`.
fn fit(escaped: &str, fraction: f64, width: usize) -> String {
    let label = unescape(escaped);
    let chars = (fraction * width as f64 / (FONT_SIZE * FONT_WIDTH)).trunc() as usize;
    let length = label.chars().count();
    let text = if chars < 3 {
        String::new()
    } else if length < chars {
        label
    } else {
        let kept: String = label.chars().skip(length - (chars - 2)).collect();
        format!("..{kept}")
    };
    escape(&text)
}

/// Replaces the text of the frame's `<text …>label</text>`.
fn replace_label(rest: &str, label: &str) -> String {
    let Some(open) = rest.find("<text") else {
        return rest.to_owned();
    };
    let Some(start) = rest[open..].find('>').map(|at| open + at + 1) else {
        return rest.to_owned();
    };
    let Some(end) = rest[start..].find("</text>").map(|at| start + at) else {
        return rest.to_owned();
    };
    format!("{}{label}{}", &rest[..start], &rest[end..])
}

/// Adds torch's style, script and bottom row before the final `</svg>`.
fn finish(out: &mut String, decorations: &Decorations, any_inlined: bool) {
    let mut legend: Vec<Swatch> = decorations
        .legend
        .iter()
        .map(|(label, fill)| Swatch {
            label,
            fill: *fill,
            dashed: false,
        })
        .collect();
    if any_inlined && !legend.is_empty() {
        legend.push(Swatch {
            label: "inlined (dashed)",
            fill: Color {
                r: 255,
                g: 255,
                b: 255,
            },
            dashed: true,
        });
    }
    let row = !legend.is_empty() || decorations.footer.is_some();
    let height = attribute(out, "height").and_then(|h| h.parse::<usize>().ok());
    let mut extra = String::new();
    if any_inlined {
        let _ = write!(
            extra,
            "<style type=\"text/css\">#frames > g.inline > rect {{ stroke:{DASH_COLOR}; \
             stroke-width:0.8; stroke-dasharray:{DASHES}; }}</style>"
        );
    }
    if decorations.short {
        extra.push_str(SHORT_LABEL_SCRIPT);
    }
    if let (true, Some(height)) = (row, height) {
        let (bottom, rows) = bottom_rows(&legend, decorations, height);
        grow(out, height, height + rows * ROW_HEIGHT);
        extra.push_str(&bottom);
    }
    if let Some(end) = out.rfind("</svg>") {
        out.insert_str(end, &extra);
    }
}

/// How inlined frames are outlined, in the graph and in the legend.
const DASH_COLOR: &str = "#333";
const DASHES: &str = "3 2";

/// One legend entry.
struct Swatch<'a> {
    label: &'a str,
    fill: Color,
    /// Outlined as inlined frames are.
    dashed: bool,
}

/// About how wide `text` is drawn, in pixels: inferno's estimate, with
/// a margin, as browsers' fonts differ a little.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT_SIZE * FONT_WIDTH * 1.1
}

/// The legend (left, wrapping onto more rows as it needs) and the footer
/// (right, on the legend's last row if it fits beside it, else on a row
/// of its own, cut in the middle with an ellipsis if it is wider than the
/// image; the SVG's notes keep it whole), under the old bottom. Returns
/// the markup and how many rows it takes.
fn bottom_rows(legend: &[Swatch], decorations: &Decorations, top: usize) -> (String, usize) {
    const MARGIN: f64 = 10.0;
    const GAP: f64 = 18.0;
    let right = decorations.width as f64 - MARGIN;
    let mut markup = String::from("<g id=\"legend\">");
    let (mut x, mut row) = (MARGIN, 0usize);
    for swatch in legend {
        let width = 16.0 + text_width(swatch.label);
        if x > MARGIN && x + width > right {
            (x, row) = (MARGIN, row + 1);
        }
        let y = top + row * ROW_HEIGHT + ROW_HEIGHT / 2;
        let dashed = match swatch.dashed {
            true => format!(" stroke=\"{DASH_COLOR}\" stroke-dasharray=\"{DASHES}\""),
            false => String::new(),
        };
        let _ = write!(
            markup,
            "<rect x=\"{x:.1}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"2\" \
             fill=\"rgb({},{},{})\"{dashed}/><text x=\"{:.1}\" y=\"{}\">{}</text>",
            y - 8,
            swatch.fill.r,
            swatch.fill.g,
            swatch.fill.b,
            x + 16.0,
            y + 2,
            escape(swatch.label)
        );
        x += width + GAP;
    }
    let mut rows = row + 1;
    if let Some(footer) = &decorations.footer {
        let room = right - MARGIN;
        let shown = fit_in_middle(footer, room);
        let beside_legend = legend.is_empty() || x + text_width(&shown) <= right;
        let row = match beside_legend {
            true => row,
            false => {
                rows += 1;
                row + 1
            }
        };
        let y = top + row * ROW_HEIGHT + ROW_HEIGHT / 2;
        let _ = write!(
            markup,
            "<text id=\"footer\" x=\"{right:.0}\" y=\"{}\" text-anchor=\"end\" \
             fill=\"#555\">{}</text>",
            y + 2,
            escape(&shown)
        );
    }
    markup.push_str("</g>");
    (markup, rows)
}

/// `text`, cut in the middle with `…` so that it is drawn at most `room`
/// pixels wide: the start (where it came from) and the end (when) stay.
fn fit_in_middle(text: &str, room: f64) -> String {
    if text_width(text) <= room {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let keep = ((room / text_width("m")) as usize).saturating_sub(1).max(2);
    let head = keep / 2;
    let tail = keep - head;
    let start: String = chars[..head.min(chars.len())].iter().collect();
    let end: String = chars[chars.len().saturating_sub(tail)..].iter().collect();
    format!("{start}…{end}")
}

/// Makes the image `new` pixels tall: the root element and the
/// background.
fn grow(svg: &mut String, old: usize, new: usize) {
    let Some(root_end) = svg
        .find("<svg ")
        .and_then(|at| svg[at..].find('>').map(|e| at + e))
    else {
        return;
    };
    let root = svg[..root_end]
        .replacen(
            &format!(" height=\"{old}\""),
            &format!(" height=\"{new}\""),
            1,
        )
        .replacen(&format!(" {old}\" xmlns"), &format!(" {new}\" xmlns"), 1);
    let background_old = format!("height=\"{old}\" fill=\"url(#background)\"");
    let background_new = format!("height=\"{new}\" fill=\"url(#background)\"");
    let rest = svg[root_end..].replacen(&background_old, &background_new, 1);
    *svg = root + &rest;
}

/// Labels from `data-label` when zooming or resizing, cut from the left
/// to fit (keeping the end, as everywhere), so `--short` names survive
/// inferno's redraws.
const SHORT_LABEL_SCRIPT: &str = r#"<script type="text/ecmascript"><![CDATA[
function torch_label(e) {
    var label = e.getAttribute("data-label");
    if (label !== null) return label;
    return find_child(e, "title").textContent.replace(/\([^(]*\)$/, "");
}
function update_text(e) {
    var r = find_child(e, "rect"), t = find_child(e, "text");
    var room = parseFloat(r.attributes.width.value) * frames.attributes.width.value / 100 - 3;
    t.attributes.x.value = format_percent(parseFloat(r.attributes.x.value) + 300 / frames.attributes.width.value);
    var label = torch_label(e);
    if (room < 2 * fontsize * fontwidth) { t.textContent = ""; return; }
    t.textContent = label;
    if (t.getComputedTextLength() < room) return;
    var fits = 0, tooLong = label.length;
    while (tooLong - fits > 1) {
        var middle = (fits + tooLong) >> 1;
        t.textContent = ".." + label.substring(label.length - middle);
        if (t.getComputedTextLength() <= room) fits = middle; else tooLong = middle;
    }
    t.textContent = fits > 0 ? ".." + label.substring(label.length - fits) : "";
}
function update_text_for_elements(elements) {
    for (var i = 0; i < elements.length; i++) update_text(elements[i]);
}
]]></script>"#;

/// The value of the first ` name="…"` in `text` (an SVG element's text,
/// or a whole document).
pub(crate) fn attribute<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = text.find(&key)? + key.len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// Escapes text for an SVG element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Undoes XML escaping (the five named entities and numeric ones).
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&end| end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: &str = "<g><title>github.com/o/r/pkg.(*T).M (1,536 bytes, 60.00%)</title>\
        <rect x=\"0.0000%\" y=\"61\" width=\"60.0000%\" height=\"15\" fill=\"rgb(1,2,3)\" \
        fg:x=\"0\" fg:w=\"1536\"/><text x=\"0.2500%\" y=\"71.50\">github.com/o/r/pkg.(*T).M</text></g>";

    fn svg(frames: &str) -> String {
        format!(
            "<svg version=\"1.1\" width=\"1200\" height=\"100\" viewBox=\"0 0 1200 100\" xmlns=\"x\">\
             <rect x=\"0\" y=\"0\" width=\"100%\" height=\"100\" fill=\"url(#background)\"/>\
             <svg id=\"frames\" x=\"10\" width=\"1180\" total_samples=\"2560\">{frames}</svg></svg>"
        )
    }

    fn bytes() -> Option<Unit> {
        Some(Unit {
            unit: "bytes".into(),
            noun: "bytes".into(),
            mean: false,
        })
    }

    #[test]
    fn tooltips_speak_human_units() {
        let decorations = Decorations {
            unit: bytes(),
            width: 1200,
            ..Decorations::default()
        };
        let out = decorate(&svg(FRAME), &decorations);
        assert!(out.contains("<title>github.com/o/r/pkg.(*T).M (1.5 kB, 60.00%)</title>"));
        assert!(
            out.contains(">github.com/o/r/pkg.(*T).M</text>"),
            "labels untouched"
        );
    }

    #[test]
    fn counts_keep_their_noun_and_means_say_so() {
        let unit = Unit {
            unit: "count".into(),
            noun: "goroutines".into(),
            mean: false,
        };
        assert_eq!(unit.say(1234), "1,234 goroutines");
        assert_eq!(unit.say(1), "1 goroutine");
        assert_eq!(unit.say(-1), "-1 goroutine");
        let mean = Unit {
            unit: "nanoseconds".into(),
            noun: "nanoseconds".into(),
            mean: true,
        };
        assert_eq!(mean.say(1_500_000), "1.5 ms mean");
    }

    #[test]
    fn short_labels_keep_full_names_in_tooltips() {
        let decorations = Decorations {
            unit: bytes(),
            short: true,
            width: 1200,
            ..Decorations::default()
        };
        let out = decorate(&svg(FRAME), &decorations);
        assert!(out.contains("<g data-label=\"pkg.(*T).M\"><title>github.com/o/r/pkg.(*T).M ("));
        assert!(out.contains(">pkg.(*T).M</text>"));
        assert!(out.contains("function torch_label"));
    }

    #[test]
    fn inlined_frames_get_a_class_and_a_legend_entry() {
        let inlined = FRAME.replace("(*T).M (1,536", "(*T).M (inline) (1,536");
        let decorations = Decorations {
            unit: bytes(),
            width: 1200,
            legend: vec![("this module".into(), Color { r: 1, g: 2, b: 3 })],
            footer: Some("cpu.pb.gz".into()),
            ..Decorations::default()
        };
        let out = decorate(&svg(&inlined), &decorations);
        assert!(out.contains("<g class=\"inline\"><title>"));
        assert!(out.contains("g.inline > rect"));
        assert!(out.contains(">inlined (dashed)</text>"));
        assert!(out.contains(">this module</text>"));
        assert!(out.contains(">cpu.pb.gz</text>"));
        assert!(out.contains(" height=\"124\" viewBox=\"0 0 1200 124\""));
        assert!(out.contains("height=\"124\" fill=\"url(#background)\""));
    }

    #[test]
    fn labels_are_cut_keeping_their_end() {
        assert_eq!(fit("abcdefghij", 1.0, 1200), "abcdefghij");
        assert_eq!(fit("abcdefghijklmnop", 0.06, 1200), "..ijklmnop");
        assert_eq!(fit("abc", 0.001, 1200), "");
        assert_eq!(fit("a&amp;b", 1.0, 1200), "a&amp;b");
    }

    #[test]
    fn unescape_round_trips() {
        let text = "a<b>&\"c'\u{e9}";
        assert_eq!(unescape(&escape(text)), text);
        assert_eq!(unescape("&#x41;&#66;&bogus;&"), "AB&bogus;&");
    }
}
