//! Goroutine dumps as profiles: `/debug/pprof/goroutine?debug=2` (and
//! `goroutineleak?debug=2`), the output of `SIGQUIT` or
//! `GOTRACEBACK=all|system|crash`, and panic traces. The runtime's
//! traceback printer (`runtime/traceback.go`) writes one block per
//! goroutine:
//!
//! ```text
//! goroutine 7 [chan receive, 12 minutes, locked to thread]:
//! main.worker(0xc000012345, {0x4b5f0e, 0x5})
//!     /src/app/main.go:42 +0x1d   (a tab, then the position)
//! main.pool.func1(...)
//!     /src/app/pool.go:17
//! created by main.pool in goroutine 1
//!     /src/app/pool.go:15 +0x8a
//! ```
//!
//! The header may carry `gp=… m=… mp=…` (GOTRACEBACK=system and crashes),
//! ` (leaked)`, ` (scan)`, ` (durable)`, the minutes waited (only from one
//! minute on), `locked to thread`, a synctest bubble and pprof labels
//! (`{k: v}`). A frame whose arguments print as `(...)` is inlined into the
//! next one; `...N frames elided...` stands for the middle of a deep stack;
//! `non-Go function at pc=…` for C code without a symbolizer;
//! `[originating from goroutine N]:` starts ancestors' stacks, which are
//! not the goroutine's own. Anything else (log lines, the `panic:` message,
//! register dumps) is skipped.
//!
//! Each goroutine is a sample of the `goroutine/count` type, leaf first:
//! its wait reason or status as a frame (`[chan receive]`, `[running]`;
//! leaked ones `[chan receive (leaked)]`), then its frames. Labels keep
//! the minutes waited (`wait`) and the state. Goroutines with the same
//! stack, state and wait become one sample with their count.

use std::collections::HashMap;

use super::{
    DecodeError, Function, Label, LabelValue, Line, Location, Profile, Sample, SampleRef, ValueType,
};

/// What reading a dump may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpOptions {
    /// Leave out the wait reason frame.
    pub no_wait_frame: bool,
    /// Put `created by F` at the root of each goroutine's stack.
    pub created_by: bool,
}

/// The label holding how many minutes a goroutine had waited.
pub const WAIT_LABEL: &str = "wait";
/// The label holding a goroutine's state as the dump gives it.
pub const STATE_LABEL: &str = "state";

/// `--min-wait`: keeps the goroutines that have surely waited at least
/// `seconds` (the dump says whole minutes, rounded down). `false` when the
/// profile is no goroutine dump.
pub fn keep_waited(profile: &mut Profile, seconds: u64) -> bool {
    let minutes = |sample: SampleRef<'_>| {
        sample.labels.iter().find_map(|label| match &label.value {
            LabelValue::Num { value, .. } if &*label.key == WAIT_LABEL => Some(*value),
            _ => None,
        })
    };
    if !profile.samples.iter().any(|s| minutes(s).is_some()) {
        return false;
    }
    profile.samples.retain(|s| {
        minutes(s).is_some_and(|m| u64::try_from(m).unwrap_or(0).saturating_mul(60) >= seconds)
    });
    true
}

/// The states and wait reasons the runtime prints as one word, for
/// telling a wait frame (`[select]`) from a mapping's stand-in name
/// (`[vdso]`); reasons of more than one word need no list.
const ONE_WORD_STATES: [&str; 16] = [
    "idle",
    "runnable",
    "running",
    "syscall",
    "waiting",
    "dead",
    "copystack",
    "leaked",
    "preempted",
    "panicwait",
    "select",
    "semacquire",
    "sleep",
    "coroutine",
    "sync.Mutex.Lock",
    "sync.Cond.Wait",
];

/// Whether a frame name is a dump's wait frame: `[chan receive]`,
/// `[sync.WaitGroup.Wait (leaked)]`.
pub fn is_wait_frame(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) else {
        return false;
    };
    inner.contains(' ')
        || ONE_WORD_STATES.contains(&inner)
        || inner.starts_with("sync.") && inner.contains(".Wait")
        || inner.starts_with("sync.") && inner.contains(".Lock")
}

