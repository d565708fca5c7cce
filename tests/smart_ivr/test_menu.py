"""The personal menu: ranked available employees, digits, fragments, new clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.routing_table.ranking import DocumentType, Interaction, rank
from smart_ivr.menu import Destinations, Employee, LastTalk, Phrases, build_menu

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TYPES = {"calls": DocumentType("calls", 1.0, timedelta(days=90))}
STAFF = {
    "anna": Employee("anna", "Анна Иванова", "201"),
    "boris": Employee("boris", "Борис Петров", "202"),
    "vera": Employee("vera", "Вера Сидорова", "203"),
    "gleb": Employee("gleb", "Глеб Орлов", "204"),
    "nophone": Employee("nophone", "Без Телефона", ""),
}
DEST = Destinations(default="100", emergency="999")
PHRASES = Phrases()


def ranking_for(counts: dict[str, int]):
    docs = [
        Interaction("client", who, "calls", NOW - timedelta(days=1), count=n)
        for who, n in counts.items()
    ]
    return rank(docs, TYPES, NOW)["client"]


def menu(counts: dict[str, int], away: frozenset[str] = frozenset(), **kw):
    return build_menu(
        "+79161234567",
        ranking_for(counts) if counts else None,
        STAFF,
        lambda e: "away" if e in away else None,
        phrases=PHRASES,
        destinations=DEST,
        max_entries=kw.pop("max_entries", 3),
        **kw,
    )


def test_top_k_available_employees_get_digits_in_rank_order() -> None:
    m = menu({"anna": 5, "boris": 4, "vera": 3, "gleb": 2})
    assert [(e.digit, e.employee, e.extension) for e in m.entries] == [
        ("1", "anna", "201"),
        ("2", "boris", "202"),
        ("3", "vera", "203"),
    ]
    assert m.entries[0].reason.startswith("responsible; score 5")
    assert not m.new_client


def test_greeting_is_start_then_employees_then_end() -> None:
    m = menu({"anna": 2, "boris": 1})
    assert m.fragments == (
        PHRASES.start,
        "Ваш менеджер Анна Иванова, нажмите 1.",
        "Борис Петров, нажмите 2.",
        PHRASES.end,
    )


def test_unavailable_and_extensionless_employees_are_skipped_and_digits_close_up() -> (
    None
):
    m = menu({"anna": 5, "nophone": 4, "boris": 3, "vera": 2}, away=frozenset({"anna"}))
    assert [(e.digit, e.employee) for e in m.entries] == [("1", "boris"), ("2", "vera")]


def test_new_client_gets_the_new_client_greeting() -> None:
    m = menu({})
    assert m.new_client
    assert m.entries == ()
    assert m.fragments == (PHRASES.new_client,)
    assert m.destinations.default == "100"


def test_last_responsible_is_offered_first() -> None:
    m = menu({"anna": 5, "boris": 1}, last_talk=LastTalk("boris", 7))
    assert [e.employee for e in m.entries] == ["boris", "anna"]
    assert m.entries[0].reason == "talked with the caller 7 min ago"


def test_a_digit_or_an_offered_extension_resolves_to_that_extension() -> None:
    m = menu({"anna": 2, "boris": 1})
    assert m.destination_for("2") == "202"
    assert m.destination_for("201") == "201"
    assert m.destination_for("7") is None


def test_skipped_employees_say_why_for_the_preview() -> None:
    m = menu(
        {"anna": 9, "ghost": 8, "nophone": 7, "boris": 6, "vera": 5, "gleb": 4, "x": 1},
        away=frozenset({"anna"}),
        max_entries=2,
    )
    assert [e.employee for e in m.entries] == ["boris", "vera"]
    assert [(s.employee, s.reason) for s in m.skipped] == [
        ("anna", "away"),
        ("ghost", "not a known employee"),
        ("nophone", "has no extension"),
        ("gleb", "only 2 are offered"),
        ("x", "only 2 are offered"),
    ]
