//! torch: flame graphs from Go pprof profiles.
//!
//! The pipeline, one module per stage: [`source`] reads what the user named,
//! [`profile`] decodes it into the model, [`symbolize`] names what the
//! profile left unnamed, [`fold`] builds the [`tree::CallTree`] of its
//! stacks, [`render`] draws what of it can be seen with inferno, and
//! [`output`] writes the result. The modes (a graph, a comparison, a leak
//! hunt, the top table, MemStats, a report folder) live in [`mode`]; this
//! file holds the [`Config`], the load step they share and [`run`].

pub mod bench;
pub mod buildinfo;
pub mod cli;
pub mod decorate;
pub mod diff;
pub mod error;
pub mod fetch;
pub mod filter;
pub mod fold;
pub mod goname;
pub mod list;
pub mod mode;
pub mod output;
pub mod palette;
pub mod profile;
pub mod progress;
pub mod render;
pub mod source;
pub mod symbolize;
pub mod tags;
pub mod top;
pub mod traces;
pub mod tree;
pub mod units;

use std::path::{Path, PathBuf};

pub use error::Error;
use fetch::FetchOptions;
use fold::{FoldOptions, Measure};
use output::Destination;
use profile::Profile;
use progress::{Feedback, Progress};
use render::RenderOptions;
use source::{Origin, RawProfile, Source};
use tree::CallTree;

/// `--every D --count N`: a leak hunt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunt {
    pub every: std::time::Duration,
    pub count: usize,
}

/// `--top [N]`: which rows of pprof's top table, in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopRequest {
    /// The first N rows, or all.
    pub rows: Option<usize>,
    /// Sorted by cum instead of flat.
    pub by_cum: bool,
}

/// Everything one run needs, as decided by the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `[BINARY] SOURCE…` as given: files, URLs, `host:port`.
    pub sources: Vec<String>,
    /// The binary the profiles came from, when named apart (`--binaryname`).
    pub binary: Option<PathBuf>,
    /// `-t/--seconds` when the user gave it.
    pub seconds: Option<u64>,
    pub fetch: FetchOptions,
    /// Where to save the profile as fetched, before drawing.
    pub save: Option<PathBuf>,
    /// No progress on stderr.
    pub quiet: bool,
    /// Use a binary even when its build id does not match the profile's.
    pub force: bool,
    /// pprof's name filters, applied before folding.
    pub filters: filter::Filters,
    /// Keep the frames the profile's own `drop_frames` would prune.
    pub all_frames: bool,
    /// How goroutine dumps become stacks.
    pub dump: profile::DumpOptions,
    /// `--min-wait`: keep only a dump's goroutines that have waited at
    /// least this many seconds.
    pub min_wait: Option<u64>,
    /// `--traces`: every sample's stack, as pprof's `-traces` prints them.
    pub traces: bool,
    /// `--list REGEX`: annotated source, as pprof's `-list` prints it.
    pub list: Option<String>,
    /// `--snapshot URL` with `--output-dir`: every profile of a service.
    pub snapshot: Option<String>,
    /// `--bench-output`: go test -bench output of the base, then of the
    /// new side, for `--output-dir` with `--base`.
    pub bench_output: Vec<PathBuf>,
    /// Where `--list` finds sources.
    pub source_files: list::SourceOptions,
    /// Print a summary of a heap text profile's `runtime.MemStats` instead
    /// of drawing.
    pub memstats: bool,
    pub fold: FoldOptions,
    pub render: RenderOptions,
    /// Where the SVG goes.
    pub output: Destination,
    /// Print folded stacks to standard output instead of drawing.
    pub raw: bool,
    /// Base profiles to compare against (`--base`): a differential graph.
    pub base: Vec<String>,
    /// The base was given as pprof's `-diff_base`: the top table's
    /// percentages are of the base's total.
    pub diff_base: bool,
    /// Scale the base to the new profile's total first.
    pub normalize: bool,
    /// Take several profiles over time and draw what grew (`--every`).
    pub hunt: Option<Hunt>,
    /// Print pprof's top table to standard output.
    pub top: Option<TopRequest>,
    /// With `top`: also draw (an output was named explicitly).
    pub draw_with_top: bool,
    /// A palette file that keeps colours stable across runs (`--cp`).
    pub consistent_palette: Option<PathBuf>,
    /// Largest (decompressed) profile accepted, in bytes.
    pub max_size: u64,
    /// The user's module, for the Go palette (`--module`).
    pub module: Option<String>,
    /// Write every sample type of each profile here (`--output-dir`).
    pub output_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sources: Vec::new(),
            binary: None,
            seconds: None,
            fetch: FetchOptions::default(),
            save: None,
            quiet: false,
            force: false,
            filters: filter::Filters::default(),
            all_frames: false,
            dump: profile::DumpOptions::default(),
            min_wait: None,
            traces: false,
            list: None,
            bench_output: Vec::new(),
            snapshot: None,
            source_files: list::SourceOptions::default(),
            memstats: false,
            fold: FoldOptions::default(),
            render: RenderOptions::default(),
            output: Destination::File(PathBuf::from("torch.svg")),
            raw: false,
            base: Vec::new(),
            diff_base: false,
            normalize: false,
            hunt: None,
            top: None,
            draw_with_top: false,
            consistent_palette: None,
            max_size: profile::DEFAULT_MAX_SIZE,
            module: None,
            output_dir: None,
        }
    }
}

