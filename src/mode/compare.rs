//! `--output-dir DIR --base OLD… [BINARY] NEW…`: what changed, as a folder
//! a CI job can publish. Each new profile is paired with the base profile
//! of the same file name, else of the same kind (the same sample types).
//! For every sample type of every pair: the differential graph, the new
//! profile's own graph, a row of `index.html` (before, after, change) and,
//! in `summary.md`, the functions whose flat and cum changed most (pprof's
//! `-top -base` values), what grew first. `go test -bench` output found
//! beside either side's profiles (`bench.txt`, or `--bench-output`) starts
//! the summary with each benchmark's metrics before and after.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::report::{self, Drawn};
use crate::bench::{self, BenchRuns};
use crate::decorate::escape;
use crate::diff::Comparison;
use crate::fold::{FoldOptions, SampleSelection};
use crate::output;
use crate::profile::Profile;
use crate::source::Source;
use crate::top::{self, TopOptions};
use crate::{units, Config, Error, Loaded};

/// Rows of each direction `summary.md` lists per sample type.
const CHANGED_ROWS: usize = 10;

/// One sample type of one pair, as written.
struct Compared {
    sample_type: String,
    unit: String,
    before: i64,
    after: i64,
    /// The differential graph's file name.
    /// `None` when neither side has a value of the type to draw (a
    /// benchmark's heap can hold nothing in use when it is written).
    diff_file: Option<String>,
    /// The new profile's own graph, if it has samples.
    own_file: Option<String>,
    /// Per function: (flat change, cum change, flat before, cum before).
    changes: Vec<(String, i64, i64, i64, i64)>,
}

/// One pair and what came of it.
struct Pair {
    new_input: String,
    base_input: Option<String>,
    /// How they were paired, or why not.
    how: String,
    compared: Vec<Compared>,
    drawn: Drawn,
}

/// Reads both sides, pairs them, draws and writes the report.
pub fn write_all(config: &Config, directory: &Path) -> Result<(), Error> {
    let (new_sources, mut new_loaded) = report::load_each(&config.sources, config)?;
    let (base_sources, base_loaded) = report::load_each(&config.base, config)?;
    let pairing = pair(&new_sources, &new_loaded, &base_sources, &base_loaded);
    let benchmark = new_loaded.iter().any(|l| is_benchmark(&l.profile));
    let normalize = config.normalize || benchmark;
    let stems = report::unique_stems(&new_sources);
    let mut pairs = Vec::new();
    for ((new_index, base, how), stem) in pairing.into_iter().zip(&stems) {
        if !config.quiet {
            let input = new_loaded[new_index].input();
            crate::progress::note(&format!("{input}: {how}"));
        }
        // The samples are compared with the base's after drawing.
        let drawn =
            report::draw_profile(&mut new_loaded[new_index], stem, config, directory, true)?;
        let new = &new_loaded[new_index];
        let base = base.map(|b| &base_loaded[b]);
        let compared = match base {
            Some(base) => compare_pair(new, base, stem, &drawn, config, directory, normalize)?,
            None => Vec::new(),
        };
        pairs.push(Pair {
            new_input: new.input(),
            base_input: base.map(Loaded::input),
            how,
            compared,
            drawn,
        });
    }
    let benches = bench_runs(config, &base_sources, &new_sources)?;
    let notes = report_notes(normalize, benchmark, config.normalize);
    write_file(directory, "index.html", &index_html(&pairs, &notes))?;
    write_file(
        directory,
        "summary.md",
        &summary_md(&pairs, &notes, &benches),
    )?;
    let graphs: usize = pairs.iter().map(|p| p.compared.len()).sum();
    let what = format!(
        "{}: {graphs} differential graph{}, the new profiles' graphs, index.html and summary.md",
        directory.display(),
        if graphs == 1 { "" } else { "s" }
    );
    crate::progress::wrote(config.quiet, &what);
    Ok(())
}

fn write_file(directory: &Path, name: &str, text: &str) -> Result<(), Error> {
    output::write(
        &output::Destination::File(directory.join(name)),
        text.as_bytes(),
    )
}

/// What the report says about how it compared.
fn report_notes(normalize: bool, benchmark: bool, asked: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if normalize && benchmark && !asked {
        notes.push(
            "Benchmark profiles: each base is scaled to the new profile's total (as --normalize \
             does), since go test chooses how many iterations each side ran."
                .to_owned(),
        );
    } else if normalize {
        notes.push("Each base is scaled to the new profile's total (--normalize).".to_owned());
    }
    notes
}

