"""The grader on a whole class: the reference, the stub, every catalogued mistake, hostile submissions."""

import csv
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograde import grade, sandbox
from autograde.__main__ import main as cli
from autograde.lessons import exercises
from autograde.notebooks import add_cell, alternative_sources, lesson_notebook, mistaken_sources, solved

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = {ex.name: ex for ex in exercises("kmeans")}
NB = "01_kmeans.ipynb"
LIMITS = sandbox.Limits(cell_seconds=4, exercise_seconds=4, notebook_seconds=90)

# student id -> (notebook or raw file text, {exercise: expected score or None for 0})
HOSTILE = {
    "loop-in-function": {"assign_clusters": "def assign_clusters(X, centroids):\n    while True:\n        pass\n"},
    "sleep-in-function": {
        "kmeans": "import time\n\ndef kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):\n"
        "    time.sleep(1000)\n"
    },
    "memory-bomb": {
        "update_centroids": "def update_centroids(X, labels, centroids):\n"
        "    blocks = [bytearray(10**10) for _ in range(100)]\n"
    },
    "os-exit-in-function": {
        "compute_distortion": "import os\n\ndef compute_distortion(X, centroids, labels):\n    os._exit(0)\n"
    },
    "segfault": {"init_centroids": "import ctypes\n\ndef init_centroids(X, k, rng):\n    return ctypes.string_at(0)\n"},
    "sys-exit-in-function": {
        "update_centroids": "import sys\n\ndef update_centroids(X, labels, centroids):\n    sys.exit(0)\n"
    },
    "segfault-native": {
        "init_centroids": "import faulthandler\n\ndef init_centroids(X, k, rng):\n    faulthandler._sigsegv()\n"
    },
    "keyboard-interrupt": {"assign_clusters": "def assign_clusters(X, centroids):\n    raise KeyboardInterrupt\n"},
    "recursion": {
        "compute_distortion": "def compute_distortion(X, centroids, labels):\n"
        "    return compute_distortion(X, centroids, labels)\n"
    },
    "always-equal": {
        "assign_clusters": "class Same:\n    def __eq__(self, other):\n        return True\n\n"
        "def assign_clusters(X, centroids):\n    return Same()\n"
    },
    "spawns-process": {
        "compute_distortion": "import subprocess\n\ndef compute_distortion(X, centroids, labels):\n"
        "    subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
        "    return 0.0\n"
    },
    "imports-solutions": {
        "compute_distortion": "def compute_distortion(X, centroids, labels):\n"
        "    from solutions.kmeans import compute_distortion as ref\n"
        "    return ref(X, centroids, labels)\n"
    },
    "reads-solutions": {
        "compute_distortion": "def compute_distortion(X, centroids, labels):\n"
        f"    exec(open({str(ROOT / 'solutions' / 'kmeans.py')!r}).read())\n"
        "    return locals()['compute_distortion'](X, centroids, labels)\n"
    },
    "prints-gigabytes": {
        "compute_distortion": "def compute_distortion(X, centroids, labels):\n"
        "    for _ in range(10**6):\n        print('x' * 10**4)\n"
        "    return 0.0\n"
    },
}
# (cell source added before the exercises) and the exercise that is wrong on purpose, if any
TOP_LEVEL = {
    "loop-at-top-level": ("while True:\n    pass\n", None),
    "exit-at-top-level": ("import sys\nsys.exit(1)\n", None),
    "os-exit-at-top-level": ("import os\nos._exit(3)\n", None),
    "ignores-interrupts": (
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n    pass\n",
        None,
    ),
    "thread-keeps-running": (
        "import threading, time\nthreading.Thread(target=lambda: time.sleep(10**6)).start()\n",
        None,
    ),
    "monkeypatches-numpy": (
        "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n",
        "assign_clusters",
    ),
    "rebinds-checker": (
        "import autograde, builtins\nautograde.check = lambda f: print('ok')\nbuiltins.abs = lambda x: 0\n",
        "assign_clusters",
    ),
}
WRONG_ASSIGN = "import numpy as np\n\ndef assign_clusters(X, centroids):\n    return np.zeros(len(X), dtype=int)\n"
BROKEN_FILES = {
    "invalid-json": "{ this is not json",
    "empty-file": "",
    "wrong-nbformat": '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "not a list"}',
}


