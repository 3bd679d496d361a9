"""Benchmark support: timing helpers (``timing``) and the engine's benchmark cases (``engine``); the torch
peers of the models live in ``scratch.crosscheck.torch_reference``."""
from .timing import best_time, machine_summary, optional_torch, sgemm_peak_gflops

__all__ = ["best_time", "machine_summary", "optional_torch", "sgemm_peak_gflops"]
