"""check(fn): the locked check cell of every exercise, run in the student's own notebook."""

import os
import sys

from autograde import fixtures
from autograde.judge import CallError, Failure, explain, judge_case
from autograde.lessons import find_exercise
from autograde.serial import call


class CheckFailed(AssertionError):
    """A failed check. Where it is raised (nbgrader, scripts, tests) IPython shows its message alone, no
    traceback through the checker: it renders an exception by its _render_traceback_."""

    def _render_traceback_(self):
        return str(self).splitlines()


def _in_notebook():
    """True in a Jupyter kernel that a student runs (not under nbgrader, which sets NBGRADER_EXECUTION)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell" and not os.environ.get("NBGRADER_EXECUTION")


def check(fn):
    """Run the visible cases of the exercise that fn implements and report in one line.

    In a student's notebook a failure is shown (the case, what was expected against what came back, and the
    catalogued mistake with a hint when the output matches one) and the notebook goes on under Run All;
    elsewhere (nbgrader, `autograde check`, scripts) it raises CheckFailed, an AssertionError.
    """
    name = getattr(fn, "__name__", None)
    if not callable(fn) or name is None:
        raise TypeError(f"check takes your function itself, e.g. check(assign_clusters); got {fn!r}")
    try:
        key, exercise = find_exercise(name)
    except KeyError as exc:
        return _fail(f"✘ {exc.args[0]}. Keep the function's name as given in the exercise.")
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        try:  # on the instructor's side, nbgrader's verdict comes from the isolated grader
            from autograde.nbgrader_course import grade_here
        except ImportError:  # a student's copy of the course has no grader
            pass
        else:
            return grade_here(key, name)
    verdict = verdict_of(fn, key, exercise)
    if verdict is not None:
        return _fail(verdict)
    print(f"✔ {name}: all {len(exercise.visible)} visible cases pass.")


def _fail(message):
    if _in_notebook():
        print(message, file=sys.stderr)
        return None
    raise CheckFailed(message)


_NOT_IMPLEMENTED = (
    "✘ {name}: not implemented yet. Replace `raise NotImplementedError()` with your code, run that cell, then run "
    "this check again."
)


def _still_the_stub(fn, case):
    """True when fn itself (not a function it calls) raises NotImplementedError on the case's first call."""
    try:
        call(fn, fixtures.roundtrip(case.calls[0]), 0)
    except NotImplementedError as exc:
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        return tb.tb_frame.f_code is getattr(fn, "__code__", None)
    except Exception:  # anything else is for the cases to judge
        return False
    return False


def verdict_of(fn, key, exercise):
    """None if fn passes the exercise's visible cases, else what the check says. A composite exercise is judged
    only once the helpers it calls pass their own checks, so that a mistake is reported at its function."""
    if exercise.uses and _still_the_stub(fn, fixtures.load(key, exercise.name)[0][0]):
        return _NOT_IMPLEMENTED.format(name=exercise.name)
    helpers = getattr(fn, "__globals__", {})
    for helper in exercise.uses:
        own = helpers.get(helper.name)
        if callable(own) and verdict_of(own, key, helper) is not None:
            return (
                f"✘ {exercise.name}: not checked yet: it calls {helper.name}, which does not pass its own check. "
                f"Fix {helper.name} first (check({helper.name}) says what is wrong), then run this check again."
            )
    cases = fixtures.load(key, exercise.name)
    for index, (case, expected, mistake_outputs) in enumerate(cases):
        got = fixtures.run_calls(fn, case)
        error = next((out for out in got if isinstance(out, CallError)), None)
        if error is not None and error.type_name == "NotImplementedError":
            return _NOT_IMPLEMENTED.format(name=exercise.name)
        try:
            judge_case(exercise, case, got, expected, mistake_outputs)
        except Failure as failure:
            return explain(exercise, index, len(cases), case, failure)
    return None
