"""The kernel sandbox and the grader's protocol, attacked: every submission here is hostile code in a
notebook whose exercises are the untouched stubs, graded beside a correct classmate. For each attack the
attacker scores what its stubs earn (0), the classmate keeps full marks, every row is written, nothing is
left running, and each notebook ends within its limits."""

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograde import discovery, grade, sandbox
from autograde.__main__ import main as cli
from autograde.lessons import exercises
from autograde.notebooks import add_cell, alternative_sources, lesson_notebook, solved

ROOT = Path(__file__).resolve().parent.parent
NB = "01_kmeans.ipynb"
EXERCISES = {ex.name: ex.points for ex in exercises("kmeans")}
LIMITS = sandbox.Limits(cell_seconds=3, exercise_seconds=3, notebook_seconds=40)
ARGS = {"X": 0, "centroids": 0, "labels": 0}
SECRETS = [
    ROOT / "solutions" / "kmeans.py",
    ROOT / "autograde" / "lessons" / "kmeans.py",
]  # the declarations: hidden cases, wrong code

# Each attack reads the reference by some route; whatever it reads it executes, so that the stubs become the
# reference's functions (full marks) if any route works.
STEAL = """
import os
def steal(read):
    for path in PATHS:
        try:
            source = read(path)
        except Exception:
            continue
        if isinstance(source, bytes):
            source = source.decode()
        if 'def assign_clusters' in source:
            exec(source, globals())
            open(os.path.expanduser('~/stolen'), 'w').write(path)
"""
READS = {
    "absolute-path": "steal(lambda p: open(p).read())",
    "relative-path": "steal(lambda p: open('../' * 12 + p.lstrip('/')).read())",
    "proc-root": "steal(lambda p: open('/proc/self/root' + p).read())",
    "proc-of-the-zygote": "steal(lambda p: open('/proc/1/root' + p).read()); steal(lambda p: open('/proc/2/cwd/../' + p).read())",
    "directory-fd": "import os\nfd = os.open('/', os.O_RDONLY)\nsteal(lambda p: os.read(os.open(p.lstrip('/'), os.O_RDONLY, dir_fd=fd), 10**6))",
    "symlink": "import os\nlink = os.path.expanduser('~/link')\nos.symlink('/', link)\nsteal(lambda p: open(link + p).read())",
    "ctypes-libc": (
        "import ctypes\nlibc = ctypes.CDLL(None)\n"
        "def via_libc(p):\n    fd = libc.open(p.encode(), 0)\n    buf = ctypes.create_string_buffer(10**6)\n"
        "    n = libc.read(fd, buf, 10**6)\n    assert n > 0\n    return buf.raw[:n]\nsteal(via_libc)"
    ),
    "cffi": (
        "import cffi\nffi = cffi.FFI()\nffi.cdef('int open(const char *, int, ...); long read(int, void *, unsigned long);')\n"
        "C = ffi.dlopen(None)\ndef via_cffi(p):\n    fd = C.open(p.encode(), 0)\n    buf = ffi.new('char[]', 10**6)\n"
        "    n = C.read(fd, buf, 10**6)\n    assert n > 0\n    return ffi.buffer(buf, n)[:]\nsteal(via_cffi)"
    ),
    "mmap": (
        "import mmap, os\ndef via_mmap(p):\n    fd = os.open(p, os.O_RDONLY)\n"
        "    return mmap.mmap(fd, 0, prot=mmap.PROT_READ)[:]\nsteal(via_mmap)"
    ),
    "inherited-descriptors": (
        "import os\ndef via_fd(p):\n    for fd in range(3, 1024):\n        try:\n            os.lseek(fd, 0, 0)\n"
        "            data = os.read(fd, 10**6)\n        except OSError:\n            continue\n"
        "        if b'def assign_clusters' in data:\n            return data\n    raise OSError\nsteal(via_fd)"
    ),
    "process-creation": (
        "import os, subprocess, ctypes\n"
        "def via_shell(p):\n    return subprocess.run(['cat', p], capture_output=True).stdout\n"
        "def via_fork(p):\n    pid = ctypes.CDLL(None).syscall(57)\n    return b'' if pid else os._exit(0)\n"
        "def via_spawn(p):\n    os.posix_spawn('/bin/cat', ['cat', p], {})\n    return b''\n"
        "for how in (via_shell, via_fork, via_spawn):\n    steal(how)"
    ),
    "import-from-the-course": (
        "import sys\nsys.path[:0] = [" + repr(str(ROOT)) + "]\n"
        "def via_import(p):\n    import importlib, inspect\n    return inspect.getsource(importlib.import_module('solutions.kmeans'))\n"
        "steal(via_import)"
    ),
}
OTHER_ATTACKS = {
    # the lesson's declarations as the sandbox holds them: the students' copy, with no reference or alternative
    "takes-the-declarations": (
        "import autograde.lessons.kmeans as lesson\n"
        "for _name in ['init_centroids', 'assign_clusters', 'update_centroids', 'compute_distortion', 'kmeans']:\n"
        "    _ex = getattr(lesson, _name)\n"
        "    _fn = _ex.reference or next(iter(_ex.alternatives), None)\n"
        "    if _fn is not None:\n"
        "        globals()[_name] = _fn\n"
    ),
    # the grader's channel: forged replies on every descriptor, with and without the runner's request ids
    "forges-replies": (
        "import os, json\nfor fd in range(3, 64):\n    for text in ['\"done\"', '[1]', '7', '{\"id\": \"x\", \"output\": 2}']:\n"
        "        try:\n            os.write(fd, (text + '\\n').encode())\n        except OSError:\n            pass\n"
    ),
    "reaches-into-the-runner": (
        "import sys, os, json\n"
        "def assign_clusters(X, centroids):\n    f = sys._getframe(1)\n    while f and 'request' not in f.f_locals:\n"
        "        f = f.f_back\n    ident = f.f_locals['request']['id']\n"
        "    for fd in range(3, 64):\n        try:\n"
        "            os.write(fd, (json.dumps({'id': ident, 'output': [0] * 4}) + '\\n' + json.dumps({'id': ident}) + '\\n').encode())\n"
        "        except OSError:\n            pass\n    while True:\n        pass\n"
    ),
    "keeps-the-helpers": (
        "import builtins\n"
        "def kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):\n"
        "    builtins.kept = (assign_clusters, update_centroids, compute_distortion)\n    raise ValueError('kept')\n"
        "def assign_clusters(X, centroids):\n    return builtins.kept[0](X, centroids)\n"
        "def update_centroids(X, labels, centroids):\n    return builtins.kept[1](X, labels, centroids)\n"
        "def compute_distortion(X, centroids, labels):\n    return builtins.kept[2](X, centroids, labels)\n"
    ),
    "signals-everyone": (
        "import os, signal\nfor pid in range(1, 5000):\n    for sig in (signal.SIGKILL, signal.SIGSTOP):\n"
        "        try:\n            os.kill(pid, sig)\n        except OSError:\n            pass\n"
        "try:\n    os.killpg(0, signal.SIGKILL)\nexcept OSError:\n    pass\n"
    ),
    "replaces-shared-files": (
        "import os, glob\nfor path in glob.glob('/course/**/*', recursive=True) + glob.glob('/usr/lib/python3*/**/*.py', recursive=True)[:50]:\n"
        "    for act in (lambda: open(path, 'r+').truncate(0), lambda: os.rename(path, path + '.x'),"
        " lambda: os.remove(path), lambda: open(path, 'w').write('boom')):\n"
        "        try:\n            act()\n        except OSError:\n            pass\n"
    ),
    "fifos-then-crash": (
        "import os\nfor name in ['stdout.txt', '../output.txt', '../stdout.txt', 'gradebook.csv']:\n"
        "    try:\n        os.remove(name)\n    except OSError:\n        pass\n    os.mkfifo(name)\nos._exit(1)\n"
    ),
    "never-reads": (
        "import os, sys, json\n"
        "def kmeans(X, k, max_iters=100, tol=1e-6, rng=None, init=None):\n"
        "    f = sys._getframe(0)\n    while f and 'request' not in f.f_locals:\n        f = f.f_back\n"
        "    ident = f.f_locals['request']['id']\n    X = [[0.0] * 100] * 10000\n"
        "    msg = json.dumps({'id': ident, 'helper': 'assign_clusters', 'args': [X, X], 'kwargs': {}}) + '\\n'\n"
        "    for fd in range(3, 64):\n        try:\n            os.write(fd, msg.encode())\n        except OSError:\n            pass\n"
        "    while True:\n        pass\n"
    ),
    "huge-results": (
        "import numpy as np\n"
        "def assign_clusters(X, centroids):\n    return [float(i) for i in range(2 * 10**7)]\n"
        "def update_centroids(X, labels, centroids):\n    return np.zeros(10**8)\n"
        "def compute_distortion(X, centroids, labels):\n    return 'x' * (10**8)\n"
    ),
    "fills-the-disk": (
        "import os\ni = 0\ntry:\n    while True:\n"
        "        open(os.path.expanduser(f'~/fill{i}'), 'wb').write(b'x' * (900 * 1024))\n        i += 1\nexcept OSError:\n    pass\n"
    ),
    "fork-bomb": (
        "import os, threading, time\n"
        "for _ in range(10000):\n    try:\n        os.fork()\n    except OSError:\n        break\n"
        "threads = []\ntry:\n    for _ in range(100000):\n"
        "        t = threading.Thread(target=time.sleep, args=(1000,), daemon=True)\n        t.start()\n        threads.append(t)\n"
        "except (RuntimeError, MemoryError):\n    pass\n"
    ),
    "memory-bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(10**8))\n",
    "network": (
        "import socket\nfor host in ['127.0.0.1', '10.0.0.1', '8.8.8.8']:\n    try:\n"
        "        socket.create_connection((host, 80), timeout=1)\n    except OSError:\n        pass\n"
    ),
}
ATTACKS = {**{f"reads-{k}": STEAL.replace("PATHS", repr([str(p) for p in SECRETS])) + v for k, v in READS.items()}}
ATTACKS.update(OTHER_ATTACKS)


