"""The lesson notebooks: structure and nbgrader metadata, fixtures in step with solutions/,
the solved version runs with every check passing, the student version's checks ask for code."""

import ast
import contextlib
import inspect
import io
import os
import runpy
import warnings

import nbformat
import pytest
from nbclient import NotebookClient

from autograde import fixtures
from autograde.lessons import NOTEBOOKS, exercises
from autograde.notebooks import NOTEBOOK_DIR, function_source, output_text, role, solve, with_metadata

LESSONS = sorted(NOTEBOOKS)


def student(key):
    return nbformat.read(NOTEBOOK_DIR / NOTEBOOKS[key], as_version=4)


KERNEL_ENV = {
    "FAST": "1",  # heavy cells run small
    "OPENBLAS_NUM_THREADS": "1",  # small matrices: threads only contend on a shared machine
    "OMP_NUM_THREADS": "1",  # torch's threads too
}


def execute(nb, allow_errors=False):
    """Run nb in a fresh kernel whose environment is this one with KERNEL_ENV (this one is left as it is)."""
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    ).execute(env={**os.environ, **KERNEL_ENV})
    return nb


def test_execute_sets_the_kernel_environment_and_leaves_this_one_alone():
    before = dict(os.environ)
    keys = sorted(KERNEL_ENV)
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(f"import os; print([os.environ.get(k) for k in {keys}])")]
    )
    execute(nb)
    assert output_text(nb.cells[0]).strip() == str([KERNEL_ENV[k] for k in keys])
    assert dict(os.environ) == before


@pytest.mark.parametrize("key", LESSONS)
def test_committed_notebook_is_valid_and_clean(key):
    nb = student(key)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "commit notebooks with outputs cleared"


def code_lines(source):
    """The lines of a cell that are not its functions' docstrings (the stub shows the same docstrings)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and ast.get_docstring(node) is not None:
            docstrings |= set(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    return [line for number, line in enumerate(source.splitlines(), 1) if number not in docstrings]


def test_code_lines_leave_out_docstrings_only():
    source = 'import numpy as np\n\n\ndef f(x):\n    """Twice x.\n\n    More.\n    """\n    return 2 * x  # """\n'
    assert code_lines(source) == ["import numpy as np", "", "", "def f(x):", '    return 2 * x  # """']


@pytest.mark.parametrize("key", LESSONS)
def test_every_solved_cell_is_at_most_40_lines_of_code(key):
    """The answer key reads like the lesson: each exercise's solved cell, imports and helpers included."""
    solved = solve(nbformat.read(NOTEBOOK_DIR / NOTEBOOKS[key], as_version=4), key)
    lengths = {
        cell.metadata["nbgrader"]["grade_id"]: len(code_lines(cell.source))
        for cell in solved.cells
        if role(cell) == "solution"
    }
    assert set(lengths) == {exercise.name for exercise in exercises(key)}
    assert max(lengths.values()) <= 40, lengths


