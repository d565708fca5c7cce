"""Ranking employees per client: weights inside validity, ties, staff changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.routing_table.ranking import DocumentType, Interaction, rank

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CALLS = DocumentType("calls", weight=1.0, validity=timedelta(days=90))
ORDERS = DocumentType("orders", weight=5.0, validity=timedelta(days=30))
TYPES = {"calls": CALLS, "orders": ORDERS}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_score_is_the_sum_of_weights_inside_validity() -> None:
    table = rank(
        [
            Interaction("c1", "anna", "calls", ago(1)),
            Interaction("c1", "anna", "calls", ago(89)),
            Interaction("c1", "anna", "orders", ago(29)),
            Interaction("c1", "boris", "calls", ago(2), count=3),
        ],
        TYPES,
        NOW,
    )
    (anna, boris) = table["c1"].employees
    assert (anna.employee, anna.score, anna.responsible) == ("anna", 7.0, True)
    assert (boris.employee, boris.score, boris.responsible) == ("boris", 3.0, False)


def test_weight_does_not_decay_inside_validity_and_stops_at_its_end() -> None:
    fresh = rank([Interaction("c", "e", "orders", ago(0))], TYPES, NOW)
    old = rank([Interaction("c", "e", "orders", ago(29.9))], TYPES, NOW)
    expired = rank([Interaction("c", "e", "orders", ago(30))], TYPES, NOW)
    assert fresh["c"].employees[0].score == old["c"].employees[0].score == 5.0
    assert "c" not in expired


def test_future_disabled_and_unknown_documents_do_not_count() -> None:
    disabled = {
        **TYPES,
        "orders": DocumentType("orders", 5.0, timedelta(days=30), False),
    }
    table = rank(
        [
            Interaction("c", "e", "calls", NOW + timedelta(hours=1)),
            Interaction("c", "e", "orders", ago(1)),
            Interaction("c", "e", "letters", ago(1)),
        ],
        disabled,
        NOW,
    )
    assert table == {}


def test_ties_break_by_recency_then_employee_id() -> None:
    table = rank(
        [
            Interaction("c", "zoe", "calls", ago(5)),
            Interaction("c", "adam", "calls", ago(5)),
            Interaction("c", "mia", "calls", ago(1)),
        ],
        TYPES,
        NOW,
    )
    assert [r.employee for r in table["c"].employees] == ["mia", "adam", "zoe"]


def test_given_responsible_dismissed_then_the_next_takes_over() -> None:
    docs = [
        Interaction("c", "anna", "orders", ago(1)),
        Interaction("c", "boris", "calls", ago(1)),
    ]
    assert rank(docs, TYPES, NOW)["c"].responsible.employee == "anna"  # type: ignore[union-attr]
    after = rank(docs, TYPES, NOW, inactive=frozenset({"anna"}))["c"]
    assert [r.employee for r in after.employees] == ["boris"]
    assert after.employees[0].responsible


def test_every_score_explains_itself() -> None:
    table = rank(
        [
            Interaction("c", "anna", "calls", ago(1), count=2),
            Interaction("c", "anna", "orders", ago(3)),
        ],
        TYPES,
        NOW,
    )
    anna = table["c"].employees[0]
    assert [(s.doc_type, s.documents, s.weight) for s in anna.shares] == [
        ("calls", 2, 1.0),
        ("orders", 1, 5.0),
    ]
    assert anna.reason() == "score 7 = calls: 2 × 1 + orders: 1 × 5"


def test_clients_are_ranked_independently() -> None:
    table = rank(
        [
            Interaction("c1", "anna", "calls", ago(1)),
            Interaction("c2", "boris", "calls", ago(1)),
        ],
        TYPES,
        NOW,
    )
    assert {c: t.responsible.employee for c, t in table.items()} == {  # type: ignore[union-attr]
        "c1": "anna",
        "c2": "boris",
    }
