"""Visible-case fixtures: the expected outputs (and catalogued mistakes' outputs) of each visible case,
generated from solutions/ by ``python -m autograde fixtures`` so that checks work without solutions/."""

import importlib
import json
from pathlib import Path

from autograde.judge import CallError, Case
from autograde.lessons import NOTEBOOKS, lesson
from autograde.serial import call, decode, encode

FIXTURES = Path(__file__).parent / "fixtures"


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


def reference(key, name):
    return getattr(importlib.import_module(f"solutions.{key}"), name)


def mistaken(key, exercise):
    """{mistake id: mistaken implementation} for the mistakes matched by output."""
    module = importlib.import_module(f"autograde.mistakes.{key}")
    return {mid: getattr(module, f"{exercise.name}__{mid}") for mid, m in exercise.mistakes.items() if m.by_output}


def expected_outputs(key, exercise, cases):
    """[(case, expected outputs or None, {mistake: outputs})] computed from solutions/ and mistakes/."""
    fn = reference(key, exercise.name)
    wrong = mistaken(key, exercise)
    return [
        (
            case,
            None if exercise.random else run_calls(fn, case),
            {mid: run_calls(impl, case) for mid, impl in wrong.items()},
        )
        for case in cases
    ]


def build(key):
    """The fixture document of a lesson (JSON-able)."""
    doc = {}
    for exercise in lesson(key).EXERCISES:
        doc[exercise.name] = [
            {
                "label": case.label,
                "calls": encode(case.calls),
                "expected": encode(exp),
                "mistakes": encode(wrong),
            }
            for case, exp, wrong in expected_outputs(key, exercise, exercise.visible)
        ]
    return {"lesson": key, "notebook": NOTEBOOKS[key], "exercises": doc}


def dump(doc):
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def write_all():
    FIXTURES.mkdir(exist_ok=True)
    for key in NOTEBOOKS:
        (FIXTURES / f"{key}.json").write_text(dump(build(key)))


def stale():
    """Names of fixture files that differ from what solutions/ generates now."""
    return [
        key
        for key in NOTEBOOKS
        if not (FIXTURES / f"{key}.json").exists() or (FIXTURES / f"{key}.json").read_text() != dump(build(key))
    ]


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
