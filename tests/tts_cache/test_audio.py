"""The pure audio functions: resampling, WAV, and G.711 against reference decoders."""

from __future__ import annotations

import math
import wave
from array import array
from io import BytesIO

import pytest

from tests.fakes.tts_servers import tone
from tts_cache import audio
from tts_cache.audio import AudioError, AudioFormat


def ulaw_to_linear(code: int) -> int:
    """ITU G.711 µ-law expansion (the reference the encoder must invert)."""
    code = ~code & 0xFF
    t = ((code & 0x0F) << 3) + 0x84
    t <<= (code & 0x70) >> 4
    return (0x84 - t) if code & 0x80 else (t - 0x84)


def alaw_to_linear(code: int) -> int:
    code ^= 0x55
    t = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if code & 0x80 else -t


def test_resample_keeps_duration_and_level_of_a_voice_band_tone() -> None:
    pcm = tone(2.0, rate=22050, hz=440)
    out = audio.resample(pcm, 22050, 8000)
    assert audio.duration_seconds(out) == pytest.approx(2.0, abs=0.001)
    assert audio.rms(out) == pytest.approx(audio.rms(pcm), rel=0.02)


def test_resample_removes_what_8_khz_cannot_carry() -> None:
    # 6 kHz would fold to 2 kHz without the low-pass filter.
    pcm = tone(1.0, rate=22050, hz=6000)
    out = audio.resample(pcm, 22050, 8000)
    assert audio.rms(out) < audio.rms(pcm) * 0.01


def test_resample_upsamples_too() -> None:
    out = audio.resample(tone(1.0, rate=8000, hz=300), 8000, 16000)
    assert audio.duration_seconds(out, 16000) == pytest.approx(1.0, abs=0.001)


def test_resample_same_rate_is_identity_and_bad_rates_fail() -> None:
    pcm = tone(0.1)
    assert audio.resample(pcm, 8000, 8000) is pcm
    with pytest.raises(AudioError):
        audio.resample(pcm, 0, 8000)
    with pytest.raises(AudioError):
        audio.samples(b"\x00")


def test_wav_is_8_khz_16_bit_mono_and_reads_back() -> None:
    pcm = tone(0.5)
    data = audio.encode(pcm, AudioFormat.WAV)
    with wave.open(BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.readframes(w.getnframes()) == pcm
    assert audio.decode(data, AudioFormat.WAV) == pcm


def test_read_wav_downmixes_stereo_and_refuses_8_bit() -> None:
    left = array("h", [1000, -2000, 3000])
    right = array("h", [3000, 0, -3000])
    stereo = array("h", [v for pair in zip(left, right, strict=True) for v in pair])
    buffer = BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(audio.pcm_bytes(stereo))
    pcm, rate = audio.read_wav(buffer.getvalue())
    assert rate == 22050
    assert list(audio.samples(pcm)) == [2000, -1000, 0]
    buffer = BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80\x80")
    with pytest.raises(AudioError, match="8-bit"):
        audio.read_wav(buffer.getvalue())
    with pytest.raises(AudioError):
        audio.read_wav(b"not a wav")


@pytest.mark.parametrize(
    ("fmt", "expand", "silence"),
    [
        (AudioFormat.ULAW, ulaw_to_linear, 0xFF),
        (AudioFormat.ALAW, alaw_to_linear, 0xD5),
    ],
)
def test_g711_round_trips_within_the_law_quantization(fmt, expand, silence) -> None:
    values = [*range(-32768, 32768, 7), 32767]
    encoded = audio.encode(audio.pcm_bytes(array("h", values)), fmt)
    assert len(encoded) == len(values)
    assert audio.encode(audio.pcm_bytes(array("h", [0])), fmt)[0] == silence
    for value, code in zip(values, encoded, strict=True):
        back = expand(code)
        # Logarithmic steps: the error grows with the magnitude, ~1/16 of it at most.
        assert abs(back - value) <= max(16, abs(value) / 16 + 8), (value, back)


def test_g711_is_monotonic() -> None:
    values = list(range(-32768, 32768, 64))
    for fmt, expand in (
        (AudioFormat.ULAW, ulaw_to_linear),
        (AudioFormat.ALAW, alaw_to_linear),
    ):
        decoded = [
            expand(c) for c in audio.encode(audio.pcm_bytes(array("h", values)), fmt)
        ]
        assert decoded == sorted(decoded)


def test_lossy_formats_are_not_decoded() -> None:
    with pytest.raises(AudioError):
        audio.decode(b"\xff", AudioFormat.ULAW)


def test_rms_of_silence_is_zero() -> None:
    assert audio.rms(b"") == 0.0
    assert audio.rms(bytes(1600)) == 0.0
    assert audio.rms(tone(0.1)) == pytest.approx(6000 / math.sqrt(2), rel=0.02)
