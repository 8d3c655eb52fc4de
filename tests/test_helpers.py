"""The shared plotting helpers and widgets (headless, Agg backend)."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import (
    ClusterArtists,
    cluster_colors,
    kmeans_history,
    kmeans_stepper,
    load_faithful,
    load_sample_image,
    plot_clusters,
    plot_distortion,
    show_quantized,
)
from helpers.plotting import REGION_TINT
from solutions.kmeans import assign_clusters, compute_distortion, kmeans, update_centroids


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    """Three seeded groups of 20 points in the plane and a poor start (two centroids in one group)."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    X = np.concatenate([c + 0.5 * rng.standard_normal((20, 2)) for c in centres])
    return X, X[[0, 1, 40]].copy()


@pytest.fixture(scope="module")
def stepper(blobs):
    """One k-means stepper for the widget tests (each render costs a few tenths of a second)."""
    return kmeans_stepper(*blobs, assign_clusters, update_centroids, compute_distortion)


def test_plot_clusters_draws_every_point_and_centroid(blobs):
    X, init = blobs
    labels = assign_clusters(X, init)
    ax = plot_clusters(X, labels, init, title="three clusters")
    points, centroids = ax.collections
    assert len(points.get_offsets()) == len(X)
    np.testing.assert_allclose(centroids.get_offsets(), init)
    assert ax.get_title() == "three clusters"
    assert len(ax.images) == 1


def test_plot_clusters_colours_points_by_label(blobs):
    X, init = blobs
    labels = assign_clusters(X, init)
    ax = plot_clusters(X, labels, init, voronoi=False)
    assert len(ax.images) == 0
    np.testing.assert_allclose(ax.collections[0].get_facecolors()[:, :3], cluster_colors(3)[labels])


def test_voronoi_map_colours_each_pixel_by_its_nearest_centroid(blobs):
    X, init = blobs
    _, ax = plt.subplots()
    artists = ClusterArtists(ax, X, 3, resolution=50)
    artists.update(None, init)
    pixels = artists.grid.reshape(-1, 2)
    nearest = np.argmin(((pixels[:, None, :] - init) ** 2).sum(axis=-1), axis=1)
    tint = 1 - REGION_TINT * (1 - cluster_colors(3))
    np.testing.assert_allclose(artists.regions.get_array().reshape(-1, 3), tint[nearest])
    assert len(np.unique(nearest)) == 3  # every region is on the map
    # the image covers the axes exactly, pixel (i, j) centred on grid[i, j]
    x0, x1, y0, y1 = artists.regions.get_extent()
    assert (x0, x1) == pytest.approx(ax.get_xlim()) and (y0, y1) == pytest.approx(ax.get_ylim())
    assert pixels[0] == pytest.approx([x0 + (x1 - x0) / 100, y0 + (y1 - y0) / 100])


def test_plot_distortion_marks_each_iteration_with_integer_ticks():
    ax = plot_distortion([10.0, 6.0, 5.5, 5.5])
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), [10.0, 6.0, 5.5, 5.5])
    assert line.get_marker() == "o"
    ticks = ax.xaxis.get_major_locator()()
    np.testing.assert_array_equal(ticks, np.round(ticks))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot_clusters(np.zeros((5, 3)), None, np.zeros((2, 2))), r"X must have shape \(n, 2\)"),
        (
            lambda: plot_clusters(np.zeros((5, 2)), None, np.zeros((2, 3))),
            r"centroids must have shape \(k, 2\)",
        ),
        (lambda: plot_clusters(np.zeros((5, 2)), np.zeros(4, int), np.zeros((2, 2))), r"shape \(5,\)"),
        (lambda: plot_clusters(np.zeros((5, 2)), np.full(5, 2), np.zeros((2, 2))), r"integers in \[0, 2\)"),
        (lambda: plot_distortion([]), "non-empty"),
        (lambda: cluster_colors(21), "1 to 20 clusters"),
        (lambda: load_sample_image(max_side=0), "positive"),
        (lambda: show_quantized(np.zeros((4, 4)), np.zeros((2, 3)), np.zeros(16, int)), "RGB"),
        (lambda: show_quantized(np.zeros((4, 4, 3)), np.zeros((2, 3)), np.zeros(15, int)), "one per pixel"),
    ],
)
def test_helpful_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_kmeans_history_alternates_half_steps_and_never_raises_J(blobs):
    X, init = blobs
    history = kmeans_history(X, init, assign_clusters, update_centroids, compute_distortion)
    assert [h.kind for h in history[:3]] == ["init", "assignment", "update"]
    assert all(a.kind == "assignment" and u.kind == "update" for a, u in zip(history[1::2], history[2::2]))
    J = np.array([h.J for h in history[1:]])
    assert np.all(np.diff(J) <= 1e-9 * J[0])
    # the last update step moves nothing, and the result is the reference's
    centroids, _, distortion_history, n_iters = kmeans(X, 3, init=init)
    np.testing.assert_allclose(history[-1].centroids, centroids)
    assert len(history) == 1 + 2 * n_iters
    assert history[-1].J == pytest.approx(distortion_history[-1])


