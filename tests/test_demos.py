"""``python -m solutions.<lesson>``: every answer key runs as a demonstration, prints its fit and saves a figure."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograde.lessons import NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
SAYS = {"kmeans": "k-means on Old Faithful", "em_1d": "EM in 1-D", "gmm": "Gaussian mixture", "general_em": "ELBO ="}
SAYS["vae"] = "VAE on 500 MNIST digits"


def demo(lesson, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", f"solutions.{lesson}", "--small", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("lesson", sorted(NOTEBOOKS))
def test_each_answer_key_runs_as_a_demonstration(lesson, tmp_path):
    out = tmp_path / f"{lesson}.png"
    proc = demo(lesson, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert SAYS[lesson] in proc.stdout and f"figure saved to {out}" in proc.stdout
    assert out.read_bytes().startswith(b"\x89PNG")


def test_an_unwritable_figure_is_a_clear_error(tmp_path):
    proc = demo("kmeans", "--out", str(tmp_path / "missing-folder" / "k.png"))
    assert proc.returncode == 2 and "error: cannot write" in proc.stderr and "Traceback" not in proc.stderr