/// Collects, decodes, folds and renders as `config` says.
pub fn run(config: &Config) -> Result<(), Error> {
    check_outputs(config)?;
    if let Some(hunt) = &config.hunt {
        return mode::hunt::run(config, hunt);
    }
    if let Some(directory) = &config.output_dir {
        if !config.base.is_empty() {
            return mode::compare::write_all(config, directory);
        }
        if let Some(url) = &config.snapshot {
            return mode::snapshot::write_all(config, url, directory);
        }
        return mode::report::write_all(config, directory);
    }
    if config.memstats {
        return mode::memstats::run(config);
    }
    if !config.base.is_empty() {
        return mode::diff::run(config);
    }
    let new = load(&config.sources, config, config.save.as_deref())?;
    if config.traces {
        return mode::traces::print(&new.profile, config, &new.input());
    }
    if let Some(pattern) = &config.list {
        return mode::traces::list(&new.profile, config, pattern, &new.input());
    }
    if let Some(request) = config.top {
        let totals = new.unfiltered.as_ref().map(|u| u.totals(config.fold.mean));
        mode::top::print(&new.profile, config, request, &new.input(), totals)?;
        if !config.draw_with_top {
            return Ok(());
        }
    }
    mode::draw::run(new, config)
}

/// Frees the samples of a profile that has been folded, so that what
/// drawing allocates next can take their place instead of adding to the
/// peak. (Freed on another thread, they are still held when drawing
/// allocates: 235 MB instead of 203 on the 1x scale profile.)
pub(crate) fn release_samples(profile: &mut Profile) {
    drop(std::mem::take(&mut profile.samples));
}

/// Lets go of a large value on another thread: freeing millions of small
/// allocations takes tens of milliseconds, and a command that is about to
/// exit need not wait for it.
pub(crate) fn discard<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// The command line's render options, plus how, where and when `loaded`
/// was collected.
pub(crate) fn drawing_options(config: &Config, loaded: &Loaded) -> RenderOptions {
    let mut options = config.render.clone();
    options.note = collection_note(&loaded.raws);
    options.source = Some(loaded.names.join(", "));
    options.collected = collection_time(&loaded.raws, &loaded.profile);
    options.unfiltered = loaded.unfiltered.clone();
    options
}

/// The render options of a differential graph whose new side is `new`
/// and whose base is `base`: both named, with their times.
pub(crate) fn differential_options(config: &Config, new: &Loaded, base: &Loaded) -> RenderOptions {
    let mut options = drawing_options(config, new);
    name_base(&mut options, base);
    options
}

/// Names `base` as the base side of a differential graph's options.
pub(crate) fn name_base(options: &mut RenderOptions, base: &Loaded) {
    options.base_source = Some(base.names.join(", "));
    options.base_collected = collection_time(&base.raws, &base.profile);
}

