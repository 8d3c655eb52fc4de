"""Slider widgets that step one figure through the precomputed states of an iterative algorithm."""

import io
import os
import re
import tempfile
from pathlib import Path
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
import PIL.Image
from matplotlib.animation import HTMLWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.plotting import ClusterArtists, _as_centroids, apart, stop_demo, wrong_way


def fast_mode():
    """True when the environment variable FAST is set to anything but "", "0", "false" or "False"."""
    return os.environ.get("FAST", "0") not in ("", "0", "false", "False")


# matplotlib's animation player: its buttons' icons (font-awesome classes) -> characters
ANIMATION_BUTTONS = {
    "fa-minus": "&minus;",
    "fa-fast-backward": "|&#x25C0;&#x25C0;",
    "fa-step-backward": "&#x25C0;|",
    "fa-play fa-flip-horizontal": "&#x25C0;",
    "fa-pause": "||",
    "fa-play": "&#x25B6;",
    "fa-step-forward": "|&#x25B6;",
    "fa-fast-forward": "&#x25B6;&#x25B6;|",
    "fa-plus": "+",
}


class FigureImage:
    """A matplotlib figure shown in a notebook as a PNG image that is redrawn in place.

    How the figure reaches the screen: ``fig`` is a plain :class:`matplotlib.figure.Figure`, not
    registered with pyplot, rendered to PNG after every change and shown in an
    :class:`ipywidgets.Image`. This works with the default inline backend (no ipympl needed), in
    JupyterLab, Notebook and VS Code alike, without the flicker of ``clear_output``; and because
    pyplot never sees the figure, the inline backend does not print a stray static copy at the
    end of the cell. Nothing waits for a display, so it builds as well in headless runs (Agg,
    nbgrader, tests). The layout (constrained or tight) is computed for the first drawing and then
    frozen, so that the panels do not shift.

    Redrawing is fast when the caller says which artists changed (blitting): the rest of the figure
    (axes, ticks, labels, fixed curves) is drawn once and kept as a background, and each redraw
    pastes it back and draws only the changed artists over it, in the order given.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Make it with ``matplotlib.figure.Figure(...)``, not ``plt.figure``: a pyplot figure would
        also be shown, static, below the widget.

    Attributes
    ----------
    fig : matplotlib.figure.Figure
    image : ipywidgets.Image
        The figure as it was last drawn.
    """

    def __init__(self, fig):
        self.fig = fig
        self.image = widgets.Image(format="png")
        self._canvas = FigureCanvasAgg(fig)  # renders without pyplot, whatever the backend
        self._blit = None  # (the changing artists, the background drawn without them)

    def redraw(self, changed=None):
        """Draw the figure into ``image``.

        Parameters
        ----------
        changed : sequence of matplotlib artists, optional
            The artists that changed since the last redraw, always the same ones, in drawing
            order; None redraws everything.
        """
        if changed is None:
            self.unblit()
            self._canvas.draw()
        else:
            changed = list(changed)
            if self._blit is None or self._blit[0] != changed:
                self.unblit()
                for artist in changed:
                    artist.set_animated(True)  # left out of the background
                self._canvas.draw()
                self._blit = (changed, self._canvas.copy_from_bbox(self.fig.bbox))
            else:
                self._canvas.restore_region(self._blit[1])
            for artist in changed:
                self.fig.draw_artist(artist)
        buffer = io.BytesIO()
        rgb = np.ascontiguousarray(np.asarray(self._canvas.buffer_rgba())[..., :3])  # opaque: no alpha to encode
        PIL.Image.fromarray(rgb).save(buffer, format="png", compress_level=1)  # fast zlib: a third of the time
        self.image.value = buffer.getvalue()
        self.fig.set_layout_engine("none")  # keep the first layout: the panels must not shift

    def unblit(self):
        """Forget the background: every artist is part of the figure's normal drawing again."""
        if self._blit is not None:
            for artist in self._blit[0]:
                artist.set_animated(False)
            self._blit = None

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class Stepper(FigureImage):
    """A slider and a play button that step one matplotlib figure through ``n_steps`` states.

    The caller draws the figure once and passes ``update(step)``, which changes the data of the
    figure's artists (``set_offsets``, ``set_data``, ``set_text``...) for one step. The stepper
    calls it whenever the slider moves; nothing is recomputed and no figure is created.

    The figure is a :class:`FigureImage`: ``update(step)`` changes the data of the figure's artists
    and returns the artists it changed (a fixed list, in drawing order), which are then drawn over a
    background of the rest; when it returns None the whole figure is drawn. The play button runs in
    the browser and only moves the slider. Displayed in a notebook, a folded animation of all the
    steps follows the live widget and plays without a kernel (``animation_html``).

    Parameters
    ----------
    n_steps : int
        Number of states; the slider goes from 0 to n_steps - 1.
    fig : matplotlib.figure.Figure
        The figure that ``update`` redraws. Make it with ``matplotlib.figure.Figure(...)``, not
        ``plt.figure``: a pyplot figure would also be shown, static, below the widget.
    update : callable
        ``update(step)`` sets the artists of ``fig`` to state ``step`` and returns those it changed
        (or None).
    interval : int, default=700
        Milliseconds between steps when playing.
    description : str, default="step"
        Label of the slider.

    Attributes
    ----------
    step : int
        The state shown now.
    slider : ipywidgets.IntSlider
    play : ipywidgets.Play
    image : ipywidgets.Image
    widget : ipywidgets.VBox
        The whole control; a notebook cell that ends with the stepper displays it.
    """

    def __init__(self, n_steps, fig, update, interval=700, description="step"):
        if n_steps < 1:
            raise ValueError(f"a stepper needs at least one state; got n_steps={n_steps}")
        super().__init__(fig)
        self.n_steps = n_steps
        self.update = update
        self.interval = interval
        self.play = widgets.Play(min=0, max=n_steps - 1, step=1, interval=interval)
        self.slider = widgets.IntSlider(min=0, max=n_steps - 1, value=0, description=description)
        widgets.jslink((self.play, "value"), (self.slider, "value"))  # the browser keeps them together
        self.slider.observe(lambda change: self._render(change["new"]), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.play, self.slider]), self.image])
        self._render(0)

    def show(self, step):
        """Move the slider to ``step`` and redraw the figure there.

        Parameters
        ----------
        step : int
            In [0, n_steps).
        """
        if not 0 <= step < self.n_steps:
            raise ValueError(f"step must be in [0, {self.n_steps}); got {step}")
        if self.slider.value == step:
            self._render(step)
        else:
            self.slider.value = step  # the slider's observer renders

    def _render(self, step):
        changed = self.update(step)
        self.step = step
        self.redraw(changed)

    def animation_html(self, dpi=60):
        """Every step as a JavaScript animation that plays without a kernel (matplotlib's jshtml).

        The frames are drawn now, by the same ``update``, at a lower resolution than the live figure,
        and embedded in the HTML as PNG images: no kernel, widget state or network is needed to step
        through them (an HTML export, a static site, a notebook viewer).

        Parameters
        ----------
        dpi : float, default=60

        Returns
        -------
        html : str
        """
        self.unblit()  # every frame drawn whole
        # the writer behind FuncAnimation.to_jshtml, fed the steps directly (no animation timer to stop)
        writer = HTMLWriter(fps=1000 / self.interval, embed_frames=True, default_mode="once")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "animation.html"
            with writer.saving(self.fig, path, dpi):
                for step in range(self.n_steps):
                    self.update(step)
                    writer.grab_frame()
            html = path.read_text()
        self._render(self.step)  # back to the step the slider shows
        # the player's buttons take their icons from a CDN stylesheet: plain characters work offline
        html = re.sub(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">', "", html)
        for icon, text in ANIMATION_BUTTONS.items():
            html = html.replace(f'<i class="fa {icon}"></i>', text)
        return html

    def _ipython_display_(self):
        """Display the live widget and, below it, the kernel-free animation of the same steps
        (folded; left out under grading and in FAST runs, where nobody looks at it)."""
        from IPython.display import HTML, display

        display(self.widget)
        if not fast_mode() and not os.environ.get("NBGRADER_EXECUTION"):
            summary = "Animation of the same steps (plays without a running kernel, e.g. in an HTML export)"
            display(HTML(f"<details><summary>{summary}</summary>{self.animation_html()}</details>"))


class HalfStep(NamedTuple):
    """One state of k-means: after the initialisation, an assignment step or an update step."""

    kind: str  # "init", "assignment" or "update"
    centroids: np.ndarray  # (k, d)
    labels: np.ndarray | None  # (n,); None before the first assignment
    J: float  # distortion of (centroids, labels); nan before the first assignment


def kmeans_history(X, init, assign_clusters, update_centroids, compute_distortion, max_iters=20, tol=1e-6):
    """Run Lloyd's algorithm with the given functions and record every half-step.

    The demo stops (:class:`helpers.DemoStopped`, with a sentence that names the step and the function to
    check) when a centroid becomes NaN or infinite, when J does, or when a half-step raises J by more
    than rounding: neither step of k-means ever raises it.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    init : ndarray of shape (k, d)
        Initial centroids.
    assign_clusters, update_centroids, compute_distortion : callable
        The three steps of k-means, with the signatures of lesson 1.
    max_iters : int, default=20
        Most iterations (one assignment and one update each).
    tol : float, default=1e-6
        Stop once no centroid moves more than tol in an update step.

    Returns
    -------
    history : list of HalfStep
        ``history[0]`` is the initialisation, then assignment and update steps alternate.
        J never increases along it.
    """
    centroids = np.array(init, dtype=float)  # copies: the functions may change arrays in place
    history = [HalfStep("init", centroids.copy(), None, float("nan"))]
    for t in range(1, max_iters + 1):
        # minimise J over r_nk with mu fixed ...
        labels = np.array(assign_clusters(X, centroids))
        J = _checked_J(compute_distortion(X, centroids, labels), history, "assignment", t)
        history.append(HalfStep("assignment", centroids.copy(), labels, J))
        # ... then over mu_k with r_nk fixed
        new_centroids = np.array(update_centroids(X, labels.copy(), centroids.copy()), dtype=float)
        _check_centroids(new_centroids, labels, t)
        J = _checked_J(compute_distortion(X, new_centroids, labels), history, "update", t)
        history.append(HalfStep("update", new_centroids, labels, J))
        moved = np.sqrt(np.max(np.sum((new_centroids - centroids) ** 2, axis=1)))
        centroids = new_centroids
        if moved <= tol:
            break
    return history


_STEP_FUNCTION = {"assignment": "assign_clusters", "update": "update_centroids"}


def _checked_J(J, history, kind, iteration):
    """J as a float; the demo stops if it is NaN or infinite, or higher than after the half-step before."""
    J = float(J)
    where = f"at the {kind} step of iteration {iteration}"
    if not np.isfinite(J):
        stop_demo(f"compute_distortion returned {J} {where}: J is a sum of squared distances; check it above")
    before = history[-1].J
    if np.isfinite(before) and wrong_way(before, J, rises=False):
        a, b = apart(before, J)
        stop_demo(
            f"the distortion J rose from {a} to {b} {where}: an {kind} step "
            f"never raises J; check {_STEP_FUNCTION[kind]} and compute_distortion above "
            "(their check cells say which is wrong)"
        )
    return J


def _check_centroids(centroids, labels, iteration):
    """The demo stops if update_centroids gave a centroid a NaN or infinite coordinate."""
    bad = np.flatnonzero(~np.all(np.isfinite(centroids), axis=-1)) if centroids.ndim == 2 else []
    if len(bad):
        j = int(bad[0])
        empty = not np.any(labels == j)
        why = f": cluster {j} has no points, and a cluster with no points keeps its centroid" if empty else ""
        stop_demo(
            f"update_centroids moved centroid {j} to {np.round(centroids[j], 3).tolist()} at iteration {iteration}"
            f"{why}; check update_centroids above"
        )


_CAPTIONS = {
    "init": "initial centroids",
    "assignment": "assignment step: each point joins its nearest centroid",
    "update": "update step: each centroid moves to the mean of its points",
}


def kmeans_stepper(
    X,
    init,
    assign_clusters,
    update_centroids,
    compute_distortion,
    max_iters=20,
    tol=1e-6,
    axis_labels=("$x_1$", "$x_2$"),
):
    """A slider through the half-steps of k-means, computed with the functions passed in.

    Left: the points coloured by cluster, the centroids and their Voronoi regions. Right: the
    distortion J after every half-step (Bishop, PRML Fig. 9.2), the current one ringed. After an
    update step some points may lie in another centroid's region: the next assignment step
    recolours them.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    init : ndarray of shape (k, 2)
        Initial centroids.
    assign_clusters, update_centroids, compute_distortion : callable
        Your functions from lesson 1; they are all called here, before anything is drawn.
    max_iters : int, default=20
    tol : float, default=1e-6
        As in ``kmeans``.
    axis_labels : tuple of str, default=("$x_1$", "$x_2$")

    Returns
    -------
    stepper : Stepper
        Display it by ending a cell with it. ``stepper.history`` holds the list of
        :class:`HalfStep`; ``stepper.show(s)`` moves to step s.
    """
    init = _as_centroids(init)
    history = kmeans_history(X, init, assign_clusters, update_centroids, compute_distortion, max_iters, tol)
    steps = np.arange(1, len(history))
    J = np.array([h.J for h in history[1:]], dtype=float)
    is_update = np.array([h.kind == "update" for h in history[1:]])

    fig = Figure(figsize=(10.5, 4.6), dpi=90, layout="constrained")
    ax_clusters, ax_J = fig.subplots(1, 2, width_ratios=[0.85, 1])
    clusters = ClusterArtists(ax_clusters, X, len(init), axis_labels=axis_labels)
    ax_J.plot(steps, J, "-", color="0.6", zorder=1)
    ax_J.plot(steps[~is_update], J[~is_update], "o", color="tab:blue", label="after an assignment step")
    ax_J.plot(steps[is_update], J[is_update], "o", color="tab:red", label="after an update step")
    (current,) = ax_J.plot([], [], "o", ms=15, mfc="none", mec="black", mew=2, label="shown on the left")
    ax_J.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_J.set_xlim(0.5, len(history) - 0.5)
    ax_J.set_xlabel("half-step")
    ax_J.set_ylabel("distortion $J$")
    ax_J.grid(alpha=0.3)
    ax_J.legend(loc="upper right", fontsize="small")
    title = fig.suptitle("")

    def update(step):
        h = history[step]
        clusters.update(h.labels, h.centroids)
        current.set_data(steps[step - 1 : step], J[step - 1 : step])  # empty at step 0
        iteration = f"iteration {(step + 1) // 2}, " if step else ""
        J_text = "J not defined yet" if step == 0 else f"J = {h.J:.4g}"
        title.set_text(f"Step {step} of {len(history) - 1} ({iteration}{_CAPTIONS[h.kind]}): {J_text}")
        return [*clusters.artists, current, title]

    stepper = Stepper(len(history), fig, update, description="half-step")
    stepper.history = history
    return stepper
