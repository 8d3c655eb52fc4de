"""Lesson 2 reference (solutions/em_1d.py) against closed forms, scipy.stats and scikit-learn's GaussianMixture."""

import warnings

import numpy as np
import pytest
from scipy.special import expit, logsumexp
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from solutions.em_1d import e_step_1d, em_1d, log_likelihood_1d, m_step_1d
from solutions.gmm import em_mog

pytestmark = pytest.mark.usefixtures("one_blas_thread")

WORKED = dict(means=[0.0, 1.0], sigmas=[1.0, 1.0], weights=[0.5, 0.5])  # x = 2 under N(0, 1) and N(1, 1)


def mixture_sample(seed, n=400):
    """n points from 0.5 N(-2, 1) + 0.3 N(1.5, 0.5^2) + 0.2 N(4, 1.5^2), drawn with numpy alone."""
    rng = np.random.default_rng(seed)
    z = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    return np.array([-2.0, 1.5, 4.0])[z] + np.array([1.0, 0.5, 1.5])[z] * rng.standard_normal(n)


START = dict(means=np.array([-1.0, 0.0, 1.0]), sigmas=np.array([2.0, 1.0, 0.5]), weights=np.array([0.3, 0.3, 0.4]))


def scipy_log_likelihood(x, means, sigmas, weights):
    """sum_i log sum_j w_j N(x_i | m_j, s_j^2) with scipy's log-density."""
    return logsumexp(np.log(weights) + norm.logpdf(np.asarray(x)[:, None], means, sigmas), axis=1).sum()


def sklearn_em(x, start, max_iter):
    """scikit-learn's EM on x[:, None] from the same start, with nothing added to the variances."""
    gm = GaussianMixture(
        len(start["means"]),
        covariance_type="full",
        reg_covar=0.0,
        tol=0.0,  # |change| < 0 never holds: exactly max_iter iterations
        max_iter=max_iter,
        weights_init=start["weights"],
        means_init=np.asarray(start["means"])[:, None],
        precisions_init=(1.0 / np.asarray(start["sigmas"]) ** 2)[:, None, None],
        init_params="random_from_data",  # ignored: every parameter is given
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never "converges"
        return gm.fit(x[:, None])


def test_worked_example_by_hand():
    # p1 = N(2 | 0, 1) = exp(-2) / sqrt(2 pi), p2 = N(2 | 1, 1) = exp(-1/2) / sqrt(2 pi), and with equal
    # weights the responsibility of the first is p1 / (p1 + p2) = 1 / (1 + e^{3/2})
    p1, p2 = np.exp(-2.0) / np.sqrt(2 * np.pi), np.exp(-0.5) / np.sqrt(2 * np.pi)
    assert (round(p1, 4), round(p2, 4), round(p1 / (p1 + p2), 4)) == (0.0540, 0.2420, 0.1824)
    resp = e_step_1d(np.array([2.0]), **WORKED)
    assert resp.shape == (1, 2)
    assert round(resp[0, 0], 4) == 0.1824
    np.testing.assert_allclose(resp[0], [1 / (1 + np.exp(1.5)), 1 / (1 + np.exp(-1.5))], rtol=1e-14)
    np.testing.assert_allclose(log_likelihood_1d([2.0], **WORKED), np.log(0.5 * p1 + 0.5 * p2), rtol=1e-14)


def test_e_step_1d_matches_scipy_norm_pdf():
    x = mixture_sample(0, n=50)
    joint = START["weights"] * norm.pdf(x[:, None], START["means"], START["sigmas"])
    resp = e_step_1d(x, **START)
    assert resp.shape == (50, 3)
    np.testing.assert_allclose(resp, joint / joint.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-15)


def test_e_step_1d_far_points_stay_finite():
    x = np.array([40.0, -60.0, 1e4])
    with np.errstate(invalid="ignore"):
        naive = norm.pdf(x[:, None], [0.0, 1.0], 1.0)
        assert np.all(naive == 0)  # both densities underflow: p1 / (p1 + p2) would be 0 / 0
    resp = e_step_1d(x, **WORKED)
    # log p2 - log p1 = (x^2 - (x - 1)^2) / 2 = x - 1/2, so the first responsibility is expit(1/2 - x)
    np.testing.assert_allclose(resp[:, 0], expit(0.5 - x), rtol=1e-12)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-15)


def test_far_point_goes_to_the_widest_component():
    resp = e_step_1d(np.array([1e6]), means=[0.0, 5.0, 10.0], sigmas=[1.0, 3.0, 2.0], weights=[0.2, 0.1, 0.7])
    np.testing.assert_array_equal(resp, [[0.0, 1.0, 0.0]])


def test_zero_weight_component_takes_no_point():
    resp = e_step_1d(mixture_sample(1, n=30), means=[0.0, 1.0], sigmas=[1.0, 1.0], weights=[0.0, 1.0])
    np.testing.assert_array_equal(resp, np.tile([0.0, 1.0], (30, 1)))


