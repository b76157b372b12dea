#!/usr/bin/python3
"""PyTorch eager baseline of bench/compare.sh (Debian's python3-torch 1.13, and PyPI's torch 2.11 in .torch-pip/).

RAVE's training step and residual pass written the way the authors' train_rave.py runs them, with the models of
bench/clip_reference.py (CLIP) and bench/enhance_torch.py (the enhancer):
  step:     one enhancer step (ALGORITHMS §4.2.2) on random images: enhancer -> E = clamp(x / (L + 1e-9), 0, 1)
            -> 320 * mean (cos(ViT(E), r) - tau)^2 and 25 * sum_i D(E_i, x_i) on RN101's five taps (the input
            branch without autograd) -> 6 L_rave + 0.9 L_id -> backward -> Adam. --form loop is the reference's
            per-sample loop (each image through ViT and RN101 on its own), --form batched the whole batch at once;
            --precision bf16 runs the forward passes under CPU autocast, losses and Adam in float32; --compile
            runs the loss (forward passes and losses; its backward through AOTAutograd) as torch.compile made it
            (inductor, default mode; PyTorch 2.x), the warm-up step absorbing the compilation. Full-size
            random-weight ViT-B/32 and RN101, frozen. Also reports the step's convolution and matmul FLOPs
            (counted once, by forward hooks) so that compare.sh can turn seconds into GFLOP/s. --weights FILE takes
            the models, images and vector that `rave bench step --save-weights FILE` drew (any size: the
            configurations are in the file), so that both sides do the same work and their first losses agree.
            --device cuda runs it on the GPU (bf16 autocast there too).
  residual: the reference procedure for the residual vector (§4.6.1): one file at a time, CLIP's preprocess on the
            PIL image (bicubic short side 224, centre crop), encode_image of one image, unit embedding; with the
            ViT weights rave bench residual wrote (PREFIX.state.h5), compared with its vector (PREFIX.residual.h5).
Prints one JSON object, with the same field names as rave bench step and residual.
"""
import argparse
import json
import os
import statistics
import time

import numpy
import torch
import torch.nn.functional as F
from PIL import Image

from clip_reference import ModifiedResNetFeatures, VisionTransformer
from enhance_torch import Enhancer

CLIP_MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
CLIP_STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
IDENTITY_WEIGHTS = (1, 1, 1, 1, 0.5)


def loss_preprocess(images):
    """Variant A: 224x224 bilinear squash without antialiasing, CLIP normalisation."""
    mean, std = CLIP_MEAN.to(images.device), CLIP_STD.to(images.device)
    return (F.interpolate(images, size=(224, 224), mode="bilinear", align_corners=False) - mean) / std


def frozen(model):
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


def guidance_and_identity(vit, rn, x, enhanced, residual, tau, autocast):
    """Sums over the images of x / enhanced of (cos - tau)^2 and of D (train_rave.py accumulates both per image)."""
    with autocast():
        features = vit(loss_preprocess(enhanced))
        with torch.no_grad():
            input_taps = rn(loss_preprocess(x))
        enhanced_taps = rn(loss_preprocess(enhanced))
    features = features.float()
    cosine = (features / features.norm(dim=-1, keepdim=True)) @ residual
    guidance = (cosine - tau).square().sum()
    identity = sum(w * (a.float() - b.float()).square().flatten(1).mean(1).sum()
                   for w, a, b in zip(IDENTITY_WEIGHTS, enhanced_taps, input_taps))
    return guidance, identity


def step_flops(enhancer, vit, rn, batch, size):
    """Multiply-add FLOPs (x2) of one step's convolutions, linear layers and attention products: the forward of
    each model once, the backward of the enhancer twice (input and weight gradients), of the frozen encoders once
    (input gradients only), plus RN101's input branch (forward only)."""
    counted = {"flops": 0}

    def conv(module, inputs, output):
        counted["flops"] += 2 * output.numel() * module.in_channels // module.groups * module.kernel_size[0] * \
            module.kernel_size[1]

    def linear(module, inputs, output):
        counted["flops"] += 2 * output.numel() * module.in_features

    def attention(module, inputs, output):  # the input projection and the two attention products
        length, images, width = inputs[0].shape
        counted["flops"] += 2 * length * images * width * 3 * width + 2 * 2 * images * length * length * width

    def forward_flops(model, images):
        hooks = []
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                hooks.append(module.register_forward_hook(conv))
            elif isinstance(module, torch.nn.Linear):
                hooks.append(module.register_forward_hook(linear))
            elif isinstance(module, torch.nn.MultiheadAttention):
                hooks.append(module.register_forward_hook(attention))
        counted["flops"] = 0
        with torch.no_grad():
            model(images)
        for hook in hooks:
            hook.remove()
        return counted["flops"]

    enhancer_flops = forward_flops(enhancer, torch.rand(batch, 3, size, size))
    vit_flops = forward_flops(vit, torch.rand(batch, 3, 224, 224))
    rn_flops = forward_flops(rn, torch.rand(batch, 3, 224, 224))
    return 3 * enhancer_flops + 2 * vit_flops + 3 * rn_flops


