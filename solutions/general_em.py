"""The general EM algorithm: coordinate ascent on the evidence lower bound (Bishop, PRML section 9.4).

For any Q(Z) over the latent variables, log p(X | theta) = ELBO(Q, theta) + KL(Q || p(Z | X, theta)), with

    ELBO(Q, theta) = sum_Z Q(Z) [log p(X, Z | theta) - log Q(Z)].

The E-step sets Q to the posterior p(Z | X, theta), so that KL = 0 and the bound touches the
log-likelihood; the M-step maximises the bound over theta. A model enters ``general_em`` as three
functions: ``e_step(X, params) -> Q``, ``m_step(X, Q) -> params`` and ``elbo(X, params, Q) -> float``.

The Gaussian mixture in this framework (``gmm_*``) reproduces ``em_mog`` of lesson 3 (reg_covar 1e-6)
iteration for iteration.
"""

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.special import logsumexp

REG_COVAR = 1e-6  # added to every covariance's diagonal after each M-step, as em_mog's default


def general_em(X, init_params, e_step, m_step, elbo=None, max_iters=100, tol=1e-6):
    """Run EM for any model given by its E-step, M-step and ELBO.

    Parameters
    ----------
    X : any
        The data, passed unchanged to the three functions.
    init_params : any
        The starting parameters.
    e_step : callable
        ``e_step(X, params) -> Q``, the posterior over the latent variables.
    m_step : callable
        ``m_step(X, Q) -> params``, the parameters that maximise the ELBO for this Q.
    elbo : callable, optional
        ``elbo(X, params, Q) -> float``. Without it the loop stops on the parameters instead: after the first
        iteration that changes no parameter by more than tol (the largest absolute change of any number in
        params, which may be a number, an array, or a dict, list or tuple of them).
    max_iters : int, default=100
        Most iterations (one E-step and one M-step each), at least 1.
    tol : float, default=1e-6
        Stop after the first iteration whose ELBO exceeds the previous one by less than tol.

    Returns
    -------
    params : the parameters after the last M-step.
    Q : the last E-step's posterior (the one the last M-step used).
    elbos : list of float
        ``elbo(X, params, Q)`` after every iteration's M-step; never decreasing when the M-step
        maximises the bound (a regularised M-step, like gmm_m_step's REG_COVAR, may lose a little).
        Empty when no elbo is given.
    n_iters : int
        Number of iterations run (``len(elbos)`` when an elbo is given).
    """
    for name, fn in (("e_step", e_step), ("m_step", m_step), ("elbo", elbo)):
        if not callable(fn) and not (name == "elbo" and fn is None):
            raise TypeError(f"{name} must be a function; got {type(fn).__name__}")
    if isinstance(max_iters, bool) or not isinstance(max_iters, (int, np.integer)) or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer; got {max_iters!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0; got {tol!r}")
    params, Q, elbos = init_params, None, []
    for n_iters in range(1, int(max_iters) + 1):  # noqa: B007 (n_iters is returned)
        Q = e_step(X, params)  # E: the bound touches log p(X | params)
        old, params = params, m_step(X, Q)  # M: the bound rises, and the log-likelihood with it
        if elbo is None:
            if _largest_change(old, params) < tol:
                break
            continue
        elbos.append(float(elbo(X, params, Q)))
        if np.isnan(elbos[-1]):
            raise ValueError(f"the ELBO of iteration {len(elbos)} is NaN: check the model's three functions")
        if len(elbos) > 1 and elbos[-1] - elbos[-2] < tol:
            break
    return params, Q, elbos, n_iters


def _largest_change(old, new):
    """The largest absolute difference of two parameter sets: numbers, arrays, or dicts, lists or tuples of them."""
    if isinstance(new, dict):
        return max((_largest_change(old[key], value) for key, value in new.items()), default=0.0)
    if isinstance(new, (list, tuple)):
        return max((_largest_change(a, b) for a, b in zip(old, new)), default=0.0)
    return float(np.max(np.abs(np.asarray(new, dtype=float) - np.asarray(old, dtype=float)), initial=0.0))


# ---------------------------------------------------------------------------- the Gaussian mixture
def _points(X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D array of shape (n, d); got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity: remove or impute those values first")
    return X


def _log_joint(X, params):
    """(n, k): log phi_j + log N(x_i | mu_j, Sigma_j), through Cholesky factors of the covariances."""
    X = _points(X)
    if not isinstance(params, dict) or not {"phi", "mu", "Sigma"} <= params.keys():
        raise ValueError('params must be a dict with the keys "phi", "mu" and "Sigma"')
    phi, mu, Sigma = (np.asarray(params[key], dtype=float) for key in ("phi", "mu", "Sigma"))
    (n, d), k = X.shape, len(phi)
    if phi.ndim != 1 or mu.shape != (k, d) or Sigma.shape != (k, d, d):
        raise ValueError(
            f"params must hold phi (k,), mu (k, {d}) and Sigma (k, {d}, {d}); "
            f"got {phi.shape}, {mu.shape} and {Sigma.shape}"
        )
    if not all(np.all(np.isfinite(a)) for a in (phi, mu, Sigma)):
        raise ValueError("params contain NaN or infinity")
    if np.any(phi < 0) or abs(phi.sum() - 1) > 1e-6:
        raise ValueError(f"phi must be non-negative and sum to 1; got {phi}")
    if np.any(np.abs(Sigma - Sigma.swapaxes(1, 2)) > 1e-8 * np.abs(Sigma).max()):
        raise ValueError("every Sigma[j] must be symmetric (equal to its transpose)")
    log_prob = np.empty((n, k))
    for j in range(k):  # a loop over components, never over points
        try:
            L = cholesky(Sigma[j], lower=True)
        except np.linalg.LinAlgError:
            raise ValueError(f"Sigma[{j}] is not positive definite") from None
        y = solve_triangular(L, (X - mu[j]).T, lower=True)  # y^T y = (x - mu)^T Sigma^-1 (x - mu)
        log_det = 2 * np.sum(np.log(np.diag(L)))
        log_prob[:, j] = -0.5 * (d * np.log(2 * np.pi) + log_det + np.sum(y**2, axis=0))
    with np.errstate(divide="ignore"):
        return log_prob + np.log(phi)  # a weight of 0 gives -inf: that component takes no point


def _posterior_of(Q, n, k=None):
    """Q as a float array of shape (n, k) whose rows are probability vectors."""
    Q = np.asarray(Q, dtype=float)
    if Q.ndim != 2 or Q.shape[0] != n or Q.shape[1] == 0 or (k is not None and Q.shape[1] != k):
        raise ValueError(f"Q must have shape ({n}, {k or 'k'}), one row per point; got {Q.shape}")
    if not np.all(np.isfinite(Q)) or np.any(Q < 0) or not np.allclose(Q.sum(axis=1), 1, rtol=0, atol=1e-6):
        raise ValueError("Q must be finite and non-negative, each row summing to 1 over the components")
    return Q


def gmm_initialize(X, k, rng=None):
    """Starting parameters of a k-component Gaussian mixture.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
        Number of components, 1 <= k <= n.
    rng : numpy.random.Generator, optional
        The only source of randomness; a fresh generator (np.random.default_rng()) when omitted.

    Returns
    -------
    params : dict
        ``"phi"``: equal weights 1/k, shape (k,); ``"mu"``: k distinct rows of X chosen uniformly at
        random, shape (k, d); ``"Sigma"``: the covariance of the data plus REG_COVAR on the diagonal,
        for every component, shape (k, d, d).
    """
    X = _points(X)
    n, d = X.shape
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= n:
        raise ValueError(f"k must be an integer between 1 and the number of points ({n}); got {k!r}")
    k = int(k)
    rng = np.random.default_rng() if rng is None else rng
    Sigma = np.cov(X.T, bias=True).reshape(d, d) + REG_COVAR * np.eye(d)
    return {
        "phi": np.full(k, 1 / k),
        "mu": X[rng.choice(n, size=k, replace=False)].copy(),
        "Sigma": np.repeat(Sigma[None], k, axis=0),
    }


def gmm_e_step(X, params):
    """The posterior over the components of every point: Q[i, j] = p(z_i = j | x_i, params).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    params : dict with "phi" (k,), "mu" (k, d), "Sigma" (k, d, d)

    Returns
    -------
    Q : ndarray of shape (n, k)
        Rows sum to 1; computed in log space (finite for points far from every component).
    """
    log_prob = _log_joint(X, params)
    return np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))


