"""Grading a class: `python -m autograde grade` against `nbgrader autograde` on the same submissions.

Every student hands in every lesson's notebook. The class mixes, per notebook: correct answers
(the reference, or loops and lists), each catalogued mistake in turn, untouched stubs, unreadable
files and, now and then, an exercise that never returns. nbgrader grades the course folder that
`python -m autograde nbgrader` writes, as an instructor runs it in the course's environment: its kernel
imports the student release and runs every cell (FAST=1, 30 s per cell), and the first locked check
cell of a notebook has the isolated grader grade that notebook (`autograde.nbgrader_course.grade_here`,
reached through the course's installed `autograde`), whose verdicts every check cell then reports.

`python -m autograde grade --jobs 2` grades the whole class. nbgrader takes many seconds per notebook, so it
grades only the first students (every kind of submission is among the first 20), where both `--jobs 1` and
`--jobs 2` grade the same notebooks for the side-by-side comparison; its time for the whole class is
extrapolated from its time per notebook.
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograde.lessons import NOTEBOOKS, exercises
from autograde.nbgrader_course import assignment, build
from autograde.notebooks import alternative_sources, lesson_notebook, mistaken_sources, solve
from autograde.release import release
from autograde.sandbox import Limits

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def submission(key, i):
    """(kind, notebook or text) of student i's notebook for a lesson: a fixed mix over 20 students."""
    slot, mistakes = i % 20, sorted(mistaken_sources(key).items())
    names = [ex.name for ex in exercises(key)]
    if slot < 8:
        return "correct", solve(lesson_notebook(key), key)
    if slot == 8:
        return "correct (loops, lists)", solve(lesson_notebook(key), key, alternative_sources(key))
    if slot == 19 and i % 40 == 19:
        loop = f"def {names[0]}(*args, **kwargs):\n    while True:\n        pass\n"
        return "never returns", solve(lesson_notebook(key), key, {names[0]: loop})
    if slot < 16 or slot == 19:
        (name, _), source = mistakes[(i // 20 * 8 + slot) % len(mistakes)]
        return "one catalogued mistake", solve(lesson_notebook(key), key, {name: source})
    if slot < 18:
        return "not started", lesson_notebook(key)
    return "unreadable", "{ this is not a notebook"


def write_class(folder, students):
    """Write the class into folder/submitted; the kind of each notebook, student by student."""
    kinds = []
    for i in range(students):
        for key, filename in NOTEBOOKS.items():
            kind, nb = submission(key, i)
            kinds.append(kind)
            path = folder / "submitted" / f"s{i:03d}" / assignment(filename) / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(nb, str):
                path.write_text(nb)
            else:
                nbformat.write(nb, path)
    return kinds


def run(command, cwd, env=None):
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def grade_ours(course, jobs):
    """(wall seconds, {(student, notebook, exercise): score}) of `python -m autograde grade`."""
    out = course / f"ours-{jobs}" / "gradebook.csv"
    seconds, proc = run(
        [sys.executable, "-m", "autograde", "grade", str(course), "--out", str(out), "--jobs", str(jobs)], ROOT
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    with open(out, newline="", encoding="utf-8") as f:
        scores = {(r["student"], r["notebook"], r["exercise"]): float(r["score"]) for r in csv.DictReader(f)}
    return seconds, scores


def totals(scores):
    out = {}
    for (student, _, _), score in scores.items():
        out[student] = out.get(student, 0) + score
    return out


def grade_nbgrader(course, bundle, students):
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(bundle),  # the kernel imports the student side of the course, as a plain course would
        "FAST": "1",
    }
    seconds, totals, failed = 0.0, dict.fromkeys(students, 0.0), []
    for filename in NOTEBOOKS.values():
        name = assignment(filename)
        _, proc = run([str(BIN / "nbgrader"), "generate_assignment", name, "--force"], course, env)
        if proc.returncode:
            raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
        took, proc = run([str(BIN / "nbgrader"), "autograde", name, "--force", "--Execute.timeout=30"], course, env)
        seconds += took
        if proc.returncode:
            failed.append(name)
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for student in students:
                try:
                    totals[student] += gb.find_submission(name, student).score
                except Exception:  # a submission nbgrader could not grade
                    pass
    return seconds, totals, failed


def main(students=200, nbgrader_students=20):
    subset = min(students, nbgrader_students)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        whole, course = Path(tmp) / "class", Path(tmp) / "course"
        kinds = write_class(whole, students)
        build(course)
        bundle = release(Path(tmp) / "release")
        ids = [f"s{i:03d}" for i in range(subset)]
        for student in ids:  # the same files as the whole class's first students
            shutil.copytree(whole / "submitted" / student, course / "submitted" / student)
        full_seconds, full_scores = grade_ours(whole, 2)
        ours = {jobs: grade_ours(course, jobs) for jobs in (2, 1)}
        nb_seconds, nb_totals, failed = grade_nbgrader(course, bundle, ids)
    n, m = students * len(NOTEBOOKS), subset * len(NOTEBOOKS)
    never, limit = kinds.count("never returns"), Limits().exercise_seconds
    held = never * limit / 2
    nb_per = nb_seconds / m
    ours_totals = totals(ours[2][1])
    differ = [s for s in ids if abs(ours_totals[s] - nb_totals[s]) > 1e-9]
    mix = ", ".join(f"{kind} {count}" for kind, count in Counter(kinds).items())
    sub_mix = ", ".join(f"{kind} {count}" for kind, count in Counter(kinds[:m]).items())
    lines = [
        f"## Grading a class of {students} (lessons: {len(NOTEBOOKS)}, {n} notebooks)",
        "",
        f"The notebooks handed in: {mix}.",
        "",
        f"### The first {subset} students ({m} notebooks), graded by all three",
        "",
        f"Their notebooks: {sub_mix}.",
        "",
        "| grader | cores | wall time | per notebook | vs nbgrader |",
        "|---|---|---|---|---|",
        *[
            f"| `python -m autograde grade --jobs {jobs}` | {jobs} | {s:.0f} s | {s / m:.2f} s | "
            f"{nb_seconds / s:.1f}x faster |"
            for jobs, (s, _) in sorted(ours.items())
        ],
        f"| `nbgrader autograde` | 1 | {nb_seconds:.0f} s | {nb_per:.2f} s | 1x |",
        "",
        f"### The whole class ({students} students, {n} notebooks)",
        "",
        "| grader | cores | wall time | per notebook | vs nbgrader |",
        "|---|---|---|---|---|",
        f"| `python -m autograde grade --jobs 2` | 2 | {full_seconds:.0f} s | {full_seconds / n:.2f} s | "
        f"{nb_per * n / full_seconds:.1f}x faster |",
        f"| `nbgrader autograde`, **extrapolated** from its time per notebook above | 1 | ~{nb_per * n:.0f} s "
        f"(~{nb_per * n / 3600:.1f} h) | {nb_per:.2f} s | 1x |",
        "",
        f"Of the whole class's {full_seconds:.0f} s, about {held:.0f} s are the {never} notebooks that never return:"
        f" each holds one of the 2 jobs for the time limit of {limit:g} s per exercise (`--timeout`). The other"
        f" {n - never} notebooks took about {(full_seconds - held) / (n - never):.2f} s each.",
        "",
        f"On the first {subset}, both gave the same total to {subset - len(differ)} of {subset} students."
        + (
            " Both take each exercise's verdict from the same grader, so a different total comes from nbgrader's"
            " side of the run, such as a check cell stopped at its 30 s limit (the first check cell waits for the"
            " whole notebook's grading, a never-returning exercise's 20 s included). Grader against nbgrader: "
            + ", ".join(f"{s} {ours_totals[s]:g} against {nb_totals[s]:g}" for s in differ)
            + "."
            if differ
            else ""
        )
        + (
            f" `nbgrader autograde` exited with an error on {', '.join(failed)} (the unreadable notebooks)."
            if failed
            else ""
        ),
        "",
    ]
    if ours[1][1] != ours[2][1]:
        lines.append("**Warning: the gradebooks of --jobs 1 and --jobs 2 differ.**")
    if {k: v for k, v in full_scores.items() if k[0] in ids} != ours[2][1]:
        lines.append(f"**Warning: the whole class's gradebook differs from the first {subset} students' own.**")
    return lines


if __name__ == "__main__":
    print("\n".join(main(*map(int, sys.argv[1:3]))))
