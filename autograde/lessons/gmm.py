"""Lesson 3, Gaussian mixtures: the exercises, their visible cases, how each is judged, and known mistakes."""

import numpy as np

from autograde.judge import Case, Exercise, Failure, Mistake, as_array, close, compare, compare_array, describe, fmt
from autograde.serial import RngSeed

MISTAKES = {
    "sigma_not_inverted": Mistake(
        "log_gaussian_pdf",
        "Sigma instead of its inverse",
        "The quadratic form is (x - mu)^T Sigma^{-1} (x - mu): solve with Sigma (np.linalg.solve) "
        "or multiply by np.linalg.inv(Sigma), not by Sigma itself.",
        by_output=True,
    ),
    "logdet_no_half": Mistake(
        "log_gaussian_pdf",
        "log-determinant without the 1/2",
        "The normaliser is |Sigma|^{-1/2}: subtract 0.5 * log|Sigma| (np.linalg.slogdet), not the whole log|Sigma|.",
        by_output=True,
    ),
    "no_2pi": Mistake(
        "log_gaussian_pdf",
        "the 2 pi term is missing",
        "The normaliser includes (2 pi)^{-d/2}: subtract 0.5 * d * log(2 pi).",
        by_output=True,
    ),
    "prob_space": Mistake(
        "e_step",
        "E-step in probability space",
        "For points far from every component each phi_j N(x | mu_j, Sigma_j) underflows to 0 and 0 / 0 = NaN. "
        "Work with logs: log phi_j + log_gaussian_pdf, then subtract scipy.special.logsumexp over the components "
        "(axis=1) before exponentiating.",
    ),
    "wrong_axis": Mistake(
        "e_step",
        "normalised over the wrong axis",
        "Each point's responsibilities sum to 1: normalise over the components (axis=1), not over the points.",
        by_output=True,
    ),
    "unweighted_cov": Mistake(
        "m_step",
        "unweighted covariance",
        "Weight each point's outer product by its responsibility: "
        "Sigma_j = sum_i w[i, j] (x_i - mu_j)(x_i - mu_j)^T / N_j (Bishop eq. 9.19).",
        by_output=True,
    ),
    "no_centering": Mistake(
        "m_step",
        "E[x x^T] without subtracting the mean",
        "The covariance is about the new mean: use the outer products of x_i - mu_j (or subtract mu_j mu_j^T).",
        by_output=True,
    ),
    "mean_over_n": Mistake(
        "m_step",
        "mean divided by n instead of N_k",
        "mu_j is a weighted average: divide sum_i w[i, j] x_i by N_j = sum_i w[i, j], not by the number of points.",
        by_output=True,
    ),
    "cov_over_n": Mistake(
        "m_step",
        "covariance divided by n instead of N_k",
        "Sigma_j is a weighted average of outer products: divide by N_j = sum_i w[i, j], not by the number of points.",
        by_output=True,
    ),
    "phi_counts": Mistake(
        "m_step",
        "weights not divided by n",
        "phi_j = N_j / n, so that the weights sum to 1 (Bishop eq. 9.22).",
        by_output=True,
    ),
    "mean_loglik": Mistake(
        "log_likelihood",
        "mean instead of sum",
        "The log-likelihood is the sum over points of log p(x_i), not its mean (Bishop eq. 9.14).",
        by_output=True,
    ),
    "sum_of_logs": Mistake(
        "log_likelihood",
        "sum of logs instead of log of the sum",
        "The log sits outside the sum over components: sum_i log sum_j phi_j N(x_i | mu_j, Sigma_j) "
        "(use scipy.special.logsumexp over the components).",
        by_output=True,
    ),
    "init_ignored": Mistake(
        "em_mog",
        "init ignored",
        "When init is given, start from its (phi, mu, Sigma); initialise otherwise only when init is None.",
    ),
    "one_iteration": Mistake(
        "em_mog",
        "a single EM iteration",
        "Repeat E-step and M-step until the log-likelihood gains less than tol, up to max_iters iterations.",
    ),
    "ignores_phi": Mistake(
        "sample_gmm",
        "the components are drawn uniformly, ignoring phi",
        "Draw each z_i from Categorical(phi): rng.choice(k, size=n, p=phi).",
    ),
    "ignores_sigma": Mistake(
        "sample_gmm",
        "every component is drawn with the identity covariance, ignoring Sigma",
        "x_i = mu_{z_i} + L_{z_i} eps_i with eps_i ~ N(0, I) and L = np.linalg.cholesky(Sigma), "
        "so that Cov(x_i) = L L^T = Sigma_{z_i}.",
    ),
    "sigma_as_factor": Mistake(
        "sample_gmm",
        "Sigma used as the square root of the covariance",
        "Multiplying eps by Sigma gives the covariance Sigma Sigma^T. Multiply by a factor L with L L^T = Sigma: "
        "L = np.linalg.cholesky(Sigma), and x = mu + L @ eps (for rows: mu + eps @ L.T).",
    ),
    "factor_transposed": Mistake(
        "sample_gmm",
        "the Cholesky factor transposed",
        "For a row vector eps, eps @ L has covariance L^T L, which is not Sigma; use eps @ L.T (or L @ eps for a "
        "column), so that the covariance is L L^T = Sigma.",
    ),
    "global_random": Mistake(
        "sample_gmm",
        "global np.random instead of rng",
        "Draw everything from the rng argument (rng.choice, rng.standard_normal or rng.multivariate_normal), "
        "never from np.random, so that a seed reproduces the sample.",
    ),
}

