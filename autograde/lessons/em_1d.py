"""Lesson 2, EM for 1-D Gaussians: each exercise declared once, with its reference, cases, judge and known mistakes."""

import math

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

import solutions.em_1d as reference
from autograde.judge import Case, Exercise, Failure, Mistake, as_array, compare_array, compare_number, describe, fmt

# data shared by cases; every random array has its own seed, so adding or reordering cases changes no other
_x6 = np.array([-1.0, 0.0, 0.5, 2.0, 3.0, 4.5])
_x10 = np.round(np.random.default_rng(201).normal(0.0, 2.0, size=10), 3)
_three = {
    "means": np.array([-2.0, 0.0, 3.0]),
    "sigmas": np.array([1.0, 0.7, 1.5]),
    "weights": np.array([0.2, 0.5, 0.3]),
}
_unequal = {"means": np.array([0.0, 3.0]), "sigmas": np.array([0.5, 2.0]), "weights": np.array([0.3, 0.7])}
_worked = {
    "x": np.array([2.0]),
    "means": np.array([0.0, 1.0]),
    "sigmas": np.array([1.0, 1.0]),
    "weights": np.array([0.5, 0.5]),
}
_groups = np.round(
    np.concatenate([np.random.default_rng(202).normal(-2.0, 0.7, 25), np.random.default_rng(203).normal(2.5, 1.2, 35)]),
    3,
)
_resp3 = np.round(np.random.default_rng(204).dirichlet([2.0, 2.0, 2.0], size=10), 3)
_resp3[:, 2] = 1.0 - _resp3[:, :2].sum(axis=1)  # rows of the rounded draws still sum to 1
_start = {"means": np.array([-1.0, 1.0]), "sigmas": np.array([1.0, 1.0]), "weights": np.array([0.5, 0.5])}
_x = np.random.default_rng(31415).permutation(  # the two groups shuffled together
    np.concatenate(
        [np.random.default_rng(31416).normal(-1.0, 0.5, 80), np.random.default_rng(31417).normal(1.5, 1.5, 120)]
    )
)
_x3 = np.concatenate(
    [
        np.random.default_rng(31418).normal(-4.0, 1.0, 60),
        np.random.default_rng(31419).normal(0.0, 0.4, 90),
        np.random.default_rng(31420).normal(3.0, 0.8, 50),
    ]
)
_p2 = {"means": np.array([-0.5, 1.0]), "sigmas": np.array([0.8, 2.5]), "weights": np.array([0.35, 0.65])}
_p3 = {"means": np.array([-3.0, 0.5, 2.0]), "sigmas": np.array([1.5, 0.5, 1.0]), "weights": np.array([0.2, 0.5, 0.3])}
_resp = np.random.default_rng(31421).dirichlet([1.0, 1.0], size=200)
_onehot = np.eye(3)[np.arange(200) % 3]


# ---------------------------------------------------------------------------- e_step_1d
def _args(case):
    call = case.calls[0]
    return (np.asarray(call[k], dtype=float) for k in ("x", "means", "sigmas", "weights"))


def _log_joint(x, means, sigmas, weights):
    """log w_j + log N(x_i | m_j, s_j^2), shape (n, K): to tell which points underflow in probability space."""
    z = (x[:, None] - means) / sigmas
    return np.log(weights) - np.log(sigmas) - 0.5 * np.log(2 * np.pi) - 0.5 * z**2


def judge_e_step_1d(case, got, expected):
    x, means, sigmas, weights = _args(case)
    resp = as_array(got[0], "resp", shape=expected[0].shape)
    # a point where w_j N(x | m_j, s_j^2) is below the smallest double for every j: probability space gives 0 / 0
    far = np.flatnonzero(_log_joint(x, means, sigmas, weights).max(axis=1) < -740)
    for i in far:
        if not np.allclose(resp[i], expected[0][i], atol=1e-6):
            raise Failure(
                f"resp[{i}] should be {fmt(expected[0][i])} for x = {fmt(x[i])}, a point far from every component; "
                f"got {fmt(resp[i])}",
                "underflow",
            )
    if np.any(~np.isfinite(resp)):
        raise Failure(f"resp contains NaN or infinity at {np.argwhere(~np.isfinite(resp))[0].tolist()}")
    sums = resp.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > 1e-5)
    if len(bad):
        raise Failure(f"each row of resp must sum to 1 (over the components); row {bad[0]} sums to {fmt(sums[bad[0]])}")
    compare_array(resp, expected[0], "resp")


