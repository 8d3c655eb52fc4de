"""Lesson 1 reference (solutions/kmeans.py) against scikit-learn's KMeans, brute force and closed forms."""

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_blobs
from threadpoolctl import threadpool_limits

from solutions.kmeans import (
    assign_clusters,
    compute_distortion,
    init_centroids,
    kmeans,
    kmeans_plusplus,
    update_centroids,
)

FAITHFUL = Path(__file__).resolve().parents[1] / "data" / "faithful.csv"


def squared_distances(X, centroids):
    """(n, k) squared Euclidean distances, term by term."""
    return ((X[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)


def nearest(X, centroids):
    return squared_distances(X, centroids).argmin(axis=1)  # argmin returns the first minimum


def sklearn_lloyd(X, init, max_iter=1000):
    """scikit-learn's Lloyd iterations from the same start; tol=0 stops only when nothing moves."""
    with threadpool_limits(1):  # small problems: starting OpenMP threads costs more than it saves
        return KMeans(len(init), init=init, n_init=1, algorithm="lloyd", tol=0, max_iter=max_iter).fit(X)


def load_faithful_standardised():
    X = np.loadtxt(FAITHFUL, delimiter=",", skiprows=1)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def blobs(seed, centers, n=300, cluster_std=2.0):
    return make_blobs(n_samples=n, centers=centers, cluster_std=cluster_std, random_state=seed)[0]


def random_rows(X, k, seed):
    """k distinct rows of X picked by numpy alone (not by the code under test)."""
    rows = np.unique(X, axis=0)  # iris repeats some flowers: a repeated start would leave a cluster empty
    return rows[np.random.default_rng(seed).choice(len(rows), size=k, replace=False)]


def iris_case(k, seed):
    X = load_iris().data
    return X, random_rows(X, k, seed)


def blobs_case(k, seed):
    X = blobs(seed, centers=k)
    return X, random_rows(X, k, seed)


def faithful_case():
    return load_faithful_standardised(), np.array([[-1.0, 1.0], [1.0, -1.0]])  # both starts off the data


# Iris is measured to 0.1 cm, so a start can put a flower at exactly the same distance from two
# centroids (iris_case(5, 3): flower 6, at squared distance 0.18 from centroids 0 and 4). Rounding
# then decides the tie, and scikit-learn, which centres the data first, rounds differently.
# These seeds meet no tie.
CASES = [
    *[pytest.param(iris_case, k, s, id=f"iris-k{k}-seed{s}") for k in (2, 3, 5, 8) for s in (0, 2, 4)],
    *[pytest.param(blobs_case, k, s, id=f"blobs-k{k}-seed{s}") for k in (2, 4, 8) for s in range(4)],
]


@pytest.mark.parametrize(("make_case", "k", "seed"), CASES)
def test_kmeans_matches_sklearn_lloyd(make_case, k, seed):
    X, init = make_case(k, seed)
    ref = sklearn_lloyd(X, init)
    centroids, labels, history, n_iters = kmeans(X, k, max_iters=1000, tol=0, init=init)
    np.testing.assert_array_equal(labels, ref.labels_)
    np.testing.assert_allclose(centroids, ref.cluster_centers_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(compute_distortion(X, centroids, labels), ref.inertia_, rtol=1e-10)
    np.testing.assert_allclose(history[-1], ref.inertia_, rtol=1e-10)
    # Both count the final iteration that changes nothing: scikit-learn stops when the labels repeat
    # (n_iter_ includes that pass), the reference when the centroids, the means of those same labels,
    # move by 0 <= tol. So the counts agree exactly.
    assert n_iters == ref.n_iter_


def test_kmeans_matches_sklearn_on_old_faithful():
    X, init = faithful_case()
    ref = sklearn_lloyd(X, init)
    centroids, labels, _, n_iters = kmeans(X, 2, tol=0, init=init)
    np.testing.assert_array_equal(labels, ref.labels_)
    np.testing.assert_allclose(centroids, ref.cluster_centers_, rtol=1e-10, atol=1e-12)
    assert n_iters == ref.n_iter_


def test_kmeans_max_iters_stops_mid_run_like_sklearn():
    X, init = blobs_case(8, 0)  # needs 16 iterations to converge
    for max_iters in (1, 2, 5):
        ref = sklearn_lloyd(X, init, max_iter=max_iters)
        centroids, labels, history, n_iters = kmeans(X, 8, max_iters=max_iters, tol=0, init=init)
        assert n_iters == len(history) == max_iters
        np.testing.assert_allclose(centroids, ref.cluster_centers_, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(labels, ref.labels_)


def test_kmeans_stops_at_first_iteration_within_tol():
    X, init = blobs_case(8, 0)
    n_iter = sklearn_lloyd(X, init).n_iter_
    path = [init] + [sklearn_lloyd(X, init, max_iter=m).cluster_centers_ for m in range(1, n_iter + 1)]
    shifts = np.array([np.linalg.norm(b - a, axis=1).max() for a, b in pairwise(path)])
    tol = shifts[n_iter // 2] * 1.001  # largest centroid move of a middle iteration, loosened past rounding
    stop = int(np.argmax(shifts <= tol)) + 1  # the first iteration that moves no centroid more than tol
    centroids, _, history, n_iters = kmeans(X, 8, tol=tol, init=init)
    assert n_iters == len(history) == stop
    np.testing.assert_allclose(centroids, path[stop], rtol=1e-10, atol=1e-12)


def test_kmeans_loose_tol_stops_after_one_iteration():
    X, init = blobs_case(4, 0)
    assert kmeans(X, 4, tol=1e6, init=init)[3] == 1


@pytest.mark.parametrize("seed", range(5))
def test_distortion_history_never_increases(seed):
    X = blobs(seed, centers=6, n=400, cluster_std=3.0)  # overlapping clusters: many iterations
    _, _, history, n_iters = kmeans(X, 6, tol=0, rng=np.random.default_rng(seed))
    history = np.asarray(history)
    assert len(history) == n_iters > 2
    assert np.all(np.diff(history) <= 1e-12 * history[:-1])  # slack for rounding only


def lloyd_distortions(X, init, n_iters):
    """J after each of n_iters Lloyd iterations, as a direct sum of squared differences (numpy alone)."""
    centroids, history = init.copy(), []
    for _ in range(n_iters):
        labels = nearest(X, centroids)
        for j in np.unique(labels):
            centroids[j] = X[labels == j].mean(axis=0)
        history.append(((X - centroids[labels]) ** 2).sum())
    return history


def tight_far_clusters(centres, spread, n, seed):
    rng = np.random.default_rng(seed)
    centres = np.asarray(centres, dtype=float)
    return (centres[:, None, :] + spread * rng.normal(size=(len(centres), n, centres.shape[1]))).reshape(
        -1, centres.shape[1]
    )


@pytest.mark.parametrize(
    ("centres", "spread", "n"),
    [
        pytest.param([[1e4, 1e4], [1e4 + 1, 1e4], [1e4, 1e4 + 1]], 1e-3, 100, id="tight-at-1e4"),
        pytest.param([[1e4, 0.0], [0.0, 1e4], [-1e4, -1e4]], 1e-3, 100, id="tight-far-apart"),
        pytest.param([[0.0], [100.0]], 1e-4, 25, id="J-about-5e-7"),
    ],
)
def test_distortion_history_is_the_direct_sum(centres, spread, n):
    X = tight_far_clusters(centres, spread, n, seed=0)
    init = X[:: n + 1][: len(centres)] + spread  # one point of each cluster, moved off the data
    _, _, history, n_iters = kmeans(X, len(centres), tol=0, init=init)
    expected = lloyd_distortions(X, init, n_iters)
    assert n_iters >= 2 and all(J > 0 for J in expected)
    np.testing.assert_allclose(history, expected, rtol=1e-9, atol=0)


def test_kmeans_without_init_is_reproducible_with_same_seed():
    X = blobs(0, centers=4)
    a = kmeans(X, 4, rng=np.random.default_rng(7))
    b = kmeans(X, 4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_assign_clusters_matches_brute_force():
    rng = np.random.default_rng(0)
    X, centroids = rng.normal(size=(500, 4)), rng.normal(size=(9, 4))
    labels = assign_clusters(X, centroids)
    assert labels.shape == (500,) and np.issubdtype(labels.dtype, np.integer)
    np.testing.assert_array_equal(labels, nearest(X, centroids))


def test_assign_clusters_breaks_ties_to_lowest_index():
    centroids = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0], [0.0, 0.0]])  # 4 repeats 0
    X = np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 1.0], [1.0, 2.0], [0.0, 0.0], [-0.5, -0.25], [0.5, 1.0]])
    expected = [0, 0, 1, 2, 0, 0, 0]  # nearest: {0, 1, 4}, all, {1, 3}, {2, 3}, {0, 4}, {0, 4}, {0, 2, 4}
    assert nearest(X, centroids).tolist() == expected
    assert assign_clusters(X, centroids).tolist() == expected


