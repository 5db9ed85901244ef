//! pprof's sample filters by function name: `--focus`, `--ignore`,
//! `--hide`, `--show`, `--show-from` and `--prune-from`, applied to the
//! profile before folding, with pprof's semantics (see google/pprof's
//! `FilterSamplesByName`, `ShowFrom` and `PruneFrom`). A regex matches a
//! frame when it matches the function's name or file, or the mapping's file.

use regex::Regex;

use crate::profile::{Line, Location, Profile};
use crate::tags::{self, TagFilter};

/// The filters a run asks for; all empty by default.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Keep only samples with a matching frame.
    pub focus: Option<Regex>,
    /// Drop samples with a matching frame.
    pub ignore: Option<Regex>,
    /// Remove matching frames from stacks.
    pub hide: Option<Regex>,
    /// Keep only matching frames in stacks.
    pub show: Option<Regex>,
    /// Start stacks at the root-most matching frame.
    pub show_from: Option<Regex>,
    /// Cut stacks below (leafward of) the leaf-most matching frame.
    pub prune_from: Option<Regex>,
    /// Keep only samples whose labels match (see [`crate::tags`]).
    pub tag_focus: Option<TagFilter>,
    /// Drop samples whose labels match.
    pub tag_ignore: Option<TagFilter>,
    /// Keep only labels whose key matches.
    pub tag_show: Option<Regex>,
    /// Drop labels whose key matches.
    pub tag_hide: Option<Regex>,
    /// Label keys made frames above each stack, outermost first.
    pub tag_root: Vec<String>,
    /// Label keys made frames below each stack, innermost last.
    pub tag_leaf: Vec<String>,
}

impl PartialEq for Filters {
    fn eq(&self, other: &Self) -> bool {
        let text = |f: &Filters| {
            [
                &f.focus,
                &f.ignore,
                &f.hide,
                &f.show,
                &f.show_from,
                &f.prune_from,
                &f.tag_show,
                &f.tag_hide,
            ]
            .map(|r| r.as_ref().map(|r| r.as_str().to_owned()))
        };
        text(self) == text(other)
            && self.tag_focus == other.tag_focus
            && self.tag_ignore == other.tag_ignore
            && self.tag_root == other.tag_root
            && self.tag_leaf == other.tag_leaf
    }
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// A profile's totals before its filters, to say what share is left.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Unfiltered {
    /// Per sample type: the sum of the values' sizes (pprof's total).
    pub abs_sums: Vec<i64>,
    /// The summed event counts (sample type 0), for means.
    pub events: i64,
    /// The filters, as the command line gave them (`focus=Hash`).
    pub filters: String,
}

impl Unfiltered {
    /// The totals of `profile`, about to be filtered by `filters`; `None`
    /// when there are no filters.
    pub fn of(profile: &Profile, filters: &Filters) -> Option<Unfiltered> {
        let described = filters.describe();
        if described.is_empty() {
            return None;
        }
        let mut abs_sums = vec![0i64; profile.sample_types.len()];
        let mut events = 0i64;
        for sample in &profile.samples {
            for (sum, value) in abs_sums.iter_mut().zip(sample.values) {
                *sum = sum.saturating_add(value.saturating_abs());
            }
            events = events.saturating_add(sample.values.first().copied().unwrap_or(0));
        }
        Some(Unfiltered {
            abs_sums,
            events,
            filters: described,
        })
    }
}

impl Unfiltered {
    /// pprof's total of each sample type before the filters (per event,
    /// for `mean`), which its percentages are of.
    pub fn totals(&self, mean: bool) -> Vec<i64> {
        self.abs_sums
            .iter()
            .map(|&sum| match (mean, self.events) {
                (true, events) if events != 0 => sum.wrapping_div(events),
                _ => sum,
            })
            .collect()
    }
}

impl Filters {
    /// The filters pprof lists under `Active filters:`, in its order and
    /// words (`focus=Marshal`); prune_from and the label frames are not
    /// among them.
    pub fn active(&self) -> Vec<String> {
        let mut active = Vec::new();
        for (name, re) in [
            ("focus", &self.focus),
            ("ignore", &self.ignore),
            ("hide", &self.hide),
            ("show", &self.show),
            ("show_from", &self.show_from),
        ] {
            if let Some(re) = re {
                active.push(format!("{name}={}", re.as_str()));
            }
        }
        for (name, filter) in [
            ("tagfocus", &self.tag_focus),
            ("tagignore", &self.tag_ignore),
        ] {
            if let Some(filter) = filter {
                active.push(format!("{name}={}", filter.as_str()));
            }
        }
        for (name, re) in [("tagshow", &self.tag_show), ("taghide", &self.tag_hide)] {
            if let Some(re) = re {
                active.push(format!("{name}={}", re.as_str()));
            }
        }
        active
    }

