"""Lesson 1 mistakes. Each function is named <exercise>__<mistake id>; other exercises' names
resolve to correct functions (the reference here, the notebook's own when submitted in a notebook)."""

import numpy as np

from solutions.kmeans import assign_clusters, compute_distortion, init_centroids, update_centroids


def init_centroids__global_random(X, k, rng):
    idx = np.random.choice(len(X), size=k, replace=False)  # noqa: NPY002 (the mistake itself)
    return np.asarray(X)[idx]


def init_centroids__not_random(X, k, rng):
    return np.asarray(X)[:k]


def init_centroids__with_replacement(X, k, rng):
    return np.asarray(X)[rng.integers(0, len(X), size=k)]


def init_centroids__not_from_X(X, k, rng):
    X = np.asarray(X)
    return rng.uniform(X.min(axis=0), X.max(axis=0), size=(k, X.shape[1]))


def assign_clusters__argmax(X, centroids):
    d2 = ((np.asarray(X)[:, None, :] - np.asarray(centroids)[None, :, :]) ** 2).sum(axis=2)
    return np.argmax(d2, axis=1)


def assign_clusters__l1_distance(X, centroids):
    d1 = np.abs(np.asarray(X)[:, None, :] - np.asarray(centroids)[None, :, :]).sum(axis=2)
    return np.argmin(d1, axis=1)


def update_centroids__empty_nan(X, labels, centroids):
    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    with np.errstate(invalid="ignore"):
        return np.array([X[labels == j].sum(axis=0) / np.sum(labels == j) for j in range(len(centroids))])


def update_centroids__empty_reseeded(X, labels, centroids):
    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    return np.array([X[labels == j].mean(axis=0) if np.any(labels == j) else X[j] for j in range(len(centroids))])


def compute_distortion__mean_distortion(X, centroids, labels):
    return float(np.mean(np.sum((np.asarray(X) - np.asarray(centroids)[labels]) ** 2, axis=1)))


def compute_distortion__unsquared_distortion(X, centroids, labels):
    return float(np.sum(np.linalg.norm(np.asarray(X) - np.asarray(centroids)[labels], axis=1)))


def _lloyd(X, centroids, max_iters, tol, stop_early=True):
    history, n_iters = [], 0
    for n_iters in range(1, max_iters + 1):  # noqa: B007 (n_iters is returned)
        labels = assign_clusters(X, centroids)
        new = update_centroids(X, labels, centroids)
        shift = np.max(np.linalg.norm(new - centroids, axis=1))
        centroids = new
        history.append(compute_distortion(X, centroids, labels))
        if stop_early and shift <= tol:
            break
    return centroids, assign_clusters(X, centroids), history, n_iters


def kmeans__init_ignored(X, k, max_iters=100, tol=1e-6, rng=None, init=None):
    return _lloyd(X, init_centroids(X, k, rng or np.random.default_rng()), max_iters, tol)


def kmeans__never_stops(X, k, max_iters=100, tol=1e-6, rng=None, init=None):
    start = np.asarray(init, dtype=float) if init is not None else init_centroids(X, k, rng)
    return _lloyd(X, start, max_iters, tol, stop_early=False)


def kmeans__one_step(X, k, max_iters=100, tol=1e-6, rng=None, init=None):
    start = np.asarray(init, dtype=float) if init is not None else init_centroids(X, k, rng)
    return _lloyd(X, start, 1, tol)
