//! pprof's removal of uninteresting frames: a profile's `drop_frames` and
//! `keep_frames` expressions, applied before any report (google/pprof's
//! `Profile.RemoveUninteresting` and `Profile.Prune`).
//!
//! - The expressions are anchored, `^(…)$`, and matched against a frame's
//!   function name simplified as pprof does ([`simplify_func`]: a leading `.`
//!   and everything from the first `(` are removed, so
//!   `runtime.(*mheap).alloc` is matched as `runtime.`). A name matching
//!   `keep_frames` is never dropped. Without `drop_frames` nothing happens.
//! - Each location is looked at once, from its outermost line inward: at the
//!   first line whose function matches, the location is marked. If that is
//!   the outermost line the whole location is to be dropped; otherwise it
//!   keeps only the lines outside the match (in every sample that has it).
//! - Each sample is then scanned from the root. Frames before the first
//!   non-matching ("user") frame are never cut; at the first marked location
//!   after it, the stack is cut: a dropped location goes with everything
//!   leafward, a trimmed one stays as the new leaf.
//!
//! One deliberate difference: a location without any function name (not yet
//! symbolized, such as the frames a `?debug=1` text profile does not name) is
//! not taken as the first user frame, because nothing says it is one; pprof
//! would take it as one. It never matches either, exactly as in pprof. With
//! every location named, the result is pprof's. Without the difference, a
//! legacy heap profile read without its binary would be cut to its unnamed
//! `runtime.goexit` root: that frame would count as "user", and the named
//! `runtime.main` after it would match `runtime\..*` and take the whole stack.

use std::borrow::Cow;
use std::collections::HashMap;

use regex::Regex;

use super::Profile;

/// A `drop_frames` or `keep_frames` expression that does not compile.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "the profile's {field} expression {pattern:?} is not a valid regular expression: {message}"
)]
pub struct FrameRegexError {
    pub field: &'static str,
    pub pattern: String,
    pub message: String,
}

/// Applies the profile's own `drop_frames` / `keep_frames` to it, as pprof
/// does before every report.
pub fn remove_uninteresting(profile: &mut Profile) -> Result<(), FrameRegexError> {
    let Some((drop, keep)) = compile(profile)? else {
        return Ok(());
    };
    prune(profile, &drop, keep.as_ref());
    Ok(())
}

/// The profile as pprof reports it: pruned when it carries `drop_frames`,
/// borrowed untouched otherwise. An expression that does not compile leaves
/// the profile untouched, as pprof ignores the error too.
pub fn pruned(profile: &Profile) -> Cow<'_, Profile> {
    match compile(profile) {
        Ok(Some((drop, keep))) => {
            let mut owned = profile.clone();
            prune(&mut owned, &drop, keep.as_ref());
            Cow::Owned(owned)
        }
        Ok(None) | Err(_) => Cow::Borrowed(profile),
    }
}

fn compile(profile: &Profile) -> Result<Option<(Regex, Option<Regex>)>, FrameRegexError> {
    let Some(drop) = profile.drop_frames.as_deref().filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let drop = anchored("drop_frames", drop)?;
    let keep = match profile.keep_frames.as_deref().filter(|k| !k.is_empty()) {
        Some(keep) => Some(anchored("keep_frames", keep)?),
        None => None,
    };
    Ok(Some((drop, keep)))
}

fn anchored(field: &'static str, pattern: &str) -> Result<Regex, FrameRegexError> {
    Regex::new(&format!("^({pattern})$")).map_err(|e| FrameRegexError {
        field,
        pattern: pattern.to_owned(),
        message: e.to_string(),
    })
}

/// Removes the frames `drop` matches (and `keep` does not), as described in
/// the module documentation.
pub fn prune(profile: &mut Profile, drop: &Regex, keep: Option<&Regex>) {
    let mut verdicts: HashMap<String, bool> = HashMap::new();
    let functions = &profile.functions;
    let mut drops = |name: &str| -> bool {
        if let Some(&verdict) = verdicts.get(name) {
            return verdict;
        }
        let simple = simplify_func(name);
        let verdict = drop.is_match(simple) && !keep.is_some_and(|k| k.is_match(simple));
        verdicts.insert(name.to_owned(), verdict);
        verdict
    };
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        /// No line matches; `named` says whether any line has a name.
        Keep { named: bool },
        /// The outermost matching line is not the outermost line: the
        /// location keeps its outer lines and ends the stack.
        Trim,
        /// The outermost line matches: the location and all leafward go.
        Drop,
    }
    let mut marks = Vec::with_capacity(profile.locations.len());
    for location in &mut profile.locations {
        let name_of = |line: &super::Line| {
            line.function
                .map(|f| functions[f].name.as_str())
                .filter(|name| !name.is_empty())
        };
        let named = location.lines.iter().any(|line| name_of(line).is_some());
        let matched = location
            .lines
            .iter()
            .rposition(|line| name_of(line).is_some_and(&mut drops));
        marks.push(match matched {
            None => Mark::Keep { named },
            Some(i) if i + 1 == location.lines.len() => Mark::Drop,
            Some(i) => {
                location.lines.drain(..=i);
                Mark::Trim
            }
        });
    }
    if marks.iter().all(|mark| matches!(mark, Mark::Keep { .. })) {
        return;
    }
    profile.samples.edit(|sample| {
        let mut found_user = false;
        // Locations are leaf first; scan from the root.
        for i in (0..sample.locations.len()).rev() {
            match marks[sample.locations[i] as usize] {
                Mark::Keep { named } => found_user |= named,
                _ if !found_user => {}
                Mark::Drop => {
                    sample.locations.drain(..=i);
                    break;
                }
                Mark::Trim => {
                    sample.locations.drain(..i);
                    break;
                }
            }
        }
        true
    });
}