# ---------------------------------------------------------------------------- visible cases
_rng = np.random.default_rng(2026)
_unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])  # by hand: -log(2 pi) - |x|^2 / 2
_S2 = np.array([[2.0, 0.8], [0.8, 1.0]])
_pts = _rng.normal(size=(6, 2))
_cube = _rng.normal(size=(10, 3))
_S3 = np.array([[1.5, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]])
_blobs = np.concatenate([_rng.multivariate_normal(c, s, size=m) for c, s, m in [
    ([0, 0], [[1.0, 0.6], [0.6, 1.0]], 40),
    ([5, 1], [[0.5, 0.0], [0.0, 1.5]], 25),
    ([1, 6], [[1.0, -0.4], [-0.4, 0.6]], 15),
]])  # fmt: skip
_eye2 = np.stack([np.eye(2)] * 3)
_init3 = (np.full(3, 1 / 3), np.array([[-1.0, -1.0], [3.0, 3.0], [0.0, 4.0]]), _eye2)
_init2 = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), 0.1 * np.stack([np.eye(2)] * 2))
_two = np.concatenate([_rng.normal([-2.5, 0], 0.6, size=(20, 2)), _rng.normal([2.5, 1], 0.8, size=(30, 2))])
_far = np.array([[0.0, 0.0], [3.0, 0.0], [1.5, 0.5], [60.0, 60.0], [-80.0, 10.0]])
_dirichlet = _rng.dirichlet(np.ones(3), size=len(_pts))
_params3 = (
    np.array([0.5, 0.3, 0.2]),
    np.array([[0.0, 0.0], [2.0, 1.0], [-1.0, 2.0]]),
    np.stack([_S2, np.eye(2), np.diag([0.5, 2.0])]),
)

