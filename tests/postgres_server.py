"""A throw-away PostgreSQL server for the tests (used by ``tests/conftest.py``).

``PostgresServer.launch()`` runs ``initdb`` into a fresh temporary directory, starts the
server on a free loopback port with ``pg_ctl`` and creates one database. The server runs
as the ``postgres`` system user when the tests run as root (PostgreSQL refuses to run as
root; the user is created with ``useradd --system`` if missing) and as the current user
otherwise. It trusts every local connection, keeps nothing durable (``fsync=off``) and is
meant to live for one pytest session:

* ``server.url`` is the SQLAlchemy URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/DB``),
  the same across ``stop()`` / ``start()``, so a test can take the server away for a while;
* ``server.cleanup()`` stops it (``-m immediate``) and deletes the directory. It also runs
  at interpreter exit and on SIGTERM / SIGHUP, and a later session removes the servers of
  a session that was killed outright (their directories name the owning process).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

DIR_PREFIX = "ssropt-pg-"
OWNER_FILE = "owner.pid"  # pid of the process that started the server in this directory
SERVER_USER = "postgres"
DATABASE = "ssropt_test"
# Unix sockets live in the server directory; their paths must stay under ~107 bytes.
_MAX_DIR_LENGTH = 80
_TIMEOUT_S = 120


class PostgresUnavailable(Exception):
    """PostgreSQL binaries are not installed (the caller decides between skip and fail)."""


class PostgresError(RuntimeError):
    """The server could not be set up, started or stopped."""


def find_bindir() -> Path:
    """A directory holding both ``initdb`` and ``pg_ctl``: PATH first, then the usual places."""
    candidates: list[Path] = []
    for name in ("pg_ctl", "initdb"):
        found = shutil.which(name)
        if found:
            candidates.append(Path(found).parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    candidates.append(Path("/usr/local/bin"))
    versioned = glob.glob("/usr/lib/postgresql/*/bin") + glob.glob("/usr/pgsql-*/bin")
    candidates += sorted(
        (Path(p) for p in versioned),
        key=lambda p: [int(n) for n in re.findall(r"\d+", str(p))],
        reverse=True,  # newest major version first
    )
    candidates.append(Path("/usr/local/pgsql/bin"))
    for directory in candidates:
        if all(os.access(directory / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return directory
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in /usr/local/bin or "
        "/usr/lib/postgresql/*/bin; install them (e.g. apt-get install postgresql) or set "
        "SSROPT_TEST_POSTGRES_URL=postgresql+psycopg://… to use an existing server"
    )


def server_user() -> str | None:
    """The account the server runs as: ``postgres`` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", SERVER_USER],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"PostgreSQL refuses to run as root and there is no {SERVER_USER!r} user; "
                f"`useradd --system {SERVER_USER}` failed: {result.stderr.strip()}"
            ) from None
    return SERVER_USER


