"""Lesson 1, k-means: each exercise declared once, with its reference, cases, judge and known mistakes."""

import numpy as np

import solutions.kmeans as reference
from autograde.judge import Case, Exercise, Failure, Mistake, as_array, as_number, compare, compare_array, fmt
from autograde.serial import RngSeed

# data shared by cases; every random array has its own seed, so adding or reordering cases changes no other
_square = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]])  # two pairs, centres (0, .5), (4, .5)
_centres = np.array([[0, 0], [4, 1], [1, 4]])
_blobs = (_centres[:, None] + np.random.default_rng(2024).normal(0, 0.6, (3, 15, 2))).reshape(45, 2)
_cube = np.random.default_rng(2025).normal(size=(12, 3))
_distinct = np.arange(24, dtype=float).reshape(12, 2) ** 1.5  # 12 different points
_X = np.random.default_rng(90210).normal(size=(200, 5))
_far = np.concatenate(
    [np.random.default_rng(90211).normal(size=(30, 2)), np.random.default_rng(90212).normal(1e4, 1.0, size=(5, 2))]
)
_grid = np.array([[x, y] for x in range(5) for y in range(4)])  # integer coordinates
_corners = np.array([[0, 0, 0], [5, 0, 0], [0, 5, 0], [0, 0, 5]])
_blobs3d = (_corners[:, None] + np.random.default_rng(90213).normal(0, 0.8, (4, 40, 3))).reshape(160, 3)


def _points(case, key="X"):
    return np.asarray(case.calls[0][key], dtype=float)


# ---------------------------------------------------------------------------- init_centroids
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


def init_centroids__permutation(X, k, rng):
    order = rng.permutation(len(X))  # a different way to draw k distinct rows
    return [list(map(float, X[i])) for i in order[:k]]


init_centroids = Exercise(
    "init_centroids",
    points=2,
    random=True,
    reference=reference.init_centroids,
    judge=judge_init_centroids,
    visible=[
        Case("the same generator state twice", [{"X": _distinct, "k": 3, "rng": RngSeed(7)}] * 2),
        Case("k = n: every point once", [{"X": _distinct[:5], "k": 5, "rng": RngSeed(s)} for s in range(8)]),
        Case("different generators", [{"X": _distinct, "k": 2, "rng": RngSeed(s)} for s in range(20)]),
    ],
    hidden=[
        Case(
            "each point equally likely",
            [{"X": _grid[:6], "k": 2, "rng": RngSeed(s)} for s in range(300)],
            kind="uniformity over many generators",
        ),
        Case(
            "5-D data, k = 7",
            [{"X": _X, "k": 7, "rng": RngSeed(s)} for s in (3, 3, 4, 5, 6, 7)],
            kind="more dimensions and centroids",
        ),
    ],
    mistakes=[
        Mistake(
            "global_random",
            "global np.random instead of rng",
            "Draw with the generator you are given, e.g. rng.choice(n, size=k, replace=False), "
            "so that the same generator state gives the same centroids.",
            wrong=init_centroids__global_random,
        ),
        Mistake(
            "not_random",
            "non-random initialisation",
            "Different generators must give different choices: pick the indices with rng, "
            "not the first k rows (or a fixed seed).",
            wrong=init_centroids__not_random,
        ),
        Mistake(
            "with_replacement",
            "sampling with replacement",
            "The k centroids must be k different points: use replace=False.",
            wrong=init_centroids__with_replacement,
        ),
        Mistake(
            "not_from_X",
            "centroids are not points of X",
            "Return rows of X (X[idx]), not random coordinates or indices.",
            wrong=init_centroids__not_from_X,
        ),
    ],
    alternatives=[init_centroids__permutation],
)


# ---------------------------------------------------------------------------- assign_clusters
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


def assign_clusters__argmax(X, centroids):
    d2 = ((np.asarray(X)[:, None, :] - np.asarray(centroids)[None, :, :]) ** 2).sum(axis=2)
    return np.argmax(d2, axis=1)


def assign_clusters__l1_distance(X, centroids):
    d1 = np.abs(np.asarray(X)[:, None, :] - np.asarray(centroids)[None, :, :]).sum(axis=2)
    return np.argmin(d1, axis=1)


def assign_clusters__loops(X, centroids):
    labels = []
    for x in X:
        d = [sum((a - b) ** 2 for a, b in zip(x, c)) for c in centroids]
        labels.append(d.index(min(d)))
    return labels


