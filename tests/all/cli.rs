//! The command line, flag by flag, run as the real binary.

use std::fs;

use crate::util::*;

fn heap() -> String {
    path_str(&profile_path("heap")).to_owned()
}

fn svg_of(args: &[&str]) -> String {
    let mut all = vec!["-p"];
    all.extend_from_slice(args);
    let (_dir, output) = torch(&all);
    success(&output)
}

#[test]
fn writes_torch_svg_by_default() {
    let (dir, output) = torch(&[&heap()]);
    success(&output);
    let svg = fs::read_to_string(dir.path().join("torch.svg")).unwrap();
    assert!(svg.starts_with("<?xml"));
    assert_eq!(
        svg_total(&svg) as i64,
        expected("heap").total("inuse_space")
    );
}

#[test]
fn file_flag_names_the_output() {
    for flag in ["-f", "--file"] {
        let (dir, output) = torch(&[flag, "graph.svg", &heap()]);
        success(&output);
        assert!(dir.path().join("graph.svg").exists(), "{flag}");
        assert!(!dir.path().join("torch.svg").exists(), "{flag}");
    }
}

#[test]
fn print_writes_the_svg_to_stdout() {
    for flag in ["-p", "--print"] {
        let (dir, output) = torch(&[flag, &heap()]);
        assert!(success(&output).starts_with("<?xml"), "{flag}");
        assert!(!dir.path().join("torch.svg").exists(), "{flag}");
    }
}

#[test]
fn raw_prints_sorted_folded_stacks() {
    let expected = expected("heap");
    for flag in ["-r", "--raw"] {
        let (dir, output) = torch(&[flag, &heap()]);
        assert_eq!(success(&output), expected.folded("inuse_space"), "{flag}");
        assert!(!dir.path().join("torch.svg").exists());
    }
}

#[test]
fn every_spelling_of_the_sample_type() {
    let heap_expected = expected("heap");
    let cases: &[(&[&str], &str)] = &[
        (&["-alloc_space"], "alloc_space"),
        (&["--alloc_space"], "alloc_space"),
        (&["-alloc_objects"], "alloc_objects"),
        (&["-inuse_space"], "inuse_space"),
        (&["-inuse_objects"], "inuse_objects"),
        (&["--sample-index", "alloc_objects"], "alloc_objects"),
        (&["--sample-index=1"], "alloc_space"),
        (&["-sample_index=inuse_objects"], "inuse_objects"),
        (&["-sample_index", "alloc_space"], "alloc_space"),
        (&["--sample_index=0"], "alloc_objects"),
    ];
    let path = heap();
    for (flags, sample_type) in cases {
        let mut args = vec!["-r"];
        args.extend_from_slice(flags);
        args.push(&path);
        let (_dir, output) = torch(&args);
        assert_eq!(
            success(&output),
            heap_expected.folded(sample_type),
            "{flags:?}"
        );
    }
}

#[test]
fn delay_and_contention_spellings() {
    let block = expected("block");
    let path = path_str(&block.profile()).to_owned();
    for (flag, sample_type) in [
        ("-total_delay", "delay"),
        ("-contentions", "contentions"),
        ("-mean_delay", "mean_delay"),
        ("--mean-delay", "mean_delay"),
    ] {
        let (_dir, output) = torch(&["-r", flag, &path]);
        assert_eq!(success(&output), block.folded(sample_type), "{flag}");
    }
    let (_dir, output) = torch(&["-p", "-mean_delay", &path]);
    let svg = success(&output);
    assert!(svg_text_by_id(&svg, "subtitle").starts_with("mean delay — "));
}

#[test]
fn benchmark_binary_and_profile_pair() {
    let mem = expected("bench-mem");
    let binary = path_str(&bench_binary()).to_owned();
    let profile = path_str(&mem.profile()).to_owned();
    // go test -memprofile writes the allocs profile: alloc_space by default.
    assert_eq!(mem.default_type(), "alloc_space");
    let (_dir, with_binary) = torch(&["-r", &binary, &profile]);
    assert_eq!(success(&with_binary), mem.folded("alloc_space"));
    let (_dir, without) = torch(&["-r", &profile]);
    assert_eq!(success(&without), mem.folded("alloc_space"));
    let (_dir, svg) = torch(&["-p", "-alloc_objects", &binary, &profile]);
    let svg = success(&svg);
    assert!(
        svg_frames(&svg)[0].title.contains(" objects, "),
        "counts are objects"
    );
}

