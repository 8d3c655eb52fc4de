"""Whose notebook is which lesson in a class folder: every notebook found is graded or listed with the reason.

Layouts (any mix, in one folder PATH):
- one folder per student, named by the student's id, the notebooks at any depth below it;
- nbgrader's ``submitted/<student>/<assignment>/<notebook>``: the students under ``submitted/``; PATH's other
  folders that hold a notebook are students too, but nbgrader's own (``source/``, ``release/``, ...);
- Canvas's download: files directly in PATH named ``<name>_[LATE_]<id>_<id>_<file name>`` (the student is <name>);
- Gradescope's export: a folder per submission, ``submission_metadata.yml`` in PATH naming its submitters (the
  student is a submitter's ``:sid:``, else email, else name; without one, the folder's name).

A notebook's lesson is told by its content first (its solution cells' nbgrader ``grade_id``, then the
exercises it defines, most matches winning), then by its file name (``Copy of 02_em_1d.ipynb``,
``01_kmeans (1).ipynb``). Of two notebooks of one lesson by one student, the one graded is a readable one
before one that cannot be read, then the newest (modification time), then the shallowest; the other is listed.
"""

import os
import re
from pathlib import Path
from typing import NamedTuple

from autograde import notebooks
from autograde.lessons import NOTEBOOKS, exercises
from autograde.student_cli import role

NBGRADER_FOLDERS = ("source", "release", "autograded", "feedback", "downloaded")  # beside submitted/: its copies
CANVAS = re.compile(r"(?P<student>.+?)_(?:LATE_)?[0-9]+_[0-9]+_.+", re.S)
CANVAS_FORM = "a Canvas download (name_ID_ID_file.ipynb)"
GRADESCOPE = "submission_metadata.yml"
ASSIGNMENT = re.compile(
    r"(lab|hw|homework|assignment|assign|a|ps|pset|week|lesson|exercise|ex|project|part|task)[ _-]?[0-9]{1,2}", re.I
)
LESSON_NAMES = {name.lower() for key, filename in NOTEBOOKS.items() for name in (key, Path(filename).stem)}
PREFERENCE = "a readable one first, then the newest, then the shallowest"
HIDDEN_FILE = "a hidden file (an editor's or macOS's copy)"
LINKED = "a symbolic link to a folder: not followed (the grader reads nothing through a link), nothing in it graded"


class Survey(NamedTuple):
    found: dict  # {student: {course notebook file name: path}}, students sorted, notebooks in course order
    skipped: list  # [(path, reason)]: every notebook (or linked folder) found and not graded
    warnings: list  # [str]: what looks wrong in the folder's structure


def survey(path, outputs=()):
    """The Survey of a class folder (see the module's docstring for the layouts); the folders outputs (where the
    gradebook and feedback go), if they are in it, hold no student."""
    path = Path(path)
    outputs = {Path(p).resolve() for p in outputs}
    klass = _Class(path)
    entries = sorted(p for p in path.iterdir() if not (_hidden(p.name) and p.is_dir()))
    nbgrader = (path / "submitted").is_dir() and not (path / "submitted").is_symlink()
    submitters = _gradescope(path / GRADESCOPE, klass.warnings) if (path / GRADESCOPE).is_file() else {}
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink() and entry.resolve() in outputs:
            for nb in klass.walk(entry):
                klass.skip(nb, "in the folder the gradebook or the feedback is written to")
        elif nbgrader and entry.name == "submitted":
            for sub in sorted(p for p in entry.iterdir() if not (_hidden(p.name) and p.is_dir())):
                if sub.is_dir():
                    klass.folder([sub.name], sub)
                elif _is_notebook(sub.name):
                    klass.skip(sub, "in nbgrader's submitted/ but in no student's folder")
        elif nbgrader and entry.name in NBGRADER_FOLDERS and entry.is_dir():
            for nb in klass.walk(entry):
                klass.skip(nb, f"in nbgrader's {entry.name}/ folder (nbgrader's copy, not a submission)", warn=False)
        elif entry.is_dir():  # beside nbgrader's submitted/, a folder without notebooks is no student
            if (entry / "submitted").is_dir():
                klass.warnings.append(f"{entry} holds an nbgrader submitted/ folder: grade {entry} itself")
            klass.folder(submitters.get(entry.name, [entry.name]), entry, empty_is_student=not nbgrader)
        elif _is_notebook(entry.name) and entry.name.startswith("."):
            klass.skip(entry, HIDDEN_FILE, warn=False)
        elif _is_notebook(entry.name):
            canvas = CANVAS.fullmatch(entry.name)
            if canvas:
                klass.notebook([canvas["student"]], entry)
            else:
                klass.skip(entry, f"directly in PATH, in no student's folder, and not named like {CANVAS_FORM}")
    return klass.survey()


