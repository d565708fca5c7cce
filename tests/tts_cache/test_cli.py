"""`telebridge tts say|stats` as a separate process against the running service."""

from __future__ import annotations

import asyncio
import sys
import wave
from pathlib import Path

from tests.conftest import ADMIN_TOKEN
from tts_cache import audio


async def cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge.cli",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())},
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "cli.toml"
    path.write_text(
        f'[auth]\nadmin_token = "{ADMIN_TOKEN}"\n'
        f'[storage]\ndata_dir = "{(tmp_path / "cli-var").as_posix()}"\n',
        encoding="utf-8",
    )
    return path


async def test_say_writes_playable_audio_and_stats_count_it(service, tmp_path) -> None:
    conf = str(config_file(tmp_path))
    wav_out = tmp_path / "hello.wav"
    code, out, err = await cli(
        "tts",
        "say",
        "Добрый день",
        "--out",
        str(wav_out),
        "--config",
        conf,
        "--url",
        service.url,
        cwd=tmp_path,
    )
    assert (code, err) == (0, "")
    assert "synthesized" in out
    with wave.open(str(wav_out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert audio.rms(w.readframes(w.getnframes())) > 500
    sln_out = tmp_path / "hello.sln"
    code, out, _ = await cli(
        "tts",
        "say",
        "Добрый день",
        "--out",
        str(sln_out),
        "--config",
        conf,
        "--url",
        service.url,
        cwd=tmp_path,
    )
    assert code == 0
    assert "from cache" in out
    assert audio.wav_bytes(sln_out.read_bytes()) == wav_out.read_bytes()
    code, out, _ = await cli(
        "tts", "stats", "--config", conf, "--url", service.url, cwd=tmp_path
    )
    assert code == 0
    assert "provider: espeak (free)" in out
    assert "1 hits, 1 misses" in out
    assert "espeak: 11 characters in 1 requests (0 failed)" in out


async def test_errors_are_one_line_and_exit_1(service, tmp_path) -> None:
    conf = str(config_file(tmp_path))
    code, _, err = await cli(
        "tts",
        "say",
        "   ",
        "--out",
        str(tmp_path / "x.wav"),
        "--config",
        conf,
        "--url",
        service.url,
        cwd=tmp_path,
    )
    assert code == 1
    assert "tts-text-rejected" in err
    assert not (tmp_path / "x.wav").exists()
    code, _, err = await cli(
        "tts", "stats", "--config", conf, "--url", "http://127.0.0.1:9", cwd=tmp_path
    )
    assert code == 1
    assert "is it running?" in err


async def test_say_direct_needs_no_running_service(tmp_path) -> None:
    conf = str(config_file(tmp_path))
    out_file = tmp_path / "direct.ulaw"
    code, out, err = await cli(
        "tts",
        "say",
        "Проверка",
        "--direct",
        "--out",
        str(out_file),
        "--config",
        conf,
        cwd=tmp_path,
    )
    assert (code, err) == (0, "")
    assert "ulaw" in out
    data = out_file.read_bytes()
    assert 0.3 < len(data) / 8000 < 3.0  # one byte a sample at 8 kHz
    assert len(set(data)) > 50  # speech, not one repeated silence code
