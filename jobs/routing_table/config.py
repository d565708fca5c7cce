"""The `[routing]` config section: how employees are ranked per client."""

from __future__ import annotations

from pydantic import Field

from bridge.config_base import Section


class RoutingConfig(Section):
    # Weight and validity of a journal call, the default (and first) document type.
    call_weight: float = Field(default=1.0, gt=0)
    call_validity_days: int = Field(default=90, ge=1, le=3650)
