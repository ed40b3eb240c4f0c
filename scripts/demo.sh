#!/usr/bin/env bash
# The demo: synthesise DICOM series with the tool itself, convert them, inspect them, validate the outputs.
set -euo pipefail
BIN=${1:-.build/release/dicomprep}
OUT=${2:-demo-out}
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== synthesising DICOM series into $OUT/dicom"
"$BIN" synth series "$OUT/dicom/case1/T1w" --size 128x128x40 --plane axial --series-number 1 --description T1w
"$BIN" synth series "$OUT/dicom/case1/T2w" --size 128x128x30 --plane sagittal --series-number 2 --description T2w --syntax implicitLittle
"$BIN" synth series "$OUT/dicom/case1/FLAIR" --size 96x96x24 --plane oblique --series-number 3 --description FLAIR --multiframe
echo "== inspect"
"$BIN" inspect "$OUT/dicom"
echo "== convert"
"$BIN" convert "$OUT/dicom" -o "$OUT/nifti" --reorient RAS
echo "== validate every JSON written"
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
echo "== done: outputs in $OUT/nifti"
