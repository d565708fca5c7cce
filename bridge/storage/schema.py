"""Every table of the product on one metadata, for Alembic and the schema tests.

A feature that adds tables adds its models module here.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import bridge.journal.models
import bridge.longpoll.models
import bridge.onec.models
import bridge.storage.models
import jobs.models
import jobs.routing_table.models
import tts_cache.models
from bridge.storage.base import Base

MODEL_MODULES = (
    bridge.storage.models,
    bridge.longpoll.models,
    bridge.onec.models,
    bridge.journal.models,
    jobs.models,
    jobs.routing_table.models,
    tts_cache.models,
)


def metadata() -> MetaData:
    return Base.metadata
