"""python -m autograde release OUT: the student bundle, with no answer anywhere in it."""

import json
import shutil
from pathlib import Path

import nbformat

from autograde.notebooks import NOTEBOOK_DIR, ROOT, read
from autograde.sandbox import copy_student_library

FILES = {"requirements-student.txt": "requirements.txt"}  # the course's file: its name in the bundle
PROJECT = {  # the course's version (pyproject.toml); what the notebooks and the student's command import
    "name": "em-course-student",
    "version": "0.1.0",
    "description": "An open course on clustering and the EM algorithm: the notebooks, their checks and helpers",
    "readme": "README.md",
    "requires-python": ">=3.11",  # the pinned NumPy 2.4 and SciPy 1.17 need it
    "dependencies": ["numpy", "scipy", "matplotlib", "ipywidgets", "ipython", "nbformat", "tqdm"],
}
MAKEFILE = """\
# The course's two commands (README.md), run in this folder:
#   make lab     the first time, creates .venv and installs requirements.txt and the course into it;
#                then starts JupyterLab on notebooks/
#   make check   the check cells of every notebook in notebooks/, as saved; exit status non-zero when one fails
# Overrides: VENV=folder, the environment to create or use (VENV=$CONDA_PREFIX: the active conda environment);
# PYTHON3=python3.12, the Python that creates it; PYTHON=path/to/python, a Python that has everything already:
# it runs the commands, and nothing is created or installed.
PYTHON3 ?= python3
VENV ?= .venv
PYTHON =
PY := $(if $(PYTHON),$(PYTHON),$(VENV)/bin/python)
STAMP := $(VENV)/.installed
SETUP := $(if $(PYTHON),,$(STAMP))

.PHONY: help lab check

help:
\t@echo "make lab     set up .venv (the first time), then start JupyterLab on notebooks/"
\t@echo "make check   run the checks of every notebook in notebooks/ (save them first)"

# (Re)install when requirements.txt or pyproject.toml change
$(STAMP): requirements.txt pyproject.toml
\ttest -x $(VENV)/bin/python || $(PYTHON3) -m venv $(VENV)
\t$(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \\
\t\techo "The Python in $(VENV) is older than 3.11, which the course needs. With a newer one:" >&2; \\
\t\techo "  make lab PYTHON3=python3.11 VENV=.venv311" >&2; exit 1; }
\t$(VENV)/bin/python -m pip install -r requirements.txt
\t$(VENV)/bin/python -m pip install --no-deps -e .
\ttouch $(STAMP)

lab: $(SETUP)
\t$(PY) -m jupyter lab --notebook-dir=notebooks

check: $(SETUP)
\t$(PY) -m autograde.student_cli check notebooks/*.ipynb
"""
STUDENT_README = """# Clustering and the EM algorithm

Five lessons in Jupyter notebooks, in `notebooks/`, to take in order: k-means (`01_kmeans`), EM for a mixture
of two 1-D Gaussians (`02_em_1d`), Gaussian mixtures (`03_gmm`), the general EM algorithm and the evidence
lower bound (`04_general_em`), a variational autoencoder in PyTorch (`05_vae`). In each you write the key
functions yourself, and a check cell tells you at once what is right and what is not.

## What to install

- Python 3.11 or newer with `venv` (on Debian or Ubuntu: `sudo apt-get install python3-venv`), and `make`.
  macOS or Linux; on Windows, use WSL.
- Nothing else by hand: `make lab` installs the pinned packages of `requirements.txt` into `.venv/`, in this
  folder (about 1 GB, once; the network is needed that first time only).

`requirements.txt` begins with `--extra-index-url https://download.pytorch.org/whl/cpu`. PyPI's PyTorch for
Linux is the build for NVIDIA GPUs, with gigabytes of CUDA libraries that the course does not use; that line
gets the CPU build of the same version (`torch 2.13.0+cpu`, a fraction of the download), which trains
lesson 5's model in seconds on a laptop. If you install by hand, keep the line: `pip install -r
requirements.txt` reads it.

With conda: create and activate an environment with Python (`conda create -n em-course python=3.11 pip`,
`conda activate em-course`), then `make lab VENV=$CONDA_PREFIX`: it installs the same `requirements.txt` into
that environment with pip. There is no `environment.yaml`: conda-forge's PyTorch is another build.

## Start

    make lab

The first time, it creates `.venv/` and installs everything (a few minutes); then, and every time after, it
starts JupyterLab on `notebooks/` in your browser. Stop it with Ctrl+C in the terminal.

## Checks

Each exercise is a function with its signature and docstring already written: replace
`raise NotImplementedError()` with your code and run that cell, then run the check cell after it,
`check(assign_clusters)` for example. It prints `✔ assign_clusters: all 5 visible cases pass.`, or what went
wrong: which case, what was expected against what your function returned, and a hint when the result is a
known mistake. Run the cells in order from the top (Run > Run All Cells): a check tests your function as you
last ran it.

From a terminal, `make check` runs the checks of every notebook as saved (save first): one line per check, then
how many of a notebook's checks pass. Its exit status is 0 only when every check passes. For one notebook:
`.venv/bin/autograde check notebooks/01_kmeans.ipynb`.

The check cells show a few cases; grading uses more, so test your code beyond them.

## Hand in

Save, then hand in the notebooks (`notebooks/01_kmeans.ipynb`, ...) under their original file names, where
your course collects them (an upload to Canvas or Gradescope, or JupyterHub's Assignments tab). Leave the
check cells as they are. Before you hand in, restart the kernel and run all cells (Kernel > Restart Kernel and
Run All Cells), then `make check`.
"""


def release(out):
    """Write the student bundle into out (which must not exist or be empty); return its path."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: choose a new folder for the release")
    copy_student_library(out)
    for script in (out / "img").glob("*.py"):  # make_figures.py draws the figures from solutions/: not for students
        script.unlink()
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        nb = read(path)  # the committed student notebooks: stubs, never solutions
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, out / "notebooks" / path.name)
    for name, target in FILES.items():
        shutil.copy2(ROOT / name, out / target)
    (out / "Makefile").write_text(MAKEFILE)
    (out / "pyproject.toml").write_text(toml(pyproject(out)))
    (out / "README.md").write_text(STUDENT_README)
    return out


def pyproject(out):
    """The bundle's pyproject.toml as data: the packages that the bundle at out holds (every folder with an
    __init__.py), their fixtures and the student's command."""
    packages = sorted(".".join(init.parent.relative_to(out).parts) for init in out.rglob("__init__.py"))
    return {
        "build-system": {"requires": ["setuptools>=61"], "build-backend": "setuptools.build_meta"},
        "project": PROJECT,
        "project.scripts": {"autograde": "autograde.student_cli:main"},
        "tool.setuptools": {"packages": packages},
        "tool.setuptools.package-data": {"autograde": ["fixtures/*.json"]},
    }


def toml(tables):
    """TOML text of {table name: {key: string or list of strings}}."""
    lines = []
    for name, table in tables.items():
        lines += [f"[{name}]", *(f"{key} = {json.dumps(value)}" for key, value in table.items()), ""]
    return "\n".join(lines)
