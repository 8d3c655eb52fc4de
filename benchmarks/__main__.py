"""make bench: run the benchmarks and write benchmarks/README.md.

    python -m benchmarks [kmeans] [mixtures] [grading] [steppers] [--students N]

Each benchmark writes its section to benchmarks/results/<name>.md; the README joins the sections
present, so one benchmark can be run again alone.
"""

import argparse
import platform
from pathlib import Path

import numpy as np

from benchmarks import grading, kmeans, mixtures, steppers

HERE = Path(__file__).parent
BENCHMARKS = {
    "kmeans": lambda args: kmeans.main(),
    "mixtures": lambda args: mixtures.main(),
    "grading": lambda args: grading.main(args.students),
    "steppers": lambda args: steppers.main(),
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"which to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--students", type=int, default=200, help="class size of the grading benchmark")
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
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}; Python {platform.python_version()},"
        f" NumPy {np.__version__}.",
        "",
    ]
    (HERE / "README.md").write_text("\n".join(header) + "\n" + "\n".join(sections))


if __name__ == "__main__":
    main()
