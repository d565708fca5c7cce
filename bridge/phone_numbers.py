"""One phone-number normalization for the whole product.

Every number that enters (AMI, CDR rows, 1C contact information, Rostelecom
webhooks, API queries) goes through `normalize`, so a number written
"8 (916) 123-45-67" in 1C matches "+79161234567" from the PBX and "79161234567" in
Master.csv. External numbers become E.164 plus a last-10-digits key (the fallback
that matches when a country code was lost or mangled); short internal extensions
are kept apart and never confused with external numbers.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import phonenumbers

DEFAULT_REGION = "RU"
# Office extensions are short; anything longer is dialled from outside.
MAX_EXTENSION_DIGITS = 6
_SIP_URI = re.compile(r"^(?:sips?|tel):([^@;]+)", re.IGNORECASE)
_DIGITS = re.compile(r"\D+")
# "+7" and ten digits, plainly written: always a possible number of zone 7 (RU/KZ
# numbers are ten digits long), so phonenumbers would return it unchanged. Seen in
# most 1C contact rows and PBX logs; skipping the parse makes index builds and
# journal passes several times faster. Tested equal to phonenumbers' answer.
_PLUS7_PLAIN = re.compile(r"\+7(?:[\s()-]*\d){10}")


class NumberKind(enum.StrEnum):
    EXTERNAL = "external"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


class NumberType(enum.StrEnum):
    """The split of seed 001's "Направление звонков" report."""

    MOBILE = "mobile"
    TOLL_FREE = "toll-free"
    FIXED = "fixed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    raw: str
    kind: NumberKind
    # E.164 for external numbers ("+79161234567"), the digits for extensions.
    canonical: str
    # Last ten digits of an external number; empty for extensions.
    key10: str

    @property
    def is_external(self) -> bool:
        return self.kind is NumberKind.EXTERNAL


def normalize(raw: str | None, region: str = DEFAULT_REGION) -> PhoneNumber:
    """Classify and normalize; never raises (bad input is `NumberKind.UNKNOWN`)."""
    text = _strip_uri((raw or "").strip())
    digits = _DIGITS.sub("", text)
    if not digits:
        return PhoneNumber(raw or "", NumberKind.UNKNOWN, "", "")
    if len(digits) <= MAX_EXTENSION_DIGITS and not text.startswith("+"):
        return PhoneNumber(raw or "", NumberKind.INTERNAL, digits, "")
    e164 = _e164(text, region)
    if e164 is None:
        return PhoneNumber(raw or "", NumberKind.UNKNOWN, digits, digits[-10:])
    return PhoneNumber(raw or "", NumberKind.EXTERNAL, e164, e164[-10:])


def number_type(number: PhoneNumber) -> NumberType:
    if not number.is_external:
        return NumberType.UNKNOWN
    kind = phonenumbers.number_type(_parsed(number.canonical))
    if kind in (phonenumbers.PhoneNumberType.MOBILE,):
        return NumberType.MOBILE
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return NumberType.TOLL_FREE
    if kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return NumberType.FIXED
    return NumberType.UNKNOWN


def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    # Zone 7 is the most common case and has no leading-zero national numbers, so
    # the object can be built from the digits; parse() costs more than the typing.
    if len(e164) == 12 and e164.startswith("+7"):
        return phonenumbers.PhoneNumber(country_code=7, national_number=int(e164[2:]))
    return phonenumbers.parse(e164)


def _strip_uri(text: str) -> str:
    match = _SIP_URI.match(text)
    return match.group(1) if match else text


def _e164(text: str, region: str) -> str | None:
    candidates = [text]
    digits = _DIGITS.sub("", text)
    # Russian PBXs log "79161234567" without the plus; read it as international.
    if not text.startswith("+") and len(digits) == 11 and digits[0] == "7":
        candidates.insert(0, "+" + digits)
    for candidate in candidates:
        if _PLUS7_PLAIN.fullmatch(candidate):
            return "+" + _DIGITS.sub("", candidate)
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.E164
            )
    return None
