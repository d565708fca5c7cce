"""What the loader needs from a CDR source, and the one error a source raises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from jobs.cdr_loader.records import Batch, SourceRow


class SourceUnavailable(Exception):
    """The source could not be read (down, timed out, unreadable); nothing loaded
    from the failing batch on, and the checkpoint stays where it was."""


class CdrSource(Protocol):
    name: str

    def batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Rows after `cursor` (minus the source's overlap), oldest first, in
        batches; each batch's cursor resumes after it."""
        ...

    def window(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[list[SourceRow]]:
        """Every row that started in [since, until), for the gap check."""
        ...
