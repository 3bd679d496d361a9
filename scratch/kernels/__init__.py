"""Numba hot loops, one module per family, each with its NumPy reference twin.

Modules are imported explicitly (``from scratch.kernels.routing import route``); nothing here is
compiled at import time. Every kernel with a NumPy twin picks it by the same names.
"""

NUMBA = "numba"
NUMPY = "numpy"
IMPLEMENTATIONS = (NUMBA, NUMPY)
