"""Run a submission's code in a separate process with limits; bring its results back as plain data.

The child (autograde/_child.py) runs with ``python -I -S`` in a private working folder, sees only
the student-side library (helpers, the student part of autograde, data) and the installed packages
(no solutions/, no hidden cases, no other submission), under an audit hook and resource limits.
The parent enforces wall-time limits per cell, per exercise and per notebook, kills the whole
process group afterwards, and restarts the child past a cell or exercise that hung or crashed.
"""

import itertools
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograde.judge import CallError
from autograde.serial import decode, encode

ROOT = Path(__file__).resolve().parent.parent
STUDENT_PARTS = ["helpers", "autograde", "data", "img"]  # what a released bundle holds besides notebooks
# the student side of autograde: check() and what it needs, and the sandbox's child runner
STUDENT_AUTOGRADE = [
    "__init__.py",
    "checker.py",
    "fixtures.py",
    "judge.py",
    "serial.py",
    "models.py",
    "_child.py",
    "lessons",
    "fixtures",
]


@dataclass
class Limits:
    startup_seconds: float = 60.0  # the child's own start (imports), generous for a loaded machine
    cell_seconds: float = 10.0  # one cell of the student's (setup, solution or own cell)
    exercise_seconds: float = 20.0  # all calls of one exercise together
    notebook_seconds: float = 180.0  # everything of one notebook
    memory_bytes: int = 3 << 30  # address space of the child
    output_bytes: int = 1 << 20  # what the submission may print (the rest is cut off)
    message_bytes: int = 64 << 20  # one result line


@dataclass
class Run:
    outputs: dict = field(default_factory=dict)  # call id -> decoded value or CallError
    cell_errors: dict = field(default_factory=dict)  # cell index -> message
    notes: list = field(default_factory=list)  # what the grader had to do (timeouts, crashes)


def copy_student_library(dest):
    """Copy what student code may see (the release's code and data) into dest; return dest."""
    dest = Path(dest)
    ignore = shutil.ignore_patterns("__pycache__")
    for part in STUDENT_PARTS:
        if part == "autograde":
            for name in STUDENT_AUTOGRADE:
                src = ROOT / part / name
                if src.is_dir():
                    shutil.copytree(src, dest / part / name, ignore=ignore, dirs_exist_ok=True)
                else:
                    (dest / part).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dest / part / name)
        elif (ROOT / part).exists():
            shutil.copytree(ROOT / part, dest / part, ignore=ignore, dirs_exist_ok=True)
    return dest


