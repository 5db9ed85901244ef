//! Naming addresses the profile left unnamed. Best effort and safe to
//! repeat: locations that already have names are never touched, and an
//! address nobody can name stays an address (with a warning from the caller).

pub mod binary;
pub mod formats;
pub mod pclntab;
pub mod remote;
pub mod runtime;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::profile::{Function, Line, Mapping, Profile};
use binary::{Binary, BinaryError};

/// Names what it can from binaries on this machine (with inlined frames
/// unless `inlined` is false): `explicit` (the
/// `BINARY` argument) for the main mapping and for locations without a
/// mapping, else each mapping's own file, else `$PPROF_BINARY_PATH`.
/// Returns how many locations got names. A mismatched build id of the
/// explicit binary is an error unless `force`; other candidates that do
/// not match are passed over.
pub fn with_binaries(
    profile: &mut Profile,
    explicit: Option<&Path>,
    force: bool,
    inlined: bool,
) -> Result<usize, BinaryError> {
    let groups = unnamed_by_mapping(profile);
    let mut resolved_all = Vec::new();
    for (mapping, locations) in groups {
        let binary = match find_binary(profile, mapping, &locations, explicit, force)? {
            Some(binary) => binary,
            None => continue,
        };
        let mapping_info = mapping.map(|m| profile.mappings[m].clone());
        let mut addresses: Vec<u64> = locations
            .iter()
            .map(|&i| binary.file_address(mapping_info.as_ref(), profile.locations[i].address))
            .collect();
        if mapping_info.as_ref().is_none_or(|m| m.memory_start == 0) {
            if let Some(slide) = binary.guess_slide(&addresses, &root_addresses(profile)) {
                for address in &mut addresses {
                    *address = address.wrapping_sub(slide);
                }
            }
        }
        let resolved = look_up_all(&binary, &addresses);
        warn_if_not_the_binary(profile, &binary, &locations, &addresses, &resolved);
        resolved_all.extend(locations.into_iter().zip(resolved));
        if let Some(m) = mapping {
            let m = &mut profile.mappings[m];
            m.has_functions = true;
            m.has_filenames = true;
            m.has_line_numbers = true;
            m.has_inline_frames = true;
        }
    }
    let named = runtime::place(profile, resolved_all, inlined);
    Ok(named)
}

/// Warns when `binary` does not seem to be the one that produced the
/// profile: a stack's addresses (all but the innermost, which is where a
/// CPU sample interrupted) are return addresses, each just after a call.
/// From another binary, most fall anywhere: names come out, but wrong.
fn warn_if_not_the_binary(
    profile: &Profile,
    binary: &Binary,
    locations: &[usize],
    addresses: &[u64],
    resolved: &[Vec<binary::Frame>],
) {
    let mut innermost = vec![false; profile.locations.len()];
    for sample in &profile.samples {
        if let Some(&leaf) = sample.locations.first() {
            innermost[leaf as usize] = true;
        }
    }
    let (mut checked, mut misplaced) = (0usize, 0usize);
    for ((&location, &address), frames) in locations.iter().zip(addresses).zip(resolved) {
        if innermost[location] {
            continue;
        }
        // Text profiles hold the address one before (the call itself),
        // as pprof reads them; protobufs hold the return address.
        let after_call = match binary.follows_a_call(address) {
            Some(false) => binary.follows_a_call(address.wrapping_add(1)),
            answer => answer,
        };
        match (frames.is_empty(), after_call) {
            (true, _) | (false, Some(false)) => misplaced += 1,
            (false, Some(true)) => {}
            (false, None) => continue,
        }
        checked += 1;
    }
    if checked >= 8 && misplaced * 2 > checked {
        crate::progress::warn(&format!(
            "{}: {misplaced} of {checked} return addresses are not just after a call in it: \
             it does not seem to be the binary that produced the profile, so its names are \
             likely wrong",
            binary.path.display()
        ));
    }
}

/// The outermost address of every stack, once each.
fn root_addresses(profile: &Profile) -> Vec<u64> {
    let roots: BTreeSet<u64> = profile
        .samples
        .iter()
        .filter_map(|s| Some(s.locations[profile.root_position(s.locations)?]))
        .map(|l| profile.locations[l as usize].address)
        .collect();
    roots.into_iter().collect()
}

