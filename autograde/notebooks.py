"""The course notebooks as the grader sees them: which cells run, and the solved versions."""

import ast
import functools
import importlib
import inspect
import json
import os
import re
import stat
from pathlib import Path

import nbformat

from autograde.lessons import NOTEBOOKS, exercises
from autograde.student_cli import RUN_ROLES, role  # the bundle's command runs what the grader runs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
MAX_BYTES = 20 << 20  # the largest submitted notebook the grader reads


class Refused(ValueError):
    """A submitted file the grader does not read (the reason is the message)."""


def _untrusted_text(path, root):
    """The text of a submitted file: a regular file below root reached through no symbolic link, opened
    without blocking (a FIFO cannot hold the grader), at most MAX_BYTES."""
    path, root = Path(path), Path(root)
    for part in [path, *path.parents]:
        if part == root or root not in part.parents:
            break
        if part.is_symlink():
            raise Refused(f"{part.relative_to(root)} is a symbolic link, not a file handed in: not graded")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        data = f.read(MAX_BYTES + 1)  # never more than the cap, even of a file that grows meanwhile
    if len(data) > MAX_BYTES:
        raise Refused(f"larger than {MAX_BYTES >> 20} MB, the most the grader reads of a notebook")
    return data.decode("utf-8", errors="replace")


def read(path, root=None):
    """Read and validate a notebook; ValueError with the reason, in a plain sentence, if it is not one.
    With root, path is a submission: untrusted bytes (see _untrusted_text)."""
    text = Path(path).read_text(encoding="utf-8") if root is None else _untrusted_text(path, root)
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception:  # JSON errors, wrong nbformat, nesting too deep, invalid cells
        raise ValueError(f"the file is not a Jupyter notebook that can be read ({_unreadable(text)})") from None
    return nb


def _unreadable(text):
    """Why text is no notebook, for a student: a few plain reasons rather than nbformat's messages."""
    if not text.strip():
        return "it is empty"
    try:
        doc = json.loads(text)
    except RecursionError:
        return "it is nested too deeply to read"
    except ValueError:
        return "it is not valid JSON"
    if not isinstance(doc, dict) or not {"cells", "worksheets"} & doc.keys():
        return "it is JSON, but holds no notebook cells"
    if not isinstance(doc.get("cells", []), list):
        return "its cells are not a list"
    if doc.get("nbformat") not in (1, 2, 3, 4):
        return f"its nbformat version is {json.dumps(doc.get('nbformat'))[:20]}, not 4"
    return "a cell or the metadata is not in the notebook format"


def graded_cells(nb):
    """[(index, source)] of the cells the grader runs, in notebook order."""
    return [(i, cell.source) for i, cell in enumerate(nb.cells) if role(cell) in RUN_ROLES]


def definitions(cells, names):
    """{name: [index, ...]}: the cells [(index, source)] whose top level has `def name`, for each of names.
    Read, never run; a cell that does not parse defines nothing here (running it reports its error)."""
    from IPython.core.inputtransformer2 import TransformerManager  # %magics, as the runner reads them

    transform = TransformerManager().transform_cell
    found = {name: [] for name in names}
    for index, source in cells:
        try:
            body = ast.parse(transform(source)).body
        except Exception:  # SyntaxError, nesting too deep, ...
            continue
        defined = {node.name for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for name in defined & found.keys():
            found[name].append(index)
    return found


@functools.cache
def stubs(key):
    """{exercise: source of its stub cell} in the lesson's notebook as handed out."""
    nb = read(NOTEBOOK_DIR / NOTEBOOKS[key])
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in nb.cells if role(cell) == "solution"}


# ------------------------------------------------------------------ nbgrader metadata from the declarations
def _nbgrader(grade_id, solution=False, points=None):
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution}
    return (
        meta
        | ({"points": points} if points is not None else {})
        | {
            "schema_version": 3,
            "solution": solution,
            "task": False,
        }
    )


def with_metadata(nb, key):
    """A copy of the lesson's notebook nb with its nbgrader metadata derived from the declarations: `check(name)`
    is a locked test cell with the exercise's points, the cell that defines a declared exercise's stub is its
    solution cell (grade_id = the name), and every other cell without nbgrader metadata a locked cell of the
    course (grade_id md_<n> or cell_<n>). The setup cell is tagged by hand."""
    nb = nbformat.from_dict(nb)
    declared = {ex.name: ex for ex in exercises(key)}
    taken = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}
    for cell in nb.cells:
        source = cell.source.strip()
        called = re.fullmatch(r"check\((\w+)\)", source)
        defined = re.match(r"def (\w+)\(", source) if cell.cell_type == "code" else None
        if called and called[1] in declared:
            cell.metadata["nbgrader"] = _nbgrader(f"check_{called[1]}", points=declared[called[1]].points)
        elif defined and defined[1] in declared and "raise NotImplementedError()" in source:
            cell.metadata["nbgrader"] = _nbgrader(defined[1], solution=True)
        elif "nbgrader" not in cell.metadata:
            prefix = "md" if cell.cell_type == "markdown" else "cell"
            grade_id = next(
                f"{prefix}_{n}" for n in range(1, len(nb.cells) + len(taken) + 2) if f"{prefix}_{n}" not in taken
            )
            taken.add(grade_id)
            cell.metadata["nbgrader"] = _nbgrader(grade_id)
    return nb