#[test]
fn tooltips_speak_human_units() {
    let bytes = r"\(\d+(\.\d+)? (B|kB|MB|GB), [\d.]+%\)$";
    let time = r"\(\d+(\.\d+)? (ns|µs|ms|s|min|h), [\d.]+%\)$";
    let cases = [
        ("heap", vec![], bytes.to_owned()),
        ("heap", vec!["-inuse_objects"], count("objects")),
        ("cpu", vec![], time.to_owned()),
        ("goroutine", vec![], count("goroutines")),
        ("block", vec![], time.to_owned()),
        ("mutex", vec!["-contentions"], count("contentions")),
        ("block", vec!["-mean_delay"], time.replace(", ", " mean, ")),
    ];
    for (name, flags, pattern) in cases {
        let pattern = regex::Regex::new(&pattern).unwrap();
        let mut args: Vec<&str> = flags.clone();
        let path = path_str(&profile_path(name)).to_owned();
        args.push(&path);
        let svg = svg_of(&args);
        let frames = svg_frames(&svg);
        assert!(frames.len() > 1, "{name}");
        for frame in &frames {
            assert!(
                pattern.is_match(&frame.title),
                "{name} {flags:?}: {}",
                frame.title
            );
        }
        // The value in words matches the exact one inferno laid out.
        let all = frames.iter().find(|f| f.is_root()).unwrap_or_else(|| {
            panic!(
                "{name} {flags:?}: no all in {:?}",
                frames.iter().map(|f| &f.name).collect::<Vec<_>>().first()
            )
        });
        let t = &all.title;
        let said = &t[t.find('(').unwrap() + 1..t.find(", ").unwrap()];
        let unit = match name {
            "heap" if flags.is_empty() => "bytes",
            "cpu" | "block" => "nanoseconds",
            _ => "count",
        };
        let mean = flags.contains(&"-mean_delay");
        let mut want = torch::units::human(all.samples as i64, unit);
        if unit == "count" {
            want = format!("{want} {}", said.rsplit(' ').next().unwrap());
        }
        if mean {
            want.push_str(" mean");
        }
        assert_eq!(said, want, "{name} {flags:?}");
    }

    /// `1 goroutine`, `2 goroutines`, never `1 goroutines`.
    fn count(noun: &str) -> String {
        let one = noun.trim_end_matches('s');
        format!(r"\((1 {one}|([02-9]|[\d,]{{2,}}) {noun}), [\d.]+%\)$")
    }
}

#[test]
fn default_palettes_follow_the_profile_kind() {
    // mem: rgb(0, g, b); hot: rgb(r >= 205, g, b <= 55).
    let heap_fills: Vec<String> = svg_frames(&svg_of(&[&heap()]))
        .into_iter()
        .map(|f| f.fill)
        .collect();
    assert!(
        heap_fills.iter().all(|f| f.starts_with("rgb(0,")),
        "{heap_fills:?}"
    );
    // CPU: the Go palette; the runtime is blue, the program's own code
    // (package main here) orange.
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let rgb = |fill: &str| -> (u8, u8, u8) {
        let inner = fill.trim_start_matches("rgb(").trim_end_matches(')');
        let v: Vec<u8> = inner.split(',').map(|c| c.parse().unwrap()).collect();
        (v[0], v[1], v[2])
    };
    let frames = svg_frames(&svg_of(&[&cpu]));
    let runtime: Vec<_> = frames
        .iter()
        .filter(|f| f.name.starts_with("runtime."))
        .collect();
    let main: Vec<_> = frames
        .iter()
        .filter(|f| f.name.starts_with("main."))
        .collect();
    assert!(runtime.len() > 10 && main.len() > 10);
    assert!(
        runtime.iter().all(|f| rgb(&f.fill).2 > rgb(&f.fill).0),
        "runtime is blue"
    );
    assert!(
        main.iter().all(|f| rgb(&f.fill).0 > rgb(&f.fill).2),
        "main is orange"
    );
    let forced = svg_of(&["--colors=hot", &heap()]);
    assert_ne!(svg_frames(&forced)[0].fill, heap_fills[0]);
}

