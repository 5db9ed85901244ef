//! How the flame graphs read: the Go palette and its legend, `--short`,
//! inlined frames, units and notes, and `--output-dir` (checked against
//! `go tool pprof`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use torch::palette::GoPalette;
use torch::units;

use crate::util::*;

fn bench_binary_str() -> String {
    path_str(&bench_binary()).to_owned()
}

fn rgb(fill: &str) -> [u8; 3] {
    let inner = fill.trim_start_matches("rgb(").trim_end_matches(')');
    let channels: Vec<u8> = inner.split(',').map(|c| c.parse().unwrap()).collect();
    [channels[0], channels[1], channels[2]]
}

/// The class a frame must be in, by rules written out here rather than
/// taken from torch: the bench fixture's module is `torchfixtures`.
fn expected_class(name: &str) -> &'static str {
    let head = &name[..name.find(['(', '[']).unwrap_or(name.len())];
    let element = head.rfind('/').map_or(0, |slash| slash + 1);
    let Some(dot) = head[element..].find('.') else {
        return "cgo";
    };
    let package = &head[..element + dot];
    if name.starts_with("runtime.") || name.starts_with("internal/runtime/") {
        "runtime"
    } else if package.starts_with("torchfixtures") || package == "main" {
        "module"
    } else if !package.split('/').next().unwrap().contains('.') {
        "stdlib"
    } else {
        "third-party"
    }
}

pub fn in_range(fill: &str, class: &str) -> bool {
    let palette = GoPalette::builtin();
    let class = palette.classes.iter().find(|c| c.id == class).unwrap();
    let (from, to) = class.range();
    let [r, g, b] = rgb(fill);
    let within = |v: u8, a: u8, b: u8| v >= a.min(b) && v <= a.max(b);
    within(r, from.r, to.r) && within(g, from.g, to.g) && within(b, from.b, to.b)
}

#[test]
fn go_palette_colours_frames_by_kind_of_code() {
    let (_dir, output) = torch(&[
        "-p",
        "--minwidth=0",
        &bench_binary_str(),
        path_str(&profile_path("bench-cpu")),
    ]);
    let svg = success(&output);
    let frames = svg_frames(&svg);
    let mut seen = BTreeMap::new();
    for frame in frames.iter().filter(|f| !f.is_root()) {
        let class = expected_class(&frame.name);
        // Assembly helpers without a package (cmpbody) come from their files.
        if class == "cgo" {
            continue;
        }
        assert!(
            in_range(&frame.fill, class),
            "{} is {} — not in the {class} family",
            frame.name,
            frame.fill
        );
        *seen.entry(class).or_insert(0) += 1;
    }
    for class in ["runtime", "module", "stdlib"] {
        assert!(
            seen.get(class).copied().unwrap_or(0) > 3,
            "{class}: {seen:?}"
        );
    }
    // The same function has one colour everywhere, inlined or not.
    let mut fills: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for frame in &frames {
        fills.entry(&frame.name).or_default().insert(&frame.fill);
    }
    assert!(
        fills.values().all(|set| set.len() == 1),
        "one colour per function"
    );
    // The legend names the classes drawn, in the palette's colours.
    let legend = &svg[svg.find("<g id=\"legend\">").expect("a legend")..];
    for label in [
        "Go runtime",
        "this module",
        "standard library",
        "inlined (dashed)",
    ] {
        assert!(legend.contains(&format!(">{label}</text>")), "{label}");
    }
    assert!(
        !legend.contains(">third-party</text>"),
        "no third-party code here"
    );
}

#[test]
fn module_comes_from_the_binary_or_the_flag() {
    let profile = path_str(&profile_path("bench-cpu")).to_owned();
    let pipeline_fill = |args: &[&str]| {
        let (_dir, output) = torch(args);
        let svg = success(&output);
        svg_frames(&svg)
            .into_iter()
            .find(|f| f.name == "torchfixtures/bench.Pipeline")
            .expect("the benchmark's own function")
            .fill
    };
    let with_binary = pipeline_fill(&["-p", &bench_binary_str(), &profile]);
    assert!(in_range(&with_binary, "module"));
    // Another module named: torchfixtures is then just a package without
    // a dot in its path, which is how the standard library looks.
    let other = pipeline_fill(&[
        "-p",
        "--module",
        "example.com/other",
        &bench_binary_str(),
        &profile,
    ]);
    assert!(in_range(&other, "stdlib"), "{other}");
    let named = pipeline_fill(&["-p", "--module", "torchfixtures", &profile]);
    assert!(in_range(&named, "module"));
}

