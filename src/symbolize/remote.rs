//! Names from the running service itself: `/debug/pprof/symbol`, asked with
//! GET (Go 1.22 and later answer POST with 405), addresses in the query
//! string joined by `+`, answered with `0xADDR name` lines.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::Url;

use crate::fetch::{self, FetchOptions};
use crate::source::Target;

/// Addresses per request, to keep URLs well under server header limits.
const BATCH: usize = 1000;

/// The symbol endpoint that serves the profile at `profile_url`: the same
/// prefix before `/debug/pprof/`, or the root when there is none.
pub fn symbol_url(profile_url: &Url) -> Url {
    let mut url = profile_url.clone();
    let path = profile_url.path();
    let prefix = path.find("/debug/pprof/").map_or("", |at| &path[..at]);
    url.set_path(&format!("{prefix}/debug/pprof/symbol"));
    url.set_query(None);
    url
}

/// Asks the service that served `target` for the names of `addresses`,
/// in batches, all within one deadline (`--timeout`, else 30 s), each
/// reply within `max_size` bytes. Only the addresses asked for are kept.
pub fn lookup(
    target: &Target,
    addresses: &[u64],
    options: &FetchOptions,
    max_size: u64,
) -> Result<HashMap<u64, String>, crate::Error> {
    let mut names = HashMap::new();
    let base = symbol_url(&target.url);
    let timeout = options.timeout.unwrap_or(Duration::from_secs(30));
    let deadline = Instant::now() + timeout;
    for batch in addresses.chunks(BATCH) {
        let query: Vec<String> = batch.iter().map(|a| format!("{a:#x}")).collect();
        let mut url = base.clone();
        url.set_query(Some(&query.join("+")));
        let symbol_target = Target {
            url,
            insecure: target.insecure,
            seconds: None,
            delta: false,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let options = FetchOptions {
            timeout: Some(left.max(Duration::from_millis(1))),
            headers: options.headers.clone(),
        };
        // Named by the endpoint, not by a URL of a thousand addresses.
        let shortened = |error| match error {
            crate::Error::Fetch { reason, .. } => crate::Error::Fetch {
                url: format!("{base}?<{} addresses>", batch.len()),
                reason,
            },
            other => other,
        };
        let body = fetch::fetch(&symbol_target, &options, max_size).map_err(shortened)?;
        let asked: HashSet<u64> = batch.iter().copied().collect();
        parse_symbols(&String::from_utf8_lossy(&body), &asked, &mut names);
    }
    Ok(names)
}

/// Reads `0xADDR name` lines for the addresses `asked`; the
/// `num_symbols:` header, other addresses and anything else are skipped.
fn parse_symbols(text: &str, asked: &HashSet<u64>, names: &mut HashMap<u64, String>) {
    for line in text.lines() {
        let Some((address, name)) = line.split_once(' ') else {
            continue;
        };
        let Some(hex) = address.strip_prefix("0x") else {
            continue;
        };
        if let (Ok(address), false) = (u64::from_str_radix(hex, 16), name.trim().is_empty()) {
            if asked.contains(&address) {
                names.insert(address, name.trim().to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_endpoint_keeps_the_prefix() {
        let at = |s: &str| symbol_url(&Url::parse(s).unwrap()).to_string();
        assert_eq!(
            at("http://h:1/debug/pprof/heap?debug=1"),
            "http://h:1/debug/pprof/symbol"
        );
        assert_eq!(
            at("http://h:1/admin/debug/pprof/heap"),
            "http://h:1/admin/debug/pprof/symbol"
        );
        assert_eq!(
            at("http://h:1/nosymbols/heap"),
            "http://h:1/debug/pprof/symbol"
        );
    }

    #[test]
    fn answers_are_parsed() {
        let mut names = HashMap::new();
        let asked: HashSet<u64> = [0x4a1b2c, 0x10].into();
        parse_symbols(
            "num_symbols: 1\n0x4a1b2c main.main\n0x10 runtime.goexit\njunk\n0x99 not.asked\n",
            &asked,
            &mut names,
        );
        assert_eq!(names.len(), 2, "only what was asked: {names:?}");
        assert_eq!(names[&0x4a1b2c], "main.main");
    }
}