# rave's ModifiedResNet names (OpenAI's) -> ModifiedResNetFeatures' names.
RESNET_NAMES = {"conv1": "stem.0", "bn1": "stem.1", "conv2": "stem.3", "bn2": "stem.4", "conv3": "stem.6",
                "bn3": "stem.7", "layer1": "stages.0", "layer2": "stages.1", "layer3": "stages.2", "layer4": "stages.3"}


def load_step_models(path):
    """The enhancer, ViT, ModifiedResNet features, images, vector and tau that rave bench step --save-weights wrote."""
    import h5py  # only --weights reads files
    with h5py.File(path, "r") as f:
        group = lambda name: {k: torch.from_numpy(numpy.asarray(v[()])) for k, v in _datasets(f[name])}
        config = lambda name: json.loads(f[name][()].decode() if isinstance(f[name][()], bytes) else f[name][()])
        vit_config, resnet_config = config("vit_config"), config("resnet_config")
        enhancer_state, vit_state, resnet_state = group("enhancer"), group("vit"), group("resnet")
        x = torch.from_numpy(numpy.asarray(f["x"][()]))
        residual = torch.from_numpy(numpy.asarray(f["residual"][()])).float().flatten()
        tau = float(numpy.asarray(f["tau"][()]))
    enhancer = Enhancer("zeros")
    enhancer.load_state_dict(enhancer_state)
    width = vit_config["vision_width"]
    vit = VisionTransformer(vit_config["image_resolution"], vit_config["vision_patch_size"], width,
                            vit_config["vision_layers"], width // 64, vit_config["embed_dim"])
    vit.load_state_dict(vit_state)
    rn = ModifiedResNetFeatures(tuple(resnet_config["vision_layers"]), resnet_config["vision_width"])
    rn.load_state_dict({_resnet_name(k): v for k, v in resnet_state.items() if not k.startswith("attnpool.")})
    return enhancer, frozen(vit), frozen(rn), x, residual, tau


def _datasets(group, prefix=""):
    for name, item in group.items():
        if hasattr(item, "items"):
            yield from _datasets(item, prefix + name + ".")
        else:
            yield prefix + name, item


def _resnet_name(key):
    head, _, rest = key.partition(".")
    return RESNET_NAMES[head] + "." + rest


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step(args):
    device = torch.device(args.device)
    if args.weights:
        enhancer, vit, rn, x, residual, tau = load_step_models(args.weights)
        args.batch, args.size = x.shape[0], x.shape[-1]
    else:
        torch.manual_seed(0)
        enhancer = Enhancer("zeros")
        vit, rn = frozen(VisionTransformer()), frozen(ModifiedResNetFeatures())
        x = torch.rand(args.batch, 3, args.size, args.size)
        residual = F.normalize(torch.randn(512), dim=0)
        tau = 0.2
    enhancer, vit, rn, x, residual = (t.to(device) for t in (enhancer, vit, rn, x, residual))
    optimizer = torch.optim.Adam(enhancer.parameters(), lr=2e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-3)
    autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")
    losses = []

    def step_loss(x):
        with autocast():
            light = enhancer(x)
        enhanced = torch.clamp(x / (light.float() + 1e-9), 0, 1)
        if args.form == "batched":
            guidance, identity = guidance_and_identity(vit, rn, x, enhanced, residual, tau, autocast)
        else:
            guidance = identity = 0
            for i in range(args.batch):
                g, d = guidance_and_identity(vit, rn, x[i:i + 1], enhanced[i:i + 1], residual, tau, autocast)
                guidance, identity = guidance + g, identity + d
        return 6 * 320 * guidance / args.batch + 0.9 * 25 * identity

    loss_of = torch.compile(step_loss) if args.compile else step_loss

    def one_step():
        loss = loss_of(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))  # reads the loss back: the step ends synchronised, as rave's does
        synchronize(device)

    warm_up_start = time.perf_counter()
    for _ in range(args.warmup):  # allocations, oneDNN primitive creation, torch.compile's compilation
        one_step()
    warm_up_seconds = time.perf_counter() - warm_up_start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, cpu_times = [], []
    for _ in range(args.iters):
        start, cpu_start = time.perf_counter(), time.process_time()
        one_step()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    seconds = statistics.median(times)
    result = {"bench": "rave_step", "impl": "pytorch_compile" if args.compile else "pytorch_eager", "form": args.form,
              "precision": args.precision, "weights": args.weights or "drawn here (seed 0)",
              "warmup": args.warmup, "warm_up_seconds": round(warm_up_seconds, 2),
              "batch": args.batch, "size": args.size, "iters": args.iters, "device": str(device),
              "threads": torch.get_num_threads(), "first_loss": losses[0], "last_loss": losses[-1],
              "seconds_per_step": round(seconds, 4), "cpu_seconds_per_step": round(statistics.median(cpu_times), 4),
              "images_per_s": round(args.batch / seconds, 3)}
    if device.type == "cuda":
        result["peak_device_mib"] = round(torch.cuda.max_memory_reserved(device) / 2 ** 20, 1)
    else:
        result["flops_per_step"] = step_flops(enhancer, vit, rn, args.batch, args.size)
    return result


