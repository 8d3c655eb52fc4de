"""Lesson 3 reference (solutions/gmm.py) against scipy.stats, closed forms and scikit-learn's GaussianMixture."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp, softmax
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from solutions.gmm import e_step, em_mog, log_gaussian_pdf, log_likelihood, m_step, sample_gmm
from tests.samples import faithful_standardised, mixture_sample, random_spd

pytestmark = pytest.mark.usefixtures("one_blas_thread")

COVARIANCE_TYPES = ["full", "diag", "spherical", "tied"]


def start_of_type(X, covariance_type, seed, k=3):
    """A start (phi, mu, Sigma) whose covariances belong to covariance_type, all of shape (k, d, d)."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    phi = rng.dirichlet(np.full(k, 5.0))
    mu = X[rng.choice(len(X), size=k, replace=False)]
    if covariance_type == "full":
        Sigma = np.stack([random_spd(rng, d) for _ in range(k)])
    elif covariance_type == "tied":
        Sigma = np.repeat(random_spd(rng, d)[None], k, axis=0)
    elif covariance_type == "diag":
        Sigma = np.stack([np.diag(v) for v in rng.uniform(0.5, 3.0, size=(k, d))])
    else:
        Sigma = rng.uniform(0.5, 3.0, size=k)[:, None, None] * np.eye(d)
    return phi, mu, Sigma


def sklearn_precisions(Sigma, covariance_type):
    """scikit-learn's precisions_init for covariances of shape (k, d, d): its shape depends on the type."""
    if covariance_type == "full":
        return np.linalg.inv(Sigma)
    if covariance_type == "tied":
        return np.linalg.inv(Sigma[0])
    if covariance_type == "diag":
        return 1.0 / np.diagonal(Sigma, axis1=1, axis2=2)
    return 1.0 / Sigma[:, 0, 0]


def sklearn_covariances(gm, k, d):
    """scikit-learn's covariances_ as an array of shape (k, d, d) whatever the type."""
    cov = gm.covariances_
    if gm.covariance_type == "full":
        return cov
    if gm.covariance_type == "tied":
        return np.broadcast_to(cov, (k, d, d))
    if gm.covariance_type == "diag":
        return np.stack([np.diag(v) for v in cov])
    return cov[:, None, None] * np.eye(d)


def sklearn_em(X, start, covariance_type, max_iter, tol=0.0, reg_covar=1e-6):
    phi, mu, Sigma = start
    gm = GaussianMixture(
        len(phi),
        covariance_type=covariance_type,
        reg_covar=reg_covar,
        tol=tol,  # tol=0: |change| < 0 never holds, so exactly max_iter iterations
        max_iter=max_iter,
        weights_init=phi,
        means_init=mu,
        precisions_init=sklearn_precisions(Sigma, covariance_type),
        init_params="random_from_data",  # ignored: every parameter is given
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gm.fit(X)


def scipy_log_joint(X, phi, mu, Sigma):
    """(n, k) array of log phi_j + log N(x_i | mu_j, Sigma_j) by scipy.stats.multivariate_normal."""
    return np.log(phi) + np.stack([multivariate_normal(m, S).logpdf(X) for m, S in zip(mu, Sigma)], axis=1)


def scipy_elbo(X, phi, mu, Sigma, w):
    """sum_ij w_ij [log phi_j + log N(x_i | mu_j, Sigma_j) - log w_ij], with 0 log 0 = 0."""
    log_w = np.log(np.where(w > 0, w, 1.0))
    return np.sum(w * (scipy_log_joint(X, phi, mu, Sigma) - log_w))


@pytest.mark.parametrize("d", [1, 2, 5])
def test_log_gaussian_pdf_matches_scipy(d):
    rng = np.random.default_rng(d)
    X, mu, Sigma = rng.normal(size=(40, d)) * 3, rng.normal(size=d), random_spd(rng, d)
    logpdf = log_gaussian_pdf(X, mu, Sigma)
    assert logpdf.shape == (40,)
    np.testing.assert_allclose(logpdf, multivariate_normal(mu, Sigma).logpdf(X), rtol=1e-12)


def test_log_gaussian_pdf_far_away_is_finite():
    X = np.array([[1e6, -1e6], [0.0, 0.0]])
    logpdf = log_gaussian_pdf(X, np.zeros(2), np.eye(2))
    np.testing.assert_allclose(logpdf, [-1e12 - np.log(2 * np.pi), -np.log(2 * np.pi)], rtol=1e-14)


def test_e_step_matches_scipy_densities():
    X = mixture_sample(0, n=60)
    phi, mu, Sigma = start_of_type(X, "full", 0)
    joint = phi * np.stack([multivariate_normal(m, S).pdf(X) for m, S in zip(mu, Sigma)], axis=1)
    w = e_step(X, phi, mu, Sigma)
    assert w.shape == (60, 3)
    np.testing.assert_allclose(w, joint / joint.sum(axis=1, keepdims=True), rtol=1e-10, atol=1e-15)


def test_e_step_far_points_stay_finite():
    X = np.array([[50.0, 50.0], [-80.0, 10.0], [1e4, 1e4]])
    phi, mu, Sigma = np.array([0.3, 0.7]), np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([np.eye(2), np.eye(2)])
    with np.errstate(invalid="ignore"):
        assert np.all(multivariate_normal(mu[0]).pdf(X) == 0)  # densities underflow: 0 / 0 the naive way
    w = e_step(X, phi, mu, Sigma)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w, softmax(scipy_log_joint(X, phi, mu, Sigma), axis=1), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-15)