#[test]
fn every_palette_renders() {
    let mut seen = std::collections::HashSet::new();
    for palette in torch::render::PALETTES {
        let svg = svg_of(&["--colors", palette, &heap()]);
        let fills: Vec<String> = svg_frames(&svg).into_iter().map(|f| f.fill).collect();
        seen.insert(fills);
    }
    assert!(
        seen.len() >= 10,
        "palettes give different colours: {}",
        seen.len()
    );
    let (_dir, output) = torch(&["--colors", "neon", &heap()]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn titles() {
    let title_of = |args: &[&str]| svg_text_by_id(&svg_of(args), "title");
    assert_eq!(title_of(&[&heap()]), "Flame Graph");
    assert_eq!(
        title_of(&["--title", "Heap of prod-3", &heap()]),
        "Heap of prod-3"
    );
    assert_eq!(title_of(&["--inverted", &heap()]), "Icicle Graph");
    assert_eq!(
        title_of(&["--inverted", "--title", "Mine", &heap()]),
        "Mine"
    );
}

#[test]
fn subtitle_has_sample_type_and_human_total() {
    let svg = svg_of(&["-alloc_space", &heap()]);
    let total = expected("heap").total("alloc_space");
    let want = format!(
        "alloc_space — {} total",
        torch::units::human(total, "bytes")
    );
    assert_eq!(svg_text_by_id(&svg, "subtitle"), want);
}

#[test]
fn width() {
    let svg = svg_of(&[&heap()]);
    assert!(svg.contains("<svg version=\"1.1\" width=\"1200\""));
    let svg = svg_of(&["--width", "800", &heap()]);
    assert!(svg.contains("<svg version=\"1.1\" width=\"800\""));
}

#[test]
fn hash_changes_colours_but_stays_deterministic() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let plain = svg_of(&["--colors=hot", &cpu]);
    let hashed = svg_of(&["--colors=hot", "--hash", &cpu]);
    assert_ne!(plain, hashed);
    assert_eq!(hashed, svg_of(&["--colors=hot", "--hash", &cpu]));
}

#[test]
fn output_is_deterministic() {
    for name in ["cpu", "heap", "goroutine"] {
        let path = path_str(&profile_path(name)).to_owned();
        assert_eq!(svg_of(&[&path]), svg_of(&[&path]), "{name}");
    }
}

#[test]
fn consistent_palette_file_keeps_colours() {
    let dir = tempfile::tempdir().unwrap();
    let cpu = path_str(&profile_path("cpu")).to_owned();
    success(&torch_in(dir.path(), &["--cp", "-f", "a.svg", &heap()]));
    let map = fs::read_to_string(dir.path().join("palette.map")).unwrap();
    assert!(map.contains("runtime.main->rgb("), "{map}");
    // A different profile reuses the colours stored for shared functions.
    success(&torch_in(dir.path(), &["--cp", "-f", "b.svg", &cpu]));
    let fill_of = |svg: &str, name: &str| {
        svg_frames(svg)
            .into_iter()
            .find(|f| f.name == name)
            .map(|f| f.fill)
    };
    let a = fs::read_to_string(dir.path().join("a.svg")).unwrap();
    let b = fs::read_to_string(dir.path().join("b.svg")).unwrap();
    assert_eq!(fill_of(&a, "runtime.main"), fill_of(&b, "runtime.main"));
    success(&torch_in(
        dir.path(),
        &["--cp=colors.map", "-f", "c.svg", &heap()],
    ));
    assert!(dir.path().join("colors.map").exists());
}

#[test]
fn reverse_puts_leaves_at_the_base() {
    let folded = expected("heap").folded("inuse_space");
    let stacks: Vec<&str> = folded
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    let leaves: std::collections::BTreeSet<&str> = stacks
        .iter()
        .map(|s| s.rsplit(';').next().unwrap())
        .collect();
    let roots: std::collections::BTreeSet<&str> = stacks
        .iter()
        .map(|s| s.split(';').next().unwrap())
        .collect();
    let base_names = |svg: &str| -> std::collections::BTreeSet<String> {
        let frames = svg_frames(svg);
        let all_y = frames.iter().find(|f| f.is_root()).unwrap().y;
        let base_y = all_y - 16.0;
        frames
            .into_iter()
            .filter(|f| (f.y - base_y).abs() < 0.5)
            .map(|f| f.name)
            .collect()
    };
    let normal = base_names(&svg_of(&["--minwidth", "0", &heap()]));
    let reversed = base_names(&svg_of(&["--reverse", "--minwidth", "0", &heap()]));
    assert_eq!(normal, roots.iter().map(|s| s.to_string()).collect());
    assert_eq!(reversed, leaves.iter().map(|s| s.to_string()).collect());
}

#[test]
fn inverted_draws_root_at_top() {
    let y_of_all = |svg: &str| svg_frames(svg).into_iter().find(|f| f.is_root()).unwrap().y;
    let normal = svg_of(&[&heap()]);
    let inverted = svg_of(&["--inverted", &heap()]);
    let max_y = |svg: &str| svg_frames(svg).iter().map(|f| f.y).fold(0.0, f64::max);
    assert_eq!(y_of_all(&normal), max_y(&normal));
    assert!(y_of_all(&inverted) < max_y(&inverted));
}

#[test]
fn minwidth_drops_narrow_frames() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let all = svg_frames(&svg_of(&["--minwidth", "0", &cpu])).len();
    let some = svg_frames(&svg_of(&["--minwidth", "5", &cpu])).len();
    assert!(some < all, "{some} < {all}");
}

