//! pprof's label ("tag") options: `--tagfocus` / `--tagignore` keep or
//! drop samples by their labels, `--tagshow` / `--taghide` keep or drop
//! labels by key, and `--tag-root` / `--tag-leaf` turn labels into frames,
//! so one graph splits by, say, `op`. The semantics are `go tool pprof`'s:
//!
//! - A filter is `[KEY=]SPEC`. A SPEC that reads as a numeric range
//!   (`1mb:`, `:64kb`, `1kb:2kb`, `2kb`, `100ms:`) matches numeric labels
//!   whose value, in the range's unit, falls in it. Any other SPEC is a
//!   comma-separated list of regular expressions: with a KEY, a sample
//!   matches when one of them matches one of that key's values; without,
//!   when every one matches some `key:value` of the sample.
//! - A label frame's name is the sample's values for the key, joined by
//!   commas (numbers as plain integers unless the label has a unit), and
//!   `<unknown>` for a sample without that label.

use std::collections::HashMap;

use regex::Regex;

use crate::profile::{Label, LabelValue, Profile, SampleRef};

/// `--tagfocus` / `--tagignore`: which samples a label filter matches.
#[derive(Debug, Clone)]
pub struct TagFilter {
    /// As typed, for messages.
    text: String,
    key: Option<String>,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Regexes(Vec<Regex>),
    Range(Range),
}

/// A numeric range in base units (bytes or nanoseconds, or plain counts).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    low: Option<f64>,
    high: Option<f64>,
    family: Family,
}

/// What kind of quantity a unit measures; values of different families
/// never match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Bytes,
    Time,
    /// A unit torch does not scale: only the same unit matches.
    Other,
}

