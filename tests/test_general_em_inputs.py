"""Lesson 4's functions (solutions/general_em.py) on bad inputs: X, k, params, Q and general_em's settings.

Each bad input must raise a ValueError (TypeError for a step that is not a function) whose message says what is
wrong, and general_em must raise before calling any step; the expected messages are the contract the notebook
states. A few inputs that are fine (float32 Q and phi) must be accepted.
"""

import numpy as np
import pytest

from solutions.general_em import general_em, gmm_e_step, gmm_elbo, gmm_initialize, gmm_m_step
from tests.samples import DATA, START, scripted

pytestmark = pytest.mark.usefixtures("one_blas_thread")


# ---- bad inputs ------------------------------------------------------------------------------------

X5 = np.arange(10.0).reshape(5, 2)
PARAMS = {"phi": np.array([0.5, 0.5]), "mu": np.array([[0.0, 0.0], [1.0, 1.0]]), "Sigma": np.array([np.eye(2)] * 2)}
Q5 = np.full((5, 2), 0.5)


def with_params(**changes):
    return {**PARAMS, **changes}


X_CALLS = [
    lambda X: gmm_initialize(X, 2, np.random.default_rng(0)),
    lambda X: gmm_e_step(X, PARAMS),
    lambda X: gmm_m_step(X, np.full((len(X), 2), 0.5)),
    lambda X: gmm_elbo(X, PARAMS, np.full((len(X), 2), 0.5)),
    lambda X: general_em(X, PARAMS, gmm_e_step, gmm_m_step, gmm_elbo),
]
X_CALL_IDS = ["gmm_initialize", "gmm_e_step", "gmm_m_step", "gmm_elbo", "general_em"]


@pytest.mark.parametrize("X", [np.arange(5.0), np.zeros((5, 2, 1)), np.zeros((0, 2))], ids=["1-d", "3-d", "empty"])
@pytest.mark.parametrize("call", X_CALLS, ids=X_CALL_IDS)
def test_X_not_2d_raises(call, X):
    with pytest.raises(ValueError, match=r"X must be a 2-D array of shape \(n, d\); got|X has no points \(n = 0\)"):
        call(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("call", X_CALLS, ids=X_CALL_IDS)
def test_non_finite_X_raises(call, bad):
    X = X5.copy()
    X[3, 0] = bad
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        call(X)


@pytest.mark.parametrize("k", [6, 0, -1, 2.5, True], ids=["more-than-n", "zero", "negative", "fraction", "bool"])
def test_gmm_initialize_bad_k_raises(k):
    with pytest.raises(
        ValueError, match=rf"k must be a positive integer; got {k}|k=6 is larger than the number of points \(5\)"
    ):
        gmm_initialize(X5, k, np.random.default_rng(0))


BAD_PARAMS = [
    ({"phi": PARAMS["phi"], "mu": PARAMS["mu"]}, 'params must be a dict with the keys "phi", "mu" and "Sigma"'),
    ((PARAMS["phi"], PARAMS["mu"], PARAMS["Sigma"]), 'params must be a dict with the keys "phi", "mu" and "Sigma"'),
    (with_params(mu=np.zeros((2, 3))), r"mu must have shape \(2, 2\), one mean per component; got \(2, 3\)"),
    (with_params(mu=np.zeros((3, 2))), r"mu must have shape \(2, 2\), one mean per component; got \(3, 2\)"),
    (
        with_params(Sigma=np.array([np.eye(3)] * 2)),
        r"Sigma must have shape \(2, 2, 2\), one covariance per component; got \(2, 3, 3\)",
    ),
    (with_params(phi=np.array([[0.5, 0.5]])), r"phi must be a non-empty 1-D array of shape \(k,\); got \(1, 2\)"),
    (with_params(phi=np.array([0.5, 0.6])), "phi must sum to 1; it sums to 1.1"),
    (with_params(phi=np.array([1.5, -0.5])), "phi must be non-negative; component 1 has weight -0.5"),
    (
        with_params(Sigma=np.array([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])),
        "covariance of component 1 is not positive definite",
    ),
    (with_params(Sigma=np.array([np.zeros((2, 2)), np.eye(2)])), "covariance of component 0 is not positive definite"),
]
BAD_PARAMS_IDS = [
    "missing-key",
    "tuple",
    "mu-d",
    "mu-k",
    "Sigma-d",
    "phi-2d",
    "phi-sum",
    "phi-negative",
    "not-pd",
    "zero",
]


@pytest.mark.parametrize(("params", "match"), BAD_PARAMS, ids=BAD_PARAMS_IDS)
@pytest.mark.parametrize(
    "call",
    [
        lambda params: gmm_e_step(X5, params),
        lambda params: gmm_elbo(X5, params, Q5),
        lambda params: general_em(X5, params, gmm_e_step, gmm_m_step, gmm_elbo),
    ],
    ids=["gmm_e_step", "gmm_elbo", "general_em"],
)
def test_bad_params_raise(call, params, match):
    with pytest.raises(ValueError, match=match):
        call(params)


@pytest.mark.parametrize(
    ("Q", "match"),
    [
        (np.full((4, 2), 0.5), r"Q must have shape \(5, k\), one row per point; got \(4, 2\)"),
        (np.full(5, 1.0), r"Q must have shape \(5, k\), one row per point; got \(5,\)"),
        (
            np.array([[0.5, 0.5]] * 4 + [[0.5, 0.4]]),
            r"rows of Q must sum to 1 \(over components, axis=1\); row 4 sums to 0.9",
        ),
        (np.array([[1.5, -0.5]] + [[0.5, 0.5]] * 4), "Q must be non-negative: responsibilities are probabilities"),
        (np.array([[np.nan, 0.5]] + [[0.5, 0.5]] * 4), "Q contains NaN or infinity"),
        (np.array([[1.0, 0.0]] * 5), r"component 1 has no responsibility for any point \(N_k = 0\)"),
    ],
    ids=["rows", "1-d", "row-sum", "negative", "nan", "empty-component"],
)
def test_gmm_m_step_bad_Q_raises(Q, match):
    with pytest.raises(ValueError, match=match):
        gmm_m_step(X5, Q)


@pytest.mark.parametrize("Q", [np.full((4, 2), 0.5), np.full((5, 3), 1 / 3), np.full(5, 1.0)], ids=["n", "k", "1-d"])
def test_gmm_elbo_bad_Q_shape_raises(Q):
    with pytest.raises(ValueError, match=r"Q must have shape \(5, 2\), one row per point"):
        gmm_elbo(X5, PARAMS, Q)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_iters": 0}, "max_iters must be a positive integer; got 0"),
        ({"max_iters": -3}, "max_iters must be a positive integer; got -3"),
        ({"max_iters": 2.5}, "max_iters must be a positive integer; got 2.5"),
        ({"max_iters": True}, "max_iters must be a positive integer; got True"),
        ({"max_iters": "3"}, "max_iters must be a positive integer; got '3'"),
        ({"tol": -1e-9}, "tol must be a non-negative number; got -1e-09"),
        ({"tol": np.nan}, "tol must be a non-negative number; got nan"),
    ],
    ids=[
        "max_iters-0",
        "max_iters-negative",
        "max_iters-fraction",
        "max_iters-bool",
        "max_iters-str",
        "tol",
        "tol-nan",
    ],
)
def test_general_em_bad_settings_raise_before_any_step(kwargs, match):
    e_step, m_step, elbo, calls = scripted([0.0, 1.0])
    with pytest.raises(ValueError, match=match):
        general_em(DATA, START, e_step, m_step, elbo, **kwargs)
    assert calls == []


