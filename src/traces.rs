//! pprof's `-traces` report: the profile's labels (file, build id, type,
//! time, duration), then every sample with a stack, in profile order: its
//! string and numeric labels, its value in the sample type's unit, and its
//! frames leaf first, inlined ones marked `(inline)`.

use std::io::{self, Write};

use crate::fold::{self, FoldError, FoldOptions};
use crate::profile::{LabelValue, Location, Profile};
use crate::top::{self, percentage};

const SEPARATOR: &str = "-----------+-------------------------------------------------------";

/// Writes the report for the sample type `options` selects.
pub fn write_traces(
    profile: &Profile,
    options: &FoldOptions,
    mut out: impl Write,
) -> Result<(), TracesError> {
    let measure = fold::measure(profile, options)?;
    let unit = measure.sample_type.unit.clone();
    let total = top::total(profile, measure.index, options.mean);
    for line in header(
        profile,
        &measure.sample_type.name,
        options.mean,
        total,
        &unit,
    ) {
        writeln!(out, "{line}")?;
    }
    let mut any = false;
    for sample in &profile.samples {
        let frames: Vec<(String, bool)> = sample
            .locations
            .iter()
            .flat_map(|&l| frames(profile, &profile.locations[l as usize], options))
            .collect();
        if frames.is_empty() {
            continue;
        }
        any = true;
        writeln!(out, "{SEPARATOR}")?;
        let mut texts: Vec<String> = Vec::new();
        let mut numbers: Vec<String> = Vec::new();
        for (key, values) in grouped_labels(sample) {
            match values {
                Grouped::Str(values) => texts.push(format!("{key:>10}:  {}", values.join(" "))),
                Grouped::Num(values, unit) => {
                    let shown: Vec<String> =
                        values.iter().map(|&v| scaled_label(v, &unit)).collect();
                    numbers.push(format!("{key:>10}:  {}", shown.join(" ")));
                }
            }
        }
        texts.sort();
        numbers.sort();
        for line in texts.iter().chain(&numbers) {
            writeln!(out, "{line}")?;
        }
        let value = sample.values.get(measure.index).copied().unwrap_or(0);
        let value = match options.mean {
            true => value
                .checked_div(sample.values.first().copied().unwrap_or(0))
                .unwrap_or(0),
            false => value,
        };
        for (i, (name, inlined)) in frames.iter().enumerate() {
            let shown = if i == 0 {
                scaled_label(value, &unit)
            } else {
                String::new()
            };
            let mark = if *inlined { " (inline)" } else { "" };
            writeln!(
                out,
                "{shown:>10}   {}{mark}",
                crate::progress::printable(name)
            )?;
        }
    }
    if any {
        writeln!(out, "{SEPARATOR}")?;
    }
    out.flush()?;
    Ok(())
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    #[error(transparent)]
    Fold(#[from] FoldError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// pprof's profile labels, as its text reports begin.
fn header(profile: &Profile, sample_type: &str, mean: bool, total: i64, unit: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(main) = profile.mappings.first() {
        if !main.filename.is_empty() {
            let base = main
                .filename
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(&main.filename);
            lines.push(format!("File: {base}"));
        }
        if !main.build_id.is_empty() {
            lines.push(format!("Build ID: {}", main.build_id));
        }
    }
    lines.extend(
        profile
            .comments
            .iter()
            .filter(|c| !c.starts_with('#'))
            .cloned(),
    );
    let mean = if mean { "mean_" } else { "" };
    lines.push(format!("Type: {mean}{sample_type}"));
    if profile.time_nanos != 0 {
        lines.push(format!(
            "Time: {}",
            crate::units::utc(profile.time_nanos.div_euclid(1_000_000_000))
        ));
    }
    if profile.duration_nanos != 0 {
        let duration = scaled_label(profile.duration_nanos, "nanoseconds");
        let ratio = match crate::units::is_time(unit) {
            true => format!(
                "({})",
                percentage(nanoseconds(total, unit), profile.duration_nanos)
            ),
            false => String::new(),
        };
        lines.push(format!(
            "Duration: {duration}, Total samples = {} {ratio}",
            scaled_label(total, unit)
        ));
    }
    lines
}

/// A location's frames, leaf first, each marked when inlined into the next.
fn frames(profile: &Profile, location: &Location, options: &FoldOptions) -> Vec<(String, bool)> {
    let lines = fold::shown_lines(location, options.no_inlines);
    let named = |f: Option<usize>| {
        f.map(|f| &profile.functions[f])
            .filter(|f| !f.name.is_empty())
    };
    if lines.iter().all(|line| named(line.function).is_none()) {
        return vec![(
            fold::unnamed_location_frame(location.address).into_owned(),
            false,
        )];
    }
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let name = match named(line.function) {
                Some(function) if options.lines => fold::line_frame_name(function, line.line),
                Some(function) => function.name.clone(),
                None => fold::UNKNOWN_FRAME.to_owned(),
            };
            (name, i != last)
        })
        .collect()
}

enum Grouped {
    Str(Vec<String>),
    Num(Vec<i64>, String),
}

