"""Lesson 3, Gaussian mixtures: each exercise declared once, with its reference, cases, judge and known mistakes."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

import solutions.gmm as reference
from autograde.judge import Case, Exercise, Failure, Mistake, as_array, close, compare, compare_array, describe, fmt
from autograde.serial import RngSeed
from helpers.data import load_faithful


def _spd(d, scale=1.0, *, seed):
    """A random symmetric positive-definite d x d matrix, from its own generator."""
    A = np.random.default_rng(seed).normal(size=(d, d))
    return scale * (A @ A.T / d + 0.3 * np.eye(d))


def _standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


# data shared by cases; every random array has its own seed, so adding or reordering cases changes no other
_unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])  # by hand: -log(2 pi) - |x|^2 / 2
_S2 = np.array([[2.0, 0.8], [0.8, 1.0]])
_pts = np.random.default_rng(301).normal(size=(6, 2))
_cube = np.random.default_rng(302).normal(size=(10, 3))
_S3 = np.array([[1.5, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]])
_blobs = np.concatenate(
    [
        np.random.default_rng(303).multivariate_normal([0, 0], [[1.0, 0.6], [0.6, 1.0]], size=40),
        np.random.default_rng(304).multivariate_normal([5, 1], [[0.5, 0.0], [0.0, 1.5]], size=25),
        np.random.default_rng(305).multivariate_normal([1, 6], [[1.0, -0.4], [-0.4, 0.6]], size=15),
    ]
)
_eye2 = np.stack([np.eye(2)] * 3)
_init3 = (np.full(3, 1 / 3), np.array([[-1.0, -1.0], [3.0, 3.0], [0.0, 4.0]]), _eye2)
_init2 = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), 0.1 * np.stack([np.eye(2)] * 2))
_two = np.concatenate(
    [
        np.random.default_rng(306).normal([-2.5, 0], 0.6, size=(20, 2)),
        np.random.default_rng(307).normal([2.5, 1], 0.8, size=(30, 2)),
    ]
)
_far = np.array([[0.0, 0.0], [3.0, 0.0], [1.5, 0.5], [60.0, 60.0], [-80.0, 10.0]])
_dirichlet = np.random.default_rng(308).dirichlet(np.ones(3), size=len(_pts))
_params3 = (
    np.array([0.5, 0.3, 0.2]),
    np.array([[0.0, 0.0], [2.0, 1.0], [-1.0, 2.0]]),
    np.stack([_S2, np.eye(2), np.diag([0.5, 2.0])]),
)
_Sigma_sample = np.stack([_S2, np.array([[0.5, -0.3], [-0.3, 0.4]]), np.diag([1.0, 0.25])])
_sample3 = {
    "phi": _params3[0],
    "mu": np.array([[0.0, 0.0], [4.0, 1.0], [-2.0, 4.0]]),
    "Sigma": _Sigma_sample,
    "n": 20000,
}
_sample1d = {"phi": np.array([0.25, 0.75]), "mu": np.array([[-3.0], [2.0]]), "Sigma": np.array([[[0.5]], [[2.0]]])}
_X5 = np.random.default_rng(311).normal(size=(200, 5))
_mu5 = np.random.default_rng(312).normal(size=(4, 5))
_Sigma5 = np.stack([_spd(5, seed=s) for s in (313, 314, 315, 316)])
_phi5 = np.array([0.1, 0.2, 0.3, 0.4])
_big = np.random.default_rng(317).normal(1000.0, 30.0, size=(50, 2))  # large coordinates: centre before squaring
_far3 = np.concatenate([np.random.default_rng(318).normal(size=(20, 3)), [[300.0, -200.0, 100.0], [-1e3, 0.0, 0.0]]])
_w5 = np.random.default_rng(319).dirichlet(np.full(3, 0.5), size=200)
_w_small = np.concatenate([[[0.0, 1.0], [0.2, 0.8], [0.5, 0.5]], np.tile([0.999, 0.001], (197, 1))])
_faithful = _standardised(load_faithful())
_fig98 = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), 0.1 * np.stack([np.eye(2)] * 2))
_blobs3 = np.concatenate(
    [
        np.random.default_rng(320).normal(0, 1.0, size=(60, 3)),
        np.random.default_rng(321).normal(4, 0.5, size=(30, 3)),
        np.random.default_rng(322).normal(-4, 2.0, size=(40, 3)),
    ]
)
_init_blobs3 = (np.array([0.2, 0.3, 0.5]), _blobs3[[0, 60, 90]], np.stack([np.eye(3)] * 3))
_sample4 = {"phi": np.array([0.5, 0.0, 0.2, 0.3]), "mu": 3 * _mu5[:, :4], "Sigma": _Sigma5[:, :4, :4], "n": 10000}


# ---------------------------------------------------------------------------- log_gaussian_pdf
def judge_log_gaussian_pdf(case, got, expected):
    compare_array(got[0], expected[0], "logpdf")


def _wrong_quadratic(X, mu, P):
    diff = np.asarray(X, dtype=float) - np.asarray(mu, dtype=float)
    return np.einsum("nd,de,ne->n", diff, P, diff)


def log_gaussian_pdf__sigma_not_inverted(X, mu, Sigma):
    d = len(mu)
    return -0.5 * (d * np.log(2 * np.pi) + np.linalg.slogdet(Sigma)[1] + _wrong_quadratic(X, mu, Sigma))


def log_gaussian_pdf__logdet_no_half(X, mu, Sigma):
    d = len(mu)
    return -0.5 * (d * np.log(2 * np.pi) + _wrong_quadratic(X, mu, np.linalg.inv(Sigma))) - np.linalg.slogdet(Sigma)[1]


def log_gaussian_pdf__no_2pi(X, mu, Sigma):
    return -0.5 * (np.linalg.slogdet(Sigma)[1] + _wrong_quadratic(X, mu, np.linalg.inv(Sigma)))


def log_gaussian_pdf__scipy(X, mu, Sigma):
    return [float(multivariate_normal(mu, Sigma).logpdf(x)) for x in X]


log_gaussian_pdf = Exercise(
    "log_gaussian_pdf",
    points=2,
    reference=reference.log_gaussian_pdf,
    judge=judge_log_gaussian_pdf,
    visible=[
        Case("standard normal in 2-D", [{"X": _unit, "mu": np.zeros(2), "Sigma": np.eye(2)}]),
        Case("correlated covariance", [{"X": _pts, "mu": np.array([1.0, -1.0]), "Sigma": _S2}]),
        Case("3-D", [{"X": _cube, "mu": np.array([0.5, 0.0, -0.5]), "Sigma": _S3}]),
    ],
    hidden=[
        Case("5-D, 200 points", [{"X": _X5, "mu": _mu5[0], "Sigma": _Sigma5[0]}], kind="more dimensions"),
        Case("1-D", [{"X": _X5[:, :1], "mu": np.array([0.3]), "Sigma": np.array([[2.5]])}], kind="a single dimension"),
        Case(
            "large coordinates",
            [{"X": _big, "mu": np.array([1000.0, 1000.0]), "Sigma": _spd(2, 900.0, seed=323)}],
            kind="coordinates far from zero",
        ),
        Case(
            "narrow covariance",
            [{"X": _X5[:20, :2] * 0.01, "mu": np.zeros(2), "Sigma": 1e-4 * np.eye(2)}],
            kind="a very small covariance",
        ),
    ],
    mistakes=[
        Mistake(
            "sigma_not_inverted",
            "Sigma instead of its inverse",
            "The quadratic form is (x - mu)^T Sigma^{-1} (x - mu): solve with Sigma (np.linalg.solve) "
            "or multiply by np.linalg.inv(Sigma), not by Sigma itself.",
            wrong=log_gaussian_pdf__sigma_not_inverted,
            by_output=True,
        ),
        Mistake(
            "logdet_no_half",
            "log-determinant without the 1/2",
            "The normaliser is |Sigma|^{-1/2}: "
            "subtract 0.5 * log|Sigma| (np.linalg.slogdet), not the whole log|Sigma|.",
            wrong=log_gaussian_pdf__logdet_no_half,
            by_output=True,
        ),
        Mistake(
            "no_2pi",
            "the 2 pi term is missing",
            "The normaliser includes (2 pi)^{-d/2}: subtract 0.5 * d * log(2 pi).",
            wrong=log_gaussian_pdf__no_2pi,
            by_output=True,
        ),
    ],
    alternatives=[log_gaussian_pdf__scipy],
)


# ---------------------------------------------------------------------------- e_step
def judge_e_step(case, got, expected):
    w = as_array(got[0], "w", shape=expected[0].shape)
    bad = np.argwhere(~np.isfinite(w))
    if len(bad):
        i = bad[0][0]
        x = np.asarray(case.calls[0]["X"], dtype=float)[i]
        raise Failure(f"w contains NaN or infinity, e.g. in row {i} (the point {fmt(x)})", "prob_space")
    sums = w.sum(axis=1)
    wrong = np.flatnonzero(np.abs(sums - 1) > 1e-5)
    if len(wrong):
        raise Failure(f"rows of w must sum to 1; row {wrong[0]} sums to {fmt(sums[wrong[0]])}")
    compare_array(w, expected[0], "w")


def _wrong_log_joint(X, phi, mu, Sigma):
    return np.column_stack([np.log(phi[j]) + log_gaussian_pdf(X, mu[j], Sigma[j]) for j in range(len(phi))])


def e_step__prob_space(X, phi, mu, Sigma):
    p = np.exp(_wrong_log_joint(X, phi, mu, Sigma))
    with np.errstate(invalid="ignore", divide="ignore"):
        return p / p.sum(axis=1, keepdims=True)


def e_step__no_weights(X, phi, mu, Sigma):
    log_prob = _wrong_log_joint(X, np.ones(len(phi)), mu, Sigma)  # log N(x_i | mu_j, Sigma_j) alone
    return np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))


def e_step__wrong_axis(X, phi, mu, Sigma):
    log_prob = _wrong_log_joint(X, phi, mu, Sigma)
    return np.exp(log_prob - logsumexp(log_prob, axis=0, keepdims=True))


def e_step__float32_loops(X, phi, mu, Sigma):
    out = np.zeros((len(X), len(phi)), dtype=np.float32)
    for i, x in enumerate(X):
        lp = np.array([np.log(phi[j]) + multivariate_normal(mu[j], Sigma[j]).logpdf(x) for j in range(len(phi))])
        out[i] = np.exp(lp - logsumexp(lp))
    return out


e_step = Exercise(
    "e_step",
    points=2,
    reference=reference.e_step,
    judge=judge_e_step,
    uses=[log_gaussian_pdf],
    visible=[
        Case(
            "two components, equal weights",
            [
                {
                    "X": _unit,
                    "phi": np.array([0.5, 0.5]),
                    "mu": np.array([[0.0, 0.0], [1.0, 1.0]]),
                    "Sigma": np.stack([np.eye(2)] * 2),
                }
            ],
        ),
        Case(
            "three components, unequal weights",
            [{"X": _pts, "phi": _params3[0], "mu": _params3[1], "Sigma": _params3[2]}],
        ),
        Case(
            "points far from every component",
            [{"X": _far, "phi": np.array([0.4, 0.6]), "mu": np.array([[0.0, 0.0], [3.0, 0.0]]), "Sigma": _eye2[:2]}],
        ),
    ],
    hidden=[
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
    mistakes=[
        Mistake(
            "prob_space",
            "E-step in probability space",
            "For points far from every component each phi_j N(x | mu_j, Sigma_j) underflows to 0 and 0 / 0 = NaN. "
            "Work with logs: log phi_j + log_gaussian_pdf, then subtract scipy.special.logsumexp over the components "
            "(axis=1) before exponentiating.",
            wrong=e_step__prob_space,
        ),
        Mistake(
            "no_weights",
            "the mixing weights are missing",
            "The responsibility is proportional to phi_j N(x_i | mu_j, Sigma_j): add log phi_j to each component's "
            "log-density before normalising.",
            wrong=e_step__no_weights,
            by_output=True,
        ),
        Mistake(
            "wrong_axis",
            "normalised over the wrong axis",
            "Each point's responsibilities sum to 1: normalise over the components (axis=1), not over the points.",
            wrong=e_step__wrong_axis,
            by_output=True,
        ),
    ],
    alternatives=[e_step__float32_loops],
)


# ---------------------------------------------------------------------------- m_step
def judge_m_step(case, got, expected):
    compare(got[0], expected[0], ("phi", "mu", "Sigma"))


def _wrong_m_step(X, w, mean_norm="nk", cov_norm="nk", weighted=True, centred=True, phi_norm=True):
    X, w = np.asarray(X, dtype=float), np.asarray(w, dtype=float)
    n, d = X.shape
    nk = w.sum(axis=0)
    mu = (w.T @ X) / (nk[:, None] if mean_norm == "nk" else n)
    Sigma = np.empty((len(nk), d, d))
    for j in range(len(nk)):
        diff = X - mu[j] if centred else X
        weights = w[:, j] if weighted else np.ones(n)
        Sigma[j] = (weights[:, None] * diff).T @ diff / {"nk": nk[j], "n": n, "nk-1": nk[j] - 1}[cov_norm]
    return (nk / n if phi_norm else nk), mu, Sigma


def m_step__unweighted_cov(X, w):
    return _wrong_m_step(X, w, weighted=False)


def m_step__no_centering(X, w):
    return _wrong_m_step(X, w, centred=False)


def m_step__mean_over_n(X, w):
    return _wrong_m_step(X, w, mean_norm="n")


def m_step__cov_over_n(X, w):
    return _wrong_m_step(X, w, cov_norm="n")


def m_step__cov_over_nk_minus_1(X, w):
    return _wrong_m_step(X, w, cov_norm="nk-1")


def m_step__phi_counts(X, w):
    return _wrong_m_step(X, w, phi_norm=False)


def m_step__loops(X, w):
    X = np.asarray(X)
    n, _d = X.shape
    k = w.shape[1]
    phi, mu, Sigma = [], [], []
    for j in range(k):
        nk = sum(w[i, j] for i in range(n))
        m = sum(w[i, j] * X[i] for i in range(n)) / nk
        S = sum(w[i, j] * np.outer(X[i] - m, X[i] - m) for i in range(n)) / nk
        phi.append(nk / n)
        mu.append(m)
        Sigma.append(S)
    return phi, mu, Sigma


m_step = Exercise(
    "m_step",
    points=2,
    reference=reference.m_step,
    judge=judge_m_step,
    visible=[
        Case(
            "one-hot w: two clusters of two points",
            [{"X": np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0], [4.0, 6.0]]), "w": np.repeat(np.eye(2), 2, axis=0)}],
        ),
        Case("soft responsibilities, three components", [{"X": _pts, "w": _dirichlet}]),
        Case(
            "3-D, two components",
            [{"X": _cube, "w": np.column_stack([np.linspace(0.1, 0.9, 10), np.linspace(0.9, 0.1, 10)])}],
        ),
    ],
    hidden=[
        Case("5-D, soft responsibilities", [{"X": _X5, "w": _w5}], kind="more dimensions, soft responsibilities"),
        Case(
            "a component with little responsibility",
            [{"X": _X5[:, :2], "w": _w_small}],
            kind="a component with almost no points",
        ),
        Case("one component", [{"X": _big, "w": np.ones((50, 1))}], kind="a single component"),
    ],
    mistakes=[
        Mistake(
            "unweighted_cov",
            "unweighted covariance",
            "Weight each point's outer product by its responsibility: "
            "Sigma_j = sum_i w[i, j] (x_i - mu_j)(x_i - mu_j)^T / N_j (Bishop eq. 9.19).",
            wrong=m_step__unweighted_cov,
            by_output=True,
        ),
        Mistake(
            "no_centering",
            "E[x x^T] without subtracting the mean",
            "The covariance is about the new mean: use the outer products of x_i - mu_j (or subtract mu_j mu_j^T).",
            wrong=m_step__no_centering,
            by_output=True,
        ),
        Mistake(
            "mean_over_n",
            "mean divided by n instead of N_k",
            "mu_j is a weighted average: divide sum_i w[i, j] x_i by N_j = sum_i w[i, j], not by the number of points.",
            wrong=m_step__mean_over_n,
            by_output=True,
        ),
        Mistake(
            "cov_over_n",
            "covariance divided by n instead of N_k",
            "Sigma_j is a weighted average of outer products: "
            "divide by N_j = sum_i w[i, j], not by the number of points.",
            wrong=m_step__cov_over_n,
            by_output=True,
        ),
        Mistake(
            "cov_over_nk_minus_1",
            "covariance divided by N_k - 1",
            "The M-step's Sigma_j is the maximum-likelihood estimate: divide the weighted outer products by N_j, "
            "not N_j - 1 (the unbiased sample covariance is not what maximises the likelihood).",
            wrong=m_step__cov_over_nk_minus_1,
            by_output=True,
        ),
        Mistake(
            "phi_counts",
            "weights not divided by n",
            "phi_j = N_j / n, so that the weights sum to 1 (Bishop eq. 9.22).",
            wrong=m_step__phi_counts,
            by_output=True,
        ),
    ],
    alternatives=[m_step__loops],
)


# ---------------------------------------------------------------------------- log_likelihood
def judge_log_likelihood(case, got, expected):
    compare(got[0], expected[0], "the log-likelihood")


def log_likelihood__mean_loglik(X, phi, mu, Sigma):
    return float(np.mean(logsumexp(_wrong_log_joint(X, phi, mu, Sigma), axis=1)))


def log_likelihood__sum_of_logs(X, phi, mu, Sigma):
    return float(np.sum(_wrong_log_joint(X, phi, mu, Sigma)))


def log_likelihood__scipy(X, phi, mu, Sigma):
    return float(
        sum(logsumexp([np.log(p) + multivariate_normal(m, S).logpdf(x) for p, m, S in zip(phi, mu, Sigma)]) for x in X)
    )


log_likelihood = Exercise(
    "log_likelihood",
    points=1,
    reference=reference.log_likelihood,
    judge=judge_log_likelihood,
    uses=[log_gaussian_pdf],
    visible=[
        Case(
            "one standard normal", [{"X": _unit, "phi": np.ones(1), "mu": np.zeros((1, 2)), "Sigma": np.eye(2)[None]}]
        ),
        Case("three components", [{"X": _pts, "phi": _params3[0], "mu": _params3[1], "Sigma": _params3[2]}]),
    ],
    hidden=[
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
    mistakes=[
        Mistake(
            "mean_loglik",
            "mean instead of sum",
            "The log-likelihood is the sum over points of log p(x_i), not its mean (Bishop eq. 9.14).",
            wrong=log_likelihood__mean_loglik,
            by_output=True,
        ),
        Mistake(
            "sum_of_logs",
            "sum of logs instead of log of the sum",
            "The log sits outside the sum over components: sum_i log sum_j phi_j N(x_i | mu_j, Sigma_j) "
            "(use scipy.special.logsumexp over the components).",
            wrong=log_likelihood__sum_of_logs,
            by_output=True,
        ),
    ],
    alternatives=[log_likelihood__scipy],
)


# ---------------------------------------------------------------------------- em_mog
def _near(got, expected, what):
    """Values after an iterative fit: equal up to what one iteration more or less changes."""
    array = as_array(got, what, shape=expected.shape)
    scale = float(np.max(np.abs(expected)))
    if not np.allclose(array, expected, rtol=1e-3, atol=1e-4 * max(scale, 1.0)):
        compare_array(array, expected, what, rtol=1e-3)


def judge_em_mog(case, got, expected):
    call = case.calls[0]
    max_iters = call.get("max_iters", 100)
    exp_phi, exp_mu, exp_Sigma, exp_w, exp_logliks, exp_elbos = expected[0]
    if not isinstance(got[0], (tuple, list)) or len(got[0]) != 6:
        raise Failure("em_mog must return a tuple (phi, mu, Sigma, w, logliks, elbos)")
    phi, mu, Sigma, w, logliks, elbos = got[0]
    logliks = as_array(logliks, "logliks")
    if logliks.ndim != 1:
        raise Failure(f"logliks must be a flat list of numbers; got an array of shape {logliks.shape}")
    if logliks.size < 2:
        raise Failure(
            f"logliks holds {logliks.size} value(s): it needs the log-likelihood of init, then one per iteration"
        )
    exp_logliks = np.asarray(exp_logliks, dtype=float)
    if not close(logliks[0], exp_logliks[0]) and close(logliks[0], exp_logliks[1]):
        raise Failure(
            f"logliks[0] should be the log-likelihood of the start, {fmt(exp_logliks[0])}, before any iteration; "
            f"got {fmt(logliks[0])}, the value after the first iteration"
        )
    if not close(logliks[0], exp_logliks[0]):
        raise Failure(
            f"logliks[0] should be the log-likelihood of the given init, {fmt(exp_logliks[0])}; got {fmt(logliks[0])}",
            "init_ignored",
        )
    n_iters, exp_iters = logliks.size - 1, exp_logliks.size - 1
    if n_iters > max_iters:
        raise Failure(f"logliks has {logliks.size} entries: {n_iters} iterations, more than max_iters={max_iters}")
    if n_iters == 1 and exp_iters > 2:
        raise Failure(f"stopped after 1 iteration; it needs {exp_iters} to converge", "one_iteration")
    # EM never lowers the log-likelihood; a large reg_covar (not part of the M-step's maximum) may
    regularised = call.get("reg_covar", 1e-6) > 1e-6
    drops = np.flatnonzero(np.diff(logliks) < -1e-7 * max(1.0, float(np.max(np.abs(logliks)))))
    if len(drops) and not regularised:
        t = drops[0]
        raise Failure(
            f"the log-likelihood must never decrease under EM; logliks[{t + 1}] = {fmt(logliks[t + 1])} "
            f"< logliks[{t}] = {fmt(logliks[t])}"
        )
    for value, exp, what in ((phi, exp_phi, "phi"), (mu, exp_mu, "mu"), (Sigma, exp_Sigma, "Sigma"), (w, exp_w, "w")):
        _near(value, exp, what)
    if abs(n_iters - exp_iters) > 1:
        raise Failure(f"it should run {exp_iters} iterations (one more or less is accepted); ran {n_iters}")
    if not close(logliks[-1], exp_logliks[-1], rtol=1e-6):
        raise Failure(f"the last log-likelihood should be {fmt(exp_logliks[-1])}; got {fmt(logliks[-1])}")
    elbos = as_array(elbos, "elbos")
    if elbos.shape != (n_iters,):
        raise Failure(f"elbos must hold one ELBO per iteration, {n_iters} values; got shape {elbos.shape}")
    slack = 1e-6 * max(1.0, float(np.max(np.abs(logliks))))
    outside = np.flatnonzero((elbos < logliks[:-1] - slack) | (elbos > logliks[1:] + slack))
    if len(outside) and not regularised:
        t = outside[0]
        raise Failure(
            f"the ELBO of iteration {t + 1} must lie between the log-likelihoods before and after it; "
            f"got logliks[{t}] = {fmt(logliks[t])}, elbos[{t}] = {fmt(elbos[t])}, "
            f"logliks[{t + 1}] = {fmt(logliks[t + 1])}"
        )
    if n_iters == exp_iters:
        compare_array(elbos, np.asarray(exp_elbos, dtype=float), "elbos", rtol=1e-5)


def _wrong_em(X, phi, mu, Sigma, max_iters, tol, reg_covar):
    X = np.asarray(X, dtype=float)
    logliks, elbos = [log_likelihood(X, phi, mu, Sigma)], []
    for _ in range(max_iters):
        w = e_step(X, phi, mu, Sigma)
        phi, mu, Sigma = m_step(X, w)
        Sigma = Sigma + reg_covar * np.eye(X.shape[1])
        log_prob = np.column_stack([np.log(phi[j]) + log_gaussian_pdf(X, mu[j], Sigma[j]) for j in range(len(phi))])
        elbos.append(float(np.sum(w * (log_prob - np.log(np.where(w > 0, w, 1.0))))))
        logliks.append(log_likelihood(X, phi, mu, Sigma))
        if logliks[-1] - logliks[-2] < tol:
            break
    return phi, mu, Sigma, e_step(X, phi, mu, Sigma), logliks, elbos


def em_mog__init_ignored(X, k, max_iters=100, tol=1e-6, rng=None, init=None, reg_covar=1e-6):
    X = np.asarray(X, dtype=float)
    rng = rng or np.random.default_rng()
    mu = X[rng.choice(len(X), size=k, replace=False)]
    Sigma = np.stack([np.cov(X.T, bias=True) + reg_covar * np.eye(X.shape[1])] * k)
    return _wrong_em(X, np.full(k, 1.0 / k), mu, Sigma, max_iters, tol, reg_covar)


def em_mog__one_iteration(X, k, max_iters=100, tol=1e-6, rng=None, init=None, reg_covar=1e-6):
    phi, mu, Sigma = (np.asarray(a, dtype=float) for a in init)
    return _wrong_em(X, phi, mu, Sigma, 1, tol, reg_covar)


def em_mog__lists(X, k, max_iters=100, tol=1e-6, rng=None, init=None, reg_covar=1e-6):
    phi, mu, Sigma = init
    ll = [log_likelihood(X, phi, mu, Sigma)]
    elbos = []
    for _it in range(max_iters):
        w = e_step(X, phi, mu, Sigma)
        phi, mu, Sigma = m_step(X, w)
        Sigma = [S + reg_covar * np.eye(len(S)) for S in Sigma]
        lp = np.array([np.log(phi[j]) + np.asarray(log_gaussian_pdf(X, mu[j], Sigma[j])) for j in range(k)]).T
        w = np.asarray(w, dtype=float)
        elbos.append(float(np.sum(w * lp) - np.sum(w[w > 0] * np.log(w[w > 0]))))
        ll.append(float(log_likelihood(X, phi, mu, Sigma)))
        if ll[-1] - ll[-2] < tol:
            break
    return phi, mu, Sigma, e_step(X, phi, mu, Sigma), ll, elbos


em_mog = Exercise(
    "em_mog",
    points=2,
    reference=reference.em_mog,
    judge=judge_em_mog,
    uses=[log_gaussian_pdf, e_step, m_step, log_likelihood],
    visible=[
        Case("one iteration (max_iters=1)", [{"X": _blobs, "k": 3, "init": _init3, "max_iters": 1, "rng": RngSeed(0)}]),
        Case("two groups from Bishop's Fig. 9.8 start", [{"X": _two, "k": 2, "init": _init2, "rng": RngSeed(0)}]),
        Case("three groups from a given init", [{"X": _blobs, "k": 3, "init": _init3, "rng": RngSeed(0)}]),
    ],
    hidden=[
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
    mistakes=[
        Mistake(
            "init_ignored",
            "init ignored",
            "When init is given, start from its (phi, mu, Sigma); initialise otherwise only when init is None.",
            wrong=em_mog__init_ignored,
        ),
        Mistake(
            "one_iteration",
            "a single EM iteration",
            "Repeat E-step and M-step until the log-likelihood gains less than tol, up to max_iters iterations.",
            wrong=em_mog__one_iteration,
        ),
    ],
    alternatives=[em_mog__lists],
)


# ---------------------------------------------------------------------------- sample_gmm
def _within(got, expected, se, sds):
    return bool(np.all(np.abs(got - expected) <= sds * se + 1e-12))


def _judge_sample(call, X, z):
    """One sample against its mixture: component frequencies, then each component's mean and covariance."""
    phi, mu, Sigma = (np.asarray(call[key], dtype=float) for key in ("phi", "mu", "Sigma"))
    n, k = call["n"], len(phi)
    counts = np.bincount(z, minlength=k)
    sd = np.sqrt(n * phi * (1 - phi))
    wrong = np.flatnonzero(np.abs(counts - n * phi) > 5 * sd + 0.5)
    if len(wrong):
        j = wrong[0]
        uniform = _within(counts, n / k, np.sqrt(n * (1 - 1 / k) / k), 5)
        raise Failure(
            f"component {j} was drawn {counts[j]} times in {n}; with phi[{j}] = {fmt(phi[j])} expect about "
            f"{n * phi[j]:.0f}",
            "ignores_phi" if uniform else None,
        )
    for j in np.flatnonzero(counts >= 10 * mu.shape[1]):
        points = X[z == j]
        mean, m = points.mean(axis=0), len(points)
        if not _within(mean, mu[j], np.sqrt(np.diag(Sigma[j]) / m), 6):
            raise Failure(
                f"the points with z = {j} average {fmt(np.round(mean, 3))}; each x_i must be drawn from its own "
                f"component, around mu[z_i] (here mu[{j}] = {fmt(mu[j])})"
            )
        cov = np.atleast_2d(np.cov(points.T, bias=True))

        def fits(S, m=m, cov=cov):
            return _within(cov, S, np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / m), 6)

        if not fits(Sigma[j]):
            L = np.linalg.cholesky(Sigma[j])
            candidates = {
                "ignores_sigma": np.eye(len(L)),
                "sigma_as_factor": Sigma[j] @ Sigma[j],
                "factor_transposed": L.T @ L,
            }
            raise Failure(
                f"the points with z = {j} have covariance {fmt(np.round(cov, 3))}; expected about Sigma[{j}] = "
                f"{fmt(Sigma[j])}",
                next((mistake for mistake, S in candidates.items() if fits(S)), None),
            )


