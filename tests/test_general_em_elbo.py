"""Lesson 4's ELBO and the Gaussian mixture run through general_em (solutions/general_em.py).

The ELBO against scipy.stats (equal to the log-likelihood right after an E-step, below it by exactly
KL(Q || posterior) for any other Q, never decreasing from one iteration to the next); whole runs against lesson 3's
em_mog (solutions/gmm.py) iteration for iteration and against scikit-learn's GaussianMixture; Bishop's Old Faithful
optimum (Fig. 9.8's start) against scikit-learn's.

Tests that take ``impl`` run on the reference and on the correct alternatives declared in
autograde/lessons/general_em.py.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from solutions import general_em as reference
from solutions.general_em import REG_COVAR, general_em, gmm_e_step, gmm_elbo, gmm_m_step
from solutions.gmm import em_mog
from tests.samples import (
    IMPLEMENTATIONS,
    alternative,
    as_arrays,
    faithful_standardised,
    mixture_sample,
    random_params,
    run_gmm,
    scipy_elbo,
    scipy_log_joint,
    scipy_log_likelihood,
    scipy_posterior,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")


# ---- data, starts and independent references -------------------------------------------------------


def blobs(seed, n=240):
    """n points in 2-D from four well-separated round clusters of unequal sizes."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [8.0, 8.0]])
    z = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    return centres[z] + rng.standard_normal((n, 2))


# Bishop's Fig. 9.8 start on the standardised Old Faithful data (see tests/test_gmm.py)
BISHOP_START = {
    "phi": np.array([0.5, 0.5]),
    "mu": np.array([[-1.5, 1.5], [1.5, -1.5]]),
    "Sigma": np.array([0.1 * np.eye(2)] * 2),
}

DATASETS = {"mixture": (mixture_sample, 3), "faithful": (lambda seed: faithful_standardised(), 2), "blobs": (blobs, 4)}


def data_start(X, k, seed):
    """The lesson's start, drawn here: equal weights, k distinct data points, the data's covariance each."""
    rng = np.random.default_rng(seed)
    Sigma = np.cov(X.T, bias=True) + REG_COVAR * np.eye(X.shape[1])
    return {
        "phi": np.full(k, 1 / k),
        "mu": X[rng.choice(len(X), size=k, replace=False)],
        "Sigma": np.stack([Sigma] * k),
    }


def kl_to_posterior(X, params, Q):
    """KL(Q || p(Z | X, params)) = sum_ij Q_ij [log Q_ij - log p(z_i = j | x_i)], in log space."""
    log_joint = scipy_log_joint(X, params)
    log_post = log_joint - logsumexp(log_joint, axis=1, keepdims=True)
    held = Q > 0
    return np.sum(Q[held] * (np.log(Q[held]) - log_post[held]))


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
