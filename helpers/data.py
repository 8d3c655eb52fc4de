"""The course's bundled data sets (see data/README.md for their sources and licences)."""

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def load_faithful():
    """Old Faithful's 272 eruptions: an array of shape (272, 2), (duration, waiting time to the next
    eruption), both in minutes, from data/faithful.csv."""
    path = DATA_DIR / "faithful.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the course's data/ folder belongs next to helpers/")
    return np.loadtxt(path, delimiter=",", skiprows=1)


def load_mnist_5k():
    """5,000 MNIST handwritten digits, 500 of each class, from data/mnist_5k.npz.

    Returns
    -------
    images : ndarray of shape (5000, 28, 28), uint8
        Grey levels 0 (background) to 255 (ink).
    labels : ndarray of shape (5000,), int64
        The digit, 0 to 9.
    """
    path = DATA_DIR / "mnist_5k.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the course's data/ folder belongs next to helpers/")
    with np.load(path) as data:
        return data["images"], data["labels"].astype(np.int64)
