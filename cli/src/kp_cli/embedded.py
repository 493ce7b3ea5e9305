"""The embedded default: one nats-server from the wheel, one SQLite file per service, one process."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from kp_cli.gateway import Gateway
from kp_cli.nats_server import NatsServer, free_port
from kp_cli.services import all_services
from shared.db import migrate
from shared.telemetry import get_logger

log = get_logger("kp.embedded")


class EmbeddedSystem:
    """Starts the broker, prepares streams, databases and demo data, and builds the gateway."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        port = int(os.environ.get("KP_NATS_PORT", "0")) or free_port()
        self.nats = NatsServer(store_dir=var_dir / "nats" / "jetstream", port=port, log_file=var_dir / "nats.log")

    def start_broker(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.nats.start()
        # Every service built after this point connects to our own server, not a default port.
        os.environ["KP_NATS_URL"] = self.nats.url
        os.environ["KP_VAR_DIR"] = str(self.var_dir)

    def prepare(self) -> None:
        """Streams and consumers, every service's migrations, then the demo round."""
        from kp_cli.main import _bootstrap
        from kp_cli.seed import seed_demo

        asyncio.run(_bootstrap(self.nats.url, replicas=1))
        for entry in all_services():
            migrate(entry.migrations, entry.settings().database_url)
        asyncio.run(seed_demo())

    def gateway(self) -> Gateway:
        apps = {entry.name: entry.create_app(entry.settings()) for entry in all_services()}
        return Gateway(apps)

    def stop_broker(self) -> None:
        self.nats.stop()
