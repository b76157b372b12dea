"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/): a few small valid files of each kind,
made the way users' files are made (torch.save, h5py in rave's checkpoint layout, Pillow), plus hand-made regression
inputs of the crashes the fuzzers found. Run once at authoring time with the venv of TORCH=pip scripts/setup.sh:
    .torch-pip/bin/python tests/fuzz/make_corpus.py
The files are committed; CI does not run this."""
import collections
import hashlib
import io
import os
import struct
import zipfile

import h5py
import numpy as np
import torch
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def torch_saved(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def pickle_of(pth):
    with zipfile.ZipFile(io.BytesIO(pth)) as z:
        return z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))


def pth_files():
    torch.manual_seed(0)
    w = torch.randn(2, 3)
    simple = collections.OrderedDict(w=w, b=torch.zeros(3), t=w.t())  # t: a transposed view of w's storage
    mixed = collections.OrderedDict()
    mixed["module.conv.weight"] = torch.randn(1, 1, 2, 2)
    mixed["module.steps"] = torch.tensor(7, dtype=torch.int64)
    mixed["module.half"] = torch.ones(2, dtype=torch.bfloat16)
    mixed["module.mask"] = torch.tensor([True, False])
    mixed["module.empty"] = torch.empty(0, 3)
    return {"simple.pth": torch_saved(simple), "mixed.pth": torch_saved(mixed)}


def stored_zip(force_zip64):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.comment = b"a comment"
        with z.open("a/one.txt", "w", force_zip64=force_zip64) as f:
            f.write(b"first entry")
        z.writestr("a/two.bin", bytes(range(40)))
    return buffer.getvalue()


def zip64_extra_overrun():
    """A central directory whose last entry has saturated sizes and a zip64 extra field that declares 0xffff bytes
    where the directory holds 4: the reader read its 8-byte values past the end of the directory."""
    name = b"x"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    extra = struct.pack("<HH", 1, 0xFFFF)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF,
                          len(name), len(extra), 0, 0, 0, 0, 0) + name + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def checkpoint(userblock=0, step=np.int64(5)):
    """rave's checkpoint layout (docs/checkpoint-format.md) at its smallest: every root attribute, one enhancer
    dataset with the Fletcher-32 filter, a 0-d dataset with its CRC-32 attribute."""
    import zlib
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", userblock_size=userblock) as f:
        for key, value in [("format", "rave-checkpoint"), ("method", "rave"), ("stage", "guided"), ("config", ""),
                           ("source", ""), ("created", "2026-01-01T00:00:00Z"), ("rave_version", "0.1.0")]:
            f.attrs[key] = value
        for key, value in [("format_version", 1), ("round", 1), ("world_size", 2), ("seed", 3)]:
            f.attrs[key] = np.int64(value)
        f.attrs["step"] = step
        f.create_dataset("enhancer/cond1.weight", data=np.arange(6, dtype=np.float32).reshape(2, 3),
                         chunks=(2, 3), fletcher32=True)
        f["enhancer"].attrs["padding_mode"] = "zeros"
        step = np.array(5, dtype=np.int64)
        f.create_dataset("optimizer/enhancer/step", data=step)
        f["optimizer/enhancer/step"].attrs["crc32"] = np.int64(zlib.crc32(step.tobytes()))
    return buffer.getvalue()


def sealed(data):
    """rave's header (docs/checkpoint-format.md, io/h5_seal.h) in the 512-byte userblock of an HDF5 file made with
    one: loading a checkpoint checks it before libhdf5 parses a byte, so mutations of this seed stop there."""
    body = data[512:]
    text = (f"rave-hdf5 1\nlength {len(data)}\nsha256 {hashlib.sha256(body).hexdigest()}\n"
            "# rave's header: HDF5 data follows at byte 512 (its userblock); see docs/checkpoint-format.md\n")
    return text.encode().ljust(512, b"\0") + body


def image(mode, size, fmt, **options):
    values = np.arange(size[0] * size[1] * 3, dtype=np.uint8).reshape(size[1], size[0], 3) * 7
    picture = Image.fromarray(values, "RGB").convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg_cut_mid_scan():
    """A baseline JPEG cut inside its scan and closed with an end-of-image marker: OpenCV's decoder returned it with
    grey rows (issue 19, item 6)."""
    whole = image("RGB", (32, 32), "JPEG", quality=95)
    scan = whole.index(b"\xff\xda")
    return whole[: scan + (len(whole) - scan) // 2] + b"\xff\xd9"


def main():
    pth = pth_files()
    for name, data in pth.items():
        put("torch_zip", name, data)
        put("pickle", name.replace(".pth", ".pkl"), pickle_of(data))
    put("zip", "simple.pth", pth["simple.pth"])
    put("zip", "stored.zip", stored_zip(False))
    put("zip", "zip64.zip", stored_zip(True))
    put("zip", "regression-zip64-extra-overrun.zip", zip64_extra_overrun())
    put("checkpoint", "unsealed.h5", checkpoint())
    put("checkpoint", "sealed.h5", sealed(checkpoint(userblock=512)))
    # The step as a list of three: the reader of one value let libhdf5 write all three into its 8 bytes.
    put("checkpoint", "regression-step-list.h5", sealed(checkpoint(userblock=512, step=np.arange(3, dtype=np.int64))))
    put("image", "rgb.png", image("RGB", (8, 6), "PNG"))
    put("image", "palette-interlaced.png", image("P", (9, 5), "PNG", interlace=True, transparency=0))
    put("image", "grey16.png", image("I;16", (5, 4), "PNG"))
    put("image", "baseline.jpg", image("RGB", (16, 8), "JPEG", quality=80))
    put("image", "progressive.jpg", image("L", (12, 12), "JPEG", progressive=True))
    put("image", "cmyk.jpg", image("CMYK", (8, 8), "JPEG"))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees
    put("image", "exif.jpg", image("RGB", (8, 4), "JPEG", exif=exif))
    put("image", "rgb.bmp", image("RGB", (7, 3), "BMP"))
    put("image", "rgb.tif", image("RGB", (6, 4), "TIFF"))
    put("image", "rgb.webp", image("RGB", (8, 8), "WEBP", lossless=True))
    put("image", "regression-jpeg-cut-mid-scan.jpg", jpeg_cut_mid_scan())


if __name__ == "__main__":
    main()
