"""Plotting and widgets shared by the course's lessons.

``FAST`` is True when the environment variable FAST is set to anything but "", "0", "false" or
"False": heavy notebook cells read it to run small under tests and grading.
"""

import os

from helpers.data import DATA_DIR, load_faithful
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
from helpers.stepper import HalfStep, Stepper, kmeans_history, kmeans_stepper

FAST = os.environ.get("FAST", "0") not in ("", "0", "false", "False")

__all__ = [
    "DATA_DIR",
    "FAST",
    "BoundState",
    "ClusterArtists",
    "EMState",
    "GMMState",
    "HalfStep",
    "Mixture1DArtists",
    "MixtureArtists",
    "Stepper",
    "bound_curve",
    "bound_history",
    "bound_stepper",
    "cluster_colors",
    "covariance_ellipse",
    "em_1d_history",
    "em_1d_stepper",
    "gmm_history",
    "gmm_stepper",
    "kmeans_history",
    "kmeans_stepper",
    "load_faithful",
    "load_sample_image",
    "loglik_curve",
    "plot_bound",
    "plot_clusters",
    "plot_distortion",
    "plot_elbo_loglik",
    "plot_gmm",
    "plot_loglik",
    "plot_mixture_1d",
    "plot_prototypes",
    "responsibility_colors",
    "show_quantized",
]
