#!/usr/bin/env bash
# Benchmarks → flame graphs. Runs a Go package's benchmarks with CPU and
# memory profiling on, then draws every sample type of both profiles with
# torch into one folder (SVGs, index.html, summary.md) for a CI job to
# publish. On GitHub Actions the top-10 tables also go to the job summary.
#
#   examples/ci/flamegraphs.sh [PACKAGE_DIR] [OUT_DIR]
#
# Environment: TORCH (the torch binary, default `torch`), BENCH (the
# -bench pattern, default `.`), BENCHTIME (default 1s).
set -euo pipefail

package=${1:-.}
out=$(mkdir -p "${2:-flamegraphs}" && cd "${2:-flamegraphs}" && pwd)
torch=${TORCH:-torch}

cd "$package"
# With -cpuprofile/-memprofile, go test keeps the test binary (NAME.test)
# in the current directory: torch reads the module from its build info.
go test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1s}" -benchmem \
  -cpuprofile cpu.out -memprofile mem.out | tee "$out/bench.txt"
# NAME.test on Linux and macOS, NAME.test.exe on Windows.
binary="$(basename "$(go list -f '{{.ImportPath}}' .)").test$(go env GOEXE)"

"$torch" -q --output-dir "$out" "$binary" cpu.out mem.out

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$out/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
echo "flame graphs: $out/index.html"
