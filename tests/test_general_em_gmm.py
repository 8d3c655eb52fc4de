"""Lesson 4's Gaussian mixture steps (solutions/general_em.py): gmm_initialize, gmm_e_step, gmm_m_step and gmm_elbo.

gmm_initialize against its contract (valid parameters, k distinct data rows chosen uniformly -- a chi-square
test --, the data's covariance, reproducible from its rng alone); gmm_e_step against scipy.stats densities;
gmm_m_step against numpy's weighted statistics; gmm_elbo with one-hot Q against the complete-data log-likelihood
by scipy.stats, and with a zero-weight component against the mixture of the remaining ones.

Tests that take ``impl`` run on the reference and on the correct alternatives declared in
autograde/lessons/general_em.py.
"""

import numpy as np
import pytest
from scipy.stats import chisquare, multivariate_normal

from solutions.general_em import REG_COVAR
from tests.samples import (
    IMPLEMENTATIONS,
    as_arrays,
    mixture_sample,
    random_params,
    scipy_elbo,
    scipy_log_likelihood,
    scipy_posterior,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")


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