def judge_sample_gmm(case, got, expected):
    """sample_gmm is random: judge shapes, reproducibility, then the distribution of every sample."""
    samples = []
    for call, out in zip(case.calls, got):
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Failure(f"sample_gmm must return a tuple (X, z); got {describe(out)}")
        n, (k, d) = call["n"], np.shape(call["mu"])
        X = as_array(out[0], "X", shape=(n, d))
        z = as_array(out[1], "z", shape=(n,), integer=True)
        if n and (z.min() < 0 or z.max() >= k):
            raise Failure(f"z must hold component indices 0 to {k - 1}; got values from {z.min()} to {z.max()}")
        samples.append((X, z))
    seeds = [call["rng"].seed for call in case.calls]
    for i in range(len(seeds)):
        for j in range(i):
            same_sample = np.array_equal(samples[i][0], samples[j][0]) and np.array_equal(samples[i][1], samples[j][1])
            if seeds[i] == seeds[j] and not same_sample:
                raise Failure(f"two generators with the same seed ({seeds[i]}) gave different samples", "global_random")
            if seeds[i] != seeds[j] and same_sample:
                raise Failure(f"the seeds {seeds[j]} and {seeds[i]} gave the same sample: draw from rng")
    for call, (X, z) in zip(case.calls, samples):
        _judge_sample(call, X, z)