#[test]
fn memory_profiles_keep_mem_unless_go_is_asked_for() {
    let heap = path_str(&profile_path("heap")).to_owned();
    let (_dir, output) = torch(&["-p", &heap]);
    let svg = success(&output);
    assert!(!svg.contains("<g id=\"legend\">") || !svg.contains(">Go runtime</text>"));
    let (_dir, output) = torch(&["-p", "--colors=go", &heap]);
    let svg = success(&output);
    assert!(svg.contains(">Go runtime</text>"));
    let runtime = svg_frames(&svg)
        .into_iter()
        .find(|f| f.name.starts_with("runtime."))
        .unwrap();
    assert!(in_range(&runtime.fill, "runtime"));
}

#[test]
fn short_labels_keep_full_names_in_tooltips() {
    let (_dir, output) = torch(&[
        "-p",
        "--short",
        &bench_binary_str(),
        path_str(&profile_path("bench-cpu")),
    ]);
    let svg = success(&output);
    let frames = svg_frames(&svg);
    let pipeline = frames
        .iter()
        .find(|f| f.name == "torchfixtures/bench.Pipeline")
        .unwrap();
    assert_eq!(pipeline.label.as_deref(), Some("bench.Pipeline"));
    assert!(pipeline.title.starts_with("torchfixtures/bench.Pipeline ("));
    let sprint = frames
        .iter()
        .find(|f| f.name.starts_with("strings."))
        .unwrap();
    assert_eq!(sprint.label, None, "already short: {}", sprint.name);
    let http = frames
        .iter()
        .find(|f| f.name.starts_with("internal/runtime/maps."))
        .unwrap();
    assert_eq!(
        http.label.as_deref(),
        Some(http.name.trim_start_matches("internal/runtime/"))
    );
    // Labels drawn now are the short names, cut to fit.
    assert!(svg.contains(">bench.Pipeline</text>") || svg.contains(">bench.Pip"));
    // Without --short, no labels are rewritten.
    let (_dir, output) = torch(&[
        "-p",
        &bench_binary_str(),
        path_str(&profile_path("bench-cpu")),
    ]);
    let plain = success(&output);
    assert!(svg_frames(&plain).iter().all(|f| f.label.is_none()));
    assert!(!plain.contains("function torch_label"));
}

#[test]
fn inlined_frames_are_marked_where_pprof_marks_them() {
    for (profile, sample_type) in [
        ("cpu", "cpu"),
        ("bench-cpu", "cpu"),
        ("heap", "alloc_space"),
    ] {
        let path = path_str(&profile_path(profile)).to_owned();
        let unit = if sample_type == "cpu" {
            "-unit=ns"
        } else {
            "-unit=B"
        };
        let want: BTreeSet<String> =
            pprof_folded_marked(&[&format!("-sample_index={sample_type}"), unit, &path])
                .lines()
                .flat_map(|line| {
                    let stack = line.rsplit_once(' ').unwrap().0;
                    stack
                        .split(';')
                        .filter_map(|f| f.strip_suffix(" (inline)").map(str::to_owned))
                        .collect::<Vec<_>>()
                })
                .collect();
        let sample_flag = format!("-sample_index={sample_type}");
        let (_dir, output) = torch(&["-p", "--minwidth=0", &sample_flag, &path]);
        let svg = success(&output);
        let frames = svg_frames(&svg);
        let got: BTreeSet<String> = frames
            .iter()
            .filter(|f| f.inlined)
            .map(|f| f.name.clone())
            .collect();
        assert!(!want.is_empty(), "{profile} has inlined frames");
        assert_eq!(got, want, "{profile}");
        assert!(svg.contains("g.inline > rect"));
    }
}

