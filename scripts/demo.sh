#!/usr/bin/env bash
# make demo: the main job end to end on data the tool makes itself.
#  1. DICOM series -> NIfTI, cross-checked with dcm2niix;
#  2. an RSNA-MICCAI-shaped dataset -> model inputs -> manifests -> a trained classifier -> predictions on the
#     held-out raw DICOM test cases -> AUROC (must be >= 0.9: positive cases carry a lesion);
#  3. segmentation: synthetic heads -> a U-Net skull strip trained for a few minutes -> masks for raw DICOM test heads
#     in every plane -> Dice (must be >= 0.9 and beat the classical strip).
set -euo pipefail
BIN=${1:-.build/release/dicomprep}
OUT=${2:-demo-out}
THREADS=$(nproc)
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. conversion: synthesise DICOM series, convert, inspect, validate"
"$BIN" synth series "$OUT/dicom/case1/T1w" --size 128x128x40 --plane axial --series-number 1 --description T1w
"$BIN" synth series "$OUT/dicom/case1/T2w" --size 128x128x30 --plane sagittal --series-number 2 --description T2w --syntax implicitLittle
"$BIN" synth series "$OUT/dicom/case1/FLAIR" --size 96x96x24 --plane oblique --series-number 3 --description FLAIR --multiframe
"$BIN" inspect "$OUT/dicom" > "$OUT/inspect.txt"; head -12 "$OUT/inspect.txt"
"$BIN" convert "$OUT/dicom" -o "$OUT/nifti" --reorient RAS
"$BIN" validate "$OUT"/nifti/dicomprep-report.json $(find "$OUT/nifti" -name '*.json' ! -name dicomprep-report.json)
if command -v dcm2niix >/dev/null && /usr/bin/python3 -c "import nibabel" 2>/dev/null; then
  echo "== cross-check against dcm2niix"
  for s in T1w T2w FLAIR; do
    mkdir -p "$OUT/dcm2niix/$s"
    dcm2niix -z y -f ref -o "$OUT/dcm2niix/$s" "$OUT/dicom/case1/$s" >/dev/null
    /usr/bin/python3 - "$OUT/nifti/case1/$s"/*.nii.gz "$OUT/dcm2niix/$s/ref.nii.gz" <<'PY'
import sys, nibabel as nib, numpy as np
a, b = (nib.load(p) for p in sys.argv[1:3])
# Map every voxel centre of ours into dcm2niix's grid and compare the values there.
ijk = np.indices(a.shape[:3]).reshape(3, -1)
world = a.affine[:3, :3] @ ijk + a.affine[:3, 3:4]
q = np.linalg.inv(b.affine)[:3, :3] @ world + np.linalg.inv(b.affine)[:3, 3:4]
r = np.rint(q)
same = np.abs(q - r).max() < 0.01 and np.array_equal(a.get_fdata()[tuple(ijk)], b.get_fdata()[tuple(r.astype(int))])
print(f"  {sys.argv[1]}: {'same voxel-to-world mapping and values' if same else 'DIFFERENT'} as dcm2niix")
sys.exit(0 if same else 1)
PY
  done
fi

echo
echo "== 2. dataset: an RSNA-MICCAI-shaped download (48 training + 16 test cases)"
"$BIN" synth rsna "$OUT/rsna" --cases 48 --test-cases 16 --matrix 64 --seed 2021
"$BIN" dataset convert "$OUT/rsna" -o "$OUT/prepared" --slices 32 --size 64 --sequences FLAIR,T1wCE --qc
"$BIN" manifest split "$OUT/prepared/dataset.json" -o "$OUT/manifests" --sequence T1wCE --val-fraction 0.25 --seed 42
"$BIN" validate "$OUT/prepared/dataset.json" "$OUT"/manifests/*.json
if [ -d manifests/demo ]; then
  # The committed demo manifests are what this run must reproduce, byte for byte.
  for f in train.json val.json datalist.json; do
    cmp -s "$OUT/manifests/$f" "manifests/demo/$f" && echo "  $f: identical to manifests/demo/$f" || { echo "  $f differs from manifests/demo/$f"; exit 1; }
  done
fi

echo
echo "== 3. classifier: train a small 3D ResNet on T1wCE (libtorch, $THREADS threads)"
"$BIN" train --train "$OUT/manifests/train.json" --val "$OUT/manifests/val.json" -o "$OUT/run" \
  --arch resnet-small --input 32x64x64 --epochs 12 --milestones 8 --gamma 0.5 --lr 1e-3 --batch-size 4 --augment flip --seed 518
"$BIN" validate "$OUT/run/metadata.json"

echo
echo "== 4. predict the held-out test cases from raw DICOM (Kaggle's test/ layout) and score them"
"$BIN" predict --model "$OUT/run" "$OUT/rsna/test" -o "$OUT/predictions.csv"
"$BIN" evaluate "$OUT/predictions.csv" --labels "$OUT/rsna/test_labels_synthetic.csv"
"$BIN" evaluate "$OUT/predictions.csv" --labels "$OUT/rsna/test_labels_synthetic.csv" --json > "$OUT/evaluation.json"
AUROC=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['auroc'])" "$OUT/evaluation.json")
echo "held-out AUROC: $AUROC"
/usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)" "$AUROC" || { echo "AUROC below 0.9"; exit 1; }

echo
echo "== 5. segmentation: synthetic heads (NIfTI training set, raw DICOM test heads) -> U-Net skull strip -> masks -> Dice"
"$BIN" synth heads "$OUT/heads" --train 16 --test 4 --seed 11
"$BIN" train --task segment --datalist "$OUT/heads/dataset.json" -o "$OUT/seg-run" --epochs 30 --samples-per-case 8 --validate-every 3 \
  --max-minutes ${DEMO_SEG_MINUTES:-9} --seed 518
"$BIN" validate "$OUT/seg-run/metadata.json"
"$BIN" predict --model "$OUT/seg-run" "$OUT/heads/dataset.json" -o "$OUT/masks" --apply-mask
"$BIN" validate "$OUT/masks/segmentation.json"
"$BIN" evaluate --task segment --truth "$OUT/heads/testLabels" --pred "$OUT/masks" --images "$OUT/heads/test" --qc "$OUT/masks/qc" -o "$OUT/seg-eval.json"
"$BIN" validate "$OUT/seg-eval.json"
mkdir -p "$OUT/classical"
for d in "$OUT"/heads/test/*/; do "$BIN" mask "$d" -o "$OUT/classical/$(basename "$d").nii.gz" --recipe brain > /dev/null; done
"$BIN" evaluate --task segment --truth "$OUT/heads/testLabels" --pred "$OUT/classical" -o "$OUT/classical-eval.json" | tail -1
/usr/bin/python3 - "$OUT/seg-eval.json" "$OUT/classical-eval.json" <<'PY'
import json, sys
unet, classical = (json.load(open(p))["mean"][0]["dice"] for p in sys.argv[1:3])
print(f"mean Dice on the DICOM test heads: U-Net {unet:.4f}, classical strip {classical:.4f}")
sys.exit(0 if unet >= 0.9 and unet > classical else 1)
PY
echo "== done: $OUT/nifti, $OUT/prepared (open index.html), $OUT/run (model bundle, curves.svg), $OUT/predictions.csv,"
echo "   $OUT/seg-run (segmentation bundle), $OUT/masks (masks, skull-stripped heads, qc/index.html)"
