#!/usr/bin/env bash
# Peak memory and time of torch on hostile profiles: inputs that are tiny on
# disk and enormous once expanded. Each must end with a clean error (exit 2)
# or a result, within a small multiple of its decompressed size.
#
#   benches/hostile.sh > hostile.md
#
# Environment:
#   TORCH  torch binary (default target/release/torch, built if missing)
#   BIG=1  also the 200-million-sample case (800 MB decompressed; slow to make)
#
# The profiles are written by a small generator below (Python, standard
# library only): no Go program makes them, which is the point.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TORCH:-}" ]; then
  TORCH=target/release/torch
  [ -x "$TORCH" ] || cargo build --release --quiet --bin torch
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/torch-hostile.XXXXXX")"
trap 'rm -rf "$work"' EXIT

python3 - "$work" "${BIG:-0}" <<'EOF'
import gzip, sys

out, big = sys.argv[1], sys.argv[2] == "1"

def varint(n):
    b = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            b.append(byte | 0x80)
        else:
            b.append(byte)
            return bytes(b)

def field(number, payload):  # length-delimited
    return varint(number << 3 | 2) + varint(len(payload)) + payload

def strings(*texts):
    return b"".join(field(6, t.encode()) for t in texts)

def header():  # sample_type {type: "samples", unit: "count"}
    return field(1, b"\x08\x01\x10\x02") + strings("", "samples", "count")

def tiny(count, name):
    # Samples of four bytes: one value, no stack.
    body = header() + b"\x12\x02\x10\x01" * count
    with open(f"{out}/{name}", "wb") as f:
        f.write(gzip.compress(body, 1))

def absurd_stack(name):
    # One sample, 1,000 references to a location of 1,000 inlined lines of
    # a function with a 10 kB name.
    function = b"\x08\x01" + b"\x10\x03" + b"\x20\x04"  # id 1, name 3, filename 4
    line = field(4, b"\x08\x01\x10\x01")  # function 1, line 1
    location = b"\x08\x01" + line * 1000  # id 1
    sample = field(1, b"\x01" * 1000) + b"\x10\x01"  # packed location ids, value 1
    body = (header() + strings("main." + "x" * 10000, "main.go")
            + field(5, function) + field(4, location) + field(2, sample))
    with open(f"{out}/{name}", "wb") as f:
        f.write(gzip.compress(body, 9))

tiny(1000, "tiny-1k.pb.gz")
tiny(20_000_000, "tiny-20m.pb.gz")
if big:
    tiny(200_000_000, "tiny-200m.pb.gz")
absurd_stack("absurd-stack.pb.gz")
EOF

decompressed() { gzip -dc "$1" | wc -c; }
echo "## torch on hostile profiles"
echo
echo "torch: \`$TORCH\`; $(nproc) CPUs; $(date -u +%Y-%m-%d). Peak RSS from \`/usr/bin/time\`."
echo
echo "| input | on disk | decompressed | exit | wall s | peak RSS MB | RSS / decompressed | says |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for file in "$work"/*.pb.gz; do
  name="$(basename "$file")"
  size=$(stat -c %s "$file")
  raw=$(decompressed "$file")
  set +e
  /usr/bin/time -f '%e %M' -o "$work/time" "$TORCH" -q -r "$file" > /dev/null 2> "$work/err"
  code=$?
  set -e
  read -r secs kb < <(tail -1 "$work/time")
  says="$(grep -m1 'torch: error' "$work/err" | sed 's/.*torch: error: [^:]*: //' | cut -c1-70 || true)"
  [ -n "$says" ] || says="(folded, exit 0)"
  ratio=$(awk "BEGIN {printf \"%.1f\", $kb * 1024 / $raw}")
  echo "| $name | $size | $raw | $code | $secs | $((kb / 1024)) | $ratio | $says |"
done
