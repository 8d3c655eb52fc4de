"""Models that the checks pass to general_em: plain functions that record what general_em does.

The trace model's parameters and posteriors are dicts that note every call: after e_step, M-step,
e_step... the parameters hold the log "EMEM...". Its ELBO is scripted: X is the sequence of values
the ELBO takes after the first, second, ... M-step (the last value repeats), so that the iteration at
which general_em must stop is known exactly. Before any M-step the ELBO is -inf, below every value
that follows, as the starting bound is on a real model: a general_em that measures the first gain
from the start stops where one that measures gains from the first iteration does.

The halving model has no ELBO: its parameter is a number that each M-step moves halfway to X, so
that general_em without an elbo, stopping once no parameter moves more than tol, stops at a known
iteration.
"""


def trace_e_step(X, params):
    """E-step: Q records that an E-step ran on these parameters."""
    return {"t": params["t"], "log": params["log"] + "E"}


def trace_m_step(X, Q):
    """M-step: one more M-step done."""
    return {"t": Q["t"] + 1, "log": Q["log"] + "M"}


def trace_elbo(X, params, Q):
    """The scripted ELBO after params["t"] M-steps; -inf before the first."""
    if params["t"] == 0:
        return float("-inf")
    return float(X[min(params["t"], len(X)) - 1])


def halving_e_step(X, params):
    """E-step of a model without an ELBO: the posterior is the parameter itself."""
    return params


def halving_m_step(X, Q):
    """M-step: halfway from Q to X, so that iteration t moves the parameter by |X - init| / 2^t."""
    return (Q + X) / 2


TRACE_INIT = {"t": 0, "log": ""}
FUNCTIONS = {f.__name__: f for f in (trace_e_step, trace_m_step, trace_elbo, halving_e_step, halving_m_step)}
