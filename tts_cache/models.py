"""The cache index and the per-provider cost ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base, UtcDateTime


class TtsPhrase(Base):
    """One audio file of the cache: a fragment or a whole prompt."""

    __tablename__ = "tts_phrases"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    voice: Mapped[str] = mapped_column(String(64))
    # Normalized text; for a prompt, its fragments joined with " | ".
    text: Mapped[str] = mapped_column(Text)
    audio_format: Mapped[str] = mapped_column(String(8))
    sample_rate: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # sha256 of the file's bytes: a corrupt or truncated file is detected on use.
    audio_sha256: Mapped[str] = mapped_column(String(64))
    characters_billed: Mapped[int] = mapped_column(Integer)
    hits: Mapped[int] = mapped_column(BigInteger)
    pinned: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TtsUsage(Base):
    """Everything ever sent to a provider, kept across evictions and restarts."""

    __tablename__ = "tts_usage"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    characters: Mapped[int] = mapped_column(BigInteger)
    requests: Mapped[int] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(BigInteger)
