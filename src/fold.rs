//! Profiles → folded stacks (`root;child;leaf value`) for one sample type.
//!
//! Owns the choice of sample type (pprof's rules), the walk from root to leaf
//! over locations and their inlined lines, and the cleaning of frame names so
//! they survive the folded text format.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use crate::profile::{Line, Location, Profile, ValueType};

/// Which sample type to fold, as the user asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SampleSelection {
    /// The profile's `default_sample_type`, else its last sample type.
    #[default]
    Default,
    /// By name (`alloc_space`) or, when it parses as one, by position (`0`).
    Named(String),
}

/// How to reduce the sample values of the chosen type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FoldOptions {
    pub selection: SampleSelection,
    /// Show the mean value per event: the chosen value divided by the first
    /// sample type (pprof's `-mean`; `-mean_delay` is `delay` with this).
    pub mean: bool,
    /// Name frames `function file:line`, one frame per source line (pprof's
    /// `-lines`), instead of by function.
    pub lines: bool,
    /// Leave inlined frames out, keeping the function each address
    /// physically belongs to (pprof's `-noinlines`).
    pub no_inlines: bool,
    /// Name inlined frames `name (inline)`, so a flame graph can show them
    /// apart. Off for folded text, which keeps pprof's names.
    pub mark_inlined: bool,
}

/// Folded stacks of one sample type, sorted by stack, zero values left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    pub sample_type: ValueType,
    pub mean: bool,
    pub stacks: Vec<(String, i64)>,
    /// The total pprof reports for this sample type: the sum of the values'
    /// sizes over all samples, including those without a stack; for a mean,
    /// that sum over the total events.
    pub total: i64,
}

/// Shown for samples recorded without any stack (goroutine profiles have
/// them), so the flame graph's total still matches pprof's.
pub const NO_STACK_FRAME: &str = "[no stack]";

/// Added to a frame's name, when drawing, if the function was inlined
/// into its caller (pprof's `-traces` mark).
pub const INLINE_MARK: &str = " (inline)";

/// A frame about which the profile says nothing (pprof's name for it too).
pub const UNKNOWN_FRAME: &str = "<unknown>";

/// Why a fold could not be done.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FoldError {
    #[error("unknown sample type {asked:?}; this profile has: {available}")]
    UnknownSampleType { asked: String, available: String },
    #[error("--mean needs a count as the first sample type, and the profile has only one type")]
    MeanWithoutCount,
}

/// Picks the sample type index `selection` names in `profile`.
pub fn select_sample_type(
    profile: &Profile,
    selection: &SampleSelection,
) -> Result<usize, FoldError> {
    match selection {
        SampleSelection::Default => Ok(profile.default_sample_type_index()),
        SampleSelection::Named(asked) => profile
            .sample_type_index(asked)
            .or_else(|| {
                asked
                    .parse()
                    .ok()
                    .filter(|&i| i < profile.sample_types.len())
            })
            .ok_or_else(|| FoldError::UnknownSampleType {
                asked: asked.clone(),
                available: profile.sample_type_names(),
            }),
    }
}

/// Folds `profile`'s samples into stacks of the chosen sample type.
pub fn fold(profile: &Profile, options: &FoldOptions) -> Result<Folded, FoldError> {
    // pprof prunes the profile's drop_frames before any report.
    let pruned = crate::profile::pruned(profile);
    let profile: &Profile = pruned.as_ref();
    let index = select_sample_type(profile, &options.selection)?;
    if options.mean && index == 0 {
        return Err(FoldError::MeanWithoutCount);
    }
    let frames = location_frames(profile, options);
    let mut sums: HashMap<String, (i64, i64)> = HashMap::new();
    let (mut total, mut total_events) = (0i64, 0i64);
    let mut stack = String::new();
    for sample in &profile.samples {
        let value = sample.values[index];
        let events = if options.mean { sample.values[0] } else { 0 };
        // pprof's total counts negative values (delta and diff profiles)
        // by their size.
        total = total.saturating_add(value.saturating_abs());
        total_events = total_events.saturating_add(events);
        build_stack(&mut stack, &sample.locations, &frames);
        let entry = match sums.get_mut(stack.as_str()) {
            Some(entry) => entry,
            None => sums.entry(stack.clone()).or_default(),
        };
        entry.0 = entry.0.saturating_add(value);
        entry.1 = entry.1.saturating_add(events);
    }
    let mut stacks: Vec<(String, i64)> = sums
        .into_iter()
        .map(|(stack, (value, events))| (stack, reduce(value, events, options.mean)))
        .filter(|&(_, value)| value != 0)
        .collect();
    stacks.sort_unstable();
    Ok(Folded {
        sample_type: profile.sample_types[index].clone(),
        mean: options.mean,
        stacks,
        total: reduce(total, total_events, options.mean),
    })
}

