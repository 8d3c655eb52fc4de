"""Mistaken implementations of the catalogued mistakes (instructor side; not in the student release).

Each is the reference with one mistake. The grader matches outputs against those marked
``by_output`` in the catalogue; the tests submit every one and expect its exercise to fail with
the mistake's name.
"""
