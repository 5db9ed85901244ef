//! `--base OLD NEW`: the new profile against the base, as a differential
//! graph, two-column folded lines, or pprof's top table of the difference.

use crate::diff::{self, Diff, Side};
use crate::fold::Measure;
use crate::output::{self, Destination};
use crate::profile::{self, Profile};
use crate::render::{self, RenderOptions};
use crate::tree::CallTree;
use crate::{Config, Error, Loaded};

/// Compares `new` with `base` as the command line asks.
pub(crate) fn run(base: &Loaded, new: &Loaded, config: &Config) -> Result<(), Error> {
    let input = new.input();
    let base_input = base.input();
    if base.profile.sample_types != new.profile.sample_types {
        return Err(Error::Merge {
            input: base_input,
            source: profile::MergeError::SampleTypes {
                first: new.profile.sample_type_names(),
                found: base.profile.sample_type_names(),
            },
        });
    }
    if let Some(request) = config.top {
        // pprof's -base: the base's samples, negated, beside the new ones.
        let difference = profile::merge(vec![new.profile.clone(), negated(&base.profile)])
            .map_err(|(_, source)| Error::Merge {
                input: base_input.clone(),
                source,
            })?;
        super::top::print(&difference, config, request, &input)?;
        if !config.draw_with_top {
            return Ok(());
        }
    }
    let drawing = !config.raw;
    let after = Folding::of(&new.profile, config, drawing, &input)?;
    let before = Folding::of(&base.profile, config, drawing, &base_input)?;
    let difference = compare(&before, &after, config, &base_input)?;
    if config.raw {
        let mut text = Vec::new();
        diff::write_diff(&difference, &mut text).map_err(Error::Stdout)?;
        return output::write_stdout(&text);
    }
    let options = crate::drawing_options(config, new);
    draw(&difference, &options, &input, &config.output)
}

/// A profile folded for comparison: its tree and the sample type shown.
pub(crate) struct Folding {
    pub(crate) tree: CallTree,
    pub(crate) measure: Measure,
}

impl Folding {
    pub(crate) fn of(
        profile: &Profile,
        config: &Config,
        drawing: bool,
        input: &str,
    ) -> Result<Folding, Error> {
        Ok(Folding {
            measure: crate::measure_for(profile, &config.fold, input)?,
            tree: crate::fold_tree(profile, config, drawing, input)?,
        })
    }

    fn side(&self) -> Side<'_> {
        Side {
            tree: &self.tree,
            measure: &self.measure,
        }
    }

    /// pprof's total of the shown sample type.
    pub(crate) fn total(&self) -> i64 {
        self.measure.total(&self.tree)
    }
}

/// `after` against `before`: one tree with both sides.
pub(crate) fn compare(
    before: &Folding,
    after: &Folding,
    config: &Config,
    input: &str,
) -> Result<Diff, Error> {
    diff::diff(before.side(), after.side(), config.normalize).map_err(|source| Error::Diff {
        input: input.to_owned(),
        source,
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
