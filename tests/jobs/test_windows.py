"""Exchange jobs as channel windows: the policy the long-poll channels are given."""

from __future__ import annotations

from datetime import UTC, datetime, time

from jobs.base import JobContext
from jobs.schedule_model import Schedule
from jobs.windows import WindowPolicy, bind_windows, window_bodies
from tests.jobs.conftest import make_runner

# 2026-01-05 is a Monday; Moscow is UTC+3 all year.
BEFORE = datetime(2026, 1, 5, 4, 59, 59, tzinfo=UTC)  # 07:59:59 MSK
OPENS = datetime(2026, 1, 5, 5, 0, 0, tzinfo=UTC)  # 08:00:00 MSK
LAST = datetime(2026, 1, 5, 18, 0, 0, tzinfo=UTC)  # 21:00:00 MSK
AFTER = datetime(2026, 1, 5, 18, 0, 1, tzinfo=UTC)  # 21:00:01 MSK


class FakeChannelWindows:
    """Stands in for the long-poll hub's `ChannelWindows` (set_policy per channel)."""

    def __init__(self) -> None:
        self.policies: dict[str, WindowPolicy] = {}

    def set_policy(self, channel: str, policy: WindowPolicy) -> None:
        self.policies[channel] = policy


async def test_channels_open_inside_the_window_only(sqlite_db):
    runner = make_runner(sqlite_db)
    await runner.load()
    windows = FakeChannelWindows()
    bind_windows(runner, windows)
    assert set(windows.policies) == {"events", "contacts"}
    for policy in windows.policies.values():
        assert policy(BEFORE) is not None
        assert policy(OPENS) is None
        assert policy(LAST) is None
        assert "window" in (policy(AFTER) or "")


async def test_disabling_or_rescheduling_moves_the_window_at_once(sqlite_db):
    runner = make_runner(sqlite_db)
    await runner.load()
    windows = FakeChannelWindows()
    bind_windows(runner, windows)
    await runner.update("events_exchange", enabled=False)
    assert windows.policies["events"](OPENS) == "job events_exchange is disabled"
    assert windows.policies["contacts"](OPENS) is None
    await runner.update(
        "contacts_exchange",
        schedule=Schedule(begin_time=time(0, 0, 0), repeat_period_seconds=1),
    )
    assert windows.policies["contacts"](AFTER) is None


async def test_edge_runs_record_what_the_channel_became(sqlite_db):
    runner = make_runner(sqlite_db)
    await runner.load()
    body = window_bodies(runner)["events_exchange"]
    opened = await body(JobContext("events_exchange", OPENS))
    closed = await body(JobContext("events_exchange", AFTER))
    assert opened.counters == {"open": 1}
    assert opened.message == "events channel open"
    assert closed.counters == {"open": 0}
    assert closed.message.startswith("events channel closed")


async def test_setup_hands_the_policies_to_the_given_channel_windows(core):
    from aiohttp import web

    from jobs.feature import setup

    windows = FakeChannelWindows()
    setup(web.Application(), core, windows=windows)
    assert set(windows.policies) == {"events", "contacts"}
    assert set(core.job_bodies) == {"events_exchange", "contacts_exchange", "metrics"}
