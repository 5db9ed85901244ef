//! `--every D --count N`: a leak hunt. Takes N profiles D apart, saves each
//! as received, and after each one draws it against the one before and
//! against the first, so an interrupted hunt keeps everything it collected.

use std::path::PathBuf;
use std::time::Duration;

use super::diff::{add_base, draw, start};
use crate::fold::Measure;
use crate::output::Destination;
use crate::progress::{Feedback, Progress};
use crate::{fold, units, Config, Error, Hunt, Loaded};

/// Runs the hunt; only the first step and the one before are kept.
pub fn run(config: &Config, hunt: &Hunt) -> Result<(), Error> {
    let Destination::File(last_vs_first) = &config.output else {
        return Err(Error::HuntNeedsFile);
    };
    let directory = match last_vs_first.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = last_vs_first
        .file_stem()
        .map_or_else(|| "torch".to_owned(), |s| s.to_string_lossy().into_owned());
    let started = std::time::Instant::now();
    let mut first: Option<Step> = None;
    let mut previous: Option<Step> = None;
    for step in 1..=hunt.count {
        if step > 1 {
            wait_for_step(config, hunt, step, started);
        }
        let saved = directory.join(format!("{stem}-{step}.pb.gz"));
        let loaded = crate::load(&config.sources, config, Some(&saved))?;
        let current = Step::of(loaded, config)?;
        // At the second step, the step before is the first.
        let before = previous.as_ref().or(first.as_ref());
        let line = hunt_line(
            step,
            hunt.count,
            started.elapsed(),
            &current,
            before,
            first.as_ref(),
        );
        eprintln!("torch: {line}");
        if let (Some(before), Some(origin)) = (before, &first) {
            let pair = directory.join(format!("{stem}-diff-{}-{step}.svg", step - 1));
            // The current step is folded once, for both comparisons.
            let with_current = start(&current.loaded, config, true)?;
            for (before, path) in [(before, pair), (origin, last_vs_first.clone())] {
                let mut comparison = with_current.clone();
                add_base(&mut comparison, &before.loaded)?;
                let difference = comparison.finish(config.normalize);
                let options = crate::differential_options(config, &current.loaded, &before.loaded);
                draw(
                    &difference,
                    &options,
                    &current.loaded.input(),
                    &Destination::File(path),
                )?;
            }
        }
        match first {
            None => first = Some(current),
            Some(_) => previous = Some(current),
        }
    }
    let what = format!(
        "{}: {} profiles ({stem}-N.pb.gz), {} differential graphs ({stem}-diff-N-M.svg) \
         and {}",
        directory.display(),
        hunt.count,
        hunt.count - 1,
        last_vs_first.display()
    );
    crate::progress::wrote(config.quiet, &what);
    Ok(())
}

/// One profile of the hunt and its total.
struct Step {
    loaded: Loaded,
    measure: Measure,
    total: i64,
}

impl Step {
    fn of(loaded: Loaded, config: &Config) -> Result<Step, Error> {
        let measure = crate::measure_for(&loaded.profile, &config.fold, &loaded.input())?;
        let total = fold::total(&loaded.profile, &measure);
        Ok(Step {
            loaded,
            measure,
            total,
        })
    }
}

/// Waits until step `step` is due, with progress.
fn wait_for_step(config: &Config, hunt: &Hunt, step: usize, started: std::time::Instant) {
    let next = hunt.every * (step as u32 - 1);
    let wait = next.saturating_sub(started.elapsed());
    let what = format!("step {step} of {}", hunt.count);
    let seconds = wait.as_secs_f64().ceil() as u64;
    let feedback = match seconds {
        0 => Feedback::Quiet,
        _ => Feedback::detect(config.quiet),
    };
    let _progress = Progress::start(feedback, &what, seconds);
    std::thread::sleep(wait);
}

/// `step 2/4 at 30 s: inuse_space 19.3 MB (+9.7 MB since step 1, +9.7 MB since the first)`
fn hunt_line(
    step: usize,
    count: usize,
    at: Duration,
    current: &Step,
    previous: Option<&Step>,
    first: Option<&Step>,
) -> String {
    let sample_type = &current.measure.sample_type;
    let unit = &sample_type.unit;
    let total = current.total;
    let mut line = format!(
        "step {step}/{count} at {} s: {} {}",
        at.as_secs(),
        sample_type.name,
        units::human(total, unit)
    );
    if let (Some(previous), Some(first)) = (previous, first) {
        let change = |from: &Step| {
            let delta = total.saturating_sub(from.total);
            let sign = if delta > 0 { "+" } else { "" };
            format!("{sign}{}", units::human(delta, unit))
        };
        line.push_str(&format!(
            " ({} since step {}, {} since the first)",
            change(previous),
            step - 1,
            change(first)
        ));
    }
    line
}
