"""Which notebook of a class folder is whose, and which lesson: every notebook found is graded or listed."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograde import discovery, notebooks
from autograde.discovery import survey
from autograde.lessons import NOTEBOOKS
from autograde.notebooks import lesson_notebook

ROOT = Path(__file__).resolve().parent.parent
KM, EM, GMM = NOTEBOOKS["kmeans"], NOTEBOOKS["em_1d"], NOTEBOOKS["gmm"]


def put(path, nb_or_text="kmeans", mtime=None):
    """Write a file below the class folder: a lesson's student notebook (by key), a notebook, or raw text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_text, str) and nb_or_text in NOTEBOOKS:
        nbformat.write(lesson_notebook(nb_or_text), path)
    elif isinstance(nb_or_text, str):
        path.write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def defining(*names):
    """A notebook without nbgrader metadata that defines these functions."""
    cells = [nbformat.v4.new_code_cell(f"def {name}(*args):\n    return None\n") for name in names]
    return nbformat.v4.new_notebook(cells=cells)


def every_notebook(folder):
    """Every .ipynb below folder outside hidden folders: what discovery must grade or list."""
    found = set()
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
        found |= {Path(here) / f for f in files if f.endswith(".ipynb")}
    return found


def accounted(result):
    return {p for mine in result.found.values() for p in mine.values()} | {p for p, _ in result.skipped}


def reasons(result):
    return {p: why for p, why in result.skipped}


def test_student_folders_at_any_depth_under_loose_copy_names(tmp_path):
    put(tmp_path / "alice" / KM)
    put(tmp_path / "bob" / "lab1" / "week 2" / f"Copy of {EM}", "em_1d")
    put(tmp_path / "carol" / "01_kmeans (1).ipynb")
    put(tmp_path / "dave" / "01_kmeans-2.ipynb")
    put(tmp_path / "erin" / "EM_1D.ipynb", "not a notebook")  # its name alone tells the lesson
    (tmp_path / "frank").mkdir()  # handed in nothing: still a student (zeros, "not submitted")
    result = survey(tmp_path)
    assert result.found == {
        "alice": {KM: tmp_path / "alice" / KM},
        "bob": {EM: tmp_path / "bob" / "lab1" / "week 2" / f"Copy of {EM}"},
        "carol": {KM: tmp_path / "carol" / "01_kmeans (1).ipynb"},
        "dave": {KM: tmp_path / "dave" / "01_kmeans-2.ipynb"},
        "erin": {EM: tmp_path / "erin" / "EM_1D.ipynb"},
        "frank": {},
    }
    assert result.skipped == [] and result.warnings == []


def test_the_content_tells_the_lesson_before_the_file_name(tmp_path):
    put(tmp_path / "alice" / "homework.ipynb", "gmm")  # nbgrader grade_ids
    put(tmp_path / "alice" / "mine.ipynb", defining("e_step_1d", "m_step_1d", "helper"))  # the functions it defines
    put(tmp_path / "bob" / KM, "em_1d")  # a misnamed file: graded as what it holds, and said
    both = lesson_notebook("kmeans")
    both.cells += defining("e_step_1d", "m_step_1d", "log_likelihood_1d", "em_1d", "kmeans_1d").cells
    put(tmp_path / "carol" / "work.ipynb", both)  # the grade_ids decide before the functions defined
    result = survey(tmp_path)
    assert result.found == {
        "alice": {EM: tmp_path / "alice" / "mine.ipynb", GMM: tmp_path / "alice" / "homework.ipynb"},
        "bob": {EM: tmp_path / "bob" / KM},
        "carol": {KM: tmp_path / "carol" / "work.ipynb"},
    }
    assert result.warnings == [
        f"{tmp_path / 'bob' / KM}: named like {KM} but holds the exercises of {EM}: graded as that"
    ]


def test_ambiguous_and_unmatched_notebooks_are_listed_with_the_reason(tmp_path):
    put(tmp_path / "alice" / KM)
    scratch = put(tmp_path / "alice" / "scratch.ipynb", defining("plot_everything"))
    tie = put(tmp_path / "alice" / "both.ipynb", defining("e_step_1d", "assign_clusters"))
    broken = put(tmp_path / "alice" / "notes.ipynb", "{ not json")
    named_twice = put(tmp_path / "alice" / "kmeans_vs_gmm.ipynb", "")
    result = survey(tmp_path)
    assert result.found == {"alice": {KM: tmp_path / "alice" / KM}}
    why = reasons(result)
    assert why[scratch] == "no exercise of the course in it, and its name matches no lesson"
    assert why[tie] == f"ambiguous: the functions it defines match several lessons ({KM}, {EM}) equally"
    with pytest.raises(ValueError) as unreadable:
        notebooks.read(broken, root=tmp_path)
    assert why[broken] == f"{unreadable.value}; its name matches no lesson"
    assert why[named_twice].endswith(f"its name matches several lessons ({KM}, {GMM})")
    assert result.warnings == [f"{p}: {why[p]}" for p in sorted(why)]


