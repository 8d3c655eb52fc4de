"""Driving the lessons in a real browser: a throwaway JupyterLab server and headless Chromium through Playwright.

Used by tests/test_browser.py. Nothing here touches the user's Jupyter files: the server's runtime,
config, data, settings and workspace folders all live in a temporary folder, and the browser is the
system's Chromium (no browser download).

The pieces are independent, so that a test can also open a page without a server (an nbconvert HTML
export as a file:// page, for example) with :func:`launch_chromium` and :func:`image_bytes`.
"""

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"

INSTALL_HINT = "install it with `sudo apt-get install chromium` (Debian), or set CHROMIUM to a Chromium binary"

# Headless Chromium as a test browser: no sandbox (containers, root in CI), no GPU, and nothing that
# phones home (component updates, sync, QUIC probes), so that the page's console holds only the page's own messages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # small /dev/shm in containers: shared memory goes to /tmp
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Widget outputs that did not render: the manager's error box, or the text/plain fallback of a widget
# (what a notebook shows where no widget manager runs: "VBox(children=(HBox(...")
WIDGET_FAILURE = re.compile(
    r"Error (?:displaying|rendering) widget"
    r"|\b(?:VBox|HBox|IntSlider|FloatSlider|Play|Image)\((?:children|value)="
)


def on_ci():
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_chromium():
    """Path of the system Chromium ($CHROMIUM, else chromium or chromium-browser on PATH); None if there is none."""
    candidates = [os.environ.get("CHROMIUM")] if os.environ.get("CHROMIUM") else ["chromium", "chromium-browser"]
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    return None


def launch_chromium(playwright, executable):
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


# ------------------------------------------------------------------ the server
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1: never through a proxy


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 serving root, with its own Jupyter folders under workdir.

    The kernel inherits ``env`` (on top of this process's environment). Windowing is off (every cell
    of a notebook is in the page, as the tests read all of them), and so are the news feed, the
    update check and the build check, which would reach out or spend seconds on every page.
    """

    def __init__(self, root, workdir, env=None, timeout=120):
        self.root, self.workdir = Path(root), Path(workdir)
        self.token = secrets.token_hex(16)
        self.env = env or {}
        self.timeout = timeout
        self.process = None
        self.base = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _write_settings(self):
        dirs = {
            name: self.workdir / name for name in ("runtime", "config", "data", "ipython", "settings", "workspaces")
        }
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        settings = {
            "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        }
        for plugin, values in settings.items():
            path = dirs["settings"] / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        (dirs["config"] / "labconfig").mkdir(exist_ok=True)
        (dirs["config"] / "labconfig" / "page_config.json").write_text(
            json.dumps({"buildCheck": False, "buildAvailable": False})
        )
        return dirs

    def start(self):
        dirs = self._write_settings()
        env = dict(os.environ)
        env.update(
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            IPYTHONDIR=str(dirs["ipython"]),
            **self.env,
        )
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_TOKEN", None)
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",  # CI containers run as root
            "--ip=127.0.0.1",
            "--port=0",  # any free port: read back from the runtime file
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            f"--LabApp.workspaces_dir={dirs['workspaces']}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        self.log_path = self.workdir / "server.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, env=env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}:\n{self.log_tail()}")
            for info_file in dirs["runtime"].glob("jpserver-*.json"):
                with contextlib.suppress(ValueError, OSError):  # being written
                    info = json.loads(info_file.read_text())
                    if info.get("pid") == self.process.pid and self._ready(info["url"]):
                        self.base = info["url"].rstrip("/")
                        return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"JupyterLab did not start within {self.timeout} s:\n{self.log_tail()}")

    def _ready(self, url):
        try:
            self.api("GET", "/api/status", base=url.rstrip("/"))
        except OSError:
            return False
        return True

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # the server shuts its kernels down
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, n=40):
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def api(self, method, path, base=None):
        request = urllib.request.Request(
            (base or self.base) + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with _DIRECT.open(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def url(self, workspace):
        """The page of a fresh (reset) workspace: the file browser and a launcher, no notebook open."""
        return f"{self.base}/lab/workspaces/{workspace}?reset&token={self.token}"

    def shut_down(self, path=None):
        """Shut down the kernel sessions of the notebook at path (relative to root), or all of them."""
        for session in self.api("GET", "/api/sessions"):
            if path is None or session.get("path") == str(path):
                self.api("DELETE", f"/api/sessions/{session['id']}")


# ------------------------------------------------------------------ pages
# The prompts of the code cells that hold code ("[3]:" once run), the outputs that hold a traceback, and
# the text of a dialog if one is open (the kernel died, for instance).
_CELL_STATE = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')]
    .filter(cell => (cell.querySelector('.jp-InputArea-editor')?.textContent ?? '').trim() !== '');
  const prompts = cells.map(cell => (cell.querySelector('.jp-InputPrompt')?.textContent ?? '').trim());
  const errors = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
    .map(output => output.textContent)
    .filter(text => text.includes('Traceback (most recent call last)'));
  const dialog = document.querySelector('.jp-Dialog')?.innerText ?? null;  // "Kernel Restarting", ...
  return {prompts, errors, dialog, ran: prompts.length > 0 && prompts.every(prompt => /^\\[\\d+\\]:$/.test(prompt))};
}"""

