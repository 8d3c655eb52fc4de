"""The sandbox's side of grading, driven by sandbox.py. Nothing here judges anything.

A zygote, started once per grading run as ``python -I -S _child.py SOCKET_FD PATHS_JSON ISOLATE``
(inside bubblewrap, see sandbox.py), imports the libraries the lessons use and then starts one
runner per attempt on request, so that a runner starts in milliseconds. Zygote requests and replies
are JSON datagrams on a Unix socket, each request with its own id:

    {"fork": id, "limits": {...}} + fds [requests, replies]  ->  {"forked": id, "pid": pid}
    {"end": id, "pid": pid, "grace": seconds}  ->  {"ended": id, "status": exit code, -signal, or null if killed}

With ISOLATE, each runner gets namespaces of its own before any submitted code runs (see
``isolate``): a user namespace, a mount namespace with a fresh size-capped tmpfs as the only
writable place and no /proc, a PID namespace (the runner is its init: when it ends, everything it
started ends), and its own network, IPC and UTS namespaces; then it drops every capability and
installs a seccomp filter (``SYSCALLS``) that refuses new processes, namespaces, mounts, ptrace
and other kernel interfaces no exercise needs, so that rlimits hold even for a root uid.

The runner answers the grader's requests, one JSON line each on its requests pipe, with exactly
one JSON line on its replies pipe, carrying the request's id:

    {"id": i, "cell": source, "name": label}        -> {"id": i} or {"id": i, "error": message, "where": ...}
    {"id": i, "call": name, "kwargs": ..., "seed": k, "uses": [helper, ...]}
        -> {"id": i, "output": ...} or {"id": i, "error": [type, message], "where": ...}

While a call runs, a helper in "uses" is asked of the grader: {"id": i, "helper": name, "args": ...,
"kwargs": ...}, answered on the requests pipe by {"output": ...} or {"error": message}.
"""

import ctypes
import errno
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time

CLONE_THREAD = 0x00010000
NAMESPACES = 0x10000000 | 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000  # user mnt pid net ipc uts
MS_NOSUID, MS_NODEV, MS_RDONLY, MS_REC, MS_PRIVATE = 2, 4, 1, 1 << 14, 1 << 18
# system calls refused to submitted code: new processes, namespaces, mounts, debugging other processes,
# keyrings, BPF, perf, userfaultfd, io_uring, module and kexec loading (x86-64 and aarch64 numbers)
SYSCALLS = {
    "x86_64": {
        "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
        "chroot": 161, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
        "userfaultfd": 323, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
        "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "mount_setattr": 442,
    },
    "aarch64": {
        "execve": 221, "execveat": 281, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
        "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "keyctl": 219,
        "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "pidfd_getfd": 438, "mount_setattr": 442,
    },
}  # fmt: skip
CLONE, CLONE3, IO_URING_SETUP = {"x86_64": 56, "aarch64": 220}, 435, 425
SECCOMP = {"x86_64": 317, "aarch64": 277}
# In the sandbox: the runner's own tmpfs, and the zygote's (the only writable places; not /tmp, under
# which the Python installation itself may be)
HOME, ZYGOTE_HOME = "/student", "/zygote"
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    ulong, ptr = ctypes.c_ulong, ctypes.c_char_p
    libc.prctl.argtypes = [ctypes.c_int, ulong, ulong, ulong, ulong]
    libc.mount.argtypes = [ptr, ptr, ptr, ulong, ptr]
    libc.unshare.argtypes = [ctypes.c_int]
    libc.capset.argtypes = [ptr, ptr]
    libc.syscall.argtypes = [ctypes.c_long, ulong, ulong, ulong]
    return libc


def _check(result, what):
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def seccomp_program(machine):
    """The BPF program of the filter: refuse SYSCALLS (EPERM), clone without CLONE_THREAD (EPERM: threads
    only), clone3 and io_uring (ENOSYS: the C library falls back to clone for threads); kill a process
    that calls with another architecture's numbers (x32, i386)."""
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, eperm, enosys, kill = 0x7FFF0000, 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS, 0x80000000

    def op(code, k, jt=0, jf=0):
        return (code, jt, jf, k)

    denied = sorted(set(SYSCALLS[machine].values()))
    prog = [op(ld, 4), op(jeq, AUDIT_ARCH[machine], 1, 0), op(ret, kill), op(ld, 0)]
    if machine == "x86_64":
        prog.append(op(jge, 0x40000000, 0, 1))  # x32 system calls
        prog.append(op(ret, kill))
    for nr in denied:
        prog += [op(jeq, nr, 0, 1), op(ret, eperm)]
    prog += [op(jeq, CLONE3, 0, 1), op(ret, enosys), op(jeq, IO_URING_SETUP, 0, 1), op(ret, enosys)]
    # clone: its flags are the first argument (the low word at offset 16)
    prog += [op(jeq, CLONE[machine], 0, 4), op(ld, 16), op(jset, CLONE_THREAD, 0, 1), op(ret, allow)]
    return [*prog, op(ret, eperm), op(ret, allow)]


