"""Check a framework implementation against a golden case: outputs and vector-Jacobian products.

This module needs NumPy only (torch or jax are imported when asked for) and does not import the rest of
the package, so ``export`` copies it verbatim next to an exported case set as ``check_cases.py``: whoever
holds the export can check a function with ``python check_cases.py --fn module:function``.

A case holds three groups of named float64/integer arrays and the reference results:

    inputs, parameters   float64, differentiated: every one gets a reference gradient
    constants            ids, codes, targets, masks, fixed tables: passed along, never differentiated
    options              Python scalars and strings (window, mode, iterations, law, ...)
    outputs              the reference outputs (float64, or integer ones such as codes, compared exactly)
    cotangents           one fixed random array per float output, u_o
    grads                ∂/∂x Σ_o <u_o, output_o> for every input and parameter x

Call convention: ``fn(**inputs, **parameters, **constants, **options)``: every array is a tensor of the
framework (float64 with gradients for inputs and parameters, int64 or bool for integer and boolean
constants), options are plain Python values. ``fn`` returns one tensor (cases with one output), a tuple in
the order of ``case.outputs``, or a dict keyed by output name.

An entry passes when |actual − expected| ≤ atol + rtol·|expected| (``numpy.isclose``), with the case's atol
and rtol. With ``framework="numpy"`` there is no autograd: each gradient is checked as a directional
derivative along one fixed random direction, by central differences of ``fn`` (step 1e-6), at the looser
``FINITE_DIFFERENCE`` tolerances; gradients a case marks ``straight_through`` (surrogates, not derivatives
of the outputs) are left out there.
"""
from __future__ import annotations

import argparse
import fnmatch
import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

FRAMEWORKS = ("torch", "jax", "numpy")
FINITE_DIFFERENCE = {"step": 1e-6, "atol": 1e-6, "rtol": 1e-5}
MANIFEST = "manifest.json"
ARRAYS = "cases.npz"
GROUPS = ("inputs", "parameters", "constants", "outputs", "cotangents", "grads")


@dataclass
class Case:
    """One golden case; see the module docstring for the groups. ``layouts`` describes each array's axes
    (and, for parameters, the torch module whose layout it follows); ``straight_through`` names the inputs
    and parameters whose reference gradient is a straight-through surrogate, not the derivative of the
    outputs; ``reference`` is the function that produced the case (absent in an exported case)."""

    name: str
    description: str
    inputs: dict[str, np.ndarray]
    parameters: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    options: dict[str, Any]
    outputs: dict[str, np.ndarray]
    cotangents: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    layouts: dict[str, str]
    atol: float
    rtol: float
    straight_through: tuple[str, ...] = ()
    reference: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def family(self) -> str:
        return self.name.split("/")[0]

    @property
    def differentiable(self) -> dict[str, np.ndarray]:
        """The inputs and parameters, in that order: the arrays that get gradients."""
        return {**self.inputs, **self.parameters}


@dataclass
class TensorResult:
    """The comparison of one output or gradient: ``kind`` "output", "gradient" or "directional derivative"."""

    kind: str
    name: str
    passed: bool
    max_abs: float
    max_rel: float
    worst_index: tuple[int, ...] | None
    actual: float | None
    expected: float | None
    message: str

    def row(self) -> str:
        index = "" if self.worst_index is None else str(list(self.worst_index))
        status = "skip" if self.message.startswith("not checked") else "ok  " if self.passed else "FAIL"
        return (f"  {status}  {self.kind:<22} {self.name:<18} max abs {self.max_abs:9.2e}"
                f"  max rel {self.max_rel:9.2e}  worst {index}")


