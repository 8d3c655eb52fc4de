"""Fixture staleness, judged as the checker judges: the last bits that BLAS kernels, thread counts and
CPUs change are not stale; a changed value, label, shape, dtype or integer is. Each rule is shown on a
small synthetic document and on the committed fixtures."""

import json

import numpy as np
import pytest

from autograde import fixtures
from autograde.__main__ import main
from autograde.lessons import NOTEBOOKS
from autograde.serial import decode, encode

LESSONS = sorted(NOTEBOOKS)


def synthetic():
    """A small fixture document with every kind of value a fixture holds: float and integer arrays
    (NaN, inf and an entry near zero among them), float32, plain floats and lists of them, NumPy scalars,
    integers, booleans, strings and None."""
    calls = [{"X": np.array([[0.1, 0.2], [0.3, 0.4]]), "k": 2, "w": np.float64(0.3), "flag": np.bool_(True)}]
    expected = [(np.array([[1.5, -2.0], [1e-17, 3.0]]), 4.25, 3, np.array([0, 2]), [0.5, 0.25], None)]
    mistakes = {"swapped": [(np.array([np.inf, np.nan, 2.5], dtype=np.float32), float("nan"), -1.0, True)]}
    case = {"label": "two points", "calls": encode(calls), "expected": encode(expected), "mistakes": encode(mistakes)}
    return {"lesson": "toy", "notebook": "00_toy.ipynb", "exercises": {"f": [case]}}


def committed(key):
    return json.loads((fixtures.FIXTURES / f"{key}.json").read_text())


def document(name):
    return synthetic() if name == "synthetic" else committed(name)


def copy_of(doc):
    return json.loads(json.dumps(doc))


def is_float_array(value):
    return isinstance(value, dict) and value.get("__array__", "").startswith("float")


