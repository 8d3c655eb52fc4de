"""python -m autograde release OUT: the student bundle, with no answer anywhere in it."""

import shutil
from pathlib import Path

import nbformat

from autograde.notebooks import NOTEBOOK_DIR, ROOT, read
from autograde.sandbox import copy_student_library

FILES = ["environment.yaml", "requirements.txt", "pyproject.toml"]
STUDENT_README = """# Clustering and the EM algorithm: student bundle

Open the notebooks in `notebooks/` in order. Each exercise has a stub to fill in and a check cell
(`check(function_name)`) that tells you what is right and what is not.

Set up once, then start JupyterLab:

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/pip install --no-deps -e .
    .venv/bin/jupyter lab notebooks/

or with conda: `conda env create -f environment.yaml`, then `jupyter lab notebooks/`.
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
    text = (ROOT / "pyproject.toml").read_text()
    # the bundle installs only what it holds
    (out / "pyproject.toml").write_text(
        text.replace(
            '"helpers", "solutions", "autograde", "autograde.lessons", "autograde.hidden", "autograde.mistakes"',
            '"helpers", "autograde", "autograde.lessons"',
        )
    )
    (out / "README.md").write_text(STUDENT_README)
    return out
