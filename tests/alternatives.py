"""Correct implementations written differently from the reference (loops, lists, float32)."""

import numpy as np


def init_centroids(X, k, rng):
    order = rng.permutation(len(X))  # a different way to draw k distinct rows
    return [list(map(float, X[i])) for i in order[:k]]


def assign_clusters(X, centroids):
    labels = []
    for x in X:
        d = [sum((a - b) ** 2 for a, b in zip(x, c)) for c in centroids]
        labels.append(d.index(min(d)))
    return labels


def update_centroids(X, labels, centroids):
    out = np.array(centroids, dtype=np.float32)
    for j in range(len(centroids)):
        members = [x for x, label in zip(X, labels) if label == j]
        if members:
            out[j] = np.mean(members, axis=0)
    return out


def compute_distortion(X, centroids, labels):
    return np.float32(sum(np.sum((np.asarray(x) - centroids[j]) ** 2) for x, j in zip(X, labels)))


def kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):
    centroids = np.array(init if init is not None else init_centroids(X, k, rng), dtype=float)
    history, n_iters = [], 0
    while n_iters < max_iters:
        n_iters += 1
        labels = np.array(assign_clusters(X, centroids))
        new = np.array(update_centroids(X, labels, centroids), dtype=float)
        moved = max(np.linalg.norm(new - centroids, axis=1))
        centroids = new
        history.append(float(compute_distortion(X, centroids, labels)))
        if moved <= tol:
            break
    return centroids, np.array(assign_clusters(X, centroids)), history, n_iters
