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
from scipy.linalg import solve_triangular
from scipy.special import logsumexp

from helpers import validate

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
    validate.functions(e_step=e_step, m_step=m_step, elbo=elbo)
    validate.iterations(max_iters, tol)
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
def _log_joint(X, phi, mu, Sigma):
    """log phi_j + log N(x_i | mu_j, Sigma_j) for every point and component, shape (n, k)."""
    n, d = X.shape
    log_joint = np.empty((n, len(phi)))
    for j in range(len(phi)):  # a loop over components, never over points
        L = np.linalg.cholesky(Sigma[j])  # Sigma_j = L L^T: log|Sigma_j| = 2 sum log L_ii
        y = solve_triangular(L, (X - mu[j]).T, lower=True)  # ||y_i||^2 = (x_i - mu_j)^T Sigma_j^-1 (x_i - mu_j)
        log_joint[:, j] = -0.5 * (d * np.log(2 * np.pi) + 2 * np.sum(np.log(np.diag(L))) + np.sum(y**2, axis=0))
    with np.errstate(divide="ignore"):  # a weight of 0 gives -inf: that component takes no point
        return log_joint + np.log(phi)


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
    X = validate.data(X, k)
    (n, d), k = X.shape, int(k)
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
    X = validate.data(X)
    log_joint = _log_joint(X, *validate.mixture_params(params, X.shape[1]))
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))  # normalised in log space


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
    X = validate.data(X)
    Q = validate.responsibilities(Q, X.shape[0], "Q", every_component=True)
    (n, d), Nk = X.shape, Q.sum(axis=0)  # N_j, the effective number of points of component j
    mu = Q.T @ X / Nk[:, None]
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
    X = validate.data(X)
    phi, mu, Sigma = validate.mixture_params(params, X.shape[1])
    Q = validate.responsibilities(Q, X.shape[0], "Q", k=len(phi))
    log_joint = _log_joint(X, phi, mu, Sigma)
    held = Q > 0  # terms with Q_ij = 0 contribute 0 (0 log 0 = 0, and 0 times log phi_j = -inf too)
    return float(np.sum(Q[held] * (log_joint[held] - np.log(Q[held]))))


if __name__ == "__main__":  # python -m solutions.general_em [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("general_em"))
