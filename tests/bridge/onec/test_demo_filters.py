"""The fake 1C's `$filter` evaluation, against the rules of reference 17.4.6.1."""

from __future__ import annotations

import pytest

from bridge.onec.demo.filters import FilterError, parse

REF = "8d04ce3c-6360-11e9-dd92-fa163e8ba11d"
ROW = {
    "Ref_Key": REF,
    "Description": "ООО «Ромашка»",
    "Code": "000000042",
    "Сумма": 150,
    "Date": "2026-11-01T10:00:00",
    "DeletionMark": False,
    "АбонентКонтакт": REF,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Ref_Key eq guid'{REF}'", True),
        (f"Ref_Key eq guid'{REF.upper()}'", True),
        (f"Ref_Key eq '{REF}'", False),  # a bare string never matches a reference
        (f"АбонентКонтакт eq guid'{REF}'", False),  # nor a guid a composite field
        ("Description eq 'ООО «Ромашка»'", True),
        ("Description ne 'ООО «Ромашка»'", False),
        ("Сумма gt 100 and Сумма lt 200", True),
        ("Сумма ge 150 and Сумма le 150", True),
        ("Сумма gt 150 or Code eq '000000042'", True),
        ("not (Сумма gt 100)", False),
        ("Date ge datetime'2026-11-01T00:00:00'", True),
        ("Date lt datetime'2026-11-01T00:00:00'", False),
        ("substringof('Ромашка', Description)", True),
        ("substringof('ромашка', Description)", False),  # 1C: case-sensitive
        ("startswith(Code, '0000')", True),
        ("DeletionMark eq false", True),
        ("(Сумма eq 1 or Сумма eq 150) and DeletionMark eq false", True),
        ("Description eq 'It''s'", False),
    ],
)
def test_filter_subset(text, expected):
    assert parse(text)(ROW) is expected


@pytest.mark.parametrize(
    "text",
    ["Сумма eq", "length(Description) eq 3", "Нет eq 1", "Сумма eq 1 )", "Сумма ~ 1"],
)
def test_outside_the_subset_is_a_parse_error(text):
    with pytest.raises(FilterError):
        parse(text)(ROW)
