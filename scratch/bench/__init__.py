"""Benchmark support: timing helpers (``timing``) and the engine's benchmark cases (``engine``)."""
from .timing import best_time, machine_summary, optional_torch, sgemm_peak_gflops

__all__ = ["best_time", "machine_summary", "optional_torch", "sgemm_peak_gflops"]
