"""Plots and a stepper for Gaussian mixtures: covariance ellipses, responsibilities, log-likelihood curves."""

from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse
from matplotlib.ticker import MaxNLocator

from helpers.plotting import _as_points, apart, cluster_colors, guard_trend, stop_demo, wrong_way
from helpers.stepper import Stepper

N_STDS = (1.0, 2.0)  # the ellipses drawn: one and two standard deviations along each principal axis
GMM_FUNCTIONS = "e_step, m_step, log_likelihood and em_mog"  # what makes the log-likelihoods of em_mog


def covariance_ellipse(mu, Sigma, n_std=1.0):
    """Centre, axes and orientation of the ellipse (x - mu)^T Sigma^{-1} (x - mu) = n_std^2.

    Parameters
    ----------
    mu : ndarray of shape (2,)
    Sigma : ndarray of shape (2, 2)
        Symmetric positive semi-definite.
    n_std : float, default=1.0

    Returns
    -------
    center : ndarray of shape (2,)
    width, height : float
        Full lengths of the axes: 2 * n_std * sqrt(eigenvalue), the larger first.
    angle : float
        Angle of the first axis (the largest eigenvector) from the x-axis, in degrees.
    """
    Sigma = np.asarray(Sigma, dtype=float)
    if Sigma.shape != (2, 2):
        raise ValueError(f"Sigma must have shape (2, 2) to be drawn as an ellipse; got shape {Sigma.shape}")
    eigenvalues, eigenvectors = np.linalg.eigh((Sigma + Sigma.T) / 2)  # ascending order
    if not np.all(np.isfinite(eigenvalues)) or eigenvalues[0] < -1e-12 * max(1.0, abs(eigenvalues[1])):
        raise ValueError(f"Sigma must be a covariance (symmetric, positive semi-definite); got {Sigma.tolist()}")
    half_axes = n_std * np.sqrt(np.clip(eigenvalues[::-1], 0.0, None))  # sqrt of the variances along the axes
    major = eigenvectors[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    return np.asarray(mu, dtype=float), 2 * half_axes[0], 2 * half_axes[1], angle


def responsibility_colors(w):
    """Colour of each point: the components' colours mixed in proportion to its responsibilities.

    Parameters
    ----------
    w : ndarray of shape (n, k)

    Returns
    -------
    colors : ndarray of shape (n, 3)
    """
    w = np.asarray(w, dtype=float)
    if w.ndim != 2:
        raise ValueError(f"w must have shape (n, k); got shape {w.shape}")
    return np.clip(np.nan_to_num(w) @ cluster_colors(w.shape[1]), 0.0, 1.0)


class MixtureArtists:
    """The artists of one Gaussian-mixture plot, kept so that it can be redrawn in place.

    Points coloured by responsibility, each component's mean and its 1- and 2-standard-deviation
    ellipses (axes along the eigenvectors of Sigma_j, half-lengths n_std * sqrt(eigenvalue)).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    X : ndarray of shape (n, 2)
    k : int
        Number of components that :meth:`update` will receive.
    axis_labels : tuple of str, default=("$x_1$", "$x_2$")
    """

    def __init__(self, ax, X, k, axis_labels=("$x_1$", "$x_2$")):
        self.ax = ax
        self.X = _as_points(X)
        self.k = k
        self.colors = cluster_colors(k)
        self.points = ax.scatter(self.X[:, 0], self.X[:, 1], s=16, color="0.55", edgecolors="white", linewidths=0.3)
        self.ellipses = []
        for j in range(k):
            for n_std in N_STDS:
                ellipse = Ellipse(
                    (0, 0),
                    width=1,
                    height=1,
                    angle=0,
                    fill=False,
                    edgecolor=self.colors[j],
                    linewidth=2.0 if n_std == 1 else 1.0,
                    linestyle="-" if n_std == 1 else "--",
                    zorder=3,
                )
                ax.add_patch(ellipse)
                self.ellipses.append((j, n_std, ellipse))
        self.means = ax.scatter(
            np.zeros(k), np.zeros(k), s=120, marker="X", c=self.colors, edgecolors="black", linewidths=1.2, zorder=4
        )
        lo, hi = self.X.min(axis=0), self.X.max(axis=0)
        pad = np.where(hi > lo, 0.1 * (hi - lo), 0.5)
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
        ax.set_aspect("equal")
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])

    @property
    def artists(self):
        """The artists that update changes, in drawing order."""
        return [self.points, *(ellipse for _, _, ellipse in self.ellipses), self.means]

    def update(self, mu, Sigma, w=None):
        """Move the means and ellipses; colour the points by w (grey when None).

        Parameters
        ----------
        mu : ndarray of shape (k, 2)
        Sigma : ndarray of shape (k, 2, 2)
        w : ndarray of shape (n, k), optional
        """
        mu, Sigma = np.asarray(mu, dtype=float), np.asarray(Sigma, dtype=float)
        if mu.shape != (self.k, 2) or Sigma.shape != (self.k, 2, 2):
            raise ValueError(
                f"expected mu of shape ({self.k}, 2) and Sigma of shape ({self.k}, 2, 2); "
                f"got {mu.shape} and {Sigma.shape}"
            )
        self.points.set_facecolor("0.55" if w is None else responsibility_colors(w))
        self.means.set_offsets(mu)
        for j, n_std, ellipse in self.ellipses:
            center, width, height, angle = covariance_ellipse(mu[j], Sigma[j], n_std)
            ellipse.set_center(center)
            ellipse.set_width(width)
            ellipse.set_height(height)
            ellipse.set_angle(angle)


