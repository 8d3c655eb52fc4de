"""Lesson 4, the general EM algorithm and the ELBO: the exercises, their visible cases, judges, known mistakes."""

import numpy as np

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
    describe,
    fmt,
)
from autograde.models import TRACE_INIT
from autograde.serial import ModelFunction, RngSeed

MISTAKES = {
    "init_not_random": Mistake(
        "gmm_initialize",
        "non-random initialisation",
        "Choose the starting means at random with rng (for example k distinct rows: "
        "X[rng.choice(n, size=k, replace=False)]), so that EM can be restarted from different starts.",
    ),
    "init_global_random": Mistake(
        "gmm_initialize",
        "global np.random instead of rng",
        "Draw from the rng argument (rng.choice, rng.permutation), never from np.random, so that a seed "
        "reproduces the start.",
    ),
    "init_weights_not_normalised": Mistake(
        "gmm_initialize",
        "weights that do not sum to 1",
        'The mixing weights are probabilities: "phi" = np.full(k, 1 / k), not ones.',
    ),
    "no_weights": Mistake(
        "gmm_e_step",
        "E-step without the mixing weights",
        "The posterior is proportional to phi_j N(x_i | mu_j, Sigma_j): add log phi_j to each component's "
        "log-density before normalising (Bishop eq. 9.23).",
        by_output=True,
    ),
    "unweighted_cov": Mistake(
        "gmm_m_step",
        "unweighted covariances",
        "Weight each point's outer product by Q[i, j]: Sigma_j = sum_i Q_ij (x_i - mu_j)(x_i - mu_j)^T / N_j "
        "(+ REG_COVAR on the diagonal).",
        by_output=True,
    ),
    "no_entropy": Mistake(
        "gmm_elbo",
        "the entropy term is missing",
        "ELBO = sum_ij Q_ij [log phi_j + log N(x_i | mu_j, Sigma_j)] - sum_ij Q_ij log Q_ij: without the "
        "entropy of Q it is only the expected complete-data log-likelihood, and it cannot touch log p(X).",
        by_output=True,
    ),
    "entropy_sign": Mistake(
        "gmm_elbo",
        "the entropy term with its sign flipped",
        "Subtract Q_ij log Q_ij (the entropy -sum Q log Q is positive): ELBO = sum_ij Q_ij [log phi_j + "
        "log N(x_i | mu_j, Sigma_j) - log Q_ij].",
        by_output=True,
    ),
    "zero_log_zero": Mistake(
        "gmm_elbo",
        "0 log 0 gives NaN",
        "Terms with Q_ij = 0 contribute 0 (0 log 0 = 0, and 0 times log phi_j = 0 even when phi_j = 0), but in "
        "NumPy 0 * np.log(0) = 0 * -inf = nan: sum only over the entries with Q > 0 (for the entropy, "
        "scipy.special.xlogy(Q, Q) does it).",
    ),
    "ignores_tol": Mistake(
        "general_em",
        "tol ignored",
        "After each iteration compare the new ELBO with the previous one and stop (break) when it gained "
        "less than tol; max_iters is only the cap.",
    ),
    "no_alternation": Mistake(
        "general_em",
        "the E-step runs only once",
        "Each iteration is an E-step and then an M-step: Q = e_step(X, params) inside the loop, before "
        "params = m_step(X, Q). With a fixed Q the M-step keeps solving the same problem.",
    ),
}

# ---------------------------------------------------------------------------- visible cases
_rng = np.random.default_rng(4)
_pts = _rng.normal(size=(8, 2))
_cube = _rng.normal(size=(12, 3))
_unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
_two = {"phi": np.array([0.5, 0.5]), "mu": np.array([[0.0, 0.0], [1.0, 1.0]]), "Sigma": np.stack([np.eye(2)] * 2)}
_three = {
    "phi": np.array([0.6, 0.3, 0.1]),
    "mu": np.array([[0.0, 0.0], [2.0, 1.0], [-1.0, 2.0]]),
    "Sigma": np.stack([np.array([[2.0, 0.8], [0.8, 1.0]]), np.eye(2), np.diag([0.5, 2.0])]),
}
_far = {"phi": np.array([0.4, 0.6]), "mu": np.array([[0.0, 0.0], [3.0, 0.0]]), "Sigma": np.stack([np.eye(2)] * 2)}
_far_X = np.array([[0.0, 0.0], [3.0, 0.0], [60.0, 60.0], [-80.0, 10.0]])
_dirichlet = _rng.dirichlet(np.ones(3), size=len(_pts))
_one_hot = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 0]]
_trace = {"init_params": TRACE_INIT} | {
    f: ModelFunction(f"trace_{f}") for f in ("e_step", "m_step", "elbo")
}  # general_em's model: records the calls
_levels_off = np.array([-10.0, -6.0, -5.0, -4.5, -4.4, -4.39, -4.3899995, -4.389999, -4.3899989])

