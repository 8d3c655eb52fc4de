"""EM for a mixture of multivariate Gaussians (Bishop, PRML sections 9.2 and 9.3.2).

The model is p(x) = sum_j phi_j N(x | mu_j, Sigma_j). Covariances are always returned as an array of
shape (k, d, d), whatever their type:

- ``"full"``: each component has its own covariance (the lesson's model);
- ``"diag"``: each component has its own diagonal covariance (axis-aligned ellipses);
- ``"spherical"``: each component has its own multiple of the identity, sigma_j^2 I (circles);
- ``"tied"``: all components share one full covariance (k equal matrices).

The restricted types are the maximum-likelihood estimates within their family, as in scikit-learn's
``GaussianMixture(covariance_type=...)``.
"""

import numpy as np
from scipy.special import logsumexp, xlogy

from helpers import validate
from helpers.seeding import kmeans_plusplus


def log_gaussian_pdf(X, mu, Sigma):
    """Log-density of a multivariate Gaussian at every point.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    mu : ndarray of shape (d,)
    Sigma : ndarray of shape (d, d)
        Symmetric positive-definite covariance.

    Returns
    -------
    logpdf : ndarray of shape (n,)
        log N(x_i | mu, Sigma) = -(d log(2 pi) + log|Sigma| + (x_i - mu)^T Sigma^{-1} (x_i - mu)) / 2,
        evaluated through the Cholesky factor of Sigma.
    """
    X = validate.data(X)
    mu, Sigma = validate.gaussian(mu, Sigma, X.shape[1])
    L = np.linalg.cholesky(Sigma)  # Sigma = L L^T, so Sigma^{-1} = L^{-T} L^{-1} and log|Sigma| = 2 sum log L_ii
    y = np.linalg.inv(L) @ (X - mu).T  # column i is L^{-1} (x_i - mu): ||y_i||^2 is the Mahalanobis term
    log_det = 2.0 * np.sum(np.log(np.diag(L)))
    return -0.5 * (X.shape[1] * np.log(2.0 * np.pi) + log_det + np.sum(y**2, axis=0))


def e_step(X, phi, mu, Sigma):
    """Responsibilities of a Gaussian mixture (E-step).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    phi : ndarray of shape (k,)
        Mixing weights, non-negative, summing to 1.
    mu : ndarray of shape (k, d)
    Sigma : ndarray of shape (k, d, d)
        Symmetric positive-definite covariances.

    Returns
    -------
    w : ndarray of shape (n, k)
        w[i, j] = p(z_i = j | x_i); rows sum to 1. Computed in log space, so they stay finite for
        points far from every component.
    """
    X = validate.data(X)
    phi, mu, Sigma = validate.mixture(phi, mu, Sigma, X.shape[1])
    with np.errstate(divide="ignore"):  # phi_j = 0 gives log 0 = -inf: that component takes no point
        # log phi_j + log N(x_i | mu_j, Sigma_j), shape (n, k): np.array(...).T puts component j in column j
        log_joint = np.log(phi) + np.array([log_gaussian_pdf(X, mu[j], Sigma[j]) for j in range(len(phi))]).T
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))  # eq. 9.23, in log space