def attacker(cell):
    """The untouched stubs with the attack in a cell of its own before them, and again after them."""
    nb = add_cell(lesson_notebook(), cell, before_solutions=True)
    return add_cell(nb, cell)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, processes_of):
    """{student: ({exercise: Result}, seconds)} for a class of attackers and correct classmates."""
    folder = tmp_path_factory.mktemp("hostile")
    students = {"classmate-a": solved(), "classmate-b": solved()}
    students.update({name: attacker(cell) for name, cell in ATTACKS.items()})
    paths = {}
    for name, nb in students.items():
        paths[name] = folder / name / NB
        paths[name].parent.mkdir()
        nbformat.write(nb, paths[name])
    grader = grade.Grader(LIMITS)

    def timed(name):
        start = time.monotonic()
        rows = grader.grade(name, NB, paths[name])
        return {r.exercise: r for r in rows}, time.monotonic() - start

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            # the classmates are graded first and last: before and after every attack
            order = ["classmate-a", *ATTACKS, "classmate-b"]
            results = dict(zip(order, pool.map(timed, order)))
        deadline = time.monotonic() + 5  # a killed runner frees its memory before it leaves /proc
        while len(between := processes_of(grader.library.path)) > 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        grader.close()
    assert len(between) <= 2, "a runner outlived its attempt by 5 s (only bubblewrap and the zygote may wait)"
    assert processes_of(grader.library.path) == [], "a process outlived grading"
    assert not (folder / "stolen").exists()
    return results


