//! Naming stacks the way the Go runtime names them.
//!
//! Every Go profile except CPU records its stacks as `runtime.Callers` does:
//! already inline-expanded. Each frame of an inline chain has an address of
//! its own: the innermost the real return address, each outer one the
//! "virtual" address of its inline mark + 1 (text profiles print these
//! addresses as they are; the protobuf writer groups a chain back into one
//! location, which keeps the first). Looking up the full inline chain at
//! every address would therefore repeat each outer frame.
//!
//! The runtime's rule (`runtime.(*Frames).Next`): at an address inside an
//! inlined body, emit the inline chain outward only up to the frame whose
//! virtual address is the next address of the stack, and skip inlined
//! wrapper frames as `tracebackPCs` does. torch has no virtual addresses
//! for its frames (DWARF has none, and the symbol table no chains), so it
//! applies the equivalent that every source of names supports: an outer
//! frame is where the chain stops when the next address's innermost frame
//! is that same function at that same line, because the inline mark the
//! virtual address points into sits on the line of the inlined call.
//!
//! Text profiles add what their `#` lines leave out
//! ([`Profile::runtime_hidden`]): leading runtime frames and the
//! `runtime.goexit` root. [`settle`] gives them the form the runtime's own
//! protobuf writer gives them, named or not.

use std::collections::{HashMap, HashSet};

use super::binary::Frame;
use crate::profile::{Function, Line, Location, Profile};

/// The name of the frame standing for runtime frames a text profile did
/// not name and nothing else could.
pub const UNNAMED_RUNTIME: &str = "runtime (unnamed)";

/// Whether the profile's stacks are runtime-expanded (every profile but
/// CPU, whose locations keep pprof's full expansion).
pub fn runtime_expanded(profile: &Profile) -> bool {
    let cpu = |name: &str| name == "cpu";
    let period_cpu = profile.period_type.as_ref().is_some_and(|t| cpu(&t.name));
    !(period_cpu || profile.sample_types.iter().any(|t| cpu(&t.name)))
}

/// Whether the profile counts memory (heap and allocs), whose leading
/// runtime frames are the allocator the runtime leaves out.
fn is_memory(profile: &Profile) -> bool {
    profile
        .sample_types
        .iter()
        .any(|t| t.name.starts_with("alloc_") || t.name.starts_with("inuse_"))
}

/// A frame as the next address of a stack shows it: (function, line).
type FrameAt = (String, i64);

/// What decides where an address's inline chain stops: the frames
/// (innermost first) of the next address of the stack, and whether the
/// stack lists every address the runtime recorded.
#[derive(Clone, Copy)]
struct Context<'a> {
    next: &'a [FrameAt],
    every_address: bool,
}

impl Context<'_> {
    const ALONE: Context<'static> = Context {
        next: &[],
        every_address: false,
    };
}

/// Which frames of `chain` (innermost first) the runtime emits for one
/// address of a stack in `context`. Returns their positions.
///
/// Where every address is listed (text profiles), the next address is the
/// virtual address of the next outer frame: the chain stops at the frame
/// that address's innermost frame is. The runtime's protobuf writer has
/// already grouped those addresses into one location (its `pcDeck`), so a
/// location keeps its whole chain, except where the writer starts a new
/// location: at a frame with the same name as the one inside it ("maybe
/// recursion"), or where the next location is exactly the rest of the
/// chain (a profile converted by pprof, one location per address).
fn kept_frames(chain: &[Frame], context: Context<'_>) -> Vec<u16> {
    let mut kept = vec![0u16];
    let mut callee = chain.first().map(|f| f.function.as_str()).unwrap_or("");
    for (position, frame) in chain.iter().enumerate().skip(1) {
        let stops_here = match context.every_address {
            true => context
                .next
                .first()
                .is_some_and(|next| same_frame(next, frame)),
            false => {
                frame.function == callee
                    || (!context.next.is_empty() && is_rest(context.next, &chain[position..]))
            }
        };
        if stops_here {
            break;
        }
        // Wrappers are elided unless they call a panic (elideWrapperCalling).
        let wrapper = is_wrapper(frame);
        let panicking = matches!(
            callee,
            "runtime.gopanic" | "runtime.sigpanic" | "runtime.panicwrap"
        );
        if wrapper && !panicking {
            continue;
        }
        kept.push(position as u16);
        callee = &frame.function;
    }
    kept
}

/// Whether `shown` is `frame`: a `#` line gives the printed name, the
/// binary the full one, and either may lack a line.
fn same_frame((function, line): &FrameAt, frame: &Frame) -> bool {
    printed_name(function) == printed_name(&frame.function)
        && (*line == 0 || frame.line == 0 || *line == frame.line)
}

/// Whether the next location's frames are exactly `rest` of a chain, less
/// the wrappers it would not show.
fn is_rest(next: &[FrameAt], rest: &[Frame]) -> bool {
    let mut shown = rest
        .iter()
        .enumerate()
        .filter(|&(i, f)| i == 0 || !is_wrapper(f));
    next.iter()
        .all(|n| shown.next().is_some_and(|(_, f)| same_frame(n, f)))
        && shown.next().is_none()
}

