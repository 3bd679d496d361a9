"""Write golden cases for implementers outside Python or without this project: ``cases.npz`` (and
``cases.safetensors`` when the ``safetensors`` package is installed), ``manifest.json`` and
``check_cases.py``, a copy of ``scratch.crosscheck.checker`` that needs only NumPy (and the framework
checked). The arrays are keyed ``"<case>/<group>/<name>"``, e.g. ``"capsule/route_su2/grads/u_hat"``.

manifest.json:  {"format": 1, "convention": ..., "tolerance": ..., "cases": [{"name", "description",
"options", "atol", "rtol", "straight_through", and per group ("inputs", "parameters", "constants",
"outputs", "cotangents", "grads") a list of {"name", "shape", "dtype", "layout"}}]}.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from . import checker
from .checker import ARRAYS, GROUPS, MANIFEST, Case

FORMAT = 1
STANDALONE = "check_cases.py"
SAFETENSORS = "cases.safetensors"
CONVENTION = (
    "fn(**inputs, **parameters, **constants, **options): inputs and parameters are float64 tensors to "
    "differentiate, constants are integer, boolean or float64 tensors not differentiated, options plain "
    "values; names holding dots (state-dict names) arrive through **kwargs. fn returns one tensor (one "
    "output), a tuple in the order of 'outputs', or a dict by output name. Reference gradients are those "
    "of sum_o <cotangents[o], outputs[o]> with respect to every input and parameter; integer outputs "
    "are compared exactly.")
TOLERANCE = ("an entry passes when |actual - expected| <= atol + rtol * |expected| with the case's atol "
             "and rtol (numpy.isclose)")


def _describe(case: Case, group: str) -> list[dict]:
    return [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype),
             **({"layout": case.layouts[k]} if k in case.layouts else {})} for k, v in getattr(case, group).items()]


def manifest(cases: list[Case]) -> dict:
    """The JSON-ready description of ``cases``: names, shapes, dtypes, layouts, options, tolerances."""
    return {"format": FORMAT, "convention": CONVENTION, "tolerance": TOLERANCE,
            "cases": [{"name": c.name, "description": c.description, "options": c.options, "atol": c.atol,
                       "rtol": c.rtol, "straight_through": list(c.straight_through),
                       **{g: _describe(c, g) for g in GROUPS}} for c in cases]}


def export(cases: list[Case], out: str | os.PathLike) -> list[Path]:
    """Write ``cases`` into the directory ``out`` (created if needed); returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {f"{c.name}/{g}/{k}": np.ascontiguousarray(v) for c in cases for g in GROUPS
              for k, v in getattr(c, g).items()}
    written = [out / ARRAYS, out / MANIFEST, out / STANDALONE]
    np.savez(out / ARRAYS, **arrays)
    (out / MANIFEST).write_text(json.dumps(manifest(cases), indent=1, ensure_ascii=False) + "\n")
    shutil.copyfile(checker.__file__, out / STANDALONE)
    try:
        from safetensors.numpy import save_file
    except ImportError:
        return written
    save_file(arrays, str(out / SAFETENSORS))
    return written + [out / SAFETENSORS]