def lessons_named(name):
    """The course notebooks a file name points to: 01_kmeans (1).ipynb, Copy of 02_em_1d.ipynb, 01_kmeans-2.ipynb,
    Canvas's bob_12_34_01_kmeans.ipynb all name 01_kmeans.ipynb; kmeans.ipynb too, by the lesson's key."""
    stem = re.sub(r"\.ipynb$", "", name, flags=re.I)

    def names(word):
        return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", stem, re.I)

    return [f for f in NOTEBOOKS.values() if names(Path(f).stem)] or [f for k, f in NOTEBOOKS.items() if names(k)]


def lesson_of(path, root):
    """(course notebook file name, None) for a submitted notebook, by its content (its solution cells' nbgrader
    grade_id, else the exercises it defines), else by its file name; (None, why not) if neither tells. A notebook
    that cannot be read is its name's lesson: (file name, why it cannot be read), and its rows will say so."""
    named = lessons_named(path.name)
    by_name = (named[0], None) if len(named) == 1 else (None, f"its name matches {_which(named)}")
    try:
        nb = notebooks.read(path, root=root)
    except (ValueError, OSError) as exc:  # notebooks.Refused is a ValueError
        return (by_name[0], str(exc)) if by_name[0] else (None, f"{exc}; {by_name[1]}")
    code = [cell for cell in nb.cells if cell.get("cell_type") == "code"]
    grade_ids = [cell.metadata["nbgrader"].get("grade_id") for cell in code if role(cell) == "solution"]
    defined = re.findall(r"^[ \t]*def[ \t]+(\w+)[ \t]*\(", "\n".join(cell.source for cell in code), re.M)
    course = {f: {ex.name for ex in exercises(key)} for key, f in NOTEBOOKS.items()}
    for names, what in ((grade_ids, "its nbgrader grade_ids"), (defined, "the functions it defines")):
        names = {name for name in names if isinstance(name, str)}
        counts = {f: len(names & mine) for f, mine in course.items()}
        best = [f for f, n in counts.items() if n and n == max(counts.values())]
        if len(best) == 1:
            return best[0], None
        if best:
            tie = [f for f in best if f in named]
            return (tie[0], None) if len(tie) == 1 else (None, f"ambiguous: {what} match {_which(best)} equally")
    return by_name if by_name[0] else (None, f"no exercise of the course in it, and {by_name[1]}")


def warning_block(warnings):
    """The WARNING block printed above and below the class summary."""
    lines = [f"WARNING: {len(warnings)} thing(s) in the class folder look wrong (with --strict the exit code is 1):"]
    return "\n".join(lines + [f"  - {w}" for w in warnings])


def skipped_block(skipped, csv=None, limit=20):
    """The notebooks found and not graded, for the terminal: the first limit of them (all are in the file csv)."""
    lines = [f"not graded: {len(skipped)} notebook(s) found" + (f", listed with the reason in {csv}:" if csv else ":")]
    lines += [f"  {path}: {reason}" for path, reason in skipped[:limit]]
    return "\n".join(lines + ([f"  ... and {len(skipped) - limit} more"] if len(skipped) > limit else []))


def _hidden(folder_name):
    return folder_name.startswith(".") or folder_name == "__MACOSX"  # .ipynb_checkpoints, .git, macOS's metadata


def _is_notebook(name):
    return name.lower().endswith(".ipynb")


def _which(filenames):
    return f"several lessons ({', '.join(filenames)})" if filenames else "no lesson"


