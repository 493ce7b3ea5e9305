"""Create or update every stream and durable consumer: the one place their limits are set (pitfalls 4, 5)."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.contracts.streams import STREAMS, StreamSpec
from shared.contracts.subjects import CONSUMERS
from shared.messaging.consumer import consumer_config


@dataclass(frozen=True)
class BootstrapReport:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    replicas: int = 1
    cluster_size: int = 1

    @property
    def warning(self) -> str | None:
        """Streams with fewer than 3 replicas on a cluster lose their messages' availability (and, with one
        replica, the messages themselves if its disk goes) when one node is lost."""
        if self.cluster_size > 1 and self.replicas < 3:
            return (
                f"the NATS cluster has {self.cluster_size} servers but the streams have {self.replicas} "
                f"replica{'s' if self.replicas != 1 else ''}: they will not survive the loss of a node. "
                "Production runs 3 servers and --replicas 3."
            )
        return None


def cluster_size(nc: Client) -> int:
    """How many servers the connected one knows in its cluster (its INFO's client URLs, itself included);
    1 for a single server."""
    info = getattr(nc, "_server_info", None) or {}
    if not info.get("cluster"):
        return 1
    return max(1, len(set(info.get("connect_urls") or [])))


def stream_config(spec: StreamSpec, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description or None,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=spec.max_age_seconds,
        duplicate_window=spec.duplicate_window_seconds,
        num_replicas=replicas,
        allow_direct=True,
    )


async def bootstrap_streams(nc: Client, replicas: int = 1) -> BootstrapReport:
    """Idempotent: run it at every deploy; it converges the server to the contracts."""
    jsm = nc.jsm()
    created: list[str] = []
    updated: list[str] = []
    for spec in STREAMS:
        config = stream_config(spec, replicas)
        try:
            await jsm.stream_info(spec.name)
        except NotFoundError:
            await jsm.add_stream(config)
            created.append(spec.name)
        else:
            await jsm.update_stream(config)
            updated.append(spec.name)
    for consumer in CONSUMERS:
        name = f"{consumer.stream}/{consumer.durable}"
        try:
            await jsm.consumer_info(consumer.stream, consumer.durable)
            existed = True
        except NotFoundError:
            existed = False
        # The consumer create API updates the editable fields of an existing durable.
        await jsm.add_consumer(consumer.stream, consumer_config(consumer))
        (updated if existed else created).append(name)
    return BootstrapReport(tuple(created), tuple(updated), replicas, cluster_size(nc))
