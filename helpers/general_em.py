"""Figures for the general EM algorithm: the ELBO against the log-likelihood, the lower bound on a
one-parameter slice of a model (Bishop, PRML Fig. 9.14) and a stepper through its E- and M-steps,
the prototypes of a mixture of Bernoullis; and the demos' guards, which stop a demo (DemoStopped) whose
functions give what EM's theory excludes: a falling ELBO, a NaN, a wrong answer on a case known by hand.

A model enters as the functions of ``general_em``: ``e_step(X, params) -> Q`` and
``elbo(X, params, Q) -> float``. A one-parameter slice adds ``params_of(theta) -> params``, the
model with everything fixed but the scalar ``theta``, and ``m_step(X, Q) -> theta``, the theta that
maximises the bound for that Q. The log-likelihood is never computed separately: it is the ELBO of
the E-step's own posterior, where the bound touches it (KL = 0).
"""

from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.cells import DemoStopped
from helpers.stepper import Stepper


def _as_grid(thetas):
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim != 1 or thetas.size < 2 or not np.all(np.diff(thetas) > 0):
        raise ValueError(f"thetas must be a 1-D grid of at least 2 strictly increasing values; got {thetas!r}")
    return thetas


def loglik_curve(X, thetas, params_of, e_step, elbo):
    """log p(X | theta) at every theta of a grid, as the ELBO of the E-step's posterior there.

    Parameters
    ----------
    X : any
        The data, passed unchanged to e_step and elbo.
    thetas : ndarray of shape (m,)
        Increasing values of the free parameter.
    params_of : callable
        ``params_of(theta) -> params``: the model with every other parameter fixed.
    e_step, elbo : callable
        As in ``general_em``.

    Returns
    -------
    loglik : ndarray of shape (m,)
        ``elbo(X, params_of(theta), e_step(X, params_of(theta)))``: with Q the exact posterior,
        KL(Q || p(Z | X, theta)) = 0 and the ELBO is the log-likelihood (Bishop eq. 9.70).
    """
    return np.array([_loglik_at(X, theta, params_of, e_step, elbo) for theta in _as_grid(thetas)])


def _loglik_at(X, theta, params_of, e_step, elbo):
    params = params_of(theta)
    return float(elbo(X, params, e_step(X, params)))


def bound_curve(X, thetas, params_of, elbo, Q):
    """The lower bound ELBO(Q, theta) at every theta of a grid, for one fixed Q.

    Parameters
    ----------
    X : any
    thetas : ndarray of shape (m,)
    params_of : callable
        ``params_of(theta) -> params``.
    elbo : callable
        ``elbo(X, params, Q) -> float``.
    Q : any
        The posterior the bound is made of (an E-step's output).

    Returns
    -------
    bound : ndarray of shape (m,)
        ELBO(Q, theta) <= log p(X | theta) everywhere, with equality where Q is the posterior.
    """
    return np.array([float(elbo(X, params_of(theta), Q)) for theta in _as_grid(thetas)])


class BoundState(NamedTuple):
    """One half-step of EM on a one-parameter slice: the start, an E-step or an M-step."""

    kind: str  # "init", "E" or "M"
    iteration: int  # 0 for the start, then the EM iteration this half-step belongs to
    theta: float  # the parameter after this half-step
    Q: object  # the posterior of the last E-step (None at the start): the bound is ELBO(Q, .)
    loglik: float  # log p(X | theta)
    bound: float  # ELBO(Q, theta); nan at the start, equal to loglik after an E-step


