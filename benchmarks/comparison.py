"""The course's methods side by side on MNIST-5k: k-means, the Gaussian mixture (EM) and clustering in the
latent space of a VAE, each fitted with 10 seeds and scored against the digits' labels.

Every method sees the same 5,000 images (grey levels / 255) and none sees the labels; each fit is timed on
one thread (BLAS, OpenMP and torch) and scored by the adjusted Rand index (ARI) of its clusters against the
true digits: 1 for the same partition, about 0 for a random one. The spread of the ARI over the seeds
measures how much the result depends on the initialisation.

- k-means (lesson 1, `solutions.kmeans.kmeans`, initial centroids k rows drawn at random) on the raw pixels
  and on the first PCA components;
- the Gaussian mixture (lesson 3, `solutions.gmm.em_mog`, full covariances, means started at k-means++ seeds)
  on the same PCA components, run until its own tolerance (tol = 1e-6), each image assigned to its most
  responsible component;
- the VAE (lesson 5, `solutions.vae.VAE(784, 400, 20)`) trained on the images, then k-means or the Gaussian
  mixture on the encoder's means mu(x): the time is training + encoding + clustering.
"""

import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FuncFormatter, NullFormatter
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from benchmarks.plot import RESULTS
from helpers import load_mnist_5k
from solutions.gmm import em_mog
from solutions.kmeans import kmeans
from solutions.vae import VAE

K = 10  # clusters: one per digit
SEEDS = range(10)
PCA_DIM = 50
HIDDEN_DIM, LATENT_DIM = 400, 20  # lesson 5's model
VAE_EPOCHS = 30  # the lesson trains 40; 30 keeps the 10 seeds within a few minutes on one thread
GMM_MAX_ITERS = 1000  # far above what EM needs here: it stops at its tolerance (em_mog's default, 1e-6)


@dataclass
class Method:
    """One row of the comparison: what was fitted on what, and per seed its fit time, ARI and labels."""

    name: str
    input: str
    assignment: str
    seconds: list = field(default_factory=list)
    aris: list = field(default_factory=list)
    labels: list = field(default_factory=list)

    def record(self, seconds, labels, truth):
        self.seconds.append(seconds)
        self.labels.append(np.asarray(labels))
        self.aris.append(float(adjusted_rand_score(truth, labels)))


def images():
    """MNIST-5k as (X, digits): X of shape (5000, 784), float64 grey levels in [0, 1]."""
    pixels, digits = load_mnist_5k()
    return pixels.reshape(len(pixels), -1).astype(np.float64) / 255, digits


def kmeans_labels(X, k, seed):
    """Labels of solutions.kmeans from k rows of X drawn with default_rng(seed), run to its tolerance."""
    return kmeans(X, k, rng=np.random.default_rng(seed))[1]


def gmm_labels(X, k, seed):
    """Most responsible component of every point after solutions.gmm.em_mog (full covariances) from seed."""
    w = em_mog(X, k, rng=np.random.default_rng(seed), max_iters=GMM_MAX_ITERS, covariance_type="full")[3]
    return w.argmax(axis=1)


def vae_means(X, seed, epochs, latent_dim=LATENT_DIM):
    """Train VAE(d, 400, latent_dim) on X (initial weights and training seeded by seed); the encoder's means mu(x)."""
    torch.manual_seed(seed)  # the initial weights
    vae = VAE(X.shape[1], HIDDEN_DIM, latent_dim, device="cpu")
    vae.fit(X, epochs=epochs, seed=seed, progress=False)
    with torch.no_grad():
        return vae.encode(torch.as_tensor(X, dtype=torch.float32))[0].numpy().astype(np.float64)


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def compare(X, truth, seeds=SEEDS, k=K, pca_dim=PCA_DIM, vae_epochs=VAE_EPOCHS, latent_dim=LATENT_DIM, progress=True):
    """Fit every method once per seed on X (n, d), values in [0, 1], and score it against the labels truth.

    Returns (methods, pca_seconds): a list of Method, and the time of the PCA fit, done once (it has no
    seed) and not included in the times of the rows that use it.
    """
    Z, pca_seconds = _timed(PCA(pca_dim, svd_solver="full").fit_transform, X)
    d = X.shape[1]
    latent = f"VAE latent means mu(x) ({latent_dim}-D)"
    vae = f"VAE ({vae_epochs} epoch{'s' * (vae_epochs != 1)})"
    methods = {
        "kmeans_pixels": Method("k-means", f"pixels ({d}-D)", "hard"),
        "kmeans_pca": Method("k-means", f"PCA-{pca_dim}", "hard"),
        "gmm_pca": Method("Gaussian mixture (EM, full covariances)", f"PCA-{pca_dim}", "soft (scored by argmax)"),
        "vae_kmeans": Method(f"{vae}, then k-means", latent, "continuous latent, then hard"),
        "vae_gmm": Method(f"{vae}, then Gaussian mixture", latent, "continuous latent, then soft (argmax)"),
    }
    warm = X[: max(4 * k, 64)]  # a warm-up of every method, not timed: the first calls pay for imports and allocations
    vae_means(warm, 0, 1, latent_dim)
    kmeans_labels(warm, k, 0)
    gmm_labels(Z[: len(warm), :2], k, 0)  # in 2-D, where a few points per component make no singular covariance
    for seed in tqdm(list(seeds), desc="comparison", unit="seed", disable=not progress):
        for key, fn, data in (
            ("kmeans_pixels", kmeans_labels, X),
            ("kmeans_pca", kmeans_labels, Z),
            ("gmm_pca", gmm_labels, Z),
        ):
            labels, seconds = _timed(fn, data, k, seed)
            methods[key].record(seconds, labels, truth)
        M, train_seconds = _timed(vae_means, X, seed, vae_epochs, latent_dim)
        for key, fn in (("vae_kmeans", kmeans_labels), ("vae_gmm", gmm_labels)):
            labels, seconds = _timed(fn, M, k, seed)
            methods[key].record(train_seconds + seconds, labels, truth)
    return list(methods.values()), pca_seconds


