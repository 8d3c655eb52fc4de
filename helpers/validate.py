"""Input checks of the answer key: a clear error before any work starts.

Each reference solution checks its inputs in one line (``X = validate.data(X, k)``) so that its body is
the lesson's mathematics alone. Every function returns its input as a float array (or as given) once
it is known to be well formed, and raises a ValueError that says what is wrong otherwise.
"""

import numbers

import numpy as np

SUM_TOL = 1e-6  # how far from 1 weights, or a row of responsibilities, may sum (float32 sums are within it)
SYMMETRY_TOL = 1e-8  # how far a covariance may differ from its transpose, relative to its largest entry


def data(X, k=None):
    """X as a finite float array of shape (n, d), with n >= 1 (and k an integer in [1, n] when given)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n, d); got {X.ndim} dimension(s) with shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X has no points (n = 0)")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity: remove or impute those values first")
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, numbers.Real) or int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer; got {k!r}")
        if k > X.shape[0]:
            raise ValueError(f"k={k} is larger than the number of points ({X.shape[0]})")
    return X


def centroids(centroids, d, k=None, name="centroids"):
    """centroids as a finite float array of shape (k, d) with k >= 1."""
    centroids = np.asarray(centroids, dtype=float)
    want = f"({'k' if k is None else k}, {d})"
    if centroids.ndim != 2 or centroids.shape[1] != d or (k is not None and centroids.shape[0] != k):
        raise ValueError(f"{name} must have shape {want}; got {centroids.shape}")
    if centroids.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one centroid")
    if not np.all(np.isfinite(centroids)):
        raise ValueError(f"{name} contains NaN or infinity")
    return centroids


def labels(labels, n, k):
    """labels as an int array of shape (n,) with values in [0, k)."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one per point; got {labels.shape}")
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must be integers in [0, {k}), one centroid index per point")
    return labels


def iterations(max_iters, tol):
    """Check the stopping rule of an iterative algorithm: max_iters a positive integer, tol a number >= 0."""
    if isinstance(max_iters, bool) or not isinstance(max_iters, numbers.Integral) or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer; got {max_iters!r}")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:  # not >= also refuses NaN
        raise ValueError(f"tol must be a non-negative number; got {tol!r}")


