//! Go's debug=1 text formats: the first byte picks a header (heap, heap_v2,
//! goroutine, threadcreate, mutex, block) so every parser sees the input,
//! then the profile is folded. Also the runtime.MemStats reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torch::fold::{self, FoldOptions};

const HEADERS: [&str; 6] = [
    "heap profile: 1: 2048 [4: 8192] @ heap/1048576\n",
    "heap profile: 1: 2048 [4: 8192] @ heap_v2/524288\n",
    "goroutine profile: total 3\n",
    "threadcreate profile: total 5\n",
    "--- mutex:\ncycles/second=2400000000\nsampling period=1\n",
    "--- contention:\ncycles/second=2400000000\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut input = HEADERS[pick as usize % HEADERS.len()].as_bytes().to_vec();
    input.extend_from_slice(rest);
    let _ = torch::profile::memstats(&input, 16 << 20);
    if let Ok(profile) = torch::profile::decode(&input, 16 << 20) {
        let _ = fold::fold(&profile, &FoldOptions::default());
    }
});
