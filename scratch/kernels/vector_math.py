"""Scalar float32 functions that Numba loops can vectorize: the exponential and the maximum of a row.

**exp32.** Without Intel's SVML, Numba compiles ``math.exp`` to one libm call per element, which no loop
vectorizer can widen; in the softmax of the attention kernels that call costs more than the matrix
products. ``exp32`` computes e^x from arithmetic alone, so a loop over it becomes SIMD code:

    x = n ln 2 + r,   n = ⌊x log₂e + ½⌋,  |r| ≤ ln 2 / 2   (ln 2 split in two parts, so r is exact)
    e^r ≈ 1 + r + r² P(r)                                   (P of degree 5: Cephes' expf polynomial)
    e^x = e^r · 2ⁿ,  2ⁿ built from its IEEE bits (n + 127) << 23

It is within 1 ulp of e^x for x in [−87.33, 88] and within 6 ulp up to 88.72, where it overflows
(``tests/kernels/test_exp32.py`` checks 10⁷ points of each range against float64 ``np.exp``). Special
values are exact: e^x = 0 for x = −∞ and for x < −87.33 (the normal range ends there; the denormals
below it are flushed to zero), +∞ for x > 88.72, and NaN stays NaN. ``exp_like`` picks it for float32
and ``math.exp`` for float64, whose kernels must stay exact.

**Maximum.** A running maximum of floats (``m = x if x > m else m``) is a chain the compiler may not
reorder without assuming there is no NaN, so it stays scalar. Integers carry no such rule. The bits of
a float32, read as an int32 b, order like the floats once the negative ones are flipped:
key(b) = b ^ ((b >> 31) & 0x7fffffff) is increasing in the float value from −∞ to +∞ (−0 < +0), and a
NaN with the sign bit clear sorts above +∞, so a row with one gets a NaN maximum. ``order_key`` maps a
float32 to its key and a float64 to itself, ``from_order_key`` maps back, ``lowest_order_key`` starts
the maximum: a row's maximum is ``from_order_key(max(order_key(x)))``, and that loop vectorizes in
float32. ``row_max`` is that loop; ``row_sum`` and ``row_dot`` sum in any order (``reassoc``, which
keeps NaN and ∞ propagating), so they vectorize too, and so does ``all_finite``, the finiteness check
of the attention and routing kernels: Σ 0·x is exactly 0 when every x is finite and NaN otherwise.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

_F = np.float32
LOG2E = _F(1.44269504088896341)
LN2_HI = _F(0.693359375)          # ln 2 = LN2_HI + LN2_LO; n · LN2_HI is exact for |n| ≤ 2^11
LN2_LO = _F(-2.12194440e-4)
POLY = tuple(_F(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                              4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
SMALLEST = _F(-87.33654)          # below: e^x is not a normal float32, the result is 0
LARGEST = _F(88.72283)            # above: e^x overflows, the result is +∞
CLAMP = _F(88.0)                  # keeps n in [−127, 127] (and defined for NaN) before the bit trick
HALF, ONE, ZERO, INF = _F(0.5), _F(1.0), _F(0.0), _F(np.inf)


@intrinsic
def _power_of_two(typingctx, n):
    """2ⁿ as float32 for an integer n in [−126, 127] (n = −127 gives 0), from its IEEE-754 bits
    (n + 127) << 23: an integer add, a shift and a bitcast, all of which vectorize."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        int32 = ir.IntType(32)
        biased = builder.add(builder.trunc(args[0], int32) if n.bitwidth > 32 else args[0], int32(127))
        return builder.bitcast(builder.shl(biased, int32(23)), ir.FloatType())

    return types.float32(n), codegen


@intrinsic
def _bits(typingctx, x):
    """The IEEE-754 bits of a float32 as an int32 (a bitcast)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(x), codegen


@intrinsic
def _from_bits(typingctx, bits):
    """The float32 whose IEEE-754 bits are the int32 ``bits`` (a bitcast)."""
    if bits != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(bits), codegen


@njit(cache=True)
def exp32(x):
    """e^x for a float32 x, as float32, in branch-free arithmetic (see the module docstring)."""
    xc = x if x > -CLAMP else -CLAMP              # NaN and −∞ take −88 here: n stays a defined integer
    xc = xc if xc < CLAMP else CLAMP
    n = np.floor(xc * LOG2E + HALF)
    r = (x - n * LN2_HI) - n * LN2_LO             # from x itself, so a NaN goes on into the result
    p = POLY[0]
    for c in POLY[1:]:
        p = p * r + c
    e = (p * (r * r) + r + ONE) * _power_of_two(np.int32(n))
    e = ZERO if x < SMALLEST else e
    return INF if x > LARGEST else e


def exp_like(x):
    """e^x in the precision of x: ``exp32`` for a float32 in Numba code, ``math.exp`` otherwise."""
    return math.exp(x)


@overload(exp_like)
def _exp_like_numba(x):
    if x == types.float32:
        return lambda x: exp32(x)
    return lambda x: math.exp(x)


_FLIP = np.int32(0x7FFFFFFF)


def order_key(x):
    """An integer that orders like the float32 x (x itself for other floats); see the module docstring."""
    return x


@overload(order_key)
def _order_key_numba(x):
    if x == types.float32:
        def key(x):
            b = _bits(x)
            return b ^ ((b >> np.int32(31)) & _FLIP)
        return key
    return lambda x: x


def from_order_key(key, like):
    """The float of type ``like`` whose ``order_key`` is ``key``."""
    return key


@overload(from_order_key)
def _from_order_key_numba(key, like):
    if like == types.float32:
        return lambda key, like: _from_bits(np.int32(key ^ ((key >> np.int32(31)) & _FLIP)))
    return lambda key, like: key


def lowest_order_key(like):
    """A key below that of every value of the type of ``like``, −∞ included: the start of a maximum."""
    return -math.inf


@overload(lowest_order_key)
def _lowest_order_key_numba(like):
    if like == types.float32:
        return lambda like: np.int32(-2147483648)
    return lambda like: -np.inf


@njit(cache=True)
def row_max(x):
    """max of a 1-D float array (−∞ when empty), through ``order_key``. A NaN with the sign bit set is
    passed over; the softmax of such a row turns NaN all the same, through e^(NaN − max)."""
    best = lowest_order_key(x.dtype.type(0.0))
    for j in range(x.size):
        key = order_key(x[j])
        best = key if key > best else best
    return from_order_key(best, x.dtype.type(0.0))


@njit(cache=True, fastmath={"reassoc"})
def row_sum(x):
    """Σ_j x_j of a 1-D array, in its dtype, in any order."""
    total = x.dtype.type(0.0)
    for j in range(x.size):
        total += x[j]
    return total


@njit(cache=True, fastmath={"reassoc"})
def row_dot(x, y):
    """Σ_j x_j y_j of two 1-D arrays, in their dtype, in any order."""
    total = x.dtype.type(0.0)
    for j in range(x.size):
        total += x[j] * y[j]
    return total


@njit(cache=True, fastmath={"reassoc"})
def all_finite(x):
    """Whether a C-contiguous array holds no NaN and no infinity: Σ 0·x is 0 exactly then, and NaN
    otherwise. One flat loop in the array's own dtype, so it vectorizes at memory speed."""
    flat = x.reshape(-1)
    zero = flat.dtype.type(0.0)
    total = zero
    for value in flat:
        total += zero * value
    return total == zero
