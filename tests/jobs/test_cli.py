"""`telebridge jobs ...` as a real process against the running service."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from bridge.config import Config
from tests.conftest import ADMIN_TOKEN, make_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The scheduler stays off here: inside the 08:00-21:00 window it would add
    its own cdr_loader runs (and on Sunday evenings a metrics run) to the
    histories these tests read exactly. Manual runs need no scheduler."""
    return make_config(tmp_path)


@pytest.fixture
def cli(service, tmp_path):
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[auth]\nadmin_token = "{ADMIN_TOKEN}"\n'
        f'[storage]\ndata_dir = "{(tmp_path / "cli-var").as_posix()}"\n',
        encoding="utf-8",
    )

    async def run(*args: str, url: str = service.url) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bridge.cli",
            "jobs",
            *args,
            "--config",
            str(config),
            "--url",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(30):
            out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    return run


async def test_list_show_and_runs(cli):
    code, out, _ = await cli("list")
    assert code == 0
    assert "cdr_loader" in out
    assert "каждый день; с 8:00:00 по 21:00:00 каждые 120 секунд." in out
    assert len(out.strip().splitlines()) == 7
    code, out, _ = await cli("show", "metrics")
    assert code == 0
    assert "Телефония: Отправка метрики разработчикам" in out
    code, out, _ = await cli("runs", "metrics")
    assert (code, out.strip()) == (0, "no runs yet")


async def test_enable_disable_and_schedule(cli):
    code, out, _ = await cli("disable", "routing_table", "--json")
    assert code == 0
    assert json.loads(out)["enabled"] is False
    code, out, _ = await cli("enable", "routing_table", "--json")
    assert json.loads(out)["enabled"] is True
    code, out, _ = await cli(
        "schedule",
        "routing_table",
        "--begin",
        "09:00:00",
        "--end",
        "18:00:00",
        "--every",
        "600",
        "--week-days",
        "monday,friday",
    )
    assert code == 0
    assert (
        "по дням недели (понедельник, пятница); "
        "с 9:00:00 по 18:00:00 каждые 600 секунд." in out
    )


async def test_bad_input_gives_a_clear_message_and_exit_1(cli):
    code, _, err = await cli("show", "nope")
    assert code == 1
    assert "unknown-job" in err
    code, _, err = await cli("schedule", "cdr_loader", "--begin", "22:00:00")
    assert code == 1
    assert "schedule.end_time" in err
    code, _, err = await cli("schedule", "cdr_loader", "--week-days", "caturday")
    assert code == 1
    assert "schedule.week_days" in err


async def test_run_waits_for_the_outcome(cli):
    code, out, _ = await cli("run", "cdr_loader")
    assert code == 0
    assert "manual" in out
    assert "not_configured" in out
    code, out, _ = await cli("runs", "cdr_loader", "--json")
    assert [r["outcome"] for r in json.loads(out)["runs"]] == ["not_configured"]


async def test_unreachable_service_is_reported(cli, unused_tcp_port):
    code, _, err = await cli("list", url=f"http://127.0.0.1:{unused_tcp_port}")
    assert code == 1
    assert "not reachable" in err
