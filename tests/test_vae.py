"""Lesson 5 reference (solutions/vae.py) against torch.distributions, closed forms and Monte-Carlo estimates;
the VAE trained briefly on the bundled MNIST digits.

Tests that take ``impl`` run on the reference and on the correct alternatives declared in
autograde/lessons/vae.py.
"""

import math
import types

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal
from torch.distributions import kl_divergence as torch_kl
from torch.nn import functional as F

from autograde.lessons import exercises
from helpers.data import load_mnist_5k
from solutions import vae as reference
from solutions.vae import DEVICE, VAE

# every exercise's first declared alternative, under the exercise's name, as the reference module holds them
alternative = types.SimpleNamespace(**{ex.name: ex.alternatives[0] for ex in exercises("vae")})
IMPLEMENTATIONS = [pytest.param(reference, id="reference"), pytest.param(alternative, id="alternative")]
CPU = torch.device("cpu")


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These networks are small: a second thread costs more than it saves, far more on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def seeded():
    """Every test draws its noise from the same seeded global generator."""
    torch.manual_seed(0)


# ---- data and independent references ----------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    """The bundled digits as (train, held-out) float32 tensors of shape (4000, 784) and (1000, 784), in [0, 1]."""
    images, _ = load_mnist_5k()
    X = torch.as_tensor(images.reshape(len(images), -1), dtype=torch.float32) / 255
    return X[:4000], X[4000:]


def random_posterior(batch, latent_dim, dtype=torch.float64):
    """Encoder-like outputs: means around 0 and log-variances from -3 to 2."""
    mu = torch.randn(batch, latent_dim, dtype=dtype)
    logvar = torch.empty(batch, latent_dim, dtype=dtype).uniform_(-3.0, 2.0)
    return mu, logvar


def q_and_prior(mu, logvar):
    """q = N(mu, diag(exp(logvar))) and p = N(0, I), each one distribution over the latent vector."""
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    return q, p


def closed_form_kl(mu, logvar):
    q, p = q_and_prior(mu, logvar)
    return torch_kl(q, p)


def bce_with_logits_by_hand(x_logits, x):
    """Per image, in float64: sum over pixels of -[x log sigmoid(l) + (1 - x) log(1 - sigmoid(l))],
    written max(l, 0) - l x + log(1 + e^-|l|) so that no term overflows."""
    l, x = x_logits.double(), x.double()
    return (l.clamp(min=0) - l * x + torch.log1p(torch.exp(-l.abs()))).sum(dim=1)


def negative_elbo(model, X, draws=8):
    """-ELBO in nats per image, from torch.distributions: KL in closed form, E_q[-log p(x | z)] over `draws` draws."""
    with torch.no_grad():
        mu, logvar = model.encode(X)
        q, p = q_and_prior(mu, logvar)
        recon = torch.stack(
            [
                -Independent(Bernoulli(logits=model.decode(q.sample()), validate_args=False), 1).log_prob(X)
                for _ in range(draws)
            ]
        ).mean(dim=0)
        kl = torch_kl(q, p)
    return float(recon.mean()), float(kl.mean())


def training_batches(model):
    """The batches fit trains on, recorded by a forward pre-hook (evaluation passes run in eval mode)."""
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()) if module.training else None)
    return seen


