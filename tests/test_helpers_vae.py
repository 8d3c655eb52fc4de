"""Lesson 5's figures and widget (helpers/vae.py), the notebook's model cell against solutions/vae.py,
and the notebook's demo cells run small with the reference functions in place of the student's.

Each figure is checked for what it shows: the images given, in their places; the history's numbers;
the decoder's own output at the points of the latent plane, computed here directly with torch.
"""

import ast

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

import solutions.vae
from autograde.notebooks import NOTEBOOK_DIR, role
from helpers import (
    LatentExplorer,
    decode_latent,
    latent_grid,
    plot_digits,
    plot_latent,
    plot_latent_grid,
    plot_reconstructions,
    plot_vae_history,
)
from solutions.vae import VAE

NOTEBOOK = NOTEBOOK_DIR / "05_vae.ipynb"
EXERCISES = ["reparameterize", "kl_divergence", "vae_loss"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def model():
    """A small untrained VAE with a 2-D latent space and 4 x 4 images, on the CPU."""
    torch.manual_seed(0)
    return VAE(input_dim=16, hidden_dim=8, latent_dim=2, device="cpu")


def decoded(model, z):
    """sigmoid(decode(z)) of the points z, straight from torch: the reference for the helpers."""
    with torch.no_grad():
        return torch.sigmoid(model.decode(torch.tensor(np.atleast_2d(z), dtype=torch.float32))).numpy()


def notebook_cells():
    return {cell.id: cell for cell in nbformat.read(NOTEBOOK, as_version=4).cells}


# ------------------------------------------------------------------------------ the model cell
def reference_model():
    """(text, imports) of solutions/vae.py: the text from the first definition after the last exercise
    (vae_loss) through the end of `class VAE`, and the module's import statements."""
    with open(solutions.vae.__file__, encoding="utf-8") as file:
        text = file.read()
    body = ast.parse(text).body
    names = [getattr(node, "name", None) for node in body]
    first, last = body[names.index("vae_loss") + 1], body[names.index("VAE")]
    lines = text.splitlines()
    imports = [ast.get_source_segment(text, node) for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(lines[first.lineno - 1 : last.end_lineno]), imports


def test_model_cell_is_the_reference_text_character_for_character():
    cell = notebook_cells()["vae_model"]
    text, _ = reference_model()
    assert cell.source == text, "copy solutions/vae.py, from after vae_loss to the end of class VAE, into the cell"
    assert role(cell) == "course" and cell.metadata.nbgrader.locked and not cell.metadata.nbgrader.grade


def test_setup_cell_defines_what_the_model_cell_needs():
    setup = notebook_cells()["setup"]
    lines = setup.source.splitlines()
    _, imports = reference_model()
    for line in [*imports, 'DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")']:
        assert line in lines, line
    assert role(setup) == "setup"


# ------------------------------------------------------------------------------ decoding
def test_decode_latent_is_the_sigmoid_of_the_decoder_on_the_cpu(model):
    Z = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.5]])
    images = decode_latent(model, Z)
    assert isinstance(images, np.ndarray) and images.shape == (3, 16)
    assert np.allclose(images, decoded(model, Z), atol=1e-7)
    assert np.allclose(decode_latent(model, torch.tensor(Z, requires_grad=True)), images)
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        decode_latent(model, np.zeros((1, 3)))


# ------------------------------------------------------------------------------ static figures
def test_plot_digits_shows_each_image_in_order_and_hides_the_spare_axes():
    images = np.random.default_rng(0).random((7, 16))
    fig = plot_digits(torch.tensor(images), ncols=4, titles=list("abcdefg"), fig=Figure())
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 8 and len(shown) == 7
    for ax, image, title in zip(shown, images, "abcdefg"):
        assert np.allclose(ax.images[0].get_array(), image.reshape(4, 4)) and ax.get_title() == title
        assert ax.images[0].get_clim() == (0, 1)
    fig = plot_digits(images.reshape(7, 2, 8), fig=Figure())  # (n, height, width) keeps its shape
    assert fig.axes[0].images[0].get_array().shape == (2, 8)
    with pytest.raises(ValueError, match="not square"):
        plot_digits(np.zeros((2, 15)))