    /// `focus=Hash, tagfocus=op=scan`: the filters set, as typed.
    pub fn describe(&self) -> String {
        let regexes = [
            ("focus", &self.focus),
            ("ignore", &self.ignore),
            ("hide", &self.hide),
            ("show", &self.show),
            ("show_from", &self.show_from),
            ("prune_from", &self.prune_from),
            ("tagshow", &self.tag_show),
            ("taghide", &self.tag_hide),
        ];
        let mut parts: Vec<String> = regexes
            .iter()
            .filter_map(|(name, re)| re.as_ref().map(|re| format!("{name}={}", re.as_str())))
            .collect();
        for (name, filter) in [
            ("tagfocus", &self.tag_focus),
            ("tagignore", &self.tag_ignore),
        ] {
            if let Some(filter) = filter {
                parts.push(format!("{name}={}", filter.as_str()));
            }
        }
        for (name, keys) in [("tagroot", &self.tag_root), ("tagleaf", &self.tag_leaf)] {
            if !keys.is_empty() {
                parts.push(format!("{name}={}", keys.join(",")));
            }
        }
        parts.join(", ")
    }
}

/// Applies `filters` to `profile`, in pprof's order: label frames, names,
/// show-from, labels, prune-from; returns a note for each filter that
/// matched nothing, as pprof warns.
pub fn apply(profile: &mut Profile, filters: &Filters) -> Vec<String> {
    let mut unmatched = Vec::new();
    let (rooted, leafed) = tags::add_label_frames(profile, &filters.tag_root, &filters.tag_leaf);
    for (matched, option, keys) in [
        (rooted, "tag-root", &filters.tag_root),
        (leafed, "tag-leaf", &filters.tag_leaf),
    ] {
        if !matched && !keys.is_empty() {
            unmatched.push(format!(
                "--{option} {:?}: no sample has the label",
                keys.join(",")
            ));
        }
    }
    let mut note = |matched: bool, option: &str, re: &Option<Regex>| {
        if let (false, Some(re)) = (matched, re) {
            unmatched.push(format!("--{option} {:?} matched no frame", re.as_str()));
        }
    };
    let (focused, ignored, hidden, shown) = by_name(profile, filters);
    note(focused, "focus", &filters.focus);
    note(ignored, "ignore", &filters.ignore);
    note(hidden, "hide", &filters.hide);
    note(shown, "show", &filters.show);
    if let Some(re) = &filters.show_from {
        let matched = show_from(profile, re);
        note(matched, "show-from", &filters.show_from);
    }
    let (tag_focus, tag_ignore) = (filters.tag_focus.as_ref(), filters.tag_ignore.as_ref());
    let (focused, ignored) = tags::filter_samples(profile, tag_focus, tag_ignore);
    let (tag_show, tag_hide) = (filters.tag_show.as_ref(), filters.tag_hide.as_ref());
    let (shown, hidden) = tags::filter_labels(profile, tag_show, tag_hide);
    if let Some(re) = &filters.prune_from {
        let matched = prune_from(profile, re);
        note(matched, "prune-from", &filters.prune_from);
    }
    for (matched, option, text) in [
        (focused, "tagfocus", tag_focus.map(TagFilter::as_str)),
        (ignored, "tagignore", tag_ignore.map(TagFilter::as_str)),
        (shown, "tagshow", tag_show.map(Regex::as_str)),
        (hidden, "taghide", tag_hide.map(Regex::as_str)),
    ] {
        if let (false, Some(text)) = (matched, text) {
            unmatched.push(format!("--{option} {text:?} matched no label"));
        }
    }
    unmatched
}

fn line_matches(profile: &Profile, line: &Line, re: &Regex) -> bool {
    line.function.is_some_and(|f| {
        let function = &profile.functions[f];
        re.is_match(&function.name) || re.is_match(&function.filename)
    })
}

fn mapping_matches(profile: &Profile, location: &Location, re: &Regex) -> bool {
    location
        .mapping
        .is_some_and(|m| re.is_match(&profile.mappings[m].filename))
}