# ---- reparameterize ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_reparameterize_has_mean_mu_and_variance_exp_logvar(impl, dtype):
    n = 200_000
    mu = torch.tensor([1.5, -2.0, 0.3], dtype=dtype)
    var = torch.tensor([1.0, 4.0, 0.25], dtype=dtype)
    z = impl.reparameterize(mu.expand(n, 3), torch.log(var).expand(n, 3))
    assert z.dtype == dtype
    z, mu, var = z.double(), mu.double(), var.double()
    # five standard errors: sigma / sqrt(n) for the mean, var sqrt(2 / (n - 1)) for a Gaussian's sample variance
    np.testing.assert_array_less((z.mean(dim=0) - mu).abs(), 5 * torch.sqrt(var / n))
    np.testing.assert_array_less((z.var(dim=0) - var).abs(), 5 * var * math.sqrt(2 / (n - 1)))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_reparameterize_draws_independent_noise_per_coordinate(impl):
    n = 200_000
    z = impl.reparameterize(torch.zeros(n, 4), torch.zeros(n, 4)).double()
    corr = torch.corrcoef(z.T)  # one eps per row broadcast over the columns would correlate them perfectly
    np.testing.assert_array_less((corr - torch.eye(4, dtype=torch.float64)).abs(), 5 / math.sqrt(n))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_reparameterize_differs_between_calls(impl):
    mu, logvar = random_posterior(16, 5)
    assert not torch.equal(impl.reparameterize(mu, logvar), impl.reparameterize(mu, logvar))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_reparameterize_passes_gradients_to_mu_and_logvar(impl):
    mu, logvar = random_posterior(32, 6)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    weights = torch.randn(32, 6, dtype=torch.float64)
    z = impl.reparameterize(mu, logvar)
    (weights * z).sum().backward()
    # z = mu + exp(logvar / 2) eps: dz/dmu = 1 and dz/dlogvar = exp(logvar / 2) eps / 2 = (z - mu) / 2
    torch.testing.assert_close(mu.grad, weights, rtol=1e-12, atol=0)
    torch.testing.assert_close(logvar.grad, weights * 0.5 * (z - mu).detach(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (64, 20)])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_reparameterize_keeps_the_shape(impl, shape):
    z = impl.reparameterize(torch.zeros(shape), torch.zeros(shape))
    assert z.shape == shape and z.dtype == torch.float32


# ---- kl_divergence -----------------------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_kl_divergence_matches_torch_distributions(impl):
    mu, logvar = random_posterior(50, 7)
    torch.testing.assert_close(impl.kl_divergence(mu, logvar), closed_form_kl(mu, logvar), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_kl_divergence_matches_a_monte_carlo_estimate(impl):
    mu, logvar = random_posterior(3, 4)
    q, p = q_and_prior(mu, logvar)
    n = 200_000
    z = q.sample((n,))  # (n, batch, latent_dim)
    log_ratio = q.log_prob(z) - p.log_prob(z)  # E_q[log q - log p] = KL(q || p)
    standard_error = log_ratio.std(dim=0) / math.sqrt(n)
    np.testing.assert_array_less((impl.kl_divergence(mu, logvar) - log_ratio.mean(dim=0)).abs(), 5 * standard_error)


@pytest.mark.parametrize(("batch", "latent_dim"), [(1, 1), (1, 20), (9, 2), (128, 20)])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_kl_divergence_has_one_value_per_row(impl, batch, latent_dim):
    mu, logvar = random_posterior(batch, latent_dim, dtype=torch.float32)
    kl = impl.kl_divergence(mu, logvar)
    assert kl.shape == (batch,) and kl.dtype == torch.float32


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_kl_divergence_of_the_prior_is_exactly_zero(impl, dtype):
    kl = impl.kl_divergence(torch.zeros(4, 20, dtype=dtype), torch.zeros(4, 20, dtype=dtype))
    assert torch.equal(kl, torch.zeros(4, dtype=dtype))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_kl_divergence_is_positive_away_from_the_prior(impl):
    mu = 3 * torch.randn(10_000, 20, dtype=torch.float64)
    logvar = torch.empty(10_000, 20, dtype=torch.float64).uniform_(-10.0, 10.0)
    assert torch.all(impl.kl_divergence(mu, logvar) > 0)
    # each coordinate's term is >= 0: a shifted mean alone, or a changed variance alone, still costs nats
    assert torch.all(impl.kl_divergence(mu[:, :1], torch.zeros(10_000, 1, dtype=torch.float64)) > 0)
    assert torch.all(impl.kl_divergence(torch.zeros(10_000, 1, dtype=torch.float64), logvar[:, :1]) > 0)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_kl_divergence_gradient(impl):
    mu, logvar = random_posterior(4, 3)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    assert torch.autograd.gradcheck(impl.kl_divergence, (mu, logvar))
    impl.kl_divergence(mu, logvar).sum().backward()
    # d KL / d mu = mu and d KL / d logvar = (exp(logvar) - 1) / 2
    torch.testing.assert_close(mu.grad, mu.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1), rtol=1e-12, atol=1e-14)


