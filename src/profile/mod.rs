//! The resolved profile model every later stage works on.
//!
//! Decoders (`proto` for pprof protobuf, `legacy` for Go's `?debug=1` text
//! formats) turn bytes into a [`Profile`]; `prune` applies the profile's
//! `drop_frames`/`keep_frames` as pprof does before its reports. Nothing outside the decoders sees a string-table index
//! or a raw id: locations, functions and mappings refer to each other by
//! position in the profile's vectors, and every reference has been checked.

use std::sync::Arc;

pub mod dump;
mod encode;
mod legacy;
mod merge;
mod proto;
mod prune;
mod samples;

pub use dump::DumpOptions;
pub use encode::encode_gzip;
pub use legacy::{memstats, memstats_summary, parse_memstats, MemStats};
pub use merge::{merge, MergeError};
pub use proto::{decode, decode_with, gunzip_from, is_gzip, DecodeError, DEFAULT_MAX_SIZE};
pub use prune::{pruned, remove_uninteresting, simplify_func, FrameRegexError};
pub(crate) use samples::prefetch;
pub use samples::{SampleRef, Samples};

/// What one column of sample values measures, e.g. `alloc_space` in `bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueType {
    pub name: String,
    pub unit: String,
}

/// A decoded, validated profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub sample_types: Vec<ValueType>,
    /// The sample type the profile asks viewers to show first, if it says.
    pub default_sample_type: Option<String>,
    pub samples: Samples,
    pub locations: Vec<Location>,
    pub functions: Vec<Function>,
    pub mappings: Vec<Mapping>,
    /// Regex of frames pprof drops (with everything leafward) before reporting.
    pub drop_frames: Option<String>,
    /// Regex of frames that `drop_frames` must not drop.
    pub keep_frames: Option<String>,
    pub time_nanos: i64,
    pub duration_nanos: i64,
    pub period_type: Option<ValueType>,
    pub period: i64,
    pub comments: Vec<String>,
    /// Locations (indices) of a text profile's frames that Go printed no
    /// `#` line for although it named the rest of their stack: the leading
    /// `runtime.*` frames it hides, and `runtime.goexit` at the root.
    /// Symbolization names what it can; [`crate::symbolize::runtime`]
    /// settles the rest.
    pub runtime_hidden: Vec<u32>,
    /// Whether its names are the ones Go prints (text profiles): a generic
    /// function's type arguments shown as `[...]`, as `runtime.Frame`
    /// gives them, where protobuf profiles keep the linker's full name.
    pub printed_names: bool,
    /// Whether its stacks list every address the runtime recorded, each
    /// its own location, the virtual addresses of inline marks included
    /// (text profiles), rather than grouped into one location per inline
    /// chain as the runtime's protobuf writer groups them.
    pub every_address: bool,
}

/// One stack with one value per sample type, owned: what decoders and
/// edits hand to [`Samples`], which stores it flat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// Indices into [`Profile::locations`], leaf first. (32 bits: a deep
    /// heap profile holds tens of millions of them, and
    /// [`MAX_ENTRIES`](crate::profile::proto::MAX_ENTRIES) keeps indices far below 2³².)
    pub locations: Vec<u32>,
    /// One value per entry of [`Profile::sample_types`].
    pub values: Vec<i64>,
    pub labels: Vec<Label>,
}

/// A pprof label attached to a sample.
///
/// Its strings are shared: a Go heap profile gives every sample a `bytes`
/// label, and a copy of "bytes" per sample would cost more than the stack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    pub key: Arc<str>,
    pub value: LabelValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LabelValue {
    Str(Arc<str>),
    Num { value: i64, unit: Option<Arc<str>> },
}

/// A program counter and the source lines it stands for.
#[derive(Debug, Clone, Default)]
pub struct Location {
    pub address: u64,
    /// Index into [`Profile::mappings`].
    pub mapping: Option<usize>,
    /// Innermost (inlined callee) first; the last entry is the function the
    /// code physically belongs to.
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Line {
    /// Index into [`Profile::functions`]; `None` when the line names no
    /// function (Go pads threadcreate stacks with such lines).
    pub function: Option<usize>,
    pub line: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Function {
    pub name: String,
    pub system_name: String,
    pub filename: String,
    pub start_line: i64,
}

/// A binary or library mapped into the profiled process.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub memory_start: u64,
    pub memory_limit: u64,
    pub file_offset: u64,
    pub filename: String,
    pub build_id: String,
    pub has_functions: bool,
    pub has_filenames: bool,
    pub has_line_numbers: bool,
    pub has_inline_frames: bool,
}

/// Whether `name` is a function of the Go runtime, as the runtime's own
/// profile writers judge when they hide leading runtime frames.
pub fn is_runtime_function(name: &str) -> bool {
    name.starts_with("runtime.") || name.starts_with("internal/runtime/")
}

impl Location {
    /// Whether this is Go's padding of a fixed-size stack (threadcreate
    /// stacks end in `0x0` return addresses, whose location, address − 1,
    /// wraps to the last address) rather than a frame.
    pub fn is_padding(&self) -> bool {
        self.address == u64::MAX && self.lines.iter().all(|line| line.function.is_none())
    }
}

impl Profile {
    /// The position of a stack's root frame: its last location that is
    /// not Go's padding.
    pub fn root_position(&self, stack: &[u32]) -> Option<usize> {
        stack
            .iter()
            .rposition(|&l| !self.locations[l as usize].is_padding())
    }

    /// Adds a frame that stands for no address (a label, a summary of
    /// frames nobody named): a function `name` in `filename` and one
    /// location with it. Returns the location's index.
    pub fn add_frame(&mut self, name: &str, filename: &str) -> u32 {
        self.functions.push(Function {
            name: name.to_owned(),
            system_name: name.to_owned(),
            filename: filename.to_owned(),
            start_line: 0,
        });
        self.locations.push(Location {
            address: 0,
            mapping: None,
            lines: vec![Line {
                function: Some(self.functions.len() - 1),
                line: 0,
            }],
        });
        location_index(self.locations.len() - 1)
    }
}

pub fn type_names(types: &[ValueType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    names.join(", ")
}

/// A position in [`Profile::locations`] as samples store it. Decoders
/// refuse profiles with more than [`MAX_ENTRIES`](proto::MAX_ENTRIES)
/// locations, so the saturation never shows.
pub fn location_index(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

impl Profile {
    /// Position of the sample type called `name`; `inuse_space` also finds
    /// the `space` type of older heap profiles, as pprof allows.
    pub fn sample_type_index(&self, name: &str) -> Option<usize> {
        let exact = self.sample_types.iter().position(|t| t.name == name);
        exact.or_else(|| {
            let legacy = name.strip_prefix("inuse_")?;
            self.sample_types.iter().position(|t| t.name == legacy)
        })
    }

    /// The sample type pprof shows when none is asked for: the profile's
    /// declared default, else the last one.
    pub fn default_sample_type_index(&self) -> usize {
        self.default_sample_type
            .as_deref()
            .and_then(|name| self.sample_type_index(name))
            .unwrap_or(self.sample_types.len().saturating_sub(1))
    }

    /// Names of all sample types, for error messages: `a, b, c`.
    pub fn sample_type_names(&self) -> String {
        type_names(&self.sample_types)
    }
}
