//! Name filters, compared with go tool pprof's on the same profile.

use crate::util::*;

fn compare(profile: &str, sample_type: &str, unit: &str, torch_args: &[&str], pprof_args: &[&str]) {
    let path = path_str(&profile_path(profile)).to_owned();
    let index = format!("-sample_index={sample_type}");
    let unit = format!("-unit={unit}");
    let mut args: Vec<&str> = pprof_args.to_vec();
    args.extend([index.as_str(), unit.as_str(), path.as_str()]);
    let want = pprof_folded(&args);
    let mut args = vec!["-r", "-q", "--sample-index", sample_type];
    args.extend_from_slice(torch_args);
    args.push(&path);
    let (_dir, output) = torch(&args);
    let got = success(&output);
    assert!(
        !want.is_empty(),
        "the filter leaves something: {pprof_args:?}"
    );
    assert!(
        got == want,
        "{torch_args:?}:\ntorch:\n{got}\npprof:\n{want}"
    );
}

#[test]
fn focus_ignore_hide_show_like_pprof() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--focus", "main\\.descend"], &["-focus=main\\.descend"]),
        (&["-focus=crunch"], &["-focus=crunch"]),
        (&["--ignore", "runtime"], &["-ignore=runtime"]),
        (&["--hide", "^runtime\\."], &["-hide=^runtime\\."]),
        (&["--show", "^main\\."], &["-show=^main\\."]),
        (
            &["--focus", "main", "--ignore", "descend"],
            &["-focus=main", "-ignore=descend"],
        ),
        (
            &["--show-from", "main\\.crunch"],
            &["-show_from=main\\.crunch"],
        ),
        (&["-show_from=Tree"], &["-show_from=Tree"]),
        (&["--prune-from", "main\\.mix"], &["-prune_from=main\\.mix"]),
        (
            &["--prune-from", "^runtime\\.mallocgc$"],
            &["-prune_from=^runtime\\.mallocgc$"],
        ),
    ];
    for (torch_args, pprof_args) in cases {
        compare("cpu", "cpu", "nanoseconds", torch_args, pprof_args);
    }
    compare(
        "heap",
        "alloc_space",
        "bytes",
        &["--focus", "Tree"],
        &["-focus=Tree"],
    );
    compare(
        "heap",
        "alloc_space",
        "bytes",
        &["--prune-from", "insert"],
        &["-prune_from=insert"],
    );
}

#[test]
fn a_filter_that_matches_nothing_says_so() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let (_dir, output) = torch(&["-r", "--hide", "no_such_function_anywhere", &cpu]);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--hide \"no_such_function_anywhere\" matched no frame"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_regex_is_a_clear_error() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let (_dir, output) = torch(&["--focus", "(unclosed", &cpu]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid regular expression"), "{stderr}");
}

#[test]
fn label_filters_and_frames_like_pprof() {
    // The CPU fixture's goroutines carry worker=a|b and kind=tree labels.
    let cases: &[(&[&str], &[&str])] = &[
        (&["--tagfocus", "worker=a"], &["-tagfocus=worker=a"]),
        (&["-tagfocus=worker=a,b"], &["-tagfocus=worker=a,b"]),
        (&["--tagignore", "worker=b"], &["-tagignore=worker=b"]),
        // Without a key, every regex must match some `key:value`.
        (&["--tagfocus", "kind:tree"], &["-tagfocus=kind:tree"]),
        (&["--tagfocus", "worker"], &["-tagfocus=worker"]),
        (
            &["--tagfocus", "worker=a", "--focus", "descend"],
            &["-tagfocus=worker=a", "-focus=descend"],
        ),
        (&["--tag-root", "worker"], &["-tagroot=worker"]),
        (&["-tagroot=worker,kind"], &["-tagroot=worker,kind"]),
        (&["--tag-leaf", "kind,worker"], &["-tagleaf=kind,worker"]),
        (
            &["--tag-root", "worker", "--tagshow", "kind"],
            &["-tagroot=worker", "-tagshow=kind"],
        ),
    ];
    for (torch_args, pprof_args) in cases {
        compare("cpu", "cpu", "nanoseconds", torch_args, pprof_args);
    }
    // The heap fixture's samples carry a numeric `bytes` label.
    for (torch_args, pprof_args) in [
        (
            &["--tagfocus", "bytes=1kb:64kb"][..],
            &["-tagfocus=bytes=1kb:64kb"][..],
        ),
        (&["--tagfocus", ":512b"], &["-tagfocus=:512b"]),
        (&["--tagignore", "bytes=16kb:"], &["-tagignore=bytes=16kb:"]),
        (&["--tag-leaf", "bytes"], &["-tagleaf=bytes"]),
    ] {
        compare("heap", "alloc_space", "bytes", torch_args, pprof_args);
    }
}

#[test]
fn a_label_filter_that_matches_nothing_is_said() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let (_dir, output) = torch(&["-r", "--tagfocus", "worker=nobody", &cpu]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        stderr.contains("tagfocus") && stderr.contains("matched no"),
        "{stderr}"
    );
}

#[test]
fn a_filtered_graph_says_so_with_its_share_of_the_total() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    // What is left, by pprof's count: the folded stacks it keeps.
    let kept: i64 = pprof_folded(&[
        "-focus=descend",
        "-unit=nanoseconds",
        "-sample_index=cpu",
        &cpu,
    ])
    .lines()
    .map(|line| line.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap())
    .sum();
    let whole = expected("cpu").total("cpu");
    let human = |v| torch::units::human(v, "nanoseconds");
    let percent = 100.0 * kept as f64 / whole as f64;
    let want = format!(
        "cpu — {} of {} total ({percent:.0} %), focus=descend",
        human(kept),
        human(whole)
    );
    let (_dir, output) = torch(&["-p", "--focus", "descend", &cpu]);
    let svg = success(&output);
    assert_eq!(svg_text_by_id(&svg, "subtitle"), want);
    // Without filters, the subtitle is the plain total.
    let (_dir, output) = torch(&["-p", &cpu]);
    let svg = success(&output);
    assert_eq!(
        svg_text_by_id(&svg, "subtitle"),
        format!("cpu — {} total", human(whole))
    );
}
