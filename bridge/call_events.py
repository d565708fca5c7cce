"""The one call-event model every PBX adapter emits and every consumer receives.

Shape fixed by PRODUCT §3: the incumbent's three states (kept for 1C compatibility)
plus a finer kind. Adapters build these; the long-poll hub stores and delivers them;
the web-service mode pushes them to 1C.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class CallState(enum.StrEnum):
    CALLING = "Calling"
    CONNECTED = "Connected"
    FINISHED = "Finished"


class CallKind(enum.StrEnum):
    NEW = "new"
    RINGING = "ringing"
    ANSWERED = "answered"
    TRANSFERRED = "transferred"
    HELD = "held"
    RESUMED = "resumed"
    HANGUP = "hangup"


class Direction(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL = "internal"


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str = Field(default="", max_length=64)
    extension: str = Field(default="", max_length=32)


class CallEvent(BaseModel):
    """One thing that happened to one leg of a call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call_id: str = Field(min_length=1, max_length=128, description="the leg")
    linkedid: str = Field(min_length=1, max_length=128, description="the whole call")
    time: datetime = Field(description="UTC, microseconds")
    state: CallState
    kind: CallKind
    direction: Direction
    from_: Party = Field(default_factory=Party, alias="from")
    to: Party = Field(default_factory=Party)
    did: str = Field(default="", max_length=64, description="the incoming line")
    user_id: str = Field(default="", max_length=64, description="1C user of the leg")
    # Adapter-specific facts (disconnect reason, queue, transfer target, ...).
    extra: dict[str, Any] = Field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def extensions(self) -> set[str]:
        """Extensions this event concerns: a panel of any of them receives it."""
        return {e for e in (self.from_.extension, self.to.extension) if e}


class EventSink(Protocol):
    """Where adapters and jobs publish; implemented by the long-poll hub."""

    async def publish_call(self, event: CallEvent) -> str:
        """Store the call event durably and wake consumers; returns its event id."""
        ...

    async def publish(
        self,
        topic: str,
        data: dict[str, Any],
        *,
        extensions: frozenset[str] = frozenset(),
    ) -> str:
        """Store any other event (e.g. "history.updated"); `extensions` scope panels."""
        ...