/// Whether `data` holds a goroutine dump: a goroutine header line.
pub fn sniff(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    text.lines().any(|line| parse_header(line).is_some())
}

/// A goroutine header: `goroutine N [gp=… m=… mp=…] [STATUS…]:`.
#[derive(Debug, PartialEq, Eq)]
struct Header<'a> {
    /// The status or wait reason, with ` (leaked)` and the like kept.
    state: &'a str,
    leaked: bool,
    minutes: i64,
}

fn parse_header(line: &str) -> Option<Header<'_>> {
    let rest = line.strip_prefix("goroutine ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let rest = &rest[digits..];
    let open = rest.find(" [")?;
    // Only gp=, m= and mp= may come between the id and the status.
    let between = &rest[..open];
    if !between
        .split_whitespace()
        .all(|w| ["gp=", "m=", "mp="].iter().any(|p| w.starts_with(p)))
    {
        return None;
    }
    let status = &rest[open + 2..];
    let close = status.find(']')?;
    let after = status[close + 1..].trim_end();
    // Labels, if any, then the colon.
    if !(after == ":" || (after.starts_with(" {") && after.ends_with("}:"))) {
        return None;
    }
    let mut parts = status[..close].split(", ");
    let state = parts.next()?.trim();
    let mut minutes = 0;
    for part in parts {
        if let Some(n) = part.strip_suffix(" minutes").and_then(|n| n.parse().ok()) {
            minutes = n;
        }
    }
    if state.is_empty() {
        return None;
    }
    Some(Header {
        leaked: state.contains("(leaked)"),
        state,
        minutes,
    })
}

/// A frame line: `name(args)`; `(...)` marks an inlined frame.
fn parse_call(line: &str) -> Option<(&str, bool)> {
    let line = line.trim_end();
    let body = line.strip_suffix(')')?;
    // The arguments are the last parenthesised group; they hold no
    // parentheses of their own ({…}, 0x…, ..., ?).
    let open = body.rfind('(')?;
    let name = &body[..open];
    let args = &body[open + 1..];
    if name.is_empty() || name.contains(char::is_whitespace) || args.contains(')') {
        return None;
    }
    Some((name, args == "..."))
}

/// A file line: `\tfile:line[ +0xoff][ fp=… sp=… pc=…]`.
fn parse_position(line: &str) -> Option<(&str, i64)> {
    let text = line.strip_prefix('\t')?;
    let text = text.split(" +0x").next()?.split(" fp=").next()?.trim_end();
    let colon = text.rfind(':')?;
    let number = text[colon + 1..].parse().ok()?;
    Some((&text[..colon], number))
}

/// One goroutine being read.
#[derive(Default)]
struct Goroutine {
    state: String,
    minutes: i64,
    /// (function, file, line, inlined), leaf first.
    frames: Vec<(String, String, i64, bool)>,
    created_by: Option<(String, String, i64)>,
    /// Reading ancestors' stacks, which are skipped.
    in_ancestors: bool,
    /// The last line was `created by`, whose position comes next.
    awaiting_creator: bool,
}