@pytest.mark.parametrize("k", [1, 300])  # 300 centroids: more than one byte of index
def test_assign_clusters_over_many_blocks_matches_brute_force(k):
    # the assignment runs over blocks of points: cover several blocks, with exact ties planted in the last
    rng = np.random.default_rng(3)
    X = rng.integers(-8, 9, size=(10_000, 3)).astype(float)  # integer grid: many exact ties
    centroids = rng.integers(-8, 9, size=(k, 3)).astype(float)
    X[-50:] = centroids[0] + (centroids[-1] - centroids[0]) / 2  # midway between the first and last centroid
    np.testing.assert_array_equal(assign_clusters(X, centroids), nearest(X, centroids))


# The two tests below fail while assign_clusters ranks centroids by ||c||^2 - 2 x.c: rounding that
# expansion (errors of the order of ||x||^2 * 1e-16) breaks exact ties either way and, far from the
# origin, swamps the gaps between distances. Squared differences (x - c)^2 have neither problem.
def test_assign_clusters_breaks_ties_between_any_floats_to_lowest_index():
    rng = np.random.default_rng(8)
    a, b = 1 + rng.integers(0, 2**51, size=(2, 200)) * 2.0**-51  # even multiples of 2^-52 in [1, 2)
    x = (a + b) / 2  # exact, and so are x - a == b - x: each x is exactly midway
    labels = [assign_clusters([[xi]], [[ai], [bi]])[0] for xi, ai, bi in zip(x, a, b)]
    assert labels == [0] * 200


