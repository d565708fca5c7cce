"""The AMI wire format, parsed purely: bytes in, (messages, unparsed rest) out.

An AMI message is a block of ``Key: Value`` lines ended by CRLF, the block ended by
an empty line (docs.asterisk.org, "AMI v2 Specification"). A frame that is not such
a block is logged and skipped; the stream goes on. Nothing here touches a socket,
so the connection, the tests and the benchmark feed it the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

FRAME_END = b"\r\n\r\n"
LINE_END = b"\r\n"
# A frame this long without its terminator is garbage, not a slow peer: drop it so a
# broken stream cannot grow the buffer without bound.
MAX_FRAME_BYTES = 64 * 1024
# `Key: Value` with a non-blank key; the value may be empty or hold colons.
_HEADER = re.compile(r"^([^\s:][^:\r\n]*): *([^\r\n]*)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI message: an event, a response to an action, or an action we send."""

    headers: Mapping[str, str]

    def get(self, key: str, default: str = "") -> str:
        return self.headers.get(key, default)

    @property
    def event(self) -> str:
        return self.headers.get("Event", "")

    @property
    def response(self) -> str:
        return self.headers.get("Response", "")

    @property
    def action_id(self) -> str:
        # Asterisk spells it ActionID; some modules answer with ActionId.
        return self.headers.get("ActionID") or self.headers.get("ActionId", "")


def parse(buffer: bytes) -> tuple[list[Message], bytes]:
    """Every complete message in `buffer`, and the incomplete tail to keep."""
    frames = buffer.split(FRAME_END)
    rest = frames.pop()
    messages = []
    for frame in frames:
        message = parse_frame(frame)
        if message is not None:
            messages.append(message)
    if len(rest) > MAX_FRAME_BYTES:
        log.warning("AMI frame over %d bytes without an end; dropped", MAX_FRAME_BYTES)
        rest = b""
    return messages, rest


def parse_frame(frame: bytes) -> Message | None:
    """One frame (without its terminator) as a message, or None if it is not one."""
    text = frame.decode("utf-8", "replace").strip("\r\n")
    if not text:
        return None
    # One C-level regex pass instead of a Python loop per line: this is the hot
    # path of the whole adapter (bench/ami_pipeline.py).
    pairs = _HEADER.findall(text)
    if len(pairs) != text.count("\r\n") + 1:
        log.warning("malformed AMI frame skipped: %.80r", text)
        return None
    # Asterisk repeats only `ChanVariable`; the last one wins.
    return Message(dict(pairs))


def serialize(headers: Mapping[str, str]) -> bytes:
    """An action as wire bytes; CR and LF in values would split the frame, so go."""
    lines = [f"{k}: {_one_line(v)}" for k, v in headers.items()]
    return (LINE_END.decode().join(lines)).encode("utf-8") + FRAME_END


def _one_line(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")
