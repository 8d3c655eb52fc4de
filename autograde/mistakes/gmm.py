"""Lesson 3 mistakes. Each function is named <exercise>__<mistake id>; other exercises' names
resolve to correct functions (the reference here, the notebook's own when submitted in a notebook)."""

import numpy as np
from scipy.special import logsumexp

from solutions.gmm import e_step, log_gaussian_pdf, log_likelihood, m_step


def _wrong_quadratic(X, mu, P):
    diff = np.asarray(X, dtype=float) - np.asarray(mu, dtype=float)
    return np.einsum("nd,de,ne->n", diff, P, diff)


def log_gaussian_pdf__sigma_not_inverted(X, mu, Sigma):
    d = len(mu)
    return -0.5 * (d * np.log(2 * np.pi) + np.linalg.slogdet(Sigma)[1] + _wrong_quadratic(X, mu, Sigma))


def log_gaussian_pdf__logdet_no_half(X, mu, Sigma):
    d = len(mu)
    return -0.5 * (d * np.log(2 * np.pi) + _wrong_quadratic(X, mu, np.linalg.inv(Sigma))) - np.linalg.slogdet(Sigma)[1]


def log_gaussian_pdf__no_2pi(X, mu, Sigma):
    return -0.5 * (np.linalg.slogdet(Sigma)[1] + _wrong_quadratic(X, mu, np.linalg.inv(Sigma)))


def _wrong_log_joint(X, phi, mu, Sigma):
    return np.column_stack([np.log(phi[j]) + log_gaussian_pdf(X, mu[j], Sigma[j]) for j in range(len(phi))])


def e_step__prob_space(X, phi, mu, Sigma):
    p = np.exp(_wrong_log_joint(X, phi, mu, Sigma))
    with np.errstate(invalid="ignore", divide="ignore"):
        return p / p.sum(axis=1, keepdims=True)


def e_step__wrong_axis(X, phi, mu, Sigma):
    log_prob = _wrong_log_joint(X, phi, mu, Sigma)
    return np.exp(log_prob - logsumexp(log_prob, axis=0, keepdims=True))


def _wrong_m_step(X, w, mean_norm="nk", cov_norm="nk", weighted=True, centred=True, phi_norm=True):
    X, w = np.asarray(X, dtype=float), np.asarray(w, dtype=float)
    n, d = X.shape
    nk = w.sum(axis=0)
    mu = (w.T @ X) / (nk[:, None] if mean_norm == "nk" else n)
    Sigma = np.empty((len(nk), d, d))
    for j in range(len(nk)):
        diff = X - mu[j] if centred else X
        weights = w[:, j] if weighted else np.ones(n)
        Sigma[j] = (weights[:, None] * diff).T @ diff / (nk[j] if cov_norm == "nk" else n)
    return (nk / n if phi_norm else nk), mu, Sigma


def m_step__unweighted_cov(X, w):
    return _wrong_m_step(X, w, weighted=False)


def m_step__no_centering(X, w):
    return _wrong_m_step(X, w, centred=False)


def m_step__mean_over_n(X, w):
    return _wrong_m_step(X, w, mean_norm="n")


def m_step__cov_over_n(X, w):
    return _wrong_m_step(X, w, cov_norm="n")


def m_step__phi_counts(X, w):
    return _wrong_m_step(X, w, phi_norm=False)


def log_likelihood__mean_loglik(X, phi, mu, Sigma):
    return float(np.mean(logsumexp(_wrong_log_joint(X, phi, mu, Sigma), axis=1)))


def log_likelihood__sum_of_logs(X, phi, mu, Sigma):
    return float(np.sum(_wrong_log_joint(X, phi, mu, Sigma)))


def _wrong_em(X, phi, mu, Sigma, max_iters, tol, reg_covar):
    X = np.asarray(X, dtype=float)
    logliks, elbos = [log_likelihood(X, phi, mu, Sigma)], []
    for _ in range(max_iters):
        w = e_step(X, phi, mu, Sigma)
        phi, mu, Sigma = m_step(X, w)
        Sigma = Sigma + reg_covar * np.eye(X.shape[1])
        log_prob = np.column_stack([np.log(phi[j]) + log_gaussian_pdf(X, mu[j], Sigma[j]) for j in range(len(phi))])
        elbos.append(float(np.sum(w * (log_prob - np.log(np.where(w > 0, w, 1.0))))))
        logliks.append(log_likelihood(X, phi, mu, Sigma))
        if logliks[-1] - logliks[-2] < tol:
            break
    return phi, mu, Sigma, e_step(X, phi, mu, Sigma), logliks, elbos


def em_mog__init_ignored(X, k, max_iters=100, tol=1e-6, rng=None, init=None, reg_covar=1e-6):
    X = np.asarray(X, dtype=float)
    rng = rng or np.random.default_rng()
    mu = X[rng.choice(len(X), size=k, replace=False)]
    Sigma = np.stack([np.cov(X.T, bias=True) + reg_covar * np.eye(X.shape[1])] * k)
    return _wrong_em(X, np.full(k, 1.0 / k), mu, Sigma, max_iters, tol, reg_covar)


def em_mog__one_iteration(X, k, max_iters=100, tol=1e-6, rng=None, init=None, reg_covar=1e-6):
    phi, mu, Sigma = (np.asarray(a, dtype=float) for a in init)
    return _wrong_em(X, phi, mu, Sigma, 1, tol, reg_covar)


def _wrong_sample(phi, mu, Sigma, n, rng, probabilities=True, factor="cholesky", generator=True):
    phi, mu, Sigma = (np.asarray(a, dtype=float) for a in (phi, mu, Sigma))
    draw = rng if generator else np.random  # the global generator is the mistake itself
    k, d = mu.shape
    z = draw.choice(k, size=n, p=phi if probabilities else None)
    L = np.linalg.cholesky(Sigma)
    F = {
        "cholesky": L,
        "identity": np.broadcast_to(np.eye(d), L.shape),
        "sigma": Sigma,
        "transposed": np.swapaxes(L, 1, 2),
    }
    return mu[z] + np.einsum("nij,nj->ni", F[factor][z], draw.standard_normal((n, d))), z


def sample_gmm__ignores_phi(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, probabilities=False)


def sample_gmm__ignores_sigma(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, factor="identity")


def sample_gmm__sigma_as_factor(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, factor="sigma")


def sample_gmm__factor_transposed(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, factor="transposed")


def sample_gmm__global_random(phi, mu, Sigma, n, rng):
    return _wrong_sample(phi, mu, Sigma, n, rng, generator=False)