def bound_history(X, theta0, params_of, e_step, m_step, elbo, n_iters=6):
    """Run EM on a one-parameter slice with the given functions and record every half-step.

    Parameters
    ----------
    X : any
    theta0 : float
        The starting value of the free parameter.
    params_of : callable
        ``params_of(theta) -> params``.
    e_step, elbo : callable
        As in ``general_em``.
    m_step : callable
        ``m_step(X, Q) -> theta``: the maximiser of ELBO(Q, theta) over theta.
    n_iters : int, default=6
        EM iterations (one E-step and one M-step each), all recorded.

    Returns
    -------
    history : list of BoundState
        The start, then E- and M-steps alternating: ``2 * n_iters + 1`` states. After an E-step the
        bound touches the log-likelihood at theta; after an M-step theta sits at the bound's maximum
        and the gap ``loglik - bound`` is KL(Q || p(Z | X, theta)) >= 0.

    Raises
    ------
    DemoStopped
        When the log-likelihood is NaN or infinite or goes down, or a bound rises above it: EM with
        correct functions does neither, so the figure would show what the theory excludes.
    """
    if int(n_iters) != n_iters or n_iters < 1:
        raise ValueError(f"n_iters must be a positive integer; got {n_iters!r}")

    def loglik_at(theta):
        return _loglik_at(X, theta, params_of, e_step, elbo)

    theta = float(theta0)
    history = [BoundState("init", 0, theta, None, loglik_at(theta), float("nan"))]
    for iteration in range(1, int(n_iters) + 1):
        Q = e_step(X, params_of(theta))  # the bound now touches log p at theta
        touch = float(elbo(X, params_of(theta), Q))
        history.append(BoundState("E", iteration, theta, Q, loglik_at(theta), touch))
        theta = float(m_step(X, Q))  # theta moves to the bound's maximum
        history.append(BoundState("M", iteration, theta, Q, loglik_at(theta), float(elbo(X, params_of(theta), Q))))
    check_rising([h.loglik for h in history], "log-likelihood", where="half-step", start=0, loop=None)
    for h in history[2::2]:
        if h.loglik - h.bound < -1e-9 * (1 + abs(h.loglik)):  # the gap is a KL divergence
            raise DemoStopped(
                f"stopped: after the M-step of iteration {h.iteration} the bound, {h.bound:.6g}, is above the "
                f"log-likelihood, {h.loglik:.6g}, at theta = {h.theta:.4g}. A lower bound never is: the ELBO or the "
                "E-step is wrong; the check cells above say which."
            )
    return history


def _focus(ax, loglik):
    """y-limits around the log-likelihood curve: the bounds plunge far below it away from theta."""
    lo, hi = float(np.min(loglik)), float(np.max(loglik))
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    ax.set_ylim(lo - pad, hi + pad)


def plot_bound(X, theta, params_of, e_step, m_step, elbo, thetas, ax=None, theta_label=r"$\theta$"):
    """Bishop's Fig. 9.14: the log-likelihood, the bound made at theta_old and the one made at theta_new.

    The E-step at theta_old gives a bound (blue) that touches log p(X | theta) (red) at theta_old;
    the M-step moves to its maximum theta_new, where the log-likelihood is higher still; the next
    E-step gives a new bound (green) that touches at theta_new.

    Parameters
    ----------
    X : any
    theta : float
        theta_old, where the E-step is made.
    params_of, e_step, m_step, elbo : callable
        As in :func:`bound_history`.
    thetas : ndarray of shape (m,)
        The grid to draw on.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    theta_label : str, default=r"$\\theta$"

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    DemoStopped
        When the log-likelihood at theta_new is below the one at theta_old, or either is not finite.
    """
    thetas = _as_grid(thetas)
    loglik = loglik_curve(X, thetas, params_of, e_step, elbo)
    Q_old = e_step(X, params_of(theta))
    theta_new = float(m_step(X, Q_old))
    Q_new = e_step(X, params_of(theta_new))
    # the figure's story (the log-likelihood rises at theta_new) must be what the functions give
    check_rising(
        [_loglik_at(X, t, params_of, e_step, elbo) for t in (theta, theta_new)],
        "log-likelihood",
        "M-step",
        start=0,
        loop=None,
    )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    ax.plot(thetas, loglik, color="tab:red", lw=2.5, label=r"$\ln p(\mathbf{X} \mid \theta)$")
    for Q, name, color in ((Q_old, "old", "tab:blue"), (Q_new, "new", "tab:green")):
        bound = bound_curve(X, thetas, params_of, elbo, Q)
        ax.plot(thetas, bound, color=color, lw=1.8, label=rf"bound made at $\theta^{{{name}}}$")
    for value, name, color in ((theta, r"$\theta^{old}$", "tab:blue"), (theta_new, r"$\theta^{new}$", "tab:green")):
        ax.axvline(value, color=color, ls=":", lw=1.2)
        ax.annotate(name, (value, 0), xycoords=("data", "axes fraction"), xytext=(3, 4), textcoords="offset points")
    _focus(ax, loglik)
    ax.set_xlim(thetas[0], thetas[-1])
    ax.set_xlabel(theta_label)
    ax.set_ylabel("log-likelihood and its lower bound")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return ax