def test_a_tie_between_lessons_is_broken_by_the_file_name(tmp_path):
    put(tmp_path / "alice" / "02_em_1d-3.ipynb", defining("e_step_1d", "assign_clusters"))
    assert survey(tmp_path).found == {"alice": {EM: tmp_path / "alice" / "02_em_1d-3.ipynb"}}


def test_refused_and_unreadable_notebooks_named_like_a_lesson_are_still_submissions(tmp_path):
    target = put(tmp_path / "elsewhere.txt", "")
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / KM).symlink_to(target)
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / KM)  # discovery must not wait for a writer
    put(tmp_path / "huge" / KM, " " * (21 << 20))
    put(tmp_path / "garbage" / KM, "garbage")
    result = survey(tmp_path)
    assert result.found == {s: {KM: tmp_path / s / KM} for s in ("fifo", "garbage", "huge", "link")}
    assert result.skipped == [] and result.warnings == []


def test_of_two_notebooks_of_a_lesson_the_newest_readable_is_graded_the_other_listed(tmp_path):
    old = put(tmp_path / "bob" / KM, mtime=1_000_000)
    new = put(tmp_path / "bob" / "old" / "deep" / "01_kmeans (2).ipynb", mtime=2_000_000)
    newer_broken = put(tmp_path / "bob" / "01_kmeans-3.ipynb", "{", mtime=3_000_000)
    same_time = [put(tmp_path / "carol" / "b" / KM, mtime=5), put(tmp_path / "carol" / KM, mtime=5)]
    result = survey(tmp_path)
    assert result.found == {"bob": {KM: new}, "carol": {KM: same_time[1]}}  # then the shallowest
    assert reasons(result) == {
        old: f"bob's other {KM}: graded {new} ({discovery.PREFERENCE})",
        newer_broken: f"bob's other {KM}: graded {new} ({discovery.PREFERENCE})",
        same_time[0]: f"carol's other {KM}: graded {same_time[1]} ({discovery.PREFERENCE})",
    }
    assert result.warnings == [
        f"bob handed in 3 notebooks of {KM}: graded {new}, not {old}, {newer_broken} ({discovery.PREFERENCE})",
        f"carol handed in 2 notebooks of {KM}: graded {same_time[1]}, not {same_time[0]} ({discovery.PREFERENCE})",
    ]


def test_an_nbgrader_course_folder_and_student_folders_beside_it(tmp_path):
    alice = put(tmp_path / "submitted" / "alice" / "01_kmeans" / KM)
    bob = put(tmp_path / "submitted" / "bob" / "02_em_1d" / EM, "em_1d")
    carol = put(tmp_path / "carol" / KM)  # a student beside submitted/, not instead of it
    (tmp_path / "submitted" / "dave").mkdir()  # handed in nothing
    put(tmp_path / "grades" / "gradebook.csv", "")  # beside submitted/, a folder without notebooks is no student
    put(tmp_path / "gradebook.db", "")
    copies = [
        put(tmp_path / "source" / "01_kmeans" / KM),
        put(tmp_path / "release" / "01_kmeans" / KM),
        put(tmp_path / "autograded" / "alice" / "01_kmeans" / KM),
        put(tmp_path / "downloaded" / "01_kmeans" / "extracted" / f"alice_1_2_{KM}"),
    ]
    stray = put(tmp_path / "submitted" / KM)
    result = survey(tmp_path)
    assert result.found == {"alice": {KM: alice}, "bob": {EM: bob}, "carol": {KM: carol}, "dave": {}}
    why = reasons(result)
    assert why[copies[0]] == "in nbgrader's source/ folder (nbgrader's copy, not a submission)"
    assert all("nbgrader's copy" in why[p] for p in copies)
    assert why[stray] == "in nbgrader's submitted/ but in no student's folder"
    assert result.warnings == [f"{stray}: {why[stray]}"]  # nbgrader's own copies are no surprise


def test_the_folders_the_gradebook_and_feedback_go_to_hold_no_student(tmp_path):
    alice = put(tmp_path / "alice" / KM)
    (tmp_path / "grades" / "feedback").mkdir(parents=True)
    (tmp_path / "feedback").mkdir()
    odd = put(tmp_path / "grades" / "lost" / KM)  # a notebook there is listed all the same
    result = survey(tmp_path, outputs=(tmp_path / "grades", tmp_path / "feedback"))
    assert result.found == {"alice": {KM: alice}}
    assert reasons(result) == {odd: "in the folder the gradebook or the feedback is written to"}
    assert survey(tmp_path).found.keys() == {"alice", "feedback", "grades"}