GMM_INITIALIZE_CASES = [
    Case("the same seed twice", [{"X": _pts, "k": 3, "rng": RngSeed(7)}] * 2),
    Case("different seeds", [{"X": _pts, "k": 2, "rng": RngSeed(s)} for s in range(10)]),
    Case("3-D data, k = 4", [{"X": _cube, "k": 4, "rng": RngSeed(1)}]),
]
GMM_E_STEP_CASES = [
    Case("two components, equal weights", [{"X": _unit, "params": _two}]),
    Case("three components, unequal weights", [{"X": _pts, "params": _three}]),
    Case("points far from every component", [{"X": _far_X, "params": _far}]),
]
GMM_M_STEP_CASES = [
    Case(
        "one-hot Q: two clusters of two points",
        [{"X": np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0], [4.0, 6.0]]), "Q": np.repeat(np.eye(2), 2, axis=0)}],
    ),
    Case("soft Q, three components", [{"X": _pts, "Q": _dirichlet}]),
    Case(
        "3-D, two components",
        [{"X": _cube, "Q": np.column_stack([np.linspace(0.1, 0.9, 12), np.linspace(0.9, 0.1, 12)])}],
    ),
]
GMM_ELBO_CASES = [
    Case(
        "Q from the E-step: the ELBO equals the log-likelihood",
        [{"X": _pts, "params": _three, "Q": ReferenceOutput("gmm_e_step", {"X": _pts, "params": _three})}],
    ),
    Case("any other Q: below the log-likelihood", [{"X": _pts, "params": _three, "Q": _dirichlet}]),
    Case("one-hot Q (0 log 0 = 0)", [{"X": _pts, "params": _three, "Q": _one_hot}]),
]
GENERAL_EM_CASES = [
    Case("an ELBO that levels off: stop at the first gain below tol", [_trace | {"X": _levels_off, "tol": 1e-6}]),
    Case("max_iters=3 caps the iterations", [_trace | {"X": _levels_off, "max_iters": 3}]),
    Case(
        "tol=0 runs until max_iters while the ELBO still rises",
        [_trace | {"X": np.linspace(-5.0, -4.0, 12), "tol": 0.0, "max_iters": 8}],
    ),
]


# ---------------------------------------------------------------------------- judges
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
        if len(np.unique(np.round(mu, 12), axis=0)) < k:
            raise Failure(f"two starting means are equal ({fmt(mu)}): equal components stay equal under EM")
        for j, S in enumerate(Sigma):
            if not np.allclose(S, S.T) or np.linalg.eigvalsh((S + S.T) / 2)[0] <= 0:
                raise Failure(f'params["Sigma"][{j}] = {fmt(S)} must be symmetric positive definite')
        starts.append(mu)
    seeds = [call["rng"].seed for call in case.calls]
    for i in range(len(seeds)):
        for j in range(i):
            if seeds[i] == seeds[j] and not np.array_equal(starts[i], starts[j]):
                raise Failure(
                    f"two generators with the same seed ({seeds[i]}) gave different starts", "init_global_random"
                )
    if len(set(seeds)) >= 5 and all(np.array_equal(s, starts[0]) for s in starts):
        raise Failure(f"{len(set(seeds))} different generators all gave the same means", "init_not_random")


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
        raise Failure(f"rows of Q must sum to 1; row {wrong[0]} sums to {fmt(sums[wrong[0]])}")
    compare_array(Q, expected[0], "Q")


def judge_gmm_m_step(case, got, expected):
    _as_params(got[0], np.shape(case.calls[0]["X"])[1])
    compare({key: got[0][key] for key in expected[0]}, expected[0], "params")


def judge_gmm_elbo(case, got, expected):
    value = as_number(got[0], "the ELBO")
    Q = np.asarray(case.calls[0]["Q"])
    if np.isnan(value):
        raise Failure("the ELBO is NaN", "zero_log_zero" if np.any(Q == 0) else None)
    if not np.isclose(value, expected[0], rtol=1e-6, atol=1e-8):
        raise Failure(f"the ELBO should be {fmt(expected[0])}; got {fmt(value)}")


def judge_general_em(case, got, expected):
    call = case.calls[0]
    max_iters, tol = call.get("max_iters", 100), call.get("tol", 1e-6)
    if not isinstance(got[0], (tuple, list)) or len(got[0]) != 4:
        raise Failure(f"general_em must return a tuple (params, Q, elbos, n_iters); got {describe(got[0])}")
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


EXERCISES = [
    Exercise("gmm_initialize", 1, GMM_INITIALIZE_CASES, judge_gmm_initialize, random=True),
    Exercise("gmm_e_step", 2, GMM_E_STEP_CASES, judge_gmm_e_step),
    Exercise("gmm_m_step", 2, GMM_M_STEP_CASES, judge_gmm_m_step),
    Exercise("gmm_elbo", 2, GMM_ELBO_CASES, judge_gmm_elbo),
    Exercise("general_em", 3, GENERAL_EM_CASES, judge_general_em),
]
for _exercise in EXERCISES:
    _exercise.mistakes = {k: m for k, m in MISTAKES.items() if m.exercise == _exercise.name}
