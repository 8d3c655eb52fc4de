"""Plots and a slider for EM on a mixture of 1-D Gaussians (lesson 2)."""

from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.plotting import apart, cluster_colors, guard_trend, stop_demo, wrong_way
from helpers.stepper import Stepper

EM_1D_FIX = "check e_step_1d, m_step_1d, log_likelihood_1d and em_1d above (their check cells say which is wrong)"


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

    The demo stops (:class:`helpers.DemoStopped`, with a sentence that names the function to check) when
    a parameter, a responsibility or the log-likelihood is NaN or infinite, or when an iteration lowers
    the log-likelihood by more than rounding: EM never does.

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
        log-likelihood never decreases along it.
    """
    x = np.asarray(x, dtype=float)
    means, sigmas, weights = (p.copy() for p in _params(means, sigmas, weights))  # the functions may change them

    def state(means, sigmas, weights, t):
        when = "at the start" if t == 0 else f"after iteration {t}"
        for name, p in [("means", means), ("sigmas", sigmas), ("weights", weights)]:
            if t and not np.all(np.isfinite(p)):
                stop_demo(f"m_step_1d returned the {name} {np.round(p, 4).tolist()} at iteration {t}; check it above")
        resp = np.array(e_step_1d(x, means.copy(), sigmas.copy(), weights.copy()), dtype=float)
        if not np.all(np.isfinite(resp)):
            i = int(np.flatnonzero(~np.all(np.isfinite(resp.reshape(len(resp), -1)), axis=1))[0])
            stop_demo(
                f"e_step_1d returned NaN or infinite responsibilities {when}, e.g. for x = {x[i]:.4g} "
                "(where every density underflows to 0, 0/0 is NaN: compute in log space); check e_step_1d above"
            )
        loglik = float(log_likelihood_1d(x, means, sigmas, weights))
        if not np.isfinite(loglik):
            stop_demo(f"log_likelihood_1d returned {loglik} {when} (compute it in log space); check it above")
        return EMState(means, sigmas, weights, resp, loglik)

    history = [state(means, sigmas, weights, 0)]
    for t in range(1, max_iters + 1):
        new = m_step_1d(x, history[-1].resp.copy())  # M-step on the last E-step's responsibilities
        history.append(state(*(np.array(p, dtype=float) for p in new), t))  # and the next E-step
        before, after = history[-2].loglik, history[-1].loglik
        if wrong_way(before, after, rises=True):
            a, b = apart(before, after)
            stop_demo(
                f"the log-likelihood fell from {a} to {b} at iteration {t}: EM never lowers it; "
                f"{_culprit_1d(x, history[-2], history[-1])}"
            )
        if after - before < tol:
            break
    return history


def _log_joint_1d(x, *, state):
    """ln w_j + ln N(x_i | m_j, s_j^2) for the parameters of state, shape (n, k)."""
    z = (x[:, None] - state.means[None, :]) / state.sigmas[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(state.weights) - 0.5 * z**2 - np.log(state.sigmas * np.sqrt(2 * np.pi))


def _culprit_1d(x, old, new):
    """Which function made an iteration lower the log-likelihood, and how one can tell: what to check."""
    from scipy.special import logsumexp  # here: importing helpers stays quick

    resp = old.resp  # the E-step of the old parameters, from which the M-step made the new ones
    if resp.shape != (len(x), len(old.means)) or not np.allclose(resp.sum(axis=1), 1, atol=1e-6):
        return "check e_step_1d above: its responsibilities do not sum to 1 over the components for every point"

    def fit(state):  # sum_ij resp_ij (ln w_j + ln N(x_i | m_j, s_j^2)): the M-step maximises it
        return float(np.sum(np.where(resp > 0, resp * _log_joint_1d(x, state=state), 0.0)))

    with np.errstate(all="ignore"):
        fit_old, fit_new = fit(old), fit(new)
        loglik = float(np.sum(logsumexp(_log_joint_1d(x, state=new), axis=1)))
    if not fit_new >= fit_old - 1e-9 * abs(fit_old):
        return "check m_step_1d above: its parameters fit the responsibilities worse than the ones before them"
    if not np.isclose(new.loglik, loglik, rtol=1e-6, atol=1e-9):
        return "check log_likelihood_1d above: its value is not the log-likelihood of the parameters"
    return "check e_step_1d above: its responsibilities are not the posterior probabilities of the components"


def loglik_never_falls(logliks):
    """Stop the demo if the log-likelihoods of your em_1d (the start, then one per iteration) hold NaN or fall.

    Returns
    -------
    logliks : the sequence passed in, when it is as EM makes it.
    """
    return guard_trend(logliks, quantity="log-likelihood", rises=True, never="EM never lowers it", fix=EM_1D_FIX)


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
