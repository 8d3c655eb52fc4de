"""Lesson 5's VAE: one training epoch of solutions.vae on MNIST-5k, on the CPU, with 1 and 2 torch threads.

The notebook's model and split: VAE(784, 400, 20), 4,500 training images and 500 held out, the default
batch size and learning rate of `fit`. Each setting starts from the same initial weights; one epoch is a
`fit(epochs=1)` call, timed after a warm-up epoch.
"""

import numpy as np
import torch

from benchmarks.kmeans import median_seconds
from helpers import load_mnist_5k
from solutions.vae import VAE, vae_loss

EPOCHS = 5  # timed epochs per setting, after one warm-up epoch
BATCH_SIZE = 128  # fit's default


def _data():
    images, _ = load_mnist_5k()
    X = images.reshape(len(images), -1).astype(np.float32) / 255
    split = np.random.default_rng(0).permutation(len(X))  # the notebook's split
    return X[split[:4500]], torch.as_tensor(X[split[4500:]])


def vae_row(threads, X_train, X_val):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    vae = VAE(784, 400, 20, device="cpu")
    seconds = median_seconds(lambda: vae.fit(X_train, epochs=1, batch_size=BATCH_SIZE, progress=False), EPOCHS)
    torch.manual_seed(0)
    with torch.no_grad():
        x_logits, mu, logvar = vae(X_val)  # one draw of z per image
    loss = float(vae_loss(x_logits, X_val, mu, logvar))
    return f"| {threads} | {seconds:.2f} | {len(X_train) / seconds:,.0f} | {loss:.1f} |"


def main():
    X_train, X_val = _data()
    before = torch.get_num_threads()
    try:
        rows = [vae_row(threads, X_train, X_val) for threads in (1, 2)]
    finally:
        torch.set_num_threads(before)
    return [
        "## VAE (lesson 5): one training epoch on the CPU",
        "",
        f"`solutions.vae.VAE(784, 400, 20).fit` on MNIST-5k ({len(X_train):,} training images, batch size"
        f" {BATCH_SIZE}, Adam), median of {EPOCHS} epochs after a warm-up epoch, with `torch.set_num_threads`."
        f" The held-out negative ELBO (nats per image, {len(X_val)} images, one draw of z) after those"
        f" {EPOCHS + 1} epochs is a sanity value only. PyTorch {torch.__version__}.",
        "",
        "| torch threads | seconds per epoch | training images per second | held-out negative ELBO |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
