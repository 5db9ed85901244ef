//! Go's debug=1 text profiles (fixtures/profiles/text): torch's per-sample
//! values, totals and (with pprof's names) folded stacks equal what
//! `go tool pprof` computes for the same files, and the names torch takes
//! from the files' `#` comment lines agree with pprof symbolizing them with
//! the workload binary. See fixtures/README.md and fixtures/expect.py.

use std::collections::HashMap;

use torch::fold::{self, FoldOptions, Folded, SampleSelection};
use torch::profile::{Function, Line, Profile, DEFAULT_MAX_SIZE};
use torch::source;

use crate::util::*;

fn load(expected: &Expected) -> Profile {
    let raw = source::read_file(&expected.profile(), None, DEFAULT_MAX_SIZE).unwrap();
    torch::decode(&raw, DEFAULT_MAX_SIZE).unwrap()
}

fn fold_as(profile: &Profile, sample_type: &str, mean: bool) -> Folded {
    let selection = SampleSelection::Named(sample_type.to_owned());
    let options = FoldOptions {
        selection,
        mean,
        ..FoldOptions::default()
    };
    fold::fold(profile, &options).unwrap()
}

/// pprof's symbolization with the binary: address → (function, file, line),
/// `None` for `??`.
type PprofNames = HashMap<u64, Option<(String, String, i64)>>;

fn pprof_names(expected: &Expected) -> PprofNames {
    expected
        .read("locations.txt")
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let address = u64::from_str_radix(fields[0].trim_start_matches("0x"), 16).unwrap();
            let info = (fields[1] != "??").then(|| {
                let (file, number) = fields[2].rsplit_once(':').unwrap();
                (
                    fields[1].to_owned(),
                    file.to_owned(),
                    number.parse().unwrap(),
                )
            });
            (address, info)
        })
        .collect()
}

/// The profile with every location named as pprof names it with the binary
/// (one line, the function the code belongs to).
fn with_pprof_names(profile: &Profile, names: &PprofNames) -> Profile {
    let mut p = profile.clone();
    p.functions.clear();
    for location in &mut p.locations {
        let info = names
            .get(&location.address)
            .unwrap_or_else(|| panic!("pprof has no location 0x{:x}", location.address));
        location.lines = match info {
            None => Vec::new(),
            Some((name, file, line)) => {
                p.functions.push(Function {
                    name: name.clone(),
                    system_name: name.clone(),
                    filename: file.clone(),
                    start_line: 0,
                });
                vec![Line {
                    function: Some(p.functions.len() - 1),
                    line: *line,
                }]
            }
        };
    }
    p
}

