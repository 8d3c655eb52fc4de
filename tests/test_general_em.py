"""Lesson 4 reference (solutions/general_em.py) against scipy.stats, closed forms, lesson 3's em_mog and
scikit-learn's GaussianMixture; the general loop against scripted toy models.

Tests that take ``impl`` run on the reference and on the correct alternatives of tests/alternatives_general_em.py.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp, softmax
from scipy.stats import chisquare, multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from autograde import fixtures
from autograde.hidden import general_em as hidden_general_em
from autograde.judge import judge_case
from autograde.lessons import general_em as lesson_general_em
from autograde.models import TRACE_INIT, trace_e_step, trace_elbo, trace_m_step
from helpers import load_faithful
from solutions import general_em as reference
from solutions.general_em import REG_COVAR, general_em, gmm_e_step, gmm_elbo, gmm_initialize, gmm_m_step
from solutions.gmm import em_mog
from tests import alternatives_general_em as alternative
from tests.test_gmm import mixture_sample, one_blas_thread, random_spd  # noqa: F401 (an autouse fixture)

IMPLEMENTATIONS = [pytest.param(reference, id="reference"), pytest.param(alternative, id="alternative")]


# ---- data, parameters and independent references ---------------------------------------------------


def blobs(seed, n=240):
    """n points in 2-D from four well-separated round clusters of unequal sizes."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [8.0, 8.0]])
    z = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    return centres[z] + rng.standard_normal((n, 2))


def faithful_standardised():
    X = load_faithful()
    return (X - X.mean(axis=0)) / X.std(axis=0)  # population standard deviation


# Bishop's Fig. 9.8 start on the standardised Old Faithful data (see tests/test_gmm.py)
BISHOP_START = {
    "phi": np.array([0.5, 0.5]),
    "mu": np.array([[-1.5, 1.5], [1.5, -1.5]]),
    "Sigma": np.array([0.1 * np.eye(2)] * 2),
}

DATASETS = {"mixture": (mixture_sample, 3), "faithful": (lambda seed: faithful_standardised(), 2), "blobs": (blobs, 4)}


def random_params(X, k, seed):
    """A start {"phi", "mu", "Sigma"} with unequal weights, means at data points and random covariances."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    return {
        "phi": rng.dirichlet(np.full(k, 5.0)),
        "mu": X[rng.choice(len(X), size=k, replace=False)],
        "Sigma": np.stack([random_spd(rng, d) for _ in range(k)]),
    }


def data_start(X, k, seed):
    """The lesson's start, drawn here: equal weights, k distinct data points, the data's covariance each."""
    rng = np.random.default_rng(seed)
    Sigma = np.cov(X.T, bias=True) + REG_COVAR * np.eye(X.shape[1])
    return {
        "phi": np.full(k, 1 / k),
        "mu": X[rng.choice(len(X), size=k, replace=False)],
        "Sigma": np.stack([Sigma] * k),
    }


def as_arrays(params):
    """(phi, mu, Sigma) as float arrays, whatever containers an implementation returned."""
    return tuple(np.asarray(params[key], dtype=float) for key in ("phi", "mu", "Sigma"))


def scipy_log_joint(X, params):
    """(n, k) array of log phi_j + log N(x_i | mu_j, Sigma_j) by scipy.stats.multivariate_normal."""
    phi, mu, Sigma = as_arrays(params)
    with np.errstate(divide="ignore"):
        log_phi = np.log(phi)
    return log_phi + np.stack([multivariate_normal(m, S).logpdf(X) for m, S in zip(mu, Sigma)], axis=1)


def scipy_log_likelihood(X, params):
    return logsumexp(scipy_log_joint(X, params), axis=1).sum()


def scipy_posterior(X, params):
    return softmax(scipy_log_joint(X, params), axis=1)


def scipy_elbo(X, params, Q):
    """sum_ij Q_ij [log phi_j + log N(x_i | mu_j, Sigma_j) - log Q_ij], the terms with Q_ij = 0 left out."""
    held = Q > 0
    return np.sum(Q[held] * (scipy_log_joint(X, params)[held] - np.log(Q[held])))


def kl_to_posterior(X, params, Q):
    """KL(Q || p(Z | X, params)) = sum_ij Q_ij [log Q_ij - log p(z_i = j | x_i)], in log space."""
    log_joint = scipy_log_joint(X, params)
    log_post = log_joint - logsumexp(log_joint, axis=1, keepdims=True)
    held = Q > 0
    return np.sum(Q[held] * (np.log(Q[held]) - log_post[held]))


def run_gmm(impl, X, init, **kwargs):
    return impl.general_em(X, init, impl.gmm_e_step, impl.gmm_m_step, impl.gmm_elbo, **kwargs)


def recording(impl):
    """impl's gmm_m_step, wrapped to keep every (Q, params) it sees and returns."""
    history = []

    def m_step(X, Q):
        params = impl.gmm_m_step(X, Q)
        history.append((np.array(Q, dtype=float), params))
        return params

    return m_step, history


