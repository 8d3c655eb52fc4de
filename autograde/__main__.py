"""python -m autograde {grade, merge, release, nbgrader, gradescope, export, prairielearn, solve, fixtures}: the
instructor's commands."""

import argparse
import sys

from autograde.lessons import NOTEBOOKS

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which builds a grammar for
# 2-3 s; notebooks use none of its formats, so every command starts without it.
sys.modules.setdefault("rfc3987_syntax", None)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograde", description=__doc__.split(":")[1].strip())
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade a folder of submissions (or self-check one notebook)")
    grade.add_argument(
        "path",
        help="class folder (a folder per student; nbgrader's submitted/; Canvas's or Gradescope's download), "
        "or a single .ipynb",
    )
    grade.add_argument("--out", help="gradebook CSV (default: gradebook.csv for a folder; none for one notebook)")
    grade.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: all cores)")
    grade.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per exercise (default: 20); a notebook gets 180 s or three times this, whichever is more",
    )
    grade.add_argument(
        "--isolation",
        choices=["kernel", "none"],
        default=None,
        help="kernel (the default): student code runs in a bubblewrap sandbox, and grading refuses where it "
        "cannot; none: without isolation, said in every output (a self-check of one notebook falls back to it)",
    )
    grade.add_argument("--shard", metavar="I/N", help="grade only shard I of N (every N-th student, from the I-th)")
    grade.add_argument(
        "--hidden-feedback",
        choices=["kind", "full", "none"],
        default="kind",
        help="what feedback tells of a failed hidden case: kind (the default): its kind and the catalogued "
        "mistake, never its inputs, values or how many there are; full: all, as for a visible case; none: only "
        "that one failed",
    )
    grade.add_argument(
        "--mistake-column",
        action="store_true",
        help="add a seventh gradebook column, mistake: the id of the catalogued mistake a row names (or empty)",
    )
    grade.add_argument(
        "--strict", action="store_true", help="exit 1 when the class folder looks wrong (the WARNING block)"
    )

    merge = sub.add_parser("merge", help="join shard gradebooks into one gradebook")
    merge.add_argument("out", help="the merged gradebook CSV")
    merge.add_argument("shards", nargs="+", help="the shards' gradebook CSVs")
    merge.add_argument(
        "--partial", action="store_true", help="merge even when a shard or a shard's student is missing (else exit 1)"
    )

    release = sub.add_parser("release", help="write the student bundle (no solutions, no hidden tests)")
    release.add_argument("out", help="output folder (new or empty)")

    fixtures = sub.add_parser(
        "fixtures", help="regenerate the visible-check fixtures and the notebooks' nbgrader metadata from the lessons"
    )
    fixtures.add_argument("--check", action="store_true", help="exit 1 if the stored fixtures are stale")

    solve = sub.add_parser("solve", help="write the solved notebooks (stubs replaced by the reference)")
    solve.add_argument("out", help="output folder")

    course = sub.add_parser("nbgrader", help="write an nbgrader course folder (config and source notebooks)")
    course.add_argument("course", help="the nbgrader course folder (created if missing)")

    gradescope = sub.add_parser("gradescope", help="write a Gradescope autograder zip (setup.sh, run_autograder)")
    gradescope.add_argument("out", help="the autograder zip to write")
    gradescope.add_argument(
        "--notebook",
        action="append",
        choices=list(NOTEBOOKS.values()),
        help="a notebook the assignment expects (repeat for more; default: every lesson's)",
    )
    gradescope.add_argument(
        "--isolation",
        choices=["kernel", "none"],
        default="kernel",
        help="kernel (the default): grading needs the sandbox; none: without it, where Gradescope's container "
        "forbids user namespaces (student code can then read the solutions and show them in its feedback)",
    )

    export = sub.add_parser("export", help="a gradebook's totals: a row per student, a column per notebook, a total")
    export.add_argument("gradebook", help="the gradebook CSV (python -m autograde grade or merge)")
    export.add_argument("--totals", required=True, help="the CSV to write")
    export.add_argument(
        "--roster",
        help="the LMS's students: Canvas's gradebook export (folder name = SIS Login ID), or a CSV with a "
        "`student` column (folder name) and the LMS's ids",
    )

    prairie = sub.add_parser("prairielearn", help="grade one notebook into PrairieLearn's external-grader results.json")
    prairie.add_argument("notebook", help="the submitted notebook (e.g. /grade/student/01_kmeans.ipynb)")
    prairie.add_argument("out", help="the results.json to write (e.g. /grade/results/results.json)")
    prairie.add_argument(
        "--isolation",
        choices=["kernel", "none"],
        default="kernel",
        help="kernel (the default): refuse to grade without the sandbox (gradable: false); none: grade without it",
    )

    args = parser.parse_args(argv)
    if args.command == "grade":
        from autograde.grade import main as grade_main

        return grade_main(args)
    if args.command == "merge":
        from autograde.grade import merge as merge_gradebooks

        return merge_gradebooks(args.out, args.shards, args.partial)
    if args.command == "release":
        from autograde.release import release as make_release

        try:
            print(f"student bundle written to {make_release(args.out)}")
        except FileExistsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "fixtures":
        from autograde import fixtures as fx
        from autograde.notebooks import NOTEBOOK_DIR, read, sync_metadata, with_metadata

        if args.check:
            bad = fx.stale()
            lines = [f"stale fixture {key}: {where}" for key, where in bad.items()]
            for key, filename in NOTEBOOKS.items():
                nb = read(NOTEBOOK_DIR / filename)
                if with_metadata(nb, key) != nb:
                    lines.append(f"{filename}: its nbgrader metadata is not what the declarations say")
            print("\n".join(lines) or "fixtures and notebook metadata are up to date")
            return 1 if lines else 0
        fx.write_all()
        written = sync_metadata()
        print(f"wrote {fx.FIXTURES}" + "".join(f"; the nbgrader metadata of {p.name}" for p in written))
        return 0
    if args.command == "nbgrader":
        from autograde.nbgrader_course import build

        for path in build(args.course):
            print(path)
        return 0
    if args.command == "gradescope":
        from autograde.platforms import gradescope as make_gradescope

        print(f"Gradescope autograder written to {make_gradescope(args.out, args.notebook, args.isolation)}")
        return 0
    if args.command == "export":
        from autograde.platforms import export as export_totals

        return export_totals(args.gradebook, args.totals, args.roster)
    if args.command == "prairielearn":
        from autograde.platforms import prairielearn

        results = prairielearn(args.notebook, args.out, args.isolation)
        print(f"{args.out}: score {results['score']:.3g}" + ("" if results["gradable"] else " (not gradable)"))
        return 0
    if args.command == "solve":
        from autograde.notebooks import write_solved

        for path in write_solved(args.out):
            print(path)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
