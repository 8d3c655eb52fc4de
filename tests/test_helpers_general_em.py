"""Lesson 4's figures (helpers/general_em.py) and the notebook's demo models, against independent numbers.

The bound on a one-parameter slice is checked against scipy.stats and the closed form of the M-step;
the demo cells of notebooks/04_general_em.ipynb are executed as committed (with the reference
functions in place of the student's) and checked against the published two-coin figures, a
Bernoulli log-likelihood from scipy.stats and scikit-learn's KMeans.
"""

import itertools
from math import comb

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.special import logsumexp
from scipy.stats import bernoulli, binom, multivariate_normal, norm
from sklearn.cluster import KMeans

import solutions.general_em
from autograde.notebooks import NOTEBOOK_DIR, function_source
from helpers import (
    bound_curve,
    bound_history,
    bound_stepper,
    loglik_curve,
    plot_bound,
    plot_elbo_loglik,
    plot_prototypes,
)
from solutions.general_em import gmm_e_step, gmm_elbo, gmm_m_step

NOTEBOOK = NOTEBOOK_DIR / "04_general_em.ipynb"
EXERCISES = ["gmm_initialize", "gmm_e_step", "gmm_m_step", "gmm_elbo", "general_em"]
MEAN_1, PHI = -1.0, 0.5  # the slice: 0.5 N(-1, 1) + 0.5 N(theta, 1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------ the one-parameter slice
@pytest.fixture(scope="module")
def x_slice():
    rng = np.random.default_rng(4)
    from_second = rng.random(40) < 0.5
    return np.where(from_second, rng.normal(2.0, 1.0, 40), rng.normal(MEAN_1, 1.0, 40))[:, None]


def params_of(theta):
    return {"phi": np.array([PHI, 1 - PHI]), "mu": np.array([[MEAN_1], [theta]]), "Sigma": np.ones((2, 1, 1))}


def theta_m_step(X, Q):
    return gmm_m_step(X, Q)["mu"][1, 0]


def log_joint(x, theta):
    """(n, 2): log p(x_i, z_i = j | theta) from scipy.stats, independent of the course's code."""
    x = x[:, 0]
    return np.column_stack([np.log(PHI) + norm.logpdf(x, MEAN_1, 1.0), np.log(1 - PHI) + norm.logpdf(x, theta, 1.0)])


def loglik(x, theta):
    return float(logsumexp(log_joint(x, theta), axis=1).sum())


def posterior(x, theta):
    a = log_joint(x, theta)
    return np.exp(a - logsumexp(a, axis=1, keepdims=True))


def bound(x, theta, Q):
    """ELBO(Q, theta) = sum_ij Q_ij [log p(x_i, z_i = j | theta) - log Q_ij], written out."""
    return float(np.sum(Q * log_joint(x, theta)) - np.sum(Q * np.log(Q)))


THETAS = np.linspace(-4.0, 5.0, 181)


def test_loglik_curve_is_the_mixture_log_likelihood(x_slice):
    curve = loglik_curve(x_slice, THETAS, params_of, gmm_e_step, gmm_elbo)
    assert np.allclose(curve, [loglik(x_slice, t) for t in THETAS], rtol=1e-12, atol=0)


def test_bound_curve_is_the_elbo_of_a_fixed_q(x_slice):
    Q = posterior(x_slice, 0.5)
    assert np.allclose(bound_curve(x_slice, THETAS, params_of, gmm_elbo, Q), [bound(x_slice, t, Q) for t in THETAS])


@pytest.mark.parametrize("theta", [-3.0, -0.75, 1.0, 4.0])
def test_after_an_e_step_the_bound_touches_at_theta_and_lies_below_elsewhere(x_slice, theta):
    Q = gmm_e_step(x_slice, params_of(theta))
    grid = np.union1d(THETAS, [theta])
    lower = bound_curve(x_slice, grid, params_of, gmm_elbo, Q)
    upper = np.array([loglik(x_slice, t) for t in grid])
    at = np.flatnonzero(grid == theta)[0]
    assert lower[at] == pytest.approx(upper[at], rel=1e-9)
    away = np.abs(grid - theta) > 1e-3
    assert np.all(lower[away] < upper[away])