# ---- vae_loss ----------------------------------------------------------------------------------------


def loss_inputs(batch=6, input_dim=30, latent_dim=4, dtype=torch.float64, scale=3.0):
    """x_logits, x (half binary pixels, half grey levels), mu, logvar."""
    x_logits = scale * torch.randn(batch, input_dim, dtype=dtype)
    x = torch.rand(batch, input_dim, dtype=dtype)
    x[:, ::2] = x[:, ::2].round()
    mu, logvar = random_posterior(batch, latent_dim, dtype=dtype)
    return x_logits, x, mu, logvar


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_vae_loss_is_the_mean_of_the_per_image_losses(impl):
    x_logits, x, mu, logvar = loss_inputs(batch=6)
    one_at_a_time = [
        impl.vae_loss(x_logits[i : i + 1], x[i : i + 1], mu[i : i + 1], logvar[i : i + 1]) for i in range(6)
    ]
    torch.testing.assert_close(impl.vae_loss(x_logits, x, mu, logvar), torch.stack(one_at_a_time).mean())


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_vae_loss_equals_sigmoid_then_bce_plus_kl(impl):
    x_logits, x, mu, logvar = loss_inputs(batch=8, input_dim=50)
    expected = (
        F.binary_cross_entropy(torch.sigmoid(x_logits), x, reduction="sum") / 8 + closed_form_kl(mu, logvar).mean()
    )
    torch.testing.assert_close(impl.vae_loss(x_logits, x, mu, logvar), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("scale", [100.0, 300.0])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_vae_loss_is_stable_for_large_logits(impl, scale):
    # float32 sigmoid(+-100) is 1 or ~1e-44: sigmoid-then-BCE saturates there (its gradient is 0, and beyond
    # |l| = 100 its clamped log caps each pixel at 100 nats); BCE-with-logits stays exact
    x_logits, x, mu, logvar = loss_inputs(batch=4, input_dim=40, dtype=torch.float32)
    x_logits = (scale * torch.sign(x_logits)).requires_grad_(True)
    loss = impl.vae_loss(x_logits, x, mu, logvar)
    loss.backward()
    assert torch.isfinite(loss) and torch.all(torch.isfinite(x_logits.grad))
    expected = (bce_with_logits_by_hand(x_logits.detach(), x) + closed_form_kl(mu.double(), logvar.double())).mean()
    torch.testing.assert_close(loss.double(), expected, rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(x_logits.grad, (torch.sigmoid(x_logits.detach()) - x) / 4, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_vae_loss_is_a_scalar_with_closed_form_gradients(impl):
    x_logits, x, mu, logvar = loss_inputs(batch=5)
    for t in (x_logits, mu, logvar):
        t.requires_grad_(True)
    loss = impl.vae_loss(x_logits, x, mu, logvar)
    assert loss.shape == () and loss.requires_grad
    loss.backward()
    torch.testing.assert_close(x_logits.grad, (torch.sigmoid(x_logits.detach()) - x) / 5)
    torch.testing.assert_close(mu.grad, mu.detach() / 5)
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1) / 5)


# ---- the VAE: shapes, sampling, device ---------------------------------------------------------------


def test_default_sizes_are_784_400_20():
    model = VAE(device="cpu")
    mu, logvar = model.encode(torch.rand(3, 784))
    assert mu.shape == logvar.shape == (3, 20)
    assert model.decode(torch.randn(3, 20)).shape == (3, 784)
    encoder = (784 * 400 + 400) + 2 * (400 * 20 + 20)  # fc1, then fc_mu and fc_logvar side by side
    decoder = (20 * 400 + 400) + (400 * 784 + 784)  # fc3, fc4
    assert sum(p.numel() for p in model.parameters()) == encoder + decoder


def test_encode_decode_forward_and_sample_shapes():
    model = VAE(input_dim=64, hidden_dim=32, latent_dim=5, device="cpu")
    x = torch.rand(7, 64)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (7, 5)
    assert model.decode(torch.randn(7, 5)).shape == (7, 64)
    x_logits, mu_f, logvar_f = model(x)
    assert x_logits.shape == (7, 64)
    torch.testing.assert_close(mu_f, mu)  # forward encodes with the same (deterministic) encoder
    torch.testing.assert_close(logvar_f, logvar)
    assert model.sample(6).shape == (6, 64)
    assert model.sample(0).shape == (0, 64)


def test_forward_decodes_a_draw_from_q():
    model = VAE(input_dim=16, hidden_dim=8, latent_dim=2, device="cpu")
    x = torch.rand(1, 16)
    with torch.no_grad():
        draws = torch.stack([model(x)[0] for _ in range(2000)])
        mu, logvar = model.encode(x)
        same_draws = torch.stack([model.decode(Normal(mu, (0.5 * logvar).exp()).sample()) for _ in range(2000)])
    assert not torch.equal(draws[0], draws[1])  # a new z every call
    # the decoded draws have the mean and spread of decode(z), z ~ q(z | x)
    standard_error = torch.sqrt(draws.var(dim=0) / 2000 + same_draws.var(dim=0) / 2000)
    np.testing.assert_array_less((draws.mean(dim=0) - same_draws.mean(dim=0)).abs(), 5 * standard_error)


def test_sample_is_the_decoder_mean_at_prior_draws():
    model = VAE(input_dim=30, hidden_dim=16, latent_dim=3, device="cpu")
    with torch.no_grad():
        for p in [*model.fc3.parameters(), *model.fc4.parameters()]:
            p.normal_()  # a decoder whose output depends strongly on z
        n = 20_000
        images = model.sample(n)
        expected = torch.sigmoid(model.decode(torch.randn(n, 3)))  # E_{z ~ N(0, I)}[sigmoid(decode(z))]
    assert images.device == CPU and not images.requires_grad
    assert torch.all((images >= 0) & (images <= 1))
    standard_error = torch.sqrt(images.var(dim=0) / n + expected.var(dim=0) / n)
    np.testing.assert_array_less((images.mean(dim=0) - expected.mean(dim=0)).abs(), 5 * standard_error + 1e-6)
    # a fresh z for every image: one z shared by all would give every pixel variance 0
    torch.testing.assert_close(images.var(dim=0).mean(), expected.var(dim=0).mean(), rtol=0.05, atol=0)


def test_the_model_lives_on_its_device():
    model = VAE(input_dim=20, hidden_dim=8, latent_dim=2, device="cpu")
    assert model.device == CPU
    assert all(p.device == CPU for p in model.parameters())
    x_logits, mu, logvar = model(torch.rand(3, 20))
    assert x_logits.device == mu.device == logvar.device == CPU
    model.fit(torch.rand(40, 20), epochs=1, batch_size=16, progress=False)
    assert all(p.device == CPU for p in model.parameters())
    assert model.sample(4).device == CPU


def test_default_device_is_cuda_when_available():
    assert DEVICE == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = VAE(input_dim=20, hidden_dim=8, latent_dim=2)
    assert model.device == DEVICE
    assert all(p.device.type == DEVICE.type for p in model.parameters())


# ---- fit ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(mnist):
    """A small VAE, its held-out -ELBO before training, and its history over 3 short epochs (about 3 s)."""
    X, X_val = mnist
    torch.manual_seed(0)
    model = VAE(input_dim=784, hidden_dim=128, latent_dim=8, device="cpu")
    untrained = sum(negative_elbo(model, X_val))
    history = model.fit(X, epochs=3, batch_size=50, lr=3e-3, X_val=X_val, max_batches=40, progress=False)
    return model, untrained, history


def test_fit_history_has_one_entry_per_epoch(trained):
    _, _, history = trained
    assert set(history) == {"loss", "recon", "kl", "val_loss", "val_recon", "val_kl", "seconds"}
    assert all(len(values) == 3 for values in history.values())
    assert np.all(np.isfinite([v for values in history.values() for v in values]))
    assert all(s >= 0 for s in history["seconds"])
    assert all(k > 0 for k in history["kl"] + history["val_kl"])


def test_fit_loss_is_recon_plus_kl(trained):
    _, _, history = trained
    np.testing.assert_allclose(history["loss"], np.add(history["recon"], history["kl"]), rtol=1e-12)
    np.testing.assert_allclose(history["val_loss"], np.add(history["val_recon"], history["val_kl"]), rtol=1e-12)


def test_fit_loss_decreases_every_epoch(trained):
    _, _, history = trained
    assert np.all(np.diff(history["loss"]) < 0), history["loss"]
    assert np.all(np.diff(history["val_loss"]) < 0), history["val_loss"]


def test_fit_val_terms_match_an_independent_estimate(trained, mnist):
    model, _, history = trained
    recon, kl = negative_elbo(model, mnist[1])
    torch.testing.assert_close(history["val_kl"][-1], kl, rtol=1e-4, atol=0)  # no noise in the KL term
    # the reconstruction term is a one-draw Monte-Carlo estimate: a few nats per image, averaged over 1000
    assert abs(history["val_recon"][-1] - recon) < 2.0


def test_trained_model_beats_the_independent_pixel_model_on_held_out_digits(trained, mnist):
    """The held-out -ELBO, in nats per image, after 3 x 40 batches: about 180.

    Untrained, the decoder's logits are near 0 and every pixel costs log 2: 784 log 2 = 543 nats. The best model
    that ignores z, independent pixels at their training means, costs about 202: a VAE below it uses its code.
    """
    model, untrained, _ = trained
    X, X_val = mnist
    means = X.mean(dim=0).clamp(1e-3, 1 - 1e-3)
    independent_pixels = float(F.binary_cross_entropy(means.expand_as(X_val), X_val, reduction="sum")) / len(X_val)
    bound = 195.0
    assert untrained > 500
    assert independent_pixels > bound
    assert sum(negative_elbo(model, X_val)) < bound


def test_fit_without_X_val_leaves_the_val_lists_empty(mnist):
    model = VAE(input_dim=784, hidden_dim=16, latent_dim=2, device="cpu")
    history = model.fit(mnist[0][:200], epochs=2, batch_size=100, progress=False)
    assert len(history["loss"]) == len(history["recon"]) == len(history["kl"]) == len(history["seconds"]) == 2
    assert history["val_loss"] == history["val_recon"] == history["val_kl"] == []


def test_fit_visits_every_image_once_per_epoch_in_shuffled_order():
    X = torch.linspace(0, 1, 50).reshape(50, 1).repeat(1, 4)  # rows told apart by their value
    model = VAE(input_dim=4, hidden_dim=8, latent_dim=2, device="cpu")
    seen = training_batches(model)
    model.fit(X, epochs=2, batch_size=16, progress=False)
    assert [len(b) for b in seen] == [16, 16, 16, 2] * 2
    first, second = torch.cat(seen[:4]), torch.cat(seen[4:])
    for epoch in (first, second):
        torch.testing.assert_close(epoch[:, 0].sort().values, X[:, 0])
    assert not torch.equal(first, X) and not torch.equal(first, second)


def test_fit_max_batches_limits_the_batches_per_epoch():
    model = VAE(input_dim=4, hidden_dim=8, latent_dim=2, device="cpu")
    seen = training_batches(model)
    history = model.fit(torch.rand(1000, 4), epochs=3, batch_size=10, max_batches=2, progress=False)
    assert len(seen) == 3 * 2
    assert len(history["loss"]) == 3


def fitted_parameters(X, seed, model_seed=0):
    torch.manual_seed(model_seed)  # the initial weights come from the global generator
    model = VAE(input_dim=784, hidden_dim=16, latent_dim=3, device="cpu")
    history = model.fit(X, epochs=2, batch_size=32, max_batches=3, seed=seed, progress=False)
    return [p.detach().clone() for p in model.parameters()], history["loss"]


def test_fit_is_reproducible_with_the_same_seed(mnist):
    params_a, loss_a = fitted_parameters(mnist[0][:256], seed=1)
    torch.manual_seed(123)  # fit seeds its own shuffling and noise: the global state before it does not matter
    params_b, loss_b = fitted_parameters(mnist[0][:256], seed=1)
    assert all(torch.equal(a, b) for a, b in zip(params_a, params_b))
    assert loss_a == loss_b


def test_fit_with_another_seed_gives_another_model(mnist):
    params_a, _ = fitted_parameters(mnist[0][:256], seed=1)
    params_b, _ = fitted_parameters(mnist[0][:256], seed=2)
    assert not any(torch.equal(a, b) for a, b in zip(params_a, params_b))


# ---- bad input ---------------------------------------------------------------------------------------


def setting_id(kwargs):
    return ",".join(f"{name}={value!r}" for name, value in kwargs.items())


def small_model():
    return VAE(input_dim=784, hidden_dim=8, latent_dim=2, device="cpu")


def filled(value, n=8):
    return np.full((n, 784), value)


BAD_X = {
    "wrong-width": (np.zeros((8, 783)), "784"),
    "above-1": (filled(255.0), r"\[0, 1\]"),
    "negative": (filled(-0.1), r"\[0, 1\]"),
    "nan": (np.where(np.eye(8, 784) > 0, np.nan, 0.5), r"\[0, 1\]"),
    "inf": (filled(np.inf), r"\[0, 1\]"),
    "empty": (np.zeros((0, 784)), "X"),
}


@pytest.mark.parametrize(("X", "match"), BAD_X.values(), ids=BAD_X.keys())
def test_fit_bad_X_raises(X, match):
    with pytest.raises(ValueError, match=match):
        small_model().fit(X, epochs=1, progress=False)


@pytest.mark.parametrize(("X_val", "match"), BAD_X.values(), ids=BAD_X.keys())
def test_fit_bad_X_val_raises(X_val, match):
    with pytest.raises(ValueError, match=match):
        small_model().fit(filled(0.5), epochs=1, X_val=X_val, progress=False)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"epochs": 0},
        {"epochs": 2.5},
        {"epochs": "3"},
        {"epochs": True},
        {"batch_size": 0},
        {"batch_size": 1.5},
        {"batch_size": None},
    ],
    ids=setting_id,
)
def test_fit_bad_settings_raise(kwargs):
    (name,) = kwargs
    with pytest.raises(ValueError, match=name):
        small_model().fit(filled(0.5), progress=False, **{"epochs": 1, **kwargs})


@pytest.mark.parametrize(
    "kwargs",
    [{"latent_dim": 2.5}, {"latent_dim": 0}, {"latent_dim": -1}, {"hidden_dim": 0}, {"input_dim": "784"}],
    ids=setting_id,
)
def test_bad_sizes_raise(kwargs):
    (name,) = kwargs
    with pytest.raises(ValueError, match=name):
        VAE(device="cpu", **kwargs)


@pytest.mark.parametrize("n_samples", [-1, 2.5, "4"])
def test_sample_bad_n_samples_raises(n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        small_model().sample(n_samples)
