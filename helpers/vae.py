"""Figures and a widget for the variational autoencoder: images in a grid, inputs above their
reconstructions, the two terms of the negative ELBO per epoch, and a two-dimensional latent space
(the encoder's means coloured by digit, a grid of decoded points, two sliders that decode one point).

A model enters through its decoder: ``model.decode(z)`` returns the logits of p(x | z) for a Tensor
``z`` of shape (m, latent_dim) on ``model.device``, and the pixel probabilities are their sigmoid.
torch is imported only when a model is decoded, so that ``import helpers`` stays light for the lessons
that do not use it. Images are arrays or Tensors of shape (n, d) or (n, height, width), values in [0, 1].
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from helpers.cells import DemoStopped
from helpers.stepper import FigureImage

DIGIT_COLORS = [f"C{k}" for k in range(10)]  # the tab10 cycle: one colour per digit


def _as_images(images):
    """images as a float ndarray of shape (n, d), from an array or a Tensor (moved to the CPU)."""
    if hasattr(images, "detach"):  # a torch Tensor, possibly on the GPU or requiring gradients
        images = images.detach().cpu().numpy()
    images = np.asarray(images, dtype=float)
    if images.ndim == 3:
        images = images.reshape(len(images), -1)
    if images.ndim != 2:
        raise ValueError(f"images must have shape (n, d) or (n, height, width); got shape {images.shape}")
    return images


def _image_shape(d, image_shape=None):
    """(height, width) of an image of d pixels: square unless given."""
    if image_shape is None:
        side = round(np.sqrt(d))
        if side * side != d:
            raise ValueError(f"images of {d} pixels are not square: pass image_shape=(height, width)")
        return side, side
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 2 or image_shape[0] * image_shape[1] != d:
        raise ValueError(f"image_shape must be (height, width) with height * width = {d}; got {image_shape}")
    return image_shape


def _model_device(model):
    device = getattr(model, "device", None)
    return device if device is not None else next(model.parameters()).device


def decode_latent(model, Z):
    """The decoder's pixel probabilities, sigmoid(model.decode(z)), for every row of Z.

    Parameters
    ----------
    model : VAE
        Anything with ``decode(z) -> logits`` and ``latent_dim`` (and ``device``).
    Z : ndarray or Tensor of shape (m, latent_dim)
        Points of the latent space.

    Returns
    -------
    images : ndarray of shape (m, input_dim)
        Probabilities in [0, 1], on the CPU; no gradients are recorded.
    """
    import torch

    Z = torch.as_tensor(_as_images(Z), dtype=torch.float32)
    if Z.shape[1] != model.latent_dim:
        raise ValueError(f"Z must have shape (m, {model.latent_dim}), one row per latent point; got {tuple(Z.shape)}")
    with torch.no_grad():
        return torch.sigmoid(model.decode(Z.to(_model_device(model)))).cpu().numpy().astype(float)


def plot_digits(images, image_shape=None, ncols=10, titles=None, fig=None):
    """Images in a grid, black ink on white, grey levels from 0 to 1.

    Parameters
    ----------
    images : ndarray or Tensor of shape (n, d) or (n, height, width)
        Values in [0, 1]: pixel values or the decoder's probabilities.
    image_shape : tuple of int, optional
        (height, width); square by default.
    ncols : int, default=10
    titles : sequence of str, optional
        One title per image.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in; a new pyplot figure when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Its first n axes show the images in order, row by row; the others are hidden.
    """
    if image_shape is None and np.ndim(images) == 3:  # (n, height, width): keep that shape
        image_shape = tuple(images.shape[1:])
    images = _as_images(images)
    n = len(images)
    if n == 0:
        raise ValueError("no images to show (n = 0)")
    shape = _image_shape(images.shape[1], image_shape)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    if fig is None:
        import matplotlib.pyplot as plt

        height = 1.1 * nrows + (0.3 if titles is not None else 0.1)
        fig = plt.figure(figsize=(1.1 * ncols, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for j, (ax, image) in enumerate(zip(axes, images)):
        ax.imshow(image.reshape(shape), cmap="gray_r", vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(titles[j], fontsize="small")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig


def plot_reconstructions(originals, reconstructions, image_shape=None, fig=None):
    """Inputs (top row) above what the model makes of them (bottom row), column by column.

    Parameters
    ----------
    originals : ndarray or Tensor of shape (n, d) or (n, height, width)
    reconstructions : ndarray or Tensor of the same shape
        For instance the decoder's probabilities at the encoder's mean, sigmoid(decode(mu(x))).
    image_shape : tuple of int, optional
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        Axes ``2 x n``: ``fig.axes[j]`` shows originals[j], ``fig.axes[n + j]`` reconstructions[j].
    """
    if image_shape is None and np.ndim(originals) == 3:
        image_shape = tuple(originals.shape[1:])
    originals, reconstructions = _as_images(originals), _as_images(reconstructions)
    if originals.shape != reconstructions.shape:
        raise ValueError(f"one reconstruction per input: shapes {originals.shape} and {reconstructions.shape} differ")
    n = len(originals)
    if n == 0:
        raise ValueError("no images to show (n = 0)")
    shape = _image_shape(originals.shape[1], image_shape)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(1.1 * n + 0.6, 2.4), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for row, images, name in ((0, originals, "input"), (1, reconstructions, "reconstruction")):
        for ax, image in zip(axes[row], images):
            ax.imshow(image.reshape(shape), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name, fontsize="small")
    return fig


_TERMS = (
    ("loss", "negative ELBO", "reconstruction + KL"),
    ("recon", "reconstruction term", "$-\\mathbb{E}_q[\\ln p(\\mathbf{x} \\mid \\mathbf{z})]$ (BCE)"),
    ("kl", "KL term", "$\\mathrm{KL}(q(\\mathbf{z} \\mid \\mathbf{x}) \\,\\|\\, p(\\mathbf{z}))$"),
)


def plot_vae_history(history, fig=None):
    """The negative ELBO and its two terms after every epoch, on the training and held-out images.

    Parameters
    ----------
    history : dict of lists
        As returned by ``VAE.fit``: ``"loss"``, ``"recon"``, ``"kl"`` (training, averaged over the
        epoch's batches) and, when the fit had held-out images, ``"val_loss"``, ``"val_recon"``,
        ``"val_kl"`` (measured after the epoch); all in nats per image.
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        Three panels, negative ELBO, reconstruction term and KL term, each with the training curve
        (solid) and the held-out one (dashed) when given.
    """
    missing = [key for key, _, _ in _TERMS if not history.get(key)]
    if missing:
        raise ValueError(f"history needs one value per epoch under {missing}: pass what VAE.fit returned")
    epochs = np.arange(1, len(history["loss"]) + 1)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(13, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (key, title, ylabel) in zip(axes, _TERMS):
        ax.plot(epochs, history[key], "-", color="tab:blue", marker="o", ms=3, label="training")
        if history.get(f"val_{key}"):
            ax.plot(epochs, history[f"val_{key}"], "--", color="tab:orange", marker="s", ms=3, label="held out")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{ylabel}, nats per image", fontsize="small")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def plot_latent(Z, labels, ax=None, s=6, alpha=0.6):
    """Points of a two-dimensional latent space coloured by digit.

    Parameters
    ----------
    Z : ndarray or Tensor of shape (n, 2)
        For instance the encoder's means mu(x) of n images.
    labels : ndarray of shape (n,), int
        The digit of every image, 0 to 9 (used only for the colours).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    s, alpha : float
        Marker size and opacity.

    Returns
    -------
    ax : matplotlib.axes.Axes
        ``ax.collections[0]`` holds the points, in the order of Z.
    """
    Z = _as_images(Z)
    labels = np.asarray(labels)
    if Z.shape[1] != 2:
        raise ValueError(f"Z must have shape (n, 2): a two-dimensional latent space; got shape {Z.shape}")
    if labels.shape != (len(Z),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must hold {len(Z)} integers, one per point; got shape {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise ValueError("labels must be digits, 0 to 9")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.2, 5.4), layout="constrained")
    colors = np.array(DIGIT_COLORS)[labels]
    ax.scatter(Z[:, 0], Z[:, 1], c=list(colors), s=s, alpha=alpha, linewidths=0)
    handles = [Line2D([], [], ls="", marker="o", color=DIGIT_COLORS[k], label=str(k)) for k in np.unique(labels)]
    ax.legend(handles=handles, title="digit", fontsize="small", loc="center left", bbox_to_anchor=(1.04, 0.5))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    return ax


def latent_grid(model, lim=3.0, n=15, image_shape=None):
    """The decoder's images at an n x n grid of points of a two-dimensional latent plane.

    Parameters
    ----------
    model : VAE
        With ``latent_dim == 2``.
    lim : float, default=3.0
        The grid covers [-lim, lim] in z_1 and in z_2 (the prior N(0, I) puts 99.7 % of each
        coordinate within 3).
    n : int, default=15
        Points per axis.
    image_shape : tuple of int, optional

    Returns
    -------
    values : ndarray of shape (n,)
        The grid's coordinates, increasing, the same on both axes.
    mosaic : ndarray of shape (n * height, n * width)
        The images as tiles: the tile in row r (from the top) and column c is the image of
        z = (values[c], values[n - 1 - r]), so that z_2 grows upwards as on a plot's axes.
    """
    if model.latent_dim != 2:
        raise ValueError(f"the latent plane needs a model with latent_dim=2; this one has {model.latent_dim}")
    if lim <= 0 or int(n) != n or n < 2:
        raise ValueError(f"need lim > 0 and an integer n >= 2; got lim={lim!r}, n={n!r}")
    n = int(n)
    values = np.linspace(-lim, lim, n)
    z1, z2 = np.meshgrid(values, values[::-1])  # row 0 at the top: the largest z_2
    images = decode_latent(model, np.column_stack([z1.ravel(), z2.ravel()]))
    h, w = _image_shape(images.shape[1], image_shape)
    mosaic = images.reshape(n, n, h, w).transpose(0, 2, 1, 3).reshape(n * h, n * w)
    return values, mosaic


def plot_latent_grid(model, lim=3.0, n=15, image_shape=None, ax=None):
    """What the decoder draws across the latent plane: :func:`latent_grid` shown in z coordinates.

    Parameters
    ----------
    model : VAE
        With ``latent_dim == 2``.
    lim, n, image_shape
        As in :func:`latent_grid`.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    ax : matplotlib.axes.Axes
        ``ax.images[0]`` holds the mosaic; each tile is centred on its point z.
    """
    values, mosaic = latent_grid(model, lim, n, image_shape)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 7), layout="constrained")
    half = (values[1] - values[0]) / 2
    extent = (values[0] - half, values[-1] + half, values[0] - half, values[-1] + half)
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, extent=extent, interpolation="nearest")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    return ax


class LatentExplorer(FigureImage):
    """Two sliders, z_1 and z_2, and the image that the decoder makes of the point z = (z_1, z_2).

    Left: the latent plane, with the encoder's means of some images coloured by digit when given,
    and a cross at z. Right: sigmoid(decode(z)) as an image. Moving a slider decodes the new point
    and changes the data of the cross and of the image in place; like the lessons' steppers it is a
    :class:`helpers.stepper.FigureImage`: no figure is created per step, only the cross, the image
    and its title are redrawn, nothing waits for a display, and it builds in headless runs (tests,
    grading) as well.

    Parameters
    ----------
    model : VAE
        With ``latent_dim == 2``.
    Z : ndarray or Tensor of shape (n, 2), optional
        Points to show on the plane (the encoder's means of some images).
    labels : ndarray of shape (n,), int, optional
        Their digits, for the colours (required with Z).
    lim : float, default=3.0
        The sliders and the plane span [-lim, lim].
    step : float, default=0.05
        The sliders' step.
    image_shape : tuple of int, optional

    Attributes
    ----------
    z : ndarray of shape (2,)
        The point shown now.
    decoded : ndarray of shape (height, width)
        Its image, sigmoid(decode(z)).
    z1, z2 : ipywidgets.FloatSlider
    image : ipywidgets.Image
    widget : ipywidgets.VBox
        The whole control; a notebook cell that ends with the explorer displays it.
    fig : matplotlib.figure.Figure
    """

    def __init__(self, model, Z=None, labels=None, lim=3.0, step=0.05, image_shape=None):
        if model.latent_dim != 2:
            raise ValueError(f"the latent plane needs a model with latent_dim=2; this one has {model.latent_dim}")
        if lim <= 0:
            raise ValueError(f"lim must be positive; got {lim!r}")
        if Z is not None and labels is None:
            raise ValueError("pass the labels of Z too: they colour the points")
        self.model = model
        d = decode_latent(model, np.zeros((1, 2))).shape[1]
        self.image_shape = _image_shape(d, image_shape)

        super().__init__(Figure(figsize=(9.5, 4.4), dpi=90, layout="constrained"))
        ax_plane, ax_image = self.fig.subplots(1, 2, width_ratios=[1.25, 1])
        if Z is not None:
            plot_latent(Z, labels, ax=ax_plane, s=4, alpha=0.35)
        else:
            ax_plane.set(xlabel="$z_1$", ylabel="$z_2$")
            ax_plane.grid(alpha=0.3)
        ax_plane.set_aspect("equal", adjustable="box")
        ax_plane.set(xlim=(-lim, lim), ylim=(-lim, lim), title="the latent plane")
        (self._cross,) = ax_plane.plot([0.0], [0.0], "X", color="black", mec="white", ms=14, zorder=5, clip_on=False)
        self._picture = ax_image.imshow(np.zeros(self.image_shape), cmap="gray_r", vmin=0, vmax=1)
        ax_image.set_xticks([])
        ax_image.set_yticks([])
        self._title = ax_image.set_title("")

        self.z1 = widgets.FloatSlider(value=0.0, min=-lim, max=lim, step=step, description="$z_1$")
        self.z2 = widgets.FloatSlider(value=0.0, min=-lim, max=lim, step=step, description="$z_2$")
        self._hold = False
        for slider in (self.z1, self.z2):
            slider.observe(self._on_slider, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.z1, self.z2]), self.image])
        self._render()

    def show(self, z1, z2):
        """Move the sliders to (z1, z2) (within [-lim, lim]) and draw the decoder's image there."""
        self._hold = True  # one drawing for both sliders
        try:
            self.z1.value, self.z2.value = float(z1), float(z2)
        finally:
            self._hold = False
        self._render()

    def _on_slider(self, change):
        if not self._hold:
            self._render()

    def _render(self):
        # rounded: a slider moved right and back by float steps may stop at 1e-17 instead of 0, and the
        # figure must then be the same as before, byte for byte
        self.z = np.round([self.z1.value, self.z2.value], 9) + 0.0  # + 0.0 turns -0.0 into 0.0
        self.decoded = decode_latent(self.model, self.z[None, :])[0].reshape(self.image_shape)
        self._cross.set_data([self.z[0]], [self.z[1]])
        self._picture.set_data(self.decoded)
        self._title.set_text(f"decode(z), z = ({self.z[0]:.2f}, {self.z[1]:.2f})")
        self.redraw([self._picture, self._cross, self._title])


# ------------------------------------------------------------------------------ the training demos' guards
def _stop(function, sentence):
    """DemoStopped for a training that did not start: what the student's function returned, and what to do."""
    return DemoStopped(f"not trained: your {function} {sentence}. Fix {function} above, then run this cell again.")


def _values(result, function):
    """A result of the student's function as a float ndarray; DemoStopped when it is no tensor."""
    import torch

    if not torch.is_tensor(result):
        raise _stop(function, f"returns {type(result).__name__} {result!r}, not a torch tensor")
    return result.detach().cpu().double().numpy()


def _row(values):
    return "(" + ", ".join(f"{v:.4g}" for v in np.ravel(values)) + ")"


def check_vae_functions(reparameterize, kl_divergence, vae_loss):
    """Try the three exercises on small inputs whose answers are known by hand, before any training.

    A training run takes the three functions as they are: with a KL of the wrong sign it runs its
    epochs to a loss of -1e26 and reports that as progress. So the demos try each function first, in
    the order of the exercises, and stop on the first one that gives a wrong answer.

    Parameters
    ----------
    reparameterize, kl_divergence, vae_loss : callable
        The notebook's functions (the student's).

    Raises
    ------
    DemoStopped
        With a sentence naming the function, the input, what it returned and what it should return.
        A function that raises (still the stub, or an error) raises as it is. Torch's global random
        state is left as it was.
    """
    import torch

    # reparameterize: 20,000 draws from N((0, 1), diag(4, 1/4)), and the gradients of their sum
    n, sigma = 20_000, np.array([2.0, 0.5])
    mu = torch.tensor([[0.0, 1.0]]).repeat(n, 1).requires_grad_()
    logvar = torch.tensor([[4.0, 0.25]]).log().repeat(n, 1).requires_grad_()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        z = reparameterize(mu, logvar)
    draws = _values(z, "reparameterize")
    if draws.shape != (n, 2):
        raise _stop("reparameterize", f"returns shape {draws.shape} for mu of shape ({n}, 2), not one z per row")
    spread, centre = draws.std(axis=0), draws.mean(axis=0)
    if np.all(spread < 1e-6):
        raise _stop("reparameterize", "returns z = mu: no noise is added (eps = torch.randn_like(mu))")
    if np.any(np.abs(spread - sigma) > 0.05 * sigma):
        raise _stop(
            "reparameterize",
            f"draws with standard deviations {_row(spread)} for logvar = (ln 4, ln 1/4), where "
            "sigma = exp(logvar / 2) = (2, 0.5)",
        )
    if np.any(np.abs(centre - [0.0, 1.0]) > 0.05):
        raise _stop("reparameterize", f"draws around {_row(centre)} for mu = (0, 1)")
    grads = [None, None]
    if z.requires_grad:
        z.sum().backward()
        grads = [None if t.grad is None else t.grad.cpu().numpy() for t in (mu, logvar)]
    if any(g is None for g in grads) or not np.allclose(grads[0], 1.0, atol=1e-4) or not np.any(grads[1]):
        raise _stop(
            "reparameterize",
            "lets no gradient through to mu and logvar (dz/dmu should be 1): draw eps alone and return "
            "mu + sigma * eps, computed from logvar with torch",
        )

    # kl_divergence: the prior itself, means of 0.5, variances e and 1/e
    inputs = [
        ([0.0, 0.0], [0.0, 0.0], "mu = (0, 0), logvar = (0, 0)", "0: q is the prior"),
        ([0.5, 0.0], [0.0, 0.0], "mu = (0.5, 0), logvar = (0, 0)", "0.5^2 / 2 = 0.125"),
        ([0.5, 0.5], [0.0, 0.0], "mu = (0.5, 0.5), logvar = (0, 0)", "2 x 0.125 = 0.25"),
        ([0.0, 0.0], [1.0, -1.0], "mu = (0, 0), logvar = (1, -1)", "(e - 2) / 2 + (1/e) / 2 = 0.5431"),
    ]
    expected = np.array([0.0, 0.125, 0.25, (np.e - 2) / 2 + np.exp(-1) / 2])
    kl = _values(
        kl_divergence(torch.tensor([r[0] for r in inputs]), torch.tensor([r[1] for r in inputs])), "kl_divergence"
    )
    if kl.shape != (4,):
        raise _stop(
            "kl_divergence",
            f"returns shape {kl.shape} for 4 rows of mu and logvar, not one KL per row, shape (4,): sum over "
            "the latent dimensions only (dim=1)",
        )
    if not np.all(np.isfinite(kl)):
        j = int(np.flatnonzero(~np.isfinite(kl))[0])
        raise _stop("kl_divergence", f"returns {kl[j]} for {inputs[j][2]}, where KL = {inputs[j][3]}")
    if np.any(kl < -1e-6):
        j = int(np.flatnonzero(kl < -1e-6)[0])
        raise _stop(
            "kl_divergence",
            f"returns negative values ({kl[j]:.4g} for {inputs[j][2]}), and a KL divergence is never negative",
        )
    wrong = np.flatnonzero(np.abs(kl - expected) > 1e-4 * (1 + expected))
    if len(wrong):
        j = int(wrong[0])
        raise _stop("kl_divergence", f"returns {kl[j]:.4g} for {inputs[j][2]}, where KL = {inputs[j][3]}")

    # vae_loss: logits 0 give BCE = ln 2 per pixel, the KL terms are 0 and 2.5; then confident, wrong logits
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 0.5, 1.0, 1.0]])
    cases = [
        (
            torch.zeros(2, 4),
            x,
            torch.tensor([[0.0, 0.0], [1.0, 2.0]]),
            4 * np.log(2) + (0 + 2.5) / 2,
            "two images of 4 pixels, logits 0 and KL terms 0 and 2.5",
            "4 ln 2 + (0 + 2.5) / 2 = 4.0226: the BCE summed over the pixels, plus the KL, averaged over the images",
        ),
        (
            torch.tensor([[-25.0, 25.0, -25.0, 25.0]]),
            x[:1],
            torch.zeros(1, 2),
            4 * (25 + np.log1p(np.exp(-25))),
            "one image whose 4 logits are +-25 on the wrong side, KL 0",
            "4 x 25 = 100.0000: computed from the logits (binary_cross_entropy_with_logits), since sigmoid(25) "
            "is exactly 1 in float32",
        ),
    ]
    for logits, images, means, value, given, where in cases:
        loss = _values(vae_loss(logits, images, means, torch.zeros_like(means)), "vae_loss")
        if loss.shape != ():
            raise _stop(
                "vae_loss",
                f"returns shape {loss.shape} for {given}, not one number, shape (): the mean over the batch",
            )
        if not abs(float(loss) - value) <= 1e-4 * value:
            raise _stop("vae_loss", f"returns {float(loss):.4f} for {given}, where the loss is {where}")


