"""Plain data across the sandbox: tensors as call arguments, gradients back, model functions by name."""

import json

import numpy as np
import torch

from autograde.serial import Graded, ModelFunction, RngSeed, TensorArg, as_tensor_arg, as_tensors, call, decode, encode


def roundtrip(value):
    return decode(json.loads(json.dumps(encode(value))))


def test_call_arguments_survive_the_trip():
    kwargs = roundtrip(
        {"rng": RngSeed(3), "e_step": ModelFunction("trace_e_step"), "mu": TensorArg([[1.0, 2.0]], True, repeat=3)}
    )
    assert kwargs["rng"].seed == 3 and kwargs["e_step"].name == "trace_e_step"
    assert kwargs["mu"].shape == (3, 2) and kwargs["mu"].requires_grad
    np.testing.assert_array_equal(kwargs["mu"].values(), [[1.0, 2.0]] * 3)


def test_tensor_arguments_become_tensors_and_gradients_come_back():
    def fn(mu, logvar):
        assert isinstance(mu, torch.Tensor) and mu.dtype == torch.float32
        return mu * 3 + logvar.detach()

    out = roundtrip(call(fn, {"mu": TensorArg(np.ones((2, 2)), True), "logvar": TensorArg(np.ones((2, 2)), True)}, 0))
    assert isinstance(out, Graded)
    np.testing.assert_array_equal(out.output, np.full((2, 2), 4.0))
    np.testing.assert_array_equal(out.grads["mu"], np.full((2, 2), 3.0))  # d sum(3 mu + c) / d mu
    assert out.grads["logvar"] is None  # detached: no gradient flows


def test_calls_with_tensors_are_seeded_by_their_index():
    def draw(mu):
        return mu + torch.randn_like(mu)

    args = {"mu": TensorArg(np.zeros((4, 3)))}
    first, again, other = (call(draw, args, seed) for seed in (0, 0, 1))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_plain_calls_are_unchanged():
    assert call(lambda x, rng: x + rng.integers(10), {"x": 1, "rng": RngSeed(0)}, 5) == 1 + np.random.default_rng(
        0
    ).integers(10)


def test_tensors_cross_to_the_oracle_and_come_back_as_tensors():
    sent = roundtrip(as_tensor_arg(torch.ones(2, 3)))
    assert isinstance(sent, TensorArg) and sent.shape == (2, 3)
    back = as_tensors(roundtrip((torch.arange(3.0), [np.zeros(2)], 5)))
    assert isinstance(back[0], torch.Tensor) and back[0].dtype == torch.float32
    assert isinstance(back[1][0], torch.Tensor) and back[2] == 5


def test_arrays_cross_bit_for_bit_and_arrive_writable():
    values = [
        np.array([[0.1, -0.0], [np.nan, -np.inf]]),
        np.arange(6, dtype=">i4").reshape(3, 2),  # big-endian in, native out, same numbers
        np.array([True, False]),
        np.float32([1e-45, 3.4e38]),
        np.empty((0, 3)),
        np.array(2.5),
        np.arange(12.0).reshape(3, 4).T,  # not contiguous
    ]
    for value in values:
        out = roundtrip(value)
        assert out.shape == value.shape and out.dtype == value.dtype.newbyteorder("=")
        assert out.tobytes() == value.astype(value.dtype.newbyteorder("=")).tobytes()
        assert out.flags.writeable and out.dtype.isnative


def test_tampered_arrays_are_refused():
    good = encode(np.arange(4.0))
    for bad in (
        {**good, "__array__": "object"},
        {**good, "shape": [5]},  # more elements than the bytes hold
        {**good, "shape": [-4]},
        {**good, "shape": [2.0, 2]},
        {**good, "data": "not base64!"},
    ):
        try:
            decode(bad)
        except (ValueError, TypeError):
            continue
        raise AssertionError(f"decoded tampered data {bad}")
