"""k-means clustering (Lloyd's algorithm) and k-means++ seeding (Bishop, PRML section 9.1)."""

import numpy as np
from scipy.spatial.distance import cdist

from helpers import validate
from helpers.seeding import kmeans_plusplus  # noqa: F401 (lesson 1 reads it in helpers/seeding.py)


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
    X = validate.data(X, k)
    idx = rng.choice(X.shape[0], size=k, replace=False)  # without replacement: k different points
    return X[idx].copy()


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
    X = validate.data(X)
    centroids = validate.centroids(centroids, X.shape[1])
    # d2[i, j] = ||x_i - mu_j||^2, pair by pair: the (n, k) table without broadcasting's (n, k, d) array
    d2 = cdist(X, centroids, "sqeuclidean")
    return np.argmin(d2, axis=1)  # r_nk = 1 for the nearest centroid (eq. 9.2); argmin takes the lowest index


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
    X = validate.data(X)
    centroids = validate.centroids(centroids, X.shape[1])
    labels = validate.labels(labels, X.shape[0], len(centroids))
    k = len(centroids)
    counts = np.bincount(labels, minlength=k)  # N_k = sum_n r_nk, the points of each cluster
    # sum_n r_nk x_n, coordinate by coordinate: bincount with weights adds up each cluster's values
    sums = np.column_stack([np.bincount(labels, weights=X[:, c], minlength=k) for c in range(X.shape[1])])
    new_centroids = centroids.copy()
    filled = counts > 0  # an empty cluster has no mean: it keeps its centroid
    new_centroids[filled] = sums[filled] / counts[filled, None]  # mu_k (eq. 9.4)
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
    X = validate.data(X)
    centroids = validate.centroids(centroids, X.shape[1])
    labels = validate.labels(labels, X.shape[0], len(centroids))
    return float(np.sum((X - centroids[labels]) ** 2))


def kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):
    """Lloyd's algorithm: alternate assignment and update until the centroids stop moving.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    k : int
        Number of clusters, 1 <= k <= n.
    max_iters : int, default=100
    tol : float, default=1e-6
        Stop once no centroid moves more than tol (Euclidean distance) in an iteration.
    rng : numpy.random.Generator, optional
        For init_centroids when init is None; a fresh default_rng() when both are None.
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
    """
    X = validate.data(X, k)
    validate.iterations(max_iters, tol)
    if init is None:
        centroids = init_centroids(X, k, np.random.default_rng() if rng is None else rng)
    else:
        centroids = validate.centroids(init, X.shape[1], k, name="init")
    distortion_history = []
    for n_iters in range(1, max_iters + 1):  # noqa: B007 (n_iters is returned)
        labels = assign_clusters(X, centroids)  # minimise J over r_nk with mu_k fixed ...
        new_centroids = update_centroids(X, labels, centroids)  # ... then over mu_k with r_nk fixed
        moved = np.linalg.norm(new_centroids - centroids, axis=1).max()
        centroids = new_centroids
        distortion_history.append(compute_distortion(X, centroids, labels))
        if moved <= tol:
            break
    return centroids, assign_clusters(X, centroids), distortion_history, n_iters


if __name__ == "__main__":  # python -m solutions.kmeans [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("kmeans"))