def test_plot_reconstructions_puts_inputs_above_their_reconstructions():
    rng = np.random.default_rng(1)
    originals, reconstructions = rng.random((5, 16)), rng.random((5, 16))
    fig = plot_reconstructions(originals, torch.tensor(reconstructions), fig=Figure())
    assert len(fig.axes) == 10
    for j in range(5):
        assert np.allclose(fig.axes[j].images[0].get_array(), originals[j].reshape(4, 4))
        assert np.allclose(fig.axes[5 + j].images[0].get_array(), reconstructions[j].reshape(4, 4))
    assert fig.axes[0].get_ylabel() == "input" and fig.axes[5].get_ylabel() == "reconstruction"
    with pytest.raises(ValueError, match="one reconstruction per input"):
        plot_reconstructions(originals, reconstructions[:4])


def test_plot_vae_history_draws_both_terms_for_training_and_held_out_images():
    history = {
        "loss": [200.0, 150.0, 140.0],
        "recon": [195.0, 130.0, 115.0],
        "kl": [5.0, 20.0, 25.0],
        "val_loss": [180.0, 148.0, 141.0],
        "val_recon": [176.0, 127.0, 116.0],
        "val_kl": [4.0, 21.0, 25.0],
    }
    fig = plot_vae_history(history, fig=Figure())
    for ax, key in zip(fig.axes, ["loss", "recon", "kl"]):
        train, held_out = ax.lines
        assert np.allclose(train.get_xdata(), [1, 2, 3])
        assert np.allclose(train.get_ydata(), history[key]) and np.allclose(held_out.get_ydata(), history[f"val_{key}"])
    no_val = {key: history[key] for key in ("loss", "recon", "kl")} | {"val_loss": []}
    assert [len(ax.lines) for ax in plot_vae_history(no_val, fig=Figure()).axes] == [1, 1, 1]
    with pytest.raises(ValueError, match="kl"):
        plot_vae_history({"loss": [1.0], "recon": [1.0]})