/// pprof's `simplifyFunc`: drops a leading `.` (PPC64 ELFv1 symbols) and
/// everything from the first `(` that does not start one of the reserved
/// C++ names `(anonymous namespace)` and `operator()`.
pub fn simplify_func(name: &str) -> &str {
    const RESERVED: [&str; 2] = ["(anonymous namespace)", "operator()"];
    let name = name.strip_prefix('.').unwrap_or(name);
    let mut at = 0;
    while at < name.len() {
        let rest = &name[at..];
        if let Some(reserved) = RESERVED.iter().find(|r| rest.starts_with(*r)) {
            at += reserved.len();
        } else if rest.starts_with('(') {
            return &name[..at];
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Function, Line, Location, Sample};

    /// A profile whose locations each hold the named functions (outermost
    /// last), and samples listing location indices leaf first.
    fn profile(locations: &[&[&str]], samples: &[&[usize]]) -> Profile {
        let mut p = Profile::default();
        for names in locations {
            let mut lines = Vec::new();
            for name in *names {
                let index = p
                    .functions
                    .iter()
                    .position(|f| f.name == *name)
                    .unwrap_or_else(|| {
                        p.functions.push(Function {
                            name: (*name).into(),
                            ..Function::default()
                        });
                        p.functions.len() - 1
                    });
                lines.push(Line {
                    function: Some(index),
                    line: 1,
                });
            }
            p.locations.push(Location {
                lines,
                ..Location::default()
            });
        }
        for s in samples {
            p.samples.push(Sample {
                locations: s.iter().map(|&l| l as u32).collect(),
                values: vec![1],
                labels: Vec::new(),
            });
        }
        p
    }

    fn stacks(p: &Profile) -> Vec<Vec<String>> {
        p.samples
            .iter()
            .map(|s| {
                s.locations
                    .iter()
                    .rev()
                    .map(|&l| {
                        let names: Vec<&str> = p.locations[l as usize]
                            .lines
                            .iter()
                            .rev()
                            .map(|line| p.functions[line.function.unwrap()].name.as_str())
                            .collect();
                        if names.is_empty() {
                            format!("#{l}")
                        } else {
                            names.join("+")
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn run(p: &mut Profile, drop: &str, keep: Option<&str>) {
        p.drop_frames = Some(drop.into());
        p.keep_frames = keep.map(Into::into);
        remove_uninteresting(p).unwrap();
    }

    #[test]
    fn simplifies_like_pprof() {
        assert_eq!(simplify_func("runtime.(*mheap).alloc"), "runtime.");
        assert_eq!(simplify_func("main.main"), "main.main");
        assert_eq!(simplify_func(".foo(int)"), "foo");
        assert_eq!(
            simplify_func("(anonymous namespace)::f(int)"),
            "(anonymous namespace)::f"
        );
        assert_eq!(simplify_func("A::operator()(int)"), "A::operator()");
        assert_eq!(simplify_func("é(x"), "é");
    }

    #[test]
    fn cuts_at_the_first_match_after_a_user_frame() {
        // root: runtime.goexit, runtime.main, main.main, main.f, runtime.mallocgc, runtime.x
        let mut p = profile(
            &[
                &["runtime.x"],
                &["runtime.mallocgc"],
                &["main.f"],
                &["main.main"],
                &["runtime.main"],
                &["runtime.goexit"],
            ],
            &[&[0, 1, 2, 3, 4, 5], &[4, 5]],
        );
        run(&mut p, "runtime\\..*", None);
        assert_eq!(
            stacks(&p),
            [
                vec!["runtime.goexit", "runtime.main", "main.main", "main.f"],
                vec!["runtime.goexit", "runtime.main"],
            ]
        );
    }

    #[test]
    fn keep_frames_and_anchoring() {
        let mut p = profile(
            &[
                &["runtime.mallocgc"],
                &["runtime.panicmem"],
                &["main.f"],
                &["xruntime.y"],
            ],
            &[&[0, 1, 2, 3]],
        );
        run(&mut p, "runtime\\..*", Some("runtime\\.panic.*"));
        // `xruntime.y` does not match the anchored expression; panicmem is kept.
        assert_eq!(
            stacks(&p),
            [vec!["xruntime.y", "main.f", "runtime.panicmem"]]
        );
    }

    #[test]
    fn inlined_match_trims_the_location() {
        // One location: runtime.inner inlined into main.outer.
        let mut p = profile(
            &[
                &["leaf.fn"],
                &["runtime.inner", "main.outer"],
                &["main.main"],
            ],
            &[&[0, 1, 2]],
        );
        run(&mut p, "runtime\\..*", None);
        assert_eq!(stacks(&p), [vec!["main.main", "main.outer"]]);
        assert_eq!(p.locations[1].lines.len(), 1);
    }

    #[test]
    fn unnamed_locations_are_not_user_frames() {
        // #0 unnamed root (goexit in a text profile), unnamed leaves.
        let mut p = profile(
            &[&[], &["runtime.main"], &["main.main"], &[]],
            &[&[3, 2, 1, 0]],
        );
        run(&mut p, "runtime\\..*", None);
        assert_eq!(stacks(&p), [vec!["#0", "runtime.main", "main.main", "#3"]]);
    }

    #[test]
    fn bad_expressions_are_errors_and_pruned_ignores_them() {
        let mut p = profile(&[&["a.b"]], &[&[0]]);
        p.drop_frames = Some("(".into());
        let err = remove_uninteresting(&mut p.clone()).unwrap_err();
        assert_eq!(err.field, "drop_frames");
        assert!(matches!(pruned(&p), Cow::Borrowed(_)));
        p.drop_frames = None;
        assert!(matches!(pruned(&p), Cow::Borrowed(_)));
    }
}
