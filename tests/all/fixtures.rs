//! Every fixture profile × every sample type: torch's folded stacks and
//! totals equal what `go tool pprof` computed for the same file.

use torch::fold::{self, FoldOptions, Folded, SampleSelection};
use torch::profile::{Profile, DEFAULT_MAX_SIZE};
use torch::render::{self, RenderOptions};
use torch::source;
use torch::units;

use crate::util::*;

fn load(expected: &Expected) -> Profile {
    let raw = source::read_file(&expected.profile(), None, DEFAULT_MAX_SIZE).unwrap();
    torch::decode(&raw, DEFAULT_MAX_SIZE).unwrap()
}

fn fold_as(profile: &Profile, selection: SampleSelection, mean: bool) -> Folded {
    let options = FoldOptions {
        selection,
        mean,
        ..FoldOptions::default()
    };
    fold::fold(profile, &options).unwrap()
}

fn named(name: &str) -> SampleSelection {
    SampleSelection::Named(name.to_owned())
}

#[test]
fn folded_stacks_and_totals_match_pprof_for_every_sample_type() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for expected in expected_profiles() {
        let profile = load(&expected);
        for sample_type in expected.sample_types() {
            let folded = fold_as(&profile, named(&sample_type), false);
            let (text, no_stack) = split_no_stack(&folded);
            let want = expected.folded(&sample_type);
            let case = format!("{} {sample_type}", expected.name);
            if text != want {
                failures.push(format!("{case}: {}", first_difference(&text, &want)));
            }
            if no_stack != expected.no_stack(&sample_type) {
                failures.push(format!("{case}: no-stack value {no_stack}"));
            }
            if folded.total != expected.total(&sample_type) {
                failures.push(format!(
                    "{case}: total {} vs pprof {}",
                    folded.total,
                    expected.total(&sample_type)
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 18, "only {checked} fixture × sample type cases");
}

#[test]
fn svg_total_matches_pprof_for_every_sample_type() {
    for expected in expected_profiles() {
        let profile = load(&expected);
        for sample_type in expected.sample_types() {
            let folded = fold_as(&profile, named(&sample_type), false);
            let want = expected.total(&sample_type);
            let case = format!("{} {sample_type}", expected.name);
            let svg = render_svg(&profile, &sample_type);
            if want == 0 {
                // Nothing to draw; rendering refuses with a clear error instead.
                assert!(svg.is_err(), "{case}");
                continue;
            }
            let svg = svg.unwrap();
            assert_eq!(svg_total(&svg) as i64, want, "{case}");
            let subtitle = svg_text_by_id(&svg, "subtitle");
            let unit = &folded.sample_type.unit;
            let human = units::human(want, unit);
            assert_eq!(subtitle, format!("{sample_type} — {human} total"), "{case}");
        }
    }
}

fn render_svg(profile: &Profile, sample_type: &str) -> Result<String, render::RenderError> {
    let options = FoldOptions {
        selection: named(sample_type),
        mark_inlined: true,
        ..FoldOptions::default()
    };
    let tree = fold::tree(profile, &options).unwrap();
    let measure = fold::measure(profile, &options).unwrap();
    let mut svg = Vec::new();
    render::render(&tree, &measure, &RenderOptions::default(), None, &mut svg)?;
    Ok(String::from_utf8(svg).unwrap())
}

#[test]
fn default_sample_type_is_the_one_pprof_picks() {
    for expected in expected_profiles() {
        let profile = load(&expected);
        let folded = fold_as(&profile, SampleSelection::Default, false);
        assert_eq!(
            folded.sample_type.name,
            expected.default_type(),
            "{}",
            expected.name
        );
    }
}

#[test]
fn sample_types_can_be_chosen_by_index() {
    for expected in expected_profiles() {
        let profile = load(&expected);
        for (index, sample_type) in expected.sample_types().iter().enumerate() {
            let by_index = fold_as(&profile, named(&index.to_string()), false);
            assert_eq!(&by_index.sample_type.name, sample_type, "{}", expected.name);
        }
    }
}

#[test]
fn mean_delay_matches_pprof() {
    let mut checked = 0;
    for expected in expected_profiles() {
        if !expected.has("mean_delay.folded") {
            continue;
        }
        let profile = load(&expected);
        let folded = fold_as(&profile, named("delay"), true);
        let (text, _) = split_no_stack(&folded);
        let want = expected.folded("mean_delay");
        assert!(
            text == want,
            "{}: {}",
            expected.name,
            first_difference(&text, &want)
        );
        assert_eq!(
            folded.total,
            expected.total("mean_delay"),
            "{}",
            expected.name
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "block and mutex fixtures");
}

#[test]
fn fixtures_cover_what_go_programs_produce() {
    let names: Vec<String> = expected_profiles().into_iter().map(|e| e.name).collect();
    for name in [
        "cpu",
        "heap",
        "goroutine",
        "block",
        "mutex",
        "threadcreate",
        "bench-cpu",
        "bench-mem",
    ] {
        assert!(names.iter().any(|n| n == name), "missing fixture {name}");
    }
    let all_heap = expected("heap");
    let heap_stacks = all_heap.folded("alloc_space");
    let cpu = expected("cpu").folded("cpu");
    // Generic methods, closures and deep recursion really are in the data.
    assert!(
        cpu.contains("go.shape."),
        "generic shape names in the CPU profile"
    );
    assert!(cpu.contains(".func1"), "closures in the CPU profile");
    let deepest = cpu.lines().map(|l| l.matches(';').count()).max().unwrap();
    assert!(
        deepest >= 60,
        "deep recursion reaches the 64-frame CPU limit: {deepest}"
    );
    assert!(heap_stacks.lines().count() > 5);
    let profile = load(&expected("cpu"));
    let inlined = profile
        .locations
        .iter()
        .filter(|l| l.lines.len() > 1)
        .count();
    assert!(inlined > 0, "inlined frames in the CPU profile");
}

#[test]
fn labelled_samples_fold_like_unlabelled_ones() {
    let expected = expected("cpu");
    let profile = load(&expected);
    let labelled = profile
        .samples
        .iter()
        .filter(|s| !s.labels.is_empty())
        .count();
    assert!(labelled > 0, "the CPU fixture carries pprof labels");
    let folded = fold_as(&profile, named("cpu"), false);
    assert_eq!(split_no_stack(&folded).0, expected.folded("cpu"));
}

#[test]
fn lines_name_frames_by_file_and_line_like_pprof() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let want = pprof_folded(&["-lines", "-sample_index=cpu", "-unit=nanoseconds", &cpu]);
    let (_dir, output) = torch(&["-r", "--lines", &cpu]);
    let got = success(&output);
    assert!(got == want, "{}", first_difference(&got, &want));
    assert!(got.contains("main.go:"), "file:line in frames");
}

#[test]
fn noinlines_matches_pprof() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let want = pprof_folded(&["-noinlines", "-sample_index=cpu", "-unit=nanoseconds", &cpu]);
    let (_dir, output) = torch(&["-r", "-noinlines", &cpu]);
    let got = success(&output);
    assert!(got == want, "{}", first_difference(&got, &want));
    assert_ne!(
        got,
        expected("cpu").folded("cpu"),
        "inlined frames were there to drop"
    );
}
