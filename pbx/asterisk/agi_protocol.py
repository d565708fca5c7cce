"""The FastAGI protocol, parsed purely (docs.asterisk.org, "AGI Commands").

Asterisk opens the TCP connection and sends `agi_<name>: <value>` lines ended by an
empty line; the script then writes one command per line and reads one reply line
each, `200 result=<n> [(<data>)]` on success, `510`/`511`/`520` on errors. When the
caller hangs up, Asterisk may send a bare `HANGUP` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

OK = 200
_REPLY = re.compile(r"^(\d{3})(?:[ -](.*))?$")
_RESULT = re.compile(r"result=(-?\d+)(?:\s+\((.*)\))?")
# GET DATA answers the keys pressed as text ("0123", or nothing on a timeout).
_RAW_RESULT = re.compile(r"result=(\S*)")
HANGUP_LINE = "HANGUP"


class AgiProtocolError(Exception):
    pass


class AgiHangup(AgiProtocolError):
    pass


@dataclass(frozen=True, slots=True)
class AgiRequest:
    env: dict[str, str]

    @property
    def script(self) -> str:
        """The hook named in agi://host:port/<script>?args (query dropped)."""
        name = self.env.get("agi_network_script") or urlsplit(
            self.env.get("agi_request", "")
        ).path.lstrip("/")
        return name.split("?", 1)[0].strip("/")

    @property
    def caller_number(self) -> str:
        return _known(self.env.get("agi_callerid", ""))

    @property
    def caller_name(self) -> str:
        return _known(self.env.get("agi_calleridname", ""))


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: int = 0
    data: str = ""
    raw: str = ""  # the result as sent, for digit strings


def parse_env(lines: Iterable[str]) -> AgiRequest:
    env: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_"):
            raise AgiProtocolError(f"not an AGI environment line: {line[:80]!r}")
        env[key.strip()] = value.strip()
    return AgiRequest(env)


def parse_reply(line: str) -> AgiReply:
    line = line.strip()
    if line == HANGUP_LINE:
        raise AgiHangup("the caller hung up")
    match = _REPLY.match(line)
    if match is None:
        raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")
    code, rest = int(match.group(1)), match.group(2) or ""
    raw_match = _RAW_RESULT.search(rest)
    raw = raw_match.group(1) if raw_match else ""
    result = _RESULT.search(rest)
    if result is None:
        return AgiReply(code, data=rest, raw=raw)
    return AgiReply(code, int(result.group(1)), result.group(2) or "", raw)


def quote(value: str) -> str:
    """One AGI argument: in double quotes, with quotes and backslashes escaped."""
    clean = value.replace("\r", " ").replace("\n", " ")
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_variable(name: str, value: str) -> bytes:
    return f"SET VARIABLE {name} {quote(value)}\n".encode()


def _known(value: str) -> str:
    return "" if value in ("", "unknown") else value