def table(methods):
    """The markdown table of the comparison, one row per method."""
    n = len(methods[0].aris)
    rows = [
        f"| method | input | assignment | fit time (s, median) | ARI median | ARI min–max over {n} seeds |",
        "|---|---|---|---|---|---|",
    ]
    for m in methods:
        rows.append(
            f"| {m.name} | {m.input} | {m.assignment} | {np.median(m.seconds):.2f} | {np.median(m.aris):.3f} |"
            f" {min(m.aris):.3f}–{max(m.aris):.3f} |"
        )
    return rows


def figure(methods, path):
    """ARI per seed (left) and fit time per seed (right, log scale), one line per method; saved to path."""
    names = [f"{m.name}\non {m.input}" for m in methods]
    y = np.arange(len(methods))
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, size=len(methods[0].aris))
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(10, 0.75 * len(methods) + 1.4), sharey=True, width_ratios=(3, 2), layout="constrained"
    )
    for i, m in enumerate(methods):
        colour = f"C{i}"
        left.scatter(m.aris, i + jitter[: len(m.aris)], color=colour, s=18, alpha=0.8)
        left.plot([np.median(m.aris)] * 2, [i - 0.3, i + 0.3], color=colour, lw=2.5)
        right.scatter(m.seconds, i + jitter[: len(m.seconds)], color=colour, s=18, alpha=0.8)
        right.plot([np.median(m.seconds)] * 2, [i - 0.3, i + 0.3], color=colour, lw=2.5)
    left.set_yticks(y, names, fontsize="small")
    left.invert_yaxis()
    left.set_xlabel("adjusted Rand index against the digits (1 = the same partition)")
    left.set_title(f"agreement with the labels, {len(methods[0].aris)} seeds (bar: median)", fontsize="medium")
    right.set_xscale("log")
    right.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    right.xaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("seconds, one thread")
    right.set_title("time to fit", fontsize="medium")
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def cpu():
    """The machine's processor and its number of CPUs, in words (the sections run at other times can differ)."""
    cpuinfo = Path("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M) if cpuinfo.exists() else None
    return f"{model[1].strip() if model else platform.processor() or 'cpu'}, {os.cpu_count()} CPUs"


def main():
    X, digits = images()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            start = time.perf_counter()
            methods, pca_seconds = compare(X, digits)
            total = time.perf_counter() - start
    finally:
        torch.set_num_threads(before)
    figure(methods, RESULTS / "comparison.png")
    return [
        "## The methods compared: k-means, Gaussian mixture, VAE latent space (MNIST-5k)",
        "",
        f"All {len(X):,} images of MNIST-5k (grey levels / 255, labels unseen), k = {K} clusters, seeds"
        f" {SEEDS.start}–{SEEDS.stop - 1}, one thread (BLAS, OpenMP and `torch.set_num_threads(1)`) on"
        f" {cpu()}; the whole run took {total / 60:.1f} minutes. *Fit time*: median over the seeds of one"
        f" fit, from the given input to the labels; the PCA to {PCA_DIM} components"
        f" (`sklearn.decomposition.PCA`, fitted once: {pca_seconds:.2f} s) is not included. *ARI*: adjusted"
        " Rand index of the clusters against the true digits (`sklearn.metrics.adjusted_rand_score`; 1 = the"
        " same partition, about 0 = chance); its spread over the seeds is the sensitivity to the"
        " initialisation (the seed draws k-means' initial centroids, the mixture's k-means++ seeds, the VAE's"
        " initial weights and batches).",
        "",
        *table(methods),
        "",
        "![ARI per seed and time to fit of each method](results/comparison.png)",
        "",
        "k-means: `solutions.kmeans.kmeans(X, k=10, rng=default_rng(seed))`, k random rows as initial"
        " centroids, until no centroid moves more than 1e-6. Gaussian mixture:"
        f" `solutions.gmm.em_mog(X, k=10, rng=default_rng(seed), max_iters={GMM_MAX_ITERS})`, full covariances,"
        " reg_covar = 1e-6, until the log-likelihood rises by less than 1e-6; each image scored by its most"
        f" responsible component. VAE: `solutions.vae.VAE(784, {HIDDEN_DIM}, {LATENT_DIM})` (lesson 5's model),"
        f" `torch.manual_seed(seed)` then `fit(X, epochs={VAE_EPOCHS}, seed=seed)` (batch size 128, Adam) on all"
        " the images, then k-means or the mixture on the encoder's means mu(x); its time is the training, the"
        " encoding and the clustering. Clusters' shapes: k-means cuts its input into Voronoi cells (round"
        " clusters of equal size are what it finds well), the mixture fits one ellipsoid per cluster, and"
        " through the VAE both work on a learnt non-linear map of the pixels. Cost per iteration: O(nkd) for"
        " k-means, O(nkd²) for the full-covariance mixture, the network's forward and backward passes for the"
        " VAE.",
        "",
    ]
