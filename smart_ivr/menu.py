"""The personal voice menu for one caller: pure, from the routing table's answer.

Greeting = start fragment + one fragment per offered employee + end fragment (seed
003); a caller with no one to offer hears the new-client greeting. Fragments stay
separate so each is synthesized and cached once: employee fragments repeat across
thousands of callers, the start and end never change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from jobs.routing_table.ranking import ClientRanking, RankedEmployee


@dataclass(frozen=True, slots=True)
class Employee:
    id: str
    name: str
    extension: str


@dataclass(frozen=True, slots=True)
class Phrases:
    start: str = "Здравствуйте!"
    first_entry: str = "Ваш менеджер {name}, нажмите {digit}."
    entry: str = "{name}, нажмите {digit}."
    end: str = "Или наберите добавочный номер сотрудника."
    new_client: str = (
        "Здравствуйте! Вы позвонили в нашу компанию. Оставайтесь на линии, "
        "вам ответит первый освободившийся специалист."
    )


@dataclass(frozen=True, slots=True)
class Destinations:
    default: str  # no choice made
    emergency: str  # TTS or data failure, deadline passed


@dataclass(frozen=True, slots=True)
class MenuEntry:
    digit: str
    employee: str
    name: str
    extension: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A ranked employee left out of the menu, and why (for the admin preview)."""

    employee: str
    reason: str


@dataclass(frozen=True, slots=True)
class Menu:
    number: str
    new_client: bool
    entries: tuple[MenuEntry, ...]
    fragments: tuple[str, ...]
    destinations: Destinations
    skipped: tuple[Skipped, ...] = ()

    def destination_for(self, digits: str) -> str | None:
        """A menu digit's extension, or the extension itself if it is one offered."""
        for entry in self.entries:
            if digits in (entry.digit, entry.extension):
                return entry.extension
        return None


@dataclass(frozen=True, slots=True)
class LastTalk:
    """The "last responsible" shortcut: who the caller spoke with, how long ago."""

    employee: str
    minutes_ago: int


def build_menu(
    number: str,
    ranking: ClientRanking | None,
    employees: Mapping[str, Employee],
    unavailable: Callable[[str], str | None],
    *,
    phrases: Phrases,
    destinations: Destinations,
    max_entries: int,
    last_talk: LastTalk | None = None,
) -> Menu:
    """Offer up to `max_entries` available employees; digits 1..N in rank order."""
    chosen: list[MenuEntry] = []
    skipped: list[Skipped] = []
    for employee_id, score, reason in _candidates(ranking, last_talk):
        if any(e.employee == employee_id for e in chosen):
            continue
        if len(chosen) == max_entries:
            skipped.append(Skipped(employee_id, f"only {max_entries} are offered"))
            continue
        person = employees.get(employee_id)
        why_not = _why_not(person, employee_id, unavailable)
        if why_not or person is None:
            skipped.append(Skipped(employee_id, why_not or "not an employee"))
            continue
        digit = str(len(chosen) + 1)
        chosen.append(
            MenuEntry(digit, employee_id, person.name, person.extension, score, reason)
        )
    return Menu(
        number=number,
        new_client=ranking is None or not ranking.employees,
        entries=tuple(chosen),
        fragments=_fragments(chosen, phrases),
        destinations=destinations,
        skipped=tuple(skipped),
    )


def _why_not(
    person: Employee | None, employee_id: str, unavailable: Callable[[str], str | None]
) -> str | None:
    if person is None:
        return "not a known employee"
    if not person.extension:
        return "has no extension"
    return unavailable(employee_id)


def _candidates(
    ranking: ClientRanking | None, last_talk: LastTalk | None
) -> list[tuple[str, float, str]]:
    ranked: list[RankedEmployee] = list(ranking.employees) if ranking else []
    found = [(r.employee, r.score, _reason(r)) for r in ranked]
    if last_talk is not None:
        score = next((r.score for r in ranked if r.employee == last_talk.employee), 0.0)
        reason = f"talked with the caller {last_talk.minutes_ago} min ago"
        found.insert(0, (last_talk.employee, score, reason))
    return found


def _reason(r: RankedEmployee) -> str:
    prefix = "responsible; " if r.responsible else ""
    return prefix + r.reason()


def _fragments(chosen: list[MenuEntry], phrases: Phrases) -> tuple[str, ...]:
    if not chosen:
        return (phrases.new_client,)
    spoken = [
        (phrases.first_entry if i == 0 else phrases.entry).format(
            name=e.name, digit=e.digit
        )
        for i, e in enumerate(chosen)
    ]
    return (phrases.start, *spoken, phrases.end)
