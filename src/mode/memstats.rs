//! `--memstats`: a short summary of the `runtime.MemStats` block of heap
//! text profiles, instead of a graph.

use crate::source::{self, RawProfile, Source, Target, Wanted};
use crate::{output, profile, Config, Error};

/// Reads the sources and prints each one's MemStats summary. A URL is
/// asked for the text heap profile (`?debug=1`), the only one that has
/// the block; a bare `host:port` means the heap endpoint.
pub fn run(config: &Config) -> Result<(), Error> {
    let (_, sources) = source::resolve_for(&config.sources, None, Wanted::Memory)?;
    let sources: Vec<Source> = sources
        .into_iter()
        .map(|source| match source {
            Source::Url(target) => Source::Url(as_text(target)),
            file => file,
        })
        .collect();
    let raws = crate::collect(&sources, None, config)
        .into_iter()
        .collect::<Result<Vec<RawProfile>, Error>>()?;
    print(&raws, config.max_size)
}

/// `target` asking for the text form: `debug=1`, and no `seconds` (Go
/// refuses the two together; a delta has no MemStats).
fn as_text(mut target: Target) -> Target {
    let query: Vec<(String, String)> = target
        .url
        .query_pairs()
        .into_owned()
        .filter(|(key, _)| key != "seconds" && key != "debug")
        .collect();
    target
        .url
        .query_pairs_mut()
        .clear()
        .extend_pairs(query)
        .append_pair("debug", "1");
    target.seconds = None;
    target.delta = false;
    target
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