def e_step_1d__variance_as_scale(x, means, sigmas, weights):
    p = np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, np.asarray(sigmas) ** 2)
    with np.errstate(invalid="ignore"):  # far points: 0 / 0
        return p / p.sum(axis=1, keepdims=True)


def e_step_1d__no_weights(x, means, sigmas, weights):
    p = norm.pdf(np.asarray(x)[:, None], means, sigmas)
    with np.errstate(invalid="ignore"):  # far points: 0 / 0
        return p / p.sum(axis=1, keepdims=True)


def e_step_1d__wrong_axis(x, means, sigmas, weights):
    p = np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, sigmas)
    return p / p.sum(axis=0, keepdims=True)


def e_step_1d__unnormalised(x, means, sigmas, weights):
    return np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, sigmas)


def e_step_1d__underflow(x, means, sigmas, weights):
    p = np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, sigmas)  # 0 for every j far from all
    with np.errstate(invalid="ignore"):
        return p / p.sum(axis=1, keepdims=True)


def e_step_1d__loops(x, means, sigmas, weights):
    resp = []
    for xi in x:  # log w_j + log N(x_i | m_j, s_j^2) by hand, then a log-sum-exp of our own
        a = [
            math.log(w) - math.log(s) - 0.5 * math.log(2 * math.pi) - 0.5 * ((xi - m) / s) ** 2
            for m, s, w in zip(means, sigmas, weights)
        ]
        top = max(a)
        total = sum(math.exp(aj - top) for aj in a)
        resp.append([math.exp(aj - top) / total for aj in a])
    return resp


e_step_1d = Exercise(
    "e_step_1d",
    points=3,
    reference=reference.e_step_1d,
    judge=judge_e_step_1d,
    visible=[
        Case("worked example: x = 2 with N(0, 1) and N(1, 1), equal weights", [_worked]),
        Case("unequal weights and spreads", [{"x": _x6, **_unequal}]),
        Case("three components", [{"x": _x10, **_three}]),
        Case(
            "a point far from every component (x = 100)",
            [
                {
                    "x": np.array([0.0, 1.0, 2.0, 100.0]),
                    "means": np.array([0.0, 3.0]),
                    "sigmas": np.array([1.0, 1.5]),
                    "weights": np.array([0.5, 0.5]),
                }
            ],
        ),
    ],
    hidden=[
        Case("200 points, two components", [{"x": _x, **_p2}], kind="more data points"),
        Case("200 points, three components", [{"x": _x3, **_p3}], kind="more components"),
        Case(
            "far points on both sides",
            [{"x": np.array([-300.0, -1.0, 0.0, 2.0, 250.0]), **_p3}],
            kind="points far from every component",
        ),
    ],
    mistakes=[
        Mistake(
            "variance_as_scale",
            "variance passed as scale",
            "norm.pdf takes the standard deviation; you passed the variance. "
            "Use norm.pdf(x, mean, sigma), not sigma**2.",
            wrong=e_step_1d__variance_as_scale,
            by_output=True,
        ),
        Mistake(
            "no_weights",
            "mixing weights forgotten",
            "Multiply each density by its component's weight before normalising: "
            "resp[i, j] is proportional to w_j N(x_i | m_j, s_j^2).",
            wrong=e_step_1d__no_weights,
            by_output=True,
        ),
        Mistake(
            "wrong_axis",
            "normalised over points instead of components",
            "Each point's responsibilities sum to 1: "
            "divide by the sum over components (axis=1), not over points (axis=0).",
            wrong=e_step_1d__wrong_axis,
            by_output=True,
        ),
        Mistake(
            "unnormalised",
            "responsibilities not normalised",
            "Divide w_j N(x_i | m_j, s_j^2) by its sum over the components j, "
            "so that each row sums to 1 (Bayes' rule).",
            wrong=e_step_1d__unnormalised,
            by_output=True,
        ),
        Mistake(
            "underflow",
            "densities underflow to 0 far from every component",
            "Far from every component norm.pdf is 0 for every j, and 0 / 0 = NaN. Work in log space: "
            "log w_j + norm.logpdf(x, m_j, s_j), subtract scipy.special.logsumexp over the components (axis=1), "
            "then exponentiate.",
            wrong=e_step_1d__underflow,
        ),
    ],
    alternatives=[e_step_1d__loops],
)