def sklearn_em(X, init, max_iter, tol=0.0):
    gm = GaussianMixture(
        len(init["phi"]),
        covariance_type="full",
        reg_covar=REG_COVAR,
        tol=tol,  # tol=0: |change| < 0 never holds, so exactly max_iter iterations
        max_iter=max_iter,
        weights_init=init["phi"],
        means_init=init["mu"],
        precisions_init=np.linalg.inv(init["Sigma"]),
        init_params="random_from_data",  # ignored: every parameter is given
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gm.fit(X)


# ---- the ELBO: equal to the log-likelihood after an E-step, below it for any other Q ----------------


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_elbo_matches_scipy_for_any_Q(impl):
    X = mixture_sample(0, n=80)
    params = random_params(X, 3, 0)
    Q = np.random.default_rng(0).dirichlet(np.full(3, 0.3), size=80)
    Q[:10] = np.eye(3)[np.arange(10) % 3]  # some zeros too: 0 log 0 = 0
    elbo = impl.gmm_elbo(X, params, Q)
    assert isinstance(elbo, float)
    np.testing.assert_allclose(elbo, scipy_elbo(X, params, Q), rtol=1e-10)


@pytest.mark.parametrize("iterations", [0, 5])
@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_elbo_equals_log_likelihood_right_after_an_e_step(impl, name, iterations):
    make, k = DATASETS[name]
    X = make(1)
    params = random_params(X, k, 1)
    if iterations:
        params = run_gmm(impl, X, params, max_iters=iterations, tol=0)[0]
    Q = impl.gmm_e_step(X, params)
    np.testing.assert_allclose(impl.gmm_elbo(X, params, Q), scipy_log_likelihood(X, params), rtol=1e-9)


def other_Q(kind, X, params, seed):
    """A posterior that is not the E-step's for params (nor equal to it by chance)."""
    rng = np.random.default_rng(seed)
    n, k = len(X), len(params["phi"])
    if kind == "dirichlet":
        return rng.dirichlet(np.ones(k), size=n)
    if kind == "sparse-dirichlet":
        return rng.dirichlet(np.full(k, 0.1), size=n)
    if kind == "one-hot-map":  # the hard assignment of k-means, to the most probable component
        return np.eye(k)[scipy_posterior(X, params).argmax(axis=1)]
    if kind == "one-hot-random":
        return np.eye(k)[rng.integers(k, size=n)]
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["dirichlet", "sparse-dirichlet", "one-hot-map", "one-hot-random"])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_elbo_is_below_log_likelihood_for_any_other_Q(impl, kind):
    # log p(X | theta) = ELBO(Q, theta) + KL(Q || posterior): the gap is the KL divergence, > 0 unless Q is it
    X = mixture_sample(2, n=150)
    params = random_params(X, 3, 2)
    log_likelihood = scipy_log_likelihood(X, params)
    for seed in range(3):
        Q = other_Q(kind, X, params, seed)
        elbo = impl.gmm_elbo(X, params, Q)
        assert elbo < log_likelihood
        np.testing.assert_allclose(log_likelihood - elbo, kl_to_posterior(X, params, Q), rtol=1e-7)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_elbo_with_the_previous_iterations_Q_is_below_log_likelihood(impl):
    X = mixture_sample(3, n=200)
    params, Q, elbos, _ = run_gmm(impl, X, random_params(X, 3, 3), max_iters=3, tol=0)
    log_likelihood = scipy_log_likelihood(X, params)
    # the returned Q is the posterior of the parameters before the last M-step, not of the returned ones
    assert elbos[-1] < log_likelihood
    np.testing.assert_allclose(impl.gmm_elbo(X, params, Q), elbos[-1], rtol=1e-12)
    np.testing.assert_allclose(log_likelihood - elbos[-1], kl_to_posterior(X, params, np.asarray(Q)), rtol=1e-7)


