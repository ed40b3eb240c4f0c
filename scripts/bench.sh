#!/usr/bin/env bash
# make bench: dicomprep vs dcm2niix on the same synthetic corpus, in the same run; results to BENCHMARKS.md.
# Environment: BENCH_SERIES (40), BENCH_REPS (3), BENCH_LEVEL (dicomprep's default gzip level), BENCH_OUT (bench-out).
set -euo pipefail
export LC_NUMERIC=C # EPOCHREALTIME (the timings' clock) with a decimal point
BIN=${1:-.build/release/dicomprep}
HELPER=$(dirname "$BIN")/dicomprep-bench
OUT=${BENCH_OUT:-bench-out}
SERIES=${BENCH_SERIES:-40}
REPS=${BENCH_REPS:-3}
LEVEL=${BENCH_LEVEL:-$("$BIN" convert --help | tr -s '\n ' ' ' | sed -nE 's/.*gzip level 0-12[^)]*\)\. \(default: ([0-9]+)\).*/\1/p')}
LEVEL=${LEVEL:-1}
CORES=$(nproc)
mkdir -p "$OUT"
command -v dcm2niix >/dev/null || { echo "dcm2niix is required (make deps)"; exit 1; }

# --- helpers -----------------------------------------------------------------------------------
# run LABEL CMD...: time a command with /usr/bin/time -v; appends "label wall_s rss_kb" to $OUT/times.txt
# Wall time by the microsecond clock around the command (/usr/bin/time's own is in 10 ms steps, too coarse for
# the short runs), read from bash's EPOCHREALTIME: `$(date ...)` forked a process on each side, and its exit and
# start (2-3 ms here) fell inside the interval. What remains inside is /usr/bin/time's own start (~3 ms), the
# same for both tools; peak RSS from /usr/bin/time -v.
run() {
  local label=$1; shift
  local t0 t1
  t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$OUT/time.tmp" "$@" >/dev/null 2>"$OUT/last.err" || { local rc=$?; [ $rc -le 1 ] || [ "$label" = dcm2niix* ] || { cat "$OUT/last.err"; exit $rc; }; }
  t1=$EPOCHREALTIME
  local wall rss
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.tmp")
  echo "$label $wall $rss" >> "$OUT/times.txt"
}
best() { awk -v l="$1" '$1==l {print $2}' "$OUT/times.txt" | sort -g | head -1; }
median() { awk -v l="$1" '$1==l {print $2}' "$OUT/times.txt" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxrss() { awk -v l="$1" '$1==l {print $3}' "$OUT/times.txt" | sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
rm -f "$OUT/times.txt"

# --- corpus ------------------------------------------------------------------------------------
CORPUS="$OUT/corpus-$SERIES"
if [ ! -f "$CORPUS.complete" ]; then
  rm -rf "$CORPUS"; "$BIN" synth bench "$CORPUS" --series "$SERIES"; touch "$CORPUS.complete"
fi
RLE="$OUT/corpus-rle"
if [ ! -f "$RLE.complete" ] && command -v dcmcrle >/dev/null; then
  rm -rf "$RLE"
  for d in "$CORPUS"/case-000/series-*; do
    mkdir -p "$RLE/${d#$CORPUS/}"
    for f in "$d"/*.dcm; do dcmcrle "$f" "$RLE/${d#$CORPUS/}/$(basename "$f")"; done
  done
  touch "$RLE.complete"
fi
FILES=$(find "$CORPUS" -name '*.dcm' | wc -l)
BYTES=$(find "$CORPUS" -name '*.dcm' -printf '%s\n' | awk '{s+=$1} END {print s}')
MB=$(awk -v b="$BYTES" 'BEGIN {printf "%.1f", b/1e6}')
echo "corpus: $SERIES series, $FILES files, $MB MB"

# --- the floor: read every byte (warm), compress the outputs at the chosen level on all cores --------
find "$CORPUS" -name '*.dcm' -print0 | xargs -0 cat > /dev/null
for r in $(seq "$REPS"); do run read find "$CORPUS" -name '*.dcm' -exec cat {} + ; done
rm -rf "$OUT/raw"; "$BIN" convert "$CORPUS" -o "$OUT/raw" --no-gzip -q > /dev/null
GZ=$("$HELPER" gzip "$LEVEL" "$CORES" $(find "$OUT/raw" -name '*.nii'))
GZ_S=$(echo "$GZ" | cut -d' ' -f1)
READ_S=$(best read)
FLOOR=$(awk -v a="$READ_S" -v b="$GZ_S" 'BEGIN {printf "%.3f", a+b}')

# --- whole tree, one process ---------------------------------------------------------------------
for r in $(seq "$REPS"); do
  rm -rf "$OUT/dp"; run dicomprep "$BIN" convert "$CORPUS" -o "$OUT/dp" -q --compression-level "$LEVEL"
  rm -rf "$OUT/d2n"; mkdir -p "$OUT/d2n"; run dcm2niix dcm2niix -z y -f %s_%j -o "$OUT/d2n" "$CORPUS"
done
DP=$(median dicomprep); D2N=$(median dcm2niix)
DP_SIZE=$(find "$OUT/dp" -name '*.nii.gz' -printf '%s\n' | awk '{s+=$1} END {print s}')
D2N_SIZE=$(find "$OUT/d2n" -name '*.nii.gz' -printf '%s\n' | awk '{s+=$1} END {print s}')
D2N_COUNT=$(find "$OUT/d2n" -name '*.nii.gz' | wc -l)
COMPARE=$("$HELPER" compare "$OUT/dp/dicomprep-report.json" "$OUT/d2n" | head -5) || true

# --- compressed input (RLE) ------------------------------------------------------------------------
RLE_LINE="(dcmcrle not installed)"
if [ -d "$RLE" ]; then
  for r in $(seq "$REPS"); do
    rm -rf "$OUT/dp-rle"; run dp-rle "$BIN" convert "$RLE" -o "$OUT/dp-rle" -q --compression-level "$LEVEL"
    rm -rf "$OUT/d2n-rle"; mkdir -p "$OUT/d2n-rle"; run d2n-rle dcm2niix -z y -f %s_%j -o "$OUT/d2n-rle" "$RLE"
  done
  RLE_LINE="| RLE copy of case-000 ($(find "$RLE" -name '*.dcm' | wc -l) files) | $(median dp-rle) s | $(median d2n-rle) s | $(ratio "$(median d2n-rle)" "$(median dp-rle)")× |"
fi

# --- start-up: a one-slice folder -------------------------------------------------------------------
ONE="$OUT/one"; rm -rf "$ONE"; mkdir -p "$ONE"; cp "$(find "$CORPUS/case-000/series-1" -name 'Image-1.dcm')" "$ONE/"
for r in $(seq 10); do
  rm -rf "$OUT/one-dp"; run start-dp "$BIN" convert "$ONE" -o "$OUT/one-dp" -q
  rm -rf "$OUT/one-d2n"; mkdir -p "$OUT/one-d2n"; run start-d2n dcm2niix -z y -o "$OUT/one-d2n" "$ONE"
done

# --- memory: one large series, and the process baseline ---------------------------------------------
BIG="$OUT/big"
if [ ! -f "$BIG.complete" ]; then rm -rf "$BIG"; "$BIN" synth bench "$BIG" --series 1 --min-slices 180 --max-slices 180 --seed 11 >/dev/null; touch "$BIG.complete"; fi
for r in $(seq "$REPS"); do rm -rf "$OUT/big-out"; run mem-big "$BIN" convert "$BIG" -o "$OUT/big-out" -q; done
VOL_MB=$(awk 'BEGIN {printf "%.1f", 256*256*180*2/1048576}')

# --- one process per small case (scripts call converters once per case) -----------------------------
SMALL="$OUT/small"
if [ ! -f "$SMALL.complete" ]; then
  rm -rf "$SMALL"; "$BIN" synth bench "$SMALL" --series 40 --min-slices 20 --max-slices 40 --seed 7 >/dev/null; touch "$SMALL.complete"
fi
per_case() {
  local tool=$1 start end
  start=$EPOCHREALTIME
  for c in "$SMALL"/case-*; do
    local o="$OUT/pc-$tool/$(basename "$c")"; rm -rf "$o"; mkdir -p "$o"
    if [ "$tool" = dp ]; then "$BIN" convert "$c" -o "$o" -q --compression-level "$LEVEL" >/dev/null
    else dcm2niix -z y -f %s_%j -o "$o" "$c" >/dev/null 2>&1 || true; fi
  done
  end=$EPOCHREALTIME
  echo "pc-$tool $(awk -v a="$start" -v b="$end" 'BEGIN {print b-a}') 0" >> "$OUT/times.txt"
}
for r in $(seq "$REPS"); do per_case dp; per_case d2n; done

# --- scanner-shaped exports: many small files, mosaics, one enhanced file of many frames, a field map -----
# dcm2niix is run on the same folders; outputs are compared as ../shared/fixtures/realscan/README.md says
# (scripts/compare-realscan.py: shape, affine, values, SliceTiming, bval/bvec, PE, readout times).
EXP="$OUT/exports"
EXPORT_ROWS=""
export_row() { # KIND: times both tools on $EXP/KIND (or the realscan tree) and appends a table row
  local kind=$1 src=$2 name=${3:-$1} files mb agree rc
  files=$(find -L "$src" -type f | wc -l); mb=$(du -sLm "$src" | cut -f1)
  # Short runs (under a second) are repeated more: their medians are the steadier for it.
  local reps=$REPS t0 t1
  [ "$mb" -lt 40 ] && reps=$(( REPS > 11 ? REPS : 11 ))
  for r in $(seq "$reps"); do
    rm -rf "$OUT/x-dp"; run "x-dp-$kind" "$BIN" convert "$src" -o "$OUT/x-dp" -q --compression-level "$LEVEL"
    rm -rf "$OUT/x-d2n"; mkdir -p "$OUT/x-d2n"
    rc=0; t0=$EPOCHREALTIME; /usr/bin/time -v -o "$OUT/time.tmp" dcm2niix -z y -o "$OUT/x-d2n" "$src" >/dev/null 2>&1 || rc=$?; t1=$EPOCHREALTIME
    if [ $rc -le 1 ]; then
      echo "x-d2n-$kind $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}') $(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.tmp")" >> "$OUT/times.txt"
    fi
  done
  local dp d2n
  dp=$(median "x-dp-$kind"); d2n=$(median "x-d2n-$kind")
  if [ -z "$d2n" ]; then
    agree="dcm2niix failed (exit $rc)"; d2n="—"; local ratio_s="—"
  else
    local ok bad
    ok=$(/usr/bin/python3 scripts/compare-realscan.py "$OUT/x-d2n" "$OUT/x-dp" 2>/dev/null | grep -c '^OK ' || true)
    bad=$(/usr/bin/python3 scripts/compare-realscan.py "$OUT/x-d2n" "$OUT/x-dp" 2>/dev/null | grep -c '^BAD ' || true)
    agree="$ok of $((ok + bad)) dcm2niix outputs match"; ratio_s="**$(ratio "$d2n" "$dp")×**"
  fi
  local theirs="—"
  if [ "$d2n" != "—" ]; then theirs="$d2n s, $(( $(maxrss "x-d2n-$kind") / 1024 )) MB"; fi
  # Peak RSS against the size of what was written: the outputs' image data, uncompressed (their volumes).
  local volmb rel
  volmb=$(/usr/bin/python3 -c 'import sys, nibabel, numpy
print("%.1f" % (sum(int(numpy.prod(nibabel.load(f).shape)) * nibabel.load(f).get_data_dtype().itemsize for f in sys.argv[1:]) / 1048576))' $(find "$OUT/x-dp" -name '*.nii.gz'))
  rel=$(awk -v r="$(maxrss "x-dp-$kind")" -v v="$volmb" 'BEGIN {printf "%.2f", r / 1024 / v}')
  EXPORT_ROWS="$EXPORT_ROWS| $name | $files files, $mb MB | $dp s ($(awk -v f="$files" -v t="$dp" 'BEGIN {printf "%.0f", f/t}') files/s), $(( $(maxrss "x-dp-$kind") / 1024 )) MB | $volmb MB, RSS ${rel}× | $theirs | $ratio_s | $agree |
"
}
for kind in fmri-classic fmri-mosaic dwi-enhanced fieldmap; do
  if [ ! -f "$EXP/$kind.complete" ]; then
    rm -rf "$EXP/$kind"; "$BIN" synth export "$kind" "$EXP/$kind" --volumes 300 >/dev/null; touch "$EXP/$kind.complete"
  fi
  export_row "$kind" "$EXP/$kind"
done
REALSCAN=$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures/realscan
if [ -d "$REALSCAN" ]; then
  mkdir -p "$EXP/realscan"
  for d in "$REALSCAN"/*/In; do ln -sfn "$d" "$EXP/realscan/$(basename "$(dirname "$d")")"; done
  export_row realscan "$EXP/realscan/" "realscan fixtures (all 5 folders, one process)"
fi

# --- classifier: training step and inference, libtorch engine vs PyTorch (same libtorch) --------------
TORCH_ROWS=""
if "$HELPER" torch resnet-small 8 16 16 2 1 1 >/dev/null 2>&1 && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  for cfg in "resnet10 64 256 256 2 3" "resnet10 32 64 64 8 10" "resnet-small 32 64 64 8 10"; do
    set -- $cfg
    ours=$("$HELPER" torch "$1" "$2" "$3" "$4" "$5" "$6" "$CORES")
    theirs=$(/usr/bin/python3 "$(dirname "$0")/../Tests/python/bench_step.py" "$1" "$2" "$3" "$4" "$5" "$6" "$CORES")
    TORCH_ROWS="$TORCH_ROWS| $1, input $2×$3×$4, batch $5 | $(echo "$ours" | cut -d' ' -f1) | $(echo "$theirs" | cut -d' ' -f1) | $(ratio "$(echo "$ours" | cut -d' ' -f1)" "$(echo "$theirs" | cut -d' ' -f1)")× | $(echo "$ours" | cut -d' ' -f2) | $(echo "$theirs" | cut -d' ' -f2) |
"
  done
fi

# --- report --------------------------------------------------------------------------------------------
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
MEM=$(free -g | awk '/Mem:/ {print $2}')
{
  echo "# Benchmarks"
  echo
  echo "Produced by \`make bench\` (scripts/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $CPU, $CORES cores, ${MEM} GiB,"
  echo "$(. /etc/os-release; echo "$PRETTY_NAME"), $(swift --version 2>/dev/null | head -1 | sed 's/ (.*//'), dcm2niix $(dcm2niix -v 2>/dev/null | grep -oE 'v[0-9.]+' | head -1)."
  echo "Median of $REPS runs (start-up: of 10), warm page cache. dicomprep writes gzip level $LEVEL (libdeflate, parallel"
  echo "members); dcm2niix \`-z y\` uses pigz. Peak RSS from \`/usr/bin/time -v\`. Timings on this shared 2-core VM"
  echo "vary by roughly ±15% from one run to the next; ratios of tools measured in the same run are steadier."
  echo
  echo "Corpus: \`dicomprep synth bench --series $SERIES\`: $SERIES series of 256×256 int16 (12 bits stored), 60–180 slices,"
  echo "axial/sagittal/coronal, $FILES files, $MB MB of DICOM."
  echo
  echo "| run | dicomprep | dcm2niix | dcm2niix / dicomprep |"
  echo "| --- | --- | --- | --- |"
  echo "| whole tree, one process (\`convert TREE\` / \`dcm2niix -z y -f %s_%j TREE\`) | $DP s | $D2N s | **$(ratio "$D2N" "$DP")×** |"
  echo "| throughput | $(awk -v s="$SERIES" -v t="$DP" 'BEGIN {printf "%.1f", s/t}') series/s, $(awk -v m="$MB" -v t="$DP" 'BEGIN {printf "%.0f", m/t}') MB/s | $(awk -v s="$SERIES" -v t="$D2N" 'BEGIN {printf "%.1f", s/t}') series/s, $(awk -v m="$MB" -v t="$D2N" 'BEGIN {printf "%.0f", m/t}') MB/s | |"
  echo "| peak RSS, whole tree | $(( $(maxrss dicomprep) / 1024 )) MB | $(( $(maxrss dcm2niix) / 1024 )) MB | |"
  echo "$RLE_LINE"
  echo "| one process per case, $(ls -d "$SMALL"/case-* | wc -l) cases of 4 series × 256×256×20–40 (start-up included) | $(median pc-dp) s | $(median pc-d2n) s | **$(ratio "$(median pc-d2n)" "$(median pc-dp)")×** |"
  echo "| peak RSS, one 256×256×180 series (volume $VOL_MB MB) | $(( $(maxrss mem-big) / 1024 )) MB; baseline (one slice) $(( $(maxrss start-dp) / 1024 )) MB; (peak − baseline) / volume = $(awk -v a="$(maxrss mem-big)" -v b="$(maxrss start-dp)" -v v="$VOL_MB" 'BEGIN {printf "%.2f", (a-b)/1024/v}') | | |"
  echo "| start-up: one-slice folder | $(median start-dp) s | $(median start-d2n) s | $(ratio "$(median start-d2n)" "$(median start-dp)")× |"
  echo
  echo "Output: dicomprep $(awk -v b="$DP_SIZE" 'BEGIN {printf "%.1f", b/1e6}') MB in $(find "$OUT/dp" -name '*.nii.gz' | wc -l) files; dcm2niix $(awk -v b="$D2N_SIZE" 'BEGIN {printf "%.1f", b/1e6}') MB in $D2N_COUNT files;"
  echo "size ratio dicomprep / dcm2niix = **$(ratio "$DP_SIZE" "$D2N_SIZE")**."
  echo
  echo "Identity with dcm2niix (every voxel centre mapped through both affines, values compared): \`$(echo "$COMPARE" | head -1)\`."
  echo
  echo "Floor: reading every input byte (\`cat\`, warm) $READ_S s + compressing the outputs at level $LEVEL on $CORES cores"
  echo "(in memory, \`dicomprep-bench gzip\`) $GZ_S s = **$FLOOR s**; dicomprep whole tree / floor = **$(ratio "$DP" "$FLOOR")**."
  echo
  echo "Commands: \`make bench\` (BENCH_SERIES=$SERIES BENCH_REPS=$REPS BENCH_LEVEL=$LEVEL); raw timings in \`$OUT/times.txt\`."
  echo
  echo "## Scanner-shaped exports: many small files, mosaics, enhanced multi-frame"
  echo
  echo "\`dicomprep synth export KIND --volumes 300\` (64×64×36 per volume): fmri-classic is one file per slice and volume,"
  echo "fmri-mosaic one Siemens mosaic per volume, dwi-enhanced one Enhanced MR file of 10,800 frames with diffusion per frame,"
  echo "fieldmap two echoes of magnitude and a phase difference; plus the real exports in ../shared/fixtures/realscan. Median of"
  echo "$REPS runs each (11 for inputs under 40 MB), start-up included, wall time by bash's microsecond clock (no process forked inside the interval but \`/usr/bin/time\`, for both tools); outputs compared with"
  echo "dcm2niix's by \`scripts/compare-realscan.py\`. dicomprep is the \`make release\` build (Swift runtime and Foundation linked statically)."
  echo
  echo "| export | input | dicomprep (wall, files/s, peak RSS) | dicomprep's outputs (image data uncompressed), peak RSS / that | dcm2niix -z y | dcm2niix / dicomprep | same outputs |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  printf "%s" "$EXPORT_ROWS"
  echo
  echo "Where outputs differ, the table says so and these are the reasons seen so far: Debian's dcm2niix v1.0.20220720"
  echo "segfaults on the synthetic mosaics (the real mosaics of the realscan row convert), assumes Philips for the synthetic"
  echo "enhanced DWI's unknown manufacturer and splits its last volume off as an \"ADC\" (so its main output has 299 volumes),"
  echo "and on the GE field map of the realscan fixtures reports EffectiveEchoSpacing 0.00028 s where the fixture's reference"
  echo "(a newer dcm2niix) and dicomprep give 0.0005 s. Volumes, affines, values and slice times agree everywhere else."
  echo
  echo "## Classifier: training and inference (CPU, $CORES threads)"
  echo
  if [ -n "$TORCH_ROWS" ]; then
    echo "One Adam step of BCE-with-logits on random data (after a warm-up step) and batch-1 inference, in dicomprep's"
    echo "libtorch engine (\`dicomprep-bench torch\`) and in Debian's PyTorch from Python (\`Tests/python/bench_step.py\`, the same"
    echo "network definition), one after the other in the same run; both use the same libtorch 1.13 with oneDNN."
    echo
    echo "| network and input | dicomprep train samples/s | PyTorch train samples/s | dicomprep / PyTorch | dicomprep inference ms/case | PyTorch inference ms/case |"
    echo "| --- | --- | --- | --- | --- | --- |"
    printf "%s" "$TORCH_ROWS"
  else
    echo "(the torch engine or python3-torch is not installed: run \`make torch\`)"
  fi
} > "$OUT/BENCHMARKS.part.md"
echo; cat "$OUT/BENCHMARKS.part.md"
# This part's sections replace their old text; the sections the other bench parts write (archive, segmentation) stay.
/usr/bin/python3 - "$OUT/BENCHMARKS.part.md" <<'PY'
import os, re, sys
part = open(sys.argv[1]).read().rstrip() + "\n"
mine = set(re.findall(r"^## (.+)$", part, re.M))
old = open("BENCHMARKS.md").read() if os.path.exists("BENCHMARKS.md") else ""
heads = list(re.finditer(r"^## (.+)$", old, re.M))
kept = [old[m.start():(heads[i + 1].start() if i + 1 < len(heads) else len(old))].rstrip() + "\n"
        for i, m in enumerate(heads) if m.group(1) not in mine]
open("BENCHMARKS.md", "w").write(part + "".join("\n" + k for k in kept))
PY