#[test]
fn several_profiles_of_one_kind_are_merged() {
    let heap_path = heap();
    let (_dir, output) = torch(&["-r", &heap_path, &heap_path]);
    let doubled: String = expected("heap")
        .folded("inuse_space")
        .lines()
        .map(|line| {
            let (stack, value) = line.rsplit_once(' ').unwrap();
            format!("{stack} {}\n", value.parse::<i64>().unwrap() * 2)
        })
        .collect();
    assert_eq!(success(&output), doubled);
}

#[test]
fn existing_output_is_replaced_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("torch.svg"), "old").unwrap();
    success(&torch_in(dir.path(), &[&heap()]));
    let svg = fs::read_to_string(dir.path().join("torch.svg")).unwrap();
    assert!(svg.starts_with("<?xml"));
    let files = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 1, "no temporary files left behind");
}

#[test]
fn help_and_version() {
    let (_dir, output) = torch(&["--help"]);
    let help = success(&output);
    for flag in [
        "--sample-index",
        "--colors",
        "--raw",
        "--print",
        "--file",
        "--cp",
        "-alloc_space",
    ] {
        assert!(help.contains(flag), "{flag} in --help");
    }
    let (_dir, output) = torch(&["--version"]);
    assert!(success(&output).starts_with("torch "));
}

