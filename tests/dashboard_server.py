"""A dashboard on a loopback port, for the browser tests and the dashboard benchmarks:
``ssropt dashboard`` or plain optuna-dashboard started as a process, ready once its
``/api/meta`` answers, stopped by its handle."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(kind: str, storage: str, port: int) -> list[str]:
    """``ssropt`` (``ssropt dashboard``) or ``plain`` (optuna-dashboard's own CLI, wsgiref)."""
    if kind == "ssropt":
        return [sys.executable, "-m", "ssropt", "dashboard", "--storage", storage,
                "--host", "127.0.0.1", "--port", str(port)]
    return [sys.executable, "-c", "from optuna_dashboard._cli import main; main()", storage,
            "--host", "127.0.0.1", "--port", str(port), "--server", "wsgiref", "--quiet"]


@contextlib.contextmanager
def dashboard(storage: str, kind: str = "ssropt", timeout: float = 600.0) -> Iterator[str]:
    """A dashboard on ``storage``; yields its base URL once ``/api/meta`` answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(command(kind, storage, port), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the dashboard exited: {process.stderr.read()}")
            try:
                with urllib.request.urlopen(base + "/api/meta", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no dashboard at {base} after {timeout:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()  # the server this script started, by its handle
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
