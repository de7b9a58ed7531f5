#!/usr/bin/env python3
"""Evaluate a glr NumPy export on the MNIST test set, with NumPy only.

Usage:

    python3 scripts/check_export.py MODEL.npz MODEL.json MNIST_DIR

prints the test accuracy as

    accuracy 0.9123

that is, the fraction of the test images whose largest logit (the first one
on a tie) is the label, to 4 decimals. A malformed input is reported on
standard error with exit status 1.

MODEL.npz is written by checkpoint.WriteNPZ: one array per parameter, named
as in the network ("layer1/W", "layer1/b", ...). A dense layer's W has
inputs x outputs and the layer computes x @ W.

MODEL.json (checkpoint.Architecture) describes the network:

    {
      "input":   {"channels": 1, "height": 28, "width": 28},
      "classes": 10,
      "bias":    "input",
      "dtype":   "float64",
      "layers":  [{"kind": "dense", "units": 50, "activation": "sigmoid"},
                  {"kind": "dense", "units": 10, "activation": "identity"}]
    }

  input    the shape of one image; it is flattened row-major.
  classes  the number of logits, the units of the last layer.
  bias     "input": a constant 1 is appended as the LAST input of the first
           layer, so layer1/W has channels*height*width + 1 rows (785 for
           MNIST) and no layer has a bias vector;
           "all": every layer N has a vector layerN/b of its units, added
           to x @ W;
           "none": no biases.
  dtype    "float64" or "float32", the dtype of the arrays; the forward pass
           runs in float64 either way.
  layers   in order; kind is "dense"; activation is sigmoid, threshold
           (1 where z > 0, else 0), relu, tanh or identity. The last layer
           must be identity: its outputs are the logits.

The export must hold exactly the arrays this implies, with these shapes.

MNIST_DIR holds t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain
or gzip-compressed (with a .gz suffix); the plain file is used when both
exist. Pixels are scaled to [0, 1] by dividing by 255, as the Go loader does.
"""

import gzip
import json
import os
import sys
import zipfile

import numpy as np

ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "threshold": lambda z: (z > 0).astype(np.float64),
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "identity": lambda z: z,
}


class ExportError(Exception):
    """A malformed model, export or data set."""


def read_idx(path, magic, ndim):
    """Returns the unsigned-byte IDX file at path as an array of ndim dims."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    header = 4 + 4 * ndim
    if len(data) < header or int.from_bytes(data[:4], "big") != magic:
        raise ExportError(f"{path}: not an IDX file of {ndim} dimensions (magic {data[:4].hex()})")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    if len(data) != header + int(np.prod(dims)):
        raise ExportError(f"{path}: {len(data) - header} data bytes, the header gives {dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def find_idx(directory, base):
    for name in (base, base + ".gz"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise ExportError(f"{directory}: neither {base} nor {base}.gz found")


def load_model(path):
    with open(path) as f:
        model = json.load(f)
    expect_keys(model, {"input", "classes", "bias", "dtype", "layers"}, path)
    expect_keys(model["input"], {"channels", "height", "width"}, path + ": input")
    if model["bias"] not in ("input", "all", "none"):
        raise ExportError(f"{path}: unknown bias mode {model['bias']!r} (want input | all | none)")
    if model["dtype"] not in ("float64", "float32"):
        raise ExportError(f"{path}: unknown dtype {model['dtype']!r} (want float64 | float32)")
    if not model["layers"]:
        raise ExportError(f"{path}: no layers")
    for n, layer in enumerate(model["layers"], 1):
        expect_keys(layer, {"kind", "units", "activation"}, f"{path}: layer{n}")
        if layer["kind"] != "dense" or layer["activation"] not in ACTIVATIONS:
            raise ExportError(f"{path}: layer{n}: {layer['kind']} {layer['activation']}: unknown kind or activation")
    last = model["layers"][-1]
    if last["activation"] != "identity" or last["units"] != model["classes"]:
        raise ExportError(f"{path}: the last layer must be identity with {model['classes']} units (the logits)")
    return model


def expect_keys(obj, keys, where):
    if not isinstance(obj, dict) or set(obj) != keys:
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise ExportError(f"{where}: keys {found}, want {sorted(keys)}")


def load_params(path, model):
    """Returns the export's arrays as float64, checked against the model."""
    inp = model["input"]
    rows = inp["channels"] * inp["height"] * inp["width"] + (model["bias"] == "input")
    want = {}
    for n, layer in enumerate(model["layers"], 1):
        want[f"layer{n}/W"] = (rows, layer["units"])
        if model["bias"] == "all":
            want[f"layer{n}/b"] = (layer["units"],)
        rows = layer["units"]
    with np.load(path) as z:
        if set(z.files) != set(want):
            raise ExportError(f"{path}: arrays {sorted(z.files)}, the model needs {sorted(want)}")
        params = {}
        for name, shape in want.items():
            a = z[name]
            if a.shape != shape or a.dtype != np.dtype(model["dtype"]):
                raise ExportError(f"{path}: {name} is {a.dtype} {a.shape}, the model needs {model['dtype']} {shape}")
            params[name] = a.astype(np.float64)
    return params


def accuracy(model, params, images, labels):
    x = images.reshape(len(images), -1) / 255.0
    if model["bias"] == "input":
        x = np.hstack([x, np.ones((len(x), 1))])
    with np.errstate(over="ignore"):  # sigmoid of a large negative z: exp overflows to inf, giving 0
        for n, layer in enumerate(model["layers"], 1):
            x = x @ params[f"layer{n}/W"]
            if model["bias"] == "all":
                x = x + params[f"layer{n}/b"]
            x = ACTIVATIONS[layer["activation"]](x)
    return float(np.mean(np.argmax(x, axis=1) == labels))


def main(argv):
    if len(argv) != 4:
        print("usage: python3 scripts/check_export.py MODEL.npz MODEL.json MNIST_DIR", file=sys.stderr)
        return 2
    npz, model_path, mnist = argv[1:]
    try:
        model = load_model(model_path)
        params = load_params(npz, model)
        images = read_idx(find_idx(mnist, "t10k-images-idx3-ubyte"), 0x803, 3)
        labels = read_idx(find_idx(mnist, "t10k-labels-idx1-ubyte"), 0x801, 1)
        inp = model["input"]
        if inp["channels"] != 1 or images.shape[1:] != (inp["height"], inp["width"]):
            raise ExportError(f"{mnist}: images of {images.shape[1:]}, the model takes "
                              f"{inp['channels']}x{inp['height']}x{inp['width']}")
        if len(images) == 0 or len(labels) != len(images) or labels.max() >= model["classes"]:
            raise ExportError(f"{mnist}: {len(labels)} labels up to {labels.max(initial=0)} "
                              f"for {len(images)} images and {model['classes']} classes")
    except (ExportError, OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as e:
        print(f"check_export: {e}", file=sys.stderr)
        return 1
    print(f"accuracy {accuracy(model, params, images, labels):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
