"""The `routing_table` job: fold new documents in, drop expired weeks, pre-warm.

Incremental: each source is read from its checkpoint, and a run writes only what is
new. Rankings are computed when read (`jobs.routing_table.table`), so expiries and
staff changes need no work here. The job body is a plain callable; the scheduler
calls it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bridge.clock import Clock
from jobs.base import JobContext, JobOutcome, JobReport
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import Checkpoint, RoutingStore

# Expired documents stay a week past the longest validity before they are dropped:
# lengthening a validity in the settings then brings back what was still there.
PRUNE_MARGIN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Batch:
    interactions: Sequence[Interaction]
    position: str  # where the next read starts


class DocumentSource(Protocol):
    """Documents of one type, in order, from an opaque position ("" = the start)."""

    name: str

    def read(self, position: str) -> AsyncIterator[Batch]: ...


PreWarm = Callable[[], Awaitable[int]]


class RoutingTableJob:
    def __init__(
        self,
        store: RoutingStore,
        sources: Sequence[DocumentSource],
        types: Mapping[str, DocumentType],
        clock: Clock,
        *,
        prewarm: PreWarm | None = None,
    ) -> None:
        self._store = store
        self._sources = sources
        self._clock = clock
        self._keep = max((t.validity for t in types.values()), default=timedelta(0))
        # Set by the smart IVR once the TTS cache exists (features start in order).
        self.prewarm = prewarm

    async def __call__(self, context: JobContext) -> JobReport:
        clients, documents = await self._fold_new_documents()
        pruned = await self._store.prune(self._clock.now() - self._keep - PRUNE_MARGIN)
        phrases = await self.prewarm() if self.prewarm else 0
        counters = {
            "documents": documents,
            "clients_touched": len(clients),
            "contributions_pruned": pruned,
            "phrases_warmed": phrases,
        }
        return JobReport(JobOutcome.OK, counters)

    async def _fold_new_documents(self) -> tuple[set[str], int]:
        touched: set[str] = set()
        documents = 0
        for source in self._sources:
            checkpoint = await self._store.checkpoint(source.name)
            async for batch in source.read(checkpoint.position if checkpoint else ""):
                # The checkpoint moves in the documents' transaction: a crash
                # between batches never folds a batch twice.
                done = Checkpoint(source.name, batch.position, self._clock.now())
                touched |= await self._store.add(batch.interactions, done)
                documents += sum(i.count for i in batch.interactions)
        return touched, documents
