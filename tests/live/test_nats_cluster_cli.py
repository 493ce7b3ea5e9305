"""`KP_NATS_URL` names a cluster as a comma-separated list: the `kp` commands connect through it, and the
bootstrap warns when streams on a cluster have fewer than 3 replicas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kp_cli.main import app
from kp_cli.nats_server import NatsCluster, free_port

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """Three routed nats-servers on free ports (JetStream, sync_interval always), stopped by their PIDs."""
    with NatsCluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


def kp(*args: str, nats_url: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"KP_NATS_URL": nats_url, "KP_ENV": "test"})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_bootstrap_with_one_replica_on_a_cluster_warns(cluster: NatsCluster) -> None:
    # A server that is down first in the list: the client goes on to the next one.
    url = f"nats://127.0.0.1:{free_port()}, {cluster.url}"
    code, output = kp("nats", "bootstrap", "--replicas", "1", nats_url=url)
    assert code == 0, output
    assert "KP_INTAKE" in output
    assert "warning" in output and "3 servers" in output and "will not survive the loss of a node" in output
    assert "--replicas 3" in output


def test_bootstrap_with_three_replicas_on_a_cluster_is_quiet(cluster: NatsCluster) -> None:
    code, output = kp("nats", "bootstrap", "--replicas", "3", nats_url=cluster.url)
    assert code == 0, output
    assert "updated KP_INTAKE" in output or "created KP_INTAKE" in output
    assert "warning" not in output


def test_dead_letters_are_listed_through_a_list_of_servers(cluster: NatsCluster) -> None:
    kp("nats", "bootstrap", "--replicas", "3", nats_url=cluster.url)
    code, output = kp("dlq", "list", nats_url=",".join(reversed(cluster.url.split(","))))
    assert code == 0, output
    assert "0 dead letter(s)" in output


def test_a_single_server_gets_no_warning(tmp_path: Path) -> None:
    from kp_cli.nats_server import NatsServer

    with NatsServer(store_dir=tmp_path / "js") as server:
        code, output = kp("nats", "bootstrap", nats_url=server.url)
    assert code == 0, output
    assert "warning" not in output
