"""PIN lockout: counted per extension, within a sliding window, time injected."""

from __future__ import annotations

from bridge.clock import FakeClock
from bridge.longpoll.panel_auth import PinGuard


def test_lockout_after_max_failures_until_the_oldest_leaves_the_window(
    clock: FakeClock,
):
    guard = PinGuard(clock, max_failures=3, window_seconds=900)
    assert not guard.failed("201")
    clock.advance(100)
    assert not guard.failed("201")
    assert guard.locked_for("201") is None
    assert guard.failed("201")  # the third failure locks
    assert guard.locked_for("201") == 800
    assert guard.locked_for("202") is None  # per extension
    clock.advance(799)
    assert guard.locked_for("201") == 1
    clock.advance(1)
    assert guard.locked_for("201") is None  # the first failure left the window


def test_success_clears_the_count(clock: FakeClock):
    guard = PinGuard(clock, max_failures=2, window_seconds=60)
    guard.failed("201")
    guard.succeeded("201")
    assert not guard.failed("201")
    assert guard.locked_for("201") is None


def test_old_failures_are_forgotten(clock: FakeClock):
    guard = PinGuard(clock, max_failures=2, window_seconds=60)
    for ext in ("201", "202", "203"):
        guard.failed(ext)
    clock.advance(61)
    for ext in ("201", "202", "203"):
        assert guard.locked_for(ext) is None
    assert guard._failures == {}