/// A profile `go test` wrote: its binary is a test binary.
fn is_benchmark(profile: &Profile) -> bool {
    profile.mappings.first().is_some_and(|m| {
        let name = m.filename.rsplit(['/', '\\']).next().unwrap_or("");
        name.ends_with(".test") || name.ends_with(".test.exe")
    })
}

/// For each new profile: its base (if any) and how they were paired.
fn pair(
    new_sources: &[Source],
    new: &[Loaded],
    base_sources: &[Source],
    base: &[Loaded],
) -> Vec<(usize, Option<usize>, String)> {
    let name = |source: &Source| match source {
        Source::File(path) => path.file_name().map(|n| n.to_string_lossy().into_owned()),
        Source::Url(target) => Some(target.url.path().to_owned()),
    };
    let types = |loaded: &Loaded| -> Vec<String> {
        loaded
            .profile
            .sample_types
            .iter()
            .map(|t| t.name.clone())
            .collect()
    };
    let mut taken = vec![false; base.len()];
    let mut out = Vec::new();
    for (i, loaded) in new.iter().enumerate() {
        let by_name =
            (0..base.len()).find(|&b| !taken[b] && name(&base_sources[b]) == name(&new_sources[i]));
        let by_type = || (0..base.len()).find(|&b| !taken[b] && types(&base[b]) == types(loaded));
        let (chosen, how) = match (by_name, by_name.is_none().then(by_type).flatten()) {
            (Some(b), _) => (Some(b), "by file name"),
            (None, Some(b)) => (Some(b), "by profile type"),
            (None, None) => (None, ""),
        };
        let text = match chosen {
            Some(b) => {
                taken[b] = true;
                format!("compared with {} ({how})", base[b].input())
            }
            None => "no base profile of the same name or kind; drawn on its own".to_owned(),
        };
        out.push((i, chosen, text));
    }
    out
}

/// The differential graph and function changes of every sample type the
/// pair shares; a type only one side has is left out and said so.
fn compare_pair(
    new: &Loaded,
    base: &Loaded,
    stem: &str,
    drawn: &Drawn,
    config: &Config,
    directory: &Path,
    normalize: bool,
) -> Result<Vec<Compared>, Error> {
    let mut out = Vec::new();
    for (index, sample_type) in new.profile.sample_types.iter().enumerate() {
        let Some(base_index) = base
            .profile
            .sample_types
            .iter()
            .position(|t| t == sample_type)
        else {
            continue;
        };
        let typed = Config {
            fold: FoldOptions {
                selection: SampleSelection::Named(index.to_string()),
                ..config.fold.clone()
            },
            ..config.clone()
        };
        let measure = crate::measure_for(&new.profile, &typed.fold, &new.input())?;
        let mut comparison = Comparison::new(&measure, &crate::fold_options(&typed, true));
        comparison
            .add_new(&new.profile)
            .map_err(|source| Error::Diff {
                input: new.input(),
                source,
            })?;
        comparison
            .add_base(&base.profile)
            .map_err(|source| Error::Diff {
                input: base.input(),
                source,
            })?;
        let difference = comparison.finish(normalize);
        let diff_file = format!("{stem}-{}-diff.svg", report::file_part(&sample_type.name));
        let options = crate::differential_options(&typed, new, base);
        let drawn_diff = super::diff::draw(
            &difference,
            &options,
            &new.input(),
            &output::Destination::File(directory.join(&diff_file)),
        );
        let diff_file = match drawn_diff {
            Ok(()) => Some(diff_file),
            Err(Error::Render {
                source: crate::render::RenderError::Empty(_),
                ..
            }) => None,
            Err(error) => return Err(error),
        };
        let changes = function_changes(
            &new.profile,
            &base.profile,
            index,
            base_index,
            &typed,
            normalize,
        );
        out.push(Compared {
            sample_type: sample_type.name.clone(),
            unit: sample_type.unit.clone(),
            before: difference.total_before,
            after: difference.total_after,
            diff_file,
            own_file: drawn.graphs.get(index).and_then(|g| g.file.clone()),
            changes,
        });
    }
    Ok(out)
}

