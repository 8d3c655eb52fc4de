"""Hidden cases of lesson 3: larger, seeded, with the edge cases the visible checks do not show."""

import numpy as np

from autograde.judge import Case
from autograde.serial import RngSeed
from helpers.data import load_faithful

_rng = np.random.default_rng(31415)


def _spd(d, scale=1.0):
    A = _rng.normal(size=(d, d))
    return scale * (A @ A.T / d + 0.3 * np.eye(d))


_X5 = _rng.normal(size=(200, 5))
_mu5 = _rng.normal(size=(4, 5))
_Sigma5 = np.stack([_spd(5) for _ in range(4)])
_phi5 = np.array([0.1, 0.2, 0.3, 0.4])
_big = _rng.normal(1000.0, 30.0, size=(50, 2))  # large coordinates: centre before squaring
_far3 = np.concatenate([_rng.normal(size=(20, 3)), [[300.0, -200.0, 100.0], [-1e3, 0.0, 0.0]]])
_w5 = _rng.dirichlet(np.full(3, 0.5), size=200)
_w_small = np.column_stack([np.full(200, 0.999), np.full(200, 0.001)])
_w_small[:3] = [[0.0, 1.0], [0.2, 0.8], [0.5, 0.5]]
_faithful = load_faithful()
_faithful = (_faithful - _faithful.mean(axis=0)) / _faithful.std(axis=0)
_fig98 = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), 0.1 * np.stack([np.eye(2)] * 2))
_blobs3 = np.concatenate([_rng.normal(c, s, size=(m, 3)) for c, s, m in [(0, 1.0, 60), (4, 0.5, 30), (-4, 2.0, 40)]])
_init_blobs3 = (np.array([0.2, 0.3, 0.5]), _blobs3[[0, 60, 90]], np.stack([np.eye(3)] * 3))
_sample4 = {"phi": np.array([0.5, 0.0, 0.2, 0.3]), "mu": 3 * _mu5[:, :4], "Sigma": _Sigma5[:, :4, :4], "n": 10000}

CASES = {
    "log_gaussian_pdf": [
        Case("5-D, 200 points", [{"X": _X5, "mu": _mu5[0], "Sigma": _Sigma5[0]}], kind="more dimensions"),
        Case("1-D", [{"X": _X5[:, :1], "mu": np.array([0.3]), "Sigma": np.array([[2.5]])}], kind="a single dimension"),
        Case(
            "large coordinates",
            [{"X": _big, "mu": np.array([1000.0, 1000.0]), "Sigma": _spd(2, 900.0)}],
            kind="coordinates far from zero",
        ),
        Case(
            "narrow covariance",
            [{"X": _X5[:20, :2] * 0.01, "mu": np.zeros(2), "Sigma": 1e-4 * np.eye(2)}],
            kind="a very small covariance",
        ),
    ],
    "e_step": [
        Case(
            "5-D, four components",
            [{"X": _X5, "phi": _phi5, "mu": _mu5, "Sigma": _Sigma5}],
            kind="more dimensions and components",
        ),
        Case(
            "far-away points in 3-D",
            [
                {
                    "X": _far3,
                    "phi": np.array([0.7, 0.3]),
                    "mu": np.array([[0, 0, 0], [1, 1, 1.0]]),
                    "Sigma": _Sigma5[:2, :3, :3],
                }
            ],
            kind="points far from every component",
        ),
        Case(
            "a tiny weight",
            [{"X": _X5, "phi": np.array([0.999, 0.001]), "mu": _mu5[:2], "Sigma": _Sigma5[:2]}],
            kind="unequal weights",
        ),
    ],
    "m_step": [
        Case("5-D, soft responsibilities", [{"X": _X5, "w": _w5}], kind="more dimensions, soft responsibilities"),
        Case(
            "a component with little responsibility",
            [{"X": _X5[:, :2], "w": _w_small}],
            kind="a component with almost no points",
        ),
        Case("one component", [{"X": _big, "w": np.ones((50, 1))}], kind="a single component"),
    ],
    "log_likelihood": [
        Case(
            "5-D, four components",
            [{"X": _X5, "phi": _phi5, "mu": _mu5, "Sigma": _Sigma5}],
            kind="more dimensions and components",
        ),
        Case(
            "points ten standard deviations away",
            [
                {
                    "X": _X5[:30, :2] + 10.0,
                    "phi": np.array([0.5, 0.5]),
                    "mu": np.zeros((2, 2)),
                    "Sigma": np.stack([np.eye(2)] * 2),
                }
            ],
            kind="points far from every component",
        ),
    ],
    "em_mog": [
        Case(
            "Old Faithful from Bishop's Fig. 9.8 start",
            [{"X": _faithful, "k": 2, "init": _fig98, "rng": RngSeed(1)}],
            kind="real data from a poor start",
        ),
        Case(
            "three groups in 3-D, unequal weights",
            [{"X": _blobs3, "k": 3, "init": _init_blobs3, "rng": RngSeed(1)}],
            kind="unequal weights in more dimensions",
        ),
        Case(
            "max_iters=5",
            [{"X": _blobs3, "k": 3, "init": _init_blobs3, "max_iters": 5, "rng": RngSeed(1)}],
            kind="a small max_iters",
        ),
        Case(
            "a loose tol stops early",
            [{"X": _faithful, "k": 2, "init": _fig98, "tol": 1.0, "rng": RngSeed(1)}],
            kind="a loose tol",
        ),
        Case(
            "a large reg_covar",
            [{"X": _faithful, "k": 2, "init": _fig98, "reg_covar": 0.1, "rng": RngSeed(1)}],
            kind="strong covariance regularisation",
        ),
    ],
    "sample_gmm": [
        Case(
            "4-D, a component of weight 0 is never drawn",
            [_sample4 | {"rng": RngSeed(s)} for s in (5, 5, 6)],
            kind="a component of zero weight",
        ),
        Case(
            "one component, large scale",
            [{"phi": np.ones(1), "mu": _big[:1], "Sigma": _spd(2, 900.0)[None], "n": 3000, "rng": RngSeed(7)}],
            kind="a single wide component",
        ),
    ],
}
