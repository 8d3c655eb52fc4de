"""The comparison of the course's methods (benchmarks/comparison.py), on a few hundred images in seconds."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score

from benchmarks import comparison

SEEDS = range(2)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    """Every 16th image of MNIST-5k (sorted by digit): 313 images, about 31 of each digit."""
    X, labels = comparison.images()
    return X[::16], labels[::16]


@pytest.fixture(scope="module")
def compared(digits):
    X, labels = digits
    return comparison.compare(X, labels, seeds=SEEDS, pca_dim=10, vae_epochs=1, progress=False)


def test_one_row_per_method_with_a_time_and_an_ari_per_seed(compared):
    methods, pca_seconds = compared
    assert [(m.name.split(" (")[0], m.input.split(" (")[0]) for m in methods] == [
        ("k-means", "pixels"),
        ("k-means", "PCA-10"),
        ("Gaussian mixture", "PCA-10"),
        ("VAE", "VAE latent means mu(x)"),
        ("VAE", "VAE latent means mu(x)"),
    ]
    assert pca_seconds > 0
    rows = comparison.table(methods)
    assert len(rows) == 2 + len(methods) and rows[0].count("|") == rows[-1].count("|") == 7
    assert "over 2 seeds" in rows[0]
    for m in methods:
        assert len(m.seconds) == len(m.aris) == len(m.labels) == len(SEEDS)
        assert all(s > 0 for s in m.seconds)
        assert all(-1 <= a <= 1 for a in m.aris)


def test_the_aris_score_the_labels_of_each_seed(compared, digits):
    methods, _ = compared
    _, truth = digits
    for m in methods:
        for labels, ari in zip(m.labels, m.aris):
            assert labels.shape == truth.shape and set(np.unique(labels)) <= set(range(comparison.K))
            assert ari == pytest.approx(adjusted_rand_score(truth, labels))
    # clusters of the right images: k-means on 31 images of each digit finds far more than chance (ARI about 0.3)
    assert np.median(methods[1].aris) > 0.15
    assert abs(adjusted_rand_score(np.random.default_rng(0).permutation(truth), methods[1].labels[0])) < 0.05


def test_kmeans_and_the_mixture_recover_two_far_apart_clusters():
    """Two tight blobs in [0, 1]^20 far apart: Lloyd's algorithm reaches them from any two distinct rows, and so
    does EM from k-means++ seeds; an ARI of 1 is the very same partition (up to the clusters' names)."""
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 60)
    X = np.clip(0.2 + 0.6 * truth[:, None] + rng.normal(scale=0.01, size=(len(truth), 20)), 0, 1)
    methods, _ = comparison.compare(X, truth, seeds=SEEDS, k=2, pca_dim=5, vae_epochs=1, progress=False)
    for m in methods[:3]:  # k-means and the mixture
        assert [adjusted_rand_score(truth, labels) for labels in m.labels] == [1.0] * len(SEEDS), m.name
    assert comparison.table(methods)[2].split("|")[5].strip() == "1.000"


def test_the_figure_is_drawn(compared, tmp_path):
    methods, _ = compared
    comparison.figure(methods, tmp_path / "comparison.png")
    assert (tmp_path / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_readme_and_lesson_5_show_the_benchmarks_own_table():
    """The table is measured once (python -m benchmarks comparison) and copied into the README and lesson 5: a
    rerun that changes it must be copied again."""
    root = Path(__file__).parents[1]
    measured = [
        line for line in (root / "benchmarks/results/comparison.md").read_text().splitlines() if line.startswith("|")
    ]
    lesson = "".join(json.loads((root / "notebooks/05_vae.ipynb").read_text())["cells"][-1]["source"])
    assert len(measured) == 2 + 5
    readme = (root / "README.md").read_text().split("## How the methods compare")[1].split("\n## ")[0]
    for name, text in (("README.md", readme), ("05_vae.ipynb", lesson)):
        copied = [line for line in text.splitlines() if line.startswith("|")]
        assert copied == measured, f"{name}'s table differs from benchmarks/results/comparison.md"
