"""The FastAGI server, driven by a fake Asterisk over TCP.

`agi_call` plays Asterisk's side of FastAGI (docs.asterisk.org "AGI Commands",
res_agi): it connects, sends the `agi_*` environment and an empty line, answers
each command with `200 result=1`, and returns the commands it got once the
server closes the connection (which hands the call back to the dialplan).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.contacts import ContactMatch, ContactOwner
from bridge.core import Core, open_core
from pbx.asterisk.agi import AgiServer
from pbx.asterisk.agi_protocol import (
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    parse_env,
    parse_reply,
    quote,
)
from tests.conftest import make_config

CLIENT = "+79161234567"


class FakeContacts:
    """The contact index: one known client, one number whose lookup never ends."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def lookup(self, number: str) -> ContactMatch | None:
        self.asked.append(number)
        if number == "79990000000":
            await asyncio.Event().wait()
        if number != "79161234567":
            return None
        owner = ContactOwner(
            ref="6f2c",
            entity="Catalog_КонтактныеЛица",
            presentation='Иван "Ваня" Петров',
            parent_ref="11aa",
            parent_presentation="ООО Ромашка",
        )
        return ContactMatch(CLIENT, (owner,))


@pytest.fixture
async def agi(tmp_path: Path) -> AsyncIterator[tuple[AgiServer, Core]]:
    config = make_config(tmp_path, agi={"lookup_budget_seconds": 0.2})
    async with open_core(config) as core:
        core.contacts = FakeContacts()
        server = AgiServer(config.agi, core)
        await server.start()
        yield server, core
        await server.close()


async def agi_call(
    server: AgiServer | tuple[str, int], env: dict[str, str]
) -> list[str]:
    address = server.address if isinstance(server, AgiServer) else server
    reader, writer = await asyncio.open_connection(*address)
    lines = "".join(f"{k}: {v}\n" for k, v in env.items()) + "\n"
    writer.write(lines.encode())
    commands = []
    async with asyncio.timeout(5):
        while line := await reader.readline():
            commands.append(line.decode().rstrip("\n"))
            writer.write(b"200 result=1\n")
            await writer.drain()
    writer.close()
    return commands


def env_for(caller: str, script: str = "callername") -> dict[str, str]:
    return {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1:4573/{script}",
        "agi_channel": "PJSIP/rt-trunk-00000001",
        "agi_callerid": caller,
        "agi_calleridname": "unknown",
        "agi_extension": "74951234567",
    }


async def test_caller_name_is_set_from_the_contact_index(agi) -> None:
    server, _ = agi
    commands = await agi_call(server, env_for("79161234567"))
    assert commands == [
        'SET VARIABLE CALLERID(name) "Иван \\"Ваня\\" Петров (ООО Ромашка)"'
    ]


async def test_unknown_caller_keeps_the_name(agi) -> None:
    server, _ = agi
    assert await agi_call(server, env_for("79000000000")) == []


async def test_slow_lookup_never_holds_the_call(agi) -> None:
    server, core = agi
    assert await agi_call(server, env_for("79990000000")) == []
    assert core.contacts.asked == ["79990000000"]


async def test_without_contact_index_nothing_is_asked(agi) -> None:
    server, core = agi
    core.contacts = None
    assert await agi_call(server, env_for("79161234567")) == []


async def test_unknown_hook_and_garbage_are_closed_promptly(agi) -> None:
    server, _ = agi
    assert await agi_call(server, env_for("79161234567", script="nosuch")) == []
    assert await agi_call(server, {"GET / HTTP/1.1": "x"}) == []
    # The server still serves after both.
    assert len(await agi_call(server, env_for("79161234567"))) == 1


def test_parse_env_and_script_name() -> None:
    request = parse_env(["agi_network_script: callername?x=1", "agi_callerid: 101"])
    assert request.script == "callername"
    assert request.caller_number == "101"
    assert request.caller_name == ""
    with pytest.raises(AgiProtocolError):
        parse_env(["not an env line"])


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("200 result=1", AgiReply(200, 1, "", "1")),
        ("200 result=-1", AgiReply(200, -1, "", "-1")),
        ("200 result=1 (timeout)", AgiReply(200, 1, "timeout", "1")),
        ("200 result=0201", AgiReply(200, 201, "", "0201")),
        ("200 result= (timeout)", AgiReply(200, 0, "result= (timeout)", "")),
        (
            "510 Invalid or unknown command",
            AgiReply(510, 0, "Invalid or unknown command"),
        ),
    ],
)
def test_parse_reply(line: str, reply: AgiReply) -> None:
    assert parse_reply(line) == reply


def test_parse_reply_errors() -> None:
    with pytest.raises(AgiHangup):
        parse_reply("HANGUP")
    with pytest.raises(AgiProtocolError):
        parse_reply("hello")


def test_quote_escapes_and_keeps_one_line() -> None:
    assert quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c d"'
