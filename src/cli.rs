//! The command line: clap definitions, the single-dash spellings that
//! `go tool pprof` and go-torch users type (`-alloc_space`,
//! `-sample_index=delay`), and their translation into a [`Config`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::fetch::{FetchOptions, Header};
use crate::filter::Filters;
use crate::fold::{FoldOptions, SampleSelection};
use crate::output::Destination;
use crate::render::{RenderOptions, PALETTES};
use crate::tags;
use crate::{Config, Hunt, TopRequest};

/// Sample-type shortcuts pprof accepts as flags, each naming a sample type.
const SAMPLE_TYPE_FLAGS: &[(&str, &str)] = &[
    ("alloc_space", "alloc_space"),
    ("alloc_objects", "alloc_objects"),
    ("inuse_space", "inuse_space"),
    ("inuse_objects", "inuse_objects"),
    ("total_delay", "delay"),
    ("contentions", "contentions"),
];

/// Make a flame graph from a Go pprof profile.
///
/// Reads a profile from a running service (net/http/pprof URL or host:port),
/// or a file written by runtime/pprof or `go test -cpuprofile/-memprofile`,
/// and writes an interactive SVG flame graph whose numbers match
/// `go tool pprof`. With no source, profiles the CPU of localhost:8080 for 30 s.
#[derive(Debug, Parser)]
#[command(
    name = "torch",
    version,
    after_help = "pprof's spellings work too: -alloc_space, -alloc_objects, -inuse_space, \
-inuse_objects, -total_delay, -contentions, -mean_delay, -sample_index=NAME; -seconds N, \
-focus=RE and every option above with one dash; -nodecount N (--top N), -output PATH (-f); \
-tagfocus, -tagignore, -tagshow, -taghide, -tagroot, -tagleaf; Go's -flag=true|false; \
:8080 for localhost:8080; and go-torch's --pprofArgs='-seconds 10 -focus X'. pprof's other \
views (-http, -web, -list, ...) are refused with what to run instead.\n\nExamples:\n  torch cpu.pprof\n  torch -alloc_space pkg.test mem.out \
--colors=mem\n  torch -r heap.pb.gz | sort -k2 -n | tail\n  torch completions bash > /etc/bash_completion.d/torch; torch man > torch.1\n  torch -t 10 localhost:6060\n  \
torch -alloc_space http://127.0.0.1:8080/debug/pprof/heap --colors=mem"
)]
pub struct Args {
    /// Profile files or URLs (http://, https://, https+insecure://, host:port),
    /// optionally preceded by the binary they came from (`torch pkg.test
    /// mem.out`). Several sources of the same kind are merged into one graph.
    #[arg(help_heading = "Input", value_name = "[BINARY] SOURCE")]
    pub inputs: Vec<String>,

    /// Base URL of the service (go-torch); its path is replaced by --suffix.
    #[arg(help_heading = "Input", short = 'u', long = "url", value_name = "URL")]
    pub url: Option<String>,

    /// Endpoint path used with --url [default: /debug/pprof/profile, or
    /// /debug/pprof/heap for a memory sample type].
    #[arg(help_heading = "Input", long, value_name = "PATH")]
    pub suffix: Option<String>,