/// A value, or a mean per event truncated like pprof's integer division.
fn reduce(value: i64, events: i64, mean: bool) -> i64 {
    match (mean, events) {
        (false, _) => value,
        (true, 0) => 0,
        (true, events) => value / events,
    }
}

/// Each location's frames as folded text, root-side first (`outer;inlined`).
fn location_frames(profile: &Profile, options: &FoldOptions) -> Vec<String> {
    profile
        .locations
        .iter()
        .map(|location| {
            // The last line is the function the code physically belongs to.
            let lines = match options.no_inlines {
                true => &location.lines[location.lines.len().saturating_sub(1)..],
                false => &location.lines[..],
            };
            location_frame_text(profile, location, lines, options)
        })
        .collect()
}

/// `function file:line` as pprof names a frame with `-lines`: the line when
/// known, else the file, else the function alone.
fn line_frame_name(function: &crate::profile::Function, line: i64) -> String {
    match (function.filename.as_str(), line) {
        ("", _) => function.name.clone(),
        (file, 0) => format!("{} {file}", function.name),
        (file, line) => format!("{} {file}:{line}", function.name),
    }
}

/// Named lines become frames; a line without a name shows as `<unknown>`,
/// as pprof shows it. A location with no name at all shows its address,
/// unless that is 0 or Go's all-ones padding, which mean nothing either.
fn location_frame_text(
    profile: &Profile,
    location: &Location,
    lines: &[Line],
    options: &FoldOptions,
) -> String {
    let names: Vec<Option<Cow<str>>> = lines
        .iter()
        .rev()
        .map(|line| {
            let function = &profile.functions[line.function?];
            if function.name.is_empty() {
                return None;
            }
            Some(match options.lines {
                true => {
                    Cow::Owned(clean_frame_name(&line_frame_name(function, line.line)).into_owned())
                }
                false => clean_frame_name(&function.name),
            })
        })
        .collect();
    if names.iter().all(Option::is_none) {
        let frame = match location.address {
            0 | u64::MAX => UNKNOWN_FRAME.to_owned(),
            address => format!("0x{address:x}"),
        };
        return vec![frame; names.len().max(1)].join(";");
    }
    let mut text = String::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            text.push(';');
        }
        text.push_str(name.as_deref().unwrap_or(UNKNOWN_FRAME));
        // Every line but the outermost was inlined into the one before.
        if i > 0 && options.mark_inlined {
            text.push_str(INLINE_MARK);
        }
    }
    text
}

/// Joins a sample's locations (leaf first in the profile) root first.
fn build_stack(stack: &mut String, locations: &[usize], frames: &[String]) {
    stack.clear();
    for (i, &location) in locations.iter().rev().enumerate() {
        if i > 0 {
            stack.push(';');
        }
        stack.push_str(&frames[location]);
    }
    if stack.is_empty() {
        stack.push_str(NO_STACK_FRAME);
    }
}

