"""One logged-in AMI session over an asyncio stream: login, actions, events.

Why not panoramisk's protocol underneath: panoramisk 1.4 parses frames itself (so
our pure parser, the thing the benchmark measures and the scenarios pin, would not
be what runs), reconnects on its own timer (we want tenacity's backoff, owned by
the app lifecycle), dispatches callbacks with unsupervised `ensure_future`, and
waits for Originate's `OriginateResponse` with no timeout (research ecosystem.md
§1.6). The AMI wire protocol is plain `Key: Value` blocks, so this module is the
small replacement the research recommends, and panoramisk is not a dependency.

    AmiError
    ├── AmiDisconnected   the stream ended or broke
    ├── AmiLoginFailed    Asterisk refused the credentials
    ├── AmiActionFailed   `Response: Error` to an action
    └── AmiTimeout        no (complete) answer within the timeout
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pbx.asterisk.parser import Message, parse, serialize

log = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
BANNER_PREFIX = b"Asterisk Call Manager"
_ids = itertools.count(1)


class AmiError(Exception):
    pass


class AmiDisconnected(AmiError):
    pass


class AmiLoginFailed(AmiError):
    pass


class AmiActionFailed(AmiError):
    pass


class AmiTimeout(AmiError):
    pass


EventHandler = Callable[[Message], None]


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[list[Message]]
    # Event that completes a multi-message answer (a list, an async Originate).
    until: str | None
    # Called with the answer at its place in the stream, before any later event
    # is dispatched: a snapshot (CoreShowChannels) must not be applied after
    # events that followed it.
    on_done: Callable[[list[Message]], None] | None = None
    collected: list[Message] = field(default_factory=list)


class AmiConnection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: EventHandler,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._pending: dict[str, _Pending] = {}
        self._rest = b""

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        username: str,
        secret: str,
        wait_seconds: float,
        on_event: EventHandler,
    ) -> AmiConnection:
        """Connect, check the banner and log in; the caller then awaits `run()`."""
        try:
            async with asyncio.timeout(wait_seconds):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            raise AmiDisconnected(f"cannot connect to {host}:{port}: {exc!r}") from exc
        conn = cls(reader, writer, on_event)
        try:
            await conn._greet(wait_seconds)
            await conn._login(username, secret, wait_seconds)
        except BaseException:
            # Whatever stopped us (refusal, timeout, shutdown), the socket goes.
            writer.close()
            raise
        return conn

    async def run(self) -> None:
        """Read until the stream ends; raises `AmiDisconnected` when it does."""
        try:
            while True:
                await self._read_once()
        finally:
            self._fail_pending(AmiDisconnected("connection closed"))

    async def action(
        self,
        name: str,
        headers: Mapping[str, str] | None = None,
        *,
        wait_seconds: float,
        until: str | None = None,
        on_done: Callable[[list[Message]], None] | None = None,
    ) -> list[Message]:
        """Send an action and return its answer: the response, then (with
        `until`) every event carrying its ActionID up to the `until` event."""
        action_id = f"tb-{next(_ids)}"
        pending = _Pending(asyncio.get_running_loop().create_future(), until, on_done)
        self._pending[action_id] = pending
        frame = {"Action": name, "ActionID": action_id, **(headers or {})}
        try:
            self._writer.write(serialize(frame))
            await self._writer.drain()
            async with asyncio.timeout(wait_seconds):
                return await pending.future
        except TimeoutError:
            raise AmiTimeout(f"{name}: no answer in {wait_seconds:g} s") from None
        except (ConnectionError, OSError) as exc:
            raise AmiDisconnected(f"{name}: {exc!r}") from exc
        finally:
            self._pending.pop(action_id, None)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    async def _greet(self, wait_seconds: float) -> None:
        try:
            async with asyncio.timeout(wait_seconds):
                banner = await self._reader.readline()
        except (OSError, TimeoutError) as exc:
            raise AmiDisconnected(f"no AMI banner: {exc!r}") from exc
        if not banner.startswith(BANNER_PREFIX):
            raise AmiDisconnected(f"not an AMI server: banner {banner[:60]!r}")

    async def _login(self, username: str, secret: str, wait_seconds: float) -> None:
        reading = asyncio.create_task(self.run())
        try:
            await self.action(
                "Login",
                {"Username": username, "Secret": secret},
                wait_seconds=wait_seconds,
            )
        except AmiActionFailed as exc:
            raise AmiLoginFailed(str(exc)) from None
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, AmiError):
                await reading

    async def _read_once(self) -> None:
        try:
            chunk = await self._reader.read(READ_CHUNK)
        except (ConnectionError, OSError) as exc:
            raise AmiDisconnected(repr(exc)) from exc
        if not chunk:
            raise AmiDisconnected("connection closed by Asterisk")
        messages, self._rest = parse(self._rest + chunk)
        for message in messages:
            self._dispatch(message)

    def _dispatch(self, message: Message) -> None:
        pending = self._pending.get(message.action_id)
        if pending is None:
            if message.event:
                self._on_event(message)
            return
        if pending.future.done():
            return
        if message.response == "Error":
            reason = message.get("Message", "error")
            pending.future.set_exception(AmiActionFailed(reason))
            return
        pending.collected.append(message)
        if pending.until is None or message.event == pending.until:
            if pending.on_done is not None:
                pending.on_done(pending.collected)
            pending.future.set_result(pending.collected)

    def _fail_pending(self, exc: AmiError) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(exc)
