"""Lesson 1, k-means: the exercises, their visible cases, how each is judged, and known mistakes."""

import numpy as np

from autograde.judge import Case, Exercise, Failure, Mistake, as_array, as_number, compare, compare_array, fmt
from autograde.serial import RngSeed

MISTAKES = {
    "global_random": Mistake(
        "init_centroids",
        "global np.random instead of rng",
        "Draw with the generator you are given, e.g. rng.choice(n, size=k, replace=False), "
        "so that the same generator state gives the same centroids.",
    ),
    "not_random": Mistake(
        "init_centroids",
        "non-random initialisation",
        "Different generators must give different choices: pick the indices with rng, "
        "not the first k rows (or a fixed seed).",
    ),
    "with_replacement": Mistake(
        "init_centroids",
        "sampling with replacement",
        "The k centroids must be k different points: use replace=False.",
    ),
    "not_from_X": Mistake(
        "init_centroids",
        "centroids are not points of X",
        "Return rows of X (X[idx]), not random coordinates or indices.",
    ),
    "argmax": Mistake(
        "assign_clusters",
        "argmax instead of argmin",
        "The nearest centroid has the smallest distance: use np.argmin over the centroids.",
        by_output=True,
    ),
    "l1_distance": Mistake(
        "assign_clusters",
        "L1 (Manhattan) distance",
        "k-means uses the squared Euclidean distance: sum the squared differences, not their absolute values.",
        by_output=True,
    ),
    "empty_nan": Mistake(
        "update_centroids",
        "an empty cluster becomes NaN",
        "The mean of no points is undefined (0/0): a cluster with no points keeps its current centroid.",
    ),
    "empty_reseeded": Mistake(
        "update_centroids",
        "an empty cluster is moved",
        "Leave an empty cluster's centroid where it was (centroids[j]); do not re-seed it.",
    ),
    "mean_distortion": Mistake(
        "compute_distortion",
        "mean instead of sum",
        "J is the sum over all points of the squared distances (Bishop eq. 9.1), not their mean.",
        by_output=True,
    ),
    "unsquared_distortion": Mistake(
        "compute_distortion",
        "distances not squared",
        "J adds squared distances ||x_n - mu_k||^2; you added the distances themselves.",
        by_output=True,
    ),
    "init_ignored": Mistake(
        "kmeans",
        "init ignored",
        "When init is given, start from it (copy it); call init_centroids only when init is None.",
    ),
    "never_stops": Mistake(
        "kmeans",
        "never stops early",
        "Stop as soon as no centroid moved more than tol in an iteration, not always after max_iters.",
    ),
    "one_step": Mistake(
        "kmeans",
        "stops after one step",
        "Keep iterating while the centroids still move (more than tol), up to max_iters.",
    ),
}

# ---------------------------------------------------------------------------- visible cases
_rng = np.random.default_rng(2024)
_square = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])  # two pairs, centres (0, .5), (4, .5)
_blobs = np.concatenate([_rng.normal(c, 0.6, size=(15, 2)) for c in ([0, 0], [4, 1], [1, 4])])
_cube = _rng.normal(size=(12, 3))
_distinct = np.arange(24, dtype=float).reshape(12, 2) ** 1.5  # 12 different points

