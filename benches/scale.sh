#!/usr/bin/env bash
# How torch and `go tool pprof` scale with a realistic heap profile: deep
# (up to ~180 frames), wide (a few thousand functions, ~130,000 distinct
# alloc_space stacks at 1×) and large (~230,000 samples, ~25 MB uncompressed
# at 1×), at several sizes. The profiles come from fixtures/src/scalegen
# (a generated Go program run with every allocation sampled); they are made
# once per size under $SCALE_DIR and reused while scalegen is unchanged.
#
#   benches/scale.sh > scale.md
#
# Environment:
#   SIZES      sizes to run (default "1 4 16"; 16× needs ~12 GB of RAM to
#              generate and takes a long time with pprof)
#   ROUNDS     rounds (default 5): every round runs each command once, in
#              turn; the table shows medians
#   TORCH      torch binary (default target/release/torch, built if missing)
#   SCALE_DIR  where the profiles go (default target/scale)
#   REGEN=1    regenerate the profiles even if present
#   TORCH_ONLY=1  skip the pprof commands (for growth runs at 16×, where
#              pprof takes minutes per command)
#
# Prints one markdown report on stdout (progress on stderr): the profiles,
# a table of median wall time, CPU time (user and system) and peak RSS per
# command and size (from /usr/bin/time -f '%e %M %U %S'), and ratios. On a
# VM whose host backs memory lazily, system time (the kernel clearing
# pages the process touches for the first time) can swing several-fold
# between identical runs; user time is the steady part.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

sizes="${SIZES:-1 4 16}"
rounds="${ROUNDS:-5}"
scale_dir="${SCALE_DIR:-target/scale}"
mkdir -p "$scale_dir"
scale_dir="$(cd "$scale_dir" && pwd)"

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off CGO_ENABLED=0

if [ -z "${TORCH:-}" ]; then
  TORCH=target/release/torch
  [ -x "$TORCH" ] || cargo build --release --quiet --bin torch
fi
torch="$(cd "$(dirname "$TORCH")" && pwd)/$(basename "$TORCH")"
[ -x "$torch" ] || { echo "scale.sh: no torch binary at $TORCH" >&2; exit 1; }