assign_clusters = Exercise(
    "assign_clusters",
    points=2,
    reference=reference.assign_clusters,
    judge=judge_assign_clusters,
    visible=[
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
        Case(  # squared distances 8, 9, 25; L1 distances 4, 3, 5
            "the nearest centroid is diagonal",
            [{"X": np.array([[0.0, 0.0]]), "centroids": np.array([[2.0, 2.0], [3.0, 0.0], [-5.0, 0.0]])}],
        ),
    ],
    hidden=[
        Case(
            "200 points in 5-D, seven centroids",
            [{"X": _X, "centroids": _X[:7] * 0.5}],
            kind="many points in more dimensions",
        ),
        Case(
            "far-away points",
            [{"X": _far, "centroids": np.array([[0.0, 0.0], [1e4, 1e4], [5.0, 5.0]])}],
            kind="points far from the others",
        ),
        Case(
            "integer coordinates",
            [{"X": _grid, "centroids": np.array([[0.5, 0.5], [3.5, 2.5]])}],
            kind="integer-valued data",
        ),
    ],
    mistakes=[
        Mistake(
            "argmax",
            "argmax instead of argmin",
            "The nearest centroid has the smallest distance: use np.argmin over the centroids.",
            wrong=assign_clusters__argmax,
            by_output=True,
        ),
        Mistake(
            "l1_distance",
            "L1 (Manhattan) distance",
            "k-means uses the squared Euclidean distance: sum the squared differences, not their absolute values.",
            wrong=assign_clusters__l1_distance,
            by_output=True,
        ),
    ],
    alternatives=[assign_clusters__loops],
)


# ---------------------------------------------------------------------------- update_centroids
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


def update_centroids__empty_nan(X, labels, centroids):
    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    with np.errstate(invalid="ignore"):
        return np.array([X[labels == j].sum(axis=0) / np.sum(labels == j) for j in range(len(centroids))])


def update_centroids__empty_reseeded(X, labels, centroids):
    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    return np.array([X[labels == j].mean(axis=0) if np.any(labels == j) else X[j] for j in range(len(centroids))])


def update_centroids__wrong_axis(X, labels, centroids):
    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    return np.array(
        [X[labels == j].mean(axis=1) if np.any(labels == j) else centroids[j] for j in range(len(centroids))]
    )


def update_centroids__float32_loops(X, labels, centroids):
    out = np.array(centroids, dtype=np.float32)
    for j in range(len(centroids)):
        members = [x for x, label in zip(X, labels) if label == j]
        if members:
            out[j] = np.mean(members, axis=0)
    return out


update_centroids = Exercise(
    "update_centroids",
    points=2,
    reference=reference.update_centroids,
    judge=judge_update_centroids,
    visible=[
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
    ],
    hidden=[
        Case(
            "200 points, two empty clusters",
            [
                {
                    "X": _X,
                    "labels": np.random.default_rng(90214).integers(0, 3, 200) * 2,
                    "centroids": np.random.default_rng(90215).normal(size=(6, 5)),
                }
            ],
            kind="an empty cluster",
        ),
        Case(
            "integer coordinates",
            [{"X": _grid, "labels": np.arange(20) % 4, "centroids": np.zeros((4, 2))}],
            kind="integer-valued data",
        ),
    ],
    mistakes=[
        Mistake(
            "empty_nan",
            "an empty cluster becomes NaN",
            "The mean of no points is undefined (0/0): a cluster with no points keeps its current centroid.",
            wrong=update_centroids__empty_nan,
        ),
        Mistake(
            "empty_reseeded",
            "an empty cluster is moved",
            "Leave an empty cluster's centroid where it was (centroids[j]); do not re-seed it.",
            wrong=update_centroids__empty_reseeded,
        ),
        Mistake(
            "wrong_axis",
            "the mean over the wrong axis",
            "A centroid is the mean of its points, one value per coordinate: X[labels == j].mean(axis=0) (over the "
            "points), not axis=1 (over the coordinates of each point).",
            wrong=update_centroids__wrong_axis,
            by_output=True,
        ),
    ],
    alternatives=[update_centroids__float32_loops],
)


# ---------------------------------------------------------------------------- compute_distortion
def judge_compute_distortion(case, got, expected):
    compare(got[0], expected[0], "J")


def compute_distortion__mean_distortion(X, centroids, labels):
    return float(np.mean(np.sum((np.asarray(X) - np.asarray(centroids)[labels]) ** 2, axis=1)))


def compute_distortion__unsquared_distortion(X, centroids, labels):
    return float(np.sum(np.linalg.norm(np.asarray(X) - np.asarray(centroids)[labels], axis=1)))


def compute_distortion__float32_loop(X, centroids, labels):
    return np.float32(sum(np.sum((np.asarray(x) - centroids[j]) ** 2) for x, j in zip(X, labels)))


