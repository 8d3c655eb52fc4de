"""check(fn): the locked check cell of every exercise, run in the student's own notebook."""

import os

from autograde import fixtures
from autograde.judge import CallError, Failure, explain, judge_case
from autograde.lessons import find_exercise


def check(fn):
    """Run the visible cases of the exercise that fn implements and report in one line.

    Raises AssertionError with a diagnosis (the case, what was expected against what came back,
    and the catalogued mistake with a hint when the output matches one).
    """
    name = getattr(fn, "__name__", None)
    if not callable(fn) or name is None:
        raise TypeError(f"check takes your function itself, e.g. check(assign_clusters); got {fn!r}")
    try:
        key, exercise = find_exercise(name)
    except KeyError as exc:
        raise AssertionError(f"✘ {exc.args[0]}. Keep the function's name as given in the exercise.") from None
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        try:  # on the instructor's side, nbgrader's verdict comes from the isolated grader
            from autograde.nbgrader_course import grade_here
        except ImportError:  # a student's copy of the course has no grader
            pass
        else:
            return grade_here(key, name)
    cases = fixtures.load(key, name)
    for index, (case, expected, mistake_outputs) in enumerate(cases):
        got = fixtures.run_calls(fn, case)
        error = next((out for out in got if isinstance(out, CallError)), None)
        if error is not None and error.type_name == "NotImplementedError":
            raise AssertionError(
                f"✘ {name}: not implemented yet. Replace `raise NotImplementedError()` with your code, "
                "run that cell, then run this check again."
            ) from None
        try:
            judge_case(exercise, case, got, expected, mistake_outputs)
        except Failure as failure:
            raise AssertionError(explain(exercise, index, len(cases), case, failure)) from None
    print(f"✔ {name}: all {len(cases)} visible cases pass.")