def m_step(X, w, *, covariance_type="full"):
    """Maximum-likelihood parameters given the responsibilities (M-step).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    w : ndarray of shape (n, k)
        Non-negative, rows summing to 1; every component needs some responsibility (N_j > 0).
    covariance_type : {"full", "diag", "spherical", "tied"}, default="full"
        The family the covariances are estimated in (see the module's docstring).

    Returns
    -------
    phi : ndarray of shape (k,)
        phi_j = N_j / n, with N_j = sum_i w[i, j].
    mu : ndarray of shape (k, d)
        mu_j = sum_i w[i, j] x_i / N_j.
    Sigma : ndarray of shape (k, d, d)
        Sigma_j = sum_i w[i, j] (x_i - mu_j)(x_i - mu_j)^T / N_j (divided by N_j, not N_j - 1) for
        "full"; for the other types, the maximum-likelihood estimate within the type. Nothing is
        added to the diagonal (em_mog adds reg_covar).
    """
    X = validate.data(X)
    w = validate.responsibilities(w, X.shape[0], "w", every_component=True)
    covariance_type = validate.covariance_type(covariance_type)
    (n, d), k = X.shape, w.shape[1]
    nk = w.sum(axis=0)  # effective number of points of each component (eq. 9.27)
    mu = w.T @ X / nk[:, None]  # eq. 9.24
    Sigma = np.empty((k, d, d))
    for j in range(k):
        diff = X - mu[j]
        Sigma[j] = (w[:, j, None] * diff).T @ diff / nk[j]  # eq. 9.25: divided by N_j
    if covariance_type == "diag":  # the ML diagonal covariance keeps the variances
        Sigma = Sigma * np.eye(d)
    elif covariance_type == "spherical":  # the ML sigma_j^2 is their mean
        Sigma = np.trace(Sigma, axis1=1, axis2=2)[:, None, None] / d * np.eye(d)
    elif covariance_type == "tied":  # the ML shared covariance pools the components, weighted by N_j
        Sigma = np.repeat(np.tensordot(nk / n, Sigma, axes=1)[None], k, axis=0)
    return nk / n, mu, Sigma  # phi: eq. 9.26


def log_likelihood(X, phi, mu, Sigma):
    """Log-likelihood of the data under a Gaussian mixture.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    phi, mu, Sigma : as in e_step.

    Returns
    -------
    loglik : float
        sum_i log sum_j phi_j N(x_i | mu_j, Sigma_j), a sum over points (not a mean).
    """
    X = validate.data(X)
    phi, mu, Sigma = validate.mixture(phi, mu, Sigma, X.shape[1])
    with np.errstate(divide="ignore"):  # phi_j = 0 gives log 0 = -inf: that component adds nothing
        log_joint = np.log(phi) + np.array([log_gaussian_pdf(X, mu[j], Sigma[j]) for j in range(len(phi))]).T
    return float(np.sum(logsumexp(log_joint, axis=1)))  # eq. 9.28, each log sum_j in log space


