"""The lessons' slider widgets in a real browser: JupyterLab in headless Chromium.

For every lesson whose notebook builds a slider widget (a stepper, the latent explorer), the solved
notebook is opened in JupyterLab, run with Run > Run All Cells, and its widget is used as a student
uses it: the slider moves with the keyboard and with the mouse, the figure changes, and moving back
shows the very same image again. The page must not show a widget error or a widget's text fallback
("VBox(children=...") and must log no error. Lesson 1 is also run with its stubs and with a catalogued
mistake: Run All must reach its last cell.

One server, one browser and one JupyterLab page serve all the notebooks, opened and closed in turn
from the File menu. Screenshots of each widget (at the start, moved, dragged to the end) go to
tests/artifacts/browser/ (not committed), with timings.json and the server's log.

Needs the system Chromium (no browser download): without it the test skips, except in CI (CI=true),
where it fails; .ci/run installs Chromium first.

The ``browser`` fixture does not need the server: a test of a page without a kernel (an nbconvert HTML
export opened as file://) takes ``browser``, opens the file with ``browser.new_page().goto(path.as_uri())``
and compares frames with ``tests.browser.image_bytes``.
"""

import contextlib
import json
import re
import shutil
import time

import nbformat
import pytest

from autograde.lessons import NOTEBOOKS
from autograde.notebooks import NOTEBOOK_DIR, lesson_notebook, mistaken_sources, read, solved, write_solved
from tests.browser import (
    ARTIFACTS,
    INSTALL_HINT,
    ROOT,
    WIDGET_FAILURE,
    JupyterLab,
    LabPage,
    find_chromium,
    image_bytes,
    launch_chromium,
    on_ci,
    wait_until,
)

# A code cell that builds a widget: kmeans_stepper(...), Stepper(...), LatentExplorer(...)
WIDGET_CELL = re.compile(r"\b(?:\w+_stepper|Stepper|\w*Explorer)\(")
# The lessons known to have a slider widget; a notebook that lost its widget fails below.
SLIDER_LESSONS = ("kmeans", "em_1d", "gmm", "general_em", "vae")


def builds_a_widget(nb):
    return any(cell.cell_type == "code" and WIDGET_CELL.search(cell.source) for cell in nb.cells)


WIDGET_LESSONS = [key for key, name in NOTEBOOKS.items() if builds_a_widget(read(NOTEBOOK_DIR / name))]

KERNEL_ENV = {
    "FAST": "1",  # the notebooks run small
    # one thread each: small matrices, and a shared 2-core machine where threads only contend
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}
# Run All in other states than solved: lesson 1 as handed out, and with argmax for argmin in assign_clusters
STATE_LESSON = "kmeans"
STATES = {
    "stub": lambda: lesson_notebook(STATE_LESSON),
    "mistake": lambda: solved(
        STATE_LESSON, {"assign_clusters": mistaken_sources(STATE_LESSON)["assign_clusters", "argmax"]}
    ),
}
STATE_SAYS = {"stub": "✘ assign_clusters: not implemented yet", "mistake": "Mistake: argmax instead of argmin."}
RUN_TIMEOUT = 300  # seconds for Run All Cells of one notebook
SETTLE = 30  # seconds for the figure to follow the slider
PNG = b"\x89PNG\r\n\x1a\n"


def test_every_slider_lesson_is_tested():
    missing = [key for key in SLIDER_LESSONS if key in NOTEBOOKS and key not in WIDGET_LESSONS]
    assert not missing, f"no cell builds a slider widget in the notebooks of {missing}"