def sync_metadata():
    """Write the derived nbgrader metadata into every lesson notebook that lacks it; return the notebooks written."""
    written = []
    for key, filename in NOTEBOOKS.items():
        path = NOTEBOOK_DIR / filename
        nb = read(path)
        synced = with_metadata(nb, key)
        if synced != nb:
            nbformat.write(synced, path)
            written.append(path)
    return written


# ------------------------------------------------------------------ solved notebooks
def _names_used(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names_used(const)
    return names


def function_source(fn, name=None):
    """Source that defines fn in a notebook: the imports, module constants and private helpers it uses, then fn.

    Other exercises' functions are not included: in a notebook they are the student's own.
    With name, the def is renamed (a mistaken implementation `kmeans__one_step` becomes `kmeans`).
    """
    module = importlib.import_module(fn.__module__)
    tree = ast.parse(inspect.getsource(module))
    imports = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
            isinstance(node, ast.ImportFrom) and (node.module or "").startswith("solutions")
        ):
            for alias in node.names:
                imports[(alias.asname or alias.name).split(".")[0]] = ast.get_source_segment(
                    inspect.getsource(module), node
                )
    helpers, order, todo = {}, [], [fn]
    while todo:
        f = todo.pop()
        for used in sorted(_names_used(f.__code__)):
            obj = getattr(module, used, None)
            if (
                used.startswith("_")
                and inspect.isfunction(obj)
                and obj.__module__ == module.__name__
                and used not in helpers
            ):
                helpers[used] = obj
                order.append(obj)
                todo.append(obj)
    used = set().union(*(_names_used(f.__code__) for f in [fn, *order]))
    constants = []  # module-level assignments (LOG_SQRT_2PI = ...) that the functions read, in module order
    for node in tree.body:
        if not isinstance(node, ast.Assign) or getattr(getattr(node.value, "func", None), "id", "") == "Exercise":
            continue  # an Exercise of a lesson module: in a notebook, that name is the student's own function
        if any(isinstance(t, ast.Name) and t.id in used for t in node.targets):
            constants.append(ast.get_source_segment(inspect.getsource(module), node))
            used |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
    parts = list(dict.fromkeys(imports[n] for n in imports if n in used))  # in the module's order
    body = [inspect.getsource(f) for f in reversed(order)] + [inspect.getsource(fn)]
    header = "\n\n".join(block for block in ("\n".join(parts), "\n".join(constants)) if block)
    source = header + ("\n\n\n" if header else "") + "\n\n".join(body)
    if name:
        source = re.sub(rf"^def {re.escape(fn.__code__.co_name)}\(", f"def {name}(", source, flags=re.M)
    return source.rstrip() + "\n"


def solve(nb, key, replace=None):
    """A copy of nb with every solution cell replaced by the reference (or by replace[name])."""
    nb = nbformat.from_dict(nb)
    answers = {ex.name: ex.reference for ex in exercises(key)}
    for cell in nb.cells:
        if role(cell) == "solution":
            name = cell.metadata["nbgrader"]["grade_id"]
            cell.source = (replace or {}).get(name) or function_source(answers[name])
    return nb


def write_solved(out):
    """Write the solved notebook of every lesson into out; return the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, filename in NOTEBOOKS.items():
        path = out / filename
        nbformat.write(solve(read(NOTEBOOK_DIR / filename), key), path)
        paths.append(path)
    return paths


def output_text(cell):
    """What an executed code cell shows as text: its streams, and each error's traceback and message."""
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", "") if o.output_type == "stream" else "\n".join(o.get("traceback", [])))
        if o.output_type == "error":
            out.append(f"{o.ename}: {o.evalue}")
    return "\n".join(out)


# ------------------------------------------------------------------ submissions (for testing the grader)
def lesson_notebook(key="kmeans"):
    """The lesson's notebook as handed out: the stubs."""
    return read(NOTEBOOK_DIR / NOTEBOOKS[key])


def solved(key="kmeans", replace=None):
    """The lesson's notebook with the reference in every solution cell (or replace[name])."""
    return solve(lesson_notebook(key), key, replace)


def add_cell(nb, source, before_solutions=False):
    """Add a cell of the student's own (no nbgrader metadata) at the end or before the first exercise."""
    cell = nbformat.v4.new_code_cell(source)
    at = next(i for i, c in enumerate(nb.cells) if role(c) == "solution") if before_solutions else len(nb.cells)
    nb.cells.insert(at, cell)
    return nb


def mistaken_sources(key="kmeans"):
    """{(exercise, mistake id): the mistaken implementation's source, under the exercise's name}."""
    return {(ex.name, m.id): function_source(m.wrong, ex.name) for ex in exercises(key) for m in ex.mistakes.values()}


def alternative_sources(key="kmeans"):
    """{exercise: the source of its first alternative (correct, written differently)} for the exercises with one."""
    return {ex.name: function_source(ex.alternatives[0], ex.name) for ex in exercises(key) if ex.alternatives}
