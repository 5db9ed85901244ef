//! Folded and differential lines as inferno parses them: arbitrary stacks
//! and values (from the fuzzer's bytes) drawn as a flame graph and as a
//! differential one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch::diff::Diff;
use torch::fold::Measure;
use torch::profile::ValueType;
use torch::render::{self, RenderOptions};
use torch::tree::CallTree;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sample_type = ValueType {
        name: "samples".into(),
        unit: "bytes".into(),
    };
    let mut stacks = Vec::new();
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate().take(2000) {
        // Each line: a stack (names cleaned as fold cleans them) and values
        // derived from its bytes.
        let names: Vec<String> = line
            .split(';')
            .map(|n| torch::fold::clean_frame_name(n).into_owned())
            .collect();
        let stack = names.join(";");
        let value = line.bytes().fold(i as i64, |a, b| a.wrapping_mul(31).wrapping_add(b as i64));
        stacks.push((stack.clone(), value >> 8));
        pairs.push((stack, (value & 0xffff) - 0x4000, (value >> 16) & 0xffff));
    }
    let folded: Vec<(&str, i64)> = stacks.iter().map(|(s, v)| (s.as_str(), *v)).collect();
    if let Ok(tree) = CallTree::from_folded(&folded) {
        let measure = Measure::new(0, sample_type.clone(), false);
        let _ = render::render(&tree, &measure, &RenderOptions::default(), None, Vec::new());
    }
    let pairs: Vec<(&str, i64, i64)> = pairs.iter().map(|(s, b, a)| (s.as_str(), *b, *a)).collect();
    if let Ok(diff) = Diff::from_folded(sample_type, &pairs) {
        let options = RenderOptions {
            min_width: 0.0,
            ..RenderOptions::default()
        };
        let _ = render::render_diff(&diff, &options, Vec::new());
    }
});
