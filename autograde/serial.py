"""Plain-data encoding of values that cross between student code and the checker.

Only JSON primitives cross: arrays become {"__array__": dtype, "shape", "data"}, anything that is
not a number, string, sequence, dict, array or tensor becomes an opaque {"__object__": type name}.
Decoding builds fresh NumPy arrays and Python scalars, so nothing a submission defines (its
``__eq__``, its subclasses) ever reaches the comparison.
"""

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
        data = [_float(x) for x in value.ravel().tolist()] if value.dtype.kind == "f" else value.ravel().tolist()
        return {"__array__": str(value.dtype), "shape": list(value.shape), "data": data}
    if type(value) in (list, tuple):
        items = [encode(v, _depth + 1) for v in value[:MAX_ITEMS]]
        return items if type(value) is list else {"__tuple__": items}
    if type(value) is RngSeed:
        return {"__rng__": value.seed}
    if type(value) is ModelFunction:
        return {"__model__": value.name}
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
        values = [_unfloat(x) for x in data["data"]] if dtype.kind == "f" else data["data"]
        return np.array(values, dtype=dtype).reshape(data["shape"])
    if "__float__" in data:
        return float(data["__float__"])
    if "__scalar__" in data:
        return np.dtype(data["__scalar__"]).type(_unfloat(data["value"]))
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"]}
    if "__rng__" in data:
        return RngSeed(data["__rng__"])
    if "__model__" in data:
        return ModelFunction(data["__model__"])
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


def _materialize(value):
    if type(value) is RngSeed:
        return np.random.default_rng(value.seed)
    if type(value) is ModelFunction:
        from autograde import models

        return models.FUNCTIONS[value.name]
    return value


def materialize(kwargs):
    """Fresh call arguments: generators made from their seeds, model functions looked up (arrays are
    already fresh copies)."""
    return {k: _materialize(v) for k, v in kwargs.items()}
