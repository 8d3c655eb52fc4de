"""Hidden cases of lesson 2: larger, seeded, with the edge cases the visible checks do not show."""

import numpy as np

from autograde.judge import Case

_rng = np.random.default_rng(31415)
_x = np.concatenate([_rng.normal(-1.0, 0.5, 80), _rng.normal(1.5, 1.5, 120)])
_rng.shuffle(_x)
_three = np.concatenate([_rng.normal(-4.0, 1.0, 60), _rng.normal(0.0, 0.4, 90), _rng.normal(3.0, 0.8, 50)])
_p2 = {"means": np.array([-0.5, 1.0]), "sigmas": np.array([0.8, 2.5]), "weights": np.array([0.35, 0.65])}
_p3 = {"means": np.array([-3.0, 0.5, 2.0]), "sigmas": np.array([1.5, 0.5, 1.0]), "weights": np.array([0.2, 0.5, 0.3])}
_resp = _rng.dirichlet([1.0, 1.0], size=200)
_onehot = np.eye(3)[np.arange(200) % 3]

CASES = {
    "e_step_1d": [
        Case("200 points, two components", [{"x": _x, **_p2}], kind="more data points"),
        Case("200 points, three components", [{"x": _three, **_p3}], kind="more components"),
        Case(
            "far points on both sides",
            [{"x": np.array([-300.0, -1.0, 0.0, 2.0, 250.0]), **_p3}],
            kind="points far from every component",
        ),
    ],
    "m_step_1d": [
        Case(
            "200 points, soft responsibilities", [{"x": _x, "resp": _resp}], kind="soft responsibilities on more data"
        ),
        Case(
            "200 points, one-hot responsibilities, three components",
            [{"x": _three, "resp": _onehot}],
            kind="one-hot responsibilities",
        ),
    ],
    "log_likelihood_1d": [
        Case("200 points, two components", [{"x": _x, **_p2}], kind="more data points"),
        Case("200 points, three components", [{"x": _three, **_p3}], kind="more components"),
        Case(
            "points ten standard deviations out",
            [{"x": np.array([-8.0, 11.0, 26.0]), **_p2}],
            kind="points far from every component",
        ),
    ],
    "em_1d": [
        Case("200 points, two components", [{"x": _x, **_p2}], kind="more data points"),
        Case("three components", [{"x": _three, **_p3}], kind="more components"),
        Case("max_iters=1", [{"x": _three, **_p3, "max_iters": 1}], kind="a small max_iters"),
        Case("a loose tol stops early (tol=0.5)", [{"x": _x, **_p2, "tol": 0.5}], kind="a loose tol"),
    ],
}