# ------------------------------------------------------------------ fixtures
def _unavailable(message):
    if on_ci():
        pytest.fail(f"{message} (CI must run the browser test: .ci/run installs Chromium)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium():
    """Path of the system Chromium; skips (fails on CI) when there is none."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed: `pip install -r requirements.txt` (or `make test`)")
    path = find_chromium()
    if path is None:
        _unavailable(f"Chromium not found, which the browser test of the slider widgets needs: {INSTALL_HINT}")
    return path


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = launch_chromium(playwright, chromium)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    """JupyterLab serving a copy of the course: solved notebooks in notebooks/, the figures in img/."""
    work = tmp_path_factory.mktemp("browser")
    course = work / "course"
    write_solved(course / "notebooks")
    (course / "notebooks" / "states").mkdir()
    for state, nb in STATES.items():  # one folder down: a relative ../img/ link would not resolve there
        nbformat.write(nb(), course / "notebooks" / "states" / f"{state}-{NOTEBOOKS[STATE_LESSON]}")
    shutil.copytree(ROOT / "img", course / "img")
    server = JupyterLab(course, work / "jupyter", env=KERNEL_ENV)
    with server:
        yield server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(server.log_path, ARTIFACTS / "server.log")


class Lessons:
    """One JupyterLab page in which the lessons' notebooks are opened, run and closed in turn.

    A fresh page replaces it after a failure, so that one broken notebook does not fail the next.
    """

    def __init__(self, lab, browser):
        self.lab, self.browser = lab, browser
        self.lab_page = None
        self.timings = {}

    def page(self):
        if self.lab_page is None:
            started = time.monotonic()
            page = self.browser.new_page(viewport={"width": 1400, "height": 1000})
            self.lab_page = LabPage(page)
            self.lab_page.load(self.lab.url("browser-test"))
            self.timings.setdefault("load_jupyterlab", []).append(time.monotonic() - started)
        return self.lab_page

    def discard(self):
        """Drop the page (after a failure) and shut down whatever kernel it left running."""
        if self.lab_page is not None:
            with contextlib.suppress(Exception):
                self.lab_page.page.close()
            self.lab_page = None
        self.lab.shut_down()


@pytest.fixture(scope="module")
def lessons(lab, browser):
    started = time.monotonic()
    opened = Lessons(lab, browser)
    yield opened
    opened.discard()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = {"total_s": round(time.monotonic() - started, 1)} | {
        name: [round(s, 1) for s in value] if isinstance(value, list) else {k: round(s, 1) for k, s in value.items()}
        for name, value in opened.timings.items()
    }
    (ARTIFACTS / "timings.json").write_text(json.dumps(summary, indent=2) + "\n")


# ------------------------------------------------------------------ the test
def check_slider(lab_page, widget, name):
    """Move the widget's first slider a step right and back with the keyboard, then drag it to its end."""
    page = lab_page.page
    img = widget.locator(":scope > img.widget-image")
    handle = widget.locator(".widget-slider .noUi-handle").first
    readout = widget.locator(".widget-slider .widget-readout").first

    def value():  # as the readout shows it (the handle's aria-valuenow is rounded to one decimal)
        return float(readout.inner_text())

    widget.scroll_into_view_if_needed()
    src = img.get_attribute("src")
    assert src, "the widget shows no image"
    start, start_value = image_bytes(img), value()
    assert start.startswith(PNG), "the widget's image is not a PNG"
    widget.screenshot(path=ARTIFACTS / f"{name}-start.png")

    # one step to the right with the arrow key
    handle.focus()
    handle.press("ArrowRight")
    src = lab_page.wait_image_changed(img, src, SETTLE)
    moved = image_bytes(img)
    assert value() > start_value, "the slider did not move"
    assert moved.startswith(PNG) and moved != start, "the figure is the same after moving the slider"
    widget.screenshot(path=ARTIFACTS / f"{name}-moved.png")

    # and back: the first figure again, byte for byte
    handle.press("ArrowLeft")
    src = lab_page.wait_image_changed(img, src, SETTLE)
    assert value() == start_value, "the slider did not move back"
    # (polled: on a busy machine a render may still be on its way when the page looks settled)
    wait_until(page, lambda: image_bytes(img) == start, SETTLE, "moving the slider back did not restore the figure")

    # drag the handle with the mouse past the end of the track
    box = handle.bounding_box()
    track = widget.locator(".widget-slider .noUi-base").first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] + 30, y, steps=3)
    page.mouse.up()
    lab_page.wait_image_changed(img, src, SETTLE)
    assert value() == float(handle.get_attribute("aria-valuemax")), "dragging the slider did not reach its end"
    end = image_bytes(img)
    assert end.startswith(PNG) and end not in (start, moved), "the figure did not follow the dragged slider"
    widget.screenshot(path=ARTIFACTS / f"{name}-end.png")


