"""Offline speech with espeak-ng, from the `espeakng-loader` wheel (library + data).

The library keeps global state and blocks while it speaks, so one process-wide
engine runs on one worker thread; the event loop only awaits it. It speaks at
22 050 Hz and is resampled to 8 kHz here.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import espeakng_loader

from tts_cache.audio import resample
from tts_cache.providers.base import (
    ProviderRejected,
    ProviderUnavailable,
    SynthesisRequest,
)

log = logging.getLogger(__name__)

NAME = "espeak"
NORMAL_WPM = 175  # espeak-ng's own default rate, our speed 1.0
MIN_WPM, MAX_WPM = 80, 450
# espeak_ng API constants (speak_lib.h).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE = 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EE_OK = 0
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _VoiceStruct(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


class _Engine:
    """The process-wide espeak-ng instance; every call holds `lock`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
        data = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if rate <= 0:
            raise ProviderUnavailable(NAME, "espeak-ng failed to initialize")
        self.rate: int = rate
        self._lib = lib
        self._chunks: list[bytes] = []
        # Kept on the instance: ctypes must not collect a callback C still holds.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes.Array[ctypes.c_short], count: int, _ev: int) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # 0: keep going

    def speak(self, text: str, voice: str, wpm: int) -> bytes:
        with self.lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise ProviderRejected(NAME, f"unknown voice {voice!r}")
            self._lib.espeak_SetParameter(_ESPEAK_RATE, wpm, 0)
            self._chunks = []
            encoded = text.encode("utf-8")
            status = self._lib.espeak_Synth(
                encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            if status != _EE_OK:
                raise ProviderUnavailable(NAME, f"espeak_Synth returned {status}")
            return b"".join(self._chunks)

    def voices(self) -> tuple[str, ...]:
        with self.lock:
            found: list[str] = []
            listing = self._lib.espeak_ListVoices(None)
            index = 0
            while listing[index]:
                ident = listing[index].contents.identifier
                if ident:
                    found.append(ident.decode())
                index += 1
            return tuple(found)


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def _get_engine() -> _Engine:
    # The library itself is a process-wide singleton.
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        return _engine


class EspeakProvider:
    name = NAME
    paid = False
    max_chars = 5000

    def __init__(self, default_voice: str = "ru") -> None:
        self.default_voice = default_voice
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")

    async def synthesize(self, request: SynthesisRequest) -> bytes:
        loop = asyncio.get_running_loop()
        wpm = min(MAX_WPM, max(MIN_WPM, round(NORMAL_WPM * request.speed)))
        voice = request.voice or self.default_voice
        return await loop.run_in_executor(
            self._executor, _speak_8k, request.text, voice, wpm
        )

    async def voices(self) -> tuple[str, ...]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: _get_engine().voices()
        )

    async def close(self) -> None:
        # Not waiting: a synthesis already inside espeak-ng ends on its own.
        self._executor.shutdown(wait=False, cancel_futures=True)


def _speak_8k(text: str, voice: str, wpm: int) -> bytes:
    engine = _get_engine()
    pcm = engine.speak(text, voice, wpm)
    if not pcm:
        raise ProviderUnavailable(NAME, "espeak-ng produced no audio")
    return resample(pcm, engine.rate)
