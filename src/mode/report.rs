//! `--output-dir`: every sample type of every profile, drawn into one
//! folder a CI job can publish. Each profile is drawn on its own (never
//! merged) as `<profile>-<sample_type>.svg`; `index.html` links them with
//! their totals and a preview; `summary.md` holds pprof's top 10 per
//! sample type, for a job summary or a pull-request comment. Each profile
//! is folded once; every sample type is drawn from that one tree.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::decorate::escape;
use crate::fold::{FoldError, FoldOptions, SampleSelection};
use crate::output;
use crate::palette::Program;
use crate::profile::{Profile, Samples, ValueType};
use crate::source::Source;
use crate::top::{self, TopOptions};
use crate::tree::CallTree;
use crate::{units, Config, Error, Loaded};

/// How many functions `summary.md` lists per sample type.
const SUMMARY_ROWS: usize = 10;

/// One sample type of one profile, as written.
pub(super) struct Graph {
    pub(super) sample_type: String,
    pub(super) unit: String,
    /// What it holds, as its graph's subtitle says it (`18.58 MB total`,
    /// or for a delta profile `3.82 MB grew, 2 MB shrank`).
    pub(super) amount: String,
    /// The SVG's file name; `None` when the type has nothing to draw.
    pub(super) file: Option<String>,
    /// pprof's top table, first rows only.
    pub(super) top: top::Top,
}

/// One profile and its graphs.
pub(super) struct Drawn {
    pub(super) input: String,
    pub(super) collected: Option<String>,
    pub(super) graphs: Vec<Graph>,
}

/// Reads every source, then draws each profile's sample types into
/// `directory`, then writes the index and the summary. Nothing is written
/// unless every source could be read.
pub fn write_all(config: &Config, directory: &Path) -> Result<(), Error> {
    let (sources, mut loaded) = load_each(&config.sources, config)?;
    let stems = unique_stems(&sources);
    write_report(config, directory, &mut loaded, &stems, &Extras::default())
}

/// What a report says beyond its graphs (a service snapshot's).
#[derive(Debug, Default)]
pub(super) struct Extras {
    /// A heading for the whole report.
    pub(super) title: Option<String>,
    /// What could not be had, and why: (what, reason).
    pub(super) missing: Vec<(String, String)>,
    /// The heap's runtime.MemStats, summarized.
    pub(super) memstats: Option<String>,
}

/// Draws each loaded profile's sample types into `directory` as
/// `<stem>-<type>.svg`, then writes the index and the summary.
pub(super) fn write_report(
    config: &Config,
    directory: &Path,
    loaded: &mut [Loaded],
    stems: &[String],
    extras: &Extras,
) -> Result<(), Error> {
    let mut drawn = Vec::new();
    for (profile, stem) in loaded.iter_mut().zip(stems) {
        drawn.push(draw_profile(profile, stem, config, directory, false)?);
    }
    let index = index_html(&drawn, extras);
    output::write(
        &output::Destination::File(directory.join("index.html")),
        index.as_bytes(),
    )?;
    let summary = summary_md(&drawn, extras);
    output::write(
        &output::Destination::File(directory.join("summary.md")),
        summary.as_bytes(),
    )?;
    let graphs = drawn
        .iter()
        .flat_map(|profile| &profile.graphs)
        .filter(|graph| graph.file.is_some())
        .count();
    let plural = if graphs == 1 { "" } else { "s" };
    let what = format!(
        "{}: {graphs} flame graph{plural}, index.html and summary.md",
        directory.display()
    );
    crate::progress::wrote(config.quiet, &what);
    Ok(())
}

/// Reads and prepares each of `arguments` (`[BINARY] SOURCE…`) on its own.
pub(super) fn load_each(
    arguments: &[String],
    config: &Config,
) -> Result<(Vec<Source>, Vec<Loaded>), Error> {
    let (binary, sources) = crate::source::resolve(arguments, config.seconds)?;
    let binary = config.binary.clone().or(binary);
    let collected = crate::collect(&sources, binary.as_deref(), config);
    let mut loaded = Vec::new();
    for result in collected {
        let raw = result?;
        let mut profile = crate::decode_with(&raw, config.max_size, &config.dump)?;
        crate::name_addresses(&raw, &mut profile, config)?;
        let input = raw.origin.name();
        let unfiltered = crate::prepare(&mut profile, config, &input)?;
        loaded.push(Loaded {
            raws: vec![raw],
            names: vec![input],
            profile,
            unfiltered,
        });
    }
    Ok((sources, loaded))
}

