"""The channel facade: immediate fallbacks when waiting for 1C is pointless."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from bridge.clock import FakeClock
from bridge.health import State
from bridge.longpoll.broker import (
    Answered,
    ContactRequest,
    Fallback,
    FallbackReason,
    RequestKind,
)
from bridge.longpoll.channel import ContactChannel
from bridge.longpoll.contacts_config import ContactChannelConfig

CALLER = RequestKind.CALLER_ID


def channel(clock: FakeClock) -> ContactChannel:
    config = ContactChannelConfig(absent_after_seconds=10, consumer_stale_seconds=60)
    return ContactChannel(config, clock, CollectorRegistry())


async def test_no_consumer_for_a_while_means_the_fallback_at_once(clock: FakeClock):
    ch = channel(clock)
    clock.advance(11)  # started 11 s ago and 1C never came
    outcome = await ch.ask(CALLER, {}, 30)  # would hang 30 s if it waited
    assert isinstance(outcome, Fallback)
    assert outcome.reason is FallbackReason.NO_CONSUMER
    assert "11 s" in outcome.detail
    status = await ch.status()
    assert status.state is State.DEGRADED


async def test_a_recent_poll_makes_askers_wait_for_1c_again(clock: FakeClock):
    ch = channel(clock)
    clock.advance(11)
    assert await ch.broker.take("base1", wait=0, limit=1, alive=lambda: True) == []
    clock.advance(5)
    asking = asyncio.create_task(ch.ask(CALLER, {"n": 1}, 30))
    async with asyncio.timeout(5):
        batch: list[ContactRequest] = []
        while not batch:
            batch = await ch.broker.take("base1", wait=1, limit=1, alive=lambda: True)
    ch.broker.answer("base1", batch[0].id, Answered({"caller_id": "x"}))
    async with asyncio.timeout(5):
        assert await asking == Answered({"caller_id": "x"})
    assert (await ch.status()).state is State.OK
