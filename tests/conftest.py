"""Shared test configuration.

No test may depend on another having run before it. To show it, TEST_ORDER runs the collected tests
in another order: ``TEST_ORDER=reverse``, or ``TEST_ORDER=shuffle:SEED`` for a random order that the
same SEED repeats, e.g. ``TEST_ORDER=shuffle:1 python -m pytest -m "not slow and not browser"``.
"""

import ast
import os
import random
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits


def pytest_report_header(config):
    return f"test order: {os.environ.get('TEST_ORDER') or 'as collected'}"


def pytest_collection_modifyitems(config, items):
    order = os.environ.get("TEST_ORDER", "")
    if order == "reverse":
        items.reverse()
    elif order.startswith("shuffle:"):
        random.Random(order.removeprefix("shuffle:")).shuffle(items)
    elif order:
        raise pytest.UsageError(f"TEST_ORDER must be 'reverse' or 'shuffle:SEED'; got {order!r}")


@pytest.fixture(scope="session")
def processes_of():
    """processes_of(library): the processes still running from a grading run's library (the sandbox and
    whatever it forked)."""

    def alive(library):
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and str(library).encode() in (proc / "cmdline").read_bytes():
                    found.append(proc.name)
            except OSError:  # it ended meanwhile
                pass
        return found

    return alive


@pytest.fixture(scope="session")
def answers_in():
    """answers_in(text): the exercises whose reference answer the text holds, with the lines found.

    An answer is the lines of the functions of an exercise's solved cell that could carry it: not docstrings, comments,
    input checks (validate.*, np.asarray, np.errstate) or lines too short to say anything. The lessons give
    a line or two of an answer as hints, so an exercise counts as given away when more than half of its
    answer lines are in the text.
    """
    from autograde.lessons import NOTEBOOKS, exercises
    from autograde.notebooks import function_source

    answers = {}
    for key in NOTEBOOKS:
        for exercise in exercises(key):
            source = function_source(exercise.reference)  # its solved cell: with the private helpers it uses
            lines = answers[exercise.name] = set()
            for fn in (node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)):
                body = fn.body[1:] if ast.get_docstring(fn) else fn.body
                for line in (line for node in body for line in ast.get_source_segment(source, node).splitlines()):
                    line = line.split("#")[0].strip()
                    if len(line) > 25 and not any(s in line for s in ("validate.", "np.asarray(", "np.errstate(")):
                        lines.add(line)
    assert all(answers.values()) and sum(map(len, answers.values())) > 50

    def found(text):
        hits = {name: sorted(line for line in lines if line in text) for name, lines in answers.items()}
        return {name: hit for name, hit in hits.items() if len(hit) > len(answers[name]) / 2}

    return found


@pytest.fixture(scope="module")
def one_blas_thread():
    """These problems are small: more BLAS threads cost more than they save, far more on a busy machine."""
    with threadpool_limits(1):
        yield