def test_cli_does_not_take_its_output_folder_for_a_student(tmp_path):
    from autograde.__main__ import main as cli

    put(tmp_path / "alice" / KM, "garbage")
    out = tmp_path / "grades" / "gradebook.csv"
    for _ in range(2):  # the second run finds the first one's gradebook and feedback
        assert cli(["grade", str(tmp_path), "--out", str(out), "--jobs", "1"]) == 0
        with open(out, newline="", encoding="utf-8") as f:
            assert {r["student"] for r in csv.DictReader(f)} == {"alice"}


def test_canvas_flat_download(tmp_path):
    first = put(tmp_path / "smithjane_1234_5678_01_kmeans.ipynb")
    late = put(tmp_path / "smithjane_LATE_1234_9012_02_em_1d-1.ipynb", "em_1d")
    other = put(tmp_path / "doejohn2_77_88_Copy of 01_kmeans (1).ipynb")
    loose = put(tmp_path / KM)
    result = survey(tmp_path)
    assert result.found == {"doejohn2": {KM: other}, "smithjane": {KM: first, EM: late}}
    assert reasons(result) == {
        loose: f"directly in PATH, in no student's folder, and not named like {discovery.CANVAS_FORM}"
    }
    assert result.warnings == [f"{loose}: {reasons(result)[loose]}"]


GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Jane Smith
    :sid: '20231234'
    :email: jane@example.edu
  :created_at: 2024-10-01 12:00:00.000000000 -07:00
  :score: !ruby/object:BigDecimal 18:0.1e2
  :status: processed
submission_102:
  :submitters:
  - :name: Ann Lee
    :sid: 77
  - :name: Bo Chen/Zhang
    :sid:
    :email:
  :history: []
submission_103:
  :submitters:
  - :name: Cy Dee
    :email: cy@example.edu
