"""What the IVR endpoints answer, as pydantic models (the OpenAPI schemas too)."""

from __future__ import annotations

from pydantic import BaseModel

from smart_ivr.service import IvrAnswer


class MenuEntryOut(BaseModel):
    digit: str
    employee: str
    name: str
    extension: str
    score: float
    reason: str


class SkippedOut(BaseModel):
    employee: str
    reason: str


class PromptOut(BaseModel):
    path: str
    url: str
    fragments: list[str]


class DestinationsOut(BaseModel):
    default: str
    emergency: str


class IvrMenuOut(BaseModel):
    number: str
    new_client: bool
    entries: list[MenuEntryOut]
    prompt: PromptOut | None
    destinations: DestinationsOut
    # Set when the answer is a fallback: route to destinations.emergency at once.
    fallback: str | None
    # Ranked employees left out, and why (filled by the admin preview).
    skipped: list[SkippedOut] = []


def menu_out(answer: IvrAnswer, *, preview: bool = False) -> IvrMenuOut:
    menu = answer.menu
    prompt = None
    if answer.prompt is not None:
        prompt = PromptOut(
            path=answer.prompt.path,
            url=answer.prompt.url,
            fragments=list(menu.fragments),
        )
    return IvrMenuOut(
        number=menu.number,
        new_client=menu.new_client,
        entries=[
            MenuEntryOut(
                digit=e.digit,
                employee=e.employee,
                name=e.name,
                extension=e.extension,
                score=e.score,
                reason=e.reason,
            )
            for e in menu.entries
        ],
        prompt=prompt,
        destinations=DestinationsOut(
            default=menu.destinations.default, emergency=menu.destinations.emergency
        ),
        fallback=answer.fallback.value if answer.fallback else None,
        skipped=[
            SkippedOut(employee=s.employee, reason=s.reason)
            for s in (menu.skipped if preview else ())
        ],
    )
