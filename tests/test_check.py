"""check(fn), as the notebook's check cells call it: passes correct code written any way, names
each catalogued mistake, explains type and shape errors."""

import importlib
import types

import numpy as np
import pytest

import solutions.kmeans
from autograde import check
from autograde.lessons import lesson
from tests import alternatives

EXERCISES = [ex.name for ex in lesson("kmeans").EXERCISES]
MISTAKES = importlib.import_module("autograde.mistakes.kmeans")


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_passes(name, capsys):
    check(getattr(solutions.kmeans, name))
    assert f"✔ {name}: all" in capsys.readouterr().out


@pytest.mark.parametrize("name", EXERCISES)
def test_loops_lists_and_float32_pass(name, capsys):
    check(getattr(alternatives, name))
    assert f"✔ {name}: all" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "mistake"), [(ex.name, mid) for ex in lesson("kmeans").EXERCISES for mid in ex.mistakes]
)
def test_each_mistake_fails_with_its_name_and_hint(name, mistake):
    wrong = getattr(MISTAKES, f"{name}__{mistake}")
    fn = types.FunctionType(wrong.__code__, wrong.__globals__, name, wrong.__defaults__)  # renamed copy
    info = lesson("kmeans").MISTAKES[mistake]
    with pytest.raises(AssertionError) as err:
        check(fn)
    assert f"Mistake: {info.title}. Hint: {info.hint}" in str(err.value)


def test_stub_asks_for_an_implementation():
    def assign_clusters(X, centroids):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="not implemented yet"):
        check(assign_clusters)


def test_type_then_shape_are_explained():
    def update_centroids(X, labels, centroids):
        return None

    with pytest.raises(AssertionError, match=r"must be an array; got None \(did you forget to return\?\)"):
        check(update_centroids)

    def compute_distortion(X, centroids, labels):
        return np.sum((X - centroids[labels]) ** 2, axis=1)  # per point, not summed

    with pytest.raises(AssertionError, match="J must be a number; got ndarray of shape"):
        check(compute_distortion)

    def assign_clusters(X, centroids):
        return np.zeros((len(X), 1), dtype=int)

    with pytest.raises(AssertionError, match=r"labels must have shape \(4,\); got shape \(4, 1\)"):
        check(assign_clusters)


def test_errors_raised_by_student_code_are_reported():
    def compute_distortion(X, centroids, labels):
        return float(np.sum(X + labels))  # (n, d) + (n,) does not broadcast

    with pytest.raises(AssertionError, match="compute_distortion raised ValueError"):
        check(compute_distortion)


def test_unknown_function_names_the_exercises():
    def assign_cluster(X, centroids):
        return None

    with pytest.raises(AssertionError, match="no exercise is called 'assign_cluster'"):
        check(assign_cluster)
    with pytest.raises(TypeError, match="takes your function itself"):
        check("assign_clusters")
