#!/usr/bin/env python3
"""The faithful LRS epoch of configs/mnist-lrs.toml, in PyTorch, in GEMM form.

This is the same algorithm glr runs for that config, written as directly as
PyTorch allows, to compare the two programs on the same cores:

  * the reference code's (GLR_ADV's) 785-50-10 network: the input carries a
    constant-1 last column (its bias), the hidden layer is a sigmoid, the
    output layer has no bias; Laplace noise of scale b = 1 at both
    pre-activations;
  * K = 10 noisy copies of each of 128 examples per step; the input layer is
    computed once per example and tiled into the copies;
  * per-row softmax cross-entropy L, no baseline, and per site one product
    G = X^T (diag(L) psi(R)) / M with psi(r) = sign(r)/b and M = 128 * K rows
    (at the input layer X holds each example once, so the copies' weighted
    scores are summed first);
  * plain SGD, learning rate 0.01, weight decay 1e-4 added to the gradient;
  * after the epoch, noise-free evaluation on the 10,000 test images.

It reads the MNIST IDX files (train-images-idx3-ubyte.gz, ...) from DIR,
by default datasets/mnistdata, the copy glr embeds. Usage, from the
repository's root:

  python3 bench/lrs_torch.py [DIR] [--threads 2] [--dtype float32] [--epochs 1]

It prints one JSON line per epoch: seconds (train plus evaluation, as glr's
metrics.jsonl), train_seconds, eval_seconds, test_accuracy, and which BLAS
PyTorch was built against. Debian's python3-torch calls the system
libblas.so.3: select OpenBLAS for it with
  update-alternatives --set libblas.so.3-x86_64-linux-gnu \
      /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
"""
import argparse
import gzip
import json
import os
import re
import struct
import time

import numpy as np
import torch


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(dir, split, dtype):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(dir, prefix + "-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(dir, prefix + "-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0).to(dtype)
    ones = torch.ones(len(x), 1, dtype=dtype)
    return torch.cat([x, ones], dim=1).contiguous(), torch.from_numpy(y.astype(np.int64))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "mnistdata"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dt = torch.float32 if a.dtype == "float32" else torch.float64
    xtr, ytr = load(a.dir, "train", dt)
    xte, yte = load(a.dir, "test", dt)

    B, K, b, lr, wd = 128, 10, 1.0, 0.01, 1e-4
    n_in, n_hid, n_out = xtr.shape[1], 50, 10
    # The reference code's scaled-normal initialisation: N(0, 1)/sqrt(fan-in).
    w1 = torch.randn(n_in, n_hid, dtype=dt) / n_in ** 0.5
    w2 = torch.randn(n_hid, n_out, dtype=dt) / n_hid ** 0.5
    laplace = torch.distributions.Laplace(torch.tensor(0.0, dtype=dt), torch.tensor(b, dtype=dt))
    M = B * K

    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(len(xtr))
        with torch.no_grad():
            for s in range(0, len(xtr) - B + 1, B):
                idx = perm[s:s + B]
                x, y = xtr[idx], ytr[idx]
                h1 = x @ w1                                   # B x 50, once per example
                r1 = laplace.sample((K, B, n_hid))
                v1 = h1.unsqueeze(0) + r1                     # K x B x 50, copy-major
                a1 = torch.sigmoid(v1).reshape(M, n_hid)
                r2 = laplace.sample((M, n_out))
                logits = a1 @ w2 + r2                         # M x 10
                L = torch.nn.functional.cross_entropy(logits, y.repeat(K), reduction="none")
                wL = (L / M).unsqueeze(1)
                s2 = wL * torch.sign(r2) / b                  # M x 10
                g2 = a1.T @ s2
                s1 = (wL.reshape(K, B, 1) * torch.sign(r1) / b).sum(0)   # B x 50
                g1 = x.T @ s1
                w1 -= lr * (g1 + wd * w1)
                w2 -= lr * (g2 + wd * w2)
        t1 = time.perf_counter()
        with torch.no_grad():
            pred = (torch.sigmoid(xte @ w1) @ w2).argmax(1)
            acc = (pred == yte).to(torch.float64).mean().item()
        t2 = time.perf_counter()
        print(json.dumps({
            "program": "bench/lrs_torch.py", "epoch": epoch, "seconds": t2 - t0,
            "train_seconds": t1 - t0, "eval_seconds": t2 - t1, "test_accuracy": acc,
            "dtype": a.dtype, "threads": a.threads, "torch": torch.__version__,
            "blas": blas_name(),
        }), flush=True)


def blas_name():
    """PyTorch's BLAS_INFO and, for Debian's build, which libblas.so.3 the
    system alternative selects (reference BLAS or OpenBLAS)."""
    m = re.search(r"BLAS_INFO=([^,]*)", torch.__config__.show())
    info = m.group(1).strip() if m else "unknown"
    lib = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return f"{info} ({lib})"


if __name__ == "__main__":
    main()
