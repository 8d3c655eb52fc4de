"""Under nbgrader autograde the grader runs once per notebook, whatever its outcome, within nbgrader's cell limit."""

import time

import nbformat
import pytest

from autograde import nbgrader_course, sandbox
from autograde.lessons import NOTEBOOKS, exercises
from autograde.notebooks import solved

NB = NOTEBOOKS["kmeans"]


def test_a_failed_grading_is_reused_by_every_later_check_cell(tmp_path, monkeypatch):
    calls = []

    def failing(path):
        calls.append(path)
        raise nbgrader_course.Verdict(f"✘ the grader did not finish grading {path.name} within 230 s")

    monkeypatch.setattr(nbgrader_course, "_graded", {})
    monkeypatch.setattr(nbgrader_course, "_grade_file", failing)
    monkeypatch.chdir(tmp_path)
    nbformat.write(solved("kmeans"), tmp_path / NB)
    for exercise in ["init_centroids", "assign_clusters", "assign_clusters", "kmeans"]:
        with pytest.raises(nbgrader_course.Verdict, match=r"did not finish grading 01_kmeans\.ipynb"):
            nbgrader_course.grade_here("kmeans", exercise)
    assert calls == [tmp_path / NB]


def test_a_changed_notebook_is_graded_again(tmp_path, monkeypatch):
    calls = []

    def grading(path):
        calls.append(path.stat().st_size)
        return {"kmeans": {"score": "2", "max_score": "2", "feedback": "✔ all 9 cases pass"}}

    monkeypatch.setattr(nbgrader_course, "_graded", {})
    monkeypatch.setattr(nbgrader_course, "_grade_file", grading)
    monkeypatch.chdir(tmp_path)
    (tmp_path / NB).write_text("{}")
    nbgrader_course.grade_here("kmeans", "kmeans")
    nbgrader_course.grade_here("kmeans", "kmeans")
    (tmp_path / NB).write_text("{ }")
    nbgrader_course.grade_here("kmeans", "kmeans")
    assert calls == [2, 3]


def test_the_grader_limits_fit_in_nbgraders_cell_limit():
    assert f"c.Execute.timeout = {nbgrader_course.CELL_SECONDS}\n" in nbgrader_course.CONFIG
    limits = sandbox.Limits()
    assert limits.notebook_seconds < nbgrader_course.GRADER_SECONDS < nbgrader_course.CELL_SECONDS


@pytest.mark.slow
def test_a_looping_notebook_costs_the_graders_own_limits(tmp_path):
    """An exercise that loops: the grader stops it at its limit, grades the rest and returns within the
    notebook's limit (so within nbgrader's cell limit, once for all check cells)."""
    loop = "import time\n\n\ndef assign_clusters(X, centroids):\n    while True:\n        time.sleep(0.05)\n"
    points = {ex.name: ex.points for ex in exercises("kmeans")}
    path = tmp_path / NB
    nbformat.write(solved("kmeans", replace={"assign_clusters": loop}), path)
    started = time.monotonic()
    rows = nbgrader_course._grade_file(path)
    took = time.monotonic() - started
    assert took < sandbox.Limits().notebook_seconds, took
    assert sorted(rows) == sorted(points)
    assert rows["assign_clusters"]["score"] == "0" and "time limit" in rows["assign_clusters"]["feedback"]
    assert all(float(rows[n]["score"]) == p for n, p in points.items() if n != "assign_clusters"), rows