/// The whole inline chain of every address, always: runtime-expanded
/// stacks need it to know where to cut it, and without inlined frames the
/// runtime still shows the outermost frame that is not a wrapper
/// ([`runtime::place`] picks). Looked up in address order (neighbours share
/// a compilation unit, so its line table is parsed once and stays warm).
fn look_up_all(binary: &Binary, addresses: &[u64]) -> Vec<Vec<binary::Frame>> {
    let mut order: Vec<usize> = (0..addresses.len()).collect();
    order.sort_unstable_by_key(|&i| addresses[i]);
    let sorted: Vec<u64> = order.iter().map(|&i| addresses[i]).collect();
    let mut out = vec![Vec::new(); addresses.len()];
    for (i, frames) in order.into_iter().zip(binary.frames_many(&sorted, true)) {
        out[i] = frames;
    }
    out
}

/// Unnamed locations (by position), grouped by their mapping.
fn unnamed_by_mapping(profile: &Profile) -> Vec<(Option<usize>, Vec<usize>)> {
    let mut groups: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
    for (index, location) in profile.locations.iter().enumerate() {
        let unnamed = location.lines.iter().all(|line| line.function.is_none())
            && !matches!(location.address, 0 | u64::MAX);
        if !unnamed {
            continue;
        }
        match groups.iter_mut().find(|(m, _)| *m == location.mapping) {
            Some((_, list)) => list.push(index),
            None => groups.push((location.mapping, vec![index])),
        }
    }
    groups
}

/// The binary for `mapping`, checked against its build id.
fn find_binary(
    profile: &Profile,
    mapping: Option<usize>,
    locations: &[usize],
    explicit: Option<&Path>,
    force: bool,
) -> Result<Option<Binary>, BinaryError> {
    let info: Option<&Mapping> = mapping.map(|m| &profile.mappings[m]);
    let is_main = mapping.is_none_or(|m| m == 0);
    let choose = |binaries: Vec<Binary>| choose_slice(profile, info, locations, binaries, force);
    if let Some(path) = explicit.filter(|path| is_main || same_base_name(info, path)) {
        return choose(Binary::open_all(path)?).map(Some);
    }
    let Some(info) = info else {
        return Ok(None);
    };
    for candidate in candidates(info) {
        if let Ok(binaries) = Binary::open_all(&candidate) {
            if let Ok(binary) = choose(binaries) {
                return Ok(Some(binary));
            }
        }
    }
    Ok(None)
}

/// Of a file's binaries (one, or each slice of a universal file), the one
/// for this mapping: its ids must agree with the mapping's (unless
/// `force`); of several, the one whose pclntab names the most of the
/// mapping's addresses, else the first Go one.
fn choose_slice(
    profile: &Profile,
    mapping: Option<&Mapping>,
    locations: &[usize],
    binaries: Vec<Binary>,
    force: bool,
) -> Result<Binary, BinaryError> {
    let expected = mapping.map_or("", |m| m.build_id.as_str());
    let mut refusal = None;
    let mut fitting: Vec<Binary> = Vec::new();
    for binary in binaries {
        match binary.check_build_id(expected) {
            Err(error) if !force => refusal = refusal.or(Some(error)),
            _ => fitting.push(binary),
        }
    }
    if fitting.len() > 1 {
        let step = locations.len().div_ceil(256).max(1);
        let sample: Vec<u64> = locations
            .iter()
            .step_by(step)
            .map(|&i| profile.locations[i].address)
            .collect();
        let score = |binary: &Binary| {
            let go = usize::from(binary.is_go());
            let addresses: Vec<u64> = sample
                .iter()
                .map(|&a| binary.file_address(mapping, a))
                .collect();
            (binary.count_named(&addresses), go)
        };
        let best = (0..fitting.len())
            .rev()
            .max_by_key(|&i| score(&fitting[i]))
            .unwrap_or(0);
        return Ok(fitting.swap_remove(best));
    }
    match (fitting.pop(), refusal) {
        (Some(binary), _) => Ok(binary),
        (None, Some(error)) => Err(error),
        (None, None) => Err(BinaryError::NotExecutable {
            path: PathBuf::new(),
            reason: "no binary in the file".into(),
        }),
    }
}

fn same_base_name(mapping: Option<&Mapping>, path: &Path) -> bool {
    mapping
        .is_some_and(|m| Some(base_name(&m.filename)) == path.file_name().and_then(|n| n.to_str()))
}

/// A mapping file name's last component, whichever system wrote it
/// (Windows profiles name `C:\dir\bench.test.exe`).
fn base_name(filename: &str) -> &str {
    filename.rsplit(['/', '\\']).next().unwrap_or(filename)
}

