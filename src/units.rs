//! Human-readable numbers for a sample type's unit: `2.37 GB`, `29.81 s`,
//! `1,024 objects`. Memory uses 1024-based steps, as `go tool pprof` does.

/// Formats `value` measured in `unit` (a pprof unit string such as `bytes`,
/// `nanoseconds` or `count`) for people.
pub fn human(value: i64, unit: &str) -> String {
    let text = human_unchecked(value, unit);
    // Sums saturate rather than wrap; a value at the edge is one that did.
    match value {
        i64::MAX | i64::MIN => format!("{text} (saturated)"),
        _ => text,
    }
}

fn human_unchecked(value: i64, unit: &str) -> String {
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

/// `noun` (a plural: `goroutines`, `objects`) as it goes with `count`:
/// singular for one.
pub fn noun_for(count: i64, noun: &str) -> &str {
    match count.unsigned_abs() {
        1 => noun.strip_suffix('s').unwrap_or(noun),
        _ => noun,
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

/// `2026-11-27 09:55:48 UTC` for a Unix time in seconds.
pub fn utc(unix_seconds: i64) -> String {
    let (days, seconds) = (
        unix_seconds.div_euclid(86_400),
        unix_seconds.rem_euclid(86_400),
    );
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01, counting in
/// 400-year eras that start on 1 March (so leap days fall at era ends).
fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_773_348), "2026-11-27 09:55:48 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
    }

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
