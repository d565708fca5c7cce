"""The `[ivr]` config section: menu shape and fallbacks."""

from __future__ import annotations

from pydantic import Field

from bridge.config_base import Section


class IvrConfig(Section):
    max_entries: int = Field(default=3, ge=1, le=9)
    deadline_seconds: float = Field(default=1.5, gt=0, le=10)
    default_destination: str = ""
    emergency_destination: str = ""
