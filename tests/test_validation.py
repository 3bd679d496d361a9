"""scratch.validation: every check accepts what it should, in a plain Python type, and names the argument
in its error for what it should not — ``True`` for an integer above all."""
import numpy as np
import pytest

from scratch import validation as check


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1)])
def test_positive_int_accepts_integers_and_returns_int(value):
    result = check.positive_int("n", value)
    assert result == value and type(result) is int


@pytest.mark.parametrize("value", [0, -1, True, False, np.bool_(True), 2.0, "3", None, np.float32(2)])
def test_positive_int_refuses_others_naming_the_argument(value):
    with pytest.raises(ValueError, match="window must be a positive integer"):
        check.positive_int("window", value)


def test_optional_positive_int():
    assert check.optional_positive_int("n", None) is None
    assert check.optional_positive_int("n", 2) == 2
    with pytest.raises(ValueError, match="n must"):
        check.optional_positive_int("n", True)


@pytest.mark.parametrize("value, minimum, maximum, ok", [
    (0, 0, None, True), (-1, 0, None, False), (5, None, 5, True), (6, None, 5, False), (3, 1, 4, True),
    (True, 0, 1, False), (-3, None, None, True),
])
def test_integer_bounds(value, minimum, maximum, ok):
    if ok:
        assert check.integer("k", value, minimum, maximum) == value
    else:
        with pytest.raises(ValueError, match="k must be an integer"):
            check.integer("k", value, minimum, maximum)


@pytest.mark.parametrize("value", [1, 0.5, np.float32(1), np.float64(2.5), np.int64(4)])
def test_positive_real_accepts_numbers_of_any_width(value):
    result = check.positive_real("scale", value)
    assert result == float(value) and type(result) is float


@pytest.mark.parametrize("value", [0, -1.0, np.inf, np.nan, True, "a", None, [1.0]])
def test_positive_real_refuses_naming_the_argument(value):
    with pytest.raises(ValueError, match="scale must"):
        check.positive_real("scale", value)


def test_real_open_and_closed_bounds():
    assert check.real("x", 0.0, minimum=0.0) == 0.0
    with pytest.raises(ValueError, match=r"x must be in \(0"):
        check.real("x", 0.0, minimum=0.0, open_below=True)
    assert check.real("x", 1.0, maximum=1.0) == 1.0
    with pytest.raises(ValueError, match=r"x must be in .*1\)"):
        check.real("x", 1.0, maximum=1.0, open_above=True)


def test_probability():
    assert check.probability("p", 0) == 0.0 and check.probability("p", 1) == 1.0
    for value, kwargs in [(1.0, {"allow_one": False}), (0.0, {"allow_zero": False}), (1.5, {}), (-0.1, {})]:
        with pytest.raises(ValueError, match="p must be in"):
            check.probability("p", value, **kwargs)


def test_boolean_refuses_truthy_strings_and_numbers():
    assert check.boolean("sg", True) is True and check.boolean("sg", np.bool_(False)) is False
    for value in ("no", 1, 0, None):
        with pytest.raises(ValueError, match="sg must be True or False"):
            check.boolean("sg", value)


def test_choice():
    assert check.choice("mode", "su2", ("sabour", "su1", "su2")) == "su2"
    with pytest.raises(ValueError, match="mode must be one of 'sabour', 'su1'; got 'x'"):
        check.choice("mode", "x", ("sabour", "su1"))
    with pytest.raises(ValueError, match="flag must be one of"):
        check.choice("flag", True, (1, 2))


def test_int_pair():
    assert check.int_pair("stride", 2, 1) == (2, 2)
    assert check.int_pair("stride", (1, 3), 1) == (1, 3)
    for bad in ((1, True), (0, 1), (1, 2, 3), 1.5):
        with pytest.raises(ValueError, match="stride must be an integer >= 1"):
            check.int_pair("stride", bad, 1)


def test_shape():
    check.shape("q", np.zeros((2, 3)), (2, None))
    with pytest.raises(ValueError, match=r"q must have shape \(2, ·\), got \(3, 3\)"):
        check.shape("q", np.zeros((3, 3)), (2, None))
    with pytest.raises(ValueError, match="q must have shape"):
        check.shape("q", np.zeros(2), (2, None))


def test_floating_dtype_and_generator():
    assert check.floating_dtype("dtype", np.float32) == np.float32
    with pytest.raises(TypeError, match="dtype must be a floating-point dtype"):
        check.floating_dtype("dtype", np.int32)
    rng = np.random.default_rng(1)
    assert check.generator("rng", rng) is rng
    assert isinstance(check.generator("rng", None), np.random.Generator)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        check.generator("rng", 3)