INIT_CASES = [
    Case("the same generator state twice", [{"X": _distinct, "k": 3, "rng": RngSeed(7)}] * 2),
    Case("k = n: every point once", [{"X": _distinct[:5], "k": 5, "rng": RngSeed(s)} for s in range(8)]),
    Case("different generators", [{"X": _distinct, "k": 2, "rng": RngSeed(s)} for s in range(20)]),
]
ASSIGN_CASES = [
    Case("four points, two centroids", [{"X": _square, "centroids": np.array([[0.0, 0.5], [4.0, 0.5]])}]),
    Case(
        "a tie goes to the lowest index",
        [
            {
                "X": np.array([[0.0, 0.0], [2.0, 0.0]]),
                "centroids": np.array([[-1.0, 0.0], [1.0, 0.0], [3.0, 0.0]]),
            }
        ],
    ),
    Case("3-D points, four centroids", [{"X": _cube, "centroids": _cube[[0, 3, 6, 9]] + 0.1}]),
    Case("one centroid", [{"X": _cube, "centroids": np.zeros((1, 3))}]),
]
UPDATE_CASES = [
    Case(
        "four points, two clusters",
        [{"X": _square, "labels": np.array([0, 0, 1, 1]), "centroids": np.array([[1.0, 1.0], [3.0, 0.0]])}],
    ),
    Case(
        "an empty cluster keeps its centroid",
        [
            {
                "X": _square,
                "labels": np.array([0, 0, 0, 2]),
                "centroids": np.array([[0.0, 0.0], [9.0, 9.0], [4.0, 1.0]]),
            }
        ],
    ),
    Case(
        "3-D points, three clusters",
        [{"X": _cube, "labels": np.arange(12) % 3, "centroids": np.zeros((3, 3))}],
    ),
]
DISTORTION_CASES = [
    Case(
        "four points, two centroids",
        [{"X": _square, "centroids": np.array([[0.0, 0.5], [4.0, 0.5]]), "labels": np.array([0, 0, 1, 1])}],
    ),
    Case("3-D points, three centroids", [{"X": _cube, "centroids": _cube[:3], "labels": np.arange(12) % 3}]),
]
KMEANS_CASES = [
    Case(
        "one iteration (max_iters=1)",
        [{"X": _blobs, "k": 3, "init": _blobs[[0, 15, 30]] + 0.5, "max_iters": 1, "rng": RngSeed(0)}],
    ),
    Case("three blobs from a given init", [{"X": _blobs, "k": 3, "init": _blobs[[0, 1, 2]], "rng": RngSeed(0)}]),
    Case(
        "four points, converged after two iterations",
        [{"X": _square, "k": 2, "rng": RngSeed(0), "init": np.array([[0.0, 0.0], [4.0, 0.0]])}],
    ),
]


# ---------------------------------------------------------------------------- judges
def _points(case, key="X"):
    return np.asarray(case.calls[0][key], dtype=float)


def judge_init_centroids(case, got, expected):
    """init_centroids is random: judge the support, distinctness, reproducibility, variety, uniformity."""
    picks = []
    for call, out in zip(case.calls, got):
        X, k = np.asarray(call["X"], dtype=float), call["k"]
        C = as_array(out, "centroids", shape=(k, X.shape[1]))
        # which row of X each centroid is (-1 if none)
        match = np.all(np.isclose(C[:, None, :], X[None, :, :], rtol=1e-6, atol=1e-9), axis=2)
        if not np.all(match.any(axis=1)):
            raise Failure(f"centroid {fmt(C[~match.any(axis=1)][0])} is not a row of X", "not_from_X")
        idx = match.argmax(axis=1)
        if len(set(idx.tolist())) < k:
            raise Failure(f"the centroids repeat a point of X (rows {sorted(idx.tolist())})", "with_replacement")
        picks.append(tuple(sorted(idx.tolist())))
    seeds = [call["rng"].seed for call in case.calls]
    for i in range(len(seeds)):
        for j in range(i):
            if seeds[i] == seeds[j] and picks[i] != picks[j]:
                raise Failure(
                    f"two generators with the same seed ({seeds[i]}) gave different centroids",
                    "global_random",
                )
    n, k = len(case.calls[0]["X"]), case.calls[0]["k"]
    if len(set(seeds)) >= 5 and k < n and len(set(picks)) == 1:
        raise Failure(f"{len(set(seeds))} different generators all gave the same centroids", "not_random")
    if len(set(seeds)) >= 100:  # enough draws to test that every point is equally likely
        counts = np.bincount(np.concatenate(picks), minlength=n)
        mean = len(picks) * k / n
        sd = np.sqrt(mean * (1 - k / n))
        worst = int(np.argmax(np.abs(counts - mean)))
        if abs(counts[worst] - mean) > 5 * sd:
            raise Failure(
                f"point {worst} was chosen {counts[worst]} times in {len(picks)} draws; "
                f"a uniform choice gives about {mean:.0f}"
            )


