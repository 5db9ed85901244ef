//! `--top [N]`: pprof's top table of the chosen sample type on standard
//! output.

use crate::profile::Profile;
use crate::top::{self, TopOptions};
use crate::{output, Config, Error, TopRequest};

/// Prints pprof's top table for the chosen sample type. `totals` are
/// pprof's totals per sample type before `config`'s filters, when any
/// filtered `profile`: percentages are of those, as pprof's are.
pub fn print(
    profile: &Profile,
    config: &Config,
    request: TopRequest,
    input: &str,
    totals: Option<Vec<i64>>,
) -> Result<(), Error> {
    let options = TopOptions {
        by_cum: request.by_cum,
        node_count: request.rows.unwrap_or(0),
        totals,
        active_filters: config.filters.active(),
        ..TopOptions::default()
    };
    let table = top::top_with(profile, &config.fold, &options).map_err(|source| Error::Fold {
        input: input.to_owned(),
        source,
    })?;
    let mut text = Vec::new();
    top::write_top(&table, None, &mut text).map_err(Error::Stdout)?;
    output::write_stdout(&text)
}
