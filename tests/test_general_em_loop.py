"""Lesson 4's general_em loop (solutions/general_em.py) on scripted models, and the grader's scripted model.

general_em against toy models whose steps record their calls and whose ELBO follows a script: the order of the
calls, the stopping rule (the first gain below tol, a loss with tol=0, max_iters), what it returns and that it
leaves its start alone. The grader's trace model (autograde/models.py) and its cases (the general_em exercise's
visible and hidden cases in autograde/lessons/general_em.py) against the scripted values it should produce.

Tests that take ``impl`` run on the reference and on the correct alternatives declared in
autograde/lessons/general_em.py.
"""

import numpy as np
import pytest

from autograde import fixtures
from autograde.judge import judge_case
from autograde.lessons import exercises
from autograde.models import TRACE_INIT, trace_e_step, trace_elbo, trace_m_step
from solutions.general_em import general_em
from tests.samples import DATA, IMPLEMENTATIONS, START, mixture_sample, random_params, run_gmm, scripted

pytestmark = pytest.mark.usefixtures("one_blas_thread")


# ---- general_em on scripted models: the loop itself ------------------------------------------------

HALVING = [-10.0, -6.0, -4.0, -3.0, -2.5, -2.25, -2.125, -2.0625, -2.03125]  # gains 4, 2, 1, 0.5, ... (exact)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_alternates_e_and_m_steps(impl):
    e_step, m_step, elbo, calls = scripted([float(t) for t in range(6)])
    params, Q, elbos, n_iters = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=6, tol=0.5)
    assert "".join(calls) == "EML" * 6
    assert params == {"t": 6, "log": "EM" * 6}
    assert Q == {"t": 5, "log": "EM" * 5 + "E"}  # the last E-step's, the one the last M-step used
    assert elbos == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert n_iters == 6


@pytest.mark.parametrize(
    ("tol", "n_iters"),
    [(5.0, 2), (4.0, 3), (1.5, 4), (1.0, 5), (0.2, 7), (0.0, 9), (1e-12, 9)],
    ids=["below-first", "equal-is-not-below", "third", "equal-again", "late", "zero", "tiny"],
)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_stops_at_the_first_gain_below_tol(impl, tol, n_iters):
    e_step, m_step, elbo, calls = scripted(HALVING)
    params, Q, elbos, n = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=9, tol=tol)
    assert n == len(elbos) == n_iters
    assert elbos == HALVING[:n_iters]
    assert "".join(calls) == "EML" * n_iters
    assert params["t"] == n_iters and Q["t"] == n_iters - 1


@pytest.mark.parametrize(
    ("script", "n_iters"),
    [([0.0, 1.0, 0.5, 2.0, 3.0], 3), ([0.0, 1.0, 1.0, 2.0, 3.0], 5), ([0.0, -1e-300, 5.0], 2)],
    ids=["negative-gain-stops", "zero-gain-is-not-below-0", "tiny-loss-stops"],
)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_with_tol_0_runs_until_the_elbo_falls(impl, script, n_iters):
    # "stop when the ELBO gains less than tol": with tol=0 only a loss stops it early (em_mog's rule too)
    e_step, m_step, elbo, _ = scripted(script)
    elbos, n = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=len(script), tol=0)[2:]
    assert n == n_iters
    assert elbos == script[:n_iters]


