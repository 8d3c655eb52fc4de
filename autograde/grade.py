"""python -m autograde grade / merge: a class's submissions (or shard gradebooks) -> gradebook CSV, class summary."""

import csv
import json
import math
import os
import re
import sys
import tempfile
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from autograde import discovery, fixtures, notebooks, sandbox
from autograde.judge import HIDDEN_FEEDBACK, CallError, Failure, explain, judge_case
from autograde.lessons import NOTEBOOKS, exercises
from autograde.serial import materialize, materialize_value

COLUMNS = ["student", "notebook", "exercise", "score", "max_score", "feedback"]
MISTAKE = "mistake"  # the optional seventh column (grade --mistake-column): the catalogued mistake's id, or empty
KEYS = {filename: key for key, filename in NOTEBOOKS.items()}


@dataclass
class Result:
    student: str
    notebook: str
    exercise: str
    score: float
    max_score: float
    feedback: str
    mistake: str = ""
    details: str = ""  # extra lines for the feedback file (cell errors, grader notes)

    @classmethod
    def from_row(cls, row):
        """A gradebook row as a Result (its mistake from the mistake column, empty where there is none)."""
        return cls(
            row["student"],
            row["notebook"],
            row["exercise"],
            float(row["score"]),
            float(row["max_score"]),
            row["feedback"],
            row.get(MISTAKE, ""),
        )

    def row(self, columns=COLUMNS):
        """The gradebook row: COLUMNS, and the mistake where columns has it."""
        row = {
            "student": self.student,
            "notebook": self.notebook,
            "exercise": self.exercise,
            "score": f"{self.score:g}",
            "max_score": f"{self.max_score:g}",
            "feedback": self.feedback,
        }
        return row | {MISTAKE: self.mistake} if MISTAKE in columns else row


def discover(path):
    """{student: {notebook file name: path}} of a class folder; discovery.survey(path) also says what it skipped."""
    return discovery.survey(path).found