_STEP_TEXT = {
    "init": "start: no bound yet",
    "E": "E-step: Q = p(Z | X, θ), the bound touches ln p at θ (KL = 0)",
    "M": "M-step: θ jumps to the maximum of the bound; ln p rises at least as much",
}


def bound_stepper(X, theta0, params_of, e_step, m_step, elbo, thetas, n_iters=6, theta_label=r"$\theta$"):
    """A slider through the E- and M-half-steps of EM on a one-parameter slice (Bishop, PRML Fig. 9.14).

    Left: log p(X | theta) on the grid (red), the current bound ELBO(Q, theta) (blue), theta (dotted)
    and the two values at theta: they meet after an E-step; after an M-step the gap is
    KL(Q || p(Z | X, theta)). Right: the log-likelihood and the bound at theta after every half-step.

    Parameters
    ----------
    X : any
    theta0 : float
    params_of, e_step, m_step, elbo : callable
        As in :func:`bound_history`; all called here, before anything is drawn.
    thetas : ndarray of shape (m,)
        The grid to draw on.
    n_iters : int, default=6
    theta_label : str, default=r"$\\theta$"

    Returns
    -------
    stepper : Stepper
        Display it by ending a cell with it. ``stepper.history`` holds the list of
        :class:`BoundState`; ``stepper.show(s)`` moves to half-step s.
    """
    thetas = _as_grid(thetas)
    history = bound_history(X, theta0, params_of, e_step, m_step, elbo, n_iters)
    loglik = loglik_curve(X, thetas, params_of, e_step, elbo)
    bounds = {}  # one curve per E-step, shared by the M-step that follows it
    for h in history[1::2]:
        bounds[h.iteration] = bound_curve(X, thetas, params_of, elbo, h.Q)
    steps = np.arange(len(history))
    L = np.array([h.loglik for h in history])
    B = np.array([h.bound for h in history])

    fig = Figure(figsize=(11, 4.4), dpi=90, layout="constrained")
    ax_theta, ax_steps = fig.subplots(1, 2, width_ratios=[1.25, 1])
    ax_theta.plot(thetas, loglik, color="tab:red", lw=2.5, label=r"$\ln p(\mathbf{X} \mid \theta)$")
    (bound_line,) = ax_theta.plot([], [], color="tab:blue", lw=1.8, label=r"bound $\mathcal{L}(Q, \theta)$")
    theta_line = ax_theta.axvline(history[0].theta, color="0.3", ls=":", lw=1.2)
    old_line = ax_theta.axvline(history[0].theta, color="0.6", ls="--", lw=1.2, label=r"$\theta$ before the M-step")
    (at_loglik,) = ax_theta.plot([], [], "o", color="tab:red", ms=8, zorder=4)
    (at_bound,) = ax_theta.plot([], [], "o", color="tab:blue", ms=6, zorder=5)
    _focus(ax_theta, loglik)
    ax_theta.set_xlim(thetas[0], thetas[-1])
    ax_theta.set_xlabel(theta_label)
    ax_theta.set_ylabel("log-likelihood and its lower bound")
    ax_theta.grid(alpha=0.3)
    ax_theta.legend(loc="lower right", fontsize="small")

    ax_steps.plot(steps, L, "o-", color="tab:red", ms=5, label=r"$\ln p(\mathbf{X} \mid \theta)$")
    ax_steps.plot(steps, B, "s", color="tab:blue", ms=5, mfc="none", label=r"$\mathcal{L}(Q, \theta)$ at $\theta$")
    (current,) = ax_steps.plot([], [], "o", ms=15, mfc="none", mec="black", mew=2)
    ax_steps.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_steps.set_xlabel("half-step (odd: E-step, even: M-step)")
    ax_steps.set_ylabel("value at the current θ")
    finite = np.concatenate([L[1:], B[1:]]) if len(L) > 2 else L
    _focus(ax_steps, finite)
    ax_steps.grid(alpha=0.3)
    ax_steps.legend(loc="lower right", fontsize="small")
    title = fig.suptitle("")

    def update(step):
        h = history[step]
        theta_line.set_xdata([h.theta, h.theta])
        at_loglik.set_data([h.theta], [h.loglik])
        if h.kind == "init":
            bound_line.set_data([], [])
            at_bound.set_data([], [])
        else:
            bound_line.set_data(thetas, bounds[h.iteration])
            at_bound.set_data([h.theta], [h.bound])
        old_line.set_visible(h.kind == "M")
        if h.kind == "M":
            old_line.set_xdata([history[step - 1].theta] * 2)
        current.set_data([step], [h.loglik])
        where = f"iteration {h.iteration}, " if h.iteration else ""
        gap = "" if h.kind == "init" else f", gap (KL) = {h.loglik - h.bound:.3g}"
        title.set_text(f"{where}{_STEP_TEXT[h.kind]}\nθ = {h.theta:.3f}: ln p(X | θ) = {h.loglik:.3f}{gap}")
        return [bound_line, old_line, theta_line, at_bound, at_loglik, current, title]

    stepper = Stepper(len(history), fig, update, description="half-step")
    stepper.history = history
    return stepper


