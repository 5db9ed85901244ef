//! Differential reports (`--output-dir` with `--base`) and the example
//! pull-request job that draws them.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// summary.md's rows of one sample type's table: (grew or shrank, flat
/// change, cum change, function).
fn changed_rows(summary: &str, sample_type: &str) -> Vec<(String, String, String, String)> {
    let section = summary
        .split("\n### ")
        .find(|s| s.starts_with(&format!("{sample_type}:")))
        .unwrap_or_else(|| panic!("no {sample_type} section in\n{summary}"));
    section
        .lines()
        .filter(|l| l.starts_with("| grew |") || l.starts_with("| shrank |"))
        .map(|l| {
            let cells: Vec<&str> = l
                .split(" | ")
                .map(|c| c.trim_matches(|c| c == '|' || c == ' '))
                .collect();
            (
                cells[0].to_owned(),
                cells[1].to_owned(),
                cells[3].to_owned(),
                cells[5].trim_matches('`').to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_differential_report_has_pprof_s_changes_per_function() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    fs::create_dir_all(&old).unwrap();
    fs::create_dir_all(&new).unwrap();
    fs::copy(profile_path("leak-1"), old.join("heap.pb.gz")).unwrap();
    fs::copy(profile_path("leak-3"), new.join("heap.pb.gz")).unwrap();
    // Named apart: paired by kind.
    fs::copy(profile_path("cpu"), old.join("before-cpu.pb.gz")).unwrap();
    fs::copy(profile_path("cpu"), new.join("cpu.pb.gz")).unwrap();
    // Same name, other kind: reported, not fatal.
    fs::copy(profile_path("block"), old.join("extra.pb.gz")).unwrap();
    fs::copy(profile_path("goroutine"), new.join("extra.pb.gz")).unwrap();
    let out = dir.path().join("report");
    let at = |p: &Path, f: &str| path_str(&p.join(f)).to_owned();
    let args = [
        "--output-dir".to_owned(),
        path_str(&out).to_owned(),
        "--base".into(),
        at(&old, "heap.pb.gz"),
        "--base".into(),
        at(&old, "before-cpu.pb.gz"),
        "--base".into(),
        at(&old, "extra.pb.gz"),
        at(&new, "heap.pb.gz"),
        at(&new, "cpu.pb.gz"),
        at(&new, "extra.pb.gz"),
    ];
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_d, output) = torch(&refs);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("heap.pb.gz: compared with") && stderr.contains("(by file name)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("before-cpu.pb.gz (by profile type)"),
        "{stderr}"
    );
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("The two profiles share no sample type."),
        "{summary}"
    );
    assert!(
        out.join("heap-alloc_space-diff.svg").exists() && out.join("heap-alloc_space.svg").exists()
    );
    let index = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("heap-inuse_space-diff.svg") && index.contains("<th>Change %</th>"));

    // Each row's changes are pprof's: -top -base, in the type's own unit.
    for (sample_type, unit) in [("alloc_space", "bytes"), ("inuse_objects", "count")] {
        let args = [
            format!("-sample_index={sample_type}"),
            format!("-unit={unit}"),
            "-nodecount=0".into(),
            "-nodefraction=0".into(),
            "-base".into(),
            at(&old, "heap.pb.gz"),
        ];
        let pprof = crate::top::pprof_top(&new.join("heap.pb.gz"), &args);
        let rows = changed_rows(&summary, sample_type);
        assert!(rows.len() >= 4, "{sample_type}: {rows:?}");
        assert_eq!(rows[0].0, "grew");
        for (_, flat, cum, function) in &rows {
            let want = pprof
                .rows
                .iter()
                .find(|r| r.name == *function)
                .unwrap_or_else(|| panic!("{function} not in pprof's table"));
            let human = |v: i64| match v {
                v if v > 0 => format!("+{}", torch::units::human(v, unit)),
                v => torch::units::human(v, unit),
            };
            assert_eq!(
                (flat.clone(), cum.clone()),
                (human(want.flat), human(want.cum)),
                "{sample_type} {function}"
            );
        }
    }
    // Identical profiles: nothing changed.
    assert!(
        summary
            .split("\n### cpu:")
            .nth(1)
            .unwrap()
            .contains("Nothing changed."),
        "{summary}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn the_pull_request_job_finds_an_allocation_regression() {
    // A repository whose second commit makes Join allocate 64 kB a call.
    let repo = tempfile::tempdir().unwrap();
    copy_bench_module(repo.path());
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "bench"]);
    let bench_go = repo.path().join("bench/bench.go");
    let text = fs::read_to_string(&bench_go).unwrap();
    let regressed = text.replace(
        "func Join(words []string, sep string) string {\n\tvar b strings.Builder\n",
        "var scratch []byte\n\nfunc Join(words []string, sep string) string {\n\tscratch = make([]byte, 64<<10)\n\tvar b strings.Builder\n",
    );
    assert_ne!(regressed, text, "the regression went in");
    fs::write(&bench_go, regressed).unwrap();
    git(repo.path(), &["commit", "-qam", "regress Join"]);

    let summary_file = repo.path().join("job-summary.md");
    run_ci_script(
        "compare.sh",
        &["HEAD~1", "bench", "out"],
        repo.path(),
        &[
            // Join's benchmark alone: the other benchmarks' iteration
            // counts, which a busy machine changes, then weigh nothing in
            // the totals.
            ("BENCH", OsStr::new("^BenchmarkJoin$")),
            ("BENCHTIME", OsStr::new("100ms")),
            ("COUNT", OsStr::new("3")),
            ("GITHUB_STEP_SUMMARY", summary_file.as_os_str()),
        ],
    );
    let summary = fs::read_to_string(repo.path().join("out/report/summary.md")).unwrap();
    assert_eq!(
        fs::read_to_string(&summary_file).unwrap(),
        summary,
        "the job summary"
    );
    // The benchmark table: Join's B/op went up by kilobytes, medians of 3.
    let join = summary
        .split("#### `BenchmarkJoin")
        .nth(1)
        .expect("BenchmarkJoin's table");
    let bytes = join.lines().find(|l| l.starts_with("| B/op |")).unwrap();
    let change: f64 = bytes
        .rsplit('|')
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(change > 100.0, "{bytes}");
    assert!(
        join.contains("Medians of 3 runs before and 3 after."),
        "{join}"
    );
    // The function table of memory: Join grew most.
    let rows = changed_rows(&summary, "alloc_space");
    assert_eq!(rows[0].3, "torchfixtures/bench.Join", "{rows:?}");
    assert!(
        summary.contains("since go test chooses how many iterations"),
        "normalized by default, and said so"
    );
    // At the top of the report: the benchmarks, then the graphs.
    assert!(
        summary.starts_with("# What changed\n")
            && summary.find("## Benchmarks") < summary.find("### alloc_space")
    );
    assert!(repo
        .path()
        .join("out/report/mem-alloc_space-diff.svg")
        .exists());
}