def _wrong_sample(phi, mu, Sigma, n, rng, probabilities=True, factor="cholesky", generator=True):
    phi, mu, Sigma = (np.asarray(a, dtype=float) for a in (phi, mu, Sigma))
    draw = rng if generator else np.random  # the global generator is the mistake itself
    k, d = mu.shape
    z = draw.choice(k, size=n, p=phi if probabilities else None)
    L = np.linalg.cholesky(Sigma)
    F = {
        "cholesky": L,
        "identity": np.broadcast_to(np.eye(d), L.shape),
        "sigma": Sigma,
        "transposed": np.swapaxes(L, 1, 2),
    }
    return mu[z] + np.einsum("nij,nj->ni", F[factor][z], draw.standard_normal((n, d))), z


def sample_gmm__ignores_phi(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, probabilities=False)


def sample_gmm__ignores_sigma(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, factor="identity")


def sample_gmm__sigma_as_factor(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, factor="sigma")


def sample_gmm__factor_transposed(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, factor="transposed")


def sample_gmm__global_random(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, generator=False)


def sample_gmm__inverse_cdf(phi, mu, Sigma, n, rng):
    cdf = np.cumsum(phi)  # inverse-CDF draws of z, a list back
    z = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(phi) - 1)
    X = np.zeros((n, len(mu[0])), dtype=np.float32)
    for j in range(len(phi)):
        X[z == j] = rng.multivariate_normal(mu[j], Sigma[j], size=int(np.sum(z == j)))
    return X, z.tolist()


