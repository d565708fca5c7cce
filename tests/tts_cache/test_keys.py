"""Cache keys cover everything that changes the sound, and nothing else."""

from __future__ import annotations

import dataclasses

from tts_cache.audio import AudioFormat
from tts_cache.keys import VoiceSpec, fragment_key, normalize_text, prompt_key

SPEC = VoiceSpec(provider="yandex", voice="alena", speed=1.0, emotion="good")


def test_every_part_of_the_spec_changes_the_key() -> None:
    base = fragment_key(SPEC, "Здравствуйте")
    for change in (
        {"provider": "stc"},
        {"voice": "jane"},
        {"speed": 1.2},
        {"emotion": "neutral"},
    ):
        other = dataclasses.replace(SPEC, **change)
        assert fragment_key(other, "Здравствуйте") != base, change
    assert fragment_key(SPEC, "здравствуйте") != base  # case is pronounced


def test_text_is_normalized_but_not_decoded() -> None:
    assert (
        normalize_text("  Соедин\u0435ю \n\t с  Ив+ановым ") == "Соединею с Ив+ановым"
    )
    # NFC: "й" as one code point or as и + combining breve is the same phrase.
    assert fragment_key(SPEC, "й") == fragment_key(SPEC, "и\u0306")
    assert fragment_key(SPEC, "a  b") == fragment_key(SPEC, " a b")
    assert fragment_key(SPEC, "a+b") != fragment_key(SPEC, "a b")
    assert fragment_key(SPEC, "a%20b") != fragment_key(SPEC, "a b")


def test_prompt_key_depends_on_order_and_format() -> None:
    a, b = fragment_key(SPEC, "один"), fragment_key(SPEC, "два")
    assert prompt_key([a, b], AudioFormat.SLN) != prompt_key([b, a], AudioFormat.SLN)
    assert prompt_key([a, b], AudioFormat.SLN) != prompt_key([a, b], AudioFormat.WAV)
    assert prompt_key([a], AudioFormat.SLN) != a
    assert len(prompt_key([a], AudioFormat.SLN)) == 64
