"""k-means clustering (Lloyd's algorithm) and k-means++ seeding (Bishop, PRML section 9.1)."""

import numpy as np
import scipy.sparse

CHUNK = 4096  # points per block of the assignment step


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


def _validate_centroids(centroids, d, k=None, name="centroids"):
    """Return centroids as a finite float array of shape (k, d)."""
    centroids = np.asarray(centroids, dtype=float)
    want = f"({'k' if k is None else k}, {d})"
    if centroids.ndim != 2 or centroids.shape[1] != d or (k is not None and centroids.shape[0] != k):
        raise ValueError(f"{name} must have shape {want}; got {centroids.shape}")
    if centroids.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one centroid")
    if not np.all(np.isfinite(centroids)):
        raise ValueError(f"{name} contains NaN or infinity")
    return centroids


def _validate_labels(labels, n, k):
    """Return labels as an int array of shape (n,) with values in [0, k)."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one per point; got {labels.shape}")
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must be integers in [0, {k}), one centroid index per point")
    return labels


def init_centroids(X, k, rng):
    """Choose k distinct rows of X uniformly at random as the initial centroids.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
        Number of clusters, 1 <= k <= n.
    rng : numpy.random.Generator
        The only source of randomness: the same generator state gives the same centroids.

    Returns
    -------
    centroids : ndarray of shape (k, d)
        Rows X[i] for k different indices i.
    """
    X = _validate_data(X, k)
    idx = rng.choice(X.shape[0], size=k, replace=False)  # without replacement: k different points
    return X[idx].copy()


def _layout(X):
    """X laid out once for the assignment step: (XaT, shift, r2, Xc).

    Xc = X - shift, with shift the mean point; XaT is [Xc, 1] stored transposed, shape (d + 1, n): blocks of
    its columns feed one matrix product. r2 = max ||x - shift||^2.
    """
    n, d = X.shape
    shift = X.mean(axis=0)
    Xc = X - shift
    XaT = np.empty((d + 1, n))
    XaT[:d] = Xc.T
    XaT[d] = 1.0
    return XaT, shift, float(np.max(np.einsum("nd,nd->n", Xc, Xc))), Xc


def _nearest(X, layout, centroids):
    """Labels of the nearest centroids, ties to the lowest index; layout = _layout(X)."""
    XaT, shift, r2, _ = layout
    n = len(X)
    k = len(centroids)
    # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2; ||x||^2 is the same for every centroid, so the argmin needs
    # only ||c||^2 - 2 x.c: one matrix product of [-2c, ||c||^2] with [x, 1], and no (n, k, d) temporary.
    # Centring first keeps the expansion accurate for data far from the origin.
    C = centroids - shift
    c2 = np.einsum("kd,kd->k", C, C)
    W = np.hstack([-2.0 * C, c2[:, None]])
    # The expansion rounds differently from (x - c)^2 (errors of the order of 1e-16 (||x||^2 + ||c||^2)):
    # centroids within slack of the best are near, and decided below with the exact squared distances.
    slack = 1e-9 * (r2 + c2.max())
    weights = np.arange(k, 0, -1, dtype=np.min_scalar_type(k))[:, None]  # k, ..., 1: the largest near one is first
    labels = np.empty(n, dtype=np.intp)
    for start in range(0, n, CHUNK):  # blocks of CHUNK points: the (k, CHUNK) scores stay in cache
        block = XaT[:, start : start + CHUNK]
        scores = W @ block  # (k, m): reductions run over the short first axis
        near = scores <= scores.min(axis=0) + slack
        labels[start : start + CHUNK] = k - (near * weights).max(axis=0)  # as np.argmin, several times faster
        if np.count_nonzero(near) > near.shape[1]:  # some point has two or more near centroids
            ties = start + np.flatnonzero(near.sum(axis=0) > 1)
            labels[ties] = np.argmin(  # exact distances; np.argmin breaks ties to the lowest index
                ((X[ties, None, :] - centroids[None, :, :]) ** 2).sum(axis=2), axis=1
            )
    return labels


def _sums(X, labels, k):
    """Sum of the points of each cluster, shape (k, d): the product R X of the indicators r_kn (Bishop's
    r_nk, transposed) with X, R held as a sparse matrix whose column n is a single 1 in row labels[n]."""
    n = len(labels)
    R = scipy.sparse.csc_array((np.ones(n), labels, np.arange(n + 1)), shape=(k, n))
    return R @ np.ascontiguousarray(X)


def assign_clusters(X, centroids):
    """Index of the nearest centroid of every point (the assignment step, r_nk).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    centroids : ndarray of shape (k, d)

    Returns
    -------
    labels : ndarray of shape (n,), int
        labels[i] = argmin_j ||x_i - mu_j||^2; ties go to the lowest index.
    """
    X = _validate_data(X)
    centroids = _validate_centroids(centroids, X.shape[1])
    return _nearest(X, _layout(X), centroids)


def update_centroids(X, labels, centroids):
    """Mean of the points of each cluster (the update step, mu_k).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    labels : ndarray of shape (n,), int
        Cluster index of every point, in [0, k).
    centroids : ndarray of shape (k, d)
        Current centroids; a cluster with no points keeps its centroid.

    Returns
    -------
    new_centroids : ndarray of shape (k, d)
    """
    X = _validate_data(X)
    centroids = _validate_centroids(centroids, X.shape[1])
    k = centroids.shape[0]
    labels = _validate_labels(labels, X.shape[0], k)
    counts = np.bincount(labels, minlength=k)
    sums = _sums(X, labels, k)
    new_centroids = centroids.copy()
    filled = counts > 0  # an empty cluster has no mean: it keeps its centroid
    new_centroids[filled] = sums[filled] / counts[filled, None]
    return new_centroids


def compute_distortion(X, centroids, labels):
    """The distortion J = sum_i ||x_i - mu_{labels_i}||^2 (Bishop eq. 9.1).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    centroids : ndarray of shape (k, d)
    labels : ndarray of shape (n,), int

    Returns
    -------
    J : float
        Sum (not mean) of squared Euclidean distances to the assigned centroids.
    """
    X = _validate_data(X)
    centroids = _validate_centroids(centroids, X.shape[1])
    labels = _validate_labels(labels, X.shape[0], centroids.shape[0])
    diff = X - centroids[labels]
    return float(np.einsum("nd,nd->", diff, diff))


def kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):
    """Lloyd's algorithm: alternate assignment and update until the centroids stop moving.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
        Number of clusters, 1 <= k <= n.
    max_iters : int, default=100
        Most iterations (one assignment step and one update step each).
    tol : float, default=1e-6
        Stop once no centroid moves more than tol (Euclidean distance) in an iteration.
    rng : numpy.random.Generator, optional
        Used by init_centroids when init is None; a fresh default_rng() when both are None.
    init : ndarray of shape (k, d), optional
        Starting centroids.

    Returns
    -------
    centroids : ndarray of shape (k, d)
    labels : ndarray of shape (n,), int
        Nearest centroid of every point, for the returned centroids.
    distortion_history : list of float
        J after each iteration's update step; it never increases.
    n_iters : int
        Number of iterations run.
    """
    X = _validate_data(X, k)
    if int(max_iters) != max_iters or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer; got {max_iters!r}")
    if not tol >= 0:  # also refuses NaN
        raise ValueError(f"tol must be a non-negative number; got {tol!r}")
    if init is None:
        centroids = init_centroids(X, k, np.random.default_rng() if rng is None else rng)
    else:
        centroids = _validate_centroids(init, X.shape[1], k, name="init")
    # The steps of assign_clusters and update_centroids, on data checked, centred and laid out once.
    layout = _, shift, _, Xc = _layout(X)
    distortion_history = []
    n_iters = 0
    while n_iters < max_iters:
        n_iters += 1
        labels = _nearest(X, layout, centroids)  # each step can only lower J: first over r_nk ...
        counts = np.bincount(labels, minlength=k)
        filled = counts > 0  # an empty cluster has no mean: it keeps its centroid
        means = _sums(Xc, labels, k)[filled] / counts[filled, None]  # ... then over mu_k (centred)
        new_centroids = centroids.copy()
        new_centroids[filled] = means + shift
        moved = np.linalg.norm(new_centroids - centroids, axis=1).max()  # the largest centroid move
        centroids = new_centroids
        diff = X - centroids[labels]  # J summed directly: the shortcut via sum_i ||x_i||^2 cancels badly
        distortion_history.append(float(np.einsum("nd,nd->", diff, diff)))
        if moved <= tol:
            break
    return centroids, _nearest(X, layout, centroids), distortion_history, n_iters


def kmeans_plusplus(X, k, rng):
    """k-means++ seeding (Arthur & Vassilvitskii, 2007).

    The first centroid is a uniformly random point; each next one is a point drawn with
    probability proportional to its squared distance to the nearest centroid chosen so far.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
        1 <= k <= n.
    rng : numpy.random.Generator

    Returns
    -------
    centroids : ndarray of shape (k, d)
        Rows of X.
    """
    X = _validate_data(X, k)
    n = X.shape[0]
    idx = [rng.integers(n)]
    d2 = np.sum((X - X[idx[0]]) ** 2, axis=1)
    for _ in range(1, k):
        total = d2.sum()
        # all points sit on chosen centroids (duplicates): fall back to a uniform pick
        p = d2 / total if total > 0 else None
        idx.append(rng.choice(n, p=p))
        d2 = np.minimum(d2, np.sum((X - X[idx[-1]]) ** 2, axis=1))
    return X[idx].copy()


if __name__ == "__main__":  # python -m solutions.kmeans [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("kmeans"))
