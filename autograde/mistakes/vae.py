"""Lesson 5 mistakes. Each function is named <exercise>__<mistake id>; other exercises' names
resolve to correct functions (the reference here, the notebook's own when submitted in a notebook)."""

import torch
from torch.nn import functional as F

from solutions.vae import kl_divergence


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


def _kl_terms(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def kl_divergence__kl_sign(mu, logvar):
    return -_kl_terms(mu, logvar).sum(dim=1)


def kl_divergence__kl_mean_latent(mu, logvar):
    return _kl_terms(mu, logvar).mean(dim=1)


def kl_divergence__kl_sum_batch(mu, logvar):
    return _kl_terms(mu, logvar).sum()


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
