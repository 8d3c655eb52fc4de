"""Lesson 4, the general EM algorithm and the ELBO: each exercise declared once, with its reference, cases, judge
and known mistakes."""

import math

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

import solutions.general_em as reference
from autograde.fixtures import ReferenceOutput
from autograde.judge import (
    Case,
    Exercise,
    Failure,
    Mistake,
    as_array,
    as_number,
    compare,
    compare_array,
    compare_number,
    describe,
    fmt,
)
from autograde.models import TRACE_INIT
from autograde.serial import ModelFunction, RngSeed
from helpers.data import load_faithful

REG_COVAR = 1e-6  # as in the notebook: added to every covariance's diagonal (the alternatives use it)


def _spd(d, seed):
    """A random d x d symmetric positive definite matrix, drawn from its own seed."""
    A = np.random.default_rng(seed).normal(size=(d, d))
    return A @ A.T / d + 0.3 * np.eye(d)


def _standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


# data shared by cases; every random array has its own seed, so adding or reordering cases changes no other
_pts = np.random.default_rng(4001).normal(size=(8, 2))
_cube = np.random.default_rng(4002).normal(size=(12, 3))
_unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
_two = {"phi": np.array([0.5, 0.5]), "mu": np.array([[0.0, 0.0], [1.0, 1.0]]), "Sigma": np.stack([np.eye(2)] * 2)}
_three = {
    "phi": np.array([0.6, 0.3, 0.1]),
    "mu": np.array([[0.0, 0.0], [2.0, 1.0], [-1.0, 2.0]]),
    "Sigma": np.stack([np.array([[2.0, 0.8], [0.8, 1.0]]), np.eye(2), np.diag([0.5, 2.0])]),
}
_far = {"phi": np.array([0.4, 0.6]), "mu": np.array([[0.0, 0.0], [3.0, 0.0]]), "Sigma": np.stack([np.eye(2)] * 2)}
_far_X = np.array([[0.0, 0.0], [3.0, 0.0], [60.0, 60.0], [-80.0, 10.0]])
_dirichlet = np.random.default_rng(4003).dirichlet(np.ones(3), size=len(_pts))
_one_hot = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 0]]
_trace = {"init_params": TRACE_INIT} | {
    f: ModelFunction(f"trace_{f}") for f in ("e_step", "m_step", "elbo")
}  # general_em's model: records the calls
_halving = {f: ModelFunction(f"halving_{f}") for f in ("e_step", "m_step")} | {"elbo": None}  # no ELBO
_levels_off = np.array([-10.0, -6.0, -5.0, -4.5, -4.4, -4.39, -4.3899995, -4.389999, -4.3899989])
_X4 = np.random.default_rng(27181).normal(size=(150, 4))
_params4 = {
    "phi": np.array([0.1, 0.2, 0.3, 0.4]),
    "mu": np.random.default_rng(27182).normal(size=(4, 4)),
    "Sigma": np.stack([_spd(4, seed) for seed in (27183, 27184, 27185, 27186)]),
}
_zero = {"phi": np.array([0.7, 0.0, 0.3]), "mu": _params4["mu"][:3], "Sigma": _params4["Sigma"][:3]}
_Q4 = np.random.default_rng(27187).dirichlet(np.full(4, 0.3), size=150)
_faithful = _standardised(load_faithful())


def _as_params(got, d, what="params"):
    """phi (k,), mu (k, d), Sigma (k, d, d) from a dict, checked for keys and shapes."""
    if not isinstance(got, dict):
        raise Failure(f'{what} must be a dict with the keys "phi", "mu" and "Sigma"; got {describe(got)}')
    missing = [key for key in ("phi", "mu", "Sigma") if key not in got]
    if missing:
        raise Failure(f"{what} lacks the key(s) {', '.join(map(repr, missing))}; it has {sorted(got)}")
    phi = as_array(got["phi"], f'{what}["phi"]')
    k = phi.shape[0] if phi.ndim == 1 else -1
    if phi.ndim != 1:
        raise Failure(f'{what}["phi"] must have shape (k,); got shape {phi.shape}')
    return (
        phi,
        as_array(got["mu"], f'{what}["mu"]', shape=(k, d)),
        as_array(got["Sigma"], f'{what}["Sigma"]', shape=(k, d, d)),
    )


