"""A variational autoencoder (Kingma & Welling, 2013) for binary-ish images, in PyTorch.

EM maximises the ELBO by setting Q to the exact posterior p(z | x). When that posterior is
intractable, a VAE learns an approximate one, q(z | x; phi) = N(mu(x), diag(exp(logvar(x)))), with an
encoder network, and maximises the same bound for every image,

    ELBO(x) = E_q[log p(x | z; theta)] - KL(q(z | x; phi) || N(0, I)),

by stochastic gradients on both networks at once, through the reparameterisation trick.
"""

import numbers
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # chosen once, used by every VAE


def reparameterize(mu, logvar):
    """A draw z ~ N(mu, diag(exp(logvar))) through which gradients flow to mu and logvar.

    Parameters
    ----------
    mu : Tensor of shape (batch, latent_dim)
    logvar : Tensor of shape (batch, latent_dim)
        Log-variances (the log of sigma squared).

    Returns
    -------
    z : Tensor of shape (batch, latent_dim)
        mu + exp(logvar / 2) * eps with fresh noise eps ~ N(0, I): the randomness is moved into eps,
        so z is a differentiable function of mu and logvar.
    """
    std = torch.exp(0.5 * logvar)  # sigma = exp(log sigma^2 / 2)
    return mu + std * torch.randn_like(std)


def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) of every row, in closed form.

    Parameters
    ----------
    mu, logvar : Tensor of shape (batch, latent_dim)

    Returns
    -------
    kl : Tensor of shape (batch,)
        -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)), summed over the latent dimensions
        (Kingma & Welling 2013, appendix B); 0 exactly when mu = 0 and logvar = 0.
    """
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def vae_loss(x_logits, x, mu, logvar):
    """The negative ELBO, averaged over the batch.

    Parameters
    ----------
    x_logits : Tensor of shape (batch, input_dim)
        The decoder's output before the sigmoid: p(x_k = 1 | z) = sigmoid(x_logits_k).
    x : Tensor of shape (batch, input_dim)
        The images, pixel values in [0, 1].
    mu, logvar : Tensor of shape (batch, latent_dim)
        The encoder's output for x.

    Returns
    -------
    loss : Tensor of shape ()
        mean over the batch of [sum over pixels of BCE-with-logits(x_logits, x) + KL]: a one-sample
        estimate of -ELBO in nats per image.
    """
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(dim=1)
    return torch.mean(reconstruction + kl_divergence(mu, logvar))


def _check_count(name, value, minimum=1):
    """value as an int >= minimum (Python or NumPy integers); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _as_images(X, input_dim):
    """X as a float32 tensor of shape (n, input_dim) with values in [0, 1] (on the CPU)."""
    X = torch.as_tensor(np.asarray(X, dtype=np.float32) if not torch.is_tensor(X) else X, dtype=torch.float32)
    X = X.detach().cpu().flatten(start_dim=1) if X.ndim > 1 else X
    if X.ndim != 2 or X.shape[1] != input_dim:
        raise ValueError(f"X must hold images of {input_dim} pixels, shape (n, {input_dim}); got {tuple(X.shape)}")
    if len(X) == 0:
        raise ValueError("X has no images (n = 0)")
    if not torch.all(torch.isfinite(X)) or X.min() < 0 or X.max() > 1:
        raise ValueError("X must hold pixel values in [0, 1]: divide 8-bit images by 255")
    return X


