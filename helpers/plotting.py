"""Static plots shared by the lessons: clusters with their Voronoi regions, distortion curves; and the guards
that stop a demo whose algorithm went wrong (a NaN, or a quantity moving the way it never moves)."""

import sys

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from helpers import validate
from helpers.cells import DemoStopped

UNASSIGNED = (0.55, 0.55, 0.55)  # grey: a point not yet given to any cluster
REGION_TINT = 0.2  # a Voronoi region is its cluster's colour mixed with 80 % white
ROUNDING = 1e-9  # a move the wrong way smaller than this, relative to the values, is rounding
KMEANS_FIX = (
    "check assign_clusters, update_centroids, compute_distortion and kmeans above "
    "(their check cells say which is wrong)"
)


# ------------------------------------------------------------------ guards: demos that stop clearly
def stop_demo(message):
    """Stop a demo: raise DemoStopped(message) (``try_it`` shows it in one line), with the cell's unfinished
    pyplot figures closed so that no half-drawn figure is shown under it."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    raise DemoStopped(message)


def wrong_way(before, after, *, rises):
    """True when after moved from before the way it never moves (down when it rises), by more than rounding."""
    worse = before - after if rises else after - before
    return bool(worse > ROUNDING * max(abs(before), abs(after)))


def apart(before, after):
    """before and after written with just enough decimals (at least one) to tell them apart."""
    for digits in range(1, 16):
        a, b = f"{before:.{digits}f}", f"{after:.{digits}f}"
        if a != b:
            return a, b
    return repr(before), repr(after)


def guard_trend(values, *, quantity, rises, never, fix, first=0):
    """Stop the demo (stop_demo) at the first value that is NaN or infinite, or that moves the wrong way.

    Parameters
    ----------
    values : sequence of float
        values[i] is the quantity after iteration first + i (0: the start).
    quantity : str
        Its name in the lesson's words, e.g. "log-likelihood".
    rises : bool
        True when it never goes down (a log-likelihood), False when it never goes up (a distortion).
    never : str
        Why that is wrong, e.g. "EM never lowers it".
    fix : str
        What to check, e.g. "check m_step_1d above".
    first : int, default=0

    Returns
    -------
    values : the sequence passed in, when nothing is wrong with it.
    """
    previous = None
    for i, value in enumerate(values):
        value, t = float(value), first + i
        if not np.isfinite(value):
            when = "at the start" if t == 0 else f"after iteration {t}"
            stop_demo(f"the {quantity} is {value} {when}: {fix}")
        if previous is not None and wrong_way(previous, value, rises=rises):
            a, b = apart(previous, value)
            stop_demo(f"the {quantity} {'fell' if rises else 'rose'} from {a} to {b} at iteration {t}: {never}; {fix}")
        previous = value
    return values


def distortion_never_rises(history):
    """Stop the demo if a distortion history of your kmeans (J after iterations 1, 2, ...) holds NaN or rises.

    Returns
    -------
    history : the history passed in, when it is as k-means makes it.
    """
    return guard_trend(
        history, quantity="distortion J", rises=False, never="k-means never raises J", fix=KMEANS_FIX, first=1
    )


def cluster_colors(k):
    """Colours of clusters 0, ..., k-1, the same in every plot of the course.

    Parameters
    ----------
    k : int
        Number of clusters, 1 <= k <= 20.

    Returns
    -------
    colors : ndarray of shape (k, 3)
        RGB in [0, 1]: matplotlib's ``tab10`` for k <= 10, ``tab20`` up to 20.
    """
    if not 1 <= k <= 20:
        raise ValueError(f"cluster colours exist for 1 to 20 clusters; got k={k}")
    return np.array(mpl.colormaps["tab10" if k <= 10 else "tab20"].colors[:k])


def _as_points(X):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(
            f"X must have shape (n, 2) with n >= 1 to be drawn in the plane; got shape {X.shape}. "
            "Project higher-dimensional data to 2 dimensions first."
        )
    return X


def _as_centroids(centroids, k=None):
    centroids = np.asarray(centroids, dtype=float)
    if centroids.ndim != 2 or centroids.shape[1] != 2 or centroids.shape[0] == 0:
        raise ValueError(f"centroids must have shape (k, 2) with k >= 1; got shape {centroids.shape}")
    if k is not None and centroids.shape[0] != k:
        raise ValueError(f"expected {k} centroids; got {centroids.shape[0]}")
    return centroids


def _add_key(ax, voronoi):
    """A key to the markers of a cluster plot, below the axes where it never hides a point."""
    key = [
        Line2D([], [], ls="none", marker="X", ms=11, mfc="white", mec="black", label=r"centroid $\mu_k$"),
        Line2D([], [], ls="none", marker="o", ms=5, mfc=UNASSIGNED, mec="white", label="data point $x_n$"),
    ]
    if voronoi:
        key.append(Patch(facecolor="0.85", edgecolor="0.6", label=r"region nearest to $\mu_k$"))
    ax.legend(
        handles=key,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncols=len(key),
        fontsize="small",
        handletextpad=0.3,
        columnspacing=1.0,
        frameon=False,
    )


class ClusterArtists:
    """The artists of one cluster plot, kept so that it can be redrawn in place.

    Draws on ``ax``: the Voronoi regions of the centroids (a lightly tinted image, optional),
    the points coloured by cluster and the centroids as large crosses. :meth:`update`
    changes their data without creating new artists, which is what the steppers need.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    X : ndarray of shape (n, 2)
        The points; they also fix the axis limits.
    k : int
        Number of centroids that :meth:`update` will receive.
    voronoi : bool, default=True
        Shade the region of the plane nearest to each centroid.
    resolution : int, default=200
        Grid points per axis of the Voronoi map.
    axis_labels : tuple of str, default=("$x_1$", "$x_2$")
    legend : bool, default=True
        A key to the markers below the axes.

    Attributes
    ----------
    points, centroids : matplotlib.collections.PathCollection
    regions : matplotlib.image.AxesImage or None
        RGB image of the Voronoi map, pixel (i, j) centred on ``grid[i, j]``.
    grid : ndarray of shape (resolution, resolution, 2)
        Centres of the pixels of ``regions``.
    """

    def __init__(self, ax, X, k, voronoi=True, resolution=200, axis_labels=("$x_1$", "$x_2$"), legend=True):
        self.ax = ax
        self.X = _as_points(X)
        self.k = k
        self.colors = cluster_colors(k)
        lo, hi = self.X.min(axis=0), self.X.max(axis=0)
        pad = np.where(hi > lo, 0.06 * (hi - lo), 0.5)
        lo, hi = lo - pad, hi + pad
        self.regions = None
        if voronoi:
            # pixel centres of a resolution x resolution image filling the axes
            step = (hi - lo) / resolution
            xs, ys = (np.linspace(lo[j] + step[j] / 2, hi[j] - step[j] / 2, resolution) for j in range(2))
            self.grid = np.stack(np.meshgrid(xs, ys), axis=-1)
            self.regions = ax.imshow(
                np.ones((resolution, resolution, 3)),
                extent=(lo[0], hi[0], lo[1], hi[1]),
                origin="lower",
                interpolation="nearest",
                zorder=0,
            )
        self.points = ax.scatter(
            self.X[:, 0], self.X[:, 1], s=18, color=UNASSIGNED, edgecolors="white", linewidths=0.4, zorder=2
        )
        self.centroids = ax.scatter(
            np.zeros(k),
            np.zeros(k),
            s=260,
            marker="X",
            c=self.colors,
            edgecolors="black",
            linewidths=1.5,
            zorder=3,
        )
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal")  # k-means measures Euclidean distance: keep circles round
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
        if legend:
            _add_key(ax, voronoi)

    @property
    def artists(self):
        """The artists that update changes, in drawing order."""
        return ([self.regions] if self.regions is not None else []) + [self.points, self.centroids]

    def update(self, labels, centroids):
        """Recolour the points and move the centroids (and their regions).

        Parameters
        ----------
        labels : ndarray of shape (n,), int, or None
            Cluster of every point; None draws every point grey (not assigned yet).
        centroids : ndarray of shape (k, 2)
        """
        centroids = _as_centroids(centroids, self.k)
        if labels is None:
            self.points.set_facecolor(UNASSIGNED)
        else:
            self.points.set_facecolor(self.colors[validate.labels(labels, len(self.X), self.k)])
        self.centroids.set_offsets(centroids)
        if self.regions is not None:
            # Voronoi region of mu_j: the points of the plane closer to mu_j than to any other centroid
            d2 = ((self.grid[:, :, None, :] - centroids) ** 2).sum(axis=-1)
            tint = 1 - REGION_TINT * (1 - self.colors)
            self.regions.set_data(tint[np.argmin(d2, axis=-1)])


def plot_clusters(X, labels, centroids, ax=None, voronoi=True, title=None, axis_labels=("$x_1$", "$x_2$"), legend=True):
    """Draw 2-D points coloured by cluster, the centroids and their Voronoi regions.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    labels : ndarray of shape (n,), int, or None
        Cluster index of every point, in [0, k); None draws the points grey.
    centroids : ndarray of shape (k, 2)
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    voronoi : bool, default=True
        Shade each centroid's Voronoi region (the part of the plane nearest to it) lightly in its colour.
    title : str, optional
    axis_labels : tuple of str, default=("$x_1$", "$x_2$")
    legend : bool, default=True
        A key to the markers below the axes (turn it off in grids of small plots).

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    centroids = _as_centroids(centroids)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
    artists = ClusterArtists(ax, X, len(centroids), voronoi=voronoi, axis_labels=axis_labels, legend=legend)
    artists.update(labels, centroids)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_distortion(history, ax=None):
    """Draw the distortion J after each iteration of k-means.

    Parameters
    ----------
    history : sequence of float
        J after iterations 1, 2, ..., as returned by ``kmeans``. NaN or a rise stops the demo
        (:func:`distortion_never_rises`) rather than draw it.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    J = np.asarray(history, dtype=float)
    if J.ndim != 1 or J.size == 0:
        raise ValueError(f"history must be a non-empty 1-D sequence of distortions; got shape {J.shape}")
    distortion_never_rises(J)  # a curve that goes up (or NaN) is no k-means run: the demo stops and says so
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    ax.plot(np.arange(1, J.size + 1), J, "o-", color="0.2", markerfacecolor="tab:red", markersize=6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration")
    ax.set_ylabel("distortion $J$")
    ax.set_title("Distortion after each iteration")
    ax.grid(alpha=0.3)
    return ax
