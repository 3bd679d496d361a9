"""Benchmark support: timing helpers (``timing``), the engine's benchmark cases (``engine``) and the
capsule routing and models written in torch (``torch_capsule``)."""
from .timing import best_time, machine_summary, optional_torch, sgemm_peak_gflops

__all__ = ["best_time", "machine_summary", "optional_torch", "sgemm_peak_gflops"]
