"""Write-back: journal calls become 1C interaction documents (`onec.writeback`).

A step of the `cdr_loader` job (PRODUCT §9 fixes the job ids, so it is not a job
of its own): after the journal is loaded and committed, up to `batch_size` due
calls are sent, fewest attempts first. The loader never waits on 1C beyond that:
at the first sign of 1C being down the step stops, and what is left stays pending
for the next run, which also catches up on everything missed before.

Idempotent through the stored mapping (`bridge.journal.onec_links`): a call is
marked `sending` and committed before its POST, and linked to the document's
`Ref_Key` after. A POST is never repeated blindly (`ODataClient.create`): when a
call is still `sending` on a later run, the process died or the answer was lost
between the two, and the document is looked up by the marker it carries
(`call_document.marker`) before anything is created again.

1C refusing a document (odata.error for a bad value) rejects that call with 1C's
reason and the step goes on; 1C being down, refusing our credentials or answering
nonsense stops the step with the calls left pending.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta, tzinfo

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client import Counter as MetricCounter

from bridge.clock import Clock
from bridge.journal.calls import JournalCall
from bridge.journal.onec_links import DueCall, OneCLinks, Window
from bridge.onec.config import OneCConfig
from bridge.onec.errors import ODataError, OneCError
from bridge.onec.odata import ODataClient
from bridge.onec.users import read_users
from bridge.onec.web_service import OneCUser
from jobs.cdr_loader.call_document import document_fields, lookup_query

log = logging.getLogger(__name__)
# 1C's codes for a request that names the wrong thing (URL, entity type): the
# configuration is wrong, not this call's data, so nothing is rejected for it.
_CONFIG_CODES = frozenset({"6", "8"})


class Outcome(enum.StrEnum):
    CREATED = "created"
    RECOVERED = "recovered"  # an unconfirmed attempt had created it after all
    REJECTED = "rejected"


class WriteBackMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = MetricCounter(
            "telebridge_onec_writeback_calls",
            "Journal calls written back to 1C, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.pending = Gauge(
            "telebridge_onec_writeback_pending",
            "Journal calls due for write-back to 1C without a confirmed document",
            registry=registry,
        )


@dataclass(frozen=True, slots=True)
class WriteBackReport:
    counters: dict[str, int]
    # Why the step stopped early (1C down, credentials), "" when it did not.
    deferred: str = ""


class WriteBackStep:
    def __init__(
        self,
        links: OneCLinks,
        config: OneCConfig,
        *,
        zone: tzinfo,
        clock: Clock,
        client: Callable[[], ODataClient],
        metrics: WriteBackMetrics,
    ) -> None:
        self._links = links
        self._onec = config
        self._config = config.writeback
        self._zone = zone
        self._clock = clock
        self._client = client
        self._metrics = metrics

    async def __call__(self) -> WriteBackReport:
        window = self._window()
        due = await self._links.due(window, self._config.batch_size)
        outcomes: Counter[str] = Counter()
        deferred = ""
        if due:
            try:
                await self._send(due, outcomes)
            except OneCError as exc:
                deferred = str(exc)
                log.warning("write-back to 1C deferred to the next run: %s", exc)
        pending = await self._links.pending(window)
        self._metrics.pending.set(pending)
        counters = {f"writeback_{k}": v for k, v in outcomes.items()}
        counters["writeback_pending"] = pending
        return WriteBackReport(counters, deferred)

    def _window(self) -> Window:
        now = self._clock.now()
        return Window(
            since=now - timedelta(days=self._config.lookback_days),
            settled=now - timedelta(seconds=self._config.settle_seconds),
        )

    async def _send(self, due: list[DueCall], outcomes: Counter[str]) -> None:
        async with self._client() as client:
            users = await self._users(client)
            for item in due:
                outcome = await self._write(client, item, users)
                outcomes[outcome.value] += 1
                self._metrics.calls.labels(outcome.value).inc()

    async def _users(self, client: ODataClient) -> dict[str, OneCUser]:
        """1C users by extension: who the employees of a call are in 1C."""
        return {u.extension: u for u in await read_users(client, self._onec)}

    async def _write(
        self, client: ODataClient, item: DueCall, users: dict[str, OneCUser]
    ) -> Outcome:
        call = item.call
        if item.unconfirmed:
            ref = await self._find(client, call)
            if ref is not None:
                await self._links.created(call, ref, self._clock.now())
                return Outcome.RECOVERED
        await self._links.sending(call, self._clock.now())
        fields = document_fields(call, self._config, users, self._zone)
        try:
            created = await client.create(self._config.entity, fields)
        except ODataError as exc:
            if exc.code in _CONFIG_CODES:
                raise
            await self._links.rejected(call, str(exc), self._clock.now())
            log.warning("1C rejected call %s: %s", call.linkedid, exc)
            return Outcome.REJECTED
        await self._links.created(call, str(created["Ref_Key"]), self._clock.now())
        return Outcome.CREATED

    async def _find(self, client: ODataClient, call: JournalCall) -> str | None:
        query = lookup_query(call, self._config, self._zone)
        found = await client.get(self._config.entity, query)
        return str(found[0]["Ref_Key"]) if found else None
