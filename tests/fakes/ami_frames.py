"""Scenario files of raw AMI frames (tests/fixtures/ami/*.txt) as wire bytes.

The files are kept with LF line ends and may start with `#` comment lines, so they
read well in a diff; on the wire AMI uses CRLF, which is what this returns.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ami"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.txt"))


def wire_bytes(name: str) -> bytes:
    text = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    body = "\r\n".join(lines).lstrip("\r\n")
    return body.encode("utf-8") + b"\r\n"
