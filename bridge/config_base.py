"""The base every config section derives from.

Kept apart from `bridge.config` so feature packages can declare their own sections
without importing the root config (which imports them).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A config table: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    def missing(self) -> list[tuple[str, str]]:
        """Keys that are required by the values of other keys: (key, reason) pairs.

        Pydantic can only say "field required" for fields that are always required;
        most of ours are required only once a feature is switched on.
        """
        return []
