#!/usr/bin/env bash
# `fsq order` in a folder of ITEMS camera-named files (default 1,000,000): the whole command's
# time (listing the folder included) for a move between two neighbours that differ only in their
# last digit, and how many files it renamed (the answer must be one).
#
#   benches/reorder.sh [ITEMS]
set -euo pipefail
items=${1:-1000000}
cd "$(dirname "$0")/.."
cargo build --release --quiet
fsq=$PWD/target/release/fsq
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$fsq" init "$dir/q" >/dev/null
python3 - "$dir/q" "$items" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.close(os.open(os.path.join(root, "IMG_%07d.JPG" % i), os.O_CREAT | os.O_WRONLY, 0o644))
PY
(cd "$dir/q" && LC_ALL=C ls -f | LC_ALL=C sort) > "$dir/before"
moved=$(printf 'IMG_%07d.JPG' $((items - 1)))
anchor=$(printf 'IMG_%07d.JPG' 2)
start=$(date +%s.%N)
/usr/bin/time -f "%e s wall, %M KiB peak RSS" "$fsq" order "$dir/q" "$moved" --before "$anchor"
end=$(date +%s.%N)
(cd "$dir/q" && LC_ALL=C ls -f | LC_ALL=C sort) > "$dir/after"
renamed=$(comm -23 "$dir/before" "$dir/after" | wc -l)
new_name=$(comm -13 "$dir/before" "$dir/after")
echo "items: $items; fsq order: $(echo "$end - $start" | bc) s; files renamed: $renamed"
echo "new name: $new_name"
(cd "$dir/q" && LC_ALL=C ls | sed -n '1,4p')
