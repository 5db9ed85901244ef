//! `--base OLD NEW`: the new profile against the base, as a differential
//! graph, two-column folded lines, or pprof's top table of the difference.

use crate::diff::{self, Comparison, Diff};
use crate::output::{self, Destination};
use crate::profile::{self, Profile, ValueType};
use crate::render::{self, RenderOptions};
use crate::{Config, Error, Loaded};

/// Compares the sources with the base as the command line asks. Each
/// profile is folded as soon as it is loaded and then let go, so the two
/// are never in memory at once, except for pprof's top table, which
/// works on both profiles.
pub(crate) fn run(config: &Config) -> Result<(), Error> {
    let new = crate::load(&config.sources, config, config.save.as_deref())?;
    if let Some(request) = config.top {
        let base = crate::load(&config.base, config, None)?;
        check_types(&base, &new.profile.sample_types)?;
        // pprof's -base: the base's samples, negated, beside the new ones.
        let difference = profile::merge(vec![new.profile.clone(), negated(&base.profile)])
            .map_err(|(_, source)| Error::Merge {
                input: base.input(),
                source,
            })?;
        super::top::print(&difference, config, request, &new.input())?;
        if !config.draw_with_top {
            return Ok(());
        }
    }
    let input = new.input();
    let mut options = crate::drawing_options(config, &new);
    let sample_types = new.profile.sample_types.clone();
    let mut comparison = start(&new, config, !config.raw)?;
    drop(new);
    let base = crate::load(&config.base, config, None)?;
    check_types(&base, &sample_types)?;
    add_base(&mut comparison, &base)?;
    crate::name_base(&mut options, &base);
    drop(base);
    let difference = comparison.finish(config.normalize);
    if config.raw {
        return output::stream_stdout(|out| diff::write_diff(&difference, out));
    }
    draw(&difference, &options, &input, &config.output)?;
    if let Destination::File(path) = &config.output {
        let what = format!("{} ({})", path.display(), change_summary(&difference));
        crate::progress::wrote(config.quiet, &what);
    }
    Ok(())
}

/// `alloc_space, 12.5 MB → 14.1 MB`: the sample type and both totals.
pub(crate) fn change_summary(difference: &Diff) -> String {
    let unit = &difference.sample_type.unit;
    format!(
        "{}, {} → {}",
        difference.sample_type.name,
        crate::units::human(difference.total_before, unit),
        crate::units::human(difference.total_after, unit)
    )
}

/// A comparison of the configured sample type with `new` folded in; for
/// `drawing`, frames are named and ordered as the graph shows them.
pub(crate) fn start(new: &Loaded, config: &Config, drawing: bool) -> Result<Comparison, Error> {
    let input = new.input();
    let options = crate::fold_options(config, drawing);
    let measure = crate::measure_for(&new.profile, &config.fold, &input)?;
    let mut comparison = Comparison::new(&measure, &options);
    comparison
        .add_new(&new.profile)
        .map_err(|source| Error::Diff { input, source })?;
    Ok(comparison)
}

/// Folds the base into `comparison`.
pub(crate) fn add_base(comparison: &mut Comparison, base: &Loaded) -> Result<(), Error> {
    comparison
        .add_base(&base.profile)
        .map_err(|source| Error::Diff {
            input: base.input(),
            source,
        })
}

/// The base must have the new profile's sample types.
fn check_types(base: &Loaded, sample_types: &[ValueType]) -> Result<(), Error> {
    if base.profile.sample_types == sample_types {
        return Ok(());
    }
    Err(Error::Merge {
        input: base.input(),
        source: profile::MergeError::SampleTypes {
            first: profile::type_names(sample_types),
            found: base.profile.sample_type_names(),
        },
    })
}

/// Draws a differential graph to `destination`.
pub(crate) fn draw(
    difference: &Diff,
    options: &RenderOptions,
    input: &str,
    destination: &Destination,
) -> Result<(), Error> {
    let mut svg = Vec::new();
    render::render_diff(difference, options, &mut svg).map_err(|source| Error::Render {
        input: input.to_owned(),
        source,
    })?;
    output::write(destination, &svg)
}

/// The profile with every value negated, as pprof subtracts a base.
fn negated(profile: &Profile) -> Profile {
    let mut negated = profile.clone();
    for sample in &mut negated.samples {
        for value in &mut sample.values {
            *value = value.saturating_neg();
        }
    }
    negated
}
