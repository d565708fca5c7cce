"""Master.csv rows → journal rows a column at a time: the row rules, vectorized.

A day of a busy office is some 47,000 CDR rows. Mapped one by one in Python they
cost more than the database's own work, so the common, well-formed rows are
mapped here as whole columns (polars). Every row these rules do not take — an
odd timestamp, an hour with a clock change, padded or unusual text, a layout
without `sequence` — goes back, untouched, to `RowMapper`, which stays the one
statement of the rules. A test maps a wide corpus both ways and requires the same
stored values, row for row.

Numbers and the zone's offsets are still decided by the same Python
(`normalize`, `number_type`, `RowMapper.hour_offset`), once per distinct value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

import polars as pl

from bridge.call_events import Direction
from bridge.journal.legs import CallStatus
from bridge.phone_numbers import NumberKind
from jobs.cdr_loader import mapping
from jobs.cdr_loader.mapping import ANSWERED, NO_ANSWER, RowMapper
from jobs.cdr_loader.records import SourceRow

# A table carries the Master.csv fields under their standard names, and this:
LINE: Final = "line"  # each row's text as read, kept as its raw record

# What a field must look like for these rules to take its row; the row mapper
# reads everything else (other time layouts, signs, spaces, odd cases).
_TIME: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
# Up to nine digits: within the journal's 32-bit columns (the row path checks).
_COUNT: Final = r"^[0-9]{1,9}$"
# Python's str.strip() also drops \x1c-\x1f, which regex \s does not know.
_PADDED: Final = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"
# Application names are ASCII; for any other, the row path's lower() decides.
_ASCII: Final = r"^[\x00-\x7f]*$"
_DISPOSITIONS: Final = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
# The row rules' pattern reads the same in polars' regex dialect.
_PEER: Final = "(?i)" + mapping.PEER.pattern
_NUMBER_FIELDS: Final = ("src", "dst")
_TIME_FIELDS: Final = ("start", "answer", "end")
_PADDABLE: Final = ("channel", "dstchannel", "userfield")
# Master.csv has none of these; where a source states them, the rules differ
# (a stated direction, user or DID is believed), and only the row path knows how.
_ROW_PATH_FIELDS: Final = frozenset(
    {"direction", "employee", "did", "recordingfile", "id_key"}
)


class TableMapper:
    """Maps tables of Master.csv rows for one `RowMapper` (its source and zone)."""

    def __init__(self, rows: RowMapper) -> None:
        self.rows = rows

    def map(self, table: pl.DataFrame) -> tuple[pl.DataFrame, list[SourceRow]]:
        """(journal rows for the rows these rules take, the others as they came).

        The journal rows carry `JournalLeg`'s fields in its order, as storage
        values: times as naive UTC, direction and status as their text, `raw` as
        the JSON text the row path writes.
        """
        if stated := _ROW_PATH_FIELDS.intersection(table.columns):
            raise ValueError(f"fields only the row mapper reads: {sorted(stated)}")
        table = table.with_columns(pl.exclude(LINE).fill_null(""))
        table = self._with_numbers(table)
        table = self._with_times(table)
        table = table.with_columns(_taken().alias("_taken"))
        taken = table.filter(pl.col("_taken"))
        others = table.filter(~pl.col("_taken")).select(_source_fields(table))
        return self._journal(taken), [_source_row(row) for row in others.to_dicts()]

    def _with_numbers(self, table: pl.DataFrame) -> pl.DataFrame:
        """Each src and dst as `normalize` reads it, asked once per distinct text."""
        values = pl.concat([table["src"], table["dst"]]).unique()
        numbers = [mapping.normalize(value) for value in values]
        lookup = pl.DataFrame(
            {
                "_value": values,
                "kind": [number.kind.value for number in numbers],
                "e164": [number.canonical for number in numbers],
                "k10": [number.key10 for number in numbers],
                # Only the outside party's type is kept; a number's type is the
                # same whichever side it is on, so each is asked for once here.
                "type": [
                    mapping.number_type(n.canonical) if n.is_external else "unknown"
                    for n in numbers
                ],
            }
        )
        for field in _NUMBER_FIELDS:
            named = lookup.rename(
                {name: f"_{field}_{name}" for name in lookup.columns[1:]}
            )
            table = table.join(
                named, left_on=field, right_on="_value", how="left",
                maintain_order="left",
            )  # fmt: skip
        return table

    def _with_times(self, table: pl.DataFrame) -> pl.DataFrame:
        hours = set().union(
            *(table[field].str.slice(0, 13).unique() for field in _TIME_FIELDS)
        )
        offsets = {hour: self._offset_us(hour) for hour in hours}
        return table.with_columns(
            _utc(field, offsets).alias(f"_{field}_utc") for field in _TIME_FIELDS
        )

    def _offset_us(self, hour: str) -> int | None:
        offset = self.rows.hour_offset(hour)
        return None if offset is None else offset // timedelta(microseconds=1)

    def _journal(self, table: pl.DataFrame) -> pl.DataFrame:
        table = table.with_columns(
            _extension("src", "channel").alias("_src_ext"),
            _extension("dst", "dstchannel").alias("_dst_ext"),
            pl.col("duration").cast(pl.Int64).alias("_duration"),
            pl.col("billsec").cast(pl.Int64).alias("_billsec"),
        )
        table = table.with_columns(_direction().alias("_direction"))
        table = table.with_columns(_employee().alias("_employee"))
        table = table.with_columns(
            _by_person().alias("_by_person"),
            ((pl.col("disposition") == ANSWERED) & (pl.col("_billsec") > 0)).alias(
                "_picked_up"
            ),
        )
        table = table.with_columns(
            _answered().alias("_answered"),
            _external_party("e164").alias("_external"),
            _external_party("type").alias("_external_type"),
        )
        return table.select(self._columns())

    def _columns(self) -> list[pl.Expr]:
        answered = pl.col("_answered")
        incoming = pl.col("_direction") == Direction.INCOMING.value
        # At most 128 + 1 + 9 characters: within leg_key's 160, no cut needed.
        key = pl.concat_str("uniqueid", pl.lit("#"), "sequence")
        return [
            pl.lit(self.rows.source).alias("source"),
            key.alias("leg_key"),
            pl.when(pl.col("linkedid") != "")
            .then(pl.col("linkedid"))
            .otherwise(pl.col("uniqueid"))
            .alias("linkedid"),
            pl.col("uniqueid").alias("call_id"),
            pl.col("sequence").cast(pl.Int64).alias("sequence"),
            pl.col("_start_utc").alias("started_at"),
            pl.when(answered).then(pl.col("_answer_utc")).alias("answered_at"),
            pl.col("_end_utc").alias("ended_at"),
            pl.col("src").str.slice(0, 128).alias("src_raw"),
            _match_key("src").alias("src_key"),
            pl.col("dst").str.slice(0, 128).alias("dst_raw"),
            _match_key("dst").alias("dst_key"),
            pl.lit("").alias("did"),  # Master.csv has no DID column
            pl.col("_direction").alias("direction"),
            _status().alias("status"),
            answered.alias("answered"),
            (incoming & ~answered).alias("missed"),
            pl.col("_employee").alias("employee"),
            pl.when(answered)
            .then(pl.col("_billsec"))
            .otherwise(0)
            .alias("talk_seconds"),
            pl.when(answered)
            .then(pl.max_horizontal(pl.col("_duration") - pl.col("_billsec"), 0))
            .otherwise(pl.col("_duration"))
            .alias("wait_seconds"),
            pl.col("_duration").alias("duration_seconds"),
            pl.when(answered & _is_recording())
            .then(pl.col("userfield").str.slice(0, 1024))
            .otherwise(pl.lit(""))
            .alias("recording"),
            pl.col("_external_type").alias("number_type"),
            pl.col("_external").alias("external_number"),
            _raw_json().alias("raw"),
        ]


def _utc(field: str, offsets: Mapping[str, int | None]) -> pl.Expr:
    """Local wall time → naive UTC; null when the text or its hour is not taken."""
    text = pl.col(field)
    local = text.str.strptime(pl.Datetime("us"), _TIME_FORMAT, strict=False)
    offset = text.str.slice(0, 13).replace_strict(
        offsets, default=None, return_dtype=pl.Int64
    )
    return pl.when(text.str.contains(_TIME)).then(
        local - pl.duration(microseconds=offset)
    )


def _taken() -> pl.Expr:
    """The rows these rules map exactly as `RowMapper` would (else: the row path)."""
    start, answer, end = (pl.col(f"_{f}_utc") for f in _TIME_FIELDS)
    counts = [pl.col(f).str.contains(_COUNT) for f in ("duration", "billsec")]
    duration = pl.col("duration").cast(pl.Int64, strict=False)
    billsec = pl.col("billsec").cast(pl.Int64, strict=False)
    return pl.all_horizontal(
        start.is_not_null(),
        end.is_not_null(),
        answer.is_not_null() | (pl.col("answer") == ""),
        end >= start,
        *counts,
        ~((billsec > duration) & (duration != 0)),
        pl.col("sequence").str.contains(_COUNT),
        pl.col("uniqueid") != "",
        *(
            pl.col(f).str.len_chars() <= mapping.MAX_ID
            for f in ("uniqueid", "linkedid")
        ),
        pl.col("disposition").is_in(_DISPOSITIONS),
        pl.col("lastapp").str.contains(_ASCII),
        *(~pl.col(f).str.contains(_PADDED) for f in _PADDABLE),
    ).fill_null(False)  # a comparison with a missing value takes nothing


def _source_fields(table: pl.DataFrame) -> list[str]:
    return [name for name in table.columns if not name.startswith("_")]


def _source_row(row: dict[str, str]) -> SourceRow:
    line = row.pop(LINE)
    return SourceRow(row, {"line": line})


def _extension(number: str, channel: str) -> pl.Expr:
    """mapping._extension: the extension behind a number or its channel."""
    kind = pl.col(f"_{number}_kind")
    peer = pl.col(channel).str.extract(_PEER, 1)
    return (
        pl.when(kind == NumberKind.INTERNAL.value)
        .then(pl.col(f"_{number}_e164"))
        .when(peer.is_not_null() & (kind != NumberKind.EXTERNAL.value))
        .then(peer)
        .otherwise(pl.lit(""))
    )


def _direction() -> pl.Expr:
    return (
        pl.when(pl.col("_src_ext") == "")
        .then(pl.lit(Direction.INCOMING.value))
        .when(pl.col("_dst_kind") == NumberKind.EXTERNAL.value)
        .then(pl.lit(Direction.OUTGOING.value))
        .otherwise(pl.lit(Direction.INTERNAL.value))
    )


def _employee() -> pl.Expr:
    incoming = pl.col("_direction") == Direction.INCOMING.value
    return pl.when(incoming).then(pl.col("_dst_ext")).otherwise(pl.col("_src_ext"))


def _by_person() -> pl.Expr:
    application = pl.col("lastapp").str.to_lowercase().is_in(mapping.APP_LEGS)
    return (pl.col("_employee") != "") & ~application


def _answered() -> pl.Expr:
    incoming = pl.col("_direction") == Direction.INCOMING.value
    return pl.col("_picked_up") & (pl.col("_by_person") | ~incoming)


def _status() -> pl.Expr:
    """mapping._status, fed `picked_up` as the row path feeds it."""
    incoming = pl.col("_direction") == Direction.INCOMING.value
    picked_up = pl.col("_picked_up")
    rang = pl.col("disposition").is_in((NO_ANSWER, ANSWERED))
    return (
        pl.when(incoming & picked_up & pl.col("_by_person"))
        .then(pl.lit(CallStatus.ACCEPTED.value))
        .when(incoming & picked_up)
        .then(pl.lit(CallStatus.LOST.value))
        .when(picked_up)
        .then(pl.lit(CallStatus.REACHED.value))
        .when(rang)
        .then(pl.lit(CallStatus.NO_ANSWER.value))
        .when(incoming)
        .then(pl.lit(CallStatus.LOST.value))
        .otherwise(pl.lit(CallStatus.CANCELLED.value))
    )


def _external_party(field: str) -> pl.Expr:
    """`field` of the outside party's number (mapping._external_party); for a
    call with none, "" as its number and "unknown" as its type."""
    direction = pl.col("_direction")
    return (
        pl.when(
            (direction == Direction.INCOMING.value)
            & (pl.col("_src_kind") == NumberKind.EXTERNAL.value)
        )
        .then(pl.col(f"_src_{field}"))
        .when(
            (direction == Direction.OUTGOING.value)
            & (pl.col("_dst_kind") == NumberKind.EXTERNAL.value)
        )
        .then(pl.col(f"_dst_{field}"))
        .otherwise(pl.lit("" if field == "e164" else "unknown"))
    )


def _match_key(number: str) -> pl.Expr:
    return (
        pl.when(pl.col(f"_{number}_kind") == NumberKind.INTERNAL.value)
        .then(pl.col(f"_{number}_e164"))
        .otherwise(pl.col(f"_{number}_k10"))
    )


def _is_recording() -> pl.Expr:
    lowered = pl.col("userfield").str.to_lowercase()
    return pl.any_horizontal(
        lowered.str.ends_with(ext) for ext in mapping.RECORDING_EXT
    )


def _raw_json() -> pl.Expr:
    # The row path's JSON text exactly: json.dumps puts a space after the colon.
    encoded = pl.struct(pl.col(LINE)).struct.json_encode()
    return encoded.str.replace('{"line":', '{"line": ', literal=True)
