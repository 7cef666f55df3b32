#!/usr/bin/env bash
# Makes the README screenshots from real runs of `fsq demo` (see examples/screenshot/main.rs):
# the two panes with a running progress bar, the viewer, the editor, and help.
#
# usage: screenshots/take.sh [OUT_DIR]   (default: screenshots/)
# Needs rsvg-convert (apt-get install librsvg2-bin); wide names need a CJK font
# (apt-get install fonts-wqy-microhei).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-screenshots}
mkdir -p "$out"
cargo build --quiet --bin fsq --example screenshot
shot=target/debug/examples/screenshot
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each picture runs its own demo queue, so no picture depends on another's leftovers. A picture
# that fails is reported and the others are still taken.
failed=0
take() { "$shot" "$@" || { echo "screenshot failed: $1" >&2; failed=1; }; }
take "$out/panes.png" --args "demo $work/panes" \
    wait:annual-report percent: pause:1500
take "$out/viewer.png" --args "demo $work/viewer" \
    wait:annual-report key:Down key:F3 "wait:q close"
take "$out/editor.png" --args "demo $work/editor" \
    wait:annual-report key:Down key:Down key:F4 wait:Edit: \
    "text:Reviewed and ready. " "wait:Reviewed"
take "$out/help.png" --args "demo $work/help" \
    wait:annual-report key:F1 "wait:Esc closes"
ls -l "$out"/*.png
exit "$failed"