def _wrong_log_joint(X, params, weights=True):
    phi, mu, Sigma = (np.asarray(params[key], dtype=float) for key in ("phi", "mu", "Sigma"))
    log_pdf = np.column_stack([multivariate_normal(m, S).logpdf(X) for m, S in zip(mu, Sigma)])
    with np.errstate(divide="ignore"):  # a weight of 0: log 0 = -inf, as in the reference
        return log_pdf + np.log(phi) if weights else log_pdf


def _log_joint_rows(X, params):
    """A list of n rows, each the k values log phi_j + log N(x_i | mu_j, Sigma_j), by scipy.stats."""
    phi, mu, Sigma = params["phi"], params["mu"], params["Sigma"]
    columns = []
    for j in range(len(phi)):
        log_phi = math.log(phi[j]) if phi[j] > 0 else -math.inf
        logpdf = np.atleast_1d(multivariate_normal(np.asarray(mu[j]), np.asarray(Sigma[j], dtype=float)).logpdf(X))
        columns.append([log_phi + v for v in logpdf.tolist()])
    return [list(row) for row in zip(*columns)]


# ---------------------------------------------------------------------------- gmm_initialize
def judge_gmm_initialize(case, got, expected):
    """gmm_initialize is random: judge the parameters' validity, reproducibility and variety."""
    starts = []
    for call, out in zip(case.calls, got):
        X, k = np.asarray(call["X"], dtype=float), call["k"]
        phi, mu, Sigma = _as_params(out, X.shape[1])
        if phi.shape != (k,):
            raise Failure(f'params["phi"] must have shape ({k},), one weight per component; got shape {phi.shape}')
        if np.any(phi < 0) or abs(phi.sum() - 1) > 1e-6:
            raise Failure(
                f'the weights params["phi"] = {fmt(phi)} must be non-negative and sum to 1',
                "init_weights_not_normalised",
            )
        if not np.isfinite(mu).all() or not np.isfinite(Sigma).all():
            raise Failure('params["mu"] and params["Sigma"] must be finite')
        if not np.allclose(phi, 1 / k, rtol=1e-6):  # the lesson's start: equal weights, data points, data covariance
            raise Failure(
                f"the starting weights phi should all be 1/k = {fmt(1 / k)}; got {fmt(phi)}", "init_weights_not_equal"
            )
        is_row = np.all(np.isclose(mu[:, None, :], X[None, :, :], rtol=1e-6, atol=1e-9), axis=2).any(axis=1)
        if not is_row.all():
            j = int(np.argmin(is_row))
            raise Failure(f"the starting mean mu[{j}] = {fmt(mu[j])} is not a point of X", "init_means_not_points")
        d = X.shape[1]
        data_cov = (
            [np.cov(X.T, bias=bias).reshape(d, d) for bias in (True, False)] if len(X) > 1 else [np.zeros((d, d))]
        )
        scale = max(1.0, float(np.abs(data_cov[0]).max()))
        for j, S in enumerate(Sigma):
            if not any(np.allclose(S, c, rtol=1e-4, atol=1e-4 * scale) for c in data_cov):
                raise Failure(
                    f"the starting covariance Sigma[{j}] = {fmt(S)} should be the covariance of the data, "
                    f"{fmt(data_cov[0])} (plus REG_COVAR on its diagonal)",
                    "init_cov_not_data",
                )
        if len(np.unique(np.round(mu, 12), axis=0)) < k:
            raise Failure(f"two starting means are equal ({fmt(mu)}): equal components stay equal under EM")
        for j, S in enumerate(Sigma):
            if not np.allclose(S, S.T) or np.linalg.eigvalsh((S + S.T) / 2)[0] <= 0:
                raise Failure(f'params["Sigma"][{j}] = {fmt(S)} must be symmetric positive definite')
        starts.append(mu)
    omitted = [mu for call, mu in zip(case.calls, starts) if "rng" not in call]
    if len(omitted) >= 2 and all(np.array_equal(mu, omitted[0]) for mu in omitted):
        raise Failure(
            f"{len(omitted)} calls without rng all gave the same means: without rng, use a fresh generator",
            "init_fixed_default",
        )
    seeds = [call["rng"].seed for call in case.calls if "rng" in call]
    for i in range(len(seeds)):
        for j in range(i):
            if seeds[i] == seeds[j] and not np.array_equal(starts[i], starts[j]):
                raise Failure(
                    f"two generators with the same seed ({seeds[i]}) gave different starts", "init_global_random"
                )
    if len(set(seeds)) >= 5 and all(np.array_equal(s, starts[0]) for s in starts):
        raise Failure(f"{len(set(seeds))} different generators all gave the same means", "init_not_random")


