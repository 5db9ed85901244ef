//! Each stage on real fixture profiles: decode (gunzip + protobuf + model),
//! fold (one sample type), render (inferno SVG), and the whole pipeline.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use torch::fold::{self, FoldOptions};
use torch::profile::{self, DEFAULT_MAX_SIZE};
use torch::render::{self, RenderOptions};

const FIXTURES: &[&str] = &["cpu", "heap", "bench-mem", "goroutine"];

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/profiles")
        .join(format!("{name}.pb.gz"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stages(c: &mut Criterion) {
    for name in FIXTURES {
        let bytes = read(name);
        let profile = profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap();
        let options = FoldOptions::default();
        let folded = fold::fold(&profile, &options).unwrap();
        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Elements(profile.samples.len() as u64));
        group.bench_function("decode", |b| {
            b.iter(|| profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap())
        });
        group.bench_function("fold", |b| {
            b.iter(|| fold::fold(&profile, &options).unwrap())
        });
        group.bench_function("render", |b| {
            b.iter(|| {
                let mut svg = Vec::with_capacity(1 << 20);
                render::render(&folded, &RenderOptions::default(), None, &mut svg).unwrap();
                svg
            })
        });
        // What torch draws by default for CPU: inlined frames marked, the Go
        // palette, and here --short labels too (the most post-processing).
        let marked = fold::fold(
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
                render::render(&marked, &go_short, None, &mut svg).unwrap();
                svg
            })
        });
        group.bench_function("all", |b| {
            b.iter(|| {
                let profile = profile::decode(&bytes, DEFAULT_MAX_SIZE).unwrap();
                let folded = fold::fold(&profile, &options).unwrap();
                let mut svg = Vec::with_capacity(1 << 20);
                render::render(&folded, &RenderOptions::default(), None, &mut svg).unwrap();
                svg
            })
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
