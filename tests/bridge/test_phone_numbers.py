"""One normalization: the formats met in 1C, Asterisk, Master.csv and Rostelecom."""

from __future__ import annotations

import pytest

from bridge.phone_numbers import NumberKind, NumberType, normalize, number_type


@pytest.mark.parametrize(
    "raw",
    [
        "8 (916) 123-45-67",
        "+7 916 1234567",
        "89161234567",
        "79161234567",
        "9161234567",
        "sip:79161234567@pbx.local",
        "tel:+79161234567",
    ],
)
def test_one_mobile_in_every_format_normalizes_to_one_e164(raw: str) -> None:
    n = normalize(raw)
    assert (n.kind, n.canonical, n.key10) == (
        NumberKind.EXTERNAL,
        "+79161234567",
        "9161234567",
    )


@pytest.mark.parametrize(("raw", "digits"), [("201", "201"), ("sip:1001@pbx", "1001")])
def test_extensions_are_kept_apart(raw: str, digits: str) -> None:
    n = normalize(raw)
    assert (n.kind, n.canonical, n.key10) == (NumberKind.INTERNAL, digits, "")


@pytest.mark.parametrize("raw", ["", None, "anonymous", "---"])
def test_garbage_is_unknown_not_an_error(raw: str | None) -> None:
    assert normalize(raw).kind is NumberKind.UNKNOWN


def test_foreign_numbers_keep_their_country() -> None:
    assert normalize("8-10-375-29-123-45-67").canonical == "+375291234567"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("89161234567", NumberType.MOBILE),
        ("84951234567", NumberType.FIXED),
        ("88002000600", NumberType.TOLL_FREE),
        ("201", NumberType.UNKNOWN),
    ],
)
def test_number_type_for_the_direction_report(raw: str, kind: NumberType) -> None:
    assert number_type(normalize(raw)) is kind
