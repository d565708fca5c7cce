"""The AMI adapter against a fake AMI server over real TCP (tests/fakes/ami_server.py
stands in for Asterisk's manager interface)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from bridge.call_events import CallKind, CallState
from bridge.clock import FakeClock
from bridge.health import State
from pbx.asterisk.adapter import AsteriskAdapter
from pbx.base import ExtensionState
from pbx.config import AsteriskConfig
from tests.fakes.ami_frames import wire_bytes
from tests.fakes.ami_server import FakeAmiServer
from tests.fakes.event_sink import RecordingSink
from tests.fakes.polling import until


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmiServer]:
    server = FakeAmiServer()
    await server.start()
    yield server
    await server.close()


def make_adapter(
    server: FakeAmiServer, sink: RecordingSink, **overrides
) -> AsteriskAdapter:
    config = AsteriskConfig(
        host="127.0.0.1",
        port=server.port,
        username="telebridge",
        secret="s3cret",
        reconnect_min_seconds=0.01,
        reconnect_max_seconds=0.05,
        action_timeout_seconds=5,
        **overrides,
    )
    return AsteriskAdapter(config, FakeClock(), CollectorRegistry(), lambda: sink)


class Running:
    def __init__(self, adapter: AsteriskAdapter) -> None:
        self.adapter = adapter
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AsteriskAdapter:
        self.task = asyncio.create_task(self.adapter.run())
        return self.adapter

    async def __aexit__(self, *exc: object) -> None:
        await self.adapter.stop()
        assert self.task is not None
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


async def resynced(server: FakeAmiServer, logins: int) -> None:
    async def done() -> bool:
        actions = [a.get("Action") for a in server.actions]
        return actions.count("CoreShowChannels") >= logins

    await until(done)


def state_is(adapter: AsteriskAdapter, state: State) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await adapter.status()).state is state

    return check


async def test_scenario_pushed_by_ami_reaches_the_sink(ami: FakeAmiServer) -> None:
    sink = RecordingSink()
    async with Running(make_adapter(ami, sink)) as adapter:
        async with asyncio.timeout(5):
            await ami.logged_in.wait()
            await resynced(ami, 1)
            await ami.push(wire_bytes("answered_incoming"))
            events = await sink.wait_for(3)
        assert [e.state for e in events] == [
            CallState.CALLING,
            CallState.CONNECTED,
            CallState.FINISHED,
        ]
        assert (await adapter.status()).state is State.OK


async def test_malformed_frame_is_skipped_and_the_connection_kept(
    ami: FakeAmiServer, caplog: pytest.LogCaptureFixture
) -> None:
    sink = RecordingSink()
    async with Running(make_adapter(ami, sink)):
        async with asyncio.timeout(5):
            await ami.logged_in.wait()
            await resynced(ami, 1)
            await ami.push(b"this is not\r\nan AMI frame\r\n\r\n")
            await ami.push(wire_bytes("internal"))
            await sink.wait_for(3)
    assert ami.logins == 1
    assert "malformed AMI frame skipped" in caplog.text


async def test_reconnects_and_resyncs_live_calls(ami: FakeAmiServer) -> None:
    """After a drop: backoff, login again, CoreShowChannels; a leg that ended
    while away is finished, a leg answered while away is connected."""
    sink = RecordingSink()
    frames = wire_bytes("ring_group").split(b"Event: DialEnd", 1)[0]
    async with Running(make_adapter(ami, sink)):
        async with asyncio.timeout(5):
            await ami.logged_in.wait()
            await resynced(ami, 1)
            await ami.push(frames.rstrip(b"\r\n") + b"\r\n\r\n")
            await sink.wait_for(2)  # both phones ringing
            # While disconnected: 102 answered, 101 stopped ringing.
            ami.channels = [
                {
                    "Channel": "PJSIP/rt-trunk-0000000d",
                    "Uniqueid": "1767615000.1",
                    "Linkedid": "1767615000.1",
                    "ChannelState": "6",
                    "CallerIDNum": "79161234567",
                },
                {
                    "Channel": "PJSIP/102-0000000f",
                    "Uniqueid": "1767615000.3",
                    "Linkedid": "1767615000.1",
                    "ChannelState": "6",
                    "CallerIDNum": "102",
                },
            ]
            ami.logged_in.clear()
            ami.drop()
            await ami.logged_in.wait()
        # A guard against hanging, not a timing check: the "resynced within 2 s of
        # reconnecting" promise is measured by bench/ami_resync.py.
        async with asyncio.timeout(10):
            events = await sink.wait_for(4)
    resync = {(e.call_id, e.state, e.kind) for e in events[2:]}
    assert resync == {
        ("1767615000.2", CallState.FINISHED, CallKind.HANGUP),
        ("1767615000.3", CallState.CONNECTED, CallKind.ANSWERED),
    }
    assert ami.logins == 2


async def test_login_failure_is_reported_and_retried(ami: FakeAmiServer) -> None:
    ami.secret = "another"
    sink = RecordingSink()
    async with Running(make_adapter(ami, sink)) as adapter:
        async with asyncio.timeout(5):
            while ami.failed_logins < 2:
                await ami.login_refused.wait()
                ami.login_refused.clear()
            status = await adapter.status()
            assert status.state is State.DOWN
            assert status.detail == "login failed: Authentication failed"
            assert "s3cret" not in status.detail
            ami.secret = "s3cret"
            await ami.logged_in.wait()
            await until(state_is(adapter, State.OK))


async def test_unreachable_ami_is_down_not_fatal(tmp_path: Path) -> None:
    server = FakeAmiServer()
    await server.start()
    await server.close()  # nothing listens on that port any more
    adapter = make_adapter(server, RecordingSink())
    async with Running(adapter):
        async with asyncio.timeout(5):
            await until(state_is(adapter, State.DOWN))
    assert "disconnected" in (await adapter.status()).detail


async def test_unanswered_ping_means_reconnect(ami: FakeAmiServer) -> None:
    ami.answer_pings = False
    adapter = make_adapter(ami, RecordingSink())
    adapter._config = adapter._config.model_copy(
        update={"ping_interval_seconds": 0.01, "action_timeout_seconds": 0.05}
    )

    async def second_login() -> bool:
        return ami.logins >= 2

    async with Running(adapter):
        async with asyncio.timeout(5):
            await until(second_login)


async def test_extension_states_follow_ami_events(ami: FakeAmiServer) -> None:
    sink = RecordingSink()
    async with Running(make_adapter(ami, sink)) as adapter:
        async with asyncio.timeout(5):
            await ami.logged_in.wait()
            await resynced(ami, 1)
            await ami.push(
                b"Event: DeviceStateChange\r\nPrivilege: call,all\r\n"
                b"Device: PJSIP/101\r\nState: INUSE\r\n\r\n"
                b"Event: ExtensionStatus\r\nPrivilege: call,all\r\nExten: 102\r\n"
                b"Context: ext-local\r\nHint: PJSIP/102\r\nStatus: 4\r\n"
                b"StatusText: Unavailable\r\n\r\n"
            )

            async def reported() -> bool:
                return len(adapter.extension_states.snapshot()) == 2

            await until(reported)
    states = adapter.extension_states
    assert states.get("101") is ExtensionState.BUSY
    assert states.get("102") is ExtensionState.UNAVAILABLE
    assert states.get("103") is ExtensionState.UNKNOWN


async def test_reconnect_backoff_starts_afresh_after_a_session_that_was_up(
    ami: FakeAmiServer,
) -> None:
    """Earlier outages must not slow later reconnects: after a logged-in session
    drops, the adapter waits the minimum pause, not a backoff grown by history."""
    sink = RecordingSink()
    adapter = make_adapter(ami, sink)
    pauses: list[float] = []
    pause = adapter._pause

    async def recorded(seconds: float) -> None:
        pauses.append(seconds)
        await pause(0)

    adapter._pause = recorded  # type: ignore[method-assign]
    async with Running(adapter):
        for drop in range(6):
            async with asyncio.timeout(10):
                await ami.logged_in.wait()
                await resynced(ami, drop + 1)
            ami.logged_in.clear()
            ami.drop()
        async with asyncio.timeout(10):
            await ami.logged_in.wait()
    assert ami.logins == 7
    assert pauses[:6] == [0.01] * 6