/// Reads a dump.
pub fn parse(data: &[u8], options: &DumpOptions) -> Result<Profile, DecodeError> {
    let text = std::str::from_utf8(data).map_err(|e| {
        DecodeError::Invalid(format!(
            "goroutine dump: not UTF-8 text at byte {}",
            e.valid_up_to()
        ))
    })?;
    let mut builder = Builder::new(options.clone());
    let mut current: Option<Goroutine> = None;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(header) = parse_header(line) {
            if let Some(done) = current.take() {
                builder.add(done);
            }
            current = Some(Goroutine {
                state: header.state.to_owned(),
                minutes: header.minutes,
                ..Goroutine::default()
            });
            continue;
        }
        let Some(g) = current.as_mut() else { continue };
        if line.is_empty() {
            builder.add(current.take().unwrap_or_default());
        } else if g.in_ancestors {
            // Ancestors end with the block.
        } else if let Some(position) = parse_position(line) {
            if g.awaiting_creator {
                if let Some(creator) = g.created_by.as_mut() {
                    (creator.1, creator.2) = (position.0.to_owned(), position.1);
                }
                g.awaiting_creator = false;
            } else if let Some(last) = g.frames.last_mut().filter(|f| f.1.is_empty()) {
                (last.1, last.2) = (position.0.to_owned(), position.1);
            }
        } else if let Some(creator) = line.strip_prefix("created by ") {
            let name = creator.split(" in goroutine ").next().unwrap_or(creator);
            g.created_by = Some((name.trim().to_owned(), String::new(), 0));
            g.awaiting_creator = true;
        } else if line.starts_with("[originating from goroutine ") {
            g.in_ancestors = true;
        } else if let Some(elided) = elided(line) {
            g.frames.push((elided, String::new(), 0, false));
        } else if line.starts_with("non-Go function at pc=") {
            g.frames
                .push(("non-Go function".into(), String::new(), 0, false));
        } else if let Some((name, inlined)) = parse_call(line) {
            g.frames.push((name.to_owned(), String::new(), 0, inlined));
        } else {
            // Something else: the block is over (a register dump, a log).
            builder.add(current.take().unwrap_or_default());
        }
    }
    if let Some(done) = current.take() {
        builder.add(done);
    }
    if builder.goroutines == 0 {
        return Err(DecodeError::Invalid(
            "goroutine dump: no goroutine in it".into(),
        ));
    }
    Ok(builder.finish())
}

/// `...N frames elided...` and `...additional frames elided...`, as one
/// frame saying so.
fn elided(line: &str) -> Option<String> {
    let inner = line.strip_prefix("...")?.strip_suffix("...")?;
    inner.ends_with(" elided").then(|| format!("…{inner}…"))
}

/// Turns goroutines into samples, sharing functions and locations.
struct Builder {
    options: DumpOptions,
    profile: Profile,
    functions: HashMap<(String, String), usize>,
    locations: HashMap<Vec<(usize, i64)>, u32>,
    samples: HashMap<(Vec<u32>, String, i64), usize>,
    goroutines: u64,
}

impl Builder {
    fn new(options: DumpOptions) -> Self {
        let count = ValueType {
            name: "goroutine".into(),
            unit: "count".into(),
        };
        let profile = Profile {
            sample_types: vec![count.clone()],
            period_type: Some(count),
            period: 1,
            ..Profile::default()
        };
        Builder {
            options,
            profile,
            functions: HashMap::new(),
            locations: HashMap::new(),
            samples: HashMap::new(),
            goroutines: 0,
        }
    }

    fn function(&mut self, name: &str, file: &str) -> usize {
        let key = (name.to_owned(), file.to_owned());
        let functions = &mut self.profile.functions;
        *self.functions.entry(key).or_insert_with(|| {
            functions.push(Function {
                name: name.to_owned(),
                system_name: name.to_owned(),
                filename: file.to_owned(),
                start_line: 0,
            });
            functions.len() - 1
        })
    }

    fn location(&mut self, lines: Vec<(usize, i64)>) -> u32 {
        let locations = &mut self.profile.locations;
        *self.locations.entry(lines.clone()).or_insert_with(|| {
            locations.push(Location {
                address: 0,
                mapping: None,
                lines: lines
                    .into_iter()
                    .map(|(function, line)| Line {
                        function: Some(function),
                        line,
                    })
                    .collect(),
            });
            locations.len() as u32 - 1
        })
    }

