"""How a result is judged: type, then shape, then values, then properties; known mistakes named.

Everything here works on plain data (see serial.py): the student's values arrive decoded, the
expected values come from fixtures (in the notebook) or from solutions/ (when grading).
"""

import sys
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from autograde.serial import Opaque


@dataclass
class Case:
    """One checked situation: a label for the student and the calls' keyword arguments.

    A hidden case also has a kind: the category of situation it tests ("an empty cluster"), what a
    student is told of it instead of its label (see explain)."""

    label: str
    calls: list  # list of dicts of keyword arguments (plain data; RngSeed for generators)
    kind: str = ""


class Mistake:
    """A catalogued mistake: its id, its name for students, the hint that fixes it and, on the instructor's
    side, wrong: the reference with this one mistake (the tests submit it and expect exactly this mistake to
    be named). by_output: recognised by matching wrong's outputs (otherwise the judge names it).
    The Exercise that lists it ties it to itself (mistake.exercise)."""

    def __init__(self, id, title, hint, wrong=None, by_output=False):
        self.id, self.title, self.hint, self.wrong, self.by_output = id, title, hint, wrong, by_output
        self.exercise = None

    def __repr__(self):
        return f"Mistake({self.id!r})"


_DECLARED = {}  # exercise name -> the module that declares it: names are unique across the course


class Exercise:
    """One exercise, declared once in its lesson module (autograde/lessons/<lesson>.py): everything else reads it.

    name: the function's name (the notebook's grade_id); points; judge(case, got, expected) raises Failure;
    visible and hidden: Cases (a hidden case needs a kind); reference: the answer key's function (instructor
    side); mistakes: the catalogued Mistakes; uses: the exercises whose functions it calls (answered by the
    reference when it is graded); random: judged by properties alone (no expected outputs); alternatives:
    correct implementations written differently from the reference (instructor side), which must pass.

    The student release keeps name, points, judge, visible, uses, random and the mistakes' ids, titles and hints
    (see autograde.lessons.student_source)."""

    def __init__(
        self,
        name,
        *,
        points,
        judge,
        visible,
        hidden=(),
        reference=None,
        mistakes=(),
        uses=(),
        random=False,
        alternatives=(),
    ):
        self.name, self.points, self.judge, self.random = name, points, judge, random
        self.visible, self.hidden, self.reference = list(visible), list(hidden), reference
        self.uses, self.alternatives = list(uses), list(alternatives)
        self.mistakes = {}
        for mistake in mistakes:
            if mistake.id in self.mistakes:
                raise ValueError(f"{name}: two mistakes are called {mistake.id!r}")
            if mistake.exercise is not None:
                raise ValueError(f"{name}: mistake {mistake.id!r} already belongs to {mistake.exercise.name}")
            mistake.exercise = self
            self.mistakes[mistake.id] = mistake
        if reference is not None and getattr(reference, "__name__", None) != name:
            raise ValueError(f"{name}: its reference is {reference!r}, not a function called {name}")
        for helper in self.uses:
            if not isinstance(helper, Exercise):
                raise TypeError(f"{name}: uses lists exercises (the objects), not {helper!r}")
        for case in self.hidden:
            if not case.kind:
                raise ValueError(f"{name}: hidden case {case.label!r} has no kind (what students are told of it)")
        module = sys._getframe(1).f_globals.get("__name__", "")
        other = _DECLARED.setdefault(name, module)
        if other != module:
            raise ValueError(f"two exercises are called {name}: in {other} and in {module}; names are unique")

    def __call__(self, *args, **kwargs):
        """An exercise called is its reference: a mistaken or alternative implementation in the lesson module
        calls other exercises by name, as a notebook's function calls the student's own."""
        if self.reference is None:
            raise RuntimeError(f"{self.name}: no reference here (the student's copy of the course has no answers)")
        return self.reference(*args, **kwargs)

    def __repr__(self):
        return f"Exercise({self.name!r})"


class Failure(Exception):
    """A case failed: message for the student, the catalogued mistake if one was recognised, and the
    type of the exception the student's function raised, if it raised."""

    def __init__(self, message, mistake=None, raised=None):
        super().__init__(message)
        self.message = message
        self.mistake = mistake
        self.raised = raised


def describe(value):
    """How a value looks, for messages: 'ndarray of shape (3, 2)', 'float', 'list of 4 items'."""
    if isinstance(value, Opaque):
        return f"a {value.type_name} object"
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, tuple):
        return f"tuple of {len(value)} items"
    if isinstance(value, list):
        return f"list of {len(value)} items"
    if isinstance(value, dict):
        return f"dict with the keys {sorted(map(str, value))}"
    if value is None:
        return "None (did you forget to return?)"
    return type(value).__name__