#[test]
fn top_prints_pprof_s_table_instead_of_the_svg() {
    let heap = heap();
    let rows_of = |args: &[&str]| -> Vec<(String, String)> {
        let (dir, output) = torch(args);
        let table = success(&output);
        assert!(!dir.path().join("torch.svg").exists(), "no SVG without -f");
        let header = table
            .lines()
            .position(|l| l.contains("flat%") && l.contains("cum%"))
            .unwrap();
        table
            .lines()
            .skip(header + 1)
            .map(|row| {
                // flat flat% sum% cum cum%, then two spaces and the name.
                let (numbers, name) = row.rsplit_once("%  ").unwrap();
                (numbers.to_owned(), name.to_owned())
            })
            .collect()
    };
    let by_flat = rows_of(&["--top", "3", &heap]);
    let by_cum = rows_of(&["--top", "3", "-cum", &heap]);
    assert_eq!((by_flat.len(), by_cum.len()), (3, 3));
    let library = |by_cum: bool| {
        let bytes = std::fs::read(profile_path("heap")).unwrap();
        let profile = torch::profile::decode(&bytes, torch::profile::DEFAULT_MAX_SIZE).unwrap();
        let top = torch::top::top(&profile, &Default::default(), by_cum).unwrap();
        top.rows
            .iter()
            .take(3)
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
    };
    let names = |rows: &[(String, String)]| {
        rows.iter()
            .map(|r| r.1.replace(" (inline)", ""))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&by_flat), library(false));
    assert_eq!(names(&by_cum), library(true));
    assert_ne!(
        library(false),
        library(true),
        "the orders differ on this profile"
    );
    let (dir, output) = torch(&["--top", "-f", "heap.svg", &heap]);
    let table = success(&output);
    assert!(dir.path().join("heap.svg").exists(), "-f draws as well");
    assert!(table.lines().count() > 8, "every function without N");
}

#[test]
fn completions_and_man_page_come_from_the_real_options() {
    for (shell, marker) in [
        ("bash", "_torch()"),
        ("zsh", "#compdef torch"),
        ("fish", "complete -c torch"),
    ] {
        let (_dir, output) = torch(&["completions", shell]);
        let script = success(&output);
        assert!(script.contains(marker), "{shell}");
        assert!(
            script.contains("sample-index") && script.contains("colors"),
            "{shell} knows the options"
        );
    }
    let (_dir, output) = torch(&["man"]);
    let page = success(&output);
    assert!(page.contains(".TH torch 1"));
    assert!(page.contains("sample\\-index"), "options documented");
    let (_dir, output) = torch(&["completions", "tcsh"]);
    assert!(failure(&output).contains("unknown shell"));
}

/// Runs torch with its standard output already closed by the reader, as
/// `torch … | head -c1` leaves it once `head` has had its byte.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_torch"))
        .current_dir(dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("torch runs");
    // The reader goes away before torch has written anything.
    drop(child.stdout.take());
    child.wait_with_output().expect("torch exits")
}

