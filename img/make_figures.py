"""Regenerate the figures shown in the notebooks' markdown cells, and embed them in the notebooks.

Run from the course environment (``make`` installs helpers and solutions)::

    python img/make_figures.py          # draw every figure into img/, copy those of COPIED, then embed() them
    python img/make_figures.py --check  # exit 1 if a notebook's embedded figure differs from img/, or a copy
                                        # in img/ from its source

The figures are drawn from the reference solutions, with the same helpers the notebooks use, except those of
COPIED, which a benchmark draws (in minutes) and this script copies into img/. A notebook
shows a figure as an attachment of its markdown cell (``![alt](attachment:NAME.png)``), not as a link to
``../img/NAME.png``, which breaks when JupyterLab starts in another folder than the repository's root:
``embed()`` copies img/NAME.png into every markdown cell that shows it, so the two cannot drift apart
as long as the figures are redrawn with this script.
"""

import base64
import re
import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
import nbformat
import numpy as np

from helpers import ClusterArtists, kmeans_history
from solutions.kmeans import assign_clusters, compute_distortion, update_centroids

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "img"
NOTEBOOKS = ROOT / "notebooks"
# figures drawn elsewhere: img/NAME.png is a copy of its source, made by this script
COPIED = {"comparison.png": ROOT / "benchmarks" / "results" / "comparison.png"}  # python -m benchmarks comparison
# a markdown image of img/: ![alt](../img/NAME.png) as first written, ![alt](attachment:NAME.png) once embedded
FIGURE = re.compile(r"(!\[[^\]]*\]\()(?:\.\./img/|attachment:)([\w.-]+\.png)\)")


def old_faithful():
    """Old Faithful, each column standardised to mean 0 and variance 1 (as in Bishop's Fig. 9.1)."""
    X = np.loadtxt(ROOT / "data" / "faithful.csv", delimiter=",", skiprows=1)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def kmeans_half_steps(path):
    """Lloyd's algorithm on Old Faithful, half-step by half-step (after Bishop, PRML Fig. 9.1)."""
    X = old_faithful()
    init = np.array([[-1.5, 1.5], [1.5, -1.5]])  # a deliberately poor start
    history = kmeans_history(X, init, assign_clusters, update_centroids, compute_distortion)
    shown = [0, 1, 2, 3, 4, len(history) - 1]
    fig, axes = plt.subplots(2, 3, figsize=(10, 7.4), layout="constrained")
    for letter, step, ax in zip("abcdef", shown, axes.flat):
        h = history[step]
        ClusterArtists(ax, X, len(init), axis_labels=("", ""), legend=False).update(h.labels, h.centroids)
        what = {"init": "start", "assignment": "assignment step", "update": "update step"}[h.kind]
        J = "" if step == 0 else f", $J$ = {h.J:.1f}"
        ax.set_title(f"({letter}) {'converged: ' if step == shown[-1] else ''}{what}{J}", fontsize="medium")
        ax.tick_params(labelsize="small")
    fig.supxlabel("eruption duration (standardised)")
    fig.supylabel("waiting time to the next eruption (standardised)")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def copies_behind():
    """The names of COPIED whose copy in img/ is missing or differs from its source (where the source exists)."""
    return [
        name
        for name, source in COPIED.items()
        if source.exists() and (not (IMG / name).exists() or (IMG / name).read_bytes() != source.read_bytes())
    ]


def copy_figures():
    """Copy the figures of COPIED into img/ where they differ; return the names copied."""
    behind = copies_behind()
    for name in behind:
        shutil.copyfile(COPIED[name], IMG / name)
    return behind


def embedded(nb):
    """A copy of the notebook nb whose markdown cells show the figures of img/ as attachments: each image
    ../img/NAME.png or attachment:NAME.png becomes attachment:NAME.png, with img/NAME.png attached (base64);
    a cell keeps no attachment that it does not show."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        names = [m[2] for m in FIGURE.finditer(cell.source)]
        if not names and "attachments" not in cell:
            continue
        cell.source = FIGURE.sub(r"\1attachment:\2)", cell.source)
        cell.attachments = {
            name: {"image/png": base64.b64encode((IMG / name).read_bytes()).decode("ascii")} for name in names
        }
        if not names:
            del cell["attachments"]
    return nb


def stale():
    """The notebooks whose embedded figures are not those of img/ (embed() would rewrite them)."""
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    return [p for p in paths if embedded(nb := nbformat.read(p, as_version=4)) != nb]


def embed():
    """Embed the figures of img/ in the notebooks that show them (see embedded); return the notebooks written."""
    written = []
    for path in stale():
        nbformat.write(embedded(nbformat.read(path, as_version=4)), path)
        written.append(path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        copies = copies_behind()
        for name in copies:
            print(f"img/{name} differs from {COPIED[name].relative_to(ROOT)}; run python img/make_figures.py")
        behind = stale()
        for path in behind:
            print(f"{path.relative_to(ROOT)}: its figures differ from img/; run python img/make_figures.py")
        sys.exit(1 if behind or copies else 0)
    kmeans_half_steps(IMG / "kmeans_half_steps.png")
    for name in copy_figures():
        print(f"copied {COPIED[name].relative_to(ROOT)} to img/{name}")
    for path in embed():
        print(f"embedded the figures of img/ in {path.relative_to(ROOT)}")
