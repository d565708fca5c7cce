"""What the rest of the product may ask of a PBX, whichever PBX it is.

The HTTP API (click-to-call), the smart IVR (is this manager free?) and the health
page talk to a `PbxAdapter`; the Asterisk adapter implements it over AMI, and another
PBX can be added without touching them. Errors cross this boundary as `PbxError`.

    PbxError
    ├── PbxUnavailable      not connected / logged in to the PBX
    ├── PbxTimeout          the PBX did not answer in time
    └── OriginateRejected   the PBX refused the call (unknown extension, ...)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from bridge.health import ComponentStatus


class ExtensionState(enum.StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    # Never reported by the PBX (yet): treat like unavailable when routing.
    UNKNOWN = "unknown"


class OriginateOutcome(enum.StrEnum):
    """How ringing the employee ended (AMI OriginateResponse `Reason`)."""

    ANSWERED = "answered"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    HUNG_UP = "hung-up"
    CONGESTION = "congestion"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OriginateResult:
    outcome: OriginateOutcome
    # The employee's channel, once Asterisk created it.
    uniqueid: str = ""
    detail: str = ""


class PbxError(Exception):
    pass


class PbxUnavailable(PbxError):
    pass


class PbxTimeout(PbxError):
    pass


class OriginateRejected(PbxError):
    pass


class ExtensionStates(Protocol):
    def get(self, extension: str) -> ExtensionState:
        """The last known state of `extension` (UNKNOWN if never reported)."""
        ...

    def snapshot(self) -> dict[str, ExtensionState]:
        """Every extension the PBX reported, with its state."""
        ...


class PbxAdapter(Protocol):
    @property
    def extension_states(self) -> ExtensionStates: ...

    async def originate(self, from_extension: str, to_number: str) -> OriginateResult:
        """Ring `from_extension`; once it answers, dial `to_number` from it."""
        ...

    async def status(self) -> ComponentStatus:
        """The adapter's health, as `/healthz` component "pbx" shows it."""
        ...