#[test]
fn a_closed_pipe_is_never_an_error() {
    let heap = heap();
    let runs: [&[&str]; 9] = [
        &["completions", "bash"],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["completions", "elvish"],
        &["completions", "powershell"],
        &["man"],
        &["-r", &heap],
        &["-p", &heap],
        &["--top", &heap],
    ];
    for args in runs {
        let output = with_closed_stdout(args);
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{args:?}: {:?}, stderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn pprof_flags_torch_lacks_say_so_instead_of_being_misread() {
    let heap = heap();
    // `-http` used to be read as `-h`: help, exit 0, nothing written.
    let (dir, output) = torch(&["-http=:8080", &heap]);
    let message = failure(&output);
    assert!(message.contains("go tool pprof -http=:8080"), "{message}");
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
    for flag in [
        "-web",
        "-svg",
        "-peek=main",
        "-nodefraction=0.1",
        "-disasm=main",
    ] {
        let (_dir, output) = torch(&[flag, &heap]);
        let message = failure(&output);
        assert!(
            message.contains(flag.split('=').next().unwrap()),
            "{flag}: {message}"
        );
        assert!(message.contains("pprof"), "{flag}: {message}");
    }
    // Short clusters and help still work.
    let (_dir, output) = torch(&["-h"]);
    assert!(success(&output).contains("Usage"));
}

#[test]
fn torch_flags_take_pprof_spellings() {
    let heap = heap();
    let raw = svg_free_raw(&["-r", &heap]);
    assert_eq!(svg_free_raw(&["-raw", &heap]), raw, "-raw");
    assert_eq!(
        svg_free_raw(&["-seconds", "2", "-r", &heap]),
        raw,
        "-seconds 2"
    );
    assert_eq!(
        svg_free_raw(&["-seconds=2", "-r", &heap]),
        raw,
        "-seconds=2"
    );
    let alloc = svg_free_raw(&["-alloc_space", "-r", &heap]);
    assert_ne!(alloc, raw);
    assert_eq!(svg_free_raw(&["-alloc_space=true", "-r", &heap]), alloc);
    assert_eq!(svg_free_raw(&["-alloc_space=1", "-r", &heap]), alloc);
    assert_eq!(svg_free_raw(&["-alloc_space=false", "-r", &heap]), raw);
    let (_dir, output) = torch(&["-alloc_space=maybe", "-r", &heap]);
    assert!(failure(&output).contains("switch"));
    // -nodecount N is --top N; -output is -f.
    let (_dir, output) = torch(&["-nodecount", "3", &heap]);
    let table = success(&output);
    let rows = table.lines().skip_while(|l| !l.contains("flat%")).skip(1);
    assert_eq!(rows.count(), 3, "{table}");
    let (dir, output) = torch(&["-output", "out.svg", &heap]);
    success(&output);
    assert!(dir.path().join("out.svg").exists());
}

fn svg_free_raw(args: &[&str]) -> String {
    let (dir, output) = torch(args);
    assert!(!dir.path().join("torch.svg").exists(), "{args:?}");
    success(&output)
}

#[test]
fn a_sample_type_with_output_dir_says_it_does_not_apply() {
    let heap = heap();
    for flag in ["-alloc_space", "--sample-index=alloc_space"] {
        let (_dir, output) = torch(&[flag, "--output-dir", "out", &heap]);
        let message = failure(&output);
        assert!(message.contains(flag), "{message}");
        assert!(message.contains("every sample type"), "{message}");
        if flag.starts_with("-alloc") {
            assert!(!message.contains("sample-index"), "{message}");
        }
    }
}

#[test]
fn outputs_that_are_directories_or_files_say_so() {
    let heap = heap();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("flame")).unwrap();
    fs::write(dir.path().join("afile"), "keep").unwrap();
    for target in ["flame/", "flame"] {
        let output = torch_in(dir.path(), &["-f", target, &heap]);
        let message = failure(&output);
        assert!(message.contains("is a directory"), "{target}: {message}");
    }
    let output = torch_in(dir.path(), &["-f", "missing/", &heap]);
    assert!(failure(&output).contains("names a directory"));
    let output = torch_in(dir.path(), &["--output-dir", "afile", &heap]);
    let message = failure(&output);
    assert!(message.contains("is a file, not a directory"), "{message}");
    assert_eq!(
        fs::read_to_string(dir.path().join("afile")).unwrap(),
        "keep"
    );
}

#[test]
fn flags_that_would_be_ignored_are_refused() {
    let heap = heap();
    for args in [
        vec!["--cum", heap.as_str()],
        vec!["-p", "--top", heap.as_str()],
        vec!["-r", "--top", heap.as_str()],
        vec!["-p", "-f", "x.svg", heap.as_str()],
        vec!["-r", "-f", "x.svg", heap.as_str()],
    ] {
        let (dir, output) = torch(&args);
        usage_error(&output);
        assert!(
            fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{args:?}"
        );
    }
}

#[test]
fn a_memory_sample_type_fails_before_collecting_a_cpu_profile() {
    // Port 1 on localhost: nothing would answer, so only an error that
    // comes before any request can be this fast and this specific.
    let (_dir, output) = torch(&["-alloc_space", "-t", "3", "127.0.0.1:1/debug/pprof/profile"]);
    let message = failure(&output);
    assert!(message.contains("/debug/pprof/heap"), "{message}");
    assert!(!message.contains("connection"), "{message}");
}

#[test]
fn samples_without_a_stack_sort_by_their_count_and_read_well() {
    // Go's text format allows a sample without a stack (`1 @`); such
    // samples are rare in real profiles, so this one is written here.
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("goroutine.txt");
    fs::write(
        &profile,
        "goroutine profile: total 4\n3 @ 0x2 0x3\n#\t0x2\tmain.f+0x1\t/src/main.go:3\n\
         #\t0x3\tmain.main+0x1\t/src/main.go:9\n\n1 @\n",
    )
    .unwrap();
    let output = torch_in(dir.path(), &["-r", "goroutine.txt"]);
    let folded = success(&output);
    let line = folded
        .lines()
        .find(|line| line.starts_with(torch::fold::NO_STACK_FRAME))
        .unwrap_or_else(|| panic!("no line without a stack in {folded}"));
    // `sort -k2 -n`, as the README shows, reads the second field.
    assert_eq!(line, format!("{} 1", torch::fold::NO_STACK_FRAME));
    let output = torch_in(dir.path(), &["-p", "goroutine.txt"]);
    let svg = success(&output);
    assert!(
        svg.contains("1 goroutine,")
            || svg.contains("1 goroutine)")
            || svg.contains("1 goroutine "),
        "singular"
    );
    assert!(!svg.contains("1 goroutines"), "no '1 goroutines'");
}

#[test]
fn says_what_it_wrote_on_stderr_unless_quiet() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let (dir, output) = torch(&["-f", "g.svg", &cpu]);
    assert!(success(&output).is_empty(), "stdout stays clean");
    let total = expected("cpu").total("cpu");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("torch: wrote g.svg (cpu, ") && stderr.contains(" total)"),
        "{stderr}"
    );
    // The total is pprof's, in the units the graph speaks.
    let seconds = total as f64 / 1e9;
    assert!(
        stderr.contains(&format!("{seconds:.2} s")),
        "{stderr} vs {seconds}"
    );
    assert!(dir.path().join("g.svg").exists());

    let (_dir, output) = torch(&["-q", "-f", "g.svg", &cpu]);
    success(&output);
    assert!(output.stderr.is_empty(), "-q says nothing");

    let (_dir, output) = torch(&["--output-dir", "out", &heap()]);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        stderr.trim_end(),
        "torch: wrote out: 4 flame graphs, index.html and summary.md"
    );

    let leak = |n: u32| path_str(&profile_path(&format!("leak-{n}"))).to_owned();
    let (_dir, output) = torch(&["--base", &leak(1), "-f", "d.svg", &leak(3)]);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        stderr.starts_with("torch: wrote d.svg (inuse_space, "),
        "{stderr}"
    );
    assert!(stderr.contains(" → "), "{stderr}");

    // Printing to stdout is its own report.
    let (_dir, output) = torch(&["-p", &cpu]);
    success(&output);
    assert!(output.stderr.is_empty());
}

