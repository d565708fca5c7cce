"""Health as data: each component reports its own state; `/healthz` aggregates."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


class State(enum.StrEnum):
    OK = "ok"
    STARTING = "starting"
    DEGRADED = "degraded"
    DOWN = "down"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    state: State
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"state": self.state.value}
        if self.detail:
            body["detail"] = self.detail
        if self.data:
            body["data"] = self.data
        return body


StatusProvider = Callable[[], Awaitable[ComponentStatus]]

# Components every install reports, configured or not, so operators always see them.
STANDARD_COMPONENTS = ("database", "pbx", "onec", "scheduler", "channels")


class HealthRegistry:
    def __init__(self) -> None:
        self._providers: dict[str, StatusProvider] = {}

    def register(self, name: str, provider: StatusProvider) -> None:
        self._providers[name] = provider

    async def collect(self) -> dict[str, ComponentStatus]:
        result: dict[str, ComponentStatus] = {}
        for name in sorted(set(STANDARD_COMPONENTS) | set(self._providers)):
            provider = self._providers.get(name)
            result[name] = await _ask(provider) if provider else _not_configured()
        return result


def is_ready(components: dict[str, ComponentStatus]) -> bool:
    """Ready unless a component that is configured is down or still starting."""
    return all(s.state not in (State.DOWN, State.STARTING) for s in components.values())


def _not_configured() -> ComponentStatus:
    return ComponentStatus(State.NOT_CONFIGURED)


async def _ask(provider: StatusProvider) -> ComponentStatus:
    try:
        return await provider()
    except Exception as exc:  # noqa: BLE001 - a broken probe must not break /healthz
        return ComponentStatus(State.DOWN, f"status probe failed: {type(exc).__name__}")
