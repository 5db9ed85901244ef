//! `--base`: what changed between two heap profiles of a leaking Go program
//! (fixtures/src/leak), checked against `go tool pprof -base`.

use std::collections::BTreeMap;

use torch::fold::FoldOptions;
use torch::profile::{self, Profile, DEFAULT_MAX_SIZE};

use crate::util::*;

fn leak(round: usize) -> String {
    path_str(&profile_path(&format!("leak-{round}"))).to_owned()
}

const TYPES: [(&str, &str); 4] = [
    ("alloc_objects", "count"),
    ("alloc_space", "bytes"),
    ("inuse_objects", "count"),
    ("inuse_space", "bytes"),
];

/// `stack before after` lines → `stack after-before`, zero changes dropped.
fn net(two_columns: &str) -> String {
    let mut out = BTreeMap::new();
    for line in two_columns.lines() {
        let mut parts = line.rsplitn(3, ' ');
        let after: i64 = parts.next().unwrap().parse().unwrap();
        let before: i64 = parts.next().unwrap().parse().unwrap();
        let stack = parts.next().unwrap();
        if after != before {
            out.insert(stack.to_owned(), after - before);
        }
    }
    out.into_iter().map(|(s, v)| format!("{s} {v}\n")).collect()
}

#[test]
fn stack_changes_equal_pprof_base_for_every_sample_type() {
    for (old, new) in [(1, 2), (2, 3), (1, 3), (3, 1)] {
        for (sample_type, unit) in TYPES {
            let index = format!("-sample_index={sample_type}");
            let want = pprof_folded(&[
                "-base",
                &leak(old),
                &index,
                &format!("-unit={unit}"),
                &leak(new),
            ]);
            let (_dir, output) = torch(&[
                "-r",
                "--sample-index",
                sample_type,
                "--base",
                &leak(old),
                &leak(new),
            ]);
            let got = net(&success(&output));
            assert!(
                got == want,
                "{old}→{new} {sample_type}:\ntorch:\n{got}\npprof:\n{want}"
            );
        }
    }
}

#[test]
fn pprof_spellings_of_base() {
    let (_dir, a) = torch(&["-r", "-base", &leak(1), &leak(2)]);
    let (_dir, b) = torch(&["-r", &format!("-diff_base={}", leak(1)), &leak(2)]);
    let (_dir, c) = torch(&["-r", "--base", &leak(1), &leak(2)]);
    assert_eq!(success(&a), success(&c));
    assert_eq!(success(&b), success(&c));
}

fn negated(profile: &Profile) -> Profile {
    let mut negated = profile.clone();
    negated.samples.for_each_values_mut(|values| {
        for value in values {
            *value = -*value;
        }
    });
    negated
}

#[test]
fn top_of_the_difference_equals_pprof_top_base() {
    let load = |round| {
        let bytes = std::fs::read(leak(round)).unwrap();
        profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap()
    };
    let difference = profile::merge(vec![load(2), negated(&load(1))]).unwrap();
    for (sample_type, unit) in TYPES {
        let options = FoldOptions {
            selection: torch::fold::SampleSelection::Named(sample_type.into()),
            ..FoldOptions::default()
        };
        let top = torch::top::top(&difference, &options, false).unwrap();
        let args: Vec<String> = vec![
            "-base".into(),
            leak(1),
            format!("-sample_index={sample_type}"),
            format!("-unit={unit}"),
            "-nodecount=100000".into(),
        ];
        let want = crate::top::pprof_top(std::path::Path::new(&leak(2)), &args);
        assert_eq!(top.total, want.total, "{sample_type}");
        let got: Vec<(i64, i64, &str)> = top
            .rows
            .iter()
            .map(|r| (r.flat, r.cum, r.name.as_str()))
            .collect();
        let want: Vec<(i64, i64, &str)> = want
            .rows
            .iter()
            .map(|r| (r.flat, r.cum, r.name.as_str()))
            .collect();
        assert_eq!(got, want, "{sample_type}");
    }
}