#[test]
fn a_binary_after_the_profile_is_named_as_misplaced() {
    let binary = bench_binary();
    let binary = path_str(&binary);
    let mem = path_str(&profile_path("bench-mem")).to_owned();
    let (_dir, output) = torch(&[&mem, binary]);
    let message = failure(&output);
    assert!(message.contains("looks like an executable"), "{message}");
    assert!(
        message.contains(&format!("torch {binary} {mem}")),
        "{message}"
    );
    // The right order works.
    let (_dir, output) = torch(&["-r", binary, &mem]);
    success(&output);
}

#[test]
fn go_torch_pprof_args_are_read_as_torch_s_own_flags() {
    let heap = heap();
    let direct = svg_free_raw(&["-r", "-alloc_space", "--focus", "descend", &heap]);
    for args in [
        vec![
            "-r",
            "--pprofArgs=-alloc_space -focus descend",
            heap.as_str(),
        ],
        vec![
            "-r",
            "--pprofArgs",
            "-seconds 10 -alloc_space -focus=descend",
            heap.as_str(),
        ],
    ] {
        assert_eq!(svg_free_raw(&args), direct, "{args:?}");
    }
    let (_dir, output) = torch(&["--pprofArgs=-web", &heap]);
    assert!(failure(&output).contains("-web is pprof's browser view"));
    let (_dir, output) = torch(&["--pprofArgs=-nosuchflag", &heap]);
    assert!(failure(&output).contains("-nosuchflag is not a pprof flag torch knows"));
}
