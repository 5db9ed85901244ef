//! `--output-dir DIR --snapshot URL`: everything a service's
//! `net/http/pprof` can tell, at once. Heap, allocs, goroutine,
//! goroutineleak (Go 1.27), block, mutex and threadcreate profiles and a CPU
//! profile (`-t`, 30 s by default) are fetched together, with one progress
//! line; each is saved as received under `DIR/profiles/` and drawn into one
//! report with the heap's `runtime.MemStats`. An endpoint that fails or has
//! nothing is listed with the reason; the rest still comes.

use std::path::Path;

use super::report::{self, Extras};
use crate::source::{self, Source, DEFAULT_CPU_SECONDS};
use crate::{error_chain, output, profile, Config, Error, Loaded};

/// The profiles a snapshot takes: (name, endpoint under /debug/pprof/).
const KINDS: [(&str, &str); 8] = [
    ("cpu", "profile"),
    ("heap", "heap"),
    ("allocs", "allocs"),
    ("goroutine", "goroutine"),
    ("goroutineleak", "goroutineleak"),
    ("block", "block"),
    ("mutex", "mutex"),
    ("threadcreate", "threadcreate"),
];

/// Fetches everything, saves it and writes the report.
pub fn write_all(config: &Config, url: &str, directory: &Path) -> Result<(), Error> {
    let base = pprof_base(url)?;
    let mut names: Vec<&str> = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    for (name, path) in KINDS {
        let seconds = (name == "cpu").then(|| config.seconds.unwrap_or(DEFAULT_CPU_SECONDS));
        sources.push(source::classify(&format!("{base}{path}"), seconds)?);
        names.push(name);
    }
    // The heap as text, for its runtime.MemStats.
    sources.push(source::classify(&format!("{base}heap?debug=1"), None)?);
    let results = crate::collect(&sources, config.binary.as_deref(), config);
    let saved = directory.join("profiles");
    std::fs::create_dir_all(&saved).map_err(|source| Error::Write {
        path: saved.clone(),
        source,
    })?;
    let mut extras = Extras {
        title: Some(format!("Snapshot of {base}")),
        ..Extras::default()
    };
    let mut loaded: Vec<Loaded> = Vec::new();
    let mut stems: Vec<String> = Vec::new();
    let mut results = results.into_iter();
    for (name, result) in names.iter().zip(results.by_ref()) {
        let file = format!("{name}.pb.gz");
        let raw = match result {
            Ok(raw) => raw,
            Err(error) => {
                extras.missing.push((name.to_string(), error_chain(&error)));
                continue;
            }
        };
        output::write(&output::Destination::File(saved.join(&file)), &raw.bytes)?;
        match load(raw, config) {
            Ok(one) => {
                loaded.push(one);
                stems.push(name.to_string());
            }
            Err(error) => extras.missing.push((name.to_string(), error_chain(&error))),
        }
    }
    if let Some(Ok(text)) = results.next() {
        output::write(
            &output::Destination::File(saved.join("heap.txt")),
            &text.bytes,
        )?;
        if let Ok(Some(stats)) = profile::memstats(&text.bytes, config.max_size) {
            extras.memstats = Some(profile::memstats_summary(&stats));
        }
    }
    if loaded.is_empty() {
        return Err(Error::AllSourcesFailed { count: names.len() });
    }
    report::write_report(config, directory, &mut loaded, &stems, &extras)
}

/// Decodes, names and prepares one fetched profile.
fn load(raw: crate::RawProfile, config: &Config) -> Result<Loaded, Error> {
    let mut profile = crate::decode_with(&raw, config.max_size, &config.dump)?;
    crate::name_addresses(&raw, &mut profile, config)?;
    let input = raw.origin.name();
    let unfiltered = crate::prepare(&mut profile, config, &input)?;
    Ok(Loaded {
        raws: vec![raw],
        names: vec![input],
        profile,
        unfiltered,
    })
}

/// `…/debug/pprof/` of the service `url` names: its base URL, or any of
/// its pprof URLs.
fn pprof_base(url: &str) -> Result<String, Error> {
    let text = match url.contains("://") {
        true => url.to_owned(),
        false => format!("http://{url}"),
    };
    let mut parsed = reqwest::Url::parse(&text).map_err(|e| Error::BadUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let path = parsed.path().to_owned();
    let base = match path.find("/debug/pprof") {
        Some(at) => format!("{}/debug/pprof/", &path[..at]),
        None => format!("{}/debug/pprof/", path.trim_end_matches('/')),
    };
    parsed.set_path(&base);
    parsed.set_query(None);
    parsed.set_fragment(None);
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_pprof_url_of_a_service_means_its_base() {
        for url in [
            "http://h:6060",
            "http://h:6060/",
            "h:6060",
            "http://h:6060/debug/pprof/heap?debug=1",
            "http://h:6060/debug/pprof/",
        ] {
            assert_eq!(
                pprof_base(url).unwrap(),
                "http://h:6060/debug/pprof/",
                "{url}"
            );
        }
        assert_eq!(
            pprof_base("https://h/app/debug/pprof/goroutine").unwrap(),
            "https://h/app/debug/pprof/"
        );
    }
}