sample_gmm = Exercise(
    "sample_gmm",
    points=1,
    random=True,
    reference=reference.sample_gmm,
    judge=judge_sample_gmm,
    visible=[
        Case(
            "20,000 points from three components, the same seed twice and another",
            [_sample3 | {"rng": RngSeed(s)} for s in (0, 0, 1)],
        ),
        Case("1-D, two components", [_sample1d | {"n": 5000, "rng": RngSeed(2)}]),
    ],
    hidden=[
        Case(
            "4-D, a component of weight 0 is never drawn",
            [_sample4 | {"rng": RngSeed(s)} for s in (5, 5, 6)],
            kind="a component of zero weight",
        ),
        Case(
            "one component, large scale",
            [
                {
                    "phi": np.ones(1),
                    "mu": _big[:1],
                    "Sigma": _spd(2, 900.0, seed=324)[None],
                    "n": 3000,
                    "rng": RngSeed(7),
                }
            ],
            kind="a single wide component",
        ),
    ],
    mistakes=[
        Mistake(
            "ignores_phi",
            "the components are drawn uniformly, ignoring phi",
            "Draw each z_i from Categorical(phi): rng.choice(k, size=n, p=phi).",
            wrong=sample_gmm__ignores_phi,
        ),
        Mistake(
            "ignores_sigma",
            "every component is drawn with the identity covariance, ignoring Sigma",
            "x_i = mu_{z_i} + L_{z_i} eps_i with eps_i ~ N(0, I) and L = np.linalg.cholesky(Sigma), "
            "so that Cov(x_i) = L L^T = Sigma_{z_i}.",
            wrong=sample_gmm__ignores_sigma,
        ),
        Mistake(
            "sigma_as_factor",
            "Sigma used as the square root of the covariance",
            "Multiplying eps by Sigma gives the covariance Sigma Sigma^T. Multiply by a factor L with L L^T = Sigma: "
            "L = np.linalg.cholesky(Sigma), and x = mu + L @ eps (for rows: mu + eps @ L.T).",
            wrong=sample_gmm__sigma_as_factor,
        ),
        Mistake(
            "factor_transposed",
            "the Cholesky factor transposed",
            "For a row vector eps, eps @ L has covariance L^T L, which is not Sigma; use eps @ L.T (or L @ eps for a "
            "column), so that the covariance is L L^T = Sigma.",
            wrong=sample_gmm__factor_transposed,
        ),
        Mistake(
            "global_random",
            "global np.random instead of rng",
            "Draw everything from the rng argument (rng.choice, rng.standard_normal or rng.multivariate_normal), "
            "never from np.random, so that a seed reproduces the sample.",
            wrong=sample_gmm__global_random,
        ),
    ],
    alternatives=[sample_gmm__inverse_cdf],
)