# pprof itself, not through the go command (whose start-up would be timed
# too). The profiles carry function names; an empty PPROF_BINARY_PATH keeps
# pprof from opening the binary, and nothing needs the network.
# (Go 1.24+ builds pprof on first use and caches it; `go tool -n` names it.)
go tool pprof -h > /dev/null 2>&1 || true
pprof="$(go tool -n pprof 2> /dev/null || true)"
[ -x "$pprof" ] || pprof="$(go env GOTOOLDIR)/pprof"
[ -x "$pprof" ] || { echo "scale.sh: no pprof at $pprof" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/torch-scale.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/nobin" "$work/out"
export PPROF_BINARY_PATH="$work/nobin" PPROF_TMPDIR="$work/out"

# Wall time and peak RSS: /usr/bin/time, installed if missing, else Python.
if [ ! -x /usr/bin/time ] && command -v apt-get > /dev/null && [ "$(id -u)" = 0 ]; then
  echo "scale.sh: installing time" >&2
  apt-get install -y time > /dev/null 2>&1 || true
fi
measure() { # out-file, command... : writes "seconds max-rss-KB user-s sys-s"
  local t="$1"; shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %M %U %S' -o "$t" "$@" > /dev/null 2> "$work/err"
  else
    python3 - "$t" "$@" > /dev/null 2> "$work/err" <<'EOF'
import resource, subprocess, sys, time
start = time.monotonic()
rc = subprocess.call(sys.argv[2:])
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write("%.2f %d %.2f %.2f\n" % (wall, usage.ru_maxrss, usage.ru_utime, usage.ru_stime))
sys.exit(rc)
EOF
  fi
}

# The generator, built once.
scalegen="$work/scalegen"
(cd fixtures/src && go build -o "$scalegen" ./scalegen)
stamp_of() { # size: what the profiles of this size depend on
  { echo "size $1"; go version; cat fixtures/src/go.mod fixtures/src/scalegen/*.go; } | sha256sum | cut -d' ' -f1
}

declare -A gen_time
for size in $sizes; do
  dir="$scale_dir/size-$size"
  stamp="$(stamp_of "$size")"
  if [ "${REGEN:-0}" != 1 ] && [ -f "$dir/stamp" ] && [ "$(head -1 "$dir/stamp")" = "$stamp" ]; then
    echo "scale.sh: reusing $dir" >&2
  else
    echo "scale.sh: generating size $size into $dir" >&2
    rm -rf "$dir"
    start=$(date +%s%N)
    "$scalegen" -size "$size" -out "$dir" > /dev/null
    end=$(date +%s%N)
    printf '%s\n%s\n' "$stamp" "$(awk "BEGIN {printf \"%.0f\", ($end - $start) / 1e9}")" > "$dir/stamp"
  fi
  gen_time[$size]="$(sed -n 2p "$dir/stamp")"
done

labels=(
  "torch SVG"
  "torch --raw"
  "torch --top 20"
  "torch --base A B (SVG)"
  "torch --output-dir"
  "pprof -raw"
  "pprof -top -nodecount=20"
  "pprof -top -base A B"
)
run_cmd() { # index, size dir, result file
  local i="$1" d="$2" t="$3" o="$work/out"
  case "$i" in
    0) measure "$t" "$torch" -alloc_space "$d/heap.pb.gz" -f "$o/out.svg" ;;
    1) measure "$t" "$torch" -alloc_space -r "$d/heap.pb.gz" ;;
    2) measure "$t" "$torch" -alloc_space --top 20 "$d/heap.pb.gz" ;;
    3) measure "$t" "$torch" -alloc_space --base "$d/heap-a.pb.gz" "$d/heap-b.pb.gz" -f "$o/diff.svg" ;;
    4) rm -rf "$o/dir"; measure "$t" "$torch" --output-dir "$o/dir" "$d/heap.pb.gz" ;;
    5) measure "$t" "$pprof" -raw -sample_index=alloc_space "$d/heap.pb.gz" ;;
    6) measure "$t" "$pprof" -top -nodecount=20 -sample_index=alloc_space "$d/heap.pb.gz" ;;
    7) measure "$t" "$pprof" -top -sample_index=alloc_space -base "$d/heap-a.pb.gz" "$d/heap-b.pb.gz" ;;
  esac
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

commands="${!labels[*]}"
if [ "${TORCH_ONLY:-0}" = 1 ]; then commands="0 1 2 3 4"; fi

declare -A secs rss user sys
for size in $sizes; do
  dir="$scale_dir/size-$size"
  for ((r = 1; r <= rounds; r++)); do
    # One untimed run first: the first command after pprof's gigabyte
    # otherwise pays for memory the system hands back slowly (0.2 s on a
    # VM), whichever command that is.
    "$torch" -alloc_space -r "$dir/heap.pb.gz" > /dev/null 2>&1 || true
    for i in $commands; do
      echo "scale.sh: size $size, round $r/$rounds: ${labels[$i]}" >&2
      if ! run_cmd "$i" "$dir" "$work/t"; then
        echo "scale.sh: ${labels[$i]} failed on size $size:" >&2
        cat "$work/err" >&2
        exit 1
      fi
      read -r s kb u k < <(tail -1 "$work/t")
      echo "$s" >> "$work/secs-$size-$i"
      echo "$kb" >> "$work/rss-$size-$i"
      echo "$u" >> "$work/user-$size-$i"
      echo "$k" >> "$work/sys-$size-$i"
    done
  done
  for i in $commands; do
    secs[$size,$i]="$(median < "$work/secs-$size-$i")"
    rss[$size,$i]="$(median < "$work/rss-$size-$i")"
    user[$size,$i]="$(median < "$work/user-$size-$i")"
    sys[$size,$i]="$(median < "$work/sys-$size-$i")"
  done
done

# The report.
ratio() { awk "BEGIN {if ($2 > 0) printf \"%.${3:-2}f\", $1 / $2; else print \"-\"}"; }
mb() { awk "BEGIN {printf \"%.0f\", $1 / 1024}"; }

echo "## Scale: torch vs go tool pprof on generated heap profiles"
echo
echo "torch: \`$TORCH\`; pprof: \`go tool pprof\` of $(go version | cut -d' ' -f3) (run as \`$pprof\`); $(nproc) CPUs; medians of $rounds interleaved rounds; $(date -u +%Y-%m-%d)."
echo
echo "| size | samples | unique alloc_space stacks | max depth | mean depth | stacks ≥128 deep | uncompressed | heap.pb.gz | generation |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for size in $sizes; do
  dir="$scale_dir/size-$size"
  line="$("$scalegen" -stats "$dir/heap.pb.gz")"
  get() { sed -n "s/.*[[:space:]]$1=\([^ ]*\).*/\1/p" <<< "$line"; }
  gz=$(stat -c %s "$dir/heap.pb.gz")
  echo "| ${size}× | $(get samples) | $(get unique_stacks) | $(get max_depth) | $(get mean_depth) | $(get deep128) | $(awk "BEGIN {printf \"%.1f MB\", $(get bytes) / 1e6}") | $(awk "BEGIN {printf \"%.1f MB\", $gz / 1e6}") | ${gen_time[$size]} s |"
done
echo
echo "| size | command | wall s | user s | sys s | peak RSS MB |"
echo "|---:|---|---:|---:|---:|---:|"
for size in $sizes; do
  for i in $commands; do
    echo "| ${size}× | ${labels[$i]} | ${secs[$size,$i]} | ${user[$size,$i]} | ${sys[$size,$i]} | $(mb "${rss[$size,$i]}") |"
  done
done
echo
header="| ratio |"; rule="|---|"
for size in $sizes; do header="$header ${size}× |"; rule="$rule---:|"; done
echo "$header"
echo "$rule"
row() { # label, kind (secs|rss), numerator index, denominator index
  local line="| $1 |"
  for size in $sizes; do
    if [ "$2" = secs ]; then
      line="$line $(ratio "${secs[$size,$3]}" "${secs[$size,$4]}") |"
    else
      line="$line $(ratio "${rss[$size,$3]}" "${rss[$size,$4]}") |"
    fi
  done
  echo "$line"
}
if [ "${TORCH_ONLY:-0}" != 1 ]; then
row "pprof -raw time / torch SVG time" secs 5 0
row "torch SVG RSS / pprof -raw RSS" rss 0 5
row "pprof -raw time / torch --raw time" secs 5 1
row "pprof -raw RSS / torch --raw RSS" rss 5 1
row "pprof -top time / torch --top time" secs 6 2
row "pprof -top -base time / torch --base time" secs 7 3
fi
row "torch --output-dir time / torch SVG time" secs 4 0
set -- $sizes
first="$1"; last="${!#}"
if [ "$first" != "$last" ]; then
  echo
  echo "Growth from ${first}× to ${last}× (profile samples grow $(ratio "$last" "$first" 1)×):"
  echo
  echo "| command | wall ${last}× / ${first}× | user ${last}× / ${first}× | RSS ${last}× / ${first}× |"
  echo "|---|---:|---:|---:|"
  for i in $commands; do
    echo "| ${labels[$i]} | $(ratio "${secs[$last,$i]}" "${secs[$first,$i]}" 1) | $(ratio "${user[$last,$i]}" "${user[$first,$i]}" 1) | $(ratio "${rss[$last,$i]}" "${rss[$first,$i]}" 1) |"
  done
fi