# ---------------------------------------------------------------------------- m_step_1d
def _triple(got, K, what):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Failure(f"{what} must return a tuple (means, sigmas, weights); got {describe(got)}")
    return [as_array(g, name, shape=(K,)) for g, name in zip(got, ("means", "sigmas", "weights"))]


def judge_m_step_1d(case, got, expected):
    call = case.calls[0]
    x, resp = np.asarray(call["x"], dtype=float), np.asarray(call["resp"], dtype=float)
    exp_means, exp_sigmas, exp_weights = expected[0]
    means, sigmas, weights = _triple(got[0], len(exp_means), "m_step_1d")
    nk = resp.sum(axis=0)
    if not np.allclose(means, exp_means, rtol=1e-5) and np.allclose(means, x.mean(), rtol=1e-5):
        raise Failure(f"every mean is the plain mean of x, {fmt(x.mean())}", "unweighted_means")
    compare_array(means, exp_means, "means")
    if not np.allclose(sigmas, exp_sigmas, rtol=1e-5):
        scatter = (resp * (x[:, None] - exp_means) ** 2).sum(axis=0)  # sum_i resp_ij (x_i - m_j)^2
        with np.errstate(divide="ignore", invalid="ignore"):
            other = [np.sqrt(scatter / (nk - 1)), np.sqrt(scatter / len(x))]
        if np.allclose(sigmas, exp_sigmas**2, rtol=1e-5):
            raise Failure(
                f"sigmas should be {fmt(exp_sigmas)}; got {fmt(sigmas)}, their squares (the variances)",
                "sigma_as_variance",
            )
        if any(np.allclose(sigmas, o, rtol=1e-5) for o in other):
            raise Failure(f"sigmas should be {fmt(exp_sigmas)}; got {fmt(sigmas)}", "wrong_denominator")
    compare_array(sigmas, exp_sigmas, "sigmas")
    if np.allclose(weights, nk, rtol=1e-5) and not np.allclose(nk, exp_weights):
        raise Failure(
            f"weights should be {fmt(exp_weights)}; got {fmt(weights)}, which sum to {fmt(weights.sum())}",
            "weights_not_normalised",
        )
    compare_array(weights, exp_weights, "weights")


def _weighted_stats(x, resp):
    """Means, sum_i resp_ij (x_i - m_j)^2 and N_j, as the reference computes them."""
    x, resp = np.asarray(x, dtype=float), np.asarray(resp, dtype=float)
    nk = resp.sum(axis=0)
    means = resp.T @ x / nk
    return means, (resp * (x[:, None] - means) ** 2).sum(axis=0), nk


def m_step_1d__sigma_as_variance(x, resp):
    means, scatter, nk = _weighted_stats(x, resp)
    return means, scatter / nk, nk / len(x)


def m_step_1d__weights_not_normalised(x, resp):
    means, scatter, nk = _weighted_stats(x, resp)
    return means, np.sqrt(scatter / nk), nk


def m_step_1d__unweighted_means(x, resp):
    x, resp = np.asarray(x, dtype=float), np.asarray(resp, dtype=float)
    nk = resp.sum(axis=0)
    means = np.full(resp.shape[1], x.mean())
    return means, np.sqrt((resp * (x[:, None] - means) ** 2).sum(axis=0) / nk), nk / len(x)


def m_step_1d__wrong_denominator(x, resp):
    means, scatter, nk = _weighted_stats(x, resp)
    return means, np.sqrt(scatter / (nk - 1)), nk / len(x)


def m_step_1d__float32_loops(x, resp):
    x, resp = np.asarray(x, dtype=np.float32), np.asarray(resp, dtype=np.float32)
    means, sigmas, weights = [], [], []
    for j in range(resp.shape[1]):
        nk = resp[:, j].sum()
        m = (resp[:, j] * x).sum() / nk
        means.append(m)
        sigmas.append(np.sqrt((resp[:, j] * (x - m) ** 2).sum() / nk))
        weights.append(nk / len(x))
    return np.array(means), np.array(sigmas), np.array(weights)


