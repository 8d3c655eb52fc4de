"""Synthetic data, parameters and independent references shared by several test modules (not a test module).

random_spd, mixture_sample and faithful_standardised serve tests/test_gmm.py and the tests/test_general_em_*.py
modules; the rest serves the latter: IMPLEMENTATIONS (lesson 4's reference and the correct alternatives declared in
autograde/lessons/general_em.py), scipy.stats references for a Gaussian mixture's densities, posterior and ELBO, and
a scripted toy model for general_em.
"""

import types

import numpy as np
import pytest
from scipy.special import logsumexp, softmax
from scipy.stats import multivariate_normal

from autograde.lessons import exercises
from helpers import load_faithful
from solutions import general_em as reference

# every exercise's first declared alternative, under the exercise's name, as the reference module holds them
alternative = types.SimpleNamespace(**{ex.name: ex.alternatives[0] for ex in exercises("general_em")})
IMPLEMENTATIONS = [pytest.param(reference, id="reference"), pytest.param(alternative, id="alternative")]


# ---- data ------------------------------------------------------------------------------------------------


def random_spd(rng, d):
    A = rng.normal(size=(d, d))
    return A @ A.T + 0.5 * np.eye(d)


def mixture_sample(seed, n=500):
    """n points in 3-D from three overlapping, anisotropic Gaussians, drawn with numpy alone."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0, 0.0], [3.0, 1.0, -1.0], [-2.0, 3.0, 1.0]])
    factors = np.stack([np.linalg.cholesky(random_spd(rng, 3)) for _ in range(3)])
    z = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    return means[z] + np.einsum("nij,nj->ni", factors[z], rng.standard_normal((n, 3)))


def faithful_standardised():
    X = load_faithful()
    return (X - X.mean(axis=0)) / X.std(axis=0)  # population standard deviation


# ---- Gaussian mixture parameters and scipy.stats references ----------------------------------------------


def random_params(X, k, seed):
    """A start {"phi", "mu", "Sigma"} with unequal weights, means at data points and random covariances."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    return {
        "phi": rng.dirichlet(np.full(k, 5.0)),
        "mu": X[rng.choice(len(X), size=k, replace=False)],
        "Sigma": np.stack([random_spd(rng, d) for _ in range(k)]),
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


def run_gmm(impl, X, init, **kwargs):
    return impl.general_em(X, init, impl.gmm_e_step, impl.gmm_m_step, impl.gmm_elbo, **kwargs)


# ---- a scripted model for general_em: the loop itself ----------------------------------------------------

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
