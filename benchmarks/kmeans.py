"""k-means (Lloyd) per iteration: solutions.kmeans against scikit-learn, and the machine's floor.

Each comparison starts both sides from the same data and the same initial centroids, runs the same
number of iterations at tol = 0, checks that labels and centroids agree before timing, and reports
medians after a warm-up, with 1 and 2 threads (BLAS and OpenMP).
"""

import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from benchmarks.plot import bar_chart
from solutions.kmeans import assign_clusters, kmeans

SIZES = [(10_000, 2, 5), (100_000, 16, 10), (1_000_000, 2, 8), (50_000, 64, 50)]
ITERS = 10


def median_seconds(fn, repeats=5):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def machine_rates():
    """(memory read bandwidth in bytes/s, one-thread matrix product rate in flop/s), measured here."""
    with threadpool_limits(1):
        big = np.ones(32_000_000)  # 256 MB, far beyond any cache
        read = median_seconds(big.sum)
        a = np.random.default_rng(0).random((1000, 1000))
        gemm = median_seconds(lambda: a @ a)
    return big.nbytes / read, 2e9 / gemm


def _sklearn(X, init, k):
    return KMeans(k, algorithm="lloyd", n_init=1, init=init, max_iter=ITERS, tol=0).fit(X)


def expansion_assign(X, centroids):
    """The assignment by the matrix product ||x||^2 - 2 x.c + ||c||^2 (what the lesson calls faster, and
    scikit-learn computes): timed for comparison only, since it rounds equal distances apart."""
    d2 = np.sum(X**2, axis=1)[:, None] - 2 * X @ centroids.T + np.sum(centroids**2, axis=1)
    return np.argmin(d2, axis=1)


def kmeans_row(n, d, k, bandwidth, flops):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1))
    init = X[rng.choice(n, size=k, replace=False)]
    centroids, labels, _, n_iters = kmeans(X, k, max_iters=ITERS, tol=0, init=init)
    ref = _sklearn(X, init, k)
    assert n_iters == ref.n_iter_, (n_iters, ref.n_iter_)
    np.testing.assert_array_equal(labels, ref.labels_)
    np.testing.assert_allclose(centroids, ref.cluster_centers_, rtol=1e-9, atol=1e-12)
    t_ours = median_seconds(lambda: kmeans(X, k, max_iters=ITERS, tol=0, init=init)) / n_iters
    t_ref = median_seconds(lambda: _sklearn(X, init, k)) / n_iters
    t_assign = median_seconds(lambda: assign_clusters(X, init))  # cdist and argmin: each iteration starts with them
    t_expansion = median_seconds(lambda: expansion_assign(X, init))
    # One iteration reads every point at least once (n d 8 bytes) and computes n k distances (2 n d k flops).
    floor = max(X.nbytes / bandwidth, 2 * n * d * k / flops)
    return t_ref, t_ours, t_assign, t_expansion, floor