/// Draws each sample type of one profile; a type whose values are all
/// zero is listed without a graph. The top tables are worked out on a
/// second thread while the call tree is built; then both threads draw.
/// Unless the caller needs them again (`keep_samples`), the samples are
/// let go before drawing: the drawings reuse their memory, which on a
/// large profile is most of it.
pub(super) fn draw_profile(
    loaded: &mut Loaded,
    stem: &str,
    config: &Config,
    directory: &Path,
    keep_samples: bool,
) -> Result<Drawn, Error> {
    let input = loaded.input();
    let (tables, tree) = std::thread::scope(|scope| {
        let profile = &loaded.profile;
        let helper = scope.spawn(|| top_tables(profile, &config.fold));
        let tree = crate::fold_tree(profile, config, true, &input);
        let tables = helper.join().expect("the top tables panicked");
        (tables, tree)
    });
    let tree = tree?;
    let tables = tables.map_err(|source| Error::Fold {
        input: input.clone(),
        source,
    })?;
    if !keep_samples {
        loaded.profile.samples = Samples::default();
    }
    let loaded = &*loaded;
    let profile = &loaded.profile;
    let painter = Painter {
        loaded,
        stem,
        config,
        directory,
        input: &input,
        program: crate::program_for(loaded, config),
        file_parts: unique_names(profile.sample_types.iter().map(|t| file_part(&t.name))),
        next: AtomicUsize::new(0),
    };
    // A palette kept in a file is read and written by each graph in turn.
    let mut drawn = match config.consistent_palette.is_none() {
        true => std::thread::scope(|scope| {
            let helper = scope.spawn(|| painter.draw_some(&tree));
            let mine = painter.draw_some(&tree);
            let helped = helper.join().expect("drawing panicked");
            mine.into_iter().chain(helped).collect()
        }),
        false => painter.draw_some(&tree),
    };
    crate::discard(tree);
    drawn.sort_by_key(|&(index, _)| index);
    let graphs = drawn
        .into_iter()
        .map(|(_, graph)| graph)
        .zip(tables)
        .map(|(graph, top)| {
            let (sample_type, amount, file) = graph?;
            Ok(Graph {
                unit: sample_type.unit,
                sample_type: sample_type.name,
                amount,
                file,
                top,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Drawn {
        input,
        collected: crate::collection_time(&loaded.raws, &loaded.profile),
        graphs,
    })
}

/// pprof's top table of every sample type, from one pass over the
/// samples for the sums and one for the call edges.
fn top_tables(profile: &Profile, options: &FoldOptions) -> Result<Vec<top::Top>, FoldError> {
    if options.mean {
        return Err(FoldError::MeanWithoutCount);
    }
    let tables = top::Tables::new(profile, options);
    let top_options = TopOptions {
        node_count: SUMMARY_ROWS,
        ..TopOptions::default()
    };
    let indices: Vec<usize> = (0..profile.sample_types.len()).collect();
    Ok(tables.tables(profile, &indices, &top_options))
}

/// A sample type drawn: the type, what it holds (see
/// [`render::amount`]), and the SVG written, if any.
type Drawing = (ValueType, String, Option<String>);

/// Draws the sample types of one profile from one tree, on as many threads
/// as call [`Painter::draw_some`], each taking the next type not yet
/// taken.
struct Painter<'a> {
    loaded: &'a Loaded,
    stem: &'a str,
    config: &'a Config,
    directory: &'a Path,
    input: &'a str,
    program: Program,
    /// Per sample type, its part of the file name, unique in the profile
    /// (`a/b` and `a_b` would both be `a_b`).
    file_parts: Vec<String>,
    /// The next sample type to draw.
    next: AtomicUsize,
}

impl Painter<'_> {
    /// Draws sample types until none is left; each with its position.
    fn draw_some(&self, tree: &CallTree) -> Vec<(usize, Result<Drawing, Error>)> {
        let types = &self.loaded.profile.sample_types;
        let mut drawn = Vec::new();
        loop {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(sample_type) = types.get(index) else {
                return drawn;
            };
            drawn.push((index, self.draw(tree, sample_type, &self.file_parts[index])));
        }
    }

    fn draw(&self, tree: &CallTree, sample_type: &ValueType, part: &str) -> Result<Drawing, Error> {
        let (loaded, config, input) = (self.loaded, self.config, self.input);
        let fold = FoldOptions {
            selection: SampleSelection::Named(sample_type.name.clone()),
            ..config.fold.clone()
        };
        let measure = crate::measure_for(&loaded.profile, &fold, input)?;
        let drawable = tree.ending_values().any(|values| measure.of(values) > 0);
        let file = drawable.then(|| format!("{}-{part}.svg", self.stem));
        if let Some(file) = &file {
            let mut options = crate::drawing_options(config, loaded);
            if options.title.is_none() {
                options.title = Some(format!("{input}: {}", sample_type.name));
            }
            let svg = super::draw::draw(tree, &measure, config, &options, &self.program, input)?;
            output::write(&output::Destination::File(self.directory.join(file)), &svg)?;
        }
        Ok((
            sample_type.clone(),
            crate::render::amount(tree, &measure),
            file,
        ))
    }
}

/// A file-name stem per source: the file name less profile extensions
/// (`mem.out` → `mem`, `cpu.pb.gz` → `cpu`), or a URL's last path element
/// (`…/debug/pprof/heap` → `heap`); repeated stems get `-2`, `-3`.
pub(super) fn unique_stems(sources: &[Source]) -> Vec<String> {
    unique_names(sources.iter().map(|source| file_part(&stem(source))))
}

/// `names`, each made unique with `-2`, `-3`… where an earlier one is the
/// same, ignoring case (as macOS and Windows file systems do).
fn unique_names(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for base in names {
        let mut candidate = base.clone();
        let mut n = 1;
        while unique
            .iter()
            .any(|taken| taken.eq_ignore_ascii_case(&candidate))
        {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        unique.push(candidate);
    }
    unique
}

fn stem(source: &Source) -> String {
    let name = match source {
        Source::File(path) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Source::Url(target) => target
            .url
            .path_segments()
            .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
            .unwrap_or("profile")
            .to_owned(),
    };
    let mut stem = name.as_str();
    while let Some((rest, extension)) = stem.rsplit_once('.') {
        let known = ["gz", "pb", "pprof", "prof", "out", "txt", "proto"];
        if rest.is_empty() || !known.contains(&extension) {
            break;
        }
        stem = rest;
    }
    match stem {
        "" => "profile".to_owned(),
        stem => stem.to_owned(),
    }
}

/// Keeps a name usable as part of a file name on any system.
pub(super) fn file_part(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    match cleaned.trim_start_matches('.') {
        "" => "_".to_owned(),
        rest => rest.to_owned(),
    }
}

/// The start of a report page, up to `<body>`: the page's `title` and the
/// styles every report shares, with `styles` of its own.
pub(super) fn page_start(title: &str, styles: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}\n\
         table {{ border-collapse: collapse; margin-bottom: 2rem; }}\n\
         th, td {{ padding: .5rem .8rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: middle; }}\n\
         {styles}\
         .meta {{ color: #666; }}\n\
         </style>\n</head>\n<body>\n"
    )
}

fn index_html(drawn: &[Drawn], extras: &Extras) -> String {
    let mut html = page_start(
        "Flame graphs",
        "td.total { text-align: right; font-variant-numeric: tabular-nums; }\n\
         img.preview { width: 360px; height: auto; border: 1px solid #ccc; background: #f8f8f8; display: block; }\n",
    );
    let _ = writeln!(
        html,
        "<h1>{}</h1>",
        escape(extras.title.as_deref().unwrap_or("Flame graphs"))
    );
    let _ = writeln!(
        html,
        "<p class=\"meta\">{} profile{}, drawn by torch {}. Top functions per sample type: \
         <a href=\"summary.md\">summary.md</a>.</p>",
        drawn.len(),
        if drawn.len() == 1 { "" } else { "s" },
        env!("CARGO_PKG_VERSION")
    );
    if !extras.missing.is_empty() {
        html.push_str("<h2>Not collected</h2>\n<ul>\n");
        for (what, reason) in &extras.missing {
            let _ = writeln!(html, "<li>{}: {}</li>", escape(what), escape(reason));
        }
        html.push_str("</ul>\n");
    }
    if let Some(memstats) = &extras.memstats {
        let _ = writeln!(
            html,
            "<h2>runtime.MemStats</h2>\n<pre>{}</pre>",
            escape(memstats)
        );
    }
    for profile in drawn {
        let _ = writeln!(html, "<section>\n<h2>{}</h2>", escape(&profile.input));
        if let Some(collected) = &profile.collected {
            let _ = writeln!(html, "<p class=\"meta\">{}</p>", escape(collected));
        }
        html.push_str(
            "<table>\n<thead><tr><th>Sample type</th><th>Total</th><th>Flame graph</th></tr></thead>\n<tbody>\n",
        );
        for graph in &profile.graphs {
            let total = escape(&graph.amount);
            let name = escape(&graph.sample_type);
            match &graph.file {
                Some(file) => {
                    let file = escape(file);
                    let _ = writeln!(
                        html,
                        "<tr><td><a href=\"{file}\">{name}</a></td><td class=\"total\">{total}</td>\
                         <td><a href=\"{file}\"><img class=\"preview\" src=\"{file}\" \
                         alt=\"{name} flame graph\"></a></td></tr>"
                    );
                }
                None => {
                    let _ = writeln!(
                        html,
                        "<tr><td>{name}</td><td class=\"total\">{total}</td><td>no samples</td></tr>"
                    );
                }
            }
        }
        html.push_str("</tbody>\n</table>\n</section>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn summary_md(drawn: &[Drawn], extras: &Extras) -> String {
    let mut md = format!(
        "# {}\n",
        markdown_text(extras.title.as_deref().unwrap_or("Flame graphs"))
    );
    if !extras.missing.is_empty() {
        md.push_str("\n## Not collected\n\n");
        for (what, reason) in &extras.missing {
            let _ = writeln!(md, "- {}: {}", markdown_text(what), markdown_text(reason));
        }
    }
    if let Some(memstats) = &extras.memstats {
        let _ = write!(
            md,
            "\n## runtime.MemStats\n\n```\n{}\n```\n",
            memstats.trim_end()
        );
    }
    for profile in drawn {
        let _ = write!(md, "\n## {}\n", markdown_text(&profile.input));
        if let Some(collected) = &profile.collected {
            let _ = writeln!(md, "\n{}", markdown_text(collected));
        }
        for graph in &profile.graphs {
            let link = match &graph.file {
                Some(file) => format!(" — [{file}]({file})"),
                None => " — no samples".to_owned(),
            };
            let heading = format!("{}: {}", graph.sample_type, graph.amount);
            let _ = writeln!(md, "\n### {}{link}\n", markdown_text(&heading));
            let table = &graph.top;
            if table.rows.is_empty() {
                continue;
            }
            md.push_str("| flat | flat% | cum | cum% | function |\n|---:|---:|---:|---:|:---|\n");
            let percent = |value: i64| match table.total {
                0 => "0%".to_owned(),
                total => format!("{:.1}%", 100.0 * value as f64 / total as f64),
            };
            for row in table.shown(Some(SUMMARY_ROWS)) {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | `{}`{} |",
                    units::human(row.flat, &graph.unit),
                    percent(row.flat),
                    units::human(row.cum, &graph.unit),
                    percent(row.cum),
                    markdown_code(&row.name),
                    match row.inlined.label() {
                        "" => String::new(),
                        label => format!(" {label}"),
                    }
                );
            }
        }
    }
    md
}

/// A name safe in a Markdown table cell as `code`: one line, no backtick
/// to end the span early, no `|` to end the cell.
pub(super) fn markdown_code(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '`' => '\''.to_string(),
            '|' => "\\|".to_owned(),
            c if c.is_control() => " ".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// Text safe in a Markdown heading or paragraph.
pub(super) fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // What could start markup a profile's names have no business
        // making: HTML, links and images, code, tables, headings. (An
        // underscore or a star can only make emphasis; names keep them.)
        if "\\`[]()<>#|!".contains(c) {
            out.push('\\');
        }
        // One line: a line break would start a block of its own.
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_profile_extensions_and_stay_unique() {
        let sources = vec![
            Source::File("mem.out".into()),
            Source::File("dir/cpu.pb.gz".into()),
            Source::File("other/cpu.pprof".into()),
            Source::File("weird name!.out".into()),
            Source::File(".out".into()),
        ];
        assert_eq!(
            unique_stems(&sources),
            ["mem", "cpu", "cpu-2", "weird_name_", "out"]
        );
    }

    #[test]
    fn file_parts_are_plain() {
        assert_eq!(file_part("alloc_space"), "alloc_space");
        assert_eq!(file_part("../x/y"), "_x_y");
        assert_eq!(file_part(""), "_");
    }

    #[test]
    fn names_that_would_collide_are_made_unique() {
        let parts = ["a/b", "a_b", "A_B", "c"].map(file_part);
        assert_eq!(
            unique_names(parts.into_iter()),
            ["a_b", "a_b-2", "A_B-3", "c"]
        );
    }

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(markdown_text("a_b*c"), "a_b*c");
        assert_eq!(
            markdown_text("x\n# H <img src=x onerror=y> ![i](u)"),
            "x \\# H \\<img src=x onerror=y\\> \\!\\[i\\]\\(u\\)"
        );
        assert_eq!(markdown_code("a|b`c\nd"), "a\\|b'c d");
    }

    #[test]
    fn a_url_stem_is_its_last_path_element() {
        let target = crate::source::plan_url("http://127.0.0.1:1/debug/pprof/heap", None).unwrap();
        assert_eq!(stem(&Source::Url(target)), "heap");
    }
}
