"""Colour quantisation: a small sample photograph and a side-by-side view of its quantised copy."""

import numpy as np
from matplotlib import cbook
from matplotlib.image import imread


def load_sample_image(max_side=128):
    """Matplotlib's bundled photograph of Grace Hopper, made small.

    Parameters
    ----------
    max_side : int, default=128
        Longest side of the result in pixels; the 600 x 512 original is shrunk by averaging
        square blocks of pixels (an integer factor), so the result may be a little smaller.

    Returns
    -------
    image : ndarray of shape (height, width, 3)
        RGB floats in [0, 1].
    """
    if max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels; got {max_side}")
    with cbook.get_sample_data("grace_hopper.jpg") as file:
        image = imread(file, format="jpg").astype(float) / 255
    f = int(np.ceil(max(image.shape[:2]) / max_side))
    h, w = image.shape[0] // f, image.shape[1] // f
    # each output pixel is the mean of an f x f block of input pixels
    return image[: h * f, : w * f].reshape(h, f, w, f, 3).mean(axis=(1, 3))


def show_quantized(image, centroids, labels, title=None):
    """Show an image next to its colour-quantised copy and the palette.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3)
        RGB in [0, 1].
    centroids : ndarray of shape (k, 3)
        The palette: one RGB colour per cluster.
    labels : ndarray of shape (height * width,) or (height, width), int
        Palette index of every pixel, in row-major order.
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    image = np.asarray(image, dtype=float)
    centroids = np.asarray(centroids, dtype=float)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape (height, width, 3) (RGB); got shape {image.shape}")
    if centroids.ndim != 2 or centroids.shape[1] != 3:
        raise ValueError(f"centroids must have shape (k, 3), one RGB colour each; got shape {centroids.shape}")
    h, w, _ = image.shape
    labels = np.asarray(labels)
    if labels.size != h * w or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must hold {h * w} integers, one per pixel; got shape {labels.shape}")
    k = len(centroids)
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must be palette indices in [0, {k})")
    palette = np.clip(centroids, 0, 1)
    share = np.bincount(labels.ravel(), minlength=k) / labels.size
    order = np.argsort(-share)  # most used colour on top

    fig, axes = plt.subplots(1, 3, figsize=(11, 4.6), width_ratios=[1, 1, 0.28], layout="constrained")
    n_colours = len(np.unique(image.reshape(-1, 3), axis=0))
    axes[0].imshow(image)
    axes[0].set_title(f"original: {n_colours:,} colours")
    axes[1].imshow(palette[labels.reshape(h, w)])  # every pixel replaced by its centroid's colour
    axes[1].set_title(f"quantised: {k} colours")
    for ax in axes[:2]:
        ax.set_axis_off()
    axes[2].imshow(palette[order][:, None, :], aspect="auto")
    axes[2].set_xticks([])
    axes[2].set_yticks(np.arange(k), [f"{100 * s:.0f} %" for s in share[order]], fontsize="small")
    axes[2].set_title("palette\n(share of pixels)", fontsize="medium")
    if title is not None:
        fig.suptitle(title)
    return fig