/// When the profile was taken, as well as it is known: the profile's own
/// time, else when it was fetched, else when its file was written.
pub(crate) fn collection_time(raws: &[RawProfile], profile: &Profile) -> Option<String> {
    if profile.time_nanos > 0 {
        let seconds = profile.time_nanos / 1_000_000_000;
        return Some(format!("collected {}", units::utc(seconds)));
    }
    let [raw] = raws else {
        return None;
    };
    let (what, time) = match &raw.origin {
        Origin::Url(_) => ("fetched", std::time::SystemTime::now()),
        Origin::File(path) => (
            "file modified",
            std::fs::metadata(path).ok()?.modified().ok()?,
        ),
    };
    let seconds = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(format!("{what} {}", units::utc(seconds as i64)))
}

/// What is known about the profiled program for the Go palette: the
/// user's module from `--module` or the binary's build info (the binary
/// given, else the profile's main mapping when that file is here).
pub(crate) fn program_for(loaded: &Loaded, config: &Config) -> palette::Program {
    let mapped = loaded
        .profile
        .mappings
        .first()
        .map(|mapping| PathBuf::from(&mapping.filename))
        .filter(|path| path.is_absolute() && path.is_file());
    let info = loaded
        .raws
        .iter()
        .filter_map(|raw| raw.binary.clone())
        .chain(mapped)
        .find_map(|path| buildinfo::read(&path));
    let own = info
        .as_ref()
        .and_then(|info| info.own_module().map(str::to_owned));
    let mut program = palette::Program::default().with_profile(&loaded.profile);
    program.module = config.module.clone().or(own);
    program.dependencies = info.map(|info| info.dependencies).unwrap_or_default();
    program
}

/// Profiles read, named, merged, pruned and filtered: ready to fold.
pub(crate) struct Loaded {
    pub(crate) raws: Vec<RawProfile>,
    pub(crate) names: Vec<String>,
    pub(crate) profile: Profile,
    /// The totals before the command line's filters, if it has any.
    pub(crate) unfiltered: Option<filter::Unfiltered>,
}

impl Loaded {
    /// The inputs, as errors and notes name them.
    pub(crate) fn input(&self) -> String {
        self.names.join(", ")
    }
}

/// Reads and decodes `sources` (the binary, when the first names one, is
/// kept with each).
pub(crate) fn read_all(
    sources: &[String],
    config: &Config,
) -> Result<(Vec<RawProfile>, Vec<Profile>), Error> {
    let wanted = match &config.fold.selection {
        fold::SampleSelection::Named(name) => source::Wanted::of(name),
        _ => source::Wanted::Any,
    };
    let (binary, sources) = source::resolve_for(sources, config.seconds, wanted)?;
    let binary = config.binary.clone().or(binary);
    let collected = collect(&sources, binary.as_deref(), config);
    decode_all(collected, config)
}

/// Reads `sources` and prepares them as pprof does before a report.
pub(crate) fn load(
    sources: &[String],
    config: &Config,
    save_to: Option<&Path>,
) -> Result<Loaded, Error> {
    let (raws, mut profiles) = read_all(sources, config)?;
    name_all(&raws, &mut profiles, config)?;
    let names: Vec<String> = raws.iter().map(|raw| raw.origin.name()).collect();
    let mut profile = profile::merge(profiles).map_err(|(position, source)| Error::Merge {
        input: names[position].clone(),
        source,
    })?;
    if let Some(path) = save_to {
        save(path, &raws, &profile)?;
        // A hunt's saved steps are told in its summary.
        if config.hunt.is_none() {
            progress::wrote(config.quiet, &format!("{} (the profile)", path.display()));
        }
    }
    let unfiltered = prepare(&mut profile, config, &names.join(", "))?;
    Ok(Loaded {
        raws,
        names,
        profile,
        unfiltered,
    })
}