def gmm_m_step(X, Q):
    """The parameters that maximise the ELBO for the posterior Q (Bishop eqs. 9.17-9.22).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    Q : ndarray of shape (n, k)
        Rows sum to 1; every component needs some weight (N_j > 0).

    Returns
    -------
    params : dict
        ``"phi"`` = N_j / n, ``"mu"`` the Q-weighted means, ``"Sigma"`` the Q-weighted covariances
        (divided by N_j) plus REG_COVAR on the diagonal, as em_mog does after its M-step.
    """
    X = _points(X)
    Q = _posterior_of(Q, X.shape[0])
    (n, d) = X.shape
    Nk = Q.sum(axis=0)
    if np.any(Nk <= 0):
        raise ValueError(f"component {int(np.argmax(Nk <= 0))} has no weight in Q (N_j = 0): it cannot be updated")
    mu = (Q.T @ X) / Nk[:, None]
    Sigma = np.empty((len(Nk), d, d))
    for j in range(len(Nk)):
        diff = X - mu[j]
        Sigma[j] = (Q[:, j, None] * diff).T @ diff / Nk[j] + REG_COVAR * np.eye(d)
    return {"phi": Nk / n, "mu": mu, "Sigma": Sigma}


def gmm_elbo(X, params, Q):
    """The evidence lower bound of a Gaussian mixture for the posterior Q.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    params : dict with "phi" (k,), "mu" (k, d), "Sigma" (k, d, d)
    Q : ndarray of shape (n, k)

    Returns
    -------
    elbo : float
        sum_ij Q_ij [log phi_j + log N(x_i | mu_j, Sigma_j) - log Q_ij], with 0 log 0 = 0: the
        expected complete-data log-likelihood plus the entropy of Q. It equals the log-likelihood
        when Q is the E-step's posterior for these params, and is lower for any other Q.
    """
    log_prob = _log_joint(X, params)
    Q = _posterior_of(Q, *log_prob.shape)
    held = Q > 0  # terms with Q_ij = 0 contribute 0 (0 log 0 = 0, and 0 times log phi_j = -inf too)
    return float(np.sum(Q[held] * (log_prob[held] - np.log(Q[held]))))


if __name__ == "__main__":  # python -m solutions.general_em [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("general_em"))