_IMAGE_BYTES = """async img => {
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}"""


def image_bytes(img):
    """The bytes that an <img> shows (a blob: or data: URL, as ipywidgets.Image sets): what the user sees."""
    return base64.b64decode(img.evaluate(_IMAGE_BYTES))


def wait_until(page, condition, timeout, message):
    """Poll condition() until it is true; AssertionError(message) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        page.wait_for_timeout(100)


class LabPage:
    """A JupyterLab page that opens notebooks one at a time, from its menus, as a student would.

    ``errors`` collects what the page logs as an error (console.error, uncaught exceptions) from
    the moment the page is made.
    """

    def __init__(self, page):
        self.page = page
        self.errors = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message):
        location = message.location or {}
        url = location.get("url", "")
        # JupyterLab's Markdown renderer lets the browser try an image's attachment: URL before it swaps in the
        # attachment's data (the test of the lessons' figures checks that they do load)
        if message.type == "error" and not url.startswith("attachment:"):
            self.errors.append(f"console.error: {message.text} ({url})")

    @property
    def kernel_status(self):
        """The status bar's kernel item once it reads Idle (for the notebook in view)."""
        return self.page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$"))

    def load(self, url, timeout=90):
        """Load JupyterLab and wait for its file browser to list the server's root."""
        self.page.goto(url, timeout=timeout * 1000)
        self.page.locator(".jp-DirListing-item").first.wait_for(timeout=timeout * 1000)

    def menu(self, menu, item):
        """Click menu in the menu bar, then the item whose label starts with item."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}")).click()

    def open_notebook(self, path, timeout=90):
        """File > Open from Path...; wait for the notebook's kernel to start and be idle."""
        self.menu("File", "Open from Path")
        field = self.page.locator(".jp-Dialog input")
        field.fill(str(path))
        field.press("Enter")
        self.page.locator(".jp-NotebookPanel").wait_for(timeout=timeout * 1000)
        self.kernel_status.wait_for(timeout=timeout * 1000)

    def close_notebook(self, timeout=30):
        """File > Close Tab, discarding the outputs (the kernel goes on: shut it down with the server's API)."""
        self.menu("File", "Close Tab")
        self.page.locator(".jp-Dialog").get_by_role("button", name="Discard").click(timeout=timeout * 1000)
        self.page.locator(".jp-NotebookPanel").wait_for(state="detached", timeout=timeout * 1000)

    def run_all(self, timeout):
        """Run > Run All Cells; wait until every code cell has an execution count and the kernel is
        idle. AssertionError at the first traceback."""
        self.menu("Run", "Run All Cells")
        deadline = time.monotonic() + timeout
        while True:
            state = self.page.evaluate(_CELL_STATE)
            assert not state["errors"], "a cell failed:\n" + state["errors"][0][-3000:]
            assert not state["dialog"], f"JupyterLab opened a dialog while the cells ran: {state['dialog']}"
            if state["ran"]:
                break
            assert time.monotonic() < deadline, f"the cells did not all run within {timeout} s: {state['prompts']}"
            self.page.wait_for_timeout(200)
        self.kernel_status.wait_for(timeout=timeout * 1000)

    def notebook_text(self):
        return self.page.locator(".jp-Notebook").inner_text()

    def wait_image_changed(self, img, before, timeout=60, quiet=0.5):
        """After a slider move: wait until img's src differs from before, then until it stays the same
        for quiet seconds with the kernel idle (every render asked for has arrived). Return the src."""
        deadline = time.monotonic() + timeout
        src = img.get_attribute("src")
        while src == before:
            assert time.monotonic() < deadline, f"the figure did not change within {timeout} s of moving the slider"
            self.page.wait_for_timeout(100)
            src = img.get_attribute("src")
        stable_since = time.monotonic()
        while time.monotonic() - stable_since < quiet or not self.kernel_status.is_visible():
            assert time.monotonic() < deadline, f"the figure did not settle within {timeout} s"
            self.page.wait_for_timeout(100)
            now = img.get_attribute("src")
            if now != src:
                src, stable_since = now, time.monotonic()
        return src