class Library:
    """The student-side library shared (read-only) by all children of one grading run, and the
    zygote that forks them."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="autograde-lib-")
        self.path = copy_student_library(Path(self._tmp.name) / "lib")
        self.mplconfig = Path(self._tmp.name) / "mplconfig"
        self.mplconfig.mkdir()
        self._zygote, self._lock = None, threading.Lock()

    def env(self):
        env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
        env.update(
            MPLBACKEND="Agg",
            MPLCONFIGDIR=str(self.mplconfig),
            FAST="1",
            NBGRADER_EXECUTION="autograde",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            PYTHONHASHSEED="0",
            HOME=str(self.path),
        )
        if "OPENBLAS_CORETYPE" in os.environ:
            env["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]
        return env

    def zygote(self, limits):
        """The running zygote, started (again) when there is none."""
        with self._lock:
            if self._zygote is None or not self._zygote.alive:
                if self._zygote is not None:
                    self._zygote.close()
                self._zygote = Zygote(self, limits.startup_seconds)
            return self._zygote

    def close(self):
        with self._lock:
            if self._zygote is not None:
                self._zygote.close()
        self._tmp.cleanup()


class ZygoteGone(Exception):
    pass


class Zygote:
    """The forking server of _child.py (see its docstring for the protocol). It imports the
    lessons' libraries once; each attempt is a fork of it, so a child starts in milliseconds."""

    def __init__(self, library, timeout):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        args = json.dumps([str(library.path), *_site_paths()])
        with open(library.path.parent / "zygote.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(library.path / "autograde" / "_child.py"), str(theirs.fileno()), args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=library.path,
                env=library.env(),
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        theirs.close()
        self.sock, self.alive, self.replies = ours, True, {}
        self.changed, self.ids = threading.Condition(), itertools.count()
        ours.settimeout(timeout)
        try:
            hello = ours.recv(1 << 16)
        except OSError:
            hello = b""
        if not hello:
            self.close()
            raise RuntimeError(f"the sandbox did not start within {timeout:g} s (see {log.name})")
        ours.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            with self.changed:
                if not data:
                    self.alive = False
                    self.changed.notify_all()
                    return
                msg = json.loads(data)
                key = ("forked", msg["forked"]) if "forked" in msg else ("ended", msg["ended"])
                self.replies[key] = msg
                self.changed.notify_all()

    def _request(self, message, key, timeout, fds=()):
        try:
            socket.send_fds(self.sock, [json.dumps(message).encode()], list(fds))
        except OSError as exc:
            raise ZygoteGone(str(exc)) from None
        with self.changed:
            self.changed.wait_for(lambda: key in self.replies or not self.alive, timeout)
            if key not in self.replies:
                raise ZygoteGone("the zygote did not answer")
            return self.replies.pop(key)

    def fork(self, fds, **request):
        """Start a child with stdin, the events pipe and stdout on fds; return its pid."""
        ident = next(self.ids)
        return self._request({"fork": ident, **request}, ("forked", ident), 30, fds)["pid"]

    def end(self, pid, grace=0.0):
        """Wait up to grace seconds for the child to exit, kill its process group, reap it;
        return its exit code, -signal, or None when it had to be killed."""
        return self._request({"end": pid, "grace": grace}, ("ended", pid), grace + 30)["status"]

    def close(self):
        self.alive = False
        try:  # shutdown (not only close) wakes the reader thread and tells the zygote to end
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()  # the zygote ends its children and exits
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill(self.proc)


def _site_paths():
    paths = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    return [p for p in sys.path if p in paths] or sorted(paths)


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _describe_exit(code):
    if code is None:
        return "the process did not end"
    if code < 0:
        name = signal.Signals(-code).name
        reason = {
            "SIGSEGV": "a crash (segmentation fault)",
            "SIGKILL": "killed (out of memory?)",
            "SIGXFSZ": "too much output",
        }.get(name, name)
        return f"the process ended by {reason}"
    return f"the process exited with code {code} (sys.exit or os._exit?)"


def run(cells, calls, library, limits=None, oracle=None):
    """Execute cells [(index, source)] then calls [(id, exercise name, kwargs)] in a sandbox.

    oracle(helper name, args, kwargs) -> output answers the helper calls of a composite
    exercise (see Exercise.uses) while that exercise runs.

    Returns a Run. A cell that hangs or ends the process is skipped on the next attempt; an
    exercise that hangs or ends the process gets a CallError for its remaining calls.
    """
    limits = limits or Limits()
    result = Run()
    skip_cells, dead_exercises = set(), {}
    deadline = time.monotonic() + limits.notebook_seconds
    spent = {}  # exercise -> seconds used
    with tempfile.TemporaryDirectory(prefix="autograde-run-") as private:
        work = Path(private) / "notebooks"
        work.mkdir()
        for part in ("data", "img"):
            if (library.path / part).exists():
                os.symlink(library.path / part, Path(private) / part)
        read_roots = sorted(
            {
                private,
                str(library.path),
                str(library.mplconfig),
                sys.prefix,
                sys.base_prefix,
                sys.exec_prefix,
                "/dev/null",
                "/dev/urandom",
                "/etc",
                "/usr/share",
                "/usr/lib",
                "/proc/cpuinfo",
                "/sys/devices/system/cpu",
                "/proc/self",
                "/proc/meminfo",
            }
        )
        for attempt in range(len(cells) + len(calls) + 2):
            todo_cells = [c for c in cells if c[0] not in skip_cells]
            todo_calls = [c for c in calls if c[0] not in result.outputs and c[1] not in dead_exercises]
            if not todo_calls and attempt > 0:
                break
            state = _attempt(
                todo_cells,
                todo_calls,
                library,
                limits,
                work,
                private,
                read_roots,
                deadline,
                spent,
                result,
                oracle,
            )
            if state is None:
                break
            kind, ident, why = state
            if kind == "cell":
                skip_cells.add(ident)
                result.cell_errors[ident] = why
                result.notes.append(f"cell {ident} was skipped: {why}")
            elif kind == "call":
                exercise = next(c[1] for c in calls if c[0] == ident)
                dead_exercises[exercise] = why
                result.notes.append(f"{exercise}: {why}")
            elif kind == "between":
                result.notes.append(f"the process ended between two steps ({why}); restarted")
            else:  # the notebook's time is used up, or the process could not start
                result.notes.append(why)
                dead_exercises.update({c[1]: why for c in calls if c[0] not in result.outputs})
                break
        for call_id, exercise, _ in calls:
            if call_id not in result.outputs:
                why = dead_exercises.get(exercise, "not run")
                result.outputs[call_id] = CallError("GraderStopped", why)
    return result


def _attempt(cells, calls, library, limits, work, private, read_roots, deadline, spent, result, oracle):
    """One child process. Returns None when it finished, else (kind, id, why) of what stopped it."""
    uses = {name: sorted(_uses(name)) if oracle else [] for _, name, _ in calls}
    job = {
        "cells": cells,
        "calls": [[i, name, encode(kw), uses[name]] for i, name, kw in calls],
        "read_roots": read_roots,
        "write_roots": [str(work)],
    }
    stdin_r, stdin_w = os.pipe()
    read_fd, write_fd = os.pipe()
    try:
        zygote = library.zygote(limits)
        with open(work / "stdout.txt", "ab") as stdout:
            pid = zygote.fork(
                [stdin_r, write_fd, stdout.fileno()],
                cwd=str(work),
                home=private,
                memory=limits.memory_bytes,
                output=limits.output_bytes,
            )
    except (ZygoteGone, RuntimeError) as exc:
        for fd in (stdin_w, read_fd):
            os.close(fd)
        if isinstance(exc, ZygoteGone):
            return ("between", None, f"the sandbox restarted: {exc}")
        return ("notebook", None, str(exc))
    finally:
        os.close(stdin_r)
        os.close(write_fd)
    stdin = open(stdin_w, "wb")
    try:
        stdin.write(json.dumps(job).encode() + b"\n")
        stdin.flush()
    except BrokenPipeError:
        pass
    reader = _Lines(read_fd, limits.message_bytes)
    names = {i: name for i, name, _ in calls}
    state, ident, started = "start", None, time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if state == "call":
                left = limits.exercise_seconds - spent.get(names[ident], 0.0) - (now - started)
                why = f"exceeded its time limit of {limits.exercise_seconds:g} s"
            elif state == "cell":
                left = limits.cell_seconds - (now - started)
                why = f"exceeded the time limit of {limits.cell_seconds:g} s per cell"
            else:  # starting up, or between two steps
                left = limits.startup_seconds - (now - started)
                why = f"no response within {limits.startup_seconds:g} s"
            if deadline - now < left:
                left, state = deadline - now, "notebook"
            line = reader.next(max(left, 0.0))
            if line is _Lines.TIMEOUT or line is _Lines.EOF or line is _Lines.TOO_LONG:
                if line is _Lines.TOO_LONG:
                    why = "returned a result too large to check"
                elif line is _Lines.EOF:
                    status, pid = zygote.end(pid, grace=5), None
                    why = _describe_exit(status)
                if state == "notebook":
                    return (
                        "notebook",
                        None,
                        f"stopped at the notebook's time limit of {limits.notebook_seconds:g} s",
                    )
                if state == "call":
                    spent[names[ident]] = limits.exercise_seconds
                return (state, ident, why)
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # not a message of the runner's
            now = time.monotonic()
            if "done" in msg:
                return None
            if "oracle" in msg:
                # answered only for the helpers of the exercise running now, so it never answers an exercise
                helper = msg["oracle"]
                if state == "call" and helper in uses[names[ident]]:
                    try:
                        args, kwargs = decode(msg.get("args")), decode(msg.get("kwargs"))
                        reply = {"output": encode(oracle(helper, args, kwargs))}
                    except Exception as exc:
                        reply = {"error": f"{helper} failed on these arguments: {type(exc).__name__}: {exc}"}
                else:
                    reply = {"error": f"{helper} is not available here"}
                try:
                    stdin.write(json.dumps(reply).encode() + b"\n")
                    stdin.flush()
                except (BrokenPipeError, ValueError):
                    pass
                continue
            if "cell" in msg:
                if "error" in msg:
                    result.cell_errors[msg["cell"]] = str(msg["error"])
                else:
                    state, ident, started = "cell", msg["cell"], now
            elif "call" in msg and msg["call"] in names:
                call_id = msg["call"]
                if "output" in msg or "error" in msg:
                    value = _safe_decode(msg["output"]) if "output" in msg else CallError(*map(str, msg["error"][:2]))
                    result.outputs.setdefault(call_id, value)
                    if state == "call":
                        spent[names[ident]] = spent.get(names[ident], 0.0) + now - started
                    state, ident, started = "between", None, now
                else:
                    state, ident, started = "call", call_id, now
    finally:
        reader.close()
        try:
            stdin.close()
        except BrokenPipeError:
            pass
        if pid is not None:
            try:
                zygote.end(pid)
            except ZygoteGone:
                pass


def _uses(name):
    from autograde.lessons import find_exercise

    try:
        return find_exercise(name)[1].uses
    except KeyError:
        return []


def _safe_decode(data):
    try:
        return decode(data)
    except Exception as exc:  # malformed data from a tampered child is the submission's loss
        return CallError("BadResult", f"the result could not be read ({type(exc).__name__})")


class _Lines:
    """Newline-separated messages from a pipe, with a timeout per read and a size cap."""

    TIMEOUT, EOF, TOO_LONG = object(), object(), object()

    def __init__(self, fd, cap):
        self.fd, self.cap, self.buffer = fd, cap, bytearray()
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def next(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if len(self.buffer) > self.cap:
                return self.TOO_LONG
            left = end - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                return self.TIMEOUT
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return self.EOF
            self.buffer += chunk
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return line

    def close(self):
        self.selector.close()
        os.close(self.fd)