def clip_preprocess(path):
    """CLIP's preprocess on the PIL image as loaded (variant B of ALGORITHMS §1.7)."""
    image = Image.open(path)
    width, height = image.size
    size = (224, int(224 * height / width)) if width <= height else (int(224 * width / height), 224)
    image = image.resize(size, Image.BICUBIC)
    left, top = int(round((size[0] - 224) / 2)), int(round((size[1] - 224) / 2))
    image = image.crop((left, top, left + 224, top + 224)).convert("RGB")
    pixels = torch.from_numpy(numpy.array(image)).permute(2, 0, 1).float().div(255).unsqueeze(0)
    return (pixels - CLIP_MEAN) / CLIP_STD


def residual(args):
    import h5py  # only the residual pass reads files
    with h5py.File(args.prefix + ".state.h5", "r") as f:
        state = {k[len("visual."):]: torch.from_numpy(numpy.asarray(f[k][()])).float()
                 for k in f.keys() if k.startswith("visual.")}
    with h5py.File(args.prefix + ".residual.h5", "r") as f:
        expected = torch.from_numpy(numpy.asarray(f["residual"][()])).float().flatten()
    vit = VisionTransformer()
    vit.load_state_dict(state)
    frozen(vit)
    folders = {name: sorted(os.path.join(folder, n) for n in os.listdir(folder))
               for name, folder in (("backlit", args.backlit), ("welllit", args.welllit))}
    means = {}
    with torch.inference_mode():
        vit(clip_preprocess(folders["welllit"][0]))  # warm-up
        start = time.perf_counter()
        for name, files in folders.items():
            total = torch.zeros(512)
            for path in files:
                embedding = vit(clip_preprocess(path))[0]
                total += embedding / embedding.norm()
            means[name] = F.normalize(total / len(files), dim=0)
        seconds = time.perf_counter() - start
    vector = F.normalize(means["welllit"] - means["backlit"], dim=0)
    images = sum(len(files) for files in folders.values())
    return {"bench": "rave_residual", "impl": "pytorch_eager", "procedure": "one image at a time",
            "images": images, "threads": torch.get_num_threads(), "seconds": round(seconds, 4),
            "images_per_s": round(images / seconds, 2), "tau": float(means["welllit"] @ vector),
            "max_abs_diff_vs_rave": float((vector - expected).abs().max())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["step", "residual"])
    parser.add_argument("--form", choices=["loop", "batched"], default="batched")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="step: untimed steps first")
    parser.add_argument("--weights", help="step: the HDF5 file of rave bench step --save-weights")
    parser.add_argument("--device", default="cpu", help="step: cpu or cuda")
    parser.add_argument("--compile", action="store_true", help="step: torch.compile the loss (PyTorch 2.x)")
    parser.add_argument("--prefix", help="residual: what rave bench residual --out wrote")
    parser.add_argument("--backlit", help="residual: folder of backlit images")
    parser.add_argument("--welllit", help="residual: folder of well-lit images")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    result = step(args) if args.task == "step" else residual(args)
    result.update(libtorch=torch.__version__.split("+")[0], omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
