"""The `routing_table` job: fold new documents in, re-rank who changed, pre-warm.

Incremental: each source is read from its checkpoint, so a run over one day's
documents touches only the clients those documents (or expiries since the last run)
concern. The job body is a plain callable; the scheduler calls it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bridge.clock import Clock
from jobs.base import JobContext, JobOutcome, JobReport
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import RoutingStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Batch:
    interactions: Sequence[Interaction]
    position: str  # where the next read starts


class DocumentSource(Protocol):
    """Documents of one type, in order, from an opaque position ("" = the start)."""

    name: str

    def read(self, position: str) -> AsyncIterator[Batch]: ...


InactiveEmployees = Callable[[], Awaitable[frozenset[str]]]
PreWarm = Callable[[], Awaitable[int]]


class RoutingTableJob:
    def __init__(
        self,
        store: RoutingStore,
        sources: Sequence[DocumentSource],
        types: dict[str, DocumentType],
        clock: Clock,
        *,
        inactive: InactiveEmployees,
        prewarm: PreWarm | None = None,
    ) -> None:
        self._store = store
        self._sources = sources
        self._types = types
        self._clock = clock
        self._inactive = inactive
        # Set by the smart IVR once the TTS cache exists (features start in order).
        self.prewarm = prewarm
        self._last_run: datetime | None = None
        self._last_inactive: frozenset[str] | None = None

    async def __call__(self, context: JobContext) -> JobReport:
        now = self._clock.now()
        inactive = await self._inactive()
        touched, documents = await self._fold_new_documents()
        if self._last_run is None or inactive != self._last_inactive:
            # First run in this process, or staff changed: every ranking may move.
            entries = await self._store.recompute(None, self._types, now, inactive)
            ranked = await self._store.client_count()
        else:
            touched |= await self._store.expired_clients(
                self._types, self._last_run, now
            )
            entries = await self._store.recompute(touched, self._types, now, inactive)
            ranked = len(touched)
        self._last_run, self._last_inactive = now, inactive
        phrases = await self.prewarm() if self.prewarm else 0
        counters = {
            "documents": documents,
            "clients_ranked": ranked,
            "entries": entries,
            "phrases_warmed": phrases,
        }
        return JobReport(JobOutcome.OK, counters)

    async def _fold_new_documents(self) -> tuple[set[str], int]:
        touched: set[str] = set()
        documents = 0
        for source in self._sources:
            checkpoint = await self._store.checkpoint(source.name)
            async for batch in source.read(checkpoint.position if checkpoint else ""):
                touched |= await self._store.add(batch.interactions)
                documents += sum(i.count for i in batch.interactions)
                await self._store.save_checkpoint(
                    source.name, batch.position, self._clock.now()
                )
        return touched, documents
