"""Regenerate the figures shown in the notebooks' markdown cells.

Run from the course environment (``make`` installs helpers and solutions)::

    python img/make_figures.py

The figures are drawn from the reference solutions, with the same helpers the notebooks use.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
import numpy as np

from helpers import ClusterArtists, kmeans_history
from solutions.kmeans import assign_clusters, compute_distortion, update_centroids

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "img"


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


if __name__ == "__main__":
    kmeans_half_steps(IMG / "kmeans_half_steps.png")