@pytest.mark.parametrize("position", [0, 1, 2], ids=["e_step", "m_step", "elbo"])
def test_general_em_steps_must_be_callable(position):
    steps = list(scripted([0.0, 1.0])[:3])
    name = ["e_step", "m_step", "elbo"][position]
    steps[position] = name  # its name, not the function
    with pytest.raises(TypeError, match=f"{name} must be a function; got str"):
        general_em(DATA, START, *steps)


def test_non_symmetric_Sigma_raises():  # Cholesky reads one triangle: [[1, 5], [0, 1]] would pass as I
    with pytest.raises(ValueError, match="symmetric"):
        gmm_e_step(X5, with_params(Sigma=np.array([np.eye(2), [[1.0, 5.0], [0.0, 1.0]]])))


@pytest.mark.parametrize(
    "params",
    [{"phi": np.array([np.nan, 0.5])}, {"mu": np.array([[np.nan, 0.0], [1.0, 1.0]])}],
    ids=["phi", "mu"],
)
def test_non_finite_params_raise(params):
    with pytest.raises(ValueError, match="NaN or infinity"):
        gmm_e_step(X5, with_params(**params))


@pytest.mark.parametrize(
    "Q",
    [
        np.full((5, 2), 0.15),
        np.array([[1.5, -0.5]] + [[0.5, 0.5]] * 4),
        np.array([[np.nan, 0.5]] + [[0.5, 0.5]] * 4),
    ],
    ids=["row-sum", "negative", "nan"],
)
def test_gmm_elbo_bad_Q_values_raise(Q):
    with pytest.raises(ValueError, match=r"rows of Q must sum to 1|Q must be non-negative|Q contains NaN"):
        gmm_elbo(X5, PARAMS, Q)


def test_nan_elbo_raises():
    with pytest.raises(ValueError, match="ELBO of iteration 1 is NaN"):
        general_em(None, 0.0, lambda X, p: p, lambda X, q: q, lambda X, p, q: float("nan"), max_iters=50)


@pytest.mark.parametrize("kwargs", [{"max_iters": None}, {"tol": None}], ids=["max_iters", "tol"])
def test_none_settings_raise_clear_errors(kwargs):
    with pytest.raises(ValueError, match=f"{next(iter(kwargs))} must be"):
        general_em(X5, PARAMS, gmm_e_step, gmm_m_step, gmm_elbo, **kwargs)


def test_float32_Q_and_phi_are_accepted():
    Q = np.random.default_rng(0).dirichlet(np.ones(3), size=5).astype(np.float32)
    assert np.isclose(gmm_m_step(X5, Q)["phi"].sum(), 1)
    phi = np.full(3, 1 / 3, dtype=np.float32)
    assert gmm_e_step(X5, {"phi": phi, "mu": np.zeros((3, 2)), "Sigma": np.array([np.eye(2)] * 3)}).shape == (5, 3)
