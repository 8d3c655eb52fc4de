"""Plots and a slider for EM on a mixture of 1-D Gaussians (lesson 2)."""

from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.plotting import cluster_colors
from helpers.stepper import Stepper


def _params(means, sigmas, weights):
    means, sigmas, weights = (np.asarray(a, dtype=float) for a in (means, sigmas, weights))
    if not means.ndim == 1 or not means.shape == sigmas.shape == weights.shape:
        raise ValueError(
            f"means, sigmas and weights must be 1-D with one entry per component; "
            f"got shapes {means.shape}, {sigmas.shape} and {weights.shape}"
        )
    return means, sigmas, weights


def _densities(grid, means, sigmas, weights):
    """w_j N(grid | m_j, s_j^2), shape (K, len(grid))."""
    z = (grid[None, :] - means[:, None]) / sigmas[:, None]
    return weights[:, None] * np.exp(-0.5 * z**2) / (np.sqrt(2 * np.pi) * sigmas[:, None])


class Mixture1DArtists:
    """The artists of one 1-D mixture plot, kept so that it can be redrawn in place.

    Draws on ``ax``: a density histogram of ``x``, each weighted component density
    w_j N(x | m_j, s_j^2) in its cluster colour, their sum (the mixture density) in black, and
    the points themselves in a strip below the axis, coloured by their responsibilities (a
    point shared half and half between two components gets half of each colour).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x : ndarray of shape (n,)
    k : int
        Number of components that :meth:`update` will receive.
    bins : int, default=30
    xlabel : str, default="$x$"
    """

    def __init__(self, ax, x, k, bins=30, xlabel="$x$"):
        self.x = np.asarray(x, dtype=float)
        if self.x.ndim != 1 or self.x.size == 0:
            raise ValueError(f"x must be a non-empty 1-D array; got shape {self.x.shape}")
        self.k = k
        self.colors = cluster_colors(k)
        lo, hi = self.x.min(), self.x.max()
        pad = 0.1 * (hi - lo) if hi > lo else 1.0
        self.grid = np.linspace(lo - pad, hi + pad, 400)
        heights, _, _ = ax.hist(self.x, bins=bins, density=True, color="0.85", edgecolor="white", label="data")
        self.top = 1.25 * heights.max()
        self.curves = [
            ax.plot([], [], color=c, lw=2, label=f"$w_{j + 1}\\,N(x \\mid m_{j + 1}, s_{j + 1}^2)$")[0]
            for j, c in enumerate(self.colors)
        ]
        (self.total,) = ax.plot([], [], color="black", lw=1.5, ls="--", label="mixture $p(x)$")
        jitter = np.random.default_rng(0).uniform(-1, 1, self.x.size)  # a fixed jitter: the strip does not move
        self.points = ax.scatter(
            self.x, -self.top * (0.08 + 0.04 * jitter), s=14, color="0.55", edgecolors="none", alpha=0.8
        )
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_xlim(self.grid[0], self.grid[-1])
        ax.set_ylim(-0.15 * self.top, self.top)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.legend(loc="upper left", fontsize="small")

    @property
    def artists(self):
        """The artists that update changes, in drawing order."""
        return [*self.curves, self.total, self.points]

    def update(self, means, sigmas, weights, resp=None):
        """Redraw the component densities and recolour the points.

        Parameters
        ----------
        means, sigmas, weights : ndarray of shape (k,)
            sigmas are standard deviations.
        resp : ndarray of shape (n, k), optional
            Responsibilities of the points; None draws them grey.
        """
        means, sigmas, weights = _params(means, sigmas, weights)
        if means.size != self.k:
            raise ValueError(f"expected {self.k} components; got {means.size}")
        dens = _densities(self.grid, means, sigmas, weights)
        for curve, d in zip(self.curves, dens):
            curve.set_data(self.grid, d)
        self.total.set_data(self.grid, dens.sum(axis=0))
        if resp is not None:
            resp = np.asarray(resp, dtype=float)
            if resp.shape != (self.x.size, self.k):
                raise ValueError(f"resp must have shape ({self.x.size}, {self.k}); got {resp.shape}")
            self.points.set_facecolor(np.clip(resp @ self.colors, 0, 1))  # mix the colours by responsibility