# The guarantee is for an exact M-step. REG_COVAR makes the M-step maximise the bound only approximately,
# which matters only when a component collapses onto a few points (covariance ~ REG_COVAR): blobs from
# seed 2 does, and its ELBO then falls by ~3e-4. These runs keep every component wide (checked below).
SEEDS = {"mixture": [0, 1, 2], "faithful": [0, 1, 2], "blobs": [0, 1, 3]}
MONOTONE_CASES = [
    pytest.param(reference, name, seed, id=f"reference-{name}-{seed}") for name in DATASETS for seed in SEEDS[name]
] + [pytest.param(alternative, name, 0, id=f"alternative-{name}-0") for name in DATASETS]


@pytest.mark.parametrize(("impl", "name", "seed"), MONOTONE_CASES)
def test_elbo_never_decreases_and_interleaves_with_log_likelihood(impl, name, seed):
    make, k = DATASETS[name]
    X = make(seed)
    start = data_start(X, k, seed)
    m_step, history = recording(impl)
    max_iters = 60 if impl is reference else 15
    elbos = impl.general_em(X, start, impl.gmm_e_step, m_step, impl.gmm_elbo, max_iters=max_iters, tol=0)[2]
    elbos = np.array(elbos)
    slack = 1e-9 * np.abs(elbos)
    # with tol=0 only a loss stops it early: at convergence, a loss in the last digits
    assert len(elbos) == max_iters or (len(elbos) > 10 and elbos[-1] < elbos[-2])
    assert np.all(np.diff(elbos) >= -slack[1:])
    # the M-step lifts the bound above the last log-likelihood, the next E-step lifts it to the new one
    logliks = np.array([scipy_log_likelihood(X, p) for p in [start] + [params for _, params in history]])
    assert np.all(elbos >= logliks[:-1] - slack)
    assert np.all(elbos <= logliks[1:] + slack)
    assert np.linalg.eigvalsh(as_arrays(history[-1][1])[2]).min() > 1e-3  # no component collapsed


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_recorded_elbos_are_of_the_new_params_and_the_e_steps_Q(impl):
    X = mixture_sample(4, n=200)
    m_step, history = recording(impl)
    elbos = impl.general_em(X, random_params(X, 3, 4), impl.gmm_e_step, m_step, impl.gmm_elbo, max_iters=8, tol=0)[2]
    assert len(elbos) == len(history) == 8
    np.testing.assert_allclose(elbos, [scipy_elbo(X, params, Q) for Q, params in history], rtol=1e-10)


# ---- the Gaussian mixture in this framework is lesson 3's em_mog, and scikit-learn's EM -------------


