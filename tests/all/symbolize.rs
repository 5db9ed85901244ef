//! Profiles without names, symbolized from the binary they came from.

use std::fs;
use std::path::Path;

use torch::profile::{self, DEFAULT_MAX_SIZE};

use crate::util::*;

/// A fixture with every function name removed, as profiles from other tools
/// or `pprof -symbolize=none` conversions arrive.
fn strip_names(name: &str) -> Vec<u8> {
    let bytes = fs::read(profile_path(name)).unwrap();
    let mut profile = profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap();
    for location in &mut profile.locations {
        location.lines.clear();
    }
    profile.functions.clear();
    for mapping in &mut profile.mappings {
        mapping.has_functions = false;
        mapping.has_filenames = false;
        mapping.has_line_numbers = false;
        mapping.has_inline_frames = false;
    }
    profile::encode_gzip(&profile)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn stripped_profile_named_from_the_binary_with_inlined_frames() {
    let dir = tempfile::tempdir().unwrap();
    let stripped = write(dir.path(), "mem.pb.gz", &strip_names("bench-mem"));
    let binary = path_str(&bench_binary()).to_owned();
    let output = torch_in(dir.path(), &["-r", &binary, &stripped]);
    let got = success(&output);
    let want = expected("bench-mem").folded("alloc_space");
    assert!(got == want, "{}", diff_summary(&got, &want));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn without_the_binary_addresses_stay_and_one_warning_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let stripped = write(dir.path(), "mem.pb.gz", &strip_names("bench-mem"));
    let output = torch_in(dir.path(), &["-r", &stripped]);
    let folded = success(&output);
    assert!(folded.lines().all(|l| l.starts_with("0x")), "{folded}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("torch BINARY PROFILE"), "{stderr}");
}

#[test]
fn a_binary_with_another_build_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stripped = write(dir.path(), "mem.pb.gz", &strip_names("bench-mem"));
    let mut other = fs::read(bench_binary()).unwrap();
    // Change one byte of the build id note's payload.
    let at = find(&other, b"GNU\0").expect("a GNU build id note") + 4;
    other[at] ^= 0xff;
    let other_path = write(dir.path(), "other.test", &other);
    let output = torch_in(dir.path(), &["-r", &other_path, &stripped]);
    let stderr = failure(&output);
    assert!(
        stderr.contains("does not match") && stderr.contains("--force"),
        "{stderr}"
    );
    let output = torch_in(dir.path(), &["-r", "--force", &other_path, &stripped]);
    success(&output);
}

#[test]
fn a_binary_that_is_not_elf_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let stripped = write(dir.path(), "mem.pb.gz", &strip_names("bench-mem"));
    let fake = write(dir.path(), "fake.test", b"\x7fELF but not really");
    let output = torch_in(dir.path(), &["-r", &fake, &stripped]);
    let stderr = failure(&output);
    assert!(
        stderr.contains("fake.test") && stderr.contains("not an ELF"),
        "{stderr}"
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn diff_summary(got: &str, want: &str) -> String {
    let g: Vec<&str> = got.lines().collect();
    let w: Vec<&str> = want.lines().collect();
    let only_got: Vec<&&str> = g.iter().filter(|l| !w.contains(l)).take(3).collect();
    let only_want: Vec<&&str> = w.iter().filter(|l| !g.contains(l)).take(3).collect();
    format!(
        "{} vs {} lines\nonly torch: {only_got:#?}\nonly pprof: {only_want:#?}",
        g.len(),
        w.len()
    )
}
