"""A journal call as the fields of a 1C phone-call document (pure mapping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bridge.journal.calls import JournalCall
from bridge.journal.models import CallLeg
from bridge.onec.config import WriteBack
from bridge.onec.web_service import OneCUser
from jobs.cdr_loader.call_document import document_fields, lookup_query, marker

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 3, 2, 7, 15, 30, 250_000, tzinfo=UTC)
USERS = {"201": OneCUser("u-201", "Белкина Анна", "201")}


def leg(**values: Any) -> CallLeg:
    base: dict[str, Any] = {
        "id": 10,
        "source": "csv",
        "linkedid": "1700000000.1",
        "sequence": 1,
        "started_at": T0,
        "ended_at": T0 + timedelta(seconds=60),
        "src_raw": "79161234567",
        "dst_raw": "201",
        "direction": "incoming",
        "status": "нет ответа",
        "answered": False,
        "employee": "201",
        "talk_seconds": 0,
        "recording": "",
        "external_number": "+79161234567",
        "owner_ref": None,
        "owner_entity": None,
        "owner_name": None,
    }
    base.update(values)
    return CallLeg(**base)


def test_a_missed_call_is_named_so_and_rings_its_employee() -> None:
    fields = document_fields(JournalCall.of([leg()]), WriteBack(), USERS, MSK)
    assert fields["Date"] == "2026-03-02T10:15:30"  # Moscow wall time, no zone
    assert fields["Тема"] == "Пропущенный звонок: +79161234567"
    assert fields["АбонентПредставление"] == "+79161234567"
    assert fields["Ответственный_Key"] == fields["Автор_Key"] == "u-201"
    assert "АбонентКонтакт" not in fields  # no owner known: left for 1C users
    assert "Белкина Анна (201)" in fields["Описание"]
    assert fields["Комментарий"] == "[telebridge:csv:1700000000.1]"


def test_fields_named_empty_in_the_config_are_left_out() -> None:
    config = WriteBack(description_field="", author_field="", contact_field="")
    fields = document_fields(JournalCall.of([leg()]), config, USERS, MSK)
    assert "" not in fields
    assert "Описание" not in fields
    assert "Автор_Key" not in fields
    assert fields["Ответственный_Key"] == "u-201"


def test_an_unknown_extension_leaves_the_employee_fields_unset() -> None:
    call = JournalCall.of([leg(employee="299", direction="outgoing")])
    fields = document_fields(call, WriteBack(), USERS, MSK)
    assert fields["Входящий"] is False
    assert "Ответственный_Key" not in fields


def test_the_lookup_finds_the_marker_from_a_day_before_the_call() -> None:
    call = JournalCall.of([leg()])
    query = lookup_query(call, WriteBack(), MSK)
    assert query.filter == (
        "Date ge datetime'2026-03-01T10:15:30' and "
        f"substringof('{marker(call)}', Комментарий)"
    )
    assert query.select == ["Ref_Key"]