def test_assign_clusters_far_from_origin():
    offsets = np.linspace(0, 1, 21)[np.arange(21) != 10]  # nearer to 0 or to 1, never midway
    X, centroids = 1e9 + offsets[:, None], 1e9 + np.array([[0.0], [1.0]])
    np.testing.assert_array_equal(assign_clusters(X, centroids), offsets > 0.5)


def test_update_centroids_matches_means_by_loop():
    rng = np.random.default_rng(1)
    X, labels, k = rng.normal(size=(200, 3)), rng.integers(0, 5, size=200), 5
    expected = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    np.testing.assert_allclose(update_centroids(X, labels, np.zeros((k, 3))), expected, rtol=1e-12)


def test_update_centroids_empty_cluster_keeps_its_centroid():
    rng = np.random.default_rng(2)
    X, labels = rng.normal(size=(50, 2)), rng.integers(0, 2, size=50) * 2  # cluster 1 and 3 get no points
    centroids = rng.normal(size=(4, 2))
    new = update_centroids(X, labels, centroids)
    np.testing.assert_array_equal(new[[1, 3]], centroids[[1, 3]])
    np.testing.assert_allclose(new[[0, 2]], [X[labels == 0].mean(axis=0), X[labels == 2].mean(axis=0)])


def test_update_centroids_does_not_modify_its_input():
    X, centroids = np.arange(12.0).reshape(6, 2), np.zeros((2, 2))
    update_centroids(X, np.array([0, 0, 0, 1, 1, 1]), centroids)
    np.testing.assert_array_equal(centroids, 0)