impl TagFilter {
    /// Parses `[KEY=]SPEC` as pprof does.
    pub fn parse(text: &str) -> Result<TagFilter, String> {
        let (key, spec) = match text.split_once('=') {
            Some((key, spec)) => (Some(key.to_owned()), spec),
            None => (None, text),
        };
        let matcher = match parse_range(spec) {
            Some(range) => Matcher::Range(range),
            None => Matcher::Regexes(
                spec.split(',')
                    .map(|re| {
                        Regex::new(re).map_err(|e| format!("invalid regular expression: {e}"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(TagFilter {
            text: text.to_owned(),
            key,
            matcher,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `sample` matches.
    fn matches(&self, sample: SampleRef<'_>) -> bool {
        match (&self.matcher, &self.key) {
            (Matcher::Range(range), key) => sample.labels.iter().any(|label| {
                key.as_ref().is_none_or(|key| *label.key == **key)
                    && match &label.value {
                        LabelValue::Num { value, unit } => {
                            range.contains(*value, &label_unit(&label.key, unit.as_deref()))
                        }
                        LabelValue::Str(_) => false,
                    }
            }),
            (Matcher::Regexes(regexes), Some(key)) => sample.labels.iter().any(|label| {
                *label.key == **key
                    && matches!(&label.value, LabelValue::Str(value)
                        if regexes.iter().any(|re| re.is_match(value)))
            }),
            (Matcher::Regexes(regexes), None) => regexes.iter().all(|re| {
                sample.labels.iter().any(|label| match &label.value {
                    LabelValue::Str(value) => re.is_match(&format!("{}:{value}", label.key)),
                    LabelValue::Num { .. } => false,
                })
            }),
        }
    }
}

impl PartialEq for TagFilter {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// The unit of a numeric label: its own, else as pprof infers it from the
/// key (`bytes`, and `alignment` and `request`, are bytes; other keys are
/// their own unit).
fn label_unit(key: &str, unit: Option<&str>) -> String {
    match unit {
        Some(unit) if !unit.is_empty() => unit.to_owned(),
        _ => match key {
            "alignment" | "request" => "bytes".to_owned(),
            key => key.to_owned(),
        },
    }
}

impl Range {
    fn contains(&self, value: i64, unit: &str) -> bool {
        let Some((value, family)) = in_base_units(value as f64, unit) else {
            return false;
        };
        family == self.family
            && self.low.is_none_or(|low| value >= low)
            && self.high.is_none_or(|high| value <= high)
    }
}

/// `N`, `N:`, `:N` or `N:M`, each `N` an integer with an optional unit.
fn parse_range(spec: &str) -> Option<Range> {
    let bound = |text: &str| -> Option<(f64, Family)> {
        let digits = text
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
            .map_or(text.len(), |(i, _)| i);
        let number: i64 = text[..digits].parse().ok()?;
        let unit = &text[digits..];
        if !unit.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        in_base_units(number as f64, unit)
    };
    let (low, high) = match spec.split_once(':') {
        None => {
            let exact = bound(spec)?;
            (Some(exact), Some(exact))
        }
        Some(("", high)) => (None, Some(bound(high)?)),
        Some((low, "")) => (Some(bound(low)?), None),
        Some((low, high)) => (Some(bound(low)?), Some(bound(high)?)),
    };
    let family = low.or(high)?.1;
    if [low, high].iter().flatten().any(|(_, f)| *f != family) {
        return None;
    }
    Some(Range {
        low: low.map(|(v, _)| v),
        high: high.map(|(v, _)| v),
        family,
    })
}

/// `value` of `unit` in bytes or nanoseconds; a unit torch does not know
/// stays as it is (and only matches itself: an empty unit, a count).
fn in_base_units(value: f64, unit: &str) -> Option<(f64, Family)> {
    let unit = unit.to_ascii_lowercase();
    let bytes = |scale: f64| Some((value * scale, Family::Bytes));
    let time = |scale: f64| Some((value * scale, Family::Time));
    match unit.as_str() {
        "b" | "byte" | "bytes" => bytes(1.0),
        "kb" | "kbyte" | "kbytes" | "kilobyte" | "kilobytes" => bytes(1024.0),
        "mb" | "mbyte" | "mbytes" | "megabyte" | "megabytes" => bytes(1024.0 * 1024.0),
        "gb" | "gbyte" | "gbytes" | "gigabyte" | "gigabytes" => bytes(1024f64.powi(3)),
        "tb" | "tbyte" | "tbytes" | "terabyte" | "terabytes" => bytes(1024f64.powi(4)),
        "ns" | "nanosecond" | "nanoseconds" => time(1.0),
        "us" | "µs" | "microsecond" | "microseconds" => time(1e3),
        "ms" | "millisecond" | "milliseconds" => time(1e6),
        "s" | "sec" | "second" | "seconds" => time(1e9),
        "m" | "min" | "minute" | "minutes" => time(60e9),
        "h" | "hour" | "hours" => time(3600e9),
        "" => Some((value, Family::Other)),
        _ => None,
    }
}

/// Keeps the samples `focus` matches (all without it) that `ignore` does
/// not; returns whether each matched any sample.
pub fn filter_samples(
    profile: &mut Profile,
    focus: Option<&TagFilter>,
    ignore: Option<&TagFilter>,
) -> (bool, bool) {
    let (mut focused, mut ignored) = (false, false);
    if focus.is_none() && ignore.is_none() {
        return (focused, ignored);
    }
    profile.samples.retain(|sample| {
        let keep = focus.is_none_or(|focus| focus.matches(sample));
        focused |= focus.is_some() && keep;
        let drop = ignore.is_some_and(|ignore| ignore.matches(sample));
        ignored |= drop;
        keep && !drop
    });
    (focused, ignored)
}

/// Keeps only the labels whose key `show` matches, then drops those
/// `hide` matches; returns whether each matched any label.
pub fn filter_labels(
    profile: &mut Profile,
    show: Option<&Regex>,
    hide: Option<&Regex>,
) -> (bool, bool) {
    let (mut shown, mut hidden) = (false, false);
    if show.is_none() && hide.is_none() {
        return (shown, hidden);
    }
    profile.samples.edit(|sample| {
        sample.labels.retain(|label| {
            let keep = show.is_none_or(|re| re.is_match(&label.key));
            shown |= show.is_some() && keep;
            let drop = hide.is_some_and(|re| re.is_match(&label.key));
            hidden |= drop;
            keep && !drop
        });
        true
    });
    (shown, hidden)
}

/// Adds a frame per key in `roots` above each sample's stack (the first
/// key outermost) and per key in `leaves` below it (the last innermost),
/// named by the sample's values for that key; returns whether any sample
/// had a root key and a leaf key.
pub fn add_label_frames(
    profile: &mut Profile,
    roots: &[String],
    leaves: &[String],
) -> (bool, bool) {
    if roots.is_empty() && leaves.is_empty() {
        return (false, false);
    }
    let mut frames = LabelFrames::default();
    let (mut rooted, mut leafed) = (false, false);
    let mut samples = std::mem::take(&mut profile.samples);
    samples.edit(|sample| {
        let (root_frames, matched_root) = frames.for_keys(profile, sample.as_ref(), roots);
        let (leaf_frames, matched_leaf) = frames.for_keys(profile, sample.as_ref(), leaves);
        rooted |= matched_root;
        leafed |= matched_leaf;
        // Locations are leaf first: leaves, the stack, then the roots
        // (innermost root key first).
        let mut locations = leaf_frames;
        locations.extend_from_slice(&sample.locations);
        locations.extend(root_frames);
        sample.locations = locations;
        true
    });
    profile.samples = samples;
    (rooted, leafed)
}

/// The locations made for label frames, one per (values, key).
#[derive(Default)]
struct LabelFrames {
    made: HashMap<(String, String), u32>,
}

impl LabelFrames {
    /// The sample's frames for `keys`, leaf first (so the last key comes
    /// first), and whether the sample had any of the keys.
    fn for_keys(
        &mut self,
        profile: &mut Profile,
        sample: SampleRef<'_>,
        keys: &[String],
    ) -> (Vec<u32>, bool) {
        let mut matched = false;
        let mut locations = Vec::with_capacity(keys.len());
        for key in keys.iter().rev() {
            let values = label_values(sample.labels, key);
            matched |= !values.is_empty();
            locations.push(self.location(profile, values.join(","), key));
        }
        (locations, matched)
    }

    fn location(&mut self, profile: &mut Profile, name: String, key: &str) -> u32 {
        let made = self.made.entry((name, key.to_owned()));
        *made.or_insert_with_key(|(name, key)| profile.add_frame(name, key))
    }
}

/// A sample's values for `key`, strings first, as pprof lists them:
/// numbers as plain integers, or scaled when the label has a unit.
fn label_values(labels: &[Label], key: &str) -> Vec<String> {
    let strings = labels.iter().filter_map(|label| match &label.value {
        LabelValue::Str(value) if *label.key == *key => Some(value.to_string()),
        _ => None,
    });
    let numbers = labels.iter().filter_map(|label| match &label.value {
        LabelValue::Num { value, unit } if *label.key == *key => Some(match unit.as_deref() {
            None | Some("") => value.to_string(),
            Some(unit) => crate::units::human(*value, unit).replace(' ', ""),
        }),
        _ => None,
    });
    strings.chain(numbers).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_as_pprof_reads_them() {
        let range = |spec: &str| parse_range(spec).unwrap();
        assert!(range("1kb:").contains(2048, "bytes"));
        assert!(!range("1kb:").contains(1000, "bytes"));
        assert!(range(":64kb").contains(65536, "bytes"));
        assert!(range("1kb:2kb").contains(1500, "b"));
        assert!(range("2kb").contains(2048, "bytes"));
        assert!(!range("2kb").contains(2049, "bytes"));
        assert!(range("100ms:").contains(1, "s"));
        assert!(!range("100ms:").contains(1, "bytes"), "another family");
        assert!(range("3").contains(3, ""));
        // Not ranges: regular expressions.
        for spec in ["scan", "a.*", "1kb:2ms", "x:y", "get,put"] {
            assert!(parse_range(spec).is_none(), "{spec}");
        }
    }
}
