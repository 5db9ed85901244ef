//! Hostile and careless input: crafted profiles (made here with torch's own
//! encoder, as no Go program writes them), outputs that are not plain
//! files, and values at the edges of what a number can hold.

use std::fs;
use std::path::Path;
use std::process::Command;

use torch::profile::{encode_gzip, Function, Line, Location, Profile, Sample, ValueType};

use crate::util::*;

/// A profile of one sample type whose stacks are the given function
/// names (leaf first), each with a value.
fn crafted(sample_type: &str, unit: &str, stacks: &[(&[&str], i64)]) -> Profile {
    let mut profile = Profile {
        sample_types: vec![ValueType {
            name: sample_type.into(),
            unit: unit.into(),
        }],
        ..Profile::default()
    };
    for (names, value) in stacks {
        let mut locations = Vec::new();
        for name in names.iter() {
            let function = match profile.functions.iter().position(|f| f.name == *name) {
                Some(at) => at,
                None => {
                    profile.functions.push(Function {
                        name: (*name).into(),
                        system_name: (*name).into(),
                        filename: "main.go".into(),
                        start_line: 1,
                    });
                    profile.functions.len() - 1
                }
            };
            profile.locations.push(Location {
                address: 0x1000 + profile.locations.len() as u64,
                mapping: None,
                lines: vec![Line {
                    function: Some(function),
                    line: 1,
                }],
            });
            locations.push(profile.locations.len() as u32 - 1);
        }
        profile.samples.push(Sample {
            locations,
            values: vec![*value],
            labels: Vec::new(),
        });
    }
    profile
}

/// Makes a FIFO called `name` in `dir`.
fn fifo(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let made = Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    path
}

