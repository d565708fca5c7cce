"""The `[cdr]` config section: where call history comes from."""

from __future__ import annotations

from typing import Literal

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

    def missing(self) -> list[tuple[str, str]]:
        if self.source == "csv" and not self.path:
            return [("path", "required when cdr.source is 'csv'")]
        if self.source in ("sql", "mikopbx") and not self.url:
            return [("url", f"required when cdr.source is {self.source!r}")]
        return []