def _wrong_initialize(X, k, rng, random=True, normalised=True):
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    mu = X[rng.choice(len(X), size=k, replace=False)] if random else X[:k]
    Sigma = np.repeat((np.cov(X.T, bias=True).reshape(d, d) + 1e-6 * np.eye(d))[None], k, axis=0)
    return {"phi": np.full(k, 1 / k) if normalised else np.ones(k), "mu": mu.copy(), "Sigma": Sigma}


def gmm_initialize__init_weights_not_equal(X, k, rng):
    return _wrong_initialize(X, k, rng) | {"phi": rng.dirichlet(np.ones(k))}


def gmm_initialize__init_means_not_points(X, k, rng):
    X = np.asarray(X, dtype=float)
    return _wrong_initialize(X, k, rng) | {"mu": rng.normal(X.mean(axis=0), X.std(axis=0), size=(k, X.shape[1]))}


def gmm_initialize__init_cov_not_data(X, k, rng):
    return _wrong_initialize(X, k, rng) | {"Sigma": np.repeat(np.eye(np.shape(X)[1])[None], k, axis=0)}


def gmm_initialize__init_not_random(X, k, rng):
    return _wrong_initialize(X, k, rng, random=False)


def gmm_initialize__init_global_random(X, k, rng):
    return _wrong_initialize(X, k, np.random, random=True)  # the global generator is the mistake itself


def gmm_initialize__init_fixed_default(X, k, rng=None):
    return _wrong_initialize(X, k, np.random.default_rng(0) if rng is None else rng)  # a fixed seed when omitted


def gmm_initialize__init_weights_not_normalised(X, k, rng):
    return _wrong_initialize(X, k, rng, normalised=False)