    /// Seconds to profile: CPU profiles (default 30), and a delta profile
    /// over this time for heap, allocs, block, mutex and goroutine URLs.
    #[arg(
        help_heading = "Input",
        short = 't',
        long = "seconds",
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..=604_800)
    )]
    pub seconds: Option<u64>,

    /// A saved profile file to read (go-torch's spelling).
    #[arg(
        help_heading = "Input",
        short = 'b',
        long = "binaryinput",
        value_name = "FILE"
    )]
    pub binary_input: Option<PathBuf>,

    /// The binary the profile came from (go-torch's spelling).
    #[arg(help_heading = "Input", long = "binaryname", value_name = "FILE")]
    pub binary_name: Option<PathBuf>,

    /// Give up on a URL after this many seconds. Default: 1.5 × seconds + 10
    /// for collected profiles, else 60.
    #[arg(help_heading = "Input", long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Request header for protected endpoints, 'Name: value' (repeatable).
    /// The value is never printed.
    #[arg(
        help_heading = "Input",
        short = 'H',
        long = "header",
        value_name = "HEADER"
    )]
    pub headers: Vec<Header>,

    /// Also save the profile as fetched (several sources: merged, as gzip
    /// pprof protobuf), before drawing.
    #[arg(help_heading = "Output", long, value_name = "PATH")]
    pub save: Option<PathBuf>,

    /// No progress output on stderr.
    #[arg(help_heading = "Output", short = 'q', long)]
    pub quiet: bool,

    /// Use the given binary even if its build id does not match the profile.
    #[arg(help_heading = "Input", long)]
    pub force: bool,

    /// Sample type to show, by name (alloc_space, inuse_objects, cpu, delay…) or
    /// index. Default: the profile's default type, else its last.
    #[arg(
        help_heading = "Sample type",
        long = "sample-index",
        value_name = "NAME|N"
    )]
    pub sample_index: Option<String>,

    /// Show the mean value per event (the chosen type divided by the first).
    #[arg(help_heading = "Sample type", long)]
    pub mean: bool,

    /// One frame per source line, `function file:line` (pprof's -lines).
    #[arg(help_heading = "Filters", long)]
    pub lines: bool,

    /// Keep only samples with a frame matching this regex (function or file).
    #[arg(help_heading = "Filters", long, value_name = "REGEX", value_parser = parse_regex)]
    pub focus: Option<regex::Regex>,

    /// Drop samples with a frame matching this regex.
    #[arg(help_heading = "Filters", long, value_name = "REGEX", value_parser = parse_regex)]
    pub ignore: Option<regex::Regex>,

    /// Remove frames matching this regex from stacks.
    #[arg(help_heading = "Filters", long, value_name = "REGEX", value_parser = parse_regex)]
    pub hide: Option<regex::Regex>,

    /// Keep only frames matching this regex in stacks.
    #[arg(help_heading = "Filters", long, value_name = "REGEX", value_parser = parse_regex)]
    pub show: Option<regex::Regex>,

    /// Start stacks at the first (root-most) frame matching this regex.
    #[arg(help_heading = "Filters", long = "show-from", value_name = "REGEX", value_parser = parse_regex)]
    pub show_from: Option<regex::Regex>,

    /// Cut stacks below the frame matching this regex.
    #[arg(help_heading = "Filters", long = "prune-from", value_name = "REGEX", value_parser = parse_regex)]
    pub prune_from: Option<regex::Regex>,

    /// Keep only samples whose labels match [KEY=]REGEX[,REGEX…] or a
    /// numeric range like bytes=1kb:64kb (pprof's -tagfocus).
    #[arg(help_heading = "Filters", long, value_name = "[KEY=]SPEC", value_parser = tags::TagFilter::parse)]
    pub tagfocus: Option<tags::TagFilter>,

    /// Drop samples whose labels match, as --tagfocus reads them.
    #[arg(help_heading = "Filters", long, value_name = "[KEY=]SPEC", value_parser = tags::TagFilter::parse)]
    pub tagignore: Option<tags::TagFilter>,

    /// Keep only labels whose key matches this regex.
    #[arg(help_heading = "Filters", long, value_name = "REGEX", value_parser = parse_regex)]
    pub tagshow: Option<regex::Regex>,

    /// Drop labels whose key matches this regex.
    #[arg(help_heading = "Filters", long, value_name = "REGEX", value_parser = parse_regex)]
    pub taghide: Option<regex::Regex>,

    /// Make these labels frames at the root, first key outermost
    /// (KEY[,KEY…]; pprof's -tagroot): one graph split by, say, op.
    #[arg(
        help_heading = "Filters",
        long = "tag-root",
        alias = "tagroot",
        value_name = "KEYS",
        value_delimiter = ','
    )]
    pub tag_root: Vec<String>,

    /// Make these labels frames at the leaves, last key innermost
    /// (pprof's -tagleaf).
    #[arg(
        help_heading = "Filters",
        long = "tag-leaf",
        alias = "tagleaf",
        value_name = "KEYS",
        value_delimiter = ','
    )]
    pub tag_leaf: Vec<String>,

    /// Keep frames the profile's own drop_frames would remove (pprof's allocator frames).
    #[arg(help_heading = "Filters", long = "all-frames")]
    pub all_frames: bool,

    /// Goroutine dumps: keep only goroutines that have waited at least this long (90s, 5m, 1h).
    #[arg(help_heading = "Goroutine dumps", long = "min-wait", value_name = "DURATION", value_parser = parse_wait)]
    pub min_wait: Option<u64>,

    /// Goroutine dumps: leave out the wait reason frame ([chan receive]) at each stack's leaf.
    #[arg(help_heading = "Goroutine dumps", long = "no-wait-frame")]
    pub no_wait_frame: bool,

    /// Goroutine dumps: put the function that created each goroutine at its root.
    #[arg(help_heading = "Goroutine dumps", long = "created-by")]
    pub created_by: bool,

    /// Print a summary of a heap?debug=1 profile's runtime.MemStats instead of drawing.
    #[arg(help_heading = "Output", long)]
    pub memstats: bool,

    /// Leave inlined functions out (pprof's -noinlines).
    #[arg(help_heading = "Filters", long = "noinlines", alias = "no-inlines")]
    pub no_inlines: bool,

    /// Mean delay per contention (block and mutex profiles).
    #[arg(help_heading = "Sample type", long = "mean-delay", conflicts_with_all = ["sample_index", "mean"])]
    pub mean_delay: bool,

    /// Output SVG file [default: torch.svg].
    #[arg(
        help_heading = "Output",
        short = 'f',
        long = "file",
        value_name = "PATH"
    )]
    pub file: Option<PathBuf>,

    /// Print pprof's top table (flat, flat%, sum%, cum, cum%) to stdout,
    /// all functions or the first N, instead of the SVG (with -f, as well).
    #[arg(help_heading = "Output", long, value_name = "N", num_args = 0..=1, require_equals = true, default_missing_value = "0")]
    pub top: Option<usize>,

    /// Print every sample's stack with its value and labels to stdout, as
    /// pprof's -traces does, instead of the SVG.
    #[arg(help_heading = "Output", long, conflicts_with_all = ["top", "print", "raw", "file", "output_dir", "every", "memstats"])]
    pub traces: bool,

    /// With --output-dir: fetch heap, allocs, goroutine, goroutineleak,
    /// block, mutex, threadcreate and a CPU profile (-t, 30 s) from the
    /// service at URL (its base URL or any /debug/pprof/ URL) at once, save
    /// them in DIR/profiles and report on all of them.
    #[arg(help_heading = "Output", long, value_name = "URL", requires = "output_dir", conflicts_with_all = ["base", "inputs"])]
    pub snapshot: Option<String>,

    /// With --output-dir and --base: go test -bench output of each side,
    /// given twice (the base's, then the new side's); by default each
    /// side's bench.txt beside its profiles.
    #[arg(
        help_heading = "Comparing profiles",
        long = "bench-output",
        value_name = "FILE",
        requires = "base"
    )]
    pub bench_output: Vec<PathBuf>,

    /// Print the source of the functions matching REGEX with each line's
    /// flat and cum values to stdout, as pprof's -list does.
    #[arg(help_heading = "Output", long, value_name = "REGEX", conflicts_with_all = ["top", "traces", "print", "raw", "file", "output_dir", "every", "memstats"])]
    pub list: Option<String>,

    /// Where --list looks for source files (repeatable, or a list as pprof's
    /// -source_path takes it); the current directory by default.
    /// $GOROOT/src is searched too.
    #[arg(
        help_heading = "Output",
        long = "source-path",
        alias = "source_path",
        value_name = "DIR"
    )]
    pub source_path: Vec<std::ffi::OsString>,

    /// A prefix --list removes from file names before looking for them
    /// (pprof's -trim_path; a module path for -trimpath builds).
    #[arg(
        help_heading = "Output",
        long = "trim-path",
        alias = "trim_path",
        value_name = "PREFIX"
    )]
    pub trim_path: Vec<String>,

    /// Compare against this base profile (file or URL; repeatable, merged):
    /// a differential flame graph of what grew (red) and shrank (blue).
    #[arg(help_heading = "Comparing profiles", long, value_name = "SOURCE")]
    pub base: Vec<String>,

    /// As --base, but --top gives percentages of the base's total, as
    /// pprof's -diff_base does.
    #[arg(
        help_heading = "Comparing profiles",
        long = "diff-base",
        value_name = "SOURCE",
        conflicts_with = "base"
    )]
    pub diff_base: Vec<String>,

    /// With --base: scale the base to the new profile's total first.
    #[arg(help_heading = "Comparing profiles", long)]
    pub normalize: bool,

    /// Leak hunt: take a profile every DURATION (30s, 1m, 500ms), --count
    /// times; save each (PATH-N.pb.gz beside -f PATH) and draw each against
    /// the one before (PATH-diff-N-M.svg) and the last against the first (-f).
    #[arg(help_heading = "Comparing profiles", long, value_name = "DURATION", value_parser = parse_duration, requires = "count")]
    pub every: Option<Duration>,

    /// How many profiles --every takes (at least 2).
    #[arg(help_heading = "Comparing profiles", long, value_name = "N", requires = "every", value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub count: Option<u32>,

    /// Sort the top table by cumulative value.
    #[arg(help_heading = "Output", long, requires = "top")]
    pub cum: bool,

    /// Print the SVG to standard output instead of writing a file.
    #[arg(help_heading = "Output", short = 'p', long = "print", conflicts_with_all = ["top", "file"])]
    pub print: bool,

    /// Print folded stacks (`a;b;c value`) to standard output instead of an SVG.
    #[arg(help_heading = "Output", short = 'r', long = "raw", conflicts_with_all = ["print", "top", "file"])]
    pub raw: bool,

    /// Write every sample type of each profile as DIR/<profile>-<sample_type>.svg,
    /// with DIR/index.html (totals, previews) and DIR/summary.md (top 10 per type).
    #[arg(help_heading = "Output", long = "output-dir", value_name = "DIR", conflicts_with_all = ["print", "raw", "file", "every", "diff_base", "sample_index", "mean", "mean_delay", "top", "save", "memstats"])]
    pub output_dir: Option<PathBuf>,

    /// Label frames without their import paths (github.com/org/repo/pkg.F → pkg.F);
    /// tooltips and search keep the full names.
    #[arg(help_heading = "Appearance", long)]
    pub short: bool,

    /// The module the Go palette colours as "this module" [default: from the
    /// binary's build info, else judged from source file paths].
    #[arg(help_heading = "Appearance", long, value_name = "PATH")]
    pub module: Option<String>,

    /// Colour palette. Default: go (by kind of code) for CPU and other time or
    /// count profiles, mem for memory profiles.
    #[arg(help_heading = "Appearance", long, value_name = "PALETTE", value_parser = clap::builder::PossibleValuesParser::new(PALETTES))]
    pub colors: Option<String>,

    /// Graph title. Default: "Flame Graph" ("Icicle Graph" with --inverted).
    #[arg(help_heading = "Appearance", long)]
    pub title: Option<String>,

    /// Image width in pixels.
    #[arg(help_heading = "Appearance", long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    pub width: u32,

    /// Colour by a weighted hash of function names (similar names, similar colours).
    #[arg(help_heading = "Appearance", long)]
    pub hash: bool,

    /// Keep colours stable across runs in a palette file (default palette.map).
    #[arg(help_heading = "Appearance", long = "cp", value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "palette.map")]
    pub consistent_palette: Option<PathBuf>,

    /// Merge stacks from the leaf: a flame graph of callers.
    #[arg(help_heading = "Appearance", long)]
    pub reverse: bool,

    /// Draw an icicle graph (root at the top).
    #[arg(help_heading = "Appearance", long)]
    pub inverted: bool,

    /// Omit frames narrower than this many pixels.
    #[arg(
        help_heading = "Appearance",
        long = "minwidth",
        alias = "min-width",
        value_name = "PIXELS",
        default_value_t = 0.1
    )]
    pub min_width: f64,

    /// Largest profile accepted, in bytes, after decompression (a gzip bomb
    /// stops here) and for responses.
    #[arg(
        help_heading = "Input",
        long = "max-size",
        value_name = "BYTES",
        default_value = "2GiB",
        value_parser = parse_size
    )]
    pub max_size: u64,
}