def test_history_alternates_touching_e_steps_and_maximising_m_steps(x_slice):
    history = bound_history(x_slice, -3.0, params_of, gmm_e_step, theta_m_step, gmm_elbo, n_iters=6)
    assert [h.kind for h in history] == ["init"] + ["E", "M"] * 6
    assert history[0].theta == -3.0 and np.isnan(history[0].bound)
    for before, e, m in zip(history[0::2], history[1::2], history[2::2]):
        # E: theta stays, Q is the exact posterior there, and the bound equals the log-likelihood
        assert e.theta == before.theta
        assert np.allclose(e.Q, posterior(x_slice, e.theta), rtol=1e-12, atol=1e-15)
        assert e.loglik == pytest.approx(loglik(x_slice, e.theta), rel=1e-12)
        assert e.bound == pytest.approx(e.loglik, rel=1e-9)
        # M: theta is the closed-form maximiser of the parabola, the Q-weighted mean of the second component
        closed_form = np.sum(e.Q[:, 1] * x_slice[:, 0]) / np.sum(e.Q[:, 1])
        assert m.theta == pytest.approx(closed_form, rel=1e-12)
        assert m.bound == pytest.approx(bound(x_slice, m.theta, e.Q), rel=1e-12)
        # ... the bound at the new theta beats the bound on the whole grid, and the log-likelihood rose more
        assert m.bound >= bound_curve(x_slice, THETAS, params_of, gmm_elbo, e.Q).max() - 1e-9
        assert m.loglik - m.bound >= -1e-9  # the gap is a KL divergence
        assert m.loglik >= e.loglik


def test_the_grid_argmax_of_the_bound_is_the_m_step(x_slice):
    fine = np.linspace(-4.0, 5.0, 9001)
    for theta_old in (-3.0, -0.75, 2.5):
        Q = posterior(x_slice, theta_old)
        theta_new = theta_m_step(x_slice, Q)
        # the bound on the fine grid, vectorised: only the second component's terms depend on theta
        x = x_slice[:, 0]
        rest = bound(x_slice, 0.0, Q) - np.sum(Q[:, 1] * norm.logpdf(x, 0.0, 1.0))
        on_fine = rest + Q[:, 1] @ norm.logpdf(x[:, None], fine[None, :], 1.0)
        assert abs(fine[np.argmax(on_fine)] - theta_new) <= fine[1] - fine[0]
        on_grid = bound_curve(x_slice, THETAS, params_of, gmm_elbo, Q)
        assert abs(THETAS[np.argmax(on_grid)] - theta_new) <= THETAS[1] - THETAS[0]


def test_plot_bound_draws_the_log_likelihood_and_two_touching_bounds(x_slice):
    ax = plot_bound(x_slice, -0.75, params_of, gmm_e_step, theta_m_step, gmm_elbo, THETAS)
    curves = [line for line in ax.lines if len(line.get_xdata()) == len(THETAS)]
    assert len(curves) == 3
    red, old, new = (np.asarray(line.get_ydata()) for line in curves)
    assert np.allclose(red, [loglik(x_slice, t) for t in THETAS])
    assert np.all(old <= red + 1e-9) and np.all(new <= red + 1e-9)
    theta_new = theta_m_step(x_slice, posterior(x_slice, -0.75))
    assert np.isclose(THETAS[np.argmax(old)], theta_new, atol=THETAS[1] - THETAS[0])


def test_bound_stepper_builds_headless_and_shows_every_half_step(x_slice):
    grid = np.linspace(-4.0, 5.0, 46)
    stepper = bound_stepper(x_slice, -3.0, params_of, gmm_e_step, theta_m_step, gmm_elbo, grid, n_iters=3)
    assert stepper.n_steps == 7 and len(stepper.history) == 7
    for step in range(stepper.n_steps):
        stepper.show(step)
        assert stepper.step == step and bytes(stepper.image.value).startswith(b"\x89PNG")
    title = stepper.fig._suptitle.get_text()
    assert "M-step" in title and "gap (KL)" in title
    with pytest.raises(ValueError, match="step must be in"):
        stepper.show(7)


def test_slice_helpers_refuse_a_bad_grid(x_slice):
    with pytest.raises(ValueError, match="strictly increasing"):
        loglik_curve(x_slice, [1.0, 0.0], params_of, gmm_e_step, gmm_elbo)
    with pytest.raises(ValueError, match="positive integer"):
        bound_history(x_slice, 0.0, params_of, gmm_e_step, theta_m_step, gmm_elbo, n_iters=0)


