//! `go test -bench` output: the standard benchmark format
//! (`BenchmarkX-8  1000  1234 ns/op  512 B/op  3 allocs/op`, custom
//! metrics too), every other line ignored. With `-count N` a benchmark
//! appears N times; it is reported by the median of each metric.

use std::collections::BTreeMap;

/// Every run of every benchmark: name → metric unit → values, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchRuns {
    pub runs: BTreeMap<String, BTreeMap<String, Vec<f64>>>,
    /// Metric units in the order they first appeared.
    pub units: Vec<String>,
}

impl BenchRuns {
    /// Reads `go test -bench` output.
    pub fn parse(text: &str) -> BenchRuns {
        let mut out = BenchRuns::default();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let Some(name) = fields
                .next()
                .filter(|n| n.starts_with("Benchmark") && n.len() > 9)
            else {
                continue;
            };
            // The iteration count, then value–unit pairs.
            if fields.next().and_then(|n| n.parse::<u64>().ok()).is_none() {
                continue;
            }
            let rest: Vec<&str> = fields.collect();
            if rest.is_empty() || !rest.len().is_multiple_of(2) {
                continue;
            }
            let mut metrics = Vec::new();
            for pair in rest.chunks(2) {
                let Ok(value) = pair[0].parse::<f64>() else {
                    metrics.clear();
                    break;
                };
                metrics.push((pair[1].to_owned(), value));
            }
            for (unit, value) in metrics {
                if !out.units.contains(&unit) {
                    out.units.push(unit.clone());
                }
                out.runs
                    .entry(name.to_owned())
                    .or_default()
                    .entry(unit)
                    .or_default()
                    .push(value);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The median of a benchmark's metric, and how many runs gave it.
    pub fn median(&self, name: &str, unit: &str) -> Option<(f64, usize)> {
        let values = self.runs.get(name)?.get(unit)?;
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = match sorted.len() % 2 {
            1 => sorted[middle],
            _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
        };
        Some((median, sorted.len()))
    }
}

/// The summary's tables: one per benchmark, a row per metric, before →
/// after and the change. Medians where there were several runs.
pub fn comparison_markdown(before: &BenchRuns, after: &BenchRuns) -> String {
    let mut md = String::new();
    let mut names: Vec<&String> = after.runs.keys().chain(before.runs.keys()).collect();
    names.sort();
    names.dedup();
    let units: Vec<&String> = {
        let mut units: Vec<&String> = Vec::new();
        for unit in after.units.iter().chain(&before.units) {
            if !units.contains(&unit) {
                units.push(unit);
            }
        }
        units
    };
    for name in names {
        md.push_str(&format!(
            "\n#### `{name}`\n\n| metric | before | after | change |\n|:---|---:|---:|---:|\n"
        ));
        let mut counts = (0, 0);
        for unit in &units {
            let old = before.median(name, unit);
            let new = after.median(name, unit);
            if old.is_none() && new.is_none() {
                continue;
            }
            counts = (
                counts.0.max(old.map_or(0, |o| o.1)),
                counts.1.max(new.map_or(0, |n| n.1)),
            );
            let show = |v: Option<(f64, usize)>| v.map_or("—".to_owned(), |(v, _)| number(v));
            let change = match (old, new) {
                (Some((o, _)), Some((n, _))) if o != 0.0 => format!("{:+.1}%", 100.0 * (n - o) / o),
                (Some((o, _)), Some((n, _))) if o == n => "0%".to_owned(),
                (Some(_), Some(_)) => "new".to_owned(),
                (None, Some(_)) => "new".to_owned(),
                _ => "gone".to_owned(),
            };
            md.push_str(&format!(
                "| {unit} | {} | {} | {change} |\n",
                show(old),
                show(new)
            ));
        }
        if counts.0 > 1 || counts.1 > 1 {
            md.push_str(&format!(
                "\nMedians of {} run{} before and {} after.\n",
                counts.0,
                if counts.0 == 1 { "" } else { "s" },
                counts.1
            ));
        }
    }
    md
}

/// A metric's value: whole numbers as they are, others to three
/// significant decimals.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_standard_format_and_ignores_the_rest() {
        let text = "goos: linux\ngoarch: amd64\npkg: example.com/m\n\
                    BenchmarkEncode-8   \t    1000\t   1234 ns/op\t     512 B/op\t       3 allocs/op\n\
                    BenchmarkEncode-8   \t    1000\t   1250 ns/op\t     512 B/op\t       3 allocs/op\n\
                    BenchmarkEncode-8   \t    1000\t   1100 ns/op\t     512 B/op\t       3 allocs/op\n\
                    BenchmarkHash-8 500 2.5 ns/op 12.00 MB/s 7 widgets/op\n\
                    BenchmarkBroken-8 notanumber 1 ns/op\n\
                    PASS\nok  \texample.com/m\t3.2s\n";
        let runs = BenchRuns::parse(text);
        assert_eq!(runs.median("BenchmarkEncode-8", "ns/op"), Some((1234.0, 3)));
        assert_eq!(runs.median("BenchmarkHash-8", "widgets/op"), Some((7.0, 1)));
        assert_eq!(runs.median("BenchmarkHash-8", "MB/s"), Some((12.0, 1)));
        assert!(!runs.runs.contains_key("BenchmarkBroken-8"));
        assert_eq!(
            runs.units,
            ["ns/op", "B/op", "allocs/op", "MB/s", "widgets/op"]
        );
    }

    #[test]
    fn the_table_says_before_after_and_change() {
        let before = BenchRuns::parse("BenchmarkA-8 10 100 ns/op 64 B/op 2 allocs/op\n");
        let after = BenchRuns::parse("BenchmarkA-8 10 150 ns/op 128 B/op 4 allocs/op\n");
        let md = comparison_markdown(&before, &after);
        assert!(md.contains("| ns/op | 100 | 150 | +50.0% |"), "{md}");
        assert!(md.contains("| allocs/op | 2 | 4 | +100.0% |"), "{md}");
    }
}
