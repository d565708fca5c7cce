"""Audio as Asterisk plays it: 8 kHz, 16-bit signed, mono. Pure functions only.

Providers hand back 16-bit PCM at their own rate; everything is brought to
`TELEPHONE_RATE` once, kept as raw signed-linear (`.sln`), and encoded into the
container or G.711 law an output needs. The stdlib `audioop` is gone in Python
3.13, so the resampler and the A-law/µ-law encoders are written out here.
"""

from __future__ import annotations

import enum
import io
import math
import sys
import wave
from array import array
from functools import cache
from math import gcd
from operator import mul

TELEPHONE_RATE = 8000
SAMPLE_WIDTH = 2  # bytes: 16-bit signed linear
INT16_MIN, INT16_MAX = -32768, 32767
# Windowed-sinc low-pass: zero crossings on each side, and cutoff as a share of
# the output Nyquist frequency (the rest is the transition band).
_ZERO_CROSSINGS = 8
_ROLLOFF = 0.9


class AudioError(ValueError):
    """Audio bytes that cannot be what they claim to be."""


class AudioFormat(enum.StrEnum):
    SLN = "sln"  # raw 8 kHz 16-bit little-endian mono: Asterisk's slin
    WAV = "wav"  # the same samples in a RIFF/WAVE container
    ALAW = "alaw"  # G.711 A-law, 8 bits per sample
    ULAW = "ulaw"  # G.711 µ-law, 8 bits per sample

    @property
    def extension(self) -> str:
        return self.value


def samples(pcm: bytes) -> array[int]:
    """Little-endian 16-bit PCM bytes as signed ints."""
    if len(pcm) % SAMPLE_WIDTH:
        raise AudioError("16-bit PCM must have an even number of bytes")
    out = array("h", pcm)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def pcm_bytes(values: array[int]) -> bytes:
    if sys.byteorder == "big":
        values = array("h", values)
        values.byteswap()
    return values.tobytes()


def duration_seconds(pcm: bytes, rate: int = TELEPHONE_RATE) -> float:
    return len(pcm) / SAMPLE_WIDTH / rate


def rms(pcm: bytes) -> float:
    """Root mean square level (0 for silence, up to 32768)."""
    values = samples(pcm)
    if not values:
        return 0.0
    return math.sqrt(sum(v * v for v in values) / len(values))