def sites(node, wanted):
    """(container, key) of every value in node for which wanted(value) holds (not looking inside those)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if wanted(value):
            yield node, key
        else:
            yield from sites(value, wanted)


def float_sites(node):
    """Every plain float and every encoded float array."""
    return list(sites(node, lambda v: type(v) is float or is_float_array(v)))


def expected_outputs(doc):
    return [item["expected"] for cases in doc["exercises"].values() for item in cases]


def perturb(container, key, rel):
    """Scale the float at container[key] by 1 + rel: a plain float, or the largest finite entry of an array."""
    value = container[key]
    if type(value) is float:
        container[key] = value * (1 + rel)
        return
    array = decode(value)
    if array.dtype == np.float32:  # its allowance at the largest entry is 8 eps (9.5e-7): 1e-6 can round below it
        rel *= 2
    array.flat[np.argmax(np.where(np.isfinite(array), np.abs(array), -1))] *= 1 + rel
    container[key] = {**value, **encode(array)}  # a tensor's extra keys kept


def nudge(container, key):
    """The last bits of the float at container[key] changed: a relative 1e-12 in float64, in every entry
    of an array; one unit in the last place in float32 (zeros stay zero)."""
    value = container[key]
    if type(value) is float:
        container[key] = value * (1 + 1e-12)
        return
    array = decode(value)
    if array.dtype == np.float32:
        array = np.where(array == 0, array, np.nextafter(array, np.float32(np.inf)))
    else:
        array *= 1 + 1e-12
    container[key] = {**value, **encode(array)}


def has_nonzero_entry(value):
    array = decode(value)
    return bool(np.any(np.isfinite(array) & (array != 0)))


def with_one_value_changed(doc, kind, rel=1e-6):
    """A copy of doc with one value of its expected outputs scaled by 1 + rel: the largest entry of the
    first float array with a non-zero entry, or the largest plain float."""
    doc = copy_of(doc)
    found = [(c, k) for node in expected_outputs(doc) for c, k in float_sites(node)]
    if kind == "array":
        container, key = next((c, k) for c, k in found if is_float_array(c[k]) and has_nonzero_entry(c[k]))
    else:
        container, key = max(((c, k) for c, k in found if type(c[k]) is float), key=lambda s: abs(s[0][s[1]]))
    perturb(container, key, rel)
    return doc


def has_plain_float(doc):
    return any(type(c[k]) is float for node in expected_outputs(doc) for c, k in float_sites(node))


DOCUMENTS = ["synthetic", *LESSONS]
WITH_PLAIN_FLOATS = ["synthetic", *(key for key in LESSONS if has_plain_float(committed(key)))]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_last_bit_differences_are_not_stale(name):
    """Every float off by a relative 1e-12 (float32 by one unit in the last place)."""
    stored = document(name)
    fresh = copy_of(stored)
    for container, key in float_sites(fresh):
        nudge(container, key)
    assert fixtures.dump(fresh) != fixtures.dump(stored)  # as text they differ: the old rule called this stale
    assert fixtures.difference(stored, fresh) is None


@pytest.mark.parametrize("name", DOCUMENTS)
def test_one_array_entry_off_by_a_relative_1e6_is_stale(name):
    stored = document(name)
    where = fixtures.difference(stored, with_one_value_changed(stored, "array"))
    assert where is not None and where.endswith("values differ"), where


@pytest.mark.parametrize("name", WITH_PLAIN_FLOATS)
def test_one_plain_float_off_by_a_relative_1e6_is_stale(name):
    stored = document(name)
    assert fixtures.difference(stored, with_one_value_changed(stored, "float")) is not None


def changed_label(doc):
    first = next(iter(doc["exercises"].values()))[0]
    first["label"] += " (changed)"


def changed_shape(doc):
    container, key = next(sites(doc, lambda v: isinstance(v, dict) and "__array__" in v))
    container[key]["shape"].append(1)  # the same bytes, one more axis


def changed_dtype(doc):
    container, key = next(sites(doc, is_float_array))
    array = decode(container[key])
    container[key] = encode(array.astype(np.float64 if array.dtype == np.float32 else np.float32))


def changed_integer(doc):
    container, key = next(sites(doc, lambda v: type(v) is int))
    container[key] += 1


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize("change", [changed_label, changed_shape, changed_dtype, changed_integer])
def test_a_changed_label_shape_dtype_or_integer_is_stale(name, change):
    stored = document(name)
    fresh = copy_of(stored)
    change(fresh)
    assert fresh != stored
    assert fixtures.difference(stored, fresh) is not None


def case(doc):
    return doc["exercises"]["f"][0]


def expected_tuple(doc):
    return case(doc)["expected"][0]["__tuple__"]


def mistake_tuple(doc):
    return case(doc)["mistakes"]["__dict__"][0][1][0]["__tuple__"]


EXACT = {
    "an integer array's entry": lambda doc: expected_tuple(doc)[3].update(encode(np.array([0, 3]))),
    "a NumPy bool": lambda doc: case(doc)["calls"][0]["__dict__"][3][1].update(value=False),
    "a bool": lambda doc: mistake_tuple(doc).__setitem__(3, False),
    "a string": lambda doc: doc.update(notebook="00_other.ipynb"),
    "None": lambda doc: expected_tuple(doc).__setitem__(5, 0),
}


@pytest.mark.parametrize("change", EXACT.values(), ids=EXACT)
def test_integer_arrays_booleans_strings_and_none_are_compared_exactly(change):
    stored = synthetic()
    fresh = copy_of(stored)
    change(fresh)
    assert fresh != stored
    assert fixtures.difference(stored, fresh) is not None


@pytest.mark.parametrize("values", [[-np.inf, np.nan, 2.5], [np.inf, 0.0, 2.5], [2.5, np.nan, 2.5]])
def test_nan_equals_nan_inf_the_same_inf(values):
    stored = synthetic()  # the float32 array [inf, nan, 2.5] and a plain NaN
    assert fixtures.difference(stored, copy_of(stored)) is None
    fresh = copy_of(stored)
    mistake_tuple(fresh)[0].update(encode(np.array(values, dtype=np.float32)))
    assert fixtures.difference(stored, fresh) is not None


def test_an_entry_near_zero_may_move_by_a_tiny_fraction_of_the_array_scale():
    stored = synthetic()  # the array [[1.5, -2.0], [1e-17, 3.0]]: scale 3
    for entry, stale in ((-1e-17, False), (1e-12, False), (1e-11, True), (1e-6, True)):
        fresh = copy_of(stored)
        array = decode(expected_tuple(fresh)[0])
        array[1, 0] = entry
        expected_tuple(fresh)[0] = encode(array)
        assert (fixtures.difference(stored, fresh) is not None) == stale, entry


def test_fixtures_check_judges_regenerated_fixtures_by_tolerance(tmp_path, monkeypatch, capsys):
    """`python -m autograde fixtures --check` on stored copies of the k-means fixture: every float off by a
    relative 1e-12 is up to date, one expected value off by 1e-6 is stale."""
    stored = committed("kmeans")
    close = copy_of(stored)
    for container, key in float_sites(close):
        nudge(container, key)
    monkeypatch.setattr(fixtures, "FIXTURES", tmp_path)
    monkeypatch.setattr(fixtures, "NOTEBOOKS", {"kmeans": NOTEBOOKS["kmeans"]})
    (tmp_path / "kmeans.json").write_text(fixtures.dump(close))
    assert main(["fixtures", "--check"]) == 0
    assert capsys.readouterr().out == "fixtures and notebook metadata are up to date\n"
    (tmp_path / "kmeans.json").write_text(fixtures.dump(with_one_value_changed(stored, "array")))
    assert main(["fixtures", "--check"]) == 1
    assert capsys.readouterr().out.startswith("stale fixture kmeans: document/exercises/")