def main():
    bandwidth, flops = machine_rates()
    rows, table = {}, []
    for threads in (1, 2):
        with threadpool_limits(threads):
            for n, d, k in SIZES:
                row = rows[(n, d, k, threads)] = kmeans_row(n, d, k, bandwidth, flops)
                t_ref, t_ours, t_assign, t_expansion, floor = row
                table.append(
                    f"| ({n:,}, {d}, {k}) | {threads} | {t_ref * 1e3:.2f} | {t_ours * 1e3:.2f} | "
                    f"**{t_ours / t_ref:.2f}x** | {t_assign * 1e3:.2f} ({t_assign / t_ref:.2f}x) | "
                    f"{t_expansion * 1e3:.2f} ({t_expansion / t_ref:.2f}x) | "
                    f"{floor * 1e3:.2f} | {t_ref / floor:.1f}x | {t_ours / floor:.1f}x |"
                )
    labels = [f"({n:,}, {d}, {k}), {t} thr." for n, d, k, t in rows]

    def share(column, size):  # a column's time over scikit-learn's iteration, on 1 and 2 threads
        return " and ".join(f"{rows[(*size, t)][column] / rows[(*size, t)][0]:.2f}x" for t in (1, 2))

    def swapped(size):  # the iteration's time with the expansion's assignment in place of the answer's
        return " and ".join(f"{(r[1] - r[2] + r[3]) / r[0]:.2f}x" for r in (rows[(*size, t)] for t in (1, 2)))

    plot = bar_chart(
        "kmeans",
        "k-means (Lloyd), ms per iteration",
        labels,
        {
            "scikit-learn": [r[0] * 1e3 for r in rows.values()],
            "solutions.kmeans": [r[1] * 1e3 for r in rows.values()],
            "floor (memory or flops)": [r[4] * 1e3 for r in rows.values()],
        },
    )
    return [
        "## k-means (Lloyd), ms per iteration",
        "",
        f"Medians of 5 runs after a warm-up; same data and initial centroids on both sides, {ITERS} iterations"
        f" at tol = 0; labels equal and centroids within rtol 1e-9 of scikit-learn's before timing."
        f" `solutions.kmeans.kmeans` against `KMeans(algorithm='lloyd', n_init=1, init=<same>, tol=0)`"
        f" (scikit-learn {sklearn.__version__}; target: 3x or less at (1M, 2, 8) and (50k, 64, 50)).",
        "",
        "| (n, d, k) | threads | scikit-learn | solutions.kmeans | ratio | assign_clusters alone |"
        " by the expansion | floor | scikit-learn / floor | solutions / floor |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *table,
        "",
        plot,
        "",
        f"The floor is what this machine cannot beat on one core: every iteration reads all of X (n d 8 bytes,"
        f" at the {bandwidth / 1e9:.1f} GB/s that one core reads from memory here) and computes n k distances"
        f" (2 n d k flops, at the {flops / 1e9:.0f} GFLOP/s of a one-thread matrix product). At d = 2 the floor"
        " is memory (16 MB per iteration at n = 1M), and both sides are far above it: the per-element work of"
        " n k distances and their argmin dominates. Only (50k, 64, 50) is compute-bound.",
        "",
        "The reference is the answer key as students read it: each iteration calls `assign_clusters`"
        " (SciPy's `cdist` for the n k squared distances, then `argmin`), `update_centroids` (each cluster's"
        " sum by `np.bincount` with weights, one pass per coordinate, over its count) and `compute_distortion`"
        " (one more pass over X), and each checks its inputs. scikit-learn fuses distances, argmin and cluster"
        " sums into one compiled loop over blocks of points that stay in cache, and with 2 threads runs that"
        " loop in parallel (OpenMP), while `cdist`, `argmin` and `bincount` run on one core: the ratios grow"
        " with the threads.",
        "",
        f"**The target (3x) is missed.** The column *assign_clusters alone* shows where the time goes: the"
        f" answer's two lines, `cdist` and `argmin`, already take {share(2, (1_000_000, 2, 8))} of"
        f" scikit-learn's whole iteration at (1M, 2, 8) (1 and 2 threads) and {share(2, (50_000, 64, 50))} at"
        " (50k, 64, 50), before the update and J. At d = 2 the time is `cdist`'s loop and `argmin` over rows"
        " of 8; at d = 64 it is `cdist`'s n k d subtractions, one at a time, where a matrix product uses the"
        " vector units. The column *by the expansion* times that product, ||x||^2 - 2 x.c + ||c||^2 and `argmin`"
        f" (what the lesson mentions as faster, and what scikit-learn computes): {share(3, (1_000_000, 2, 8))}"
        f" at (1M, 2, 8), where it is slower than `cdist`, and {share(3, (50_000, 64, 50))} at"
        " (50k, 64, 50). Put in place of `cdist` and `argmin`, with the rest of the iteration as measured"
        f" (update, J and the checks), it would give {swapped((1_000_000, 2, 8))} at (1M, 2, 8) and"
        f" {swapped((50_000, 64, 50))} at (50k, 64, 50) (estimated by subtraction): above 3x too. And it is not the"
        " answer: it rounds equal distances apart, so a tie would not go to the"
        " lowest index as the lesson and the grader ask, and it loses the distances of data far from the"
        " origin to cancellation. What was given up for clear code: the earlier reference (blocked matrix"
        " products of [X, 1] with [-2c, ||c||^2], a rounding slack with an exact tie repair, a weighted `max`"
        " in place of `argmin`, cluster sums as a sparse product, J by an identity) ran at 0.8x to 1.65x of"
        " scikit-learn, in 95 to 145 lines per function that taught nothing of the lesson.",
        "",
    ]
