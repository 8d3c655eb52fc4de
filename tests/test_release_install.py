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
from nbclient import NotebookClient
from setuptools.config.pyprojecttoml import read_configuration

from autograde import student_cli
from autograde.lessons import NOTEBOOKS, exercises
from autograde.notebooks import NOTEBOOK_DIR, lesson_notebook, output_text, read, role, solve
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
    python = fresh_venv(root)
    install = ["-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-e", bundle]
    run(python, *install, cwd=root)
    return python


def fresh_venv(root):
    """The python of a new venv in root/venv that sees this environment's third-party packages (not the course)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root / "venv"], check=True)
    python = str(root / "venv" / "bin" / "python")
    third_party = root / "third-party"
    third_party.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("__editable__", "em_course")) and entry.suffix != ".pth":
            (third_party / entry.name).symlink_to(entry)
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).stdout
    (Path(purelib.strip()) / "third-party.pth").write_text(f"{third_party}\n")
    return python


def run(*command, cwd, check=True, env=None):
    env = (
        {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        | (env or {})
    )
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
    assert all(stub_verdict(ex) in stub.stdout for ex in exercises("kmeans")), stub.stdout
    assert run(command, "check", tmp_path / "missing.ipynb", cwd=tmp_path, check=False).returncode == 2


def make(bundle, *arguments, env=None):
    """make in the bundle as a student's shell runs it (not with the MAKEFLAGS of an enclosing `make test`)."""
    env = {k: v for k, v in (env or os.environ).items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    proc = run("make", *arguments, cwd=bundle, check=False, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def stub_verdict(exercise):
    """What the check of a stub says, for a function that calls other exercises (kmeans) as for the others."""
    return f"✘ {exercise.name}: not implemented yet"


@pytest.mark.slow
def test_make_check_fails_on_the_stubs_and_passes_once_solved(student_python, tmp_path):
    """`make check` in a bundle, with the student's python: each check of the stubs says "not implemented yet"
    and the exit status is not 0; with the solved
    notebooks in notebooks/ every check passes and the exit status is 0."""
    bundle = release(tmp_path / "release")  # its own: the solved notebooks are written into it
    status, out = make(bundle, "check", f"PYTHON={student_python}")
    assert status != 0 and "Traceback" not in out, out
    for key in NOTEBOOKS:
        assert f"  0 of {len(exercises(key))} checks pass" in out, out
        assert all(stub_verdict(ex) in out for ex in exercises(key)), out
    for key, filename in NOTEBOOKS.items():  # the instructor's side: the references into the stubs
        nbformat.write(solve(lesson_notebook(key), key), bundle / "notebooks" / filename)
    status, out = make(bundle, "check", f"PYTHON={student_python}")
    assert status == 0, out
    for key in NOTEBOOKS:
        assert f"  {len(exercises(key))} of {len(exercises(key))} checks pass" in out, out
        assert all(f"✔ {ex.name}: all" in out for ex in exercises(key)), out
    assert "✘" not in out and "raised" not in out, out


@pytest.mark.slow
def test_make_check_installs_the_bundle_into_the_venv_first(tmp_path):
    """Without PYTHON=, `make check` installs requirements.txt and the bundle into VENV (offline here: every pin
    is installed already), then runs the checks with its python and its `autograde` command works."""
    bundle = release(tmp_path / "release")
    python = fresh_venv(tmp_path / "env")  # the third-party packages, not the bundle
    offline = {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}  # pip's "0" turns build isolation off
    status, out = make(bundle, "check", f"VENV={tmp_path / 'env' / 'venv'}", env=offline)
    assert status != 0 and "✘ init_centroids: not implemented yet" in out, out
    assert (tmp_path / "env" / "venv" / ".installed").is_file()
    where = run(python, "-c", "import autograde, helpers; print(autograde.__file__, helpers.__file__)", cwd=tmp_path)
    assert all(Path(path).is_relative_to(bundle) for path in where.stdout.split()), where.stdout
    command = Path(python).parent / "autograde"
    assert (
        "✘ kmeans: not implemented yet"
        in run(command, "check", bundle / "notebooks" / "01_kmeans.ipynb", cwd=tmp_path, check=False).stdout
    )


KERNEL = "em-course-student"  # a kernelspec of its own, in a JUPYTER_PATH of its own: the student's python
WHERE = (
    "import importlib.util, json, sys, autograde, helpers\n"
    "print(json.dumps([sys.executable, autograde.__file__, helpers.__file__, importlib.util.find_spec('solutions')"
    " is None]))"
)


@pytest.mark.slow
def test_solved_notebooks_run_top_to_bottom_in_the_student_environment(bundle, student_python, tmp_path, monkeypatch):
    """Every solved notebook, Run All in a kernel of the student's python (which sees the bundle and the third-party
    packages, not the course): no cell fails, every check cell prints its pass line, and autograde and helpers are
    the bundle's."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [student_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "student", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"FAST": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("MPLBACKEND", None)  # the kernel's own (inline) backend, as in JupyterLab
    failures = []
    for key, filename in NOTEBOOKS.items():
        nb = solve(lesson_notebook(key), key)
        nb.cells.insert(0, nbformat.v4.new_code_cell(WHERE))
        NotebookClient(
            nb,
            timeout=300,
            kernel_name=KERNEL,
            allow_errors=True,
            resources={"metadata": {"path": str(bundle / "notebooks")}},
        ).execute(env=env)
        executable, autograde_file, helpers_file, no_solutions = json.loads(output_text(nb.cells[0]))
        assert Path(executable) == Path(student_python), executable
        assert Path(autograde_file).is_relative_to(bundle) and Path(helpers_file).is_relative_to(bundle), filename
        assert no_solutions, filename
        errors = [
            output_text(c)[-500:] for c in nb.cells if any(o.output_type == "error" for o in c.get("outputs", []))
        ]
        failures += [f"{filename}: {e}" for e in errors]
        for cell in (c for c in nb.cells if role(c) == "check"):
            name = cell.metadata.nbgrader.grade_id.removeprefix("check_")
            if f"✔ {name}: all" not in output_text(cell):
                failures.append(f"{filename}: {cell.source.strip()} printed {output_text(cell)!r}")
        assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code"), filename
    assert failures == [], "\n".join(failures)
