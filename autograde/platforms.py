"""Grades where the class already is: a Gradescope autograder, totals for Canvas (or any LMS), PrairieLearn's results.

Each grades with ``python -m autograde grade`` (the sandbox and its limits, the feedback students get) and
writes what the platform reads.
"""

import csv
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from autograde.grade import KEYS, read_gradebook
from autograde.lessons import NOTEBOOKS, exercises

ROOT = Path(__file__).resolve().parent.parent
COURSE = ["autograde", "solutions", "helpers", "data", "img", "notebooks"]  # what the grader needs of the course
GRADING = [
    "numpy",
    "scipy",
    "matplotlib",
    "ipywidgets",
    "ipython",
    "nbformat",
    "tqdm",
    "torch",
]  # pinned in requirements.txt
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # PyPI's torch for Linux is the CUDA build
STUDENT = "submission"  # the one student of a Gradescope run
CANVAS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]  # the identity columns of Canvas's gradebook

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image (python -m autograde gradescope wrote it).
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends bubblewrap python3 python3-venv
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then  # NumPy 2.4 needs Python 3.11
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir -r /autograder/source/requirements-grading.txt
"""
RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: the course's grader grades /autograder/submission/ and writes
# /autograder/results/results.json. AUTOGRADER_ROOT stands in for /autograder (a test runs it in a folder of its own).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
export PATH="$ROOT/venv/bin:$PATH"  # the environment setup.sh built; without it, the python on PATH
cd "$ROOT/source"
exec python -m autograde.platforms "$ROOT"
"""


class GradingError(RuntimeError):
    """The grader could not grade (no sandbox here, not a course notebook, ...): the reason is the message."""


def grade(path, out, isolation):
    """(gradebook rows, what the grader printed) of `python -m autograde grade path`, its files in the folder out."""
    gradebook = Path(out) / "gradebook.csv"
    command = [sys.executable, "-m", "autograde", "grade", str(path), "--out", str(gradebook), "--isolation", isolation]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0 or not gradebook.is_file():
        raise GradingError((proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1])
    return read_gradebook(gradebook), proc.stdout


# ------------------------------------------------------------------ Gradescope
def grading_requirements():
    """requirements-grading.txt: the pins of requirements.txt that grading needs, torch's CPU build."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name = line.split("==")[0].strip()
        if name in GRADING:
            pins[name] = line.strip()
    missing = sorted(set(GRADING) - set(pins))
    if missing:
        raise ValueError(f"requirements.txt pins no {', '.join(missing)}")
    return "\n".join([f"--extra-index-url {TORCH_INDEX}", *pins.values(), ""])


def gradescope(out, notebooks=None, isolation="kernel"):
    """Write the Gradescope autograder zip: setup.sh, run_autograder, the grader with the reference solutions,
    hidden cases and fixtures, and which notebooks the assignment expects (default: every lesson's)."""
    out = Path(out)
    unknown = [name for name in notebooks or [] if name not in KEYS]
    if unknown:
        raise ValueError(f"not course notebooks: {', '.join(unknown)} (the notebooks are {', '.join(KEYS)})")
    expected = [f for f in NOTEBOOKS.values() if not notebooks or f in notebooks]  # in course order, once each
    config = {"notebooks": expected, "isolation": isolation}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text, mode in [
            ("setup.sh", SETUP, 0o755),
            ("run_autograder", RUN, 0o755),
            ("requirements-grading.txt", grading_requirements(), 0o644),
            ("gradescope.json", json.dumps(config, indent=1) + "\n", 0o644),
        ]:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, text, zipfile.ZIP_DEFLATED)
        for part in COURSE:
            for path in sorted((ROOT / part).rglob("*")):
                if path.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(path.parts):
                    zf.write(path, path.relative_to(ROOT).as_posix())
    return out


def collect(submission, folder, expected):
    """Copy the expected notebooks found in the submission into folder; {notebook: why it was not} for the rest."""
    folder.mkdir(parents=True)
    missing = {}
    for filename in expected:
        hits = sorted(
            (p for p in submission.rglob(filename) if ".ipynb_checkpoints" not in p.parts),
            key=lambda p: (len(p.parts), str(p)),
        )
        if not hits:
            missing[filename] = "not submitted"
        elif hits[0].is_symlink() or not hits[0].is_file():
            missing[filename] = "not a regular file (a link?): not graded"
        else:
            (folder / filename).write_bytes(hits[0].read_bytes())
    return missing


