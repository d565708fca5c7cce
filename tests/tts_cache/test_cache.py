"""The phrase cache on SQLite and PostgreSQL, with a scripted provider."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from tests.fakes.tts_servers import ScriptedProvider, speech_like, unavailable
from tts_cache import audio
from tts_cache.audio import AudioFormat
from tts_cache.models import TtsPhrase, TtsUsage
from tts_cache.providers.base import ProviderUnavailable, TextRejected, TtsTimeout


async def rows(db) -> dict[str, TtsPhrase]:
    async with db.session() as session:
        return {r.key: r for r in (await session.scalars(select(TtsPhrase))).all()}


async def test_miss_then_hits_ask_the_provider_once(cache, provider, db) -> None:
    first = await cache.synthesize("Здравствуйте")
    second = await cache.synthesize("  Здравствуйте ")
    assert (first.cached, second.cached) == (False, True)
    assert first.path == second.path
    assert first.path.suffix == ".sln"
    assert first.path.read_bytes() == speech_like("Здравствуйте")
    assert len(provider.calls) == 1
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)
    await cache.flush()
    row = (await rows(db))[first.key]
    assert (row.kind, row.provider, row.voice, row.text) == (
        "fragment",
        "scripted",
        "v1",
        "Здравствуйте",
    )
    assert (row.hits, row.characters_billed, row.sample_rate) == (1, 12, 8000)


async def test_100_concurrent_misses_make_one_synthesis(cache, provider) -> None:
    provider.gate = asyncio.Event()
    callers = [asyncio.ensure_future(cache.synthesize("Соединяю")) for _ in range(100)]
    async with asyncio.timeout(5):
        await provider.wait_calls(1)
        provider.gate.set()
        phrases = await asyncio.gather(*callers)
    assert len(provider.calls) == 1
    assert len({p.path for p in phrases}) == 1
    assert cache.stats().usage["scripted"].requests == 1


async def test_voice_speed_and_emotion_are_separate_phrases(cache, provider) -> None:
    await cache.synthesize("Привет")
    await cache.synthesize("Привет", cache.spec(voice="v2"))
    await cache.synthesize("Привет", cache.spec(speed=1.5))
    await cache.synthesize("Привет", cache.spec(emotion="good"))
    await cache.synthesize("Привет", cache.spec(voice="v2"))
    assert [(c.voice, c.speed, c.emotion) for c in provider.calls] == [
        ("v1", 1.0, ""),
        ("v2", 1.0, ""),
        ("v1", 1.5, ""),
        ("v1", 1.0, "good"),
    ]


@pytest.mark.parametrize("damage", ["truncate", "delete", "replace"])
async def test_damaged_or_missing_file_is_resynthesized(
    cache, provider, damage, caplog
) -> None:
    phrase = await cache.synthesize("Абонент занят")
    data = phrase.path.read_bytes()
    if damage == "truncate":
        phrase.path.write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        phrase.path.unlink()
    else:  # same size, other bytes, put in place by another program
        other = phrase.path.with_name("other")
        other.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])
        other.replace(phrase.path)
    with caplog.at_level(logging.WARNING):
        again = await cache.synthesize("Абонент занят")
    assert again.cached is False
    assert again.path.read_bytes() == data
    assert len(provider.calls) == 2
    assert cache.stats().corrupt == 1
    assert "damaged" in caplog.text
    assert (await cache.synthesize("Абонент занят")).cached is True


async def test_bytes_flipped_in_place_are_caught_when_read(
    make_cache, provider
) -> None:
    cache = await make_cache(provider)
    phrase = await cache.synthesize("Один")
    data = phrase.path.read_bytes()
    flipped = bytes([data[0] ^ 0xFF]) + data[1:]
    with phrase.path.open("r+b") as fh:  # same inode, same size
        fh.write(flipped[:1])
    # Building a prompt reads the fragment's bytes and checks their sha256.
    prompt = await cache.synthesize_prompt(["Один"])
    assert prompt.read_bytes() == data
    assert len(provider.calls) == 2
    await cache.close()
    # After a restart the first use checks the digest too.
    with phrase.path.open("r+b") as fh:
        fh.write(flipped[:1])
    again = await make_cache(provider)
    assert (await again.synthesize("Один")).cached is False
    assert again.stats().corrupt == 1


async def test_index_survives_a_restart(make_cache, provider, db, tmp_path) -> None:
    first = await make_cache(provider)
    phrase = await first.synthesize("Добрый день")
    await first.synthesize("Добрый день")
    await first.pin([phrase.key])
    await first.close()
    again = await make_cache(ScriptedProvider())
    assert (await again.synthesize("Добрый день")).cached is True
    assert again.is_pinned(phrase.key)
    assert again.stats().usage["scripted"].characters == len("Добрый день")
    await again.flush()
    assert (await rows(db))[phrase.key].hits == 2


async def test_start_drops_stray_files_and_rows_without_files(
    make_cache, provider, db, tmp_path
) -> None:
    first = await make_cache(provider)
    kept = await first.synthesize("Оставить")
    lost = await first.synthesize("Потерять")
    await first.close()
    lost.path.unlink()
    stray = kept.path.parent / f"{kept.key[:2]}{'0' * 62}.sln"
    stray.write_bytes(b"\x00\x00")
    leftover = kept.path.parent / f".{kept.key}.abc.tmp"
    leftover.write_bytes(b"\x00")
    # Files this cache did not write are never touched, whatever the folder holds.
    foreign = kept.path.parent / "hello.gsm"
    foreign.write_bytes(b"\x00")
    other_dir = tmp_path / "tts" / "ru"
    other_dir.mkdir()
    (other_dir / "vm-intro.sln").write_bytes(b"\x00\x00")
    again = await make_cache(ScriptedProvider())
    assert not stray.exists()
    assert not leftover.exists()
    assert kept.path.exists()
    assert foreign.exists()
    assert (other_dir / "vm-intro.sln").exists()
    assert set(await rows(db)) == {kept.key}
    assert again.stats().entries == 1


async def test_lru_eviction_spares_pinned_and_recent(make_cache, provider, db) -> None:
    # 400 characters -> 16 s of 8 kHz audio -> 256 000 bytes; 4 fit in 1 MiB.
    cache = await make_cache(provider, max_cache_mb=1)
    texts = {name: name * 400 for name in "ABCDE"}
    keys = {}
    for name in "ABCD":
        keys[name] = (await cache.synthesize(texts[name])).key
    await cache.pin([keys["A"]])
    assert (await cache.synthesize(texts["B"])).cached  # B is now recent
    keys["E"] = (await cache.synthesize(texts["E"])).key
    assert cache.path_of(keys["C"]) is None
    assert {n for n, k in keys.items() if cache.path_of(k)} == {"A", "B", "D", "E"}
    assert cache.stats().evictions == 1
    assert cache.stats().bytes <= 1024 * 1024
    assert keys["C"] not in await rows(db)
    assert (await rows(db))[keys["A"]].pinned is True


async def test_pinned_phrases_are_kept_even_over_the_cap(
    make_cache, provider, caplog
) -> None:
    cache = await make_cache(provider, max_cache_mb=1)
    keys = [cache.fragment_key(n * 400) for n in "ABCDEF"]
    await cache.pin(keys)  # pinned before they exist, like a new routing table
    with caplog.at_level(logging.WARNING):
        for name in "ABCDEF":
            await cache.synthesize(name * 400)
    assert all(cache.path_of(k) for k in keys)
    assert cache.stats().evictions == 0
    assert "only pinned phrases are left" in caplog.text
    await cache.pin(keys[:2])  # the table changed: the rest may go
    await cache.synthesize("G" * 400)
    assert all(cache.path_of(k) for k in keys[:2])
    assert cache.stats().bytes <= 1024 * 1024


async def test_prompt_is_the_joined_fragments_and_is_cached_whole(
    cache, provider
) -> None:
    path = await cache.synthesize_prompt(["Здравствуйте,", "Иван Петрович."])
    assert path.read_bytes() == speech_like("Здравствуйте,") + speech_like(
        "Иван Петрович."
    )
    assert len(provider.calls) == 2
    assert await cache.synthesize_prompt(["Здравствуйте,", "Иван Петрович."]) == path
    # A new menu costs only its new fragment.
    await cache.synthesize_prompt(["Здравствуйте,", "Мария Сергеевна."])
    assert [c.text for c in provider.calls][2:] == ["Мария Сергеевна."]
    assert cache.stats().prompts == 2


async def test_prompt_formats_are_what_asterisk_plays(cache) -> None:
    parts = ["Раз", "Два"]
    pcm = speech_like("Раз") + speech_like("Два")
    wav = await cache.synthesize_prompt(parts, audio_format=AudioFormat.WAV)
    assert wav.suffix == ".wav"
    assert audio.read_wav(wav.read_bytes()) == (pcm, 8000)
    ulaw = await cache.synthesize_prompt(parts, audio_format=AudioFormat.ULAW)
    assert ulaw.read_bytes() == audio.encode(pcm, AudioFormat.ULAW)
    alaw = await cache.synthesize_prompt(parts, audio_format=AudioFormat.ALAW)
    assert len(alaw.read_bytes()) == len(pcm) // 2


async def test_missing_fragments_are_synthesized_in_parallel(cache, provider) -> None:
    provider.gate = asyncio.Event()
    prompt = asyncio.ensure_future(cache.synthesize_prompt(["Один", "Два", "Три"]))
    async with asyncio.timeout(5):
        # All three are in the provider at once while the gate is closed.
        await provider.wait_calls(3)
        provider.gate.set()
        await prompt


async def test_deadline_raises_then_the_work_lands_for_the_next_call(
    cache, provider
) -> None:
    provider.gate = asyncio.Event()
    with pytest.raises(TtsTimeout):
        await cache.synthesize_prompt(["Медленная", "фраза"], deadline=0.05)
    provider.gate.set()
    async with asyncio.timeout(5):
        await cache.drain()
    calls = len(provider.calls)
    await cache.synthesize_prompt(["Медленная", "фраза"], deadline=0.05)
    assert len(provider.calls) == calls == 2


async def test_provider_error_is_typed_counted_and_not_cached(
    make_cache, provider, db
) -> None:
    registry = CollectorRegistry()
    cache = await make_cache(provider, registry=registry)
    provider.fail = unavailable()
    with pytest.raises(ProviderUnavailable):
        await cache.synthesize_prompt(["Сбой"])
    assert cache.last_error == "scripted: HTTP 503"
    provider.fail = None
    assert (await cache.synthesize("Сбой")).cached is False
    assert cache.last_error is None  # recovered by itself
    usage = cache.stats().usage["scripted"]
    assert (usage.requests, usage.failures, usage.characters) == (2, 1, 4)
    labels = {"provider": "scripted", "paid": "true"}
    assert registry.get_sample_value("telebridge_tts_characters_total", labels) == 4
    errors = {"provider": "scripted", "outcome": "error"}
    assert (
        registry.get_sample_value("telebridge_tts_provider_requests_total", errors) == 1
    )
    async with db.session() as session:
        row = await session.get(TtsUsage, "scripted")
    assert row is not None
    assert (row.characters, row.requests, row.failures) == (4, 2, 1)


async def test_bad_text_is_refused_before_any_provider_call(
    make_cache, provider
) -> None:
    cache = await make_cache(provider, max_text_chars=10)
    for text in ("", "   \n", "x" * 11):
        with pytest.raises(TextRejected):
            await cache.synthesize(text)
    with pytest.raises(TextRejected):
        await cache.synthesize_prompt([])
    with pytest.raises(TextRejected):
        await cache.synthesize_prompt(["ok", ""])
    assert provider.calls == []


async def test_prewarm_reports_and_pin_keys_match(cache, provider) -> None:
    await cache.synthesize("Уже есть")
    report = await cache.prewarm(["Уже есть", "Новая", "Новая ", "Ещё одна"])
    assert (report.synthesized, report.failed) == (2, 0)
    assert list(report.keys) == [
        cache.fragment_key("Уже есть"),
        cache.fragment_key("Новая"),
        cache.fragment_key("Ещё одна"),
    ]
    provider.fail = unavailable()
    failed = await cache.prewarm(["Не выйдет"])
    assert (failed.synthesized, failed.failed, failed.keys) == (0, 1, ())
