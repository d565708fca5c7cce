"""The Asterisk PBX adapter: keeps an AMI session up and turns it into call events.

The pump: connect and log in (retried with tenacity's exponential backoff, waits
cut short by shutdown), resync live calls (CoreShowChannels) and extension states
right after login, then feed every AMI event to the call tracker and publish what
it returns, in order, to `core.events`. Health ("pbx") says connected, starting,
or down with the last reason (a refused login names itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from bridge.call_events import CallEvent, EventSink
from bridge.clock import Clock
from bridge.health import ComponentStatus, State
from pbx.asterisk import originate
from pbx.asterisk.calls import CallTracker
from pbx.asterisk.connection import (
    AmiActionFailed,
    AmiConnection,
    AmiDisconnected,
    AmiError,
    AmiLoginFailed,
    AmiTimeout,
)
from pbx.asterisk.extension_state import ExtensionStateTable
from pbx.asterisk.parser import Message
from pbx.base import (
    OriginateRejected,
    OriginateResult,
    PbxTimeout,
    PbxUnavailable,
)
from pbx.config import AsteriskConfig

log = logging.getLogger(__name__)


class AsteriskAdapter:
    """Implements `pbx.base.PbxAdapter` over AMI."""

    def __init__(
        self,
        config: AsteriskConfig,
        clock: Clock,
        registry: CollectorRegistry,
        sink: Callable[[], EventSink | None] = lambda: None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._sink = sink
        self._tracker = CallTracker(config.trunk_contexts)
        self._states = ExtensionStateTable()
        self._conn: AmiConnection | None = None
        self._outbox: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._status = ComponentStatus(State.STARTING, "connecting")
        self._events = Counter(
            "telebridge_ami_events",
            "AMI events received, by outcome",
            ["outcome"],
            registry=registry,
        )
        self._reconnects = Counter(
            "telebridge_ami_connect_failures",
            "Failed AMI connects or logins, and dropped sessions",
            registry=registry,
        )

    @property
    def extension_states(self) -> ExtensionStateTable:
        return self._states

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def status(self) -> ComponentStatus:
        return self._status

    async def run(self) -> None:
        """Until cancelled: stay connected, publish what happens."""
        publisher = asyncio.create_task(self._publish_forever())
        try:
            while not self._stop.is_set():
                await self._connect_with_backoff()
                # A session that was up has dropped: reconnect after the shortest
                # pause with a fresh backoff, not one grown by earlier outages.
                await self._pause(self._config.reconnect_min_seconds)
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher

    async def stop(self) -> None:
        self._stop.set()

    async def _connect_with_backoff(self) -> None:
        """Returns once a logged-in session has ended; retries failures meanwhile."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(AmiError),
            wait=wait_exponential_jitter(
                multiplier=self._config.reconnect_min_seconds,
                max=self._config.reconnect_max_seconds,
                jitter=self._config.reconnect_min_seconds,
            ),
            sleep=self._pause,
            before_sleep=self._note_failure,
        ):
            with attempt:
                await self._session()

    async def originate(self, from_extension: str, to_number: str) -> OriginateResult:
        conn = self._conn
        if conn is None:
            raise PbxUnavailable(self._status.detail or "not connected to Asterisk")
        headers = originate.action_headers(self._config, from_extension, to_number)
        try:
            answer = await conn.action(
                "Originate",
                headers,
                wait_seconds=self._config.originate_timeout_seconds,
                until="OriginateResponse",
            )
        except AmiActionFailed as exc:
            raise OriginateRejected(str(exc)) from None
        except AmiTimeout as exc:
            raise PbxTimeout(str(exc)) from None
        except AmiDisconnected as exc:
            raise PbxUnavailable(str(exc)) from None
        return originate.result(answer[-1])

    # -- the session ----------------------------------------------------------

    async def _session(self) -> None:
        config = self._config
        conn = await AmiConnection.open(
            config.host,
            config.port,
            username=config.username,
            secret=config.secret.get_secret_value(),
            wait_seconds=config.action_timeout_seconds,
            on_event=self._on_event,
        )
        log.info("AMI connected to %s:%d", config.host, config.port)
        self._conn = conn
        self._status = ComponentStatus(State.OK, data={"host": config.host})
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(conn.run())
                tasks.create_task(self._keep_alive(conn))
        except* AmiError as group:
            # Logged in and then lost: ends this retry sequence (run() reconnects).
            log.warning("AMI disconnected: %s; reconnecting", group.exceptions[0])
            self._status = ComponentStatus(State.DOWN, str(group.exceptions[0]))
        finally:
            self._conn = None
            await conn.close()

    async def _keep_alive(self, conn: AmiConnection) -> None:
        await self._resync(conn)
        timeout = self._config.action_timeout_seconds
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._config.ping_interval_seconds):
                    await self._stop.wait()
            await conn.action("Ping", wait_seconds=timeout)

    async def _resync(self, conn: AmiConnection) -> None:
        """Right after login: what is live now, since we may have missed events."""
        timeout = self._config.action_timeout_seconds
        try:
            await conn.action(
                "CoreShowChannels",
                wait_seconds=timeout,
                until="CoreShowChannelsComplete",
                on_done=self._apply_snapshot,
            )
        except AmiActionFailed as exc:
            # Refused (the AMI user lacks `reporting` read): events still flow.
            log.warning("AMI CoreShowChannels refused, no resync: %s", exc)
        try:
            await conn.action(
                "ExtensionStateList",
                wait_seconds=timeout,
                until="ExtensionStateListComplete",
                on_done=self._apply_states,
            )
        except AmiActionFailed as exc:
            # Asterisk < 13 has no ExtensionStateList; live events still arrive.
            log.info("AMI ExtensionStateList unavailable: %s", exc)

    def _apply_snapshot(self, answer: list[Message]) -> None:
        snapshot = [m for m in answer if m.event == "CoreShowChannel"]
        for event in self._tracker.resync(snapshot, self._clock.now()):
            self._outbox.put_nowait(event)
        log.info("AMI resync: %d live channels", len(snapshot))

    def _apply_states(self, answer: list[Message]) -> None:
        for message in answer:
            self._states.handle(message)

    def _on_event(self, message: Message) -> None:
        if self._states.handle(message):
            self._events.labels("state").inc()
            return
        events = self._tracker.handle(message, self._clock.now())
        self._events.labels("call" if events else "other").inc()
        for event in events:
            self._outbox.put_nowait(event)

    async def _publish_forever(self) -> None:
        while True:
            event = await self._outbox.get()
            sink = self._sink()
            if sink is None:
                log.debug("no event sink; call event %s dropped", event.call_id)
                continue
            try:
                await sink.publish_call(event)
            except Exception:
                # The hub's own faults must not stop the adapter; the journal
                # recovers the call from the CDR.
                log.exception("publishing call event %s failed", event.call_id)

    async def _pause(self, seconds: float) -> None:
        """tenacity's wait, cut short when the adapter is stopped."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        if self._stop.is_set():
            raise asyncio.CancelledError

    def _note_failure(self, retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        self._reconnects.inc()
        if isinstance(exc, AmiLoginFailed):
            detail = f"login failed: {exc}"
        else:
            detail = f"disconnected: {exc}"
        self._status = ComponentStatus(State.DOWN, detail)
        log.warning("AMI %s; retrying", detail)
