"""The nbgrader path: generate_assignment, autograde, generate_feedback and export on a real course."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.validator import Validator

from autograde.lessons import exercises
from autograde.notebooks import add_cell, lesson_notebook, role, solve

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NB = "01_kmeans.ipynb"
HIDDEN_MARK = "an instructor's hidden test"
TAMPER = (
    "import numpy as np\n"
    "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
    "np.testing.assert_allclose = lambda *a, **k: None\n"
)
WRONG_ASSIGN = "import numpy as np\n\ndef assign_clusters(X, centroids):\n    return np.zeros(len(X), dtype=int)\n"

pytestmark = pytest.mark.slow


def nbgrader(course, *args):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "FAST": "1"}
    proc = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def cells(path):
    return nbformat.read(path, as_version=4).cells


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    proc = subprocess.run(
        [sys.executable, "-m", "autograde", "nbgrader", str(course)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    # an instructor adds a hidden test of their own to one check cell
    source = course / "source" / "01_kmeans" / NB
    nb = nbformat.read(source, as_version=4)
    check = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "check_compute_distortion")
    hidden = f"assert compute_distortion([[0.0]], [[0.0]], [0]) == 0  # {HIDDEN_MARK}"
    check.source += f"\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"
    nbformat.write(nb, source)
    nbgrader(course, "generate_assignment", "01_kmeans", "--force")

    released = nbformat.read(course / "release" / "01_kmeans" / NB, as_version=4)
    submissions = {
        "alice": solve(released, "kmeans"),
        # monkeypatches numpy's comparisons in the kernel, and gets assign_clusters wrong
        "bob": add_cell(solve(released, "kmeans", {"assign_clusters": WRONG_ASSIGN}), TAMPER, before_solutions=True),
    }
    for student, submission in submissions.items():
        path = course / "submitted" / student / "01_kmeans" / NB
        path.parent.mkdir(parents=True)
        nbformat.write(submission, path)
    nbgrader(course, "autograde", "01_kmeans", "--force")
    nbgrader(course, "generate_feedback", "01_kmeans", "--force")
    nbgrader(course, "export")
    return course


def test_release_holds_the_stubs_and_no_answer(course, answers_in):
    released = cells(course / "release" / "01_kmeans" / NB)
    stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in lesson_notebook().cells if role(c) == "solution"}
    assert {c.metadata["nbgrader"]["grade_id"]: c.source for c in released if role(c) == "solution"} == stubs
    text = (course / "release" / "01_kmeans" / NB).read_text()
    assert HIDDEN_MARK not in text and "BEGIN SOLUTION" not in text
    assert answers_in(text) == {}


def test_autograde_gives_the_isolated_graders_points(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        points = {
            s: {g.name.removeprefix("check_"): g.score for g in gb.find_submission("01_kmeans", s).notebooks[0].grades}
            for s in ("alice", "bob")
        }
    assert sum(points["alice"].values()) == sum(ex.points for ex in exercises("kmeans"))
    # the tampering in the kernel changes nothing: only assign_clusters is lost
    assert points["bob"] == {**points["alice"], "assign_clusters": 0}
    # the same points as `python -m autograde grade` on nbgrader's submitted/ folder
    out = course / "grades" / "gradebook.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "autograde", "grade", str(course), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="", encoding="utf-8") as f:
        ours = {(r["student"], r["exercise"]): float(r["score"]) for r in csv.DictReader(f)}
    assert ours == {(s, ex): score for s, scores in points.items() for ex, score in scores.items()}


def test_feedback_shows_the_graders_verdict_and_no_hidden_test(course):
    for student in ("alice", "bob"):
        html = (course / "feedback" / student / "01_kmeans" / "01_kmeans.html").read_text()
        assert HIDDEN_MARK not in html and "BEGIN HIDDEN TESTS" not in html
    bob = (course / "feedback" / "bob" / "01_kmeans" / "01_kmeans.html").read_text()
    assert "✘ assign_clusters" in bob


def test_check_cells_show_the_verdict_and_no_traceback_into_the_course_files(course):
    for student in ("alice", "bob"):
        checks = [c for c in cells(course / "autograded" / student / "01_kmeans" / NB) if role(c) == "check"]
        text = "\n".join(
            o.get("text", "") + "\n".join(o.get("traceback", [])) + o.get("evalue", "")
            for c in checks
            for o in c.outputs
        )
        assert "✔ all visible and hidden cases pass." in text
        assert "Traceback" not in text and "autograde/" not in text, text
        html = (course / "feedback" / student / "01_kmeans" / "01_kmeans.html").read_text()
        assert "most recent call last" not in html and "autograde/" not in html
    bob = [c for c in cells(course / "autograded" / "bob" / "01_kmeans" / NB) if role(c) == "check"]
    errors = [o for c in bob for o in c.outputs if o.output_type == "error"]
    assert [o.traceback for o in errors] == [[o.evalue] for o in errors] and errors[0].evalue.startswith(
        f"✘ assign_clusters: case 1 of {len(exercises('kmeans')[1].visible)} ("
    )


def test_export_writes_the_class_scores(course):
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {r["student_id"]: (float(r["score"]), float(r["max_score"])) for r in csv.DictReader(f)}
    total = sum(ex.points for ex in exercises("kmeans"))
    lost = next(ex.points for ex in exercises("kmeans") if ex.name == "assign_clusters")
    assert rows == {"alice": (total, total), "bob": (total - lost, total)}


def test_validator_passes_the_source_and_fails_the_release(course, monkeypatch):
    monkeypatch.setenv("FAST", "1")
    monkeypatch.chdir(course)
    validator = Validator()
    assert validator.validate(str(course / "source" / "01_kmeans" / NB)) == {}
    failed = validator.validate(str(course / "release" / "01_kmeans" / NB))["failed"]
    assert len(failed) == len(exercises("kmeans"))
    assert all("not implemented yet" in "".join(f["error"]) for f in failed)