def plot_elbo_loglik(logliks, elbos, ax=None, per_point=None):
    """The log-likelihood after every EM iteration and, between them, the ELBO after every M-step.

    Iteration t starts from the parameters theta_{t-1}: its E-step makes the bound equal to
    logliks[t-1], its M-step raises the bound to elbos[t-1] = ELBO(Q_t, theta_t), and the next
    E-step closes the remaining gap KL(Q_t || p(Z | X, theta_t)) up to logliks[t]. So
    ``logliks[t-1] <= elbos[t-1] <= logliks[t]``: a staircase that never goes down.

    Parameters
    ----------
    logliks : sequence of float
        The log-likelihood of the start, then after every iteration (one more than elbos).
    elbos : sequence of float
        As returned by ``general_em``: the ELBO after every M-step.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    per_point : int, optional
        Divide by this number of points.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    L = np.asarray(logliks, dtype=float)
    E = np.asarray(elbos, dtype=float)
    if L.ndim != 1 or E.ndim != 1 or len(L) != len(E) + 1 or len(E) == 0:
        raise ValueError(f"logliks needs one more value than elbos (the start); got {L.shape} and {E.shape} values")
    if per_point:
        L, E = L / per_point, E / per_point
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    t = np.arange(len(L))
    # the staircase: up to the ELBO by an M-step, up to the log-likelihood by the next E-step
    path_x = np.repeat(t, 2)[1:-1]
    path_y = np.column_stack([L[:-1], E]).ravel()
    ax.plot(np.append(path_x, t[-1]), np.append(path_y, L[-1]), color="0.7", lw=1, zorder=1)
    ax.plot(t, L, "o", color="tab:red", ms=5, label="log-likelihood (after the E-step: the bound touches)")
    ax.plot(t[1:], E, "v", color="tab:blue", ms=6, mfc="none", label="ELBO after the M-step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("log-likelihood and ELBO" + (" per point" if per_point else ""))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_prototypes(mu, image_shape, phi=None, titles=None, ncols=5, fig=None):
    """Each component's mean vector shown as an image: the prototypes of a mixture of Bernoullis.

    Parameters
    ----------
    mu : ndarray of shape (k, d)
        Pixel probabilities in [0, 1], d = prod(image_shape).
    image_shape : tuple of int
        (height, width) of an image.
    phi : ndarray of shape (k,), optional
        Mixing weights, shown above the images and used to order them, largest first.
    titles : sequence of str, optional
        One title per component (in the order of mu); replaces the weights in the titles.
    ncols : int, default=5
    fig : matplotlib.figure.Figure, optional
        Figure to draw in; a new pyplot figure when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    mu = np.asarray(mu, dtype=float)
    k = len(mu)
    d = int(np.prod(image_shape))
    if mu.ndim != 2 or mu.shape[1] != d:
        raise ValueError(f"mu must have shape (k, {d}) for images of shape {tuple(image_shape)}; got {mu.shape}")
    order = np.argsort(-np.asarray(phi)) if phi is not None else np.arange(k)
    nrows = -(-k // ncols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(1.6 * ncols, 1.8 * nrows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, j in zip(axes, order):
        ax.imshow(mu[j].reshape(image_shape), cmap="gray_r", vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(titles[j], fontsize="small")
        elif phi is not None:
            ax.set_title(rf"$\pi_{{{j}}}$ = {phi[j]:.3f}", fontsize="small")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[k:]:
        ax.set_visible(False)
    return fig


# ------------------------------------------------------------------------------ the demos' guards
_EXERCISE = {"gmm_e_step": 2, "gmm_m_step": 3, "gmm_elbo": 4, "general_em": 5}


def _stop(function, sentence):
    """DemoStopped for a demo that did not run: what the student's function returned, and what to do."""
    return DemoStopped(
        f"not run: your {function} {sentence}. Fix {function} above (exercise {_EXERCISE[function]}), "
        "then run this cell again."
    )


def _show(values):
    """An array in one line, rounded to 4 significant digits."""
    values = np.asarray(values, dtype=float)
    text = np.array2string(values, precision=4, separator=", ", threshold=8, edgeitems=3).replace("\n", "")
    return text + (f" ({values.size} values)" if values.size > 8 else "")


def check_gmm_functions(gmm_e_step, gmm_m_step, gmm_elbo):
    """Try the Gaussian mixture's three functions on small inputs whose answers are known by hand.

    EM's guarantee (the ELBO never decreases) holds only when the E-step is the exact posterior, the
    M-step maximises the bound and the ELBO is the right sum: a demo run on a wrong function draws
    curves and prints numbers that the theory does not describe. So the demos try the functions first
    and stop on the first that gives a wrong answer.

    Raises
    ------
    DemoStopped
        Naming the function, the input, what it returned and what it should return. A function that
        raises (still the stub, or an error) raises as it is.
    """
    identity = np.stack([np.eye(2), np.eye(2)])
    # E-step: two identical components, so the posterior of every point is the weights themselves
    same = {"phi": np.array([0.75, 0.25]), "mu": np.zeros((2, 2)), "Sigma": identity}
    Q = np.asarray(gmm_e_step(np.array([[0.0, 0.0], [3.0, -1.0]]), same), dtype=float)
    if Q.shape != (2, 2) or not np.allclose(Q, [[0.75, 0.25], [0.75, 0.25]], rtol=1e-6, atol=1e-9):
        raise _stop(
            "gmm_e_step",
            f"returns Q = {_show(Q)} for two identical components with the weights (0.75, 0.25), where the "
            "posterior of every point is the weights themselves, [[0.75, 0.25], [0.75, 0.25]]",
        )
    # ... and two components of equal weights, at (0, 0) and (0, 2): 1 / (1 + e^-2) = 0.8808 for the nearer
    apart = {"phi": np.array([0.5, 0.5]), "mu": np.array([[0.0, 0.0], [0.0, 2.0]]), "Sigma": identity}
    Q = np.asarray(gmm_e_step(np.array([[0.0, 0.0]]), apart), dtype=float)
    near = 1 / (1 + np.exp(-2))
    if Q.shape != (1, 2) or not np.allclose(Q, [[near, 1 - near]], rtol=1e-6, atol=1e-9):
        raise _stop(
            "gmm_e_step",
            f"returns Q = {_show(Q)} for the point (0, 0) and two unit components of equal weights at (0, 0) "
            "and (0, 2), where Q = [[1 / (1 + e^-2), e^-2 / (1 + e^-2)]] = [[0.8808, 0.1192]]",
        )

    # M-step: hard responsibilities, the points 0 and 2 in component 0, the point 10 in component 1
    X = np.array([[0.0], [2.0], [10.0]])
    params = gmm_m_step(X, np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    expected = {"phi": [2 / 3, 1 / 3], "mu": [[1.0], [10.0]], "Sigma": [[[1.0 + 1e-6]], [[1e-6]]]}
    hand = {"phi": "(2/3, 1/3)", "mu": "[[1], [10]]", "Sigma": "[[[1 + 1e-6]], [[1e-6]]]"}
    for key, value in expected.items():
        got = np.asarray(params[key], dtype=float) if isinstance(params, dict) and key in params else None
        if got is None or got.shape != np.shape(value) or not np.allclose(got, value, rtol=1e-6, atol=1e-9):
            shown = "no such key" if got is None else _show(got)
            raise _stop(
                "gmm_m_step",
                f'returns params["{key}"] = {shown} for X = [[0], [2], [10]] with the points 0 and 2 in component 0 '
                f"and 10 in component 1, where it should be {hand[key]}",
            )

    # ELBO: two identical standard normals, both points at 0; Q of point 0 the posterior, of point 1 one-hot
    twins = {"phi": np.array([0.5, 0.5]), "mu": np.zeros((2, 1)), "Sigma": np.ones((2, 1, 1))}
    value = float(gmm_elbo(np.zeros((2, 1)), twins, np.array([[0.5, 0.5], [1.0, 0.0]])))
    log_n = -0.5 * np.log(2 * np.pi)  # ln N(0 | 0, 1)
    expected = 2 * log_n - np.log(2)
    if not np.isclose(value, expected, rtol=1e-6):
        raise _stop(
            "gmm_elbo",
            f"returns {value:.4f} for two points at 0, two identical components N(0, 1) of weight 0.5 and "
            "Q = [[0.5, 0.5], [1, 0]], where the bound is ln N(0 | 0, 1) for the first point (Q is its posterior) "
            f"and ln N(0 | 0, 1) - ln 2 for the second (a one-hot Q, 0 ln 0 = 0): {expected:.4f}",
        )


def check_general_em(general_em):
    """Run general_em on the model of its try-it cell, whose every step is known by hand.

    The parameter counts the M-steps, the E-step passes it on as Q, and the ELBO after the t-th M-step is
    1 - 0.5**t. With tol = 0.1 EM stops after 4 iterations, the first to gain less than tol (0.0625).

    Raises
    ------
    DemoStopped
        Naming what general_em returned and what it should return.
    """
    result = general_em(
        None, 0, lambda X, params: params, lambda X, Q: Q + 1, lambda X, params, Q: 1 - 0.5**params, tol=0.1
    )
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        raise _stop("general_em", f"returns {type(result).__name__} {result!r}, not (params, Q, elbos, n_iters)")
    params, _, elbos, n_iters = result
    elbos = np.asarray(elbos, dtype=float)
    if not (params == 4 and n_iters == 4 and elbos.shape == (4,) and np.allclose(elbos, [0.5, 0.75, 0.875, 0.9375])):
        raise _stop(
            "general_em",
            f"returns params = {params!r}, elbos = {_show(elbos)}, n_iters = {n_iters!r} for the model of its "
            "try-it cell (the M-step counts, the ELBO after the t-th M-step is 1 - 0.5**t, tol = 0.1), where it "
            "should return 4, [0.5, 0.75, 0.875, 0.9375] and 4: the 4th iteration gains 0.0625 < tol and stops it",
        )


def check_rising(values, what, where="iteration", start=1, loop="general_em"):
    """Stop a demo whose ELBO or log-likelihood became NaN or infinite, or went down.

    Parameters
    ----------
    values : sequence of float
        The values after every iteration (or half-step), in order.
    what : str
        Their name in the stopping sentence: "ELBO", "log-likelihood".
    where : str, default="iteration"
        What one step is called.
    start : int, default=1
        The step of values[0]: 1 for general_em's elbos (the first is after iteration 1), 0 for a list
        that begins with the start.
    loop : str or None, default="general_em"
        The function that ran the iterations, named among the suspects; None when the loop is the
        lesson's own (the slice's steppers).

    Raises
    ------
    DemoStopped
        With the step and the values: EM never lowers either, whatever the model, so one of the
        functions is not what the theory asks.
    """
    values = np.asarray(values, dtype=float)

    def step(j):
        return "the start" if start + j == 0 else f"{where} {start + j}"

    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise DemoStopped(
            f"stopped: the {what} is {values[bad[0]]} after {step(bad[0])}. Usually a log of 0 or a density that "
            "underflowed: compute in log space (logsumexp) and leave out the terms with Q = 0."
        )
    fell = np.flatnonzero(np.diff(values) < -1e-9 * (1 + np.abs(values[1:])))
    if len(fell):
        j = int(fell[0]) + 1
        records = (
            f", and {loop} records elbo(X, params, Q) of each new params with the Q its M-step used" if loop else ""
        )
        raise DemoStopped(
            f"stopped: the {what} went down, from {values[j - 1]:.6g} to {values[j]:.6g} at {step(j)}. EM never "
            f"lowers it when the E-step is the exact posterior and the M-step maximises the bound{records}: one of "
            "these is wrong; the check cells above say which."
        )
