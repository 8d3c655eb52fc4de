"""The student release: everything a student needs, no answer anywhere in it."""

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from packaging.requirements import Requirement

from autograde.lessons import NOTEBOOKS, exercises, student_source
from autograde.notebooks import NOTEBOOK_DIR, read, role, solve
from autograde.platforms import TORCH_INDEX
from autograde.release import release

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return release(tmp_path_factory.mktemp("bundle") / "release")


def test_bundle_has_what_a_student_needs(bundle):
    for path in [
        "README.md",
        "Makefile",
        "requirements.txt",
        "pyproject.toml",
        *(f"notebooks/{name}" for name in NOTEBOOKS.values()),
        "helpers/__init__.py",
        "autograde/__init__.py",
        "autograde/checker.py",
        "autograde/student_cli.py",
        "autograde/fixtures/kmeans.json",
        "data/faithful.csv",
        "img",
    ]:
        assert (bundle / path).exists(), path
    assert any((bundle / "img").iterdir())
    assert (bundle / "requirements.txt").read_text() == (ROOT / "requirements-student.txt").read_text()
    assert not (bundle / "environment.yaml").exists()  # conda users pip-install requirements.txt (README.md)


def pins(path):
    """{package: version} of a requirements file's name==version lines, and its other lines (options)."""
    found, options = {}, []
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-"):
            options.append(line)
        elif line:
            name, sep, version = line.partition("==")
            assert sep and name.strip() and version.strip(), f"{path}: pin as name==version: {line!r}"
            found[canonical(name.strip())] = version.strip()
    return found, options


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def test_student_requirements_pin_the_instructors_versions_and_no_tool():
    student, options = pins("requirements-student.txt")
    instructor, _ = pins("requirements.txt")
    assert options == [f"--extra-index-url {TORCH_INDEX}"]  # torch's CPU build, as for Gradescope
    assert student["torch"] == instructor["torch"] == "2.13.0"
    differ = {
        name: (version, instructor.get(name)) for name, version in student.items() if version != instructor.get(name)
    }
    assert differ == {}, f"requirements-student.txt vs requirements.txt (None: the instructor pins none): {differ}"
    assert {"numpy", "scipy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "torch"} <= student.keys()
    tools = {"nbgrader", "pytest", "nbval", "ruff", "playwright", "nbclient", "nbconvert", "notebook"}
    assert not tools & student.keys(), f"grading, test or lint tools for students: {sorted(tools & student.keys())}"


def imported_modules(bundle):
    """The top-level modules that the bundle's notebooks (their code cells, %magics translated) and Python files
    import."""
    from IPython.core.inputtransformer2 import TransformerManager

    sources = [path.read_text() for path in bundle.rglob("*.py")]
    for path in (bundle / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        sources += [TransformerManager().transform_cell(c.source) for c in nb.cells if c.cell_type == "code"]
    found = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_student_requirements_install_every_package_the_bundle_imports(bundle):
    """Each third-party module the notebooks or the bundle's code import comes from a pinned package or from a
    package that a pinned one requires (Pillow, under matplotlib)."""
    installed = set()
    todo = list(pins("requirements-student.txt")[0])
    while todo:
        name = todo.pop()
        if name in installed:
            continue
        installed.add(name)
        for requirement in map(Requirement, importlib.metadata.requires(name) or []):
            if not requirement.marker or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonical(requirement.name))
    own = {"autograde", "helpers"}
    third_party = sorted(imported_modules(bundle) - set(sys.stdlib_module_names) - own)
    distributions = importlib.metadata.packages_distributions()
    missing = {
        m: distributions.get(m) for m in third_party if not {*map(canonical, distributions.get(m, []))} & installed
    }
    assert "torch" in third_party and "sklearn" in third_party and missing == {}, missing


def make_dry_run(bundle, target, *overrides):
    """The commands `make -n target` prints in the bundle, as a student's shell runs it (not a make inside
    `make test`, whose MAKEFLAGS and MAKELEVEL would make it print the directories it enters)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    proc = subprocess.run(["make", "-n", target, *overrides], cwd=bundle, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


INSTALL = [
    "test -x .venv/bin/python || python3 -m venv .venv",
    ".venv/bin/python -m pip install -r requirements.txt",
    ".venv/bin/python -m pip install --no-deps -e .",
    "touch .venv/.installed",
]


def test_make_lab_installs_into_a_venv_and_starts_jupyterlab_on_the_notebooks(bundle):
    lines = make_dry_run(bundle, "lab").splitlines()
    assert all(line in lines for line in INSTALL), lines
    assert lines[-1] == ".venv/bin/python -m jupyter lab --notebook-dir=notebooks"
    assert [lines.index(line) for line in INSTALL] == sorted(lines.index(line) for line in INSTALL)
    assert "3, 11" in "\n".join(lines)  # an older Python is refused with a message, not a pip error
    conda = make_dry_run(bundle, "lab", "VENV=/opt/conda/envs/em")
    assert "/opt/conda/envs/em/bin/python -m pip install -r requirements.txt" in conda.splitlines()


def test_make_check_runs_the_checks_of_every_notebook(bundle):
    lines = make_dry_run(bundle, "check").splitlines()
    assert all(line in lines for line in INSTALL), lines
    assert lines[-1] == ".venv/bin/python -m autograde.student_cli check notebooks/*.ipynb"
    # PYTHON=: a Python that has everything: nothing created or installed
    assert make_dry_run(bundle, "check", "PYTHON=/opt/py/bin/python").splitlines() == [
        "/opt/py/bin/python -m autograde.student_cli check notebooks/*.ipynb"
    ]
    assert "make lab" in make_dry_run(bundle, "help")  # the default target says what there is


def test_no_solutions_no_hidden_cases_no_mistaken_implementations(bundle, answers_in):
    names = {p.name for p in bundle.rglob("*")}
    assert not (bundle / "solutions").exists()
    assert not (bundle / "autograde" / "hidden").exists() and not (bundle / "autograde" / "mistakes").exists()
    assert not names & {"grade.py", "sandbox.py", "nbgrader_course.py"}
    text = "\n".join(
        p.read_text(errors="replace")
        for p in bundle.rglob("*")
        if p.is_file() and p.suffix in (".py", ".ipynb", ".json", ".md", ".toml", ".yaml", ".txt")
    )
    assert answers_in(text) == {}, "reference answers found in the release"
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


def test_the_answer_check_finds_every_answer_of_the_solved_notebooks(answers_in):
    """The check above can fail: the solved notebooks give away every exercise, the student ones none."""
    notebooks = [solve(read(NOTEBOOK_DIR / name), key) for key, name in NOTEBOOKS.items()]
    solved = "\n".join(cell.source for nb in notebooks for cell in nb.cells)
    assert set(answers_in(solved)) == {ex.name for key in NOTEBOOKS for ex in exercises(key)}
    assert answers_in("\n".join((NOTEBOOK_DIR / name).read_text() for name in NOTEBOOKS.values())) == {}
