#!/usr/bin/env python3
"""Runs the README's shell blocks in order, as a new user would, in a scratch folder.

usage: run_readme.py README SOURCE_DIR BUILD_DIR FIXTURES_DIR SCRATCH

Every ```bash block runs in SCRATCH with `bash -e -o pipefail`, after the substitutions of substitutions.tsv
(beside this file): the downloads become copies of the tiny test models, the sizes and step counts shrink. A
block right after the line `<!-- readme-test: skip (why) -->` is not run. SCRATCH gets `build` (a link to
BUILD_DIR), copies of `configs/` and `scripts/`, and what the README tells the user to fetch by hand: BAID and
DIV2K (synthetic scenes from `rave synth` in their folders) and the authors' weights (the fixtures' copies in
weights/). Exits 77 (CTest's skip) without the fixtures, 1 when a block fails.
"""
import os
import re
import shutil
import subprocess
import sys

SKIP_MARK = re.compile(r"<!-- readme-test: skip\b")


def blocks(readme_path):
    """(line number, text, skipped) of every ```bash block."""
    lines = open(readme_path, encoding="utf-8").read().split("\n")
    found, i, previous = [], 0, ""
    while i < len(lines):
        if lines[i].strip() == "```bash":
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            found.append((start, "\n".join(body) + "\n", bool(SKIP_MARK.search(previous))))
        if lines[i].strip():
            previous = lines[i]
        i += 1
    return found


def substitutions(table_path, fixtures):
    """(compiled pattern, replacement) pairs; '#' lines and blank lines are comments."""
    pairs = []
    for number, line in enumerate(open(table_path, encoding="utf-8"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        pattern, tab, replacement = line.rstrip("\n").partition("\t")
        if not tab:
            sys.exit(f"{table_path}:{number}: expected PATTERN<TAB>REPLACEMENT")
        pairs.append((re.compile(pattern, re.MULTILINE), replacement.replace("{fixtures}", fixtures)))
    return pairs


def stand_ins(scratch, fixtures, env):
    """The datasets and weights the README has the user download by hand."""
    subprocess.run(["build/rave", "synth", "--out", "data/stand-in", "--count", "10", "--size", "64"], cwd=scratch,
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    links = {"data/BAID/train/backlit": "train/backlit", "data/DIV2K": "train/welllit",
             "data/BAID/test/input": "test/backlit", "data/BAID/test/gt": "test/welllit"}
    for link, target in links.items():
        path = os.path.join(scratch, link)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(os.path.join(scratch, "data", "stand-in", target), path)
    os.makedirs(os.path.join(scratch, "weights"))
    for name in ("rave_paired.pth", "rave_unpaired.pth", "clip_lit_paired.pth", "clip_lit_latent_paired.pth"):
        shutil.copy(os.path.join(fixtures, "enhancer", name), os.path.join(scratch, "weights", name))


def main():
    readme, source, build, fixtures, scratch = (os.path.abspath(arg) for arg in sys.argv[1:6])
    if not os.path.isdir(os.path.join(fixtures, "clip")):
        print(f"skipped: the tiny test models are not in {fixtures} (../shared/fixtures)")
        return 77
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    os.symlink(os.path.abspath(build), os.path.join(scratch, "build"))
    for folder in ("configs", "scripts"):
        shutil.copytree(os.path.join(source, folder), os.path.join(scratch, folder))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", RAVE_CACHE_DIR=os.path.join(scratch, "cache"),
               OMP_NUM_THREADS="1")
    stand_ins(scratch, fixtures, env)
    table = substitutions(os.path.join(os.path.dirname(os.path.abspath(__file__)), "substitutions.tsv"), fixtures)
    for line, text, skipped in blocks(readme):
        if skipped:
            print(f"--- README.md:{line}: skipped (marked)\n{text}", flush=True)
            continue
        for pattern, replacement in table:
            text = pattern.sub(replacement, text)
        print(f"--- README.md:{line}, as run:\n{text}", flush=True)
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=scratch, env=env)
        if result.returncode != 0:
            print(f"README.md:{line}: the block exited with {result.returncode}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
