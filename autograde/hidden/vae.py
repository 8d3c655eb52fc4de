"""Hidden cases of lesson 5: other shapes and scales than the visible checks."""

import numpy as np

from autograde.judge import Case
from autograde.serial import TensorArg

_rng = np.random.default_rng(55)


def _tensor(*shape, scale=1.0, requires_grad=False):
    return TensorArg(_rng.normal(scale=scale, size=shape), requires_grad=requires_grad)


CASES = {
    "reparameterize": [
        Case(
            "100,000 draws of a 2-D latent",
            [
                {
                    "mu": TensorArg([[-3.0, 0.1]], repeat=100_000),
                    "logvar": TensorArg([[np.log(9.0), -1.0]], repeat=100_000),
                }
            ],
            kind="the distribution of many draws",
        ),
        Case(
            "gradients, a batch of 32",
            [{"mu": _tensor(32, 20, requires_grad=True), "logvar": _tensor(32, 20, scale=0.3, requires_grad=True)}],
            kind="gradients through the sample",
        ),
    ],
    "kl_divergence": [
        Case(
            "a batch of 64, latent_dim 20",
            [{"mu": _tensor(64, 20), "logvar": _tensor(64, 20, scale=0.5)}],
            kind="a batch of several rows",
        ),
        Case("one row", [{"mu": _tensor(1, 5, scale=3.0), "logvar": _tensor(1, 5, scale=2.0)}], kind="a single row"),
    ],
    "vae_loss": [
        Case(
            "a batch of 16 MNIST-sized images, confident logits",
            [
                {
                    "x_logits": _tensor(16, 784, scale=8.0),
                    "x": TensorArg((_rng.random((16, 784)) < 0.2).astype(float)),
                    "mu": _tensor(16, 20),
                    "logvar": _tensor(16, 20, scale=0.5),
                }
            ],
            kind="a batch of several images, confident logits",
        ),
        Case(
            "a batch of 2, 64 pixels",
            [
                {
                    "x_logits": _tensor(2, 64),
                    "x": TensorArg(_rng.random((2, 64))),
                    "mu": _tensor(2, 2),
                    "logvar": _tensor(2, 2),
                }
            ],
            kind="small images",
        ),
    ],
}
