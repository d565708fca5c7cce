"""The column rules (`TableMapper`) give exactly what the row rules (`RowMapper`) give.

The table path is only a faster road to the same journal. Every line of a wide
corpus is mapped both ways: realistic days, transfer chains, the classic
layout, and lines made odd or broken in each field the rules read. Both ways
must give the same stored values and the same rejections with the same reasons.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bridge.journal import store
from bridge.journal.legs import JournalLeg
from bridge.journal.models import CallLeg
from bridge.journal.store import Rejected
from bridge.storage.database import Database
from jobs.cdr_loader.mapping import RowMapper
from jobs.cdr_loader.records import SourceRow
from jobs.cdr_loader.sources import csv_master
from jobs.cdr_loader.table_mapping import TableMapper
from tests.jobs.cdr_loader.cdr_data import day, master_csv, transfer_chain

T0 = datetime(2026, 3, 29, 0, 30)
# Each field the rules read, and values that take other branches or break it.
ODD: dict[str, list[str]] = {
    "start": [
        "", " 2026-03-29 08:00:00", "2026-03-29T08:00:00", "05.01.2026 08:00:00",
        "2026-03-29 08:00:00+03:00", "0000-00-00 00:00:00", "2026-02-30 10:00:00",
        "garbage", "2026-03-29 02:30:00", "2026-10-25 02:30:00",
        "2026-10-04 02:10:00", "2026-04-05 01:45:00", "2026-03-08 02:30:00",
        "2026-11-01 01:30:00", "2026-03-29 8:00:00", "2026-03-29 08:00:00.250",
    ],
    "answer": ["", "  ", "nonsense", "2026-03-29 02:30:05", "2026-10-25 02:30:05"],
    "end": ["", "2026-03-28 23:00:00", "2026-10-25 02:59:59", "2026-03-29 09:00:00"],
    "duration": ["", " 5", "-3", "5.0", "1e3", "٣", "9" * 30, "0", "007", "40"],
    "billsec": ["", "0", "3", "500", " 2", "-1", "x"],
    "disposition": [
        "answered", " ANSWERED", "BUSY", "FAILED", "CONGESTION", "", "NO ANSWER",
        "weird",
    ],
    "lastapp": ["Playback", "QUEUE", "Dial", "", "VoiceMail", "Ķ", "AGI", "read"],
    "channel": [
        "SIP/201-1", "Local/201@from-internal", " PJSIP/201-1", "DAHDI/1-1",
        "PJSIP/trunk-1", "pjsip/2010000-1", "IAX2/201", "\x1cPJSIP/201-1",
        "sip/201;x", "PJSIP/201", "", "PJSIP/٢٠١-1",
    ],
    "dstchannel": ["SIP/202-2", "Local/7@ctx", "PJSIP/trunk-9 ", "", "DAHDI/3"],
    "src": [
        "", "201", "+79161234567", "89161234567", "8 (916) 123-45-67",
        "sip:201@host", "12345678", "abc", "0", "+1 650 253 0000", "112",
        "0079161234567", "88005553535", "74952293042", " 202 ",
    ],
    "dst": ["", "202", "+79031234567", "84957654321", "s", "h", "9999999", "+44"],
    "userfield": [
        "/rec/a.WAV", "/rec/Иванов.mp3", " /rec/a.wav", "a.wav49", "x.txt", "",
        "b.Ogg\t", "c.gsm", "/rec/a\x00.wav",
    ],
    "uniqueid": ["", "1.1", "x" * 170],
    "linkedid": ["", "other.1", "x" * 140],
    "sequence": ["", "0", "x", " 1", "-1", "12"],
    "clid": [
        '"Иванов" <201>', "a,b", 'q"q', "\x01\x7f\u2028\\", "таб\tтаб", "a\x00b",
    ],
}  # fmt: skip
# Zones with DST, with half-hour shifts and without any.
ZONES = ["Europe/Moscow", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]


def corpus(seed: int) -> list[str]:
    rnd = random.Random(seed)
    base = [*transfer_chain(T0), *day(T0, 300, clients=40)]
    lines = master_csv(base).splitlines()
    lines += master_csv(base[:20], new_columns=False).splitlines()
    for _ in range(1500):
        row = dict(rnd.choice(base))
        for field in rnd.sample(sorted(ODD), rnd.choice((1, 1, 2, 3))):
            row[field] = rnd.choice(ODD[field])
        lines.append(_line(row, quote_all=rnd.random() < 0.8))
    answered = base[0]
    lines += [
        _line({**answered, "src": "", "channel": "\x1cSIP/201-1"}, quote_all=True),
        _line({**answered, "userfield": "\x1f/rec/a.wav"}, quote_all=True),
        _line({**answered, "userfield": f"/rec/{'я' * 1100}.wav"}, quote_all=True),
    ]
    plain = lines[5]
    lines += [
        plain + ',"extra"',  # 22 fields
        plain.rsplit(",", 1)[0],  # 20 fields
        plain.replace('"from-trunk"', '"open'),  # a quote left open
        plain.replace('"from-trunk"', 'bare"quote'),
        plain.replace('"from-trunk"', '"quoted"tail'),
        plain.replace('"from-trunk"', '"with\rcarriage"'),
    ]
    rnd.shuffle(lines)
    return lines


def _line(row: dict[str, str], *, quote_all: bool) -> str:
    out = io.StringIO()
    if quote_all:  # as cdr_csv writes
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="")
    else:  # as other tools rewrite it
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="")
    writer.writerow([row[name] for name in csv_master.NEW_COLUMNS])
    return out.getvalue()


def by_rows(lines: list[str], rows: RowMapper) -> list[Any]:
    """Each line alone through the row rules: the reference."""
    out: list[Any] = []
    for text, (values, error) in zip(lines, csv_master._records(lines), strict=True):
        out.append(_outcome(rows.map(csv_master._row(text, values, error))))
    return out


def by_table(lines: list[str], rows: RowMapper) -> tuple[list[Any], int]:
    """The loader's way: a batch, its table through the column rules, the rest
    through the row rules; also how many lines the column rules took."""
    batch = csv_master.parse_batch(lines, "cursor")
    assert batch.table is not None
    table, others = TableMapper(rows).map(batch.table)
    out: list[Any] = [("leg", *values, None, None, None) for values in _stored(table)]
    out += [_outcome(rows.map(row)) for row in [*batch.rows, *others]]
    return out, table.height


def _stored(table: Any) -> list[tuple[Any, ...]]:
    return store.sqlite_rows(table)


def _outcome(mapped: JournalLeg | Rejected) -> tuple[Any, ...]:
    if isinstance(mapped, Rejected):
        return ("rejected", mapped.reason, json.dumps(mapped.raw, sort_keys=True))
    return ("leg", *store._values(mapped, None, store._sqlite_time))


def _sorted(outcomes: list[Any]) -> list[Any]:
    return sorted(outcomes, key=repr)


@pytest.mark.parametrize("zone", ZONES)
def test_column_rules_store_what_row_rules_store(zone: str) -> None:
    lines = corpus(seed=len(zone))
    rows = RowMapper("csv", ZoneInfo(zone))
    expected = by_rows(lines, rows)
    got, taken = by_table(lines, RowMapper("csv", ZoneInfo(zone)))
    assert _sorted(got) == _sorted(expected)
    # Both roads were travelled: the plain lines by columns, the odd ones by rows.
    rejected = sum(1 for outcome in expected if outcome[0] == "rejected")
    assert taken > len(lines) // 3
    assert len(lines) - taken > rejected > 100


def test_a_table_with_fields_master_csv_lacks_is_refused() -> None:
    # A stated direction or user changes the rules; only the row path knows them.
    batch = csv_master.parse_batch(master_csv(list(day(T0, 2))).splitlines(), "c")
    assert batch.table is not None
    with pytest.raises(ValueError, match="direction"):
        TableMapper(RowMapper("csv", ZoneInfo("UTC"))).map(
            batch.table.with_columns(direction=batch.table["src"])
        )


async def test_both_write_paths_store_the_same_rows(db: Database) -> None:
    lines = corpus(seed=1)
    zone = ZoneInfo("Europe/Berlin")
    batch = csv_master.parse_batch(lines, "cursor")
    assert batch.table is not None
    table, _ = TableMapper(RowMapper("csv", zone)).map(batch.table)
    legs = [
        leg
        for line in (json.loads(raw)["line"] for raw in table["raw"])
        if isinstance(leg := RowMapper("rows", zone).map(_alone(line)), JournalLeg)
    ]
    owner = store.Owner("ref-1", "Catalog_Контрагенты", "ООО Ромашка")
    owners = {n: owner for n in table["external_number"].unique()[:5] if n}
    # The odd lines repeat keys of the plain ones; the first of a key is kept.
    keys = table["leg_key"].n_unique()
    assert len(legs) == table.height > keys > 300
    async with db.engine.begin() as conn:
        assert await store.insert_table(conn, table, owners) == keys
        assert await store.insert_legs(conn, legs, owners) == keys
        assert await store.insert_table(conn, table, owners) == 0
        stored = (await conn.execute(select(CallLeg.__table__))).all()
    by_source: dict[str, dict[str, tuple[Any, ...]]] = {"csv": {}, "rows": {}}
    for row in stored:
        values = row._mapping
        by_source[values["source"]][values["leg_key"]] = tuple(
            v for k, v in values.items() if k not in ("id", "source")
        )
    assert by_source["csv"] == by_source["rows"]
    assert sum(1 for v in by_source["csv"].values() if "ref-1" in v) >= 5


def _alone(line: str) -> SourceRow:
    values, error = csv_master._records([line])[0]
    return csv_master._row(line, values, error)


@pytest.mark.parametrize("stored", ["head", "tail"])
async def test_a_table_partly_stored_adds_only_its_new_rows(
    db: Database, stored: str
) -> None:
    # On PostgreSQL a stored first row sends the table the staged way at once; a
    # stored later one makes the straight COPY fail and be undone first.
    lines = master_csv(list(day(T0, 400))).splitlines()
    batch = csv_master.parse_batch(lines, "cursor")
    assert batch.table is not None
    table, others = TableMapper(RowMapper("csv", ZoneInfo("UTC"))).map(batch.table)
    assert others == []
    half = table.height // 2
    part = table.head(half) if stored == "head" else table.tail(half)
    async with db.engine.begin() as conn:
        assert await store.insert_table(conn, part) == half
        assert await store.insert_table(conn, table) == table.height - half
        count = await conn.scalar(select(func.count()).select_from(CallLeg))
    assert count == table.height
