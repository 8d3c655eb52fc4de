"""The grader on every lesson but k-means (tests/test_grade.py grades that one, hostile submissions included):
the solved notebook gets full marks, the stub gets 0, each catalogued mistake loses exactly its exercise."""

from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from autograde import grade, sandbox
from autograde.lessons import NOTEBOOKS, exercises
from autograde.notebooks import lesson_notebook, mistaken_sources, solved

LESSONS = sorted(key for key in NOTEBOOKS if key != "kmeans")
LIMITS = sandbox.Limits(cell_seconds=10, exercise_seconds=20, notebook_seconds=120)


def grade_class(grader, key, folder):
    """{student: {exercise: Result}} for the reference, the stub and one submission per catalogued mistake."""
    submissions = {"reference": solved(key), "stub": lesson_notebook(key)}
    for (name, mid), source in mistaken_sources(key).items():
        submissions[f"mistake-{mid}"] = solved(key, replace={name: source})
    filename = NOTEBOOKS[key]
    paths = {}
    for student, nb in submissions.items():
        paths[student] = folder / student / filename
        paths[student].parent.mkdir()
        nbformat.write(nb, paths[student])
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {s: pool.submit(grader.grade, s, filename, path) for s, path in paths.items()}
        return {s: {r.exercise: r for r in future.result()} for s, future in futures.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """graded(key): the lesson's class, graded once per test session."""
    grader, done = grade.Grader(LIMITS), {}

    def of(key):
        if key not in done:
            done[key] = grade_class(grader, key, tmp_path_factory.mktemp(key))
        return done[key]

    yield of
    grader.close()


def scores(rows):
    return {name: r.score for name, r in rows.items()}


def full_except(key, *zero):
    return {ex.name: 0 if ex.name in zero else ex.points for ex in exercises(key)}


@pytest.mark.parametrize("key", LESSONS)
def test_reference_gets_full_marks(graded, key):
    assert scores(graded(key)["reference"]) == full_except(key)


@pytest.mark.parametrize("key", LESSONS)
def test_stub_gets_zero_and_says_not_implemented(graded, key):
    rows = graded(key)["stub"]
    assert scores(rows) == full_except(key, *scores(rows))
    assert all("not implemented" in r.feedback for r in rows.values())


@pytest.mark.parametrize(
    ("key", "exercise", "mistake"),
    [(key, name, mid) for key in LESSONS for name, mid in sorted(mistaken_sources(key))],
)
def test_each_catalogued_mistake_loses_exactly_its_exercise_and_is_named(graded, key, exercise, mistake):
    rows = graded(key)[f"mistake-{mistake}"]
    assert scores(rows) == full_except(key, exercise), rows[exercise].feedback
    assert rows[exercise].mistake == mistake, rows[exercise].feedback
    title = next(ex for ex in exercises(key) if ex.name == exercise).mistakes[mistake].title
    assert f"Mistake: {title}." in rows[exercise].feedback
