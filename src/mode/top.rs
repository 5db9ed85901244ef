//! `--top [N]`: pprof's top table of the chosen sample type on standard
//! output.

use crate::profile::Profile;
use crate::top::{self, TopOptions};
use crate::{output, Config, Error, TopRequest};

/// Prints pprof's top table for the chosen sample type.
pub fn print(
    profile: &Profile,
    config: &Config,
    request: TopRequest,
    input: &str,
) -> Result<(), Error> {
    let options = TopOptions {
        by_cum: request.by_cum,
        node_count: request.rows.unwrap_or(0),
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
