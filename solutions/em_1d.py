"""EM for a mixture of K one-dimensional Gaussians (Bishop, PRML section 9.2.2, in one dimension).

The parameters are the means m_j, the standard deviations s_j (not variances) and the mixing
weights w_j of p(x) = sum_j w_j N(x | m_j, s_j^2).
"""

import numpy as np

LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
SUM_TOL = 1e-8  # how far from 1 the weights, or a row of responsibilities, may sum


def _validate_x(x):
    """Return x as a finite float array of shape (n,)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array of shape (n,); got {x.ndim} dimension(s) with shape {x.shape}")
    if x.size == 0:
        raise ValueError("x has no points (n = 0)")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity: remove or impute those values first")
    return x


def _validate_params(means, sigmas, weights):
    """Return means, sigmas and weights as float arrays of the same shape (K,), checking their values."""
    means, sigmas, weights = (np.asarray(a, dtype=float) for a in (means, sigmas, weights))
    for name, a in (("means", means), ("sigmas", sigmas), ("weights", weights)):
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D array of shape (K,); got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinity")
    if not means.shape == sigmas.shape == weights.shape:
        raise ValueError(
            f"means, sigmas and weights must have one entry per component; got lengths "
            f"{means.size}, {sigmas.size} and {weights.size}"
        )
    if np.any(sigmas <= 0):
        j = int(np.argmax(sigmas <= 0))
        raise ValueError(f"sigmas must be positive standard deviations; component {j} has sigma = {sigmas[j]:g}")
    if np.any(weights < 0):
        j = int(np.argmax(weights < 0))
        raise ValueError(f"weights must be non-negative; component {j} has weight {weights[j]:g}")
    if abs(weights.sum() - 1.0) > SUM_TOL:
        raise ValueError(f"weights must sum to 1; they sum to {weights.sum():.10g}")
    return means, sigmas, weights


def _validate_resp(resp, n):
    """Return resp as a float array of shape (n, K) whose rows are probability vectors."""
    resp = np.asarray(resp, dtype=float)
    if resp.ndim != 2 or resp.shape[0] != n or resp.shape[1] == 0:
        raise ValueError(f"resp must have shape ({n}, K), one row per point; got {resp.shape}")
    if not np.all(np.isfinite(resp)):
        raise ValueError("resp contains NaN or infinity")
    if np.any(resp < 0):
        raise ValueError("resp must be non-negative: responsibilities are probabilities")
    sums = resp.sum(axis=1)
    bad = np.abs(sums - 1.0) > SUM_TOL
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"rows of resp must sum to 1 (over components, axis=1); row {i} sums to {sums[i]:.10g}")
    return resp


def _log_joint(x, means, sigmas, weights):
    """log w_j + log N(x_i | m_j, s_j^2) as an array of shape (K, n).

    Written out rather than taken from scipy.stats.norm.pdf: the density of a point a few dozen
    standard deviations from every component underflows to 0, its logarithm does not.
    """
    with np.errstate(divide="ignore"):  # a weight of 0 gives log 0 = -inf: that component takes no point
        offset = np.log(weights) - np.log(sigmas) - LOG_SQRT_2PI
    out = x[None, :] - means[:, None]  # then in place: one (K, n) array, however large n is
    out /= sigmas[:, None]
    out *= out
    out *= -0.5
    out += offset[:, None]
    return out


def _normalise(log_joint):
    """Responsibilities (K, n) and log p(x_i) (n,) from the log joint, by log-sum-exp over components.

    Subtracting each point's largest term before exponentiating keeps the largest exp at 1, so the
    sum is at least 1: no 0 / 0 for points far from every component.
    """
    top = log_joint.max(axis=0)
    resp = np.exp(log_joint - top)
    total = resp.sum(axis=0)
    resp /= total
    return resp, top + np.log(total)


def _m_step(x, resp_kn):
    """Maximum-likelihood means, standard deviations and weights from responsibilities of shape (K, n)."""
    nk = resp_kn.sum(axis=1)  # effective number of points of each component
    if np.any(nk <= 0):
        j = int(np.argmax(nk <= 0))
        raise ValueError(
            f"component {j} has no responsibility for any point (N_k = 0), so its mean is undefined: "
            "start it nearer the data or use fewer components"
        )
    means = resp_kn @ x / nk
    variances = np.einsum("kn,kn->k", resp_kn, (x[None, :] - means[:, None]) ** 2) / nk  # divide by N_k
    return means, np.sqrt(variances), nk / x.size


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
    x = _validate_x(x)
    means, sigmas, weights = _validate_params(means, sigmas, weights)
    return _normalise(_log_joint(x, means, sigmas, weights))[0].T


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
    x = _validate_x(x)
    resp = _validate_resp(resp, x.size)
    return _m_step(x, resp.T)


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
    x = _validate_x(x)
    means, sigmas, weights = _validate_params(means, sigmas, weights)
    return float(_normalise(_log_joint(x, means, sigmas, weights))[1].sum())


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
    x = _validate_x(x)
    means, sigmas, weights = _validate_params(means, sigmas, weights)
    if int(max_iters) != max_iters or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer; got {max_iters!r}")
    if not tol >= 0:  # also refuses NaN
        raise ValueError(f"tol must be a non-negative number; got {tol!r}")
    resp, log_px = _normalise(_log_joint(x, means, sigmas, weights))
    logliks = [float(log_px.sum())]
    for iteration in range(1, max_iters + 1):
        means, sigmas, weights = _m_step(x, resp)
        if np.any(sigmas == 0):
            j = int(np.argmax(sigmas == 0))
            # N(x | m, s) grows without bound as s -> 0 at x = m: the likelihood has no maximum there
            raise ValueError(
                f"component {j} collapsed onto a single point (sigma = 0) in iteration {iteration}, where the "
                "likelihood is unbounded: start from other parameters or use fewer components"
            )
        resp, log_px = _normalise(_log_joint(x, means, sigmas, weights))  # the next E-step, and L
        logliks.append(float(log_px.sum()))
        if logliks[-1] - logliks[-2] < tol:
            break
    return means, sigmas, weights, logliks


if __name__ == "__main__":  # python -m solutions.em_1d [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("em_1d"))