/// Makes a function name safe as one frame of a folded line: `;` separates
/// frames (Go generic shapes contain `; `), control characters would break
/// lines, and a trailing ` <digits>` would be read as the sample count.
pub fn clean_frame_name(name: &str) -> Cow<'_, str> {
    let needs_work =
        name.contains(|c: char| c == ';' || c.is_control()) || ends_with_space_digits(name);
    if !needs_work {
        return Cow::Borrowed(name);
    }
    let mut cleaned: String = name
        .chars()
        .map(|c| match c {
            ';' => ':',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if ends_with_space_digits(&cleaned) {
        let space = cleaned.rfind(' ').expect("checked above");
        cleaned.replace_range(space..=space, "_");
    }
    Cow::Owned(cleaned)
}

fn ends_with_space_digits(name: &str) -> bool {
    let bytes = name.as_bytes();
    let digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    digits > 0 && bytes.len() > digits && bytes[bytes.len() - digits - 1] == b' '
}

/// Writes `stack value` lines, one per stack.
pub fn write_folded(folded: &Folded, mut out: impl Write) -> io::Result<()> {
    for (stack, value) in &folded.stacks {
        writeln!(out, "{stack} {value}")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Function, Sample};

    /// `main.main` calling an inlined `main.helper`, plus a sample with no
    /// stack and one with an unnamed location.
    fn profile() -> Profile {
        let named = |name: &str| Function {
            name: name.into(),
            ..Function::default()
        };
        let line = |function| Line {
            function: Some(function),
            line: 1,
        };
        let sample = |locations: Vec<usize>, values: Vec<i64>| Sample {
            locations,
            values,
            labels: Vec::new(),
        };
        Profile {
            sample_types: vec![
                ValueType {
                    name: "contentions".into(),
                    unit: "count".into(),
                },
                ValueType {
                    name: "delay".into(),
                    unit: "nanoseconds".into(),
                },
            ],
            functions: vec![named("main.main"), named("main.helper")],
            locations: vec![
                Location {
                    address: 0x1000,
                    mapping: None,
                    lines: vec![line(1), line(0)],
                },
                Location {
                    address: 0x2000,
                    mapping: None,
                    lines: Vec::new(),
                },
            ],
            samples: vec![
                sample(vec![0], vec![2, 100]),
                sample(vec![], vec![1, 7]),
                sample(vec![1, 0], vec![1, 50]),
                sample(vec![0], vec![2, 60]),
            ],
            ..Profile::default()
        }
    }

    fn fold_one(profile: &Profile, mean: bool) -> Folded {
        let options = FoldOptions {
            selection: SampleSelection::Default,
            mean,
            lines: false,
            no_inlines: false,
            mark_inlined: false,
        };
        fold(profile, &options).unwrap()
    }

    #[test]
    fn drawing_marks_inlined_frames() {
        let options = FoldOptions {
            mark_inlined: true,
            ..FoldOptions::default()
        };
        let folded = fold(&profile(), &options).unwrap();
        assert_eq!(folded.stacks[1].0, "main.main;main.helper (inline)");
        assert_eq!(folded.stacks[2].0, "main.main;main.helper (inline);0x2000");
    }

    #[test]
    fn inlined_frames_empty_stacks_and_addresses() {
        let folded = fold_one(&profile(), false);
        let want = vec![
            ("[no stack]".to_owned(), 7),
            ("main.main;main.helper".to_owned(), 160),
            ("main.main;main.helper;0x2000".to_owned(), 50),
        ];
        assert_eq!(folded.stacks, want);
        assert_eq!(folded.total, 217);
    }

    #[test]
    fn no_inlines_keeps_the_physical_function() {
        let options = FoldOptions {
            no_inlines: true,
            ..FoldOptions::default()
        };
        let folded = fold(&profile(), &options).unwrap();
        assert_eq!(folded.stacks[1], ("main.main".to_owned(), 160));
    }

    #[test]
    fn mean_divides_merged_sums() {
        let folded = fold_one(&profile(), true);
        assert_eq!(folded.stacks[1], ("main.main;main.helper".to_owned(), 40));
        assert_eq!(folded.total, 217 / 6);
    }

    #[test]
    fn names_lose_separators_and_trailing_counts() {
        assert_eq!(
            clean_frame_name("slices.SortFunc[go.shape.struct { a string; b []int }]"),
            "slices.SortFunc[go.shape.struct { a string: b []int }]"
        );
        assert_eq!(clean_frame_name("weird 123"), "weird_123");
        assert_eq!(clean_frame_name("line\nbreak 7"), "line break_7");
        assert_eq!(clean_frame_name("main.main"), "main.main");
        assert_eq!(clean_frame_name("123"), "123");
    }
}