class VAE(nn.Module):
    """A VAE with one hidden layer in the encoder and in the decoder (as in PyTorch's examples/vae).

    Parameters
    ----------
    input_dim : int, default=784
        Pixels per image (28 x 28).
    hidden_dim : int, default=400
    latent_dim : int, default=20
    device : torch.device or str, optional
        Where the model and its computations live; DEVICE (CUDA when available, else the CPU) by default.
    """

    def __init__(self, input_dim=784, hidden_dim=400, latent_dim=20, device=None):
        super().__init__()
        input_dim, hidden_dim, latent_dim = (
            _check_count(name, value)
            for name, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim), ("latent_dim", latent_dim))
        )
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, input_dim)
        self.device = torch.device(device) if device is not None else DEVICE
        self.to(self.device)

    def encode(self, x):
        """(mu, logvar) of q(z | x), each of shape (batch, latent_dim)."""
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        """Logits of p(x | z), shape (batch, input_dim)."""
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x):
        """(x_logits, mu, logvar) for a batch x of shape (batch, input_dim)."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar

    def _epoch_terms(self, X):
        """Mean reconstruction term and KL per image over X (no gradients), in batches."""
        loss = kl = 0.0
        with torch.no_grad():
            for batch in torch.split(X, 1024):
                batch = batch.to(self.device)
                x_logits, mu, logvar = self(batch)
                loss += float(vae_loss(x_logits, batch, mu, logvar)) * len(batch)  # a batch mean: back to a sum
                kl += float(kl_divergence(mu, logvar).sum())
        return (loss - kl) / len(X), kl / len(X)

    def fit(self, X, epochs=30, batch_size=128, lr=1e-3, X_val=None, seed=0, max_batches=None, progress=True):
        """Train with Adam on the negative ELBO (vae_loss).

        Parameters
        ----------
        X : array or Tensor of shape (n, input_dim)
            Training images, values in [0, 1].
        epochs : int, default=30
        batch_size : int, default=128
        lr : float, default=1e-3
            Adam's learning rate.
        X_val : array or Tensor of shape (m, input_dim), optional
            Held-out images, evaluated after every epoch.
        seed : int, default=0
            Seeds the shuffling and, through ``torch.manual_seed`` (torch's global generator), the noise:
            the same seed and the same initial weights give the same model (on one device). The initial
            weights come from the global generator when the VAE is built: seed before that too.
        max_batches : int, optional
            Stop each epoch after this many batches (quick runs in tests).
        progress : bool, default=True
            Show a progress bar over the epochs.

        Returns
        -------
        history : dict of lists, one entry per epoch
            ``"loss"``, ``"recon"``, ``"kl"``: training negative ELBO and its two terms, in nats per
            image (averaged over the epoch's batches); ``"val_loss"``, ``"val_recon"``, ``"val_kl"``
            on X_val when given (the reconstruction term estimated with one draw of z per image);
            ``"seconds"``: wall time of each epoch.
        """
        X = _as_images(X, self.input_dim)
        X_val = None if X_val is None else _as_images(X_val, self.input_dim)
        epochs, batch_size = _check_count("epochs", epochs), _check_count("batch_size", batch_size)
        max_batches = None if max_batches is None else _check_count("max_batches", max_batches)
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        history = {key: [] for key in ("loss", "recon", "kl", "val_loss", "val_recon", "val_kl", "seconds")}
        bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
        for _epoch in bar:
            start = time.perf_counter()
            self.train()
            totals, seen = np.zeros(2), 0
            for b, idx in enumerate(torch.randperm(len(X), generator=generator).split(batch_size)):
                if max_batches is not None and b >= max_batches:
                    break
                x = X[idx].to(self.device)
                x_logits, mu, logvar = self(x)
                loss = vae_loss(x_logits, x, mu, logvar)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    kl = float(kl_divergence(mu, logvar).sum())
                    totals += (float(loss) * len(x) - kl, kl)
                seen += len(x)
            self.eval()
            recon, kl = totals / seen
            history["loss"].append(recon + kl)
            history["recon"].append(recon)
            history["kl"].append(kl)
            if X_val is not None:
                val_recon, val_kl = self._epoch_terms(X_val)
                history["val_loss"].append(val_recon + val_kl)
                history["val_recon"].append(val_recon)
                history["val_kl"].append(val_kl)
            history["seconds"].append(time.perf_counter() - start)
            shown = {"loss": f"{history['loss'][-1]:.1f}"}
            if X_val is not None:
                shown["val_loss"] = f"{history['val_loss'][-1]:.1f}"
            bar.set_postfix(shown)
        return history

    def sample(self, n_samples):
        """n_samples images from the model: z ~ N(0, I), then the decoder's pixel probabilities.

        Returns
        -------
        images : Tensor of shape (n_samples, input_dim) on the CPU
            Probabilities in [0, 1] (the means of p(x | z)), ready to plot.
        """
        n_samples = _check_count("n_samples", n_samples, minimum=0)
        with torch.no_grad():
            z = torch.randn(n_samples, self.latent_dim, device=self.device)
            return torch.sigmoid(self.decode(z)).cpu()


if __name__ == "__main__":  # python -m solutions.vae [--out FILE.png]: a short demonstration
    import sys

    from solutions.demos import main

    sys.exit(main("vae"))