class Grader:
    """Grades notebooks against the hidden and visible cases; reference outputs computed once.

    hidden_feedback (judge.HIDDEN_FEEDBACK): what the feedback tells of a failed hidden case."""

    def __init__(self, limits=None, isolation="kernel", hidden_feedback="kind"):
        if hidden_feedback not in HIDDEN_FEEDBACK:
            raise ValueError(f"hidden_feedback must be one of {HIDDEN_FEEDBACK}, not {hidden_feedback!r}")
        self.limits = limits or sandbox.Limits()
        self.library = sandbox.Library(isolation)
        self.isolated = isolation == "kernel"
        self.hidden_feedback = hidden_feedback
        self.root = None  # the class folder: submissions below it are read through no symbolic link
        self._cases, self._lock = {}, threading.Lock()

    def close(self):
        self.library.close()

    def cases(self, key):
        """[(exercise, [(case, expected, mistake outputs)])] of a lesson, visible cases first."""
        with self._lock:
            if key not in self._cases:
                cases = [(ex, fixtures.expected_outputs(ex, ex.visible + ex.hidden)) for ex in exercises(key)]
                self._cases[key] = cases
            return self._cases[key]

    @staticmethod
    def oracle(key):
        """The reference answers a composite exercise's helper calls (deterministic helpers only)."""
        helpers = {h.name: h for ex in exercises(key) for h in ex.uses}

        def answer(helper, args, kwargs):
            return helpers[helper](*map(materialize_value, args), **materialize(kwargs))

        return answer

    def grade(self, student, filename, path):
        """[Result] for each exercise of one notebook; never raises."""
        key = KEYS[filename]
        exercises = [ex for ex, _ in self.cases(key)]

        def all_zero(reason):
            return [Result(student, filename, ex.name, 0, ex.points, reason) for ex in exercises]

        if path is None:
            return all_zero("not submitted")
        try:
            nb = notebooks.read(path, root=self.root or Path(path).parent)
        except (ValueError, OSError) as exc:
            return all_zero(f"the notebook could not be graded: {exc}")
        try:
            return self._grade(student, filename, key, nb)
        except Exception as exc:  # a bug of the grader's must not lose the rest of the class
            return all_zero(f"internal grading error ({type(exc).__name__}: {exc}); please report it")

    def _grade(self, student, filename, key, nb):
        calls, uses = [], {}
        for ex, cases in self.cases(key):
            uses[ex.name] = [h.name for h in ex.uses]
            for ci, (case, _, _) in enumerate(cases):
                # k: torch's seed, as in the notebook's check (the seed differs between the calls of a case)
                calls += [(f"{ex.name}/{ci}/{k}", ex.name, kwargs, k) for k, kwargs in enumerate(case.calls)]
        cells, labels, notes = self._cells(key, nb, list(uses))
        run = sandbox.run(cells, calls, self.library, self.limits, oracle=self.oracle(key), uses=uses, labels=labels)
        details = [f"{labels[i]}: {msg}" for i, msg in sorted(run.cell_errors.items())]
        details += run.notes  # timeouts, crashes
        results = []
        for ex, cases in self.cases(key):
            got_by_case = [
                [run.outputs[f"{ex.name}/{ci}/{k}"] for k in range(len(case.calls))]
                for ci, (case, _, _) in enumerate(cases)
            ]
            score, feedback, mistake = self._judge(ex, cases, got_by_case)
            if ex.name in notes:
                feedback += f" Note: {notes[ex.name]}."
            results.append(Result(student, filename, ex.name, score, ex.points, feedback, mistake, "\n".join(details)))
        return results

    @staticmethod
    def _cells(key, nb, names):
        """(the cells to run, how feedback names them, {exercise: which cell was graded}) of a notebook.

        Where several cells define an exercise's function, the last one is graded, and the note says so. The
        exercise's own cell, if it still holds the stub, is not run where another cell defines the function:
        it would undo a definition written above it.
        """
        cells = notebooks.graded_cells(nb)
        labels = {i: sandbox.cell_label(source, nb.cells[i].get("execution_count")) for i, source in cells}
        stubs, skip, notes = notebooks.stubs(key), set(), {}
        for name, where in notebooks.definitions(cells, names).items():
            untouched = [i for i in where if nb.cells[i].source.strip() == stubs[name].strip()]
            skipped = bool(untouched) and len(untouched) < len(where)
            if skipped:
                skip.update(untouched)
                where = [i for i in where if i not in untouched]
            said = [f"graded the definition in {labels[where[-1]]}"] if skipped or len(where) > 1 else []
            if len(where) > 1:
                others = " and ".join(labels[i] for i in where[:-1])
                said.append(f"{'another one is' if len(where) == 2 else 'others are'} in {others}")
            if skipped:
                said.append(f"the exercise's own cell, {labels[untouched[0]]}, still holds the stub and was not run")
            if said:
                notes[name] = "; ".join(said)
        return [c for c in cells if c[0] not in skip], labels, notes

    def _judge(self, ex, cases, got_by_case):
        """(score, feedback, mistake id) of one exercise: its first failed case, visible cases first."""
        shown = len(ex.visible)  # the cases of the notebook's check
        for ci, ((case, expected, wrong), got) in enumerate(zip(cases, got_by_case)):
            error = next((g for g in got if isinstance(g, CallError)), None)
            if error is not None and error.type_name in ("NotImplementedError", "Missing", "GraderStopped"):
                reason = {
                    "NotImplementedError": f"✘ {ex.name}: not implemented (it still raises NotImplementedError)",
                    "Missing": f"✘ {ex.name}: the notebook defines no function called {ex.name} "
                    "(keep the name given in the exercise)",
                }.get(error.type_name, f"✘ {ex.name}: stopped by the grader: {error.message}")
                return 0, reason, ""
            try:
                judge_case(ex, case, got, expected, wrong)
            except Failure as failure:
                if ci < shown:
                    text = explain(ex, ci, shown, case, failure)
                else:
                    text = explain(ex, ci - shown, len(cases) - shown, case, failure, self.hidden_feedback)
                return 0, text.replace("\n  ", " "), failure.mistake or ""
        if self.hidden_feedback == "full":
            return ex.points, f"✔ all {shown} visible and {len(cases) - shown} hidden cases pass.", ""
        return ex.points, "✔ all visible and hidden cases pass.", ""


def write_gradebook(rows, out, columns=COLUMNS):
    """Write rows (dicts with the columns) to the CSV out atomically (shards writing the same file do not clash)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp")
    with open(tmp, "x", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out)


def shard_record(gradebook):
    """The file beside a shard's gradebook that says which shard of how many it is, and its students."""
    return gradebook.with_name(gradebook.name + ".shard.json")


def writable(out, feedback):
    """Why the gradebook out (with feedback, the feedback folder beside it) cannot be written, or None; its folder
    is created and a file tried in it."""
    if out.is_dir():
        return "is a folder, not a file"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as exc:
        return f"cannot be written: {exc.strerror or exc} ({exc.filename or out.parent})"
    if feedback and (out.parent / "feedback").exists() and not (out.parent / "feedback").is_dir():
        return f"its feedback folder {out.parent / 'feedback'} is a file"
    return None