#[test]
fn differential_svg_shows_growth_shrink_and_what_vanished() {
    // Round 3 against round 1, backwards: everything the leak added is gone
    // in "new", so shrinking and vanished frames must be drawn.
    let (_dir, output) = torch(&["-r", "-alloc_space", "--base", &leak(3), &leak(1)]);
    let raw = success(&output);
    let vanished: Vec<&str> = raw
        .lines()
        .filter(|l| l.ends_with(" 0"))
        .map(|l| {
            l.rsplitn(3, ' ')
                .nth(2)
                .unwrap()
                .rsplit(';')
                .next()
                .unwrap()
        })
        .collect();
    assert!(
        !vanished.is_empty(),
        "some stack exists only in the base:\n{raw}"
    );
    let (_dir, output) = torch(&[
        "-p",
        "--minwidth",
        "0",
        "-alloc_space",
        "--base",
        &leak(3),
        &leak(1),
    ]);
    let svg = success(&output);
    let frames = svg_frames(&svg);
    for name in &vanished {
        let frame = frames
            .iter()
            .find(|f| f.name == *name)
            .unwrap_or_else(|| panic!("{name} drawn"));
        assert!(
            frame.title.contains(" → 0 B") && frame.title.ends_with("gone)"),
            "{}",
            frame.title
        );
        assert!(
            frame.fill.starts_with("rgb(") && shade(&frame.fill) == Shade::Blue,
            "{}",
            frame.fill
        );
    }
    let remember = frames.iter().find(|f| f.name == "main.remember").unwrap();
    assert!(remember.title.contains(" → "), "{}", remember.title);
    assert_eq!(
        shade(&remember.fill),
        Shade::Blue,
        "the cache shrank going backwards"
    );
    let (_dir, output) = torch(&["-p", "-inuse_space", "--base", &leak(1), &leak(3)]);
    let svg = success(&output);
    let remember = svg_frames(&svg)
        .into_iter()
        .find(|f| f.name == "main.remember")
        .unwrap();
    assert_eq!(shade(&remember.fill), Shade::Red, "the leak grows");
    let subtitle = svg_text_by_id(&svg, "subtitle");
    assert!(
        subtitle.starts_with("inuse_space — ") && subtitle.contains(" → "),
        "{subtitle}"
    );
}

#[derive(Debug, PartialEq)]
enum Shade {
    Red,
    Blue,
    White,
}

fn shade(fill: &str) -> Shade {
    let rgb: Vec<u32> = fill
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    match (rgb[0], rgb[2]) {
        (r, b) if r > b => Shade::Red,
        (r, b) if b > r => Shade::Blue,
        _ => Shade::White,
    }
}

#[test]
fn nothing_changed_says_so() {
    let (_dir, output) = torch(&["-p", "--base", &leak(2), &leak(2)]);
    let svg = success(&output);
    assert!(svg_text_by_id(&svg, "subtitle").contains("nothing changed"));
}

#[test]
fn normalize_scales_the_base_to_the_new_total() {
    let (_dir, output) = torch(&[
        "-r",
        "-alloc_space",
        "--normalize",
        "--base",
        &leak(1),
        &leak(3),
    ]);
    let raw = success(&output);
    let (mut before, mut after) = (0i64, 0i64);
    for line in raw.lines() {
        let mut parts = line.rsplitn(3, ' ');
        after += parts.next().unwrap().parse::<i64>().unwrap();
        before += parts.next().unwrap().parse::<i64>().unwrap();
    }
    // Each stack is rounded on its own: the sums agree to a byte per stack.
    assert!(
        (before - after).abs() <= raw.lines().count() as i64,
        "{before} vs {after}"
    );
}

#[test]
fn a_base_of_another_kind_is_refused() {
    let (_dir, output) = torch(&["--base", path_str(&profile_path("cpu")), &leak(1)]);
    assert!(failure(&output).contains("cannot merge"));
}

#[test]
fn a_differential_graph_names_both_sides_and_their_times() {
    // Short names, so that the footer fits whole.
    let profiles = fixtures_dir().join("profiles");
    let (base, new) = ("leak-1.pb.gz", "leak-3.pb.gz");
    let svg = success(&torch_in(&profiles, &["-p", "--base", base, new]));
    let footer = svg_text_by_id(&svg, "footer");
    let (before, after) = footer.split_once(" → ").expect("base → new");
    assert!(
        before.starts_with(base) && before.contains("collected "),
        "{footer}"
    );
    assert!(
        after.starts_with(new) && after.contains("collected "),
        "{footer}"
    );
    assert!(
        svg.contains(&format!("base: {base}; base collected ")),
        "notes"
    );
    assert!(svg.contains(&format!("source: {new}")), "notes");
}
