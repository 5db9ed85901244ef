//! Writes a profile without names that holds N unique addresses inside a
//! Go binary's functions (one sample each), plus the same addresses as text,
//! for the symbolization benchmark (benches/symbolize.sh).
//!
//!   cargo run --release --example address_profile -- BINARY OUT.pb.gz OUT.addrs N

use std::fs;

use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind};
use torch::profile::{self, Location, Mapping, Profile, Sample, ValueType};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [binary, profile_out, addresses_out, count] = &args[..] else {
        eprintln!("usage: address_profile BINARY OUT.pb.gz OUT.addrs N");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("N is a number");
    let data = fs::read(binary).expect("binary readable");
    let file = object::File::parse(&*data).expect("an ELF file");
    let addresses = addresses_in_functions(&file, count);
    let text = file
        .segments()
        .find(|s| s.address() <= addresses[0] && addresses[0] < s.address() + s.size())
        .expect("a segment holding the code");
    let build_id = file
        .build_id()
        .ok()
        .flatten()
        .map(|id| id.iter().map(|b| format!("{b:02x}")).collect())
        .unwrap_or_default();
    let profile = Profile {
        sample_types: vec![ValueType {
            name: "samples".into(),
            unit: "count".into(),
        }],
        mappings: vec![Mapping {
            memory_start: text.address(),
            memory_limit: text.address() + text.size(),
            file_offset: text.file_range().0,
            filename: binary.clone(),
            build_id,
            ..Mapping::default()
        }],
        locations: addresses
            .iter()
            .map(|&address| Location {
                address,
                mapping: Some(0),
                lines: Vec::new(),
            })
            .collect(),
        samples: (0..addresses.len())
            .map(|i| Sample {
                locations: vec![i as u32],
                values: vec![1],
                labels: Vec::new(),
            })
            .collect(),
        ..Profile::default()
    };
    fs::write(profile_out, profile::encode_gzip(&profile)).expect("profile written");
    let lines: Vec<String> = addresses.iter().map(|a| format!("{a:#x}")).collect();
    fs::write(addresses_out, lines.join("\n") + "\n").expect("addresses written");
    eprintln!(
        "{} unique addresses in {} functions",
        addresses.len(),
        count_functions(&file)
    );
}

/// Spreads `count` addresses over the binary's functions, several per
/// function, so lookups hit every part of the line tables.
fn addresses_in_functions(file: &object::File, count: usize) -> Vec<u64> {
    let mut functions: Vec<(u64, u64)> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0)
        .map(|s| (s.address(), s.size()))
        .collect();
    functions.sort_unstable();
    functions.dedup();
    let total: u64 = functions.iter().map(|&(_, size)| size).sum();
    let step = (total / count as u64).max(1);
    let mut out = Vec::with_capacity(count);
    let mut carry = 0;
    for (start, size) in functions {
        let mut offset = carry;
        while offset < size && out.len() < count {
            out.push(start + offset);
            offset += step;
        }
        carry = offset.saturating_sub(size);
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn count_functions(file: &object::File) -> usize {
    file.symbols()
        .filter(|s| s.kind() == SymbolKind::Text)
        .count()
}