def test_log_likelihood_1d_matches_scipy():
    x = mixture_sample(2)
    ll = log_likelihood_1d(x, **START)
    assert isinstance(ll, float)
    np.testing.assert_allclose(ll, scipy_log_likelihood(x, **START), rtol=1e-13)


def test_m_step_1d_matches_weighted_statistics():
    rng = np.random.default_rng(3)
    x, resp = mixture_sample(3, n=100), rng.dirichlet(np.ones(4), size=100)
    means, sigmas, weights = m_step_1d(x, resp)
    expected_means = [np.average(x, weights=r) for r in resp.T]
    expected_sigmas = [np.sqrt(np.cov(x, aweights=r, bias=True)) for r in resp.T]  # bias: divide by N_k
    np.testing.assert_allclose(means, expected_means, rtol=1e-12)
    np.testing.assert_allclose(sigmas, expected_sigmas, rtol=1e-12)
    np.testing.assert_allclose(weights, resp.mean(axis=0), rtol=1e-12)


def test_m_step_1d_one_hot_gives_group_mean_and_population_std():
    x = mixture_sample(4, n=60)
    labels = np.arange(60) % 3
    means, sigmas, weights = m_step_1d(x, np.eye(3)[labels])
    np.testing.assert_allclose(means, [x[labels == j].mean() for j in range(3)], rtol=1e-12)
    np.testing.assert_allclose(sigmas, [x[labels == j].std() for j in range(3)], rtol=1e-12)  # ddof=0
    np.testing.assert_allclose(weights, 1 / 3, rtol=1e-15)