def samples_1d(x):
    """x as a finite float array of shape (n,), n >= 1."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array of shape (n,); got {x.ndim} dimension(s) with shape {x.shape}")
    if x.size == 0:
        raise ValueError("x has no points (n = 0)")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinity: remove or impute those values first")
    return x


def weights(weights, name="weights"):
    """Mixing weights as a float array of shape (K,): finite, non-negative, summing to 1."""
    weights = np.asarray(weights, dtype=float)
    if np.any(weights < 0):
        j = int(np.argmax(weights < 0))
        raise ValueError(f"{name} must be non-negative; component {j} has weight {weights[j]:g}")
    if abs(weights.sum() - 1.0) > SUM_TOL:
        sums = "it sums" if name.endswith("phi") else "they sum"
        raise ValueError(f"{name} must sum to 1; {sums} to {weights.sum():.10g}")
    return weights


def params_1d(means, sigmas, weights_):
    """means, sigmas and weights of a 1-D mixture as float arrays of one shape (K,), checking their values."""
    means, sigmas, weights_ = (np.asarray(a, dtype=float) for a in (means, sigmas, weights_))
    for name, a in (("means", means), ("sigmas", sigmas), ("weights", weights_)):
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D array of shape (K,); got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinity")
    if not means.shape == sigmas.shape == weights_.shape:
        raise ValueError(
            f"means, sigmas and weights must have one entry per component; got lengths "
            f"{means.size}, {sigmas.size} and {weights_.size}"
        )
    if np.any(sigmas <= 0):
        j = int(np.argmax(sigmas <= 0))
        raise ValueError(f"sigmas must be positive standard deviations; component {j} has sigma = {sigmas[j]:g}")
    return means, sigmas, weights(weights_)


def responsibilities(resp, n, name="resp", k=None, every_component=False):
    """resp as a float array of shape (n, K) whose rows are probability vectors.

    With every_component (what an M-step needs), each component must have some responsibility (N_k > 0).
    """
    resp = np.asarray(resp, dtype=float)
    if resp.ndim != 2 or resp.shape[0] != n or resp.shape[1] == 0 or (k is not None and resp.shape[1] != k):
        symbol = k or ("K" if name == "resp" else "k")  # lesson 2 writes K components, lessons 3 and 4 k
        raise ValueError(f"{name} must have shape ({n}, {symbol}), one row per point; got {resp.shape}")
    if not np.all(np.isfinite(resp)):
        raise ValueError(f"{name} contains NaN or infinity")
    if np.any(resp < 0):
        raise ValueError(f"{name} must be non-negative: responsibilities are probabilities")
    sums = resp.sum(axis=1)
    bad = np.abs(sums - 1.0) > SUM_TOL
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"rows of {name} must sum to 1 (over components, axis=1); row {i} sums to {sums[i]:.10g}")
    if every_component and np.any(resp.sum(axis=0) <= 0):
        j = int(np.argmax(resp.sum(axis=0) <= 0))
        raise ValueError(
            f"component {j} has no responsibility for any point (N_k = 0), so its mean is undefined: "
            "start it nearer the data or use fewer components"
        )
    return resp


def not_collapsed(sigmas, iteration):
    """Refuse a component that shrank onto one point (sigma = 0), where the likelihood is unbounded."""
    if np.any(sigmas == 0):
        j = int(np.argmax(sigmas == 0))
        raise ValueError(
            f"component {j} collapsed onto a single point (sigma = 0) in iteration {iteration}, where the "
            "likelihood is unbounded: start from other parameters or use fewer components"
        )


def gaussian(mu, Sigma, d):
    """mu (d,) and Sigma (d, d) of one Gaussian, Sigma symmetric positive definite."""
    mu, Sigma = np.asarray(mu, dtype=float), np.asarray(Sigma, dtype=float)
    if mu.shape != (d,):
        raise ValueError(f"mu must have shape ({d},); got {mu.shape}")
    if Sigma.shape != (d, d):
        raise ValueError(f"Sigma must have shape ({d}, {d}); got {Sigma.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(Sigma))):
        raise ValueError("mu and Sigma must not contain NaN or infinity")
    covariances(Sigma[None], lambda j: "Sigma")
    return mu, Sigma


def mixture(phi, mu, Sigma, d, k=None, name=""):
    """phi (k,), mu (k, d) and Sigma (k, d, d) of a Gaussian mixture, checking shapes and values."""
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
    covariances(Sigma, lambda j: f"{name}covariance of component {j}")
    return weights(phi, f"{name}phi"), mu, Sigma


def triple(init):
    """init as a tuple (phi, mu, Sigma)."""
    if not (isinstance(init, (tuple, list)) and len(init) == 3):
        raise ValueError("init must be a tuple (phi, mu, Sigma)")
    return tuple(init)


def covariances(Sigma, label=lambda j: f"covariance of component {j}"):
    """Sigma (k, d, d), once every Sigma[j] is known symmetric and positive definite (label(j) names it if not)."""
    asymmetry = np.abs(Sigma - Sigma.swapaxes(1, 2)).max(axis=(1, 2))
    bad = asymmetry > SYMMETRY_TOL * np.abs(Sigma).max(axis=(1, 2))
    if np.any(bad):
        raise ValueError(f"{label(int(np.argmax(bad)))} is not symmetric: it must equal its transpose")
    for j in range(len(Sigma)):
        try:
            np.linalg.cholesky(Sigma[j])
        except np.linalg.LinAlgError:
            raise ValueError(
                f"{label(j)} is not positive definite (singular or nearly so): increase reg_covar or scale the data"
            ) from None
    return Sigma


def mixture_params(params, d):
    """phi, mu and Sigma of the dict params of a Gaussian mixture (lesson 4's parameters)."""
    if not isinstance(params, dict) or not {"phi", "mu", "Sigma"} <= params.keys():
        raise ValueError('params must be a dict with the keys "phi", "mu" and "Sigma"')
    phi = np.asarray(params["phi"], dtype=float)
    return mixture(phi, params["mu"], params["Sigma"], d, phi.size if phi.ndim == 1 else None)


def covariance_type(covariance_type):
    types = ("full", "diag", "spherical", "tied")
    if covariance_type not in types:
        raise ValueError(f"covariance_type must be one of {', '.join(map(repr, types))}; got {covariance_type!r}")
    return covariance_type


def reg_covar(reg_covar):
    if not (isinstance(reg_covar, numbers.Real) and np.isfinite(reg_covar) and reg_covar >= 0):
        raise ValueError(f"reg_covar must be a non-negative number; got {reg_covar!r}")
    return reg_covar


def count(n):
    """n as a non-negative int."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer; got {n!r}")
    return int(n)


def functions(**fns):
    """Check that each named argument is a function (None allowed for elbo)."""
    for name, fn in fns.items():
        if not callable(fn) and not (name == "elbo" and fn is None):
            raise TypeError(f"{name} must be a function; got {type(fn).__name__}")
