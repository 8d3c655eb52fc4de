"""Runs one submission's code in a separate, locked-down process (started by sandbox.py).

Reads the job (paths, cells, calls) as JSON from stdin, writes one JSON line per event to the
file descriptor given in argv[1]: {"cell": i}, {"cell": i, "error": ...}, {"call": id},
{"call": id, "output": ...} or {"call": id, "error": [type, message]}, then {"done": true}.
Nothing here judges anything: the parent compares the outputs.
"""

import json
import os
import sys


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


def main():
    requests = sys.stdin
    job = json.loads(requests.readline())
    sys.path[:0] = job["paths"]
    channel = int(sys.argv[1])
    write, dumps = os.write, json.dumps

    def send(message):
        data = (dumps(message, allow_nan=False) + "\n").encode()
        while data:
            data = data[write(channel, data) :]

    # Libraries the lessons use are imported before the guard: their own set-up needs no exception.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy  # noqa: F401
    import scipy.special
    import scipy.stats  # noqa: F401
    from IPython.core.inputtransformer2 import TransformerManager

    from autograde.serial import decode, encode, materialize

    transform = TransformerManager().transform_cell
    plt.show = lambda *a, **k: None
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
            send({"cell": index, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
        plt.close("all")
    readline, loads = requests.readline, json.loads

    def oracle(name):
        """While a composite exercise runs, its helper exercises are answered by the grader (so a
        mistake in a helper costs only that helper's points); the grader refuses at any other time."""

        def answer(*args, **kwargs):
            send({"oracle": name, "args": encode(list(args)), "kwargs": encode(kwargs)})
            reply = loads(readline())
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return decode(reply["output"])

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
            output = encode(fn(**materialize(decode(kwargs))))
        except BaseException as exc:
            send({"call": call_id, "error": [type(exc).__name__, str(exc)[:500]]})
        else:
            send({"call": call_id, "output": output})
        for u in uses:
            namespace.pop(u, None)
        namespace.update(saved)
        plt.close("all")
    send({"done": True})
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
