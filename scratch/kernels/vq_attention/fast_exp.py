"""e^x on float32 arrays in straight-line arithmetic that the compiler vectorizes.

Without Intel's SVML, ``math.exp`` in a Numba loop is one scalar libm call per element, and the
softmax weights of the VQ kernel are two exponentials per slot (forward and backward). This is the
classic range reduction (Cody–Waite, the Cephes ``expf``):

    x = k ln 2 + r,   k = ⌊x log₂e + ½⌋,   |r| ≤ ln 2 / 2,
    e^r ≈ 1 + r + r² P(r)  (P of degree 5, Cephes' minimax coefficients, relative error ≈ 1e-7),
    e^x = e^r · 2^k,

with ln 2 split in two (``LN2_HI`` has 9 significant bits, so k · LN2_HI is exact for |k| ≤ 150). The
power 2^k is built from its bit pattern, (k + 127) · 2²³ read as a float32, written to an int32
scratch array and read back through a float32 view of it. To keep that exponent in the normal
range for every k the kernel meets, 2^k = 2^κ · 2^(k−κ) with 2^(k−κ) ∈ {2⁻⁶⁴, 1, 2⁶⁴} folded into
e^r first (exactly: a power of two), so the one rounding happens at the last product, which
also gives the subnormal results and the overflow to +inf where ``np.exp`` gives them.

Edge cases: x is clamped to [−104, 89] first (e^−104 rounds to 0 and e^89 overflows in float32), so
−inf and −1e30 (a masked logit) give exactly 0, +inf and large x give +inf; NaN gives NaN.
"""
from __future__ import annotations

import numpy as np
from numba import njit

LOG2E = np.float32(1.44269504088896341)
LN2_HI = np.float32(0.693359375)
LN2_LO = np.float32(-2.12194440e-4)
P0, P1, P2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
P3, P4, P5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
LOWEST, HIGHEST = np.float32(-104.0), np.float32(89.0)
HALF, ONE = np.float32(0.5), np.float32(1.0)
SPLIT = np.float32(64.0)  # |k − κ| is 0 or 64
TWO_TO_64, TWO_TO_MINUS_64 = np.float32(2.0 ** 64), np.float32(2.0 ** -64)
BIAS, MANTISSA_BITS = np.int32(127), np.int32(23)


@njit(cache=True)
def exp_float32(x: np.ndarray, shift, out: np.ndarray, scratch: np.ndarray) -> None:
    """out[j] = e^(x[j] − shift) for float32 x, out (n,); out may be x. ``scratch``: a float32 work array
    (2, ≥ n) holding e^r and 2^κ, so that no loop reads an array it writes (that would keep it scalar)."""
    n = x.size
    e_r, power = scratch[0, :n], scratch[1, :n]
    power_bits = power.view(np.int32)
    for j in range(n):
        y = x[j] - shift
        clamped = y if y > LOWEST else LOWEST  # NaN is clamped too, and restored below
        clamped = clamped if clamped < HIGHEST else HIGHEST
        k = np.floor(clamped * LOG2E + HALF)
        r = (clamped - k * LN2_HI) - k * LN2_LO
        e = (((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5) * (r * r) + r + ONE
        kappa = k + SPLIT if k < -SPLIT else (k - SPLIT if k >= SPLIT else k)
        e = e * TWO_TO_MINUS_64 if k < -SPLIT else (e * TWO_TO_64 if k >= SPLIT else e)
        e_r[j] = e if y == y else y
        power_bits[j] = (np.int32(kappa) + BIAS) << MANTISSA_BITS
    for j in range(n):
        out[j] = e_r[j] * power[j]