def test_kmeans_empty_cluster_keeps_its_centroid():
    X, init = blobs_case(3, 1)
    far = np.full((1, 2), 1e3)  # nearer to no point than the other starts
    centroids, labels, _, _ = kmeans(X, 4, tol=0, init=np.vstack([init, far]))
    np.testing.assert_array_equal(centroids[3], far[0])
    assert 3 not in labels


def test_compute_distortion_matches_closed_form():
    # at the cluster means, J = sum over clusters of n_j times the total variance of the cluster
    rng = np.random.default_rng(3)
    X, labels = rng.normal(size=(300, 4)), rng.integers(0, 3, size=300)
    means = np.array([X[labels == j].mean(axis=0) for j in range(3)])
    expected = sum((labels == j).sum() * X[labels == j].var(axis=0).sum() for j in range(3))
    J = compute_distortion(X, means, labels)
    assert isinstance(J, float)
    np.testing.assert_allclose(J, expected, rtol=1e-12)


def test_compute_distortion_sums_squared_distances_to_assigned_centroids():
    rng = np.random.default_rng(4)
    X, centroids, labels = rng.normal(size=(100, 2)), rng.normal(size=(3, 2)), rng.integers(0, 3, size=100)
    expected = squared_distances(X, centroids)[np.arange(100), labels].sum()  # not only the nearest
    np.testing.assert_allclose(compute_distortion(X, centroids, labels), expected, rtol=1e-12)


def test_init_centroids_are_distinct_rows_of_X():
    X = np.random.default_rng(5).normal(size=(50, 3))
    centroids = init_centroids(X, 7, np.random.default_rng(0))
    rows = [np.flatnonzero((X == c).all(axis=1)) for c in centroids]
    assert centroids.shape == (7, 3) and all(len(r) == 1 for r in rows)
    assert len({int(r[0]) for r in rows}) == 7


