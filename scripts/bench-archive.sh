#!/usr/bin/env bash
# make bench, archive part: `dataset convert` on an RSNA-shaped download as a zip (Kaggle's form) against the
# same download extracted, in the same run: wall time, peak RSS, and whether dataset.json's cases and checksums
# agree. Replaces the "## Dataset from an archive" section of BENCHMARKS.md.
set -euo pipefail
BIN=${1:-.build/release/dicomprep}
OUT=${BENCH_ARCHIVE_DIR:-bench-out/archive}
CASES=${BENCH_ARCHIVE_CASES:-60}
REPS=${BENCH_ARCHIVE_REPS:-2}
rm -rf "$OUT"; mkdir -p "$OUT"
"$BIN" synth rsna "$OUT/rsna" --cases "$CASES" --test-cases $((CASES / 4)) --matrix 128 --seed 11 > /dev/null
/usr/bin/python3 - "$OUT/rsna" "$OUT/rsna.zip" <<'PY'
import os, sys, zipfile
root, dst = sys.argv[1:3]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            p = os.path.join(d, f); z.write(p, os.path.relpath(p, root))
PY
FILES=$(find "$OUT/rsna" -type f | wc -l); MB=$(du -sm "$OUT/rsna" | cut -f1); ZMB=$(du -sm "$OUT/rsna.zip" | cut -f1)
t() { /usr/bin/time -f "%e %M" -o "$OUT/t.txt" "$@" > /dev/null; cat "$OUT/t.txt"; }
best() { sort -n | head -1; }
FOLDER=(); ZIP=()
for r in $(seq "$REPS"); do
  rm -rf "$OUT/out-folder" "$OUT/out-zip"
  FOLDER+=("$(t "$BIN" dataset convert "$OUT/rsna" -o "$OUT/out-folder" --slices 32 --size 128)")
  ZIP+=("$(t "$BIN" dataset convert "$OUT/rsna.zip" -o "$OUT/out-zip" --slices 32 --size 128)")
done
FT=$(printf "%s\n" "${FOLDER[@]}" | cut -d' ' -f1 | best); ZT=$(printf "%s\n" "${ZIP[@]}" | cut -d' ' -f1 | best)
FR=$(printf "%s\n" "${FOLDER[@]}" | cut -d' ' -f2 | sort -n | tail -1); ZR=$(printf "%s\n" "${ZIP[@]}" | cut -d' ' -f2 | sort -n | tail -1)
SAME=$(/usr/bin/python3 - "$OUT/out-folder/dataset.json" "$OUT/out-zip/dataset.json" <<'PY'
import json, sys
def key(p):
    m = json.load(open(p))
    return [(c["split"], c["id"], c.get("label"), [(s["sequence"], s["input"]["sha256"], s["volume"]["sha256"]) for s in c["sequences"]]) for c in m["cases"]]
a, b = key(sys.argv[1]), key(sys.argv[2])
print(f"identical: {len(a)} cases, every volume and model-input checksum" if a == b else "DIFFERENT")
PY
)
SECTION="$OUT/section.md"
{
  echo "## Dataset from an archive (dataset convert on the zip vs the extracted folder)"
  echo
  echo "Produced by \`scripts/bench-archive.sh\` (part of \`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'): \`synth rsna --cases $CASES"
  echo "--matrix 128\` ($FILES files, $MB MB extracted; zip $ZMB MB, deflate, members in folder order as Kaggle's), \`dataset convert"
  echo "--slices 32 --size 128\`, best of $REPS runs each, alternating, warm cache."
  echo
  echo "| input | wall time | peak RSS |"
  echo "| --- | --- | --- |"
  echo "| extracted folder | $FT s | $((FR / 1024)) MB |"
  echo "| the zip, not extracted | $ZT s | $((ZR / 1024)) MB |"
  echo "| zip / folder | **$(awk -v a="$ZT" -v b="$FT" 'BEGIN {printf "%.2f", a/b}')×** | |"
  echo
  echo "dataset.json: $SAME."
} > "$SECTION"
cat "$SECTION"
/usr/bin/python3 "$(dirname "$0")/replace-section.py" "$SECTION" "## Dataset from an archive"
