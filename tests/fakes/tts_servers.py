"""Fake speech providers on real sockets, built from the providers' documentation.

`FakeYandex` stands in for Yandex SpeechKit REST v1 `tts:synthesize`
(yandex-cloud/docs ru/speechkit/tts/request.md): form-encoded POST, `Api-Key` or
`Bearer` auth, `format=lpcm` + `sampleRateHertz=8000` answered with headerless
16-bit LE mono PCM, 400 for bad fields, 401 for bad credentials.

`FakeStc` stands in for the Speech Technology Center cloud (speechpro cloud client,
MIKO's SpeechProTTS.php): `POST /vksession/rest/session` with JSON credentials ->
`session_id`; `X-Session-ID` on `GET /vktts/rest/v1/languages/{lang}/voices` and
`POST /vktts/rest/v1/synthesize`, which answers `{"data": <base64 WAV>}`; an unknown
or expired session gets 401.

`ScriptedProvider` is an in-process `TtsProvider` for the cache's own logic:
it counts calls and can hold or fail them on demand.
"""

from __future__ import annotations

import asyncio
import base64
import math
import uuid
from array import array
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tts_cache.audio import TELEPHONE_RATE, pcm_bytes, wav_bytes
from tts_cache.providers.base import (
    ProviderUnavailable,
    SynthesisRequest,
)

YANDEX_V1_VOICES = {"alena", "filipp", "ermil", "jane", "omazh", "zahar", "marina"}
MS_PER_CHAR = 40


def tone(seconds: float, rate: int = TELEPHONE_RATE, hz: float = 440.0) -> bytes:
    """A sine at a speech-like level: audible, never silent."""
    n = max(1, int(seconds * rate))
    values = array(
        "h", (int(6000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(n))
    )
    return pcm_bytes(values)


def speech_like(text: str, rate: int = TELEPHONE_RATE) -> bytes:
    return tone(len(text) * MS_PER_CHAR / 1000, rate)


@dataclass
class FakeYandex:
    api_key: str | None = None
    iam_token: str | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    # Statuses answered before normal service resumes (e.g. [500] or [429]).
    fail_next: list[int] = field(default_factory=list)
    hang: bool = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/speech/v1/tts:synthesize", self._synthesize)
        return app

    @property
    def characters(self) -> int:
        return sum(len(r["text"]) for r in self.requests)

    async def _synthesize(self, request: web.Request) -> web.StreamResponse:
        if self.hang:
            await asyncio.Event().wait()  # the client's timeout ends this
        header = request.headers.get("Authorization", "")
        self.auth_headers.append(header)
        if header not in self._accepted():
            return web.json_response(
                {"error_code": "UNAUTHORIZED", "error_message": "Unknown api key"},
                status=401,
            )
        if request.content_type != "application/x-www-form-urlencoded":
            return _bad("body must be form-urlencoded")
        form = {k: str(v) for k, v in (await request.post()).items()}
        if self.fail_next:
            return web.json_response({"error_code": "X"}, status=self.fail_next.pop(0))
        problem = _yandex_problem(form)
        if problem:
            return _bad(problem)
        self.requests.append(form)
        return web.Response(body=speech_like(form["text"]), content_type="audio/lpcm")

    def _accepted(self) -> set[str]:
        accepted = set()
        if self.api_key:
            accepted.add(f"Api-Key {self.api_key}")
        if self.iam_token:
            accepted.add(f"Bearer {self.iam_token}")
        return accepted


def _yandex_problem(form: dict[str, str]) -> str:
    text = form.get("text", "")
    if not text or len(text) > 5000:
        return "text must be 1..5000 characters"
    if form.get("format") != "lpcm" or form.get("sampleRateHertz") != "8000":
        return "this fake serves only lpcm at 8000 Hz"
    if form.get("lang") != "ru-RU":
        return "lang"
    if form.get("voice") not in YANDEX_V1_VOICES:
        return f"unsupported voice {form.get('voice')!r}"
    try:
        speed = float(form.get("speed", "1.0"))
    except ValueError:
        return "speed"
    if not 0.1 <= speed <= 3.0:
        return "speed"
    return ""


def _bad(message: str) -> web.Response:
    return web.json_response(
        {"error_code": "BAD_REQUEST", "error_message": message}, status=400
    )


@dataclass
class FakeStc:
    username: str = "ivr"
    password: str = "stc-secret-password"
    domain_id: str = "201"
    voices: tuple[str, ...] = ("Julia_8000n", "Vladimir_8000n", "Anna_8000n")
    wav_rate: int = TELEPHONE_RATE
    sessions: set[str] = field(default_factory=set)
    session_calls: int = 0
    voice_calls: int = 0
    synth_requests: list[dict[str, Any]] = field(default_factory=list)
    # Refuse every session on synthesize, as if the account lost its TTS rights.
    always_401: bool = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/vksession/rest/session", self._session)
        app.router.add_get("/vktts/rest/v1/languages/{lang}/voices", self._voices)
        app.router.add_post("/vktts/rest/v1/synthesize", self._synthesize)
        return app

    def expire_sessions(self) -> None:
        self.sessions.clear()

    async def _session(self, request: web.Request) -> web.Response:
        self.session_calls += 1
        body = await request.json()
        if body != {
            "username": self.username,
            "password": self.password,
            "domain_id": self.domain_id,
        }:
            return web.json_response({"message": "invalid credentials"}, status=401)
        session_id = uuid.uuid4().hex
        self.sessions.add(session_id)
        return web.json_response({"session_id": session_id})

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("X-Session-ID", "") in self.sessions

    async def _voices(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"message": "session expired"}, status=401)
        self.voice_calls += 1
        if request.match_info["lang"] != "Russian":
            return web.json_response([])
        return web.json_response([{"name": v, "gender": "female"} for v in self.voices])

    async def _synthesize(self, request: web.Request) -> web.Response:
        if self.always_401 or not self._authorized(request):
            return web.json_response({"message": "session expired"}, status=401)
        body = await request.json()
        text = body.get("text", {})
        if (
            body.get("voice_name") not in self.voices
            or text.get("mime") != "text/plain"
            or not text.get("value")
            or body.get("audio") != "audio/wav"
        ):
            return web.json_response({"message": "bad request"}, status=400)
        self.synth_requests.append(body)
        wav = wav_bytes(speech_like(text["value"], self.wav_rate), self.wav_rate)
        return web.json_response({"data": base64.b64encode(wav).decode()})


class ScriptedProvider:
    """An in-process provider: counts calls; `gate` holds them; `fail` fails them."""

    def __init__(self, name: str = "scripted", *, paid: bool = True) -> None:
        self.name = name
        self.paid = paid
        self.default_voice = "v1"
        self.max_chars = 5000
        self.calls: list[SynthesisRequest] = []
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Condition()
        self.fail: Exception | None = None
        self.closed = False

    async def synthesize(self, request: SynthesisRequest) -> bytes:
        self.calls.append(request)
        async with self.started:
            self.started.notify_all()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return speech_like(request.text)

    async def voices(self) -> tuple[str, ...]:
        return ("v1", "v2")

    async def close(self) -> None:
        self.closed = True

    async def wait_calls(self, n: int) -> None:
        async with self.started:
            await self.started.wait_for(lambda: len(self.calls) >= n)


def unavailable(name: str = "scripted") -> ProviderUnavailable:
    return ProviderUnavailable(name, "HTTP 503")
