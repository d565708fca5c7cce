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

import polars as pl

from jobs.cdr_loader.mapping import RowMapper
from jobs.cdr_loader.records import Batch, SourceRow
from jobs.cdr_loader.sources.base import SourceUnavailable
from jobs.cdr_loader.table_mapping import LINE

CLASSIC = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
    "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
    "disposition", "amaflags", "uniqueid", "userfield",
)  # fmt: skip
NEW_COLUMNS = (*CLASSIC, "peeraccount", "linkedid", "sequence")
_CHUNK = 1 << 20  # bytes read per step
# A line of 21 fields, each quoted (quotes doubled inside) or bare (no quote, no
# comma): the grammar Asterisk writes, where every CSV reader reads the same
# fields. Only such lines go to the column mapper; the csv module reads the rest.
# A NUL sends the line there too: the row rules reject it (PostgreSQL's text
# cannot hold one).
_FIELD = r'(?:"(?:[^"\r\x00]|"")*"|[^",\r\x00]*)'
_PLAIN_LINE = rf"^{_FIELD}(?:,{_FIELD}){{{len(NEW_COLUMNS) - 1}}}$"


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
        lines: list[str] = []
        position = start
        async for chunk in self._chunks(start):
            for end, text in chunk:
                lines.append(text)
                position = end
                if len(lines) >= self.batch_size:
                    yield parse_batch(lines, f"{inode}:{position}")
                    lines = []
        if lines or position != offset or cursor != f"{inode}:{offset}":
            yield parse_batch(lines, f"{inode}:{max(position, offset)}")

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
        async for chunk in self._chunks(start):
            records = _records([text for _, text in chunk])
            for (end, text), (values, error) in zip(chunk, records, strict=True):
                yield end, _row(text, values, error)

    async def _chunks(self, start: int) -> AsyncIterator[list[tuple[int, str]]]:
        """The complete lines of each chunk read: (offset after the line, text)."""
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
            yield self._decode(raw_lines, base)

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


def parse_batch(lines: list[str], cursor: str) -> Batch:
    """The lines as a batch: the ones in the plain 21-column layout as one table
    for the column rules, any other line as its own row, read as before."""
    if not lines:
        return Batch([], cursor)
    texts = pl.Series(LINE, lines, dtype=pl.String)
    # A line over the csv module's field limit may hold a field it refuses.
    short = texts.str.len_chars() <= csv.field_size_limit()
    plain = short & texts.str.contains(_PLAIN_LINE)
    table = _table(texts.filter(plain))
    if table is None:  # none were plain, or polars split them otherwise
        plain = pl.Series([False] * len(lines))
    others = texts.filter(~plain).to_list()
    records = _records(others)
    rows = [
        _row(text, values, error)
        for text, (values, error) in zip(others, records, strict=True)
    ]
    return Batch(rows, cursor, table)


def _table(texts: pl.Series) -> pl.DataFrame | None:
    if texts.is_empty():
        return None
    data = "\n".join(texts.to_list()).encode("utf-8")
    table = pl.read_csv(
        data, has_header=False, new_columns=list(NEW_COLUMNS),
        infer_schema=False, quote_char='"',
    )  # fmt: skip
    if table.height != len(texts):
        return None
    return table.with_columns(texts)


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