def _as_user(user: str | None, command: list[str]) -> list[str]:
    if user is None:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *command]
    return ["su", user, "-s", "/bin/sh", "-c", shlex.join(command)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PostgresServer:
    """One throw-away cluster in its own directory; see the module docstring."""

    def __init__(self, bindir: Path, root: Path, user: str | None, port: int) -> None:
        self.bindir = bindir
        self.root = root  # owned by the server user: data/, server.log, the socket
        self.data = root / "data"
        self.log = root / "server.log"
        self.user = user
        self.port = port
        self.database = DATABASE
        self.startup_seconds: float | None = None
        self._cleaned = False

    # -- public API ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{self.database}"

    @classmethod
    def launch(cls, database: str = DATABASE) -> PostgresServer:
        """initdb + start + create ``database``; everything is undone if any step fails."""
        began = time.perf_counter()
        bindir = find_bindir()
        user = server_user()
        reap_stale_servers()
        server = cls(bindir, _make_root(user), user, _free_port())
        server.database = database
        _live.add(server)
        _install_emergency_cleanup()
        try:
            server._initdb()
            for attempt in range(3):  # another process may take the port between probe and bind
                try:
                    server.start()
                    break
                except PostgresError:
                    if attempt == 2 or "already in use" not in server.log_tail():
                        raise
                    server.port = _free_port()
            server._create_database()
        except BaseException:
            server.cleanup()
            raise
        server.startup_seconds = time.perf_counter() - began
        return server

    @property
    def running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def start(self) -> None:
        """Start the (stopped) server again on the same port and data: ``url`` still works."""
        if self._cleaned:
            raise PostgresError("the server has been cleaned up")
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {shlex.quote(str(self.root))}",
                "-c listen_addresses=127.0.0.1",
                # A test server: nothing needs to survive a machine crash.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        result = self._pg_ctl(
            "start", "-o", options, "-l", str(self.log), "-w", "-t", "60", check=False
        )
        if result.returncode != 0:
            raise PostgresError(
                f"pg_ctl start failed (exit {result.returncode}): {result.stdout.strip()} "
                f"{result.stderr.strip()}\n--- {self.log} ---\n{self.log_tail()}"
            )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate); a no-op if it is not running."""
        if self._cleaned or not self.data.is_dir() or not self.running:
            return
        result = self._pg_ctl("stop", "-m", mode, "-w", "-t", "60", check=False)
        if result.returncode != 0 and self.running:
            raise PostgresError(
                f"pg_ctl stop -m {mode} failed (exit {result.returncode}): "
                f"{result.stderr.strip()}\n--- {self.log} ---\n{self.log_tail()}"
            )

    def cleanup(self) -> None:
        """Stop the server at once and delete its directory (idempotent, never raises)."""
        if self._cleaned:
            return
        try:
            _stop_cluster(self.bindir, self.data, self.user)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self._cleaned = True
            _live.discard(self)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # -- internals -------------------------------------------------------------------------

    def _run(self, command: list[str], check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            _as_user(self.user, command),
            cwd=self.root,  # the server user may not be allowed into our working directory
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
        if check and result.returncode != 0:
            raise PostgresError(
                f"{shlex.join(command)} failed (exit {result.returncode}): "
                f"{result.stdout.strip()} {result.stderr.strip()}"
            )
        return result

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), *args], check=check)

    def _initdb(self) -> None:
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )

    def _create_database(self) -> None:
        for directory in (self.bindir, (self.bindir / "initdb").resolve().parent):
            createdb = directory / "createdb"
            if os.access(createdb, os.X_OK):
                host = ["-h", "127.0.0.1", "-p", str(self.port), "-U", SERVER_USER]
                self._run([str(createdb), *host, self.database])
                return
        import psycopg  # no createdb next to initdb: fall back on the driver

        dsn = f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')


def _make_root(user: str | None) -> Path:
    """A fresh directory the server user owns, reachable by it and short enough for a socket."""
    bases = [tempfile.gettempdir(), "/tmp"]
    problems = []
    for base in dict.fromkeys(bases):
        if len(base) > _MAX_DIR_LENGTH - 20:
            problems.append(f"{base}: path too long for a Unix socket")
            continue
        root = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=base))
        (root / OWNER_FILE).write_text(f"{os.getpid()}\n")
        if user is None:
            return root
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chmod(root, 0o700)
        probe = subprocess.run(_as_user(user, ["test", "-w", str(root)]), check=False, cwd="/")
        if probe.returncode == 0:
            return root
        problems.append(f"{base}: not writable by {user!r}")
        shutil.rmtree(root, ignore_errors=True)
    raise PostgresError("no temporary directory for the PostgreSQL server: " + "; ".join(problems))


def _stop_cluster(bindir: Path, data: Path, user: str | None) -> None:
    """``pg_ctl stop -m immediate``; if that fails, SIGKILL the postmaster. Never raises."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    command = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30"]
    try:
        subprocess.run(
            _as_user(user, [*command, "stop"]),
            cwd="/",
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return  # pg_ctl removed postmaster.pid: the server is gone
    try:  # only a live postgres process: the pid of a crashed server may have been reused
        if Path(f"/proc/{pid}/comm").read_text().strip() in ("postgres", "postmaster"):
            os.kill(pid, signal.SIGKILL)  # its backends exit when they notice it died
    except OSError:
        pass


def reap_stale_servers() -> None:
    """Stop and delete the servers of earlier sessions whose process no longer exists."""
    for base in dict.fromkeys([tempfile.gettempdir(), "/tmp"]):
        for root in Path(base).glob(DIR_PREFIX + "*"):
            try:
                owner = int((root / OWNER_FILE).read_text().strip())
            except (OSError, ValueError):
                continue  # not ours, or still being set up
            if owner == os.getpid() or _pid_alive(owner):
                continue
            try:
                user = root.stat().st_uid
                name = pwd.getpwuid(user).pw_name if user != os.geteuid() else None
            except (OSError, KeyError):
                name = None
            bindir = None
            try:
                bindir = find_bindir()
            except PostgresUnavailable:
                pass
            if bindir is not None:
                _stop_cluster(bindir, root / "data", name)
            shutil.rmtree(root, ignore_errors=True)


# -- last-resort cleanup --------------------------------------------------------------------

_live: set[PostgresServer] = set()
_installed = False


def _cleanup_all() -> None:
    for server in list(_live):
        server.cleanup()


def _on_signal(signum: int, frame: object) -> None:
    _cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # die of the signal as we would have without the handler


def _install_emergency_cleanup() -> None:
    """atexit + SIGTERM/SIGHUP handlers (only where nobody else handles those signals)."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(_cleanup_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _on_signal)
