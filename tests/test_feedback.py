"""What feedback tells a student: a hidden case by --hidden-feedback (never its inputs, values or how many there
are, unless full), a visible case in full, which cell was graded, why a notebook could not be read, and under
nbgrader no traceback into the course's files."""

import csv
import math
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograde import check, fixtures, grade, nbgrader_course, notebooks, sandbox
from autograde.judge import Case, Failure, explain
from autograde.lessons import NOTEBOOKS, exercises
from autograde.notebooks import add_cell, function_source, lesson_notebook, solved

ROOT = Path(__file__).resolve().parent.parent
LIMITS = sandbox.Limits(cell_seconds=10, exercise_seconds=20, notebook_seconds=120)
# lesson -> (exercise, a mistake matched by its output): a submission makes it on inputs larger than any visible
# case's, and so passes the notebook's check and fails a hidden case
HIDDEN_ONLY = {
    "kmeans": ("compute_distortion", "mean_distortion"),
    "em_1d": ("log_likelihood_1d", "sum_of_logs"),
    "vae": ("kl_divergence", "kl_sum_batch"),
}
WRONG_ASSIGN = "import numpy as np\n\ndef assign_clusters(X, centroids):\n    return np.zeros(len(X), dtype=int)\n"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def exercise(key, name):
    return next(ex for ex in exercises(key) if ex.name == name)


def hidden_cases(key, name):
    return exercise(key, name).hidden


def hidden_only(key):
    """Source of a function that is the reference on inputs no larger than the visible cases' and the mistake
    on larger ones."""
    name, mistake = HIDDEN_ONLY[key]
    first = next(iter(exercise(key, name).visible[0].calls[0]))  # the first argument's name
    largest = max(math.prod(np.shape(call[first])) for case in exercise(key, name).visible for call in case.calls)
    right = function_source(exercise(key, name).reference, "_right")
    wrong = function_source(exercise(key, name).mistakes[mistake].wrong, "_wrong")
    return (
        f"import math\n\nimport numpy as np\n\n{right}\n\n{wrong}\n\n"
        f"def {name}(*args, **kwargs):\n"
        f"    first = args[0] if args else kwargs[{first!r}]\n"
        f"    return (_wrong if math.prod(np.shape(first)) > {largest} else _right)(*args, **kwargs)\n"
    )


def numbers_in(value):
    """Every number in a case's inputs or outputs (arrays' entries and shapes, torch arguments', dicts' values)."""
    if isinstance(value, np.ndarray):
        return [*value.ravel().tolist(), *value.shape]
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in numbers_in(v)]
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return [value]
    return numbers_in(vars(value)) if hasattr(value, "__dict__") else []


def hidden_numbers(key):
    """The numbers of the hidden cases of the lesson's HIDDEN_ONLY exercise, written as feedback writes them
    (judge.fmt), but for 0 to the course's points, which scores use: inputs, expected outputs, the mistake's outputs."""
    ex = exercise(key, HIDDEN_ONLY[key][0])
    found = set()
    for case, expected, mistakes in fixtures.expected_outputs(ex, ex.hidden):
        found |= {f"{float(n):.6g}" for n in numbers_in([case.calls, expected, mistakes])}
    points = sum(e.points for lesson in NOTEBOOKS for e in exercises(lesson))  # a student's total at most
    return found - {str(n) for n in range(points + 1)}


