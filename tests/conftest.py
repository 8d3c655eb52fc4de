"""Shared test configuration.

No test may depend on another having run before it. To show it, TEST_ORDER runs the collected tests
in another order: ``TEST_ORDER=reverse``, or ``TEST_ORDER=shuffle:SEED`` for a random order that the
same SEED repeats, e.g. ``TEST_ORDER=shuffle:1 python -m pytest -m "not slow and not browser"``.
"""

import ast
import inspect
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
def reference_lines():
    """Every line of every exercise's reference body that could carry an answer: not docstrings, comments,
    input conversion (np.asarray) or lines too short to say anything."""
    from autograde.lessons import NOTEBOOKS, exercises

    lines = set()
    for key in NOTEBOOKS:
        for exercise in exercises(key):
            source = inspect.getsource(exercise.reference)
            tree = ast.parse(source).body[0]
            body = tree.body[1:] if ast.get_docstring(tree) else tree.body
            for node in body:
                for line in ast.get_source_segment(source, node).splitlines():
                    line = line.split("#")[0].strip()
                    if len(line) > 25 and "np.asarray(" not in line:
                        lines.add(line)
    assert len(lines) > 10
    return lines


@pytest.fixture(scope="module")
def one_blas_thread():
    """These problems are small: more BLAS threads cost more than they save, far more on a busy machine."""
    with threadpool_limits(1):
        yield
