"""The grader on a whole class: the reference, the stub, every catalogued mistake, hostile submissions."""

import csv
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
from autograde.lessons import lesson
from autograde.notebooks import function_source
from tests import alternatives
from tests.submissions import add_cell, mistaken_sources, processes_of, solved, student_notebook

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = {ex.name: ex for ex in lesson("kmeans").EXERCISES}
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
def graded(tmp_path_factory):
    """Grade one class containing every kind of submission; return {student: {exercise: row}}."""
    folder = tmp_path_factory.mktemp("class")
    write(folder, "reference", solved())
    write(folder, "stub", student_notebook())
    write(
        folder, "loops-lists-float32", solved(replace={n: function_source(getattr(alternatives, n)) for n in EXERCISES})
    )
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
    write(tmp_path / "class", "bob", student_notebook())
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
    assert [r["student"] for r in rows] == ["alice"] * 5 + ["bob"] * 5 + ["carol"] * 5
    assert [r["exercise"] for r in rows[:5]] == list(EXERCISES)
    assert sum(float(r["score"]) for r in rows if r["student"] == "alice") == 10
    assert all(r["score"] == "0" for r in rows if r["student"] != "alice")
    for student in ("alice", "bob", "carol"):
        assert (tmp_path / "out" / "feedback" / f"{student}.md").exists()
    assert "pass rate" in proc.stdout


def test_cli_usage_errors_exit_2(tmp_path):
    for args in (["grade", str(tmp_path / "missing")], ["grade"], ["grade", str(tmp_path), "--jobs", "0"]):
        proc = subprocess.run([sys.executable, "-m", "autograde", *args], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)


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
    assert "8 / 10" in proc.stdout and "✘ assign_clusters" in proc.stdout


def write_rows(path, rows):
    grade.write_gradebook([dict(zip(grade.COLUMNS, row)) for row in rows], path)
    return path


def test_shards_merged_give_the_same_gradebook_as_one_run(tmp_path):
    klass, out = tmp_path / "class", tmp_path / "out"
    write(klass, "a-solved", solved())
    write(klass, "c-mistake", solved(replace={"assign_clusters": mistaken_sources()["assign_clusters", "argmax"]}))
    write(klass, "e-stub", student_notebook())
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
            (out / "whole" / "gradebook.csv", ["--jobs", "1"]),
            (out / "shard-1.csv", ["--jobs", "2", "--shard", "1/2"]),
            (out / "shard-2.csv", ["--jobs", "2", "--shard", "2/2"]),
        )
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err for _, err in outputs]
    assert "graded 2 student(s) (shard 2/2" in outputs[2][0]
    merged = subprocess.run(
        [sys.executable, "-m", "autograde", "merge", out / "gradebook.csv", out / "shard-1.csv", out / "shard-2.csv"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert merged.returncode == 0, merged.stderr
    assert (out / "gradebook.csv").read_bytes() == (out / "whole" / "gradebook.csv").read_bytes()
    assert "merged 5 student(s), 25 row(s)" in merged.stdout
    title = EXERCISES["assign_clusters"].mistakes["argmax"].title
    assert f"{title} (1)" in merged.stdout
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
    good = write_rows(tmp_path / "good.csv", [("bob", NB, "kmeans", "3", "3", "✔ all 7 cases pass")])
    other = write_rows(tmp_path / "other.csv", [("bob", NB, "kmeans", "0", "3", "✘ kmeans: wrong")])
    (tmp_path / "columns.csv").write_text("student,notebook,exercise,score\nbob,01_kmeans.ipynb,kmeans,3\n")
    out = str(tmp_path / "out.csv")
    for inputs, says in (
        ([good, tmp_path / "missing.csv"], "missing.csv does not exist"),
        ([good, tmp_path / "columns.csv"], "columns.csv is not a gradebook"),
        ([good, other], "conflicting rows for student bob, 01_kmeans.ipynb, exercise kmeans"),
    ):
        assert cli(["merge", out, *map(str, inputs)]) == 2, inputs
        assert says in capsys.readouterr().err
        assert not (tmp_path / "out.csv").exists()
    assert cli(["merge", out, str(good), str(good)]) == 0  # identical duplicates are fine


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
    assert "merged 2 student(s), 10 row(s) from 2 gradebook(s)" in capsys.readouterr().out


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
