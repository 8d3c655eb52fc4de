"""Correct lesson 4 implementations written differently from the reference (a while loop, loops over points,
lists, scipy.stats, float32 where it does no harm)."""

import math

import numpy as np
from scipy.stats import multivariate_normal

REG_COVAR = 1e-6


def general_em(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    params, Q, elbos = init_params, None, []
    converged = False
    while not converged and len(elbos) < max_iters:
        Q = e_step(X, params)
        params = m_step(X, Q)
        elbos.append(float(elbo(X, params, Q)))
        converged = len(elbos) >= 2 and elbos[-1] - elbos[-2] < tol
    return params, Q, elbos, len(elbos)


def gmm_initialize(X, k, rng):
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    rows = rng.permutation(n)[:k]
    centred = X - X.mean(axis=0)
    cov = np.zeros((d, d))
    for x in centred:  # the data's covariance, one point at a time
        cov += np.outer(x, x) / n
    cov = (cov + cov.T) / 2 + REG_COVAR * np.eye(d)
    return {
        "phi": [1.0 / k] * k,
        "mu": np.array([X[r] for r in rows]),
        "Sigma": np.array([cov] * k, dtype=np.float32),  # a starting guess: single precision is plenty
    }


def _log_joint_rows(X, params):
    """A list of n rows, each the k values log phi_j + log N(x_i | mu_j, Sigma_j), by scipy.stats."""
    phi, mu, Sigma = params["phi"], params["mu"], params["Sigma"]
    columns = []
    for j in range(len(phi)):
        log_phi = math.log(phi[j]) if phi[j] > 0 else -math.inf
        logpdf = np.atleast_1d(multivariate_normal(np.asarray(mu[j]), np.asarray(Sigma[j], dtype=float)).logpdf(X))
        columns.append([log_phi + v for v in logpdf.tolist()])
    return [list(row) for row in zip(*columns)]


def gmm_e_step(X, params):
    Q = []
    for row in _log_joint_rows(np.asarray(X, dtype=float), params):  # normalise each point in log space
        top = max(row)
        p = [math.exp(v - top) for v in row]
        total = sum(p)
        Q.append([v / total for v in p])
    return np.array(Q)


def gmm_m_step(X, Q):
    X, Q = np.asarray(X, dtype=float), np.asarray(Q, dtype=float)
    n, d = X.shape
    phi, mu, Sigma = [], [], []
    for j in range(Q.shape[1]):
        nk = 0.0
        s = np.zeros(d)
        for i in range(n):
            nk += Q[i, j]
            s += Q[i, j] * X[i]
        m = s / nk
        S = np.zeros((d, d))
        for i in range(n):
            S += Q[i, j] * np.outer(X[i] - m, X[i] - m)
        phi.append(nk / n)
        mu.append(m)
        Sigma.append(S / nk + REG_COVAR * np.eye(d))
    return {"phi": phi, "mu": mu, "Sigma": Sigma}


def gmm_elbo(X, params, Q):
    total = 0.0
    for row, q in zip(_log_joint_rows(np.asarray(X, dtype=float), params), np.asarray(Q, dtype=float).tolist()):
        for log_joint, q_ij in zip(row, q):
            if q_ij > 0:  # 0 log 0 = 0
                total += q_ij * (log_joint - math.log(q_ij))
    return total
