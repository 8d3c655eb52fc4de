"""k-means++ seeding (Arthur and Vassilvitskii, 2007): lesson 1 reads it, lessons 1 and 3 start from it."""

import numpy as np

from helpers import validate


def kmeans_plusplus(X, k, rng):
    """k-means++ seeding: k rows of X (shape (n, d)), each next one drawn with probability proportional to D(x)^2.

    D(x) is the distance from x to the nearest row chosen so far; rng (a numpy Generator) is the only
    source of randomness. Returns an array of shape (k, d).
    """
    X = validate.data(X, k)
    n = len(X)
    chosen = [rng.integers(n)]  # the first centroid: uniformly at random
    d2 = np.sum((X - X[chosen[0]]) ** 2, axis=1)  # D(x)^2: squared distance to the nearest chosen centroid
    for _ in range(1, k):
        total = d2.sum()  # 0 when every point sits on a chosen centroid (duplicates): then a uniform pick
        chosen.append(rng.choice(n, p=d2 / total if total > 0 else None))
        d2 = np.minimum(d2, np.sum((X - X[chosen[-1]]) ** 2, axis=1))
    return X[chosen].copy()
