"""Hidden cases of lesson 1: larger, seeded, with the edge cases the visible checks do not show."""

import numpy as np

from autograde.judge import Case
from autograde.serial import RngSeed

_rng = np.random.default_rng(90210)
_X = _rng.normal(size=(200, 5))
_far = np.concatenate([_rng.normal(size=(30, 2)), _rng.normal(1e4, 1.0, size=(5, 2))])
_grid = np.array([[x, y] for x in range(5) for y in range(4)])  # integer coordinates
_blobs = np.concatenate([_rng.normal(c, 0.8, size=(40, 3)) for c in ([0, 0, 0], [5, 0, 0], [0, 5, 0], [0, 0, 5])])

CASES = {
    "init_centroids": [
        Case(
            "each point equally likely",
            [{"X": _grid[:6], "k": 2, "rng": RngSeed(s)} for s in range(300)],
            kind="uniformity over many generators",
        ),
        Case(
            "5-D data, k = 7",
            [{"X": _X, "k": 7, "rng": RngSeed(s)} for s in (3, 3, 4, 5, 6, 7)],
            kind="more dimensions and centroids",
        ),
    ],
    "assign_clusters": [
        Case(
            "200 points in 5-D, seven centroids",
            [{"X": _X, "centroids": _X[:7] * 0.5}],
            kind="many points in more dimensions",
        ),
        Case(
            "far-away points",
            [{"X": _far, "centroids": np.array([[0.0, 0.0], [1e4, 1e4], [5.0, 5.0]])}],
            kind="points far from the others",
        ),
        Case(
            "integer coordinates",
            [{"X": _grid, "centroids": np.array([[0.5, 0.5], [3.5, 2.5]])}],
            kind="integer-valued data",
        ),
    ],
    "update_centroids": [
        Case(
            "200 points, two empty clusters",
            [{"X": _X, "labels": _rng.integers(0, 3, 200) * 2, "centroids": _rng.normal(size=(6, 5))}],
            kind="an empty cluster",
        ),
        Case(
            "integer coordinates",
            [{"X": _grid, "labels": np.arange(20) % 4, "centroids": np.zeros((4, 2))}],
            kind="integer-valued data",
        ),
    ],
    "compute_distortion": [
        Case(
            "200 points in 5-D",
            [{"X": _X, "centroids": _X[:4], "labels": np.arange(200) % 4}],
            kind="many points in more dimensions",
        ),
        Case(
            "far-away points",
            [{"X": _far, "centroids": _far[[0, 31]], "labels": (np.arange(35) >= 30).astype(int)}],
            kind="points far from the others",
        ),
    ],
    "kmeans": [
        Case(
            "four blobs in 3-D",
            [{"X": _blobs, "k": 4, "init": _blobs[[0, 1, 2, 3]], "rng": RngSeed(1)}],
            kind="well-separated blobs in more dimensions",
        ),
        Case(
            "an empty cluster along the way",
            [
                {
                    "X": _blobs,
                    "k": 4,
                    "rng": RngSeed(1),
                    "init": np.array([[0, 0, 0], [5, 0, 0], [0, 5, 0], [50, 50, 50.0]]),
                }
            ],
            kind="a cluster that empties during the run",
        ),
        Case(
            "max_iters=3",
            [{"X": _X, "k": 5, "init": _X[:5], "max_iters": 3, "rng": RngSeed(2)}],
            kind="a small max_iters",
        ),
        Case(
            "a loose tol stops early",
            [{"X": _X, "k": 5, "init": _X[:5], "tol": 0.5, "rng": RngSeed(2)}],
            kind="a loose tol",
        ),
    ],
}
