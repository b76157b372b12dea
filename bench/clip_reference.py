#!/usr/bin/python3
"""PyTorch eager baseline of bench/clip.sh (Debian's python3-torch; not a build or CI dependency).

A plain PyTorch CLIP written from ALGORITHMS.md §1 the way the reference runs it: sequence-first activations,
torch.nn.MultiheadAttention, a LayerNorm computed in float32, QuickGELU, anti-aliased Bottlenecks.
  image: random-weight ViT-B/32 (encode_image) or RN101 (the five feature taps), fp32 or bf16 autocast.
  text:  the reference procedure for prompts: one prompt at a time at the full 77-token context, with the
         weights rave bench clip wrote (PREFIX.state.h5); the embeddings are compared with rave bench clip's (PREFIX.text.h5).
Prints one JSON object, with the same field names as rave bench clip.
"""
import argparse
import json
import os
import statistics
import time
from collections import OrderedDict

import numpy
import torch
from torch import nn


class LayerNorm32(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.float()).to(x.dtype)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = LayerNorm32(width)
        self.mlp = nn.Sequential(OrderedDict(
            [("c_fc", nn.Linear(width, 4 * width)), ("gelu", QuickGELU()), ("c_proj", nn.Linear(4 * width, width))]))
        self.ln_2 = LayerNorm32(width)

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.Sequential(*[Block(width, heads) for _ in range(layers)])

    def forward(self, x, mask=None):
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, resolution=224, patch=32, width=768, layers=12, heads=12, output_dim=512):
        super().__init__()
        scale = width ** -0.5
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((resolution // patch) ** 2 + 1, width))
        self.ln_pre = LayerNorm32(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = LayerNorm32(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):
        x = self.conv1(x).flatten(2).permute(2, 0, 1)  # [grid², B, width]
        cls = self.class_embedding.to(x.dtype).expand(1, x.shape[1], -1)
        x = torch.cat([cls, x]) + self.positional_embedding[:, None, :].to(x.dtype)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[0]) @ self.proj


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(inplanes, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False), nn.BatchNorm2d(planes)
        self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3, self.bn3 = nn.Conv2d(planes, 4 * planes, 1, bias=False), nn.BatchNorm2d(4 * planes)
        self.downsample = None
        if stride > 1 or inplanes != 4 * planes:
            self.downsample = nn.Sequential(OrderedDict([
                ("-1", nn.AvgPool2d(stride)), ("0", nn.Conv2d(inplanes, 4 * planes, 1, bias=False)),
                ("1", nn.BatchNorm2d(4 * planes))]))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.pool(out)))
        return torch.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ModifiedResNetFeatures(nn.Module):
    """The image tower up to layer4; the identity loss reads the five taps, so the attention pool never runs."""

    def __init__(self, layers=(3, 4, 23, 3), width=64):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(),
            nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(),
            nn.Conv2d(width // 2, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.AvgPool2d(2))
        stages, inplanes = [], width
        for i, depth in enumerate(layers):
            planes = width * 2 ** i
            blocks = [Bottleneck(inplanes, planes, 1 if i == 0 else 2)]
            inplanes = 4 * planes
            blocks += [Bottleneck(inplanes, planes, 1) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)

    def forward(self, x):
        taps = [self.stem(x)]
        for stage in self.stages:
            taps.append(stage(taps[-1]))
        return taps


class TextTower(nn.Module):
    def __init__(self, state):
        super().__init__()
        width = state["ln_final.weight"].shape[0]
        layers = len({k.split(".")[2] for k in state if k.startswith("transformer.resblocks")})
        self.token_embedding = nn.Embedding(*state["token_embedding.weight"].shape)
        self.positional_embedding = nn.Parameter(state["positional_embedding"])
        self.transformer = Transformer(width, layers, width // 64)
        self.ln_final = LayerNorm32(width)
        self.text_projection = nn.Parameter(state["text_projection"])
        self.load_state_dict({k: v for k, v in state.items() if not k.startswith("visual.") and k != "logit_scale"})

    def forward(self, ids):
        length = ids.shape[1]
        mask = torch.full((length, length), float("-inf")).triu(1)
        x = (self.token_embedding(ids) + self.positional_embedding).permute(1, 0, 2)
        x = self.ln_final(self.transformer(x, mask).permute(1, 0, 2))
        return x[torch.arange(x.shape[0]), ids.argmax(-1)] @ self.text_projection


def image(args):
    torch.manual_seed(0)
    model = (VisionTransformer() if args.model == "vit" else ModifiedResNetFeatures()).eval()
    images = torch.randn(args.batch, 3, 224, 224)
    times = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
        model(images)  # warm-up
        for _ in range(args.iters):
            start = time.perf_counter()
            model(images)
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {"bench": "clip_image", "impl": "pytorch_eager", "model": "ViT-B/32" if args.model == "vit" else "RN101",
            "call": "encode_image" if args.model == "vit" else "image_features", "precision": args.precision,
            "batch": args.batch, "iters": args.iters, "threads": torch.get_num_threads(),
            "seconds_per_batch": round(seconds, 4), "images_per_s": round(args.batch / seconds, 2)}


def text(args):
    import h5py  # only the text benchmark reads files
    with h5py.File(args.prefix + ".state.h5", "r") as f:
        state = {k: torch.from_numpy(numpy.asarray(f[k][()])).float() for k in f.keys()}
    with h5py.File(args.prefix + ".text.h5", "r") as f:
        tokens = torch.from_numpy(f["tokens"][()]).long()[: args.prompts]
        expected = torch.from_numpy(f["embeddings"][()])[: args.prompts]
    model = TextTower(state).eval()
    outputs = []
    with torch.inference_mode():
        model(tokens[:1])  # warm-up
        start = time.perf_counter()
        for i in range(tokens.shape[0]):
            outputs.append(model(tokens[i:i + 1]))
        seconds = time.perf_counter() - start
    real_tokens = int((tokens.argmax(-1) + 1).sum())
    return {"bench": "clip_text", "impl": "pytorch_eager", "procedure": "one prompt at a time, 77-token context",
            "prompts": tokens.shape[0], "batch": 1, "threads": torch.get_num_threads(), "real_tokens": real_tokens,
            "seconds": round(seconds, 4), "prompts_per_s": round(tokens.shape[0] / seconds, 1),
            "tokens_per_s": round(real_tokens / seconds, 1),
            "max_abs_diff_vs_rave": float((torch.cat(outputs) - expected).abs().max())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["image", "text"])
    parser.add_argument("--model", choices=["vit", "rn101"], default="vit")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--prefix", help="text: what rave bench clip --tower text --out wrote")
    parser.add_argument("--prompts", type=int, default=256, help="text: prompts run by the reference procedure")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    result = image(args) if args.task == "image" else text(args)
    result.update(libtorch=torch.__version__.split("+")[0], omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