def fmt(x):
    """A value as students read it: plain numbers (floats to 6 significant digits), arrays as nested lists."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, Integral):
        return str(int(x))
    if isinstance(x, Real):
        return f"{float(x):.6g}"
    if isinstance(x, list):
        return "[" + ", ".join(map(fmt, x)) + "]"
    if isinstance(x, tuple):
        return "(" + ", ".join(map(fmt, x)) + ("," if len(x) == 1 else "") + ")"
    return repr(x)


def as_number(got, what, integer=False):
    """A number from a Python/NumPy scalar or 0-d array; Failure if it is anything else."""
    if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "biuf":
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, Real):
        raise Failure(f"{what} must be a number; got {describe(got)}")
    if integer and not (isinstance(got, Integral) or float(got).is_integer()):
        raise Failure(f"{what} must be a whole number; got {fmt(got)}")
    return int(got) if integer else float(got)


def as_array(got, what, shape=None, integer=False):
    """An ndarray from an array or a (nested) list of numbers, checked for kind and shape."""
    if isinstance(got, (Opaque, dict, str)) or got is None or isinstance(got, (Real, np.generic)):
        raise Failure(f"{what} must be an array; got {describe(got)}")
    try:
        array = np.asarray(got)
    except ValueError:
        raise Failure(f"{what} must be a rectangular array; got ragged nested lists") from None
    if array.dtype.kind not in "biuf":
        raise Failure(f"{what} must hold numbers; got {describe(got)}")
    if shape is not None and array.shape != tuple(shape):
        raise Failure(f"{what} must have shape {fmt(tuple(shape))}; got shape {array.shape}")
    if integer:
        if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array))):
            raise Failure(f"{what} must hold integers; got {describe(got)}")
        array = array.astype(np.int64)
    return array


def _magnitude(expected):
    """The largest finite |expected| (0 if there is none): the scale of the absolute tolerance."""
    finite = np.abs(np.asarray(expected, dtype=float))
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size else 0.0


def matches(got, expected, rtol=1e-5, atol=1e-8):
    """Entrywise: equal up to float32 rounding, tolerances scaled by the magnitude of the expected values;
    an infinity matches only the same infinity, NaN only NaN."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    with np.errstate(invalid="ignore"):  # inf - inf
        near = np.abs(got - expected) <= np.abs(expected) * rtol + atol + 1e-6 * _magnitude(expected)
    return np.where(np.isfinite(expected), near, (got == expected) | (np.isnan(got) & np.isnan(expected)))


def close(got, expected, rtol=1e-5, atol=1e-8):
    """Every entry matches (see matches)."""
    return bool(np.all(matches(got, expected, rtol, atol)))


def compare_array(got, expected, what, rtol=1e-5, integer=False):
    """Type, shape, then values of an array result against the expected ndarray."""
    array = as_array(got, what, expected.shape, integer=integer or expected.dtype.kind in "iub")
    nan = np.isnan(array) & ~np.isnan(expected)
    if np.any(nan):
        raise Failure(f"{what} contains NaN at {np.argwhere(nan)[0].tolist()}")
    if integer or expected.dtype.kind in "iub":
        bad = np.argwhere(array != expected)
    else:
        bad = np.argwhere(~matches(array, expected, rtol))
    if len(bad):
        idx = tuple(bad[0])
        where = f"[{', '.join(map(str, idx))}]" if idx else ""
        raise Failure(
            f"{len(bad)} of {expected.size} entries of {what} are wrong; "
            f"e.g. {what}{where}: expected {fmt(expected[idx])}, got {fmt(array[idx])}"
        )
    return array


def compare_number(got, expected, what, rtol=1e-5):
    value = as_number(got, what)
    if not close(value, expected, rtol):
        raise Failure(f"{what} should be {fmt(expected)}; got {fmt(value)}")
    return value


