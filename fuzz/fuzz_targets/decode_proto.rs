//! Protobuf (and gzip) decoding and model validation, then every stage that
//! reads the model: fold for each sample type, top, pruning, re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch::fold::{self, FoldOptions, SampleSelection};

fuzz_target!(|data: &[u8]| {
    let Ok(mut profile) = torch::profile::decode(data, 16 << 20) else {
        return;
    };
    let _ = torch::profile::remove_uninteresting(&mut profile);
    for index in 0..profile.sample_types.len().min(4) {
        let options = FoldOptions {
            selection: SampleSelection::Named(index.to_string()),
            ..FoldOptions::default()
        };
        let _ = fold::fold(&profile, &options);
        let _ = torch::top::top(&profile, &options, false);
    }
    let encoded = torch::profile::encode_gzip(&profile);
    torch::profile::decode(&encoded, 64 << 20).expect("torch reads what it writes");
});
