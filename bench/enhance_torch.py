#!/usr/bin/env python3
"""PyTorch eager baseline for `rave enhance`: the enhancement network of ALGORITHMS §2 written from the spec,
run the way the published inference scripts run it (PIL decode, ToTensor, reflect padding on cond*, no resize,
clamp(x / (L + 1e-9), 0, 1), torchvision-style 8-bit PNG). Prints one JSON object: end-to-end (decode, network,
encode; start-up excluded, the first image cold as in `rave enhance`) megapixels/s and peak RSS; or, with
--forward-only HxW, the network alone on a random image after --warmup untimed runs, as `rave bench enhance`
times it. Used by bench/enhance.sh; not a rave dependency."""
import argparse, json, os, resource, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False, padding_mode="reflect")
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False, padding_mode="reflect")

    def forward(self, x):
        return F.leaky_relu(self.conv2(F.leaky_relu(self.conv1(x), 0.2)) + x, 0.2)


class PyramidPooling(nn.Module):
    def __init__(self, c=32, reduced=8, bins=(1, 2, 3, 6)):
        super().__init__()
        self.features = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(c, reduced, 1, bias=False), nn.PReLU()) for b in bins)
        self.fuse = nn.Sequential(nn.Conv2d(c + reduced * len(bins), c, 3, padding=1, bias=False), nn.PReLU())

    def forward(self, x):
        size = x.shape[2:]
        parts = [x] + [F.interpolate(f(x), size, mode="bilinear", align_corners=True) for f in self.features]
        return self.fuse(torch.cat(parts, 1))


class Enhancer(nn.Module):
    def __init__(self, padding="reflect"):
        super().__init__()
        conv = lambda i, o: nn.Conv2d(i, o, 3, padding=1, padding_mode=padding)
        self.cond1, self.condx, self.condy, self.cond_add1 = conv(3, 32), conv(32, 64), conv(64, 32), conv(32, 1)
        for i, c in enumerate((32, 32, 64, 64, 32, 32), 1):
            setattr(self, f"ResidualBlock{i}", ResidualBlock(c))
        self.PPM1 = PyramidPooling()

    def forward(self, x):
        h = F.leaky_relu(self.cond1(x), 0.2)
        h = self.PPM1(self.ResidualBlock2(self.ResidualBlock1(h)))
        h = self.ResidualBlock4(self.ResidualBlock3(self.condx(h)))
        h = self.ResidualBlock6(self.ResidualBlock5(self.condy(h)))
        return F.relu(self.cond_add1(h))


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def forward_only(args):
    """The network alone on one random image, median of --iters runs after --warmup untimed ones."""
    height, width = (int(v) for v in args.forward_only.split("x"))
    torch.manual_seed(0)
    net = Enhancer("reflect").eval()
    x = torch.rand(1, 3, height, width)
    seconds = []
    with torch.inference_mode():
        for i in range(args.warmup + args.iters):
            start = time.perf_counter()
            net(x)
            if i >= args.warmup:
                seconds.append(time.perf_counter() - start)
    median = sorted(seconds)[len(seconds) // 2]
    return {"bench": "enhance_forward", "impl": "pytorch", "height": height, "width": width, "warmup": args.warmup,
            "iters": args.iters, "seconds_median": round(median, 4),
            "megapixels_per_s": round(height * width / 1e6 / median, 3), "peak_rss_mib": peak_rss_mib()}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", help="published .pth state dict")
    parser.add_argument("--input", help="folder of images")
    parser.add_argument("--output", help="output folder")
    parser.add_argument("--forward-only", metavar="HxW", help="time the network alone on a random HxW image")
    parser.add_argument("--warmup", type=int, default=1, help="--forward-only: untimed runs first")
    parser.add_argument("--iters", type=int, default=1, help="--forward-only: timed runs (median)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = {"threads": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                "torch": torch.__version__}
    if args.forward_only:
        print(json.dumps({**forward_only(args), **settings}))
        return
    if not (args.weights and args.input and args.output):
        parser.error("--weights, --input and --output are needed (or --forward-only HxW)")
    net = Enhancer("reflect")
    state = torch.load(args.weights, map_location="cpu")
    net.load_state_dict({k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()})
    net.eval()
    os.makedirs(args.output, exist_ok=True)
    names = sorted(n for n in os.listdir(args.input) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    megapixels = 0.0
    start = time.perf_counter()
    for name in names:
        image = np.array(Image.open(os.path.join(args.input, name)).convert("RGB"))
        x = torch.from_numpy(image).permute(2, 0, 1).float().div(255).unsqueeze(0)
        with torch.inference_mode():
            light = net(x)
            enhanced = torch.clamp(x / (light + 1e-9), 0, 1)
        out = enhanced[0].mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
        Image.fromarray(out).save(os.path.join(args.output, os.path.splitext(name)[0] + ".png"))
        megapixels += x.shape[2] * x.shape[3] / 1e6
    seconds = time.perf_counter() - start
    json.dump({"bench": "enhance", "impl": "pytorch", "images": len(names), "megapixels": megapixels, "seconds": seconds,
               "megapixels_per_s": megapixels / seconds, "peak_rss_mib": peak_rss_mib(), **settings}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