def leaks(text, key):
    """What of the lesson's hidden cases text shows: their labels, their numbers, counts of cases."""
    labels = [c.label for ex in exercises(key) for c in ex.hidden]
    numbers = {f"{float(n):.6g}" for n in NUMBER.findall(text)} & hidden_numbers(key)
    counts = re.findall(r"\d+ (?:visible |hidden )?cases|hidden case \d+", text)
    return [label for label in labels if label in text] + sorted(numbers) + counts


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{mode: (gradebook rows {(notebook, exercise): row}, the student's .md, the terminal's output)}: one
    student's notebooks graded by the CLI under each --hidden-feedback, HIDDEN_ONLY's exercise wrong on larger
    inputs only, and in 01_kmeans also assign_clusters wrong on the visible cases."""
    klass = tmp_path_factory.mktemp("class")
    for key in HIDDEN_ONLY:
        replace = {HIDDEN_ONLY[key][0]: hidden_only(key)} | (
            {"assign_clusters": WRONG_ASSIGN} if key == "kmeans" else {}
        )
        path = klass / "ann" / NOTEBOOKS[key]
        path.parent.mkdir(exist_ok=True)
        nbformat.write(solved(key, replace=replace), path)

    def run(mode):
        out = klass.parent / f"out-{mode}" / "gradebook.csv"
        command = [sys.executable, "-m", "autograde", "grade", str(klass), "--out", str(out), "--jobs", "1"]
        proc = subprocess.run(
            [*command, "--hidden-feedback", mode], capture_output=True, text=True, cwd=ROOT, timeout=600
        )
        assert proc.returncode == 0, proc.stderr
        with open(out, newline="", encoding="utf-8") as f:
            rows = {(r["notebook"], r["exercise"]): r for r in csv.DictReader(f)}
        return rows, (out.parent / "feedback" / "ann.md").read_text(), proc.stdout

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(("kind", "none", "full"), pool.map(run, ("kind", "none", "full"))))


@pytest.mark.parametrize("key", sorted(HIDDEN_ONLY))
@pytest.mark.parametrize("mode", ["kind", "none"])
def test_a_hidden_case_shows_no_label_value_or_count(graded, mode, key):
    rows, md, _ = graded[mode]
    name, mid = HIDDEN_ONLY[key]
    mistake = exercise(key, name).mistakes[mid]
    row = rows[NOTEBOOKS[key], name]
    assert row["score"] == "0"
    if mode == "kind":
        assert row["feedback"].startswith(f"✘ {name}: the visible cases pass, but a hidden case failed: ")
        assert row["feedback"].endswith(f". Mistake: {mistake.title}. Hint: {mistake.hint}")
        kind = row["feedback"].split("failed: ", 1)[1].split(". Mistake:")[0]
        assert kind in {c.kind for c in hidden_cases(key, name)}
    else:
        assert row["feedback"] == f"✘ {name}: a hidden case failed."
    # the only numbers in it are the catalogue's (the hint's, the exercise's name)
    assert set(NUMBER.findall(row["feedback"])) <= set(NUMBER.findall(name + mistake.title + mistake.hint))
    csv_text = "\n".join(r["feedback"] for r in rows.values())
    assert leaks(csv_text, key) == []
    assert leaks(md, key) == []
    passed = [r for (filename, ex), r in rows.items() if filename == NOTEBOOKS[key] and r["score"] == r["max_score"]]
    assert len(passed) == len(exercises(key)) - (2 if key == "kmeans" else 1)
    assert {r["feedback"] for r in passed} == {"✔ all visible and hidden cases pass."}


@pytest.mark.parametrize("key", sorted(HIDDEN_ONLY))
def test_full_hidden_feedback_shows_the_detail(graded, key):
    rows, md, _ = graded["full"]
    name, mid = HIDDEN_ONLY[key]
    cases = hidden_cases(key, name)
    feedback = rows[NOTEBOOKS[key], name]["feedback"]
    assert re.match(rf"✘ {name}: hidden case \d of {len(cases)} \(", feedback)
    assert any(f"({c.label}): " in feedback for c in cases)
    assert f"Mistake: {exercise(key, name).mistakes[mid].title}." in feedback
    assert leaks(feedback, key) and feedback.replace("|", "/") in md  # a table cell holds no |
    ex = next(e for e in exercises(key) if e.name != name and e.name != "assign_clusters")
    visible, hidden = len(ex.visible), len(hidden_cases(key, ex.name))
    assert rows[NOTEBOOKS[key], ex.name]["feedback"] == f"✔ all {visible} visible and {hidden} hidden cases pass."


@pytest.mark.parametrize("mode", ["kind", "none", "full"])
def test_a_visible_case_is_shown_in_full_numbered_as_in_the_notebook(graded, mode):
    rows, md, _ = graded[mode]
    namespace = {}
    exec(WRONG_ASSIGN, namespace)
    with pytest.raises(AssertionError) as err:  # what the check cell says of it
        check(namespace["assign_clusters"])
    feedback = rows["01_kmeans.ipynb", "assign_clusters"]["feedback"]
    assert feedback == str(err.value).replace("\n  ", " ")
    visible = len(exercise("kmeans", "assign_clusters").visible)
    assert feedback.startswith(f"✘ assign_clusters: case 1 of {visible} (four points, two centroids): labels[")
    assert feedback.replace("|", "/") in md


def test_the_class_summary_counts_mistakes_that_the_feedback_does_not_name(graded):
    rows, _, stdout = graded["none"]
    assert not [r for r in rows.values() if "Mistake:" in r["feedback"]]
    for key, (name, mid) in HIDDEN_ONLY.items():
        line = next(line for line in stdout.splitlines() if line.startswith(f"{NOTEBOOKS[key]:<18} {name} "))
        assert line.endswith(f"{exercise(key, name).mistakes[mid].title} (1)")


def test_summary_counts_the_mistake_field_and_a_gradebook_carries_it_only_in_its_mistake_column():
    results = [
        grade.Result(
            "a", "01_kmeans.ipynb", "assign_clusters", 0, 2, "✘ assign_clusters: a hidden case failed.", "argmax"
        ),
        grade.Result("b", "01_kmeans.ipynb", "assign_clusters", 2, 2, "✔ all visible and hidden cases pass."),
    ]
    counted = ["1.00", "50%", "argmax", "instead", "of", "argmin", "(1)"]
    assert grade.summary(results).splitlines()[1].split()[2:] == counted
    with_column = [r.row([*grade.COLUMNS, grade.MISTAKE]) for r in results]
    assert [r["mistake"] for r in with_column] == ["argmax", ""]
    assert grade.summary(map(grade.Result.from_row, with_column)).splitlines()[1].split()[2:] == counted
    rows = [r.row() for r in results]  # the six columns of the specification
    assert list(rows[0]) == grade.COLUMNS
    rows[0]["feedback"] += " Mistake: argmax instead of argmin. Hint: use np.argmin."
    assert grade.Result.from_row(rows[0]).mistake == "", "feedback text is never parsed back into data"
    assert grade.summary(map(grade.Result.from_row, rows)).splitlines()[1].split()[2:] == ["1.00", "50%", "-"]


def test_every_hidden_case_has_a_kind_for_students():
    for key in NOTEBOOKS:
        cases = [c for ex in exercises(key) for c in ex.hidden]
        labels = {c.label for c in cases}
        for case in cases:
            assert case.kind and case.kind not in labels, (key, case.label)
            assert not re.search(r"\d", case.kind), (key, case.kind)


def test_explain_by_hidden_feedback():
    ex = exercise("kmeans", "assign_clusters")
    case = Case("far-away points at 1e4", [], kind="points far from the others")
    failure = Failure("labels[3] should be 1; got 0", mistake="argmax")
    hint = f"Mistake: {ex.mistakes['argmax'].title}. Hint: {ex.mistakes['argmax'].hint}"
    assert explain(ex, 1, 4, case, failure) == (
        f"✘ assign_clusters: case 2 of 4 (far-away points at 1e4): labels[3] should be 1; got 0.\n  {hint}"
    )
    assert explain(ex, 1, 4, case, failure, "full").startswith("✘ assign_clusters: hidden case 2 of 4 (far-away")
    assert explain(ex, 1, 4, case, failure, "kind") == (
        f"✘ assign_clusters: the visible cases pass, but a hidden case failed: points far from the others.\n  {hint}"
    )
    raised = Failure("assign_clusters raised IndexError: index 7 is out of bounds", raised="IndexError")
    assert explain(ex, 1, 4, case, raised, "kind") == (
        "✘ assign_clusters: the visible cases pass, but a hidden case failed: points far from the others; "
        "assign_clusters raised IndexError."
    )
    assert explain(ex, 1, 4, case, failure, "none") == "✘ assign_clusters: a hidden case failed."
    with pytest.raises(ValueError, match="hidden_feedback"):
        grade.Grader(hidden_feedback="some")


@pytest.fixture(scope="module")
def grader():
    grader = grade.Grader(LIMITS)
    yield grader
    grader.close()


# ------------------------------------------------------------------ which cell was graded
def stub_of(name, key="kmeans"):
    return notebooks.stubs(key)[name]


def numbered(nb, counts):
    """nb with the execution counts {first line of a cell: n} set, as a saved notebook has them."""
    for cell in nb.cells:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if first in counts:
            cell.execution_count = counts[first]
    return nb


REFERENCE_DISTORTION = function_source(exercise("kmeans", "compute_distortion").reference)
CELLS = {
    # the function written above its exercise's cell, which still holds the stub
    "above-the-stub": add_cell(
        solved(replace={"compute_distortion": stub_of("compute_distortion")}),
        "# my distortion\n" + REFERENCE_DISTORTION,
        before_solutions=True,
    ),
    # assign_clusters again, wrong, in a cell of the student's own below the exercise's (that one is graded)
    "defined-twice": numbered(add_cell(solved(), "# try again\n" + WRONG_ASSIGN), {"# try again": 12}),
    "cell-error": numbered(add_cell(solved(), "x = 1 / 0\n"), {"x = 1 / 0": 3}),
}


@pytest.fixture(scope="module")
def cells_graded(grader, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cells")
    rows = {}
    for student, nb in CELLS.items():
        path = folder / student / "01_kmeans.ipynb"
        path.parent.mkdir()
        nbformat.write(nb, path)
        rows[student] = {r.exercise: r for r in grader.grade(student, "01_kmeans.ipynb", path)}
    return rows


def test_a_function_above_its_untouched_stub_is_graded_and_the_feedback_says_where(cells_graded):
    row = cells_graded["above-the-stub"]["compute_distortion"]
    assert row.score == row.max_score, row.feedback
    stub = sandbox.cell_label(stub_of("compute_distortion"))
    assert row.feedback == (
        "✔ all visible and hidden cases pass. Note: graded the definition in the cell starting `# my distortion`; "
        f"the exercise's own cell, {stub}, still holds the stub and was not run."
    )


def test_a_function_defined_twice_is_graded_in_the_last_cell_and_the_feedback_names_both(cells_graded):
    row = cells_graded["defined-twice"]["assign_clusters"]
    assert row.score == 0
    reference = sandbox.cell_label(function_source(exercise("kmeans", "assign_clusters").reference))
    assert row.feedback.endswith(
        f" Note: graded the definition in the cell [12] starting `# try again`; another one is in {reference}."
    )
    assert " Note: " not in cells_graded["defined-twice"]["kmeans"].feedback


def test_a_cell_is_named_by_its_execution_count_and_first_line(cells_graded):
    details = cells_graded["cell-error"]["kmeans"].details
    assert details.startswith("the cell [3] starting `x = 1 / 0`: ZeroDivisionError"), details


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "it is empty"),
        ("{ this is not json", "it is not valid JSON"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "not a list"}', "its cells are not a list"),
        ("[1, 2]", "it is JSON, but holds no notebook cells"),
        ('{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}', "its nbformat version is 5, not 4"),
        ("[" * 100_000 + "]" * 100_000, "it is nested too deeply to read"),
        (
            '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
            "a cell or the metadata is not in the notebook format",
        ),
    ],
)
def test_an_unreadable_notebook_gets_one_plain_sentence(grader, tmp_path, text, reason):
    path = tmp_path / "ann" / "01_kmeans.ipynb"
    path.parent.mkdir()
    path.write_text(text)
    rows = grader.grade("ann", "01_kmeans.ipynb", path)
    sentence = f"the notebook could not be graded: the file is not a Jupyter notebook that can be read ({reason})"
    assert {r.feedback for r in rows} == {sentence}


# ------------------------------------------------------------------ nbgrader
def test_under_nbgrader_a_failing_grader_shows_one_line_and_no_traceback(tmp_path, monkeypatch):
    grader = tmp_path / "grader"
    grader.write_text(
        "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\n"
        "echo '  File \"/course/autograde/grade.py\", line 1, in main' >&2\necho 'OSError: disk full' >&2\nexit 1\n"
    )
    grader.chmod(0o755)
    nbformat.write(lesson_notebook(), tmp_path / "01_kmeans.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "executable", str(grader))
    with pytest.raises(AssertionError) as err:
        nbgrader_course.grade_here("kmeans", "kmeans")
    assert str(err.value) == "✘ the grader could not grade 01_kmeans.ipynb (exit code 1): OSError: disk full"
    assert err.value._render_traceback_() == [str(err.value)]  # what IPython shows of it: no traceback
