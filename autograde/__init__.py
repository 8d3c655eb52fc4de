"""The course's autograder: ``check`` in the notebooks, ``python -m autograde`` for instructors."""

from autograde.checker import check

__all__ = ["check"]