#[test]
fn notes_name_the_source_the_type_and_the_collection_time() {
    let profiles = fixtures_dir().join("profiles");
    let output = torch_in(&profiles, &["-p", "-alloc_space", "heap.pb.gz"]);
    let svg = success(&output);
    let pprof = go()
        .args(["tool", "pprof", "-raw", "heap.pb.gz"])
        .current_dir(&profiles)
        .output()
        .expect("go tool pprof runs");
    let raw = String::from_utf8(pprof.stdout).unwrap();
    // `Time: 2026-11-27 07:29:53.949101033 +0000 UTC`, to the second.
    let time = raw
        .lines()
        .find_map(|l| l.strip_prefix("Time: "))
        .expect("pprof prints the time");
    let seconds = &time[..19];
    let notes = &svg[svg.find("<!--NOTES: ").unwrap()..];
    let notes = &notes[..notes.find("-->").unwrap()];
    assert!(notes.contains("source: heap.pb.gz"), "{notes}");
    assert!(
        notes.contains("sample type: alloc_space (bytes)"),
        "{notes}"
    );
    assert!(
        notes.contains(&format!("collected {seconds} UTC")),
        "{notes}: {time}"
    );
    let footer = svg_text_by_id(&svg, "footer");
    assert_eq!(footer, format!("heap.pb.gz · collected {seconds} UTC"));
    // The subtitle: the type and the total in human units, as pprof counts it.
    let total = expected("heap").total("alloc_space");
    assert_eq!(
        svg_text_by_id(&svg, "subtitle"),
        format!("alloc_space — {} total", units::human(total, "bytes"))
    );
}

#[test]
fn a_text_profile_notes_its_file_time() {
    let dir = tempfile::tempdir().unwrap();
    let text = fixtures_dir().join("profiles/text/goroutine.txt");
    fs::copy(&text, dir.path().join("g.txt")).unwrap();
    let output = torch_in(dir.path(), &["-p", "g.txt"]);
    let svg = success(&output);
    let footer = svg_text_by_id(&svg, "footer");
    assert!(footer.starts_with("g.txt · file modified 20"), "{footer}");
}

/// The files `--output-dir` wrote, and what they hold.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn output_dir_draws_every_sample_type_of_every_profile() {
    let work = tempfile::tempdir().unwrap();
    let cpu = path_str(&profile_path("bench-cpu")).to_owned();
    let mem = path_str(&profile_path("bench-mem")).to_owned();
    let output = torch_in(
        work.path(),
        &[
            "-q",
            "--output-dir",
            "flame/ci",
            &bench_binary_str(),
            &mem,
            &cpu,
        ],
    );
    success(&output);
    let dir = work.path().join("flame/ci");
    assert_eq!(
        listing(&dir),
        [
            "bench-cpu-cpu.svg",
            "bench-cpu-samples.svg",
            "bench-mem-alloc_objects.svg",
            "bench-mem-alloc_space.svg",
            "bench-mem-inuse_objects.svg",
            "bench-mem-inuse_space.svg",
            "index.html",
            "summary.md",
        ]
    );
    let index = fs::read_to_string(dir.join("index.html")).unwrap();
    let summary = fs::read_to_string(dir.join("summary.md")).unwrap();
    for (profile, path) in [("bench-cpu", &cpu), ("bench-mem", &mem)] {
        let expected = expected(profile);
        for sample_type in expected.sample_types() {
            let file = format!("{profile}-{sample_type}.svg");
            let svg = fs::read_to_string(dir.join(&file)).unwrap();
            let total = expected.total(&sample_type);
            assert_eq!(svg_total(&svg) as i64, total, "{file}");
            let unit = if sample_type == "cpu" {
                "nanoseconds"
            } else if sample_type.ends_with("_space") {
                "bytes"
            } else {
                "count"
            };
            let human = units::human(total, unit);
            // index.html: a link, the total (as the graph says it) and a
            // preview of each graph.
            let row = format!(
                "<tr><td><a href=\"{file}\">{sample_type}</a></td><td class=\"total\">{human} total</td>"
            );
            assert!(index.contains(&row), "{row}");
            assert!(index.contains(&format!("<img class=\"preview\" src=\"{file}\"")));
            // summary.md: pprof's top 10, in human units.
            let heading = format!("### {sample_type}: {human} total — [{file}]({file})");
            let section = &summary[summary
                .find(&heading)
                .unwrap_or_else(|| panic!("{heading}"))..];
            let table: Vec<&str> = section
                .lines()
                .skip_while(|l| !l.starts_with("| flat"))
                .skip(2)
                .take_while(|l| l.starts_with("| "))
                .collect();
            let mut args = vec![
                format!("-sample_index={sample_type}"),
                "-nodecount=10".into(),
            ];
            if unit != "count" {
                args.push(format!("-unit={unit}"));
            }
            let pprof = crate::top::pprof_top(Path::new(path), &args);
            assert_eq!(table.len(), pprof.rows.len().min(10), "{file}");
            for (line, row) in table.iter().zip(&pprof.rows) {
                let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
                assert_eq!(cells[0], units::human(row.flat, unit), "{file}: {line}");
                assert_eq!(cells[2], units::human(row.cum, unit), "{file}: {line}");
                let name = cells[4].trim_start_matches('`');
                assert!(
                    name.starts_with(&format!("{}`", row.name)),
                    "{file}: {line}"
                );
            }
        }
    }
}