NOT_ISOLATED = "WARNING: graded with --isolation none: student code ran without the kernel sandbox."


def feedback_text(student, results, isolated=True):
    """A student's feedback in Markdown: per notebook, each exercise's score and what failed."""
    lines = [f"# Feedback for {student}", ""]
    if not isolated:
        lines += [f"**{NOT_ISOLATED}**", ""]
    total = sum(r.score for r in results)
    lines += [f"Total: **{total:g} / {sum(r.max_score for r in results):g}** points", ""]
    for filename in dict.fromkeys(r.notebook for r in results):
        mine = [r for r in results if r.notebook == filename]
        lines += [
            f"## {filename}: {sum(r.score for r in mine):g} / {sum(r.max_score for r in mine):g}",
            "",
            "| exercise | score | feedback |",
            "|---|---|---|",
        ]
        lines += [f"| `{r.exercise}` | {r.score:g} / {r.max_score:g} | {r.feedback.replace('|', '/')} |" for r in mine]
        notes = sorted({r.details for r in mine if r.details})
        if notes:
            lines += ["", "Errors while running your notebook's cells (other cells still ran):", ""]
            lines += [f"- {line}" for note in notes for line in note.splitlines()]
        lines.append("")
    return "\n".join(lines)


def summary(results):
    """The class summary of Results: per exercise mean score, pass rate, most common catalogued mistakes."""
    lines = [f"{'notebook':<18} {'exercise':<22} {'mean':>6} {'pass rate':>9}  most common mistakes"]
    by_exercise = {}
    for r in results:
        by_exercise.setdefault((r.notebook, r.exercise), []).append(r)
    for (filename, name), rs in by_exercise.items():
        ex = next(e for e in exercises(KEYS[filename]) if e.name == name)
        mistakes = Counter(ex.mistakes[r.mistake].title for r in rs if r.mistake in ex.mistakes)
        common = ", ".join(f"{title} ({n})" for title, n in mistakes.most_common(3)) or "-"
        mean = sum(r.score for r in rs) / len(rs)
        rate = sum(r.score == r.max_score for r in rs) / len(rs)
        lines.append(f"{filename:<18} {name:<22} {mean:>6.2f} {rate:>8.0%}  {common}")
    return "\n".join(lines)


def parse_shard(text):
    """(I, N) of a --shard I/N with 1 <= I <= N; ValueError saying what is wrong otherwise."""
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", text.strip())
    if not match:
        raise ValueError(f"--shard must be I/N, e.g. 3/8 (shard 3 of 8), not {text!r}")
    i, n = int(match[1]), int(match[2])
    if n < 1:
        raise ValueError(f"--shard {text}: the number of shards N must be at least 1")
    if not 1 <= i <= n:
        raise ValueError(f"--shard {text}: the shard I must be between 1 and {n}")
    return i, n


def limits_for(timeout=None):
    """The sandbox's limits with --timeout seconds per exercise: a notebook has room for three of them."""
    limits = sandbox.Limits()
    if timeout is not None:
        limits.exercise_seconds = timeout
        limits.notebook_seconds = max(limits.notebook_seconds, 3 * timeout)
    return limits


