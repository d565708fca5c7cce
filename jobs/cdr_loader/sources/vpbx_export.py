"""Rostelecom «Виртуальная АТС» call history via the integration API export.

`domain_call_history` asks the PBX to build a file for a period; the PBX announces
it with `history_file_completed` — or, when that notification is switched off or
lost, we poll `download_call_history` with a doubling delay; the file is a
gzip-compressed CSV. The manual does not document its columns (research
`seed-002-vpbx.md` §2.4), so they are found by header name from the aliases below
(the xls journal's «Абонент А», «Тип вызова», «Дата», «Время», «Длительность»,
«Имя файла», and English API-style names) and every row is kept as read.

The transport (signed requests, the notification webhook) lives with the
Rostelecom client in `pbx/vpbx/`; it is handed in as a `CallHistoryExport`.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bridge.clock import Clock
from jobs.cdr_loader.records import Batch, SourceRow
from jobs.cdr_loader.sources.base import SourceUnavailable

GZIP_MAGIC = b"\x1f\x8b"


class ExportFailed(Exception):
    """The Rostelecom client's one error: the request or download failed."""


class CallHistoryExport(Protocol):
    async def request_export(self, since: datetime, until: datetime) -> str:
        """`domain_call_history` for [since, until); returns the export id."""
        ...

    async def wait_completed(self, export_id: str, within: float) -> bool:
        """Wait up to `within` s for `history_file_completed`; True if it came."""
        ...

    async def download(self, export_id: str) -> bytes | None:
        """`download_call_history`: the gzip file, or None while it is not ready."""
        ...


# Standard field -> header names (lower case, compared without punctuation).
HEADERS: Mapping[str, tuple[str, ...]] = {
    "id_key": ("id", "session_id", "call_id", "идентификатор", "id звонка"),
    "start": ("дата и время", "время начала", "start", "start_time", "date_time",
              "timestamp", "start_call_date"),
    "date": ("дата",),
    "time": ("время",),
    "src": ("абонент а", "от кого", "кто звонил", "from", "from_number", "caller",
            "orig_number"),
    "dst": ("абонент б", "кому", "куда", "to", "to_number", "callee",
            "dest_number"),
    "type": ("тип вызова", "тип", "направление", "direction", "call_type", "type"),
    "result": ("результат", "статус", "состояние", "status", "result", "state"),
    "duration": ("длительность", "длительн", "duration", "talk_duration"),
    "recordingfile": ("имя файла", "file_name", "record_file", "recording"),
    "did": ("входящая линия", "номер линии", "line", "line_number", "did"),
    "employee": ("пользователь", "сотрудник", "user", "user_login", "login"),
}  # fmt: skip
_TYPES = {
    "входящий": "incoming", "incoming": "incoming", "in": "incoming",
    "исходящий": "outgoing", "outgoing": "outgoing", "out": "outgoing",
    "внутренний": "internal", "internal": "internal",
}  # fmt: skip
_ANSWERED = ("принят", "успеш", "answered", "success", "да")
_NOT = ("не принят", "неуспеш", "пропущ", "not", "missed", "нет")
_HMS = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2})$")
_SIP_USER = re.compile(r"^sips?:([^@;]+)", re.IGNORECASE)


