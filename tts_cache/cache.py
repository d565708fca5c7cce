"""The phrase cache: each phrase is synthesized once, then played from disk.

- Files are named by their key (sha256 of everything that shapes the sound, see
  `keys`), written to a temporary name and renamed into place, and checked
  against the sha256 of their bytes on every use: a truncated, damaged or missing
  file is dropped and synthesized again. A hit checks the file's size, mtime and
  inode against what was written or last verified (one `stat`); the full sha256 is
  recomputed when those differ, on the first use after a start, and whenever
  the bytes are read to build a prompt. (Damage that keeps size, mtime and inode,
  such as disk bit rot, is caught at those reads and after a restart.)
- Concurrent misses of one key share one synthesis (single flight). The shared
  work is shielded from the callers' deadlines, so a caller who gives up still
  leaves the phrase cached for the next one.
- The index lives in memory and in `tts_phrases`; hit counts and last-use times
  reach the database every `index_flush_seconds`, not on the hot path.
- Over `max_cache_mb` the least recently used phrases are evicted, except pinned
  ones (the current routing table's). If only pinned phrases remain the cap is
  exceeded, with a warning, rather than break the menu.
- A whole prompt (fragments joined, in the output format) is cached over the
  fragments; a missing fragment is synthesized in parallel with the others under
  the prompt's one deadline.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from bridge.clock import Clock
from bridge.storage.database import Database
from tts_cache.audio import TELEPHONE_RATE, AudioFormat, encode
from tts_cache.config import TtsConfig
from tts_cache.keys import VoiceSpec, fragment_key, normalize_text, prompt_key
from tts_cache.metrics import TtsMetrics
from tts_cache.models import TtsPhrase, TtsUsage
from tts_cache.providers.base import (
    ProviderError,
    ProviderUnavailable,
    SynthesisRequest,
    TextRejected,
    TtsProvider,
    TtsTimeout,
)

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".tmp"
# `<key>.<format>`, or a temporary `.<key>.<random>.tmp` left by a crash.
_OUR_FILE = re.compile(r"[0-9a-f]{64}\.(sln|wav|alaw|ulaw)|\.[0-9a-f]{64}\..+\.tmp")
PROMPT_SEPARATOR = " | "


class Kind(enum.StrEnum):
    FRAGMENT = "fragment"
    PROMPT = "prompt"


@dataclass(slots=True)
class Entry:
    """One cached file, as the index knows it."""

    key: str
    kind: Kind
    path: Path
    size: int
    digest: str
    provider: str
    voice: str
    text: str
    audio_format: AudioFormat
    characters: int
    hits: int
    created_at: datetime
    last_used_at: datetime
    # Recency order for LRU; wall-clock times can tie.
    tick: int = 0
    # (size, mtime_ns, inode) when the digest last matched; None: not yet checked.
    signature: tuple[int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class Phrase:
    key: str
    path: Path
    cached: bool  # False: synthesized for this call


@dataclass(slots=True)
class Usage:
    characters: int = 0
    requests: int = 0
    failures: int = 0


@dataclass(frozen=True, slots=True)
class PrewarmReport:
    keys: tuple[str, ...]
    synthesized: int
    failed: int


@dataclass(frozen=True, slots=True)
class CacheStats:
    provider: str
    paid: bool
    voice: str
    entries: int
    fragments: int
    prompts: int
    bytes: int
    max_bytes: int
    pinned: int
    hits: int
    misses: int
    evictions: int
    corrupt: int
    usage: dict[str, Usage] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Stored:
    entry: Entry
    data: bytes


class TtsCache:
    """The service the smart IVR and the API speak through.

    `synthesize(text)` -> a cached fragment; `synthesize_prompt(fragments)` -> a
    whole prompt file under a deadline; `prewarm(texts)` and `pin(keys)` keep the
    routing table's phrases ready and safe from eviction.
    """

    def __init__(
        self,
        config: TtsConfig,
        *,
        directory: Path,
        db: Database,
        clock: Clock,
        provider: TtsProvider,
        metrics: TtsMetrics,
    ) -> None:
        self._config = config
        self._dir = directory
        self._db = db
        self._clock = clock
        self._provider = provider
        self._metrics = metrics
        self._entries: dict[str, Entry] = {}
        self._bytes = 0
        self._kinds: Counter[Kind] = Counter()
        self._pinned: set[str] = set()
        self._inflight: dict[str, asyncio.Task[_Stored]] = {}
        self._dirty: set[str] = set()
        self._deleted: set[str] = set()
        self._usage: dict[str, Usage] = {}
        self._usage_lock = asyncio.Lock()
        self._ticks = count(1)
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._corrupt = 0
        # The last provider failure, cleared by the next success (for /healthz).
        self.last_error: str | None = None
        metrics.declare_provider(provider.name, paid=provider.paid)

    @property
    def provider(self) -> TtsProvider:
        return self._provider

    @property
    def directory(self) -> Path:
        return self._dir

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Load the index; drop rows whose file is gone and files with no row."""
        await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
        async with self._db.session() as session:
            rows = (
                await session.scalars(
                    select(TtsPhrase).order_by(TtsPhrase.last_used_at)
                )
            ).all()
            usage = (await session.scalars(select(TtsUsage))).all()
        entries = [self._entry_from_row(row) for row in rows]
        self._pinned = {row.key for row in rows if row.pinned}
        sizes = await asyncio.to_thread(lambda: [_size_of(e.path) for e in entries])
        for entry, size in zip(entries, sizes, strict=True):
            if size == entry.size:
                self._remember(entry)
            else:
                self._deleted.add(entry.key)
        for item in usage:
            self._usage[item.provider] = Usage(
                item.characters, item.requests, item.failures
            )
        removed = await asyncio.to_thread(self._remove_strays)
        await self.flush()
        log.info(
            "tts cache: %d files, %d bytes in %s (%d stray files removed)",
            len(self._entries),
            self._bytes,
            self._dir,
            removed,
        )

    async def close(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.flush()
        await self._provider.close()

    async def drain(self) -> None:
        """Wait for syntheses still running (e.g. after a caller's deadline)."""
        while self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def flush(self) -> None:
        """Write hit counts, last-use times and deletions to the index table."""
        dirty, self._dirty = self._dirty, set()
        deleted, self._deleted = self._deleted, set()
        if not dirty and not deleted:
            return
        try:
            async with self._db.session() as session, session.begin():
                for key in dirty:
                    entry = self._entries.get(key)
                    if entry is not None:
                        await session.execute(
                            update(TtsPhrase)
                            .where(TtsPhrase.key == key)
                            .values(hits=entry.hits, last_used_at=entry.last_used_at)
                        )
                # A key synthesized again since it was dropped keeps its new row.
                doomed = deleted - set(self._entries)
                if doomed:
                    await session.execute(
                        delete(TtsPhrase).where(TtsPhrase.key.in_(doomed))
                    )
        except SQLAlchemyError as exc:
            # The files and the in-memory index still serve; retry next flush.
            log.warning("tts index flush failed, will retry: %s", type(exc).__name__)
            self._dirty |= dirty
            self._deleted |= deleted - set(self._entries)

    # -- the API the IVR and the HTTP edge use --------------------------------

    def spec(
        self,
        voice: str | None = None,
        speed: float | None = None,
        emotion: str | None = None,
    ) -> VoiceSpec:
        """The voice settings a call gets, defaults filled from the config."""
        return VoiceSpec(
            provider=self._provider.name,
            voice=voice or self._config.voice or self._provider.default_voice,
            speed=self._config.speed if speed is None else speed,
            emotion=self._config.emotion if emotion is None else emotion,
        )

    def fragment_key(self, text: str, spec: VoiceSpec | None = None) -> str:
        return fragment_key(spec or self.spec(), self._checked(text))

    def prompt_key(
        self,
        fragments: Sequence[str],
        spec: VoiceSpec | None = None,
        audio_format: AudioFormat | None = None,
    ) -> str:
        spec = spec or self.spec()
        keys = [fragment_key(spec, self._checked(t)) for t in fragments]
        return prompt_key(keys, audio_format or AudioFormat(self._config.format))

    async def synthesize(self, text: str, spec: VoiceSpec | None = None) -> Phrase:
        """One fragment as 8 kHz `.sln`; raises `TtsError`."""
        spec = spec or self.spec()
        clean = self._checked(text)
        key = fragment_key(spec, clean)
        entry = self._lookup(key, Kind.FRAGMENT)
        if entry is not None:
            return Phrase(key, entry.path, cached=True)
        stored = await self._single_flight(
            key, lambda: self._make_fragment(key, spec, clean)
        )
        return Phrase(key, stored.entry.path, cached=False)

    async def synthesize_prompt(
        self,
        fragments: Sequence[str],
        spec: VoiceSpec | None = None,
        *,
        audio_format: AudioFormat | None = None,
        deadline: float | None = None,
    ) -> Path:
        """The whole prompt as one file; raises `TtsTimeout` past `deadline` s.

        Work still running at the deadline goes on, so the next call finds it.
        """
        spec = spec or self.spec()
        fmt = audio_format or AudioFormat(self._config.format)
        texts = [self._checked(t) for t in fragments]
        if not texts:
            raise TextRejected("a prompt needs at least one fragment")
        keys = [fragment_key(spec, t) for t in texts]
        key = prompt_key(keys, fmt)
        entry = self._lookup(key, Kind.PROMPT)
        if entry is not None:
            return entry.path
        seconds = self._config.prompt_deadline_seconds if deadline is None else deadline
        try:
            async with asyncio.timeout(seconds):
                stored = await self._single_flight(
                    key, lambda: self._make_prompt(key, spec, keys, texts, fmt)
                )
        except TimeoutError:
            raise TtsTimeout(f"prompt not ready within {seconds:g} s") from None
        return stored.entry.path

    async def prewarm(
        self, texts: Iterable[str], spec: VoiceSpec | None = None
    ) -> PrewarmReport:
        """Synthesize what is missing; failures are counted, not raised."""
        spec = spec or self.spec()
        unique = list(dict.fromkeys(normalize_text(t) for t in texts))
        results = await asyncio.gather(
            *(self.synthesize(t, spec) for t in unique), return_exceptions=True
        )
        keys: list[str] = []
        synthesized = failed = 0
        for text, result in zip(unique, results, strict=True):
            if isinstance(result, Phrase):
                keys.append(result.key)
                synthesized += not result.cached
            else:
                failed += 1
                log.warning("tts prewarm failed for %r: %s", text[:40], result)
        return PrewarmReport(tuple(keys), synthesized, failed)

    async def pin(self, keys: Iterable[str]) -> None:
        """Make `keys` the pinned set (the current routing table's phrases).

        Keys not cached yet are pinned as soon as they are.
        """
        new = set(keys)
        changed = (new ^ self._pinned) & set(self._entries)
        self._pinned = new
        if not changed:
            return
        try:
            async with self._db.session() as session, session.begin():
                for key in changed:
                    await session.execute(
                        update(TtsPhrase)
                        .where(TtsPhrase.key == key)
                        .values(pinned=key in new)
                    )
        except SQLAlchemyError as exc:
            log.warning("tts pin not saved: %s", type(exc).__name__)

    def is_pinned(self, key: str) -> bool:
        return key in self._pinned

    def path_of(self, key: str) -> Path | None:
        entry = self._entries.get(key)
        return entry.path if entry else None

    def stats(self) -> CacheStats:
        prompts = self._kinds[Kind.PROMPT]
        return CacheStats(
            provider=self._provider.name,
            paid=self._provider.paid,
            voice=self.spec().voice,
            entries=len(self._entries),
            fragments=len(self._entries) - prompts,
            prompts=prompts,
            bytes=self._bytes,
            max_bytes=self._config.max_cache_bytes,
            pinned=len(self._pinned & set(self._entries)),
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            corrupt=self._corrupt,
            usage={
                name: Usage(u.characters, u.requests, u.failures)
                for name, u in self._usage.items()
            },
        )

    # -- lookups ---------------------------------------------------------------

    def _checked(self, text: str) -> str:
        clean = normalize_text(text)
        if not clean:
            raise TextRejected("text is empty")
        limit = min(self._config.max_text_chars, self._provider.max_chars)
        if len(clean) > limit:
            raise TextRejected(f"text is {len(clean)} characters; the limit is {limit}")
        return clean

    def _lookup(self, key: str, kind: Kind) -> Entry | None:
        """The entry if cached and its file intact; counts the hit or the miss."""
        entry = self._entries.get(key)
        if entry is not None and not _intact(entry):
            self._drop_damaged(entry)
            entry = None
        if entry is None:
            self._misses += 1
            self._metrics.lookups.labels(kind.value, "miss").inc()
            return None
        entry.hits += 1
        entry.last_used_at = self._clock.now()
        entry.tick = next(self._ticks)
        self._dirty.add(key)
        self._hits += 1
        self._metrics.lookups.labels(kind.value, "hit").inc()
        return entry

    def _drop_damaged(self, entry: Entry) -> None:
        log.warning(
            "tts cache file %s is missing or damaged; resynthesizing", entry.key
        )
        self._corrupt += 1
        self._metrics.corrupt.inc()
        self._forget(entry)
        self._deleted.add(entry.key)

    async def _single_flight(
        self, key: str, make: Callable[[], Awaitable[_Stored]]
    ) -> _Stored:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(task)

    def _landed(self, key: str, task: asyncio.Task[_Stored]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every caller may have given up

    # -- making audio ----------------------------------------------------------

    async def _make_fragment(self, key: str, spec: VoiceSpec, text: str) -> _Stored:
        request = SynthesisRequest(text, spec.voice, spec.speed, spec.emotion)
        name = self._provider.name
        started = self._clock.monotonic()
        try:
            pcm = await self._provider.synthesize(request)
            if not pcm:
                raise ProviderUnavailable(name, "provider returned no audio")
        except ProviderError as exc:
            self.last_error = str(exc)
            await self._account(name, characters=0, ok=False)
            raise
        self.last_error = None
        self._metrics.synthesis_seconds.labels(name).observe(
            self._clock.monotonic() - started
        )
        await self._account(name, characters=len(text), ok=True)
        return await self._store(
            key, Kind.FRAGMENT, pcm, AudioFormat.SLN, spec, text, characters=len(text)
        )

    async def _make_prompt(
        self,
        key: str,
        spec: VoiceSpec,
        keys: Sequence[str],
        texts: Sequence[str],
        fmt: AudioFormat,
    ) -> _Stored:
        parts = await asyncio.gather(
            *(self._fragment_pcm(k, spec, t) for k, t in zip(keys, texts, strict=True))
        )
        data = encode(b"".join(parts), fmt)
        text = PROMPT_SEPARATOR.join(texts)
        return await self._store(key, Kind.PROMPT, data, fmt, spec, text, characters=0)

    async def _fragment_pcm(self, key: str, spec: VoiceSpec, text: str) -> bytes:
        entry = self._lookup(key, Kind.FRAGMENT)
        if entry is not None:
            data = _read_verified(entry)
            if data is not None:
                return data
            self._drop_damaged(entry)
        stored = await self._single_flight(
            key, lambda: self._make_fragment(key, spec, text)
        )
        return stored.data

    async def _store(
        self,
        key: str,
        kind: Kind,
        data: bytes,
        fmt: AudioFormat,
        spec: VoiceSpec,
        text: str,
        *,
        characters: int,
    ) -> _Stored:
        path = self._path(key, fmt)
        signature = await asyncio.to_thread(_write_atomically, path, data)
        now = self._clock.now()
        entry = Entry(
            key=key,
            kind=kind,
            path=path,
            size=len(data),
            digest=hashlib.sha256(data).hexdigest(),
            provider=spec.provider,
            voice=spec.voice,
            text=text,
            audio_format=fmt,
            characters=characters,
            hits=0,
            created_at=now,
            last_used_at=now,
            signature=signature,
        )
        old = self._entries.get(key)
        if old is not None:
            self._forget(old)
        self._remember(entry)
        self._deleted.discard(key)
        await self._save(entry)
        await self._evict()
        return _Stored(entry, data)

    async def _save(self, entry: Entry) -> None:
        row = TtsPhrase(
            key=entry.key,
            kind=entry.kind.value,
            provider=entry.provider,
            voice=entry.voice,
            text=entry.text,
            audio_format=entry.audio_format.value,
            sample_rate=TELEPHONE_RATE,
            size_bytes=entry.size,
            audio_sha256=entry.digest,
            characters_billed=entry.characters,
            hits=entry.hits,
            pinned=entry.key in self._pinned,
            created_at=entry.created_at,
            last_used_at=entry.last_used_at,
        )
        try:
            async with self._db.session() as session, session.begin():
                await session.merge(row)
        except SQLAlchemyError as exc:
            # Served from memory now; a restart re-synthesizes it (the file is a stray).
            log.warning("tts index row not saved: %s", type(exc).__name__)

    async def _account(self, provider: str, *, characters: int, ok: bool) -> None:
        """Cost ledger: metrics now, the `tts_usage` row for the API and restarts."""
        paid = str(self._provider.paid).lower()
        self._metrics.requests.labels(provider, "ok" if ok else "error").inc()
        self._metrics.characters.labels(provider, paid).inc(characters)
        async with self._usage_lock:
            usage = self._usage.setdefault(provider, Usage())
            usage.characters += characters
            usage.requests += 1
            usage.failures += not ok
            try:
                async with self._db.session() as session, session.begin():
                    row = await session.get(TtsUsage, provider)
                    if row is None:
                        session.add(
                            TtsUsage(
                                provider=provider,
                                characters=usage.characters,
                                requests=usage.requests,
                                failures=usage.failures,
                            )
                        )
                    else:
                        row.characters = usage.characters
                        row.requests = usage.requests
                        row.failures = usage.failures
            except SQLAlchemyError as exc:
                log.warning("tts usage not saved: %s", type(exc).__name__)

    # -- the index in memory -----------------------------------------------------

    async def _evict(self) -> None:
        excess = self._bytes - self._config.max_cache_bytes
        if excess <= 0:
            return
        candidates = sorted(
            (
                e
                for e in self._entries.values()
                if e.key not in self._pinned and e.key not in self._inflight
            ),
            key=lambda e: e.tick,
        )
        victims: list[Entry] = []
        for entry in candidates:
            if excess <= 0:
                break
            victims.append(entry)
            excess -= entry.size
        for entry in victims:
            self._forget(entry)
            self._deleted.add(entry.key)
        self._evictions += len(victims)
        self._metrics.evictions.inc(len(victims))
        await asyncio.to_thread(_unlink_all, [v.path for v in victims])
        if excess > 0:
            log.warning(
                "tts cache is %d bytes over its cap: only pinned phrases are left",
                excess,
            )
        await self.flush()

    def _remember(self, entry: Entry) -> None:
        entry.tick = next(self._ticks)
        self._entries[entry.key] = entry
        self._count(entry, +1)

    def _forget(self, entry: Entry) -> None:
        if self._entries.pop(entry.key, None) is not None:
            self._count(entry, -1)

    def _count(self, entry: Entry, sign: int) -> None:
        self._bytes += sign * entry.size
        self._kinds[entry.kind] += sign
        self._metrics.bytes.set(self._bytes)
        self._metrics.entries.labels(entry.kind.value).set(self._kinds[entry.kind])

    def _path(self, key: str, fmt: AudioFormat) -> Path:
        # Two-level fan-out keeps directories small on big caches.
        return self._dir / key[:2] / f"{key}.{fmt.extension}"

    def _entry_from_row(self, row: TtsPhrase) -> Entry:
        fmt = AudioFormat(row.audio_format)
        return Entry(
            key=row.key,
            kind=Kind(row.kind),
            path=self._path(row.key, fmt),
            size=row.size_bytes,
            digest=row.audio_sha256,
            provider=row.provider,
            voice=row.voice,
            text=row.text,
            audio_format=fmt,
            characters=row.characters_billed,
            hits=row.hits,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
        )

    def _remove_strays(self) -> int:
        """Our files no index row names (crashed writes, rows lost).

        Only names this cache writes are touched, so a cache_dir pointed at a
        folder with other files (Asterisk's sounds) loses nothing else.
        """
        known = {e.path for e in self._entries.values()}
        removed = 0
        for path in self._dir.glob("*/*"):
            if path not in known and _ours(path) and path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _ours(path: Path) -> bool:
    return (
        bool(_OUR_FILE.fullmatch(path.name))
        and path.parent.name == (path.name.lstrip(".")[:2])
    )


def _intact(entry: Entry) -> bool:
    """Cheap when the file is as last verified (one stat), else a full digest."""
    signature = _signature(entry.path)
    if signature is None or signature[0] != entry.size:
        return False
    if signature == entry.signature:
        return True
    return _read_verified(entry) is not None


def _read_verified(entry: Entry) -> bytes | None:
    signature = _signature(entry.path)  # before the read: a later change re-verifies
    try:
        data = entry.path.read_bytes()
    except OSError:
        return None
    if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.digest:
        return None
    entry.signature = signature
    return data


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _write_atomically(path: Path, data: bytes) -> tuple[int, int, int] | None:
    """Readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o644)  # Asterisk runs as another user and must read it
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return _signature(path)


def _unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