def usage_error(message):
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(args):
    path = Path(args.path)
    if not path.exists():
        return usage_error(f"{path} does not exist")
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        return usage_error("--timeout must be a positive number of seconds")
    limits = limits_for(args.timeout)
    jobs = (os.cpu_count() or 1) if args.jobs is None else args.jobs
    if jobs < 1:
        return usage_error(f"--jobs must be at least 1, not {jobs}")
    shard = None
    if args.shard is not None:
        try:
            shard = parse_shard(args.shard)
        except ValueError as exc:
            return usage_error(exc)
        if path.is_file():
            return usage_error("--shard needs a folder of submissions, not one notebook")
    out = Path(args.out) if args.out else None if path.is_file() else Path("gradebook.csv")
    problem = out and writable(out, feedback=not path.is_file())
    if problem:
        return usage_error(f"--out {out} {problem}")
    if path.is_file():
        if path.name not in KEYS:
            return usage_error(f"{path.name} is not a course notebook ({', '.join(KEYS)})")
        tasks = {("self", path.name): path}
    else:
        found, skipped, warnings = discovery.survey(path, outputs=(out.parent, out.parent / "feedback"))
        if not found:
            if skipped:
                print(discovery.skipped_block(skipped), file=sys.stderr)
            return usage_error(
                f"{path} holds no submissions: no student folder, nbgrader submitted/, Canvas or Gradescope download"
            )
        if warnings:
            print(discovery.warning_block(warnings) + "\n")
        # decided from the whole class, so that every shard grades (or zeroes) the same notebooks
        graded = [f for f in NOTEBOOKS.values() if any(f in mine for mine in found.values())]
        students = list(found)[shard[0] - 1 :: shard[1]] if shard else list(found)  # found is sorted
        tasks = {(s, f): found[s].get(f) for s in students for f in graded}
    isolation = args.isolation
    if isolation != "none":
        try:
            sandbox.check_isolation()
            isolation = "kernel"
        except sandbox.SandboxError as exc:
            if isolation == "kernel" or not path.is_file():
                return usage_error(exc)
            isolation = "none"  # a student's self-check of one notebook may run without it
            print(f"note: {exc}; this self-check runs without isolation", file=sys.stderr)
    grader = Grader(limits, isolation, args.hidden_feedback)
    grader.root = None if path.is_file() else path
    results = {}
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grader.grade, s, f, p): (s, f) for (s, f), p in tasks.items()}
            for future in tqdm(
                as_completed(futures),
                total=len(futures),
                desc="grading",
                unit="notebook",
                file=sys.stderr,
                disable=len(futures) < 2,
            ):
                results[futures[future]] = future.result()
    finally:
        grader.close()
    ordered = [r for key in tasks for r in results[key]]  # students sorted, notebooks in course order
    columns = [*COLUMNS, MISTAKE] if args.mistake_column else COLUMNS
    rows = [r.row(columns) for r in ordered]
    if path.is_file():
        print(feedback_text(path.name, ordered, grader.isolated))
        if out:
            write_gradebook(rows, out, columns)
        return 0
    write_gradebook(rows, out, columns)
    skipped_csv = out.parent / "skipped.csv"
    write_gradebook([{"path": str(p), "reason": why} for p, why in skipped], skipped_csv, columns=["path", "reason"])
    if shard:
        record = {"shard": shard[0], "of": shard[1], "class": len(found), "students": students}
        shard_record(out).write_text(json.dumps(record, indent=1) + "\n")
    else:
        shard_record(out).unlink(missing_ok=True)  # a shard's record from an earlier run
    feedback_dir = out.parent / "feedback"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    for student in dict.fromkeys(r.student for r in ordered):
        (feedback_dir / f"{student}.md").write_text(
            feedback_text(student, [r for r in ordered if r.student == student], grader.isolated)
        )
    print(summary(ordered))
    if not grader.isolated:
        print(f"\n{NOT_ISOLATED}")
    if skipped:
        print("\n" + discovery.skipped_block(skipped, skipped_csv))
    where = f" (shard {shard[0]}/{shard[1]} of a class of {len(found)})" if shard else ""
    print(
        f"\ngraded {len(students)} student(s){where}, {len(tasks)} notebook(s): "
        f"gradebook {out}, feedback in {feedback_dir}/, {len(skipped)} notebook(s) not graded, listed in {skipped_csv}"
    )
    if warnings:
        print("\n" + discovery.warning_block(warnings))
    return 1 if warnings and args.strict else 0


def read_gradebook(path):
    """The rows of a gradebook CSV; ValueError if it is missing or is not a gradebook of this course."""
    if not path.is_file():
        raise ValueError(f"{path} does not exist")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames not in (COLUMNS, [*COLUMNS, MISTAKE]):
            raise ValueError(
                f"{path} is not a gradebook: its columns are {reader.fieldnames}, not {COLUMNS} (and {MISTAKE})"
            )
        rows = list(reader)
    for line, r in enumerate(rows, start=2):
        if None in r or None in r.values():
            raise ValueError(f"{path}, row {line}: expected {len(reader.fieldnames)} fields")
        known = exercises(KEYS[r["notebook"]]) if r["notebook"] in KEYS else []
        ex = next((e for e in known if e.name == r["exercise"]), None)
        if ex is None:
            raise ValueError(f"{path}, row {line}: {r['notebook']} {r['exercise']} is not an exercise of the course")
        if r.get(MISTAKE) and r[MISTAKE] not in ex.mistakes:
            raise ValueError(f"{path}, row {line}: {r[MISTAKE]!r} is not a catalogued mistake of {ex.name}")
        try:
            float(r["score"]), float(r["max_score"])
        except ValueError:
            raise ValueError(f"{path}, row {line}: score and max_score must be numbers") from None
    return rows