class VpbxExportSource:
    name = "vpbx"

    def __init__(
        self,
        client: CallHistoryExport,
        clock: Clock,
        *,
        batch_size: int = 5000,
        overlap: timedelta = timedelta(minutes=15),
        first_window: timedelta = timedelta(hours=24),
        poll_first: float = 5.0,
        poll_max: float = 60.0,
        timeout: float = 900.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.batch_size = batch_size
        self.overlap = overlap
        self.first_window = first_window
        self.poll_first = poll_first
        self.poll_max = poll_max
        self.timeout = timeout

    async def batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        until = self.clock.now()
        since = (
            datetime.fromisoformat(cursor) - self.overlap
            if cursor
            else until - self.first_window
        )
        rows = await self._export(since, until)
        end = until.isoformat()
        for i in range(0, max(len(rows), 1), self.batch_size):
            last = i + self.batch_size >= len(rows)
            yield Batch(rows[i : i + self.batch_size], end if last else cursor or "")

    async def window(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[list[SourceRow]]:
        rows = await self._export(since, until)
        for i in range(0, len(rows), self.batch_size):
            yield rows[i : i + self.batch_size]

    async def _export(self, since: datetime, until: datetime) -> list[SourceRow]:
        try:
            export_id = await self.client.request_export(since, until)
            data = await self._await_file(export_id)
        except ExportFailed as exc:
            raise SourceUnavailable(f"vpbx export: {exc}") from None
        return parse_export(data)

    async def _await_file(self, export_id: str) -> bytes:
        deadline = self.clock.monotonic() + self.timeout
        delay = self.poll_first
        while True:
            await self.client.wait_completed(export_id, delay)
            data = await self.client.download(export_id)
            if data is not None:
                return data
            if self.clock.monotonic() >= deadline:
                raise SourceUnavailable(
                    f"vpbx export {export_id} not ready after {self.timeout:.0f} s"
                )
            delay = min(delay * 2, self.poll_max)


def parse_export(data: bytes) -> list[SourceRow]:
    """The CSV (gzipped as the API sends it, or already unpacked) as journal rows;
    columns found by header name."""
    try:
        raw = gzip.decompress(data) if data[:2] == GZIP_MAGIC else data
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceUnavailable(f"vpbx export is not gzip: {exc}") from None
    text = _decode(raw)
    if not text.strip():
        return []
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,\t")
    except csv.Error as exc:
        raise SourceUnavailable(f"vpbx export is not a CSV: {exc}") from None
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, [])
    columns = _columns(header)
    if "start" not in columns and "date" not in columns:
        raise SourceUnavailable(f"vpbx export has no date column: {header[:12]}")
    return [_row(header, values, columns) for values in reader if any(values)]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


def _key(name: str) -> str:
    return re.sub(r"[^\w ]+", "", name.strip().lower()).strip()


def _columns(header: Sequence[str]) -> dict[str, int]:
    keys = [_key(h) for h in header]
    found: dict[str, int] = {}
    for std, aliases in HEADERS.items():
        for alias in aliases:
            if alias in keys:
                found[std] = keys.index(alias)
                break
    return found


def _row(
    header: Sequence[str], values: Sequence[str], columns: Mapping[str, int]
) -> SourceRow:
    raw = dict(zip(header, values, strict=False))
    if len(values) != len(header):
        return SourceRow({}, raw, f"expected {len(header)} columns, got {len(values)}")

    def get(std: str) -> str:
        index = columns.get(std)
        return values[index].strip() if index is not None else ""

    start = get("start") or f"{get('date')} {get('time')}".strip()
    kind = _TYPES.get(get("type").lower(), "")
    answered = _answered(get("result"), get("duration"))
    seconds = _seconds(get("duration"))
    fields = {
        "start": start,
        "src": _sip_user(get("src")),
        "dst": _sip_user(get("dst")),
        "direction": kind,
        "employee": _login(kind, get("src"), get("dst"), get("employee")),
        "disposition": "ANSWERED" if answered else "NO ANSWER",
        "duration": seconds,
        "billsec": seconds if answered else "0",
        "recordingfile": get("recordingfile"),
        "did": get("did"),
        "id_key": get("id_key"),
    }
    return SourceRow(fields, raw)


def _answered(result: str, duration: str) -> bool:
    text = result.lower()
    if any(text.startswith(n) for n in _NOT):
        return False
    if any(text.startswith(a) for a in _ANSWERED):
        return True
    return _seconds(duration) not in ("", "0")


def _seconds(text: str) -> str:
    """Seconds as text ("5", "0:01:29"); odd values pass through for the mapper
    to reject with its reason."""
    match = _HMS.match(text)
    if match:
        h, m, s = (int(g) for g in match.groups())
        return str(h * 3600 + m * 60 + s)
    return text


def _sip_user(text: str) -> str:
    match = _SIP_USER.match(text)
    return match.group(1) if match else text


def _login(kind: str, src: str, dst: str, user: str) -> str:
    """The office side of the call: its SIP login ("get8") or extension."""
    if user:
        return user
    office = dst if kind == "incoming" else src
    return _sip_user(office) if kind else ""
