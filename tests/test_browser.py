"""A real browser drives the widgets: JupyterLab on 127.0.0.1, headless Chromium through Selenium.

The unit tests call ``panel.render()`` in the kernel; only a browser shows that the front end loads
the widget extension, that a slider moved by a user reaches the kernel, and that the new PNG comes
back into the page. The test opens a copy of ``notebooks/00_activations.ipynb`` (quick mode) in a
throw-away root directory, runs all cells, presses → on the panel's channel slider and checks that
the panel's ``<img>`` got a new picture, with no error output anywhere in the notebook.

Skipped only where ``/usr/bin/chromium`` is absent (``make env`` installs Debian's ``chromium`` and
``chromium-driver`` wherever ``apt-get`` exists).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "00_activations.ipynb"
PATH = f"notebooks/{NOTEBOOK.name}"  # the notebook's path as the served JupyterLab names it
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,1000",
]
# Start-up is slow while the other processes of this machine load its two cores: poll, generously.
SERVER_START_S = 60
PAGE_READY_S = 60
RUN_ALL_S = 90
RERENDER_S = 40

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (install Debian's chromium and "
                       "chromium-driver; `make env` does it where apt-get exists)"),
    pytest.mark.timeout(240),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition: Callable[[], object], timeout: float, what: str, *, every: float = 0.25,
              shown: Callable[[], object] | None = None) -> object:
    """Poll ``condition`` until it returns something truthy. On timeout say what we waited for and, when
    ``shown`` is given, what the page showed at the end (so the next breakage explains itself)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            seen = ""
            if shown is not None:
                try:
                    seen = f"; the page showed: {shown()!r}"
                except Exception as error:  # the report must not hide the time-out
                    seen = f"; reading the page failed: {error!r}"
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}{seen}")
        time.sleep(every)


