"""Model weights to and from torch-named, torch-layout dicts, and their files (.safetensors or .npz).

The engine's layers already follow torch's names and layouts (``Linear.weight`` (out, in), ``Conv2d.weight``
(C_out, C_in, kH, kW), ``Embedding.weight`` (V, d), norms' ``weight``/``bias``), so a ``Module``'s
``state_dict`` is its torch dict; a torch module built with the same attribute names loads it with
``load_state_dict`` (``scratch.crosscheck.torch_reference.capsule.torch_model`` is one). Only the models
that hold bare tables are renamed:

    Word2Vec        embedding → embedding.weight, output → output.weight, bias → bias       (nn.Embedding)
    GloVe           W → word.weight, C → context.weight, b → word_bias, c → context_bias
    SimplerGloVe    W → word.weight (C is W); model="concat"/"sum" add context.weight

Buffers travel too (the Transformer-VQ codebook statistics ``quantizer.c_sum``, ``quantizer.c_count``).
Loading GloVe weights restarts its AdaGrad accumulators at 1 (glove.c's start).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..kernels.glove import GloVeParams
from ..models.glove import GloVe, SimplerGloVe
from ..models.word2vec import Word2Vec
from ..nn import Module

WORD2VEC_NAMES = {"embedding": "embedding.weight", "output": "output.weight", "bias": "bias"}
GLOVE_MODELS = (GloVe, SimplerGloVe)
GLOVE_NAMES = {"W": "word.weight", "C": "context.weight", "b": "word_bias", "c": "context_bias"}


def torch_state(model: Any) -> dict[str, np.ndarray]:
    """The torch-named, torch-layout arrays of ``model`` (a ``Module``, ``Word2Vec``, ``GloVe`` or
    ``SimplerGloVe``), as copies."""
    if isinstance(model, GLOVE_MODELS):
        if model.params is None:
            raise RuntimeError("the GloVe model has no parameters yet; fit or load it first")
        names = {k: v for k, v in GLOVE_NAMES.items() if getattr(model.params, k).size}
        if model.params.shared:
            names.pop("C")
        return {torch_name: getattr(model.params, k).copy() for k, torch_name in names.items()}
    if not isinstance(model, Module):
        raise TypeError(f"model must be a scratch Module or a GloVe model, got {type(model).__name__}")
    renames = WORD2VEC_NAMES if isinstance(model, Word2Vec) else {}
    return {renames.get(k, k): v for k, v in model.state_dict().items()}


def load_torch_state(model: Any, state: dict[str, Any]) -> None:
    """Copy a torch-named dict (arrays or torch tensors) into ``model``; every key must match (KeyError
    naming the missing and unexpected ones) and every shape (ValueError naming the key)."""
    arrays = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v) for k, v in state.items()}
    if isinstance(model, GLOVE_MODELS):
        _load_glove(model, arrays)
        return
    if not isinstance(model, Module):
        raise TypeError(f"model must be a scratch Module or a GloVe model, got {type(model).__name__}")
    ours = {v: k for k, v in WORD2VEC_NAMES.items()} if isinstance(model, Word2Vec) else {}
    model.load_state_dict({ours.get(k, k): v for k, v in arrays.items()})


def _load_glove(model: GloVe | SimplerGloVe, arrays: dict[str, np.ndarray]) -> None:
    expected = {"word.weight", "context.weight"} if not model.shared else {"word.weight"}
    if model.biases:
        expected |= {"word_bias", "context_bias"}
    if set(arrays) != expected:
        raise KeyError(f"GloVe weights: missing keys {sorted(expected - set(arrays))}, "
                       f"unexpected keys {sorted(set(arrays) - expected)}")
    dtype = np.dtype(model.dtype)
    W = arrays["word.weight"].astype(dtype)
    if W.ndim != 2 or W.shape[1] != model.dim:
        raise ValueError(f"'word.weight' has shape {W.shape}, the model has dim={model.dim}")
    C = W if model.shared else arrays["context.weight"].astype(dtype)
    size = len(W) if model.biases else 0
    b, c = ((arrays[k].astype(dtype) if model.biases else np.zeros(0, dtype)) for k in ("word_bias", "context_bias"))
    for key, value, shape in (("context.weight", C, W.shape), ("word_bias", b, (size,)), ("context_bias", c, (size,))):
        if value.shape != shape:
            raise ValueError(f"{key!r} has shape {value.shape}, expected {shape}")
    GW = np.ones_like(W)
    model.params = GloVeParams(W, C, b, c, GW, GW if model.shared else np.ones_like(C), np.ones_like(b), np.ones_like(c))


def save(path: str | os.PathLike, state: dict[str, np.ndarray]) -> Path:
    """Write ``state`` as ``.safetensors`` (needs the ``safetensors`` package, the ``io`` extra) or ``.npz``,
    by the suffix of ``path``."""
    path = Path(path)
    arrays = {k: np.ascontiguousarray(v) for k, v in state.items()}
    if path.suffix == ".safetensors":
        from safetensors.numpy import save_file

        save_file(arrays, str(path))
    elif path.suffix == ".npz":
        np.savez(path, **arrays)
    else:
        raise ValueError(f"path must end in .safetensors or .npz, got {path.name!r}")
    return path


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a ``.safetensors`` or ``.npz`` file written by ``save`` (or by torch's safetensors)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return load_file(str(path))
    with np.load(path, allow_pickle=False) as store:
        return {k: store[k] for k in store.files}