def test_kmeans_history_keeps_copies_when_functions_work_in_place(blobs):
    X, init = blobs

    def update_in_place(X, labels, centroids):
        centroids[:] = update_centroids(X, labels, centroids)
        return centroids

    history = kmeans_history(X, init.copy(), assign_clusters, update_in_place, compute_distortion)
    np.testing.assert_array_equal(history[0].centroids, init)
    assert not np.allclose(history[1].centroids, history[2].centroids)


def test_stepper_redraws_in_place_without_new_figures(stepper):
    stepper.show(0)
    figures = plt.get_fignums()
    ax_clusters, ax_J = stepper.fig.axes
    points, centroids = ax_clusters.collections
    current = ax_J.lines[-1]
    start = (points.get_facecolors().copy(), centroids.get_offsets().copy(), stepper.fig.texts[0].get_text())
    png = stepper.image.value
    assert len(current.get_xdata()) == 0  # no distortion before the first assignment

    last = stepper.n_steps - 1
    stepper.show(last)
    assert plt.get_fignums() == figures
    assert stepper.slider.value == last and stepper.step == last
    assert stepper.fig.axes == [ax_clusters, ax_J] and list(ax_clusters.collections) == [points, centroids]
    np.testing.assert_allclose(centroids.get_offsets(), stepper.history[-1].centroids)
    assert not np.allclose(centroids.get_offsets(), start[1])
    assert current.get_ydata() == pytest.approx([stepper.history[-1].J])
    assert stepper.image.value != png

    stepper.slider.value = 0  # as the slider in the browser does
    assert plt.get_fignums() == figures
    np.testing.assert_array_equal(points.get_facecolors(), start[0])
    np.testing.assert_array_equal(centroids.get_offsets(), start[1])
    assert stepper.fig.texts[0].get_text() == start[2]
    assert stepper.image.value == png


def test_stepper_title_names_the_half_step_and_J(stepper):
    stepper.show(0)
    title = stepper.fig.texts[0]
    assert "Step 0" in title.get_text() and "initial" in title.get_text()
    stepper.show(2)
    assert "update step" in title.get_text() and f"J = {stepper.history[2].J:.4g}" in title.get_text()
    with pytest.raises(ValueError, match="step must be in"):
        stepper.show(stepper.n_steps)


def test_kernel_free_animation_has_every_step_offline(stepper):
    stepper.show(2)
    png = stepper.image.value
    html = stepper.animation_html()
    frames = re.findall(r'frames\[(\d+)\] = "data:image/png;base64,', html)
    assert [int(i) for i in frames] == list(range(stepper.n_steps))  # each step, embedded as a PNG
    assert "http://" not in html and "https://" not in html  # nothing to fetch: plays offline
    assert stepper.step == 2 and stepper.image.value == png  # the live widget is left where it was


def test_stepper_displays_the_widget_and_the_animation(stepper, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("FAST", raising=False)
    stepper._ipython_display_()
    assert shown[0] is stepper.widget and "<details>" in shown[1].data and "frames[0]" in shown[1].data
    shown.clear()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # graded runs skip the animation
    stepper._ipython_display_()
    assert shown == [stepper.widget]
    shown.clear()
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setenv("FAST", "1")  # so do quick runs (tests)
    stepper._ipython_display_()
    assert shown == [stepper.widget]


def test_load_sample_image_is_small_rgb_in_unit_interval():
    image = load_sample_image(max_side=40)
    assert image.ndim == 3 and image.shape[2] == 3
    assert max(image.shape[:2]) <= 40
    assert image.dtype == float
    assert image.min() >= 0 and image.max() <= 1
    assert image.std() > 0.1  # a photograph, not a blank


def test_show_quantized_shows_the_palette_colours():
    image = load_sample_image(max_side=20)
    pixels = image.reshape(-1, 3)
    centroids, labels, _, _ = kmeans(pixels, 4, init=pixels[[0, 5, 100, 200]])
    fig = show_quantized(image, centroids, labels)
    original, quantized, palette = fig.axes
    np.testing.assert_allclose(original.images[0].get_array(), image)
    np.testing.assert_allclose(quantized.images[0].get_array(), centroids[labels].reshape(image.shape))
    assert len(palette.get_yticks()) == 4


def test_load_faithful_is_r_datasets_old_faithful():
    faithful = load_faithful()
    assert faithful.shape == (272, 2)
    np.testing.assert_array_equal(faithful[0], [3.6, 79])
    # summary(faithful) in R: mean eruptions 3.488, mean waiting 70.90
    np.testing.assert_allclose(faithful.mean(axis=0), [3.487783, 70.897059], rtol=1e-6)
