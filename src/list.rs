//! pprof's `-list` report: the source of every function whose name matches,
//! each line with the flat and cum values of the samples that were there
//! (cum counted once per stack), five lines of context around them.
//!
//! Source files are found as pprof finds them: a file name is cleaned of
//! `--trim-path` prefixes (or, without one, of everything up to a search
//! directory's own name), then looked for in each `--source-path`
//! directory and its parents. Go's own sources are looked for under
//! `$GOROOT/src` as well.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::fold::{FoldError, FoldOptions};
use crate::profile::Profile;
use crate::top::percentage;
use crate::traces::scaled_label;

/// Lines shown before the first and after the last line with samples.
const MARGIN: i64 = 5;

/// Where to find sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceOptions {
    /// Directories to search (pprof's `-source_path`); the current one when
    /// empty.
    pub source_path: Vec<PathBuf>,
    /// Prefixes to remove from file names first (pprof's `-trim_path`).
    pub trim_path: Vec<String>,
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("no function matches {0:?}")]
    NoMatch(String),
    #[error(transparent)]
    Fold(#[from] FoldError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// One source line of one function, as pprof's graph has it at "lines"
/// granularity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LineNode {
    function: String,
    file: String,
    line: i64,
    start_line: i64,
}

/// Writes the listing of the functions matching `pattern`.
pub fn write_list(
    profile: &Profile,
    fold: &FoldOptions,
    pattern: &Regex,
    sources: &SourceOptions,
    out: impl Write,
) -> Result<(), ListError> {
    let measure = crate::fold::measure(profile, fold)?;
    let unit = measure.sample_type.unit.clone();
    let total = crate::top::total(profile, measure.index, fold.mean);
    let search = search_path(sources);
    let trim = sources.trim_path.join(":");
    // File names are shown as pprof shows them: trimmed by the given
    // search path only (not the current directory or $GOROOT/src).
    let given = std::env::join_paths(&sources.source_path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (nodes, values) = line_values(profile, measure.index, fold, |file| {
        trim_path(file, &trim, &given)
    });
    // Functions that match, by name; their nodes in graph order.
    let mut by_function: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        // pprof's graph leaves out what no sample weighs on.
        if values[index] == (0, 0) || !pattern.is_match(&node.function) {
            continue;
        }
        match by_function
            .iter_mut()
            .find(|(name, _)| *name == node.function)
        {
            Some((_, list)) => list.push(index),
            None => by_function.push((node.function.clone(), vec![index])),
        }
    }
    if by_function.is_empty() {
        return Err(ListError::NoMatch(pattern.as_str().to_owned()));
    }
    by_function.sort_by(|a, b| a.0.cmp(&b.0));
    let mut reader = SourceReader::new(search, trim);
    let mut out = io::BufWriter::new(out);
    let format = |v: i64| scaled_label(v, &unit);
    let dot = |v: i64| if v == 0 { ".".to_owned() } else { format(v) };
    writeln!(out, "Total: {}", format(total))?;
    for (name, members) in &by_function {
        let mut files: Vec<(String, Vec<usize>)> = Vec::new();
        for &index in members {
            let file = &nodes[index].file;
            if file.is_empty() {
                continue;
            }
            match files.iter_mut().find(|(f, _)| f == file) {
                Some((_, list)) => list.push(index),
                None => files.push((file.clone(), vec![index])),
            }
        }
        if files.is_empty() {
            writeln!(
                out,
                "No source information for {}",
                crate::progress::printable(name)
            )?;
            continue;
        }
        files.sort_by(|a, b| {
            let start = |list: &Vec<usize>| nodes[list[0]].start_line;
            a.0.cmp(&b.0).then(start(&a.1).cmp(&start(&b.1)))
        });
        for (file, list) in &files {
            let (flat, cum) = list.iter().fold((0i64, 0i64), |(f, c), &i| {
                (f.wrapping_add(values[i].0), c.wrapping_add(values[i].1))
            });
            writeln!(
                out,
                "ROUTINE ======================== {} in {}",
                crate::progress::printable(name),
                crate::progress::printable(file)
            )?;
            writeln!(
                out,
                "{:>10} {:>10} (flat, cum) {} of Total",
                format(flat),
                format(cum),
                percentage(cum, total)
            )?;
            match source_lines(&nodes, &values, list, file, &mut reader) {
                Ok(lines) => {
                    for (line, flat, cum, text) in lines {
                        // Tabs stay (source is indented with them); other
                        // control characters are shown escaped.
                        let text: String = text
                            .split('\t')
                            .map(|part| crate::progress::printable(part).into_owned())
                            .collect::<Vec<_>>()
                            .join("\t");
                        writeln!(out, "{:>10} {:>10} {line:>6}:{text}", dot(flat), dot(cum))?;
                    }
                }
                Err(error) => writeln!(out, " Error: {error}")?,
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The search path: the given directories (or the current one), then
/// `$GOROOT/src` for Go's own sources.
fn search_path(sources: &SourceOptions) -> String {
    let mut dirs: Vec<String> = match sources.source_path.is_empty() {
        true => std::env::current_dir()
            .into_iter()
            .map(|d| d.display().to_string())
            .collect(),
        false => sources
            .source_path
            .iter()
            .map(|d| d.display().to_string())
            .collect(),
    };
    if let Some(goroot) = goroot() {
        let src = goroot.join("src").display().to_string();
        if !dirs.contains(&src) {
            dirs.push(src);
        }
    }
    std::env::join_paths(&dirs)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| dirs.join(":"))
}

/// Go's installation: `$GOROOT`, else what `go env GOROOT` says.
fn goroot() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("GOROOT").filter(|r| !r.is_empty()) {
        return Some(PathBuf::from(root));
    }
    let output = std::process::Command::new("go")
        .args(["env", "GOROOT"])
        .output()
        .ok()?;
    let root = String::from_utf8(output.stdout).ok()?;
    let root = root.trim();
    (output.status.success() && !root.is_empty()).then(|| PathBuf::from(root))
}

/// Every source line the samples pass through, in pprof's graph order
/// (locations in profile order, each one's lines innermost first), with
/// (flat, cum): flat for the line a sample ends at, cum once per stack.
fn line_values(
    profile: &Profile,
    index: usize,
    fold: &FoldOptions,
    clean: impl Fn(&str) -> String,
) -> (Vec<LineNode>, Vec<(i64, i64)>) {
    let mut nodes: Vec<LineNode> = Vec::new();
    let mut ids: HashMap<LineNode, usize> = HashMap::new();
    let mut cleaned: HashMap<usize, String> = HashMap::new();
    // Per location: its lines' nodes, innermost first.
    let mut of_location: Vec<Vec<usize>> = Vec::with_capacity(profile.locations.len());
    for location in &profile.locations {
        let mut list = Vec::new();
        for line in crate::fold::shown_lines(location, fold.no_inlines) {
            let Some(function) = line.function.map(|f| &profile.functions[f]) else {
                continue;
            };
            let file = cleaned
                .entry(line.function.unwrap_or(0))
                .or_insert_with(|| clean(&function.filename))
                .clone();
            let node = LineNode {
                function: function.name.clone(),
                file,
                line: line.line,
                start_line: function.start_line,
            };
            let id = *ids.entry(node.clone()).or_insert_with(|| {
                nodes.push(node);
                nodes.len() - 1
            });
            list.push(id);
        }
        of_location.push(list);
    }
    let mut values = vec![(0i64, 0i64); nodes.len()];
    let mut seen = vec![usize::MAX; nodes.len()];
    for (sample_number, sample) in profile.samples.iter().enumerate() {
        let value = sample.values.get(index).copied().unwrap_or(0);
        if value == 0 {
            continue;
        }
        let mut leaf = None;
        for &location in sample.locations.iter().rev() {
            for &node in of_location[location as usize].iter().rev() {
                if seen[node] != sample_number {
                    seen[node] = sample_number;
                    values[node].1 = values[node].1.wrapping_add(value);
                }
                leaf = Some(node);
            }
        }
        if let Some(leaf) = leaf {
            values[leaf].0 = values[leaf].0.wrapping_add(value);
        }
    }
    (nodes, values)
}

/// The lines to show of `file`: (line, flat, cum, text).
fn source_lines(
    nodes: &[LineNode],
    values: &[(i64, i64)],
    members: &[usize],
    file: &str,
    reader: &mut SourceReader,
) -> Result<Vec<(i64, i64, i64, String)>, String> {
    let first = &nodes[members[0]];
    let mut start = match first.start_line {
        0 => first.line - MARGIN,
        start => start,
    };
    let mut end = first.line + MARGIN;
    let mut by_line: HashMap<i64, (i64, i64)> = HashMap::new();
    for &member in members {
        let node = &nodes[member];
        let node_start = match node.start_line {
            0 => node.line - MARGIN,
            start => start,
        };
        let node_end = node.line + MARGIN;
        // pprof's own test, `else` included.
        if node_start < start {
            start = node_start;
        } else if node_end > end {
            end = node_end;
        }
        let sums = by_line.entry(node.line).or_default();
        sums.0 = sums.0.wrapping_add(values[member].0);
        sums.1 = sums.1.wrapping_add(values[member].1);
    }
    let start = start.max(1);
    let mut out = Vec::new();
    for line in start..=end {
        let Some(text) = reader.line(file, line) else {
            break;
        };
        let (flat, cum) = by_line.get(&line).copied().unwrap_or_default();
        out.push((line, flat, cum, text));
    }
    match reader.error(file) {
        Some(error) => Err(error),
        None => Ok(out),
    }
}

/// Source files, read once each.
struct SourceReader {
    search: String,
    trim: String,
    files: HashMap<String, Result<Vec<String>, String>>,
}

impl SourceReader {
    fn new(search: String, trim: String) -> Self {
        SourceReader {
            search,
            trim,
            files: HashMap::new(),
        }
    }

    fn load(&mut self, file: &str) -> &Result<Vec<String>, String> {
        if !self.files.contains_key(file) {
            let read = open_source(file, &self.search, &self.trim)
                .map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>());
            self.files.insert(file.to_owned(), read);
        }
        &self.files[file]
    }

    /// Line `number` (from 1) of `file`, if the file was found and has it.
    fn line(&mut self, file: &str, number: i64) -> Option<String> {
        let lines = self.load(file).as_ref().ok()?;
        let at = usize::try_from(number).ok()?.checked_sub(1)?;
        lines.get(at).cloned()
    }

    fn error(&mut self, file: &str) -> Option<String> {
        self.load(file).as_ref().err().cloned()
    }
}

/// The text of `file`, found as pprof finds it.
fn open_source(file: &str, search: &str, trim: &str) -> Result<String, String> {
    let path = trim_path(file, trim, search);
    let read = |p: &Path| {
        std::fs::read(p)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    if Path::new(&path).is_absolute() {
        return read(Path::new(&path))
            .ok_or_else(|| format!("open {path}: no such file or directory"));
    }
    for dir in std::env::split_paths(search) {
        let mut dir = dir.as_path();
        loop {
            if let Some(text) = read(&dir.join(&path)) {
                return Ok(text);
            }
            match dir.parent() {
                Some(parent) if parent != dir => dir = parent,
                _ => break,
            }
        }
    }
    Err(format!("could not find file {path} on path {search}"))
}

/// pprof's `trimPath`: without a trim prefix, everything up to and
/// including `/NAME/` where NAME ends a search directory; then any given
/// prefix (and `/proc/self/cwd/`).
fn trim_path(path: &str, trim: &str, search: &str) -> String {
    let slashed = path.replace('\\', "/");
    if trim.is_empty() {
        for dir in std::env::split_paths(search) {
            let Some(base) = dir.file_name().and_then(|b| b.to_str()) else {
                continue;
            };
            let want = format!("/{base}/");
            if let Some(found) = slashed.find(&want) {
                return path[found + want.len()..].to_owned();
            }
        }
    }
    let mut prefixes: Vec<String> = trim
        .split(':')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    prefixes.push("/proc/self/cwd/./".into());
    prefixes.push("/proc/self/cwd/".into());
    for mut prefix in prefixes {
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        if slashed.starts_with(&prefix) {
            return path[prefix.len()..].to_owned();
        }
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_trimmed_as_pprof_trims_them() {
        assert_eq!(
            trim_path("/remote/my-project/foo/bar.go", "", "/local/my-project"),
            "foo/bar.go"
        );
        assert_eq!(
            trim_path("example.com/mod/pkg/f.go", "example.com/mod", "/x"),
            "pkg/f.go"
        );
        assert_eq!(trim_path("/proc/self/cwd/a.go", "", "/x"), "a.go");
        assert_eq!(trim_path("runtime/proc.go", "", "/x"), "runtime/proc.go");
    }
}
