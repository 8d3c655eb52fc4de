"""The solved notebooks run top to bottom: with FAST=1 (as the tests and the grader run them) and without.

The notebooks are those of `python -m autograde solve`, written to a temporary folder and executed there
by nbclient on the course's `python3` kernel (this Python), which inherits the environment shown in the
header but FAST. The wall time includes starting the kernel; any cell error stops the benchmark.
"""

import os
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from autograde.notebooks import write_solved


def run_seconds(path, fast):
    """Wall seconds to execute the notebook at path in its folder, with FAST=1 or without FAST."""
    nb = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "FAST"} | ({"FAST": "1"} if fast else {})
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start


def main():
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        times = {p.name: (run_seconds(p, True), run_seconds(p, False)) for p in write_solved(tmp)}
    fast, slow = (sum(t[i] for t in times.values()) for i in (0, 1))
    return [
        "## The solved notebooks, run top to bottom",
        "",
        "Wall seconds to execute each solved notebook (`python -m autograde solve`) with nbclient, kernel start"
        " included, with `FAST=1` (as the tests and nbgrader run them: small data, few iterations) and without"
        " (what a student runs).",
        "",
        "| notebook | FAST on (s) | FAST off (s) |",
        "|---|---|---|",
        *[f"| {name} | {on:.1f} | {off:.1f} |" for name, (on, off) in times.items()],
        f"| total | {fast:.1f} | {slow:.1f} |",
        "",
    ]