def compare(got, expected, what="the result", rtol=1e-5):
    """Generic comparison by the expected value's structure (tuples element by element). what names the value in
    messages; for a tuple it may be the names of its elements, in the lesson's symbols: ("phi", "mu", "Sigma")."""
    if isinstance(expected, tuple) and isinstance(what, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise Failure(f"the result must be a tuple ({', '.join(what)}); got {describe(got)}")
        return tuple(compare(g, e, name, rtol) for g, e, name in zip(got, expected, what))
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)):
            raise Failure(f"{what} must be a tuple of {len(expected)} values; got {describe(got)}")
        if len(got) != len(expected):
            raise Failure(f"{what} must have {len(expected)} values; got {len(got)}")
        return tuple(compare(g, e, f"{what}[{i}]", rtol) for i, (g, e) in enumerate(zip(got, expected)))
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            keys = ", ".join(map(repr, expected))
            raise Failure(f"{what} must be a dict with the keys {keys}; got {describe(got)}")
        return {key: compare(got[key], value, f'{what}["{key}"]', rtol) for key, value in expected.items()}
    if isinstance(expected, str):
        if got != expected:
            raise Failure(f"{what} should be {expected!r}; got {describe(got)}")
        return got
    if isinstance(expected, (CallError, Opaque)):  # a mistaken implementation's error or object: no value to match
        raise Failure(f"{what} cannot be checked against {expected}")
    if isinstance(expected, (bool, np.bool_)):
        if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind == "b":
            got = got[()]
        if not isinstance(got, (bool, np.bool_)):
            raise Failure(f"{what} must be True or False; got {describe(got)}")
        if bool(got) != bool(expected):
            raise Failure(f"{what} should be {bool(expected)}; got {bool(got)}")
        return bool(got)
    if isinstance(expected, np.ndarray):
        return compare_array(got, expected, what, rtol)
    if isinstance(expected, (list,)):
        return compare_array(got, np.asarray(expected, dtype=float), what, rtol)
    if isinstance(expected, (Integral, np.integer)) and not isinstance(expected, bool):
        value = as_number(got, what, integer=True)
        if value != expected:
            raise Failure(f"{what} should be {fmt(expected)}; got {value}")
        return value
    return compare_number(got, float(expected), what, rtol)


def same(a, b):
    """True when two decoded results are equal (for matching a catalogued mistake's output).

    Two errors are the same when their type and message are; an error is never the same as a value.
    """
    if isinstance(a, CallError) or isinstance(b, CallError):
        return (
            isinstance(a, CallError)
            and isinstance(b, CallError)
            and (a.type_name, a.message) == (b.type_name, b.message)
        )
    try:
        compare(a, b)
    except Failure:
        return False
    return True


class CallError:
    """The student's function raised instead of returning (plain data: exception type and message)."""

    def __init__(self, type_name, message):
        self.type_name = type_name
        self.message = message

    def __str__(self):
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


def judge_case(exercise, case, got, expected=None, mistake_outputs=None):
    """Judge one case; on failure, name the catalogued mistake whose output the student's matches."""
    for i, out in enumerate(got):
        if isinstance(out, CallError):
            call = f" (call {i + 1} of {len(got)})" if len(got) > 1 else ""
            raise Failure(f"{exercise.name} raised {out}{call}", raised=out.type_name)
    try:
        exercise.judge(case, got, expected)
    except Failure as failure:
        if failure.mistake is None:
            for mistake, outputs in (mistake_outputs or {}).items():
                if all(same(a, b) for a, b in zip(got, outputs)):
                    failure.mistake = mistake
                    break
        raise


HIDDEN_FEEDBACK = ("kind", "full", "none")  # what a student is told of a failed hidden case (see explain)


def explain(exercise, index, total, case, failure, hidden=None):
    """The student-facing lines for a failed case: what went wrong and, if known, the mistake and fix.

    A visible case (hidden=None) is shown in full: its number among the total, its label, the message.
    A hidden case by HIDDEN_FEEDBACK: "full" as a visible one; "kind" only its kind, the type of the
    exception raised if any, and the catalogued mistake: never its inputs, expected or returned values,
    or how many hidden cases there are; "none" only that a hidden case failed.
    """
    if hidden == "none":
        return f"✘ {exercise.name}: a hidden case failed."
    if hidden == "kind":
        raised = f"; {exercise.name} raised {failure.raised}" if failure.raised else ""
        lines = [f"✘ {exercise.name}: the visible cases pass, but a hidden case failed: {case.kind}{raised}."]
    else:
        which = "hidden case" if hidden else "case"
        lines = [f"✘ {exercise.name}: {which} {index + 1} of {total} ({case.label}): {failure.message}."]
    mistake = exercise.mistakes.get(failure.mistake)
    if mistake is not None:
        lines.append(f"  Mistake: {mistake.title}. Hint: {mistake.hint}")
    return "\n".join(lines)
