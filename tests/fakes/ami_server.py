"""A fake Asterisk Manager Interface over real TCP, for the adapter's tests.

Stands in for Asterisk 16-22's AMI (docs.asterisk.org "AMI v2 Specification" and
the AMI_Actions pages): the banner line, Login (accepted or "Authentication
failed" and the connection closed), Ping, CoreShowChannels as an event list,
async Originate answered "queued" then by an OriginateResponse event, and
`Response: Error` for anything else. Tests push raw frames and drop connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from pbx.asterisk.parser import Message, parse, serialize

BANNER = b"Asterisk Call Manager/5.0.2\r\n"


class FakeAmiServer:
    def __init__(self, username: str = "telebridge", secret: str = "s3cret") -> None:  # noqa: S107
        self.username = username
        self.secret = secret
        self.port = 0
        self.logins = 0
        self.failed_logins = 0
        self.actions: list[Message] = []
        # CoreShowChannel entries (header dicts) the next CoreShowChannels lists.
        self.channels: list[dict[str, str]] = []
        # OriginateResponse to send: None means never answer.
        self.originate_reply: dict[str, str] | None = {
            "Response": "Success",
            "Reason": "4",
        }
        # False: Pings go unanswered, like a hung Asterisk.
        self.answer_pings = True
        self.logged_in = asyncio.Event()
        self.login_refused = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._track, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _track(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            writer.close()
        finally:
            self._tasks.discard(task)

    async def push(self, data: bytes) -> None:
        """Raw frames to every logged-in client."""
        for writer in list(self._clients):
            writer.write(data)
            await writer.drain()

    def drop(self) -> None:
        for writer in list(self._clients):
            writer.close()
        self._clients.clear()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(BANNER)
        rest = b""
        try:
            while chunk := await reader.read(65536):
                messages, rest = parse(rest + chunk)
                for message in messages:
                    if not await self._answer(message, writer):
                        return
        except ConnectionError:
            pass
        finally:
            self._clients.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, m: Message, writer: asyncio.StreamWriter) -> bool:
        self.actions.append(m)
        action = m.get("Action").lower()
        aid = {"ActionID": m.action_id}
        if action == "login":
            if m.get("Username") != self.username or m.get("Secret") != self.secret:
                self.failed_logins += 1
                self.login_refused.set()
                self._send(
                    writer,
                    {"Response": "Error", **aid, "Message": "Authentication failed"},
                )
                await writer.drain()
                return False
            self.logins += 1
            self._clients.add(writer)
            self._send(
                writer,
                {"Response": "Success", **aid, "Message": "Authentication accepted"},
            )
            self._send(
                writer,
                {
                    "Event": "FullyBooted",
                    "Privilege": "system,all",
                    "Status": "Fully Booted",
                },
            )
            self.logged_in.set()
        elif action == "ping":
            if not self.answer_pings:
                return True
            self._send(
                writer,
                {
                    "Response": "Success",
                    **aid,
                    "Ping": "Pong",
                    "Timestamp": "1767614400.000000",
                },
            )
        elif action == "coreshowchannels":
            self._send(
                writer,
                {
                    "Response": "Success",
                    **aid,
                    "EventList": "start",
                    "Message": "Channels will follow",
                },
            )
            for channel in self.channels:
                self._send(writer, {"Event": "CoreShowChannel", **aid, **channel})
            self._send(
                writer,
                {
                    "Event": "CoreShowChannelsComplete",
                    **aid,
                    "EventList": "Complete",
                    "ListItems": str(len(self.channels)),
                },
            )
        elif action == "originate":
            self._send(
                writer,
                {
                    "Response": "Success",
                    **aid,
                    "Message": "Originate successfully queued",
                },
            )
            if self.originate_reply is not None:
                self._send(
                    writer,
                    {
                        "Event": "OriginateResponse",
                        "Privilege": "call,all",
                        **aid,
                        "Channel": m.get("Channel"),
                        "Context": m.get("Context"),
                        "Exten": m.get("Exten"),
                        "Uniqueid": "1767614999.7",
                        **self.originate_reply,
                    },
                )
        else:
            self._send(
                writer,
                {"Response": "Error", **aid, "Message": "Invalid/unknown command"},
            )
        await writer.drain()
        return True

    @staticmethod
    def _send(writer: asyncio.StreamWriter, headers: Mapping[str, str]) -> None:
        writer.write(serialize(headers))
