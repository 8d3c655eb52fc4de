"""EM for a mixture of K one-dimensional Gaussians (Bishop, PRML section 9.2.2, in one dimension).

The parameters are the means m_j, the standard deviations s_j (not variances) and the mixing
weights w_j of p(x) = sum_j w_j N(x | m_j, s_j^2).
"""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

from helpers import validate


def e_step_1d(x, means, sigmas, weights):
    """Responsibilities of a mixture of 1-D Gaussians (E-step).

    Parameters
    ----------
    x : ndarray of shape (n,)
    means : ndarray of shape (K,)
    sigmas : ndarray of shape (K,)
        Standard deviations, positive.
    weights : ndarray of shape (K,)
        Mixing weights, non-negative, summing to 1.

    Returns
    -------
    resp : ndarray of shape (n, K)
        resp[i, j] = w_j N(x_i | m_j, s_j^2) / sum_l w_l N(x_i | m_l, s_l^2); rows sum to 1. Computed
        in log space, so they stay finite for points far from every component.
    """
    x = validate.samples_1d(x)
    means, sigmas, weights = validate.params_1d(means, sigmas, weights)
    # log w_j + log N(x_i | m_j, s_j^2), shape (n, K): norm takes the standard deviation as its scale
    with np.errstate(divide="ignore"):  # a weight of 0 gives log 0 = -inf: that component takes no point
        log_joint = np.log(weights) + norm.logpdf(x[:, None], loc=means, scale=sigmas)
    # divide by the sum over components in log space: the densities of a far point underflow, their logs do not
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))


def m_step_1d(x, resp):
    """Maximum-likelihood parameters given the responsibilities (M-step).

    Parameters
    ----------
    x : ndarray of shape (n,)
    resp : ndarray of shape (n, K)
        Non-negative, rows summing to 1; every component needs some responsibility (N_k > 0).

    Returns
    -------
    means : ndarray of shape (K,)
        m_j = sum_i resp[i, j] x_i / N_j, with N_j = sum_i resp[i, j].
    sigmas : ndarray of shape (K,)
        s_j = sqrt(sum_i resp[i, j] (x_i - m_j)^2 / N_j): divided by N_j, not N_j - 1.
    weights : ndarray of shape (K,)
        w_j = N_j / n.
    """
    x = validate.samples_1d(x)
    resp = validate.responsibilities(resp, x.size, every_component=True)
    Nk = resp.sum(axis=0)  # effective number of points of each component
    means = resp.T @ x / Nk
    sigmas = np.sqrt(np.sum(resp * (x[:, None] - means) ** 2, axis=0) / Nk)  # divided by N_k, not N_k - 1
    return means, sigmas, Nk / x.size


def log_likelihood_1d(x, means, sigmas, weights):
    """Log-likelihood of the data under a mixture of 1-D Gaussians.

    Parameters
    ----------
    x : ndarray of shape (n,)
    means, sigmas, weights : ndarray of shape (K,)
        As in e_step_1d.

    Returns
    -------
    loglik : float
        sum_i log sum_j w_j N(x_i | m_j, s_j^2), a sum over points (not a mean).
    """
    x = validate.samples_1d(x)
    means, sigmas, weights = validate.params_1d(means, sigmas, weights)
    with np.errstate(divide="ignore"):  # a weight of 0 gives log 0 = -inf: that component adds nothing
        log_joint = np.log(weights) + norm.logpdf(x[:, None], loc=means, scale=sigmas)
    return float(np.sum(logsumexp(log_joint, axis=1)))  # sum_i log sum_j w_j N(x_i | m_j, s_j^2)


def em_1d(x, means, sigmas, weights, max_iters=100, tol=1e-6):
    """EM for a mixture of 1-D Gaussians from the given parameters.

    Each iteration is one E-step on the current parameters followed by one M-step.

    Parameters
    ----------
    x : ndarray of shape (n,)
    means, sigmas, weights : ndarray of shape (K,)
        Starting parameters, as in e_step_1d.
    max_iters : int, default=100
        Most iterations.
    tol : float, default=1e-6
        Stop after the first iteration that raises the log-likelihood (the sum over points, as
        log_likelihood_1d returns it) by less than tol.

    Returns
    -------
    means, sigmas, weights : ndarray of shape (K,)
        The parameters after the last M-step.
    logliks : list of float
        The log-likelihood of the starting parameters, then of the parameters after each iteration:
        one more entry than iterations run. It never decreases.
    """
    x = validate.samples_1d(x)
    means, sigmas, weights = validate.params_1d(means, sigmas, weights)
    validate.iterations(max_iters, tol)
    logliks = [log_likelihood_1d(x, means, sigmas, weights)]
    for iteration in range(1, max_iters + 1):
        resp = e_step_1d(x, means, sigmas, weights)  # E: responsibilities under the current parameters
        means, sigmas, weights = m_step_1d(x, resp)  # M: the parameters that maximise the expected log-likelihood
        validate.not_collapsed(sigmas, iteration)
        logliks.append(log_likelihood_1d(x, means, sigmas, weights))  # never lower than the one before
        if logliks[-1] - logliks[-2] < tol:
            break
    return means, sigmas, weights, logliks


if __name__ == "__main__":  # python -m solutions.em_1d [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("em_1d"))