@pytest.mark.slow
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_scores_what_its_stubs_earn(graded, attack):
    rows, seconds = graded[attack]
    assert set(rows) == set(EXERCISES), "every row is written"
    assert {name: r.score for name, r in rows.items()} == dict.fromkeys(EXERCISES, 0)
    # within the notebook's limit, plus the sandbox's start and restarts
    assert seconds < LIMITS.notebook_seconds + 30


@pytest.mark.slow
def test_classmates_keep_full_marks(graded):
    for name in ("classmate-a", "classmate-b"):
        rows, _ = graded[name]
        assert {n: r.score for n, r in rows.items()} == EXERCISES, name


@pytest.mark.slow
def test_stolen_helpers_never_answer_the_helpers_own_cases(graded):
    rows, _ = graded["keeps-the-helpers"]
    for name in ("assign_clusters", "update_centroids", "compute_distortion"):
        assert "not available" in rows[name].feedback or "kept" in rows[name].feedback, rows[name].feedback


@pytest.fixture(scope="module")
def libraries():
    """library(isolation): one student library (and sandbox) per isolation for this module's tests."""
    made = {}

    def library(isolation="kernel"):
        if isolation not in made:
            made[isolation] = sandbox.Library(isolation)
        return made[isolation]

    yield library
    for library in made.values():
        library.close()


def run_cell(library, source):
    """What `probe()` returns after the cell ran in a runner."""
    cell = source + "\ndef compute_distortion(X, centroids, labels):\n    return probe()\n"
    run = sandbox.run([(0, cell)], [("c", "compute_distortion", ARGS, 0)], library, LIMITS)
    assert run.cell_errors == {}, run.cell_errors
    return run.outputs["c"]