@pytest.mark.parametrize("t", [1, 5, 25])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_reproduces_em_mog_iteration_for_iteration(impl, t):
    X = mixture_sample(5, n=300)
    start = random_params(X, 3, 5)
    init = (start["phi"], start["mu"], start["Sigma"])
    params, Q, elbos, n_iters = run_gmm(impl, X, start, max_iters=t, tol=0)
    phi, mu, Sigma, _, _, mog_elbos = em_mog(X, 3, max_iters=t, tol=0, init=init)
    assert n_iters == len(elbos) == len(mog_elbos) == t
    for ours, theirs in zip(as_arrays(params), (phi, mu, Sigma)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(elbos, mog_elbos, rtol=1e-10)
    # Q is the posterior of the parameters of iteration t - 1, those em_mog holds after t - 1 iterations
    expected_Q = em_mog(X, 3, max_iters=t - 1, tol=0, init=init)[3] if t > 1 else scipy_posterior(X, start)
    np.testing.assert_allclose(Q, expected_Q, rtol=1e-9, atol=1e-14)


SKLEARN_CASES = {
    "mixture": lambda: (mixture_sample(6, n=300), random_params(mixture_sample(6, n=300), 3, 6)),
    "faithful-bishop": lambda: (faithful_standardised(), BISHOP_START),
}


@pytest.mark.parametrize("t", [1, 5, 30])
@pytest.mark.parametrize("case", SKLEARN_CASES)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_matches_sklearn_gaussian_mixture(impl, case, t):
    X, start = SKLEARN_CASES[case]()
    n = len(X)
    ref = sklearn_em(X, start, max_iter=t)
    params, _, elbos, _ = run_gmm(impl, X, start, max_iters=t, tol=0)
    phi, mu, Sigma = as_arrays(params)
    np.testing.assert_allclose(phi, ref.weights_, rtol=1e-6)
    np.testing.assert_allclose(mu, ref.means_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(Sigma, ref.covariances_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(logsumexp(scipy_log_joint(X, params), axis=1), ref.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(impl.gmm_e_step(X, params), ref.predict_proba(X), atol=1e-8)
    # lower_bounds_[s] is the mean log-likelihood of the parameters of iteration s, and the ELBO of
    # iteration s + 1 lies between the log-likelihoods of iterations s and s + 1
    logliks = np.append(np.array(ref.lower_bounds_) * n, ref.score_samples(X).sum())
    slack = 1e-6 * np.abs(logliks[1:])
    assert np.all(np.array(elbos) >= logliks[:-1] - slack)
    assert np.all(np.array(elbos) <= logliks[1:] + slack)


def test_bishop_old_faithful_reaches_the_optimum_at_default_tol():
    # From Fig. 9.8's start the ELBO creeps along a plateau (gains of ~1e-4 per point) before the two
    # components split the clusters: tol=1e-6 on the total ELBO does not stop there.
    X = faithful_standardised()
    n = len(X)
    params, _, elbos, n_iters = general_em(X, BISHOP_START, gmm_e_step, gmm_m_step, gmm_elbo)
    optimum = sklearn_em(X, BISHOP_START, max_iter=1000, tol=1e-6)
    assert 40 < n_iters < 60  # measured: 48
    gains = np.diff(elbos) / n
    assert np.sum(gains[:30] < 1e-3) >= 20  # the plateau it did not stop on
    assert gains[-1] * n < 1e-6 <= gains[-2] * n  # it stopped at the first gain below tol
    np.testing.assert_allclose(scipy_log_likelihood(X, params) / n, -1.41713, atol=1e-5)
    np.testing.assert_allclose(scipy_log_likelihood(X, params) / n, optimum.score(X), rtol=1e-8)
    order, ref_order = np.argsort(params["phi"]), np.argsort(optimum.weights_)
    np.testing.assert_allclose(params["phi"][order], optimum.weights_[ref_order], rtol=1e-4)
    np.testing.assert_allclose(params["mu"][order], optimum.means_[ref_order], rtol=1e-4, atol=1e-5)


# ---- gmm_elbo: one-hot Q and empty components ------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_elbo_one_hot_is_the_complete_data_log_likelihood(impl):
    X = mixture_sample(7, n=90)
    params = random_params(X, 3, 7)
    z = np.random.default_rng(7).integers(3, size=90)
    elbo = impl.gmm_elbo(X, params, np.eye(3)[z])
    # with Q_i = e_{z_i} the entropy vanishes (1 log 1 = 0 log 0 = 0): sum_i log phi_{z_i} + log N(x_i | z_i)
    closed_form = sum(
        np.log(params["phi"][j]) + multivariate_normal(params["mu"][j], params["Sigma"][j]).logpdf(x)
        for x, j in zip(X, z)
    )
    assert np.isfinite(elbo)
    np.testing.assert_allclose(elbo, closed_form, rtol=1e-12)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_zero_weight_component_takes_no_point_and_adds_nothing(impl):
    X = mixture_sample(8, n=60)
    params = random_params(X, 3, 8)
    params["phi"] = np.array([0.6, 0.0, 0.4])
    Q = impl.gmm_e_step(X, params)
    np.testing.assert_array_equal(np.asarray(Q)[:, 1], 0.0)
    # the mixture of the two remaining components, by scipy alone
    two = {key: params[key][[0, 2]] for key in ("phi", "mu", "Sigma")}
    np.testing.assert_allclose(impl.gmm_elbo(X, params, Q), scipy_log_likelihood(X, two), rtol=1e-9)
    # any Q without weight on it: log phi_1 = -inf never meets Q_i1 = 0
    other = np.zeros((60, 3))
    other[:, [0, 2]] = np.random.default_rng(8).dirichlet([1.0, 1.0], size=60)
    elbo = impl.gmm_elbo(X, params, other)
    assert np.isfinite(elbo)
    np.testing.assert_allclose(elbo, scipy_elbo(X, two, other[:, [0, 2]]), rtol=1e-10)


# ---- general_em on scripted models: the loop itself ------------------------------------------------

DATA = object()  # any X at all: general_em only passes it on


def scripted(script):
    """A model whose E- and M-steps write their calls into the parameters and whose ELBO follows a script.

    params = {"t": number of M-steps so far, "log": the calls that led to it}; Q = {"t": the t of the
    params it came from, "log": ...}; elbo(X, params, Q) = script[params["t"] - 1]. Every call is also
    appended to the returned list, ELBO calls as "L".
    """
    calls = []

    def e_step(X, params):
        assert X is DATA
        calls.append("E")
        return {"t": params["t"], "log": params["log"] + "E"}

    def m_step(X, Q):
        assert X is DATA
        calls.append("M")
        return {"t": Q["t"] + 1, "log": Q["log"] + "M"}

    def elbo(X, params, Q):
        assert X is DATA and Q["t"] == params["t"] - 1  # the Q of this iteration's E-step
        calls.append("L")
        return script[params["t"] - 1]

    return e_step, m_step, elbo, calls


START = {"t": 0, "log": ""}
HALVING = [-10.0, -6.0, -4.0, -3.0, -2.5, -2.25, -2.125, -2.0625, -2.03125]  # gains 4, 2, 1, 0.5, ... (exact)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_alternates_e_and_m_steps(impl):
    e_step, m_step, elbo, calls = scripted([float(t) for t in range(6)])
    params, Q, elbos, n_iters = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=6, tol=0.5)
    assert "".join(calls) == "EML" * 6
    assert params == {"t": 6, "log": "EM" * 6}
    assert Q == {"t": 5, "log": "EM" * 5 + "E"}  # the last E-step's, the one the last M-step used
    assert elbos == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert n_iters == 6


@pytest.mark.parametrize(
    ("tol", "n_iters"),
    [(5.0, 2), (4.0, 3), (1.5, 4), (1.0, 5), (0.2, 7), (0.0, 9), (1e-12, 9)],
    ids=["below-first", "equal-is-not-below", "third", "equal-again", "late", "zero", "tiny"],
)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_stops_at_the_first_gain_below_tol(impl, tol, n_iters):
    e_step, m_step, elbo, calls = scripted(HALVING)
    params, Q, elbos, n = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=9, tol=tol)
    assert n == len(elbos) == n_iters
    assert elbos == HALVING[:n_iters]
    assert "".join(calls) == "EML" * n_iters
    assert params["t"] == n_iters and Q["t"] == n_iters - 1


@pytest.mark.parametrize(
    ("script", "n_iters"),
    [([0.0, 1.0, 0.5, 2.0, 3.0], 3), ([0.0, 1.0, 1.0, 2.0, 3.0], 5), ([0.0, -1e-300, 5.0], 2)],
    ids=["negative-gain-stops", "zero-gain-is-not-below-0", "tiny-loss-stops"],
)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_with_tol_0_runs_until_the_elbo_falls(impl, script, n_iters):
    # "stop when the ELBO gains less than tol": with tol=0 only a loss stops it early (em_mog's rule too)
    e_step, m_step, elbo, _ = scripted(script)
    elbos, n = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=len(script), tol=0)[2:]
    assert n == n_iters
    assert elbos == script[:n_iters]


@pytest.mark.parametrize("max_iters", [1, 2, 7])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_respects_max_iters(impl, max_iters):
    e_step, m_step, elbo, calls = scripted([float(t) for t in range(20)])  # gains of 1 > tol
    params, Q, elbos, n_iters = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=max_iters)
    assert n_iters == len(elbos) == max_iters
    assert "".join(calls) == "EML" * max_iters
    assert params["t"] == max_iters and Q["t"] == max_iters - 1


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_records_python_floats(impl):
    values = [np.float32(1.5), 2, np.float64(2.75)]  # whatever number type the model's elbo returns

    def elbo(X, params, Q):
        return values[params["t"] - 1]

    e_step, m_step, _, _ = scripted([])
    elbos = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=3, tol=0)[2]
    assert elbos == [1.5, 2.0, 2.75]
    assert all(type(e) is float for e in elbos)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_with_scalar_params_and_tuple_Q(impl):
    # theta -> Q = (theta,) -> theta / 2 + 1 has its fixed point at 2: theta_t = 2 + 8 / 2^t from theta_0 = 10,
    # the ELBO -(theta - 2)^2 = -64 / 4^t gains 192 / 4^t, first below 0.01 at t = 8 (4^8 > 19200 > 4^7)
    def e_step(X, theta):
        assert X is None
        return (theta,)

    def m_step(X, Q):
        return Q[0] / 2 + 1

    def elbo(X, theta, Q):
        return -((theta - 2) ** 2)

    theta, Q, elbos, n_iters = impl.general_em(None, 10.0, e_step, m_step, elbo, tol=0.01)
    assert n_iters == 8
    assert theta == 2 + 8 / 2**8 and Q == (2 + 8 / 2**7,)
    assert elbos == [-64 / 4**t for t in range(1, 9)]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_does_not_modify_init_params(impl):
    e_step, m_step, elbo, _ = scripted([0.0, 1.0, 2.0])
    start = {"t": 0, "log": ""}
    impl.general_em(DATA, start, e_step, m_step, elbo, max_iters=3)
    assert start == {"t": 0, "log": ""}
    X = mixture_sample(9, n=100)
    init = random_params(X, 3, 9)
    copies = {key: value.copy() for key, value in init.items()}
    run_gmm(impl, X, init, max_iters=4, tol=0)
    assert init.keys() == copies.keys()
    for key in init:
        np.testing.assert_array_equal(init[key], copies[key])


