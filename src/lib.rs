//! torch: flame graphs from Go pprof profiles.
//!
//! The pipeline, one module per stage: [`source`] reads what the user named,
//! [`profile`] decodes it into the model, [`fold`] turns samples into folded
//! stacks for one sample type, [`render`] draws them with inferno, and
//! [`output`] writes the result. [`run`] wires the stages for a [`Config`].

pub mod cli;
pub mod error;
pub mod fold;
pub mod output;
pub mod profile;
pub mod render;
pub mod source;
pub mod units;

use std::path::PathBuf;

use inferno::flamegraph::color::PaletteMap;

pub use error::Error;
use fold::{FoldOptions, Folded};
use output::Destination;
use profile::Profile;
use render::RenderOptions;
use source::RawProfile;

/// Everything one run needs, as decided by the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `[BINARY] PROFILE…` as given.
    pub inputs: Vec<PathBuf>,
    pub fold: FoldOptions,
    pub render: RenderOptions,
    /// Where the SVG goes.
    pub output: Destination,
    /// Print folded stacks to standard output instead of drawing.
    pub raw: bool,
    /// A palette file that keeps colours stable across runs (`--cp`).
    pub consistent_palette: Option<PathBuf>,
    /// Largest decompressed profile accepted, in bytes.
    pub max_size: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            inputs: Vec::new(),
            fold: FoldOptions::default(),
            render: RenderOptions::default(),
            output: Destination::File(PathBuf::from("torch.svg")),
            raw: false,
            consistent_palette: None,
            max_size: profile::DEFAULT_MAX_SIZE,
        }
    }
}

/// Reads, decodes, folds and renders as `config` says.
pub fn run(config: &Config) -> Result<(), Error> {
    if !config.raw {
        if let Destination::File(path) = &config.output {
            output::check_directory(path)?;
        }
    }
    let (binary, files) = source::split_binary(&config.inputs)?;
    let raws = files
        .iter()
        .map(|path| source::read_file(path, binary.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    let profiles = raws
        .iter()
        .map(|raw| decode(raw, config.max_size))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = raws.iter().map(|raw| raw.origin.name()).collect();
    let folded = fold_profiles(&profiles, &names, &config.fold)?;
    if config.raw {
        let mut text = Vec::new();
        fold::write_folded(&folded, &mut text).map_err(Error::Stdout)?;
        return output::write_stdout(&text);
    }
    let svg = draw(&folded, config, &names.join(", "))?;
    output::write(&config.output, &svg)
}

/// Decodes one input and checks it has something to show.
pub fn decode(raw: &RawProfile, max_size: u64) -> Result<Profile, Error> {
    let input = raw.origin.name();
    let profile = profile::decode(&raw.bytes, max_size).map_err(|source| Error::Decode {
        input: input.clone(),
        source,
    })?;
    if profile.samples.is_empty() {
        return Err(Error::NoSamples { input });
    }
    Ok(profile)
}

fn fold_profiles(
    profiles: &[Profile],
    names: &[String],
    options: &FoldOptions,
) -> Result<Folded, Error> {
    let refs: Vec<&Profile> = profiles.iter().collect();
    fold::fold(&refs, options).map_err(|(position, source)| Error::Fold {
        input: names[position].clone(),
        source,
    })
}

/// Renders the SVG, loading and saving the consistent palette when asked.
fn draw(folded: &Folded, config: &Config, input: &str) -> Result<Vec<u8>, Error> {
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
    render::render(folded, &config.render, palette.as_mut(), &mut svg).map_err(|source| {
        Error::Render {
            input: input.to_owned(),
            source,
        }
    })?;
    if let (Some(path), Some(palette)) = (&config.consistent_palette, &palette) {
        output::write_atomically(path, |file| palette.to_writer(file))?;
    }
    Ok(svg)
}
