"""``python -m solutions.<lesson> [--out FILE.png]``: each answer key run as a short demonstration on the
bundled data. It prints what it fitted and saves a figure (default ``<lesson>.png`` here)."""

import argparse
import sys
import time

import matplotlib

matplotlib.use("Agg")  # a file, never a window
import matplotlib.pyplot as plt
import numpy as np

from helpers.data import load_faithful, load_mnist_5k


def _standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def kmeans_demo(ax, small):
    """k-means on Old Faithful (standardised), k = 2."""
    from solutions.kmeans import kmeans

    X = _standardised(load_faithful())
    centroids, labels, history, n_iters = kmeans(X, k=2, rng=np.random.default_rng(0))
    print(f"k-means on Old Faithful (standardised), k = 2: {n_iters} iterations, J = {history[-1]:.2f}")
    print("centroids:", np.round(centroids, 3).tolist())
    ax.scatter(*X.T, c=labels, s=12, cmap="coolwarm")
    ax.scatter(*centroids.T, marker="x", s=150, c="k", label="centroids")
    ax.set(title=f"k-means, k = 2 (J = {history[-1]:.1f})", xlabel="duration (std.)", ylabel="waiting (std.)")
    ax.legend()


def em_1d_demo(ax, small):
    """EM for a two-component 1-D Gaussian mixture on Old Faithful's eruption durations."""
    from solutions.em_1d import em_1d

    x = load_faithful()[:, 0]  # eruption durations (minutes)
    means, sigmas, weights, logliks = em_1d(x, np.array([2.0, 4.0]), np.array([1.0, 1.0]), np.array([0.5, 0.5]))
    print(f"EM in 1-D on eruption durations, 2 components: {len(logliks) - 1} iterations, log L = {logliks[-1]:.2f}")
    print("means:", np.round(means, 3).tolist(), "sigmas:", np.round(sigmas, 3).tolist())
    print("weights:", np.round(weights, 3).tolist())
    grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 400)
    density = sum(
        w * np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * np.sqrt(2 * np.pi)) for m, s, w in zip(means, sigmas, weights)
    )
    ax.hist(x, bins=30, density=True, alpha=0.4, label="durations")
    ax.plot(grid, density, "k", label="fitted mixture")
    ax.set(title="EM for a 1-D Gaussian mixture", xlabel="eruption duration (min)", ylabel="density")
    ax.legend()


def gmm_demo(ax, small):
    """EM for a two-component Gaussian mixture on Old Faithful (standardised)."""
    from solutions.gmm import em_mog

    X = _standardised(load_faithful())
    phi, mu, Sigma, w, logliks, _ = em_mog(X, k=2, rng=np.random.default_rng(0))
    print(f"EM for a Gaussian mixture on Old Faithful, k = 2: {len(logliks) - 1} iterations, log L = {logliks[-1]:.2f}")
    print("weights:", np.round(phi, 3).tolist(), "means:", np.round(mu, 3).tolist())
    ax.scatter(*X.T, c=w[:, 0], s=12, cmap="coolwarm")
    angles = np.linspace(0, 2 * np.pi, 100)
    for m, S in zip(mu, Sigma):
        ax.plot(*(m[:, None] + 2 * np.linalg.cholesky(S) @ np.array([np.cos(angles), np.sin(angles)])), "k")
    ax.set(title="Gaussian mixture, k = 2 (2-sigma ellipses)", xlabel="duration (std.)", ylabel="waiting (std.)")


def general_em_demo(ax, small):
    """The general EM loop with the Gaussian mixture's E-step, M-step and ELBO, on Old Faithful."""
    from solutions.general_em import general_em, gmm_e_step, gmm_elbo, gmm_initialize, gmm_m_step

    X = _standardised(load_faithful())
    start = gmm_initialize(X, k=2, rng=np.random.default_rng(0))
    params, _, elbos, n_iters = general_em(X, start, gmm_e_step, gmm_m_step, gmm_elbo)
    print(f"general EM with the Gaussian mixture's steps, k = 2: {n_iters} iterations, ELBO = {elbos[-1]:.2f}")
    print("weights:", np.round(params["phi"], 3).tolist())
    ax.plot(range(1, n_iters + 1), elbos, "o-")
    ax.set(title="The ELBO never decreases", xlabel="iteration", ylabel="ELBO")


def vae_demo(ax, small):
    """A variational autoencoder trained on the bundled MNIST digits, then sampled."""
    import torch

    from solutions.vae import VAE

    torch.set_num_threads(1)  # small layers: more threads only contend on a shared machine
    torch.manual_seed(0)
    images, _ = load_mnist_5k()
    X = images.reshape(len(images), -1)[: 500 if small else None] / 255
    vae = VAE(input_dim=784, hidden_dim=400, latent_dim=20)
    history = vae.fit(X, epochs=2 if small else 10)
    print(f"VAE on {len(X)} MNIST digits, {len(history['loss'])} epochs: loss {history['loss'][-1]:.1f} nats per image")
    samples = vae.sample(n_samples=16).detach().numpy().reshape(16, 28, 28)
    ax.imshow(np.block([[samples[4 * r + c] for c in range(4)] for r in range(4)]), cmap="gray")
    ax.set(title="16 digits sampled from the prior", xticks=[], yticks=[])


DEMOS = {"kmeans": kmeans_demo, "em_1d": em_1d_demo, "gmm": gmm_demo, "general_em": general_em_demo, "vae": vae_demo}


def main(lesson, argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m solutions.{lesson}", description=DEMOS[lesson].__doc__)
    parser.add_argument("--out", default=f"{lesson}.png", help="where to save the figure (default: %(default)s)")
    parser.add_argument("--small", action="store_true", help="a smaller run (for tests)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    DEMOS[lesson](ax, args.small)
    fig.tight_layout()
    try:
        fig.savefig(args.out, dpi=100)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"figure saved to {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0