def write(folder, student, nb_or_text):
    path = folder / student / NB
    path.parent.mkdir(parents=True)
    if isinstance(nb_or_text, str):
        path.write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, path)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory, processes_of):
    """Grade one class containing every kind of submission; return {student: {exercise: row}}."""
    folder = tmp_path_factory.mktemp("class")
    write(folder, "reference", solved())
    write(folder, "stub", lesson_notebook())
    write(folder, "loops-lists-float32", solved(replace=alternative_sources()))
    for (name, mid), source in mistaken_sources().items():
        write(folder, f"mistake-{mid}", solved(replace={name: source}))
    for student, replace in HOSTILE.items():
        write(folder, student, solved(replace=replace))
    for student, (cell, wrong) in TOP_LEVEL.items():
        nb = add_cell(solved(replace={wrong: WRONG_ASSIGN} if wrong else None), cell, before_solutions=True)
        write(folder, student, nb)
    for student, text in BROKEN_FILES.items():
        write(folder, student, text)
    # a student who writes into another student's submission
    victim = write(folder, "victim", solved())
    before = victim.read_bytes()
    write(
        folder,
        "vandal",
        add_cell(solved(), f"open({str(victim)!r}, 'w').write('gone')\n", before_solutions=True),
    )
    renamed = solved()
    for cell in renamed.cells:
        cell.source = cell.source.replace("def assign_clusters(", "def assign_cluster(")
    write(folder, "renamed", renamed)

    grader = grade.Grader(LIMITS)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {s: pool.submit(grader.grade, s, NB, nbs.get(NB)) for s, nbs in grade.discover(folder).items()}
            rows = {s: {r.exercise: r for r in future.result()} for s, future in futures.items()}
    finally:
        grader.close()
    assert victim.read_bytes() == before, "a submission changed another student's file"
    assert not processes_of(grader.library.path), "a process outlived grading"
    return rows


def scores(rows):
    return {name: r.score for name, r in rows.items()}


def full_except(*zero):
    return {name: 0 if name in zero else ex.points for name, ex in EXERCISES.items()}


def test_reference_gets_full_marks(graded):
    assert scores(graded["reference"]) == full_except()


def test_loops_lists_and_float32_get_full_marks(graded):
    assert scores(graded["loops-lists-float32"]) == full_except()


def test_stub_gets_zero_and_says_not_implemented(graded):
    assert scores(graded["stub"]) == full_except(*EXERCISES)
    assert all("not implemented" in r.feedback for r in graded["stub"].values())


@pytest.mark.parametrize(("exercise", "mistake"), sorted(mistaken_sources()))
def test_each_catalogued_mistake_loses_exactly_its_exercise_and_is_named(graded, exercise, mistake):
    rows = graded[f"mistake-{mistake}"]
    assert scores(rows) == full_except(exercise)
    title = EXERCISES[exercise].mistakes[mistake].title
    assert rows[exercise].mistake == mistake
    assert f"Mistake: {title}." in rows[exercise].feedback


@pytest.mark.parametrize("student", sorted(HOSTILE))
def test_hostile_function_scores_zero_on_that_exercise_only(graded, student):
    (broken,) = HOSTILE[student]
    assert scores(graded[student]) == full_except(broken)
    assert graded[student][broken].feedback.startswith(f"✘ {broken}")


@pytest.mark.parametrize("student", sorted(TOP_LEVEL))
def test_hostile_top_level_code_neither_helps_nor_blocks_the_rest(graded, student):
    wrong = TOP_LEVEL[student][1]
    assert scores(graded[student]) == (full_except(wrong) if wrong else full_except())


