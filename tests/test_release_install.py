"""The student bundle is a package of its own: its pyproject.toml declares what the bundle holds, and in a
fresh environment (this environment's third-party packages, not the course's own install) it installs
offline, imports its autograde and helpers from the bundle, and its check() and `autograde check` work."""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from setuptools.config.pyprojecttoml import read_configuration

from autograde import student_cli
from autograde.notebooks import NOTEBOOK_DIR, read, role, solve
from autograde.release import release

ROOT = Path(__file__).resolve().parent.parent
CORRECT = """
import numpy as np
from autograde import check

def compute_distortion(X, centroids, labels):
    return float(((np.asarray(X) - np.asarray(centroids)[labels]) ** 2).sum())

check(compute_distortion)
"""
WRONG = CORRECT.replace("** 2).sum()", "** 2).mean()")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return release(tmp_path_factory.mktemp("bundle") / "release")


def test_bundle_pyproject_declares_the_packages_data_and_command_it_holds(bundle):
    meta = read_configuration(bundle / "pyproject.toml")  # parsed and validated as setuptools does
    packages = meta["tool"]["setuptools"]["packages"]
    assert sorted(packages) == ["autograde", "autograde.lessons", "helpers"]
    assert all((bundle / package.replace(".", "/") / "__init__.py").is_file() for package in packages)
    for package, patterns in meta["tool"]["setuptools"]["package-data"].items():
        assert all(len(list((bundle / package).glob(pattern))) == 5 for pattern in patterns)  # one per lesson
    for script in meta["project"]["scripts"].values():
        module = script.split(":")[0]
        assert (bundle / (module.replace(".", "/") + ".py")).is_file(), f"{script}: not in the bundle"
    course = read_configuration(ROOT / "pyproject.toml")["project"]
    assert meta["project"]["version"] == course["version"]
    assert meta["project"]["name"] != course["name"]  # another package: it holds no solutions


def test_the_student_command_runs_the_cells_the_grader_runs():
    cells = [cell for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")) for cell in read(path).cells]
    cells += [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = 2", metadata={"nbgrader": "?"})]
    assert [student_cli.role(cell) for cell in cells] == [role(cell) for cell in cells]
    assert {"setup", "solution", "check", "course", "student", "markdown"} == set(map(role, cells))


@pytest.fixture(scope="module")
def student_python(bundle, tmp_path_factory):
    """The python of a fresh venv with the bundle installed, editable and offline. The venv sees this
    environment's third-party packages through a folder of links to them, without the course's own
    editable install (its __editable__ finder and em_course dist-info are left out)."""
    root = tmp_path_factory.mktemp("student-env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root / "venv"], check=True)
    python = str(root / "venv" / "bin" / "python")
    third_party = root / "third-party"
    third_party.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("__editable__", "em_course")) and entry.suffix != ".pth":
            (third_party / entry.name).symlink_to(entry)
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).stdout
    (Path(purelib.strip()) / "third-party.pth").write_text(f"{third_party}\n")
    install = ["-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-e", bundle]
    run(python, *install, cwd=root)
    return python


def run(*command, cwd, check=True):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run(list(map(str, command)), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_installed_bundle_imports_from_itself_and_has_no_solutions(bundle, student_python, tmp_path):
    code = (
        "import importlib.util, json, autograde, autograde.lessons, helpers; print(json.dumps(["
        "autograde.__file__, helpers.__file__, [importlib.util.find_spec(m) is None for m in "
        "('solutions', 'autograde.grade', 'autograde.sandbox')], "
        "[(e.reference, e.hidden, [m.wrong for m in e.mistakes.values()], e.alternatives) "
        "for e in autograde.lessons.exercises('kmeans')]], default=str))"
    )
    autograde_file, helpers_file, missing, declared = json.loads(run(student_python, "-c", code, cwd=tmp_path).stdout)
    assert Path(autograde_file).is_relative_to(bundle) and Path(helpers_file).is_relative_to(bundle)
    assert missing == [True] * 3
    assert len(declared) == 5 and all(
        d[0] is None and d[1] == [] and set(d[2]) == {None} and d[3] == [] for d in declared
    )
    proc = run(student_python, "-c", "import solutions", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "ModuleNotFoundError" in proc.stderr


@pytest.mark.slow
def test_installed_bundle_checks_a_function(student_python, tmp_path):
    assert "✔ compute_distortion" in run(student_python, "-c", CORRECT, cwd=tmp_path).stdout
    proc = run(student_python, "-c", WRONG, cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "✘ compute_distortion" in proc.stderr


@pytest.mark.slow
def test_installed_bundle_command_checks_saved_notebooks(bundle, student_python, tmp_path):
    command = Path(student_python).parent / "autograde"
    solved = tmp_path / "01_kmeans.ipynb"
    nbformat.write(solve(read(NOTEBOOK_DIR / "01_kmeans.ipynb"), "kmeans"), solved)
    proc = run(command, "check", solved, cwd=tmp_path)
    names = ["init_centroids", "assign_clusters", "update_centroids", "compute_distortion", "kmeans"]
    assert all(f"✔ {name}: all" in proc.stdout for name in names), proc.stdout
    stub = run(command, "check", bundle / "notebooks" / "01_kmeans.ipynb", cwd=tmp_path, check=False)
    assert stub.returncode == 1
    assert all(f"✘ {name}: not implemented yet" in stub.stdout for name in names), stub.stdout
    assert run(command, "check", tmp_path / "missing.ipynb", cwd=tmp_path, check=False).returncode == 2
