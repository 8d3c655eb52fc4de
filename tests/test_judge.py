"""The comparisons behind every verdict: errors, booleans, non-finite values."""

import numpy as np
import pytest

from autograde import fixtures
from autograde.judge import CallError, Case, Exercise, Failure, compare, compare_array, fmt, judge_case, same
from autograde.lessons import NOTEBOOKS, exercises
from autograde.serial import Opaque

INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("value", [1.0, 3, np.ones(3), (np.ones(2), 1), {"a": 1.0}, True])
def test_a_value_is_never_the_same_as_an_error_or_an_opaque_object(value):
    error = CallError("ValueError", "k must be positive")
    assert same(value, error) is False
    assert same(error, value) is False
    assert same(value, Opaque("VAE")) is False
    assert same((value, 1.0), (error, 1.0)) is False


def test_errors_are_the_same_when_their_type_and_message_are():
    assert same(CallError("ValueError", "bad k"), CallError("ValueError", "bad k"))
    assert not same(CallError("ValueError", "bad k"), CallError("ValueError", "bad n"))
    assert not same(CallError("ValueError", "bad k"), CallError("TypeError", "bad k"))


def test_a_mistake_whose_output_is_an_error_is_not_named_and_the_case_still_fails():
    def judge(case, got, expected):
        compare(got[0], expected[0])

    exercise = Exercise("f", points=1, visible=[], judge=judge)
    with pytest.raises(Failure) as info:
        judge_case(exercise, Case("a case", [{}]), [2.0], [1.0], {"raises": [CallError("ValueError", "no")]})
    assert info.value.mistake is None and "should be 1" in info.value.message


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False), np.array(True)])
def test_a_boolean_equals_the_same_boolean(value):
    assert compare(value, bool(value)) == bool(value)


def test_the_wrong_boolean_fails_and_says_which():
    with pytest.raises(Failure, match="should be True; got False"):
        compare(False, True, "converged")
    with pytest.raises(Failure, match="should be False; got True"):
        compare(np.bool_(True), False, "converged")


@pytest.mark.parametrize("got", [1, 0, 1.0, np.int64(1), np.float64(0.0), "True", None])
def test_a_number_or_anything_else_where_a_boolean_is_expected_fails(got):
    with pytest.raises(Failure, match="must be True or False"):
        compare(got, True, "converged")


def test_matching_infinities_and_nans_pass():
    expected = np.array([1.0, INF, NAN, -INF])
    compare_array(expected.copy(), expected, "x")
    compare_array(np.array([1.0 + 1e-9, INF, NAN, -INF]), expected, "x")  # within the tolerance
    compare_array(expected.astype(np.float32), expected, "x")
    compare(INF, INF)
    compare(-INF, -INF)
    compare(NAN, NAN)


@pytest.mark.parametrize(
    ("got", "wrong"),
    [
        ([1.0, -INF, NAN], 1),  # the other infinity
        ([1.0, 5.0, NAN], 1),  # a number where an infinity is expected
        ([1.0, INF, 5.0], 2),  # a number where NaN is expected
        ([100.0, INF, NAN], 0),  # far off next to an infinity: the infinity does not widen the tolerance
    ],
)
def test_a_different_entry_next_to_infinities_and_nans_fails(got, wrong):
    with pytest.raises(Failure, match=rf"1 of 3 entries of x are wrong; e\.g\. x\[{wrong}\]"):
        compare_array(np.array(got), np.array([1.0, INF, NAN]), "x")


def test_an_infinity_does_not_widen_the_tolerance_of_the_finite_entries():
    with pytest.raises(Failure, match=r"1 of 2 entries of x are wrong; e\.g\. x\[0\]: expected 1, got 100"):
        compare_array(np.array([100.0, INF]), np.array([1.0, INF]), "x")


def test_the_other_infinity_fails():
    with pytest.raises(Failure):
        compare(-INF, INF)
    with pytest.raises(Failure):
        compare(5.0, INF)


@pytest.mark.parametrize("expected", [[1.0, 2.0, 3.0], [1.0, INF, 3.0], [1.0, NAN, 3.0]])
def test_nan_where_a_finite_value_is_expected_fails(expected):
    with pytest.raises(Failure, match=r"x contains NaN at \[2\]"):
        compare_array(np.array([1.0, expected[1], NAN]), np.array(expected), "x")


# ---- feedback shows plain numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (np.int64(1), "1"),
        (np.int32(-2), "-2"),
        (np.float32(0.1), "0.1"),
        (np.float64(1 / 3), "0.333333"),
        (np.bool_(True), "True"),
        (True, "True"),
        (np.array([1, 2], dtype=np.int32), "[1, 2]"),
        (np.array([[0.5, 1 / 3]], dtype=np.float32), "[[0.5, 0.333333]]"),
        (np.array([True, False]), "[True, False]"),
        ((np.int64(3),), "(3,)"),
        ([np.float64(2.0), np.int64(4)], "[2, 4]"),
        (float("nan"), "nan"),
    ],
)
def test_fmt_writes_plain_numbers(value, text):
    assert fmt(value) == text


@pytest.mark.parametrize(
    ("expected", "got", "plain"),
    [
        (np.int64(1), np.int64(0), ("1", "0")),
        (np.int32(-2), np.int32(3), ("-2", "3")),
        (np.float32(0.25), np.float32(0.5), ("0.25", "0.5")),
        (np.float64(1 / 3), np.float64(2 / 3), ("0.333333", "0.666667")),
        (np.bool_(True), np.bool_(False), ("True", "False")),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, np.generic) else None,
)
def test_messages_about_numpy_scalars_show_plain_numbers(expected, got, plain):
    messages = []
    for wrap in (lambda v: v, lambda v: np.array([v]), lambda v: (v,)):
        with pytest.raises(Failure) as info:
            compare(wrap(got), wrap(expected))
        messages.append(info.value.message)
    assert all("np." not in m for m in messages), messages
    assert f"should be {plain[0]}; got {plain[1]}" in messages[0]
    if expected.dtype.kind != "b":  # a bool array holds 0 and 1
        assert f"expected {plain[0]}, got {plain[1]}" in messages[1]


def numpy_typed(value, dtype):
    """value with its numbers made NumPy scalars and arrays of dtype and moved off (a wrong answer)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return (value + 1).astype(dtype)
    if isinstance(value, (bool, np.bool_)):
        return np.bool_(not value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return np.dtype(dtype).type(value + 1)
    if isinstance(value, (tuple, list)):
        return type(value)(numpy_typed(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: numpy_typed(v, dtype) for k, v in value.items()}
    return value


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "bool"])
@pytest.mark.parametrize("key", list(NOTEBOOKS))
def test_lesson_feedback_on_numpy_typed_answers_has_no_numpy_reprs(key, dtype):
    judged = 0
    for exercise in exercises(key):
        for case, expected, _ in fixtures.load(key, exercise.name):
            if expected is None:
                continue
            try:
                judge_case(exercise, case, [numpy_typed(out, dtype) for out in expected], expected)
            except Failure as failure:
                judged += 1
                assert "np." not in failure.message, failure.message
    assert judged > 0
