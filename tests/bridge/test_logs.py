"""Logs are structured, carry request ids, and never carry secrets."""

from __future__ import annotations

import io
import json
import logging

import structlog

from bridge.logs import REDACTED, SecretRedactor, configure_logging


def capture(secrets: list[str]) -> io.StringIO:
    stream = io.StringIO()
    configure_logging("debug", "json", SecretRedactor(secrets), stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_given_known_secret_in_message_then_it_is_masked() -> None:
    stream = capture(["sup3r-s3cret"])
    logging.getLogger("t").warning("login with %s failed", "sup3r-s3cret")
    structlog.get_logger("t").info("retry", url="http://u:sup3r-s3cret@1c/base")
    text = stream.getvalue()
    assert "sup3r-s3cret" not in text
    assert text.count(REDACTED) == 2


def test_given_secret_named_key_then_value_is_masked() -> None:
    stream = capture([])
    structlog.get_logger("t").info("auth", password="pw-1", api_key="k-2", pin="1234")
    (entry,) = lines(stream)
    assert entry["password"] == entry["api_key"] == entry["pin"] == REDACTED


def test_given_bound_request_id_then_every_line_carries_it() -> None:
    stream = capture([])
    with structlog.contextvars.bound_contextvars(request_id="r-1", linkedid="L-9"):
        logging.getLogger("t").info("one")
        structlog.get_logger("t").info("two")
    assert [(e["request_id"], e["linkedid"]) for e in lines(stream)] == [
        ("r-1", "L-9"),
        ("r-1", "L-9"),
    ]


def test_given_exception_then_traceback_is_masked_too() -> None:
    stream = capture(["tok-SECRET-9"])
    try:
        raise ValueError("bad token tok-SECRET-9")
    except ValueError:
        logging.getLogger("t").exception("failed")
    assert "tok-SECRET-9" not in stream.getvalue()
    assert "ValueError" in stream.getvalue()
