"""The solved notebooks run top to bottom: with FAST=1 (as the tests and the grader run them), without,
and without FAST under the load of the test suite, against the time each notebook states.

The notebooks are those of `python -m autograde solve`, written to a temporary folder and executed there
by nbclient on the course's `python3` kernel (this Python), which inherits the environment shown in the
header but FAST. The wall time includes starting the kernel; any cell error stops the benchmark. The load
is the fast half of `make test` (`pytest -m "not slow" -n 2`), started again whenever it ends, on the same cores.
"""

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograde.notebooks import write_solved

ROOT = Path(__file__).resolve().parent.parent
WORDS = {"half a minute": 30, "a minute": 60}
TARGET = 1.5  # a stated time must hold within this factor under the test suite's load


def stated_seconds(nb):
    """The seconds the notebook's "**Time:**" line says a run of the solved notebook takes."""
    text = next(cell.source for cell in nb.cells if "**Time:**" in cell.source)
    line = " ".join(text[text.index("**Time:**") :].split())
    found = re.search(
        r"(?:solved notebook|whole solved notebook) (?:takes|runs in) about (\d+ seconds|[a-z ]+?minute)", line
    )
    if not found:
        raise ValueError(f"no stated time for a run of the solved notebook in {line[:200]!r}")
    amount = found[1]
    return int(amount.split()[0]) if amount[0].isdigit() else WORDS[amount]


def run_seconds(path, fast):
    """Wall seconds to execute the notebook at path in its folder, with FAST=1 or without FAST."""
    nb = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "FAST"} | ({"FAST": "1"} if fast else {})
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start


@contextlib.contextmanager
def tests_running():
    """The fast tests running meanwhile, again and again, as make test loads the machine."""
    stop, current = threading.Event(), []

    def keep_running():
        while not stop.is_set():
            command = [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-n", "2", "--dist", "loadfile"]
            command += ["-p", "no:cacheprovider"]  # as make test runs them
            current[:] = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
            current[0].wait()

    worker = threading.Thread(target=keep_running, daemon=True)
    worker.start()
    time.sleep(20)  # past collection: the tests themselves are running
    try:
        yield
    finally:
        stop.set()
        while worker.is_alive():  # the worker may have started another run just before it saw stop
            current[0].kill()
            worker.join(timeout=1)


def main():
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        paths = write_solved(tmp)
        stated = {p.name: stated_seconds(nbformat.read(p, as_version=4)) for p in paths}
        times = {p.name: [run_seconds(p, True), run_seconds(p, False)] for p in paths}
        with tests_running():
            for p in paths:
                times[p.name].append(run_seconds(p, False))
    totals = [sum(t[i] for t in times.values()) for i in range(3)]
    rows = [
        f"| {name} | {stated[name]} | {on:.1f} | {off:.1f} | {loaded:.1f} | **{loaded / stated[name]:.2f}x** |"
        for name, (on, off, loaded) in times.items()
    ]
    return [
        "## The solved notebooks, run top to bottom",
        "",
        "Wall seconds to execute each solved notebook (`python -m autograde solve`) with nbclient, kernel start"
        " included: with `FAST=1` (as the tests and nbgrader run them: small data, few iterations), without"
        " (what a student runs), and without while the fast tests (`pytest -m 'not slow' -n 2`) run on the same"
        f" cores, against the time the notebook states (target: {TARGET}x or less under that load).",
        "",
        "| notebook | stated (s) | FAST on (s) | FAST off (s) | FAST off, tests running (s) | loaded / stated |",
        "|---|---|---|---|---|---|",
        *rows,
        f"| total | {sum(stated.values())} | {totals[0]:.1f} | {totals[1]:.1f} | {totals[2]:.1f} | |",
        "",
    ]