/// Runs torch in `dir` with at most `bytes` of address space, as a
/// machine short of memory would: a clean error, not an abort.
fn under_memory_limit(dir: &Path, bytes: u64, args: &[&str]) -> std::process::Output {
    Command::new("prlimit")
        .arg(format!("--as={bytes}"))
        .arg(env!("CARGO_BIN_EXE_torch"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("prlimit (util-linux) runs")
}

fn write(dir: &Path, name: &str, profile: &Profile) -> String {
    fs::write(dir.join(name), encode_gzip(profile)).unwrap();
    name.to_owned()
}

#[test]
fn a_fifo_is_written_to_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("graph.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let heap = path_str(&profile_path("heap")).to_owned();
    let output = torch_in(dir.path(), &["-q", "-f", "graph.fifo", &heap]);
    success(&output);
    let svg = reader.join().unwrap();
    assert!(svg.starts_with("<?xml"), "the SVG came through the FIFO");
    use std::os::unix::fs::FileTypeExt;
    let kind = fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "still a FIFO");
}

#[test]
fn dev_stdout_is_written_to_even_when_it_leads_to_a_file() {
    // `torch -f /dev/stdout > out.svg`: /dev/stdout is a link to the
    // redirected file, which must receive the graph through it.
    let dir = tempfile::tempdir().unwrap();
    let out = fs::File::create(dir.path().join("out.svg")).unwrap();
    let heap = path_str(&profile_path("heap")).to_owned();
    let status = Command::new(env!("CARGO_BIN_EXE_torch"))
        .args(["-q", "-f", "/dev/stdout", &heap])
        .current_dir(dir.path())
        .stdout(out)
        .status()
        .unwrap();
    assert!(status.success());
    let svg = fs::read_to_string(dir.path().join("out.svg")).unwrap();
    assert!(
        svg.starts_with("<?xml"),
        "the graph went through /dev/stdout"
    );
    let link = fs::symlink_metadata("/dev/stdout").unwrap();
    assert!(link.file_type().is_symlink(), "/dev/stdout is still a link");
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let heap = fs::read(profile_path("heap")).unwrap();
    fs::write(dir.path().join("self.pb.gz"), &heap).unwrap();
    fs::write(dir.path().join("b.pb.gz"), &heap).unwrap();
    // The same file under another name counts too.
    fs::hard_link(
        dir.path().join("self.pb.gz"),
        dir.path().join("alias.pb.gz"),
    )
    .unwrap();
    for args in [
        vec!["-f", "self.pb.gz", "self.pb.gz"],
        vec!["-f", "alias.pb.gz", "self.pb.gz"],
        vec!["--save", "b.pb.gz", "self.pb.gz", "b.pb.gz"],
        vec!["-f", "./b.pb.gz", "--base", "b.pb.gz", "self.pb.gz"],
    ] {
        let message = failure(&torch_in(dir.path(), &args));
        assert!(message.contains("is also an input"), "{args:?}: {message}");
    }
    for file in ["self.pb.gz", "b.pb.gz"] {
        assert_eq!(
            fs::read(dir.path().join(file)).unwrap(),
            heap,
            "{file} untouched"
        );
    }
}

#[test]
fn numbers_at_the_edges_are_refused_or_held_not_panicked_on() {
    let heap = path_str(&profile_path("heap")).to_owned();
    for args in [
        vec!["-t", "18446744073709551615", "-r", heap.as_str()],
        vec!["-t", "9223372036854775807", "-r", heap.as_str()],
        vec!["--max-size", "18446744073709551615", "-r", heap.as_str()],
        vec!["--max-size", "0", "-r", heap.as_str()],
        vec!["--max-size", "5PiB", "-r", heap.as_str()],
    ] {
        let (_dir, output) = torch(&args);
        usage_error(&output);
    }
    let (_dir, output) = torch(&["--max-size", "512MiB", "-r", &heap]);
    assert_eq!(success(&output), expected("heap").folded("inuse_space"));
    let (_dir, output) = torch(&["--max-size", "1KiB", "-r", &heap]);
    assert!(failure(&output).contains("1024-byte limit"));

    // A mean of i64::MIN over -1 events cannot be divided: it saturates.
    let dir = tempfile::tempdir().unwrap();
    let mut profile = crafted("contentions", "count", &[(&["main.f"], -1)]);
    profile.sample_types.push(ValueType {
        name: "delay".into(),
        unit: "nanoseconds".into(),
    });
    profile.samples.edit(|sample| {
        sample.values.push(i64::MIN);
        true
    });
    let file = write(dir.path(), "mutex.pb.gz", &profile);
    for extra in ["-r", "-p"] {
        let output = torch_in(dir.path(), &["-q", "-mean_delay", extra, &file]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{extra}: {stderr}");
        assert!(
            matches!(output.status.code(), Some(0 | 2)),
            "{extra}: {stderr}"
        );
    }
}

#[test]
fn names_cannot_break_the_svg_the_summary_or_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let evil = [
        "main.\u{fffe}odd\u{ffff}",
        "main.line\nbreak",
        "main.\u{1b}]0;pwned\u{7}title",
        "main.<img src=x onerror=alert(1)>",
        "main.pipe|`tick`",
    ];
    let stacks: Vec<(&[&str], i64)> = evil
        .iter()
        .map(|name| (std::slice::from_ref(name), 7))
        .collect();
    let mut profile = crafted(
        "samples\n# injected heading ![x](http://e/x.png)",
        "count",
        &stacks,
    );
    profile.sample_types.push(ValueType {
        name: "a/b".into(),
        unit: "count".into(),
    });
    profile.sample_types.push(ValueType {
        name: "a_b".into(),
        unit: "count".into(),
    });
    profile.samples.edit(|sample| {
        sample.values.extend([3, 4]);
        true
    });
    let file = write(dir.path(), "evil.pb.gz", &profile);

    // The SVG stays well-formed XML.
    let output = torch_in(dir.path(), &["-q", "-p", "--sample-index=0", &file]);
    let svg = success(&output);
    let forbidden = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    assert!(!svg.contains(forbidden), "a character XML forbids");
    assert!(
        svg.contains("main.\u{fffd}odd\u{fffd}"),
        "replaced, not dropped"
    );
    let mut reader = quick_xml::Reader::from_str(&svg);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML: {e}"),
        }
    }

    // --output-dir: a graph per type (names made unique), and a summary
    // whose headings and rows stay what they are.
    success(&torch_in(dir.path(), &["-q", "--output-dir", "out", &file]));
    let out = dir.path().join("out");
    assert!(out.join("evil-a_b.svg").exists() && out.join("evil-a_b-2.svg").exists());
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    for line in summary.lines() {
        assert!(
            !line.starts_with("# injected"),
            "a heading was injected: {summary}"
        );
        assert!(!line.contains("![x]("), "an image: {line}");
        if line.starts_with("| ") && line.contains("main.") {
            // A name is one code span, where Markdown shows HTML as text.
            assert_eq!(line.matches('`').count(), 2, "{line}");
        } else {
            assert!(!line.contains("<img src"), "raw HTML: {line}");
        }
    }
    let headings = summary.lines().filter(|l| l.starts_with("### ")).count();
    assert_eq!(headings, 3, "one heading per sample type: {summary}");
    let rows = summary
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("main."))
        .count();
    assert_eq!(
        rows,
        3 * evil.len(),
        "one row per function per type: {summary}"
    );
    let index = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!index.contains("<img src=x"), "index.html escapes names");

    // Nothing reaches the terminal raw: --top, and an error naming a type.
    let output = torch_in(dir.path(), &["--top", "--sample-index=0", &file]);
    let table = success(&output);
    assert!(!table.contains('\u{1b}'), "no escape sequence in --top");
    let output = torch_in(dir.path(), &["-r", "--sample-index=nosuch", &file]);
    let message = failure(&output);
    assert!(!message.contains('\u{1b}'), "{message}");
}