#[test]
fn output_dir_fails_whole_when_a_profile_is_bad() {
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("broken.out"), b"not a profile").unwrap();
    let dir = work.path().join("flame");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("index.html"), b"previous run").unwrap();
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let output = torch_in(work.path(), &["--output-dir", "flame", &cpu, "broken.out"]);
    let message = failure(&output);
    assert!(message.contains("broken.out"), "{message}");
    assert_eq!(listing(&dir), ["index.html"], "nothing half-written");
    assert_eq!(fs::read(dir.join("index.html")).unwrap(), b"previous run");
}

#[test]
fn output_dir_keeps_profiles_with_the_same_name_apart() {
    let work = tempfile::tempdir().unwrap();
    let profile = path_str(&profile_path("leak-1")).to_owned();
    let output = torch_in(work.path(), &["--output-dir", "out", &profile, &profile]);
    success(&output);
    let names = listing(&work.path().join("out"));
    assert!(
        names.contains(&"leak-1-alloc_space.svg".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"leak-1-2-alloc_space.svg".to_owned()),
        "{names:?}"
    );
}

#[test]
fn output_dir_lists_types_with_nothing_to_draw() {
    // A focus that matches nothing leaves every type empty: each is
    // listed with its zero total, and no graph is drawn.
    let work = tempfile::tempdir().unwrap();
    let heap = path_str(&profile_path("heap")).to_owned();
    let output = torch_in(
        work.path(),
        &["--output-dir", "out", "--focus=no-such-function", &heap],
    );
    success(&output);
    let dir = work.path().join("out");
    assert_eq!(listing(&dir), ["index.html", "summary.md"]);
    let index = fs::read_to_string(dir.join("index.html")).unwrap();
    for sample_type in expected("heap").sample_types() {
        let row = format!("<tr><td>{sample_type}</td><td class=\"total\">0");
        assert!(index.contains(&row), "{row}");
    }
    let summary = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("### alloc_space: 0 B total — no samples"),
        "{summary}"
    );
}

#[test]
fn output_dir_conflicts_with_single_graph_options() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    for flag in ["-r", "-p", "--file=x.svg", "--top"] {
        let (_dir, output) = torch(&["--output-dir", "d", flag, &cpu]);
        assert_eq!(output.status.code(), Some(2), "{flag}");
    }
}