def gradescope_results(rows, expected, missing, output):
    """Gradescope's results.json: one test per exercise of every expected notebook, the score their sum."""
    graded = {(r["notebook"], r["exercise"]): r for r in rows}
    tests = []
    for filename in expected:
        for ex in exercises(KEYS[filename]):
            row = graded.get((filename, ex.name))
            score = float(row["score"]) if row else 0.0
            feedback = row["feedback"] if row else f"✘ {ex.name}: {missing.get(filename, 'not graded')}"
            tests.append(
                {
                    "name": f"{filename}: {ex.name}",
                    "score": score,
                    "max_score": float(ex.points),
                    "status": "passed" if score >= ex.points else "failed",
                    "output": feedback,
                    "visibility": "visible",
                }
            )
    return {
        "score": sum(t["score"] for t in tests),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def run_gradescope(root):
    """run_autograder: grade root/submission/ as the zip's gradescope.json says, write root/results/results.json."""
    root = Path(root)
    config = json.loads((root / "source" / "gradescope.json").read_text())
    expected = config["notebooks"]
    with tempfile.TemporaryDirectory(prefix="autograde-gradescope-") as tmp:
        folder = Path(tmp) / "class" / STUDENT
        missing = collect(root / "submission", folder, expected)
        rows, output = [], ""
        if len(missing) == len(expected):
            output = f"No course notebook was found in the submission: upload {', '.join(expected)}."
        else:
            try:
                rows, _ = grade(folder.parent, Path(tmp) / "grades", config["isolation"])
                output = (Path(tmp) / "grades" / "feedback" / f"{STUDENT}.md").read_text()
            except GradingError as exc:
                missing = dict.fromkeys(expected, f"not graded: the autograder could not run ({exc})")
                output = f"The autograder could not run: {exc}. Please tell your instructor."
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(gradescope_results(rows, expected, missing, output), indent=1, ensure_ascii=False))
    return 0


# ------------------------------------------------------------------ PrairieLearn
def prairielearn(notebook, out, isolation="kernel"):
    """PrairieLearn's external-grader results.json for one notebook: score in 0..1, a test per exercise."""
    try:
        with tempfile.TemporaryDirectory(prefix="autograde-prairielearn-") as tmp:
            rows, report = grade(notebook, tmp, isolation)
    except GradingError as exc:
        results = {"gradable": False, "score": 0, "message": f"The notebook could not be graded: {exc}", "tests": []}
    else:
        most = sum(float(r["max_score"]) for r in rows)
        results = {
            "gradable": True,
            "score": sum(float(r["score"]) for r in rows) / most,
            "message": report,
            "tests": [
                {
                    "name": r["exercise"],
                    "points": float(r["score"]),
                    "max_points": float(r["max_score"]),
                    "message": r["feedback"],
                }
                for r in rows
            ],
        }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return results


# ------------------------------------------------------------------ Canvas, any LMS
def totals(rows):
    """({student: {notebook: total score}}, {notebook: most points}) of gradebook rows, notebooks in course order."""
    order = [f for f in NOTEBOOKS.values() if any(r["notebook"] == f for r in rows)]
    most = {f: sum(ex.points for ex in exercises(KEYS[f])) for f in order}
    scores = {}
    for r in rows:
        mine = scores.setdefault(r["student"], dict.fromkeys(order, 0.0))
        mine[r["notebook"]] += float(r["score"])
    return scores, most


def read_roster(path):
    """(identity columns, {folder name: identity row}) of a roster: Canvas's gradebook export (the folder name
    is the SIS Login ID) or any CSV with a `student` column (the folder name) and the LMS's ids beside it."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if "SIS Login ID" in columns:
            key, identity = "SIS Login ID", [c for c in CANVAS if c in columns]
        elif "student" in columns:
            key, identity = "student", columns
        else:
            raise ValueError(f"{path} has neither a `student` column nor Canvas's `SIS Login ID`: {columns}")
        # Canvas's export: a "Points Possible" row and the test student have no login: not students
        roster = {r[key].strip(): {c: r[c] for c in identity} for r in reader if (r[key] or "").strip()}
    return identity, roster


def export(gradebook, out, roster=None):
    """python -m autograde export: a row per student, a column per notebook (its total) and the total; the
    maxima in a "Points Possible" row. With a roster, the roster's identity columns (Canvas's, from its
    export) and the students the gradebook and the roster do not share, printed. The exit code."""
    try:
        scores, most = totals(read_gradebook(Path(gradebook)))
        identity, known = read_roster(roster) if roster else (["student"], {s: {"student": s} for s in scores})
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    columns = [*identity, *(Path(f).stem for f in most), "total"]
    first = identity[0]
    lines = [{first: "Points Possible", **{Path(f).stem: f"{m:g}" for f, m in most.items()}}]
    lines[0]["total"] = f"{sum(most.values()):g}"
    for student in sorted(set(scores) & set(known)):
        mine = scores[student]
        lines.append(
            {**known[student], **{Path(f).stem: f"{s:g}" for f, s in mine.items()}, "total": f"{sum(mine.values()):g}"}
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(lines)
    print(f"wrote {out}: {len(lines) - 1} student(s), {len(most)} notebook(s) and the total")
    unlisted, ungraded = sorted(set(scores) - set(known)), sorted(set(known) - set(scores))
    if roster:
        print(f"in the gradebook, not in the roster ({len(unlisted)}): {', '.join(unlisted) or '-'}")
        print(f"in the roster, not in the gradebook ({len(ungraded)}): {', '.join(ungraded) or '-'}")
    return 0


if __name__ == "__main__":  # run_autograder
    sys.exit(run_gradescope(sys.argv[1]))