#[test]
fn a_profile_from_a_pipe_keeps_every_byte() {
    // The first argument used to be peeked at for an ELF header, taking
    // four bytes from a pipe. `-` reads standard input.
    let heap = profile_path("heap");
    let want = expected("heap").folded("inuse_space");
    for source in ["/dev/stdin", "-"] {
        let output = Command::new(env!("CARGO_BIN_EXE_torch"))
            .args(["-r", source])
            .stdin(fs::File::open(&heap).unwrap())
            .output()
            .unwrap();
        assert_eq!(success(&output), want, "{source}");
    }
    // A FIFO given as the profile is read as a stream.
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path(), "heap.fifo");
    let writer = {
        let (fifo, heap) = (fifo.clone(), heap.clone());
        std::thread::spawn(move || fs::write(fifo, fs::read(heap).unwrap()).unwrap())
    };
    let output = torch_in(dir.path(), &["-r", "heap.fifo"]);
    writer.join().unwrap();
    assert_eq!(success(&output), want);
}

#[test]
fn a_fifo_named_as_the_binary_is_passed_over_not_waited_on() {
    // An unnamed profile whose mapping names a FIFO: opening it to read
    // the binary would wait for a writer forever.
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path(), "service");
    let mut profile = crafted("samples", "count", &[(&["main.f"], 5)]);
    profile.functions.clear();
    profile.locations[0].lines.clear();
    profile.mappings.push(torch::profile::Mapping {
        memory_start: 0x1000,
        memory_limit: 0x2000,
        filename: path_str(&fifo).to_owned(),
        ..Default::default()
    });
    profile.locations[0].mapping = Some(0);
    let file = write(dir.path(), "nameless.pb.gz", &profile);
    let mut child = Command::new(env!("CARGO_BIN_EXE_torch"))
        .args(["-q", "-r", &file])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("torch waited on the FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success());
}

