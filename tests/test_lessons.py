"""The lessons' declarations (autograde/lessons/<lesson>.py): one Exercise per exercise, names checked when the
module is imported, mistakes tied to their exercise by object, every case's data drawn from its own seed, and
a student copy that keeps the checks and drops the answers."""

import ast
import inspect
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from autograde import judge
from autograde.judge import Case, Exercise, Mistake
from autograde.lessons import NOTEBOOKS, exercises, lesson, student_source
from autograde.serial import encode

LESSONS = sorted(NOTEBOOKS)
SOURCE = Path(__file__).resolve().parent.parent / "autograde" / "lessons"


def judge_nothing(case, got, expected):
    pass


def declare(module_name, source):
    """Execute source as a module called module_name (as an import would) and return its namespace."""
    module = types.ModuleType(module_name)
    exec(compile(source, module_name, "exec"), module.__dict__)
    return module.__dict__


def test_exercise_names_are_unique_across_the_course(monkeypatch):
    exercises("kmeans")
    monkeypatch.setattr(judge, "_DECLARED", dict(judge._DECLARED))
    code = 'from autograde.judge import Exercise\nkmeans = Exercise("kmeans", points=1, judge=print, visible=[])\n'
    with pytest.raises(
        ValueError, match=r"two exercises are called kmeans: in autograde\.lessons\.kmeans and in other"
    ):
        declare("other", code)
    names = [ex.name for key in LESSONS for ex in exercises(key)]
    assert len(names) == len(set(names))


def test_a_declaration_is_checked_when_it_is_made():
    with pytest.raises(ValueError, match=r"its reference is .* not a function called f"):
        Exercise("f", points=1, judge=judge_nothing, visible=[], reference=judge_nothing)
    with pytest.raises(ValueError, match="hidden case 'x' has no kind"):
        Exercise("g", points=1, judge=judge_nothing, visible=[], hidden=[Case("x", [{}])])
    with pytest.raises(TypeError, match="uses lists exercises"):
        Exercise("h", points=1, judge=judge_nothing, visible=[], uses=["e_step"])
    twice = [Mistake("m", "a", "b"), Mistake("m", "c", "d")]
    with pytest.raises(ValueError, match="two mistakes are called 'm'"):
        Exercise("i", points=1, judge=judge_nothing, visible=[], mistakes=twice)
    taken = exercises("kmeans")[0].mistakes["not_random"]
    with pytest.raises(ValueError, match="already belongs to init_centroids"):
        Exercise("j", points=1, judge=judge_nothing, visible=[], mistakes=[taken])


def test_an_exercise_bound_to_another_name_is_an_error(monkeypatch):
    module = types.ModuleType("autograde.lessons.misnamed")
    monkeypatch.setattr(judge, "_DECLARED", dict(judge._DECLARED))
    exec(
        'from autograde.judge import Exercise\nwrong = Exercise("right", points=1, judge=print, visible=[])\n',
        vars(module),
    )
    monkeypatch.setitem(sys.modules, "autograde.lessons.misnamed", module)
    with pytest.raises(ValueError, match="the exercise right is bound to wrong"):
        exercises("misnamed")


def failure_ids(source):
    """The mistake ids written in Failure(message, "id") and Failure(..., mistake="id") calls of source."""
    return {
        arg.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Failure"
        for arg in node.args[1:2] + [k.value for k in node.keywords if k.arg == "mistake"]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    }


@pytest.mark.parametrize("key", LESSONS)
def test_mistakes_belong_to_their_exercise_and_judges_name_only_its_mistakes(key):
    for ex in exercises(key):
        assert ex.reference.__name__ == ex.name and ex.reference.__module__ == f"solutions.{key}"
        assert all(m.exercise is ex and callable(m.wrong) for m in ex.mistakes.values())
        assert all(helper in exercises(key) for helper in ex.uses)
        named = failure_ids(inspect.getsource(ex.judge))
        assert named <= set(ex.mistakes), f"{ex.name}'s judge names {named - set(ex.mistakes)}"
    everywhere = failure_ids((SOURCE / f"{key}.py").read_text())  # judges' helpers too
    assert everywhere <= {mid for ex in exercises(key) for mid in ex.mistakes}