def test_hostile_feedback_says_what_happened(graded):
    assert "time limit" in graded["loop-in-function"]["assign_clusters"].feedback
    assert "time limit" in graded["sleep-in-function"]["kmeans"].feedback
    assert "MemoryError" in graded["memory-bomb"]["update_centroids"].feedback
    assert "exited" in graded["os-exit-in-function"]["compute_distortion"].feedback
    assert "RecursionError" in graded["recursion"]["compute_distortion"].feedback
    assert "KeyboardInterrupt" in graded["keyboard-interrupt"]["assign_clusters"].feedback
    assert "Same object" in graded["always-equal"]["assign_clusters"].feedback
    assert "ModuleNotFoundError" in graded["imports-solutions"]["compute_distortion"].feedback
    assert "FileNotFoundError" in graded["reads-solutions"]["compute_distortion"].feedback
    assert "PermissionError" in graded["spawns-process"]["compute_distortion"].feedback
    assert "time limit" in graded["loop-at-top-level"]["kmeans"].details
    assert "time limit" in graded["ignores-interrupts"]["kmeans"].details
    assert "SystemExit" in graded["sys-exit-in-function"]["update_centroids"].feedback
    assert "segmentation fault" in graded["segfault"]["init_centroids"].feedback
    # faulthandler._sigsegv() raises SIGSEGV itself: the runner is the init of its PID namespace, which the
    # kernel does not kill by a signal it sends itself, so the call returns None (scored 0, see above)
    assert "got None" in graded["segfault-native"]["init_centroids"].feedback
    assert "output limit" in graded["prints-gigabytes"]["compute_distortion"].feedback


@pytest.mark.parametrize("student", sorted(BROKEN_FILES))
def test_unreadable_notebook_still_yields_its_rows(graded, student):
    rows = graded[student]
    assert scores(rows) == full_except(*EXERCISES)
    assert all("could not be graded" in r.feedback for r in rows.values())


def test_vandal_cannot_touch_other_submissions(graded):
    assert scores(graded["victim"]) == full_except()
    assert scores(graded["vandal"]) == full_except()
    assert "FileNotFoundError" in graded["vandal"]["kmeans"].details


def test_renamed_function_is_reported(graded):
    assert scores(graded["renamed"]) == full_except("assign_clusters")
    assert "defines no function called assign_clusters" in graded["renamed"]["assign_clusters"].feedback


def test_cli_writes_gradebook_feedback_and_exits_zero(tmp_path):
    write(tmp_path / "class", "alice", solved())
    write(tmp_path / "class", "bob", lesson_notebook())
    (tmp_path / "class" / "carol").mkdir()
    (tmp_path / "class" / "carol" / NB).write_text("garbage")
    out = tmp_path / "out" / "gradebook.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograde",
            "grade",
            str(tmp_path / "class"),
            "--out",
            str(out),
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["student", "notebook", "exercise", "score", "max_score", "feedback"]
    assert [r["student"] for r in rows] == [s for s in ("alice", "bob", "carol") for _ in EXERCISES]
    assert [r["exercise"] for r in rows[: len(EXERCISES)]] == list(EXERCISES)
    assert sum(float(r["score"]) for r in rows if r["student"] == "alice") == sum(
        ex.points for ex in EXERCISES.values()
    )
    assert all(r["score"] == "0" for r in rows if r["student"] != "alice")
    for student in ("alice", "bob", "carol"):
        assert (tmp_path / "out" / "feedback" / f"{student}.md").exists()
    assert "pass rate" in proc.stdout