def test_far_point_goes_to_the_widest_component():
    Sigma = np.array([np.eye(2), 4 * np.eye(2), np.diag([1.0, 2.0])])
    w = e_step(np.array([[1e5, -3e5]]), np.array([0.5, 0.2, 0.3]), np.zeros((3, 2)), Sigma)
    np.testing.assert_array_equal(w, [[0.0, 1.0, 0.0]])


def test_log_likelihood_matches_scipy():
    X = mixture_sample(1)
    phi, mu, Sigma = start_of_type(X, "full", 1)
    ll = log_likelihood(X, phi, mu, Sigma)
    assert isinstance(ll, float)
    np.testing.assert_allclose(ll, logsumexp(scipy_log_joint(X, phi, mu, Sigma), axis=1).sum(), rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_m_step_matches_weighted_covariances(covariance_type):
    rng = np.random.default_rng(2)
    X, w = mixture_sample(2, n=100), rng.dirichlet(np.ones(3), size=100)
    phi, mu, Sigma = m_step(X, w, covariance_type=covariance_type)
    nk = w.sum(axis=0)
    full = np.stack([np.cov(X.T, aweights=w[:, j], bias=True) for j in range(3)])  # bias: divide by N_k
    expected = {
        "full": full,
        "diag": full * np.eye(3),
        "spherical": np.trace(full, axis1=1, axis2=2)[:, None, None] / 3 * np.eye(3),
        "tied": np.broadcast_to(np.einsum("k,kij->ij", nk / 100, full), (3, 3, 3)),
    }[covariance_type]
    np.testing.assert_allclose(phi, nk / 100, rtol=1e-12)
    np.testing.assert_allclose(mu, [np.average(X, axis=0, weights=w[:, j]) for j in range(3)], rtol=1e-12)
    np.testing.assert_allclose(Sigma, expected, rtol=1e-12, atol=1e-14)


def test_m_step_is_the_default_full_type():
    X, w = mixture_sample(3, n=50), np.random.default_rng(3).dirichlet(np.ones(2), size=50)
    for a, b in zip(m_step(X, w), m_step(X, w, covariance_type="full")):
        np.testing.assert_array_equal(a, b)


# scikit-learn's max_iter counts EM iterations, each an E-step on the current parameters followed by an
# M-step (reg_covar added); em_mog's max_iters counts the same iterations. From the same start, after m
# iterations both hold the parameters of the m-th M-step. scikit-learn's lower_bounds_[t] is the mean
# log-likelihood of the parameters its E-step of iteration t + 1 used, that is logliks[t] / n for t < m.
@pytest.mark.parametrize("max_iter", [1, 4, 25])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_mog_matches_sklearn(covariance_type, max_iter):
    X = mixture_sample(4)
    n, d = X.shape
    start = start_of_type(X, covariance_type, 4)
    ref = sklearn_em(X, start, covariance_type, max_iter)
    phi, mu, Sigma, w, logliks, elbos = em_mog(
        X, 3, max_iters=max_iter, tol=0, init=start, covariance_type=covariance_type
    )
    assert len(logliks) == max_iter + 1 and len(elbos) == max_iter
    np.testing.assert_allclose(phi, ref.weights_, rtol=1e-6)
    np.testing.assert_allclose(mu, ref.means_, rtol=1e-6)
    np.testing.assert_allclose(Sigma, sklearn_covariances(ref, 3, d), rtol=1e-6, atol=1e-12)
    per_sample = logsumexp(scipy_log_joint(X, phi, mu, Sigma), axis=1)  # of our parameters, by scipy
    np.testing.assert_allclose(per_sample, ref.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(logliks[-1], per_sample.sum(), rtol=1e-10)
    np.testing.assert_allclose(np.array(logliks[:-1]) / n, ref.lower_bounds_, rtol=1e-6)
    np.testing.assert_allclose(w, ref.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_mog_covariances_have_their_type(covariance_type):
    X = mixture_sample(5, n=200)
    Sigma = em_mog(X, 3, max_iters=5, init=start_of_type(X, "full", 5), covariance_type=covariance_type)[2]
    off_diagonal = Sigma * (1 - np.eye(3))
    if covariance_type in ("diag", "spherical"):
        assert np.all(off_diagonal == 0)
    if covariance_type == "spherical":
        np.testing.assert_allclose(np.diagonal(Sigma, axis1=1, axis2=2), Sigma[:, :1, 0] * np.ones(3), rtol=1e-15)
    if covariance_type == "tied":
        np.testing.assert_array_equal(Sigma, np.broadcast_to(Sigma[0], Sigma.shape))


def test_bishop_old_faithful_plateau():
    # Bishop's Fig. 9.8 starts from the centres of the k-means run of Fig. 9.1 with precisions proportional
    # to the identity; the book gives no numbers. We take the values commonly used to reproduce both
    # figures: centres (-1.5, 1.5) and (1.5, -1.5) on the standardised data, Sigma_j = 0.1 I, equal weights.
    X = faithful_standardised()
    n = len(X)
    start = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), np.array([0.1 * np.eye(2)] * 2))

    # The two components first settle on a symmetric, poor fit and then creep for ~25 iterations,
    # each gaining less than 1e-3 per point, before they split the two clusters. With its default
    # tol=1e-3 (a change of the mean log-likelihood), scikit-learn stops on that plateau.
    early = sklearn_em(X, start, "full", max_iter=100, tol=1e-3)
    assert early.converged_ and early.n_iter_ < 10
    assert -2.0 < early.score(X) < -1.98  # measured: -1.9927 after 6 iterations

    # em_mog's tol is on the total log-likelihood; tol = 1e-3 n is scikit-learn's criterion. scikit-learn
    # checks the change of the previous iteration (its lower bound lags one M-step), so it stops one
    # iteration after em_mog, and its lower_bound_ is em_mog's last log-likelihood.
    logliks = em_mog(X, 2, tol=1e-3 * n, init=start)[4]
    assert len(logliks) - 1 == early.n_iter_ - 1
    np.testing.assert_allclose(logliks[-1] / n, early.lower_bound_, rtol=1e-9)

    # With tol=1e-6 it climbs off the plateau to the optimum.
    phi, mu, _, _, logliks, _ = em_mog(X, 2, tol=1e-6, init=start)
    optimum = sklearn_em(X, start, "full", max_iter=1000, tol=1e-6)
    assert 40 < len(logliks) - 1 < 60  # measured: 47 iterations (scikit-learn at tol=1e-6: 46)
    np.testing.assert_allclose(logliks[-1] / n, -1.41713, atol=1e-5)
    np.testing.assert_allclose(logliks[-1] / n, optimum.score(X), rtol=1e-8)
    gains = np.diff(logliks) / n
    assert np.sum(gains[:30] < 1e-3) >= 20  # the plateau it did not stop on
    # the same optimum, to the precision either stopping rule leaves (they stop one iteration apart)
    order, ref_order = np.argsort(phi), np.argsort(optimum.weights_)  # short eruptions: about 36% of the points
    np.testing.assert_allclose(phi[order], optimum.weights_[ref_order], rtol=1e-4)
    np.testing.assert_allclose(mu[order], optimum.means_[ref_order], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reg_covar", [1e-6, 0.0])
@pytest.mark.parametrize("seed", range(4))
def test_loglik_history_never_decreases_and_elbos_interleave(seed, reg_covar):
    X = mixture_sample(seed, n=300)
    logliks, elbos = em_mog(X, 4, max_iters=200, tol=0, rng=np.random.default_rng(seed), reg_covar=reg_covar)[4:]
    logliks, elbos = np.array(logliks), np.array(elbos)
    assert len(logliks) == len(elbos) + 1 > 20
    slack = 1e-9 * np.abs(logliks[1:])
    assert np.all(np.diff(logliks) >= -slack)
    # the M-step raises the ELBO above the last log-likelihood, the E-step lifts it to the new one
    assert np.all(elbos >= logliks[:-1] - slack)
    assert np.all(elbos <= logliks[1:] + slack)


def test_elbos_match_an_independent_computation():
    X = mixture_sample(6, n=200)
    start = start_of_type(X, "full", 6)
    *before, w_before, logliks, _ = em_mog(X, 3, max_iters=2, tol=0, init=start)
    phi, mu, Sigma, w, _, elbos = em_mog(X, 3, max_iters=3, tol=0, init=start)
    # the ELBO of iteration 3: the new parameters with the responsibilities of the parameters of iteration 2
    np.testing.assert_allclose(elbos[-1], scipy_elbo(X, phi, mu, Sigma, w_before), rtol=1e-10)
    # right after an E-step the ELBO equals the log-likelihood
    np.testing.assert_allclose(scipy_elbo(X, *before, w_before), logliks[-1], rtol=1e-10)
    np.testing.assert_allclose(w, e_step(X, phi, mu, Sigma), rtol=1e-12, atol=1e-300)


def test_em_mog_loglik_history_starts_at_the_start():
    X = mixture_sample(7, n=200)
    start = start_of_type(X, "full", 7)
    phi, mu, Sigma, _, logliks, _ = em_mog(X, 3, max_iters=3, init=start)
    assert len(logliks) == 4
    np.testing.assert_allclose(logliks[0], logsumexp(scipy_log_joint(X, *start), axis=1).sum(), rtol=1e-12)
    np.testing.assert_allclose(logliks[-1], logsumexp(scipy_log_joint(X, phi, mu, Sigma), axis=1).sum(), rtol=1e-12)


def test_em_mog_stops_at_first_gain_below_tol():
    X = mixture_sample(8)
    start = start_of_type(X, "full", 8)
    full = np.array(em_mog(X, 3, max_iters=200, tol=0, init=start)[4])
    gains = np.diff(full)
    tol = gains[8] * 1.001  # the gain of an early iteration, loosened past rounding
    stop = int(np.argmax(gains < tol)) + 1  # the first iteration that gains less than tol
    logliks = em_mog(X, 3, tol=tol, init=start)[4]
    assert len(logliks) == stop + 1
    np.testing.assert_allclose(logliks, full[: stop + 1], rtol=1e-13)


def test_reg_covar_is_added_after_every_m_step():
    # a component that owns three copies of one point: its maximum-likelihood covariance is 0
    rng = np.random.default_rng(9)
    X = np.vstack([rng.normal(size=(50, 2)), np.full((3, 2), 20.0)])
    start = (np.array([0.5, 0.5]), np.array([[0.0, 0.0], [20.0, 20.0]]), np.array([np.eye(2), np.eye(2)]))
    Sigma = em_mog(X, 2, max_iters=3, tol=0, init=start, reg_covar=1e-4)[2]
    np.testing.assert_allclose(Sigma[1], 1e-4 * np.eye(2), rtol=1e-10, atol=1e-15)
    with pytest.raises(ValueError, match=r"covariance of component 1 is not positive definite.*increase reg_covar"):
        em_mog(X, 2, max_iters=3, tol=0, init=start, reg_covar=0.0)


def test_em_mog_without_init_is_reproducible_and_finds_separated_clusters():
    rng = np.random.default_rng(10)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = centres[np.arange(300) % 3] + rng.normal(size=(300, 2))
    a = em_mog(X, 3, rng=np.random.default_rng(1))
    b = em_mog(X, 3, rng=np.random.default_rng(1))
    for x, y in zip(a[:4], b[:4]):
        np.testing.assert_array_equal(x, y)
    distances = np.linalg.norm(centres[:, None] - a[1][None], axis=2)  # (true centre, component)
    assert sorted(distances.argmin(axis=1)) == [0, 1, 2]  # one component per cluster
    assert distances.min(axis=1).max() < 0.3
    np.testing.assert_allclose(a[0], 1 / 3, atol=0.01)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_mog_without_init_starts_from_data_covariance(covariance_type):
    X = mixture_sample(11, n=200)
    logliks = em_mog(X, 3, max_iters=1, rng=np.random.default_rng(0), covariance_type=covariance_type)[4]
    assert np.all(np.isfinite(logliks)) and logliks[1] >= logliks[0]


def test_em_mog_does_not_modify_its_input():
    X = mixture_sample(12, n=100)
    start = start_of_type(X, "full", 12)
    copies = [a.copy() for a in start]
    em_mog(X, 3, max_iters=5, init=start)
    for a, b in zip(start, copies):
        np.testing.assert_array_equal(a, b)


def test_sample_gmm_moments_and_component_frequencies():
    rng = np.random.default_rng(13)
    phi = np.array([0.2, 0.5, 0.3])
    mu = np.array([[0.0, 0.0], [5.0, -1.0], [-3.0, 4.0]])
    Sigma = np.array([[[1.0, 0.8], [0.8, 1.0]], [[2.0, -0.5], [-0.5, 0.5]], [[0.3, 0.0], [0.0, 3.0]]])
    n = 200_000
    X, z = sample_gmm(phi, mu, Sigma, n, rng)
    assert X.shape == (n, 2) and z.shape == (n,) and np.issubdtype(z.dtype, np.integer)
    # frequencies: binomial, standard deviation at most 0.0012 here
    np.testing.assert_allclose(np.bincount(z, minlength=3) / n, phi, atol=0.005)
    for j in range(3):
        Xj = X[z == j]
        np.testing.assert_allclose(Xj.mean(axis=0), mu[j], atol=0.03)  # standard error at most 0.008
        np.testing.assert_allclose(np.cov(Xj.T), Sigma[j], atol=0.05)
    # the mixture as a whole: mean sum phi_j mu_j, covariance sum phi_j (Sigma_j + mu_j mu_j^T) - m m^T
    m = phi @ mu
    cov = np.einsum("k,kij->ij", phi, Sigma + np.einsum("ki,kj->kij", mu, mu)) - np.outer(m, m)
    np.testing.assert_allclose(X.mean(axis=0), m, atol=0.05)
    np.testing.assert_allclose(np.cov(X.T), cov, rtol=0.03, atol=0.05)


def test_sample_gmm_is_reproducible_and_zero_weight_is_never_drawn():
    phi, mu, Sigma = np.array([0.6, 0.0, 0.4]), np.zeros((3, 2)), np.array([np.eye(2)] * 3)
    X, z = sample_gmm(phi, mu, Sigma, 1000, np.random.default_rng(0))
    X2, z2 = sample_gmm(phi, mu, Sigma, 1000, np.random.default_rng(0))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(z, z2)
    assert 1 not in z
    assert sample_gmm(phi, mu, Sigma, 0, np.random.default_rng(0))[0].shape == (0, 2)


# ---- bad inputs ------------------------------------------------------------------------------------

X5 = np.arange(10.0).reshape(5, 2)
PHI, MU, SIGMA = np.array([0.5, 0.5]), np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([np.eye(2), np.eye(2)])
NOT_PD = np.array([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]])  # eigenvalues 3 and -1
NOT_SYMMETRIC = np.array([np.eye(2), [[1.0, 0.5], [0.0, 1.0]]])

BAD_PARAMS = [
    ((np.array([0.5, 0.6]), MU, SIGMA), "phi must sum to 1; it sums to 1.1"),
    ((np.array([1.5, -0.5]), MU, SIGMA), "component 1 has weight -0.5"),
    ((np.array([[0.5, 0.5]]), MU, SIGMA), "phi must be a non-empty 1-D array"),
    ((PHI, MU[:1], SIGMA), r"mu must have shape \(2, 2\)"),
    ((PHI, np.zeros((2, 3)), SIGMA), r"mu must have shape \(2, 2\)"),
    ((PHI, MU, SIGMA[:, :1]), r"Sigma must have shape \(2, 2, 2\)"),
    ((PHI, np.array([[0.0, np.nan], [1.0, 1.0]]), SIGMA), "mu contains NaN"),
    ((PHI, MU, NOT_PD), "covariance of component 1 is not positive definite"),
    ((PHI, MU, NOT_SYMMETRIC), "covariance of component 1 is not symmetric"),
]
BAD_IDS = ["phi-sum", "phi-negative", "phi-2d", "mu-k", "mu-d", "Sigma-shape", "mu-nan", "not-pd", "not-symmetric"]


@pytest.mark.parametrize(("params", "match"), BAD_PARAMS, ids=BAD_IDS)
@pytest.mark.parametrize(
    "call",
    [
        lambda params: e_step(X5, *params),
        lambda params: log_likelihood(X5, *params),
        lambda params: em_mog(X5, 2, init=params),
        lambda params: sample_gmm(*params, 10, np.random.default_rng(0)),
    ],
    ids=["e_step", "log_likelihood", "em_mog", "sample_gmm"],
)
def test_bad_parameters_raise(call, params, match):
    with pytest.raises(ValueError, match=match):
        call(params)


@pytest.mark.parametrize(
    ("mu", "Sigma", "match"),
    [
        (np.zeros(3), np.eye(2), r"mu must have shape \(2,\)"),
        (np.zeros(2), np.eye(3), r"Sigma must have shape \(2, 2\)"),
        (np.zeros(2), np.array([[1.0, 0.0], [0.0, 0.0]]), "Sigma is not positive definite"),
        (np.zeros(2), np.array([[1.0, 1.0], [0.0, 1.0]]), "Sigma is not symmetric"),
    ],
    ids=["mu", "Sigma", "singular", "not-symmetric"],
)
def test_log_gaussian_pdf_bad_input_raises(mu, Sigma, match):
    with pytest.raises(ValueError, match=match):
        log_gaussian_pdf(X5, mu, Sigma)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize(
    "call",
    [
        lambda X: log_gaussian_pdf(X, MU[0], SIGMA[0]),
        lambda X: e_step(X, PHI, MU, SIGMA),
        lambda X: m_step(X, np.full((len(X), 2), 0.5)),
        lambda X: log_likelihood(X, PHI, MU, SIGMA),
        lambda X: em_mog(X, 2, rng=np.random.default_rng(0)),
    ],
    ids=["log_gaussian_pdf", "e_step", "m_step", "log_likelihood", "em_mog"],
)
def test_non_finite_X_raises(call, bad):
    X = X5.copy()
    X[3, 0] = bad
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        call(X)


def test_k_larger_than_n_raises():
    with pytest.raises(ValueError, match=r"^k=6 is larger than the number of points \(5\)$"):
        em_mog(X5, 6, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("w", "match"),
    [
        (np.full((4, 2), 0.5), r"w must have shape \(5, k\)"),
        (np.array([[0.5, 0.5]] * 4 + [[0.5, 0.4]]), "row 4 sums to 0.9"),
        (np.array([[1.5, -0.5]] + [[0.5, 0.5]] * 4), "non-negative"),
        (np.array([[1.0, 0.0]] * 5), r"component 1 has no responsibility for any point \(N_k = 0\)"),
    ],
    ids=["rows", "row-sum", "negative", "empty-component"],
)
def test_m_step_bad_w_raises(w, match):
    with pytest.raises(ValueError, match=match):
        m_step(X5, w)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"covariance_type": "banded"}, "covariance_type must be one of 'full', 'diag', 'spherical', 'tied'"),
        ({"max_iters": 0}, "max_iters must be a positive integer"),
        ({"tol": -1.0}, "tol must be a non-negative number"),
        ({"reg_covar": -1e-6}, "reg_covar must be a non-negative number"),
        ({"init": (PHI, MU)}, r"init must be a tuple \(phi, mu, Sigma\)"),
    ],
    ids=["covariance_type", "max_iters", "tol", "reg_covar", "init"],
)
def test_em_mog_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        em_mog(X5, 2, rng=np.random.default_rng(0), **kwargs)


def test_m_step_bad_covariance_type_raises():
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        m_step(X5, np.full((5, 2), 0.5), covariance_type="Full")