# ------------------------------------------------------------------------------ the other figures
def test_plot_elbo_loglik_draws_a_staircase_that_never_goes_down():
    logliks, elbos = [-5.0, -3.0, -2.5, -2.4], [-3.5, -2.7, -2.45]
    ax = plot_elbo_loglik(logliks, elbos)
    path, dots, triangles = ax.lines
    assert np.allclose(dots.get_ydata(), logliks) and np.allclose(triangles.get_xdata(), [1, 2, 3])
    assert np.all(np.diff(path.get_ydata()) >= 0) and np.all(np.diff(path.get_xdata()) >= 0)
    assert np.allclose(path.get_ydata(), [-5.0, -3.5, -3.0, -2.7, -2.5, -2.45, -2.4])
    ax = plot_elbo_loglik(logliks, elbos, per_point=10)
    assert np.allclose(ax.lines[1].get_ydata(), np.array(logliks) / 10)
    with pytest.raises(ValueError, match="one more value"):
        plot_elbo_loglik(logliks, logliks)


def test_plot_prototypes_shows_each_mean_as_an_image_largest_weight_first():
    mu = np.random.default_rng(0).random((3, 6))
    fig = plot_prototypes(mu, (2, 3), phi=np.array([0.2, 0.5, 0.3]), ncols=2, fig=Figure())
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 4 and len(shown) == 3
    assert [ax.get_title() for ax in shown] == [r"$\pi_{1}$ = 0.500", r"$\pi_{2}$ = 0.300", r"$\pi_{0}$ = 0.200"]
    assert np.allclose(shown[0].images[0].get_array(), mu[1].reshape(2, 3))
    with pytest.raises(ValueError, match=r"shape \(k, 4\)"):
        plot_prototypes(mu, (2, 2))


# ------------------------------------------------------------------------------ the notebook's demo cells
def notebook_cells():
    return {cell.id: cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells}


def run_cells(*ids):
    """A namespace after the setup cell, the reference functions (in place of the student's) and cells ids."""
    cells = notebook_cells()
    namespace = {}
    setup = "\n".join(line for line in cells["setup"].splitlines() if not line.startswith("%"))
    exec(setup, namespace)
    namespace["FAST"] = True  # the cells' small versions
    for name in EXERCISES:
        namespace[name] = getattr(solutions.general_em, name)
    for cell_id in ids:
        exec(cells[cell_id], namespace)
    plt.close("all")
    return namespace


def never_decreases(values):
    values = np.asarray(values, dtype=float)
    return bool(np.all(np.diff(values) >= -1e-9 * np.abs(values[1:])))


def test_faithful_demo_lies_between_log_likelihoods_and_matches_scipy():
    ns = run_cells("demo_faithful")
    logliks, elbos, params, X = ns["logliks"], ns["elbos"], ns["params"], ns["X"]
    assert never_decreases(logliks) and never_decreases(elbos)
    slack = 1e-9 * np.abs(elbos)
    assert np.all(logliks[:-1] <= elbos + slack) and np.all(elbos <= logliks[1:] + slack)
    density = sum(params["phi"][j] * multivariate_normal(params["mu"][j], params["Sigma"][j]).pdf(X) for j in range(2))
    assert logliks[-1] == pytest.approx(np.log(density).sum(), rel=1e-10)
    assert logliks[-1] / len(X) == pytest.approx(-1.4171, abs=1e-4)  # lesson 3's optimum from this start


def test_fig914_and_stepper_cells_run():
    ns = run_cells("demo_fig914", "demo_bound_stepper")
    history = ns["stepper"].history
    assert [round(h.theta, 2) for h in history[::2]][:4] == [-3.0, -2.1, -1.49, -0.74]
    assert never_decreases([h.loglik for h in history])


@pytest.fixture(scope="module")
def coins():
    return run_cells("demo_coins")


def test_coins_reproduce_do_and_batzoglou_figure_1(coins):
    # the paper's Figure 1b: after one iteration 0.71 and 0.58, after ten 0.80 and 0.52
    assert np.round(coins["theta_1"], 2).tolist() == [0.71, 0.58]
    assert np.round(coins["theta_10"], 2).tolist() == [0.80, 0.52]
    # its first E-step: p(coin A | set) for the five sets
    first = coins["coin_e_step"](coins["counts"], np.array([0.6, 0.5]))
    assert np.round(first[:, 0], 2).tolist() == [0.45, 0.80, 0.73, 0.35, 0.65]
    # Figure 1a, coins known (B, A, A, B, A): 24 heads of 30 tosses and 9 of 20
    assert np.allclose(coins["coin_m_step"](coins["counts"], np.eye(2)[[1, 0, 0, 1, 0]]), [0.80, 0.45])
    assert len(coins["coin_elbos"]) == 10 and never_decreases(coins["coin_elbos"])