def em_mog(X, k, max_iters=100, tol=1e-6, rng=None, init=None, reg_covar=1e-6, *, covariance_type="full"):
    """EM for a mixture of k Gaussians.

    Each iteration is one E-step on the current parameters followed by one M-step, after which
    reg_covar is added to every covariance's diagonal.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
        Number of components, 1 <= k <= n.
    max_iters : int, default=100
        Most iterations.
    tol : float, default=1e-6
        Stop after the first iteration that raises the log-likelihood (the sum over points, as
        log_likelihood returns it) by less than tol.
    rng : numpy.random.Generator, optional
        Used to initialise when init is None; a fresh default_rng() when both are None.
    init : tuple (phi, mu, Sigma), optional
        Starting parameters, shapes (k,), (k, d), (k, d, d); used as given (also when they are not
        of covariance_type). Without it: means at k-means++ seeds (drawn with rng), every covariance
        the data's own covariance (of covariance_type) plus reg_covar on the diagonal, equal weights.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance after each M-step, so that no component can shrink
        onto a single point (where the likelihood is unbounded).
    covariance_type : {"full", "diag", "spherical", "tied"}, default="full"
        The family the covariances are estimated in (see the module's docstring).

    Returns
    -------
    phi : ndarray of shape (k,)
    mu : ndarray of shape (k, d)
    Sigma : ndarray of shape (k, d, d)
        The parameters after the last M-step.
    w : ndarray of shape (n, k)
        Responsibilities for the returned parameters.
    logliks : list of float
        The log-likelihood L(theta_0) of the starting parameters, then L(theta_t) after each
        iteration t: one more entry than iterations run.
    elbos : list of float
        One per iteration: the ELBO sum_ij w_ij [log phi_j + log N(x_i | mu_j, Sigma_j) - log w_ij] of
        the new parameters theta_t with the responsibilities of the E-step before (those of
        theta_{t-1}). The E-step makes the ELBO equal to the log-likelihood, the M-step raises it,
        so logliks[t - 1] <= elbos[t - 1] <= logliks[t].
    """
    X = validate.data(X, k)
    validate.iterations(max_iters, tol)
    validate.reg_covar(reg_covar)
    covariance_type = validate.covariance_type(covariance_type)
    (n, d), ridge = X.shape, reg_covar * np.eye(X.shape[1])
    if init is None:  # k-means++ means, the data's covariance (one component's M-step) for all, equal weights
        rng = np.random.default_rng() if rng is None else rng
        Sigma = m_step(X, np.ones((n, 1)), covariance_type=covariance_type)[2] + ridge
        init = (np.full(k, 1.0 / k), kmeans_plusplus(X, k, rng), np.repeat(Sigma, k, axis=0))
    phi, mu, Sigma = validate.mixture(*validate.triple(init), d, k, name="init: ")
    w = e_step(X, phi, mu, Sigma)
    logliks, elbos = [log_likelihood(X, phi, mu, Sigma)], []
    for _ in range(max_iters):
        phi, mu, Sigma = m_step(X, w, covariance_type=covariance_type)
        Sigma = validate.covariances(Sigma + ridge)  # a component shrunk onto a point is singular
        log_joint = np.log(phi) + np.array([log_gaussian_pdf(X, mu[j], Sigma[j]) for j in range(k)]).T  # as in e_step
        elbos.append(float(np.sum(w * log_joint) - np.sum(xlogy(w, w))))  # old w, new parameters (eq. 9.71)
        # the next E-step (eq. 9.23) and log p(x_i) by log-sum-exp: shifted by each row's largest term, the
        # largest exp is 1, so no row sums to 0 even for points far from every component
        top = log_joint.max(axis=1, keepdims=True)
        p = np.exp(log_joint - top)
        w = p / p.sum(axis=1, keepdims=True)
        logliks.append(float(np.sum(top[:, 0] + np.log(p.sum(axis=1)))))
        if logliks[-1] - logliks[-2] < tol:
            break
    return phi, mu, Sigma, w, logliks, elbos


def sample_gmm(phi, mu, Sigma, n, rng):
    """Draw n points from a Gaussian mixture by ancestral sampling.

    Parameters
    ----------
    phi : ndarray of shape (k,)
    mu : ndarray of shape (k, d)
    Sigma : ndarray of shape (k, d, d)
        As in e_step.
    n : int
        Number of points, n >= 0.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    X : ndarray of shape (n, d)
        x_i ~ N(mu_{z_i}, Sigma_{z_i}).
    z : ndarray of shape (n,), int
        The component of each point, z_i ~ Categorical(phi).
    """
    Sigma = np.asarray(Sigma, dtype=float)
    if Sigma.ndim != 3:
        raise ValueError(f"Sigma must be a 3-D array of shape (k, d, d); got shape {Sigma.shape}")
    phi, mu, Sigma = validate.mixture(phi, mu, Sigma, Sigma.shape[2])
    n = validate.count(n)
    (k, d), L = mu.shape, np.linalg.cholesky(Sigma)  # Sigma_j = L_j L_j^T
    z = rng.choice(k, size=n, p=phi / phi.sum())  # first the component ...
    eps = rng.standard_normal((n, d))
    X = np.empty((n, d))
    for j in range(k):
        rows = z == j
        X[rows] = mu[j] + eps[rows] @ L[j].T  # ... then the point: Cov(L_j eps) = L_j L_j^T = Sigma_j
    return X, z


if __name__ == "__main__":  # python -m solutions.gmm [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("gmm"))
