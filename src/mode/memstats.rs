//! `--memstats`: a short summary of the `runtime.MemStats` block of heap
//! text profiles, instead of a graph.

use crate::source::RawProfile;
use crate::{output, profile, Config, Error};

/// Reads the sources and prints each one's MemStats summary.
pub fn run(config: &Config) -> Result<(), Error> {
    let (raws, _) = crate::read_all(&config.sources, config)?;
    print(&raws, config.max_size)
}

fn print(raws: &[RawProfile], max_size: u64) -> Result<(), Error> {
    let mut text = String::new();
    for raw in raws {
        let input = raw.origin.name();
        let stats = profile::memstats(&raw.bytes, max_size).map_err(|source| Error::Decode {
            input: input.clone(),
            source,
        })?;
        let stats = stats.ok_or_else(|| Error::NoMemStats {
            input: input.clone(),
        })?;
        if raws.len() > 1 {
            text.push_str(&format!("{input}:\n"));
        }
        text.push_str(&profile::memstats_summary(&stats));
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    output::write_stdout(text.as_bytes())
}
