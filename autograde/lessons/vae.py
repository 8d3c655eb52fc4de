"""Lesson 5, the variational autoencoder: each exercise declared once, with its reference, cases, judge and known
mistakes.

The functions take and return torch tensors; the cases describe tensors as TensorArg (built where
the function runs, seeded per call) and the judges see the results as NumPy arrays, with the
gradients of their sum when a case asks for them (Graded). Only the instructor's side (the references, the
mistaken and the alternative implementations) uses torch: the students' copy of this module imports none.
"""

import numpy as np
import torch
from torch.distributions import Normal
from torch.nn import functional as F

import solutions.vae as reference
from autograde.judge import Case, Exercise, Failure, Mistake, as_array, compare_array, describe, fmt
from autograde.serial import Graded, TensorArg

# data shared by cases; every random array has its own seed, so adding or reordering cases changes no other
_MU = np.array([[0.5, -1.0, 2.0, 0.0]])
_LOGVAR = np.log(np.array([[1.0, 4.0, 0.25, 0.05]]))  # variances 1, 4, 1/4, 1/20
_mu_small = np.random.default_rng(5001).normal(size=(5, 3))
_logvar_small = np.random.default_rng(5002).normal(scale=0.5, size=(5, 3))


def _batch(n, pixels, latent, seed, binary=False):
    """vae_loss's arguments for n images of the given number of pixels, drawn from their own generator."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, pixels)) < 0.4).astype(float) if binary else rng.random((n, pixels))
    return {
        "x_logits": TensorArg(rng.normal(scale=2.0, size=(n, pixels))),
        "x": TensorArg(x),
        "mu": TensorArg(rng.normal(size=(n, latent))),
        "logvar": TensorArg(rng.normal(scale=0.5, size=(n, latent))),
    }


def _tensor(seed, *shape, scale=1.0, requires_grad=False):
    """A normal random tensor argument drawn from its own seed."""
    return TensorArg(np.random.default_rng(seed).normal(scale=scale, size=shape), requires_grad=requires_grad)


# ---------------------------------------------------------------------------- reparameterize
def _draws(got, call, what="z"):
    return as_array(got, what, shape=call["mu"].shape).astype(float)


def judge_reparameterize(case, got, expected):
    """reparameterize is random: judge the moments of many draws, the variety and the gradients."""
    calls = case.calls
    outputs = [out.output if isinstance(out, Graded) else out for out in got]
    zs = [_draws(out, call) for out, call in zip(outputs, calls)]
    mu, logvar = calls[0]["mu"].values(), calls[0]["logvar"].values()
    if np.allclose(zs[0], mu):
        raise Failure("z equals mu: no noise was added", "no_noise")
    if len(zs) > 1 and np.array_equal(zs[0], zs[1]):
        raise Failure("two calls with the same mu and logvar returned the same z: draw fresh noise each call")
    if len(zs[0]) >= 10_000:  # many draws of the same rows: their mean and variance per column
        var, n = np.exp(logvar[0].astype(float)), len(zs[0])
        mean, sample_var = zs[0].mean(axis=0), zs[0].var(axis=0)
        bad = np.abs(sample_var - var) > 6 * var * np.sqrt(2 / n)
        if np.any(bad):
            j = int(np.argmax(bad))
            guesses = {"std_exp_logvar": var**2, "std_logvar": logvar[0].astype(float) ** 2}
            mistake = next(
                (m for m, v in guesses.items() if np.all(np.abs(sample_var - v) <= 6 * v * np.sqrt(2 / n) + 1e-6)), None
            )
            raise Failure(
                f"the variance of {n} draws in column {j} is {fmt(sample_var[j])}; expected about "
                f"exp(logvar) = {fmt(var[j])} (logvar = {fmt(float(logvar[0, j]))})",
                mistake,
            )
        if np.any(np.abs(mean - mu[0]) > 6 * np.sqrt(var / n)):
            raise Failure(
                f"the mean of {n} draws is {fmt(np.round(mean, 3))}; expected about mu = {fmt(mu[0].astype(float))}"
            )
    for out, call, z in zip(got, calls, zs):
        if not call["mu"].requires_grad:
            continue
        if not isinstance(out, Graded):
            raise Failure("z must be a torch tensor computed from mu and logvar, so that gradients can flow")
        g_mu, g_logvar = out.grads.get("mu"), out.grads.get("logvar")
        if g_mu is None or g_logvar is None or not np.any(g_mu) or not np.any(g_logvar):
            missing = [name for name, g in (("mu", g_mu), ("logvar", g_logvar)) if g is None or not np.any(g)]
            raise Failure(f"no gradient reaches {' and '.join(missing)}", "no_gradient")
        mu = call["mu"].values()
        if not np.allclose(g_mu, 1.0, atol=1e-5):
            raise Failure(f"d z / d mu should be 1 everywhere; got e.g. {fmt(g_mu.ravel()[0])}")
        if not np.allclose(g_logvar, 0.5 * (z - mu), atol=1e-5):
            raise Failure("d z / d logvar should be sigma * eps / 2 = (z - mu) / 2: compute sigma as exp(logvar / 2)")


def _draw(mu, std):
    return mu + std * torch.randn_like(std)


def reparameterize__std_exp_logvar(mu, logvar):
    return _draw(mu, torch.exp(logvar))


def reparameterize__std_logvar(mu, logvar):
    return _draw(mu, logvar)


def reparameterize__no_noise(mu, logvar):
    return mu + 0 * logvar


def reparameterize__no_gradient(mu, logvar):
    return torch.normal(mu, torch.exp(0.5 * logvar))


def reparameterize__rsample(mu, logvar):
    # rsample draws loc + scale * eps: the same trick, done by torch.distributions
    return Normal(mu, logvar.mul(0.5).exp(), validate_args=False).rsample()


reparameterize = Exercise(
    "reparameterize",
    points=3,
    reference=reference.reparameterize,
    judge=judge_reparameterize,
    random=True,
    visible=[
        Case(
            "50,000 draws of a 4-D latent: mean mu and variance exp(logvar)",
            [{"mu": TensorArg(_MU, repeat=50_000), "logvar": TensorArg(_LOGVAR, repeat=50_000)}],
        ),
        Case(
            "two calls with the same mu and logvar",
            [{"mu": TensorArg(_mu_small), "logvar": TensorArg(_logvar_small)}] * 2,
        ),
        Case(
            "gradients reach mu and logvar",
            [{"mu": TensorArg(_mu_small, requires_grad=True), "logvar": TensorArg(_logvar_small, requires_grad=True)}],
        ),
    ],
    hidden=[
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
            [
                {
                    "mu": _tensor(5501, 32, 20, requires_grad=True),
                    "logvar": _tensor(5502, 32, 20, scale=0.3, requires_grad=True),
                }
            ],
            kind="gradients through the sample",
        ),
    ],
    mistakes=[
        Mistake(
            "std_exp_logvar",
            "std = exp(logvar)",
            "logvar is log sigma^2, so sigma = exp(logvar / 2): use torch.exp(0.5 * logvar).",
            wrong=reparameterize__std_exp_logvar,
        ),
        Mistake(
            "std_logvar",
            "logvar used as the standard deviation",
            "logvar is the log of the variance: sigma = torch.exp(0.5 * logvar), never logvar itself.",
            wrong=reparameterize__std_logvar,
        ),
        Mistake(
            "no_noise",
            "no noise",
            "z is a random draw: mu + sigma * eps with eps = torch.randn_like(sigma), fresh at every call.",
            wrong=reparameterize__no_noise,
        ),
        Mistake(
            "no_gradient",
            "no gradient through the draw",
            "Draw the noise alone, eps = torch.randn_like(std), and return mu + std * eps with std computed from "
            "logvar (not detached): torch.normal(mu, std) and .detach() give no gradient to mu and logvar.",
            wrong=reparameterize__no_gradient,
        ),
    ],
    alternatives=[reparameterize__rsample],
)


# ---------------------------------------------------------------------------- kl_divergence
def judge_kl_divergence(case, got, expected):
    batch = case.calls[0]["mu"].shape[0]
    kl = as_array(got[0], "kl")
    if kl.shape != (batch,):
        raise Failure(f"kl must have shape ({batch},), one KL per row of mu; got {describe(got[0])}")
    compare_array(kl, np.asarray(expected[0]), "kl", rtol=1e-4)


def _kl_terms(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def kl_divergence__kl_sign(mu, logvar):
    return -_kl_terms(mu, logvar).sum(dim=1)


def kl_divergence__kl_mean_latent(mu, logvar):
    return _kl_terms(mu, logvar).mean(dim=1)


def kl_divergence__kl_sum_batch(mu, logvar):
    return _kl_terms(mu, logvar).sum()


def kl_divergence__variance_as_logvar(mu, logvar):
    var = logvar  # logvar read as the variance itself
    return (-0.5 * (1 + torch.log(var.abs()) - mu.pow(2) - var)).sum(dim=1)


def kl_divergence__halved_sum(mu, logvar):
    var = torch.exp(logvar)
    return (mu * mu + var - 1 - logvar).sum(dim=-1) / 2


kl_divergence = Exercise(
    "kl_divergence",
    points=3,
    reference=reference.kl_divergence,
    judge=judge_kl_divergence,
    visible=[
        Case(
            "mu = 0, logvar = 0: q is the prior, KL = 0",
            [{"mu": TensorArg(np.zeros((3, 4))), "logvar": TensorArg(np.zeros((3, 4)))}],
        ),
        Case(
            "a batch of 4, latent_dim 3",
            [
                {
                    "mu": TensorArg(np.random.default_rng(5003).normal(size=(4, 3))),
                    "logvar": TensorArg(np.random.default_rng(5004).normal(size=(4, 3))),
                }
            ],
        ),
        Case(
            "one latent dimension, by hand: mu = 1, logvar = 0 gives KL = 1/2",
            [{"mu": TensorArg(np.array([[1.0], [0.0]])), "logvar": TensorArg(np.array([[0.0], [np.log(2.0)]]))}],
        ),
    ],
    hidden=[
        Case(
            "a batch of 64, latent_dim 20",
            [{"mu": _tensor(5503, 64, 20), "logvar": _tensor(5504, 64, 20, scale=0.5)}],
            kind="a batch of several rows",
        ),
        Case(
            "one row",
            [{"mu": _tensor(5505, 1, 5, scale=3.0), "logvar": _tensor(5506, 1, 5, scale=2.0)}],
            kind="a single row",
        ),
    ],
    mistakes=[
        Mistake(
            "kl_sign",
            "KL with its sign flipped",
            "KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)): mind the leading minus; a KL is never negative.",
            wrong=kl_divergence__kl_sign,
            by_output=True,
        ),
        Mistake(
            "kl_mean_latent",
            "KL averaged over the latent dimensions",
            "The KL of a diagonal Gaussian is the sum of the KLs of its dimensions: sum over dim=1, do not average.",
            wrong=kl_divergence__kl_mean_latent,
            by_output=True,
        ),
        Mistake(
            "kl_sum_batch",
            "KL summed over the batch",
            "Return one KL per row, shape (batch,): sum over the latent dimensions only (dim=1).",
            wrong=kl_divergence__kl_sum_batch,
            by_output=True,
        ),
        Mistake(
            "variance_as_logvar",
            "the log-variance used as the variance",
            "The encoder returns logvar = log sigma^2: the variance is exp(logvar), and log sigma^2 is logvar itself.",
            wrong=kl_divergence__variance_as_logvar,
            by_output=True,
        ),
    ],
    alternatives=[kl_divergence__halved_sum],
)


# ---------------------------------------------------------------------------- vae_loss
def judge_vae_loss(case, got, expected):
    loss = as_array(got[0], "the loss")
    if loss.size != 1:
        raise Failure(f"the loss must be a scalar tensor (a mean over the batch); got {describe(got[0])}")
    if not np.isclose(float(loss.ravel()[0]), float(np.asarray(expected[0])), rtol=1e-4):
        raise Failure(f"the loss should be {fmt(float(np.asarray(expected[0])))}; got {fmt(float(loss.ravel()[0]))}")


def _bce(x_logits, x):
    return F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(dim=1)


def vae_loss__bce_mean_pixels(x_logits, x, mu, logvar):
    return torch.mean(
        F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").mean(dim=1) + kl_divergence(mu, logvar)
    )


def vae_loss__kl_subtracted(x_logits, x, mu, logvar):
    return torch.mean(_bce(x_logits, x) - kl_divergence(mu, logvar))


def vae_loss__kl_forgotten(x_logits, x, mu, logvar):
    return torch.mean(_bce(x_logits, x))


def vae_loss__mse(x_logits, x, mu, logvar):
    return torch.mean(((torch.sigmoid(x_logits) - x) ** 2).sum(dim=1) + kl_divergence(mu, logvar))


def vae_loss__loss_summed(x_logits, x, mu, logvar):
    return torch.sum(_bce(x_logits, x) + kl_divergence(mu, logvar))


def vae_loss__sigmoid_then_bce(x_logits, x, mu, logvar):
    return torch.mean(
        F.binary_cross_entropy(torch.sigmoid(x_logits), x, reduction="none").sum(dim=1) + kl_divergence(mu, logvar)
    )


def vae_loss__logsigmoid(x_logits, x, mu, logvar):
    # log p(x | z) by hand: x log sigmoid(l) + (1 - x) log sigmoid(-l), each term stable for large |l|
    log_px = x * F.logsigmoid(x_logits) + (1 - x) * F.logsigmoid(-x_logits)
    per_image = -log_px.sum(dim=-1) + kl_divergence(mu, logvar)
    return per_image.sum() / x.shape[0]


vae_loss = Exercise(
    "vae_loss",
    points=4,
    reference=reference.vae_loss,
    judge=judge_vae_loss,
    uses=[kl_divergence],
    visible=[
        Case("a batch of 3 images of 6 pixels", [_batch(3, 6, 2, seed=5005)]),
        Case("binary images of 20 pixels, batch of 8", [_batch(8, 20, 4, seed=5006, binary=True)]),
        Case("a batch of 2 images of 784 pixels", [_batch(2, 784, 20, seed=5007)]),
        Case(  # sigmoid(25) is 1 in float32: log(1 - sigmoid(25)) is -inf, the BCE from logits is 25
            "confident logits, some of them wrong",
            [
                {
                    "x_logits": TensorArg(np.array([[25.0, -25.0, 25.0, -25.0], [25.0, 25.0, -25.0, -25.0]])),
                    "x": TensorArg(np.array([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0]])),
                    "mu": TensorArg(np.array([[0.5, -0.5], [0.0, 1.0]])),
                    "logvar": TensorArg(np.array([[0.2, -0.3], [0.0, 0.4]])),
                }
            ],
        ),
    ],
    hidden=[
        Case(
            "a batch of 16 MNIST-sized images, confident logits",
            [
                {
                    "x_logits": _tensor(5507, 16, 784, scale=8.0),
                    "x": TensorArg((np.random.default_rng(5508).random((16, 784)) < 0.2).astype(float)),
                    "mu": _tensor(5509, 16, 20),
                    "logvar": _tensor(5510, 16, 20, scale=0.5),
                }
            ],
            kind="a batch of several images, confident logits",
        ),
        Case(
            "a batch of 2, 64 pixels",
            [
                {
                    "x_logits": _tensor(5511, 2, 64),
                    "x": TensorArg(np.random.default_rng(5512).random((2, 64))),
                    "mu": _tensor(5513, 2, 2),
                    "logvar": _tensor(5514, 2, 2),
                }
            ],
            kind="small images",
        ),
    ],
    mistakes=[
        Mistake(
            "bce_mean_pixels",
            "BCE averaged over the pixels",
            "log p(x | z) is a sum over the pixels: use reduction='none' and .sum(dim=1) (or reduction='sum' and "
            "divide by the batch size), not the default mean, which shrinks the reconstruction term by input_dim.",
            wrong=vae_loss__bce_mean_pixels,
            by_output=True,
        ),
        Mistake(
            "kl_subtracted",
            "KL subtracted",
            "The loss is the negative ELBO, -E[log p(x | z)] + KL = BCE + KL: add the KL.",
            wrong=vae_loss__kl_subtracted,
            by_output=True,
        ),
        Mistake(
            "kl_forgotten",
            "KL forgotten",
            "The negative ELBO has two terms: the reconstruction BCE and + kl_divergence(mu, logvar).",
            wrong=vae_loss__kl_forgotten,
            by_output=True,
        ),
        Mistake(
            "mse",
            "MSE instead of BCE",
            "The decoder is Bernoulli: -log p(x | z) = BCE-with-logits(x_logits, x), summed over pixels "
            "(F.binary_cross_entropy_with_logits), not the squared error.",
            wrong=vae_loss__mse,
            by_output=True,
        ),
        Mistake(
            "loss_summed",
            "loss summed over the batch",
            "Average over the batch: torch.mean of the per-image losses (the loss must not grow with the batch size).",
            wrong=vae_loss__loss_summed,
            by_output=True,
        ),
        Mistake(
            "sigmoid_then_bce",
            "sigmoid, then the binary cross-entropy",
            "A confident logit (|l| > 17 in float32) makes sigmoid(l) exactly 0 or 1 and its log -inf: compute the BCE "
            "from the logits, F.binary_cross_entropy_with_logits, which is exact for any l.",
            wrong=vae_loss__sigmoid_then_bce,
            by_output=True,
        ),
    ],
    alternatives=[vae_loss__logsigmoid],
)
