"""Headless Chromium driven over the DevTools protocol, for the browser tests.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and ``websocket-client``. Chromium
runs with a throw-away profile and a debugging port on 127.0.0.1; one page is driven over
its websocket. While it runs the page collects

* ``errors``: uncaught exceptions, ``console.error``/``console.assert`` calls and log
  entries of level error (failed resource loads among them);
* ``requests``: every URL the page asked for (a report opened from disk must ask for
  nothing but ``file:``, ``data:``, ``blob:`` and ``about:`` URLs).

Example (not run here)::

    with Chromium() as browser:
        page = browser.page()
        page.navigate("file:///tmp/report.html")
        page.wait_for("document.querySelectorAll('.js-plotly-plot').length > 0")
        page.screenshot("report.png", full_page=True)
        assert not page.errors

``benchmarks/dashboard_screenshot.py`` uses it too.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # without these Chromium dials Google's hosts, which a closed network refuses
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
)


class ChromiumMissing(RuntimeError):
    """No chromium on this machine."""


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumMissing("no chromium on PATH (Debian: apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """One page target; every call waits for its answer and records events meanwhile."""

    def __init__(self, ws_url: str, timeout: float = 60.0) -> None:
        import websocket  # websocket-client

        self._websocket = websocket
        # Chromium >= 111 refuses websocket clients that send an Origin header
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self._id = 0
        self.events: list[dict] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.timings: dict[str, dict] = {}  # request id -> url, start, end (monotonic)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def close(self) -> None:
        self.ws.close()

    def _record(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.errors.append(f"exception: {text.splitlines()[0] if text else details}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
            self.timings[params["requestId"]] = {"url": params["request"]["url"],
                                                 "start": time.monotonic()}
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            timing = self.timings.get(params["requestId"])
            if timing is not None:
                timing["end"] = time.monotonic()
                timing["bytes"] = params.get("encodedDataLength", 0)
        self.events.append(message)

    def call(self, method: str, params: dict | None = None, timeout: float = 120.0) -> dict:
        self._id += 1
        sent = self._id
        self.ws.send(json.dumps({"id": sent, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            message = json.loads(self.ws.recv())
            if message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._record(message)
            if time.monotonic() > deadline:
                raise TimeoutError(method)

    def pump(self, seconds: float) -> None:
        """Record events for ``seconds`` (console messages arrive on their own)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self._record(json.loads(self.ws.recv()))
            except self._websocket.WebSocketTimeoutException:
                return

    def navigate(self, url: str, timeout: float = 120.0) -> float:
        """Open ``url`` (forgetting the previous page's events, errors and requests) and
        wait for its load event; the seconds it took."""
        start = time.monotonic()
        self.events.clear()
        self.errors.clear()
        self.requests.clear()
        self.timings.clear()
        self.call("Page.navigate", {"url": url})
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"no load event for {url} in {timeout:.0f} s")
            self.pump(0.1)
        return time.monotonic() - start

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 120.0, interval: float = 0.2) -> float:
        """Poll a JavaScript condition until it holds; the seconds waited."""
        start = time.monotonic()
        while not self.evaluate(expression):
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"not true after {timeout:.0f} s: {expression}")
            self.pump(interval)
        return time.monotonic() - start

    def screenshot(self, path: str, full_page: bool = False, clip: dict | None = None) -> None:
        """A PNG of the viewport, the whole page, or ``clip`` (x, y, width, height)."""
        params: dict = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(data))


class Chromium:
    """Headless Chromium on a loopback debugging port: ``with Chromium() as b: b.page()``."""

    def __init__(self, width: int = 1400, height: int = 1000, start_timeout: float = 60.0) -> None:
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="ssropt-chromium-")
        self.size = (width, height)
        self.process = subprocess.Popen(
            [chromium_path(), *FLAGS, f"--remote-debugging-port={self.port}",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        self._pages: list[Page] = []
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/version", timeout=2):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("chromium did not open its debugging port") from None
                time.sleep(0.2)

    def page(self) -> Page:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            targets = [t for t in json.load(r) if t.get("type") == "page"]
        page = Page(targets[0]["webSocketDebuggerUrl"])
        width, height = self.size
        page.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self._pages.append(page)
        return page

    def close(self) -> None:
        for page in self._pages:
            try:
                page.close()
            except OSError:
                pass
        self.process.terminate()  # the chromium this object started, by its handle
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- checking an HTML report ------------------------------------------------------------

PLOTS = "[...document.querySelectorAll('.js-plotly-plot')]"
PLOTS_READY = f"(() => {{ const g = {PLOTS}; return g.length >= %d && g.every(d => d._fullLayout); }})()"
PLOT_FACTS = f"""(() => {PLOTS}.map(gd => {{
  const r = gd.getBoundingClientRect();
  return {{id: gd.id, width: Math.round(r.width), height: Math.round(r.height),
          traces: (gd.data || []).length,
          // _length: points after plotly decoded typed arrays (x may be {{dtype, bdata}})
          points: (gd._fullData || []).reduce((n, t) => n + (t._length || 0), 0),
          marks: gd.querySelectorAll('.point, .js-line, canvas').length}};
}}))()"""
CLICK_SCHEDULED_POINT = """(() => {
  const data = JSON.parse(document.getElementById('ssropt-schedules').textContent);
  for (const id of data.fronts) {
    const gd = document.getElementById(id);
    for (let i = 0; i < gd.data.length; i++) {
      const keys = gd.data[i].customdata || [];
      for (let j = 0; j < keys.length; j++) {
        if (data.schedules[keys[j][0]] && keys[j][0] !== document.getElementById('ssropt-gantt-pick').value) {
          // what plotly emits on a click on that point (a pixel click is flaky headless)
          gd.emit('plotly_click', {points: [{curveNumber: i, pointNumber: j, customdata: keys[j]}]});
          return data.labels[keys[j][0]];
        }
      }
    }
  }
  return null;
})()"""
GANTT_TITLE = "document.getElementById('ssropt-gantt').layout.title.text"
LOCAL = ("file:", "data:", "blob:", "about:")


def report_problems(page: Page, path: str | os.PathLike, min_plots: int,
                    timeout: float = 180.0) -> list[str]:
    """Open an HTML report from disk and list what is wrong with it: fewer than
    ``min_plots`` rendered plots, an empty plot, a JavaScript error, a request that is
    not local, or (when it has a schedule section) a front click that draws no schedule."""
    from pathlib import Path

    problems = []
    page.navigate(Path(path).resolve().as_uri(), timeout=timeout)
    try:
        page.wait_for(PLOTS_READY % min_plots, timeout=timeout)
    except TimeoutError:
        problems.append(f"fewer than {min_plots} rendered plots after {timeout:.0f} s")
    for fact in page.evaluate(PLOT_FACTS) or []:
        if not (fact["width"] and fact["height"] and fact["traces"] and fact["points"]
                and fact["marks"]):
            problems.append(f"empty plot: {fact}")
    if page.evaluate("!!document.getElementById('ssropt-schedules')"):
        label = page.evaluate(CLICK_SCHEDULED_POINT)
        if label is not None:
            try:
                page.wait_for(f"({GANTT_TITLE} || '').startsWith({json.dumps(label)})", timeout=60)
            except TimeoutError:
                problems.append(f"a click on {label!r} drew no schedule")
    page.pump(0.5)  # late console messages
    problems += [f"JavaScript: {e}" for e in page.errors]
    problems += [f"network request: {u}" for u in page.requests if not u.startswith(LOCAL)]
    return problems
