"""Asterisk cdr_csv `Master.csv`.

Column order per cdr_csv.c: accountcode, src, dst, dcontext, clid, channel,
dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition,
amaflags, uniqueid, userfield; with `newcdrcolumns=yes` (Asterisk 12+) followed by
peeraccount, linkedid, sequence. The file has no header; the column count tells the
layouts apart. Times are local wall time.

The cursor is `<inode>:<byte offset after the last complete line>`: a line still
being written is left for the next run, and a rotated file (another inode) or a
truncated one (shorter than the offset) is read from the start.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from jobs.cdr_loader.mapping import parse_time
from jobs.cdr_loader.records import Batch, SourceRow
from jobs.cdr_loader.sources.base import SourceUnavailable

CLASSIC = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
    "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
    "disposition", "amaflags", "uniqueid", "userfield",
)  # fmt: skip
NEW_COLUMNS = (*CLASSIC, "peeraccount", "linkedid", "sequence")
# Re-read this many bytes before the cursor: cheap insurance, inserts are idempotent.
_CHUNK = 1 << 20


class MasterCsvSource:
    name = "csv"

    def __init__(
        self,
        path: Path,
        *,
        encoding: str = "utf-8",
        batch_size: int = 5000,
        overlap_bytes: int = 0,
        zone: tzinfo = UTC,
    ) -> None:
        self.zone = zone
        self.path = path
        self.encoding = encoding
        self.batch_size = batch_size
        self.overlap_bytes = overlap_bytes

    async def batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        inode, size = await self._stat()
        offset = _offset(cursor, inode)
        if offset > size:
            offset = 0  # truncated: the file is new
        start = max(0, offset - self.overlap_bytes)
        rows: list[SourceRow] = []
        position = start
        async for line_end, row in self._lines(start):
            rows.append(row)
            position = line_end
            if len(rows) >= self.batch_size:
                yield Batch(rows, f"{inode}:{position}")
                rows = []
        if rows or position != offset or cursor != f"{inode}:{offset}":
            yield Batch(rows, f"{inode}:{max(position, offset)}")

    async def window(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[list[SourceRow]]:
        rows: list[SourceRow] = []
        async for _, row in self._lines(0):
            when = started(row, self.zone)
            if when is not None and since <= when < until:
                rows.append(row)
            if len(rows) >= self.batch_size:
                yield rows
                rows = []
        if rows:
            yield rows

    async def _stat(self) -> tuple[int, int]:
        try:
            stat = await asyncio.to_thread(self.path.stat)
        except OSError as exc:
            raise SourceUnavailable(f"{self.path}: {exc.strerror}") from None
        return stat.st_ino, stat.st_size

    async def _lines(self, start: int) -> AsyncIterator[tuple[int, SourceRow]]:
        position = start
        # Starting mid-line (after the overlap step back) skips that fragment;
        # starting right after a newline (the cursor itself) skips nothing.
        skip_partial = (
            start > 0 and await asyncio.to_thread(self._read, start - 1, 1) != b"\n"
        )
        pending = b""
        while True:
            chunk = await asyncio.to_thread(self._read, position, _CHUNK)
            if not chunk:
                return
            data = pending + chunk
            last = data.rfind(b"\n")
            if last < 0:
                pending = data
                position += len(chunk)
                continue
            complete, pending = data[: last + 1], data[last + 1 :]
            base = position - (len(data) - len(chunk))
            position += len(chunk)
            offset = base
            for raw_line in complete.splitlines(keepends=True):
                offset += len(raw_line)
                if skip_partial:
                    skip_partial = False
                    continue
                row = self._parse(raw_line)
                if row is not None:
                    yield offset, row

    def _read(self, position: int, size: int) -> bytes:
        try:
            with self.path.open("rb") as fh:
                fh.seek(position)
                return fh.read(size)
        except OSError as exc:
            raise SourceUnavailable(f"{self.path}: {exc.strerror}") from None

    def _parse(self, raw_line: bytes) -> SourceRow | None:
        text = raw_line.decode(self.encoding, errors="replace").rstrip("\r\n")
        if not text.strip():
            return None
        values = next(csv.reader(io.StringIO(text)), [])
        if len(values) >= len(NEW_COLUMNS):
            names: tuple[str, ...] = NEW_COLUMNS
        else:
            names = CLASSIC
        fields = dict(zip(names, values, strict=False))
        error = ""
        if len(values) not in (len(CLASSIC), len(NEW_COLUMNS)):
            error = f"expected 18 or 21 columns, got {len(values)}"
        return SourceRow(fields, {"line": text}, error)


def _offset(cursor: str | None, inode: int) -> int:
    """The byte offset to resume at; 0 when logrotate put a new file in place."""
    if not cursor:
        return 0
    file_id, _, offset = cursor.rpartition(":")
    if file_id and file_id != str(inode):
        return 0
    return int(offset) if offset.isdigit() else 0


def started(row: SourceRow, zone: tzinfo) -> datetime | None:
    """The row's start, or None when it has none readable (the mapper says why)."""
    try:
        return parse_time(row.fields.get("start", ""), zone, "start")
    except ValueError:
        return None
