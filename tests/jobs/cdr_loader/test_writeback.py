"""Write-back of journal calls to 1C, against the fake 1C over real sockets, on
SQLite and PostgreSQL: the journal is loaded from a Master.csv by the real loader,
then the step sends what is due."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.contacts import ContactMatch, ContactOwner
from bridge.journal.models import OneCCallDocument
from bridge.journal.onec_links import OneCLinks
from bridge.onec.config import OneCConfig
from bridge.onec.demo.data import COUNTERPARTIES, PHONE_CALLS, USERS
from bridge.phone_numbers import normalize
from bridge.storage.database import Database
from jobs.base import JobContext
from jobs.cdr_loader.loader import CdrLoader
from jobs.cdr_loader.sources.csv_master import MasterCsvSource
from jobs.cdr_loader.writeback import WriteBackMetrics, WriteBackStep
from tests.fakes.onec import PASSWORD, USERNAME, RunningOneC, serving
from tests.jobs.cdr_loader.cdr_data import CLIENT, cdr, day, master_csv, transfer_chain

MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 1, 5, 9, 0)  # office wall time, as the PBX logs it
BAD_CLIENT = "79031112233"
# After the last call ended and settled (300 s), inside the 3-day look-back.
LATER = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
CTX = JobContext("cdr_loader", LATER)
MARKER = "[telebridge:csv:1700000000.1]"


class Killed(Exception):
    """The process dying after 1C answered and before the link was stored."""


class Owners:
    """The contact index as the loader asks it: CLIENT is a 1C counterparty;
    BAD_CLIENT's owner reference is broken (1C will refuse it)."""

    def __init__(self, company: dict[str, str]) -> None:
        self.company = company

    async def lookup(self, number: str) -> ContactMatch | None:
        key = normalize(number).key10
        if key == CLIENT[1:]:
            ref, name = self.company["Ref_Key"], self.company["Description"]
        elif key == BAD_CLIENT[1:]:
            ref, name = "not-a-reference", "Сломанная ссылка"
        else:
            return None
        return ContactMatch(number, (ContactOwner(ref, COUNTERPARTIES, name),))


@pytest.fixture
async def onec() -> AsyncIterator[RunningOneC]:
    async with serving() as running:
        yield running


def calls_csv(*, bad: bool = False) -> str:
    """Seed 004's transfer, then an answered, a missed, an outgoing and an
    internal call (`day`), and optionally one from BAD_CLIENT."""
    rows = transfer_chain(START)
    rows += day(START + timedelta(minutes=10), 4, seed_base=1800000000)
    if bad:
        rows.append(
            cdr(
                start=START + timedelta(minutes=20),
                src=BAD_CLIENT,
                dst="203",
                channel="PJSIP/trunk-9",
                dstchannel="PJSIP/203-9",
                billsec=12,
                uniqueid="1900000000.1",
                sequence=1,
            )
        )
    return master_csv(rows)


async def load(db: Database, onec: RunningOneC, tmp_path: Path, csv: str) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(csv)
    company = onec.infobase.sets[COUNTERPARTIES][3]
    loader = CdrLoader(
        db,
        MasterCsvSource(path, zone=MSK),
        zone=MSK,
        clock=FakeClock(LATER),
        contacts=Owners(company),
    )
    await loader(CTX)


def step(
    db: Database,
    onec: RunningOneC,
    *,
    now: datetime = LATER,
    registry: CollectorRegistry | None = None,
) -> WriteBackStep:
    config = OneCConfig(
        odata_url=onec.odata_url,
        username=USERNAME,
        password=PASSWORD,
        writeback={"enabled": True},
    )
    return WriteBackStep(
        OneCLinks(db),
        config,
        zone=MSK,
        clock=FakeClock(now),
        client=onec.client,
        metrics=WriteBackMetrics(registry or CollectorRegistry()),
    )


def written(onec: RunningOneC) -> list[dict[str, object]]:
    return [
        d
        for d in onec.infobase.sets[PHONE_CALLS]
        if str(d["Комментарий"]).startswith("[telebridge:")
    ]


def user_ref(onec: RunningOneC, extension: str) -> str:
    for user in onec.infobase.sets[USERS]:
        if any(r["НомерТелефона"] == extension for r in user["КонтактнаяИнформация"]):
            return str(user["Ref_Key"])
    raise KeyError(extension)


async def links(db: Database) -> dict[str, OneCCallDocument]:
    async with db.session() as session:
        rows = (await session.execute(select(OneCCallDocument))).scalars().all()
    return {row.linkedid: row for row in rows}