#[test]
fn a_type_with_nothing_in_use_on_either_side_is_listed_not_fatal() {
    // A benchmark's heap profile can be written when nothing is in use:
    // inuse_objects and inuse_space all zero, before and after.
    let dir = tempfile::tempdir().unwrap();
    let nothing_in_use = |name: &str, file: &str| {
        let raw = torch::source::read_file(&profile_path(name), None, u64::MAX).unwrap();
        let mut profile = torch::decode(&raw, torch::profile::DEFAULT_MAX_SIZE).unwrap();
        let inuse: Vec<usize> = ["inuse_objects", "inuse_space"]
            .iter()
            .map(|t| profile.sample_type_index(t).unwrap())
            .collect();
        profile.samples.for_each_values_mut(|values| {
            for &i in &inuse {
                values[i] = 0;
            }
        });
        let path = dir.path().join(file);
        fs::write(&path, torch::profile::encode_gzip(&profile)).unwrap();
        path_str(&path).to_owned()
    };
    let (old, new) = (
        nothing_in_use("leak-1", "old.pb.gz"),
        nothing_in_use("leak-3", "new.pb.gz"),
    );
    let out = dir.path().join("report");
    let output = torch_in(
        dir.path(),
        &["-q", "--output-dir", path_str(&out), "--base", &old, &new],
    );
    success(&output);
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("### inuse_objects: 0 → 0 (0, 0%) — nothing to draw"),
        "{summary}"
    );
    assert!(
        summary.contains("new-alloc_space-diff.svg"),
        "the other types are drawn: {summary}"
    );
    assert!(out.join("new-alloc_space-diff.svg").is_file());
    assert!(!out.join("new-inuse_objects-diff.svg").exists());
}