def test_plot_latent_places_each_point_and_colours_it_by_digit():
    rng = np.random.default_rng(2)
    Z, labels = rng.normal(size=(50, 2)), rng.integers(0, 10, 50)
    ax = plot_latent(Z, labels)
    points = ax.collections[0]
    assert np.allclose(points.get_offsets(), Z)
    expected = np.array([to_rgba(f"C{k}") for k in labels])
    assert np.allclose(points.get_facecolors()[:, :3], expected[:, :3])
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == sorted(str(k) for k in np.unique(labels))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot_latent(np.zeros((3, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="digits"):
        plot_latent(np.zeros((2, 2)), [0, 10])


def test_latent_grid_tiles_are_the_decoder_at_their_points_z2_upwards(model):
    values, mosaic = latent_grid(model, lim=2.0, n=5)
    assert np.allclose(values, [-2, -1, 0, 1, 2]) and mosaic.shape == (20, 20)
    for r in range(5):
        for c in range(5):
            tile = mosaic[4 * r : 4 * r + 4, 4 * c : 4 * c + 4]
            assert np.allclose(tile, decoded(model, [values[c], values[4 - r]]).reshape(4, 4), atol=1e-7)
    ax = plot_latent_grid(model, lim=2.0, n=5)
    assert np.allclose(ax.images[0].get_array(), mosaic)
    assert np.allclose(ax.images[0].get_extent(), [-2.5, 2.5, -2.5, 2.5])  # each tile centred on its point
    with pytest.raises(ValueError, match="latent_dim=2"):
        latent_grid(VAE(input_dim=16, hidden_dim=8, latent_dim=3, device="cpu"))


# ------------------------------------------------------------------------------ the widget
def test_latent_explorer_builds_headless_and_decodes_the_sliders_point(model):
    Z, labels = np.random.default_rng(3).normal(size=(30, 2)), np.arange(30) % 10
    explorer = LatentExplorer(model, Z, labels, lim=3.0)
    first = bytes(explorer.image.value)
    assert first.startswith(b"\x89PNG") and np.allclose(explorer.z, [0, 0])
    assert np.allclose(explorer.decoded, decoded(model, [0.0, 0.0]).reshape(4, 4), atol=1e-7)
    n_figures = plt.get_fignums()

    explorer.z1.value = 1.5  # as a user moving the slider: the observer redraws
    assert np.allclose(explorer.z, [1.5, 0.0])
    picture = explorer.fig.axes[1].images[0]
    assert np.allclose(picture.get_array(), decoded(model, [1.5, 0.0]).reshape(4, 4), atol=1e-7)
    assert bytes(explorer.image.value) != first
    cross = explorer.fig.axes[0].lines[0]
    assert np.allclose(cross.get_xdata(), [1.5]) and np.allclose(cross.get_ydata(), [0.0])

    explorer.show(-2.0, 2.5)
    assert np.allclose(explorer.z, [-2.0, 2.5]) and (explorer.z1.value, explorer.z2.value) == (-2.0, 2.5)
    assert np.allclose(picture.get_array(), decoded(model, [-2.0, 2.5]).reshape(4, 4), atol=1e-7)
    assert "-2.00, 2.50" in explorer.fig.axes[1].get_title()
    assert plt.get_fignums() == n_figures, "the explorer must update its one figure, not make new ones"
    assert len(explorer.fig.axes[0].collections) == 1  # the scatter of Z, drawn once


def test_latent_explorer_without_points_and_its_errors(model):
    explorer = LatentExplorer(model, step=0.5)
    assert explorer.z1.step == 0.5 and len(explorer.fig.axes[0].collections) == 0
    with pytest.raises(ValueError, match="labels"):
        LatentExplorer(model, Z=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="latent_dim=2"):
        LatentExplorer(VAE(input_dim=16, hidden_dim=8, latent_dim=3, device="cpu"))


# ------------------------------------------------------------------------------ the notebook's cells
@pytest.fixture(scope="module")
def notebook_run():
    """The setup cell, the reference functions (in place of the student's), then every course cell, FAST."""
    cells = notebook_cells()
    namespace = {}
    exec("\n".join(line for line in cells["setup"].source.splitlines() if not line.startswith("%")), namespace)
    namespace["FAST"] = True  # the cells' small versions
    for name in EXERCISES:
        namespace[name] = getattr(solutions.vae, name)
    for cell_id in ["vae_model", "demo_quick", "demo_train", "demo_history", "demo_reconstructions"]:
        exec(cells[cell_id].source, namespace)
    for cell_id in ["demo_samples", "demo_latent_2d", "demo_grid", "demo_explorer"]:
        exec(cells[cell_id].source, namespace)
    plt.close("all")
    return namespace


def test_notebook_split_and_training_cells(notebook_run):
    ns = notebook_run
    assert ns["X_train"].shape == (4500, 784) and ns["X_val"].shape == (500, 784)
    assert ns["X_all"].min() == 0 and ns["X_all"].max() == 1
    assert len(set(ns["split"][:4500]) & set(ns["split"][4500:])) == 0
    assert np.array_equal(ns["labels_val"], ns["labels"][ns["split"][4500:]])
    assert ns["vae"].device == ns["DEVICE"] and ns["vae"].latent_dim == 20
    assert len(ns["history"]["val_loss"]) == ns["EPOCHS"] == 3
    assert ns["X_rec"].shape == (10, 784) and ns["X_rec"].device.type == "cpu"


def test_notebook_latent_cells_show_the_encoder_means_and_the_decoder(notebook_run):
    ns = notebook_run
    model = ns["vae_2d"]
    with torch.no_grad():
        mu, _ = model.encode(torch.as_tensor(ns["X_all"][:100]).to(model.device))
    assert ns["Z_all"].shape == (5000, 2) and np.allclose(ns["Z_all"][:100], mu.cpu().numpy(), atol=1e-5)
    explorer = ns["explorer"]
    assert explorer.model is model and len(explorer.fig.axes[0].collections[0].get_offsets()) == 5000
    explorer.show(0.5, -1.0)
    assert np.allclose(explorer.decoded, decode_latent(model, [[0.5, -1.0]]).reshape(28, 28))
