"""Lesson 3's plots and stepper (helpers/gmm.py), and the solved notebook's reference cells standing alone."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import solutions.gmm
from autograde.notebooks import function_source
from helpers import covariance_ellipse, gmm_history, gmm_stepper, plot_gmm, responsibility_colors
from solutions.gmm import e_step, log_likelihood, m_step

INIT = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), 0.1 * np.stack([np.eye(2)] * 2))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def two_groups():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal([-1, -1], 0.4, size=(30, 2)), rng.normal([1, 1], 0.5, size=(40, 2))])


def test_ellipse_axes_are_twice_n_std_sqrt_eigenvalues():
    center, width, height, angle = covariance_ellipse(np.array([1.0, 2.0]), np.diag([1.0, 4.0]), n_std=2)
    assert np.allclose(center, [1, 2]) and np.isclose(width, 8) and np.isclose(height, 4)
    assert np.isclose(abs(angle), 90)  # the larger variance is along x_2
    rotation = np.array([[1, -1], [1, 1]]) / np.sqrt(2)
    _, width, height, angle = covariance_ellipse(np.zeros(2), rotation @ np.diag([9.0, 1.0]) @ rotation.T)
    assert np.isclose(width, 6) and np.isclose(height, 2) and np.isclose(angle % 180, 45)


def test_ellipse_refuses_a_matrix_that_is_not_a_covariance():
    with pytest.raises(ValueError, match="positive semi-definite"):
        covariance_ellipse(np.zeros(2), np.array([[1.0, 0.0], [0.0, -1.0]]))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        covariance_ellipse(np.zeros(3), np.eye(3))


def test_plot_gmm_draws_points_means_and_two_ellipses_per_component(two_groups):
    w = e_step(two_groups, *INIT)
    ax = plot_gmm(two_groups, INIT[1], INIT[2], w)
    assert len(ax.patches) == 4
    assert np.allclose(ax.collections[0].get_facecolors()[:, :3], responsibility_colors(w))
    assert np.allclose(ax.collections[1].get_offsets(), INIT[1])


def test_gmm_history_starts_at_init_and_never_lowers_the_log_likelihood(two_groups):
    history = gmm_history(two_groups, INIT, e_step, m_step, log_likelihood, max_iters=10)
    assert len(history) == 11 and np.allclose(history[0].mu, INIT[1])
    assert np.all(np.diff([h.loglik for h in history]) >= -1e-9)
    assert np.allclose(history[-1].w.sum(axis=1), 1)


def test_gmm_stepper_shows_every_iteration(two_groups):
    stepper = gmm_stepper(two_groups, INIT, e_step, m_step, log_likelihood, max_iters=4)
    assert stepper.n_steps == 5
    stepper.show(4)
    assert stepper.step == 4 and bytes(stepper.image.value).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["log_gaussian_pdf", "e_step", "m_step", "log_likelihood", "em_mog", "sample_gmm"])
def test_reference_cells_of_the_solved_notebook_stand_alone(name, two_groups):
    """In the solved notebook each reference cell is function_source(...): it must not need solutions/, only the
    exercises' cells above it (em_mog calls e_step, m_step, log_likelihood and log_gaussian_pdf)."""
    namespace = {}
    for above in ("log_gaussian_pdf", "e_step", "m_step", "log_likelihood") if name == "em_mog" else ():
        exec(function_source(getattr(solutions.gmm, above)), namespace)
    exec(function_source(getattr(solutions.gmm, name)), namespace)
    if name == "em_mog":  # without init: the k-means++ start comes with the cell's imports
        phi, mu, *_ = namespace["em_mog"](two_groups, 2, rng=np.random.default_rng(0))
        assert np.isclose(np.sum(phi), 1) and mu.shape == (2, 2)