class JupyterLab:
    """``python -m jupyter lab`` with the venv's python (so the kernel is the venv's too), on a free
    port of 127.0.0.1, with a random token and every Jupyter directory inside ``workdir``."""

    def __init__(self, workdir: Path, root_dir: Path) -> None:
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyterlab.log"
        settings = workdir / "lab-settings"
        (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
        # No news fetching (no network here) and no toast asking about it over the page.
        (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
            '{"fetchNews": "false", "checkForUpdates": false}')
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"), "JUPYTER_DATA_DIR": str(workdir / "data"),
               "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"), "IPYTHONDIR": str(workdir / "ipython"),
               "OMP_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--expose-app-in-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root_dir}",
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
            "--LabApp.extension_manager=readonly", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--ServerApp.terminals_enabled=False",
        ] + (["--allow-root"] if os.geteuid() == 0 else [])  # CI containers run as root
        self._log = open(self.log_path, "wb")  # closed in stop()
        # Own session: stop() can end the server and its kernel together, and nothing else.
        self.process = subprocess.Popen(command, env=env, cwd=root_dir, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def wait_ready(self, timeout: float) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as reply:
                    return reply.status == 200
            except OSError:
                return False

        _wait_for(ready, timeout, f"jupyter lab on port {self.port}", every=0.5)

    def kernel_executables(self) -> list[str]:
        """argv[0] of the kernel processes this server started."""
        import psutil

        return [child.cmdline()[0] for child in psutil.Process(self.process.pid).children(recursive=True)
                if "ipykernel_launcher" in " ".join(child.cmdline())]

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # jupyter shuts its kernels down on SIGTERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()


def _chromium(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not CHROMEDRIVER.exists():
        raise RuntimeError(f"{CHROMIUM} is installed but {CHROMEDRIVER} is not: apt-get install chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager (which would download drivers) is never used.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(PAGE_READY_S)
    driver.set_script_timeout(30)
    return driver


@pytest.fixture
def lab(tmp_path) -> Iterator[JupyterLab]:
    """A root directory holding a quick-mode copy of notebook 00, served by JupyterLab."""
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert "quick = False" in parameters.source, "notebook 00's parameters cell no longer sets quick = False"
    parameters.source = parameters.source.replace("quick = False", "quick = True")
    nbformat.write(notebook, root / "notebooks" / NOTEBOOK.name)
    server = JupyterLab(tmp_path, root)
    try:
        server.wait_ready(SERVER_START_S)
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser(tmp_path):
    driver = _chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


# JavaScript run in the page through the app JupyterLab exposes (--expose-app-in-browser). The notebook
# panel is looked up among the main area's widgets by its path, never through the shell's current widget: that
# follows *focus*, and a headless page never gets focus (Chromium 150 and later leave it null for good).
# `where` says how far the page got, so a time-out can tell what it saw.
NOTEBOOK_STATE = """
const path = arguments[0];
const app = window.jupyterapp;
if (!app) return {where: 'no window.jupyterapp (JupyterLab not loaded yet)'};
const main = Array.from(app.shell.widgets('main'));
const panels = main.filter(w => w.sessionContext && w.content && w.context);
const panel = panels.find(w => w.context.path === path);
if (!panel) return {where: 'notebook panel not open', main: main.map(w => w.title.label),
                    notebooks: panels.map(w => w.context.path)};
if (!panel.context.isReady) return {where: 'notebook model not ready', path: panel.context.path};
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
const cells = [];
for (let i = 0; i < panel.content.model.cells.length; i++) {
    const cell = panel.content.model.cells.get(i);
    if (cell.type !== 'code') continue;
    const errors = cell.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue);
    cells.push({count: cell.executionCount, errors: errors});
}
return {where: 'notebook open', path: panel.context.path, kernel: kernel ? kernel.status : null, cells: cells};
"""
# Runs all cells of that same panel: activated by its id first, because notebook commands act on the
# tracker's current notebook, and the widget is named too (`widgetId`) for versions that honour it.
RUN_ALL_CELLS = """
const path = arguments[0];
const app = window.jupyterapp;
const panel = Array.from(app.shell.widgets('main')).find(w => w.context && w.context.path === path);
if (!panel) return false;
app.shell.activateById(panel.id);
app.commands.execute('notebook:run-all-cells', {activate: false, widgetId: panel.id});
return true;
"""
PANEL_IMAGE = "img.widget-image"
SLIDER_HANDLE = ".widget-slider .noUi-handle"
SLIDER_READOUT = ".widget-slider .widget-readout"


def test_moving_the_channel_slider_rerenders_the_panel(lab, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    started = time.monotonic()
    try:
        browser.get(lab.url(f"lab/tree/{PATH}"))

        def state() -> dict:
            return browser.execute_script(NOTEBOOK_STATE, PATH) or {}

        _wait_for(lambda: state().get("kernel") == "idle", PAGE_READY_S, "the notebook to open with an idle kernel",
                  shown=state)
        assert browser.execute_script(RUN_ALL_CELLS, PATH), f"no notebook panel for {PATH} to run: {state()}"

        def all_cells_ran():
            now = state()
            errors = [e for cell in now.get("cells", []) for e in cell["errors"]]
            assert not errors, f"a cell failed in the browser: {errors}"
            return now.get("kernel") == "idle" and now.get("cells") and all(cell["count"] for cell in now["cells"])

        _wait_for(all_cells_ran, RUN_ALL_S, "all cells to run", every=0.5, shown=state)
        executables = lab.kernel_executables()
        assert executables and all(Path(e) == Path(sys.executable) for e in executables), executables

        image = _wait_for(lambda: [i for i in browser.find_elements(By.CSS_SELECTOR, PANEL_IMAGE)
                                   if browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i)],
                          RERENDER_S, "the panel's image to appear",
                          shown=lambda: {"images": len(browser.find_elements(By.CSS_SELECTOR, PANEL_IMAGE)), **state()})[0]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", image)
        readout = browser.find_element(By.CSS_SELECTOR, SLIDER_READOUT)
        assert readout.text.strip() == "0", f"the channel slider starts at {readout.text!r}, expected 0"
        source_before, picture_before = image.get_attribute("src"), image.screenshot_as_png

        # Move the slider as a user does: click its handle, press the right arrow key once.
        handle = browser.find_element(By.CSS_SELECTOR, SLIDER_HANDLE)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
        handle.click()
        handle.send_keys(Keys.ARROW_RIGHT)
        _wait_for(lambda: readout.text.strip() == "1", 10, "the slider readout to show 1",
                  shown=lambda: {"readout": readout.text, "focused": browser.execute_script(
                      "return document.activeElement && document.activeElement.className")})

        def new_picture_loaded() -> bool:
            shown = browser.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel").text
            assert "Traceback (most recent call last)" not in shown, f"the panel failed to re-render:\n{shown[-2000:]}"
            return image.get_attribute("src") != source_before and browser.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", image)

        _wait_for(new_picture_loaded, RERENDER_S, "the panel's image to re-render after the slider moved",
                  shown=lambda: {"src_changed": image.get_attribute("src") != source_before, **state()})
        _wait_for(lambda: state().get("kernel") == "idle", RERENDER_S, "the kernel to settle", shown=state)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", image)
        picture_after = image.screenshot_as_png
        assert picture_after != picture_before, "the <img> source changed but the picture on screen did not"

        page_text = browser.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel").text
        for sign in ("Traceback (most recent call last)", "Error displaying widget", "Error rendering output"):
            assert sign not in page_text, f"the page shows {sign!r}"
        final = state()
        assert final.get("cells") and not [e for cell in final["cells"] for e in cell["errors"]], final
        uncaught = [entry["message"] for entry in browser.get_log("browser")
                    if entry["level"] == "SEVERE" and "Uncaught" in entry["message"]]
        assert not uncaught, f"uncaught JavaScript errors: {uncaught}"
    except BaseException:
        browser.save_screenshot(str(tmp_path / "failure.png"))
        print(f"screenshot: {tmp_path / 'failure.png'}\n--- jupyter lab log ---\n{lab.log_tail()}")
        raise
    finally:
        print(f"browser test: {time.monotonic() - started:.1f} s after the server was ready")


def test_report_index_shows_findings_and_the_comparison_table(browser, tmp_path, monkeypatch):
    """report/index.html in the real browser: the findings and the comparison table are on screen."""
    from selenium.webdriver.common.by import By

    from stochvis import report

    figures, output = tmp_path / "figures", tmp_path / "report"
    figures.mkdir()
    output.mkdir()
    (figures / "08_comparison.csv").write_text("method,class,fid,judge_confidence\nSimonyan 2013,0,255,0.5\n"
                                               "DGN-AM,0,66,0.9\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    figure.savefig(figures / "08_comparison_samples.png")
    plt.close(figure)
    cells = [nbformat.v4.new_markdown_cell("# 08 · Comparison"),
             nbformat.v4.new_markdown_cell("## Samples\nRows: methods."),
             nbformat.v4.new_code_cell("save_figure(fig, figures / '08_comparison_samples.png')"),
             nbformat.v4.new_code_cell("print(verdict)", metadata={"tags": ["finding"]})]
    cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Hypothesis: holds for 0 of 3\n")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), output / "08_comparison.ipynb")
    monkeypatch.setattr(report, "notebooks", lambda: [])
    index = report.write_index([report.NotebookRun("08_comparison", output / "08_comparison.html", 60.0)],
                               output / "index.html", quick=False, figures_dir=figures)
    browser.get(index.as_uri())
    table = browser.find_element(By.CSS_SELECTOR, "table.results")
    assert table.is_displayed() and "DGN-AM" in table.text and "66 ± 0" in table.text, table.text
    finding = browser.find_element(By.CSS_SELECTOR, "pre.finding")
    assert finding.is_displayed() and "holds for 0 of 3" in finding.text
    image = browser.find_element(By.CSS_SELECTOR, "figure img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)
    assert "Samples: Rows: methods." in browser.find_element(By.CSS_SELECTOR, "figcaption").text
    browser.save_screenshot(str(tmp_path / "report_index.png"))