"""


def test_gradescope_export_names_students_by_their_submitters(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    jane = put(tmp_path / "submission_101" / KM)
    pair = put(tmp_path / "submission_102" / "work" / "lesson.ipynb", "em_1d")
    cy = put(tmp_path / "submission_103" / "Copy of 01_kmeans.ipynb")
    unknown = put(tmp_path / "submission_104" / KM)  # not in the metadata: named by its folder
    result = survey(tmp_path)
    assert result.found == {
        "20231234": {KM: jane},
        "77": {EM: pair},
        "Bo_Chen_Zhang": {EM: pair},  # a group submission counts for each submitter; the id is a safe file name
        "cy@example.edu": {KM: cy},
        "submission_104": {KM: unknown},
    }
    assert result.warnings == []


def test_unreadable_gradescope_metadata_is_a_warning_and_folders_name_the_students(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text("submission_1: [unclosed\n")
    put(tmp_path / "submission_1" / KM)
    result = survey(tmp_path)
    assert list(result.found) == ["submission_1"]
    assert len(result.warnings) == 1 and "submission_metadata.yml could not be read" in result.warnings[0]


def test_one_students_folder_graded_as_a_class_is_warned_about(tmp_path):
    bob = tmp_path / "submissions" / "bob"
    for lab, key in (("lab1", "kmeans"), ("lab2", "em_1d"), ("Lab 3", "gmm")):
        put(bob / lab / NOTEBOOKS[key], key)
    put(bob / "01_kmeans" / "draft.ipynb")
    put(bob / "HW4" / "04_general_em.ipynb", "general_em")
    put(bob / "bob_notes" / "x.ipynb", "")  # no lesson's name: no warning about the folder
    result = survey(bob)
    assert result.warnings[0] == (
        "student folder(s) named like lessons or assignments: 01_kmeans, HW4, Lab 3, lab1, lab2; "
        f"is {bob} one student's folder? Grade the folder that holds one folder per student"
    )
    assert not any("named like lessons" in w for w in survey(tmp_path / "submissions").warnings)


def test_a_course_folder_one_level_down_is_warned_about(tmp_path):
    put(tmp_path / "ml" / "submitted" / "alice" / "01_kmeans" / KM)
    put(tmp_path / "ml" / "submitted" / "bob" / "01_kmeans" / KM)
    result = survey(tmp_path)
    assert (
        result.warnings[0] == f"{tmp_path / 'ml'} holds an nbgrader submitted/ folder: grade {tmp_path / 'ml'} itself"
    )
    assert list(survey(tmp_path / "ml").found) == ["alice", "bob"]


def test_checkpoints_hidden_folders_and_macos_copies_are_not_submissions(tmp_path):
    alice = put(tmp_path / "alice" / KM)
    put(tmp_path / "alice" / ".ipynb_checkpoints" / "01_kmeans-checkpoint.ipynb")
    put(tmp_path / ".git" / "x" / KM)
    put(tmp_path / "__MACOSX" / "alice" / f"._{KM}", "\x00\x05\x16\x07")
    forks = [put(tmp_path / f"._smith_1_2_{KM}", "\x00\x05"), put(tmp_path / "alice" / f"._{KM}", "\x00\x05")]
    result = survey(tmp_path)
    assert result.found == {"alice": {KM: alice}}
    assert reasons(result) == dict.fromkeys(forks, discovery.HIDDEN_FILE)
    assert result.warnings == []


def test_a_linked_folder_is_listed_not_followed(tmp_path):
    put(tmp_path / "elsewhere" / KM)
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "lab1").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "class" / "bob").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "class" / "carol").symlink_to("/")  # nothing is walked through a link
    result = survey(tmp_path / "class")
    assert result.found == {"alice": {}, "bob": {}, "carol": {}}
    linked = [tmp_path / "class" / p for p in ("alice/lab1", "bob", "carol")]
    assert reasons(result) == dict.fromkeys(linked, discovery.LINKED)
    assert result.warnings == [f"{p}: {discovery.LINKED}" for p in linked]


def test_every_notebook_found_is_graded_or_listed(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    for i, key in enumerate(NOTEBOOKS):
        put(tmp_path / "submitted" / f"s{i}" / key / NOTEBOOKS[key], key)
        put(tmp_path / "autograded" / f"s{i}" / key / NOTEBOOKS[key], key)
        put(tmp_path / f"student{i}" / "a" / "b" / f"Copy of {NOTEBOOKS[key]}", key)
        put(tmp_path / f"student{i}" / NOTEBOOKS[key], "")
        put(tmp_path / f"student{i}" / "scratch.ipynb", "{}")
        put(tmp_path / f"name{i}_{i}_{i + 10}_{NOTEBOOKS[key]}", key)
        put(tmp_path / "submission_101" / f"{i}.ipynb", key)
        put(tmp_path / f"loose{i}.ipynb", key)
        put(tmp_path / f".hidden{i}.ipynb", key)
        put(tmp_path / "submitted" / f".{i}.ipynb", key)
    put(tmp_path / "student0" / ".ipynb_checkpoints" / KM)
    result = survey(tmp_path)
    assert accounted(result) == every_notebook(tmp_path)
    assert len(result.skipped) == len(set(reasons(result)))  # each listed once


def test_cli_lists_the_skipped_in_skipped_csv_and_warns_above_and_below(tmp_path):
    put(tmp_path / "class" / "alice" / KM, "garbage")  # unreadable: its rows say so, quickly
    scratch = put(tmp_path / "class" / "alice" / "scratch.ipynb", "garbage")
    checkpoint = put(tmp_path / "class" / "bob" / ".ipynb_checkpoints" / KM, "garbage")
    out = tmp_path / "out" / "gradebook.csv"

    def grade(*args):
        command = [sys.executable, "-m", "autograde", "grade", str(tmp_path / "class"), "--out", str(out), *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)

    why = reasons(survey(tmp_path / "class"))[scratch]
    proc = grade("--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    with open(out.parent / "skipped.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["path", "reason"]
        assert [(r["path"], r["reason"]) for r in reader] == [(str(scratch), why)]
    assert str(checkpoint) not in proc.stdout
    lines = proc.stdout.splitlines()
    block = [lines[0], f"  - {scratch}: {why}"]
    assert lines[:2] == block and lines[-2:] == block  # above the summary and at the very end
    assert block[0].startswith("WARNING: 1 thing(s)")
    assert f"not graded: 1 notebook(s) found, listed with the reason in {out.parent / 'skipped.csv'}:" in lines
    assert f"1 notebook(s) not graded, listed in {out.parent / 'skipped.csv'}" in proc.stdout
    assert grade("--jobs", "1", "--strict").returncode == 1

    scratch.unlink()
    proc = grade("--jobs", "1", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stdout
    assert (out.parent / "skipped.csv").read_text() == "path,reason\n"  # the earlier run's list is gone


@pytest.mark.parametrize("layout", ["empty", "loose"])
def test_a_folder_without_submissions_is_a_usage_error_that_says_what_it_saw(tmp_path, layout, capsys):
    from autograde.__main__ import main as cli

    if layout == "loose":
        put(tmp_path / KM)
    assert cli(["grade", str(tmp_path), "--out", str(tmp_path / "gradebook.csv")]) == 2
    err = capsys.readouterr().err
    assert err.rstrip().splitlines()[-1] == (
        f"error: {tmp_path} holds no submissions: no student folder, nbgrader submitted/, Canvas or Gradescope download"
    )
    assert err.startswith("not graded: 1 notebook(s) found:\n") == (layout == "loose")
    assert (f"{tmp_path / KM}: directly in PATH" in err) == (layout == "loose")
    assert len(err.splitlines()) == (3 if layout == "loose" else 1)
    assert not (tmp_path / "gradebook.csv").exists()
