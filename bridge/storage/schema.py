"""Every table of the product on one metadata, for Alembic and the schema tests.

A feature that adds tables adds its models module here.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import bridge.longpoll.models
import bridge.storage.models
from bridge.storage.base import Base

MODEL_MODULES = (bridge.storage.models, bridge.longpoll.models)


def metadata() -> MetaData:
    return Base.metadata