/// What `torch completions SHELL` and `torch man` print instead of a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    Completions(clap_complete::Shell),
    Man,
}

/// Recognises `torch completions bash|zsh|fish|elvish|powershell` and
/// `torch man`. (A profile file called `completions` or `man` can still be
/// read as `./completions`.)
pub fn extra_command(args: &[OsString]) -> Option<Result<Extra, String>> {
    let words: Vec<&str> = args
        .iter()
        .skip(1)
        .map(|a| a.to_str().unwrap_or(""))
        .collect();
    match words[..] {
        ["man"] => Some(Ok(Extra::Man)),
        ["completions", shell] => Some(
            shell
                .parse::<clap_complete::Shell>()
                .map(Extra::Completions)
                .map_err(|_| {
                    format!("unknown shell {shell:?}; choose bash, zsh, fish, elvish or powershell")
                }),
        ),
        ["completions", ..] => Some(Err(
            "usage: torch completions bash|zsh|fish|elvish|powershell".into(),
        )),
        _ => None,
    }
}

/// Writes shell completions or the man page, generated from the clap
/// definitions so they never drift from the real options.
pub fn write_extra(extra: Extra, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    let mut command = Args::command();
    match extra {
        Extra::Completions(shell) => {
            // Made in memory first: clap_complete panics when a write
            // fails, and a reader that stops early (`| head`) is normal.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "torch", &mut script);
            out.write_all(&script)?;
            out.flush()
        }
        Extra::Man => clap_mangen::Man::new(command).render(out),
    }
}

