"""Runs submissions' code in separate, locked-down processes (driven by sandbox.py).

A zygote, started once per grading run as ``python -I -S _child.py SOCKET_FD PATHS_JSON``, imports
the libraries the lessons use and then forks one child per attempt, on request over a Unix socket
(so a child starts in milliseconds, not seconds). Requests and replies are JSON datagrams:

    {"fork": id, "cwd": ..., "home": ..., "memory": bytes, "output": bytes} + fds [stdin, events, stdout]
        -> {"forked": id, "pid": pid}
    {"end": pid, "grace": seconds}  -> {"ended": pid, "status": exit code, -signal, or null if killed}

The child reads its job (cells, calls, read and write roots) as one JSON line on stdin and
writes one JSON line per event to the events descriptor: {"cell": i}, {"cell": i, "error": ...},
{"call": id}, {"call": id, "output": ...} or {"call": id, "error": [type, message]}, then
{"done": true}. Nothing here judges anything: the parent compares the outputs.
"""

import errno
import json
import os
import resource
import select
import signal
import socket
import sys
import time


def _audit_guard(read_roots, write_roots):
    """An audit hook (it cannot be removed) that keeps the submission inside its folder:
    no writes outside it, no reads outside the allowed roots, no processes, no signals, no
    sockets, no ctypes, no rewriting of this hook."""
    _str, _isinstance, _tuple, _bytes, _fspath = str, isinstance, tuple, bytes, os.fspath
    _cwd = os.getcwd
    _RuntimeError = RuntimeError
    _sep = "/"
    denied = (
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "socket.",
        "ctypes.",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "os.symlink",
        "os.link",
        "pty.",
        "resource.setrlimit",
        "resource.prlimit",
        "os.chroot",
        "os.setuid",
        "os.setgid",
        "os.chmod",
        "os.chown",
        "os.truncate",
    )
    writes = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.utime", "os.replace", "os.unlink")

    def normal(path):
        if _isinstance(path, _bytes):
            path = path.decode("utf-8", "replace")
        path = _str(path)
        if not path.startswith(_sep):
            path = _cwd() + _sep + path
        parts = []
        for part in path.split(_sep):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return _sep + _sep.join(parts)

    def inside(path, roots):
        for root in roots:
            if path == root or path.startswith(root + _sep):
                return True
        return False

    def hook(event, args):
        if event == "open":
            path, mode = args[0], args[1]
            if _isinstance(path, int) or path is None:
                return
            path = normal(path)
            writing = mode is not None and (
                _isinstance(mode, _str) and ("w" in mode or "a" in mode or "+" in mode or "x" in mode)
            )
            flags = args[2] if len(args) > 2 else 0
            if _isinstance(flags, int) and flags & 3:  # os.O_WRONLY / os.O_RDWR
                writing = True
            roots = write_roots if writing else read_roots
            if not inside(path, roots):
                raise PermissionError(f"the grader does not allow {'writing' if writing else 'reading'} {path}")
        elif event in ("os.listdir", "os.scandir") and args and args[0] is not None and not _isinstance(args[0], int):
            if not inside(normal(args[0]), read_roots):
                raise PermissionError("the grader does not allow listing that folder")
        elif event == "object.__setattr__" and args and args[0] is hook:
            raise _RuntimeError("the grader's guard cannot be changed")
        elif event.startswith(writes):
            for path in args[:2]:
                if _isinstance(path, (_str, _bytes)) and not inside(normal(path), write_roots):
                    raise PermissionError(f"the grader does not allow changing {normal(path)}")
        elif event.startswith(denied):
            raise _RuntimeError(f"the grader does not allow {event}")

    sys.addaudithook(hook)