class _Class:
    """What survey() gathers: each student's notebooks by lesson, the skipped ones, the warnings."""

    def __init__(self, root):
        self.root = root
        self.students = {}  # {student: {course notebook file name: [(path, readable)]}}
        self.skipped, self.warnings = [], []

    def skip(self, path, reason, warn=True):
        self.skipped.append((path, reason))
        if warn:
            self.warnings.append(f"{path}: {reason}")

    def walk(self, folder):
        """The notebooks at any depth below folder, outside hidden folders; a linked or unlistable folder is skipped."""

        def unlistable(exc):
            self.skip(Path(exc.filename), f"a folder that could not be listed ({exc.strerror}): nothing in it graded")

        for here, dirs, files in os.walk(folder, onerror=unlistable):
            here = Path(here)
            dirs[:] = sorted(d for d in dirs if not _hidden(d))
            for d in [d for d in dirs if (here / d).is_symlink()]:
                self.skip(here / d, LINKED)
                dirs.remove(d)
            yield from (here / f for f in sorted(files) if _is_notebook(f))

    def folder(self, students, folder, empty_is_student=True):
        """The notebooks below a folder handed in by students (a Gradescope group: several)."""
        for student in students if empty_is_student else []:
            self.students.setdefault(student, {})
        if folder.is_symlink():
            return self.skip(folder, LINKED)
        for nb in self.walk(folder):
            self.notebook(students, nb)

    def notebook(self, students, path):
        if path.name.startswith("."):
            return self.skip(path, HIDDEN_FILE, warn=False)
        filename, why = lesson_of(path, self.root)
        if filename is None:
            return self.skip(path, why)
        named = lessons_named(path.name)
        if named and filename not in named:
            self.warnings.append(f"{path}: named like {named[0]} but holds the exercises of {filename}: graded as that")
        for student in students:
            self.students.setdefault(student, {}).setdefault(filename, []).append((path, why is None))

    def survey(self):
        found = {}
        for student in sorted(self.students):
            found[student] = {}
            for filename in (f for f in NOTEBOOKS.values() if f in self.students[student]):
                paths = [p for p, _ in sorted(self.students[student][filename], key=_preference)]
                found[student][filename] = paths[0]
                for other in paths[1:]:
                    self.skipped.append((other, f"{student}'s other {filename}: graded {paths[0]} ({PREFERENCE})"))
                if len(paths) > 1:
                    others = ", ".join(map(str, paths[1:]))
                    self.warnings.append(
                        f"{student} handed in {len(paths)} notebooks of {filename}: graded {paths[0]}, not {others} "
                        f"({PREFERENCE})"
                    )
        odd = [s for s in found if ASSIGNMENT.fullmatch(s) or s.lower() in LESSON_NAMES]
        if odd:
            self.warnings.insert(
                0,
                f"student folder(s) named like lessons or assignments: {', '.join(odd)}; is {self.root} one "
                "student's folder? Grade the folder that holds one folder per student",
            )
        return Survey(found, self.skipped, self.warnings)


def _preference(candidate):
    path, readable = candidate
    return (not readable, -os.lstat(path).st_mtime_ns, len(path.parts), str(path))


def _gradescope(path, warnings):
    """{submission folder: [student ids]} from Gradescope's submission_metadata.yml, read loosely: keys with or
    without Ruby's leading colon, Ruby tags read as plain values, fields other than the submitters ignored."""
    import yaml  # nbgrader's dependency; only Gradescope's exports need it

    class Loose(yaml.SafeLoader):
        pass

    def untagged(loader, suffix, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    Loose.add_multi_constructor("!", untagged)
    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loose)
    except (yaml.YAMLError, OSError) as exc:
        reason = " ".join(str(exc).split())
        warnings.append(f"{path} could not be read ({reason}): Gradescope's submissions are named by their folders")
        return {}

    def field(mapping, name):
        items = mapping.items() if isinstance(mapping, dict) else []
        return next((value for key, value in items if str(key).lstrip(":") == name), None)

    def student(person):
        return _student_id(str(next((v for v in (field(person, k) for k in ("sid", "email", "name")) if v), "")))

    submitters = {}
    for folder, submission in data.items() if isinstance(data, dict) else []:
        people = field(submission, "submitters")
        ids = [i for i in map(student, people if isinstance(people, list) else []) if i]
        if ids:
            submitters[str(folder)] = ids
    if not submitters:
        warnings.append(f"{path} names no submitters: Gradescope's submissions are named by their folders")
    return submitters


def _student_id(text):
    """A student id usable as a file name (feedback/<student>.md): runs of other characters become _."""
    return re.sub(r"[^\w.@+-]+", "_", text.strip()).strip("._")