def test_options_are_checked_before_any_work_exit_2_with_one_line(tmp_path, capsys):
    write(tmp_path / "class", "alice", "not a notebook")
    (tmp_path / "class" / "alice" / "scratch.ipynb").write_text("")  # discovery would warn about it on stdout
    (tmp_path / "a-file").write_text("")
    klass, out = str(tmp_path / "class"), tmp_path / "out" / "gradebook.csv"
    for args, says in (
        ([str(tmp_path / "missing")], "does not exist"),
        ([klass, "--jobs", "0"], "--jobs must be at least 1, not 0"),
        ([klass, "--jobs", "-3"], "--jobs must be at least 1, not -3"),
        ([klass, "--timeout", "0"], "--timeout must be a positive number"),
        ([klass, "--timeout", "inf"], "--timeout must be a positive number"),
        ([klass, "--out", klass], f"--out {klass} is a folder, not a file"),
        ([klass, "--out", str(tmp_path / "a-file" / "gradebook.csv")], "gradebook.csv cannot be written"),
        ([klass, "--out", "/proc/gradebook.csv"], "--out /proc/gradebook.csv cannot be written"),
    ):
        assert cli(["grade", *args, *([] if "--out" in args else ["--out", str(out)])]) == 2, args
        captured = capsys.readouterr()
        assert captured.err.startswith("error: ") and says in captured.err, (args, captured.err)
        assert len(captured.err.splitlines()) == 1 and captured.out == "", (args, captured)
    assert not out.exists() and not (out.parent / "feedback").exists()
    proc = subprocess.run([sys.executable, "-m", "autograde", "grade"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "required: path" in proc.stderr


def test_single_notebook_self_check_prints_a_report(tmp_path):
    path = write(tmp_path, "me", solved(replace={"assign_clusters": WRONG_ASSIGN}))
    proc = subprocess.run(
        [sys.executable, "-m", "autograde", "grade", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    total = sum(ex.points for ex in EXERCISES.values())
    got = total - EXERCISES["assign_clusters"].points
    assert f"{got} / {total}" in proc.stdout and "✘ assign_clusters" in proc.stdout


def write_rows(path, rows):
    grade.write_gradebook([dict(zip(grade.COLUMNS, row)) for row in rows], path)
    return path


def write_shard(path, rows, i, n, students, size):
    """A shard's gradebook and its record (shard i of n of a class of size, these students)."""
    record = {"shard": i, "of": n, "class": size, "students": students}
    grade.shard_record(path).write_text(json.dumps(record))
    return write_rows(path, rows)


def full_rows(student):
    return [(student, NB, name, f"{ex.points:g}", f"{ex.points:g}", "✔") for name, ex in EXERCISES.items()]


def test_shards_merged_give_the_same_gradebook_as_one_run(tmp_path):
    klass, out = tmp_path / "class", tmp_path / "out"
    write(klass, "a-solved", solved())
    write(klass, "c-mistake", solved(replace={"assign_clusters": mistaken_sources()["assign_clusters", "argmax"]}))
    write(klass, "e-stub", lesson_notebook())
    for student in ("b-none", "d-none"):  # shard 2/2 holds only these: it must still zero the class's notebook
        (klass / student).mkdir()
    runs = [  # the whole class and its two shards, at the same time
        subprocess.Popen(
            [sys.executable, "-m", "autograde", "grade", klass, "--out", csv_path, *args],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for csv_path, args in (
            (out / "whole" / "gradebook.csv", ["--jobs", "1", "--mistake-column"]),
            (out / "shard-1.csv", ["--jobs", "2", "--shard", "1/2", "--mistake-column"]),
            (out / "shard-2.csv", ["--jobs", "2", "--shard", "2/2", "--mistake-column"]),
        )
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err for _, err in outputs]
    assert "graded 2 student(s) (shard 2/2" in outputs[2][0]
    records = [json.loads(grade.shard_record(out / f"shard-{i}.csv").read_text()) for i in (1, 2)]
    assert records == [
        {"shard": 1, "of": 2, "class": 5, "students": ["a-solved", "c-mistake", "e-stub"]},
        {"shard": 2, "of": 2, "class": 5, "students": ["b-none", "d-none"]},
    ]
    assert not grade.shard_record(out / "whole" / "gradebook.csv").exists()
    assert (out / "skipped.csv").read_text() == "path,reason\n"
    one = [sys.executable, "-m", "autograde", "merge", out / "one.csv", out / "shard-1.csv"]
    alone = subprocess.run(one, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert alone.returncode == 1 and "missing: shard 2/2 of a class of 5: no gradebook of it given" in alone.stderr
    assert not (out / "one.csv").exists()
    merged = subprocess.run(
        [sys.executable, "-m", "autograde", "merge", out / "gradebook.csv", out / "shard-1.csv", out / "shard-2.csv"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert merged.returncode == 0, merged.stderr
    assert (out / "gradebook.csv").read_bytes() == (out / "whole" / "gradebook.csv").read_bytes()
    assert f"merged 5 student(s), {5 * len(EXERCISES)} row(s)" in merged.stdout
    title = EXERCISES["assign_clusters"].mistakes["argmax"].title
    assert f"{title} (1)" in merged.stdout  # counted from the mistake column
    with open(out / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [*grade.COLUMNS, "mistake"]
    assert {(r["student"], r["exercise"], r["mistake"]) for r in rows if r["mistake"]} == {
        ("c-mistake", "assign_clusters", "argmax")
    }
    assert merged.stdout.splitlines()[:6] == outputs[0][0].splitlines()[:6]  # the same class summary
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [f"{s}.md" for s in sorted(grade.discover(klass))]


def test_shard_usage_errors_exit_2_and_an_empty_shard_writes_the_header(tmp_path, capsys):
    write(tmp_path / "class", "alice", "not a notebook")
    for shard in ("0/2", "3/2", "1/0", "2", "x/2", "1/2/3", "-1/2"):
        assert cli(["grade", str(tmp_path / "class"), f"--shard={shard}"]) == 2, shard
        assert "--shard" in capsys.readouterr().err
    assert cli(["grade", str(tmp_path / "class" / "alice" / NB), "--shard", "1/2"]) == 2
    assert "--shard" in capsys.readouterr().err
    assert cli(["grade", str(tmp_path / "class"), "--shard", "2/2", "--out", str(tmp_path / "shard-2.csv")]) == 0
    assert (tmp_path / "shard-2.csv").read_text() == ",".join(grade.COLUMNS) + "\n"


def test_merge_errors_exit_2(tmp_path, capsys):
    good = write_rows(tmp_path / "good.csv", [("bob", NB, "kmeans", "3", "3", "✔ all visible and hidden cases pass.")])
    other = write_rows(tmp_path / "other.csv", [("bob", NB, "kmeans", "0", "3", "✘ kmeans: wrong")])
    (tmp_path / "columns.csv").write_text("student,notebook,exercise,score\nbob,01_kmeans.ipynb,kmeans,3\n")
    of_two = write_shard(tmp_path / "of-two.csv", [], 1, 2, [], 4)
    of_three = write_shard(tmp_path / "of-three.csv", [], 2, 3, [], 4)
    bad_record = write_shard(tmp_path / "bad-record.csv", [], 3, 2, [], 4)
    out = str(tmp_path / "out.csv")
    for inputs, says in (
        ([good, tmp_path / "missing.csv"], "missing.csv does not exist"),
        ([good, tmp_path / "columns.csv"], "columns.csv is not a gradebook"),
        ([good, other], "conflicting rows for student bob, 01_kmeans.ipynb, exercise kmeans"),
        ([of_two, of_three], f"shards of different runs: {of_two} is shard 1/2 of 4 students, {of_three} is shard 2/3"),
        ([good, bad_record], "bad-record.csv.shard.json is not a shard record"),
    ):
        assert cli(["merge", out, *map(str, inputs)]) == 2, inputs
        assert says in capsys.readouterr().err
        assert not (tmp_path / "out.csv").exists()
    assert cli(["merge", out, str(good), str(good)]) == 0  # identical duplicates are fine


def test_merge_counts_mistakes_from_the_mistake_column_only(tmp_path, capsys):
    columns = [*grade.COLUMNS, grade.MISTAKE]
    wrong = ("bob", NB, "assign_clusters", "0", "2", "✘ assign_clusters: ... Mistake: argmax instead of argmin.")
    six = write_rows(tmp_path / "six.csv", [wrong])
    assert cli(["merge", str(tmp_path / "out.csv"), str(six)]) == 0
    said = capsys.readouterr().out
    assert "argmax instead of argmin (1)" not in said and "mistakes not counted: the gradebooks have no mistake" in said
    seven = tmp_path / "seven.csv"
    grade.write_gradebook([dict(zip(columns, (*wrong, "argmax")))], seven, columns)
    assert cli(["merge", str(tmp_path / "out.csv"), str(seven)]) == 0
    assert "argmax instead of argmin (1)" in capsys.readouterr().out
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == ",".join(columns)
    grade.write_gradebook([dict(zip(columns, (*wrong, "no_such_mistake")))], seven, columns)
    assert cli(["merge", str(tmp_path / "out.csv"), str(seven)]) == 2
    assert "'no_such_mistake' is not a catalogued mistake of assign_clusters" in capsys.readouterr().err


def test_merge_orders_rows_and_fills_not_submitted(tmp_path, capsys):
    full = [("bob", NB, name, f"{ex.points:g}", f"{ex.points:g}", "✔") for name, ex in reversed(EXERCISES.items())]
    partial = [("alice", NB, "kmeans", "0", "3", "✘ kmeans: wrong"), ("alice", NB, "init_centroids", "2", "2", "✔")]
    shards = [write_rows(tmp_path / "b.csv", full), write_rows(tmp_path / "a.csv", partial)]
    assert cli(["merge", str(tmp_path / "out.csv"), *map(str, shards)]) == 0
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        rows = [tuple(r.values()) for r in csv.DictReader(f)]
    assert [(r[0], r[2]) for r in rows] == [(s, name) for s in ("alice", "bob") for name in EXERCISES]
    assert [r for r in rows if r[5] == "not submitted"] == [
        ("alice", NB, name, "0", f"{ex.points:g}", "not submitted")
        for name, ex in EXERCISES.items()
        if name not in ("kmeans", "init_centroids")
    ]
    assert f"merged 2 student(s), {2 * len(EXERCISES)} row(s) from 2 gradebook(s)" in capsys.readouterr().out


def test_merge_says_which_shards_and_students_are_missing_and_exits_1_unless_partial(tmp_path, capsys):
    first = write_shard(tmp_path / "shard-1.csv", full_rows("alice") + full_rows("bob"), 1, 3, ["alice", "bob"], 5)
    second = write_shard(tmp_path / "shard-2.csv", full_rows("carol"), 2, 3, ["carol", "dave"], 5)  # dave's rows lost
    out = tmp_path / "gradebook.csv"
    missing = [
        "missing: shard 3/3 of a class of 5: no gradebook of it given",
        f"missing: {second} (shard 2/3) lacks the rows of 1 of its students: dave",
    ]
    assert cli(["merge", str(out), str(first), str(second)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == missing and "--partial merges what there is" in err[2] and not out.exists()
    assert cli(["merge", str(out), str(first), str(second), "--partial"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == missing
    assert f"partial merge: merged 3 student(s), {3 * len(EXERCISES)} row(s) from 2 gradebook(s)" in captured.out
    assert "; missing 2: see above" in captured.out
    with open(out, newline="", encoding="utf-8") as f:
        assert sorted({r["student"] for r in csv.DictReader(f)}) == ["alice", "bob", "carol"]

    second = write_shard(second, full_rows("carol") + full_rows("dave"), 2, 3, ["carol", "dave"], 5)
    third = write_shard(tmp_path / "shard-3.csv", full_rows("erin"), 3, 3, ["erin"], 5)
    assert cli(["merge", str(out), str(third), str(first), str(second)]) == 0
    captured = capsys.readouterr()
    assert (
        captured.err == "" and f"merged 5 student(s), {5 * len(EXERCISES)} row(s) from 3 gradebook(s)" in captured.out
    )
    assert "partial" not in captured.out


def _processes_under(folder):
    """{pid: parent pid} of the processes whose command line names folder (the grader's sandbox)."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(folder) in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # the process ended meanwhile
            pass
    return found


def test_killing_the_grader_mid_attempt_ends_the_students_code(tmp_path):
    # nbgrader's cell limit, or an instructor's Ctrl-C, can kill the grader while an exercise runs:
    # the student's never-ending loop must not outlive it
    path = tmp_path / NB
    nbformat.write(solved(replace=HOSTILE["loop-in-function"]), path)
    grader = subprocess.Popen(
        [sys.executable, "-m", "autograde", "grade", str(path)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # the sandbox's files, and so its command line, under tmp_path
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen, deadline = {}, time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # until an attempt (not the grader or its zygote) runs 1 s
            now = time.monotonic()
            running = {pid for pid, parent in _processes_under(tmp_path).items() if grader.pid not in (pid, parent)}
            seen = {pid: seen.get(pid, now) for pid in running}
            if any(now - start > 1 for start in seen.values()):
                break
            time.sleep(0.1)
        assert seen, "the grader never started the student's code"
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 10
    while _processes_under(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_under(tmp_path) == {}
