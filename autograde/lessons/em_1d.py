"""Lesson 2, EM for 1-D Gaussians: the exercises, their visible cases, how each is judged, and known mistakes."""

import numpy as np

from autograde.judge import Case, Exercise, Failure, Mistake, as_array, compare_array, compare_number, describe, fmt

MISTAKES = {
    "variance_as_scale": Mistake(
        "e_step_1d",
        "variance passed as scale",
        "norm.pdf takes the standard deviation; you passed the variance. Use norm.pdf(x, mean, sigma), not sigma**2.",
        by_output=True,
    ),
    "no_weights": Mistake(
        "e_step_1d",
        "mixing weights forgotten",
        "Multiply each density by its component's weight before normalising: "
        "resp[i, j] is proportional to w_j N(x_i | m_j, s_j^2).",
        by_output=True,
    ),
    "wrong_axis": Mistake(
        "e_step_1d",
        "normalised over points instead of components",
        "Each point's responsibilities sum to 1: divide by the sum over components (axis=1), not over points (axis=0).",
        by_output=True,
    ),
    "unnormalised": Mistake(
        "e_step_1d",
        "responsibilities not normalised",
        "Divide w_j N(x_i | m_j, s_j^2) by its sum over the components j, so that each row sums to 1 (Bayes' rule).",
        by_output=True,
    ),
    "underflow": Mistake(
        "e_step_1d",
        "densities underflow to 0 far from every component",
        "Far from every component norm.pdf is 0 for every j, and 0 / 0 = NaN. Work in log space: "
        "log w_j + norm.logpdf(x, m_j, s_j), subtract scipy.special.logsumexp over the components (axis=1), "
        "then exponentiate.",
    ),
    "sigma_as_variance": Mistake(
        "m_step_1d",
        "variance returned instead of standard deviation",
        "sigmas are standard deviations: return the square root of the weighted variance.",
    ),
    "weights_not_normalised": Mistake(
        "m_step_1d",
        "weights not divided by n",
        "w_j = N_j / n: divide the effective number of points N_j = sum_i resp[i, j] by n, "
        "so that the weights sum to 1.",
    ),
    "unweighted_means": Mistake(
        "m_step_1d",
        "unweighted means",
        "Weight every point by its responsibility: m_j = sum_i resp[i, j] x_i / N_j, not the plain mean of x.",
    ),
    "wrong_denominator": Mistake(
        "m_step_1d",
        "variance divided by N_j - 1 or by n",
        "The maximum-likelihood variance divides by N_j = sum_i resp[i, j]: "
        "s_j^2 = sum_i resp[i, j] (x_i - m_j)^2 / N_j (not N_j - 1, not n).",
    ),
    "sum_of_logs": Mistake(
        "log_likelihood_1d",
        "sum of logs instead of log of a sum",
        "L = sum_i log sum_j w_j N(x_i | m_j, s_j^2): add the weighted densities over the components first, "
        "then take the log (scipy.special.logsumexp does both in log space); "
        "sum_i sum_j log(w_j N) is another quantity.",
        by_output=True,
    ),
    "mean_loglik": Mistake(
        "log_likelihood_1d",
        "mean instead of sum",
        "The log-likelihood adds the log-density of every point: sum over i, not the mean.",
        by_output=True,
    ),
    "one_iteration": Mistake(
        "em_1d",
        "a single EM iteration",
        "Repeat the E-step and the M-step in a loop until the log-likelihood gains less than tol "
        "(or max_iters iterations), recording it after every iteration.",
    ),
}

# ---------------------------------------------------------------------------- visible cases
_rng = np.random.default_rng(2)
_x6 = np.array([-1.0, 0.0, 0.5, 2.0, 3.0, 4.5])
_x10 = np.round(_rng.normal(0.0, 2.0, size=10), 3)
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
_groups = np.round(np.concatenate([_rng.normal(-2.0, 0.7, 25), _rng.normal(2.5, 1.2, 35)]), 3)
_resp3 = np.round(_rng.dirichlet([2.0, 2.0, 2.0], size=10), 3)
_resp3[:, 2] = 1.0 - _resp3[:, :2].sum(axis=1)  # rows of the rounded draws still sum to 1
_start = {"means": np.array([-1.0, 1.0]), "sigmas": np.array([1.0, 1.0]), "weights": np.array([0.5, 0.5])}

E_STEP_CASES = [
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
]
M_STEP_CASES = [
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
]
LOGLIK_CASES = [
    Case("worked example: x = 2 with N(0, 1) and N(1, 1), equal weights", [_worked]),
    Case("unequal weights and spreads", [{"x": _x6, **_unequal}]),
    Case("three components", [{"x": _x10, **_three}]),
]
EM_CASES = [
    Case("two iterations (max_iters=2)", [{"x": _groups, **_start, "max_iters": 2}]),
    Case("two groups, to convergence", [{"x": _groups, **_start}]),
    Case("a loose tol stops early (tol=1.0)", [{"x": _groups, **_start, "tol": 1.0}]),
]


# ---------------------------------------------------------------------------- judges
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


def judge_log_likelihood_1d(case, got, expected):
    compare_number(got[0], expected[0], "the log-likelihood")


def judge_em_1d(case, got, expected):
    exp_means, exp_sigmas, exp_weights, exp_logliks = expected[0]
    if not isinstance(got[0], (tuple, list)) or len(got[0]) != 4:
        raise Failure(f"em_1d must return a tuple (means, sigmas, weights, logliks); got {describe(got[0])}")
    params = _triple(got[0][:3], len(exp_means), "em_1d")
    logliks = as_array(got[0][3], "logliks")
    if logliks.ndim != 1 or logliks.size < 2:
        raise Failure(
            "logliks must be a list: the log-likelihood of the starting parameters, then one after every iteration; "
            f"got shape {logliks.shape}"
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


EXERCISES = [
    Exercise("e_step_1d", 3, E_STEP_CASES, judge_e_step_1d),
    Exercise("m_step_1d", 3, M_STEP_CASES, judge_m_step_1d),
    Exercise("log_likelihood_1d", 2, LOGLIK_CASES, judge_log_likelihood_1d),
    Exercise("em_1d", 2, EM_CASES, judge_em_1d, uses=["e_step_1d", "m_step_1d", "log_likelihood_1d"]),
]
for _exercise in EXERCISES:
    _exercise.mistakes = {k: m for k, m in MISTAKES.items() if m.exercise == _exercise.name}
