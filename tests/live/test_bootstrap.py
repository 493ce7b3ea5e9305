"""The bootstrap step converges a real nats-server to the contracts, and may run any number of times."""

from __future__ import annotations

import dataclasses

import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy

from kp_cli.nats_server import NatsServer
from shared.contracts.streams import STREAMS
from shared.contracts.subjects import CONSUMERS, SCORING_PROPOSAL_SUBMITTED
from shared.messaging.bootstrap import bootstrap_streams
from shared.messaging.consumer import consumer_config
from tests.support.live import connect

pytestmark = pytest.mark.live

EVERYTHING = {s.name for s in STREAMS} | {f"{c.stream}/{c.durable}" for c in CONSUMERS}


async def test_bootstrap_on_an_empty_server_creates_every_stream_and_durable(nats_server: NatsServer) -> None:
    client = await connect(nats_server.url)
    try:
        report = await bootstrap_streams(client)
    finally:
        await client.close()
    assert set(report.created) == EVERYTHING
    assert report.updated == ()


async def test_bootstrap_is_idempotent_and_consumers_match_the_contracts(nc: Client) -> None:
    # The fixture ran the bootstrap once already; running it twice more changes nothing and fails on nothing.
    jsm = nc.jsm()
    await nc.jetstream().publish("kp.intake.vest.proposal.submitted.v1", b"{}", stream="KP_INTAKE")
    before = {s.name: await jsm.stream_info(s.name) for s in STREAMS}
    first = await bootstrap_streams(nc)
    second = await bootstrap_streams(nc)

    assert first.created == () and second.created == ()
    assert set(first.updated) == EVERYTHING and set(second.updated) == EVERYTHING
    for spec in STREAMS:
        info = await jsm.stream_info(spec.name)
        assert info.config.subjects == list(spec.subjects)
        assert info.config.duplicate_window == pytest.approx(spec.duplicate_window_seconds)
        assert info.config.max_age == pytest.approx(spec.max_age_seconds)
        # An existing stream is updated in place: it keeps its messages.
        assert info.created == before[spec.name].created
        assert info.state.messages == before[spec.name].state.messages
    assert (await jsm.stream_info("KP_INTAKE")).state.messages == 1

    for consumer in CONSUMERS:
        config = (await jsm.consumer_info(consumer.stream, consumer.durable)).config
        assert config.durable_name == consumer.durable
        assert config.filter_subject == consumer.filter_subject
        assert config.max_deliver == consumer.max_deliver
        assert config.ack_wait == pytest.approx(consumer.ack_wait_seconds)
        assert config.max_ack_pending == consumer.max_ack_pending
        assert config.ack_policy == AckPolicy.EXPLICIT
        assert config.deliver_subject is None, "durables are pull consumers"
    for stream in {c.stream for c in CONSUMERS}:
        names = {i.name for i in await jsm.consumers_info(stream)}
        assert names == {c.durable for c in CONSUMERS if c.stream == stream}


async def test_bootstrap_restores_a_drifted_durable(nc: Client) -> None:
    # A durable's config is fixed at creation unless someone updates it (pitfall 4): the bootstrap step does.
    spec = SCORING_PROPOSAL_SUBMITTED
    jsm = nc.jsm()
    drifted = dataclasses.replace(spec, max_deliver=2, ack_wait_seconds=5.0)
    await jsm.add_consumer(spec.stream, consumer_config(drifted))
    assert (await jsm.consumer_info(spec.stream, spec.durable)).config.max_deliver == 2

    await bootstrap_streams(nc)

    config = (await jsm.consumer_info(spec.stream, spec.durable)).config
    assert config.max_deliver == spec.max_deliver
    assert config.ack_wait == pytest.approx(spec.ack_wait_seconds)
