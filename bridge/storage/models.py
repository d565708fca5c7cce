"""Tables the foundation itself owns."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base


class InstanceMeta(Base):
    """Facts about this installation (its id, the event-log epoch, ...)."""

    __tablename__ = "instance_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
