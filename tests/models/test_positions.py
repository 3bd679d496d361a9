"""Position encodings: RoPE relativity and gradcheck, KERPLE gradcheck, ReRoPE two-matrix == single-pass form."""
import numpy as np
import pytest

from scratch import Tensor, gradcheck
from scratch.models import positions as pos


def test_rope_scores_depend_on_relative_position_only():
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 8))
    shifted = [(pos.rope(q[None], np.array([i])).data @ pos.rope(k[None], np.array([j])).data.T).item()
               for i, j in ((5, 2), (105, 102))]
    assert shifted[0] == pytest.approx(shifted[1], rel=1e-10)


def test_rope_and_kerple_gradcheck():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda x: pos.rope(x, np.arange(5)), [x])
    for form in ("power", "log"):
        a, b = (Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
        assert gradcheck(lambda a, b: pos.kerple_bias(a, b, 7, form), [a, b])


@pytest.mark.parametrize("leaky_k", [None, 4.0])
def test_rerope_two_matrix_form_equals_single_pass(leaky_k):
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 1, 1, 20, 8))
    scores = pos.rerope_scores(q, k, 6, leaky_k).data[0, 0]
    for i in (3, 12, 19):
        single = pos.rerope_query_scores(q[0, 0, i], k[0, 0, :i + 1], i, 6, leaky_k)
        np.testing.assert_allclose(single, scores[i, :i + 1], rtol=1e-10, atol=1e-12)


def test_rerope_with_a_window_beyond_the_length_is_rope():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 1, 1, 10, 8))
    rope = pos.rope(q, np.arange(10)).data @ pos.rope(k, np.arange(10)).data.swapaxes(-1, -2) / np.sqrt(8)
    np.testing.assert_allclose(np.tril(pos.rerope_scores(q, k, 10).data[0, 0]), np.tril(rope[0, 0]), atol=1e-12)


def test_alibi_slopes_and_clipped_log_n():
    np.testing.assert_allclose(pos.alibi_slopes(4), [1 / 4, 1 / 16, 1 / 64, 1 / 256])
    c = pos.clipped_log_n(256, 16)
    assert c[:16].tolist() == [1.0] * 16 and c[255] == pytest.approx(2.0)