def test_init_centroids_k_equals_n_uses_every_row():
    X = np.arange(10.0).reshape(5, 2)
    centroids = init_centroids(X, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(centroids[np.argsort(centroids[:, 0])], X)


def test_init_centroids_reproducible_with_same_seed_and_varies_across_seeds():
    X = np.random.default_rng(6).normal(size=(50, 3))
    first = init_centroids(X, 5, np.random.default_rng(42))
    np.testing.assert_array_equal(first, init_centroids(X, 5, np.random.default_rng(42)))
    assert not np.array_equal(first, init_centroids(X, 5, np.random.default_rng(43)))


def test_init_centroids_picks_each_point_with_frequency_k_over_n():
    n, k, trials = 10, 3, 3000
    X = np.arange(float(n))[:, None]  # row i is the number i
    counts = np.zeros(n)
    for seed in range(trials):
        counts[init_centroids(X, k, np.random.default_rng(seed))[:, 0].astype(int)] += 1
    # each frequency is binomial around k/n = 0.3 with standard deviation 0.008
    np.testing.assert_allclose(counts / trials, k / n, atol=0.04)


def test_kmeans_plusplus_picks_distinct_rows_of_X():
    X = blobs(0, centers=5, n=200)
    centroids = kmeans_plusplus(X, 5, np.random.default_rng(0))
    rows = [np.flatnonzero((X == c).all(axis=1)) for c in centroids]
    assert centroids.shape == (5, 2) and all(len(r) == 1 for r in rows)
    assert len({int(r[0]) for r in rows}) == 5  # a chosen point is at distance 0: probability 0


def test_kmeans_plusplus_reproducible_with_same_seed():
    X = blobs(1, centers=5, n=200)
    np.testing.assert_array_equal(
        kmeans_plusplus(X, 5, np.random.default_rng(3)), kmeans_plusplus(X, 5, np.random.default_rng(3))
    )


def test_kmeans_plusplus_identical_points():
    X = np.ones((6, 2))  # every distance is 0: no distribution to draw from but the uniform one
    np.testing.assert_array_equal(kmeans_plusplus(X, 3, np.random.default_rng(0)), np.ones((3, 2)))


def test_kmeans_plusplus_beats_uniform_init_on_separated_blobs():
    X = make_blobs(n_samples=500, centers=6, cluster_std=0.5, center_box=(-20, 20), random_state=0)[0]
    start_pp, start_uniform, end_pp, end_uniform = [], [], [], []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        pp, uniform = kmeans_plusplus(X, 6, rng), X[rng.choice(len(X), size=6, replace=False)]
        start_pp.append(squared_distances(X, pp).min(axis=1).sum())
        start_uniform.append(squared_distances(X, uniform).min(axis=1).sum())
        end_pp.append(kmeans(X, 6, init=pp)[2][-1])
        end_uniform.append(kmeans(X, 6, init=uniform)[2][-1])
    assert np.mean(start_pp) < 0.5 * np.mean(start_uniform)  # measured: about 0.1 times
    assert np.mean(end_pp) < np.mean(end_uniform)  # measured: about 0.2 times


@pytest.mark.parametrize(
    "call",
    [
        lambda X, k: kmeans(X, k, init=None, rng=np.random.default_rng(0)),
        lambda X, k: init_centroids(X, k, np.random.default_rng(0)),
        lambda X, k: kmeans_plusplus(X, k, np.random.default_rng(0)),
    ],
    ids=["kmeans", "init_centroids", "kmeans_plusplus"],
)
class TestBadK:
    X = np.arange(6.0).reshape(3, 2)

    @pytest.mark.parametrize("k", [0, -1, 1.5])
    def test_k_not_positive_integer(self, call, k):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            call(self.X, k)

    def test_k_larger_than_n(self, call):
        with pytest.raises(ValueError, match=r"^k=5 is larger than the number of points \(3\)$"):
            call(self.X, 5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    "call",
    [
        lambda X: kmeans(X, 2, init=X[:2].copy()),
        lambda X: assign_clusters(X, np.zeros((2, 2))),
        lambda X: update_centroids(X, np.zeros(len(X), dtype=int), np.zeros((2, 2))),
        lambda X: compute_distortion(X, np.zeros((2, 2)), np.zeros(len(X), dtype=int)),
        lambda X: init_centroids(X, 2, np.random.default_rng(0)),
    ],
    ids=["kmeans", "assign_clusters", "update_centroids", "compute_distortion", "init_centroids"],
)
def test_non_finite_X_raises(call, bad):
    X = np.arange(8.0).reshape(4, 2)
    X[2, 1] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        call(X)


@pytest.mark.parametrize("X", [np.arange(4.0), np.zeros((2, 2, 2))], ids=["1-D", "3-D"])
def test_X_not_2d_raises(X):
    with pytest.raises(ValueError, match=r"X must be a 2-D array of shape \(n, d\)"):
        kmeans(X, 1)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (2,)])
def test_init_of_wrong_shape_raises(shape):
    with pytest.raises(ValueError, match=r"must have shape \(2, 2\)"):
        kmeans(np.arange(8.0).reshape(4, 2), 2, init=np.zeros(shape))


def test_centroids_of_wrong_dimension_raise():
    with pytest.raises(ValueError, match=r"must have shape \(k, 2\)"):
        assign_clusters(np.zeros((4, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize("labels", [np.zeros(3, dtype=int), np.zeros((4, 1), dtype=int)], ids=["short", "2d"])
@pytest.mark.parametrize(
    "call",
    [update_centroids, lambda X, labels, c: compute_distortion(X, c, labels)],
    ids=["update_centroids", "compute_distortion"],
)
def test_labels_of_wrong_shape_raise(call, labels):
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        call(np.zeros((4, 2)), labels, np.zeros((2, 2)))