@pytest.mark.parametrize("key", LESSONS)
def test_every_random_array_has_its_own_seed(key):
    tree = ast.parse((SOURCE / f"{key}.py").read_text())
    data = [stmt for stmt in tree.body if not isinstance(stmt, ast.FunctionDef)] + [  # and data helpers
        stmt
        for stmt in tree.body
        if isinstance(stmt, ast.FunctionDef) and "seed" in [a.arg for a in stmt.args.kwonlyargs + stmt.args.args]
    ]
    seeds = []
    for node in (n for stmt in data for n in ast.walk(stmt)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "default_rng":
            (seed,) = node.args  # a case's data: never a fresh, unseeded generator
            if isinstance(seed, ast.Constant):
                seeds.append(seed.value)
            else:  # a helper's generator: its seed is the helper's argument
                assert isinstance(seed, ast.Name), ast.dump(seed)
    assert len(seeds) == len(set(seeds)), f"seeds used twice: {sorted(s for s in seeds if seeds.count(s) > 1)}"
    shared = [n for n, v in vars(lesson(key)).items() if isinstance(v, (np.random.Generator, np.random.RandomState))]
    assert shared == [], "a module-level generator makes every later draw depend on the earlier ones"
    assert "np.random.seed(" not in (SOURCE / f"{key}.py").read_text()


def case_data(namespace):
    return {
        (v.name, i): json.dumps(encode(case.calls), sort_keys=True)
        for v in namespace.values()
        if isinstance(v, Exercise)
        for i, case in enumerate(v.visible + v.hidden)
    }


def test_adding_or_reordering_cases_changes_no_other_case(monkeypatch):
    """The k-means declarations executed as written and with a new random case before all others."""
    monkeypatch.setattr(judge, "_DECLARED", {})
    source = (SOURCE / "kmeans.py").read_text()
    before = case_data(declare("kmeans_as_written", source))
    monkeypatch.setattr(judge, "_DECLARED", {})
    new = 'Case("new", [{"X": np.random.default_rng(1).normal(size=(9, 2)), "k": 2, "rng": RngSeed(1)}]),'
    added = declare("kmeans_added", source.replace("    visible=[\n", f"    visible=[\n        {new}\n", 1))
    after = case_data(added)
    first = next(v for v in added.values() if isinstance(v, Exercise))
    assert first.visible[0].label == "new"
    shifted = {(name, i + 1 if name == first.name else i): data for (name, i), data in before.items()}
    assert {k: v for k, v in after.items() if k != (first.name, 0)} == shifted


@pytest.mark.parametrize("key", LESSONS)
def test_the_student_copy_keeps_the_checks_and_drops_the_answers(key, monkeypatch):
    monkeypatch.setattr(judge, "_DECLARED", {})
    monkeypatch.setitem(sys.modules, "solutions", None)  # the student's copy must not need the answers
    source = student_source(key)
    copy = declare(f"student_{key}", source)
    declared = {ex.name: ex for ex in exercises(key)}
    mine = {v.name: v for v in copy.values() if isinstance(v, Exercise)}
    assert list(mine) == list(declared)
    for name, ex in declared.items():
        got = mine[name]
        assert (got.points, got.random, [u.name for u in got.uses]) == (ex.points, ex.random, [u.name for u in ex.uses])
        assert [c.label for c in got.visible] == [c.label for c in ex.visible]
        assert [(m.id, m.title, m.hint, m.by_output) for m in got.mistakes.values()] == [
            (m.id, m.title, m.hint, m.by_output) for m in ex.mistakes.values()
        ]
        assert got.judge.__name__ == ex.judge.__name__
        assert (got.reference, got.hidden, got.alternatives) == (None, [], [])
        assert {m.wrong for m in got.mistakes.values()} == {None}
        for fn in [*(m.wrong for m in ex.mistakes.values()), *ex.alternatives]:
            assert f"def {fn.__code__.co_name}(" not in source
        for case in ex.hidden:
            assert f'kind="{case.kind}"' not in source
    assert "solutions" not in source
    with pytest.raises(RuntimeError, match="no reference here"):
        mine[next(iter(mine))]()


@pytest.mark.parametrize("key", sorted(NOTEBOOKS))
def test_no_two_mistakes_share_an_output_where_one_is_named_by_it(key):
    """A mistake named by its output (by_output) is unambiguous on every case, visible or hidden, where
    its output fails and no property of the output names a mistake: no other catalogued mistake gives the
    same output there."""
    from autograde import fixtures

    checked = 0
    for exercise in exercises(key):
        for case, expected, wrong in fixtures.expected_outputs(exercise, exercise.visible + exercise.hidden):
            for mid, outputs in wrong.items():
                if any(isinstance(out, judge.CallError) for out in outputs):
                    continue  # an error is reported as raised, not matched
                try:
                    exercise.judge(case, outputs, expected)
                except judge.Failure as failure:
                    if failure.mistake is None:
                        matches = [other for other, theirs in wrong.items() if all(map(judge.same, outputs, theirs))]
                        assert matches == [mid], f"{exercise.name}, {case.label}: {mid}'s output is also {matches}"
                        checked += 1
    assert checked >= sum(m.by_output for ex in exercises(key) for m in ex.mistakes.values())