/// Where a mapping's binary may be, in pprof's order: the file it names,
/// then each `$PPROF_BINARY_PATH` directory by build id and by name.
fn candidates(mapping: &Mapping) -> Vec<PathBuf> {
    let file = Path::new(&mapping.filename);
    if mapping.filename.is_empty() || mapping.filename.starts_with('[') {
        return Vec::new();
    }
    let mut out = vec![file.to_path_buf()];
    let search = std::env::var_os("PPROF_BINARY_PATH").unwrap_or_default();
    let base = Some(base_name(&mapping.filename)).filter(|b| !b.is_empty());
    for dir in std::env::split_paths(&search).filter(|d| !d.as_os_str().is_empty()) {
        if !mapping.build_id.is_empty() {
            let by_id = dir.join(&mapping.build_id);
            if let Some(base) = base {
                out.push(by_id.join(base));
            }
            if let Ok(entries) = std::fs::read_dir(&by_id) {
                let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
                files.sort();
                out.extend(files);
            }
            out.push(by_id);
        }
        if let Some(base) = base {
            out.push(dir.join(base));
        }
        out.push(dir.join(file.strip_prefix("/").unwrap_or(file)));
    }
    out
}

/// Addresses of locations without any function name, in order; Go's
/// all-ones padding and address 0 are left out (they name nothing).
pub fn unnamed_addresses(profile: &Profile) -> Vec<u64> {
    let unnamed = |l: &crate::profile::Location| {
        !matches!(l.address, 0 | u64::MAX) && l.lines.iter().all(|line| line.function.is_none())
    };
    // Cheap first: most profiles name every location.
    if !profile.locations.iter().any(unnamed) {
        return Vec::new();
    }
    // Only what a stack shows counts; a location can be left behind by
    // `runtime::settle` or by a profile that lists more than it uses.
    let mut used = vec![false; profile.locations.len()];
    for sample in &profile.samples {
        for &location in sample.locations {
            used[location as usize] = true;
        }
    }
    let addresses: BTreeSet<u64> = profile
        .locations
        .iter()
        .zip(used)
        .filter(|(l, used)| *used && unnamed(l))
        .map(|(l, _)| l.address)
        .collect();
    addresses.into_iter().collect()
}

/// Gives each unnamed location the function `names` has for its address.
/// Returns how many locations got a name.
pub fn apply_names(profile: &mut Profile, names: &HashMap<u64, String>) -> usize {
    let mut function_of_name: HashMap<String, usize> = HashMap::new();
    let mut named = 0;
    for index in 0..profile.locations.len() {
        let location = &profile.locations[index];
        if location.lines.iter().any(|line| line.function.is_some()) {
            continue;
        }
        let Some(name) = names.get(&location.address) else {
            continue;
        };
        let function = *function_of_name.entry(name.clone()).or_insert_with(|| {
            profile.functions.push(Function {
                name: name.clone(),
                system_name: name.clone(),
                ..Function::default()
            });
            profile.functions.len() - 1
        });
        profile.locations[index].lines = vec![Line {
            function: Some(function),
            line: 0,
        }];
        named += 1;
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Location;

    #[test]
    fn only_unnamed_locations_get_names() {
        let mut profile = Profile {
            functions: vec![Function {
                name: "main.main".into(),
                ..Function::default()
            }],
            locations: vec![
                Location {
                    address: 0x10,
                    lines: vec![Line {
                        function: Some(0),
                        line: 3,
                    }],
                    ..Location::default()
                },
                Location {
                    address: 0x20,
                    ..Location::default()
                },
                Location {
                    address: u64::MAX,
                    ..Location::default()
                },
                // Unnamed, but no stack uses it: not counted.
                Location {
                    address: 0x30,
                    ..Location::default()
                },
            ],
            samples: vec![crate::profile::Sample {
                locations: vec![0, 1, 2],
                ..Default::default()
            }]
            .into(),
            ..Profile::default()
        };
        assert_eq!(unnamed_addresses(&profile), vec![0x20]);
        let names = HashMap::from([(0x10, "wrong".to_owned()), (0x20, "main.work".to_owned())]);
        assert_eq!(apply_names(&mut profile, &names), 1);
        assert_eq!(profile.functions[1].name, "main.work");
        assert_eq!(profile.locations[0].lines[0].function, Some(0));
        assert!(unnamed_addresses(&profile).is_empty());
    }
}
