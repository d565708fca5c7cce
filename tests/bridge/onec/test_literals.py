from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from bridge.onec import literals
from bridge.onec.literals import Query

REF = "8d04ce3c-6360-11e9-dd92-fa163e8ba11d"


def test_guid_literal_is_quoted_and_checked():
    assert literals.guid(REF.upper()) == f"guid'{REF}'"
    with pytest.raises(ValueError, match="badly formed"):
        literals.guid("not-a-guid")


def test_datetime_literal_has_no_zone_and_no_fraction():
    value = datetime(1945, 5, 9, 6, 0, 0, 123, tzinfo=UTC)
    assert literals.date_time(value) == "datetime'1945-05-09T06:00:00'"


def test_string_literal_doubles_quotes():
    assert literals.string("O'Brien") == "'O''Brien'"


def test_literal_dispatches_on_type():
    assert literals.literal(True) == "true"
    assert literals.literal(None) == "null"
    assert literals.literal(10) == "10"
    assert literals.literal("x") == "'x'"


def test_conditions_group_when_combined():
    either = literals.any_of(
        [literals.compare("A", "eq", "1"), literals.compare("B", "eq", "2")]
    )
    both = literals.all_of(literals.compare("C", "ne", "3"), either)
    assert both == "C ne 3 and (A eq 1 or B eq 2)"


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        literals.compare("A", "like", "'x'")


def test_substringof_puts_the_needle_first():
    assert literals.substringof("916", "Поле") == "substringof('916', Поле)"


def test_query_string_percent_encodes_spaces_and_cyrillic():
    query = Query(
        filter="Тип eq 'Телефон'",
        select=["Ref_Key", "Description"],
        orderby=["Ref_Key"],
        top=10,
        skip=20,
    )
    text = query.query_string()
    assert "+" not in text
    assert " " not in text
    assert dict(parse_qsl(text)) == {
        "$format": "json",
        "$filter": "Тип eq 'Телефон'",
        "$select": "Ref_Key,Description",
        "$orderby": "Ref_Key",
        "$top": "10",
        "$skip": "20",
    }


def test_page_keeps_the_query_and_moves_the_window():
    query = Query(filter="A eq 1", orderby=["Ref_Key"])
    page = query.page(skip=100, top=50)
    assert (page.filter, page.skip, page.top) == ("A eq 1", 100, 50)
