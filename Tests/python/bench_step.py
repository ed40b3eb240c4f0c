#!/usr/bin/env python3
"""The same training step and inference as `dicomprep-bench torch`, in PyTorch (Debian's python3-torch):
prints training samples/s and inference ms/case.  usage: bench_step.py ARCH D H W BATCH STEPS THREADS"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_crosscheck import ARCHS, ResNet3D  # noqa: E402


def main():
    arch = sys.argv[1]
    d, h, w, batch, steps, threads = (int(v) for v in sys.argv[2:8])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = ResNet3D(*ARCHS[arch])
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    x = torch.rand(batch, 1, d, h, w)
    y = (torch.arange(batch) % 2).float().reshape(batch, 1)

    def step():
        net.train()
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    train = batch * steps / (time.perf_counter() - t)
    net.eval()
    one = x[:1]
    with torch.no_grad():
        net(one)
        t = time.perf_counter()
        for _ in range(steps):
            net(one)
        infer = (time.perf_counter() - t) / steps * 1000
    print(f"{train:.3f} {infer:.1f}")


if __name__ == "__main__":
    main()
