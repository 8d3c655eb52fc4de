"""Hidden cases of lesson 4: larger, seeded, with the edge cases the visible checks do not show."""

import numpy as np

from autograde.judge import Case
from autograde.models import TRACE_INIT
from autograde.serial import ModelFunction, RngSeed
from helpers.data import load_faithful

_rng = np.random.default_rng(2718)


def _spd(d):
    A = _rng.normal(size=(d, d))
    return A @ A.T / d + 0.3 * np.eye(d)


_X4 = _rng.normal(size=(150, 4))
_params4 = {
    "phi": np.array([0.1, 0.2, 0.3, 0.4]),
    "mu": _rng.normal(size=(4, 4)),
    "Sigma": np.stack([_spd(4) for _ in range(4)]),
}
_zero = {"phi": np.array([0.7, 0.0, 0.3]), "mu": _params4["mu"][:3], "Sigma": _params4["Sigma"][:3]}
_Q4 = _rng.dirichlet(np.full(4, 0.3), size=150)
_one_hot_gap = np.eye(3)[np.where(np.arange(150) % 2, 0, 2)]  # component 1 holds no point
_faithful = load_faithful()
_faithful = (_faithful - _faithful.mean(axis=0)) / _faithful.std(axis=0)
_trace = {"init_params": TRACE_INIT} | {f: ModelFunction(f"trace_{f}") for f in ("e_step", "m_step", "elbo")}

CASES = {
    "gmm_initialize": [
        Case(
            "k = n: every point a mean",
            [{"X": _X4[:5], "k": 5, "rng": RngSeed(s)} for s in (3, 3, 4)],
            kind="as many components as points",
        ),
        Case(
            "many seeds, one component",
            [{"X": _faithful, "k": 1, "rng": RngSeed(s)} for s in range(8)],
            kind="a single component, many generators",
        ),
    ],
    "gmm_e_step": [
        Case("4-D, four components", [{"X": _X4, "params": _params4}], kind="more dimensions and components"),
        Case("a component of weight 0", [{"X": _X4, "params": _zero}], kind="a component of zero weight"),
        Case(
            "Old Faithful, Bishop's Fig. 9.8 start",
            [
                {
                    "X": _faithful,
                    "params": {
                        "phi": np.array([0.5, 0.5]),
                        "mu": np.array([[-1.5, 1.5], [1.5, -1.5]]),
                        "Sigma": 0.1 * np.stack([np.eye(2)] * 2),
                    },
                }
            ],
            kind="real data, narrow components",
        ),
    ],
    "gmm_m_step": [
        Case("4-D, soft Q", [{"X": _X4, "Q": _Q4}], kind="more dimensions, a soft Q"),
        Case("one component", [{"X": _faithful, "Q": np.ones((len(_faithful), 1))}], kind="a single component"),
    ],
    "gmm_elbo": [
        Case("4-D, a soft Q", [{"X": _X4, "params": _params4, "Q": _Q4}], kind="more dimensions, a soft Q"),
        Case(
            "one-hot Q with a weight-0 component",
            [{"X": _X4, "params": _zero, "Q": _one_hot_gap}],
            kind="a one-hot Q and a component of zero weight",
        ),
    ],
    "general_em": [
        Case("max_iters=1", [_trace | {"X": np.array([-3.0, -2.0]), "max_iters": 1}], kind="a small max_iters"),
        Case(
            "a loose tol stops on the second iteration",
            [_trace | {"X": np.array([-3.0, -2.5, -2.0, -1.0]), "tol": 1.0}],
            kind="a loose tol",
        ),
        Case(
            "the ELBO levels off late",
            [_trace | {"X": -1.0 - np.exp(-np.arange(40.0)), "max_iters": 60}],
            kind="slow convergence",
        ),
    ],
}
