"""The "+7 and ten digits" shortcut of `normalize` agrees with phonenumbers."""

from __future__ import annotations

import random

import phonenumbers

from bridge.phone_numbers import NumberKind, normalize


def slow_e164(text: str) -> str | None:
    parsed = phonenumbers.parse(text, "RU")
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def test_shortcut_agrees_with_phonenumbers():
    rnd = random.Random(7)
    for _ in range(20_000):
        d = "".join(rnd.choice("0123456789") for _ in range(10))
        for text in (f"+7{d}", f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", f"7{d}"):
            number = normalize(text)
            assert number.kind is NumberKind.EXTERNAL
            assert number.canonical == slow_e164("+" + text.lstrip("+")), text
            assert number.key10 == d


def test_near_misses_still_go_the_slow_way():
    assert normalize("+7916123456").kind is NumberKind.UNKNOWN
    assert normalize("+791612345678").kind is NumberKind.UNKNOWN
    assert normalize("+7 916 123 45 67 доб. 5").canonical == slow_e164(
        "+7 916 123 45 67 доб. 5"
    )
