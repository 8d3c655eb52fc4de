"""The course's lessons: one module per lesson declares its exercises (see judge.Exercise).

A lesson module autograde/lessons/<key>.py holds, for every exercise, one ``Exercise(...)`` bound to the
exercise's own name: its reference, cases, judge, helpers and mistakes. The grader, the fixtures, the
nbgrader course and the release read these declarations; student_source(key) is the module as students
get it, without what would give answers away.
"""

import ast
import importlib
import re
from pathlib import Path

# lesson key (= module name in solutions/, lessons/, fixtures/) -> notebook
NOTEBOOKS = {
    "kmeans": "01_kmeans.ipynb",
    "em_1d": "02_em_1d.ipynb",
    "gmm": "03_gmm.ipynb",
    "general_em": "04_general_em.ipynb",
    "vae": "05_vae.ipynb",
}
INSTRUCTOR_ONLY = {"Exercise": ("reference", "hidden", "alternatives"), "Mistake": ("wrong",)}  # keywords cut


def lesson(key):
    """The lesson module autograde.lessons.<key>."""
    return importlib.import_module(f"autograde.lessons.{key}")


def exercises(key):
    """The exercises of a lesson, in the order the module declares them (the notebook's order)."""
    from autograde.judge import Exercise

    found = []
    for var, value in vars(lesson(key)).items():
        if isinstance(value, Exercise):
            if var != value.name:
                raise ValueError(f"autograde/lessons/{key}.py: the exercise {value.name} is bound to {var}")
            value.lesson = key
            found.append(value)
    return found


def find_exercise(name):
    """(lesson key, Exercise) of the exercise called name; KeyError with the known names if none."""
    for key in NOTEBOOKS:
        for exercise in exercises(key):
            if exercise.name == name:
                return key, exercise
    known = ", ".join(e.name for key in NOTEBOOKS for e in exercises(key))
    raise KeyError(f"no exercise is called {name!r}; the exercises are: {known}")


def student_source(key):
    """The source of autograde/lessons/<key>.py as it goes to students: the keywords of INSTRUCTOR_ONLY cut
    from every Exercise(...) and Mistake(...), then every top-level import, function and assignment that
    nothing left uses (the references, hidden cases' data, mistaken and alternative implementations)."""
    source = (Path(__file__).parent / f"{key}.py").read_text()
    lines, offsets = source.splitlines(keepends=True), _offsets(source)

    def at(lineno, col):  # ast's columns count UTF-8 bytes
        return offsets[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    cuts = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in INSTRUCTOR_ONLY:
            for kw in node.keywords:
                if kw.arg in INSTRUCTOR_ONLY[node.func.id]:
                    start, end = at(kw.lineno, kw.col_offset), at(kw.end_lineno, kw.end_col_offset)
                    end += len(re.match(r"\s*,?", source[end:]).group())
                    cuts.append((start, end))
    text = _cut(source, cuts)
    while True:  # drop what nothing else uses any more, until nothing changes
        tree, offsets = ast.parse(text), _offsets(text)
        loads = [_loaded(stmt) for stmt in tree.body]
        cuts = [
            (offsets[_first_line(stmt) - 1], offsets[stmt.end_lineno])
            for i, stmt in enumerate(tree.body)
            if _bound(stmt) and not _bound(stmt) & set().union(*loads[:i], *loads[i + 1 :])
        ]
        if not cuts:
            return re.sub(r"\n{4,}", "\n\n\n", text)
        text = _cut(text, cuts)


def _offsets(text):
    """Where each line of text starts (and, last, its length)."""
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def _loaded(stmt):
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _cut(text, spans):
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return text


def _first_line(stmt):
    return min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])


def _bound(stmt):
    """The names a top-level import, def or assignment binds (empty for anything else: kept)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        # an exercise stays whether or not anything refers to it
        if isinstance(stmt.value, ast.Call) and getattr(stmt.value.func, "id", None) == "Exercise":
            return set()
        return names
    return set()