def plot_mixture_1d(x, means, sigmas, weights, resp=None, ax=None, title=None, xlabel="$x$"):
    """Draw a histogram of x with the weighted densities of a 1-D Gaussian mixture.

    Parameters
    ----------
    x : ndarray of shape (n,)
    means, sigmas, weights : ndarray of shape (k,)
        sigmas are standard deviations.
    resp : ndarray of shape (n, k), optional
        Responsibilities: colour the points below the axis by them.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    title : str, optional
    xlabel : str, default="$x$"

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    means, sigmas, weights = _params(means, sigmas, weights)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    Mixture1DArtists(ax, x, means.size, xlabel=xlabel).update(means, sigmas, weights, resp)
    if title is not None:
        ax.set_title(title)
    return ax


class EMState(NamedTuple):
    """One state of EM: parameters, the responsibilities they give and their log-likelihood."""

    means: np.ndarray  # (k,)
    sigmas: np.ndarray  # (k,)
    weights: np.ndarray  # (k,)
    resp: np.ndarray  # (n, k): E-step on these parameters
    loglik: float


def em_1d_history(x, means, sigmas, weights, e_step_1d, m_step_1d, log_likelihood_1d, max_iters=30, tol=1e-6):
    """Run EM with the given functions and record the state after every iteration.

    Parameters
    ----------
    x : ndarray of shape (n,)
    means, sigmas, weights : ndarray of shape (k,)
        Starting parameters.
    e_step_1d, m_step_1d, log_likelihood_1d : callable
        The functions of lesson 2.
    max_iters : int, default=30
    tol : float, default=1e-6
        Stop once an iteration raises the log-likelihood by less than tol.

    Returns
    -------
    history : list of EMState
        ``history[0]`` is the start; ``history[t]`` the parameters after t iterations. The
        log-likelihood never decreases along it when the three functions are right.
    """
    x = np.asarray(x, dtype=float)
    means, sigmas, weights = (p.copy() for p in _params(means, sigmas, weights))  # the functions may change them

    def state(means, sigmas, weights):
        resp = np.array(e_step_1d(x, means.copy(), sigmas.copy(), weights.copy()), dtype=float)
        return EMState(means, sigmas, weights, resp, float(log_likelihood_1d(x, means, sigmas, weights)))

    history = [state(means, sigmas, weights)]
    for _ in range(max_iters):
        new = m_step_1d(x, history[-1].resp.copy())  # M-step on the last E-step's responsibilities
        history.append(state(*(np.array(p, dtype=float) for p in new)))  # and the next E-step
        if history[-1].loglik - history[-2].loglik < tol:
            break
    return history


def em_1d_stepper(
    x, means, sigmas, weights, e_step_1d, m_step_1d, log_likelihood_1d, max_iters=30, tol=1e-6, xlabel="$x$"
):
    """A slider through the iterations of EM on a 1-D mixture, computed with the functions passed in.

    Left: the histogram of x, the weighted component densities and the mixture density, the points
    coloured by their responsibilities. Right: the log-likelihood after every iteration, the current
    one ringed.

    Parameters
    ----------
    x : ndarray of shape (n,)
    means, sigmas, weights : ndarray of shape (k,)
        Starting parameters.
    e_step_1d, m_step_1d, log_likelihood_1d : callable
        Your functions from lesson 2; they are all called here, before anything is drawn.
    max_iters : int, default=30
    tol : float, default=1e-6
        As in ``em_1d``.
    xlabel : str, default="$x$"

    Returns
    -------
    stepper : Stepper
        Display it by ending a cell with it. ``stepper.history`` holds the list of
        :class:`EMState`; ``stepper.show(t)`` moves to iteration t.
    """
    history = em_1d_history(x, means, sigmas, weights, e_step_1d, m_step_1d, log_likelihood_1d, max_iters, tol)
    L = np.array([h.loglik for h in history])
    iterations = np.arange(len(history))

    fig = Figure(figsize=(10.5, 4.2), dpi=90, layout="constrained")
    ax_mix, ax_L = fig.subplots(1, 2, width_ratios=[1.2, 1])
    mixture = Mixture1DArtists(ax_mix, x, len(history[0].means), xlabel=xlabel)
    ax_L.plot(iterations, L, "o-", color="0.2", markerfacecolor="tab:red", markersize=5)
    (current,) = ax_L.plot([], [], "o", ms=14, mfc="none", mec="black", mew=2)
    ax_L.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_L.set_xlabel("iteration")
    ax_L.set_ylabel("log-likelihood")
    ax_L.grid(alpha=0.3)
    title = fig.suptitle("")

    def update(step):
        h = history[step]
        mixture.update(h.means, h.sigmas, h.weights, h.resp)
        current.set_data([step], [L[step]])
        params = ", ".join(f"m{j + 1} = {m:.2f}, s{j + 1} = {s:.2f}" for j, (m, s) in enumerate(zip(h.means, h.sigmas)))
        when = "start" if step == 0 else f"after iteration {step} of {len(history) - 1}"
        title.set_text(f"{when}: log-likelihood {h.loglik:.2f}  ({params})")
        return [*mixture.artists, current, title]

    stepper = Stepper(len(history), fig, update, description="iteration")
    stepper.history = history
    return stepper
