"""Grades where the class already is: Gradescope's autograder, totals for Canvas or any LMS, PrairieLearn's results."""

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograde import platforms
from autograde.__main__ import main as cli
from autograde.grade import KEYS, write_gradebook
from autograde.lessons import exercises
from autograde.notebooks import lesson_notebook, solved

ROOT = Path(__file__).resolve().parent.parent
POINTS = {f"{nb}: {ex.name}": ex.points for key, nb in [("kmeans", "01_kmeans.ipynb"), ("em_1d", "02_em_1d.ipynb")]
          for ex in exercises(key)}  # fmt: skip


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    notebooks = ["--notebook", "02_em_1d.ipynb", "--notebook", "01_kmeans.ipynb", "--notebook", "02_em_1d.ipynb"]
    assert cli(["gradescope", str(out), *notebooks]) == 0
    return out


def unpacked(autograder, root):
    """A fake /autograder: the zip unpacked in source/ (as Gradescope does), an empty submission/."""
    with zipfile.ZipFile(autograder) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    return root


def run_autograder(root):
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


def check_schema(results):
    """Gradescope's results.json: the types and keys it reads, the score the sum of the tests'."""
    assert set(results) == {"score", "output", "visibility", "stdout_visibility", "tests"}
    assert isinstance(results["score"], float) and isinstance(results["output"], str)
    assert results["visibility"] == "visible" and results["stdout_visibility"] == "hidden"
    for test in results["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert isinstance(test["output"], str) and test["output"] and test["visibility"] == "visible"
    assert [(t["name"], t["max_score"]) for t in results["tests"]] == list(POINTS.items())  # in course order, once
    assert results["score"] == sum(t["score"] for t in results["tests"])


def test_the_zip_holds_the_grader_and_what_gradescope_runs(autograder):
    with zipfile.ZipFile(autograder) as zf:
        names = set(zf.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        requirements = zf.read("requirements-grading.txt").decode().splitlines()
    for name in [
        "setup.sh",
        "run_autograder",
        "autograde/platforms.py",
        "autograde/lessons/kmeans.py",
        "autograde/fixtures/kmeans.json",
        "solutions/kmeans.py",
        "helpers/__init__.py",
        "data/faithful.csv",
    ]:
        assert name in names, name
    assert not [n for n in names if n.startswith(("tests/", ".venv/")) or "__pycache__" in n]
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "apt-get install -y --no-install-recommends bubblewrap" in setup
    assert "torch==2.13.0" in requirements and f"--extra-index-url {platforms.TORCH_INDEX}" in requirements
    pinned = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line]
    assert {line for line in requirements if "==" in line} <= set(pinned)
    assert not [line for line in requirements if line.startswith(("pytest", "ruff", "playwright", "jupyterlab"))]


def test_a_notebook_that_is_not_the_courses_is_refused():
    with pytest.raises(ValueError, match=r"not course notebooks: lab\.ipynb"):
        platforms.gradescope("unused.zip", ["lab.ipynb"])


def test_setup_and_run_autograder_are_bash(autograder, tmp_path):
    root = unpacked(autograder, tmp_path)
    for script in ("setup.sh", "run_autograder"):
        proc = subprocess.run(["bash", "-n", str(root / "source" / script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_run_autograder_grades_the_submission_into_results_json(autograder, tmp_path):
    root = unpacked(autograder, tmp_path)
    nbformat.write(solved("kmeans"), root / "submission" / "01_kmeans.ipynb")
    (root / "submission" / "lab2").mkdir()
    nbformat.write(lesson_notebook("em_1d"), root / "submission" / "lab2" / "02_em_1d.ipynb")
    results = run_autograder(root)
    check_schema(results)
    scores = {t["name"]: t["score"] for t in results["tests"]}
    assert scores == {name: (points if name.startswith("01_") else 0) for name, points in POINTS.items()}
    stub = next(t for t in results["tests"] if t["name"] == "02_em_1d.ipynb: e_step_1d")
    assert stub["status"] == "failed" and "not implemented" in stub["output"]
    assert results["score"] == sum(ex.points for ex in exercises("kmeans")) and "Feedback for" in results["output"]


def test_run_autograder_without_a_course_notebook_gives_zero_and_says_what_to_upload(autograder, tmp_path):
    root = unpacked(autograder, tmp_path)
    (root / "submission" / "notes.txt").write_text("hello")
    os.symlink("/etc/passwd", root / "submission" / "01_kmeans.ipynb")
    results = run_autograder(root)
    check_schema(results)
    assert results["score"] == 0 and "upload 01_kmeans.ipynb, 02_em_1d.ipynb" in results["output"]
    outputs = {t["name"]: t["output"] for t in results["tests"]}
    assert "not a regular file" in outputs["01_kmeans.ipynb: kmeans"]
    assert "not submitted" in outputs["02_em_1d.ipynb: em_1d"]


# ------------------------------------------------------------------ PrairieLearn
@pytest.mark.slow
def test_prairielearn_results_for_one_notebook(tmp_path):
    declared = exercises("kmeans")
    wrong = "def compute_distortion(X, centroids, labels):\n    return 0.0\n"
    path = tmp_path / "student" / "01_kmeans.ipynb"
    path.parent.mkdir()
    nbformat.write(solved("kmeans", replace={"compute_distortion": wrong}), path)
    out = tmp_path / "results" / "results.json"
    assert cli(["prairielearn", str(path), str(out)]) == 0
    results = json.loads(out.read_text())
    assert set(results) == {"gradable", "score", "message", "tests"} and results["gradable"] is True
    most = sum(ex.points for ex in declared)
    distortion = next(ex.points for ex in declared if ex.name == "compute_distortion")
    assert results["score"] == pytest.approx((most - distortion) / most)
    assert [t["name"] for t in results["tests"]] == [ex.name for ex in declared]
    for test, ex in zip(results["tests"], declared):
        assert set(test) == {"name", "points", "max_points", "message"} and test["max_points"] == ex.points
        assert test["points"] == (0 if ex.name == "compute_distortion" else ex.points)
        assert test["message"].startswith("✘" if ex.name == "compute_distortion" else "✔")
    assert "Feedback for 01_kmeans.ipynb" in results["message"]


def test_prairielearn_not_a_course_notebook_is_not_gradable(tmp_path):
    path = tmp_path / "lab.ipynb"
    nbformat.write(solved("kmeans"), path)
    results = platforms.prairielearn(path, tmp_path / "results.json")
    assert results == json.loads((tmp_path / "results.json").read_text())
    assert results["gradable"] is False and results["score"] == 0 and "not a course notebook" in results["message"]


# ------------------------------------------------------------------ Canvas and any LMS
def gradebook(path, scores):
    """A gradebook by hand: {(student, notebook): {exercise: score}}, every other exercise of the notebook at 0."""
    rows = []
    for (student, filename), mine in scores.items():
        for ex in exercises(KEYS[filename]):
            score = mine.get(ex.name, 0)
            rows.append(
                {
                    "student": student,
                    "notebook": filename,
                    "exercise": ex.name,
                    "score": f"{score:g}",
                    "max_score": f"{ex.points:g}",
                    "feedback": "✔" if score == ex.points else "✘",
                }
            )
    write_gradebook(rows, path)
    return path


CLASS = {
    ("alice", "01_kmeans.ipynb"): {"init_centroids": 2, "assign_clusters": 2, "kmeans": 3},
    ("alice", "02_em_1d.ipynb"): {"e_step_1d": 3},
    ("bob", "01_kmeans.ipynb"): {"compute_distortion": 1},
    ("bob", "02_em_1d.ipynb"): {},
    ("carol", "01_kmeans.ipynb"): {"assign_clusters": 2},
    ("carol", "02_em_1d.ipynb"): {"m_step_1d": 3, "em_1d": 2},
}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_export_totals_a_row_per_student_a_column_per_notebook(tmp_path, capsys):
    book = gradebook(tmp_path / "gradebook.csv", CLASS)
    out = tmp_path / "totals.csv"
    assert cli(["export", str(book), "--totals", str(out)]) == 0
    columns, rows = read_csv(out)
    assert columns == ["student", "01_kmeans", "02_em_1d", "total"]
    kmeans, em_1d = (sum(ex.points for ex in exercises(key)) for key in ("kmeans", "em_1d"))
    assert rows[0] == {"student": "Points Possible", "01_kmeans": f"{kmeans}", "02_em_1d": f"{em_1d}",
                       "total": f"{kmeans + em_1d}"}  # fmt: skip
    assert rows[1:] == [
        {"student": "alice", "01_kmeans": "7", "02_em_1d": "3", "total": "10"},
        {"student": "bob", "01_kmeans": "1", "02_em_1d": "0", "total": "1"},
        {"student": "carol", "01_kmeans": "2", "02_em_1d": "5", "total": "7"},
    ]
    assert "3 student(s), 2 notebook(s)" in capsys.readouterr().out


def test_export_with_canvas_roster_writes_its_identity_and_reports_who_is_missing(tmp_path, capsys):
    book = gradebook(tmp_path / "gradebook.csv", CLASS)
    roster = tmp_path / "canvas.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Old quiz (123)\n"
        "    Points Possible,,,,,10\n"
        '"Student, Test",999,,,Section 1,\n'
        '"Liddell, Alice",101,S-1,alice,Section 1,9\n'
        '"Bourbaki, Carol",103,S-3,carol,Section 2,\n'
        '"Noether, Dave",104,S-4,dave,Section 2,7\n'
    )  # fmt: skip
    out = tmp_path / "canvas-import.csv"
    assert cli(["export", str(book), "--totals", str(out), "--roster", str(roster)]) == 0
    columns, rows = read_csv(out)
    assert columns == [*platforms.CANVAS, "01_kmeans", "02_em_1d", "total"]
    assert rows[0]["Student"] == "Points Possible" and rows[0]["ID"] == ""
    assert [(r["Student"], r["ID"], r["SIS Login ID"], r["Section"], r["total"]) for r in rows[1:]] == [
        ("Liddell, Alice", "101", "alice", "Section 1", "10"),
        ("Bourbaki, Carol", "103", "carol", "Section 2", "7"),
    ]
    printed = capsys.readouterr().out
    assert "in the gradebook, not in the roster (1): bob" in printed
    assert "in the roster, not in the gradebook (1): dave" in printed


def test_export_with_a_plain_roster_maps_folders_to_ids(tmp_path, capsys):
    book = gradebook(tmp_path / "gradebook.csv", CLASS)
    roster = tmp_path / "roster.csv"
    roster.write_text("student,id\nalice,u-1\nbob,u-2\ncarol,u-3\n")
    out = tmp_path / "totals.csv"
    assert cli(["export", str(book), "--totals", str(out), "--roster", str(roster)]) == 0
    columns, rows = read_csv(out)
    assert columns == ["student", "id", "01_kmeans", "02_em_1d", "total"]
    assert [(r["student"], r["id"], r["total"]) for r in rows[1:]] == [("alice", "u-1", "10"), ("bob", "u-2", "1"),
                                                                       ("carol", "u-3", "7")]  # fmt: skip
    printed = capsys.readouterr().out
    assert "not in the roster (0): -" in printed and "not in the gradebook (0): -" in printed


def test_export_refuses_what_is_not_a_gradebook_or_a_roster(tmp_path, capsys):
    book = gradebook(tmp_path / "gradebook.csv", CLASS)
    (tmp_path / "other.csv").write_text("name,score\nalice,3\n")
    assert cli(["export", str(tmp_path / "other.csv"), "--totals", str(tmp_path / "t.csv")]) == 2
    assert "is not a gradebook" in capsys.readouterr().err
    assert cli(["export", str(book), "--totals", str(tmp_path / "t.csv"), "--roster", str(tmp_path / "other.csv")]) == 2
    assert "neither a `student` column" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()
