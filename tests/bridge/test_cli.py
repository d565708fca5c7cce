"""The `telebridge` command as operators run it: a real process, real signals."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

TELEBRIDGE = str(Path(sys.executable).parent / "telebridge")
LISTENING = re.compile(rb"listening on http://([\d.]+):(\d+) \(crmd: ([\d.]+):(\d+)\)")


def config_file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "telebridge.toml"
    path.write_text(
        f"""
[http]
host = "127.0.0.1"
port = 0
[crmd]
port = 0
[agi]
port = 0
[storage]
data_dir = "{tmp_path / "var"}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TELEBRIDGE, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


async def start_serving(config: Path) -> tuple[asyncio.subprocess.Process, str, str]:
    proc = await asyncio.create_subprocess_exec(
        TELEBRIDGE,
        "serve",
        "--config",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    async with asyncio.timeout(20):
        while True:
            line = await proc.stderr.readline()
            assert line, "serve exited before listening"
            if match := LISTENING.search(line):
                host, port, chost, cport = (g.decode() for g in match.groups())
                return proc, f"http://{host}:{port}", f"http://{chost}:{cport}"


async def test_serve_answers_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc, url, crmd_url = await start_serving(config_file(tmp_path))
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(url + "/healthz") as r:
                assert r.status == 200
                assert (await r.json())["components"]["database"]["state"] == "ok"
            async with s.get(url + "/metrics") as r:
                assert r.status == 200
            async with s.get(crmd_url + "/") as r:
                assert r.status == 404  # the crmd listener is up; its routes come later
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(5):
            code = await proc.wait()
    assert code == 0
    assert (tmp_path / "var" / "telebridge.db").exists()
    token = tmp_path / "var" / "admin_token"
    assert token.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[http]\nport = "x"', "http.port"),
        ("[logging]\nverbose = true", "logging.verbose"),
        ('[asterisk]\nhost = "pbx.local"', "asterisk.username"),
    ],
)
def test_bad_config_exits_2_naming_the_key_and_starts_nothing(
    tmp_path: Path, extra: str, key: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path / "var"}"\n{extra}\n')
    result = run("serve", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert key in lines[0]
    assert not (tmp_path / "var").exists(), "nothing may start on a bad config"


def test_bad_env_override_exits_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TELEBRIDGE_HTTP__PORT": "nope"}
    result = run("check", "--config", str(config_file(tmp_path)), env=env)
    assert result.returncode == 2
    assert "http.port" in result.stderr


def test_check_prints_a_table_of_peers(tmp_path: Path) -> None:
    result = run("check", "--config", str(config_file(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "configuration: ok" in result.stdout
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert "ok" in rows["database"]
    assert "not configured" in rows["asterisk"]
    assert "not configured" in rows["1c"]


def test_check_reports_a_peer_that_does_not_answer(tmp_path: Path) -> None:
    extra = (
        '[asterisk]\nhost = "127.0.0.1"\nport = 1\nusername = "u"\nsecret = "hidden-pw"'
    )
    result = run("check", "--config", str(config_file(tmp_path, extra)))
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert "hidden-pw" not in result.stdout + result.stderr


def test_db_upgrade_migrates_to_head(tmp_path: Path) -> None:
    result = run("db", "upgrade", "--config", str(config_file(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "database schema at revision" in result.stdout
    assert (tmp_path / "var" / "telebridge.db").exists()


def test_version() -> None:
    result = run("version")
    assert result.returncode == 0
    assert result.stdout.startswith("telebridge ")


@pytest.mark.parametrize("verb", [["serve"], ["check"], ["db", "upgrade"], ["version"]])
def test_every_verb_has_help(verb: list[str]) -> None:
    result = run(*verb, "--help")
    assert result.returncode == 0
    assert "usage: telebridge" in result.stdout