def test_coin_elbo_touches_the_binomial_log_likelihood(coins):
    counts, theta = coins["counts"], coins["theta_1"]
    h, n = counts[:, 0], counts.sum(axis=1)
    # one sequence of tosses: the binomial probability divided by the number of orderings
    log_orderings = np.log([comb(int(a), int(b)) for a, b in zip(n, h)])
    per_coin = [np.log(0.5) + binom.logpmf(h, n, t) - log_orderings for t in theta]
    expected = logsumexp(np.column_stack(per_coin), axis=1).sum()
    Q = coins["coin_e_step"](counts, theta)
    assert coins["coin_elbo"](counts, theta, Q) == pytest.approx(expected, rel=1e-12)
    assert coins["coin_elbo"](counts, theta, np.full((5, 2), 0.5)) < expected


@pytest.fixture(scope="module")
def digits():
    return run_cells("demo_bernoulli")


def test_bernoulli_elbo_is_the_log_likelihood_right_after_an_e_step(digits):
    B, params = digits["B"], digits["params_b"]
    Q = digits["bernoulli_e_step"](B, params)
    assert np.allclose(Q.sum(axis=1), 1)
    # independent: sum_i log sum_k pi_k prod_d Bernoulli(x_id | mu_kd), from scipy.stats
    per_pixel = bernoulli.logpmf(B[:, None, :], params["mu"][None, :, :])  # (n, k, d)
    expected = logsumexp(np.log(params["phi"]) + per_pixel.sum(axis=2), axis=1).sum()
    assert digits["bernoulli_elbo"](B, params, Q) == pytest.approx(expected, rel=1e-9)
    uniform = np.full_like(Q, 1 / Q.shape[1])
    assert digits["bernoulli_elbo"](B, params, uniform) < expected


def test_bernoulli_mixture_climbs_and_keeps_probabilities_inside_the_clip(digits):
    assert never_decreases(digits["elbos_b"]) and digits["n_iters_b"] == len(digits["elbos_b"])
    mu, clip = digits["params_b"]["mu"], digits["CLIP"]
    assert mu.shape == (10, 64) and np.all(mu >= clip) and np.all(mu <= 1 - clip)
    assert np.isclose(digits["params_b"]["phi"].sum(), 1)
    init = digits["bernoulli_initialize"](digits["B"], 4, np.random.default_rng(1))
    assert np.allclose(init["phi"], 0.25) and np.all((init["mu"] > 0.25) & (init["mu"] < 0.75))


@pytest.fixture(scope="module")
def hard():
    return run_cells("demo_hard_em")


def test_hard_em_means_become_the_kmeans_centroids(hard):
    X, mu_0 = hard["X"], hard["INIT_FIG98"]["mu"]
    centroids = KMeans(n_clusters=2, init=mu_0, n_init=1, tol=0.0).fit(X).cluster_centers_

    def gap(mu):
        return min(np.abs(mu[list(p)] - centroids).max() for p in itertools.permutations(range(2)))

    gaps = [gap(hard["hard_em"][eps][0]) for eps in (1.0, 0.1, 0.01, 0.001)]
    assert gaps[0] > 0.05  # soft responsibilities pull the means together
    assert np.all(np.diff(gaps) < 0)
    assert gaps[-1] < 1e-8
    Q = hard["hard_em"][0.001][1]
    assert np.all(Q.max(axis=1) > 0.999)  # one-hot, as k-means' assignments


def test_hard_em_elbo_never_decreases(hard):
    for eps, (_, _, elbos) in hard["hard_em"].items():
        assert never_decreases(elbos), eps
    # right after an E-step the bound is the log-likelihood of 0.5 N(mu_0, eps I) + 0.5 N(mu_1, eps I)
    X, mu, eps = hard["X"], hard["INIT_FIG98"]["mu"], 0.5
    Q = hard["isotropic_e_step"](eps)(X, mu)
    log_joint = np.column_stack([np.log(0.5) + multivariate_normal(m, eps * np.eye(2)).logpdf(X) for m in mu])
    assert hard["isotropic_elbo"](eps)(X, mu, Q) == pytest.approx(logsumexp(log_joint, axis=1).sum(), rel=1e-12)


# ------------------------------------------------------------------------------ the solved notebook's cells
@pytest.mark.parametrize("name", EXERCISES)
def test_reference_cells_of_the_solved_notebook_stand_alone(name):
    """In the solved notebook each reference cell is function_source(...): it must not need solutions/."""
    namespace = {}
    exec(function_source(getattr(solutions.general_em, name)), namespace)
    assert callable(namespace[name])
