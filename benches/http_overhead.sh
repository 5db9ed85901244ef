#!/usr/bin/env bash
# Overhead of collecting over HTTP, torch versus `go tool pprof -raw`, in one
# run against the same loopback net/http/pprof service: wall time of a 1 s
# CPU profile minus the 1 s the server spends profiling, and wall time of a
# heap profile. Prints the median of N runs (default 5) for each.
#
#   benches/http_overhead.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"

cargo build --release --quiet
work="$(mktemp -d)"
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

(cd fixtures/src && GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0 go build -trimpath -o "$work/server" ./server)
mkfifo "$work/stdin"
"$work/server" -addr 127.0.0.1:0 -lifetime 10m < "$work/stdin" > "$work/out" &
server_pid=$!
exec 3> "$work/stdin"   # keep the server's stdin open while we run
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
addr="$(awk '{print $3}' "$work/out")"
sleep 1

# Milliseconds taken by a command.
ms() {
  local start end
  start=$(date +%s%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() { # label, subtract_ms, command...
  local label="$1" subtract="$2"; shift 2
  local times=()
  for _ in $(seq "$runs"); do times+=("$(( $(ms "$@") - subtract ))"); done
  printf '%-44s %6s ms\n' "$label" "$(printf '%s\n' "${times[@]}" | median)"
}

cpu="http://$addr/debug/pprof/profile?seconds=1"
heap="http://$addr/debug/pprof/heap"
echo "median of $runs runs, $(go version | awk '{print $3}'), server on $addr"
measure "torch, 1 s CPU profile → SVG (overhead)" 1000 target/release/torch -q -f "$work/a.svg" "$cpu"
measure "go tool pprof -raw, 1 s CPU (overhead)" 1000 go tool pprof -raw "$cpu"
measure "torch, heap profile → SVG" 0 target/release/torch -q -f "$work/b.svg" "$heap"
measure "go tool pprof -raw, heap" 0 go tool pprof -raw "$heap"