def test_the_sandbox_is_active(tmp_path, libraries):
    """A file outside the sandbox is readable without it and not with it: the isolation is real here."""
    if os.environ.get("CI") or shutil.which("bwrap"):
        sandbox.check_isolation()  # in CI the sandbox must work: no skipping
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    source = f"import os\ndef probe():\n    return os.path.exists({str(secret)!r})\n"
    assert run_cell(libraries("none"), source) is True
    assert run_cell(libraries("kernel"), source) is False


def test_the_runner_has_no_capabilities_no_processes_no_network(libraries):
    source = (
        "import os, socket\n"
        "def probe():\n"
        "    out = [os.getuid(), os.getpid(), os.listdir('/proc')]\n"
        "    for act in (os.fork, lambda: socket.create_connection(('127.0.0.1', 9), 1)):\n"
        "        try:\n            act()\n            out.append('allowed')\n"
        "        except OSError as exc:\n            out.append(type(exc).__name__)\n"
        "    return out\n"
    )
    uid, pid, proc, fork, connect = run_cell(libraries(), source)
    assert uid == 65534 and pid == 1 and proc == []
    assert fork == "PermissionError" and connect != "allowed"


def test_the_disk_is_a_capped_tmpfs(libraries):
    source = (
        "import os\ndef probe():\n    written = 0\n    try:\n        for i in range(1000):\n"
        "            written += open(os.path.expanduser(f'~/f{i}'), 'wb').write(b'x' * (512 * 1024))\n"
        "    except OSError as exc:\n        return [written, exc.errno]\n    return [written, 0]\n"
    )
    written, errno = run_cell(libraries(), source)
    assert errno == 28 and written <= LIMITS.disk_bytes  # ENOSPC


def test_each_runner_sees_nothing_of_another(libraries):
    library = libraries()
    write = "import os\nopen(os.path.expanduser('~/mark'), 'w').write('a'); open('/dev/shm/mark', 'w')\n"
    first = sandbox.run([(0, write)], [("c", "compute_distortion", ARGS, 0)], library, LIMITS)
    look = "import os\ndef compute_distortion(X, centroids, labels):\n    return [os.path.exists(os.path.expanduser('~/mark')), os.listdir('/dev/shm'), os.listdir('/zygote')]\n"
    run = sandbox.run([(0, look)], [("c", "compute_distortion", ARGS, 0)], library, LIMITS)
    assert "Read-only" in first.cell_errors.get(0, "")  # /dev/shm is not a place to leave anything
    assert run.outputs["c"] == [False, [], []]


# ------------------------------------------------------------------ the grader's own defects
def test_an_exercise_limit_above_the_notebook_limit_still_grades_composites(tmp_path):
    # a kmeans built from its helpers: they are answered by the reference while kmeans runs
    path = tmp_path / NB
    nbformat.write(solved(replace={"kmeans": alternative_sources()["kmeans"]}), path)
    grader = grade.Grader(sandbox.Limits(exercise_seconds=200, notebook_seconds=100))
    try:
        rows = grader.grade("s", NB, path)
    finally:
        grader.close()
    assert {r.exercise: r.score for r in rows} == EXERCISES, [r.feedback for r in rows]


def test_the_timeout_option_gives_the_notebook_room():
    limits = grade.limits_for(300)
    assert limits.exercise_seconds == 300 and limits.notebook_seconds >= 3 * 300
    assert grade.limits_for(None) == sandbox.Limits()


def test_a_name_error_inside_a_function_says_which_name_and_where(tmp_path):
    typo = "import numpy as np\n\ndef compute_distortion(X, centroids, labels):\n    return float(np.sum((X - centriods[labels]) ** 2))\n"
    path = tmp_path / NB
    nbformat.write(solved(replace={"compute_distortion": typo}), path)
    grader = grade.Grader(LIMITS)
    try:
        rows = {r.exercise: r for r in grader.grade("s", NB, path)}
    finally:
        grader.close()
    feedback = rows["compute_distortion"].feedback
    assert "NameError: name 'centriods' is not defined" in feedback
    assert "the cell starting `import numpy as np`, line 4" in feedback
    assert "defines no function" not in feedback


