#!/usr/bin/env bash
# Pull request → what changed. Runs a Go package's benchmarks with CPU and
# memory profiling on the base commit and on the head (two git worktrees,
# so neither checkout is disturbed), then draws the differential report
# with torch: a differential flame graph per sample type, the head's own
# graphs, index.html, and summary.md with each benchmark's ns/op, B/op and
# allocs/op before → after and the functions that changed most. On GitHub
# Actions the summary also goes to the job summary.
#
#   examples/ci/compare.sh BASE_REF [PACKAGE_DIR] [OUT_DIR]
#
# Run from inside the repository. Environment: TORCH (the torch binary,
# default `torch`), BENCH (the -bench pattern, default `.`), BENCHTIME
# (default 1s), COUNT (go test -count, default 1; medians are reported).
set -euo pipefail

base_ref=${1:?usage: compare.sh BASE_REF [PACKAGE_DIR] [OUT_DIR]}
package=${2:-.}
out=$(mkdir -p "${3:-compare}" && cd "${3:-compare}" && pwd)
torch=${TORCH:-torch}

repo=$(git rev-parse --show-toplevel)
prefix=$(git rev-parse --show-prefix)   # where we are inside the repository
work=$(mktemp -d "${TMPDIR:-/tmp}/torch-compare.XXXXXX")
cleanup() {
  git -C "$repo" worktree remove --force "$work/base" > /dev/null 2>&1 || true
  git -C "$repo" worktree remove --force "$work/head" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
git -C "$repo" worktree add --detach "$work/base" "$base_ref" > /dev/null
git -C "$repo" worktree add --detach "$work/head" HEAD > /dev/null

# Benchmarks of one side into $out/<side>: cpu.out, mem.out, bench.txt and
# the test binary (go test keeps it when profiling).
bench() { # side
  local side="$1" dir="$out/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$work/$side/$prefix$package"
    go test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1s}" -count "${COUNT:-1}" \
      -benchmem -cpuprofile "$dir/cpu.out" -memprofile "$dir/mem.out" -o "$dir/bench.test$(go env GOEXE)" \
      > "$dir/bench.txt"
  )
  cat "$dir/bench.txt" >&2
}
bench base
bench head

"$torch" -q --output-dir "$out/report" \
  --base "$out/base/cpu.out" --base "$out/base/mem.out" \
  "$out/head/bench.test$(go env GOEXE)" "$out/head/cpu.out" "$out/head/mem.out"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$out/report/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
echo "report: $out/report/index.html"
