//! Bad input: each case gives a one-line error naming the input and the
//! problem, exit code 2 (never a panic), and leaves outputs untouched.

use std::fs;
use std::io::Write;

use crate::util::*;

/// Minimal protobuf writer for hand-made hostile profiles.
#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) -> &mut Self {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
        self
    }
    fn int(&mut self, field: u64, v: u64) -> &mut Self {
        self.varint(field << 3).varint(v)
    }
    fn bytes(&mut self, field: u64, b: &[u8]) -> &mut Self {
        self.varint(field << 3 | 2).varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
    fn msg(&mut self, field: u64, m: &Pb) -> &mut Self {
        self.bytes(field, &m.0)
    }
}

fn pb(build: impl FnOnce(&mut Pb)) -> Pb {
    let mut p = Pb::default();
    build(&mut p);
    p
}

/// A valid one-sample profile, with `tweak` applied to the function's name
/// index and the sample's location id, to make it invalid on purpose.
fn tiny_profile(function_name: u64, sample_location: u64, with_sample: bool) -> Vec<u8> {
    let mut p = Pb::default();
    for s in ["", "samples", "count", "main.main"] {
        p.bytes(6, s.as_bytes());
    }
    p.msg(
        1,
        &pb(|m| {
            m.int(1, 1).int(2, 2);
        }),
    );
    if with_sample {
        p.msg(
            2,
            &pb(|m| {
                m.int(1, sample_location).int(2, 5);
            }),
        );
    }
    p.msg(
        4,
        &pb(|m| {
            m.int(1, 1).msg(
                4,
                &pb(|l| {
                    l.int(1, 1);
                }),
            );
        }),
    );
    p.msg(
        5,
        &pb(|m| {
            m.int(1, 1).int(2, function_name);
        }),
    );
    p.0
}

/// Runs torch on `bytes` saved as `name`, with an existing output that must
/// survive, and returns the error line.
fn rejects(name: &str, bytes: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(name), bytes).unwrap();
    fs::write(dir.path().join("out.svg"), "precious").unwrap();
    let mut args = vec!["-f", "out.svg"];
    args.extend_from_slice(extra);
    args.push(name);
    let output = torch_in(dir.path(), &args);
    let stderr = failure(&output);
    assert!(stderr.contains(name), "error names the input: {stderr}");
    assert_eq!(
        fs::read_to_string(dir.path().join("out.svg")).unwrap(),
        "precious"
    );
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f != name && f != "out.svg")
        .collect();
    assert!(leftovers.is_empty(), "stray files: {leftovers:?}");
    stderr
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip_fixture(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let file = fs::File::open(profile_path(name)).unwrap();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(file), &mut out).unwrap();
    out
}

#[test]
fn empty_file() {
    assert!(rejects("empty.pb.gz", b"", &[]).contains("empty"));
}

#[test]
fn random_bytes() {
    // Fixed pseudo-random bytes (xorshift), so the case is reproducible.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert!(rejects("random.bin", &bytes, &[]).contains("not a pprof"));
}

#[test]
fn truncated_gzip() {
    let whole = fs::read(profile_path("heap")).unwrap();
    let cut = &whole[..whole.len() / 2];
    assert!(rejects("cut.pb.gz", cut, &[]).contains("truncated"));
}

