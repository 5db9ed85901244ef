#!/usr/bin/env bash
# Symbolizing N unique addresses (default 12000) of a Go binary with DWARF
# (default fixtures/bin/bench.test, 5.7 MB): torch versus binutils'
# `addr2line -f -i` fed the same addresses versus `go tool pprof -raw`, in
# one run. Prints wall time and peak RSS of each (best of 3).
#
#   benches/symbolize.sh [BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-fixtures/bin/bench.test}"
count="${2:-12000}"

cargo build --release --quiet --bin torch --example address_profile
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
target/release/examples/address_profile "$binary" "$work/p.pb.gz" "$work/addrs" "$count"

run() { # label, command... : best wall time and its peak RSS over 3 runs
  local label="$1"; shift
  local best=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$work/t" "$@" > "$work/out" 2> /dev/null < "${stdin:-/dev/null}"
    end=$(date +%s%N)
    secs=$(awk "BEGIN {printf \"%.3f\", ($end - $start) / 1e9}")
    kb=$(cat "$work/t")
    if [ -z "$best" ] || awk "BEGIN {exit !($secs < ${best%% *})}"; then best="$secs $kb"; fi
  done
  printf '%-40s %6s s %8s MB peak RSS\n' "$label" "${best%% *}" "$(awk "BEGIN {printf \"%.1f\", ${best##* } / 1024}")"
}

echo "$(wc -l < "$work/addrs") unique addresses, $(du -h "$binary" | cut -f1) binary $binary"
run "torch -r BINARY PROFILE" target/release/torch -r -q "$binary" "$work/p.pb.gz"
stdin="$work/addrs" run "addr2line -f -i -e BINARY" addr2line -f -i -e "$binary"
run "go tool pprof -raw BINARY PROFILE" go tool pprof -raw "$binary" "$work/p.pb.gz"
unnamed=$(target/release/torch -r -q "$binary" "$work/p.pb.gz" | grep -c '^0x' || true)
echo "addresses torch left unnamed: $unnamed"

# Instruction counts do not depend on what else the machine is doing.
if command -v valgrind > /dev/null; then
  count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 > /dev/null < "${stdin:-/dev/null}" | awk '/refs:/ {print $NF}'; }
  echo "instructions, torch:     $(count target/release/torch -r -q "$binary" "$work/p.pb.gz")"
  echo "instructions, addr2line: $(stdin="$work/addrs" count addr2line -f -i -e "$binary")"
fi