def check_training(history, growing=3):
    """Stop a training demo whose loss became NaN or infinite, fell below 0 or kept growing.

    Parameters
    ----------
    history : dict of lists
        As returned by ``VAE.fit``.
    growing : int, default=3
        Stop when the training loss grew this many epochs in a row (by more than 0.5 % in all).

    Raises
    ------
    DemoStopped
        With what happened (the epoch and the values) and what to look at.
    """
    for key, which in (("loss", "training"), ("val_loss", "held-out")):
        values = np.asarray(history.get(key) or [], dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise DemoStopped(
                f"training stopped making sense: the {which} loss is {values[bad[0]]} after epoch {bad[0] + 1}. "
                "One of reparameterize, kl_divergence and vae_loss gives NaN or infinity on the model's outputs "
                "(large logits or log-variances?): their check cells above say more."
            )
        below = np.flatnonzero(values < 0)
        if len(below):
            raise DemoStopped(
                f"training stopped making sense: the {which} loss is {values[below[0]]:.4g} nats per image after "
                f"epoch {below[0] + 1}, below 0. A negative ELBO is a cross-entropy plus a KL divergence, both "
                ">= 0, so kl_divergence or vae_loss has a sign wrong: fix it above, then run this cell again."
            )
    loss = np.asarray(history["loss"], dtype=float)
    for start in range(len(loss) - growing):
        window = loss[start : start + growing + 1]
        if np.all(np.diff(window) > 0) and window[-1] - window[0] > 0.005 * abs(window[0]):
            raise DemoStopped(
                f"training stopped making sense: the training loss grew for {growing} epochs in a row, from "
                f"{window[0]:.1f} to {window[-1]:.1f} nats per image (epochs {start + 1} to {start + growing + 1}), "
                "where each epoch should lower it. Look at vae_loss and reparameterize and their check cells above."
            )
