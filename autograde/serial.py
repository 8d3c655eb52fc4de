"""Plain-data encoding of values that cross between student code and the checker.

Only JSON primitives cross: arrays become {"__array__": dtype, "shape", "data"} with their bytes in
base64 (little-endian: NaN and inf cross as they are, and large results cost no float printing);
anything that is not a number, string, sequence, dict, array or tensor becomes an opaque
{"__object__": type name}.
Decoding builds fresh NumPy arrays and Python scalars, so nothing a submission defines (its
``__eq__``, its subclasses) ever reaches the comparison.
"""

import base64
import math

import numpy as np

MAX_ITEMS = 2_000_000  # elements of one array; larger results are refused, not copied


class Opaque:
    """A value the checker does not compare, known by its type name alone."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name}>"


def _float(x):
    return x if math.isfinite(x) else {"__float__": repr(x)}  # NaN and inf kept, JSON stays standard


def encode(value, _depth=0):
    """Turn a result into JSON-able data (called where the value was produced)."""
    if _depth > 20:
        return {"__object__": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return _float(value)
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        if isinstance(value, np.bool_):
            return {"__scalar__": "bool", "value": bool(value)}
        if isinstance(value, np.integer):
            return {"__scalar__": str(value.dtype), "value": int(value)}
        if isinstance(value, np.floating):
            return {"__scalar__": str(value.dtype), "value": _float(float(value))}
    if type(value).__module__ == "torch" and type(value).__name__ in ("Tensor", "Parameter"):
        array = value.detach().cpu().numpy()
        out = encode(np.asarray(array), _depth + 1)
        out["__tensor__"] = True
        out["requires_grad"] = bool(value.requires_grad)
        return out
    if type(value) is np.ndarray:
        if value.dtype.kind not in "biuf":
            return {"__object__": f"ndarray of dtype {value.dtype}"}
        if value.size > MAX_ITEMS:
            return {"__object__": f"ndarray of shape {value.shape}, too large to check"}
        data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
        return {"__array__": str(value.dtype), "shape": list(value.shape), "data": base64.b64encode(data).decode()}
    if type(value) in (list, tuple):
        items = [encode(v, _depth + 1) for v in value[:MAX_ITEMS]]
        return items if type(value) is list else {"__tuple__": items}
    if type(value) is RngSeed:
        return {"__rng__": value.seed}
    if type(value) is ModelFunction:
        return {"__model__": value.name}
    if type(value) is TensorArg:
        array = encode(value.array, _depth + 1)
        return {"__tensor_arg__": array, "requires_grad": value.requires_grad, "repeat": value.repeat}
    if type(value) is Graded:
        return {"__graded__": encode(value.output, _depth + 1), "grads": encode(value.grads, _depth + 1)}
    if type(value) is dict:
        return {"__dict__": [[str(k), encode(v, _depth + 1)] for k, v in value.items()]}
    return {"__object__": type(value).__name__}


def _unfloat(x):
    return float(x["__float__"]) if isinstance(x, dict) else x


def decode(data):
    """Inverse of encode: NumPy arrays, tuples, lists, dicts, Python and NumPy scalars, Opaque."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__array__" in data:
        dtype = np.dtype(data["__array__"])
        if dtype.kind not in "biuf" or not all(type(n) is int and n >= 0 for n in data["shape"]):
            raise ValueError(f"not an encoded array: dtype {dtype}, shape {data['shape']}")
        raw = np.frombuffer(base64.b64decode(data["data"], validate=True), dtype.newbyteorder("<"))
        return raw.reshape(data["shape"]).astype(dtype.newbyteorder("="))  # a fresh, writable copy
    if "__float__" in data:
        return float(data["__float__"])
    if "__scalar__" in data:
        dtype = np.dtype(data["__scalar__"])
        if dtype.kind not in "biuf":
            raise ValueError(f"not an encoded number: dtype {dtype}")
        return dtype.type(_unfloat(data["value"]))
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"]}
    if "__rng__" in data:
        return RngSeed(data["__rng__"])
    if "__model__" in data:
        return ModelFunction(data["__model__"])
    if "__tensor_arg__" in data:
        return TensorArg(decode(data["__tensor_arg__"]), data["requires_grad"], data["repeat"])
    if "__graded__" in data:
        return Graded(decode(data["__graded__"]), decode(data["grads"]))
    if "__object__" in data:
        return Opaque(data["__object__"])
    raise ValueError(f"not an encoded value: {sorted(data)}")


