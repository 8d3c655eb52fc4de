"""The lessons' sliders: building each stepper (its history computed with the reference functions and the
first frame drawn), one slider step on the kernel's side, and the kernel-free animation of all steps.

The data and settings are the notebooks' own (FAST off): Old Faithful, 300 points in 1-D, the 40-point
slice of lesson 4. One step is what the kernel does when the slider moves: redraw the figure's artists
and encode the PNG that the browser shows.
"""

import time

import matplotlib
import numpy as np

from helpers import bound_stepper, em_1d_stepper, gmm_stepper, kmeans_stepper, load_faithful
from solutions import em_1d, general_em, gmm, kmeans

STEPS = 20  # slider moves timed per stepper


def _faithful():
    faithful = load_faithful()
    return (faithful - faithful.mean(axis=0)) / faithful.std(axis=0)


def _kmeans():
    X = _faithful()
    init = np.array([[-1.5, 1.5], [1.5, -1.5]])
    return kmeans_stepper(X, init, kmeans.assign_clusters, kmeans.update_centroids, kmeans.compute_distortion)


def _em_1d():
    rng = np.random.default_rng(0)
    z = rng.choice(2, size=300, p=[0.4, 0.6])
    x = rng.normal(np.array([-1.0, 2.0])[z], np.array([0.6, 1.2])[z])
    start = (np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([0.5, 0.5]))
    return em_1d_stepper(x, *start, em_1d.e_step_1d, em_1d.m_step_1d, em_1d.log_likelihood_1d, max_iters=60)


def _gmm():
    init = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), 0.1 * np.stack([np.eye(2)] * 2))
    return gmm_stepper(_faithful(), init, gmm.e_step, gmm.m_step, gmm.log_likelihood, max_iters=50)


def _bound():
    rng = np.random.default_rng(4)
    second = rng.random(40) < 0.5
    x = np.where(second, rng.normal(2.0, 1.0, 40), rng.normal(-1.0, 1.0, 40))[:, None]

    def params_of(theta):
        return {"phi": np.array([0.5, 0.5]), "mu": np.array([[-1.0], [theta]]), "Sigma": np.ones((2, 1, 1))}

    def theta_m_step(X, Q):
        return general_em.gmm_m_step(X, Q)["mu"][1, 0]

    thetas = np.linspace(-4.0, 5.0, 161)
    return bound_stepper(x, -3.0, params_of, general_em.gmm_e_step, theta_m_step, general_em.gmm_elbo, thetas)


STEPPERS = {
    "01 k-means (Old Faithful)": _kmeans,
    "02 1-D EM (300 points)": _em_1d,
    "03 GMM (Old Faithful, Fig. 9.8)": _gmm,
    "04 ELBO half-steps (Fig. 9.14)": _bound,
}


def stepper_row(name, build):
    start = time.perf_counter()
    stepper = build()
    t_build = time.perf_counter() - start
    rng = np.random.default_rng(0)
    times = []
    for step in rng.integers(0, stepper.n_steps, size=STEPS):
        start = time.perf_counter()
        stepper.slider.value = int(step)  # as the browser does: the observer redraws and encodes the PNG
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    html = stepper.animation_html()
    t_anim = time.perf_counter() - start
    return (
        f"| {name} | {stepper.n_steps} | {t_build * 1e3:.0f} | {np.median(times) * 1e3:.0f} | "
        f"{np.max(times) * 1e3:.0f} | {t_anim:.2f} | {len(html) / 1e6:.2f} |"
    )


def main():
    matplotlib.use("Agg")
    rows = [stepper_row(name, build) for name, build in STEPPERS.items()]
    return [
        "## Sliders: one step on the kernel's side, and the kernel-free animation",
        "",
        "Each lesson's stepper on the notebook's data (FAST off), built with the reference functions: the time to"
        " build it (history and first frame), the median and worst of"
        f" {STEPS} slider moves to random steps (redraw and PNG encoding, what the kernel does when the slider"
        " moves; target well under 100 ms), and the time and size of the embedded `to_jshtml` animation of all"
        f" steps. matplotlib {matplotlib.__version__}, Agg.",
        "",
        "| stepper | steps | build (ms) | one step, median (ms) | one step, worst (ms) | animation (s) "
        "| animation (MB) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
