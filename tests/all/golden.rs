//! Golden SVGs: the exact bytes torch draws for fixtures, so any change in
//! the output is seen in review. Re-bless with `TORCH_BLESS=1 cargo test`.
//! The golden files' totals are themselves checked against pprof's.

use std::fs;
use std::path::PathBuf;

use crate::util::*;

fn golden_path(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

/// Runs torch in the fixtures' profile folder, so the source named in the
/// SVG's notes and footer is the same in every checkout.
fn check_golden(golden: &str, args: &[&str]) -> String {
    let output = torch_in(&fixtures_dir().join("profiles"), args);
    let svg = success(&output);
    let path = golden_path(golden);
    if std::env::var_os("TORCH_BLESS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &svg).unwrap();
    }
    let want = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with TORCH_BLESS=1)", path.display()));
    assert!(
        svg == want,
        "{golden} differs; re-bless with TORCH_BLESS=1 if intended"
    );
    want
}

#[test]
fn heap_alloc_space_svg() {
    let svg = check_golden(
        "heap-alloc_space.svg",
        &["-p", "-alloc_space", "heap.pb.gz"],
    );
    assert_eq!(
        svg_total(&svg) as i64,
        expected("heap").total("alloc_space")
    );
}

#[test]
fn goroutine_icicle_svg() {
    let svg = check_golden(
        "goroutine-inverted.svg",
        &[
            "-p",
            "--inverted",
            "--title",
            "Goroutines",
            "goroutine.pb.gz",
        ],
    );
    assert_eq!(
        svg_total(&svg) as i64,
        expected("goroutine").total("goroutine")
    );
}

#[test]
fn cpu_go_palette_short_names_svg() {
    let svg = check_golden("cpu-go-short.svg", &["-p", "--short", "cpu.pb.gz"]);
    assert_eq!(svg_total(&svg) as i64, expected("cpu").total("cpu"));
}
