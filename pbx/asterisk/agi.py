"""The FastAGI server dialplans call: `AGI(agi://<agi.host>:<agi.port>/callername)`.

Hooks are named by the script part of the URL. The first one, `callername`, sets
CALLERID(name) from the contact index within `agi.lookup_budget_seconds`; with no
index, no match or no answer in time it leaves the name alone. Whatever happens
the connection is closed promptly, which returns the call to its dialplan: a hook
must never hold a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bridge.core import Core
from pbx.asterisk.agi_protocol import (
    OK,
    AgiProtocolError,
    AgiReply,
    AgiRequest,
    parse_env,
    parse_reply,
    set_variable,
)
from pbx.config import AgiConfig

log = logging.getLogger(__name__)

MAX_ENV_LINES = 200
MAX_LINE_BYTES = 4096
CALLER_NAME_HOOK = "callername"


class AgiSession:
    """One FastAGI connection, after its environment was read."""

    def __init__(
        self,
        request: AgiRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.request = request
        self._reader = reader
        self._writer = writer

    async def command(self, line: bytes) -> int:
        """Send one command; its `result=` (raises on an error reply or hangup)."""
        return (await self.reply(line)).result

    async def reply(self, line: bytes) -> AgiReply:
        """Send one command; its whole reply (raises on an error reply or hangup)."""
        self._writer.write(line)
        await self._writer.drain()
        reply = parse_reply((await self._reader.readline()).decode("utf-8", "replace"))
        if reply.code != OK:
            raise AgiProtocolError(f"AGI command failed: {reply.code} {reply.data}")
        return reply


Hook = Callable[[AgiSession], Awaitable[None]]


class AgiServer:
    def __init__(self, config: AgiConfig, core: Core) -> None:
        self._config = config
        self._core = core
        self._server: asyncio.Server | None = None
        self._hooks: dict[str, Hook] = {
            CALLER_NAME_HOOK: self._caller_name,
            "": self._caller_name,
        }

    def register(self, name: str, hook: Hook) -> None:
        """Serve `agi://host:port/<name>` with `hook` (other features add theirs)."""
        self._hooks[name] = hook

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "AGI server not started"  # noqa: S101
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._config.host, self._config.port, limit=MAX_LINE_BYTES
        )
        log.info("FastAGI listening on %s:%d", *self.address)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            request = await self._read_env(reader)
            hook = self._hooks.get(request.script)
            if hook is None:
                log.warning("AGI request for unknown hook %r", request.script)
                return
            await hook(AgiSession(request, reader, writer))
        except (AgiProtocolError, ValueError, ConnectionError) as exc:
            log.warning("AGI session ended: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _read_env(self, reader: asyncio.StreamReader) -> AgiRequest:
        lines: list[str] = []
        async with asyncio.timeout(self._config.lookup_budget_seconds):
            while len(lines) < MAX_ENV_LINES:
                line = (await reader.readline()).decode("utf-8", "replace").strip()
                if not line:
                    return parse_env(lines)
                lines.append(line)
        raise AgiProtocolError("AGI environment too long")

    async def _caller_name(self, session: AgiSession) -> None:
        number = session.request.caller_number
        contacts = self._core.contacts
        if not number or contacts is None:
            return
        try:
            async with asyncio.timeout(self._config.lookup_budget_seconds):
                match = await contacts.lookup(number)
        except TimeoutError:
            log.warning("caller-name lookup over budget; name left as is")
            return
        if match is None or not match.display_name:
            return
        await session.command(set_variable("CALLERID(name)", match.display_name))
