#!/usr/bin/env python3
"""The same UNet training step and inference as `dicomprep-bench unet`, in PyTorch with MONAI's UNet and
DiceCELoss: prints seconds per training step and inference ms per window. PRECISION bfloat16 runs the
training forward pass under torch.autocast("cpu", bfloat16), as the engine's --precision bfloat16 does.
usage: bench_unet_step.py X Y Z BATCH STEPS THREADS [float32|bfloat16]"""
import sys
import time

import torch
from monai.losses import DiceCELoss
from monai.networks.nets import UNet


def main():
    x, y, z, batch, steps, threads = (int(v) for v in sys.argv[1:7])
    mixed = len(sys.argv) > 7 and sys.argv[7] == "bfloat16"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2), num_res_units=2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    img = torch.rand(batch, 1, x, y, z)
    lab = (img > 0.5).long()

    def step():
        net.train()
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            out = net(img)
        loss = loss_fn(out.float(), lab)
        loss.backward()
        opt.step()

    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    per_step = (time.perf_counter() - t) / steps
    net.eval()
    one = img[:1]
    with torch.no_grad():
        net(one)
        t = time.perf_counter()
        for _ in range(steps):
            torch.softmax(net(one), 1)
    infer = (time.perf_counter() - t) / steps * 1000
    print(f"{per_step:.3f} {infer:.1f}")


if __name__ == "__main__":
    main()