def gmm_initialize__permutation(X, k, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    rows = rng.permutation(n)[:k]
    centred = X - X.mean(axis=0)
    cov = np.zeros((d, d))
    for x in centred:  # the data's covariance, one point at a time
        cov += np.outer(x, x) / n
    cov = (cov + cov.T) / 2 + REG_COVAR * np.eye(d)
    return {
        "phi": [1.0 / k] * k,
        "mu": np.array([X[r] for r in rows]),
        "Sigma": np.array([cov] * k, dtype=np.float32),  # a starting guess: single precision is plenty
    }


gmm_initialize = Exercise(
    "gmm_initialize",
    points=1,
    reference=reference.gmm_initialize,
    judge=judge_gmm_initialize,
    random=True,
    visible=[
        Case("the same seed twice", [{"X": _pts, "k": 3, "rng": RngSeed(7)}] * 2),
        Case("different seeds", [{"X": _pts, "k": 2, "rng": RngSeed(s)} for s in range(10)]),
        Case("3-D data, k = 4", [{"X": _cube, "k": 4, "rng": RngSeed(1)}]),
        Case("rng omitted: a fresh generator each call", [{"X": _pts, "k": 3}] * 5),
    ],
    hidden=[
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
        Case("rng omitted, 3-D data", [{"X": _cube, "k": 4}] * 4, kind="no generator given"),
    ],
    mistakes=[
        Mistake(
            "init_not_random",
            "non-random initialisation",
            "Choose the starting means at random with rng (for example k distinct rows: "
            "X[rng.choice(n, size=k, replace=False)]), so that EM can be restarted from different starts.",
            wrong=gmm_initialize__init_not_random,
        ),
        Mistake(
            "init_global_random",
            "global np.random instead of rng",
            "Draw from the rng argument (rng.choice, rng.permutation), never from np.random, so that a seed "
            "reproduces the start.",
            wrong=gmm_initialize__init_global_random,
        ),
        Mistake(
            "init_weights_not_normalised",
            "weights that do not sum to 1",
            'The mixing weights are probabilities: "phi" = np.full(k, 1 / k), not ones.',
            wrong=gmm_initialize__init_weights_not_normalised,
        ),
        Mistake(
            "init_weights_not_equal",
            "unequal starting weights",
            'Start from equal weights, "phi" = np.full(k, 1 / k): the data, not the start, should tell the components '
            "apart.",
            wrong=gmm_initialize__init_weights_not_equal,
        ),
        Mistake(
            "init_means_not_points",
            "starting means that are not data points",
            "Start the means at k distinct points of X, X[rng.choice(n, size=k, replace=False)], so that every "
            "component starts where there are data.",
            wrong=gmm_initialize__init_means_not_points,
        ),
        Mistake(
            "init_cov_not_data",
            "starting covariances that are not the data's",
            "Start every Sigma_j at the covariance of the data, np.cov(X.T, bias=True) + REG_COVAR * I: a fixed "
            "identity ignores the data's scale (far too narrow or too wide).",
            wrong=gmm_initialize__init_cov_not_data,
        ),
        Mistake(
            "init_fixed_default",
            "a fixed seed when rng is omitted",
            "Without rng, draw from a fresh generator, np.random.default_rng(): a fixed seed such as "
            "default_rng(0) gives every restart the same start.",
            wrong=gmm_initialize__init_fixed_default,
        ),
    ],
    alternatives=[gmm_initialize__permutation],
)


# ---------------------------------------------------------------------------- gmm_e_step
def judge_gmm_e_step(case, got, expected):
    Q = as_array(got[0], "Q", shape=expected[0].shape)
    bad = np.argwhere(~np.isfinite(Q))
    if len(bad):
        i = bad[0][0]
        x = np.asarray(case.calls[0]["X"], dtype=float)[i]
        raise Failure(
            f"Q contains NaN or infinity, e.g. in row {i} (the point {fmt(x)}): compute in log space and "
            "normalise with scipy.special.logsumexp"
        )
    sums = Q.sum(axis=1)
    wrong = np.flatnonzero(np.abs(sums - 1) > 1e-5)
    if len(wrong):
        raise Failure(f"rows of Q must sum to 1; row {wrong[0]} sums to {fmt(sums[wrong[0]])}", "unnormalised")
    compare_array(Q, expected[0], "Q")


def gmm_e_step__no_weights(X, params):
    log_prob = _wrong_log_joint(X, params, weights=False)
    return np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))


def gmm_e_step__unnormalised(X, params):
    return np.exp(_wrong_log_joint(X, params))  # phi_j N(x_i | mu_j, Sigma_j), each row not divided by its sum


def gmm_e_step__loops(X, params):
    Q = []
    for row in _log_joint_rows(np.asarray(X, dtype=float), params):  # normalise each point in log space
        top = max(row)
        p = [math.exp(v - top) for v in row]
        total = sum(p)
        Q.append([v / total for v in p])
    return np.array(Q)


