//! pprof's text reports on standard output: `--traces` (every sample's
//! stack with its value and labels) and `--list` (annotated source).

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

/// Prints the annotated source of the functions matching `pattern`.
pub fn list(profile: &Profile, config: &Config, pattern: &str, input: &str) -> Result<(), Error> {
    let regex = regex::Regex::new(pattern).map_err(|e| Error::ListPattern {
        pattern: pattern.to_owned(),
        reason: e.to_string(),
    })?;
    let mut text = Vec::new();
    crate::list::write_list(
        profile,
        &config.fold,
        &regex,
        &config.source_files,
        &mut text,
    )
    .map_err(|error| match error {
        crate::list::ListError::Fold(source) => Error::Fold {
            input: input.to_owned(),
            source,
        },
        crate::list::ListError::Io(source) => Error::Stdout(source),
        crate::list::ListError::NoMatch(pattern) => Error::ListNoMatch {
            input: input.to_owned(),
            pattern,
        },
    })?;
    output::write_stdout(&text)
}
