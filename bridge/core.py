"""The core objects every feature is given, built once from the config."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry

from bridge.call_events import EventSink
from bridge.clock import Clock, SystemClock
from bridge.config import Config
from bridge.contacts import ContactDirectory
from bridge.health import HealthRegistry
from bridge.http.openapi import OpenApi
from bridge.logs import SecretRedactor
from bridge.longpoll.channel import ContactAsker
from bridge.longpoll.consumer_auth import Consumers
from bridge.routing import Router
from bridge.storage.database import Database
from jobs.base import JobBody
from pbx.base import PbxAdapter

log = logging.getLogger(__name__)
ADMIN_TOKEN_FILE = "admin_token"  # noqa: S105 - a file name, not a secret


@dataclass(slots=True)
class Core:
    config: Config
    db: Database
    admin_token: str = field(repr=False)
    clock: Clock = field(default_factory=SystemClock)
    health: HealthRegistry = field(default_factory=HealthRegistry)
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    openapi: OpenApi = field(default_factory=OpenApi)
    redactor: SecretRedactor = field(default_factory=SecretRedactor)
    # Routes of the crmd-compatible listener (127.0.0.1:8224 by default).
    crmd_app: web.Application = field(default_factory=web.Application)
    # Set by the features that provide them, in `bridge.app.FEATURES` order:
    # the long-poll hub (events, consumers), the contact index (contacts), the
    # routing table (router: the employee PIN a caller goes to).
    events: EventSink | None = None
    consumers: Consumers | None = None
    contacts: ContactDirectory | None = None
    router: Router | None = None
    # Ask 1C over the contact-data channel (set by the long-poll hub).
    contact_channel: ContactAsker | None = None
    # Job id -> body; the scheduler runs these (PRODUCT §9 lists the ids).
    job_bodies: dict[str, JobBody] = field(default_factory=dict)
    # The PBX adapter (click-to-call, extension states), when one is configured.
    pbx: PbxAdapter | None = None


@asynccontextmanager
async def open_core(
    config: Config,
    *,
    clock: Clock | None = None,
    redactor: SecretRedactor | None = None,
) -> AsyncIterator[Core]:
    db = Database.from_config(config.storage)
    token = admin_token(config)
    redactor = redactor or SecretRedactor()
    redactor.add([*config.secrets(), token])
    core = Core(
        config=config,
        db=db,
        admin_token=token,
        clock=clock or SystemClock(),
        redactor=redactor,
    )
    try:
        yield core
    finally:
        await db.dispose()


def admin_token(config: Config) -> str:
    """The configured admin token, or one generated once and kept in the data folder.

    A fresh install must be administrable without inventing a secret first; writing
    it to a 0600 file (never to the log) keeps it out of shell history and logs.
    """
    configured = config.auth.admin_token.get_secret_value()
    if configured:
        return configured
    path = Path(config.storage.data_dir) / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    log.warning("no auth.admin_token configured; generated one into %s", path)
    return token
