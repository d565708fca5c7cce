"""The journal as the contact refresh jobs see it: unowned legs, owners recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.app import build_app
from bridge.contacts import ContactMatch, ContactOwner
from bridge.core import open_core
from bridge.journal import owners, store
from bridge.journal.legs import JournalLeg
from bridge.journal.owners import JournalOwners
from bridge.onec.feature import CONTACT_REFRESH
from bridge.storage.database import Database
from jobs.cdr_loader.mapping import map_row
from jobs.cdr_loader.records import SourceRow
from jobs.contact_refresh.calls import Ownership
from tests.conftest import make_config
from tests.jobs.cdr_loader.cdr_data import CLIENT, day, transfer_chain

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 10, 0)


async def load(db: Database) -> list[JournalLeg]:
    legs = []
    for row in [*transfer_chain(T0), *day(T0, 6)]:
        leg = map_row(SourceRow(row, row), "csv", MSK)
        assert isinstance(leg, JournalLeg)
        legs.append(leg)
    async with db.engine.begin() as conn:
        await store.insert_legs(conn, legs)
    return legs


async def test_unowned_legs_get_their_owner_and_then_are_done(db: Database) -> None:
    legs = await load(db)
    journal = JournalOwners(db)
    since = T0.replace(tzinfo=MSK) - timedelta(days=1)
    unowned = [call async for call in journal.unowned(since)]
    external = [leg for leg in legs if leg.external_number]
    assert len(unowned) == len(external)
    owner = ContactOwner("ref-1", "Catalog_Контрагенты", "ООО Ромашка")
    client = "+" + CLIENT
    mine = [u for u in unowned if u.number == client]
    assert mine
    await journal.set_owners(
        [Ownership(u.record_id, ContactMatch(client, (owner,))) for u in mine]
    )
    left = [call async for call in journal.unowned(since)]
    assert {u.record_id for u in left} == {u.record_id for u in unowned} - {
        u.record_id for u in mine
    }
    later = [call async for call in journal.unowned(since + timedelta(days=30))]
    assert later == []


async def test_the_refresh_jobs_are_given_the_journal(tmp_path: Path) -> None:
    async with open_core(make_config(tmp_path)) as core:
        app = build_app(core)
        assert isinstance(app[CONTACT_REFRESH].calls, JournalOwners)


async def test_unowned_pages_from_the_window_s_first_leg_across_backfills(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Window legs, then a backfill of older ones, then more window legs: ids and
    # start times disagree, and small pages cross the boundaries.
    monkeypatch.setattr(owners, "PAGE", 2)

    def legs(start: datetime, seed: int) -> list[JournalLeg]:
        mapped = [
            map_row(SourceRow(r, r), "csv", MSK) for r in day(start, 8, seed_base=seed)
        ]
        return [leg for leg in mapped if isinstance(leg, JournalLeg)]

    recent, old, late = legs(T0, 1), legs(T0 - timedelta(days=9), 2), legs(T0, 3)
    async with db.engine.begin() as conn:
        for batch in (recent, old, late):
            await store.insert_legs(conn, batch)
    since = T0.replace(tzinfo=MSK) - timedelta(days=1)
    found = [call async for call in JournalOwners(db).unowned(since)]
    wanted = [leg for leg in (*recent, *late) if leg.external_number]
    assert sorted(c.number for c in found) == sorted(x.external_number for x in wanted)
    assert len({c.record_id for c in found}) == len(wanted)
    assert [
        call async for call in JournalOwners(db).unowned(since + timedelta(days=30))
    ] == []
