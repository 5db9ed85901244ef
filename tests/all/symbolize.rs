//! Profiles without names, symbolized from the binary they came from.

use std::fs;
use std::path::Path;

use torch::profile::{self, DEFAULT_MAX_SIZE};

use crate::util::*;

/// A fixture with every function name removed.
fn strip_names(name: &str) -> Vec<u8> {
    without_names(&fs::read(profile_path(name)).unwrap())
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
    assert_same_stacks(&got, &want, "bench-mem alloc_space");
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
        stderr.contains("fake.test") && stderr.contains("not an executable torch can read"),
        "{stderr}"
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---- symtest, built four ways (fixtures/generate_symbols.sh) ----

const VARIANTS: [&str; 4] = ["default", "pie", "w", "sw"];

fn symtest_binary(variant: &str) -> String {
    path_str(&fixtures_dir().join(format!("bin/symtest-{variant}"))).to_owned()
}

fn symtest_profile(variant: &str, file: &str) -> String {
    path_str(&fixtures_dir().join(format!("profiles/symtest-{variant}/{file}"))).to_owned()
}

#[test]
fn every_build_variant_names_a_nameless_protobuf_as_the_runtime_did() {
    for variant in VARIANTS {
        let binary = symtest_binary(variant);
        for (file, sample_type, unit) in [
            ("cpu", "cpu", "nanoseconds"),
            ("heap", "alloc_space", "bytes"),
            ("heap", "inuse_objects", "count"),
            ("allocs", "alloc_space", "bytes"),
            ("goroutine", "goroutine", "count"),
            ("block", "delay", "nanoseconds"),
            ("block", "contentions", "count"),
            ("mutex", "delay", "nanoseconds"),
            ("threadcreate", "threadcreate", "count"),
        ] {
            let named = symtest_profile(variant, &format!("{file}.pb.gz"));
            let nameless = symtest_profile(variant, &format!("{file}-nonames.pb.gz"));
            let index = format!("-sample_index={sample_type}");
            let unit = format!("-unit={unit}");
            // Ground truth: what the runtime wrote (inlined frames included),
            // as pprof reads it.
            let want = pprof_folded(&[&index, &unit, &named]);
            let got = torch_raw(&[&index, &binary, &nameless]);
            assert_same_stacks(&got, &want, &format!("{variant} {file}"));
            // And without inlined frames: as pprof shows the original.
            let want = pprof_folded(&["-noinlines", &index, &unit, &named]);
            let got = torch_raw(&["--noinlines", &index, &binary, &nameless]);
            assert_same_stacks(&got, &want, &format!("{variant} {file} -noinlines"));
        }
    }
}

#[test]
fn lines_after_symbolization_match_the_runtime() {
    for variant in VARIANTS {
        let named = symtest_profile(variant, "cpu.pb.gz");
        let nameless = symtest_profile(variant, "cpu-nonames.pb.gz");
        let want = pprof_folded(&["-lines", "-unit=nanoseconds", &named]);
        let got = torch_raw(&["--lines", &symtest_binary(variant), &nameless]);
        assert_same_stacks(&got, &want, &format!("{variant} --lines"));
    }
}

#[test]
fn binaries_are_found_on_pprof_binary_path() {
    let nameless = symtest_profile("pie", "cpu-nonames.pb.gz");
    let named = symtest_profile("pie", "cpu.pb.gz");
    let want = pprof_folded(&["-unit=nanoseconds", &named]);
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_torch"))
        .args(["-r", &nameless])
        .env(
            "PPROF_BINARY_PATH",
            format!("/nonexistent:{}", path_str(&fixtures_dir().join("bin"))),
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_same_stacks(&success(&output), &want, "PPROF_BINARY_PATH");
    // The wrong variant has another build id: passed over, not used.
    let elsewhere = tempfile::tempdir().unwrap();
    fs::copy(
        symtest_binary("default"),
        elsewhere.path().join("symtest-pie"),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_torch"))
        .args(["-r", &nameless])
        .env("PPROF_BINARY_PATH", elsewhere.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let folded = success(&output);
    assert!(folded.lines().all(|l| l.starts_with("0x")), "{folded}");
}

#[test]
fn dwarf_frames_match_what_the_runtime_recorded() {
    use torch::symbolize::binary::Binary;
    // DWARF is what names cgo and other non-Go code; check it on Go code
    // against the names the runtime wrote for the same addresses.
    let path = symtest_binary("default");
    let binary = Binary::open(std::path::Path::new(&path)).unwrap();
    let bytes = fs::read(symtest_profile("default", "cpu.pb.gz")).unwrap();
    let named = profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap();
    let mut compared = 0;
    for location in &named.locations {
        let want: Vec<&str> = location
            .lines
            .iter()
            .map(|l| named.functions[l.function.unwrap()].name.as_str())
            .collect();
        // The runtime leaves out compiler wrappers a call went through.
        let got: Vec<String> = binary
            .frames(location.address)
            .into_iter()
            .enumerate()
            .filter(|(i, f)| *i == 0 || !torch::symbolize::runtime::is_wrapper(f))
            .map(|(_, f)| f.function)
            .collect();
        assert_eq!(got, want, "{:#x}", location.address);
        compared += 1;
    }
    assert!(compared > 50, "{compared}");
}

#[test]
fn symbol_table_names_code_without_debug_info() {
    use torch::symbolize::binary::Binary;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("plain.c");
    fs::write(
        &source,
        "int __attribute__((noinline)) work(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }\n\
         int main(void) { return work(10) > 0 ? 0 : 1; }\n",
    )
    .unwrap();
    let out = dir.path().join("plain");
    let status = std::process::Command::new("cc")
        .args(["-O1", "-g0", "-no-pie", "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .expect("a C compiler");
    assert!(status.success());
    let binary = Binary::open(&out).unwrap();
    let nm = std::process::Command::new("nm").arg(&out).output().unwrap();
    let nm = String::from_utf8(nm.stdout).unwrap();
    let work = nm
        .lines()
        .find(|l| l.ends_with(" T work"))
        .map(|l| u64::from_str_radix(l.split_whitespace().next().unwrap(), 16).unwrap())
        .unwrap();
    let frames = binary.frames(work + 2);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].function, "work");
}

#[test]
fn a_wrong_binary_for_an_unnamed_text_profile_is_warned_about() {
    for file in ["heap-nosym.txt", "goroutine-nosym.txt"] {
        let profile = symtest_profile("default", file);
        let (_dir, output) = torch(&["-r", &symtest_binary("default"), &profile]);
        success(&output);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !stderr.contains("does not seem"),
            "{file}, its own binary: {stderr}"
        );
        for wrong in ["bench.test", "workload"] {
            let binary = path_str(&fixtures_dir().join("bin").join(wrong)).to_owned();
            let (_dir, output) = torch(&["-r", &binary, &profile]);
            success(&output);
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(
                stderr.contains(&format!("{binary}: "))
                    && stderr.contains("does not seem to be the binary that produced the profile"),
                "{file} named from {wrong}: {stderr}"
            );
        }
    }
}

/// The runtime-expanded kinds, each with its sample types.
const RUNTIME_KINDS: [(&str, &[&str]); 6] = [
    ("heap", &["alloc_space", "inuse_objects"]),
    ("allocs", &["alloc_space", "inuse_space"]),
    ("goroutine", &["goroutine"]),
    ("block", &["contentions", "delay"]),
    ("mutex", &["contentions", "delay"]),
    ("threadcreate", &["threadcreate"]),
];

/// The leading runtime frames of each folded stack (leaf side) as the one
/// frame torch shows for runtime frames a text profile left unnamed.
fn leading_runtime_as_unnamed(folded: &str) -> String {
    let runtime = |f: &&&str| f.starts_with("runtime.") || f.starts_with("internal/runtime/");
    let mut lines: Vec<(String, i64)> = Vec::new();
    for line in folded.lines() {
        let (stack, value) = line.rsplit_once(' ').unwrap();
        let mut frames: Vec<&str> = stack.split(';').collect();
        let leading = frames.iter().rev().take_while(runtime).count();
        if leading > 0 && leading < frames.len() {
            frames.truncate(frames.len() - leading);
            frames.push(torch::symbolize::runtime::UNNAMED_RUNTIME);
        }
        lines.push((frames.join(";"), value.parse().unwrap()));
    }
    let mut merged = std::collections::BTreeMap::new();
    for (stack, value) in lines {
        *merged.entry(stack).or_insert(0) += value;
    }
    merged.iter().map(|(s, v)| format!("{s} {v}\n")).collect()
}

#[test]
fn text_profiles_without_symbol_lines_are_named_as_the_runtime_named_them() {
    // Every kind Go writes as text, from every build (the PIE's load
    // address found from the stacks, as text profiles have no memory
    // map): named from the binary, the stacks must be the ones the
    // runtime's own `#` lines give, inlined frames, order and values
    // included.
    for variant in VARIANTS {
        let binary = symtest_binary(variant);
        for (kind, sample_types) in RUNTIME_KINDS {
            let named = symtest_profile(variant, &format!("{kind}.txt"));
            let nameless = symtest_profile(variant, &format!("{kind}-nosym.txt"));
            for sample_type in sample_types {
                let index = format!("-sample_index={sample_type}");
                let case = format!("{variant} {kind} {sample_type}");
                let got = torch_raw(&[&index, &binary, &nameless]);
                // The `#` lines win; the binary names only what they hid.
                let want = torch_raw(&[&index, &binary, &named]);
                assert_same_stacks(&got, &want, &format!("{case}, both named from the binary"));
                // Without the binary: the runtime's `#` lines alone.
                let runtime = torch_raw(&[&index, &named]);
                // Go prints every frame of block and mutex stacks, and
                // hides the leading runtime frames of the others.
                let got = match kind {
                    "goroutine" | "threadcreate" => leading_runtime_as_unnamed(&got),
                    _ => got,
                };
                assert_same_stacks(&got, &runtime, &format!("{case}, against the `#` lines"));
                assert!(!got.contains("0x"), "{case}: every frame named\n{got}");
            }
        }
    }
}

#[test]
fn text_profiles_without_a_binary_show_no_addresses_and_no_warning() {
    // The runtime hides the allocator (and, in other kinds, the leading
    // runtime frames) and runtime.goexit from `#` lines: neither becomes a
    // 0x… box, and no address is said to be unnamed.
    for (kind, _) in RUNTIME_KINDS {
        let named = symtest_profile("default", &format!("{kind}.txt"));
        let (_dir, output) = torch(&["-r", &named]);
        let folded = success(&output);
        assert!(!folded.contains("0x"), "{kind}: {folded}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("addresses"), "{kind}: {stderr}");
        let unnamed = folded.contains(torch::symbolize::runtime::UNNAMED_RUNTIME);
        let hides_runtime = matches!(kind, "goroutine" | "threadcreate");
        assert_eq!(unnamed, hides_runtime, "{kind}: {folded}");
    }
}

#[test]
fn the_workload_s_profiles_without_names_are_named_as_the_runtime_named_them() {
    // The other fixture program (one build): every kind it wrote, as a
    // protobuf stripped of its names and as text without its `#` lines.
    let dir = tempfile::tempdir().unwrap();
    let binary = path_str(&fixtures_dir().join("bin/workload")).to_owned();
    for (kind, sample_type, unit) in [
        ("heap", "alloc_space", "bytes"),
        ("heap", "inuse_space", "bytes"),
        ("goroutine", "goroutine", "count"),
        ("block", "delay", "nanoseconds"),
        ("mutex", "contentions", "count"),
        ("threadcreate", "threadcreate", "count"),
    ] {
        let index = format!("-sample_index={sample_type}");
        let case = format!("workload {kind} {sample_type}");
        let named = path_str(&profile_path(kind)).to_owned();
        let nameless = write(dir.path(), &format!("{kind}.pb.gz"), &strip_names(kind));
        let want = pprof_folded(&[&index, &format!("-unit={unit}"), &named]);
        assert_same_stacks(&torch_raw(&[&index, &binary, &nameless]), &want, &case);

        let text = fixtures_dir().join(format!("profiles/text/{kind}.txt"));
        let text = fs::read_to_string(text).unwrap();
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("#\t0x")).collect();
        let nosym = write(
            dir.path(),
            &format!("{kind}.txt"),
            kept.join("\n").as_bytes(),
        );
        let named_text = write(dir.path(), &format!("{kind}-named.txt"), text.as_bytes());
        let want = torch_raw(&[&index, &binary, &named_text]);
        let got = torch_raw(&[&index, &binary, &nosym]);
        assert_same_stacks(&got, &want, &format!("{case} text"));
        assert!(!got.contains("0x"), "{case} text: {got}");
    }
}
