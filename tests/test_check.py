"""check(fn), as the notebook's check cells call it: passes correct code written any way, names
each catalogued mistake, explains type and shape errors. Every lesson in NOTEBOOKS is covered."""

import types

import numpy as np
import pytest

from autograde import check, fixtures
from autograde.judge import Failure, judge_case
from autograde.lessons import NOTEBOOKS, exercises

EXERCISES = {ex.name: ex for key in sorted(NOTEBOOKS) for ex in exercises(key)}


def renamed(fn, name):
    """A copy of fn called name, as check finds the exercise by the function's name."""
    return types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__)


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_passes(name, capsys):
    check(EXERCISES[name].reference)
    assert f"✔ {name}: all" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "index"), [(ex.name, i) for ex in EXERCISES.values() for i in range(len(ex.alternatives))]
)
def test_loops_lists_and_float32_pass(name, index, capsys):
    check(renamed(EXERCISES[name].alternatives[index], name))
    assert f"✔ {name}: all" in capsys.readouterr().out


def test_every_exercise_has_a_correct_alternative():
    assert [name for name, ex in EXERCISES.items() if not ex.alternatives] == []


@pytest.mark.parametrize(("name", "mistake"), [(ex.name, mid) for ex in EXERCISES.values() for mid in ex.mistakes])
def test_each_mistake_fails_with_its_name_and_hint(name, mistake):
    info = EXERCISES[name].mistakes[mistake]
    with pytest.raises(AssertionError) as err:
        check(renamed(info.wrong, name))
    assert f"Mistake: {info.title}. Hint: {info.hint}" in str(err.value)


def test_probability_space_e_step_fails_only_the_far_point():
    e_step = EXERCISES["e_step_1d"]
    wrong = renamed(e_step.mistakes["underflow"].wrong, "e_step_1d")
    cases = fixtures.load("em_1d", "e_step_1d")
    failing = []
    for index, (case, expected, mistakes) in enumerate(cases):
        try:
            judge_case(e_step, case, fixtures.run_calls(wrong, case), expected, mistakes)
        except Failure:
            failing.append((index, case.label))
    ((far, label),) = failing
    assert label.startswith("a point far from every component")
    with pytest.raises(AssertionError) as err:
        check(wrong)
    assert f"case {far + 1} of {len(cases)} ({label})" in str(err.value)
    assert "norm.logpdf" in str(err.value) and "logsumexp" in str(err.value)


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


def test_a_composite_is_checked_once_its_helpers_pass():
    """check(kmeans) blames kmeans only for what kmeans does: not for a helper's stub or mistake."""
    namespace = {}
    exec(
        "import numpy as np\n"
        "def assign_clusters(X, centroids):\n    raise NotImplementedError()\n"
        "def kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):\n    raise NotImplementedError()\n",
        namespace,
    )
    with pytest.raises(AssertionError, match=r"✘ kmeans: not implemented yet"):
        check(namespace["kmeans"])
    exec(
        "def kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):\n    return assign_clusters(X, init)\n",
        namespace,
    )
    with pytest.raises(AssertionError, match=r"✘ kmeans: not checked yet: it calls assign_clusters, which does not"):
        check(namespace["kmeans"])
    wrong = EXERCISES["assign_clusters"].mistakes["argmax"].wrong
    namespace["assign_clusters"] = renamed(wrong, "assign_clusters")
    with pytest.raises(AssertionError, match=r"not checked yet: it calls assign_clusters") as err:
        check(namespace["kmeans"])
    assert "Mistake" not in str(err.value)


def test_a_failed_check_shows_its_message_alone():
    from autograde.checker import CheckFailed

    def assign_clusters(X, centroids):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as err:
        check(assign_clusters)
    assert err.value._render_traceback_() == str(err.value).splitlines()