def test_a_late_reply_of_the_sandbox_server_is_dropped():
    library = sandbox.Library()
    try:
        zygote = library.zygote(LIMITS)
        start = time.monotonic()
        assert zygote.end(999999) is None  # not a runner of this zygote: answered at once
        assert time.monotonic() - start < 5
        r, w = os.pipe()
        q, v = os.pipe()
        pid = zygote.fork(
            [r, v], {"memory": 1 << 30, "output": 1 << 20, "disk": 1 << 20, "cpu": 60, "library": sandbox.LIBRARY}
        )
        for fd in (r, v):
            os.close(fd)
        with pytest.raises(sandbox.ZygoteGone):  # gives up before the runner's 2 s of grace are over
            zygote._request("end", {"pid": pid, "grace": 2}, 0.2)
        time.sleep(3)
        assert zygote.replies == {} and zygote.pending == set()
        for fd in (w, q):
            os.close(fd)
    finally:
        library.close()


def test_the_sandbox_server_gone_while_a_runner_exits_is_the_submissions_loss(monkeypatch):
    library = sandbox.Library()

    def gone(self, pid, grace=0.0):
        raise sandbox.ZygoteGone("gone")

    try:
        monkeypatch.setattr(sandbox.Zygote, "end", gone)
        cell = "import os\ndef compute_distortion(X, centroids, labels):\n    os._exit(3)\n"
        run = sandbox.run([(0, cell)], [("c", "compute_distortion", ARGS, 0)], library, LIMITS)
    finally:
        monkeypatch.undo()
        library.close()
    assert run.outputs["c"].type_name == "GraderStopped" and "ended" in run.outputs["c"].message


def test_lines_that_are_not_messages_abandon_only_that_step(libraries):
    cell = OTHER_ATTACKS["forges-replies"] + "\ndef compute_distortion(X, centroids, labels):\n    return 1.5\n"
    run = sandbox.run([(0, cell)], [("c", "compute_distortion", ARGS, 0)], libraries(), LIMITS)
    assert "grader's channel" in run.cell_errors[0]
    assert run.outputs["c"].type_name == "Missing"  # the cell was skipped on the next attempt


def test_the_seccomp_program_is_well_formed():
    from autograde._child import AUDIT_ARCH, seccomp_program

    for machine in AUDIT_ARCH:
        prog = seccomp_program(machine)
        for i, (code, jt, jf, _) in enumerate(prog):
            assert code in (0x20, 0x15, 0x35, 0x45, 0x06)
            if code in (0x15, 0x35, 0x45):  # jumps land inside the program
                assert i + 1 + max(jt, jf) < len(prog), f"{machine}: jump {i} leaves the program"
        assert prog[-1][0] == 0x06 and json.dumps(prog)


# ------------------------------------------------------------------ submissions as untrusted bytes
def test_links_fifos_and_huge_files_are_refused_with_a_reason(tmp_path):
    folder = tmp_path / "class"
    for student in ("link", "fifo", "huge", "linked-folder", "fine"):
        (folder / student).mkdir(parents=True)
    nbformat.write(solved(), folder / "fine" / NB)
    (folder / "link" / NB).symlink_to(folder / "fine" / NB)
    os.mkfifo(folder / "fifo" / NB)
    (folder / "huge" / NB).write_bytes(b" " * (21 << 20))
    (folder / "linked-folder").rmdir()
    (folder / "linked-folder").symlink_to(folder / "fine")
    grader = grade.Grader(LIMITS)
    try:
        found, skipped, _ = discovery.survey(folder)
        grader.root = folder
        rows = {s: grader.grade(s, NB, nbs.get(NB)) for s, nbs in found.items()}
    finally:
        grader.close()
    reasons = {s: rs[0].feedback for s, rs in rows.items()}
    assert "symbolic link" in reasons["link"]
    assert skipped == [(folder / "linked-folder", discovery.LINKED)]  # not followed: listed, and no notebook of it
    assert "regular file" in reasons["fifo"] and "20 MB" in reasons["huge"]
    assert all(r.score == 0 for s in ("link", "fifo", "huge", "linked-folder") for r in rows[s])
    assert sum(r.score for r in rows["fine"]) == sum(EXERCISES.values())


def test_without_the_sandbox_grading_refuses_unless_told(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "class"
    (folder / "alice").mkdir(parents=True)
    nbformat.write(solved(), folder / "alice" / NB)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxError, match="apt-get install bubblewrap"):
        sandbox.check_isolation()
    out = tmp_path / "out" / "gradebook.csv"
    assert cli(["grade", str(folder), "--out", str(out)]) == 2
    assert "--isolation none" in capsys.readouterr().err and not out.exists()
    assert cli(["grade", str(folder), "--out", str(out), "--isolation", "none", "--jobs", "1"]) == 0
    assert grade.NOT_ISOLATED in capsys.readouterr().out
    assert grade.NOT_ISOLATED in (out.parent / "feedback" / "alice.md").read_text()
