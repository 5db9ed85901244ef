//! `--traces`: every sample's stack with its value and labels on standard
//! output, as pprof's `-traces` prints them.

use crate::profile::Profile;
use crate::traces::{self, TracesError};
use crate::{output, Config, Error};

/// Prints the report for the chosen sample type.
pub fn print(profile: &Profile, config: &Config, input: &str) -> Result<(), Error> {
    let mut text = Vec::new();
    traces::write_traces(profile, &config.fold, &mut text).map_err(|error| match error {
        TracesError::Fold(source) => Error::Fold {
            input: input.to_owned(),
            source,
        },
        TracesError::Io(source) => Error::Stdout(source),
    })?;
    output::write_stdout(&text)
}
