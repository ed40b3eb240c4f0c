#!/usr/bin/env python3
"""Loads a dicomprep segmentation model.pt into MONAI's UNet (the arguments from the bundle's
metadata.json) with strict=True, runs the same input and writes the softmax probabilities.

usage: unet_crosscheck.py BUNDLE INPUT.f32 X Y Z OUTPUT.f32
"""
import json
import sys

import numpy as np
import torch

try:
    from monai.networks.nets import UNet
except ImportError:
    print("NO-MONAI")
    sys.exit(0)

bundle, inp, x, y, z, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
meta = json.load(open(bundle + "/metadata.json"))
n = meta["network"]
net = UNet(spatial_dims=3, in_channels=n["inChannels"], out_channels=n["outChannels"], channels=tuple(n["channels"]),
           strides=tuple(n["strides"]), num_res_units=n["residualUnits"], norm=n["norm"])
state = torch.jit.load(bundle + "/model.pt").state_dict()
result = net.load_state_dict(state, strict=True)
net.eval()
t = torch.from_numpy(np.fromfile(inp, dtype=np.float32).reshape(1, 1, x, y, z))
with torch.no_grad():
    p = torch.softmax(net(t), 1).numpy().astype(np.float32)
p.tofile(out)
print(json.dumps({"keys": len(state), "parameters": sum(q.numel() for q in net.parameters()), "strict": str(result)}))