    fn add(&mut self, g: Goroutine) {
        self.goroutines += 1;
        let mut stack = Vec::with_capacity(g.frames.len() + 2);
        if !self.options.no_wait_frame {
            let wait = self.function(&format!("[{}]", g.state), "");
            stack.push(self.location(vec![(wait, 0)]));
        }
        // runtime.goexit, the root of every goroutine that `go` started,
        // is left out as profiles leave it out (dumps at
        // GOTRACEBACK=system print it).
        let frames = match g.frames.last() {
            Some((name, ..)) if name == "runtime.goexit" => &g.frames[..g.frames.len() - 1],
            _ => &g.frames[..],
        };
        // An inlined frame shares the location of the frame it is in.
        let mut pending: Vec<(usize, i64)> = Vec::new();
        for (name, file, line, inlined) in frames {
            let function = self.function(name, file);
            pending.push((function, *line));
            if !inlined {
                let lines = std::mem::take(&mut pending);
                stack.push(self.location(lines));
            }
        }
        if !pending.is_empty() {
            stack.push(self.location(pending));
        }
        if let (true, Some((name, file, line))) = (self.options.created_by, &g.created_by) {
            let function = self.function(&format!("created by {name}"), file);
            stack.push(self.location(vec![(function, *line)]));
        }
        let key = (stack, g.state, g.minutes);
        match self.samples.get(&key) {
            Some(&index) => self.profile.samples.values_mut(index)[0] += 1,
            None => {
                let labels = vec![
                    Label {
                        key: WAIT_LABEL.into(),
                        value: LabelValue::Num {
                            value: g.minutes,
                            unit: Some("minutes".into()),
                        },
                    },
                    Label {
                        key: STATE_LABEL.into(),
                        value: LabelValue::Str(key.1.as_str().into()),
                    },
                ];
                self.profile.samples.push(Sample {
                    locations: key.0.clone(),
                    values: vec![1],
                    labels,
                });
                self.samples.insert(key, self.profile.samples.len() - 1);
            }
        }
    }

    fn finish(self) -> Profile {
        self.profile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_every_form() {
        let h = parse_header("goroutine 7 [chan receive, 12 minutes, locked to thread]:").unwrap();
        assert_eq!((h.state, h.minutes, h.leaked), ("chan receive", 12, false));
        let h = parse_header("goroutine 1 gp=0xc000002380 m=0 mp=0x6f2e40 [running]:").unwrap();
        assert_eq!(h.state, "running");
        let h =
            parse_header("goroutine 9 gp=0xc0000 m=nil [chan send (leaked), 3 minutes]:").unwrap();
        assert_eq!(
            (h.state, h.leaked, h.minutes),
            ("chan send (leaked)", true, 3)
        );
        let h = parse_header("goroutine 4 [select, 1 minutes] {user: alice, \"x y\": 2}:").unwrap();
        assert_eq!((h.state, h.minutes), ("select", 1));
        assert!(parse_header("goroutine profile: total 4").is_none());
        assert!(parse_header("goroutine 4 [select").is_none());
        assert!(parse_header("goroutine x [select]:").is_none());
        assert!(parse_header("the goroutine 4 [select]:").is_none());
    }

    #[test]
    fn calls_and_positions() {
        assert_eq!(
            parse_call("main.(*T).M(0xc000010000, {0x4b5f0e, 0x5})"),
            Some(("main.(*T).M", false))
        );
        assert_eq!(parse_call("main.f[...](...)"), Some(("main.f[...]", true)));
        assert_eq!(
            parse_call("panic({0x4a2fe0?, 0xc000012345?})"),
            Some(("panic", false))
        );
        assert_eq!(parse_call("main.main()"), Some(("main.main", false)));
        assert_eq!(parse_call("exit status 2"), None);
        assert_eq!(
            parse_position("\t/src/a.go:42 +0x1d"),
            Some(("/src/a.go", 42))
        );
        assert_eq!(
            parse_position("\t/src/a.go:42 +0x1d fp=0xc sp=0xc pc=0x4"),
            Some(("/src/a.go", 42))
        );
        assert_eq!(parse_position("\tC:/src/a.go:7"), Some(("C:/src/a.go", 7)));
        assert_eq!(parse_position("\t?:0"), Some(("?", 0)));
    }
}
