//! Each stage on real fixture profiles: decode (gunzip + protobuf + model),
//! fold (the call tree, every sample type), folded text (`--raw`), render
//! (inferno SVG), and the whole pipeline. `TORCH_BENCH_PROFILE=PATH` adds
//! a profile of your own (for example one made by `benches/scale.sh`);
//! the fixtures are small and mostly measure fixed costs.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use torch::fold::{self, FoldOptions};
use torch::profile::{self, DEFAULT_MAX_SIZE};
use torch::render::{self, RenderOptions};

const FIXTURES: &[&str] = &["cpu", "heap", "bench-mem", "goroutine"];

fn inputs() -> Vec<(String, PathBuf)> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/profiles");
    let mut inputs: Vec<(String, PathBuf)> = FIXTURES
        .iter()
        .map(|name| (name.to_string(), fixtures.join(format!("{name}.pb.gz"))))
        .collect();
    if let Some(path) = std::env::var_os("TORCH_BENCH_PROFILE") {
        inputs.push(("custom".to_owned(), PathBuf::from(path)));
    }
    inputs
}

fn stages(c: &mut Criterion) {
    for (name, path) in inputs() {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let profile = profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap();
        let options = FoldOptions::default();
        let measure = fold::measure(&profile, &options).unwrap();
        let tree = fold::tree(&profile, &options).unwrap();
        let mut group = c.benchmark_group(&name);
        if name == "custom" {
            group.sample_size(10);
        }
        group.throughput(Throughput::Elements(profile.samples.len() as u64));
        group.bench_function("decode", |b| {
            b.iter(|| profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap())
        });
        group.bench_function("fold", |b| {
            b.iter(|| fold::tree(&profile, &options).unwrap())
        });
        group.bench_function("raw", |b| {
            b.iter(|| {
                let mut text = Vec::with_capacity(1 << 20);
                fold::write_folded(&tree, &measure, &mut text).unwrap();
                text
            })
        });
        group.bench_function("render", |b| {
            b.iter(|| {
                let mut svg = Vec::with_capacity(1 << 20);
                render::render(&tree, &measure, &RenderOptions::default(), None, &mut svg).unwrap();
                svg
            })
        });
        // What torch draws by default for CPU: inlined frames marked, the Go
        // palette, and here --short labels too (the most post-processing).
        let marked = fold::tree(
            &profile,
            &FoldOptions {
                mark_inlined: true,
                ..FoldOptions::default()
            },
        )
        .unwrap();
        let go_short = RenderOptions {
            colors: Some("go".into()),
            short: true,
            ..RenderOptions::default()
        };
        group.bench_function("render-go-short", |b| {
            b.iter(|| {
                let mut svg = Vec::with_capacity(1 << 20);
                render::render(&marked, &measure, &go_short, None, &mut svg).unwrap();
                svg
            })
        });
        group.bench_function("all", |b| {
            b.iter(|| {
                let profile = profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap();
                let tree = fold::tree(&profile, &options).unwrap();
                let mut svg = Vec::with_capacity(1 << 20);
                render::render(&tree, &measure, &RenderOptions::default(), None, &mut svg).unwrap();
                svg
            })
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
