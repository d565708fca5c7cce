"""Menu audio from the TTS cache: the prompt at call time, and pre-warm.

Pre-warm speaks, ahead of any call, every fragment a current menu can contain:
the fixed phrases, and each employee with a document still inside its validity at
every digit they could get (rankings are computed per call, so anyone ranked for
some client may be offered), then pins them so eviction never takes them. After
that a call asks the provider nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from jobs.routing_table.table import RoutingTable
from smart_ivr.menu import Employee, Phrases
from smart_ivr.service import EmployeeDirectory, PromptAudio
from tts_cache.cache import TtsCache

log = logging.getLogger(__name__)
PROMPTS_PATH = "/api/v1/ivr/prompts"


class CachedPrompts:
    """`PromptSynthesizer` over the TTS cache (whole-prompt cache included)."""

    def __init__(self, cache: TtsCache, deadline_seconds: float) -> None:
        self._cache = cache
        self._deadline = deadline_seconds

    async def prompt(self, fragments: Sequence[str]) -> PromptAudio:
        path = await self._cache.synthesize_prompt(fragments, deadline=self._deadline)
        return prompt_audio(self._cache.directory, path)


def prompt_audio(directory: Path, path: Path) -> PromptAudio:
    relative = path.relative_to(directory).as_posix()
    # Asterisk wants the file without its extension; it picks the format itself.
    return PromptAudio(path=str(path.with_suffix("")), url=f"{PROMPTS_PATH}/{relative}")


def menu_fragments(
    employees: Sequence[Employee], phrases: Phrases, max_entries: int
) -> list[str]:
    """Every fragment a menu offering some of `employees` can contain."""
    texts = [phrases.start, phrases.end, phrases.new_client]
    for person in employees:
        texts.append(phrases.first_entry.format(name=person.name, digit=1))
        texts.extend(
            phrases.entry.format(name=person.name, digit=digit)
            for digit in range(2, max_entries + 1)
        )
    return texts


class PreWarm:
    """The routing_table job's pre-warm step."""

    def __init__(
        self,
        table: RoutingTable,
        cache: TtsCache,
        employees: EmployeeDirectory,
        phrases: Phrases,
        max_entries: int,
    ) -> None:
        self._table = table
        self._cache = cache
        self._employees = employees
        self._phrases = phrases
        self._max_entries = max_entries

    async def __call__(self) -> int:
        people = await self._employees.lookup(await self._table.employees())
        texts = menu_fragments(list(people.values()), self._phrases, self._max_entries)
        report = await self._cache.prewarm(texts)
        await self._cache.pin(report.keys)
        if report.failed:
            log.warning("IVR pre-warm: %d phrases could not be spoken", report.failed)
        return len(report.keys)
