"""Tables of the contact index: 1C objects that own phones, and their numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base, UtcDateTime

REF_LENGTH = 36  # a 1C reference is a guid
ENTITY_LENGTH = 128


class ContactOwnerRow(Base):
    """A 1C object as last read; incremental builds diff its `DataVersion`."""

    __tablename__ = "onec_contact_owners"

    entity: Mapped[str] = mapped_column(String(ENTITY_LENGTH), primary_key=True)
    ref: Mapped[str] = mapped_column(String(REF_LENGTH), primary_key=True)
    data_version: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean)
    presentation: Mapped[str] = mapped_column(String(1024))
    parent_entity: Mapped[str] = mapped_column(String(ENTITY_LENGTH))
    parent_ref: Mapped[str] = mapped_column(String(REF_LENGTH))
    read_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ContactPhoneRow(Base):
    """One normalized number of an owner; `key10` is the last-ten-digits fallback."""

    __tablename__ = "onec_contact_phones"
    __table_args__ = (Index("ix_onec_contact_phones_owner", "entity", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(ENTITY_LENGTH))
    ref: Mapped[str] = mapped_column(String(REF_LENGTH))
    number: Mapped[str] = mapped_column(String(32))
    key10: Mapped[str] = mapped_column(String(10), index=True)