/// Each function's flat and cum, new minus base, as `pprof -top -base`
/// has them (the base scaled to the new total when normalizing), with the
/// base's values for the percentages.
fn function_changes(
    new: &Profile,
    base: &Profile,
    index: usize,
    base_index: usize,
    config: &Config,
    normalize: bool,
) -> Vec<(String, i64, i64, i64, i64)> {
    let table = |profile: &Profile, index: usize| {
        let options = FoldOptions {
            selection: SampleSelection::Named(index.to_string()),
            ..config.fold.clone()
        };
        let top_options = TopOptions {
            node_fraction: 0.0,
            ..TopOptions::default()
        };
        top::top_with(profile, &options, &top_options).ok()
    };
    let (Some(after), Some(before)) = (table(new, index), table(base, base_index)) else {
        return Vec::new();
    };
    let ratio = match (normalize, before.total) {
        (true, total) if total != 0 => after.total as f64 / total as f64,
        _ => 1.0,
    };
    let scaled = |v: i64| (v as f64 * ratio).round() as i64;
    let mut by_name: HashMap<&str, (i64, i64, i64, i64)> = HashMap::new();
    for row in &after.rows {
        let entry = by_name.entry(&row.name).or_default();
        entry.0 += row.flat;
        entry.1 += row.cum;
    }
    for row in &before.rows {
        let entry = by_name.entry(&row.name).or_default();
        entry.2 += scaled(row.flat);
        entry.3 += scaled(row.cum);
    }
    let mut changes: Vec<(String, i64, i64, i64, i64)> = by_name
        .into_iter()
        .map(|(name, (flat, cum, flat_before, cum_before))| {
            (
                name.to_owned(),
                flat - flat_before,
                cum - cum_before,
                flat_before,
                cum_before,
            )
        })
        .filter(|c| c.1 != 0 || c.2 != 0)
        .collect();
    changes.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    changes
}

/// Benchmark output for (before, after): `--bench-output` files (the
/// base's, then the new side's), else `bench.txt` beside each side's first
/// profile file.
fn bench_runs(
    config: &Config,
    base: &[Source],
    new: &[Source],
) -> Result<Option<(BenchRuns, BenchRuns)>, Error> {
    let beside = |sources: &[Source]| -> Option<PathBuf> {
        sources.iter().find_map(|s| match s {
            Source::File(path) => {
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                Some(dir.join("bench.txt")).filter(|p| p.is_file())
            }
            Source::Url(_) => None,
        })
    };
    let (before, after) = match config.bench_output.as_slice() {
        [before, after] => (Some(before.clone()), Some(after.clone())),
        [] => (beside(base), beside(new)),
        other => return Err(Error::BenchOutputs { count: other.len() }),
    };
    let read = |path: Option<PathBuf>| -> Result<BenchRuns, Error> {
        match path {
            Some(path) => std::fs::read_to_string(&path)
                .map(|text| BenchRuns::parse(&text))
                .map_err(|source| Error::Read { path, source }),
            None => Ok(BenchRuns::default()),
        }
    };
    let (before, after) = (read(before)?, read(after)?);
    Ok((!before.is_empty() || !after.is_empty()).then_some((before, after)))
}

fn signed(value: i64, unit: &str) -> String {
    match value {
        v if v > 0 => format!("+{}", units::human(v, unit)),
        v => units::human(v, unit),
    }
}

fn change_percent(change: i64, before: i64) -> String {
    match before {
        0 if change == 0 => "0%".to_owned(),
        0 => "new".to_owned(),
        b => format!("{:+.1}%", 100.0 * change as f64 / b as f64),
    }
}

