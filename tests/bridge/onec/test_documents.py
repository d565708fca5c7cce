"""Client/employee facts from documents in the fake 1C (БСП ТелефонныйЗвонок)."""

from __future__ import annotations

from datetime import datetime

from bridge.onec.demo.data import PHONE_CALLS
from bridge.onec.documents import DocumentMapping, document_fact, read_documents
from tests.fakes.onec import RunningOneC


async def test_documents_since_a_date(onec: RunningOneC):
    calls = onec.infobase.sets[PHONE_CALLS]
    since = datetime.fromisoformat(calls[10]["Date"])
    onec.infobase.change(PHONE_CALLS, calls[20]["Ref_Key"], DeletionMark=True)
    async with onec.client() as client:
        facts = [f async for f in read_documents(client, DocumentMapping(), since, 7)]
    expected = [c for c in calls[10:] if not c["DeletionMark"]]
    assert [f.ref for f in facts] == [c["Ref_Key"] for c in expected]
    assert facts[0].date == since
    assert facts[0].client_ref == expected[0]["АбонентКонтакт"]
    assert facts[0].employee_ref == expected[0]["Ответственный_Key"]


def test_documents_without_a_client_are_skipped():
    empty = "00000000-0000-0000-0000-000000000000"
    entity = {
        "Ref_Key": "a",
        "Date": "2026-01-01T10:00:00",
        "АбонентКонтакт": empty,
        "Ответственный_Key": "b",
    }
    assert document_fact(entity, DocumentMapping()) is None