def plot_gmm(X, mu, Sigma, w=None, ax=None, title=None, axis_labels=("$x_1$", "$x_2$"), legend=True):
    """Draw 2-D points, coloured by responsibility, with each component's mean and covariance ellipses.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    mu : ndarray of shape (k, 2)
    Sigma : ndarray of shape (k, 2, 2)
    w : ndarray of shape (n, k), optional
        Responsibilities: each point gets the components' colours mixed in these proportions
        (grey when None).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    title : str, optional
    axis_labels : tuple of str, default=("$x_1$", "$x_2$")
    legend : bool, default=True
        A key to the ellipses below the axes.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    mu = np.asarray(mu, dtype=float)
    if mu.ndim != 2 or mu.shape[1] != 2:
        raise ValueError(f"mu must have shape (k, 2); got shape {mu.shape}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
    MixtureArtists(ax, X, len(mu), axis_labels=axis_labels).update(mu, Sigma, w)
    if title is not None:
        ax.set_title(title)
    if legend:
        key = [
            Line2D([], [], ls="none", marker="X", ms=9, mfc="white", mec="black", label=r"mean $\mu_k$"),
            Line2D([], [], color="0.3", lw=2, label="1 standard deviation"),
            Line2D([], [], color="0.3", lw=1, ls="--", label="2 standard deviations"),
        ]
        ax.legend(
            handles=key, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=3, fontsize="small", frameon=False
        )
    return ax


def plot_loglik(logliks, ax=None, per_point=None, label=None):
    """Draw the log-likelihood against the EM iteration (0 = the starting parameters).

    Parameters
    ----------
    logliks : sequence of float
        As returned by ``em_mog``: the start, then one value per iteration. NaN or a fall stops the demo
        (:func:`loglik_never_falls`) rather than draw it.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    per_point : int, optional
        Divide by this number of points (plot the mean log-likelihood).
    label : str, optional
        Legend label of the curve.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    L = np.asarray(logliks, dtype=float)
    if L.ndim != 1 or L.size == 0:
        raise ValueError(f"logliks must be a non-empty 1-D sequence; got shape {L.shape}")
    loglik_never_falls(L)  # a curve that falls (or NaN) is no EM run: the demo stops and says so
    if per_point:
        L = L / per_point
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    ax.plot(np.arange(L.size), L, "o-", markersize=4, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("mean log-likelihood per point" if per_point else "log-likelihood")
    ax.grid(alpha=0.3)
    return ax


class GMMState(NamedTuple):
    """The mixture after ``iteration`` EM iterations, with the responsibilities it gives."""

    iteration: int
    phi: np.ndarray  # (k,)
    mu: np.ndarray  # (k, d)
    Sigma: np.ndarray  # (k, d, d)
    w: np.ndarray  # (n, k): e_step of these parameters
    loglik: float


def gmm_history(X, init, e_step, m_step, log_likelihood, max_iters=20, reg_covar=1e-6):
    """Run EM with the given functions and record the mixture after every iteration.

    The demo stops (:class:`helpers.DemoStopped`, with a sentence that names the function to check) when
    a parameter, a responsibility or the log-likelihood is NaN or infinite, or when an iteration lowers
    the log-likelihood by more than rounding: EM never does.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    init : tuple (phi, mu, Sigma)
    e_step, m_step, log_likelihood : callable
        The functions of lesson 3.
    max_iters : int, default=20
        Iterations recorded (all of them: no early stop, so that the figure's panels exist).
    reg_covar : float, default=1e-6
        Added to every covariance's diagonal after each M-step, as in ``em_mog``.

    Returns
    -------
    history : list of GMMState
        ``history[L]`` is the mixture after L iterations, ``history[0]`` the start.
    """
    X = np.asarray(X, dtype=float)

    def state(L, phi, mu, Sigma):
        when = "at the start" if L == 0 else f"after iteration {L}"
        for name, p in [("phi", phi), ("mu", mu), ("Sigma", Sigma)]:
            if L and not np.all(np.isfinite(p)):
                stop_demo(f"m_step returned a {name} with NaN or infinite entries at iteration {L}; check it above")
        w = np.asarray(e_step(X, phi, mu, Sigma), dtype=float)
        if not np.all(np.isfinite(w)):
            stop_demo(
                f"e_step returned NaN or infinite responsibilities {when} "
                "(where every density underflows to 0, 0/0 is NaN: compute in log space); check e_step above"
            )
        loglik = float(log_likelihood(X, phi, mu, Sigma))
        if not np.isfinite(loglik):
            stop_demo(f"log_likelihood returned {loglik} {when} (compute it in log space); check it above")
        return GMMState(L, phi, mu, Sigma, w, loglik)

    history = [state(0, *(np.array(a, dtype=float) for a in init))]
    for L in range(1, max_iters + 1):
        phi, mu, Sigma = (np.array(a, dtype=float) for a in m_step(X, history[-1].w.copy()))
        history.append(state(L, phi, mu, Sigma + reg_covar * np.eye(X.shape[1])))
        before, after = history[-2].loglik, history[-1].loglik
        if wrong_way(before, after, rises=True):
            a, b = apart(before, after)
            stop_demo(
                f"the log-likelihood fell from {a} to {b} at iteration {L}: EM never lowers it; "
                f"{_culprit(X, history[-2], history[-1])}"
            )
    return history


def _log_joint(X, *, state):
    """ln phi_j + ln N(x_i | mu_j, Sigma_j) for the parameters of state, shape (n, k) (scipy's densities)."""
    from scipy.stats import multivariate_normal  # here: importing helpers stays quick

    with np.errstate(divide="ignore"):
        return np.column_stack(
            [
                np.log(state.phi[j]) + multivariate_normal(state.mu[j], state.Sigma[j], allow_singular=True).logpdf(X)
                for j in range(len(state.phi))
            ]
        )


def _culprit(X, old, new):
    """Which function made an iteration lower the log-likelihood, and how one can tell: what to check."""
    from scipy.special import logsumexp  # here: importing helpers stays quick

    w = old.w  # the E-step of the old parameters, from which the M-step made the new ones
    if w.shape != (len(X), len(old.phi)) or not np.allclose(w.sum(axis=1), 1, atol=1e-6):
        return "check e_step above: its responsibilities do not sum to 1 over the components for every point"
    try:
        with np.errstate(all="ignore"):
            log_old, log_new = _log_joint(X, state=old), _log_joint(X, state=new)
    except (ValueError, np.linalg.LinAlgError):  # a covariance that is no covariance
        return "check m_step above: its covariances are not symmetric positive semi-definite"

    def fit(log_joint):  # sum_ij w_ij (ln phi_j + ln N(x_i | mu_j, Sigma_j)): the M-step maximises it
        return float(np.sum(np.where(w > 0, w * log_joint, 0.0)))

    # the M-step maximises the fit exactly, and reg_covar then changes it a little: allow for that
    if not fit(log_new) >= fit(log_old) - 1e-6 * abs(fit(log_old)):
        return "check m_step above: its parameters fit the responsibilities worse than the ones before them"
    if not np.isclose(new.loglik, float(np.sum(logsumexp(log_new, axis=1))), rtol=1e-6, atol=1e-9):
        return (
            "check log_likelihood (and log_gaussian_pdf, which it calls) above: "
            "its value is not the log-likelihood of the parameters"
        )
    return (
        "check e_step (and log_gaussian_pdf, which it calls) above: "
        "its responsibilities are not the posterior probabilities of the components"
    )


def loglik_never_falls(logliks, *, functions=GMM_FUNCTIONS):
    """Stop the demo if EM's log-likelihoods (the start, then one per iteration) hold NaN or fall.

    Parameters
    ----------
    logliks : sequence of float
    functions : str, default="e_step, m_step, log_likelihood and em_mog"
        The functions that made them: the ones the message asks to check.

    Returns
    -------
    logliks : the sequence passed in, when it is as EM makes it.
    """
    fix = f"check {functions} above (their check cells say which is wrong)"
    return guard_trend(logliks, quantity="log-likelihood", rises=True, never="EM never lowers it", fix=fix)


def gmm_stepper(X, init, e_step, m_step, log_likelihood, max_iters=20, reg_covar=1e-6, axis_labels=("$x_1$", "$x_2$")):
    """A slider through the EM iterations of a Gaussian mixture, computed with the functions passed in.

    Left: the points coloured by their responsibilities, each component's mean and ellipses
    (Bishop, PRML Fig. 9.8). Right: the mean log-likelihood per point after every iteration, the
    current one ringed.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    init : tuple (phi, mu, Sigma)
    e_step, m_step, log_likelihood : callable
        Your functions from lesson 3; they are all called here, before anything is drawn.
    max_iters : int, default=20
    reg_covar : float, default=1e-6
    axis_labels : tuple of str, default=("$x_1$", "$x_2$")

    Returns
    -------
    stepper : Stepper
        Display it by ending a cell with it. ``stepper.history`` holds the list of
        :class:`GMMState`; ``stepper.show(L)`` moves to iteration L.
    """
    X = _as_points(X)
    history = gmm_history(X, init, e_step, m_step, log_likelihood, max_iters, reg_covar)
    L = np.array([h.loglik for h in history]) / len(X)

    fig = Figure(figsize=(10.5, 4.6), dpi=90, layout="constrained")
    ax_mix, ax_L = fig.subplots(1, 2, width_ratios=[0.85, 1])
    mixture = MixtureArtists(ax_mix, X, len(history[0].phi), axis_labels=axis_labels)
    ax_L.plot(np.arange(len(L)), L, "o-", color="0.3", markerfacecolor="tab:red", markersize=5)
    (current,) = ax_L.plot([], [], "o", ms=14, mfc="none", mec="black", mew=2)
    ax_L.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_L.set_xlabel("EM iteration $L$")
    ax_L.set_ylabel("mean log-likelihood per point")
    finite = L[np.isfinite(L)]
    if finite.size > 1:  # leave out the (often far lower) start so that the later gains stay visible
        ax_L.set_ylim(np.min(finite[1:]) - 0.05 * np.ptp(finite[1:]) - 0.01, np.max(finite) + 0.02)
    ax_L.grid(alpha=0.3)
    title = fig.suptitle("")

    def update(step):
        h = history[step]
        mixture.update(h.mu, h.Sigma, h.w)
        current.set_data([step], [L[step]])
        weights = ", ".join(f"{p:.2f}" for p in h.phi)
        title.set_text(f"L = {step}: mean log-likelihood {L[step]:.4f}, weights phi = ({weights})")
        return [*mixture.artists, current, title]

    stepper = Stepper(len(history), fig, update, description="L")
    stepper.history = history
    return stepper
