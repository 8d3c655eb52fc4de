"""helpers.try_it: a lesson's own cell that cannot finish says why in one line, and Run All goes on."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from helpers import DemoStopped, try_it


def in_a_cell(source):
    """The functions source defines, as a notebook cell defines them (ipykernel names a cell's file like this)."""
    namespace = {}
    exec(compile(source, "<ipython-input-3>", "exec"), namespace)
    return namespace


assign_clusters = in_a_cell("def assign_clusters(X, centroids):\n    raise NotImplementedError()\n")["assign_clusters"]


def run(body, capsys):
    with try_it():
        body()
    return capsys.readouterr().err.strip()


def test_a_stub_is_named(capsys):
    said = run(lambda: assign_clusters([[0.0]], [[0.0]]), capsys)
    assert said == "⏸ assign_clusters is not implemented yet: this cell shows its result once it is."


def test_a_name_an_earlier_cell_did_not_define(capsys):
    said = run(lambda: labels_from_above + 1, capsys)  # noqa: F821 (the missing name itself)
    assert said.startswith("⏸ this cell needs `labels_from_above`, which an earlier cell did not get to define")


def test_a_stopped_demo_says_its_sentence(capsys):
    def train():
        raise DemoStopped("the loss is NaN after epoch 3: your kl_divergence returns negative values; fix it above")

    assert (
        run(train, capsys)
        == "⏹ the loss is NaN after epoch 3: your kl_divergence returns negative values; fix it above"
    )


def test_another_error_is_one_line_with_where(capsys):
    compute = in_a_cell("def compute(x):\n    return x / 0\n")["compute"]
    said = run(lambda: compute(1), capsys)
    assert said.startswith("✘ this cell stopped: ZeroDivisionError: division by zero (in compute, line ")
    assert "\n" not in said


def test_figures_the_cell_opened_are_closed_and_an_interrupt_goes_through(capsys):
    before = plt.figure()

    def draw():
        plt.figure()
        assign_clusters([[0.0]], [[0.0]])

    run(draw, capsys)
    assert plt.get_fignums() == [before.number]
    plt.close("all")
    with pytest.raises(KeyboardInterrupt), try_it():
        raise KeyboardInterrupt
