"""make bench: run the benchmarks and write benchmarks/README.md.

    python -m benchmarks [kmeans] [mixtures] [vae] [steppers] [notebooks] [grading] [comparison]
                         [--students N] [--nbgrader-students M]

Each benchmark writes its section to benchmarks/results/<name>.md; the README joins the sections
present, so one benchmark can be run again alone.
"""

import argparse
import os
import platform
import re
from pathlib import Path

import numpy as np
import scipy
import sklearn
import torch

from benchmarks import comparison, grading, kmeans, mixtures, notebooks, steppers, vae

HERE = Path(__file__).parent
BENCHMARKS = {
    "kmeans": lambda args: kmeans.main(),
    "mixtures": lambda args: mixtures.main(),
    "vae": lambda args: vae.main(),
    "steppers": lambda args: steppers.main(),
    "notebooks": lambda args: notebooks.main(),
    "grading": lambda args: grading.main(args.students, args.nbgrader_students),
    "comparison": lambda args: comparison.main(),
}
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_CORETYPE")


def machine():
    """The README's lines on the machine: CPU, thread settings, library versions."""
    cpuinfo = Path("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M) if cpuinfo.exists() else None
    cpu = model[1].strip() if model else platform.processor() or "cpu"
    threads = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in THREAD_VARIABLES)
    return [
        f"Machine: {platform.machine()}, {cpu}, {os.cpu_count()} CPUs; {threads}.",
        "",
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__},"
        f" scikit-learn {sklearn.__version__}, PyTorch {torch.__version__}.",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"which to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--students", type=int, default=200, help="class size of the grading benchmark")
    parser.add_argument(
        "--nbgrader-students", type=int, default=20, help="how many of the class nbgrader grades (the first ones)"
    )
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"no benchmark called {', '.join(sorted(unknown))}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    for name in args.names or BENCHMARKS:
        lines = BENCHMARKS[name](args)
        (results / f"{name}.md").write_text("\n".join(lines))
        print("\n".join(lines))
    sections = [(results / f"{name}.md").read_text() for name in BENCHMARKS if (results / f"{name}.md").exists()]
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks`).",
        "",
        *machine(),
        "",
    ]
    (HERE / "README.md").write_text("\n".join(header) + "\n" + "\n".join(sections))


if __name__ == "__main__":
    main()