LOG_GAUSSIAN_PDF_CASES = [
    Case("standard normal in 2-D", [{"X": _unit, "mu": np.zeros(2), "Sigma": np.eye(2)}]),
    Case("correlated covariance", [{"X": _pts, "mu": np.array([1.0, -1.0]), "Sigma": _S2}]),
    Case("3-D", [{"X": _cube, "mu": np.array([0.5, 0.0, -0.5]), "Sigma": _S3}]),
]
E_STEP_CASES = [
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
        "three components, unequal weights", [{"X": _pts, "phi": _params3[0], "mu": _params3[1], "Sigma": _params3[2]}]
    ),
    Case(
        "points far from every component",
        [{"X": _far, "phi": np.array([0.4, 0.6]), "mu": np.array([[0.0, 0.0], [3.0, 0.0]]), "Sigma": _eye2[:2]}],
    ),
]
M_STEP_CASES = [
    Case(
        "one-hot w: two clusters of two points",
        [{"X": np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0], [4.0, 6.0]]), "w": np.repeat(np.eye(2), 2, axis=0)}],
    ),
    Case("soft responsibilities, three components", [{"X": _pts, "w": _dirichlet}]),
    Case(
        "3-D, two components",
        [{"X": _cube, "w": np.column_stack([np.linspace(0.1, 0.9, 10), np.linspace(0.9, 0.1, 10)])}],
    ),
]
LOG_LIKELIHOOD_CASES = [
    Case("one standard normal", [{"X": _unit, "phi": np.ones(1), "mu": np.zeros((1, 2)), "Sigma": np.eye(2)[None]}]),
    Case("three components", [{"X": _pts, "phi": _params3[0], "mu": _params3[1], "Sigma": _params3[2]}]),
]
EM_MOG_CASES = [
    Case("one iteration (max_iters=1)", [{"X": _blobs, "k": 3, "init": _init3, "max_iters": 1, "rng": RngSeed(0)}]),
    Case("two groups from Bishop's Fig. 9.8 start", [{"X": _two, "k": 2, "init": _init2, "rng": RngSeed(0)}]),
    Case("three groups from a given init", [{"X": _blobs, "k": 3, "init": _init3, "rng": RngSeed(0)}]),
]
_Sigma_sample = np.stack([_S2, np.array([[0.5, -0.3], [-0.3, 0.4]]), np.diag([1.0, 0.25])])
_sample3 = {
    "phi": _params3[0],
    "mu": np.array([[0.0, 0.0], [4.0, 1.0], [-2.0, 4.0]]),
    "Sigma": _Sigma_sample,
    "n": 20000,
}
_sample1d = {"phi": np.array([0.25, 0.75]), "mu": np.array([[-3.0], [2.0]]), "Sigma": np.array([[[0.5]], [[2.0]]])}
SAMPLE_GMM_CASES = [
    Case(
        "20,000 points from three components, the same seed twice and another",
        [_sample3 | {"rng": RngSeed(s)} for s in (0, 0, 1)],
    ),
    Case("1-D, two components", [_sample1d | {"n": 5000, "rng": RngSeed(2)}]),
]


# ---------------------------------------------------------------------------- judges
def judge_log_gaussian_pdf(case, got, expected):
    compare_array(got[0], expected[0], "logpdf")


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


def judge_m_step(case, got, expected):
    compare(got[0], expected[0], "(phi, mu, Sigma)")


def judge_log_likelihood(case, got, expected):
    compare(got[0], expected[0], "the log-likelihood")


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
    if logliks.ndim != 1 or logliks.size < 2:
        raise Failure(
            f"logliks must be a list: the log-likelihood of init, then one per iteration; got shape {logliks.shape}"
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


EXERCISES = [
    Exercise("log_gaussian_pdf", 2, LOG_GAUSSIAN_PDF_CASES, judge_log_gaussian_pdf),
    Exercise("e_step", 2, E_STEP_CASES, judge_e_step),
    Exercise("m_step", 2, M_STEP_CASES, judge_m_step),
    Exercise("log_likelihood", 1, LOG_LIKELIHOOD_CASES, judge_log_likelihood),
    Exercise(
        "em_mog",
        2,
        EM_MOG_CASES,
        judge_em_mog,
        uses=["log_gaussian_pdf", "e_step", "m_step", "log_likelihood"],
    ),
    Exercise("sample_gmm", 1, SAMPLE_GMM_CASES, judge_sample_gmm, random=True),
]
for _exercise in EXERCISES:
    _exercise.mistakes = {k: m for k, m in MISTAKES.items() if m.exercise == _exercise.name}