fn index_html(pairs: &[Pair], notes: &[String]) -> String {
    let mut html = report::page_start(
        "What changed",
        "td.n { text-align: right; font-variant-numeric: tabular-nums; }\n\
         td.grew { color: #b3261e; } td.shrank { color: #1f5fa8; }\n\
         img.preview { width: 300px; height: auto; border: 1px solid #ccc; background: #f8f8f8; display: block; }\n",
    );
    html.push_str("<h1>What changed</h1>\n");
    let _ = writeln!(
        html,
        "<p class=\"meta\">Drawn by torch {}. The functions that changed most: \
         <a href=\"summary.md\">summary.md</a>.</p>",
        env!("CARGO_PKG_VERSION")
    );
    for note in notes {
        let _ = writeln!(html, "<p class=\"meta\">{}</p>", escape(note));
    }
    for pair in pairs {
        let _ = writeln!(html, "<section>\n<h2>{}</h2>", escape(&pair.new_input));
        let _ = writeln!(html, "<p class=\"meta\">{}</p>", escape(&pair.how));
        if pair.base_input.is_some() && pair.compared.is_empty() {
            html.push_str("<p>The two profiles share no sample type.</p>\n");
        }
        if !pair.compared.is_empty() {
            html.push_str(
                "<table>\n<thead><tr><th>Sample type</th><th>Before</th><th>After</th><th>Change</th>\
                 <th>Change %</th><th>Differential</th><th>New</th></tr></thead>\n<tbody>\n",
            );
            for c in &pair.compared {
                let change = c.after.saturating_sub(c.before);
                let class = match change {
                    v if v > 0 => "n grew",
                    v if v < 0 => "n shrank",
                    _ => "n",
                };
                let image = |file: &Option<String>, what: &str| match file {
                    Some(file) => {
                        let file = escape(file);
                        format!("<a href=\"{file}\"><img class=\"preview\" src=\"{file}\" alt=\"{what}\"></a>")
                    }
                    None => "no samples".to_owned(),
                };
                let _ = writeln!(
                    html,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"{class}\">{}</td>\
                     <td class=\"{class}\">{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&c.sample_type),
                    escape(&units::human(c.before, &c.unit)),
                    escape(&units::human(c.after, &c.unit)),
                    escape(&signed(change, &c.unit)),
                    escape(&change_percent(change, c.before)),
                    image(&c.diff_file, "differential flame graph"),
                    image(&c.own_file, "flame graph"),
                );
            }
            html.push_str("</tbody>\n</table>\n");
        }
        if pair.base_input.is_none() {
            html.push_str("<ul>\n");
            for graph in &pair.drawn.graphs {
                if let Some(file) = &graph.file {
                    let _ = writeln!(
                        html,
                        "<li><a href=\"{0}\">{0}</a> ({1})</li>",
                        escape(file),
                        escape(&graph.amount)
                    );
                }
            }
            html.push_str("</ul>\n");
        }
        html.push_str("</section>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn summary_md(
    pairs: &[Pair],
    notes: &[String],
    benches: &Option<(BenchRuns, BenchRuns)>,
) -> String {
    let mut md = String::from("# What changed\n");
    for note in notes {
        let _ = writeln!(md, "\n{}", report::markdown_text(note));
    }
    if let Some((before, after)) = benches {
        md.push_str("\n## Benchmarks\n");
        md.push_str(&bench::comparison_markdown(before, after));
    }
    for pair in pairs {
        let _ = write!(
            md,
            "\n## {}\n\n{}\n",
            report::markdown_text(&pair.new_input),
            report::markdown_text(&pair.how)
        );
        if pair.base_input.is_some() && pair.compared.is_empty() {
            md.push_str("\nThe two profiles share no sample type.\n");
        }
        for c in &pair.compared {
            let change = c.after.saturating_sub(c.before);
            let graph = match &c.diff_file {
                Some(file) => format!("[{file}]({file})"),
                None => "nothing to draw".to_owned(),
            };
            let _ = writeln!(
                md,
                "\n### {}: {} → {} ({}, {}) — {graph}\n",
                report::markdown_text(&c.sample_type),
                units::human(c.before, &c.unit),
                units::human(c.after, &c.unit),
                signed(change, &c.unit),
                change_percent(change, c.before),
            );
            let grew: Vec<_> = c
                .changes
                .iter()
                .filter(|x| x.1 > 0 || (x.1 == 0 && x.2 > 0))
                .take(CHANGED_ROWS)
                .collect();
            let mut shrank: Vec<_> = c
                .changes
                .iter()
                .filter(|x| x.1 < 0 || (x.1 == 0 && x.2 < 0))
                .collect();
            shrank.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)));
            shrank.truncate(CHANGED_ROWS);
            if grew.is_empty() && shrank.is_empty() {
                md.push_str("Nothing changed.\n");
                continue;
            }
            md.push_str(
                "| | flat | flat % | cum | cum % | function |\n|:---|---:|---:|---:|---:|:---|\n",
            );
            for (label, rows) in [("grew", grew), ("shrank", shrank)] {
                for (name, flat, cum, flat_before, cum_before) in rows {
                    let _ = writeln!(
                        md,
                        "| {label} | {} | {} | {} | {} | `{}` |",
                        signed(*flat, &c.unit),
                        change_percent(*flat, *flat_before),
                        signed(*cum, &c.unit),
                        change_percent(*cum, *cum_before),
                        report::markdown_code(name)
                    );
                }
            }
        }
    }
    md
}
