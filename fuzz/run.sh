#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), two at a time, from
# seed corpora made of the project's fixtures. Needs cargo-fuzz
# (`cargo install cargo-fuzz`); works on the stable toolchain through
# RUSTC_BOOTSTRAP, since the sanitizer flags are nightly-only in name.
#   fuzz/run.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_proto decode_text render_folded symbolize_elf structured_profile)
export RUSTC_BOOTSTRAP=1

seed() { # target: fill corpus/<target> from the fixtures
  local dir="corpus/$1"; mkdir -p "$dir"
  case "$1" in
    decode_proto) cp ../fixtures/profiles/*.pb.gz "$dir/"
                  for f in ../fixtures/profiles/*.pb.gz; do gzip -dc "$f" > "$dir/$(basename "$f" .gz)"; done ;;
    decode_text)  for f in ../fixtures/profiles/text/*.txt; do
                    # drop the header line: the target adds one
                    { printf "\000"; tail -n +2 "$f" | head -c 20000 || true; } > "$dir/$(basename "$f")"; done ;;
    render_folded) for f in ../fixtures/expected/*/*.folded; do head -c 8000 "$f" > "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"; done ;;
    symbolize_elf) cc -O1 -g -o "$dir/tiny" -x c - <<<'int f(int x){return x*x;} int main(void){return f(3)-9;}'
                   objcopy -O binary --only-section=.gopclntab ../fixtures/bin/symtest-sw "$dir/pclntab" ;;
    structured_profile) head -c 4096 /dev/urandom > "$dir/random" ;;
  esac
}

cargo fuzz build -O 2>&1 | tail -1
run() {
  seed "$1"
  cargo fuzz run -O "$1" "corpus/$1" -- -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=1048576 \
    > "logs/$1.log" 2>&1 || echo "$1: crashed, see fuzz/logs/$1.log and fuzz/artifacts/$1/"
  grep -E "^#[0-9]+.*(DONE|pulse)|Done [0-9]+ runs" "logs/$1.log" | tail -1 | sed "s/^/$1: /"
}
mkdir -p logs
i=0
for target in "${targets[@]}"; do
  run "$target" &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
