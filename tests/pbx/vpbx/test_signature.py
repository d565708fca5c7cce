"""The signature scheme of manual §10.6.3, with its worked example (research
seed-002 §1.5): the printed hash only matches the body with no space after the
comma, so signing must cover the exact wire bytes."""

from __future__ import annotations

import json

import pytest

from pbx.vpbx.signature import matching_key, sign

CLIENT_ID = "000003C405E6525C64C184258C44EC99"
KEY = "00000716ABDA6D4DFF10F82BCBBFC532"
PRINTED_HASH = "fc95a524342dc68df90f7488e6d821c5a8a3b667d585490b50ebf939f1202c36"
# What the manual prints, and what it must actually have hashed.
PRINTED_BODY = (
    b'{"request_number": "+74951234567", "from_sipuri": "test_user@cloudpbx.rt.ru"}'
)
HASHED_BODY = (
    b'{"request_number": "+74951234567","from_sipuri": "test_user@cloudpbx.rt.ru"}'
)


def test_the_manuals_worked_example_matches_the_body_it_really_hashed():
    assert sign(CLIENT_ID, HASHED_BODY, KEY) == PRINTED_HASH


def test_the_body_as_printed_gives_a_different_hash():
    """The manual's quirk: one extra space in print, so re-serializing breaks it."""
    assert sign(CLIENT_ID, PRINTED_BODY, KEY) == (
        "b809b8f16b94bd54d6b1b9597d876a258850858c27211182aa891395d2c0dc5a"
    )


def test_compact_json_gives_yet_another_hash():
    compact = json.dumps(json.loads(HASHED_BODY), separators=(",", ":")).encode()
    assert sign(CLIENT_ID, compact, KEY) == (
        "dbce7d471b2fc33706ec9dfed490d23162bb56442a2739cb6023f403ab0f61c8"
    )


def test_non_ascii_bodies_are_signed_as_their_utf8_bytes():
    body = '{"displayName":"Иванов"}'.encode()
    assert sign(CLIENT_ID, body, KEY) != sign(
        CLIENT_ID, body.decode("latin-1").encode(), KEY
    )


@pytest.mark.parametrize(
    "offered", [PRINTED_HASH, PRINTED_HASH.upper(), f" {PRINTED_HASH}\t"]
)
def test_matching_key_accepts_the_hex_in_any_case_and_padding(offered):
    assert matching_key(CLIENT_ID, HASHED_BODY, offered, [KEY]) == 0


def test_matching_key_names_which_key_signed():
    old = "11111111111111111111111111111111"
    signature = sign(CLIENT_ID, HASHED_BODY, old)
    assert matching_key(CLIENT_ID, HASHED_BODY, signature, [KEY, old]) == 1
    assert matching_key(CLIENT_ID, HASHED_BODY, signature, [KEY]) is None


@pytest.mark.parametrize("offered", ["", "zz", PRINTED_HASH[:-1], "é" * 64])
def test_matching_key_refuses_anything_else(offered):
    assert matching_key(CLIENT_ID, HASHED_BODY, offered, [KEY]) is None


def test_an_empty_key_never_matches():
    signature = sign(CLIENT_ID, HASHED_BODY, "")
    assert matching_key(CLIENT_ID, HASHED_BODY, signature, [""]) is None