gmm_e_step = Exercise(
    "gmm_e_step",
    points=2,
    reference=reference.gmm_e_step,
    judge=judge_gmm_e_step,
    visible=[
        Case("two components, equal weights", [{"X": _unit, "params": _two}]),
        Case("three components, unequal weights", [{"X": _pts, "params": _three}]),
        Case("points far from every component", [{"X": _far_X, "params": _far}]),
    ],
    hidden=[
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
    mistakes=[
        Mistake(
            "no_weights",
            "E-step without the mixing weights",
            "The posterior is proportional to phi_j N(x_i | mu_j, Sigma_j): add log phi_j to each component's "
            "log-density before normalising (Bishop eq. 9.23).",
            wrong=gmm_e_step__no_weights,
            by_output=True,
        ),
        Mistake(
            "unnormalised",
            "rows of Q not normalised",
            "Q[i, j] is a posterior: divide phi_j N(x_i | mu_j, Sigma_j) by its sum over j (in log space, subtract "
            "logsumexp over axis=1), so that every row of Q sums to 1.",
            wrong=gmm_e_step__unnormalised,
        ),
    ],
    alternatives=[gmm_e_step__loops],
)


# ---------------------------------------------------------------------------- gmm_m_step
def judge_gmm_m_step(case, got, expected):
    _as_params(got[0], np.shape(case.calls[0]["X"])[1])
    compare({key: got[0][key] for key in expected[0]}, expected[0], "params")


def gmm_m_step__unweighted_cov(X, Q):
    X, Q = np.asarray(X, dtype=float), np.asarray(Q, dtype=float)
    (n, d), nk = X.shape, Q.sum(axis=0)
    mu = (Q.T @ X) / nk[:, None]
    Sigma = np.stack([(X - m).T @ (X - m) / n + 1e-6 * np.eye(d) for m in mu])
    return {"phi": nk / n, "mu": mu, "Sigma": Sigma}


def _wrong_m_step(X, Q, centre="new", divide="nk"):
    X, Q = np.asarray(X, dtype=float), np.asarray(Q, dtype=float)
    (n, d), nk = X.shape, Q.sum(axis=0)
    mu = (Q.T @ X) / nk[:, None]
    centres = mu if centre == "new" else np.repeat(X.mean(axis=0)[None], len(nk), axis=0)
    Sigma = np.stack(
        [
            (Q[:, j, None] * (X - centres[j])).T @ (X - centres[j]) / (nk[j] - (divide == "nk-1")) + 1e-6 * np.eye(d)
            for j in range(len(nk))
        ]
    )
    return {"phi": nk / n, "mu": mu, "Sigma": Sigma}


def gmm_m_step__cov_over_nk_minus_1(X, Q):
    return _wrong_m_step(X, Q, divide="nk-1")


def gmm_m_step__old_centre(X, Q):
    return _wrong_m_step(X, Q, centre="data")  # centred on the data's mean, not the component's new mean


def gmm_m_step__loops(X, Q):
    X, Q = np.asarray(X, dtype=float), np.asarray(Q, dtype=float)
    n, d = X.shape
    phi, mu, Sigma = [], [], []
    for j in range(Q.shape[1]):
        nk = 0.0
        s = np.zeros(d)
        for i in range(n):
            nk += Q[i, j]
            s += Q[i, j] * X[i]
        m = s / nk
        S = np.zeros((d, d))
        for i in range(n):
            S += Q[i, j] * np.outer(X[i] - m, X[i] - m)
        phi.append(nk / n)
        mu.append(m)
        Sigma.append(S / nk + REG_COVAR * np.eye(d))
    return {"phi": phi, "mu": mu, "Sigma": Sigma}


gmm_m_step = Exercise(
    "gmm_m_step",
    points=2,
    reference=reference.gmm_m_step,
    judge=judge_gmm_m_step,
    visible=[
        Case(
            "one-hot Q: two clusters of two points",
            [{"X": np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0], [4.0, 6.0]]), "Q": np.repeat(np.eye(2), 2, axis=0)}],
        ),
        Case("soft Q, three components", [{"X": _pts, "Q": _dirichlet}]),
        Case(
            "3-D, two components",
            [{"X": _cube, "Q": np.column_stack([np.linspace(0.1, 0.9, 12), np.linspace(0.9, 0.1, 12)])}],
        ),
    ],
    hidden=[
        Case("4-D, soft Q", [{"X": _X4, "Q": _Q4}], kind="more dimensions, a soft Q"),
        Case("one component", [{"X": _faithful, "Q": np.ones((len(_faithful), 1))}], kind="a single component"),
    ],
    mistakes=[
        Mistake(
            "unweighted_cov",
            "unweighted covariances",
            "Weight each point's outer product by Q[i, j]: Sigma_j = sum_i Q_ij (x_i - mu_j)(x_i - mu_j)^T / N_j "
            "(+ REG_COVAR on the diagonal).",
            wrong=gmm_m_step__unweighted_cov,
            by_output=True,
        ),
        Mistake(
            "cov_over_nk_minus_1",
            "covariance divided by N_k - 1",
            "The M-step maximises the bound: Sigma_j = sum_i Q_ij (x_i - mu_j)(x_i - mu_j)^T / N_j. Dividing by "
            "N_j - 1 (the unbiased estimate) no longer maximises it, and the ELBO can fall.",
            wrong=gmm_m_step__cov_over_nk_minus_1,
            by_output=True,
        ),
        Mistake(
            "old_centre",
            "covariance centred on another mean",
            "Centre each outer product on the component's new mean mu_j (computed first in the same M-step), not on "
            "the data's mean or the previous mu_j.",
            wrong=gmm_m_step__old_centre,
            by_output=True,
        ),
    ],
    alternatives=[gmm_m_step__loops],
)