#[test]
fn values_that_overflow_saturate_and_say_so() {
    // Two samples of i64::MAX on one stack, and a delta whose shrink is
    // i64::MIN: sums that cannot be held.
    let dir = tempfile::tempdir().unwrap();
    let big = crafted(
        "inuse_space",
        "bytes",
        &[
            (&["main.f1"], i64::MAX),
            (&["main.f1"], i64::MAX),
            (&["main.f2"], i64::MIN),
        ],
    );
    let file = write(dir.path(), "big.pb.gz", &big);
    let svg = success(&torch_in(dir.path(), &["-q", "-p", &file]));
    let subtitle = svg_text_by_id(&svg, "subtitle");
    assert!(subtitle.contains("(saturated)"), "{subtitle}");
    assert!(!subtitle.contains("-8 EB"), "{subtitle}");
    let small = crafted("inuse_space", "bytes", &[(&["main.f1"], i64::MIN)]);
    let base = write(dir.path(), "small.pb.gz", &small);
    let output = torch_in(dir.path(), &["-q", "-p", "--base", &base, &file]);
    let svg = success(&output);
    assert!(!svg.contains("-8446744073709551616"), "no wrapped number");
    assert!(
        svg.contains("(saturated)"),
        "the diff says a value saturated"
    );
}

/// A gzip'd profile of `count` samples of four bytes each (one value, no
/// stack): tiny compressed, large decompressed, huge once decoded.
fn tiny_samples(count: usize) -> Vec<u8> {
    use std::io::Write;
    let mut body = Vec::with_capacity(count * 4 + 64);
    // sample_type {type: 1, unit: 2}, string table "", "samples", "count".
    body.extend_from_slice(b"\x0a\x04\x08\x01\x10\x02");
    for text in [&b""[..], b"samples", b"count"] {
        body.push(0x32);
        body.push(text.len() as u8);
        body.extend_from_slice(text);
    }
    for _ in 0..count {
        body.extend_from_slice(b"\x12\x02\x10\x01");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&body).unwrap();
    gz.finish().unwrap()
}

#[test]
fn samples_that_would_take_far_more_memory_than_their_bytes_are_refused_first() {
    // 20 million 4-byte samples: 80 MB decompressed, 2 GB decoded. Under
    // an address-space limit of 1 GB torch must refuse, not abort.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("tiny.pb.gz"), tiny_samples(20_000_000)).unwrap();
    let output = Command::new("prlimit")
        .args([
            "--as=1000000000",
            env!("CARGO_BIN_EXE_torch"),
            "-r",
            "tiny.pb.gz",
        ])
        .current_dir(dir.path())
        .output()
        .expect("prlimit (util-linux) runs");
    let message = failure(&output);
    assert!(
        message.contains("tiny.pb.gz") && message.contains("budget"),
        "{message}"
    );
    // A few such samples are a profile like any other.
    fs::write(dir.path().join("few.pb.gz"), tiny_samples(1000)).unwrap();
    let output = torch_in(dir.path(), &["-r", "few.pb.gz"]);
    assert_eq!(
        success(&output),
        format!("{} 1000\n", torch::fold::NO_STACK_FRAME)
    );
}

#[test]
fn a_tiny_profile_with_an_absurd_stack_is_refused_not_expanded() {
    // A thousand references to one location of a thousand inlined lines
    // of a 10 kB name: a few hundred bytes that unfold to 10 GB of text.
    let dir = tempfile::tempdir().unwrap();
    let name = format!("main.{}", "x".repeat(10_000));
    let mut profile = crafted("samples", "count", &[(&[name.as_str()], 1)]);
    let line = profile.locations[0].lines[0];
    profile.locations[0].lines = vec![line; 1000];
    profile.samples.edit(|sample| {
        sample.locations = vec![0; 1000];
        true
    });
    let file = write(dir.path(), "absurd.pb.gz", &profile);
    for mode in ["-r", "-p"] {
        let output = under_memory_limit(dir.path(), 2_000_000_000, &[mode, &file]);
        let message = failure(&output);
        assert!(
            message.contains("1000000 frames") && message.contains("MB of text"),
            "{message}"
        );
    }
}

