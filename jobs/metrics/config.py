"""The `[metrics]` config section: the weekly usage report to the developers."""

from __future__ import annotations

from bridge.config_base import Section


class MetricsConfig(Section):
    # Empty: the payload is only recorded in the run history, never sent.
    endpoint: str = ""