@pytest.mark.browser
@pytest.mark.parametrize("key", WIDGET_LESSONS)
def test_slider_redraws_the_figure_in_jupyterlab(key, lessons):
    stem = NOTEBOOKS[key].removesuffix(".ipynb")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{stem}-failure.png").unlink(missing_ok=True)
    lab_page = lessons.page()
    timings = lessons.timings[key] = {}
    try:
        started = time.monotonic()
        lab_page.open_notebook(f"notebooks/{NOTEBOOKS[key]}")
        timings["open"] = time.monotonic() - started
        started = time.monotonic()
        lab_page.run_all(RUN_TIMEOUT)
        timings["run_all"] = time.monotonic() - started

        started = time.monotonic()
        widgets = lab_page.page.locator(
            ".jp-OutputArea-output .widget-vbox:has(> img.widget-image):has(.widget-slider)"
        )
        widgets.first.wait_for(timeout=SETTLE * 1000)
        failure = WIDGET_FAILURE.search(lab_page.notebook_text())
        assert failure is None, f"a widget did not render: the page shows {failure and failure[0]!r}"
        for i in range(widgets.count()):
            check_slider(lab_page, widgets.nth(i), f"{stem}-{i}")
        timings["sliders"] = time.monotonic() - started

        started = time.monotonic()
        lab_page.close_notebook()
        lessons.lab.shut_down(f"notebooks/{NOTEBOOKS[key]}")
        timings["close"] = time.monotonic() - started
        errors, lab_page.errors = lab_page.errors, []
        assert not errors, "the page logged errors:\n" + "\n".join(errors)
    except BaseException:
        print("errors the page logged:", *lab_page.errors or ["none"], sep="\n")  # shown with the failure
        with contextlib.suppress(Exception):  # the screenshot must not hide the failure
            lab_page.page.screenshot(path=ARTIFACTS / f"{stem}-failure.png")
        lessons.discard()
        raise


@pytest.mark.browser
@pytest.mark.parametrize("state", STATES)
def test_run_all_reaches_the_end_in_every_state(state, lessons):
    """Run > Run All Cells on lesson 1 with the stubs, and with one catalogued mistake: every cell runs (no cell
    raises, which would stop Run All), each check says its verdict in a line or a box, and the lesson's figures
    show although the notebook lies where no img/ folder is beside it. (The solved lesson runs above.)"""
    lab_page = lessons.page()
    path = f"notebooks/states/{state}-{NOTEBOOKS[STATE_LESSON]}"
    try:
        lab_page.open_notebook(path)
        lab_page.run_all(RUN_TIMEOUT)
        text = lab_page.notebook_text()
        assert STATE_SAYS[state] in text and "Traceback" not in text
        images = lab_page.page.evaluate(
            "[...document.querySelectorAll('.jp-RenderedMarkdown img')].map(i => i.complete && i.naturalWidth > 0)"
        )
        assert images and all(images), f"a figure of the lesson did not load: {images}"
        lab_page.close_notebook()
        lessons.lab.shut_down(path)
        errors, lab_page.errors = lab_page.errors, []
        assert not errors, "the page logged errors:\n" + "\n".join(errors)
    except BaseException:
        with contextlib.suppress(Exception):
            lab_page.page.screenshot(path=ARTIFACTS / f"{state}-failure.png")
        lessons.discard()
        raise


# ------------------------------------------------------------------ without a kernel
def test_kernel_free_animation_steps_offline(browser, tmp_path):
    """The animation folded under every stepper is a plain page: opened from a file, with no kernel and no
    network, its buttons step through the frames, and going back shows the first frame again."""
    import numpy as np

    from helpers import gmm_stepper, load_faithful
    from solutions.gmm import e_step, log_likelihood, m_step

    X = load_faithful()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    init = (np.array([0.5, 0.5]), np.array([[-1.5, 1.5], [1.5, -1.5]]), 0.1 * np.stack([np.eye(2)] * 2))
    stepper = gmm_stepper(X, init, e_step, m_step, log_likelihood, max_iters=4)
    path = tmp_path / "animation.html"
    path.write_text(f"<!doctype html>\n<html><body>{stepper.animation_html()}</body></html>\n")

    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors, remote = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("request", lambda request: request.url.startswith(("http:", "https:")) and remote.append(request.url))
    try:
        page.goto(path.as_uri())
        img = page.locator("img").first
        frames = [image_bytes(img)]
        for _ in range(stepper.n_steps - 1):
            page.get_by_role("button", name="Next frame").click()
            wait_until(page, lambda: image_bytes(img) != frames[-1], SETTLE, "Next frame did not change the image")
            frames.append(image_bytes(img))
        assert len(set(frames)) == stepper.n_steps and all(f.startswith(PNG) for f in frames)
        page.get_by_role("button", name="First frame").click()
        wait_until(page, lambda: image_bytes(img) == frames[0], SETTLE, "First frame did not show the first frame")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "animation.png")
    finally:
        page.close()
    assert not errors, errors
    assert not remote, f"the animation fetched {remote}: it must play offline"