#[test]
fn a_graph_of_too_much_text_is_refused_not_drawn() {
    // 120 stacks of 300 frames with 10 kB names: each 3 MB (under the
    // limit for one stack), 360 MB together, which inferno would hold
    // several times over.
    let dir = tempfile::tempdir().unwrap();
    let shared: Vec<String> = (0..300)
        .map(|i| format!("main.f{i}{}", "x".repeat(10_000)))
        .collect();
    let leaves: Vec<String> = (0..120).map(|i| format!("main.leaf{i}")).collect();
    let stacks: Vec<Vec<&str>> = leaves
        .iter()
        .map(|leaf| {
            let mut stack = vec![leaf.as_str()];
            stack.extend(shared.iter().rev().map(String::as_str));
            stack
        })
        .collect();
    let stacks: Vec<(&[&str], i64)> = stacks.iter().map(|s| (s.as_slice(), 1)).collect();
    let file = write(
        dir.path(),
        "wide.pb.gz",
        &crafted("samples", "count", &stacks),
    );
    let output = under_memory_limit(dir.path(), 3_000_000_000, &["-q", "-p", &file]);
    let message = failure(&output);
    assert!(
        message.contains("MB of text") && message.contains("--raw"),
        "{message}"
    );
}

/// A profile of `count` one-frame stacks, each its own function under a
/// shared root: a graph of `count` boxes, slow to write.
fn wide_profile(count: usize) -> Profile {
    let mut profile = crafted("samples", "count", &[(&["main.root"], 1)]);
    for i in 0..count {
        profile.functions.push(Function {
            name: format!("main.leaf{i}_{}", "y".repeat(40)),
            system_name: String::new(),
            filename: "main.go".into(),
            start_line: 1,
        });
        profile.locations.push(Location {
            address: 0x10_0000 + i as u64,
            mapping: None,
            lines: vec![Line {
                function: Some(profile.functions.len() - 1),
                line: 1,
            }],
        });
        profile.samples.push(Sample {
            locations: vec![profile.locations.len() as u32 - 1, 0],
            values: vec![1],
            labels: Vec::new(),
        });
    }
    profile
}

/// Starts torch drawing `profile` into `out.svg` (which already exists),
/// sends `signal` once its temporary file is there, and says whether the
/// signal came in time. Once it has, nothing half-written may be left and
/// the old output must be as it was.
fn interrupt_a_write(dir: &Path, file: &str, signal: &str) -> bool {
    use std::process::Stdio;
    fs::write(dir.join("out.svg"), "old graph").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_torch"))
        .args(["-q", "--minwidth", "0", "-f", "out.svg", file])
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let temporary = |dir: &Path| {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
    };
    // Watch for the temporary file for as long as torch runs.
    let caught = loop {
        if temporary(dir) {
            break true;
        }
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::yield_now();
    };
    if caught {
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }
    let output = child.wait_with_output().unwrap();
    let old = fs::read_to_string(dir.join("out.svg")).unwrap() == "old graph";
    if !caught || !old {
        // torch finished first: the write outran the signal.
        return false;
    }
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "torch: interrupted\n"
    );
    assert!(!temporary(dir), "the temporary file is removed");
    true
}

#[test]
fn a_signal_while_writing_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    for signal in ["-TERM", "-INT"] {
        // Wider graphs until one takes long enough to write that the
        // signal lands while the temporary file exists.
        let caught = [20_000, 80_000, 320_000].iter().any(|&count| {
            let file = write(dir.path(), "wide.pb.gz", &wide_profile(count));
            interrupt_a_write(dir.path(), &file, signal)
        });
        assert!(caught, "no write was slow enough to interrupt ({signal})");
    }
}
