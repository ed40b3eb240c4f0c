#!/usr/bin/env python3
"""Loads a dicomprep model.pt into a PyTorch definition of MONAI's 3D ResNet (and into MONAI's own
resnet10/resnet18 when MONAI is importable) with strict=True, runs the same input, prints the logits.

usage: resnet_crosscheck.py ARCH WEIGHTS INPUT.f32 D H W [STRIDE_D STRIDE_H STRIDE_W]
"""
import json
import sys

import numpy as np
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv3d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv3d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.downsample = None
        if stride != 1 or inp != planes:
            self.downsample = nn.Sequential(nn.Conv3d(inp, planes, 1, stride, bias=True), nn.BatchNorm3d(planes))

    def forward(self, x):
        r = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + r)


class ResNet3D(nn.Module):
    """The structure and parameter names of monai.networks.nets.ResNet (BasicBlock, shortcut B)."""

    def __init__(self, layers, widths, stride=(1, 2, 2)):
        super().__init__()
        self.conv1 = nn.Conv3d(1, widths[0], (7, 7, 7), stride, (3, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(3, 2, 1)
        inp = widths[0]
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(inp, w, 2 if (b == 0 and i > 0) else 1))
                inp = w
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(inp, 1)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


ARCHS = {"resnet10": ([1, 1, 1, 1], [64, 128, 256, 512]), "resnet18": ([2, 2, 2, 2], [64, 128, 256, 512]),
         "resnet-small": ([1, 1, 1, 1], [16, 32, 64, 128])}


def main():
    arch, weights, inp = sys.argv[1], sys.argv[2], sys.argv[3]
    d, h, w = (int(v) for v in sys.argv[4:7])
    stride = tuple(int(v) for v in sys.argv[7:10]) if len(sys.argv) >= 10 else (1, 2, 2)
    state = torch.jit.load(weights, map_location="cpu").state_dict()
    x = torch.from_numpy(np.fromfile(inp, dtype=np.float32).reshape(-1, 1, d, h, w))
    out = {"keys": len(state)}
    net = ResNet3D(*ARCHS[arch], stride=stride)
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        out["torch"] = net(x).flatten().tolist()
    try:
        import monai.networks.nets as nets
        if arch in ("resnet10", "resnet18"):
            # MONAI >= 1.0 applies conv1_t_stride to every axis; MONAI 0.6 used (t, 2, 2): pass the tuple.
            m = getattr(nets, arch)(spatial_dims=3, n_input_channels=1, num_classes=1, conv1_t_stride=stride)
            m.load_state_dict(state, strict=True)
            m.eval()
            with torch.no_grad():
                out["monai"] = m(x).flatten().tolist()
    except ImportError:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
