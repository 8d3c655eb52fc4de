"""Nothing the student bundle ships earns marks as a student's own answer.

Every function defined anywhere in the release's Python files (nested functions and methods too) whose
signature fits an exercise is handed in as that exercise, with its whole module around it, and graded by the
grader: it must score 0. The references, handed in the same way, get full marks, so that a zero is the
function's own and not the harness's.
"""

import ast
import importlib
import inspect
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import zip_longest

import nbformat
import pytest

from autograde import grade, sandbox
from autograde.lessons import NOTEBOOKS, exercises
from autograde.notebooks import function_source, lesson_notebook, role
from autograde.release import release

LIMITS = sandbox.Limits(cell_seconds=10, exercise_seconds=5, notebook_seconds=150)


@dataclass
class Candidate:
    where: str  # file:qualified name
    package: str  # the package its module belongs to
    module: list  # the module's top-level statements, run (each one that can) before the def
    source: str  # the def itself, dedented
    name: str
    method: bool  # defined in a class: its first parameter is the instance
    args: ast.arguments


def defined_functions(bundle):
    """Every function defined in the bundle's .py files, nested ones and methods included."""
    return [found for path in sorted(bundle.rglob("*.py")) for found in functions_in(path, bundle)]


def functions_in(path, bundle):
    text = path.read_text()
    tree = ast.parse(text)
    package = ".".join(path.relative_to(bundle).parts[:-1])
    module = [ast.get_source_segment(text, node) for node in tree.body]
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            name = getattr(child, "name", None)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorators = {ast.unparse(d) for d in child.decorator_list}
                found.append(
                    Candidate(
                        f"{path.relative_to(bundle)}:{prefix}{name}",
                        package,
                        module,
                        textwrap.dedent(ast.get_source_segment(text, child, padded=True)),
                        name,
                        isinstance(node, ast.ClassDef) and "staticmethod" not in decorators,
                        child.args,
                    )
                )
            visit(child, f"{prefix}{name}." if name else prefix)

    visit(tree, "")
    return found


def call_arguments(candidate, reference):
    """The arguments with which the exercise (reference's signature) calls the candidate: by name when it has
    the exercise's parameter names, else by position; None when its signature fits neither way."""
    args = candidate.args
    positional = [a.arg for a in args.posonlyargs + args.args][1 if candidate.method else 0 :]
    required = len(positional) - len(args.defaults)
    if required < 0 or any(default is None for default in args.kw_defaults):  # a required keyword-only parameter
        return None
    params = reference.parameters.values()
    names = [p.name for p in params]
    needed = [p.name for p in params if p.default is p.empty]
    by_name = set(positional[len(args.posonlyargs) :] + [a.arg for a in args.kwonlyargs])
    if set(needed) <= by_name and set(positional[:required]) <= set(needed):
        return [f"{n}={n}" for n in names if n in by_name]
    ordered = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    if required <= len(needed) and (len(needed) <= len(positional) or args.vararg):
        return ordered if args.vararg else ordered[: len(positional)]
    return None


def handed_in(exercise, signature, candidate, arguments, names):
    """A solution cell that defines the exercise as a call of the candidate, defined in a copy of its module
    where the lesson's exercises (names), unless the module defines them, are the notebook's."""
    ns, fn = f"_ns_{exercise}", f"_fn_{exercise}"
    call = ", ".join((["None"] if candidate.method else []) + arguments)
    return (
        f"{ns} = {{'__name__': {candidate.package + '._handed_in'!r}, '__package__': {candidate.package!r}}}\n"
        f"for _statement in {candidate.module!r}:\n"
        "    try:\n"
        f"        exec(_statement, {ns})\n"
        "    except Exception:\n"
        "        pass\n"
        f"for _name in {names!r}:\n"
        f"    {ns}.setdefault(_name, (lambda name: lambda *a, **k: globals()[name](*a, **k))(_name))\n"
        f"exec({candidate.source!r}, {ns})\n"
        f"{fn} = {ns}[{candidate.name!r}]\n\n\n"
        f"def {exercise}{signature}:\n"
        f"    return {fn}({call})\n"
    )


def reference_candidate(key, name):
    fn = getattr(importlib.import_module(f"solutions.{key}"), name)
    tree = ast.parse(function_source(fn))
    args = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name).args
    return Candidate(f"solutions/{key}.py:{name}", "solutions", [], function_source(fn), name, False, args)


@pytest.fixture(scope="module")
def functions(tmp_path_factory):
    found = defined_functions(release(tmp_path_factory.mktemp("bundle") / "release"))
    assert len(found) > 150 and any(c.where == "helpers/gmm.py:MixtureArtists.update" for c in found)
    return found


@pytest.fixture(scope="module")
def grader():
    grader = grade.Grader(LIMITS)
    yield grader
    grader.close()


@pytest.mark.slow
@pytest.mark.parametrize("key", list(NOTEBOOKS))
def test_no_function_of_the_bundle_earns_marks(functions, grader, key, tmp_path):
    module = importlib.import_module(f"solutions.{key}")
    queues = {}  # exercise -> [(candidate, cell)], the reference first
    names = [ex.name for ex in exercises(key)]
    for ex in exercises(key):
        signature = inspect.signature(getattr(module, ex.name))
        queue = queues[ex.name] = []
        for candidate in [reference_candidate(key, ex.name), *functions]:
            arguments = call_arguments(candidate, signature)
            if arguments is not None:
                queue.append((candidate, handed_in(ex.name, signature, candidate, arguments, names)))
    assert all(len(queue) > 1 for queue in queues.values())
    # round r hands in, for every exercise, its r-th candidate (the stub where it has none left)
    rounds = [dict(zip(queues, picks)) for picks in zip_longest(*queues.values())]
    filename = NOTEBOOKS[key]
    paths = []
    for r, picks in enumerate(rounds):
        nb = lesson_notebook(key)
        for cell in nb.cells:
            pick = picks.get(cell.metadata.get("nbgrader", {}).get("grade_id")) if role(cell) == "solution" else None
            if pick is not None:
                cell.source = pick[1]
        paths.append(tmp_path / f"round-{r}" / filename)
        paths[-1].parent.mkdir()
        nbformat.write(nb, paths[-1])
    with ThreadPoolExecutor(max_workers=2) as pool:
        graded = list(pool.map(lambda path: grader.grade(path.parent.name, filename, path), paths))
    scores = {}
    for picks, results in zip(rounds, graded):
        for r in results:
            if picks.get(r.exercise) is not None:
                assert "notebook's time limit" not in r.feedback, r.feedback  # every candidate was judged
                scores[r.exercise, picks[r.exercise][0].where] = (r.score, r.max_score, r.feedback)
    references = {ex: scores.pop((ex, f"solutions/{key}.py:{ex}")) for ex in queues}
    assert {ex: score == most for ex, (score, most, _) in references.items()} == dict.fromkeys(queues, True)
    earning = {pair: feedback for pair, (score, _, feedback) in scores.items() if score > 0}
    assert earning == {}, f"{len(earning)} function(s) of the bundle earn marks as an exercise: {list(earning)}"
