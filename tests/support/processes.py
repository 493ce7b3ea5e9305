"""The five services as separate processes (`kp serve`), with their own nats-server: the harness of the
end-to-end tests, the fault tests and the benchmarks. Every process is ours, stopped by its PID."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kp_cli.nats_server import NatsServer, free_port
from kp_cli.services import SERVICE_NAMES, service

SERVICES = SERVICE_NAMES


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kp_cli.main", "serve", self.name, "--host", "127.0.0.1",
                 "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        finally:
            log.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout} s: {self.log_tail()}")

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no flushing, as a crash."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class ServiceSystem:
    """nats-server plus the five services, each its own process with its own SQLite file."""

    root: Path
    otlp_endpoint: str | None = None
    names: Iterable[str] = SERVICES
    nats: NatsServer = field(init=False)
    services: dict[str, ServiceProcess] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.var_dir = self.root / "var"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.nats = NatsServer(store_dir=self.var_dir / "nats", log_file=self.var_dir / "nats.log")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KP_", "OTEL_"))}
        env.update(KP_ENV="dev", KP_NATS_URL=self.nats.url, KP_VAR_DIR=str(self.var_dir), KP_LOG_LEVEL="INFO")
        if self.otlp_endpoint:
            env.update(OTEL_EXPORTER_OTLP_ENDPOINT=self.otlp_endpoint, OTEL_BSP_SCHEDULE_DELAY="200")
        return env

    def start(self) -> ServiceSystem:
        from kp_cli.main import _bootstrap
        from kp_cli.seed import seed_demo
        from shared.db import migrate

        self.nats.start()
        asyncio.run(_bootstrap(self.nats.url, replicas=1))
        env = self.env()
        previous = dict(os.environ)
        os.environ.update({k: v for k, v in env.items() if k.startswith("KP_")})
        try:
            for name in self.names:
                entry = service(name)
                migrate(entry.migrations, entry.settings().database_url)
            asyncio.run(seed_demo())
        finally:
            os.environ.clear()
            os.environ.update(previous)
        for name in self.names:
            process = ServiceProcess(name, free_port(), env, self.var_dir / f"{name}.log")
            process.start()
            self.services[name] = process
        for process in self.services.values():
            process.wait_ready()
        return self

    def url(self, name: str) -> str:
        return self.services[name].url

    def restart(self, name: str) -> None:
        self.services[name].start()

    def stop(self) -> None:
        for process in self.services.values():
            process.stop()
        self.nats.stop()

    def logs(self) -> str:
        return "\n".join(p.log_path.read_text(errors="replace") for p in self.services.values() if p.log_path.exists())

    def __enter__(self) -> ServiceSystem:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_exc: object) -> None:
        self.stop()


RECEIPT_FILE = re.compile(r"^(?P<reference>[A-Z0-9]+-\d{4}-\d{4,})-.+\.eml$")


def receipt_reference(file_name: str) -> str:
    """The proposal reference a receipt file (`<reference>-<delivery id>.eml`) was written for."""
    match = RECEIPT_FILE.match(file_name)
    if match is None:
        raise ValueError(f"not a receipt file name: {file_name!r}")
    return match["reference"]
