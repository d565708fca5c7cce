"""The `[metrics]` config section: the weekly usage report to the developers."""

from __future__ import annotations

from pydantic import Field

from bridge.config_base import Section


class MetricsConfig(Section):
    # Empty: the payload is only recorded in the run history, never sent.
    endpoint: str = ""
    attempts: int = Field(default=3, ge=1, le=10)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
