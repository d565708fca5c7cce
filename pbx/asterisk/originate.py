"""Click-to-call as AMI Originate: ring the employee first, then the client.

`Originate` with `Async: true` answers "queued" at once and reports the outcome
later in an `OriginateResponse` event carrying our ActionID; its `Reason` is the
last control frame of the employee's channel (main/manager.c, AST_CONTROL_*).
"""

from __future__ import annotations

import re

from pbx.asterisk.parser import Message
from pbx.base import OriginateOutcome, OriginateResult
from pbx.config import AsteriskConfig

_NOT_DIALLABLE = re.compile(r"[^\d*#]")
# AST_CONTROL_* values OriginateResponse reports as `Reason`.
_REASONS = {
    "1": OriginateOutcome.HUNG_UP,
    "3": OriginateOutcome.NO_ANSWER,  # still ringing when the timeout ran out
    "4": OriginateOutcome.ANSWERED,
    "5": OriginateOutcome.BUSY,
    "8": OriginateOutcome.CONGESTION,
}


def dial_digits(number: str) -> str:
    """The number as the dialplan wants it: digits (and * #), no punctuation."""
    return _NOT_DIALLABLE.sub("", number)


def action_headers(
    config: AsteriskConfig, from_extension: str, to_number: str
) -> dict[str, str]:
    digits = dial_digits(to_number)
    return {
        "Channel": config.originate_channel.format(extension=from_extension),
        "Context": config.originate_context,
        "Exten": digits,
        "Priority": "1",
        # What the employee's phone shows while it rings: whom it will call.
        "CallerID": f'"{digits}" <{digits}>',
        "Timeout": str(config.originate_ring_seconds * 1000),
        "Async": "true",
    }


def result(answer: Message) -> OriginateResult:
    if answer.event != "OriginateResponse":
        return OriginateResult(OriginateOutcome.FAILED, detail="no OriginateResponse")
    reason = answer.get("Reason")
    if answer.response == "Success":
        outcome = OriginateOutcome.ANSWERED
    else:
        outcome = _REASONS.get(reason, OriginateOutcome.FAILED)
        if outcome is OriginateOutcome.ANSWERED:
            outcome = OriginateOutcome.FAILED
    return OriginateResult(outcome, uniqueid=answer.get("Uniqueid"), detail=reason)
