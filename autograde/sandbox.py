"""Run a submission's code in a kernel sandbox with limits; bring its results back as plain data.

Isolation (the default, ``kernel``): a zygote (autograde/_child.py) runs under bubblewrap in its
own user, mount, PID, network, IPC and UTS namespaces, as uid 65534, seeing read-only only the
Python installation, the system libraries and the student-side library (helpers, the student part
of autograde, data, img): no solutions/, no hidden cases, no submission, no file of the
instructor's. Each attempt at a notebook is a runner forked from it that gets namespaces of its
own (a fresh size-capped tmpfs as the only writable place, its own PID namespace whose init it is),
no capabilities, a seccomp filter against new processes, and rlimits. ``none`` runs the same
runners as plain processes with rlimits only, for a machine without user namespaces; every output
of such a run says it was not isolated.

The grader holds the protocol's state: it sends one request at a time (run this cell, call this
function on these arguments) with a fresh random id, and accepts exactly one reply carrying that
id, within the step's time limit; anything else ends the step as the submission's failure. Every
read and write on the pipes has a deadline, replies are capped per message and per notebook, and
the grader never touches a file the runner can reach.
"""

import itertools
import json
import os
import secrets
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

import numpy as np

from autograde._child import HOME, ZYGOTE_HOME
from autograde.judge import CallError
from autograde.lessons import NOTEBOOKS, student_source
from autograde.serial import TensorArg, decode, encode
from autograde.student_cli import cell_label

ROOT = Path(__file__).resolve().parent.parent
STUDENT_PARTS = ["helpers", "autograde", "data", "img"]  # what a released bundle holds besides notebooks
# the student side of autograde: check() and what it needs, and the sandbox's runner
STUDENT_AUTOGRADE = [
    "__init__.py",
    "checker.py",
    "fixtures.py",
    "judge.py",
    "serial.py",
    "models.py",
    "_child.py",
    "student_cli.py",
    "lessons",
    "fixtures",
]
LIBRARY = "/course"  # where the student-side library is, inside the sandbox
ISOLATION = ("kernel", "none")
INSTALL_HINT = (
    "grading for credit runs student code in a kernel sandbox: install bubblewrap (Debian/Ubuntu: "
    "apt-get install bubblewrap) and allow unprivileged user namespaces (sysctl "
    "kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0), "
    "or pass --isolation none to grade without isolation"
)


@dataclass
class Limits:
    startup_seconds: float = 60.0  # the sandbox's own start (imports), generous for a loaded machine
    cell_seconds: float = 10.0  # one cell of the student's (setup, solution or own cell)
    exercise_seconds: float = 20.0  # all calls of one exercise together
    notebook_seconds: float = 180.0  # everything of one notebook
    memory_bytes: int = 3 << 30  # address space of the runner
    output_bytes: int = 1 << 20  # what the submission may print (the rest is cut off)
    disk_bytes: int = 64 << 20  # the runner's private tmpfs
    message_bytes: int = 64 << 20  # one reply
    notebook_bytes: int = 256 << 20  # all replies of one notebook together


@dataclass
class Run:
    outputs: dict = field(default_factory=dict)  # call id -> decoded value or CallError
    cell_errors: dict = field(default_factory=dict)  # cell index -> message
    notes: list = field(default_factory=list)  # what the grader had to do (timeouts, crashes)


class SandboxError(RuntimeError):
    """The sandbox cannot run here (what to install or enable is in the message)."""


def copy_student_library(dest):
    """Copy what student code may see (the release's code and data) into dest; return dest."""
    dest = Path(dest)
    ignore = shutil.ignore_patterns("__pycache__")
    for part in STUDENT_PARTS:
        if part == "autograde":
            for name in STUDENT_AUTOGRADE:
                src = ROOT / part / name
                if name == "lessons":  # the declarations without references, hidden cases or mistaken code
                    (dest / part / name).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src / "__init__.py", dest / part / name / "__init__.py")
                    for key in NOTEBOOKS:
                        (dest / part / name / f"{key}.py").write_text(student_source(key))
                elif src.is_dir():
                    shutil.copytree(src, dest / part / name, ignore=ignore, dirs_exist_ok=True)
                else:
                    (dest / part).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dest / part / name)
        elif (ROOT / part).exists():
            shutil.copytree(ROOT / part, dest / part, ignore=ignore, dirs_exist_ok=True)
    return dest