@dataclass
class Report:
    """The results of ``check`` for one case: ``passed``, ``failures``, ``str(report)`` a table."""

    case: str
    framework: str
    atol: float
    rtol: float
    results: list[TensorResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[TensorResult]:
        return [r for r in self.results if not r.passed]

    def __str__(self) -> str:
        head = (f"{self.case} [{self.framework}] {'PASS' if self.passed else 'FAIL'}"
                f" (atol {self.atol:g}, rtol {self.rtol:g})")
        lines = [head, *(r.row() for r in self.results)]
        lines += [f"  -> {r.message}" for r in self.failures]
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """AssertionError with every failure message unless the case passed."""
        if not self.passed:
            raise AssertionError("\n".join(r.message for r in self.failures))


def compare(kind: str, name: str, actual: Any, expected: np.ndarray, atol: float, rtol: float,
            case: str) -> TensorResult:
    """Compare ``actual`` with ``expected`` entrywise; integer arrays must match exactly."""
    what = f"{case}: {kind} of {name!r}"
    if actual is None:
        return TensorResult(kind, name, False, np.inf, np.inf, None, None, None, f"{what} is missing")
    actual = np.asarray(actual)
    if actual.shape != expected.shape:
        return TensorResult(kind, name, False, np.inf, np.inf, None, None, None,
                            f"{what} has shape {actual.shape}, expected {expected.shape}")
    if expected.size == 0:
        return TensorResult(kind, name, True, 0.0, 0.0, None, None, None, f"{what} is empty")
    exact = not np.issubdtype(expected.dtype, np.floating)
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(a == e, 0.0, np.abs(a - e))  # equal infinities differ by 0, not NaN
        diff = np.where(np.isnan(diff), np.inf, diff)
        allowed = np.zeros_like(e) if exact else atol + rtol * np.abs(e)
        excess = diff - allowed
        rel = np.where(diff == 0, 0.0, diff / np.abs(e))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), e.shape))
    passed = bool(np.all(excess <= 0))
    rule = "exact match" if exact else f"atol {atol:g} + rtol {rtol:g}·|expected|"
    message = (f"{what} differs at index {list(worst)}: got {float(a[worst])!r}, expected {float(e[worst])!r} "
               f"(|diff| {diff[worst]:.3g} > {rule}; {int(np.sum(excess > 0))} of {e.size} entries out of tolerance)")
    return TensorResult(kind, name, passed, float(diff.max()), float(rel.max()), worst, float(a[worst]),
                        float(e[worst]), "ok" if passed else message)


def _named_outputs(case: Case, result: Any) -> dict[str, Any]:
    """The user's return value (one tensor, a tuple in case order, or a dict) as a dict by output name."""
    names = list(case.outputs)
    if isinstance(result, dict):
        unknown = sorted(set(result) - set(names))
        if unknown:
            raise ValueError(f"{case.name}: the function returned outputs {unknown}; the case has {names}")
        return dict(result)
    if isinstance(result, (tuple, list)):
        if len(result) != len(names):
            raise ValueError(f"{case.name}: the function returned {len(result)} values; the case has outputs {names}")
        return dict(zip(names, result))
    if len(names) != 1:
        raise ValueError(f"{case.name}: the function returned one value; the case has outputs {names} "
                         f"(return a tuple in that order or a dict)")
    return {names[0]: result}


def _float_outputs(case: Case) -> list[str]:
    return [name for name in case.outputs if name in case.cotangents]


def _report(case: Case, framework: str, outputs: dict[str, Any], grads: dict[str, Any] | None) -> Report:
    results = [compare("output", name, outputs.get(name), expected, case.atol, case.rtol, case.name)
               for name, expected in case.outputs.items()]
    if grads is not None:
        results += [compare("gradient", name, grads.get(name), expected, case.atol, case.rtol, case.name)
                    for name, expected in case.grads.items()]
    return Report(case.name, framework, case.atol, case.rtol, results)


# --- framework adapters -----------------------------------------------------------------------------

def _check_torch(case: Case, fn: Callable[..., Any]) -> Report:
    import torch

    diff = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in case.differentiable.items()}
    const = {k: torch.from_numpy(np.array(v)) for k, v in case.constants.items()}
    raw = _named_outputs(case, fn(**diff, **const, **case.options))
    outputs = {k: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v for k, v in raw.items()}
    pairs = [(raw[k], case.cotangents[k]) for k in _float_outputs(case)
             if isinstance(raw.get(k), torch.Tensor) and raw[k].requires_grad and raw[k].shape == case.cotangents[k].shape]
    grads = {k: np.zeros_like(v) for k, v in case.differentiable.items()}
    if pairs:
        found = torch.autograd.grad([o for o, _ in pairs], list(diff.values()),
                                    [torch.from_numpy(u).to(o.dtype) for o, u in pairs], allow_unused=True)
        grads.update({k: g.detach().cpu().numpy() for k, g in zip(diff, found) if g is not None})
    return _report(case, "torch", outputs, grads)


def _check_jax(case: Case, fn: Callable[..., Any]) -> Report:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    names = list(case.differentiable)
    const = {k: jnp.asarray(v) for k, v in case.constants.items()}
    float_names = _float_outputs(case)

    def float_and_rest(*arrays):
        named = _named_outputs(case, fn(**dict(zip(names, arrays)), **const, **case.options))
        return tuple(named.get(k) for k in float_names), {k: v for k, v in named.items() if k not in float_names}

    primals = [jnp.asarray(v, dtype=jnp.float64) for v in case.differentiable.values()]
    floats, vjp, rest = jax.vjp(float_and_rest, *primals, has_aux=True)
    outputs = {**{k: np.asarray(v) for k, v in zip(float_names, floats) if v is not None},
               **{k: np.asarray(v) for k, v in rest.items()}}
    cotangents = tuple(jnp.asarray(case.cotangents[k], dtype=jnp.asarray(v).dtype) for k, v in zip(float_names, floats))
    grads = dict(zip(names, (np.asarray(g) for g in vjp(cotangents))))
    return _report(case, "jax", outputs, grads)