compute_distortion = Exercise(
    "compute_distortion",
    points=1,
    reference=reference.compute_distortion,
    judge=judge_compute_distortion,
    visible=[
        Case(
            "four points, two centroids",
            [{"X": _square, "centroids": np.array([[0.0, 0.5], [4.0, 0.5]]), "labels": np.array([0, 0, 1, 1])}],
        ),
        Case("3-D points, three centroids", [{"X": _cube, "centroids": _cube[:3], "labels": np.arange(12) % 3}]),
    ],
    hidden=[
        Case(
            "200 points in 5-D",
            [{"X": _X, "centroids": _X[:4], "labels": np.arange(200) % 4}],
            kind="many points in more dimensions",
        ),
        Case(
            "far-away points",
            [{"X": _far, "centroids": _far[[0, 31]], "labels": (np.arange(35) >= 30).astype(int)}],
            kind="points far from the others",
        ),
    ],
    mistakes=[
        Mistake(
            "mean_distortion",
            "mean instead of sum",
            "J is the sum over all points of the squared distances (Bishop eq. 9.1), not their mean.",
            wrong=compute_distortion__mean_distortion,
            by_output=True,
        ),
        Mistake(
            "unsquared_distortion",
            "distances not squared",
            "J adds squared distances ||x_n - mu_k||^2; you added the distances themselves.",
            wrong=compute_distortion__unsquared_distortion,
            by_output=True,
        ),
    ],
    alternatives=[compute_distortion__float32_loop],
)


# ---------------------------------------------------------------------------- kmeans
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
    if history.ndim != 1:
        raise Failure(f"distortion_history must be a flat list of numbers; got an array of shape {history.shape}")
    if not 1 <= history.size <= n_iters + 1:
        raise Failure(f"distortion_history holds {history.size} values for n_iters = {n_iters}: one J per iteration")
    rises = np.flatnonzero(np.diff(history) > 1e-9 * max(1.0, float(np.max(np.abs(history)))))
    if len(rises):
        i = rises[0]
        raise Failure(f"J must never increase; distortion_history[{i + 1}] = {fmt(history[i + 1])} > {fmt(history[i])}")
    if not np.isclose(history[-1], exp_history[-1], rtol=1e-5):
        raise Failure(f"the last J in distortion_history should be {fmt(exp_history[-1])}; got {fmt(history[-1])}")


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


def kmeans__while_loop(X, k, max_iters=100, tol=1e-6, rng=None, init=None):
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


kmeans = Exercise(
    "kmeans",
    points=3,
    reference=reference.kmeans,
    judge=judge_kmeans,
    uses=[assign_clusters, update_centroids, compute_distortion],
    visible=[
        Case(
            "one iteration (max_iters=1)",
            [{"X": _blobs, "k": 3, "init": _blobs[[0, 15, 30]] + 0.5, "max_iters": 1, "rng": RngSeed(0)}],
        ),
        Case("three blobs from a given init", [{"X": _blobs, "k": 3, "init": _blobs[[0, 1, 2]], "rng": RngSeed(0)}]),
        Case(
            "four points, converged after two iterations",
            [{"X": _square, "k": 2, "rng": RngSeed(0), "init": np.array([[0.0, 0.0], [4.0, 0.0]])}],
        ),
    ],
    hidden=[
        Case(
            "four blobs in 3-D",
            [{"X": _blobs3d, "k": 4, "init": _blobs3d[[0, 1, 2, 3]], "rng": RngSeed(1)}],
            kind="well-separated blobs in more dimensions",
        ),
        Case(
            "an empty cluster along the way",
            [
                {
                    "X": _blobs3d,
                    "k": 4,
                    "rng": RngSeed(1),
                    "init": np.array([[0, 0, 0], [5, 0, 0], [0, 5, 0], [50, 50, 50.0]]),
                }
            ],
            kind="a cluster that empties during the run",
        ),
        Case(
            "max_iters=3",
            [{"X": _X, "k": 5, "init": _X[:5], "max_iters": 3, "rng": RngSeed(2)}],
            kind="a small max_iters",
        ),
        Case(
            "a loose tol stops early",
            [{"X": _X, "k": 5, "init": _X[:5], "tol": 0.5, "rng": RngSeed(2)}],
            kind="a loose tol",
        ),
    ],
    mistakes=[
        Mistake(
            "init_ignored",
            "init ignored",
            "When init is given, start from it (copy it); call init_centroids only when init is None.",
            wrong=kmeans__init_ignored,
        ),
        Mistake(
            "never_stops",
            "never stops early",
            "Stop as soon as no centroid moved more than tol in an iteration, not always after max_iters.",
            wrong=kmeans__never_stops,
        ),
        Mistake(
            "one_step",
            "stops after one step",
            "Keep iterating while the centroids still move (more than tol), up to max_iters.",
            wrong=kmeans__one_step,
        ),
    ],
    alternatives=[kmeans__while_loop],
)