def resample(pcm: bytes, from_rate: int, to_rate: int = TELEPHONE_RATE) -> bytes:
    """Rational-ratio resampling through a polyphase windowed-sinc low-pass.

    Down-sampling 22 050 -> 8 000 Hz without the low-pass would fold everything
    between 4 and 11 kHz back into the telephone band as hiss.
    """
    if from_rate <= 0 or to_rate <= 0:
        raise AudioError("sample rates must be positive")
    if from_rate == to_rate:
        return pcm
    up, down, half, kernels = _polyphase(from_rate, to_rate)
    source = samples(pcm)
    padded = [0] * half + source.tolist() + [0] * half
    out = array("h", bytes(SAMPLE_WIDTH * (len(source) * up // down)))
    for n in range(len(out)):
        base, phase = divmod(n * down, up)
        value = sum(map(mul, kernels[phase], padded[base + 1 : base + 2 * half + 1]))
        out[n] = min(INT16_MAX, max(INT16_MIN, round(value)))
    return pcm_bytes(out)


@cache
def _polyphase(
    from_rate: int, to_rate: int
) -> tuple[int, int, int, tuple[tuple[float, ...], ...]]:
    g = gcd(from_rate, to_rate)
    up, down = to_rate // g, from_rate // g
    # Cutoff in cycles per input sample, below both Nyquist frequencies.
    cutoff = 0.5 * min(1.0, to_rate / from_rate) * _ROLLOFF
    half = math.ceil(_ZERO_CROSSINGS / (2 * cutoff))
    kernels = tuple(_kernel(phase / up, cutoff, half) for phase in range(up))
    return up, down, half, kernels


def _kernel(fraction: float, cutoff: float, half: int) -> tuple[float, ...]:
    # Tap j multiplies input sample (base - half + 1 + j); its distance from the
    # output instant (base + fraction) is x.
    taps = []
    for j in range(2 * half):
        x = half - 1 - j + fraction
        arg = 2 * cutoff * x
        sinc = 1.0 if arg == 0 else math.sin(math.pi * arg) / (math.pi * arg)
        window = 0.5 + 0.5 * math.cos(math.pi * x / half) if abs(x) < half else 0.0
        taps.append(sinc * window)
    total = sum(taps)  # unity gain at DC, whatever the phase
    return tuple(t / total for t in taps)


def wav_bytes(pcm: bytes, rate: int = TELEPHONE_RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[bytes, int]:
    """(16-bit mono PCM, sample rate) from WAV bytes; stereo is down-mixed."""
    try:
        with wave.open(io.BytesIO(data), "rb") as src:
            channels, width, rate = (
                src.getnchannels(),
                src.getsampwidth(),
                src.getframerate(),
            )
            frames = src.readframes(src.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file: {exc}") from None
    if width != SAMPLE_WIDTH:
        raise AudioError(f"WAV has {8 * width}-bit samples, 16-bit expected")
    if channels == 1:
        return frames, rate
    values = samples(frames)
    mono = array(
        "h",
        (
            sum(values[i : i + channels]) // channels
            for i in range(0, len(values), channels)
        ),
    )
    return pcm_bytes(mono), rate


def encode(pcm: bytes, audio_format: AudioFormat) -> bytes:
    """8 kHz 16-bit PCM in the file format `audio_format`."""
    if audio_format is AudioFormat.SLN:
        return pcm
    if audio_format is AudioFormat.WAV:
        return wav_bytes(pcm)
    table = _alaw_table() if audio_format is AudioFormat.ALAW else _ulaw_table()
    return bytes(table[v - INT16_MIN] for v in samples(pcm))


def decode(data: bytes, audio_format: AudioFormat) -> bytes:
    """The inverse of `encode` for the lossless formats (the cache joins prompts)."""
    if audio_format is AudioFormat.SLN:
        return data
    if audio_format is AudioFormat.WAV:
        pcm, rate = read_wav(data)
        if rate != TELEPHONE_RATE:
            raise AudioError(f"WAV at {rate} Hz, {TELEPHONE_RATE} expected")
        return pcm
    raise AudioError(f"{audio_format} is lossy; keep the linear original")


# G.711 segment ends, from the ITU reference (Sun's g711.c, public domain).
_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ULAW_BIAS = 0x21  # 0x84 >> 2: µ-law works on 14-bit magnitudes
_ULAW_CLIP = 8159
_SEGMENTS = 8


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for index, end in enumerate(ends):
        if value <= end:
            return index
    return _SEGMENTS


def linear_to_alaw(sample: int) -> int:
    value = sample >> 3  # A-law quantizes 13-bit magnitudes
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    seg = _segment(value, _ALAW_SEG_END)
    if seg >= _SEGMENTS:
        return 0x7F ^ mask
    code = seg << 4
    code |= (value >> 1 if seg < 2 else value >> seg) & 0x0F
    return code ^ mask


def linear_to_ulaw(sample: int) -> int:
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + _ULAW_BIAS
    seg = _segment(value, _ULAW_SEG_END)
    if seg >= _SEGMENTS:
        return 0x7F ^ mask
    return ((seg << 4) | ((value >> (seg + 1)) & 0x0F)) ^ mask


@cache
def _alaw_table() -> bytes:
    return bytes(linear_to_alaw(v) for v in range(INT16_MIN, INT16_MAX + 1))


@cache
def _ulaw_table() -> bytes:
    return bytes(linear_to_ulaw(v) for v in range(INT16_MIN, INT16_MAX + 1))
