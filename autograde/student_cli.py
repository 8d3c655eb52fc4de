"""autograde check NOTEBOOK.ipynb ...: the visible checks of saved notebooks, run outside JupyterLab.

The student's command (the course bundle installs it as ``autograde``). It runs what the grader runs of a
notebook (the setup cells, the solution cells and your own cells, in order; not the plots, widgets or
demos), then its check cells, and prints each check's verdict (what the check says, no traceback; what the
cells print or warn is left out), then how many of the notebook's checks pass. `make check` in the bundle runs
it on every notebook. Exit code 0 when every check passes, 1 when one fails, 2 for a file that is no notebook.
"""

import argparse
import contextlib
import io
import os
import re
import sys
import warnings
from pathlib import Path

import nbformat

RUN_ROLES = ("setup", "solution", "student")  # what the grader executes of a submission


def role(cell):
    """setup | solution | check | course (plots, widgets, try-it: not graded) | student | markdown."""
    if cell.get("cell_type") != "code":
        return "markdown"
    meta = cell.get("metadata", {})
    nb = meta.get("nbgrader") or {}
    if not isinstance(nb, dict):
        nb = {}
    if nb.get("solution"):
        return "solution"
    if nb.get("grade"):
        return "check"
    if "setup" in (meta.get("tags") or []):
        return "setup"
    return "course" if nb else "student"


def cell_label(source, count=None):
    """How feedback names a cell, as the student sees it: by its execution count [n] if it has one, and its
    first line."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    number = f" [{count}]" if count is not None else ""
    return f"the cell{number} starting `{first[:40]}`" if first else f"an empty cell{number}"


class _NoIPython:
    """get_ipython() for the cells' %magics (%matplotlib inline): they do nothing here."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _first_line(exc):
    """What an exception says, in one line."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _check_verdict(source, exc, namespace):
    """The one verdict of a check cell that raised exc."""
    if isinstance(exc, AssertionError) and str(exc).strip():  # CheckFailed: the check's own message
        return str(exc).rstrip()
    call = re.fullmatch(r"check\((\w+)\)", source.strip())
    if call and isinstance(exc, NameError) and call[1] not in namespace:
        return (
            f"✘ {call[1]}: not defined. Run its cell without errors (keep the function's name as given), "
            "then run this check again."
        )
    return f"✘ {source.strip()}: {_first_line(exc)}"


def check_notebook(nb):
    """Run the cells of nb that the grader runs, then each check cell, printing one verdict per check (no
    traceback; what the cells print and warn is left out); the number of checks that failed."""
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    namespace = {"__name__": "__main__", "get_ipython": _NoIPython}
    failed = checks = 0
    for index, cell in enumerate(nb.cells):
        kind = role(cell)
        if kind not in (*RUN_ROLES, "check"):
            continue
        quiet = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            try:
                if kind == "check":
                    checks += 1
                    exec(compile(cell.source, f"<cell {index}>", "exec"), namespace)  # prints ✔ when it passes
                else:
                    with contextlib.redirect_stdout(quiet):  # what the cells print is not a verdict
                        exec(compile(transform(cell.source), f"<cell {index}>", "exec"), namespace)
            except (Exception, SystemExit) as exc:
                if kind == "check":
                    failed += 1
                    print(_check_verdict(cell.source, exc, namespace))
                else:
                    print(f"  {cell_label(cell.source, cell.get('execution_count'))} raised {_first_line(exc)}")
    print(f"  {checks - failed} of {checks} checks pass")
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="autograde", description="The course's checks, outside JupyterLab.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="run the visible checks of saved notebooks")
    check.add_argument(
        "notebooks", nargs="+", type=Path, help="notebooks of the course, e.g. notebooks/01_kmeans.ipynb"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # no plot window
    failed = 0
    for path in args.notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
        except (OSError, ValueError) as exc:
            print(f"error: {path} is not a readable notebook ({exc})", file=sys.stderr)
            return 2
        print(path.name)
        failed += check_notebook(nb)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
