"""PyTorch peer for `npm run bench:train`: the same segmentation network and step, timed on the same machine.

Not part of the product, its tests or CI: PyTorch is only the yardstick. On Debian:
    apt-get install -y python3-torch python3-torchvision
    /usr/bin/python3 bench/peer-train-torch.py --size 256 --batch 8 --steps 4 [--threads 2]

The network is what Argus trains in segment mode: torchvision's ResNet-50 (the shared ImageNet
weights) with each BatchNorm folded into its convolution (a conv with bias, as Argus builds it),
stem…layer2 frozen and run under no_grad, layer3–layer4 trained; an FPN of 256 channels on C2–C5
(1×1 laterals, nearest top-down, 3×3 outputs); the semantic-FPN head (128 channels, 3×3 conv +
ReLU + nearest ×2 per step to 1/4 resolution, summed, 1×1 predictor); focal (γ = 2, class weights)
+ soft Dice loss; AdamW (weight decay 1e-4, not on biases), global gradient norm clipped to 5.
Prints one JSON object: the median time per step after a warm-up step.
"""
import argparse
import os
import json
import statistics
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.nn.utils.fusion import fuse_conv_bn_eval

parser = argparse.ArgumentParser()
parser.add_argument('--weights', default='../shared/models/resnet50-imagenet.safetensors')
parser.add_argument('--size', type=int, default=256)
parser.add_argument('--batch', type=int, default=8)
parser.add_argument('--steps', type=int, default=4)
parser.add_argument('--threads', type=int, default=len(os.sched_getaffinity(0)))
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    dtypes = {'F16': np.float16, 'F32': np.float32}
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        array = np.frombuffer(body[start:end], dtype=dtypes[info['dtype']]).reshape(info['shape'])
        out[name] = torch.from_numpy(array.astype(np.float32))
    return out


def folded_resnet50(state):
    net = torchvision.models.resnet50()
    net.load_state_dict(state, strict=True)
    net.eval()

    def fold(parent, conv_name, bn_name):
        fused = fuse_conv_bn_eval(getattr(parent, conv_name), getattr(parent, bn_name))
        setattr(parent, conv_name, fused)
        setattr(parent, bn_name, nn.Identity())

    fold(net, 'conv1', 'bn1')
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        for block in layer:
            for k in (1, 2, 3):
                fold(block, f'conv{k}', f'bn{k}')
            if block.downsample is not None:
                fused = fuse_conv_bn_eval(block.downsample[0], block.downsample[1])
                block.downsample = nn.Sequential(fused)
    return net


class Fpn(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.ModuleList(nn.Conv2d(c, 256, 1) for c in (256, 512, 1024, 2048))
        self.layer = nn.ModuleList(nn.Conv2d(256, 256, 3, padding=1) for _ in range(4))

    def forward(self, cs):
        top = self.inner[3](cs[3])
        results = [None] * 4
        results[3] = self.layer[3](top)
        for i in (2, 1, 0):
            top = self.inner[i](cs[i]) + F.interpolate(top, scale_factor=2, mode='nearest')
            results[i] = self.layer[i](top)
        return results


class SemanticHead(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.ModuleList(nn.Conv2d(256 if j == 0 else 128, 128, 3, padding=1) for j in range(depth)) for depth in (1, 1, 2, 3))
        self.predictor = nn.Conv2d(128, classes + 1, 1)

    def forward(self, levels):
        total = None
        for level, (x, convs) in enumerate(zip(levels, self.branches)):
            for conv in convs:
                x = F.relu(conv(x))
                if level > 0:
                    x = F.interpolate(x, scale_factor=2, mode='nearest')
            total = x if total is None else total + x
        return self.predictor(total)


def focal_dice(logits, target, class_weights):
    n, c, h, w = logits.shape
    logp = F.log_softmax(logits, dim=1)
    p = logp.exp()
    modulator = (1 - p) ** 2
    focal = -(target * class_weights.view(1, c, 1, 1) * modulator * logp).sum() / (n * h * w)
    intersection = (p * target).sum(dim=(0, 2, 3))
    total = (p + target).sum(dim=(0, 2, 3))
    ratio = (2 * intersection + 1) / (total + 1)
    dice = 1 - ratio[1:].mean()
    return focal + dice


backbone = folded_resnet50(read_safetensors(args.weights))
frozen = nn.Sequential(backbone.conv1, backbone.relu, backbone.maxpool, backbone.layer1, backbone.layer2)
fpn, head = Fpn(), SemanticHead(1)
trained = nn.ModuleList([backbone.layer3, backbone.layer4, fpn, head])
for p in frozen.parameters():
    p.requires_grad_(False)
decay = [p for p in trained.parameters() if p.dim() > 1]
no_decay = [p for p in trained.parameters() if p.dim() <= 1]
optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': 1e-4}, {'params': no_decay, 'weight_decay': 0}], lr=1e-4)

size, batch = args.size, args.batch
generator = torch.Generator().manual_seed(3)
pixels = torch.randint(0, 256, (batch, 3, size, size), generator=generator).float() - torch.tensor([123.68, 116.78, 103.94]).view(1, 3, 1, 1)
# As bench:train's target: cell p of each image is a defect where p mod 97 < 5.
cells = (size // 4) ** 2
defect = (torch.arange(cells) % 97 < 5).float().view(1, 1, size // 4, size // 4).expand(batch, 1, -1, -1)
target = torch.cat([1 - defect, defect], dim=1).contiguous()
class_weights = torch.tensor([1.0, 5.0])

times, frozen_times = [], []
for step in range(args.steps):
    t0 = time.perf_counter()
    with torch.no_grad():
        c2 = frozen[3](frozen[2](frozen[1](frozen[0](pixels))))
        c3 = frozen[4](c2)
    t1 = time.perf_counter()
    c4 = backbone.layer3(c3)
    c5 = backbone.layer4(c4)
    loss = focal_dice(head(fpn([c2, c3, c4, c5])), target, class_weights)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trained.parameters(), 5.0)
    optimizer.step()
    t2 = time.perf_counter()
    if step > 0:
        times.append((t2 - t0) * 1000)
        frozen_times.append((t1 - t0) * 1000)

trained_parameters = sum(p.numel() for p in trained.parameters())
print(json.dumps({
    'peer': f'pytorch {torch.__version__} eager', 'input': f'{size}x{size}', 'batch': batch, 'threads': args.threads,
    'ms_frozen_forward': round(statistics.median(frozen_times), 1), 'ms_total_per_step': round(statistics.median(times), 1),
    'steps_timed': len(times), 'trained_parameters': trained_parameters,
}))
