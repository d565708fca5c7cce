"""Configured 1C document types as routing-table sources (`[[routing.document_types]]`).

Each type is read over the standard OData interface in (date, reference) order from
the last document folded, so a run brings only what is new. The first read starts
one validity period back: older documents would not count anyway. A document's
employee is the 1C user reference; the routing table maps it to the user's
extension when it reads (`RoutingTable`), so calls and documents of one person add
up. 1C dates are wall time, read in the office's zone as the write-back writes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, tzinfo

from bridge.clock import Clock
from bridge.onec.documents import DocumentFact, DocumentMapping, read_documents
from bridge.onec.odata import ODataClient
from jobs.routing_table.config import DocumentTypeConfig
from jobs.routing_table.job import Batch
from jobs.routing_table.ranking import Interaction

Connect = Callable[[], AbstractAsyncContextManager[ODataClient]]
SEPARATOR = "|"


class OneCDocuments:
    def __init__(
        self,
        doc_type: DocumentTypeConfig,
        connect: Connect,
        zone: tzinfo,
        clock: Clock,
        page_size: int,
    ) -> None:
        self.name = doc_type.name
        self._type = doc_type
        self._mapping = DocumentMapping(
            entity=doc_type.entity,
            date_field=doc_type.date_field,
            client_field=doc_type.client_field,
            employee_field=doc_type.employee_field,
        )
        self._connect = connect
        self._zone = zone
        self._clock = clock
        self._page_size = page_size

    async def read(self, position: str) -> AsyncIterator[Batch]:
        """Batches of documents after `position` ("<date>|<ref>" of the last one)."""
        after = _parse(position)
        since = after[0] if after else self._first_date()
        batch: list[Interaction] = []
        last = position
        async with self._connect() as client:
            async for fact in read_documents(
                client, self._mapping, since, self._page_size
            ):
                # The query starts at the last date itself (1C compares with "ge");
                # documents up to the last one read are already folded.
                if after and (fact.date, fact.ref) <= after:
                    continue
                batch.append(self._interaction(fact))
                last = f"{fact.date.isoformat()}{SEPARATOR}{fact.ref}"
                if len(batch) == self._page_size:
                    yield Batch(batch, last)
                    batch = []
        if batch:
            yield Batch(batch, last)

    def _first_date(self) -> datetime:
        now = self._clock.now().astimezone(self._zone)
        return (now - self._type.document_type().validity).replace(tzinfo=None)

    def _interaction(self, fact: DocumentFact) -> Interaction:
        at = fact.date.replace(tzinfo=self._zone)
        return Interaction(fact.client_ref, fact.employee_ref, self.name, at)


def _parse(position: str) -> tuple[datetime, str] | None:
    if not position:
        return None
    date, _, ref = position.partition(SEPARATOR)
    return datetime.fromisoformat(date), ref
