//! Naming addresses from `.gopclntab` in the 5.7 MB Go test binary among the
//! fixtures: finding and parsing the table, and 10,000 lookups at random
//! addresses in its text (outer function only, and with inlined frames).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use torch::symbolize::pclntab::Pclntab;

const LOOKUPS: usize = 10_000;

fn random_pcs(table: &Pclntab<'_>) -> Vec<u64> {
    let first = table.functions().next().unwrap().entry;
    let end = table.functions().last().unwrap().end;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..LOOKUPS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            first + state % (end - first)
        })
        .collect()
}

fn pclntab(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bin/bench.test");
    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table = Pclntab::from_executable(&file).unwrap();
    let pcs = random_pcs(&table);

    let mut group = c.benchmark_group("pclntab");
    group.bench_function("from_executable", |b| {
        b.iter(|| Pclntab::from_executable(&file).unwrap())
    });
    group.throughput(Throughput::Elements(LOOKUPS as u64));
    group.bench_function("lookup_10k", |b| {
        b.iter(|| pcs.iter().filter_map(|&pc| table.lookup(pc)).count())
    });
    group.bench_function("lookup_inline_10k", |b| {
        b.iter(|| {
            pcs.iter()
                .map(|&pc| table.lookup_inline(pc).len())
                .sum::<usize>()
        })
    });
    group.bench_function("from_executable_and_lookup_10k", |b| {
        b.iter(|| {
            let table = Pclntab::from_executable(&file).unwrap();
            pcs.iter().filter_map(|&pc| table.lookup(pc)).count()
        })
    });
    group.finish();
}

criterion_group!(benches, pclntab);
criterion_main!(benches);
