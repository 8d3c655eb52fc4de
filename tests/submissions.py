"""Submissions for the grader tests: the lesson notebook solved, with some cells replaced or added."""

import importlib
from pathlib import Path

import nbformat

from autograde.lessons import NOTEBOOKS, lesson
from autograde.notebooks import NOTEBOOK_DIR, function_source, role, solve


def student_notebook(key="kmeans"):
    return nbformat.read(NOTEBOOK_DIR / NOTEBOOKS[key], as_version=4)


def solved(key="kmeans", replace=None):
    """The lesson's notebook with the reference in every solution cell (or replace[name])."""
    return solve(student_notebook(key), key, replace)


def add_cell(nb, source, before_solutions=False):
    """Add a cell of the student's own (no nbgrader metadata) at the end or before the first exercise."""
    cell = nbformat.v4.new_code_cell(source)
    at = next(i for i, c in enumerate(nb.cells) if role(c) == "solution") if before_solutions else len(nb.cells)
    nb.cells.insert(at, cell)
    return nb


def mistaken_sources(key="kmeans"):
    """{(exercise, mistake id): source of the mistaken implementation under the exercise's name}."""
    module = importlib.import_module(f"autograde.mistakes.{key}")
    return {
        (ex.name, mid): function_source(getattr(module, f"{ex.name}__{mid}"), ex.name)
        for ex in lesson(key).EXERCISES
        for mid in ex.mistakes
    }


def processes_of(library):
    """Processes still running from a grading run's library (the sandbox and whatever it forked)."""
    alive = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(library).encode() in (proc / "cmdline").read_bytes():
                alive.append(proc.name)
        except OSError:  # it ended meanwhile
            pass
    return alive
