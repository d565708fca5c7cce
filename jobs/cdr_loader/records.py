"""A CDR row as every source hands it to the mapper.

Sources translate their own column names into the standard Asterisk CDR names
(`src`, `dst`, `channel`, `dstchannel`, `start`, `answer`, `end`, `duration`,
`billsec`, `disposition`, `uniqueid`, `linkedid`, `sequence`, `did`,
`recordingfile`, ...) and keep the row exactly as read in `raw`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceRow:
    fields: Mapping[str, str]
    raw: Mapping[str, Any]
    # Set by a source that already knows the row is malformed.
    error: str = ""


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows read together, and the cursor to resume after them."""

    rows: list[SourceRow]
    cursor: str