/// What pprof does to a profile before any report: prune the profile's
/// own drop_frames, then apply the name filters.
pub(crate) fn prepare(
    profile: &mut Profile,
    config: &Config,
    input: &str,
) -> Result<Option<filter::Unfiltered>, Error> {
    if !config.all_frames {
        profile::remove_uninteresting(profile).map_err(|source| Error::FrameRegex {
            input: input.to_owned(),
            source,
        })?;
    }
    profile.drop_frames = None;
    profile.keep_frames = None;
    if let Some(seconds) = config.min_wait {
        if !profile::dump::keep_waited(profile, seconds) {
            return Err(Error::MinWaitWithoutDump {
                input: input.to_owned(),
            });
        }
    }
    let unfiltered = filter::Unfiltered::of(profile, &config.filters);
    for note in filter::apply(profile, &config.filters) {
        progress::warn(&note);
    }
    Ok(unfiltered)
}

/// How to fold for the command line; for `drawing`, with inlined frames
/// marked and, when the graph is reversed, leaf first.
pub(crate) fn fold_options(config: &Config, drawing: bool) -> FoldOptions {
    FoldOptions {
        mark_inlined: drawing,
        reverse: drawing && config.render.reverse,
        ..config.fold.clone()
    }
}

/// The call tree of a prepared profile, every sample type in it.
pub(crate) fn fold_tree(
    profile: &Profile,
    config: &Config,
    drawing: bool,
    input: &str,
) -> Result<CallTree, Error> {
    let options = fold_options(config, drawing);
    fold::tree(profile, &options).map_err(|source| Error::Fold {
        input: input.to_owned(),
        source,
    })
}

/// The call tree of the sample type the command line asks for, and how to
/// read it.
pub(crate) fn fold_measure(
    profile: &Profile,
    config: &Config,
    drawing: bool,
    input: &str,
) -> Result<(CallTree, Measure), Error> {
    let measure = measure_for(profile, &config.fold, input)?;
    fold::tree_for(profile, &fold_options(config, drawing), &measure).map_err(|source| {
        Error::Fold {
            input: input.to_owned(),
            source,
        }
    })
}

/// The sample type (and mean) `options` asks for in `profile`.
pub(crate) fn measure_for(
    profile: &Profile,
    options: &FoldOptions,
    input: &str,
) -> Result<Measure, Error> {
    fold::measure(profile, options).map_err(|source| Error::Fold {
        input: input.to_owned(),
        source,
    })
}

/// Fails before any slow work when an output cannot be written, or would
/// overwrite one of the inputs.
fn check_outputs(config: &Config) -> Result<(), Error> {
    if let Some(directory) = &config.output_dir {
        return output::make_directory(directory);
    }
    let draws = !config.raw && (config.top.is_none() || config.draw_with_top);
    let mut outputs = Vec::new();
    if let (true, Destination::File(path)) = (draws, &config.output) {
        output::check_file(path)?;
        outputs.push(path);
    }
    if let Some(path) = &config.save {
        output::check_file(path)?;
        outputs.push(path);
    }
    let inputs = config.sources.iter().chain(&config.base).map(Path::new);
    let inputs = inputs.chain(config.binary.as_deref());
    for input in inputs {
        if let Some(output) = outputs
            .iter()
            .find(|output| output::same_file(output, input))
        {
            return Err(Error::Output {
                path: output.to_path_buf(),
                reason: format!(
                    "is also an input ({}); writing it would destroy it, so name another output",
                    input.display()
                ),
            });
        }
    }
    Ok(())
}

/// Reads every source at once (URLs in parallel), with progress while a
/// server collects.
pub(crate) fn collect(
    sources: &[Source],
    binary: Option<&Path>,
    config: &Config,
) -> Vec<Result<RawProfile, Error>> {
    let longest = sources
        .iter()
        .filter_map(|source| match source {
            Source::Url(target) => target.seconds,
            Source::File(_) => None,
        })
        .max();
    let _progress = longest.map(|seconds| {
        let what = match sources {
            [Source::Url(target)] => format!("collecting {}", target.display()),
            _ => format!("collecting from {} sources", sources.len()),
        };
        Progress::start(Feedback::detect(config.quiet), &what, seconds)
    });
    // One file alone is decompressed as it is read, never held whole; of
    // several read at once, each is held compressed until its turn.
    let alone = sources.len() == 1;
    read_all_of(sources, |source| read_source(source, binary, alone, config))
}