#[test]
fn the_example_ci_job_draws_a_benchmark_run() {
    let module = tempfile::tempdir().unwrap();
    copy_bench_module(module.path());
    let summary = module.path().join("job-summary.md");
    run_ci_script(
        "flamegraphs.sh",
        &["bench", "artifacts/flame"],
        module.path(),
        &[
            ("BENCHTIME", OsStr::new("200ms")),
            ("GITHUB_STEP_SUMMARY", summary.as_os_str()),
        ],
    );
    let out = module.path().join("artifacts/flame");
    let files = listing(&out);
    for file in [
        "bench.txt",
        "cpu-cpu.svg",
        "cpu-samples.svg",
        "index.html",
        "summary.md",
    ] {
        assert!(files.contains(&file.to_owned()), "{file}: {files:?}");
    }
    // Memory still in use at the end of a short run may be none: such a
    // type is listed without a graph.
    let index = fs::read_to_string(out.join("index.html")).unwrap();
    for sample_type in [
        "alloc_objects",
        "alloc_space",
        "inuse_objects",
        "inuse_space",
    ] {
        let file = format!("mem-{sample_type}.svg");
        let drawn = files.contains(&file);
        let row = match drawn {
            true => format!("<tr><td><a href=\"{file}\">{sample_type}</a></td>"),
            false => format!("<tr><td>{sample_type}</td>"),
        };
        assert!(index.contains(&row), "{row}");
    }
    // The numbers are pprof's for the profiles the run wrote.
    let profiles = module.path().join("bench");
    for (profile, sample_type, unit) in [
        ("cpu", "cpu", "nanoseconds"),
        ("mem", "alloc_space", "bytes"),
        ("mem", "alloc_objects", "count"),
    ] {
        let svg = fs::read_to_string(out.join(format!("{profile}-{sample_type}.svg"))).unwrap();
        let mut args = vec![format!("-sample_index={sample_type}")];
        if unit != "count" {
            args.push(format!("-unit={unit}"));
        }
        let pprof = crate::top::pprof_top(&profiles.join(format!("{profile}.out")), &args);
        assert_eq!(
            svg_total(&svg) as i64,
            pprof.total,
            "{profile} {sample_type}"
        );
    }
    // The test binary go test kept told torch which module is the user's.
    let svg = fs::read_to_string(out.join("cpu-cpu.svg")).unwrap();
    let own: Vec<_> = svg_frames(&svg)
        .into_iter()
        .filter(|f| f.name.starts_with("torchfixtures/bench."))
        .collect();
    assert!(!own.is_empty());
    assert!(own.iter().all(|f| in_range(&f.fill, "module")), "{own:?}");
    let job_summary = fs::read_to_string(&summary).unwrap();
    assert_eq!(
        job_summary,
        fs::read_to_string(out.join("summary.md")).unwrap()
    );
}

#[test]
fn the_root_frame_says_the_sample_type_and_total() {
    // The total is pprof's (fixtures/expected), in torch's units.
    let heap = expected("heap");
    for (sample_type, colors) in [("alloc_space", "mem"), ("inuse_objects", "go")] {
        let flag = format!("-{sample_type}");
        let colors = format!("--colors={colors}");
        let (_dir, output) = torch(&["-p", &flag, &colors, path_str(&heap.profile())]);
        let svg = success(&output);
        let root = svg_frames(&svg).into_iter().find(|f| f.is_root()).unwrap();
        let unit = if sample_type.ends_with("space") {
            "bytes"
        } else {
            "count"
        };
        let label = format!(
            "all — {sample_type} {}",
            units::human(heap.total(sample_type), unit)
        );
        assert_eq!(root.name, label);
        assert!(
            svg.contains(&format!(">{}</text>", label.replace('>', "&gt;"))),
            "{label}"
        );
    }
    // A differential graph: before → after.
    let (a, b) = (profile_path("leak-1"), profile_path("leak-3"));
    let (_dir, output) = torch(&["-p", "--base", path_str(&a), path_str(&b)]);
    let svg = success(&output);
    let root = svg_frames(&svg).into_iter().find(|f| f.is_root()).unwrap();
    let total = |p: &Path| {
        let folded = pprof_folded(&["-sample_index=inuse_space", "-unit=bytes", path_str(p)]);
        let sum: i64 = folded
            .lines()
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap())
            .sum();
        units::human(sum, "bytes")
    };
    assert_eq!(
        root.name,
        format!("all — inuse_space {} → {}", total(&a), total(&b))
    );
}
