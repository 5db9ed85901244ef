//! Human-readable numbers for a sample type's unit: `2.37 GB`, `29.81 s`,
//! `1,024 objects`. Memory uses 1024-based steps, as `go tool pprof` does.

/// Formats `value` measured in `unit` (a pprof unit string such as `bytes`,
/// `nanoseconds` or `count`) for people.
pub fn human(value: i64, unit: &str) -> String {
    let magnitude = value.unsigned_abs() as f64;
    let sign = if value < 0 { "-" } else { "" };
    match unit_kind(unit) {
        UnitKind::Bytes(scale) => {
            format!("{sign}{}", scaled(magnitude * scale, 1024.0, &MEMORY_STEPS))
        }
        UnitKind::Time(scale) => format!("{sign}{}", time(magnitude * scale)),
        UnitKind::Count => thousands(value),
    }
}

enum UnitKind {
    /// Bytes per unit.
    Bytes(f64),
    /// Nanoseconds per unit.
    Time(f64),
    Count,
}

fn unit_kind(unit: &str) -> UnitKind {
    match unit.to_ascii_lowercase().as_str() {
        "b" | "byte" | "bytes" => UnitKind::Bytes(1.0),
        "kb" | "kilobyte" | "kilobytes" => UnitKind::Bytes(1024.0),
        "mb" | "megabyte" | "megabytes" => UnitKind::Bytes(1024.0 * 1024.0),
        "ns" | "nanosecond" | "nanoseconds" => UnitKind::Time(1.0),
        "us" | "microsecond" | "microseconds" => UnitKind::Time(1e3),
        "ms" | "millisecond" | "milliseconds" => UnitKind::Time(1e6),
        "s" | "sec" | "second" | "seconds" => UnitKind::Time(1e9),
        _ => UnitKind::Count,
    }
}

/// True when values of this unit are amounts of memory.
pub fn is_memory(unit: &str) -> bool {
    matches!(unit_kind(unit), UnitKind::Bytes(_))
}

/// True when values of this unit are durations.
pub fn is_time(unit: &str) -> bool {
    matches!(unit_kind(unit), UnitKind::Time(_))
}

const MEMORY_STEPS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

fn scaled(mut value: f64, step: f64, names: &[&str]) -> String {
    let mut name = names[0];
    for next in &names[1..] {
        if value < step {
            break;
        }
        value /= step;
        name = next;
    }
    format!("{} {name}", two_decimals(value))
}

fn time(ns: f64) -> String {
    const STEPS: [(f64, &str); 6] = [
        (3600e9, "h"),
        (60e9, "min"),
        (1e9, "s"),
        (1e6, "ms"),
        (1e3, "µs"),
        (1.0, "ns"),
    ];
    // Minutes and hours only once a duration is long enough to need them.
    let (size, name) = STEPS
        .iter()
        .copied()
        .find(|&(size, _)| ns >= size && (size <= 1e9 || ns >= 100.0 * size))
        .unwrap_or((1.0, "ns"));
    format!("{} {name}", two_decimals(ns / size))
}

/// `%.2f` without trailing zeros: `2.50` → `2.5`, `3.00` → `3`.
fn two_decimals(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `1234567` → `1,234,567`.
pub fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_uses_binary_steps() {
        assert_eq!(human(512, "bytes"), "512 B");
        assert_eq!(human(1536, "bytes"), "1.5 kB");
        assert_eq!(human(2_544_768_000, "bytes"), "2.37 GB");
    }

    #[test]
    fn time_picks_a_readable_unit() {
        assert_eq!(human(250, "nanoseconds"), "250 ns");
        assert_eq!(human(10_000_000, "nanoseconds"), "10 ms");
        assert_eq!(human(29_810_000_000, "nanoseconds"), "29.81 s");
        assert_eq!(human(600_000_000_000, "nanoseconds"), "600 s");
        assert_eq!(human(7_200_000_000_000, "nanoseconds"), "120 min");
    }

    #[test]
    fn counts_get_separators() {
        assert_eq!(human(1_234_567, "count"), "1,234,567");
        assert_eq!(human(-1000, "count"), "-1,000");
        assert_eq!(human(12, "count"), "12");
    }
}