m_step_1d = Exercise(
    "m_step_1d",
    points=3,
    reference=reference.m_step_1d,
    judge=judge_m_step_1d,
    visible=[
        Case(
            "one-hot responsibilities: each group's mean and standard deviation",
            [{"x": np.array([1.0, 2.0, 3.0, 10.0, 14.0]), "resp": np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 2)}],
        ),
        Case(
            "soft responsibilities",
            [
                {
                    "x": _x6,
                    "resp": np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.4, 0.6], [0.2, 0.8], [0.1, 0.9]]),
                }
            ],
        ),
        Case("three components", [{"x": _x10, "resp": _resp3}]),
    ],
    hidden=[
        Case(
            "200 points, soft responsibilities", [{"x": _x, "resp": _resp}], kind="soft responsibilities on more data"
        ),
        Case(
            "200 points, one-hot responsibilities, three components",
            [{"x": _x3, "resp": _onehot}],
            kind="one-hot responsibilities",
        ),
    ],
    mistakes=[
        Mistake(
            "sigma_as_variance",
            "variance returned instead of standard deviation",
            "sigmas are standard deviations: return the square root of the weighted variance.",
            wrong=m_step_1d__sigma_as_variance,
        ),
        Mistake(
            "weights_not_normalised",
            "weights not divided by n",
            "w_j = N_j / n: divide the effective number of points N_j = sum_i resp[i, j] by n, "
            "so that the weights sum to 1.",
            wrong=m_step_1d__weights_not_normalised,
        ),
        Mistake(
            "unweighted_means",
            "unweighted means",
            "Weight every point by its responsibility: m_j = sum_i resp[i, j] x_i / N_j, not the plain mean of x.",
            wrong=m_step_1d__unweighted_means,
        ),
        Mistake(
            "wrong_denominator",
            "variance divided by N_j - 1 or by n",
            "The maximum-likelihood variance divides by N_j = sum_i resp[i, j]: "
            "s_j^2 = sum_i resp[i, j] (x_i - m_j)^2 / N_j (not N_j - 1, not n).",
            wrong=m_step_1d__wrong_denominator,
        ),
    ],
    alternatives=[m_step_1d__float32_loops],
)


# ---------------------------------------------------------------------------- log_likelihood_1d
def judge_log_likelihood_1d(case, got, expected):
    compare_number(got[0], expected[0], "the log-likelihood")


def log_likelihood_1d__sum_of_logs(x, means, sigmas, weights):
    return float(np.sum(np.log(weights) + norm.logpdf(np.asarray(x)[:, None], means, sigmas)))


def log_likelihood_1d__mean_loglik(x, means, sigmas, weights):
    return float(np.mean(logsumexp(np.log(weights) + norm.logpdf(np.asarray(x)[:, None], means, sigmas), axis=1)))


def log_likelihood_1d__pdf_numpy_scalar(x, means, sigmas, weights):
    x = np.asarray(x)[:, None]
    return np.sum(np.log(np.sum(np.asarray(weights) * norm.pdf(x, means, sigmas), axis=1)))  # a NumPy scalar


log_likelihood_1d = Exercise(
    "log_likelihood_1d",
    points=2,
    reference=reference.log_likelihood_1d,
    judge=judge_log_likelihood_1d,
    visible=[
        Case("worked example: x = 2 with N(0, 1) and N(1, 1), equal weights", [_worked]),
        Case("unequal weights and spreads", [{"x": _x6, **_unequal}]),
        Case("three components", [{"x": _x10, **_three}]),
    ],
    hidden=[
        Case("200 points, two components", [{"x": _x, **_p2}], kind="more data points"),
        Case("200 points, three components", [{"x": _x3, **_p3}], kind="more components"),
        Case(
            "points ten standard deviations out",
            [{"x": np.array([-8.0, 11.0, 26.0]), **_p2}],
            kind="points far from every component",
        ),
    ],
    mistakes=[
        Mistake(
            "sum_of_logs",
            "sum of logs instead of log of a sum",
            "L = sum_i log sum_j w_j N(x_i | m_j, s_j^2): add the weighted densities over the components first, "
            "then take the log (scipy.special.logsumexp does both in log space); "
            "sum_i sum_j log(w_j N) is another quantity.",
            wrong=log_likelihood_1d__sum_of_logs,
            by_output=True,
        ),
        Mistake(
            "mean_loglik",
            "mean instead of sum",
            "The log-likelihood adds the log-density of every point: sum over i, not the mean.",
            wrong=log_likelihood_1d__mean_loglik,
            by_output=True,
        ),
    ],
    alternatives=[log_likelihood_1d__pdf_numpy_scalar],
)