def isolate(limits):
    """In a forked child of the zygote: new namespaces, a fresh tmpfs at HOME; /proc, /dev/shm and the
    zygote's own writable folder hidden (everything else is read-only)."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(NAMESPACES), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    size = f"size={limits['disk']},nr_inodes=4096,mode=0755".encode()
    _check(libc.mount(b"tmpfs", HOME.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, size), f"mount tmpfs {HOME}")
    for hidden in (b"/proc", b"/dev/shm", ZYGOTE_HOME.encode()):  # nothing of the zygote's or another runner's
        _check(libc.mount(b"tmpfs", hidden, b"tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, b"size=4k"), "hide")


def lock_down():
    """In the runner, before submitted code: no capabilities, no new privileges, the seccomp filter."""
    libc = _libc()
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _check(libc.capset(header, bytes(24)), "capset")
    _check(libc.prctl(38, 1, 0, 0, 0), "no_new_privs")  # PR_SET_NO_NEW_PRIVS
    machine = platform.machine()
    if machine not in SYSCALLS:
        raise OSError(f"no seccomp filter for {machine}")
    filters = b"".join(struct.pack("HBBI", *op) for op in seccomp_program(machine))
    buffer = ctypes.create_string_buffer(filters)
    fprog = ctypes.create_string_buffer(struct.pack("HxxxxxxP", len(filters) // 8, ctypes.addressof(buffer)))
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW): without the flag, the kernel adds
    # speculation barriers on every switch to the runner (an indirect-branch barrier costs much on a VM),
    # which made a notebook with many helper calls several times slower; the runner's mitigations are then
    # those of every other process on the machine
    _check(libc.syscall(SECCOMP[machine], 1, 4, ctypes.addressof(fprog)), "seccomp")


def probe():
    """Print "isolated" when a forked child can isolate itself and lock down (check_isolation)."""
    pid = os.fork()
    if pid == 0:
        try:
            isolate({"disk": 1 << 20})
            runner = os.fork()
            if runner:
                _mirror(runner, [])
            lock_down()
            os._exit(0 if not os.listdir("/proc") else 1)
        except BaseException as exc:
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        os._exit(1)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print("isolated" if status == 0 else f"not isolated ({status})")


def prepare():
    """Import what the lessons use, once, in the zygote: the runners inherit it."""
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

    torch.set_num_threads(1)  # no thread pool before fork (the runners are forked from here)

    plt.show = lambda *a, **k: None
    return TransformerManager().transform_cell


def _where(exc):
    """(cell label, line) of the innermost frame of submitted code in exc's traceback, or None."""
    tb, found = exc.__traceback__, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith("<cell "):
            found = [name[1:-1], tb.tb_lineno]
        tb = tb.tb_next
    return found


def _describe(exc, length):
    """[type name, message] of an exception, saying so when the output limit was hit."""
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return ["OSError", "the code printed more than the grader's output limit"]
    return [type(exc).__name__, str(exc)[:length]]


def run_requests(transform, requests, replies):
    """In the runner: answer the grader's requests until it closes the requests pipe."""
    import matplotlib.pyplot as plt

    from autograde.serial import as_tensor_arg, as_tensors, call, decode, encode

    readline, loads, dumps, write = requests.readline, json.loads, json.dumps, os.write

    def send(message):
        data = (dumps(message, allow_nan=False) + "\n").encode()
        while data:
            data = data[write(replies, data) :]

    class NoIPython:  # `get_ipython().run_line_magic(...)` from %magics does nothing here
        def __getattr__(self, name):
            return lambda *a, **k: None

    namespace = {"__name__": "__main__", "get_ipython": NoIPython}

    def helper(ident, name):
        """A composite exercise's helper, answered by the grader while that exercise's call runs."""

        def answer(*args, **kwargs):
            tensors = any(type(v).__name__ == "Tensor" for v in (*args, *kwargs.values()))
            args, kwargs = [as_tensor_arg(a) for a in args], {k: as_tensor_arg(v) for k, v in kwargs.items()}
            send({"id": ident, "helper": name, "args": encode(args), "kwargs": encode(kwargs)})
            reply = loads(readline())
            if "error" in reply:
                raise RuntimeError(reply["error"])
            output = decode(reply["output"])
            return as_tensors(output) if tensors else output  # tensors in, tensors out (no gradient)

        answer.__name__ = name
        return answer

    while True:
        line = readline()
        if not line:
            return
        request = loads(line)
        ident = request["id"]
        if "cell" in request:
            try:
                exec(compile(transform(request["cell"]), f"<{request['name']}>", "exec"), namespace)
            except BaseException as exc:  # a cell's error (even SystemExit) must not stop the others
                send({"id": ident, "error": ": ".join(_describe(exc, 300)), "where": _where(exc)})
            else:
                send({"id": ident})
        else:
            name, uses = request["call"], request["uses"]
            fn = namespace.get(name)
            saved = {u: namespace[u] for u in uses if u in namespace}
            namespace.update({u: helper(ident, u) for u in uses})
            try:
                if not callable(fn):
                    send({"id": ident, "error": ["Missing", name], "where": None})
                else:
                    output = encode(call(fn, decode(request["kwargs"]), request["seed"]))
                    send({"id": ident, "output": output})
            except BaseException as exc:
                send({"id": ident, "error": _describe(exc, 500), "where": _where(exc)})
            for u in uses:
                namespace.pop(u, None)
            namespace.update(saved)
        plt.close("all")
        sys.stdout.flush()


