//! The default mode: one flame graph (or, with `--raw`, folded stacks on
//! standard output) of one sample type of the loaded profile.

use inferno::flamegraph::color::PaletteMap;

use crate::fold::{self, Measure};
use crate::palette::Program;
use crate::render::{self, RenderOptions};
use crate::tree::CallTree;
use crate::{output, Config, Error, Loaded};

/// Draws `loaded` to the configured output, or prints its folded stacks.
pub(crate) fn run(mut loaded: Loaded, config: &Config) -> Result<(), Error> {
    let input = loaded.input();
    let (tree, measure) = crate::fold_measure(&loaded.profile, config, !config.raw, &input)?;
    if config.raw {
        let written = output::stream_stdout(|out| fold::write_folded(&tree, &measure, out));
        crate::discard(tree);
        crate::discard(loaded);
        return written;
    }
    crate::release_samples(&mut loaded.profile);
    let options = crate::drawing_options(config, &loaded);
    let program = crate::program_for(&loaded, config);
    let svg = draw(&tree, &measure, config, &options, &program, &input)?;
    let total = crate::units::human(measure.total(&tree), &measure.sample_type.unit);
    crate::discard(tree);
    crate::discard(loaded);
    output::write(&config.output, &svg)?;
    if let output::Destination::File(path) = &config.output {
        let sample_type = &measure.sample_type.name;
        let what = format!("{} ({sample_type}, {total} total)", path.display());
        crate::progress::wrote(config.quiet, &what);
    }
    Ok(())
}

/// Renders the SVG, loading and saving the consistent palette when asked.
pub(crate) fn draw(
    tree: &CallTree,
    measure: &Measure,
    config: &Config,
    options: &RenderOptions,
    program: &Program,
    input: &str,
) -> Result<Vec<u8>, Error> {
    let mut palette = match &config.consistent_palette {
        Some(path) => {
            Some(
                PaletteMap::load_from_file_or_empty(path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let mut svg = Vec::new();
    render::render_program(tree, measure, options, program, palette.as_mut(), &mut svg).map_err(
        |source| Error::Render {
            input: input.to_owned(),
            source,
        },
    )?;
    if let (Some(path), Some(palette)) = (&config.consistent_palette, &palette) {
        output::write_atomically(path, |file| palette.to_writer(file))?;
    }
    Ok(svg)
}