/// Whether a frame is a compiler wrapper the runtime's tracebacks leave
/// out (`abi.FuncIDWrapper`): method wrappers, whose file is
/// `<autogenerated>` (after the compilation directory, in DWARF), and the
/// closures `go` and `defer` statements wrap calls in. pclntab says so
/// itself; DWARF only through these names.
pub fn is_wrapper(frame: &Frame) -> bool {
    let compiler_closure = |marker: &str| {
        frame
            .function
            .rsplit_once(marker)
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    frame.file.ends_with("<autogenerated>")
        || compiler_closure(".gowrap")
        || compiler_closure(".deferwrap")
}

/// Names located frames: `resolved` gives, per location index, the full
/// inline chain its address has in the binary. For runtime-expanded
/// profiles each occurrence keeps only what the runtime would emit there
/// (a location used in different contexts is split); with `inlined` false
/// only the physical frame is kept, and a location that has none there
/// leaves the stack. Returns how many locations got names.
pub(super) fn place(
    profile: &mut Profile,
    resolved: Vec<(usize, Vec<Frame>)>,
    inlined: bool,
) -> usize {
    let mut names = FunctionIds::default();
    let chains: HashMap<usize, Vec<Frame>> = resolved
        .into_iter()
        .filter(|(_, chain)| !chain.is_empty())
        .collect();
    let named = chains.len();
    if !runtime_expanded(profile) {
        // CPU locations keep the whole chain, less the wrappers the
        // runtime leaves out.
        for (index, chain) in &chains {
            let kept = kept_frames(chain, Context::ALONE);
            let lines = names.lines(profile, chain, &kept, inlined);
            profile.locations[*index].lines = lines;
        }
        return named;
    }
    let every_address = profile.every_address;
    // The frames of a location, innermost first: from the binary, or as the
    // profile names them.
    let frames_of = |profile: &Profile, index: u32| -> Vec<FrameAt> {
        if let Some(chain) = chains.get(&(index as usize)) {
            return chain.iter().map(|f| (f.function.clone(), f.line)).collect();
        }
        let lines = &profile.locations[index as usize].lines;
        lines
            .iter()
            .filter_map(|line| Some((profile.functions[line.function?].name.clone(), line.line)))
            .collect()
    };
    // (location, next location) → the location to use there.
    let mut in_context: HashMap<(u32, Option<u32>), Option<u32>> = HashMap::new();
    // (location, kept frames) → its variant; the first keeps the index.
    let mut variants: HashMap<(u32, Vec<u16>), Option<u32>> = HashMap::new();
    let mut placed: HashSet<u32> = HashSet::new();
    let mut samples = std::mem::take(&mut profile.samples);
    let mut rewritten = Vec::new();
    samples.edit(|sample| {
        rewritten.clear();
        for (position, &location) in sample.locations.iter().enumerate() {
            let Some(chain) = chains.get(&(location as usize)) else {
                rewritten.push(location);
                continue;
            };
            let next = sample.locations.get(position + 1).copied();
            let key = (location, next);
            let target = match in_context.get(&key) {
                Some(&target) => target,
                None => {
                    let next_frames = next.map(|n| frames_of(profile, n)).unwrap_or_default();
                    let context = Context {
                        next: &next_frames,
                        every_address,
                    };
                    let kept = kept_frames(chain, context);
                    let lines = names.lines(profile, chain, &kept, inlined);
                    let target = *variants.entry((location, kept)).or_insert_with(|| {
                        if lines.is_empty() {
                            None
                        } else if placed.insert(location) {
                            profile.locations[location as usize].lines = lines;
                            Some(location)
                        } else {
                            let original = &profile.locations[location as usize];
                            profile.locations.push(Location {
                                address: original.address,
                                mapping: original.mapping,
                                lines,
                            });
                            Some(profile.locations.len() as u32 - 1)
                        }
                    });
                    in_context.insert(key, target);
                    target
                }
            };
            rewritten.extend(target);
        }
        std::mem::swap(&mut sample.locations, &mut rewritten);
        true
    });
    profile.samples = samples;
    // Locations no stack uses still get their whole chain.
    for (index, chain) in &chains {
        if !placed.contains(&(*index as u32)) {
            let kept = kept_frames(chain, Context::ALONE);
            profile.locations[*index].lines = names.lines(profile, chain, &kept, inlined);
        }
    }
    named
}

/// A function name as Go prints it (`funcNameForPrint`): everything from
/// the first `[` to the last `]` becomes `[...]`.
pub fn printed_name(name: &str) -> std::borrow::Cow<'_, str> {
    match (name.find('['), name.rfind(']')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}[...]{}", &name[..open], &name[close + 1..]).into()
        }
        _ => name.into(),
    }
}

