"""Lesson 5, the variational autoencoder: the exercises, their visible cases, judges and known mistakes.

The functions take and return torch tensors; the cases describe tensors as TensorArg (built where
the function runs, seeded per call) and the judges see the results as NumPy arrays, with the
gradients of their sum when a case asks for them (Graded). Nothing here imports torch.
"""

import numpy as np

from autograde.judge import Case, Exercise, Failure, Mistake, as_array, compare_array, describe, fmt
from autograde.serial import Graded, TensorArg

MISTAKES = {
    "std_exp_logvar": Mistake(
        "reparameterize",
        "std = exp(logvar)",
        "logvar is log sigma^2, so sigma = exp(logvar / 2): use torch.exp(0.5 * logvar).",
    ),
    "std_logvar": Mistake(
        "reparameterize",
        "logvar used as the standard deviation",
        "logvar is the log of the variance: sigma = torch.exp(0.5 * logvar), never logvar itself.",
    ),
    "no_noise": Mistake(
        "reparameterize",
        "no noise",
        "z is a random draw: mu + sigma * eps with eps = torch.randn_like(sigma), fresh at every call.",
    ),
    "no_gradient": Mistake(
        "reparameterize",
        "no gradient through the draw",
        "Draw the noise alone, eps = torch.randn_like(std), and return mu + std * eps with std computed from "
        "logvar (not detached): torch.normal(mu, std) and .detach() give no gradient to mu and logvar.",
    ),
    "kl_sign": Mistake(
        "kl_divergence",
        "KL with its sign flipped",
        "KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)): mind the leading minus; a KL is never negative.",
        by_output=True,
    ),
    "kl_mean_latent": Mistake(
        "kl_divergence",
        "KL averaged over the latent dimensions",
        "The KL of a diagonal Gaussian is the sum of the KLs of its dimensions: sum over dim=1, do not average.",
        by_output=True,
    ),
    "kl_sum_batch": Mistake(
        "kl_divergence",
        "KL summed over the batch",
        "Return one KL per row, shape (batch,): sum over the latent dimensions only (dim=1).",
        by_output=True,
    ),
    "bce_mean_pixels": Mistake(
        "vae_loss",
        "BCE averaged over the pixels",
        "log p(x | z) is a sum over the pixels: use reduction='none' and .sum(dim=1) (or reduction='sum' and divide "
        "by the batch size), not the default mean, which shrinks the reconstruction term by input_dim.",
        by_output=True,
    ),
    "kl_subtracted": Mistake(
        "vae_loss",
        "KL subtracted",
        "The loss is the negative ELBO, -E[log p(x | z)] + KL = BCE + KL: add the KL.",
        by_output=True,
    ),
    "kl_forgotten": Mistake(
        "vae_loss",
        "KL forgotten",
        "The negative ELBO has two terms: the reconstruction BCE and + kl_divergence(mu, logvar).",
        by_output=True,
    ),
    "mse": Mistake(
        "vae_loss",
        "MSE instead of BCE",
        "The decoder is Bernoulli: -log p(x | z) = BCE-with-logits(x_logits, x), summed over pixels "
        "(F.binary_cross_entropy_with_logits), not the squared error.",
        by_output=True,
    ),
    "loss_summed": Mistake(
        "vae_loss",
        "loss summed over the batch",
        "Average over the batch: torch.mean of the per-image losses (the loss must not grow with the batch size).",
        by_output=True,
    ),
}

# ---------------------------------------------------------------------------- visible cases
_rng = np.random.default_rng(5)
_MU = np.array([[0.5, -1.0, 2.0, 0.0]])
_LOGVAR = np.log(np.array([[1.0, 4.0, 0.25, 0.05]]))  # variances 1, 4, 1/4, 1/20
_mu_small, _logvar_small = _rng.normal(size=(5, 3)), _rng.normal(scale=0.5, size=(5, 3))


def _batch(n, pixels, latent, binary=False):
    x = (_rng.random((n, pixels)) < 0.4).astype(float) if binary else _rng.random((n, pixels))
    return {
        "x_logits": TensorArg(_rng.normal(scale=2.0, size=(n, pixels))),
        "x": TensorArg(x),
        "mu": TensorArg(_rng.normal(size=(n, latent))),
        "logvar": TensorArg(_rng.normal(scale=0.5, size=(n, latent))),
    }


REPARAMETERIZE_CASES = [
    Case(
        "50,000 draws of a 4-D latent: mean mu and variance exp(logvar)",
        [{"mu": TensorArg(_MU, repeat=50_000), "logvar": TensorArg(_LOGVAR, repeat=50_000)}],
    ),
    Case(
        "two calls with the same mu and logvar", [{"mu": TensorArg(_mu_small), "logvar": TensorArg(_logvar_small)}] * 2
    ),
    Case(
        "gradients reach mu and logvar",
        [{"mu": TensorArg(_mu_small, requires_grad=True), "logvar": TensorArg(_logvar_small, requires_grad=True)}],
    ),
]
KL_DIVERGENCE_CASES = [
    Case(
        "mu = 0, logvar = 0: q is the prior, KL = 0",
        [{"mu": TensorArg(np.zeros((3, 4))), "logvar": TensorArg(np.zeros((3, 4)))}],
    ),
    Case(
        "a batch of 4, latent_dim 3",
        [{"mu": TensorArg(_rng.normal(size=(4, 3))), "logvar": TensorArg(_rng.normal(size=(4, 3)))}],
    ),
    Case(
        "one latent dimension, by hand: mu = 1, logvar = 0 gives KL = 1/2",
        [{"mu": TensorArg(np.array([[1.0], [0.0]])), "logvar": TensorArg(np.array([[0.0], [np.log(2.0)]]))}],
    ),
]
VAE_LOSS_CASES = [
    Case("a batch of 3 images of 6 pixels", [_batch(3, 6, 2)]),
    Case("binary images of 20 pixels, batch of 8", [_batch(8, 20, 4, binary=True)]),
    Case("a batch of 2 images of 784 pixels", [_batch(2, 784, 20)]),
]


# ---------------------------------------------------------------------------- judges
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


def judge_kl_divergence(case, got, expected):
    batch = case.calls[0]["mu"].shape[0]
    kl = as_array(got[0], "kl")
    if kl.shape != (batch,):
        raise Failure(f"kl must have shape ({batch},), one KL per row of mu; got {describe(got[0])}")
    compare_array(kl, np.asarray(expected[0]), "kl", rtol=1e-4)


def judge_vae_loss(case, got, expected):
    loss = as_array(got[0], "the loss")
    if loss.size != 1:
        raise Failure(f"the loss must be a scalar tensor (a mean over the batch); got {describe(got[0])}")
    if not np.isclose(float(loss.ravel()[0]), float(np.asarray(expected[0])), rtol=1e-4):
        raise Failure(f"the loss should be {fmt(float(np.asarray(expected[0])))}; got {fmt(float(loss.ravel()[0]))}")


EXERCISES = [
    Exercise("reparameterize", 3, REPARAMETERIZE_CASES, judge_reparameterize, random=True),
    Exercise("kl_divergence", 3, KL_DIVERGENCE_CASES, judge_kl_divergence),
    Exercise("vae_loss", 4, VAE_LOSS_CASES, judge_vae_loss, uses=["kl_divergence"]),
]
for _exercise in EXERCISES:
    _exercise.mistakes = {k: m for k, m in MISTAKES.items() if m.exercise == _exercise.name}