async def test_each_outside_call_becomes_one_document_with_its_fields(
    db: Database, onec: RunningOneC, tmp_path: Path
) -> None:
    await load(db, onec, tmp_path, calls_csv())
    registry = CollectorRegistry()
    report = await step(db, onec, registry=registry)()

    docs = written(onec)
    # The transfer (3 legs) is one document; the internal call is none.
    assert len(docs) == 4
    assert report.counters == {"writeback_created": 4, "writeback_pending": 0}
    transfer = next(d for d in docs if d["Комментарий"] == MARKER)
    company = onec.infobase.sets[COUNTERPARTIES][3]
    assert transfer["Date"] == "2026-01-05T09:00:00"
    assert transfer["Входящий"] is True
    assert transfer["АбонентКакСвязаться"] == "+" + CLIENT
    assert transfer["АбонентКонтакт"] == company["Ref_Key"]
    assert transfer["АбонентКонтакт_Type"] == f"StandardODATA.{COUNTERPARTIES}"
    assert transfer["АбонентПредставление"] == company["Description"]
    assert transfer["Тема"] == f"Входящий звонок: {company['Description']}"
    # Answered by 201, transferred to 202 who kept the client (seed 004).
    assert transfer["Автор_Key"] == user_ref(onec, "201")
    assert transfer["Ответственный_Key"] == user_ref(onec, "202")
    assert "Статус: принят" in str(transfer["Описание"])
    assert "(201), " in str(transfer["Описание"])
    subjects = sorted(str(d["Тема"]).split(":")[0] for d in docs)
    assert subjects == [
        "Входящий звонок",
        "Входящий звонок",
        "Исходящий звонок",
        "Пропущенный звонок",
    ]
    outgoing = next(d for d in docs if str(d["Тема"]).startswith("Исходящий"))
    assert outgoing["Входящий"] is False
    stored = await links(db)
    assert {row.ref_key for row in stored.values()} == {d["Ref_Key"] for d in docs}
    assert {row.state for row in stored.values()} == {"created"}
    sample = registry.get_sample_value(
        "telebridge_onec_writeback_calls_total", {"outcome": "created"}
    )
    assert sample == 4


async def test_a_second_run_creates_nothing(
    db: Database, onec: RunningOneC, tmp_path: Path
) -> None:
    await load(db, onec, tmp_path, calls_csv())
    await step(db, onec)()
    before = onec.fake.requests
    report = await step(db, onec, now=LATER + timedelta(minutes=2))()
    await load(db, onec, tmp_path, calls_csv())  # the loader's overlap re-read
    again = await step(db, onec, now=LATER + timedelta(minutes=4))()
    assert len(written(onec)) == 4
    assert report.counters == again.counters == {"writeback_pending": 0}
    assert onec.fake.requests == before  # nothing due: 1C is not even asked


async def test_a_lost_answer_is_found_again_not_created_twice(
    db: Database, onec: RunningOneC, tmp_path: Path
) -> None:
    await load(db, onec, tmp_path, calls_csv())
    onec.fake.faults.lose_answers = 1  # 1C writes the first one, the answer is lost
    first = await step(db, onec)()
    assert first.deferred
    assert first.counters == {"writeback_pending": 4}
    assert len(written(onec)) == 1
    assert (await links(db))["1700000000.1"].state == "sending"

    second = await step(db, onec, now=LATER + timedelta(minutes=2))()
    assert second.counters == {
        "writeback_recovered": 1,
        "writeback_created": 3,
        "writeback_pending": 0,
    }
    docs = written(onec)
    assert len(docs) == 4
    assert sum(1 for d in docs if d["Комментарий"] == MARKER) == 1
    recovered = next(d for d in docs if d["Комментарий"] == MARKER)
    assert (await links(db))["1700000000.1"].ref_key == recovered["Ref_Key"]


async def test_a_crash_between_create_and_store_leaves_no_duplicate(
    db: Database,
    onec: RunningOneC,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await load(db, onec, tmp_path, calls_csv())

    async def die(*_: object) -> None:
        raise Killed

    monkeypatch.setattr(OneCLinks, "created", die)
    with pytest.raises(Killed):
        await step(db, onec)()
    monkeypatch.undo()
    assert len(written(onec)) == 1

    report = await step(db, onec, now=LATER + timedelta(minutes=2))()
    assert report.counters["writeback_recovered"] == 1
    assert len(written(onec)) == 4


async def test_1c_down_leaves_calls_pending_then_catches_up(
    db: Database, onec: RunningOneC, tmp_path: Path
) -> None:
    await load(db, onec, tmp_path, calls_csv())
    onec.fake.faults.down = True
    down = await step(db, onec)()
    assert "503" in down.deferred
    assert PASSWORD not in down.deferred
    assert down.counters == {"writeback_pending": 4}
    assert written(onec) == []

    onec.fake.faults.down = False
    up = await step(db, onec, now=LATER + timedelta(minutes=2))()
    assert up.counters == {"writeback_created": 4, "writeback_pending": 0}
    assert len(written(onec)) == 4


async def test_a_call_1c_refuses_is_rejected_with_the_reason_and_the_rest_go(
    db: Database, onec: RunningOneC, tmp_path: Path
) -> None:
    await load(db, onec, tmp_path, calls_csv(bad=True))
    report = await step(db, onec)()
    assert report.counters == {
        "writeback_created": 4,
        "writeback_rejected": 1,
        "writeback_pending": 0,
    }
    bad = (await links(db))["1900000000.1"]
    assert bad.state == "rejected"
    assert bad.ref_key is None
    assert "АбонентКонтакт" in bad.reason
    again = await step(db, onec, now=LATER + timedelta(minutes=2))()
    assert again.counters == {"writeback_pending": 0}  # not retried


async def test_a_call_still_settling_waits_for_a_later_run(
    db: Database, onec: RunningOneC, tmp_path: Path
) -> None:
    await load(db, onec, tmp_path, calls_csv())
    # 09:04 MSK: the transfer's last leg ended at 09:03, and calls settle 300 s.
    early = datetime(2026, 1, 5, 6, 4, tzinfo=UTC)
    report = await step(db, onec, now=early)()
    assert written(onec) == []
    assert report.counters == {"writeback_pending": 0}
    settled = await step(db, onec, now=early + timedelta(minutes=5))()
    assert settled.counters == {"writeback_created": 1, "writeback_pending": 0}
    assert [d["Комментарий"] for d in written(onec)] == [MARKER]