@pytest.mark.parametrize("key", LESSONS)
def test_exercises_match_solutions_and_autograde(key):
    """The notebook agrees with the lesson's declarations: every stub has its exercise's name and its reference's
    signature, in the declared order, and a check cell with the declared points."""
    declared = {ex.name: ex for ex in exercises(key)}
    nb = student(key)
    stubs = [c for c in nb.cells if role(c) == "solution"]
    checks = [c for c in nb.cells if role(c) == "check"]
    assert [c.metadata.nbgrader.grade_id for c in stubs] == list(declared)
    for cell in stubs:
        name = cell.metadata.nbgrader.grade_id
        ns = {}
        exec(cell.source, ns)  # a stub defines exactly its function
        assert inspect.signature(ns[name]) == inspect.signature(declared[name].reference)
        assert "raise NotImplementedError()" in cell.source
    for cell in checks:
        name = cell.source.strip().removeprefix("check(").removesuffix(")")
        assert cell.source.strip() == f"check({name})"
        assert cell.metadata.nbgrader.points == declared[name].points
        assert cell.metadata.nbgrader.locked
    assert sorted(c.source.strip() for c in checks) == sorted(f"check({n})" for n in declared)
    ids = [c.metadata.nbgrader.grade_id for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "nbgrader grade_ids must be unique"
    assert any(role(c) == "setup" for c in nb.cells)


def test_fixtures_are_in_step_with_solutions():
    assert fixtures.stale() == {}, "run `make fixtures` (python -m autograde fixtures) and commit the result"


# the mistake each lesson runs with in the "mistake" state: early in the lesson, so that the demos after it see it
MISTAKE_STATE = {
    "kmeans": ("assign_clusters", "argmax"),
    "em_1d": ("e_step_1d", "variance_as_scale"),
    "gmm": ("m_step", "cov_over_n"),
    "general_em": ("gmm_e_step", "no_weights"),
    "vae": ("kl_divergence", "kl_sign"),
}


def in_state(key, state):
    """The lesson's notebook as a student has it: "stub" (as handed out), "mistake" (solved but for the lesson's
    MISTAKE_STATE) or "solved"."""
    if state == "stub":
        return student(key)
    if state == "solved":
        return solve(student(key), key)
    name, mid = MISTAKE_STATE[key]
    wrong = next(ex for ex in exercises(key) if ex.name == name).mistakes[mid].wrong
    return solve(student(key), key, {name: function_source(wrong, name)})


@pytest.mark.slow
@pytest.mark.parametrize("state", ["stub", "mistake"])
@pytest.mark.parametrize("key", LESSONS)
def test_every_notebook_runs_top_to_bottom(key, state):
    """Run All, as a student's JupyterLab runs it: no cell raises (a kernel stops at the first error), the last
    cell runs, and each check cell says what it found in a line or a box. The third state, solved, runs in the
    student's bundle (tests/test_release_install.py::test_solved_notebooks_run_top_to_bottom_in_the_student_
    environment), every check passing."""
    nb = execute(in_state(key, state))
    assert nb.cells[-1].cell_type == "markdown" or nb.cells[-1].execution_count is not None
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code"), "a cell did not run"
    for cell in (c for c in nb.cells if role(c) == "check"):
        name, out = cell.metadata.nbgrader.grade_id.removeprefix("check_"), output_text(cell)
        assert "Traceback" not in out and "autograde/" not in out, out
        if state == "stub":
            assert f"✘ {name}: not implemented yet" in out, out
        elif state == "solved" or name != MISTAKE_STATE[key][0]:
            assert f"✔ {name}: all" in out or "not checked yet: it calls" in out, out
        else:
            ex = next(e for e in exercises(key) if e.name == name)
            assert f"Mistake: {ex.mistakes[MISTAKE_STATE[key][1]].title}." in out, out


@pytest.mark.parametrize("key", LESSONS)
def test_the_notebooks_nbgrader_metadata_is_derived_from_the_declarations(key):
    nb = student(key)
    assert with_metadata(nb, key) == nb, "run `make fixtures` to write the declared metadata"


def test_new_cells_get_their_metadata_and_check_cells_the_declared_points():
    nb = student("kmeans")
    stub = next(c for c in nb.cells if role(c) == "solution" and c.metadata.nbgrader.grade_id == "update_centroids")
    check_cell = next(c for c in nb.cells if c.source.strip() == "check(update_centroids)")
    text = next(c for c in nb.cells if c.cell_type == "markdown")
    for cell in (stub, text):
        del cell.metadata["nbgrader"]
    check_cell.metadata.nbgrader.points = 99
    derived = with_metadata(nb, "kmeans")
    by_id = {c.metadata.nbgrader.grade_id: c for c in derived.cells}
    assert (
        by_id["update_centroids"].metadata.nbgrader.solution and not by_id["update_centroids"].metadata.nbgrader.locked
    )
    assert by_id["check_update_centroids"].metadata.nbgrader.points == 2
    ids = [c.metadata.nbgrader.grade_id for c in derived.cells]
    assert len(ids) == len(set(ids)) and "md_1" in ids


def test_the_lessons_figures_are_embedded_as_drawn():
    """Markdown figures travel inside the notebooks (cell attachments), as img/make_figures.py draws them: they show
    whatever folder JupyterLab was started in, and in nbgrader's copies."""
    figures = runpy.run_path(str(NOTEBOOK_DIR.parent / "img" / "make_figures.py"))
    assert figures["stale"]() == [], "run `python img/make_figures.py` to embed the figures again"
    for key in LESSONS:
        for cell in student(key).cells:
            assert "../img/" not in cell.source, "a relative link to img/ breaks when notebooks/ is the server's root"


def try_cells(key):
    """{exercise name: the source of its "try it" cell}, the first course cell after the exercise's stub."""
    cells, current = {}, None
    for cell in student(key).cells:
        if role(cell) == "solution":
            current = cell.metadata["nbgrader"]["grade_id"]
        elif current and cell.cell_type == "code" and cell.get("id", "").startswith("try"):
            cells.setdefault(current, cell.source)
    return cells


def printed(source, namespace):
    """What the cell prints, run in namespace (line magics dropped: the kernel's display settings)."""
    code = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a mistake's NaN: the printed values say it
        exec(compile(code, "<cell>", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("key", LESSONS)
def test_each_try_it_cell_prints_something_else_under_each_of_its_exercises_mistakes(key, monkeypatch):
    """A student who makes a catalogued mistake sees it in the try-it cell: its printed expectations differ."""
    monkeypatch.setenv("FAST", "1")
    namespace = {}
    setup = next(cell for cell in student(key).cells if role(cell) == "setup")
    printed(setup.source, namespace)
    for exercise in exercises(key):
        printed(function_source(exercise.reference), namespace)
    cells = try_cells(key)
    assert set(cells) == {exercise.name for exercise in exercises(key)}
    for exercise in exercises(key):  # in the notebook's order: a try-it cell may use what an earlier one made
        before = dict(namespace)
        expected = printed(cells[exercise.name], namespace)
        assert not any(sign in expected for sign in "⏹⏸✘"), expected  # the reference runs the cell through
        assert expected == printed(cells[exercise.name], dict(before))  # and prints the same each time
        for mistake in exercise.mistakes.values():
            got = printed(cells[exercise.name], dict(before, **{exercise.name: mistake.wrong}))
            assert got != expected, f"{exercise.name}: the try-it cell prints the same under {mistake.id}"
