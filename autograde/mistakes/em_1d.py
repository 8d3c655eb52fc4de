"""Lesson 2 mistakes. Each function is named <exercise>__<mistake id>; other exercises' names
resolve to correct functions (the reference here, the notebook's own when submitted in a notebook)."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

from solutions.em_1d import e_step_1d, log_likelihood_1d, m_step_1d


def e_step_1d__variance_as_scale(x, means, sigmas, weights):
    p = np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, np.asarray(sigmas) ** 2)
    with np.errstate(invalid="ignore"):  # far points: 0 / 0
        return p / p.sum(axis=1, keepdims=True)


def e_step_1d__no_weights(x, means, sigmas, weights):
    p = norm.pdf(np.asarray(x)[:, None], means, sigmas)
    with np.errstate(invalid="ignore"):  # far points: 0 / 0
        return p / p.sum(axis=1, keepdims=True)


def e_step_1d__wrong_axis(x, means, sigmas, weights):
    p = np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, sigmas)
    return p / p.sum(axis=0, keepdims=True)


def e_step_1d__unnormalised(x, means, sigmas, weights):
    return np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, sigmas)


def e_step_1d__underflow(x, means, sigmas, weights):
    p = np.asarray(weights) * norm.pdf(np.asarray(x)[:, None], means, sigmas)  # 0 for every j far from all
    with np.errstate(invalid="ignore"):
        return p / p.sum(axis=1, keepdims=True)


def _weighted_stats(x, resp):
    """Means, sum_i resp_ij (x_i - m_j)^2 and N_j, as the reference computes them."""
    x, resp = np.asarray(x, dtype=float), np.asarray(resp, dtype=float)
    nk = resp.sum(axis=0)
    means = resp.T @ x / nk
    return means, (resp * (x[:, None] - means) ** 2).sum(axis=0), nk


def m_step_1d__sigma_as_variance(x, resp):
    means, scatter, nk = _weighted_stats(x, resp)
    return means, scatter / nk, nk / len(x)


def m_step_1d__weights_not_normalised(x, resp):
    means, scatter, nk = _weighted_stats(x, resp)
    return means, np.sqrt(scatter / nk), nk


def m_step_1d__unweighted_means(x, resp):
    x, resp = np.asarray(x, dtype=float), np.asarray(resp, dtype=float)
    nk = resp.sum(axis=0)
    means = np.full(resp.shape[1], x.mean())
    return means, np.sqrt((resp * (x[:, None] - means) ** 2).sum(axis=0) / nk), nk / len(x)


def m_step_1d__wrong_denominator(x, resp):
    means, scatter, nk = _weighted_stats(x, resp)
    return means, np.sqrt(scatter / (nk - 1)), nk / len(x)


def log_likelihood_1d__sum_of_logs(x, means, sigmas, weights):
    return float(np.sum(np.log(weights) + norm.logpdf(np.asarray(x)[:, None], means, sigmas)))


def log_likelihood_1d__mean_loglik(x, means, sigmas, weights):
    return float(np.mean(logsumexp(np.log(weights) + norm.logpdf(np.asarray(x)[:, None], means, sigmas), axis=1)))


def em_1d__one_iteration(x, means, sigmas, weights, max_iters=100, tol=1e-6):
    logliks = [log_likelihood_1d(x, means, sigmas, weights)]
    means, sigmas, weights = m_step_1d(x, e_step_1d(x, means, sigmas, weights))
    logliks.append(log_likelihood_1d(x, means, sigmas, weights))
    return means, sigmas, weights, logliks
