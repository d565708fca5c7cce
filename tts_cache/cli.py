"""`telebridge tts say|stats`: talk to the running service's TTS API.

`say` goes through the service, so a phrase an admin previews is cached and
billed once like any other, and the cost shows up in `stats`. `say --direct`
asks the configured provider from this process instead (no service, no cache):
for checking credentials or a voice before the service runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import aiohttp

from bridge.admin_client import admin_token, base_url
from bridge.cli import EXIT_FAILED, EXIT_OK, add_config_option, load, out
from bridge.clock import SystemClock
from bridge.config import Config
from tts_cache.audio import SAMPLE_WIDTH, TELEPHONE_RATE, AudioFormat, encode
from tts_cache.http import CACHED_HEADER, KEY_HEADER, STATS_PATH, SYNTHESIZE_PATH
from tts_cache.keys import normalize_text
from tts_cache.providers import build_provider
from tts_cache.providers.base import SynthesisRequest, TtsError

CLIENT_TIMEOUT_SECONDS = 60
WAV_HEADER_BYTES = 44


class CliFailure(Exception):
    """One line for stderr, then exit 1."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tts = sub.add_parser(
        "tts", help="speech synthesis and its cache", description=__doc__
    )
    commands = tts.add_subparsers(title="commands", metavar="COMMAND")

    say = commands.add_parser(
        "say",
        help="synthesize TEXT into FILE through the service's cache",
        description="Synthesize TEXT with the configured provider (cached) and "
        "write it to --out; the format follows the file suffix "
        "(.wav, .sln, .alaw, .ulaw) unless --format is given.",
    )
    say.add_argument("text", metavar="TEXT")
    say.add_argument("--voice", default=None, help="default: tts.voice")
    say.add_argument("--speed", type=float, default=None, help="0.1..3.0")
    say.add_argument("--emotion", default=None)
    say.add_argument("--out", type=Path, required=True, metavar="FILE")
    say.add_argument("--format", choices=[f.value for f in AudioFormat], default=None)
    say.add_argument(
        "--direct",
        action="store_true",
        help="ask the provider from this process, bypassing the service and its "
        "cache (a paid provider bills every time)",
    )
    _common(say)
    say.set_defaults(command=_say)

    stats = commands.add_parser(
        "stats",
        help="cache size, hits and characters sent to providers",
        description="Print the TTS cache statistics and the characters sent to "
        "each provider (what paid providers bill).",
    )
    stats.add_argument("--json", action="store_true", help="print the raw JSON")
    _common(stats)
    stats.set_defaults(command=_stats)


def _common(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument(
        "--url", default=None, help="service URL (default: from http.host/http.port)"
    )


def _say(args: argparse.Namespace) -> int:
    config, _ = load(args)
    fmt = AudioFormat(args.format or _format_for(args.out))
    body: dict[str, Any] = {"text": args.text, "format": fmt.value}
    for name in ("voice", "speed", "emotion"):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name)
    try:
        if args.direct:
            audio, headers = asyncio.run(_direct(config, args, fmt))
        else:
            audio, headers = asyncio.run(
                _request(config, args.url, "POST", SYNTHESIZE_PATH, body)
            )
    except CliFailure as exc:
        print(f"telebridge tts say: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_FAILED
    args.out.write_bytes(audio)
    seconds = _seconds(len(audio), fmt)
    origin = "from cache" if headers.get(CACHED_HEADER) == "true" else "synthesized"
    out(f"{args.out}: {len(audio)} bytes, {seconds:.2f} s, {fmt.value}, {origin}")
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    config, _ = load(args)
    try:
        raw, _ = asyncio.run(_request(config, args.url, "GET", STATS_PATH, None))
    except CliFailure as exc:
        print(f"telebridge tts stats: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_FAILED
    stats = json.loads(raw)
    if args.json:
        out(json.dumps(stats, ensure_ascii=False, indent=2))
        return EXIT_OK
    cache = stats["cache"]
    paid = "paid" if stats["paid"] else "free"
    out(f"provider: {stats['provider']} ({paid}), voice {stats['voice']}")
    out(
        f"cache: {cache['entries']} files ({cache['fragments']} fragments, "
        f"{cache['prompts']} prompts), {cache['bytes']} of {cache['max_bytes']} "
        f"bytes, {cache['pinned']} pinned"
    )
    out(
        f"since start: {cache['hits']} hits, {cache['misses']} misses, "
        f"{cache['evictions']} evicted, {cache['corrupt']} corrupt files redone"
    )
    for usage in stats["usage"]:
        out(
            f"{usage['provider']}: {usage['characters']} characters in "
            f"{usage['requests']} requests ({usage['failures']} failed)"
        )
    return EXIT_OK


async def _direct(
    config: Config, args: argparse.Namespace, fmt: AudioFormat
) -> tuple[bytes, dict[str, str]]:
    tts = config.tts
    provider = build_provider(tts, SystemClock())
    text = normalize_text(args.text)
    if not text:
        raise CliFailure("text is empty")
    request = SynthesisRequest(
        text=text,
        voice=args.voice or tts.voice or provider.default_voice,
        speed=tts.speed if args.speed is None else args.speed,
        emotion=tts.emotion if args.emotion is None else args.emotion,
    )
    try:
        pcm = await provider.synthesize(request)
    except TtsError as exc:
        raise CliFailure(str(exc)) from None
    finally:
        await provider.close()
    return encode(pcm, fmt), {CACHED_HEADER: "false"}


def _format_for(path: Path) -> str:
    suffix = path.suffix.lstrip(".").lower()
    return suffix if suffix in {f.value for f in AudioFormat} else AudioFormat.WAV.value


def _seconds(size: int, fmt: AudioFormat) -> float:
    if fmt is AudioFormat.WAV:
        size = max(0, size - WAV_HEADER_BYTES)
    width = SAMPLE_WIDTH if fmt in (AudioFormat.SLN, AudioFormat.WAV) else 1
    return size / width / TELEPHONE_RATE


async def _request(
    config: Config, url: str | None, method: str, path: str, body: Any
) -> tuple[bytes, dict[str, str]]:
    base = (url or base_url(config)).rstrip("/")
    headers = {"Authorization": f"Bearer {_admin_token(config)}"}
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, base + path, json=body, headers=headers) as reply,
        ):
            data = await reply.read()
            if reply.status != HTTPStatus.OK:
                raise CliFailure(_error_text(reply.status, data))
            return data, {
                KEY_HEADER: reply.headers.get(KEY_HEADER, ""),
                CACHED_HEADER: reply.headers.get(CACHED_HEADER, ""),
            }
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CliFailure(
            f"cannot reach the service at {base} ({type(exc).__name__}); is it running?"
        ) from None


def _error_text(status: int, data: bytes) -> str:
    try:
        error = json.loads(data)["error"]
        return f"HTTP {status} {error['id']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"


def _admin_token(config: Config) -> str:
    token = admin_token(config)
    if not token:
        raise CliFailure(
            "no auth.admin_token configured and none generated: start the service"
        )
    return token
