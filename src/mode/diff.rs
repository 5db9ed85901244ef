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
    if let Some(request) = config.top {
        print_top(config, request)?;
        if !config.draw_with_top {
            return Ok(());
        }
    }
    let new = crate::load(&config.sources, config, config.save.as_deref())?;
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
/// pprof's `-top -base` (or `-diff_base`): the base's samples, negated,
/// beside the new ones, and percentages of pprof's total, taken before any
/// filter: of what changed, or with `-diff_base` of the base.
fn print_top(config: &Config, request: crate::TopRequest) -> Result<(), Error> {
    let unfiltered = Config {
        filters: crate::filter::Filters::default(),
        ..config.clone()
    };
    let new = crate::load(&config.sources, &unfiltered, config.save.as_deref())?;
    let base = crate::load(&config.base, &unfiltered, None)?;
    check_types(&base, &new.profile.sample_types)?;
    let mut base_profile = negated(&base.profile);
    if config.diff_base {
        mark_as_base(&mut base_profile);
    }
    let mut difference =
        profile::merge(vec![new.profile, base_profile]).map_err(|(_, source)| Error::Merge {
            input: base.input(),
            source,
        })?;
    let totals = (0..difference.sample_types.len())
        .map(|index| crate::top::total(&difference, index, config.fold.mean))
        .collect();
    for note in crate::filter::apply(&mut difference, &config.filters) {
        crate::progress::warn(&note);
    }
    let input = new.names.join(", ");
    super::top::print(&difference, config, request, &input, Some(totals))
}

/// Labels every sample `pprof::base=true`, as pprof's `-diff_base` does:
/// such samples never merge with the new profile's, and pprof's total is
/// theirs alone.
fn mark_as_base(profile: &mut Profile) {
    let key: std::sync::Arc<str> = "pprof::base".into();
    let value: std::sync::Arc<str> = "true".into();
    profile.samples.edit(|sample| {
        sample.labels.push(profile::Label {
            key: key.clone(),
            value: profile::LabelValue::Str(value.clone()),
        });
        true
    });
}

fn negated(profile: &Profile) -> Profile {
    let mut negated = profile.clone();
    negated.samples.for_each_values_mut(|values| {
        for value in values {
            *value = value.saturating_neg();
        }
    });
    negated
}
