"""Lesson 4 mistakes. Each function is named <exercise>__<mistake id>; other exercises' names
resolve to correct functions (the reference here, the notebook's own when submitted in a notebook)."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


def _wrong_log_joint(X, params, weights=True):
    phi, mu, Sigma = (np.asarray(params[key], dtype=float) for key in ("phi", "mu", "Sigma"))
    log_pdf = np.column_stack([multivariate_normal(m, S).logpdf(X) for m, S in zip(mu, Sigma)])
    with np.errstate(divide="ignore"):  # a weight of 0: log 0 = -inf, as in the reference
        return log_pdf + np.log(phi) if weights else log_pdf


def _wrong_initialize(X, k, rng, random=True, normalised=True):
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    mu = X[rng.choice(len(X), size=k, replace=False)] if random else X[:k]
    Sigma = np.repeat((np.cov(X.T, bias=True).reshape(d, d) + 1e-6 * np.eye(d))[None], k, axis=0)
    return {"phi": np.full(k, 1 / k) if normalised else np.ones(k), "mu": mu.copy(), "Sigma": Sigma}


def gmm_initialize__init_not_random(X, k, rng):
    return _wrong_initialize(X, k, rng, random=False)


def gmm_initialize__init_global_random(X, k, rng):
    return _wrong_initialize(X, k, np.random, random=True)  # the global generator is the mistake itself


def gmm_initialize__init_weights_not_normalised(X, k, rng):
    return _wrong_initialize(X, k, rng, normalised=False)


def gmm_e_step__no_weights(X, params):
    log_prob = _wrong_log_joint(X, params, weights=False)
    return np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))


def gmm_m_step__unweighted_cov(X, Q):
    X, Q = np.asarray(X, dtype=float), np.asarray(Q, dtype=float)
    (n, d), nk = X.shape, Q.sum(axis=0)
    mu = (Q.T @ X) / nk[:, None]
    Sigma = np.stack([(X - m).T @ (X - m) / n + 1e-6 * np.eye(d) for m in mu])
    return {"phi": nk / n, "mu": mu, "Sigma": Sigma}


def gmm_elbo__no_entropy(X, params, Q):
    Q = np.asarray(Q, dtype=float)
    with np.errstate(invalid="ignore"):  # 0 * log 0 where a weight is 0: masked
        return float(np.sum(np.where(Q > 0, Q * _wrong_log_joint(X, params), 0.0)))


def gmm_elbo__entropy_sign(X, params, Q):
    Q = np.asarray(Q, dtype=float)
    safe = np.where(Q > 0, Q, 1.0)
    with np.errstate(invalid="ignore"):  # 0 * log 0 where a weight is 0: masked
        return float(np.sum(np.where(Q > 0, Q * (_wrong_log_joint(X, params) + np.log(safe)), 0.0)))


def gmm_elbo__zero_log_zero(X, params, Q):
    Q = np.asarray(Q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(Q * (_wrong_log_joint(X, params) - np.log(Q))))  # 0 * -inf = nan


def general_em__ignores_tol(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    params, elbos = init_params, []
    for _ in range(max_iters):
        Q = e_step(X, params)
        params = m_step(X, Q)
        elbos.append(float(elbo(X, params, Q)))
    return params, Q, elbos, len(elbos)


def general_em__no_alternation(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    params, elbos = init_params, []
    Q = e_step(X, params)
    for _ in range(max_iters):
        params = m_step(X, Q)
        elbos.append(float(elbo(X, params, Q)))
        if len(elbos) > 1 and elbos[-1] - elbos[-2] < tol:
            break
    return params, Q, elbos, len(elbos)