/// Functions made for names from a binary, one per (name, file).
#[derive(Default)]
struct FunctionIds(HashMap<(String, String), usize>);

impl FunctionIds {
    fn id(&mut self, profile: &mut Profile, frame: &Frame) -> usize {
        let key = (frame.function.clone(), frame.file.clone());
        *self.0.entry(key).or_insert_with(|| {
            let name = match profile.printed_names {
                true => printed_name(&frame.function).into_owned(),
                false => frame.function.clone(),
            };
            profile.functions.push(Function {
                name: name.clone(),
                system_name: name,
                filename: frame.file.clone(),
                start_line: 0,
            });
            profile.functions.len() - 1
        })
    }

    /// The lines of `kept` frames of `chain`; without `inlined`, only its
    /// outermost frame the runtime shows, if kept here (an address inside
    /// inlined code leaves it to the next address of the stack).
    fn lines(
        &mut self,
        profile: &mut Profile,
        chain: &[Frame],
        kept: &[u16],
        inlined: bool,
    ) -> Vec<Line> {
        let alone = Context {
            next: &[],
            every_address: profile.every_address,
        };
        let outermost = kept_frames(chain, alone).last().copied();
        let shown: Vec<u16> = match inlined {
            true => kept.to_vec(),
            false => kept
                .last()
                .copied()
                .filter(|&p| Some(p) == outermost)
                .into_iter()
                .collect(),
        };
        shown
            .iter()
            .map(|&position| {
                let frame = &chain[position as usize];
                Line {
                    function: Some(self.id(profile, frame)),
                    line: frame.line,
                }
            })
            .collect()
    }
}

/// Gives a runtime-expanded profile's runtime frames the form the
/// runtime's own protobuf writer gives them, once naming is done:
/// - the root `runtime.goexit` (named, or hidden by a text profile) is
///   left out, as the protobuf writer leaves it out;
/// - in heap and allocs profiles, leading runtime frames (named
///   `runtime.*` / `internal/runtime/*`, or hidden) are the allocator and
///   are left out, unless nothing else would be left;
/// - elsewhere a leading run of hidden frames nothing could name becomes
///   one frame, [`UNNAMED_RUNTIME`].
pub fn settle(profile: &mut Profile, all_frames: bool) {
    if !runtime_expanded(profile) {
        return;
    }
    let hidden: HashSet<u32> = std::mem::take(&mut profile.runtime_hidden)
        .into_iter()
        .filter(|&l| unnamed(profile, l))
        .collect();
    let runtime: Vec<bool> = (0..profile.locations.len())
        .map(|l| is_runtime_location(profile, l as u32))
        .collect();
    let goexit: Vec<bool> = (0..profile.locations.len() as u32)
        .map(|l| hidden.contains(&l) || is_goexit(profile, l))
        .collect();
    let memory = is_memory(profile) && !all_frames;
    let mut stand_in = None;
    let mut samples = std::mem::take(&mut profile.samples);
    samples.edit(|sample| {
        let root = profile.root_position(&sample.locations);
        let stack = &mut sample.locations;
        if let Some(root) = root.filter(|&r| r > 0 && goexit[stack[r] as usize]) {
            stack.remove(root);
        }
        if memory {
            let leading = stack
                .iter()
                .take_while(|&&l| hidden.contains(&l) || runtime[l as usize])
                .count();
            if leading < stack.len() {
                stack.drain(..leading);
            }
        } else {
            let leading = stack
                .iter()
                .take_while(|&&l| hidden.contains(&l) || runtime[l as usize])
                .count();
            if stack[..leading].iter().any(|l| hidden.contains(l)) {
                let one = *stand_in.get_or_insert_with(|| profile.add_frame(UNNAMED_RUNTIME, ""));
                // Each run of hidden frames becomes one; named ones stay.
                let mut settled: Vec<u32> = Vec::with_capacity(stack.len());
                for &l in &stack[..leading] {
                    if !hidden.contains(&l) {
                        settled.push(l);
                    } else if settled.last() != Some(&one) {
                        settled.push(one);
                    }
                }
                settled.extend_from_slice(&stack[leading..]);
                *stack = settled;
            }
        }
        true
    });
    profile.samples = samples;
}

fn unnamed(profile: &Profile, location: u32) -> bool {
    profile.locations[location as usize]
        .lines
        .iter()
        .all(|line| line.function.is_none())
}

/// Whether every frame of a named location is the runtime's.
fn is_runtime_location(profile: &Profile, location: u32) -> bool {
    let lines = &profile.locations[location as usize].lines;
    !lines.is_empty()
        && lines.iter().all(|line| {
            line.function
                .is_some_and(|f| crate::profile::is_runtime_function(&profile.functions[f].name))
        })
}

fn is_goexit(profile: &Profile, location: u32) -> bool {
    match profile.locations[location as usize].lines.as_slice() {
        [line] => line
            .function
            .is_some_and(|f| profile.functions[f].name == "runtime.goexit"),
        _ => false,
    }
}
