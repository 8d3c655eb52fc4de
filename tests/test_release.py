"""The student release: everything a student needs, no answer anywhere in it."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograde.lessons import NOTEBOOKS, exercises, student_source
from autograde.notebooks import role
from autograde.release import release

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return release(tmp_path_factory.mktemp("bundle") / "release")


def test_bundle_has_what_a_student_needs(bundle):
    for path in [
        "notebooks/01_kmeans.ipynb",
        "helpers/__init__.py",
        "autograde/fixtures/kmeans.json",
        "data/faithful.csv",
        "environment.yaml",
        "requirements.txt",
        "README.md",
    ]:
        assert (bundle / path).exists(), path


def test_no_solutions_no_hidden_cases_no_mistaken_implementations(bundle, reference_lines):
    names = {p.name for p in bundle.rglob("*")}
    assert not (bundle / "solutions").exists()
    assert not (bundle / "autograde" / "hidden").exists() and not (bundle / "autograde" / "mistakes").exists()
    assert not names & {"grade.py", "sandbox.py", "nbgrader_course.py"}
    text = "\n".join(
        p.read_text(errors="replace")
        for p in bundle.rglob("*")
        if p.is_file() and p.suffix in (".py", ".ipynb", ".json", ".md", ".toml", ".yaml", ".txt")
    )
    leaked = [line for line in reference_lines if line in text]
    assert leaked == [], f"reference code found in the release: {leaked[:3]}"
    for key in NOTEBOOKS:  # the lessons as students get them: no hidden case, no mistaken or alternative code
        assert (bundle / "autograde" / "lessons" / f"{key}.py").read_text() == student_source(key)
        for ex in exercises(key):
            for fn in [*(m.wrong for m in ex.mistakes.values()), *ex.alternatives]:
                assert f"def {fn.__code__.co_name}(" not in text


def test_solutions_cannot_be_imported_from_the_bundle(bundle):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = (
        "import sys; sys.path[:] = [p for p in sys.path if 'site-packages' in p or 'python3' in p]; "
        "sys.path.insert(0, '.'); import solutions"
    )
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=bundle, capture_output=True, text=True, env=env)
    assert "ModuleNotFoundError" in proc.stderr


@pytest.mark.slow
def test_check_cells_run_in_the_bundle(bundle):
    """In the bundle, a stub fails with its message and a correct fill passes."""
    nb = nbformat.read(bundle / "notebooks" / "01_kmeans.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if role(c) in ("setup", "solution", "check")]
    fill = "def compute_distortion(X, centroids, labels):\n    return float(((X - centroids[labels]) ** 2).sum())\n"
    for cell in nb.cells:
        if role(cell) == "solution" and cell.metadata.nbgrader.grade_id == "compute_distortion":
            cell.source = fill
    # the bundle's own autograde and helpers come first on the path; solutions/ is not on it
    nb.cells.insert(
        0,
        nbformat.v4.new_code_cell(
            f"import os, sys; sys.path.insert(0, {str(bundle)!r}); sys.path = [p for p in sys.path "
            f"if os.path.realpath(p) != {str(ROOT)!r} and '__editable__' not in p]\n"
            "import autograde, helpers; assert autograde.__file__.startswith(sys.path[0]), autograde.__file__"
        ),
    )
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(bundle / "notebooks")}},
    ).execute()
    assert not any(o.output_type == "error" for o in nb.cells[0].outputs), nb.cells[0].outputs
    outputs = {
        c.source.strip(): "".join(o.get("text", "") + o.get("evalue", "") for o in c.outputs)
        for c in nb.cells
        if role(c) == "check"
    }
    assert "✔ compute_distortion" in outputs["check(compute_distortion)"]
    assert "not implemented yet" in outputs["check(assign_clusters)"]
