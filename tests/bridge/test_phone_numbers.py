"""One normalization: the formats met in 1C, Asterisk, Master.csv and Rostelecom."""

from __future__ import annotations

import phonenumbers
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


def test_zone_7_is_typed_as_phonenumbers_types_it() -> None:
    # number_type builds zone-7 numbers without parse(); a sweep over prefixes
    # (mobile, fixed, toll-free, unassigned, Kazakhstan) holds it to parse().
    for prefix in range(100, 1000, 7):
        e164 = f"+7{prefix}{prefix * 7919 % 10_000_000:07d}"
        ours = number_type(normalize(e164))
        theirs = phonenumbers.number_type(phonenumbers.parse(e164))
        assert ours is _TYPES.get(theirs, NumberType.UNKNOWN), e164


_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: NumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE: NumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.FIXED_LINE: NumberType.FIXED,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: NumberType.FIXED,
}
