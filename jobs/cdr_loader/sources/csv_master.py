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
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from jobs.cdr_loader.mapping import RowMapper
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
        self._times = RowMapper(self.name, zone)
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
            when = started(row, self._times)
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
            raw_lines = complete.splitlines(keepends=True)
            if skip_partial:
                skip_partial = False
                base += len(raw_lines[0])
                del raw_lines[0]
            lines = self._decode(raw_lines, base)
            records = _records([text for _, text in lines])
            for (end, text), (values, error) in zip(lines, records, strict=True):
                yield end, _row(text, values, error)

    def _decode(self, raw_lines: list[bytes], base: int) -> list[tuple[int, str]]:
        """(offset after the line, its text) of each line that is not blank."""
        lines = []
        offset = base
        for raw_line in raw_lines:
            offset += len(raw_line)
            text = raw_line.decode(self.encoding, errors="replace").rstrip("\r\n")
            if text.strip():
                lines.append((offset, text))
        return lines

    def _read(self, position: int, size: int) -> bytes:
        try:
            with self.path.open("rb") as fh:
                fh.seek(position)
                return fh.read(size)
        except OSError as exc:
            raise SourceUnavailable(f"{self.path}: {exc.strerror}") from None


def _row(text: str, values: list[str], error: str) -> SourceRow:
    names = NEW_COLUMNS if len(values) >= len(NEW_COLUMNS) else CLASSIC
    fields = dict(zip(names, values, strict=False))
    if not error and len(values) not in (len(CLASSIC), len(NEW_COLUMNS)):
        error = f"expected 18 or 21 columns, got {len(values)}"
    return SourceRow(fields, {"line": text}, error)


def _records(texts: list[str]) -> list[tuple[list[str], str]]:
    """Each line's fields (and why it could not be read), as its own CSV record.

    One reader over all the lines costs a third less than a reader per line. A
    line that leaves a quote open makes that reader go on into the next lines, so
    such a stretch is read again line by line, as it is meant to be.
    """
    try:
        return list(_read_together(texts))
    except csv.Error:
        return [_read_alone(text) for text in texts]


def _read_together(texts: list[str]) -> Iterator[tuple[list[str], str]]:
    reader = csv.reader(texts)
    done = 0
    for values in reader:
        if reader.line_num == done + 1:
            yield values, ""
        else:
            yield from (_read_alone(text) for text in texts[done : reader.line_num])
        done = reader.line_num


def _read_alone(text: str) -> tuple[list[str], str]:
    try:
        return next(csv.reader((text,)), []), ""
    except csv.Error as exc:
        return [], f"not a CSV line: {exc}"


def _offset(cursor: str | None, inode: int) -> int:
    """The byte offset to resume at; 0 when logrotate put a new file in place."""
    if not cursor:
        return 0
    file_id, _, offset = cursor.rpartition(":")
    if file_id and file_id != str(inode):
        return 0
    return int(offset) if offset.isdigit() else 0


def started(row: SourceRow, times: RowMapper) -> datetime | None:
    """The row's start, or None when it has none readable (the mapper says why)."""
    try:
        return times.time(row.fields.get("start", ""), "start")
    except ValueError:
        return None