# ---------------------------------------------------------------------------- gmm_elbo
def judge_gmm_elbo(case, got, expected):
    value = as_number(got[0], "the ELBO")
    Q = np.asarray(case.calls[0]["Q"])
    if np.isnan(value):
        raise Failure("the ELBO is NaN", "zero_log_zero" if np.any(Q == 0) else None)
    if not np.isclose(value, expected[0], rtol=1e-6, atol=1e-8):
        raise Failure(f"the ELBO should be {fmt(expected[0])}; got {fmt(value)}")


def gmm_elbo__no_entropy(X, params, Q):
    Q = np.asarray(Q, dtype=float)
    with np.errstate(invalid="ignore"):  # 0 * log 0 where a weight is 0: masked
        return float(np.sum(np.where(Q > 0, Q * _wrong_log_joint(X, params), 0.0)))


def gmm_elbo__entropy_sign(X, params, Q):
    Q = np.asarray(Q, dtype=float)
    safe = np.where(Q > 0, Q, 1.0)
    with np.errstate(invalid="ignore"):  # 0 * log 0 where a weight is 0: masked
        return float(np.sum(np.where(Q > 0, Q * (_wrong_log_joint(X, params) + np.log(safe)), 0.0)))


def gmm_elbo__zero_log_zero(X, params, Q):
    Q = np.asarray(Q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(Q * (_wrong_log_joint(X, params) - np.log(Q))))  # 0 * -inf = nan


def gmm_elbo__loops(X, params, Q):
    total = 0.0
    for row, q in zip(_log_joint_rows(np.asarray(X, dtype=float), params), np.asarray(Q, dtype=float).tolist()):
        for log_joint, q_ij in zip(row, q):
            if q_ij > 0:  # 0 log 0 = 0
                total += q_ij * (log_joint - math.log(q_ij))
    return total


gmm_elbo = Exercise(
    "gmm_elbo",
    points=2,
    reference=reference.gmm_elbo,
    judge=judge_gmm_elbo,
    visible=[
        Case(
            "Q from the E-step: the ELBO equals the log-likelihood",
            [{"X": _pts, "params": _three, "Q": ReferenceOutput(gmm_e_step, {"X": _pts, "params": _three})}],
        ),
        Case("any other Q: below the log-likelihood", [{"X": _pts, "params": _three, "Q": _dirichlet}]),
        Case("one-hot Q (0 log 0 = 0)", [{"X": _pts, "params": _three, "Q": _one_hot}]),
    ],
    hidden=[
        Case("4-D, a soft Q", [{"X": _X4, "params": _params4, "Q": _Q4}], kind="more dimensions, a soft Q"),
        Case(  # no component of weight 0: Q_ij log phi_j with phi_j = 0 is an edge the lesson does not teach
            "one-hot Q, two components hold no point",
            [{"X": _X4, "params": _params4, "Q": np.eye(4)[np.where(np.arange(150) % 2, 0, 3)]}],
            kind="a one-hot Q with components that hold no point",
        ),
    ],
    mistakes=[
        Mistake(
            "no_entropy",
            "the entropy term is missing",
            "ELBO = sum_ij Q_ij [log phi_j + log N(x_i | mu_j, Sigma_j)] - sum_ij Q_ij log Q_ij: without the "
            "entropy of Q it is only the expected complete-data log-likelihood, and it cannot touch log p(X).",
            wrong=gmm_elbo__no_entropy,
            by_output=True,
        ),
        Mistake(
            "entropy_sign",
            "the entropy term with its sign flipped",
            "Subtract Q_ij log Q_ij (the entropy -sum Q log Q is positive): ELBO = sum_ij Q_ij [log phi_j + "
            "log N(x_i | mu_j, Sigma_j) - log Q_ij].",
            wrong=gmm_elbo__entropy_sign,
            by_output=True,
        ),
        Mistake(
            "zero_log_zero",
            "0 log 0 gives NaN",
            "Terms with Q_ij = 0 contribute 0 (0 log 0 = 0, and 0 times log phi_j = 0 even when phi_j = 0), but in "
            "NumPy 0 * np.log(0) = 0 * -inf = nan: sum only over the entries with Q > 0 (for the entropy, "
            "scipy.special.xlogy(Q, Q) does it).",
            wrong=gmm_elbo__zero_log_zero,
        ),
    ],
    alternatives=[gmm_elbo__loops],
)