/// A sample's labels by key, values in order, as pprof keeps them.
fn grouped_labels(sample: crate::profile::SampleRef<'_>) -> Vec<(String, Grouped)> {
    let mut out: Vec<(String, Grouped)> = Vec::new();
    for label in sample.labels {
        let key = label.key.to_string();
        match &label.value {
            LabelValue::Str(value) => {
                match out
                    .iter_mut()
                    .find(|(k, g)| *k == key && matches!(g, Grouped::Str(_)))
                {
                    Some((_, Grouped::Str(values))) => values.push(value.to_string()),
                    _ => out.push((key, Grouped::Str(vec![value.to_string()]))),
                }
            }
            LabelValue::Num { value, unit } => {
                let unit = unit
                    .as_deref()
                    .map(str::to_owned)
                    .unwrap_or_else(|| default_unit(&key));
                match out
                    .iter_mut()
                    .find(|(k, g)| *k == key && matches!(g, Grouped::Num(..)))
                {
                    Some((_, Grouped::Num(values, _))) => values.push(*value),
                    _ => out.push((key, Grouped::Num(vec![*value], unit))),
                }
            }
        }
    }
    out
}

/// The unit pprof gives a numeric label that names none: `bytes` for the
/// keys Go's heap profiles use, else none.
fn default_unit(key: &str) -> String {
    match key {
        "bytes" | "request" | "alignment" => "bytes".to_owned(),
        _ => key.to_owned(),
    }
}

/// A value as pprof's `measurement.ScaledLabel(value, unit, "minimum")`
/// prints it: `4.02kB`, `840ms`, `1.50MB`, `0`, plain numbers for counts.
pub fn scaled_label(value: i64, unit: &str) -> String {
    if value < 0 && value != i64::MIN {
        let positive = scaled_label(-value, unit);
        return match positive.as_str() {
            "0" => positive,
            _ => format!("-{positive}"),
        };
    }
    let (scaled, suffix) = scale(value as f64, unit);
    let text = format!("{scaled:.2}");
    let text = text.strip_suffix(".00").unwrap_or(&text);
    if text == "0" || text == "-0" {
        return "0".to_owned();
    }
    format!("{text}{suffix}")
}

/// pprof's automatic scaling: the largest unit of the value's kind in
/// which it is at least 1.
fn scale(value: f64, unit: &str) -> (f64, &'static str) {
    const MEMORY: [(&str, f64); 6] = [
        ("B", 1.0),
        ("kB", 1024.0),
        ("MB", 1048576.0),
        ("GB", 1073741824.0),
        ("TB", 1099511627776.0),
        ("PB", 1125899906842624.0),
    ];
    const TIME: [(&str, f64); 5] = [
        ("ns", 1.0),
        ("us", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
        ("hrs", 3600e9),
    ];
    let lower = unit.to_ascii_lowercase();
    let lower = match lower.len() > 2 {
        true => lower.strip_suffix('s').unwrap_or(&lower).to_owned(),
        false => lower,
    };
    let (table, factor): (&[(&str, f64)], f64) = match lower.as_str() {
        "b" | "byte" => (&MEMORY, 1.0),
        "kb" | "kbyte" | "kilobyte" => (&MEMORY, 1024.0),
        "mb" | "mbyte" | "megabyte" => (&MEMORY, 1048576.0),
        "gb" | "gbyte" | "gigabyte" => (&MEMORY, 1073741824.0),
        "ns" | "nanosecond" => (&TIME, 1.0),
        "μs" | "us" | "microsecond" => (&TIME, 1e3),
        "ms" | "millisecond" => (&TIME, 1e6),
        "s" | "sec" | "second" => (&TIME, 1e9),
        "hour" | "hr" => (&TIME, 3600e9),
        _ => return (value, ""),
    };
    let base = value * factor;
    let mut chosen: Option<(&str, f64)> = None;
    for &(name, size) in table {
        if chosen.is_none_or(|(_, f)| size >= f) && base / size >= 1.0 {
            chosen = Some((name, size));
        }
    }
    match chosen {
        Some((name, size)) => (base / size, name),
        // Below the smallest unit (0): the kind's default unit.
        None if std::ptr::eq(table, &TIME[..]) => (base / 1e9, "s"),
        None => (base, "B"),
    }
}

fn nanoseconds(value: i64, unit: &str) -> i64 {
    let (scaled, suffix) = scale(value as f64, unit);
    let factor = match suffix {
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "hrs" => 3600e9,
        _ => 1.0,
    };
    (scaled * factor) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_scaled_as_pprof_scales_them() {
        assert_eq!(scaled_label(16384, "bytes"), "16kB");
        assert_eq!(scaled_label(4116, "bytes"), "4.02kB");
        assert_eq!(scaled_label(1572864, "bytes"), "1.50MB");
        assert_eq!(scaled_label(8, "bytes"), "8B");
        assert_eq!(scaled_label(0, "bytes"), "0");
        assert_eq!(scaled_label(840_000_000, "nanoseconds"), "840ms");
        assert_eq!(scaled_label(2_500_000_000, "nanoseconds"), "2.50s");
        assert_eq!(scaled_label(1234, "count"), "1234");
        assert_eq!(scaled_label(-2048, "bytes"), "-2kB");
    }
}
