"""The `[cdr]` config section: where call history comes from and how it loads."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from bridge.config_base import Section

CdrSource = Literal["none", "csv", "sql", "mikopbx", "vpbx"]


class CdrConfig(Section):
    source: CdrSource = "none"
    # Master.csv of cdr_csv, for source = "csv".
    path: str = ""
    # SQLAlchemy URL for "sql", MikoPBX base URL for "mikopbx".
    url: str = ""
    table: str = "cdr"
    # cp1251 is common on Russian installs.
    encoding: str = "utf-8"
    # PBXs log wall-clock time without a zone; also the zone of "today" in the API.
    timezone: str = "Europe/Moscow"
    # Rows per transaction; the checkpoint moves with each committed batch.
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    # Re-read this much before the checkpoint on every run (late-written rows).
    overlap_seconds: int = Field(default=900, ge=0, le=7 * 86400)
    # For sources paged by row id (MikoPBX REST) the overlap is in rows.
    overlap_rows: int = Field(default=200, ge=0, le=100_000)
    # The gap check re-reads this many past hours and backfills what is missing.
    gap_check_hours: int = Field(default=24, ge=0, le=24 * 31)
    gap_check_every_minutes: int = Field(default=60, ge=1, le=7 * 1440)
    # MikoPBX get_data caps `limit` at 600 (2000 on newer cores).
    mikopbx_limit: int = Field(default=600, ge=1, le=2000)
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Rostelecom export: poll download_call_history with backoff when no
    # history_file_completed notification arrives.
    vpbx_poll_first_seconds: float = Field(default=5.0, gt=0, le=600)
    vpbx_poll_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    vpbx_export_timeout_seconds: float = Field(default=900.0, gt=0, le=86400)
    # Recordings are served only from inside this folder; empty: no downloads.
    recordings_dir: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def missing(self) -> list[tuple[str, str]]:
        if self.source == "csv" and not self.path:
            return [("path", "required when cdr.source is 'csv'")]
        if self.source in ("sql", "mikopbx") and not self.url:
            return [("url", f"required when cdr.source is {self.source!r}")]
        return []