impl Args {
    /// Parses the process arguments, accepting pprof's single-dash spellings.
    pub fn parse_from_env() -> Self {
        match normalize(std::env::args_os()) {
            Ok(args) => Args::parse_from(args),
            Err(message) => {
                eprintln!("torch: error: {message}");
                std::process::exit(2);
            }
        }
    }

    /// Parses `args` (program name first), accepting pprof's spellings.
    pub fn try_parse_normalized<I>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = OsString>,
    {
        let args = normalize(args).map_err(|message| {
            use clap::CommandFactory;
            Args::command().error(clap::error::ErrorKind::UnknownArgument, message)
        })?;
        Args::try_parse_from(args)
    }

    pub fn into_config(self) -> Config {
        let (selection, mean) = if self.mean_delay {
            (SampleSelection::Named("delay".into()), true)
        } else {
            let selection = self
                .sample_index
                .map_or(SampleSelection::Default, SampleSelection::Named);
            (selection, self.mean)
        };
        let mut sources = self.inputs;
        if let Some(base) = self.url {
            sources.push(with_suffix(&base, self.suffix.as_deref()));
        }
        if let Some(file) = self.binary_input {
            sources.push(file.to_string_lossy().into_owned());
        }
        if sources.is_empty() {
            sources.push(crate::source::DEFAULT_URL.to_owned());
        }
        Config {
            sources,
            binary: self.binary_name,
            seconds: self.seconds,
            fetch: FetchOptions {
                timeout: self.timeout,
                headers: self.headers,
            },
            save: self.save,
            quiet: self.quiet,
            force: self.force,
            all_frames: self.all_frames,
            dump: crate::profile::DumpOptions {
                no_wait_frame: self.no_wait_frame,
                created_by: self.created_by,
            },
            min_wait: self.min_wait,
            traces: self.traces,
            list: self.list,
            bench_output: self.bench_output,
            snapshot: self.snapshot,
            source_files: crate::list::SourceOptions {
                source_path: self
                    .source_path
                    .iter()
                    .flat_map(std::env::split_paths)
                    .collect(),
                trim_path: self.trim_path,
            },
            memstats: self.memstats,
            filters: Filters {
                focus: self.focus,
                ignore: self.ignore,
                hide: self.hide,
                show: self.show,
                show_from: self.show_from,
                prune_from: self.prune_from,
                tag_focus: self.tagfocus,
                tag_ignore: self.tagignore,
                tag_show: self.tagshow,
                tag_hide: self.taghide,
                tag_root: nonempty(self.tag_root),
                tag_leaf: nonempty(self.tag_leaf),
            },
            fold: FoldOptions {
                selection,
                mean,
                lines: self.lines,
                no_inlines: self.no_inlines,
                mark_inlined: false,
                reverse: false,
            },
            render: RenderOptions {
                colors: self.colors,
                title: self.title,
                width: self.width as usize,
                hash: self.hash,
                inverted: self.inverted,
                reverse: self.reverse,
                min_width: self.min_width,
                note: None,
                short: self.short,
                source: None,
                collected: None,
                unfiltered: None,
                base_source: None,
                base_collected: None,
            },
            module: self.module,
            output_dir: self.output_dir,
            draw_with_top: self.file.is_some() || self.print,
            output: if self.print {
                Destination::Stdout
            } else {
                Destination::File(self.file.unwrap_or_else(|| PathBuf::from("torch.svg")))
            },
            top: self.top.map(|rows| TopRequest {
                rows: (rows > 0).then_some(rows),
                by_cum: self.cum,
            }),
            raw: self.raw,
            diff_base: !self.diff_base.is_empty(),
            base: if self.diff_base.is_empty() {
                self.base
            } else {
                self.diff_base
            },
            normalize: self.normalize,
            hunt: self.every.zip(self.count).map(|(every, count)| Hunt {
                every,
                count: count as usize,
            }),
            consistent_palette: self.consistent_palette,
            max_size: self.max_size,
        }
    }
}