def prepare():
    """Import what the lessons use, once, in the zygote: the children inherit it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy  # noqa: F401
    import scipy.special
    import scipy.stats  # noqa: F401
    import torch
    from IPython.core.inputtransformer2 import TransformerManager

    import autograde.checker
    import autograde.serial  # noqa: F401
    import helpers  # noqa: F401  (the course's own, as every notebook's first cell imports it)

    torch.set_num_threads(1)  # no thread pool before fork (the children are forked from here)

    plt.show = lambda *a, **k: None
    return TransformerManager().transform_cell


def run_job(transform, channel):
    """In a forked child: read the job, lock the process down, run the cells and the calls."""
    import matplotlib.pyplot as plt

    from autograde.serial import as_tensor_arg, as_tensors, call, decode, encode

    requests = sys.stdin
    job = json.loads(requests.readline())
    write, dumps = os.write, json.dumps

    def send(message):
        data = (dumps(message, allow_nan=False) + "\n").encode()
        while data:
            data = data[write(channel, data) :]

    _audit_guard(job["read_roots"], job["write_roots"])

    class NoIPython:  # `get_ipython().run_line_magic(...)` from %magics does nothing here
        def __getattr__(self, name):
            return lambda *a, **k: None

    namespace = {"__name__": "__main__", "get_ipython": NoIPython}
    for index, source in job["cells"]:
        send({"cell": index})
        try:
            exec(compile(transform(source), f"<cell {index}>", "exec"), namespace)
        except BaseException as exc:  # a cell's error (even SystemExit) must not stop the others
            send({"cell": index, "error": ": ".join(_describe(exc, 300))})
        plt.close("all")
    readline, loads = requests.readline, json.loads

    def oracle(name):
        """While a composite exercise runs, its helper exercises are answered by the grader (so a
        mistake in a helper costs only that helper's points); the grader refuses at any other time."""

        def answer(*args, **kwargs):
            tensors = any(type(v).__name__ == "Tensor" for v in (*args, *kwargs.values()))
            args, kwargs = [as_tensor_arg(a) for a in args], {k: as_tensor_arg(v) for k, v in kwargs.items()}
            send({"oracle": name, "args": encode(args), "kwargs": encode(kwargs)})
            reply = loads(readline())
            if "error" in reply:
                raise RuntimeError(reply["error"])
            output = decode(reply["output"])
            return as_tensors(output) if tensors else output  # tensors in, tensors out (no gradient)

        answer.__name__ = name
        return answer

    for call_id, name, kwargs, uses in job["calls"]:
        send({"call": call_id})
        fn = namespace.get(name)
        saved = {u: namespace[u] for u in uses if u in namespace}
        namespace.update({u: oracle(u) for u in uses})
        try:
            if not callable(fn):
                raise NameError(f"the notebook defines no function called {name}")
            # ids end with the call's index in its case: torch's seed, as in the notebook's check
            output = encode(call(fn, decode(kwargs), int(str(call_id).rpartition("/")[2] or 0)))
        except BaseException as exc:
            send({"call": call_id, "error": _describe(exc, 500)})
        else:
            send({"call": call_id, "output": output})
        for u in uses:
            namespace.pop(u, None)
        namespace.update(saved)
        plt.close("all")
    send({"done": True})
    sys.stdout.flush()


def _describe(exc, length):
    """[type name, message] of an exception, saying so when the output limit was hit."""
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        return ["OSError", f"the code printed more than the grader's output limit of {limit:,} bytes"]
    return [type(exc).__name__, str(exc)[:length]]


def start_child(sock, request, fds, transform):
    """Fork one child for a request; in the child, never return."""
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        os.setsid()  # its own process group: the grader kills the whole group afterwards
        os.close(sock.detach())
        stdin, channel, stdout = fds
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stdout, 2)
        for fd in (stdin, stdout):
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (request["output"], request["output"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.chdir(request["cwd"])
        os.environ["HOME"] = request["home"]
        run_job(transform, channel)
    except BaseException:  # whatever happens, the child never returns into the zygote's loop
        code = 70
    os._exit(code)


def serve(sock_fd, paths):
    """The zygote: fork a child per request; report how each ended, then reap it."""
    sys.path[:0] = paths
    transform = prepare()
    sock = socket.socket(fileno=sock_fd)
    sock.send(json.dumps({"ready": os.getpid()}).encode())
    children = set()  # every child not reaped yet
    ending = {}  # pid -> deadline: the grader is done with it (grace 0) or waits for its exit
    while True:
        ready, _, _ = select.select([sock], [], [], 0.01 if ending else None)
        if ready:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
            if not data:  # the grader is gone (even killed mid-attempt): end every child, running or not, then stop
                for pid in children:
                    _end(pid, 0)
                return
            request = json.loads(data)
            if "fork" in request:
                pid = start_child(sock, request, fds, transform)
                children.add(pid)
                for fd in fds:
                    os.close(fd)
                sock.send(json.dumps({"forked": request["fork"], "pid": pid}).encode())
            elif "end" in request:
                ending[request["end"]] = time.monotonic() + request["grace"]
        for pid, deadline in list(ending.items()):
            status = _end(pid, deadline - time.monotonic())
            if status is not _end.WAITING:
                del ending[pid]
                children.discard(pid)
                sock.send(json.dumps({"ended": pid, "status": status}).encode())


def _end(pid, left):
    """Peek at a child's exit without reaping it; once it has exited or its grace is over, kill
    its process group (before reaping, so the group id cannot have been reused) and reap it."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # not a child of this zygote (any more)
        return None
    if info is None and left > 0:
        return _end.WAITING
    if info is None:
        status = None
    elif info.si_code == os.CLD_EXITED:
        status = info.si_status
    else:
        status = -info.si_status
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    os.waitpid(pid, 0)
    return status


_end.WAITING = object()


if __name__ == "__main__":
    serve(int(sys.argv[1]), json.loads(sys.argv[2]))
