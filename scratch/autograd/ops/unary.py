"""Elementwise unary ops: z = f(x), backward grad · f'(x)."""
import math

import numpy as np
from scipy import special

from ..function import Function

# Python floats, so that float32 inputs stay float32.
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
# elements per block of a fused elementwise op with many temporaries (256 KB of float32)
ELEMENTWISE_BLOCK = 2 ** 16


class Neg(Function):
    """z = −x."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """z = eˣ;  dz/dx = z."""

    @staticmethod
    def forward(ctx, x):
        z = np.exp(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * z


class Log(Function):
    """z = log x;  dz/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """z = √x;  dz/dx = 1 / (2z)."""

    @staticmethod
    def forward(ctx, x):
        z = np.sqrt(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad / (2 * z)


class Abs(Function):
    """z = |x|;  dz/dx = sign x (0 at 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Tanh(Function):
    """z = tanh x;  dz/dx = 1 − z²."""

    @staticmethod
    def forward(ctx, x):
        z = np.tanh(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * (1 - z * z)


class Sigmoid(Function):
    """z = σ(x) = 1 / (1 + e⁻ˣ) (``scipy.special.expit``, stable for any x);  dz/dx = z(1 − z)."""

    @staticmethod
    def forward(ctx, x):
        z = special.expit(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * z * (1 - z)


class Relu(Function):
    """z = max(x, 0);  dz/dx = 1 for x > 0, else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


class Silu(Function):
    """z = x σ(x);  dz/dx = σ(x) (1 + x (1 − σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        s = special.expit(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * s * (1 + x * (1 - s))


class Gelu(Function):
    """GELU, exact ``z = x Φ(x)`` or the tanh approximation (``approximate="tanh"``).

    exact:  dz/dx = Φ(x) + x φ(x)   (found in the forward and kept, so the backward is one product)
    tanh:   z = x/2 (1 + tanh u),  u = √(2/π)(x + 0.044715 x³),
            dz/dx = (1 + tanh u)/2 + x/2 (1 − tanh² u) √(2/π)(1 + 3·0.044715 x²)
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.approximate_tanh = approximate == "tanh"
        if approximate == "none":
            x = np.ascontiguousarray(x)
            y = np.empty_like(x)
            derivative = np.empty_like(x) if ctx.needs_input_grad[0] else None
            flat = x.reshape(-1)
            # in blocks, so the dozen temporaries of Φ stay in cache instead of being mapped afresh
            for start in range(0, flat.size, ELEMENTWISE_BLOCK):
                part = slice(start, start + ELEMENTWISE_BLOCK)
                cdf, pdf = normal_cdf_pdf(flat[part])
                if derivative is not None:
                    pdf *= flat[part]
                    np.add(pdf, cdf, out=derivative.reshape(-1)[part])
                np.multiply(cdf, flat[part], out=y.reshape(-1)[part])
            ctx.save_for_backward(None, derivative)
            return y
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")

    @staticmethod
    def backward(ctx, grad):
        x, saved = ctx.saved_tensors
        if ctx.approximate_tanh:
            t = saved
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        return grad * saved


# erfc(z) = t exp(−z² + P(t)), t = 1/(1 + z/2), z ≥ 0: the Chebyshev fit of Numerical Recipes §6.2
# (fractional error < 1.2·10⁻⁷ for every z), P's coefficients from t⁰ up
_ERFC_FIT = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
             -0.82215223, 0.17087277)


def normal_cdf_pdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Φ(x) and φ(x) = e^{−x²/2}/√(2π), new arrays of x's dtype.

    float32 takes Φ = erfc(−x/√2)/2 from ``_ERFC_FIT`` (within a few float32 ulps, relative in both
    tails; SciPy's ``ndtr`` is ~10× slower there); other dtypes take ``ndtr`` (float64: to rounding)."""
    if x.dtype != np.float32:
        return special.ndtr(x), _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    z = np.abs(x)
    z *= _SQRT_HALF
    t = 0.5 * z
    t += 1
    np.reciprocal(t, out=t)
    poly = t * _ERFC_FIT[-1]
    for coefficient in _ERFC_FIT[-2:0:-1]:
        poly += coefficient
        poly *= t
    poly += _ERFC_FIT[0]
    np.exp(poly, out=poly)
    np.square(z, out=z)
    np.negative(z, out=z)
    pdf = np.exp(z)
    half_erfc = poly
    half_erfc *= t
    half_erfc *= pdf
    half_erfc *= 0.5
    pdf *= _INV_SQRT_2PI
    # Φ = h for x < 0 and 1 − h otherwise, blended without a branch (np.where mispredicts on random signs)
    cdf = half_erfc * -2
    cdf += 1
    cdf *= x >= 0
    cdf += half_erfc
    return cdf, pdf


class Clip(Function):
    """z = min(max(x, low), high);  dz/dx = 1 inside [low, high], 0 outside."""

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        inside = np.ones(x.shape, dtype=bool)
        if ctx.low is not None:
            inside &= x >= ctx.low
        if ctx.high is not None:
            inside &= x <= ctx.high
        return grad * inside


class Cast(Function):
    """z = x converted to ``dtype``; the gradient is converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)
