"""The `[tts]` config section: which provider speaks, and where audio is kept."""

from __future__ import annotations

from typing import Literal

from bridge.config_base import Section

TtsProviderName = Literal["espeak", "yandex", "stc"]


class TtsConfig(Section):
    # espeak needs no account, so a fresh install can speak.
    provider: TtsProviderName = "espeak"
    voice: str = ""