/// A symbol-table name as Go's runtime prints it: the type arguments of
/// generic functions become `[...]`.
fn print_name(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in name.chars() {
        match c {
            '[' => {
                if depth == 0 {
                    out.push_str("[...]");
                }
                depth += 1;
            }
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn outer_name(profile: &Profile, location: usize) -> Option<&str> {
    let line = profile.locations[location].lines.last()?;
    Some(profile.functions[line.function?].name.as_str())
}

#[test]
fn every_text_fixture_decodes_with_pprofs_types_and_default() {
    let names: Vec<String> = expected_text_profiles()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        [
            "text-block",
            "text-goroutine",
            "text-heap",
            "text-mutex",
            "text-threadcreate"
        ]
    );
    for expected in expected_text_profiles() {
        let profile = load(&expected);
        let types: Vec<String> = profile
            .sample_types
            .iter()
            .map(|t| format!("{} {}\n", t.name, t.unit))
            .collect();
        assert_eq!(
            types.concat(),
            expected.read("types.txt"),
            "{}",
            expected.name
        );
        let folded = fold::fold(&profile, &FoldOptions::default()).unwrap();
        assert_eq!(
            folded.sample_type.name,
            expected.default_type(),
            "{}",
            expected.name
        );
    }
}

#[test]
fn per_sample_values_and_addresses_equal_pprof_raw() {
    let mut checked = 0;
    for expected in expected_text_profiles() {
        let profile = load(&expected);
        let want: Vec<String> = expected
            .read("samples.txt")
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(profile.samples.len(), want.len(), "{}", expected.name);
        for (i, (sample, want)) in profile.samples.iter().zip(&want).enumerate() {
            let values: Vec<String> = sample.values.iter().map(i64::to_string).collect();
            let addresses: Vec<String> = sample
                .locations
                .iter()
                .map(|&l| format!("0x{:x}", profile.locations[l as usize].address))
                .collect();
            let got = format!("{} @ {}", values.join(" "), addresses.join(" "));
            assert_eq!(
                got.trim_end(),
                want.trim_end(),
                "{} sample {i}",
                expected.name
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked} samples");
}

#[test]
fn totals_equal_pprof_for_every_sample_type() {
    for expected in expected_text_profiles() {
        let profile = load(&expected);
        for sample_type in expected.sample_types() {
            let folded = fold_as(&profile, &sample_type, false);
            let case = format!("{} {sample_type}", expected.name);
            assert_eq!(folded.total, expected.total(&sample_type), "{case}");
            let sum: i64 = folded.stacks.iter().map(|(_, v)| v).sum();
            assert_eq!(sum, folded.total, "{case}: stacks add up to the total");
        }
        if expected.has("mean_delay.total") {
            let folded = fold_as(&profile, "delay", true);
            assert_eq!(
                folded.total,
                expected.total("mean_delay"),
                "{}",
                expected.name
            );
        }
    }
}

/// With pprof's names put on torch's locations, decoding + pruning +
/// folding reproduce `go tool pprof -traces -noinlines BINARY TEXT` exactly.
#[test]
fn stacks_with_pprofs_names_equal_pprof_traces() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for expected in expected_text_profiles() {
        let profile = with_pprof_names(&load(&expected), &pprof_names(&expected));
        let mut cases: Vec<(String, bool)> = expected
            .sample_types()
            .into_iter()
            .map(|t| (t, false))
            .collect();
        if expected.has("mean_delay.folded") {
            cases.push(("mean_delay".into(), true));
        }
        for (sample_type, mean) in cases {
            let selection = if mean { "delay" } else { &sample_type };
            let folded = fold_as(&profile, selection, mean);
            let (text, no_stack) = split_no_stack(&folded);
            // pprof names a frame it cannot symbolize after the file of its
            // mapping; the text has no mapping file, so torch (like pprof
            // without the binary) says <unknown> (threadcreate's 0x0 frames).
            let want = expected
                .folded(&sample_type)
                .replace("[workload]", "<unknown>");
            let case = format!("{} {sample_type}", expected.name);
            if text != want {
                failures.push(format!("{case}: {}", first_difference(&text, &want)));
            }
            if !mean && no_stack != expected.no_stack(&sample_type) {
                failures.push(format!("{case}: no-stack value {no_stack}"));
            }
            if folded.total != expected.total(&sample_type) {
                failures.push(format!("{case}: total {}", folded.total));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, 12);
}

/// The names torch reads from the `#` lines, location by location, against
/// pprof's symbolization of the same addresses with the binary.
///
/// pprof gives the function whose code holds the address and the source
/// line of the innermost inlined call there; the `#` lines give the
/// innermost function itself. So: the file and line always agree; the
/// function agrees, or torch's is inlined into pprof's, which shows as the
/// next frames rootward belonging to pprof's function until one that torch
/// also names so (or pprof's is a wrapper Go leaves out of stacks). (pprof's generic names are compared as Go prints them,
/// with `[...]` for type arguments.) Addresses torch leaves unnamed must be ones Go does not
/// print: runtime.goexit, or runtime frames before the first printed frame.
#[test]
fn names_from_comments_agree_with_pprof() {
    let mut same = 0;
    let mut inlined = 0;
    let mut unnamed = 0;
    for expected in expected_text_profiles() {
        let profile = load(&expected);
        let pprof = pprof_names(&expected);
        let case = &expected.name;
        let printed: HashMap<u64, Option<(String, String, i64)>> = pprof
            .iter()
            .map(|(&a, info)| (a, info.clone().map(|(n, f, l)| (print_name(&n), f, l))))
            .collect();
        let info = |l: usize| printed[&profile.locations[l].address].as_ref();
        for (index, location) in profile.locations.iter().enumerate() {
            let address = location.address;
            let Some(innermost) = location.lines.first() else {
                unnamed += 1;
                let Some((name, _, _)) = info(index) else {
                    continue; // pprof cannot name it either (threadcreate's 0x0)
                };
                if name == "runtime.goexit" {
                    continue;
                }
                let runtime = name.starts_with("runtime.") || name.starts_with("internal/runtime/");
                for (sample, at) in occurrences(&profile, index) {
                    // A hidden runtime frame inlined into the next function
                    // rootward has that function's code address.
                    let inlined = sample.locations[at + 1..]
                        .iter()
                        .find(|&&l| info(l as usize).is_some_and(|(n, _, _)| n != name))
                        .is_some_and(|&l| {
                            let up = sample.locations.iter().position(|&x| x == l).unwrap();
                            sample.locations[at + 1..up]
                                .iter()
                                .any(|&x| outer_name(&profile, x as usize) == Some(name))
                        });
                    assert!(
                        runtime || inlined,
                        "{case} 0x{address:x}: unnamed, but pprof says {name}"
                    );
                    // Only hidden frames leafward: unnamed, or runtime frames
                    // that another row of the file printed.
                    assert!(
                        sample.locations[..at].iter().all(|&l| {
                            outer_name(&profile, l as usize).is_none_or(|n| {
                                n.starts_with("runtime.") || n.starts_with("internal/runtime/")
                            })
                        }),
                        "{case} 0x{address:x} ({name}) is unnamed after a printed frame"
                    );
                }
                continue;
            };
            let (name, file, line) =
                info(index).unwrap_or_else(|| panic!("{case} 0x{address:x}: pprof has no name"));
            let function = &profile.functions[innermost.function.unwrap()];
            assert_eq!(
                (&function.filename, innermost.line),
                (file, *line),
                "{case} 0x{address:x}"
            );
            let torch_name = outer_name(&profile, index).unwrap();
            if torch_name == name {
                same += 1;
                continue;
            }
            inlined += 1;
            for (sample, at) in occurrences(&profile, index) {
                let outer = sample.locations[at + 1..]
                    .iter()
                    .take_while(|&&l| info(l as usize).is_some_and(|(n, _, _)| n == name))
                    .any(|&l| outer_name(&profile, l as usize) == Some(name));
                // Go elides compiler-generated wrappers (`deferwrapN`,
                // method values `-fm`) from its stacks, even when they
                // hold the inlined code.
                let wrapper = name.ends_with("-fm")
                    || name
                        .rsplit_once(".deferwrap")
                        .is_some_and(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()));
                assert!(
                    outer || wrapper,
                    "{case} 0x{address:x}: torch says {torch_name}, pprof {name}, \
                     and no frame rootward is {name}"
                );
            }
        }
    }
    // 289, 70 and 65 for the current fixtures.
    let counts = format!("{same} named as pprof, {inlined} inlined, {unnamed} unnamed");
    assert!(same > 250 && inlined > 30 && unnamed > 50, "{counts}");
}

#[test]
fn memstats_of_the_heap_fixture() {
    let heap = expected("text-heap");
    let bytes = std::fs::read(heap.profile()).unwrap();
    let stats = torch::profile::memstats(&bytes, DEFAULT_MAX_SIZE)
        .unwrap()
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let field = |name: &str| -> u64 {
        let prefix = format!("# {name} = ");
        let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
        line[prefix.len()..].parse().unwrap()
    };
    assert_eq!(stats.heap_alloc, field("HeapAlloc"));
    assert_eq!(stats.heap_inuse, field("HeapInuse"));
    assert_eq!(stats.sys, field("Sys"));
    assert_eq!(stats.num_gc, field("NumGC"));
    assert_eq!(stats.pause_ns.len(), 256);
    let pauses = stats.pause_ns.iter().filter(|&&p| p != 0).count() as u64;
    assert_eq!(pauses, stats.num_gc.min(256));
    let summary = torch::profile::memstats_summary(&stats);
    assert!(summary.starts_with("HeapAlloc    "), "{summary}");
    assert!(
        summary.contains(&format!("(last {pauses} pauses)")),
        "{summary}"
    );
    let goroutine = std::fs::read(expected("text-goroutine").profile()).unwrap();
    assert_eq!(
        torch::profile::memstats(&goroutine, DEFAULT_MAX_SIZE).unwrap(),
        None
    );
}

#[test]
fn torch_draws_text_profiles() {
    for expected in expected_text_profiles() {
        let path = path_str(&expected.profile()).to_owned();
        let (_dir, output) = torch(&["-r", &path]);
        let folded = success(&output);
        let total: i64 = folded
            .lines()
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap())
            .sum();
        let default = expected.default_type();
        assert_eq!(total, expected.total(&default), "{}", expected.name);
        let (_dir, output) = torch(&["-p", &path]);
        assert!(success(&output).contains("<svg"), "{}", expected.name);
    }
    // Named frames from the comments; the runtime frames Go hid are one
    // frame that says so, and the goexit root is left out.
    let path = path_str(&expected("text-goroutine").profile()).to_owned();
    let output = torch(&["-r", &path]).1;
    let folded = success(&output);
    assert!(
        folded.contains("\nmain.waitGate;runtime (unnamed) 3\n"),
        "{folded}"
    );
    assert!(!folded.contains("0x"), "{folded}");
    assert!(output.stderr.is_empty(), "no address is unnamed");
    // Allocator frames that are named are pruned as pprof prunes them.
    let path = path_str(&expected("text-heap").profile()).to_owned();
    let folded = success(&torch(&["-r", "-alloc_space", &path]).1);
    assert!(folded.contains(";main.words;"), "{folded}");
    assert!(!folded.contains("runtime.mallocgc;"), "{folded}");
}

#[test]
fn malformed_text_profile_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.txt");
    std::fs::write(&path, "goroutine profile: total 1\n1 @ 0x1\n2 0x5\n").unwrap();
    let (_dir, output) = torch(&["-r", path_str(&path)]);
    let stderr = failure(&output);
    assert!(stderr.contains("bad.txt: line 3: missing `@`"), "{stderr}");
}

#[test]
fn memstats_summary_shows_the_numbers_of_the_file() {
    let path = fixtures_dir().join("profiles/text/heap.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let field = |name: &str| -> i64 {
        let prefix = format!("# {name} = ");
        let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
        line[prefix.len()..].trim().parse().unwrap()
    };
    let (_dir, output) = torch(&["--memstats", path_str(&path)]);
    let summary = success(&output);
    for (name, unit) in [
        ("HeapAlloc", "bytes"),
        ("HeapInuse", "bytes"),
        ("HeapIdle", "bytes"),
        ("Sys", "bytes"),
    ] {
        let want = torch::units::human(field(name), unit);
        assert!(
            summary
                .lines()
                .any(|l| l.starts_with(name) && l.ends_with(&want)),
            "{name} {want}:\n{summary}"
        );
    }
    assert!(
        summary.contains(&format!("NumGC        {}", field("NumGC"))),
        "{summary}"
    );
    let pauses = text
        .lines()
        .find(|l| l.starts_with("# PauseNs = ["))
        .unwrap();
    let max = pauses
        .trim_start_matches("# PauseNs = [")
        .trim_end_matches(']')
        .split_whitespace()
        .map(|v| v.parse::<i64>().unwrap())
        .max()
        .unwrap();
    assert!(
        summary.contains(&format!("max {}", torch::units::human(max, "nanoseconds"))),
        "{summary}"
    );
    let (_dir, output) = torch(&["--memstats", path_str(&profile_path("heap"))]);
    assert!(failure(&output).contains("no runtime.MemStats"));
}

#[test]
fn all_frames_keeps_what_drop_frames_prunes() {
    let path = fixtures_dir().join("profiles/text/heap.txt");
    let binary = fixtures_dir().join("bin/workload");
    let args = |extra: &[&str]| {
        let mut args = vec!["-r", "-alloc_space"];
        args.extend_from_slice(extra);
        args.push(path_str(&binary));
        args.push(path_str(&path));
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let owned = args(extra);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        success(&torch(&refs).1)
    };
    let pruned = run(&[]);
    let all = run(&["--all-frames"]);
    // Stacks made only of runtime frames keep theirs, as in pprof.
    let allocator = |folded: &str| folded.matches("runtime.mallocgc").count();
    let (kept, pruned_count) = (allocator(&all), allocator(&pruned));
    assert!(kept > pruned_count + 10, "{kept} vs {pruned_count}");
    let total = |folded: &str| -> i64 {
        folded
            .lines()
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap())
            .sum()
    };
    assert_eq!(
        total(&pruned),
        total(&all),
        "pruning moves values, never loses them"
    );
}

/// Each sample whose stack holds location `index`, with where it first
/// does.
fn occurrences(
    profile: &torch::profile::Profile,
    index: usize,
) -> impl Iterator<Item = (torch::profile::SampleRef<'_>, usize)> {
    profile.samples.iter().filter_map(move |sample| {
        let at = sample.locations.iter().position(|&l| l as usize == index)?;
        Some((sample, at))
    })
}
