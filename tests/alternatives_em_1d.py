"""Correct implementations of lesson 2 written differently from the reference (loops, lists, float32,
a hand-written density, norm.pdf where it cannot underflow)."""

import math

import numpy as np
from scipy.stats import norm


def e_step_1d(x, means, sigmas, weights):
    resp = []
    for xi in x:  # log w_j + log N(x_i | m_j, s_j^2) by hand, then a log-sum-exp of our own
        a = [
            math.log(w) - math.log(s) - 0.5 * math.log(2 * math.pi) - 0.5 * ((xi - m) / s) ** 2
            for m, s, w in zip(means, sigmas, weights)
        ]
        top = max(a)
        total = sum(math.exp(aj - top) for aj in a)
        resp.append([math.exp(aj - top) / total for aj in a])
    return resp


def m_step_1d(x, resp):
    x, resp = np.asarray(x, dtype=np.float32), np.asarray(resp, dtype=np.float32)
    means, sigmas, weights = [], [], []
    for j in range(resp.shape[1]):
        nk = resp[:, j].sum()
        m = (resp[:, j] * x).sum() / nk
        means.append(m)
        sigmas.append(np.sqrt((resp[:, j] * (x - m) ** 2).sum() / nk))
        weights.append(nk / len(x))
    return np.array(means), np.array(sigmas), np.array(weights)


def log_likelihood_1d(x, means, sigmas, weights):
    x = np.asarray(x)[:, None]
    return np.sum(np.log(np.sum(np.asarray(weights) * norm.pdf(x, means, sigmas), axis=1)))  # a NumPy scalar


def em_1d(x, means, sigmas, weights, max_iters=100, tol=1e-6):
    logliks = [log_likelihood_1d(x, means, sigmas, weights)]
    while len(logliks) <= max_iters:
        means, sigmas, weights = m_step_1d(x, e_step_1d(x, means, sigmas, weights))
        logliks.append(log_likelihood_1d(x, means, sigmas, weights))
        if logliks[-1] - logliks[-2] < tol:
            break
    return list(means), list(sigmas), list(weights), logliks
