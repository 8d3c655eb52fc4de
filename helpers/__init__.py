"""Plotting and widgets shared by the course's lessons.

``FAST`` is True when the environment variable FAST is set to anything but "", "0", "false" or
"False": heavy notebook cells read it to run small under tests and grading.
"""

from helpers.cells import DemoStopped, try_it
from helpers.data import DATA_DIR, load_faithful, load_mnist_5k
from helpers.em1d import EMState, Mixture1DArtists, em_1d_history, em_1d_stepper, plot_mixture_1d
from helpers.general_em import (
    BoundState,
    bound_curve,
    bound_history,
    bound_stepper,
    loglik_curve,
    plot_bound,
    plot_elbo_loglik,
    plot_prototypes,
)
from helpers.gmm import (
    GMMState,
    MixtureArtists,
    covariance_ellipse,
    gmm_history,
    gmm_stepper,
    plot_gmm,
    plot_loglik,
    responsibility_colors,
)
from helpers.images import load_sample_image, show_quantized
from helpers.plotting import ClusterArtists, cluster_colors, plot_clusters, plot_distortion
from helpers.stepper import FigureImage, HalfStep, Stepper, fast_mode, kmeans_history, kmeans_stepper
from helpers.vae import (
    LatentExplorer,
    decode_latent,
    latent_grid,
    plot_digits,
    plot_latent,
    plot_latent_grid,
    plot_reconstructions,
    plot_vae_history,
)

FAST = fast_mode()

__all__ = [
    "DATA_DIR",
    "FAST",
    "BoundState",
    "ClusterArtists",
    "DemoStopped",
    "EMState",
    "FigureImage",
    "GMMState",
    "HalfStep",
    "LatentExplorer",
    "Mixture1DArtists",
    "MixtureArtists",
    "Stepper",
    "bound_curve",
    "bound_history",
    "bound_stepper",
    "cluster_colors",
    "covariance_ellipse",
    "decode_latent",
    "em_1d_history",
    "em_1d_stepper",
    "gmm_history",
    "gmm_stepper",
    "kmeans_history",
    "kmeans_stepper",
    "latent_grid",
    "load_faithful",
    "load_mnist_5k",
    "load_sample_image",
    "loglik_curve",
    "plot_bound",
    "plot_clusters",
    "plot_digits",
    "plot_distortion",
    "plot_elbo_loglik",
    "plot_gmm",
    "plot_latent",
    "plot_latent_grid",
    "plot_loglik",
    "plot_mixture_1d",
    "plot_prototypes",
    "plot_reconstructions",
    "plot_vae_history",
    "responsibility_colors",
    "show_quantized",
    "try_it",
]
