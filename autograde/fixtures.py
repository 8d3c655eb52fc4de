"""Visible-case fixtures: the expected outputs (and catalogued mistakes' outputs) of each visible case,
generated from solutions/ by ``python -m autograde fixtures`` so that checks work without solutions/."""

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from autograde.judge import CallError, Case
from autograde.lessons import NOTEBOOKS, exercises
from autograde.serial import call, decode, encode

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class ReferenceOutput:
    """An argument of a visible case that is what the reference's exercise returns on kwargs (an E-step's Q
    for the ELBO, say): computed from solutions/ when the fixtures are built and when grading, stored in the
    fixture as data, so that the lessons shipped to students compute no answer."""

    exercise: object  # the Exercise (called, it is its reference)
    kwargs: dict


def resolved(case):
    """The case with every ReferenceOutput among its arguments replaced by the reference's output."""
    if not any(isinstance(v, ReferenceOutput) for c in case.calls for v in c.values()):
        return case
    calls = [
        {name: v.exercise(**v.kwargs) if isinstance(v, ReferenceOutput) else v for name, v in c.items()}
        for c in case.calls
    ]
    return replace(case, calls=calls)


def roundtrip(value):
    """The value as the checker sees it after crossing as plain data."""
    return decode(json.loads(json.dumps(encode(value))))


def run_calls(fn, case):
    """Call fn once per call of the case, on fresh copies of the arguments; outputs as plain data."""
    outputs = []
    for seed, kwargs in enumerate(case.calls):
        try:
            outputs.append(roundtrip(call(fn, roundtrip(kwargs), seed)))
        except Exception as exc:  # the student's exception, reported as data
            outputs.append(CallError(type(exc).__name__, str(exc)))
    return outputs


def expected_outputs(exercise, cases):
    """[(case, expected outputs or None, {mistake id: outputs})] computed from the exercise's reference and
    from its mistakes matched by output."""
    wrong = {mid: m.wrong for mid, m in exercise.mistakes.items() if m.by_output}
    cases = [resolved(case) for case in cases]
    return [
        (
            case,
            None if exercise.random else run_calls(exercise.reference, case),
            {mid: run_calls(impl, case) for mid, impl in wrong.items()},
        )
        for case in cases
    ]


def build(key):
    """The fixture document of a lesson (JSON-able)."""
    doc = {}
    for exercise in exercises(key):
        doc[exercise.name] = [
            {
                "label": case.label,
                "calls": encode(case.calls),
                "expected": encode(exp),
                "mistakes": encode(wrong),
            }
            for case, exp, wrong in expected_outputs(exercise, exercise.visible)
        ]
    return {"lesson": key, "notebook": NOTEBOOKS[key], "exercises": doc}


def dump(doc):
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def write_all():
    FIXTURES.mkdir(exist_ok=True)
    for key in NOTEBOOKS:
        (FIXTURES / f"{key}.json").write_text(dump(build(key)))


def tolerance(dtype):
    """(rtol, atol as a fraction of the array's largest finite magnitude) for floats of dtype: far below
    the checks' rtol of 1e-5, far above the last bits that BLAS kernels, thread counts and CPUs change
    (float32, torch's results, in units of its own resolution)."""
    eps = float(np.finfo(dtype).eps)
    return max(1e-9, 4 * eps), max(1e-12, 4 * eps)


def same_values(a, b):
    """Numbers of one dtype and shape: integers and booleans equal, floats within tolerance (NaN equals
    NaN, inf the same inf)."""
    a, b = np.asarray(a), np.asarray(b)
    if b.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    rtol, atol = tolerance(b.dtype)
    scale = float(np.abs(b[np.isfinite(b)]).max(initial=0.0))
    return bool(np.allclose(a, b, rtol=rtol, atol=atol * scale, equal_nan=True))


NUMBERS = {"__array__": "data", "__scalar__": "value"}  # encoded NumPy values: the key that holds the numbers


def difference(stored, fresh, where="document"):
    """Where two fixture documents first differ as the checker tells values apart, or None: structure,
    labels, dtypes, shapes, integers, booleans and strings exactly, floats (in arrays too) by same_values."""
    if type(stored) is not type(fresh):
        return f"{where}: {type(stored).__name__} vs {type(fresh).__name__}"
    if isinstance(stored, dict):
        if stored.keys() != fresh.keys():
            return f"{where}: keys {sorted(stored)} vs {sorted(fresh)}"
        numbers = next((NUMBERS[tag] for tag in NUMBERS if tag in stored), None)
        found = first_difference((stored[k], fresh[k], f"{where}/{k}") for k in stored if k != numbers)
        if found is None and numbers is not None and not same_values(decode(fresh), decode(stored)):
            found = f"{where}: values differ"
        return found
    if isinstance(stored, list):
        if len(stored) != len(fresh):
            return f"{where}: {len(stored)} vs {len(fresh)} items"
        if stored and all(type(x) is float for x in stored + fresh):  # judged as one array, as the checker does
            return None if same_values(fresh, stored) else f"{where}: values differ"
        return first_difference((x, y, f"{where}/{i}") for i, (x, y) in enumerate(zip(stored, fresh)))
    if type(stored) is float:
        return None if same_values(fresh, stored) else f"{where}: {stored!r} vs {fresh!r}"
    return None if stored == fresh else f"{where}: {stored!r} vs {fresh!r}"


def first_difference(triples):
    """The first difference(stored, fresh, where) that is not None, or None."""
    return next((found for found in (difference(*t) for t in triples) if found is not None), None)


def stale():
    """{lesson: where its stored fixture first differs from what solutions/ generates now} (see difference)."""
    found = {}
    for key in NOTEBOOKS:
        path = FIXTURES / f"{key}.json"
        fresh = json.loads(dump(build(key)))
        where = difference(json.loads(path.read_text()), fresh) if path.exists() else "the file is missing"
        if where is not None:
            found[key] = where
    return found


def load(key, name):
    """[(Case, expected, mistake outputs)] of one exercise, from the stored fixture."""
    path = FIXTURES / f"{key}.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"the check data {path} is missing: reinstall the course files") from None
    out = []
    for item in doc["exercises"][name]:
        case = Case(item["label"], decode(item["calls"]))
        out.append((case, decode(item["expected"]), decode(item["mistakes"])))
    return out