# ---- the grader's scripted model (autograde/models.py) -------------------------------------------------

TRACE_CASES = lesson_general_em.GENERAL_EM_CASES + hidden_general_em.CASES["general_em"]
GENERAL_EM = next(e for e in lesson_general_em.EXERCISES if e.name == "general_em")


def general_em_bounding_the_start(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    """A general_em that also evaluates the bound at the start: the first iteration's gain is measured from
    there. On a real model that bound is the starting log-likelihood, below the first iteration's ELBO."""
    params, elbos = init_params, []
    previous = elbo(X, params, e_step(X, params))
    for _ in range(max_iters):
        Q = e_step(X, params)
        params = m_step(X, Q)
        elbos.append(float(elbo(X, params, Q)))
        if elbos[-1] - previous < tol:
            break
        previous = elbos[-1]
    return params, Q, elbos, len(elbos)


def test_trace_elbo_before_any_m_step_is_below_every_scripted_value():
    X = np.array([-3.0, -2.0, -1.0])
    assert trace_elbo(X, TRACE_INIT, trace_e_step(X, TRACE_INIT)) == -np.inf
    params = TRACE_INIT
    for t in range(1, 6):  # after the t-th M-step: X[t - 1], the last value repeating
        params = trace_m_step(X, trace_e_step(X, params))
        assert trace_elbo(X, params, None) == X[min(t, len(X)) - 1]


@pytest.mark.parametrize("case", TRACE_CASES, ids=lambda case: case.label)
def test_the_reference_asks_the_trace_elbo_only_after_m_steps(case):
    X = case.calls[0]["X"]
    elbos, n_iters = fixtures.run_calls(general_em, case)[0][2:]
    assert elbos == [X[min(t, len(X)) - 1] for t in range(1, n_iters + 1)]


@pytest.mark.parametrize("case", TRACE_CASES, ids=lambda case: case.label)
def test_a_general_em_that_bounds_the_start_passes_the_trace_cases(case):
    expected = fixtures.run_calls(general_em, case)
    judge_case(GENERAL_EM, case, fixtures.run_calls(general_em_bounding_the_start, case), expected)


# ---- gmm_initialize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "d", "k"), [(50, 3, 3), (20, 1, 4), (6, 2, 6), (10, 2, 1)])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_initialize_gives_valid_parameters(impl, n, d, k):
    X = np.random.default_rng(n).normal(size=(n, d))
    params = impl.gmm_initialize(X, k, np.random.default_rng(0))
    assert {"phi", "mu", "Sigma"} <= params.keys()
    phi, mu, Sigma = as_arrays(params)
    assert phi.shape == (k,) and mu.shape == (k, d) and Sigma.shape == (k, d, d)
    assert np.all(phi >= 0)
    np.testing.assert_allclose(phi.sum(), 1.0, rtol=1e-12)
    rows = [int(np.flatnonzero(np.all(X == m, axis=1))[0]) for m in mu]  # each mean is a row of X ...
    assert len(set(rows)) == k  # ... and no row twice
    np.testing.assert_array_equal(Sigma, Sigma.swapaxes(1, 2))
    assert np.all(np.linalg.eigvalsh(Sigma) > 0)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_initialize_is_reproducible_and_depends_on_the_seed(impl):
    X = mixture_sample(10, n=100)
    a = impl.gmm_initialize(X, 3, np.random.default_rng(1))
    b = impl.gmm_initialize(X, 3, np.random.default_rng(1))
    for key in ("phi", "mu", "Sigma"):
        np.testing.assert_array_equal(a[key], b[key])
    means = {tuple(np.ravel(impl.gmm_initialize(X, 3, np.random.default_rng(seed))["mu"])) for seed in range(10)}
    assert len(means) == 10


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_initialize_draws_from_rng_only(impl):
    X = mixture_sample(11, n=100)
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (numpy's legacy global generator, on purpose)
    rng = np.random.default_rng(2)
    first = impl.gmm_initialize(X, 3, rng)
    second = impl.gmm_initialize(X, 3, rng)  # the generator moved on: other rows
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002 (the global one untouched)
    assert not np.array_equal(first["mu"], second["mu"])


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_initialize_chooses_rows_uniformly(impl):
    # row r is a mean with probability k / n = 0.3 in every draw: 600 of the 2000 draws on average, a binomial
    # standard deviation of 20.5. Drawing without replacement only shrinks the chi-square statistic.
    n, k, draws = 10, 3, 2000
    X = np.column_stack([np.arange(n, dtype=float), np.arange(n, dtype=float) ** 2])  # row r starts with r
    counts = np.zeros(n)
    for seed in range(draws):
        counts[np.asarray(impl.gmm_initialize(X, k, np.random.default_rng(seed))["mu"])[:, 0].astype(int)] += 1
    assert counts.sum() == k * draws
    assert chisquare(counts).pvalue > 1e-3
    assert np.all(np.abs(counts - k * draws / n) < 5 * 20.5)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_initialize_starts_every_component_at_the_data_covariance(impl):
    X = mixture_sample(12, n=100)
    phi, _, Sigma = as_arrays(impl.gmm_initialize(X, 4, np.random.default_rng(0)))
    np.testing.assert_allclose(phi, 0.25, rtol=1e-12)
    expected = np.cov(X.T, bias=True) + REG_COVAR * np.eye(3)
    np.testing.assert_allclose(Sigma, np.broadcast_to(expected, (4, 3, 3)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_initialize_on_identical_points_is_still_positive_definite(impl):
    X = np.ones((5, 2))
    params = impl.gmm_initialize(X, 2, np.random.default_rng(0))
    np.testing.assert_allclose(as_arrays(params)[2], np.broadcast_to(REG_COVAR * np.eye(2), (2, 2, 2)), rtol=1e-6)
    np.testing.assert_allclose(impl.gmm_e_step(X, params), 0.5, rtol=1e-12)


# ---- gmm_e_step and gmm_m_step ---------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_e_step_matches_scipy_densities(impl):
    X = mixture_sample(13, n=60)
    params = random_params(X, 3, 13)
    joint = params["phi"] * np.stack(
        [multivariate_normal(m, S).pdf(X) for m, S in zip(params["mu"], params["Sigma"])], axis=1
    )
    Q = np.asarray(impl.gmm_e_step(X, params))
    assert Q.shape == (60, 3)
    np.testing.assert_allclose(Q, joint / joint.sum(axis=1, keepdims=True), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_e_step_far_points_stay_finite(impl):
    X = np.array([[50.0, 50.0], [-80.0, 10.0], [1e4, 1e4]])
    params = {"phi": np.array([0.3, 0.7]), "mu": np.array([[0.0, 0.0], [1.0, 2.0]]), "Sigma": np.array([np.eye(2)] * 2)}
    params["Sigma"][1] *= 4
    with np.errstate(invalid="ignore"):
        assert np.all(multivariate_normal(params["mu"][0]).pdf(X) == 0)  # densities underflow: 0 / 0 the naive way
    Q = np.asarray(impl.gmm_e_step(X, params))
    assert np.all(np.isfinite(Q))
    np.testing.assert_allclose(Q, scipy_posterior(X, params), rtol=1e-10, atol=1e-300)
    np.testing.assert_array_equal(Q[2], [0.0, 1.0])  # the farthest point goes to the widest component
    assert np.isfinite(impl.gmm_elbo(X, params, Q))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_m_step_is_weighted_statistics_plus_reg_covar(impl):
    X = mixture_sample(14, n=100)
    Q = np.random.default_rng(14).dirichlet(np.ones(3), size=100)
    phi, mu, Sigma = as_arrays(impl.gmm_m_step(X, Q))
    expected = [np.cov(X.T, aweights=Q[:, j], bias=True) + REG_COVAR * np.eye(3) for j in range(3)]  # over N_j
    np.testing.assert_allclose(phi, Q.sum(axis=0) / 100, rtol=1e-12)
    np.testing.assert_allclose(mu, [np.average(X, axis=0, weights=Q[:, j]) for j in range(3)], rtol=1e-12)
    np.testing.assert_allclose(Sigma, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_gmm_m_step_one_hot_gives_group_statistics(impl):
    # the third component owns three copies of one point: its covariance is REG_COVAR I, not singular
    X = np.vstack([mixture_sample(15, n=40), np.full((3, 3), 7.0)])
    z = np.append(np.arange(40) % 2, [2, 2, 2])
    phi, mu, Sigma = as_arrays(impl.gmm_m_step(X, np.eye(3)[z]))
    np.testing.assert_allclose(phi, [20 / 43, 20 / 43, 3 / 43], rtol=1e-12)
    np.testing.assert_allclose(mu, [X[z == j].mean(axis=0) for j in range(3)], rtol=1e-12)
    for j in range(3):
        np.testing.assert_allclose(Sigma[j], np.cov(X[z == j].T, bias=True) + REG_COVAR * np.eye(3), rtol=1e-10)
    np.testing.assert_allclose(Sigma[2], REG_COVAR * np.eye(3), rtol=1e-9, atol=1e-20)
    assert np.all(np.linalg.eigvalsh(Sigma) > 0)


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
    with pytest.raises(ValueError, match=r"X must be a non-empty 2-D array of shape \(n, d\); got shape"):
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
    with pytest.raises(ValueError, match=rf"k must be an integer between 1 and the number of points \(5\); got {k}"):
        gmm_initialize(X5, k, np.random.default_rng(0))


BAD_PARAMS = [
    ({"phi": PARAMS["phi"], "mu": PARAMS["mu"]}, 'params must be a dict with the keys "phi", "mu" and "Sigma"'),
    ((PARAMS["phi"], PARAMS["mu"], PARAMS["Sigma"]), 'params must be a dict with the keys "phi", "mu" and "Sigma"'),
    (with_params(mu=np.zeros((2, 3))), r"params must hold phi \(k,\), mu \(k, 2\) and Sigma \(k, 2, 2\); got \(2,\), "),
    (with_params(mu=np.zeros((3, 2))), r"mu \(k, 2\) .*; got \(2,\), \(3, 2\) and \(2, 2, 2\)"),
    (with_params(Sigma=np.array([np.eye(3)] * 2)), r"got \(2,\), \(2, 2\) and \(2, 3, 3\)"),
    (with_params(phi=np.array([[0.5, 0.5]])), r"params must hold phi \(k,\)"),
    (with_params(phi=np.array([0.5, 0.6])), "phi must be non-negative and sum to 1"),
    (with_params(phi=np.array([1.5, -0.5])), "phi must be non-negative and sum to 1"),
    (with_params(Sigma=np.array([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])), r"Sigma\[1\] is not positive definite"),
    (with_params(Sigma=np.array([np.zeros((2, 2)), np.eye(2)])), r"Sigma\[0\] is not positive definite"),
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
        (np.array([[0.5, 0.5]] * 4 + [[0.5, 0.4]]), "each row summing to 1 over the components"),
        (np.array([[1.5, -0.5]] + [[0.5, 0.5]] * 4), "Q must be finite and non-negative"),
        (np.array([[np.nan, 0.5]] + [[0.5, 0.5]] * 4), "Q must be finite and non-negative"),
        (np.array([[1.0, 0.0]] * 5), r"component 1 has no weight in Q \(N_j = 0\)"),
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
        ({"tol": -1e-9}, "tol must be a number >= 0; got -1e-09"),
        ({"tol": np.nan}, "tol must be a number >= 0; got nan"),
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
    with pytest.raises(ValueError, match="each row summing to 1"):
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