/// pprof's valued flags spelled with one dash and underscores
/// (`-focus=RE`, `-show_from RE`) → torch's `--focus=RE`, `--show-from RE`.
fn pprof_value_flag(flag: &str) -> Option<String> {
    const NAMES: [&str; 8] = [
        "focus",
        "ignore",
        "hide",
        "show",
        "show_from",
        "prune_from",
        "base",
        "diff_base",
    ];
    let (name, value) = match flag.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (flag, None),
    };
    NAMES.contains(&name).then(|| {
        let long = format!("--{}", name.replace('_', "-"));
        match value {
            Some(value) => format!("{long}={value}"),
            None => long,
        }
    })
}

/// Keys as given, without the empty ones `a,,b` or a trailing comma make.
fn nonempty(keys: Vec<String>) -> Vec<String> {
    keys.into_iter().filter(|key| !key.is_empty()).collect()
}

/// go-torch's `--url` + `--suffix`: the suffix replaces the URL's path;
/// without one, the path is what the sample type needs (see
/// [`crate::source::Wanted`]).
fn with_suffix(base: &str, suffix: Option<&str>) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    let suffix = suffix.unwrap_or("");
    let slash = if suffix.starts_with('/') || suffix.is_empty() {
        ""
    } else {
        "/"
    };
    format!("{scheme}://{authority}{slash}{suffix}")
}

/// `30s`, `1m`, `1h`, `500ms`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, scale) = [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)]
        .iter()
        .find_map(|(suffix, scale)| text.strip_suffix(suffix).map(|n| (n, *scale)))
        .unwrap_or((text, 1.0));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 1m or 500ms"))?;
    let seconds = value * scale;
    if !(seconds > 0.0 && seconds <= 7.0 * 86_400.0) {
        return Err("give a duration above zero and at most a week".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A size in bytes: a number, optionally with `k`/`KiB`, `M`/`MiB` or
/// `G`/`GiB` (powers of 1024). Between one byte and 2⁶² bytes: torch reads
/// one byte past the limit to tell "at" from "over" it.
fn parse_size(text: &str) -> Result<u64, String> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits);
    let scale: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}; use KiB, MiB or GiB")),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 1048576, 512MiB or 2GiB"))?;
    match number.checked_mul(scale) {
        Some(bytes @ 1..=0x4000_0000_0000_0000) => Ok(bytes),
        Some(0) => Err("give a size above zero".into()),
        _ => Err(format!("{text} is more than torch can count (4 EiB)")),
    }
}