/// Reads every source with `read`, a bounded number at a time (each fetch
/// also has a thread of its own inside the HTTP client, and a fleet of
/// hundreds must not exhaust the process limit); when no thread can be
/// started at all, on this one. Results in the sources' order.
fn read_all_of<T: Send>(sources: &[Source], read: impl Fn(&Source) -> T + Sync) -> Vec<T> {
    const AT_ONCE: usize = 64;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(source) = sources.get(index) else {
                return done;
            };
            done.push((index, read(source)));
        }
    };
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..sources.len().min(AT_ONCE))
            .map_while(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        // Whatever no worker took (none could start): here.
        let mut results = work();
        for worker in workers {
            results.extend(worker.join().expect("a source reader panicked"));
        }
        results
    });
    results.sort_by_key(|&(index, _)| index);
    results.into_iter().map(|(_, result)| result).collect()
}

fn read_source(
    source: &Source,
    binary: Option<&Path>,
    alone: bool,
    config: &Config,
) -> Result<RawProfile, Error> {
    match source {
        Source::File(path) if alone => source::read_file_gunzipped(path, binary, config.max_size),
        Source::File(path) => source::read_file(path, binary, config.max_size),
        Source::Url(target) => Ok(RawProfile {
            bytes: fetch::fetch(target, &config.fetch, config.max_size)?,
            origin: Origin::Url(target.clone()),
            binary: binary.map(Path::to_path_buf),
            gunzipped: false,
        }),
    }
}

/// Decodes what was collected. With several sources, one that failed is
/// reported and skipped as long as another one worked.
fn decode_all(
    collected: Vec<Result<RawProfile, Error>>,
    config: &Config,
) -> Result<(Vec<RawProfile>, Vec<Profile>), Error> {
    let (max_size, dump) = (config.max_size, &config.dump);
    let count = collected.len();
    let mut raws = Vec::new();
    let mut profiles = Vec::new();
    let mut failures = Vec::new();
    for result in collected {
        match result.and_then(|raw| decode_with(&raw, max_size, dump).map(|profile| (raw, profile)))
        {
            Ok((mut raw, profile)) => {
                raw.release_gunzipped();
                raws.push(raw);
                profiles.push(profile);
            }
            Err(error) => failures.push(error),
        }
    }
    if count == 1 {
        if let Some(error) = failures.pop() {
            return Err(error);
        }
    }
    for failure in &failures {
        progress::warn(&format!("skipped: {}", error_chain(failure)));
    }
    if profiles.is_empty() {
        return Err(Error::AllSourcesFailed { count });
    }
    Ok((raws, profiles))
}

/// Names each profile's unnamed addresses ([`name_addresses`]), all at
/// once: a fleet whose symbol endpoints stall waits for one deadline, not
/// one per source.
fn name_all(raws: &[RawProfile], profiles: &mut [Profile], config: &Config) -> Result<(), Error> {
    const AT_ONCE: usize = 64;
    for (raws, profiles) in raws.chunks(AT_ONCE).zip(profiles.chunks_mut(AT_ONCE)) {
        // Those no thread could be started for are named here, after.
        let mut left = Vec::new();
        let results: Vec<Result<(), Error>> = std::thread::scope(|scope| {
            let mut handles = Vec::new();
            for (index, (raw, profile)) in raws.iter().zip(profiles.iter_mut()).enumerate() {
                // Most profiles are named already: no thread for those.
                if symbolize::unnamed_addresses(profile).is_empty() {
                    continue;
                }
                let spawned = std::thread::Builder::new()
                    .spawn_scoped(scope, move || name_addresses(raw, profile, config));
                match spawned {
                    Ok(handle) => handles.push(handle),
                    Err(_) => left.push(index),
                }
            }
            let joined = handles
                .into_iter()
                .map(|h| h.join().expect("naming panicked"));
            joined.collect()
        });
        results.into_iter().collect::<Result<(), Error>>()?;
        for index in left {
            name_addresses(&raws[index], &mut profiles[index], config)?;
        }
    }
    Ok(())
}