def start_runner(sock, request, fds, transform, isolated):
    """Fork one runner for a request (in isolation, through a child that holds its namespaces);
    return the pid the zygote waits for. In the forked processes, never return."""
    limits = request["limits"]
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        os.setsid()  # its own process group (what --isolation none kills)
        os.close(sock.detach())
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if isolated:
            isolate(limits)
            runner = os.fork()  # the runner: init of the new PID namespace
            if runner:
                _mirror(runner, fds)
        requests, replies = fds
        home = limits["home"]
        os.makedirs(f"{home}/notebooks")
        for part in ("data", "img"):
            os.symlink(f"{limits['library']}/{part}", f"{home}/{part}")
        os.chdir(f"{home}/notebooks")
        out = os.open(f"{home}/output.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.environ["HOME"] = os.environ["TMPDIR"] = home
        tempfile.tempdir = None  # tempfile finds TMPDIR again
        for which, value in (
            (resource.RLIMIT_AS, limits["memory"]),
            (resource.RLIMIT_FSIZE, limits["output"]),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_NOFILE, 256),
            (resource.RLIMIT_NPROC, 256),
            (resource.RLIMIT_CPU, limits["cpu"]),
        ):
            resource.setrlimit(which, (value, value))
        if isolated:
            lock_down()
        run_requests(transform, os.fdopen(requests, "rb"), replies)
    except BaseException:  # whatever happens, a forked process never returns into the zygote's loop
        code = 70
    os._exit(code)


def _mirror(runner, fds):
    """The holder of the runner's namespaces: wait for the runner and exit as it did. SIGTERM kills
    the runner, and with it, as it is their namespace's init, every process it started."""
    for fd in fds:
        os.close(fd)
    handle = os.pidfd_open(runner)  # no pid reuse: the runner is not reaped before this ends

    def kill(signum, frame):
        try:
            signal.pidfd_send_signal(handle, signal.SIGKILL)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, kill)
    status = os.waitstatus_to_exitcode(os.waitpid(runner, 0)[1])
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


def serve(sock_fd, paths, isolated):
    """The zygote: start a runner per request; report how each ended, then reap it."""
    sys.path[:0] = paths
    transform = prepare()
    sock = socket.socket(fileno=sock_fd)
    sock.send(json.dumps({"ready": os.getpid()}).encode())
    children, homes = set(), {}  # every runner not reaped yet; its working folder
    ending = {}  # pid -> (request id, deadline): the grader is done with it (grace 0) or waits for its exit
    while True:
        ready, _, _ = select.select([sock], [], [], 0.01 if ending else None)
        if ready:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 2)
            if not data:  # the grader is gone (even killed mid-attempt): end every runner, then stop
                for pid in children:
                    _end(pid, 0, isolated)
                for home in homes.values():
                    _remove(home, isolated)
                return
            request = json.loads(data)
            if "fork" in request:
                # a runner works in its own tmpfs (isolated), or in a new folder of its own
                request["limits"]["home"] = HOME if isolated else tempfile.mkdtemp(prefix="autograde-run-")
                pid = start_runner(sock, request, fds, transform, isolated)
                homes[pid] = request["limits"]["home"]
                children.add(pid)
                for fd in fds:
                    os.close(fd)
                sock.send(json.dumps({"forked": request["fork"], "pid": pid}).encode())
            elif "end" in request and request["pid"] in children:
                ending[request["pid"]] = (request["end"], time.monotonic() + request["grace"])
            elif "end" in request:  # ended and reaped already
                sock.send(json.dumps({"ended": request["end"], "status": None}).encode())
        for pid, (ident, deadline) in list(ending.items()):
            status = _end(pid, deadline - time.monotonic(), isolated)
            if status is not _end.WAITING:
                del ending[pid]
                children.discard(pid)
                _remove(homes.pop(pid), isolated)
                sock.send(json.dumps({"ended": ident, "status": status}).encode())


def _remove(home, isolated):
    if not isolated:  # an isolated runner's tmpfs went with its mount namespace
        shutil.rmtree(home, ignore_errors=True)


def _end(pid, left, isolated):
    """Peek at a child's exit without reaping it; once it has exited or its grace is over, kill it
    (in isolation, its runner and so its whole PID namespace; otherwise its process group) and reap it."""
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
    if isolated and info is None:
        os.kill(pid, signal.SIGTERM)  # the holder kills the runner, then exits
        for _ in range(500):
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                break
            time.sleep(0.01)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    os.waitpid(pid, 0)
    return status


_end.WAITING = object()


if __name__ == "__main__":
    serve(int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3] == "1")
