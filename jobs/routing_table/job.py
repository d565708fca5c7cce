"""The `routing_table` job: fold new documents in, drop expired weeks, pre-warm.

Incremental: each source is read from its checkpoint, and a run writes only what is
new. Rankings are computed when read (`jobs.routing_table.table`), so expiries and
staff changes need no work here. The job body is a plain callable; the scheduler
calls it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bridge.clock import Clock
from jobs.base import JobContext, JobOutcome, JobReport
from jobs.routing_table.ranking import DocumentType, Interaction
from jobs.routing_table.store import Checkpoint, Folded, RoutingStore, fold, micros

# Expired documents stay a week past the longest validity before they are dropped:
# lengthening a validity in the settings then brings back what was still there.
PRUNE_MARGIN = timedelta(days=7)

# Documents per transaction: large enough that a first run over years of journal
# writes each region of the table a few times, not thousands.
WRITE_DOCUMENTS = 200_000


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
        write_every: int = WRITE_DOCUMENTS,
    ) -> None:
        self._store = store
        self._sources = sources
        self._clock = clock
        self._write_every = write_every
        self._keep = max((t.validity for t in types.values()), default=timedelta(0))
        # Set by the smart IVR once the TTS cache exists (features start in order).
        self.prewarm = prewarm

    async def __call__(self, context: JobContext) -> JobReport:
        clients, documents = await self._fold_new_documents()
        pruned = await self._store.prune(self._horizon())
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
            documents += await self._fold_source(source, touched)
        return touched, documents

    async def _fold_source(self, source: DocumentSource, touched: set[str]) -> int:
        """Fold a source's new batches, writing every `write_every` documents.

        Each write is one transaction that also moves the checkpoint, so nothing is
        ever folded twice. It runs while the next batches are read and folded: the
        database inserts (outside the interpreter lock) while Python folds. At most
        one write is in flight, which bounds the memory. When the source breaks,
        what it gave so far is still written before the error propagates."""
        checkpoint = await self._store.checkpoint(source.name)
        horizon = micros(self._horizon())
        documents, pending, position = 0, 0, ""
        folded: Folded = {}
        writing: asyncio.Task[set[str]] | None = None
        try:
            async for batch in source.read(checkpoint.position if checkpoint else ""):
                fold(batch.interactions, folded, not_before=horizon)
                count = sum(i.count for i in batch.interactions)
                documents, pending = documents + count, pending + count
                position = batch.position
                if pending >= self._write_every:
                    if writing is not None:
                        touched |= await writing
                    writing = asyncio.create_task(self._write(source, folded, position))
                    folded, pending, position = {}, 0, ""
        finally:
            if writing is not None:
                touched |= await writing
            if position:
                touched |= await self._write(source, folded, position)
        return documents

    def _horizon(self) -> datetime:
        """Documents older than this never count again, whatever the settings."""
        return self._clock.now() - self._keep - PRUNE_MARGIN

    async def _write(
        self, source: DocumentSource, folded: Folded, position: str
    ) -> set[str]:
        done = Checkpoint(source.name, position, self._clock.now())
        return await self._store.write(folded, done)