# scikit-learn's max_iter counts EM iterations, each an E-step on the current parameters followed by an
# M-step; em_1d's max_iters counts the same iterations. From the same start, after m iterations both
# hold the parameters of the m-th M-step. scikit-learn's lower_bounds_[t] is the mean log-likelihood of
# the parameters its E-step of iteration t + 1 used, that is logliks[t] / n for t < m.
@pytest.mark.parametrize("max_iter", [1, 5, 40])
@pytest.mark.parametrize("seed", [0, 1])
def test_em_1d_matches_sklearn(seed, max_iter):
    x = mixture_sample(seed)
    ref = sklearn_em(x, START, max_iter)
    means, sigmas, weights, logliks = em_1d(x, **START, max_iters=max_iter, tol=0)
    assert len(logliks) == max_iter + 1
    np.testing.assert_allclose(weights, ref.weights_, rtol=1e-6)
    np.testing.assert_allclose(means, ref.means_[:, 0], rtol=1e-6)
    np.testing.assert_allclose(sigmas**2, ref.covariances_[:, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(np.array(logliks[:-1]) / x.size, ref.lower_bounds_, rtol=1e-6)
    np.testing.assert_allclose(logliks[-1], ref.score_samples(x[:, None]).sum(), rtol=1e-6)


def test_em_1d_equals_em_mog_in_one_dimension():
    x = mixture_sample(5)
    init = (START["weights"], START["means"][:, None], (START["sigmas"] ** 2)[:, None, None])
    means, sigmas, weights, logliks = em_1d(x, **START, max_iters=30, tol=0)
    phi, mu, Sigma, _, logliks_mog, _ = em_mog(x[:, None], 3, max_iters=30, tol=0, init=init, reg_covar=0.0)
    np.testing.assert_allclose(weights, phi, rtol=1e-10)
    np.testing.assert_allclose(means, mu[:, 0], rtol=1e-10)
    np.testing.assert_allclose(sigmas**2, Sigma[:, 0, 0], rtol=1e-10)
    np.testing.assert_allclose(logliks, logliks_mog, rtol=1e-12)


def test_loglik_history_starts_at_the_start_and_ends_at_the_result():
    x = mixture_sample(6)
    means, sigmas, weights, logliks = em_1d(x, **START, max_iters=3, tol=0)
    assert len(logliks) == 4  # the start, then one per iteration
    np.testing.assert_allclose(logliks[0], scipy_log_likelihood(x, **START), rtol=1e-13)
    np.testing.assert_allclose(logliks[-1], scipy_log_likelihood(x, means, sigmas, weights), rtol=1e-13)


@pytest.mark.parametrize("seed", range(5))
def test_loglik_history_never_decreases(seed):
    x = mixture_sample(seed)
    start = dict(means=np.sort(x[:4]), sigmas=np.ones(4), weights=np.full(4, 0.25))
    logliks = np.array(em_1d(x, **start, max_iters=300, tol=0)[3])
    assert len(logliks) > 20
    assert np.all(np.diff(logliks) >= -1e-9 * np.abs(logliks[1:]))


def test_em_1d_stops_at_first_gain_below_tol():
    x = mixture_sample(7)
    full = np.array(em_1d(x, **START, max_iters=200, tol=0)[3])
    gains = np.diff(full)
    tol = gains[10] * 1.001  # the gain of an early iteration, loosened past rounding
    stop = int(np.argmax(gains < tol)) + 1  # the first iteration that gains less than tol
    logliks = em_1d(x, **START, tol=tol)[3]
    assert len(logliks) == stop + 1
    np.testing.assert_allclose(logliks, full[: stop + 1], rtol=1e-14)


def test_em_1d_does_not_modify_its_input():
    start = {name: value.copy() for name, value in START.items()}
    em_1d(mixture_sample(8), **start, max_iters=5)
    for name, value in START.items():
        np.testing.assert_array_equal(start[name], value)


def test_em_1d_reports_a_collapsed_component():
    # the first component starts narrow on x = 0 and keeps only that point: its sigma becomes 0
    x = np.array([0.0, 5.0, 6.0, 7.0])
    with pytest.raises(ValueError, match="component 0 collapsed onto a single point"):
        em_1d(x, means=[0.0, 6.0], sigmas=[1e-3, 1.0], weights=[0.5, 0.5])


X4 = np.array([0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(means=[0.0, 1.0], sigmas=[1.0], weights=[0.5, 0.5]), "one entry per component"),
        (dict(means=[[0.0, 1.0]], sigmas=[1.0, 1.0], weights=[0.5, 0.5]), r"means must be a non-empty 1-D"),
        (dict(means=[], sigmas=[], weights=[]), "non-empty"),
        (dict(means=[0.0, 1.0], sigmas=[1.0, 0.0], weights=[0.5, 0.5]), "component 1 has sigma = 0"),
        (dict(means=[0.0, 1.0], sigmas=[-1.0, 1.0], weights=[0.5, 0.5]), "sigmas must be positive"),
        (dict(means=[0.0, 1.0], sigmas=[1.0, 1.0], weights=[0.5, 0.6]), "weights must sum to 1; they sum to 1.1"),
        (dict(means=[0.0, 1.0], sigmas=[1.0, 1.0], weights=[1.5, -0.5]), "component 1 has weight -0.5"),
        (dict(means=[0.0, np.nan], sigmas=[1.0, 1.0], weights=[0.5, 0.5]), "means contains NaN"),
    ],
    ids=["lengths", "means-2d", "empty", "zero-sigma", "negative-sigma", "weights-sum", "negative-weight", "nan"],
)
@pytest.mark.parametrize("call", [e_step_1d, log_likelihood_1d, em_1d], ids=["e_step_1d", "log_likelihood_1d", "em_1d"])
def test_bad_parameters_raise(call, params, match):
    with pytest.raises(ValueError, match=match):
        call(X4, **params)


def test_weights_within_rounding_of_one_are_accepted():
    e_step_1d(X4, means=[0.0, 1.0], sigmas=[1.0, 1.0], weights=[0.5, 0.5 + 1e-12])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize(
    "call",
    [
        lambda x: e_step_1d(x, **WORKED),
        lambda x: log_likelihood_1d(x, **WORKED),
        lambda x: em_1d(x, **WORKED),
        lambda x: m_step_1d(x, np.full((len(x), 2), 0.5)),
    ],
    ids=["e_step_1d", "log_likelihood_1d", "em_1d", "m_step_1d"],
)
def test_non_finite_x_raises(call, bad):
    x = X4.copy()
    x[2] = bad
    with pytest.raises(ValueError, match="x contains NaN or infinity"):
        call(x)


@pytest.mark.parametrize(
    ("x", "match"),
    [(np.zeros((4, 1)), r"x must be a 1-D array of shape \(n,\)"), (np.zeros(0), r"x has no points \(n = 0\)")],
    ids=["2-D", "empty"],
)
def test_x_not_1d_or_empty_raises(x, match):
    with pytest.raises(ValueError, match=match):
        e_step_1d(x, **WORKED)


@pytest.mark.parametrize(
    ("resp", "match"),
    [
        (np.full((3, 2), 0.5), r"resp must have shape \(4, K\)"),
        (np.full(4, 1.0), r"resp must have shape \(4, K\)"),
        (np.array([[0.5, 0.5], [0.5, 0.5], [0.7, 0.5], [1.0, 0.0]]), "row 2 sums to 1.2"),
        (np.array([[1.5, -0.5], [0.5, 0.5], [0.5, 0.5], [1.0, 0.0]]), "non-negative"),
        (np.array([[1.0, 0.0]] * 4), r"component 1 has no responsibility for any point \(N_k = 0\)"),
    ],
    ids=["rows", "1-D", "row-sum", "negative", "empty-component"],
)
def test_m_step_1d_bad_resp_raises(resp, match):
    with pytest.raises(ValueError, match=match):
        m_step_1d(X4, resp)


@pytest.mark.parametrize(("kwargs", "match"), [({"max_iters": 0}, "max_iters"), ({"tol": -1.0}, "tol")])
def test_em_1d_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        em_1d(X4, **WORKED, **kwargs)
