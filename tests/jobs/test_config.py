"""The `[jobs]` section: seeds are validated like API input, naming the key."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bridge.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_tables_are_read(tmp_path):
    config = load_config(
        write(
            tmp_path,
            "[jobs.seed.cdr_loader]\nenabled = false\n"
            "schedule = { begin_time = 07:30:00, repeat_period_seconds = 60 }\n",
        )
    )
    seed = config.jobs.seed["cdr_loader"]
    assert seed.enabled is False
    assert seed.schedule is not None
    assert seed.schedule.begin_time == time(7, 30)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[jobs.seed.nope]\nenabled = false\n", "jobs.seed"),
        (
            (
                '[jobs.seed.metrics]\nschedule = { begin_time = "10:00:00", '
                'end_time = "09:00:00" }\n'
            ),
            "jobs.seed.metrics.schedule.end_time",
        ),
        ('[jobs]\ntimezone = "Mars/Olympus"\n', "jobs.timezone"),
    ],
)
def test_bad_seeds_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key


def test_env_overrides_a_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("TELEBRIDGE_JOBS__SEED__METRICS__ENABLED", "false")
    config = load_config(write(tmp_path, ""))
    assert config.jobs.seed["metrics"].enabled is False