@pytest.mark.parametrize("max_iters", [1, 2, 7])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_respects_max_iters(impl, max_iters):
    e_step, m_step, elbo, calls = scripted([float(t) for t in range(20)])  # gains of 1 > tol
    params, Q, elbos, n_iters = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=max_iters)
    assert n_iters == len(elbos) == max_iters
    assert "".join(calls) == "EML" * max_iters
    assert params["t"] == max_iters and Q["t"] == max_iters - 1


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_records_python_floats(impl):
    values = [np.float32(1.5), 2, np.float64(2.75)]  # whatever number type the model's elbo returns

    def elbo(X, params, Q):
        return values[params["t"] - 1]

    e_step, m_step, _, _ = scripted([])
    elbos = impl.general_em(DATA, START, e_step, m_step, elbo, max_iters=3, tol=0)[2]
    assert elbos == [1.5, 2.0, 2.75]
    assert all(type(e) is float for e in elbos)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_with_scalar_params_and_tuple_Q(impl):
    # theta -> Q = (theta,) -> theta / 2 + 1 has its fixed point at 2: theta_t = 2 + 8 / 2^t from theta_0 = 10,
    # the ELBO -(theta - 2)^2 = -64 / 4^t gains 192 / 4^t, first below 0.01 at t = 8 (4^8 > 19200 > 4^7)
    def e_step(X, theta):
        assert X is None
        return (theta,)

    def m_step(X, Q):
        return Q[0] / 2 + 1

    def elbo(X, theta, Q):
        return -((theta - 2) ** 2)

    theta, Q, elbos, n_iters = impl.general_em(None, 10.0, e_step, m_step, elbo, tol=0.01)
    assert n_iters == 8
    assert theta == 2 + 8 / 2**8 and Q == (2 + 8 / 2**7,)
    assert elbos == [-64 / 4**t for t in range(1, 9)]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_general_em_does_not_modify_init_params(impl):
    e_step, m_step, elbo, _ = scripted([0.0, 1.0, 2.0])
    start = {"t": 0, "log": ""}
    impl.general_em(DATA, start, e_step, m_step, elbo, max_iters=3)
    assert start == {"t": 0, "log": ""}
    X = mixture_sample(9, n=100)
    init = random_params(X, 3, 9)
    copies = {key: value.copy() for key, value in init.items()}
    run_gmm(impl, X, init, max_iters=4, tol=0)
    assert init.keys() == copies.keys()
    for key in init:
        np.testing.assert_array_equal(init[key], copies[key])


# ---- the grader's scripted model (autograde/models.py) -------------------------------------------------

GENERAL_EM = next(e for e in exercises("general_em") if e.name == "general_em")
TRACE_CASES = [case for case in GENERAL_EM.visible + GENERAL_EM.hidden if case.calls[0]["elbo"] is not None]


def general_em_bounding_the_start(X, init_params, e_step, m_step, elbo, max_iters=100, tol=1e-6):
    """A general_em that also evaluates the bound at the start: the first iteration's gain is measured from
    there. On a real model that bound is the starting log-likelihood, below the first iteration's ELBO."""
    params, elbos = init_params, []
    previous = elbo(X, params, e_step(X, params))
    for _ in range(max_iters):
        Q = e_step(X, params)
        params = m_step(X, Q)
        elbos.append(float(elbo(X, params, Q)))
        if elbos[-1] - previous < tol:
            break
        previous = elbos[-1]
    return params, Q, elbos, len(elbos)


def test_trace_elbo_before_any_m_step_is_below_every_scripted_value():
    X = np.array([-3.0, -2.0, -1.0])
    assert trace_elbo(X, TRACE_INIT, trace_e_step(X, TRACE_INIT)) == -np.inf
    params = TRACE_INIT
    for t in range(1, 6):  # after the t-th M-step: X[t - 1], the last value repeating
        params = trace_m_step(X, trace_e_step(X, params))
        assert trace_elbo(X, params, None) == X[min(t, len(X)) - 1]


@pytest.mark.parametrize("case", TRACE_CASES, ids=lambda case: case.label)
def test_the_reference_asks_the_trace_elbo_only_after_m_steps(case):
    X = case.calls[0]["X"]
    elbos, n_iters = fixtures.run_calls(general_em, case)[0][2:]
    assert elbos == [X[min(t, len(X)) - 1] for t in range(1, n_iters + 1)]


@pytest.mark.parametrize("case", TRACE_CASES, ids=lambda case: case.label)
def test_a_general_em_that_bounds_the_start_passes_the_trace_cases(case):
    expected = fixtures.run_calls(general_em, case)
    judge_case(GENERAL_EM, case, fixtures.run_calls(general_em_bounding_the_start, case), expected)


@pytest.mark.parametrize(
    "case", [c for c in GENERAL_EM.visible + GENERAL_EM.hidden if c.calls[0]["elbo"] is None], ids=lambda c: c.label
)
def test_without_an_elbo_the_reference_stops_where_the_halving_moves_fall_below_tol(case):
    call = case.calls[0]
    X, start, tol = call["X"], call["init_params"], call.get("tol", 1e-6)
    params, Q, elbos, n_iters = fixtures.run_calls(general_em, case)[0]
    # iteration t moves the parameter by |X - start| / 2^t: the first t where that is below tol
    expected = next(t for t in range(1, 100) if abs(X - start) / 2**t < tol)
    assert (elbos, n_iters) == ([], expected)
    assert params == pytest.approx(X - (X - start) / 2**expected) and Q == pytest.approx(
        X - (X - start) / 2 ** (expected - 1)
    )
