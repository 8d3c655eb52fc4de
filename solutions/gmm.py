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
from scipy.linalg import cholesky, solve_triangular

# Self-contained (no import from solutions.kmeans), so that each function's source can stand alone in
# the solved notebook; the tolerances are written where they are used for the same reason:
# phi, or a row of responsibilities, may sum to 1 up to 1e-8; a covariance may differ from its
# transpose by 1e-8 of its largest entry.
#
# Layout: the public functions take X of shape (n, d) and return w of shape (n, k), but the private
# helpers hold the data transposed, Xt of shape (d, n) (one column per point), and the responsibilities
# and log-probabilities as (k, n). Every elementwise operation (Xt - mu_j, weighting by w_j, exp) then runs
# along the long axis n, and every sum over d or k runs over the short first axis. With (n, d) NumPy
# works through n short rows of d numbers each, which makes X - mu_j several times slower for small d.


def _validate_data(X, k=None):
    """Return X as a finite float array of shape (n, d), checking k against n."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n, d); got {X.ndim} dimension(s) with shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X has no points (n = 0)")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity: remove or impute those values first")
    if k is not None:
        if int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer; got {k!r}")
        if k > X.shape[0]:
            raise ValueError(f"k={k} is larger than the number of points ({X.shape[0]})")
    return X


def _kmeans_plusplus(X, k, rng):
    """k-means++ seeding (lesson 1): k rows of X, each next one drawn with probability proportional
    to its squared distance to the nearest row chosen so far."""
    n = X.shape[0]
    idx = [rng.integers(n)]
    d2 = np.sum((X - X[idx[0]]) ** 2, axis=1)
    for _ in range(1, k):
        total = d2.sum()
        # all points sit on chosen centroids (duplicates): fall back to a uniform pick
        idx.append(rng.choice(n, p=d2 / total if total > 0 else None))
        d2 = np.minimum(d2, np.sum((X - X[idx[-1]]) ** 2, axis=1))
    return X[idx].copy()


def _validate_covariance_type(covariance_type):
    types = ("full", "diag", "spherical", "tied")
    if covariance_type not in types:
        raise ValueError(f"covariance_type must be one of {', '.join(map(repr, types))}; got {covariance_type!r}")
    return covariance_type


def _validate_params(phi, mu, Sigma, d, k=None, name=""):
    """Return phi (k,), mu (k, d) and Sigma (k, d, d) as float arrays, checking shapes and values.

    Positive-definiteness is checked where the Cholesky factors are computed (_precision_cholesky).
    """
    phi, mu, Sigma = (np.asarray(a, dtype=float) for a in (phi, mu, Sigma))
    k = phi.shape[0] if k is None and phi.ndim == 1 else k
    if phi.ndim != 1 or phi.shape[0] != k or k == 0:
        raise ValueError(
            f"{name}phi must be a non-empty 1-D array of shape ({'k' if k is None else k},); got {phi.shape}"
        )
    if mu.shape != (k, d):
        raise ValueError(f"{name}mu must have shape ({k}, {d}), one mean per component; got {mu.shape}")
    if Sigma.shape != (k, d, d):
        raise ValueError(
            f"{name}Sigma must have shape ({k}, {d}, {d}), one covariance per component; got {Sigma.shape}"
        )
    for label, a in (("phi", phi), ("mu", mu), ("Sigma", Sigma)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}{label} contains NaN or infinity")
    if np.any(phi < 0):
        j = int(np.argmax(phi < 0))
        raise ValueError(f"{name}phi must be non-negative; component {j} has weight {phi[j]:g}")
    if abs(phi.sum() - 1.0) > 1e-8:
        raise ValueError(f"{name}phi must sum to 1; it sums to {phi.sum():.10g}")
    _check_symmetric(Sigma, lambda j: f"{name}covariance of component {j}")
    return phi, mu, Sigma


def _check_symmetric(Sigma, label):
    """Raise a ValueError naming label(j) for the first Sigma[j] that differs from its transpose."""
    asymmetry = np.abs(Sigma - Sigma.swapaxes(1, 2)).max(axis=(1, 2))
    bad = asymmetry > 1e-8 * np.abs(Sigma).max(axis=(1, 2))
    if np.any(bad):
        j = int(np.argmax(bad))
        raise ValueError(f"{label(j)} is not symmetric: it must equal its transpose")


def _validate_resp(w, n):
    """Return w as a float array of shape (n, k) whose rows are probability vectors."""
    w = np.asarray(w, dtype=float)
    if w.ndim != 2 or w.shape[0] != n or w.shape[1] == 0:
        raise ValueError(f"w must have shape ({n}, k), one row per point; got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("w contains NaN or infinity")
    if np.any(w < 0):
        raise ValueError("w must be non-negative: responsibilities are probabilities")
    sums = w.sum(axis=1)
    bad = np.abs(sums - 1.0) > 1e-8
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"rows of w must sum to 1 (over components, axis=1); row {i} sums to {sums[i]:.10g}")
    return w


def _component(j):
    return f"covariance of component {j}"


def _cholesky(Sigma, label=None):
    """Lower-triangular L_j with Sigma_j = L_j L_j^T, an array of shape (k, d, d).

    Raises a ValueError naming label(j) for the first Sigma[j] that is not positive definite.
    """
    label = label or _component
    L = np.empty_like(Sigma)
    for j in range(Sigma.shape[0]):
        try:
            L[j] = cholesky(Sigma[j], lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"{label(j)} is not positive definite (singular or nearly so): increase reg_covar or scale the data"
            ) from None
    return L


def _precision_cholesky(Sigma, label=None):
    """Upper-triangular U_j = L_j^{-T} of shape (k, d, d), where Sigma_j = L_j L_j^T.

    U_j U_j^T = Sigma_j^{-1}, so ||(x - mu_j) U_j||^2 is the Mahalanobis distance and
    sum(log diag U_j) = -log|Sigma_j| / 2: no inverse and no determinant is ever formed.
    """
    eye = np.eye(Sigma.shape[1])
    return np.stack([solve_triangular(L, eye, lower=True, check_finite=False).T for L in _cholesky(Sigma, label)])


def _transposed(X):
    """The (n, d) data as a C-contiguous array of shape (d, n), the helpers' layout (see the top of the module)."""
    return np.ascontiguousarray(X.T)


