#!/usr/bin/env python3
"""Compares dicomprep's outputs with the reference converter's (.nii or .nii.gz), as ../shared/fixtures/realscan/README.md says:
closest canonical orientation, shape, affine (0.05 mm / 1e-3), values (1e-3 of the range), bval/bvec, SliceTiming.
Usage: compare-realscan.py REF_DIR OUT_DIR  -> prints one line per reference volume, exits 1 on any mismatch."""
import glob, json, os, sys
import numpy as np
import nibabel as nib

def load(p):
    im = nib.as_closest_canonical(nib.load(p))
    return im, np.asarray(im.dataobj, dtype=np.float64)

def world_vectors(path_nii, bvec):
    """bvec columns -> world (RAS) unit vectors, undoing FSL's x flip for positive determinants."""
    a = nib.load(path_nii).affine[:3, :3]
    r = a / np.linalg.norm(a, axis=0)
    v = np.array(bvec, dtype=float).copy()
    if np.linalg.det(r) > 0: v[0] = -v[0]
    return (r @ v).T

def main(ref_dir, out_dir):
    outs = [p for p in glob.glob(os.path.join(out_dir, '**', '*.nii*'), recursive=True)]
    cache = {p: load(p) for p in outs}
    bad = 0
    refs = sorted(glob.glob(os.path.join(ref_dir, '*.nii')) + glob.glob(os.path.join(ref_dir, '*.nii.gz')))
    for ref in refs:
        ri, rv = load(ref)
        rstem = ref[:-7] if ref.endswith('.nii.gz') else ref[:-4]
        rj = json.load(open(rstem + '.json'))
        found = None
        why = 'no output of that shape'
        for p, (oi, ov) in cache.items():
            if oi.shape != ri.shape: continue
            if not (np.allclose(oi.affine[:3, 3], ri.affine[:3, 3], atol=0.05) and np.allclose(oi.affine[:3, :3], ri.affine[:3, :3], atol=1e-3)):
                why = 'affine differs: %s vs %s' % (np.round(oi.affine, 3).tolist(), np.round(ri.affine, 3).tolist()); continue
            tol = 1e-3 * max(1e-9, rv.max() - rv.min())
            d = np.abs(ov - rv).max()
            if d > tol: why = 'values differ by %g (tolerance %g) in %s' % (d, tol, os.path.basename(p)); continue
            found = p; break
        msgs = []
        if found:
            oj = json.load(open(found.replace('.nii.gz', '.json').replace('.nii', '.json')))
            if 'SliceTiming' in rj:
                st = oj.get('SliceTiming')
                if st is None or len(st) != len(rj['SliceTiming']) or np.abs(np.array(st) - np.array(rj['SliceTiming'])).max() > 0.0025:
                    msgs.append('SliceTiming %s vs %s' % (st, rj['SliceTiming']))
            # Phase encoding: the same direction in world space (each relative to its own voxel axes).
            if 'PhaseEncodingDirection' in rj and 'PhaseEncodingDirection' in oj:
                def pe_world(nii, code):
                    a = nib.load(nii).affine[:3, :3]
                    v = a[:, 'ijk'.index(code[0])]
                    return (v / np.linalg.norm(v)) * (-1 if code.endswith('-') else 1)
                if np.abs(pe_world(found, oj['PhaseEncodingDirection']) - pe_world(ref, rj['PhaseEncodingDirection'])).max() > 0.02:
                    msgs.append('PhaseEncodingDirection %s vs %s (in world space)' % (oj['PhaseEncodingDirection'], rj['PhaseEncodingDirection']))
            for key, tol in (('EffectiveEchoSpacing', 1e-6), ('TotalReadoutTime', 1e-5), ('RepetitionTime', 1e-4), ('EchoTime', 1e-4), ('MultibandAccelerationFactor', 0)):
                if key in rj and (key not in oj or abs(oj[key] - rj[key]) > tol):
                    msgs.append('%s %s vs %s' % (key, oj.get(key), rj[key]))
            rb = rstem + '.bval'
            if os.path.exists(rb):
                stem = found[:-7] if found.endswith('.nii.gz') else found[:-4]
                if not os.path.exists(stem + '.bval'): msgs.append('no .bval')
                else:
                    b1, b2 = np.loadtxt(stem + '.bval'), np.loadtxt(rb)
                    if b1.shape != b2.shape or np.any(np.abs(b1 - b2) > 0.01 * np.maximum(b2, 1)): msgs.append('bval differ')
                    w1 = world_vectors(found, np.loadtxt(stem + '.bvec')); w2 = world_vectors(ref, np.loadtxt(rstem + '.bvec'))
                    for a, b in zip(w1, w2):
                        if min(np.abs(a - b).max(), np.abs(a + b).max()) > 0.02: msgs.append('bvec differ'); break
        ok = found is not None and not msgs
        bad += not ok
        print('%s %s -> %s %s' % ('OK ' if ok else 'BAD', os.path.basename(ref), os.path.basename(found) if found else '-', '; '.join(msgs) if found else why))
    return 1 if bad else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
