"""The previous key's grace window survives restarts instead of reopening."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pbx.vpbx.rotation import ROTATION_FILE, previous_key_deadline

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
OLD_KEY = "0123456789ABCDEF0123456789ABCDEF"


def test_the_window_starts_at_the_first_start_and_is_kept(tmp_path):
    first = previous_key_deadline(tmp_path, OLD_KEY, 3600, START)
    later = START + timedelta(minutes=50)
    assert first == START + timedelta(hours=1)
    assert previous_key_deadline(tmp_path, OLD_KEY, 3600, later) == first


def test_a_new_previous_key_opens_a_new_window(tmp_path):
    previous_key_deadline(tmp_path, OLD_KEY, 3600, START)
    later = START + timedelta(days=3)
    other = "F" * 32
    assert previous_key_deadline(tmp_path, other, 3600, later) == later + timedelta(
        hours=1
    )


def test_only_a_fingerprint_of_the_key_is_written(tmp_path):
    previous_key_deadline(tmp_path, OLD_KEY, 3600, START)
    text = (tmp_path / ROTATION_FILE).read_text(encoding="utf-8")
    assert OLD_KEY not in text
    assert json.loads(text)["since"] == START.isoformat()


def test_no_previous_key_means_no_window(tmp_path):
    assert previous_key_deadline(tmp_path, "", 3600, START) is None
    assert not (tmp_path / ROTATION_FILE).exists()


def test_an_unreadable_record_restarts_the_window_now(tmp_path):
    (tmp_path / ROTATION_FILE).write_text("{broken", encoding="utf-8")
    assert previous_key_deadline(tmp_path, OLD_KEY, 60, START) == START + timedelta(
        seconds=60
    )
