#!/usr/bin/env bash
# Seeds the fuzzing corpus: the shared real fixtures (when present) and small synthetic series in every
# transfer syntax dcmtk writes or its tools encode.
set -euo pipefail
BIN=$1
CORPUS=$2
mkdir -p "$CORPUS"
FIX="$(dirname "$0")/../../shared/fixtures/dicom"
if [ -d "$FIX" ]; then
  for f in "$FIX"/*.dcm; do [ "$(stat -c %s "$f")" -le 262144 ] && cp "$f" "$CORPUS/fixture-$(basename "$f")"; done
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for s in explicitLittle implicitLittle explicitBig deflated; do
  "$BIN" synth series "$TMP/$s" --size 16x12x2 --syntax "$s" >/dev/null
  cp "$TMP/$s/Image-1.dcm" "$CORPUS/synth-$s.dcm"
done
"$BIN" synth series "$TMP/mf" --size 16x16x3 --multiframe --plane oblique >/dev/null
cp "$TMP/mf/Image-1.dcm" "$CORPUS/synth-enhanced.dcm"
for t in "dcmcrle" "dcmcjpeg +e1" "dcmcjpeg +el" "dcmcjpls +el" "dcmcjpls +en"; do
  set -- $t
  command -v "$1" >/dev/null || continue
  "$@" "$TMP/explicitLittle/Image-1.dcm" "$CORPUS/synth-$1-${2:-x}.dcm" 2>/dev/null || true
  "$@" "$TMP/mf/Image-1.dcm" "$CORPUS/synth-mf-$1-${2:-x}.dcm" 2>/dev/null || true
done
echo "corpus: $(ls "$CORPUS" | wc -l) files in $CORPUS"