# ---------------------------------------------------------------------------- em_1d
def judge_em_1d(case, got, expected):
    exp_means, exp_sigmas, exp_weights, exp_logliks = expected[0]
    if not isinstance(got[0], (tuple, list)) or len(got[0]) != 4:
        raise Failure(f"em_1d must return a tuple (means, sigmas, weights, logliks); got {describe(got[0])}")
    params = _triple(got[0][:3], len(exp_means), "em_1d")
    logliks = as_array(got[0][3], "logliks")
    if logliks.ndim != 1:
        raise Failure(f"logliks must be a flat list of numbers; got an array of shape {logliks.shape}")
    if logliks.size < 2:
        raise Failure(
            f"logliks holds {logliks.size} value(s): it needs the log-likelihood of the starting parameters, then "
            "one after every iteration"
        )
    if not np.isclose(logliks[0], exp_logliks[0], rtol=1e-6):
        raise Failure(
            f"logliks[0] should be the log-likelihood of the starting parameters, {fmt(exp_logliks[0])}; "
            f"got {fmt(logliks[0])}"
        )
    # up to rounding: parameters computed in float32 move the log-likelihood by about 1e-7 of itself
    drops = np.flatnonzero(np.diff(logliks) < -1e-6 * max(1.0, float(np.max(np.abs(logliks)))))
    if len(drops):
        i = drops[0] + 1
        raise Failure(
            f"the log-likelihood must never decrease; logliks[{i}] = {fmt(logliks[i])} < {fmt(logliks[i - 1])}"
        )
    n_iters, exp_iters = logliks.size - 1, len(exp_logliks) - 1
    max_iters = case.calls[0].get("max_iters", 100)
    if n_iters == 1 and exp_iters > 1:
        raise Failure(f"stopped after 1 iteration; it runs {exp_iters}", "one_iteration")
    if n_iters > max_iters:
        raise Failure(f"ran {n_iters} iterations (logliks has {logliks.size} entries), more than max_iters={max_iters}")
    if abs(n_iters - exp_iters) > 1 or (exp_iters == max_iters and n_iters != exp_iters):
        raise Failure(
            f"logliks should have {exp_iters + 1} entries (the start and one per iteration; one more or less is "
            f"accepted); got {logliks.size}"
        )
    rtol = 1e-5 if n_iters == exp_iters else 1e-3  # one iteration more or less moves a converged fit a little
    for value, exp, name in zip(params, (exp_means, exp_sigmas, exp_weights), ("means", "sigmas", "weights")):
        compare_array(value, exp, name, rtol=rtol)
    compare_number(logliks[-1], exp_logliks[-1], "the last log-likelihood", rtol=rtol)


def em_1d__one_iteration(x, means, sigmas, weights, max_iters=100, tol=1e-6):
    logliks = [log_likelihood_1d(x, means, sigmas, weights)]
    means, sigmas, weights = m_step_1d(x, e_step_1d(x, means, sigmas, weights))
    logliks.append(log_likelihood_1d(x, means, sigmas, weights))
    return means, sigmas, weights, logliks


def em_1d__while_loop(x, means, sigmas, weights, max_iters=100, tol=1e-6):
    logliks = [log_likelihood_1d(x, means, sigmas, weights)]
    while len(logliks) <= max_iters:
        means, sigmas, weights = m_step_1d(x, e_step_1d(x, means, sigmas, weights))
        logliks.append(log_likelihood_1d(x, means, sigmas, weights))
        if logliks[-1] - logliks[-2] < tol:
            break
    return list(means), list(sigmas), list(weights), logliks


em_1d = Exercise(
    "em_1d",
    points=2,
    reference=reference.em_1d,
    judge=judge_em_1d,
    uses=[e_step_1d, m_step_1d, log_likelihood_1d],
    visible=[
        Case("two iterations (max_iters=2)", [{"x": _groups, **_start, "max_iters": 2}]),
        Case("two groups, to convergence", [{"x": _groups, **_start}]),
        Case("a loose tol stops early (tol=1.0)", [{"x": _groups, **_start, "tol": 1.0}]),
    ],
    hidden=[
        Case("200 points, two components", [{"x": _x, **_p2}], kind="more data points"),
        Case("three components", [{"x": _x3, **_p3}], kind="more components"),
        Case("max_iters=1", [{"x": _x3, **_p3, "max_iters": 1}], kind="a small max_iters"),
        Case("a loose tol stops early (tol=0.5)", [{"x": _x, **_p2, "tol": 0.5}], kind="a loose tol"),
    ],
    mistakes=[
        Mistake(
            "one_iteration",
            "a single EM iteration",
            "Repeat the E-step and the M-step in a loop until the log-likelihood gains less than tol "
            "(or max_iters iterations), recording it after every iteration.",
            wrong=em_1d__one_iteration,
        ),
    ],
    alternatives=[em_1d__while_loop],
)
