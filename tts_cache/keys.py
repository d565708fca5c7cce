"""Cache keys: what makes two phrases the same audio. Pure functions only.

A key is sha256 over everything that changes the sound: provider, voice, speed,
emotion, file format, sample rate and the normalized text (the incumbent keyed on
text and voice alone, so switching provider replayed the other one's audio).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from tts_cache.audio import TELEPHONE_RATE, AudioFormat

# Bump when the meaning of a key changes, so old files are never replayed.
KEY_VERSION = 1
_SPACES = re.compile(r"\s+")
# Keys are pure, and an IVR speaks the same few hundred phrases all day: memoizing
# them keeps a cache hit to a dict lookup and a stat.
_MEMO = 8192


@dataclass(frozen=True, slots=True)
class VoiceSpec:
    """Who speaks and how; with a text it names one fragment."""

    provider: str
    voice: str
    speed: float
    emotion: str


@lru_cache(maxsize=_MEMO)
def normalize_text(text: str) -> str:
    """NFC, whitespace runs collapsed, ends trimmed; case and `+` stress marks kept.

    The text is never URL-decoded or lower-cased: both change what a provider says.
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


@lru_cache(maxsize=_MEMO)
def fragment_key(spec: VoiceSpec, text: str) -> str:
    """Key of one synthesized fragment, kept as raw 8 kHz signed-linear."""
    return _digest(
        "fragment",
        spec.provider,
        spec.voice,
        f"{spec.speed:.2f}",
        spec.emotion,
        AudioFormat.SLN.value,
        TELEPHONE_RATE,
        normalize_text(text),
    )


def prompt_key(fragment_keys: Sequence[str], audio_format: AudioFormat) -> str:
    """Key of a whole prompt: its fragments in order, in one output format."""
    return _prompt_key(tuple(fragment_keys), audio_format)


@lru_cache(maxsize=_MEMO)
def _prompt_key(fragment_keys: tuple[str, ...], audio_format: AudioFormat) -> str:
    return _digest("prompt", audio_format.value, TELEPHONE_RATE, *fragment_keys)


def _digest(*parts: object) -> str:
    encoded = json.dumps([KEY_VERSION, *parts], ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
