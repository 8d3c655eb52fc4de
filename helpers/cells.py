"""try_it(): the lesson's own cells (try-it, plots, demos) under Run All, in every state of the notebook.

A cell that calls the student's functions runs inside ``with try_it():``. If a function is still the stub, an
earlier cell did not finish, a demo stopped (DemoStopped: a loss that is NaN or grows) or the student's code
raised, the cell says so in one line and Run All goes on to the next cell.
"""

import sys
import traceback


class DemoStopped(Exception):
    """A demo stopped on purpose, with a sentence for the student (what went wrong, what to fix)."""


def _student_frame(tb):
    """(function name, line number, line) of the innermost frame that runs notebook code, or None."""
    found = None
    for frame in traceback.extract_tb(tb):
        if "ipykernel" in frame.filename or frame.filename.startswith("<"):
            found = frame
    return found


class try_it:
    """Context manager for a lesson cell: what stops it is said in one line; the exception goes no further."""

    def __enter__(self):
        self.figures = set(_figures())
        return self

    def __exit__(self, kind, error, tb):
        if kind is None or not issubclass(kind, Exception):
            return False  # KeyboardInterrupt (interrupting the kernel) still stops Run All
        for number in set(_figures()) - self.figures:  # a figure the cell opened is left empty or half drawn
            sys.modules["matplotlib.pyplot"].close(number)
        print(explain(error, tb), file=sys.stderr)
        return True


def _figures():
    """The numbers of the open pyplot figures (none when pyplot was never imported)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    return pyplot.get_fignums() if pyplot is not None else []


def explain(error, tb):
    """The one line that says why a lesson cell stopped."""
    frame = _student_frame(tb)
    if isinstance(error, DemoStopped):
        return f"⏹ {error}"
    if isinstance(error, NotImplementedError):
        name = frame.name if frame is not None and frame.name != "<module>" else "a function it calls"
        return f"⏸ {name} is not implemented yet: this cell shows its result once it is."
    if isinstance(error, NameError):
        return (
            f"⏸ this cell needs `{error.name}`, which an earlier cell did not get to define: "
            "fix the first cell above that stopped, then run again."
        )
    where = ""
    if frame is not None and frame.name != "<module>":
        where = f" (in {frame.name}, line {frame.lineno}: `{(frame.line or '').strip()}`)"
    return f"✘ this cell stopped: {type(error).__name__}: {error}{where}"
