"""Structured logging: console or JSON lines, request/call/job ids bound per task,
and every configured secret masked before a line is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

REDACTED = "***"
# Keys whose values are secrets whatever they hold.
_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|sign_?key|api_?key|authorization|pin)$", re.IGNORECASE
)


class SecretRedactor:
    """A structlog processor: masks secret-named keys and known secret values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Very short values would mask half of every line; config secrets are longer.
        new = {s for s in secrets if len(s) >= 4} | set(self._secrets)
        self._secrets = sorted(new, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            if _SECRET_KEY.search(key) and value:
                event[key] = REDACTED
            elif isinstance(value, str):
                event[key] = self.scrub(value)
            elif self._secrets and not isinstance(value, int | float | bool):
                scrubbed = self.scrub(str(value))
                if scrubbed != str(value):
                    event[key] = scrubbed
        return event


def configure_logging(
    level: str, fmt: str, redactor: SecretRedactor, stream: Any = None
) -> None:
    """Route both structlog and stdlib logging through one redacting pipeline."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redactor,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared[:-2],
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.processors.format_exc_info,
            redactor,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One INFO line per job run and per access is noise; our own lines say more.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