def _log_prob(Xt, log_phi, mu, U):
    """log phi_j + log N(x_i | mu_j, Sigma_j) as an array of shape (k, n), from the data Xt of shape (d, n)
    and the factors U of _precision_cholesky.

    (k, n) rather than (n, k): the log-sum-exp then reduces over the short first axis.
    """
    k, d = mu.shape
    out = np.empty((k, Xt.shape[1]))
    # two (d, n) work arrays, reused by every component: a fresh pair per component would cost more than
    # the arithmetic done in them (a large new array is fresh memory from the system, paid for on first touch)
    diff, y = np.empty_like(Xt), np.empty_like(Xt)
    for j in range(k):
        np.subtract(Xt, mu[j][:, None], out=diff)  # centred first: no cancellation
        # column i is U_j^T (x_i - mu_j), whitened: N(0, I) if x_i comes from component j;
        # its squared length is the Mahalanobis distance
        np.matmul(U[j].T, diff, out=y)
        np.einsum("dn,dn->n", y, y, out=out[j])
    log_det_half = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)  # -log|Sigma_j| / 2
    return (log_phi + log_det_half - 0.5 * d * np.log(2.0 * np.pi))[:, None] - 0.5 * out


def _log_phi(phi):
    with np.errstate(divide="ignore"):  # phi_j = 0 gives log 0 = -inf: that component takes no point
        return np.log(phi)


def _normalise(log_prob):
    """Responsibilities (k, n) and log p(x_i) (n,) from the log joint, by log-sum-exp over components.

    Subtracting each point's largest term keeps the largest exp at 1, so the sum is at least 1: no
    0 / 0 for points far from every component. The same exponentials give the responsibilities.
    """
    top = log_prob.max(axis=0)
    w = np.exp(log_prob - top)
    total = w.sum(axis=0)
    w /= total
    return w, top + np.log(total)


def _m_step(Xt, w_kn, covariance_type):
    """Maximum-likelihood phi, mu and Sigma of the given type from the data Xt of shape (d, n) and
    responsibilities of shape (k, n)."""
    d, n = Xt.shape
    k = w_kn.shape[0]
    nk = w_kn.sum(axis=1)  # effective number of points of each component (Bishop eq. 9.18)
    if np.any(nk <= 0):
        j = int(np.argmax(nk <= 0))
        raise ValueError(
            f"component {j} has no responsibility for any point (N_k = 0), so its mean is undefined: "
            "start it nearer the data or use fewer components"
        )
    mu = (w_kn @ Xt.T) / nk[:, None]  # eq. 9.17
    Sigma = np.zeros((k, d, d))
    diff = np.empty_like(Xt)  # one work array for every component, as in _log_prob
    for j in range(k):
        np.subtract(Xt, mu[j][:, None], out=diff)  # column i is x_i - mu_j
        if covariance_type == "full" or covariance_type == "tied":
            # eq. 9.19, divided by N_k, as one matrix product B B^T, where column i of B is
            # sqrt(w_ij) (x_i - mu_j): a product of a matrix with its own transpose is symmetric, and
            # NumPy computes it with half the work (BLAS syrk) of a general product such as (w_j * diff) diff^T
            diff *= np.sqrt(w_kn[j])
            Sigma[j] = diff @ diff.T / nk[j]
        else:
            variances = diff**2 @ w_kn[j] / nk[j]  # the diagonal of eq. 9.19
            if covariance_type == "spherical":
                variances = np.full(d, variances.mean())  # the best sigma^2 I averages the variances
            Sigma[j] = np.diag(variances)
    if covariance_type == "tied":
        Sigma[:] = np.tensordot(nk / n, Sigma, axes=1)  # the pooled within-component covariance
    return nk / n, mu, Sigma  # phi: eq. 9.22