fn location_matches(profile: &Profile, location: &Location, re: &Regex) -> bool {
    location.lines.iter().any(|l| line_matches(profile, l, re))
        || mapping_matches(profile, location, re)
}

/// What focus and ignore decided about a location.
#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    None,
    Focused,
    Ignored,
}

/// focus, ignore, hide and show; returns whether each matched anything.
fn by_name(profile: &mut Profile, f: &Filters) -> (bool, bool, bool, bool) {
    if f.focus.is_none() && f.ignore.is_none() && f.hide.is_none() && f.show.is_none() {
        return (true, false, false, false);
    }
    let (mut fm, mut im, mut hm, mut sm) = (false, false, false, false);
    let mut verdicts = vec![Verdict::None; profile.locations.len()];
    let mut hidden = vec![false; profile.locations.len()];
    for index in 0..profile.locations.len() {
        let location = &profile.locations[index];
        if f.ignore
            .as_ref()
            .is_some_and(|re| location_matches(profile, location, re))
        {
            im = true;
            verdicts[index] = Verdict::Ignored;
        } else if f
            .focus
            .as_ref()
            .is_none_or(|re| location_matches(profile, location, re))
        {
            fm = true;
            verdicts[index] = Verdict::Focused;
        }
        if let Some(re) = &f.hide {
            if location_matches(profile, location, re) {
                hm = true;
                let keep: Vec<Line> = if mapping_matches(profile, location, re) {
                    Vec::new()
                } else {
                    let lines = &profile.locations[index].lines;
                    lines
                        .iter()
                        .filter(|l| !line_matches(profile, l, re))
                        .copied()
                        .collect()
                };
                hidden[index] = keep.is_empty();
                profile.locations[index].lines = keep;
            }
        }
        if let Some(re) = &f.show {
            let location = &profile.locations[index];
            let keep: Vec<Line> = if mapping_matches(profile, location, re) {
                location.lines.clone()
            } else {
                // Lines without a function are kept, as pprof keeps them.
                let lines = &location.lines;
                let matching = |l: &&Line| l.function.is_none() || line_matches(profile, l, re);
                lines.iter().filter(matching).copied().collect()
            };
            if keep.is_empty() {
                hidden[index] = true;
            } else {
                sm = true;
            }
            profile.locations[index].lines = keep;
        }
    }
    profile.samples.edit(|sample| {
        let mut focused = false;
        for &l in &sample.locations {
            match verdicts[l as usize] {
                Verdict::Ignored => return false,
                Verdict::Focused => focused = true,
                Verdict::None => {}
            }
        }
        if !focused {
            return false;
        }
        sample.locations.retain(|&l| !hidden[l as usize]);
        !sample.locations.is_empty()
    });
    (fm, im, hm, sm)
}

/// Keeps each sample from its root-most matching frame on; drops samples
/// without one.
fn show_from(profile: &mut Profile, re: &Regex) -> bool {
    let matching: Vec<bool> = (0..profile.locations.len())
        .map(|index| {
            let location = &profile.locations[index];
            if mapping_matches(profile, location, re) {
                return true;
            }
            // Inside the location, drop the lines rootward of the outermost match.
            let lines = &location.lines;
            let last = lines.iter().rposition(|l| line_matches(profile, l, re));
            if let Some(last) = last {
                profile.locations[index].lines.truncate(last + 1);
            }
            last.is_some()
        })
        .collect();
    profile.samples.edit(|sample| {
        // Locations are leaf first: find the root-most match.
        match sample.locations.iter().rposition(|&l| matching[l as usize]) {
            Some(at) => {
                sample.locations.truncate(at + 1);
                true
            }
            None => false,
        }
    });
    matching.contains(&true)
}

/// Cuts each sample below its leaf-most frame whose (simplified) function
/// name matches.
fn prune_from(profile: &mut Profile, re: &Regex) -> bool {
    let functions = &profile.functions;
    let prune_at: Vec<bool> = profile
        .locations
        .iter_mut()
        .map(|location| {
            let hit = location.lines.iter().position(|line| {
                line.function.is_some_and(|f| {
                    let name = &functions[f].name;
                    !name.is_empty() && re.is_match(crate::profile::simplify_func(name))
                })
            });
            if let Some(at) = hit {
                location.lines.drain(..at);
            }
            hit.is_some()
        })
        .collect();
    profile.samples.edit(|sample| {
        if let Some(at) = sample.locations.iter().position(|&l| prune_at[l as usize]) {
            sample.locations.drain(..at);
        }
        true
    });
    prune_at.contains(&true)
}