fn is_count(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn parse_regex(text: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(text).map_err(|e| format!("invalid regular expression: {e}"))
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err("give a number of seconds between 0 and 86400".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Rewrites pprof/go-torch spellings into the ones clap knows:
/// `-alloc_space` → `--sample-index=alloc_space`, `-sample_index=X` and
/// `-sample_index X` → `--sample-index=X`, `-mean_delay` → `--mean-delay`,
/// `-nodecount N` → `--top=N`, `-output F` → `--file F`, and any of torch's
/// own long flags with one dash (`-seconds 5`, `-raw`). Go's `-flag=true`
/// and `-flag=false` work for switches. Double-dash forms work too.
/// Nothing after `--` changes.
///
/// A `go tool pprof` flag torch does not have is an error that says what
/// to do instead, rather than being read as a cluster of short flags
/// (`-http` as `-h …`).
pub fn normalize<I>(args: I) -> Result<Vec<OsString>, String>
where
    I: IntoIterator<Item = OsString>,
{
    let longs = torch_long_flags();
    let args = expand_pprof_args(args.into_iter().collect(), &longs)?;
    // A sample type as the user spelled it, and whether every type is drawn.
    let mut sample_type: Option<String> = None;
    let mut output_dir = false;
    let mut out = Vec::new();
    let mut args = args.into_iter().peekable();
    if let Some(program) = args.next() {
        out.push(program);
    }
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        if matches!(text, "--top" | "-top" | "-nodecount" | "--nodecount") {
            // `--top 10`: the count may follow as its own argument.
            match args.next_if(|n| n.to_str().is_some_and(is_count)) {
                Some(count) => out.push(format!("--top={}", count.to_string_lossy()).into()),
                None if text.ends_with("nodecount") => {
                    return Err(format!("{text} needs a number of rows, as in {text} 20"));
                }
                None => out.push("--top".into()),
            }
            continue;
        }
        let Some(flag) = text.strip_prefix("--").or_else(|| text.strip_prefix('-')) else {
            out.push(arg);
            continue;
        };
        let single_dash = !text.starts_with("--");
        // Go's flag package takes `-flag=true` / `-flag=false` for switches.
        let (flag, switched_off) = match flag.split_once('=') {
            Some((name, value)) if is_switch(name, &longs) => match parse_go_bool(value) {
                Some(on) => (name, !on),
                None => {
                    return Err(format!(
                    "{text}: {name} is a switch; give it alone, or as {name}=true or {name}=false"
                ))
                }
            },
            _ => (flag, false),
        };
        if switched_off {
            continue;
        }
        if flag.starts_with("sample_index") || flag.starts_with("sample-index") {
            sample_type = Some(text.to_owned());
        }
        output_dir |= matches!(flag.split('=').next(), Some("output-dir" | "output_dir"));
        if let Some((_, name)) = SAMPLE_TYPE_FLAGS.iter().find(|(f, _)| *f == flag) {
            sample_type = Some(text.to_owned());
            out.push(format!("--sample-index={name}").into());
        } else if flag == "mean_delay" {
            out.push("--mean-delay".into());
        } else if let Some(long) = pprof_value_flag(flag) {
            out.push(long.into());
        } else if let Some(value) = flag.strip_prefix("sample_index=") {
            out.push(format!("--sample-index={value}").into());
        } else if flag == "sample_index" {
            out.push("--sample-index".into());
        } else if let Some(long) = single_dash.then(|| torch_long_flag(flag, &longs)).flatten() {
            out.push(long.into());
        } else if let Some(advice) = single_dash.then(|| unsupported_pprof_flag(flag)).flatten() {
            return Err(advice);
        } else {
            out.push(arg);
        }
    }
    if let (Some(sample_type), true) = (sample_type, output_dir) {
        return Err(format!(
            "{sample_type} does not apply with --output-dir, which draws every sample type"
        ));
    }
    Ok(out)
}

/// go-torch's `--pprofArgs='-seconds 10 -focus X'`: the flags it passed
/// to pprof, taken as torch's own where torch has them, and refused with
/// a reason where it does not. Nothing after `--` is looked at.
fn expand_pprof_args(
    args: Vec<OsString>,
    longs: &[(String, bool)],
) -> Result<Vec<OsString>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_str().unwrap_or_default();
        if text == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        let value = match text.split_once('=') {
            Some(("--pprofArgs" | "-pprofArgs", value)) => value.to_owned(),
            None if matches!(text, "--pprofArgs" | "-pprofArgs") => match args.next() {
                Some(value) => value.to_string_lossy().into_owned(),
                None => {
                    return Err(format!(
                        "{text} needs the pprof flags, as in {text}='-seconds 10'"
                    ))
                }
            },
            _ => {
                out.push(arg);
                continue;
            }
        };
        for token in value.split_whitespace() {
            let token = token.trim_matches(|c| c == '\'' || c == '"');
            if let Some(flag) = token.strip_prefix('-') {
                let flag = flag.trim_start_matches('-');
                if !is_known_pprof_flag(flag, longs) {
                    return Err(match unsupported_pprof_flag(flag) {
                        Some(advice) => format!("--pprofArgs: {advice}"),
                        None => format!("--pprofArgs: {token} is not a pprof flag torch knows"),
                    });
                }
            }
            out.push(token.into());
        }
    }
    Ok(out)
}

