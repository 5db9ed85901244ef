//! Names from the running service itself: `/debug/pprof/symbol`, asked with
//! GET (Go 1.22 and later answer POST with 405), addresses in the query
//! string joined by `+`, answered with `0xADDR name` lines.

use std::collections::HashMap;
use std::time::Duration;

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

/// Asks the service that served `target` for the names of `addresses`.
pub fn lookup(
    target: &Target,
    addresses: &[u64],
    options: &FetchOptions,
) -> Result<HashMap<u64, String>, crate::Error> {
    let mut names = HashMap::new();
    let base = symbol_url(&target.url);
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
        let options = FetchOptions {
            timeout: Some(options.timeout.unwrap_or(Duration::from_secs(30))),
            headers: options.headers.clone(),
        };
        let body = fetch::fetch(&symbol_target, &options, 64 << 20)?;
        parse_symbols(&String::from_utf8_lossy(&body), &mut names);
    }
    Ok(names)
}

/// Reads `0xADDR name` lines; the `num_symbols:` header and anything else
/// is skipped.
fn parse_symbols(text: &str, names: &mut HashMap<u64, String>) {
    for line in text.lines() {
        let Some((address, name)) = line.split_once(' ') else {
            continue;
        };
        let Some(hex) = address.strip_prefix("0x") else {
            continue;
        };
        if let (Ok(address), false) = (u64::from_str_radix(hex, 16), name.trim().is_empty()) {
            names.insert(address, name.trim().to_owned());
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
        parse_symbols(
            "num_symbols: 1\n0x4a1b2c main.main\n0x10 runtime.goexit\njunk\n",
            &mut names,
        );
        assert_eq!(names.len(), 2);
        assert_eq!(names[&0x4a1b2c], "main.main");
    }
}
