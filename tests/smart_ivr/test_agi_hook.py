"""The smart IVR through FastAGI, against a scripted Asterisk over TCP.

`Asterisk` plays res_agi's side (docs.asterisk.org "AGI Commands"): it sends the
agi_* environment, answers ANSWER, GET DATA (with the keys the test scripts, or a
timeout), GET FULL VARIABLE ${DIALPLAN_EXISTS(...)} (from a set of known
extensions) and SET VARIABLE, and records every command.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from bridge.clock import FakeClock
from bridge.core import open_core
from bridge.storage import migrate
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import RoutingStore
from jobs.routing_table.table import RoutingTable
from pbx.asterisk.agi import AgiServer
from smart_ivr.agi_hook import HOOK, SmartIvrHook
from smart_ivr.availability import Availability
from smart_ivr.feature import settings
from smart_ivr.menu import Employee
from smart_ivr.service import IvrService, PromptAudio
from tests.conftest import make_config

CALLER = "+79161234567"
EXISTS = re.compile(r"DIALPLAN_EXISTS\(internal,([^,]+),1\)")


class Staff:
    async def lookup(self, ids: Sequence[str]) -> Mapping[str, Employee]:
        return {i: Employee(i, f"Сотрудник {i}", i) for i in ids}


class Prompts:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def prompt(self, fragments: Sequence[str]) -> PromptAudio:
        if self.fail:
            raise RuntimeError("TTS is down")
        return PromptAudio(
            "/var/lib/telebridge/tts/ab/abcd", "/api/v1/ivr/prompts/ab/abcd.sln"
        )


class Asterisk:
    def __init__(self, keys: list[str], known: set[str]) -> None:
        self.keys, self.known = keys, known
        self.commands: list[str] = []

    async def call(
        self, address: tuple[str, int], caller: str = CALLER
    ) -> dict[str, str]:
        reader, writer = await asyncio.open_connection(*address)
        env = {
            "agi_network_script": HOOK,
            "agi_callerid": caller,
            "agi_channel": "PJSIP/trunk-1",
        }
        writer.write(("".join(f"{k}: {v}\n" for k, v in env.items()) + "\n").encode())
        variables: dict[str, str] = {}
        async with asyncio.timeout(10):
            while line := (await reader.readline()).decode().strip():
                self.commands.append(line)
                writer.write(self.reply(line, variables).encode() + b"\n")
                await writer.drain()
        writer.close()
        return variables

    def reply(self, line: str, variables: dict[str, str]) -> str:
        if line.startswith("GET DATA"):
            keys = self.keys.pop(0) if self.keys else ""
            return f"200 result={keys}" if keys else "200 result= (timeout)"
        if line.startswith("GET FULL VARIABLE"):
            ext = EXISTS.search(line)
            return f"200 result=1 ({int(bool(ext and ext.group(1) in self.known))})"
        if line.startswith("SET VARIABLE"):
            _, _, name, value = line.split(" ", 3)
            variables[name] = value.strip('"')
        return "200 result=0"


@pytest.fixture
async def agi(
    tmp_path: Path,
) -> AsyncIterator[Callable[[Prompts], Awaitable[AgiServer]]]:
    config = make_config(
        tmp_path,
        ivr={
            "default_destination": "100",
            "emergency_destination": "999",
            "attempts": 2,
            "last_responsible_minutes": 0,
        },
    )
    async with open_core(config) as core:
        await migrate.upgrade(core.db)
        store = RoutingStore(core.db)
        now = core.clock.now()
        docs = [
            Interaction(CALLER, "201", "calls", now - timedelta(days=1), 3),
            Interaction(CALLER, "202", "calls", now - timedelta(days=1), 1),
        ]
        types = {"calls": DocumentType("calls", 1.0, timedelta(days=90))}
        await store.add(docs)

        async def start(prompts: Prompts) -> AgiServer:
            service = IvrService(
                settings(config),
                RoutingTable(store, types, FakeClock(now), nobody),
                Staff(),
                Availability(ZoneInfo("UTC")),
                FakeClock(now),
                CollectorRegistry(),
                tts=prompts,
            )
            server = AgiServer(config.agi, core)
            server.register(HOOK, SmartIvrHook(service, config.ivr))
            await server.start()
            servers.append(server)
            return server

        servers: list[AgiServer] = []
        yield start
        for server in servers:
            await server.close()


KNOWN = {"201", "202", "100", "999", "0"}


async def test_caller_presses_a_menu_digit(agi) -> None:
    server = await agi(Prompts())
    pbx = Asterisk(["2"], KNOWN)
    variables = await pbx.call(server.address)
    assert variables == {
        "TELEBRIDGE_IVR_DESTINATION": "202",
        "TELEBRIDGE_IVR_REASON": "chosen",
    }
    assert pbx.commands[0] == "ANSWER"
    assert pbx.commands[1] == 'GET DATA "/var/lib/telebridge/tts/ab/abcd" 3000 3'


async def test_silence_goes_to_the_default_after_the_attempts(agi) -> None:
    server = await agi(Prompts())
    pbx = Asterisk(["", ""], KNOWN)
    variables = await pbx.call(server.address)
    assert variables["TELEBRIDGE_IVR_DESTINATION"] == "100"
    assert variables["TELEBRIDGE_IVR_REASON"] == "no-choice"
    assert sum(c.startswith("GET DATA") for c in pbx.commands) == 2


async def test_tts_failure_sends_to_emergency_without_answering(agi) -> None:
    server = await agi(Prompts(fail=True))
    pbx = Asterisk([], KNOWN)
    variables = await pbx.call(server.address)
    assert variables["TELEBRIDGE_IVR_DESTINATION"] == "999"
    assert "ANSWER" not in pbx.commands


async def test_a_missing_destination_goes_to_the_last_resort(agi) -> None:
    server = await agi(Prompts())
    pbx = Asterisk(["", ""], KNOWN - {"100"})
    variables = await pbx.call(server.address)
    assert variables == {
        "TELEBRIDGE_IVR_DESTINATION": "0",
        "TELEBRIDGE_IVR_REASON": "last-resort",
    }


async def test_a_typed_extension_that_exists_is_dialled(agi) -> None:
    server = await agi(Prompts())
    pbx = Asterisk(["205"], KNOWN | {"205"})
    variables = await pbx.call(server.address)
    assert variables["TELEBRIDGE_IVR_DESTINATION"] == "205"


async def nobody() -> frozenset[str]:
    return frozenset()
