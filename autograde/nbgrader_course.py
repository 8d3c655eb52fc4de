"""An nbgrader course made from the lessons: ``python -m autograde nbgrader COURSE``.

Writes COURSE/nbgrader_config.py and, for every lesson, COURSE/source/<assignment>/<notebook>,
the assignment being the notebook's name without .ipynb (``01_kmeans``). In these source
notebooks each exercise's reference body sits between ``### BEGIN SOLUTION`` and ``### END
SOLUTION`` (``nbgrader generate_assignment`` turns it back into the stub the students see). Under
``nbgrader autograde`` the check cells defer to the isolated grader (see ``grade_here``), so
nbgrader's points are the grader's points, hidden cases included.
"""

import ast
import csv
import inspect
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat

from autograde.lessons import NOTEBOOKS, exercises
from autograde.notebooks import NOTEBOOK_DIR, function_source, read, role

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
CELL_SECONDS = 240  # nbgrader's limit on one cell (c.Execute.timeout)
GRADER_SECONDS = CELL_SECONDS - 10  # the grader's run in the first check cell ends within that cell's limit
CONFIG = f'''\
"""nbgrader's configuration of the course (written by `python -m autograde nbgrader`)."""

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "clustering-em"
c.ClearSolutions.code_stub = {{"python": {STUB!r}}}
# The feedback students get must not show the hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
]
# The first check cell of a notebook has the isolated grader grade the whole notebook, within its own limits and
# this one; every later check cell reuses that verdict, a failure too.
c.Execute.timeout = {CELL_SECONDS}
'''


def assignment(filename):
    return Path(filename).stem


def with_solution(stub, fn):
    """The stub cell's source with its `# YOUR CODE HERE` lines replaced by the reference body
    (and the imports and private helpers it needs) between nbgrader's solution markers."""
    indented = "\n".join("    " + line for line in STUB.splitlines())
    if indented not in stub:
        raise ValueError(f"the stub of {fn.__name__} has no `{STUB.splitlines()[0]}` block")
    source = function_source(fn)
    start = re.search(rf"^def {fn.__name__}\(", source, flags=re.M).start()
    prelude = re.sub(r"\n{3,}", "\n\n", source[:start].strip())
    own = inspect.getsource(fn)
    node = ast.parse(own).body[0]
    first = node.body[1] if inspect.getdoc(fn) and len(node.body) > 1 else node.body[0]
    body = textwrap.dedent("\n".join(own.splitlines()[first.lineno - 1 :]))
    region = (prelude + "\n\n" + body) if prelude else body
    solution = "    ### BEGIN SOLUTION\n" + textwrap.indent(region.strip(), "    ") + "\n    ### END SOLUTION"
    return stub.replace(indented, solution)


def source_notebook(key):
    """The nbgrader source version of a lesson: the reference between solution markers."""
    nb = read(NOTEBOOK_DIR / NOTEBOOKS[key])
    answers = {ex.name: ex.reference for ex in exercises(key)}
    for cell in nb.cells:
        if role(cell) == "solution":
            cell.source = with_solution(cell.source, answers[cell.metadata["nbgrader"]["grade_id"]])
    return nb


def build(course):
    """Write the course's nbgrader_config.py (unless there is one) and source notebooks."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG)
    paths = [config]
    for key, filename in NOTEBOOKS.items():
        path = course / "source" / assignment(filename) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(key), path)
        paths.append(path)
    return paths


# ------------------------------------------------------------------ in the student's kernel
_graded = {}  # (notebook path, mtime, size) -> {exercise: gradebook row}, or the Verdict that grading failed with


class Verdict(AssertionError):
    """The grader's verdict on an exercise that lost marks. In the notebook (and nbgrader's feedback) it shows as
    its message alone, no traceback into the course's files: IPython renders an exception by its
    _render_traceback_ where it has one."""

    def _render_traceback_(self):
        return str(self).splitlines()


def grade_here(key, exercise):
    """check(fn) under ``nbgrader autograde`` on the instructor's side: the isolated grader grades the
    notebook nbgrader is executing (the file in the working folder) once, on the visible and hidden
    cases, and this raises AssertionError with the grader's feedback unless the exercise got full
    marks (Verdict). The student's kernel judges nothing, so nothing done in it can change the verdict."""
    path = Path.cwd() / NOTEBOOKS[key]
    stat = path.stat()
    ident = (str(path), stat.st_mtime_ns, stat.st_size)
    if ident not in _graded:
        try:
            _graded[ident] = _grade_file(path)
        except Verdict as failure:  # every later check cell of the notebook gets the same verdict, at once
            _graded[ident] = failure
    if isinstance(_graded[ident], Verdict):
        raise Verdict(str(_graded[ident]))
    row = _graded[ident].get(exercise)
    if row is None:
        raise Verdict(f"✘ {exercise}: the grader returned no result for it")
    if float(row["score"]) < float(row["max_score"]):
        raise Verdict(row["feedback"])
    print(row["feedback"])


def _grade_file(path):
    with tempfile.TemporaryDirectory(prefix="autograde-nbgrader-") as tmp:
        out = Path(tmp) / "gradebook.csv"
        command = [sys.executable, "-I", "-m", "autograde", "grade", str(path), "--out", str(out), "--jobs", "1"]
        command += ["--isolation", "kernel"]  # grading for credit: never without the sandbox
        try:
            proc = subprocess.run(command, capture_output=True, text=True, cwd=tmp, timeout=GRADER_SECONDS)
        except subprocess.TimeoutExpired:
            raise Verdict(f"✘ the grader did not finish grading {path.name} within {GRADER_SECONDS} s") from None
        if proc.returncode != 0 or not out.exists():
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1][-300:]  # a traceback's last line
            raise Verdict(f"✘ the grader could not grade {path.name} (exit code {proc.returncode}): {last}")
        with open(out, newline="", encoding="utf-8") as f:
            return {row["exercise"]: row for row in csv.DictReader(f)}
