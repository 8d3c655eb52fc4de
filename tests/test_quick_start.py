"""The course's quick start, exactly as the specification writes it, with the answer key's imports."""

import numpy as np
import pytest

from helpers import load_faithful, load_mnist_5k

QUICK_START = """
centroids, labels, distortion_history, n_iters = kmeans(X, k=3)
phi, mu, Sigma, w, logliks, elbos = em_mog(X, k=3)
init_params = gmm_initialize(X, k=3)
params, Q, elbos, n_iters = general_em(X, init_params, gmm_e_step, gmm_m_step)
vae = VAE(input_dim=784, hidden_dim=400, latent_dim=20)
vae.fit(X_train)
samples = vae.sample(n_samples=10)
"""


@pytest.mark.slow
def test_the_quick_start_runs_as_written():
    import torch

    from solutions.general_em import general_em, gmm_e_step, gmm_initialize, gmm_m_step
    from solutions.gmm import em_mog
    from solutions.kmeans import kmeans
    from solutions.vae import VAE

    torch.set_num_threads(1)
    X = load_faithful()
    X_train = load_mnist_5k()[0][:256] / 255  # a few images in [0, 1]: the default 30 epochs take seconds
    names = {"kmeans": kmeans, "em_mog": em_mog, "gmm_initialize": gmm_initialize, "general_em": general_em}
    names |= {"gmm_e_step": gmm_e_step, "gmm_m_step": gmm_m_step, "VAE": VAE, "X": X, "X_train": X_train}
    exec(QUICK_START, names)
    assert names["centroids"].shape == (3, 2) and names["labels"].shape == (len(X),)
    assert np.all(np.diff(names["distortion_history"]) <= 1e-9 * names["distortion_history"][0])
    assert names["phi"].shape == (3,) and names["mu"].shape == (3, 2) and names["Sigma"].shape == (3, 2, 2)
    params, elbos = names["params"], names["elbos"]
    assert elbos == [] and 1 <= names["n_iters"] <= 100  # no elbo given: it stops on the parameters
    assert np.isclose(params["phi"].sum(), 1) and params["Sigma"].shape == (3, 2, 2)
    assert tuple(names["samples"].shape) == (10, 784)


def test_general_em_without_an_elbo_stops_when_the_parameters_stop_moving():
    from solutions.general_em import general_em

    # a toy model: each M-step halves the distance to 1, the E-step passes the parameters on
    def e_step(X, params):
        return params

    def m_step(X, Q):
        return {"a": (Q["a"] + 1.0) / 2, "b": [np.array([Q["b"][0]])]}

    params, _, elbos, n_iters = general_em(None, {"a": 0.0, "b": [np.zeros(1)]}, e_step, m_step, tol=1e-3)
    # |a_t - a_{t-1}| = 2^-t: the first change below 1e-3 is at t = 10
    assert (elbos, n_iters) == ([], 10) and abs(params["a"] - (1 - 2.0**-10)) < 1e-12
    assert general_em(None, {"a": 0.0, "b": [np.zeros(1)]}, e_step, m_step, max_iters=3)[3] == 3