# ---------------------------------------------------------------------------- general_em
def judge_general_em(case, got, expected):
    call = case.calls[0]
    max_iters, tol = call.get("max_iters", 100), call.get("tol", 1e-6)
    if not isinstance(got[0], (tuple, list)) or len(got[0]) != 4:
        raise Failure(f"general_em must return a tuple (params, Q, elbos, n_iters); got {describe(got[0])}")
    if call["elbo"] is None:
        return _judge_without_elbo(got[0], expected[0], tol)
    params, Q, elbos, n_iters = got[0]
    _, exp_Q, exp_elbos, exp_iters = expected[0]
    log = params.get("log") if isinstance(params, dict) else None
    if not isinstance(log, str):
        raise Failure(f"params must be what the last m_step returned; got {describe(params)}")
    if not log:
        raise Failure("the returned params are init_params: no M-step ran")
    if log != "EM" * (len(log) // 2):
        calls = " ".join(log[:12]) + (" ..." if len(log) > 12 else "")
        raise Failure(
            f"each iteration must run e_step and then m_step on its result; the returned params came from "
            f"the calls {calls}"
        )
    iters = len(log) // 2
    reported = as_number(n_iters, "n_iters", integer=True)
    if reported > iters:
        raise Failure(
            f"n_iters is {reported}, but the returned params went through only {iters} E-step/M-step pair(s): "
            f"the M-steps reused an old Q",
            "no_alternation",
        )
    if reported != iters:
        raise Failure(f"n_iters is {reported}, but m_step ran {iters} times to give the returned params")
    elbos = as_array(elbos, "elbos")
    if elbos.shape != (iters,):
        raise Failure(f"elbos must hold one value per iteration, {iters}; got shape {elbos.shape}")
    if iters != exp_iters:
        if iters == max_iters:
            raise Failure(
                f"ran all max_iters={max_iters} iterations; iteration {exp_iters} raised the ELBO by less than "
                f"tol={tol} ({fmt(exp_elbos[-2])} -> {fmt(exp_elbos[-1])}), so it should stop there",
                "ignores_tol",
            )
        raise Failure(
            f"ran {iters} iterations; it should stop after {exp_iters}, the first iteration that raises the ELBO "
            f"by less than tol={tol} (or at max_iters={max_iters})"
        )
    compare_array(elbos, np.asarray(exp_elbos, dtype=float), "elbos")
    fresh = {"t": exp_iters, "log": "EM" * exp_iters + "E"}  # an extra E-step on the final params: accepted
    if not (isinstance(Q, dict) and Q in (exp_Q, fresh)):
        raise Failure(f"Q must be the posterior of the last E-step (the one the last M-step used); got {describe(Q)}")


def _judge_without_elbo(got, expected, tol):
    """Without an elbo, general_em stops after the first iteration that moves no parameter by more than tol."""
    params, Q, elbos, n_iters = got
    exp_params, exp_Q, _, exp_iters = expected
    if as_array(elbos, "elbos").size:
        raise Failure(f"without an elbo function there is no ELBO to record: elbos must be empty; got {fmt(elbos)}")
    iters = as_number(n_iters, "n_iters", integer=True)
    if iters != exp_iters:
        raise Failure(
            f"ran {iters} iterations; without an elbo it should stop after {exp_iters}, the first iteration that "
            f"moves no parameter by more than tol={tol} (the parameter moves by 1/2, 1/4, ...)",
            "no_elbo_stop",
        )
    compare_number(params, exp_params, "params")
    compare_number(Q, exp_Q, "Q (the posterior of the last E-step)")


def general_em__ignores_tol(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    params, elbos = init_params, []
    for _ in range(max_iters):
        Q = e_step(X, params)
        params = m_step(X, Q)
        elbos.append(float(elbo(X, params, Q)))
    return params, Q, elbos, len(elbos)


def general_em__no_alternation(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    params, elbos = init_params, []
    Q = e_step(X, params)
    for _ in range(max_iters):
        params = m_step(X, Q)
        elbos.append(float(elbo(X, params, Q)))
        if len(elbos) > 1 and elbos[-1] - elbos[-2] < tol:
            break
    return params, Q, elbos, len(elbos)


def general_em__never_updates(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    params, elbos = init_params, []
    for _ in range(max_iters):
        Q = e_step(X, params)
        new_params = m_step(X, Q)  # noqa: F841 (computed, then never used: the mistake itself)
        elbos.append(float(elbo(X, params, Q)))
        if len(elbos) > 1 and elbos[-1] - elbos[-2] < tol:
            break
    return params, Q, elbos, len(elbos)


def general_em__while_loop(X, init_params, e_step, m_step, elbo=None, max_iters=100, tol=1e-6):
    params, Q, elbos, n_iters = init_params, None, [], 0
    converged = False
    while not converged and n_iters < max_iters:
        Q = e_step(X, params)
        old, params = params, m_step(X, Q)
        n_iters += 1
        if elbo is None:  # stop on the parameters: here a number
            converged = abs(params - old) < tol
        else:
            elbos.append(float(elbo(X, params, Q)))
            converged = len(elbos) >= 2 and elbos[-1] - elbos[-2] < tol
    return params, Q, elbos, n_iters


def general_em__no_elbo_stop(X, init_params, e_step, m_step, elbo=None, max_iters=100, tol=1e-6):
    params, elbos = init_params, []
    for n_iters in range(1, max_iters + 1):  # noqa: B007 (n_iters is returned)
        Q = e_step(X, params)
        params = m_step(X, Q)
        if elbo is None:
            continue  # without an ELBO nothing is compared: it always runs to max_iters
        elbos.append(float(elbo(X, params, Q)))
        if len(elbos) > 1 and elbos[-1] - elbos[-2] < tol:
            break
    return params, Q, elbos, n_iters


general_em = Exercise(
    "general_em",
    points=3,
    reference=reference.general_em,
    judge=judge_general_em,
    visible=[
        Case("an ELBO that levels off: stop at the first gain below tol", [_trace | {"X": _levels_off, "tol": 1e-6}]),
        Case("max_iters=3 caps the iterations", [_trace | {"X": _levels_off, "max_iters": 3}]),
        Case(
            "tol=0 runs until max_iters while the ELBO still rises",
            [_trace | {"X": np.linspace(-5.0, -4.0, 12), "tol": 0.0, "max_iters": 8}],
        ),
        Case("no elbo: stop once no parameter moves more than tol", [_halving | {"X": 1.0, "init_params": 0.0}]),
    ],
    hidden=[
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
        Case("no elbo, a loose tol", [_halving | {"X": 4.0, "init_params": 0.0, "tol": 1e-2}], kind="no ELBO"),
    ],
    mistakes=[
        Mistake(
            "ignores_tol",
            "tol ignored",
            "After each iteration compare the new ELBO with the previous one and stop (break) when it gained "
            "less than tol; max_iters is only the cap.",
            wrong=general_em__ignores_tol,
        ),
        Mistake(
            "no_alternation",
            "the E-step runs only once",
            "Each iteration is an E-step and then an M-step: Q = e_step(X, params) inside the loop, before "
            "params = m_step(X, Q). With a fixed Q the M-step keeps solving the same problem.",
            wrong=general_em__no_alternation,
        ),
        Mistake(
            "never_updates",
            "the parameters are never updated",
            "Each iteration's M-step returns new parameters: assign them (params = m_step(X, Q)) so that the next "
            "E-step and the ELBO use them.",
            wrong=general_em__never_updates,
            by_output=True,
        ),
        Mistake(
            "no_elbo_stop",
            "no stopping rule without an elbo",
            "Without an elbo function, stop after the first iteration that moves no parameter by more than tol "
            "(compare the new params with the old ones); elbos stays empty.",
            wrong=general_em__no_elbo_stop,
        ),
    ],
    alternatives=[general_em__while_loop],
)
