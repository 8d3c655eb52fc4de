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