/// Whether torch reads `flag` (after its dashes, maybe `name=value`) as
/// one of its own or as a pprof spelling it translates.
fn is_known_pprof_flag(flag: &str, longs: &[(String, bool)]) -> bool {
    let name = flag.split_once('=').map_or(flag, |(name, _)| name);
    SAMPLE_TYPE_FLAGS.iter().any(|(known, _)| *known == name)
        || matches!(name, "mean_delay" | "sample_index" | "top" | "nodecount")
        || pprof_value_flag(flag).is_some()
        || torch_long_flag(flag, longs).is_some()
}

/// Every long flag of torch's (without the dashes), and whether it is a
/// switch (takes no value).
fn torch_long_flags() -> Vec<(String, bool)> {
    use clap::CommandFactory;
    let command = Args::command();
    command
        .get_arguments()
        .flat_map(|arg| {
            let switch = !arg.get_action().takes_values();
            let mut names: Vec<(String, bool)> = Vec::new();
            if let Some(long) = arg.get_long() {
                names.push((long.to_owned(), switch));
            }
            for alias in arg.get_all_aliases().into_iter().flatten() {
                names.push((alias.to_owned(), switch));
            }
            names
        })
        .chain([("help".to_owned(), true), ("version".to_owned(), true)])
        .collect()
}

/// `flag` (with one dash, maybe `name=value`, pprof's underscores allowed)
/// as torch's long flag, when torch has one by that name: `-seconds=5` →
/// `--seconds=5`, `-raw` → `--raw`, `-output` → `--file`.
fn torch_long_flag(flag: &str, longs: &[(String, bool)]) -> Option<String> {
    let (name, value) = match flag.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (flag, None),
    };
    let name = match name {
        "output" | "o" => "file".to_owned(),
        "mean" | "lines" | "cum" | "noinlines" | "normalize" => name.to_owned(),
        _ => name.replace('_', "-"),
    };
    if name.len() < 2 || !longs.iter().any(|(long, _)| *long == name) {
        return None;
    }
    Some(match value {
        Some(value) => format!("--{name}={value}"),
        None => format!("--{name}"),
    })
}