def _site_paths():
    paths = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    return [p for p in sys.path if p in paths] or sorted(paths)


def _inside(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def bwrap_command(library):
    """bubblewrap's arguments for the zygote: namespaces, read-only system and Python, the library at LIBRARY."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", "65534", "--gid", "65534", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime"):
        args += ["--ro-bind-try", name, name]
    python = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, *_site_paths())}
    python |= {os.path.dirname(os.path.realpath(sys.executable))}
    python = sorted(p for p in python if not any(q != p and _inside(p, q) for q in python))
    for path in python:
        if _inside(path, "/usr"):
            continue
        args += ["--ro-bind", path, path]
    root = str(ROOT)
    if any(_inside(root, p) for p in ["/usr", *python]):  # the course's own folder stays out of sight
        args += ["--tmpfs", root]
    args += ["--ro-bind", str(library), LIBRARY, "--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(64 << 20), "--perms", "1777", "--tmpfs", ZYGOTE_HOME, "--dir", HOME, "--dir", "/tmp"]
    args += ["--remount-ro", "/", "--chdir", LIBRARY, "--clearenv"]
    for name, value in _environment().items():  # the sandbox's whole environment
        args += ["--setenv", name, value]
    return args


def _environment():
    env = {"PATH": "/usr/bin:/bin", "LANG": os.environ.get("LANG", "C.UTF-8")}
    env.update(
        MPLBACKEND="Agg",
        MPLCONFIGDIR=f"{ZYGOTE_HOME}/matplotlib",
        FAST="1",
        NBGRADER_EXECUTION="autograde",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONHASHSEED="0",
        HOME=ZYGOTE_HOME,
        TMPDIR=ZYGOTE_HOME,
    )
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def check_isolation():
    """Raise SandboxError saying what is missing unless the kernel sandbox works on this machine."""
    if shutil.which("bwrap") is None:
        raise SandboxError(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="autograde-probe-") as tmp:
        probe = Path(tmp) / "autograde"
        probe.mkdir()
        shutil.copy2(ROOT / "autograde" / "_child.py", probe / "_child.py")
        code = "import sys; sys.path.insert(0, '/course/autograde'); import _child; _child.probe()"
        command = [*bwrap_command(tmp), "--", sys.executable, "-I", "-S", "-c", code]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=30, env=_environment())
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(f"bubblewrap did not run ({exc}): {INSTALL_HINT}") from None
    if proc.returncode != 0 or proc.stdout.strip() != "isolated":
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SandboxError(f"the kernel sandbox does not work here ({reason}): {INSTALL_HINT}")


class Library:
    """The student-side library shared (read-only) by all runners of one grading run, and the
    zygote that forks them."""

    def __init__(self, isolation="kernel"):
        if isolation not in ISOLATION:
            raise ValueError(f"isolation must be one of {ISOLATION}, not {isolation!r}")
        self.isolation = isolation
        self._tmp = tempfile.TemporaryDirectory(prefix="autograde-lib-")
        self.path = copy_student_library(Path(self._tmp.name) / "lib")
        self._zygote, self._lock = None, threading.Lock()

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
    lessons' libraries once; each attempt is a fork of it, so a runner starts in milliseconds."""

    def __init__(self, library, timeout):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        isolated = library.isolation == "kernel"
        where = LIBRARY if isolated else str(library.path)
        child = [sys.executable, "-I", "-S", f"{where}/autograde/_child.py", str(theirs.fileno())]
        child += [json.dumps([where, *_site_paths()]), "1" if isolated else "0"]
        child.append(str(library.path))  # unused by the zygote: names its processes (and the runners') in ps
        env = _environment()
        if not isolated:
            env["MPLCONFIGDIR"] = str(Path(library.path).parent / "matplotlib")
        self.library_path = where
        with open(Path(library.path).parent / "zygote.log", "ab") as log:
            self.proc = subprocess.Popen(
                [*bwrap_command(library.path), "--", *child] if isolated else child,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=library.path,
                env=env,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        theirs.close()
        self.sock, self.alive = ours, True
        self.pending, self.replies = set(), {}
        self.changed, self.ids = threading.Condition(), itertools.count()
        ours.settimeout(timeout)
        try:
            hello = ours.recv(1 << 16)
        except OSError:
            hello = b""
        if not hello:
            self.close()
            raise SandboxError(f"the sandbox did not start within {timeout:g} s (see {log.name})")
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
                try:
                    msg = json.loads(data)
                    ident = msg["forked"] if "forked" in msg else msg["ended"]
                except (ValueError, TypeError, KeyError):
                    continue
                if ident in self.pending:  # a reply that came after its request gave up is dropped
                    self.replies[ident] = msg
                    self.changed.notify_all()

    def _request(self, kind, message, timeout, fds=()):
        ident = next(self.ids)
        with self.changed:
            self.pending.add(ident)
        try:
            socket.send_fds(self.sock, [json.dumps({kind: ident, **message}).encode()], list(fds))
            with self.changed:
                self.changed.wait_for(lambda: ident in self.replies or not self.alive, timeout)
                if ident not in self.replies:
                    raise ZygoteGone("the sandbox's server did not answer")
                return self.replies.pop(ident)
        except OSError as exc:
            raise ZygoteGone(str(exc)) from None
        finally:
            with self.changed:
                self.pending.discard(ident)
                self.replies.pop(ident, None)

    def fork(self, fds, limits):
        """Start a runner with its requests and replies pipes on fds; return the pid to end it by."""
        return self._request("fork", {"limits": limits}, 30, fds)["pid"]

    def end(self, pid, grace=0.0):
        """Wait up to grace seconds for the runner to exit, kill it and all it started, reap it;
        return its exit code, -signal, or None when it had to be killed."""
        return self._request("end", {"pid": pid, "grace": grace}, grace + 30)["status"]

    def close(self):
        self.alive = False
        try:  # shutdown (not only close) wakes the reader thread and tells the zygote to end
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()  # the zygote ends its runners and exits
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


def _describe_exit(code):
    if code is None:
        return "the process did not end"
    if code < 0:
        name = signal.Signals(-code).name
        reason = {
            "SIGSEGV": "a crash (segmentation fault)",
            "SIGKILL": "killed (out of memory?)",
            "SIGXFSZ": "too much output",
            "SIGXCPU": "its CPU time limit",
            "SIGSYS": "a forbidden system call",
        }.get(name, name)
        return f"the process ended by {reason}"
    return f"the process exited with code {code} (sys.exit or os._exit?)"


def run(cells, calls, library, limits=None, oracle=None, uses=None, labels=None):
    """Execute cells [(index, source)] then calls [(id, exercise name, kwargs, seed)] in the sandbox.

    labels {index: how messages name the cell}: by default cell_label of its source.

    uses {exercise: [helper, ...]}: while a composite exercise runs, oracle(helper, args, kwargs)
    answers the calls of its helpers. Composite exercises run after all others, so that no answer
    of a helper reaches a process that will later answer that helper's own cases.

    Returns a Run. A cell that hangs or ends the process is skipped on the next attempt; an
    exercise that hangs or ends the process gets a CallError for its remaining calls.
    """
    limits, uses = limits or Limits(), uses or {}
    calls = sorted(calls, key=lambda c: bool(uses.get(c[1])))
    labels = labels or {index: cell_label(source) for index, source in cells}
    result = Run()
    skip_cells, dead_exercises = set(), {}
    budget = _Budget(time.monotonic() + limits.notebook_seconds, limits.notebook_bytes, limits.notebook_seconds)
    for attempt in range(len(cells) + len(calls) + 2):
        todo_cells = [c for c in cells if c[0] not in skip_cells]
        todo_calls = [c for c in calls if c[0] not in result.outputs and c[1] not in dead_exercises]
        if not todo_calls and attempt > 0:
            break
        state = _attempt(todo_cells, todo_calls, library, limits, budget, result, oracle, uses, labels)
        if state is None:
            break
        kind, ident, why = state
        if kind == "cell":
            skip_cells.add(ident)
            result.cell_errors[ident] = f"{why}; the cell was skipped on the next try"
        elif kind == "call":
            dead_exercises[ident] = why
            result.notes.append(f"{ident}: {why}")
        elif kind == "fresh":  # a new runner for helper exercises' cases: nothing went wrong
            pass
        elif kind == "between":
            result.notes.append(f"the process ended between two steps ({why}); restarted")
        else:  # the notebook's limits are used up, or the sandbox could not start
            result.notes.append(why)
            dead_exercises.update({c[1]: why for c in calls if c[0] not in result.outputs})
            break
    for call_id, exercise, _, _ in calls:
        if call_id not in result.outputs:
            why = dead_exercises.get(exercise, "not run")
            result.outputs[call_id] = CallError("GraderStopped", why)
    return result


@dataclass
class _Budget:
    deadline: float  # the notebook's time limit (monotonic clock)
    bytes_left: int  # of all replies together
    seconds: float  # the notebook's time limit, for messages
    spent: dict = field(default_factory=dict)  # exercise -> seconds used


class _Stop(Exception):
    """The attempt ends: (kind, id, why) as run() expects."""


def _attempt(cells, calls, library, limits, budget, result, oracle, uses, labels):
    """One runner. Returns None when every call was answered, else (kind, id, why) of what stopped it."""
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    try:
        zygote = library.zygote(limits)
        pid = zygote.fork(
            [requests_r, replies_w],
            {
                "memory": limits.memory_bytes,
                "output": limits.output_bytes,
                "disk": limits.disk_bytes,
                "cpu": int(limits.notebook_seconds) + 10,
                "library": zygote.library_path,
            },
        )
    except (ZygoteGone, SandboxError) as exc:
        for fd in (requests_w, replies_r):
            os.close(fd)
        if isinstance(exc, ZygoteGone):
            return ("between", None, f"the sandbox restarted: {exc}")
        return ("notebook", None, str(exc))
    finally:
        os.close(requests_r)
        os.close(replies_w)
    channel = _Channel(requests_w, replies_r, limits.message_bytes, budget)
    helpers_given = False
    cell_limit = f"exceeded the time limit of {limits.cell_seconds:g} s per cell"
    call_limit = f"exceeded its time limit of {limits.exercise_seconds:g} s"
    try:
        for index, source in cells:
            request = {"cell": source, "name": f"cell {index}"}
            reply = channel.ask(request, limits.cell_seconds, "cell", index, cell_limit)
            if "error" in reply:
                where = _where(reply.get("where"), labels)
                result.cell_errors[index] = str(reply["error"])[:500] + where
        helper_names = {h for hs in uses.values() for h in hs}
        for call_id, name, kwargs, seed in calls:
            if helpers_given and name in helper_names:
                raise _Stop(("fresh", None, ""))  # helpers' own cases never run where their answers were given
            left = limits.exercise_seconds - budget.spent.get(name, 0.0)
            answer = _Helpers(name, uses.get(name, []), oracle, kwargs)
            started = time.monotonic()
            try:
                request = {"call": name, "kwargs": encode(kwargs), "seed": seed, "uses": answer.names}
                reply = channel.ask(request, left, "call", name, call_limit, answer)
            finally:
                budget.spent[name] = budget.spent.get(name, 0.0) + time.monotonic() - started
                helpers_given = helpers_given or answer.given
            result.outputs[call_id] = _output(reply, labels)
        return None
    except _Stop as stop:
        kind, ident, why = stop.args[0]
        if why is None:  # the runner's pipe closed: how did it end?
            try:
                grace = min(5.0, max(0.0, budget.deadline - time.monotonic()))  # within the notebook's limit
                status, pid = zygote.end(pid, grace=grace), None
                why = _describe_exit(status)
            except ZygoteGone as exc:
                why = f"the process ended ({exc})"
        if kind == "call":
            budget.spent[ident] = limits.exercise_seconds
        return (kind, ident, why) if kind != "fresh" else ("fresh", None, "")
    finally:
        channel.close()
        if pid is not None:
            try:
                zygote.end(pid)
            except ZygoteGone:
                pass


def _where(where, labels):
    """' (in the cell starting `def f(`, line 3)' from a runner's [label, line], if it is one of ours."""
    try:
        label, line = where
        index = int(str(label).removeprefix("cell "))
        return f" (in {labels[index]}, line {int(line)})"
    except (TypeError, ValueError, KeyError):
        return ""


def _output(reply, labels):
    """The decoded output of a call's reply, or the CallError it reports."""
    if "output" in reply:
        try:
            return decode(reply["output"])
        except Exception as exc:  # malformed data from a tampered runner is the submission's loss
            return CallError("BadResult", f"the result could not be read ({type(exc).__name__})")
    error = reply.get("error")
    if not (isinstance(error, list) and len(error) == 2):
        return CallError("BadResult", "the reply could not be read")
    type_name, message = (str(part)[:500] for part in error)
    if type_name == "Missing":
        return CallError("Missing", message)
    return CallError(type_name, message + _where(reply.get("where"), labels))


class _Helpers:
    """Answers a composite exercise's helper calls with the reference, on arguments no larger than
    the case's own (so that the reference's work stays bounded)."""

    def __init__(self, name, names, oracle, kwargs):
        self.names = sorted(names) if oracle else []
        self.oracle, self.given = oracle, False
        self.cap = 4 * len(json.dumps(encode(kwargs))) + (1 << 20)

    def answer(self, message, size):
        helper = message.get("helper")
        if helper not in self.names:
            return {"error": f"{helper} is not available here"}
        if size > self.cap:
            return {"error": f"{helper}: arguments larger than the grader accepts"}
        try:
            args, kwargs = decode(message.get("args")), decode(message.get("kwargs"))
            if not isinstance(args, list) or not isinstance(kwargs, dict) or not _plain([args, kwargs]):
                raise TypeError("arguments must be arrays, tensors, numbers or strings")
            output = self.oracle(helper, args, kwargs)
        except Exception as exc:
            return {"error": f"{helper} failed on these arguments: {type(exc).__name__}: {exc}"[:500]}
        self.given = True
        return {"output": encode(output)}


def _plain(value, depth=0):
    """Data the reference may be called on: numbers, strings, arrays, tensors of their own size, in lists,
    tuples and dicts (no generator seeds, model names or repeated tensors, which expand in the grader)."""
    if depth > 20:
        return False
    if isinstance(value, (list, tuple)):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_plain(v, depth + 1) for v in value.values())
    if isinstance(value, TensorArg):
        return value.repeat == 1
    return value is None or isinstance(value, (bool, int, float, str, np.ndarray, np.generic))


class _Channel:
    """The grader's end of a runner's two pipes: one request, exactly one reply with its id."""

    def __init__(self, requests, replies, cap, budget):
        os.set_blocking(requests, False)
        self.requests, self.replies, self.cap, self.budget = requests, replies, cap, budget
        self.buffer = bytearray()
        self.selector = selectors.DefaultSelector()
        self.selector.register(replies, selectors.EVENT_READ)

    def ask(self, request, seconds, kind, ident, limit, helpers=None):
        """The reply to request within seconds (and the notebook's limits); raises _Stop otherwise,
        with limit as the reason at the deadline."""
        nonce = secrets.token_hex(16)
        end = min(time.monotonic() + max(seconds, 0.0), self.budget.deadline)

        def stop(why):
            if time.monotonic() >= self.budget.deadline:
                raise _Stop(("notebook", None, f"stopped at the notebook's time limit of {self.budget.seconds:g} s"))
            raise _Stop((kind, ident, why))

        if not self._write({"id": nonce, **request}, end):
            stop(limit if time.monotonic() >= end else None)
        while True:
            line = self._line(end)
            if line is None:
                stop(limit)
            if line is _EOF:
                stop(None)
            if line is _TOO_LONG:
                if self.budget.bytes_left < 0:
                    raise _Stop(("notebook", None, "the notebook returned more data than the grader accepts"))
                stop("returned a result too large to check")
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                message = None
            if not isinstance(message, dict) or message.get("id") != nonce:
                stop("its code wrote to the grader's channel (the step was abandoned)")
            if "helper" not in message:
                return message
            reply = helpers.answer(message, len(line)) if helpers else {"error": "no helper is available here"}
            if not self._write(reply, end):
                stop(limit if time.monotonic() >= end else None)

    def _write(self, message, end):
        data = memoryview(json.dumps(message).encode() + b"\n")
        while data:
            left = end - time.monotonic()
            if left <= 0 or not select_write(self.requests, left):
                return False
            try:
                data = data[os.write(self.requests, data) :]
            except BlockingIOError:
                continue
            except OSError:  # the runner is gone
                return False
        return True

    def _line(self, end):
        """The next line; None at the deadline, _EOF, or _TOO_LONG past a cap."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > self.cap or self.budget.bytes_left < 0:
                return _TOO_LONG
            left = end - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                return None
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                return _EOF
            self.budget.bytes_left -= len(chunk)
            self.buffer += chunk
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return line

    def close(self):
        self.selector.close()
        for fd in (self.requests, self.replies):
            os.close(fd)


_EOF, _TOO_LONG = object(), object()


def select_write(fd, timeout):
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_WRITE)
        return bool(sel.select(timeout))