/// Names addresses a profile left unnamed: from the binary (given, or found
/// as pprof finds it), else through the service's symbol endpoint for a URL
/// source. Only a binary that does not match is fatal; what stays unnamed
/// is counted in one warning.
pub(crate) fn name_addresses(
    raw: &RawProfile,
    profile: &mut Profile,
    config: &Config,
) -> Result<(), Error> {
    let addresses = symbolize::unnamed_addresses(profile);
    if addresses.is_empty() {
        return Ok(());
    }
    let inlined = !config.fold.no_inlines;
    symbolize::with_binaries(profile, raw.binary.as_deref(), config.force, inlined).map_err(
        |source| Error::Symbolize {
            input: raw.origin.name(),
            source,
        },
    )?;
    let still_unnamed = symbolize::unnamed_addresses(profile);
    if let (Origin::Url(target), false) = (&raw.origin, still_unnamed.is_empty()) {
        match symbolize::remote::lookup(target, &still_unnamed, &config.fetch, config.max_size) {
            Ok(names) => {
                symbolize::apply_names(profile, &names);
            }
            Err(error) => progress::warn(&format!(
                "cannot ask the service for symbols: {}",
                error_chain(&error)
            )),
        }
    }
    symbolize::runtime::settle(profile, config.all_frames);
    let left = symbolize::unnamed_addresses(profile).len();
    if left > 0 {
        progress::warn(&format!(
            "{}: {left} of {} addresses have no function names and show as 0x…; \
             give the binary the profile came from: torch BINARY PROFILE",
            raw.origin.name(),
            addresses.len()
        ));
    }
    Ok(())
}

/// Saves one profile exactly as received, or several merged.
fn save(path: &Path, raws: &[RawProfile], merged: &Profile) -> Result<(), Error> {
    let bytes = match raws {
        [one] => one.as_received()?,
        _ => std::borrow::Cow::Owned(profile::encode_gzip(merged)),
    };
    output::write_atomically(path, |file| std::io::Write::write_all(file, &bytes))
}

/// What the subtitle should add about how the profile was collected.
fn collection_note(raws: &[RawProfile]) -> Option<String> {
    let mut notes = Vec::new();
    let delta = raws.iter().find_map(|raw| match &raw.origin {
        Origin::Url(target) if target.delta => target.seconds,
        _ => None,
    });
    if let Some(seconds) = delta {
        notes.push(format!("delta over {seconds} s"));
    }
    if raws.len() > 1 {
        notes.push(format!("merged from {} profiles", raws.len()));
    }
    (!notes.is_empty()).then(|| notes.join(", "))
}

/// The error and its causes on one line, as `main` prints them.
pub fn error_chain(error: &Error) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(source) = cause {
        message.push_str(": ");
        message.push_str(&source.to_string());
        cause = source.source();
    }
    message
}

/// Decodes one input and checks it has something to show.
pub fn decode(raw: &RawProfile, max_size: u64) -> Result<Profile, Error> {
    decode_with(raw, max_size, &profile::DumpOptions::default())
}

/// [`decode`], reading goroutine dumps with `dump`'s options.
pub fn decode_with(
    raw: &RawProfile,
    max_size: u64,
    dump: &profile::DumpOptions,
) -> Result<Profile, Error> {
    let input = raw.origin.name();
    let profile =
        profile::decode_with(&raw.bytes, max_size, dump).map_err(|source| Error::Decode {
            input: input.clone(),
            source,
        })?;
    if profile.samples.is_empty() {
        return Err(Error::NoSamples { input });
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_read_a_bounded_number_at_a_time_in_order() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let sources: Vec<Source> = (0..300)
            .map(|i| Source::File(PathBuf::from(i.to_string())))
            .collect();
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let read = |source: &Source| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::yield_now();
            running.fetch_sub(1, Ordering::SeqCst);
            match source {
                Source::File(path) => path.display().to_string(),
                Source::Url(_) => unreachable!(),
            }
        };
        let read_in_order = read_all_of(&sources, read);
        let want: Vec<String> = (0..300).map(|i| i.to_string()).collect();
        assert_eq!(read_in_order, want);
        assert!(most.load(Ordering::SeqCst) <= 65, "{most:?} at once");
    }
}
