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
