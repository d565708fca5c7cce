"""The `[http.events]` table: the events channel (long-poll and web-service push)."""

from __future__ import annotations

from pydantic import Field

from bridge.config_base import Section

HOUR = 3600


class EventsConfig(Section):
    # A poll with no `wait` holds this long; `wait` may ask for at most max_wait.
    default_wait_seconds: int = Field(default=25, ge=0, le=50)
    max_wait_seconds: int = Field(default=50, ge=1, le=300)
    # At most this many events in one answer (a poll may ask for fewer with `limit`).
    max_batch: int = Field(default=100, ge=1, le=10_000)
    # The durable log keeps an event while EITHER bound holds: younger than
    # retention_seconds, or among the newest retention_events. PRODUCT §3 floors.
    retention_seconds: int = Field(default=HOUR, ge=HOUR)
    retention_events: int = Field(default=1000, ge=1000)
    prune_interval_seconds: float = Field(default=60.0, gt=0, le=HOUR)
    # Newest events kept in memory, so polls are answered without the database.
    memory_tail: int = Field(default=20_000, ge=100, le=1_000_000)
    # What a closed channel tells pollers to wait before asking again.
    closed_retry_after_seconds: int = Field(default=60, ge=1, le=HOUR)
    # Web-service mode: push every call event to 1C's miko_crm_api (onec.soap_url)
    # instead of (in addition to) waiting for 1C to poll.
    push_to_onec: bool = False
