"""python -m autograde release OUT: the student bundle, with no answer anywhere in it."""

import json
import shutil
from pathlib import Path

import nbformat

from autograde.notebooks import NOTEBOOK_DIR, ROOT, read
from autograde.sandbox import copy_student_library

FILES = ["environment.yaml", "requirements.txt"]
PROJECT = {  # the course's version (pyproject.toml); what the notebooks and the student's command import
    "name": "em-course-student",
    "version": "0.1.0",
    "description": "An open course on clustering and the EM algorithm: the notebooks, their checks and helpers",
    "readme": "README.md",
    "requires-python": ">=3.10",
    "dependencies": ["numpy", "scipy", "matplotlib", "ipywidgets", "ipython", "nbformat", "tqdm"],
}
STUDENT_README = """# Clustering and the EM algorithm: student bundle

Open the notebooks in `notebooks/` in order. Each exercise has a stub to fill in and a check cell
(`check(function_name)`) that tells you what is right and what is not.

Set up once, then start JupyterLab:

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/pip install --no-deps -e .
    .venv/bin/jupyter lab notebooks/

or with conda: `conda env create -f environment.yaml`, then `jupyter lab notebooks/`.
From a terminal, `autograde check notebooks/01_kmeans.ipynb` runs the checks of a saved notebook.
Hand in the notebooks under their original file names.
"""


def release(out):
    """Write the student bundle into out (which must not exist or be empty); return its path."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: choose a new folder for the release")
    copy_student_library(out)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        nb = read(path)  # the committed student notebooks: stubs, never solutions
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, out / "notebooks" / path.name)
    for name in FILES:
        shutil.copy2(ROOT / name, out / name)
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