def read_shard_record(gradebook):
    """{"shard": I, "of": N, "class": size, "students": [...]} of a shard's gradebook, None if it has no record;
    ValueError if the record is not one."""
    path = shard_record(gradebook)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        i, n, size, students = record["shard"], record["of"], record["class"], record["students"]
        numbers = all(type(v) is int for v in (i, n, size)) and 1 <= i <= n
        if not (numbers and isinstance(students, list) and all(isinstance(s, str) for s in students)):
            raise ValueError
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"{path} is not a shard record ({{shard, of, class, students}})") from None
    return record


def missing_shards(records, students_of):
    """What the shard records say is missing: the shards of the split not given, the students a shard graded
    but whose rows its gradebook lacks. ValueError if the records are of different splits."""
    if not records:
        return []
    splits = {(r["of"], r["class"]) for r in records.values()}
    if len(splits) > 1:
        runs = ", ".join(f"{p} is shard {r['shard']}/{r['of']} of {r['class']} students" for p, r in records.items())
        raise ValueError(f"the gradebooks are shards of different runs: {runs}")
    ((n, size),) = splits
    given = {r["shard"] for r in records.values()}
    lines = [f"shard {i}/{n} of a class of {size}: no gradebook of it given" for i in range(1, n + 1) if i not in given]
    for path, r in records.items():
        lost = [s for s in r["students"] if s not in students_of[path]]
        if lost:
            lines.append(
                f"{path} (shard {r['shard']}/{n}) lacks the rows of {len(lost)} of its students: {', '.join(lost)}"
            )
    return lines


def merge(out, paths, partial=False):
    """python -m autograde merge: shard gradebooks -> one gradebook with the class summary; the exit code (1 when
    a shard or a shard's student is missing, unless partial)."""
    merged, source, records, students_of = {}, {}, {}, {}
    try:
        for path in map(Path, paths):
            rows = read_gradebook(path)
            for r in rows:
                key = (r["student"], r["notebook"], r["exercise"])
                if key in merged and merged[key] != r:
                    raise ValueError(
                        f"conflicting rows for student {key[0]}, {key[1]}, exercise {key[2]} "
                        f"in {source[key]} and {path}"
                    )
                merged[key], source[key] = r, path
            students_of[path] = {r["student"] for r in rows}
            record = read_shard_record(path)
            if record:
                records[path] = record
            else:
                print(f"note: {path} has no shard record ({shard_record(path).name}): not checked", file=sys.stderr)
        missing = missing_shards(records, students_of)
    except ValueError as exc:
        return usage_error(exc)
    for line in missing:
        print(f"missing: {line}", file=sys.stderr)
    if missing and not partial:
        print(
            f"error: {out} not written: a shard or a student is missing (--partial merges what there is)",
            file=sys.stderr,
        )
        return 1
    columns = [*COLUMNS, MISTAKE] if merged and all(MISTAKE in r for r in merged.values()) else COLUMNS
    students = sorted({s for s, _, _ in merged})
    handed_in = {f for _, f, _ in merged}
    filled = 0
    for student in students:  # a notebook (or exercise) others have but this student lacks: "not submitted"
        for filename in handed_in:
            for ex in exercises(KEYS[filename]):
                if (student, filename, ex.name) not in merged:
                    merged[student, filename, ex.name] = Result(
                        student, filename, ex.name, 0, ex.points, "not submitted"
                    ).row(columns)
                    filled += 1
    order = {
        (filename, ex.name): (i, j)
        for i, (key, filename) in enumerate(NOTEBOOKS.items())
        for j, ex in enumerate(exercises(key))
    }
    rows = [{c: merged[k][c] for c in columns} for k in sorted(merged, key=lambda k: (k[0], order[k[1], k[2]]))]
    write_gradebook(rows, Path(out), columns)
    shard_record(Path(out)).unlink(missing_ok=True)  # a shard's record from an earlier run
    print(summary([Result.from_row(r) for r in rows]))
    if MISTAKE not in columns:
        print(f"(mistakes not counted: the gradebooks have no {MISTAKE} column; grade with --mistake-column)")
    print(
        f"\n{'partial merge: ' if missing else ''}merged {len(students)} student(s), {len(rows)} row(s) "
        f"from {len(paths)} gradebook(s) into {out}"
        + (f" ({filled} 'not submitted' row(s) added)" if filled else "")
        + (f"; missing {len(missing)}: see above" if missing else "")
    )
    return 0
