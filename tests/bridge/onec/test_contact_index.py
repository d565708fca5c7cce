"""Building the contact index from the fake 1C into SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.onec.config import OneCConfig
from bridge.onec.contact_index import ContactIndex
from bridge.onec.demo.data import CONTACT_PERSONS, COUNTERPARTIES, Infobase
from bridge.onec.errors import OneCUnavailable
from bridge.onec.index_build import IndexBuilder
from bridge.onec.models import ContactPhoneRow
from bridge.storage.database import Database
from tests.fakes.onec import RunningOneC

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def config(onec: RunningOneC, **extra: object) -> OneCConfig:
    return OneCConfig(odata_url=onec.odata_url, username="odata", page_size=50, **extra)


async def build(db: Database, onec: RunningOneC, **extra: object):
    async with onec.client() as client:
        return await IndexBuilder(db, client, config(onec, **extra)).build(NOW)


async def loaded(db: Database) -> ContactIndex:
    index = ContactIndex(db)
    await index.load(NOW)
    return index


def with_number(base: Infobase, entity_set: str) -> dict[str, Any]:
    return next(
        e
        for e in base.sets[entity_set]
        if not e["DeletionMark"] and e["КонтактнаяИнформация"][0]["НомерТелефона"]
    )


async def test_first_build_reads_every_owner_and_counts_malformed(db, onec):
    report = await build(db, onec)
    sets = onec.infobase.sets
    assert report.examined == len(sets[COUNTERPARTIES]) + len(sets[CONTACT_PERSONS])
    assert report.changed == report.examined
    assert report.numbers > report.examined // 2
    assert report.malformed > 0  # the demo base holds typed-in garbage
    index = await loaded(db)
    assert index.size > 0


@pytest.mark.parametrize(
    "form", ["+7 ({0}) {1}-{2}-{3}", "8{0}{1}{2}{3}", "7{0}{1}{2}{3}"]
)
async def test_lookup_answers_any_format_of_a_number(db, onec, form):
    await build(db, onec)
    index = await loaded(db)
    company = with_number(onec.infobase, COUNTERPARTIES)
    e164 = company["КонтактнаяИнформация"][0]["НомерТелефона"]
    d = e164[2:]
    match = await index.lookup(form.format(d[:3], d[3:6], d[6:8], d[8:]))
    assert match is not None
    assert match.number == e164
    assert company["Ref_Key"] in [o.ref for o in match.owners]


async def test_contact_person_shows_with_its_company(db, onec):
    await build(db, onec)
    index = await loaded(db)
    person = with_number(onec.infobase, CONTACT_PERSONS)
    company = onec.infobase.find(COUNTERPARTIES, person["Owner_Key"])
    assert company is not None
    match = index.match(person["КонтактнаяИнформация"][0]["НомерТелефона"])
    assert match is not None
    owner = next(o for o in match.owners if o.ref == person["Ref_Key"])
    assert owner.parent_presentation == company["Description"]
    if match.owners[0] is owner:
        assert (
            match.display_name == f"{person['Description']} ({company['Description']})"
        )


async def test_unknown_and_internal_numbers_have_no_match(db, onec):
    await build(db, onec)
    index = await loaded(db)
    assert await index.lookup("+7 999 000-00-00") is None
    assert await index.lookup("201") is None
    assert await index.lookup("") is None


async def test_second_build_reads_only_what_changed(db, onec):
    await build(db, onec)
    company = with_number(onec.infobase, COUNTERPARTIES)
    old = company["КонтактнаяИнформация"][0]["НомерТелефона"]
    rows = [dict(company["КонтактнаяИнформация"][0], НомерТелефона="+74950001122")]
    onec.infobase.change(COUNTERPARTIES, company["Ref_Key"], КонтактнаяИнформация=rows)

    report = await build(db, onec)

    assert report.changed == 1
    assert report.examined > 100
    index = await loaded(db)
    assert index.match("+74950001122") is not None
    old_match = index.match(old)
    assert old_match is None or company["Ref_Key"] not in [
        o.ref for o in old_match.owners
    ]


async def test_objects_gone_from_1c_leave_the_index(db, onec):
    await build(db, onec)
    company = with_number(onec.infobase, COUNTERPARTIES)
    number = company["КонтактнаяИнформация"][0]["НомерТелефона"]
    onec.infobase.sets[COUNTERPARTIES].remove(company)
    onec.infobase.next_version()

    report = await build(db, onec)

    assert report.removed == 1
    match = (await loaded(db)).match(number)
    assert match is None or company["Ref_Key"] not in [o.ref for o in match.owners]


async def test_deletion_mark_hides_the_owner(db, onec):
    await build(db, onec)
    company = with_number(onec.infobase, COUNTERPARTIES)
    number = company["КонтактнаяИнформация"][0]["НомерТелефона"]
    onec.infobase.change(COUNTERPARTIES, company["Ref_Key"], DeletionMark=True)

    await build(db, onec)

    match = (await loaded(db)).match(number)
    assert match is None or company["Ref_Key"] not in [o.ref for o in match.owners]


async def test_1c_down_keeps_the_last_index_answering(db, onec):
    await build(db, onec)
    index = await loaded(db)
    company = with_number(onec.infobase, COUNTERPARTIES)
    number = company["КонтактнаяИнформация"][0]["НомерТелефона"]
    onec.fake.faults.down = True

    with pytest.raises(OneCUnavailable):
        await build(db, onec)

    assert index.match(number) is not None
    assert (await loaded(db)).match(number) is not None


async def test_partners_are_read_when_enabled(db, onec):
    from bridge.onec.config import PhoneOwners

    partner = dict(with_number(onec.infobase, COUNTERPARTIES))
    partner["Ref_Key"] = "99999999-0000-4000-8000-000000000001"
    partner["Description"] = "Партнёр"
    onec.infobase.sets["Catalog_Партнеры"].append(partner)
    onec.infobase.next_version()

    await build(db, onec, partners=PhoneOwners(enabled=True, entity="Catalog_Партнеры"))

    match = (await loaded(db)).match(
        partner["КонтактнаяИнформация"][0]["НомерТелефона"]
    )
    assert match is not None
    assert "Catalog_Партнеры" in [o.entity for o in match.owners]


async def test_stored_rows_match_the_report(db, onec):
    report = await build(db, onec)
    async with db.session() as session:
        stored = await session.scalar(select(func.count()).select_from(ContactPhoneRow))
    assert stored == report.numbers
