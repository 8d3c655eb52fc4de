"""The course's lessons: which notebook, which exercises, which catalogued mistakes."""

import importlib

# lesson key (= module name in solutions/, lessons/, hidden/, mistakes/, fixtures/) -> notebook
NOTEBOOKS = {
    "kmeans": "01_kmeans.ipynb",
    "em_1d": "02_em_1d.ipynb",
    "gmm": "03_gmm.ipynb",
    "general_em": "04_general_em.ipynb",
    "vae": "05_vae.ipynb",
}


def lesson(key):
    """The lesson module autograde.lessons.<key> (EXERCISES, MISTAKES)."""
    return importlib.import_module(f"autograde.lessons.{key}")


def find_exercise(name):
    """(lesson key, Exercise) of the exercise called name; KeyError with the known names if none."""
    for key in NOTEBOOKS:
        for exercise in lesson(key).EXERCISES:
            if exercise.name == name:
                return key, exercise
    known = ", ".join(e.name for key in NOTEBOOKS for e in lesson(key).EXERCISES)
    raise KeyError(f"no exercise is called {name!r}; the exercises are: {known}")