/// Whether `name` (as typed after the dashes) is one of the switches Go's
/// `-flag=true` spelling applies to.
fn is_switch(name: &str, longs: &[(String, bool)]) -> bool {
    SAMPLE_TYPE_FLAGS.iter().any(|(flag, _)| *flag == name)
        || name == "mean_delay"
        || longs
            .iter()
            .any(|(long, switch)| *switch && *long == name.replace('_', "-"))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// What to say about a `go tool pprof` flag torch does not have.
fn unsupported_pprof_flag(flag: &str) -> Option<String> {
    let name = flag.split_once('=').map_or(flag, |(name, _)| name);
    let view = |what: &str| {
        Some(format!(
            "-{name} is pprof's {what}; torch writes flame graphs to files \
             (run `go tool pprof -{name}` for that view)"
        ))
    };
    match name {
        "http" => Some(format!(
            "-{flag}: torch writes flame graph files and serves nothing; \
             `go tool pprof -http={}` is the web UI",
            flag.split_once('=').map_or(":8080", |(_, address)| address)
        )),
        "web" | "weblist" => view("browser view"),
        "svg" | "png" | "pdf" | "gif" | "ps" | "eps" | "dot" => view("call-graph image"),
        "text" | "tree" | "peek" | "list" | "disasm" | "traces" | "callgrind" | "kcachegrind"
        | "proto" | "topproto" | "comments" | "tags" => view("text report"),
        "nodefraction"
        | "edgefraction"
        | "call_tree"
        | "compact_labels"
        | "relative_percentages"
        | "unit"
        | "divide_by"
        | "addresses"
        | "functions"
        | "files"
        | "filefunctions"
        | "flat"
        | "trim"
        | "trim_path"
        | "source_path"
        | "intel_syntax"
        | "symbolize"
        | "tools"
        | "no_browser"
        | "add_comment"
        | "tls_cert"
        | "tls_key"
        | "tls_ca"
        | "buildid"
        | "granularity"
        | "sort"
        | "tagfocus"
        | "tagignore"
        | "tagshow"
        | "taghide"
        | "tagroot"
        | "tagleaf" => Some(format!(
            "-{name}: torch has no such option (it is `go tool pprof`'s); see torch --help"
        )),
        _ => None,
    }
}

/// A wait as `--min-wait` takes it: `90s`, `5m`, `1h30m`, or seconds.
fn parse_wait(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is no duration: write 90s, 5m or 1h30m");
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(seconds);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' | 's' if !number.is_empty() => {
                let n: u64 = number.parse().map_err(|_| bad())?;
                let unit = match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
                total = n
                    .checked_mul(unit)
                    .and_then(|s| total.checked_add(s))
                    .ok_or_else(bad)?;
                number.clear();
            }
            _ => return Err(bad()),
        }
    }
    match number.is_empty() && !text.is_empty() {
        true => Ok(total),
        false => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn waits_read_as_go_durations() {
        assert_eq!(super::parse_wait("90s"), Ok(90));
        assert_eq!(super::parse_wait("5m"), Ok(300));
        assert_eq!(super::parse_wait("1h30m"), Ok(5400));
        assert_eq!(super::parse_wait("45"), Ok(45));
        for bad in ["", "m", "5x", "1.5m", "-1m", "99999999999999999999h"] {
            assert!(super::parse_wait(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    fn parse(args: &[&str]) -> Config {
        let argv = std::iter::once("torch")
            .chain(args.iter().copied())
            .map(OsString::from);
        Args::try_parse_normalized(argv).unwrap().into_config()
    }

    #[test]
    fn defaults_match_library_defaults() {
        let config = parse(&["p.pb.gz"]);
        let expected = Config {
            sources: vec!["p.pb.gz".into()],
            ..Config::default()
        };
        assert_eq!(config, expected);
        let no_source = parse(&[]);
        assert_eq!(
            no_source.sources,
            vec![crate::source::DEFAULT_URL.to_owned()]
        );
    }

    #[test]
    fn pprof_spellings_select_sample_types() {
        let named = |name: &str| SampleSelection::Named(name.to_owned());
        for (args, want) in [
            (vec!["-alloc_space", "p"], named("alloc_space")),
            (vec!["--inuse_objects", "p"], named("inuse_objects")),
            (vec!["-total_delay", "p"], named("delay")),
            (vec!["-sample_index=cpu", "p"], named("cpu")),
            (vec!["-sample_index", "1", "p"], named("1")),
            (vec!["--sample-index", "samples", "p"], named("samples")),
        ] {
            assert_eq!(parse(&args).fold.selection, want, "{args:?}");
        }
        let mean = parse(&["-mean_delay", "p"]).fold;
        assert_eq!((mean.selection, mean.mean), (named("delay"), true));
    }

    #[test]
    fn top_takes_an_optional_count() {
        let want = |rows: Option<usize>, by_cum| Some(TopRequest { rows, by_cum });
        assert_eq!(parse(&["--top", "p"]).top, want(None, false));
        assert_eq!(parse(&["--top", "10", "p"]).top, want(Some(10), false));
        assert_eq!(parse(&["--top=5", "-cum", "p"]).top, want(Some(5), true));
        assert_eq!(parse(&["-top", "p"]).sources, vec!["p".to_owned()]);
        assert!(!parse(&["--top", "p"]).draw_with_top);
        assert!(parse(&["--top", "-f", "x.svg", "p"]).draw_with_top);
    }

    #[test]
    fn go_torch_url_and_suffix() {
        let config = parse(&[
            "-u",
            "http://10.0.0.1:6060/whatever",
            "--suffix",
            "/debug/pprof/heap",
        ]);
        assert_eq!(
            config.sources,
            vec!["http://10.0.0.1:6060/debug/pprof/heap".to_owned()]
        );
        // Without --suffix the endpoint is the sample type's (the CPU
        // profile by default), chosen when the URL is planned.
        let config = parse(&["--url", "localhost:8080"]);
        assert_eq!(config.sources, vec!["http://localhost:8080".to_owned()]);
        let config = parse(&["-b", "cpu.out", "--binaryname", "svc", "-t", "5"]);
        assert_eq!(config.sources, vec!["cpu.out".to_owned()]);
        assert_eq!(config.binary, Some(PathBuf::from("svc")));
        assert_eq!(config.seconds, Some(5));
    }

    #[test]
    fn headers_hide_their_values() {
        let config = parse(&["-H", "Authorization: Bearer s3cret", "h:1"]);
        let header = &config.fetch.headers[0];
        assert_eq!(
            (header.name.as_str(), header.value.as_str()),
            ("Authorization", "Bearer s3cret")
        );
        assert!(!format!("{config:?}").contains("s3cret"));
        let argv = ["torch", "-H", "no colon", "h:1"].map(OsString::from);
        assert!(Args::try_parse_normalized(argv).is_err());
    }

    #[test]
    fn arguments_after_double_dash_are_untouched() {
        let config = parse(&["--", "-alloc_space"]);
        assert_eq!(config.sources, vec!["-alloc_space".to_owned()]);
        assert_eq!(config.fold.selection, SampleSelection::Default);
    }
}