def judge_assign_clusters(case, got, expected):
    X, C = _points(case), np.asarray(case.calls[0]["centroids"], dtype=float)
    labels = as_array(got[0], "labels", shape=expected[0].shape, integer=True)
    if labels.size and (labels.min() < 0 or labels.max() >= len(C)):
        raise Failure(
            f"labels must be centroid indices in [0, {len(C)}); got values from {labels.min()} to {labels.max()}"
        )
    bad = np.flatnonzero(labels != expected[0])
    if len(bad):
        d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
        i = bad[0]
        # a different label is fine only on a tie up to rounding (loops and matrix products round differently)
        near_tie = np.isclose(d2[bad, labels[bad]], d2[bad, expected[0][bad]], rtol=1e-9, atol=1e-12)
        exact_tie = d2[bad, labels[bad]] == d2[bad, expected[0][bad]]
        if not np.all(near_tie & ~exact_tie):
            raise Failure(
                f"labels[{i}] should be {expected[0][i]} (squared distance {fmt(d2[i, expected[0][i]])}); "
                f"got {labels[i]} (squared distance {fmt(d2[i, labels[i]])})"
                + ("; on a tie, choose the lowest index" if exact_tie[0] else "")
            )


def judge_update_centroids(case, got, expected):
    call = case.calls[0]
    old = np.asarray(call["centroids"], dtype=float)
    new = as_array(got[0], "new centroids", shape=old.shape)
    empty = np.setdiff1d(np.arange(len(old)), np.asarray(call["labels"]))
    for j in empty:
        if np.any(np.isnan(new[j])):
            raise Failure(f"cluster {j} has no points and its centroid became NaN", "empty_nan")
        if not np.allclose(new[j], old[j]):
            raise Failure(
                f"cluster {j} has no points, so its centroid should stay at {fmt(old[j])}; got {fmt(new[j])}",
                "empty_reseeded",
            )
    compare_array(new, expected[0], "new centroids")


def judge_compute_distortion(case, got, expected):
    compare(got[0], expected[0], "J")


def judge_kmeans(case, got, expected):
    call = case.calls[0]
    max_iters = call.get("max_iters", 100)
    exp_centroids, exp_labels, exp_history, exp_iters = expected[0]
    if not isinstance(got[0], (tuple, list)) or len(got[0]) != 4:
        raise Failure("kmeans must return a tuple (centroids, labels, distortion_history, n_iters)")
    centroids, labels, history, n_iters = got[0]
    n_iters = as_number(n_iters, "n_iters", integer=True)
    if n_iters > max_iters:
        raise Failure(f"n_iters is {n_iters}, more than max_iters={max_iters}")
    if n_iters == max_iters and exp_iters < max_iters - 1:
        raise Failure(f"ran all max_iters={max_iters} iterations; it converges after {exp_iters}", "never_stops")
    if n_iters == 1 and exp_iters > 2:
        raise Failure(f"stopped after 1 iteration; it needs {exp_iters} to converge", "one_step")
    try:
        compare_array(centroids, exp_centroids, "centroids")
    except Failure as failure:
        # one Lloyd step from init is fully determined: a wrong result there means init was not used
        mistake = "init_ignored" if max_iters == 1 else None
        raise Failure(f"{failure.message} (from the given init, with max_iters={max_iters})", mistake) from None
    compare_array(labels, exp_labels, "labels", integer=True)
    if abs(n_iters - exp_iters) > 1:
        raise Failure(f"n_iters should be {exp_iters} (one more or less is accepted); got {n_iters}")
    history = as_array(history, "distortion_history")
    if history.ndim != 1 or not 1 <= history.size <= n_iters + 1:
        raise Failure(f"distortion_history must be a list with one J per iteration; got shape {history.shape}")
    rises = np.flatnonzero(np.diff(history) > 1e-9 * max(1.0, float(np.max(np.abs(history)))))
    if len(rises):
        i = rises[0]
        raise Failure(f"J must never increase; distortion_history[{i + 1}] = {fmt(history[i + 1])} > {fmt(history[i])}")
    if not np.isclose(history[-1], exp_history[-1], rtol=1e-5):
        raise Failure(f"the last J in distortion_history should be {fmt(exp_history[-1])}; got {fmt(history[-1])}")


EXERCISES = [
    Exercise("init_centroids", 2, INIT_CASES, judge_init_centroids, random=True),
    Exercise("assign_clusters", 2, ASSIGN_CASES, judge_assign_clusters),
    Exercise("update_centroids", 2, UPDATE_CASES, judge_update_centroids),
    Exercise("compute_distortion", 1, DISTORTION_CASES, judge_compute_distortion),
    Exercise(
        "kmeans",
        3,
        KMEANS_CASES,
        judge_kmeans,
        uses=["assign_clusters", "update_centroids", "compute_distortion"],
    ),
]
for _exercise in EXERCISES:
    _exercise.mistakes = {k: m for k, m in MISTAKES.items() if m.exercise == _exercise.name}