def _check_numpy(case: Case, fn: Callable[..., Any]) -> Report:
    def evaluate(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        named = _named_outputs(case, fn(**arrays, **case.constants, **case.options))
        return {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in named.items()}

    report = _report(case, "numpy", evaluate(dict(case.differentiable)), None)
    rng = np.random.default_rng(0)
    step = FINITE_DIFFERENCE["step"]
    for name, x in case.differentiable.items():
        if name in case.straight_through:
            report.results.append(TensorResult("directional derivative", name, True, 0.0, 0.0, None, None, None,
                                               "not checked: a straight-through gradient is no derivative"))
            continue
        direction = rng.standard_normal(x.shape)
        direction /= max(np.linalg.norm(direction), 1e-300)
        sides = []
        for sign in (1.0, -1.0):
            out = evaluate({**case.differentiable, name: x + sign * step * direction})
            sides.append(sum(float(np.sum(case.cotangents[k] * out[k])) for k in _float_outputs(case)))
        numeric = (sides[0] - sides[1]) / (2 * step)
        expected = np.array(np.sum(case.grads[name] * direction))
        report.results.append(compare("directional derivative", name, np.array(numeric), expected,
                                      FINITE_DIFFERENCE["atol"], FINITE_DIFFERENCE["rtol"], case.name))
    return report


ADAPTERS = {"torch": _check_torch, "jax": _check_jax, "numpy": _check_numpy}


def check(case: Case, fn: Callable[..., Any], framework: str = "torch") -> Report:
    """Run ``fn`` on the case with ``framework`` ("torch", "jax" or "numpy") and compare its outputs and
    the vector-Jacobian products of the case's cotangents with the reference; returns a ``Report``."""
    if framework not in ADAPTERS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return ADAPTERS[framework](case, fn)


# --- exported case sets -----------------------------------------------------------------------------

def load_cases(directory: str | Path) -> list[Case]:
    """The cases of an export directory (``manifest.json`` and ``cases.npz``)."""
    directory = Path(directory)
    manifest = json.loads((directory / MANIFEST).read_text())
    with np.load(directory / ARRAYS, allow_pickle=False) as store:
        arrays = {key: store[key] for key in store.files}
    cases = []
    for entry in manifest["cases"]:
        groups = {g: {item["name"]: arrays[f"{entry['name']}/{g}/{item['name']}"] for item in entry[g]} for g in GROUPS}
        layouts = {item["name"]: item["layout"] for g in GROUPS for item in entry[g] if "layout" in item}
        cases.append(Case(entry["name"], entry["description"], options=entry["options"], layouts=layouts,
                          atol=entry["atol"], rtol=entry["rtol"], straight_through=tuple(entry["straight_through"]),
                          **groups))
    return cases


def load_function(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` (or ``"path/to/file.py:function"``) → the function; the current
    directory is importable."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"--fn must look like package.module:function, got {spec!r}")
    if module_name.endswith(".py"):
        path = Path(module_name).resolve()
        sys.path.insert(0, str(path.parent))
        module_name = path.stem
    elif "" not in sys.path:
        sys.path.insert(0, "")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def run(cases: list[Case], fn: Callable[..., Any], framework: str, pattern: str = "*") -> int:
    """Check ``fn`` on the cases whose name matches the glob ``pattern``, print each report; returns the
    number of failed cases (or 1 when no case matched)."""
    chosen = [c for c in cases if fnmatch.fnmatchcase(c.name, pattern)]
    if not chosen:
        print(f"no case matches {pattern!r}; cases: {', '.join(c.name for c in cases)}", file=sys.stderr)
        return 1
    failed = 0
    for case in chosen:
        report = check(case, fn, framework)
        print(report)
        failed += not report.passed
    print(f"{len(chosen) - failed} of {len(chosen)} cases passed")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a function against the exported golden cases.")
    parser.add_argument("--fn", required=True, help="package.module:function (or file.py:function) to check")
    parser.add_argument("--framework", choices=FRAMEWORKS, default="torch")
    parser.add_argument("--case", default="*", help="glob of case names, e.g. 'capsule/route_*' (default: all)")
    parser.add_argument("--dir", default=str(Path(__file__).resolve().parent), help="the export directory")
    args = parser.parse_args(argv)
    return min(run(load_cases(args.dir), load_function(args.fn), args.framework, args.case), 1)


if __name__ == "__main__":
    sys.exit(main())