class RngSeed:
    """A call argument that becomes ``numpy.random.default_rng(seed)`` where the function runs."""

    def __init__(self, seed):
        self.seed = seed

    def __repr__(self):
        return f"default_rng({self.seed})"


class ModelFunction:
    """A call argument that becomes the function ``autograde.models.<name>`` where the function runs."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


class TensorArg:
    """A call argument that becomes a float32 ``torch.Tensor`` where the function runs. With
    requires_grad, the call's result comes back as Graded: with the gradient of its sum."""

    def __init__(self, array, requires_grad=False, repeat=1):
        self.array = np.asarray(array, dtype=np.float32)
        self.requires_grad = bool(requires_grad)
        self.repeat = int(repeat)  # the rows repeated this many times: many draws, stored small

    @property
    def shape(self):
        return (self.array.shape[0] * self.repeat, *self.array.shape[1:])

    def values(self):
        return np.repeat(self.array, self.repeat, axis=0) if self.repeat > 1 else self.array

    def __repr__(self):
        return f"tensor of shape {self.shape}" + (" requiring grad" if self.requires_grad else "")


class Graded:
    """A result with ``grads``: {argument name: d sum(output) / d argument, or None where no gradient flows}."""

    def __init__(self, output, grads):
        self.output = output
        self.grads = grads


def materialize_value(value):
    """One call argument as the function receives it (see materialize)."""
    if type(value) is RngSeed:
        return np.random.default_rng(value.seed)
    if type(value) is ModelFunction:
        from autograde import models

        return models.FUNCTIONS[value.name]
    if type(value) is TensorArg:
        import torch

        return torch.tensor(value.values(), requires_grad=value.requires_grad)
    return value


def materialize(kwargs):
    """Fresh call arguments: generators made from their seeds, model functions looked up, tensors
    built (arrays are already fresh copies)."""
    return {k: materialize_value(v) for k, v in kwargs.items()}


def as_tensor_arg(value):
    """A torch tensor as a TensorArg (to cross as plain data); anything else unchanged."""
    if type(value).__module__ == "torch" and type(value).__name__ in ("Tensor", "Parameter"):
        return TensorArg(value.detach().cpu().numpy())
    return value


def as_tensors(value):
    """Arrays back to torch tensors (float32 for floats), in tuples and lists too."""
    if isinstance(value, np.ndarray):
        import torch

        return torch.from_numpy(value.astype(np.float32) if value.dtype.kind == "f" else value)
    if isinstance(value, (tuple, list)):
        return type(value)(as_tensors(v) for v in value)
    return value


def call(fn, kwargs, seed):
    """fn(**kwargs) on fresh arguments. Calls with tensors run after ``torch.manual_seed(seed)`` (the
    same verdict every time; the seed differs between the calls of a case); with tensors that require
    gradients the result is Graded."""
    tensors = [k for k, v in kwargs.items() if type(v) is TensorArg]
    if not tensors:
        return fn(**materialize(kwargs))
    import torch

    torch.manual_seed(seed)
    args = materialize(kwargs)
    output = fn(**args)
    wanted = [k for k in tensors if kwargs[k].requires_grad]
    if not wanted:
        return output
    grads = dict.fromkeys(wanted)
    if isinstance(output, torch.Tensor) and output.requires_grad:
        found = torch.autograd.grad(output.sum(), [args[k] for k in wanted], allow_unused=True)
        grads.update({k: g for k, g in zip(wanted, found) if g is not None})
    return Graded(output, grads)
