"""Consumers: hashed tokens on both engines, panel tokens, and the CLI verbs."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.longpoll.consumer_auth import Consumer, ConsumerKind
from bridge.longpoll.consumers import (
    ConsumerExists,
    ConsumerRegistry,
    InvalidConsumer,
    NoSuchConsumer,
    hash_token,
)
from bridge.longpoll.models import ConsumerRow
from bridge.storage.database import Database
from tests.conftest import ADMIN_TOKEN, RunningService


async def test_tokens_are_stored_hashed_and_authenticate(
    db: Database, clock: FakeClock
) -> None:
    registry = ConsumerRegistry(db, clock)
    token = await registry.add("base1", ConsumerKind.ONEC)
    async with db.session() as session:
        row = (await session.scalars(select(ConsumerRow))).one()
    assert row.token_hash == hash_token(token)
    assert token not in (row.token_hash, row.name, row.cursor)
    fresh = ConsumerRegistry(db, clock)  # another instance: no cache
    assert await fresh.authenticate(token) == Consumer("base1", ConsumerKind.ONEC)
    assert await fresh.authenticate(token + "x") is None


async def test_revoke_takes_effect_at_once(db: Database, clock: FakeClock) -> None:
    registry = ConsumerRegistry(db, clock)
    token = await registry.add("base1", ConsumerKind.ONEC)
    assert await registry.authenticate(token) is not None  # now cached
    await registry.revoke("base1")
    assert await registry.authenticate(token) is None
    with pytest.raises(NoSuchConsumer):
        await registry.revoke("base1")


async def test_a_revocation_on_another_instance_holds_after_refresh(
    db: Database, clock: FakeClock
) -> None:
    here, there = ConsumerRegistry(db, clock), ConsumerRegistry(db, clock)
    token = await there.add("base1", ConsumerKind.ONEC)
    panel = await there.issue_panel_token("102", "user-7")
    assert await here.authenticate(token) is not None  # cached here now
    assert await here.authenticate(panel) is not None
    await there.revoke("base1")
    newer = await there.issue_panel_token("102", "user-7")
    await here.refresh()
    assert await here.authenticate(token) is None
    assert await here.authenticate(panel) is None
    assert await here.authenticate(newer) is not None


async def test_names_are_unique_and_kinds_checked(
    db: Database, clock: FakeClock
) -> None:
    registry = ConsumerRegistry(db, clock)
    await registry.add("base1", ConsumerKind.ONEC)
    with pytest.raises(ConsumerExists):
        await registry.add("base1", ConsumerKind.ONEC)
    with pytest.raises(InvalidConsumer):
        await registry.add("p", ConsumerKind.PANEL)
    with pytest.raises(InvalidConsumer):
        await registry.add("", ConsumerKind.ONEC)


async def test_panel_token_replaces_the_users_previous_one(
    db: Database, clock: FakeClock
) -> None:
    registry = ConsumerRegistry(db, clock)
    first = await registry.issue_panel_token("102", "user-7")
    second = await registry.issue_panel_token("102", "user-7")
    assert await registry.authenticate(first) is None
    panel = await registry.authenticate(second)
    assert panel == Consumer("panel:102:user-7", ConsumerKind.PANEL, "102")


async def test_acknowledgements_are_flushed_with_the_poll_time(
    db: Database, clock: FakeClock
) -> None:
    registry = ConsumerRegistry(db, clock)
    token = await registry.add("base1", ConsumerKind.ONEC)
    consumer = await registry.authenticate(token)
    assert consumer is not None
    registry.polled(consumer, "ab.5")
    (info,) = await registry.list()
    assert info.cursor == "ab.5"
    assert info.last_poll_at == clock.now()
    assert ConsumerRegistry(db, clock).cursor_of(consumer) == ""  # not loaded yet
    again = ConsumerRegistry(db, clock)
    await again.authenticate(token)
    assert again.cursor_of(consumer) == "ab.5"


async def cli(*args: str, config: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge.cli",
        *args,
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_add_list_revoke(service: RunningService, tmp_path: Path) -> None:
    host, port = service.where.http
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[http]\nhost = "{host}"\nport = {port}\n'
        f'[auth]\nadmin_token = "{ADMIN_TOKEN}"\n'
        f'[storage]\ndata_dir = "{tmp_path / "cli-var"}"\n',
        encoding="utf-8",
    )
    code, out, _ = await cli(
        "consumers",
        "add",
        "panel-7",
        "--kind",
        "panel",
        "--extension",
        "107",
        config=config,
    )
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert await service.core.consumers.authenticate(token) is not None  # type: ignore[union-attr]
    code, out, _ = await cli("consumers", "list", "--json", config=config)
    assert code == 0
    (entry,) = json.loads(out)["consumers"]
    assert (entry["name"], entry["kind"], entry["extension"]) == (
        "panel-7",
        "panel",
        "107",
    )
    code, out, _ = await cli("consumers", "list", config=config)
    assert "panel-7" in out
    code, _, err = await cli(
        "consumers", "add", "panel-7", "--kind", "onec", config=config
    )
    assert code == 1
    assert "consumer-exists" in err
    code, out, _ = await cli("consumers", "revoke", "panel-7", config=config)
    assert (code, out.strip()) == (0, "consumer panel-7 revoked")
    code, _, err = await cli("consumers", "revoke", "panel-7", config=config)
    assert code == 1
    assert "unknown-consumer" in err