#[test]
fn json_and_html_are_named() {
    assert!(rejects("p.json", br#"{"profile": []}"#, &[]).contains("JSON"));
    let html = b"<!DOCTYPE html>\n<html><body>404 page not found</body></html>";
    assert!(rejects("p.html", html, &[]).contains("HTML"));
    assert!(rejects("p.gz", &gzip(b"<html>oops</html>"), &[]).contains("HTML"));
}

#[test]
fn out_of_range_string_index() {
    let stderr = rejects("bad.pb", &tiny_profile(99, 1, true), &[]);
    assert!(stderr.contains("string 99"), "{stderr}");
}

#[test]
fn missing_location_id() {
    let stderr = rejects("bad.pb", &tiny_profile(3, 7, true), &[]);
    assert!(stderr.contains("location id 7"), "{stderr}");
}

#[test]
fn hand_made_valid_profile_is_accepted() {
    // The same builder with correct indices must work, or the two tests above
    // would pass for the wrong reason.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.pb"), tiny_profile(3, 1, true)).unwrap();
    assert_eq!(
        success(&torch_in(dir.path(), &["-r", "ok.pb"])),
        "main.main 5\n"
    );
}

#[test]
fn profile_without_samples() {
    let stderr = rejects("none.pb.gz", &gzip(&tiny_profile(3, 1, false)), &[]);
    assert!(stderr.contains("no samples"), "{stderr}");
}

#[test]
fn unknown_sample_type_lists_the_real_ones() {
    let bytes = fs::read(profile_path("heap")).unwrap();
    let stderr = rejects("heap.pb.gz", &bytes, &["--sample-index", "bogus"]);
    for name in [
        "bogus",
        "alloc_objects",
        "alloc_space",
        "inuse_objects",
        "inuse_space",
    ] {
        assert!(stderr.contains(name), "{stderr}");
    }
    let stderr = rejects("heap.pb.gz", &bytes, &["-sample_index=9"]);
    assert!(stderr.contains("\"9\""), "{stderr}");
}

#[test]
fn concatenated_profiles_are_refused() {
    let one = gunzip_fixture("heap");
    let two = gunzip_fixture("goroutine");
    let plain = [one.clone(), two.clone()].concat();
    assert!(rejects("two.pb", &plain, &[]).contains("concatenated"));
    let members = [gzip(&one), gzip(&two)].concat();
    assert!(rejects("two.pb.gz", &members, &[]).contains("concatenated"));
}

#[test]
fn a_missing_file_is_named() {
    let (_dir, output) = torch(&["no-such-profile.pb.gz"]);
    let stderr = failure(&output);
    assert!(
        stderr.contains("no-such-profile.pb.gz: cannot read"),
        "{stderr}"
    );
}

#[test]
fn a_binary_alone_is_not_a_profile() {
    let (_dir, output) = torch(&[path_str(&bench_binary())]);
    assert!(failure(&output).contains("is an executable"));
}

#[test]
fn output_in_a_missing_directory() {
    let heap = profile_path("heap");
    let (dir, output) = torch(&["-f", "nowhere/out.svg", path_str(&heap)]);
    assert!(failure(&output).contains("nowhere/out.svg"));
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn mixing_profile_kinds_is_refused() {
    let heap = profile_path("heap");
    let cpu = profile_path("cpu");
    let (_dir, output) = torch(&["-r", path_str(&heap), path_str(&cpu)]);
    let stderr = failure(&output);
    assert!(
        stderr.contains("cpu.pb.gz") && stderr.contains("cannot merge"),
        "{stderr}"
    );
}

/// A profile with one sample whose stack is `depth` frames deep, and names
/// as hostile as they come.
fn deep_hostile_profile(depth: u64) -> Vec<u8> {
    let names: [&[u8]; 5] = [
        b"main.<script>alert(1)</script>",
        b"a & b \"quoted\" 'single'; x",
        b"line\nbreak 42",
        b"\xff\xfe invalid utf-8",
        b"ok.frame",
    ];
    let mut p = Pb::default();
    p.bytes(6, b"");
    p.bytes(6, b"samples");
    p.bytes(6, b"count");
    for name in names {
        p.bytes(6, name);
    }
    p.msg(
        1,
        &pb(|m| {
            m.int(1, 1).int(2, 2);
        }),
    );
    let mut sample = Pb::default();
    let mut ids = Pb::default();
    for i in 0..depth {
        ids.varint(1 + i % 5);
    }
    sample.bytes(1, &ids.0).int(2, 3);
    p.msg(2, &sample);
    for id in 1..=5u64 {
        p.msg(
            4,
            &pb(|m| {
                m.int(1, id).msg(
                    4,
                    &pb(|l| {
                        l.int(1, id);
                    }),
                );
            }),
        );
        p.msg(
            5,
            &pb(|m| {
                m.int(1, id).int(2, 2 + id);
            }),
        );
    }
    p.0
}

#[test]
fn hostile_names_are_escaped_and_a_deep_stack_does_not_overflow() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("deep.pb"), deep_hostile_profile(100_000)).unwrap();
    let folded = success(&torch_in(dir.path(), &["-r", "deep.pb"]));
    assert_eq!(folded.lines().count(), 1);
    assert_eq!(
        folded.matches(';').count(),
        100_000 - 1,
        "frames only: ';' in names became ':'"
    );
    assert!(folded.contains("'single': x"), "{}", &folded[..200]);
    assert!(
        folded.contains("line break_42"),
        "no raw newline, no trailing count"
    );
    assert!(folded.contains("\u{fffd}"), "invalid UTF-8 replaced");
    assert!(folded.trim_end().ends_with(" 3"));
    fs::write(dir.path().join("shallow.pb"), deep_hostile_profile(50)).unwrap();
    let svg = success(&torch_in(dir.path(), &["-p", "shallow.pb"]));
    assert_eq!(
        svg.matches("<script").count(),
        1,
        "only inferno's own script element"
    );
    assert!(svg.contains("&lt;script&gt;"), "names escaped");
}

#[test]
fn a_gzip_bomb_stops_at_the_size_limit() {
    // 64 MiB of zeros compress to ~64 KiB; a 1 MiB limit refuses it quickly.
    let zeros = vec![0u8; 64 << 20];
    let bomb = gzip(&zeros);
    let stderr = rejects("bomb.pb.gz", &bomb, &["--max-size", "1048576"]);
    assert!(stderr.contains("limit"), "{stderr}");
}

#[test]
fn an_unwritable_output_fails_before_any_work() {
    let heap = profile_path("heap");
    // /proc refuses new files even for root.
    let (_dir, output) = torch(&["-f", "/proc/torch.svg", path_str(&heap)]);
    assert!(failure(&output).contains("/proc/torch.svg: cannot write"));
    let (_dir, output) = torch(&["--save", "/proc/saved.pb.gz", "-r", path_str(&heap)]);
    assert!(failure(&output).contains("/proc/saved.pb.gz"));
}

#[test]
fn a_symlinked_output_is_replaced_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("out.svg")).unwrap();
    let heap = path_str(&profile_path("heap")).to_owned();
    success(&torch_in(dir.path(), &["-f", "out.svg", &heap]));
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
    assert!(fs::read_to_string(dir.path().join("out.svg"))
        .unwrap()
        .starts_with("<?xml"));
}

#[test]
fn absurdly_deep_stacks_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("deeper.pb"),
        deep_hostile_profile((1 << 20) + 1),
    )
    .unwrap();
    let stderr = failure(&torch_in(dir.path(), &["-r", "deeper.pb"]));
    assert!(
        stderr.contains("frames in one stack") && stderr.contains("limit"),
        "{stderr}"
    );
}