def _elbo(w_kn, log_prob):
    """sum_ij w_ij [log phi_j + log N(x_i | mu_j, Sigma_j) - log w_ij], with 0 log 0 = 0."""
    positive = w_kn > 0
    return float(np.sum(w_kn * (log_prob - np.log(w_kn, where=positive, out=np.zeros_like(w_kn))), where=positive))


def _initialize(X, Xt, k, rng, covariance_type, reg_covar):
    """Means at k-means++ seeds, every covariance the data's (of the given type), equal weights.

    X is the data of shape (n, d), Xt the same data transposed (d, n).
    """
    mu = _kmeans_plusplus(X, k, rng)
    Sigma = _m_step(Xt, np.ones((1, X.shape[0])), covariance_type)[2]  # one component: the data's covariance
    Sigma = np.repeat(Sigma, k, axis=0) + reg_covar * np.eye(X.shape[1])
    return np.full(k, 1.0 / k), mu, Sigma


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
    X = _validate_data(X)
    d = X.shape[1]
    mu, Sigma = np.asarray(mu, dtype=float), np.asarray(Sigma, dtype=float)
    if mu.shape != (d,):
        raise ValueError(f"mu must have shape ({d},); got {mu.shape}")
    if Sigma.shape != (d, d):
        raise ValueError(f"Sigma must have shape ({d}, {d}); got {Sigma.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(Sigma))):
        raise ValueError("mu and Sigma must not contain NaN or infinity")
    _check_symmetric(Sigma[None], lambda j: "Sigma")
    return _log_prob(_transposed(X), np.zeros(1), mu[None], _precision_cholesky(Sigma[None], lambda j: "Sigma"))[0]


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
    X = _validate_data(X)
    phi, mu, Sigma = _validate_params(phi, mu, Sigma, X.shape[1])
    return _normalise(_log_prob(_transposed(X), _log_phi(phi), mu, _precision_cholesky(Sigma)))[0].T


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
    X = _validate_data(X)
    w = _validate_resp(w, X.shape[0])
    return _m_step(_transposed(X), w.T, _validate_covariance_type(covariance_type))


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
    X = _validate_data(X)
    phi, mu, Sigma = _validate_params(phi, mu, Sigma, X.shape[1])
    return float(_normalise(_log_prob(_transposed(X), _log_phi(phi), mu, _precision_cholesky(Sigma)))[1].sum())


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
    X = _validate_data(X, k)
    d = X.shape[1]
    if int(max_iters) != max_iters or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer; got {max_iters!r}")
    if not tol >= 0:  # also refuses NaN
        raise ValueError(f"tol must be a non-negative number; got {tol!r}")
    if not (np.isfinite(reg_covar) and reg_covar >= 0):
        raise ValueError(f"reg_covar must be a non-negative number; got {reg_covar!r}")
    covariance_type = _validate_covariance_type(covariance_type)
    Xt = _transposed(X)  # validated and transposed once: the loop below works on Xt only
    if init is None:
        init = _initialize(X, Xt, k, np.random.default_rng() if rng is None else rng, covariance_type, reg_covar)
    elif not (isinstance(init, (tuple, list)) and len(init) == 3):
        raise ValueError("init must be a tuple (phi, mu, Sigma)")
    phi, mu, Sigma = _validate_params(*init, d, k, name="init: ")

    log_prob = _log_prob(Xt, _log_phi(phi), mu, _precision_cholesky(Sigma))
    w, log_px = _normalise(log_prob)  # w is (k, n) inside the loop
    logliks, elbos = [float(log_px.sum())], []
    for _iteration in range(max_iters):
        phi, mu, Sigma = _m_step(Xt, w, covariance_type)
        Sigma += reg_covar * np.eye(d)
        log_prob = _log_prob(Xt, np.log(phi), mu, _precision_cholesky(Sigma))
        elbos.append(_elbo(w, log_prob))  # old responsibilities, new parameters
        w, log_px = _normalise(log_prob)  # the next E-step
        logliks.append(float(log_px.sum()))
        if logliks[-1] - logliks[-2] < tol:
            break
    return phi, mu, Sigma, w.T, logliks, elbos


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
    phi, mu, Sigma = _validate_params(phi, mu, Sigma, Sigma.shape[2])
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer; got {n!r}")
    n = int(n)
    L = _cholesky(Sigma)
    k, d = mu.shape
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
